/*
 * tests/test_uvmstress.c: the uvmstress program, end to end.
 *
 * These tests run the uvmstress binary with run() (tests/stresstest.h)
 * and check the exit status, the one-line messages and the JSON report
 * (--json -, so stdout holds only the JSON; stresstest.h's validator
 * checks it is well-formed and finds values by path).  Runs are short:
 * 1-3 s, --ram 32M, --pages 64.
 *
 * The JSON writer (stress/json.c) is also tested directly.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "stress/json.h"
#include "stresstest.h"

TestSuite(uvmstress, .timeout = 120);

Test(uvmstress, default_run_passes)
{
	static const char *const keys[] = {
		"json_version", "tool", "version", "seed", "config", "host",
		"status", "failures", "uvmexp", "metrics", "replay",
		"config.scenario", "config.lwps", "config.ram",
		"config.scenario_options.pages", "host.available",
		"uvmexp.faults", "uvmexp.free", "uvmexp.flt_przero",
		"metrics.faults_per_s", "metrics.touches_per_s", "metrics.ops",
		"metrics.ops_per_s", "metrics.fault_latency_ns.p50",
		"metrics.fault_latency_ns.p90", "metrics.fault_latency_ns.p99",
		"metrics.fault_latency_ns.max", "metrics.mmu.peak",
		"metrics.mmu.budget", "metrics.mmu.evictions",
		"metrics.access_hash",
	};
	struct result r;
	char buf[64];
	double v, seed;
	size_t i;

	RUN(&r, "--scenario", "touch", "-t", "1", "--ram", "32M", "--pages", "64", "--json", "-");
	cr_assert_eq(r.status, 0, "exit %d; stderr:\n%s", r.status, r.err);
	cr_assert(json_valid(r.out), "not valid JSON:\n%s", r.out);
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		cr_assert_not_null(json_at(r.out, keys[i]), "no %s in\n%s",
		    keys[i], r.out);
	cr_assert(json_num(r.out, "json_version", &v) && v == 1);
	cr_assert(json_str(r.out, "tool", buf, sizeof(buf)));
	cr_assert_str_eq(buf, "uvmstress");
	cr_assert(json_str(r.out, "status", buf, sizeof(buf)));
	cr_assert_str_eq(buf, "pass");
	cr_assert_eq(*json_at(r.out, "failures"), '[');
	cr_assert_null(json_at(r.out, "failures.0"), "failures listed");
	cr_assert(json_num(r.out, "metrics.faults_per_s", &v) && v > 0,
	    "faults_per_s %f", v);
	cr_assert(json_num(r.out, "metrics.ops", &v) && v > 0);
	cr_assert(json_num(r.out, "metrics.fault_latency_ns.max", &v) && v > 0);
	/* the seed is printed at the start, and is the JSON's */
	cr_assert(json_num(r.out, "seed", &seed));
	snprintf(buf, sizeof(buf), "uvmstress: seed %.0f\n", seed);
	cr_assert_not_null(strstr(r.err, buf), "no '%s' in\n%s", buf, r.err);
	result_free(&r);
}

Test(uvmstress, list)
{
	struct result r;

	RUN(&r, "--list");
	cr_assert_eq(r.status, 0);
	cr_assert_not_null(strstr(r.out, "touch "));
	cr_assert_not_null(strstr(r.out, "segv "));
	cr_assert_not_null(strstr(r.out, "--pages"));
	cr_assert_not_null(strstr(r.out, "--pattern seq|random"));
	cr_assert_not_null(strstr(r.out, "pressure "));
	cr_assert_not_null(strstr(r.out, "--pattern seq|random|hotcold"));
	cr_assert_not_null(strstr(r.out, "--ws SIZE"));
	cr_assert_not_null(strstr(r.out, "--wired N"));
	cr_assert_str_empty(r.err);
	result_free(&r);
}

Test(uvmstress, help)
{
	struct result r;

	RUN(&r, "--help");
	cr_assert_eq(r.status, 0);
	cr_assert_not_null(strstr(r.out, "usage: uvmstress"));
	cr_assert_not_null(strstr(r.out, "--scenario"));
	cr_assert_not_null(strstr(r.out, "--inject"));
	cr_assert_not_null(strstr(r.out, "--swap SIZE"));
	cr_assert_not_null(strstr(r.out, "--swap-file PATH"));
	cr_assert_not_null(strstr(r.out, "--swap-io direct|buffered"));
	cr_assert_not_null(strstr(r.out, "--keep-swap"));
	cr_assert_not_null(strstr(r.out, "--fail-io RATE"));
	cr_assert_not_null(strstr(r.out, "--bufcache SIZE"));
	cr_assert_not_null(strstr(r.out, "--oom-is-failure"));
	cr_assert_not_null(strstr(r.out, "--mod-emulation content|trap"));
	cr_assert_not_null(strstr(r.out, "--mmu-close hole|reserve"));
	cr_assert_not_null(strstr(r.out, "--fault-ahead walk|advice"));
	cr_assert_not_null(strstr(r.out, "Exit status"));
	cr_assert_str_empty(r.err);
	result_free(&r);
	RUN(&r, "-h");
	cr_assert_eq(r.status, 0);
	result_free(&r);
}

