/*
 * stress/runner.c: the run (see runner.h): boot, workers, the harness
 * loop, failures, the fatal paths (panic, hang), and the verdict.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "audit.h"
#include "host/clock.h"
#include "host/dsched.h"
#include "host/failpoint.h"
#include "host/hook.h"
#include "host/kassert.h"
#include "host/sleepq.h"
#include "host/machine.h"
#include "host/thread.h"
#include "host/watchdog.h"
#include "host/witness.h"
#include "integrity.h"
#include "runner.h"
#include "sanitizer.h"
#include "sched.h"
#include "timing.h"
#include "vm/uvm.h"
#include "vm/kern_proc.h"
#include "vm/uvm_aobj.h"
#include "vm/uvm_bufcache.h"
#include "vm/uvm_fault.h"
#include "vm/uvm_pdaemon.h"
#include "vm/uvm_swap.h"

#define HARNESS_TICK_MS		20	/* the harness loop's period */
#define AUDIT_PERIOD_NS		1000000000ull
#define INJECT_AFTER_NS		1000000000ull	/* --inject strikes after ~1 s */
#define INJECT_RECHECK_NS	250000000ull
#define HANG_GRACE_NS		2000000000ull	/* after a hang, before giving up */
#define STREAM_WORKER		0x10000u	/* rng stream of worker i: + i */
#define STREAM_FAILALLOC	0x5fa11a11ull	/* --fail-alloc's seed: seed ^ */
#define STREAM_INJECT		0xfeedu

static struct stress_failure failures[STRESS_MAXFAIL];
static unsigned int nfailures;			/* [a] slots claimed */
static struct stress_run *cur_run;		/* [I] during the run */
static FILE *runner_json_file;			/* [I] the --json stream */
static uint64_t hang_ns;			/* [a] when the watchdog fired */
static int in_teardown;				/* [a] past the harness loop */
static struct stress_run *sig_run;		/* [I] for the signal handler */
static int witness_reported;			/* [a] inversions reported */
static int final_status = -1;			/* [a] the run's, once known */
static volatile long injected_race;		/* --inject race: no lock */
static int nsignals;				/* [a] SIGINT/SIGTERM seen */

/* The overtime thread: ends a run still going at r_hard_ns. */
static pthread_t overtime_tid;
static pthread_mutex_t overtime_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t overtime_cv = PTHREAD_COND_INITIALIZER;
static bool overtime_done;			/* [overtime_lock] */
static bool overtime_started;			/* main thread only */

/*
 * For the panic hook, which may not allocate: formatted before boot.
 * panic_replay_ops: the replay line without its time limit, to which the
 * hook adds --ops (the operations done so far) and, after a job file,
 * "-t 0".
 */
static char panic_replay[4096];
static char panic_replay_ops[4096];
static char halt_json[16384];	/* a TSan halt_on_error report, all of it */
static char panic_json_head[512];
static int panic_json_fd = -1;

/* local prototypes */
static void err_write(const char *s);
static void panic_hook(const char *msg);
static void limit_hook(const char *msg);
static void panic_replay_now(char *buf, size_t len);
static void fatal_json(int status, const char *kind, const char *msg,
    const char *detail, const char *replay);
static void witness_handler(const char *report);
static void on_hang(void);
static void worker_trampoline(void *arg);
static void proc_vmspace_free(struct stress_proc *sp);
static void harness_loop(struct stress_run *r);
static void run_audit(struct stress_run *r, int flags, const char *when);
static void run_inject(struct stress_run *r, struct host_rng *rng,
    uint64_t now, uint64_t *next);
static void hang_exit(struct stress_run *r) __noreturn;
static void on_signal(int sig);
static void signals_catch(struct stress_run *r);
static void signals_restore(void);
static bool clock_wait_until(uint64_t t);
static void *overtime_thread(void *arg);
static void race_injected(void);
static void lockorder_injected(struct stress_run *r);
static void overtime_start(struct stress_run *r);
static void overtime_stop(void);
static uint64_t ops_per_lwp_max(const struct stress_run *r);
static void replay_by_ops(struct stress_run *r);
static const char *verdict(struct stress_run *r, int *status);
static void sleep_ms(unsigned ms);
static bool run_stopped(const struct stress_run *r);
static void track_free(struct stress_run *r);
static void timed_snapshots(struct stress_run *r, bool force);
static void disk_stats(struct host_disk_stats *st);
static void leak_check(struct stress_run *r);
static int swap_attach(struct stress_run *r);
static void machine_down(struct stress_run *r);
static FILE *json_open(const struct stress_config *cfg);
static int finish(struct stress_run *r, FILE *jf, int status);

static void
err_write(const char *s)
{
	(void)!write(STDERR_FILENO, s, strlen(s));
}

/* The harness's sleep: virtual time under a deterministic --sched. */
static void
sleep_ms(unsigned ms)
{
	stress_sched_sleep_ms(ms);
}

/*
 * Failures.
 */

