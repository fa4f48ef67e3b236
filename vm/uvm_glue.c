/*
 * vm/uvm_glue.c: glue functions (the seed: NetBSD uvm_glue.c 1.133,
 * 2008/06/25), the process half: uvm_kernacc, uvm_chgkprot, uvm_vslock,
 * uvm_vsunlock, uvm_proc_fork, uvm_lwp_fork, uarea_swapin/out, the
 * u-area cache (uarea_ctor, uarea_poolpage_alloc/free, uvm_uarea_init,
 * uvm_uarea_alloc/free), uvm_proc_exit, uvm_lwp_exit, uvm_init_limits.
 * And the swapper half: uvm_swapin, uvm_kick_scheduler, uvm_scheduler,
 * swappable, uvm_swapout_threads, uvm_swapout, uvm_lwp_hold,
 * uvm_lwp_rele.  (uvm_coredump_walkmap belongs to the files issue.)
 * See uvm_glue.h for the u-area and its canary.
 *
 * Every function of that half is here under its own name, with its
 * logic, branches and locking.  Translations:
 *  - USER_TO_UAREA, PMAP_UAREA: l_addr is the u-area itself (offset 0);
 *    no pmap needs telling about u-area mappings (no PMAP_UAREA).
 *  - uvm_chgkprot is built always, not only under KGDB.
 *  - KSTACK_CHECK_MAGIC's kstack_setup_magic is always built, as
 *    uarea_setup_magic (the canary), and checked by the host's run hook.
 *  - cpu_lwp_fork and cpu_proc_fork are the machine's (host/lwp.c).
 *  - uvm_lwp_create is ours: what NetBSD's kern_lwp.c lwp_create does
 *    around these functions, for the harness's LWPs.
 *
 * Deviations, each marked "[deviation]" where it is made, with why:
 *  - uvm_proc_fork returns int: uvmspace_fork may fail here (ENOMEM).
 *  - uvm_lwp_fork returns int: cpu_lwp_fork may fail to get a host thread
 *    (the seed's XXXCDC asks for exactly that).
 *  - uvm_lwp_fork sets LW_INMEM under lwp_lock: our lwp_alloc has already
 *    put the LWP on alllwp, where schedcpu and the swapper see it.
 *  - uvm_uarea_alloc reports a failed pool_cache_get (*uaddrp = 0).
 *  - uvm_lwp_exit checks the canary a last time and asserts the u-area
 *    is wired (the cache holds wired u-areas only).
 *  - uvm_proc_exit: no pmap_activate/deactivate (an LWP finds its pmap
 *    through p_vmspace; there is no MMU context to load) and no kernel
 *    preemption to disable (preemption happens only at preempt()
 *    points); p_vmspace is [P] here, so it is switched under p_lock.
 *  - maxdmap/maxsmap are constants (only struct uvm and uvmexp are
 *    global in vm/).
 *  - The swapper: swappable() and the scans read l_stat, l_flag,
 *    l_slptime and l_swtime under lwp_lock (they are [l]; NetBSD reads
 *    them racily and rechecks in uvm_swapout); swappable also refuses an
 *    LWP without a u-area (the host's lwp_create, tests only).
 *    uvm_scheduler returns once uvm_scheduler_stop is called, and
 *    uvm.swap_running is read atomically by uvm_kick_scheduler.
 *    uvm_swapout reads p_vmspace under p_lock and skips pmap_collect for
 *    an exiting process (on proc0's space).  uvm_swapin asserts
 *    l_swaplock (the seed's XXXSMP notyet) and that the LWP is out;
 *    uvm_scheduler rechecks LW_INMEM under l_swaplock (uvm_lwp_hold may
 *    have brought the LWP in since the scan: NetBSD wires it twice).
 *    uvm_wait accepts the l_swaplock a swap-in holds (uvm_swapin_locks).  DEBUG's enableswap and
 *    swapdebug are not built.
 *
 * Locking: kernel_map's lock inside uvm_kernacc; the u-area cache's own
 * locks; uvm_fault_wire/unwire's map and owner locks; l_swaplock around
 * l_addr and a swap-in or swap-out; lwp_lock around l_flag; p_lock
 * around p_vmspace; proc_lock over alllwp; uvm.scheduler_mutex for the
 * scheduler's sleep.  Order: proc_lock > l_swaplock > lwp_lock; the
 * scans take l_swaplock with a try (proc_lock is re-taken with a try
 * after uvm_swapout: "locking in the wrong direction").
 */
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "host/clock.h"
#include "host/condvar.h"
#include "host/kassert.h"
#include "uvm.h"
#include "uvm_fault.h"
#include "uvm_glue.h"
#include "uvm_km.h"
#include "uvm_map.h"
#include "uvm_pdaemon.h"

/*
 * local prototypes
 */
static int uarea_swapin(vaddr_t);
static void uarea_swapout(vaddr_t);
static bool swappable(struct lwp *);
static void uvm_swapout(struct lwp *);
static int uarea_ctor(void *, void *, int);
static void *uarea_poolpage_alloc(struct pool *, int);
static void uarea_poolpage_free(struct pool *, void *);
static uint64_t uarea_magic(const struct lwp *, const uint64_t *);
static void uarea_setup_magic(struct lwp *);
static void uarea_check_magic(const struct lwp *, const char *);
static void uarea_lwp_free(struct lwp *);
static void uarea_lowmem(void *);

/* NetBSD's param.c variables; constants here (see the header comment). */
static const rlim_t maxsmap = MAXSSIZ;
static const rlim_t maxdmap = MAXDSIZ;

