/*
 * tests/test_uvmstress_swapper.c: the swapper scenario end to end (the
 * uvmstress binary), with each glue's swapper: sleepers swapped out and
 * back in, pages and canaries checked, the JSON's "swapper" section; the
 * swapper options' bad input (one line, exit 1); an injected corruption
 * or panic is a failure (exit 2) with a replay line; SIGINT stops a run
 * of sleepers at once.
 *
 * Each test runs the binary (tests/stresstest.h).  The whole file takes
 * about 20 s on a two-core machine (--jobs 1): two 6 s runs, a 4 s and a
 * 1 s failing run, a 2 s interrupted one, and bad input that never boots.
 * The last four are problems found in testing, each a regression test of
 * its fix (see each one's comment).
 */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "stresstest.h"

/* local prototypes */
static double num(const struct result *r, const char *path);
static void check_swapper_run(const struct result *r, const char *glue);
static void check_usage_error(const char *const *args, const char *word1,
    const char *word2);
static void check_failure(const struct result *r, const char *kind);

TestSuite(uvmstress_swapper, .timeout = 90);

static double
num(const struct result *r, const char *path)
{
	double v = -1;

	cr_assert(json_num(r->out, path, &v), "no %s in the JSON", path);
	return v;
}

/*
 * check_swapper_run: what every passing swapper run must show: the glue's
 * swapper named in the config and the "swapper" section, LWPs swapped out
 * and back in, all of them back at the end, pages checked.
 */
static void
check_swapper_run(const struct result *r, const char *glue)
{
	char buf[64];

	cr_assert_eq(r->status, 0, "exit %d; stderr:\n%s", r->status, r->err);
	cr_assert(json_valid(r->out), "the JSON is not well-formed");
	cr_assert(json_str(r->out, "status", buf, sizeof(buf)));
	cr_assert_str_eq(buf, "pass");
	cr_assert(json_str(r->out, "scenario", buf, sizeof(buf)));
	cr_assert_str_eq(buf, "swapper");
	cr_assert(json_str(r->out, "config.glue", buf, sizeof(buf)));
	cr_assert_str_eq(buf, glue);
	cr_assert(json_str(r->out, "config.swapper", buf, sizeof(buf)));
	cr_assert_str_eq(buf, glue, "the swapper is not the glue's");
	cr_expect_eq(num(r, "config.time_scale"), 10, "the scenario's scale");
	cr_expect_eq(num(r, "failures_total"), 0);

	cr_assert(json_str(r->out, "swapper.policy", buf, sizeof(buf)),
	    "no swapper.policy in the JSON");
	cr_assert_str_eq(buf, glue);
	cr_expect_gt(num(r, "swapper.swapouts"), 0, "no LWP swapped out");
	cr_expect_gt(num(r, "swapper.swapins"), 0, "no LWP swapped in");
	cr_expect_eq(num(r, "swapper.out_now"), 0,
	    "LWPs still out at the end");
	cr_expect_gt(num(r, "swapper.out_peak"), 0);
	/* every LWP swapped out came back (more: an LWP swapped in twice) */
	cr_expect_geq(num(r, "swapper.swapins"), num(r, "swapper.swapouts"),
	    "fewer LWPs swapped in than out, and none out at the end");
	cr_expect_gt(num(r, "swapper.pdswout"), 0,
	    "the pagedaemon never called the swapper");

	cr_expect_gt(num(r, "metrics.scenario.sleeps"), 0);
	cr_expect_gt(num(r, "metrics.scenario.page_reads_checked"), 0);
	cr_expect_gt(num(r, "metrics.scenario.inspections"), 0,
	    "LWP 0 held no LWP");
	cr_expect_eq(num(r, "metrics.audit.violations"), 0);
	/* beyond RAM: pages went to swap and came back */
	cr_expect_gt(num(r, "pagedaemon.pgswapout"), 0);
	cr_expect_gt(num(r, "pagedaemon.pgswapin"), 0);
}

/*
 * NetBSD's swapper, chosen by the glue: uvm_swapout_threads swaps out LWPs
 * asleep for maxslp; no process-wide swap-out counts.
 */
