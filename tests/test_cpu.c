/*
 * tests/test_cpu.c: host/cpu.c (simulated CPUs, the run queue, hand-off).
 *
 * Each test sets the machine up itself (clock, CPUs, proc0) in its own
 * forked process.  LWP bodies count what they see in atomics; the test
 * thread, which is not an LWP and needs no CPU, waits for conditions with
 * a bounded poll (wait_until) and never relies on a sleep being "long
 * enough" for what it asserts.
 *
 * Exclusivity is measured with a "running now" counter that an LWP
 * raises on entry to a stretch of code and lowers on exit, yielding the
 * host CPU in between: the largest value seen is how many LWPs were on
 * simulated CPUs at once.
 */
#include "host/clock.h"
#include "host/cpu.h"
#include "host/kassert.h"
#include "host/lwp.h"
#include "host/mutex.h"
#include "host/sleepq.h"
#include "host/thread.h"

#include <sched.h>
#include <stdatomic.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>

#define WAIT_NS		(5ull * 1000 * 1000 * 1000)	/* bound of any wait */
#define HANG_ALARM_S	20		/* a test that runs this long hangs */
#include "hosttest.h"
#define NLWP		4

/* The exclusivity workers' shared state. */
struct excl {
	atomic_int	x_running;	/* LWPs inside the stretch now */
	atomic_int	x_max;		/* the most seen at once */
	atomic_bool	x_stop;
	atomic_long	x_count[NLWP];	/* stretches done, per worker */
};

struct excl_arg {
	struct excl	*ea_x;
	int		ea_i;
};

/* What an LWP saw of itself. */
struct self_view {
	struct lwp	*sv_curlwp;
	struct proc	*sv_curproc;
	struct cpu_info	*sv_curcpu;
	struct lwp	*sv_ci_curlwp;
	struct cpu_info	*sv_l_cpu;
	int		sv_cpu_number;
	int		sv_stat;
	int		sv_pflag;
	atomic_bool	sv_done;
};

/* A holder that keeps its CPU until told, and a follower. */
struct hold {
	atomic_bool	h_running;
	atomic_bool	h_go;
	atomic_bool	h_lock_preempted;	/* yielded holding a lock */
	atomic_bool	h_q_ran_early;		/* Q ran before H let go */
	atomic_bool	h_q_ran;
	atomic_bool	h_done;
};

static struct hold *the_hold;		/* for the follower */

/* local prototypes */
static struct lwp *spawn(struct proc *p, const char *name,
    void (*fn)(void *), void *arg);
static long nivcsw_of(struct lwp *l);
static void excl_enter(struct excl *x);
static void excl_worker(void *arg);
static bool all_counted(struct excl *x, long n);
static void self_worker(void *arg);
static void holder_worker(void *arg);
static void follower_worker(void *arg);
static bool preempted_since(long nivcsw0);
static void lock_holder_worker(void *arg);
static void sleeper_worker(void *arg);





static long
nivcsw_of(struct lwp *l)
{
	long n;

	lwp_lock(l);
	n = l->l_ru.ru_nivcsw;
	lwp_unlock(l);
	return n;
}

static void
excl_enter(struct excl *x)
{
	int n = atomic_fetch_add(&x->x_running, 1) + 1;
	int m = atomic_load(&x->x_max);

	while (n > m && !atomic_compare_exchange_weak(&x->x_max, &m, n))
		continue;
}

/*
 * excl_worker: stretches of "kernel code" with host yields inside and no
 * lock held, a preemption point between them.
 */
static void
excl_worker(void *arg)
{
	struct excl_arg *ea = arg;
	struct excl *x = ea->ea_x;

	while (!atomic_load(&x->x_stop)) {
		excl_enter(x);
		sched_yield();
		sched_yield();
		atomic_fetch_sub(&x->x_running, 1);
		atomic_fetch_add(&x->x_count[ea->ea_i], 1);
		preempt();
	}
}

static bool
all_counted(struct excl *x, long n)
{
	int i;

	for (i = 0; i < NLWP; i++)
		if (atomic_load(&x->x_count[i]) < n)
			return false;
	return true;
}

