/*
 * vm/uvm_bufcache.c: the buffer-cache model (see uvm_bufcache.h): pages
 * the "buffer cache" holds, and bufbackoff/bufadjust, the part of
 * OpenBSD's vfs_bio.c that the pagedaemon calls.
 */
#include <string.h>

#include "host/mutex.h"
#include "host/pmap.h"
#include "uvm.h"
#include "uvm_bufcache.h"

struct bcachestats bcstats;
long bufpages, buflowpages, bufhighpages, bufbackpages;

static kmutex_t bufcache_lock;		/* adaptive; before uvm.pageqlock */
static struct pglist bc_cleanl;		/* [b] clean, DMA range (BQ_CLEANL) */
static struct pglist bc_cleanh;		/* [b] clean, above it (BQ_CLEANH) */
static struct pglist bc_dirty;		/* [b] dirty, oldest first */
static long hidirtypages, lodirtypages;	/* [b] the syncer's marks */

/* Changes of [b,a] variables: under bufcache_lock, stored atomically. */
#define bc_store(v, x)	__atomic_store_n(&(v), (x), __ATOMIC_RELAXED)
#define bc_add(v, x)	bc_store((v), (v) + (x))

/* local prototypes */
static bool bc_isdma(struct vm_page *pg);
static void bc_account(struct vm_page *pg, int64_t n, bool dirty);
static struct vm_page *bc_newpage(void);
static void bc_freepage(struct vm_page *pg);
static long bc_freeclean(struct pglist *list, long n);
static struct vm_page *bc_recycle(void);
static long bc_sync_locked(long n);
static void bufadjust_locked(long newbufpages);

void
uvm_bufcache_init(void)
{
	mutex_init_class(&bufcache_lock, MUTEX_DEFAULT, IPL_NONE,
	    "bufcache_lock");
	TAILQ_INIT(&bc_cleanl);
	TAILQ_INIT(&bc_cleanh);
	TAILQ_INIT(&bc_dirty);
	memset(&bcstats, 0, sizeof(bcstats));
	bufpages = buflowpages = bufhighpages = bufbackpages = 0;
	hidirtypages = lodirtypages = 0;
}

/* Is pg's frame in the DMA range?  [I] */
static bool
bc_isdma(struct vm_page *pg)
{
	return atop(VM_PAGE_TO_PHYS(pg)) < dma_constraint.ucr_high;
}

/*
 * bc_account: n pages (+1 or -1) enter or leave the cache as clean or
 * dirty.  => bufcache_lock held
 */
static void
bc_account(struct vm_page *pg, int64_t n, bool dirty)
{
	KASSERT(mutex_owned(&bufcache_lock));
	bc_add(bcstats.numbufpages, n);
	if (dirty)
		bc_add(bcstats.numdirtypages, n);
	else
		bc_add(bcstats.numcleanpages, n);
	if (bc_isdma(pg))
		bc_add(bcstats.dmapages, n);
	else
		bc_add(bcstats.highpages, n);
}

/*
 * bc_newpage: a page for a new buffer, if the cache may grow into free
 * memory: only while free memory is above the pagedaemon's target.
 * => bufcache_lock held; never sleeps; NULL if not
 */
static struct vm_page *
bc_newpage(void)
{
	struct vm_page *pg;

	KASSERT(mutex_owned(&bufcache_lock));
	if (uvmexp_read(free) <= uvmexp_read(freetarg))
		return NULL;
	pg = uvm_pagealloc(NULL, 0, NULL, 0);
	if (pg == NULL)
		return NULL;
	/* ownerless and ours alone, like a pool page */
	atomic_clearbits_int(&pg->pg_flags, PG_BUSY | PG_FAKE);
	UVM_PAGE_OWN(pg, NULL);
	uvmexp_inc(kernel);
	return pg;
}

/*
 * bc_freepage: give a page that has left the cache back to the free
 * lists (which wakes pma requests its frame satisfies).
 * => bufcache_lock held; page queues unlocked; never sleeps
 */
static void
bc_freepage(struct vm_page *pg)
{
	KASSERT(mutex_owned(&bufcache_lock));
	uvmexp_add(kernel, -1);
	uvm_pagefree(pg);
	bc_add(bcstats.pagesfreed, 1);
}

/*
 * bc_freeclean: give back up to n clean pages of list, oldest first.
 * => bufcache_lock held; returns how many
 */
