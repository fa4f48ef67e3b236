/*
 * vm/vm_glue.c: the process half of the seed FreeBSD sys/vm/vm_glue.c
 * (2015, seed 001): kernacc, useracc, vslock, vsunlock, the kernel
 * stacks (vm_thread_new, vm_thread_stack_dispose, vm_thread_dispose,
 * vm_thread_stack_lowmem, kstack_cache_init), intr_prof_stack_use,
 * vm_forkproc and vm_waitproc; and the swapper half: vm_thread_swapout,
 * vm_thread_swapin, faultin, swapper, kick_proc0, swapout_procs (with
 * its tunables swap_idle_threshold1/2), swapclear, swapout.  Not here
 * yet: vm_imgact_* and vm_sync_icache.  Ours, around them: the kernel
 * stack canary (vm_thread_check), vm_thread_resident (for the auditor),
 * FreeBSD's PHOLD/PRELE, the swapper's stop, the swap counts.  See
 * vm_glue.h.
 *
 * FreeBSD's struct thread is our struct lwp (td_kstack* are l_kstack*),
 * its struct proc ours.
 *
 * Translation of the seed's calls, each also noted where it is made:
 *  - vm_map_check_protection is uvm_map_checkprot; vm_map_max and
 *    kernel_map->max_offset are vm_map_max().
 *  - vm_map_wire/vm_map_unwire(VM_MAP_WIRE_SYSTEM | VM_MAP_WIRE_NOHOLES)
 *    are uvm_map_pageable(false/true): it fails (EFAULT) on a hole or a
 *    VM_PROT_NONE entry in the range and undoes what it wired, which is
 *    NOHOLES; our map keeps one wiring count for system and user wirings.
 *    vm_page_max_wired is uvmexp.wiredmax.
 *  - vm_object_allocate(OBJT_DEFAULT) is uao_create (an aobj: pageable,
 *    so that the swapper can page a kstack out: its pages are wired only
 *    while the thread is in memory); vm_object_deallocate is uao_detach;
 *    VM_OBJECT_WLOCK is rw_enter(vmobjlock, RW_WRITE).
 *  - vm_page_grab(VM_ALLOC_NOBUSY | VM_ALLOC_NORMAL | VM_ALLOC_WIRED) is
 *    uvm_pagealloc (uvm_wait with the object unlocked while there is no
 *    page: VM_ALLOC_NORMAL sleeps), unbusied, uvm_pagewire;
 *    m->valid = VM_PAGE_BITS_ALL is clearing PG_FAKE (and PG_CLEAN: no
 *    backing store holds a stack page).  vm_page_unwire + vm_page_free
 *    are uvm_pageunwire + uvm_pagefree (with the page's swap slot
 *    dropped, uao_dropswap, as uvm_km_pgremove does).
 *  - kva_alloc/kva_free are uvm_map/uvm_unmap of kernel_map, with the
 *    stack mapped to its object (see vm_kstack_kva_alloc);
 *    pmap_qenter/pmap_qremove are pmap_enter(PMAP_WIRED)/pmap_remove of
 *    pmap_kernel() and pmap_update.
 *  - mtx(9) is kmutex (MTX_SYSINIT: in vm_glue_init); atomic_add_int and
 *    atomic_cmpset_int are C11-style builtins; SYSCTL_INTs are accessor
 *    functions; EVENTHANDLER_REGISTER(vm_lowmem) is uvm_lowmem_register
 *    (vm/uvm_pdaemon.h); SYSINIT(kstack_cache_init) is vm_glue_init.
 *  - vmspace_unshare is uvmspace_unshare; the RFMEM reference is
 *    uvmspace_share; vmspace_exitfree is uvmspace_free of p_vmspace.
 *  - vm_page_count_severe() is free < freemin / 2 (FreeBSD's
 *    v_free_severe is v_free_min / 2); VM_WAIT is uvm_wait.
 *
 * The swapper half's translations (each also noted where it is made):
 *  - TDF_INMEM, TDI_SWAPPED (TD_SET_SWAPPED/TD_CLR_SWAPPED): l_flag
 *    LW_INMEM (clear: swapped out), under lwp_lock (= thread_lock);
 *    TDF_SWAPINREQ is LW_SWAPINREQ (set by the host's lwp_unblock).  A
 *    thread "otherwise runnable but swapped" (td_inhibitors ==
 *    TDI_SWAPPED) is l_stat LSRUN without LW_INMEM.
 *  - PROC_LOCK/p_mtx is p->p_lock; FreeBSD's p_lock hold count is
 *    p_holdcnt; allproc_lock is proc_lock (a kmutex, not an sx: taken
 *    exclusively), which also covers p_lwps and p_stat here, so
 *    FOREACH_PROC_IN_SYSTEM and FOREACH_THREAD_IN_PROC walk under it
 *    (where the seed walks threads under PROC_LOCK).
 *  - p_state: PRS_NEW is p_stat SIDL, or a process with no LWP yet
 *    (proc_create comes before its first LWP); PRS_NORMAL is SACTIVE or
 *    SSTOP (FreeBSD stops a process with flags, its state stays
 *    PRS_NORMAL); anything else (SZOMB, SDEAD) is FreeBSD's PRS_ZOMBIE.
 *  - ticks is getticks(), td_slptick is l_slptick (set by lwp_block),
 *    p_swtick is p_swtick; PRI_IS_REALTIME(td_pri_class) is l_class !=
 *    SCHED_OTHER; p_nice is relative to NZERO here (FreeBSD's 0).
 *  - thread_safetoswapout (TDF_CANSWAP in FreeBSD) is a static function
 *    here: see its comment.
 *  - vmspace_acquire_ref is uvmspace_addref of p_vmspace under p_lock;
 *    vmspace_free is uvmspace_free; vm_map_trylock is vm_map_lock_try.
 *  - vm_page_count_min() is free < freemin.
 *  - pmap_qremove/pmap_qenter of the stack are pmap_remove/pmap_enter
 *    (PMAP_WIRED, read-write) of pmap_kernel() and pmap_update;
 *    vm_page_dirty is clearing PG_CLEAN; vm_page_unwire(m, PQ_INACTIVE)
 *    is uvm_pageunwire + uvm_pagedeactivate under the page queues (the
 *    pagedaemon may then page the stack out to swap through the aobj).
 *  - vm_page_grab(VM_ALLOC_NORMAL | VM_ALLOC_WIRED), in swapin, is a
 *    lookup, busying a resident page (waiting for a busy one with
 *    uvm_pagewait: vm_page_grab's sleep on a busy page); a missing page
 *    is left to the pager: vm_pager_get_pages of the run of invalid
 *    pages is the object's pgo_get (uao_get) of that run with
 *    PGO_ALLPAGES | PGO_SYNCIO, which allocates and reads the pages
 *    itself (UVM's pagers take no caller-allocated pages).  The wiring
 *    comes after the get; vm_object_pip_add/wakeup have no counterpart
 *    (the busy pages keep others off).
 *  - setrunnable, after swapclear brings a thread in, is sched_enqueue
 *    of an LSRUN LWP under lwp_lock (host/cpu.h), what the host's
 *    lwp_swapin_done does.
 *  - msleep/tsleep/wakeup are host/sleepq.h's, PVM host/param.h's;
 *    MAXSLP is 20 (seconds).
 *  - SYSCTL_INT swap_idle_threshold1/2 are accessor functions;
 *    vm_swrss is not kept (see swapout); ru_nswap is l_ru.ru_nswap.
 *  - FreeBSD's PHOLD/_PHOLD/PRELE/_PRELE (sys/proc.h) are functions
 *    vm_phold/vm_phold_locked/vm_prele/vm_prele_locked, with the
 *    FreeBSD names as macros in vm_glue.h.
 *
 * Deviations, each marked "[deviation]" where it is made:
 *  - Guard pages: the seed's kva_alloc'd guard is merely not entered in
 *    the pmap; ours is a kernel_map entry of the kstack guard object with
 *    no access (protection and maximum VM_PROT_NONE), so that a fault on
 *    it can never be resolved, and the trap (uvm_trap_fault) calls
 *    vm_kstack_guard_check, which panics naming the guard.
 *  - The stack is mapped in kernel_map to its object, so a fault on an
 *    unmapped stack page (after a swapout, later) finds the page in the
 *    object rather than zero fill.
 *  - KSTACK_USAGE_PROF is always compiled in, and what the probe measures
 *    is a simulated stack pointer (our LWPs run on host stacks): see
 *    intr_prof_stack_use and vm_kstack_enter.
 *  - vm_forkproc fails with ENOMEM where it would wait for memory with
 *    swap full (FreeBSD's OOM killer would end that wait; ours is the
 *    fault that finds no swap).
 *  - vm_forkproc gives td2 its kernel stack first, if the caller did not
 *    (FreeBSD's fork1 did so in thread_alloc before calling it), so that
 *    no kernel VA can fail it (ENOMEM) before anything changed.  cpu_fork
 *    is vm_cpu_fork: nothing to copy (no pcb, no LDT).  shmfork: there is
 *    no System V shared memory here.
 *  - The static functions vm_thread_stack_lowmem and kstack_cache_init
 *    are public (vm_glue_init and tests call them); so are the swapper
 *    half's static vm_thread_swapout, vm_thread_swapin, swapclear and
 *    swapout (tests call them).
 *  - thread_safetoswapout also refuses an LWP without a kernel stack
 *    (the host's lwp_create LWPs: tests only).
 *  - swapper returns once vm_swapper_stop has been called (FreeBSD's
 *    never does), so that runs and tests end; its timed sleep is an
 *    msleep under the stop flag's mutex, so that the stop is never lost.
 *    It also does the vm_daemon's idle swapping: with
 *    vm_swap_idle_enabled it calls swapout_procs(VM_SWAP_IDLE) at most
 *    once a simulated second, as FreeBSD's vm_pageout loop asks the
 *    vm_daemon for VM_SWAP_IDLE about once a second.
 *  - faultin first waits for a swapout in progress (P_SWAPPINGOUT: the
 *    seed would swap the threads in while swapout is still unwiring
 *    them) and swapout wakes it; swapin drops the swap slots of the
 *    pages it wires and marks them dirty (uvm_obj_wire does the same:
 *    a wired page's slot is of no use, and the stack is written as soon
 *    as the thread runs); a kstack page missing from its object with no
 *    swap slot is a lost stack, and panics as a failed get does (uao_get
 *    would zero-fill it); a get that fails for want of memory
 *    (VM_PAGER_AGAIN) waits (uvm_wait) and is retried rather than panic.
 *  - a process with no LWP is skipped as PRS_NEW; swapout counts ru_nswap
 *    only if it has one.
 *  - P_SYSTEM's "quick check" in swapout_procs is read under p_lock
 *    (p_flag is [P]: another process's faultin may be writing it).
 */
