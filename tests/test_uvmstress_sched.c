/*
 * tests/test_uvmstress_sched.c: deterministic schedules end to end (the
 * uvmstress binary): every scenario replays its trace from the seed; a
 * planted failure comes back at the same step from its replay line; a
 * schedule written by --schedule-out is followed by --replay, and a
 * schedule from other options or a damaged one is refused; --seeds stops
 * at the first failure; a free run's failure says how to search for it;
 * bad input is one line and exit 1.
 *
 * Each test runs the binary (tests/stresstest.h); the file takes about a
 * minute on a two-core machine, most of it the twelve scenario runs and
 * the ten replays of the planted failure.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "stresstest.h"

#define NITEMS(a)	(sizeof(a) / sizeof((a)[0]))

/* local prototypes */
static void trace_of(const struct result *r, char *buf, size_t len);
static void check_usage_error(const char *const *args, const char *word);
static char *tmp_path(const char *name);
static void replay_line(const char *text, char *buf, size_t len);

TestSuite(uvmstress_sched, .timeout = 240);

/* The run's trace hash, from its JSON; the run must have ended well. */
static void
trace_of(const struct result *r, char *buf, size_t len)
{
	cr_assert(r->status == 0 || r->status == 4, "exit %d; stderr:\n%s",
	    r->status, r->err);
	cr_assert(json_valid(r->out), "the JSON is not well-formed");
	cr_assert(json_str(r->out, "schedule.trace_hash", buf, len),
	    "no schedule.trace_hash in the JSON");
	cr_assert_eq(strlen(buf), 16);
}

/* The command after "uvmstress: replay with: " in text, into buf. */
static void
replay_line(const char *text, char *buf, size_t len)
{
	const char *p = strstr(text, "uvmstress: replay with: "), *e;

	cr_assert_not_null(p, "no replay line in:\n%s", text);
	p += strlen("uvmstress: replay with: ");
	e = strchr(p, '\n');
	cr_assert_not_null(e);
	snprintf(buf, len, "%.*s", (int)(e - p), p);
}

static char *
tmp_path(const char *name)
{
	static char path[512];
	const char *dir = getenv("TMPDIR");

	snprintf(path, sizeof(path), "%s/uvmstress-sched-%d-%s",
	    dir != NULL ? dir : "/tmp", (int)getpid(), name);
	unlink(path);
	return path;
}

/* Same seed, same options: the same trace, in every scenario. */
Test(uvmstress_sched, every_scenario_replays_its_trace_from_the_seed)
{
	static const char *const sc[][3] = {
		{ "touch", "--ram", "64M" },
		{ "segv", "--ram", "32M" },
		{ "pressure", "--ram", "16M" },
		{ "mix", "--ram", "32M" },
		{ "fork", "--ram", "32M" },
		{ "swapper", "--ram", "32M" },
	};
	char h1[32], h2[32];
	struct result r1, r2;
	size_t i;

	for (i = 0; i < NITEMS(sc); i++) {
		RUN(&r1, "--scenario", sc[i][0], sc[i][1], sc[i][2], "--sched",
		    "random", "--steps", "400000", "--seed", "9", "--json", "-");
		trace_of(&r1, h1, sizeof(h1));
		RUN(&r2, "--scenario", sc[i][0], sc[i][1], sc[i][2], "--sched",
		    "random", "--steps", "400000", "--seed", "9", "--json", "-");
		trace_of(&r2, h2, sizeof(h2));
		cr_expect_str_eq(h1, h2, "%s: two runs of seed 9 ran different "
		    "traces", sc[i][0]);
		result_free(&r1);
		result_free(&r2);
	}
}