static long
bc_freeclean(struct pglist *list, long n)
{
	struct vm_page *pg;
	long done = 0;

	while (done < n && (pg = TAILQ_FIRST(list)) != NULL) {
		TAILQ_REMOVE(list, pg, pageq);
		bc_account(pg, -1, false);
		bc_freepage(pg);
		done++;
	}
	return done;
}

/*
 * bc_recycle: take the oldest clean buffer (high memory first, keeping
 * DMA memory for those who need it) out of the cache for reuse, writing
 * the oldest dirty one first if no clean one is left.
 * => bufcache_lock held; NULL if the cache is empty
 */
static struct vm_page *
bc_recycle(void)
{
	struct pglist *list;
	struct vm_page *pg;

	KASSERT(mutex_owned(&bufcache_lock));
	if (TAILQ_EMPTY(&bc_cleanh) && TAILQ_EMPTY(&bc_cleanl))
		(void)bc_sync_locked(1);
	list = !TAILQ_EMPTY(&bc_cleanh) ? &bc_cleanh : &bc_cleanl;
	if ((pg = TAILQ_FIRST(list)) == NULL)
		return NULL;
	TAILQ_REMOVE(list, pg, pageq);
	bc_account(pg, -1, false);
	bc_add(bcstats.recycled, 1);
	return pg;
}

/*
 * bc_sync_locked: write up to n dirty buffers, oldest first.
 * => bufcache_lock held; returns how many
 */
static long
bc_sync_locked(long n)
{
	struct vm_page *pg;
	long done = 0;

	KASSERT(mutex_owned(&bufcache_lock));
	while (done < n && (pg = TAILQ_FIRST(&bc_dirty)) != NULL) {
		TAILQ_REMOVE(&bc_dirty, pg, pageq);
		bc_account(pg, -1, true);
		bc_account(pg, 1, false);
		TAILQ_INSERT_TAIL(bc_isdma(pg) ? &bc_cleanl : &bc_cleanh, pg,
		    pageq);
		bc_add(bcstats.flushes, 1);
		done++;
	}
	return done;
}

/*
 * bufadjust_locked: the work of bufadjust.
 * => bufcache_lock held
 */
static void
bufadjust_locked(long newbufpages)
{
	long over;

	KASSERT(mutex_owned(&bufcache_lock));
	if (newbufpages < buflowpages)
		newbufpages = buflowpages;
	bc_store(bufpages, newbufpages);

	/*
	 * Shrinking happens here when the pagedaemon has told us to give
	 * memory back *now*: give back clean pages, DMA ones first (OpenBSD
	 * recovers DMA pages here, flipping what it can to high memory; we
	 * have no flipping, so we free), until the cache fits.
	 */
	over = (long)bcstats.numbufpages - bufpages;
	if (over > 0)
		over -= bc_freeclean(&bc_cleanl, over);
	if (over > 0)
		(void)bc_freeclean(&bc_cleanh, over);
}

void
bufadjust(long newbufpages)
{
	mutex_enter(&bufcache_lock);
	bufadjust_locked(newbufpages);
	mutex_exit(&bufcache_lock);
}

int
uvm_bufcache_setsize(long hipages)
{
	long low;

	if (hipages < 0 || hipages > uvmexp.npages / 2)
		return EINVAL;
	/* OpenBSD: floor 5% of RAM against a default 20% cache */
	low = hipages / 4;
	mutex_enter(&bufcache_lock);
	bc_store(bufhighpages, hipages);
	bc_store(buflowpages, low);
	/* at least bufbackpages per backoff: 10% of the floor, <= 100 */
	bc_store(bufbackpages, MIN(low * 10 / 100, 100L));
	hidirtypages = (low / 4) * 3;
	lodirtypages = low / 2;
	if (hipages == 0)
		(void)bc_sync_locked(bcstats.numdirtypages);
	bufadjust_locked(hipages);
	mutex_exit(&bufcache_lock);
	return 0;
}

