/*
 * vm/uvm_page.c: physical pages: the free lists, the paging queues,
 * object page lookup, busy/wanted/released, page-owner debugging.
 *
 * Design (OpenBSD 2022 uvm_page.c, with the free-list side of
 * uvm_pmemrange.c reduced to two lists):
 *
 *  - Free pages sit on uvm.page_free[UVM_FREELIST_DMA] (frames inside
 *    dma_constraint: the low 1/8 of RAM, at least 64 pages) or
 *    uvm.page_free[UVM_FREELIST_DEFAULT] (the rest), FIFO, under
 *    uvm.fpageqlock, with PQ_FREE set.  uvmexp.free counts them; it is
 *    changed only under uvm.fpageqlock, always with an atomic operation,
 *    so that others (the pagedaemon under uvm.pageqlock) may read it with
 *    uvmexp_read() without the free list lock.
 *  - Allocated pages are on uvm.page_active or uvm.page_inactive
 *    (uvm.pageqlock, PQ_ACTIVE/PQ_INACTIVE, uvmexp.active/inactive), or
 *    wired (wire_count > 0, on no queue, uvmexp.wired), or on no queue at
 *    all (just allocated and busy; pool and kernel pages; pglist pages).
 *    The counters are changed under uvm.pageqlock with atomic operations.
 *  - Object pages are in their object's red-black tree (PG_TABLED,
 *    uo_npages), under the object's lock; anon pages hang off their anon
 *    (PQ_ANON, uvmexp.anonpages).
 *  - pg_flags holds the owner's PG_* bits and the queues' PQ_* bits; it
 *    is only changed with atomic bit operations (PQ_FREE under
 *    uvm.fpageqlock, the other PQ_* under uvm.pageqlock, PG_* under the
 *    owner's lock).
 *  - Reserves: an ordinary allocation leaves reserve_kernel pages; the
 *    kernel (UVM_PGA_USERESERVE, kernel objects, uvm_pglistalloc) may go
 *    down to reserve_pagedaemon; the pagedaemon may take the last page.
 *  - Allocation never sleeps: a failed allocation returns NULL and the
 *    caller decides (uvm_wait when a pagedaemon runs, ENOMEM otherwise).
 *    Only uvm_pglistalloc(UVM_PLA_WAITOK) sleeps, on a pma request the
 *    pagedaemon serves (and frees wake: UVM_PMA_FREED).
 *
 * Lock order: owner (amap or object) > uvm.pageqlock > uvm.fpageqlock.
 */
#include <string.h>

#include "host/lwp.h"
#include "host/pmap.h"
#include "uvm.h"
#include "uvm_anon.h"
#include "uvm_aobj.h"
#include "uvm_object.h"
#include "uvm_pager.h"
#include "uvm_pdaemon.h"

struct uvm_constraint_range no_constraint;	/* [I] all of RAM */
struct uvm_constraint_range dma_constraint;	/* [I] the low 1/8, >= 64 pages */

#define UVM_DMA_MINPAGES	64	/* the DMA range has at least this */

/* local prototypes */
static int uvm_page_curowner(void);
static bool uvm_page_is_pagedaemon(void);
static int uvm_page_floor(bool kernel);
static int uvm_page_freelist_of(const struct vm_page *pg);
static struct vm_page *uvm_pagefree_take(int floor);
static void uvm_page_claim(struct vm_page *pg);
static void uvm_pagefree_locked(struct vm_page *pg);
static void uvm_page_release_locked(struct vm_page *pg);
static void uvm_pagedaemon_kick_locked(void);
static void uvm_wakeup_pla(paddr_t frame, psize_t npages);
static void uvm_pageinsert(struct vm_page *pg);
static void uvm_pageremove(struct vm_page *pg);
static int uvm_pglist_take_scattered(paddr_t low, paddr_t high,
    psize_t npages, struct pglist *rlist);
static int uvm_pglist_take_contig(paddr_t low, paddr_t high,
    psize_t npages, paddr_t alignpg, paddr_t boundpg, struct pglist *rlist);

/*
 * uvm_page_init: build the free lists from the machine's vm_page array,
 * set the page counters and targets, init the page queue locks.
 *
 * => at boot (uvm_init), single-threaded, after host_boot
 */