static void
self_worker(void *arg)
{
	struct self_view *sv = arg;
	struct lwp *l = curlwp;

	sv->sv_curlwp = l;
	sv->sv_curproc = curproc;
	sv->sv_curcpu = curcpu();
	sv->sv_ci_curlwp = curcpu() != NULL ? curcpu()->ci_curlwp : NULL;
	sv->sv_cpu_number = cpu_number();
	lwp_lock(l);
	sv->sv_stat = l->l_stat;
	sv->sv_pflag = l->l_pflag;
	sv->sv_l_cpu = l->l_cpu;
	lwp_unlock(l);
	atomic_store(&sv->sv_done, true);
}

/* holder_worker: keep the CPU (no preemption point) until h_go. */
static void
holder_worker(void *arg)
{
	struct hold *h = arg;

	atomic_store(&h->h_running, true);
	while (!atomic_load(&h->h_go))
		sched_yield();
	if (atomic_load(&h->h_q_ran))
		atomic_store(&h->h_q_ran_early, true);
	preempt();		/* asked to reschedule: Q runs here */
	atomic_store(&h->h_done, true);
}

static void
follower_worker(void *arg __unused)
{
	atomic_store(&the_hold->h_q_ran, true);
}

/* Did the calling LWP yield (to Q) since its count was nivcsw0? */
static bool
preempted_since(long nivcsw0)
{
	long n;

	lwp_lock(curlwp);
	n = curlwp->l_ru.ru_nivcsw;
	lwp_unlock(curlwp);
	return n != nivcsw0 || atomic_load(&the_hold->h_q_ran);
}

/*
 * lock_holder_worker: a reschedule request is pending and Q waits, but
 * H holds a spin mutex, then an adaptive one: preempt() must keep the
 * CPU both times.  With no lock held it yields.
 */
static void
lock_holder_worker(void *arg)
{
	struct hold *h = arg;
	kmutex_t spin, adaptive;

	mutex_init(&spin, MUTEX_SPIN, IPL_VM);
	mutex_init(&adaptive, MUTEX_DEFAULT, IPL_NONE);
	atomic_store(&h->h_running, true);
	while (!atomic_load(&h->h_go))
		sched_yield();
	mutex_enter(&spin);
	preempt();
	if (preempted_since(0))
		atomic_store(&h->h_lock_preempted, true);
	mutex_exit(&spin);
	mutex_enter(&adaptive);
	preempt();
	if (preempted_since(0))
		atomic_store(&h->h_lock_preempted, true);
	mutex_exit(&adaptive);
	mutex_destroy(&spin);
	mutex_destroy(&adaptive);
	preempt();		/* the request is still pending */
	atomic_store(&h->h_done, true);
}

/* sleeper_worker: n one-tick timed sleeps, each a CPU release. */
static void
sleeper_worker(void *arg)
{
	int i, n = *(int *)arg;

	for (i = 0; i < n; i++)
		(void)tsleep(&n, 0, "cpuslp", 1);
}

Test(cpu, init_rejects_bad_counts)
{
	cr_assert_eq(host_cpu_init(0), EINVAL);
	cr_assert_eq(host_cpu_init(-1), EINVAL);
	cr_assert_eq(host_cpu_init(MAXCPUS + 1), EINVAL);
	cr_assert_eq(host_cpu_init(MAXCPUS), 0);
	cr_assert_eq(ncpu, MAXCPUS);
	cr_assert_eq(host_cpu_init(3), 0);
	cr_assert_eq(ncpu, 3);
	cr_assert_eq(cpu_info_store[2].ci_index, 2);
	cr_assert_null(cpu_info_store[0].ci_curlwp);
	cr_assert_eq(sched_nrunnable(), 0);
	host_cpu_fini();	/* all idle: no panic */
}

Test(cpu, outside_an_lwp_there_is_no_curlwp_or_curcpu)
{
	machine_setup_alarm(100, 1, 2, HANG_ALARM_S);
	cr_assert_null(curlwp);
	cr_assert_null(curcpu());
	(void)host_thread_self();	/* registered, still not an LWP */
	cr_assert_null(curlwp);
	cr_assert_null(curproc);
	cr_assert_null(curcpu());
	cr_assert_eq(cpu_number(), -1);
	/* Kernel entry points are harmless for a non-LWP thread. */
	preempt();
	lwp_block(&ncpu, "nolwp", &sleep_syncobj);
	lwp_unblock();
}