#include <inttypes.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "host/clock.h"
#include "host/cpu.h"
#include "host/kassert.h"
#include "host/lwp.h"
#include "host/mutex.h"
#include "host/pmap.h"
#include "uvm.h"
#include "uvm_aobj.h"
#include "uvm_km.h"
#include "uvm_map.h"
#include "uvm_object.h"
#include "uvm_pager.h"
#include "uvm_pdaemon.h"
#include "uvm_swap.h"
#include "vm_glue.h"

/* FreeBSD's sys/_kstack_cache.h: lives in the cached stack itself. */
struct kstack_cache_entry {
	struct uvm_object		*ksobj;
	struct kstack_cache_entry	*next_ks_entry;
};

static struct kstack_cache_entry *kstack_cache;	/* [kstack_cache_mtx] */
static int kstack_cache_size = 128;		/* [a] vm.kstack_cache_size */
static int kstacks;				/* [a] vm.kstacks */
static kmutex_t kstack_cache_mtx;
static int max_kstack_used;			/* [a] debug.max_kstack_used */
/* Counts for reports (not in the seed): stacks made, reused, purged. */
static uint64_t kstack_nnew, kstack_nreused, kstack_npurged;	/* [a] */

/*
 * The kstack guard object: the object of every guard entry (a kernel
 * object: never referenced, never dies).  It never has pages; its get
 * panics, should anything ever reach it past the entry's VM_PROT_NONE.
 */
static struct uvm_object kstack_guard_object;
static bool vm_glue_inited;

/*
 * The swapper half.  The tunables are [a] (sysctls); the stop flag is
 * written under swapper_mtx (the swapper sleeps under it) and read
 * atomically; the counts are [a].
 */
#define MAXSLP		20	/* seconds: FreeBSD's sys/param.h */
static int swap_idle_threshold1 = 2;		/* [a] seconds */
static int swap_idle_threshold2 = 10;		/* [a] seconds */
static bool vm_swap_idle_enabled;		/* [a] */
static bool swapper_stopping;			/* [a], written [swapper_mtx] */
static kmutex_t swapper_mtx;
static uint64_t vm_nswapout, vm_nswapin, vm_nswapebusy;	/* [a] */
static uint64_t vm_nfaultinwait, vm_nidleswapout;	/* [a] */
static uint64_t vm_nstackpagesin;	/* [a] kstack pages read from swap */

/*
 * The kernel-stack canary: KSTACK_NCANARY words at the bottom of each
 * handed-out stack (where a cached stack keeps its kstack_cache_entry,
 * so they are written at each hand-out), word w of LWP td holding
 * KSTACK_MAGIC ^ w ^ (td << 1): a word copied elsewhere, a stack of
 * another LWP and a plain overwrite all show.
 */
#define KSTACK_NCANARY	8
#define KSTACK_MAGIC	0x6b73746b63616e61ull	/* "kstkcana" */

/* local prototypes */
static int kstack_guard_get(struct uvm_object *, voff_t, struct vm_page **,
    int *, int, vm_prot_t, int, int);
static vaddr_t vm_kstack_kva_alloc(struct uvm_object *, int);
static struct vm_page *vm_kstack_grab(struct uvm_object *, int);
static void vm_thread_stack_dispose(struct uvm_object *, vaddr_t, int);
static void vm_glue_clock_intr(void);
static bool vm_page_count_severe(void);
static void vm_cpu_fork(struct lwp *, struct proc *, struct lwp *, int);
static uint64_t kstack_magic(const struct lwp *, const uint64_t *);
static void kstack_setup_canary(struct lwp *, vaddr_t);
static void vm_kstack_swapin_get(struct lwp *, struct uvm_object *,
    struct vm_page **, int, int);
static bool thread_safetoswapout(struct lwp *);
static bool vm_page_count_min(void);
static struct vmspace *vmspace_acquire_ref(struct proc *);

static const struct uvm_pagerops kstack_guard_pager = {
	.pgo_get = kstack_guard_get,
};

/* vm_forkproc's waits for memory with swap full before it gives up. */
#define VM_FORK_NWAIT	8

/* A simulated kernel entry's link: the stack pointer before it. */
struct kstack_link {
	vaddr_t		kl_prev_sp;
	vaddr_t		kl_pad;		/* keeps frames 16-byte aligned */
};

/*
 * vm_glue_init: see vm_glue.h.
 */
void
vm_glue_init(void)
{
	KASSERT(kernel_map != NULL);
	if (!vm_glue_inited) {
		/* MTX_SYSINIT(kstack_cache, &kstack_cache_mtx, "kstkch") */
		mutex_init_class(&kstack_cache_mtx, MUTEX_DEFAULT, IPL_NONE,
		    "kstkch");
		mutex_init_class(&swapper_mtx, MUTEX_DEFAULT, IPL_NONE,
		    "swapper");
		uvm_obj_init(&kstack_guard_object, &kstack_guard_pager,
		    UVM_OBJ_KERN);
		vm_glue_inited = true;
	}
	/* a new boot: the stacks of an earlier kernel_map are gone */
	kstack_cache = NULL;
	__atomic_store_n(&kstacks, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&max_kstack_used, 0, __ATOMIC_RELAXED);
	kstack_cache_init(NULL);
	host_set_clock_intr_hook(vm_glue_clock_intr);
	vm_swapper_reset();
}

/*
 * kernacc: MPSAFE
 *
 * WARNING!  This code calls vm_map_check_protection() which only checks
 * the associated vm_map_entry range.  It does not determine whether the
 * contents of the memory is actually readable or writable.  In most cases
 * just checking the vm_map_entry is sufficient within the kernel's address
 * space.
 * => kernel_map unlocked (read-locked here)
 */
int
kernacc(void *addr, int len, int rw)
{
	bool rv;
	vaddr_t saddr, eaddr;
	vm_prot_t prot;

	KASSERTMSG((rw & ~VM_PROT_ALL) == 0,
	    "illegal ``rw'' argument to kernacc (%x)", rw);

	/* kernel_map->max_offset: vm_map_max(kernel_map) */
	if ((vaddr_t)addr + len > vm_map_max(kernel_map) ||
	    (vaddr_t)addr + len < (vaddr_t)addr)
		return false;

	prot = rw;
	saddr = trunc_page((vaddr_t)addr);
	eaddr = round_page((vaddr_t)addr + len);
	vm_map_lock_read(kernel_map);
	/* vm_map_check_protection: uvm_map_checkprot */
	rv = uvm_map_checkprot(kernel_map, saddr, eaddr, prot);
	vm_map_unlock_read(kernel_map);
	return rv == true;
}

/*
 * useracc: MPSAFE
 *
 * WARNING!  This code calls vm_map_check_protection() which only checks
 * the associated vm_map_entry range.  It does not determine whether the
 * contents of the memory is actually readable or writable.  vmapbuf(),
 * vm_fault_quick(), or copyin()/copout()/su*()/fu*() functions should be
 * used in conjuction with this call.
 * => curproc's map unlocked (read-locked here)
 */
int
useracc(void *addr, int len, int rw)
{
	bool rv;
	vm_prot_t prot;
	struct vm_map *map;

	KASSERTMSG((rw & ~VM_PROT_ALL) == 0,
	    "illegal ``rw'' argument to useracc (%x)", rw);
	KASSERT(curproc != NULL && curproc->p_vmspace != NULL);
	prot = rw;
	map = &curproc->p_vmspace->vm_map;
	if ((vaddr_t)addr + len > vm_map_max(map) ||
	    (vaddr_t)addr + len < (vaddr_t)addr) {
		return false;
	}
	vm_map_lock_read(map);
	rv = uvm_map_checkprot(map, trunc_page((vaddr_t)addr),
	    round_page((vaddr_t)addr + len), prot);
	vm_map_unlock_read(map);
	return rv == true;
}

/*
 * vslock: see vm_glue.h.
 * => curproc's map unlocked; may sleep (faults)
 */
int
vslock(void *addr, size_t len)
{
	vaddr_t end, last, start;
	vsize_t npages;
	int error;

	KASSERT(curproc != NULL && curproc->p_vmspace != NULL);
	last = (vaddr_t)addr + len;
	start = trunc_page((vaddr_t)addr);
	end = round_page(last);
	if (last < (vaddr_t)addr || end < (vaddr_t)addr)
		return EINVAL;
	npages = atop(end - start);
	/* vm_page_max_wired: uvmexp.wiredmax */
	if (npages > (vsize_t)uvmexp_read(wiredmax))
		return ENOMEM;
#if 0
	/*
	 * XXX - not yet
	 *
	 * The limit for transient usage of wired pages should be
	 * larger than for "permanent" wired pages (mlock()).
	 *
	 * Also, the sysctl code, which is the only present user
	 * of vslock(), does a hard loop on EAGAIN.
	 */
	if (npages + uvmexp.wired > uvmexp.wiredmax)
		return EAGAIN;
#endif
	/*
	 * vm_map_wire(VM_MAP_WIRE_SYSTEM | VM_MAP_WIRE_NOHOLES):
	 * uvm_map_pageable(false), which refuses holes (EFAULT) and undoes
	 * its wiring on any failure.
	 */
	error = uvm_map_pageable(&curproc->p_vmspace->vm_map, start, end,
	    false, 0);
	/*
	 * Return EFAULT on error to match copy{in,out}() behaviour
	 * rather than returning ENOMEM like mlock() would.
	 */
	return error == KERN_SUCCESS ? 0 : EFAULT;
}

/*
 * vsunlock: see vm_glue.h.
 * => curproc's map unlocked
 */
void
vsunlock(void *addr, size_t len)
{
	KASSERT(curproc != NULL && curproc->p_vmspace != NULL);
	/* Rely on the parameter sanity checks performed by vslock(). */
	/* vm_map_unwire(VM_MAP_WIRE_SYSTEM | NOHOLES): uvm_map_pageable */
	(void)uvm_map_pageable(&curproc->p_vmspace->vm_map,
	    trunc_page((vaddr_t)addr), round_page((vaddr_t)addr + len),
	    true, 0);
}

/*
 * kstack_guard_get: the guard object's pager get.  Nothing may ever get
 * here (guard entries are VM_PROT_NONE): if it does, it is a kstack
 * guard touched.  => never returns
 */
