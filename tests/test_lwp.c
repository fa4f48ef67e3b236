/*
 * tests/test_lwp.c: host/lwp.c (processes, LWPs, blocking, preemption,
 * swapped-out LWPs, schedcpu).
 *
 * Each test sets the machine up itself in its own forked process.  The
 * test thread is not an LWP: it needs no CPU, so it can watch LWPs the
 * way the swapper does (l_stat and friends under lwp_lock) and play the
 * VM's part (clear LW_INMEM as uvm_swapout does, bring an LWP back as
 * uvm_swapin does).  Waits are bounded polls; what a test asserts never
 * depends on a sleep being long enough.
 */
#include "host/clock.h"
#include "host/cpu.h"
#include "host/hook.h"
#include "host/kassert.h"
#include "host/lwp.h"
#include "host/mutex.h"
#include "host/sleepq.h"
#include "host/thread.h"

#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>

#define WAIT_NS		(5ull * 1000 * 1000 * 1000)	/* bound of any wait */
#define HANG_ALARM_S	20		/* a test that runs this long hangs */
#include "hosttest.h"

/* A sleeper: sleeps once on its channel, then counts. */
struct sleeper {
	int		s_chan;		/* the wait channel (its address) */
	const char	*s_wmesg;
	atomic_long	s_count;	/* runs after the sleep */
	struct cpu_info	*s_cpu;		/* curcpu() after the sleep */
};

/* Sleep (A) and wake (B) on one CPU. */
struct pingpong {
	struct sleeper	pp_a;
	struct lwp	*pp_la;
	int		pp_b_saw_stat;	/* A's l_stat while B ran */
	struct cpu_info	*pp_b_cpu;
	atomic_bool	pp_b_done;
};

/* A mutex held by a sleeping B, wanted by A. */
struct mx {
	kmutex_t	mx_m;
	int		mx_chan_b;
	atomic_bool	mx_go;
	atomic_bool	mx_b_released;
	atomic_bool	mx_a_saw_released;
	atomic_bool	mx_a_got;
};

/* Two spinners at preemption points. */
struct spin2 {
	atomic_long	sp_count[2];
	atomic_bool	sp_stop;
};

struct spin_arg {
	struct spin2	*sa_s;
	int		sa_i;
};

/* A holder that keeps its CPU until told. */
struct hold {
	atomic_bool	h_running;
	atomic_bool	h_go;
};

struct join_parent {
	atomic_bool	jp_child_ran;
	atomic_bool	jp_child_ran_before_join;
	atomic_bool	jp_child_ran_after_join;
};

struct self_check {
	struct proc	*sc_curproc;
	int		sc_flag;
	atomic_bool	sc_done;
};

static atomic_int nkick;		/* kick_scheduler calls */
static kmutex_t kick_mtx;		/* taken by kick_with_mutex */
static atomic_bool kick_waits;		/* kick_with_mutex found it held */
static atomic_long nruns;		/* count_once calls */

/* local prototypes */
static struct lwp *spawn(struct proc *p, const char *name,
    void (*fn)(void *), void *arg);
static bool on_list(struct lwp *l, bool all);
static bool proc_listed(struct proc *p);
static void swap_out(struct lwp *l);
static void swap_in_as_uvm(struct lwp *l);
static long nivcsw_of(struct lwp *l);
static void count_once(void *arg);
static void sleeper_worker(void *arg);
static void waker_worker(void *arg);
static void mx_holder(void *arg);
static void mx_wanter(void *arg);
static bool mx_blocked(struct lwp *l, const kmutex_t *m);
static void spinner_worker(void *arg);
static void holder_worker(void *arg);
static void join_child(void *arg);
static void join_parent_worker(void *arg);
static void self_check_worker(void *arg);
static void kick_count(void);
static void kick_with_mutex(void);
static void kick_hook(enum hook_ev ev, const void *obj, uintptr_t arg);





