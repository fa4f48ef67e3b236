/*
 * tests/test_uvm_bufcache.c: vm/uvm_bufcache.c, the buffer-cache model:
 * sizes and marks, growth and recycling, the syncer, bufbackoff and
 * bufadjust (OpenBSD's return values, high memory first, never below the
 * floor, never a dirty page), BUFPAGES_DEFICIT and BUFPAGES_INACT, and
 * page accounting (the cache's pages are kernel pages).
 *
 * Each test boots its own machine and VM; no daemon runs.
 */
#include <criterion/criterion.h>
#include <unistd.h>

#include "stress/audit.h"
#include "tests/vmtest.h"
#include "vm/uvm_bufcache.h"

/* local prototypes */
static void bc_init(void);
static int64_t bc(const int64_t *field);
static int fill_default_range(struct pglist *pl);
static void audit_quiet(void);

TestSuite(uvm_bufcache, .init = bc_init, .fini = vmtest_shutdown,
    .timeout = 60);

static void
bc_init(void)
{
	alarm(60);
	vmtest_boot();
	(void)host_thread_self();
}

static int64_t
bc(const int64_t *field)
{
	return __atomic_load_n(field, __ATOMIC_RELAXED);
}

/* Take every free page above the DMA range: new pages come from DMA. */
static int
fill_default_range(struct pglist *pl)
{
	paddr_t high = dma_constraint.ucr_high;
	int n = uvm_pmr_count_free(high, uvmexp.npages);

	cr_assert_eq(uvm_pglistalloc(ptoa(n), high, uvmexp.npages, 0, 0, pl,
	    n, UVM_PLA_NOWAIT), 0);
	return n;
}

/* The page accounting holds, the cache's pages counted as kernel pages. */
static void
audit_quiet(void)
{
	struct audit_result ar;

	memset(&ar, 0, sizeof(ar));
	audit_pages(&ar, AUDIT_QUIESCENT);
	cr_assert_eq(ar.nviolations, 0, "%s", ar.first);
}

Test(uvm_bufcache, empty_by_default)
{
	cr_assert_eq(bc_load(bufhighpages), 0);
	cr_assert_eq(BUFPAGES_DEFICIT, 0);
	cr_assert_eq(BUFPAGES_INACT, 0);
	cr_assert_eq(uvm_bufcache_fill(10, 0), 0, "no cache, no buffers");
	cr_assert_eq(bufbackoff(NULL, 4), -1, "nothing to give");
	cr_assert_eq(bufbackoff(&no_constraint, 4), -1);
}

Test(uvm_bufcache, setsize_sets_the_marks)
{
	cr_assert_eq(uvm_bufcache_setsize(-1), EINVAL);
	cr_assert_eq(uvm_bufcache_setsize(uvmexp.npages / 2 + 1), EINVAL);
	cr_assert_eq(uvm_bufcache_setsize(400), 0);
	cr_assert_eq(bc_load(bufhighpages), 400);
	cr_assert_eq(bc_load(bufpages), 400);
	cr_assert_eq(bc_load(buflowpages), 100);
	cr_assert_eq(bc_load(bufbackpages), 10);
	/* an empty cache is owed its floor */
	cr_assert_eq(BUFPAGES_DEFICIT, 100);
	cr_assert_eq(BUFPAGES_INACT, 0);
	cr_assert_eq(uvm_bufcache_setsize(2000), 0);
	cr_assert_eq(bc_load(buflowpages), 500);
	cr_assert_eq(bc_load(bufbackpages), 50, "10%% of the floor");
}

Test(uvm_bufcache, fill_grows_to_the_target_then_recycles)
{
	int free0 = uvmexp_read(free), kernel0 = uvmexp_read(kernel);

	cr_assert_eq(uvm_bufcache_setsize(400), 0);
	cr_assert_eq(uvm_bufcache_fill(50, 0), 50);
	cr_assert_eq(bc(&bcstats.numbufpages), 50);
	cr_assert_eq(bc(&bcstats.numcleanpages), 50);
	cr_assert_eq(bc(&bcstats.numreads), 50);
	cr_assert_eq(uvmexp_read(free), free0 - 50);
	cr_assert_eq(uvmexp_read(kernel), kernel0 + 50);
	cr_assert_eq(BUFPAGES_DEFICIT, 50);
	cr_assert_eq(BUFPAGES_INACT, 0);

	cr_assert_eq(uvm_bufcache_fill(350, 0), 350);
	cr_assert_eq(bc(&bcstats.numbufpages), 400);
	cr_assert_eq(BUFPAGES_DEFICIT, 0);
	cr_assert_eq(BUFPAGES_INACT, 300, "clean pages above the floor");
	cr_assert_eq(bc(&bcstats.dmapages) + bc(&bcstats.highpages), 400);

	/* at the target: buffers are reused, the cache does not grow */
	cr_assert_eq(uvm_bufcache_fill(100, 0), 100);
	cr_assert_eq(bc(&bcstats.numbufpages), 400);
	cr_assert_eq(bc(&bcstats.recycled), 100);
	cr_assert_eq(uvmexp_read(free), free0 - 400);
	audit_quiet();

	uvm_bufcache_drain();
	cr_assert_eq(bc(&bcstats.numbufpages), 0);
	cr_assert_eq(uvmexp_read(free), free0);
	cr_assert_eq(uvmexp_read(kernel), kernel0);
	audit_quiet();
}

