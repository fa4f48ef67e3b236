/*
 * vm/uvm_aobj.c: anonymous objects (OpenBSD 2022 uvm_aobj.c).
 *
 * An aobj is a uvm_object whose pages are zero-fill on first use and may
 * later live in swap: the pager of the kernel object (pageable kernel
 * memory) and of shared anonymous memory.  Each aobj keeps the swap slot
 * of each page: an int array for small objects, a hash of 16-slot
 * clusters for large ones; both, and the aobjs themselves, come from
 * pools of kernel memory.  The kernel object (static, UVM_OBJ_KERN
 * references) has its hash from the start.
 *
 * Locking: the object lock (vmobjlock) covers the pages, the swap slots
 * and uo_refs; uao_list_lock the list of all aobjs (for swapoff, later,
 * and the auditor's uao_foreach_swslot), inner to the object lock.  The
 * cluster pool is a spin pool (IPL_VM): the pagedaemon sets slots with
 * the page queues held.
 *
 * Swap: the pagedaemon pages aobj pages out (setting their slots with
 * uao_set_swslot) and frees them once clean; uao_get brings a missing
 * page that has a slot back in (uvm_swap_get, the object unlocked
 * around the read, the new page busy meanwhile).  A slot that fails its
 * read is marked bad and recorded as UAO_SWSLOT_BAD (OpenBSD's
 * SWSLOT_BAD): its data is lost, every later get of the page fails with
 * VM_PAGER_ERROR (EIO), and the slot is never given back to the swap
 * map (uvm_swap_markbad: nobody gets it again).
 */
#include <limits.h>
#include <string.h>

#include "host/pmap.h"
#include "host/pool.h"
#include "uvm.h"
#include "uvm_aobj.h"
#include "uvm_km.h"
#include "uvm_object.h"
#include "uvm_pager.h"
#include "uvm_swap.h"

/* A cluster of swap slots of a large aobj. */
struct uao_swhash_elt {
	LIST_ENTRY(uao_swhash_elt) list;	/* [o] bucket */
	int		tag;			/* [o] pageidx >> shift */
	int		count;			/* [o] slots in use */
	int		slots[UAO_SWHASH_CLUSTER_SIZE];	/* [o] */
};
LIST_HEAD(uao_swhash, uao_swhash_elt);

#define UAO_SWMEM_SMALL		256		/* array / small bucket table */
#define UAO_SWHASH_SMALLBUCKETS	(UAO_SWMEM_SMALL / (int)sizeof(struct uao_swhash))
#define UAO_SWHASH_BIGBUCKETS	((int)(PAGE_SIZE / sizeof(struct uao_swhash)))
CTASSERT(UAO_SWHASH_THRESHOLD * sizeof(int) <= UAO_SWMEM_SMALL);

struct uvm_aobj {
	struct uvm_object	u_obj;		/* must be first */
	int			u_pages;	/* [I] size in pages */
	int			u_flags;	/* [o] UAO_FLAG_* */
	int			*u_swslots;	/* [o] small: slot per page */
	struct uao_swhash	*u_swhash;	/* [o] large: buckets */
	int			u_swhashmask;	/* [I] buckets - 1 */
	LIST_ENTRY(uvm_aobj)	u_list;		/* [uao_list_lock] */
};

#define UAO_USES_SWHASH(aobj)	((aobj)->u_pages > UAO_SWHASH_THRESHOLD)

static struct pool uao_pool;		/* struct uvm_aobj */
static struct pool uao_swsmall_pool;	/* arrays, small bucket tables */
static struct pool uao_swbig_pool;	/* large bucket tables */
static struct pool uao_swhash_elt_pool;	/* clusters (spin) */
static kmutex_t uao_list_lock;
static LIST_HEAD(, uvm_aobj) uao_list;	/* [uao_list_lock] */
static struct uvm_aobj kernel_object_store;
static bool uao_kobj_alloced;		/* [I] after the first KERNOBJ */
static int uao_nswslots;		/* [a] slots held by all aobjs */

/* local prototypes */
static int uao_get(struct uvm_object *, voff_t, struct vm_page **, int *,
    int, vm_prot_t, int, int);
static int uao_get_locked(struct uvm_aobj *, voff_t, struct vm_page **,
    int *, int, int);
