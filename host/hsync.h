/*
 * host/hsync.h: the host primitives the machine's own code blocks on.
 *
 * The machine's locks, condition variables, sleeps, CPU hand-offs, disk
 * queues, clock and joins are built on pthread mutexes and condition
 * variables.  These wrappers are them in free-running mode; under the
 * deterministic scheduler (host/dsched.h) a thread that would block on
 * one blocks in the scheduler instead, so that it never waits on a host
 * primitive while it holds the right to run:
 *
 *  - hs_lock: try, and while the mutex is taken, wait (not runnable) for
 *    its release (hs_unlock wakes the longest waiter, which tries again);
 *  - hs_cond_wait: release the mutex, wait for a signal on the condition
 *    (hs_cond_signal wakes the longest waiter, broadcast all), take the
 *    mutex back; one entity runs at a time, so nothing is lost between
 *    the release and the wait;
 *  - hs_cond_timedwait, hs_sleep_until: deadlines in host_real_ns() time,
 *    which is virtual under the scheduler.
 *
 * A thread that is not one of the scheduler's (a test's helper, the
 * harness's overtime guard) gets the pthread behaviour in every mode.
 */
#ifndef HOST_HSYNC_H
#define HOST_HSYNC_H

#include <pthread.h>

#include "dsched.h"

void hs_lock_slow(pthread_mutex_t *m);

static inline void
hs_lock(pthread_mutex_t *m)
{
	if (__builtin_expect(!dsched_active(), 1))
		pthread_mutex_lock(m);
	else
		hs_lock_slow(m);
}

static inline void
hs_unlock(pthread_mutex_t *m)
{
	pthread_mutex_unlock(m);
	if (__builtin_expect(dsched_active(), 0))
		(void)dsched_wake(m, false);
}

void hs_cond_wait(pthread_cond_t *c, pthread_mutex_t *m);
/* abs_ns: host_real_ns() time.  => 0, or ETIMEDOUT */
int hs_cond_timedwait(pthread_cond_t *c, pthread_mutex_t *m, uint64_t abs_ns);
void hs_cond_signal(pthread_cond_t *c);
void hs_cond_broadcast(pthread_cond_t *c);
/* Sleep until host_real_ns() reaches abs_ns (the hardclock's tick). */
void hs_sleep_until(uint64_t abs_ns);
/* pthread_join, waiting in the scheduler for the thread to leave first. */
int hs_join(pthread_t tid);

#endif /* HOST_HSYNC_H */