Test(uvmstress_swapper, netbsd_swapper_swaps_sleepers_out_and_in)
{
	struct result r;

	RUN(&r, "--scenario", "swapper", "--glue", "netbsd", "-t", "6",
	    "--seed", "7", "--json", "-");
	check_swapper_run(&r, "netbsd");
	cr_expect_eq(num(&r, "swapper.proc_swapouts"), 0);
	cr_expect_gt(num(&r, "processes.uareas_allocated"), 0);
	cr_expect_eq(num(&r, "processes.kstacks_allocated"), 0);
	cr_expect_not_null(strstr(r.err, "swapper: netbsd, "),
	    "no swapper line in the text report:\n%s", r.err);
	result_free(&r);
}

/*
 * FreeBSD's swapper, chosen by --swapper alone (which chooses the glue
 * too): swapout_procs swaps out whole processes, their kernel stacks.
 */
Test(uvmstress_swapper, freebsd_swapper_swaps_processes_out_and_in)
{
	struct result r;

	RUN(&r, "--scenario", "swapper", "--swapper", "freebsd", "-t", "6",
	    "--seed", "7", "--json", "-");
	check_swapper_run(&r, "freebsd");
	cr_expect_gt(num(&r, "swapper.proc_swapouts"), 0);
	cr_expect_gt(num(&r, "swapper.proc_swapins"), 0);
	cr_expect_gt(num(&r, "processes.kstacks_allocated"), 0);
	cr_expect_eq(num(&r, "processes.uareas_allocated"), 0);
	cr_expect_not_null(strstr(r.err, "swapper: freebsd, "),
	    "no swapper line in the text report:\n%s", r.err);
	result_free(&r);
}

/*
 * check_usage_error: args are refused before boot: exit 1, one line on
 * stderr naming word1 (and word2, if not NULL), nothing on stdout.
 */
static void
check_usage_error(const char *const *args, const char *word1,
    const char *word2)
{
	struct result r;
	char cmd[512] = "";
	int k;

	for (k = 0; args[k] != NULL; k++)
		snprintf(cmd + strlen(cmd), sizeof(cmd) - strlen(cmd), " %s",
		    args[k]);
	run(&r, args);
	cr_expect_eq(r.status, 1, "%s: exit %d, want 1; stderr:\n%s", cmd,
	    r.status, r.err);
	cr_expect_eq(count_lines(r.err), 1, "%s: stderr has %d lines:\n%s",
	    cmd, count_lines(r.err), r.err);
	cr_expect_not_null(strstr(r.err, word1), "%s: no '%s' in: %s", cmd,
	    word1, r.err);
	if (word2 != NULL)
		cr_expect_not_null(strstr(r.err, word2), "%s: no '%s' in: %s",
		    cmd, word2, r.err);
	cr_expect_str_empty(r.out, "%s: stdout: %s", cmd, r.out);
	result_free(&r);
}

/* (-t first: an option whose value is missing must come last) */
#define BAD(w1, w2, ...) \
	check_usage_error((const char *const[]){ "--scenario", "swapper", \
	    "-t", "1", __VA_ARGS__, NULL }, (w1), (w2))

/* The swapper's own options: values out of range, or no value at all. */
Test(uvmstress_swapper, bad_swapper_values_are_one_line_exit_1)
{
	BAD("--swapper 'bogus'", "netbsd, freebsd or off", "--swapper",
	    "bogus");
	BAD("--swapper 'NetBSD'", "netbsd, freebsd or off", "--swapper",
	    "NetBSD");
	BAD("--swapper", "needs a value", "--swapper");
	BAD("--maxslp '0'", "1..1000", "--maxslp", "0");
	BAD("--maxslp '-1'", "1..1000", "--maxslp", "-1");
	BAD("--maxslp '1001'", "1..1000", "--maxslp", "1001");
	BAD("--maxslp 'abc'", "1..1000", "--maxslp", "abc");
	BAD("--maxslp '99999999999999999999'", "1..1000", "--maxslp",
	    "99999999999999999999");
	BAD("--maxslp", "needs a value", "--maxslp");
	BAD("--swap-idle-threshold1 '0'", "1..1000",
	    "--swap-idle-threshold1", "0");
	BAD("--swap-idle-threshold2 '1.5'", "1..1000",
	    "--swap-idle-threshold2", "1.5");
	BAD("--time-scale '0'", "1..1000", "--time-scale", "0");
	BAD("--time-scale '1001'", "1..1000", "--time-scale", "1001");
	BAD("--time-scale 'fast'", "1..1000", "--time-scale", "fast");
	BAD("--swap-idle 'maybe'", "takes no value", "--swap-idle=maybe");
}