/*
 * uvm_kernacc: can the kernel access a region of memory
 *
 * - used only by /dev/kmem driver (mem.c)
 * => kernel_map unlocked; may sleep (for its lock)
 */
bool
uvm_kernacc(void *addr, size_t len, int rw)
{
	bool rv;
	vaddr_t saddr, eaddr;
	vm_prot_t prot = rw == B_READ ? VM_PROT_READ : VM_PROT_WRITE;

	saddr = trunc_page((vaddr_t)addr);
	eaddr = round_page((vaddr_t)addr + len);
	vm_map_lock_read(kernel_map);
	rv = uvm_map_checkprot(kernel_map, saddr, eaddr, prot);
	vm_map_unlock_read(kernel_map);

	return rv;
}

/*
 * uvm_chgkprot: change protections on kernel pages from addr to
 * addr+len (presumably so a debugger can plant a breakpoint).
 *
 * We force the protection change at the pmap level: uvm_map_protect
 * would apply a write-enable lazily (we would still take a fault) and
 * fragment kernel_map, and pmap_protect will not enforce a write-enable
 * request either.  pmap_enter is the only way to be sure.
 * Built always (the seed: under KGDB).
 * => never sleeps; panics on a page that is not mapped
 */
void
uvm_chgkprot(void *addr, size_t len, int rw)
{
	vm_prot_t prot;
	paddr_t pa;
	vaddr_t sva, eva;

	prot = rw == B_READ ? VM_PROT_READ : VM_PROT_READ | VM_PROT_WRITE;
	eva = round_page((vaddr_t)addr + len);
	for (sva = trunc_page((vaddr_t)addr); sva < eva; sva += PAGE_SIZE) {
		/*
		 * Extract physical address for the page.
		 */
		if (pmap_extract(pmap_kernel(), sva, &pa) == false)
			panic("%s: invalid page", __func__);
		pmap_enter(pmap_kernel(), sva, pa, prot, PMAP_WIRED);
	}
	pmap_update(pmap_kernel());
}

/*
 * uvm_vslock: wire user memory for I/O
 *
 * - called from physio and sys___sysctl
 * => vs's map unlocked; may sleep; returns uvm_fault_wire's error
 */
int
uvm_vslock(struct vmspace *vs, void *addr, size_t len, vm_prot_t access_type)
{
	struct vm_map *map;
	vaddr_t start, end;
	int error;

	map = &vs->vm_map;
	start = trunc_page((vaddr_t)addr);
	end = round_page((vaddr_t)addr + len);
	error = uvm_fault_wire(map, start, end, access_type, 0);
	return error;
}

/*
 * uvm_vsunlock: unwire user memory wired by uvm_vslock()
 *
 * - called from physio and sys___sysctl
 * => vs's map unlocked; may sleep
 */
void
uvm_vsunlock(struct vmspace *vs, void *addr, size_t len)
{
	uvm_fault_unwire(&vs->vm_map, trunc_page((vaddr_t)addr),
	    round_page((vaddr_t)addr + len));
}

/*
 * uvm_proc_fork: fork a virtual address space
 *
 * - the address space is copied as per parent map's inherit values
 * => p2 is new (nobody else uses it yet); may sleep
 * => returns 0, or ENOMEM with p2->p_vmspace NULL
 */
int
uvm_proc_fork(struct proc *p1, struct proc *p2, bool shared)
{

	if (shared == true) {
		p2->p_vmspace = NULL;
		uvmspace_share(p1, p2);
	} else {
		p2->p_vmspace = uvmspace_fork(p1->p_vmspace);
		/*
		 * [deviation] uvmspace_fork returns NULL when the host or the
		 * kernel ran out of memory (NetBSD's cannot fail): the
		 * forker gets ENOMEM instead of a child without a vmspace.
		 */
		if (p2->p_vmspace == NULL)
			return ENOMEM;
	}

	cpu_proc_fork(p1, p2);
	return 0;
}

/*
 * uvm_lwp_fork: fork a thread
 *
 * - a new "user" structure is allocated for the child process
 *	[filled in by MD layer...]
 * - if specified, the child gets a new user stack described by
 *	stack and stacksize
 * - NOTE: the kernel stack may be at a different location in the child
 *	process, and thus addresses of automatic variables may be invalid
 *	after cpu_lwp_fork returns in the child process.  We do nothing here
 *	after cpu_lwp_fork returns.
 * => l2 from lwp_alloc (LSIDL) with its u-area in l_addr; may sleep
 * => returns 0, or cpu_lwp_fork's error (l2 not started)
 */
int
uvm_lwp_fork(struct lwp *l1, struct lwp *l2, void *stack, size_t stacksize,
    void (*func)(void *), void *arg)
{
	int error;

	KASSERT(l2->l_addr != NULL);

	/*
	 * Wire down the U-area for the process, which contains the PCB
	 * and the kernel stack.  Wired state is stored in l->l_flag's
	 * LW_INMEM bit rather than in the vm_map_entry's wired count
	 * to prevent kernel_map fragmentation.  If we reused a cached U-area,
	 * LW_INMEM will already be set and we don't need to do anything.
	 *
	 * Note the kernel stack gets read/write accesses right off the bat.
	 */

	if ((l2->l_flag & LW_INMEM) == 0) {
		vaddr_t uarea = USER_TO_UAREA(l2->l_addr);

		if ((error = uarea_swapin(uarea)) != 0)
			panic("%s: uvm_fault_wire failed: %d", __func__, error);
		/* (no PMAP_UAREA: no pmap needs telling) */
		/*
		 * [deviation] under lwp_lock: l2 is on alllwp already (our
		 * lwp_alloc puts it there), where l_flag is [l].
		 */
		lwp_lock(l2);
		l2->l_flag |= LW_INMEM;
		lwp_unlock(l2);
	}

	/*
	 * Write the canary (the seed's KSTACK_CHECK_MAGIC fill, always
	 * built here): checked whenever l2 gets a CPU from now on.
	 */
	uarea_setup_magic(l2);

	/*
	 * cpu_lwp_fork() copy and update the pcb, and make the child ready
	 * to run.  If this is a normal user fork, the child will exit
	 * directly to user mode via child_return() on its first time
	 * slice and will not return here.  If this is a kernel thread,
	 * the specified entry point will be executed.
	 */
	/*
	 * [deviation] its error is returned: the host may have no thread
	 * for l2 (the seed's XXXCDC wished for a failure value).
	 */
	return cpu_lwp_fork(l1, l2, stack, stacksize, func, arg);
}

