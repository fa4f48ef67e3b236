/*
 * tests/test_hook.c: host/hook.c and host/evring.c: the one hook point,
 * the per-thread event ring, the scheduler hook, chaos and progress.
 *
 * Chaos draws one number from the thread's seeded stream at each chaos
 * point while it is on, and none while it is off, so which events are
 * chaos points, and that permille 0 disables it, are checked exactly by
 * comparing the stream's state with a copy advanced by hand.
 */
#include "host/clock.h"
#include "host/evring.h"
#include "host/hook.h"
#include "host/kassert.h"
#include "host/mutex.h"
#include "host/rng.h"
#include "host/thread.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <criterion/redirect.h>

#define HANG_ALARM_S	60
#include "hosttest.h"
#define HK_MAXREC	64
#define MS		1000000ull

/* What the scheduler hook saw. */
struct hk_rec {
	enum hook_ev	hr_ev;
	const void	*hr_obj;
	uintptr_t	hr_arg;
	bool		hr_in_ring;	/* already the ring's latest event */
};
static pthread_mutex_t rec_lock = PTHREAD_MUTEX_INITIALIZER;
static struct hk_rec recs[HK_MAXREC];		/* [rec_lock] */
static int nrecs;				/* [rec_lock] */
static atomic_int nstart, nexit, nunregistered;

/* local prototypes */
static void hk_setup(void);
static void record_hook(enum hook_ev ev, const void *obj, uintptr_t arg);
static void count_hook(enum hook_ev ev, const void *obj, uintptr_t arg);
static int nrecorded(void);
static void *idle_thread(void *arg);
static void *progress_thread(void *arg);
static void *unregistered_thread(void *arg);
static bool rng_eq(const struct host_rng *a, const struct host_rng *b);

static void
hk_setup(void)
{
	alarm(HANG_ALARM_S);
	host_thread_self();
	host_clock_init(100, 1);
}

TestSuite(hook, .init = hk_setup);


static void
record_hook(enum hook_ev ev, const void *obj, uintptr_t arg)
{
	const struct host_thread *ht = host_curthread;
	const struct evring_entry *e;
	uint64_t n;

	pthread_mutex_lock(&rec_lock);
	if (nrecs < HK_MAXREC) {
		n = evring_count(&ht->ht_ring);
		e = &ht->ht_ring.er_ent[(n - 1) & (EVRING_SIZE - 1)];
		recs[nrecs++] = (struct hk_rec){ ev, obj, arg,
		    e->ee_kind == (uint32_t)ev && e->ee_obj == obj };
	}
	pthread_mutex_unlock(&rec_lock);
}

static void
count_hook(enum hook_ev ev, const void *obj, uintptr_t arg)
{
	if (host_curthread == NULL)
		atomic_fetch_add(&nunregistered, 1);
	if (ev == HE_THREAD_START && obj == host_curthread)
		atomic_fetch_add(&nstart, 1);
	if (ev == HE_THREAD_EXIT && obj == host_curthread)
		atomic_fetch_add(&nexit, 1);
}

static int
nrecorded(void)
{
	int n;

	pthread_mutex_lock(&rec_lock);
	n = nrecs;
	pthread_mutex_unlock(&rec_lock);
	return n;
}

static void *
idle_thread(void *arg)
{
	return arg;
}

static void *
progress_thread(void *arg)
{
	int i, n = *(int *)arg;

	for (i = 0; i < n; i++)
		host_progress();
	return NULL;
}

/* A plain pthread: its hook calls are dropped, and it stays unknown. */
static void *
unregistered_thread(void *arg)
{
	host_hook(HE_DISK_SUBMIT, arg, 1, __FILE__, __LINE__);
	host_progress();
	if (host_curthread != NULL)
		atomic_fetch_add(&nunregistered, 100);
	return NULL;
}

static bool
rng_eq(const struct host_rng *a, const struct host_rng *b)
{
	return memcmp(a->s, b->s, sizeof(a->s)) == 0;
}