static int uao_swslots_alloc(struct uvm_aobj *, int);
static void uao_swslots_free(struct uvm_aobj *);
static struct uao_swhash_elt *uao_find_swhash_elt(struct uvm_aobj *, int,
    bool);
static void uao_free(struct uvm_aobj *);

const struct uvm_pagerops aobj_pager = {
	.pgo_reference = uao_reference,
	.pgo_detach = uao_detach,
	.pgo_get = uao_get,
	.pgo_flush = uao_flush,
};

/*
 * uao_init: the aobj pools, the aobj list, and the pool of
 * reference-counted locks (amaps use them; this runs first in uvm_init).
 * => at boot, single-threaded
 */
void
uao_init(void)
{
	pool_init(&uao_pool, sizeof(struct uvm_aobj), 0, 0, 0, "aobjpl",
	    &uvm_km_pool_allocator, IPL_NONE);
	pool_init(&uao_swsmall_pool, UAO_SWMEM_SMALL, 0, 0, 0, "uaoswsm",
	    &uvm_km_pool_allocator, IPL_NONE);
	pool_init(&uao_swbig_pool, PAGE_SIZE, 0, 0, 0, "uaoswbig",
	    &uvm_km_pool_allocator, IPL_NONE);
	pool_init(&uao_swhash_elt_pool, sizeof(struct uao_swhash_elt), 0, 0,
	    0, "uaoeltpl", &uvm_km_pool_allocator, IPL_VM);
	mutex_init_class(&uao_list_lock, MUTEX_DEFAULT, IPL_NONE, "uao_list");
	LIST_INIT(&uao_list);
	uao_kobj_alloced = false;
	__atomic_store_n(&uao_nswslots, 0, __ATOMIC_RELAXED);
	uvm_rwobj_init();
}

/*
 * uao_swslots_alloc: the slot array or hash table of aobj.
 * => returns 0 or ENOMEM (PR_NOWAIT); PR_WAITOK may sleep
 */
static int
uao_swslots_alloc(struct uvm_aobj *aobj, int prflags)
{
	int nclusters, i;

	if (!UAO_USES_SWHASH(aobj)) {
		aobj->u_swslots = pool_get(&uao_swsmall_pool,
		    (prflags & PR_WAITOK) | PR_ZERO);
		return aobj->u_swslots != NULL ? 0 : ENOMEM;
	}
	nclusters = (aobj->u_pages + UAO_SWHASH_CLUSTER_SIZE - 1) >>
	    UAO_SWHASH_CLUSTER_SHIFT;
	if (nclusters <= UAO_SWHASH_SMALLBUCKETS * 4) {
		aobj->u_swhash = pool_get(&uao_swsmall_pool, prflags & PR_WAITOK);
		aobj->u_swhashmask = UAO_SWHASH_SMALLBUCKETS - 1;
	} else {
		aobj->u_swhash = pool_get(&uao_swbig_pool, prflags & PR_WAITOK);
		aobj->u_swhashmask = UAO_SWHASH_BIGBUCKETS - 1;
	}
	if (aobj->u_swhash == NULL)
		return ENOMEM;
	for (i = 0; i <= aobj->u_swhashmask; i++)
		LIST_INIT(&aobj->u_swhash[i]);
	return 0;
}

/*
 * uao_swslots_free: give back every slot aobj holds, and the tables.
 * Its pages are gone, so each slot left is a page that lived only in
 * swap: uvmexp.swpgonly drops by one for each (OpenBSD uao_free).
 * => object unreachable (last reference gone), no pages left
 */
