/*
 * tests/test_failpoint.c: host/failpoint.c, allocation-failure injection,
 * and the allocators that ask it: pool_get/pool_cache_get (PR_NOWAIT),
 * uvm_km_kmemalloc/uvm_km_alloc (UVM_KMF_NOWAIT), and the fault handler
 * that must live with their failures.
 *
 * Criterion forks every test, so the rate, the counts and the machine
 * are each test's own.  Every test boots the VM (16 MiB) so that its
 * pools can sit on uvm_km_pool_allocator, as the VM's own do (pools on
 * host pages are exempt).  Helper threads never cr_assert.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "host/disk.h"
#include "host/failpoint.h"
#include "host/pool.h"
#include "host/thread.h"
#include "host/trap.h"
#include "tests/vmtest.h"
#include "vm/uvm.h"
#include "vm/uvm_amap.h"
#include "vm/uvm_anon.h"
#include "vm/uvm_km.h"
#include "vm/uvm_map.h"
#include "vm/uvm_mmap.h"
#include "vm/uvm_object.h"
#include "vm/uvm_pdaemon.h"

#define P(n)		((vsize_t)(n) * PAGE_SIZE)
#define NSEQ		2000		/* decisions compared for a sequence */

/* local prototypes */
static void fp_init(void);
static void fp_fini(void);
static int pages_free(void);
static unsigned int nowait_failures(struct pool *, int, int);
static void draw(bool *, int);
static void *drawer_main(void *);
static int t_ctor(void *, void *, int);

static void
fp_init(void)
{
	alarm(60);
	(void)host_thread_self();	/* the main thread: stream of its id */
	vmtest_boot();
}

static void
fp_fini(void)
{
	uvm_pdaemon_stop();
	vmtest_shutdown();
}

TestSuite(failpoint, .init = fp_init, .fini = fp_fini);

/* Free pages, with the pool pages (which pools keep) counted as free. */
static int
pages_free(void)
{
	return uvmexp_read(free) + uvmexp_read(kernel);
}

/*
 * n gets of pp with flags, each put back at once: how many failed.
 * Also checks that pr_nfail counted exactly those.
 */
static unsigned int
nowait_failures(struct pool *pp, int flags, int n)
{
	uint64_t nfail0 = pp->pr_nfail;
	unsigned int failed = 0;
	void *item;
	int i;

	for (i = 0; i < n; i++) {
		if ((item = pool_get(pp, flags)) == NULL) {
			failed++;
			continue;
		}
		pool_put(pp, item);
	}
	cr_assert_eq(pp->pr_nfail - nfail0, failed, "pr_nfail counted %llu "
	    "of %u failures", (unsigned long long)(pp->pr_nfail - nfail0),
	    failed);
	return failed;
}

/* n decisions of this thread. */
static void
draw(bool *seq, int n)
{
	int i;

	for (i = 0; i < n; i++)
		seq[i] = host_fail_alloc();
}

/* A thread drawing decisions of its own meanwhile. */
static void *
drawer_main(void *arg)
{
	static bool junk[4 * NSEQ];

	(void)arg;
	draw(junk, 4 * NSEQ);
	return NULL;
}

Test(failpoint, at_rate_zero_nothing_fails)
{
	struct pool pp;

	pool_init(&pp, 64, 0, 0, 0, "t_fp_zero", &uvm_km_pool_allocator,
	    IPL_NONE);
	cr_assert_eq(host_fail_alloc_rate(), 0, "off by default");
	cr_assert_eq(nowait_failures(&pp, PR_NOWAIT, 5000), 0);
	host_fail_alloc_set(0, 42);
	cr_assert_eq(nowait_failures(&pp, PR_NOWAIT, 5000), 0);
	cr_assert_eq(host_fail_alloc_count(), 0);
	pool_destroy(&pp);
}

