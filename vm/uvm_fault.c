/*
 * vm/uvm_fault.c: the page fault handler.
 *
 * A fault is resolved in the two layers UVM stacks in a map entry: the
 * upper (anonymous) layer, the entry's amap of anons, and the lower
 * layer, the entry's object.  As in OpenBSD, the procedure is a small
 * state machine over a context:
 *
 *	uvm_fault_check		look the entry up, check protection, resolve
 *				needs-copy, lock the amap, look up anons
 *	uvm_fault_upper_lookup	map resident neighbouring anons
 *	uvm_fault_upper		the centre page is in an anon: map it, or
 *				copy it for a write to a shared anon (COW)
 *	uvm_fault_lower		the centre page is in the object (or is zero
 *				fill): map it, or promote it into a new anon
 *
 * Any step that must sleep (a busy page, no free memory) drops every lock
 * and returns ERESTART: the fault starts over, since the map may have
 * changed meanwhile.
 *
 * Locks, in order: map (read) > amap (write; its anons share it) > object
 * (write) > page queues.  Nothing is held on entry or on return.
 */
#include <string.h>

#include "host/clock.h"
#include "host/lwp.h"
#include "uvm.h"
#include "uvm_amap.h"
#include "uvm_anon.h"
#include "uvm_aobj.h"
#include "uvm_fault.h"
#include "uvm_km.h"
#include "uvm_map.h"
#include "uvm_pager.h"
#include "uvm_swap.h"
#include "vm_glue.h"

#define UVM_MAXRANGE	16	/* most pages looked at per fault */
#define UVM_SWAPIN_CLUSTER 64		/* most slots one swap-in reads */
#define UVM_SWAPIN_MAXLOCKS 8		/* other amaps' locks it may take */
_Static_assert(UVM_SWAPIN_CLUSTER <= BUF_MAXPAGES, "one transfer");

/* Neighbours mapped along with the faulting page, by advice. */
static const struct {
	int	nback;
	int	nforw;
} uvmadvice[] = {
	[UVM_ADV_NORMAL] = { 3, 4 },
	[UVM_ADV_RANDOM] = { 0, 0 },
	[UVM_ADV_SEQUENTIAL] = { 8, 7 },
};

/*
 * Fault-ahead along a walk.  [deviation: OpenBSD maps a fixed 3 pages
 * back and 4 ahead under MADV_NORMAL.  A simulated MMU pays a signal for
 * every trap, so a fault that lands past this LWP's last fault, up to
 * the first page past that fault's window (a walk up through memory, as
 * FreeBSD's vm_fault tells one by the entry's next_read), looks
 * UVM_MAXRANGE - 1 pages ahead and none back: MADV_SEQUENTIAL's reach,
 * turned forward.  Any other fault goes back to the advice's window
 * (MADV_SEQUENTIAL keeps its own, 8 back for the back-page flush), but
 * for normal advice's: below.]
 *
 * Fault-ahead off a walk.  [deviation: OpenBSD maps the resident
 * neighbours in the advice's window (3 behind, 4 ahead) at every fault.
 * By default we do only along a walk: on this MMU a neighbour mapped
 * without an access is not open on the host, so its first touch still
 * traps and opens it and is spared only the VM's part of a fault; while
 * looking at the neighbours costs a pmap lookup each, and mapping one
 * that sits on the inactive queue reactivates a page the pagedaemon is
 * testing for references, which it must then deactivate again, with the
 * page queues held both times.  Off a walk those neighbours are mostly
 * such pages (the ones still active are mapped already).  Measured in
 * docs/results.md; UVM_FAULTAHEAD_ADVICE (--fault-ahead advice) brings
 * OpenBSD's window back.]
 */
static enum uvm_faultahead uvm_faultahead;	/* [I] */

void
uvm_fault_set_ahead(enum uvm_faultahead how)
{
	uvm_faultahead = how;
}

struct uvm_faultwalk {
	struct vm_map	*fw_map;
	vaddr_t		fw_last;	/* its last fault */
	vaddr_t		fw_next;	/* the first page past its window */
	bool		fw_walking;	/* that fault went on a walk */
};
static _Thread_local struct uvm_faultwalk uvm_faultwalk;

/*
 * uvm_faultinfo: where the fault is (orig_*) and which map and entry we
 * found it in (a submap's, possibly).
 */
struct uvm_faultinfo {
	struct vm_map		*orig_map;	/* the map faulted on */
	vaddr_t			orig_rvaddr;	/* page-aligned fault va */
	vsize_t			orig_size;
	struct vm_map		*map;		/* the map we locked */
	unsigned int		mapv;		/* its timestamp then */
	struct vm_map_entry	*entry;
	vsize_t			size;
};

struct uvm_faultctx {
	vm_prot_t	access_type;	/* what the access needs */
	vm_prot_t	enter_prot;	/* what we may map */
	vaddr_t		startva;	/* first page of the range */
	int		npages;		/* pages in the range */
	int		centeridx;	/* the faulting page's index */
	bool		wired;		/* wiring fault or wired entry */
	bool		narrow;		/* just the one page */
	bool		promote;	/* copy into a new anon */
};

/* local prototypes */
static int uvm_fault_check(struct uvm_faultinfo *, struct uvm_faultctx *,
    struct vm_anon ***);
static bool uvm_fault_upper_lookup(struct uvm_faultinfo *,
    const struct uvm_faultctx *, struct vm_anon **);
static int uvm_fault_upper(struct uvm_faultinfo *, struct uvm_faultctx *,
    struct vm_anon **);
static int uvm_fault_lower(struct uvm_faultinfo *, struct uvm_faultctx *,
    struct vm_anon **, struct vm_page **);
static void uvmfault_unbusy(struct vm_page *);
static bool uvmfault_newwire(struct uvm_faultinfo *,
    const struct uvm_faultctx *, struct vm_page *);
static bool uvmfault_lookup(struct uvm_faultinfo *, bool);
static bool uvmfault_walking(const struct uvm_faultinfo *);
static bool uvmfault_relock(struct uvm_faultinfo *);
static void uvmfault_unlockmaps(struct uvm_faultinfo *, bool);
static void uvmfault_unlockall(struct uvm_faultinfo *, struct vm_amap *,
    struct uvm_object *);
struct uvm_swapin;
static void uvmfault_swapin_cluster(struct uvm_faultinfo *,
    struct vm_amap *, struct vm_anon *, struct vm_page *,
    struct uvm_swapin *);
static void uvmfault_swapin_done(struct uvm_swapin *, krwlock_t *,
    struct vm_anon *, bool);
static int uvmfault_anonget(struct uvm_faultinfo *, struct vm_amap *,
    struct vm_anon *);
static int uvmfault_nomem(struct uvm_faultinfo *, struct vm_amap *,
    struct uvm_object *, const char *);

/* Fault latency, log2(ns) buckets [a]. */
static uint64_t fault_hist[UVM_FAULT_HIST];

void
uvm_fault_latency(uint64_t hist[UVM_FAULT_HIST])
{
	int i;

	for (i = 0; i < UVM_FAULT_HIST; i++)
		hist[i] = __atomic_load_n(&fault_hist[i], __ATOMIC_RELAXED);
}

static void
fault_hist_add(uint64_t ns)
{
	int b = ns == 0 ? 0 : 63 - __builtin_clzll(ns);

	if (b >= UVM_FAULT_HIST)
		b = UVM_FAULT_HIST - 1;
	__atomic_fetch_add(&fault_hist[b], 1, __ATOMIC_RELAXED);
}