Test(uvmstress_sched, each_strategy_replays_and_another_seed_differs)
{
	static const char *const st[] = { "random", "pct", "pos" };
	char h1[32], h2[32], h3[32];
	struct result r1, r2, r3;
	size_t i;

	for (i = 0; i < NITEMS(st); i++) {
		RUN(&r1, "--scenario", "mix", "--ram", "32M", "--sched", st[i],
		    "--steps", "300000", "--seed", "4", "--json", "-");
		RUN(&r2, "--scenario", "mix", "--ram", "32M", "--sched", st[i],
		    "--steps", "300000", "--seed", "4", "--json", "-");
		RUN(&r3, "--scenario", "mix", "--ram", "32M", "--sched", st[i],
		    "--steps", "300000", "--seed", "5", "--json", "-");
		trace_of(&r1, h1, sizeof(h1));
		trace_of(&r2, h2, sizeof(h2));
		trace_of(&r3, h3, sizeof(h3));
		cr_expect_str_eq(h1, h2, "%s: seed 4 twice, two traces", st[i]);
		cr_expect_str_neq(h1, h3, "%s: seeds 4 and 5, one trace", st[i]);
		cr_expect_not_null(strstr(r1.err, "schedule: "), "no schedule "
		    "line in the report:\n%s", r1.err);
		result_free(&r1);
		result_free(&r2);
		result_free(&r3);
	}
}

/*
 * A failure found under a deterministic schedule comes back at the same
 * step, 10 times of 10, from the replay line the run printed.
 */
Test(uvmstress_sched, a_planted_failure_replays_at_the_same_step)
{
	char kind[32], line[1024];
	double step = 0, s;
	struct result r;
	int i;

	RUN(&r, "--scenario", "touch", "--sched", "random", "--inject",
	    "corrupt", "--seed", "5", "--json", "-");
	cr_assert_eq(r.status, 2, "exit %d; stderr:\n%s", r.status, r.err);
	cr_assert(json_str(r.out, "failures.0.kind", kind, sizeof(kind)));
	cr_assert_str_eq(kind, "integrity");
	cr_assert(json_num(r.out, "failures.0.step", &step));
	cr_assert_gt(step, 0);
	cr_assert_not_null(strstr(r.err, " at step "), "%s", r.err);
	replay_line(r.err, line, sizeof(line));	/* as printed */
	result_free(&r);
	cr_assert_not_null(strstr(line, "--seed 5"), "%s", line);
	cr_assert_null(strstr(line, "--ops"), "a deterministic replay line "
	    "needs no --ops: %s", line);
	for (i = 0; i < 10; i++) {
		RUN(&r, "--scenario", "touch", "--sched", "random", "--inject",
		    "corrupt", "--seed", "5", "--json", "-");
		cr_assert_eq(r.status, 2);
		cr_assert(json_str(r.out, "failures.0.kind", kind,
		    sizeof(kind)));
		cr_assert_str_eq(kind, "integrity");
		cr_assert(json_num(r.out, "failures.0.step", &s));
		cr_assert_eq(s, step, "replay %d failed at step %.0f, the "
		    "first run at %.0f", i, s, step);
		result_free(&r);
	}
}

