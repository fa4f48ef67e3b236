/*
 * host/clock.c: hz, the hardclock thread and simulated time.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#include "clock.h"
#include "cpu.h"
#include "dsched.h"
#include "hook.h"
#include "hsync.h"
#include "kassert.h"
#include "lwp.h"
#include "thread.h"

int hz = HZ_DEFAULT;
static unsigned int clock_scale = 1;	/* [I] simulated s per real s */
static uint64_t boot_real_ns;		/* [I] */
static _Atomic uint64_t ticks;
static _Atomic uint64_t nschedcpu;
static atomic_bool clock_running;
static pthread_t clock_thread;
static _Atomic(void (*)(void)) clock_intr_hook;	/* vm/vm_glue.c */

/*
 * Host time.  Under the deterministic scheduler host_real_ns() is its
 * virtual clock, from the host time it started at; when it stops, host
 * time goes on from the virtual time it ended at (real_offset, either
 * sign), so that time neither runs backwards for the measurements that
 * span the switch nor jumps ahead (a hardclock behind would then tick a
 * burst of catch-up ticks).
 */
static _Atomic int64_t real_offset;	/* added to CLOCK_MONOTONIC */

static uint64_t
mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t
host_wall_ns(void)
{
	return mono_ns();
}

uint64_t
host_real_ns(void)
{
	if (__predict_false(dsched_active()))
		return dsched_now_ns();
	return mono_ns() + (uint64_t)atomic_load_explicit(&real_offset,
	    memory_order_relaxed);
}

uint64_t
host_real_to_mono_ns(uint64_t t)
{
	return t - (uint64_t)atomic_load_explicit(&real_offset,
	    memory_order_relaxed);
}

void
host_clock_det_end(uint64_t virtual_now)
{
	atomic_store(&real_offset, (int64_t)(virtual_now - mono_ns()));
}

int
host_clock_init(int newhz, unsigned int scale)
{
	if (newhz < 1 || newhz > 10000 || scale < 1 || scale > 1000)
		return EINVAL;
	KASSERT(!atomic_load(&clock_running));
	hz = newhz;
	clock_scale = scale;
	boot_real_ns = host_real_ns();
	atomic_store(&ticks, 0);
	atomic_store(&nschedcpu, 0);
	return 0;
}

unsigned int
host_clock_scale(void)
{
	return clock_scale;
}

uint64_t
host_clock_now_ns(void)
{
	uint64_t ns = (host_real_ns() - boot_real_ns) * clock_scale;

	host_hook(HE_CLOCK, NULL, (uintptr_t)ns, __FILE__, __LINE__);
	return ns;
}

uint64_t
getticks(void)
{
	return atomic_load_explicit(&ticks, memory_order_relaxed);
}

uint64_t
time_uptime(void)
{
	return host_clock_now_ns() / 1000000000ull;
}

uint64_t
host_ticks_to_real_ns(uint64_t t)
{
	return t * 1000000000ull / ((uint64_t)hz * clock_scale);
}

uint64_t
host_sim_to_real_ns(uint64_t ns)
{
	return ns / clock_scale;
}

uint64_t
host_clock_nschedcpu(void)
{
	return atomic_load(&nschedcpu);
}

void
host_set_clock_intr_hook(void (*fn)(void))
{
	atomic_store(&clock_intr_hook, fn);
}

/*
 * hardclock: tick at hz simulated (hz * scale real) per second, ask for
 * reschedules, run schedcpu once a simulated second.  Absolute
 * deadlines, so a late tick does not slow the clock down.
 */
static void *
hardclock_thread(void *arg __unused)
{
	uint64_t period = host_ticks_to_real_ns(1), next = host_real_ns();
	void (*intr)(void);
	uint64_t t;

	while (atomic_load(&clock_running)) {
		next += period;
		hs_sleep_until(next);
		t = atomic_fetch_add(&ticks, 1) + 1;
		cpu_need_resched_all();
		if ((intr = atomic_load(&clock_intr_hook)) != NULL)
			intr();		/* the VM's clock work */
		if (t % (uint64_t)hz == 0) {
			schedcpu();
			atomic_fetch_add(&nschedcpu, 1);
		}
	}
	return NULL;
}

int
host_clock_start(void)
{
	int error;

	KASSERT(!atomic_load(&clock_running));
	atomic_store(&clock_running, true);
	error = host_thread_create(&clock_thread, "hardclock",
	    hardclock_thread, NULL);
	if (error != 0)
		atomic_store(&clock_running, false);
	return error;
}

void
host_clock_stop(void)
{
	if (!atomic_exchange(&clock_running, false))
		return;
	hs_join(clock_thread);
}
