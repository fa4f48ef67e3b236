/*
 * tests/test_dsched.c: host/dsched.c, the deterministic scheduler, and
 * host/hsync.c, the primitives that block in it.
 *
 * Each test starts the scheduler on the test's thread (entity 0), makes
 * host threads that reach scheduling points (hook events, locks,
 * condvars, sleeps), joins them and stops the scheduler.  Only the token
 * holder runs, so the workers append to one trace without a lock; the
 * hand-offs order the appends.
 */
#include <errno.h>
#include <signal.h>
#include <string.h>

#include <criterion/criterion.h>

#include "host/clock.h"
#include "host/condvar.h"
#include "host/dsched.h"
#include "host/hook.h"
#include "host/hsync.h"
#include "host/mutex.h"
#include "host/thread.h"

#define HANG_ALARM_S	60
#include "hosttest.h"

#define NT		4
#define NSTEPS		200
#define MAXTRACE	(NT * NSTEPS * 4)

static int trace[MAXTRACE];
static int ntrace;
static kmutex_t tmtx;
static kcondvar_t tcv;
static int counter, items, consumed;

struct targ {
	int		id;
	const void	*obj;		/* its events' object */
	int		nsteps;
};

static void
note(int id)
{
	cr_assert_lt(ntrace, MAXTRACE);
	trace[ntrace++] = id;
}

/* Steps: one hook event each, on the thread's object. */
static void *
stepper(void *v)
{
	struct targ *a = v;
	int i;

	for (i = 0; i < a->nsteps; i++) {
		note(a->id);
		host_hook(HE_PROGRESS, a->obj, 0, __FILE__, __LINE__);
	}
	return NULL;
}

/* Increments under the mutex, with scheduling points inside. */
static void *
locker(void *v)
{
	struct targ *a = v;
	int i, c;

	for (i = 0; i < a->nsteps; i++) {
		mutex_enter(&tmtx);
		c = counter;
		host_hook(HE_PROGRESS, a->obj, 0, __FILE__, __LINE__);
		counter = c + 1;
		note(a->id);
		mutex_exit(&tmtx);
	}
	return NULL;
}

/* Retries a try until it succeeds: a spin unless a failure yields. */
static void *
trier(void *v)
{
	struct targ *a = v;
	int i;

	for (i = 0; i < a->nsteps; i++) {
		while (!mutex_tryenter(&tmtx))
			continue;
		note(a->id);
		host_hook(HE_PROGRESS, a->obj, 0, __FILE__, __LINE__);
		mutex_exit(&tmtx);
	}
	return NULL;
}

static void *
producer(void *v)
{
	struct targ *a = v;
	int i;

	for (i = 0; i < a->nsteps; i++) {
		mutex_enter(&tmtx);
		items++;
		note(a->id);
		cv_signal(&tcv);
		mutex_exit(&tmtx);
	}
	return NULL;
}

static void *
consumer(void *v)
{
	struct targ *a = v;
	int i;

	for (i = 0; i < a->nsteps; i++) {
		mutex_enter(&tmtx);
		while (items == 0)
			cv_wait(&tcv, &tmtx);
		items--;
		consumed++;
		note(a->id);
		mutex_exit(&tmtx);
	}
	return NULL;
}

struct run {
	struct dsched_stats	st;
	int			trace[MAXTRACE];
	int			ntrace;
	uint32_t		dec[MAXTRACE * 4];
	size_t			ndec;
};

/*
 * run_threads: under the scheduler dc, nt threads of fn, thread i with
 * args[i]; their trace and the scheduler's stats into *out.
 */
static void
run_threads(const struct dsched_config *dc, int nt, void *(*fn)(void *),
    struct targ *args, struct run *out)
{
	pthread_t tid[NT * 2];
	const uint32_t *dec;
	int i;

	ntrace = counter = items = consumed = 0;
	cr_assert_eq(dsched_start(dc), 0);
	for (i = 0; i < nt; i++)
		cr_assert_eq(host_thread_create(&tid[i], "dtest", fn,
		    &args[i]), 0);
	for (i = 0; i < nt; i++)
		cr_assert_eq(hs_join(tid[i]), 0);
	dsched_get_stats(&out->st);
	out->ndec = dsched_decisions(&dec);
	cr_assert_leq(out->ndec, nitems(out->dec));
	if (out->ndec > 0)
		memcpy(out->dec, dec, out->ndec * sizeof(*dec));
	dsched_stop();
	memcpy(out->trace, trace, sizeof(trace));
	out->ntrace = ntrace;
}