void
uvm_page_init(void)
{
	struct vm_page *pg;
	uint64_t i, dmapages;
	int fl;

	KASSERT(vm_page_array != NULL && vm_npages >= ARENA_MIN_PAGES);

	dmapages = MAX(vm_npages / 8, (uint64_t)UVM_DMA_MINPAGES);
	dmapages = MIN(dmapages, vm_npages);
	no_constraint.ucr_low = 0;
	no_constraint.ucr_high = vm_npages;
	dma_constraint.ucr_low = 0;
	dma_constraint.ucr_high = dmapages;

	mutex_init_class(&uvm.pageqlock, MUTEX_DEFAULT, IPL_VM, "pageqlock");
	mutex_init_class(&uvm.fpageqlock, MUTEX_DEFAULT, IPL_VM, "fpageqlock");
	TAILQ_INIT(&uvm.page_active);
	TAILQ_INIT(&uvm.page_inactive);
	for (fl = 0; fl < UVM_NFREELIST; fl++)
		TAILQ_INIT(&uvm.page_free[fl]);
	TAILQ_INIT(&uvm.pmr_control.allocs);

	for (i = 0; i < vm_npages; i++) {
		pg = &vm_page_array[i];
		KASSERT(pg->phys_addr == ptoa(i));
		memset(&pg->objt, 0, sizeof(pg->objt));
		pg->uobject = NULL;
		pg->uanon = NULL;
		pg->offset = 0;
		pg->pg_version = 0;
		pg->wire_count = 0;
		pg->loan_count = 0;
		pg->owner = -1;
		pg->owner_tag = NULL;
		pg->free_list = uvm_page_freelist_of(pg);
		__atomic_store_n(&pg->pg_flags, PQ_FREE, __ATOMIC_RELAXED);
		TAILQ_INSERT_TAIL(&uvm.page_free[pg->free_list], pg, pageq);
	}

	uvmexp.npages = (int)vm_npages;
	uvmexp.free = (int)vm_npages;
	uvmexp.active = uvmexp.inactive = uvmexp.wired = 0;
	uvmexp.anonpages = 0;

	/* reserves (OpenBSD's values) */
	uvmexp.reserve_pagedaemon = 4;
	uvmexp.reserve_kernel = 8;

	/* uvmpd_tune's defaults; the pagedaemon retunes when it starts */
	uvmexp.freemin = MAX(uvmexp.npages / 30, (16 * 1024) >> PAGE_SHIFT);
	if (uvmexp.freemin < uvmexp.reserve_kernel + 1)
		uvmexp.freemin = uvmexp.reserve_kernel + 1;
	uvmexp.freetarg = (uvmexp.freemin * 4) / 3;
	if (uvmexp.freetarg <= uvmexp.freemin)
		uvmexp.freetarg = uvmexp.freemin + 1;
	uvmexp.inactarg = uvmexp.freetarg + 1;
	uvmexp.wiredmax = uvmexp.npages / 3;

	uvm.page_init_done = true;
}

/*
 * uvm_page_curowner: the owner id page-owner debugging records: the pid
 * of the calling LWP's process, or -1 for a host thread that is no LWP.
 */
static int
uvm_page_curowner(void)
{
	struct proc *p = curproc;

	return p != NULL ? (int)p->p_pid : -1;
}

/* Is the caller the pagedaemon (its process)? */
static bool
uvm_page_is_pagedaemon(void)
{
	struct proc *p = curproc;

	return p != NULL &&
	    p == __atomic_load_n(&uvm.pagedaemon_proc, __ATOMIC_ACQUIRE);
}

/*
 * uvm_page_floor: how many pages an allocation must leave free.
 * => reserve_kernel and reserve_pagedaemon are [I]
 */
static int
uvm_page_floor(bool kernel)
{
	if (uvm_page_is_pagedaemon())
		return 0;
	return kernel ? uvmexp.reserve_pagedaemon : uvmexp.reserve_kernel;
}

/* Which free list a frame belongs on. */
static int
uvm_page_freelist_of(const struct vm_page *pg)
{
	return atop(VM_PAGE_TO_PHYS(pg)) < dma_constraint.ucr_high ?
	    UVM_FREELIST_DMA : UVM_FREELIST_DEFAULT;
}

/*
 * uvm_page_owner_locked_p: is pg's owner locked (write) by the caller?
 * => pages with no owner, and anons with no lock, count as locked
 */
bool
uvm_page_owner_locked_p(struct vm_page *pg)
{
	if (pg->uobject != NULL)
		return rw_write_held(pg->uobject->vmobjlock);
	if (pg->uanon != NULL && pg->uanon->an_lock != NULL)
		return rw_write_held(pg->uanon->an_lock);
	return true;
}

/*
 * uvm_pagefree_take: take one page off the free lists (DEFAULT first,
 * then DMA) if that leaves at least `floor` free.
 * => uvm.fpageqlock held
 */
static struct vm_page *
uvm_pagefree_take(int floor)
{
	struct vm_page *pg;

	MUTEX_ASSERT_LOCKED(&uvm.fpageqlock);
	if (uvmexp_read(free) - 1 < floor)
		return NULL;
	pg = TAILQ_FIRST(&uvm.page_free[UVM_FREELIST_DEFAULT]);
	if (pg == NULL)
		pg = TAILQ_FIRST(&uvm.page_free[UVM_FREELIST_DMA]);
	if (pg == NULL)
		return NULL;
	uvm_page_claim(pg);
	return pg;
}

