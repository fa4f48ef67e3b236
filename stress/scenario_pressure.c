/*
 * stress/scenario_pressure.c: sustained reclaim.
 *
 * Each LWP maps its share of a working set (--ws, split across the LWPs)
 * that exceeds RAM, fills it once (not timed: every page is zero-filled,
 * checked to read zero, and signed with generation 1), and then touches
 * it in a seeded pattern for the run: each touch checks the page's
 * signature (the integrity oracle: a page that came back from swap must
 * be exactly what was last written) and writes the next generation.  So
 * the pagedaemon has to page out all the time and every touch of a page
 * not in RAM is a swap-in: the workload of perf/linux_touch.c, which
 * bench_reclaim.sh runs under Linux's own reclaim for comparison.
 *
 * Patterns: seq (page after page, wrapping: the LRU worst case), random
 * (uniform), hotcold (90% of touches on the first 10% of the pages, as
 * linux_touch does).
 *
 * --wired N pages per LWP are mapped apart and wired (uvm_mlock); one
 * is touched every batch of touches, and after each batch one of them is
 * checked to still sit in the frame it was wired in: a wired page must
 * never be paged out (the auditor also checks that none is on a paging
 * queue or holds a swap slot).
 *
 * A fault the VM refuses with ENOMEM (out of swap) kills the worker's
 * process (stress_oom_kill: a message, its address space freed, counted;
 * the run goes on); EIO (a page lost in swap) is a failure naming it.
 *
 * An op is one touch of the working set (the fill pass is not counted):
 * metrics.touches_per_s counts the timed touches only.  The worker does
 * not unmap at the end: its address space is freed by the harness, as
 * at exit, after the quiescent audit has checked every anon's swap slot.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "host/clock.h"
#include "host/hook.h"
#include "host/machine.h"
#include "host/trap.h"
#include "integrity.h"
#include "runner.h"
#include "scenario.h"
#include "vm/uvm_mmap.h"

#define PRESSURE_BATCH		64	/* touches per trip to user mode */
#define PRESSURE_FILL_BATCH	256	/* fill/sweep pages per trip */
#define PRESSURE_HINT		((vaddr_t)0x10000000)
#define PRESSURE_LWP_MAX	(3ull << 30)	/* per LWP: user VA is 4 GiB */
#define PRESSURE_WS_MAX		(1ll << 40)

/* Help text. */
static const char pressure_help[] =
"  Sustained reclaim: each LWP fills its share of a working set larger\n"
"  than RAM (--ws; swap is attached and the pagedaemon started), then\n"
"  touches it in a seeded pattern; every touch checks the page's\n"
"  signature (it may have come back from swap) and writes a new\n"
"  generation.  A fault refused for want of swap kills that process and\n"
"  the run goes on.  An op is one timed touch (the fill is not timed).\n";

/* Options table. */
enum { PO_WS, PO_PATTERN, PO_WIRED };
static const char *const pressure_patterns[] = { "seq", "random", "hotcold",
    NULL };
#define PATTERN_SEQ	0
#define PATTERN_RANDOM	1
#define PATTERN_HOTCOLD	2
static const struct sopt pressure_opts[] = {
	/* (the default 0 stands for 2 x --ram; --ws 0 itself is refused) */
	[PO_WS] = { "ws", SOPT_SIZE, PAGE_SIZE, PRESSURE_WS_MAX, 0, NULL,
	    "SIZE",
	    "working set of all LWPs together: 256M, 1G", "2 x --ram", NULL },
	[PO_PATTERN] = { "pattern", SOPT_ENUM, 0, 2, PATTERN_RANDOM,
	    pressure_patterns, "seq|random|hotcold",
	    "access pattern (hotcold: 90% of touches on 10% of the pages)",
	    NULL, NULL },
	[PO_WIRED] = { "wired", SOPT_INT, 0, 4096, 8, NULL, "N",
	    "pages per LWP wired (mlock) next to the working set", NULL,
	    NULL },
};

