/*
 * tests/test_mutex.c: host/mutex.c, mutex(9) (adaptive and spin kmutex).
 *
 * Threads are host threads (host_thread_create) or the test's own thread;
 * none is an LWP, so no CPU is involved.  Worker threads never call
 * cr_assert (Criterion's asserts belong to the test's thread): they count
 * what went wrong and the test asserts the counts.  Waits for another
 * thread's state poll that state with a deadline (WAIT_FOR), never sleep
 * and hope.
 */
#include "host/clock.h"
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
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <criterion/redirect.h>

#define HANG_ALARM_S	60
#include "hosttest.h"
#define MT_NTHREADS	4
#define MT_LOOPS	20000
#define MT_WAIT_NS	(10 * 1000000000ull)

/* Poll cond until it holds; fail the test after MT_WAIT_NS. */
#define WAIT_FOR(cond)							\
	do {								\
		uint64_t wf_dl_ = host_real_ns() + MT_WAIT_NS;		\
		while (!(cond)) {					\
			cr_assert(host_real_ns() < wf_dl_,		\
			    "timed out waiting for %s", #cond);		\
			sched_yield();					\
		}							\
	} while (0)

/* A mutex shared with one helper thread, and what the helper saw. */
struct mt_share {
	kmutex_t		*ms_mtx;
	long			ms_counter;	/* [ms_mtx] */
	atomic_int		ms_state;	/* helper's progress */
	atomic_int		ms_go;		/* the test's command */
	atomic_int		ms_bad;		/* helper's failed checks */
	_Atomic(struct host_thread *) ms_ht;	/* the helper */
	int			ms_loops;
	/* releaser_worker: tell the holder to go once `waiter` waits */
	const struct host_thread *ms_waiter;
	uint64_t		ms_since;
};

/* local prototypes */
static void mt_setup(void);
static bool ring_has(const struct host_thread *ht, uint64_t since,
    unsigned kind, const void *obj);
static bool ends_with(const char *s, const char *suffix);
static void *counter_worker(void *arg);
static void *holder_worker(void *arg);
static void *observer_worker(void *arg);
static void *unregistered_worker(void *arg);
static void *releaser_worker(void *arg);

/*
 * Every test runs on a registered thread with 10 ms ticks.  A hang ends
 * the test by SIGALRM, reported as a crash (not Criterion's .timeout:
 * BoxFort leaks a timeout record in the runner when timed tests of
 * different lengths overlap, and LeakSanitizer fails the asan run).
 */
static void
mt_setup(void)
{
	alarm(HANG_ALARM_S);
	host_thread_self();
	host_clock_init(100, 1);
}

TestSuite(mutex, .init = mt_setup);



static bool
ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && strcmp(s + a - b, suffix) == 0;
}

/* Increment a plain counter under the mutex, read-yield-write. */
static void *
counter_worker(void *arg)
{
	struct mt_share *ms = arg;
	long v;
	int i;

	for (i = 0; i < ms->ms_loops; i++) {
		mutex_enter(ms->ms_mtx);
		if (!mutex_owned(ms->ms_mtx))
			atomic_fetch_add(&ms->ms_bad, 1);
		v = ms->ms_counter;
		if ((i & 255) == 0)
			sched_yield();	/* widen the window */
		ms->ms_counter = v + 1;
		mutex_exit(ms->ms_mtx);
	}
	return NULL;
}

/*
 * Take the mutex, say so (state 1), hold it until told (go 1), say it is
 * letting go (state 2), let go (state 3), then wait for go 2 and leave.
 */
static void *
holder_worker(void *arg)
{
	struct mt_share *ms = arg;

	atomic_store(&ms->ms_ht, host_thread_self());
	mutex_enter(ms->ms_mtx);
	atomic_store(&ms->ms_state, 1);
	while (atomic_load(&ms->ms_go) < 1)
		sched_yield();
	atomic_store(&ms->ms_state, 2);
	mutex_exit(ms->ms_mtx);
	atomic_store(&ms->ms_state, 3);
	while (atomic_load(&ms->ms_go) < 2)
		sched_yield();
	return NULL;
}

