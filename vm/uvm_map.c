/*
 * vm/uvm_map.c: address maps (NetBSD/OpenBSD uvm_map.c, our own code).
 *
 * A map is a sorted, non-overlapping, doubly linked list of entries
 * behind a sentinel (map->header, whose start and end are the map's
 * bounds), plus a red-black tree of the same entries keyed by start for
 * O(log n) lookup, plus a lookup hint (the last entry found).  All of it
 * is [m]: changed only with the map write-locked.
 *
 * The map lock is NetBSD's: a krwlock (class "vm_map", shared by every
 * map) and a "busy" owner.  A thread that must sleep with the map stable
 * (wiring: faults that sleep for pages) marks the map busy, drops the
 * lock, and works: other writers wait in vm_map_lock until it unbusies,
 * readers (faults) go on.  The busy holder itself may relock.  The
 * timestamp counts write unlocks, so a fault that slept can tell whether
 * the map changed (uvmfault_relock).
 *
 * Entries come from a pool whose pages are RAM pages of the machine
 * mapped through the direct map (uvm_km_pool_allocator), so allocating
 * an entry for kernel_map never needs kernel_map.
 *
 * References: an entry owns one reference to its object (or submap) and
 * one to its amap, covering the entry's slots (the amap counts them per
 * slot: amap_ref/amap_unref get ar_pageoff and the page count, and
 * clipping uses amap_splitref).  uvm_map consumes the caller's object
 * reference; the entries that clipping makes take their own.  Kernel objects
 * (UVM_OBJ_KERN) are never referenced or detached: when kernel memory
 * is unmapped its pages are freed at once (uvm_km_pgremove), as the seed
 * uvm_km.c says.
 *
 * Lock order: map > amap > object > page queues > pmap; the map's
 * misc_lock (busy, flags) is taken inside the map lock or alone.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/lwp.h"
#include "host/pool.h"
#include "host/sleepq.h"
#include "host/thread.h"
#include "uvm.h"
#include "uvm_amap.h"
#include "uvm_fault.h"
#include "uvm_km.h"
#include "uvm_map.h"
#include "uvm_pager.h"

/* The map entry pool: pages from the arena through the direct map. */
static struct pool uvm_map_entry_pool;
static int uvm_map_entry_count;			/* [a] entries allocated */

/* local prototypes */
static struct vm_map_entry *uvm_mapent_alloc(struct vm_map *, int);
static void uvm_mapent_free(struct vm_map_entry *);
static void uvm_mapent_copy(const struct vm_map_entry *,
    struct vm_map_entry *);
static void uvm_map_entry_link(struct vm_map *, struct vm_map_entry *,
    struct vm_map_entry *);
static void uvm_map_entry_unlink(struct vm_map *, struct vm_map_entry *);
static void uvm_map_entry_unwire(struct vm_map *, struct vm_map_entry *);
static void uvm_map_entry_ref(struct vm_map_entry *);
static bool uvm_map_mergeable(const struct vm_map_entry *, vaddr_t,
    struct uvm_object *, int, vm_prot_t, vm_prot_t, vm_inherit_t, int, int);
static void uvm_map_range_clamp(struct vm_map *, vaddr_t *, vaddr_t *);
static struct vm_map_entry *uvm_map_hint_load(struct vm_map *);
static void uvm_map_hint_store(struct vm_map *, struct vm_map_entry *);
static struct host_thread *vm_map_busy_owner(struct vm_map *);

RB_GENERATE(uvm_map_addr, vm_map_entry, rb_entry, uvm_mapentry_addrcmp)

int
uvm_mapentry_addrcmp(const struct vm_map_entry *a,
    const struct vm_map_entry *b)
{
	return a->start < b->start ? -1 : a->start > b->start;
}

/*
 * The hint is read and written by lookups that hold the map only
 * read-locked, so it is accessed atomically; the entry it names cannot
 * go away under a read lock (unlink moves the hint first).
 */
static struct vm_map_entry *
uvm_map_hint_load(struct vm_map *map)
{
	return __atomic_load_n(&map->hint, __ATOMIC_RELAXED);
}

static void
uvm_map_hint_store(struct vm_map *map, struct vm_map_entry *entry)
{
	__atomic_store_n(&map->hint, entry, __ATOMIC_RELAXED);
}

/*
 * uvm_map_init: the map entry pool.
 * => at boot, after uvm_page_init (its pages are RAM pages)
 */
void
uvm_map_init(void)
{
	pool_init(&uvm_map_entry_pool, sizeof(struct vm_map_entry), 0, 0, 0,
	    "vmmpepl", &uvm_km_pool_allocator, IPL_NONE);
	__atomic_store_n(&uvm_map_entry_count, 0, __ATOMIC_RELAXED);
}

int
uvm_mapent_count(void)
{
	return __atomic_load_n(&uvm_map_entry_count, __ATOMIC_RELAXED);
}

int
uvm_mapent_reclaim(void)
{
	return pool_reclaim(&uvm_map_entry_pool);
}

/*
 * uvm_mapent_alloc: a zeroed entry for map.
 * => UVM_FLAG_NOWAIT in flags: never sleeps, may return NULL;
 *    otherwise may sleep (the map may be locked: the pool's pages come
 *    from the free lists, never from a map)
 */
static struct vm_map_entry *
uvm_mapent_alloc(struct vm_map *map, int flags)
{
	struct vm_map_entry *me;

	me = pool_get(&uvm_map_entry_pool,
	    ((flags & UVM_FLAG_NOWAIT) ? PR_NOWAIT : PR_WAITOK) | PR_ZERO);
	if (me == NULL)
		return NULL;
	if (map->pmap == pmap_kernel())
		me->flags |= UVM_MAP_KERNEL;
	__atomic_fetch_add(&uvm_map_entry_count, 1, __ATOMIC_RELAXED);
	return me;
}

/* uvm_mapent_free: => never sleeps */
static void
uvm_mapent_free(struct vm_map_entry *me)
{
	__atomic_fetch_sub(&uvm_map_entry_count, 1, __ATOMIC_RELAXED);
	pool_put(&uvm_map_entry_pool, me);
}

/* uvm_mapent_copy: the mapping part of src into dst (not the links). */
static void
uvm_mapent_copy(const struct vm_map_entry *src, struct vm_map_entry *dst)
{
	dst->start = src->start;
	dst->end = src->end;
	dst->object = src->object;
	dst->offset = src->offset;
	dst->etype = src->etype;
	dst->protection = src->protection;
	dst->max_protection = src->max_protection;
	dst->inheritance = src->inheritance;
	dst->wired_count = src->wired_count;
	dst->advice = src->advice;
	dst->aref = src->aref;
	dst->flags = src->flags;
}

/*
 * uvm_map_entry_link: put entry in the list after `after` and in the
 * tree.  => map write-locked
 */
static void
uvm_map_entry_link(struct vm_map *map, struct vm_map_entry *after,
    struct vm_map_entry *entry)
{
	struct vm_map_entry *dup;

	entry->prev = after;
	entry->next = after->next;
	after->next->prev = entry;
	after->next = entry;
	dup = RB_INSERT(uvm_map_addr, &map->rb_head, entry);
	KASSERTMSG(dup == NULL, "uvm_map_entry_link: map %p: entry at %#lx "
	    "already in the tree", (void *)map, (unsigned long)entry->start);
	map->nentries++;
}

/* uvm_map_entry_unlink: => map write-locked */
static void
uvm_map_entry_unlink(struct vm_map *map, struct vm_map_entry *entry)
{
	if (uvm_map_hint_load(map) == entry)
		uvm_map_hint_store(map, entry->prev);
	RB_REMOVE(uvm_map_addr, &map->rb_head, entry);
	entry->prev->next = entry->next;
	entry->next->prev = entry->prev;
	map->nentries--;
}

/*
 * uvm_map_entry_ref: take the references a copy of an entry needs (its
 * object or submap; the amap is the caller's business).
 */
static void
uvm_map_entry_ref(struct vm_map_entry *entry)
{
	struct uvm_object *uobj;

	if (UVM_ET_ISSUBMAP(entry)) {
		uvm_map_reference(entry->object.sub_map);
		return;
	}
	uobj = entry->object.uvm_obj;
	if (UVM_ET_ISOBJ(entry) && uobj != NULL &&
	    !UVM_OBJ_IS_KERN_OBJECT(uobj) && uobj->pgops->pgo_reference != NULL)
		uobj->pgops->pgo_reference(uobj);
}

