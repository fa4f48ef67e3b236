/*
 * tests/test_uvmstress_run.c: how a uvmstress run starts, stops and ends:
 * -t bounds the whole run, a signal stops it with a full report, a run
 * that tested nothing says so, the replay line replays the operations,
 * -q is quiet, --help fits its columns.
 *
 * Each test runs the binary (tests/stresstest.h).  Wall-time bounds here
 * are correctness bounds (a run must end near its -t), with slack for a
 * loaded two-core machine, not benchmarks.
 */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "stress/options.h"
#include "stresstest.h"

/* local prototypes */
static void signal_run(struct result *r, int sig, int nsig, double *stop_s);
static int count_words(const char *s, const char *word);

/*
 * signal_run: a long touch run, signalled nsig times once its timed phase
 * has begun (the first periodic audit, printed with -v -v, says so);
 * *stop_s: from the first signal to its exit.
 */
static void
signal_run(struct result *r, int sig, int nsig, double *stop_s)
{
	struct child c;
	double t0;
	int k;

	RUN_START(&c, "--scenario", "touch", "--lwps", "3", "--ram", "32M",
	    "--pages", "256", "-t", "60", "-v", "-v", "--json", "-");
	cr_assert(run_await(&c, c.errfd, "audit (periodic)", 30.0),
	    "the run never reached its timed phase");
	t0 = now_s();
	for (k = 0; k < nsig; k++) {
		/* (two at once would merge into one pending signal) */
		cr_assert_eq(kill(c.pid, sig), 0);
		if (k + 1 < nsig)
			cr_assert(run_await(&c, c.errfd, "stopping the run",
			    10.0), "the first signal was not seen");
	}
	run_wait(&c, r);
	*stop_s = now_s() - t0;
}

/* How many times word stands in s as a whole argument. */
static int
count_words(const char *s, const char *word)
{
	size_t n = strlen(word);
	const char *p;
	int k = 0;

	for (p = s; (p = strstr(p, word)) != NULL; p += n)
		if ((p == s || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0' ||
		    p[n] == '"'))
			k++;
	return k;
}

TestSuite(uvmstress_run, .timeout = 120);

/*
 * -t bounds the whole run: a fill that cannot finish in time is cut at
 * the limit, and the run says it tested nothing (status "short", exit 4)
 * instead of filling for as long as it takes and then passing.
 */
Test(uvmstress_run, the_time_limit_cuts_the_fill)
{
	struct result r;
	char buf[64];
	double t0 = now_s(), wall, v;

	RUN(&r, "--scenario", "pressure", "--ws", "1G", "--ram", "128M",
	    "--swap", "2G", "--lwps", "2", "-t", "1", "--json", "-");
	wall = now_s() - t0;
	cr_assert_eq(r.status, EXIT_UNTESTED, "exit %d; stderr:\n%s",
	    r.status, r.err);
	cr_assert_leq(wall, 1.0 + RUN_GRACE_S + 1.0, "-t 1 ran %.1f s", wall);
	cr_assert(json_valid(r.out), "not valid JSON:\n%s", r.out);
	cr_assert(json_str(r.out, "status", buf, sizeof(buf)));
	cr_assert_str_eq(buf, "short");
	cr_assert(json_num(r.out, "exit_status", &v) && v == 4);
	cr_assert(json_num(r.out, "metrics.scenario.fill_pages", &v) &&
	    v < 262144.0, "the fill was not cut: %.0f pages", v);
	cr_assert_not_null(strstr(r.err, "uvmstress: short in pressure: "),
	    "stderr:\n%s", r.err);
	/* the report says where the time went: all of it set-up */
	/* (the workers reach the barrier after the cut: 0.7 s under ASan) */
	cr_assert(json_num(r.out, "phases.setup_s", &v) && v >= 0.9 &&
	    v < 1.0 + RUN_SWEEP_GRACE_S, "set-up %.2f s", v);
	cr_assert(json_num(r.out, "phases.timed_s", &v) && v < 0.1);
	cr_assert(json_num(r.out, "phases.limit_s", &v) && v == 1);
	cr_assert_not_null(strstr(r.err, "phases: set-up (boot, fill) "));
	result_free(&r);
}