static int
kstack_guard_get(struct uvm_object *uobj, voff_t offset,
    struct vm_page **pps, int *npagesp, int centeridx, vm_prot_t access_type,
    int advice, int flags)
{
	panic("kstack guard page at %#lx touched (guard object get)",
	    (unsigned long)(vm_map_min(kernel_map) + offset +
	    ptoa(centeridx)));
}

/*
 * vm_kstack_kva_alloc: kva_alloc((pages + KSTACK_GUARD_PAGES) pages) for
 * a kstack of ksobj: the guard entry (the guard object, VM_PROT_NONE:
 * never faulted in) at the bottom, then the stack, mapped read-write to
 * ksobj at offset 0 (the mapping takes a reference of its own).
 * The whole range is reserved first as guard; the stack part is then
 * unmapped and mapped again to ksobj at the same place.  Another kernel
 * allocation may slip into that gap in between: then we give it all back
 * and try again.
 * => no locks held; may sleep; returns the range's start, or 0 (no VA)
 */
static vaddr_t
vm_kstack_kva_alloc(struct uvm_object *ksobj, int pages)
{
	const vsize_t gsize = ptoa(KSTACK_GUARD_PAGES);
	const vsize_t ssize = ptoa(pages);
	const int stackflags = UVM_MAPFLAG(UVM_PROT_RW, UVM_PROT_RW,
	    UVM_INH_NONE, UVM_ADV_RANDOM, UVM_FLAG_NOMERGE);
	vaddr_t ks, stack;

	if (gsize == 0) {
		ks = vm_map_min(kernel_map);
		uao_reference(ksobj);		/* the mapping's */
		if (uvm_map(kernel_map, &ks, ssize, ksobj, 0, 0,
		    stackflags) != 0) {
			uao_detach(ksobj);
			return 0;
		}
		return ks;
	}
	for (;;) {
		ks = vm_map_min(kernel_map);
		if (uvm_map(kernel_map, &ks, gsize + ssize,
		    &kstack_guard_object, UVM_UNKNOWN_OFFSET, 0,
		    UVM_MAPFLAG(UVM_PROT_NONE, UVM_PROT_NONE, UVM_INH_NONE,
		    UVM_ADV_RANDOM, UVM_FLAG_NOMERGE)) != 0)
			return 0;
		stack = ks + gsize;
		uvm_unmap(kernel_map, stack, stack + ssize);
		uao_reference(ksobj);		/* the mapping's */
		if (uvm_map(kernel_map, &stack, ssize, ksobj, 0, 0,
		    stackflags | UVM_FLAG_FIXED) == 0)
			return ks;
		/* lost the gap: the reference stays ours on failure */
		uao_detach(ksobj);
		uvm_unmap(kernel_map, ks, ks + gsize);
	}
}

/*
 * vm_kstack_grab: vm_page_grab(ksobj, i, VM_ALLOC_NOBUSY |
 * VM_ALLOC_NORMAL | VM_ALLOC_WIRED) of a new page, valid.
 * => ksobj write-locked (dropped and taken again while waiting for
 *    memory: no other lock held); returns the page, wired, not busy
 */
static struct vm_page *
vm_kstack_grab(struct uvm_object *ksobj, int i)
{
	struct vm_page *m;

	KASSERT(rw_write_held(ksobj->vmobjlock));
	KASSERT(uvm_pagelookup(ksobj, ptoa(i)) == NULL);
	while ((m = uvm_pagealloc(ksobj, ptoa(i), NULL, 0)) == NULL) {
		/* VM_ALLOC_NORMAL without NOWAIT: VM_WAIT and retry */
		rw_exit(ksobj->vmobjlock);
		uvm_wait("kstackpg");
		rw_enter(ksobj->vmobjlock, RW_WRITE);
	}
	/* VM_ALLOC_NOBUSY; m->valid = VM_PAGE_BITS_ALL (and dirty) */
	atomic_clearbits_int(&m->pg_flags, PG_BUSY | PG_FAKE | PG_CLEAN);
	UVM_PAGE_OWN(m, NULL);
	uvm_lock_pageq();
	uvm_pagewire(m);			/* VM_ALLOC_WIRED */
	uvm_unlock_pageq();
	return m;
}

/*
 * vm_thread_new: Create the kernel stack (including pcb for i386) for a
 * new thread.  This routine directly affects the fork perf for a process
 * and create performance for a thread.
 * => see vm_glue.h; td's stack fields are ours (td not running on it)
 */
int
vm_thread_new(struct lwp *td, int pages)
{
	struct uvm_object *ksobj;
	vaddr_t ks;
	struct vm_page *m, *ma[KSTACK_MAX_PAGES];
	struct kstack_cache_entry *ks_ce;
	int i;

	KASSERT(vm_glue_inited);
	KASSERT(witness_nheld() == 0);

	/* Bounds check */
	if (pages <= 1)
		pages = KSTACK_PAGES;
	else if (pages > KSTACK_MAX_PAGES)
		pages = KSTACK_MAX_PAGES;

	if (pages == KSTACK_PAGES) {
		mtx_enter(&kstack_cache_mtx);
		if (kstack_cache != NULL) {
			ks_ce = kstack_cache;
			kstack_cache = ks_ce->next_ks_entry;
			mtx_leave(&kstack_cache_mtx);
			__atomic_fetch_add(&kstack_nreused, 1, __ATOMIC_RELAXED);

			__atomic_store_n(&td->l_kstack_obj, ks_ce->ksobj,
			    __ATOMIC_RELAXED);
			__atomic_store_n(&td->l_kstack_pages, KSTACK_PAGES,
			    __ATOMIC_RELAXED);
			__atomic_store_n(&td->l_kstack_sp, 0,
			    __ATOMIC_RELAXED);
			/* over the cache entry: it is ours and read */
			kstack_setup_canary(td, (vaddr_t)ks_ce);
			__atomic_store_n(&td->l_kstack, (vaddr_t)ks_ce,
			    __ATOMIC_RELEASE);
			return 1;
		}
		mtx_leave(&kstack_cache_mtx);
	}

	/*
	 * Allocate an object for the kstack.
	 * (vm_object_allocate(OBJT_DEFAULT, pages): an aobj)
	 */
	ksobj = uao_create(ptoa(pages), 0);

	/*
	 * Get a kernel virtual address for this thread's kstack.
	 * (kva_alloc: vm_kstack_kva_alloc, guard included)
	 */
	ks = vm_kstack_kva_alloc(ksobj, pages);
	if (ks == 0) {
		host_printf("vm_thread_new: kstack allocation failed\n");
		uao_detach(ksobj);
		return 0;
	}

	__atomic_fetch_add(&kstacks, 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&kstack_nnew, 1, __ATOMIC_RELAXED);
	if (KSTACK_GUARD_PAGES != 0) {
		/*
		 * pmap_qremove(ks, KSTACK_GUARD_PAGES): nothing to remove,
		 * the guard entry never maps a page (VM_PROT_NONE)
		 */
		ks += ptoa(KSTACK_GUARD_PAGES);
	}
	/*
	 * For the length of the stack, link in a real page of ram for each
	 * page of stack.
	 */
	rw_enter(ksobj->vmobjlock, RW_WRITE);
	for (i = 0; i < pages; i++) {
		/*
		 * Get a kernel stack page.
		 */
		m = vm_kstack_grab(ksobj, i);
		ma[i] = m;
	}
	rw_exit(ksobj->vmobjlock);
	/* pmap_qenter(ks, ma, pages): wired kernel mappings */
	for (i = 0; i < pages; i++)
		if (pmap_enter(pmap_kernel(), ks + ptoa(i),
		    VM_PAGE_TO_PHYS(ma[i]), VM_PROT_READ | VM_PROT_WRITE,
		    PMAP_WIRED | VM_PROT_READ | VM_PROT_WRITE) != 0)
			panic("vm_thread_new: pmap_enter of %#lx failed",
			    (unsigned long)(ks + ptoa(i)));
	pmap_update(pmap_kernel());

	__atomic_store_n(&td->l_kstack_obj, ksobj, __ATOMIC_RELAXED);
	/*
	 * Knowing the number of pages allocated is useful when you
	 * want to deallocate them.
	 */
	__atomic_store_n(&td->l_kstack_pages, pages, __ATOMIC_RELAXED);
	__atomic_store_n(&td->l_kstack_sp, 0, __ATOMIC_RELAXED);
	kstack_setup_canary(td, ks);
	/* (published last: the clock's probe reads the others after it) */
	__atomic_store_n(&td->l_kstack, ks, __ATOMIC_RELEASE);
	return 1;
}

/*
 * vm_thread_stack_dispose: free a kernel stack: its pages, its object,
 * its VA (guard included).
 * => no locks held; may sleep
 */
static void
vm_thread_stack_dispose(struct uvm_object *ksobj, vaddr_t ks, int pages)
{
	struct vm_page *m;
	int i;

	__atomic_fetch_sub(&kstacks, 1, __ATOMIC_RELAXED);
	/* pmap_qremove(ks, pages) */
	pmap_remove(pmap_kernel(), ks, ks + ptoa(pages));
	pmap_update(pmap_kernel());
	rw_enter(ksobj->vmobjlock, RW_WRITE);
	for (i = 0; i < pages; i++) {
		m = uvm_pagelookup(ksobj, ptoa(i));
		if (m == NULL)
			panic("vm_thread_dispose: kstack already missing?");
		/* a stack paged out and in again may keep its slot */
		(void)uao_dropswap(ksobj, i);
		uvm_lock_pageq();
		uvm_pageunwire(m);		/* vm_page_unwire */
		uvm_pagefree(m);		/* vm_page_free */
		uvm_unlock_pageq();
	}
	rw_exit(ksobj->vmobjlock);
	uao_detach(ksobj);		/* vm_object_deallocate: td's ref */
	/* kva_free: the guard and the stack (the mapping's ref of ksobj) */
	uvm_unmap(kernel_map, ks - ptoa(KSTACK_GUARD_PAGES),
	    ks + ptoa(pages));
}

/*
 * vm_thread_dispose: Dispose of a thread's kernel stack.
 * => see vm_glue.h
 */
