/*
 * vm/uvm_swap.h: the swap layer: one swap device over the machine's disk
 * model (host/disk.h), its slot map, and swap I/O.
 *
 * Slots are numbered from 1 (0 means "no slot" in an_swslot and aobj
 * slot tables); slot s is page s - 1 of the device.  The slot map (and
 * which of its slots are bad), swpginuse and the bad-slot count are under
 * the swap data lock, a spin mutex, since the pagedaemon allocates and
 * frees slots with the page queues held.  swpages is fixed once the
 * device is attached; swpgonly (pages that live only in swap) is atomic,
 * kept by the callers that make a page swap-only (the pagedaemon freeing
 * a clean swap-backed page) or resident again (swap-in).
 */
#ifndef VM_UVM_SWAP_H
#define VM_UVM_SWAP_H

#include "host/param.h"

struct vm_page;

/*
 * uvm_swap_attach: make a swap device of npages pages backed by path
 * (NULL: a temporary file in $TMPDIR; else a new path, a directory to
 * make the file in, or a swap file uvmstress made: host_disk_open).
 * diskflags: HOST_DISK_BUFFERED, HOST_DISK_KEEP.
 * => 0 or an errno, with uvm_swap_error() saying why: EINVAL the size,
 *    EEXIST a path that is not ours to write; else the host refused it
 */
int uvm_swap_attach(const char *path, uint64_t npages, int diskflags);
const char *uvm_swap_error(void);
/* uvm_swap_detach: close the device (nothing may be in flight). */
void uvm_swap_detach(void);
struct host_disk *uvm_swap_disk(void);

/*
 * uvm_swap_alloc: *nslots consecutive slots; returns the first, or 0 if
 * none.  lessok: fewer will do (*nslots says how many were given).
 * => any locks may be held; never sleeps
 */
int uvm_swap_alloc(int *nslots, bool lessok);
/* uvm_swap_free: give back nslots slots from startslot.  => never sleeps */
void uvm_swap_free(int startslot, int nslots);
/* uvm_swap_markbad: those slots failed a write: never reuse them. */
void uvm_swap_markbad(int startslot, int nslots);
/* uvm_swapisfull: every slot holds a page that lives only in swap. */
bool uvm_swapisfull(void);
/* Slots in use (including bad ones) and bad ones. */
int uvm_swap_inuse(void);
int uvm_swap_nbad(void);
/*
 * Auditor accessors (stress/audit.c), one slot of the slot map:
 * uvm_swap_slot_allocated: slot is in use (allocated, bad ones included);
 * uvm_swap_slot_bad: slot was marked bad (uvm_swap_markbad; it stays in
 * use for good).  Both false for a slot outside 1..swpages or with no
 * device.  A snapshot: only a quiescent machine keeps it true.
 * => take the swap data lock; never sleep
 */
bool uvm_swap_slot_allocated(int slot);
bool uvm_swap_slot_bad(int slot);

/*
 * uvm_swap_put: write npages busy pages to slots from swslot.  Without
 * PGO_SYNCIO the write is asynchronous: VM_PAGER_PEND, and the aiodone
 * daemon finishes the pages (uvm_aio_aiodone).  => VM_PAGER_OK, PEND,
 * AGAIN (no buf: try later), ERROR
 */
int uvm_swap_put(int swslot, struct vm_page **ppsp, int npages, int flags);
/*
 * uvm_swap_get: read slot swslot into the busy page pg, synchronously.
 * => owner locked or not, the page is the caller's; may sleep
 * => VM_PAGER_OK or VM_PAGER_ERROR (I/O error, or the data failed its
 *    checksum: the slot is not what was written there)
 */
int uvm_swap_get(struct vm_page *pg, int swslot, int flags);
/*
 * uvm_swap_getpages: read npages consecutive slots from swslot into the
 * busy pages pgs[], in one transfer; a NULL page (never the first or the
 * last) is a slot read past.  One page is read as uvm_swap_get reads it
 * (retried); a cluster is tried once, and on VM_PAGER_ERROR none of its
 * pages holds data: the caller reads the page it needs alone.
 * => as uvm_swap_get
 */
int uvm_swap_getpages(struct vm_page **pgs, int npages, int swslot,
    int flags);

#endif /* VM_UVM_SWAP_H */