/* Is l on alllwp (all) or on its process's p_lwps? */
static bool
on_list(struct lwp *l, bool all)
{
	struct lwp *l2;
	bool found = false;

	mutex_enter(proc_lock);
	if (all) {
		LIST_FOREACH(l2, &alllwp, l_list)
			found |= l2 == l;
	} else {
		LIST_FOREACH(l2, &l->l_proc->p_lwps, l_sibling)
			found |= l2 == l;
	}
	mutex_exit(proc_lock);
	return found;
}

static bool
proc_listed(struct proc *p)
{
	struct proc *p2;
	bool found = false;

	mutex_enter(proc_lock);
	LIST_FOREACH(p2, &allproc, p_list)
		found |= p2 == p;
	mutex_exit(proc_lock);
	return found;
}

/* swap_out: what uvm_swapout does to the LWP's state. */
static void
swap_out(struct lwp *l)
{
	mutex_enter(&l->l_swaplock);
	lwp_lock(l);
	cr_assert((l->l_pflag & LP_RUNNING) == 0, "swapping a running LWP");
	l->l_flag &= ~LW_INMEM;
	l->l_swtime = 0;
	if (l->l_stat == LSRUN)
		sched_dequeue(l);
	lwp_unlock(l);
	l->l_ru.ru_nswap++;
	mutex_exit(&l->l_swaplock);
}

/* swap_in_as_uvm: the seed's uvm_swapin, queue first, then LW_INMEM. */
static void
swap_in_as_uvm(struct lwp *l)
{
	mutex_enter(&l->l_swaplock);
	lwp_lock(l);
	if (l->l_stat == LSRUN)
		sched_enqueue(l, false);
	l->l_flag |= LW_INMEM;
	l->l_swtime = 0;
	lwp_unlock(l);
	mutex_exit(&l->l_swaplock);
}

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
count_once(void *arg __unused)
{
	atomic_fetch_add(&nruns, 1);
}

static void
sleeper_worker(void *arg)
{
	struct sleeper *s = arg;

	/* No cr_assert off the test thread: record, or KASSERT. */
	KASSERT(tsleep(&s->s_chan, 0, s->s_wmesg, 0) == 0);
	s->s_cpu = curcpu();
	atomic_fetch_add(&s->s_count, 1);
}

static void
waker_worker(void *arg)
{
	struct pingpong *pp = arg;

	pp->pp_b_saw_stat = stat_of(pp->pp_la);
	pp->pp_b_cpu = curcpu();
	wakeup(&pp->pp_a.s_chan);
	atomic_store(&pp->pp_b_done, true);
}

/* mx_holder: take the mutex, sleep holding it, release when told. */
static void
mx_holder(void *arg)
{
	struct mx *x = arg;

	mutex_enter(&x->mx_m);
	(void)tsleep(&x->mx_chan_b, 0, "mxhold", 0);
	while (!atomic_load(&x->mx_go))
		sched_yield();
	atomic_store(&x->mx_b_released, true);
	mutex_exit(&x->mx_m);
}

/* mx_wanter: wake the holder (it cannot run: we have the CPU), block. */
static void
mx_wanter(void *arg)
{
	struct mx *x = arg;

	wakeup(&x->mx_chan_b);
	mutex_enter(&x->mx_m);
	atomic_store(&x->mx_a_saw_released, atomic_load(&x->mx_b_released));
	atomic_store(&x->mx_a_got, true);
	mutex_exit(&x->mx_m);
}

/* Is l blocked on kmutex m? */
static bool
mx_blocked(struct lwp *l, const kmutex_t *m)
{
	bool b;

	lwp_lock(l);
	b = l->l_stat == LSSLEEP && l->l_wchan == m &&
	    l->l_syncobj == &mutex_syncobj && !(l->l_pflag & LP_RUNNING);
	lwp_unlock(l);
	return b;
}

static void
spinner_worker(void *arg)
{
	struct spin_arg *sa = arg;

	while (!atomic_load(&sa->sa_s->sp_stop)) {
		atomic_fetch_add(&sa->sa_s->sp_count[sa->sa_i], 1);
		preempt();
	}
}

static void
holder_worker(void *arg)
{
	struct hold *h = arg;

	atomic_store(&h->h_running, true);
	while (!atomic_load(&h->h_go))
		sched_yield();
}