/*
 * uvmfault_lookup: find the entry of the fault, descending into submaps,
 * and read-lock its map (write-lock with write_lock).
 * => returns false (nothing locked) if there is no entry
 */
static bool
uvmfault_lookup(struct uvm_faultinfo *ufi, bool write_lock)
{
	struct vm_map *tmpmap;

	ufi->map = ufi->orig_map;
	ufi->size = ufi->orig_size;
	for (;;) {
		if (ufi->orig_rvaddr < vm_map_min(ufi->map) ||
		    ufi->orig_rvaddr >= vm_map_max(ufi->map))
			return false;
		if (write_lock)
			vm_map_lock(ufi->map);
		else
			vm_map_lock_read(ufi->map);
		if (!uvm_map_lookup_entry(ufi->map, ufi->orig_rvaddr,
		    &ufi->entry)) {
			uvmfault_unlockmaps(ufi, write_lock);
			return false;
		}
		if (ufi->entry->end - ufi->orig_rvaddr < ufi->size)
			ufi->size = ufi->entry->end - ufi->orig_rvaddr;
		if (UVM_ET_ISSUBMAP(ufi->entry)) {
			tmpmap = ufi->entry->object.sub_map;
			uvmfault_unlockmaps(ufi, write_lock);
			ufi->map = tmpmap;
			continue;
		}
		ufi->mapv = ufi->map->timestamp;
		return true;
	}
}

/*
 * uvmfault_relock: take the map back after sleeping unlocked.
 * => false if the map changed meanwhile (nothing locked then)
 */
static bool
uvmfault_relock(struct uvm_faultinfo *ufi)
{
	uvmexp_inc(fltrelck);
	vm_map_lock_read(ufi->map);
	if (ufi->mapv != ufi->map->timestamp) {
		vm_map_unlock_read(ufi->map);
		return false;
	}
	uvmexp_inc(fltrelckok);
	return true;
}

static void
uvmfault_unlockmaps(struct uvm_faultinfo *ufi, bool write_locked)
{
	if (ufi == NULL)
		return;
	if (write_locked)
		vm_map_unlock(ufi->map);
	else
		vm_map_unlock_read(ufi->map);
}

static void
uvmfault_unlockall(struct uvm_faultinfo *ufi, struct vm_amap *amap,
    struct uvm_object *uobj)
{
	if (uobj != NULL)
		rw_exit(uobj->vmobjlock);
	if (amap != NULL)
		rw_exit(amap->am_lock);
	uvmfault_unlockmaps(ufi, false);
}

/*
 * uvmfault_nomem: out of memory.  With a pagedaemon, drop everything,
 * wait for it and start over; without one (nothing can reclaim), the
 * fault fails with ENOMEM.
 * => everything named is locked on entry, nothing on return
 */
static int
uvmfault_nomem(struct uvm_faultinfo *ufi, struct vm_amap *amap,
    struct uvm_object *uobj, const char *wmsg)
{
	uvmexp_inc(fltnoram);
	uvmfault_unlockall(ufi, amap, uobj);
	if (__atomic_load_n(&uvm.pagedaemon_proc, __ATOMIC_ACQUIRE) == NULL)
		return ENOMEM;
	/* out of swap: waiting cannot help (OpenBSD fails the fault too) */
	if (uvm_swapisfull())
		return ENOMEM;
	uvm_wait(wmsg);
	return ERESTART;
}

/*
 * Swap read-ahead.  [deviation: OpenBSD reads one page per anon fault.
 * A simulated disk, where every transfer is a system call, cannot do
 * without read-ahead, so a swap-in takes along the swap-only anons near
 * the faulting one (within UVM_SWAPIN_CLUSTER pages either way, in the
 * faulting entry and its neighbours) whose slots lie in one run of slots
 * with its own: one transfer, holes read past.  The pagedaemon writes its
 * clusters in queue order, which for a working set walked in order is
 * nearly address order.]  How far to read is judged as Linux judges it,
 * by the hits of this LWP's last read-ahead (its pages since referenced):
 * 1 slot with no hits unless the swap-ins walk page by page, a power of
 * two above the hits otherwise, never less than half the last window.
 */

/* A swap-in read: the slots it covers, with their busy pages and anons. */
struct uvm_swapin {
	int		r_slot;				/* first slot */
	int		r_n;				/* slots */
	struct vm_anon	*r_anons[UVM_SWAPIN_CLUSTER];	/* NULL: a hole */
	struct vm_page	*r_pgs[UVM_SWAPIN_CLUSTER];
	krwlock_t	*r_locks[UVM_SWAPIN_CLUSTER];	/* the anon's, then */
	krwlock_t	*r_xlocks[UVM_SWAPIN_MAXLOCKS];	/* neighbour entries' */
	int		r_nxlocks;
	krwlock_t	*r_busy[UVM_SWAPIN_MAXLOCKS];	/* found busy */
	int		r_nbusy;
	struct vm_map_entry *r_hint;	/* the entry of the last address */
};

/* An LWP's last read-ahead (an LWP is a thread: thread-local). */
struct uvm_swapra {
	struct vm_map	*ra_map;
	vaddr_t		ra_lastva;	/* its last swap-in fault */
	int		ra_win;		/* the window it had */
	int		ra_n;		/* pages it read ahead */
	struct vm_page	*ra_pgs[UVM_SWAPIN_CLUSTER];
	uint32_t	ra_vers[UVM_SWAPIN_CLUSTER];	/* their pg_version */
};
static _Thread_local struct uvm_swapra uvm_swapra;

/*
 * uvmfault_swapin_window: the read-ahead window (in slots) for a swap-in
 * at va of map, and a fresh record for it.  The pages of the last record
 * are looked at without their owners' locks: pg_version says whether a
 * page is still the one we read, and a stale answer only sizes a window.
 */
static int
uvmfault_swapin_window(struct vm_map *map, vaddr_t va)
{
	struct uvm_swapra *ra = &uvm_swapra;
	struct vm_page *pg;
	int hits = 0, win, i;

	for (i = 0; i < ra->ra_n; i++) {
		pg = ra->ra_pgs[i];
		if (__atomic_load_n(&pg->pg_version, __ATOMIC_RELAXED) ==
		    ra->ra_vers[i] && pmap_is_referenced(pg))
			hits++;
	}
	if (hits == 0) {
		win = (ra->ra_map == map && (va == ra->ra_lastva + PAGE_SIZE ||
		    va + PAGE_SIZE == ra->ra_lastva)) ? 2 : 1;
	} else {
		for (win = 4; win < hits + 2; win <<= 1)
			continue;
	}
	win = MIN(win, UVM_SWAPIN_CLUSTER);
	if (ra->ra_map == map)
		win = MAX(win, ra->ra_win / 2);
	ra->ra_map = map;
	ra->ra_lastva = va;
	ra->ra_win = win;
	ra->ra_n = 0;
	return win;
}

/*
 * uvmfault_swapin_entry: the entry holding va, if read-ahead may use it:
 * the faulting entry, or one reached from it through adjacent entries
 * (the walk starts where the last one ended: addresses come in order),
 * with an amap of its own whose lock is the faulting amap's or one we
 * could try-lock (wrong order: amap -> amap), noted in r_xlocks (a lock
 * found busy is noted too, and not tried again).
 * => map and the faulting amap locked
 */
