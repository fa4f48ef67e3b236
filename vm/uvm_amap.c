/*
 * vm/uvm_amap.c: anonymous maps (OpenBSD 2022 uvm_amap.c semantics, the
 * NetBSD dense slot list).
 *
 * What it owns: struct vm_amap and its slot chunks, all from pools of
 * kernel memory (uvm_km_pool_allocator: pages of the machine's RAM, no
 * malloc, since amap_copy and amap_add run on the fault path).  Chunks
 * come from size classes of 64 bytes to a page; the directory of a large
 * amap from the same classes.
 *
 * Per-slot reference counts (am_ppref, UVM_AMAP_PPREF of NetBSD 1.80+
 * and OpenBSD): see uvm_amap.h.  They are allocated NOWAIT under am_lock
 * (amap_pp_establish), from the same pools as the slots; a failure
 * leaves PPREF_NONE and whole-amap counting, as in the BSDs.
 * amap_pp_adjref splits runs at both ends of the range it adjusts,
 * merges the first changed run into an equal run before it, and wipes
 * the slots whose count reaches 0 (amap_wiperange: the amap's reference
 * on each anon is dropped, as amap_wipeout does, so an anon whose page is
 * busy is released to its holder by uvm_anfree).
 *
 * Locking: am_lock (a reference-counted lock, uvm_rwobj_*) covers the
 * amap's slots, am_nused, am_flags, am_ppref and the anons in it.
 * am_ref changes under am_lock and is read atomically without it
 * (amap_refs, the first check of amap_copy).  The lock is shared with the anons and with the
 * amaps copied from this one (OpenBSD: "Make the new amap share the
 * source amap's lock"), so that an anon referenced from two amaps after a
 * fork still has exactly one lock.
 *
 * Order: map > amap (= anon) > object > page queues.
 */
#include "host/pmap.h"
#include "host/pool.h"
#include "uvm.h"
#include "uvm_amap.h"
#include "uvm_km.h"
#include "uvm_map.h"
#include "uvm_object.h"

/* size classes of slot chunks and directories: 64 << i bytes */
#define AMAP_NCLASS		7
#define AMAP_CLASS_MIN		64
CTASSERT((AMAP_CLASS_MIN << (AMAP_NCLASS - 1)) == PAGE_SIZE);
CTASSERT(sizeof(struct vm_amap_slot) == 16);

static struct pool uvm_amap_pool;
static struct pool uvm_amap_kmem_pool[AMAP_NCLASS];
static const char *const uvm_amap_kmem_names[AMAP_NCLASS] = {
	"amapkm64", "amapkm128", "amapkm256", "amapkm512", "amapkm1k",
	"amapkm2k", "amapkm4k",
};
static int uvm_amap_nalloc;	/* [a] amaps allocated now */

/* local prototypes */
static int amap_kmem_class(size_t size);
static void *amap_kmem_alloc(size_t size, int prflags);
static void amap_kmem_free(void *p, size_t size);
static struct vm_amap *amap_alloc1(int slots, int prflags);
static void amap_free1(struct vm_amap *amap);
static struct vm_amap_slot *amap_slotp(const struct vm_amap *amap, int slot);
static int amap_aref_slot(const struct vm_aref *aref, vaddr_t offset);
static void amap_slot_add(struct vm_amap *amap, int slot,
    struct vm_anon *anon);
static void amap_slot_remove(struct vm_amap *amap, int slot);
static int *pp_refp(const struct vm_amap *amap, int slot);
static void pp_getreflen(const struct vm_amap *amap, int slot, int *refp,
    int *lenp);
static void pp_setreflen(struct vm_amap *amap, int slot, int ref, int len);
static bool amap_pp_active(const struct vm_amap *amap);
static void amap_pp_establish(struct vm_amap *amap);
static void amap_pp_free(struct vm_amap *amap);
static void amap_pp_adjref(struct vm_amap *amap, int curslot, int slotlen,
    int adjval);
static void amap_wiperange(struct vm_amap *amap, int slotoff, int slots);
static void amap_wipeslot(struct vm_amap *amap, int slot,
    struct vm_anon *anon);

/*
 * amap_init: the amap pool and the slot size classes.
 * => at boot (uvm_init), single-threaded, after uao_init (which starts
 *    the reference-counted locks)
 */
void
amap_init(void)
{
	int i;

	pool_init(&uvm_amap_pool, sizeof(struct vm_amap), 0, 0, 0, "amappl",
	    &uvm_km_pool_allocator, IPL_NONE);
	for (i = 0; i < AMAP_NCLASS; i++)
		pool_init(&uvm_amap_kmem_pool[i], (size_t)AMAP_CLASS_MIN << i,
		    0, 0, 0, uvm_amap_kmem_names[i], &uvm_km_pool_allocator,
		    IPL_NONE);
	__atomic_store_n(&uvm_amap_nalloc, 0, __ATOMIC_RELAXED);
}

