/*
 * stress/scenario_swapper.c: LWPs and processes swapped out and in.
 *
 * Many LWPs (256 by default, 4 to a process) spend most of their time
 * asleep for seeded times around the swapper's thresholds and now and then
 * wake for a burst of touches of their own private anonymous pages (each
 * read checked against the page's signature, half the touches writing a
 * new generation).  The working set is beyond RAM, so the pagedaemon runs
 * throughout and calls the swapper's swap-out (NetBSD's
 * uvm_swapout_threads: LWPs asleep for maxslp; FreeBSD's swapout_procs:
 * processes whose threads all sleep); the pagedaemon then pages the
 * unwired u-areas or kernel stacks out like any other kernel memory, and a
 * wakeup brings the LWP back through the swapper (uvm_scheduler, or
 * swapper/faultin), which reads them from swap.  Every time an LWP gets a
 * CPU its u-area or kernel-stack canary is checked (the host's run hook),
 * and after every sleep it checks its own pages.
 *
 * LWP 0 is the inspector (with --inspect, the default): as ptrace or
 * /proc would, it picks another LWP, holds it in memory (uvm_lwp_hold;
 * FreeBSD: PHOLD, whose faultin races the swapper's), sleeps up to a
 * quarter of a simulated second (its "reading"), checks that it is still in memory and its canary intact,
 * and lets it go.
 *
 * Sleeps are msleeps on one channel under one lock, with the run's end
 * flag checked under that lock: when the run stops (time, signal,
 * failure) the harness calls sw_end, which sets the flag and wakes the
 * channel, so a run's end never waits out a long sleep.
 *
 * An op is a page touch, a sleep, or an inspection.
 */
#include <stdlib.h>
#include <string.h>

#include "host/clock.h"
#include "host/hook.h"
#include "host/machine.h"
#include "host/sleepq.h"
#include "host/trap.h"
#include "integrity.h"
#include "runner.h"
#include "scenario.h"
#include "vm/kern_proc.h"
#include "vm/uvm_glue.h"
#include "vm/uvm_mmap.h"

#define SW_BATCH	32	/* touches a trip to user mode */
#define SW_HINT		((vaddr_t)0x10000000)
#define PAGE_WORDS	(PAGE_SIZE / sizeof(uint64_t))

/* Help text. */
static const char swapper_help[] =
"  Many LWPs (256, 4 to a process) sleep for seeded times around the\n"
"  swapper's thresholds and wake for bursts of touches of their own pages\n"
"  (every read checked); the working set (256 x 48 pages) is beyond RAM\n"
"  (32M by default here).  The swapper (--swapper, the glue's by default)\n"
"  swaps sleepers out and brings them back when woken; each LWP's u-area\n"
"  or kernel-stack canary is checked whenever it gets a CPU and its pages\n"
"  after every sleep.  LWP 0 holds other LWPs in memory and checks them\n"
"  (uvm_lwp_hold / PHOLD), racing the swapper.  Runs at --time-scale 10\n"
"  by default.  An op is a touch, a sleep or an inspection.\n";

/* Options table. */
enum { SW_PAGES, SW_BUSY, SW_BURST, SW_SLEEP, SW_LONG, SW_INSPECT };
static const struct sopt swapper_opts[] = {
	[SW_PAGES] = { "pages", SOPT_INT, 1, 1 << 20, 48, NULL, "N",
	    "private pages per LWP", NULL, NULL },
	[SW_BUSY] = { "busy-pct", SOPT_INT, 0, 100, 10, NULL, "PCT",
	    "share of an LWP's turns that are bursts of touches rather than "
	    "sleeps", NULL, NULL },
	[SW_BURST] = { "burst", SOPT_INT, 1, 1 << 20, 64, NULL, "N",
	    "touches in a burst (also after each sleep)", NULL, NULL },
	[SW_SLEEP] = { "sleep-max", SOPT_INT, 1, 10000, 0, NULL, "S",
	    "longest sleep, simulated seconds (sleeps are seeded in 0..S)",
	    "twice the swap-out threshold (--maxslp, or "
	    "--swap-idle-threshold2)", NULL },
	[SW_LONG] = { "long-pct", SOPT_INT, 0, 100, 20, NULL, "PCT",
	    "share of sleeps that are long (up to 4 x --sleep-max): out of "
	    "memory long enough for the pagedaemon to page the u-area or "
	    "kernel stack out", NULL, NULL },
	[SW_INSPECT] = { "inspect", SOPT_INT, 0, 100000, 250, NULL, "MS",
	    "LWP 0 holds and checks another LWP every MS simulated "
	    "milliseconds (0: never)", NULL, NULL },
};