/*
 * uvm_map_entry_unwire: unwire all of entry.
 * => map locked (write)
 */
static void
uvm_map_entry_unwire(struct vm_map *map, struct vm_map_entry *entry)
{
	entry->wired_count = 0;
	uvm_fault_unwire_locked(map, entry->start, entry->end);
}

/* Clamp [*start, *end) to the map's bounds (VM_MAP_RANGE_CHECK). */
static void
uvm_map_range_clamp(struct vm_map *map, vaddr_t *start, vaddr_t *end)
{
	if (*start < vm_map_min(map))
		*start = vm_map_min(map);
	if (*end > vm_map_max(map))
		*end = vm_map_max(map);
	if (*start > *end)
		*start = *end;
}

/*
 * Setup, creation, references.
 */

/*
 * uvm_map_setup: make map an empty map of [min, max).  The pmap is the
 * caller's to set (the seed sets it right after).
 * => flags: VM_MAP_* (the seed passes its `pageable' boolean, which is
 *    VM_MAP_PAGEABLE)
 */
void
uvm_map_setup(struct vm_map *map, vaddr_t min, vaddr_t max, int flags)
{
	KASSERT((min & PAGE_MASK) == 0 && (max & PAGE_MASK) == 0 && min < max);
	map->pmap = NULL;
	rw_init_class(&map->lock, "vm_map");
	mutex_init_class(&map->misc_lock, MUTEX_DEFAULT, IPL_NONE,
	    "vm_map_misc");
	cv_init(&map->busy_cv, "vmmapbsy");
	map->busy = NULL;
	map->busy_thread = NULL;
	memset(&map->header, 0, sizeof(map->header));
	map->header.next = map->header.prev = &map->header;
	map->header.start = min;
	map->header.end = max;
	RB_INIT(&map->rb_head);
	map->nentries = 0;
	map->size = 0;
	map->ref_count = 1;
	map->hint = &map->header;
	map->flags = flags;
	map->timestamp = 0;
}

/*
 * uvm_map_create: a new map of [min, max) on pmap (whose reference the
 * map takes over).  => may sleep (calloc; not on the fault path)
 */
struct vm_map *
uvm_map_create(struct pmap *pmap, vaddr_t min, vaddr_t max, int flags)
{
	struct vm_map *map;

	map = calloc(1, sizeof(*map));
	if (map == NULL)
		return NULL;
	uvm_map_setup(map, min, max, flags);
	map->pmap = pmap;
	return map;
}

void
uvm_map_reference(struct vm_map *map)
{
	__atomic_fetch_add(&map->ref_count, 1, __ATOMIC_RELAXED);
}

/*
 * uvm_map_deallocate: drop a reference to a map made by uvm_map_create;
 * the last one unmaps everything, drops the pmap and frees the map.
 * => map unlocked; may sleep
 */
void
uvm_map_deallocate(struct vm_map *map)
{
	int c;

	c = __atomic_sub_fetch(&map->ref_count, 1, __ATOMIC_ACQ_REL);
	KASSERT(c >= 0);
	if (c > 0)
		return;
	vm_map_modflags(map, VM_MAP_DYING, 0);
	uvm_unmap(map, vm_map_min(map), vm_map_max(map));
	KASSERT(map->nentries == 0);
	if (map->pmap != NULL)
		pmap_destroy(map->pmap);
	cv_destroy(&map->busy_cv);
	mutex_destroy(&map->misc_lock);
	rw_destroy(&map->lock);
	free(map);
}

void
vm_map_modflags(struct vm_map *map, int set, int clear)
{
	mutex_enter(&map->misc_lock);
	map->flags = (map->flags | set) & ~clear;
	mutex_exit(&map->misc_lock);
}

int
vm_map_flags(struct vm_map *map)
{
	int flags;

	mutex_enter(&map->misc_lock);
	flags = map->flags;
	mutex_exit(&map->misc_lock);
	return flags;
}

/*
 * The map lock.
 */

/* Who holds map busy (NULL: nobody).  => misc_lock held */
static struct host_thread *
vm_map_busy_owner(struct vm_map *map)
{
	KASSERT(mutex_owned(&map->misc_lock));
	return map->busy_thread;
}

/*
 * vm_map_lock: write-lock map, waiting while another thread holds it
 * busy.  => may sleep; map not locked by the caller
 */
void
vm_map_lock(struct vm_map *map)
{
	struct host_thread *self = host_thread_self();
	struct host_thread *owner;

	for (;;) {
		rw_enter(&map->lock, RW_WRITE);
		mutex_enter(&map->misc_lock);
		owner = vm_map_busy_owner(map);
		if (owner == NULL || owner == self) {
			mutex_exit(&map->misc_lock);
			break;
		}
		/* Busy: let go, and wait (interlocked) for the unbusy. */
		rw_exit(&map->lock);
		while ((owner = vm_map_busy_owner(map)) != NULL &&
		    owner != self)
			cv_wait(&map->busy_cv, &map->misc_lock);
		mutex_exit(&map->misc_lock);
	}
}

/*
 * vm_map_lock_try: write-lock map if that can be done at once.
 * => never sleeps; false if locked or busy (by another thread)
 */
bool
vm_map_lock_try(struct vm_map *map)
{
	struct host_thread *self = host_thread_self();
	struct host_thread *owner;

	if (!rw_tryenter(&map->lock, RW_WRITE))
		return false;
	mutex_enter(&map->misc_lock);
	owner = vm_map_busy_owner(map);
	mutex_exit(&map->misc_lock);
	if (owner != NULL && owner != self) {
		rw_exit(&map->lock);
		return false;
	}
	return true;
}

/* vm_map_lock_read: => may sleep (readers do not wait for busy) */
void
vm_map_lock_read(struct vm_map *map)
{
	rw_enter(&map->lock, RW_READ);
}

/* vm_map_unlock: => map write-locked by the caller; bumps timestamp */
void
vm_map_unlock(struct vm_map *map)
{
	KASSERT(rw_write_held(&map->lock));
	map->timestamp++;
	rw_exit(&map->lock);
}

void
vm_map_unlock_read(struct vm_map *map)
{
	KASSERT(rw_read_held(&map->lock));
	rw_exit(&map->lock);
}

/* vm_map_downgrade: write -> read.  Bumps timestamp (a write ended). */
void
vm_map_downgrade(struct vm_map *map)
{
	KASSERT(rw_write_held(&map->lock));
	map->timestamp++;
	rw_downgrade(&map->lock);
}

/*
 * vm_map_upgrade: read -> write, if that can be done at once (we are
 * the only reader and nobody else holds the map busy).
 * => false: still read-locked; the caller unlocks and relocks
 */
bool
vm_map_upgrade(struct vm_map *map)
{
	struct host_thread *self = host_thread_self();
	struct host_thread *owner;

	if (!rw_tryupgrade(&map->lock))
		return false;
	mutex_enter(&map->misc_lock);
	owner = vm_map_busy_owner(map);
	mutex_exit(&map->misc_lock);
	if (owner != NULL && owner != self) {
		rw_downgrade(&map->lock);
		return false;
	}
	return true;
}

/*
 * vm_map_busy: mark map busy by us: until vm_map_unbusy, other threads'
 * vm_map_lock waits (and their try fails) even while we do not hold the
 * lock.  => map write-locked by the caller
 */
void
vm_map_busy(struct vm_map *map)
{
	KASSERT(rw_write_held(&map->lock));
	mutex_enter(&map->misc_lock);
	KASSERT(map->busy_thread == NULL);
	map->busy = curlwp;
	map->busy_thread = host_thread_self();
	mutex_exit(&map->misc_lock);
}

/* vm_map_unbusy: => map busy by us, locked or not; never sleeps */
void
vm_map_unbusy(struct vm_map *map)
{
	mutex_enter(&map->misc_lock);
	KASSERT(map->busy_thread == host_thread_self());
	map->busy = NULL;
	map->busy_thread = NULL;
	cv_broadcast(&map->busy_cv);
	mutex_exit(&map->misc_lock);
}

bool
vm_map_locked_p(struct vm_map *map)
{
	return rw_write_held(&map->lock);
}

/*
 * Lookup.
 */

