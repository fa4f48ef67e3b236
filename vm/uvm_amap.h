/*
 * vm/uvm_amap.h: anonymous maps.
 *
 * An amap is the array of anon slots behind a map entry's "upper" layer
 * (one slot per page).  am_lock (a krwlock of class "amap") covers the
 * amap and every anon in it; it is a reference-counted lock
 * (uvm_rwobj_alloc) because it is shared: by the amap and its anons
 * (an_lock == am_lock), by the amaps amap_copy() makes from it (their
 * anons are the same anons: OpenBSD 2022 gives the copy the source's
 * lock), and by an anon whose busy page was released after its amap
 * died.  Entries refer to an amap with a struct vm_aref (the amap and
 * the entry's first slot).  Copy-on-write across fork works through the
 * needs-copy flag of an entry: amap_copy() gives the entry a private copy
 * whose slots share the anons (an_ref counts them) until a write fault
 * promotes the page.
 *
 * Slots live in chunks of AMAP_CHUNK_SLOTS 16-byte records (a page), from
 * size-class pools of kernel memory: a small amap has one chunk sized to
 * it, a large one a directory of page-sized chunks (at most
 * AMAP_MAXSLOTS slots).  Each record holds a slot's anon, the slot's
 * place in the dense list of used slots (am_bckptr), and the dense
 * list's entry at that index (am_slots), so that amap_add, amap_unadd
 * and the walks over used slots (wipeout, copy) are O(1) per slot.
 *
 * Per-page reference counts (UVM_AMAP_PPREF, NetBSD/OpenBSD's am_ppref):
 * am_ref counts the entries that refer to the amap; am_ppref counts, for
 * each slot, the entries that map it, so that the anons of a range no
 * entry maps any more are freed at once (amap_pp_adjref ->
 * amap_wiperange) rather than when the amap dies.  am_ppref is NULL until
 * a reference covers only part of the amap (amap_ref, amap_unref,
 * amap_splitref establish it, every existing reference counted over the
 * whole amap), and PPREF_NONE if that allocation failed (NOWAIT, as in
 * the BSDs): then references are counted for the whole amap only, as
 * before.  The counts are run-length encoded as in the BSDs: a run of
 * one slot holds ref + 1 in its first int; a longer run holds -(ref + 1),
 * then its length.  [deviation: the BSDs' am_ppref is one int array of
 * am_maxslot ints from kmem; ours is a directory of page-sized chunks of
 * AMAP_PPREF_CHUNK ints from the amap size-class pools, like the slots,
 * since nothing here may malloc and a pool item is at most a page; a run
 * may straddle two chunks, and pp_getreflen/pp_setreflen take the amap
 * rather than the array.  A one-chunk amap keeps its directory in
 * am_ppref0.]
 *
 *	[a] am_lock	[I] immutable	[r] am_lock, read atomically without it
 */
#ifndef VM_UVM_AMAP_H
#define VM_UVM_AMAP_H

#include "host/rwlock.h"
#include "uvm_anon.h"

struct vm_map;
struct vm_map_entry;

/* One slot's bookkeeping (see above). */
struct vm_amap_slot {
	struct vm_anon	*as_anon;	/* [a] slot -> anon, or NULL */
	int		as_bckptr;	/* [a] slot -> index in the dense list */
	int		as_slot;	/* [a] dense list: index -> slot */
};
#define AMAP_CHUNK_SLOTS	((int)(PAGE_SIZE / sizeof(struct vm_amap_slot)))
#define AMAP_MAXCHUNKS		((int)(PAGE_SIZE / sizeof(void *)))
#define AMAP_MAXSLOTS		(AMAP_CHUNK_SLOTS * AMAP_MAXCHUNKS)

struct vm_amap {
	krwlock_t	*am_lock;	/* [I] shared, reference-counted */
	int		am_ref;		/* [r] references (entries) */
	int		am_flags;	/* [a] AMAP_SHARED */
	int		am_nslot;	/* [I] slots */
	int		am_nused;	/* [a] slots in use */
	int		am_nchunk;	/* [I] chunks */
	struct vm_amap_slot **am_chunks; /* [I] chunk directory */
	struct vm_amap_slot *am_chunk0;	/* [I] the directory of one chunk */
	int		**am_ppref;	/* [a] per-slot refs: NULL, PPREF_NONE
					   or a directory of chunks */
	int		*am_ppref0;	/* [a] the directory of one chunk */
};

/* am_ppref: the allocation failed, count whole-amap references only */
#define PPREF_NONE		((int **)-1)
#define AMAP_PPREF_CHUNK	((int)(PAGE_SIZE / sizeof(int)))

#define AMAP_SHARED	0x1	/* shared by several entries (MAP_SHARED) */
#define AMAP_REFALL	0x2	/* amap_ref: the whole amap, whatever len is */

/* The amap lock (OpenBSD's names): always taken for writing here. */
#define amap_lock(am)	rw_enter((am)->am_lock, RW_WRITE)
#define amap_unlock(am)	rw_exit((am)->am_lock)
#define amap_flags(am)	((am)->am_flags)

