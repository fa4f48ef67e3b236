/*
 * host/evring.h: a per-thread ring of recent events, for post-mortems.
 *
 * Only the owning thread writes its ring; panic() and the watchdog read
 * any ring.  Fields are stored with relaxed atomics so that a reader on
 * another thread sees whole (if slightly stale) values and
 * ThreadSanitizer sees no race.
 */
#ifndef HOST_EVRING_H
#define HOST_EVRING_H

#include "param.h"

#define EVRING_SIZE	256	/* power of two */

struct evring_entry {
	uint64_t	ee_ns;		/* coarse monotonic time, ns */
	uint32_t	ee_kind;	/* enum hook_ev */
	uint32_t	ee_line;
	const void	*ee_obj;
	uintptr_t	ee_arg;
	const char	*ee_file;
};

struct evring {
	uint64_t		er_next;	/* [owner, read relaxed] */
	struct evring_entry	er_ent[EVRING_SIZE];
};

/* evring_record: append an event. => owner thread only; never sleeps. */
void evring_record(struct evring *er, unsigned kind, const void *obj,
    uintptr_t arg, const char *file, int line);

/* evring_dump: print the last n events, oldest first, to stderr. */
void evring_dump(const struct evring *er, unsigned n);

/* evring_count: how many events were ever recorded. */
uint64_t evring_count(const struct evring *er);

#endif /* HOST_EVRING_H */
