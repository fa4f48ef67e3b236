/*
 * vm/uvm_object.h: memory objects.
 *
 * An object is a sparse array of pages (a red-black tree keyed by
 * offset) behind a pager.  Its lock, vmobjlock, is a *pointer* to a
 * krwlock so that objects can share one (OpenBSD 2022); it covers the
 * tree, uo_npages, and the PG_* flags of the object's pages.
 *
 *	[o] *vmobjlock	[a] atomic	[I] immutable
 */
#ifndef VM_UVM_OBJECT_H
#define VM_UVM_OBJECT_H

#include <bsd/sys/tree.h>

#include "host/rwlock.h"
#include "uvm_page.h"

struct uvm_pagerops;

RB_HEAD(uvm_objtree, vm_page);

struct uvm_object {
	krwlock_t		*vmobjlock;	/* [I] (may be shared) */
	krwlock_t		vmobjlock_store; /* the lock, unless shared */
	const struct uvm_pagerops *pgops;	/* [I] */
	struct uvm_objtree	memt;		/* [o] pages */
	int			uo_npages;	/* [o] */
	int			uo_refs;	/* [o] references; changed with
						   atomic stores, so that it may
						   be read atomically without
						   the lock (kernel object?) */
};

#define UVM_OBJ_KERN	(-2)	/* uo_refs of a kernel object: never dies */
#define UVM_OBJ_IS_KERN_OBJECT(uobj) \
	(__atomic_load_n(&(uobj)->uo_refs, __ATOMIC_RELAXED) == UVM_OBJ_KERN)

int uvm_pagecmp(const struct vm_page *, const struct vm_page *);
RB_PROTOTYPE(uvm_objtree, vm_page, objt, uvm_pagecmp)

/*
 * uvm_obj_init: a new object with its own lock (class "vmobjlock") and
 * `refs` references.  => the object is not yet visible to anyone
 */
void uvm_obj_init(struct uvm_object *uobj, const struct uvm_pagerops *pgops,
    int refs);
/*
 * uvm_obj_setlock: make uobj use lockptr (shared with other objects;
 * NULL: its own lock again).  The caller keeps lockptr alive as long as
 * uobj uses it.  => uobj has no pages and is not visible to others
 */
void uvm_obj_setlock(struct uvm_object *uobj, krwlock_t *lockptr);
/* uvm_obj_destroy: => no pages left, lock not held */
void uvm_obj_destroy(struct uvm_object *uobj);

/*
 * uvm_obj_wire/unwire: fault in and wire [start, end) of uobj (used for
 * the u-area and wired kernel objects): pages through pgo_get, then
 * uvm_pagewire; with list non-NULL the wired pages are also linked on it
 * (through pageq, which wired pages do not use).
 * => uobj unlocked; may sleep
 * => uvm_obj_wire returns 0, or the errno of pgo_get's failure (ENOMEM
 *    when no memory can be had, EIO): what was wired is unwired again
 * => the list is the caller's only until it unwires (uvm_pageunwire puts
 *    the pages back on the active queue through the same link)
 */
int uvm_obj_wire(struct uvm_object *uobj, voff_t start, voff_t end,
    struct pglist *list);
void uvm_obj_unwire(struct uvm_object *uobj, voff_t start, voff_t end);

/*
 * Reference-counted rwlocks (NetBSD's and OpenBSD's rw_obj_alloc, which
 * the host does not have): a lock that several structures share and
 * that lives until the last of them lets go.  An amap's lock is one: it
 * is shared by the amap, its anons, and the amaps copied from it, and an
 * anon whose busy page is released keeps it alive until the page's
 * holder is done (uvm_anon_release).  Objects come from a pool of kernel
 * memory (ipl IPL_NONE).
 *
 * uvm_rwobj_alloc: a new lock of class `name` (a string that lives
 * forever), one reference, or NULL (PR_NOWAIT and no memory).
 * => PR_WAITOK may sleep
 */
krwlock_t *uvm_rwobj_alloc(const char *name, int prflags);
/* uvm_rwobj_hold: one more reference.  => never sleeps */
void uvm_rwobj_hold(krwlock_t *lock);
/*
 * uvm_rwobj_free: drop a reference; the last destroys the lock.
 * => the caller does not hold the lock if it may be the last reference;
 *    returns true if the lock was destroyed
 */
bool uvm_rwobj_free(krwlock_t *lock);
/* Reference-counted locks alive now (auditor, tests). */
int uvm_rwobj_count(void);
/* uvm_rwobj_init: the pool.  => at boot (uao_init calls it) */
void uvm_rwobj_init(void);

#endif /* VM_UVM_OBJECT_H */
