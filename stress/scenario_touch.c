/*
 * stress/scenario_touch.c: touch private anonymous memory and check it.
 *
 * Each LWP maps private anonymous regions (uvm_mmap_anon) in its own
 * address space and touches their pages in a seeded sequential or random
 * pattern.  Every touch reads the page and checks it against the ledger
 * (zeroes if never written, else the signature of its last generation);
 * half the touches (seeded) then write the next generation and read it
 * back.  At the end every page is checked once more (the final sweep).
 *
 * With --remap, the fault-throughput workload: map a fresh region, touch
 * every page once (a zero-fill fault: it must read zero; then write the
 * signature and read it back), sweep, unmap, map again.
 *
 * An op is one page touch.
 */
#include <stdlib.h>
#include <string.h>

#include "host/hook.h"
#include "host/machine.h"
#include "host/trap.h"
#include "integrity.h"
#include "runner.h"
#include "scenario.h"
#include "vm/uvm_mmap.h"

#define TOUCH_BATCH		64	/* ops per trip to user mode */
#define TOUCH_MAXREGIONS	64
#define TOUCH_HINT		((vaddr_t)0x10000000)	/* where maps go */
#define PAGE_WORDS		(PAGE_SIZE / sizeof(uint64_t))

/* Help text. */
static const char touch_help[] =
"  Each LWP maps private anonymous regions and touches their pages in a\n"
"  seeded pattern; every read is checked against the page's signature\n"
"  (address space, va, generation), half the touches write a new\n"
"  generation.  --remap maps a fresh region, touches each page once\n"
"  (zero-fill faults), unmaps, and repeats: the fault-throughput workload.\n"
"  An op is one page touch.\n";

/* Options table. */
enum { TO_PAGES, TO_PATTERN, TO_REMAP, TO_REGIONS };
static const char *const touch_patterns[] = { "seq", "random", NULL };
#define PATTERN_SEQ	0
#define PATTERN_RANDOM	1
static const struct sopt touch_opts[] = {
	[TO_PAGES] = { "pages", SOPT_INT, 1, 1 << 20, 256, NULL, "N",
	    "pages per LWP", NULL, NULL },
	[TO_PATTERN] = { "pattern", SOPT_ENUM, 0, 1, PATTERN_RANDOM,
	    touch_patterns, "seq|random", "access pattern", NULL, NULL },
	[TO_REMAP] = { "remap", SOPT_FLAG, 0, 1, 0, NULL, NULL,
	    "map, touch every page once, unmap, repeat", NULL, NULL },
	[TO_REGIONS] = { "regions", SOPT_INT, 1, TOUCH_MAXREGIONS, 4, NULL,
	    "N", "regions the pages are mapped in (without --remap)", NULL,
	    NULL },
};

/* Context: one per LWP. */
struct touch_ctx {
	struct stress_worker	*tc_w;
	struct integ_ledger	tc_lg;
	int			tc_npages;
	int			tc_nregions;
	int			tc_per;		/* pages per region */
	bool			tc_random;
	bool			tc_remap;
	vaddr_t			tc_base[TOUCH_MAXREGIONS];	/* 0: unmapped */
	volatile uint64_t	*tc_host[TOUCH_MAXREGIONS];
	int			tc_cursor;	/* seq: the next page */
	int			*tc_order;	/* remap: touch order */
	int			tc_next;	/* remap: index in tc_order */
	bool			tc_failed;	/* tc_bad holds a mismatch */
	bool			tc_stop;	/* the run ended in user mode */
	bool			tc_final;	/* the sweep is the final one:
						   cut at the run's time */
	struct integ_bad	tc_bad;
	uint64_t		tc_maps;
	uint64_t		tc_unmaps;
	uint64_t		tc_reads;
	uint64_t		tc_writes;
	uint64_t		tc_zero_checks;
};

