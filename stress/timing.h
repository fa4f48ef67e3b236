/*
 * stress/timing.h: where the time goes.
 *
 * A scheduler hook (host_set_sched_hook: it sees every event of the
 * machine, on the thread the event happens on) times, without locks or
 * allocation (it runs on the trap path too):
 *
 *  - for the timed threads (the workers, timing_worker_begin; the
 *    pagedaemon and the aiodone daemon, by their LWPs' names): which
 *    state each one is in (enum timing_state), with the time spent in
 *    each.  A thread is in exactly one state at any moment: the states
 *    partition its time, and every state's time is counted once.  In a
 *    trap (page faults, with the pmap's referenced/modified fixups) the
 *    states are: running a polled swap-in read, asleep waiting for free
 *    memory (uvm_wait sleeps on &uvmexp.free), for a busy page
 *    (uvm_pagewait sleeps on the page), in other sleeps (a queued
 *    transfer's biowait), waiting for a lock, runnable off a CPU, and the
 *    rest, on a CPU; outside a trap: asleep, waiting for a lock, runnable
 *    off a CPU, and on a CPU.  A sleep or lock wait ends only with the
 *    event of the same wait channel or lock (the lwp_lock a blocking
 *    thread takes on its way off the CPU is not the lock it waits for);
 *    a lock wait inside a sleep (the interlock taken back) is part of
 *    the sleep; time off a CPU inside a sleep or lock wait is part of
 *    that wait;
 *  - counts of traps and waits (workers), and every thread's contended
 *    lock waits (HE_LOCK_WAIT to HE_LOCK of that lock), counted per lock
 *    class (the lock_object name of the lock taken);
 *  - the host MMU calls' time (HE_MMU_CALL), by role.
 *
 * The counters are cumulative from timing_start(); a snapshot adds each
 * thread's current state up to the snapshot's time, so the difference of
 * two snapshots gives each timed thread's time between them, split by
 * state (report.c: metrics.time_breakdown).  Per-thread state lives in a
 * slot written by its thread only and read by timing_snapshot() under a
 * sequence count.  The hook is the machine's observer: host_hook calls
 * it before the deterministic scheduler's point (host/dsched.h), so a
 * thread is never parked in the middle of an update.
 */
#ifndef STRESS_TIMING_H
#define STRESS_TIMING_H

#include <stdint.h>

#define TIMING_MAXCLASS	32
#define TIMING_MAXSLOT	1088	/* timed threads: --lwps' 1024 + daemons */

/* What a timed thread is doing; each is in exactly one at a time. */
enum timing_state {
	TS_RUN = 0,		/* on a CPU, outside a trap */
	TS_PREEMPTED,		/* runnable, off a CPU, outside a trap */
	TS_SLEEP,		/* asleep, outside a trap */
	TS_LOCK,		/* waiting for a lock, outside a trap */
	TS_FAULT_CPU,		/* in a trap, on a CPU */
	TS_FAULT_READ,		/* in a trap, running a polled swap-in read */
	TS_FAULT_MEMWAIT,	/* in a trap, asleep in uvm_wait */
	TS_FAULT_PAGEWAIT,	/* in a trap, asleep on a busy page */
	TS_FAULT_SLEEP,		/* in a trap, other sleeps */
	TS_FAULT_LOCK,		/* in a trap, waiting for a lock */
	TS_FAULT_PREEMPTED,	/* in a trap, runnable, off a CPU */
	TS_NSTATES
};

/* The timed threads' roles. */
enum timing_role {
	TR_WORKER = 0,
	TR_PAGEDAEMON,
	TR_AIODONED,
	TR_NROLES
};

struct timing_snap {
	uint64_t	ts_ns;		/* host time of the snapshot */
	/* time per role and state, each thread up to ts_ns */
	uint64_t	ts_state_ns[TR_NROLES][TS_NSTATES];
	int		ts_threads[TR_NROLES];	/* timed so far (alive or not) */
	uint64_t	ts_traps;	/* workers: traps (outermost) */
	uint64_t	ts_reads;	/* workers, in a trap: polled reads */
	uint64_t	ts_memwaits;	/* workers, in a trap: uvm_wait */
	uint64_t	ts_pagewaits;	/* workers, in a trap: busy page */
	uint64_t	ts_iowaits;	/* workers, in a trap: other sleeps */
	uint64_t	ts_wlocks;	/* workers, in a trap: lock waits */
	uint64_t	ts_lock_ns;	/* every thread: lock waits */
	uint64_t	ts_locks;
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
/*
 * timing_worker_begin: the calling LWP is a worker: time it (from now,
 * on a CPU).  => on the worker's LWP, before it takes a trap
 */
void timing_worker_begin(void);
/* timing_snapshot: the cumulative counters now.  => any thread */
void timing_snapshot(struct timing_snap *ts);
/*
 * timing_classes: the lock classes waited for, cumulative, most time
 * first; returns how many (at most max).
 */
int timing_classes(struct timing_class *out, int max);
/* The state's name in the JSON ("fault_page_wait"), and in words. */
const char *timing_state_key(enum timing_state s);
const char *timing_state_words(enum timing_state s);

#endif /* STRESS_TIMING_H */