/* A run whose time covers its fill passes within -t and its grace. */
Test(uvmstress_run, a_timed_run_ends_within_its_limit)
{
	struct result r;
	double t0 = now_s(), wall, v, s0, s1;

	RUN(&r, "--scenario", "pressure", "--ws", "48M", "--ram", "16M",
	    "--lwps", "8", "--ncpu", "1", "-t", "2", "--json", "-");
	wall = now_s() - t0;
	cr_assert_eq(r.status, 0, "exit %d; stderr:\n%s", r.status, r.err);
	cr_assert_leq(wall, 2.0 + RUN_GRACE_S, "-t 2 ran %.1f s", wall);
	cr_assert(json_num(r.out, "metrics.ops", &v) && v > 0);
	/* the fill and the timed phase share the 2 s */
	cr_assert(json_num(r.out, "phases.setup_s", &s0) && s0 > 0);
	cr_assert(json_num(r.out, "phases.timed_s", &s1) && s1 > 0);
	cr_assert(s0 + s1 <= 2.5, "set-up %.2f s + timed %.2f s", s0, s1);
	cr_assert(json_num(r.out, "phases.final_checks_cut", &v) && v <= 8);
	result_free(&r);
}

/*
 * The first SIGINT stops the run within a second with the full report:
 * complete JSON, status "interrupted", the counts so far, the replay line
 * (by operations: no -t), exit 130.
 */
Test(uvmstress_run, sigint_stops_the_run_with_a_full_report)
{
	struct result r;
	char buf[4096];
	double stop_s, v;

	signal_run(&r, SIGINT, 1, &stop_s);
	cr_assert_eq(r.status, 130, "exit %d; stderr:\n%s", r.status, r.err);
	cr_assert_leq(stop_s, 1.5, "stopped %.2f s after SIGINT", stop_s);
	cr_assert(json_valid(r.out), "not valid JSON:\n%s", r.out);
	cr_assert(json_str(r.out, "status", buf, sizeof(buf)));
	cr_assert_str_eq(buf, "interrupted");
	cr_assert(json_num(r.out, "exit_status", &v) && v == 130);
	cr_assert(json_num(r.out, "metrics.ops", &v) && v > 0,
	    "no counts in the report");
	cr_assert(json_num(r.out, "uvmexp.faults", &v) && v > 0);
	cr_assert(json_str(r.out, "replay", buf, sizeof(buf)));
	cr_assert_eq(count_words(buf, "--ops"), 1, "replay: %s", buf);
	cr_assert_eq(count_words(buf, "-t"), 0, "replay: %s", buf);
	cr_assert_not_null(strstr(r.err, "interrupted by SIGINT"),
	    "stderr:\n%s", r.err);
	cr_assert_not_null(strstr(r.err, "replay with: "));
	result_free(&r);
}

/* SIGTERM is the same with 143; a second signal ends the run at once. */
Test(uvmstress_run, sigterm_is_143_and_a_second_signal_exits_at_once)
{
	struct result r;
	char buf[64];
	double stop_s;

	signal_run(&r, SIGTERM, 1, &stop_s);
	cr_assert_eq(r.status, 143, "exit %d; stderr:\n%s", r.status, r.err);
	cr_assert(json_str(r.out, "status", buf, sizeof(buf)));
	cr_assert_str_eq(buf, "interrupted");
	result_free(&r);

	signal_run(&r, SIGTERM, 2, &stop_s);
	cr_assert_eq(r.status, 143, "exit %d; stderr:\n%s", r.status, r.err);
	cr_assert_not_null(strstr(r.err, "second signal"), "stderr:\n%s",
	    r.err);
	result_free(&r);
}

/*
 * Every worker killed out of swap before its first operation: the run
 * tested nothing, and says so (status "no-work", exit 4), not "pass".
 */
