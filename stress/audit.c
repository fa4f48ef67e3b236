/*
 * stress/audit.c: the invariant auditor.
 *
 * Every check is taken under the lock that makes it meaningful: queue
 * membership and counts under uvm.pageqlock and uvm.fpageqlock (in that
 * order), map entries under the map's read lock, amap slots under the
 * amap's lock.  Checks that need the owners' locks of every page at once
 * (owner back-pointers, the exact accounting of pages in flight) run only
 * when the machine is quiescent (AUDIT_QUIESCENT: no LWP runs VM code).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "host/cpu.h"
#include "vm/kern_proc.h"
#include "vm/uvm.h"
#include "vm/uvm_amap.h"
#include "vm/uvm_aobj.h"
#include "vm/uvm_km.h"
#include "vm/uvm_swap.h"

#define AUDIT_MAXMAPS	1024

static kmutex_t audit_lock;		/* the registry, outer to every map */
static bool audit_lock_init;
static struct vm_map *audit_maps[AUDIT_MAXMAPS];	/* [audit_lock] */
static int audit_cursor;		/* [audit_lock] the next periodic map */
static int audit_nmaps;					/* [audit_lock] */

static void __printflike(2, 3)
violation(struct audit_result *ar, const char *fmt, ...)
{
	va_list ap;

	if (ar->nviolations++ == 0) {
		va_start(ap, fmt);
		vsnprintf(ar->first, sizeof(ar->first), fmt, ap);
		va_end(ap);
	}
}

#define CHECK(ar, cond, ...)						\
	do {								\
		(ar)->nchecks++;					\
		if (!(cond))						\
			violation((ar), __VA_ARGS__);			\
	} while (0)

static void
audit_init_lock(void)
{
	/* the harness boots single-threaded: no race on the first call */
	if (!audit_lock_init) {
		mutex_init_class(&audit_lock, MUTEX_DEFAULT, IPL_NONE,
		    "audit_registry");
		audit_lock_init = true;
	}
}

void
audit_register_map(struct vm_map *map)
{
	audit_init_lock();
	mutex_enter(&audit_lock);
	KASSERT(audit_nmaps < AUDIT_MAXMAPS);
	audit_maps[audit_nmaps++] = map;
	mutex_exit(&audit_lock);
}

void
audit_unregister_map(struct vm_map *map)
{
	int i;

	audit_init_lock();
	mutex_enter(&audit_lock);
	for (i = 0; i < audit_nmaps; i++) {
		if (audit_maps[i] == map) {
			audit_maps[i] = audit_maps[--audit_nmaps];
			break;
		}
	}
	mutex_exit(&audit_lock);
}

/* Walk one queue: every page flagged as on it, and count it. */
static int
audit_queue(struct audit_result *ar, struct pglist *q, uint32_t flag,
    const char *name)
{
	struct vm_page *pg;
	uint32_t f;
	int n = 0;

	TAILQ_FOREACH(pg, q, pageq) {
		f = pg_flags_load(pg);
		CHECK(ar, (f & (PQ_FREE | PQ_ACTIVE | PQ_INACTIVE)) == flag,
		    "page %#llx on the %s queue has queue flags %#x",
		    (unsigned long long)pg->phys_addr, name,
		    f & (PQ_FREE | PQ_ACTIVE | PQ_INACTIVE));
		if (++n > (int)vm_npages) {
			violation(ar, "the %s queue loops", name);
			break;
		}
	}
	return n;
}

