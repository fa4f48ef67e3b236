/*
 * stress/runner.c: the run (see runner.h): boot, workers, the harness
 * loop, failures, the fatal paths (panic, hang), and the verdict.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "audit.h"
#include "host/clock.h"
#include "host/hook.h"
#include "host/kassert.h"
#include "host/sleepq.h"
#include "host/machine.h"
#include "host/thread.h"
#include "host/watchdog.h"
#include "host/witness.h"
#include "integrity.h"
#include "runner.h"
#include "timing.h"
#include "vm/uvm.h"
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
#define STREAM_INJECT		0xfeedu

static struct stress_failure failures[STRESS_MAXFAIL];
static unsigned int nfailures;			/* [a] slots claimed */
static struct stress_run *cur_run;		/* [I] during the run */
static FILE *runner_json_file;			/* [I] the --json stream */
static uint64_t hang_ns;			/* [a] when the watchdog fired */
static int in_teardown;				/* [a] past the harness loop */

/* For the panic hook, which may not allocate: formatted before boot. */
static char panic_replay[4096];
static char panic_json_head[512];
static int panic_json_fd = -1;

/* local prototypes */
static void err_write(const char *s);
static void panic_hook(const char *msg);
static void witness_handler(const char *report);
static void on_hang(void);
static void worker_trampoline(void *arg);
static void harness_loop(struct stress_run *r);
static void run_audit(struct stress_run *r, int flags, const char *when);
static void run_inject(struct stress_run *r, struct host_rng *rng,
    uint64_t now, uint64_t *next);
static void hang_exit(struct stress_run *r) __noreturn;
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

