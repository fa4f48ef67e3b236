/*
 * host/pool.c: pool(9) and pool_cache(9).
 *
 * The design is in host/pool.h.  In short:
 *
 *  - A pool page comes from pr_alloc->pa_alloc, called without pr_lock.
 *    Its header (struct pool_item_header) keeps a bitmap of free items
 *    (bit set = free): finding a free item is a scan for a set bit from a
 *    hint, and a double put is a set bit found set, caught in every build.
 *    Pages sit on one of three lists: empty (all free), partly used, full.
 *
 *  - The header lives at the end of the page (pr_phoffset != 0) or, for
 *    PR_NOTOUCH, PR_NOALIGN and large items, off the page, in one of the
 *    header pools phpool[k] (bitmaps of 64 << k items, pages from
 *    pool_allocator_host, headers on their own pages).  Off-page headers
 *    are found through pr_phhash: a page of size P at address A overlaps
 *    slots A / P and (A + P - 1) / P (one slot if A is aligned) and is
 *    entered under each; an item at va is looked up under slot va / P.
 *    Bucket = slot & mask, so the two slots of one page always land in
 *    different buckets (nbuckets >= 2), and ph_hnext[0] links the chain of
 *    the first slot, ph_hnext[1] that of the second.  The table is host
 *    pages; it grows (4x) once pages outnumber twice the buckets.
 *
 *  - Memory comes only from mmap(2): pool_get(PR_NOWAIT) on a pool with
 *    pool_allocator_host never calls malloc, so it is fine on the trap
 *    path; so is everything pool_cache adds (its structure is host pages).
 *
 *  - Injected failures (host/failpoint.h): pool_inject asks the
 *    failpoint for PR_NOWAIT gets without PR_NOFAILINJ, of pools without
 *    it (pool_init sets it for pools on pool_allocator_host); pool_get1
 *    then fails through the ordinary failure exit, counted in pr_nfail.
 *    pool_cache_get asks once, before its caches.
 *
 *  - pool_cache: a per-CPU stack of PCC_DEPTH constructed objects, and a
 *    depot array of PCC_DEPOT_MAX objects under pc_lock.  A CPU cache that
 *    is empty takes PCC_BATCH objects from the depot; one that is full
 *    sends its older PCC_BATCH objects there.  Objects that do not fit the
 *    depot are destructed and put back in the pool.  Invalidation bumps
 *    pc_gen; a CPU cache whose cc_gen is older is stale, and its holder
 *    empties it (destructing) before using it.
 *
 * Locks: pr_lock covers a pool's pages, lists, hash and statistics;
 * pc_lock covers a cache's depot.  Neither is ever held while another
 * pool lock is taken, nor across the allocator, ctor or dtor.  The pool
 * list has a host mutex, below every kernel lock.  Per-CPU caches ([o]:
 * the LWP holding that CPU) have no lock: they are touched only between
 * blocking calls (a thread keeps its CPU until it blocks, host/cpu.h).
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "clock.h"
#include "hsync.h"
#include "cpu.h"
#include "failpoint.h"
#include "kassert.h"
#include "pool.h"

#define PR_PHINPAGE	0x40000000	/* internal: header on the page, always */
#define PR_DEFALIGN	8		/* align 0 (NetBSD's ALIGN(1) on amd64) */
#define PH_MAGIC	0x70686472U	/* "phdr" */
#define PR_FREEBYTE	0xdb		/* DIAGNOSTIC: free items are filled ... */
#define PR_FREECHECK	64		/* ... this far */
#define PHPOOL_MAX	8		/* off-page bitmaps of up to 64 << 7 items */
#define PR_HASH_INITIAL	(PAGE_SIZE / sizeof(struct pool_item_header *))

#define PCC_DEPTH	16		/* objects in a per-CPU cache */
#define PCC_BATCH	(PCC_DEPTH / 2)	/* moved between CPU cache and depot */
#define PCC_DEPOT_MAX	256		/* objects in the depot */

#define LD(p)		atomic_load_explicit((p), memory_order_relaxed)
#define ST(p, v)	atomic_store_explicit((p), (v), memory_order_relaxed)
#define ADD(p, v)	atomic_fetch_add_explicit((p), (v), memory_order_relaxed)

#define powerof2(x)	((((x) - 1) & (x)) == 0)

struct pool_item_header {
	LIST_ENTRY(pool_item_header) ph_pagelist; /* [pr_lock] on a page list */
	struct pool_item_header	*ph_hnext[2];	/* [pr_lock] hash chains */
	struct pool		*ph_pool;	/* [I] owner */
	char			*ph_page;	/* [I] the page */
	uint32_t		ph_magic;	/* [I] PH_MAGIC while in use */
	unsigned int		ph_nmissing;	/* [pr_lock] items out */
	unsigned int		ph_hint;	/* [pr_lock] words below are 0 */
	uint64_t		ph_bitmap[];	/* [pr_lock] set bit: item free */
};

struct pool_cache_cpu {
	_Alignas(64) atomic_uint cc_nobjs;	/* [o] stats read it relaxed */
	unsigned int		cc_gen;		/* [o] pc_gen last seen */
	_Atomic uint64_t	cc_hits;	/* [o] stats read it relaxed */
	void			*cc_objs[PCC_DEPTH];	/* [o] a stack */
};

struct pool_cache {
	struct pool		pc_pool;	/* the raw items */
	kmutex_t		pc_lock;	/* the depot */
	int			(*pc_ctor)(void *, void *, int);	/* [I] */
	void			(*pc_dtor)(void *, void *);	/* [I] */
	void			*pc_arg;	/* [I] */
	size_t			pc_mapsize;	/* [I] bytes mapped for this */
	atomic_uint		pc_gen;		/* [a] invalidations */
	_Alignas(64) _Atomic uint64_t pc_nctor;	/* [a] statistics */
	_Atomic uint64_t	pc_ndtor;
	_Atomic uint64_t	pc_hits;	/* [a] gets served by the depot */
	_Atomic uint64_t	pc_misses;
	_Atomic uint64_t	pc_nfail;
	unsigned int		pc_ndepot;	/* [pc_lock] */
	void			*pc_depot[PCC_DEPOT_MAX];	/* [pc_lock] */
	struct pool_cache_cpu	pc_cpu[MAXCPUS];	/* [o] by ci_index */
};