void
vm_thread_dispose(struct lwp *td)
{
	struct uvm_object *ksobj;
	vaddr_t ks;
	struct kstack_cache_entry *ks_ce;
	int pages;

	KASSERT(witness_nheld() == 0);
	pages = __atomic_load_n(&td->l_kstack_pages, __ATOMIC_RELAXED);
	ksobj = __atomic_load_n(&td->l_kstack_obj, __ATOMIC_RELAXED);
	ks = __atomic_load_n(&td->l_kstack, __ATOMIC_RELAXED);
	KASSERT(ks != 0 && ksobj != NULL);
	__atomic_store_n(&td->l_kstack, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&td->l_kstack_pages, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&td->l_kstack_obj, NULL, __ATOMIC_RELAXED);
	__atomic_store_n(&td->l_kstack_sp, 0, __ATOMIC_RELAXED);
	if (pages == KSTACK_PAGES &&
	    __atomic_load_n(&kstacks, __ATOMIC_RELAXED) <=
	    __atomic_load_n(&kstack_cache_size, __ATOMIC_RELAXED)) {
		/* the entry lives at the bottom of the stack itself */
		ks_ce = (struct kstack_cache_entry *)ks;
		ks_ce->ksobj = ksobj;
		mtx_enter(&kstack_cache_mtx);
		ks_ce->next_ks_entry = kstack_cache;
		kstack_cache = ks_ce;
		mtx_leave(&kstack_cache_mtx);
		return;
	}
	vm_thread_stack_dispose(ksobj, ks, pages);
}

/*
 * vm_thread_stack_lowmem: the vm_lowmem handler (see vm_glue.h).
 * => no locks held (the pagedaemon, or a test); may sleep
 */
void
vm_thread_stack_lowmem(void *nulll)
{
	struct kstack_cache_entry *ks_ce, *ks_ce1;

	mtx_enter(&kstack_cache_mtx);
	ks_ce = kstack_cache;
	kstack_cache = NULL;
	mtx_leave(&kstack_cache_mtx);

	while (ks_ce != NULL) {
		ks_ce1 = ks_ce;
		ks_ce = ks_ce->next_ks_entry;

		vm_thread_stack_dispose(ks_ce1->ksobj, (vaddr_t)ks_ce1,
		    KSTACK_PAGES);
		__atomic_fetch_add(&kstack_npurged, 1, __ATOMIC_RELAXED);
	}
}

/*
 * kstack_cache_init: EVENTHANDLER_REGISTER(vm_lowmem,
 * vm_thread_stack_lowmem, NULL, EVENTHANDLER_PRI_ANY).
 * => boot (vm_glue_init); a second registration is ignored
 */
void
kstack_cache_init(void *nulll)
{
	if (uvm_lowmem_register(vm_thread_stack_lowmem, NULL) != 0)
		panic("kstack_cache_init: no room for a vm_lowmem handler");
}

/*
 * intr_prof_stack_use: Track maximum stack used by a thread in kernel.
 *
 * [deviation] The seed takes the address of its own local variable as
 * the depth: the interrupt runs on the interrupted thread's kernel
 * stack, below everything the thread had pushed.  Our clock "interrupt"
 * runs on the hardclock's host thread, and our LWPs run their kernel
 * code on host stacks; what a kernel stack holds here is what
 * vm_kstack_enter pushed on it.  So `current' is the interrupted LWP's
 * simulated stack pointer (frame->tf_sp) less the trap frame the
 * interrupt would push there.
 * => never sleeps, no locks; td's stack fields read atomically (the
 *    probe never dereferences the stack)
 */
void
intr_prof_stack_use(struct lwp *td, struct trapframe *frame)
{
	vaddr_t stack_top, kstack;
	vaddr_t current;
	int used, prev_used;

	/*
	 * Testing for interrupted kernel mode isn't strictly
	 * needed. It optimizes the execution, since interrupts from
	 * usermode will have only the trap frame on the stack.
	 */
	if (TRAPF_USERMODE(frame))
		return;

	kstack = __atomic_load_n(&td->l_kstack, __ATOMIC_ACQUIRE);
	stack_top = kstack + ptoa(__atomic_load_n(&td->l_kstack_pages,
	    __ATOMIC_RELAXED));
	current = frame->tf_sp - sizeof(*frame);

	/*
	 * Try to detect if interrupt is using kernel thread stack.
	 * Hardware could use a dedicated stack for interrupt handling.
	 */
	if (stack_top <= current || current < kstack)
		return;

	used = (int)(stack_top - current);
	for (;;) {
		prev_used = __atomic_load_n(&max_kstack_used,
		    __ATOMIC_RELAXED);
		if (prev_used >= used)
			break;
		/* atomic_cmpset_int */
		if (__atomic_compare_exchange_n(&max_kstack_used, &prev_used,
		    used, false, __ATOMIC_RELAXED, __ATOMIC_RELAXED))
			break;
	}
}

/*
 * vm_glue_clock_intr: the VM's part of the clock interrupt
 * (host_set_clock_intr_hook): probe the kernel stack of every LWP on a
 * CPU, as each CPU's clock interrupt would its running thread.
 * => the hardclock thread; takes proc_lock and each lwp_lock (so that
 *    no LWP is freed under us: lwp_join unlinks under proc_lock)
 */
static void
vm_glue_clock_intr(void)
{
	struct trapframe frame;
	struct lwp *l;
	bool onproc;

	/* no kernel stack anywhere: nothing to probe (and no lock taken) */
	if (__atomic_load_n(&kstacks, __ATOMIC_RELAXED) == 0)
		return;
	mutex_enter(proc_lock);
	LIST_FOREACH(l, &alllwp, l_list) {
		lwp_lock(l);
		onproc = l->l_stat == LSONPROC;
		lwp_unlock(l);
		if (!onproc ||
		    __atomic_load_n(&l->l_kstack, __ATOMIC_ACQUIRE) == 0)
			continue;
		frame.tf_sp = __atomic_load_n(&l->l_kstack_sp,
		    __ATOMIC_RELAXED);
		frame.tf_usermode = frame.tf_sp == 0;
		intr_prof_stack_use(l, &frame);
	}
	mutex_exit(proc_lock);
}

/*
 * vm_kstack_enter/vm_kstack_leave: see vm_glue.h.  A pushed area is a
 * struct kstack_link (the stack pointer before it) at its lowest
 * address, then the frame; the link is written first, into the stack's
 * own memory, so an overflow writes into the guard and traps.
 * => td == curlwp, or td does not run (tests); never sleeps
 */
void *
vm_kstack_enter(struct lwp *td, size_t framesz)
{
	vaddr_t kstack, top, sp, nsp;
	struct kstack_link *kl;

	kstack = __atomic_load_n(&td->l_kstack, __ATOMIC_RELAXED);
	KASSERTMSG(kstack != 0, "vm_kstack_enter: lwp %d has no kstack",
	    td->l_lid);
	/* a frame larger than the guard could jump it */
	KASSERTMSG(framesz + sizeof(*kl) <= ptoa(KSTACK_GUARD_PAGES),
	    "vm_kstack_enter: frame of %zu bytes", framesz);
	top = kstack + ptoa(td->l_kstack_pages);
	sp = __atomic_load_n(&td->l_kstack_sp, __ATOMIC_RELAXED);
	if (sp == 0)
		sp = top;			/* entering from user mode */
	nsp = (sp - framesz - sizeof(*kl)) & ~(vaddr_t)15;
	kl = (struct kstack_link *)nsp;
	kl->kl_prev_sp = __atomic_load_n(&td->l_kstack_sp, __ATOMIC_RELAXED);
	kl->kl_pad = 0;
	__atomic_store_n(&td->l_kstack_sp, nsp, __ATOMIC_RELAXED);
	return kl + 1;
}

void
vm_kstack_leave(struct lwp *td, void *frame)
{
	struct kstack_link *kl = (struct kstack_link *)frame - 1;

	KASSERTMSG((vaddr_t)kl == __atomic_load_n(&td->l_kstack_sp,
	    __ATOMIC_RELAXED), "vm_kstack_leave: not the innermost frame");
	__atomic_store_n(&td->l_kstack_sp, kl->kl_prev_sp, __ATOMIC_RELAXED);
}

/*
 * vm_kstack_guard_check: see vm_glue.h.
 * => no VM locks held (the trap, after uvm_fault refused va)
 */
void
vm_kstack_guard_check(vaddr_t va, vm_prot_t access)
{
	struct vm_map_entry *entry;
	vaddr_t gstart = 0, gend = 0;
	struct lwp *l = curlwp;
	bool guard = false;

	vm_map_lock_read(kernel_map);
	if (uvm_map_lookup_entry(kernel_map, va, &entry) &&
	    UVM_ET_ISOBJ(entry) &&
	    entry->object.uvm_obj == &kstack_guard_object) {
		guard = true;
		gstart = entry->start;
		gend = entry->end;
	}
	vm_map_unlock_read(kernel_map);
	if (!guard)
		return;
	if (l != NULL && gend == __atomic_load_n(&l->l_kstack,
	    __ATOMIC_RELAXED))
		panic("kstack guard page touched at va %#lx (access %d): "
		    "kernel stack overflow of lwp %d (%s), guard [%#lx, %#lx)",
		    (unsigned long)va, access, l->l_lid, l->l_name,
		    (unsigned long)gstart, (unsigned long)gend);
	panic("kstack guard page touched at va %#lx (access %d): guard "
	    "[%#lx, %#lx) below the kernel stack at %#lx", (unsigned long)va,
	    access, (unsigned long)gstart, (unsigned long)gend,
	    (unsigned long)gend);
}

/*
 * vm_thread_swapout: Allow a thread's kernel stack to be paged out.
 * => td is swapped out (LW_INMEM clear: it cannot run) and has a kernel
 *    stack; no VM lock held (the caller may hold proc_lock and td's
 *    process's map); never sleeps but for the object lock
 */
void
vm_thread_swapout(struct lwp *td)
{
	struct uvm_object *ksobj;
	struct vm_page *m;
	vaddr_t ks;
	int i, pages;

	KASSERT(td->l_kstack != 0);
	cpu_thread_swapout(td);
	pages = __atomic_load_n(&td->l_kstack_pages, __ATOMIC_RELAXED);
	ksobj = __atomic_load_n(&td->l_kstack_obj, __ATOMIC_RELAXED);
	ks = __atomic_load_n(&td->l_kstack, __ATOMIC_RELAXED);
	/* pmap_qremove(td->td_kstack, pages) */
	pmap_remove(pmap_kernel(), ks, ks + ptoa(pages));
	pmap_update(pmap_kernel());
	rw_enter(ksobj->vmobjlock, RW_WRITE);	/* VM_OBJECT_WLOCK */
	for (i = 0; i < pages; i++) {
		m = uvm_pagelookup(ksobj, ptoa(i));
		if (m == NULL)
			panic("vm_thread_swapout: kstack already missing?");
		/* vm_page_dirty: no backing store holds it */
		atomic_clearbits_int(&m->pg_flags, PG_CLEAN);
		/* vm_page_lock; vm_page_unwire(m, PQ_INACTIVE) */
		uvm_lock_pageq();
		uvm_pageunwire(m);
		uvm_pagedeactivate(m);
		uvm_unlock_pageq();
	}
	rw_exit(ksobj->vmobjlock);
	uvmexp_inc(swapouts);
}