Test(uvmstress, bad_input_is_one_line_and_exit_1)
{
	static const char *const bad[][6] = {
		{ "--scenario", "nope" },
		{ "--bogus" },
		{ "-x" },
		{ "extra-argument" },
		{ "--lwps", "-3" },
		{ "--lwps", "0" },
		{ "--lwps", "many" },
		{ "--lwps", "100000" },
		{ "--ncpu", "0" },
		{ "--ncpu", "65" },
		{ "--ram", "0" },
		{ "--ram", "64M1" },
		{ "--ram", "1000001" },
		{ "--map-budget", "10" },
		{ "--map-budget", "lots" },
		{ "--mod-emulation", "sometimes" },
		{ "--mmu-close", "never" },
		{ "--fault-ahead", "always" },
		{ "-t", "5x" },
		{ "-t", "8d" },
		{ "--timeout", "-1" },
		{ "--ops", "-5" },
		{ "--ops", "1e6" },
		{ "--seed", "x" },
		{ "--seed", "0" },
		{ "--pages", "0" },
		{ "--pages", "999999999" },
		{ "--pattern", "zigzag" },
		{ "--scenario", "segv", "--remap" },
		{ "--witness", "maybe" },
		{ "--watchdog", "-1" },
		{ "--chaos", "1001" },
		{ "--inject", "fire" },
		{ "--lwps" },
		{ "--job", "/nonexistent/job" },
		{ "--json", "/nonexistent/dir/out.json", "-t", "1" },
		{ "--remap=perhaps" },
		{ "--swap" },
		{ "--swap", "1X" },
		{ "--swap", "100001" },
		{ "--swap-io", "fast" },
		{ "--fail-io", "0.0005" },
		{ "--fail-io", "1001" },
		{ "--fail-io", "-1" },
		{ "--fail-io", "1%x" },
		{ "--bufcache", "3" },
		{ "--swap", "0", "--fail-io", "1%" },
		{ "--scenario", "pressure", "--pattern", "zigzag" },
		{ "--scenario", "pressure", "--wired", "-1" },
		{ "--scenario", "touch", "--ws", "64M" },
		{ "--mix", "touch=x" },
		{ "--mix", "touch=4,fork=1" },
		{ "--mix", "touch=0,map=0" },
		{ "--mix", "touch=1001" },
		{ "--mix", "touch=4," },
		{ "--mix", "touch" },
		{ "--mix", "" },
		{ "--threads", "0" },
		{ "--threads", "65" },
		{ "--fail-alloc", "21%" },
		{ "--fail-alloc", "x" },
		{ "--scenario", "pressure", "--lose-io", "1%" },
		{ "--lose-io", "21%" },
		{ "--swap", "0", "--lose-io", "1%" },
		{ "--glue", "linux" },
		{ "--scenario", "fork", "--depth", "9" },
		{ "--scenario", "fork", "--threads", "9" },
		{ "--scenario", "fork", "--fork-pct", "90", "--vslock-pct", "20" },
		{ "--scenario", "fork", "--vslock-pages", "1000", "--ws", "1M" },
		{ "--scenario", "fork", "--cow-bench", "1M" },
		{ "--scenario", "fork", "--cow-bench", "1M", "--depth", "2" },
		{ "--scenario", "fork", "--inject", "corrupt" },
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *args[8] = { NULL };
		struct result r;
		int k;

		for (k = 0; k < 6 && bad[i][k] != NULL; k++)
			args[k] = bad[i][k];
		run(&r, args);
		cr_expect_eq(r.status, 1, "%s: exit %d, want 1", bad[i][0],
		    r.status);
		cr_expect_eq(count_lines(r.err), 1, "%s %s: stderr has %d "
		    "lines:\n%s", bad[i][0], bad[i][1] ? bad[i][1] : "",
		    count_lines(r.err), r.err);
		if (strcmp(bad[i][0], "--json") != 0)
			cr_expect_str_empty(r.out, "%s: stdout: %s", bad[i][0],
			    r.out);
		result_free(&r);
	}
}

Test(uvmstress, ram_beyond_the_host_is_exit_3)
{
	struct result r;

	RUN(&r, "--ram", "64T", "-t", "1");
	cr_assert_eq(r.status, 3, "exit %d; stderr:\n%s", r.status, r.err);
	cr_assert_eq(count_lines(r.err), 1, "stderr:\n%s", r.err);
	result_free(&r);
}

Test(uvmstress, working_set_beyond_ram_without_swap_is_exit_1)
{
	struct result r;

	RUN(&r, "--scenario", "touch", "--ram", "32M", "--lwps", "4", "--pages", "4096", "-t", "1",
	    "--swap", "0");
	cr_assert_eq(r.status, 1, "exit %d; stderr:\n%s", r.status, r.err);
	cr_assert_eq(count_lines(r.err), 1, "stderr:\n%s", r.err);
	cr_assert_not_null(strstr(r.err, "working set"));
	cr_assert_str_empty(r.out);
	result_free(&r);
}

