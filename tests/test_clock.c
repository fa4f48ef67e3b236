/*
 * tests/test_clock.c: host/clock.c (hz, the time scale, the hardclock and
 * schedcpu once per simulated second).
 *
 * Rates are checked against the host monotonic clock read around them:
 * the hardclock ticks at absolute deadlines from its start, so it can
 * never be ahead of (elapsed real time) / (tick period); how far behind it
 * may be depends on the host, so lower bounds are loose.  Counts that the
 * clock derives from one another (schedcpu runs from ticks, l_slptime from
 * schedcpu runs) are exact once the clock is stopped.
 */
#include "host/clock.h"
#include "host/cpu.h"
#include "host/kassert.h"
#include "host/lwp.h"
#include "host/sleepq.h"
#include "host/thread.h"

#include <sched.h>
#include <stdatomic.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>

#define MS		(1000ull * 1000)
#define SEC		(1000ull * MS)
#define WAIT_NS		(5 * SEC)	/* bound of any wait */
#define HANG_ALARM_S	20		/* a test that runs this long hangs */
#include "hosttest.h"

struct sleeper {
	int		s_chan;
	atomic_bool	s_done;
};

struct hold {
	atomic_bool	h_go;
};

struct timed {
	int		t_ticks;	/* the timeout */
	int		t_error;
	uint64_t	t_real_ns;	/* how long the sleep lasted */
	atomic_bool	t_done;
};

/* local prototypes */
static void sleeper_worker(void *arg);
static void holder_worker(void *arg);
static void timed_worker(void *arg);




static void
sleeper_worker(void *arg)
{
	struct sleeper *s = arg;

	(void)tsleep(&s->s_chan, 0, "clkslp", 0);
	atomic_store(&s->s_done, true);
}

static void
holder_worker(void *arg)
{
	struct hold *h = arg;

	while (!atomic_load(&h->h_go))
		sched_yield();
}

static void
timed_worker(void *arg)
{
	struct timed *t = arg;
	uint64_t t0 = host_real_ns();

	t->t_error = tsleep(t, 0, "clktmo", t->t_ticks);
	t->t_real_ns = host_real_ns() - t0;
	atomic_store(&t->t_done, true);
}

Test(clock, init_rejects_bad_hz_and_scale)
{
	cr_assert_eq(host_clock_init(0, 1), EINVAL);
	cr_assert_eq(host_clock_init(-100, 1), EINVAL);
	cr_assert_eq(host_clock_init(10001, 1), EINVAL);
	cr_assert_eq(host_clock_init(100, 0), EINVAL);
	cr_assert_eq(host_clock_init(100, 1001), EINVAL);
	cr_assert_eq(host_clock_init(250, 7), 0);
	cr_assert_eq(hz, 250);
	cr_assert_eq(host_clock_scale(), 7);
	/* A rejected call changes nothing. */
	cr_assert_eq(host_clock_init(100, 0), EINVAL);
	cr_assert_eq(hz, 250);
	cr_assert_eq(host_clock_scale(), 7);
	cr_assert_eq(host_clock_init(1, 1), 0);
	cr_assert_eq(host_clock_init(10000, 1000), 0);
	cr_assert_eq(getticks(), 0);
	cr_assert_eq(host_clock_nschedcpu(), 0);
}

