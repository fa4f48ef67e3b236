/*
 * vm/uvm_pager.c: the pager layer: pageout of clusters, and the
 * completion of asynchronous pageouts.
 *
 * A pageout's I/O completes on a disk thread (the machine's interrupt
 * context) in uvm_aio_biodone, which only queues the buf for the aiodone
 * daemon; the daemon (uvm_aiodone_daemon, uvm_pdaemon.c) decrements
 * uvmexp.paging and calls uvm_aio_aiodone, which takes each page's owner
 * lock and finishes the pages: clean and unbusied on success, dirty and
 * reactivated (keeping their data, losing their swap slot) on error,
 * freed (with any aobj swap slot) when they were released during the I/O.
 */
#include "host/pmap.h"
#include "host/pool.h"
#include "uvm.h"
#include "uvm_anon.h"
#include "uvm_aobj.h"
#include "uvm_km.h"
#include "uvm_pager.h"
#include "uvm_swap.h"

static struct pool uvm_aiobuf_pool;

#define AIOBUF_PRIME	32	/* bufs kept for a pagedaemon short of memory */

void
uvm_pager_init(void)
{
	mutex_init_class(&uvm.aiodoned_lock, MUTEX_DEFAULT, IPL_BIO,
	    "aiodoned_lock");
	TAILQ_INIT(&uvm.aio_done);
	pool_init(&uvm_aiobuf_pool, sizeof(struct uvm_aiobuf), 0, 0, 0,
	    "aiobufpl", &uvm_km_pool_allocator, IPL_VM);
	(void)pool_prime(&uvm_aiobuf_pool, AIOBUF_PRIME);
}

/*
 * uvm_aiobuf_get: a buf for a swap transfer, or NULL (VM_PAGER_AGAIN).
 * => never sleeps
 *
 * OpenBSD's uvm_swap_io sleeps for its buf (PR_WAITOK) unless the
 * transfer is asynchronous or the caller is the pagedaemon.  Ours never
 * sleeps (a real shortage is VM_PAGER_AGAIN for every caller), but an
 * injected failure (host/failpoint.h) only fails the gets OpenBSD may
 * fail: the pagedaemon's, which are every pageout's.  A fault's or
 * uao_get's synchronous read is PR_NOFAILINJ.
 */
struct uvm_aiobuf *
uvm_aiobuf_get(void)
{
	int flags = PR_NOWAIT | PR_ZERO;

	if (curproc == NULL || curproc !=
	    __atomic_load_n(&uvm.pagedaemon_proc, __ATOMIC_ACQUIRE))
		flags |= PR_NOFAILINJ;
	return pool_get(&uvm_aiobuf_pool, flags);
}

void
uvm_aiobuf_put(struct uvm_aiobuf *ab)
{
	pool_put(&uvm_aiobuf_pool, ab);
}

/* The lock of the page's owner. */
static krwlock_t *
pager_ownerlock(struct vm_page *pg)
{
	if (pg->uobject != NULL)
		return pg->uobject->vmobjlock;
	KASSERT(pg->uanon != NULL);
	return pg->uanon->an_lock;
}

/*
 * pager_setswslot: record a page's swap slot in its owner.
 * => owner write-locked
 */
static void
pager_setswslot(struct vm_page *pg, int slot)
{
	if (pg_flags_load(pg) & PQ_ANON)
		pg->uanon->an_swslot = slot;
	else
		(void)uao_set_swslot(pg->uobject, (int)(pg->offset >> PAGE_SHIFT),
		    slot);
}

/*
 * uvm_pager_dropcluster: see uvm_pager.h.  As OpenBSD's: the pages of a
 * swap cluster (uobj NULL) are locked one by one through their owners,
 * and on failure lose the slots the cluster gave them (the caller frees
 * those or marks them bad); the pages of an object's own cluster are
 * under the object lock the caller (the pagedaemon) holds through the
 * pageout, and keep whatever backing store their object gives them.
 * Failed pages stay where they are, dirty (the next pass tries them
 * again); only the caller's own page is reactivated on an error, by
 * uvmpd_scan_inactive.  A page released while it was busy is freed
 * here, with its aobj swap slot (as uvm_page_unbusy frees one).
 */
