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
#include "uvm_map.h"
#include "uvm_pager.h"
#include "uvm_swap.h"

#define UVM_MAXRANGE	16	/* most pages looked at per fault */

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
static bool uvmfault_relock(struct uvm_faultinfo *);
static void uvmfault_unlockmaps(struct uvm_faultinfo *, bool);
static void uvmfault_unlockall(struct uvm_faultinfo *, struct vm_amap *,
    struct uvm_object *);
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
	struct vm_page *pg;
	bool locked;
	int error;

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
	/* Only in swap: page it in. */
	pg = uvm_pagealloc(NULL, 0, anon, 0);
	if (pg == NULL)
		return uvmfault_nomem(ufi, amap, NULL, "flt_noram0");
	/*
	 * PG_BUSY|PG_FAKE|PG_CLEAN and ours: nobody else touches the page
	 * or reads an_swslot while we read it in unlocked.
	 */
	uvmfault_unlockall(ufi, amap, NULL);
	error = uvm_swap_get(pg, anon->an_swslot, PGO_SYNCIO);

	locked = uvmfault_relock(ufi);
	rw_enter(anon->an_lock, RW_WRITE);
	if (pg_flags_load(pg) & PG_WANTED)
		wakeup(pg);
	if (pg_flags_load(pg) & PG_RELEASED) {
		/* the anon died while we read: nothing to map, refault */
		KASSERT(anon->an_ref == 0);
		if (locked)
			uvmfault_unlockmaps(ufi, false);
		uvm_anon_release(anon);		/* frees the page, unlocks */
		uvmexp_inc(fltpgrele);
		return ERESTART;
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
		/*
		 * The slot did not give back what was written there: mark it
		 * bad (never reused) and fail the fault; the data is lost,
		 * and the anon, with neither page nor slot, fails every
		 * later fault with EIO too (OpenBSD's SWSLOT_BAD).  It no
		 * longer lives in swap either.
		 */
		uvm_swap_markbad(anon->an_swslot, 1);
		anon->an_swslot = 0;
		uvmexp_add(swpgonly, -1);
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
	if (flt->narrow || flt->wired) {
		nback = nforw = 0;
	} else {
		nback = MIN((vaddr_t)uvmadvice[adv].nback,
		    (ufi->orig_rvaddr - ufi->entry->start) >> PAGE_SHIFT);
		nforw = MIN((vaddr_t)uvmadvice[adv].nforw,
		    ((ufi->entry->end - ufi->orig_rvaddr) >> PAGE_SHIFT) - 1);
	}
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
		if (pg == NULL || (pg_flags_load(pg) & PG_BUSY) != 0)
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
		uvmexp_inc(flt_prcopy);
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
		if (amap != NULL)
			rw_exit(amap->am_lock);
		uvmfault_unlockmaps(ufi, false);
		gotpages = 1;
		uobjpage = NULL;
		uoff = ufi->entry->offset + (ufi->orig_rvaddr - ufi->entry->start);
		uvmexp_inc(fltget);
		result = uobj->pgops->pgo_get(uobj, uoff, &uobjpage, &gotpages,
		    0, flt->access_type & VM_PROT_ALL, ufi->entry->advice, 0);
		/* the object is unlocked now */
		if (result == VM_PAGER_AGAIN) {
			/* short of memory: only a pagedaemon can help */
			if (__atomic_load_n(&uvm.pagedaemon_proc,
			    __ATOMIC_ACQUIRE) == NULL)
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

int
uvm_fault(struct vm_map *orig_map, vaddr_t vaddr, vm_fault_t fault_type,
    vm_prot_t access_type)
{
	struct uvm_faultinfo ufi;
	struct uvm_faultctx flt;
	struct vm_anon *anons_store[UVM_MAXRANGE], **anons;
	struct vm_page *pages[UVM_MAXRANGE];
	uint64_t t0 = host_real_ns();
	int error;

	uvmexp_inc(faults);
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
uvm_trap_fault(pmap_t pm, vaddr_t va, vm_prot_t access)
{
	struct vm_map *map = pmap_owner(pm);

	uvmexp_inc(traps);
	if (map == NULL)
		return EFAULT;
	return uvm_fault(map, va, pmap_extract(pm, va, NULL) ?
	    VM_FAULT_PROTECT : VM_FAULT_INVALID, access);
}