/* Shared by every LWP of the run. */
struct sw_shared {
	kmutex_t		ss_lock;
	int			ss_chan;	/* the sleep channel */
	bool			ss_ending;	/* [ss_lock] the run ended */
	int			ss_sleep_ticks;	/* [I] longest sleep */
	struct stress_run	*ss_run;	/* [I] */
};

/* Context: one per LWP. */
struct sw_ctx {
	struct stress_worker	*sc_w;
	struct sw_shared	*sc_sh;
	struct integ_ledger	sc_lg;
	int			sc_npages;
	int			sc_busy;	/* percent */
	int			sc_burst;
	int			sc_long;	/* percent */
	bool			sc_inspector;
	int			sc_inspect_ticks; /* between inspections */
	vaddr_t			sc_base;
	volatile uint64_t	*sc_host;
	int			sc_left;	/* touches left in this burst */
	bool			sc_failed;
	bool			sc_stop;
	struct integ_bad	sc_bad;
	uint64_t		sc_sleeps;
	uint64_t		sc_slept_ticks;
	uint64_t		sc_bursts;
	uint64_t		sc_reads;
	uint64_t		sc_writes;
	uint64_t		sc_inspections;
	uint64_t		sc_inspected_out; /* were out when held */
};

/* local prototypes */
static bool sw_touch_one(struct sw_ctx *c);
static void sw_user(void *arg);
static void sw_sweep(void *arg);
static bool sw_user_call(struct sw_ctx *c, void (*fn)(void *));
static bool sw_burst(struct sw_ctx *c, int n);
static void sw_sleep(struct sw_ctx *c);
static uint64_t sw_nap(struct sw_shared *sh, int ticks, const char *wmesg);
static void sw_end(struct stress_run *r);
static struct lwp *sw_pick(struct sw_ctx *c, int *ip);
static bool sw_inspect(struct sw_ctx *c);
static void swapper_worker(struct stress_worker *w);
static uint64_t swapper_pages_per_lwp(const struct stress_config *cfg);
static int swapper_run(struct stress_run *r);

/* sw_touch_one: one touch of a random own page.  => user mode */
static bool
sw_touch_one(struct sw_ctx *c)
{
	struct stress_worker *w = c->sc_w;
	struct integ_ledger *lg = &c->sc_lg;
	volatile uint64_t *p;
	uint32_t gen;
	vaddr_t va;
	int i;

	i = (int)host_rng_below(&w->w_rng, (uint64_t)c->sc_npages);
	p = c->sc_host + (size_t)i * PAGE_WORDS;
	va = c->sc_base + ptoa(i);
	gen = lg->il_pages[i].ip_gen;
	c->sc_bad.ib_page = i;
	c->sc_bad.ib_when = "read";
	c->sc_reads++;
	if (!integ_check(p, w->w_asid, va, gen, &c->sc_bad))
		return false;
	stress_touched(w, (uint64_t)i << 1 | 1);
	if (host_rng_below(&w->w_rng, 2) == 0)
		return true;
	c->sc_writes++;
	integ_write(p, w->w_asid, va, gen + 1);
	c->sc_bad.ib_when = "read-back";
	if (!integ_check(p, w->w_asid, va, gen + 1, &c->sc_bad))
		return false;
	integ_wrote(lg, i, gen + 1, STRESS_LD(&w->w_ops));
	return true;
}

/* sw_user: up to SW_BATCH touches of the burst.  => user mode */
static void
sw_user(void *arg)
{
	struct sw_ctx *c = arg;
	int n;

	for (n = 0; n < SW_BATCH && c->sc_left > 0; n++, c->sc_left--) {
		if (!stress_continue(c->sc_w)) {
			c->sc_stop = true;
			return;
		}
		if (!sw_touch_one(c)) {
			c->sc_failed = true;
			return;
		}
		stress_op_done(c->sc_w);
	}
}