Test(failpoint, nowait_gets_fail_at_about_the_rate_waitok_never)
{
	struct pool pp;
	unsigned int failed, n = 20000;
	uint64_t pool0 = host_fail_alloc_count_at(HOST_FAIL_POOL);

	pool_init(&pp, 64, 0, 0, 0, "t_fp_rate", &uvm_km_pool_allocator,
	    IPL_NONE);
	host_fail_alloc_set(100, 42);
	failed = nowait_failures(&pp, PR_NOWAIT, (int)n);
	/* 10%: 2000 expected, sd 42; allow ten sd either way */
	cr_assert(failed >= 1580 && failed <= 2420, "%u of %u NOWAIT gets "
	    "failed at 100 permille", failed, n);
	cr_assert_eq(host_fail_alloc_count_at(HOST_FAIL_POOL) - pool0, failed);
	cr_assert_eq(host_fail_alloc_count_at(HOST_FAIL_KM), 0);

	/* PR_ZERO changes nothing; PR_WAITOK never fails, never asks */
	cr_assert_gt(nowait_failures(&pp, PR_NOWAIT | PR_ZERO, 2000), 0);
	pool0 = host_fail_alloc_count();
	host_fail_alloc_set(HOST_FAIL_ALLOC_MAX, 43);
	cr_assert_eq(nowait_failures(&pp, PR_WAITOK, 5000), 0);
	cr_assert_eq(nowait_failures(&pp, PR_WAITOK | PR_ZERO, 1000), 0);
	cr_assert_eq(host_fail_alloc_count(), pool0);
	cr_assert_eq(pp.pr_nout, 0);
	host_fail_alloc_set(0, 0);
	pool_destroy(&pp);
}

Test(failpoint, pools_on_host_pages_and_nofailinj_pools_are_exempt)
{
	struct pool host, opted;

	pool_init(&host, 64, 0, 0, 0, "t_fp_host", NULL, IPL_NONE);
	pool_init(&opted, 64, 0, 0, PR_NOFAILINJ, "t_fp_opted",
	    &uvm_km_pool_allocator, IPL_NONE);
	cr_assert(host.pr_flags & PR_NOFAILINJ, "pool_init marks host pools");
	host_fail_alloc_set(HOST_FAIL_ALLOC_MAX, 42);
	cr_assert_eq(nowait_failures(&host, PR_NOWAIT, 5000), 0);
	cr_assert_eq(nowait_failures(&opted, PR_NOWAIT, 5000), 0);
	cr_assert_eq(host_fail_alloc_count(), 0, "exempt pools never ask");
	host_fail_alloc_set(0, 0);
	pool_destroy(&host);
	pool_destroy(&opted);
}

Test(failpoint, a_get_with_nofailinj_never_fails)
{
	struct pool pp;

	pool_init(&pp, 64, 0, 0, 0, "t_fp_get", &uvm_km_pool_allocator,
	    IPL_NONE);
	host_fail_alloc_set(HOST_FAIL_ALLOC_MAX, 42);
	cr_assert_eq(nowait_failures(&pp, PR_NOWAIT | PR_NOFAILINJ, 5000), 0);
	cr_assert_eq(host_fail_alloc_count(), 0, "an exempt get never asks");
	cr_assert_gt(nowait_failures(&pp, PR_NOWAIT, 1000), 0,
	    "the pool itself may fail");
	host_fail_alloc_set(0, 0);
	pool_destroy(&pp);
}

static atomic_uint t_nctor;

static int
t_ctor(void *arg, void *obj, int flags)
{
	(void)arg;
	(void)flags;
	memset(obj, 0x5a, 32);
	atomic_fetch_add(&t_nctor, 1);
	return 0;
}

Test(failpoint, pool_cache_nowait_gets_fail_and_are_counted)
{
	struct pool_cache_stats st0, st;
	pool_cache_t pc;
	void *objs[64];
	unsigned int failed = 0, got = 0, i, round;
	uint64_t prfail0;

	pc = pool_cache_init(32, 0, 0, 0, "t_fp_cache", &uvm_km_pool_allocator,
	    IPL_NONE, t_ctor, NULL, NULL);
	cr_assert_not_null(pc);
	pool_cache_stats(pc, &st0);
	prfail0 = pool_cache_pool(pc)->pr_nfail;
	host_fail_alloc_set(HOST_FAIL_ALLOC_MAX, 42);
	for (round = 0; round < 100; round++) {
		unsigned int n = 0;

		for (i = 0; i < 64; i++) {
			if ((objs[n] = pool_cache_get(pc, PR_NOWAIT)) == NULL) {
				failed++;
				continue;
			}
			cr_assert_eq(*(unsigned char *)objs[n], 0x5a,
			    "a constructed object");
			n++;
		}
		got += n;
		for (i = 0; i < n; i++)
			pool_cache_put(pc, objs[i]);
	}
	/* 20% of 6400: 1280 expected, sd 32 */
	cr_assert(failed >= 960 && failed <= 1600, "%u of 6400 failed",
	    failed);
	pool_cache_stats(pc, &st);
	cr_assert_eq(st.pcs_nfail - st0.pcs_nfail, failed);
	cr_assert_eq(pool_cache_pool(pc)->pr_nfail - prfail0, failed,
	    "the pool counts the cache's injected failures");
	cr_assert_eq(host_fail_alloc_count_at(HOST_FAIL_POOL), failed,
	    "one decision per cache get, none in the miss path");

	/* PR_WAITOK gets of the cache never fail */
	for (i = 0; i < 64; i++)
		cr_assert_not_null(objs[i] = pool_cache_get(pc, PR_WAITOK));
	for (i = 0; i < 64; i++)
		pool_cache_put(pc, objs[i]);
	cr_assert_eq(host_fail_alloc_count_at(HOST_FAIL_POOL), failed);
	host_fail_alloc_set(0, 0);
	cr_assert_gt(got, 0);
	pool_cache_destroy(pc);
}

