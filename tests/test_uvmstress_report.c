/*
 * tests/test_uvmstress_report.c: the report's arithmetic and naming
 * (stress/report.c, stress/timing.c).
 *
 * End to end (tests/stresstest.h's run(): the uvmstress binary next to
 * the unit binary, short runs, the JSON on stdout and the text report on
 * stderr):
 *  - where the time goes: the states partition each timed thread's time,
 *    so per role (workers, pagedaemon, aiodoned) and in all the states
 *    add up to at most threads x window (plus rounding), and the text's
 *    top-level shares add up to 100% (plus each one's rounding); run on
 *    one CPU with several LWPs under pressure with swap, where LWPs wait
 *    for locks and CPUs inside faults;
 *  - the vmstat counters at the end of the timed phase beside those
 *    after the workers ended: touch unmaps its regions in its teardown, so
 *    pages are active and anonymous in the one and not the other;
 *  - the swap line names pgswapout for what it counts, beside the pages
 *    the disk wrote.
 *
 * And timing.c by itself: a scheduler hook fed a made-up event sequence
 * on this (registered) thread, with the real clock.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "host/buf.h"
#include "host/clock.h"
#include "host/hook.h"
#include "host/thread.h"
#include "stress/timing.h"
#include "stresstest.h"
#include "vm/uvm.h"

TestSuite(uvmstress_report, .timeout = 120);

#define EPS		1e-6	/* JSON doubles are printed to 6 digits */
#define MS		1000000ull

static const char *const roles[] = { "workers", "pagedaemon", "aiodoned" };

/* local prototypes */
static double num(const char *json, const char *path);
static void check_partition(const char *json, const char *err);
static double text_share(const char *line, const char *label);
static void ev(enum hook_ev e, const void *obj);
static uint64_t state_ns(const struct timing_snap *a,
    const struct timing_snap *b, int s);

static double
num(const char *json, const char *path)
{
	double v = 0;

	cr_assert(json_num(json, path, &v), "no %s in the JSON", path);
	return v;
}

/* A "label N%" share in a line of the text report. */
static double
text_share(const char *line, const char *label)
{
	const char *p = strstr(line, label);

	cr_assert_not_null(p, "no '%s' in:\n%s", label, line);
	return strtod(p + strlen(label), NULL);
}

/* The checks of where the time goes, on one run's JSON and stderr. */
static void
check_partition(const char *json, const char *err)
{
	static const char *const states[] = {
		"run_s", "preempted_s", "sleep_s", "lock_wait_s",
		"fault_cpu_s", "fault_swapin_read_s", "fault_memory_wait_s",
		"fault_page_wait_s", "fault_sleep_s", "fault_lock_wait_s",
		"fault_preempted_s",
	};
	static const char *const top[] = {
		"fault_s", "preempted_s", "user_s", "outside_sleep_s",
		"outside_lock_wait_s", "not_running_s",
	};
	static const char *const infault[] = {
		"fault_swapin_read_s", "fault_sleep_s", "fault_memory_wait_s",
		"fault_page_wait_s", "fault_lock_wait_s", "fault_preempted_s",
		"fault_cpu_s",
	};
	char path[128];
	const char *line;
	double sum, total, v, lwp_s, pct;
	size_t i, k;

	for (i = 0; i < sizeof(roles) / sizeof(roles[0]); i++) {
		snprintf(path, sizeof(path),
		    "metrics.time_breakdown.partition.%s.total_s", roles[i]);
		total = num(json, path);
		for (k = 0, sum = 0; k < sizeof(states) / sizeof(states[0]);
		    k++) {
			snprintf(path, sizeof(path),
			    "metrics.time_breakdown.partition.%s.%s", roles[i],
			    states[k]);
			v = num(json, path);
			cr_assert_geq(v, 0.0, "%s = %f", path, v);
			sum += v;
		}
		cr_assert_leq(sum, total * (1 + EPS) + 20 * EPS,
		    "%s: the states add up to %f s of %f s (%.2f%%)", roles[i],
		    sum, total, total > 0 ? 100 * sum / total : 0.0);
		snprintf(path, sizeof(path),
		    "metrics.time_breakdown.partition.%s.accounted_share",
		    roles[i]);
		cr_assert_leq(num(json, path), 1.0 + EPS, "%s = %f", path,
		    num(json, path));
	}
	cr_assert_leq(num(json, "metrics.time_breakdown.partition.all."
	    "accounted_share"), 1.0 + EPS);
	cr_assert_gt(num(json, "metrics.time_breakdown.partition.all."
	    "total_s"), 0.0);

	/* the workers' top-level split, in the old keys, adds up too */
	lwp_s = num(json, "metrics.time_breakdown.lwp_s");
	cr_assert_gt(lwp_s, 0.0);
	for (k = 0, sum = 0; k < sizeof(top) / sizeof(top[0]); k++) {
		snprintf(path, sizeof(path), "metrics.time_breakdown.%s",
		    top[k]);
		sum += num(json, path);
	}
	cr_assert_leq(sum, lwp_s * (1 + EPS) + 10 * EPS, "the workers' time "
	    "adds up to %f s of %f s (%.2f%%)", sum, lwp_s, 100 * sum / lwp_s);
	cr_assert_geq(sum, lwp_s * (1 - EPS) - 10 * EPS, "%f s of %f s", sum,
	    lwp_s);
	for (k = 0, sum = 0; k < sizeof(infault) / sizeof(infault[0]); k++) {
		snprintf(path, sizeof(path), "metrics.time_breakdown.%s",
		    infault[k]);
		sum += num(json, path);
	}
	cr_assert_leq(fabs(sum - num(json, "metrics.time_breakdown.fault_s")),
	    10 * EPS, "the fault states add up to %f s, fault_s %f s", sum,
	    num(json, "metrics.time_breakdown.fault_s"));

	/* the text: the top-level shares add up to 100% (each rounded) */
	line = strstr(err, "where the time goes (");
	cr_assert_not_null(line, "no 'where the time goes' in:\n%s", err);
	cr_assert_not_null(strstr(line, "adding up to 100%"));
	pct = text_share(line, "): faults ") + text_share(line,
	    "), preempted ") + text_share(line, "user and system calls ") +
	    text_share(line, "asleep ") +
	    text_share(strstr(line, "asleep "), "%, locks ") +
	    text_share(line, "not running ");
	cr_assert_leq(pct, 100.0 + 6 * 0.5, "the shares add up to %.0f%%:\n%s",
	    pct, line);
	cr_assert_geq(pct, 100.0 - 6 * 0.5, "%.0f%%", pct);
}