void
uvm_pager_dropcluster(struct uvm_object *uobj, struct vm_page *pg,
    struct vm_page **ppsp, int *npages, int flags)
{
	struct vm_page *p;
	krwlock_t *lock = NULL;
	int lcv;

	KASSERT(uobj == NULL || rw_write_held(uobj->vmobjlock));
	KASSERT(!mutex_owned(&uvm.pageqlock));
	for (lcv = 0; lcv < *npages; lcv++) {
		p = ppsp[lcv];
		if (p == pg || p == NULL)
			continue;
		if (uobj == NULL) {
			lock = pager_ownerlock(p);
			rw_enter(lock, RW_WRITE);
			/* the slot is no good: the page stays dirty */
			if (flags & PGO_REALLOCSWAP)
				pager_setswslot(p, 0);
		} else {
			KASSERT(p->uobject == uobj);
		}
		KASSERT(pg_flags_load(p) & PG_BUSY);
		if ((flags & PGO_REALLOCSWAP) == 0) {
			/* written out: clean now */
			pmap_clear_reference(p);
			pmap_clear_modify(p);
			atomic_setbits_int(&p->pg_flags, PG_CLEAN);
		}
		if (pg_flags_load(p) & PG_WANTED)
			wakeup(p);
		atomic_clearbits_int(&p->pg_flags, PG_BUSY | PG_WANTED);
		UVM_PAGE_OWN(p, NULL);
		if (pg_flags_load(p) & PG_RELEASED) {
			if (p->uanon != NULL) {
				KASSERT(uobj == NULL);
				uvm_anon_release(p->uanon);	/* unlocks */
				continue;
			}
			pmap_page_protect(p, VM_PROT_NONE);
			if (pg_flags_load(p) & PQ_AOBJ)
				(void)uao_dropswap(p->uobject,
				    (int)(p->offset >> PAGE_SHIFT));
			uvm_lock_pageq();
			uvm_pagefree(p);
			uvm_unlock_pageq();
		}
		if (uobj == NULL)
			rw_exit(lock);
	}
}

int
uvm_pager_put(struct uvm_object *uobj, struct vm_page *pg,
    struct vm_page ***ppsp_ptr, int *npages, int flags, voff_t start,
    voff_t stop)
{
	struct vm_page **ppsp = *ppsp_ptr;
	int result, swblk = 0;

	MUTEX_ASSERT_LOCKED(&uvm.pageqlock);
	if (uobj != NULL) {
		/* An object's own pager builds its cluster, if it can. */
		if (uobj->pgops->pgo_mk_pcluster != NULL) {
			ppsp = uobj->pgops->pgo_mk_pcluster(uobj, ppsp, npages,
			    pg, flags, start, stop);
			*ppsp_ptr = ppsp;
		} else {
			ppsp[0] = pg;
			*npages = 1;
		}
	} else {
		/* The pagedaemon built the swap cluster; start is its slot. */
		swblk = (int)start;
	}
	uvm_unlock_pageq();

retry:
	if (uobj != NULL) {
		KASSERT(uobj->pgops->pgo_put != NULL);
		result = uobj->pgops->pgo_put(uobj, ppsp, *npages, flags);
	} else {
		result = uvm_swap_put(swblk, ppsp, *npages, flags);
	}

	if (result == VM_PAGER_PEND || result == VM_PAGER_OK) {
		if (result == VM_PAGER_OK && (flags & PGO_PDFREECLUST) &&
		    (*npages > 1 || pg == NULL))
			uvm_pager_dropcluster(uobj, pg, ppsp, npages,
			    PGO_PDFREECLUST);
		return result;
	}

	/*
	 * The pageout failed: drop the cluster, keeping only pg for the
	 * caller to deal with.
	 */
	if (*npages > 1 || pg == NULL) {
		uvm_pager_dropcluster(uobj, pg, ppsp, npages, PGO_REALLOCSWAP);
		/*
		 * pg keeps its slot for a transient error (we retry with it)
		 * and loses it for a hard one.
		 */
		if (uobj == NULL && pg != NULL) {
			krwlock_t *lock = pager_ownerlock(pg);

			rw_enter(lock, RW_WRITE);
			pager_setswslot(pg, result == VM_PAGER_AGAIN ? swblk : 0);
			rw_exit(lock);
		}
		if (result == VM_PAGER_AGAIN) {
			/* free the slots we will not retry with */
			if (uobj == NULL) {
				if (pg != NULL)
					uvm_swap_free(swblk + 1, *npages - 1);
				else
					uvm_swap_free(swblk, *npages);
			}
			if (pg != NULL) {
				ppsp[0] = pg;
				*npages = 1;
				goto retry;
			}
		} else if (uobj == NULL) {
			/* hard errors: those slots are bad, never reused */
			uvm_swap_markbad(swblk, *npages);
		}
	}
	return result;
}