/* local prototypes */
static void *pool_host_map(size_t, size_t);
static void pool_host_unmap(void *, size_t);
static void *pool_page_alloc_host(struct pool *, int);
static void pool_page_free_host(struct pool *, void *);
static void phpool_init(void);
static size_t pool_phsize(unsigned int);
static struct pool_item_header **pool_phhash_link(const struct pool *,
    struct pool_item_header *, uintptr_t);
static void pool_phhash_insert(struct pool *, struct pool_item_header *);
static void pool_phhash_remove(struct pool *, struct pool_item_header *);
static void pool_phhash_rebuild(struct pool *, struct pool_item_header **,
    size_t);
static struct pool_item_header *pool_item_lookup(struct pool *, uintptr_t);
static struct pool_item_header *pool_page_alloc(struct pool *, int);
static void pool_page_free(struct pool *, struct pool_item_header *);
static void pool_page_insert(struct pool *, struct pool_item_header *);
static void pool_page_remove(struct pool *, struct pool_item_header *);
static int pool_grow(struct pool *, int);
static bool pool_inject(const struct pool *, int);
static void *pool_get1(struct pool *, int, bool);
static void *pool_page_take(struct pool *, struct pool_item_header *);
static int pool_retry_ticks(void);
#ifdef DIAGNOSTIC
static void pool_item_fill(const struct pool *, void *);
static void pool_item_check(const struct pool *, const void *);
#endif
static struct pool_cache_cpu *pcc_cur(pool_cache_t);
static unsigned int pcc_takestale(pool_cache_t, struct pool_cache_cpu *,
    void **);
static void pcc_destruct(pool_cache_t, void **, unsigned int);
static unsigned int pcc_depot_get(pool_cache_t, void **, unsigned int);
static void pcc_depot_put(pool_cache_t, void **, unsigned int);
static void pcc_refill(pool_cache_t, void **, unsigned int);

struct pool_allocator pool_allocator_host = {
	.pa_alloc = pool_page_alloc_host,
	.pa_free = pool_page_free_host,
	.pa_pagesz = PAGE_SIZE,
};

/* Off-page header pools, made on first need. */
static struct pool phpool[PHPOOL_MAX];
static pthread_once_t phpool_once = PTHREAD_ONCE_INIT;
static const char *const phpool_names[PHPOOL_MAX] = {
	"phpool-64", "phpool-128", "phpool-256", "phpool-512",
	"phpool-1k", "phpool-2k", "phpool-4k", "phpool-8k",
};

/* Every pool, for pool_printall. */
static pthread_mutex_t pool_list_lock = PTHREAD_MUTEX_INITIALIZER;
static LIST_HEAD(, pool) pool_list = LIST_HEAD_INITIALIZER(pool_list);

/*
 * Host pages.
 */

/*
 * pool_host_map: size bytes (rounded to pages) of zeroed host memory
 * aligned to align (a power of two), or NULL.
 * => never sleeps, never allocates: mmap and munmap only
 */
static void *
pool_host_map(size_t size, size_t align)
{
	uintptr_t va, start;
	size_t len;
	void *p;

	size = round_page(size);
	len = align > PAGE_SIZE ? size + align : size;
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
	    -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	if (align <= PAGE_SIZE)
		return p;
	va = (uintptr_t)p;
	start = (va + align - 1) & ~(uintptr_t)(align - 1);
	if (start > va)
		(void)munmap(p, start - va);
	if (va + len > start + size)
		(void)munmap((void *)(start + size), va + len - (start + size));
	return (void *)start;
}

static void
pool_host_unmap(void *p, size_t size)
{
	if (munmap(p, round_page(size)) != 0)
		panic("pool: munmap(%p, %zu) failed: errno %d", p,
		    (size_t)round_page(size), errno);
}

/*
 * pool_allocator_host: pages of pa_pagesz, aligned to it unless the pool
 * is PR_NOALIGN.  => never sleeps, never allocates
 */
static void *
pool_page_alloc_host(struct pool *pp, int flags __unused)
{
	return pool_host_map(pp->pr_pagesz,
	    (pp->pr_flags & PR_NOALIGN) != 0 ? PAGE_SIZE : pp->pr_pagesz);
}

static void
pool_page_free_host(struct pool *pp, void *v)
{
	pool_host_unmap(v, pp->pr_pagesz);
}

/*
 * Pools.
 */

static void
phpool_init(void)
{
	size_t sz;
	int k;

	for (k = 0; k < PHPOOL_MAX; k++) {
		sz = sizeof(struct pool_item_header) +
		    (sizeof(uint64_t) << k);
		/* IPL_VM: pool_get(PR_NOWAIT) may come with spin locks held */
		pool_init(&phpool[k], sz, 0, 0, PR_PHINPAGE, phpool_names[k],
		    &pool_allocator_host, IPL_VM);
	}
}

/* The size of a header whose bitmap covers n items. */
static size_t
pool_phsize(unsigned int n)
{
	return sizeof(struct pool_item_header) +
	    howmany(n, 64) * sizeof(uint64_t);
}

/*
 * pool_init: see host/pool.h.
 *
 * Layout: items from pr_itemoffset (so that item + ioff is aligned), the
 * header at the end of the page when it fits in what the items leave over
 * or when items are small (< 1/16 page); otherwise off the page.
 * => may sleep (lock class registration); never called on the trap path
 */