/* The cache grows into free memory, not into the pagedaemon's target. */
Test(uvm_bufcache, no_growth_below_the_free_target)
{
	int64_t n;

	cr_assert_eq(uvm_bufcache_setsize(uvmexp.npages / 2), 0);
	n = uvm_bufcache_fill(uvmexp.npages, 0);
	cr_assert_eq(bc(&bcstats.numbufpages), uvmexp.npages / 2);
	cr_assert_eq(n, uvmexp.npages, "the rest were recycled");
	uvm_bufcache_drain();

	uvm_lock_pageq();
	__atomic_store_n(&uvmexp.freetarg, uvmexp.npages, __ATOMIC_RELAXED);
	uvm_unlock_pageq();
	cr_assert_eq(uvm_bufcache_fill(10, 0), 0, "nothing free to take, "
	    "nothing to recycle");
	cr_assert_eq(bc(&bcstats.numbufpages), 0);
}

Test(uvm_bufcache, dirty_buffers_are_written_by_the_syncer)
{
	cr_assert_eq(uvm_bufcache_setsize(400), 0);
	/* below the cleaner's mark (3/4 of the floor) they stay dirty */
	cr_assert_eq(uvm_bufcache_fill(50, BC_DIRTY), 50);
	cr_assert_eq(bc(&bcstats.numdirtypages), 50);
	cr_assert_eq(bc(&bcstats.numcleanpages), 0);
	cr_assert_eq(bc(&bcstats.numwrites), 50);
	cr_assert_eq(BUFPAGES_INACT, 0, "dirty pages are not inactive ones");
	cr_assert_eq(uvm_bufcache_sync(20), 20);
	cr_assert_eq(bc(&bcstats.numdirtypages), 30);
	cr_assert_eq(bc(&bcstats.numcleanpages), 20);
	cr_assert_eq(bc(&bcstats.flushes), 20);
	/* past the mark, the cleaner writes them down to half the floor */
	cr_assert_eq(uvm_bufcache_fill(50, BC_DIRTY), 50);
	cr_assert_leq(bc(&bcstats.numdirtypages), 75);
	cr_assert_eq(bc(&bcstats.numbufpages), 100);
}

Test(uvm_bufcache, bufbackoff_gives_back_clean_pages_down_to_the_floor)
{
	int free0;

	cr_assert_eq(uvm_bufcache_setsize(400), 0);
	cr_assert_eq(uvm_bufcache_fill(390, 0), 390);
	cr_assert_eq(uvm_bufcache_fill(10, BC_DIRTY), 10);
	free0 = uvmexp_read(free);

	/* at least bufbackpages */
	cr_assert_eq(bufbackoff(NULL, 4), 0);
	cr_assert_eq(bc_load(bufpages), 390);
	cr_assert_eq(bc(&bcstats.numbufpages), 390);
	cr_assert_eq(uvmexp_read(free), free0 + 10);
	cr_assert_eq(bc(&bcstats.numdirtypages), 10, "dirty pages stay");

	cr_assert_eq(bufbackoff(NULL, 40), 0);
	cr_assert_eq(bc_load(bufpages), 350);
	cr_assert_eq(bc(&bcstats.numbufpages), 350);

	/* more than it may give: down to the floor, and -1 */
	cr_assert_eq(bufbackoff(NULL, 1000), -1);
	cr_assert_eq(bc_load(bufpages), 100);
	cr_assert_eq(bc(&bcstats.numbufpages), 100);
	cr_assert_eq(bc(&bcstats.numdirtypages), 10);
	cr_assert_eq(BUFPAGES_DEFICIT, 0);
	cr_assert_eq(BUFPAGES_INACT, 0);
	cr_assert_eq(bufbackoff(NULL, 1), -1, "at the floor");
	cr_assert_eq(bc(&bcstats.backoffs), 4);
	cr_assert_eq(bc(&bcstats.backoff_fails), 2);
	cr_assert_eq(bc(&bcstats.pagesfreed), 300);
	audit_quiet();

	/* used again, the cache grows back to its size */
	cr_assert_eq(uvm_bufcache_fill(300, 0), 300);
	cr_assert_eq(bc_load(bufpages), 400);
	cr_assert_eq(bc(&bcstats.numbufpages), 400);
}