/* Context: one per LWP. */
struct pressure_ctx {
	struct stress_worker	*pc_w;
	struct integ_ledger	pc_lg;		/* ws pages, then wired ones */
	int			pc_npages;	/* working-set pages */
	int			pc_nwired;
	int			pc_pattern;
	int			pc_hot;		/* hotcold: the hot pages */
	vaddr_t			pc_base;	/* 0: unmapped */
	vaddr_t			pc_wbase;
	volatile uint64_t	*pc_host;
	volatile uint64_t	*pc_whost;
	paddr_t			*pc_wpa;	/* wired pages' frames */
	int			pc_cursor;	/* seq: the page touched last */
	int			pc_next;	/* fill/sweep: the next page */
	int			pc_wnext;	/* the next wired page touched */
	bool			pc_failed;	/* pc_bad holds a mismatch */
	bool			pc_stop;	/* the run ended in user mode */
	struct integ_bad	pc_bad;
	uint64_t		pc_filled;	/* pages filled */
	uint64_t		pc_fill_ns;
	uint64_t		pc_wired_touches;
	uint64_t		pc_wired_checks;
	uint64_t		pc_swept;
};

/* local prototypes */
static uint64_t ws_bytes(const struct stress_config *cfg);
static int lwp_pages(const struct stress_config *cfg, int i);
static vaddr_t pg_va(const struct pressure_ctx *c, int i);
static volatile uint64_t *pg_host(const struct pressure_ctx *c, int i);
static bool pressure_touch_page(struct pressure_ctx *c, int i,
    const char *when);
static void pressure_fill(void *arg);
static void pressure_user(void *arg);
static void pressure_sweep(void *arg);
static bool pressure_user_call(struct pressure_ctx *c, void (*fn)(void *));
static bool pressure_setup(struct pressure_ctx *c);
static bool pressure_wired_check(struct pressure_ctx *c, int k);
static void pressure_worker(struct stress_worker *w);
static uint64_t pressure_pages_per_lwp(const struct stress_config *cfg);
static const char *pressure_check(const struct stress_config *cfg, char *buf,
    size_t len);
static int pressure_run(struct stress_run *r);

static uint64_t
ws_bytes(const struct stress_config *cfg)
{
	uint64_t ws = (uint64_t)cfg->sval[PO_WS];

	return ws != 0 ? ws : 2 * cfg->ram;
}

/* Working-set pages of LWP i: an even split, the first ones one more. */
static int
lwp_pages(const struct stress_config *cfg, int i)
{
	uint64_t n = ws_bytes(cfg) / PAGE_SIZE, lwps = (uint64_t)cfg->lwps;

	return (int)(n / lwps + ((uint64_t)i < n % lwps));
}

static vaddr_t
pg_va(const struct pressure_ctx *c, int i)
{
	return i < c->pc_npages ? c->pc_base + ptoa(i) :
	    c->pc_wbase + ptoa(i - c->pc_npages);
}

static volatile uint64_t *
pg_host(const struct pressure_ctx *c, int i)
{
	return i < c->pc_npages ?
	    c->pc_host + (size_t)i * (PAGE_SIZE / sizeof(uint64_t)) :
	    c->pc_whost + (size_t)(i - c->pc_npages) *
	    (PAGE_SIZE / sizeof(uint64_t));
}

/*
 * pressure_touch_page: check page i against the ledger and write its
 * next generation.  => user mode; false with pc_bad filled on a mismatch
 */
static bool
pressure_touch_page(struct pressure_ctx *c, int i, const char *when)
{
	struct stress_worker *w = c->pc_w;
	struct integ_ledger *lg = &c->pc_lg;
	volatile uint64_t *p = pg_host(c, i);
	vaddr_t va = pg_va(c, i);
	uint32_t gen = lg->il_pages[i].ip_gen;

	c->pc_bad.ib_page = i;
	c->pc_bad.ib_when = when;
	if (!integ_check(p, w->w_asid, va, gen, &c->pc_bad))
		return false;
	integ_write(p, w->w_asid, va, gen + 1);
	integ_wrote(lg, i, gen + 1, STRESS_LD(&w->w_ops));
	return true;
}

/* pressure_fill: a batch of the fill pass (zero check, gen 1). */
static void
pressure_fill(void *arg)
{
	struct pressure_ctx *c = arg;
	int n;

	for (n = 0; n < PRESSURE_FILL_BATCH &&
	    c->pc_next < c->pc_npages + c->pc_nwired; n++, c->pc_next++) {
		if (!pressure_touch_page(c, c->pc_next, "fill")) {
			c->pc_failed = true;
			return;
		}
		c->pc_filled++;
	}
}

