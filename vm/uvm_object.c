/*
 * vm/uvm_object.c: memory objects (OpenBSD uvm_object.c): init and
 * destruction, the lock pointer, the page tree, wiring a range, and the
 * reference-counted locks that objects and amaps may share.
 *
 * An object's lock is a pointer (vmobjlock) so that objects may share
 * one; by default it points at the object's own vmobjlock_store.  The
 * page tree is keyed by offset (uvm_pagecmp); uvm_page.c inserts and
 * removes, under the object's lock.
 */
#include <stddef.h>

#include "host/pool.h"
#include "uvm.h"
#include "uvm_aobj.h"
#include "uvm_km.h"
#include "uvm_object.h"
#include "uvm_pager.h"

#define FETCH_PAGECOUNT	16	/* pages per pgo_get in uvm_obj_wire */

/* A reference-counted rwlock: the lock first, so the pointers agree. */
struct uvm_rwobj {
	krwlock_t	ro_lock;
	int		ro_refcnt;	/* [a] */
};
CTASSERT(offsetof(struct uvm_rwobj, ro_lock) == 0);

static struct pool uvm_rwobj_pool;
static bool uvm_rwobj_pool_ready;	/* [I] after uvm_rwobj_init */
static int uvm_rwobj_nalloc;		/* [a] */

/* local prototypes */
static int uvm_obj_pager_errno(int result);

RB_GENERATE(uvm_objtree, vm_page, objt, uvm_pagecmp)

/* uvm_pagecmp: the object tree's order, by offset. */
int
uvm_pagecmp(const struct vm_page *a, const struct vm_page *b)
{
	return a->offset < b->offset ? -1 : a->offset > b->offset;
}

/*
 * uvm_obj_init: see uvm_object.h.
 * => the object is not visible to others yet
 */
void
uvm_obj_init(struct uvm_object *uobj, const struct uvm_pagerops *pgops,
    int refs)
{
	rw_init_class(&uobj->vmobjlock_store, "vmobjlock");
	uobj->vmobjlock = &uobj->vmobjlock_store;
	uobj->pgops = pgops;
	RB_INIT(&uobj->memt);
	uobj->uo_npages = 0;
	__atomic_store_n(&uobj->uo_refs, refs, __ATOMIC_RELAXED);
}

/*
 * uvm_obj_setlock: see uvm_object.h.
 * => uobj has no pages and is not visible to others
 */
void
uvm_obj_setlock(struct uvm_object *uobj, krwlock_t *lockptr)
{
	KASSERT(RB_EMPTY(&uobj->memt) && uobj->uo_npages == 0);
	KASSERT(!rw_lock_held(uobj->vmobjlock));
	uobj->vmobjlock = lockptr != NULL ? lockptr : &uobj->vmobjlock_store;
}

/*
 * uvm_obj_destroy: the end of an object.
 * => no pages; lock not held
 */
void
uvm_obj_destroy(struct uvm_object *uobj)
{
	KASSERTMSG(RB_EMPTY(&uobj->memt) && uobj->uo_npages == 0,
	    "uvm_obj_destroy: object %p still has %d pages", (void *)uobj,
	    uobj->uo_npages);
	KASSERT(!rw_lock_held(&uobj->vmobjlock_store));
	rw_destroy(&uobj->vmobjlock_store);
	uobj->vmobjlock = NULL;
	uobj->pgops = NULL;
}

/* The errno of a failed pgo_get. */
static int
uvm_obj_pager_errno(int result)
{
	switch (result) {
	case VM_PAGER_OK:
		return 0;
	case VM_PAGER_AGAIN:
		return ENOMEM;
	default:
		return EIO;
	}
}

/*
 * uvm_obj_wire: see uvm_object.h (OpenBSD uvm_obj_wire).
 * => uobj unlocked; may sleep
 */
int
uvm_obj_wire(struct uvm_object *uobj, voff_t start, voff_t end,
    struct pglist *list)
{
	struct vm_page *pgs[FETCH_PAGECOUNT];
	voff_t offset = start;
	int i, npages, left, result;

	KASSERT(start == trunc_page(start) && end == trunc_page(end));
	KASSERT(uobj->pgops->pgo_get != NULL);
	left = (int)((end - start) >> PAGE_SHIFT);