/* Combinations that cannot mean what they say. */
Test(uvmstress_swapper, contradictory_swapper_options_are_one_line_exit_1)
{
	BAD("--swapper netbsd with --glue freebsd", "must be the glue's",
	    "--swapper", "netbsd", "--glue", "freebsd");
	BAD("--swapper freebsd with --glue netbsd", "must be the glue's",
	    "--glue", "netbsd", "--swapper", "freebsd");
	/* the later of two --swapper wins, and must still be the glue's */
	BAD("--swapper netbsd with --glue freebsd", "must be the glue's",
	    "--swapper", "freebsd", "--swapper", "netbsd", "--glue",
	    "freebsd");
	BAD("--swap-idle-threshold1 10", "below --swap-idle-threshold2 10",
	    "--swap-idle-threshold1", "10", "--swap-idle-threshold2", "10");
	BAD("--swap-idle-threshold1 5", "below --swap-idle-threshold2 3",
	    "--swapper", "freebsd", "--swap-idle-threshold1", "5",
	    "--swap-idle-threshold2", "3");
	BAD("--swap-idle", "--swapper freebsd", "--swapper", "netbsd",
	    "--swap-idle");
	BAD("--swap-idle", "--swapper freebsd", "--swapper", "off",
	    "--swap-idle");
	/* 1024 LWPs' kernel share does not fit the scenario's 32M */
	BAD("working set", "raise --ram", "--lwps", "1024");
	/* the swapper scenario's working set is beyond RAM: no --swap 0 */
	BAD("no swap", "--swap SIZE", "--swapper", "freebsd", "--swap", "0");
}

/* Where the working set fits, --swap 0 leaves the swapper nothing. */
Test(uvmstress_swapper, a_swapper_without_swap_is_one_line_exit_1)
{
	check_usage_error((const char *const[]){ "--scenario", "touch",
	    "--swapper", "freebsd", "--swap", "0", "-t", "1", NULL },
	    "--swapper freebsd needs swap", NULL);
	check_usage_error((const char *const[]){ "--scenario", "touch",
	    "--swap-idle", "--swapper", "freebsd", "--swap", "0", "-t", "1",
	    NULL }, "needs swap", NULL);
}

/* The scenario's own options. */
Test(uvmstress_swapper, bad_scenario_values_are_one_line_exit_1)
{
	BAD("--pages '0'", "1..", "--pages", "0");
	BAD("--busy-pct '101'", "0..100", "--busy-pct", "101");
	BAD("--long-pct '-1'", "0..100", "--long-pct", "-1");
	BAD("--sleep-max '0'", "1..10000", "--sleep-max", "0");
	BAD("--sleep-max '10001'", "1..10000", "--sleep-max", "10001");
	BAD("--inspect '100001'", "0..100000", "--inspect", "100001");
	BAD("--burst 'x'", "1..", "--burst", "x");
	/* and not another scenario's */
	check_usage_error((const char *const[]){ "--scenario", "touch",
	    "--busy-pct", "5", "-t", "1", NULL },
	    "not an option of scenario touch", NULL);
}