Test(hook, events_recorded_in_order)
{
	static int x, y;
	const struct evring *er = &host_thread_self()->ht_ring;
	const struct evring_entry *e0, *e1, *e2;
	uint64_t c0 = evring_count(er);

	host_hook(HE_DISK_SUBMIT, &x, 11, "a.c", 1);
	host_hook(HE_DISK_DONE, &y, 22, "b.c", 2);
	host_hook(HE_TRAP_ENTER, &x, 0x1000, "c.c", 3);
	cr_assert_eq(evring_count(er), c0 + 3);
	e0 = ev_recent(2);
	e1 = ev_recent(1);
	e2 = ev_recent(0);
	cr_assert_eq(e0->ee_kind, HE_DISK_SUBMIT);
	cr_assert_eq(e0->ee_obj, &x);
	cr_assert_eq(e0->ee_arg, 11);
	cr_assert_str_eq(e0->ee_file, "a.c");
	cr_assert_eq(e0->ee_line, 1);
	cr_assert_eq(e1->ee_kind, HE_DISK_DONE);
	cr_assert_eq(e1->ee_obj, &y);
	cr_assert_eq(e1->ee_arg, 22);
	cr_assert_eq(e1->ee_line, 2);
	cr_assert_eq(e2->ee_kind, HE_TRAP_ENTER);
	cr_assert_eq(e2->ee_arg, 0x1000);
	cr_assert_str_eq(e2->ee_file, "c.c");
	cr_assert_leq(e0->ee_ns, e1->ee_ns);
	cr_assert_leq(e1->ee_ns, e2->ee_ns);
	cr_assert_gt(e0->ee_ns, 0);
}

Test(hook, event_names)
{
	unsigned k, j;

	cr_assert_str_eq(hook_ev_name(HE_NONE), "none");
	cr_assert_str_eq(hook_ev_name(HE_LOCK), "lock");
	cr_assert_str_eq(hook_ev_name(HE_SLEEP_DONE), "sleep-done");
	for (k = 1; k < HE_NKINDS; k++) {
		cr_assert_str_neq(hook_ev_name((enum hook_ev)k), "?",
		    "event kind %u has no name", k);
		for (j = 1; j < k; j++)
			cr_assert_str_neq(hook_ev_name((enum hook_ev)k),
			    hook_ev_name((enum hook_ev)j));
	}
	cr_assert_str_eq(hook_ev_name(HE_NKINDS), "?");
	cr_assert_str_eq(hook_ev_name((enum hook_ev)999), "?");
}

Test(hook, evring_wraps)
{
	static struct evring er;
	const uint64_t n = 3 * EVRING_SIZE + 5;
	const struct evring_entry *e;
	uint64_t i;

	for (i = 0; i < n; i++)
		evring_record(&er, 1 + i % (HE_NKINDS - 1), &er, 1000 + i,
		    "wrap.c", (int)i);
	cr_assert_eq(evring_count(&er), n);
	/* The ring holds the last EVRING_SIZE events, in their slots. */
	for (i = n - EVRING_SIZE; i < n; i++) {
		e = &er.er_ent[i & (EVRING_SIZE - 1)];
		cr_assert_eq(e->ee_arg, 1000 + i);
		cr_assert_eq(e->ee_line, (uint32_t)i);
		cr_assert_eq(e->ee_kind, 1 + i % (HE_NKINDS - 1));
	}
	evring_record(&er, HE_LOCK, NULL, 0, NULL, 0);
	cr_assert_eq(evring_count(&er), n + 1);
}