/*
 * uvm_page_claim: take a free page off its free list.  It comes back
 * with no flags, no owner, on no queue.
 * => uvm.fpageqlock held
 */
static void
uvm_page_claim(struct vm_page *pg)
{
	MUTEX_ASSERT_LOCKED(&uvm.fpageqlock);
	KASSERTMSG((pg_flags_load(pg) & PQ_FREE) != 0,
	    "uvm_page_claim: page %p (frame %lu) on a free list is not free",
	    (void *)pg, (unsigned long)atop(VM_PAGE_TO_PHYS(pg)));
	KASSERT(pg->uobject == NULL && pg->uanon == NULL);
	KASSERT(pg->wire_count == 0);
	TAILQ_REMOVE(&uvm.page_free[pg->free_list], pg, pageq);
	__atomic_store_n(&pg->pg_flags, 0, __ATOMIC_RELEASE);
	uvmexp_add(free, -1);
}

/*
 * uvm_pagedaemon_kick_locked: wake the pagedaemon if free memory is
 * short (below freemin, or below freetarg with too few inactive pages).
 * Harmless when no pagedaemon runs: nobody sleeps on the channel.
 * => uvm.fpageqlock held (the pagedaemon sleeps on it)
 */
static void
uvm_pagedaemon_kick_locked(void)
{
	int free = uvmexp_read(free);

	MUTEX_ASSERT_LOCKED(&uvm.fpageqlock);
	if (free < uvmexp_read(freemin) ||
	    (free < uvmexp_read(freetarg) &&
	    uvmexp_read(inactive) < uvmexp_read(inactarg)))
		wakeup(&uvm.pagedaemon);
}

/*
 * uvm_pagealloc: allocate a page for obj at off, or for anon, or for
 * nobody.  See uvm_page.h for the contract.
 *
 * => obj (write) or anon's an_lock (if any) held; never both owners
 * => never sleeps
 */
struct vm_page *
uvm_pagealloc(struct uvm_object *obj, voff_t off, struct vm_anon *anon,
    int flags)
{
	struct vm_page *pg;
	uint32_t pflags;
	bool kernel;

	KASSERT(obj == NULL || anon == NULL);
	KASSERT(anon == NULL || off == 0);
	KASSERT(off == trunc_page(off));
	KASSERT(obj == NULL || rw_write_held(obj->vmobjlock));
	KASSERT(anon == NULL || anon->an_lock == NULL ||
	    rw_write_held(anon->an_lock));
	KASSERT(anon == NULL || anon->an_page == NULL);
	KASSERT(!mutex_owned(&uvm.fpageqlock));

	kernel = (flags & UVM_PGA_USERESERVE) != 0 ||
	    (obj != NULL && UVM_OBJ_IS_KERN_OBJECT(obj));

	uvm_lock_fpageq();
	pg = uvm_pagefree_take(uvm_page_floor(kernel));
	uvm_pagedaemon_kick_locked();
	uvm_unlock_fpageq();
	if (pg == NULL)
		return NULL;

	/* The page is ours alone now: give it its identity. */
	pg->offset = off;
	pg->uobject = obj;
	pg->uanon = anon;
	__atomic_store_n(&pg->pg_version, pg->pg_version + 1,
	    __ATOMIC_RELAXED);	/* read unlocked by read-ahead */
	pg->loan_count = 0;
	pg->owner_tag = NULL;
	pflags = PG_BUSY | PG_FAKE | PG_CLEAN;
	if (anon != NULL) {
		pflags |= PQ_ANON;
		uvmexp_inc(anonpages);
	} else if (obj != NULL && UVM_OBJ_IS_AOBJ(obj)) {
		pflags |= PQ_AOBJ;
	}
	atomic_setbits_int(&pg->pg_flags, pflags);
	if (anon != NULL)
		anon->an_page = pg;
	else if (obj != NULL)
		uvm_pageinsert(pg);
	UVM_PAGE_OWN(pg, "new alloc");

	if (flags & UVM_PGA_ZERO)
		uvm_pagezero(pg);
	return pg;
}

/*
 * uvm_pageinsert: put pg in its object's tree.
 * => object locked (write); pg->uobject and pg->offset set
 */
static void
uvm_pageinsert(struct vm_page *pg)
{
	struct uvm_object *uobj = pg->uobject;
	struct vm_page *dup;

	KASSERT(rw_write_held(uobj->vmobjlock));
	KASSERT((pg_flags_load(pg) & PG_TABLED) == 0);
	dup = RB_INSERT(uvm_objtree, &uobj->memt, pg);
	KASSERTMSG(dup == NULL, "uvm_pageinsert: object %p already has page "
	    "%p at offset 0x%llx", (void *)uobj, (void *)dup,
	    (unsigned long long)pg->offset);
	atomic_setbits_int(&pg->pg_flags, PG_TABLED);
	uobj->uo_npages++;
}