/* From another thread: the test's held mutex is not ours, nor free. */
static void *
observer_worker(void *arg)
{
	struct mt_share *ms = arg;

	if (mutex_owned(ms->ms_mtx))
		atomic_fetch_add(&ms->ms_bad, 1);
	if (mutex_tryenter(ms->ms_mtx))
		atomic_fetch_add(&ms->ms_bad, 1);
	if (mtx_enter_try(ms->ms_mtx))
		atomic_fetch_add(&ms->ms_bad, 1);
	if (mutex_owned(ms->ms_mtx))
		atomic_fetch_add(&ms->ms_bad, 1);
	atomic_store(&ms->ms_state, 1);
	return NULL;
}

/* A plain pthread, never registered: mutex_owned must not register it. */
static void *
unregistered_worker(void *arg)
{
	struct mt_share *ms = arg;

	if (mutex_owned(ms->ms_mtx))
		atomic_fetch_add(&ms->ms_bad, 1);
	if (host_curthread != NULL)
		atomic_fetch_add(&ms->ms_bad, 1);
	return NULL;
}

/*
 * Watch ms_waiter's ring for HE_LOCK_WAIT on the mutex, then let the
 * holder release it (go 1).
 */
static void *
releaser_worker(void *arg)
{
	struct mt_share *ms = arg;
	uint64_t deadline = host_real_ns() + MT_WAIT_NS;

	while (!ring_has(ms->ms_waiter, ms->ms_since, HE_LOCK_WAIT,
	    ms->ms_mtx)) {
		if (host_real_ns() > deadline) {
			atomic_fetch_add(&ms->ms_bad, 1);
			break;
		}
		sched_yield();
	}
	atomic_store(&ms->ms_go, 1);
	return NULL;
}

Test(mutex, exclusion_under_contention)
{
	kmutex_t m;
	struct mt_share ms = { .ms_mtx = &m, .ms_loops = MT_LOOPS };
	pthread_t t[MT_NTHREADS];
	int i;

	mutex_init(&m, MUTEX_DEFAULT, IPL_NONE);
	for (i = 0; i < MT_NTHREADS; i++)
		cr_assert_eq(host_thread_create(&t[i], "mt_count",
		    counter_worker, &ms), 0);
	for (i = 0; i < MT_NTHREADS; i++)
		pthread_join(t[i], NULL);
	cr_assert_eq(ms.ms_counter, (long)MT_NTHREADS * MT_LOOPS);
	cr_assert_eq(atomic_load(&ms.ms_bad), 0);
	cr_assert_null(m.mtx_owner);
	mutex_destroy(&m);
}

Test(mutex, spin_exclusion_under_contention)
{
	kmutex_t m;
	struct mt_share ms = { .ms_mtx = &m, .ms_loops = MT_LOOPS };
	pthread_t t[MT_NTHREADS];
	int i;

	mutex_init(&m, MUTEX_SPIN, IPL_SCHED);
	for (i = 0; i < MT_NTHREADS; i++)
		cr_assert_eq(host_thread_create(&t[i], "mt_spin",
		    counter_worker, &ms), 0);
	for (i = 0; i < MT_NTHREADS; i++)
		pthread_join(t[i], NULL);
	cr_assert_eq(ms.ms_counter, (long)MT_NTHREADS * MT_LOOPS);
	cr_assert_eq(atomic_load(&ms.ms_bad), 0);
	mutex_destroy(&m);
}