void
pool_init(struct pool *pp, size_t size, unsigned int align, unsigned int ioff,
    int flags, const char *wchan, struct pool_allocator *palloc, int ipl)
{
	char lockname[64];
	size_t pagesz, leftover, phoff;
	unsigned int ipp, k;
	bool onpage;

	if (wchan == NULL)
		wchan = "pool";
	if (palloc == NULL)
		palloc = &pool_allocator_host;
	if (palloc->pa_pagesz == 0)
		palloc->pa_pagesz = PAGE_SIZE;
	if (align == 0)
		align = PR_DEFALIGN;
	pagesz = palloc->pa_pagesz;
	KASSERTMSG(size > 0, "pool_init(%s): zero-sized items", wchan);
	KASSERTMSG(powerof2(align), "pool_init(%s): alignment %u is not a "
	    "power of two", wchan, align);
	KASSERTMSG((flags & PR_NOALIGN) != 0 || powerof2(pagesz),
	    "pool_init(%s): page size %zu is not a power of two: use "
	    "PR_NOALIGN", wchan, pagesz);
	KASSERTMSG(align <= pagesz, "pool_init(%s): alignment %u > page "
	    "size %zu", wchan, align, pagesz);

	memset(pp, 0, sizeof(*pp));
	pp->pr_wchan = wchan;
	pp->pr_alloc = palloc;
	pp->pr_align = align;
	pp->pr_size = (size + align - 1) & ~(size_t)(align - 1);
	/* the machine's own pools never fail by injection (failpoint.c) */
	if (palloc == &pool_allocator_host)
		flags |= PR_NOFAILINJ;
	pp->pr_flags = flags;
	pp->pr_pagesz = pagesz;
	pp->pr_itemoffset = (align - ioff % align) % align;
	KASSERTMSG(pp->pr_itemoffset + pp->pr_size <= pagesz,
	    "pool_init(%s): an item of %zu bytes does not fit a %zu-byte page",
	    wchan, pp->pr_size, pagesz);

	ipp = (unsigned int)((pagesz - pp->pr_itemoffset) / pp->pr_size);
	leftover = pagesz - pp->pr_itemoffset - (size_t)ipp * pp->pr_size;
	if ((flags & PR_PHINPAGE) != 0)
		onpage = true;
	else if ((flags & (PR_NOTOUCH | PR_NOALIGN)) != 0)
		onpage = false;
	else
		onpage = leftover >= pool_phsize(ipp) + sizeof(uint64_t) ||
		    pp->pr_size < pagesz / 16;
	if (onpage) {
		for (;;) {
			KASSERTMSG(ipp > 0 && pool_phsize(ipp) < pagesz,
			    "pool_init(%s): no room for items and header in a "
			    "%zu-byte page", wchan, pagesz);
			phoff = (pagesz - pool_phsize(ipp)) &
			    ~(size_t)(sizeof(uint64_t) - 1);
			if (pp->pr_itemoffset + (size_t)ipp * pp->pr_size <= phoff)
				break;
			ipp--;
		}
		pp->pr_phoffset = phoff;
	}
	pp->pr_itemsperpage = ipp;
	pp->pr_bitmapwords = howmany(ipp, 64);
	if (!onpage) {
		for (k = 0; k < PHPOOL_MAX && (1U << k) < pp->pr_bitmapwords; k++)
			continue;
		KASSERTMSG(k < PHPOOL_MAX, "pool_init(%s): %u items per page "
		    "are too many for an off-page header", wchan, ipp);
		pthread_once(&phpool_once, phpool_init);
		pp->pr_phpool = &phpool[k];
		pp->pr_phhash = pool_host_map(PR_HASH_INITIAL *
		    sizeof(*pp->pr_phhash), PAGE_SIZE);
		if (pp->pr_phhash == NULL)
			panic("pool_init(%s): out of host memory", wchan);
		pp->pr_phhashmask = PR_HASH_INITIAL - 1;
	}
	LIST_INIT(&pp->pr_emptypages);
	LIST_INIT(&pp->pr_partpages);
	LIST_INIT(&pp->pr_fullpages);

	/* the header pools never nest: one witness class for all of them */
	snprintf(lockname, sizeof(lockname), "pool:%s",
	    (flags & PR_PHINPAGE) != 0 ? "phpool" : wchan);
	mutex_init_class(&pp->pr_lock, MUTEX_DEFAULT, ipl, lockname);
	cv_init(&pp->pr_cv, wchan);

	hs_lock(&pool_list_lock);
	LIST_INSERT_HEAD(&pool_list, pp, pr_poollist);
	hs_unlock(&pool_list_lock);
}

/*
 * pool_destroy: give every page back and tear the pool down.
 * => no other thread uses pp; may sleep in the allocator's free
 * => DIAGNOSTIC: panics if items are still out
 */
void
pool_destroy(struct pool *pp)
{
	struct pool_pagelist dead = LIST_HEAD_INITIALIZER(dead);
	struct pool_pagelist *lists[3] = {
		&pp->pr_emptypages, &pp->pr_partpages, &pp->pr_fullpages,
	};
	struct pool_item_header *ph, *next;
	int i;

	hs_lock(&pool_list_lock);
	LIST_REMOVE(pp, pr_poollist);
	hs_unlock(&pool_list_lock);

	mutex_enter(&pp->pr_lock);
#ifdef DIAGNOSTIC
	if (pp->pr_nout != 0)
		panic("pool_destroy(%s): %u items still out", pp->pr_wchan,
		    pp->pr_nout);
#endif
	KASSERTMSG(!cv_has_waiters(&pp->pr_cv), "pool_destroy(%s): threads "
	    "wait for items", pp->pr_wchan);
	for (i = 0; i < 3; i++) {
		while ((ph = LIST_FIRST(lists[i])) != NULL) {
			pool_page_remove(pp, ph);
			LIST_INSERT_HEAD(&dead, ph, ph_pagelist);
		}
	}
	mutex_exit(&pp->pr_lock);

	for (ph = LIST_FIRST(&dead); ph != NULL; ph = next) {
		next = LIST_NEXT(ph, ph_pagelist);
		pool_page_free(pp, ph);
	}
	if (pp->pr_phhash != NULL)
		pool_host_unmap(pp->pr_phhash,
		    (pp->pr_phhashmask + 1) * sizeof(*pp->pr_phhash));
	cv_destroy(&pp->pr_cv);
	mutex_destroy(&pp->pr_lock);
}

/*
 * The off-page header hash.
 */

/* The link of ph's chain in bucket b.  => pr_lock held */
static struct pool_item_header **
pool_phhash_link(const struct pool *pp, struct pool_item_header *ph,
    uintptr_t b)
{
	uintptr_t s0 = (uintptr_t)ph->ph_page / pp->pr_pagesz;

	return (s0 & pp->pr_phhashmask) == b ? &ph->ph_hnext[0] :
	    &ph->ph_hnext[1];
}