/*
 * uvm_map_lookup_entry: find the entry containing addr.
 * => map locked (read or write)
 * => true: *entry contains addr; false: *entry is the entry before addr
 *    (&map->header if none)
 */
bool
uvm_map_lookup_entry(struct vm_map *map, vaddr_t addr,
    struct vm_map_entry **entry)
{
	struct vm_map_entry *cur, *best, *n;

	KASSERT(rw_lock_held(&map->lock));

	/* The hint first: usually right, or just before. */
	cur = uvm_map_hint_load(map);
	if (cur == &map->header)
		cur = map->header.next;
	if (cur != &map->header && addr >= cur->start) {
		if (addr < cur->end) {
			*entry = cur;
			return true;
		}
		if (cur->next == &map->header || addr < cur->next->start) {
			*entry = cur;
			return false;
		}
	}

	/* The tree: the entry with the greatest start <= addr. */
	best = &map->header;
	n = RB_ROOT(&map->rb_head);
	while (n != NULL) {
		if (addr < n->start) {
			n = RB_LEFT(n, rb_entry);
		} else {
			best = n;
			if (addr < n->end)
				break;
			n = RB_RIGHT(n, rb_entry);
		}
	}
	*entry = best;
	if (best != &map->header)
		uvm_map_hint_store(map, best);
	return best != &map->header && addr < best->end;
}

/*
 * uvm_map_findspace: find length bytes of free VA, first fit from hint
 * (wrapping around to the map's start once), aligned to align (a power
 * of two, or 0).  With UVM_FLAG_FIXED only [hint, hint + length) will do.
 * => map locked
 * => returns the entry the new range goes after (maybe &map->header),
 *    with the address in *result; NULL if there is no room
 */
struct vm_map_entry *
uvm_map_findspace(struct vm_map *map, vaddr_t hint, vsize_t length,
    vaddr_t *result, struct uvm_object *uobj, voff_t uoffset, vsize_t align,
    int flags)
{
	struct vm_map_entry *entry, *next;
	vaddr_t start, end;
	bool wrapped;

	KASSERT(rw_lock_held(&map->lock));
	KASSERT((align & (align - 1)) == 0);
	if (align < PAGE_SIZE)
		align = 0;
	if (length == 0)
		return NULL;

	if (flags & UVM_FLAG_FIXED) {
		end = hint + length;
		if (hint < vm_map_min(map) || end > vm_map_max(map) ||
		    end < hint)
			return NULL;
		if (align != 0 && (hint & (align - 1)) != 0)
			return NULL;
		if (uvm_map_lookup_entry(map, hint, &entry))
			return NULL;		/* in use */
		next = entry->next;
		if (next != &map->header && next->start < end)
			return NULL;		/* overlaps the next one */
		*result = hint;
		return entry;
	}

	if (hint < vm_map_min(map) || hint >= vm_map_max(map))
		hint = vm_map_min(map);
	wrapped = hint == vm_map_min(map);
	start = trunc_page(hint);
again:
	if (uvm_map_lookup_entry(map, start, &entry))
		start = entry->end;
	for (;;) {
		/* entry: the last one below the gap being tried */
		if (align != 0) {
			end = (start + align - 1) & ~(align - 1);
			if (end < start)
				break;		/* wrapped around */
			start = end;
		}
		end = start + length;
		if (end > vm_map_max(map) || end < start)
			break;
		next = entry->next;
		if (next == &map->header || end <= next->start) {
			*result = start;
			return entry;
		}
		entry = next;
		start = entry->end;
	}
	if (!wrapped) {
		wrapped = true;
		start = vm_map_min(map);
		goto again;
	}
	return NULL;
}

/*
 * Mapping.
 */

/* Can a new anonymous mapping at start extend prev?  => map locked */
static bool
uvm_map_mergeable(const struct vm_map_entry *prev, vaddr_t start,
    struct uvm_object *uobj, int etype, vm_prot_t prot, vm_prot_t maxprot,
    vm_inherit_t inh, int advice, int flags)
{
	if ((flags & (UVM_FLAG_NOMERGE | UVM_FLAG_OVERLAY)) != 0)
		return false;
	if (uobj != NULL)
		return false;
	return prev->end == start &&
	    prev->object.uvm_obj == NULL &&
	    prev->aref.ar_amap == NULL &&
	    prev->etype == etype &&
	    prev->protection == prot &&
	    prev->max_protection == maxprot &&
	    prev->inheritance == inh &&
	    prev->advice == advice &&
	    prev->wired_count == 0;
}

/*
 * uvm_map: see uvm_map.h.  flags is UVM_MAPFLAG(prot, maxprot, inh,
 * advice, UVM_FLAG_*).
 * => the caller's reference to uobj goes to the mapping on success (it
 *    stays the caller's on failure)
 * => uoffset UVM_UNKNOWN_OFFSET: for kernel objects, the seed's rule
 *    (offset = va - vm_map_min(kernel_map)); else 0
 */
int
uvm_map(struct vm_map *map, vaddr_t *startp, vsize_t size,
    struct uvm_object *uobj, voff_t uoffset, vsize_t align, int flags)
{
	struct vm_map_entry *prev, *entry;
	vm_prot_t prot = UVM_PROTECTION(flags);
	vm_prot_t maxprot = UVM_MAXPROTECTION(flags);
	vm_inherit_t inh = UVM_INHERIT(flags);
	int advice = UVM_ADVICE(flags);
	int etype, error;
	vaddr_t start;
	bool wirefuture;

	if (size == 0 || (size & PAGE_MASK) != 0)
		return EINVAL;
	if ((prot & maxprot) != prot)
		return EACCES;
	if (advice > UVM_ADV_SEQUENTIAL)
		return EINVAL;
	if ((flags & UVM_FLAG_FIXED) && (*startp & PAGE_MASK) != 0)
		return EINVAL;

	etype = uobj != NULL ? UVM_ET_OBJ : 0;
	if (flags & UVM_FLAG_COPYONW) {
		etype |= UVM_ET_COPYONWRITE;
		/* an overlay has its own amap already: nothing to copy */
		if ((flags & UVM_FLAG_OVERLAY) == 0)
			etype |= UVM_ET_NEEDSCOPY;
	}

	if (flags & UVM_FLAG_TRYLOCK) {
		if (!vm_map_lock_try(map))
			return EAGAIN;
	} else {
		vm_map_lock(map);
	}

	for (;;) {
		prev = uvm_map_findspace(map, *startp, size, &start, uobj,
		    uoffset, align, flags);
		if (prev != NULL)
			break;
		if ((flags & UVM_FLAG_WAITVA) == 0 ||
		    (flags & (UVM_FLAG_FIXED | UVM_FLAG_TRYLOCK |
		    UVM_FLAG_NOWAIT)) != 0 ||
		    size > vm_map_max(map) - vm_map_min(map)) {
			vm_map_unlock(map);
			return ENOMEM;
		}
		/*
		 * Sleep for VA: VM_MAP_WANTVA is set and the sleep queued
		 * under misc_lock, which uvm_unmap_remove takes to wake us,
		 * so the wakeup cannot be lost after the map is unlocked.
		 */
		mutex_enter(&map->misc_lock);
		map->flags |= VM_MAP_WANTVA;
		vm_map_unlock(map);
		msleep(map, &map->misc_lock, PVM | PNORELOCK, "vmmapva", 0);
		vm_map_lock(map);
	}

	if (uobj != NULL) {
		if (uoffset == UVM_UNKNOWN_OFFSET) {
			if (UVM_OBJ_IS_KERN_OBJECT(uobj)) {
				KASSERT(kernel_map != NULL);
				uoffset = start - vm_map_min(kernel_map);
			} else {
				uoffset = 0;
			}
		}
	} else {
		uoffset = 0;
	}

	if (prev != &map->header && uvm_map_mergeable(prev, start, uobj,
	    etype, prot, maxprot, inh, advice, flags)) {
		/* Just extend the entry before: same attributes, no amap. */
		prev->end += size;
		entry = prev;
	} else {
		entry = uvm_mapent_alloc(map, flags);
		if (entry == NULL) {
			vm_map_unlock(map);
			return ENOMEM;
		}
		entry->start = start;
		entry->end = start + size;
		entry->object.uvm_obj = uobj;
		entry->offset = uoffset;
		entry->etype = etype;
		entry->protection = prot;
		entry->max_protection = maxprot;
		entry->inheritance = inh;
		entry->advice = advice;
		entry->wired_count = 0;
		if (flags & UVM_FLAG_OVERLAY) {
			entry->aref.ar_pageoff = 0;
			entry->aref.ar_amap = amap_alloc(size,
			    (flags & UVM_FLAG_NOWAIT) ? PR_NOWAIT : PR_WAITOK);
			if (entry->aref.ar_amap == NULL) {
				uvm_mapent_free(entry);
				vm_map_unlock(map);
				return ENOMEM;
			}
		}
		uvm_map_entry_link(map, prev, entry);
	}
	map->size += size;
	uvm_map_hint_store(map, entry);
	*startp = start;