/* The size class that holds size bytes (size <= PAGE_SIZE). */
static int
amap_kmem_class(size_t size)
{
	int i;

	KASSERT(size > 0 && size <= PAGE_SIZE);
	for (i = 0; ((size_t)AMAP_CLASS_MIN << i) < size; i++)
		continue;
	return i;
}

/* Kernel memory for slots or a directory.  => PR_WAITOK may sleep */
static void *
amap_kmem_alloc(size_t size, int prflags)
{
	return pool_get(&uvm_amap_kmem_pool[amap_kmem_class(size)],
	    (prflags & PR_WAITOK) | PR_ZERO);
}

static void
amap_kmem_free(void *p, size_t size)
{
	pool_put(&uvm_amap_kmem_pool[amap_kmem_class(size)], p);
}

/* The record of slot `slot` (also the dense list's entry `slot`). */
static struct vm_amap_slot *
amap_slotp(const struct vm_amap *amap, int slot)
{
	KDASSERT(slot >= 0 && slot < amap->am_nslot);
	return &amap->am_chunks[slot / AMAP_CHUNK_SLOTS]
	    [slot % AMAP_CHUNK_SLOTS];
}

/* The slot of offset (bytes) in the entry that aref belongs to. */
static int
amap_aref_slot(const struct vm_aref *aref, vaddr_t offset)
{
	int slot = aref->ar_pageoff + (int)(offset >> PAGE_SHIFT);

	KASSERTMSG(slot >= 0 && slot < aref->ar_amap->am_nslot,
	    "amap: slot %d outside amap %p of %d slots", slot,
	    (void *)aref->ar_amap, aref->ar_amap->am_nslot);
	return slot;
}

/*
 * amap_alloc1: an amap of `slots` slots with no lock, no references.
 * => PR_WAITOK may sleep; NULL on failure
 */
static struct vm_amap *
amap_alloc1(int slots, int prflags)
{
	struct vm_amap *amap;
	int i, n;

	if (slots <= 0 || slots > AMAP_MAXSLOTS)
		return NULL;
	amap = pool_get(&uvm_amap_pool, prflags & PR_WAITOK);
	if (amap == NULL)
		return NULL;
	amap->am_lock = NULL;
	amap->am_ref = 0;
	amap->am_flags = 0;
	amap->am_nslot = slots;
	amap->am_nused = 0;
	amap->am_nchunk = (slots + AMAP_CHUNK_SLOTS - 1) / AMAP_CHUNK_SLOTS;
	amap->am_chunk0 = NULL;
	amap->am_ppref = NULL;
	amap->am_ppref0 = NULL;
	if (amap->am_nchunk == 1) {
		amap->am_chunks = &amap->am_chunk0;
	} else {
		amap->am_chunks = amap_kmem_alloc(
		    (size_t)amap->am_nchunk * sizeof(void *), prflags);
		if (amap->am_chunks == NULL) {
			pool_put(&uvm_amap_pool, amap);
			return NULL;
		}
	}
	for (i = 0; i < amap->am_nchunk; i++) {
		n = MIN(AMAP_CHUNK_SLOTS, slots - i * AMAP_CHUNK_SLOTS);
		amap->am_chunks[i] = amap_kmem_alloc(
		    (size_t)n * sizeof(struct vm_amap_slot), prflags);
		if (amap->am_chunks[i] == NULL) {
			amap_free1(amap);
			return NULL;
		}
	}
	__atomic_fetch_add(&uvm_amap_nalloc, 1, __ATOMIC_RELAXED);
	return amap;
}

/*
 * amap_free1: give back an amap's memory (chunks allocated so far, the
 * directory, the per-slot counts, the amap); not its lock.
 */
static void
amap_free1(struct vm_amap *amap)
{
	int i, n;
	bool counted = true;

	amap_pp_free(amap);
	for (i = 0; i < amap->am_nchunk; i++) {
		if (amap->am_chunks[i] == NULL) {
			counted = false;	/* amap_alloc1 failed here */
			break;
		}
		n = MIN(AMAP_CHUNK_SLOTS, amap->am_nslot - i * AMAP_CHUNK_SLOTS);
		amap_kmem_free(amap->am_chunks[i],
		    (size_t)n * sizeof(struct vm_amap_slot));
	}
	if (amap->am_nchunk > 1)
		amap_kmem_free(amap->am_chunks,
		    (size_t)amap->am_nchunk * sizeof(void *));
	pool_put(&uvm_amap_pool, amap);
	if (counted)
		__atomic_fetch_sub(&uvm_amap_nalloc, 1, __ATOMIC_RELAXED);
}

/*
 * amap_alloc: see uvm_amap.h.
 * => PR_WAITOK may sleep
 */