Test(uvmstress, inject_corrupt_fails_naming_the_page)
{
	struct result r;
	char va[64], msg[1024], kind[64], seed[64], want[128];
	double s;

	RUN(&r, "--scenario", "touch", "--inject", "corrupt", "-t", "3", "--ram", "32M", "--pages",
	    "64", "--json", "-");
	cr_assert_eq(r.status, 2, "exit %d; stderr:\n%s", r.status, r.err);
	cr_assert(json_valid(r.out), "not valid JSON:\n%s", r.out);
	cr_assert(json_str(r.out, "status", kind, sizeof(kind)));
	cr_assert_str_eq(kind, "fail");
	cr_assert(json_str(r.out, "metrics.injected.0.va", va, sizeof(va)),
	    "no injection in\n%s", r.out);
	cr_assert(json_str(r.out, "failures.0.kind", kind, sizeof(kind)));
	cr_assert_str_eq(kind, "integrity");
	cr_assert(json_str(r.out, "failures.0.message", msg, sizeof(msg)));
	snprintf(want, sizeof(want), "va %s ", va);
	cr_assert_not_null(strstr(msg, want), "'%s' does not name %s", msg, va);
	cr_assert_not_null(json_at(r.out, "failures.0.replay"));
	/* the replay command is printed, with the seed fixed */
	cr_assert(json_num(r.out, "seed", &s));
	snprintf(seed, sizeof(seed), "--seed %.0f", s);
	cr_assert_not_null(strstr(r.err, "replay with:"), "stderr:\n%s", r.err);
	cr_assert_not_null(strstr(r.err, seed), "stderr:\n%s", r.err);
	cr_assert_not_null(strstr(r.err, "--inject corrupt"));
	result_free(&r);
}

Test(uvmstress, segv_scenario_passes)
{
	struct result r;
	double due, got, guard;

	RUN(&r, "--scenario", "segv", "-t", "1", "--ram", "32M", "--json", "-");
	cr_assert_eq(r.status, 0, "exit %d; stderr:\n%s", r.status, r.err);
	cr_assert(json_valid(r.out));
	cr_assert(json_num(r.out, "metrics.scenario.segv_expected", &due));
	cr_assert(json_num(r.out, "metrics.scenario.segv_delivered", &got));
	cr_assert(json_num(r.out, "metrics.scenario.probes_guard", &guard));
	cr_assert_gt(due, 0);
	cr_assert_eq(due, got);
	cr_assert_gt(guard, 0);
	result_free(&r);
}

Test(uvmstress, job_file_and_command_line_override)
{
	char path[] = "/tmp/uvmstress-job-XXXXXX";
	static const char job[] =
	    "# a job file, stress-ng style\n"
	    "scenario touch\n"
	    "lwps 2          # two workers\n"
	    "pages 32\n"
	    "ram 32M\n"
	    "ops 1000\n"
	    "--pattern seq\n"
	    "\n";
	struct result r;
	char buf[64];
	double v;
	int fd;

	fd = mkstemp(path);
	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, job, sizeof(job) - 1), (ssize_t)sizeof(job) - 1);
	close(fd);
	RUN(&r, "--job", path, "--ops", "600", "--json", "-");
	cr_assert_eq(r.status, 0, "exit %d; stderr:\n%s", r.status, r.err);
	cr_assert(json_num(r.out, "config.lwps", &v) && v == 2);
	cr_assert(json_num(r.out, "config.ram", &v) && v == 32 << 20);
	cr_assert(json_num(r.out, "config.ops", &v) && v == 600,
	    "the command line overrides the job file");
	cr_assert(json_num(r.out, "metrics.ops", &v) && v == 600);
	cr_assert(json_str(r.out, "config.scenario_options.pattern", buf,
	    sizeof(buf)));
	cr_assert_str_eq(buf, "seq");
	result_free(&r);

	/* a bad line is one line on stderr that names file and line */
	fd = open(path, O_WRONLY | O_APPEND);
	cr_assert_eq(write(fd, "lwps lots\n", 10), 10);
	close(fd);
	RUN(&r, "--job", path);
	cr_assert_eq(r.status, 1);
	cr_assert_eq(count_lines(r.err), 1, "stderr:\n%s", r.err);
	cr_assert_not_null(strstr(r.err, ":9:"), "stderr:\n%s", r.err);
	result_free(&r);

	/* a scenario option with no value: named, not "(null)" */
	fd = open(path, O_WRONLY | O_TRUNC);
	cr_assert_eq(write(fd, "scenario touch\npages\n", 21), 21);
	close(fd);
	RUN(&r, "--job", path);
	cr_assert_eq(r.status, 1);
	cr_assert_eq(count_lines(r.err), 1, "stderr:\n%s", r.err);
	cr_assert_not_null(strstr(r.err, ":2: pages: needs a value"), "stderr:\n%s",
	    r.err);
	cr_assert_null(strstr(r.err, "(null)"), "stderr:\n%s", r.err);
	result_free(&r);
	unlink(path);
}

