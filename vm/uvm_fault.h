/*
 * vm/uvm_fault.h: the page fault handler.
 */
#ifndef VM_UVM_FAULT_H
#define VM_UVM_FAULT_H

#include "uvm_map.h"

typedef int vm_fault_t;
#define VM_FAULT_INVALID	0	/* no valid mapping */
#define VM_FAULT_PROTECT	1	/* protection violation */
#define VM_FAULT_WIRE		2	/* wiring fault */
#define VM_FAULT_WIREMAX	3	/* wiring fault, max protection */

/*
 * uvm_fault: resolve a fault at vaddr of orig_map for access_type.
 * => no VM locks held on entry or return; may sleep (busy pages, memory)
 * => returns 0, EFAULT (no mapping), EACCES (protection), ENOMEM
 */
int uvm_fault(struct vm_map *orig_map, vaddr_t vaddr, vm_fault_t fault_type,
    vm_prot_t access_type);
/*
 * uvm_fault_wire: fault in and wire [start, end).
 * => map unlocked; the caller may hold it busy (vm_map_busy) so that no
 *    writer changes the range while we fault; may sleep
 */
int uvm_fault_wire(struct vm_map *map, vaddr_t start, vaddr_t end,
    vm_prot_t access_type, int maxprot);
void uvm_fault_unwire(struct vm_map *map, vaddr_t start, vaddr_t end);
/* => map locked */
void uvm_fault_unwire_locked(struct vm_map *map, vaddr_t start, vaddr_t end);

/* The trap's entry into the VM (host_set_fault_hook). */
int uvm_trap_fault(pmap_t pm, vaddr_t va, vm_prot_t access, bool valid);

/*
 * Fault-ahead off a walk (a fault with normal advice that does not go on
 * its LWP's walk): UVM_FAULTAHEAD_WALK, the default, maps just the
 * faulting page; UVM_FAULTAHEAD_ADVICE maps the advice's window around
 * it, as OpenBSD does (3 behind, 4 ahead).  See uvm_fault.c.
 * => set at boot, before any fault
 */
enum uvm_faultahead { UVM_FAULTAHEAD_WALK = 0, UVM_FAULTAHEAD_ADVICE };
void uvm_fault_set_ahead(enum uvm_faultahead how);

/* Fault latency histogram (ns, log2 buckets) for reports. */
#define UVM_FAULT_HIST	32
void uvm_fault_latency(uint64_t hist[UVM_FAULT_HIST]);

#endif /* VM_UVM_FAULT_H */
