/*
 * tests/test_condvar.c: host/condvar.c, condvar(9).
 *
 * A waiter is provably waiting when cv_has_waiters() (or cv_waiters)
 * says so under the interlock: it counted itself and let the interlock go
 * in one step.  Waiters use cv_timedwait with a long timeout and count a
 * timeout as a failure, so a lost signal fails the test instead of
 * hanging it.  Timing bounds: a lower bound is exact (the clock is
 * monotonic), an upper bound is generous.
 */
#include "host/clock.h"
#include "host/condvar.h"
#include "host/evring.h"
#include "host/hook.h"
#include "host/kassert.h"
#include "host/mutex.h"
#include "host/spl.h"
#include "host/thread.h"

#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <criterion/redirect.h>

#define HANG_ALARM_S	60
#include "hosttest.h"
#define CT_WAIT_NS	(10 * 1000000000ull)
#define CT_LONG_TICKS	1000		/* 10 s at hz 100 */
#define CT_NWAITERS	6
#define CT_ROUNDS	200
#define MS		1000000ull

#define WAIT_FOR(cond)							\
	do {								\
		uint64_t wf_dl_ = host_real_ns() + CT_WAIT_NS;		\
		while (!(cond)) {					\
			cr_assert(host_real_ns() < wf_dl_,		\
			    "timed out waiting for %s", #cond);		\
			sched_yield();					\
		}							\
	} while (0)

struct ct_share {
	kmutex_t	cs_mtx;
	kcondvar_t	cs_cv;
	int		cs_flag;	/* [cs_mtx] */
	int		cs_round;	/* [cs_mtx] */
	atomic_int	cs_woken;
	atomic_int	cs_bad;
	atomic_int	cs_timeouts;
	atomic_int	cs_state;
	atomic_int	cs_result;
	uint64_t	cs_elapsed;	/* written by the waiter before exit */
};

/* local prototypes */
static void ct_setup(void);
static int nwaiters(struct ct_share *cs);
static void *flag_waiter(void *arg);
static void *round_waiter(void *arg);
static void *timed_waiter(void *arg);
static void *holder(void *arg);
static void ct_init(struct ct_share *cs, int ipl);

/*
 * Every test runs on a registered thread with 10 ms ticks.  A hang ends
 * the test by SIGALRM, reported as a crash (not Criterion's .timeout:
 * BoxFort leaks a timeout record in the runner when timed tests of
 * different lengths overlap, and LeakSanitizer fails the asan run).
 */
static void
ct_setup(void)
{
	alarm(HANG_ALARM_S);
	host_thread_self();
	host_clock_init(100, 1);
}

TestSuite(condvar, .init = ct_setup);


/* Waiters on cs_cv, read under the interlock. */
static int
nwaiters(struct ct_share *cs)
{
	int n;

	mutex_enter(&cs->cs_mtx);
	n = cs->cs_cv.cv_waiters;
	if ((n > 0) != cv_has_waiters(&cs->cs_cv))
		n = -1;
	mutex_exit(&cs->cs_mtx);
	return n;
}

/* Wait for cs_flag; a timeout is a lost signal. */
static void *
flag_waiter(void *arg)
{
	struct ct_share *cs = arg;

	mutex_enter(&cs->cs_mtx);
	while (cs->cs_flag == 0) {
		if (cv_timedwait(&cs->cs_cv, &cs->cs_mtx, CT_LONG_TICKS) != 0) {
			atomic_fetch_add(&cs->cs_timeouts, 1);
			break;
		}
		if (!mutex_owned(&cs->cs_mtx))
			atomic_fetch_add(&cs->cs_bad, 1);
	}
	atomic_fetch_add(&cs->cs_woken, 1);
	mutex_exit(&cs->cs_mtx);
	return NULL;
}

/* Wait for each round in turn, CT_ROUNDS of them. */
static void *
round_waiter(void *arg)
{
	struct ct_share *cs = arg;
	int r;

	mutex_enter(&cs->cs_mtx);
	for (r = 1; r <= CT_ROUNDS; r++) {
		while (cs->cs_round < r) {
			if (cv_timedwait(&cs->cs_cv, &cs->cs_mtx,
			    CT_LONG_TICKS) != 0) {
				atomic_fetch_add(&cs->cs_timeouts, 1);
				mutex_exit(&cs->cs_mtx);
				return NULL;
			}
		}
	}
	mutex_exit(&cs->cs_mtx);
	return NULL;
}

/* One cv_timedwait of CT_LONG_TICKS: its result and how long it took. */
static void *
timed_waiter(void *arg)
{
	struct ct_share *cs = arg;
	uint64_t t0;

	mutex_enter(&cs->cs_mtx);
	t0 = host_real_ns();
	atomic_store(&cs->cs_result, cv_timedwait(&cs->cs_cv, &cs->cs_mtx,
	    CT_LONG_TICKS));
	cs->cs_elapsed = host_real_ns() - t0;
	if (!mutex_owned(&cs->cs_mtx))
		atomic_fetch_add(&cs->cs_bad, 1);
	mutex_exit(&cs->cs_mtx);
	return NULL;
}

/* Take the interlock and keep it (the process ends by a panic). */
static void *
holder(void *arg)
{
	struct ct_share *cs = arg;

	mutex_enter(&cs->cs_mtx);
	atomic_store(&cs->cs_state, 1);
	for (;;)
		sched_yield();
	return NULL;
}

static void
ct_init(struct ct_share *cs, int ipl)
{
	host_clock_init(100, 1);
	mutex_init(&cs->cs_mtx, MUTEX_DEFAULT, ipl);
	cv_init(&cs->cs_cv, "ct_cv");
}

Test(condvar, signal_to_a_waiting_thread_is_not_lost)
{
	static struct ct_share cs;
	pthread_t t;
	int i;

	ct_init(&cs, IPL_NONE);
	for (i = 0; i < 50; i++) {
		cs.cs_flag = 0;
		cr_assert_eq(host_thread_create(&t, "ct_wait", flag_waiter,
		    &cs), 0);
		/* It is waiting (and let the interlock go) once it counts. */
		WAIT_FOR(nwaiters(&cs) == 1);
		mutex_enter(&cs.cs_mtx);
		cr_assert(cv_has_waiters(&cs.cs_cv));
		cs.cs_flag = 1;
		cv_signal(&cs.cs_cv);
		mutex_exit(&cs.cs_mtx);
		pthread_join(t, NULL);
	}
	cr_assert_eq(atomic_load(&cs.cs_timeouts), 0, "a signal was lost");
	cr_assert_eq(atomic_load(&cs.cs_woken), 50);
	cr_assert_eq(atomic_load(&cs.cs_bad), 0);
	cr_assert(!cv_has_waiters(&cs.cs_cv));
	cv_destroy(&cs.cs_cv);
	mutex_destroy(&cs.cs_mtx);
}

Test(condvar, broadcast_wakes_all)
{
	static struct ct_share cs;
	pthread_t t[CT_NWAITERS];
	int i;

	ct_init(&cs, IPL_NONE);
	for (i = 0; i < CT_NWAITERS; i++)
		cr_assert_eq(host_thread_create(&t[i], "ct_wait", flag_waiter,
		    &cs), 0);
	WAIT_FOR(nwaiters(&cs) == CT_NWAITERS);
	mutex_enter(&cs.cs_mtx);
	cs.cs_flag = 1;
	cv_broadcast(&cs.cs_cv);
	cr_assert_eq(ev_recent(0)->ee_kind, HE_CV_SIGNAL);
	cr_assert_eq(ev_recent(0)->ee_obj, &cs.cs_cv);
	cr_assert_eq(ev_recent(0)->ee_arg, 1);
	mutex_exit(&cs.cs_mtx);
	for (i = 0; i < CT_NWAITERS; i++)
		pthread_join(t[i], NULL);
	cr_assert_eq(atomic_load(&cs.cs_timeouts), 0);
	cr_assert_eq(atomic_load(&cs.cs_woken), CT_NWAITERS);
	cr_assert_eq(nwaiters(&cs), 0);
}

Test(condvar, signal_wakes_one)
{
	static struct ct_share cs;
	pthread_t t[3];
	int i;

	ct_init(&cs, IPL_NONE);
	for (i = 0; i < 3; i++)
		cr_assert_eq(host_thread_create(&t[i], "ct_wait",
		    timed_waiter, &cs), 0);
	WAIT_FOR(nwaiters(&cs) == 3);
	mutex_enter(&cs.cs_mtx);
	cv_signal(&cs.cs_cv);
	cr_assert_eq(ev_recent(0)->ee_kind, HE_CV_SIGNAL);
	cr_assert_eq(ev_recent(0)->ee_arg, 0);
	mutex_exit(&cs.cs_mtx);
	/* One leaves the wait; the other two still wait. */
	WAIT_FOR(nwaiters(&cs) <= 2);
	cr_assert_eq(nwaiters(&cs), 2);
	mutex_enter(&cs.cs_mtx);
	cv_signal(&cs.cs_cv);
	cv_signal(&cs.cs_cv);
	mutex_exit(&cs.cs_mtx);
	for (i = 0; i < 3; i++)
		pthread_join(t[i], NULL);
	cr_assert_eq(atomic_load(&cs.cs_result), 0);
	cr_assert_eq(atomic_load(&cs.cs_bad), 0);
	cr_assert_eq(nwaiters(&cs), 0);
}

Test(condvar, broadcasts_racing_waiters)
{
	static struct ct_share cs;
	pthread_t t[2];
	int r, i;

	/*
	 * Rounds advance without waiting for the waiters to sleep: each
	 * waiter must still see every round up to the last, or time out.
	 */
	ct_init(&cs, IPL_NONE);
	for (i = 0; i < 2; i++)
		cr_assert_eq(host_thread_create(&t[i], "ct_round",
		    round_waiter, &cs), 0);
	for (r = 1; r <= CT_ROUNDS; r++) {
		mutex_enter(&cs.cs_mtx);
		cs.cs_round = r;
		cv_broadcast(&cs.cs_cv);
		mutex_exit(&cs.cs_mtx);
		if (r % 16 == 0)
			sched_yield();
	}
	for (i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	cr_assert_eq(atomic_load(&cs.cs_timeouts), 0);
}

Test(condvar, timedwait_times_out)
{
	kmutex_t m;
	kcondvar_t cv;
	const struct evring_entry *e;
	uint64_t t0, dt;

	host_clock_init(100, 1);		/* 10 ms ticks */
	mutex_init(&m, MUTEX_DEFAULT, IPL_NONE);
	cv_init(&cv, "ct_timeout");
	mutex_enter(&m);
	t0 = host_real_ns();
	cr_assert_eq(cv_timedwait(&cv, &m, 10), EWOULDBLOCK);
	dt = host_real_ns() - t0;
	cr_assert(mutex_owned(&m));
	cr_assert_geq(dt, 100 * MS, "returned after %llu ns",
	    (unsigned long long)dt);
	cr_assert_lt(dt, 2000 * MS, "returned after %llu ns",
	    (unsigned long long)dt);
	cr_assert(!cv_has_waiters(&cv));
	e = ev_recent(0);
	cr_assert_eq(e->ee_kind, HE_SLEEP_DONE);
	cr_assert_eq(e->ee_obj, &cv);
	cr_assert_eq(e->ee_arg, EWOULDBLOCK);
	mutex_exit(&m);
	cv_destroy(&cv);
	mutex_destroy(&m);
}

Test(condvar, timedwait_follows_hz_and_scale)
{
	kmutex_t m;
	kcondvar_t cv;
	uint64_t t0, dt;

	/* hz 10, scale 100: a tick lasts 1 ms real; unscaled it is 100 ms. */
	cr_assert_eq(host_clock_init(10, 100), 0);
	mutex_init(&m, MUTEX_DEFAULT, IPL_NONE);
	cv_init(&cv, "ct_scale");
	mutex_enter(&m);
	t0 = host_real_ns();
	cr_assert_eq(cv_timedwait(&cv, &m, 20), EWOULDBLOCK);
	dt = host_real_ns() - t0;
	cr_assert_geq(dt, 20 * MS, "returned after %llu ns",
	    (unsigned long long)dt);
	cr_assert_lt(dt, 1000 * MS, "scale ignored: %llu ns",
	    (unsigned long long)dt);
	mutex_exit(&m);
	cv_destroy(&cv);
	mutex_destroy(&m);
}

Test(condvar, timedwait_signalled_returns_zero)
{
	static struct ct_share cs;
	pthread_t t;

	ct_init(&cs, IPL_NONE);
	atomic_store(&cs.cs_result, -1);
	cr_assert_eq(host_thread_create(&t, "ct_timed", timed_waiter, &cs), 0);
	WAIT_FOR(nwaiters(&cs) == 1);
	mutex_enter(&cs.cs_mtx);
	cv_signal(&cs.cs_cv);
	mutex_exit(&cs.cs_mtx);
	pthread_join(t, NULL);
	cr_assert_eq(atomic_load(&cs.cs_result), 0);
	cr_assert_lt(cs.cs_elapsed, 5000 * MS, "woke only by timeout");
	cr_assert_eq(atomic_load(&cs.cs_bad), 0);
}

Test(condvar, spin_interlock)
{
	static struct ct_share cs;
	pthread_t t;

	ct_init(&cs, IPL_VM);
	cr_assert_eq(host_thread_create(&t, "ct_wait", flag_waiter, &cs), 0);
	WAIT_FOR(nwaiters(&cs) == 1);
	mutex_enter(&cs.cs_mtx);
	cr_assert_eq(spl_current(), IPL_VM);
	cs.cs_flag = 1;
	cv_signal(&cs.cs_cv);
	mutex_exit(&cs.cs_mtx);
	cr_assert_eq(spl_current(), IPL_NONE);
	pthread_join(t, NULL);
	cr_assert_eq(atomic_load(&cs.cs_timeouts), 0);

	/* Our own timed wait: spl back to IPL_VM inside, none after. */
	mutex_enter(&cs.cs_mtx);
	cr_assert_eq(cv_timedwait(&cs.cs_cv, &cs.cs_mtx, 1), EWOULDBLOCK);
	cr_assert(mutex_owned(&cs.cs_mtx));
	cr_assert_eq(spl_current(), IPL_VM);
	cr_assert_eq(host_thread_self()->ht_nspin, 1);
	mutex_exit(&cs.cs_mtx);
	cr_assert_eq(spl_current(), IPL_NONE);
	cr_assert_eq(host_thread_self()->ht_nspin, 0);
}

Test(condvar, wait_events_name_the_caller)
{
	kmutex_t m;
	kcondvar_t cv;
	struct host_thread *me = host_thread_self();
	const struct evring *er = &me->ht_ring;
	const struct evring_entry *e;
	uint64_t c0, i;
	bool saw = false;
	int l;

	host_clock_init(100, 1);
	mutex_init(&m, MUTEX_DEFAULT, IPL_NONE);
	cv_init(&cv, "ct_events");
	mutex_enter(&m);
	c0 = evring_count(er);
	l = __LINE__; (void)cv_timedwait(&cv, &m, 1);
	for (i = c0; i < evring_count(er); i++) {
		e = &er->er_ent[i & (EVRING_SIZE - 1)];
		if (e->ee_kind == HE_CV_WAIT) {
			cr_assert_eq(e->ee_obj, &cv);
			cr_assert_eq(e->ee_arg, 1);
			cr_assert_eq(e->ee_line, (uint32_t)l);
			saw = true;
		}
	}
	cr_assert(saw, "no cv-wait event");
	cr_assert_eq(ev_recent(0)->ee_kind, HE_SLEEP_DONE);
	cr_assert_eq(ev_recent(0)->ee_line, (uint32_t)l);
	mutex_exit(&m);
	cv_destroy(&cv);
	mutex_destroy(&m);
}

Test(condvar, wait_without_interlock_panics, .signal = SIGABRT)
{
	kmutex_t m;
	kcondvar_t cv;

	cr_redirect_stderr();
	mutex_init(&m, MUTEX_DEFAULT, IPL_NONE);
	cv_init(&cv, "ct_nolock");
	cv_wait(&cv, &m);
	cr_assert_fail("cv_wait without the interlock returned");
}

Test(condvar, wait_with_interlock_held_elsewhere_panics, .signal = SIGABRT)
{
	static struct ct_share cs;
	pthread_t t;

	cr_redirect_stderr();
	ct_init(&cs, IPL_NONE);
	cr_assert_eq(host_thread_create(&t, "ct_hold", holder, &cs), 0);
	WAIT_FOR(atomic_load(&cs.cs_state) == 1);
	cv_wait(&cs.cs_cv, &cs.cs_mtx);
	cr_assert_fail("cv_wait on an interlock another thread holds returned");
}

Test(condvar, wait_holding_another_spin_mutex_panics, .signal = SIGABRT)
{
	kmutex_t m, spin;
	kcondvar_t cv;

	cr_redirect_stderr();
	mutex_init(&m, MUTEX_DEFAULT, IPL_NONE);
	mutex_init(&spin, MUTEX_SPIN, IPL_SCHED);
	cv_init(&cv, "ct_spin");
	mutex_enter(&spin);
	mutex_enter(&m);
	cv_timedwait(&cv, &m, 1);
	cr_assert_fail("cv_wait holding a spin mutex returned");
}

Test(condvar, destroy_with_waiters_panics, .signal = SIGABRT)
{
	static struct ct_share cs;
	pthread_t t;

	cr_redirect_stderr();
	ct_init(&cs, IPL_NONE);
	cr_assert_eq(host_thread_create(&t, "ct_wait", flag_waiter, &cs), 0);
	WAIT_FOR(nwaiters(&cs) == 1);
	mutex_enter(&cs.cs_mtx);
	cv_destroy(&cs.cs_cv);
	cr_assert_fail("cv_destroy with a waiter returned");
}
