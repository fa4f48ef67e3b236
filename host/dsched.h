/*
 * host/dsched.h: the deterministic scheduler (--sched random|pct|pos).
 *
 * In a deterministic mode exactly one thread of the machine runs at a
 * time: it holds the token.  Every machine thread is an entity (the
 * thread that starts the scheduler, then every thread host_thread_create
 * makes: LWPs, daemons, disk controllers, the hardclock, the watchdog).
 * At every hook point (host_hook) the token holder reaches a scheduling
 * point and the strategy chooses, from the seed, which runnable entity
 * runs next.  A thread that would block on a host primitive (a contended
 * lock, a condition variable, a sleep, a CPU, a join) blocks here instead:
 * it is not runnable until the object it waits for is released or woken,
 * or its virtual deadline passes (host/hsync.h wraps the primitives).
 *
 * Time is virtual: each step advances the clock by a fixed amount, and
 * when nothing is runnable the clock jumps to the first deadline (a
 * timed sleep, the next hardclock tick).  host_real_ns() reads it while
 * the scheduler runs, so timeouts fire at the same step in every run.
 *
 * Same seed, same options, same binary: the same sequence of decisions
 * and the same trace hash (a hash of every decision and the event it ran:
 * kind, site and who ran next).  Objects enter the hash by kind and site
 * only, never by address (addresses move between runs).
 *
 * Locking: one host mutex (ds_lock), innermost of all; the token holder
 * takes it at each point.  Nothing here allocates on the point path.
 */
#ifndef HOST_DSCHED_H
#define HOST_DSCHED_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "hook.h"

struct host_thread;

enum dsched_strategy {
	DSCHED_FREE = 0,	/* no scheduler: real concurrency */
	DSCHED_RANDOM,		/* uniform random walk */
	DSCHED_PCT,		/* Burckhardt et al., ASPLOS 2010 */
	DSCHED_POS		/* Yuan et al., CAV 2018 */
};

struct dsched_config {
	enum dsched_strategy dc_strategy;
	uint64_t	dc_seed;
	unsigned int	dc_pct_depth;	/* d >= 1: d - 1 change points */
	uint64_t	dc_pct_steps;	/* k: the steps the change points
					   are spread over */
	uint64_t	dc_step_ns;	/* virtual ns per step (0: 1000) */
	uint64_t	dc_max_steps;	/* exhausted after this many, 0 never */
	const uint32_t	*dc_replay;	/* decisions to follow, or NULL */
	size_t		dc_nreplay;
	bool		dc_record;	/* keep the decisions */
};

extern atomic_bool dsched_on;

/* Is a deterministic mode running?  (Any thread, no lock.) */
static inline bool
dsched_active(void)
{
	return atomic_load_explicit(&dsched_on, memory_order_relaxed);
}

/*
 * dsched_start: the calling thread becomes entity 0 and holds the token.
 * => no other machine thread runs yet; EINVAL on a bad config
 */
int dsched_start(const struct dsched_config *dc);
/*
 * dsched_stop: end the deterministic mode: every thread runs free from
 * here (those blocked in the scheduler return as from a spurious wakeup).
 * The trace and the decisions stay readable until the next start.
 */
void dsched_stop(void);

/* The strategy's name ("pct"), and back (-1: unknown). */
const char *dsched_strategy_name(enum dsched_strategy s);
int dsched_strategy_parse(const char *s);

/*
 * Threads.  dsched_ent_new: the creator makes the entity of a thread it is
 * about to start (runnable from now, in the creator's order); the new
 * thread calls dsched_ent_enter first, which waits for the token.
 * dsched_ent_set_pthread records the pthread for joins.
 * dsched_ent_exit: the calling thread leaves (its host_thread goes) and
 * passes the token on.  dsched_join: block until the entity of tid left.
 */
struct dsched_ent;
struct dsched_ent *dsched_ent_new(const char *name);
void dsched_ent_set_pthread(struct dsched_ent *e, pthread_t tid);
void dsched_ent_discard(struct dsched_ent *e);
void dsched_ent_enter(struct dsched_ent *e);
void dsched_ent_exit(struct dsched_ent *e);
void dsched_join(pthread_t tid);

/*
 * dsched_point: a scheduling point of the token holder (called by
 * host_hook for every event).  A failed try (HE_TRYLOCK, arg 0) passes
 * the token on if anyone else can run, so that a retry loop is never a
 * spin that starves the holder it waits for.
 */
void dsched_point(enum hook_ev ev, const void *obj, uintptr_t arg,
    const char *file, int line);
/*
 * dsched_block: the caller is not runnable until dsched_wake(obj) or the
 * deadline (host_real_ns() time, 0 none).  => 0, or ETIMEDOUT
 * => the caller's host locks that others need are released
 */
int dsched_block(const void *obj, uint64_t deadline_ns);
/*
 * dsched_mutex_enter: take m, waiting in the scheduler while it is held.
 * dsched_cond_wait: release m and wait on c (until woken or the deadline)
 * in one step, as pthread_cond_wait; m is not taken back.
 * => -1 if the caller does not hold the token (it uses pthreads then);
 *    dsched_cond_wait: 0 or ETIMEDOUT
 */
int dsched_mutex_enter(pthread_mutex_t *m);
int dsched_cond_wait(const void *c, pthread_mutex_t *m, uint64_t deadline_ns);
/* dsched_wake: make the entities blocked on obj runnable (all, or the
   longest blocked).  => how many */
int dsched_wake(const void *obj, bool all);
/*
 * dsched_describe: ht's state under the scheduler, for thread dumps
 * ("runs", "runnable", "waits for 0x... until ...", "" if not one).
 * => a stopped machine (a dump), or the token held
 */
void dsched_describe(const struct host_thread *ht, char *buf, size_t len);
/* Is the calling thread an entity of the running scheduler? */
bool dsched_self(void);
/* Virtual time: host_real_ns() time, from the host's at the start. */
uint64_t dsched_now_ns(void);

struct dsched_stats {
	enum dsched_strategy ds_strategy;
	uint64_t	ds_steps;	/* scheduling points and blocks */
	uint64_t	ds_switches;	/* token hand-offs */
	uint64_t	ds_blocks;
	uint64_t	ds_timeouts;	/* deadlines that fired */
	uint64_t	ds_idle_jumps;	/* clock jumps with nothing runnable */
	uint64_t	ds_resamples;	/* POS: racing events given new
					   priorities */
	uint64_t	ds_change_points; /* PCT: change points passed */
	uint64_t	ds_vnow_ns;	/* virtual time the run took */
	uint64_t	ds_hash;	/* the trace hash */
	uint64_t	ds_exhausted_step; /* 0: dc_max_steps not reached */
	int		ds_entities;	/* ever made */
	uint64_t	ds_diverged_step; /* replay: 0 followed so far */
	char		ds_diverged[160];
};
void dsched_get_stats(struct dsched_stats *st);
/* The steps so far (any thread, no lock). */
uint64_t dsched_step(void);
/* Has the run used up dc_max_steps?  (Any thread.) */
bool dsched_exhausted(void);
/*
 * dsched_decisions: the decisions so far (entity ids, one per step at
 * which more than one entity could run), with dc_record.
 */
size_t dsched_decisions(const uint32_t **out);

#endif /* HOST_DSCHED_H */