void
audit_pages(struct audit_result *ar, int flags)
{
	int nactive, ninactive, nfree = 0, i, free, active, inactive, wired;
	int flagged_free = 0, flagged_q = 0, nwired = 0, nlimbo = 0, kernel;
	uint64_t n;
	uint32_t f;

	uvm_lock_pageq();
	uvm_lock_fpageq();
	nactive = audit_queue(ar, &uvm.page_active, PQ_ACTIVE, "active");
	ninactive = audit_queue(ar, &uvm.page_inactive, PQ_INACTIVE,
	    "inactive");
	for (i = 0; i < UVM_NFREELIST; i++)
		nfree += audit_queue(ar, &uvm.page_free[i], PQ_FREE, "free");
	free = uvmexp.free;
	active = uvmexp.active;
	inactive = uvmexp.inactive;
	wired = uvmexp.wired;
	kernel = uvmexp_read(kernel);

	CHECK(ar, nfree == free, "uvmexp.free %d but %d pages on the free "
	    "lists", free, nfree);
	CHECK(ar, nactive == active, "uvmexp.active %d but %d pages on the "
	    "active queue", active, nactive);
	CHECK(ar, ninactive == inactive, "uvmexp.inactive %d but %d pages on "
	    "the inactive queue", inactive, ninactive);

	for (n = 0; n < vm_npages; n++) {
		struct vm_page *pg = &vm_page_array[n];
		uint32_t q;

		f = pg_flags_load(pg);
		q = f & (PQ_FREE | PQ_ACTIVE | PQ_INACTIVE);
		CHECK(ar, q == 0 || q == PQ_FREE || q == PQ_ACTIVE ||
		    q == PQ_INACTIVE, "page %#llx is on more than one queue "
		    "(flags %#x)", (unsigned long long)pg->phys_addr, f);
		if (q == PQ_FREE) {
			flagged_free++;
			CHECK(ar, pg->wire_count == 0 && (f & PG_BUSY) == 0,
			    "free page %#llx is wired or busy (flags %#x)",
			    (unsigned long long)pg->phys_addr, f);
			continue;
		}
		if (q != 0)
			flagged_q++;
		if (pg->wire_count > 0) {
			nwired++;
			CHECK(ar, q == 0, "wired page %#llx is on a paging "
			    "queue", (unsigned long long)pg->phys_addr);
			/*
			 * Quiescent: no I/O, so a busy wired page would be
			 * one the pagedaemon took (checked below for all);
			 * and a wired anon page has given its swap slot back
			 * (it can never be paged out: uvm_fault drops it).
			 */
			if ((flags & AUDIT_QUIESCENT) && pg->uanon != NULL)
				CHECK(ar, pg->uanon->an_swslot == 0, "wired "
				    "anon page %#llx keeps swap slot %d",
				    (unsigned long long)pg->phys_addr,
				    pg->uanon->an_swslot);
		} else if (q == 0) {
			nlimbo++;	/* kernel pages and pages in flight */
		}
		if ((flags & AUDIT_QUIESCENT) && (f & PG_BUSY) &&
		    (pg->uobject != NULL || pg->uanon != NULL))
			violation(ar, "page %#llx is busy (by %s) on a quiescent "
			    "machine", (unsigned long long)pg->phys_addr,
			    pg->owner_tag != NULL ? pg->owner_tag : "?");
	}
	uvm_unlock_fpageq();
	uvm_unlock_pageq();

	CHECK(ar, flagged_free == free, "%d pages flagged PQ_FREE, uvmexp.free "
	    "%d", flagged_free, free);
	CHECK(ar, flagged_q == active + inactive, "%d pages flagged on a "
	    "paging queue, %d counted", flagged_q, active + inactive);
	CHECK(ar, nwired == wired, "%d wired pages, uvmexp.wired %d", nwired,
	    wired);
	CHECK(ar, free + active + inactive + nwired + nlimbo ==
	    (int)vm_npages, "free %d + active %d + inactive %d + wired %d + "
	    "other %d != %llu pages", free, active, inactive, nwired, nlimbo,
	    (unsigned long long)vm_npages);
	if (flags & AUDIT_QUIESCENT) {
		CHECK(ar, nlimbo == kernel, "quiescent: %d pages on no queue "
		    "but uvmexp.kernel is %d", nlimbo, kernel);
		/* no pageout in flight: paging equals pages under I/O, 0 */
		CHECK(ar, uvmexp_read(paging) == 0, "quiescent: uvmexp.paging "
		    "is %d with no page under I/O", uvmexp_read(paging));
	}
}

/*
 * The quiescent swap walk: every amap reachable from the audited maps,
 * once, and every anon in it, once (amaps and anons may be shared); then
 * every aobj's slots (uao_foreach_swslot).  Each slot an anon or an aobj
 * names is claimed in a table of one owner per swap slot, and then every
 * slot of the swap map is checked against the table: a named slot must be
 * allocated and not bad, a slot must not have two owners, and an
 * allocated slot that is not bad must have one.
 *
 * In flight: a slot can be allocated with no owner naming it only while
 * the pagedaemon builds a swap cluster (uvmpd_scan_inactive allocates the
 * cluster's slots, gives them to its pages one by one, and frees the
 * unused tail before the write); the pages of a pageout under I/O are
 * already named by their owners (an_swslot, uao_set_swslot) when the
 * write starts, and lose them only when it completes.  The table is built
 * only on a quiescent machine (daemons stopped, uvmexp.paging 0, checked
 * by audit_pages), where nothing is in flight: every allocated slot that
 * is not bad has exactly one owner.
 */
enum { SO_NONE = 0, SO_ANON, SO_AOBJ };

struct swap_owner {
	const void	*so_owner;	/* the anon, or the aobj */
	const void	*so_amap;	/* SO_ANON: the amap we found it in */
	int		so_idx;		/* amap slot, or aobj page index */
	int		so_kind;	/* SO_* */
};

