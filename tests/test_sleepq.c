/*
 * tests/test_sleepq.c: host/sleepq.c, tsleep(9)/msleep/wakeup.
 *
 * sleepq_nsleepers() shows who sleeps where: a sleeper is counted from
 * the moment it is queued, and a wakeup takes it off the queue before it
 * returns, so "woken" and "still asleep" are read exactly, without
 * sleeping.  Sleepers that expect a wakeup use a long timeout and count a
 * timeout as a failure: a lost wakeup fails the test, it does not hang it.
 */
#include "host/clock.h"
#include "host/evring.h"
#include "host/hook.h"
#include "host/kassert.h"
#include "host/mutex.h"
#include "host/rwlock.h"
#include "host/sleepq.h"
#include "host/spl.h"
#include "host/thread.h"

#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <criterion/redirect.h>

#define HANG_ALARM_S	60
#include "hosttest.h"
#define SQ_WAIT_NS	(10 * 1000000000ull)
#define SQ_LONG_TICKS	1000		/* 10 s at hz 100 */
#define SQ_LONG_NS	(10 * 1000000000ull)
#define SQ_PINGPONG	3000
#define MS		1000000ull

#define WAIT_FOR(cond)							\
	do {								\
		uint64_t wf_dl_ = host_real_ns() + SQ_WAIT_NS;		\
		while (!(cond)) {					\
			cr_assert(host_real_ns() < wf_dl_,		\
			    "timed out waiting for %s", #cond);		\
			sched_yield();					\
		}							\
	} while (0)

/* A sleeper: how it sleeps, and what came of it. */
struct sq_sleeper {
	const void	*ss_ident;
	kmutex_t	*ss_mtx;	/* msleep interlock, or NULL */
	krwlock_t	*ss_rw;		/* rwsleep interlock, or NULL */
	int		ss_rwop;
	int		ss_pri;
	atomic_int	ss_state;	/* 1 about to sleep, 2 back */
	atomic_int	ss_result;
	atomic_int	ss_seq;		/* order it came back in */
	atomic_int	ss_bad;
	atomic_int	*ss_order;
	_Atomic(struct host_thread *) ss_ht;
};

/* Ping-pong between two threads through `turn`. */
struct sq_pingpong {
	kmutex_t	pp_mtx;
	int		pp_turn;	/* [pp_mtx] whose turn: 0 or 1 */
	bool		pp_unlocked_wakeup;	/* [I] wake after mutex_exit */
	atomic_int	pp_timeouts;
	atomic_int	pp_bad;
};
struct sq_player {
	struct sq_pingpong *pl_pp;
	int		pl_me;
};

/* local prototypes */
static void sq_setup(void);
static unsigned sq_bucket_of(const void *ident);
static void *sleeper(void *arg);
static void sleeper_start(pthread_t *t, struct sq_sleeper *ss);
static void *player(void *arg);
static void *taker(void *arg);

/*
 * Every test runs on a registered thread with 10 ms ticks.  A hang ends
 * the test by SIGALRM, reported as a crash (not Criterion's .timeout:
 * BoxFort leaks a timeout record in the runner when timed tests of
 * different lengths overlap, and LeakSanitizer fails the asan run).
 */
static void
sq_setup(void)
{
	alarm(HANG_ALARM_S);
	host_thread_self();
	host_clock_init(100, 1);
}

TestSuite(sleepq, .init = sq_setup);


/*
 * The bucket host/sleepq.c hashes ident into (a copy of its hash), to
 * pick two channels that share a queue.  If the hash changes the test
 * still holds, it just tests less.
 */
static unsigned
sq_bucket_of(const void *ident)
{
	uintptr_t h = (uintptr_t)ident;

	h ^= h >> 17;
	h *= 0x9e3779b97f4a7c15ull;
	return (unsigned)((h >> 40) % 128);
}

static void *
sleeper(void *arg)
{
	struct sq_sleeper *ss = arg;
	int error;

	atomic_store(&ss->ss_ht, host_thread_self());
	if (ss->ss_mtx != NULL)
		mutex_enter(ss->ss_mtx);
	if (ss->ss_rw != NULL)
		rw_enter(ss->ss_rw, ss->ss_rwop);
	atomic_store(&ss->ss_state, 1);
	if (ss->ss_rw != NULL)
		error = rwsleep_nsec(ss->ss_ident, ss->ss_rw, ss->ss_pri,
		    "sq_rw", SQ_LONG_NS);
	else if (ss->ss_mtx != NULL)
		error = msleep(ss->ss_ident, ss->ss_mtx, ss->ss_pri, "sq_m",
		    SQ_LONG_TICKS);
	else
		error = tsleep(ss->ss_ident, ss->ss_pri, "sq_t",
		    SQ_LONG_TICKS);
	if (ss->ss_order != NULL)
		atomic_store(&ss->ss_seq, atomic_fetch_add(ss->ss_order, 1));
	atomic_store(&ss->ss_result, error);
	if (ss->ss_mtx != NULL) {
		if (!mutex_owned(ss->ss_mtx))
			atomic_fetch_add(&ss->ss_bad, 1);
		else
			mutex_exit(ss->ss_mtx);
	}
	if (ss->ss_rw != NULL) {
		if (ss->ss_rwop == RW_WRITER ? !rw_write_held(ss->ss_rw) :
		    !rw_read_held(ss->ss_rw))
			atomic_fetch_add(&ss->ss_bad, 1);
		else
			rw_exit(ss->ss_rw);
	}
	atomic_store(&ss->ss_state, 2);
	return NULL;
}

/* Start a sleeper and wait until it is queued on its channel. */
static void
sleeper_start(pthread_t *t, struct sq_sleeper *ss)
{
	int n = sleepq_nsleepers(ss->ss_ident);

	atomic_store(&ss->ss_result, -1);
	if (ss->ss_pri == 0)
		ss->ss_pri = PVM;
	cr_assert_eq(host_thread_create(t, "sq_sleeper", sleeper, ss), 0);
	WAIT_FOR(sleepq_nsleepers(ss->ss_ident) == n + 1);
}

/*
 * Wait for my turn, pass it on, SQ_PINGPONG times.  Every sleep has a
 * long timeout: running into it means a wakeup was lost.
 */
static void *
player(void *arg)
{
	struct sq_player *pl = arg;
	struct sq_pingpong *pp = pl->pl_pp;
	int i;

	for (i = 0; i < SQ_PINGPONG; i++) {
		mutex_enter(&pp->pp_mtx);
		while (pp->pp_turn != pl->pl_me) {
			if (msleep(&pp->pp_turn, &pp->pp_mtx, PVM, "sq_pp",
			    SQ_LONG_TICKS) != 0) {
				atomic_fetch_add(&pp->pp_timeouts, 1);
				mutex_exit(&pp->pp_mtx);
				return NULL;
			}
			if (!mutex_owned(&pp->pp_mtx))
				atomic_fetch_add(&pp->pp_bad, 1);
		}
		pp->pp_turn = !pl->pl_me;
		if (pp->pp_unlocked_wakeup) {
			mutex_exit(&pp->pp_mtx);
			wakeup(&pp->pp_turn);
		} else {
			wakeup(&pp->pp_turn);
			mutex_exit(&pp->pp_mtx);
		}
	}
	return NULL;
}

/* Take the sleeper's interlock while it sleeps, then wake it. */
static void *
taker(void *arg)
{
	struct sq_sleeper *ss = arg;

	if (ss->ss_mtx != NULL) {
		mutex_enter(ss->ss_mtx);
		atomic_store(&ss->ss_seq, 1);	/* got it */
		wakeup(ss->ss_ident);
		mutex_exit(ss->ss_mtx);
	} else {
		rw_enter(ss->ss_rw, RW_WRITER);
		atomic_store(&ss->ss_seq, 1);
		wakeup(ss->ss_ident);
		rw_exit(ss->ss_rw);
	}
	return NULL;
}

Test(sleepq, wakeup_wakes_only_its_channel)
{
	static char chans[4096];
	struct sq_sleeper a = { 0 }, b = { 0 };
	const void *ca = &chans[0], *cb = NULL;
	pthread_t ta, tb;
	size_t i;

	host_clock_init(100, 1);
	for (i = 1; i < sizeof(chans) && cb == NULL; i++)
		if (sq_bucket_of(&chans[i]) == sq_bucket_of(ca))
			cb = &chans[i];
	cr_assert_not_null(cb, "no two channels share a bucket");
	a.ss_ident = ca;
	b.ss_ident = cb;
	sleeper_start(&ta, &a);
	sleeper_start(&tb, &b);
	cr_assert_eq(sleepq_nsleepers(ca), 1);
	cr_assert_eq(sleepq_nsleepers(cb), 1);

	wakeup(ca);
	cr_assert_eq(ev_recent(0)->ee_kind, HE_WAKEUP);
	cr_assert_eq(ev_recent(0)->ee_obj, ca);
	cr_assert_eq(ev_recent(0)->ee_arg, 1);
	cr_assert_eq(sleepq_nsleepers(ca), 0);
	pthread_join(ta, NULL);
	cr_assert_eq(atomic_load(&a.ss_result), 0);
	/* The sleeper on the other channel of the same queue sleeps on. */
	cr_assert_eq(sleepq_nsleepers(cb), 1);
	cr_assert_eq(atomic_load(&b.ss_state), 1);

	wakeup(cb);
	pthread_join(tb, NULL);
	cr_assert_eq(atomic_load(&b.ss_result), 0);
	cr_assert_eq(sleepq_nsleepers(cb), 0);
}

Test(sleepq, wakeup_one_wakes_the_oldest)
{
	static int chan;
	struct sq_sleeper s[3];
	atomic_int order = 0;
	pthread_t t[3];
	int i;

	host_clock_init(100, 1);
	memset(s, 0, sizeof(s));
	for (i = 0; i < 3; i++) {
		s[i].ss_ident = &chan;
		s[i].ss_order = &order;
		sleeper_start(&t[i], &s[i]);
	}
	cr_assert_eq(sleepq_nsleepers(&chan), 3);
	for (i = 0; i < 3; i++) {
		wakeup_one(&chan);
		cr_assert_eq(ev_recent(0)->ee_kind, HE_WAKEUP);
		cr_assert_eq(ev_recent(0)->ee_arg, 1);
		cr_assert_eq(sleepq_nsleepers(&chan), 2 - i,
		    "wakeup_one woke more than one");
		pthread_join(t[i], NULL);	/* the oldest sleeper */
		cr_assert_eq(atomic_load(&s[i].ss_result), 0);
		cr_assert_eq(atomic_load(&s[i].ss_seq), i);
	}
	wakeup_one(&chan);
	cr_assert_eq(ev_recent(0)->ee_arg, 0);
}

Test(sleepq, wakeup_wakes_all)
{
	static int chan;
	struct sq_sleeper s[4];
	pthread_t t[4];
	int i;

	host_clock_init(100, 1);
	memset(s, 0, sizeof(s));
	for (i = 0; i < 4; i++) {
		s[i].ss_ident = &chan;
		sleeper_start(&t[i], &s[i]);
	}
	wakeup(&chan);
	cr_assert_eq(ev_recent(0)->ee_arg, 4);
	cr_assert_eq(sleepq_nsleepers(&chan), 0);
	for (i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		cr_assert_eq(atomic_load(&s[i].ss_result), 0);
	}
	wakeup(&chan);
	cr_assert_eq(ev_recent(0)->ee_arg, 0);
}

Test(sleepq, sleeper_shows_its_channel)
{
	static int chan;
	struct sq_sleeper s = { .ss_ident = &chan };
	struct host_thread *ht;
	pthread_t t;

	host_clock_init(100, 1);
	sleeper_start(&t, &s);
	ht = atomic_load(&s.ss_ht);
	cr_assert_eq(__atomic_load_n(&ht->ht_wchan, __ATOMIC_RELAXED), &chan);
	cr_assert_str_eq(__atomic_load_n(&ht->ht_wmesg, __ATOMIC_RELAXED),
	    "sq_t");
	wakeup(&chan);
	pthread_join(t, NULL);
	cr_assert_eq(atomic_load(&s.ss_result), 0);
}

Test(sleepq, tsleep_times_out)
{
	static int chan;
	const struct evring_entry *e;
	uint64_t t0, dt;
	int l;

	host_clock_init(100, 1);
	t0 = host_real_ns();
	l = __LINE__; cr_assert_eq(tsleep(&chan, PVM, "sq_to", 5), EWOULDBLOCK);
	dt = host_real_ns() - t0;
	cr_assert_geq(dt, 50 * MS, "%llu ns", (unsigned long long)dt);
	cr_assert_lt(dt, 2000 * MS, "%llu ns", (unsigned long long)dt);
	cr_assert_eq(sleepq_nsleepers(&chan), 0, "left on the queue");
	cr_assert_null(host_thread_self()->ht_wchan);
	e = ev_recent(0);
	cr_assert_eq(e->ee_kind, HE_SLEEP_DONE);
	cr_assert_eq(e->ee_obj, &chan);
	cr_assert_eq(e->ee_arg, EWOULDBLOCK);
	cr_assert_eq(e->ee_line, (uint32_t)l);
	e = ev_recent(1);
	cr_assert_eq(e->ee_kind, HE_SLEEP);
	cr_assert_eq(e->ee_obj, &chan);
	cr_assert_eq(e->ee_line, (uint32_t)l);
	cr_assert_not_null(strstr(e->ee_file, "test_sleepq.c"));
	/* A later wakeup finds nobody. */
	wakeup(&chan);
	cr_assert_eq(ev_recent(0)->ee_arg, 0);
}

Test(sleepq, msleep_releases_and_retakes)
{
	static int chan;
	kmutex_t m;
	struct sq_sleeper me = { .ss_ident = &chan };
	pthread_t t;

	host_clock_init(100, 1);
	mutex_init(&m, MUTEX_DEFAULT, IPL_NONE);
	me.ss_mtx = &m;
	mutex_enter(&m);
	/* The taker can get m only if msleep let it go. */
	cr_assert_eq(host_thread_create(&t, "sq_taker", taker, &me), 0);
	cr_assert_eq(msleep(&chan, &m, PVM, "sq_m", SQ_LONG_TICKS), 0);
	cr_assert(mutex_owned(&m), "msleep did not take the interlock back");
	cr_assert_eq(atomic_load(&me.ss_seq), 1);
	cr_assert(witness_held(&m.mtx_lo, LM_EXCL));
	mutex_exit(&m);
	pthread_join(t, NULL);
	mutex_destroy(&m);
}

Test(sleepq, msleep_pnorelock_leaves_it_released)
{
	static int chan;
	kmutex_t m;
	struct sq_sleeper s = { .ss_ident = &chan, .ss_pri = PVM | PNORELOCK };
	pthread_t t;

	host_clock_init(100, 1);
	mutex_init(&m, MUTEX_DEFAULT, IPL_NONE);

	/* Timed out. */
	mutex_enter(&m);
	cr_assert_eq(msleep(&chan, &m, PVM | PNORELOCK, "sq_nr", 1),
	    EWOULDBLOCK);
	cr_assert(!mutex_owned(&m));
	cr_assert_eq(witness_nheld(), 0);
	cr_assert_null(m.mtx_owner);

	/* Woken: the sleeper reports it does not own m after msleep. */
	s.ss_mtx = &m;
	sleeper_start(&t, &s);
	wakeup(&chan);
	pthread_join(t, NULL);
	cr_assert_eq(atomic_load(&s.ss_result), 0);
	cr_assert_eq(atomic_load(&s.ss_bad), 1, "PNORELOCK re-took the lock");
	cr_assert_null(m.mtx_owner);
	mutex_enter(&m);	/* and it is free */
	mutex_exit(&m);
	mutex_destroy(&m);
}

Test(sleepq, msleep_spin_interlock)
{
	static int chan;
	kmutex_t m;

	host_clock_init(100, 1);
	mutex_init(&m, MUTEX_SPIN, IPL_VM);
	mutex_enter(&m);
	cr_assert_eq(msleep(&chan, &m, PVM, "sq_spin", 1), EWOULDBLOCK);
	cr_assert(mutex_owned(&m));
	cr_assert_eq(spl_current(), IPL_VM);
	mutex_exit(&m);
	cr_assert_eq(spl_current(), IPL_NONE);
	cr_assert_eq(host_thread_self()->ht_nspin, 0);
	mutex_destroy(&m);
}

Test(sleepq, msleep_nsec_infslp_waits_for_wakeup)
{
	static int chan;
	kmutex_t m;
	struct sq_sleeper me = { .ss_ident = &chan };
	pthread_t t;

	host_clock_init(100, 1);
	mutex_init(&m, MUTEX_DEFAULT, IPL_NONE);
	me.ss_mtx = &m;
	mutex_enter(&m);
	cr_assert_eq(host_thread_create(&t, "sq_taker", taker, &me), 0);
	cr_assert_eq(msleep_nsec(&chan, &m, PVM, "sq_inf", INFSLP), 0);
	cr_assert(mutex_owned(&m));
	cr_assert_eq(atomic_load(&me.ss_seq), 1);
	mutex_exit(&m);
	pthread_join(t, NULL);
	mutex_destroy(&m);
}

Test(sleepq, msleep_nsec_finite_times_out)
{
	static int chan;
	kmutex_t m;
	uint64_t t0, dt;

	host_clock_init(100, 1);
	mutex_init(&m, MUTEX_DEFAULT, IPL_NONE);
	mutex_enter(&m);
	t0 = host_real_ns();
	cr_assert_eq(msleep_nsec(&chan, &m, PVM, "sq_ns", 30 * MS),
	    EWOULDBLOCK);
	dt = host_real_ns() - t0;
	cr_assert(mutex_owned(&m));
	cr_assert_geq(dt, 30 * MS, "%llu ns", (unsigned long long)dt);
	cr_assert_lt(dt, 2000 * MS, "%llu ns", (unsigned long long)dt);

	/* Simulated nanoseconds: scale 100 makes 2 s last 20 ms. */
	cr_assert_eq(host_clock_init(100, 100), 0);
	t0 = host_real_ns();
	cr_assert_eq(msleep_nsec(&chan, &m, PVM, "sq_ns", 2000 * MS),
	    EWOULDBLOCK);
	dt = host_real_ns() - t0;
	cr_assert_geq(dt, 20 * MS, "%llu ns", (unsigned long long)dt);
	cr_assert_lt(dt, 1000 * MS, "scale ignored: %llu ns",
	    (unsigned long long)dt);

	/* Zero still sleeps (OpenBSD: at least a little), and times out. */
	cr_assert_eq(msleep_nsec(&chan, &m, PVM, "sq_ns", 0), EWOULDBLOCK);
	cr_assert(mutex_owned(&m));
	mutex_exit(&m);
	mutex_destroy(&m);
}

Test(sleepq, tsleep_nsec_times_out)
{
	static int chan;
	uint64_t t0, dt;

	host_clock_init(100, 1);
	t0 = host_real_ns();
	cr_assert_eq(tsleep_nsec(&chan, PVM, "sq_tns", 20 * MS), EWOULDBLOCK);
	dt = host_real_ns() - t0;
	cr_assert_geq(dt, 20 * MS, "%llu ns", (unsigned long long)dt);
	cr_assert_lt(dt, 2000 * MS, "%llu ns", (unsigned long long)dt);
}

Test(sleepq, rwsleep_retakes_write_hold)
{
	static int chan;
	krwlock_t rw;
	struct sq_sleeper me = { .ss_ident = &chan };
	pthread_t t;

	host_clock_init(100, 1);
	rw_init(&rw);
	me.ss_rw = &rw;
	rw_enter(&rw, RW_WRITER);
	/* The taker's write enter proves our hold was let go. */
	cr_assert_eq(host_thread_create(&t, "sq_taker", taker, &me), 0);
	cr_assert_eq(rwsleep_nsec(&chan, &rw, PVM, "sq_rw", SQ_LONG_NS), 0);
	cr_assert(rw_write_held(&rw));
	cr_assert_eq(atomic_load(&me.ss_seq), 1);
	rw_exit(&rw);
	pthread_join(t, NULL);
	rw_destroy(&rw);
}

Test(sleepq, rwsleep_retakes_read_hold)
{
	static int chan;
	krwlock_t rw;
	struct sq_sleeper me = { .ss_ident = &chan };
	pthread_t t;

	host_clock_init(100, 1);
	rw_init(&rw);
	me.ss_rw = &rw;
	rw_enter(&rw, RW_READER);
	cr_assert_eq(host_thread_create(&t, "sq_taker", taker, &me), 0);
	cr_assert_eq(rwsleep_nsec(&chan, &rw, PVM, "sq_rw", SQ_LONG_NS), 0);
	cr_assert(rw_read_held(&rw));
	cr_assert(!rw_write_held(&rw));
	cr_assert_eq(atomic_load(&me.ss_seq), 1);
	rw_exit(&rw);
	pthread_join(t, NULL);

	/* Timed out, PNORELOCK: released. */
	rw_enter(&rw, RW_READER);
	cr_assert_eq(rwsleep_nsec(&chan, &rw, PVM | PNORELOCK, "sq_rw",
	    MS), EWOULDBLOCK);
	cr_assert(!rw_lock_held(&rw));
	cr_assert_eq(rw.rw_readers, 0);
	rw_destroy(&rw);
}

Test(sleepq, no_lost_wakeup_under_interlock)
{
	static struct sq_pingpong pp;
	struct sq_player pl[2] = { { &pp, 0 }, { &pp, 1 } };
	pthread_t t[2];
	int i;

	host_clock_init(100, 1);
	mutex_init(&pp.pp_mtx, MUTEX_DEFAULT, IPL_NONE);
	for (i = 0; i < 2; i++)
		cr_assert_eq(host_thread_create(&t[i], "sq_player", player,
		    &pl[i]), 0);
	for (i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	cr_assert_eq(atomic_load(&pp.pp_timeouts), 0, "a wakeup was lost");
	cr_assert_eq(atomic_load(&pp.pp_bad), 0);
	cr_assert_eq(sleepq_nsleepers(&pp.pp_turn), 0);
}

Test(sleepq, no_lost_wakeup_after_interlock)
{
	static struct sq_pingpong pp;
	struct sq_player pl[2] = { { &pp, 0 }, { &pp, 1 } };
	pthread_t t[2];
	int i;

	/* The waker drops the interlock first: the queue alone must do. */
	host_clock_init(100, 1);
	mutex_init(&pp.pp_mtx, MUTEX_DEFAULT, IPL_NONE);
	pp.pp_unlocked_wakeup = true;
	for (i = 0; i < 2; i++)
		cr_assert_eq(host_thread_create(&t[i], "sq_player", player,
		    &pl[i]), 0);
	for (i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	cr_assert_eq(atomic_load(&pp.pp_timeouts), 0, "a wakeup was lost");
	cr_assert_eq(atomic_load(&pp.pp_bad), 0);
}

Test(sleepq, sleep_holding_spin_mutex_panics, .signal = SIGABRT)
{
	static int chan;
	kmutex_t spin;

	cr_redirect_stderr();
	mutex_init(&spin, MUTEX_SPIN, IPL_VM);
	mutex_enter(&spin);
	tsleep(&chan, PVM, "sq_bad", 1);
	cr_assert_fail("tsleep holding a spin mutex returned");
}

Test(sleepq, msleep_without_interlock_panics, .signal = SIGABRT)
{
	static int chan;
	kmutex_t m;

	cr_redirect_stderr();
	mutex_init(&m, MUTEX_DEFAULT, IPL_NONE);
	msleep(&chan, &m, PVM, "sq_bad", 1);
	cr_assert_fail("msleep without its interlock returned");
}

Test(sleepq, rwsleep_without_lock_panics, .signal = SIGABRT)
{
	static int chan;
	krwlock_t rw;

	cr_redirect_stderr();
	rw_init(&rw);
	rwsleep_nsec(&chan, &rw, PVM, "sq_bad", MS);
	cr_assert_fail("rwsleep without its lock returned");
}

Test(sleepq, null_channel_panics, .signal = SIGABRT)
{
	cr_redirect_stderr();
	tsleep(NULL, PVM, "sq_null", 1);
	cr_assert_fail("tsleep on NULL returned");
}