Test(uvmstress_run, a_run_whose_workers_all_died_tested_nothing)
{
	struct result r;
	char buf[64];
	double v;

	/*
	 * (One LWP: with four, all asleep on flt_noram2 with the pagedaemon
	 * idle was seen once under load, a livelock of the VM's own when
	 * swap is this small; see the session note of 2026-12-07.)
	 */
	RUN(&r, "--scenario", "pressure", "--ram", "16M", "--ws", "64M",
	    "--swap", "256K", "--lwps", "1", "-t", "3", "--json", "-");
	cr_assert_eq(r.status, EXIT_UNTESTED, "exit %d; stderr:\n%s",
	    r.status, r.err);
	cr_assert(json_str(r.out, "status", buf, sizeof(buf)));
	cr_assert_str_eq(buf, "no-work");
	cr_assert(json_num(r.out, "metrics.ops", &v) && v == 0);
	cr_assert(json_num(r.out, "metrics.oom_kills", &v) && v == 1);
	cr_assert_not_null(strstr(r.err, "no-work in pressure"));
	result_free(&r);
}

/*
 * A timed run's replay line carries --ops for the operations done and no
 * time limit: run, it does the same operations (the same access hash).
 */
Test(uvmstress_run, the_replay_line_replays_the_operations)
{
	struct result r, r2;
	char replay[1024], h1[64], h2[64], *args[MAXARGS], *save, *w;
	int n = 0;

	RUN(&r, "--scenario", "touch", "--lwps", "1", "--pages", "128",
	    "--ram", "32M", "-t", "1", "--json", "-");
	cr_assert_eq(r.status, 0, "exit %d; stderr:\n%s", r.status, r.err);
	cr_assert(json_str(r.out, "replay", replay, sizeof(replay)));
	cr_assert(json_str(r.out, "metrics.access_hash", h1, sizeof(h1)));
	cr_assert_eq(count_words(replay, "-t"), 0, "replay: %s", replay);
	cr_assert_eq(count_words(replay, "--ops"), 1, "replay: %s", replay);
	/* the words after argv[0] (plain words: nothing to unquote) */
	for (w = strtok_r(replay, " ", &save); w != NULL;
	    w = strtok_r(NULL, " ", &save))
		if (n++ > 0)
			args[n - 2] = w;
	args[n - 1] = NULL;
	run(&r2, (const char *const *)args);
	cr_assert_eq(r2.status, 0, "replay exit %d; stderr:\n%s", r2.status,
	    r2.err);
	cr_assert(json_str(r2.out, "metrics.access_hash", h2, sizeof(h2)));
	cr_assert_str_eq(h1, h2, "the replay touched other pages");
	result_free(&r);
	result_free(&r2);
}

/* -q: the seed, failures and the verdict; no notices, no kill lines. */
Test(uvmstress_run, quiet_is_quiet)
{
	struct result r;

	RUN(&r, "-q", "--scenario", "pressure", "--ram", "16M", "--ws", "64M",
	    "--swap", "8M", "--lwps", "3", "-t", "2");
	/* (kills are due; whether any worker survives them is the host's) */
	cr_assert(r.status == 0 || r.status == EXIT_UNTESTED,
	    "exit %d; stderr:\n%s", r.status, r.err);
	cr_assert_eq(count_lines(r.out), 2, "stdout:\n%s", r.out);
	cr_assert_not_null(strstr(r.out, "uvmstress: seed "));
	cr_assert_not_null(strstr(r.out, r.status == 0 ?
	    "uvmstress: pass in pressure" : "uvmstress: no-work in pressure"),
	    "stdout:\n%s", r.out);
	cr_assert_str_empty(r.err, "stderr:\n%s", r.err);
	result_free(&r);
}

/* --help: every line within 80 columns, descriptions in one column. */
Test(uvmstress_run, help_fits_its_columns)
{
	struct result r;
	const char *p, *e;
	int lineno = 0;

	RUN(&r, "--help");
	cr_assert_eq(r.status, 0);
	for (p = r.out; *p != '\0'; p = *e != '\0' ? e + 1 : e) {
		e = strchr(p, '\n');
		if (e == NULL)
			e = p + strlen(p);
		lineno++;
		cr_expect_leq(e - p, 80, "line %d is %d wide: %.*s", lineno,
		    (int)(e - p), (int)(e - p), p);
		/* an option line's description starts in column 25 */
		if (p[0] == ' ' && p[1] == ' ' && p[2] == '-' && e - p > 25 &&
		    p[23] == ' ')
			cr_expect_neq(p[24], ' ', "line %d: %.*s", lineno,
			    (int)(e - p), p);
	}
	cr_assert_gt(lineno, 30);
	result_free(&r);
}