static void
uao_swslots_free(struct uvm_aobj *aobj)
{
	struct uao_swhash_elt *elt;
	int i, j;

	if (aobj->u_swhash != NULL) {
		for (i = 0; i <= aobj->u_swhashmask; i++) {
			while ((elt = LIST_FIRST(&aobj->u_swhash[i])) != NULL) {
				for (j = 0; j < UAO_SWHASH_CLUSTER_SIZE; j++) {
					if (elt->slots[j] == 0)
						continue;
					if (elt->slots[j] != UAO_SWSLOT_BAD)
						uvm_swap_free(elt->slots[j], 1);
					__atomic_fetch_sub(&uao_nswslots, 1,
					    __ATOMIC_RELAXED);
					KASSERT(uvmexp_read(swpgonly) > 0);
					uvmexp_add(swpgonly, -1);
				}
				LIST_REMOVE(elt, list);
				pool_put(&uao_swhash_elt_pool, elt);
			}
		}
		if (aobj->u_swhashmask + 1 == UAO_SWHASH_SMALLBUCKETS)
			pool_put(&uao_swsmall_pool, aobj->u_swhash);
		else
			pool_put(&uao_swbig_pool, aobj->u_swhash);
		aobj->u_swhash = NULL;
	}
	if (aobj->u_swslots != NULL) {
		for (i = 0; i < aobj->u_pages; i++) {
			if (aobj->u_swslots[i] == 0)
				continue;
			if (aobj->u_swslots[i] != UAO_SWSLOT_BAD)
				uvm_swap_free(aobj->u_swslots[i], 1);
			__atomic_fetch_sub(&uao_nswslots, 1, __ATOMIC_RELAXED);
			KASSERT(uvmexp_read(swpgonly) > 0);
			uvmexp_add(swpgonly, -1);
		}
		pool_put(&uao_swsmall_pool, aobj->u_swslots);
		aobj->u_swslots = NULL;
	}
}

/*
 * uao_find_swhash_elt: the cluster of pageidx, made if `create`.
 * => object locked; never sleeps (NULL if no cluster can be had)
 */
static struct uao_swhash_elt *
uao_find_swhash_elt(struct uvm_aobj *aobj, int pageidx, bool create)
{
	struct uao_swhash *bucket;
	struct uao_swhash_elt *elt;
	int tag = pageidx >> UAO_SWHASH_CLUSTER_SHIFT;

	bucket = &aobj->u_swhash[tag & aobj->u_swhashmask];
	LIST_FOREACH(elt, bucket, list)
		if (elt->tag == tag)
			return elt;
	if (!create)
		return NULL;
	elt = pool_get(&uao_swhash_elt_pool, PR_NOWAIT | PR_ZERO);
	if (elt == NULL)
		return NULL;
	elt->tag = tag;
	LIST_INSERT_HEAD(bucket, elt, list);
	return elt;
}

/*
 * uao_find_swslot: the swap slot of pageidx, 0 if none.
 * => object locked (either way)
 */
int
uao_find_swslot(struct uvm_object *uobj, int pageidx)
{
	struct uvm_aobj *aobj = (struct uvm_aobj *)uobj;
	struct uao_swhash_elt *elt;

	KASSERT(UVM_OBJ_IS_AOBJ(uobj));
	KASSERT(rw_lock_held(uobj->vmobjlock) || uobj->uo_refs == 0);
	KASSERT(pageidx >= 0 && pageidx < aobj->u_pages);
	if (aobj->u_flags & UAO_FLAG_NOSWAP)
		return 0;
	if (UAO_USES_SWHASH(aobj)) {
		elt = uao_find_swhash_elt(aobj, pageidx, false);
		return elt != NULL ?
		    elt->slots[pageidx & (UAO_SWHASH_CLUSTER_SIZE - 1)] : 0;
	}
	return aobj->u_swslots[pageidx];
}

/*
 * uao_set_swslot: set the swap slot of pageidx, returning the old one
 * (-1: a cluster could not be allocated, nothing changed).
 * => object write-locked (or unreachable); never sleeps
 */
int
uao_set_swslot(struct uvm_object *uobj, int pageidx, int slot)
{
	struct uvm_aobj *aobj = (struct uvm_aobj *)uobj;
	struct uao_swhash_elt *elt;
	int oldslot;

	KASSERT(UVM_OBJ_IS_AOBJ(uobj));
	KASSERT(rw_write_held(uobj->vmobjlock) || uobj->uo_refs == 0);
	KASSERT(pageidx >= 0 && pageidx < aobj->u_pages);
	KASSERT(slot >= 0 || slot == UAO_SWSLOT_BAD);

	if (aobj->u_flags & UAO_FLAG_NOSWAP) {
		if (slot == 0)
			return 0;
		panic("uao_set_swslot: swap slot %d for page %d of NOSWAP "
		    "object %p", slot, pageidx, (void *)aobj);
	}

	if (UAO_USES_SWHASH(aobj)) {
		elt = uao_find_swhash_elt(aobj, pageidx, slot != 0);
		if (elt == NULL)
			return slot != 0 ? -1 : 0;
		oldslot = elt->slots[pageidx & (UAO_SWHASH_CLUSTER_SIZE - 1)];
		elt->slots[pageidx & (UAO_SWHASH_CLUSTER_SIZE - 1)] = slot;
		if (oldslot == 0 && slot != 0)
			elt->count++;
		else if (oldslot != 0 && slot == 0)
			elt->count--;
		if (elt->count == 0) {
			LIST_REMOVE(elt, list);
			pool_put(&uao_swhash_elt_pool, elt);
		}
	} else {
		oldslot = aobj->u_swslots[pageidx];
		aobj->u_swslots[pageidx] = slot;
	}
	if (oldslot == 0 && slot != 0)
		__atomic_fetch_add(&uao_nswslots, 1, __ATOMIC_RELAXED);
	else if (oldslot != 0 && slot == 0)
		__atomic_fetch_sub(&uao_nswslots, 1, __ATOMIC_RELAXED);
	return oldslot;
}