struct vm_amap *
amap_alloc(vaddr_t sz, int waitf)
{
	struct vm_amap *amap;

	KASSERT((sz & PAGE_MASK) == 0);
	if (sz == 0 || (sz >> PAGE_SHIFT) > (vaddr_t)AMAP_MAXSLOTS)
		return NULL;
	amap = amap_alloc1((int)(sz >> PAGE_SHIFT), waitf);
	if (amap == NULL)
		return NULL;
	amap->am_lock = uvm_rwobj_alloc("amap", waitf);
	if (amap->am_lock == NULL) {
		amap_free1(amap);
		return NULL;
	}
	__atomic_store_n(&amap->am_ref, 1, __ATOMIC_RELAXED);
	return amap;
}

/*
 * amap_free: free an amap with no references and no anons.
 * => am_lock not held by the caller
 */
void
amap_free(struct vm_amap *amap)
{
	KASSERT(amap_refs(amap) == 0 && amap->am_nused == 0);
	if (amap->am_lock != NULL) {
		KASSERT(!rw_lock_held(amap->am_lock));
		(void)uvm_rwobj_free(amap->am_lock);
		amap->am_lock = NULL;
	}
	amap_free1(amap);
}

/*
 * amap_lookup: the anon at offset of aref, or NULL.
 * => am_lock held (either way)
 */
struct vm_anon *
amap_lookup(struct vm_aref *aref, vaddr_t offset)
{
	struct vm_amap *amap = aref->ar_amap;

	KASSERT(rw_lock_held(amap->am_lock));
	return amap_slotp(amap, amap_aref_slot(aref, offset))->as_anon;
}

/*
 * amap_lookups: the anons of npages slots from offset.
 * => am_lock held (either way)
 */
void
amap_lookups(struct vm_aref *aref, vaddr_t offset, struct vm_anon **anons,
    int npages)
{
	struct vm_amap *amap = aref->ar_amap;
	int slot, i;

	KASSERT(rw_lock_held(amap->am_lock));
	if (npages <= 0)
		return;
	slot = amap_aref_slot(aref, offset);
	KASSERTMSG(slot + npages <= amap->am_nslot, "amap_lookups: %d slots "
	    "from %d past the end of amap %p (%d)", npages, slot,
	    (void *)amap, amap->am_nslot);
	for (i = 0; i < npages; i++)
		anons[i] = amap_slotp(amap, slot + i)->as_anon;
}

/*
 * amap_slot_add: fill the empty slot `slot` with anon, on the dense list.
 * => am_lock write-held
 */
static void
amap_slot_add(struct vm_amap *amap, int slot, struct vm_anon *anon)
{
	struct vm_amap_slot *s = amap_slotp(amap, slot);

	KASSERT(s->as_anon == NULL);
	KASSERT(amap->am_nused < amap->am_nslot);
	s->as_anon = anon;
	s->as_bckptr = amap->am_nused;
	amap_slotp(amap, amap->am_nused)->as_slot = slot;
	amap->am_nused++;
}

/*
 * amap_add: see uvm_amap.h.
 * => am_lock write-held; never fails
 */
int
amap_add(struct vm_aref *aref, vaddr_t offset, struct vm_anon *anon,
    bool replace)
{
	struct vm_amap *amap = aref->ar_amap;
	struct vm_amap_slot *s;
	struct vm_anon *oanon;
	int slot;

	KASSERT(rw_write_held(amap->am_lock));
	KASSERT(anon != NULL && anon->an_lock == amap->am_lock);
	slot = amap_aref_slot(aref, offset);
	if (!replace) {
		amap_slot_add(amap, slot, anon);
		return 0;
	}
	s = amap_slotp(amap, slot);
	oanon = s->as_anon;
	KASSERTMSG(oanon != NULL, "amap_add: replacing empty slot %d of %p",
	    slot, (void *)amap);
	/* others map the old page through this shared amap: cut them off */
	if (oanon->an_page != NULL && (amap->am_flags & AMAP_SHARED) != 0)
		pmap_page_protect(oanon->an_page, VM_PROT_NONE);
	s->as_anon = anon;
	return 0;
}

/*
 * amap_unadd: empty the slot at offset; the anon's reference is the
 * caller's.
 * => am_lock write-held
 */
void
amap_unadd(struct vm_aref *aref, vaddr_t offset)
{
	struct vm_amap *amap = aref->ar_amap;
	int slot;

	KASSERT(rw_write_held(amap->am_lock));
	slot = amap_aref_slot(aref, offset);
	KASSERTMSG(amap_slotp(amap, slot)->as_anon != NULL,
	    "amap_unadd: slot %d of %p is empty", slot, (void *)amap);
	amap_slot_remove(amap, slot);
}

/*
 * amap_slot_remove: empty the used slot `slot`, taking it off the dense
 * list (the last entry of the list moves to its place).
 * => am_lock write-held
 */