	mutex_enter(&map->misc_lock);
	wirefuture = (map->flags & VM_MAP_WIREFUTURE) != 0;
	mutex_exit(&map->misc_lock);
	if (!wirefuture || prot == VM_PROT_NONE) {
		vm_map_unlock(map);
		return 0;
	}

	/* mlockall(MCL_FUTURE): wire the new range now (unlocks the map). */
	error = uvm_map_pageable(map, start, start + size, false, UVM_LK_ENTER);
	if (error != 0) {
		/* The object reference went into the entry: take it back. */
		if (uobj != NULL && !UVM_OBJ_IS_KERN_OBJECT(uobj) &&
		    uobj->pgops->pgo_reference != NULL)
			uobj->pgops->pgo_reference(uobj);
		uvm_unmap(map, start, start + size);
		return error;
	}
	return 0;
}

/*
 * Clipping.
 */

/*
 * uvm_map_clip_start: split entry so that it starts at addr; the part
 * before addr becomes a new entry in front of it.
 * => map write-locked; may sleep (entry allocation)
 */
void
uvm_map_clip_start(struct vm_map *map, struct vm_map_entry *entry,
    vaddr_t addr)
{
	struct vm_map_entry *new_entry;
	vsize_t adj;

	KASSERT(vm_map_locked_p(map));
	if (addr <= entry->start)
		return;
	KASSERT(addr < entry->end && (addr & PAGE_MASK) == 0);
	new_entry = uvm_mapent_alloc(map, 0);
	uvm_mapent_copy(entry, new_entry);

	adj = addr - entry->start;
	new_entry->end = addr;
	/* entry's key grows but stays below its successor: the tree holds */
	entry->start = addr;
	if (entry->object.uvm_obj != NULL)
		entry->offset += adj;
	/* the two halves share the amap: its per-slot counts do not change */
	if (new_entry->aref.ar_amap != NULL)
		amap_splitref(&new_entry->aref, &entry->aref, adj);
	uvm_map_entry_link(map, entry->prev, new_entry);
	uvm_map_entry_ref(new_entry);
}

/*
 * uvm_map_clip_end: split entry so that it ends at addr; the part from
 * addr on becomes a new entry after it.
 * => map write-locked; may sleep (entry allocation)
 */
void
uvm_map_clip_end(struct vm_map *map, struct vm_map_entry *entry, vaddr_t addr)
{
	struct vm_map_entry *new_entry;
	vsize_t adj;

	KASSERT(vm_map_locked_p(map));
	if (addr >= entry->end)
		return;
	KASSERT(addr > entry->start && (addr & PAGE_MASK) == 0);
	new_entry = uvm_mapent_alloc(map, 0);
	uvm_mapent_copy(entry, new_entry);

	adj = addr - entry->start;
	new_entry->start = addr;
	entry->end = addr;
	if (new_entry->object.uvm_obj != NULL)
		new_entry->offset += adj;
	if (entry->aref.ar_amap != NULL)
		amap_splitref(&entry->aref, &new_entry->aref, adj);
	uvm_map_entry_link(map, entry, new_entry);
	uvm_map_entry_ref(new_entry);
}

/*
 * Unmapping.
 */

/*
 * uvm_unmap_remove: take [start, end) out of map: clip, unwire, remove
 * the pmap mappings, free kernel-object pages at once (the seed's rule),
 * and unlink the entries onto *dead_entries (linked through next) for
 * uvm_unmap_detach to drop their references once the map is unlocked.
 * Wakes threads sleeping for VA.
 * => map write-locked; may sleep (clipping)
 */
void
uvm_unmap_remove(struct vm_map *map, vaddr_t start, vaddr_t end,
    struct vm_map_entry **dead_entries)
{
	struct vm_map_entry *entry, *next, *first_dead = NULL,
	    **tailp = &first_dead;
	struct uvm_object *uobj;
	voff_t off;

	KASSERT(vm_map_locked_p(map));
	uvm_map_range_clamp(map, &start, &end);
	*dead_entries = NULL;
	if (start == end)
		return;

	if (uvm_map_lookup_entry(map, start, &entry))
		uvm_map_clip_start(map, entry, start);
	else
		entry = entry->next;

	while (entry != &map->header && entry->start < end) {
		uvm_map_clip_end(map, entry, end);
		next = entry->next;

		if (VM_MAPENT_ISWIRED(entry))
			uvm_map_entry_unwire(map, entry);

		pmap_remove(map->pmap, entry->start, entry->end);
		uobj = entry->object.uvm_obj;
		if (UVM_ET_ISOBJ(entry) && uobj != NULL &&
		    UVM_OBJ_IS_KERN_OBJECT(uobj)) {
			/*
			 * Kernel memory has no backing store: free the pages
			 * now.  The entry held no reference (kernel objects
			 * never die), so it drops the object.
			 */
			off = entry->offset;
			uvm_km_pgremove(uobj, off,
			    off + (entry->end - entry->start));
			entry->etype &= ~UVM_ET_OBJ;
			entry->object.uvm_obj = NULL;
		}

		uvm_map_entry_unlink(map, entry);
		map->size -= entry->end - entry->start;
		entry->next = NULL;
		*tailp = entry;
		tailp = &entry->next;
		entry = next;
	}
	pmap_update(map->pmap);

	mutex_enter(&map->misc_lock);
	if (map->flags & VM_MAP_WANTVA) {
		map->flags &= ~VM_MAP_WANTVA;
		wakeup(map);
	}
	mutex_exit(&map->misc_lock);
	*dead_entries = first_dead;
}

/*
 * uvm_unmap_detach: drop the amap and object references of dead
 * entries and free them (an amap reference covers the entry's slots:
 * those nobody maps any more lose their anons at once).
 * => no map locked; may sleep (the last reference frees pages)
 */
void
uvm_unmap_detach(struct vm_map_entry *dead_entries, int flags)
{
	struct vm_map_entry *entry, *next;
	struct uvm_object *uobj;

	for (entry = dead_entries; entry != NULL; entry = next) {
		next = entry->next;
		if (entry->aref.ar_amap != NULL)
			amap_unref(entry->aref.ar_amap, entry->aref.ar_pageoff,
			    (entry->end - entry->start) >> PAGE_SHIFT, false);
		if (UVM_ET_ISSUBMAP(entry)) {
			uvm_map_deallocate(entry->object.sub_map);
		} else {
			uobj = entry->object.uvm_obj;
			if (UVM_ET_ISOBJ(entry) && uobj != NULL &&
			    !UVM_OBJ_IS_KERN_OBJECT(uobj) &&
			    uobj->pgops->pgo_detach != NULL)
				uobj->pgops->pgo_detach(uobj);
		}
		uvm_mapent_free(entry);
	}
}

/* uvm_unmap: => map unlocked; may sleep */
void
uvm_unmap(struct vm_map *map, vaddr_t start, vaddr_t end)
{
	struct vm_map_entry *dead;

	KASSERT(start <= end);
	vm_map_lock(map);
	uvm_unmap_remove(map, trunc_page(start), round_page(end), &dead);
	vm_map_unlock(map);
	if (dead != NULL)
		uvm_unmap_detach(dead, 0);
}

/*
 * Attributes.
 */

#define MASK(entry)	(UVM_ET_ISCOPYONWRITE(entry) ? \
			    ~VM_PROT_WRITE : VM_PROT_ALL)

/*
 * uvm_map_protect: set the protection (set_max: the maximum protection,
 * lowering the protection with it) of [start, end).
 * => map unlocked; may sleep
 * => nothing changed on error: EACCES if new_prot exceeds an entry's
 *    maximum, ENOMEM if part of the range is not mapped, EINVAL for a
 *    submap in the range
 */