/* local prototypes */
static int region_pages(const struct touch_ctx *c, int r);
static vaddr_t page_va(const struct touch_ctx *c, int i);
static volatile uint64_t *page_host(const struct touch_ctx *c, int i);
static bool touch_map(struct touch_ctx *c, int r);
static bool touch_unmap(struct touch_ctx *c, int r);
static void touch_new_order(struct touch_ctx *c);
static bool touch_one(struct touch_ctx *c);
static void touch_user(void *arg);
static void touch_sweep(void *arg);
static bool touch_user_call(struct touch_ctx *c, void (*fn)(void *));
static void touch_worker(struct stress_worker *w);
static uint64_t touch_pages_per_lwp(const struct stress_config *cfg);
static const char *touch_check(const struct stress_config *cfg, char *buf,
    size_t len);
static int touch_run(struct stress_run *r);

static int
region_pages(const struct touch_ctx *c, int r)
{
	return MIN(c->tc_per, c->tc_npages - r * c->tc_per);
}

static vaddr_t
page_va(const struct touch_ctx *c, int i)
{
	return c->tc_base[i / c->tc_per] + ptoa(i % c->tc_per);
}

static volatile uint64_t *
page_host(const struct touch_ctx *c, int i)
{
	return c->tc_host[i / c->tc_per] + (size_t)(i % c->tc_per) * PAGE_WORDS;
}

/* touch_map: map region r afresh.  => kernel mode */
static bool
touch_map(struct touch_ctx *c, int r)
{
	struct stress_worker *w = c->tc_w;
	vaddr_t va = TOUCH_HINT;
	int i, n = region_pages(c, r), error;

	error = uvm_mmap_anon(w->w_map, &va, ptoa(n), VM_PROT_READ |
	    VM_PROT_WRITE, UVM_MMAP_PRIVATE);
	if (error != 0) {
		stress_fail(FK_VM, NULL, "asid %u: uvm_mmap_anon of %d pages: "
		    "error %d (%s)", w->w_asid, n, error, strerror(error));
		return false;
	}
	c->tc_base[r] = va;
	c->tc_host[r] = pmap_hostaddr(w->w_pmap, va);
	for (i = 0; i < n; i++)
		integ_set_va(&c->tc_lg, r * c->tc_per + i, va + ptoa(i));
	c->tc_maps++;
	return true;
}

static bool
touch_unmap(struct touch_ctx *c, int r)
{
	struct stress_worker *w = c->tc_w;
	int i, n = region_pages(c, r), error;

	if (c->tc_base[r] == 0)
		return true;
	for (i = 0; i < n; i++)
		integ_set_va(&c->tc_lg, r * c->tc_per + i, 0);
	error = uvm_munmap(w->w_map, c->tc_base[r], ptoa(n));
	c->tc_base[r] = 0;
	if (error != 0) {
		stress_fail(FK_VM, NULL, "asid %u: uvm_munmap of %d pages: "
		    "error %d (%s)", w->w_asid, n, error, strerror(error));
		return false;
	}
	c->tc_unmaps++;
	return true;
}

/* The order --remap touches a fresh region in. */
static void
touch_new_order(struct touch_ctx *c)
{
	struct host_rng *rng = &c->tc_w->w_rng;
	int i, k, n = c->tc_npages, start;

	if (c->tc_random) {
		for (i = 0; i < n; i++)
			c->tc_order[i] = i;
		for (i = n - 1; i > 0; i--) {	/* Fisher-Yates */
			k = (int)host_rng_below(rng, (uint64_t)i + 1);
			start = c->tc_order[i];
			c->tc_order[i] = c->tc_order[k];
			c->tc_order[k] = start;
		}
	} else {
		start = (int)host_rng_below(rng, (uint64_t)n);
		for (i = 0; i < n; i++)
			c->tc_order[i] = (start + i) % n;
	}
	c->tc_next = 0;
}

/*
 * touch_one: one op: pick a page, check it, maybe write and read back.
 * => user mode; false with tc_bad filled on a mismatch
 */