static void
join_child(void *arg)
{
	struct join_parent *jp = arg;

	atomic_store(&jp->jp_child_ran, true);
}

/* With one CPU the child can only run while the parent waits in join. */
static void
join_parent_worker(void *arg)
{
	struct join_parent *jp = arg;
	struct lwp *c;

	KASSERT(lwp_create(curproc, "child", 0, join_child, jp, &c) == 0);
	atomic_store(&jp->jp_child_ran_before_join,
	    atomic_load(&jp->jp_child_ran));
	lwp_join(c);
	atomic_store(&jp->jp_child_ran_after_join,
	    atomic_load(&jp->jp_child_ran));
}

static void
self_check_worker(void *arg)
{
	struct self_check *sc = arg;

	sc->sc_curproc = curproc;
	lwp_lock(curlwp);
	sc->sc_flag = curlwp->l_flag;
	lwp_unlock(curlwp);
	atomic_store(&sc->sc_done, true);
}

static void
kick_count(void)
{
	atomic_fetch_add(&nkick, 1);
}

/* A kick like uvm_kick_scheduler: takes an adaptive mutex. */
static void
kick_with_mutex(void)
{
	mutex_enter(&kick_mtx);
	atomic_fetch_add(&nkick, 1);
	mutex_exit(&kick_mtx);
}

static void
kick_hook(enum hook_ev ev, const void *obj, uintptr_t arg __unused)
{
	if (ev == HE_LOCK_WAIT && obj == &kick_mtx)
		atomic_store(&kick_waits, true);
}

Test(lwp, proc_create_and_free)
{
	struct proc *p1, *p2, *pp;
	pid_t pid1;

	machine_setup_alarm(100, 1, 1, HANG_ALARM_S);
	cr_assert(proc_listed(&proc0));
	cr_assert_eq(proc0.p_pid, 0);
	cr_assert(proc0.p_flag & P_SYSTEM);
	cr_assert_eq(proc_create("one", &p1), 0);
	cr_assert_eq(proc_create("two", &p2), 0);
	cr_assert_gt(p1->p_pid, 0);
	cr_assert_neq(p1->p_pid, p2->p_pid);
	cr_assert_str_eq(p1->p_comm, "one");
	cr_assert_eq(p1->p_stat, SACTIVE);
	cr_assert(p1->p_flag & P_INMEM);
	cr_assert_eq(p1->p_nice, NZERO);
	cr_assert_eq(p1->p_nlwps, 0);
	cr_assert(LIST_EMPTY(&p1->p_lwps));
	cr_assert(proc_listed(p1) && proc_listed(p2));
	pid1 = p1->p_pid;
	proc_free(p1);
	mutex_enter(proc_lock);
	LIST_FOREACH(pp, &allproc, p_list)
		cr_assert_neq(pp->p_pid, pid1, "freed process still listed");
	mutex_exit(proc_lock);
	cr_assert(proc_listed(p2));
	proc_free(p2);
	cr_assert(proc_listed(&proc0));
}