void
uvm_aio_biodone(struct buf *bp)
{
	/* the aiodone daemon calls b_iodone: make it the real completion */
	bp->b_iodone = uvm_aio_aiodone;
	mtx_enter(&uvm.aiodoned_lock);
	TAILQ_INSERT_TAIL(&uvm.aio_done, bp, b_freelist);
	wakeup(&uvm.aiodoned);
	mtx_leave(&uvm.aiodoned_lock);
}

void
uvm_aio_aiodone(struct buf *bp)
{
	struct uvm_aiobuf *ab = (struct uvm_aiobuf *)bp;
	int npages = bp->b_npages, i, error, slot;
	bool write = (bp->b_flags & B_READ) == 0;
	struct vm_page *pg;
	krwlock_t *lock;

	error = (bp->b_flags & B_ERROR) ? (bp->b_error ? bp->b_error : EIO) : 0;
	KASSERT(write);		/* only pageouts are asynchronous */
	for (i = 0; i < npages; i++) {
		pg = ab->ab_pages[i];
		lock = pager_ownerlock(pg);
		rw_enter(lock, RW_WRITE);
		KASSERT(pg_flags_load(pg) & PG_BUSY);
		KASSERT((pg_flags_load(pg) & PG_FAKE) == 0);
		if (error == 0) {
			/* on disk now: clean, and unreferenced from here */
			pmap_clear_reference(pg);
			pmap_clear_modify(pg);
			atomic_setbits_int(&pg->pg_flags, PG_CLEAN);
		} else {
			/*
			 * Keep the data: the page stays dirty and goes back
			 * to the active queue; its slot is bad.
			 */
			pager_setswslot(pg, 0);
		}
		if (pg_flags_load(pg) & PG_WANTED)
			wakeup(pg);
		atomic_clearbits_int(&pg->pg_flags, PG_BUSY | PG_WANTED);
		UVM_PAGE_OWN(pg, NULL);
		if (pg_flags_load(pg) & PG_RELEASED) {
			/*
			 * freed while its I/O ran: finish the job, slot and
			 * all (an aobj keeps its pages' slots: give it back,
			 * as uvm_page_unbusy does, or the object would hold
			 * it for a page that no longer exists)
			 */
			if (pg->uanon != NULL) {
				uvm_anon_release(pg->uanon);	/* unlocks */
				continue;
			}
			pmap_page_protect(pg, VM_PROT_NONE);
			if (pg_flags_load(pg) & PQ_AOBJ)
				(void)uao_dropswap(pg->uobject,
				    (int)(pg->offset >> PAGE_SHIFT));
			uvm_lock_pageq();
			uvm_pagefree(pg);
			uvm_unlock_pageq();
		} else if (error != 0) {
			uvm_lock_pageq();
			uvm_pageactivate(pg);
			uvm_unlock_pageq();
		}
		rw_exit(lock);
	}
	if (error != 0) {
		slot = ab->ab_swslot;
		if (slot != 0)
			uvm_swap_markbad(slot, npages);
	}
	uvm_aiobuf_put(ab);
}