	while (left > 0) {
		npages = MIN(FETCH_PAGECOUNT, left);
		for (i = 0; i < npages; i++)
			pgs[i] = NULL;

		/* pgo_get unlocked: entered locked, returns unlocked */
		rw_enter(uobj->vmobjlock, RW_WRITE);
		result = (*uobj->pgops->pgo_get)(uobj, offset, pgs, &npages,
		    0, VM_PROT_READ | VM_PROT_WRITE, 0,
		    PGO_ALLPAGES | PGO_SYNCIO);
		if (result != VM_PAGER_OK) {
			uvm_obj_unwire(uobj, start, offset);
			return uvm_obj_pager_errno(result);
		}

		rw_enter(uobj->vmobjlock, RW_WRITE);
		for (i = 0; i < npages; i++) {
			KASSERT(pgs[i] != NULL);
			KASSERT((pg_flags_load(pgs[i]) & PG_RELEASED) == 0);
			/* wired: it stays dirty in RAM, swap is no use */
			if (pg_flags_load(pgs[i]) & PQ_AOBJ) {
				atomic_clearbits_int(&pgs[i]->pg_flags, PG_CLEAN);
				uao_dropswap(uobj,
				    (int)(pgs[i]->offset >> PAGE_SHIFT));
			}
		}
		uvm_lock_pageq();
		for (i = 0; i < npages; i++) {
			uvm_pagewire(pgs[i]);
			if (list != NULL)
				TAILQ_INSERT_TAIL(list, pgs[i], pageq);
		}
		uvm_unlock_pageq();
		uvm_page_unbusy(pgs, npages);
		rw_exit(uobj->vmobjlock);

		left -= npages;
		offset += (voff_t)npages << PAGE_SHIFT;
	}
	return 0;
}

/*
 * uvm_obj_unwire: unwire [start, end) of uobj, wired by uvm_obj_wire.
 * => uobj unlocked
 */
void
uvm_obj_unwire(struct uvm_object *uobj, voff_t start, voff_t end)
{
	struct vm_page *pg;
	voff_t offset;

	rw_enter(uobj->vmobjlock, RW_WRITE);
	uvm_lock_pageq();
	for (offset = start; offset < end; offset += PAGE_SIZE) {
		pg = uvm_pagelookup(uobj, offset);
		KASSERTMSG(pg != NULL, "uvm_obj_unwire: object %p has no page "
		    "at 0x%llx", (void *)uobj, (unsigned long long)offset);
		KASSERT((pg_flags_load(pg) & PG_RELEASED) == 0);
		uvm_pageunwire(pg);
	}
	uvm_unlock_pageq();
	rw_exit(uobj->vmobjlock);
}

/*
 * uvm_rwobj_init: the pool of reference-counted locks, kernel memory.
 * => at boot, single-threaded
 */
void
uvm_rwobj_init(void)
{
	pool_init(&uvm_rwobj_pool, sizeof(struct uvm_rwobj), 0, 0, 0,
	    "rwobjpl", &uvm_km_pool_allocator, IPL_NONE);
	uvm_rwobj_pool_ready = true;
}

/*
 * uvm_rwobj_alloc: see uvm_object.h.
 * => PR_WAITOK may sleep
 */
krwlock_t *
uvm_rwobj_alloc(const char *name, int prflags)
{
	struct uvm_rwobj *ro;

	KASSERT(uvm_rwobj_pool_ready);
	ro = pool_get(&uvm_rwobj_pool, prflags & PR_WAITOK);
	if (ro == NULL)
		return NULL;
	rw_init_class(&ro->ro_lock, name);
	__atomic_store_n(&ro->ro_refcnt, 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&uvm_rwobj_nalloc, 1, __ATOMIC_RELAXED);
	return &ro->ro_lock;
}

/* uvm_rwobj_hold: => the caller has a reference already; never sleeps */
void
uvm_rwobj_hold(krwlock_t *lock)
{
	struct uvm_rwobj *ro = (struct uvm_rwobj *)lock;
	int old;

	old = __atomic_fetch_add(&ro->ro_refcnt, 1, __ATOMIC_RELAXED);
	KASSERT(old > 0);
}

/*
 * uvm_rwobj_free: drop a reference; the last destroys the lock.
 * => never sleeps
 */
bool
uvm_rwobj_free(krwlock_t *lock)
{
	struct uvm_rwobj *ro = (struct uvm_rwobj *)lock;
	int old;

	old = __atomic_fetch_sub(&ro->ro_refcnt, 1, __ATOMIC_ACQ_REL);
	KASSERT(old > 0);
	if (old > 1)
		return false;
	KASSERT(!rw_lock_held(lock));
	rw_destroy(lock);
	pool_put(&uvm_rwobj_pool, ro);
	__atomic_fetch_sub(&uvm_rwobj_nalloc, 1, __ATOMIC_RELAXED);
	return true;
}

/* uvm_rwobj_count: locks alive now. */
int
uvm_rwobj_count(void)
{
	return __atomic_load_n(&uvm_rwobj_nalloc, __ATOMIC_RELAXED);
}