/* Dirty pages are written before they may go, but bufbackoff never writes. */
Test(uvm_bufcache, bufbackoff_never_gives_dirty_pages)
{
	cr_assert_eq(uvm_bufcache_setsize(400), 0);
	cr_assert_eq(uvm_bufcache_fill(60, BC_DIRTY), 60);
	cr_assert_eq(uvm_bufcache_fill(340, 0), 340);
	cr_assert_eq(bufbackoff(NULL, 1000), -1);
	cr_assert_eq(bc(&bcstats.numbufpages), 100);
	cr_assert_eq(bc(&bcstats.numdirtypages), 60);
	cr_assert_eq(bc(&bcstats.numcleanpages), 40);
}

/*
 * A range that takes high memory gets high pages first; one that wants
 * only high memory fails when there is not enough; a DMA range lowers
 * the target and gets DMA pages first.
 */
Test(uvm_bufcache, ranges_choose_which_pages_go)
{
	struct uvm_constraint_range high_only = {
		dma_constraint.ucr_high + 1, no_constraint.ucr_high
	};
	struct pglist def;

	cr_assert_eq(uvm_bufcache_setsize(300), 0);
	cr_assert_eq(uvm_bufcache_fill(100, 0), 100);	/* high pages */
	(void)fill_default_range(&def);
	cr_assert_eq(uvm_bufcache_fill(200, 0), 200);	/* DMA pages */
	cr_assert_eq(bc(&bcstats.highpages), 100);
	cr_assert_eq(bc(&bcstats.dmapages), 200);

	/* the DMA range: a lower target, DMA pages given back first */
	cr_assert_eq(bufbackoff(&dma_constraint, 50), 0);
	cr_assert_eq(bc_load(bufpages), 250);
	cr_assert_eq(bc(&bcstats.dmapages), 150);
	cr_assert_eq(bc(&bcstats.highpages), 100);

	/* any memory: high pages first, the target stays */
	cr_assert_eq(bufbackoff(&no_constraint, 30), 0);
	cr_assert_eq(bc(&bcstats.highpages), 70);
	cr_assert_eq(bc(&bcstats.dmapages), 150);
	cr_assert_eq(bc_load(bufpages), 250);

	/* only high memory, and not enough of it */
	cr_assert_eq(bufbackoff(&high_only, 100), -1);
	cr_assert_eq(bc(&bcstats.highpages), 0);
	cr_assert_eq(bc(&bcstats.dmapages), 150, "DMA untouched");
	uvm_pglistfree(&def);
	audit_quiet();
}

/* Giving pages back serves a pma request whose range they are in. */
Test(uvm_bufcache, freed_pages_mark_pma_requests)
{
	struct uvm_pmalloc pma;
	struct pglist def;

	cr_assert_eq(uvm_bufcache_setsize(200), 0);
	(void)fill_default_range(&def);
	cr_assert_eq(uvm_bufcache_fill(200, 0), 200);	/* DMA pages */
	pma.pm_constraint = dma_constraint;
	pma.pm_size = ptoa(8);
	pma.pm_flags = UVM_PMA_LINKED | UVM_PMA_BUSY;
	uvm_lock_fpageq();
	TAILQ_INSERT_TAIL(&uvm.pmr_control.allocs, &pma, pmq);
	uvm_unlock_fpageq();
	cr_assert_eq(bufbackoff(&dma_constraint, 16), 0);
	uvm_lock_fpageq();
	cr_assert(pma.pm_flags & UVM_PMA_FREED);
	TAILQ_REMOVE(&uvm.pmr_control.allocs, &pma, pmq);
	uvm_unlock_fpageq();
	uvm_pglistfree(&def);
}

Test(uvm_bufcache, setsize_zero_gives_everything_back)
{
	int free0 = uvmexp_read(free);

	cr_assert_eq(uvm_bufcache_setsize(200), 0);
	cr_assert_eq(uvm_bufcache_fill(150, 0), 150);
	cr_assert_eq(uvm_bufcache_fill(10, BC_DIRTY), 10);
	cr_assert_eq(uvm_bufcache_setsize(0), 0);
	cr_assert_eq(bc(&bcstats.numbufpages), 0);
	cr_assert_eq(uvmexp_read(free), free0);
	cr_assert_eq(BUFPAGES_DEFICIT, 0);
	cr_assert_eq(uvm_bufcache_fill(1, 0), 0);
	audit_quiet();
}
