/*
 * vm/vm_glue.c: the process half of the seed FreeBSD sys/vm/vm_glue.c
 * (2015, seed 001): kernacc, useracc, vslock, vsunlock, the kernel
 * stacks (vm_thread_new, vm_thread_stack_dispose, vm_thread_dispose,
 * vm_thread_stack_lowmem, kstack_cache_init), intr_prof_stack_use,
 * vm_forkproc and vm_waitproc.  Not here yet: vm_imgact_* and
 * vm_sync_icache; vm_thread_swapout/swapin, faultin, swapper, kick_proc0,
 * swapout_procs, swapclear, swapout.  See vm_glue.h.
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
 *    are public (vm_glue_init and tests call them).
 */
#include <stdint.h>
#include <string.h>

#include "host/clock.h"
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

/* local prototypes */
static int kstack_guard_get(struct uvm_object *, voff_t, struct vm_page **,
    int *, int, vm_prot_t, int, int);
static vaddr_t vm_kstack_kva_alloc(struct uvm_object *, int);
static struct vm_page *vm_kstack_grab(struct uvm_object *, int);
static void vm_thread_stack_dispose(struct uvm_object *, vaddr_t, int);
static void vm_glue_clock_intr(void);
static bool vm_page_count_severe(void);
static void vm_cpu_fork(struct lwp *, struct proc *, struct lwp *, int);

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