struct swap_walk {
	struct audit_result	*sw_ar;
	const void		**sw_amaps;	/* open-addressing sets */
	size_t			sw_namaps;	/* capacity (power of 2) */
	const void		**sw_anons;
	size_t			sw_nanons;
	struct swap_owner	*sw_owners;	/* [swpages]: slot s at s - 1 */
	int			sw_swpages;
	int			sw_anoncount;	/* distinct anons */
	int			sw_slotrefs;	/* slots they reference */
	int			sw_onlyswap;	/* anons in swap, not in RAM */
	int			sw_lost;	/* anons with neither */
	int			sw_aoentries;	/* aobj slot entries, bad too */
	int			sw_aobad;	/* of which UAO_SWSLOT_BAD */
	int			sw_aoonlyswap;	/* of pages not resident */
	bool			sw_full;	/* a set overflowed */
};

/* ptrset_add: true if p is new.  => sets have room (sized by callers) */
static bool
ptrset_add(const void **set, size_t cap, const void *p, bool *full)
{
	size_t h = ((uintptr_t)p >> 4) * 0x9e3779b97f4a7c15ull, i, n;

	for (n = 0, i = h & (cap - 1); n < cap; n++, i = (i + 1) & (cap - 1)) {
		if (set[i] == p)
			return false;
		if (set[i] == NULL) {
			set[i] = p;
			return true;
		}
	}
	*full = true;
	return false;
}

static size_t
pow2_at_least(size_t n)
{
	size_t c = 64;

	while (c < n)
		c <<= 1;
	return c;
}

/* swap_owner_name: "anon %p (amap %p slot %d)" or "aobj %p page %d". */
static const char *
swap_owner_name(const struct swap_owner *so, char *buf, size_t len)
{
	if (so->so_kind == SO_ANON)
		snprintf(buf, len, "anon %p (amap %p slot %d)", so->so_owner,
		    so->so_amap, so->so_idx);
	else
		snprintf(buf, len, "aobj %p page %d", so->so_owner, so->so_idx);
	return buf;
}

/*
 * swap_claim: so names swap slot s: record it as the slot's owner, or
 * report the slot's second owner (the first stays recorded).
 * => may run under VM locks (the aobj iterator's): never sleeps
 */
static void
swap_claim(struct swap_walk *sw, int s, const struct swap_owner *so)
{
	struct audit_result *ar = sw->sw_ar;
	struct swap_owner *first;
	char b1[96], b2[96];

	ar->nchecks++;
	if (s < 1 || s > sw->sw_swpages) {
		violation(ar, "%s has swap slot %d outside 1..%d",
		    swap_owner_name(so, b1, sizeof(b1)), s, sw->sw_swpages);
		return;
	}
	first = &sw->sw_owners[s - 1];
	ar->nchecks++;
	if (first->so_kind != SO_NONE) {
		violation(ar, "swap slot %d has two owners: %s and %s", s,
		    swap_owner_name(first, b1, sizeof(b1)),
		    swap_owner_name(so, b2, sizeof(b2)));
		return;
	}
	*first = *so;
}

/* One amap's anons.  => map read-locked; takes the amap lock */
static void
swap_walk_amap(struct swap_walk *sw, struct vm_amap *amap)
{
	struct vm_aref aref = { 0, amap };
	struct vm_anon *anon, *buf[64];
	struct swap_owner so;
	int slot, i, n, s;

	if (!ptrset_add(sw->sw_amaps, sw->sw_namaps, amap, &sw->sw_full))
		return;
	rw_enter(amap->am_lock, RW_READ);
	for (slot = 0; slot < amap->am_nslot; slot += n) {
		n = MIN(amap->am_nslot - slot, (int)nitems(buf));
		amap_lookups(&aref, ptoa(slot), buf, n);
		for (i = 0; i < n; i++) {
			if ((anon = buf[i]) == NULL ||
			    !ptrset_add(sw->sw_anons, sw->sw_nanons, anon,
			    &sw->sw_full))
				continue;
			sw->sw_anoncount++;
			s = anon->an_swslot;
			if (anon->an_page == NULL) {
				if (s != 0)
					sw->sw_onlyswap++;
				else
					sw->sw_lost++;
			}
			if (s == 0)
				continue;
			if (s >= 1 && s <= sw->sw_swpages)
				sw->sw_slotrefs++;
			so.so_kind = SO_ANON;
			so.so_owner = anon;
			so.so_amap = amap;
			so.so_idx = slot + i;
			swap_claim(sw, s, &so);
		}
	}
	rw_exit(amap->am_lock);
}

static void
swap_walk_map(struct swap_walk *sw, struct vm_map *map)
{
	struct vm_map_entry *e;

	vm_map_lock_read(map);
	for (e = map->header.next; e != &map->header; e = e->next)
		if (e->aref.ar_amap != NULL)
			swap_walk_amap(sw, e->aref.ar_amap);
	vm_map_unlock_read(map);
}