Test(hook, evring_dump_prints_oldest_first, .init = cr_redirect_stderr)
{
	static struct evring er, small;
	const uint64_t n = 2 * EVRING_SIZE + 3;
	char line[256], want[64];
	uint64_t i;
	FILE *f;

	host_thread_self();
	for (i = 0; i < n; i++)
		evring_record(&er, HE_WAKEUP, &er, 1000 + i, "dump.c", (int)i);
	evring_record(&small, HE_SLEEP, &small, 7, NULL, 5);

	evring_dump(&er, 4);			/* the last four */
	evring_dump(&er, 100000);		/* clamped to the ring */
	evring_dump(&small, 10);		/* fewer than asked */
	f = cr_get_redirected_stderr();
	for (i = n - 4; i < n; i++) {
		cr_assert_not_null(fgets(line, sizeof(line), f));
		snprintf(want, sizeof(want), "arg %#llx ",
		    (unsigned long long)(1000 + i));
		cr_assert_not_null(strstr(line, want), "want %s in: %s", want,
		    line);
		snprintf(want, sizeof(want), "dump.c:%llu\n",
		    (unsigned long long)i);
		cr_assert_not_null(strstr(line, want), "want %s in: %s", want,
		    line);
		cr_assert_not_null(strstr(line, "wakeup"), "%s", line);
	}
	for (i = n - EVRING_SIZE; i < n; i++) {
		cr_assert_not_null(fgets(line, sizeof(line), f));
		snprintf(want, sizeof(want), "arg %#llx ",
		    (unsigned long long)(1000 + i));
		cr_assert_not_null(strstr(line, want), "want %s in: %s", want,
		    line);
	}
	cr_assert_not_null(fgets(line, sizeof(line), f));
	cr_assert_not_null(strstr(line, "sleep "), "%s", line);
	cr_assert_not_null(strstr(line, "?:5"), "%s", line);
}

Test(hook, sched_hook_sees_events_after_the_ring)
{
	kmutex_t m;
	int i, n;

	mutex_init(&m, MUTEX_DEFAULT, IPL_NONE);
	host_set_sched_hook(record_hook);
	mutex_enter(&m);
	mutex_exit(&m);
	host_hook(HE_DISK_SUBMIT, &m, 42, __FILE__, __LINE__);
	host_set_sched_hook(NULL);
	mutex_enter(&m);		/* not seen */
	mutex_exit(&m);

	n = nrecorded();
	cr_assert_eq(n, 3);
	cr_assert_eq(recs[0].hr_ev, HE_LOCK);
	cr_assert_eq(recs[0].hr_obj, &m);
	cr_assert_eq(recs[0].hr_arg, LM_EXCL);
	cr_assert_eq(recs[1].hr_ev, HE_UNLOCK);
	cr_assert_eq(recs[1].hr_obj, &m);
	cr_assert_eq(recs[2].hr_ev, HE_DISK_SUBMIT);
	cr_assert_eq(recs[2].hr_arg, 42);
	for (i = 0; i < n; i++)
		cr_assert(recs[i].hr_in_ring,
		    "event %d reached the hook before the ring", i);
	mutex_destroy(&m);
}

Test(hook, sched_hook_sees_thread_start_and_exit)
{
	pthread_t t;
	int i;

	host_set_sched_hook(count_hook);
	for (i = 0; i < 3; i++) {
		cr_assert_eq(host_thread_create(&t, "hk_idle", idle_thread,
		    NULL), 0);
		pthread_join(t, NULL);
	}
	cr_assert_eq(atomic_load(&nstart), 3);
	cr_assert_eq(atomic_load(&nexit), 3);
	cr_assert_eq(atomic_load(&nunregistered), 0);
	host_set_sched_hook(NULL);
}

Test(hook, unregistered_threads_are_not_hooked)
{
	static int x;
	uint64_t p0 = host_progress_count();
	pthread_t t;

	host_set_sched_hook(count_hook);
	cr_assert_eq(pthread_create(&t, NULL, unregistered_thread, &x), 0);
	pthread_join(t, NULL);
	host_set_sched_hook(NULL);
	cr_assert_eq(atomic_load(&nunregistered), 0);
	cr_assert_eq(host_progress_count(), p0);
}