/* Chunking of fresh amaps for large entries (amap_copy, canchunk). */
#define UVM_AMAP_LARGE	256	/* entries of this many pages or more ... */
#define UVM_AMAP_CHUNK	16	/* ... get amaps of this many pages */

struct vm_aref {
	int		ar_pageoff;	/* the entry's first slot */
	struct vm_amap	*ar_amap;
};

/* amap_copy flags */
#define AMAP_COPY_NOWAIT	0x1
#define AMAP_COPY_NOCHUNK	0x2

/* amap_init: the amap pools.  => at boot */
void amap_init(void);
/*
 * amap_alloc: an amap of sz bytes (page multiple, at most AMAP_MAXSLOTS
 * pages), one reference, a new lock, no anons.
 * => waitf PR_WAITOK (1: may sleep for kernel memory) or PR_NOWAIT (0:
 *    NULL when there is none at hand); NULL also when sz is too large
 */
struct vm_amap *amap_alloc(vaddr_t sz, int waitf);
/*
 * amap_free: free an amap with no references and no anons; drops its
 * reference on the lock.  => am_lock not held
 */
void amap_free(struct vm_amap *amap);
/* amap_lookup: the anon at offset (bytes) of aref.  => am_lock held */
struct vm_anon *amap_lookup(struct vm_aref *aref, vaddr_t offset);
/* amap_lookups: npages anons from offset into anons[]. => am_lock held */
void amap_lookups(struct vm_aref *aref, vaddr_t offset,
    struct vm_anon **anons, int npages);
/*
 * amap_add: put anon at offset (replace: the slot holds an anon, whose
 * reference the caller takes care of; a shared amap's old page loses its
 * mappings).  The anon's lock is already the amap's.
 * => am_lock write-held; never fails (slots exist from amap_alloc):
 *    returns 0
 */
int amap_add(struct vm_aref *aref, vaddr_t offset, struct vm_anon *anon,
    bool replace);
/* amap_unadd: clear the slot at offset (the anon's reference is the
 * caller's).  => am_lock write-held */
void amap_unadd(struct vm_aref *aref, vaddr_t offset);
/*
 * amap_ref/amap_unref: entry references to slots [offset, offset + len)
 * of the amap (offset and len in slots, as NetBSD: the entry's
 * ar_pageoff and its page count).  flags: AMAP_SHARED marks the amap
 * shared (MAP_SHARED, an inherit-share fork); AMAP_REFALL (amap_ref) and
 * all (amap_unref) mean the whole amap.  A partial reference establishes
 * the per-slot counts; with them, amap_unref frees at once the anons of
 * slots no entry maps any more.  The last amap_unref wipes the amap out
 * (its anons lose a reference each).
 * => amap unlocked (locked inside); amap_unref may free pages; neither
 *    sleeps (the per-slot counts are allocated NOWAIT)
 */
void amap_ref(struct vm_amap *amap, vaddr_t offset, vsize_t len, int flags);
void amap_unref(struct vm_amap *amap, vaddr_t offset, vsize_t len,
    bool all);
/*
 * amap_splitref: an entry is clipped in two at offset (bytes from its
 * start): origref keeps the part before, splitref (a copy of origref)
 * gets the part from offset on (its ar_pageoff moves on by offset
 * pages).  The amap gets one more reference; the per-slot counts do not
 * change, so they are established first if they were not (NetBSD).
 * => amap unlocked (locked inside); never sleeps
 */
void amap_splitref(struct vm_aref *origref, struct vm_aref *splitref,
    vaddr_t offset);
/* amap_wipeout: drop every anon (last reference).  => am_lock held,
 * released and the amap freed on return */
void amap_wipeout(struct vm_amap *amap);
/*
 * amap_copy: resolve the needs-copy of entry: give it a fresh amap if it
 * has none (with canchunk, and no AMAP_COPY_NOCHUNK, a large entry is
 * first clipped to the UVM_AMAP_CHUNK pages around [startva, endva)); if
 * its amap has one reference, take it over; otherwise make it a private
 * copy of the slots it maps, sharing the anons (an_ref + 1 each) and the
 * source amap's lock.  Clears UVM_ET_NEEDSCOPY, unless memory ran out
 * (AMAP_COPY_NOWAIT): then the entry is left as it was, and the caller
 * sees UVM_ET_NEEDSCOPY still set.
 * => map write-locked; amap unlocked; may sleep without AMAP_COPY_NOWAIT
 */
void amap_copy(struct vm_map *map, struct vm_map_entry *entry, int flags,
    bool canchunk, vaddr_t startva, vaddr_t endva);
/*
 * amap_cow_now: copy now every anon entry's amap shares with another amap
 * (fork of a wired entry).
 * => map write-locked; entry has its own amap; may sleep (busy pages)
 * => 0, or ENOMEM: no memory for a copy (the fork must fail)
 */
int amap_cow_now(struct vm_map *map, struct vm_map_entry *entry);
/* amap_refs: how many entries refer to the amap. */
static inline int
amap_refs(const struct vm_amap *amap)
{
	return __atomic_load_n(&amap->am_ref, __ATOMIC_RELAXED);
}

/* Amaps allocated now (the auditor's count). */
int amap_count(void);

#endif /* VM_UVM_AMAP_H */