/*
 * One aobj slot entry (uao_foreach_swslot's callback).  A bad entry
 * (UAO_SWSLOT_BAD) names no slot: its slot was marked bad in the swap
 * map and forgotten, and it stands for a lost page, counted in swpgonly
 * until the entry goes (uao_dropswap, uao_swslots_free).
 * => uao_list_lock and the object's lock (read) held: never sleeps
 */
static void
swap_walk_aobj_slot(void *arg, struct uvm_object *uobj, int pageidx,
    int slot)
{
	struct swap_walk *sw = arg;
	struct swap_owner so;

	sw->sw_aoentries++;
	if (slot == UAO_SWSLOT_BAD) {
		sw->sw_aobad++;
		sw->sw_aoonlyswap++;
		return;
	}
	if (uvm_pagelookup(uobj, (voff_t)pageidx << PAGE_SHIFT) == NULL)
		sw->sw_aoonlyswap++;
	so.so_kind = SO_AOBJ;
	so.so_owner = uobj;
	so.so_amap = NULL;
	so.so_idx = pageidx;
	swap_claim(sw, slot, &so);
}

/*
 * swap_check_slots: every slot of the swap map against the owner table
 * (see the swap walk's comment above).  unreachable: anons alive that the
 * maps did not lead to (one of them may own a slot found unowned).
 * => no VM locks held; the machine quiescent
 */
static void
swap_check_slots(struct swap_walk *sw, int inuse, int bad, int unreachable)
{
	struct audit_result *ar = sw->sw_ar;
	struct swap_owner *so;
	int s, nalloc = 0, nbad = 0;
	bool alloc, isbad;
	char b1[96];

	for (s = 1; s <= sw->sw_swpages; s++) {
		so = &sw->sw_owners[s - 1];
		alloc = uvm_swap_slot_allocated(s);
		isbad = uvm_swap_slot_bad(s);
		if (alloc)
			nalloc++;
		if (isbad) {
			nbad++;
			CHECK(ar, alloc, "swap slot %d is marked bad but free "
			    "in the swap map", s);
		}
		if (so->so_kind != SO_NONE) {
			CHECK(ar, alloc, "swap slot %d is free in the swap map "
			    "but %s names it", s,
			    swap_owner_name(so, b1, sizeof(b1)));
			CHECK(ar, !isbad, "swap slot %d is marked bad but %s "
			    "names it", s, swap_owner_name(so, b1, sizeof(b1)));
		} else if (alloc && !isbad) {
			ar->nchecks++;
			violation(ar, "swap slot %d allocated but unowned: "
			    "leaked%s", s, unreachable == 0 ? "" : " (or owned "
			    "by an anon the maps do not reach: see the anon "
			    "count)");
		} else {
			ar->nchecks++;
		}
	}
	CHECK(ar, nalloc == inuse, "swap: %d slots set in the swap map but %d "
	    "counted in use", nalloc, inuse);
	CHECK(ar, nbad == bad, "swap: %d slots marked bad in the swap map but "
	    "the bad count is %d (a slot marked bad twice?)", nbad, bad);
}