static void
amap_slot_remove(struct vm_amap *amap, int slot)
{
	struct vm_amap_slot *s = amap_slotp(amap, slot);
	int ptr, last, lastslot;

	KASSERT(s->as_anon != NULL && amap->am_nused > 0);
	s->as_anon = NULL;
	ptr = s->as_bckptr;
	last = amap->am_nused - 1;
	if (ptr != last) {
		lastslot = amap_slotp(amap, last)->as_slot;
		amap_slotp(amap, ptr)->as_slot = lastslot;
		amap_slotp(amap, lastslot)->as_bckptr = ptr;
	}
	amap->am_nused--;
}

/*
 * Per-slot reference counts (see uvm_amap.h for the encoding).
 */

/* The int of slot `slot` in the count chunks.  => ppref active */
static int *
pp_refp(const struct vm_amap *amap, int slot)
{
	KDASSERT(slot >= 0 && slot < amap->am_nslot);
	return &amap->am_ppref[slot / AMAP_PPREF_CHUNK]
	    [slot % AMAP_PPREF_CHUNK];
}

/*
 * pp_getreflen: the count and length of the run that starts at slot.
 * => am_lock held; slot starts a run
 */
static void
pp_getreflen(const struct vm_amap *amap, int slot, int *refp, int *lenp)
{
	int v = *pp_refp(amap, slot);

	if (v > 0) {			/* a run of one */
		*refp = v - 1;
		*lenp = 1;
	} else {
		KDASSERT(v < 0 && slot + 1 < amap->am_nslot);
		*refp = -v - 1;
		*lenp = *pp_refp(amap, slot + 1);
	}
	KDASSERT(*lenp >= 1 && slot + *lenp <= amap->am_nslot);
}

/*
 * pp_setreflen: make [slot, slot + len) a run of count ref (len 0: no-op).
 * => am_lock write-held
 */
static void
pp_setreflen(struct vm_amap *amap, int slot, int ref, int len)
{
	KDASSERT(ref >= 0 && len >= 0 && slot + len <= amap->am_nslot);
	if (len == 0)
		return;
	if (len == 1) {
		*pp_refp(amap, slot) = ref + 1;
	} else {
		*pp_refp(amap, slot) = -(ref + 1);
		*pp_refp(amap, slot + 1) = len;
	}
}

/* Are the per-slot counts in use?  => am_lock held */
static bool
amap_pp_active(const struct vm_amap *amap)
{
	return amap->am_ppref != NULL && amap->am_ppref != PPREF_NONE;
}

/*
 * amap_pp_establish: start counting per slot: every existing reference
 * covers the whole amap (one run of am_ref).  On failure to allocate,
 * PPREF_NONE for good (NetBSD: "just do not use ppref").
 * => am_lock write-held; am_ppref NULL; never sleeps (NOWAIT, from the
 *    amap pools: no malloc)
 */
static void
amap_pp_establish(struct vm_amap *amap)
{
	int **dir, i, n, nchunk;

	KASSERT(rw_write_held(amap->am_lock));
	KASSERT(amap->am_ppref == NULL);
	nchunk = (amap->am_nslot + AMAP_PPREF_CHUNK - 1) / AMAP_PPREF_CHUNK;
	if (nchunk == 1) {
		dir = &amap->am_ppref0;
	} else {
		dir = amap_kmem_alloc((size_t)nchunk * sizeof(int *),
		    PR_NOWAIT);
		if (dir == NULL)
			goto fail;
	}
	for (i = 0; i < nchunk; i++) {
		n = MIN(AMAP_PPREF_CHUNK, amap->am_nslot - i * AMAP_PPREF_CHUNK);
		dir[i] = amap_kmem_alloc((size_t)n * sizeof(int), PR_NOWAIT);
		if (dir[i] == NULL) {
			while (--i >= 0) {
				n = MIN(AMAP_PPREF_CHUNK,
				    amap->am_nslot - i * AMAP_PPREF_CHUNK);
				amap_kmem_free(dir[i], (size_t)n * sizeof(int));
			}
			if (nchunk > 1)
				amap_kmem_free(dir,
				    (size_t)nchunk * sizeof(int *));
			else
				amap->am_ppref0 = NULL;
			goto fail;
		}
	}
	amap->am_ppref = dir;
	pp_setreflen(amap, 0, amap->am_ref, amap->am_nslot);
	return;
fail:
	amap->am_ppref = PPREF_NONE;
}

/* amap_pp_free: give back the per-slot counts, if any.  => amap dying */
static void
amap_pp_free(struct vm_amap *amap)
{
	int i, n, nchunk;

	if (!amap_pp_active(amap)) {
		amap->am_ppref = NULL;
		return;
	}
	nchunk = (amap->am_nslot + AMAP_PPREF_CHUNK - 1) / AMAP_PPREF_CHUNK;
	for (i = 0; i < nchunk; i++) {
		n = MIN(AMAP_PPREF_CHUNK, amap->am_nslot - i * AMAP_PPREF_CHUNK);
		amap_kmem_free(amap->am_ppref[i], (size_t)n * sizeof(int));
	}
	if (nchunk > 1)
		amap_kmem_free(amap->am_ppref, (size_t)nchunk * sizeof(int *));
	amap->am_ppref = NULL;
	amap->am_ppref0 = NULL;
}

