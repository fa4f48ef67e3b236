/*
 * host/witness.c: lock classes, held-lock stacks and the lock-order checker.
 *
 * Three pieces of state:
 *
 *  - The class registry: class id -> interned name, ids 1..255 (0 is "no
 *    class").  Lookups probe an open-addressed hash of the name without a
 *    lock (an id is published with a release store after its name);
 *    insertions take class_lock.  Only lock initialisation uses it.
 *
 *  - The held-lock stack of each thread (struct host_thread, ht_held[]):
 *    written only by its owner, with relaxed atomic stores, because the
 *    watchdog and panic dump read other threads' stacks.  Always kept,
 *    checker on or off.
 *
 *  - The order: `direct` (the edges actually seen, with the site that
 *    first established each) and `closure` (its transitive closure, a
 *    WITNESS_MAXCLASS^2 bitmap, row a = the classes known to come after
 *    a).  `direct` and the edge sites belong to order_lock.  The closure is
 *    read under RCU without a lock: a reader dereferences the published
 *    bitmap inside a read-side section and tests bits.  A writer (under
 *    order_lock) copies the published bitmap into the spare one, adds the
 *    new edges, publishes the copy, waits for a grace period and keeps the
 *    old one as the next spare.  Two static buffers take the place of
 *    malloc/free, so that learning an edge never allocates: the first
 *    fault to take map -> amap learns that edge on the trap path.
 *
 * Lock order: class_lock and order_lock are host locks below every kernel
 * lock; neither is held while the other is taken, nor while the report
 * handler runs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hsync.h"
#include "kassert.h"
#include "rcu.h"
#include "thread.h"
#include "witness.h"

#define LD(p)		__atomic_load_n((p), __ATOMIC_RELAXED)
#define ST(p, v)	__atomic_store_n((p), (v), __ATOMIC_RELAXED)

#define CLASS_HASH	512		/* power of two, > 2 * WITNESS_MAXCLASS */
#define ROW_WORDS	(WITNESS_MAXCLASS / 64)
#define REPORT_MAX	1024

CTASSERT(WITNESS_MAXCLASS % 64 == 0);
CTASSERT(WITNESS_MAXCLASS <= 65536);	/* lo_class is 16 bits */
CTASSERT(CLASS_HASH >= 2 * WITNESS_MAXCLASS);

/* A relation between classes: bit b of row a means a -> b. */
struct order_map {
	uint64_t	om_row[WITNESS_MAXCLASS][ROW_WORDS];
};

/* Where an edge a -> b was first seen. */
struct edge_site {
	const char	*es_file;	/* b wanted here ... */
	int		es_line;
	const char	*es_hfile;	/* ... while a was held since here */
	int		es_hline;
};

/* The class registry. */
static pthread_mutex_t class_lock = PTHREAD_MUTEX_INITIALIZER;
static const char *class_names[WITNESS_MAXCLASS];	/* [class_lock, a] */
static uint16_t class_hash[CLASS_HASH];			/* [class_lock, a] */
static unsigned nclasses;				/* [class_lock] */

/* The order. */
static pthread_mutex_t order_lock = PTHREAD_MUTEX_INITIALIZER;
static struct order_map direct;				/* [order_lock] */
static struct edge_site edge_sites[WITNESS_MAXCLASS][WITNESS_MAXCLASS];
							/* [order_lock] */
static struct order_map closure_buf[2];
static struct order_map *closure = &closure_buf[0];	/* [order_lock, rcu] */
static struct order_map *closure_spare = &closure_buf[1];	/* [order_lock] */

#ifdef DIAGNOSTIC
#define WITNESS_DEFAULT	true
#else
#define WITNESS_DEFAULT	false
#endif
static bool witness_on = WITNESS_DEFAULT;		/* [a] */
static witness_handler_t witness_handler;		/* [a] NULL: default */
static unsigned witness_ninversions;			/* [a] */

/* What one wantlock found wrong, for the report. */
struct inversion {
	const struct lock_object *iv_want;	/* the lock wanted (class b) */
	const struct held_lock	*iv_held;	/* the lock held (class a) */
};

