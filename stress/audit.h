/*
 * stress/audit.h: the invariant auditor.
 *
 * Checks the VM's invariants under the proper locks: page accounting
 * (free + active + inactive + wired + kernel + owned-but-unqueued =
 * npages), each page on at most one queue and its PQ_* flags matching,
 * busy pages owned, map entries ordered, non-overlapping and in bounds,
 * reference counts sane; swap: slots in use within the device, and on a
 * quiescent machine, per slot, every slot an anon or an aobj names
 * allocated in the swap map and not bad, no slot with two owners, every
 * allocated slot that is not bad owned (else leaked); and the counts:
 * slots in use exactly those anons and aobjs reference plus the bad ones,
 * swpgonly the anons and aobj pages only in swap, uvmexp.paging zero with
 * no page busy, no wired page with a swap slot.
 * Runs periodically during a run (from a harness thread) and at the end,
 * on a quiescent machine (workers joined, daemons stopped), with the
 * strict checks.
 */
#ifndef STRESS_AUDIT_H
#define STRESS_AUDIT_H

#include "vm/uvm_map.h"

struct audit_result {
	unsigned int	nviolations;
	uint64_t	nchecks;
	char		first[320];	/* the first violation, one line */
};

#define AUDIT_QUIESCENT	0x1	/* no LWP is running: exact counts */

/*
 * audit_pages: the physical pages and queues.
 * => no VM locks held; takes the page queue locks (briefly, in turn)
 */
void audit_pages(struct audit_result *ar, int flags);
/* audit_map: entries of one map.  => map unlocked; read-locks it */
void audit_map(struct audit_result *ar, struct vm_map *map);
/*
 * audit_swap: swap accounting (see above; the exact and per-slot checks
 * only with AUDIT_QUIESCENT: they calloc a table of one owner per swap
 * slot for the call).  A violation names the slot and its owners.
 * => no VM locks held; read-locks maps and amaps, and (a try, under the
 *    aobj list lock) each aobj
 */
void audit_swap(struct audit_result *ar, int flags);
/*
 * audit_refs: every amap's am_ref equals the map entries (of the kernel's
 * and the registered maps) that refer to it, every anon's an_ref the amap
 * slots that hold it; with AUDIT_QUIESCENT also every amap and anon
 * allocated is reached so.  Exact only while nothing changes a reference:
 * a quiescent machine, or every process stopped at a safe point (the
 * daemons may run: they take no amap or anon references).  (During a run
 * audit_map checks, per amap, that its anons are referenced and share its
 * lock.)
 * => no VM locks held; read-locks maps and amaps; calloc
 */
void audit_refs(struct audit_result *ar, int flags);
/*
 * audit_lwps: the swapper's invariants: no LWP out of memory is on a CPU
 * or a run queue; every LWP in memory (and not being swapped) has its
 * u-area or kernel stack resident, wired and mapped; with
 * AUDIT_QUIESCENT no hold is left (uvm_lwp_hold, PHOLD).
 * => takes proc_lock; l_swaplock or p_lock with a try
 */
void audit_lwps(struct audit_result *ar, int flags);
/*
 * audit_all: pages, swap, refs (quiescent), the kernel map and the registered maps: every
 * one when quiescent; during the run AUDIT_PERIODIC_MAPS of them a pass,
 * round robin (each map lock may wait for its holder to get a CPU back:
 * a thousand maps a pass held the harness for seconds, past its -t).
 */
#define AUDIT_PERIODIC_MAPS	32
void audit_all(struct audit_result *ar, int flags);

/*
 * audit_wired_range: no page of [start, end) of map, which its caller
 * wired (uvm_mlock) and nobody has unwired since, holds a swap slot: the
 * wiring fault gave it back (uvm_anon_dropswap, uao_dropswap: a wired
 * page is never paged out).  A violation names the va and the owner.
 * => map unlocked; read-locks it, then each entry's amap and aobj
 */
void audit_wired_range(struct audit_result *ar, struct vm_map *map,
    vaddr_t start, vaddr_t end);

/* Maps the auditor visits (the harness registers its processes'). */
void audit_register_map(struct vm_map *map);
void audit_unregister_map(struct vm_map *map);

#endif /* STRESS_AUDIT_H */
