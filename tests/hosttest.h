/*
 * tests/hosttest.h: helpers the machine's unit tests share.
 *
 * Hangs end a test by SIGALRM (reported as a crash) rather than
 * Criterion's .timeout: BoxFort leaks a timeout record in the runner when
 * timed tests of different lengths overlap, and LeakSanitizer then fails
 * the asan run.
 */
#ifndef TESTS_HOSTTEST_H
#define TESTS_HOSTTEST_H

#include <criterion/criterion.h>
#include <time.h>
#include <unistd.h>

#include "host/clock.h"
#include "host/cpu.h"
#include "host/evring.h"
#include "host/lwp.h"
#include "host/thread.h"

/* Sleep us microseconds (real time). */
static inline void
nap_us(unsigned us)
{
	struct timespec ts = { us / 1000000, (long)(us % 1000000) * 1000 };

	nanosleep(&ts, NULL);
}

/*
 * wait_until: poll cond (with a 50 us nap) for up to WAIT_NS, which the
 * including file defines (its bound of any wait).
 */
#define wait_until(cond)						\
	do {								\
		uint64_t wu_deadline_ = host_real_ns() + WAIT_NS;	\
		while (!(cond)) {					\
			cr_assert(host_real_ns() < wu_deadline_,	\
			    "timed out waiting for %s", #cond);		\
			nap_us(50);					\
		}							\
	} while (0)

/* This thread's event `back` places before its latest (0: the latest). */
static inline const struct evring_entry *
ev_recent(unsigned back)
{
	const struct evring *er = &host_thread_self()->ht_ring;
	uint64_t n = evring_count(er);

	cr_assert_gt(n, back);
	return &er->er_ent[(n - 1 - back) & (EVRING_SIZE - 1)];
}

/* Has ht recorded an event (kind, obj) since its count was `since`? */
static inline bool
ring_has(const struct host_thread *ht, uint64_t since, unsigned kind,
    const void *obj)
{
	const struct evring *er = &ht->ht_ring;
	uint64_t n = evring_count(er), i;
	const struct evring_entry *e;

	for (i = since; i < n; i++) {
		e = &er->er_ent[i & (EVRING_SIZE - 1)];
		if (__atomic_load_n(&e->ee_kind, __ATOMIC_RELAXED) == kind &&
		    __atomic_load_n(&e->ee_obj, __ATOMIC_RELAXED) == obj)
			return true;
	}
	return false;
}

/* The machine's clock, CPUs and proc0, with a hang alarm of alarm_s. */
static inline void
machine_setup_alarm(int hz_, unsigned int scale, int n, unsigned alarm_s)
{
	alarm(alarm_s);
	cr_assert_eq(host_clock_init(hz_, scale), 0);
	cr_assert_eq(host_cpu_init(n), 0);
	host_lwp_init();
}

/* An LWP of p running fn(arg). */
static inline struct lwp *
spawn(struct proc *p, const char *name, void (*fn)(void *), void *arg)
{
	struct lwp *l = NULL;

	cr_assert_eq(lwp_create(p, name, 0, fn, arg, &l), 0);
	cr_assert_not_null(l);
	return l;
}

/* l_stat, read as the swapper would: under lwp_lock. */
static inline int
stat_of(struct lwp *l)
{
	int st;

	lwp_lock(l);
	st = l->l_stat;
	lwp_unlock(l);
	return st;
}

#endif /* TESTS_HOSTTEST_H */