Test(lwp, create_runs_once_then_zombie_and_join_reaps)
{
	struct lwp *l, *l2;
	struct proc *p;
	int lid;

	machine_setup_alarm(100, 1, 2, HANG_ALARM_S);
	cr_assert_eq(proc_create("life", &p), 0);
	l = spawn(p, "once", count_once, NULL);
	l2 = spawn(p, "once2", count_once, NULL);
	cr_assert_gt(l->l_lid, 0);
	cr_assert_neq(l->l_lid, l2->l_lid);
	cr_assert_eq(l->l_proc, p);
	cr_assert_str_eq(l->l_name, "once");
	wait_until(stat_of(l) == LSZOMB && stat_of(l2) == LSZOMB);
	cr_assert_eq(atomic_load(&nruns), 2);
	lwp_lock(l);
	cr_assert(l->l_flag & LW_WEXIT);
	cr_assert(l->l_flag & LW_INMEM);
	cr_assert(!(l->l_flag & LW_SYSTEM));
	cr_assert(!(l->l_pflag & LP_RUNNING));
	lwp_unlock(l);
	/* A zombie stays on the lists until it is reaped. */
	cr_assert(on_list(l, true) && on_list(l, false));
	mutex_enter(&p->p_lock);
	cr_assert_eq(p->p_nlwps, 2);
	mutex_exit(&p->p_lock);

	lid = l->l_lid;
	lwp_join(l);
	mutex_enter(proc_lock);
	LIST_FOREACH(l, &alllwp, l_list)
		cr_assert_neq(l->l_lid, lid, "reaped LWP still on alllwp");
	LIST_FOREACH(l, &p->p_lwps, l_sibling)
		cr_assert_neq(l->l_lid, lid, "reaped LWP still on p_lwps");
	mutex_exit(proc_lock);
	mutex_enter(&p->p_lock);
	cr_assert_eq(p->p_nlwps, 1);
	mutex_exit(&p->p_lock);
	lwp_join(l2);
	cr_assert(LIST_EMPTY(&p->p_lwps));
	cr_assert_eq(p->p_nlwps, 0);
	cr_assert_eq(atomic_load(&nruns), 2);
	proc_free(p);
	host_cpu_fini();
}

Test(lwp, kthread_is_a_system_lwp_of_proc0)
{
	struct self_check sc = { 0 }, uc = { 0 };
	struct lwp *kl, *ul;
	struct proc *p;

	machine_setup_alarm(100, 1, 2, HANG_ALARM_S);
	cr_assert_eq(kthread_create(self_check_worker, &sc, &kl, "kdaemon"),
	    0);
	cr_assert_eq(proc_create("user", &p), 0);
	ul = spawn(p, "user", self_check_worker, &uc);
	cr_assert_eq(kl->l_proc, &proc0);
	cr_assert(on_list(kl, true) && on_list(kl, false));
	cr_assert(on_list(ul, true) && on_list(ul, false));
	wait_until(atomic_load(&sc.sc_done) && atomic_load(&uc.sc_done));
	cr_assert_eq(sc.sc_curproc, &proc0);
	cr_assert(sc.sc_flag & LW_SYSTEM);
	cr_assert(sc.sc_flag & LW_INMEM);
	cr_assert_eq(uc.sc_curproc, p);
	cr_assert(!(uc.sc_flag & LW_SYSTEM));
	lwp_join(kl);
	lwp_join(ul);
	proc_free(p);
	host_cpu_fini();
}

Test(lwp, describe_shows_pid_lid_state_and_wait)
{
	struct sleeper s = { .s_wmesg = "descslp" };
	char buf[160], want[64], tiny[8];
	struct lwp *l;
	struct proc *p;

	machine_setup_alarm(100, 1, 1, HANG_ALARM_S);
	cr_assert_eq(proc_create("desc", &p), 0);
	l = spawn(p, "desc", sleeper_worker, &s);
	wait_until(stat_of(l) == LSSLEEP);
	lwp_describe(l, buf, sizeof(buf));
	snprintf(want, sizeof(want), "[pid %d lid %d LSSLEEP ", p->p_pid,
	    l->l_lid);
	cr_assert(strncmp(buf, want, strlen(want)) == 0, "got \"%s\"", buf);
	cr_assert(strstr(buf, " on descslp]") != NULL, "got \"%s\"", buf);
	lwp_describe(l, tiny, sizeof(tiny));
	cr_assert_eq(strlen(tiny), sizeof(tiny) - 1);

	wakeup(&s.s_chan);
	wait_until(stat_of(l) == LSZOMB);
	lwp_describe(l, buf, sizeof(buf));
	cr_assert(strstr(buf, " LSZOMB ") != NULL, "got \"%s\"", buf);
	cr_assert(strstr(buf, " on ") == NULL, "got \"%s\"", buf);
	lwp_join(l);
	proc_free(p);
	host_cpu_fini();
}

