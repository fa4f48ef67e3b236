/*
 * tests/test_pool.c: host/pool.c, pool(9) and pool_cache(9).
 *
 * Criterion forks every test, so each starts with no pools and no CPUs.
 * The test's main thread is registered (host_thread_self) by the suite's
 * init; worker threads are made with host_thread_create, or are LWPs
 * (kthread_create) when a test needs a simulated CPU.  Workers never
 * call cr_assert (it would longjmp in the wrong thread): they count
 * errors, and the main thread asserts.
 */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <criterion/redirect.h>

#include "host/cpu.h"
#include "host/kassert.h"
#include "host/lwp.h"
#include "host/pool.h"
#include "host/spl.h"
#include "host/thread.h"

#define T_USPACE	(4 * PAGE_SIZE)	/* the seed's u-area: 4 pages */
#define CTOR_MAGIC	0xc0ffee11c0ffee11ULL
#define MAXREC		4096

/*
 * A counting page allocator.  ca_misalign: hand out pages that are never
 * aligned to pa_pagesz (for PR_NOALIGN pools); ca_prot: PROT_NONE proves
 * that a PR_NOTOUCH pool never touches its pages.
 */
struct counting_alloc {
	struct pool_allocator	ca_pa;		/* first: pr_alloc points here */
	bool			ca_misalign;
	int			ca_prot;
	atomic_bool		ca_fail;
	atomic_uint		ca_nalloc;
	atomic_uint		ca_nfree;
	atomic_uint		ca_nfailed;
};

/* Objects seen by a pool_cache's ctor and dtor. */
struct objrec {
	pthread_mutex_t	or_lock;
	void		*or_objs[MAXREC];
	unsigned int	or_n;
};

struct cache_ctx {
	atomic_uint	cx_nctor;
	atomic_uint	cx_ndtor;
	atomic_bool	cx_fail;	/* ctor returns EIO */
	atomic_uint	cx_nowait;	/* ctor calls without PR_WAITOK */
	size_t		cx_size;
	struct objrec	cx_dtored;
};

struct waiter {
	struct pool	*w_pool;
	int		w_flags;
	void		*w_item;
	atomic_bool	w_done;
};

struct hammer {
	struct pool	*h_pool;	/* one of h_pool ... */
	pool_cache_t	h_cache;	/* ... and h_cache */
	size_t		h_size;
	int		h_id;
	int		h_iters;
	int		h_maxheld;
	int		h_flags;
	atomic_int	*h_errors;
	atomic_int	*h_nullgets;
};

struct hammer_run {
	pthread_t	r_tid[16];
	struct hammer	r_h[16];
	int		r_nthreads;
	int		r_flags;
	atomic_int	r_errors;
	atomic_int	r_nullgets;
};

struct lwpjob {
	pool_cache_t	j_cache;
	int		j_iters;
	int		j_nobjs;
	atomic_int	j_errors;
	atomic_int	j_nocpu;
};

/* local prototypes */
static void pool_setup(void);
static void *ca_alloc(struct pool *, int);
static void ca_free(struct pool *, void *);
static void ca_setup(struct counting_alloc *, unsigned int, bool, int);
static int cmp_ptr(const void *, const void *);
static void assert_disjoint(void **, unsigned int, size_t);
static void objrec_add(struct objrec *, void *);
static int ctx_ctor(void *, void *, int);
static void ctx_dtor(void *, void *);
static void ctx_init(struct cache_ctx *, size_t);
static void *waiter_main(void *);
static void wait_for_sleeper(struct pool *);
static uint64_t xorshift(uint64_t *);
static void stamp(void *, size_t, uint64_t);
static bool stamp_ok(const void *, size_t, uint64_t);
static void *hammer_main(void *);
static void hammer_start(struct hammer_run *, struct pool *, pool_cache_t,
    size_t, int, int, int, int);
static void hammer_finish(struct hammer_run *);
static void run_hammer(struct pool *, pool_cache_t, size_t, int, int, int,
    int);
static void lwp_getput(void *);
static void lwp_hold_some(void *);

TestSuite(pool, .init = pool_setup, .timeout = 120);

static void
pool_setup(void)
{
	host_thread_self();
}

/*
 * The counting allocator.
 */

