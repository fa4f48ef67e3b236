/*
 * stress/timing.h: where the time goes.
 *
 * A scheduler hook (host_set_sched_hook: it sees every event of the
 * machine, on the thread the event happens on) times, without locks or
 * allocation (it runs on the trap path too):
 *
 *  - for worker LWPs (timing_worker_begin): time in the trap (page
 *    faults, with the pmap's referenced/modified fixups), and within it
 *    time asleep waiting for free memory (uvm_wait sleeps on
 *    &uvmexp.free), for a busy page (uvm_pagewait sleeps on the page),
 *    in other sleeps (the synchronous swap-in read's biowait), and in
 *    lock waits; and time off a CPU while runnable (preempted);
 *  - for every thread: contended lock waits (HE_LOCK_WAIT to HE_LOCK),
 *    counted per lock class (the lock_object name of the lock taken);
 *  - for the pagedaemon and the aiodone daemon (their LWPs' names): the
 *    time they sleep, so that their busy time is the window minus that.
 *
 * The counters are cumulative from timing_start(); the runner snapshots
 * them at the start and the end of the timed phase and reports the
 * difference (report.c: metrics.time_breakdown).  The hook occupies the
 * machine's one scheduler hook: a deterministic scheduler would have to
 * chain it.
 */
#ifndef STRESS_TIMING_H
#define STRESS_TIMING_H

#include <stdint.h>

#define TIMING_MAXCLASS	32

struct timing_snap {
	uint64_t	ts_ns;		/* host time of the snapshot */
	uint64_t	ts_trap_ns;	/* workers: in the trap */
	uint64_t	ts_traps;
	uint64_t	ts_memwait_ns;	/* workers, in a trap: uvm_wait */
	uint64_t	ts_memwaits;
	uint64_t	ts_pagewait_ns;	/* workers, in a trap: busy page */
	uint64_t	ts_pagewaits;
	uint64_t	ts_iowait_ns;	/* workers, in a trap: other sleeps */
	uint64_t	ts_iowaits;
	uint64_t	ts_wlock_ns;	/* workers, in a trap: lock waits */
	uint64_t	ts_wlocks;
	uint64_t	ts_cpuwait_ns;	/* workers: runnable, off a CPU */
	uint64_t	ts_lock_ns;	/* every thread: lock waits */
	uint64_t	ts_locks;
	uint64_t	ts_pd_sleep_ns;	/* pagedaemon asleep (so far) */
	uint64_t	ts_aio_sleep_ns; /* aiodone daemon asleep */
	uint64_t	ts_pd_lock_ns;	/* pagedaemon: lock waits */
	uint64_t	ts_mmu_worker_ns; /* workers: in host MMU calls */
	uint64_t	ts_mmu_pd_ns;	/* pagedaemon: in host MMU calls */
};

struct timing_class {
	const char	*tc_name;	/* lock class */
	uint64_t	tc_waits;
	uint64_t	tc_ns;
};

/* timing_start: reset the counters and install the hook.  => boot */
void timing_start(void);
/* timing_stop: remove the hook (before the machine goes down). */
void timing_stop(void);
/* timing_worker_begin: the calling LWP is a worker: time it. */
void timing_worker_begin(void);
/* timing_snapshot: the cumulative counters now.  => any thread */
void timing_snapshot(struct timing_snap *ts);
/*
 * timing_classes: the lock classes waited for, cumulative, most time
 * first; returns how many (at most max).
 */
int timing_classes(struct timing_class *out, int max);

#endif /* STRESS_TIMING_H */