/*
 * uao_dropswap: release the swap slot of pageidx, if any, and return it
 * (OpenBSD's).  A good slot is freed.  A bad one is forgotten, not freed
 * (it stays out of use): it stood for a page whose data was lost, which
 * uao_get left counted in uvmexp.swpgonly (the page lives nowhere else),
 * so forgetting it counts that page out, as uao_swslots_free does for the
 * bad slots an aobj still holds when it dies.
 * => object write-locked; never sleeps
 */
int
uao_dropswap(struct uvm_object *uobj, int pageidx)
{
	int slot;

	KASSERT(rw_write_held(uobj->vmobjlock) || uobj->uo_refs == 0);
	slot = uao_set_swslot(uobj, pageidx, 0);
	if (slot == UAO_SWSLOT_BAD) {
		KASSERT(uvmexp_read(swpgonly) > 0);
		uvmexp_add(swpgonly, -1);
	} else if (slot > 0) {
		uvm_swap_free(slot, 1);
	}
	return slot;
}

/* uao_swslots_in_use: slots held by all aobjs now. */
int
uao_swslots_in_use(void)
{
	return __atomic_load_n(&uao_nswslots, __ATOMIC_RELAXED);
}

/*
 * uao_foreach_swslot: auditor accessor: fn(arg, uobj, pageidx, slot) for
 * each swap slot of each aobj (slot > 0 or UAO_SWSLOT_BAD).  See
 * uvm_aobj.h.
 * => no VM locks held; takes uao_list_lock, then tries each aobj's lock
 *    (read) under it: the order is object lock > uao_list_lock (uao_detach
 *    takes the list lock with its object locked), so a try is all we may
 *    do.  An aobj whose lock is held is skipped and counted.
 * => fn is called with both held: it must not sleep nor take VM locks
 * => returns the number of aobjs skipped
 */
int
uao_foreach_swslot(uao_swslot_fn fn, void *arg)
{
	struct uvm_aobj *aobj;
	struct uvm_object *uobj;
	struct uao_swhash_elt *elt;
	int i, j, base, skipped = 0;

	mutex_enter(&uao_list_lock);
	LIST_FOREACH(aobj, &uao_list, u_list) {
		uobj = &aobj->u_obj;
		if (rw_enter(uobj->vmobjlock, RW_READ | RW_NOSLEEP) != 0) {
			skipped++;
			continue;
		}
		for (i = 0; aobj->u_swhash != NULL &&
		    i <= aobj->u_swhashmask; i++) {
			LIST_FOREACH(elt, &aobj->u_swhash[i], list) {
				base = elt->tag << UAO_SWHASH_CLUSTER_SHIFT;
				for (j = 0; j < UAO_SWHASH_CLUSTER_SIZE; j++)
					if (elt->slots[j] != 0)
						fn(arg, uobj, base + j,
						    elt->slots[j]);
			}
		}
		if (aobj->u_swslots != NULL) {
			for (i = 0; i < aobj->u_pages; i++)
				if (aobj->u_swslots[i] != 0)
					fn(arg, uobj, i, aobj->u_swslots[i]);
		}
		rw_exit(uobj->vmobjlock);
	}
	mutex_exit(&uao_list_lock);
	return skipped;
}

/*
 * uao_create: see uvm_aobj.h.
 * => may sleep unless UAO_FLAG_CANFAIL
 */