long
uvm_bufcache_fill(long n, int flags)
{
	bool dirty = (flags & BC_DIRTY) != 0;
	struct vm_page *pg;
	long done;

	KASSERT(witness_nheld() == 0);
	mutex_enter(&bufcache_lock);
	for (done = 0; done < n; done++) {
		if (bufhighpages == 0)
			break;
		/*
		 * If our cache has been shrunk, let it grow again with use
		 * up to bufhighpages (OpenBSD buf_get).
		 */
		if (bufpages < bufhighpages)
			bufadjust_locked(bufhighpages);
		pg = NULL;
		if (bcstats.numbufpages < bufpages)
			pg = bc_newpage();
		if (pg == NULL)
			pg = bc_recycle();
		if (pg == NULL)
			break;
		bc_account(pg, 1, dirty);
		if (dirty) {
			TAILQ_INSERT_TAIL(&bc_dirty, pg, pageq);
			bc_add(bcstats.numwrites, 1);
		} else {
			TAILQ_INSERT_TAIL(bc_isdma(pg) ? &bc_cleanl :
			    &bc_cleanh, pg, pageq);
			bc_add(bcstats.numreads, 1);
		}
		/* wake the cleaner when dirty pages pile up (OpenBSD) */
		if (bcstats.numdirtypages >= hidirtypages && hidirtypages > 0)
			(void)bc_sync_locked(bcstats.numdirtypages -
			    lodirtypages);
	}
	mutex_exit(&bufcache_lock);
	return done;
}

long
uvm_bufcache_sync(long n)
{
	long done;

	KASSERT(witness_nheld() == 0);
	mutex_enter(&bufcache_lock);
	done = bc_sync_locked(n);
	mutex_exit(&bufcache_lock);
	return done;
}

/*
 * bufbackoff: see uvm_bufcache.h (OpenBSD 2022 vfs_bio.c bufbackoff).
 * => no VM locks held; never sleeps
 */
int
bufbackoff(struct uvm_constraint_range *range, long size)
{
	long pdelta, oldbufpages, recovered;
	int rv;

	KASSERT(!mutex_owned(&uvm.pageqlock));
	KASSERT(!mutex_owned(&uvm.fpageqlock));
	mutex_enter(&bufcache_lock);
	bc_add(bcstats.backoffs, 1);

	/*
	 * If we will accept high memory for this backoff, try to steal it
	 * from the high memory buffer cache.
	 */
	if (range != NULL && range->ucr_high > dma_constraint.ucr_high) {
		recovered = bc_freeclean(&bc_cleanh, size);

		/* If we got enough, return success */
		if (recovered >= size) {
			rv = 0;
			goto out;
		}
		/* If we needed only memory above DMA, return failure */
		if (range->ucr_low > dma_constraint.ucr_high) {
			rv = -1;
			goto out;
		}
		/* Otherwise get the rest from DMA */
		size -= recovered;
	}

	/*
	 * Back off by at least bufbackpages.  If the page daemon gave us
	 * a larger size, back off by that much.
	 */
	pdelta = (size > bufbackpages) ? size : bufbackpages;

	if (bufpages <= buflowpages) {
		rv = -1;
		goto out;
	}
	if (bufpages - pdelta < buflowpages)
		pdelta = bufpages - buflowpages;
	oldbufpages = bufpages;
	bufadjust_locked(bufpages - pdelta);
	/* we did not free what we were asked? */
	rv = (oldbufpages - bufpages < size) ? -1 : 0;
out:
	if (rv != 0)
		bc_add(bcstats.backoff_fails, 1);
	mutex_exit(&bufcache_lock);
	return rv;
}

void
uvm_bufcache_drain(void)
{
	mutex_enter(&bufcache_lock);
	(void)bc_sync_locked(bcstats.numdirtypages);
	(void)bc_freeclean(&bc_cleanl, bcstats.numcleanpages);
	(void)bc_freeclean(&bc_cleanh, bcstats.numcleanpages);
	KASSERT(bcstats.numbufpages == 0);
	mutex_exit(&bufcache_lock);
}

void
uvm_bufcache_stats(struct bcachestats *st)
{
	st->numbufpages = bc_load(bcstats.numbufpages);
	st->numcleanpages = bc_load(bcstats.numcleanpages);
	st->numdirtypages = bc_load(bcstats.numdirtypages);
	st->dmapages = bc_load(bcstats.dmapages);
	st->highpages = bc_load(bcstats.highpages);
	st->numreads = bc_load(bcstats.numreads);
	st->numwrites = bc_load(bcstats.numwrites);
	st->recycled = bc_load(bcstats.recycled);
	st->flushes = bc_load(bcstats.flushes);
	st->backoffs = bc_load(bcstats.backoffs);
	st->backoff_fails = bc_load(bcstats.backoff_fails);
	st->pagesfreed = bc_load(bcstats.pagesfreed);
}