Test(uvmstress_report, time_partition_pressure_one_cpu)
{
	struct result r;
	int i;

	/* twice: waits inside faults come and go with the host's timing */
	for (i = 0; i < 2; i++) {
		RUN(&r, "--scenario", "pressure", "--ram", "16M", "--ws", "40M",
		    "--swap", "128M", "--lwps", "4", "--ncpu", "1", "-t", "2",
		    "--json", "-");
		cr_assert_eq(r.status, 0, "exit %d; stderr:\n%s", r.status,
		    r.err);
		cr_assert(json_valid(r.out), "not valid JSON:\n%s", r.out);
		cr_assert_eq(num(r.out, "metrics.time_breakdown.partition."
		    "workers.threads"), 4);
		cr_assert_eq(num(r.out, "metrics.time_breakdown.partition."
		    "pagedaemon.threads"), 1);
		/* the LWPs waited in faults and for the one CPU */
		cr_assert_gt(num(r.out, "metrics.time_breakdown.fault_s"), 0.0);
		cr_assert_gt(num(r.out, "metrics.time_breakdown.preempted_s") +
		    num(r.out, "metrics.time_breakdown.fault_preempted_s"),
		    0.0);
		check_partition(r.out, r.err);
		result_free(&r);
	}
}

Test(uvmstress_report, time_partition_lwps_two)
{
	struct result r;

	RUN(&r, "--scenario", "pressure", "--ram", "16M", "--ws", "40M",
	    "--swap", "128M", "--lwps", "2", "-t", "2", "--json", "-");
	cr_assert_eq(r.status, 0, "exit %d; stderr:\n%s", r.status, r.err);
	check_partition(r.out, r.err);
	result_free(&r);
}