Test(clock, tick_and_time_conversions)
{
	cr_assert_eq(host_clock_init(100, 1), 0);
	cr_assert_eq(host_ticks_to_real_ns(0), 0);
	cr_assert_eq(host_ticks_to_real_ns(1), 10 * MS);
	cr_assert_eq(host_ticks_to_real_ns(100), SEC);
	cr_assert_eq(host_sim_to_real_ns(SEC), SEC);

	cr_assert_eq(host_clock_init(100, 50), 0);	/* 1 sim s = 20 ms */
	cr_assert_eq(host_ticks_to_real_ns(1), 200 * 1000);
	cr_assert_eq(host_ticks_to_real_ns(100), 20 * MS);
	cr_assert_eq(host_ticks_to_real_ns(5000), SEC);
	cr_assert_eq(host_sim_to_real_ns(SEC), 20 * MS);
	cr_assert_eq(host_sim_to_real_ns(20 * SEC), 400 * MS);

	cr_assert_eq(host_clock_init(10000, 1000), 0);
	cr_assert_eq(host_ticks_to_real_ns(1), 100);
	cr_assert_eq(host_sim_to_real_ns(SEC), MS);
	/* The largest tsleep timeout does not overflow. */
	cr_assert_eq(host_clock_init(1, 1), 0);
	cr_assert_eq(host_ticks_to_real_ns(INT32_MAX),
	    (uint64_t)INT32_MAX * SEC);
}

Test(clock, now_is_monotonic_and_scaled)
{
	uint64_t r0, ra, n0, n1, rb, r1, prev, cur, boot;
	int i;

	boot = host_real_ns();
	cr_assert_eq(host_clock_init(100, 50), 0);
	r0 = host_real_ns();
	n0 = host_clock_now_ns();
	ra = host_real_ns();
	nap_us(5000);
	rb = host_real_ns();
	n1 = host_clock_now_ns();
	r1 = host_real_ns();
	/* Simulated time runs exactly 50 times faster than real time. */
	cr_assert_leq(n1 - n0, (r1 - r0) * 50, "%llu > 50 * %llu",
	    (unsigned long long)(n1 - n0), (unsigned long long)(r1 - r0));
	cr_assert_geq(n1 - n0, (rb - ra) * 50, "%llu < 50 * %llu",
	    (unsigned long long)(n1 - n0), (unsigned long long)(rb - ra));
	cr_assert_leq(n1, (r1 - boot) * 50);

	prev = host_clock_now_ns();
	for (i = 0; i < 100000; i++) {
		cur = host_clock_now_ns();
		cr_assert_geq(cur, prev, "clock went back");
		prev = cur;
	}

	/* time_uptime counts simulated seconds: 1000 of them per real s. */
	boot = host_real_ns();
	cr_assert_eq(host_clock_init(100, 1000), 0);
	cr_assert_leq(time_uptime(), (host_real_ns() - boot) * 1000 / SEC);
	nap_us(3000);
	cr_assert_geq(time_uptime(), 3);
	cr_assert_leq(time_uptime(), (host_real_ns() - boot) * 1000 / SEC);
}

Test(clock, ticks_advance_at_hz_times_scale)
{
	uint64_t r0, r1, t, t_stopped, period;

	machine_setup_alarm(100, 50, 1, HANG_ALARM_S);		/* 5000 ticks per real s */
	period = host_ticks_to_real_ns(1);
	cr_assert_eq(getticks(), 0);
	r0 = host_real_ns();
	cr_assert_eq(host_clock_start(), 0);
	nap_us(100 * 1000);
	t = getticks();
	r1 = host_real_ns();
	host_clock_stop();
	/* Never ahead of its deadlines; about on time. */
	cr_assert_leq(t, (r1 - r0) / period, "%llu ticks in %llu ns",
	    (unsigned long long)t, (unsigned long long)(r1 - r0));
	cr_assert_geq(t, 100 * MS / period / 2, "%llu ticks in %llu ns",
	    (unsigned long long)t, (unsigned long long)(r1 - r0));

	/* Stopped: no more ticks.  Stop twice is harmless; restart works. */
	t_stopped = getticks();
	nap_us(2000);
	cr_assert_eq(getticks(), t_stopped);
	host_clock_stop();
	cr_assert_eq(host_clock_start(), 0);
	wait_until(getticks() > t_stopped + 10);
	host_clock_stop();
}