static void *
ca_alloc(struct pool *pp, int flags __unused)
{
	struct counting_alloc *ca = (struct counting_alloc *)pp->pr_alloc;
	size_t sz = pp->pr_alloc->pa_pagesz;
	uintptr_t p;
	void *m;

	if (atomic_load(&ca->ca_fail)) {
		atomic_fetch_add(&ca->ca_nfailed, 1);
		return NULL;
	}
	if (!ca->ca_misalign || sz <= PAGE_SIZE) {
		m = mmap(NULL, sz, ca->ca_prot, MAP_PRIVATE | MAP_ANONYMOUS,
		    -1, 0);
		if (m == MAP_FAILED)
			return NULL;
		atomic_fetch_add(&ca->ca_nalloc, 1);
		return m;
	}
	/* one page more, then cut it so the result is never sz-aligned */
	m = mmap(NULL, sz + PAGE_SIZE, ca->ca_prot,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		return NULL;
	p = (uintptr_t)m;
	if (p % sz == 0) {
		munmap(m, PAGE_SIZE);
		p += PAGE_SIZE;
	} else {
		munmap((void *)(p + sz), PAGE_SIZE);
	}
	atomic_fetch_add(&ca->ca_nalloc, 1);
	return (void *)p;
}

static void
ca_free(struct pool *pp, void *v)
{
	struct counting_alloc *ca = (struct counting_alloc *)pp->pr_alloc;

	munmap(v, pp->pr_alloc->pa_pagesz);
	atomic_fetch_add(&ca->ca_nfree, 1);
}

static void
ca_setup(struct counting_alloc *ca, unsigned int pagesz, bool misalign,
    int prot)
{
	memset(ca, 0, sizeof(*ca));
	ca->ca_pa.pa_alloc = ca_alloc;
	ca->ca_pa.pa_free = ca_free;
	ca->ca_pa.pa_pagesz = pagesz;
	ca->ca_misalign = misalign;
	ca->ca_prot = prot;
}

/*
 * Helpers.
 */

static int
cmp_ptr(const void *a, const void *b)
{
	uintptr_t x = *(const uintptr_t *)a, y = *(const uintptr_t *)b;

	return x < y ? -1 : x > y;
}

/* n items of size bytes: none overlaps another. */
static void
assert_disjoint(void **items, unsigned int n, size_t size)
{
	void **s = malloc(n * sizeof(*s));
	unsigned int i;

	cr_assert_not_null(s);
	memcpy(s, items, n * sizeof(*s));
	qsort(s, n, sizeof(*s), cmp_ptr);
	for (i = 0; i + 1 < n; i++)
		cr_assert((uintptr_t)s[i] + size <= (uintptr_t)s[i + 1],
		    "items %p and %p overlap (size %zu)", s[i], s[i + 1], size);
	free(s);
}

static void
objrec_add(struct objrec *r, void *obj)
{
	pthread_mutex_lock(&r->or_lock);
	if (r->or_n < MAXREC)
		r->or_objs[r->or_n] = obj;
	r->or_n++;
	pthread_mutex_unlock(&r->or_lock);
}

static int
ctx_ctor(void *arg, void *obj, int flags)
{
	struct cache_ctx *cx = arg;

	if ((flags & PR_WAITOK) == 0)
		atomic_fetch_add(&cx->cx_nowait, 1);
	if (atomic_load(&cx->cx_fail))
		return EIO;
	*(uint64_t *)obj = CTOR_MAGIC;
	atomic_fetch_add(&cx->cx_nctor, 1);
	return 0;
}

static void
ctx_dtor(void *arg, void *obj)
{
	struct cache_ctx *cx = arg;

	if (*(uint64_t *)obj != CTOR_MAGIC)
		abort();	/* destructing an object never constructed */
	*(uint64_t *)obj = 0;
	objrec_add(&cx->cx_dtored, obj);
	atomic_fetch_add(&cx->cx_ndtor, 1);
}

static void
ctx_init(struct cache_ctx *cx, size_t size)
{
	memset(cx, 0, sizeof(*cx));
	pthread_mutex_init(&cx->cx_dtored.or_lock, NULL);
	cx->cx_size = size;
}

static void *
waiter_main(void *arg)
{
	struct waiter *w = arg;

	w->w_item = pool_get(w->w_pool, w->w_flags);
	atomic_store(&w->w_done, true);
	return NULL;
}

/* Block until some thread sleeps on pp's condvar (10 s at most). */
static void
wait_for_sleeper(struct pool *pp)
{
	struct timespec ts = { 0, 200000 };
	bool asleep = false;
	int i;

	for (i = 0; i < 50000 && !asleep; i++) {
		mutex_enter(&pp->pr_lock);
		asleep = cv_has_waiters(&pp->pr_cv);
		mutex_exit(&pp->pr_lock);
		if (!asleep)
			nanosleep(&ts, NULL);
	}
	cr_assert(asleep, "no thread went to sleep on pool %s", pp->pr_wchan);
}

static uint64_t
xorshift(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return *s = x;
}

/* Fill an item with a word; the first word is left alone (ctor magic). */
static void
stamp(void *item, size_t size, uint64_t v)
{
	uint64_t *w = item;
	size_t i;

	for (i = 1; i < size / sizeof(uint64_t); i++)
		w[i] = v;
}

static bool
stamp_ok(const void *item, size_t size, uint64_t v)
{
	const uint64_t *w = item;
	size_t i;

	for (i = 1; i < size / sizeof(uint64_t); i++)
		if (w[i] != v)
			return false;
	return true;
}

/*
 * A worker that gets and puts at random, holding up to h_maxheld items,
 * each stamped with (thread, sequence) and checked before it goes back.
 */
static void *
hammer_main(void *arg)
{
	struct hammer *h = arg;
	void *held[32];
	uint64_t tag[32], seq = 0, rng = 0x9e3779b97f4a7c15ULL * (uint64_t)(h->h_id + 1);
	int nheld = 0, i, k;
	void *item;

	for (i = 0; i < h->h_iters; i++) {
		/* get 3 times in 4: threads mostly hold close to h_maxheld */
		if (nheld < h->h_maxheld &&
		    (nheld == 0 || xorshift(&rng) % 4 != 0)) {
			item = h->h_cache != NULL ?
			    pool_cache_get(h->h_cache, h->h_flags) :
			    pool_get(h->h_pool, h->h_flags);
			if (item == NULL) {
				atomic_fetch_add(h->h_nullgets, 1);
				continue;
			}
			if (h->h_cache != NULL &&
			    *(uint64_t *)item != CTOR_MAGIC)
				atomic_fetch_add(h->h_errors, 1);
			tag[nheld] = ((uint64_t)h->h_id << 40) | ++seq;
			stamp(item, h->h_size, tag[nheld]);
			held[nheld++] = item;
		} else {
			k = (int)(xorshift(&rng) % (uint64_t)nheld);
			if (!stamp_ok(held[k], h->h_size, tag[k]))
				atomic_fetch_add(h->h_errors, 1);
			if (h->h_cache != NULL)
				pool_cache_put(h->h_cache, held[k]);
			else
				pool_put(h->h_pool, held[k]);
			held[k] = held[--nheld];
			tag[k] = tag[nheld];
		}
	}
	while (nheld > 0) {
		nheld--;
		if (!stamp_ok(held[nheld], h->h_size, tag[nheld]))
			atomic_fetch_add(h->h_errors, 1);
		if (h->h_cache != NULL)
			pool_cache_put(h->h_cache, held[nheld]);
		else
			pool_put(h->h_pool, held[nheld]);
	}
	return NULL;
}

static void
hammer_start(struct hammer_run *r, struct pool *pp, pool_cache_t pc,
    size_t size, int nthreads, int iters, int maxheld, int flags)
{
	int i;

	cr_assert(nthreads <= 16 && maxheld <= 32);
	memset(r, 0, sizeof(*r));
	r->r_nthreads = nthreads;
	r->r_flags = flags;
	for (i = 0; i < nthreads; i++) {
		r->r_h[i] = (struct hammer){ .h_pool = pp, .h_cache = pc,
		    .h_size = size, .h_id = i, .h_iters = iters,
		    .h_maxheld = maxheld, .h_flags = flags,
		    .h_errors = &r->r_errors, .h_nullgets = &r->r_nullgets };
		cr_assert_eq(host_thread_create(&r->r_tid[i], "hammer",
		    hammer_main, &r->r_h[i]), 0);
	}
}

static void
hammer_finish(struct hammer_run *r)
{
	int i;

	for (i = 0; i < r->r_nthreads; i++)
		pthread_join(r->r_tid[i], NULL);
	cr_assert_eq(atomic_load(&r->r_errors), 0,
	    "%d items were overwritten while held", atomic_load(&r->r_errors));
	if (r->r_flags & PR_WAITOK)
		cr_assert_eq(atomic_load(&r->r_nullgets), 0);
}

static void
run_hammer(struct pool *pp, pool_cache_t pc, size_t size, int nthreads,
    int iters, int maxheld, int flags)
{
	struct hammer_run r;

	hammer_start(&r, pp, pc, size, nthreads, iters, maxheld, flags);
	hammer_finish(&r);
}

/*
 * pool(9)
 */

Test(pool, distinct_items)
{
	enum { N = 1000 };
	static void *items[N];
	struct pool pp;
	unsigned int i, j;
	unsigned char *p;

	pool_init(&pp, 48, 0, 0, 0, "t_distinct", NULL, IPL_NONE);
	cr_assert_eq(pp.pr_size, 48);
	cr_assert_gt(pp.pr_itemsperpage, 1);
	for (i = 0; i < N; i++) {
		items[i] = pool_get(&pp, PR_WAITOK);
		cr_assert_not_null(items[i]);
		memset(items[i], (int)(i & 0xff), 48);
	}
	assert_disjoint(items, N, 48);
	for (i = 0; i < N; i++) {
		p = items[i];
		for (j = 0; j < 48; j++)
			cr_assert_eq(p[j], i & 0xff, "item %u byte %u", i, j);
	}
	cr_assert_eq(pp.pr_nout, N);
	cr_assert_eq(pp.pr_nget, N);
	cr_assert_eq(pp.pr_npages, howmany(N, pp.pr_itemsperpage));
	cr_assert_eq(pp.pr_npagealloc, pp.pr_npages);
	for (i = 0; i < N; i++)
		pool_put(&pp, items[i]);
	cr_assert_eq(pp.pr_nout, 0);
	cr_assert_eq(pp.pr_nput, N);
	cr_assert_eq(pp.pr_nitems, pp.pr_npages * pp.pr_itemsperpage);
	pool_destroy(&pp);
}

Test(pool, put_get_reuses_items)
{
	struct pool pp;
	void *a, *b, *c, *x;

	pool_init(&pp, 100, 0, 0, 0, "t_reuse", NULL, IPL_NONE);
	a = pool_get(&pp, PR_WAITOK);
	pool_put(&pp, a);
	x = pool_get(&pp, PR_WAITOK);
	cr_assert_eq(x, a, "a put item is the next one handed out");
	b = pool_get(&pp, PR_WAITOK);
	c = pool_get(&pp, PR_WAITOK);
	pool_put(&pp, b);
	x = pool_get(&pp, PR_WAITOK);
	cr_assert_eq(x, b);
	cr_assert_eq(pp.pr_npagealloc, 1, "three items, one page");
	pool_put(&pp, a);
	pool_put(&pp, b);
	pool_put(&pp, c);
	pool_destroy(&pp);
}

Test(pool, multiword_bitmap_reuses_freed_items)
{
	static void *items[PAGE_SIZE / 16];
	struct pool pp;
	unsigned int i, ipp;
	void *x, *y;

	/* 16-byte items: a page's bitmap spans several words */
	pool_init(&pp, 16, 0, 0, 0, "t_bitmap", NULL, IPL_NONE);
	ipp = pp.pr_itemsperpage;
	cr_assert_gt(ipp, 192);
	for (i = 0; i < ipp; i++)
		items[i] = pool_get(&pp, PR_WAITOK);
	cr_assert_eq(pp.pr_npages, 1);
	pool_put(&pp, items[0]);
	cr_assert_eq(pool_get(&pp, PR_NOWAIT), items[0]);
	pool_put(&pp, items[190]);
	pool_put(&pp, items[3]);
	x = pool_get(&pp, PR_NOWAIT);
	y = pool_get(&pp, PR_NOWAIT);
	cr_assert_eq(x, items[3], "the lowest free item first");
	cr_assert_eq(y, items[190]);
	cr_assert_eq(pp.pr_npages, 1, "no new page while the first has room");
	for (i = 0; i < ipp; i++)
		pool_put(&pp, items[i]);
	pool_destroy(&pp);
}

Test(pool, pr_zero_zeroes)
{
	struct pool pp;
	unsigned char *p, *q;
	size_t i;

	pool_init(&pp, 200, 0, 0, 0, "t_zero", NULL, IPL_NONE);
	p = pool_get(&pp, PR_WAITOK);
	memset(p, 0xa5, pp.pr_size);
	pool_put(&pp, p);
	q = pool_get(&pp, PR_WAITOK | PR_ZERO);
	cr_assert_eq(q, p, "the dirty item comes back");
	for (i = 0; i < pp.pr_size; i++)
		cr_assert_eq(q[i], 0, "byte %zu not zeroed", i);
	pool_put(&pp, q);
	pool_destroy(&pp);
}

Test(pool, alignment_and_offset)
{
	static const struct { size_t size; unsigned align, ioff; } c[] = {
		{ 40, 64, 0 }, { 24, 512, 0 }, { 100, 128, 16 },
		{ 8, 16, 8 }, { 3000, 4096, 0 },
	};
	void *items[300];
	struct pool pp;
	unsigned int k, i;

	for (k = 0; k < nitems(c); k++) {
		pool_init(&pp, c[k].size, c[k].align, c[k].ioff, 0, "t_align",
		    NULL, IPL_NONE);
		cr_assert_eq(pp.pr_size % c[k].align, 0);
		cr_assert_geq(pp.pr_size, c[k].size);
		for (i = 0; i < nitems(items); i++) {
			items[i] = pool_get(&pp, PR_WAITOK);
			cr_assert_eq(((uintptr_t)items[i] + c[k].ioff) %
			    c[k].align, 0, "item %p + %u not aligned to %u",
			    items[i], c[k].ioff, c[k].align);
			memset(items[i], 0x5a, c[k].size);
		}
		assert_disjoint(items, nitems(items), c[k].size);
		for (i = 0; i < nitems(items); i++)
			pool_put(&pp, items[i]);
		pool_destroy(&pp);
	}
}

Test(pool, host_allocator_large_pages)
{
	struct pool_allocator big = {
		.pa_alloc = pool_allocator_host.pa_alloc,
		.pa_free = pool_allocator_host.pa_free,
		.pa_pagesz = 4 * PAGE_SIZE,
	};
	void *items[200];
	struct pool pp;
	unsigned int i;

	/* aligned 16 KiB pages: items are found by masking the address */
	pool_init(&pp, 1000, 0, 0, 0, "t_bigpage", &big, IPL_NONE);
	cr_assert_geq(pp.pr_itemsperpage, 15);
	for (i = 0; i < nitems(items); i++) {
		items[i] = pool_get(&pp, PR_WAITOK);
		memset(items[i], 1, 1000);
	}
	assert_disjoint(items, nitems(items), 1000);
	for (i = 0; i < nitems(items); i++)
		pool_put(&pp, items[i]);
	cr_assert_eq(pool_reclaim(&pp), (int)pp.pr_npagefree);
	cr_assert_eq(pp.pr_npages, 0);
	pool_destroy(&pp);
}

Test(pool, hard_limit_nowait_fails_and_counts)
{
	void *items[4], *x;
	struct pool pp;
	int i;

	pool_init(&pp, 64, 0, 0, 0, "t_limit", NULL, IPL_VM);
	pool_sethardlimit(&pp, 4);
	for (i = 0; i < 4; i++)
		cr_assert_not_null(items[i] = pool_get(&pp, PR_NOWAIT));
	cr_assert_null(pool_get(&pp, PR_NOWAIT));
	cr_assert_eq(pp.pr_nfail, 1);
	cr_assert_null(pool_get(&pp, PR_WAITOK | PR_LIMITFAIL));
	cr_assert_eq(pp.pr_nfail, 2);
	cr_assert_eq(pp.pr_nout, 4);
	pool_put(&pp, items[3]);
	x = pool_get(&pp, PR_NOWAIT);
	cr_assert_eq(x, items[3]);
	pool_sethardlimit(&pp, 0);
	items[3] = pool_get(&pp, PR_NOWAIT);
	cr_assert_not_null(items[3]);
	pool_put(&pp, items[3]);
	pool_put(&pp, x);
	for (i = 0; i < 3; i++)
		pool_put(&pp, items[i]);
	pool_destroy(&pp);
}

Test(pool, waitok_sleeps_at_hard_limit_until_put)
{
	struct waiter w = { 0 };
	struct pool pp;
	void *a, *b;
	pthread_t tid;

	pool_init(&pp, 64, 0, 0, 0, "t_waitlimit", NULL, IPL_NONE);
	pool_sethardlimit(&pp, 2);
	a = pool_get(&pp, PR_WAITOK);
	b = pool_get(&pp, PR_WAITOK);
	w.w_pool = &pp;
	w.w_flags = PR_WAITOK;
	cr_assert_eq(host_thread_create(&tid, "waiter", waiter_main, &w), 0);
	wait_for_sleeper(&pp);
	cr_assert(!atomic_load(&w.w_done), "the waiter got an item past the limit");
	pool_put(&pp, b);
	pthread_join(tid, NULL);
	cr_assert(atomic_load(&w.w_done));
	cr_assert_eq(w.w_item, b, "the waiter got the item that was put");
	cr_assert_eq(pp.pr_nfail, 0);
	cr_assert_geq(pp.pr_nsleep, 1);
	pool_put(&pp, a);
	pool_put(&pp, w.w_item);
	pool_destroy(&pp);
}

Test(pool, waitok_sleeps_on_allocator_failure_until_put)
{
	struct counting_alloc ca;
	struct waiter w = { 0 };
	struct pool pp;
	void *items[PAGE_SIZE / 512];
	unsigned int i, ipp;
	pthread_t tid;

	ca_setup(&ca, PAGE_SIZE, false, PROT_READ | PROT_WRITE);
	pool_init(&pp, 512, 0, 0, 0, "t_waitalloc", &ca.ca_pa, IPL_NONE);
	ipp = pp.pr_itemsperpage;
	cr_assert_leq(ipp, nitems(items));
	for (i = 0; i < ipp; i++)
		items[i] = pool_get(&pp, PR_WAITOK);
	cr_assert_eq(atomic_load(&ca.ca_nalloc), 1);
	atomic_store(&ca.ca_fail, true);
	cr_assert_null(pool_get(&pp, PR_NOWAIT));
	cr_assert_eq(pp.pr_nfail, 1);

	w.w_pool = &pp;
	w.w_flags = PR_WAITOK;
	cr_assert_eq(host_thread_create(&tid, "waiter", waiter_main, &w), 0);
	wait_for_sleeper(&pp);
	cr_assert(!atomic_load(&w.w_done));
	cr_assert_geq(atomic_load(&ca.ca_nfailed), 2);
	pool_put(&pp, items[0]);
	pthread_join(tid, NULL);
	cr_assert_eq(w.w_item, items[0]);
	cr_assert_eq(atomic_load(&ca.ca_nalloc), 1);
	for (i = 0; i < ipp; i++)
		pool_put(&pp, items[i]);
	pool_destroy(&pp);
	cr_assert_eq(atomic_load(&ca.ca_nfree), 1);
}

Test(pool, custom_allocator_uarea_sized_pages)
{
	struct counting_alloc ca;
	void *items[10];
	struct pool pp;
	unsigned int i;

	ca_setup(&ca, T_USPACE, true, PROT_READ | PROT_WRITE);
	pool_init(&pp, T_USPACE, 0, 0, PR_NOTOUCH | PR_NOALIGN, "t_uarea",
	    &ca.ca_pa, IPL_NONE);
	cr_assert_eq(pp.pr_itemsperpage, 1);
	for (i = 0; i < nitems(items); i++) {
		items[i] = pool_get(&pp, PR_WAITOK);
		cr_assert_not_null(items[i]);
		cr_assert_neq((uintptr_t)items[i] % T_USPACE, 0,
		    "the test allocator hands out unaligned pages");
		memset(items[i], 7, T_USPACE);
	}
	cr_assert_eq(atomic_load(&ca.ca_nalloc), nitems(items));
	cr_assert_eq(pp.pr_npagealloc, nitems(items));
	assert_disjoint(items, nitems(items), T_USPACE);
	for (i = 0; i < nitems(items); i++)
		pool_put(&pp, items[i]);
	cr_assert_eq(atomic_load(&ca.ca_nfree), 0, "pages stay until reclaim");
	cr_assert_eq(pool_reclaim(&pp), (int)nitems(items));
	cr_assert_eq(atomic_load(&ca.ca_nfree), nitems(items));
	cr_assert_eq(pp.pr_npagefree, nitems(items));
	cr_assert_eq(pp.pr_npages, 0);
	pool_destroy(&pp);
}

Test(pool, reclaim_frees_pages_above_low_water)
{
	struct counting_alloc ca;
	void *items[200];
	struct pool pp;
	unsigned int i, npages, ipp;
	int n;

	ca_setup(&ca, PAGE_SIZE, false, PROT_READ | PROT_WRITE);
	pool_init(&pp, 256, 0, 0, 0, "t_reclaim", &ca.ca_pa, IPL_NONE);
	ipp = pp.pr_itemsperpage;
	for (i = 0; i < nitems(items); i++)
		items[i] = pool_get(&pp, PR_WAITOK);
	npages = pp.pr_npages;
	cr_assert_eq(npages, howmany(nitems(items), ipp));
	cr_assert_eq(pool_reclaim(&pp), 0, "no page is wholly free");
	for (i = 0; i < nitems(items); i++)
		pool_put(&pp, items[i]);
	pool_setlowat(&pp, 2 * ipp + 1);	/* keeps 3 pages */
	n = pool_reclaim(&pp);
	cr_assert_eq(n, (int)npages - 3);
	cr_assert_eq(pp.pr_npagefree, npages - 3);
	cr_assert_eq(atomic_load(&ca.ca_nfree), npages - 3);
	cr_assert_eq(pp.pr_npages, 3);
	cr_assert_geq(pp.pr_nitems, 2 * ipp + 1);
	pool_setlowat(&pp, 0);
	cr_assert_eq(pool_reclaim(&pp), 3);
	cr_assert_eq(atomic_load(&ca.ca_nfree), npages);
	cr_assert_eq(pp.pr_nitems, 0);
	pool_destroy(&pp);
}

Test(pool, prime_avoids_the_allocator)
{
	struct counting_alloc ca;
	void *items[50];
	struct pool pp;
	unsigned int i, n;

	ca_setup(&ca, PAGE_SIZE, false, PROT_READ | PROT_WRITE);
	pool_init(&pp, 300, 0, 0, 0, "t_prime", &ca.ca_pa, IPL_NONE);
	cr_assert_eq(pool_prime(&pp, 50), 0);
	cr_assert_geq(pp.pr_nitems, 50);
	n = atomic_load(&ca.ca_nalloc);
	cr_assert_eq(n, howmany(50, pp.pr_itemsperpage));
	atomic_store(&ca.ca_fail, true);
	for (i = 0; i < 50; i++)
		cr_assert_not_null(items[i] = pool_get(&pp, PR_NOWAIT));
	cr_assert_eq(atomic_load(&ca.ca_nalloc), n);
	cr_assert_eq(pool_prime(&pp, 1000), ENOMEM);
	for (i = 0; i < 50; i++)
		pool_put(&pp, items[i]);
	pool_destroy(&pp);
}

Test(pool, noalign_offpage_lookup_across_hash_growth)
{
	enum { N = 12000 };
	static void *items[N];
	struct counting_alloc ca;
	struct pool pp;
	uint64_t rng = 12345;
	unsigned int i, k;
	void *t;

	/* 8 KiB pages never 8 KiB aligned: each straddles two hash slots */
	ca_setup(&ca, 2 * PAGE_SIZE, true, PROT_READ | PROT_WRITE);
	pool_init(&pp, 1000, 0, 0, PR_NOALIGN, "t_noalign", &ca.ca_pa,
	    IPL_NONE);
	cr_assert_eq(pp.pr_itemsperpage, 8);
	for (i = 0; i < N; i++) {
		items[i] = pool_get(&pp, PR_NOWAIT);
		cr_assert_not_null(items[i]);
		*(unsigned int *)items[i] = i;
	}
	cr_assert_eq(pp.pr_npages, N / 8);
	cr_assert_gt(pp.pr_phhashmask + 1, 512, "the lookup hash grew");
	assert_disjoint(items, N, 1000);
	for (i = N - 1; i > 0; i--) {		/* put back in random order */
		k = (unsigned int)(xorshift(&rng) % (i + 1));
		t = items[i];
		items[i] = items[k];
		items[k] = t;
	}
	for (i = 0; i < N; i++)
		pool_put(&pp, items[i]);
	cr_assert_eq(pp.pr_nout, 0);
	cr_assert_eq(pp.pr_nitems, N);
	cr_assert_eq(pool_reclaim(&pp), N / 8);
	cr_assert_eq(atomic_load(&ca.ca_nfree), N / 8);
	pool_destroy(&pp);
}

Test(pool, notouch_never_touches_item_memory)
{
	struct counting_alloc ca;
	void *items[3 * 64];
	struct pool pp;
	unsigned int i;

	/* the pages are PROT_NONE: any access by the pool faults */
	ca_setup(&ca, PAGE_SIZE, false, PROT_NONE);
	pool_init(&pp, 64, 0, 0, PR_NOTOUCH, "t_notouch", &ca.ca_pa,
	    IPL_NONE);
	cr_assert_eq(pp.pr_itemsperpage, 64);
	for (i = 0; i < nitems(items); i++)
		cr_assert_not_null(items[i] = pool_get(&pp, PR_WAITOK));
	assert_disjoint(items, nitems(items), 64);
	for (i = 0; i < nitems(items); i++)
		pool_put(&pp, items[i]);
	cr_assert_eq(pool_reclaim(&pp), 3);
	pool_destroy(&pp);
}

Test(pool, double_put_panics, .signal = SIGABRT)
{
	struct pool pp;
	void *a, *b;

	pool_init(&pp, 64, 0, 0, 0, "t_double", NULL, IPL_NONE);
	a = pool_get(&pp, PR_WAITOK);
	b = pool_get(&pp, PR_WAITOK);
	pool_put(&pp, a);
	pool_put(&pp, a);
	(void)b;
}

Test(pool, double_put_offpage_panics, .signal = SIGABRT)
{
	struct pool pp;
	void *a;

	pool_init(&pp, 64, 0, 0, PR_NOTOUCH, "t_double_off", NULL, IPL_NONE);
	a = pool_get(&pp, PR_WAITOK);
	pool_put(&pp, a);
	pool_put(&pp, a);
}

Test(pool, put_to_wrong_pool_panics, .signal = SIGABRT)
{
	struct pool p1, p2;
	void *a, *b;

	pool_init(&p1, 64, 0, 0, 0, "t_wrong1", NULL, IPL_NONE);
	pool_init(&p2, 64, 0, 0, 0, "t_wrong2", NULL, IPL_NONE);
	a = pool_get(&p1, PR_WAITOK);
	b = pool_get(&p2, PR_WAITOK);
	pool_put(&p2, a);
	(void)b;
}

Test(pool, put_foreign_pointer_offpage_panics, .signal = SIGABRT)
{
	static char notanitem[256];
	struct pool pp;
	void *a;

	pool_init(&pp, 64, 0, 0, PR_NOALIGN, "t_foreign", NULL, IPL_NONE);
	a = pool_get(&pp, PR_WAITOK);
	pool_put(&pp, notanitem);
	(void)a;
}

Test(pool, put_inside_an_item_panics, .signal = SIGABRT)
{
	struct pool pp;
	char *a;

	pool_init(&pp, 64, 0, 0, 0, "t_inside", NULL, IPL_NONE);
	a = pool_get(&pp, PR_WAITOK);
	pool_put(&pp, a + 8);
}

#ifdef DIAGNOSTIC
Test(pool, destroy_with_items_out_panics, .signal = SIGABRT)
{
	struct pool pp;

	pool_init(&pp, 64, 0, 0, 0, "t_destroy", NULL, IPL_NONE);
	(void)pool_get(&pp, PR_WAITOK);
	pool_destroy(&pp);
}

Test(pool, write_after_put_panics_on_get, .signal = SIGABRT)
{
	struct pool pp;
	char *a;

	pool_init(&pp, 64, 0, 0, 0, "t_uaf", NULL, IPL_NONE);
	a = pool_get(&pp, PR_WAITOK);
	pool_put(&pp, a);
	a[10] = 1;			/* use after free */
	(void)pool_get(&pp, PR_WAITOK);
}
#endif

Test(pool, many_threads_keep_items_unique)
{
	struct pool pp;

	pool_init(&pp, 64, 0, 0, 0, "t_hammer", NULL, IPL_NONE);
	run_hammer(&pp, NULL, 64, 8, 20000, 16, PR_WAITOK);
	cr_assert_eq(pp.pr_nout, 0);
	cr_assert_eq(pp.pr_nget, pp.pr_nput);
	pool_destroy(&pp);
}

Test(pool, many_threads_offpage_spin_pool)
{
	struct pool pp;

	/* a spin pr_lock (IPL_VM) and off-page headers, PR_NOWAIT */
	pool_init(&pp, 128, 0, 0, PR_NOALIGN, "t_hammer_off", NULL, IPL_VM);
	run_hammer(&pp, NULL, 128, 8, 20000, 16, PR_NOWAIT);
	cr_assert_eq(pp.pr_nout, 0);
	cr_assert_eq(pp.pr_nfail, 0);
	pool_destroy(&pp);
}

Test(pool, many_threads_sleep_at_hard_limit)
{
	struct hammer_run r;
	struct pool pp;
	void *held[25];
	int i;

	/*
	 * 8 threads holding up to 4 each against a limit of 25: a sleeper
	 * holds at most 3, so 8 sleepers hold at most 24 < 25 and cannot
	 * all sleep at once.
	 */

	pool_init(&pp, 64, 0, 0, 0, "t_hammer_limit", NULL, IPL_NONE);
	pool_sethardlimit(&pp, 25);
	/* start at the limit, so that sleeps surely happen */
	for (i = 0; i < 25; i++)
		held[i] = pool_get(&pp, PR_WAITOK);
	hammer_start(&r, &pp, NULL, 64, 8, 20000, 4, PR_WAITOK);
	wait_for_sleeper(&pp);
	for (i = 0; i < 25; i++)
		pool_put(&pp, held[i]);
	hammer_finish(&r);
	cr_assert_eq(pp.pr_nout, 0);
	cr_assert_eq(pp.pr_nfail, 0);
	cr_assert_gt(pp.pr_nsleep, 0, "threads slept at the limit");
	cr_assert_leq(pp.pr_npages * pp.pr_itemsperpage,
	    25 + pp.pr_itemsperpage * 8);
	pool_destroy(&pp);
}

Test(pool, printall_lists_every_pool, .init = cr_redirect_stderr)
{
	struct pool p1, p2;
	char line[256];
	bool saw1 = false, saw2 = false;
	FILE *f;
	void *a;

	host_thread_self();
	pool_init(&p1, 64, 0, 0, 0, "t_print_one", NULL, IPL_NONE);
	pool_init(&p2, 64, 0, 0, PR_NOTOUCH, "t_print_two", NULL, IPL_VM);
	a = pool_get(&p1, PR_WAITOK);
	pool_printall();
	fflush(stderr);
	f = cr_get_redirected_stderr();
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strstr(line, "t_print_one") != NULL) {
			saw1 = true;
			cr_assert_not_null(strstr(line, " 64 "), "%s", line);
		}
		if (strstr(line, "t_print_two") != NULL)
			saw2 = true;
		if (saw1 && saw2)
			break;
	}
	cr_assert(saw1 && saw2);
	pool_put(&p1, a);
	pool_destroy(&p1);
	pool_destroy(&p2);
}