void
audit_swap(struct audit_result *ar, int flags)
{
	struct swap_walk sw;
	int inuse, bad, aoslots, swpages, swpginuse, swpgonly, paging, i;
	int skipped, aogood;

	if (uvm_swap_disk() == NULL)
		return;
	swpages = uvmexp.swpages;		/* [I] once attached */
	inuse = uvm_swap_inuse();
	bad = uvm_swap_nbad();
	swpgonly = uvmexp_read(swpgonly);
	paging = uvmexp_read(paging);
	CHECK(ar, inuse >= bad && inuse <= swpages, "swap: %d slots in use, "
	    "%d bad, of %d", inuse, bad, swpages);
	CHECK(ar, swpgonly >= 0 && swpgonly <= swpages, "swap: swpgonly %d "
	    "outside 0..%d", swpgonly, swpages);
	CHECK(ar, paging >= 0 && paging <= (int)vm_npages, "uvmexp.paging %d "
	    "outside 0..%llu", paging, (unsigned long long)vm_npages);
	if ((flags & AUDIT_QUIESCENT) == 0)
		return;

	/* Quiescent: nothing moves; every count is exact. */
	memset(&sw, 0, sizeof(sw));
	sw.sw_ar = ar;
	sw.sw_swpages = swpages;
	sw.sw_namaps = pow2_at_least((size_t)amap_count() * 2 + 16);
	sw.sw_nanons = pow2_at_least((size_t)uvm_anon_count() * 2 + 16);
	sw.sw_amaps = calloc(sw.sw_namaps, sizeof(void *));
	sw.sw_anons = calloc(sw.sw_nanons, sizeof(void *));
	sw.sw_owners = calloc((size_t)swpages, sizeof(struct swap_owner));
	if (sw.sw_amaps == NULL || sw.sw_anons == NULL ||
	    sw.sw_owners == NULL) {
		violation(ar, "audit: no memory for the swap walk");
		goto out;
	}
	if (kernel_map != NULL)
		swap_walk_map(&sw, kernel_map);
	audit_init_lock();
	mutex_enter(&audit_lock);
	for (i = 0; i < audit_nmaps; i++)
		swap_walk_map(&sw, audit_maps[i]);
	mutex_exit(&audit_lock);
	if (sw.sw_full) {
		violation(ar, "audit: more amaps or anons reachable than "
		    "amap_count() %d / uvm_anon_count() %d say exist",
		    amap_count(), uvm_anon_count());
		goto out;
	}
	skipped = uao_foreach_swslot(swap_walk_aobj_slot, &sw);
	if (skipped != 0) {
		violation(ar, "quiescent: %d aobjs locked, their swap slots "
		    "not walked", skipped);
		goto out;
	}

	/* Per slot: allocated iff named (or bad), and named once. */
	swap_check_slots(&sw, inuse, bad, uvm_anon_count() - sw.sw_anoncount);

	/*
	 * The counts.  A bad aobj entry (UAO_SWSLOT_BAD) is in aoslots but
	 * names no slot: its slot is one of the bad ones, so counting both
	 * would count it twice.
	 */
	aoslots = uao_swslots_in_use();
	aogood = aoslots - sw.sw_aobad;
	CHECK(ar, sw.sw_aoentries == aoslots, "swap: aobjs hold %d slot "
	    "entries but uao_swslots_in_use() says %d", sw.sw_aoentries,
	    aoslots);
	swpginuse = uvmexp_read(swpginuse);
	CHECK(ar, swpginuse == inuse, "swap: uvmexp.swpginuse %d but the "
	    "device counts %d slots in use", swpginuse, inuse);
	CHECK(ar, inuse == sw.sw_slotrefs + aogood + bad, "swap: %d slots in "
	    "use, but anons reference %d, aobjs %d (and %d bad entries) and "
	    "%d are bad (%+d: %s)", inuse, sw.sw_slotrefs, aogood, sw.sw_aobad,
	    bad, inuse - (sw.sw_slotrefs + aogood + bad),
	    inuse > sw.sw_slotrefs + aogood + bad ? "leaked slots" :
	    "slots used but not allocated");
	CHECK(ar, swpgonly == sw.sw_onlyswap + sw.sw_aoonlyswap, "swap: "
	    "uvmexp.swpgonly %d but %d anons and %d aobj pages (%d of them "
	    "lost to bad slots) live only in swap (%d anons more have lost "
	    "their data)", swpgonly, sw.sw_onlyswap, sw.sw_aoonlyswap,
	    sw.sw_aobad, sw.sw_lost);
	CHECK(ar, sw.sw_anoncount == uvm_anon_count(), "quiescent: %d anons "
	    "allocated but %d reachable from the maps' amaps",
	    uvm_anon_count(), sw.sw_anoncount);
out:
	free(sw.sw_amaps);
	free(sw.sw_anons);
	free(sw.sw_owners);
}


/* The amap slots an entry covers are inside the amap. */
/*
 * audit_amap_anons: each anon of amap is referenced (an_ref >= 1: the amap's
 * own reference at least) and shares the amap's lock (an_lock == am_lock:
 * the anon's state is covered by the lock the amap's holders take).
 * => am_lock held
 */
static void
audit_amap_anons(struct audit_result *ar, struct vm_amap *amap)
{
	struct vm_aref aref = { 0, amap };
	struct vm_anon *buf[64], *anon;
	int slot, i, n, used = 0;

	for (slot = 0; slot < amap->am_nslot; slot += n) {
		n = MIN(amap->am_nslot - slot, (int)nitems(buf));
		amap_lookups(&aref, ptoa(slot), buf, n);
		for (i = 0; i < n; i++) {
			if ((anon = buf[i]) == NULL)
				continue;
			used++;
			CHECK(ar, anon->an_ref >= 1, "amap %p slot %d: anon %p "
			    "has %d references", (void *)amap, slot + i,
			    (void *)anon, anon->an_ref);
			CHECK(ar, anon->an_lock == amap->am_lock, "amap %p slot "
			    "%d: anon %p has lock %p, the amap %p",
			    (void *)amap, slot + i, (void *)anon,
			    (void *)anon->an_lock, (void *)amap->am_lock);
		}
	}
	CHECK(ar, used == amap->am_nused, "amap %p: %d slots hold anons, "
	    "am_nused %d", (void *)amap, used, amap->am_nused);
}

