/*
 * host/hook.h: the one hook point of the machine.
 *
 * Every lock operation, sleep, wakeup, thread start and exit, trap entry,
 * clock read, disk submission or completion and host MMU call (the pmap's
 * mmap and mprotect of a window) calls host_hook() with what
 * happened.  The hook records the event in the thread's event ring
 * (post-mortems), counts progress for the hang watchdog, injects seeded
 * chaos when asked (yields and delays that widen race windows), calls an
 * installed observer (the scheduler hook: stress/timing.c), and last,
 * under a deterministic schedule, the scheduling point (host/dsched.h),
 * where the token may pass to another thread.
 *
 * => never sleeps unless chaos is on (then it may sched_yield/nanosleep)
 *    or a deterministic schedule parks the thread; never allocates: safe
 *    on the trap path.
 */
#ifndef HOST_HOOK_H
#define HOST_HOOK_H

#include "param.h"

enum hook_ev {
	HE_NONE = 0,
	HE_LOCK,		/* blocking acquire done: obj = lock, arg = mode */
	HE_TRYLOCK,		/* try acquire: arg = 1 if it succeeded */
	HE_UNLOCK,		/* release: obj = lock */
	HE_LOCK_WAIT,		/* about to block on a contended lock */
	HE_SLEEP,		/* about to sleep: obj = wait channel */
	HE_SLEEP_DONE,		/* back from sleep: arg = error (0/EWOULDBLOCK) */
	HE_WAKEUP,		/* wakeup: obj = wait channel, arg = woken */
	HE_CV_WAIT,		/* condvar wait: obj = cv */
	HE_CV_SIGNAL,		/* cv_signal/broadcast: obj = cv, arg = all */
	HE_THREAD_START,	/* obj = host_thread */
	HE_THREAD_EXIT,
	HE_TRAP_ENTER,		/* obj = pmap, arg = va */
	HE_TRAP_EXIT,		/* arg = error (0 resolved) */
	HE_CLOCK,		/* clock read: arg = ns */
	HE_DISK_SUBMIT,		/* obj = buf */
	HE_DISK_DONE,
	HE_CPU_ACQUIRE,		/* obj = cpu_info */
	HE_CPU_RELEASE,
	HE_PROGRESS,		/* a workload did a unit of work */
	HE_MMU_CALL,		/* a host mmap/mprotect of the MMU: arg = ns */
	HE_NKINDS
};

/*
 * host_hook: report an event.  file/line are the call site (lock
 * operations pass their caller's site).
 */
void host_hook(enum hook_ev ev, const void *obj, uintptr_t arg,
    const char *file, int line);

/* The name of an event kind, for dumps. */
const char *hook_ev_name(enum hook_ev ev);

/*
 * A scheduler hook sees every event after it is recorded.  NULL (the
 * default) is free-running mode.
 */
typedef void (*host_sched_hook_t)(enum hook_ev ev, const void *obj,
    uintptr_t arg);
void host_set_sched_hook(host_sched_hook_t fn);

/*
 * Chaos: at lock and sleep events, with probability permille/1000 drawn
 * from the thread's seeded stream, yield (or sleep up to max_delay_us).
 * 0 turns it off (the default).
 */
void host_set_chaos(unsigned permille, unsigned max_delay_us);

/* Progress: a counter the hang watchdog samples. */
uint64_t host_progress_count(void);

#define host_progress()	host_hook(HE_PROGRESS, NULL, 0, __FILE__, __LINE__)

#endif /* HOST_HOOK_H */
