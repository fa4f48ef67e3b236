/*
 * host/pmap.h: the MI pmap(9) interface, on the host MMU.
 *
 * Every pmap is a window of host virtual addresses: holes but for the open
 * host mappings, placed where nothing else of the process goes, or (with
 * HOST_CLOSE_RESERVE, or where no room is left there) a PROT_NONE
 * reservation.
 * A user pmap's virtual address va (VM_MIN_ADDRESS <= va <
 * VM_MAXUSER_ADDRESS) lives at host address pmap_hostaddr(pmap, va); the
 * kernel pmap's window is placed so that a kernel va is its own host
 * address (kernel code dereferences kernel addresses directly).
 *
 * pmap_enter() records the mapping in the pmap's page table (a linear
 * array of PTEs) and pv list, and maps the arena page at the host address
 * with mmap(MAP_FIXED|MAP_SHARED) of the RAM memfd.  Referenced and
 * modified bits are emulated by protection: a page that is not referenced
 * is not accessible in the host, one that is not modified is not
 * writable, so the first access (or first write) traps, and the trap sets
 * the bit (pmap_fault_fixup) and opens the host mapping.  pmap_is_*()
 * therefore say what the simulated code really did.  Wired mappings never
 * trap: they are mapped with their full protection.
 *
 * Host budget: Linux allows vm.max_map_count mappings per process.  The
 * pmap counts its live host mappings and, past its budget, drops the
 * oldest unwired ones of the pmap at hand (FIFO, like a TLB); the logical
 * mapping stays and the next access refaults through pmap_fault_fixup.
 *
 * Locks: pm_lock (spin mutex, per pmap) > pv lock (spin mutex, hashed by
 * page).  Page-first operations (pmap_page_protect, pmap_clear_*) take the
 * pv lock first and only *try* pm_lock.
 * => nothing here sleeps or allocates with malloc: safe on the trap path.
 */
#ifndef HOST_PMAP_H
#define HOST_PMAP_H

#include "arena.h"
#include "mutex.h"

struct pmap;
typedef struct pmap *pmap_t;

struct pmap_statistics {
	long	resident_count;		/* [pm_lock] pages mapped */
	long	wired_count;		/* [pm_lock] of which wired */
};

/* pmap_enter flags: the access type in VM_PROT_ALL, plus these. */
#define PMAP_WIRED	0x10	/* wired mapping */
#define PMAP_CANFAIL	0x20	/* return ENOMEM rather than panic */
#define PMAP_NOCACHE	0x40	/* accepted, no effect */

/* Address-space layout (set by host_mmu_init). */
#define VM_MIN_ADDRESS		((vaddr_t)0)
extern vaddr_t vm_maxuser_address;		/* [I] */
extern vaddr_t vm_min_kernel_address;		/* [I] */
extern vaddr_t vm_max_kernel_address;		/* [I] */
#define VM_MAXUSER_ADDRESS	vm_maxuser_address
#define VM_MIN_KERNEL_ADDRESS	vm_min_kernel_address
#define VM_MAX_KERNEL_ADDRESS	vm_max_kernel_address

/*
 * How the host MMU learns that a page was modified (docs/machine.md):
 * by content, as a dirty bit would without a trap (a writable mapping's
 * first access opens it read-write and keeps the page's checksum; the
 * page is modified when its content no longer matches), or by a trap on
 * the first store through every mapping.
 */
enum host_mod_emulation { HOST_MOD_CONTENT = 0, HOST_MOD_TRAP };

/*
 * How a host mapping closes (docs/machine.md): by unmapping it, leaving a
 * hole in its window (windows are placed where nothing else of the
 * process goes), or by laying the window's PROT_NONE reservation over it
 * again.
 */
enum host_mmu_close { HOST_CLOSE_HOLE = 0, HOST_CLOSE_RESERVE };

struct host_mmu_config {
	uint64_t	user_va_size;	/* bytes of user VA per pmap */
	uint64_t	kernel_va_size;	/* bytes of kernel VA */
	long		map_budget;	/* live host mappings; 0: the RAM's
					   pages; -1: all max_map_count allows */
	enum host_mod_emulation mod_emulation;
	enum host_mmu_close close_mode;
	int		lwps;		/* LWPs the run makes, each with an
					   address space at most (the host
					   VMAs they cost beside the budget) */
};

/*
 * host_mmu_init: reserve the kernel window, make pmap_kernel(), install
 * the SIGSEGV trap.  => EINVAL for bad sizes, ENOMEM when the windows
 * cannot be reserved, EMLINK when vm.max_map_count is too small for any
 * budget; host_mmu_error() says why.
 */
int host_mmu_init(const struct host_mmu_config *cfg);
void host_mmu_fini(void);
const char *host_mmu_error(void);