/*
 * pool_cache(9)
 */

Test(pool, cache_ctor_once_per_object)
{
	struct cache_ctx cx;
	struct pool_cache_stats st;
	void *a[20], *b[20];
	pool_cache_t pc;
	unsigned int i;

	ctx_init(&cx, 128);
	pc = pool_cache_init(128, 0, 0, 0, "t_ctor", NULL, IPL_NONE,
	    ctx_ctor, ctx_dtor, &cx);
	cr_assert_not_null(pc);
	for (i = 0; i < 20; i++) {
		a[i] = pool_cache_get(pc, PR_WAITOK);
		cr_assert_eq(*(uint64_t *)a[i], CTOR_MAGIC);
	}
	cr_assert_eq(atomic_load(&cx.cx_nctor), 20);
	for (i = 0; i < 20; i++)
		pool_cache_put(pc, a[i]);
	pool_cache_stats(pc, &st);
	cr_assert_eq(st.pcs_cached, 20);
	cr_assert_eq(st.pcs_misses, 20);
	for (i = 0; i < 20; i++) {
		b[i] = pool_cache_get(pc, PR_WAITOK);
		cr_assert_eq(*(uint64_t *)b[i], CTOR_MAGIC);
	}
	cr_assert_eq(atomic_load(&cx.cx_nctor), 20, "reuse must not construct");
	cr_assert_eq(atomic_load(&cx.cx_ndtor), 0);
	cr_assert_eq(atomic_load(&cx.cx_nowait), 0);
	qsort(a, 20, sizeof(void *), cmp_ptr);
	qsort(b, 20, sizeof(void *), cmp_ptr);
	cr_assert_arr_eq(a, b, sizeof(a), "the same objects come back");
	pool_cache_stats(pc, &st);
	cr_assert_eq(st.pcs_nctor, 20);
	cr_assert_eq(st.pcs_hits, 20);
	cr_assert_eq(st.pcs_cached, 0);
	cr_assert_eq(pool_cache_pool(pc)->pr_nout, 20);
	for (i = 0; i < 20; i++)
		pool_cache_put(pc, b[i]);
	pool_cache_destroy(pc);
	cr_assert_eq(atomic_load(&cx.cx_ndtor), 20, "destroy destructs");
}

