/*
 * host/failpoint.c: allocation-failure injection (see host/failpoint.h).
 *
 * Who asks.  Only allocations that the BSDs may fail, each through its
 * own failure path, so that what runs is the code a real shortage runs:
 *
 *  - pool_get(PR_NOWAIT) (host/pool.c): fails after taking pr_lock,
 *    counted in pr_nfail like a pool that could get no page.  PR_WAITOK
 *    never fails from injection (it cannot fail in the BSDs, short of
 *    PR_LIMITFAIL at a hard limit).
 *  - pool_cache_get(PR_NOWAIT): asks once per get, before its caches
 *    (a get served from a CPU cache may fail too: it is the same call
 *    that fails in the BSDs when the pool behind is dry); counted in the
 *    pool's pr_nfail and the cache's pcs_nfail.  The miss path's
 *    pool_get does not ask again.
 *  - uvm_km_kmemalloc/uvm_km_alloc with UVM_KMF_NOWAIT (vm/uvm_km.c):
 *    each page of the range asks before uvm_pagealloc, and a failure
 *    takes the seed's "out of memory?" branch: the whole range is unmapped
 *    (freeing the pages taken so far) and 0 returned.  Their map entry is
 *    a NOWAIT pool_get of the map entry pool and may fail there first.
 *
 * Exempt pools.  A pool whose pages come from the host (pool_init with
 * pool_allocator_host, or NULL) is the machine's, not the kernel's, and
 * pool_init marks it PR_NOFAILINJ:
 *
 *  - "pvpl", the pmap's pv entries (host/pmap.c): pmap_enter without
 *    PMAP_CANFAIL panics when it gets none, as the BSDs' pmaps do, and
 *    its callers without PMAP_CANFAIL (kernel memory: uvm_km_fill,
 *    uvm_km_alloc1, wiring) have no way back.  The fault's pmap_enter
 *    with PMAP_CANFAIL (flt_pmfail1/2) is therefore not exercised; doing
 *    so would take a host_fail_alloc_at() in pmap_enter, asked only when
 *    PMAP_CANFAIL is set.
 *  - the off-page header pools ("phpool"), pool(9)'s own bookkeeping.
 *  - the pools and caches of the tests and the smoke driver, which are
 *    on host pages: they never see injected failures unless they ask for
 *    them with a non-host allocator.
 *
 * The VM's pools (anons, amaps and their slot memory, map entries, the
 * amap and object locks, aobjs and their swap tables, swap-hash
 * clusters, swap bufs) are on uvm_km_pool_allocator and may fail; any
 * other pool may opt out with PR_NOFAILINJ at pool_init.
 *
 * Exempt gets.  A PR_NOWAIT get with PR_NOFAILINJ in its flags stands
 * for one the BSDs make with PR_WAITOK, which cannot fail: the swap buf
 * of a synchronous swap read by a fault or uao_get (uvm_aiobuf_get;
 * OpenBSD's uvm_swap_io sleeps for it unless the transfer is async or
 * the caller is the pagedaemon).  The pagedaemon's bufs may fail.
 *
 * State: the rate, seed and generation are global relaxed atomics (the
 * generation is published with release after the seed); each thread
 * keeps its stream and the generation it was seeded for in thread-local
 * storage, and reseeds itself when the generation has moved on.  A
 * registered host thread draws stream FA_STREAM + ht_id; an unregistered
 * one (never the machine's) a stream past every registry id, in order of
 * first use.
 */
#include <stdatomic.h>

#include "failpoint.h"
#include "kassert.h"
#include "rng.h"
#include "thread.h"

#define FA_STREAM	0xfa000000ull	/* streams FA_STREAM + thread id */
#define FA_ANON		(1ull << 32)	/* unregistered threads' ids */

#define LD(p)		atomic_load_explicit((p), memory_order_relaxed)
#define ST(p, v)	atomic_store_explicit((p), (v), memory_order_relaxed)
#define ADD(p, v)	atomic_fetch_add_explicit((p), (v), memory_order_relaxed)

static _Atomic unsigned int fa_rate;		/* [a] permille, 0: off */
static _Atomic uint64_t fa_seed;		/* [a] */
static _Atomic uint64_t fa_gen;			/* [a] one per set */
static _Atomic uint64_t fa_nanon;		/* [a] unregistered threads */
static _Atomic uint64_t fa_count[HOST_FAIL_NSITES];	/* [a] */

/* This thread's stream, and the generation it was seeded for (0: none). */
static _Thread_local struct {
	uint64_t	ft_gen;
	struct host_rng	ft_rng;
} fa_self;

/* local prototypes */
static void fa_reseed(uint64_t);

void
host_fail_alloc_set(unsigned int permille, uint64_t seed)
{
	KASSERTMSG(permille <= HOST_FAIL_ALLOC_MAX, "host_fail_alloc_set: "
	    "%u permille is above the most, %u", permille,
	    HOST_FAIL_ALLOC_MAX);
	ST(&fa_seed, seed);
	ST(&fa_nanon, 0);
	atomic_fetch_add_explicit(&fa_gen, 1, memory_order_release);
	ST(&fa_rate, permille);
}

unsigned int
host_fail_alloc_rate(void)
{
	return LD(&fa_rate);
}

/* Seed this thread's stream for generation gen.  => never sleeps */
static void
fa_reseed(uint64_t gen)
{
	struct host_thread *ht = host_curthread;
	uint64_t id;

	id = ht != NULL ? (uint64_t)ht->ht_id : FA_ANON + ADD(&fa_nanon, 1);
	host_rng_init(&fa_self.ft_rng, LD(&fa_seed), FA_STREAM + id);
	fa_self.ft_gen = gen;
}

/*
 * host_fail_alloc_at: see host/failpoint.h.
 * => never sleeps, takes no lock, never allocates (trap path)
 */
bool
host_fail_alloc_at(enum host_fail_site site)
{
	unsigned int rate = LD(&fa_rate);
	uint64_t gen;

	KASSERT((unsigned int)site < HOST_FAIL_NSITES);
	if (__predict_true(rate == 0))
		return false;
	gen = atomic_load_explicit(&fa_gen, memory_order_acquire);
	if (__predict_false(fa_self.ft_gen != gen))
		fa_reseed(gen);
	if (host_rng_below(&fa_self.ft_rng, 1000) >= rate)
		return false;
	ADD(&fa_count[site], 1);
	return true;
}

uint64_t
host_fail_alloc_count(void)
{
	uint64_t n = 0;
	int i;

	for (i = 0; i < HOST_FAIL_NSITES; i++)
		n += LD(&fa_count[i]);
	return n;
}

uint64_t
host_fail_alloc_count_at(enum host_fail_site site)
{
	KASSERT((unsigned int)site < HOST_FAIL_NSITES);
	return LD(&fa_count[site]);
}