/*
 * vm_kstack_swapin_get: vm_pager_get_pages(ksobj, ma + i, n, 0) of
 * the run of pages [i, i + n) of td's stack, none of them resident:
 * the aobj's pgo_get (uao_get) with PGO_ALLPAGES | PGO_SYNCIO reads
 * them from swap into pages of its own, returned busy in ma[i..].
 * => ksobj write-locked; unlocked inside, locked again on return;
 *    may sleep (I/O, memory); panics if the stack cannot be had
 */
static void
vm_kstack_swapin_get(struct lwp *td, struct uvm_object *ksobj,
    struct vm_page **ma, int i, int n)
{
	int k, npages, rv, slot;

	KASSERT(rw_write_held(ksobj->vmobjlock));
	for (;;) {
		for (k = i; k < i + n; k++) {
			/*
			 * [deviation] uao_get zero-fills a page with no slot,
			 * where FreeBSD's swap pager fails: that stack is lost
			 */
			slot = uao_find_swslot(ksobj, k);
			if (slot <= 0)
				panic("vm_thread_swapin: cannot get kstack for "
				    "LWP %d.%d (%s): page %d (va %#lx) is in "
				    "neither memory nor swap (slot %d)",
				    td->l_proc->p_pid, td->l_lid, td->l_name, k,
				    (unsigned long)(td->l_kstack + ptoa(k)),
				    slot);
			ma[k] = NULL;
		}
		npages = n;
		/* vm_object_pip_add: the pages stay busy instead */
		rv = (*ksobj->pgops->pgo_get)(ksobj, ptoa(i), ma + i, &npages,
		    0, VM_PROT_READ | VM_PROT_WRITE, 0,
		    PGO_ALLPAGES | PGO_SYNCIO);
		rw_enter(ksobj->vmobjlock, RW_WRITE);
		if (rv == VM_PAGER_OK) {
			__atomic_fetch_add(&vm_nstackpagesin, (uint64_t)n,
			    __ATOMIC_RELAXED);
			break;
		}
		if (rv != VM_PAGER_AGAIN)
			panic("vm_thread_swapin: cannot get kstack for LWP "
			    "%d.%d (%s): pages %d-%d (va %#lx): pager error "
			    "%d", td->l_proc->p_pid, td->l_lid, td->l_name,
			    i, i + n - 1,
			    (unsigned long)(td->l_kstack + ptoa(i)), rv);
		/*
		 * [deviation] no memory now (VM_PAGER_AGAIN): FreeBSD's
		 * vm_page_grab(VM_ALLOC_NORMAL) would have slept for it
		 */
		rw_exit(ksobj->vmobjlock);
		uvm_wait("kstkswin");
		rw_enter(ksobj->vmobjlock, RW_WRITE);
	}
	for (k = i; k < i + n; k++) {
		KASSERT(ma[k] != NULL && ma[k] != PGO_DONTCARE);
		KASSERT((pg_flags_load(ma[k]) & (PG_BUSY | PG_RELEASED)) ==
		    PG_BUSY);
	}
}

/*
 * vm_thread_swapin: Bring the kernel stack for a specified thread back
 * in.  Its pages are resident, wired and mapped when this returns.
 * => td swapped out (LW_INMEM clear) by vm_thread_swapout; no locks
 *    held; may sleep (a busy page, swap I/O, memory); panics naming the
 *    LWP and page when the stack cannot be read
 */
void
vm_thread_swapin(struct lwp *td)
{
	struct uvm_object *ksobj;
	struct vm_page *ma[KSTACK_MAX_PAGES];
	struct vm_page *m;
	vaddr_t ks;
	int i, j, pages;

	KASSERT(td->l_kstack != 0);
	KASSERT(witness_nheld() == 0);
	pages = __atomic_load_n(&td->l_kstack_pages, __ATOMIC_RELAXED);
	ksobj = __atomic_load_n(&td->l_kstack_obj, __ATOMIC_RELAXED);
	ks = __atomic_load_n(&td->l_kstack, __ATOMIC_RELAXED);
	rw_enter(ksobj->vmobjlock, RW_WRITE);	/* VM_OBJECT_WLOCK */
	/*
	 * ma[i] = vm_page_grab(ksobj, i, VM_ALLOC_NORMAL | VM_ALLOC_WIRED):
	 * a resident page is busied (waited for while busy: the pagedaemon
	 * may be paging it out right now); a missing one stays NULL, for
	 * the pager (the wiring comes below).
	 */
	for (i = 0; i < pages; i++) {
		for (;;) {
			m = uvm_pagelookup(ksobj, ptoa(i));
			if (m == NULL || (pg_flags_load(m) & PG_BUSY) == 0)
				break;
			/* vm_page_grab's sleep on a busy page */
			uvm_pagewait(m, ksobj->vmobjlock, "kstkbusy");
			rw_enter(ksobj->vmobjlock, RW_WRITE);
		}
		if (m != NULL) {
			atomic_setbits_int(&m->pg_flags, PG_BUSY);
			UVM_PAGE_OWN(m, "kstkswin");
		}
		ma[i] = m;
	}
	/*
	 * An earlier page's get may have slept: a later page found missing
	 * above stays missing (only the pagedaemon removes kstack pages, and
	 * it leaves busy ones alone; a missing one can only come back
	 * through us), and a later page busied above stays ours.
	 */
	for (i = 0; i < pages; i++) {
		if (ma[i] != NULL)
			continue;	/* valid (and busied) already */
		/* the run of invalid pages from i */
		for (j = i + 1; j < pages; j++)
			if (ma[j] != NULL)
				break;
		vm_kstack_swapin_get(td, ksobj, ma, i, j - i);
		/* vm_object_pip_wakeup: the pages are unbusied below */
		i = j - 1;
	}
	/*
	 * VM_ALLOC_WIRED, then vm_page_xunbusy.  [deviation] a wired stack
	 * page keeps no swap slot and is dirty (see the header).
	 */
	for (i = 0; i < pages; i++) {
		(void)uao_dropswap(ksobj, i);
		atomic_clearbits_int(&ma[i]->pg_flags, PG_CLEAN);
	}
	uvm_lock_pageq();
	for (i = 0; i < pages; i++)
		uvm_pagewire(ma[i]);
	uvm_unlock_pageq();
	uvm_page_unbusy(ma, pages);
	rw_exit(ksobj->vmobjlock);	/* VM_OBJECT_WUNLOCK */
	/* pmap_qenter(td->td_kstack, ma, pages) */
	for (i = 0; i < pages; i++)
		if (pmap_enter(pmap_kernel(), ks + ptoa(i),
		    VM_PAGE_TO_PHYS(ma[i]), VM_PROT_READ | VM_PROT_WRITE,
		    PMAP_WIRED | VM_PROT_READ | VM_PROT_WRITE) != 0)
			panic("vm_thread_swapin: pmap_enter of %#lx (LWP "
			    "%d.%d) failed", (unsigned long)(ks + ptoa(i)),
			    td->l_proc->p_pid, td->l_lid);
	pmap_update(pmap_kernel());
	cpu_thread_swapin(td);
	uvmexp_inc(swapins);
}

/* vm_page_count_severe: FreeBSD's v_free_severe is v_free_min / 2. */
static bool
vm_page_count_severe(void)
{
	return uvmexp_read(free) < uvmexp_read(freemin) / 2;
}

/*
 * vm_cpu_fork: cpu_fork, the machine-dependent part of fork.  A real one
 * copies the parent's pcb and builds the child's first frames on its
 * kernel stack.  Our LWPs run on host stacks and have no pcb: the child
 * has its kernel stack (vm_forkproc saw to it) and starts in user mode,
 * nothing pushed on it.  Without RFPROC (amd64: unshare the user LDT)
 * there is nothing to do.
 * => never sleeps
 */
static void
vm_cpu_fork(struct lwp *td, struct proc *p2, struct lwp *td2, int flags)
{
	if ((flags & RFPROC) == 0)
		return;
	KASSERT(td2 != NULL && td2->l_kstack != 0);
	__atomic_store_n(&td2->l_kstack_sp, 0, __ATOMIC_RELAXED);
}

/*
 * vm_forkproc: Implement fork's actions on an address space.
 * Here we arrange for the address space to be copied or referenced,
 * allocate a user struct (pcb and kernel stack), then call the
 * machine-dependent layer to fill those in and make the new process
 * ready to run.  The new process is set up so that it returns directly
 * to user mode to avoid stack copying and relocation problems.
 * => see vm_glue.h; no locks held; may sleep
 */
int
vm_forkproc(struct lwp *td, struct proc *p2, struct lwp *td2,
    struct vmspace *vm2, int flags)
{
	struct proc *p1 = td->l_proc;
	int error, nwait;

	KASSERT(witness_nheld() == 0);
	if ((flags & RFPROC) == 0) {
		/*
		 * Divorce the memory, if it is shared, essentially
		 * this changes shared memory amongst threads, into
		 * COW locally.
		 */
		if ((flags & RFMEM) == 0) {
			if (__atomic_load_n(&p1->p_vmspace->vm_refcnt,
			    __ATOMIC_ACQUIRE) > 1) {
				/* vmspace_unshare */
				error = uvmspace_unshare(p1);
				if (error)
					return error;
			}
		}
		vm_cpu_fork(td, p2, td2, flags);
		return 0;
	}

	/* [deviation] the child's kernel stack first: see the header */
	KASSERT(td2 != NULL);
	if (td2->l_kstack == 0 && !vm_thread_new(td2, 0))
		return ENOMEM;

	if (flags & RFMEM) {
		/* p2->p_vmspace = p1->p_vmspace; vm_refcnt++ */
		uvmspace_share(p1, p2);
	}

