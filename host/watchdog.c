/*
 * host/watchdog.c: turn "no progress for N seconds" into a failure.
 *
 * wd_lock covers the instance state below.  Each start makes a new
 * generation; a watchdog thread runs while wd_gen is still its own, so a
 * stop (which bumps the generation) ends it even if a new watchdog starts
 * before the old thread has gone.  wd_lock is a host lock below every
 * kernel lock, never held while sampling progress or dumping threads.
 */
#include <pthread.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "hook.h"
#include "hsync.h"
#include "kassert.h"
#include "rng.h"
#include "thread.h"
#include "watchdog.h"

static pthread_once_t wd_once = PTHREAD_ONCE_INIT;
static pthread_mutex_t wd_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wd_cv;		/* [wd_lock] CLOCK_MONOTONIC */
static uint64_t wd_gen;			/* [wd_lock] */
static bool wd_active;			/* [wd_lock] */
static pthread_t wd_tid;		/* [wd_lock] valid if wd_active */
static uint64_t wd_nchecks;		/* [a] */
static unsigned wd_nhangs;		/* [a] */

struct wd_arg {
	uint64_t	wa_gen;
	unsigned	wa_seconds;
	void		(*wa_on_hang)(void);
};

/* local prototypes */
static void wd_init(void);
static uint64_t wd_now_ns(void);
static void wd_default_on_hang(void);
static void *wd_main(void *);

static void
wd_init(void)
{
	pthread_condattr_t attr;

	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&wd_cv, &attr);
	pthread_condattr_destroy(&attr);
}

/* Host time: virtual under the deterministic scheduler. */
static uint64_t
wd_now_ns(void)
{
	return host_real_ns();
}

static void
wd_default_on_hang(void)
{
	host_printf("watchdog: giving up (exit status %d)\n",
	    WATCHDOG_EXIT_STATUS);
	_exit(WATCHDOG_EXIT_STATUS);
}

/*
 * wd_main: the watchdog thread.
 *
 * => sleeps on wd_cv between samples; returns when its generation ends.
 */
static void *
wd_main(void *v)
{
	struct wd_arg wa = *(struct wd_arg *)v;
	uint64_t count, last, t, last_change, limit;
	bool fired = false, stop;

	free(v);
	limit = (uint64_t)wa.wa_seconds * 1000000000ull;
	last = host_progress_count();
	last_change = wd_now_ns();
	for (;;) {
		t = wd_now_ns() + WATCHDOG_PERIOD_MS * 1000000ull;
		hs_lock(&wd_lock);
		while (wd_gen == wa.wa_gen &&
		    hs_cond_timedwait(&wd_cv, &wd_lock, t) == 0)
			continue;
		stop = wd_gen != wa.wa_gen;
		hs_unlock(&wd_lock);
		if (stop)
			break;

		count = host_progress_count();
		t = wd_now_ns();
		__atomic_fetch_add(&wd_nchecks, 1, __ATOMIC_RELAXED);
		if (count != last) {
			last = count;
			last_change = t;
			fired = false;
			continue;
		}
		if (fired || t - last_change < limit)
			continue;
		fired = true;
		__atomic_fetch_add(&wd_nhangs, 1, __ATOMIC_RELAXED);
		host_printf("watchdog: no progress for %u s (progress count "
		    "%llu, seed %llu); threads:\n", wa.wa_seconds,
		    (unsigned long long)count,
		    (unsigned long long)host_rng_seed());
		host_thread_dump_all();
		wa.wa_on_hang();
	}
	return NULL;
}

int
host_watchdog_start(unsigned seconds, void (*on_hang)(void))
{
	struct wd_arg *wa;
	int error;

	if (seconds == 0)
		return 0;
	pthread_once(&wd_once, wd_init);
	if ((wa = malloc(sizeof(*wa))) == NULL)
		return ENOMEM;
	wa->wa_seconds = seconds;
	wa->wa_on_hang = on_hang != NULL ? on_hang : wd_default_on_hang;
	hs_lock(&wd_lock);
	if (wd_active) {
		hs_unlock(&wd_lock);
		free(wa);
		return EBUSY;
	}
	wa->wa_gen = ++wd_gen;
	error = host_thread_create(&wd_tid, "watchdog", wd_main, wa);
	if (error == 0)
		wd_active = true;
	else
		free(wa);
	hs_unlock(&wd_lock);
	return error;
}

void
host_watchdog_stop(void)
{
	pthread_t tid;

	pthread_once(&wd_once, wd_init);
	hs_lock(&wd_lock);
	if (!wd_active) {
		hs_unlock(&wd_lock);
		return;
	}
	wd_active = false;
	wd_gen++;
	tid = wd_tid;
	hs_cond_broadcast(&wd_cv);
	hs_unlock(&wd_lock);
	if (pthread_equal(tid, pthread_self()))
		pthread_detach(tid);	/* called from on_hang */
	else
		hs_join(tid);
}

uint64_t
host_watchdog_nchecks(void)
{
	return __atomic_load_n(&wd_nchecks, __ATOMIC_RELAXED);
}

unsigned
host_watchdog_nhangs(void)
{
	return __atomic_load_n(&wd_nhangs, __ATOMIC_RELAXED);
}
