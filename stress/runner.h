/*
 * stress/runner.h: the run: boot, workers, oracles, stop, failures.
 *
 * runner_main() boots the machine and the VM, hands the scenario its run,
 * and reports.  The scenario entry calls stress_run_workers(), which makes
 * the processes, each with its own vmspace over [PAGE_SIZE,
 * VM_MAXUSER_ADDRESS), and --lwps worker LWPs, --threads of them to a
 * process (sharing its map; the last process may have fewer), each
 * running the scenario's worker; the
 * calling thread (main, not an LWP) is the harness thread: it releases
 * the start barrier, stops the run (timeout, --ops, first failure), runs
 * the auditor every second, draws the live status, injects faults, and
 * joins the workers.
 *
 * Every worker has the same loop:
 *
 *	setup (map regions);
 *	stress_barrier(w);
 *	while (stress_continue(w)) { one op; stress_op_done(w); }
 *	teardown (check everything once more, unmap);
 *
 * stress_continue() claims one op of the worker's share of --ops (the
 * shares add up to --ops, so a run stops after exactly --ops ops in all,
 * and each worker's sequence depends on the seed only); it may be called
 * in user mode.
 *
 * Failures are recorded from any thread (workers, the harness, the
 * witness handler, the watchdog) into a fixed table without locks or
 * allocation; the first failure stops the run.  Counters of a worker are
 * written by its owner only, with relaxed atomics, so the harness may
 * read them at any time.
 */
#ifndef STRESS_RUNNER_H
#define STRESS_RUNNER_H

#include "host/condvar.h"
#include "host/disk.h"
#include "host/dsched.h"
#include "host/lwp.h"
#include "host/mutex.h"
#include "host/pmap.h"
#include "host/rwlock.h"	/* uvm_page.h uses struct krwlock undeclared */
#include "host/rng.h"
#include "host/thread.h"
#include "host/trap.h"
#include "options.h"
#include "timing.h"
#include "vm/uvm_bufcache.h"
#include "vm/uvm_map.h"
#include "vm/uvmexp.h"

struct integ_ledger;

/* Failure kinds (the JSON "kind"). */
#define FK_INTEGRITY	"integrity"	/* a page lost, stale, leaked or torn */
#define FK_INVARIANT	"invariant"	/* the auditor */
#define FK_LOCKORDER	"lock-order"	/* witness */
#define FK_HANG		"hang"		/* watchdog */
#define FK_SEGV		"segv"		/* a simulated SIGSEGV nobody expected */
#define FK_NOSEGV	"missing-segv"	/* an expected SIGSEGV did not come */
#define FK_WRONGSEGV	"wrong-segv"	/* it came with the wrong va/access */
#define FK_VM		"vm"		/* a VM call failed that must not */
#define FK_LEAK		"leak"		/* pages not returned at the end */
#define FK_PANIC	"panic"
#define FK_OOM		"out-of-swap"	/* a kill, with --oom-is-failure */
#define FK_TSAN		"tsan"		/* a ThreadSanitizer report */

#define STRESS_MAXFAIL	16

struct stress_failure {
	const char	*f_kind;
	char		f_message[512];	/* one line */
	char		f_detail[2048];	/* more lines (history), may be "" */
	uint64_t	f_step;		/* deterministic run: its step, else 0 */
	int		f_ready;	/* [a] filled in */
};

/*
 * A process of the run: one vmspace, sp_nlwps worker LWPs.  An
 * out-of-swap kill marks the whole process killed; its LWPs leave at
 * their next stress_continue/stress_running, and the last one out frees
 * the vmspace (as exit does once the last LWP is gone).
 */
struct stress_proc {
	int			sp_index;	/* [I] 0..nprocs-1 */
	uint32_t		sp_asid;	/* [I] address space id (index+1) */
	struct proc		*sp_proc;	/* [I] */
	struct vmspace		*sp_vm;		/* [I] NULL once freed */
	struct vm_map		*sp_map;	/* [I] &sp_vm->vm_map */
	pmap_t			sp_pmap;	/* [I] */
	int			sp_first;	/* [I] its first worker's index */
	int			sp_nlwps;	/* [I] */
	int			sp_live;	/* [a] LWPs not yet out */
	int			sp_killed;	/* [a] out of swap: killed
						   (written under r_kill_lock) */
};