Test(hook, chaos_points_draw_from_the_thread_stream)
{
	static const struct { enum hook_ev ev; bool chaos; } kinds[] = {
		{ HE_LOCK_WAIT, true }, { HE_UNLOCK, true },
		{ HE_SLEEP, true }, { HE_WAKEUP, true },
		{ HE_CV_SIGNAL, true }, { HE_TRAP_ENTER, true },
		{ HE_LOCK, false }, { HE_TRYLOCK, false },
		{ HE_SLEEP_DONE, false }, { HE_CV_WAIT, false },
		{ HE_CLOCK, false }, { HE_PROGRESS, false },
		{ HE_DISK_SUBMIT, false }, { HE_TRAP_EXIT, false },
	};
	struct host_thread *me = host_thread_self();
	struct host_rng want;
	size_t k;

	host_set_chaos(1000, 0);	/* always, yields only */
	for (k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
		want = me->ht_rng;
		if (kinds[k].chaos)
			(void)host_rng_next(&want);
		host_hook(kinds[k].ev, NULL, 0, __FILE__, __LINE__);
		cr_assert(rng_eq(&me->ht_rng, &want),
		    "%s: chaos %s", hook_ev_name(kinds[k].ev),
		    kinds[k].chaos ? "did not draw" : "drew");
	}
	host_set_chaos(0, 0);
}

Test(hook, chaos_permille_zero_is_off)
{
	struct host_thread *me = host_thread_self();
	struct host_rng before;
	kmutex_t m;
	int i;

	mutex_init(&m, MUTEX_DEFAULT, IPL_NONE);
	/* Off by default ... */
	before = me->ht_rng;
	for (i = 0; i < 1000; i++) {
		mutex_enter(&m);
		mutex_exit(&m);
	}
	cr_assert(rng_eq(&me->ht_rng, &before), "chaos ran while off");

	/* ... on: every unlock is a chaos point ... */
	host_set_chaos(1000, 0);
	for (i = 0; i < 100; i++) {
		mutex_enter(&m);
		mutex_exit(&m);
		(void)host_rng_next(&before);
	}
	cr_assert(rng_eq(&me->ht_rng, &before));

	/* ... and off again with permille 0, whatever the delay. */
	host_set_chaos(0, 5000);
	for (i = 0; i < 1000; i++) {
		mutex_enter(&m);
		mutex_exit(&m);
	}
	cr_assert(rng_eq(&me->ht_rng, &before), "chaos ran at permille 0");
	mutex_destroy(&m);
}

Test(hook, chaos_delays_lock_operations)
{
	kmutex_t m;
	uint64_t t0, dt;
	int i;

	/*
	 * At permille 1000 with a 2 ms ceiling, a quarter of the chaos
	 * points sleep 1..2000 us: 200 unlocks sleep about 50 ms in all.
	 * The stream is seeded, so the draw is the same every run; 5 ms
	 * is a floor far below it.  Without chaos 200 pairs take
	 * microseconds.
	 */
	mutex_init(&m, MUTEX_DEFAULT, IPL_NONE);
	host_set_chaos(1000, 2000);
	t0 = host_real_ns();
	for (i = 0; i < 200; i++) {
		mutex_enter(&m);
		mutex_exit(&m);
	}
	dt = host_real_ns() - t0;
	host_set_chaos(0, 0);
	cr_assert_geq(dt, 5 * MS, "chaos at 1000 permille took %llu ns",
	    (unsigned long long)dt);
	mutex_destroy(&m);
}

Test(hook, progress_is_counted_and_survives_exit)
{
	struct host_thread *me = host_thread_self();
	uint64_t p0 = host_progress_count();
	pthread_t t;
	int i, n = 7, l;

	for (i = 0; i < 5; i++) {
		l = __LINE__; host_progress();
	}
	cr_assert_eq(me->ht_progress, 5);
	cr_assert_eq(host_progress_count(), p0 + 5);
	cr_assert_eq(ev_recent(0)->ee_kind, HE_PROGRESS);
	cr_assert_eq(ev_recent(0)->ee_line, (uint32_t)l);

	cr_assert_eq(host_thread_create(&t, "hk_progress", progress_thread,
	    &n), 0);
	pthread_join(t, NULL);
	/* The thread is gone; its progress stays in the sum. */
	cr_assert_eq(host_progress_count(), p0 + 12);
}
