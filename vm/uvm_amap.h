/*
 * vm/uvm_amap.h: anonymous maps.
 *
 * An amap is the array of anon slots behind a map entry's "upper" layer
 * (one slot per page).  am_lock (a krwlock, class "amap") covers the amap
 * and every anon in it.  Entries refer to an amap with a struct vm_aref
 * (the amap and the entry's first slot).  Copy-on-write across fork works
 * through the needs-copy flag of an entry: amap_copy() gives the entry a
 * private copy whose slots share the anons (an_ref counts them) until a
 * write fault promotes the page.
 *
 *	[a] am_lock	[I] immutable
 */
#ifndef VM_UVM_AMAP_H
#define VM_UVM_AMAP_H

#include "host/rwlock.h"
#include "uvm_anon.h"

struct vm_map;
struct vm_map_entry;

struct vm_amap {
	krwlock_t	*am_lock;	/* [I] */
	krwlock_t	am_lock_store;
	int		am_ref;		/* [a] references (entries) */
	int		am_flags;	/* [a] AMAP_SHARED */
	int		am_nslot;	/* [I] slots */
	int		am_nused;	/* [a] slots in use */
	int		*am_slots;	/* [a] the used slots, dense */
	int		*am_bckptr;	/* [a] slot -> index in am_slots */
	struct vm_anon	**am_anon;	/* [a] slot -> anon */
};

#define AMAP_SHARED	0x1	/* shared by several entries (MAP_SHARED) */

struct vm_aref {
	int		ar_pageoff;	/* the entry's first slot */
	struct vm_amap	*ar_amap;
};

/* amap_copy flags */
#define AMAP_COPY_NOWAIT	0x1
#define AMAP_COPY_NOCHUNK	0x2

void amap_init(void);
/* amap_alloc: an amap of sz bytes (page multiple), one reference.  => may
 * fail (NULL) with M_NOWAIT-like waitf == 0 */
struct vm_amap *amap_alloc(vaddr_t sz, int waitf);
/* amap_free: free an amap with no references or anons.  => unlocked */
void amap_free(struct vm_amap *amap);
/* amap_lookup: the anon at offset of aref.  => am_lock held */
struct vm_anon *amap_lookup(struct vm_aref *aref, vaddr_t offset);
/* amap_lookups: npages anons from offset into anons[]. => am_lock held */
void amap_lookups(struct vm_aref *aref, vaddr_t offset,
    struct vm_anon **anons, int npages);
/* amap_add: put anon at offset (replace if set).  => am_lock held */
int amap_add(struct vm_aref *aref, vaddr_t offset, struct vm_anon *anon,
    bool replace);
/* amap_unadd: clear the slot at offset.  => am_lock held */
void amap_unadd(struct vm_aref *aref, vaddr_t offset);
/* amap_ref/amap_unref: entry references. => amap unlocked */
void amap_ref(struct vm_amap *amap, vaddr_t offset, vsize_t len, int flags);
void amap_unref(struct vm_amap *amap, vaddr_t offset, vsize_t len,
    bool all);
/* amap_wipeout: drop every anon (last reference).  => am_lock held,
 * released and the amap freed on return */
void amap_wipeout(struct vm_amap *amap);
/*
 * amap_copy: resolve the needs-copy of entry (make it its own amap, or
 * create one if it has none).  => map write-locked
 */
void amap_copy(struct vm_map *map, struct vm_map_entry *entry, int flags,
    bool canchunk, vaddr_t startva, vaddr_t endva);
/* amap_refs: how many entries refer to the amap. */
static inline int
amap_refs(const struct vm_amap *amap)
{
	return __atomic_load_n(&amap->am_ref, __ATOMIC_RELAXED);
}

/* Amaps allocated now (the auditor's count). */
int amap_count(void);

#endif /* VM_UVM_AMAP_H */