Test(mutex, owned_only_by_the_holder)
{
	kmutex_t m;
	struct mt_share ms = { .ms_mtx = &m };
	pthread_t t;

	mutex_init(&m, MUTEX_DEFAULT, IPL_NONE);
	cr_assert(!mutex_owned(&m));
	mutex_enter(&m);
	cr_assert(mutex_owned(&m));
	cr_assert_eq(m.mtx_owner, host_thread_self());
	cr_assert(witness_held(&m.mtx_lo, LM_EXCL));
	cr_assert_eq(host_thread_create(&t, "mt_observe", observer_worker,
	    &ms), 0);
	pthread_join(t, NULL);
	cr_assert_eq(atomic_load(&ms.ms_state), 1);
	cr_assert_eq(atomic_load(&ms.ms_bad), 0,
	    "another thread saw the mutex as its own or took it");
	cr_assert(mutex_owned(&m), "a failed tryenter disturbed the holder");
	mutex_exit(&m);
	cr_assert(!mutex_owned(&m));
	cr_assert(!witness_held(&m.mtx_lo, 0));

	/* A thread that never registered is told "no", and stays so. */
	cr_assert_eq(pthread_create(&t, NULL, unregistered_worker, &ms), 0);
	pthread_join(t, NULL);
	cr_assert_eq(atomic_load(&ms.ms_bad), 0);
	mutex_destroy(&m);
}

Test(mutex, tryenter_fails_while_held_elsewhere)
{
	kmutex_t m;
	struct mt_share ms = { .ms_mtx = &m };
	pthread_t t;

	mutex_init(&m, MUTEX_DEFAULT, IPL_NONE);
	cr_assert_eq(host_thread_create(&t, "mt_hold", holder_worker, &ms), 0);
	WAIT_FOR(atomic_load(&ms.ms_state) == 1);
	cr_assert_eq(mutex_tryenter(&m), 0);
	cr_assert(!mutex_owned(&m));
	cr_assert_eq(witness_nheld(), 0, "a failed try left a held record");
	cr_assert_eq(ev_recent(0)->ee_kind, HE_TRYLOCK);
	cr_assert_eq(ev_recent(0)->ee_obj, &m);
	cr_assert_eq(ev_recent(0)->ee_arg, 0);

	atomic_store(&ms.ms_go, 1);
	WAIT_FOR(atomic_load(&ms.ms_state) == 3);
	cr_assert_eq(mutex_tryenter(&m), 1);
	cr_assert(mutex_owned(&m));
	cr_assert_eq(ev_recent(0)->ee_kind, HE_TRYLOCK);
	cr_assert_eq(ev_recent(0)->ee_arg, 1);
	/* Held by us now: a second try fails without panicking. */
	cr_assert_eq(mutex_tryenter(&m), 0);
	cr_assert(mutex_owned(&m));
	mutex_exit(&m);
	atomic_store(&ms.ms_go, 2);
	pthread_join(t, NULL);
	mutex_destroy(&m);
}

Test(mutex, contended_enter_waits_and_records_it)
{
	kmutex_t m;
	struct mt_share ms = { .ms_mtx = &m };
	struct host_thread *me = host_thread_self();
	const struct evring_entry *e;
	pthread_t t, r;
	int l;

	mutex_init(&m, MUTEX_DEFAULT, IPL_NONE);
	cr_assert_eq(host_thread_create(&t, "mt_hold", holder_worker, &ms), 0);
	WAIT_FOR(atomic_load(&ms.ms_state) == 1);
	/* The holder lets go only once our ring shows us waiting. */
	ms.ms_waiter = me;
	ms.ms_since = evring_count(&me->ht_ring);
	cr_assert_eq(pthread_create(&r, NULL, releaser_worker, &ms), 0);
	l = __LINE__; mutex_enter(&m);
	cr_assert(mutex_owned(&m));
	cr_assert_geq(atomic_load(&ms.ms_state), 2,
	    "got the mutex before its holder let it go");
	pthread_join(r, NULL);
	cr_assert_eq(atomic_load(&ms.ms_bad), 0, "never saw a lock-wait");

	/* ... lock-wait, then lock, both at our call site. */
	e = ev_recent(0);
	cr_assert_eq(e->ee_kind, HE_LOCK);
	cr_assert_eq(e->ee_obj, &m);
	cr_assert_eq(e->ee_line, (uint32_t)l);
	e = ev_recent(1);
	cr_assert_eq(e->ee_kind, HE_LOCK_WAIT);
	cr_assert_eq(e->ee_obj, &m);
	cr_assert_eq(e->ee_line, (uint32_t)l);
	cr_assert(ends_with(e->ee_file, "test_mutex.c"), "%s", e->ee_file);
	mutex_exit(&m);
	atomic_store(&ms.ms_go, 2);
	pthread_join(t, NULL);
	mutex_destroy(&m);
}