static void
audit_entry_amap(struct audit_result *ar, struct vm_map_entry *e)
{
	struct vm_amap *amap = e->aref.ar_amap;
	int npages = (int)((e->end - e->start) >> PAGE_SHIFT);

	rw_enter(amap->am_lock, RW_READ);
	CHECK(ar, amap->am_ref >= 1, "amap %p of entry %#lx has %d refs",
	    (void *)amap, (unsigned long)e->start, amap->am_ref);
	CHECK(ar, e->aref.ar_pageoff >= 0 &&
	    e->aref.ar_pageoff + npages <= amap->am_nslot,
	    "entry %#lx-%#lx covers slots %d..%d of an amap of %d",
	    (unsigned long)e->start, (unsigned long)e->end,
	    e->aref.ar_pageoff, e->aref.ar_pageoff + npages, amap->am_nslot);
	CHECK(ar, amap->am_nused >= 0 && amap->am_nused <= amap->am_nslot,
	    "amap %p uses %d of %d slots", (void *)amap, amap->am_nused,
	    amap->am_nslot);
	audit_amap_anons(ar, amap);
	rw_exit(amap->am_lock);
}

void
audit_map(struct audit_result *ar, struct vm_map *map)
{
	struct vm_map_entry *e, *found;
	vaddr_t prev_end = vm_map_min(map);
	vsize_t size = 0;
	int n = 0;

	vm_map_lock_read(map);
	for (e = map->header.next; e != &map->header; e = e->next) {
		CHECK(ar, e->start < e->end, "map %p: empty entry at %#lx",
		    (void *)map, (unsigned long)e->start);
		CHECK(ar, e->start >= prev_end, "map %p: entry %#lx-%#lx "
		    "overlaps or is out of order (previous ends at %#lx)",
		    (void *)map, (unsigned long)e->start, (unsigned long)e->end,
		    (unsigned long)prev_end);
		CHECK(ar, e->end <= vm_map_max(map), "map %p: entry %#lx-%#lx "
		    "beyond the map's end %#lx", (void *)map,
		    (unsigned long)e->start, (unsigned long)e->end,
		    (unsigned long)vm_map_max(map));
		CHECK(ar, e->prev->next == e && e->next->prev == e,
		    "map %p: entry %#lx badly linked", (void *)map,
		    (unsigned long)e->start);
		CHECK(ar, (e->protection & ~e->max_protection) == 0,
		    "map %p: entry %#lx protection %#x beyond max %#x",
		    (void *)map, (unsigned long)e->start, e->protection,
		    e->max_protection);
		CHECK(ar, e->wired_count >= 0, "map %p: entry %#lx wired %d",
		    (void *)map, (unsigned long)e->start, e->wired_count);
		found = NULL;
		CHECK(ar, uvm_map_lookup_entry(map, e->start, &found) &&
		    found == e, "map %p: lookup of %#lx does not find its entry",
		    (void *)map, (unsigned long)e->start);
		if (e->aref.ar_amap != NULL)
			audit_entry_amap(ar, e);
		prev_end = e->end;
		size += e->end - e->start;
		if (++n > 1000000) {
			violation(ar, "map %p: entry list loops", (void *)map);
			break;
		}
	}
	CHECK(ar, n == map->nentries, "map %p: %d entries listed, nentries %d",
	    (void *)map, n, map->nentries);
	CHECK(ar, size == map->size, "map %p: entries cover %#lx, size %#lx",
	    (void *)map, (unsigned long)size, (unsigned long)map->size);
	vm_map_unlock_read(map);
}

/*
 * The exact reference counts, on a quiescent machine: every amap's am_ref
 * is the number of map entries (of the kernel's and the registered maps:
 * every process's) that refer to it, every anon's an_ref the number of
 * amap slots that hold it; and every amap and anon alive is reached so.
 * A count too high is a leak that outlives its holders (an exit that
 * forgot a reference); too low, a use after free waiting to happen (a
 * fork that shared without counting).
 */
struct refset {
	const void	**rs_ptr;
	int		*rs_n;
	size_t		rs_cap;
	int		rs_distinct;
	bool		rs_full;
};

/* refset_add: count one more reference to p; true if p is new. */
static bool
refset_add(struct refset *rs, const void *p)
{
	size_t h = ((uintptr_t)p >> 4) * 0x9e3779b97f4a7c15ull, i, n;

	for (n = 0, i = h & (rs->rs_cap - 1); n < rs->rs_cap;
	    n++, i = (i + 1) & (rs->rs_cap - 1)) {
		if (rs->rs_ptr[i] == p) {
			rs->rs_n[i]++;
			return false;
		}
		if (rs->rs_ptr[i] == NULL) {
			rs->rs_ptr[i] = p;
			rs->rs_n[i] = 1;
			rs->rs_distinct++;
			return true;
		}
	}
	rs->rs_full = true;
	return false;
}