struct uvm_object *
uao_create(vsize_t size, int flags)
{
	struct uvm_aobj *aobj;
	vsize_t pages = round_page(size) >> PAGE_SHIFT;
	int prflags = (flags & UAO_FLAG_CANFAIL) ? PR_NOWAIT : PR_WAITOK;
	int refs;

	KASSERT(pages > 0 && pages <= INT_MAX);
	if (flags & UAO_FLAG_KERNOBJ) {
		KASSERT(!uao_kobj_alloced);
		aobj = &kernel_object_store;
		memset(aobj, 0, sizeof(*aobj));
		refs = UVM_OBJ_KERN;
		uao_kobj_alloced = true;
	} else if (flags & UAO_FLAG_KERNSWAP) {
		/* OpenBSD's second step: ours has its table already */
		KASSERT(uao_kobj_alloced);
		return &kernel_object_store.u_obj;
	} else {
		aobj = pool_get(&uao_pool, prflags);
		if (aobj == NULL)
			return NULL;
		memset(aobj, 0, sizeof(*aobj));
		refs = 1;
	}
	aobj->u_pages = (int)pages;
	aobj->u_flags = flags & UAO_FLAG_NOSWAP;
	if ((aobj->u_flags & UAO_FLAG_NOSWAP) == 0 &&
	    uao_swslots_alloc(aobj, prflags) != 0) {
		KASSERT(aobj != &kernel_object_store);
		pool_put(&uao_pool, aobj);
		return NULL;
	}
	uvm_obj_init(&aobj->u_obj, &aobj_pager, refs);

	mutex_enter(&uao_list_lock);
	LIST_INSERT_HEAD(&uao_list, aobj, u_list);
	mutex_exit(&uao_list_lock);
	return &aobj->u_obj;
}

/*
 * uao_reference: one more reference (the kernel object has no count).
 * => uobj unlocked
 */
void
uao_reference(struct uvm_object *uobj)
{
	if (UVM_OBJ_IS_KERN_OBJECT(uobj))
		return;
	rw_enter(uobj->vmobjlock, RW_WRITE);
	KASSERT(uobj->uo_refs > 0);
	__atomic_store_n(&uobj->uo_refs, uobj->uo_refs + 1, __ATOMIC_RELAXED);
	rw_exit(uobj->vmobjlock);
}

/*
 * uao_free: the end of an aobj: its slots, its lock, its memory.
 * => no pages, no references; object not locked
 */
static void
uao_free(struct uvm_aobj *aobj)
{
	uao_swslots_free(aobj);
	uvm_obj_destroy(&aobj->u_obj);
	pool_put(&uao_pool, aobj);
}

/*
 * uao_detach: drop a reference; the last frees the pages (waiting for
 * the busy ones: only pageout I/O can hold a page of an object nobody
 * references), the swap slots and the aobj (OpenBSD 2022 waits too,
 * rather than leaving PG_RELEASED pages behind a dead object).
 * => uobj unlocked; may sleep
 */
void
uao_detach(struct uvm_object *uobj)
{
	struct uvm_aobj *aobj = (struct uvm_aobj *)uobj;
	struct vm_page *pg;

	if (UVM_OBJ_IS_KERN_OBJECT(uobj))
		return;
	rw_enter(uobj->vmobjlock, RW_WRITE);
	KASSERT(uobj->uo_refs > 0);
	__atomic_store_n(&uobj->uo_refs, uobj->uo_refs - 1, __ATOMIC_RELAXED);
	if (uobj->uo_refs > 0) {
		rw_exit(uobj->vmobjlock);
		return;
	}

	mutex_enter(&uao_list_lock);
	LIST_REMOVE(aobj, u_list);
	mutex_exit(&uao_list_lock);

	while ((pg = RB_ROOT(&uobj->memt)) != NULL) {
		pmap_page_protect(pg, VM_PROT_NONE);
		if (pg_flags_load(pg) & PG_BUSY) {
			uvm_pagewait(pg, uobj->vmobjlock, "uao_det");
			rw_enter(uobj->vmobjlock, RW_WRITE);
			continue;
		}
		uao_dropswap(uobj, (int)(pg->offset >> PAGE_SHIFT));
		uvm_lock_pageq();
		uvm_pagefree(pg);
		uvm_unlock_pageq();
	}
	rw_exit(uobj->vmobjlock);
	uao_free(aobj);
}