Test(uvmstress_sched, a_schedule_written_is_followed_and_checked)
{
	char *path = strdup(tmp_path("sched")), h1[32], h2[32];
	struct result r;
	struct stat sb;
	FILE *f;
	long off;

	RUN(&r, "--scenario", "touch", "--sched", "pct", "--steps", "100000",
	    "--seed", "3", "--schedule-out", path, "--json", "-");
	trace_of(&r, h1, sizeof(h1));
	result_free(&r);
	cr_assert_eq(stat(path, &sb), 0, "no schedule written");
	cr_assert_gt(sb.st_size, 100);

	RUN(&r, "--scenario", "touch", "--sched", "pct", "--steps", "100000",
	    "--seed", "3", "--replay", path, "--json", "-");
	trace_of(&r, h2, sizeof(h2));
	cr_expect_str_eq(h1, h2, "the replay ran another trace");
	cr_expect_null(strstr(r.err, "diverged"), "%s", r.err);
	result_free(&r);

	/* another command's schedule: refused before boot */
	RUN(&r, "--scenario", "touch", "--sched", "pct", "--steps", "100000",
	    "--seed", "4", "--replay", path);
	cr_expect_eq(r.status, 1);
	cr_expect_not_null(strstr(r.err, "other options"), "%s", r.err);
	result_free(&r);
	RUN(&r, "--scenario", "touch", "--sched", "pct", "--steps", "100000",
	    "--seed", "3", "--lwps", "5", "--replay", path);
	cr_expect_eq(r.status, 1);
	cr_expect_not_null(strstr(r.err, "other options"), "%s", r.err);
	result_free(&r);

	/* --schedule-out never overwrites a file */
	RUN(&r, "--scenario", "touch", "--sched", "pct", "--steps", "100000",
	    "--seed", "3", "--schedule-out", path);
	cr_expect_eq(r.status, 1);
	cr_expect_not_null(strstr(r.err, "File exists"), "%s", r.err);
	result_free(&r);
	cr_assert_eq(stat(path, &sb), 0);

	/* a decision changed: the replay diverges, and says where */
	f = fopen(path, "r+b");
	cr_assert_not_null(f);
	fseek(f, 0, SEEK_END);
	off = ftell(f);
	fseek(f, off - 4 * 50, SEEK_SET);
	fwrite("\xff\xff\x00\x00", 1, 4, f);
	fclose(f);
	RUN(&r, "--scenario", "touch", "--sched", "pct", "--steps", "100000",
	    "--seed", "3", "--replay", path);
	cr_expect_eq(r.status, 1, "exit %d", r.status);
	cr_expect_not_null(strstr(r.err, "diverged at step"), "%s", r.err);
	result_free(&r);

	/* cut short: refused before boot */
	cr_assert_eq(truncate(path, sb.st_size - 6), 0);
	RUN(&r, "--scenario", "touch", "--sched", "pct", "--steps", "100000",
	    "--seed", "3", "--replay", path);
	cr_expect_eq(r.status, 1);
	cr_expect_not_null(strstr(r.err, "truncated or corrupt"), "%s", r.err);
	cr_expect_eq(count_lines(r.err), 1, "%s", r.err);
	result_free(&r);

	/* not a schedule at all */
	f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs("hello\n", f);
	fclose(f);
	RUN(&r, "--scenario", "touch", "--sched", "pct", "--replay", path);
	cr_expect_eq(r.status, 1);
	cr_expect_not_null(strstr(r.err, "not a uvmstress schedule"), "%s",
	    r.err);
	result_free(&r);
	unlink(path);
	free(path);
}

Test(uvmstress_sched, seeds_search_stops_at_the_first_failure)
{
	struct result r;

	RUN(&r, "--scenario", "touch", "--sched", "pos", "--steps", "20000",
	    "--seeds", "1-3");
	cr_expect_eq(r.status, 0, "exit %d; stderr:\n%s", r.status, r.err);
	cr_expect_not_null(strstr(r.out, "no failure in seeds 1-3"), "%s",
	    r.out);
	result_free(&r);
	RUN(&r, "--scenario", "touch", "--sched", "pos", "--inject", "panic",
	    "--seeds", "6-9");
	cr_expect_eq(r.status, 2, "exit %d", r.status);
	cr_expect_not_null(strstr(r.out, "seed 6 failed"), "%s", r.out);
	cr_expect_null(strstr(r.out, "seed 7"), "the search went on: %s",
	    r.out);
	cr_expect_not_null(strstr(r.err, "replay with: "), "%s", r.err);
	result_free(&r);
}

Test(uvmstress_sched, a_free_failure_says_how_to_search_deterministically)
{
	struct result r;

	RUN(&r, "--scenario", "touch", "--inject", "corrupt", "-t", "3",
	    "--seed", "2");
	cr_assert_eq(r.status, 2);
	cr_expect_not_null(strstr(r.err, "--sched pos --seeds "), "%s", r.err);
	result_free(&r);
}

static void
check_usage_error(const char *const *args, const char *word)
{
	struct result r;

	run(&r, args);
	cr_expect_eq(r.status, 1, "exit %d, want 1; stderr:\n%s", r.status,
	    r.err);
	cr_expect_eq(count_lines(r.err), 1, "stderr has %d lines:\n%s",
	    count_lines(r.err), r.err);
	cr_expect_not_null(strstr(r.err, word), "no '%s' in: %s", word, r.err);
	result_free(&r);
}