static void
sleep_ms(unsigned ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
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
 * panic_hook: the panic has been printed; add the replay line, leave a
 * small JSON report behind, and end with "failure found".
 * => never allocates (write(2), a stack buffer, json_escape)
 */
static void
panic_hook(const char *msg)
{
	char buf[2048], esc[1200];

	err_write("uvmstress: FAIL panic: ");
	err_write(msg);
	err_write("\nuvmstress: replay with: ");
	err_write(panic_replay);
	err_write("\n");
	if (panic_json_fd >= 0) {
		if (panic_json_fd != STDOUT_FILENO) {
			(void)!ftruncate(panic_json_fd, 0);
			(void)lseek(panic_json_fd, 0, SEEK_SET);
		}
		(void)!write(panic_json_fd, panic_json_head,
		    strlen(panic_json_head));
		json_escape(esc, sizeof(esc), msg);
		snprintf(buf, sizeof(buf), "  \"status\": \"fail\",\n"
		    "  \"exit_status\": %d,\n  \"partial\": true,\n"
		    "  \"failures\": [\n    {\n      \"kind\": \"panic\",\n"
		    "      \"message\": \"%s\",\n      \"replay\": \"",
		    EXIT_FAILURE_FOUND, esc);
		(void)!write(panic_json_fd, buf, strlen(buf));
		json_escape(buf, sizeof(buf), panic_replay);
		(void)!write(panic_json_fd, buf, strlen(buf));
		(void)!write(panic_json_fd, "\"\n    }\n  ]\n}\n", 14);
	}
	_exit(EXIT_FAILURE_FOUND);
}

/* witness_handler: an inversion is a failure, not a panic. */
static void
witness_handler(const char *report)
{
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
	return !__atomic_load_n(&w->w_run->r_stop, __ATOMIC_ACQUIRE);
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

	if (__atomic_load_n(&r->r_stop, __ATOMIC_ACQUIRE)) {
		stress_timed_end(w);
		return false;
	}
	if (__predict_false(__atomic_load_n(&r->r_hang, __ATOMIC_RELAXED)))
		(void)tsleep_nsec(&r->r_hang, PVM, "injhang", INFSLP);
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
	if (STRESS_LD(&w->w_tend_ns) == 0)
		__atomic_store_n(&w->w_tend_ns, host_real_ns(),
		    __ATOMIC_RELEASE);
}

bool
stress_killed(const struct stress_worker *w)
{
	return __atomic_load_n(&w->w_killed, __ATOMIC_ACQUIRE) != 0;
}

void
stress_oom_kill(struct stress_worker *w, const struct host_user_fault *uf)
{
	struct stress_run *r = w->w_run;
	struct vmspace *vm = w->w_vm;
	/* (w_lwp is the harness's: lwp_create sets it after we started) */
	int pid = w->w_proc->p_pid, lid = curlwp->l_lid;

	/* UVM: "pid %d (%s), uid %d killed: out of swap" */
	fprintf(r->r_out, "uvmstress: out of swap: killing pid %d (lwp %d): "
	    "a fault at va %#lx (%s) was refused with ENOMEM; %d of %d swap "
	    "slots hold pages that are only in swap\n", pid, lid,
	    (unsigned long)uf->uf_addr,
	    uf->uf_access == VM_PROT_WRITE ? "write" : "read",
	    uvmexp_read(swpgonly), uvmexp.swpages);
	fflush(r->r_out);
	__atomic_fetch_add(&r->r_kills, 1, __ATOMIC_RELAXED);
	stress_timed_end(w);

	/* the injector must not reach into the address space any more */
	mutex_enter(&r->r_kill_lock);
	__atomic_store_n(&w->w_killed, 1, __ATOMIC_RELEASE);
	mutex_exit(&r->r_kill_lock);

	/* exit: the address space goes (the process is reaped at the end) */
	audit_unregister_map(w->w_map);
	mutex_enter(&w->w_proc->p_lock);
	w->w_proc->p_vmspace = NULL;
	mutex_exit(&w->w_proc->p_lock);
	uvmspace_free(vm);
	w->w_vm = NULL;
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
	if (r->r_cfg->verbose > 1)
		fprintf(r->r_out, "uvmstress: audit (%s): %" PRIu64 " checks, "
		    "%u violations\n", when, (uint64_t)ar.nchecks,
		    ar.nviolations);
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
 * hang_exit: the watchdog fired and the workers did not come back: report
 * what we have (counters read without locks: a lock may be what hangs)
 * and end the process without joining them.
 */
static void
hang_exit(struct stress_run *r)
{
	r->r_t1_ns = host_real_ns();
	vmstat_snapshot_nolock(&r->r_vs1);
	report_failures(stderr, r);
	if (runner_json_file != NULL) {
		report_json(r, runner_json_file, EXIT_FAILURE_FOUND, NULL);
		fflush(runner_json_file);
	}
	fflush(stdout);
	_exit(EXIT_FAILURE_FOUND);
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
	uint64_t now, next_audit, next_inject, deadline = 0;
	struct host_rng rng;

	host_rng_init(&rng, cfg->seed, STREAM_INJECT);
	now = r->r_t0_ns;
	next_audit = now + AUDIT_PERIOD_NS;
	next_inject = now + INJECT_AFTER_NS;
	if (cfg->timeout_s != 0)
		deadline = now + cfg->timeout_s * 1000000000ull;
	status_begin(r);
	while (__atomic_load_n(&r->r_ndone, __ATOMIC_ACQUIRE) < r->r_nworkers) {
		sleep_ms(HARNESS_TICK_MS);
		now = host_real_ns();
		if (deadline != 0 && now >= deadline)
			__atomic_store_n(&r->r_stop, 1, __ATOMIC_RELEASE);
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
		if (cfg->inject == INJECT_HANG && now >= next_inject &&
		    !__atomic_load_n(&r->r_hang, __ATOMIC_RELAXED)) {
			host_printf("uvmstress: inject: every worker now sleeps "
			    "forever\n");
			__atomic_store_n(&r->r_hang, 1, __ATOMIC_RELAXED);
		}
		track_free(r);
		timed_snapshots(r, false);
		status_update(r);
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
	uint64_t tend = 0, t;
	int i;

	if (r->r_timed)
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
	r->r_tend_ns = tend;
	vmstat_snapshot(&r->r_vst);
	timing_snapshot(&r->r_tbt);
	r->r_nclst = timing_classes(r->r_clst, TIMING_MAXCLASS);
	disk_stats(&r->r_diskt);
	host_mmu_get_stats(&r->r_mmut);
	host_trap_get_stats(&r->r_trapt);
	r->r_timed = true;
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

	/* A process and an address space per worker. */
	for (i = 0; i < r->r_nworkers; i++) {
		struct stress_worker *w = &r->r_workers[i];

		w->w_index = i;
		w->w_asid = (uint32_t)i + 1;
		w->w_run = r;
		w->w_ctx = (char *)ctxs + (size_t)i * ctxsize;
		w->w_quota = cfg->ops / (uint64_t)r->r_nworkers +
		    ((uint64_t)i < cfg->ops % (uint64_t)r->r_nworkers);
		host_rng_init(&w->w_rng, cfg->seed, STREAM_WORKER + (unsigned)i);
		if ((error = proc_create("uvmstress", &w->w_proc)) != 0) {
			fprintf(stderr, "uvmstress: proc_create: %s\n",
			    strerror(error));
			return EXIT_NO_RESOURCE;
		}
		w->w_vm = uvmspace_alloc(PAGE_SIZE, VM_MAXUSER_ADDRESS, true);
		if (w->w_vm == NULL) {
			fprintf(stderr, "uvmstress: uvmspace_alloc failed for "
			    "worker %d\n", i);
			return EXIT_NO_RESOURCE;
		}
		w->w_map = &w->w_vm->vm_map;
		w->w_pmap = vm_map_pmap(w->w_map);
		w->w_proc->p_vmspace = w->w_vm;
		w->w_proc->p_vmdata = w;
		audit_register_map(w->w_map);
	}
	for (i = 0; i < r->r_nworkers; i++) {
		struct stress_worker *w = &r->r_workers[i];
		char name[24];

		snprintf(name, sizeof(name), "%s/%d", r->r_sc->sc_name, i);
		if ((error = lwp_create(w->w_proc, name, 0, worker_trampoline,
		    w, &w->w_lwp)) != 0) {
			/* the ones already running must be let go and joined */
			stress_fail(FK_VM, NULL, "lwp_create: %s",
			    strerror(error));
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
		if (__atomic_load_n(&hang_ns, __ATOMIC_ACQUIRE) != 0 &&
		    now - __atomic_load_n(&hang_ns, __ATOMIC_ACQUIRE) >
		    HANG_GRACE_NS)
			hang_exit(r);
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
		lwp_join(r->r_workers[i].w_lwp);

	/*
	 * The workers are gone.  Stop the daemons (their pageouts complete
	 * first): the machine is quiet now, for the exact checks.
	 */
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
	for (i = 0; i < cfg->lwps; i++) {
		struct stress_worker *w = &r->r_workers[i];

		if (w->w_proc == NULL)
			continue;
		if (w->w_vm != NULL) {	/* (a killed one's is gone) */
			audit_unregister_map(w->w_map);
			w->w_proc->p_vmspace = NULL;
			uvmspace_free(w->w_vm);
			w->w_vm = NULL;
		}
		proc_free(w->w_proc);
		w->w_proc = NULL;
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

static FILE *
json_open(const struct stress_config *cfg)
{
	FILE *f;

	if (cfg->json_path == NULL)
		return NULL;
	if (strcmp(cfg->json_path, "-") == 0)
		return stdout;
	if ((f = fopen(cfg->json_path, "w")) == NULL)
		fprintf(stderr, "uvmstress: --json %s: %s\n", cfg->json_path,
		    strerror(errno));
	return f;
}

/* The verdict: failures, summary, JSON.  => the exit status */
static int
finish(struct stress_run *r, FILE *jf, int status)
{
	const struct stress_config *cfg = r->r_cfg;

	if (stress_nfailures() != 0)
		status = EXIT_FAILURE_FOUND;
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
	if (status == EXIT_PASS)
		fprintf(r->r_out, "uvmstress: %s in %s\n", r->r_skip != NULL ?
		    "skipped" : "pass", r->r_sc->sc_name);
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
	int status, n;

	r->r_cfg = cfg;
	r->r_sc = cfg->sc;
	r->r_out = (cfg->json_path != NULL && strcmp(cfg->json_path, "-") == 0)
	    ? stderr : stdout;
	if (!cfg->seed_given) {
		/* 53 bits: exact in every JSON reader */
		cfg->seed = host_rng_fresh_seed() & ((1ull << 53) - 1);
		if (cfg->seed == 0)
			cfg->seed = 1;
	}
	if ((r->r_replay = options_replay(cfg)) == NULL) {
		fprintf(stderr, "uvmstress: out of memory\n");
		return EXIT_USAGE;
	}
	snprintf(panic_replay, sizeof(panic_replay), "%s", r->r_replay);
	if (cfg->json_path != NULL && (jf = json_open(cfg)) == NULL)
		return EXIT_USAGE;
	runner_json_file = jf;
	fprintf(r->r_out, "uvmstress: seed %llu\n", (unsigned long long)cfg->seed);
	if (!cfg->quiet)
		fprintf(r->r_out, "uvmstress: scenario %s, %d LWPs on %d CPUs, "
		    "%llu MiB RAM, %s%llu s%s\n", cfg->sc->sc_name, cfg->lwps,
		    cfg->ncpu, (unsigned long long)(cfg->ram >> 20),
		    cfg->timeout_s != 0 ? "" : "no time limit, ",
		    (unsigned long long)cfg->timeout_s,
		    cfg->ops != 0 ? ", --ops" : "");
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
	}

	if (cfg->sc->sc_skip != NULL &&
	    (r->r_skip = cfg->sc->sc_skip(cfg)) != NULL) {
		fprintf(r->r_out, "uvmstress: skip %s: %s\n", cfg->sc->sc_name,
		    r->r_skip);
		return finish(r, jf, EXIT_PASS);
	}

	host_set_panic_hook(panic_hook);
	machine_config_default(&mc);
	mc.mc_ram = cfg->ram;
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
	if ((status = host_boot(&mc)) != 0) {
		fprintf(stderr, "uvmstress: %s\n", host_boot_error());
		if (jf != NULL) {
			report_json(r, jf, status, host_boot_error());
			if (jf != stdout)
				fclose(jf);
		}
		return status;
	}
	uvm_init();
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
	if (r->r_swap && (cfg->overcommit ||
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
	}

	witness_set_handler(witness_handler);
	cur_run = r;
	if (cfg->watchdog_s != 0 &&
	    (n = host_watchdog_start(cfg->watchdog_s, on_hang)) != 0) {
		fprintf(stderr, "uvmstress: cannot start the watchdog: %s\n",
		    strerror(n));
		machine_down(r);
		return EXIT_NO_RESOURCE;
	}

	status = cfg->sc->sc_run(r);

	host_watchdog_stop();
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
	witness_set_handler(NULL);
	cur_run = NULL;
	machine_down(r);
	return status;
}

/*
 * swap_attach: the swap device, if the run has swap, with its fault
 * injection.  => 0, or the exit status (message printed): EXIT_USAGE for
 * a size the swap layer refuses, EXIT_NO_RESOURCE when the host refuses
 * the file (path, permissions, room)
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
		return error == EINVAL ? EXIT_USAGE : EXIT_NO_RESOURCE;
	}
	r->r_swap = true;
	snprintf(r->r_swap_path, sizeof(r->r_swap_path), "%s",
	    host_disk_path(uvm_swap_disk()));
	/*
	 * Unless it is kept, the file goes from the directory now: the disk
	 * holds it open, so it lives exactly as long as the run, however
	 * the run ends (a panic, a hang, a signal, a sanitizer's abort).
	 * (The disk's own unlink at close then finds nothing, which is
	 * fine.)
	 */
	if (!cfg->keep_swap)
		(void)unlink(r->r_swap_path);
	if (cfg->fail_io != 0)
		host_disk_set_fail_rate(uvm_swap_disk(), cfg->fail_io);
	return 0;
}

/* machine_down: daemons, timing hook, VM, swap, machine, in that order. */
static void
machine_down(struct stress_run *r)
{
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
