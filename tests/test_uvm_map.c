/*
 * tests/test_uvm_map.c: vm/uvm_map.c, address maps.
 *
 * Each test boots its own machine and VM (vmtest_boot) and works on a
 * fresh user address space (uvmspace_alloc) unless it says otherwise.
 * Anonymous mappings are made the way uvm_mmap makes private ones (no
 * object, copy-on-write), which touches no page until a fault.
 *
 * Lock tests use helper host threads that follow a small script through
 * atomics and never cr_assert; a helper that must be provably waiting is
 * seen so through the lock's own state (a waiting writer in rw_wwait, a
 * waiter on the map's busy condvar), never by sleeping alone.
 */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "host/clock.h"
#include "host/thread.h"
#include "tests/vmtest.h"
#include "vm/uvm.h"
#include "vm/uvm_amap.h"
#include "vm/uvm_anon.h"
#include "vm/uvm_km.h"
#include "vm/uvm_map.h"
#include "vm/uvm_pager.h"

#define WAIT_NS		(10 * 1000000000ull)
#define P(n)		((vsize_t)(n) * PAGE_SIZE)
#define BASE		((vaddr_t)0x10000000)	/* inside every user map */
#define ANON_FLAGS(prot) \
	UVM_MAPFLAG((prot), VM_PROT_ALL, UVM_INH_COPY, UVM_ADV_NORMAL, \
	    UVM_FLAG_FIXED | UVM_FLAG_COPYONW)