#define BAD(w, ...) \
	check_usage_error((const char *const[]){ "--scenario", "touch", \
	    __VA_ARGS__, NULL }, (w))

Test(uvmstress_sched, bad_schedule_options_are_one_line_exit_1)
{
	BAD("must be free, random, pct or pos", "--sched", "fifo");
	BAD("must be free, random, pct or pos", "--sched", "PCT");
	BAD("1..64", "--sched", "pct", "--pct-depth", "0");
	BAD("1..64", "--sched", "pct", "--pct-depth", "65");
	BAD("only --sched pct", "--sched", "pos", "--pct-depth", "2");
	BAD("chooses every step", "--sched", "random", "--chaos", "5");
	BAD("sees no race", "--sched", "pos", "--inject", "race");
	BAD("give --sched random|pct|pos", "--steps", "1000");
	BAD("give --sched random|pct|pos", "--schedule-out", "/tmp/x");
	BAD("1..", "--sched", "pos", "--steps", "0");
	BAD("seed range", "--seeds", "5-1");
	BAD("seed range", "--seeds", "x");
	BAD("seed range", "--seeds", "0-3");
	BAD("--seeds with --seed", "--seeds", "1-3", "--seed", "4");
	BAD("No such file", "--sched", "pos", "--replay", "/nonexistent/s");
}

/*
 * --shrink: the planted failure again, from fewer LWPs and pages and a
 * schedule cut at the failure; the replay line it prints fails the same
 * way at the step it says.
 */
Test(uvmstress_sched, shrink_finds_a_smaller_run_that_fails_the_same_way)
{
	char line[1024], *p, *args[48], kind[32];
	double step = 0, s;
	struct result r;
	int n = 0;

	RUN(&r, "--scenario", "touch", "--sched", "random", "--inject",
	    "corrupt", "--seed", "5", "--shrink");
	cr_assert_eq(r.status, 2, "exit %d; stdout:\n%s\nstderr:\n%s",
	    r.status, r.out, r.err);
	p = strstr(r.out, "the smallest fails with integrity at step ");
	cr_assert_not_null(p, "%s", r.out);
	step = strtod(p + strlen("the smallest fails with integrity at step "),
	    NULL);
	replay_line(r.out, line, sizeof(line));
	result_free(&r);
	cr_expect_not_null(strstr(line, "--lwps 1"), "%s", line);
	cr_expect_not_null(strstr(line, "--steps "), "%s", line);
	/* its words after the program's name, as the test's arguments */
	for (p = strtok(line, " "), p = strtok(NULL, " "); p != NULL &&
	    n < 44; p = strtok(NULL, " "))
		args[n++] = p;
	args[n++] = (char *)"--json";
	args[n++] = (char *)"-";
	args[n] = NULL;
	run(&r, (const char *const *)args);
	cr_assert_eq(r.status, 2, "the shrunk run: exit %d", r.status);
	cr_assert(json_str(r.out, "failures.0.kind", kind, sizeof(kind)));
	cr_assert_str_eq(kind, "integrity");
	cr_assert(json_num(r.out, "failures.0.step", &s));
	cr_assert_eq(s, step);
	result_free(&r);
}

/*
 * A lost wakeup the deterministic scheduler found (the mutant
 * aiodone-wakeup-of-the-pagedaemon-lost): under this schedule the
 * aiodone daemon's wakeup reached a pagedaemon in its pass, and with
 * every LWP asleep in uvm_wait the machine hung at the reserve.  The same
 * schedule reaches the same point with the fix, and must pass.
 */
Test(uvmstress_sched, the_aiodone_daemons_wakeup_of_the_pagedaemon_is_not_lost)
{
	struct result r;

	RUN(&r, "--scenario", "pressure", "--ram", "16M", "--sched", "pct",
	    "--steps", "1000000", "--seed", "9");
	cr_expect_eq(r.status, 0, "exit %d; stderr:\n%s", r.status, r.err);
	result_free(&r);
}