/* local prototypes */
static uint32_t witness_hash(const char *);
static unsigned class_lookup(const char *, uint32_t);
static unsigned class_intern(const char *);
static inline bool om_test(const struct order_map *, unsigned, unsigned);
static inline void om_set(struct order_map *, unsigned, unsigned);
static void order_add(struct order_map *, unsigned, unsigned);
static void witness_report(const struct inversion *, const char *, int,
    char *, size_t);
static void witness_default_handler(const char *);
static struct held_lock *held_find(struct host_thread *,
    const struct lock_object *);

/*
 * Classes.
 */

static uint32_t
witness_hash(const char *s)
{
	uint32_t h = 2166136261u;	/* FNV-1a */

	while (*s != '\0') {
		h ^= (unsigned char)*s++;
		h *= 16777619u;
	}
	return h;
}

/*
 * class_lookup: the id of the class named `name`, or 0.
 *
 * => no lock needed: ids are published after their names.
 */
static unsigned
class_lookup(const char *name, uint32_t h)
{
	unsigned i, id;

	for (i = h & (CLASS_HASH - 1);; i = (i + 1) & (CLASS_HASH - 1)) {
		id = __atomic_load_n(&class_hash[i], __ATOMIC_ACQUIRE);
		if (id == 0)
			return 0;
		if (strcmp(__atomic_load_n(&class_names[id], __ATOMIC_ACQUIRE),
		    name) == 0)
			return id;
	}
}

/*
 * class_intern: the id of the class named `name`, made if new.
 *
 * => never allocates; panics when WITNESS_MAXCLASS - 1 classes exist.
 */
static unsigned
class_intern(const char *name)
{
	/* names live in a static arena: interning never calls malloc, so a
	 * lock may be initialised on the trap path */
	static char name_arena[WITNESS_MAXCLASS * 48];
	static size_t name_used;
	uint32_t h = witness_hash(name);
	unsigned i, id;
	size_t len = strlen(name) + 1;
	char *copy;

	if ((id = class_lookup(name, h)) != 0)
		return id;
	hs_lock(&class_lock);
	if ((id = class_lookup(name, h)) != 0) {
		hs_unlock(&class_lock);
		return id;
	}
	if (nclasses + 1 >= WITNESS_MAXCLASS)
		panic("witness: more than %d lock classes (adding \"%s\")",
		    WITNESS_MAXCLASS - 1, name);
	if (name_used + len > sizeof(name_arena))
		panic("witness: no room to name class \"%s\"", name);
	copy = &name_arena[name_used];
	memcpy(copy, name, len);
	name_used += len;
	id = ++nclasses;
	__atomic_store_n(&class_names[id], copy, __ATOMIC_RELEASE);
	for (i = h & (CLASS_HASH - 1); class_hash[i] != 0;
	    i = (i + 1) & (CLASS_HASH - 1))
		continue;
	__atomic_store_n(&class_hash[i], (uint16_t)id, __ATOMIC_RELEASE);
	hs_unlock(&class_lock);
	return id;
}

/*
 * lock_object_init: give lo its class.
 *
 * => init time: may allocate (the first lock of a class); never sleeps.
 */
void
lock_object_init(struct lock_object *lo, enum lock_kind kind,
    const char *name, const char *file, int line)
{
	char site[256];
	unsigned id;

	if (name == NULL) {
		snprintf(site, sizeof(site), "%s:%d",
		    file != NULL ? file : "?", line);
		name = site;
	}
	id = class_intern(name);
	lo->lo_class = (uint16_t)id;
	lo->lo_name = __atomic_load_n(&class_names[id], __ATOMIC_ACQUIRE);
	lo->lo_kind = (uint8_t)kind;
}

/* witness_class_name: the name of class `id`, or NULL if there is none. */
const char *
witness_class_name(unsigned id)
{
	if (id == 0 || id >= WITNESS_MAXCLASS)
		return NULL;
	return __atomic_load_n(&class_names[id], __ATOMIC_ACQUIRE);
}

/*
 * The held-lock stack.
 */

static struct held_lock *
held_find(struct host_thread *ht, const struct lock_object *lo)
{
	int i;

	for (i = ht->ht_nheld - 1; i >= 0; i--)
		if (ht->ht_held[i].hl_lock == lo)
			return &ht->ht_held[i];
	return NULL;
}

