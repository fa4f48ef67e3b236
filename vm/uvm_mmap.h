/*
 * vm/uvm_mmap.h: the "system calls" simulated programs make into the VM:
 * map anonymous memory (private copy-on-write zero fill, or shared through
 * an aobj), unmap, change protection, wire.
 */
#ifndef VM_UVM_MMAP_H
#define VM_UVM_MMAP_H

#include "uvm_map.h"

#define UVM_MMAP_PRIVATE	0x0
#define UVM_MMAP_SHARED		0x1	/* shared anonymous memory (aobj) */
#define UVM_MMAP_FIXED		0x2	/* at *addrp exactly */

/*
 * uvm_mmap_anon: map size bytes of zero-fill memory with prot (maxprot:
 * VM_PROT_ALL) at *addrp (a hint unless UVM_MMAP_FIXED).
 * => map unlocked; returns 0, EINVAL (size 0, unaligned, out of range),
 *    ENOMEM (no space)
 */
int uvm_mmap_anon(struct vm_map *map, vaddr_t *addrp, vsize_t size,
    vm_prot_t prot, int flags);
/* uvm_munmap: unmap [addr, addr + size). => EINVAL for bad ranges */
int uvm_munmap(struct vm_map *map, vaddr_t addr, vsize_t size);
/* uvm_mprotect: => EACCES beyond max protection, ENOMEM on holes */
int uvm_mprotect(struct vm_map *map, vaddr_t addr, vsize_t size,
    vm_prot_t prot);
/*
 * uvm_mlock/uvm_munlock: wire or unwire the range (uvm_map_pageable).
 * uvm_mlock: EAGAIN if it would take the wired pages past uvmexp.wiredmax
 * (sys_mlock's check).
 */
int uvm_mlock(struct vm_map *map, vaddr_t addr, vsize_t size);
int uvm_munlock(struct vm_map *map, vaddr_t addr, vsize_t size);

/* msync flags (sys_msync) */
#define UVM_MS_ASYNC		0x1
#define UVM_MS_SYNC		0x2
#define UVM_MS_INVALIDATE	0x4
/*
 * uvm_msync: sys_msync's work: uvm_map_clean(PGO_CLEANIT, with PGO_FREE
 * for MS_INVALIDATE, PGO_SYNCIO for MS_SYNC).  => 0, EINVAL (bad range or
 * flags: MS_ASYNC and MS_SYNC together), EFAULT (a hole)
 */
int uvm_msync(struct vm_map *map, vaddr_t addr, vsize_t size, int flags);

/* madvise behaviours beyond the paging advice (sys_madvise) */
#define UVM_MADV_DONTNEED	4	/* deactivate the pages */
#define UVM_MADV_FREE		6	/* free them: they read zero after */
/*
 * uvm_madvise: sys_madvise: UVM_ADV_NORMAL/RANDOM/SEQUENTIAL set the
 * advice (uvm_map_advice); UVM_MADV_DONTNEED deactivates the range,
 * UVM_MADV_FREE frees its pages (uvm_map_clean).  => 0, EINVAL, EFAULT
 */
int uvm_madvise(struct vm_map *map, vaddr_t addr, vsize_t size, int behav);

#endif /* VM_UVM_MMAP_H */