Test(uvmstress, ops_stops_after_n_ops)
{
	struct result r;
	double v;

	RUN(&r, "--scenario", "touch", "--ops", "5000", "--lwps", "3", "--ram", "32M", "--pages", "64",
	    "--json", "-");
	cr_assert_eq(r.status, 0, "exit %d; stderr:\n%s", r.status, r.err);
	cr_assert(json_num(r.out, "metrics.ops", &v));
	cr_assert_eq(v, 5000);
	result_free(&r);
}

Test(uvmstress, same_seed_same_access_sequence)
{
	static const char *const lwps[] = { "1", "3" };
	char h[3][64];
	struct result r;
	size_t i;
	int k;

	for (i = 0; i < 2; i++) {
		for (k = 0; k < 3; k++) {
			RUN(&r, "--scenario", "touch", "--seed", k < 2 ? "7" : "8", "--lwps", lwps[i],
			    "--ops", "20000", "--ram", "32M", "--pages", "64",
			    "--json", "-");
			cr_assert_eq(r.status, 0, "exit %d; stderr:\n%s",
			    r.status, r.err);
			cr_assert(json_str(r.out, "metrics.access_hash", h[k],
			    sizeof(h[k])));
			result_free(&r);
		}
		cr_assert_str_eq(h[0], h[1], "--lwps %s: seed 7 twice gave "
		    "%s and %s", lwps[i], h[0], h[1]);
		cr_assert_str_neq(h[0], h[2], "seeds 7 and 8 gave the same "
		    "sequence");
	}
}

Test(uvmstress, remap_measures_zero_fill_faults)
{
	struct result r;
	double v, przero;

	RUN(&r, "--scenario", "touch", "--remap", "-t", "1", "--lwps", "2", "--ram", "32M", "--pages",
	    "64", "--json", "-");
	cr_assert_eq(r.status, 0, "exit %d; stderr:\n%s", r.status, r.err);
	cr_assert(json_num(r.out, "metrics.faults_per_s", &v) && v > 0);
	cr_assert(json_num(r.out, "metrics.scenario.regions_mapped", &v) &&
	    v > 1);
	cr_assert(json_num(r.out, "uvmexp.flt_przero", &przero) && przero > 0);
	result_free(&r);
}

Test(uvmstress, panic_is_exit_2_with_the_replay_line)
{
	struct result r;
	char buf[128];

	RUN(&r, "--scenario", "touch", "--inject", "panic", "-t", "5", "--ram", "32M", "--pages", "64",
	    "--json", "-");
	cr_assert_eq(r.status, 2, "exit %d; stderr:\n%s", r.status, r.err);
	cr_assert(json_valid(r.out), "not valid JSON:\n%s", r.out);
	cr_assert(json_str(r.out, "status", buf, sizeof(buf)));
	cr_assert_str_eq(buf, "fail");
	cr_assert(json_str(r.out, "failures.0.kind", buf, sizeof(buf)));
	cr_assert_str_eq(buf, "panic");
	cr_assert_not_null(strstr(r.err, "panic: "), "stderr:\n%s", r.err);
	cr_assert_not_null(strstr(r.err, "replay with: "), "stderr:\n%s", r.err);
	result_free(&r);
}

Test(uvmstress, hang_is_exit_2)
{
	struct result r;
	char buf[128];

	RUN(&r, "--scenario", "touch", "--inject", "hang", "--watchdog", "1", "-t", "20", "--lwps",
	    "2", "--ram", "32M", "--pages", "64", "--json", "-");
	cr_assert_eq(r.status, 2, "exit %d; stderr:\n%s", r.status, r.err);
	cr_assert(json_valid(r.out), "not valid JSON:\n%s", r.out);
	cr_assert(json_str(r.out, "failures.0.kind", buf, sizeof(buf)));
	cr_assert_str_eq(buf, "hang");
	cr_assert_not_null(strstr(r.err, "watchdog: no progress"));
	cr_assert_not_null(strstr(r.err, "replay with: "));
	result_free(&r);
}

/*
 * Reclaim: swap, the pagedaemon, out of swap, disk errors.
 */