/*
 * uarea_swapin: wire the u-area at addr.
 * => may sleep; uvm_fault_wire's error
 */
static int
uarea_swapin(vaddr_t addr)
{

	return uvm_fault_wire(kernel_map, addr, addr + USPACE,
	    VM_PROT_READ | VM_PROT_WRITE, 0);
}

/*
 * uarea_swapout: unwire the u-area at addr (the pagedaemon may then page
 * it out).  Unused until the swapper (uvm_swapout) lands.
 * => may sleep
 */
static void
uarea_swapout(vaddr_t addr)
{

	uvm_fault_unwire(kernel_map, addr, addr + USPACE);
}

static pool_cache_t uvm_uarea_cache;

/*
 * uarea_ctor: a u-area leaves the pool for the cache: wire it.
 * => PR_WAITOK only; may sleep
 */
static int
uarea_ctor(void *arg, void *obj, int flags)
{

	KASSERT((flags & PR_WAITOK) != 0);
	return uarea_swapin((vaddr_t)obj);
}

/*
 * uarea_poolpage_alloc: a pool page (one u-area) of pageable kernel
 * memory in kernel_map.
 * => PR_WAITOK: may sleep for VA; else never sleeps (NULL if it would)
 */
static void *
uarea_poolpage_alloc(struct pool *pp, int flags)
{

	return (void *)uvm_km_alloc(kernel_map, pp->pr_alloc->pa_pagesz,
	    USPACE_ALIGN, UVM_KMF_PAGEABLE |
	    ((flags & PR_WAITOK) != 0 ? UVM_KMF_WAITVA :
	    (UVM_KMF_NOWAIT | UVM_KMF_TRYLOCK)));
}

/* uarea_poolpage_free: unmap a pool page (its pages go).  => may sleep */
static void
uarea_poolpage_free(struct pool *pp, void *addr)
{

	uvm_km_free(kernel_map, (vaddr_t)addr, pp->pr_alloc->pa_pagesz,
	    UVM_KMF_PAGEABLE);
}

static struct pool_allocator uvm_uarea_allocator = {
	.pa_alloc = uarea_poolpage_alloc,
	.pa_free = uarea_poolpage_free,
	.pa_pagesz = USPACE,
};

/*
 * uvm_uarea_init: the u-area cache; and the host's LWP hooks (the canary
 * check when an LWP runs, the u-area's return when it is reaped).
 * => at boot (uvm_init), after uvm_km_init
 */
void
uvm_uarea_init(void)
{
	int flags = PR_NOTOUCH;

	/*
	 * specify PR_NOALIGN unless the alignment provided by
	 * the backend (USPACE_ALIGN) is sufficient to provide
	 * pool page size (USPACE) alignment.
	 */

	if ((USPACE_ALIGN == 0 && USPACE != PAGE_SIZE) ||
	    (USPACE_ALIGN % USPACE) != 0) {
		flags |= PR_NOALIGN;
	}

	uvm_uarea_cache = pool_cache_init(USPACE, USPACE_ALIGN, 0, flags,
	    "uarea", &uvm_uarea_allocator, IPL_NONE, uarea_ctor, NULL, NULL);
	if (uvm_uarea_cache == NULL)
		panic("%s: no memory for the u-area cache", __func__);

	host_set_lwp_run_hook(uvm_uarea_check);
	host_set_lwp_free_hook(uarea_lwp_free);
	/* the swapper's lock and condvar (NetBSD's uvm_init) */
	mutex_init_class(&uvm.scheduler_mutex, MUTEX_DEFAULT, IPL_NONE,
	    "uvm_scheduler_mutex");
	cv_init(&uvm.scheduler_cv, "schedule");
	uvm.swap_running = false;
	uvm.scheduler_kicked = false;
	/*
	 * [extension] NetBSD's pagedaemon drains the pools' caches when
	 * memory is short (pool_drain, from uvm_pageout); here the
	 * pagedaemon's low-memory event (uvm_pdaemon.c) drains the u-area
	 * cache: its u-areas go back to kernel_map (uarea_poolpage_free).
	 */
	if (uvm_lowmem_register(uarea_lowmem, NULL) != 0)
		panic("%s: no room for a low-memory handler", __func__);
}

/* uarea_lowmem: the low-memory event's handler.  => may sleep */
static void
uarea_lowmem(void *arg)
{
	(void)arg;
	(void)uvm_uarea_drain();
}

/*
 * uarea_lwp_free: the host's LWP free hook until the harness installs
 * its own (kern_set_glue): NetBSD's lwp_free calls uvm_lwp_exit for an
 * LWP with a u-area.  => l reaped; may sleep
 */
static void
uarea_lwp_free(struct lwp *l)
{
	if (l->l_addr != NULL)
		uvm_lwp_exit(l);
}