/*
 * uao_flush: the aobj's pgo_flush (OpenBSD's): deactivate or free the
 * resident pages of [start, stop).  An aobj has no backing store to clean
 * to: PGO_CLEANIT alone does nothing, and with PGO_FREE or PGO_DEACTIVATE
 * it only deactivates.  PGO_FREE frees a page and its swap slot when the
 * object has one reference (else it deactivates: another mapping may
 * still want the data); wired pages are skipped; a busy page is waited
 * for.
 * => object write-locked; the lock is dropped and retaken while waiting
 *    for a busy page
 * => returns true (the range is clipped to the object)
 */
bool
uao_flush(struct uvm_object *uobj, voff_t start, voff_t stop, int flags)
{
	struct uvm_aobj *aobj = (struct uvm_aobj *)uobj;
	struct vm_page *pg;
	voff_t curoff;

	KASSERT(UVM_OBJ_IS_AOBJ(uobj));
	KASSERT(rw_write_held(uobj->vmobjlock));

	if (flags & PGO_ALLPAGES) {
		start = 0;
		stop = (voff_t)aobj->u_pages << PAGE_SHIFT;
	} else {
		start = trunc_page(start);
		stop = round_page(stop);
		if (stop > ((voff_t)aobj->u_pages << PAGE_SHIFT))
			stop = (voff_t)aobj->u_pages << PAGE_SHIFT;
	}

	/* nothing to do unless deactivating or freeing */
	if ((flags & (PGO_DEACTIVATE | PGO_FREE)) == 0)
		return true;

	for (curoff = start; curoff < stop;) {
		pg = uvm_pagelookup(uobj, curoff);
		curoff += PAGE_SIZE;
		if (pg == NULL)
			continue;

		/* make sure the page is unbusy, else wait for it */
		if (pg_flags_load(pg) & PG_BUSY) {
			uvm_pagewait(pg, uobj->vmobjlock, "uaoflsh");
			rw_enter(uobj->vmobjlock, RW_WRITE);
			curoff -= PAGE_SIZE;
			continue;
		}

		switch (flags & (PGO_CLEANIT | PGO_FREE | PGO_DEACTIVATE)) {
		/*
		 * (OpenBSD: "in these first 3 cases, we always just
		 * deactivate the page")
		 */
		case PGO_CLEANIT | PGO_FREE:
		case PGO_CLEANIT | PGO_DEACTIVATE:
		case PGO_DEACTIVATE:
deactivate_it:
			if (pg->wire_count != 0)
				continue;
			uvm_lock_pageq();
			pmap_page_protect(pg, VM_PROT_NONE);
			uvm_pagedeactivate(pg);
			uvm_unlock_pageq();
			continue;
		case PGO_FREE:
			/* another reference may want the data: deactivate */
			if (uobj->uo_refs > 1)
				goto deactivate_it;
			/* (OpenBSD: "XXX skip the page if it's wired") */
			if (pg->wire_count != 0)
				continue;
			/* free the swap slot and the page */
			pmap_page_protect(pg, VM_PROT_NONE);
			(void)uao_dropswap(uobj, (int)(pg->offset >> PAGE_SHIFT));
			uvm_lock_pageq();
			uvm_pagefree(pg);
			uvm_unlock_pageq();
			continue;
		default:
			panic("uao_flush: weird flags %#x", flags);
		}
	}
	return true;
}

/*
 * uao_get_locked: pgo_get with PGO_LOCKED: the resident, unbusy pages of
 * the range, busied; a missing page that must come (the centre, or all
 * with PGO_ALLPAGES) and has no swap slot is allocated zero-filled if a
 * page is free.  VM_PAGER_UNLOCK when one that must come cannot.
 * => object write-locked, stays locked; never sleeps
 */