static struct vm_map_entry *
uvmfault_swapin_entry(struct uvm_faultinfo *ufi, struct uvm_swapin *r,
    vaddr_t va)
{
	struct vm_map_entry *entry = ufi->entry, *e = r->r_hint, *n;
	krwlock_t *lock;
	int i;

	while (va < e->start || va >= e->end) {
		n = va < e->start ? e->prev : e->next;
		if (n == &ufi->map->header ||
		    (va < e->start ? n->end != e->start : n->start != e->end))
			return NULL;
		e = n;
	}
	r->r_hint = e;
	if (e == entry)
		return e;
	if (e->aref.ar_amap == NULL || UVM_ET_ISNEEDSCOPY(e))
		return NULL;
	lock = e->aref.ar_amap->am_lock;
	if (lock == entry->aref.ar_amap->am_lock)
		return e;
	for (i = 0; i < r->r_nxlocks; i++)
		if (r->r_xlocks[i] == lock)
			return e;
	for (i = 0; i < r->r_nbusy; i++)
		if (r->r_busy[i] == lock)
			return NULL;
	if (r->r_nxlocks == UVM_SWAPIN_MAXLOCKS)
		return NULL;
	if (rw_enter(lock, RW_WRITE | RW_NOSLEEP) != 0) {
		if (r->r_nbusy < UVM_SWAPIN_MAXLOCKS)
			r->r_busy[r->r_nbusy++] = lock;
		return NULL;
	}
	r->r_xlocks[r->r_nxlocks++] = lock;
	return e;
}

/*
 * uvmfault_swapin_order: hand the neighbours' new pages to their anons
 * in the order of their frames, so that a walk through the run finds
 * consecutive pages in consecutive frames (the free list gives back the
 * frames of the pages the pagedaemon freed, nearly in order) and the MMU
 * can open several with one host call.  The pages are new, busy and
 * empty, their anons locked: which one gets which is no one else's
 * business yet.  The faulting page (slot kf) keeps its own.
 */
static void
uvmfault_swapin_order(struct uvm_swapin *r, int kf, int first, int last)
{
	struct vm_page *pgs[UVM_SWAPIN_CLUSTER], *t;
	int k, n = 0, i, j;

	for (k = first; k <= last; k++)
		if (k != kf && r->r_anons[k] != NULL)
			pgs[n++] = r->r_pgs[k];
	/* insertion sort: the free list hands them out nearly in order */
	for (i = 1; i < n; i++)
		for (j = i; j > 0 && VM_PAGE_TO_PHYS(pgs[j - 1]) >
		    VM_PAGE_TO_PHYS(pgs[j]); j--) {
			t = pgs[j];
			pgs[j] = pgs[j - 1];
			pgs[j - 1] = t;
		}
	for (k = first, i = 0; k <= last; k++) {
		if (k == kf || r->r_anons[k] == NULL)
			continue;
		r->r_pgs[k] = pgs[i++];
		r->r_pgs[k]->uanon = r->r_anons[k];
		r->r_anons[k]->an_page = r->r_pgs[k];
	}
}

/*
 * uvmfault_swapin_cluster: set up the read for the faulting anon (its
 * fresh busy page pg) and the read-ahead neighbours, giving each a fresh
 * busy page: never below freemin (read-ahead must not be what wakes the
 * pagedaemon), never for MADV_RANDOM.  On return the neighbour amap locks
 * are released but referenced (r_xlocks), for uvmfault_swapin_done.
 * => map and amap locked
 */
static void
uvmfault_swapin_cluster(struct uvm_faultinfo *ufi, struct vm_amap *amap,
    struct vm_anon *anon, struct vm_page *pg, struct uvm_swapin *r)
{
	struct uvm_swapra *ra = &uvm_swapra;
	struct vm_anon *cand[2 * UVM_SWAPIN_CLUSTER], *a;
	krwlock_t *candlock[2 * UVM_SWAPIN_CLUSTER];
	struct vm_map_entry *e;
	vaddr_t va;
	int s = anon->an_swslot, ncand = 0, lo, best, bestlo, i, k, n, first,
	    last, win, nx;
	bool used;

	r->r_slot = s;
	r->r_n = 1;
	r->r_anons[0] = anon;
	r->r_pgs[0] = pg;
	r->r_locks[0] = amap->am_lock;
	r->r_nxlocks = 0;
	r->r_nbusy = 0;
	r->r_hint = ufi->entry;
	if (ufi->entry->advice == UVM_ADV_RANDOM)
		return;
	win = uvmfault_swapin_window(ufi->orig_map, ufi->orig_rvaddr);
	if (win == 1)
		return;

	/* the candidates: swap-only anons near va with slots near s */
	for (k = -(UVM_SWAPIN_CLUSTER - 1); k < UVM_SWAPIN_CLUSTER; k++) {
		va = ufi->orig_rvaddr + (vaddr_t)((long)k * PAGE_SIZE);
		if (k == 0 || va < vm_map_min(ufi->map) ||
		    (e = uvmfault_swapin_entry(ufi, r, va)) == NULL)
			continue;
		a = amap_lookup(&e->aref, va - e->start);
		if (a == NULL || a->an_lock != e->aref.ar_amap->am_lock ||
		    a->an_page != NULL || a->an_swslot == 0 ||
		    a->an_swslot <= s - win || a->an_swslot >= s + win)
			continue;
		candlock[ncand] = a->an_lock;
		cand[ncand++] = a;
	}

	/* the run of `win` slots holding s with the most of them */
	best = -1;
	bestlo = s;
	for (lo = MAX(s - win + 1, 1); lo <= s && ncand > 0; lo++) {
		for (n = 0, i = 0; i < ncand; i++)
			if (cand[i]->an_swslot >= lo &&
			    cand[i]->an_swslot < lo + win)
				n++;
		if (n > best) {
			best = n;
			bestlo = lo;
		}
	}

	/* pages for them, while memory lasts; then trim the run to them */
	for (i = 0; i < win; i++)
		r->r_anons[i] = NULL;
	r->r_anons[s - bestlo] = anon;
	r->r_pgs[s - bestlo] = pg;
	r->r_locks[s - bestlo] = amap->am_lock;
	first = last = s - bestlo;
	for (i = 0, n = 1; i < ncand; i++) {
		a = cand[i];
		k = a->an_swslot - bestlo;
		if (k < 0 || k >= win)
			continue;
		KASSERT(r->r_anons[k] == NULL);	/* a slot has one owner */
		if (uvmexp_read(free) <= uvmexp_read(freemin) + n)
			break;
		if ((r->r_pgs[k] = uvm_pagealloc(NULL, 0, a, 0)) == NULL)
			break;
		r->r_anons[k] = a;
		r->r_locks[k] = candlock[i];
		ra->ra_pgs[ra->ra_n] = r->r_pgs[k];
		ra->ra_vers[ra->ra_n++] = r->r_pgs[k]->pg_version;
		n++;
		first = MIN(first, k);
		last = MAX(last, k);
	}
	uvmfault_swapin_order(r, s - bestlo, first, last);
	r->r_slot = bestlo + first;
	r->r_n = last - first + 1;
	for (i = 0; i < r->r_n; i++) {
		r->r_anons[i] = r->r_anons[first + i];
		r->r_pgs[i] = r->r_anons[i] != NULL ? r->r_pgs[first + i] : NULL;
		r->r_locks[i] = r->r_locks[first + i];
	}

	/* keep (referenced) the neighbour locks we took pages under */
	for (i = 0, nx = 0; i < r->r_nxlocks; i++) {
		for (used = false, k = 0; k < r->r_n && !used; k++)
			used = r->r_anons[k] != NULL &&
			    r->r_locks[k] == r->r_xlocks[i];
		if (used) {
			uvm_rwobj_hold(r->r_xlocks[i]);
			r->r_xlocks[nx++] = r->r_xlocks[i];
		}
		rw_exit(r->r_xlocks[i]);
	}
	r->r_nxlocks = nx;
}