/* A working set of 3x RAM: swapped out and in, every touch checked. */
Test(uvmstress, pressure_reclaims_and_checks_every_touch)
{
	static const char *const keys[] = {
		"pagedaemon.running", "pagedaemon.pdwoke", "pagedaemon.pdrevs",
		"pagedaemon.pdswout", "pagedaemon.pdfreed", "pagedaemon.pdscans",
		"pagedaemon.pdanscan", "pagedaemon.pdobscan",
		"pagedaemon.pdreact", "pagedaemon.pdbusy",
		"pagedaemon.pdpageouts", "pagedaemon.pdpending",
		"pagedaemon.pddeact", "pagedaemon.paging",
		"pagedaemon.pgswapout", "pagedaemon.pgswapin",
		"pagedaemon.swpginuse", "pagedaemon.swpgonly",
		"pagedaemon.swpages", "pagedaemon.freemin",
		"pagedaemon.freetarg", "pagedaemon.inactarg",
		"swap.attached", "swap.file", "swap.disk.reads",
		"swap.disk.writes", "swap.disk.pages_read",
		"swap.disk.pages_written", "swap.disk.errors",
		"swap.disk.injected", "swap.disk.corrupt", "swap.disk.busy_s",
		"swap.disk.queue_max", "swap.disk.plugged",
		"swap.disk.direct", "config.swap",
		"config.swap_io", "config.fail_io_permille",
		"metrics.oom_kills", "metrics.time_breakdown.fault_s",
		"metrics.time_breakdown.fault_swapin_read_s",
		"metrics.time_breakdown.fault_sleep_s",
		"metrics.time_breakdown.fault_memory_wait_s",
		"metrics.time_breakdown.fault_lock_wait_s",
		"metrics.time_breakdown.user_s",
		"metrics.time_breakdown.swap_disk_busy_s",
		"metrics.time_breakdown.pagedaemon_busy_s",
		"metrics.time_breakdown.pagedaemon_host_mmu_s",
		"metrics.time_breakdown.fault_host_mmu_s",
		"metrics.time_breakdown.pdscans",
		"metrics.time_breakdown.lock_waits",
		"metrics.time_breakdown.lock_wait_by_class",
		"metrics.time_breakdown.largest",
		"metrics.scenario.fill_pages", "metrics.scenario.wired_pages",
	};
	struct result r;
	char buf[128];
	double v, ws, busy, cut;
	size_t i;

	RUN(&r, "--scenario", "pressure", "--ram", "16M", "--ws", "48M", "-t",
	    "2", "--lwps", "2", "--watchdog", "20", "--json", "-");
	cr_assert_eq(r.status, 0, "exit %d; stderr:\n%s", r.status, r.err);
	cr_assert(json_valid(r.out), "not valid JSON:\n%s", r.out);
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		cr_assert_not_null(json_at(r.out, keys[i]), "no %s in\n%s",
		    keys[i], r.out);
	cr_assert(json_num(r.out, "metrics.touches_per_s", &v) && v > 0);
	cr_assert(json_num(r.out, "uvmexp.pgswapout", &v) && v > 0,
	    "nothing swapped out");
	cr_assert(json_num(r.out, "uvmexp.pgswapin", &v) && v > 0,
	    "nothing swapped in");
	cr_assert(json_num(r.out, "pagedaemon.pdscans", &v) && v > 0);
	cr_assert(json_num(r.out, "swap.disk.plugged", &v) && v > 0,
	    "the pagedaemon's pageouts were not plugged");
	cr_assert(json_num(r.out, "metrics.oom_kills", &v) && v == 0);
	cr_assert(json_num(r.out, "metrics.time_breakdown.fault_s", &v) &&
	    v > 0);
	/* the host MMU calls, by who made them: within their busy time */
	cr_assert(json_num(r.out, "metrics.time_breakdown.pagedaemon_busy_s",
	    &busy));
	cr_assert(json_num(r.out, "metrics.time_breakdown.pagedaemon_host_mmu_s",
	    &v) && v > 0 && v <= busy + 0.01, "pagedaemon: %f s of MMU calls "
	    "in %f s busy", v, busy);
	cr_assert(json_num(r.out, "metrics.time_breakdown.fault_s", &busy));
	cr_assert(json_num(r.out, "metrics.time_breakdown.fault_host_mmu_s",
	    &v) && v > 0 && v <= busy + 0.01, "workers: %f s of MMU calls in "
	    "%f s of faults", v, busy);
	cr_assert(json_num(r.out, "metrics.scenario.ws_pages", &ws) &&
	    ws == 48 << 8);
	cr_assert(json_num(r.out, "metrics.scenario.fill_pages", &v) &&
	    v >= ws, "fill %f of %f pages", v, ws);
	/* the final sweep rechecks all of it, unless the time cut it short */
	cr_assert(json_num(r.out, "phases.final_checks_cut", &cut));
	cr_assert(json_num(r.out, "metrics.scenario.final_sweep_pages", &v) &&
	    (cut > 0 ? v > 0 : v >= ws), "swept %.0f of %.0f pages (%.0f "
	    "LWPs cut)", v, ws, cut);
	/* the default swap: 4x the working set (and the wired pages) */
	cr_assert(json_num(r.out, "config.swap", &v) && v >= 4.0 * (48 << 20) &&
	    v < 4.0 * (49 << 20), "swap %f", v);
	cr_assert(json_num(r.out, "swap.inuse_end", &v) && v == 0);
	cr_assert(json_str(r.out, "status", buf, sizeof(buf)));
	cr_assert_str_eq(buf, "pass");
	result_free(&r);
}

/*
 * Both ways of telling a page modified keep every byte under pressure;
 * by content, the swapped-in pages are modified without a trap.
 */