/*
 * uvm_pageremove: take pg out of its object's tree.
 * => object locked (write)
 */
static void
uvm_pageremove(struct vm_page *pg)
{
	struct uvm_object *uobj = pg->uobject;

	KASSERT(rw_write_held(uobj->vmobjlock));
	KASSERT(pg_flags_load(pg) & PG_TABLED);
	RB_REMOVE(uvm_objtree, &uobj->memt, pg);
	atomic_clearbits_int(&pg->pg_flags, PG_TABLED);
	uobj->uo_npages--;
	KASSERT(uobj->uo_npages >= 0);
}

/*
 * uvm_pagerealloc: move pg to newobj at newoff (or out of any object).
 * => both owners locked (write); the page queues are taken inside (the
 *    pagedaemon reads pg->uobject under them)
 */
void
uvm_pagerealloc(struct vm_page *pg, struct uvm_object *newobj, voff_t newoff)
{
	KASSERT(newobj == NULL || rw_write_held(newobj->vmobjlock));
	KASSERT(pg->uanon == NULL);

	if (pg->uobject != NULL)
		uvm_pageremove(pg);
	uvm_lock_pageq();
	pg->uobject = newobj;
	pg->offset = newoff;
	uvm_unlock_pageq();
	if (newobj != NULL) {
		if (UVM_OBJ_IS_AOBJ(newobj))
			atomic_setbits_int(&pg->pg_flags, PQ_AOBJ);
		else
			atomic_clearbits_int(&pg->pg_flags, PQ_AOBJ);
		uvm_pageinsert(pg);
	} else {
		atomic_clearbits_int(&pg->pg_flags, PQ_AOBJ);
	}
}

/*
 * uvm_pagelookup: the page of obj at off, or NULL.
 * => obj locked (either way)
 */
struct vm_page *
uvm_pagelookup(struct uvm_object *obj, voff_t off)
{
	struct vm_page key;

	KASSERT(rw_lock_held(obj->vmobjlock));
	key.offset = off;
	return RB_FIND(uvm_objtree, &obj->memt, &key);
}

/*
 * uvm_pagefree: see uvm_page.h.
 *
 * => page queues held or not (taken inside if not); owner locked;
 *    mappings gone; never sleeps
 */
void
uvm_pagefree(struct vm_page *pg)
{
	bool pageq_held = mutex_owned(&uvm.pageqlock);

	KASSERT(!mutex_owned(&uvm.fpageqlock));
	if (!pageq_held)
		uvm_lock_pageq();
	uvm_pagefree_locked(pg);
	if (!pageq_held)
		uvm_unlock_pageq();
}

/*
 * uvm_pagefree_locked: the work of uvm_pagefree.
 * => page queues locked
 */
static void
uvm_pagefree_locked(struct vm_page *pg)
{
	uint32_t flags = pg_flags_load(pg);

	MUTEX_ASSERT_LOCKED(&uvm.pageqlock);
	KASSERTMSG((flags & PQ_FREE) == 0,
	    "uvm_pagefree: page %p (frame %lu) is already free", (void *)pg,
	    (unsigned long)atop(VM_PAGE_TO_PHYS(pg)));
	KASSERT((flags & PG_DEV) == 0);
	KASSERT(pg->loan_count == 0);
	KASSERT(uvm_page_owner_locked_p(pg));
	if ((flags & PG_BUSY) != 0 &&
	    (pg->uobject != NULL || pg->uanon != NULL)) {
		int me = uvm_page_curowner();

		KASSERTMSG(pg->owner_tag != NULL && pg->owner == me,
		    "uvm_pagefree: page %p (frame %lu) is busy, owned by %d "
		    "[%s], freed by %d", (void *)pg,
		    (unsigned long)atop(VM_PAGE_TO_PHYS(pg)), pg->owner,
		    pg->owner_tag != NULL ? pg->owner_tag : "no tag", me);
	}

	/* out of its owner */
	if (flags & PG_TABLED)
		uvm_pageremove(pg);
	if (pg->uanon != NULL) {
		pg->uanon->an_page = NULL;
		pg->uanon = NULL;
	}
	if (flags & PQ_ANON)
		uvmexp_add(anonpages, -1);
	pg->uobject = NULL;
	pg->offset = 0;

	/* off its queue; unwired */
	uvm_pagedequeue(pg);
	if (pg->wire_count != 0) {
		pg->wire_count = 0;
		uvmexp_add(wired, -1);
	}

	if (flags & PG_WANTED)
		wakeup(pg);
	pg->owner_tag = NULL;

	uvm_lock_fpageq();
	uvm_page_release_locked(pg);
	uvm_unlock_fpageq();
}