Test(failpoint, one_seed_one_sequence_per_thread)
{
	static bool a[NSEQ], b[NSEQ], c[NSEQ];
	pthread_t t;
	int i, ones = 0, diff = 0;

	host_fail_alloc_set(100, 7);
	draw(a, NSEQ);
	/* again from the start, with another thread drawing meanwhile */
	host_fail_alloc_set(100, 7);
	cr_assert_eq(host_thread_create(&t, "fp_drawer", drawer_main, NULL),
	    0);
	draw(b, NSEQ);
	pthread_join(t, NULL);
	for (i = 0; i < NSEQ; i++) {
		cr_assert_eq(a[i], b[i], "decision %d differs with the same "
		    "seed", i);
		ones += a[i];
	}
	cr_assert(ones > 100 && ones < 300, "%d of %d at 100 permille", ones,
	    NSEQ);
	/* another seed, another sequence */
	host_fail_alloc_set(100, 8);
	draw(c, NSEQ);
	for (i = 0; i < NSEQ; i++)
		diff += a[i] != c[i];
	cr_assert_gt(diff, 0, "seeds 7 and 8 gave the same sequence");
	cr_assert_eq(host_fail_alloc_count_at(HOST_FAIL_OTHER),
	    host_fail_alloc_count(), "host_fail_alloc counts as OTHER");
	host_fail_alloc_set(0, 0);
}

Test(failpoint, kmemalloc_nowait_fails_cleanly)
{
	int free0, wired0, i, nfail = 0, nok = 0;
	vaddr_t va;
	vsize_t kmsize0;
	int kmentries0, kentries0, kobjpages0, mapent0;

	/* warm the pools and maps these allocations use */
	va = uvm_km_kmemalloc(kmem_map, kmem_object, P(8), 0);
	cr_assert_neq(va, 0);
	uvm_km_free(kmem_map, va, P(8), 0);
	va = uvm_km_alloc(kernel_map, P(4), 0, UVM_KMF_WIRED);
	cr_assert_neq(va, 0);
	uvm_km_free(kernel_map, va, P(4), 0);
	free0 = pages_free();
	wired0 = uvmexp.wired;
	kmentries0 = kmem_map->nentries;
	kentries0 = kernel_map->nentries;
	kmsize0 = kmem_map->size;
	kobjpages0 = uvm.kernel_object->uo_npages;
	mapent0 = uvm_mapent_count();

	host_fail_alloc_set(HOST_FAIL_ALLOC_MAX, 42);
	for (i = 0; i < 200; i++) {
		va = uvm_km_kmemalloc(kmem_map, kmem_object, P(8),
		    UVM_KMF_NOWAIT);
		if (va == 0) {
			nfail++;
			continue;
		}
		nok++;
		cr_assert_eq(kmem_object->uo_npages, 8);
		memset((void *)va, 0x77, P(8));
		uvm_km_free(kmem_map, va, P(8), 0);
	}
	/* per page and map entry 20%: most 8-page allocations fail */
	cr_assert_gt(nfail, 0);
	cr_assert_gt(nok, 0);
	cr_assert_gt(host_fail_alloc_count_at(HOST_FAIL_KM), 0,
	    "no page allocation failed");
	cr_assert_gt(host_fail_alloc_count_at(HOST_FAIL_POOL), 0,
	    "no map entry failed");
	cr_assert_eq(kmem_object->uo_npages, 0, "pages leaked");
	cr_assert_eq(kmem_map->nentries, kmentries0, "VA leaked");
	cr_assert_eq(kmem_map->size, kmsize0);

	/* uvm_km_alloc (kernel_object) takes the same way out */
	for (i = 0, nfail = 0; i < 100; i++) {
		va = uvm_km_alloc(kernel_map, P(4), 0, UVM_KMF_WIRED |
		    UVM_KMF_NOWAIT | UVM_KMF_ZERO);
		if (va == 0) {
			nfail++;
			continue;
		}
		cr_assert_eq(*(uint64_t *)va, 0);
		uvm_km_free(kernel_map, va, P(4), 0);
	}
	cr_assert_gt(nfail, 0);
	cr_assert_eq(uvm.kernel_object->uo_npages, kobjpages0);
	cr_assert_eq(kernel_map->nentries, kentries0, "VA leaked");

	/* without NOWAIT nothing fails */
	for (i = 0; i < 50; i++) {
		va = uvm_km_kmemalloc(kmem_map, kmem_object, P(2), 0);
		cr_assert_neq(va, 0, "a sleeping allocation failed");
		uvm_km_free(kmem_map, va, P(2), 0);
	}
	host_fail_alloc_set(0, 0);

	cr_assert_eq(uvmexp.wired, wired0);
	cr_assert_eq(pages_free(), free0, "pages leaked: %d",
	    free0 - pages_free());
	cr_assert_eq(uvm_mapent_count(), mapent0, "map entries leaked");
}