int
uvm_map_protect(struct vm_map *map, vaddr_t start, vaddr_t end,
    vm_prot_t new_prot, bool set_max)
{
	struct vm_map_entry *entry, *current;
	vm_prot_t old_prot;
	vaddr_t expect;
	bool contained;
	int error = 0, wflags;

	vm_map_lock(map);
	uvm_map_range_clamp(map, &start, &end);
	contained = uvm_map_lookup_entry(map, start, &entry);
	if (!contained)
		entry = entry->next;

	/* Pass 1: check everything before changing anything. */
	expect = start;
	for (current = entry; current != &map->header && current->start < end;
	    current = current->next) {
		if (current->start > expect) {
			error = ENOMEM;		/* a hole (POSIX mprotect) */
			goto out;
		}
		expect = current->end;
		if (UVM_ET_ISSUBMAP(current)) {
			error = EINVAL;
			goto out;
		}
		if ((new_prot & current->max_protection) != new_prot) {
			error = EACCES;
			goto out;
		}
	}
	if (expect < end) {
		error = ENOMEM;
		goto out;
	}
	if (contained)
		uvm_map_clip_start(map, entry, start);

	wflags = vm_map_flags(map);
	/* Pass 2: clip and set; lower the pmap now, raise it on faults. */
	for (current = entry; current != &map->header && current->start < end;
	    current = current->next) {
		uvm_map_clip_end(map, current, end);
		old_prot = current->protection;
		if (set_max) {
			current->max_protection = new_prot;
			current->protection = new_prot & old_prot;
		} else {
			current->protection = new_prot;
		}
		if (current->protection == old_prot)
			continue;
		if (current->protection == VM_PROT_NONE &&
		    VM_MAPENT_ISWIRED(current)) {
			/* no access: the pages cannot stay wired */
			uvm_map_entry_unwire(map, current);
		}
		if ((old_prot & ~current->protection) != 0)
			pmap_protect(map->pmap, current->start, current->end,
			    current->protection & MASK(current));
		if ((wflags & VM_MAP_WIREFUTURE) != 0 &&
		    !VM_MAPENT_ISWIRED(current) && old_prot == VM_PROT_NONE &&
		    current->protection != VM_PROT_NONE) {
			/* mlockall(MCL_FUTURE): newly accessible: wire it */
			error = uvm_map_pageable(map, current->start,
			    current->end, false, UVM_LK_ENTER | UVM_LK_EXIT);
			if (error != 0)
				break;
		}
	}
	pmap_update(map->pmap);
out:
	vm_map_unlock(map);
	return error;
}

#undef MASK

/*
 * uvm_map_checkprot: is all of [start, end) mapped with at least
 * `protection'?  => map locked (read or write)
 */
bool
uvm_map_checkprot(struct vm_map *map, vaddr_t start, vaddr_t end,
    vm_prot_t protection)
{
	struct vm_map_entry *entry;

	KASSERT(rw_lock_held(&map->lock));
	if (start >= end)
		return start == end;
	if (!uvm_map_lookup_entry(map, start, &entry))
		return false;
	while (start < end) {
		if (entry == &map->header || start < entry->start)
			return false;		/* a hole */
		if ((entry->protection & protection) != protection)
			return false;
		start = entry->end;
		entry = entry->next;
	}
	return true;
}

enum map_attr { MAP_ATTR_INHERIT, MAP_ATTR_ADVICE };

/*
 * uvm_map_set_attr: clip [start, end) out of its entries and set one
 * attribute on each (inheritance or advice).
 * => map unlocked; write-locks it
 */
static void
uvm_map_set_attr(struct vm_map *map, vaddr_t start, vaddr_t end,
    enum map_attr attr, int value)
{
	struct vm_map_entry *entry;

	vm_map_lock(map);
	uvm_map_range_clamp(map, &start, &end);
	if (uvm_map_lookup_entry(map, start, &entry))
		uvm_map_clip_start(map, entry, start);
	else
		entry = entry->next;
	for (; entry != &map->header && entry->start < end;
	    entry = entry->next) {
		uvm_map_clip_end(map, entry, end);
		if (attr == MAP_ATTR_INHERIT)
			entry->inheritance = value;
		else
			entry->advice = value;
	}
	vm_map_unlock(map);
}

/*
 * uvm_map_inherit: set the fork inheritance of [start, end).
 * => map unlocked; EINVAL for an unknown inheritance
 */
int
uvm_map_inherit(struct vm_map *map, vaddr_t start, vaddr_t end,
    vm_inherit_t new_inheritance)
{
	switch (new_inheritance) {
	case MAP_INHERIT_NONE:
	case MAP_INHERIT_COPY:
	case MAP_INHERIT_SHARE:
	case MAP_INHERIT_ZERO:
		break;
	default:
		return EINVAL;
	}
	uvm_map_set_attr(map, start, end, MAP_ATTR_INHERIT, new_inheritance);
	return 0;
}

/*
 * uvm_map_clean: clean, deactivate or free the pages of [start, end)
 * (msync, madvise DONTNEED/FREE; OpenBSD's uvm_map_clean).  flags: PGO_*
 * (PGO_CLEANIT, PGO_FREE or PGO_DEACTIVATE, not both of the last two).
 * Anons: PGO_FREE frees those of an amap only this entry uses (else
 * deactivates), wired pages are skipped; objects: their pgo_flush, PGO_FREE
 * only for a writable mapping that is not copy-on-write (we cannot know our
 * rights on the object's pages otherwise).
 * => map unlocked; write-locks it for the checks, then busies it and
 *    unlocks it for the work (amap and object locks taken in turn)
 * => returns 0, EFAULT (a hole, or a pager said the range was bad),
 *    EINVAL (a submap)
 */
int
uvm_map_clean(struct vm_map *map, vaddr_t start, vaddr_t end, int flags)
{
	struct vm_map_entry *first, *entry;
	struct vm_amap *amap;
	struct vm_anon *anon;
	struct vm_page *pg;
	struct uvm_object *uobj;
	vaddr_t cp_start, cp_end, expect;
	int error = 0;

	KASSERT((flags & (PGO_FREE | PGO_DEACTIVATE)) !=
	    (PGO_FREE | PGO_DEACTIVATE));

	vm_map_lock(map);
	uvm_map_range_clamp(map, &start, &end);
	if (!uvm_map_lookup_entry(map, start, &first)) {
		vm_map_unlock(map);
		return EFAULT;
	}

	/* Make a first pass to check for holes. */
	expect = start;
	for (entry = first; entry != &map->header && entry->start < end;
	    entry = entry->next) {
		if (UVM_ET_ISSUBMAP(entry)) {
			vm_map_unlock(map);
			return EINVAL;
		}
		if (entry->start > expect) {
			vm_map_unlock(map);
			return EFAULT;
		}
		expect = entry->end;
	}
	if (expect < end) {
		vm_map_unlock(map);
		return EFAULT;
	}

	vm_map_busy(map);
	vm_map_unlock(map);
	for (entry = first; entry != &map->header && entry->start < end;
	    entry = entry->next) {
		amap = entry->aref.ar_amap;	/* top layer */
		uobj = UVM_ET_ISOBJ(entry) ? entry->object.uvm_obj : NULL;

		/*
		 * No amap cleaning necessary if there's no amap or we are
		 * not deactivating or freeing pages.
		 */
		if (amap == NULL || (flags & (PGO_DEACTIVATE | PGO_FREE)) == 0)
			goto flush_object;

		amap_lock(amap);
		cp_start = MAX(entry->start, start);
		cp_end = MIN(entry->end, end);
		for (; cp_start != cp_end; cp_start += PAGE_SIZE) {
			anon = amap_lookup(&entry->aref, cp_start -
			    entry->start);
			if (anon == NULL)
				continue;
			KASSERT(anon->an_lock == amap->am_lock);
			pg = anon->an_page;
			if (pg == NULL)
				continue;
			KASSERT(pg_flags_load(pg) & PQ_ANON);

			switch (flags & (PGO_CLEANIT | PGO_FREE |
			    PGO_DEACTIVATE)) {
			/*
			 * (OpenBSD: "in these first 3 cases, we always just
			 * deactivate the page")
			 */
			case PGO_CLEANIT | PGO_FREE:
			case PGO_CLEANIT | PGO_DEACTIVATE:
			case PGO_DEACTIVATE:
deactivate_it:
				/* skip the page if it's wired */
				if (pg->wire_count != 0)
					break;
				/*
				 * [deviation: a busy page is skipped.  OpenBSD
				 * keeps a page under pageout on the inactive
				 * queue, so deactivating it changes nothing;
				 * here a page in flight is on no queue until
				 * the aiodone daemon requeues it.]
				 */
				if (pg_flags_load(pg) & PG_BUSY)
					break;
				uvm_lock_pageq();
				KASSERT(pg->uanon == anon);
				/* zap all mappings for the page */
				pmap_page_protect(pg, VM_PROT_NONE);
				/* ...and deactivate the page */
				uvm_pagedeactivate(pg);
				uvm_unlock_pageq();
				break;
			case PGO_FREE:
				/*
				 * If there are multiple references to the
				 * amap, just deactivate the page.
				 */
				if (amap_refs(amap) > 1)
					goto deactivate_it;
				/* (OpenBSD: "XXX skip the page if it's wired") */
				if (pg->wire_count != 0)
					break;
				amap_unadd(&entry->aref, cp_start - entry->start);
				/* a busy page is released: its holder frees it */
				if (--anon->an_ref == 0)
					uvm_anfree(anon);
				break;
			default:
				panic("uvm_map_clean: weird flags %#x", flags);
			}
		}
		amap_unlock(amap);

flush_object:
		cp_start = MAX(entry->start, start);
		cp_end = MIN(entry->end, end);

		/*
		 * Flush pages if we've got a valid backing object.  Don't
		 * PGO_FREE if we don't have write permission, and don't flush
		 * a copy-on-write object: we can't know our permissions on it.
		 */
		if (uobj != NULL && uobj->pgops->pgo_flush != NULL &&
		    ((flags & PGO_FREE) == 0 ||
		    ((entry->max_protection & VM_PROT_WRITE) != 0 &&
		    !UVM_ET_ISCOPYONWRITE(entry)))) {
			rw_enter(uobj->vmobjlock, RW_WRITE);
			if (!uobj->pgops->pgo_flush(uobj, cp_start -
			    entry->start + entry->offset, cp_end -
			    entry->start + entry->offset, flags))
				error = EFAULT;
			rw_exit(uobj->vmobjlock);
		}
	}

	vm_map_lock(map);		/* we are busy: this does not wait */
	vm_map_unbusy(map);
	vm_map_unlock(map);
	return error;
}