Test(cpu, inside_an_lwp_curlwp_and_curcpu_agree)
{
	struct self_view sv = { 0 };
	struct proc *p;
	struct lwp *l;
	int i;

	machine_setup_alarm(100, 1, 2, HANG_ALARM_S);
	cr_assert_eq(proc_create("selfview", &p), 0);
	l = spawn(p, "self", self_worker, &sv);
	wait_until(atomic_load(&sv.sv_done));
	cr_assert_eq(sv.sv_curlwp, l);
	cr_assert_eq(sv.sv_curproc, p);
	cr_assert_not_null(sv.sv_curcpu);
	cr_assert_eq(sv.sv_ci_curlwp, l, "ci_curlwp is not curlwp");
	cr_assert_eq(sv.sv_l_cpu, sv.sv_curcpu);
	cr_assert_eq(sv.sv_stat, LSONPROC);
	cr_assert(sv.sv_pflag & LP_RUNNING);
	i = sv.sv_cpu_number;
	cr_assert(i >= 0 && i < ncpu, "cpu_number %d", i);
	cr_assert_eq(&cpu_info_store[i], sv.sv_curcpu);
	lwp_join(l);
	proc_free(p);
	host_cpu_fini();
}

Test(cpu, one_cpu_runs_one_lwp_at_a_time)
{
	struct excl x = { 0 };
	struct excl_arg ea[NLWP];
	struct lwp *l[NLWP];
	struct cpu_stats st;
	struct proc *p;
	int i;

	machine_setup_alarm(100, 50, 1, HANG_ALARM_S);	/* a tick every 200 us */
	cr_assert_eq(proc_create("excl1", &p), 0);
	for (i = 0; i < NLWP; i++) {
		ea[i].ea_x = &x;
		ea[i].ea_i = i;
		l[i] = spawn(p, "excl", excl_worker, &ea[i]);
	}
	/* Only the hardclock's preemption interleaves them. */
	cr_assert_eq(host_clock_start(), 0);
	wait_until(all_counted(&x, 200));
	atomic_store(&x.x_stop, true);
	for (i = 0; i < NLWP; i++)
		lwp_join(l[i]);
	host_clock_stop();

	cr_assert_eq(atomic_load(&x.x_max), 1,
	    "%d LWPs ran at once on one CPU", atomic_load(&x.x_max));
	cpu_get_stats(0, &st);
	cr_assert_gt(st.cs_nswitch, NLWP, "no switches: %llu",
	    (unsigned long long)st.cs_nswitch);
	proc_free(p);
	host_cpu_fini();
}

Test(cpu, two_cpus_run_two_lwps_at_once)
{
	struct excl x = { 0 };
	struct excl_arg ea[NLWP];
	struct lwp *l[NLWP];
	struct proc *p;
	int i;

	machine_setup_alarm(100, 50, 2, HANG_ALARM_S);
	cr_assert_eq(proc_create("excl2", &p), 0);
	for (i = 0; i < NLWP; i++) {
		ea[i].ea_x = &x;
		ea[i].ea_i = i;
		l[i] = spawn(p, "excl", excl_worker, &ea[i]);
	}
	cr_assert_eq(host_clock_start(), 0);
	/* Both CPUs busy at some moment, and everyone had turns. */
	wait_until(atomic_load(&x.x_max) >= 2 && all_counted(&x, 200));
	atomic_store(&x.x_stop, true);
	for (i = 0; i < NLWP; i++)
		lwp_join(l[i]);
	host_clock_stop();

	cr_assert_eq(atomic_load(&x.x_max), 2,
	    "%d LWPs ran at once on two CPUs", atomic_load(&x.x_max));
	proc_free(p);
	host_cpu_fini();
}

