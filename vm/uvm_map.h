/*
 * vm/uvm_map.h: address maps.
 *
 * A vm_map is an ordered, non-overlapping list of entries (a sentinel
 * header, sorted by address) with a red-black tree by start address for
 * lookup, under the map lock: a krwlock plus a "busy" owner (NetBSD), so
 * that a thread can keep others from writing while it sleeps with the map
 * read-locked (wiring).  The timestamp counts write unlocks; the fault
 * handler uses it to know whether the map changed while it slept.
 *
 * Each entry maps [start, end) to an object (or a submap) at offset, with
 * an optional amap (the anonymous upper layer).  UVM_ET_COPYONWRITE makes
 * writes go to the amap; UVM_ET_NEEDSCOPY means the amap is still shared
 * and must be copied (amap_copy) before the first write.
 *
 *	[m] map lock	[I] immutable after creation	[a] atomic
 */
#ifndef VM_UVM_MAP_H
#define VM_UVM_MAP_H

#include <bsd/sys/tree.h>

#include "host/condvar.h"
#include "host/mutex.h"
#include "host/pmap.h"
#include "host/rwlock.h"
#include "uvm_amap.h"
#include "uvm_object.h"

struct lwp;
struct proc;
struct host_thread;

struct vm_map_entry {
	RB_ENTRY(vm_map_entry)	rb_entry;	/* [m] tree by start */
	struct vm_map_entry	*prev;		/* [m] ordered list */
	struct vm_map_entry	*next;		/* [m] */
	vaddr_t			start;		/* [m] */
	vaddr_t			end;		/* [m] */
	union {
		struct uvm_object	*uvm_obj;
		struct vm_map		*sub_map;
	} object;				/* [m] */
	voff_t			offset;		/* [m] offset into object */
	int			etype;		/* [m] UVM_ET_* */
	vm_prot_t		protection;	/* [m] */
	vm_prot_t		max_protection;	/* [m] */
	vm_inherit_t		inheritance;	/* [m] */
	int			wired_count;	/* [m] */
	int			advice;		/* [m] */
	struct vm_aref		aref;		/* [m] anonymous layer */
	int			flags;		/* [m] UVM_MAP_* */
};

#define UVM_ET_OBJ		0x01	/* object is a uvm_object */
#define UVM_ET_SUBMAP		0x02	/* object is a vm_map */
#define UVM_ET_COPYONWRITE	0x04	/* copy on write */
#define UVM_ET_NEEDSCOPY	0x08	/* amap must be copied first */
#define UVM_ET_HOLE		0x10	/* reserved, no access */

#define UVM_ET_ISOBJ(e)		(((e)->etype & UVM_ET_OBJ) != 0)
#define UVM_ET_ISSUBMAP(e)	(((e)->etype & UVM_ET_SUBMAP) != 0)
#define UVM_ET_ISCOPYONWRITE(e)	(((e)->etype & UVM_ET_COPYONWRITE) != 0)
#define UVM_ET_ISNEEDSCOPY(e)	(((e)->etype & UVM_ET_NEEDSCOPY) != 0)
#define VM_MAPENT_ISWIRED(e)	((e)->wired_count != 0)

#define UVM_MAP_KERNEL		0x01	/* entry of a kernel map */
#define UVM_MAP_STATIC		0x02	/* from the static pool */

RB_HEAD(uvm_map_addr, vm_map_entry);
int uvm_mapentry_addrcmp(const struct vm_map_entry *,
    const struct vm_map_entry *);
RB_PROTOTYPE(uvm_map_addr, vm_map_entry, rb_entry, uvm_mapentry_addrcmp)

struct vm_map {
	struct pmap		*pmap;		/* [I] */
	krwlock_t		lock;		/* the map lock */
	kmutex_t		misc_lock;	/* busy, flags, timestamp */
	kcondvar_t		busy_cv;	/* [misc_lock] waiting on busy */
	struct lwp		*busy;		/* [misc_lock] */
	struct host_thread	*busy_thread;	/* [misc_lock] who holds it busy
						 * (also threads that are no
						 * LWP: tests, the boot thread) */
	struct vm_map_entry	header;		/* [m] sentinel: start=min, end=max */
	struct uvm_map_addr	rb_head;	/* [m] */
	int			nentries;	/* [m] */
	vsize_t			size;		/* [m] virtual size */
	int			ref_count;	/* [a] */
	struct vm_map_entry	*hint;		/* [m] last lookup */
	int			flags;		/* [misc_lock] VM_MAP_* */
	unsigned int		timestamp;	/* [m] write unlocks */
};

#define VM_MAP_PAGEABLE		0x01	/* entries may be paged */
#define VM_MAP_INTRSAFE		0x02	/* may be used at "interrupt" time */
#define VM_MAP_WIREFUTURE	0x04	/* wire future mappings (mlockall) */
#define VM_MAP_DYING		0x20	/* being destroyed */
#define VM_MAP_TOPDOWN		0x40
#define VM_MAP_WANTVA		0x80	/* someone sleeps for VA (WAITVA) */