static struct dsched_config
config(enum dsched_strategy s, uint64_t seed)
{
	struct dsched_config dc;

	memset(&dc, 0, sizeof(dc));
	dc.dc_strategy = s;
	dc.dc_seed = seed;
	dc.dc_pct_depth = 3;
	dc.dc_pct_steps = NT * NSTEPS;
	dc.dc_record = true;
	return dc;
}

/* Workers with an object each (shared: all on one). */
static void
targs(struct targ *a, int nt, bool shared)
{
	static const char objs[NT * 2];
	int i;

	for (i = 0; i < nt; i++) {
		a[i].id = i + 1;
		a[i].obj = shared ? &objs[0] : &objs[i];
		a[i].nsteps = NSTEPS;
	}
}

/* How often the trace goes from one thread to another. */
static int
transitions(const struct run *r)
{
	int i, n = 0;

	for (i = 1; i < r->ntrace; i++)
		if (r->trace[i] != r->trace[i - 1])
			n++;
	return n;
}

static void
setup(void)
{
	alarm(HANG_ALARM_S);	/* a spin or a lost hand-off: SIGALRM */
	cr_assert_eq(host_clock_init(100, 1), 0);
	mutex_init(&tmtx, MUTEX_DEFAULT, IPL_NONE);
	cv_init(&tcv, "dtest");
}

static void
teardown(void)
{
	cv_destroy(&tcv);
	mutex_destroy(&tmtx);
}

TestSuite(dsched, .init = setup, .fini = teardown);

static struct run ra, rb;

Test(dsched, the_same_seed_gives_the_same_trace_in_every_strategy)
{
	static const enum dsched_strategy s[] = { DSCHED_RANDOM, DSCHED_PCT,
	    DSCHED_POS };
	struct targ a[NT];
	struct dsched_config dc;
	size_t i;

	targs(a, NT, false);
	for (i = 0; i < nitems(s); i++) {
		dc = config(s[i], 42);
		run_threads(&dc, NT, stepper, a, &ra);
		run_threads(&dc, NT, stepper, a, &rb);
		cr_assert_eq(ra.ntrace, NT * NSTEPS);
		cr_assert_eq(rb.ntrace, ra.ntrace);
		cr_assert_arr_eq(ra.trace, rb.trace, sizeof(int) *
		    (size_t)ra.ntrace, "%s: two runs of seed 42 interleaved "
		    "differently", dsched_strategy_name(s[i]));
		cr_assert_eq(ra.st.ds_hash, rb.st.ds_hash);
		cr_assert_eq(ra.st.ds_steps, rb.st.ds_steps);
	}
}

Test(dsched, another_seed_gives_another_trace)
{
	struct targ a[NT];
	struct dsched_config dc;

	targs(a, NT, false);
	dc = config(DSCHED_RANDOM, 1);
	run_threads(&dc, NT, stepper, a, &ra);
	dc = config(DSCHED_RANDOM, 2);
	run_threads(&dc, NT, stepper, a, &rb);
	cr_assert_neq(ra.st.ds_hash, rb.st.ds_hash);
	cr_assert(memcmp(ra.trace, rb.trace, sizeof(int) * NT * NSTEPS) != 0);
}

Test(dsched, a_random_walk_interleaves_at_every_step)
{
	struct targ a[NT];
	struct dsched_config dc = config(DSCHED_RANDOM, 7);

	targs(a, NT, false);
	run_threads(&dc, NT, stepper, a, &ra);
	/* each step goes to another of n threads with odds (n - 1) / n */
	cr_assert_gt(transitions(&ra), NT * NSTEPS / 2, "%d transitions",
	    transitions(&ra));
}

Test(dsched, pct_of_depth_1_runs_each_thread_to_its_end)
{
	struct targ a[NT];
	struct dsched_config dc;
	uint64_t seed;

	targs(a, NT, false);
	for (seed = 1; seed <= 5; seed++) {
		dc = config(DSCHED_PCT, seed);
		dc.dc_pct_depth = 1;
		run_threads(&dc, NT, stepper, a, &ra);
		cr_assert_eq(ra.st.ds_change_points, 0);
		cr_assert_eq(transitions(&ra), NT - 1, "seed %llu: %d "
		    "transitions: a thread was preempted without a change "
		    "point", (unsigned long long)seed, transitions(&ra));
	}
}

