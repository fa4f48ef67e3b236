/*
 * host/pool.h: pool(9) and pool_cache(9), the kernel's object allocators.
 *
 * A pool hands out fixed-size items carved from "pool pages" that come
 * from a pluggable page allocator (struct pool_allocator, as in the seed
 * uvm_glue.c): the default, pool_allocator_host, takes pages from the host
 * with mmap(2) and never calls malloc, so pool_get(PR_NOWAIT) is safe on
 * the trap path; vm/ plugs in uvm_km_alloc_poolpage1 so that kernel
 * structures live in the machine's RAM.  pa_pagesz may be larger than
 * PAGE_SIZE (the seed's u-area allocator hands out USPACE-sized pages);
 * pool_init fills in a pa_pagesz of 0 with PAGE_SIZE, as NetBSD does.
 *
 * Pages and their headers.  Each pool page has a header (struct
 * pool_item_header, private to pool.c) holding a bitmap of its free items,
 * so a double put is caught in every build.  The header sits at the end of
 * the page when items are small; it lives off the page (in a header pool
 * of host pages, never malloc) for large items, PR_NOTOUCH (the pool never
 * reads or writes item memory) and PR_NOALIGN (pages need not be aligned
 * to pa_pagesz).  pool_put finds an item's page by masking its address
 * (aligned pages, header on the page) or through a per-pool hash keyed by
 * address / pa_pagesz (off-page headers: a page is entered under the one
 * or two slots it overlaps).  DIAGNOSTIC builds also fill free items with
 * a pattern (unless PR_NOTOUCH) and panic on get if it was overwritten.
 *
 * pool_cache layers constructed objects over a pool: per-CPU caches of
 * ready objects (the CPU is the simulated one the caller holds, see
 * host/cpu.h; a thread without a CPU uses only the depot) and a shared
 * depot under pc_lock.  The constructor runs when an object is made from
 * the pool, the destructor when it goes back to the pool (depot overflow,
 * pool_cache_invalidate, pool_cache_destroy).  A per-CPU cache is touched
 * only by the LWP holding that CPU and never across a blocking call, so it
 * needs no lock; pool_cache_invalidate therefore empties the depot and the
 * caller's own CPU cache at once and marks the other CPUs' caches stale:
 * each is emptied (destructed) by the next LWP to use the cache on that
 * CPU.
 *
 * Failure injection (host/failpoint.h): while a rate is set, a PR_NOWAIT
 * pool_get or pool_cache_get may fail (NULL, counted in pr_nfail) though
 * items are at hand, as when the pool's allocator runs dry; PR_WAITOK
 * never does.  Pools on pool_allocator_host (the machine's own: pv
 * entries, page headers) are exempt, as is any pool initialised with
 * PR_NOFAILINJ, and a get with PR_NOFAILINJ in its flags (a PR_NOWAIT
 * get that stands for one the BSDs make with PR_WAITOK); host/failpoint.c
 * says why.
 *
 * Locking: each pool has its own mutex (pr_lock, a spin mutex when the
 * pool's ipl is above IPL_NONE, its witness class "pool:<wchan>"); the
 * page allocator, the constructor and the destructor are always called
 * without any pool lock held.  No pool lock is ever held while another
 * is taken.  PR_WAITOK may sleep until an item is returned; PR_NOWAIT
 * never sleeps.
 *
 * Legend: [I] set by pool_init, then immutable; [pr_lock] the pool's lock.
 */
#ifndef HOST_POOL_H
#define HOST_POOL_H

#include <sys/queue.h>

#include "condvar.h"
#include "mutex.h"

#define PR_NOWAIT	0x00
#define PR_WAITOK	0x01
#define PR_ZERO		0x02	/* zero the item */
#define PR_LIMITFAIL	0x04	/* with PR_WAITOK: fail at the hard limit */
#define PR_NOTOUCH	0x10	/* pool_init: do not keep headers in items */
#define PR_NOALIGN	0x20	/* pool_init: pages need not be pa_pagesz aligned */
#define PR_NOFAILINJ	0x40	/* pool_init, or a get: no injected failure */

struct pool;

struct pool_allocator {
	/* pa_alloc: one page of pa_pagesz bytes, or NULL.  flags: PR_WAITOK */
	void		*(*pa_alloc)(struct pool *, int flags);
	void		(*pa_free)(struct pool *, void *);
	unsigned int	pa_pagesz;	/* 0: PAGE_SIZE */
};

/* Pages from the host (mmap), never malloc. */
extern struct pool_allocator pool_allocator_host;

struct pool_item_header;
LIST_HEAD(pool_pagelist, pool_item_header);