/*
 * witness_acquired: push lo on the caller's held stack.
 *
 * => after any successful acquire, blocking or try.
 * => never sleeps, never allocates (once the thread is registered).
 */
void
witness_acquired(const struct lock_object *lo, enum lock_mode mode,
    const char *file, int line)
{
	struct host_thread *ht = host_thread_self();
	int n = ht->ht_nheld;
	struct held_lock *hl;

	if (__predict_false(n >= HOST_HELD_MAX))
		panic("witness: thread %s holds too many locks (%d) acquiring "
		    "%s at %s:%d", ht->ht_name, n, lo->lo_name, file, line);
	hl = &ht->ht_held[n];
	ST(&hl->hl_lock, lo);
	ST(&hl->hl_mode, (uint8_t)mode);
	ST(&hl->hl_file, file);
	ST(&hl->hl_line, line);
	ST(&ht->ht_nheld, n + 1);
}

/*
 * witness_released: take lo off the caller's held stack.
 *
 * => locks may be released in any order: the topmost entry for lo goes.
 * => panics if the caller does not hold lo.
 */
void
witness_released(const struct lock_object *lo, const char *file, int line)
{
	struct host_thread *ht = host_thread_self();
	int i, n = ht->ht_nheld;
	struct held_lock *hl;

	hl = held_find(ht, lo);
	if (__predict_false(hl == NULL))
		panic("witness: releasing lock %s (%p) not held by thread %s "
		    "at %s:%d", lo->lo_name, (const void *)lo, ht->ht_name,
		    file != NULL ? file : "?", line);
	for (i = (int)(hl - ht->ht_held); i < n - 1; i++) {
		ST(&ht->ht_held[i].hl_lock, ht->ht_held[i + 1].hl_lock);
		ST(&ht->ht_held[i].hl_mode, ht->ht_held[i + 1].hl_mode);
		ST(&ht->ht_held[i].hl_file, ht->ht_held[i + 1].hl_file);
		ST(&ht->ht_held[i].hl_line, ht->ht_held[i + 1].hl_line);
	}
	ST(&ht->ht_nheld, n - 1);
	ST(&ht->ht_held[n - 1].hl_lock, (const struct lock_object *)NULL);
}

/* witness_mode_changed: lo, held, is now held in `mode` (rw_downgrade...). */
void
witness_mode_changed(const struct lock_object *lo, enum lock_mode mode)
{
	struct host_thread *ht = host_thread_self();
	struct held_lock *hl = held_find(ht, lo);

	if (__predict_false(hl == NULL))
		panic("witness: changing mode of lock %s (%p) not held by "
		    "thread %s", lo->lo_name, (const void *)lo, ht->ht_name);
	ST(&hl->hl_mode, (uint8_t)mode);
}

/* witness_held: does the caller hold lo, in `mode` (0: either)? */
bool
witness_held(const struct lock_object *lo, enum lock_mode mode)
{
	struct host_thread *ht = host_thread_self();
	int i;

	for (i = ht->ht_nheld - 1; i >= 0; i--)
		if (ht->ht_held[i].hl_lock == lo &&
		    (mode == 0 || ht->ht_held[i].hl_mode == mode))
			return true;
	return false;
}

int
witness_nheld(void)
{
	return host_thread_self()->ht_nheld;
}

/*
 * The order.
 */

static inline bool
om_test(const struct order_map *om, unsigned a, unsigned b)
{
	return (om->om_row[a][b / 64] >> (b % 64)) & 1;
}

static inline void
om_set(struct order_map *om, unsigned a, unsigned b)
{
	om->om_row[a][b / 64] |= 1ull << (b % 64);
}

/*
 * order_add: add a -> b and its consequences to the closure om: every x
 * with x == a or x -> a now comes before b and everything after b.
 *
 * => om is the writer's private copy (order_lock held).
 */