	for (nwait = 0; vm_page_count_severe(); nwait++) {
		/*
		 * [deviation] FreeBSD waits here as long as it takes: when
		 * swap is full its pagedaemon kills the largest process
		 * (vm_pageout_oom).  We have no OOM killer (a process dies of
		 * a fault that finds no swap), so with swap full (or none)
		 * the wait could never end: after VM_FORK_NWAIT waits in vain
		 * the fork fails with ENOMEM instead.
		 */
		if (nwait >= VM_FORK_NWAIT && uvm_swapisfull()) {
			if (flags & RFMEM) {
				struct vmspace *svm;

				mutex_enter(&p2->p_lock);
				svm = p2->p_vmspace;
				p2->p_vmspace = NULL;
				mutex_exit(&p2->p_lock);
				uvmspace_free(svm);	/* the share's reference */
			}
			return ENOMEM;
		}
		uvm_wait("vmforkw");		/* VM_WAIT */
	}

	if ((flags & RFMEM) == 0) {
		KASSERT(vm2 != NULL);
		mutex_enter(&p2->p_lock);
		p2->p_vmspace = vm2;
		mutex_exit(&p2->p_lock);
		/* shmfork(p1, p2): no System V shared memory here */
	}

	/*
	 * cpu_fork will copy and update the pcb, set up the kernel stack,
	 * and make the child ready to run.
	 */
	vm_cpu_fork(td, p2, td2, flags);
	return 0;
}

/*
 * vm_waitproc: Called after process has been wait(2)'ed apon and is
 * being reaped.  The idea is to reclaim resources that we could not
 * reclaim while the process was still executing.
 * => no locks held; may sleep
 */
void
vm_waitproc(struct proc *p)
{
	struct vmspace *vm;

	/* vmspace_exitfree(p): and clean-out the vmspace */
	mutex_enter(&p->p_lock);
	vm = p->p_vmspace;
	p->p_vmspace = NULL;
	mutex_exit(&p->p_lock);
	if (vm != NULL)
		uvmspace_free(vm);
}

/*
 * faultin: bring process p's threads in (their kernel stacks) and make
 * the runnable ones run again.  A second faultin while one is at work
 * (P_SWAPPINGIN) waits for it ("faultin") and returns.
 * => p->p_lock (PROC_LOCK) held on entry and on return, dropped inside;
 *    no other lock held; may sleep
 */
void
faultin(struct proc *p)
{
	struct lwp *td;

	KASSERT(mutex_owned(&p->p_lock));	/* PROC_LOCK_ASSERT */
	/*
	 * [deviation] A swapout at work (P_SWAPPINGOUT, P_INMEM already
	 * clear) is unwiring the stacks with p_lock dropped: wait until it
	 * is done (swapout wakes &p->p_flag), or we would swap in threads
	 * it has not swapped out yet.
	 */
	while ((p->p_flag & P_SWAPPINGOUT) != 0)
		msleep(&p->p_flag, &p->p_lock, PVM, "swapout", 0);
	/*
	 * If another process is swapping in this process,
	 * just wait until it finishes.
	 */
	if (p->p_flag & P_SWAPPINGIN) {
		__atomic_fetch_add(&vm_nfaultinwait, 1, __ATOMIC_RELAXED);
		while (p->p_flag & P_SWAPPINGIN)
			msleep(&p->p_flag, &p->p_lock, PVM, "faultin", 0);
		return;
	}
	if ((p->p_flag & P_INMEM) == 0) {
		/*
		 * Don't let another thread swap process p out while we are
		 * busy swapping it in.
		 */
		++p->p_holdcnt;
		p->p_flag |= P_SWAPPINGIN;
		mutex_exit(&p->p_lock);

		/*
		 * We hold no lock here because the list of threads
		 * can not change while all threads in the process are
		 * swapped out.  (p_lwps is [p] here, but the same holds:
		 * LWPs are added by a running LWP of p, and removed only
		 * once they have exited, which a swapped-out one cannot.)
		 */
		LIST_FOREACH(td, &p->p_lwps, l_sibling)	/* FOREACH_THREAD */
			vm_thread_swapin(td);
		mutex_enter(&p->p_lock);
		swapclear(p);
		p->p_swtick = getticks();

		wakeup(&p->p_flag);

		/* Allow other threads to swap p out now. */
		--p->p_holdcnt;
		__atomic_fetch_add(&vm_nswapin, 1, __ATOMIC_RELAXED);
	}
}

/*
 * swapper: proc0's loop.  This swapin algorithm attempts to swap-in
 * processes only if there is enough space for them.  Of course, if a
 * process waits for a long time, it will be swapped in anyway.
 *
 * (Giant is held on entry: not here.)  [deviation] It returns once
 * vm_swapper_stop has been called; with vm_swap_idle_enabled it also
 * swaps idle processes out (the vm_daemon's VM_SWAP_IDLE), at most once
 * a simulated second.
 * => an LWP (a kernel thread) with no locks held; sleeps
 */
void
swapper(void)
{
	struct proc *p;
	struct lwp *td;
	struct proc *pp;
	int64_t slptime;
	int64_t swtime;
	int64_t ppri;
	int64_t pri;
	uint64_t now, lastidle = 0;
	int timo;

	KASSERT(witness_nheld() == 0);
loop:
	if (__atomic_load_n(&swapper_stopping, __ATOMIC_ACQUIRE))
		return;			/* [deviation] vm_swapper_stop */
	/*
	 * [deviation] the vm_daemon's idle swapping, requested about once
	 * a second as FreeBSD's vm_pageout loop does
	 */
	now = getticks();
	if (__atomic_load_n(&vm_swap_idle_enabled, __ATOMIC_RELAXED) &&
	    (lastidle == 0 || now - lastidle >= (uint64_t)hz)) {
		lastidle = now != 0 ? now : 1;
		swapout_procs(VM_SWAP_IDLE);
	}
	if (vm_page_count_min()) {
		uvm_wait("swapmem");		/* VM_WAIT */
		goto loop;
	}

	pp = NULL;
	ppri = INT64_MIN;
	mutex_enter(proc_lock);			/* sx_slock(&allproc_lock) */
	LIST_FOREACH(p, &allproc, p_list) {	/* FOREACH_PROC_IN_SYSTEM */
		mutex_enter(&p->p_lock);
		/* PRS_NEW: SIDL (or no LWP yet) */
		if (p->p_stat == SIDL ||
		    p->p_flag & (P_SWAPPINGOUT | P_SWAPPINGIN | P_INMEM)) {
			mutex_exit(&p->p_lock);
			continue;
		}
		swtime = (int64_t)(getticks() - p->p_swtick) / hz;
		LIST_FOREACH(td, &p->p_lwps, l_sibling) {
			/*
			 * An otherwise runnable thread of a process
			 * swapped out has only the TDI_SWAPPED bit set.
			 * (Here: LSRUN without LW_INMEM.)
			 */
			lwp_lock(td);		/* thread_lock */
			if (td->l_stat == LSRUN &&
			    (td->l_flag & LW_INMEM) == 0) {
				slptime = (int64_t)(getticks() -
				    td->l_slptick) / hz;
				pri = swtime + slptime;
				/* p_nice: NZERO is FreeBSD's 0 */
				if ((td->l_flag & LW_SWAPINREQ) == 0)
					pri -= (p->p_nice - NZERO) * 8;
				/*
				 * if this thread is higher priority
				 * and there is enough space, then select
				 * this process instead of the previous
				 * selection.
				 */
				if (pri > ppri) {
					pp = p;
					ppri = pri;
				}
			}
			lwp_unlock(td);
		}
		mutex_exit(&p->p_lock);
	}
	mutex_exit(proc_lock);

	/*
	 * Nothing to do, back to sleep.  (Our p stays alive from here: a
	 * process with a runnable thread swapped out cannot exit.)
	 */
	if ((p = pp) == NULL) {
		/*
		 * tsleep(&proc0, PVM, "swapin", MAXSLP * hz / 2);
		 * [deviation] under swapper_mtx, so that a stop between
		 * the check above and the sleep is not lost; a second at
		 * most when idle swapping is on (see above)
		 */
		timo = MAXSLP * hz / 2;
		if (__atomic_load_n(&vm_swap_idle_enabled, __ATOMIC_RELAXED))
			timo = hz;
		mutex_enter(&swapper_mtx);
		if (!__atomic_load_n(&swapper_stopping, __ATOMIC_RELAXED))
			(void)msleep(&proc0, &swapper_mtx, PVM, "swapin",
			    timo);
		mutex_exit(&swapper_mtx);
		goto loop;
	}
	mutex_enter(&p->p_lock);		/* PROC_LOCK */

	/*
	 * Another process may be bringing or may have already
	 * brought this process in while we traverse all threads.
	 * Or, this process may even be being swapped out again.
	 */
	if (p->p_flag & (P_INMEM | P_SWAPPINGOUT | P_SWAPPINGIN)) {
		mutex_exit(&p->p_lock);
		goto loop;
	}

	/*
	 * We would like to bring someone in. (only if there is space).
	 * [What checks the space? ]
	 */
	faultin(p);
	mutex_exit(&p->p_lock);
	goto loop;
}

/*
 * kick_proc0: wake the swapper (a swapped-out thread became runnable:
 * the host's kick hook, host_set_kick_scheduler).
 * => any thread, no lock needed; never sleeps (but for the sleep
 *    queue's host mutex)
 */
void
kick_proc0(void)
{

	wakeup(&proc0);
}

/*
 * Swap_idle_threshold1 is the guaranteed swapped in time for a process
 * (seconds); swap_idle_threshold2 is the time that a process can be idle
 * before it will be swapped out, if idle swapping is enabled (statics
 * at the top; SYSCTL_INT: the accessors at the end).
 */

/*
 * swapout_procs: First, if any processes have been sleeping or stopped
 * for at least "swap_idle_threshold1" seconds, they are swapped out.
 * If, however, no such processes exist, then the longest-sleeping or
 * stopped process is swapped out.  Finally, and only as a last resort,
 * if there are no sleeping or stopped processes, the longest-resident
 * process is swapped out.
 * (The seed's comment: the code swaps every process whose threads all
 * qualify, VM_SWAP_NORMAL; VM_SWAP_IDLE only those idle longer than
 * swap_idle_threshold2.)
 * => no locks held; may sleep (locks, uvmspace_free)
 */