/*
 * uvm_map_advice: set the paging advice of [start, end).
 * => map unlocked; EINVAL for unknown advice
 */
int
uvm_map_advice(struct vm_map *map, vaddr_t start, vaddr_t end,
    int new_advice)
{
	switch (new_advice) {
	case UVM_ADV_NORMAL:
	case UVM_ADV_RANDOM:
	case UVM_ADV_SEQUENTIAL:
		break;
	default:
		return EINVAL;
	}
	uvm_map_set_attr(map, start, end, MAP_ATTR_ADVICE, new_advice);
	return 0;
}

/*
 * Wiring.
 */

/*
 * uvm_map_pageable: wire (new_pageable false) or unwire [start, end).
 *
 * Wiring counts: each entry's wired_count goes up by one per wiring of
 * it; only an entry going from 0 to 1 is faulted in.  Unwiring takes one
 * off, and unwires the pages when it reaches 0.
 *
 * Wiring works in two passes.  Pass 1, write-locked: resolve needs-copy
 * (so that the faults need not write-lock the map), clip, count, check
 * for holes.  Pass 2: mark the map busy and unlock it, then fault the
 * pages in and wire them (uvm_fault_wire takes the map read lock for
 * each fault itself, as in NetBSD; holding a read lock across it would
 * make the fault's read lock recursive, which a writer waiting in
 * between turns into a deadlock).  Busy keeps other writers out, so
 * the entries we walk stay put.  On failure every count is restored and
 * what was wired is unwired.
 *
 * => map unlocked unless UVM_LK_ENTER (then write-locked); left locked
 *    on return only with UVM_LK_EXIT
 * => returns 0; EFAULT for a hole (or an inaccessible entry) in the
 *    range; what uvm_fault_wire returned (ENOMEM, EACCES, EFAULT)
 * => may sleep
 */
int
uvm_map_pageable(struct vm_map *map, vaddr_t start, vaddr_t end,
    bool new_pageable, int lockflags)
{
	struct vm_map_entry *entry, *start_entry, *failed_entry;
	int rv;

	if ((lockflags & UVM_LK_ENTER) == 0)
		vm_map_lock(map);
	KASSERT(vm_map_locked_p(map));
	uvm_map_range_clamp(map, &start, &end);

	if (start == end || !uvm_map_lookup_entry(map, start, &start_entry)) {
		if ((lockflags & UVM_LK_EXIT) == 0)
			vm_map_unlock(map);
		return start == end ? 0 : EFAULT;
	}

	if (new_pageable) {
		/* Unwire: every entry must be wired, no holes. */
		uvm_map_clip_start(map, start_entry, start);
		for (entry = start_entry;
		    entry != &map->header && entry->start < end;
		    entry = entry->next) {
			if (entry->wired_count == 0 ||
			    (entry->end < end &&
			    (entry->next == &map->header ||
			    entry->next->start > entry->end))) {
				if ((lockflags & UVM_LK_EXIT) == 0)
					vm_map_unlock(map);
				return EFAULT;
			}
		}
		for (entry = start_entry;
		    entry != &map->header && entry->start < end;
		    entry = entry->next) {
			uvm_map_clip_end(map, entry, end);
			if (--entry->wired_count == 0)
				uvm_map_entry_unwire(map, entry);
		}
		if ((lockflags & UVM_LK_EXIT) == 0)
			vm_map_unlock(map);
		return 0;
	}

	/* Pass 1: needs-copy, clip, count, holes. */
	for (entry = start_entry; entry != &map->header && entry->start < end;
	    entry = entry->next) {
		if (entry->wired_count == 0 && UVM_ET_ISNEEDSCOPY(entry) &&
		    ((entry->max_protection & VM_PROT_WRITE) != 0 ||
		    entry->object.uvm_obj == NULL)) {
			amap_copy(map, entry, 0, true, start, end);
			/* amap_copy may have clipped entry to [start, end) */
		}
		/* clipping keeps `entry' as the part inside the range */
		uvm_map_clip_start(map, entry, start);
		uvm_map_clip_end(map, entry, end);
		entry->wired_count++;
		if (entry->protection == VM_PROT_NONE ||
		    (entry->end < end && (entry->next == &map->header ||
		    entry->next->start > entry->end))) {
			/* A hole: give the counts back (amaps may stay). */
			for (; entry != &map->header && entry->end > start;
			    entry = entry->prev)
				entry->wired_count--;
			if ((lockflags & UVM_LK_EXIT) == 0)
				vm_map_unlock(map);
			return EFAULT;
		}
	}
	KASSERT(start_entry->start == start);

	/* Pass 2: fault in and wire, the map busy and unlocked. */
	vm_map_busy(map);
	vm_map_unlock(map);
	rv = 0;
	for (entry = start_entry; entry != &map->header && entry->start < end;
	    entry = entry->next) {
		if (entry->wired_count == 1) {
			rv = uvm_fault_wire(map, entry->start, entry->end,
			    entry->protection, 0);
			if (rv != 0)
				break;	/* uvm_fault_wire undid its part */
		}
	}

	vm_map_lock(map);		/* we are busy: this does not wait */
	vm_map_unbusy(map);
	if (rv != 0) {
		/* Entries not wired yet just lose their count... */
		failed_entry = entry;
		for (; entry != &map->header && entry->start < end;
		    entry = entry->next)
			entry->wired_count--;
		/* ...those wired before the failure are unwired. */
		for (entry = start_entry; entry != failed_entry;
		    entry = entry->next) {
			if (--entry->wired_count == 0)
				uvm_map_entry_unwire(map, entry);
		}
	}
	if ((lockflags & UVM_LK_EXIT) == 0)
		vm_map_unlock(map);
	return rv;
}

/*
 * uvm_map_submap: make [start, end), a blank reserved range of map
 * (no object, no amap), be managed by submap.
 * => map unlocked; returns 0 or EINVAL
 */
int
uvm_map_submap(struct vm_map *map, vaddr_t start, vaddr_t end,
    struct vm_map *submap)
{
	struct vm_map_entry *entry;
	int error = EINVAL;