Test(uvmstress, pressure_by_content_and_by_trap)
{
	struct result r;
	char buf[64];
	double v;

	RUN(&r, "--scenario", "pressure", "--ram", "16M", "--ws", "48M", "-t",
	    "3", "--lwps", "2", "--mod-emulation", "trap", "--json", "-");
	cr_assert_eq(r.status, 0, "exit %d; stderr:\n%s", r.status, r.err);
	cr_assert(json_str(r.out, "metrics.mmu.mod_emulation", buf,
	    sizeof(buf)));
	cr_assert_str_eq(buf, "trap");
	cr_assert(json_str(r.out, "config.mod_emulation", buf, sizeof(buf)));
	cr_assert_str_eq(buf, "trap");
	cr_assert(json_num(r.out, "metrics.mmu.baselines", &v) && v == 0);
	cr_assert(json_num(r.out, "metrics.mmu.content_checks", &v) && v == 0);
	cr_assert(json_num(r.out, "metrics.mmu.mprotect", &v) && v > 0,
	    "first stores trap and open the mapping");
	cr_assert(json_num(r.out, "uvmexp.pgswapin", &v) && v > 0);
	result_free(&r);

	RUN(&r, "--scenario", "pressure", "--ram", "16M", "--ws", "48M", "-t",
	    "3", "--lwps", "2", "--json", "-");
	cr_assert_eq(r.status, 0, "exit %d; stderr:\n%s", r.status, r.err);
	cr_assert(json_str(r.out, "metrics.mmu.mod_emulation", buf,
	    sizeof(buf)));
	cr_assert_str_eq(buf, "content");
	cr_assert(json_num(r.out, "metrics.mmu.baselines", &v) && v > 0);
	cr_assert(json_num(r.out, "metrics.mmu.content_modified", &v) && v > 0,
	    "the pagedaemon found touched pages modified by content");
	cr_assert(json_num(r.out, "uvmexp.pgswapin", &v) && v > 0);
	result_free(&r);
}

/*
 * Both ways of closing a host mapping keep every byte under pressure: by
 * default the windows are placed and closes leave holes; with --mmu-close
 * reserve they re-reserve.  (The second run also takes OpenBSD's
 * fault-ahead, --fault-ahead advice.)
 */
Test(uvmstress, pressure_with_holes_and_with_reserved_closes)
{
	static const struct {
		const char	*close, *ahead;	/* NULL: the default */
		const char	*want_close, *want_ahead;
		double		holes, reserved;
	} c[] = {
		{ "reserve", "advice", "reserve", "advice", 0, 3 },
		{ NULL, NULL, "hole", "walk", 3, 0 },	/* kernel + 2 LWPs */
	};
	struct result r;
	char buf[64];
	double v;
	size_t i;

	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		if (c[i].close != NULL)
			RUN(&r, "--scenario", "pressure", "--ram", "16M", "--ws",
			    "48M", "-t", "3", "--lwps", "2", "--mmu-close",
			    c[i].close, "--fault-ahead", c[i].ahead, "--json",
			    "-");
		else
			RUN(&r, "--scenario", "pressure", "--ram", "16M", "--ws",
			    "48M", "-t", "3", "--lwps", "2", "--json", "-");
		cr_assert_eq(r.status, 0, "exit %d; stderr:\n%s", r.status,
		    r.err);
		cr_assert(json_str(r.out, "config.mmu_close", buf,
		    sizeof(buf)));
		cr_assert_str_eq(buf, c[i].want_close);
		cr_assert(json_str(r.out, "config.fault_ahead", buf,
		    sizeof(buf)));
		cr_assert_str_eq(buf, c[i].want_ahead);
		cr_assert(json_num(r.out, "metrics.mmu.windows_with_holes",
		    &v) && v == c[i].holes, "%g windows with holes", v);
		cr_assert(json_num(r.out, "metrics.mmu.windows_reserved", &v) &&
		    v == c[i].reserved, "%g windows reserved", v);
		cr_assert(json_num(r.out, "uvmexp.pgswapin", &v) && v > 0);
		result_free(&r);
	}
	/* the text report says it too */
	RUN(&r, "--scenario", "pressure", "--ram", "16M", "--ws", "48M", "-t",
	    "3", "--lwps", "2");
	cr_assert_eq(r.status, 0, "exit %d; stderr:\n%s", r.status, r.err);
	cr_assert_not_null(strstr(r.out, "closes make holes in 3 windows, "
	    "re-reserve in 0"), "%s", r.out);
	result_free(&r);
}

/* touch with a working set beyond RAM gets swap by default. */
Test(uvmstress, touch_beyond_ram_gets_swap)
{
	struct result r;
	double v;

	RUN(&r, "--scenario", "touch", "--ram", "16M", "--lwps", "3", "--pages", "2048", "-t", "2",
	    "--watchdog", "20", "--json", "-");
	cr_assert_eq(r.status, 0, "exit %d; stderr:\n%s", r.status, r.err);
	cr_assert(json_num(r.out, "config.swap", &v) && v > 0);
	cr_assert(json_num(r.out, "uvmexp.pgswapout", &v) && v > 0);
	result_free(&r);
}