Test(pool, cache_dtor_on_invalidate_gets_the_cached_objects)
{
	struct cache_ctx cx;
	struct pool_cache_stats st;
	void *a[10], *held;
	pool_cache_t pc;
	unsigned int i;

	ctx_init(&cx, 64);
	pc = pool_cache_init(64, 0, 0, 0, "t_inval", NULL, IPL_NONE,
	    ctx_ctor, ctx_dtor, &cx);
	held = pool_cache_get(pc, PR_WAITOK);
	for (i = 0; i < 10; i++)
		a[i] = pool_cache_get(pc, PR_WAITOK);
	for (i = 0; i < 10; i++)
		pool_cache_put(pc, a[i]);
	pool_cache_invalidate(pc);
	cr_assert_eq(atomic_load(&cx.cx_ndtor), 10);
	qsort(a, 10, sizeof(void *), cmp_ptr);
	qsort(cx.cx_dtored.or_objs, 10, sizeof(void *), cmp_ptr);
	cr_assert_arr_eq(a, cx.cx_dtored.or_objs, sizeof(a));
	pool_cache_stats(pc, &st);
	cr_assert_eq(st.pcs_cached, 0);
	cr_assert_eq(st.pcs_ndtor, 10);
	cr_assert_eq(pool_cache_pool(pc)->pr_nout, 1, "only the held one");
	cr_assert_eq(*(uint64_t *)held, CTOR_MAGIC, "held object untouched");
	/* the next get constructs again */
	a[0] = pool_cache_get(pc, PR_WAITOK);
	cr_assert_eq(atomic_load(&cx.cx_nctor), 12);
	pool_cache_put(pc, a[0]);
	pool_cache_put(pc, held);
	pool_cache_destroy(pc);
	cr_assert_eq(atomic_load(&cx.cx_ndtor), 12);
}