Test(uvmstress_report, vmstat_at_the_end_of_the_timed_phase)
{
	static const char *const keys[] = { "active", "anonpages" };
	char want[128];
	struct result r;
	size_t i;
	double v;

	RUN(&r, "--scenario", "touch", "-t", "1", "--ram", "16M", "--pages", "256", "--lwps", "2",
	    "--ncpu", "1", "--json", "-");
	cr_assert_eq(r.status, 0, "exit %d; stderr:\n%s", r.status, r.err);
	cr_assert(json_valid(r.out), "not valid JSON:\n%s", r.out);
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		char path[64];

		/* touch's regions are mapped at the end of the timed phase */
		snprintf(path, sizeof(path), "uvmexp_timed.%s", keys[i]);
		cr_assert_gt(num(r.out, path), 0.0, "%s is 0", path);
		/* and unmapped in its teardown */
		snprintf(path, sizeof(path), "uvmexp.%s", keys[i]);
		cr_assert_eq(num(r.out, path), 0.0, "%s is not 0", path);
	}
	/* the same counters in both */
	cr_assert(json_num(r.out, "uvmexp_timed.npages", &v) &&
	    v == num(r.out, "uvmexp.npages"));
	cr_assert(num(r.out, "uvmexp_timed.faults") <=
	    num(r.out, "uvmexp.faults"));
	/* the text: one block, two labelled columns */
	cr_assert_not_null(strstr(r.err, "vmstat: \"timed\" at the end of the "
	    "timed phase, \"end\" after the workers ended"), "stderr:\n%s",
	    r.err);
	snprintf(want, sizeof(want), "%12.0f %12d %-18s ",
	    num(r.out, "uvmexp_timed.active"), 0, "active");
	cr_assert_not_null(strstr(r.err, want), "no '%s' in:\n%s", want, r.err);
	result_free(&r);
}

Test(uvmstress_report, pages_out_named_for_what_they_count)
{
	char want[160];
	struct result r;
	const char *swap;

	RUN(&r, "--scenario", "pressure", "--ram", "16M", "--ws", "40M",
	    "--swap", "128M", "--lwps", "2", "-t", "3", "--json", "-");
	cr_assert_eq(r.status, 0, "exit %d; stderr:\n%s", r.status, r.err);
	swap = strstr(r.err, "\nswap: ");
	cr_assert_not_null(swap, "no swap line in:\n%s", r.err);
	cr_assert_gt(num(r.out, "uvmexp.pgswapout"), 0.0);
	snprintf(want, sizeof(want), "%.0f pages taken for pageout "
	    "(pgswapout), %.0f pages swapped in (pgswapin)",
	    num(r.out, "uvmexp.pgswapout"), num(r.out, "uvmexp.pgswapin"));
	cr_assert_not_null(strstr(swap, want), "no '%s' in:\n%s", want, swap);
	snprintf(want, sizeof(want), "writes (%.0f pages written)",
	    num(r.out, "swap.disk.pages_written"));
	cr_assert_not_null(strstr(swap, want), "no '%s' in:\n%s", want, swap);
	/* "pages out" no longer stands for either */
	cr_assert_null(strstr(r.err, "pages out"), "stderr:\n%s", r.err);
	cr_assert_not_null(strstr(r.err, "pages written); pagedaemon busy"),
	    "stderr:\n%s", r.err);
	result_free(&r);
}

/*
 * timing.c alone: the hook fed events on this thread.  The lock wait
 * that an uncontended lwp_lock (taken on the way off the CPU) used to end
 * early must stay a lock wait, not become preemption; a preemption in a
 * trap is in the trap only; the states add up to the time between the
 * snapshots.
 */
static void
ev(enum hook_ev e, const void *obj)
{
	host_hook(e, obj, 0, __FILE__, __LINE__);
}

static uint64_t
state_ns(const struct timing_snap *a, const struct timing_snap *b, int s)
{
	return b->ts_state_ns[TR_WORKER][s] - a->ts_state_ns[TR_WORKER][s];
}