/*
 * uvmfault_swapin_done: settle the read-ahead pages of a swap-in taken
 * under `lock` (all but the faulting anon's): a page whose anon died
 * meanwhile is freed with the anon; the others, if the read worked, are
 * clean and join the active queue (not mapped: the fault-ahead maps them
 * when they are near a fault); if it failed, they go back and their anons
 * stay in swap, for their own faults to read (and judge) one by one.
 * => lock write-held, and referenced by someone besides the released
 *    anons (the faulting amap, or us)
 */
static void
uvmfault_swapin_done(struct uvm_swapin *r, krwlock_t *lock,
    struct vm_anon *center, bool ok)
{
	struct vm_anon *anon;
	struct vm_page *pg;
	int i;

	KASSERT(rw_write_held(lock));
	for (i = 0; i < r->r_n; i++) {
		anon = r->r_anons[i];
		pg = r->r_pgs[i];
		if (anon == NULL || anon == center || r->r_locks[i] != lock)
			continue;
		KASSERT(anon->an_page == pg && anon->an_lock == lock);
		if (pg_flags_load(pg) & PG_WANTED)
			wakeup(pg);
		if (pg_flags_load(pg) & PG_RELEASED) {
			KASSERT(anon->an_ref == 0);
			uvm_lock_pageq();
			uvm_pagefree(pg);	/* detaches it from the anon */
			uvm_unlock_pageq();
			if (ok)		/* it was no swap-only page any more */
				uvm_anon_dropswap(anon);
			uvm_anfree(anon);
			/* the hold uvm_anfree took: not the last, see above */
			(void)uvm_rwobj_free(lock);
			continue;
		}
		atomic_clearbits_int(&pg->pg_flags, PG_WANTED | PG_BUSY |
		    PG_FAKE);
		UVM_PAGE_OWN(pg, NULL);
		if (!ok) {
			uvm_lock_pageq();
			uvm_pagefree(pg);	/* detaches it from the anon */
			uvm_unlock_pageq();
			continue;
		}
		pmap_clear_modify(pg);
		uvm_lock_pageq();
		uvm_pageactivate(pg);
		uvm_unlock_pageq();
	}
}

/*
 * uvmfault_anonget: make the anon's page resident and unbusy.
 *
 * A page that is busy (I/O, or another fault paging it in) is waited
 * for.  A page that lives only in swap is paged in: a fresh busy page is
 * attached to the anon, everything is unlocked for the read, and the
 * result is sorted out after relocking: released during the I/O (free
 * the anon, refault), failed (the slot is bad: the anon's data is lost,
 * EIO), or good (activate, and the fault goes on).
 * => amap and map locked; on 0 they still are, on ERESTART or an error
 *    everything has been unlocked
 */
static int
uvmfault_anonget(struct uvm_faultinfo *ufi, struct vm_amap *amap,
    struct vm_anon *anon)
{
	struct uvm_swapin r;
	struct vm_page *pg;
	bool locked, raok = false;
	int error, i;

	KASSERT(rw_write_held(anon->an_lock));
	KASSERT(anon->an_lock == amap->am_lock);
	uvmexp_inc(fltanget);
	pg = anon->an_page;
	if (pg != NULL) {
		if ((pg_flags_load(pg) & PG_BUSY) == 0)
			return 0;
		/* Someone else holds it (I/O, or a fault in progress). */
		uvmexp_inc(fltpgwait);
		uvmfault_unlockmaps(ufi, false);
		uvm_pagewait(pg, anon->an_lock, "anonget");
		return ERESTART;
	}

	if (anon->an_swslot == 0) {
		/* its data was lost to a bad swap slot (below): EIO again */
		uvmfault_unlockall(ufi, amap, NULL);
		return EIO;
	}
	/* Only in swap: page it in, with the neighbours that follow it there. */
	pg = uvm_pagealloc(NULL, 0, anon, 0);
	if (pg == NULL)
		return uvmfault_nomem(ufi, amap, NULL, "flt_noram0");
	uvmfault_swapin_cluster(ufi, amap, anon, pg, &r);
	/*
	 * PG_BUSY|PG_FAKE|PG_CLEAN and ours: nobody else touches the pages
	 * or reads their anons' an_swslot while we read them in unlocked.
	 */
	uvmfault_unlockall(ufi, amap, NULL);
	error = VM_PAGER_ERROR;
	if (r.r_n > 1)
		error = uvm_swap_getpages(r.r_pgs, r.r_n, r.r_slot, PGO_SYNCIO);
	raok = error == VM_PAGER_OK;
	if (error != VM_PAGER_OK)
		error = uvm_swap_get(pg, anon->an_swslot, PGO_SYNCIO);
	/* the neighbour entries' pages first, under their locks alone */
	for (i = 0; i < r.r_nxlocks; i++) {
		rw_enter(r.r_xlocks[i], RW_WRITE);
		uvmfault_swapin_done(&r, r.r_xlocks[i], NULL, raok);
		rw_exit(r.r_xlocks[i]);
		(void)uvm_rwobj_free(r.r_xlocks[i]);
	}

	locked = uvmfault_relock(ufi);
	rw_enter(anon->an_lock, RW_WRITE);
	if (r.r_n > 1)
		uvmfault_swapin_done(&r, anon->an_lock, anon, raok);
	if (pg_flags_load(pg) & PG_WANTED)
		wakeup(pg);
	if (error != VM_PAGER_OK && error != VM_PAGER_AGAIN) {
		/*
		 * The slot did not give back what was written there: mark it
		 * bad (never reused); the data is lost, and the anon, with
		 * neither page nor slot, fails every later fault with EIO
		 * (OpenBSD's SWSLOT_BAD).  It no longer lives in swap either.
		 * This comes first, before the PG_RELEASED test: an anon that
		 * died during the read must not give its bad slot back
		 * (uvm_anon_release would free it for reuse) nor stay counted
		 * in swpgonly.  [deviation: OpenBSD's uvmfault_anonget tests
		 * PG_RELEASED first and loses both; NetBSD's (by 1.113) marks
		 * the slot bad first and then goes to its "released" case,
		 * as we do.]
		 */
		uvm_swap_markbad(anon->an_swslot, 1);
		anon->an_swslot = 0;
		KASSERT(uvmexp_read(swpgonly) > 0);
		uvmexp_add(swpgonly, -1);
	}
	if (pg_flags_load(pg) & PG_RELEASED) {
		/* the anon died while we read: nothing to map */
		KASSERT(anon->an_ref == 0);
		if (error == VM_PAGER_AGAIN) {
			/*
			 * never read: the page lived only in swap until now,
			 * and is gone with its anon (uvm_anon_release frees
			 * the slot but counts a resident page)
			 */
			KASSERT(uvmexp_read(swpgonly) > 0);
			uvmexp_add(swpgonly, -1);
		}
		if (locked)
			uvmfault_unlockmaps(ufi, false);
		uvm_anon_release(anon);		/* frees the page, unlocks */
		uvmexp_inc(fltpgrele);
		/* a failed read fails the fault (NetBSD); else refault */
		return error == VM_PAGER_OK || error == VM_PAGER_AGAIN ?
		    ERESTART : EIO;
	}
	atomic_clearbits_int(&pg->pg_flags, PG_WANTED | PG_BUSY | PG_FAKE);
	UVM_PAGE_OWN(pg, NULL);
	if (error == VM_PAGER_AGAIN) {
		/* no I/O buffer now: the anon stays in swap; try again */
		uvm_lock_pageq();
		uvm_pagefree(pg);	/* detaches it from the anon */
		uvm_unlock_pageq();
		if (locked)
			uvmfault_unlockmaps(ufi, false);
		rw_exit(anon->an_lock);
		if (__atomic_load_n(&uvm.pagedaemon_proc, __ATOMIC_ACQUIRE) ==
		    NULL)
			return ENOMEM;
		uvm_wait("anongetagain");
		return ERESTART;
	}
	if (error != VM_PAGER_OK) {
		/* the slot went bad (above): fail the fault */
		uvm_lock_pageq();
		uvm_pagefree(pg);	/* detaches it from the anon */
		uvm_unlock_pageq();
		if (locked)
			uvmfault_unlockmaps(ufi, false);
		rw_exit(anon->an_lock);
		return EIO;
	}
	/* read in: clean (it matches its slot), on the active queue */
	pmap_clear_modify(pg);
	uvm_lock_pageq();
	uvm_pageactivate(pg);
	uvm_unlock_pageq();