static int
uao_get_locked(struct uvm_aobj *aobj, voff_t offset, struct vm_page **pps,
    int *npagesp, int centeridx, int flags)
{
	struct uvm_object *uobj = &aobj->u_obj;
	struct vm_page *ptmp;
	voff_t cur;
	int lcv, pageidx, gotpages = 0, maxpages = *npagesp;
	bool done = true, needed;

	for (lcv = 0, cur = offset; lcv < maxpages; lcv++, cur += PAGE_SIZE) {
		if (pps[lcv] == PGO_DONTCARE)
			continue;
		KASSERT(pps[lcv] == NULL);
		needed = lcv == centeridx || (flags & PGO_ALLPAGES) != 0;
		pageidx = (int)MIN(cur >> PAGE_SHIFT, (voff_t)INT_MAX);
		if (pageidx >= aobj->u_pages) {
			if (needed)
				done = false;
			continue;
		}

		ptmp = uvm_pagelookup(uobj, cur);
		if (ptmp == NULL && needed &&
		    uao_find_swslot(uobj, pageidx) == 0) {
			ptmp = uvm_pagealloc(uobj, cur, NULL, UVM_PGA_ZERO);
			if (ptmp != NULL) {
				/* valid (zero) now; busied below as found */
				atomic_clearbits_int(&ptmp->pg_flags,
				    PG_BUSY | PG_FAKE);
				UVM_PAGE_OWN(ptmp, NULL);
			}
		}

		/* to be useful it must be there and not busy */
		if (ptmp == NULL || (pg_flags_load(ptmp) & PG_BUSY) != 0) {
			if (needed)
				done = false;
			continue;
		}
		atomic_setbits_int(&ptmp->pg_flags, PG_BUSY);
		UVM_PAGE_OWN(ptmp, "uao_get1");
		pps[lcv] = ptmp;
		gotpages++;
	}
	*npagesp = gotpages;
	return done ? VM_PAGER_OK : VM_PAGER_UNLOCK;
}

/*
 * uao_get: the aobj's pgo_get (see uvm_pager.h).
 *
 * PGO_LOCKED: uao_get_locked.  Otherwise the pages that must come (the
 * centre, or all with PGO_ALLPAGES) are got one by one: a busy page is
 * waited for; a missing one is allocated (waiting for memory when a
 * pagedaemon runs, VM_PAGER_AGAIN when none does) and zero-filled, or,
 * if it has a swap slot, read in from swap (the object unlocked around
 * the read; the page comes back clean, keeping its slot).  A read that
 * fails marks the slot bad (UAO_SWSLOT_BAD, uvm_swap_markbad) and fails
 * with VM_PAGER_ERROR, as does a page whose slot is already bad; no
 * buffer for the read is VM_PAGER_AGAIN.  A page past the end of the
 * object, VM_PAGER_BAD.  On failure the pages this call busied are
 * unbusied again and their pps[] entries cleared.  A page returned may
 * have been released (PG_RELEASED) while the object was unlocked: the
 * caller checks, as with OpenBSD's uao_get.
 * => object write-locked on entry; PGO_LOCKED: still locked on return,
 *    never sleeps; otherwise unlocked on return (any result), may sleep,
 *    and pps[] entries must be NULL or PGO_DONTCARE on entry
 */