pmap_t pmap_create(void);
void pmap_reference(pmap_t pm);
void pmap_destroy(pmap_t pm);
pmap_t pmap_kernel(void);

int pmap_enter(pmap_t pm, vaddr_t va, paddr_t pa, vm_prot_t prot, int flags);
void pmap_remove(pmap_t pm, vaddr_t sva, vaddr_t eva);
void pmap_protect(pmap_t pm, vaddr_t sva, vaddr_t eva, vm_prot_t prot);
void pmap_unwire(pmap_t pm, vaddr_t va);
bool pmap_extract(pmap_t pm, vaddr_t va, paddr_t *pap);
/* pmap_is_wired: does pm map va to pa with a wired mapping? */
bool pmap_is_wired(pmap_t pm, vaddr_t va, paddr_t pa);
void pmap_page_protect(struct vm_page *pg, vm_prot_t prot);
bool pmap_is_referenced(struct vm_page *pg);
bool pmap_clear_reference(struct vm_page *pg);
bool pmap_is_modified(struct vm_page *pg);
bool pmap_clear_modify(struct vm_page *pg);

/*
 * pmap_page_going: pg's mappings are about to go (the pagedaemon is
 * deactivating it), or no longer (going false).  While it is marked, a
 * pmap_page_protect(PROT_NONE) of an address neighbour closes pg's host
 * mapping in the same host call (a run, as the budget's evictions go),
 * leaving its logical mapping for its own pmap_page_protect: one system
 * call for a run of neighbours instead of one each.  Only a hint: a page
 * marked and then kept costs a trap at its next access.
 */
void pmap_page_going(struct vm_page *pg, bool going);
void pmap_kenter_pa(vaddr_t va, paddr_t pa, vm_prot_t prot, unsigned flags);
void pmap_kremove(vaddr_t va, vsize_t len);
void pmap_collect(pmap_t pm);
void pmap_update(pmap_t pm);
void pmap_copy(pmap_t dst, pmap_t src, vaddr_t dst_addr, vsize_t len,
    vaddr_t src_addr);
const struct pmap_statistics *pmap_stats(pmap_t pm);
#define pmap_resident_count(pm)	(pmap_stats(pm)->resident_count)
#define pmap_wired_count(pm)	(pmap_stats(pm)->wired_count)

/*
 * The owner of a pmap (the VM's vm_map that it translates for), so that
 * the trap can hand a fault on pm to the right map.
 */
void pmap_set_owner(pmap_t pm, void *owner);
void *pmap_owner(pmap_t pm);

/* Where simulated code touches va of pm. */
void *pmap_hostaddr(pmap_t pm, vaddr_t va);

/*
 * pmap_fault_fixup: the trap's first stop.  If pm maps va with a
 * protection that allows `access`, set the page's referenced (and, for a
 * write, modified) bit, open the host mapping (for a load through a
 * writable mapping, read-write when modified is told by content), and
 * return true; false
 * means the VM must handle the fault.  *validp says whether pm maps va at
 * all (what a hardware MMU's "present" bit tells its trap handler: a
 * protection fault, or a fault on an invalid mapping).
 */
bool pmap_fault_fixup(pmap_t pm, vaddr_t va, vm_prot_t access, bool *validp);

/* MMU statistics for reports. */
struct host_mmu_stats {
	long		live;		/* host mappings now */
	long		peak;		/* most at once */
	long		budget;		/* the bound */
	long		max_map_count;	/* the host's limit */
	uint64_t	nmap;		/* mmap calls (map a page) */
	uint64_t	nprotect;	/* mprotect calls */
	uint64_t	nunmap;		/* unmaps */
	uint64_t	nevict;		/* mappings dropped for the budget */
	uint64_t	nfixup;		/* traps resolved by the pmap itself */
	uint64_t	nbaseline;	/* clean pages opened writable */
	uint64_t	nsumcheck;	/* modified told by content */
	uint64_t	nsumdirty;	/* ...and found modified */
	uint64_t	nwalk;		/* opened ahead of a streak of accesses */
	uint64_t	nmaprun;	/* ...of them in runs of one mmap call */
	uint64_t	ngoing;		/* closed with a going neighbour's */
	uint64_t	nwinholes;	/* windows whose closes make holes */
	uint64_t	nwinreserved;	/* ...that re-reserve instead */
	enum host_mod_emulation mod_emulation;
	uint64_t	mmap_ns;	/* host time in mmap/mprotect calls */
};
void host_mmu_get_stats(struct host_mmu_stats *st);
/* Host VMAs of this process now (lines of /proc/self/maps); -1 unknown. */
long host_mmu_count_vmas(void);

#endif /* HOST_PMAP_H */