	if (!locked) {
		rw_exit(anon->an_lock);
		return ERESTART;
	}
	/* did someone move the anon while we slept? */
	if (amap_lookup(&ufi->entry->aref,
	    ufi->orig_rvaddr - ufi->entry->start) != anon) {
		uvmfault_unlockall(ufi, amap, NULL);
		return ERESTART;
	}
	uvmexp_inc(fltanretry);
	return 0;
}

/*
 * uvmfault_walking: does this fault go on this LWP's walk (past its last
 * fault, up to the first page past the window that fault looked at)?  A
 * fault at the same address again (restarted, or a refault: a write
 * after a read, a mapping the pmap dropped) goes as the last one went.
 */
static bool
uvmfault_walking(const struct uvm_faultinfo *ufi)
{
	const struct uvm_faultwalk *fw = &uvm_faultwalk;

	if (fw->fw_map != ufi->orig_map)
		return false;
	if (ufi->orig_rvaddr == fw->fw_last)
		return fw->fw_walking;
	return ufi->orig_rvaddr > fw->fw_last &&
	    ufi->orig_rvaddr <= fw->fw_next;
}

/*
 * uvm_fault_check: look up the fault and set the context up.
 * => nothing locked on entry; on 0 the map (read) and the amap (if any)
 *    are locked and *ranons holds the range's anons (or NULL)
 */
static int
uvm_fault_check(struct uvm_faultinfo *ufi, struct uvm_faultctx *flt,
    struct vm_anon ***ranons)
{
	struct vm_amap *amap;
	struct uvm_object *uobj;
	vaddr_t nback, nforw;
	bool walking;
	int adv;

	if (!uvmfault_lookup(ufi, false))
		return EFAULT;
	if ((ufi->entry->protection & flt->access_type) != flt->access_type) {
		uvmfault_unlockmaps(ufi, false);
		return EACCES;
	}
	flt->enter_prot = ufi->entry->protection;
	if (VM_MAPENT_ISWIRED(ufi->entry))
		flt->wired = true;
	if (flt->wired) {
		/* A wiring fault gets everything the entry allows. */
		flt->access_type = flt->enter_prot;
	}

	/*
	 * needs-copy: the amap is shared (or absent).  A write, or any
	 * access to zero-fill memory (no object), must first give the entry
	 * its own amap; that needs the map write-locked, so start over.
	 */
	if (UVM_ET_ISNEEDSCOPY(ufi->entry)) {
		if ((flt->access_type & VM_PROT_WRITE) ||
		    ufi->entry->object.uvm_obj == NULL) {
			uvmfault_unlockmaps(ufi, false);
			if (!uvmfault_lookup(ufi, true))
				return ERESTART;
			if (UVM_ET_ISNEEDSCOPY(ufi->entry)) {
				uvmexp_inc(fltamcopy);
				amap_copy(ufi->map, ufi->entry, AMAP_COPY_NOWAIT,
				    true, ufi->orig_rvaddr,
				    ufi->orig_rvaddr + 1);
				if (UVM_ET_ISNEEDSCOPY(ufi->entry)) {
					/* no memory for the amap */
					uvmexp_inc(fltnoamap);
					uvmfault_unlockmaps(ufi, true);
					if (__atomic_load_n(&uvm.pagedaemon_proc,
					    __ATOMIC_ACQUIRE) == NULL)
						return ENOMEM;
					uvm_wait("fltamapcopy");
					return ERESTART;
				}
			}
			uvmfault_unlockmaps(ufi, true);
			return ERESTART;
		}
		/* A read: map read-only until the copy happens. */
		flt->enter_prot &= ~VM_PROT_WRITE;
	}

	amap = ufi->entry->aref.ar_amap;
	uobj = ufi->entry->object.uvm_obj;
	if (amap == NULL && uobj == NULL) {
		uvmfault_unlockmaps(ufi, false);
		return EFAULT;
	}

	/* The range: the faulting page and some neighbours, by advice. */
	adv = ufi->entry->advice;
	if (adv < 0 || adv > UVM_ADV_SEQUENTIAL)
		adv = UVM_ADV_NORMAL;
	walking = false;
	if (flt->narrow || flt->wired) {
		nback = nforw = 0;
	} else if (adv == UVM_ADV_NORMAL && uvmfault_walking(ufi)) {
		walking = true;
		if (ufi->orig_rvaddr != uvm_faultwalk.fw_last)
			uvmexp_inc(fltwalk);	/* not again for a restart */
		nback = 0;
		nforw = MIN((vaddr_t)(UVM_MAXRANGE - 1),
		    ((ufi->entry->end - ufi->orig_rvaddr) >> PAGE_SHIFT) - 1);
	} else if (adv == UVM_ADV_NORMAL &&
	    uvm_faultahead == UVM_FAULTAHEAD_WALK) {
		nback = nforw = 0;	/* off a walk: see uvm_faultahead */
	} else {
		nback = MIN((vaddr_t)uvmadvice[adv].nback,
		    (ufi->orig_rvaddr - ufi->entry->start) >> PAGE_SHIFT);
		nforw = MIN((vaddr_t)uvmadvice[adv].nforw,
		    ((ufi->entry->end - ufi->orig_rvaddr) >> PAGE_SHIFT) - 1);
	}
	/* this fault is the LWP's last now */
	uvm_faultwalk.fw_map = ufi->orig_map;
	uvm_faultwalk.fw_last = ufi->orig_rvaddr;
	uvm_faultwalk.fw_next = ufi->orig_rvaddr + ((nforw + 1) << PAGE_SHIFT);
	uvm_faultwalk.fw_walking = walking;
	flt->startva = ufi->orig_rvaddr - (nback << PAGE_SHIFT);
	flt->npages = (int)(nback + nforw + 1);
	flt->centeridx = (int)nback;
	KASSERT(flt->npages <= UVM_MAXRANGE);

	if (amap != NULL) {
		rw_enter(amap->am_lock, RW_WRITE);
		amap_lookups(&ufi->entry->aref, flt->startva - ufi->entry->start,
		    *ranons, flt->npages);
	} else {
		*ranons = NULL;
	}
	return 0;
}

/*
 * uvm_fault_upper_lookup: map the resident, unbusy anons around the
 * faulting page (never the centre: that is the caller's).  Returns true
 * if the centre page lives in the amap.
 * => map and amap locked
 */