Test(lwp, sleep_gives_the_cpu_to_another_lwp)
{
	struct pingpong pp = { .pp_a = { .s_wmesg = "tstslp" } };
	struct lwp *la, *lb;
	struct proc *p;

	machine_setup_alarm(100, 1, 1, HANG_ALARM_S);
	cr_assert_eq(proc_create("pingpong", &p), 0);
	la = spawn(p, "A", sleeper_worker, &pp.pp_a);
	pp.pp_la = la;
	wait_until(stat_of(la) == LSSLEEP);

	/* What the swapper sees of a sleeper. */
	lwp_lock(la);
	cr_assert_eq(la->l_wchan, &pp.pp_a.s_chan);
	cr_assert_str_eq(la->l_wmesg, "tstslp");
	cr_assert_eq(la->l_syncobj, &sleep_syncobj);
	cr_assert(!(la->l_pflag & LP_RUNNING));
	cr_assert_geq(la->l_ru.ru_nvcsw, 1);
	lwp_unlock(la);
	cr_assert_eq(sleepq_nsleepers(&pp.pp_a.s_chan), 1);

	/* The only CPU is free: B runs and wakes A. */
	lb = spawn(p, "B", waker_worker, &pp);
	wait_until(atomic_load(&pp.pp_a.s_count) == 1);
	cr_assert(atomic_load(&pp.pp_b_done));
	cr_assert_eq(pp.pp_b_saw_stat, LSSLEEP);
	cr_assert_eq(pp.pp_b_cpu, &cpu_info_store[0]);
	cr_assert_eq(pp.pp_a.s_cpu, &cpu_info_store[0]);
	lwp_join(la);
	lwp_join(lb);
	proc_free(p);
	host_cpu_fini();
}

Test(lwp, mutex_wait_gives_the_cpu_to_the_holder)
{
	struct mx x = { 0 };
	struct lwp *la, *lb;
	struct proc *p;

	machine_setup_alarm(100, 1, 1, HANG_ALARM_S);
	mutex_init_class(&x.mx_m, MUTEX_DEFAULT, IPL_NONE, "test_mx");
	cr_assert_eq(proc_create("mx", &p), 0);
	lb = spawn(p, "B", mx_holder, &x);
	wait_until(stat_of(lb) == LSSLEEP);	/* asleep, holding mx_m */
	la = spawn(p, "A", mx_wanter, &x);
	/* A blocks on the mutex and gives B the one CPU. */
	wait_until(mx_blocked(la, &x.mx_m) && stat_of(lb) == LSONPROC);
	cr_assert(!atomic_load(&x.mx_a_got));
	atomic_store(&x.mx_go, true);
	wait_until(atomic_load(&x.mx_a_got));
	cr_assert(atomic_load(&x.mx_a_saw_released));
	lwp_join(la);
	lwp_join(lb);
	mutex_destroy(&x.mx_m);
	proc_free(p);
	host_cpu_fini();
}

Test(lwp, join_from_an_lwp_gives_the_cpu_away)
{
	struct join_parent jp = { 0 };
	struct lwp *l;
	struct proc *p;

	machine_setup_alarm(100, 1, 1, HANG_ALARM_S);
	cr_assert_eq(proc_create("joiner", &p), 0);
	l = spawn(p, "parent", join_parent_worker, &jp);
	wait_until(stat_of(l) == LSZOMB);
	cr_assert(!atomic_load(&jp.jp_child_ran_before_join),
	    "the child ran while the parent held the only CPU");
	cr_assert(atomic_load(&jp.jp_child_ran_after_join));
	lwp_join(l);
	cr_assert(LIST_EMPTY(&p->p_lwps));
	proc_free(p);
	host_cpu_fini();
}