/* => pr_lock held (or the pool private to the caller) */
static void
pool_phhash_insert(struct pool *pp, struct pool_item_header *ph)
{
	uintptr_t va = (uintptr_t)ph->ph_page;
	uintptr_t s0 = va / pp->pr_pagesz;
	uintptr_t s1 = (va + pp->pr_pagesz - 1) / pp->pr_pagesz;
	uintptr_t b;

	b = s0 & pp->pr_phhashmask;
	ph->ph_hnext[0] = pp->pr_phhash[b];
	pp->pr_phhash[b] = ph;
	ph->ph_hnext[1] = NULL;
	if (s1 != s0) {
		b = s1 & pp->pr_phhashmask;
		ph->ph_hnext[1] = pp->pr_phhash[b];
		pp->pr_phhash[b] = ph;
	}
}

/* => pr_lock held */
static void
pool_phhash_remove(struct pool *pp, struct pool_item_header *ph)
{
	uintptr_t va = (uintptr_t)ph->ph_page;
	uintptr_t slot[2], b;
	struct pool_item_header **lp;
	int i, n;

	slot[0] = va / pp->pr_pagesz;
	slot[1] = (va + pp->pr_pagesz - 1) / pp->pr_pagesz;
	n = slot[1] != slot[0] ? 2 : 1;
	for (i = 0; i < n; i++) {
		b = slot[i] & pp->pr_phhashmask;
		for (lp = &pp->pr_phhash[b]; *lp != ph;
		    lp = pool_phhash_link(pp, *lp, b))
			KASSERTMSG(*lp != NULL, "pool %s: page %p not in its "
			    "hash chain", pp->pr_wchan, ph->ph_page);
		*lp = *pool_phhash_link(pp, ph, b);
	}
}

/* Move every page into a new, empty table of n buckets.  => pr_lock held */
static void
pool_phhash_rebuild(struct pool *pp, struct pool_item_header **tab, size_t n)
{
	struct pool_item_header *ph;

	pp->pr_phhash = tab;
	pp->pr_phhashmask = n - 1;
	LIST_FOREACH(ph, &pp->pr_emptypages, ph_pagelist)
		pool_phhash_insert(pp, ph);
	LIST_FOREACH(ph, &pp->pr_partpages, ph_pagelist)
		pool_phhash_insert(pp, ph);
	LIST_FOREACH(ph, &pp->pr_fullpages, ph_pagelist)
		pool_phhash_insert(pp, ph);
}

/*
 * pool_item_lookup: the header of the page holding va, or NULL if va is
 * not in one of pp's pages.  => pr_lock held; never sleeps
 */
static struct pool_item_header *
pool_item_lookup(struct pool *pp, uintptr_t va)
{
	struct pool_item_header *ph;
	uintptr_t b, page;

	if (pp->pr_phoffset != 0) {
		ph = (void *)((va & ~(uintptr_t)(pp->pr_pagesz - 1)) +
		    pp->pr_phoffset);
		if (ph->ph_magic != PH_MAGIC || ph->ph_pool != pp)
			return NULL;
		return ph;
	}
	b = (va / pp->pr_pagesz) & pp->pr_phhashmask;
	for (ph = pp->pr_phhash[b]; ph != NULL;
	    ph = *pool_phhash_link(pp, ph, b)) {
		page = (uintptr_t)ph->ph_page;
		if (va >= page && va - page < pp->pr_pagesz)
			return ph;
	}
	return NULL;
}

/*
 * Pages.
 */

/*
 * pool_page_alloc: a page from the allocator with its header ready, all
 * items free, or NULL.
 * => pr_lock not held; PR_WAITOK in flags: may sleep
 */
static struct pool_item_header *
pool_page_alloc(struct pool *pp, int flags)
{
	struct pool_item_header *ph;
	unsigned int i, ipp = pp->pr_itemsperpage;
	char *page;

	KASSERT(!mutex_owned(&pp->pr_lock));
	page = (*pp->pr_alloc->pa_alloc)(pp, flags & PR_WAITOK);
	if (page == NULL)
		return NULL;
	if ((pp->pr_flags & PR_NOALIGN) == 0)
		KASSERTMSG(((uintptr_t)page & (pp->pr_pagesz - 1)) == 0,
		    "pool %s: allocator page %p is not aligned to %zu bytes "
		    "(use PR_NOALIGN)", pp->pr_wchan, page, pp->pr_pagesz);
	else
		KASSERTMSG(((uintptr_t)page & (pp->pr_align - 1)) == 0,
		    "pool %s: allocator page %p is not aligned to the item "
		    "alignment %zu", pp->pr_wchan, page, pp->pr_align);

	if (pp->pr_phoffset != 0) {
		ph = (void *)(page + pp->pr_phoffset);
	} else if ((ph = pool_get(pp->pr_phpool, flags & PR_WAITOK)) == NULL) {
		(*pp->pr_alloc->pa_free)(pp, page);
		return NULL;
	}
	ph->ph_pool = pp;
	ph->ph_page = page;
	ph->ph_magic = PH_MAGIC;
	ph->ph_nmissing = 0;
	ph->ph_hint = 0;
	ph->ph_hnext[0] = ph->ph_hnext[1] = NULL;
	for (i = 0; i < pp->pr_bitmapwords; i++)
		ph->ph_bitmap[i] = ~(uint64_t)0;
	if (ipp % 64 != 0)
		ph->ph_bitmap[pp->pr_bitmapwords - 1] =
		    ((uint64_t)1 << (ipp % 64)) - 1;
#ifdef DIAGNOSTIC
	if ((pp->pr_flags & PR_NOTOUCH) == 0) {
		for (i = 0; i < ipp; i++)
			pool_item_fill(pp, page + pp->pr_itemoffset +
			    (size_t)i * pp->pr_size);
	}
#endif
	return ph;
}

/*
 * pool_page_free: give a page (already off the lists) back.
 * => pr_lock not held; may sleep in the allocator
 */
static void
pool_page_free(struct pool *pp, struct pool_item_header *ph)
{
	void *page = ph->ph_page;

	KASSERT(!mutex_owned(&pp->pr_lock));
	ph->ph_magic = 0;
	if (pp->pr_phoffset == 0)
		pool_put(pp->pr_phpool, ph);
	(*pp->pr_alloc->pa_free)(pp, page);
}