/* Sizes are said as sizes: --ram 1536K is 1.5 MiB, not "1 MiB". */
Test(uvmstress_run, ram_is_said_in_its_own_unit)
{
	struct result r;

	RUN(&r, "--ram", "1536K");
	cr_assert_eq(r.status, 1);
	cr_assert_not_null(strstr(r.err, "--ram 1.5 MiB"), "%s", r.err);
	result_free(&r);
	RUN(&r, "--scenario", "touch", "--ram", "256K", "--lwps", "1", "--pages", "1");
	cr_assert_not_null(strstr(r.err, "256 KiB"), "%s", r.err);
	result_free(&r);
}

/*
 * Seeds stop at 2^53 - 1, the largest that every JSON reader holds
 * exactly: that one is written back digit for digit.
 */
Test(uvmstress_run, the_largest_seed_survives_json)
{
	struct result r;
	const char *p;

	RUN(&r, "--scenario", "touch", "--seed", "9007199254740991", "--lwps", "1", "--pages", "16",
	    "--ram", "32M", "--ops", "100", "--json", "-");
	cr_assert_eq(r.status, 0, "exit %d; stderr:\n%s", r.status, r.err);
	p = json_at(r.out, "seed");
	cr_assert(p != NULL && strncmp(p, "9007199254740991", 16) == 0);
	result_free(&r);
	RUN(&r, "--seed", "9007199254740992");
	cr_assert_eq(r.status, 1);
	cr_assert_not_null(strstr(r.err, "2^53"), "%s", r.err);
	result_free(&r);
}

/* One --job a run, and a job file with a NUL byte is not text. */
Test(uvmstress_run, job_files_are_one_and_text)
{
	char dir[] = "/tmp/uvmstress-job.XXXXXX", path[64];
	struct result r;
	FILE *f;

	cr_assert_not_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/job", dir);
	f = fopen(path, "w");
	cr_assert_not_null(f);
	fwrite("lwps 2\n\0ram 32M\n", 1, 16, f);
	fclose(f);
	RUN(&r, "--job", path);
	cr_assert_eq(r.status, 1);
	cr_assert_eq(count_lines(r.err), 1);
	cr_assert_not_null(strstr(r.err, "NUL byte"), "%s", r.err);
	result_free(&r);
	RUN(&r, "--job", path, "--job", path);
	cr_assert_eq(r.status, 1);
	cr_assert_not_null(strstr(r.err, "--job given twice"), "%s", r.err);
	result_free(&r);
	unlink(path);
	rmdir(dir);
}

/* --fail-io: a percentage or a fraction below 1, nothing ambiguous. */
Test(uvmstress_run, fail_io_has_one_syntax)
{
	static const char *const bad[] = { "1", "10", "1.0", "0x10", "1e2",
	    "1e-2", ".5", "5%x", "+1%", " 1%", "0.0005" };
	static const char *const impossible[] = { "100%", "99.9%", "0.6",
	    "20.1%" };
	struct result r;
	char buf[64];
	double v;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		RUN(&r, "--fail-io", bad[i]);
		cr_expect_eq(r.status, 1, "--fail-io '%s': exit %d", bad[i],
		    r.status);
		cr_expect_not_null(strstr(r.err, "not a rate"), "'%s': %s",
		    bad[i], r.err);
		result_free(&r);
	}
	for (i = 0; i < sizeof(impossible) / sizeof(impossible[0]); i++) {
		RUN(&r, "--fail-io", impossible[i]);
		cr_expect_eq(r.status, 1, "--fail-io '%s': exit %d",
		    impossible[i], r.status);
		cr_expect_not_null(strstr(r.err, "at most 20%"), "'%s': %s",
		    impossible[i], r.err);
		result_free(&r);
	}
	/* 0.5% and 0.005 are the same five permille */
	RUN(&r, "--scenario", "pressure", "--ram", "16M", "--ws", "24M",
	    "--lwps", "1", "--ops", "50", "--fail-io", "0.5%", "--json", "-");
	cr_assert_eq(r.status, 0, "exit %d; stderr:\n%s", r.status, r.err);
	cr_assert(json_num(r.out, "config.fail_io_permille", &v) && v == 5);
	result_free(&r);
	RUN(&r, "--scenario", "pressure", "--ram", "16M", "--ws", "24M",
	    "--lwps", "1", "--ops", "50", "--fail-io", "0.005", "--json", "-");
	cr_assert_eq(r.status, 0, "exit %d; stderr:\n%s", r.status, r.err);
	cr_assert(json_num(r.out, "config.fail_io_permille", &v) && v == 5);
	cr_assert(json_str(r.out, "status", buf, sizeof(buf)));
	cr_assert_str_eq(buf, "pass");
	result_free(&r);
}