static bool
refset_init(struct refset *rs, size_t want)
{
	rs->rs_cap = pow2_at_least(want * 2 + 16);
	rs->rs_ptr = calloc(rs->rs_cap, sizeof(*rs->rs_ptr));
	rs->rs_n = calloc(rs->rs_cap, sizeof(*rs->rs_n));
	rs->rs_distinct = 0;
	rs->rs_full = false;
	return rs->rs_ptr != NULL && rs->rs_n != NULL;
}

static void
refset_fini(struct refset *rs)
{
	free(rs->rs_ptr);
	free(rs->rs_n);
}

static void
refs_walk_map(struct refset *amaps, struct refset *anons, struct vm_map *map)
{
	struct vm_map_entry *e;
	struct vm_amap *amap;
	struct vm_anon *buf[64];
	struct vm_aref aref;
	int slot, i, n;

	vm_map_lock_read(map);
	for (e = map->header.next; e != &map->header; e = e->next) {
		if ((amap = e->aref.ar_amap) == NULL ||
		    !refset_add(amaps, amap))
			continue;
		aref = (struct vm_aref){ 0, amap };
		rw_enter(amap->am_lock, RW_READ);
		for (slot = 0; slot < amap->am_nslot; slot += n) {
			n = MIN(amap->am_nslot - slot, (int)nitems(buf));
			amap_lookups(&aref, ptoa(slot), buf, n);
			for (i = 0; i < n; i++)
				if (buf[i] != NULL)
					(void)refset_add(anons, buf[i]);
		}
		rw_exit(amap->am_lock);
	}
	vm_map_unlock_read(map);
}

void
audit_refs(struct audit_result *ar, int flags)
{
	struct refset amaps, anons;
	const struct vm_amap *amap;
	const struct vm_anon *anon;
	size_t i;
	int k;

	if (!refset_init(&amaps, (size_t)amap_count()) ||
	    !refset_init(&anons, (size_t)uvm_anon_count())) {
		violation(ar, "audit: no memory for the reference walk");
		goto out;
	}
	if (kernel_map != NULL)
		refs_walk_map(&amaps, &anons, kernel_map);
	audit_init_lock();
	mutex_enter(&audit_lock);
	for (k = 0; k < audit_nmaps; k++)
		refs_walk_map(&amaps, &anons, audit_maps[k]);
	mutex_exit(&audit_lock);
	if (amaps.rs_full || anons.rs_full) {
		violation(ar, "audit: more amaps or anons reachable than "
		    "amap_count() %d / uvm_anon_count() %d say exist",
		    amap_count(), uvm_anon_count());
		goto out;
	}
	for (i = 0; i < amaps.rs_cap; i++) {
		if ((amap = amaps.rs_ptr[i]) == NULL)
			continue;
		CHECK(ar, amap->am_ref == amaps.rs_n[i], "amap %p: am_ref %d "
		    "but %d map entries refer to it", (const void *)amap,
		    amap->am_ref, amaps.rs_n[i]);
	}
	for (i = 0; i < anons.rs_cap; i++) {
		if ((anon = anons.rs_ptr[i]) == NULL)
			continue;
		CHECK(ar, anon->an_ref == anons.rs_n[i], "anon %p: an_ref %d "
		    "but %d amap slots hold it", (const void *)anon,
		    anon->an_ref, anons.rs_n[i]);
	}
	/* (during a run an anon freed under I/O waits, in no amap) */
	if (flags & AUDIT_QUIESCENT) {
		CHECK(ar, amaps.rs_distinct == amap_count(), "%d amaps "
		    "reachable from the maps, %d allocated (leaked: no entry "
		    "refers to them)", amaps.rs_distinct, amap_count());
		CHECK(ar, anons.rs_distinct == uvm_anon_count(), "%d anons "
		    "reachable from the maps, %d allocated (leaked: no amap "
		    "holds them)", anons.rs_distinct, uvm_anon_count());
	}
out:
	refset_fini(&amaps);
	refset_fini(&anons);
}

