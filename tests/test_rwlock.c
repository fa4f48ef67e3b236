/*
 * tests/test_rwlock.c: host/rwlock.c, rwlock(9).
 *
 * Helpers run as host threads and follow a small script driven by the
 * test through atomics; they never cr_assert (they count failures).  A
 * thread that must be provably waiting for the lock is found so through
 * the lock's own state (rw_wwait read under rw_mtx) or through its event
 * ring (HE_LOCK_WAIT), never by sleeping.
 */
#include "host/clock.h"
#include "host/evring.h"
#include "host/hook.h"
#include "host/kassert.h"
#include "host/rwlock.h"
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
#define RT_NTHREADS	4
#define RT_LOOPS	5000
#define RT_WAIT_NS	(10 * 1000000000ull)

#define WAIT_FOR(cond)							\
	do {								\
		uint64_t wf_dl_ = host_real_ns() + RT_WAIT_NS;		\
		while (!(cond)) {					\
			cr_assert(host_real_ns() < wf_dl_,		\
			    "timed out waiting for %s", #cond);		\
			sched_yield();					\
		}							\
	} while (0)

/* One helper's script: take rw in rh_op, report, hold until go, leave. */
struct rt_helper {
	krwlock_t		*rh_rw;
	int			rh_op;		/* for rw_enter */
	pthread_barrier_t	*rh_barrier;	/* met while holding, or NULL */
	atomic_int		rh_state;	/* 1 start, 2 holding, 3 done */
	atomic_int		rh_go;
	atomic_int		rh_bad;
	atomic_int		rh_seq;		/* order it got the lock in */
	_Atomic(struct host_thread *) rh_ht;
	uint64_t		rh_since;	/* its ring count at start */
	atomic_int		*rh_order;	/* shared sequence */
};

/* The counter test: a pair of fields that writers keep equal. */
struct rt_pair {
	krwlock_t	*rp_rw;
	long		rp_a;		/* [rp_rw] */
	long		rp_b;		/* [rp_rw] == rp_a */
	atomic_int	rp_torn;	/* readers that saw a != b */
	atomic_int	rp_bad;
};

/* local prototypes */
static void rt_setup(void);
static bool ring_has(const struct host_thread *ht, uint64_t since,
    unsigned kind, const void *obj);
static int wwait(krwlock_t *rw);
static void *helper(void *arg);
static void helper_start(pthread_t *t, struct rt_helper *h);
static void *pair_writer(void *arg);
static void *pair_reader(void *arg);
static void *held_observer(void *arg);

/*
 * Every test runs on a registered thread with 10 ms ticks.  A hang ends
 * the test by SIGALRM, reported as a crash (not Criterion's .timeout:
 * BoxFort leaks a timeout record in the runner when timed tests of
 * different lengths overlap, and LeakSanitizer fails the asan run).
 */
static void
rt_setup(void)
{
	alarm(HANG_ALARM_S);
	host_thread_self();
	host_clock_init(100, 1);
}

TestSuite(rwlock, .init = rt_setup);



/* Writers waiting, read as the lock itself keeps it. */
static int
wwait(krwlock_t *rw)
{
	int n;

	pthread_mutex_lock(&rw->rw_mtx);
	n = rw->rw_wwait;
	pthread_mutex_unlock(&rw->rw_mtx);
	return n;
}

static void *
helper(void *arg)
{
	struct rt_helper *h = arg;
	struct host_thread *ht = host_thread_self();
	int op = h->rh_op & RW_OPMASK;

	h->rh_since = evring_count(&ht->ht_ring);
	atomic_store(&h->rh_ht, ht);
	atomic_store(&h->rh_state, 1);
	if (rw_enter(h->rh_rw, h->rh_op) != 0)
		atomic_fetch_add(&h->rh_bad, 1);
	if (h->rh_order != NULL)
		atomic_store(&h->rh_seq, atomic_fetch_add(h->rh_order, 1));
	if (op == RW_WRITER ? !rw_write_held(h->rh_rw) :
	    !rw_read_held(h->rh_rw))
		atomic_fetch_add(&h->rh_bad, 1);
	atomic_store(&h->rh_state, 2);
	if (h->rh_barrier != NULL)
		pthread_barrier_wait(h->rh_barrier);
	while (atomic_load(&h->rh_go) == 0)
		sched_yield();
	rw_exit(h->rh_rw);
	if (rw_lock_held(h->rh_rw))
		atomic_fetch_add(&h->rh_bad, 1);
	atomic_store(&h->rh_state, 3);
	return NULL;
}

/* Start a helper and wait until it is about to take the lock. */
static void
helper_start(pthread_t *t, struct rt_helper *h)
{
	cr_assert_eq(host_thread_create(t, "rt_helper", helper, h), 0);
	WAIT_FOR(atomic_load(&h->rh_state) >= 1);
}

static void *
pair_writer(void *arg)
{
	struct rt_pair *rp = arg;
	int i;

	for (i = 0; i < RT_LOOPS; i++) {
		rw_enter(rp->rp_rw, RW_WRITER);
		if (!rw_write_held(rp->rp_rw))
			atomic_fetch_add(&rp->rp_bad, 1);
		rp->rp_a++;
		if ((i & 63) == 0)
			sched_yield();
		rp->rp_b++;
		rw_exit(rp->rp_rw);
	}
	return NULL;
}

static void *
pair_reader(void *arg)
{
	struct rt_pair *rp = arg;
	long a, b;
	int i;

	for (i = 0; i < RT_LOOPS; i++) {
		rw_enter(rp->rp_rw, RW_READER);
		if (!rw_read_held(rp->rp_rw) || rw_write_held(rp->rp_rw))
			atomic_fetch_add(&rp->rp_bad, 1);
		a = rp->rp_a;
		if ((i & 63) == 0)
			sched_yield();
		b = rp->rp_b;
		if (a != b)
			atomic_fetch_add(&rp->rp_torn, 1);
		rw_exit(rp->rp_rw);
	}
	return NULL;
}

/* Someone else's hold is not ours, whatever the mode. */
static void *
held_observer(void *arg)
{
	struct rt_helper *h = arg;

	if (rw_write_held(h->rh_rw) || rw_read_held(h->rh_rw) ||
	    rw_lock_held(h->rh_rw))
		atomic_fetch_add(&h->rh_bad, 1);
	return NULL;
}

Test(rwlock, readers_share)
{
	krwlock_t rw;
	pthread_barrier_t bar;
	struct rt_helper h[2];
	pthread_t t[2];
	int i;

	rw_init(&rw);
	/* Both readers meet inside the read section: shared or deadlock. */
	pthread_barrier_init(&bar, NULL, 2);
	memset(h, 0, sizeof(h));
	for (i = 0; i < 2; i++) {
		h[i].rh_rw = &rw;
		h[i].rh_op = RW_READER;
		h[i].rh_barrier = &bar;
		helper_start(&t[i], &h[i]);
	}
	WAIT_FOR(atomic_load(&h[0].rh_state) == 2 &&
	    atomic_load(&h[1].rh_state) == 2);
	pthread_mutex_lock(&rw.rw_mtx);
	cr_assert_eq(rw.rw_readers, 2);
	pthread_mutex_unlock(&rw.rw_mtx);
	cr_assert_null(rw.rw_writer);
	/* A writer cannot get in beside them; another reader can. */
	cr_assert_eq(rw_tryenter(&rw, RW_WRITER), 0);
	cr_assert_eq(rw_tryenter(&rw, RW_READER), 1);
	cr_assert(rw_read_held(&rw));
	rw_exit(&rw);
	for (i = 0; i < 2; i++) {
		atomic_store(&h[i].rh_go, 1);
		pthread_join(t[i], NULL);
		cr_assert_eq(atomic_load(&h[i].rh_bad), 0);
	}
	pthread_barrier_destroy(&bar);
	cr_assert_eq(rw.rw_readers, 0);
	rw_destroy(&rw);
}

Test(rwlock, writers_exclude_everyone)
{
	krwlock_t rw;
	struct rt_pair rp = { .rp_rw = &rw };
	pthread_t t[RT_NTHREADS];
	int i;

	rw_init(&rw);
	for (i = 0; i < RT_NTHREADS; i++)
		cr_assert_eq(host_thread_create(&t[i], "rt_pair",
		    i % 2 ? pair_reader : pair_writer, &rp), 0);
	for (i = 0; i < RT_NTHREADS; i++)
		pthread_join(t[i], NULL);
	cr_assert_eq(rp.rp_a, (long)(RT_NTHREADS / 2) * RT_LOOPS);
	cr_assert_eq(rp.rp_b, rp.rp_a);
	cr_assert_eq(atomic_load(&rp.rp_torn), 0,
	    "a reader ran beside a writer");
	cr_assert_eq(atomic_load(&rp.rp_bad), 0);
	rw_destroy(&rw);
}

Test(rwlock, writer_blocks_reader_until_exit)
{
	krwlock_t rw;
	struct rt_helper h = { .rh_op = RW_READER };
	pthread_t t;

	rw_init(&rw);
	h.rh_rw = &rw;
	h.rh_go = 1;
	rw_enter(&rw, RW_WRITER);
	helper_start(&t, &h);
	WAIT_FOR(ring_has(atomic_load(&h.rh_ht), h.rh_since, HE_LOCK_WAIT,
	    &rw));
	cr_assert_eq(atomic_load(&h.rh_state), 1,
	    "a reader got in past a writer");
	cr_assert_eq(rw.rw_readers, 0);
	rw_exit(&rw);
	pthread_join(t, NULL);
	cr_assert_eq(atomic_load(&h.rh_state), 3);
	cr_assert_eq(atomic_load(&h.rh_bad), 0);
	rw_destroy(&rw);
}

Test(rwlock, nosleep_returns_ebusy)
{
	krwlock_t rw;
	struct rt_helper h = { .rh_op = RW_WRITER };
	pthread_t t;

	rw_init(&rw);
	h.rh_rw = &rw;

	/* Free: both modes succeed. */
	cr_assert_eq(rw_enter(&rw, RW_WRITE | RW_NOSLEEP), 0);
	cr_assert(rw_write_held(&rw));
	rw_exit(&rw);
	cr_assert_eq(rw_enter(&rw, RW_READ | RW_NOSLEEP), 0);
	cr_assert(rw_read_held(&rw));
	rw_exit(&rw);

	/* Write-held elsewhere: both fail, nothing recorded as held. */
	helper_start(&t, &h);
	WAIT_FOR(atomic_load(&h.rh_state) == 2);
	cr_assert_eq(rw_enter(&rw, RW_WRITE | RW_NOSLEEP), EBUSY);
	cr_assert_eq(rw_enter(&rw, RW_READ | RW_NOSLEEP), EBUSY);
	cr_assert_eq(rw_tryenter(&rw, RW_READER), 0);
	cr_assert_eq(rw_tryenter(&rw, RW_WRITER), 0);
	cr_assert(!rw_lock_held(&rw));
	cr_assert_eq(witness_nheld(), 0);
	cr_assert_eq(ev_recent(0)->ee_kind, HE_TRYLOCK);
	cr_assert_eq(ev_recent(0)->ee_arg, 0);
	atomic_store(&h.rh_go, 1);
	pthread_join(t, NULL);

	/* Read-held elsewhere: a reader may come, a writer may not. */
	memset(&h, 0, sizeof(h));
	h.rh_rw = &rw;
	h.rh_op = RW_READER;
	helper_start(&t, &h);
	WAIT_FOR(atomic_load(&h.rh_state) == 2);
	cr_assert_eq(rw_enter(&rw, RW_WRITE | RW_NOSLEEP), EBUSY);
	cr_assert_eq(rw_enter(&rw, RW_READ | RW_NOSLEEP), 0);
	cr_assert(rw_read_held(&rw));
	rw_exit(&rw);
	atomic_store(&h.rh_go, 1);
	pthread_join(t, NULL);
	cr_assert_eq(atomic_load(&h.rh_bad), 0);
	rw_destroy(&rw);
}

Test(rwlock, tryenter)
{
	krwlock_t rw;

	rw_init(&rw);
	cr_assert_eq(rw_tryenter(&rw, RW_WRITER), 1);
	cr_assert(rw_write_held(&rw));
	cr_assert_eq(ev_recent(0)->ee_kind, HE_TRYLOCK);
	cr_assert_eq(ev_recent(0)->ee_obj, &rw);
	cr_assert_eq(ev_recent(0)->ee_arg, 1);
	/* Ourselves holding it: a try fails, it does not panic. */
	cr_assert_eq(rw_tryenter(&rw, RW_WRITER), 0);
	cr_assert_eq(rw_tryenter(&rw, RW_READER), 0);
	cr_assert(rw_write_held(&rw));
	rw_exit(&rw);
	cr_assert(!rw_lock_held(&rw));
	cr_assert_eq(rw_tryenter(&rw, RW_READER), 1);
	cr_assert_eq(rw_tryenter(&rw, RW_READER), 1);	/* read twice */
	cr_assert_eq(rw.rw_readers, 2);
	cr_assert_eq(rw_tryenter(&rw, RW_WRITER), 0);
	rw_exit(&rw);
	cr_assert(rw_read_held(&rw));
	rw_exit(&rw);
	cr_assert(!rw_lock_held(&rw));
	cr_assert_eq(rw.rw_readers, 0);
	rw_destroy(&rw);
}

Test(rwlock, downgrade_admits_waiting_reader)
{
	krwlock_t rw;
	pthread_barrier_t bar;
	struct rt_helper h = { .rh_op = RW_READER };
	pthread_t t;

	rw_init(&rw);
	pthread_barrier_init(&bar, NULL, 2);
	h.rh_rw = &rw;
	h.rh_barrier = &bar;
	rw_enter(&rw, RW_WRITER);
	helper_start(&t, &h);
	WAIT_FOR(ring_has(atomic_load(&h.rh_ht), h.rh_since, HE_LOCK_WAIT,
	    &rw));
	cr_assert_eq(atomic_load(&h.rh_state), 1);

	rw_downgrade(&rw);
	cr_assert(rw_read_held(&rw));
	cr_assert(!rw_write_held(&rw));
	cr_assert_eq(rw_lock_op(&rw), RW_READER);
	cr_assert(witness_held(&rw.rw_lo, LM_SHARED));
	cr_assert_eq(ev_recent(0)->ee_kind, HE_UNLOCK);
	cr_assert_eq(ev_recent(0)->ee_arg, RW_WRITER);
	/* The reader comes in while we still hold it shared: we meet. */
	pthread_barrier_wait(&bar);
	cr_assert_eq(atomic_load(&h.rh_state), 2);
	pthread_mutex_lock(&rw.rw_mtx);
	cr_assert_eq(rw.rw_readers, 2);
	pthread_mutex_unlock(&rw.rw_mtx);
	rw_exit(&rw);
	atomic_store(&h.rh_go, 1);
	pthread_join(t, NULL);
	cr_assert_eq(atomic_load(&h.rh_bad), 0);
	pthread_barrier_destroy(&bar);
	rw_destroy(&rw);
}

Test(rwlock, downgrade_keeps_waiting_writer_out)
{
	krwlock_t rw;
	struct rt_helper h = { .rh_op = RW_WRITER };
	pthread_t t;

	rw_init(&rw);
	h.rh_rw = &rw;
	h.rh_go = 1;
	rw_enter(&rw, RW_WRITER);
	helper_start(&t, &h);
	WAIT_FOR(wwait(&rw) == 1);
	rw_downgrade(&rw);
	cr_assert_eq(wwait(&rw), 1);
	cr_assert_null(rw.rw_writer, "the writer came in beside a reader");
	cr_assert_eq(atomic_load(&h.rh_state), 1);
	rw_exit(&rw);
	pthread_join(t, NULL);
	cr_assert_eq(atomic_load(&h.rh_state), 3);
	cr_assert_eq(atomic_load(&h.rh_bad), 0);
	rw_destroy(&rw);
}

Test(rwlock, tryupgrade_lone_reader)
{
	krwlock_t rw;

	rw_init(&rw);
	rw_enter(&rw, RW_READER);
	cr_assert_eq(rw_tryupgrade(&rw), 1);
	cr_assert(rw_write_held(&rw));
	cr_assert(!rw_read_held(&rw));
	cr_assert_eq(rw_lock_op(&rw), RW_WRITER);
	cr_assert(witness_held(&rw.rw_lo, LM_EXCL));
	cr_assert_eq(rw.rw_readers, 0);
	cr_assert_eq(ev_recent(0)->ee_kind, HE_TRYLOCK);
	cr_assert_eq(ev_recent(0)->ee_arg, 2);
	rw_exit(&rw);
	cr_assert(!rw_lock_held(&rw));
	cr_assert_null(rw.rw_writer);
	rw_destroy(&rw);
}

Test(rwlock, tryupgrade_fails_beside_another_reader)
{
	krwlock_t rw;
	struct rt_helper h = { .rh_op = RW_READER };
	pthread_t t;

	rw_init(&rw);
	h.rh_rw = &rw;
	helper_start(&t, &h);
	WAIT_FOR(atomic_load(&h.rh_state) == 2);
	rw_enter(&rw, RW_READER);
	cr_assert_eq(rw_tryupgrade(&rw), 0);
	cr_assert(rw_read_held(&rw));
	cr_assert(!rw_write_held(&rw));
	cr_assert_eq(rw.rw_readers, 2);
	cr_assert_eq(ev_recent(0)->ee_arg, 0);
	rw_exit(&rw);
	/* Alone again: now it works. */
	atomic_store(&h.rh_go, 1);
	pthread_join(t, NULL);
	rw_enter(&rw, RW_READER);
	cr_assert_eq(rw_tryupgrade(&rw), 1);
	rw_exit(&rw);
	cr_assert_eq(atomic_load(&h.rh_bad), 0);
	rw_destroy(&rw);
}

Test(rwlock, held_predicates_are_per_caller)
{
	krwlock_t rw;
	struct rt_helper h = { 0 };
	pthread_t t;

	rw_init(&rw);
	h.rh_rw = &rw;
	cr_assert(!rw_write_held(&rw));
	cr_assert(!rw_read_held(&rw));
	cr_assert(!rw_lock_held(&rw));

	rw_enter(&rw, RW_WRITER);
	cr_assert(rw_write_held(&rw));
	cr_assert(!rw_read_held(&rw));
	cr_assert(rw_lock_held(&rw));
	cr_assert_eq(rw_lock_op(&rw), RW_WRITER);
	RW_ASSERT_WRLOCK(&rw);
	cr_assert_eq(host_thread_create(&t, "rt_observe", held_observer, &h),
	    0);
	pthread_join(t, NULL);
	rw_exit(&rw);

	rw_enter(&rw, RW_READER);
	cr_assert(!rw_write_held(&rw));
	cr_assert(rw_read_held(&rw));
	cr_assert(rw_lock_held(&rw));
	cr_assert_eq(rw_lock_op(&rw), RW_READER);
	/* Another thread does not hold it shared merely because we do. */
	cr_assert_eq(host_thread_create(&t, "rt_observe", held_observer, &h),
	    0);
	pthread_join(t, NULL);
	rw_exit(&rw);
	cr_assert(!rw_lock_held(&rw));
	cr_assert_eq(atomic_load(&h.rh_bad), 0);
	rw_destroy(&rw);
}

Test(rwlock, waiting_writer_holds_new_readers_off)
{
	krwlock_t rw;
	atomic_int order = 0;
	struct rt_helper w = { .rh_op = RW_WRITER };
	struct rt_helper r = { .rh_op = RW_READER };
	pthread_t tw, tr;

	rw_init(&rw);
	w.rh_rw = r.rh_rw = &rw;
	w.rh_order = r.rh_order = &order;
	w.rh_go = r.rh_go = 1;
	rw_enter(&rw, RW_READER);

	/* A writer queues behind our read hold. */
	helper_start(&tw, &w);
	WAIT_FOR(wwait(&rw) == 1);
	cr_assert_eq(atomic_load(&w.rh_state), 1);

	/* Now a new reader may not come in, not even by a try. */
	cr_assert_eq(rw_enter(&rw, RW_READ | RW_NOSLEEP), EBUSY);
	helper_start(&tr, &r);
	WAIT_FOR(ring_has(atomic_load(&r.rh_ht), r.rh_since, HE_LOCK_WAIT,
	    &rw));
	cr_assert_eq(atomic_load(&r.rh_state), 1,
	    "a reader overtook a waiting writer");
	cr_assert_eq(rw.rw_readers, 1);

	/* Our release goes to the writer first, then the reader. */
	rw_exit(&rw);
	pthread_join(tw, NULL);
	pthread_join(tr, NULL);
	cr_assert_eq(atomic_load(&w.rh_seq), 0);
	cr_assert_eq(atomic_load(&r.rh_seq), 1);
	cr_assert_eq(atomic_load(&w.rh_bad), 0);
	cr_assert_eq(atomic_load(&r.rh_bad), 0);
	cr_assert_eq(wwait(&rw), 0);
	rw_destroy(&rw);
}

Test(rwlock, writers_queue_and_all_get_in)
{
	krwlock_t rw;
	struct rt_helper w[3];
	pthread_t t[3];
	int i;

	rw_init(&rw);
	memset(w, 0, sizeof(w));
	rw_enter(&rw, RW_WRITER);
	for (i = 0; i < 3; i++) {
		w[i].rh_rw = &rw;
		w[i].rh_op = RW_WRITER;
		w[i].rh_go = 1;
		helper_start(&t[i], &w[i]);
	}
	WAIT_FOR(wwait(&rw) == 3);
	rw_exit(&rw);
	for (i = 0; i < 3; i++) {
		pthread_join(t[i], NULL);
		cr_assert_eq(atomic_load(&w[i].rh_state), 3);
		cr_assert_eq(atomic_load(&w[i].rh_bad), 0);
	}
	cr_assert_eq(wwait(&rw), 0);
	cr_assert_null(rw.rw_writer);
	rw_destroy(&rw);
}

Test(rwlock, hook_events_name_the_caller)
{
	krwlock_t rw;
	const struct evring_entry *e;
	int l;

	rw_init_class(&rw, "rt_named");
	cr_assert_str_eq(rw.rw_lo.lo_name, "rt_named");
	cr_assert_eq(rw.rw_lo.lo_kind, LK_RWLOCK);
	l = __LINE__; rw_enter(&rw, RW_READER);
	e = ev_recent(0);
	cr_assert_eq(e->ee_kind, HE_LOCK);
	cr_assert_eq(e->ee_obj, &rw);
	cr_assert_eq(e->ee_arg, RW_READER);
	cr_assert_eq(e->ee_line, (uint32_t)l);
	cr_assert_not_null(strstr(e->ee_file, "test_rwlock.c"));
	l = __LINE__; rw_exit(&rw);
	e = ev_recent(0);
	cr_assert_eq(e->ee_kind, HE_UNLOCK);
	cr_assert_eq(e->ee_obj, &rw);
	cr_assert_eq(e->ee_line, (uint32_t)l);
	l = __LINE__; rw_enter(&rw, RW_WRITE);
	e = ev_recent(0);
	cr_assert_eq(e->ee_kind, HE_LOCK);
	cr_assert_eq(e->ee_arg, RW_WRITER);
	cr_assert_eq(e->ee_line, (uint32_t)l);
	rw_exit(&rw);
	rw_destroy(&rw);
}

Test(rwlock, write_recursion_panics, .signal = SIGABRT)
{
	krwlock_t rw;

	cr_redirect_stderr();
	rw_init(&rw);
	rw_enter(&rw, RW_WRITER);
	rw_enter(&rw, RW_WRITER);
	cr_assert_fail("recursive write enter returned");
}

Test(rwlock, read_while_write_held_panics, .signal = SIGABRT)
{
	krwlock_t rw;

	cr_redirect_stderr();
	rw_init(&rw);
	rw_enter(&rw, RW_WRITER);
	rw_enter(&rw, RW_READER);
	cr_assert_fail("read enter under our own write hold returned");
}

Test(rwlock, write_while_read_held_panics, .signal = SIGABRT)
{
	krwlock_t rw;

	cr_redirect_stderr();
	rw_init(&rw);
	rw_enter(&rw, RW_READER);
	rw_enter(&rw, RW_WRITER);	/* would wait for itself forever */
	cr_assert_fail("write enter under our own read hold returned");
}

Test(rwlock, exit_unheld_panics, .signal = SIGABRT)
{
	krwlock_t rw;

	cr_redirect_stderr();
	rw_init(&rw);
	rw_exit(&rw);
	cr_assert_fail("rw_exit of a free lock returned");
}

Test(rwlock, exit_of_another_readers_hold_panics, .signal = SIGABRT)
{
	static krwlock_t rw;
	static struct rt_helper h = { .rh_op = RW_READER };
	pthread_t t;

	cr_redirect_stderr();
	rw_init(&rw);
	h.rh_rw = &rw;
	helper_start(&t, &h);
	WAIT_FOR(atomic_load(&h.rh_state) == 2);
	rw_exit(&rw);
	cr_assert_fail("rw_exit of another thread's read hold returned");
}

Test(rwlock, downgrade_unheld_panics, .signal = SIGABRT)
{
	krwlock_t rw;

	cr_redirect_stderr();
	rw_init(&rw);
	rw_enter(&rw, RW_READER);
	rw_downgrade(&rw);
	cr_assert_fail("rw_downgrade of a read hold returned");
}

Test(rwlock, tryupgrade_unheld_panics, .signal = SIGABRT)
{
	krwlock_t rw;

	cr_redirect_stderr();
	rw_init(&rw);
	rw_tryupgrade(&rw);
	cr_assert_fail("rw_tryupgrade without a read hold returned");
}

Test(rwlock, lock_op_unheld_panics, .signal = SIGABRT)
{
	krwlock_t rw;

	cr_redirect_stderr();
	rw_init(&rw);
	(void)rw_lock_op(&rw);
	cr_assert_fail("rw_lock_op of an unheld lock returned");
}

Test(rwlock, assert_wrlock_panics_for_reader, .signal = SIGABRT)
{
	krwlock_t rw;

	cr_redirect_stderr();
	rw_init(&rw);
	rw_enter(&rw, RW_READER);
	RW_ASSERT_WRLOCK(&rw);
	cr_assert_fail("RW_ASSERT_WRLOCK passed for a reader");
}

Test(rwlock, destroy_held_panics, .signal = SIGABRT)
{
	krwlock_t rw;

	cr_redirect_stderr();
	rw_init(&rw);
	rw_enter(&rw, RW_READER);
	rw_destroy(&rw);
	cr_assert_fail("rw_destroy of a held lock returned");
}

Test(rwlock, bad_op_panics, .signal = SIGABRT)
{
	krwlock_t rw;

	cr_redirect_stderr();
	rw_init(&rw);
	rw_enter(&rw, RW_NOSLEEP);	/* neither reader nor writer */
	cr_assert_fail("rw_enter with no mode returned");
}