Test(pool, cache_ctor_failure_returns_null)
{
	struct cache_ctx cx;
	struct pool_cache_stats st;
	pool_cache_t pc;
	struct pool *pp;

	ctx_init(&cx, 64);
	pc = pool_cache_init(64, 0, 0, 0, "t_ctorfail", NULL, IPL_NONE,
	    ctx_ctor, ctx_dtor, &cx);
	pp = pool_cache_pool(pc);
	atomic_store(&cx.cx_fail, true);
	cr_assert_null(pool_cache_get(pc, PR_WAITOK));
	cr_assert_null(pool_cache_get(pc, PR_NOWAIT));
	cr_assert_eq(pp->pr_nout, 0, "the raw items went back to the pool");
	cr_assert_eq(pp->pr_nput, 2);
	pool_cache_stats(pc, &st);
	cr_assert_eq(st.pcs_nfail, 2);
	cr_assert_eq(st.pcs_nctor, 0);
	cr_assert_eq(atomic_load(&cx.cx_nowait), 1);
	atomic_store(&cx.cx_fail, false);
	cr_assert_not_null(pool_cache_get(pc, PR_NOWAIT));
	cr_assert_eq(pp->pr_nout, 1);
}

Test(pool, cache_depot_overflow_destructs)
{
	enum { N = 600 };
	static void *a[N];
	struct cache_ctx cx;
	struct pool_cache_stats st;
	pool_cache_t pc;
	unsigned int i;

	ctx_init(&cx, 32);
	pc = pool_cache_init(32, 0, 0, 0, "t_overflow", NULL, IPL_NONE,
	    ctx_ctor, ctx_dtor, &cx);
	for (i = 0; i < N; i++)
		a[i] = pool_cache_get(pc, PR_WAITOK);
	for (i = 0; i < N; i++)
		pool_cache_put(pc, a[i]);
	pool_cache_stats(pc, &st);
	cr_assert_lt(st.pcs_cached, N, "the depot is bounded");
	cr_assert_gt(st.pcs_ndtor, 0);
	cr_assert_eq(st.pcs_ndtor + st.pcs_cached, N);
	cr_assert_eq(pool_cache_pool(pc)->pr_nout, st.pcs_cached);
	pool_cache_destroy(pc);
	cr_assert_eq(atomic_load(&cx.cx_ndtor), N);
}