/* --fail-io: the disk fails 2% of transfers; nothing may be lost. */
Test(uvmstress, fail_io_loses_nothing)
{
	struct result r;
	char buf[64];
	double v;

	RUN(&r, "--scenario", "pressure", "--ram", "16M", "--ws", "40M", "-t",
	    "2", "--lwps", "2", "--fail-io", "2%", "--watchdog", "20",
	    "--json", "-");
	cr_assert_eq(r.status, 0, "exit %d; stderr:\n%s", r.status, r.err);
	cr_assert(json_str(r.out, "status", buf, sizeof(buf)));
	cr_assert_str_eq(buf, "pass");
	cr_assert(json_num(r.out, "config.fail_io_permille", &v) && v == 20);
	cr_assert(json_num(r.out, "swap.disk.injected", &v) && v > 0,
	    "no error injected");
	cr_assert(json_num(r.out, "swap.disk.errors", &v) && v > 0);
	result_free(&r);
}

/*
 * Out of swap: the VM refuses the fault with ENOMEM, the victim's
 * process is killed with UVM's message, and the run goes on.  Which
 * workers die depends on the interleaving (two faulting at once when
 * swap runs out may both be refused): if every one of them died before
 * its first operation, the run tested nothing and must say so ("no-work",
 * exit 4); otherwise it passes.
 */
Test(uvmstress, out_of_swap_kills_a_victim_and_the_run_goes_on)
{
	struct result r;
	char buf[64];
	double v, ops;

	RUN(&r, "--scenario", "pressure", "--ram", "16M", "--ws", "64M",
	    "--swap", "8M", "--lwps", "3", "-t", "2", "--watchdog", "20",
	    "--json", "-");
	cr_assert(json_num(r.out, "metrics.ops", &ops), "stderr:\n%s", r.err);
	cr_assert(json_str(r.out, "status", buf, sizeof(buf)));
	if (ops > 0) {
		cr_assert_eq(r.status, 0, "exit %d; stderr:\n%s", r.status,
		    r.err);
		cr_assert_str_eq(buf, "pass");
	} else {
		cr_assert_eq(r.status, 4, "exit %d; stderr:\n%s", r.status,
		    r.err);
		cr_assert_str_eq(buf, "no-work");
	}
	cr_assert(json_num(r.out, "metrics.oom_kills", &v) && v > 0,
	    "no kill; stderr:\n%s", r.err);
	cr_assert_not_null(strstr(r.err, "out of swap: killing pid "),
	    "stderr:\n%s", r.err);
	cr_assert(json_num(r.out, "swap.inuse_end", &v) && v == 0);
	result_free(&r);

	/* ... and with --oom-is-failure the kill fails the run */
	RUN(&r, "--scenario", "pressure", "--ram", "16M", "--ws", "64M",
	    "--swap", "8M", "--lwps", "3", "-t", "2", "--watchdog", "20",
	    "--oom-is-failure", "--json", "-");
	cr_assert_eq(r.status, 2, "exit %d; stderr:\n%s", r.status, r.err);
	cr_assert(json_str(r.out, "failures.0.kind", buf, sizeof(buf)));
	cr_assert_str_eq(buf, "out-of-swap");
	result_free(&r);
}

/* --swap-file and --keep-swap: the file is where asked, kept or not. */
Test(uvmstress, swap_file_is_removed_unless_kept)
{
	char dir[] = "/tmp/uvmstress-swapdir-XXXXXX", path[128];
	struct result r;
	struct stat st;

	cr_assert_not_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/swap", dir);
	RUN(&r, "--scenario", "pressure", "--ram", "16M", "--ws", "20M",
	    "--swap", "64M", "--swap-file", path, "--swap-io", "buffered",
	    "-t", "3", "--lwps", "1", "--json", "-");
	cr_assert_eq(r.status, 0, "exit %d; stderr:\n%s", r.status, r.err);
	cr_assert_neq(stat(path, &st), 0, "%s is still there", path);
	result_free(&r);
	RUN(&r, "--scenario", "pressure", "--ram", "16M", "--ws", "20M",
	    "--swap", "64M", "--swap-file", path, "--keep-swap", "-t", "3",
	    "--lwps", "1", "--json", "-");
	cr_assert_eq(r.status, 0, "exit %d; stderr:\n%s", r.status, r.err);
	cr_assert_eq(stat(path, &st), 0, "%s was not kept", path);
	cr_assert_eq(st.st_size, (64 << 20) + 4096, "64M and the label page");
	cr_assert_not_null(strstr(r.err, "swap file kept: "), "stderr:\n%s",
	    r.err);
	unlink(path);
	rmdir(dir);
	result_free(&r);
}

/*
 * A swap file the host refuses: one line, exit 3.  (A path that exists
 * and is not ours is exit 1: tests/test_uvmstress_files.c.)
 */