/*
 * amap_pp_adjref: add adjval to the count of each slot of [curslot,
 * curslot + slotlen), splitting the runs that straddle either end; the
 * slots whose count reaches 0 are wiped (amap_wiperange).  The first
 * changed run merges into the run before it if their counts match.
 * [deviation: NetBSD merges only that first run; we also merge each
 * later run of the range into the run just made, so that runs do not
 * only ever split.]
 * => am_lock write-held; ppref active; am_ref already adjusted; may free
 *    anons and pages, never sleeps
 */
static void
amap_pp_adjref(struct vm_amap *amap, int curslot, int slotlen, int adjval)
{
	int stopslot, lcv, prevlcv, prevref, prevlen, ref, len;

	KASSERT(rw_write_held(amap->am_lock));
	KASSERT(amap_pp_active(amap));
	KASSERTMSG(curslot >= 0 && slotlen > 0 &&
	    curslot + slotlen <= amap->am_nslot, "amap_pp_adjref: slots "
	    "[%d, +%d) outside amap %p of %d", curslot, slotlen,
	    (void *)amap, amap->am_nslot);
	stopslot = curslot + slotlen;

	/* Walk up to curslot, splitting the run that straddles it. */
	prevlcv = -1;
	prevref = -1;
	prevlen = 0;
	for (lcv = 0; lcv < curslot; lcv += len) {
		pp_getreflen(amap, lcv, &ref, &len);
		if (lcv + len > curslot) {
			pp_setreflen(amap, lcv, ref, curslot - lcv);
			pp_setreflen(amap, curslot, ref, len - (curslot - lcv));
			len = curslot - lcv;
		}
		prevlcv = lcv;
		prevref = ref;
		prevlen = len;
	}
	KASSERT(lcv == curslot);

	/* Adjust the runs of the range, splitting the last at stopslot. */
	for (; lcv < stopslot; lcv += len) {
		pp_getreflen(amap, lcv, &ref, &len);
		if (lcv + len > stopslot) {
			pp_setreflen(amap, lcv, ref, stopslot - lcv);
			pp_setreflen(amap, stopslot, ref,
			    len - (stopslot - lcv));
			len = stopslot - lcv;
		}
		KASSERTMSG(adjval < 0 || ref > 0, "amap_pp_adjref: slots "
		    "[%d, +%d) of amap %p were wiped and are referenced "
		    "again", lcv, len, (void *)amap);
		ref += adjval;
		KASSERTMSG(ref >= 0 && ref <= amap->am_ref, "amap_pp_adjref: "
		    "slot %d of amap %p: count %d, %d references", lcv,
		    (void *)amap, ref, amap->am_ref);
		if (prevlcv >= 0 && lcv == prevlcv + prevlen &&
		    ref == prevref) {
			prevlen += len;
			pp_setreflen(amap, prevlcv, ref, prevlen);
		} else {
			pp_setreflen(amap, lcv, ref, len);
			prevlcv = lcv;
			prevref = ref;
			prevlen = len;
		}
		if (ref == 0)
			amap_wiperange(amap, lcv, len);
	}
}

/*
 * amap_wiperange: drop the amap's reference on the anon of each used
 * slot of [slotoff, slotoff + slots) (no entry maps them any more),
 * freeing those that reach 0, with their pages; a busy page is released
 * to its holder (uvm_anfree), as in amap_wipeout.  Walks the slots or
 * the dense list, whichever is shorter (NetBSD).
 * => am_lock write-held; page queues unlocked; never sleeps
 */
static void
amap_wiperange(struct vm_amap *amap, int slotoff, int slots)
{
	struct vm_anon *anon;
	int i, slot, stop = slotoff + slots;

	KASSERT(rw_write_held(amap->am_lock));
	KASSERT(slotoff >= 0 && stop <= amap->am_nslot);

	if (slots < amap->am_nused) {
		/* by slot */
		for (slot = slotoff; slot < stop; slot++) {
			anon = amap_slotp(amap, slot)->as_anon;
			if (anon != NULL)
				amap_wipeslot(amap, slot, anon);
		}
		return;
	}
	/* by the dense list: a removal moves its last entry to i */
	for (i = 0; i < amap->am_nused; ) {
		slot = amap_slotp(amap, i)->as_slot;
		if (slot < slotoff || slot >= stop) {
			i++;
			continue;
		}
		amap_wipeslot(amap, slot, amap_slotp(amap, slot)->as_anon);
	}
}

/*
 * amap_wipeslot: empty slot `slot` and drop the amap's reference on its
 * anon, freeing it at 0 (a busy page is released: uvm_anfree).
 * => am_lock write-held; page queues unlocked; never sleeps
 */
