/*
 * vm/uvm_bufcache.h: a model of the buffer cache, as much of OpenBSD's
 * vfs_bio.c as the pagedaemon sees.
 *
 * There are no file systems here, but the seed's pagedaemon bargains
 * with the buffer cache: it asks it to give memory back (bufbackoff)
 * before it scans, and it discounts the cache in its targets
 * (BUFPAGES_DEFICIT: pages the cache is owed below its low-water mark,
 * which the free count must not count on; BUFPAGES_INACT: clean cache
 * pages above the low-water mark, as good as inactive pages).  This
 * module gives those names a cache to describe:
 *
 *  - The cache holds pages of the machine's RAM, one page per buffer,
 *    ownerless and on no paging queue (like pool pages, and counted in
 *    uvmexp.kernel), linked through pg->pageq on one of three lists:
 *    clean pages in the DMA range, clean pages above it (OpenBSD's
 *    BQ_CLEANL/BQ_CLEANH) and dirty pages.
 *  - Its size: bufhighpages (the configured size, `--bufcache`),
 *    bufpages (the current target, lowered by bufbackoff, raised again
 *    on use as OpenBSD's buf_get does), buflowpages (the floor: a
 *    quarter of bufhighpages, OpenBSD's 5% against its default 20%) and
 *    bufbackpages (the least a backoff gives: 10% of the floor, at most
 *    100 pages, as OpenBSD).
 *  - Work: uvm_bufcache_fill() stands for reads (clean) and delayed
 *    writes (dirty) through the cache: each needs a buffer, a new page
 *    while the cache is below its target and memory is not short
 *    (free above the pagedaemon's target), else the oldest clean buffer
 *    is recycled.  uvm_bufcache_sync() is the syncer: dirty buffers are
 *    written (instantly: the model has no file to write) and become
 *    clean.  Only clean buffers are ever given back.
 *
 * Locking: bufcache_lock, an adaptive mutex taken with no VM lock held
 * (the pagedaemon drops the page queues before bufbackoff; uvm_wait
 * holds nothing), before uvm.pageqlock and uvm.fpageqlock (it frees and
 * allocates pages under it).  bcstats and the size variables change
 * under it with atomic stores, so the pagedaemon may read them (through
 * BUFPAGES_DEFICIT/BUFPAGES_INACT) under the page queues without it.
 *
 *	[b] bufcache_lock (written), [a] read atomically anywhere
 */
#ifndef VM_UVM_BUFCACHE_H
#define VM_UVM_BUFCACHE_H

#include "uvm_page.h"

/* Buffer cache statistics (OpenBSD struct bcachestats, the fields we model). */
struct bcachestats {
	int64_t	numbufpages;	/* [b,a] pages in the cache */
	int64_t	numcleanpages;	/* [b,a] of which clean */
	int64_t	numdirtypages;	/* [b,a] of which dirty */
	int64_t	dmapages;	/* [b,a] of which in the DMA range */
	int64_t	highpages;	/* [b,a] of which above it */
	int64_t	numreads;	/* [b,a] clean fills (reads) */
	int64_t	numwrites;	/* [b,a] dirty fills (delayed writes) */
	int64_t	recycled;	/* [b,a] buffers reused at the target */
	int64_t	flushes;	/* [b,a] dirty buffers written by the syncer */
	int64_t	backoffs;	/* [b,a] bufbackoff calls */
	int64_t	backoff_fails;	/* [b,a] of which could not give `size` */
	int64_t	pagesfreed;	/* [b,a] pages given back to the free lists */
};
extern struct bcachestats bcstats;

/* Cache size in pages (OpenBSD's names). [b,a] */
extern long bufpages, buflowpages, bufhighpages, bufbackpages;

#define bc_load(v)	__atomic_load_n(&(v), __ATOMIC_RELAXED)

static inline long
bufpages_deficit(void)
{
	long d = bc_load(buflowpages) - (long)bc_load(bcstats.numbufpages);

	return d < 0 ? 0 : d;
}

static inline long
bufpages_inact(void)
{
	long d = (long)bc_load(bcstats.numcleanpages) - bc_load(buflowpages);

	return d < 0 ? 0 : d;
}

/* OpenBSD sys/mount.h, read atomically. */
#define BUFPAGES_DEFICIT	bufpages_deficit()
#define BUFPAGES_INACT		bufpages_inact()

/* uvm_bufcache_fill flags */
#define BC_DIRTY	0x1	/* delayed writes: the buffers are dirty */

/* uvm_bufcache_init: an empty cache of size 0.  => boot (uvm_init) */
void uvm_bufcache_init(void);
/*
 * uvm_bufcache_setsize: the cache may hold up to hipages pages (the
 * `--bufcache` size; 0 turns it off and gives every clean page back).
 * Sets bufhighpages, buflowpages, bufbackpages, and bufpages = hipages.
 * => no VM locks held; returns 0, or EINVAL (negative, or more than half
 *    of RAM)
 */
int uvm_bufcache_setsize(long hipages);
/*
 * uvm_bufcache_fill: n buffers of I/O through the cache (clean reads,
 * or with BC_DIRTY delayed writes).  Grows the cache toward its target
 * while free memory is above the pagedaemon's target, recycles clean
 * buffers otherwise; a dirty buffer that must be recycled is written
 * first.  Returns how many buffers were filled (fewer than n only when
 * there is no page and nothing to recycle).
 * => no VM locks held; never sleeps
 */
long uvm_bufcache_fill(long n, int flags);
/*
 * uvm_bufcache_sync: the syncer: write up to n dirty buffers (oldest
 * first); they become clean.  Returns how many.
 * => no VM locks held; never sleeps
 */
long uvm_bufcache_sync(long n);
/*
 * bufbackoff: the pagedaemon asks the cache to give back `size` pages.
 * With a range that accepts memory above the DMA range, clean high
 * pages go first; the rest comes from lowering the target by at least
 * bufbackpages (never below buflowpages) and giving back clean pages
 * down to it, DMA pages first.
 * => range may be NULL (any memory); no VM locks held; never sleeps
 * => returns 0 if it gave what was asked, -1 if it could not (OpenBSD
 *    2022: the pagedaemon then scans; uvm_wait's pagedaemon then pauses)
 */
int bufbackoff(struct uvm_constraint_range *range, long size);
/*
 * bufadjust: set the target to newbufpages (not below buflowpages) and
 * give back clean pages, DMA pages first, until the cache fits it.
 * => no VM locks held; never sleeps
 */
void bufadjust(long newbufpages);
/* uvm_bufcache_drain: give back every page (dirty ones written first). */
void uvm_bufcache_drain(void);
/* uvm_bufcache_stats: a snapshot of bcstats. */
void uvm_bufcache_stats(struct bcachestats *st);

#endif /* VM_UVM_BUFCACHE_H */