Test(uvmstress, unusable_swap_file_is_exit_3)
{
	static const char *const paths[] = {
		"/nonexistent-dir/swap",	/* refused before boot */
		"/proc",	/* a directory no file can be made in: the disk */
	};
	struct result r;
	size_t i;

	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		RUN(&r, "--scenario", "pressure", "--ram", "16M", "--ws", "20M",
		    "--swap", "64M", "--swap-file", paths[i], "-t", "3");
		cr_expect_eq(r.status, 3, "%s: exit %d; stderr:\n%s", paths[i],
		    r.status, r.err);
		cr_expect_eq(count_lines(r.err), 1, "%s: stderr:\n%s", paths[i],
		    r.err);
		cr_expect_not_null(strstr(r.err, paths[i]), "stderr:\n%s", r.err);
		result_free(&r);
	}
}

/* Sizes that cannot work: one line, exit 1, before anything runs. */
Test(uvmstress, bad_swap_and_working_set_sizes_are_exit_1)
{
	static const char *const bad[][8] = {
		/* swap smaller than a cluster */
		{ "--scenario", "pressure", "--swap", "32K" },
		{ "--scenario", "pressure", "--swap", "60K" },
		/* absurd working sets */
		{ "--scenario", "pressure", "--ws", "2T" },
		{ "--scenario", "pressure", "--ws", "100G", "--lwps", "64" },
		{ "--scenario", "pressure", "--ws", "4G", "--lwps", "1" },
		{ "--scenario", "pressure", "--ws", "8K", "--lwps", "4" },
		{ "--pages", "1000000", "--lwps", "64", "--ram", "16M" },
		/* more buffer cache than half the RAM */
		{ "--bufcache", "64M", "--ram", "64M" },
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *args[10] = { NULL };
		struct result r;
		int k;

		for (k = 0; k < 8 && bad[i][k] != NULL; k++)
			args[k] = bad[i][k];
		run(&r, args);
		cr_expect_eq(r.status, 1, "%s %s: exit %d, want 1; stderr:\n%s",
		    bad[i][2], bad[i][3], r.status, r.err);
		cr_expect_eq(count_lines(r.err), 1, "%s %s: stderr:\n%s",
		    bad[i][2], bad[i][3], r.err);
		cr_expect_str_empty(r.out, "stdout: %s", r.out);
		result_free(&r);
	}
}

/* The JSON writer, directly. */
Test(uvmstress, json_writer)
{
	struct json j;
	char *buf = NULL, esc[64];
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	cr_assert_not_null(f);
	json_init(&j, f);
	json_object_begin(&j, NULL);
	json_string(&j, "ctl", "a\"b\\c\n\t\x01");
	json_string(&j, "utf8", "caf\xc3\xa9");
	json_string(&j, "bad", "x\xff\xc3(y");
	json_string(&j, "null", NULL);
	json_u64(&j, "big", UINT64_MAX);
	json_i64(&j, "neg", -5);
	json_double(&j, "half", 0.5);
	json_double(&j, "nan", NAN);
	json_double(&j, "inf", INFINITY);
	json_double(&j, "three", 3.0);
	json_bool(&j, "yes", true);
	json_array_begin(&j, "empty");
	json_array_end(&j);
	json_array_begin(&j, "list");
	json_u64(&j, NULL, 1);
	json_object_begin(&j, NULL);
	json_null(&j, "n");
	json_object_end(&j);
	json_array_end(&j);
	json_raw(&j, "raw", "{\"a\":[1,2]}");
	json_object_end(&j);
	cr_assert_eq(json_finish(&j), 0);
	fclose(f);

	cr_assert(json_valid(buf), "not valid:\n%s", buf);
	cr_assert_not_null(strstr(buf, "\"a\\\"b\\\\c\\n\\t\\u0001\""), "%s", buf);
	cr_assert_not_null(strstr(buf, "\"caf\xc3\xa9\""));
	cr_assert_not_null(strstr(buf, "\"x\\ufffd\\ufffd(y\""), "%s", buf);
	cr_assert_not_null(strstr(buf, "\"big\": 18446744073709551615"));
	cr_assert_not_null(strstr(buf, "\"half\": 0.5"));
	cr_assert_not_null(strstr(buf, "\"nan\": null"));
	cr_assert_not_null(strstr(buf, "\"inf\": null"));
	cr_assert_not_null(strstr(buf, "\"three\": 3,"));
	cr_assert_not_null(strstr(buf, "\"empty\": []"));
	cr_assert_not_null(json_at(buf, "list.1.n"));
	cr_assert_not_null(json_at(buf, "raw.a.1"));
	free(buf);

	/* misuse is reported: a key inside an array, unclosed objects */
	f = open_memstream(&buf, &len);
	json_init(&j, f);
	json_array_begin(&j, NULL);
	json_u64(&j, "key", 1);
	json_array_end(&j);
	cr_assert_eq(json_finish(&j), EINVAL);
	fclose(f);
	free(buf);
	f = open_memstream(&buf, &len);
	json_init(&j, f);
	json_object_begin(&j, NULL);
	cr_assert_eq(json_finish(&j), EINVAL);
	fclose(f);
	free(buf);

	/* json_escape truncates at a character boundary */
	json_escape(esc, 8, "ab\ncd");
	cr_assert_str_eq(esc, "ab\\ncd");
	json_escape(esc, 4, "a\"b");
	cr_assert_str_eq(esc, "a\\\"");
}