void
stress_fail(const char *kind, const char *detail, const char *fmt, ...)
{
	unsigned int i = __atomic_fetch_add(&nfailures, 1, __ATOMIC_ACQ_REL);
	struct stress_failure *f;
	va_list ap;
	char *p;

	if (cur_run != NULL)
		__atomic_store_n(&cur_run->r_stop, 1, __ATOMIC_RELEASE);
	if (i >= STRESS_MAXFAIL) {
		host_printf("uvmstress: FAIL %s (not recorded: more than %d "
		    "failures)\n", kind, STRESS_MAXFAIL);
		return;
	}
	f = &failures[i];
	f->f_kind = kind;
	f->f_step = dsched_active() ? dsched_step() : 0;
	va_start(ap, fmt);
	vsnprintf(f->f_message, sizeof(f->f_message), fmt, ap);
	va_end(ap);
	for (p = f->f_message; *p != '\0'; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	snprintf(f->f_detail, sizeof(f->f_detail), "%s",
	    detail != NULL ? detail : "");
	__atomic_store_n(&f->f_ready, 1, __ATOMIC_RELEASE);
	status_end();
	host_printf("uvmstress: FAIL %s: %s\n", kind, f->f_message);
	err_write(f->f_detail);
}

int
stress_nfailures(void)
{
	return (int)__atomic_load_n(&nfailures, __ATOMIC_ACQUIRE);
}

const struct stress_failure *
stress_failure(int i)
{
	if (i < 0 || i >= STRESS_MAXFAIL ||
	    !__atomic_load_n(&failures[i].f_ready, __ATOMIC_ACQUIRE))
		return NULL;
	return &failures[i];
}

/*
 * panic_replay_now: the replay line as finish() would write it: with
 * --ops for the operations done so far in a timed run.
 * => never allocates
 */
static void
panic_replay_now(char *buf, size_t len)
{
	const struct stress_run *r = cur_run;
	uint64_t per = r != NULL ? ops_per_lwp_max(r) : 0;

	/* a deterministic run replays from its seed and options alone */
	if (r == NULL || r->r_cfg->ops != 0 || per == 0 || r->r_det ||
	    panic_replay_ops[0] == '\0') {
		snprintf(buf, len, "%s", panic_replay);
		return;
	}
	if (snprintf(buf, len, "%s --ops %llu%s", panic_replay_ops,
	    (unsigned long long)(per * (uint64_t)r->r_cfg->lwps),
	    r->r_cfg->job_path != NULL ? " -t 0" : "") >= (int)len)
		snprintf(buf, len, "%s", panic_replay);	/* (too long) */
}

/*
 * panic_hook: the panic has been printed; add the replay line, leave a
 * small JSON report behind, and end with "failure found".
 * => never allocates (write(2), a stack buffer, json_escape)
 */
static void
panic_hook(const char *msg)
{
	char replay[sizeof(panic_replay) + 64];

	err_write("uvmstress: FAIL panic: ");
	err_write(msg);
	panic_replay_now(replay, sizeof(replay));
	err_write("\nuvmstress: replay with: ");
	err_write(replay);
	err_write("\n");
	if (dsched_active()) {
		stress_sched_fatal(cur_run);	/* the schedule to the panic */
		char step[96];

		snprintf(step, sizeof(step), "uvmstress: the panic came at "
		    "step %llu of the deterministic schedule\n",
		    (unsigned long long)dsched_step());
		err_write(step);
	}
	fatal_json(EXIT_FAILURE_FOUND, FK_PANIC, msg, NULL, replay);
	_exit(EXIT_FAILURE_FOUND);
}

/*
 * fatal_json: the small JSON report of a run that ends on the spot (a
 * panic, a host limit, a sanitizer's death): the head formatted before
 * boot, the status, and the failure (kind, msg, detail, replay) or, for
 * a host limit (kind NULL), the error msg.
 * => never allocates (write(2), stack buffers, json_escape)
 */
static void
fatal_json(int status, const char *kind, const char *msg, const char *detail,
    const char *replay)
{
	char buf[1600], esc[2400];

	if (panic_json_fd < 0)
		return;
	if (panic_json_fd != STDOUT_FILENO) {
		(void)!ftruncate(panic_json_fd, 0);
		(void)lseek(panic_json_fd, 0, SEEK_SET);
	}
	(void)!write(panic_json_fd, panic_json_head, strlen(panic_json_head));
	json_escape(esc, sizeof(esc), msg);
	if (kind == NULL) {
		snprintf(buf, sizeof(buf), "  \"status\": \"error\",\n"
		    "  \"exit_status\": %d,\n  \"partial\": true,\n"
		    "  \"error\": \"host limit: ", status);
		(void)!write(panic_json_fd, buf, strlen(buf));
		(void)!write(panic_json_fd, esc, strlen(esc));
		(void)!write(panic_json_fd, "\"\n}\n", 4);
		return;
	}
	snprintf(buf, sizeof(buf), "  \"status\": \"fail\",\n"
	    "  \"exit_status\": %d,\n  \"partial\": true,\n"
	    "  \"failures\": [\n    {\n      \"kind\": \"%s\",\n"
	    "      \"message\": \"", status, kind);
	(void)!write(panic_json_fd, buf, strlen(buf));
	(void)!write(panic_json_fd, esc, strlen(esc));
	if (detail != NULL && detail[0] != '\0') {
		(void)!write(panic_json_fd, "\",\n      \"detail\": \"", 20);
		json_escape(esc, sizeof(esc), detail);
		(void)!write(panic_json_fd, esc, strlen(esc));
	}
	(void)!write(panic_json_fd, "\",\n      \"replay\": \"", 20);
	json_escape(esc, sizeof(esc), replay);
	(void)!write(panic_json_fd, esc, strlen(esc));
	if (dsched_active()) {		/* where in the schedule */
		snprintf(buf, sizeof(buf), "\",\n      \"step\": %llu",
		    (unsigned long long)dsched_step());
		(void)!write(panic_json_fd, buf, strlen(buf));
		(void)!write(panic_json_fd, "\n    }\n  ]\n}\n", 13);
		return;
	}
	(void)!write(panic_json_fd, "\"\n    }\n  ]\n}\n", 14);
}

/*
 * stress_sanitizer_death: see runner.h.  Under halt_on_error it runs
 * inside TSan's report path, with the runtime's locks held: it is not
 * instrumented and makes raw system calls only (an instrumented access,
 * or an intercepted call, may wait there for those very locks).
 */
__attribute__((no_sanitize("thread"))) void
stress_sanitizer_death(void)
{
	static const char line[] = "uvmstress: FAIL tsan: ThreadSanitizer "
	    "ended the run at its first report (halt_on_error): the report "
	    "is above\nuvmstress: replay with: ";
	int status = __atomic_load_n(&final_status, __ATOMIC_ACQUIRE);
	size_t n;

	if (status >= 0)	/* the run ended and reported: its status */
		syscall(SYS_exit_group, status);
	syscall(SYS_write, STDERR_FILENO, line, sizeof(line) - 1);
	for (n = 0; panic_replay[n] != '\0'; n++)
		;
	syscall(SYS_write, STDERR_FILENO, panic_replay, n);
	syscall(SYS_write, STDERR_FILENO, "\n", 1);
	if (panic_json_fd >= 0) {
		if (panic_json_fd != STDOUT_FILENO) {
			syscall(SYS_ftruncate, panic_json_fd, 0);
			syscall(SYS_lseek, panic_json_fd, 0, SEEK_SET);
		}
		for (n = 0; halt_json[n] != '\0'; n++)
			;
		syscall(SYS_write, panic_json_fd, halt_json, n);
	}
	syscall(SYS_exit_group, EXIT_FAILURE_FOUND);
	__builtin_unreachable();
}

/*
 * limit_hook: the host refused the machine a resource (host_limit(), e.g.
 * an mmap at vm.max_map_count): not a failure found but exit 3, with one
 * line naming the limit and a small JSON report.
 * => never allocates (write(2), a stack buffer, json_escape)
 */
static void
limit_hook(const char *msg)
{
	status_end();
	err_write("uvmstress: host limit: ");
	err_write(msg);
	err_write("\n");
	fatal_json(EXIT_NO_RESOURCE, NULL, msg, NULL, NULL);
	_exit(EXIT_NO_RESOURCE);
}

/*
 * witness_handler: an inversion is a failure, not a panic.  The first
 * one is reported, with the locks held; it stops the run, and the ones
 * after it (the daemons run on into teardown) are only counted
 * (witness_inversions()).
 */
static void
witness_handler(const char *report)
{
	if (__atomic_fetch_add(&witness_reported, 1, __ATOMIC_ACQ_REL) != 0)
		return;
	stress_fail(FK_LOCKORDER, NULL, "%s", report);
	host_printf("uvmstress: locks held by thread %s:\n",
	    host_thread_self()->ht_name);
	host_thread_dump_held(host_thread_self());
}

/* on_hang: runs on the watchdog thread after its dump. */
static void
on_hang(void)
{
	const struct stress_config *cfg = cur_run != NULL ? cur_run->r_cfg : NULL;

	stress_fail(FK_HANG, NULL, "no progress for %u s (every thread's "
	    "state is dumped above)", cfg != NULL ? cfg->watchdog_s : 0);
	__atomic_store_n(&hang_ns, host_real_ns(), __ATOMIC_RELEASE);
	/*
	 * Past the harness loop (joining the workers, stopping the daemons,
	 * tearing down) nobody else watches hang_ns: give the harness its
	 * grace, then end the run from here.
	 */
	if (cur_run != NULL &&
	    __atomic_load_n(&in_teardown, __ATOMIC_ACQUIRE)) {
		sleep_ms((unsigned)(HANG_GRACE_NS / 1000000));
		if (__atomic_load_n(&in_teardown, __ATOMIC_ACQUIRE))
			hang_exit(cur_run);
	}
}

/*
 * The worker side.
 */

static void
worker_trampoline(void *arg)
{
	struct stress_worker *w = arg;
	struct stress_run *r = w->w_run;

	timing_worker_begin();
	r->r_worker_fn(w);
	stress_timed_end(w);
	/* exit: the last LWP out of a killed process frees its vmspace */
	if (__atomic_sub_fetch(&w->w_sp->sp_live, 1, __ATOMIC_ACQ_REL) == 0 &&
	    stress_killed(w))
		proc_vmspace_free(w->w_sp);
	STRESS_ST(&w->w_done, 1);
	__atomic_fetch_add(&r->r_ndone, 1, __ATOMIC_ACQ_REL);
	host_progress();
}

void
stress_barrier(struct stress_worker *w)
{
	struct stress_run *r = w->w_run;

	mutex_enter(&r->r_lock);
	r->r_nready++;
	while (!r->r_go)
		cv_wait(&r->r_cv, &r->r_lock);
	mutex_exit(&r->r_lock);
}

bool
stress_running(const struct stress_worker *w)
{
	return !__atomic_load_n(&w->w_run->r_stop, __ATOMIC_ACQUIRE) &&
	    !stress_killed(w);
}

/*
 * stress_continue: the run goes on and this worker has ops left.  With
 * --ops N each worker has its own share (N / nworkers, the first N %
 * nworkers one more), so that what a worker does depends on the seed
 * only, never on how the others were scheduled.
 */
bool
stress_continue(struct stress_worker *w)
{
	struct stress_run *r = w->w_run;

	if (__atomic_load_n(&r->r_stop, __ATOMIC_ACQUIRE) ||
	    stress_killed(w)) {
		stress_timed_end(w);
		return false;
	}
	if (__predict_false(__atomic_load_n(&r->r_hang, __ATOMIC_RELAXED)))
		(void)tsleep_nsec(&r->r_hang, PVM, "injhang", INFSLP);
	if (__predict_false(__atomic_load_n(&r->r_race, __ATOMIC_RELAXED)))
		race_injected();
	if (r->r_cfg->ops != 0) {
		if (w->w_quota == 0) {
			stress_timed_end(w);
			return false;
		}
		w->w_quota--;
	}
	return true;
}

void
stress_timed_end(struct stress_worker *w)
{
	if (STRESS_LD(&w->w_tend_ns) != 0)
		return;
	__atomic_store_n(&w->w_tend_ns, host_real_ns(), __ATOMIC_RELEASE);
	/*
	 * The last worker out takes the timed phase's snapshots itself,
	 * before its teardown (the harness would see the end only at its
	 * next tick, after a quick teardown: report.c's "timed" vmstat).
	 */
	if (__atomic_load_n(&w->w_run->r_t0_ns, __ATOMIC_ACQUIRE) != 0)
		timed_snapshots(w->w_run, false);
}

/*
 * lockorder_injected: --inject lock-order: take two locks in one order,
 * then in the other, every tick; the witness must find the inversion,
 * and the run report it once.  => the harness thread
 */
static void
lockorder_injected(struct stress_run *r)
{
	static kmutex_t a, b;
	static bool init;

	if (!init) {
		mutex_init_class(&a, MUTEX_DEFAULT, IPL_NONE, "inject_a");
		mutex_init_class(&b, MUTEX_DEFAULT, IPL_NONE, "inject_b");
		init = true;
	}
	mutex_enter(&a);
	mutex_enter(&b);
	mutex_exit(&b);
	mutex_exit(&a);
	mutex_enter(&b);
	mutex_enter(&a);
	mutex_exit(&a);
	mutex_exit(&b);
}

/*
 * race_injected: --inject race: a data race TSan must report, on a plain
 * variable and without a lock, by the workers at each op and by the
 * harness thread at each tick (the workers alone may never run at once:
 * their CPU hand-offs order them).
 */
static void
race_injected(void)
{
	int i;

	for (i = 0; i < 1000; i++)
		injected_race++;
}

bool
stress_checks_continue(struct stress_worker *w)
{
	struct stress_run *r = w->w_run;

	if (w->w_checks_cut)
		return false;
	if (__atomic_load_n(&r->r_signal, __ATOMIC_ACQUIRE) == 0 &&
	    (r->r_checks_end_ns == 0 || host_wall_ns() < r->r_checks_end_ns))
		return true;
	w->w_checks_cut = true;
	__atomic_fetch_add(&r->r_checks_cut, 1, __ATOMIC_RELAXED);
	return false;
}

bool
stress_killed(const struct stress_worker *w)
{
	return __atomic_load_n(&w->w_sp->sp_killed, __ATOMIC_ACQUIRE) != 0;
}

/*
 * proc_vmspace_free: the address space of a process goes (exit, or the
 * harness's teardown).  => no LWP of sp runs in it any more
 */
static void
proc_vmspace_free(struct stress_proc *sp)
{
	struct vmspace *vm = sp->sp_vm;

	if (vm == NULL)
		return;
	audit_unregister_map(sp->sp_map);
	mutex_enter(&sp->sp_proc->p_lock);
	sp->sp_proc->p_vmspace = NULL;
	mutex_exit(&sp->sp_proc->p_lock);
	sp->sp_vm = NULL;
	uvmspace_free(vm);
}

void
stress_oom_kill(struct stress_worker *w, const struct host_user_fault *uf)
{
	struct stress_run *r = w->w_run;
	struct stress_proc *sp = w->w_sp;
	/* (w_lwp is the harness's: lwp_create sets it after we started) */
	int pid = w->w_proc->p_pid, lid = curlwp->l_lid;
	bool first;

	stress_timed_end(w);
	/* the injector must not reach into the address space any more */
	mutex_enter(&r->r_kill_lock);
	first = __atomic_load_n(&sp->sp_killed, __ATOMIC_RELAXED) == 0;
	__atomic_store_n(&sp->sp_killed, 1, __ATOMIC_RELEASE);
	mutex_exit(&r->r_kill_lock);
	if (!first)
		return;		/* a sibling LWP's fault killed it already */

	/* UVM: "pid %d (%s), uid %d killed: out of swap" */
	if (!r->r_cfg->quiet) {
		fprintf(r->r_out, "uvmstress: out of swap: killing pid %d "
		    "(lwp %d): a fault at va %#lx (%s) was refused with "
		    "ENOMEM; %d of %d swap slots hold pages that are only in "
		    "swap\n", pid, lid, (unsigned long)uf->uf_addr,
		    uf->uf_access == VM_PROT_WRITE ? "write" : "read",
		    uvmexp_read(swpgonly), uvmexp.swpages);
		fflush(r->r_out);
	}
	__atomic_fetch_add(&r->r_kills, 1, __ATOMIC_RELAXED);
	/* exit: the address space goes when the last LWP has left */
	if (r->r_cfg->oom_is_failure)
		stress_fail(FK_OOM, NULL, "pid %d (lwp %d, asid %u) killed: out "
		    "of swap (a fault at va %#lx refused with ENOMEM) and "
		    "--oom-is-failure is set", pid, lid, w->w_asid,
		    (unsigned long)uf->uf_addr);
}

bool
stress_refused(struct stress_worker *w, const struct host_user_fault *uf,
    const struct integ_ledger *lg)
{
	if (stress_killed(w))
		return true;	/* its memory is gone: just leave */
	STRESS_INC(&w->w_segv);
	if (uf->uf_error == ENOMEM) {
		stress_oom_kill(w, uf);
		return true;
	}
	if (uf->uf_error == EIO) {
		integ_report_lost(w, lg, uf->uf_addr, uf->uf_access);
		return false;
	}
	stress_fail(FK_SEGV, NULL, "asid %u va %#lx: unexpected SIGSEGV on %s "
	    "of a mapped page (fault error %d: %s)", w->w_asid,
	    (unsigned long)uf->uf_addr,
	    uf->uf_access == VM_PROT_WRITE ? "write" : "read", uf->uf_error,
	    strerror(uf->uf_error));
	return false;
}

void
stress_op_done(struct stress_worker *w)
{
	STRESS_INC(&w->w_ops);
	host_progress();
}

void
stress_touched(struct stress_worker *w, uint64_t what)
{
	uint64_t h = (STRESS_LD(&w->w_hash) ^ what) * 0x100000001b3ull;

	h ^= h >> 29;
	h *= 0xbf58476d1ce4e5b9ull;
	STRESS_ST(&w->w_hash, h ^ (h >> 32));
	STRESS_INC(&w->w_touches);
}

double
stress_elapsed_s(const struct stress_run *r)
{
	uint64_t t0 = __atomic_load_n(&r->r_t0_ns, __ATOMIC_ACQUIRE);

	return t0 == 0 ? 0.0 : (double)(host_real_ns() - t0) / 1e9;
}

void
stress_metric_u64(struct stress_run *r, const char *name, uint64_t v)
{
	if (r->r_nmetrics < STRESS_MAXMETRIC)
		r->r_metrics[r->r_nmetrics++] = (struct stress_metric){
		    .m_name = name, .m_type = SM_U64, .m_u64 = v };
}

void
stress_metric_double(struct stress_run *r, const char *name, double v)
{
	if (r->r_nmetrics < STRESS_MAXMETRIC)
		r->r_metrics[r->r_nmetrics++] = (struct stress_metric){
		    .m_name = name, .m_type = SM_DOUBLE, .m_double = v };
}

void
stress_metric_str(struct stress_run *r, const char *name, const char *v)
{
	struct stress_metric *m;

	if (r->r_nmetrics >= STRESS_MAXMETRIC)
		return;
	m = &r->r_metrics[r->r_nmetrics++];
	m->m_name = name;
	m->m_type = SM_STRING;
	snprintf(m->m_str, sizeof(m->m_str), "%s", v);
}

/*
 * The harness side.
 */

static bool
run_stopped(const struct stress_run *r)
{
	return __atomic_load_n(&r->r_stop, __ATOMIC_ACQUIRE) != 0;
}

static void
run_audit(struct stress_run *r, int flags, const char *when)
{
	struct audit_result ar;

	memset(&ar, 0, sizeof(ar));
	audit_all(&ar, flags);
	r->r_audit_runs++;
	r->r_audit_checks += ar.nchecks;
	r->r_audit_violations += ar.nviolations;
	if (r->r_cfg->verbose > 1) {
		fprintf(r->r_out, "uvmstress: audit (%s): %" PRIu64 " checks, "
		    "%u violations\n", when, (uint64_t)ar.nchecks,
		    ar.nviolations);
		fflush(r->r_out);	/* (a progress mark when piped) */
	}
	if (ar.nviolations != 0)
		stress_fail(FK_INVARIANT, NULL, "%s (audit %s; %u violations "
		    "in all)", ar.first, when, ar.nviolations);
}

static void
run_inject(struct stress_run *r, struct host_rng *rng, uint64_t now,
    uint64_t *next)
{
	struct stress_injection *inj;

	if (now < *next || stress_nfailures() != 0 ||
	    r->r_ninj >= STRESS_MAXINJECT)
		return;
	/* Strike again only if the last flip was overwritten unseen. */
	if (r->r_ninj > 0 && !integ_injection_lost(&r->r_inj[r->r_ninj - 1])) {
		*next = now + INJECT_RECHECK_NS;
		return;
	}
	inj = &r->r_inj[r->r_ninj];
	if (integ_inject(r, rng, inj) != 0) {
		*next = now + INJECT_RECHECK_NS;
		return;
	}
	r->r_ninj++;
	host_printf("uvmstress: inject: flipped bits in asid %u va %#lx pa "
	    "%#llx behind the VM's back (word 2: %#llx -> %#llx)\n",
	    inj->inj_asid, (unsigned long)inj->inj_va,
	    (unsigned long long)inj->inj_pa, (unsigned long long)inj->inj_old,
	    (unsigned long long)inj->inj_new);
	*next = now + INJECT_RECHECK_NS;
}

/*
 * hang_exit: the watchdog fired and the workers did not come back, or the
 * run did not stop within its grace: report what we have (counters read
 * without locks: a lock may be what hangs) and end the process without
 * joining them.
 */
static void
hang_exit(struct stress_run *r)
{
	stress_sched_fatal(r);		/* the trace up to the hang */
	r->r_t1_ns = host_real_ns();
	vmstat_snapshot_nolock(&r->r_vs1);
	r->r_verdict = "fail";
	replay_by_ops(r);
	report_failures(stderr, r);
	if (runner_json_file != NULL) {
		report_json(r, runner_json_file, EXIT_FAILURE_FOUND, NULL);
		fflush(runner_json_file);
	}
	fflush(stdout);
	_exit(EXIT_FAILURE_FOUND);
}

/*
 * Signals.  The first SIGINT or SIGTERM stops the run as a timeout
 * would (the workers leave their loops, the final checks are cut, the
 * report is full, the status "interrupted"); a second one ends the
 * process at once.  => async-signal-safe: atomics and write(2) only
 */
static void
on_signal(int sig)
{
	struct stress_run *r = sig_run;

	if (__atomic_fetch_add(&nsignals, 1, __ATOMIC_ACQ_REL) != 0) {
		err_write("\nuvmstress: second signal: exiting now, without a "
		    "report\n");
		_exit(128 + sig);
	}
	if (r != NULL) {
		__atomic_store_n(&r->r_signal, sig, __ATOMIC_RELEASE);
		__atomic_store_n(&r->r_stop, 1, __ATOMIC_RELEASE);
	}
	err_write(sig == SIGINT ? "\nuvmstress: SIGINT: stopping the run "
	    "(a second signal exits at once)\n" : "\nuvmstress: SIGTERM: "
	    "stopping the run (a second signal exits at once)\n");
}

static void
signals_catch(struct stress_run *r)
{
	struct sigaction sa;

	sig_run = r;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

static void
signals_restore(void)
{
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
}

/*
 * clock_wait_until: sleep until host time t (host_real_ns), unless the
 * run ends first.  => true at t, false if the run ended
 */
static bool
clock_wait_until(uint64_t t)
{
	struct timespec ts;
	uint64_t now = host_wall_ns(), left = t > now ? t - now : 0;
	bool done;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += (time_t)(left / 1000000000ull);
	ts.tv_nsec += (long)(left % 1000000000ull);
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&overtime_lock);
	while (!overtime_done &&
	    pthread_cond_timedwait(&overtime_cv, &overtime_lock, &ts) == 0)
		;
	done = overtime_done;
	pthread_mutex_unlock(&overtime_lock);
	return !done;
}

/*
 * The run clock: a plain pthread, not an LWP, started at boot for a run
 * with -t.  At the time limit it stops the run (the harness loop checks
 * too, but may be busy in an audit or an inject); if the run is still
 * going RUN_GRACE_S later, it ends it as a hang, with the report it has
 * (hang_exit).
 */
static void *
overtime_thread(void *arg)
{
	struct stress_run *r = arg;

	/* At -t: stop the run, whatever the harness thread is doing. */
	if (!clock_wait_until(r->r_deadline_ns))
		return NULL;
	if (__atomic_load_n(&r->r_t0_ns, __ATOMIC_ACQUIRE) == 0)
		__atomic_store_n(&r->r_fill_cut, true, __ATOMIC_RELEASE);
	__atomic_store_n(&r->r_stop, 1, __ATOMIC_RELEASE);
	if (!clock_wait_until(r->r_hard_ns))
		return NULL;
	/*
	 * The timed phase and the final checks end on time by design, and
	 * teardown is short: a run still going is stuck, as a watchdog
	 * would say, only sooner.
	 */
	status_end();
	host_printf("uvmstress: the run did not stop within %d s of its time "
	    "limit (-t %llu s, %s); threads:\n", RUN_GRACE_S,
	    (unsigned long long)r->r_cfg->timeout_s,
	    __atomic_load_n(&in_teardown, __ATOMIC_ACQUIRE) ?
	    "in the final checks and teardown" : "the workers did not stop");
	host_thread_dump_all();
	stress_fail(FK_HANG, NULL, "the run did not stop within %d s of its "
	    "time limit (every thread's state is dumped above)", RUN_GRACE_S);
	hang_exit(r);
}

static void
overtime_start(struct stress_run *r)
{
	sigset_t all, old;

	if (r->r_hard_ns == 0)
		return;
	overtime_done = false;
	/* a plain thread, no machine state: it must run when all else hangs */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	overtime_started = pthread_create(&overtime_tid, NULL, overtime_thread,
	    r) == 0;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
}

static void
overtime_stop(void)
{
	if (!overtime_started)
		return;
	pthread_mutex_lock(&overtime_lock);
	overtime_done = true;
	pthread_cond_signal(&overtime_cv);
	pthread_mutex_unlock(&overtime_lock);
	pthread_join(overtime_tid, NULL);
	overtime_started = false;
}

/* The fewest free pages the run went down to (sampled every tick). */
static void
track_free(struct stress_run *r)
{
	int n;

	mtx_enter(&uvm.fpageqlock);
	n = uvmexp.free;
	mtx_leave(&uvm.fpageqlock);
	if (n < r->r_free_min)
		r->r_free_min = n;
}

static void
harness_loop(struct stress_run *r)
{
	const struct stress_config *cfg = r->r_cfg;
	uint64_t now, next_audit, next_inject;
	uint64_t deadline = r->r_deadline_ns;
	struct host_rng rng;

	host_rng_init(&rng, cfg->seed, STREAM_INJECT);
	now = r->r_t0_ns;
	next_audit = now + AUDIT_PERIOD_NS;
	next_inject = now + INJECT_AFTER_NS;
	status_begin(r);
	while (__atomic_load_n(&r->r_ndone, __ATOMIC_ACQUIRE) < r->r_nworkers) {
		sleep_ms(HARNESS_TICK_MS);
		now = host_real_ns();
		/* -t is wall-clock time, --steps the scheduler's */
		if ((deadline != 0 && host_wall_ns() >= deadline) ||
		    dsched_exhausted())
			__atomic_store_n(&r->r_stop, 1, __ATOMIC_RELEASE);
		if (run_stopped(r) && r->r_on_stop != NULL) {
			r->r_on_stop(r);	/* once */
			r->r_on_stop = NULL;
		}
		if (__atomic_load_n(&hang_ns, __ATOMIC_ACQUIRE) != 0 &&
		    now - __atomic_load_n(&hang_ns, __ATOMIC_ACQUIRE) >
		    HANG_GRACE_NS) {
			status_end();
			hang_exit(r);
		}
		if (now >= next_audit && !run_stopped(r)) {
			run_audit(r, 0, "periodic");
			next_audit = now + AUDIT_PERIOD_NS;
		}
		if (cfg->inject == INJECT_CORRUPT && !run_stopped(r))
			run_inject(r, &rng, now, &next_inject);
		if (cfg->inject == INJECT_PANIC && now >= next_inject)
			panic("uvmstress: injected panic (--inject panic)");
		if (cfg->inject == INJECT_LOCKORDER && now >= next_inject)
			lockorder_injected(r);
		if (cfg->inject == INJECT_RACE && now >= next_inject &&
		    !__atomic_load_n(&r->r_race, __ATOMIC_RELAXED)) {
			host_printf("uvmstress: inject: the workers now race on "
			    "a plain variable\n");
			__atomic_store_n(&r->r_race, 1, __ATOMIC_RELAXED);
		}
		if (__atomic_load_n(&r->r_race, __ATOMIC_RELAXED))
			race_injected();
		if (cfg->inject == INJECT_HANG && now >= next_inject &&
		    !__atomic_load_n(&r->r_hang, __ATOMIC_RELAXED)) {
			host_printf("uvmstress: inject: every worker now sleeps "
			    "forever\n");
			__atomic_store_n(&r->r_hang, 1, __ATOMIC_RELAXED);
		}
		sanitizer_poll();
		track_free(r);
		timed_snapshots(r, false);
		status_update(r);
		if (kern_swapper_running()) {
			struct kern_swap_stats ks;

			kern_swap_stats(&ks);	/* samples the peak out */
		}
	}
	status_end();
	timed_snapshots(r, true);
}

static void
disk_stats(struct host_disk_stats *st)
{
	struct host_disk *d = uvm_swap_disk();

	memset(st, 0, sizeof(*st));
	if (d != NULL)
		host_disk_get_stats(d, st);
}

/*
 * timed_snapshots: once every worker has left its timed loop (or force),
 * the counters the rates are computed from.  => harness thread
 */
static void
timed_snapshots(struct stress_run *r, bool force)
{
	uint64_t tend = 0, t, none = 0;
	int i;

	if (__atomic_load_n(&r->r_timed, __ATOMIC_ACQUIRE))
		return;
	for (i = 0; i < r->r_nworkers; i++) {
		t = __atomic_load_n(&r->r_workers[i].w_tend_ns,
		    __ATOMIC_ACQUIRE);
		if (t == 0 && !force)
			return;
		tend = MAX(tend, t);
	}
	if (tend == 0 || tend < r->r_t0_ns)
		tend = host_real_ns();
	/* the harness or the last worker out (stress_timed_end): once */
	if (!__atomic_compare_exchange_n(&r->r_tend_ns, &none, tend, false,
	    __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
		return;
	vmstat_snapshot(&r->r_vst);
	timing_snapshot(&r->r_tbt);
	r->r_nclst = timing_classes(r->r_clst, TIMING_MAXCLASS);
	disk_stats(&r->r_diskt);
	host_mmu_get_stats(&r->r_mmut);
	host_trap_get_stats(&r->r_trapt);
	__atomic_store_n(&r->r_timed, true, __ATOMIC_RELEASE);
}

int
stress_run_workers(struct stress_run *r, void (*fn)(struct stress_worker *),
    void *ctxs, size_t ctxsize)
{
	const struct stress_config *cfg = r->r_cfg;
	uint64_t now, next_audit;
	int i, error, nready;

	r->r_worker_fn = fn;
	r->r_nworkers = cfg->lwps;
	r->r_workers = calloc((size_t)r->r_nworkers, sizeof(*r->r_workers));
	if (r->r_workers == NULL) {
		fprintf(stderr, "uvmstress: out of memory for %d workers\n",
		    r->r_nworkers);
		return EXIT_NO_RESOURCE;
	}
	mutex_init_class(&r->r_lock, MUTEX_DEFAULT, IPL_NONE, "stress_run");
	mutex_init_class(&r->r_kill_lock, MUTEX_DEFAULT, IPL_NONE,
	    "stress_kill");
	cv_init(&r->r_cv, "stressgo");

	/* The processes, each with its address space. */
	r->r_nprocs = (r->r_nworkers + cfg->threads - 1) / cfg->threads;
	r->r_procs = calloc((size_t)r->r_nprocs, sizeof(*r->r_procs));
	if (r->r_procs == NULL) {
		fprintf(stderr, "uvmstress: out of memory for %d processes\n",
		    r->r_nprocs);
		return EXIT_NO_RESOURCE;
	}
	for (i = 0; i < r->r_nprocs; i++) {
		struct stress_proc *sp = &r->r_procs[i];

		sp->sp_index = i;
		sp->sp_asid = (uint32_t)i + 1;
		sp->sp_first = i * cfg->threads;
		sp->sp_nlwps = MIN(cfg->threads, r->r_nworkers - sp->sp_first);
		sp->sp_live = sp->sp_nlwps;
		if ((error = proc_create("uvmstress", &sp->sp_proc)) != 0) {
			fprintf(stderr, "uvmstress: proc_create: %s\n",
			    strerror(error));
			return EXIT_NO_RESOURCE;
		}
		sp->sp_vm = uvmspace_alloc(PAGE_SIZE, VM_MAXUSER_ADDRESS, true);
		if (sp->sp_vm == NULL) {
			fprintf(stderr, "uvmstress: uvmspace_alloc failed for "
			    "process %d\n", i);
			return EXIT_NO_RESOURCE;
		}
		sp->sp_map = &sp->sp_vm->vm_map;
		sp->sp_pmap = vm_map_pmap(sp->sp_map);
		sp->sp_proc->p_vmspace = sp->sp_vm;
		sp->sp_proc->p_vmdata = sp;
		audit_register_map(sp->sp_map);
	}
	/* Its LWPs: worker i is LWP i % threads of process i / threads. */
	for (i = 0; i < r->r_nworkers; i++) {
		struct stress_worker *w = &r->r_workers[i];
		struct stress_proc *sp = &r->r_procs[i / cfg->threads];

		w->w_index = i;
		w->w_sp = sp;
		w->w_tid = i - sp->sp_first;
		w->w_asid = sp->sp_asid;
		w->w_run = r;
		w->w_ctx = (char *)ctxs + (size_t)i * ctxsize;
		w->w_quota = cfg->ops / (uint64_t)r->r_nworkers +
		    ((uint64_t)i < cfg->ops % (uint64_t)r->r_nworkers);
		host_rng_init(&w->w_rng, cfg->seed, STREAM_WORKER + (unsigned)i);
		w->w_proc = sp->sp_proc;
		w->w_vm = sp->sp_vm;
		w->w_map = sp->sp_map;
		w->w_pmap = sp->sp_pmap;
	}
	for (i = 0; i < r->r_nworkers; i++) {
		struct stress_worker *w = &r->r_workers[i];
		char name[24];

		snprintf(name, sizeof(name), "%s/%d", r->r_sc->sc_name, i);
		if ((error = kern_lwp_create(w->w_proc, name,
		    worker_trampoline, w, &w->w_lwp)) != 0) {
			/* the ones already running must be let go and joined */
			stress_fail(FK_VM, NULL, "lwp_create: %s",
			    strerror(error));
			for (int k = i; k < r->r_nworkers; k++)
				__atomic_sub_fetch(&r->r_workers[k].w_sp->
				    sp_live, 1, __ATOMIC_ACQ_REL);
			r->r_nworkers = i;
			break;
		}
	}

	/*
	 * Start barrier: every worker set up (or given up), then go.  Set
	 * up may be long (pressure fills its working set through the
	 * pagedaemon): audit meanwhile, and give up on a hang.
	 */
	next_audit = host_real_ns() + AUDIT_PERIOD_NS;
	for (;;) {
		mutex_enter(&r->r_lock);
		nready = r->r_nready;
		mutex_exit(&r->r_lock);
		if (nready + __atomic_load_n(&r->r_ndone, __ATOMIC_ACQUIRE) >=
		    r->r_nworkers)
			break;
		sleep_ms(2);
		now = host_real_ns();
		if (((r->r_deadline_ns != 0 && host_wall_ns() >=
		    r->r_deadline_ns) || dsched_exhausted()) &&
		    !run_stopped(r)) {
			/* the fill counts against -t: cut it */
			__atomic_store_n(&r->r_fill_cut, true,
			    __ATOMIC_RELEASE);
			__atomic_store_n(&r->r_stop, 1, __ATOMIC_RELEASE);
		}
		if (__atomic_load_n(&hang_ns, __ATOMIC_ACQUIRE) != 0 &&
		    now - __atomic_load_n(&hang_ns, __ATOMIC_ACQUIRE) >
		    HANG_GRACE_NS)
			hang_exit(r);
		sanitizer_poll();
		if (now >= next_audit && !run_stopped(r)) {
			run_audit(r, 0, "set up");
			next_audit = now + AUDIT_PERIOD_NS;
		}
	}
	vmstat_snapshot(&r->r_vs0);
	timing_snapshot(&r->r_tb0);
	r->r_ncls0 = timing_classes(r->r_cls0, TIMING_MAXCLASS);
	disk_stats(&r->r_disk0);
	host_mmu_get_stats(&r->r_mmu0);
	host_trap_get_stats(&r->r_trap0);
	r->r_free_min = r->r_vs0.vs_uvmexp.free;
	mutex_enter(&r->r_lock);
	__atomic_store_n(&r->r_t0_ns, host_real_ns(), __ATOMIC_RELEASE);
	r->r_go = true;
	cv_broadcast(&r->r_cv);
	mutex_exit(&r->r_lock);
	r->r_ran = true;

	harness_loop(r);
	__atomic_store_n(&in_teardown, 1, __ATOMIC_RELEASE);

	r->r_t1_ns = host_real_ns();
	vmstat_snapshot(&r->r_vs1);
	for (i = 0; i < r->r_nworkers; i++)
		kern_lwp_join(r->r_workers[i].w_lwp);

	/*
	 * The workers are gone.  Stop the swapper (nothing is left for it to
	 * bring in) and the daemons (their pageouts complete first): the
	 * machine is quiet now, for the exact checks.
	 */
	kern_swapper_stop();
	if (r->r_daemons)
		uvm_pdaemon_stop();
	if (cfg->inject == INJECT_CORRUPT && r->r_ninj > 0 &&
	    stress_nfailures() == 0)
		stress_fail(FK_INTEGRITY, NULL, "the oracle missed a corruption "
		    "injected at asid %u va %#lx pa %#llx",
		    r->r_inj[r->r_ninj - 1].inj_asid,
		    (unsigned long)r->r_inj[r->r_ninj - 1].inj_va,
		    (unsigned long long)r->r_inj[r->r_ninj - 1].inj_pa);
	run_audit(r, AUDIT_QUIESCENT, "end of run");
	for (i = 0; i < r->r_nprocs; i++) {
		struct stress_proc *sp = &r->r_procs[i];

		if (sp->sp_proc == NULL)
			continue;
		proc_vmspace_free(sp);	/* (a killed one's is gone) */
		proc_free(sp->sp_proc);
		sp->sp_proc = NULL;
	}
	run_audit(r, AUDIT_QUIESCENT, "after teardown");
	leak_check(r);
	__atomic_store_n(&in_teardown, 0, __ATOMIC_RELEASE);
	return 0;
}

/*
 * leak_check: every address space is gone, so no page may still be owned
 * by an anon or sit on the paging queues (the scenarios map no objects),
 * and every swap slot must be free again but the bad ones (a failed
 * write's: never reused), with no page left "only in swap".
 */
static void
leak_check(struct stress_run *r)
{
	struct vmstat_snap vs;
	const struct uvmexp *ux = &vs.vs_uvmexp;
	int inuse, bad, aoslots;

	vmstat_snapshot(&vs);
	r->r_free_end = ux->free;
	if (ux->anonpages != 0 || ux->active + ux->inactive != 0)
		stress_fail(FK_LEAK, NULL, "after every address space was "
		    "freed: %d anon pages, %d active, %d inactive (all should "
		    "be 0); %d of %d pages free", ux->anonpages, ux->active,
		    ux->inactive, ux->free, ux->npages);
	if (!r->r_swap)
		return;
	inuse = uvm_swap_inuse();
	bad = uvm_swap_nbad();
	aoslots = uao_swslots_in_use();
	r->r_swap_inuse_end = inuse;
	r->r_swap_bad_end = bad;
	if (inuse != bad + aoslots)
		stress_fail(FK_LEAK, NULL, "after every address space was "
		    "freed: %d swap slots in use, but only %d are bad and %d "
		    "belong to aobjs (the rest leaked)", inuse, bad, aoslots);
	if (aoslots == 0 && uvmexp_read(swpgonly) != 0)
		stress_fail(FK_LEAK, NULL, "after every address space was "
		    "freed: uvmexp.swpgonly is %d (pages only in swap), should "
		    "be 0", uvmexp_read(swpgonly));
}

/*
 * runner_main and its report.
 */

/*
 * json_open: the --json stream: '-' is stdout; a new path is created
 * (O_EXCL|O_NOFOLLOW); an existing regular file of this user's (never a
 * symlink) is replaced only if it is an earlier uvmstress report (it
 * starts as report_json's and panic_json_head do) or empty (a run killed
 * before its report: nothing to lose).  Anything else is refused
 * untouched: it is not ours to overwrite.
 * => the stream, or NULL with one line on stderr
 */
static FILE *
json_open(const struct stress_config *cfg)
{
	static const char head[] = "{\n  \"json_version\": ";
	static const char tool[] = ",\n  \"tool\": \"uvmstress\",";
	const char *path = cfg->json_path, *why = NULL, *p;
	struct stat st, fst;
	char buf[96];
	ssize_t n;
	FILE *f;
	int fd;

	if (path == NULL)
		return NULL;
	if (strcmp(path, "-") == 0)
		return stdout;
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	    0666);
	if (fd < 0 && errno == EEXIST) {
		if (lstat(path, &st) != 0)
			goto fail;
		if (S_ISLNK(st.st_mode))
			why = "a symbolic link";
		else if (!S_ISREG(st.st_mode))
			why = "not a regular file";
		else if (st.st_uid != geteuid())
			why = "a file of another user";
		else if ((fd = open(path, O_RDWR | O_NOFOLLOW | O_NONBLOCK |
		    O_CLOEXEC)) < 0)
			goto fail;
		else if (fstat(fd, &fst) != 0 || !S_ISREG(fst.st_mode) ||
		    fst.st_dev != st.st_dev || fst.st_ino != st.st_ino)
			why = "a file that changed while we looked at it";
		else if ((n = pread(fd, buf, sizeof(buf) - 1, 0)) < 0)
			goto fail;
		else if (n > 0) {
			buf[n] = '\0';
			p = buf + strlen(head);
			if (strncmp(buf, head, strlen(head)) == 0)
				while (*p >= '0' && *p <= '9')
					p++;
			if (strncmp(buf, head, strlen(head)) != 0 ||
			    strncmp(p, tool, strlen(tool)) != 0)
				why = "not a uvmstress JSON report";
		}
		if (why == NULL && ftruncate(fd, 0) != 0)
			goto fail;
		if (why != NULL) {
			fprintf(stderr, "uvmstress: --json %s: refused: it is "
			    "%s; uvmstress writes only a new file, '-' "
			    "(stdout), or over an earlier uvmstress report or "
			    "an empty file\n", path, why);
			if (fd >= 0)
				close(fd);
			return NULL;
		}
	}
	if (fd >= 0 && (f = fdopen(fd, "w")) != NULL)
		return f;
fail:
	fprintf(stderr, "uvmstress: --json %s: %s\n", path, strerror(errno));
	if (fd >= 0)
		close(fd);
	return NULL;
}

/* The most operations any worker did (the replay line's --ops share). */
static uint64_t
ops_per_lwp_max(const struct stress_run *r)
{
	uint64_t m = 0;
	int i;

	for (i = 0; r->r_workers != NULL && i < r->r_nworkers; i++)
		m = MAX(m, STRESS_LD(&r->r_workers[i].w_ops));
	return m;
}

/*
 * replay_by_ops: a timed run replays by its operations (the time would
 * not replay them): the replay line gets --ops for what was done.
 */
static void
replay_by_ops(struct stress_run *r)
{
	uint64_t per = ops_per_lwp_max(r);
	char *replay;

	/* a deterministic run replays from its seed and options alone */
	if (r->r_cfg->ops != 0 || per == 0 || r->r_det ||
	    (replay = options_replay(r->r_cfg, per)) == NULL)
		return;
	free(r->r_replay);
	r->r_replay = replay;
}

/*
 * verdict: the status word, and *status adjusted: a failure is "fail"
 * (2) whatever else happened; then a signal, "interrupted" (128 + the
 * signal); a harness error stays one; a run that tested nothing is
 * "short" (the time ran out in the fill) or "no-work" (no operation
 * done: every worker killed first), EXIT_UNTESTED; else skip or pass.
 */
static const char *
verdict(struct stress_run *r, int *status)
{
	int sig = __atomic_load_n(&r->r_signal, __ATOMIC_ACQUIRE);

	if (stress_nfailures() != 0) {
		*status = EXIT_FAILURE_FOUND;
		return "fail";
	}
	if (sig != 0) {
		*status = 128 + sig;
		return "interrupted";
	}
	if (*status != EXIT_PASS)
		return "error";
	if (r->r_skip != NULL)
		return "skip";
	if (r->r_ran && __atomic_load_n(&r->r_fill_cut, __ATOMIC_ACQUIRE)) {
		*status = EXIT_UNTESTED;
		return "short";
	}
	if (r->r_ran && ops_per_lwp_max(r) == 0) {
		*status = EXIT_UNTESTED;
		return "no-work";
	}
	return "pass";
}

/* The verdict: failures, summary, JSON.  => the exit status */
static int
finish(struct stress_run *r, FILE *jf, int status)
{
	const struct stress_config *cfg = r->r_cfg;
	int sig;

	char dbuf[320];

	r->r_end_ns = host_real_ns();
	sanitizer_poll();
	r->r_verdict = verdict(r, &status);
	if (stress_sched_diverged(r, dbuf, sizeof(dbuf)) != NULL) {
		/* the schedule was not this run's: a harness error */
		fprintf(stderr, "uvmstress: %s\n", dbuf);
		if (status == EXIT_PASS)
			status = EXIT_USAGE;
	}
	replay_by_ops(r);
	if (!cfg->quiet && r->r_ran)
		report_summary(r->r_out, r);
	report_failures(stderr, r);
	if (jf != NULL) {
		if (report_json(r, jf, status, NULL) != 0) {
			fprintf(stderr, "uvmstress: --json %s: write error\n",
			    cfg->json_path);
			if (status == EXIT_PASS)
				status = EXIT_USAGE;
		}
		if (jf != stdout)
			fclose(jf);
		runner_json_file = NULL;
	}
	sig = __atomic_load_n(&r->r_signal, __ATOMIC_ACQUIRE);
	if (strcmp(r->r_verdict, "interrupted") == 0)
		fprintf(r->r_out, "uvmstress: interrupted by %s in %s after "
		    "%.1f s (the counts are the run's so far)\n"
		    "uvmstress: replay with: %s\n", sig == SIGINT ? "SIGINT" :
		    "SIGTERM", r->r_sc->sc_name,
		    (double)(r->r_end_ns - r->r_start_ns) / 1e9, r->r_replay);
	else if (strcmp(r->r_verdict, "short") == 0 && r->r_det &&
	    !cfg->timeout_given)
		fprintf(r->r_out, "uvmstress: short in %s: --steps %llu ran out "
		    "in the set-up (boot and fill) before the timed phase: "
		    "nothing was tested (raise --steps, or lower the working "
		    "set)\n", r->r_sc->sc_name,
		    (unsigned long long)cfg->steps);
	else if (strcmp(r->r_verdict, "short") == 0)
		fprintf(r->r_out, "uvmstress: short in %s: -t %llu s ran out "
		    "after %.1f s of set-up (boot and fill) before the timed "
		    "phase: nothing was tested (raise -t, or lower the working "
		    "set)\n", r->r_sc->sc_name,
		    (unsigned long long)cfg->timeout_s,
		    (double)(r->r_t0_ns - r->r_start_ns) / 1e9);
	else if (strcmp(r->r_verdict, "no-work") == 0)
		fprintf(r->r_out, "uvmstress: no-work in %s: no worker did an "
		    "operation (%llu killed out of swap): nothing was tested "
		    "(give more --swap, or lower the working set)\n",
		    r->r_sc->sc_name, (unsigned long long)
		    __atomic_load_n(&r->r_kills, __ATOMIC_RELAXED));
	else if (status == EXIT_PASS)
		fprintf(r->r_out, "uvmstress: %s in %s\n", r->r_verdict,
		    r->r_sc->sc_name);
	fflush(r->r_out);
	return status;
}

int
runner_main(struct stress_config *cfg)
{
	static struct stress_run run;
	struct stress_run *r = &run;
	struct machine_config mc;
	uint64_t user, kernel, avail;
	FILE *jf = NULL;
	char *replay;
	int status, n;

	r->r_cfg = cfg;
	r->r_sc = cfg->sc;
	r->r_out = (cfg->json_path != NULL && strcmp(cfg->json_path, "-") == 0)
	    ? stderr : stdout;
	r->r_start_ns = host_real_ns();
	r->r_sched_fd = -1;
	sanitizer_init();
	host_set_quiet(cfg->quiet);
	if (cfg->timeout_s != 0) {
		r->r_deadline_ns = r->r_start_ns + cfg->timeout_s * 1000000000ull;
		r->r_checks_end_ns = r->r_deadline_ns +
		    RUN_SWEEP_GRACE_S * 1000000000ull;
		r->r_hard_ns = r->r_deadline_ns + RUN_GRACE_S * 1000000000ull;
	}
	signals_catch(r);
	if (!cfg->seed_given) {
		/* 53 bits: exact in every JSON reader */
		cfg->seed = host_rng_fresh_seed() & ((1ull << 53) - 1);
		if (cfg->seed == 0)
			cfg->seed = 1;
	}
	if ((r->r_replay = options_replay(cfg, 0)) == NULL) {
		fprintf(stderr, "uvmstress: out of memory\n");
		return EXIT_USAGE;
	}
	snprintf(panic_replay, sizeof(panic_replay), "%s", r->r_replay);
	if (cfg->ops == 0 && (replay = options_replay(cfg, 1)) != NULL) {
		char *o = strstr(replay, " --ops ");

		if (o != NULL) {
			*o = '\0';
			snprintf(panic_replay_ops, sizeof(panic_replay_ops),
			    "%s", replay);
		}
		free(replay);
	}
	if (cfg->json_path != NULL && (jf = json_open(cfg)) == NULL)
		return EXIT_USAGE;
	runner_json_file = jf;
	fprintf(r->r_out, "uvmstress: seed %llu\n", (unsigned long long)cfg->seed);
	if (!cfg->quiet) {
		char ram[32], limit[48];

		size_str(ram, sizeof(ram), cfg->ram);
		if (cfg->timeout_s != 0)
			snprintf(limit, sizeof(limit), "%llu s (fill included)",
			    (unsigned long long)cfg->timeout_s);
		else
			snprintf(limit, sizeof(limit), "no time limit");
		fprintf(r->r_out, "uvmstress: scenario %s, %d LWPs on %d CPUs, "
		    "%s RAM, %s%s\n", cfg->sc->sc_name, cfg->lwps, cfg->ncpu,
		    ram, limit, cfg->ops != 0 ? ", --ops" : "");
	}
	fflush(r->r_out);
	if (jf != NULL) {
		char esc[64];

		panic_json_fd = fileno(jf);
		json_escape(esc, sizeof(esc), cfg->sc->sc_name);
		snprintf(panic_json_head, sizeof(panic_json_head),
		    "{\n  \"json_version\": 1,\n  \"tool\": \"uvmstress\",\n"
		    "  \"version\": \"%s\",\n  \"seed\": %llu,\n"
		    "  \"scenario\": \"%s\",\n", STRESS_VERSION,
		    (unsigned long long)cfg->seed, esc);
		if (sanitizer_tsan()) {
			char rep[sizeof(panic_replay) * 2];

			json_escape(rep, sizeof(rep), panic_replay);
			if (snprintf(halt_json, sizeof(halt_json), "%s  \"status\": "
			    "\"fail\",\n  \"exit_status\": %d,\n  \"partial\": "
			    "true,\n  \"failures\": [\n    {\n      \"kind\": "
			    "\"%s\",\n      \"message\": \"ThreadSanitizer ended "
			    "the run at its first report (halt_on_error): the "
			    "report is on stderr\",\n      \"replay\": \"%s\"\n"
			    "    }\n  ]\n}\n", panic_json_head, EXIT_FAILURE_FOUND,
			    FK_TSAN, rep) >= (int)sizeof(halt_json))
				halt_json[0] = '\0';	/* (too long: none) */
		}
	}

	if (cfg->sc->sc_skip != NULL &&
	    (r->r_skip = cfg->sc->sc_skip(cfg)) != NULL) {
		fprintf(r->r_out, "uvmstress: skip %s: %s\n", cfg->sc->sc_name,
		    r->r_skip);
		return finish(r, jf, EXIT_PASS);
	}

	host_set_panic_hook(panic_hook);
	host_set_limit_hook(limit_hook);
	machine_config_default(&mc);
	mc.mc_ram = cfg->ram;
	mc.mc_lwps = cfg->lwps;
	mc.mc_map_budget = cfg->map_budget;
	mc.mc_mod_trap = cfg->mod_trap;
	mc.mc_reserve_closes = cfg->reserve_closes;
	mc.mc_ncpu = cfg->ncpu;
	mc.mc_seed = cfg->seed;
	mc.mc_bind = cfg->bind;
	mc.mc_witness = cfg->witness;
	mc.mc_watchdog_s = 0;		/* ours, with on_hang, below */
	mc.mc_chaos_permille = cfg->chaos;
	mc.mc_chaos_delay_us = cfg->chaos != 0 ? 50 : 0;
	mc.mc_timescale = cfg->timescale;
	/* --sched: from here on one machine thread runs at a time */
	if ((status = stress_sched_begin(r)) != 0) {
		if (jf != NULL && jf != stdout)
			fclose(jf);
		return status;
	}
	if ((status = host_boot(&mc)) != 0) {
		stress_sched_end(r);
		fprintf(stderr, "uvmstress: %s\n", host_boot_error());
		if (jf != NULL) {
			report_json(r, jf, status, host_boot_error());
			if (jf != stdout)
				fclose(jf);
		}
		return status;
	}
	uvm_init();
	kern_set_glue(cfg->glue_freebsd ? UVM_GLUE_FREEBSD : UVM_GLUE_NETBSD);
	kern_set_swapper((enum kern_swapper_kind)cfg->swapper);
	kern_swap_tune(cfg->maxslp, cfg->idle_t1, cfg->idle_t2, cfg->swap_idle);
	uvm_fault_set_ahead(cfg->fault_ahead_advice ? UVM_FAULTAHEAD_ADVICE :
	    UVM_FAULTAHEAD_WALK);
	if ((status = swap_attach(r)) != 0) {
		machine_down(r);
		if (jf != NULL && jf != stdout)
			fclose(jf);
		return status;
	}

	/* The exact working-set check, now that the VM has counted. */
	user = options_working_set(cfg, &kernel);
	mtx_enter(&uvm.fpageqlock);
	n = uvmexp.free;
	mtx_leave(&uvm.fpageqlock);
	avail = (uint64_t)MAX(n - uvmexp.reserve_kernel -
	    uvmexp.reserve_pagedaemon, 0);
	if (!r->r_swap && user > avail) {
		fprintf(stderr, "uvmstress: working set of %llu user pages "
		    "exceeds the %llu pages free after boot and there is no "
		    "swap: give --swap SIZE, lower --lwps or --pages, or raise "
		    "--ram (try --help)\n", (unsigned long long)user,
		    (unsigned long long)avail);
		machine_down(r);
		if (jf != NULL && jf != stdout)
			fclose(jf);
		return EXIT_USAGE;
	}
	if (r->r_swap && !cfg->quiet && (cfg->overcommit ||
	    user > avail + (uint64_t)uvmexp.swpages))
		fprintf(r->r_out, "uvmstress: notice: the working set (%llu "
		    "pages) exceeds RAM + swap (%llu + %d pages free): "
		    "out-of-swap kills are expected%s\n",
		    (unsigned long long)user, (unsigned long long)avail,
		    uvmexp.swpages, cfg->oom_is_failure ?
		    " (and --oom-is-failure makes them failures)" : "");

	/* A buffer cache for the pagedaemon to back off, full. */
	if (cfg->bufcache != 0) {
		if ((n = uvm_bufcache_setsize((long)(cfg->bufcache /
		    PAGE_SIZE))) != 0) {
			fprintf(stderr, "uvmstress: --bufcache %llu MiB: %s\n",
			    (unsigned long long)(cfg->bufcache >> 20),
			    strerror(n));
			machine_down(r);
			if (jf != NULL && jf != stdout)
				fclose(jf);
			return EXIT_USAGE;
		}
		r->r_bc_filled = uvm_bufcache_fill((long)(cfg->bufcache /
		    PAGE_SIZE), 0);
	}

	/* Where the time goes: the hook runs from here on. */
	timing_start();
	if (cfg->reclaim) {
		if ((n = uvm_pdaemon_start()) != 0) {
			fprintf(stderr, "uvmstress: cannot start the pagedaemon: "
			    "%s\n", strerror(n));
			machine_down(r);
			if (jf != NULL && jf != stdout)
				fclose(jf);
			return EXIT_NO_RESOURCE;
		}
		r->r_daemons = true;
		if ((n = kern_swapper_start()) != 0) {
			fprintf(stderr, "uvmstress: cannot start the swapper: "
			    "%s\n", strerror(n));
			machine_down(r);
			if (jf != NULL && jf != stdout)
				fclose(jf);
			return EXIT_NO_RESOURCE;
		}
	}
	/* --fail-alloc: NOWAIT allocations fail from here on (seeded) */
	host_fail_alloc_set(cfg->fail_alloc, cfg->seed ^ STREAM_FAILALLOC);

	witness_set_handler(witness_handler);
	cur_run = r;
	if (cfg->watchdog_s != 0 &&
	    (n = host_watchdog_start(cfg->watchdog_s, on_hang)) != 0) {
		fprintf(stderr, "uvmstress: cannot start the watchdog: %s\n",
		    strerror(n));
		machine_down(r);
		return EXIT_NO_RESOURCE;
	}

	overtime_start(r);
	status = cfg->sc->sc_run(r);

	host_watchdog_stop();
	stress_sched_end(r);	/* the trace ends; shutdown runs free */
	if (witness_inversions() != 0) {
		int i, seen = 0;

		for (i = 0; i < MIN(stress_nfailures(), STRESS_MAXFAIL); i++)
			if (stress_failure(i) != NULL &&
			    strcmp(stress_failure(i)->f_kind, FK_LOCKORDER) == 0)
				seen = 1;
		if (!seen)
			stress_fail(FK_LOCKORDER, NULL, "%u lock-order "
			    "inversions", witness_inversions());
	}
	status = finish(r, jf, status);
	/*
	 * The run is over, its verdict out: the machine's own shutdown
	 * (closing the swap file, whose blocks the host then frees: seconds
	 * for a large one) is not the run's, and not bounded by -t.
	 */
	overtime_stop();
	witness_set_handler(NULL);
	cur_run = NULL;
	machine_down(r);
	signals_restore();
	__atomic_store_n(&final_status, status, __ATOMIC_RELEASE);
	return status;
}

/*
 * swap_attach: the swap device, if the run has swap, with its fault
 * injection.  => 0, or the exit status (message printed): EXIT_USAGE for
 * a size the swap layer refuses or a path that is not ours to write,
 * EXIT_NO_RESOURCE when the host refuses the file (path, permissions,
 * room, in use)
 */
static int
swap_attach(struct stress_run *r)
{
	const struct stress_config *cfg = r->r_cfg;
	int error, flags = 0;

	if (cfg->swap == 0)
		return 0;
	if (cfg->swap_buffered)
		flags |= HOST_DISK_BUFFERED;
	if (cfg->keep_swap)
		flags |= HOST_DISK_KEEP;
	error = uvm_swap_attach(cfg->swap_file, cfg->swap / PAGE_SIZE, flags);
	if (error != 0) {
		fprintf(stderr, "uvmstress: cannot attach swap: %s\n",
		    uvm_swap_error()[0] != '\0' ? uvm_swap_error() :
		    strerror(error));
		/* EEXIST: a path not ours to write (options_check said) */
		return error == EINVAL || error == EEXIST ? EXIT_USAGE :
		    EXIT_NO_RESOURCE;
	}
	r->r_swap = true;
	/*
	 * A file the disk made is unlinked already, unless kept: it lives
	 * exactly as long as the run, however the run ends.  A reused file
	 * is the user's and stays (host_disk_open).
	 */
	snprintf(r->r_swap_path, sizeof(r->r_swap_path), "%s",
	    host_disk_path(uvm_swap_disk()));
	if (cfg->fail_io != 0)
		host_disk_set_fail_rate(uvm_swap_disk(), cfg->fail_io);
	if (cfg->lose_io != 0)
		host_disk_set_rot_rate(uvm_swap_disk(), cfg->lose_io);
	return 0;
}

/* machine_down: daemons, timing hook, VM, swap, machine, in that order. */
static void
machine_down(struct stress_run *r)
{
	stress_sched_end(r);		/* a no-op if not running */
	kern_swapper_stop();		/* a no-op if not running */
	uvm_pdaemon_stop();		/* a no-op if not running */
	if (r->r_swap) {
		uvm_swap_detach();	/* nothing is in flight any more */
		if (r->r_cfg->keep_swap)
			fprintf(r->r_out, "uvmstress: swap file kept: %s\n",
			    r->r_swap_path);
		r->r_swap = false;
	}
	timing_stop();
	uvm_shutdown();
	host_shutdown();
}