	vm_map_lock(map);
	uvm_map_range_clamp(map, &start, &end);
	if (uvm_map_lookup_entry(map, start, &entry)) {
		uvm_map_clip_start(map, entry, start);
		uvm_map_clip_end(map, entry, end);
	} else {
		entry = NULL;
	}
	if (entry != NULL && entry->start == start && entry->end == end &&
	    entry->object.uvm_obj == NULL && entry->aref.ar_amap == NULL &&
	    !UVM_ET_ISCOPYONWRITE(entry) && !UVM_ET_ISNEEDSCOPY(entry)) {
		entry->etype |= UVM_ET_SUBMAP;
		entry->object.sub_map = submap;
		entry->offset = 0;
		uvm_map_reference(submap);
		error = 0;
	}
	vm_map_unlock(map);
	return error;
}

/*
 * Invariants.
 */

#define AUDIT_FAIL(...)							\
	do {								\
		if (why != NULL)					\
			snprintf(why, len, __VA_ARGS__);		\
		return false;						\
	} while (0)

bool
uvm_map_audit(struct vm_map *map, char *why, size_t len)
{
	struct vm_map_entry *entry, *tentry;
	vaddr_t last = vm_map_min(map);
	vsize_t size = 0;
	int n = 0;

	KASSERT(rw_lock_held(&map->lock));
	tentry = RB_MIN(uvm_map_addr, &map->rb_head);
	for (entry = map->header.next; entry != &map->header;
	    entry = entry->next) {
		if (entry->next->prev != entry || entry->prev->next != entry)
			AUDIT_FAIL("entry %#lx: broken list links",
			    (unsigned long)entry->start);
		if (entry->start >= entry->end)
			AUDIT_FAIL("entry [%#lx, %#lx): empty or reversed",
			    (unsigned long)entry->start,
			    (unsigned long)entry->end);
		if ((entry->start | entry->end) & PAGE_MASK)
			AUDIT_FAIL("entry [%#lx, %#lx): not page aligned",
			    (unsigned long)entry->start,
			    (unsigned long)entry->end);
		if (entry->start < last)
			AUDIT_FAIL("entry [%#lx, %#lx): overlaps or out of "
			    "order (previous ends at %#lx)",
			    (unsigned long)entry->start,
			    (unsigned long)entry->end, (unsigned long)last);
		if (entry->end > vm_map_max(map))
			AUDIT_FAIL("entry [%#lx, %#lx): beyond the map's end",
			    (unsigned long)entry->start,
			    (unsigned long)entry->end);
		if (tentry != entry)
			AUDIT_FAIL("entry [%#lx, %#lx): tree and list differ",
			    (unsigned long)entry->start,
			    (unsigned long)entry->end);
		if (entry->wired_count < 0)
			AUDIT_FAIL("entry [%#lx, %#lx): wired_count %d",
			    (unsigned long)entry->start,
			    (unsigned long)entry->end, entry->wired_count);
		last = entry->end;
		size += entry->end - entry->start;
		n++;
		tentry = RB_NEXT(uvm_map_addr, &map->rb_head, tentry);
	}
	if (tentry != NULL)
		AUDIT_FAIL("tree has entries the list lacks (at %#lx)",
		    (unsigned long)tentry->start);
	if (n != map->nentries)
		AUDIT_FAIL("nentries %d, list has %d", map->nentries, n);
	if (size != map->size)
		AUDIT_FAIL("size %#lx, entries sum to %#lx",
		    (unsigned long)map->size, (unsigned long)size);
	return true;
}

#undef AUDIT_FAIL

/*
 * Address spaces.
 */

/*
 * uvmspace_alloc: a new address space of [min, max) with its own pmap.
 * => may sleep; not on the fault path (calloc)
 */
struct vmspace *
uvmspace_alloc(vaddr_t min, vaddr_t max, bool pageable)
{
	struct vmspace *vm;

	vm = calloc(1, sizeof(*vm));
	if (vm == NULL)
		return NULL;
	uvmspace_init(vm, NULL, min, max, pageable);
	return vm;
}

/*
 * uvmspace_init: set vm up on pmap (NULL: a new one), one reference.
 * The pmap's owner becomes vm's map, so that traps find the map.
 */
void
uvmspace_init(struct vmspace *vm, struct pmap *pmap, vaddr_t min,
    vaddr_t max, bool pageable)
{
	memset(vm, 0, sizeof(*vm));
	if (pmap == NULL)
		pmap = pmap_create();
	uvm_map_setup(&vm->vm_map, min, max, pageable ? VM_MAP_PAGEABLE : 0);
	vm->vm_map.pmap = pmap;
	pmap_set_owner(pmap, &vm->vm_map);
	vm->vm_refcnt = 1;
}

void
uvmspace_addref(struct vmspace *vm)
{
	KASSERT(__atomic_load_n(&vm->vm_refcnt, __ATOMIC_RELAXED) > 0);
	__atomic_fetch_add(&vm->vm_refcnt, 1, __ATOMIC_RELAXED);
}

/*
 * uvmspace_free: drop a reference; the last unmaps everything, destroys
 * the pmap and frees vm (which came from uvmspace_alloc).
 * => map unlocked; may sleep
 */
void
uvmspace_free(struct vmspace *vm)
{
	struct vm_map *map = &vm->vm_map;
	struct vm_map_entry *dead;
	int c;

	c = __atomic_sub_fetch(&vm->vm_refcnt, 1, __ATOMIC_ACQ_REL);
	KASSERT(c >= 0);
	if (c > 0)
		return;
	vm_map_modflags(map, VM_MAP_DYING, 0);
	vm_map_lock(map);
	uvm_unmap_remove(map, vm_map_min(map), vm_map_max(map), &dead);
	KASSERT(map->nentries == 0 && map->size == 0);
	vm_map_unlock(map);
	if (dead != NULL)
		uvm_unmap_detach(dead, 0);
	pmap_set_owner(map->pmap, NULL);
	pmap_destroy(map->pmap);
	cv_destroy(&map->busy_cv);
	mutex_destroy(&map->misc_lock);
	rw_destroy(&map->lock);
	free(vm);
}

/*
 * Fork (NetBSD uvmspace_fork with uvm_mapent_forkshare/forkcopy, and
 * OpenBSD's uvm_mapent_forkzero for MAP_INHERIT_ZERO).
 */

/*
 * uvm_mapent_clone: a copy of old_entry for new_map, linked at its end:
 * unwired (the new pmap has nothing wired), with its own references to
 * the amap (amapflags: AMAP_SHARED for a shared one) and the object.
 * => both maps write-locked; may sleep
 */
static struct vm_map_entry *
uvm_mapent_clone(struct vm_map *new_map, struct vm_map_entry *old_entry,
    int amapflags)
{
	struct vm_map_entry *new_entry;

	new_entry = uvm_mapent_alloc(new_map, 0);
	uvm_mapent_copy(old_entry, new_entry);
	new_entry->wired_count = 0;
	if (new_entry->aref.ar_amap != NULL)
		amap_ref(new_entry->aref.ar_amap, new_entry->aref.ar_pageoff,
		    (new_entry->end - new_entry->start) >> PAGE_SHIFT,
		    amapflags);
	uvm_map_entry_ref(new_entry);
	uvm_map_entry_link(new_map, new_map->header.prev, new_entry);
	new_map->size += new_entry->end - new_entry->start;
	return new_entry;
}

/*
 * uvm_mapent_forkshare: the child shares old_entry's amap and object.
 * An entry that still needs its copy (from an earlier fork) gets its own
 * amap first, so that there is something of its own to share.
 * => both maps write-locked; may sleep
 */
static void
uvm_mapent_forkshare(struct vm_map *new_map, struct vm_map *old_map,
    struct vm_map_entry *old_entry)
{
	if (UVM_ET_ISNEEDSCOPY(old_entry))
		amap_copy(old_map, old_entry, AMAP_COPY_NOCHUNK, false, 0, 0);
	(void)uvm_mapent_clone(new_map, old_entry, AMAP_SHARED);
}

/*
 * uvm_mapent_forkcopy: the child gets a copy-on-write copy of old_entry
 * (MAP_PRIVATE semantics).  The copy is deferred (needs-copy in both
 * entries, the parent write-protected) unless the parent's amap is shared
 * (with a sharing process: the parent may not take a private copy of its
 * own at its next write) or the parent's entry is wired (it must never
 * fault): then the child copies the amap now, and for a wired parent also
 * every page (amap_cow_now).
 * => both maps write-locked; may sleep; 0, or ENOMEM (a wired entry's copy)
 */