/* A new page joins the pool.  => pr_lock held */
static void
pool_page_insert(struct pool *pp, struct pool_item_header *ph)
{
	MUTEX_ASSERT_LOCKED(&pp->pr_lock);
	LIST_INSERT_HEAD(&pp->pr_emptypages, ph, ph_pagelist);
	if (pp->pr_phhash != NULL)
		pool_phhash_insert(pp, ph);
	pp->pr_npages++;
	pp->pr_nitems += pp->pr_itemsperpage;
	pp->pr_npagealloc++;
}

/* A page leaves the pool (to be freed by the caller).  => pr_lock held */
static void
pool_page_remove(struct pool *pp, struct pool_item_header *ph)
{
	MUTEX_ASSERT_LOCKED(&pp->pr_lock);
	LIST_REMOVE(ph, ph_pagelist);
	if (pp->pr_phhash != NULL)
		pool_phhash_remove(pp, ph);
	pp->pr_npages--;
	pp->pr_nitems -= pp->pr_itemsperpage - ph->ph_nmissing;
	pp->pr_npagefree++;
}

/*
 * pool_grow: add one page to pp (and grow the lookup hash if due).
 * => pr_lock held; released around the allocator and taken back, so the
 *    caller must look at the pool again
 * => returns 0 or ENOMEM; PR_WAITOK in flags: may sleep
 */
static int
pool_grow(struct pool *pp, int flags)
{
	struct pool_item_header *ph, **newhash = NULL, **oldhash = NULL;
	size_t nbuckets = 0, oldsize = 0;

	MUTEX_ASSERT_LOCKED(&pp->pr_lock);
	if (pp->pr_phhash != NULL &&
	    pp->pr_npages + 1 > 2 * (pp->pr_phhashmask + 1))
		nbuckets = 4 * (pp->pr_phhashmask + 1);
	mutex_exit(&pp->pr_lock);
	ph = pool_page_alloc(pp, flags);
	if (ph != NULL && nbuckets != 0)
		newhash = pool_host_map(nbuckets * sizeof(*newhash), PAGE_SIZE);
	mutex_enter(&pp->pr_lock);
	if (ph == NULL)
		return ENOMEM;
	if (newhash != NULL) {
		if (nbuckets > pp->pr_phhashmask + 1) {
			oldhash = pp->pr_phhash;
			oldsize = (pp->pr_phhashmask + 1) * sizeof(*oldhash);
			pool_phhash_rebuild(pp, newhash, nbuckets);
		} else {		/* someone else grew it meanwhile */
			oldhash = newhash;
			oldsize = nbuckets * sizeof(*oldhash);
		}
	}
	pool_page_insert(pp, ph);
	if (cv_has_waiters(&pp->pr_cv))
		cv_broadcast(&pp->pr_cv);
	if (oldhash != NULL) {
		mutex_exit(&pp->pr_lock);
		pool_host_unmap(oldhash, oldsize);
		mutex_enter(&pp->pr_lock);
	}
	return 0;
}

/* Take a free item from ph.  => pr_lock held; ph has a free item */
static void *
pool_page_take(struct pool *pp, struct pool_item_header *ph)
{
	unsigned int w, idx, ipp = pp->pr_itemsperpage;
	bool wasempty;

	for (w = ph->ph_hint; ph->ph_bitmap[w] == 0; w++)
		KASSERTMSG(w + 1 < pp->pr_bitmapwords, "pool %s: page %p on a "
		    "free list has no free item", pp->pr_wchan, ph->ph_page);
	idx = w * 64 + (unsigned int)__builtin_ctzll(ph->ph_bitmap[w]);
	KASSERT(idx < ipp);
	ph->ph_bitmap[w] &= ~((uint64_t)1 << (idx % 64));
	ph->ph_hint = w;

	wasempty = ph->ph_nmissing == 0;
	ph->ph_nmissing++;
	if (ph->ph_nmissing == ipp) {
		LIST_REMOVE(ph, ph_pagelist);
		LIST_INSERT_HEAD(&pp->pr_fullpages, ph, ph_pagelist);
	} else if (wasempty) {
		LIST_REMOVE(ph, ph_pagelist);
		LIST_INSERT_HEAD(&pp->pr_partpages, ph, ph_pagelist);
	}
	pp->pr_nitems--;
	pp->pr_nout++;
	pp->pr_nget++;
	return ph->ph_page + pp->pr_itemoffset + (size_t)idx * pp->pr_size;
}

/* How long PR_WAITOK waits before asking a failed allocator again. */
static int
pool_retry_ticks(void)
{
	return hz >= 10 ? hz / 10 : 1;
}

#ifdef DIAGNOSTIC
static void
pool_item_fill(const struct pool *pp, void *item)
{
	memset(item, PR_FREEBYTE, MIN(pp->pr_size, (size_t)PR_FREECHECK));
}

static void
pool_item_check(const struct pool *pp, const void *item)
{
	const unsigned char *p = item;
	size_t i, n = MIN(pp->pr_size, (size_t)PR_FREECHECK);

	for (i = 0; i < n; i++) {
		if (p[i] != PR_FREEBYTE)
			panic("pool_get(%s): item %p was modified after it was "
			    "freed (byte %zu is %#x)", pp->pr_wchan, item, i,
			    p[i]);
	}
}
#endif

/*
 * pool_inject: should this get fail by injection (host/failpoint.h)?
 * Only PR_NOWAIT gets without PR_NOFAILINJ, of pools without it.
 * => never sleeps, no lock
 */
static bool
pool_inject(const struct pool *pp, int flags)
{
	return (flags & (PR_WAITOK | PR_NOFAILINJ)) == 0 &&
	    (pp->pr_flags & PR_NOFAILINJ) == 0 &&
	    host_fail_alloc_at(HOST_FAIL_POOL);
}

/*
 * pool_get: an item.
 *
 * Partly used pages first, then empty ones, then a new page from the
 * allocator (without pr_lock).  At the hard limit, or when the allocator
 * fails, PR_WAITOK sleeps on pr_cv (a put wakes it; allocator failures
 * also retry after pool_retry_ticks); PR_NOWAIT fails and counts it, and
 * so does an injected failure (pool_inject).
 * => PR_WAITOK: may sleep, no spin mutex held; PR_NOWAIT: never sleeps
 */
void *
pool_get(struct pool *pp, int flags)
{
	return pool_get1(pp, flags, pool_inject(pp, flags));
}