/*
 * uvm_page_release_locked: put an ownerless page on its free list.
 * Wakes pma requests the frame satisfies and, while memory is at the
 * kernel reserve, uvm_wait sleepers.
 * => uvm.fpageqlock held
 */
static void
uvm_page_release_locked(struct vm_page *pg)
{
	int free;

	MUTEX_ASSERT_LOCKED(&uvm.fpageqlock);
	KASSERT(pg->uobject == NULL && pg->uanon == NULL);
	KASSERT(pg->wire_count == 0);
	__atomic_store_n(&pg->pg_flags, PQ_FREE, __ATOMIC_RELEASE);
	pg->free_list = uvm_page_freelist_of(pg);
	TAILQ_INSERT_TAIL(&uvm.page_free[pg->free_list], pg, pageq);
	free = uvmexp_add(free, 1) + 1;
	if (!TAILQ_EMPTY(&uvm.pmr_control.allocs))
		uvm_wakeup_pla(atop(VM_PAGE_TO_PHYS(pg)), 1);
	if (free <= uvmexp.reserve_kernel + 1)
		wakeup(&uvmexp.free);
}

/*
 * uvm_wakeup_pla: frames [frame, frame + npages) were freed: mark the
 * pma requests whose range they touch UVM_PMA_FREED, and wake those the
 * pagedaemon is not working on (OpenBSD uvm_wakeup_pla).
 * => uvm.fpageqlock held
 */
static void
uvm_wakeup_pla(paddr_t frame, psize_t npages)
{
	struct uvm_pmalloc *pma, *next;
	paddr_t high = frame + npages;

	MUTEX_ASSERT_LOCKED(&uvm.fpageqlock);
	for (pma = TAILQ_FIRST(&uvm.pmr_control.allocs); pma != NULL;
	    pma = next) {
		next = TAILQ_NEXT(pma, pmq);
		if (frame < pma->pm_constraint.ucr_high &&
		    high > pma->pm_constraint.ucr_low) {
			pma->pm_flags |= UVM_PMA_FREED;
			if ((pma->pm_flags & UVM_PMA_BUSY) == 0) {
				pma->pm_flags &= ~UVM_PMA_LINKED;
				TAILQ_REMOVE(&uvm.pmr_control.allocs, pma, pmq);
				wakeup(pma);
			}
		}
	}
}

/*
 * Queue moves.  A page is on at most one of the active and inactive
 * queues, and on neither while wired.
 * => page queues locked; owner locked
 */

/* uvm_pagedequeue: take pg off the active or inactive queue. */
void
uvm_pagedequeue(struct vm_page *pg)
{
	uint32_t flags = pg_flags_load(pg);

	MUTEX_ASSERT_LOCKED(&uvm.pageqlock);
	if (flags & PQ_ACTIVE) {
		TAILQ_REMOVE(&uvm.page_active, pg, pageq);
		atomic_clearbits_int(&pg->pg_flags, PQ_ACTIVE);
		uvmexp_add(active, -1);
	}
	if (flags & PQ_INACTIVE) {
		TAILQ_REMOVE(&uvm.page_inactive, pg, pageq);
		atomic_clearbits_int(&pg->pg_flags, PQ_INACTIVE);
		uvmexp_add(inactive, -1);
	}
}

/* uvm_pageactivate: put pg at the tail of the active queue (unless wired). */
void
uvm_pageactivate(struct vm_page *pg)
{
	MUTEX_ASSERT_LOCKED(&uvm.pageqlock);
	KASSERT(uvm_page_owner_locked_p(pg));
	KASSERT((pg_flags_load(pg) & PQ_FREE) == 0);

	uvm_pagedequeue(pg);
	if (pg->wire_count == 0) {
		TAILQ_INSERT_TAIL(&uvm.page_active, pg, pageq);
		atomic_setbits_int(&pg->pg_flags, PQ_ACTIVE);
		uvmexp_inc(active);
	}
}

/*
 * uvm_pagedeactivate: move pg to the inactive queue, clearing its
 * reference bit (so the pagedaemon sees whether it is used again) and
 * resyncing PG_CLEAN with the modified bit, as BSD does.
 */
void
uvm_pagedeactivate(struct vm_page *pg)
{
	uint32_t flags = pg_flags_load(pg);

	MUTEX_ASSERT_LOCKED(&uvm.pageqlock);
	KASSERT(uvm_page_owner_locked_p(pg));
	KASSERT((flags & PQ_FREE) == 0);

	if (flags & PQ_ACTIVE) {
		TAILQ_REMOVE(&uvm.page_active, pg, pageq);
		atomic_clearbits_int(&pg->pg_flags, PQ_ACTIVE);
		uvmexp_add(active, -1);
	}
	if ((flags & PQ_INACTIVE) == 0) {
		KASSERT(pg->wire_count == 0);
		TAILQ_INSERT_TAIL(&uvm.page_inactive, pg, pageq);
		atomic_setbits_int(&pg->pg_flags, PQ_INACTIVE);
		uvmexp_inc(inactive);
		pmap_clear_reference(pg);
		if ((flags & PG_CLEAN) != 0 && pmap_is_modified(pg))
			atomic_clearbits_int(&pg->pg_flags, PG_CLEAN);
	}
}