static int
uvm_mapent_forkcopy(struct vm_map *new_map, struct vm_map *old_map,
    struct vm_map_entry *old_entry)
{
	struct vm_map_entry *new_entry;

	new_entry = uvm_mapent_clone(new_map, old_entry, 0);
	new_entry->etype |= UVM_ET_COPYONWRITE | UVM_ET_NEEDSCOPY;

	if (old_entry->aref.ar_amap == NULL) {
		/*
		 * Nothing anonymous yet: the child's first fault makes its
		 * amap.  (NetBSD copies the parent's mappings with pmap_copy
		 * here and write-protects the child's; ours is a no-op, the
		 * child faults its mappings in.)
		 */
		return 0;
	}
	if ((amap_flags(old_entry->aref.ar_amap) & AMAP_SHARED) != 0 ||
	    VM_MAPENT_ISWIRED(old_entry))
		amap_copy(new_map, new_entry, AMAP_COPY_NOCHUNK, false, 0, 0);

	if (VM_MAPENT_ISWIRED(old_entry)) {
		/* (amap_copy could not get an amap: no copy to make) */
		if (UVM_ET_ISNEEDSCOPY(new_entry))
			return ENOMEM;
		return amap_cow_now(new_map, new_entry);
	}
	/*
	 * Write-protect the parent, unless an earlier fork did (it is
	 * needs-copy already): its next write copies.
	 */
	if (!UVM_ET_ISNEEDSCOPY(old_entry)) {
		if (old_entry->max_protection & VM_PROT_WRITE) {
			pmap_protect(old_map->pmap, old_entry->start,
			    old_entry->end,
			    old_entry->protection & ~VM_PROT_WRITE);
			pmap_update(old_map->pmap);
		}
		old_entry->etype |= UVM_ET_NEEDSCOPY;
	}
	return 0;
}

/*
 * uvm_mapent_forkzero: the child gets fresh zero-fill memory where the
 * parent has old_entry (OpenBSD MAP_INHERIT_ZERO): no amap, no object.
 * => both maps write-locked; may sleep
 */
static void
uvm_mapent_forkzero(struct vm_map *new_map, struct vm_map_entry *old_entry)
{
	struct vm_map_entry *new_entry;

	new_entry = uvm_mapent_alloc(new_map, 0);
	uvm_mapent_copy(old_entry, new_entry);
	new_entry->wired_count = 0;
	new_entry->aref.ar_amap = NULL;
	new_entry->aref.ar_pageoff = 0;
	new_entry->object.uvm_obj = NULL;
	new_entry->offset = 0;
	new_entry->etype = (new_entry->etype & ~UVM_ET_OBJ) |
	    UVM_ET_COPYONWRITE | UVM_ET_NEEDSCOPY;
	uvm_map_entry_link(new_map, new_map->header.prev, new_entry);
	new_map->size += new_entry->end - new_entry->start;
}

/*
 * uvmspace_fork: see uvm_map.h.
 * => vm1's map unlocked; write-locked for the whole walk, so that no LWP
 *    of the parent changes it meanwhile (their faults wait)
 */
struct vmspace *
uvmspace_fork(struct vmspace *vm1)
{
	struct vmspace *vm2;
	struct vm_map *old_map = &vm1->vm_map, *new_map;
	struct vm_map_entry *old_entry;
	int error = 0;

	vm2 = uvmspace_alloc(vm_map_min(old_map), vm_map_max(old_map),
	    (vm_map_flags(old_map) & VM_MAP_PAGEABLE) != 0);
	if (vm2 == NULL)
		return NULL;
	new_map = &vm2->vm_map;

	vm_map_lock(old_map);
	/*
	 * The new map is nobody else's yet; it is locked only for the
	 * contracts of amap_copy and amap_cow_now (same lock class as the
	 * parent's: not an order).
	 */
	vm_map_lock(new_map);
	vm2->vm_dused = vm1->vm_dused;
	for (old_entry = old_map->header.next; old_entry != &old_map->header &&
	    error == 0; old_entry = old_entry->next) {
		KASSERTMSG(!UVM_ET_ISSUBMAP(old_entry),
		    "uvmspace_fork: a submap in a user map");
		switch (old_entry->inheritance) {
		case MAP_INHERIT_NONE:
			/* the child has nothing here */
			break;
		case MAP_INHERIT_SHARE:
			uvm_mapent_forkshare(new_map, old_map, old_entry);
			break;
		case MAP_INHERIT_COPY:
			error = uvm_mapent_forkcopy(new_map, old_map, old_entry);
			break;
		case MAP_INHERIT_ZERO:
			uvm_mapent_forkzero(new_map, old_entry);
			break;
		default:
			panic("uvmspace_fork: inheritance %d",
			    old_entry->inheritance);
		}
	}
	vm_map_unlock(new_map);
	vm_map_unlock(old_map);
	if (error != 0) {
		/* (amap_cow_now's deviation) the child's half-made space goes */
		uvmspace_free(vm2);
		return NULL;
	}
	return vm2;
}

/* uvmspace_share: see uvm_map.h. */
void
uvmspace_share(struct proc *p1, struct proc *p2)
{
	uvmspace_addref(p1->p_vmspace);
	mutex_enter(&p2->p_lock);
	p2->p_vmspace = p1->p_vmspace;
	mutex_exit(&p2->p_lock);
}

/*
 * uvmspace_switch: make nvm p's vmspace; returns the old one (whose
 * reference the caller drops).  NetBSD deactivates and reactivates the
 * pmap around the switch; our LWPs find their pmap through the vmspace,
 * so there is nothing to load.
 */
static struct vmspace *
uvmspace_switch(struct proc *p, struct vmspace *nvm)
{
	struct vmspace *ovm;

	mutex_enter(&p->p_lock);
	ovm = p->p_vmspace;
	p->p_vmspace = nvm;
	mutex_exit(&p->p_lock);
	return ovm;
}

/* uvmspace_unshare: see uvm_map.h (NetBSD's takes the LWP). */
int
uvmspace_unshare(struct proc *p)
{
	struct vmspace *nvm, *ovm = p->p_vmspace;

	if (__atomic_load_n(&ovm->vm_refcnt, __ATOMIC_ACQUIRE) == 1)
		return 0;	/* not shared in the first place */
	nvm = uvmspace_fork(ovm);
	if (nvm == NULL)
		return ENOMEM;
	uvmspace_free(uvmspace_switch(p, nvm));
	return 0;
}

/*
 * uvmspace_exec: see uvm_map.h (NetBSD's takes the LWP and a topdown
 * flag; our maps are not topdown).
 */
int
uvmspace_exec(struct proc *p, vaddr_t start, vaddr_t end)
{
	struct vmspace *nvm, *ovm = p->p_vmspace;
	struct vm_map *map = &ovm->vm_map;
	struct vm_map_entry *dead;

	KASSERT(ovm != NULL);
	KASSERT(start < end && (start & PAGE_MASK) == 0 &&
	    (end & PAGE_MASK) == 0);
	if (__atomic_load_n(&ovm->vm_refcnt, __ATOMIC_ACQUIRE) == 1) {
		/*
		 * p alone uses it: recycle it.  "Lock future mappings" is
		 * revoked by exec (POSIX 1003.1b).
		 */
		vm_map_modflags(map, VM_MAP_DYING, VM_MAP_WIREFUTURE);
		vm_map_lock(map);
		uvm_unmap_remove(map, vm_map_min(map), vm_map_max(map), &dead);
		KASSERT(map->header.prev == &map->header);
		KASSERT(map->nentries == 0);
		map->header.start = start;	/* vm_map_setmin */
		map->header.end = end;		/* vm_map_setmax */
		vm_map_unlock(map);
		vm_map_modflags(map, 0, VM_MAP_DYING);
		if (dead != NULL)
			uvm_unmap_detach(dead, 0);
		return 0;
	}
	/* shared: a new vmspace for p, and our reference to the old goes */
	nvm = uvmspace_alloc(start, end, true);
	if (nvm == NULL)
		return ENOMEM;
	uvmspace_free(uvmspace_switch(p, nvm));
	return 0;
}