void
swapout_procs(int action)
{
	struct proc *p;
	struct lwp *td;
	int didswap = 0;
	bool sys;
	int rv;

retry:
	mutex_enter(proc_lock);			/* sx_slock(&allproc_lock) */
	LIST_FOREACH(p, &allproc, p_list) {	/* FOREACH_PROC_IN_SYSTEM */
		struct vmspace *vm;
		int minslptime = 100000;
		int slptime;

		/*
		 * Watch out for a process in
		 * creation.  It may have no
		 * address space or lock yet.
		 * (PRS_NEW: SIDL, or no LWP yet.)
		 */
		if (p->p_stat == SIDL || LIST_EMPTY(&p->p_lwps))
			continue;
		/*
		 * An aio daemon switches its
		 * address space while running.
		 * Perform a quick check whether
		 * a process has P_SYSTEM.
		 * ([deviation] under p_lock: p_flag is [P].)
		 */
		mutex_enter(&p->p_lock);
		sys = (p->p_flag & P_SYSTEM) != 0;
		mutex_exit(&p->p_lock);
		if (sys)
			continue;
		/*
		 * Do not swapout a process that
		 * is waiting for VM data
		 * structures as there is a possible
		 * deadlock.  Test this first as
		 * this may block.
		 *
		 * Lock the map until swapout
		 * finishes, or a thread of this
		 * process may attempt to alter
		 * the map.
		 */
		vm = vmspace_acquire_ref(p);
		if (vm == NULL)
			continue;
		if (!vm_map_lock_try(&vm->vm_map))	/* vm_map_trylock */
			goto nextproc1;

		mutex_enter(&p->p_lock);		/* PROC_LOCK */
		if (p->p_holdcnt != 0 ||
		    (p->p_flag & (P_STOPPED_SINGLE|P_TRACED|P_SYSTEM|P_WEXIT)
		    ) != 0) {
			goto nextproc;
		}
		/*
		 * only aiod changes vmspace, however it will be
		 * skipped because of the if statement above checking
		 * for P_SYSTEM
		 */
		if ((p->p_flag & (P_INMEM|P_SWAPPINGOUT|P_SWAPPINGIN)) != P_INMEM)
			goto nextproc;

		switch (p->p_stat) {
		default:
			/* Don't swap out processes in any sort
			 * of 'special' state. */
			break;

		case SACTIVE:		/* PRS_NORMAL */
		case SSTOP:
			/*
			 * do not swapout a realtime process
			 * Check all the thread groups..
			 */
			LIST_FOREACH(td, &p->p_lwps, l_sibling) {
				lwp_lock(td);		/* thread_lock */
				/* PRI_IS_REALTIME(td->td_pri_class) */
				if (td->l_class != SCHED_OTHER) {
					lwp_unlock(td);
					goto nextproc;
				}
				slptime = (int)MIN((getticks() -
				    td->l_slptick) / (uint64_t)hz,
				    (uint64_t)INT_MAX);
				/*
				 * Guarantee swap_idle_threshold1
				 * time in memory.
				 */
				if (slptime < vm_swap_idle_threshold1()) {
					lwp_unlock(td);
					goto nextproc;
				}

				/*
				 * Do not swapout a process if it is
				 * waiting on a critical event of some
				 * kind or there is a thread whose
				 * pageable memory may be accessed.
				 *
				 * This could be refined to support
				 * swapping out a thread.
				 */
				if (!thread_safetoswapout(td)) {
					lwp_unlock(td);
					goto nextproc;
				}
				/*
				 * If the system is under memory stress,
				 * or if we are swapping
				 * idle processes >= swap_idle_threshold2,
				 * then swap the process out.
				 */
				if (((action & VM_SWAP_NORMAL) == 0) &&
				    (((action & VM_SWAP_IDLE) == 0) ||
				    (slptime < vm_swap_idle_threshold2()))) {
					lwp_unlock(td);
					goto nextproc;
				}

				if (minslptime > slptime)
					minslptime = slptime;
				lwp_unlock(td);
			}

			/*
			 * If the pageout daemon didn't free enough pages,
			 * or if this process is idle and the system is
			 * configured to swap proactively, swap it out.
			 */
			if ((action & VM_SWAP_NORMAL) ||
				((action & VM_SWAP_IDLE) &&
				 (minslptime > vm_swap_idle_threshold2()))) {
				rv = swapout(p);
				if (rv == 0) {
					didswap++;
					if ((action & VM_SWAP_NORMAL) == 0)
						__atomic_fetch_add(
						    &vm_nidleswapout, 1,
						    __ATOMIC_RELAXED);
				}
				mutex_exit(&p->p_lock);
				vm_map_unlock(&vm->vm_map);
				uvmspace_free(vm);	/* vmspace_free */
				mutex_exit(proc_lock);
				goto retry;
			}
		}
nextproc:
		mutex_exit(&p->p_lock);
		vm_map_unlock(&vm->vm_map);
nextproc1:
		uvmspace_free(vm);			/* vmspace_free */
		continue;
	}
	mutex_exit(proc_lock);
	/*
	 * If we swapped something out, and another process needed memory,
	 * then wakeup the sched process.
	 */
	if (didswap)
		wakeup(&proc0);
}

/*
 * swapclear: p's threads are in memory again: mark them so, and make
 * those that are runnable run (setrunnable); p is P_INMEM again.
 * => p->p_lock held (PROC_LOCK_ASSERT); p_lwps stable (see faultin and
 *    swapout); never sleeps
 */
void
swapclear(struct proc *p)
{
	struct lwp *td;
	bool wasout;

	KASSERT(mutex_owned(&p->p_lock));	/* PROC_LOCK_ASSERT */

	LIST_FOREACH(td, &p->p_lwps, l_sibling) {	/* FOREACH_THREAD */
		lwp_lock(td);				/* thread_lock */
		wasout = (td->l_flag & LW_INMEM) == 0;
		/* TDF_INMEM; ~TDF_SWAPINREQ; TD_CLR_SWAPPED */
		td->l_flag |= LW_INMEM;
		td->l_flag &= ~LW_SWAPINREQ;
		/*
		 * TD_CAN_RUN: setrunnable.  It leaves a thread that was
		 * not swapped (running or already queued) alone: so do we.
		 */
		if (wasout && td->l_stat == LSRUN) {
			td->l_swtime = 0;
			sched_enqueue(td, false);	/* setrunnable */
		}
		lwp_unlock(td);
	}
	p->p_flag &= ~(P_SWAPPINGIN|P_SWAPPINGOUT);
	p->p_flag |= P_INMEM;
}

/*
 * swapout: swap process p out: mark every thread out of memory, then
 * let its kernel stack be paged out.  EBUSY (and nothing changed) if a
 * thread is not safe to swap out (running, runnable, waiting for a lock).
 * => proc_lock (allproc_lock, which covers p_lwps here) and p->p_lock
 *    held, dropped and retaken inside (p_lock); p in memory, not being
 *    swapped; no VM lock held but p's map (swapout_procs holds it);
 *    never sleeps but for locks
 */
int
swapout(struct proc *p)
{
	struct lwp *td;

	KASSERT(mutex_owned(&p->p_lock));	/* PROC_LOCK_ASSERT */
	KASSERT(mutex_owned(proc_lock));
#if defined(SWAP_DEBUG)
	printf("swapping out %d\n", p->p_pid);
#endif

	/*
	 * The states of this process and its threads may have changed
	 * by now.  Assuming that there is only one pageout daemon thread,
	 * this process should still be in memory.
	 */
	KASSERTMSG((p->p_flag & (P_INMEM|P_SWAPPINGOUT|P_SWAPPINGIN)) ==
	    P_INMEM, "swapout: lost a swapout race?");

	/*
	 * remember the process resident count
	 * (p->p_vmspace->vm_swrss = vmspace_resident_count(p->p_vmspace):
	 * [deviation] not kept: our vmspace has no vm_swrss, and its
	 * resident count is the pmap's, under a lock the VM does not take)
	 */
	/*
	 * Check and mark all threads before we proceed.
	 */
	p->p_flag &= ~P_INMEM;
	p->p_flag |= P_SWAPPINGOUT;
	LIST_FOREACH(td, &p->p_lwps, l_sibling) {	/* FOREACH_THREAD */
		lwp_lock(td);				/* thread_lock */
		if (!thread_safetoswapout(td)) {
			lwp_unlock(td);
			swapclear(p);
			__atomic_fetch_add(&vm_nswapebusy, 1,
			    __ATOMIC_RELAXED);
			return (EBUSY);
		}
		td->l_flag &= ~LW_INMEM;	/* ~TDF_INMEM; TD_SET_SWAPPED */
		td->l_swtime = 0;
		lwp_unlock(td);
	}
	td = LIST_FIRST(&p->p_lwps);		/* FIRST_THREAD_IN_PROC */
	if (td != NULL) {	/* [deviation] none: nothing to count */
		lwp_lock(td);
		++td->l_ru.ru_nswap;
		lwp_unlock(td);
	}
	mutex_exit(&p->p_lock);

	/*
	 * This list is stable because all threads are now prevented from
	 * running.  The list is only modified in the context of a running
	 * thread in this process.  (And we hold proc_lock.)
	 */
	LIST_FOREACH(td, &p->p_lwps, l_sibling)
		vm_thread_swapout(td);

	mutex_enter(&p->p_lock);
	p->p_flag &= ~P_SWAPPINGOUT;
	p->p_swtick = getticks();
	wakeup(&p->p_flag);	/* [deviation] a faultin waiting for us */
	__atomic_fetch_add(&vm_nswapout, 1, __ATOMIC_RELAXED);
	return (0);
}

/* The seed's sysctls. */
int
vm_kstacks(void)
{
	return __atomic_load_n(&kstacks, __ATOMIC_RELAXED);
}

int
vm_kstack_cache_size(void)
{
	return __atomic_load_n(&kstack_cache_size, __ATOMIC_RELAXED);
}

void
vm_kstack_cache_size_set(int size)
{
	__atomic_store_n(&kstack_cache_size, size, __ATOMIC_RELAXED);
}

/* vm_kstack_cache_count: stacks in the cache.  => takes the cache mutex */
int
vm_kstack_cache_count(void)
{
	struct kstack_cache_entry *ks_ce;
	int n = 0;

	mtx_enter(&kstack_cache_mtx);
	for (ks_ce = kstack_cache; ks_ce != NULL; ks_ce = ks_ce->next_ks_entry)
		n++;
	mtx_leave(&kstack_cache_mtx);
	return n;
}

int
vm_max_kstack_used(void)
{
	return __atomic_load_n(&max_kstack_used, __ATOMIC_RELAXED);
}