#define vm_map_min(map)		((map)->header.start)
#define vm_map_max(map)		((map)->header.end)
#define vm_map_pmap(map)	((map)->pmap)

/* The address space of a process. */
struct vmspace {
	struct vm_map	vm_map;		/* the map */
	int		vm_refcnt;	/* [a] */
	int		vm_rssize;	/* resident pages (reports) */
	int		vm_dused;	/* pages mapped anonymously */
};

/* uvm_map flags, NetBSD's encoding */
#define UVM_PROT_MASK		0x07
#define UVM_PROT_ALL		VM_PROT_ALL
#define UVM_PROT_NONE		VM_PROT_NONE
#define UVM_PROT_READ		VM_PROT_READ
#define UVM_PROT_RW		(VM_PROT_READ | VM_PROT_WRITE)
#define UVM_INH_MASK		0x30
#define UVM_INH_SHARE		0x00
#define UVM_INH_COPY		0x10
#define UVM_INH_NONE		0x20
#define UVM_INH_ZERO		0x30	/* OpenBSD: a fresh zero-fill copy */
#define MAP_INHERIT_SHARE	0
#define MAP_INHERIT_COPY	1
#define MAP_INHERIT_NONE	2
#define MAP_INHERIT_ZERO	3	/* OpenBSD's value (NetBSD: DONATE_COPY) */
#define UVM_ADV_NORMAL		0x0
#define UVM_ADV_RANDOM		0x1
#define UVM_ADV_SEQUENTIAL	0x2
#define UVM_ADV_MASK		0x7
#define UVM_FLAG_FIXED		0x010000	/* at *startp exactly */
#define UVM_FLAG_OVERLAY	0x020000	/* give it an amap now */
#define UVM_FLAG_NOMERGE	0x040000	/* do not merge with neighbours */
#define UVM_FLAG_COPYONW	0x080000	/* copy on write */
#define UVM_FLAG_AMAPPAD	0x100000
#define UVM_FLAG_TRYLOCK	0x200000	/* fail if the map is locked */
#define UVM_FLAG_NOWAIT		0x400000	/* do not sleep for entries */
#define UVM_FLAG_WAITVA		0x800000	/* sleep for VA (uvm_km) */

#define UVM_MAPFLAG(prot, maxprot, inh, advice, flags) \
	((prot) | ((maxprot) << 8) | (inh) | ((advice) << 12) | (flags))
#define UVM_PROTECTION(x)	((x) & UVM_PROT_MASK)
#define UVM_MAXPROTECTION(x)	(((x) >> 8) & UVM_PROT_MASK)
#define UVM_INHERIT(x)		(((x) & UVM_INH_MASK) >> 4)
#define UVM_ADVICE(x)		(((x) >> 12) & UVM_ADV_MASK)

#define KERN_SUCCESS		0	/* the 1998 seed's spelling of 0 */

void uvm_map_init(void);
void uvm_map_setup(struct vm_map *map, vaddr_t min, vaddr_t max, int flags);
struct vm_map *uvm_map_create(struct pmap *pmap, vaddr_t min, vaddr_t max,
    int flags);
void uvm_map_reference(struct vm_map *map);
void uvm_map_deallocate(struct vm_map *map);

/*
 * uvm_map: establish a mapping of size bytes of uobj at uoffset.
 * => *startp is a hint (or the place, with UVM_FLAG_FIXED); the address
 *    used is returned there
 * => map unlocked; may sleep unless UVM_FLAG_NOWAIT/TRYLOCK
 * => returns 0, ENOMEM (no space), EAGAIN (TRYLOCK and locked), EINVAL
 */
int uvm_map(struct vm_map *map, vaddr_t *startp, vsize_t size,
    struct uvm_object *uobj, voff_t uoffset, vsize_t align, int flags);
/* uvm_unmap: remove [start, end).  => map unlocked; may sleep */
void uvm_unmap(struct vm_map *map, vaddr_t start, vaddr_t end);
/* uvm_unmap_remove: unlink [start, end), returning the dead entries.
 * => map write-locked */
void uvm_unmap_remove(struct vm_map *map, vaddr_t start, vaddr_t end,
    struct vm_map_entry **dead_entries);
/* uvm_unmap_detach: drop the references of dead entries, free them.
 * => map unlocked */
void uvm_unmap_detach(struct vm_map_entry *dead_entries, int flags);

/* uvm_map_lookup_entry: the entry containing addr, or the one before.
 * => map locked */
bool uvm_map_lookup_entry(struct vm_map *map, vaddr_t addr,
    struct vm_map_entry **entry);
/* Clipping: split an entry at addr.  => map write-locked */
void uvm_map_clip_start(struct vm_map *map, struct vm_map_entry *entry,
    vaddr_t addr);
void uvm_map_clip_end(struct vm_map *map, struct vm_map_entry *entry,
    vaddr_t addr);

int uvm_map_protect(struct vm_map *map, vaddr_t start, vaddr_t end,
    vm_prot_t new_prot, bool set_max);
/* uvm_map_checkprot: is [start, end) mapped with at least prot?
 * => map read-locked */
bool uvm_map_checkprot(struct vm_map *map, vaddr_t start, vaddr_t end,
    vm_prot_t protection);