/* uvm_pagewire: wire pg (one more wiring); off the queues. */
void
uvm_pagewire(struct vm_page *pg)
{
	MUTEX_ASSERT_LOCKED(&uvm.pageqlock);
	KASSERT(uvm_page_owner_locked_p(pg));
	KASSERT((pg_flags_load(pg) & PQ_FREE) == 0);

	if (pg->wire_count == 0) {
		uvm_pagedequeue(pg);
		uvmexp_inc(wired);
	}
	pg->wire_count++;
}

/* uvm_pageunwire: drop one wiring; the last puts pg on the active queue. */
void
uvm_pageunwire(struct vm_page *pg)
{
	MUTEX_ASSERT_LOCKED(&uvm.pageqlock);
	KASSERT(uvm_page_owner_locked_p(pg));
	KASSERTMSG(pg->wire_count > 0, "uvm_pageunwire: page %p not wired",
	    (void *)pg);

	if (--pg->wire_count == 0) {
		TAILQ_INSERT_TAIL(&uvm.page_active, pg, pageq);
		atomic_setbits_int(&pg->pg_flags, PQ_ACTIVE);
		uvmexp_inc(active);
		uvmexp_add(wired, -1);
	}
}

/*
 * uvm_pagezero/uvm_pagecopy: through the direct map; the written page
 * is dirty from now on (OpenBSD clears PG_CLEAN here too).
 */
void
uvm_pagezero(struct vm_page *pg)
{
	atomic_clearbits_int(&pg->pg_flags, PG_CLEAN);
	pmap_zero_page(VM_PAGE_TO_PHYS(pg));
}

void
uvm_pagecopy(struct vm_page *src, struct vm_page *dst)
{
	atomic_clearbits_int(&dst->pg_flags, PG_CLEAN);
	pmap_copy_page(VM_PAGE_TO_PHYS(src), VM_PAGE_TO_PHYS(dst));
}

/*
 * uvm_page_unbusy: see uvm_page.h.
 * => owners locked (write); page queues unlocked
 */
void
uvm_page_unbusy(struct vm_page **pgs, int npgs)
{
	struct vm_page *pg;
	struct uvm_object *uobj;
	uint32_t flags;
	int i;

	KASSERT(!mutex_owned(&uvm.pageqlock));
	for (i = 0; i < npgs; i++) {
		pg = pgs[i];
		if (pg == NULL || pg == PGO_DONTCARE)
			continue;
		KASSERT(uvm_page_owner_locked_p(pg));
		flags = pg_flags_load(pg);
		KASSERTMSG(flags & PG_BUSY, "uvm_page_unbusy: page %p not busy",
		    (void *)pg);
		if (flags & PG_WANTED)
			wakeup(pg);
		if (flags & PG_RELEASED) {
			uobj = pg->uobject;
			KASSERTMSG(uobj != NULL, "uvm_page_unbusy: released anon "
			    "page %p (use uvm_anon_release)", (void *)pg);
			/* The unbusier owns the page: free it as its owner. */
			atomic_clearbits_int(&pg->pg_flags,
			    PG_BUSY | PG_WANTED | PG_RELEASED);
			UVM_PAGE_OWN(pg, NULL);
			pmap_page_protect(pg, VM_PROT_NONE);
			if (flags & PQ_AOBJ)
				uao_dropswap(uobj, (int)(pg->offset >> PAGE_SHIFT));
			uvm_lock_pageq();
			uvm_pagefree(pg);
			uvm_unlock_pageq();
		} else {
			KASSERTMSG((flags & PG_FAKE) == 0, "uvm_page_unbusy: page "
			    "%p is still PG_FAKE", (void *)pg);
			atomic_clearbits_int(&pg->pg_flags, PG_WANTED | PG_BUSY);
			UVM_PAGE_OWN(pg, NULL);
		}
	}
}

/*
 * uvm_pagewait: wait for a busy page: PG_WANTED, then sleep on the page
 * releasing the owner's lock (not retaken).
 * => lock held (the page's owner lock); no page queue lock; may sleep
 */