/* pool_get, failing at once (counted) if `fail`: see pool_get. */
static void *
pool_get1(struct pool *pp, int flags, bool fail)
{
	struct pool_item_header *ph;
	void *item;

	mutex_enter(&pp->pr_lock);
	if (fail)
		goto fail;
	for (;;) {
		if (pp->pr_hardlimit != 0 && pp->pr_nout >= pp->pr_hardlimit) {
			if ((flags & PR_WAITOK) == 0 ||
			    (flags & PR_LIMITFAIL) != 0)
				goto fail;
			pp->pr_nsleep++;
			cv_wait(&pp->pr_cv, &pp->pr_lock);
			continue;
		}
		if ((ph = LIST_FIRST(&pp->pr_partpages)) != NULL ||
		    (ph = LIST_FIRST(&pp->pr_emptypages)) != NULL)
			break;
		if (pool_grow(pp, flags) == 0)
			continue;
		if ((flags & PR_WAITOK) == 0)
			goto fail;
		pp->pr_nsleep++;
		(void)cv_timedwait(&pp->pr_cv, &pp->pr_lock,
		    pool_retry_ticks());
	}
	item = pool_page_take(pp, ph);
	mutex_exit(&pp->pr_lock);

#ifdef DIAGNOSTIC
	if ((pp->pr_flags & PR_NOTOUCH) == 0)
		pool_item_check(pp, item);
#endif
	if ((flags & PR_ZERO) != 0)
		memset(item, 0, pp->pr_size);
	return item;

fail:
	pp->pr_nfail++;
	mutex_exit(&pp->pr_lock);
	return NULL;
}

/*
 * pool_put: give an item back; wake one PR_WAITOK sleeper.
 * => never sleeps; panics if item is not one of pp's items or is free
 */
void
pool_put(struct pool *pp, void *item)
{
	struct pool_item_header *ph;
	uintptr_t va = (uintptr_t)item, off;
	unsigned int idx, ipp = pp->pr_itemsperpage;
	uint64_t bit;
	bool wasfull;

	KASSERTMSG(item != NULL, "pool_put(%s): NULL item", pp->pr_wchan);
	mutex_enter(&pp->pr_lock);
	if ((ph = pool_item_lookup(pp, va)) == NULL)
		panic("pool_put(%s): %p is not an item of this pool",
		    pp->pr_wchan, item);
	off = va - (uintptr_t)ph->ph_page;
	if (off < pp->pr_itemoffset ||
	    (off - pp->pr_itemoffset) % pp->pr_size != 0 ||
	    (off - pp->pr_itemoffset) / pp->pr_size >= ipp)
		panic("pool_put(%s): %p is not an item boundary of page %p",
		    pp->pr_wchan, item, ph->ph_page);
	idx = (unsigned int)((off - pp->pr_itemoffset) / pp->pr_size);
	bit = (uint64_t)1 << (idx % 64);
	if ((ph->ph_bitmap[idx / 64] & bit) != 0)
		panic("pool_put(%s): item %p put twice (it is already free)",
		    pp->pr_wchan, item);
	ph->ph_bitmap[idx / 64] |= bit;
	if (idx / 64 < ph->ph_hint)
		ph->ph_hint = idx / 64;
#ifdef DIAGNOSTIC
	if ((pp->pr_flags & PR_NOTOUCH) == 0)
		pool_item_fill(pp, item);
#endif

	wasfull = ph->ph_nmissing == ipp;
	ph->ph_nmissing--;
	if (ph->ph_nmissing == 0) {
		LIST_REMOVE(ph, ph_pagelist);
		LIST_INSERT_HEAD(&pp->pr_emptypages, ph, ph_pagelist);
	} else if (wasfull) {
		LIST_REMOVE(ph, ph_pagelist);
		LIST_INSERT_HEAD(&pp->pr_partpages, ph, ph_pagelist);
	}
	KASSERT(pp->pr_nout > 0);
	pp->pr_nitems++;
	pp->pr_nout--;
	pp->pr_nput++;
	if (cv_has_waiters(&pp->pr_cv))
		cv_signal(&pp->pr_cv);
	mutex_exit(&pp->pr_lock);
}

/*
 * pool_prime: see host/pool.h.
 * => never sleeps (allocator called with PR_NOWAIT, without pr_lock)
 */
int
pool_prime(struct pool *pp, int n)
{
	int error = 0;

	KASSERT(n >= 0);
	mutex_enter(&pp->pr_lock);
	while (pp->pr_nitems < (unsigned int)n) {
		if ((error = pool_grow(pp, PR_NOWAIT)) != 0)
			break;
	}
	mutex_exit(&pp->pr_lock);
	return error;
}

void
pool_sethardlimit(struct pool *pp, unsigned int n)
{
	mutex_enter(&pp->pr_lock);
	pp->pr_hardlimit = n;
	if (cv_has_waiters(&pp->pr_cv))
		cv_broadcast(&pp->pr_cv);
	mutex_exit(&pp->pr_lock);
}

void
pool_setlowat(struct pool *pp, unsigned int n)
{
	mutex_enter(&pp->pr_lock);
	pp->pr_minitems = n;
	mutex_exit(&pp->pr_lock);
	(void)pool_prime(pp, (int)MIN(n, (unsigned int)INT32_MAX));
}

/*
 * pool_reclaim: give wholly free pages back while at least pr_minitems
 * free items remain.  => may sleep in the allocator's free
 */
int
pool_reclaim(struct pool *pp)
{
	struct pool_pagelist dead = LIST_HEAD_INITIALIZER(dead);
	struct pool_item_header *ph, *next;
	int n = 0;

	mutex_enter(&pp->pr_lock);
	while ((ph = LIST_FIRST(&pp->pr_emptypages)) != NULL &&
	    pp->pr_nitems >= pp->pr_minitems + pp->pr_itemsperpage) {
		pool_page_remove(pp, ph);
		LIST_INSERT_HEAD(&dead, ph, ph_pagelist);
		n++;
	}
	mutex_exit(&pp->pr_lock);

	for (ph = LIST_FIRST(&dead); ph != NULL; ph = next) {
		next = LIST_NEXT(ph, ph_pagelist);
		pool_page_free(pp, ph);
	}
	return n;
}

/*
 * pool_printall: a line per pool.  Busy pools are named, not waited for.
 * => never sleeps (try-locks only)
 */