Test(mutex, hook_events_name_the_caller)
{
	kmutex_t m;
	const struct evring_entry *e;
	struct host_thread *me = host_thread_self();
	uint64_t c0;
	int le, lx, lt;

	mutex_init(&m, MUTEX_DEFAULT, IPL_NONE);
	c0 = evring_count(&me->ht_ring);
	le = __LINE__; mutex_enter(&m);
	e = ev_recent(0);
	cr_assert_eq(e->ee_kind, HE_LOCK);
	cr_assert_eq(e->ee_obj, &m);
	cr_assert_eq(e->ee_arg, LM_EXCL);
	cr_assert_eq(e->ee_line, (uint32_t)le);
	cr_assert(ends_with(e->ee_file, "test_mutex.c"), "%s", e->ee_file);
	lx = __LINE__; mutex_exit(&m);
	e = ev_recent(0);
	cr_assert_eq(e->ee_kind, HE_UNLOCK);
	cr_assert_eq(e->ee_obj, &m);
	cr_assert_eq(e->ee_line, (uint32_t)lx);
	cr_assert(ends_with(e->ee_file, "test_mutex.c"), "%s", e->ee_file);
	lt = __LINE__; cr_assert(mutex_tryenter(&m));
	e = ev_recent(0);
	cr_assert_eq(e->ee_kind, HE_TRYLOCK);
	cr_assert_eq(e->ee_obj, &m);
	cr_assert_eq(e->ee_arg, 1);
	cr_assert_eq(e->ee_line, (uint32_t)lt);
	mutex_exit(&m);
	/* An uncontended enter waits for nothing: exactly four events. */
	cr_assert_eq(evring_count(&me->ht_ring) - c0, 4);
	cr_assert(!ring_has(me, c0, HE_LOCK_WAIT, &m));
	mutex_destroy(&m);
}

Test(mutex, adaptive_leaves_spl_alone)
{
	kmutex_t m;

	mutex_init(&m, MUTEX_DEFAULT, IPL_NONE);
	cr_assert_eq(spl_current(), IPL_NONE);
	mutex_enter(&m);
	cr_assert_eq(spl_current(), IPL_NONE);
	cr_assert_eq(host_thread_self()->ht_nspin, 0);
	mutex_exit(&m);
	cr_assert_eq(spl_current(), IPL_NONE);
	mutex_destroy(&m);
}

Test(mutex, spin_raises_and_restores_spl)
{
	kmutex_t m, d;
	int s;

	mutex_init(&m, MUTEX_DEFAULT, IPL_VM);
	cr_assert_eq(spl_current(), IPL_NONE);
	mutex_enter(&m);
	cr_assert_eq(spl_current(), IPL_VM);
	cr_assert_eq(host_thread_self()->ht_nspin, 1);
	mutex_exit(&m);
	cr_assert_eq(spl_current(), IPL_NONE);
	cr_assert_eq(host_thread_self()->ht_nspin, 0);

	/* Taken from above its level: the spl stays, and comes back. */
	s = splhigh();
	mutex_enter(&m);
	cr_assert_eq(spl_current(), IPL_HIGH);
	mutex_exit(&m);
	cr_assert_eq(spl_current(), IPL_HIGH);
	splx(s);

	/* tryenter raises too. */
	cr_assert(mutex_tryenter(&m));
	cr_assert_eq(spl_current(), IPL_VM);
	mutex_exit(&m);
	cr_assert_eq(spl_current(), IPL_NONE);

	/* MUTEX_SPIN with IPL_NONE still is a spin mutex, at IPL_VM. */
	mutex_init(&d, MUTEX_SPIN, IPL_NONE);
	mutex_enter(&d);
	cr_assert_eq(spl_current(), IPL_VM);
	mutex_exit(&d);
	cr_assert_eq(spl_current(), IPL_NONE);
	mutex_destroy(&m);
	mutex_destroy(&d);
}

