/*
 * host/failpoint.h: allocation-failure injection (--fail-alloc).
 *
 * The BSDs let some allocations fail: pool_get(PR_NOWAIT),
 * pool_cache_get(PR_NOWAIT) and uvm_km_kmemalloc/uvm_km_alloc with
 * UVM_KMF_NOWAIT return NULL (0) when memory is short, and their callers
 * must cope (uvm_fault's flt_noanon and flt_noamap, a pageout that gets
 * no buffer, ...).  On a machine with memory to spare those paths never
 * run; a failpoint makes them run: at a set rate, the allocator asks
 * host_fail_alloc_at() and, on true, fails as it would when out of
 * memory, through its own failure path.  Which allocations ask, and
 * which pools are exempt, is in host/failpoint.c.
 *
 * Decisions are deterministic per thread: a registered host thread
 * (host/thread.h) draws from its own stream of the failpoint seed, keyed
 * by its registry id, so a thread's sequence of decisions depends only on
 * (seed, rate, its id, how many allocations it has asked about), never on
 * other threads.  host_fail_alloc_set() restarts every thread's stream.
 *
 * Who may call: anyone, from any context (the trap path included): the
 * decision takes no lock, never sleeps and never allocates.
 * Legend: [a] relaxed atomics; thread-local state is the thread's own.
 */
#ifndef HOST_FAILPOINT_H
#define HOST_FAILPOINT_H

#include "param.h"

#define HOST_FAIL_ALLOC_MAX	200	/* permille: at most 20% */

/* Where a failure was injected (counted per site). */
enum host_fail_site {
	HOST_FAIL_POOL,		/* pool_get/pool_cache_get with PR_NOWAIT */
	HOST_FAIL_KM,		/* a page of uvm_km_kmemalloc/alloc NOWAIT */
	HOST_FAIL_OTHER,	/* host_fail_alloc() */
	HOST_FAIL_NSITES
};

/*
 * host_fail_alloc_set: fail `permille` of the allocations that ask (0:
 * off, the default), drawing from `seed`; every thread's stream restarts.
 * => permille <= HOST_FAIL_ALLOC_MAX (panics otherwise); call it before
 *    the workload (a concurrent allocation sees the old or the new rate)
 */
void host_fail_alloc_set(unsigned int permille, uint64_t seed);
/* The rate in force, permille (0: off). */
unsigned int host_fail_alloc_rate(void);

/*
 * host_fail_alloc_at: should this allocation fail?  true: the caller
 * fails it (and it is counted at `site`).  false at once when off.
 * => never sleeps, takes no lock, never allocates
 */
bool host_fail_alloc_at(enum host_fail_site site);

/* host_fail_alloc: host_fail_alloc_at(HOST_FAIL_OTHER). */
static inline bool
host_fail_alloc(void)
{
	return host_fail_alloc_at(HOST_FAIL_OTHER);
}

/* Failures injected since the process started: in all, at one site. [a] */
uint64_t host_fail_alloc_count(void);
uint64_t host_fail_alloc_count_at(enum host_fail_site site);

#endif /* HOST_FAILPOINT_H */