/* The same mistakes in a job file name the file and line. */
Test(uvmstress_swapper, bad_job_file_lines_are_one_line_exit_1)
{
	static const char *const jobs[][3] = {
		/* job file text, then the words its error must name */
		{ "scenario swapper\nswapper\n", ":2: swapper",
		    "needs a value" },
		{ "scenario swapper\n# thresholds\ntime-scale 0\n",
		    ":3: time-scale '0'", "1..1000" },
		{ "scenario swapper\nswap-idle yes please\n",
		    ":2: swap-idle 'yes please'", "takes no value" },
		{ "scenario swapper\nsleep-max 0\n", ":2: sleep-max '0'",
		    "1..10000" },
		{ "swapper freebsd\nglue netbsd\n", "must be the glue's",
		    NULL },
	};
	size_t i;

	for (i = 0; i < sizeof(jobs) / sizeof(jobs[0]); i++) {
		char path[] = "/tmp/uvmstress-swapper-job-XXXXXX";
		size_t len = strlen(jobs[i][0]);
		int fd = mkstemp(path);

		cr_assert_geq(fd, 0);
		cr_assert_eq(write(fd, jobs[i][0], len), (ssize_t)len);
		close(fd);
		check_usage_error((const char *const[]){ "--job", path,
		    "-t", "1", NULL }, jobs[i][1], jobs[i][2]);
		unlink(path);
	}
}

/* check_failure: a run that found a failure of kind, reported in full. */
static void
check_failure(const struct result *r, const char *kind)
{
	char buf[512];
	const char *replay;

	cr_assert_eq(r->status, 2, "exit %d, want 2; stderr:\n%s", r->status,
	    r->err);
	cr_assert(json_valid(r->out), "the JSON is not well-formed");
	cr_assert(json_str(r->out, "status", buf, sizeof(buf)));
	cr_assert_str_eq(buf, "fail");
	cr_expect_eq(num(r, "exit_status"), 2);
	cr_assert(json_str(r->out, "failures.0.kind", buf, sizeof(buf)));
	cr_expect_str_eq(buf, kind);
	/* the replay line, on stderr (stdout has the JSON) and in the JSON */
	replay = strstr(r->err, "replay with: ");
	cr_assert_not_null(replay, "no replay line; stderr:\n%s", r->err);
	cr_expect_not_null(strstr(replay, "--scenario swapper"),
	    "replay: %.200s", replay);
	cr_expect_not_null(strstr(replay, "--seed 29"), "replay: %.200s",
	    replay);
	/* (a panic's JSON is the fatal path's partial one: no top level) */
	cr_assert(json_str(r->out, "failures.0.replay", buf, sizeof(buf)),
	    "no failures.0.replay in the JSON");
	cr_expect_not_null(strstr(buf, "--scenario swapper"), "JSON replay: "
	    "%s", buf);
	cr_expect_not_null(strstr(buf, "--seed 29"), "JSON replay: %s", buf);
}

/*
 * Bits flipped behind the VM's back in a sleeper's page: the LWP's check
 * after its sleep, or the final sweep, names the page.
 */
Test(uvmstress_swapper, inject_corrupt_fails_with_a_replay_line)
{
	struct result r;
	char buf[512];

	RUN(&r, "--scenario", "swapper", "--inject", "corrupt", "-t", "4",
	    "--seed", "29", "--json", "-");
	check_failure(&r, "integrity");
	cr_expect_gt(num(&r, "failures_total"), 0);
	cr_assert(json_str(r.out, "failures.0.message", buf, sizeof(buf)));
	cr_expect_not_null(strstr(buf, "flipped bits"), "message: %s", buf);
	cr_expect_not_null(strstr(r.err, "inject: flipped bits"),
	    "stderr:\n%s", r.err);
	result_free(&r);
}

/* A panic while 256 LWPs sleep, are swapped out and in: exit 2, reported. */
Test(uvmstress_swapper, inject_panic_fails_with_a_replay_line)
{
	struct result r;

	RUN(&r, "--scenario", "swapper", "--swapper", "freebsd", "--inject",
	    "panic", "-t", "4", "--seed", "29", "--json", "-");
	check_failure(&r, "panic");
	cr_expect_not_null(strstr(r.err, "injected panic"), "stderr:\n%s",
	    r.err);
	result_free(&r);
}

/*
 * SIGINT while most LWPs sleep (some swapped out): the run stops at once
 * (the sleepers are woken), exit 130, the full JSON.
 */