Test(lwp, hardclock_preempts_lwps_at_preemption_points)
{
	struct spin2 s = { 0 };
	struct spin_arg sa[2] = { { &s, 0 }, { &s, 1 } };
	struct lwp *l[2];
	struct proc *p;
	long c0, c1, sw, sw1;
	int first;

	machine_setup_alarm(100, 50, 1, HANG_ALARM_S);		/* ticks every 200 us */
	cr_assert_eq(proc_create("preempt", &p), 0);
	l[0] = spawn(p, "spin0", spinner_worker, &sa[0]);
	l[1] = spawn(p, "spin1", spinner_worker, &sa[1]);

	/*
	 * No clock: whoever holds the CPU keeps it; the other waits.  (A new
	 * LWP queues at kernel priority and may take the CPU from a user
	 * one once, as a higher priority does in BSD: so look at what
	 * happens after both are queued at user priority.)
	 */
	wait_until(sched_nrunnable() == 1 &&
	    atomic_load(&s.sp_count[0]) > 0 && atomic_load(&s.sp_count[1]) > 0);
	wait_until(atomic_load(&s.sp_count[0]) + atomic_load(&s.sp_count[1]) >
	    100000);
	c0 = atomic_load(&s.sp_count[0]);
	c1 = atomic_load(&s.sp_count[1]);
	sw = nivcsw_of(l[0]) + nivcsw_of(l[1]);
	wait_until(atomic_load(&s.sp_count[0]) + atomic_load(&s.sp_count[1]) >
	    c0 + c1 + 100000);
	first = atomic_load(&s.sp_count[0]) != c0 ? 0 : 1;
	cr_assert(atomic_load(&s.sp_count[1 - first]) ==
	    (first == 0 ? c1 : c0), "both ran on one CPU without a clock");
	cr_assert_eq(stat_of(l[1 - first]), LSRUN);
	cr_assert_eq(nivcsw_of(l[0]) + nivcsw_of(l[1]), sw,
	    "preempted without a clock");
	c0 = atomic_load(&s.sp_count[0]);
	c1 = atomic_load(&s.sp_count[1]);
	sw = nivcsw_of(l[0]);
	sw1 = nivcsw_of(l[1]);

	/* The hardclock asks for reschedules: both make progress. */
	cr_assert_eq(host_clock_start(), 0);
	wait_until(atomic_load(&s.sp_count[0]) > c0 + 1000 &&
	    atomic_load(&s.sp_count[1]) > c1 + 1000 &&
	    nivcsw_of(l[0]) >= sw + 2 && nivcsw_of(l[1]) >= sw1 + 2);
	atomic_store(&s.sp_stop, true);
	lwp_join(l[0]);
	lwp_join(l[1]);
	host_clock_stop();
	proc_free(p);
	host_cpu_fini();
}

Test(lwp, swapped_out_sleeper_waits_for_the_swapper)
{
	struct sleeper s = { .s_wmesg = "swpslp" };
	struct cpu_stats st0, st1;
	struct lwp *l, *lo;
	struct proc *p;

	machine_setup_alarm(100, 1, 1, HANG_ALARM_S);
	host_set_kick_scheduler(kick_count);
	cr_assert_eq(proc_create("swapped", &p), 0);
	l = spawn(p, "S", sleeper_worker, &s);
	wait_until(stat_of(l) == LSSLEEP);
	swap_out(l);

	cpu_get_stats(0, &st0);
	wakeup(&s.s_chan);
	wait_until(atomic_load(&nkick) == 1);	/* after LSRUN is set */
	cr_assert_eq(stat_of(l), LSRUN);
	cr_assert_eq(sched_nrunnable(), 0, "a swapped-out LWP was queued");
	cpu_get_stats(0, &st1);
	cr_assert_eq(st1.cs_nswitch, st0.cs_nswitch,
	    "the idle CPU was handed to a swapped-out LWP");
	/* The CPU is free, and another LWP uses it; S still may not run. */
	lo = spawn(p, "other", count_once, NULL);
	lwp_join(lo);
	cr_assert_eq(atomic_load(&nruns), 1);
	cr_assert_eq(atomic_load(&s.s_count), 0, "swapped-out LWP ran");
	cr_assert_eq(stat_of(l), LSRUN);
	lwp_lock(l);
	cr_assert(!(l->l_flag & LW_INMEM));
	cr_assert_null(l->l_wchan);
	lwp_unlock(l);

	lwp_swapin_done(l);
	wait_until(atomic_load(&s.s_count) == 1);
	cr_assert_eq(s.s_cpu, &cpu_info_store[0]);
	cr_assert_eq(atomic_load(&nkick), 1);
	wait_until(stat_of(l) == LSZOMB);
	lwp_join(l);
	proc_free(p);
	host_cpu_fini();
}