static void
order_add(struct order_map *om, unsigned a, unsigned b)
{
	uint64_t after[ROW_WORDS];
	unsigned x, w;

	memcpy(after, om->om_row[b], sizeof(after));
	after[b / 64] |= 1ull << (b % 64);
	for (x = 1; x < WITNESS_MAXCLASS; x++) {
		if (x != a && !om_test(om, x, a))
			continue;
		for (w = 0; w < ROW_WORDS; w++)
			om->om_row[x][w] |= after[w];
	}
}

/*
 * witness_report: format the one-line report of an inversion: the lock
 * of class b wanted at file:line while one of class a is held, after
 * b -> ... -> a was learned.  The path is found over the direct edges
 * (breadth first, so the shortest), each hop with the site that first
 * established it.
 *
 * => order_lock held; never allocates.
 */
static void
witness_report(const struct inversion *iv, const char *file, int line,
    char *buf, size_t len)
{
	const struct lock_object *held = LD(&iv->iv_held->hl_lock);
	unsigned a = held->lo_class, b = iv->iv_want->lo_class;
	uint16_t prev[WITNESS_MAXCLASS], queue[WITNESS_MAXCLASS];
	uint16_t path[WITNESS_MAXCLASS];
	unsigned head = 0, tail = 0, x, y, npath, i;
	const struct edge_site *es;
	size_t off;
	int n;

	n = snprintf(buf, len, "lock order reversal: \"%s\" (%p) wanted at "
	    "%s:%d while holding \"%s\" (%p) acquired at %s:%d; known order",
	    iv->iv_want->lo_name, (const void *)iv->iv_want,
	    file != NULL ? file : "?", line, held->lo_name,
	    (const void *)held, iv->iv_held->hl_file != NULL ?
	    iv->iv_held->hl_file : "?", iv->iv_held->hl_line);
	off = n < 0 ? 0 : MIN((size_t)n, len - 1);

	/* Breadth-first search b -> ... -> a over the direct edges. */
	memset(prev, 0, sizeof(prev));
	prev[b] = (uint16_t)b;
	queue[tail++] = (uint16_t)b;
	while (head < tail && prev[a] == 0) {
		x = queue[head++];
		for (y = 1; y < WITNESS_MAXCLASS; y++) {
			if (prev[y] != 0 || !om_test(&direct, x, y))
				continue;
			prev[y] = (uint16_t)x;
			queue[tail++] = (uint16_t)y;
		}
	}
	if (prev[a] == 0) {
		/* Cannot happen while direct and closure agree; say so. */
		snprintf(buf + off, len - off, " \"%s\" -> \"%s\" (no path "
		    "recorded)", witness_class_name(b), witness_class_name(a));
		return;
	}
	npath = 0;
	for (x = a; x != b; x = prev[x])
		path[npath++] = (uint16_t)x;
	path[npath++] = (uint16_t)b;

	/* path[npath-1] = b, ..., path[0] = a: print b first. */
	n = snprintf(buf + off, len - off, " \"%s\"", witness_class_name(b));
	if (n >= 0)
		off = MIN(off + (size_t)n, len - 1);
	for (i = npath - 1; i > 0 && off < len - 1; i--) {
		x = path[i];
		y = path[i - 1];
		es = &edge_sites[x][y];
		n = snprintf(buf + off, len - off, " -> \"%s\" (first at "
		    "%s:%d, \"%s\" held since %s:%d)", witness_class_name(y),
		    es->es_file != NULL ? es->es_file : "?", es->es_line,
		    witness_class_name(x),
		    es->es_hfile != NULL ? es->es_hfile : "?", es->es_hline);
		if (n >= 0)
			off = MIN(off + (size_t)n, len - 1);
	}
}

static void
witness_default_handler(const char *report)
{
	struct host_thread *ht = host_thread_self();

	host_printf("witness: %s\n", report);
	host_printf("witness: locks held by thread %s:\n", ht->ht_name);
	host_thread_dump_held(ht);
	panic("%s", report);
}

/*
 * witness_wantlock: check, and learn, the order of lo after every lock
 * the caller holds.
 *
 * => called before a blocking acquire, never for a try.
 * => fast path (every edge known): one RCU read-side section, no lock, no
 *    allocation.  Learning an edge takes order_lock and waits for an RCU
 *    grace period: the caller must not be in an RCU read-side section.
 * => on an inversion calls the handler (default: print and panic) and
 *    learns nothing in this call.
 */