/* vm_kstack_stats: see vm_glue.h. */
void
vm_kstack_stats(struct vm_kstack_stats *st)
{
	st->ks_new = __atomic_load_n(&kstack_nnew, __ATOMIC_RELAXED);
	st->ks_reused = __atomic_load_n(&kstack_nreused, __ATOMIC_RELAXED);
	st->ks_purged = __atomic_load_n(&kstack_npurged, __ATOMIC_RELAXED);
	st->ks_live = vm_kstacks();
	st->ks_cached = vm_kstack_cache_count();
	st->ks_max_used = vm_max_kstack_used();
}

/*
 * thread_safetoswapout: may td's kernel stack go (FreeBSD: TDF_CANSWAP,
 * set while a thread sleeps interruptibly or is stopped)?  It sleeps
 * (LSSLEEP) or is stopped (LSSTOP), on something else than a lock (a
 * lock waiter holds kernel state others wait for: l_syncobj
 * mutex_syncobj or rw_syncobj), is off its CPU (not LP_RUNNING), and
 * [deviation] has a kernel stack (the host's lwp_create LWPs, tests
 * only, have none).
 * => lwp_lock(td) held; never sleeps
 */
static bool
thread_safetoswapout(struct lwp *td)
{
	KASSERT(mutex_owned(&td->l_lock));
	if (td->l_stat != LSSLEEP && td->l_stat != LSSTOP)
		return false;
	if (td->l_syncobj == &mutex_syncobj || td->l_syncobj == &rw_syncobj)
		return false;
	if ((td->l_pflag & LP_RUNNING) != 0)
		return false;
	/*
	 * [deviation] a sleeper holding kernel locks: vm_thread_swapout's
	 * unwiring takes VM locks it might hold (TDF_CANSWAP is cleared for
	 * such sleeps in FreeBSD)
	 */
	if (td->l_locksheld)
		return false;
	return __atomic_load_n(&td->l_kstack, __ATOMIC_RELAXED) != 0;
}

/* vm_page_count_min: FreeBSD's v_free_min > v_free_count (+ cache). */
static bool
vm_page_count_min(void)
{
	return uvmexp_read(free) < uvmexp_read(freemin);
}

/*
 * vmspace_acquire_ref: a reference to p's vmspace, or NULL if it has
 * none (FreeBSD also refuses a dying one: ours is set to NULL under
 * p_lock before its last reference goes, so one seen under p_lock is
 * alive).
 * => p_lock not held (taken inside); never sleeps but for it
 */
static struct vmspace *
vmspace_acquire_ref(struct proc *p)
{
	struct vmspace *vm;

	mutex_enter(&p->p_lock);
	vm = p->p_vmspace;
	if (vm != NULL)
		uvmspace_addref(vm);
	mutex_exit(&p->p_lock);
	return vm;
}

/*
 * The kernel-stack canary (see the top of the file).
 */
static uint64_t
kstack_magic(const struct lwp *td, const uint64_t *w)
{
	return KSTACK_MAGIC ^ (uint64_t)(uintptr_t)w ^
	    ((uint64_t)(uintptr_t)td << 1);
}

/* kstack_setup_canary: write td's canary at ks.  => ks is td's, unused */
static void
kstack_setup_canary(struct lwp *td, vaddr_t ks)
{
	uint64_t *w = (uint64_t *)ks;
	int i;

	CTASSERT(KSTACK_NCANARY * sizeof(uint64_t) < PAGE_SIZE);
	for (i = 0; i < KSTACK_NCANARY; i++)
		w[i] = kstack_magic(td, &w[i]);
}

/*
 * vm_thread_check: see vm_glue.h.
 * => never sleeps, takes no lock; td's stack resident (LW_INMEM)
 */
void
vm_thread_check(struct lwp *td, const char *when)
{
	const uint64_t *w;
	uint64_t want;
	vaddr_t ks;
	int i;

	ks = __atomic_load_n(&td->l_kstack, __ATOMIC_ACQUIRE);
	if (ks == 0)
		return;
	for (i = 0; i < KSTACK_NCANARY; i++) {
		w = (const uint64_t *)ks + i;
		want = kstack_magic(td, w);
		if (*w != want)
			panic("kstack canary (%s): LWP %d.%d (%s) stack %#lx: "
			    "bad word at +%#x: %#" PRIx64 ", want %#" PRIx64,
			    when, td->l_proc != NULL ? td->l_proc->p_pid : -1,
			    td->l_lid, td->l_name, (unsigned long)ks,
			    (unsigned)((vaddr_t)w - ks), *w, want);
	}
}

/*
 * vm_thread_resident: see vm_glue.h.
 * => no lock held (the stack's object read-locked inside); td in memory
 *    and not being swapped; never sleeps but for the object lock
 */
bool
vm_thread_resident(struct lwp *td, char *why, size_t len)
{
	struct uvm_object *ksobj;
	struct vm_page *pg;
	vaddr_t ks;
	paddr_t pa;
	int i, pages;
	bool ok = true;

	ks = __atomic_load_n(&td->l_kstack, __ATOMIC_ACQUIRE);
	if (ks == 0)
		return true;		/* no kernel stack: nothing to hold */
	pages = __atomic_load_n(&td->l_kstack_pages, __ATOMIC_RELAXED);
	ksobj = __atomic_load_n(&td->l_kstack_obj, __ATOMIC_RELAXED);
	rw_enter(ksobj->vmobjlock, RW_READ);
	for (i = 0; i < pages && ok; i++) {
		pg = uvm_pagelookup(ksobj, ptoa(i));
		if (pg == NULL) {
			snprintf(why, len, "LWP %d.%d kstack %#lx: page %d is "
			    "not in its object", td->l_proc->p_pid, td->l_lid,
			    (unsigned long)ks, i);
			ok = false;
		} else if (pg->wire_count == 0) {
			snprintf(why, len, "LWP %d.%d kstack %#lx: page %d "
			    "(%#lx) is not wired", td->l_proc->p_pid,
			    td->l_lid, (unsigned long)ks, i,
			    (unsigned long)VM_PAGE_TO_PHYS(pg));
			ok = false;
		} else if (!pmap_extract(pmap_kernel(), ks + ptoa(i), &pa)) {
			snprintf(why, len, "LWP %d.%d kstack %#lx: page %d is "
			    "not mapped at %#lx", td->l_proc->p_pid,
			    td->l_lid, (unsigned long)ks, i,
			    (unsigned long)(ks + ptoa(i)));
			ok = false;
		} else if (pa != VM_PAGE_TO_PHYS(pg)) {
			snprintf(why, len, "LWP %d.%d kstack %#lx: %#lx maps "
			    "%#lx, not its page %#lx", td->l_proc->p_pid,
			    td->l_lid, (unsigned long)ks,
			    (unsigned long)(ks + ptoa(i)), (unsigned long)pa,
			    (unsigned long)VM_PAGE_TO_PHYS(pg));
			ok = false;
		}
	}
	rw_exit(ksobj->vmobjlock);
	return ok;
}

/*
 * FreeBSD's PHOLD/_PHOLD/PRELE/_PRELE: a held process (p_holdcnt > 0,
 * FreeBSD's p_lock) is not swapped out, and holding one brings it in.
 * _PRELE: FreeBSD also wakes an exiting process waiting for its holds
 * to go (kern_exit's wait on &p->p_lock); our exit does not wait for
 * them: nothing to wake.
 */
void
vm_phold_locked(struct proc *p)
{
	KASSERT(mutex_owned(&p->p_lock));	/* PROC_LOCK_ASSERT */
	KASSERTMSG(!(p->p_flag & P_WEXIT) || p == curproc,
	    "PHOLD of exiting process");
	p->p_holdcnt++;
	if ((p->p_flag & P_INMEM) == 0)
		faultin(p);
}

void
vm_phold(struct proc *p)
{
	mutex_enter(&p->p_lock);		/* PROC_LOCK */
	vm_phold_locked(p);
	mutex_exit(&p->p_lock);
}

void
vm_prele_locked(struct proc *p)
{
	KASSERT(mutex_owned(&p->p_lock));
	KASSERTMSG(p->p_holdcnt > 0, "process %d not held", p->p_pid);
	--p->p_holdcnt;
}

void
vm_prele(struct proc *p)
{
	mutex_enter(&p->p_lock);
	vm_prele_locked(p);
	mutex_exit(&p->p_lock);
}

/* The swapper's sysctls (vm.swap_idle_threshold1/2, vm.swap_idle_enabled). */
int
vm_swap_idle_threshold1(void)
{
	return __atomic_load_n(&swap_idle_threshold1, __ATOMIC_RELAXED);
}

void
vm_swap_idle_threshold1_set(int secs)
{
	__atomic_store_n(&swap_idle_threshold1, secs, __ATOMIC_RELAXED);
}

int
vm_swap_idle_threshold2(void)
{
	return __atomic_load_n(&swap_idle_threshold2, __ATOMIC_RELAXED);
}

void
vm_swap_idle_threshold2_set(int secs)
{
	__atomic_store_n(&swap_idle_threshold2, secs, __ATOMIC_RELAXED);
}

void
vm_swap_idle_enabled_set(bool on)
{
	__atomic_store_n(&vm_swap_idle_enabled, on, __ATOMIC_RELAXED);
}

/*
 * vm_swapper_stop/vm_swapper_reset: see vm_glue.h.
 * => no lock held (swapper_mtx taken inside)
 */
void
vm_swapper_stop(void)
{
	mutex_enter(&swapper_mtx);
	__atomic_store_n(&swapper_stopping, true, __ATOMIC_RELEASE);
	wakeup(&proc0);
	mutex_exit(&swapper_mtx);
}

void
vm_swapper_reset(void)
{
	mutex_enter(&swapper_mtx);
	__atomic_store_n(&swapper_stopping, false, __ATOMIC_RELEASE);
	mutex_exit(&swapper_mtx);
}

/* vm_swap_stats: see vm_glue.h. */
void
vm_swap_stats(struct vm_swap_stats *st)
{
	st->vs_proc_swapouts = __atomic_load_n(&vm_nswapout,
	    __ATOMIC_RELAXED);
	st->vs_proc_swapins = __atomic_load_n(&vm_nswapin, __ATOMIC_RELAXED);
	st->vs_busy = __atomic_load_n(&vm_nswapebusy, __ATOMIC_RELAXED);
	st->vs_pages_in = __atomic_load_n(&vm_nstackpagesin, __ATOMIC_RELAXED);
	st->vs_faultin_waits = __atomic_load_n(&vm_nfaultinwait,
	    __ATOMIC_RELAXED);
	st->vs_idle_swapouts = __atomic_load_n(&vm_nidleswapout,
	    __ATOMIC_RELAXED);
}
