/*
 * vm/uvm_glue.c: glue functions (the seed: NetBSD uvm_glue.c 1.133,
 * 2008/06/25), the process half: uvm_kernacc, uvm_chgkprot, uvm_vslock,
 * uvm_vsunlock, uvm_proc_fork, uvm_lwp_fork, uarea_swapin/out, the
 * u-area cache (uarea_ctor, uarea_poolpage_alloc/free, uvm_uarea_init,
 * uvm_uarea_alloc/free), uvm_proc_exit, uvm_lwp_exit, uvm_init_limits.
 * The swapper half (uvm_swapin, uvm_scheduler, uvm_swapout_threads,
 * uvm_lwp_hold/rele, ...) is not here yet.  See uvm_glue.h for the
 * u-area and its canary.
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
 *
 * Locking: kernel_map's lock inside uvm_kernacc; the u-area cache's own
 * locks; uvm_fault_wire/unwire's map and owner locks; l_swaplock around
 * l_addr; lwp_lock around l_flag; p_lock around p_vmspace.
 */
#include <inttypes.h>
#include <string.h>

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
static void uarea_swapout(vaddr_t) __attribute__((unused));
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