/*
 * At the highest rate allowed, the run still moves: it ends on time with
 * a verdict of its own, not as a watchdog hang.
 */
Test(uvmstress_run, the_highest_fail_rate_is_not_a_hang)
{
	struct result r;
	char buf[64];

	RUN(&r, "--scenario", "pressure", "--ram", "16M", "--ws", "40M",
	    "--lwps", "2", "--fail-io", "20%", "-t", "3", "--watchdog", "5",
	    "--json", "-");
	cr_assert(r.status == 0 || r.status == EXIT_UNTESTED,
	    "exit %d; stderr:\n%s", r.status, r.err);
	cr_assert(json_str(r.out, "status", buf, sizeof(buf)));
	cr_assert(strcmp(buf, "pass") == 0 || strcmp(buf, "short") == 0,
	    "status %s", buf);
	result_free(&r);
}

/*
 * --ws 0 is refused (the default, 2 x --ram, is the option left out);
 * --regions means nothing with --remap and is refused with it.
 */
Test(uvmstress_run, options_that_would_be_ignored_are_refused)
{
	struct result r;

	RUN(&r, "--scenario", "pressure", "--ws", "0");
	cr_assert_eq(r.status, 1);
	cr_assert_not_null(strstr(r.err, "--ws '0'"), "%s", r.err);
	result_free(&r);
	RUN(&r, "--scenario", "touch", "--remap", "--regions", "2");
	cr_assert_eq(r.status, 1);
	cr_assert_not_null(strstr(r.err, "--regions and --remap"), "%s",
	    r.err);
	result_free(&r);
}

/*
 * A lock-order inversion is one failure: the first stops the run, and the
 * ones after it (the harness takes the two locks in both orders at every
 * tick until the end) are counted, not reported again.
 */
Test(uvmstress_run, a_lock_order_inversion_is_reported_once)
{
	struct result r;
	char buf[64];
	const char *p;
	double v;
	int n = 0;

	RUN(&r, "--scenario", "touch", "--inject", "lock-order", "--witness", "on", "--lwps", "2",
	    "--ram", "32M", "--pages", "64", "-t", "4", "--json", "-");
	cr_assert_eq(r.status, 2, "exit %d; stderr:\n%s", r.status, r.err);
	cr_assert(json_str(r.out, "failures.0.kind", buf, sizeof(buf)));
	cr_assert_str_eq(buf, "lock-order");
	cr_assert_null(json_at(r.out, "failures.1"), "reported again");
	for (p = r.err; (p = strstr(p, "FAIL lock-order")) != NULL; p++)
		n++;
	cr_assert_eq(n, 1, "%d FAIL lines:\n%s", n, r.err);
	cr_assert(json_num(r.out, "metrics.witness.inversions", &v) && v >= 2,
	    "the later inversions were not seen (or not counted)");
	cr_assert_not_null(strstr(r.err, "replay with: "));
	result_free(&r);
}

/* --inject race is TSan's to find: elsewhere it is refused. */
Test(uvmstress_run, inject_race_needs_the_tsan_build)
{
	struct result r;

	RUN(&r, "--inject", "race");
	cr_assert_eq(r.status, 1);
	cr_assert_eq(count_lines(r.err), 1);
	cr_assert_not_null(strstr(r.err, "tsan build"), "%s", r.err);
	result_free(&r);
}
