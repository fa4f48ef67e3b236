/*
 * tests/test_spl.c: host/spl.c, the recorded interrupt priority levels.
 *
 * Nothing is masked; the level is a per-thread record that splraise()
 * only raises, splx() restores, and the spin mutexes (tests/test_mutex.c)
 * raise and restore in turn.
 */
#include "host/kassert.h"
#include "host/spl.h"
#include "host/thread.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <criterion/redirect.h>

struct sp_share {
	atomic_int	ss_level;	/* the helper's level, as it saw it */
	atomic_int	ss_state;
	atomic_int	ss_go;
};

#define HANG_ALARM_S	60

/* local prototypes */
static void sp_setup(void);
static void *raiser(void *arg);

/* Raise to IPL_HIGH, report, wait, report the level again at the end. */
static void *
raiser(void *arg)
{
	struct sp_share *ss = arg;

	atomic_store(&ss->ss_level, spl_current());
	(void)splhigh();
	atomic_store(&ss->ss_state, 1);
	while (atomic_load(&ss->ss_go) == 0)
		continue;
	atomic_store(&ss->ss_level, spl_current());
	return NULL;
}

/* A hang ends the test by SIGALRM (see tests/test_mutex.c). */
static void
sp_setup(void)
{
	alarm(HANG_ALARM_S);
}

TestSuite(spl, .init = sp_setup);

Test(spl, starts_at_none)
{
	cr_assert_eq(spl_current(), IPL_NONE);
}

Test(spl, raise_only_raises_and_splx_restores)
{
	int s1, s2, s3;

	s1 = splvm();
	cr_assert_eq(s1, IPL_NONE);
	cr_assert_eq(spl_current(), IPL_VM);
	s2 = splbio();			/* lower than VM: no change */
	cr_assert_eq(s2, IPL_VM);
	cr_assert_eq(spl_current(), IPL_VM);
	s3 = splhigh();
	cr_assert_eq(s3, IPL_VM);
	cr_assert_eq(spl_current(), IPL_HIGH);
	splx(s3);
	cr_assert_eq(spl_current(), IPL_VM);
	splx(s2);
	cr_assert_eq(spl_current(), IPL_VM);
	splx(s1);
	cr_assert_eq(spl_current(), IPL_NONE);
}

Test(spl, named_levels)
{
	int s = splraise(IPL_SOFTCLOCK);

	cr_assert_eq(spl_current(), IPL_SOFTCLOCK);
	cr_assert_eq(splnet(), IPL_SOFTCLOCK);
	cr_assert_eq(spl_current(), IPL_NET);
	cr_assert_eq(splimp(), IPL_NET);
	cr_assert_eq(spl_current(), IPL_VM);
	cr_assert_eq(splsched(), IPL_VM);
	cr_assert_eq(spl_current(), IPL_SCHED);
	cr_assert_eq(splclock(), IPL_SCHED);
	cr_assert_eq(spl_current(), IPL_CLOCK);
	cr_assert_eq(spl0(), IPL_NONE);
	cr_assert_eq(spl_current(), IPL_NONE);
	splx(s);
	cr_assert_eq(spl_current(), IPL_NONE);
}

Test(spl, levels_are_per_thread)
{
	struct sp_share ss = { 0 };
	pthread_t t;

	(void)splvm();
	cr_assert_eq(host_thread_create(&t, "sp_raiser", raiser, &ss), 0);
	while (atomic_load(&ss.ss_state) == 0)
		continue;
	/* A new thread starts at IPL_NONE whatever its creator's level. */
	cr_assert_eq(atomic_load(&ss.ss_level), IPL_NONE);
	cr_assert_eq(spl_current(), IPL_VM, "another thread's splhigh leaked");
	splx(IPL_NONE);
	atomic_store(&ss.ss_go, 1);
	pthread_join(t, NULL);
	cr_assert_eq(atomic_load(&ss.ss_level), IPL_HIGH,
	    "our splx reached another thread");
	cr_assert_eq(spl_current(), IPL_NONE);
}

Test(spl, raise_out_of_range_panics, .signal = SIGABRT)
{
	cr_redirect_stderr();
	(void)splraise(IPL_HIGH + 1);
	cr_assert_fail("splraise above IPL_HIGH returned");
}

Test(spl, splx_out_of_range_panics, .signal = SIGABRT)
{
	cr_redirect_stderr();
	splx(-1);
	cr_assert_fail("splx(-1) returned");
}