/* sw_sweep: the final check of every page.  => user mode */
static void
sw_sweep(void *arg)
{
	struct sw_ctx *c = arg;
	int i;

	for (i = 0; i < c->sc_npages; i++) {
		if ((i & 63) == 0)
			host_progress();
		if (!stress_checks_continue(c->sc_w))
			return;
		c->sc_bad.ib_page = i;
		c->sc_bad.ib_when = "sweep";
		if (!integ_check(c->sc_host + (size_t)i * PAGE_WORDS,
		    c->sc_w->w_asid, c->sc_base + ptoa(i),
		    c->sc_lg.il_pages[i].ip_gen, &c->sc_bad)) {
			c->sc_failed = true;
			return;
		}
	}
}

/* Run fn in user mode; false if the worker must stop (see touch's). */
static bool
sw_user_call(struct sw_ctx *c, void (*fn)(void *))
{
	struct stress_worker *w = c->sc_w;
	struct host_user_fault uf;

	if (host_user_call(fn, c, &uf) != 0) {
		(void)stress_refused(w, &uf, &c->sc_lg);
		c->sc_failed = false;
		return false;
	}
	if (c->sc_failed) {
		integ_report(w, &c->sc_lg, &c->sc_bad);
		return false;
	}
	return true;
}

/* sw_burst: n touches, in trips of SW_BATCH.  => kernel mode */
static bool
sw_burst(struct sw_ctx *c, int n)
{
	uint64_t reads = c->sc_reads;
	bool ok = true;

	c->sc_left = n;
	while (ok && c->sc_left > 0 && !c->sc_stop) {
		ok = sw_user_call(c, sw_user);
		lwp_userret();
	}
	if (c->sc_reads != reads)
		c->sc_bursts++;		/* (one that touched something) */
	return ok;
}

/*
 * sw_nap: sleep ticks ticks on the run's channel, unless the run is
 * ending (sw_end wakes the channel).  => the ticks it slept
 */
static uint64_t
sw_nap(struct sw_shared *sh, int ticks, const char *wmesg)
{
	uint64_t t0 = getticks();

	mutex_enter(&sh->ss_lock);
	if (!sh->ss_ending)
		(void)msleep(&sh->ss_chan, &sh->ss_lock, 0, wmesg, ticks);
	mutex_exit(&sh->ss_lock);
	return getticks() - t0;
}

/*
 * sw_sleep: a seeded sleep of 0..ss_sleep_ticks ticks (an op), unless the
 * run is ending.  Asleep, the LWP is the swapper's to take out.
 */
static void
sw_sleep(struct sw_ctx *c)
{
	struct sw_shared *sh = c->sc_sh;
	struct host_rng *rng = &c->sc_w->w_rng;
	int max = sh->ss_sleep_ticks, ticks;

	if ((int)host_rng_below(rng, 100) < c->sc_long)
		max *= 4;
	ticks = 1 + (int)host_rng_below(rng, (uint64_t)max);

	if (!stress_continue(c->sc_w)) {
		c->sc_stop = true;
		return;
	}
	c->sc_slept_ticks += sw_nap(sh, ticks, "swslp");
	c->sc_sleeps++;
	stress_op_done(c->sc_w);
}

/*
 * sw_end: the run stopped (the harness's r_on_stop): wake every sleeper,
 * let none sleep again.  => the harness's thread
 */
static void
sw_end(struct stress_run *r)
{
	struct sw_shared *sh = r->r_on_stop_arg;

	/* the wave of wakeups that ends the run is no swap-in to time */
	lwp_swapin_latency_stop();
	mutex_enter(&sh->ss_lock);
	sh->ss_ending = true;
	mutex_exit(&sh->ss_lock);
	wakeup(&sh->ss_chan);
}

/*
 * sw_inspect: hold another LWP in memory, check it, let it go: what ptrace
 * or /proc do before reading an LWP's kernel state.  => kernel mode
 */
static bool
sw_inspect(struct sw_ctx *c)
{
	struct stress_worker *w = c->sc_w;
	struct lwp *l;
	bool out;
	int i = 0;

	if (!stress_continue(w))
		return false;
	if ((l = sw_pick(c, &i)) == NULL) {
		stress_op_done(w);
		return true;
	}
	if ((out = !kern_lwp_inmem(l)))
		c->sc_inspected_out++;
	kern_lwp_hold(l);
	/*
	 * Reading its state takes a while (a seeded 1..hz/4 ticks): the
	 * swapper must keep off it meanwhile.
	 */
	(void)sw_nap(c->sc_sh, 1 + (int)host_rng_below(&w->w_rng,
	    (uint64_t)MAX(1, hz / 4)), "swhold");
	if (!kern_lwp_inmem(l)) {
		kern_lwp_rele(l);
		stress_fail(FK_VM, NULL, "LWP %d.%d (worker %d) is out of memory "
		    "while held (%s)", l->l_proc->p_pid, l->l_lid, i,
		    kern_swapper_name(kern_swapper()));
		return false;
	}
	kern_lwp_check(l);		/* its canary: panics if bad */
	kern_lwp_rele(l);
	c->sc_inspections++;
	stress_op_done(w);
	return true;
}