Test(uvmstress_swapper, sigint_stops_the_sleepers_at_once)
{
	struct child c;
	struct result r;
	char buf[64];
	double t0;

	RUN_START(&c, "--scenario", "swapper", "-t", "60", "--seed", "31",
	    "-v", "-v", "--json", "-");
	cr_assert(run_await(&c, c.errfd, "audit (periodic)", 30.0),
	    "the run never reached its timed phase");
	usleep(500000);
	t0 = now_s();
	cr_assert_eq(kill(c.pid, SIGINT), 0);
	run_wait(&c, &r);
	cr_expect_lt(now_s() - t0, 3.0, "the run took %.1f s to stop",
	    now_s() - t0);
	cr_assert_eq(r.status, 130, "exit %d; stderr:\n%s", r.status, r.err);
	cr_assert(json_valid(r.out), "the JSON is not well-formed");
	cr_assert(json_str(r.out, "status", buf, sizeof(buf)));
	cr_expect_str_eq(buf, "interrupted");
	cr_expect(json_str(r.out, "swapper.policy", buf, sizeof(buf)));
	cr_expect_str_eq(buf, "netbsd");
	result_free(&r);
}

/*
 * Problems found in testing, fixed (regression tests).
 *
 * --swap-idle is FreeBSD's, and refused with --swapper netbsd or off; but
 * with the NetBSD swapper chosen by default (no --swapper, NetBSD glue)
 * options_check tested it while cfg->swapper was still -1, and the run
 * went ahead with swap_idle true and nothing reading it.
 */
Test(uvmstress_swapper, swap_idle_with_the_default_netbsd_swapper_is_refused,
    .timeout = 30)
{
	BAD("--swap-idle", "--swapper freebsd", "--swap-idle");
}

/*
 * The inspector (LWP 0) slept --inspect ms between holds with tsleep on a
 * channel of its own, which the run's end (sw_end) did not wake: an
 * interval longer than the 5 s grace (here 10 s at --time-scale 1) makes
 * a run of valid options end as a "hang" failure, exit 2.
 */
Test(uvmstress_swapper, a_long_inspection_interval_ends_on_time,
    .timeout = 30)
{
	struct result r;
	double t0 = now_s();

	RUN(&r, "--scenario", "swapper", "--lwps", "8", "--inspect", "10000",
	    "--time-scale", "1", "--sleep-max", "1", "-t", "3", "--seed", "1",
	    "--json", "-");
	cr_expect_eq(r.status, 0, "exit %d; stderr:\n%s", r.status, r.err);
	cr_expect_lt(now_s() - t0, 6.0);
	result_free(&r);
}

/*
 * Nothing woke the sleepers at the run's end unless one LWP was awake to
 * call sw_end: with --inspect 0 and every LWP in a long sleep, the run
 * overran -t and ended as a "hang" (exit 2).  Now the harness calls
 * sw_end (r_on_stop) when the run stops.
 */
Test(uvmstress_swapper, a_run_of_sleepers_only_ends_on_time,
    .timeout = 30)
{
	struct result r;
	double t0 = now_s();

	RUN(&r, "--scenario", "swapper", "--lwps", "4", "--inspect", "0",
	    "--sleep-max", "10000", "-t", "3", "--seed", "1", "--json", "-");
	cr_expect_eq(r.status, 0, "exit %d; stderr:\n%s", r.status, r.err);
	cr_expect_lt(now_s() - t0, 6.0);
	result_free(&r);
}

/*
 * A worker killed out of swap left its loop and called sw_end, which
 * told every other LWP the run was over: they stopped sleeping and spun
 * through bursts for the rest of the run (hundreds of thousands of
 * "sleeps" that did not sleep), and the swapper has no sleepers left.
 */
Test(uvmstress_swapper, an_out_of_swap_kill_leaves_the_others_sleeping,
    .timeout = 30)
{
	struct result r;

	RUN(&r, "--scenario", "swapper", "--swap", "64K", "--busy-pct", "50",
	    "-t", "4", "--seed", "23", "--json", "-");
	cr_assert_eq(r.status, 0, "exit %d; stderr:\n%s", r.status, r.err);
	cr_assert_gt(num(&r, "metrics.oom_kills"), 0, "no kill: no test");
	/*
	 * 256 LWPs, half their turns sleeps of ~2 s on average at the
	 * scenario's scale: a few hundred in 4 s (with the bug: 200000)
	 */
	cr_expect_lt(num(&r, "metrics.scenario.sleeps"), 256 * 50,
	    "LWPs stopped sleeping after the first kill");
	result_free(&r);
}
