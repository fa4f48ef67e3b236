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
	int			uo_refs;	/* [o] references */
};

#define UVM_OBJ_KERN	(-2)	/* uo_refs of a kernel object: never dies */
#define UVM_OBJ_IS_KERN_OBJECT(uobj)	((uobj)->uo_refs == UVM_OBJ_KERN)

int uvm_pagecmp(const struct vm_page *, const struct vm_page *);
RB_PROTOTYPE(uvm_objtree, vm_page, objt, uvm_pagecmp)

/*
 * uvm_obj_init: a new object with its own lock (class "vmobjlock") and
 * `refs` references.
 */
void uvm_obj_init(struct uvm_object *uobj, const struct uvm_pagerops *pgops,
    int refs);
/* uvm_obj_setlock: make uobj use lockptr (shared); uobj has no pages. */
void uvm_obj_setlock(struct uvm_object *uobj, krwlock_t *lockptr);
void uvm_obj_destroy(struct uvm_object *uobj);

/*
 * uvm_obj_wire/unwire: fault in and wire [start, end) of uobj (used for
 * the u-area and wired kernel objects).  => uobj unlocked; may sleep
 */
int uvm_obj_wire(struct uvm_object *uobj, voff_t start, voff_t end,
    struct pglist *list);
void uvm_obj_unwire(struct uvm_object *uobj, voff_t start, voff_t end);

#endif /* VM_UVM_OBJECT_H */