static void
amap_wipeslot(struct vm_amap *amap, int slot, struct vm_anon *anon)
{
	KASSERTMSG(anon != NULL && anon->an_ref > 0,
	    "amap_wiperange: corrupt amap %p slot %d", (void *)amap, slot);
	KASSERT(anon->an_lock == amap->am_lock);
	amap_slot_remove(amap, slot);
	if (--anon->an_ref == 0)
		uvm_anfree(anon);
}

/*
 * amap_ref: one more entry refers to slots [offset, offset + len) of the
 * amap (NetBSD amap_ref, with amap_adjref_anons's order: the counts are
 * established before am_ref changes, so that they match it).
 * => amap unlocked; never sleeps
 */
void
amap_ref(struct vm_amap *amap, vaddr_t offset, vsize_t len, int flags)
{
	amap_lock(amap);
	KASSERT(amap->am_ref > 0);
	KASSERTMSG((flags & AMAP_REFALL) != 0 ||
	    offset + len <= (vsize_t)amap->am_nslot, "amap_ref: slots "
	    "[%lu, +%lu) outside amap %p of %d", (unsigned long)offset,
	    (unsigned long)len, (void *)amap, amap->am_nslot);
	if (flags & AMAP_SHARED)
		amap->am_flags |= AMAP_SHARED;
	if (amap->am_ppref == NULL && (flags & AMAP_REFALL) == 0 &&
	    len != (vsize_t)amap->am_nslot)
		amap_pp_establish(amap);
	__atomic_store_n(&amap->am_ref, amap->am_ref + 1, __ATOMIC_RELAXED);
	if (amap_pp_active(amap)) {
		if (flags & AMAP_REFALL)
			amap_pp_adjref(amap, 0, amap->am_nslot, 1);
		else
			amap_pp_adjref(amap, (int)offset, (int)len, 1);
	}
	amap_unlock(amap);
}

/*
 * amap_unref: an entry lets go of slots [offset, offset + len) of the
 * amap (all: of the whole amap); the slots nobody maps any more are
 * wiped, and the last reference wipes the amap out.
 * => amap unlocked; may free anons and pages, never sleeps
 */
void
amap_unref(struct vm_amap *amap, vaddr_t offset, vsize_t len, bool all)
{
	amap_lock(amap);
	KASSERT(amap->am_ref > 0);
	KASSERTMSG(all || offset + len <= (vsize_t)amap->am_nslot,
	    "amap_unref: slots [%lu, +%lu) outside amap %p of %d",
	    (unsigned long)offset, (unsigned long)len, (void *)amap,
	    amap->am_nslot);
	if (amap->am_ref == 1) {
		__atomic_store_n(&amap->am_ref, 0, __ATOMIC_RELAXED);
		amap_wipeout(amap);	/* unlocks and frees */
		return;
	}
	if (amap->am_ppref == NULL && !all && len != (vsize_t)amap->am_nslot)
		amap_pp_establish(amap);
	if (amap->am_ref == 2 && (amap->am_flags & AMAP_SHARED) != 0)
		amap->am_flags &= ~AMAP_SHARED;
	__atomic_store_n(&amap->am_ref, amap->am_ref - 1, __ATOMIC_RELAXED);
	if (amap_pp_active(amap)) {
		if (all)
			amap_pp_adjref(amap, 0, amap->am_nslot, -1);
		else
			amap_pp_adjref(amap, (int)offset, (int)len, -1);
	}
	amap_unlock(amap);
}

/*
 * amap_splitref: see uvm_amap.h (NetBSD amap_splitref).
 * => amap unlocked; never sleeps
 */
void
amap_splitref(struct vm_aref *origref, struct vm_aref *splitref,
    vaddr_t offset)
{
	struct vm_amap *amap = origref->ar_amap;
	int leftslots;

	KASSERT(splitref->ar_amap == amap && amap != NULL);
	KASSERT((offset & PAGE_MASK) == 0);
	leftslots = (int)(offset >> PAGE_SHIFT);
	KASSERT(leftslots > 0);

	amap_lock(amap);
	KASSERT(amap->am_ref > 0);
	KASSERTMSG(amap->am_nslot - origref->ar_pageoff - leftslots > 0,
	    "amap_splitref: split at %d past amap %p of %d slots",
	    origref->ar_pageoff + leftslots, (void *)amap, amap->am_nslot);
	/* establish the counts before the duplicate reference */
	if (amap->am_ppref == NULL)
		amap_pp_establish(amap);
	/* not a share reference; the per-slot counts do not change */
	__atomic_store_n(&amap->am_ref, amap->am_ref + 1, __ATOMIC_RELAXED);
	splitref->ar_pageoff = origref->ar_pageoff + leftslots;
	amap_unlock(amap);
}

/*
 * amap_wipeout: drop the amap's reference on each of its anons (freeing
 * those that reach 0, with their pages), then free the amap.
 * => am_lock write-held, released on return; no references left
 */