/*
 * uvm_uarea_alloc: allocate a u-area
 * => may sleep; true: it is wired (cached u-areas are)
 */
bool
uvm_uarea_alloc(vaddr_t *uaddrp)
{

	*uaddrp = (vaddr_t)pool_cache_get(uvm_uarea_cache, PR_WAITOK);
	/*
	 * [deviation] pool_cache_get(PR_WAITOK) fails if the constructor
	 * cannot wire the u-area: say so (*uaddrp 0, not in memory).
	 */
	if (*uaddrp == 0)
		return false;
	return true;
}

/*
 * uvm_uarea_free: free a u-area
 * => the u-area wired; may sleep
 */
void
uvm_uarea_free(vaddr_t uaddr, struct cpu_info *ci)
{

	(void)ci;
	pool_cache_put(uvm_uarea_cache, (void *)uaddr);
}

/*
 * uvm_proc_exit: exit a virtual address space
 *
 * - borrow proc0's address space because freeing the vmspace
 *   of the dead process may block.
 * => curlwp is an LWP of p (its last); may sleep
 */
void
uvm_proc_exit(struct proc *p)
{
	struct lwp *l = curlwp; /* XXX */
	struct vmspace *ovm;

	KASSERT(l != NULL);
	KASSERT(p == l->l_proc);
	ovm = p->p_vmspace;

	/*
	 * borrow proc0's address space.
	 *
	 * [deviation] no KPREEMPT_DISABLE (we are preempted only at
	 * preempt() points) and no pmap_deactivate/pmap_activate (an LWP
	 * reaches its pmap through p_vmspace, no MMU context is loaded);
	 * p_vmspace is [P], so it is switched under p_lock.
	 */
	mutex_enter(&p->p_lock);
	p->p_vmspace = proc0.p_vmspace;
	mutex_exit(&p->p_lock);

	uvmspace_free(ovm);
}

/*
 * uvm_lwp_exit: free l's u-area.
 * => l reaped (its thread gone, off every list): the host's LWP free
 *    hook; may sleep
 */
void
uvm_lwp_exit(struct lwp *l)
{
	vaddr_t va = USER_TO_UAREA(l->l_addr);

	/*
	 * [deviation] a last check of the canary (a corruption after the
	 * LWP's last switch), and of the cache's invariant: u-areas go back
	 * wired.
	 */
	uarea_check_magic(l, "exit");
	KASSERTMSG((l->l_flag & LW_INMEM) != 0,
	    "%s: LWP %s's u-area %#lx is not in memory", __func__, l->l_name,
	    (unsigned long)va);
	l->l_flag &= ~LW_INMEM;
	uvm_uarea_free(va, l->l_cpu);
	l->l_addr = NULL;
}

/*
 * uvm_init_limit: init per-process VM limits
 *
 * - called for process 0 and then inherited by all others.
 */
void
uvm_init_limits(struct proc *p)
{

	/*
	 * Set up the initial limits on process VM.  Set the maximum
	 * resident set size to be all of (reasonably) available memory.
	 * This causes any single, large process to start random page
	 * replacement once it fills memory.
	 */

	p->p_rlimit[RLIMIT_STACK].rlim_cur = DFLSSIZ;
	p->p_rlimit[RLIMIT_STACK].rlim_max = maxsmap;
	p->p_rlimit[RLIMIT_DATA].rlim_cur = DFLDSIZ;
	p->p_rlimit[RLIMIT_DATA].rlim_max = maxdmap;
	p->p_rlimit[RLIMIT_RSS].rlim_cur = ptoa(uvmexp_read(free));
}

/*
 * The swapper's tunable: an LWP asleep (or stopped) for maxslp seconds
 * or more is swapped out at the pagedaemon's next call (NetBSD's
 * kern_synch.c variable, MAXSLP by default; --maxslp sets it at boot).
 */
int maxslp = MAXSLP;

/* [a] the swapper was asked to return (uvm_scheduler_stop) */
static bool uvm_scheduler_stopping;
/* [a] u-area pages uvm_swapin found paged out (read back from swap) */
static uint64_t uarea_pages_in;
/* [o] this thread is in uvm_swapin, holding the LWP's l_swaplock */
static __thread int uvm_swapin_nest;

/* uarea_paged_out: how many of the u-area's pages are not resident. */
static int
uarea_paged_out(vaddr_t ua)
{
	struct uvm_object *kobj = uvm.kernel_object;
	vaddr_t va;
	int n = 0;

	rw_enter(kobj->vmobjlock, RW_READ);
	for (va = ua; va < ua + USPACE; va += PAGE_SIZE)
		if (uvm_pagelookup(kobj, va - vm_map_min(kernel_map)) == NULL)
			n++;
	rw_exit(kobj->vmobjlock);
	return n;
}

/*
 * uvm_swapin: swap in an lwp's u-area.
 *
 * - must be called with the LWP's swap lock held.
 * - naturally, must not be called with l == curlwp
 * => may sleep (for memory)
 */