Test(pool, cache_pr_zero_without_ctor)
{
	pool_cache_t pc;
	unsigned char *p;
	size_t i;

	pc = pool_cache_init(96, 0, 0, 0, "t_czero", NULL, IPL_NONE,
	    NULL, NULL, NULL);
	p = pool_cache_get(pc, PR_WAITOK);
	memset(p, 0xee, 96);
	pool_cache_put(pc, p);
	p = pool_cache_get(pc, PR_WAITOK | PR_ZERO);
	for (i = 0; i < 96; i++)
		cr_assert_eq(p[i], 0);
	pool_cache_put(pc, p);
	pool_cache_destroy(pc);
}

static int
uarea_ctor(void *arg, void *obj, int flags)
{
	struct cache_ctx *cx = arg;

	KASSERT((flags & PR_WAITOK) != 0);	/* as the seed's uarea_ctor */
	memset(obj, 0x11, T_USPACE);		/* "wire" the u-area */
	*(uint64_t *)obj = CTOR_MAGIC;
	atomic_fetch_add(&cx->cx_nctor, 1);
	return 0;
}

Test(pool, cache_uarea_seed_configuration)
{
	struct counting_alloc ca;
	struct cache_ctx cx;
	struct pool_cache_stats st;
	void *u[8], *v[8];
	pool_cache_t pc;
	unsigned int i;

	/* uvm_uarea_init: USPACE items from a USPACE-page allocator */
	ca_setup(&ca, T_USPACE, true, PROT_READ | PROT_WRITE);
	ctx_init(&cx, T_USPACE);
	pc = pool_cache_init(T_USPACE, 0, 0, PR_NOTOUCH | PR_NOALIGN,
	    "uarea", &ca.ca_pa, IPL_NONE, uarea_ctor, NULL, &cx);
	cr_assert_not_null(pc);
	cr_assert_eq(pool_cache_pool(pc)->pr_itemsperpage, 1);
	for (i = 0; i < 8; i++) {
		u[i] = pool_cache_get(pc, PR_WAITOK);
		cr_assert_not_null(u[i]);
	}
	assert_disjoint(u, 8, T_USPACE);
	cr_assert_eq(atomic_load(&ca.ca_nalloc), 8);
	cr_assert_eq(atomic_load(&cx.cx_nctor), 8);
	for (i = 0; i < 8; i++)
		pool_cache_put(pc, u[i]);
	for (i = 0; i < 8; i++) {
		v[i] = pool_cache_get(pc, PR_WAITOK);
		cr_assert_eq(*(uint64_t *)v[i], CTOR_MAGIC);
	}
	cr_assert_eq(atomic_load(&ca.ca_nalloc), 8, "cached u-areas reused");
	cr_assert_eq(atomic_load(&cx.cx_nctor), 8);
	pool_cache_stats(pc, &st);
	cr_assert_eq(st.pcs_hits, 8);
	for (i = 0; i < 8; i++)
		pool_cache_put(pc, v[i]);
	pool_cache_invalidate(pc);
	cr_assert_eq(pool_reclaim(pool_cache_pool(pc)), 8);
	cr_assert_eq(atomic_load(&ca.ca_nfree), 8);
	pool_cache_destroy(pc);
}