static int
uao_get(struct uvm_object *uobj, voff_t offset, struct vm_page **pps,
    int *npagesp, int centeridx, vm_prot_t access_type, int advice,
    int flags)
{
	struct uvm_aobj *aobj = (struct uvm_aobj *)uobj;
	struct vm_page *ptmp;
	voff_t cur;
	int lcv, i, pageidx, maxpages = *npagesp, result = VM_PAGER_OK;
	int swslot, rv;

	KASSERT(UVM_OBJ_IS_AOBJ(uobj));
	KASSERT(rw_write_held(uobj->vmobjlock));
	KASSERT((offset & PAGE_MASK) == 0);

	if (flags & PGO_LOCKED)
		return uao_get_locked(aobj, offset, pps, npagesp, centeridx,
		    flags);

	for (lcv = 0; lcv < maxpages; lcv++)
		KASSERT(pps[lcv] == NULL || pps[lcv] == PGO_DONTCARE);

	for (lcv = 0, cur = offset; lcv < maxpages; lcv++, cur += PAGE_SIZE) {
		if (pps[lcv] != NULL ||
		    (lcv != centeridx && (flags & PGO_ALLPAGES) == 0))
			continue;
		pageidx = (int)MIN(cur >> PAGE_SHIFT, (voff_t)INT_MAX);
		if (pageidx >= aobj->u_pages) {
			result = VM_PAGER_BAD;
			goto fail;
		}

		/*
		 * Find the page: busy it if resident and unbusy, wait if
		 * busy, allocate it if missing (ptmp then is a new
		 * busy/fake page to fill, and pps[lcv] still NULL).
		 */
		while (pps[lcv] == NULL) {
			ptmp = uvm_pagelookup(uobj, cur);
			if (ptmp == NULL) {
				ptmp = uvm_pagealloc(uobj, cur, NULL, 0);
				if (ptmp != NULL)
					break;
				/*
				 * [deviation: OpenBSD waits here whatever
				 * the swap.  With swap full of pages that
				 * live only there, the pagedaemon cannot
				 * free a page and every waiter sleeps for
				 * good (seen under mix with a small swap);
				 * fail as the fault's own allocations do
				 * (uvmfault_nomem), so the fault kills.]
				 */
				if (__atomic_load_n(&uvm.pagedaemon_proc,
				    __ATOMIC_ACQUIRE) == NULL ||
				    uvm_swapisfull()) {
					/* nothing can reclaim: give up */
					result = VM_PAGER_AGAIN;
					goto fail;
				}
				rw_exit(uobj->vmobjlock);
				uvm_wait("uao_getpage");
				rw_enter(uobj->vmobjlock, RW_WRITE);
				continue;
			}
			if (pg_flags_load(ptmp) & PG_BUSY) {
				uvm_pagewait(ptmp, uobj->vmobjlock, "uao_get");
				rw_enter(uobj->vmobjlock, RW_WRITE);
				continue;
			}
			atomic_setbits_int(&ptmp->pg_flags, PG_BUSY);
			UVM_PAGE_OWN(ptmp, "uao_get2");
			pps[lcv] = ptmp;
		}
		if (pps[lcv] != NULL)
			continue;

		/*
		 * we have a "fake/busy/clean" page that we just allocated.  do
		 * the needed "i/o" (either reading in swap or zeroing).
		 */
		swslot = uao_find_swslot(uobj, pageidx);
		if (swslot == 0) {
			uvm_pagezero(ptmp);	/* and so dirty */
		} else if (swslot == UAO_SWSLOT_BAD) {
			/* its data was lost to a bad slot: EIO again */
			uvm_pagefree(ptmp);
			result = VM_PAGER_ERROR;
			goto fail;
		} else {
			/*
			 * page in the swapped-out page.  unlock object for
			 * i/o, relock when done.  The page is busy and
			 * ours: nobody frees it, nor its slot, meanwhile
			 * (waiters sleep on it; the pagedaemon skips it).
			 */
			rw_exit(uobj->vmobjlock);
			rv = uvm_swap_get(ptmp, swslot, PGO_SYNCIO);
			rw_enter(uobj->vmobjlock, RW_WRITE);

			/*
			 * I/O done.  check for errors.
			 */
			if (rv != VM_PAGER_OK) {
				if (rv != VM_PAGER_AGAIN) {
					/*
					 * the slot did not give back what
					 * was written there: mark it bad
					 * (never reused) and remember the
					 * loss (as uvmfault_anonget does
					 * for an anon).  swpgonly keeps
					 * counting the page until the slot
					 * goes with the object.
					 */
					(void)uao_set_swslot(uobj, pageidx,
					    UAO_SWSLOT_BAD);
					uvm_swap_markbad(swslot, 1);
				}
				/*
				 * released while we read (uvm_km_pgremove:
				 * nobody maps this offset any more): its
				 * slot, bad or not, goes with it, or the
				 * offset's next user would find it.  A good
				 * slot's page lived only in swap.
				 */
				if ((pg_flags_load(ptmp) & PG_RELEASED) &&
				    uao_dropswap(uobj, pageidx) > 0) {
					KASSERT(uvmexp_read(swpgonly) > 0);
					uvmexp_add(swpgonly, -1);
				}
				if (pg_flags_load(ptmp) & PG_WANTED)
					wakeup(ptmp);
				atomic_clearbits_int(&ptmp->pg_flags,
				    PG_WANTED | PG_BUSY);
				UVM_PAGE_OWN(ptmp, NULL);
				uvm_pagefree(ptmp);
				result = rv == VM_PAGER_AGAIN ? VM_PAGER_AGAIN :
				    VM_PAGER_ERROR;
				goto fail;
			}
			/* read in: clean (it matches its slot) */
			pmap_clear_modify(ptmp);
		}
		atomic_clearbits_int(&ptmp->pg_flags, PG_FAKE);
		pps[lcv] = ptmp;
	}
	rw_exit(uobj->vmobjlock);
	return VM_PAGER_OK;

fail:
	/* every non-DONTCARE page before lcv is one this call busied */
	for (i = 0; i < lcv; i++) {
		if (pps[i] == NULL || pps[i] == PGO_DONTCARE)
			continue;
		uvm_page_unbusy(&pps[i], 1);
		pps[i] = NULL;
	}
	rw_exit(uobj->vmobjlock);
	return result;
}
