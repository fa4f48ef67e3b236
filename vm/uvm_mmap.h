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

#endif /* VM_UVM_MMAP_H */