void
uvm_pagewait(struct vm_page *pg, struct krwlock *lock, const char *wmesg)
{
	KASSERT(rw_lock_held(lock));
	KASSERT(pg_flags_load(pg) & PG_BUSY);
	KASSERT(!mutex_owned(&uvm.pageqlock));
	KASSERT(!mutex_owned(&uvm.fpageqlock));

	atomic_setbits_int(&pg->pg_flags, PG_WANTED);
	rwsleep_nsec(pg, lock, PVM | PNORELOCK, wmesg, INFSLP);
}

/*
 * uvm_page_own: page-owner debugging (NetBSD's UVM_PAGE_TRKOWN, always
 * on here).
 * => owner locked (write)
 */
void
uvm_page_own(struct vm_page *pg, const char *tag)
{
	uint32_t flags = pg_flags_load(pg);

	KASSERT(uvm_page_owner_locked_p(pg));
	if (tag != NULL) {
		KASSERTMSG(flags & PG_BUSY, "uvm_page_own: page %p [%s] is "
		    "not busy", (void *)pg, tag);
		if (pg->owner_tag != NULL)
			panic("uvm_page_own: page %p already owned by %d [%s], "
			    "busied again by %d [%s]", (void *)pg, pg->owner,
			    pg->owner_tag, uvm_page_curowner(), tag);
		pg->owner = uvm_page_curowner();
		pg->owner_tag = tag;
		return;
	}
	KASSERTMSG((flags & PG_BUSY) == 0, "uvm_page_own: page %p still busy "
	    "when dropping its owner %d [%s]", (void *)pg, pg->owner,
	    pg->owner_tag != NULL ? pg->owner_tag : "no tag");
	if (pg->owner_tag == NULL)
		panic("uvm_page_own: dropping ownership of a non-owned page %p",
		    (void *)pg);
	pg->owner_tag = NULL;
}

/*
 * uvm_pglist_take_scattered: take npages free pages with frames in
 * [low, high), any order, or none.
 * => uvm.fpageqlock held; returns 0 or ENOMEM
 */
static int
uvm_pglist_take_scattered(paddr_t low, paddr_t high, psize_t npages,
    struct pglist *rlist)
{
	struct vm_page *pg, *next;
	psize_t have = 0;
	paddr_t frame;
	int fl;

	MUTEX_ASSERT_LOCKED(&uvm.fpageqlock);
	if ((psize_t)uvm_pmr_count_free(low, high) < npages)
		return ENOMEM;
	for (fl = UVM_NFREELIST - 1; fl >= 0 && have < npages; fl--) {
		for (pg = TAILQ_FIRST(&uvm.page_free[fl]);
		    pg != NULL && have < npages; pg = next) {
			next = TAILQ_NEXT(pg, pageq);
			frame = atop(VM_PAGE_TO_PHYS(pg));
			if (frame < low || frame >= high)
				continue;
			uvm_page_claim(pg);
			TAILQ_INSERT_TAIL(rlist, pg, pageq);
			have++;
		}
	}
	KASSERT(have == npages);
	return 0;
}

/*
 * uvm_pglist_take_contig: take a run of npages free frames in [low,
 * high), starting on an alignpg boundary and not crossing a boundpg
 * boundary (0: none), or nothing.
 * => uvm.fpageqlock held; returns 0 or ENOMEM
 */
static int
uvm_pglist_take_contig(paddr_t low, paddr_t high, psize_t npages,
    paddr_t alignpg, paddr_t boundpg, struct pglist *rlist)
{
	paddr_t start, i, last;

	MUTEX_ASSERT_LOCKED(&uvm.fpageqlock);
	start = (low + alignpg - 1) & ~(alignpg - 1);
	while (start < high && high - start >= npages) {
		last = start + npages - 1;
		if (boundpg != 0 && (start & ~(boundpg - 1)) !=
		    (last & ~(boundpg - 1))) {
			/* next aligned start at or past the boundary */
			start = (last & ~(boundpg - 1));
			start = (start + alignpg - 1) & ~(alignpg - 1);
			continue;
		}
		for (i = start; i <= last; i++)
			if ((pg_flags_load(&vm_page_array[i]) & PQ_FREE) == 0)
				break;
		if (i > last) {
			for (i = start; i <= last; i++) {
				uvm_page_claim(&vm_page_array[i]);
				TAILQ_INSERT_TAIL(rlist, &vm_page_array[i],
				    pageq);
			}
			return 0;
		}
		/* frame i is in use: the next candidate starts past it */
		start = (i + 1 + alignpg - 1) & ~(alignpg - 1);
	}
	return ENOMEM;
}

/*
 * uvm_pglistalloc: see uvm_page.h.
 * => UVM_PLA_WAITOK may sleep: no locks held then
 */