void
amap_wipeout(struct vm_amap *amap)
{
	struct vm_amap_slot *s;
	struct vm_anon *anon;
	int i, slot;

	KASSERT(rw_write_held(amap->am_lock));
	KASSERT(amap_refs(amap) == 0);

	for (i = amap->am_nused - 1; i >= 0; i--) {
		slot = amap_slotp(amap, i)->as_slot;
		s = amap_slotp(amap, slot);
		anon = s->as_anon;
		KASSERTMSG(anon != NULL && anon->an_ref > 0,
		    "amap_wipeout: corrupt amap %p slot %d", (void *)amap, slot);
		KASSERT(anon->an_lock == amap->am_lock);
		s->as_anon = NULL;
		if (--anon->an_ref == 0)
			uvm_anfree(anon);
	}
	amap->am_nused = 0;
	amap_unlock(amap);
	amap_free(amap);
}

/*
 * amap_copy: see uvm_amap.h (OpenBSD amap_copy, without lazy chunks).
 * => map write-locked; may sleep unless AMAP_COPY_NOWAIT
 */
void
amap_copy(struct vm_map *map, struct vm_map_entry *entry, int flags,
    bool canchunk, vaddr_t startva, vaddr_t endva)
{
	struct vm_amap *amap, *srcamap;
	struct vm_amap_slot *s;
	struct vm_anon *anon;
	krwlock_t *lock;
	vaddr_t chunksize;
	int prflags, slots, lcv, i, srcslot;

	KASSERT(vm_map_locked_p(map));
	prflags = (flags & AMAP_COPY_NOWAIT) ? PR_NOWAIT : PR_WAITOK;

	/* No amap yet: give the entry a fresh one (clipped if large). */
	if (entry->aref.ar_amap == NULL) {
		if (canchunk && (flags & AMAP_COPY_NOCHUNK) == 0 &&
		    ((entry->end - entry->start) >> PAGE_SHIFT) >=
		    UVM_AMAP_LARGE) {
			chunksize = (vaddr_t)UVM_AMAP_CHUNK << PAGE_SHIFT;
			startva = (startva / chunksize) * chunksize;
			endva = ((endva + chunksize - 1) / chunksize) * chunksize;
			if (startva > entry->start)
				uvm_map_clip_start(map, entry, startva);
			/* watch out for endva wrap-around */
			if (endva >= startva && endva < entry->end)
				uvm_map_clip_end(map, entry, endva);
		}
		entry->aref.ar_pageoff = 0;
		entry->aref.ar_amap = amap_alloc(entry->end - entry->start,
		    prflags);
		if (entry->aref.ar_amap != NULL)
			entry->etype &= ~UVM_ET_NEEDSCOPY;
		return;
	}

	/*
	 * The only reference: take it over.  am_ref can only be 1 if ours
	 * (through our locked map) is the only one, so no lock is needed
	 * to see it; more than 1 is re-checked under the lock.
	 */
	srcamap = entry->aref.ar_amap;
	if (amap_refs(srcamap) == 1) {
		entry->etype &= ~UVM_ET_NEEDSCOPY;
		return;
	}

	/* A new amap for the entry's slots, sharing the source's lock. */
	slots = (int)((entry->end - entry->start) >> PAGE_SHIFT);
	amap = amap_alloc1(slots, prflags);
	if (amap == NULL)
		return;
	amap->am_lock = srcamap->am_lock;
	uvm_rwobj_hold(amap->am_lock);

	amap_lock(srcamap);
	if (srcamap->am_ref == 1) {
		/* the others let go meanwhile: take the source over */
		entry->etype &= ~UVM_ET_NEEDSCOPY;
		amap_unlock(srcamap);
		amap_free(amap);
		return;
	}
	KASSERT(entry->aref.ar_pageoff + slots <= srcamap->am_nslot);

	/* Copy the used slots of our range, one more reference each. */
	if (srcamap->am_nused < slots) {
		for (i = 0; i < srcamap->am_nused; i++) {
			srcslot = amap_slotp(srcamap, i)->as_slot;
			lcv = srcslot - entry->aref.ar_pageoff;
			if (lcv < 0 || lcv >= slots)
				continue;
			anon = amap_slotp(srcamap, srcslot)->as_anon;
			KASSERT(anon->an_lock == srcamap->am_lock);
			KASSERT(anon->an_ref > 0);
			anon->an_ref++;
			amap_slot_add(amap, lcv, anon);
		}
	} else {
		for (lcv = 0; lcv < slots; lcv++) {
			s = amap_slotp(srcamap, entry->aref.ar_pageoff + lcv);
			anon = s->as_anon;
			if (anon == NULL)
				continue;
			KASSERT(anon->an_lock == srcamap->am_lock);
			KASSERT(anon->an_ref > 0);
			anon->an_ref++;
			amap_slot_add(amap, lcv, anon);
		}
	}

	/*
	 * Drop our reference to the source.  It was more than one, so the
	 * source cannot die while we hold its lock.
	 */
	__atomic_store_n(&srcamap->am_ref, srcamap->am_ref - 1,
	    __ATOMIC_RELAXED);
	KASSERT(srcamap->am_ref > 0);
	if (srcamap->am_ref == 1 && (srcamap->am_flags & AMAP_SHARED) != 0)
		srcamap->am_flags &= ~AMAP_SHARED;
	/*
	 * NetBSD: and our slots of it, if it counts per slot (it is not
	 * established here).  Slots nobody else maps are wiped: their
	 * anons live on in the copy (an_ref was taken above).
	 */
	if (amap_pp_active(srcamap))
		amap_pp_adjref(srcamap, entry->aref.ar_pageoff, slots, -1);
	amap_unlock(srcamap);

	/*
	 * Nothing in common with the source: a lock of its own, if one can
	 * be had now (else sharing the source's stays correct, only
	 * coarser).
	 */
	if (amap->am_nused == 0) {
		lock = uvm_rwobj_alloc("amap", prflags);
		if (lock != NULL) {
			(void)uvm_rwobj_free(amap->am_lock);
			amap->am_lock = lock;
		}
	}

	__atomic_store_n(&amap->am_ref, 1, __ATOMIC_RELAXED);
	entry->aref.ar_pageoff = 0;
	entry->aref.ar_amap = amap;
	entry->etype &= ~UVM_ET_NEEDSCOPY;
}