void
uvm_swapin(struct lwp *l)
{
	int error;

	KASSERT(mutex_owned(&l->l_swaplock));	/* the seed's XXXSMP notyet */
	KASSERT(l != curlwp);
	/* [deviation] a second swap-in would wire the u-area twice */
	KASSERTMSG(!uvm_lwp_inmem(l), "%s: LWP %d.%d (%s) is in memory already",
	    __func__, l->l_proc->p_pid, l->l_lid, l->l_name);

	/* (counted for reports: the pages the wiring reads from swap) */
	__atomic_fetch_add(&uarea_pages_in,
	    (uint64_t)uarea_paged_out(USER_TO_UAREA(l->l_addr)),
	    __ATOMIC_RELAXED);
	/*
	 * [deviation] NetBSD holds l_swaplock across the wiring, which may
	 * wait for memory: uvm_wait allows that one lock (uvm_swapin_locks)
	 */
	uvm_swapin_nest++;
	error = uarea_swapin(USER_TO_UAREA(l->l_addr));
	uvm_swapin_nest--;
	if (error) {
		panic("%s: rewiring stack failed: %d", __func__, error);
	}

	/*
	 * Some architectures need to be notified when the user area has
	 * moved to new physical page(s) (e.g.  see mips/mips/vm_machdep.c).
	 */
	cpu_swapin(l);
	lwp_lock(l);
	if (l->l_stat == LSRUN)
		sched_enqueue(l, false);
	l->l_flag |= LW_INMEM;
	l->l_flag &= ~LW_SWAPINREQ;	/* (FreeBSD's flag: the host sets it) */
	l->l_swtime = 0;
	lwp_unlock(l);
	uvmexp_inc(swapins);
}

/*
 * uvm_kick_scheduler: kick the scheduler into action if not running.
 *
 * - called when swapped out processes have been awoken.
 * => any thread (the host calls it from lwp_unblock, holding no CPU, and
 *    from schedcpu on the clock thread); takes uvm.scheduler_mutex
 */
void
uvm_kick_scheduler(void)
{

	/* [deviation] read atomically: written by the swapper's start/stop */
	if (__atomic_load_n(&uvm.swap_running, __ATOMIC_ACQUIRE) == false)
		return;

	mutex_enter(&uvm.scheduler_mutex);
	uvm.scheduler_kicked = true;
	cv_signal(&uvm.scheduler_cv);
	mutex_exit(&uvm.scheduler_mutex);
}

/*
 * uvm_scheduler: process zero main loop
 *
 * - attempt to swapin every swaped-out, runnable process in order of
 *	priority.
 * - if not enough memory, wake the pagedaemon and let it clear space.
 * => on the swapper's own kernel thread (proc0's); returns once
 *    uvm_scheduler_stop is called [deviation: the seed's loop is for
 *    ever; runs and tests end]
 */
void
uvm_scheduler(void)
{
	struct lwp *l, *ll;
	int pri;
	int ppri;

	l = curlwp;
	lwp_lock(l);
	l->l_priority = PRI_VM;
	l->l_class = SCHED_FIFO;
	lwp_unlock(l);

	for (;;) {
		/* [deviation] the end of the run (enableswap is not built) */
		if (__atomic_load_n(&uvm_scheduler_stopping, __ATOMIC_ACQUIRE))
			return;
		ll = NULL;		/* process to choose */
		ppri = INT_MIN;		/* its priority */

		mutex_enter(proc_lock);
		LIST_FOREACH(l, &alllwp, l_list) {
			/*
			 * is it a runnable swapped out process?
			 * [deviation] l_stat and l_flag are [l]: read under
			 * lwp_lock (NetBSD reads them racily here)
			 */
			lwp_lock(l);
			if (l->l_stat == LSRUN && !(l->l_flag & LW_INMEM)) {
				pri = l->l_swtime + l->l_slptime -
				    (l->l_proc->p_nice - NZERO) * 8;
				if (pri > ppri) {   /* higher priority? */
					ll = l;
					ppri = pri;
				}
			}
			lwp_unlock(l);
		}
		/*
		 * Nothing to do, back to sleep
		 */
		if ((l = ll) == NULL) {
			mutex_exit(proc_lock);
			mutex_enter(&uvm.scheduler_mutex);
			if (uvm.scheduler_kicked == false &&
			    !__atomic_load_n(&uvm_scheduler_stopping,
			    __ATOMIC_ACQUIRE))
				cv_wait(&uvm.scheduler_cv,
				    &uvm.scheduler_mutex);
			uvm.scheduler_kicked = false;
			mutex_exit(&uvm.scheduler_mutex);
			continue;
		}

		/*
		 * we have found swapped out process which we would like
		 * to bring back in.
		 *
		 * XXX: this part is really bogus cuz we could deadlock
		 * on memory despite our feeble check
		 */
		if (uvmexp_read(free) > (int)atop(USPACE)) {
			/*
			 * [deviation] try: a holder may be swapping l in
			 * (uvm_lwp_hold), waiting for memory with l_swaplock
			 * held; blocking here under proc_lock would stop the
			 * pagedaemon (uvm_swapout_threads takes proc_lock)
			 * and so that memory.  Leave l to it and wait for the
			 * next kick.
			 */
			if (!mutex_tryenter(&l->l_swaplock)) {
				mutex_exit(proc_lock);
				mutex_enter(&uvm.scheduler_mutex);
				if (uvm.scheduler_kicked == false &&
				    !__atomic_load_n(&uvm_scheduler_stopping,
				    __ATOMIC_ACQUIRE))
					cv_timedwait(&uvm.scheduler_cv,
					    &uvm.scheduler_mutex, hz);
				uvm.scheduler_kicked = false;
				mutex_exit(&uvm.scheduler_mutex);
				continue;
			}
			mutex_exit(proc_lock);
			/*
			 * [deviation] brought in meanwhile (uvm_lwp_hold, whose
			 * test is under l_swaplock too)?  NetBSD swaps it in
			 * again, wiring its u-area twice.
			 */
			if (!uvm_lwp_inmem(l))
				uvm_swapin(l);
			mutex_exit(&l->l_swaplock);
			continue;
		} else {
			/*
			 * not enough memory, jab the pageout daemon and
			 * wait til the coast is clear
			 */
			mutex_exit(proc_lock);
			uvm_wait("schedpwait");
		}
	}
}