void
pool_printall(void)
{
	struct pool *pp;

	if (pthread_mutex_trylock(&pool_list_lock) != 0) {
		host_printf("pool: the pool list is busy\n");
		return;
	}
	host_printf("%-20s %7s %5s %7s %8s %8s %12s %12s %8s\n", "pool",
	    "size", "ipp", "npages", "nitems", "nout", "nget", "nput", "nfail");
	LIST_FOREACH(pp, &pool_list, pr_poollist) {
		if (!mutex_tryenter(&pp->pr_lock)) {
			host_printf("%-20s (locked)\n", pp->pr_wchan);
			continue;
		}
		host_printf("%-20s %7zu %5u %7u %8u %8u %12llu %12llu %8llu\n",
		    pp->pr_wchan, pp->pr_size, pp->pr_itemsperpage,
		    pp->pr_npages, pp->pr_nitems, pp->pr_nout,
		    (unsigned long long)pp->pr_nget,
		    (unsigned long long)pp->pr_nput,
		    (unsigned long long)pp->pr_nfail);
		mutex_exit(&pp->pr_lock);
	}
	hs_unlock(&pool_list_lock);
}

/*
 * pool_cache
 */

/* The caller's CPU cache, or NULL (no CPU).  Valid until it blocks. */
static inline struct pool_cache_cpu *
pcc_cur(pool_cache_t pc)
{
	struct cpu_info *ci = curcpu();

	return ci != NULL ? &pc->pc_cpu[ci->ci_index] : NULL;
}

/*
 * pcc_takestale: if cc missed an invalidation, move its objects to buf
 * (to be destructed by the caller) and mark it current.
 * => cc is the caller's CPU cache; returns the number moved
 */
static unsigned int
pcc_takestale(pool_cache_t pc, struct pool_cache_cpu *cc, void **buf)
{
	unsigned int gen = LD(&pc->pc_gen), n;

	if (__predict_true(cc->cc_gen == gen))
		return 0;
	n = LD(&cc->cc_nobjs);
	memcpy(buf, cc->cc_objs, n * sizeof(void *));
	ST(&cc->cc_nobjs, 0);
	cc->cc_gen = gen;
	return n;
}

/*
 * pcc_destruct: run the destructor on n objects and put them back in the
 * pool.  => no per-CPU cache in use by the caller; may sleep (dtor)
 */
static void
pcc_destruct(pool_cache_t pc, void **objs, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		if (pc->pc_dtor != NULL) {
			(*pc->pc_dtor)(pc->pc_arg, objs[i]);
			ADD(&pc->pc_ndtor, 1);
		}
		pool_put(&pc->pc_pool, objs[i]);
	}
}

/* Up to max objects from the depot into buf.  => may block (pc_lock) */
static unsigned int
pcc_depot_get(pool_cache_t pc, void **buf, unsigned int max)
{
	unsigned int n;

	mutex_enter(&pc->pc_lock);
	n = MIN(max, pc->pc_ndepot);
	pc->pc_ndepot -= n;
	memcpy(buf, &pc->pc_depot[pc->pc_ndepot], n * sizeof(void *));
	mutex_exit(&pc->pc_lock);
	return n;
}

/*
 * pcc_depot_put: n objects into the depot; what does not fit is
 * destructed.  => may block (pc_lock, dtor)
 */
static void
pcc_depot_put(pool_cache_t pc, void **objs, unsigned int n)
{
	unsigned int i = 0;

	mutex_enter(&pc->pc_lock);
	while (i < n && pc->pc_ndepot < PCC_DEPOT_MAX)
		pc->pc_depot[pc->pc_ndepot++] = objs[i++];
	mutex_exit(&pc->pc_lock);
	if (i < n)
		pcc_destruct(pc, objs + i, n - i);
}

/*
 * pcc_refill: n objects from the depot into the caller's CPU cache, the
 * rest back to the depot.  Looks curcpu() up afresh: the caller may have
 * blocked on pc_lock and come back on another CPU.
 */
static void
pcc_refill(pool_cache_t pc, void **buf, unsigned int n)
{
	struct pool_cache_cpu *cc;
	unsigned int m;

	if ((cc = pcc_cur(pc)) != NULL) {
		m = LD(&cc->cc_nobjs);
		while (n > 0 && m < PCC_DEPTH)
			cc->cc_objs[m++] = buf[--n];
		ST(&cc->cc_nobjs, m);
	}
	if (n > 0)
		pcc_depot_put(pc, buf, n);
}

/*
 * pool_cache_init: see host/pool.h.  The cache structure is host pages.
 * => may sleep
 */
pool_cache_t
pool_cache_init(size_t size, unsigned int align, unsigned int align_offset,
    int flags, const char *wchan, struct pool_allocator *palloc, int ipl,
    int (*ctor)(void *, void *, int), void (*dtor)(void *, void *),
    void *arg)
{
	size_t sz = round_page(sizeof(struct pool_cache));
	pool_cache_t pc;

	if ((pc = pool_host_map(sz, PAGE_SIZE)) == NULL)
		return NULL;
	pc->pc_mapsize = sz;
	pool_init(&pc->pc_pool, size, align, align_offset, flags, wchan,
	    palloc, ipl);
	mutex_init_class(&pc->pc_lock, MUTEX_DEFAULT, ipl, "pool_cache");
	pc->pc_ctor = ctor;
	pc->pc_dtor = dtor;
	pc->pc_arg = arg;
	return pc;
}

/*
 * pool_cache_destroy: destruct every cached object, destroy the pool.
 * => no other thread uses pc (so every CPU cache may be read); every
 *    object has been put back (DIAGNOSTIC: pool_destroy panics)
 */
void
pool_cache_destroy(pool_cache_t pc)
{
	struct pool_cache_cpu *cc;
	unsigned int i, n;

	for (i = 0; i < MAXCPUS; i++) {
		cc = &pc->pc_cpu[i];
		n = LD(&cc->cc_nobjs);
		ST(&cc->cc_nobjs, 0);
		pcc_destruct(pc, cc->cc_objs, n);
	}
	mutex_enter(&pc->pc_lock);
	n = pc->pc_ndepot;
	pc->pc_ndepot = 0;
	mutex_exit(&pc->pc_lock);
	pcc_destruct(pc, pc->pc_depot, n);
	pool_destroy(&pc->pc_pool);
	mutex_destroy(&pc->pc_lock);
	pool_host_unmap(pc, pc->pc_mapsize);
}

