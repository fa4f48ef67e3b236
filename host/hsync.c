/*
 * host/hsync.c: host primitives under the deterministic scheduler (see
 * hsync.h).
 */
#include <errno.h>
#include <time.h>

#include "clock.h"
#include "hsync.h"

static void
abs_to_timespec(uint64_t abs_ns, struct timespec *ts)
{
	uint64_t mono = host_real_to_mono_ns(abs_ns);

	ts->tv_sec = (time_t)(mono / 1000000000ull);
	ts->tv_nsec = (long)(mono % 1000000000ull);
}

void
hs_lock_slow(pthread_mutex_t *m)
{
	if (pthread_mutex_trylock(m) == 0)
		return;
	if (dsched_mutex_enter(m) != 0)
		pthread_mutex_lock(m);	/* not (or no longer) scheduled */
}

void
hs_cond_wait(pthread_cond_t *c, pthread_mutex_t *m)
{
	if (dsched_cond_wait(c, m, 0) != 0) {
		pthread_cond_wait(c, m);
		return;
	}
	hs_lock(m);
}

int
hs_cond_timedwait(pthread_cond_t *c, pthread_mutex_t *m, uint64_t abs_ns)
{
	struct timespec ts;
	int error;

	if ((error = dsched_cond_wait(c, m, abs_ns)) < 0) {
		abs_to_timespec(abs_ns, &ts);
		error = pthread_cond_timedwait(c, m, &ts);
		return error == ETIMEDOUT ? ETIMEDOUT : 0;
	}
	hs_lock(m);
	return error;
}

void
hs_cond_signal(pthread_cond_t *c)
{
	if (dsched_active())
		(void)dsched_wake(c, false);
	pthread_cond_signal(c);
}

void
hs_cond_broadcast(pthread_cond_t *c)
{
	if (dsched_active())
		(void)dsched_wake(c, true);
	pthread_cond_broadcast(c);
}

void
hs_sleep_until(uint64_t abs_ns)
{
	static const char sleep_chan[] = "sleep";
	struct timespec ts;

	while (dsched_self() && host_real_ns() < abs_ns)
		(void)dsched_block(sleep_chan, abs_ns);
	if (host_real_ns() >= abs_ns)
		return;
	abs_to_timespec(abs_ns, &ts);
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) ==
	    EINTR)
		continue;
}

int
hs_join(pthread_t tid)
{
	dsched_join(tid);
	return pthread_join(tid, NULL);
}