Test(pool, cache_many_threads_keep_objects_unique)
{
	struct cache_ctx cx;
	pool_cache_t pc;

	ctx_init(&cx, 64);
	pc = pool_cache_init(64, 0, 0, 0, "t_chammer", NULL, IPL_NONE,
	    ctx_ctor, ctx_dtor, &cx);
	run_hammer(NULL, pc, 64, 8, 20000, 16, PR_WAITOK);
	cr_assert_eq(pool_cache_pool(pc)->pr_nout,
	    atomic_load(&cx.cx_nctor) - atomic_load(&cx.cx_ndtor));
	pool_cache_destroy(pc);
	cr_assert_eq(atomic_load(&cx.cx_nctor), atomic_load(&cx.cx_ndtor));
}

/*
 * pool_cache on simulated CPUs: LWPs use their CPU's cache.
 */

static void
lwp_getput(void *arg)
{
	struct lwpjob *j = arg;
	void *objs[64];
	int i, k;

	if (curcpu() == NULL)
		atomic_fetch_add(&j->j_nocpu, 1);
	for (i = 0; i < j->j_iters; i++) {
		for (k = 0; k < j->j_nobjs; k++) {
			objs[k] = pool_cache_get(j->j_cache, PR_WAITOK);
			if (objs[k] == NULL || *(uint64_t *)objs[k] != CTOR_MAGIC)
				atomic_fetch_add(&j->j_errors, 1);
			stamp(objs[k], 64, (uint64_t)(uintptr_t)j + (uint64_t)k);
		}
		for (k = j->j_nobjs - 1; k >= 0; k--) {
			if (!stamp_ok(objs[k], 64, (uint64_t)(uintptr_t)j + (uint64_t)k))
				atomic_fetch_add(&j->j_errors, 1);
			pool_cache_put(j->j_cache, objs[k]);
		}
	}
}