void
witness_wantlock(const struct lock_object *lo, const char *file, int line)
{
	struct host_thread *ht;
	const struct order_map *cl;
	struct order_map *next;
	struct inversion iv = { lo, NULL };
	const struct held_lock *hl;
	char report[REPORT_MAX];
	witness_handler_t fn;
	unsigned a, b = lo->lo_class;
	bool unknown = false;
	int i, n;

	if (!witness_enabled() || b == 0)
		return;
	ht = host_thread_self();
	n = ht->ht_nheld;
	if (n == 0)
		return;

	/* Fast path: every (held, lo) edge is already known. */
	host_rcu_read_lock();
	cl = host_rcu_deref(&closure);
	for (i = 0; i < n && !unknown; i++) {
		a = ht->ht_held[i].hl_lock->lo_class;
		if (a != 0 && a != b && !om_test(cl, a, b))
			unknown = true;
	}
	host_rcu_read_unlock();
	if (__predict_true(!unknown))
		return;

	/*
	 * Slow path, under order_lock against the authoritative closure:
	 * find the first inversion, or else learn every missing edge.
	 */
	hs_lock(&order_lock);
	cl = closure;
	for (i = 0; i < n; i++) {
		hl = &ht->ht_held[i];
		a = hl->hl_lock->lo_class;
		if (a != 0 && a != b && !om_test(cl, a, b) &&
		    om_test(cl, b, a)) {
			iv.iv_held = hl;
			break;
		}
	}
	if (iv.iv_held != NULL) {
		witness_report(&iv, file, line, report, sizeof(report));
		hs_unlock(&order_lock);
		__atomic_fetch_add(&witness_ninversions, 1, __ATOMIC_RELAXED);
		fn = __atomic_load_n(&witness_handler, __ATOMIC_ACQUIRE);
		(fn != NULL ? fn : witness_default_handler)(report);
		return;
	}

	next = closure_spare;
	memcpy(next, cl, sizeof(*next));
	for (i = 0; i < n; i++) {
		hl = &ht->ht_held[i];
		a = hl->hl_lock->lo_class;
		if (a == 0 || a == b || om_test(next, a, b))
			continue;
		/*
		 * Nor b -> a: not in cl (checked above), and order_add of
		 * an earlier a' -> b adds only edges out of a' or its
		 * predecessors, which b is not.  The closure stays acyclic.
		 */
		KDASSERT(!om_test(next, b, a));
		if (!om_test(&direct, a, b)) {
			om_set(&direct, a, b);
			edge_sites[a][b] = (struct edge_site){
				.es_file = file, .es_line = line,
				.es_hfile = hl->hl_file,
				.es_hline = hl->hl_line,
			};
		}
		order_add(next, a, b);
	}
	host_rcu_publish(&closure, next);
	host_rcu_synchronize();
	closure_spare = (struct order_map *)cl;
	hs_unlock(&order_lock);
}

void
witness_enable(bool on)
{
	__atomic_store_n(&witness_on, on, __ATOMIC_RELAXED);
}

bool
witness_enabled(void)
{
	return __atomic_load_n(&witness_on, __ATOMIC_RELAXED);
}

void
witness_set_handler(witness_handler_t fn)
{
	__atomic_store_n(&witness_handler, fn, __ATOMIC_RELEASE);
}

unsigned
witness_inversions(void)
{
	return __atomic_load_n(&witness_ninversions, __ATOMIC_RELAXED);
}

/*
 * witness_reset: forget every learned order; classes stay.
 *
 * => may sleep (RCU grace period); not in an RCU read-side section.
 */
void
witness_reset(void)
{
	struct order_map *old;

	hs_lock(&order_lock);
	memset(&direct, 0, sizeof(direct));
	memset(edge_sites, 0, sizeof(edge_sites));
	memset(closure_spare, 0, sizeof(*closure_spare));
	old = closure;
	host_rcu_publish(&closure, closure_spare);
	host_rcu_synchronize();
	closure_spare = old;
	hs_unlock(&order_lock);
}
