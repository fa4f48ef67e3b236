/*
 * vm/uvm_aobj.h: anonymous objects (the pager of kernel and shared
 * anonymous memory): zero-fill pages that may later live in swap.
 *
 * Swap slots per page are kept in the aobj ([o] vmobjlock): an array for
 * small objects (up to UAO_SWHASH_THRESHOLD pages), a hash of clusters
 * of UAO_SWHASH_CLUSTER_SIZE slots for large ones (the kernel object
 * spans all of kernel VA), all from pools of kernel memory.  Slots are
 * set by the pagedaemon when it pages a page out; uao_get of a
 * non-resident page that has a slot reads it back in from swap.
 */
#ifndef VM_UVM_AOBJ_H
#define VM_UVM_AOBJ_H

#include "uvm_pager.h"

#define UAO_FLAG_KERNOBJ	0x1	/* the kernel object */
#define UAO_FLAG_KERNSWAP	0x2	/* kernel object may swap (a no-op:
					   it has its swap hash from the
					   start) */
#define UAO_FLAG_CANFAIL	0x4	/* uao_create: NULL rather than sleep
					   for kernel memory */
#define UAO_FLAG_NOSWAP		0x8	/* never page out (no slots) */

#define UAO_SWHASH_CLUSTER_SHIFT 4
#define UAO_SWHASH_CLUSTER_SIZE	(1 << UAO_SWHASH_CLUSTER_SHIFT)
#define UAO_SWHASH_THRESHOLD	64	/* pages: an array up to this */

/*
 * UAO_SWSLOT_BAD: the slot of a page whose swap read failed (OpenBSD's
 * SWSLOT_BAD; -1 is taken: uao_set_swslot's "no memory").  The page's
 * data is lost: gets fail with VM_PAGER_ERROR; the slot itself stays
 * allocated and marked bad in the swap map.
 */
#define UAO_SWSLOT_BAD		(-2)

extern const struct uvm_pagerops aobj_pager;

/* uao_init: aobj pools (and the reference-counted lock pool).  => boot */
void uao_init(void);
/*
 * uao_create: an aobj of size bytes, one reference (UAO_FLAG_KERNOBJ:
 * the kernel object, UVM_OBJ_KERN references, which only the first call
 * may ask for).  => may sleep, unless UAO_FLAG_CANFAIL (then NULL when
 * kernel memory is short)
 */
struct uvm_object *uao_create(vsize_t size, int flags);
/* uao_reference: one more reference.  => uobj unlocked */
void uao_reference(struct uvm_object *uobj);
/*
 * uao_detach: drop a reference; the last frees the pages (waiting for
 * busy ones: pageout I/O), the swap slots (each slot of a page not
 * resident counted out of uvmexp.swpgonly) and the aobj.
 * => uobj unlocked; may sleep
 */
void uao_detach(struct uvm_object *uobj);
/*
 * uao_find_swslot/uao_set_swslot: swap slot of page index pageidx.
 * => object locked (write for set); set returns the old slot, or -1 when
 *    a hash cluster could not be allocated (the slot is not set); never
 *    sleeps (the pagedaemon calls it with the page queues held)
 * => a slot may be UAO_SWSLOT_BAD (set by uao_get after a failed read)
 */
int uao_find_swslot(struct uvm_object *uobj, int pageidx);
int uao_set_swslot(struct uvm_object *uobj, int pageidx, int slot);
/*
 * uao_dropswap: free the swap slot of pageidx and return it (0 if none).
 * A bad slot (UAO_SWSLOT_BAD) is forgotten, never freed, and its lost
 * page counted out of uvmexp.swpgonly.  A good slot of a page that is not
 * resident (it lived only in swap) the caller counts out of swpgonly
 * itself (uvm_km_pgremove); otherwise such slots go when the aobj dies.
 * => object locked (write); never sleeps
 */
int uao_dropswap(struct uvm_object *uobj, int pageidx);
/*
 * uao_flush: the aobj's pgo_flush (deactivate or free pages of a range,
 * for uvm_map_clean; see uvm_pager.h).  => object write-locked
 */
bool uao_flush(struct uvm_object *uobj, voff_t start, voff_t stop, int flags);
/* Swap slots held by all aobjs (the auditor's count). */
int uao_swslots_in_use(void);
/*
 * uao_foreach_swslot: auditor accessor (stress/audit.c): call
 * fn(arg, uobj, pageidx, slot) for every swap slot every aobj on the aobj
 * list holds (the kernel object included): slot > 0, or UAO_SWSLOT_BAD
 * (a lost page; the slot number itself is forgotten).  Returns how many
 * aobjs it skipped because their lock was held (0 on a quiescent
 * machine): it takes uao_list_lock and may only try each object's lock
 * under it (object > uao_list_lock).
 * => no VM locks held; fn runs with uao_list_lock and the object's lock
 *    (read) held, and must not sleep nor take VM locks
 */
typedef void (*uao_swslot_fn)(void *arg, struct uvm_object *uobj,
    int pageidx, int slot);
int uao_foreach_swslot(uao_swslot_fn fn, void *arg);

#define UVM_OBJ_IS_AOBJ(uobj)	((uobj)->pgops == &aobj_pager)

#endif /* VM_UVM_AOBJ_H */