Test(mutex, failed_spin_tryenter_restores_spl)
{
	kmutex_t m;
	struct mt_share ms = { .ms_mtx = &m };
	pthread_t t;

	mutex_init(&m, MUTEX_DEFAULT, IPL_SCHED);
	cr_assert_eq(host_thread_create(&t, "mt_hold", holder_worker, &ms), 0);
	WAIT_FOR(atomic_load(&ms.ms_state) == 1);
	cr_assert_eq(mutex_tryenter(&m), 0);
	cr_assert_eq(spl_current(), IPL_NONE);
	cr_assert_eq(host_thread_self()->ht_nspin, 0);
	atomic_store(&ms.ms_go, 2);
	pthread_join(t, NULL);
	mutex_destroy(&m);
}

Test(mutex, nested_spin_lifo)
{
	kmutex_t a, b;

	mutex_init(&a, MUTEX_SPIN, IPL_VM);
	mutex_init(&b, MUTEX_SPIN, IPL_SCHED);
	mutex_enter(&a);
	mutex_enter(&b);
	cr_assert_eq(spl_current(), IPL_SCHED);
	mutex_exit(&b);
	cr_assert_eq(spl_current(), IPL_VM);
	mutex_exit(&a);
	cr_assert_eq(spl_current(), IPL_NONE);
	cr_assert_eq(host_thread_self()->ht_nspin, 0);
}

Test(mutex, nested_spin_out_of_order)
{
	kmutex_t a, b, c, x;

	mutex_init(&a, MUTEX_SPIN, IPL_VM);
	mutex_init(&b, MUTEX_SPIN, IPL_SCHED);
	mutex_init(&c, MUTEX_SPIN, IPL_CLOCK);
	mutex_init(&x, MUTEX_DEFAULT, IPL_NONE);

	/* Releasing the first while the second is held keeps the level. */
	mutex_enter(&a);
	mutex_enter(&b);
	mutex_exit(&a);
	cr_assert_eq(spl_current(), IPL_SCHED,
	    "spl dropped below a held spin mutex's level");
	mutex_exit(&b);
	cr_assert_eq(spl_current(), IPL_NONE,
	    "spl left raised with no spin mutex held");

	/* Three deep, middle first, with an adaptive one in between. */
	mutex_enter(&a);
	mutex_enter(&x);
	mutex_enter(&b);
	mutex_enter(&c);
	cr_assert_eq(spl_current(), IPL_CLOCK);
	mutex_exit(&b);
	cr_assert_eq(spl_current(), IPL_CLOCK);
	mutex_exit(&c);
	cr_assert_eq(spl_current(), IPL_VM);
	mutex_exit(&x);
	cr_assert_eq(spl_current(), IPL_VM);
	mutex_exit(&a);
	cr_assert_eq(spl_current(), IPL_NONE);
	cr_assert_eq(host_thread_self()->ht_nspin, 0);
}