/* pressure_user: a batch of timed touches, and one wired page. */
static void
pressure_user(void *arg)
{
	struct pressure_ctx *c = arg;
	struct stress_worker *w = c->pc_w;
	uint64_t npages = (uint64_t)c->pc_npages;
	int n, i;

	for (n = 0; n < PRESSURE_BATCH; n++) {
		if (!stress_continue(w)) {
			c->pc_stop = true;
			return;
		}
		switch (c->pc_pattern) {
		case PATTERN_SEQ:
			i = c->pc_cursor = (int)((c->pc_cursor + 1) % npages);
			break;
		case PATTERN_RANDOM:
			i = (int)host_rng_below(&w->w_rng, npages);
			break;
		default:	/* 90% of touches on 10% of the pages */
			if (host_rng_below(&w->w_rng, 10) < 9)
				i = (int)host_rng_below(&w->w_rng,
				    (uint64_t)c->pc_hot);
			else
				i = (int)host_rng_below(&w->w_rng, npages);
			break;
		}
		if (!pressure_touch_page(c, i, "touch")) {
			c->pc_failed = true;
			return;
		}
		stress_touched(w, (uint64_t)i);
		stress_op_done(w);
	}
	if (c->pc_nwired > 0) {
		i = c->pc_npages + c->pc_wnext;
		c->pc_wnext = (c->pc_wnext + 1) % c->pc_nwired;
		if (!pressure_touch_page(c, i, "wired touch")) {
			c->pc_failed = true;
			return;
		}
		c->pc_wired_touches++;
	}
}

/* pressure_sweep: a batch of the final check of every page. */
static void
pressure_sweep(void *arg)
{
	struct pressure_ctx *c = arg;
	struct integ_ledger *lg = &c->pc_lg;
	int n, i;

	for (n = 0; n < PRESSURE_FILL_BATCH &&
	    c->pc_next < c->pc_npages + c->pc_nwired; n++, c->pc_next++) {
		i = c->pc_next;
		c->pc_bad.ib_page = i;
		c->pc_bad.ib_when = "final sweep";
		if (!integ_check(pg_host(c, i), c->pc_w->w_asid, pg_va(c, i),
		    lg->il_pages[i].ip_gen, &c->pc_bad)) {
			c->pc_failed = true;
			return;
		}
		c->pc_swept++;
	}
}

/*
 * pressure_user_call: fn in user mode.  => false if the worker must stop
 * (a failure is recorded, or the process was killed: stress_killed)
 */
static bool
pressure_user_call(struct pressure_ctx *c, void (*fn)(void *))
{
	struct stress_worker *w = c->pc_w;
	struct host_user_fault uf;

	if (host_user_call(fn, c, &uf) != 0) {
		(void)stress_refused(w, &uf, &c->pc_lg);
		return false;
	}
	if (c->pc_failed) {
		integ_report(w, &c->pc_lg, &c->pc_bad);
		return false;
	}
	return true;
}

/*
 * pressure_wired_check: wired page k is still in the frame it was wired
 * in (it was never paged out).  => kernel mode
 */
static bool
pressure_wired_check(struct pressure_ctx *c, int k)
{
	struct stress_worker *w = c->pc_w;
	vaddr_t va = c->pc_wbase + ptoa(k);
	paddr_t pa;

	c->pc_wired_checks++;
	if (pmap_extract(w->w_pmap, va, &pa) && trunc_page(pa) == c->pc_wpa[k])
		return true;
	if (stress_killed(w))
		return false;	/* killed: leave */
	stress_fail(FK_INVARIANT, NULL, "asid %u va %#lx: wired page %d %s "
	    "(it was wired at pa %#llx): a wired page was paged out or moved",
	    w->w_asid, (unsigned long)va, k, pmap_extract(w->w_pmap, va, &pa) ?
	    "moved" : "is no longer mapped",
	    (unsigned long long)c->pc_wpa[k]);
	return false;
}