int uvm_map_inherit(struct vm_map *map, vaddr_t start, vaddr_t end,
    vm_inherit_t new_inheritance);
/*
 * uvm_map_clean: clean/deactivate/free the pages of [start, end) (PGO_*
 * flags; msync, madvise DONTNEED/FREE).  => map unlocked; 0, EFAULT for a
 * hole, EINVAL for a submap
 */
int uvm_map_clean(struct vm_map *map, vaddr_t start, vaddr_t end, int flags);
int uvm_map_advice(struct vm_map *map, vaddr_t start, vaddr_t end,
    int new_advice);
/*
 * uvm_map_pageable: wire (new_pageable false) or unwire [start, end).
 * => map unlocked unless lockflags says otherwise; may sleep (faults)
 * => EFAULT when the range has holes, ENOMEM when a page cannot be had
 */
#define UVM_LK_ENTER	0x1	/* map is already locked */
#define UVM_LK_EXIT	0x2	/* leave it locked */
int uvm_map_pageable(struct vm_map *map, vaddr_t start, vaddr_t end,
    bool new_pageable, int lockflags);
int uvm_map_submap(struct vm_map *map, vaddr_t start, vaddr_t end,
    struct vm_map *submap);
/* uvm_map_findspace: a free range of length with alignment.
 * => map locked; returns the entry before, or NULL */
struct vm_map_entry *uvm_map_findspace(struct vm_map *map, vaddr_t hint,
    vsize_t length, vaddr_t *result, struct uvm_object *uobj,
    voff_t uoffset, vsize_t align, int flags);

/* The map lock (NetBSD's interface). */
void vm_map_lock(struct vm_map *map);
bool vm_map_lock_try(struct vm_map *map);
void vm_map_lock_read(struct vm_map *map);
void vm_map_unlock(struct vm_map *map);
void vm_map_unlock_read(struct vm_map *map);
void vm_map_downgrade(struct vm_map *map);
bool vm_map_upgrade(struct vm_map *map);	/* try; false: relock */
void vm_map_busy(struct vm_map *map);
void vm_map_unbusy(struct vm_map *map);
bool vm_map_locked_p(struct vm_map *map);	/* write-held by caller */

/* Address spaces. */
struct vmspace *uvmspace_alloc(vaddr_t min, vaddr_t max, bool pageable);
void uvmspace_init(struct vmspace *vm, struct pmap *pmap, vaddr_t min,
    vaddr_t max, bool pageable);
void uvmspace_addref(struct vmspace *vm);
void uvmspace_free(struct vmspace *vm);
/*
 * uvmspace_fork: the child's address space, by the parent's entries'
 * inheritance: NONE entries are left out, SHARE entries share the amap
 * (and object) with the child, COPY entries become copy-on-write in both
 * (needs-copy; the parent's writable pages write-protected), except wired
 * ones and those whose amap is already shared, which the child copies at
 * once (amap_copy, and amap_cow_now for wired ones), ZERO entries start
 * again as zero-fill memory in the child.  The child's entries are never
 * wired.
 * => parent's map unlocked (write-locked inside); may sleep
 * => returns NULL when the host or the kernel ran out of memory for the
 *    new vmspace (deviation: NetBSD's cannot fail; ENOMEM to the forker)
 */
struct vmspace *uvmspace_fork(struct vmspace *vm1);
/* uvmspace_share: p2 uses p1's vmspace (vfork, RFMEM).  => never sleeps */
void uvmspace_share(struct proc *p1, struct proc *p2);
/*
 * uvmspace_unshare: give p a private copy of a vmspace it shares
 * (uvmspace_fork of it), dropping its reference to the shared one.
 * => may sleep; 0, or ENOMEM (p keeps the shared one)
 */
int uvmspace_unshare(struct proc *p);
/*
 * uvmspace_exec: empty p's address space for a new image: unmap
 * everything if p alone holds its vmspace, else give p a fresh one.
 * => may sleep; 0, or ENOMEM (p keeps its old vmspace)
 */
int uvmspace_exec(struct proc *p, vaddr_t start, vaddr_t end);

/* Map entries allocated now (the auditor's count). */
int uvm_mapent_count(void);
/* uvm_mapent_reclaim: give the entry pool's free pages back (low memory,
 * tests).  => returns pages freed; no map locked */
int uvm_mapent_reclaim(void);

/*
 * vm_map_modflags: set and clear VM_MAP_* flags (NetBSD), e.g.
 * VM_MAP_WIREFUTURE for mlockall.  => takes misc_lock; never sleeps
 */
void vm_map_modflags(struct vm_map *map, int set, int clear);
int vm_map_flags(struct vm_map *map);

/*
 * uvm_map_audit: check the map's invariants: entries ordered,
 * non-overlapping, inside [min, max), page aligned, start < end; the
 * tree holds exactly the list's entries; nentries and size match.
 * => map locked (read or write); returns true, or false with the first
 *    broken rule in why (if why != NULL)
 */
bool uvm_map_audit(struct vm_map *map, char *why, size_t len);

#endif /* VM_UVM_MAP_H */