static bool
touch_one(struct touch_ctx *c)
{
	struct stress_worker *w = c->tc_w;
	struct integ_ledger *lg = &c->tc_lg;
	volatile uint64_t *p;
	uint32_t gen;
	bool write;
	vaddr_t va;
	int i;

	if (c->tc_remap)
		i = c->tc_order[c->tc_next++];
	else if (c->tc_random)
		i = (int)host_rng_below(&w->w_rng, (uint64_t)c->tc_npages);
	else {
		i = c->tc_cursor;
		c->tc_cursor = (c->tc_cursor + 1) % c->tc_npages;
	}
	p = page_host(c, i);
	va = page_va(c, i);
	gen = lg->il_pages[i].ip_gen;
	c->tc_bad.ib_page = i;
	c->tc_bad.ib_when = c->tc_remap ? "first touch" : "read";
	c->tc_reads++;
	if (gen == 0)
		c->tc_zero_checks++;
	if (!integ_check(p, w->w_asid, va, gen, &c->tc_bad))
		return false;
	write = c->tc_remap || host_rng_below(&w->w_rng, 2) == 0;
	stress_touched(w, (uint64_t)i << 1 | write);
	if (!write)
		return true;
	c->tc_writes++;
	integ_write(p, w->w_asid, va, gen + 1);
	c->tc_bad.ib_when = "read-back";
	if (!integ_check(p, w->w_asid, va, gen + 1, &c->tc_bad))
		return false;
	integ_wrote(lg, i, gen + 1, STRESS_LD(&w->w_ops));
	return true;
}

/* touch_user: a batch of ops in user mode. */
static void
touch_user(void *arg)
{
	struct touch_ctx *c = arg;
	int n;

	for (n = 0; n < TOUCH_BATCH; n++) {
		if (c->tc_remap && c->tc_next == c->tc_npages)
			return;		/* region used up: remap first */
		if (!stress_continue(c->tc_w)) {
			c->tc_stop = true;
			return;
		}
		if (!touch_one(c)) {
			c->tc_failed = true;
			return;
		}
		stress_op_done(c->tc_w);
	}
}

/* touch_sweep: check every mapped page.  => user mode */
static void
touch_sweep(void *arg)
{
	struct touch_ctx *c = arg;
	struct integ_ledger *lg = &c->tc_lg;
	int i;

	for (i = 0; i < c->tc_npages; i++) {
		if (lg->il_pages[i].ip_va == 0)
			continue;
		if ((i & 63) == 0)
			host_progress();	/* a long sweep is not a hang */
		/*
		 * The final sweep ends at the run's time for checks: looked
		 * at every page, as under paging one page may be a long
		 * swap-in among a thousand LWPs'.
		 */
		if (c->tc_final && !stress_checks_continue(c->tc_w))
			return;
		c->tc_bad.ib_page = i;
		c->tc_bad.ib_when = "sweep";
		if (!integ_check(page_host(c, i), c->tc_w->w_asid,
		    page_va(c, i), lg->il_pages[i].ip_gen, &c->tc_bad)) {
			c->tc_failed = true;
			return;
		}
	}
}

/*
 * touch_user_call: run fn in user mode; a refused fault (out of swap: the
 * process is killed; EIO: a lost page; else an unexpected SIGSEGV) or a
 * mismatch is reported here.  => false if the worker must stop
 */
static bool
touch_user_call(struct touch_ctx *c, void (*fn)(void *))
{
	struct stress_worker *w = c->tc_w;
	struct host_user_fault uf;

	if (host_user_call(fn, c, &uf) != 0) {
		(void)stress_refused(w, &uf, &c->tc_lg);
		c->tc_failed = false;
		return false;
	}
	if (c->tc_failed) {
		integ_report(w, &c->tc_lg, &c->tc_bad);
		return false;
	}
	return true;
}

/* The LWP worker. */
static void
touch_worker(struct stress_worker *w)
{
	struct touch_ctx *c = w->w_ctx;
	bool ok = true;
	int r;

	c->tc_w = w;
	if (integ_ledger_init(&c->tc_lg, w->w_asid, w->w_pmap,
	    c->tc_npages) != 0) {
		stress_fail(FK_VM, NULL, "asid %u: no memory for the ledger",
		    w->w_asid);
		return;
	}
	for (r = 0; r < c->tc_nregions && ok; r++)
		ok = touch_map(c, r);
	if (!ok)
		stress_timed_end(w);
	w->w_ledger = &c->tc_lg;
	if (c->tc_remap)
		touch_new_order(c);
	else
		c->tc_cursor = (int)host_rng_below(&w->w_rng,
		    (uint64_t)c->tc_npages);

	stress_barrier(w);
	while (ok && stress_running(w)) {
		if (c->tc_remap && c->tc_next == c->tc_npages) {
			/* a region used up: sweep it, unmap, map afresh */
			if (!(ok = touch_user_call(c, touch_sweep)))
				break;
			if (!(ok = touch_unmap(c, 0) && touch_map(c, 0)))
				break;
			touch_new_order(c);
		}
		ok = touch_user_call(c, touch_user);
		if (c->tc_stop)
			break;
		lwp_userret();
	}

	/* The final sweep, then unmap everything (unless killed: all gone). */
	stress_timed_end(w);
	if (stress_killed(w))
		return;
	c->tc_final = true;
	if (ok)
		(void)touch_user_call(c, touch_sweep);
	if (stress_killed(w))
		return;
	for (r = 0; r < c->tc_nregions; r++)
		(void)touch_unmap(c, r);
}

