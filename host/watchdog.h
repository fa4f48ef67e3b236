/*
 * host/watchdog.h: the hang watchdog.
 *
 * One host thread ("watchdog") samples host_progress_count() (host/hook.h)
 * every WATCHDOG_PERIOD_MS of real (host monotonic) time, never the
 * simulated clock, which a hang or the deterministic scheduler may stop.
 * When the count has not changed for `seconds`, it prints
 * "watchdog: no progress for N s", then every thread's LWP state, wait
 * channel and held locks (host_thread_dump_all), then calls on_hang.  The
 * default on_hang exits the process with status 2, the harness's "failure
 * found".  If on_hang returns, the watchdog keeps watching, and fires again
 * only after progress resumes and stalls once more.
 *
 * At most one watchdog runs at a time.  host_watchdog_stop() is prompt: the
 * thread waits on a condition variable, not in sleep(3).
 *
 * Who may call: any thread; on_hang runs on the watchdog thread and may
 * call host_watchdog_stop() (which then does not wait for itself).
 */
#ifndef HOST_WATCHDOG_H
#define HOST_WATCHDOG_H

#include "param.h"

#define WATCHDOG_PERIOD_MS	250	/* sampling period, real time */
#define WATCHDOG_EXIT_STATUS	2	/* the default on_hang's exit status */

/*
 * host_watchdog_start: watch for `seconds` without progress.
 * on_hang NULL: print, then _exit(WATCHDOG_EXIT_STATUS).
 * seconds == 0 disables: nothing starts, 0 is returned.
 * => returns 0, EBUSY if a watchdog already runs, or an errno value from
 *    thread creation.
 */
int host_watchdog_start(unsigned seconds, void (*on_hang)(void));

/* host_watchdog_stop: stop the watchdog (if any) and wait for its thread. */
void host_watchdog_stop(void);

/* How many samples the watchdogs have taken, and how many hangs they saw. */
uint64_t host_watchdog_nchecks(void);
unsigned host_watchdog_nhangs(void);

#endif /* HOST_WATCHDOG_H */