Test(failpoint, faults_retry_when_anons_and_amaps_fail)
{
	struct vmspace *vm;
	vaddr_t base = 0x1000000, va;
	int nmaps = 32, npages = 8, m, i, anons0, amaps0, locks0;
	int noanon0, noamap0;
	uint64_t v;

	/* retrying needs someone to wait for: swap and the pagedaemon */
	cr_assert_eq(uvm_swap_attach(NULL, 1024, HOST_DISK_BUFFERED), 0, "%s",
	    uvm_swap_error());
	cr_assert_eq(uvm_pdaemon_start(), 0);
	anons0 = uvm_anon_count();
	amaps0 = amap_count();
	locks0 = uvm_rwobj_count();
	noanon0 = uvmexp_read(fltnoanon);
	noamap0 = uvmexp_read(fltnoamap);

	vm = uvmspace_alloc(PAGE_SIZE, VM_MAXUSER_ADDRESS, true);
	cr_assert_not_null(vm);
	/* separate mappings: each first write copies (makes) an amap */
	for (m = 0; m < nmaps; m++) {
		va = base + P(m * (npages + 1));
		cr_assert_eq(uvm_mmap_anon(&vm->vm_map, &va, P(npages),
		    VM_PROT_READ | VM_PROT_WRITE, UVM_MMAP_FIXED), 0);
	}
	host_fail_alloc_set(HOST_FAIL_ALLOC_MAX, 42);
	for (m = 0; m < nmaps; m++)
		for (i = 0; i < npages; i++) {
			va = base + P(m * (npages + 1) + i);
			v = va ^ 0x5a5a;
			cr_assert_eq(user_access(vm, va, true, &v), 0,
			    "write fault at %#lx failed", (unsigned long)va);
		}
	for (m = 0; m < nmaps; m++)
		for (i = 0; i < npages; i++) {
			va = base + P(m * (npages + 1) + i);
			v = 0;
			cr_assert_eq(user_access(vm, va, false, &v), 0);
			cr_assert_eq(v, va ^ 0x5a5a, "page at %#lx lost its "
			    "write", (unsigned long)va);
		}
	host_fail_alloc_set(0, 0);
	cr_assert_gt(uvmexp_read(fltnoanon), noanon0, "no anon failed");
	cr_assert_gt(uvmexp_read(fltnoamap), noamap0, "no amap failed");
	cr_assert_eq(uvm_anon_count(), anons0 + nmaps * npages);
	cr_assert_eq(amap_count(), amaps0 + nmaps);

	uvmspace_free(vm);
	cr_assert_eq(uvm_anon_count(), anons0, "anons leaked");
	cr_assert_eq(amap_count(), amaps0, "amaps leaked");
	cr_assert_eq(uvm_rwobj_count(), locks0, "amap locks leaked");
}