struct pool {
	kmutex_t		pr_lock;
	kcondvar_t		pr_cv;		/* PR_WAITOK sleepers [pr_lock] */
	const char		*pr_wchan;	/* [I] name */
	struct pool_allocator	*pr_alloc;	/* [I] */
	size_t			pr_size;	/* [I] item size, rounded to align */
	size_t			pr_align;	/* [I] */
	unsigned int		pr_itemsperpage; /* [I] */
	int			pr_flags;	/* [I] */
	struct pool_pagelist	pr_emptypages;	/* [pr_lock] wholly free */
	struct pool_pagelist	pr_partpages;	/* [pr_lock] some free */
	struct pool_pagelist	pr_fullpages;	/* [pr_lock] no free items */
	unsigned int		pr_hardlimit;	/* [pr_lock] max items, 0 none */
	unsigned int		pr_minitems;	/* [pr_lock] low water */
	/* statistics [pr_lock] */
	uint64_t		pr_nget;	/* successful gets */
	uint64_t		pr_nput;	/* puts */
	uint64_t		pr_nfail;	/* failed gets */
	uint64_t		pr_nsleep;	/* PR_WAITOK sleeps */
	uint64_t		pr_npagealloc;	/* pages taken from the allocator */
	uint64_t		pr_npagefree;	/* pages given back */
	unsigned int		pr_npages;	/* pages held now */
	unsigned int		pr_nitems;	/* free items held now */
	unsigned int		pr_nout;	/* items handed out now */
	LIST_ENTRY(pool)	pr_poollist;	/* [pool list lock] */

	/* page layout, private to pool.c */
	size_t			pr_pagesz;	/* [I] pa_pagesz */
	size_t			pr_itemoffset;	/* [I] first item in the page */
	size_t			pr_phoffset;	/* [I] header in page; 0 off-page */
	unsigned int		pr_bitmapwords;	/* [I] 64-bit words of bitmap */
	struct pool		*pr_phpool;	/* [I] off-page headers from here */
	struct pool_item_header	**pr_phhash;	/* [pr_lock] off-page lookup */
	size_t			pr_phhashmask;	/* [pr_lock] buckets - 1 */
};

/*
 * pool_init: set up pp for items of `size` bytes aligned to `align` (0:
 * 8), such that item + ioff is aligned.  palloc NULL: pool_allocator_host.
 * => may allocate host pages (the lookup hash of an off-page pool)
 */
void pool_init(struct pool *pp, size_t size, unsigned int align,
    unsigned int ioff, int flags, const char *wchan,
    struct pool_allocator *palloc, int ipl);
/* pool_destroy: => every item returned (DIAGNOSTIC panics otherwise) */
void pool_destroy(struct pool *pp);
/*
 * pool_get: an item, or NULL (PR_NOWAIT: no memory, the hard limit or an
 * injected failure; PR_WAITOK|PR_LIMITFAIL at the hard limit).
 * => PR_WAITOK may sleep; PR_NOWAIT never sleeps
 */
void *pool_get(struct pool *pp, int flags);
/* pool_put: => never sleeps; panics on a double put or a foreign item */
void pool_put(struct pool *pp, void *item);
/*
 * pool_prime: make sure n items are available without the allocator.
 * => returns 0 or ENOMEM; never sleeps (the allocator gets PR_NOWAIT)
 */
int pool_prime(struct pool *pp, int n);
/* pool_sethardlimit: at most n items out at once (0: no limit). */
void pool_sethardlimit(struct pool *pp, unsigned int n);
/* pool_setlowat: keep n free items (primes up to n, PR_NOWAIT). */
void pool_setlowat(struct pool *pp, unsigned int n);
/*
 * pool_reclaim: give wholly free pages above the low water back.
 * => returns the number of pages freed; may sleep in the allocator's free
 */
int pool_reclaim(struct pool *pp);
/* pool_printall: one line per pool to stderr (dumps). => never sleeps */
void pool_printall(void);

typedef struct pool_cache *pool_cache_t;

/* pool_cache_init: => may sleep; returns NULL if host memory ran out */
pool_cache_t pool_cache_init(size_t size, unsigned int align,
    unsigned int align_offset, int flags, const char *wchan,
    struct pool_allocator *palloc, int ipl,
    int (*ctor)(void *arg, void *obj, int flags),
    void (*dtor)(void *arg, void *obj), void *arg);
/* pool_cache_destroy: => no other thread uses pc; every object returned */
void pool_cache_destroy(pool_cache_t pc);
/*
 * pool_cache_get: a constructed object, or NULL (pool failure, an
 * injected failure (PR_NOWAIT) or the constructor's).  PR_ZERO only for
 * caches without a constructor.
 * => PR_WAITOK may sleep (pool and constructor); PR_NOWAIT: the
 *    constructor gets PR_NOWAIT and must not sleep
 */
void *pool_cache_get(pool_cache_t pc, int flags);
/* pool_cache_put: => may call the destructor (depot full) */
void pool_cache_put(pool_cache_t pc, void *obj);
/*
 * pool_cache_invalidate: destruct every cached object (low memory): the
 * depot's and this CPU's now, other CPUs' at their next use.
 */
void pool_cache_invalidate(pool_cache_t pc);
/* The pool under a cache (for statistics). */
struct pool *pool_cache_pool(pool_cache_t pc);

/* Statistics for a cache: constructed objects cached, ctor/dtor calls. */
struct pool_cache_stats {
	uint64_t	pcs_nctor;
	uint64_t	pcs_ndtor;
	uint64_t	pcs_hits;	/* gets served from a cache */
	uint64_t	pcs_misses;	/* gets that went to the pool */
	uint64_t	pcs_nfail;	/* gets that failed (pool or ctor) */
	unsigned int	pcs_cached;	/* constructed objects held now */
};
void pool_cache_stats(pool_cache_t pc, struct pool_cache_stats *st);

#endif /* HOST_POOL_H */