static uint64_t
touch_pages_per_lwp(const struct stress_config *cfg)
{
	return (uint64_t)cfg->sval[TO_PAGES];
}

/* --regions shapes the mapping without --remap only: say so, not ignore. */
static const char *
touch_check(const struct stress_config *cfg, char *buf, size_t len)
{
	if (cfg->sval[TO_REMAP] != 0 && cfg->sset[TO_REGIONS]) {
		snprintf(buf, len, "--regions and --remap do not go together "
		    "(--remap maps one region at a time)");
		return buf;
	}
	return NULL;
}

/* The scenario entry. */
static int
touch_run(struct stress_run *r)
{
	const struct stress_config *cfg = r->r_cfg;
	struct touch_ctx *ctxs;
	uint64_t maps = 0, unmaps = 0, reads = 0, writes = 0, zeroes = 0;
	int i, error;

	ctxs = calloc((size_t)cfg->lwps, sizeof(*ctxs));
	if (ctxs == NULL)
		return EXIT_NO_RESOURCE;
	for (i = 0; i < cfg->lwps; i++) {
		struct touch_ctx *c = &ctxs[i];

		c->tc_npages = (int)cfg->sval[TO_PAGES];
		c->tc_random = cfg->sval[TO_PATTERN] == PATTERN_RANDOM;
		c->tc_remap = cfg->sval[TO_REMAP] != 0;
		c->tc_nregions = c->tc_remap ? 1 :
		    (int)MIN(cfg->sval[TO_REGIONS], cfg->sval[TO_PAGES]);
		c->tc_per = howmany(c->tc_npages, c->tc_nregions);
		c->tc_nregions = howmany(c->tc_npages, c->tc_per);
		if (c->tc_remap &&
		    (c->tc_order = calloc((size_t)c->tc_npages,
		    sizeof(int))) == NULL)
			return EXIT_NO_RESOURCE;
	}
	error = stress_run_workers(r, touch_worker, ctxs, sizeof(*ctxs));
	for (i = 0; i < cfg->lwps; i++) {
		maps += ctxs[i].tc_maps;
		unmaps += ctxs[i].tc_unmaps;
		reads += ctxs[i].tc_reads;
		writes += ctxs[i].tc_writes;
		zeroes += ctxs[i].tc_zero_checks;
	}
	stress_metric_u64(r, "regions_mapped", maps);
	stress_metric_u64(r, "regions_unmapped", unmaps);
	stress_metric_u64(r, "page_reads_checked", reads);
	stress_metric_u64(r, "page_writes", writes);
	stress_metric_u64(r, "zero_fill_checks", zeroes);
	/* the workers are joined: nobody reads the ledgers any more */
	for (i = 0; i < cfg->lwps; i++) {
		integ_ledger_fini(&ctxs[i].tc_lg);
		free(ctxs[i].tc_order);
	}
	free(ctxs);
	return error;
}

/* The descriptor. */
const struct scenario scenario_touch = {
	.sc_name = "touch",
	.sc_summary = "touch private anonymous pages, check every read "
	    "(--remap: zero-fill fault throughput)",
	.sc_help = touch_help,
	.sc_opts = touch_opts,
	.sc_nopts = (int)nitems(touch_opts),
	.sc_pages_per_lwp = touch_pages_per_lwp,
	.sc_check = touch_check,
	.sc_skip = NULL,
	.sc_run = touch_run,
};