void
audit_lwps(struct audit_result *ar, int flags)
{
	struct proc *p;
	struct lwp *l;
	char why[200];
	bool freebsd = kern_glue() == UVM_GLUE_FREEBSD, locked, inmem;
	int stat, pflag;
	bool onrq;

	mutex_enter(proc_lock);
	LIST_FOREACH(l, &alllwp, l_list) {
		p = l->l_proc;
		/*
		 * In memory with no swap under way: NetBSD swaps an LWP in and
		 * out under its l_swaplock, FreeBSD marks a process's threads
		 * under its p_lock before unwiring and after wiring.
		 */
		locked = freebsd ? mutex_tryenter(&p->p_lock) :
		    mutex_tryenter(&l->l_swaplock);
		lwp_lock(l);
		inmem = (l->l_flag & LW_INMEM) != 0;
		stat = l->l_stat;
		pflag = l->l_pflag;
		lwp_unlock(l);
		onrq = sched_onrq(l);
		if (!inmem && locked && (stat == LSONPROC ||
		    (pflag & LP_RUNNING) || onrq))
			violation(ar, "LWP %d.%d (%s) is out of memory but %s",
			    p->p_pid, l->l_lid, l->l_name, onrq ?
			    "on the run queue" : "on a CPU");
		if (locked && inmem && stat != LSZOMB &&
		    !kern_lwp_resident(l, why, sizeof(why)))
			violation(ar, "in memory, yet %s", why);
		if ((flags & AUDIT_QUIESCENT) &&
		    __atomic_load_n(&l->l_holdcnt, __ATOMIC_RELAXED) != 0)
			violation(ar, "LWP %d.%d (%s) is still held %u times at "
			    "the end", p->p_pid, l->l_lid, l->l_name,
			    __atomic_load_n(&l->l_holdcnt, __ATOMIC_RELAXED));
		if ((flags & AUDIT_QUIESCENT) && locked && freebsd &&
		    p->p_holdcnt != 0)
			violation(ar, "process %d is still held %d times at the "
			    "end", p->p_pid, p->p_holdcnt);
		if (locked)
			mutex_exit(freebsd ? &p->p_lock : &l->l_swaplock);
	}
	mutex_exit(proc_lock);
}

void
audit_all(struct audit_result *ar, int flags)
{
	int i, n;

	audit_lwps(ar, flags);
	audit_pages(ar, flags);
	audit_swap(ar, flags);
	if (flags & AUDIT_QUIESCENT)
		audit_refs(ar, flags);
	if (kernel_map != NULL)
		audit_map(ar, kernel_map);
	audit_init_lock();
	mutex_enter(&audit_lock);
	if (flags & AUDIT_QUIESCENT)
		n = audit_nmaps;
	else
		n = MIN(audit_nmaps, AUDIT_PERIODIC_MAPS);
	for (i = 0; i < n; i++) {
		if (audit_cursor >= audit_nmaps)
			audit_cursor = 0;
		audit_map(ar, audit_maps[audit_cursor++]);
	}
	mutex_exit(&audit_lock);
}

void
audit_wired_range(struct audit_result *ar, struct vm_map *map, vaddr_t start,
    vaddr_t end)
{
	struct vm_map_entry *e;
	struct vm_anon *anon;
	struct uvm_object *uobj;
	vaddr_t va, lo, hi;
	int slot;

	vm_map_lock_read(map);
	for (e = map->header.next; e != &map->header; e = e->next) {
		if (e->end <= start || e->start >= end)
			continue;
		lo = MAX(e->start, start);
		hi = MIN(e->end, end);
		uobj = e->object.uvm_obj;
		if (e->aref.ar_amap != NULL)
			rw_enter(e->aref.ar_amap->am_lock, RW_READ);
		if (uobj != NULL && UVM_OBJ_IS_AOBJ(uobj))
			rw_enter(uobj->vmobjlock, RW_READ);
		for (va = lo; va < hi; va += PAGE_SIZE) {
			anon = e->aref.ar_amap != NULL ?
			    amap_lookup(&e->aref, va - e->start) : NULL;
			if (anon != NULL) {
				CHECK(ar, anon->an_swslot == 0, "va %#lx: a "
				    "wired anon (%p) keeps swap slot %d (a "
				    "wiring fault gives it back)",
				    (unsigned long)va, (void *)anon,
				    anon->an_swslot);
			} else if (uobj != NULL && UVM_OBJ_IS_AOBJ(uobj)) {
				slot = uao_find_swslot(uobj, (int)atop(e->offset +
				    (va - e->start)));
				CHECK(ar, slot == 0, "va %#lx: a wired aobj page "
				    "(aobj %p page %d) keeps swap slot %d (a "
				    "wiring fault gives it back)",
				    (unsigned long)va, (void *)uobj,
				    (int)atop(e->offset + (va - e->start)), slot);
			}
		}
		if (uobj != NULL && UVM_OBJ_IS_AOBJ(uobj))
			rw_exit(uobj->vmobjlock);
		if (e->aref.ar_amap != NULL)
			rw_exit(e->aref.ar_amap->am_lock);
	}
	vm_map_unlock_read(map);
}
