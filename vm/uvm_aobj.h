/*
 * vm/uvm_aobj.h: anonymous objects (the pager of kernel and shared
 * anonymous memory): zero-fill pages that may later live in swap.
 *
 * Swap slots per page are kept in the aobj ([o] vmobjlock): an array for
 * small objects, a hash of clusters for large ones (the kernel object
 * spans all of kernel VA).
 */
#ifndef VM_UVM_AOBJ_H
#define VM_UVM_AOBJ_H

#include "uvm_pager.h"

#define UAO_FLAG_KERNOBJ	0x1	/* the kernel object */
#define UAO_FLAG_KERNSWAP	0x2	/* kernel object may swap (later) */
#define UAO_FLAG_NOSWAP		0x8	/* never page out */

extern const struct uvm_pagerops aobj_pager;

void uao_init(void);
/* uao_create: an aobj of size bytes, one reference. */
struct uvm_object *uao_create(vsize_t size, int flags);
void uao_reference(struct uvm_object *uobj);
/* uao_detach: drop a reference; the last frees pages and swap. */
void uao_detach(struct uvm_object *uobj);
/* uao_find_swslot/uao_set_swslot: swap slot of page index pageidx.
 * => object locked; set returns the old slot */
int uao_find_swslot(struct uvm_object *uobj, int pageidx);
int uao_set_swslot(struct uvm_object *uobj, int pageidx, int slot);
/* uao_dropswap: free the swap slot of pageidx.  => object locked */
void uao_dropswap(struct uvm_object *uobj, int pageidx);
/* Swap slots held by all aobjs (the auditor's count). */
int uao_swslots_in_use(void);

#define UVM_OBJ_IS_AOBJ(uobj)	((uobj)->pgops == &aobj_pager)

#endif /* VM_UVM_AOBJ_H */
