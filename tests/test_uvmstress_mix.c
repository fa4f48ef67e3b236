/*
 * tests/test_uvmstress_mix.c: the mix scenario end to end (the uvmstress
 * binary): what it runs, its defaults, its weights, and that the oracles
 * see what goes wrong in it.
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

/*
 * The default job: two processes of four LWPs; every operation of the
 * mix done; the daemons busy; injected I/O errors; shared pages touched
 * by several LWPs; promotions of object pages; nothing wrong.
 */
Test(uvmstress_mix, the_default_runs_every_operation_and_daemon)
{
	static const char *const ops[] = { "touch", "peek", "map", "munmap",
	    "mprotect", "madvise", "msync", "mlock", "kmem", "pool" };
	struct result r;
	char path[96], buf[32];
	size_t i;

	RUN(&r, "-t", "6", "--seed", "7", "--json", "-");
	cr_assert_eq(r.status, 0, "exit %d; stderr:\n%s", r.status, r.err);
	cr_assert(json_str(r.out, "scenario", buf, sizeof(buf)));
	cr_assert_str_eq(buf, "mix");
	cr_assert_eq(num(&r, "config.lwps"), 8);
	cr_assert_eq(num(&r, "config.threads"), 4);
	cr_assert_eq(num(&r, "metrics.scenario.processes"), 2);
	cr_assert_eq(num(&r, "config.fail_io_permille"), 5);
	cr_assert_eq(num(&r, "config.fail_alloc_permille"), 5);
	for (i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		snprintf(path, sizeof(path), "metrics.scenario.op_%s", ops[i]);
		cr_expect_gt(num(&r, path), 0, "%s never ran", ops[i]);
	}
	cr_expect_gt(num(&r, "metrics.scenario.shared_touches"), 0);
	cr_expect_gt(num(&r, "metrics.scenario.own_touches"), 0);
	cr_expect_gt(num(&r, "metrics.scenario.final_sweep_pages"), 0);
	/* beyond RAM: the pagedaemon pages out, faults swap in */
	cr_expect_gt(num(&r, "pagedaemon.pdwoke"), 0);
	cr_expect_gt(num(&r, "pagedaemon.pgswapout"), 0);
	cr_expect_gt(num(&r, "pagedaemon.pgswapin"), 0);
	cr_expect_gt(num(&r, "swap.disk.injected"), 0, "no I/O error injected");
	cr_expect_gt(num(&r, "metrics.fail_alloc.injected"), 0, "no allocation "
	    "failure injected");
	cr_expect_gt(num(&r, "uvmexp.fltnoanon"), 0, "no fault waited for an "
	    "anon");
	/* the fault kinds mix is for */
	cr_expect_gt(num(&r, "uvmexp.flt_anon"), 0);
	cr_expect_gt(num(&r, "uvmexp.flt_obj"), 0);
	cr_expect_gt(num(&r, "uvmexp.flt_prcopy"), 0, "no object page "
	    "promoted");
	cr_expect_gt(num(&r, "uvmexp.flt_przero"), 0);
	cr_expect_gt(num(&r, "uvmexp.fltamcopy"), 0);
	cr_expect_gt(num(&r, "uvmexp.fltget"), 0, "no unlocked pgo_get");
	cr_expect_gt(num(&r, "metrics.segv_delivered"), 0, "mprotect's "
	    "refused writes and peeks at holes are SIGSEGVs");
	cr_expect_eq(num(&r, "metrics.audit.violations"), 0);
	result_free(&r);
}

/* The weights choose: touch alone maps nothing after set-up. */
Test(uvmstress_mix, the_weights_choose_the_operations)
{
	struct result r;

	RUN(&r, "--mix", "touch=1", "--lwps", "2", "--threads", "2", "--ram",
	    "32M", "--ops", "20000", "--json", "-");
	cr_assert_eq(r.status, 0, "exit %d; stderr:\n%s", r.status, r.err);
	cr_assert_eq(num(&r, "metrics.scenario.op_touch"), 20000);
	cr_assert_eq(num(&r, "metrics.scenario.op_map"), 0);
	cr_assert_eq(num(&r, "metrics.scenario.op_kmem"), 0);
	cr_assert_eq(num(&r, "metrics.scenario.processes"), 1);
	result_free(&r);

	RUN(&r, "--mix", "kmem=1,pool=1", "--lwps", "3", "--threads", "2",
	    "--ram", "32M", "--ops", "3000", "--json", "-");
	cr_assert_eq(r.status, 0, "exit %d; stderr:\n%s", r.status, r.err);
	cr_assert_eq(num(&r, "metrics.scenario.op_touch"), 0);
	cr_assert_eq(num(&r, "metrics.scenario.op_kmem") +
	    num(&r, "metrics.scenario.op_pool"), 3000);
	cr_assert_eq(num(&r, "metrics.scenario.processes"), 2,
	    "3 LWPs, 2 a process: the last process has one");
	result_free(&r);
}