static bool
uvm_fault_upper_lookup(struct uvm_faultinfo *ufi,
    const struct uvm_faultctx *flt, struct vm_anon **anons)
{
	struct vm_anon *anon;
	struct vm_page *pg;
	vaddr_t va;
	bool shadowed = false;
	int lcv;

	for (lcv = 0, va = flt->startva; lcv < flt->npages;
	    lcv++, va += PAGE_SIZE) {
		anon = anons[lcv];
		if (anon == NULL)
			continue;
		if (lcv == flt->centeridx) {
			shadowed = true;
			continue;
		}
		pg = anon->an_page;
		/* busy pages are not ours; VAs already mapped stay as they are */
		if (pg == NULL || (pg_flags_load(pg) & PG_BUSY) != 0 ||
		    pmap_extract(ufi->orig_map->pmap, va, NULL))
			continue;
		uvm_lock_pageq();
		uvm_pageactivate(pg);
		uvm_unlock_pageq();
		uvmexp_inc(fltnamap);
		/* no access type: the neighbour is not referenced yet */
		(void)pmap_enter(ufi->orig_map->pmap, va, VM_PAGE_TO_PHYS(pg),
		    (anon->an_ref > 1) ? (flt->enter_prot & ~VM_PROT_WRITE) :
		    flt->enter_prot, PMAP_CANFAIL);
	}
	return shadowed;
}

/*
 * uvm_fault_upper: the page is in an anon.  Map it; or, for a write to
 * an anon that other amaps share, copy it into a new anon (COW).
 * => map and amap locked; unlocked on return
 */
static int
uvm_fault_upper(struct uvm_faultinfo *ufi, struct uvm_faultctx *flt,
    struct vm_anon **anons)
{
	struct vm_amap *amap = ufi->entry->aref.ar_amap;
	struct vm_anon *anon = anons[flt->centeridx], *oanon;
	struct vm_page *pg;
	bool newwire;
	int error;

	error = uvmfault_anonget(ufi, amap, anon);
	if (error != 0)
		return error;

	if ((flt->access_type & VM_PROT_WRITE) != 0 && anon->an_ref > 1) {
		/* Copy on write: a private copy in a new anon. */
		uvmexp_inc(flt_acow);
		oanon = anon;
		anon = uvm_analloc();
		if (anon != NULL) {
			anon->an_lock = amap->am_lock;
			pg = uvm_pagealloc(NULL, 0, anon, 0);
		} else {
			pg = NULL;
		}
		if (anon == NULL || pg == NULL) {
			if (anon != NULL) {
				anon->an_lock = NULL;
				anon->an_ref--;
				uvm_anfree(anon);
			} else {
				uvmexp_inc(fltnoanon);
			}
			return uvmfault_nomem(ufi, amap, NULL, "flt_noram1");
		}
		uvm_pagecopy(oanon->an_page, pg);
		/* the old anon keeps its other references */
		oanon->an_ref--;
		(void)amap_add(&ufi->entry->aref,
		    ufi->orig_rvaddr - ufi->entry->start, anon, true);
		atomic_clearbits_int(&pg->pg_flags, PG_BUSY | PG_FAKE);
		UVM_PAGE_OWN(pg, NULL);
		/* (flt_acow only: flt_prcopy counts object promotions) */
	} else {
		uvmexp_inc(flt_anon);
		pg = anon->an_page;
		if (anon->an_ref > 1)
			flt->enter_prot &= ~VM_PROT_WRITE;
	}

	newwire = uvmfault_newwire(ufi, flt, pg);
	if (pmap_enter(ufi->orig_map->pmap, ufi->orig_rvaddr,
	    VM_PAGE_TO_PHYS(pg), flt->enter_prot, (flt->access_type &
	    VM_PROT_ALL) | PMAP_CANFAIL | (flt->wired ? PMAP_WIRED : 0)) != 0)
		return uvmfault_nomem(ufi, amap, NULL, "flt_pmfail1");

	uvm_lock_pageq();
	if (newwire)
		uvm_pagewire(pg);
	else if (!flt->wired)
		uvm_pageactivate(pg);
	uvm_unlock_pageq();
	if (flt->wired) {
		/*
		 * since the now-wired page cannot be paged out, release its
		 * swap resources for others to use.  since an anon with no
		 * swap cannot be PG_CLEAN, clear its clean flag now
		 * (OpenBSD's uvm_fault_upper).
		 */
		atomic_clearbits_int(&pg->pg_flags, PG_CLEAN);
		uvm_anon_dropswap(anon);
	}
	uvmfault_unlockall(ufi, amap, NULL);
	pmap_update(ufi->orig_map->pmap);
	return 0;
}

/*
 * uvm_fault_lower_neighbours: map the resident object pages around the
 * centre that pgo_get(PGO_LOCKED) busied for us, and unbusy them.
 * => map, amap, object locked
 */
static void
uvm_fault_lower_neighbours(struct uvm_faultinfo *ufi,
    const struct uvm_faultctx *flt, struct vm_page **pages,
    struct vm_anon **anons)
{
	struct vm_page *pg;
	vaddr_t va;
	int lcv;

	for (lcv = 0, va = flt->startva; lcv < flt->npages;
	    lcv++, va += PAGE_SIZE) {
		pg = pages[lcv];
		if (lcv == flt->centeridx || pg == NULL || pg == PGO_DONTCARE)
			continue;
		KASSERT(pg_flags_load(pg) & PG_BUSY);
		/* VAs already mapped stay as they are */
		if (pmap_extract(ufi->orig_map->pmap, va, NULL))
			goto unbusy;
		uvm_lock_pageq();
		uvm_pageactivate(pg);
		uvm_unlock_pageq();
		uvmexp_inc(fltnomap);
		/* read-only: a write must come back for copy-on-write */
		if (anons == NULL || anons[lcv] == NULL)
			(void)pmap_enter(ufi->orig_map->pmap, va,
			    VM_PAGE_TO_PHYS(pg),
			    UVM_ET_ISCOPYONWRITE(ufi->entry) ?
			    (flt->enter_prot & ~VM_PROT_WRITE) :
			    flt->enter_prot, PMAP_CANFAIL);
unbusy:
		atomic_clearbits_int(&pg->pg_flags, PG_BUSY);
		UVM_PAGE_OWN(pg, NULL);
	}
}

/*
 * uvm_fault_lower: the page comes from the object, or is zero fill.
 * => map and amap (if any) locked; everything unlocked on return
 */
static int
uvm_fault_lower(struct uvm_faultinfo *ufi, struct uvm_faultctx *flt,
    struct vm_anon **anons, struct vm_page **pages)
{
	struct vm_amap *amap = ufi->entry->aref.ar_amap;
	struct uvm_object *uobj = ufi->entry->object.uvm_obj;
	struct vm_anon *anon;
	struct vm_page *uobjpage = NULL, *pg;
	voff_t uoff;
	vm_prot_t access;
	bool newwire;
	int gotpages, result, lcv;

	/*
	 * Ask the pager for resident pages with everything locked
	 * (PGO_LOCKED: it neither unlocks nor sleeps).
	 */
	if (uobj != NULL && uobj->pgops->pgo_get != NULL) {
		rw_enter(uobj->vmobjlock, RW_WRITE);
		/* pages the amap shadows are not the object's to give */
		for (lcv = 0; lcv < flt->npages; lcv++)
			pages[lcv] = (anons != NULL && anons[lcv] != NULL &&
			    lcv != flt->centeridx) ? PGO_DONTCARE : NULL;
		gotpages = flt->npages;
		uoff = ufi->entry->offset + (flt->startva - ufi->entry->start);
		uvmexp_inc(fltlget);
		(void)uobj->pgops->pgo_get(uobj, uoff, pages, &gotpages,
		    flt->centeridx, flt->access_type & VM_PROT_ALL,
		    ufi->entry->advice, PGO_LOCKED);
		uvm_fault_lower_neighbours(ufi, flt, pages, anons);
		uobjpage = pages[flt->centeridx];
		if (uobjpage == PGO_DONTCARE)
			uobjpage = NULL;
	} else if (uobj != NULL) {
		rw_enter(uobj->vmobjlock, RW_WRITE);
	}