/*
 * uvm_scheduler_start/stop: see uvm_glue.h.  uvm.swap_running tells
 * uvm_kick_scheduler whether there is a swapper to kick.
 */
void
uvm_scheduler_start(void)
{
	__atomic_store_n(&uvm_scheduler_stopping, false, __ATOMIC_RELEASE);
	__atomic_store_n(&uvm.swap_running, true, __ATOMIC_RELEASE);
}

void
uvm_scheduler_stop(void)
{
	__atomic_store_n(&uvm_scheduler_stopping, true, __ATOMIC_RELEASE);
	mutex_enter(&uvm.scheduler_mutex);
	uvm.scheduler_kicked = true;
	cv_signal(&uvm.scheduler_cv);
	mutex_exit(&uvm.scheduler_mutex);
	__atomic_store_n(&uvm.swap_running, false, __ATOMIC_RELEASE);
}

/*
 * swappable: is LWP "l" swappable?
 * => lwp_lock(l) held [deviation: the seed's callers hold l_swaplock
 *    only, reading [l] fields racily; uvm_swapout rechecks under the
 *    LWP lock, and so do we everywhere]
 */
static bool
swappable(struct lwp *l)
{

	KASSERT(mutex_owned(&l->l_lock));
	if ((l->l_flag & (LW_INMEM|LW_SYSTEM|LW_WEXIT)) != LW_INMEM)
		return false;
	if ((l->l_pflag & LP_RUNNING) != 0)
		return false;
	if (__atomic_load_n(&l->l_holdcnt, __ATOMIC_ACQUIRE) != 0)
		return false;		/* [a]: uvm_lwp_hold counts atomically */
	if (l->l_class != SCHED_OTHER)
		return false;
	if (l->l_syncobj == &rw_syncobj || l->l_syncobj == &mutex_syncobj)
		return false;
	/*
	 * [deviation] our lock waiters are woken owning the lock (NetBSD's
	 * retry it), and a sleeper may hold one: swapping such an LWP out
	 * could wait for that lock (uvm_swapout's own unwiring takes VM
	 * locks) with the LWP unable to run and release it
	 */
	if (l->l_locksheld)
		return false;
	/*
	 * [deviation] p_stat is [p] (the callers hold proc_lock or the
	 * LWP keeps its process alive); an LWP without a u-area (the host's
	 * lwp_create, tests only) has nothing to swap
	 */
	if (l->l_proc->p_stat != SACTIVE && l->l_proc->p_stat != SSTOP)
		return false;
	if (l->l_addr == NULL)
		return false;
	return true;
}

/*
 * swapout_threads: find threads that can be swapped and unwire their
 *	u-areas.
 *
 * - called by the pagedaemon
 * - try and swap at least one processs
 * - processes that are sleeping or stopped for maxslp or more seconds
 *   are swapped... otherwise the longest-sleeping or stopped process
 *   is swapped, otherwise the longest resident process...
 * => no locks held (the pagedaemon drops the page queues' lock)
 */
void
uvm_swapout_threads(void)
{
	struct lwp *l;
	struct lwp *outl, *outl2;
	int outpri, outpri2;
	int didswap = 0;
	bool gotit, ok;
	int stat;
	unsigned int slptime, swtime;

	/*
	 * outl/outpri  : stop/sleep thread with largest sleeptime < maxslp
	 * outl2/outpri2: the longest resident thread (its swap time)
	 */
	outl = outl2 = NULL;
	outpri = outpri2 = 0;

 restart:
	mutex_enter(proc_lock);
	LIST_FOREACH(l, &alllwp, l_list) {
		KASSERT(l->l_proc != NULL);
		if (!mutex_tryenter(&l->l_swaplock))
			continue;
		/* [deviation] the [l] fields are read under lwp_lock */
		lwp_lock(l);
		ok = swappable(l);
		stat = l->l_stat;
		slptime = l->l_slptime;
		swtime = l->l_swtime;
		lwp_unlock(l);
		if (!ok) {
			mutex_exit(&l->l_swaplock);
			continue;
		}
		switch (stat) {
		case LSONPROC:
			break;

		case LSRUN:
			if ((int)swtime > outpri2) {
				outl2 = l;
				outpri2 = swtime;
			}
			break;

		case LSSLEEP:
		case LSSTOP:
			if ((int)slptime >= maxslp) {
				mutex_exit(proc_lock);
				uvm_swapout(l);
				/*
				 * Locking in the wrong direction -
				 * try to prevent the LWP from exiting.
				 */
				gotit = mutex_tryenter(proc_lock);
				mutex_exit(&l->l_swaplock);
				didswap++;
				if (!gotit)
					goto restart;
				continue;
			} else if ((int)slptime > outpri) {
				outl = l;
				outpri = slptime;
			}
			break;
		}
		mutex_exit(&l->l_swaplock);
	}

	/*
	 * If we didn't get rid of any real duds, toss out the next most
	 * likely sleeping/stopped or running candidate.  We only do this
	 * if we are real low on memory since we don't gain much by doing
	 * it (USPACE bytes).
	 */
	if (didswap == 0 && uvmexp_read(free) <= (int)atop(round_page(USPACE))) {
		if ((l = outl) == NULL)
			l = outl2;
		if (l) {
			mutex_enter(&l->l_swaplock);
			mutex_exit(proc_lock);
			lwp_lock(l);		/* [deviation] see swappable */
			ok = swappable(l);
			lwp_unlock(l);
			if (ok)
				uvm_swapout(l);
			mutex_exit(&l->l_swaplock);
			return;
		}
	}

	mutex_exit(proc_lock);
}