Test(dsched, pct_preempts_only_at_its_d_minus_1_change_points)
{
	struct targ a[NT];
	struct dsched_config dc;
	uint64_t seed;
	bool preempted = false;

	targs(a, NT, false);
	for (seed = 1; seed <= 10; seed++) {
		dc = config(DSCHED_PCT, seed);
		dc.dc_pct_depth = 4;
		run_threads(&dc, NT, stepper, a, &ra);
		cr_assert_eq(ra.st.ds_change_points, 3, "seed %llu: %llu "
		    "change points passed of 3 within k steps",
		    (unsigned long long)seed,
		    (unsigned long long)ra.st.ds_change_points);
		/* each change point splits one thread's run in two */
		cr_assert_leq(transitions(&ra), NT - 1 + 3);
		if (transitions(&ra) > NT - 1)
			preempted = true;
	}
	cr_assert(preempted, "no change point ever preempted a thread");
}

Test(dsched, pos_resamples_the_events_that_race_only)
{
	struct targ a[NT];
	struct dsched_config dc = config(DSCHED_POS, 3);

	targs(a, NT, false);		/* an object each: nothing races */
	run_threads(&dc, NT, stepper, a, &ra);
	cr_assert_eq(ra.st.ds_resamples, 0);
	targs(a, NT, true);		/* one object: every event races */
	run_threads(&dc, NT, stepper, a, &rb);
	cr_assert_gt(rb.st.ds_resamples, NT * NSTEPS / 2);
	cr_assert_eq(ra.ntrace, NT * NSTEPS);
	cr_assert_eq(rb.ntrace, NT * NSTEPS);
}

Test(dsched, a_contended_mutex_excludes_and_blocks_in_the_scheduler)
{
	struct targ a[NT];
	struct dsched_config dc;
	size_t i;
	static const enum dsched_strategy s[] = { DSCHED_RANDOM, DSCHED_PCT,
	    DSCHED_POS };

	targs(a, NT, true);
	for (i = 0; i < nitems(s); i++) {
		dc = config(s[i], 11);
		run_threads(&dc, NT, locker, a, &ra);
		cr_assert_eq(counter, NT * NSTEPS, "%s: lost updates",
		    dsched_strategy_name(s[i]));
		run_threads(&dc, NT, locker, a, &rb);
		cr_assert_eq(ra.st.ds_hash, rb.st.ds_hash);
	}
	/* the random walk preempts holders: waiters blocked */
	dc = config(DSCHED_RANDOM, 11);
	run_threads(&dc, NT, locker, a, &ra);
	cr_assert_gt(ra.st.ds_blocks, 0);
}

Test(dsched, a_failed_try_lets_the_holder_run)
{
	struct targ a[NT];
	struct dsched_config dc;
	uint64_t seed;

	/*
	 * PCT of depth 1 runs the highest priority as long as it can: a
	 * trier above the holder would spin for ever if a failed try did not
	 * pass the token on (the test would hang: its alarm fires).
	 */
	targs(a, NT, true);
	for (seed = 1; seed <= 8; seed++) {
		dc = config(DSCHED_PCT, seed);
		dc.dc_pct_depth = 1;
		run_threads(&dc, NT, trier, a, &ra);
		cr_assert_eq(ra.ntrace, NT * NSTEPS);
	}
}

Test(dsched, condvar_waits_and_signals_lose_nothing)
{
	struct targ a[2];
	struct dsched_config dc;
	pthread_t p, c;
	uint64_t seed;

	for (seed = 1; seed <= 4; seed++) {
		dc = config(seed % 2 ? DSCHED_RANDOM : DSCHED_POS, seed);
		items = consumed = ntrace = 0;
		a[0] = (struct targ){ 1, &tmtx, NSTEPS };
		a[1] = (struct targ){ 2, &tmtx, NSTEPS };
		cr_assert_eq(dsched_start(&dc), 0);
		cr_assert_eq(host_thread_create(&c, "cons", consumer, &a[1]), 0);
		cr_assert_eq(host_thread_create(&p, "prod", producer, &a[0]), 0);
		cr_assert_eq(hs_join(p), 0);
		cr_assert_eq(hs_join(c), 0);
		dsched_stop();
		cr_assert_eq(consumed, NSTEPS);
		cr_assert_eq(items, 0);
	}
}

static void *
timed_sleeper(void *v)
{
	int *error = v;

	mutex_enter(&tmtx);
	*error = cv_timedwait(&tcv, &tmtx, 10 * hz);	/* 10 s, no signal */
	mutex_exit(&tmtx);
	return NULL;
}