/*
 * amap_cow_now: resolve every copy-on-write of entry's amap at once
 * (NetBSD amap_cow_now): each anon it shares with another amap (an_ref > 1)
 * is replaced by a private copy.  Fork uses it for a wired parent entry,
 * which must never fault, so it cannot be write-protected for a lazy copy.
 * No loaned pages here (we have no loans), so every shared anon is copied.
 * => map (the child's) write-locked; entry has its own amap (amap_copy
 *    done) and is not being wired
 * => the parent's entry is wired: each shared anon's page is resident
 * => may sleep (busy pages: restarts from the top after the wait)
 * => 0, or ENOMEM when no anon or page could be had (see the deviation)
 */
int
amap_cow_now(struct vm_map *map, struct vm_map_entry *entry)
{
	struct vm_amap *amap = entry->aref.ar_amap;
	struct vm_amap_slot *s;
	struct vm_anon *anon, *nanon;
	struct vm_page *pg, *npg;
	int lcv, slot;

	KASSERT(vm_map_locked_p(map));
	KASSERT(amap != NULL && !UVM_ET_ISNEEDSCOPY(entry));
restart:
	amap_lock(amap);
	for (lcv = 0; lcv < amap->am_nused; lcv++) {
		slot = amap_slotp(amap, lcv)->as_slot;
		s = amap_slotp(amap, slot);
		anon = s->as_anon;
		KASSERT(anon->an_lock == amap->am_lock);

		/* one reference: copied already (we restarted) */
		if (anon->an_ref <= 1)
			continue;

		/* the parent is wired: its page is resident */
		pg = anon->an_page;
		KASSERTMSG(pg != NULL, "amap_cow_now: anon %p of a wired "
		    "entry has no page", (void *)anon);
		KASSERT(pg->uanon == anon && pg->uobject == NULL);

		if (pg_flags_load(pg) & PG_BUSY) {
			uvm_pagewait(pg, amap->am_lock, "cownow");
			goto restart;
		}

		nanon = uvm_analloc();
		if (nanon != NULL) {
			nanon->an_lock = amap->am_lock;
			npg = uvm_pagealloc(NULL, 0, nanon, 0);
		} else {
			npg = NULL;
		}
		if (nanon == NULL || npg == NULL) {
			amap_unlock(amap);
			if (nanon != NULL) {
				nanon->an_lock = NULL;
				nanon->an_ref--;
				KASSERT(nanon->an_ref == 0);
				uvm_anfree(nanon);
			}
			/*
			 * [deviation] NetBSD sleeps in uvm_wait here and
			 * starts over, with the maps of the fork locked; our
			 * uvm_wait may not be entered with locks held (the
			 * pagedaemon's callers must not stall it), so the
			 * fork fails with ENOMEM instead, as fork(2) may.
			 * The anons copied so far stay the child's: its
			 * teardown frees them.
			 */
			return ENOMEM;
		}

		/* copy, and put the new anon in the slot */
		uvm_pagecopy(pg, npg);
		anon->an_ref--;
		KASSERT(anon->an_ref > 0);
		s->as_anon = nanon;

		/*
		 * The owner (the amap) was write-locked all along: nobody
		 * can have marked the new page released or waited for it.
		 */
		uvm_lock_pageq();
		uvm_pageactivate(npg);
		uvm_unlock_pageq();
		atomic_clearbits_int(&npg->pg_flags, PG_BUSY | PG_FAKE);
		UVM_PAGE_OWN(npg, NULL);
	}
	amap_unlock(amap);
	return 0;
}

/* amap_count: amaps allocated now. */
int
amap_count(void)
{
	return __atomic_load_n(&uvm_amap_nalloc, __ATOMIC_RELAXED);
}
