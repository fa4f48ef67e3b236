/*
 * host/evring.c: per-thread event rings.
 */
#include <time.h>

#include "evring.h"
#include "hook.h"
#include "kassert.h"

#define LD(p)		__atomic_load_n((p), __ATOMIC_RELAXED)
#define ST(p, v)	__atomic_store_n((p), (v), __ATOMIC_RELAXED)

/*
 * A timestamp for every event must be cheap (every lock operation records
 * one).  The coarse monotonic clock is a plain read of the vDSO page (the
 * TSC, measured here, costs a tenth of a fault on a virtual machine); the
 * ring's order gives the exact sequence of a thread's events, the stamp
 * says roughly when (to a few milliseconds).
 */
static inline uint64_t
evring_stamp(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void
evring_record(struct evring *er, unsigned kind, const void *obj,
    uintptr_t arg, const char *file, int line)
{
	uint64_t n = LD(&er->er_next);
	struct evring_entry *e = &er->er_ent[n & (EVRING_SIZE - 1)];

	ST(&e->ee_ns, evring_stamp());
	ST(&e->ee_kind, kind);
	ST(&e->ee_line, (uint32_t)line);
	ST(&e->ee_obj, obj);
	ST(&e->ee_arg, arg);
	ST(&e->ee_file, file);
	__atomic_store_n(&er->er_next, n + 1, __ATOMIC_RELEASE);
}

uint64_t
evring_count(const struct evring *er)
{
	return __atomic_load_n(&er->er_next, __ATOMIC_ACQUIRE);
}

void
evring_dump(const struct evring *er, unsigned n)
{
	uint64_t next = evring_count(er), i, first;

	if (n > EVRING_SIZE)
		n = EVRING_SIZE;
	first = next > n ? next - n : 0;
	for (i = first; i < next; i++) {
		const struct evring_entry *e = &er->er_ent[i & (EVRING_SIZE - 1)];
		const char *file = LD(&e->ee_file);

		host_printf("  %12llu.%09llu %-12s obj %p arg %#lx  %s:%u\n",
		    (unsigned long long)(LD(&e->ee_ns) / 1000000000ull),
		    (unsigned long long)(LD(&e->ee_ns) % 1000000000ull),
		    hook_ev_name((enum hook_ev)LD(&e->ee_kind)),
		    LD(&e->ee_obj), (unsigned long)LD(&e->ee_arg),
		    file != NULL ? file : "?", LD(&e->ee_line));
	}
}
