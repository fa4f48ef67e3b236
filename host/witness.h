/*
 * host/witness.h: lock objects and the WITNESS-like lock-order checker.
 *
 * Every kmutex and krwlock embeds a struct lock_object naming its lock
 * class.  A class is a name: the one given at init (mutex_init_class,
 * rw_init_class) or, failing that, the init site "file:line", so that all
 * locks initialised at one place form one class, as in WITNESS.
 *
 * The checker learns "A before B" each time a thread blocks for a lock of
 * class B while it holds one of class A, keeps the transitive closure, and
 * reports the first inversion (B wanted while A held, after B->...->A was
 * learned) with both acquisition sites.  Try-locks are neither checked nor
 * learned: taking a lock in the wrong order with a try, as
 * uvmpd_trylockowner does, is the sanctioned escape.  Re-acquiring a
 * class one already holds is not an ordering (vmobjlock of two objects).
 *
 * The closure is a read-mostly bitmap published with RCU (liburcu, memb
 * flavour): a lock operation whose edges are all known costs one RCU
 * read-side section and a few bit tests; learning an edge copies the
 * bitmap under a mutex.
 *
 * Every thread also keeps a stack of the locks it holds (always, checker
 * on or off): the held-lock assertions and the watchdog's dump read it.
 */
#ifndef HOST_WITNESS_H
#define HOST_WITNESS_H

#include "param.h"

#define WITNESS_MAXCLASS	256

enum lock_kind { LK_MUTEX = 1, LK_RWLOCK = 2 };
enum lock_mode { LM_EXCL = 1, LM_SHARED = 2 };

struct lock_object {
	const char	*lo_name;	/* [I] class name */
	uint16_t	lo_class;	/* [I] witness class id, 0 = none */
	uint8_t		lo_kind;	/* [I] enum lock_kind */
};

/* lock_object_init: name the lock's class (name NULL: "file:line"). */
void lock_object_init(struct lock_object *lo, enum lock_kind kind,
    const char *name, const char *file, int line);

/*
 * Held-lock bookkeeping, called by the lock primitives.
 * witness_wantlock: before a blocking acquire (checks and learns order).
 * witness_acquired: after any successful acquire (pushes on held stack).
 * witness_released: at release.
 * => never sleep, never allocate on the fast path.
 */
void witness_wantlock(const struct lock_object *lo, const char *file, int line);
void witness_acquired(const struct lock_object *lo, enum lock_mode mode,
    const char *file, int line);
void witness_released(const struct lock_object *lo, const char *file, int line);
/* witness_downgraded: an exclusive hold became shared (rw_downgrade). */
void witness_mode_changed(const struct lock_object *lo, enum lock_mode mode);

/* witness_held: does the current thread hold lo (in mode, 0 = any)? */
bool witness_held(const struct lock_object *lo, enum lock_mode mode);
/* witness_nheld: how many locks the current thread holds. */
int witness_nheld(void);

/* Order checking on or off (default: on in DIAGNOSTIC builds). */
void witness_enable(bool on);
bool witness_enabled(void);

/*
 * What happens on an inversion: the default prints the report and
 * panics.  The handler gets the one-line report (both sites in it).
 */
typedef void (*witness_handler_t)(const char *report);
void witness_set_handler(witness_handler_t fn);
/* Number of inversions reported so far. */
unsigned witness_inversions(void);
/* The class id and name of a lock; the name of a class id. */
const char *witness_class_name(unsigned id);
/* Forget every learned order (tests; the machine's reboot). */
void witness_reset(void);

#endif /* HOST_WITNESS_H */