#define WAIT_FOR(cond)							\
	do {								\
		uint64_t wf_dl_ = host_real_ns() + WAIT_NS;		\
		while (!(cond)) {					\
			cr_assert(host_real_ns() < wf_dl_,		\
			    "timed out waiting for %s", #cond);		\
			sched_yield();					\
		}							\
	} while (0)

TestSuite(uvm_map, .init = vmtest_boot, .fini = vmtest_shutdown);

struct lk_helper;

/* local prototypes */
static struct vmspace *new_space(void);
static void map_anon(struct vm_map *, vaddr_t, vsize_t, vm_prot_t, int);
static void audit(struct vm_map *);
static struct vm_map_entry *nth_entry(struct vm_map *, int);
static void expect_entry(struct vm_map_entry *, vaddr_t, vaddr_t,
    vm_prot_t);
static uint64_t rnd(uint64_t *);
static int rw_waiting_writers(krwlock_t *);
static bool busy_waiters(struct vm_map *);
static void *lk_helper(void *);
static void lk_start(pthread_t *, struct lk_helper *);

static struct vmspace *
new_space(void)
{
	struct vmspace *vm;

	vm = uvmspace_alloc(VM_MIN_ADDRESS, VM_MAXUSER_ADDRESS, true);
	cr_assert_not_null(vm);
	cr_assert_eq(pmap_owner(vm->vm_map.pmap), &vm->vm_map);
	return vm;
}

/* A private anonymous mapping at va exactly, with flags added. */
static void
map_anon(struct vm_map *map, vaddr_t va, vsize_t size, vm_prot_t prot,
    int flags)
{
	vaddr_t got = va;
	int error;

	error = uvm_map(map, &got, size, NULL, UVM_UNKNOWN_OFFSET, 0,
	    ANON_FLAGS(prot) | flags);
	cr_assert_eq(error, 0, "uvm_map at %#lx: %d", (unsigned long)va,
	    error);
	cr_assert_eq(got, va);
}

static void
audit(struct vm_map *map)
{
	char why[160];
	bool ok;

	vm_map_lock_read(map);
	ok = uvm_map_audit(map, why, sizeof(why));
	vm_map_unlock_read(map);
	cr_assert(ok, "map audit: %s", why);
}

/* The n-th entry (0-based) of map, or NULL. */
static struct vm_map_entry *
nth_entry(struct vm_map *map, int n)
{
	struct vm_map_entry *e;

	for (e = map->header.next; e != &map->header; e = e->next)
		if (n-- == 0)
			return e;
	return NULL;
}

static void
expect_entry(struct vm_map_entry *e, vaddr_t start, vaddr_t end,
    vm_prot_t prot)
{
	cr_assert_not_null(e);
	cr_assert_eq(e->start, start, "start %#lx, want %#lx",
	    (unsigned long)e->start, (unsigned long)start);
	cr_assert_eq(e->end, end, "end %#lx, want %#lx",
	    (unsigned long)e->end, (unsigned long)end);
	cr_assert_eq(e->protection, prot, "[%#lx, %#lx) prot %d, want %d",
	    (unsigned long)start, (unsigned long)end, e->protection, prot);
}

/* xorshift64*: the test's own seeded stream. */
static uint64_t
rnd(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545f4914f6cdd1dull;
}

/*
 * Clipping.
 */

Test(uvm_map, protect_clips_into_three)
{
	struct vmspace *vm = new_space();
	struct vm_map *map = &vm->vm_map;

	map_anon(map, BASE, P(10), VM_PROT_READ | VM_PROT_WRITE, 0);
	cr_assert_eq(map->nentries, 1);
	cr_assert_eq(uvm_map_protect(map, BASE + P(3), BASE + P(6),
	    VM_PROT_READ, false), 0);
	audit(map);
	cr_assert_eq(map->nentries, 3);
	cr_assert_eq(map->size, P(10));
	expect_entry(nth_entry(map, 0), BASE, BASE + P(3),
	    VM_PROT_READ | VM_PROT_WRITE);
	expect_entry(nth_entry(map, 1), BASE + P(3), BASE + P(6),
	    VM_PROT_READ);
	expect_entry(nth_entry(map, 2), BASE + P(6), BASE + P(10),
	    VM_PROT_READ | VM_PROT_WRITE);
	cr_assert_eq(nth_entry(map, 1)->max_protection, VM_PROT_ALL);
	cr_assert(UVM_ET_ISCOPYONWRITE(nth_entry(map, 1)));
	cr_assert(UVM_ET_ISNEEDSCOPY(nth_entry(map, 2)));

	/* Unmap [2, 4): the first entry and the middle one both shrink. */
	uvm_unmap(map, BASE + P(2), BASE + P(4));
	audit(map);
	cr_assert_eq(map->nentries, 3);
	cr_assert_eq(map->size, P(8));
	expect_entry(nth_entry(map, 0), BASE, BASE + P(2),
	    VM_PROT_READ | VM_PROT_WRITE);
	expect_entry(nth_entry(map, 1), BASE + P(4), BASE + P(6),
	    VM_PROT_READ);
	expect_entry(nth_entry(map, 2), BASE + P(6), BASE + P(10),
	    VM_PROT_READ | VM_PROT_WRITE);

	/* Unmap a range covering whole entries and a hole. */
	uvm_unmap(map, BASE, BASE + P(7));
	audit(map);
	cr_assert_eq(map->nentries, 1);
	cr_assert_eq(map->size, P(3));
	expect_entry(nth_entry(map, 0), BASE + P(7), BASE + P(10),
	    VM_PROT_READ | VM_PROT_WRITE);
	uvmspace_free(vm);
}

Test(uvm_map, clip_splits_object_offsets_and_amap_refs)
{
	struct vmspace *vm = new_space();
	struct vm_map *map = &vm->vm_map;
	struct vm_map_entry *e0, *e1;
	struct vm_amap *amap;
	vaddr_t va = BASE;

	/* An overlay mapping has its amap from the start. */
	cr_assert_eq(uvm_map(map, &va, P(8), NULL, UVM_UNKNOWN_OFFSET, 0,
	    UVM_MAPFLAG(VM_PROT_READ | VM_PROT_WRITE, VM_PROT_ALL,
	    UVM_INH_COPY, UVM_ADV_NORMAL, UVM_FLAG_FIXED | UVM_FLAG_OVERLAY)),
	    0);
	e0 = nth_entry(map, 0);
	amap = e0->aref.ar_amap;
	cr_assert_not_null(amap);
	cr_assert_eq(amap_refs(amap), 1);

	cr_assert_eq(uvm_map_protect(map, BASE + P(5), BASE + P(8),
	    VM_PROT_READ, false), 0);
	e0 = nth_entry(map, 0);
	e1 = nth_entry(map, 1);
	cr_assert_eq(e0->aref.ar_amap, amap);
	cr_assert_eq(e1->aref.ar_amap, amap);
	cr_assert_eq(e0->aref.ar_pageoff, 0);
	cr_assert_eq(e1->aref.ar_pageoff, 5);
	cr_assert_eq(amap_refs(amap), 2, "each part holds a reference");
	audit(map);
	uvmspace_free(vm);
	cr_assert_eq(amap_count(), 0);
}

/*
 * Lookup.
 */

Test(uvm_map, lookup_hit_miss_and_hint)
{
	struct vmspace *vm = new_space();
	struct vm_map *map = &vm->vm_map;
	struct vm_map_entry *a, *b, *e;

	map_anon(map, BASE, P(4), VM_PROT_READ, 0);
	map_anon(map, BASE + P(10), P(4), VM_PROT_READ | VM_PROT_WRITE, 0);
	a = nth_entry(map, 0);
	b = nth_entry(map, 1);

	vm_map_lock_read(map);
	cr_assert(uvm_map_lookup_entry(map, BASE + P(1) + 123, &e));
	cr_assert_eq(e, a);
	cr_assert(uvm_map_lookup_entry(map, BASE + P(13), &e));
	cr_assert_eq(e, b);
	cr_assert_eq(map->hint, b, "a lookup leaves its entry as the hint");
	/* a miss gives the entry before the address */
	cr_assert_not(uvm_map_lookup_entry(map, BASE + P(4), &e));
	cr_assert_eq(e, a);
	cr_assert_not(uvm_map_lookup_entry(map, BASE + P(9) + 1, &e));
	cr_assert_eq(e, a);
	cr_assert_not(uvm_map_lookup_entry(map, BASE - 1, &e));
	cr_assert_eq(e, &map->header);
	cr_assert_not(uvm_map_lookup_entry(map, BASE + P(14), &e));
	cr_assert_eq(e, b);
	/* from a stale hint the tree still answers */
	map->hint = b;
	cr_assert(uvm_map_lookup_entry(map, BASE, &e));
	cr_assert_eq(e, a);
	vm_map_unlock_read(map);
	uvmspace_free(vm);
}

/*
 * Random map/unmap/protect against a shadow of the pages.
 */

#define R_PAGES		256
#define R_OPS		3000

Test(uvm_map, random_sequences_keep_invariants)
{
	static const vm_prot_t prots[] = { VM_PROT_READ,
	    VM_PROT_READ | VM_PROT_WRITE, VM_PROT_NONE };
	uint64_t seed, s;
	int shadow[R_PAGES];	/* -1 unmapped, else the protection */
	struct vmspace *vm = new_space();
	struct vm_map *map = &vm->vm_map;
	struct vm_map_entry *e;
	int op, i, p0, n, error, nmapped = 0, before;
	bool free_range, hit;

	before = uvm_mapent_count();
	for (seed = 1; seed <= 3; seed++) {
		s = seed * 0x9e3779b97f4a7c15ull;
		for (i = 0; i < R_PAGES; i++)
			shadow[i] = -1;
		for (op = 0; op < R_OPS; op++) {
			p0 = (int)(rnd(&s) % R_PAGES);
			n = 1 + (int)(rnd(&s) % 16);
			if (p0 + n > R_PAGES)
				n = R_PAGES - p0;
			free_range = true;
			for (i = p0; i < p0 + n; i++)
				if (shadow[i] != -1)
					free_range = false;
			switch (rnd(&s) % 3) {
			case 0: {
				vaddr_t va = BASE + P(p0);
				vm_prot_t prot = prots[rnd(&s) % 3];

				error = uvm_map(map, &va, P(n), NULL,
				    UVM_UNKNOWN_OFFSET, 0, ANON_FLAGS(prot));
				cr_assert_eq(error, free_range ? 0 : ENOMEM,
				    "seed %llu op %d: map [%d, +%d): %d",
				    (unsigned long long)seed, op, p0, n, error);
				if (error == 0)
					for (i = p0; i < p0 + n; i++)
						shadow[i] = prot;
				break;
			}
			case 1:
				uvm_unmap(map, BASE + P(p0), BASE + P(p0 + n));
				for (i = p0; i < p0 + n; i++)
					shadow[i] = -1;
				break;
			default: {
				vm_prot_t prot = prots[rnd(&s) % 3];
				bool whole = true;

				for (i = p0; i < p0 + n; i++)
					if (shadow[i] == -1)
						whole = false;
				error = uvm_map_protect(map, BASE + P(p0),
				    BASE + P(p0 + n), prot, false);
				cr_assert_eq(error, whole ? 0 : ENOMEM,
				    "seed %llu op %d: protect: %d",
				    (unsigned long long)seed, op, error);
				if (error == 0)
					for (i = p0; i < p0 + n; i++)
						shadow[i] = prot;
				break;
			}
			}
			audit(map);
			/* every page agrees with the shadow */
			vm_map_lock_read(map);
			nmapped = 0;
			for (i = 0; i < R_PAGES; i++) {
				hit = uvm_map_lookup_entry(map, BASE + P(i),
				    &e);
				cr_assert_eq(hit, shadow[i] != -1,
				    "seed %llu op %d: page %d mapped %d, "
				    "shadow %d", (unsigned long long)seed, op,
				    i, hit, shadow[i]);
				if (hit) {
					nmapped++;
					cr_assert_eq(e->protection, shadow[i],
					    "seed %llu op %d: page %d prot",
					    (unsigned long long)seed, op, i);
				}
			}
			cr_assert_eq(map->size, P(nmapped));
			vm_map_unlock_read(map);
		}
		uvm_unmap(map, vm_map_min(map), vm_map_max(map));
		cr_assert_eq(map->nentries, 0);
		cr_assert_eq(uvm_mapent_count(), before);
	}
	uvmspace_free(vm);
}

/*
 * Placement.
 */

Test(uvm_map, fixed_overlap_fails)
{
	struct vmspace *vm = new_space();
	struct vm_map *map = &vm->vm_map;
	vaddr_t va;

	map_anon(map, BASE, P(4), VM_PROT_READ, 0);
	va = BASE + P(2);
	cr_assert_eq(uvm_map(map, &va, P(4), NULL, UVM_UNKNOWN_OFFSET, 0,
	    ANON_FLAGS(VM_PROT_READ)), ENOMEM);
	va = BASE - P(1);
	cr_assert_eq(uvm_map(map, &va, P(2), NULL, UVM_UNKNOWN_OFFSET, 0,
	    ANON_FLAGS(VM_PROT_READ)), ENOMEM);
	va = BASE + P(1);
	cr_assert_eq(uvm_map(map, &va, P(1), NULL, UVM_UNKNOWN_OFFSET, 0,
	    ANON_FLAGS(VM_PROT_READ)), ENOMEM);
	/* outside the map */
	va = vm_map_max(map) - P(1);
	cr_assert_eq(uvm_map(map, &va, P(2), NULL, UVM_UNKNOWN_OFFSET, 0,
	    ANON_FLAGS(VM_PROT_READ)), ENOMEM);
	cr_assert_eq(map->nentries, 1);
	cr_assert_eq(map->size, P(4));
	/* right after it is fine (and merges) */
	map_anon(map, BASE + P(4), P(2), VM_PROT_READ, 0);
	cr_assert_eq(map->nentries, 1);
	audit(map);
	uvmspace_free(vm);
}

Test(uvm_map, findspace_first_fit_with_alignment)
{
	struct vmspace *vm = new_space();
	struct vm_map *map = &vm->vm_map;
	struct vm_map_entry *prev;
	const vsize_t align = 64 * 1024;
	vaddr_t va, got;

	map_anon(map, BASE, P(1), VM_PROT_READ, 0);
	map_anon(map, BASE + P(3), P(1), VM_PROT_READ, 0);

	/* first fit from the hint: the 2-page gap */
	va = BASE;
	cr_assert_eq(uvm_map(map, &va, P(2), NULL, UVM_UNKNOWN_OFFSET, 0,
	    UVM_MAPFLAG(VM_PROT_READ, VM_PROT_ALL, UVM_INH_COPY,
	    UVM_ADV_NORMAL, UVM_FLAG_NOMERGE)), 0);
	cr_assert_eq(va, BASE + P(1));

	/* aligned: past the entries, at the next 64 KiB boundary */
	va = BASE;
	cr_assert_eq(uvm_map(map, &va, P(2), NULL, UVM_UNKNOWN_OFFSET, align,
	    UVM_MAPFLAG(VM_PROT_READ, VM_PROT_ALL, UVM_INH_COPY,
	    UVM_ADV_NORMAL, 0)), 0);
	cr_assert_eq(va & (align - 1), 0);
	cr_assert_eq(va, BASE + align);

	/* findspace itself, 1 MiB alignment; and fixed + misaligned fails */
	vm_map_lock_read(map);
	prev = uvm_map_findspace(map, BASE + 1, P(1), &got, NULL, 0,
	    1 << 20, 0);
	cr_assert_not_null(prev);
	cr_assert_eq(got & ((1 << 20) - 1), 0);
	cr_assert_geq(got, BASE + align + P(2));
	cr_assert_eq(prev, nth_entry(map, 3));
	cr_assert_null(uvm_map_findspace(map, BASE + align + P(1), P(1), &got,
	    NULL, 0, align, UVM_FLAG_FIXED));
	/* a hint past the end wraps around to the map's start */
	prev = uvm_map_findspace(map, vm_map_max(map) - P(1), P(2), &got,
	    NULL, 0, 0, 0);
	cr_assert_not_null(prev);
	cr_assert_eq(got, vm_map_min(map));
	cr_assert_eq(prev, &map->header);
	vm_map_unlock_read(map);
	audit(map);
	uvmspace_free(vm);
}

Test(uvm_map, merges_adjacent_anonymous_mappings)
{
	struct vmspace *vm = new_space();
	struct vm_map *map = &vm->vm_map;
	vm_prot_t rw = VM_PROT_READ | VM_PROT_WRITE;

	map_anon(map, BASE, P(2), rw, 0);
	map_anon(map, BASE + P(2), P(2), rw, 0);
	cr_assert_eq(map->nentries, 1, "same attributes: one entry");
	expect_entry(nth_entry(map, 0), BASE, BASE + P(4), rw);
	cr_assert_eq(map->size, P(4));

	map_anon(map, BASE + P(4), P(1), rw, UVM_FLAG_NOMERGE);
	cr_assert_eq(map->nentries, 2, "NOMERGE");
	map_anon(map, BASE + P(5), P(1), VM_PROT_READ, 0);
	cr_assert_eq(map->nentries, 3, "different protection");
	audit(map);

	/* unmapping the middle of a merged entry splits it */
	uvm_unmap(map, BASE + P(1), BASE + P(2));
	cr_assert_eq(map->nentries, 4);
	audit(map);
	uvmspace_free(vm);
}

/*
 * Protection.
 */

Test(uvm_map, protect_beyond_maxprot_fails)
{
	struct vmspace *vm = new_space();
	struct vm_map *map = &vm->vm_map;
	vaddr_t va = BASE;
	vm_prot_t rw = VM_PROT_READ | VM_PROT_WRITE;

	cr_assert_eq(uvm_map(map, &va, P(4), NULL, UVM_UNKNOWN_OFFSET, 0,
	    UVM_MAPFLAG(rw, rw, UVM_INH_COPY, UVM_ADV_NORMAL,
	    UVM_FLAG_FIXED | UVM_FLAG_COPYONW)), 0);
	/* prot beyond maxprot is refused by uvm_map too */
	va = BASE + P(8);
	cr_assert_eq(uvm_map(map, &va, P(1), NULL, UVM_UNKNOWN_OFFSET, 0,
	    UVM_MAPFLAG(VM_PROT_ALL, rw, UVM_INH_COPY, UVM_ADV_NORMAL,
	    UVM_FLAG_FIXED)), EACCES);

	cr_assert_eq(uvm_map_protect(map, BASE + P(1), BASE + P(2),
	    VM_PROT_ALL, false), EACCES);
	cr_assert_eq(map->nentries, 1, "a refused protect changes nothing");
	expect_entry(nth_entry(map, 0), BASE, BASE + P(4), rw);

	/* lower the maximum: protection follows it down */
	cr_assert_eq(uvm_map_protect(map, BASE, BASE + P(4), VM_PROT_READ,
	    true), 0);
	cr_assert_eq(nth_entry(map, 0)->max_protection, VM_PROT_READ);
	cr_assert_eq(nth_entry(map, 0)->protection, VM_PROT_READ);
	cr_assert_eq(uvm_map_protect(map, BASE, BASE + P(4), rw, false),
	    EACCES);
	/* a hole in the range */
	cr_assert_eq(uvm_map_protect(map, BASE, BASE + P(5), VM_PROT_READ,
	    false), ENOMEM);
	/* other attributes */
	cr_assert_eq(uvm_map_inherit(map, BASE, BASE + P(1),
	    MAP_INHERIT_NONE), 0);
	cr_assert_eq(nth_entry(map, 0)->inheritance, MAP_INHERIT_NONE);
	cr_assert_eq(nth_entry(map, 1)->inheritance, MAP_INHERIT_COPY);
	cr_assert_eq(uvm_map_inherit(map, BASE, BASE + P(1), 7), EINVAL);
	cr_assert_eq(uvm_map_advice(map, BASE + P(3), BASE + P(4),
	    UVM_ADV_SEQUENTIAL), 0);
	cr_assert_eq(nth_entry(map, 2)->advice, UVM_ADV_SEQUENTIAL);
	cr_assert_eq(uvm_map_advice(map, BASE, BASE + P(1), 6), EINVAL);
	audit(map);
	uvmspace_free(vm);
}

Test(uvm_map, checkprot)
{
	struct vmspace *vm = new_space();
	struct vm_map *map = &vm->vm_map;
	vm_prot_t rw = VM_PROT_READ | VM_PROT_WRITE;

	map_anon(map, BASE, P(2), rw, 0);
	map_anon(map, BASE + P(2), P(2), VM_PROT_READ, 0);
	map_anon(map, BASE + P(6), P(2), rw, 0);

	vm_map_lock_read(map);
	cr_assert(uvm_map_checkprot(map, BASE, BASE + P(4), VM_PROT_READ));
	cr_assert(uvm_map_checkprot(map, BASE, BASE + P(2), rw));
	cr_assert_not(uvm_map_checkprot(map, BASE, BASE + P(3), rw));
	cr_assert_not(uvm_map_checkprot(map, BASE, BASE + P(7), VM_PROT_READ),
	    "a hole");
	cr_assert_not(uvm_map_checkprot(map, BASE - P(1), BASE + P(1),
	    VM_PROT_READ), "starts unmapped");
	cr_assert(uvm_map_checkprot(map, BASE + P(6), BASE + P(8), rw));
	vm_map_unlock_read(map);
	uvmspace_free(vm);
}

/*
 * The map lock.
 */

enum { LK_READ, LK_WRITE, LK_TRY };

struct lk_helper {
	struct vm_map		*map;
	int			op;
	atomic_int		state;	/* 1 locking, 2 holding, 3 done */
	atomic_int		go;	/* release when set */
	atomic_int		got;	/* try result */
};

static void *
lk_helper(void *arg)
{
	struct lk_helper *h = arg;

	atomic_store(&h->state, 1);
	switch (h->op) {
	case LK_READ:
		vm_map_lock_read(h->map);
		atomic_store(&h->got, 1);
		break;
	case LK_WRITE:
		vm_map_lock(h->map);
		atomic_store(&h->got, 1);
		break;
	default:
		atomic_store(&h->got, vm_map_lock_try(h->map) ? 1 : 0);
		break;
	}
	atomic_store(&h->state, 2);
	while (!atomic_load(&h->go))
		sched_yield();
	if (atomic_load(&h->got)) {
		if (h->op == LK_READ)
			vm_map_unlock_read(h->map);
		else
			vm_map_unlock(h->map);
	}
	atomic_store(&h->state, 3);
	return NULL;
}

static void
lk_start(pthread_t *t, struct lk_helper *h)
{
	cr_assert_eq(host_thread_create(t, "lk_helper", lk_helper, h), 0);
}

/* Writers waiting for the rwlock itself. */
static int
rw_waiting_writers(krwlock_t *rw)
{
	int n;

	pthread_mutex_lock(&rw->rw_mtx);
	n = rw->rw_wwait;
	pthread_mutex_unlock(&rw->rw_mtx);
	return n;
}

/* Someone waits for the map to be unbusied. */
static bool
busy_waiters(struct vm_map *map)
{
	bool w;

	mutex_enter(&map->misc_lock);
	w = cv_has_waiters(&map->busy_cv);
	mutex_exit(&map->misc_lock);
	return w;
}

Test(uvm_map, lock_read_read_concurrent)
{
	struct vmspace *vm = new_space();
	struct lk_helper h = { .map = &vm->vm_map, .op = LK_READ };
	pthread_t t;

	vm_map_lock_read(&vm->vm_map);
	lk_start(&t, &h);
	WAIT_FOR(atomic_load(&h.state) == 2);	/* in beside us */
	atomic_store(&h.go, 1);
	pthread_join(t, NULL);
	vm_map_unlock_read(&vm->vm_map);
	uvmspace_free(vm);
}

Test(uvm_map, lock_write_exclusive)
{
	struct vmspace *vm = new_space();
	struct vm_map *map = &vm->vm_map;
	struct lk_helper w = { .map = map, .op = LK_WRITE };
	struct lk_helper r = { .map = map, .op = LK_READ };
	pthread_t tw, tr;

	/* a reader holds it: a writer waits */
	vm_map_lock_read(map);
	lk_start(&tw, &w);
	WAIT_FOR(rw_waiting_writers(&map->lock) == 1);
	cr_assert_eq(atomic_load(&w.state), 1);
	vm_map_unlock_read(map);
	WAIT_FOR(atomic_load(&w.state) == 2);

	/* the writer holds it: a reader waits */
	lk_start(&tr, &r);
	WAIT_FOR(atomic_load(&r.state) == 1);
	usleep(50 * 1000);
	cr_assert_eq(atomic_load(&r.state), 1, "a reader got in beside a "
	    "writer");
	atomic_store(&w.go, 1);
	WAIT_FOR(atomic_load(&r.state) == 2);
	atomic_store(&r.go, 1);
	pthread_join(tw, NULL);
	pthread_join(tr, NULL);
	uvmspace_free(vm);
}

Test(uvm_map, busy_blocks_other_writers_until_unbusy)
{
	struct vmspace *vm = new_space();
	struct vm_map *map = &vm->vm_map;
	struct lk_helper w = { .map = map, .op = LK_WRITE };
	struct lk_helper t1 = { .map = map, .op = LK_TRY };
	struct lk_helper r = { .map = map, .op = LK_READ };
	pthread_t tw, tt, tr;
	unsigned int ts;

	vm_map_lock(map);
	vm_map_busy(map);
	vm_map_unlock(map);

	/* another writer waits for the unbusy, not for the lock */
	lk_start(&tw, &w);
	WAIT_FOR(busy_waiters(map));
	cr_assert_eq(atomic_load(&w.state), 1);
	/* a try fails; a reader gets in */
	lk_start(&tt, &t1);
	WAIT_FOR(atomic_load(&t1.state) == 2);
	cr_assert_eq(atomic_load(&t1.got), 0);
	atomic_store(&t1.go, 1);
	lk_start(&tr, &r);
	WAIT_FOR(atomic_load(&r.state) == 2);
	atomic_store(&r.go, 1);
	pthread_join(tt, NULL);
	pthread_join(tr, NULL);

	/* the busy holder itself relocks */
	ts = map->timestamp;
	vm_map_lock(map);
	vm_map_unlock(map);
	cr_assert_eq(map->timestamp, ts + 1);
	cr_assert_eq(atomic_load(&w.state), 1);

	vm_map_unbusy(map);
	WAIT_FOR(atomic_load(&w.state) == 2);
	atomic_store(&w.go, 1);
	pthread_join(tw, NULL);
	uvmspace_free(vm);
}

Test(uvm_map, timestamp_counts_write_unlocks)
{
	struct vmspace *vm = new_space();
	struct vm_map *map = &vm->vm_map;
	unsigned int ts = map->timestamp;

	vm_map_lock(map);
	cr_assert(vm_map_locked_p(map));
	vm_map_unlock(map);
	cr_assert_eq(map->timestamp, ts + 1);
	vm_map_lock_read(map);
	cr_assert_not(vm_map_locked_p(map));
	vm_map_unlock_read(map);
	cr_assert_eq(map->timestamp, ts + 1, "reads do not count");
	vm_map_lock(map);
	vm_map_downgrade(map);
	cr_assert_eq(map->timestamp, ts + 2);
	cr_assert(vm_map_upgrade(map));
	cr_assert(vm_map_locked_p(map));
	vm_map_unlock(map);
	cr_assert_eq(map->timestamp, ts + 3);
	map_anon(map, BASE, P(1), VM_PROT_READ, 0);
	cr_assert_gt(map->timestamp, ts + 3, "uvm_map writes");
	uvmspace_free(vm);
}

Test(uvm_map, lock_try_fails_while_held)
{
	struct vmspace *vm = new_space();
	struct vm_map *map = &vm->vm_map;
	struct lk_helper a = { .map = map, .op = LK_TRY };
	struct lk_helper b = { .map = map, .op = LK_TRY };
	struct lk_helper c = { .map = map, .op = LK_TRY };
	struct lk_helper r = { .map = map, .op = LK_READ };
	pthread_t t;
	vaddr_t va = BASE;

	vm_map_lock(map);
	lk_start(&t, &a);
	WAIT_FOR(atomic_load(&a.state) == 2);
	cr_assert_eq(atomic_load(&a.got), 0);
	/* and uvm_map with TRYLOCK says EAGAIN (from another thread) */
	atomic_store(&a.go, 1);
	pthread_join(t, NULL);
	vm_map_unlock(map);

	vm_map_lock_read(map);
	lk_start(&t, &b);
	WAIT_FOR(atomic_load(&b.state) == 2);
	cr_assert_eq(atomic_load(&b.got), 0);
	atomic_store(&b.go, 1);
	pthread_join(t, NULL);
	/* the upgrade fails while another reader is in */
	lk_start(&t, &r);
	WAIT_FOR(atomic_load(&r.state) == 2);
	cr_assert_not(vm_map_upgrade(map));
	atomic_store(&r.go, 1);
	pthread_join(t, NULL);
	vm_map_unlock_read(map);

	lk_start(&t, &c);
	WAIT_FOR(atomic_load(&c.state) == 2);
	cr_assert_eq(atomic_load(&c.got), 1, "free: the try succeeds");
	atomic_store(&c.go, 1);
	pthread_join(t, NULL);
	cr_assert_eq(uvm_map(map, &va, P(1), NULL, UVM_UNKNOWN_OFFSET, 0,
	    ANON_FLAGS(VM_PROT_READ) | UVM_FLAG_TRYLOCK), 0);
	uvmspace_free(vm);
}

/*
 * Wiring (needs the fault handler, amaps and anons).
 */

Test(uvm_map, pageable_wires_and_unwires)
{
	struct vmspace *vm = new_space();
	struct vm_map *map = &vm->vm_map;
	vm_prot_t rw = VM_PROT_READ | VM_PROT_WRITE;
	int wired0 = uvmexp.wired;
	paddr_t pa;
	int i;

	map_anon(map, BASE, P(8), rw, 0);
	cr_assert_eq(uvm_map_pageable(map, BASE + P(2), BASE + P(6), false,
	    0), 0);
	audit(map);
	cr_assert_eq(map->nentries, 3);
	cr_assert_eq(nth_entry(map, 1)->wired_count, 1);
	cr_assert_eq(nth_entry(map, 0)->wired_count, 0);
	cr_assert_not(UVM_ET_ISNEEDSCOPY(nth_entry(map, 1)));
	cr_assert_not_null(nth_entry(map, 1)->aref.ar_amap);
	cr_assert_eq(uvmexp.wired, wired0 + 4);
	cr_assert_eq(pmap_wired_count(map->pmap), 4);
	for (i = 2; i < 6; i++)
		cr_assert(pmap_extract(map->pmap, BASE + P(i), &pa));
	cr_assert_not(pmap_extract(map->pmap, BASE + P(1), &pa));

	/* wiring twice counts twice; one unwire leaves it wired */
	cr_assert_eq(uvm_map_pageable(map, BASE + P(2), BASE + P(6), false,
	    0), 0);
	cr_assert_eq(nth_entry(map, 1)->wired_count, 2);
	cr_assert_eq(uvmexp.wired, wired0 + 4);
	cr_assert_eq(uvm_map_pageable(map, BASE + P(2), BASE + P(6), true,
	    0), 0);
	cr_assert_eq(uvmexp.wired, wired0 + 4);
	cr_assert_eq(uvm_map_pageable(map, BASE + P(2), BASE + P(6), true,
	    0), 0);
	cr_assert_eq(nth_entry(map, 1)->wired_count, 0);
	cr_assert_eq(uvmexp.wired, wired0);
	cr_assert_eq(pmap_wired_count(map->pmap), 0);
	/* unwiring what is not wired, and holes */
	cr_assert_eq(uvm_map_pageable(map, BASE, BASE + P(2), true, 0),
	    EFAULT);
	cr_assert_eq(uvm_map_pageable(map, BASE + P(6), BASE + P(10), false,
	    0), EFAULT);
	cr_assert_eq(nth_entry(map, 2)->wired_count, 0,
	    "a failed wiring gives its counts back");

	/* unmapping a wired range unwires it */
	cr_assert_eq(uvm_map_pageable(map, BASE, BASE + P(8), false, 0), 0);
	cr_assert_eq(uvmexp.wired, wired0 + 8);
	uvm_unmap(map, BASE, BASE + P(8));
	cr_assert_eq(uvmexp.wired, wired0);
	audit(map);
	uvmspace_free(vm);
}

Test(uvm_map, wirefuture_wires_new_mappings)
{
	struct vmspace *vm = new_space();
	struct vm_map *map = &vm->vm_map;
	int wired0 = uvmexp.wired;

	vm_map_modflags(map, VM_MAP_WIREFUTURE, 0);
	map_anon(map, BASE, P(3), VM_PROT_READ | VM_PROT_WRITE, 0);
	cr_assert_eq(nth_entry(map, 0)->wired_count, 1);
	cr_assert_eq(uvmexp.wired, wired0 + 3);
	/* an inaccessible mapping is not wired until it becomes accessible */
	map_anon(map, BASE + P(8), P(2), VM_PROT_NONE, 0);
	cr_assert_eq(nth_entry(map, 1)->wired_count, 0);
	cr_assert_eq(uvm_map_protect(map, BASE + P(8), BASE + P(10),
	    VM_PROT_READ, false), 0);
	cr_assert_eq(nth_entry(map, 1)->wired_count, 1);
	cr_assert_eq(uvmexp.wired, wired0 + 5);
	uvmspace_free(vm);
	cr_assert_eq(uvmexp.wired, wired0);
}

/*
 * Address spaces.
 */

Test(uvm_map, uvmspace_free_leaves_nothing_behind)
{
	struct vmspace *vm;
	struct vm_map *map;
	int ents0, free0, anons0, amaps0, wired0;
	vaddr_t va;

	/* warm the pools, then measure: pool pages count in kernel */
	vm = new_space();
	map_anon(&vm->vm_map, BASE, P(4), VM_PROT_READ | VM_PROT_WRITE, 0);
	uvmspace_free(vm);
	ents0 = uvm_mapent_count();
	free0 = uvmexp.free + uvmexp.kernel;
	anons0 = uvm_anon_count();
	amaps0 = amap_count();
	wired0 = uvmexp.wired;

	vm = new_space();
	map = &vm->vm_map;
	map_anon(map, BASE, P(16), VM_PROT_READ | VM_PROT_WRITE, 0);
	map_anon(map, BASE + P(32), P(4), VM_PROT_READ, 0);
	va = BASE + P(64);
	cr_assert_eq(uvm_map(map, &va, P(8), NULL, UVM_UNKNOWN_OFFSET, 0,
	    UVM_MAPFLAG(VM_PROT_READ | VM_PROT_WRITE, VM_PROT_ALL,
	    UVM_INH_SHARE, UVM_ADV_NORMAL, UVM_FLAG_FIXED | UVM_FLAG_OVERLAY)),
	    0);
	cr_assert_eq(uvm_map_protect(map, BASE + P(4), BASE + P(8),
	    VM_PROT_READ, false), 0);
	/* pages: wire some (faults them in through amaps and anons) */
	cr_assert_eq(uvm_map_pageable(map, BASE, BASE + P(8), false, 0), 0);
	cr_assert_eq(uvm_map_pageable(map, BASE + P(64), BASE + P(72), false,
	    0), 0);
	cr_assert_lt(uvmexp.free + uvmexp.kernel, free0);
	cr_assert_gt(uvm_mapent_count(), ents0);

	uvmspace_free(vm);
	cr_assert_eq(uvm_mapent_count(), ents0);
	cr_assert_eq(uvm_anon_count(), anons0);
	cr_assert_eq(amap_count(), amaps0);
	cr_assert_eq(uvmexp.wired, wired0);
	cr_assert_eq(uvmexp.free + uvmexp.kernel, free0,
	    "free %d + kernel %d, was %d", uvmexp.free, uvmexp.kernel, free0);
	/* the entry pool's free pages go back on reclaim */
	(void)uvm_mapent_reclaim();
	cr_assert_eq(uvmexp.free + uvmexp.kernel, free0);
}

Test(uvm_map, submap_and_reference_counts)
{
	struct vm_map *sub;
	struct vm_map_entry *e;
	vaddr_t min = 0, max = 0;

	sub = uvm_km_suballoc(kernel_map, &min, &max, P(16), true, false,
	    NULL);
	cr_assert_eq(sub->ref_count, 2, "the creator's and the entry's");
	vm_map_lock_read(kernel_map);
	cr_assert(uvm_map_lookup_entry(kernel_map, min, &e));
	cr_assert(UVM_ET_ISSUBMAP(e));
	cr_assert_eq(e->object.sub_map, sub);
	vm_map_unlock_read(kernel_map);
	/* the entry's reference goes with the unmap */
	uvm_unmap(kernel_map, min, max);
	cr_assert_eq(sub->ref_count, 1);
	uvm_map_deallocate(sub);
	audit(kernel_map);
}

Test(uvm_map, pageable_failure_unwinds_wiring)
{
	struct vmspace *vm = new_space();
	struct vm_map *map = &vm->vm_map;
	vm_prot_t rw = VM_PROT_READ | VM_PROT_WRITE;
	int wired0, n, i, left;
	vaddr_t *hog;

	map_anon(map, BASE, P(8), rw, 0);
	map_anon(map, BASE + P(8), P(8), rw, UVM_FLAG_NOMERGE);
	map_anon(map, BASE + P(16), P(8), rw, UVM_FLAG_NOMERGE);
	wired0 = uvmexp.wired;

	/* take memory until about 12 pages are left above the reserve */
	hog = calloc((size_t)uvmexp.npages, sizeof(*hog));
	cr_assert_not_null(hog);
	for (n = 0; uvmexp_read(free) > uvmexp.reserve_kernel + 12; n++) {
		hog[n] = uvm_km_alloc_poolpage1(NULL, NULL);
		cr_assert_neq(hog[n], 0);
	}
	left = uvmexp_read(free);

	cr_assert_eq(uvm_map_pageable(map, BASE, BASE + P(24), false, 0),
	    ENOMEM);
	for (i = 0; i < 3; i++)
		cr_assert_eq(nth_entry(map, i)->wired_count, 0,
		    "entry %d keeps a wiring", i);
	cr_assert_eq(uvmexp.wired, wired0);
	cr_assert_eq(pmap_wired_count(map->pmap), 0);
	audit(map);

	while (n-- > 0)
		uvm_km_free_poolpage1(NULL, hog[n]);
	free(hog);
	/* with memory back, the same wiring works */
	cr_assert_eq(uvm_map_pageable(map, BASE, BASE + P(24), false, 0), 0);
	cr_assert_eq(uvmexp.wired, wired0 + 24);
	cr_assert_gt(left, 0);
	uvmspace_free(vm);
	cr_assert_eq(uvmexp.wired, wired0);
}

/*
 * Several threads on one map: each works its own window (map, unmap,
 * protect, wire and unwire) while the others do the same and audit.
 */

#define C_THREADS	4
#define C_WINDOW	128	/* pages per thread */
#define C_OPS		400

struct churn {
	struct vm_map	*map;
	int		idx;
	atomic_int	*bad;
	char		why[160];
};

static void *
churner(void *arg)
{
	struct churn *c = arg;
	struct vm_map *map = c->map;
	vaddr_t base = BASE + P(c->idx * C_WINDOW), va;
	uint64_t s = 0x1234567ull * (uint64_t)(c->idx + 1);
	int op, p0, n, error;
	bool ok;

	for (op = 0; op < C_OPS; op++) {
		p0 = (int)(rnd(&s) % (C_WINDOW - 16));
		n = 1 + (int)(rnd(&s) % 16);
		va = base + P(p0);
		switch (rnd(&s) % 5) {
		case 0:
		case 1:
			error = uvm_map(map, &va, P(n), NULL,
			    UVM_UNKNOWN_OFFSET, 0, ANON_FLAGS(VM_PROT_READ |
			    VM_PROT_WRITE));
			if (error != 0 && error != ENOMEM)
				atomic_fetch_add(c->bad, 1);
			break;
		case 2:
			uvm_unmap(map, va, va + P(n));
			break;
		case 3:
			error = uvm_map_protect(map, va, va + P(n),
			    VM_PROT_READ, false);
			if (error != 0 && error != ENOMEM)
				atomic_fetch_add(c->bad, 1);
			break;
		default:
			/* wire what is there (EFAULT on holes), then unwire */
			error = uvm_map_pageable(map, va, va + P(n), false, 0);
			if (error == 0)
				error = uvm_map_pageable(map, va, va + P(n),
				    true, 0);
			if (error != 0 && error != EFAULT)
				atomic_fetch_add(c->bad, 1);
			break;
		}
		vm_map_lock_read(map);
		ok = uvm_map_audit(map, c->why, sizeof(c->why));
		vm_map_unlock_read(map);
		if (!ok) {
			atomic_fetch_add(c->bad, 1);
			return NULL;
		}
	}
	return NULL;
}

Test(uvm_map, concurrent_churn_keeps_invariants)
{
	struct vmspace *vm = new_space();
	struct churn c[C_THREADS];
	pthread_t t[C_THREADS];
	atomic_int bad = 0;
	int i, ents0 = uvm_mapent_count(), wired0 = uvmexp.wired;

	for (i = 0; i < C_THREADS; i++) {
		memset(&c[i], 0, sizeof(c[i]));
		c[i].map = &vm->vm_map;
		c[i].idx = i;
		c[i].bad = &bad;
		cr_assert_eq(host_thread_create(&t[i], "churner", churner,
		    &c[i]), 0);
	}
	for (i = 0; i < C_THREADS; i++)
		pthread_join(t[i], NULL);
	for (i = 0; i < C_THREADS; i++)
		cr_assert_eq(c[i].why[0], '\0', "thread %d: %s", i, c[i].why);
	cr_assert_eq(atomic_load(&bad), 0);
	audit(&vm->vm_map);
	cr_assert_eq(uvmexp.wired, wired0);
	uvmspace_free(vm);
	cr_assert_eq(uvm_mapent_count(), ents0);
}