/*
 * uvm_swapout: swap out lwp "l"
 *
 * - currently "swapout" means "unwire U-area" and "pmap_collect()"
 *   the pmap.
 * - must be called with l->l_swaplock held.
 * - XXXCDC: should deactivate all process' private anonymous memory
 * => may sleep (kernel_map's lock)
 */
static void
uvm_swapout(struct lwp *l)
{
	struct vm_map *map;

	KASSERT(mutex_owned(&l->l_swaplock));

	/*
	 * Mark it as (potentially) swapped out.
	 */
	lwp_lock(l);
	if (!swappable(l)) {
		KDASSERT(l->l_cpu != curcpu() || curcpu() == NULL);
		lwp_unlock(l);
		return;
	}
	l->l_flag &= ~LW_INMEM;
	l->l_swtime = 0;
	if (l->l_stat == LSRUN)
		sched_dequeue(l);
	l->l_ru.ru_nswap++;
	lwp_unlock(l);
	uvmexp_inc(swapouts);

	/*
	 * Do any machine-specific actions necessary before swapout.
	 * This can include saving floating point state, etc.
	 */
	cpu_swapout(l);

	/*
	 * Unwire the to-be-swapped process's user struct and kernel stack.
	 */
	uarea_swapout(USER_TO_UAREA(l->l_addr));
	/*
	 * [deviation] p_vmspace is [P]: read under p_lock (it changes at
	 * exec and exit, which the sleeping LWP is not doing); a process
	 * borrowing proc0's space (exiting) has nothing to collect
	 */
	mutex_enter(&l->l_proc->p_lock);
	map = l->l_proc->p_vmspace != NULL ?
	    &l->l_proc->p_vmspace->vm_map : NULL;
	if (map != NULL && l->l_proc->p_vmspace == proc0.p_vmspace)
		map = NULL;
	if (map != NULL && vm_map_lock_try(map)) {
		mutex_exit(&l->l_proc->p_lock);
		pmap_collect(vm_map_pmap(map));
		vm_map_unlock(map);
	} else
		mutex_exit(&l->l_proc->p_lock);
}

/*
 * uvm_lwp_hold: prevent lwp "l" from being swapped out, and bring
 * back into memory if it is currently swapped.
 * => may sleep (the swap-in); l stays alive across the call (the caller
 *    sees to it)
 */
void
uvm_lwp_hold(struct lwp *l)
{

	if (l == curlwp) {
		atomic_inc_uint(&l->l_holdcnt);
	} else {
		mutex_enter(&l->l_swaplock);
		/* [deviation] LW_INMEM is [l]: read under lwp_lock */
		if (atomic_inc_uint_nv(&l->l_holdcnt) == 1 &&
		    !uvm_lwp_inmem(l))
			uvm_swapin(l);
		mutex_exit(&l->l_swaplock);
	}
}

/*
 * uvm_lwp_rele: release a hold on lwp "l".  when the holdcount
 * drops to zero, it's eligable to be swapped.
 */
void
uvm_lwp_rele(struct lwp *l)
{

	KASSERT(__atomic_load_n(&l->l_holdcnt, __ATOMIC_RELAXED) != 0);

	atomic_dec_uint(&l->l_holdcnt);
}

/* uvm_swapin_locks: locks uvm_wait may find held: l_swaplock in a swap-in */
int
uvm_swapin_locks(void)
{
	return uvm_swapin_nest;
}

/* uvm_uarea_pages_in: u-area pages uvm_swapin read back from swap. */
uint64_t
uvm_uarea_pages_in(void)
{
	return __atomic_load_n(&uarea_pages_in, __ATOMIC_RELAXED);
}

/* uvm_lwp_inmem: is l's u-area in memory (LW_INMEM, under lwp_lock)? */
bool
uvm_lwp_inmem(struct lwp *l)
{
	bool inmem;

	lwp_lock(l);
	inmem = (l->l_flag & LW_INMEM) != 0;
	lwp_unlock(l);
	return inmem;
}

/*
 * uvm_lwp_create: see uvm_glue.h.  NetBSD's lwp_create: the u-area
 * (inmem: already wired), the LWP with l_addr and LW_INMEM set from it,
 * then uvm_lwp_fork.
 */
int
uvm_lwp_create(struct proc *p, const char *name, void (*fn)(void *),
    void *arg, struct lwp **lp)
{
	struct lwp *l2;
	vaddr_t uaddr;
	bool inmem;
	int error;

	inmem = uvm_uarea_alloc(&uaddr);
	if (uaddr == 0)
		return ENOMEM;
	error = lwp_alloc(p, name, inmem ? LW_INMEM : 0, &l2);
	if (error != 0) {
		uvm_uarea_free(uaddr, curcpu());
		return error;
	}
	mutex_enter(&l2->l_swaplock);
	l2->l_addr = UAREA_TO_USER(uaddr);
	mutex_exit(&l2->l_swaplock);
	error = uvm_lwp_fork(curlwp, l2, NULL, 0, fn, arg);
	if (error != 0) {
		lwp_discard(l2);	/* the free hook: uvm_lwp_exit */
		return error;
	}
	*lp = l2;
	return 0;
}

/*
 * The canary.  Word w (at address w) of a guard holds
 * UAREA_MAGIC ^ w ^ l, so that a word copied elsewhere, a u-area handed
 * to another LWP and a plain overwrite all show.
 */
static uint64_t
uarea_magic(const struct lwp *l, const uint64_t *w)
{
	return UAREA_MAGIC ^ (uint64_t)(uintptr_t)w ^
	    ((uint64_t)(uintptr_t)l << 1);
}