struct stress_worker {
	int			w_index;	/* [I] 0..nworkers-1 */
	int			w_tid;		/* [I] 0..sp_nlwps-1 in its proc */
	struct stress_proc	*w_sp;		/* [I] its process */
	uint32_t		w_asid;		/* [I] its process's asid */
	struct stress_run	*w_run;		/* [I] */
	void			*w_ctx;		/* [I] the scenario's context */
	struct proc		*w_proc;	/* [I] */
	struct lwp		*w_lwp;		/* [harness] set after the LWP
						   started: the worker uses
						   curlwp */
	struct vmspace		*w_vm;		/* [I] its process's (shared
						   with its siblings) */
	struct vm_map		*w_map;		/* [I] &w_vm->vm_map */
	pmap_t			w_pmap;		/* [I] w_map->pmap */
	struct host_rng		w_rng;		/* [o] stream w_index */
	struct integ_ledger	*w_ledger;	/* [I] after setup, or NULL */
	uint64_t		w_ops;		/* [a] ops done */
	uint64_t		w_touches;	/* [a] pages touched */
	uint64_t		w_hash;		/* [a] access sequence hash */
	uint64_t		w_quota;	/* [o] ops left (with --ops) */
	uint64_t		w_segv;		/* [a] SIGSEGVs seen (expected) */
	int			w_done;		/* [a] the LWP has finished */
	uint64_t		w_tend_ns;	/* [a] left the timed loop (0: not) */
	bool			w_checks_cut;	/* [o] its final checks were cut */
};

struct stress_metric {
	const char	*m_name;
	int		m_type;		/* SM_* */
	uint64_t	m_u64;
	double		m_double;
	char		m_str[64];
};
#define SM_U64		1
#define SM_DOUBLE	2
#define SM_STRING	3
#define STRESS_MAXMETRIC 32

/* A snapshot of the VM's counters, each read under its own lock. */
struct vmstat_snap {
	struct uvmexp	vs_uvmexp;
	uint64_t	vs_ns;		/* host time of the snapshot */
};

/* What --inject did. */
struct stress_injection {
	uint32_t	inj_asid;
	vaddr_t		inj_va;
	paddr_t		inj_pa;
	uint64_t	inj_old;	/* the word before */
	uint64_t	inj_new;	/* and after */
	double		inj_at_s;	/* seconds into the run */
};
#define STRESS_MAXINJECT 8

struct stress_run {
	const struct stress_config *r_cfg;	/* [I] */
	const struct scenario	*r_sc;		/* [I] */
	char			*r_replay;	/* [I] the replay command */
	FILE			*r_out;		/* [I] human output */
	int			r_nworkers;	/* [I] */
	struct stress_worker	*r_workers;	/* [I] */
	int			r_nprocs;	/* [I] */
	struct stress_proc	*r_procs;	/* [I] */
	void			(*r_worker_fn)(struct stress_worker *);
	/*
	 * [I] set by the scenario before its workers start, or NULL: called
	 * once on the harness's thread when the run stops (its time is up,
	 * a signal, a failure), e.g. to wake workers asleep for long.
	 */
	void			(*r_on_stop)(struct stress_run *);
	void			*r_on_stop_arg;

	/*
	 * Time: -t bounds the whole run from r_start_ns.  Boot, fill and the
	 * timed phase end at r_deadline_ns; the final checks (stress_
	 * checks_continue) at r_checks_end_ns; a run still going at
	 * r_hard_ns is ended by the overtime thread.  0: no limit.
	 */
	uint64_t		r_start_ns;	/* [I] runner_main entered */
	uint64_t		r_deadline_ns;	/* [I] */
	uint64_t		r_checks_end_ns; /* [I] */
	uint64_t		r_hard_ns;	/* [I] */
	uint64_t		r_end_ns;	/* teardown done, report next */
	bool			r_fill_cut;	/* [a] the time ran out in set-up */
	int			r_checks_cut;	/* [a] workers whose final
						   checks were cut short */
	int			r_signal;	/* [a] SIGINT/SIGTERM seen (0) */
	const char		*r_verdict;	/* the status word, by finish */