Test(pool, cache_percpu_hits_without_depot)
{
	struct lwpjob j = { 0 };
	struct cache_ctx cx;
	struct pool_cache_stats st;
	struct lwp *l;

	cr_assert_eq(host_cpu_init(1), 0);
	host_lwp_init();
	ctx_init(&cx, 64);
	j.j_cache = pool_cache_init(64, 0, 0, 0, "t_percpu", NULL, IPL_NONE,
	    ctx_ctor, ctx_dtor, &cx);
	j.j_iters = 1000;
	j.j_nobjs = 4;
	cr_assert_eq(kthread_create(lwp_getput, &j, &l, "getput"), 0);
	lwp_join(l);
	cr_assert_eq(atomic_load(&j.j_nocpu), 0, "an LWP holds a CPU");
	cr_assert_eq(atomic_load(&j.j_errors), 0);
	pool_cache_stats(j.j_cache, &st);
	cr_assert_eq(st.pcs_nctor, 4, "four objects, constructed once");
	cr_assert_eq(st.pcs_misses, 4);
	cr_assert_eq(st.pcs_hits, 4 * 1000 - 4);
	cr_assert_eq(st.pcs_cached, 4);
	/* they sit in CPU 0's cache, not the depot: invalidate only marks */
	pool_cache_invalidate(j.j_cache);
	cr_assert_eq(atomic_load(&cx.cx_ndtor), 0);
	pool_cache_destroy(j.j_cache);
	cr_assert_eq(atomic_load(&cx.cx_ndtor), 4);
}

static void
lwp_hold_some(void *arg)
{
	struct lwpjob *j = arg;
	void *objs[64];
	int k;

	for (k = 0; k < j->j_nobjs; k++)
		objs[k] = pool_cache_get(j->j_cache, PR_WAITOK);
	for (k = 0; k < j->j_nobjs; k++)
		pool_cache_put(j->j_cache, objs[k]);
}

Test(pool, cache_invalidate_drains_other_cpus_at_next_use)
{
	struct lwpjob j = { 0 };
	struct cache_ctx cx;
	struct pool_cache_stats st;
	struct lwp *l;

	cr_assert_eq(host_cpu_init(1), 0);
	host_lwp_init();
	ctx_init(&cx, 64);
	j.j_cache = pool_cache_init(64, 0, 0, 0, "t_stale", NULL, IPL_NONE,
	    ctx_ctor, ctx_dtor, &cx);
	j.j_nobjs = 5;
	cr_assert_eq(kthread_create(lwp_hold_some, &j, &l, "fill"), 0);
	lwp_join(l);
	pool_cache_stats(j.j_cache, &st);
	cr_assert_eq(st.pcs_cached, 5, "five objects in CPU 0's cache");

	/* from a thread without a CPU: CPU 0's cache is only marked */
	pool_cache_invalidate(j.j_cache);
	cr_assert_eq(atomic_load(&cx.cx_ndtor), 0);

	/* the next LWP on CPU 0 destructs them before using the cache */
	j.j_nobjs = 1;
	cr_assert_eq(kthread_create(lwp_hold_some, &j, &l, "drain"), 0);
	lwp_join(l);
	cr_assert_eq(atomic_load(&cx.cx_ndtor), 5);
	cr_assert_eq(atomic_load(&cx.cx_nctor), 6);
	pool_cache_stats(j.j_cache, &st);
	cr_assert_eq(st.pcs_cached, 1);
	pool_cache_destroy(j.j_cache);
}

Test(pool, cache_lwps_on_two_cpus)
{
	struct lwpjob j[4];
	struct cache_ctx cx;
	struct lwp *l[4];
	pool_cache_t pc;
	int i;

	cr_assert_eq(host_cpu_init(2), 0);
	host_lwp_init();
	ctx_init(&cx, 64);
	pc = pool_cache_init(64, 0, 0, 0, "t_2cpu", NULL, IPL_NONE,
	    ctx_ctor, ctx_dtor, &cx);
	for (i = 0; i < 4; i++) {
		memset(&j[i], 0, sizeof(j[i]));
		j[i].j_cache = pc;
		j[i].j_iters = 3000;
		j[i].j_nobjs = 1 + 10 * i;	/* 1..31: crosses PCC_DEPTH */
		cr_assert_eq(kthread_create(lwp_getput, &j[i], &l[i], "cpu2"),
		    0);
	}
	for (i = 0; i < 4; i++) {
		lwp_join(l[i]);
		cr_assert_eq(atomic_load(&j[i].j_errors), 0);
		cr_assert_eq(atomic_load(&j[i].j_nocpu), 0);
	}
	cr_assert_eq(pool_cache_pool(pc)->pr_nout,
	    atomic_load(&cx.cx_nctor) - atomic_load(&cx.cx_ndtor));
	pool_cache_destroy(pc);
	cr_assert_eq(atomic_load(&cx.cx_nctor), atomic_load(&cx.cx_ndtor));
}