/* uarea_setup_magic: write l's PCB and guards (KSTACK_CHECK_MAGIC). */
static void
uarea_setup_magic(struct lwp *l)
{
	char *ua = (char *)USER_TO_UAREA(l->l_addr);
	struct upcb *pcb = (struct upcb *)ua;
	uint64_t *lo = (uint64_t *)(ua + UAREA_GUARD_LO);
	uint64_t *hi = (uint64_t *)(ua + UAREA_GUARD_HI);
	int i;

	CTASSERT(sizeof(struct upcb) <= UAREA_GUARD_LO);
	CTASSERT(UAREA_GUARD_LO + UAREA_NGUARD * sizeof(uint64_t) <=
	    UAREA_GUARD_HI);
	pcb->upcb_lwp = l;
	__atomic_store_n(&pcb->upcb_nswitch, 0, __ATOMIC_RELAXED);
	for (i = 0; i < UAREA_NGUARD; i++) {
		lo[i] = uarea_magic(l, &lo[i]);
		hi[i] = uarea_magic(l, &hi[i]);
	}
}

/*
 * uarea_check_magic: panic, naming the LWP, the u-area and the first bad
 * word (its offset, what it holds, what it should), unless l's PCB and
 * guards are intact.  `when': "run" or "exit", for the message.
 * => never sleeps, takes no lock; the u-area resident
 */
static void
uarea_check_magic(const struct lwp *l, const char *when)
{
	const char *ua = (const char *)USER_TO_UAREA(l->l_addr);
	const struct upcb *pcb = (const struct upcb *)ua;
	const uint64_t *w;
	uint64_t want;
	int i;

	if (pcb->upcb_lwp != l)
		panic("u-area canary (%s): LWP %d.%d (%s) u-area %p: bad word "
		    "at +%#x: %#" PRIx64 " (PCB owner), want %#" PRIx64, when,
		    l->l_proc->p_pid, l->l_lid, l->l_name, (const void *)ua, 0,
		    (uint64_t)(uintptr_t)pcb->upcb_lwp,
		    (uint64_t)(uintptr_t)l);
	for (i = 0; i < 2 * UAREA_NGUARD; i++) {
		w = (const uint64_t *)(ua + (i < UAREA_NGUARD ?
		    UAREA_GUARD_LO : UAREA_GUARD_HI)) + i % UAREA_NGUARD;
		want = uarea_magic(l, w);
		if (*w != want)
			panic("u-area canary (%s): LWP %d.%d (%s) u-area %p: "
			    "bad word at +%#x: %#" PRIx64 ", want %#" PRIx64,
			    when, l->l_proc->p_pid, l->l_lid, l->l_name,
			    (const void *)ua, (unsigned)((const char *)w - ua),
			    *w, want);
	}
}

/*
 * uvm_uarea_check: the host's run hook, for every LWP that gets a CPU.
 * l_addr is read without l_swaplock: it is set before the LWP's thread
 * starts and cleared only after it has exited (we are that thread), and
 * the u-area is resident (wired) whenever LW_INMEM is set, which the
 * LWP needs to run.
 */
void
uvm_uarea_check(struct lwp *l)
{
	struct upcb *pcb;

	if (l->l_addr == NULL)
		return;		/* a kernel thread, lwp_create's LWP */
	pcb = (struct upcb *)USER_TO_UAREA(l->l_addr);
	uarea_check_magic(l, "run");
	__atomic_store_n(&pcb->upcb_nswitch,
	    __atomic_load_n(&pcb->upcb_nswitch, __ATOMIC_RELAXED) + 1,
	    __ATOMIC_RELAXED);
}

/*
 * uvm_uarea_resident: the auditor's check of an in-memory LWP's u-area:
 * every page mapped in pmap_kernel at its address, a page of
 * kernel_object at that offset, wired.  => l in memory and held; the
 * object's lock is taken inside
 */
bool
uvm_uarea_resident(struct lwp *l, char *why, size_t len)
{
	struct uvm_object *kobj = uvm.kernel_object;
	vaddr_t va, ua = USER_TO_UAREA(l->l_addr);
	struct vm_page *pg;
	paddr_t pa;
	bool ok = true;

	rw_enter(kobj->vmobjlock, RW_READ);
	for (va = ua; va < ua + USPACE && ok; va += PAGE_SIZE) {
		pg = pmap_extract(pmap_kernel(), va, &pa) ?
		    PHYS_TO_VM_PAGE(pa) : NULL;
		if (pg == NULL) {
			snprintf(why, len, "LWP %d.%d's u-area page %#lx is not "
			    "mapped", l->l_proc->p_pid, l->l_lid,
			    (unsigned long)va);
			ok = false;
		} else if (pg->uobject != kobj ||
		    pg->offset != (voff_t)(va - vm_map_min(kernel_map))) {
			snprintf(why, len, "LWP %d.%d's u-area page %#lx maps "
			    "pa %#llx, not kernel_object's page", l->l_proc->p_pid,
			    l->l_lid, (unsigned long)va, (unsigned long long)pa);
			ok = false;
		} else if (pg->wire_count == 0) {
			snprintf(why, len, "LWP %d.%d's u-area page %#lx is not "
			    "wired", l->l_proc->p_pid, l->l_lid,
			    (unsigned long)va);
			ok = false;
		}
	}
	rw_exit(kobj->vmobjlock);
	return ok;
}

void
uvm_uarea_stats(struct pool_cache_stats *st)
{
	pool_cache_stats(uvm_uarea_cache, st);
}

int
uvm_uarea_drain(void)
{
	pool_cache_invalidate(uvm_uarea_cache);
	return pool_reclaim(pool_cache_pool(uvm_uarea_cache));
}