/* pressure_setup: map and wire.  => kernel mode */
static bool
pressure_setup(struct pressure_ctx *c)
{
	struct stress_worker *w = c->pc_w;
	vaddr_t va = PRESSURE_HINT;
	int error, i;

	if (integ_ledger_init(&c->pc_lg, w->w_asid, w->w_pmap,
	    c->pc_npages + c->pc_nwired) != 0 ||
	    (c->pc_nwired > 0 && (c->pc_wpa = calloc((size_t)c->pc_nwired,
	    sizeof(paddr_t))) == NULL)) {
		stress_fail(FK_VM, NULL, "asid %u: no memory for the ledger",
		    w->w_asid);
		return false;
	}
	error = uvm_mmap_anon(w->w_map, &va, ptoa(c->pc_npages), VM_PROT_READ |
	    VM_PROT_WRITE, UVM_MMAP_PRIVATE);
	if (error != 0) {
		stress_fail(FK_VM, NULL, "asid %u: uvm_mmap_anon of %d pages: "
		    "error %d (%s)", w->w_asid, c->pc_npages, error,
		    strerror(error));
		return false;
	}
	c->pc_base = va;
	c->pc_host = pmap_hostaddr(w->w_pmap, va);
	for (i = 0; i < c->pc_npages; i++)
		integ_set_va(&c->pc_lg, i, va + ptoa(i));
	if (c->pc_nwired == 0)
		return true;

	va = c->pc_base + ptoa(c->pc_npages);
	error = uvm_mmap_anon(w->w_map, &va, ptoa(c->pc_nwired), VM_PROT_READ |
	    VM_PROT_WRITE, UVM_MMAP_PRIVATE);
	if (error != 0) {
		stress_fail(FK_VM, NULL, "asid %u: uvm_mmap_anon of %d wired "
		    "pages: error %d (%s)", w->w_asid, c->pc_nwired, error,
		    strerror(error));
		return false;
	}
	c->pc_wbase = va;
	c->pc_whost = pmap_hostaddr(w->w_pmap, va);
	for (i = 0; i < c->pc_nwired; i++)
		integ_set_va(&c->pc_lg, c->pc_npages + i, va + ptoa(i));
	if ((error = uvm_mlock(w->w_map, va, ptoa(c->pc_nwired))) != 0) {
		/* out of memory or swap: as the fault would (wiring faults) */
		if (error == ENOMEM) {
			struct host_user_fault uf = { .uf_pmap = w->w_pmap,
			    .uf_va = va, .uf_addr = va,
			    .uf_access = VM_PROT_WRITE, .uf_error = ENOMEM };

			stress_oom_kill(w, &uf);
			return false;
		}
		stress_fail(FK_VM, NULL, "asid %u: uvm_mlock of %d pages at "
		    "%#lx: error %d (%s)", w->w_asid, c->pc_nwired,
		    (unsigned long)va, error, strerror(error));
		return false;
	}
	for (i = 0; i < c->pc_nwired; i++) {
		paddr_t pa;

		if (!pmap_extract(w->w_pmap, va + ptoa(i), &pa)) {
			stress_fail(FK_VM, NULL, "asid %u va %#lx: wired by "
			    "uvm_mlock but not mapped", w->w_asid,
			    (unsigned long)(va + ptoa(i)));
			return false;
		}
		c->pc_wpa[i] = trunc_page(pa);
	}
	return true;
}

/* The LWP worker. */
static void
pressure_worker(struct stress_worker *w)
{
	struct pressure_ctx *c = w->w_ctx;
	uint64_t t0;
	bool ok;
	int k = 0;

	c->pc_w = w;
	ok = pressure_setup(c);
	if (ok)
		w->w_ledger = &c->pc_lg;

	/* The fill pass, before the start barrier: not timed. */
	t0 = host_real_ns();
	for (c->pc_next = 0; ok && stress_running(w) &&
	    c->pc_next < c->pc_npages + c->pc_nwired;) {
		ok = pressure_user_call(c, pressure_fill);
		host_progress();
		lwp_userret();
	}
	c->pc_fill_ns = host_real_ns() - t0;
	c->pc_cursor = c->pc_npages - 1;
	if (stress_killed(w))
		return;
	if (!ok)
		stress_timed_end(w);

	stress_barrier(w);
	while (ok && stress_running(w)) {
		ok = pressure_user_call(c, pressure_user);
		if (ok && c->pc_nwired > 0) {
			ok = pressure_wired_check(c, k);
			k = (k + 1) % c->pc_nwired;
		}
		if (c->pc_stop)
			break;
		lwp_userret();
	}
	stress_timed_end(w);
	if (stress_killed(w))
		return;

	/* The final sweep (cut at the run's time), the wired frames. */
	for (c->pc_next = 0; ok && c->pc_next < c->pc_npages + c->pc_nwired &&
	    stress_checks_continue(w);) {
		ok = pressure_user_call(c, pressure_sweep);
		host_progress();
		lwp_userret();
	}
	if (stress_killed(w))
		return;
	for (k = 0; ok && k < c->pc_nwired; k++)
		ok = pressure_wired_check(c, k);
	/*
	 * No munmap: the address space goes as a process's does at exit,
	 * when the harness frees it, so that the quiescent audit before that
	 * sees the whole working set, much of it in swap.
	 */
}