/*
 * pool_cache_get: this CPU's cache, then a batch from the depot, then a
 * new object from the pool, constructed (outside any per-CPU access).
 * A PR_NOWAIT get asks for an injected failure once, first.
 * => PR_WAITOK: may sleep; see host/pool.h
 */
void *
pool_cache_get(pool_cache_t pc, int flags)
{
	struct pool_cache_cpu *cc;
	void *buf[PCC_DEPTH], *obj;
	unsigned int n, m;

	KASSERTMSG((flags & PR_ZERO) == 0 || pc->pc_ctor == NULL,
	    "pool_cache_get(%s): PR_ZERO with a constructor",
	    pc->pc_pool.pr_wchan);
	if (pool_inject(&pc->pc_pool, flags)) {
		/* as a dry pool fails it: counted by the pool and the cache */
		(void)pool_get1(&pc->pc_pool, flags, true);
		ADD(&pc->pc_nfail, 1);
		return NULL;
	}
	for (;;) {
		if ((cc = pcc_cur(pc)) == NULL ||
		    (n = pcc_takestale(pc, cc, buf)) == 0)
			break;
		pcc_destruct(pc, buf, n);	/* blocks: look cc up again */
	}
	if (cc != NULL && (m = LD(&cc->cc_nobjs)) > 0) {
		obj = cc->cc_objs[m - 1];
		ST(&cc->cc_nobjs, m - 1);
		ST(&cc->cc_hits, LD(&cc->cc_hits) + 1);
		goto out;
	}

	/* From here on cc is not used: the depot lock may block. */
	if ((n = pcc_depot_get(pc, buf, cc != NULL ? PCC_BATCH : 1)) > 0) {
		obj = buf[--n];
		ADD(&pc->pc_hits, 1);
		if (n > 0)
			pcc_refill(pc, buf, n);
		goto out;
	}

	ADD(&pc->pc_misses, 1);
	/* (injection was decided above: the pool does not ask again) */
	if ((obj = pool_get1(&pc->pc_pool, flags & ~PR_ZERO, false)) == NULL) {
		ADD(&pc->pc_nfail, 1);
		return NULL;
	}
	if (pc->pc_ctor != NULL) {
		if ((*pc->pc_ctor)(pc->pc_arg, obj, flags) != 0) {
			pool_put(&pc->pc_pool, obj);
			ADD(&pc->pc_nfail, 1);
			return NULL;
		}
		ADD(&pc->pc_nctor, 1);
	}
out:
	if ((flags & PR_ZERO) != 0)
		memset(obj, 0, pc->pc_pool.pr_size);
	return obj;
}

/*
 * pool_cache_put: onto this CPU's cache; a full cache sends its older
 * half to the depot; without a CPU, straight to the depot.
 * => may sleep (depot lock; the destructor when the depot is full)
 */
void
pool_cache_put(pool_cache_t pc, void *obj)
{
	struct pool_cache_cpu *cc;
	void *buf[PCC_DEPTH];
	unsigned int n, m;

	KASSERTMSG(obj != NULL, "pool_cache_put(%s): NULL object",
	    pc->pc_pool.pr_wchan);
	if ((cc = pcc_cur(pc)) != NULL) {
		if ((n = pcc_takestale(pc, cc, buf)) != 0) {
			cc->cc_objs[0] = obj;
			ST(&cc->cc_nobjs, 1);
			pcc_destruct(pc, buf, n);
			return;
		}
		m = LD(&cc->cc_nobjs);
		if (m < PCC_DEPTH) {
			cc->cc_objs[m] = obj;
			ST(&cc->cc_nobjs, m + 1);
			return;
		}
		memcpy(buf, cc->cc_objs, PCC_BATCH * sizeof(void *));
		memmove(cc->cc_objs, cc->cc_objs + PCC_BATCH,
		    (PCC_DEPTH - PCC_BATCH) * sizeof(void *));
		cc->cc_objs[PCC_DEPTH - PCC_BATCH] = obj;
		ST(&cc->cc_nobjs, PCC_DEPTH - PCC_BATCH + 1);
		n = PCC_BATCH;
	} else {
		buf[0] = obj;
		n = 1;
	}
	pcc_depot_put(pc, buf, n);
}

/*
 * pool_cache_invalidate: destruct the depot and this CPU's cache now;
 * other CPUs' caches are destructed by their next user.
 * => may sleep (dtor)
 */
void
pool_cache_invalidate(pool_cache_t pc)
{
	void *buf[PCC_DEPTH], *depot[PCC_DEPOT_MAX];
	struct pool_cache_cpu *cc;
	unsigned int n = 0, nd;

	ADD(&pc->pc_gen, 1);
	if ((cc = pcc_cur(pc)) != NULL)
		n = pcc_takestale(pc, cc, buf);
	mutex_enter(&pc->pc_lock);
	nd = pc->pc_ndepot;
	memcpy(depot, pc->pc_depot, nd * sizeof(void *));
	pc->pc_ndepot = 0;
	mutex_exit(&pc->pc_lock);
	pcc_destruct(pc, buf, n);
	pcc_destruct(pc, depot, nd);
}

struct pool *
pool_cache_pool(pool_cache_t pc)
{
	return &pc->pc_pool;
}

/* pool_cache_stats: a snapshot (per-CPU numbers read relaxed). */
void
pool_cache_stats(pool_cache_t pc, struct pool_cache_stats *st)
{
	unsigned int i;

	memset(st, 0, sizeof(*st));
	st->pcs_nctor = LD(&pc->pc_nctor);
	st->pcs_ndtor = LD(&pc->pc_ndtor);
	st->pcs_hits = LD(&pc->pc_hits);
	st->pcs_misses = LD(&pc->pc_misses);
	st->pcs_nfail = LD(&pc->pc_nfail);
	for (i = 0; i < MAXCPUS; i++) {
		st->pcs_hits += LD(&pc->pc_cpu[i].cc_hits);
		st->pcs_cached += LD(&pc->pc_cpu[i].cc_nobjs);
	}
	mutex_enter(&pc->pc_lock);
	st->pcs_cached += pc->pc_ndepot;
	mutex_exit(&pc->pc_lock);
}
