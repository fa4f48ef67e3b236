/*
 * host/hook.c: the one hook point: event ring, progress, chaos, scheduler.
 */
#include <sched.h>
#include <stdatomic.h>
#include <time.h>

#include "dsched.h"
#include "hook.h"
#include "thread.h"

static _Atomic(host_sched_hook_t) sched_hook;
static atomic_uint chaos_permille;
static atomic_uint chaos_max_delay_us;

static const char *const ev_names[HE_NKINDS] = {
	[HE_NONE] = "none",
	[HE_LOCK] = "lock",
	[HE_TRYLOCK] = "trylock",
	[HE_UNLOCK] = "unlock",
	[HE_LOCK_WAIT] = "lock-wait",
	[HE_SLEEP] = "sleep",
	[HE_SLEEP_DONE] = "sleep-done",
	[HE_WAKEUP] = "wakeup",
	[HE_CV_WAIT] = "cv-wait",
	[HE_CV_SIGNAL] = "cv-signal",
	[HE_THREAD_START] = "thread-start",
	[HE_THREAD_EXIT] = "thread-exit",
	[HE_TRAP_ENTER] = "trap",
	[HE_TRAP_EXIT] = "trap-exit",
	[HE_CLOCK] = "clock",
	[HE_DISK_SUBMIT] = "disk-submit",
	[HE_DISK_DONE] = "disk-done",
	[HE_CPU_ACQUIRE] = "cpu-acquire",
	[HE_CPU_RELEASE] = "cpu-release",
	[HE_PROGRESS] = "progress",
	[HE_MMU_CALL] = "mmu-call",
};

const char *
hook_ev_name(enum hook_ev ev)
{
	if ((unsigned)ev >= HE_NKINDS || ev_names[ev] == NULL)
		return "?";
	return ev_names[ev];
}

void
host_set_sched_hook(host_sched_hook_t fn)
{
	atomic_store(&sched_hook, fn);
}

void
host_set_chaos(unsigned permille, unsigned max_delay_us)
{
	atomic_store(&chaos_max_delay_us, max_delay_us);
	atomic_store(&chaos_permille, permille > 1000 ? 1000 : permille);
}

/* Seeded yields and delays at the points where races live. */
static void
chaos(struct host_thread *ht, unsigned permille)
{
	uint64_t r = host_rng_next(&ht->ht_rng);
	unsigned max_us;
	struct timespec ts;

	if (r % 1000 >= permille)
		return;
	max_us = atomic_load_explicit(&chaos_max_delay_us, memory_order_relaxed);
	if (max_us == 0 || (r >> 32) % 4 != 0) {
		sched_yield();
		return;
	}
	ts.tv_sec = 0;
	ts.tv_nsec = (long)((r >> 40) % max_us + 1) * 1000;
	nanosleep(&ts, NULL);
}

void
host_hook(enum hook_ev ev, const void *obj, uintptr_t arg, const char *file,
    int line)
{
	struct host_thread *ht = host_curthread;
	host_sched_hook_t fn;
	unsigned permille;

	if (ht == NULL)
		return;		/* not a machine thread (yet) */
	evring_record(&ht->ht_ring, ev, obj, arg, file, line);
	switch (ev) {
	case HE_PROGRESS:
		__atomic_store_n(&ht->ht_progress, ht->ht_progress + 1,
		    __ATOMIC_RELAXED);
		break;
	case HE_LOCK_WAIT:
	case HE_UNLOCK:
	case HE_SLEEP:
	case HE_WAKEUP:
	case HE_CV_SIGNAL:
	case HE_TRAP_ENTER:
		permille = atomic_load_explicit(&chaos_permille,
		    memory_order_relaxed);
		if (permille != 0)
			chaos(ht, permille);
		break;
	default:
		break;
	}
	fn = atomic_load_explicit(&sched_hook, memory_order_acquire);
	if (fn != NULL)
		fn(ev, obj, arg);	/* observers first: timing.c */
	if (dsched_active())
		dsched_point(ev, obj, arg, file, line);
}

uint64_t
host_progress_count(void)
{
	return host_thread_progress_sum();
}