	/* Promote (copy into an anon) for a COW write, or zero fill. */
	flt->promote = uobj == NULL || ((flt->access_type & VM_PROT_WRITE) &&
	    UVM_ET_ISCOPYONWRITE(ufi->entry));

	if (uobj != NULL && uobjpage == NULL) {
		/*
		 * Not resident (or busy): get it with the pager's unlocked
		 * get, which may sleep, and relock afterwards.
		 */
		/*
		 * [deviation: OpenBSD reads ufi->entry->advice for pgo_get
		 * after unlocking the maps: a data race with an madvise of
		 * the entry (ThreadSanitizer, under mix).  Read under the
		 * lock instead; the entry is revalidated by the relock.]
		 */
		int advice = ufi->entry->advice;

		uoff = ufi->entry->offset + (ufi->orig_rvaddr - ufi->entry->start);
		if (amap != NULL)
			rw_exit(amap->am_lock);
		uvmfault_unlockmaps(ufi, false);
		gotpages = 1;
		uobjpage = NULL;
		uvmexp_inc(fltget);
		result = uobj->pgops->pgo_get(uobj, uoff, &uobjpage, &gotpages,
		    0, flt->access_type & VM_PROT_ALL, advice, 0);
		/* the object is unlocked now */
		if (result == VM_PAGER_AGAIN) {
			/* short of memory: only a pagedaemon can help */
			if (__atomic_load_n(&uvm.pagedaemon_proc,
			    __ATOMIC_ACQUIRE) == NULL)
				return ENOMEM;
			/* out of swap: waiting cannot help (uvmfault_nomem) */
			if (uvm_swapisfull())
				return ENOMEM;
			uvm_wait("fltagain");
			return ERESTART;
		}
		if (result != VM_PAGER_OK)
			return result == VM_PAGER_ERROR ? EIO : EACCES;
		KASSERT(uobjpage != NULL &&
		    (pg_flags_load(uobjpage) & PG_BUSY));
		if (!uvmfault_relock(ufi)) {
			/* the map changed: give the page back and retry */
			rw_enter(uobj->vmobjlock, RW_WRITE);
			uvm_page_unbusy(&uobjpage, 1);
			rw_exit(uobj->vmobjlock);
			return ERESTART;
		}
		if (amap != NULL)
			rw_enter(amap->am_lock, RW_WRITE);
		rw_enter(uobj->vmobjlock, RW_WRITE);
		if ((pg_flags_load(uobjpage) & PG_RELEASED) != 0 ||
		    uobjpage->uobject != uobj) {
			/* freed or moved while we slept */
			uvmexp_inc(fltpgrele);
			uvm_page_unbusy(&uobjpage, 1);
			uvmfault_unlockall(ufi, amap, uobj);
			return ERESTART;
		}
		/*
		 * Re-verify that the amap slot is still free (OpenBSD):
		 * another fault at this address (one that waited for the
		 * same busy page, or found it unbusy while we slept) may
		 * have promoted it into an anon meanwhile.  Promoting again
		 * would add a second anon to the slot; mapping the object's
		 * page would hide that anon's newer data.  Let the page go
		 * and refault: the upper layer has it now.
		 */
		if (amap != NULL && amap_lookup(&ufi->entry->aref,
		    ufi->orig_rvaddr - ufi->entry->start) != NULL) {
			uvm_lock_pageq();
			uvm_pageactivate(uobjpage);	/* on a queue */
			uvm_unlock_pageq();
			uvm_page_unbusy(&uobjpage, 1);
			uvmfault_unlockall(ufi, amap, uobj);
			return ERESTART;
		}
	}

	if (!flt->promote) {
		/* Map the object's page itself. */
		uvmexp_inc(flt_obj);
		pg = uobjpage;
		if (UVM_ET_ISCOPYONWRITE(ufi->entry) ||
		    (pg_flags_load(pg) & PG_RDONLY))
			flt->enter_prot &= ~VM_PROT_WRITE;
	} else {
		/* A new anon: a copy of the object's page, or zeros. */
		if (amap == NULL) {
			/* can't happen: needs-copy gave the entry an amap */
			panic("uvm_fault_lower: promote with no amap");
		}
		anon = uvm_analloc();
		pg = NULL;
		if (anon != NULL) {
			anon->an_lock = amap->am_lock;
			pg = uvm_pagealloc(NULL, 0, anon,
			    uobjpage == NULL ? UVM_PGA_ZERO : 0);
		}
		if (anon == NULL || pg == NULL) {
			if (anon != NULL) {
				anon->an_lock = NULL;
				anon->an_ref--;
				uvm_anfree(anon);
			} else {
				uvmexp_inc(fltnoanon);
			}
			if (uobjpage != NULL)
				uvm_page_unbusy(&uobjpage, 1);
			return uvmfault_nomem(ufi, amap, uobj, "flt_noram2");
		}
		if (uobjpage != NULL) {
			uvmexp_inc(flt_prcopy);
			uvm_pagecopy(uobjpage, pg);
			uvm_lock_pageq();
			uvm_pageactivate(uobjpage);
			uvm_unlock_pageq();
			uvm_page_unbusy(&uobjpage, 1);
			uobjpage = NULL;
		} else {
			uvmexp_inc(flt_przero);
		}
		/* (the slots exist from amap_alloc: amap_add cannot fail) */
		(void)amap_add(&ufi->entry->aref,
		    ufi->orig_rvaddr - ufi->entry->start, anon, false);
		atomic_clearbits_int(&pg->pg_flags, PG_FAKE);
	}

	/*
	 * A promoted page is new and already dirty (zeroed or copied: it
	 * matches no backing store), so its mapping may be writable from
	 * the start: entering it as written saves the modified-bit trap of
	 * the first store, and the modified bit it sets is true anyway.
	 */
	access = flt->access_type & VM_PROT_ALL;
	if (flt->promote)
		access |= flt->enter_prot & VM_PROT_WRITE;
	newwire = uvmfault_newwire(ufi, flt, pg);
	if (pmap_enter(ufi->orig_map->pmap, ufi->orig_rvaddr,
	    VM_PAGE_TO_PHYS(pg), flt->enter_prot, access | PMAP_CANFAIL |
	    (flt->wired ? PMAP_WIRED : 0)) != 0) {
		uvmfault_unbusy(pg);
		return uvmfault_nomem(ufi, amap, uobj, "flt_pmfail2");
	}

	uvm_lock_pageq();
	if (newwire)
		uvm_pagewire(pg);
	else if (!flt->wired)
		uvm_pageactivate(pg);
	uvm_unlock_pageq();
	if (flt->wired && (pg_flags_load(pg) & PQ_AOBJ)) {
		/*
		 * as in uvm_fault_upper: a wired aobj page is never paged
		 * out; give its swap slot back, and with no slot it cannot
		 * be clean (OpenBSD's uvm_fault_lower).  A promoted page is
		 * a new anon's: no slot yet.
		 */
		KASSERT(pg->uobject == uobj);
		atomic_clearbits_int(&pg->pg_flags, PG_CLEAN);
		(void)uao_dropswap(uobj, (int)(pg->offset >> PAGE_SHIFT));
	}
	uvmfault_unbusy(pg);
	uvmfault_unlockall(ufi, amap, uobj);
	pmap_update(ufi->orig_map->pmap);
	return 0;
}