static uint64_t
pressure_pages_per_lwp(const struct stress_config *cfg)
{
	return (uint64_t)lwp_pages(cfg, 0) + (uint64_t)cfg->sval[PO_WIRED];
}

static const char *
pressure_check(const struct stress_config *cfg, char *buf, size_t len)
{
	uint64_t ws = ws_bytes(cfg), per;

	if (ws / PAGE_SIZE < (uint64_t)cfg->lwps) {
		snprintf(buf, len, "--ws %llu bytes: fewer pages than the %d "
		    "LWPs (each needs one at least)", (unsigned long long)ws,
		    cfg->lwps);
		return buf;
	}
	per = ws / (uint64_t)cfg->lwps;
	if (per > PRESSURE_LWP_MAX) {
		snprintf(buf, len, "--ws %llu MiB over %d LWPs is %llu MiB "
		    "each, more than a process's %llu MiB of user space can map: "
		    "raise --lwps or lower --ws", (unsigned long long)(ws >> 20),
		    cfg->lwps, (unsigned long long)(per >> 20),
		    (unsigned long long)(PRESSURE_LWP_MAX >> 20));
		return buf;
	}
	return NULL;
}

/* The scenario entry. */
static int
pressure_run(struct stress_run *r)
{
	const struct stress_config *cfg = r->r_cfg;
	struct pressure_ctx *ctxs;
	uint64_t filled = 0, fill_ns = 0, wt = 0, wc = 0, swept = 0;
	int i, error;

	ctxs = calloc((size_t)cfg->lwps, sizeof(*ctxs));
	if (ctxs == NULL)
		return EXIT_NO_RESOURCE;
	for (i = 0; i < cfg->lwps; i++) {
		struct pressure_ctx *c = &ctxs[i];

		c->pc_npages = lwp_pages(cfg, i);
		c->pc_nwired = (int)cfg->sval[PO_WIRED];
		c->pc_pattern = (int)cfg->sval[PO_PATTERN];
		c->pc_hot = MAX(1, MIN(c->pc_npages, c->pc_npages / 10 + 1));
	}
	error = stress_run_workers(r, pressure_worker, ctxs, sizeof(*ctxs));
	for (i = 0; i < cfg->lwps; i++) {
		filled += ctxs[i].pc_filled;
		fill_ns = MAX(fill_ns, ctxs[i].pc_fill_ns);
		wt += ctxs[i].pc_wired_touches;
		wc += ctxs[i].pc_wired_checks;
		swept += ctxs[i].pc_swept;
	}
	stress_metric_u64(r, "ws_pages", ws_bytes(cfg) / PAGE_SIZE);
	stress_metric_str(r, "pattern", pressure_patterns[cfg->sval[PO_PATTERN]]);
	stress_metric_u64(r, "fill_pages", filled);
	stress_metric_double(r, "fill_s", (double)fill_ns / 1e9);
	stress_metric_double(r, "fill_pages_per_s", fill_ns != 0 ?
	    (double)filled / ((double)fill_ns / 1e9) : 0.0);
	stress_metric_u64(r, "wired_pages", (uint64_t)cfg->lwps *
	    (uint64_t)cfg->sval[PO_WIRED]);
	stress_metric_u64(r, "wired_touches", wt);
	stress_metric_u64(r, "wired_frame_checks", wc);
	stress_metric_u64(r, "final_sweep_pages", swept);
	/* the workers are joined: nobody reads the ledgers any more */
	for (i = 0; i < cfg->lwps; i++) {
		integ_ledger_fini(&ctxs[i].pc_lg);
		free(ctxs[i].pc_wpa);
	}
	free(ctxs);
	return error;
}

/* The descriptor. */
const struct scenario scenario_pressure = {
	.sc_name = "pressure",
	.sc_summary = "sustained reclaim: a working set beyond RAM, every "
	    "touch checked (swap, pagedaemon)",
	.sc_help = pressure_help,
	.sc_opts = pressure_opts,
	.sc_nopts = (int)nitems(pressure_opts),
	.sc_pages_per_lwp = pressure_pages_per_lwp,
	.sc_reclaim = true,
	.sc_check = pressure_check,
	.sc_skip = NULL,
	.sc_run = pressure_run,
};