/*
 * sw_pick: the LWP to inspect, among up to 16 from a seeded start: the
 * first one woken out of memory (the swapper is bringing it in: ps
 * reading it races that swap-in), else the first one out of memory,
 * else the one at the start; NULL if none is left.  *ip: its worker.
 */
static struct lwp *
sw_pick(struct sw_ctx *c, int *ip)
{
	struct stress_worker *w = c->sc_w;
	struct stress_run *r = w->w_run;
	struct stress_worker *t;
	struct lwp *l, *first = NULL, *out = NULL;
	int k, i, n = r->r_nworkers - 1, iout = 0;

	i = 1 + (int)host_rng_below(&w->w_rng, (uint64_t)n);
	for (k = 0; k < MIN(n, 16); k++, i = i % n + 1) {
		t = &r->r_workers[i];
		l = __atomic_load_n(&t->w_lwp, __ATOMIC_ACQUIRE);
		if (l == NULL || __atomic_load_n(&t->w_done, __ATOMIC_ACQUIRE))
			continue;
		if (kern_lwp_swapin_wanted(l)) {
			*ip = i;
			return l;
		}
		if (out == NULL && !kern_lwp_inmem(l)) {
			out = l;
			iout = i;
		}
		if (first == NULL) {
			first = l;
			*ip = i;
		}
	}
	if (out != NULL) {
		*ip = iout;
		return out;
	}
	return first;
}

/* The LWP worker. */
static void
swapper_worker(struct stress_worker *w)
{
	struct sw_ctx *c = w->w_ctx;
	struct sw_shared *sh = c->sc_sh;
	bool ok = true;
	int error;

	c->sc_w = w;
	c->sc_inspector = c->sc_inspector && w->w_index == 0 &&
	    w->w_run->r_nworkers > 1;
	if (integ_ledger_init(&c->sc_lg, w->w_asid, w->w_pmap,
	    c->sc_npages) != 0) {
		stress_fail(FK_VM, NULL, "asid %u: no memory for the ledger",
		    w->w_asid);
		return;
	}
	c->sc_base = SW_HINT;
	error = uvm_mmap_anon(w->w_map, &c->sc_base, ptoa(c->sc_npages),
	    VM_PROT_READ | VM_PROT_WRITE, UVM_MMAP_PRIVATE);
	if (error != 0) {
		stress_fail(FK_VM, NULL, "asid %u: uvm_mmap_anon of %d pages: "
		    "error %d (%s)", w->w_asid, c->sc_npages, error,
		    strerror(error));
		ok = false;
		c->sc_base = 0;
		stress_timed_end(w);
	} else {
		int i;

		c->sc_host = pmap_hostaddr(w->w_pmap, c->sc_base);
		for (i = 0; i < c->sc_npages; i++)
			integ_set_va(&c->sc_lg, i, c->sc_base + ptoa(i));
		w->w_ledger = &c->sc_lg;
	}

	stress_barrier(w);
	while (ok && stress_running(w) && !c->sc_stop) {
		if (c->sc_inspector) {
			ok = sw_inspect(c);
			if (ok)
				(void)sw_nap(sh, c->sc_inspect_ticks, "swinsp");
			continue;
		}
		if ((int)host_rng_below(&w->w_rng, 100) < c->sc_busy) {
			ok = sw_burst(c, c->sc_burst);
			continue;
		}
		sw_sleep(c);
		/* back (perhaps swapped in): check own pages */
		if (!c->sc_stop)
			ok = sw_burst(c, MIN(c->sc_burst, c->sc_npages));
	}

	stress_timed_end(w);
	if (stress_killed(w) || c->sc_base == 0)
		return;
	if (ok)
		(void)sw_user_call(c, sw_sweep);
	if (stress_killed(w))
		return;
	w->w_ledger = NULL;
	if ((error = uvm_munmap(w->w_map, c->sc_base,
	    ptoa(c->sc_npages))) != 0)
		stress_fail(FK_VM, NULL, "asid %u: uvm_munmap: error %d",
		    w->w_asid, error);
}