/* A corruption of a page behind the VM's back is found, exit 2. */
Test(uvmstress_mix, an_injected_corruption_is_found)
{
	struct result r;

	RUN(&r, "-t", "4", "--inject", "corrupt", "--json", "-");
	cr_assert_eq(r.status, 2, "exit %d; stderr:\n%s", r.status, r.err);
	cr_assert_not_null(strstr(r.err, "FAIL integrity"), "stderr:\n%s",
	    r.err);
	cr_assert_not_null(strstr(r.err, "replay with: "));
	result_free(&r);
}

/*
 * Out of swap: a fault refused with ENOMEM kills its whole process (all
 * its LWPs leave, the last frees the address space); the run goes on and
 * its final audit finds every page and slot accounted for.
 */
Test(uvmstress_mix, out_of_swap_kills_whole_processes)
{
	struct result r;
	double kills, procs;

	/* (without mlock and kmem: see docs/results.md, issue 13) */
	RUN(&r, "--lwps", "8", "--threads", "2", "--ram", "16M", "--ws",
	    "96M", "--swap", "8M", "--fail-io", "0", "--mix",
	    "touch=60,peek=4,map=3,munmap=2,mprotect=2,madvise=1", "-t", "6",
	    "--json", "-");
	cr_assert(r.status == 0 || r.status == 4, "exit %d; stderr:\n%s",
	    r.status, r.err);
	kills = num(&r, "metrics.oom_kills");
	procs = num(&r, "metrics.scenario.processes");
	cr_assert_eq(procs, 4);
	cr_assert_gt(kills, 0, "a working set of 6x RAM in 1/2 RAM of swap: "
	    "no process killed?");
	cr_assert_leq(kills, procs, "a process is killed once, whichever "
	    "of its LWPs faulted");
	cr_assert_eq(num(&r, "metrics.audit.violations"), 0);
	result_free(&r);
}

/*
 * Bad sectors (--lose-io): pages whose swap copy rotted are lost; mix
 * counts each (the fault's EIO) and stops expecting their data, and the
 * run still passes: the VM marked the slots bad and accounted for them
 * (the swap auditor checks every slot at the end).
 */
Test(uvmstress_mix, pages_lost_on_bad_sectors_are_counted_not_failures)
{
	struct result r;

	RUN(&r, "--lose-io", "3%", "--fail-io", "0", "-t", "6", "--seed", "11",
	    "--json", "-");
	cr_assert_eq(r.status, 0, "exit %d; stderr:\n%s", r.status, r.err);
	cr_assert_eq(num(&r, "config.lose_io_permille"), 30);
	cr_assert_gt(num(&r, "swap.disk.rotten"), 0);
	cr_assert_gt(num(&r, "swap.disk.rotten_reads"), 0);
	cr_assert_gt(num(&r, "metrics.scenario.pages_lost"), 0);
	cr_assert_eq(num(&r, "metrics.audit.violations"), 0);
	result_free(&r);
}

/*
 * Swap all but full, the last slots held by resident pages: the pagedaemon
 * can page nothing out, so a fault short of memory must fail (ENOMEM: its
 * process is killed) rather than wait.  With OpenBSD's exact "full" this
 * run hung in 6 runs of 6 (every LWP asleep for memory, the pagedaemon
 * scanning without end); NetBSD's 99% rule ends it (vm/uvm_swap.c).
 */
Test(uvmstress_mix, swap_all_but_full_kills_instead_of_hanging)
{
	struct result r;

	RUN(&r, "--lwps", "4", "--threads", "2", "--ram", "16M", "--ws", "64M",
	    "--swap", "32M", "--fail-io", "0", "--mix",
	    "touch=60,peek=4,map=3,munmap=2,mprotect=2,madvise=1", "-t", "6",
	    "--seed", "11", "--json", "-");
	cr_assert_eq(r.status, 0, "exit %d; stderr:\n%s", r.status, r.err);
	cr_assert_geq(num(&r, "metrics.oom_kills"), 1);
	cr_assert_eq(num(&r, "metrics.audit.violations"), 0);
	result_free(&r);
}