Test(dsched, timeouts_fire_in_virtual_time)
{
	struct dsched_config dc = config(DSCHED_RANDOM, 5);
	uint64_t t0, t1;
	pthread_t t;
	int error = -1;

	cr_assert_eq(dsched_start(&dc), 0);
	t0 = host_real_ns();
	cr_assert_eq(host_thread_create(&t, "sleeper", timed_sleeper, &error),
	    0);
	cr_assert_eq(hs_join(t), 0);
	t1 = host_real_ns();
	dsched_get_stats(&ra.st);
	dsched_stop();
	cr_assert_eq(error, EWOULDBLOCK);
	cr_assert_geq(t1 - t0, 10000000000ull, "the virtual clock moved %llu "
	    "ns across a 10 s timeout", (unsigned long long)(t1 - t0));
	/* nothing could run meanwhile: the clock jumped to the deadline */
	cr_assert_gt(ra.st.ds_idle_jumps, 0);
	cr_assert_eq(ra.st.ds_timeouts, 1);
	/* and host time goes on from the virtual time afterwards */
	cr_assert_geq(host_real_ns(), t1);
}

Test(dsched, a_replay_follows_the_recorded_decisions_whatever_the_seed)
{
	struct targ a[NT];
	struct dsched_config dc = config(DSCHED_RANDOM, 1);
	static uint32_t dec[MAXTRACE * 4];

	targs(a, NT, false);
	run_threads(&dc, NT, stepper, a, &ra);
	cr_assert_gt(ra.ndec, 0);
	memcpy(dec, ra.dec, ra.ndec * sizeof(*dec));
	dc = config(DSCHED_RANDOM, 99);		/* another seed */
	dc.dc_replay = dec;
	dc.dc_nreplay = ra.ndec;
	run_threads(&dc, NT, stepper, a, &rb);
	cr_assert_eq(rb.st.ds_diverged_step, 0, "%s", rb.st.ds_diverged);
	cr_assert_arr_eq(ra.trace, rb.trace, sizeof(int) * (size_t)ra.ntrace);
	cr_assert_eq(ra.st.ds_hash, rb.st.ds_hash);
}

Test(dsched, a_replay_that_diverges_says_where_and_why)
{
	struct targ a[NT];
	struct dsched_config dc = config(DSCHED_RANDOM, 1);
	static uint32_t dec[MAXTRACE * 4];
	size_t half;

	targs(a, NT, false);
	run_threads(&dc, NT, stepper, a, &ra);
	memcpy(dec, ra.dec, ra.ndec * sizeof(*dec));
	half = ra.ndec / 2;
	dc.dc_replay = dec;
	dc.dc_nreplay = half;			/* cut short */
	run_threads(&dc, NT, stepper, a, &rb);
	cr_assert_gt(rb.st.ds_diverged_step, 0);
	cr_assert(strstr(rb.st.ds_diverged, "ran out") != NULL, "%s",
	    rb.st.ds_diverged);
	dec[half] = 1000;			/* a thread that never was */
	dc.dc_nreplay = ra.ndec;
	run_threads(&dc, NT, stepper, a, &rb);
	cr_assert_gt(rb.st.ds_diverged_step, 0);
	cr_assert(strstr(rb.st.ds_diverged, "does not exist") != NULL, "%s",
	    rb.st.ds_diverged);
}

Test(dsched, bad_configurations_are_refused)
{
	struct dsched_config dc = config(DSCHED_PCT, 1);

	dc.dc_pct_depth = 0;
	cr_assert_eq(dsched_start(&dc), EINVAL);
	dc = config(DSCHED_FREE, 1);
	cr_assert_eq(dsched_start(&dc), EINVAL);
	cr_assert(!dsched_active());
	cr_assert_eq(dsched_strategy_parse("pos"), DSCHED_POS);
	cr_assert_eq(dsched_strategy_parse("fifo"), -1);
}

static void *
waiter_forever(void *v)
{
	(void)v;
	mutex_enter(&tmtx);
	cv_wait(&tcv, &tmtx);
	mutex_exit(&tmtx);
	return NULL;
}

Test(dsched, every_thread_waiting_without_a_timeout_is_a_deadlock_panic,
    .signal = SIGABRT)
{
	struct dsched_config dc = config(DSCHED_RANDOM, 1);
	pthread_t t;

	cr_assert_eq(dsched_start(&dc), 0);
	cr_assert_eq(host_thread_create(&t, "waiter", waiter_forever, NULL),
	    0);
	(void)hs_join(t);	/* the waiter and we: nobody can run */
	cr_assert_fail("the deadlock was not found");
}