static uint64_t
swapper_pages_per_lwp(const struct stress_config *cfg)
{
	return (uint64_t)cfg->sval[SW_PAGES];
}

/* The scenario entry. */
static int
swapper_run(struct stress_run *r)
{
	const struct stress_config *cfg = r->r_cfg;
	struct sw_shared sh;
	struct sw_ctx *ctxs;
	uint64_t sleeps = 0, bursts = 0, reads = 0, writes = 0, insp = 0;
	uint64_t insp_out = 0, slept = 0;
	int i, error, smax;

	memset(&sh, 0, sizeof(sh));
	mutex_init(&sh.ss_lock, MUTEX_DEFAULT, IPL_NONE);
	sh.ss_run = r;
	/*
	 * Around the threshold that swaps sleepers out: NetBSD's maxslp,
	 * FreeBSD's threshold2 (a process goes when all its threads have
	 * slept threshold1; a longer sleep makes that common)
	 */
	smax = cfg->sset[SW_SLEEP] ? (int)cfg->sval[SW_SLEEP] :
	    2 * (cfg->swapper == KERN_SWAPPER_FREEBSD ? cfg->idle_t2 :
	    cfg->maxslp);
	sh.ss_sleep_ticks = smax * hz;
	ctxs = calloc((size_t)cfg->lwps, sizeof(*ctxs));
	if (ctxs == NULL)
		return EXIT_NO_RESOURCE;
	for (i = 0; i < cfg->lwps; i++) {
		ctxs[i].sc_sh = &sh;
		ctxs[i].sc_npages = (int)cfg->sval[SW_PAGES];
		ctxs[i].sc_busy = (int)cfg->sval[SW_BUSY];
		ctxs[i].sc_burst = (int)cfg->sval[SW_BURST];
		ctxs[i].sc_long = (int)cfg->sval[SW_LONG];
		ctxs[i].sc_inspector = cfg->sval[SW_INSPECT] != 0;
		ctxs[i].sc_inspect_ticks = MAX(1, (int)(cfg->sval[SW_INSPECT] *
		    hz / 1000));
	}
	r->r_on_stop = sw_end;
	r->r_on_stop_arg = &sh;
	error = stress_run_workers(r, swapper_worker, ctxs, sizeof(*ctxs));
	for (i = 0; i < cfg->lwps; i++) {
		sleeps += ctxs[i].sc_sleeps;
		slept += ctxs[i].sc_slept_ticks;
		bursts += ctxs[i].sc_bursts;
		reads += ctxs[i].sc_reads;
		writes += ctxs[i].sc_writes;
		insp += ctxs[i].sc_inspections;
		insp_out += ctxs[i].sc_inspected_out;
	}
	stress_metric_u64(r, "sleeps", sleeps);
	stress_metric_double(r, "mean_slept_s", sleeps == 0 ? 0.0 :
	    (double)slept / (double)sleeps / (double)hz);
	stress_metric_u64(r, "bursts", bursts);
	stress_metric_u64(r, "page_reads_checked", reads);
	stress_metric_u64(r, "page_writes", writes);
	stress_metric_u64(r, "inspections", insp);
	stress_metric_u64(r, "inspections_of_lwps_out", insp_out);
	for (i = 0; i < cfg->lwps; i++)
		integ_ledger_fini(&ctxs[i].sc_lg);
	free(ctxs);
	mutex_destroy(&sh.ss_lock);
	return error;
}

/* The descriptor. */
const struct scenario scenario_swapper = {
	.sc_name = "swapper",
	.sc_summary = "LWPs asleep and busy by turns, swapped out and in by "
	    "the swapper; u-area/kstack canaries and pages checked",
	.sc_help = swapper_help,
	.sc_opts = swapper_opts,
	.sc_nopts = (int)nitems(swapper_opts),
	.sc_pages_per_lwp = swapper_pages_per_lwp,
	.sc_reclaim = true,
	.sc_lwps = 256,
	.sc_threads = 4,
	.sc_timescale = 10,
	.sc_ram = 32ull << 20,
	.sc_check = NULL,
	.sc_skip = NULL,
	.sc_run = swapper_run,
};