	/* run control */
	int			r_stop;		/* [a] stop now */
	int			r_hang;		/* [a] --inject hang: sleep */
	int			r_race;		/* [a] --inject race: race */
	int			r_nready;	/* [r_lock] at the barrier */
	bool			r_go;		/* [r_lock] barrier released */
	int			r_ndone;	/* [a] workers finished */
	kmutex_t		r_lock;
	kcondvar_t		r_cv;
	bool			r_ran;		/* workers ran (times valid) */
	uint64_t		r_t0_ns;	/* [a] barrier released */
	uint64_t		r_t1_ns;	/* all workers done */
	struct vmstat_snap	r_vs0, r_vs1;	/* at t0 and t1 */
	/*
	 * The timed phase ends when every worker has left its loop (before
	 * its final checks and teardown): rates are over [t0, r_tend_ns],
	 * with the counters at that point (r_vst, r_tbt, r_diskt).
	 */
	bool			r_timed;	/* the snapshots below are taken */
	uint64_t		r_tend_ns;
	struct vmstat_snap	r_vst;
	struct timing_snap	r_tb0, r_tbt;	/* where the time goes */
	struct timing_class	r_cls0[TIMING_MAXCLASS];	/* at t0 */
	int			r_ncls0;
	struct timing_class	r_clst[TIMING_MAXCLASS];	/* at the end */
	int			r_nclst;
	struct host_disk_stats	r_disk0, r_diskt;	/* swap disk */
	struct host_mmu_stats	r_mmu0, r_mmut;		/* the MMU */
	struct host_trap_stats	r_trap0, r_trapt;

	int			r_free_min;	/* fewest free pages seen */
	int			r_free_end;	/* free after teardown */

	/* the auditor */
	uint64_t		r_audit_runs;
	uint64_t		r_audit_checks;
	unsigned int		r_audit_violations;

	/* --inject */
	struct stress_injection	r_inj[STRESS_MAXINJECT];
	int			r_ninj;

	/* swap, the daemons, out-of-swap kills */
	bool			r_swap;		/* a swap device is attached */
	char			r_swap_path[512];
	bool			r_daemons;	/* the pagedaemon was started */
	kmutex_t		r_kill_lock;	/* sp_killed vs the injector */
	uint64_t		r_kills;	/* [a] out-of-swap kills */
	int			r_swap_inuse_end; /* slots in use after teardown */
	int			r_swap_bad_end;	/* of which bad */
	long			r_bc_filled;	/* buffers filled at boot */

	/* the scenario's own metrics */
	struct stress_metric	r_metrics[STRESS_MAXMETRIC];
	int			r_nmetrics;
	const char		*r_skip;	/* skipped: why */

	/* the deterministic scheduler (stress/sched.c) */
	bool			r_det;		/* --sched is not free */
	struct dsched_stats	r_ds;		/* at its end */
	bool			r_ds_taken;
	uint64_t		r_sched_build;	/* the binary's hash */
	uint64_t		r_sched_opts;	/* the options' hash */
	uint64_t		r_replay_hash;	/* --replay: its trace hash */
	uint64_t		r_replay_steps;
	int			r_sched_fd;	/* --schedule-out, -1 */
	uint64_t		r_sched_wall0;	/* wall clock at its start */
	uint64_t		r_sched_wall_ns; /* the trace's wall time */
};

/* runner_main: the whole run.  => the exit status */
int runner_main(struct stress_config *cfg);

/*
 * stress_run_workers: run fn on r_nworkers LWPs, worker i with context
 * (char *)ctxs + i * ctxsize; returns when all are done.
 * => called by the scenario entry on the main thread
 * => 0, or an exit status for a harness error (message printed)
 */
int stress_run_workers(struct stress_run *r, void (*fn)(struct stress_worker *),
    void *ctxs, size_t ctxsize);

/* The worker loop's pieces. */
void stress_barrier(struct stress_worker *w);
bool stress_continue(struct stress_worker *w);	/* claims one op */
bool stress_running(const struct stress_worker *w);	/* claims nothing */
void stress_op_done(struct stress_worker *w);
/*
 * stress_timed_end: the worker leaves its timed loop (stress_continue
 * says so when it returns false; call it when leaving for another
 * reason).  Only the first call counts.
 */
