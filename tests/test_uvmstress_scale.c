/*
 * tests/test_uvmstress_scale.c: uvmstress at its largest, and the host's
 * limits as host limits.
 *
 * --lwps 1024 (each LWP its own process and address space) runs and ends
 * near its -t; a limit of the host that the run can foresee (descriptors,
 * vm.max_map_count for the LWPs it will have) is exit 3 before the run,
 * with one line naming the limit, its value and what would fit.  (The
 * unforeseeable one, the host refusing a mapping mid-run, is exit 3 too:
 * tests/test_pmap.c.)
 *
 * Each test runs the binary (tests/stresstest.h).  The wall-time bound is
 * a correctness bound with slack for a loaded two-core machine, not a
 * benchmark (perf/bench_lwps.sh is that).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "stresstest.h"

#define SCALE_GRACE_S	10.0	/* -t plus this: the run went on too long */

/* local prototypes */
static void run_sh(struct result *res, const char *script,
    const char *const *args);
static int lines_with(const char *s, const char *word);

/*
 * run_sh: uvmstress with args, started by /bin/sh running script first
 * (the script ends with exec "$0" "$@": $0 is uvmstress).
 */
static void
run_sh(struct result *res, const char *script, const char *const *args)
{
	posix_spawn_file_actions_t fa;
	struct child c;
	char *argv[MAXARGS];
	int i;

	argv[0] = (char *)"/bin/sh";
	argv[1] = (char *)"-c";
	argv[2] = (char *)script;
	argv[3] = (char *)uvmstress_path();
	for (i = 0; args[i] != NULL; i++) {
		cr_assert_lt(i + 5, MAXARGS);
		argv[i + 4] = (char *)args[i];
	}
	argv[i + 4] = NULL;
	c.outfd = memfd_create("uvmstress-out", 0);
	c.errfd = memfd_create("uvmstress-err", 0);
	cr_assert(c.outfd >= 0 && c.errfd >= 0);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, c.outfd, STDOUT_FILENO);
	posix_spawn_file_actions_adddup2(&fa, c.errfd, STDERR_FILENO);
	cr_assert_eq(posix_spawn(&c.pid, argv[0], &fa, NULL, argv, environ),
	    0);
	posix_spawn_file_actions_destroy(&fa);
	run_wait(&c, res);
}

/* How many lines of s contain word. */
static int
lines_with(const char *s, const char *word)
{
	const char *p = s, *nl;
	int n = 0;

	while (*p != '\0') {
		nl = strchr(p, '\n');
		if (nl == NULL)
			nl = p + strlen(p);
		if (memmem(p, (size_t)(nl - p), word, strlen(word)) != NULL)
			n++;
		p = *nl != '\0' ? nl + 1 : nl;
	}
	return n;
}

/*
 * 1024 LWPs, each with its own process and address space, on 256 MiB (a
 * working set four times the RAM: it pages): the run passes and ends
 * near its -t.  Once the MMU's per-pmap budget let the process reach
 * vm.max_map_count (a panic, exit 2), and the workers that waited for a
 * CPU took seconds each to see the run stop.
 */
Test(uvmstress_scale, lwps_1024_pass_and_end_near_their_time,
    .timeout = 60)
{
	struct result r;
	double t0, wall;

	t0 = now_s();
	/* (-t 6: the set-up of 1024 workers takes ~3 s under ASan) */
	RUN(&r, "--scenario", "touch", "--lwps", "1024", "--ram", "256M", "-t",
	    "6", "--json", "-");
	wall = now_s() - t0;
	cr_assert_eq(r.status, 0, "exit %d; stderr:\n%.3000s", r.status,
	    r.err);
	cr_assert(json_valid(r.out), "the JSON report is not valid");
	cr_assert_null(strstr(r.err, "panic"));
	cr_assert_leq(wall, 6.0 + SCALE_GRACE_S, "-t 6 ran %.1f s", wall);
	result_free(&r);
}

/*
 * Too few descriptors (RLIMIT_NOFILE) for the RAM, the swap file and the
 * JSON file: exit 3 before boot, one line naming the limit, its value
 * and what would fit.
 */
Test(uvmstress_scale, a_descriptor_limit_is_exit_3_naming_it)
{
	struct result r;

	/* descriptors 0-2 only, 3 more numbers free below the limit */
	run_sh(&r, "for fd in 3 4 5 6 7 8 9; do eval \"exec $fd>&-\"; done; "
	    "ulimit -n 6 && exec \"$0\" \"$@\"", (const char *const[]){
	    "--lwps", "2", "--ram", "32M", "--swap", "32M", "-t", "1",
	    "--json", "/dev/null", NULL });
	cr_assert_eq(r.status, 3, "exit %d; stderr:\n%s", r.status, r.err);
	cr_assert_eq(lines_with(r.err, "RLIMIT_NOFILE is 6"), 1,
	    "stderr:\n%s", r.err);
	cr_assert_neq(strstr(r.err, "ulimit -n"), NULL, "what would fit");
	cr_assert_null(strstr(r.err, "panic"));
	cr_assert_null(strstr(r.err, "FAIL"));
	result_free(&r);
}

/*
 * vm.max_map_count too small for the LWPs the run will have (the MMU's
 * knob UVMSTRESS_MAX_MAP_COUNT makes it assume 4600): exit 3 at boot,
 * one line naming the limit and what fits, before any LWP starts.
 */
Test(uvmstress_scale, a_small_max_map_count_is_exit_3_before_the_run)
{
	struct result r;

	cr_assert_eq(setenv("UVMSTRESS_MAX_MAP_COUNT", "4600", 1), 0);
	RUN(&r, "--lwps", "64", "--ram", "32M", "-t", "1");
	unsetenv("UVMSTRESS_MAX_MAP_COUNT");
	cr_assert_eq(r.status, 3, "exit %d; stderr:\n%s", r.status, r.err);
	cr_assert_eq(lines_with(r.err, "vm.max_map_count is 4600"), 1,
	    "stderr:\n%s", r.err);
	cr_assert_neq(strstr(r.err, "LWPs"), NULL, "what would fit");
	cr_assert_null(strstr(r.err, "panic"));
	cr_assert_null(strstr(r.err, "FAIL"));
	cr_assert_null(strstr(r.out, "pass"));
	result_free(&r);
}