Test(lwp, swapped_out_runnable_lwp_leaves_the_run_queue)
{
	struct hold h = { 0 };
	struct lwp *lh, *lq, *lo;
	struct proc *p;

	machine_setup_alarm(100, 1, 1, HANG_ALARM_S);
	host_set_kick_scheduler(kick_count);
	cr_assert_eq(proc_create("rq", &p), 0);
	lh = spawn(p, "holder", holder_worker, &h);
	wait_until(atomic_load(&h.h_running));
	lq = spawn(p, "Q", count_once, NULL);
	wait_until(sched_nrunnable() == 1);
	cr_assert_eq(stat_of(lq), LSRUN);

	swap_out(lq);			/* sched_dequeue: off the queue */
	cr_assert_eq(sched_nrunnable(), 0);
	atomic_store(&h.h_go, true);
	lwp_join(lh);
	lo = spawn(p, "other", count_once, NULL);
	lwp_join(lo);
	cr_assert_eq(atomic_load(&nruns), 1, "swapped-out LWP ran");
	cr_assert_eq(stat_of(lq), LSRUN);

	swap_in_as_uvm(lq);		/* the seed's uvm_swapin */
	wait_until(stat_of(lq) == LSZOMB);
	cr_assert_eq(atomic_load(&nruns), 2);
	cr_assert_eq(atomic_load(&nkick), 0);
	lwp_join(lq);
	proc_free(p);
	host_cpu_fini();
}

/*
 * The race uvm_swapout can win: the CPU is already handed to Q when Q is
 * swapped out, before Q's thread takes it.  The test holds Q's lwp_lock
 * across the hand-off, so Q's thread waits with the CPU in hand; Q must
 * pass the CPU on and not run until it is swapped in.
 */
Test(lwp, cpu_handed_to_an_lwp_swapped_out_meanwhile_goes_on)
{
	struct hold h = { 0 };
	struct lwp *lh, *lq, *lo;
	struct cpu_info *ci = &cpu_info_store[0];
	struct proc *p;

	machine_setup_alarm(100, 1, 1, HANG_ALARM_S);
	cr_assert_eq(proc_create("handoff", &p), 0);
	lh = spawn(p, "holder", holder_worker, &h);
	wait_until(atomic_load(&h.h_running));
	lq = spawn(p, "Q", count_once, NULL);
	wait_until(sched_nrunnable() == 1);

	lwp_lock(lq);
	atomic_store(&h.h_go, true);	/* H exits: the CPU goes to Q */
	wait_until(__atomic_load_n(&ci->ci_curlwp, __ATOMIC_RELAXED) == lq);
	cr_assert_eq(lq->l_stat, LSRUN);
	cr_assert(!(lq->l_pflag & LP_RUNNING));
	lq->l_flag &= ~LW_INMEM;	/* swapped out; not queued */
	lwp_unlock(lq);

	/* Q gives the CPU back without running. */
	wait_until(__atomic_load_n(&ci->ci_curlwp, __ATOMIC_RELAXED) == NULL ||
	    atomic_load(&nruns) != 0);
	cr_assert_eq(atomic_load(&nruns), 0, "a swapped-out LWP ran");
	cr_assert_eq(stat_of(lq), LSRUN);
	lwp_join(lh);
	lo = spawn(p, "other", count_once, NULL);
	lwp_join(lo);
	cr_assert_eq(atomic_load(&nruns), 1, "a swapped-out LWP ran");

	lwp_swapin_done(lq);
	wait_until(stat_of(lq) == LSZOMB);
	cr_assert_eq(atomic_load(&nruns), 2);
	lwp_join(lq);
	proc_free(p);
	host_cpu_fini();
}

/*
 * The kick runs on the woken LWP's thread before it has a CPU.  A kick
 * that finds its mutex contended blocks; it has no CPU to give away.
 */