Test(mutex, openbsd_spellings)
{
	kmutex_t m;
	struct mt_share ms = { .ms_mtx = &m };
	pthread_t t;

	mutex_init(&m, MUTEX_DEFAULT, IPL_NONE);
	MUTEX_ASSERT_UNLOCKED(&m);
	mtx_enter(&m);
	MUTEX_ASSERT_LOCKED(&m);
	cr_assert(mutex_owned(&m));
	cr_assert_eq(host_thread_create(&t, "mt_observe", observer_worker,
	    &ms), 0);
	pthread_join(t, NULL);
	cr_assert_eq(atomic_load(&ms.ms_bad), 0);
	mtx_leave(&m);
	MUTEX_ASSERT_UNLOCKED(&m);
	cr_assert(mtx_enter_try(&m));
	MUTEX_ASSERT_LOCKED(&m);
	mtx_leave(&m);
	cr_assert(!mutex_owned(&m));
	mutex_destroy(&m);
}

Test(mutex, named_class)
{
	kmutex_t m;

	mutex_init_class(&m, MUTEX_DEFAULT, IPL_NONE, "mt_named");
	cr_assert_str_eq(m.mtx_lo.lo_name, "mt_named");
	cr_assert_eq(m.mtx_lo.lo_kind, LK_MUTEX);
	cr_assert_eq(m.mtx_ipl, IPL_NONE);
	mutex_destroy(&m);
}

Test(mutex, recursion_panics, .signal = SIGABRT)
{
	kmutex_t m;

	cr_redirect_stderr();
	mutex_init(&m, MUTEX_DEFAULT, IPL_NONE);
	mutex_enter(&m);
	mutex_enter(&m);
	cr_assert_fail("recursive mutex_enter returned");
}

Test(mutex, spin_recursion_panics, .signal = SIGABRT)
{
	kmutex_t m;

	cr_redirect_stderr();
	mutex_init(&m, MUTEX_SPIN, IPL_VM);
	mutex_enter(&m);
	mutex_enter(&m);
	cr_assert_fail("recursive mutex_enter returned");
}

Test(mutex, exit_by_non_owner_panics, .signal = SIGABRT)
{
	static kmutex_t m;
	static struct mt_share ms = { .ms_mtx = &m };
	pthread_t t;

	cr_redirect_stderr();
	mutex_init(&m, MUTEX_DEFAULT, IPL_NONE);
	cr_assert_eq(host_thread_create(&t, "mt_hold", holder_worker, &ms), 0);
	WAIT_FOR(atomic_load(&ms.ms_state) == 1);
	mutex_exit(&m);
	cr_assert_fail("mutex_exit by a non-owner returned");
}

Test(mutex, exit_unheld_panics, .signal = SIGABRT)
{
	kmutex_t m;

	cr_redirect_stderr();
	mutex_init(&m, MUTEX_DEFAULT, IPL_NONE);
	mutex_exit(&m);
	cr_assert_fail("mutex_exit of a free mutex returned");
}

Test(mutex, assert_locked_panics_when_free, .signal = SIGABRT)
{
	kmutex_t m;

	cr_redirect_stderr();
	mutex_init(&m, MUTEX_DEFAULT, IPL_NONE);
	MUTEX_ASSERT_LOCKED(&m);
	cr_assert_fail("MUTEX_ASSERT_LOCKED passed on a free mutex");
}

Test(mutex, assert_unlocked_panics_when_held, .signal = SIGABRT)
{
	kmutex_t m;

	cr_redirect_stderr();
	mutex_init(&m, MUTEX_DEFAULT, IPL_NONE);
	mutex_enter(&m);
	MUTEX_ASSERT_UNLOCKED(&m);
	cr_assert_fail("MUTEX_ASSERT_UNLOCKED passed on a held mutex");
}

Test(mutex, destroy_held_panics, .signal = SIGABRT)
{
	kmutex_t m;

	cr_redirect_stderr();
	mutex_init(&m, MUTEX_DEFAULT, IPL_NONE);
	mutex_enter(&m);
	mutex_destroy(&m);
	cr_assert_fail("mutex_destroy of a held mutex returned");
}
