/*
 * vm/uvm_anon.c: anons, one page of anonymous memory each (OpenBSD
 * uvm_anon.c).
 *
 * Anons come from a pool of kernel memory (pages of the machine's RAM,
 * uvm_km_pool_allocator), allocated without sleeping: the fault path
 * makes them.  An anon's lock is its amap's (an_lock == am_lock, a
 * reference-counted lock); an anon that is in no amap yet has none.
 * an_ref counts the amap slots that hold the anon; the last one to let go
 * frees it (uvm_anfree) with its page and swap slot.
 *
 * A page that is busy when its anon dies (pageout I/O, or another
 * thread's fault) cannot be freed under its holder: it is marked
 * PG_RELEASED, and the anon stays alive with a reference on its lock
 * until the holder calls uvm_anon_release (OpenBSD's discipline).
 */
#include "host/pmap.h"
#include "host/pool.h"
#include "uvm.h"
#include "uvm_anon.h"
#include "uvm_km.h"
#include "uvm_object.h"
#include "uvm_swap.h"

static struct pool uvm_anon_pool;
static int uvm_anon_nalloc;	/* [a] anons allocated now */

/*
 * uvm_anon_init: the anon pool.
 * => at boot (uvm_init), single-threaded
 */
void
uvm_anon_init(void)
{
	pool_init(&uvm_anon_pool, sizeof(struct vm_anon), 0, 0, 0, "anonpl",
	    &uvm_km_pool_allocator, IPL_NONE);
	__atomic_store_n(&uvm_anon_nalloc, 0, __ATOMIC_RELAXED);
}

/*
 * uvm_analloc: a new anon: one reference, no page, no lock, no slot.
 * => never sleeps; NULL when no kernel memory is at hand
 */
struct vm_anon *
uvm_analloc(void)
{
	struct vm_anon *anon;

	anon = pool_get(&uvm_anon_pool, PR_NOWAIT);
	if (anon == NULL)
		return NULL;
	anon->an_lock = NULL;
	anon->an_page = NULL;
	anon->an_ref = 1;
	anon->an_swslot = 0;
	__atomic_fetch_add(&uvm_anon_nalloc, 1, __ATOMIC_RELAXED);
	return anon;
}

/*
 * uvm_anfree: free an anon with no references left, with its page and
 * swap slot.  See uvm_anon.h.
 * => an_lock write-held if set; page queues unlocked; never sleeps
 */
void
uvm_anfree(struct vm_anon *anon)
{
	struct vm_page *pg = anon->an_page;

	KASSERT(anon->an_lock == NULL || rw_write_held(anon->an_lock));
	KASSERTMSG(anon->an_ref == 0, "uvm_anfree: anon %p has %d references",
	    (void *)anon, anon->an_ref);
	KASSERT(!mutex_owned(&uvm.pageqlock));

	if (pg != NULL) {
		KASSERT(pg->uanon == anon);
		if (pg_flags_load(pg) & PG_BUSY) {
			/*
			 * Its holder frees it, and us, when done
			 * (uvm_anon_release); the lock must outlive the amap.
			 */
			KASSERTMSG(anon->an_lock != NULL, "uvm_anfree: anon %p "
			    "has a busy page and no lock", (void *)anon);
			atomic_setbits_int(&pg->pg_flags, PG_RELEASED);
			uvm_rwobj_hold(anon->an_lock);
			return;
		}
		pmap_page_protect(pg, VM_PROT_NONE);
		uvm_lock_pageq();
		uvm_pagefree(pg);	/* clears an_page */
		uvm_unlock_pageq();
	} else if (anon->an_swslot != 0) {
		/* The page lived only in swap; it is gone altogether now. */
		KASSERT(uvmexp_read(swpgonly) > 0);
		uvmexp_add(swpgonly, -1);
	}
	KASSERT(anon->an_page == NULL);
	anon->an_lock = NULL;

	uvm_anon_dropswap(anon);
	KASSERT(anon->an_swslot == 0);
	pool_put(&uvm_anon_pool, anon);
	__atomic_fetch_sub(&uvm_anon_nalloc, 1, __ATOMIC_RELAXED);
}

/*
 * uvm_anon_release: finish an anon whose busy page uvm_anfree released.
 * => an_lock write-held, released on return; the page is the caller's
 *    (PG_RELEASED, and PG_BUSY owned by the caller or already unbusied
 *    by it under the same lock hold); page queues unlocked
 */
void
uvm_anon_release(struct vm_anon *anon)
{
	struct vm_page *pg = anon->an_page;
	krwlock_t *lock = anon->an_lock;

	KASSERT(lock != NULL && rw_write_held(lock));
	KASSERT(pg != NULL && pg->uanon == anon && pg->uobject == NULL);
	/* still busy (OpenBSD's callers), or just unbusied by the caller */
	KASSERT(pg_flags_load(pg) & PG_RELEASED);
	KASSERT(anon->an_ref == 0);

	pmap_page_protect(pg, VM_PROT_NONE);
	uvm_lock_pageq();
	uvm_pagefree(pg);
	uvm_unlock_pageq();
	KASSERT(anon->an_page == NULL);
	/* the page was resident: its slot is no "swap only" page */
	uvm_anon_dropswap(anon);
	uvm_anfree(anon);
	rw_exit(lock);
	/* the reference uvm_anfree took for the released page */
	(void)uvm_rwobj_free(lock);
}

/*
 * uvm_anon_dropswap: release the anon's swap slot, if it has one.
 * => an_lock held, or the anon is unreachable (an_ref 0)
 */
void
uvm_anon_dropswap(struct vm_anon *anon)
{
	KASSERT(anon->an_ref == 0 || anon->an_lock == NULL ||
	    rw_lock_held(anon->an_lock));

	if (anon->an_swslot == 0)
		return;
	uvm_swap_free(anon->an_swslot, 1);
	anon->an_swslot = 0;
}

/* uvm_anon_count: anons allocated now. */
int
uvm_anon_count(void)
{
	return __atomic_load_n(&uvm_anon_nalloc, __ATOMIC_RELAXED);
}