Test(lwp, swapper_kick_may_block_on_a_mutex)
{
	struct sleeper s = { .s_wmesg = "kickslp" };
	struct lwp *l, *lo;
	struct proc *p;

	machine_setup_alarm(100, 1, 1, HANG_ALARM_S);
	mutex_init_class(&kick_mtx, MUTEX_DEFAULT, IPL_NONE, "kick_mtx");
	host_set_kick_scheduler(kick_with_mutex);
	host_set_sched_hook(kick_hook);
	cr_assert_eq(proc_create("kick", &p), 0);
	l = spawn(p, "S", sleeper_worker, &s);
	wait_until(stat_of(l) == LSSLEEP);
	swap_out(l);

	mutex_enter(&kick_mtx);
	wakeup(&s.s_chan);
	wait_until(atomic_load(&kick_waits));	/* it blocks on kick_mtx */
	/* Meanwhile the CPU serves others. */
	lo = spawn(p, "other", count_once, NULL);
	lwp_join(lo);
	cr_assert_eq(atomic_load(&nruns), 1);
	cr_assert_eq(stat_of(l), LSRUN);
	mutex_exit(&kick_mtx);
	wait_until(atomic_load(&nkick) == 1);
	cr_assert_eq(atomic_load(&s.s_count), 0);

	lwp_swapin_done(l);
	wait_until(atomic_load(&s.s_count) == 1);
	host_set_sched_hook(NULL);
	wait_until(stat_of(l) == LSZOMB);
	lwp_join(l);
	proc_free(p);
	host_cpu_fini();
}

Test(lwp, schedcpu_ages_sleep_and_swap_times)
{
	struct sleeper sa0 = { .s_wmesg = "agea0" };
	struct sleeper sa1 = { .s_wmesg = "agea1" };
	struct sleeper sb = { .s_wmesg = "ageb" };
	struct hold h = { 0 };
	struct lwp *la0, *la1, *lb, *lrun;
	struct proc *pa, *pb;
	int i;

	machine_setup_alarm(100, 1, 2, HANG_ALARM_S);
	cr_assert_eq(proc_create("allasleep", &pa), 0);
	cr_assert_eq(proc_create("oneawake", &pb), 0);
	la0 = spawn(pa, "a0", sleeper_worker, &sa0);
	la1 = spawn(pa, "a1", sleeper_worker, &sa1);
	lb = spawn(pb, "b", sleeper_worker, &sb);
	lrun = spawn(pb, "run", holder_worker, &h);
	wait_until(stat_of(la0) == LSSLEEP && stat_of(la1) == LSSLEEP &&
	    stat_of(lb) == LSSLEEP && stat_of(lrun) == LSONPROC);

	for (i = 0; i < 3; i++)
		schedcpu();		/* the clock is not running */

	lwp_lock(la0);
	cr_assert_eq(la0->l_slptime, 3);
	cr_assert_eq(la0->l_swtime, 3);
	lwp_unlock(la0);
	lwp_lock(lb);
	cr_assert_eq(lb->l_slptime, 3);
	lwp_unlock(lb);
	lwp_lock(lrun);
	cr_assert_eq(lrun->l_slptime, 0, "a running LWP aged as asleep");
	cr_assert_eq(lrun->l_swtime, 3);
	lwp_unlock(lrun);
	mutex_enter(proc_lock);
	cr_assert_eq(pa->p_slptime, 3);
	cr_assert_eq(pb->p_slptime, 0);
	cr_assert_eq(pa->p_swtime, 3);
	cr_assert_eq(pb->p_swtime, 3);
	mutex_exit(proc_lock);

	/* One LWP of pa wakes: pa is no longer all asleep. */
	wakeup(&sa0.s_chan);
	wait_until(stat_of(la0) == LSZOMB);
	schedcpu();
	mutex_enter(proc_lock);
	cr_assert_eq(pa->p_slptime, 0);
	mutex_exit(proc_lock);
	lwp_lock(la1);
	cr_assert_eq(la1->l_slptime, 4);
	lwp_unlock(la1);

	wakeup(&sa1.s_chan);
	wakeup(&sb.s_chan);
	atomic_store(&h.h_go, true);
	lwp_join(la0);
	lwp_join(la1);
	lwp_join(lb);
	lwp_join(lrun);
	proc_free(pa);
	proc_free(pb);
	host_cpu_fini();
}