Test(cpu, waiting_lwps_queue_and_resched_is_asked_only_for_them)
{
	struct hold h = { 0 };
	struct lwp *lh, *lq;
	struct proc *p;

	machine_setup_alarm(100, 1, 1, HANG_ALARM_S);
	the_hold = &h;
	cr_assert_eq(proc_create("hold", &p), 0);
	lh = spawn(p, "holder", holder_worker, &h);
	wait_until(atomic_load(&h.h_running));
	cr_assert_eq(stat_of(lh), LSONPROC);

	/* Nobody waits: no reschedule request. */
	cpu_need_resched_all();
	cr_assert_eq(__atomic_load_n(&cpu_info_store[0].ci_want_resched,
	    __ATOMIC_RELAXED), 0);

	lq = spawn(p, "follower", follower_worker, NULL);
	wait_until(sched_nrunnable() == 1);
	cr_assert_eq(stat_of(lq), LSRUN);
	cr_assert(!atomic_load(&h.h_q_ran), "Q ran without a CPU");

	cpu_need_resched_all();
	cr_assert_eq(__atomic_load_n(&cpu_info_store[0].ci_want_resched,
	    __ATOMIC_RELAXED), 1);
	atomic_store(&h.h_go, true);	/* H reaches preempt() */
	wait_until(atomic_load(&h.h_done));
	cr_assert(!atomic_load(&h.h_q_ran_early));
	cr_assert(atomic_load(&h.h_q_ran), "preempt() kept the CPU");
	cr_assert_eq(nivcsw_of(lh), 1);
	lwp_join(lh);
	lwp_join(lq);
	cr_assert_eq(sched_nrunnable(), 0);
	proc_free(p);
	host_cpu_fini();
}

Test(cpu, preempt_waits_while_a_lock_is_held)
{
	struct hold h = { 0 };
	struct lwp *lh, *lq;
	struct proc *p;

	machine_setup_alarm(100, 1, 1, HANG_ALARM_S);
	the_hold = &h;
	cr_assert_eq(proc_create("spinhold", &p), 0);
	lh = spawn(p, "lockholder", lock_holder_worker, &h);
	wait_until(atomic_load(&h.h_running));
	lq = spawn(p, "follower", follower_worker, NULL);
	wait_until(sched_nrunnable() == 1);
	cpu_need_resched_all();
	atomic_store(&h.h_go, true);
	wait_until(atomic_load(&h.h_done));
	cr_assert(!atomic_load(&h.h_lock_preempted),
	    "preempted while holding a lock");
	cr_assert(atomic_load(&h.h_q_ran),
	    "the pending request was lost while the locks were held");
	cr_assert_eq(nivcsw_of(lh), 1);
	lwp_join(lh);
	lwp_join(lq);
	proc_free(p);
	host_cpu_fini();
}

Test(cpu, stats_count_switches_and_idle_time)
{
	struct cpu_stats st0, st1, st2;
	struct lwp *l[2];
	struct proc *p;
	int n = 20, i;

	machine_setup_alarm(100, 50, 1, HANG_ALARM_S);
	cpu_get_stats(0, &st0);
	cr_assert_eq(st0.cs_nswitch, 0);
	cr_assert_eq(host_clock_start(), 0);
	cr_assert_eq(proc_create("stats", &p), 0);
	for (i = 0; i < 2; i++)
		l[i] = spawn(p, "sleeper", sleeper_worker, &n);
	for (i = 0; i < 2; i++)
		lwp_join(l[i]);
	host_clock_stop();
	cpu_get_stats(0, &st1);
	/* Start, then each of n sleeps hands the CPU back to the LWP. */
	cr_assert_geq(st1.cs_nswitch, 2 * (uint64_t)(n + 1),
	    "nswitch %llu", (unsigned long long)st1.cs_nswitch);

	/* An idle CPU accumulates idle time, and no switches. */
	nap_us(2000);
	cpu_get_stats(0, &st2);
	cr_assert_eq(st2.cs_nswitch, st1.cs_nswitch);
	cr_assert_geq(st2.cs_idle_ns - st1.cs_idle_ns, 2000ull * 1000,
	    "idle grew %llu ns in 2 ms",
	    (unsigned long long)(st2.cs_idle_ns - st1.cs_idle_ns));
	proc_free(p);
	host_cpu_fini();
}