Test(clock, schedcpu_runs_once_per_simulated_second)
{
	uint64_t r0, r1, n;

	machine_setup_alarm(100, 50, 1, HANG_ALARM_S);		/* 1 sim s = 20 ms */
	r0 = host_real_ns();
	cr_assert_eq(host_clock_start(), 0);
	wait_until(host_clock_nschedcpu() >= 3);
	host_clock_stop();
	r1 = host_real_ns();
	n = host_clock_nschedcpu();
	/* Exactly one run per hz ticks. */
	cr_assert_eq(n, getticks() / (uint64_t)hz, "%llu runs, %llu ticks",
	    (unsigned long long)n, (unsigned long long)getticks());
	cr_assert_leq(n, (r1 - r0) / (20 * MS), "%llu runs in %llu ns",
	    (unsigned long long)n, (unsigned long long)(r1 - r0));
	nap_us(25 * 1000);
	cr_assert_eq(host_clock_nschedcpu(), n);
}

/*
 * Every schedcpu run happens while the sleepers sleep and the runner
 * runs, so the ages equal the number of runs exactly.
 */
Test(clock, hardclock_ages_sleepers_and_processes)
{
	struct sleeper s0 = { 0 }, s1 = { 0 };
	struct hold h = { 0 };
	struct lwp *l0, *l1, *lrun;
	struct proc *pa, *pb;
	uint64_t n;

	machine_setup_alarm(100, 50, 2, HANG_ALARM_S);
	cr_assert_eq(proc_create("sleepy", &pa), 0);
	cr_assert_eq(proc_create("busy", &pb), 0);
	cr_assert_eq(lwp_create(pa, "s0", 0, sleeper_worker, &s0, &l0), 0);
	cr_assert_eq(lwp_create(pa, "s1", 0, sleeper_worker, &s1, &l1), 0);
	cr_assert_eq(lwp_create(pb, "run", 0, holder_worker, &h, &lrun), 0);
	wait_until(stat_of(l0) == LSSLEEP && stat_of(l1) == LSSLEEP &&
	    stat_of(lrun) == LSONPROC);

	cr_assert_eq(host_clock_start(), 0);
	wait_until(host_clock_nschedcpu() >= 4);
	host_clock_stop();
	n = host_clock_nschedcpu();

	lwp_lock(l0);
	cr_assert_eq(l0->l_slptime, n, "l_slptime %u after %llu runs",
	    l0->l_slptime, (unsigned long long)n);
	cr_assert_eq(l0->l_swtime, n);
	lwp_unlock(l0);
	lwp_lock(lrun);
	cr_assert_eq(lrun->l_slptime, 0);
	cr_assert_eq(lrun->l_swtime, n);
	lwp_unlock(lrun);
	mutex_enter(proc_lock);
	cr_assert_eq((uint64_t)pa->p_slptime, n);
	cr_assert_eq(pb->p_slptime, 0);
	cr_assert_eq((uint64_t)pa->p_swtime, n);
	mutex_exit(proc_lock);

	wakeup(&s0.s_chan);
	wakeup(&s1.s_chan);
	atomic_store(&h.h_go, true);
	lwp_join(l0);
	lwp_join(l1);
	lwp_join(lrun);
	proc_free(pa);
	proc_free(pb);
	host_cpu_fini();
}

Test(clock, timed_sleep_lasts_scaled_ticks)
{
	struct timed t = { .t_ticks = 50 };	/* half a simulated second */
	struct lwp *l;
	struct proc *p;

	machine_setup_alarm(100, 50, 1, HANG_ALARM_S);		/* = 10 ms real */
	cr_assert_eq(proc_create("timed", &p), 0);
	cr_assert_eq(lwp_create(p, "timed", 0, timed_worker, &t, &l), 0);
	wait_until(atomic_load(&t.t_done));
	cr_assert_eq(t.t_error, EWOULDBLOCK);
	cr_assert_geq(t.t_real_ns, 10 * MS, "slept %llu ns",
	    (unsigned long long)t.t_real_ns);
	cr_assert_lt(t.t_real_ns, SEC, "slept %llu ns",
	    (unsigned long long)t.t_real_ns);
	lwp_join(l);
	proc_free(p);
	host_cpu_fini();
}