Test(uvmstress_report, timing_states_partition_a_worker)
{
	static int pm, ci, biolock, lwplock;
	struct timing_snap a, b;
	struct buf bp;
	uint64_t sum;
	int s;

	host_thread_self();
	host_clock_init(100, 1);
	timing_start();
	timing_worker_begin();
	timing_snapshot(&a);
	cr_assert_eq(a.ts_threads[TR_WORKER], 1);

	ev(HE_TRAP_ENTER, &pm);
	/* a contended lock in a fault: blocks off the CPU */
	ev(HE_LOCK_WAIT, &biolock);
	ev(HE_LOCK, &lwplock);		/* lwp_block's lwp_lock */
	ev(HE_UNLOCK, &lwplock);
	ev(HE_CPU_RELEASE, &ci);
	usleep(20000);
	ev(HE_CPU_ACQUIRE, &ci);
	ev(HE_LOCK, &biolock);
	/* preempted in the fault */
	ev(HE_CPU_RELEASE, &ci);
	usleep(10000);
	ev(HE_CPU_ACQUIRE, &ci);
	/* a polled read */
	memset(&bp, 0, sizeof(bp));
	bp.b_flags = B_READ;
	ev(HE_DISK_SUBMIT, &bp);
	usleep(5000);
	ev(HE_DISK_DONE, &bp);
	/* a sleep for free memory, its interlock taken back contended */
	ev(HE_SLEEP, &uvmexp.free);
	ev(HE_CPU_RELEASE, &ci);
	usleep(5000);
	ev(HE_CPU_ACQUIRE, &ci);
	ev(HE_LOCK_WAIT, &biolock);
	ev(HE_LOCK, &lwplock);
	usleep(5000);
	ev(HE_LOCK, &biolock);
	ev(HE_SLEEP_DONE, &uvmexp.free);
	ev(HE_TRAP_EXIT, &pm);
	/* preempted outside the trap */
	ev(HE_CPU_RELEASE, &ci);
	usleep(10000);
	ev(HE_CPU_ACQUIRE, &ci);
	timing_snapshot(&b);

	cr_assert_eq(b.ts_traps - a.ts_traps, 1);
	cr_assert_eq(b.ts_locks - a.ts_locks, 2, "lwp_lock is no wait: %llu",
	    (unsigned long long)(b.ts_locks - a.ts_locks));
	cr_assert_eq(b.ts_wlocks - a.ts_wlocks, 1, "the relock in a sleep "
	    "is the sleep's");
	cr_assert_eq(b.ts_memwaits - a.ts_memwaits, 1);
	cr_assert_eq(b.ts_reads - a.ts_reads, 1);
	cr_assert_geq(state_ns(&a, &b, TS_FAULT_LOCK), 20 * MS);
	cr_assert_geq(state_ns(&a, &b, TS_FAULT_PREEMPTED), 10 * MS);
	cr_assert_geq(state_ns(&a, &b, TS_FAULT_READ), 5 * MS);
	cr_assert_geq(state_ns(&a, &b, TS_FAULT_MEMWAIT), 10 * MS);
	cr_assert_geq(state_ns(&a, &b, TS_PREEMPTED), 10 * MS);
	/* the lock wait is not preemption, anywhere */
	cr_assert_lt(state_ns(&a, &b, TS_FAULT_PREEMPTED),
	    state_ns(&a, &b, TS_FAULT_LOCK) + 10 * MS);
	cr_assert_eq(state_ns(&a, &b, TS_SLEEP), 0);
	cr_assert_eq(state_ns(&a, &b, TS_LOCK), 0);
	cr_assert_eq(state_ns(&a, &b, TS_FAULT_SLEEP), 0);
	/* one state at a time: they add up to the time between snapshots */
	for (s = 0, sum = 0; s < TS_NSTATES; s++)
		sum += state_ns(&a, &b, s);
	cr_assert_eq(sum, b.ts_ns - a.ts_ns, "states %llu ns, window %llu ns",
	    (unsigned long long)sum, (unsigned long long)(b.ts_ns - a.ts_ns));
	timing_stop();
}

Test(uvmstress_report, timing_thread_exit_ends_its_time)
{
	struct timing_snap a, b, c;
	static int ci;

	host_thread_self();
	host_clock_init(100, 1);
	timing_start();
	timing_worker_begin();
	timing_snapshot(&a);
	usleep(2000);
	ev(HE_CPU_RELEASE, &ci);
	ev(HE_THREAD_EXIT, host_curthread);
	timing_snapshot(&b);
	usleep(5000);
	timing_snapshot(&c);
	/* gone: nothing more counts */
	for (int s = 0; s < TS_NSTATES; s++)
		cr_assert_eq(c.ts_state_ns[TR_WORKER][s],
		    b.ts_state_ns[TR_WORKER][s], "state %s grew",
		    timing_state_key(s));
	cr_assert_geq(state_ns(&a, &b, TS_RUN), 2 * MS);
	timing_stop();
}

Test(uvmstress_report, timing_state_names)
{
	int s, t;

	for (s = 0; s < TS_NSTATES; s++) {
		cr_assert_str_neq(timing_state_key(s), "?");
		cr_assert_str_neq(timing_state_words(s), "?");
		for (t = 0; t < s; t++)
			cr_assert_str_neq(timing_state_key(s),
			    timing_state_key(t));
	}
	cr_assert_str_eq(timing_state_key(TS_FAULT_PAGEWAIT),
	    "fault_page_wait");
	cr_assert_str_eq(timing_state_key(TS_NSTATES), "?");
}