void stress_timed_end(struct stress_worker *w);
/*
 * stress_checks_continue: the worker's final checks (its sweep after the
 * timed loop) may go on: false once the run was interrupted or is past
 * its time for checks (-t plus RUN_SWEEP_GRACE_S); the first false of a
 * worker counts it in metrics.final_checks_cut.
 */
bool stress_checks_continue(struct stress_worker *w);

/*
 * stress_refused: the worker's user code took a fault the VM refused
 * (host_user_call returned EFAULT with *uf).  In a killed process any
 * refusal just says stop: true.  ENOMEM is the VM saying
 * "out of swap": the worker's process is killed (stress_oom_kill) and
 * true is returned: the worker must stop and leave its address space
 * alone (it is gone).  EIO is a page whose data was lost (its swap slot
 * could not be read back): a failure naming the page (lg: the worker's
 * ledger, or NULL).  Anything else is an unexpected SIGSEGV.  Those
 * return false (the failure is recorded).
 * => kernel mode, on the worker's LWP
 */
bool stress_refused(struct stress_worker *w, const struct host_user_fault *uf,
    const struct integ_ledger *lg);
/*
 * stress_oom_kill: kill the worker's process as UVM does when a fault
 * finds no swap ("out of swap: killing pid N (lwp M)"): its LWPs stop
 * (stress_killed is true for each), and when the last of them has
 * returned from its worker function the address space is freed (the rest
 * of the run gets the memory and swap back).  Counted in
 * metrics.oom_kills (once per process); a failure with --oom-is-failure.
 * => kernel mode, on the worker's own LWP
 */
void stress_oom_kill(struct stress_worker *w, const struct host_user_fault *uf);
/* stress_killed: the worker's process was killed: leave it alone. */
bool stress_killed(const struct stress_worker *w);
/* stress_touched: count a page touch and hash it into the sequence. */
void stress_touched(struct stress_worker *w, uint64_t what);
/* Seconds since the barrier released the workers. */
double stress_elapsed_s(const struct stress_run *r);

/*
 * stress_fail: record a failure (any thread) and stop the run.
 * detail: further lines (or NULL).  => never sleeps; allocates nothing
 */
__printflike(3, 4) void stress_fail(const char *kind, const char *detail,
    const char *fmt, ...);
/*
 * stress_sanitizer_death: a sanitizer ends the process (TSan's Die():
 * after a report under halt_on_error, or at exit after any report).  A
 * finished run exits with its own status; a run cut short writes its
 * failures, the replay line and a partial JSON, and exits 2.
 * => never returns
 */
void stress_sanitizer_death(void) __noreturn;
/* How many failures were recorded; the i-th (NULL if not ready). */
int stress_nfailures(void);
const struct stress_failure *stress_failure(int i);

/* The scenario's metrics (main thread, after stress_run_workers). */
void stress_metric_u64(struct stress_run *r, const char *name, uint64_t v);
void stress_metric_double(struct stress_run *r, const char *name, double v);
void stress_metric_str(struct stress_run *r, const char *name,
    const char *v);

/* Counters: relaxed atomics for [a] fields. */
#define STRESS_LD(p)		__atomic_load_n((p), __ATOMIC_RELAXED)
#define STRESS_ST(p, v)		__atomic_store_n((p), (v), __ATOMIC_RELAXED)
#define STRESS_INC(p)		STRESS_ST((p), STRESS_LD(p) + 1)

/* stress/status.c: the live one-line status on a terminal. */
void status_begin(const struct stress_run *r);
void status_update(const struct stress_run *r);
void status_end(void);

/* stress/report.c */
/* vmstat_snapshot: the counters, each under its lock (harness thread). */
void vmstat_snapshot(struct vmstat_snap *vs);
/* vmstat_snapshot_nolock: the same without locks (a hang may hold them). */
void vmstat_snapshot_nolock(struct vmstat_snap *vs);
/* report_summary: the vmstat -s like summary, rates, latency, MMU. */
void report_summary(FILE *f, const struct stress_run *r);
/*
 * report_json: the versioned JSON report to f; error: why the run could
 * not start (boot), or NULL.  => 0, or an errno value
 */
int report_json(const struct stress_run *r, FILE *f, int status,
    const char *error);
/* report_failures: each failure and the replay line, and the verdict. */
void report_failures(FILE *f, const struct stress_run *r);

#endif /* STRESS_RUNNER_H */