int
uvm_pglistalloc(psize_t size, paddr_t low, paddr_t high, paddr_t alignment,
    paddr_t boundary, struct pglist *rlist, int nsegs, int flags)
{
	struct uvm_pmalloc pma;
	struct vm_page *pg;
	psize_t npages = atop(round_page(size));
	paddr_t alignpg, boundpg;
	bool scattered;
	int error;

	TAILQ_INIT(rlist);
	high = MIN(high, (paddr_t)vm_npages);
	if (npages == 0 || low >= high)
		return EINVAL;
	if (alignment < PAGE_SIZE)
		alignment = PAGE_SIZE;
	if ((alignment & (alignment - 1)) != 0 ||
	    (boundary != 0 && ((boundary & (boundary - 1)) != 0 ||
	    boundary < ptoa(npages))))
		return EINVAL;
	alignpg = atop(alignment);
	boundpg = atop(boundary);
	scattered = (psize_t)nsegs >= npages && alignpg == 1 && boundpg == 0;
	if (flags & UVM_PLA_WAITOK)
		KASSERT(witness_nheld() == 0);

	for (;;) {
		uvm_lock_fpageq();
		error = ENOMEM;
		if ((psize_t)uvmexp_read(free) >= npages &&
		    uvmexp_read(free) - (int)npages >= uvm_page_floor(true)) {
			if (scattered)
				error = uvm_pglist_take_scattered(low, high,
				    npages, rlist);
			else
				error = uvm_pglist_take_contig(low, high,
				    npages, alignpg, boundpg, rlist);
		}
		uvm_pagedaemon_kick_locked();
		if (error == 0)
			break;

		/*
		 * Nothing suitable.  Without UVM_PLA_WAITOK, or with no
		 * pagedaemon to serve a request, fail now; otherwise queue
		 * a pma request for the range and sleep until the
		 * pagedaemon (or a free in the range) serves it.  A failed
		 * nowait allocation tells the pagedaemon to recover memory
		 * in the most restricted range (uvm_nowait_failed, OpenBSD
		 * uvm_pmr_getpages).
		 */
		if ((flags & UVM_PLA_WAITOK) == 0 ||
		    __atomic_load_n(&uvm.pagedaemon_proc, __ATOMIC_ACQUIRE) ==
		    NULL || uvm_page_is_pagedaemon()) {
			if ((flags & UVM_PLA_WAITOK) == 0)
				uvm_nowait_failed = 1;
			wakeup(&uvm.pagedaemon);
			uvm_unlock_fpageq();
			return ENOMEM;
		}
		pma.pm_constraint.ucr_low = low;
		pma.pm_constraint.ucr_high = high;
		pma.pm_size = ptoa(npages);
		pma.pm_flags = UVM_PMA_LINKED;
		TAILQ_INSERT_TAIL(&uvm.pmr_control.allocs, &pma, pmq);
		wakeup(&uvm.pagedaemon);
		while (pma.pm_flags & (UVM_PMA_LINKED | UVM_PMA_BUSY))
			msleep_nsec(&pma, &uvm.fpageqlock, PVM, "pglistalloc",
			    INFSLP);
		if ((pma.pm_flags & UVM_PMA_FREED) == 0 &&
		    (pma.pm_flags & UVM_PMA_FAIL) != 0) {
			uvm_unlock_fpageq();
			return ENOMEM;
		}
		uvm_unlock_fpageq();
	}
	uvm_unlock_fpageq();

	TAILQ_FOREACH(pg, rlist, pageq) {
		__atomic_store_n(&pg->pg_version, pg->pg_version + 1,
	    __ATOMIC_RELAXED);	/* read unlocked by read-ahead */
		pg->owner = -1;
		pg->owner_tag = NULL;
		if (flags & UVM_PLA_ZERO)
			pmap_zero_page(VM_PAGE_TO_PHYS(pg));
	}
	return 0;
}

/*
 * uvm_pglistfree: free the pages of a uvm_pglistalloc list.
 * => page queues unlocked; never sleeps
 */
void
uvm_pglistfree(struct pglist *list)
{
	struct vm_page *pg;

	uvm_lock_pageq();
	while ((pg = TAILQ_FIRST(list)) != NULL) {
		TAILQ_REMOVE(list, pg, pageq);
		KASSERT(pg->uobject == NULL && pg->uanon == NULL);
		uvm_pagefree(pg);
	}
	uvm_unlock_pageq();
}

/*
 * uvm_pmr_count_free: free pages with frames in [low, high).
 * => takes uvm.fpageqlock unless the caller holds it
 */
int
uvm_pmr_count_free(paddr_t low, paddr_t high)
{
	bool locked = mutex_owned(&uvm.fpageqlock);
	paddr_t i;
	int n = 0;

	high = MIN(high, (paddr_t)vm_npages);
	if (!locked)
		uvm_lock_fpageq();
	for (i = low; i < high; i++)
		if (pg_flags_load(&vm_page_array[i]) & PQ_FREE)
			n++;
	if (!locked)
		uvm_unlock_fpageq();
	return n;
}