/*
 * uvmfault_newwire: will this fault make a new wired mapping of pg at the
 * fault address?  Each wired mapping holds one wiring of its page, so a
 * fault that finds the wired mapping already there (a wiring fault racing
 * an ordinary fault on a wired entry) must not wire the page again.
 * => map and owner locked
 */
static bool
uvmfault_newwire(struct uvm_faultinfo *ufi, const struct uvm_faultctx *flt,
    struct vm_page *pg)
{
	return flt->wired && !pmap_is_wired(ufi->orig_map->pmap,
	    ufi->orig_rvaddr, VM_PAGE_TO_PHYS(pg));
}

/*
 * uvmfault_unbusy: a new anon page is ours alone (nobody can have waited
 * for it); an object page goes through uvm_page_unbusy.
 * => owner locked
 */
static void
uvmfault_unbusy(struct vm_page *pg)
{
	if (pg->uanon != NULL) {
		atomic_clearbits_int(&pg->pg_flags, PG_BUSY | PG_WANTED);
		UVM_PAGE_OWN(pg, NULL);
	} else {
		uvm_page_unbusy(&pg, 1);
	}
}

/*
 * uvmfault_kstack_push: push a frame of size bytes on the current LWP's
 * kernel stack if it has one (FreeBSD's glue: vm_thread_new), so that the
 * clock's intr_prof_stack_use sees how deep the kernel went; NULL if not.
 * => never sleeps (the stack is wired)
 */
static void *
uvmfault_kstack_push(size_t size)
{
	struct lwp *l = curlwp;

	if (l == NULL || __atomic_load_n(&l->l_kstack, __ATOMIC_RELAXED) == 0)
		return NULL;
	return vm_kstack_enter(l, size);
}

int
uvm_fault(struct vm_map *orig_map, vaddr_t vaddr, vm_fault_t fault_type,
    vm_prot_t access_type)
{
	struct uvm_faultinfo ufi;
	struct uvm_faultctx flt;
	struct vm_anon *anons_store[UVM_MAXRANGE], **anons;
	struct vm_page *pages[UVM_MAXRANGE];
	uint64_t t0 = host_real_ns();
	void *frame;
	int error;

	uvmexp_inc(faults);
	/* [extension: vm_glue.c] this function's frame on the kernel stack */
	frame = uvmfault_kstack_push(sizeof(ufi) + sizeof(flt) +
	    sizeof(anons_store) + sizeof(pages));
	ufi.orig_map = orig_map;
	ufi.orig_rvaddr = trunc_page(vaddr);
	ufi.orig_size = PAGE_SIZE;

	do {
		memset(&flt, 0, sizeof(flt));
		flt.access_type = access_type;
		flt.wired = fault_type == VM_FAULT_WIRE ||
		    fault_type == VM_FAULT_WIREMAX;
		flt.narrow = false;
		anons = anons_store;
		error = uvm_fault_check(&ufi, &flt, &anons);
		if (error != 0)
			continue;
		if (anons != NULL &&
		    uvm_fault_upper_lookup(&ufi, &flt, anons))
			error = uvm_fault_upper(&ufi, &flt, anons);
		else
			error = uvm_fault_lower(&ufi, &flt, anons, pages);
	} while (error == ERESTART);
	fault_hist_add(host_real_ns() - t0);
	if (frame != NULL)
		vm_kstack_leave(curlwp, frame);
	return error;
}

int
uvm_fault_wire(struct vm_map *map, vaddr_t start, vaddr_t end,
    vm_prot_t access_type, int maxprot)
{
	vaddr_t va;
	int error;

	for (va = start; va < end; va += PAGE_SIZE) {
		error = uvm_fault(map, va, maxprot ? VM_FAULT_WIREMAX :
		    VM_FAULT_WIRE, access_type);
		if (error != 0) {
			if (va != start)
				uvm_fault_unwire(map, start, va);
			return error;
		}
	}
	return 0;
}

void
uvm_fault_unwire(struct vm_map *map, vaddr_t start, vaddr_t end)
{
	vm_map_lock_read(map);
	uvm_fault_unwire_locked(map, start, end);
	vm_map_unlock_read(map);
}

/*
 * uvm_fault_unwire_locked: unwire the pages of [start, end), which must
 * have been wired.  The pages' owners (the entry's amap and object) are
 * locked around the queue changes, as uvm_pageunwire requires.
 * => map locked (read or write)
 */
void
uvm_fault_unwire_locked(struct vm_map *map, vaddr_t start, vaddr_t end)
{
	struct pmap *pmap = vm_map_pmap(map);
	struct vm_map_entry *entry;
	struct vm_amap *amap;
	struct uvm_object *uobj;
	struct vm_page *pg;
	paddr_t pa;
	vaddr_t va, eend;

	KASSERT(rw_lock_held(&map->lock));
	if (!uvm_map_lookup_entry(map, start, &entry))
		panic("uvm_fault_unwire_locked: %#lx not mapped",
		    (unsigned long)start);
	for (va = start; va < end; entry = entry->next) {
		KASSERTMSG(entry != &map->header && entry->start <= va,
		    "uvm_fault_unwire_locked: hole at %#lx", (unsigned long)va);
		KASSERT(!UVM_ET_ISSUBMAP(entry));
		amap = entry->aref.ar_amap;
		uobj = entry->object.uvm_obj;
		if (amap != NULL)
			rw_enter(amap->am_lock, RW_WRITE);
		if (uobj != NULL)
			rw_enter(uobj->vmobjlock, RW_WRITE);
		eend = MIN(end, entry->end);
		for (; va < eend; va += PAGE_SIZE) {
			if (!pmap_extract(pmap, va, &pa))
				continue;	/* never faulted in */
			pmap_unwire(pmap, va);
			pg = PHYS_TO_VM_PAGE(pa);
			uvm_lock_pageq();
			uvm_pageunwire(pg);
			uvm_unlock_pageq();
		}
		if (uobj != NULL)
			rw_exit(uobj->vmobjlock);
		if (amap != NULL)
			rw_exit(amap->am_lock);
	}
}

/*
 * uvm_trap_fault: the trap's way into the VM.  The pmap's owner is the
 * map it translates for; a fault where the pmap has a mapping is a
 * protection fault.
 * => runs on the faulting thread, no locks held
 */
int
uvm_trap_fault(pmap_t pm, vaddr_t va, vm_prot_t access, bool valid)
{
	struct vm_map *map = pmap_owner(pm);
	struct trapframe *tf;
	int error;

	uvmexp_inc(traps);
	if (map == NULL)
		return EFAULT;
	/* [extension: vm_glue.c] the trap frame on the LWP's kernel stack */
	tf = uvmfault_kstack_push(sizeof(*tf));
	if (tf != NULL) {
		tf->tf_usermode = map != kernel_map;
		tf->tf_sp = (vaddr_t)tf;
	}
	error = uvm_fault(map, va, valid ? VM_FAULT_PROTECT : VM_FAULT_INVALID,
	    access);
	if (tf != NULL)
		vm_kstack_leave(curlwp, tf);
	/* [extension: vm_glue.c] a kernel stack's guard: panic, naming it */
	if (error != 0 && map == kernel_map)
		vm_kstack_guard_check(va, access);
	return error;
}
