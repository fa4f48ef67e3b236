/*
 * tests/test_uvmstress_fork.c: the fork scenario end to end (the
 * uvmstress binary), with each glue: processes fork, vfork, exec and exit
 * under paging; the uvmexp fork counters, copy-on-write faults, u-areas or
 * kernel stacks in the report; nothing wrong.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "stresstest.h"

static double
num(const struct result *r, const char *path)
{
	double v = -1;

	cr_assert(json_num(r->out, path, &v), "no %s in the JSON", path);
	return v;
}

/* What every fork run must show, whatever the glue. */
static void
check_fork_run(const struct result *r, const char *glue)
{
	char buf[32];

	cr_assert_eq(r->status, 0, "exit %d; stderr:\n%s", r->status, r->err);
	cr_assert(json_str(r->out, "scenario", buf, sizeof(buf)));
	cr_assert_str_eq(buf, "fork");
	cr_assert(json_str(r->out, "config.glue", buf, sizeof(buf)));
	cr_assert_str_eq(buf, glue);
	cr_assert_eq(num(r, "config.threads"), 2, "two LWPs a process");
	cr_expect_gt(num(r, "metrics.scenario.forks"), 0);
	cr_expect_gt(num(r, "metrics.scenario.vforks"), 0);
	cr_expect_gt(num(r, "metrics.scenario.execs"), 0);
	cr_expect_geq(num(r, "metrics.scenario.deepest_generation"), 2,
	    "no grandchild");
	cr_expect_gt(num(r, "metrics.scenario.pages_checked"), 0);
	cr_expect_gt(num(r, "metrics.scenario.vslock_rounds"), 0);
	cr_expect_gt(num(r, "metrics.scenario.refusals_checked"), 0);
	cr_expect_gt(num(r, "metrics.scenario.mlock_ops"), 0);
	/* NetBSD's fork1 counters, and copy-on-write */
	cr_expect_eq(num(r, "uvmexp.forks"), num(r, "metrics.scenario.forks") +
	    num(r, "metrics.scenario.vforks"));
	cr_expect_eq(num(r, "uvmexp.forks_ppwait"),
	    num(r, "metrics.scenario.vforks"));
	cr_expect_eq(num(r, "uvmexp.forks_sharevm"),
	    num(r, "metrics.scenario.vforks"));
	cr_expect_gt(num(r, "uvmexp.flt_acow"), 0, "no copy-on-write fault");
	cr_expect_gt(num(r, "uvmexp.fltamcopy"), 0);
	/* under paging */
	cr_expect_gt(num(r, "pagedaemon.pgswapout"), 0);
	cr_expect_gt(num(r, "pagedaemon.pgswapin"), 0);
	cr_expect_eq(num(r, "metrics.audit.violations"), 0);
	cr_expect_gt(num(r, "metrics.scenario.stopped_audits"), 0,
	    "no reference audit with the processes stopped");
	cr_expect_gt(num(r, "metrics.scenario.stopped_audit_checks"), 0);
}

Test(uvmstress_fork, netbsd_glue_forks_under_paging)
{
	struct result r;

	RUN(&r, "--scenario", "fork", "--fork-pct", "20", "-t", "6",
	    "--seed", "11", "--json", "-");
	check_fork_run(&r, "netbsd");
	cr_expect_gt(num(&r, "processes.uareas_allocated"), 0);
	cr_expect_eq(num(&r, "processes.kstacks_allocated"), 0);
	result_free(&r);
}

Test(uvmstress_fork, freebsd_glue_forks_under_paging)
{
	struct result r;

	RUN(&r, "--scenario", "fork", "--glue", "freebsd", "--fork-pct", "20",
	    "-t", "6", "--seed", "11", "--json", "-");
	check_fork_run(&r, "freebsd");
	cr_expect_gt(num(&r, "processes.kstacks_allocated"), 0);
	cr_expect_eq(num(&r, "processes.uareas_allocated"), 0);
	cr_expect_gt(num(&r, "processes.max_kstack_used"), 0,
	    "the clock's probe saw no kernel stack in use");
	result_free(&r);
}
