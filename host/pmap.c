/*
 * host/pmap.c: the pmap: page tables, pv lists, ref/mod emulation, and
 * the host mappings that make them real.
 *
 * A PTE is 64 bits: the physical address in the frame bits and, below,
 * the logical mapping (valid, protection, wired, managed) and the state
 * of the host mapping at that address (unmapped, mapped PROT_NONE,
 * read-only, read-write).  The host state is always the most the logical
 * protection and the page's ref/mod attributes allow, or less: less only
 * costs a trap, which pmap_fault_fixup turns into the bit and the access.
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/queue.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "clock.h"
#include "disk.h"
#include "hook.h"
#include "hsync.h"
#include "kassert.h"
#include "pmap.h"
#include "pool.h"
#include "trap.h"

#define PTE_V		0x001ull	/* valid */
#define PTE_R		0x002ull
#define PTE_W		0x004ull
#define PTE_X		0x008ull
#define PTE_WIRED	0x010ull
#define PTE_MANAGED	0x020ull	/* has a pv entry (not pmap_kenter_pa) */
#define PTE_HSHIFT	6
#define PTE_HMASK	(0x3ull << PTE_HSHIFT)	/* host state */
#define PTE_FRAME	(~(uint64_t)PAGE_MASK)

enum hstate { HS_UNMAPPED = 0, HS_NONE = 1, HS_R = 2, HS_RW = 3 };

#define PTE_HSTATE(pte)	((enum hstate)(((pte) & PTE_HMASK) >> PTE_HSHIFT))
#define PTE_SETH(pte, h) (((pte) & ~PTE_HMASK) | ((uint64_t)(h) << PTE_HSHIFT))
#define PTES_PER_PTP	512
#define EVICT_RUN	64	/* host mappings dropped in one call, at most */
#define EVICT_SLACK	64	/* an eviction goes this far below budget */
#define WALK_STREAK	8	/* accesses in address order before... */
#define WALK_AHEAD	32	/* ...mappings this far ahead open at once:
				   the pages a fault maps ahead of itself, up
				   to 16 past the last trap */
#define PEND_MAX	16	/* openings ahead held for one host call */

struct pv_entry {
	struct pv_entry	*pv_next;	/* [v] */
	pmap_t		pv_pmap;	/* [I] */
	vaddr_t		pv_va;		/* [I] */
};

/*
 * Lock legend: [l] pm_lock, [I] immutable, [a] atomic.
 */
struct pmap {
	kmutex_t		pm_lock;
	unsigned int		pm_refcnt;	/* [a] */
	bool			pm_kernel;	/* [I] */
	uintptr_t		pm_winstart;	/* [I] host window */
	size_t			pm_winsize;	/* [I] */
	vaddr_t			pm_minva;	/* [I] */
	vaddr_t			pm_maxva;	/* [I] */
	uintptr_t		pm_hostoff;	/* [I] host = va + hostoff */
	uint64_t		*pm_ptes;	/* [l] linear page table */
	uint16_t		*pm_ptpcnt;	/* [l] valid PTEs per PT page */
	size_t			pm_npte;	/* [I] */
	size_t			pm_ptsize;	/* [I] bytes of pm_ptes */
	uint32_t		*pm_ring;	/* [l] FIFO of host-mapped PTEs */
	uint64_t		pm_ringcap;	/* [I] power of two */
	uint64_t		pm_ringhead;	/* [l] next push */
	uint64_t		pm_ringtail;	/* [l] next pop */
	struct pmap_statistics	pm_stats;	/* [l] */
	vaddr_t			pm_walklast;	/* [l] last access of a streak */
	unsigned int		pm_walkrun;	/* [l] accesses in the streak */
	uint32_t		pm_pend[PEND_MAX]; /* [l] PTEs to open ahead */
	unsigned int		pm_npend;	/* [l], peeked at [a] */
	void			*pm_owner;	/* [a] the VM's map */
	bool			pm_holes;	/* [I] closes munmap (window
						   placed by window_reserve) */
	long			pm_nlive;	/* [l] its host mappings open */
	TAILQ_ENTRY(pmap)	pm_list;	/* [pmaps_lock] user pmaps */
};

vaddr_t vm_maxuser_address;
vaddr_t vm_min_kernel_address;
vaddr_t vm_max_kernel_address;

static struct pmap *kernel_pmap_ptr;
static struct pool pv_pool;
static uint64_t user_va_size;

#define PV_NLOCKS	64
static kmutex_t pv_locks[PV_NLOCKS];

/*
 * The host-mapping budget is the machine's, not a pmap's: every user
 * pmap is on pmaps_list, and one that opens past the budget gives back
 * what it holds above its share (budget / user pmaps); the rest comes
 * from the others in turn, at the hand (budget_hand).  pmaps_lock is a
 * spin mutex taken with no pm_lock held to add or remove a pmap, and only
 * tried under one (the hand), whose pm_locks are tried in turn.
 */
static kmutex_t pmaps_lock;
static TAILQ_HEAD(, pmap) pmaps_list =
    TAILQ_HEAD_INITIALIZER(pmaps_list);	/* [pmaps_lock] */
static struct pmap *pmaps_hand;		/* [pmaps_lock] next to give */
static atomic_int mmu_npmaps;		/* [pmaps_lock], read [a] */

/* MMU accounting [a] */
static atomic_long mmu_live, mmu_peak;
static long mmu_budget, mmu_max_map_count;	/* [I] after boot */
static long mmu_reserve_maps;		/* [I] host VMAs kept for the rest */
static _Atomic uint64_t mmu_nmap, mmu_nprotect, mmu_nunmap, mmu_nevict,
    mmu_nfixup, mmu_ns, mmu_nbaseline, mmu_nsumcheck, mmu_nsumdirty,
    mmu_nwalk, mmu_nmaprun, mmu_ngoing, mmu_nwinholes, mmu_nwinreserved;
static enum host_mod_emulation mmu_modemul;
static bool mmu_reserve_closes;		/* [I] HOST_CLOSE_RESERVE */
static int mmu_region = -1;		/* [windows_lock] window region in use,
					   -1: none (set at boot) */
static char mmu_err[512];

static inline kmutex_t *
pv_lock(const struct vm_page *pg)
{
	return &pv_locks[atop(pg->phys_addr) % PV_NLOCKS];
}

static inline size_t
pte_index(const struct pmap *pm, vaddr_t va)
{
	KDASSERT(va >= pm->pm_minva && va < pm->pm_maxva);
	return (size_t)((va - pm->pm_minva) >> PAGE_SHIFT);
}

static inline vaddr_t
pte_va(const struct pmap *pm, size_t idx)
{
	return pm->pm_minva + ((vaddr_t)idx << PAGE_SHIFT);
}

static inline void *
hostaddr(const struct pmap *pm, vaddr_t va)
{
	return (void *)(va + pm->pm_hostoff);
}

/*
 * n host mappings of pm opened (n > 0) or closed (n < 0): pm's count and
 * the machine's.  => pm_lock held; returns the machine's count now
 */
static inline long
live_add(struct pmap *pm, long n)
{
	pm->pm_nlive += n;
	return atomic_fetch_add_explicit(&mmu_live, n, memory_order_relaxed) +
	    n;
}

/*
 * What an eviction leaves a pmap: its share of the budget (the budget
 * over the user pmaps), less some slack so that evictions come in runs.
 */
static inline long
budget_floor(void)
{
	long share = mmu_budget / MAX(1, atomic_load_explicit(&mmu_npmaps,
	    memory_order_relaxed));

	return share - MIN(EVICT_SLACK, share / 2);
}

static inline uint32_t
pg_attrs(const struct vm_page *pg)
{
	return __atomic_load_n(&pg->mdpage.pvh_attrs, __ATOMIC_ACQUIRE);
}

static inline void
pg_setattrs(struct vm_page *pg, uint32_t bits)
{
	if ((pg_attrs(pg) & bits) != bits)
		__atomic_fetch_or(&pg->mdpage.pvh_attrs, bits, __ATOMIC_ACQ_REL);
}

/*
 * pte_want: the most the host may allow for pte now.  Wired and
 * unmanaged mappings never trap; others trap until referenced, and stay
 * read-only until modified or given a content baseline.
 */
static enum hstate
pte_want(uint64_t pte)
{
	struct vm_page *pg;
	uint32_t attrs;

	if ((pte & PTE_V) == 0)
		return HS_UNMAPPED;
	if ((pte & (PTE_R | PTE_W | PTE_X)) == 0)
		return HS_NONE;
	if ((pte & PTE_WIRED) || (pte & PTE_MANAGED) == 0)
		return (pte & PTE_W) ? HS_RW : HS_R;
	pg = PHYS_TO_VM_PAGE(pte & PTE_FRAME);
	attrs = pg_attrs(pg);
	if ((attrs & PGA_REFERENCED) == 0)
		return HS_NONE;
	if ((pte & PTE_W) && (attrs & (PGA_MODIFIED | PGA_BASELINE)))
		return HS_RW;
	return HS_R;
}

/* A host mapping the FIFO may drop: managed, unwired, mapped. */
static inline bool
pte_evictable(uint64_t pte)
{
	return (pte & (PTE_V | PTE_WIRED | PTE_MANAGED)) ==
	    (PTE_V | PTE_MANAGED) && PTE_HSTATE(pte) != HS_UNMAPPED;
}

static int
hstate_prot(enum hstate h)
{
	switch (h) {
	case HS_R:
		return PROT_READ;
	case HS_RW:
		return PROT_READ | PROT_WRITE;
	default:
		return PROT_NONE;
	}
}

/*
 * The MMU's own operations inside a window are raw system calls: they are
 * the hardware changing a translation, not a program writing memory, and
 * ThreadSanitizer's mmap interceptor would record them as writes racing
 * the very accesses that trap on them.  (Windows themselves are made and
 * destroyed with the libc calls, so TSan forgets a window's history when
 * its address range is reused.)
 */
static void *
mmu_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	long rv = syscall(SYS_mmap, addr, len, prot, flags, fd, off);

	return rv == -1 ? MAP_FAILED : (void *)rv;
}

static int
mmu_mprotect(void *addr, size_t len, int prot)
{
	return (int)syscall(SYS_mprotect, addr, len, prot);
}

static void
mmu_account(uint64_t t0)
{
	uint64_t ns = host_real_ns() - t0;

	atomic_fetch_add_explicit(&mmu_ns, ns, memory_order_relaxed);
	host_hook(HE_MMU_CALL, NULL, (uintptr_t)ns, __FILE__, __LINE__);
}

/*
 * Host VMAs of the process now, counted without allocating (safe on the
 * trap path, where a refused mmap is noticed).  => -1 if unknown
 */
static long
count_vmas_nomalloc(void)
{
	char buf[4096];
	long n = 0;
	ssize_t got;
	int fd, i;

	if ((fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC)) < 0)
		return -1;
	while ((got = read(fd, buf, sizeof(buf))) > 0)
		for (i = 0; i < got; i++)
			n += buf[i] == '\n';
	close(fd);
	return got < 0 ? -1 : n;
}

/*
 * mmu_refused: the host refused an MMU operation (`what` of len bytes at
 * addr, errno err).  ENOMEM is a host limit, not a VM failure: the
 * process's mappings reached vm.max_map_count (splitting a mapping
 * costs one more), or host memory ran out; host_limit() names it and
 * the harness ends the run with exit 3.  Anything else is a bug: panic.
 * => never allocates (the trap path comes here)
 */
static __noreturn void
mmu_refused(const char *what, void *addr, size_t len, int err)
{
	long vmas, live = atomic_load_explicit(&mmu_live,
	    memory_order_relaxed);
	int npm = atomic_load_explicit(&mmu_npmaps, memory_order_relaxed);

	if (err != ENOMEM)
		panic("pmap: %s of %p+%#zx failed: %s", what, addr, len,
		    strerror(err));
	vmas = count_vmas_nomalloc();
	if (mmu_max_map_count > 0 && vmas >= mmu_max_map_count - 8)
		host_limit("vm.max_map_count is %ld and the process holds %ld "
		    "host mappings: the host refused one more (%s); the MMU "
		    "keeps %ld of its budget of %ld live for %d address "
		    "spaces: lower --lwps or --map-budget, or raise the limit "
		    "(sysctl -w vm.max_map_count=%ld)", mmu_max_map_count, vmas,
		    what, live, mmu_budget, npm, 2 * mmu_max_map_count);
	host_limit("host memory: the host refused a %s of %zu bytes with "
	    "ENOMEM (%ld host mappings of vm.max_map_count %ld in use, %ld "
	    "of them the MMU's, %d address spaces): free host memory or "
	    "raise RLIMIT_AS, or lower --lwps or --ram", what, len, vmas,
	    mmu_max_map_count, live, npm);
}

/*
 * host_close: take the host mappings of a range of pm's window away.  In
 * a window with holes, by unmapping it: a hole costs less to make than a
 * PROT_NONE mapping laid over the range, and much less to open again (an
 * mmap into a hole has nothing to tear down); see window_reserve.
 * Otherwise the range goes back to the window's PROT_NONE reservation.
 */
static void
host_close(const struct pmap *pm, void *addr, size_t len)
{
	uint64_t t0 = host_real_ns();

	if (pm->pm_holes) {
		if (syscall(SYS_munmap, addr, len) != 0)
			mmu_refused("munmap", addr, len, errno);
	} else if (mmu_mmap(addr, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS |
	    MAP_FIXED | MAP_NORESERVE, -1, 0) == MAP_FAILED)
		mmu_refused("re-reserve (mmap PROT_NONE)", addr, len, errno);
	mmu_account(t0);
	atomic_fetch_add_explicit(&mmu_nunmap, 1, memory_order_relaxed);
}

static void pmap_evict(struct pmap *pm, size_t keep, long floor);
static void budget_hand(struct pmap *self, size_t keep);
static __noreturn void mmu_refused(const char *what, void *addr, size_t len,
    int err);
static void host_open_run(struct pmap *pm, size_t idx, size_t n,
    enum hstate h);

static inline bool
walk_next(const struct pmap *pm, vaddr_t va)
{
	return va > pm->pm_walklast &&
	    va <= pm->pm_walklast + WALK_AHEAD * PAGE_SIZE;
}

/*
 * An access at va that trapped (a fixup, or an enter with an access
 * type): one more in a streak going up through the address space in
 * short steps (the pages between may have been opened ahead), or the
 * start of another.  => pm_lock held
 */
static void
walk_note(struct pmap *pm, vaddr_t va)
{
	if (walk_next(pm, va)) {
		if (pm->pm_walkrun < WALK_STREAK)
			pm->pm_walkrun++;
	} else {
		pm->pm_walkrun = 0;
	}
	pm->pm_walklast = va;
}

/*
 * walk_ahead: does an enter without an access at va lie just ahead of a
 * streak?  Then the page is about to be touched, and the MMU opens it now
 * as if its walker had been there first (x86 may set accessed bits for
 * accesses that never retire): counted referenced, no trap at the touch.
 * => pm_lock held
 */
static bool
walk_ahead(const struct pmap *pm, vaddr_t va)
{
	return pm->pm_walkrun >= WALK_STREAK && walk_next(pm, va);
}

/* Does pg's content no longer match checksum `sum` (counted)? */
static bool
page_changed(struct vm_page *pg, uint64_t sum)
{
	bool changed;

	changed = host_page_checksum(host_arena_direct(pg->phys_addr)) != sum;
	atomic_fetch_add_explicit(&mmu_nsumcheck, 1, memory_order_relaxed);
	if (changed)
		atomic_fetch_add_explicit(&mmu_nsumdirty, 1,
		    memory_order_relaxed);
	return changed;
}

/*
 * pte_baseline: before a load (`access` without write) through pm's
 * writable, unwired mapping `pte` at va opens it read-write, keep the
 * page's checksum, so that pmap_is_modified tells a store without a
 * trap (HOST_MOD_CONTENT).  Only for a page with no mapping but this
 * one: another may be open read-write already, and a store through it
 * racing the checksum would go unseen.
 * => pm_lock held
 */
static void
pte_baseline(pmap_t pm, vaddr_t va, uint64_t pte, vm_prot_t access)
{
	struct vm_page *pg = PHYS_TO_VM_PAGE(pte & PTE_FRAME);
	kmutex_t *pvl = pv_lock(pg);
	struct pv_entry *pv;

	if (mmu_modemul != HOST_MOD_CONTENT || access == 0 ||
	    (access & VM_PROT_WRITE) || (pte & (PTE_W | PTE_WIRED)) != PTE_W ||
	    (pg_attrs(pg) & (PGA_MODIFIED | PGA_BASELINE)) != 0)
		return;
	mutex_enter(pvl);
	pv = pg->mdpage.pvh_list;
	if ((pg_attrs(pg) & (PGA_MODIFIED | PGA_BASELINE)) == 0 &&
	    pv != NULL && pv->pv_next == NULL && pv->pv_pmap == pm &&
	    pv->pv_va == va) {
		pg->mdpage.pvh_sum = host_page_checksum(
		    host_arena_direct(pg->phys_addr));
		pg_setattrs(pg, PGA_BASELINE);
		atomic_fetch_add_explicit(&mmu_nbaseline, 1,
		    memory_order_relaxed);
	}
	mutex_exit(pvl);
}

/*
 * pte_sethost: bring the host mapping of PTE idx to state h (never more
 * than pte_want allows).  Returns the new PTE.  => pm_lock held
 */
static uint64_t
pte_sethost(struct pmap *pm, size_t idx, uint64_t pte, enum hstate h)
{
	enum hstate cur = PTE_HSTATE(pte);
	void *addr = hostaddr(pm, pte_va(pm, idx));
	uint64_t t0;

	if (cur == h)
		return pte;
	if (h == HS_UNMAPPED) {
		host_close(pm, addr, PAGE_SIZE);
		live_add(pm, -1);
	} else if (cur == HS_UNMAPPED) {
		host_open_run(pm, idx, 1, h);
		return pm->pm_ptes[idx];
	} else {
		t0 = host_real_ns();
		if (mmu_mprotect(addr, PAGE_SIZE, hstate_prot(h)) != 0)
			mmu_refused("mprotect", addr, PAGE_SIZE, errno);
		mmu_account(t0);
		atomic_fetch_add_explicit(&mmu_nprotect, 1, memory_order_relaxed);
	}
	pte = PTE_SETH(pte, h);
	pm->pm_ptes[idx] = pte;
	return pte;
}

/*
 * host_open_run: map the n unmapped PTEs from idx, whose frames are
 * consecutive, to state h in one host call; then keep within budget.
 * => pm_lock held
 */
static void
host_open_run(struct pmap *pm, size_t idx, size_t n, enum hstate h)
{
	uint64_t pte = pm->pm_ptes[idx], t0;
	void *addr = hostaddr(pm, pte_va(pm, idx)), *p;
	size_t i;
	long live;

	/*
	 * In a window with holes an open always goes into a hole: that it
	 * replace nothing is checked, so a mapping that is not ours (the
	 * placement's promise broken) is a panic, not silent corruption.
	 */
	t0 = host_real_ns();
	p = mmu_mmap(addr, n << PAGE_SHIFT, hstate_prot(h), MAP_SHARED |
	    (pm->pm_holes ? MAP_FIXED_NOREPLACE : MAP_FIXED) | MAP_POPULATE,
	    host_arena_fd(), (off_t)(pte & PTE_FRAME));
	if (p == MAP_FAILED && errno == ENOMEM)
		mmu_refused("mmap of a page run", addr, n << PAGE_SHIFT, ENOMEM);
	if (p != addr)
		panic("pmap: mmap of %zu pages at pa %#llx, va %#lx failed: "
		    "%s", n, (unsigned long long)(pte & PTE_FRAME),
		    (unsigned long)pte_va(pm, idx), p != MAP_FAILED ?
		    "placed elsewhere" : errno == EEXIST ? "a mapping that is "
		    "not the pmap's is in the window" : strerror(errno));
	mmu_account(t0);
	atomic_fetch_add_explicit(&mmu_nmap, 1, memory_order_relaxed);
	if (n > 1)
		atomic_fetch_add_explicit(&mmu_nmaprun, n, memory_order_relaxed);
	live = live_add(pm, (long)n);
	if (live > atomic_load_explicit(&mmu_peak, memory_order_relaxed))
		atomic_store_explicit(&mmu_peak, live, memory_order_relaxed);
	for (i = idx; i < idx + n; i++) {
		pte = pm->pm_ptes[i];
		KDASSERT(PTE_HSTATE(pte) == HS_UNMAPPED && pte_want(pte) >= h);
		pm->pm_ptes[i] = PTE_SETH(pte, h);
		if ((pte & (PTE_WIRED | PTE_MANAGED)) == PTE_MANAGED) {
			if (pm->pm_ringhead - pm->pm_ringtail == pm->pm_ringcap)
				pm->pm_ringtail++;	/* forget the oldest */
			pm->pm_ring[pm->pm_ringhead++ & (pm->pm_ringcap - 1)] =
			    (uint32_t)i;
		}
	}
	if (live > mmu_budget) {
		pmap_evict(pm, idx + n - 1, budget_floor());
		if (atomic_load_explicit(&mmu_live, memory_order_relaxed) >
		    mmu_budget)
			budget_hand(pm, idx + n - 1);
	}
}

/* How far a held PTE opens now: HS_UNMAPPED if not (any more). */
static enum hstate
pend_want(const struct pmap *pm, size_t idx)
{
	uint64_t pte = pm->pm_ptes[idx];
	enum hstate h;

	if ((pte & PTE_V) == 0 || PTE_HSTATE(pte) != HS_UNMAPPED ||
	    (h = pte_want(pte)) < HS_R)
		return HS_UNMAPPED;
	return h;
}

/*
 * pend_flush: open the mappings held to be opened ahead, runs of
 * consecutive pages in consecutive frames in one host call each.  Each
 * opens as far as its PTE allows now (the held ones may have changed or
 * gone since: opening less than allowed only costs a trap).
 * => pm_lock held
 */
static void
pend_flush(struct pmap *pm)
{
	uint32_t *p = pm->pm_pend, t;
	unsigned int n = pm->pm_npend, i, j;
	enum hstate h;

	__atomic_store_n(&pm->pm_npend, 0, __ATOMIC_RELAXED);
	/* insertion sort: they come nearly in order, n <= PEND_MAX */
	for (i = 1; i < n; i++)
		for (j = i; j > 0 && p[j - 1] > p[j]; j--) {
			t = p[j];
			p[j] = p[j - 1];
			p[j - 1] = t;
		}
	for (i = 0; i < n; i = j) {
		j = i + 1;
		if ((h = pend_want(pm, p[i])) == HS_UNMAPPED)
			continue;
		/* the next pages in the next frames, opening as far */
		while (j < n && p[j] == p[i] + (j - i) &&
		    pend_want(pm, p[j]) == h &&
		    (pm->pm_ptes[p[j]] & PTE_FRAME) ==
		    (pm->pm_ptes[p[i]] & PTE_FRAME) +
		    ((uint64_t)(j - i) << PAGE_SHIFT))
			j++;
		host_open_run(pm, p[i], j - i, h);
	}
}

/*
 * pmap_evict: drop the oldest unwired host mappings of pm (not the one
 * at `keep`; SIZE_MAX: none is new) until the machine is EVICT_SLACK
 * under budget, or pm is down to `floor` host mappings or has none left
 * to drop; runs of neighbours in one call.  The logical mappings stay;
 * the next access refaults through pmap_fault_fixup.
 * => pm_lock held
 */
static void
pmap_evict(struct pmap *pm, size_t keep, long floor)
{
	uint64_t pte;
	size_t idx, end, i;

	while (atomic_load_explicit(&mmu_live, memory_order_relaxed) >
	    mmu_budget - EVICT_SLACK && pm->pm_nlive > floor &&
	    pm->pm_ringtail != pm->pm_ringhead) {
		idx = pm->pm_ring[pm->pm_ringtail++ & (pm->pm_ringcap - 1)];
		pte = pm->pm_ptes[idx];
		if (idx == keep || !pte_evictable(pte))
			continue;	/* an old ring entry, wired, or new */
		/*
		 * Its evictable neighbours above go in the same call (for a
		 * walk in address order, the next oldest), never the mapping
		 * just made.
		 */
		for (end = idx + 1; end < pm->pm_npte && end - idx < EVICT_RUN &&
		    end != keep && pte_evictable(pm->pm_ptes[end]); end++)
			continue;
		for (i = idx; i < end; i++)
			pm->pm_ptes[i] = PTE_SETH(pm->pm_ptes[i], HS_UNMAPPED);
		host_close(pm, hostaddr(pm, pte_va(pm, idx)), (end - idx) <<
		    PAGE_SHIFT);
		/*
		 * Read the dirty bits of the mappings that were open
		 * read-write on a baseline now, as x86 harvests PG_M when a
		 * PTE goes: here, not under the page queues lock where the
		 * pagedaemon would ask.
		 */
		for (i = idx; i < end; i++)
			if (pm->pm_ptes[i] & PTE_W)
				(void)pmap_is_modified(PHYS_TO_VM_PAGE(
				    pm->pm_ptes[i] & PTE_FRAME));
		live_add(pm, -(long)(end - idx));
		atomic_fetch_add_explicit(&mmu_nevict, end - idx,
		    memory_order_relaxed);
	}
}

/*
 * budget_hand: the machine is still over budget after self gave back
 * what it held above its share: take the oldest host mappings of the
 * other user pmaps, in turn from where the hand last stopped, first
 * from those above their share, then (kernel and wired mappings may
 * fill the rest) from any, self too.  One budget for the machine: the
 * count of address spaces does not multiply it.
 * => self's pm_lock held; pmaps_lock and the others' pm_locks are only
 *    tried (taken the other way round elsewhere), so this never waits:
 *    a pmap busy now is passed over, and while another thread moves the
 *    hand this one goes on (the overshoot is a few runs per CPU)
 */
static void
budget_hand(struct pmap *self, size_t keep)
{
	struct pmap *pm;
	long floor = budget_floor();
	int pass, n;

	if (!mutex_tryenter(&pmaps_lock))
		return;
	for (pass = 0; pass < 2; pass++, floor = 0) {
		for (n = atomic_load_explicit(&mmu_npmaps,
		    memory_order_relaxed); n > 0 && atomic_load_explicit(
		    &mmu_live, memory_order_relaxed) > mmu_budget -
		    EVICT_SLACK; n--) {
			if ((pm = pmaps_hand) == NULL &&
			    (pm = TAILQ_FIRST(&pmaps_list)) == NULL)
				break;
			pmaps_hand = TAILQ_NEXT(pm, pm_list);
			if (pm == self) {
				if (pass > 0)
					pmap_evict(pm, keep, 0);
				continue;
			}
			if (!mutex_tryenter(&pm->pm_lock))
				continue;
			pmap_evict(pm, SIZE_MAX, floor);
			mutex_exit(&pm->pm_lock);
		}
	}
	mutex_exit(&pmaps_lock);
}

/* pv list surgery.  => pv lock of pg held */
static struct pv_entry *
pv_unlink(struct vm_page *pg, pmap_t pm, vaddr_t va)
{
	struct pv_entry **pvp, *pv;

	for (pvp = &pg->mdpage.pvh_list; (pv = *pvp) != NULL;
	    pvp = &pv->pv_next) {
		if (pv->pv_pmap == pm && pv->pv_va == va) {
			*pvp = pv->pv_next;
			return pv;
		}
	}
	panic("pmap: no pv entry for pmap %p va %#lx pa %#llx", (void *)pm,
	    (unsigned long)va, (unsigned long long)pg->phys_addr);
}

/*
 * pte_clear: forget the mapping at idx (pv entry, stats); the caller
 * re-reserves the host range.  Returns the pv entry to free, or NULL.
 * => pm_lock held
 */
static struct pv_entry *
pte_clear(struct pmap *pm, size_t idx, uint64_t pte)
{
	struct pv_entry *pv = NULL;
	struct vm_page *pg;

	KDASSERT(pte & PTE_V);
	if (pte & PTE_MANAGED) {
		pg = PHYS_TO_VM_PAGE(pte & PTE_FRAME);
		mutex_enter(pv_lock(pg));
		pv = pv_unlink(pg, pm, pte_va(pm, idx));
		mutex_exit(pv_lock(pg));
	}
	if (pte & PTE_WIRED)
		pm->pm_stats.wired_count--;
	pm->pm_stats.resident_count--;
	pm->pm_ptpcnt[idx / PTES_PER_PTP]--;
	if (PTE_HSTATE(pte) != HS_UNMAPPED)
		live_add(pm, -1);
	pm->pm_ptes[idx] = 0;
	return pv;
}

static void
pv_free_list(struct pv_entry *pv)
{
	struct pv_entry *next;

	for (; pv != NULL; pv = next) {
		next = pv->pv_next;
		pool_put(&pv_pool, pv);
	}
}

static void *
map_anon(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE |
	    MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

/*
 * Where windows with holes go: far below the free space the kernel hands
 * out to mmap(NULL) (top-down, from just under the stack; bottom-up from
 * a third of the address space in the legacy layout), so that no other
 * mapping of the process is ever put in one.  Such a window is not
 * reserved at all: it is holes but for its open mappings (so it costs
 * host VMAs only for those, however sparse), and windows_used says which
 * part of its region is whose.  The first region is low user memory
 * (TSan's application memory too); the second lies above ASan's shadow,
 * for the build whose shadow covers the first.
 */
static const struct window_region {
	uintptr_t	wr_start, wr_end;
} window_regions[] = {
	{ 64ull << 30, 512ull << 30 },
	{ 0x100100000000ull, 0x200000000000ull },
};
#define WINDOW_ALIGN	(1ull << 30)
#define WINDOWS_MAX	1025		/* kernel + --lwps 1024 */

static pthread_mutex_t windows_lock = PTHREAD_MUTEX_INITIALIZER;
static struct { uintptr_t start, end; } windows_used[WINDOWS_MAX];
static int windows_nused;		/* [windows_lock] */
static bool region_refused[nitems(window_regions)]; /* [windows_lock] the
					   host lets no window go there */

static bool
window_taken(uintptr_t a, size_t len)
{
	int i;

	for (i = 0; i < windows_nused; i++)
		if (a < windows_used[i].end && windows_used[i].start < a + len)
			return true;
	return false;
}

/*
 * window_place: the lowest free slot of region r for len bytes, checked
 * free in the host (and by the sanitizer's mmap, which forgets what it
 * knew of the range) by mapping it and unmapping it again.
 * => windows_lock held; 0 if the region has no room or the build's
 * runtime does not let windows go there
 */
static uintptr_t
window_place(size_t r, size_t len)
{
	size_t step = howmany(len, WINDOW_ALIGN) * WINDOW_ALIGN;
	uintptr_t a;
	bool ours = false;
	void *p;

	if (windows_nused == WINDOWS_MAX || region_refused[r])
		return 0;
	for (a = window_regions[r].wr_start;
	    a + len <= window_regions[r].wr_end; a += step) {
		if (window_taken(a, len)) {
			ours = true;
			continue;
		}
		p = mmap((void *)a, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS |
		    MAP_NORESERVE | MAP_FIXED_NOREPLACE, -1, 0);
		if (p != MAP_FAILED)
			munmap(p, len);
		if (p == (void *)a) {
			windows_used[windows_nused].start = a;
			windows_used[windows_nused++].end = a + len;
			return a;
		}
		if (p != MAP_FAILED || errno != EEXIST)
			return 0;	/* an old kernel's hint, or refused */
	}
	/*
	 * Every slot taken by something not ours (a sanitizer's shadow):
	 * do not probe it slot by slot again for every window.
	 */
	if (!ours)
		region_refused[r] = true;
	return 0;
}

/*
 * window_reserve: host VA for a window of len bytes.  In a window region
 * (the first that takes the kernel's window, at boot, or one after it
 * when that is full), its closes make holes (*holesp true); where no
 * region has room, or none takes a window in this build, or closes
 * re-reserve, the window is a PROT_NONE reservation wherever mmap puts
 * it.  => NULL if there is no room at all
 */
static void *
window_reserve(size_t len, bool boot, bool *holesp)
{
	uintptr_t a = 0;
	size_t r;
	void *p;

	*holesp = false;
	hs_lock(&windows_lock);
	for (r = 0; !mmu_reserve_closes && r < nitems(window_regions); r++) {
		if (!boot && r < (size_t)mmu_region)
			continue;
		if ((a = window_place(r, len)) != 0) {
			if (boot)
				mmu_region = (int)r;
			break;
		}
	}
	hs_unlock(&windows_lock);
	if (a != 0) {
		*holesp = true;
		atomic_fetch_add(&mmu_nwinholes, 1);
		return (void *)a;
	}
	p = mmap(NULL, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS |
	    MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	atomic_fetch_add(&mmu_nwinreserved, 1);
	return p;
}

/* window_release: the window at p is no more. */
static void
window_release(void *p, size_t len, bool holes)
{
	int i;

	munmap(p, len);		/* its reservation, or what is left open */
	if (!holes)
		return;
	hs_lock(&windows_lock);
	for (i = 0; i < windows_nused; i++)
		if (windows_used[i].start == (uintptr_t)p) {
			windows_used[i] = windows_used[--windows_nused];
			break;
		}
	hs_unlock(&windows_lock);
}

static struct pmap *
pmap_alloc(uintptr_t winstart, size_t winsize, vaddr_t minva, bool kernel,
    bool holes)
{
	struct pmap *pm;
	uint64_t cap;

	pm = calloc(1, sizeof(*pm));
	if (pm == NULL)
		return NULL;
	mutex_init_class(&pm->pm_lock, MUTEX_SPIN, IPL_VM, "pmap");
	pm->pm_refcnt = 1;
	pm->pm_kernel = kernel;
	pm->pm_holes = holes;
	pm->pm_winstart = winstart;
	pm->pm_winsize = winsize;
	pm->pm_minva = minva;
	pm->pm_maxva = minva + winsize;
	pm->pm_hostoff = winstart - minva;
	pm->pm_npte = winsize >> PAGE_SHIFT;
	pm->pm_ptsize = round_page(pm->pm_npte * sizeof(uint64_t));
	for (cap = 1024; cap < (uint64_t)mmu_budget && cap < pm->pm_npte;)
		cap <<= 1;
	pm->pm_ringcap = cap;
	pm->pm_ptes = map_anon(pm->pm_ptsize);
	pm->pm_ptpcnt = map_anon(round_page(howmany(pm->pm_npte,
	    PTES_PER_PTP) * sizeof(uint16_t)));
	pm->pm_ring = map_anon(round_page(cap * sizeof(uint32_t)));
	if (pm->pm_ptes == NULL || pm->pm_ptpcnt == NULL || pm->pm_ring == NULL ||
	    host_trap_add_window(winstart, winstart + winsize, pm, minva) != 0) {
		if (pm->pm_ptes != NULL)
			munmap(pm->pm_ptes, pm->pm_ptsize);
		if (pm->pm_ptpcnt != NULL)
			munmap(pm->pm_ptpcnt, round_page(howmany(pm->pm_npte,
			    PTES_PER_PTP) * sizeof(uint16_t)));
		if (pm->pm_ring != NULL)
			munmap(pm->pm_ring, round_page(cap * sizeof(uint32_t)));
		free(pm);
		return NULL;
	}
	return pm;
}

static void
pmap_free(struct pmap *pm)
{
	host_trap_remove_window(pm->pm_winstart);
	munmap(pm->pm_ptes, pm->pm_ptsize);
	munmap(pm->pm_ptpcnt, round_page(howmany(pm->pm_npte, PTES_PER_PTP) *
	    sizeof(uint16_t)));
	munmap(pm->pm_ring, round_page(pm->pm_ringcap * sizeof(uint32_t)));
	window_release((void *)pm->pm_winstart, pm->pm_winsize, pm->pm_holes);
	mutex_destroy(&pm->pm_lock);
	free(pm);
}

const char *
host_mmu_error(void)
{
	return mmu_err;
}

/*
 * The host's vm.max_map_count; UVMSTRESS_MAX_MAP_COUNT (a test knob,
 * docs/machine.md) makes the MMU assume a smaller one.
 */
static long
read_max_map_count(void)
{
	const char *knob = getenv("UVMSTRESS_MAX_MAP_COUNT");
	FILE *f;
	long n = -1;
	char *end;

	if (knob != NULL && knob[0] != '\0') {
		n = strtol(knob, &end, 10);
		if (*end == '\0' && n > 0)
			return n;
	}
	if ((f = fopen("/proc/sys/vm/max_map_count", "r")) == NULL)
		return -1;
	if (fscanf(f, "%ld", &n) != 1)
		n = -1;
	fclose(f);
	return n;
}

/*
 * Host VMAs the rest of the process needs (libraries, pools, heaps), and
 * more for each LWP and its address space (thread stack and guard, page
 * tables, the scenario's buffers): measured in docs/machine.md.
 */
#define MMU_RESERVE_MAPS	4096
#define MMU_MAPS_PER_LWP	8
#define MMU_MIN_BUDGET		256

int
host_mmu_init(const struct host_mmu_config *cfg)
{
	void *kwin;
	bool holes;
	long max;
	int i, error;

	mmu_err[0] = '\0';
	if (cfg->user_va_size == 0 || (cfg->user_va_size & PAGE_MASK) ||
	    cfg->kernel_va_size == 0 || (cfg->kernel_va_size & PAGE_MASK) ||
	    cfg->user_va_size > (1ull << 44) || cfg->kernel_va_size > (1ull << 40) ||
	    (cfg->user_va_size >> PAGE_SHIFT) > UINT32_MAX) {
		snprintf(mmu_err, sizeof(mmu_err), "bad address-space sizes: "
		    "user %#llx, kernel %#llx",
		    (unsigned long long)cfg->user_va_size,
		    (unsigned long long)cfg->kernel_va_size);
		return EINVAL;
	}
	mmu_max_map_count = read_max_map_count();
	mmu_reserve_maps = MMU_RESERVE_MAPS + MMU_MAPS_PER_LWP *
	    (long)MAX(cfg->lwps, 0);
	max = mmu_max_map_count > 0 ?
	    (mmu_max_map_count - mmu_reserve_maps) / 2 : 32000;
	if (cfg->map_budget > 0)
		mmu_budget = cfg->map_budget;
	else if (cfg->map_budget < 0 || host_arena_size() == 0)
		mmu_budget = max;
	else	/* host mappings for all the RAM: see docs/machine.md */
		mmu_budget = MIN(max, MAX(MMU_MIN_BUDGET,
		    (long)atop(host_arena_size())));
	/*
	 * Every isolated page mapping may split its reservation in two (a
	 * window with holes has none, but may fall back to one).
	 */
	if (mmu_budget < MMU_MIN_BUDGET || (mmu_max_map_count > 0 &&
	    2 * mmu_budget + mmu_reserve_maps > mmu_max_map_count)) {
		long fit = mmu_max_map_count - MMU_RESERVE_MAPS -
		    2 * MMU_MIN_BUDGET;

		snprintf(mmu_err, sizeof(mmu_err), "vm.max_map_count is %ld: "
		    "too small for a budget of %ld host mappings with %d LWPs "
		    "(needs at least %ld; what fits: a budget of at most %ld, "
		    "or at most %ld LWPs; or raise it: sysctl -w "
		    "vm.max_map_count=%ld)", mmu_max_map_count, mmu_budget,
		    cfg->lwps, 2 * MAX(mmu_budget, (long)MMU_MIN_BUDGET) +
		    mmu_reserve_maps, MAX(0, max), MAX(0, fit /
		    MMU_MAPS_PER_LWP), 2 * MAX(mmu_budget,
		    (long)MMU_MIN_BUDGET) + mmu_reserve_maps);
		return EMLINK;
	}
	if (cfg->mod_emulation != HOST_MOD_CONTENT &&
	    cfg->mod_emulation != HOST_MOD_TRAP) {
		snprintf(mmu_err, sizeof(mmu_err), "bad modified-bit "
		    "emulation %d", (int)cfg->mod_emulation);
		return EINVAL;
	}
	if (cfg->close_mode != HOST_CLOSE_HOLE &&
	    cfg->close_mode != HOST_CLOSE_RESERVE) {
		snprintf(mmu_err, sizeof(mmu_err), "bad host close mode %d",
		    (int)cfg->close_mode);
		return EINVAL;
	}
	mmu_modemul = cfg->mod_emulation;
	mmu_reserve_closes = cfg->close_mode == HOST_CLOSE_RESERVE;
	hs_lock(&windows_lock);
	mmu_region = -1;
	memset(region_refused, 0, sizeof(region_refused));
	hs_unlock(&windows_lock);
	atomic_store(&mmu_nwinholes, 0);
	atomic_store(&mmu_nwinreserved, 0);
	atomic_store(&mmu_live, 0);
	atomic_store(&mmu_peak, 0);
	mutex_init_class(&pmaps_lock, MUTEX_SPIN, IPL_VM, "pmaps");
	KASSERTMSG(TAILQ_EMPTY(&pmaps_list), "host_mmu_init: pmaps left");
	pmaps_hand = NULL;
	atomic_store(&mmu_npmaps, 0);
	for (i = 0; i < PV_NLOCKS; i++)
		mutex_init_class(&pv_locks[i], MUTEX_SPIN, IPL_VM, "pvh");
	pool_init(&pv_pool, sizeof(struct pv_entry), 0, 0, 0, "pvpl",
	    &pool_allocator_host, IPL_VM);
	if ((error = host_trap_init()) != 0) {
		snprintf(mmu_err, sizeof(mmu_err), "cannot install the SIGSEGV "
		    "trap: %s", strerror(error));
		return error;
	}
	user_va_size = cfg->user_va_size;
	vm_maxuser_address = VM_MIN_ADDRESS + cfg->user_va_size;
	kwin = window_reserve(cfg->kernel_va_size, true, &holes);
	if (kwin == NULL) {
		snprintf(mmu_err, sizeof(mmu_err), "cannot reserve %llu MiB of "
		    "kernel VA: %s", (unsigned long long)(cfg->kernel_va_size >> 20),
		    strerror(errno));
		return ENOMEM;
	}
	vm_min_kernel_address = (vaddr_t)kwin;
	vm_max_kernel_address = (vaddr_t)kwin + cfg->kernel_va_size;
	kernel_pmap_ptr = pmap_alloc((uintptr_t)kwin, cfg->kernel_va_size,
	    (vaddr_t)kwin, true, holes);
	if (kernel_pmap_ptr == NULL) {
		window_release(kwin, cfg->kernel_va_size, holes);
		snprintf(mmu_err, sizeof(mmu_err), "cannot make the kernel pmap");
		return ENOMEM;
	}
	return 0;
}

void
host_mmu_fini(void)
{
	struct pmap *pm = kernel_pmap_ptr;

	if (pm == NULL)
		return;
	pmap_remove(pm, pm->pm_minva, pm->pm_maxva);
	kernel_pmap_ptr = NULL;
	pmap_free(pm);
	host_trap_fini();
	pool_destroy(&pv_pool);
}

pmap_t
pmap_kernel(void)
{
	return kernel_pmap_ptr;
}

pmap_t
pmap_create(void)
{
	void *win;
	struct pmap *pm;
	bool holes;

	win = window_reserve(user_va_size, false, &holes);
	if (win == NULL)
		host_limit("host address space: cannot reserve a %llu MiB "
		    "window for address space %d: %s (RLIMIT_AS, or "
		    "vm.max_map_count %ld): lower --lwps",
		    (unsigned long long)(user_va_size >> 20),
		    atomic_load(&mmu_npmaps) + 1, strerror(errno),
		    mmu_max_map_count);
	pm = pmap_alloc((uintptr_t)win, user_va_size, VM_MIN_ADDRESS, false,
	    holes);
	if (pm == NULL)
		host_limit("host memory: no room for the page tables of "
		    "address space %d: lower --lwps",
		    atomic_load(&mmu_npmaps) + 1);
	mutex_enter(&pmaps_lock);
	TAILQ_INSERT_TAIL(&pmaps_list, pm, pm_list);
	atomic_fetch_add(&mmu_npmaps, 1);
	mutex_exit(&pmaps_lock);
	return pm;
}

void
pmap_reference(pmap_t pm)
{
	atomic_fetch_add((_Atomic unsigned int *)&pm->pm_refcnt, 1);
}

void
pmap_destroy(pmap_t pm)
{
	if (atomic_fetch_sub((_Atomic unsigned int *)&pm->pm_refcnt, 1) != 1)
		return;
	KASSERT(pm != kernel_pmap_ptr);
	/* off the list first: the hand takes pm_locks under pmaps_lock */
	mutex_enter(&pmaps_lock);
	if (pmaps_hand == pm)
		pmaps_hand = TAILQ_NEXT(pm, pm_list);
	TAILQ_REMOVE(&pmaps_list, pm, pm_list);
	atomic_fetch_sub(&mmu_npmaps, 1);
	mutex_exit(&pmaps_lock);
	pmap_remove(pm, pm->pm_minva, pm->pm_maxva);
	KASSERTMSG(pm->pm_stats.resident_count == 0,
	    "pmap_destroy: %ld pages still mapped", pm->pm_stats.resident_count);
	KASSERTMSG(pm->pm_nlive == 0, "pmap_destroy: %ld host mappings left",
	    pm->pm_nlive);
	pmap_free(pm);
}

int
pmap_enter(pmap_t pm, vaddr_t va, paddr_t pa, vm_prot_t prot, int flags)
{
	vm_prot_t access = flags & VM_PROT_ALL;
	struct vm_page *pg = PHYS_TO_VM_PAGE(pa);
	struct pv_entry *pv, *opv = NULL;
	uint64_t opte, npte;
	size_t idx;
	uint32_t bits = 0;
	bool ahead = false;

	KASSERTMSG((va & PAGE_MASK) == 0 && va >= pm->pm_minva &&
	    va < pm->pm_maxva, "pmap_enter: va %#lx outside pmap %p",
	    (unsigned long)va, (void *)pm);
	KASSERTMSG(pg != NULL && (pa & PAGE_MASK) == 0,
	    "pmap_enter: bad pa %#llx", (unsigned long long)pa);
	KASSERTMSG((access & ~prot) == 0, "pmap_enter: access %#x beyond "
	    "prot %#x", access, prot);

	pv = pool_get(&pv_pool, PR_NOWAIT);
	if (pv == NULL) {
		if (flags & PMAP_CANFAIL)
			return ENOMEM;
		panic("pmap_enter: out of pv entries");
	}
	pv->pv_pmap = pm;
	pv->pv_va = va;

	mutex_enter(&pm->pm_lock);
	if (access != 0)
		walk_note(pm, va);
	else if ((flags & PMAP_WIRED) == 0 && (prot & VM_PROT_READ) &&
	    walk_ahead(pm, va)) {
		ahead = true;
		access = VM_PROT_READ;
		atomic_fetch_add_explicit(&mmu_nwalk, 1, memory_order_relaxed);
	}
	idx = pte_index(pm, va);
	opte = pm->pm_ptes[idx];
	if ((opte & PTE_V) && (opte & PTE_FRAME) != pa) {
		/* A different page was here: the host mapping must go. */
		if (PTE_HSTATE(opte) != HS_UNMAPPED)
			host_close(pm, hostaddr(pm, va), PAGE_SIZE);
		opv = pte_clear(pm, idx, opte);
		opte = 0;
	}
	if (access != 0)
		bits |= PGA_REFERENCED;
	if (access & VM_PROT_WRITE)
		bits |= PGA_MODIFIED;
	if (flags & PMAP_WIRED) {
		/* A wired mapping never traps: count it used. */
		bits |= PGA_REFERENCED;
		if (prot & VM_PROT_WRITE)
			bits |= PGA_MODIFIED;
	}
	if (bits != 0)
		pg_setattrs(pg, bits);
	if ((opte & PTE_V) == 0) {
		mutex_enter(pv_lock(pg));
		pv->pv_next = pg->mdpage.pvh_list;
		pg->mdpage.pvh_list = pv;
		mutex_exit(pv_lock(pg));
		pv = NULL;
		pm->pm_stats.resident_count++;
		pm->pm_ptpcnt[idx / PTES_PER_PTP]++;
	} else if ((opte & PTE_WIRED) && !(flags & PMAP_WIRED)) {
		pm->pm_stats.wired_count--;
	}
	if ((flags & PMAP_WIRED) && !(opte & PTE_WIRED))
		pm->pm_stats.wired_count++;
	npte = pa | PTE_V | PTE_MANAGED | (opte & PTE_HMASK);
	if (prot & VM_PROT_READ)
		npte |= PTE_R;
	if (prot & VM_PROT_WRITE)
		npte |= PTE_W;
	if (prot & VM_PROT_EXECUTE)
		npte |= PTE_X;
	if (flags & PMAP_WIRED)
		npte |= PTE_WIRED;
	pm->pm_ptes[idx] = npte;
	pte_baseline(pm, va, npte, access);
	{
		enum hstate want = pte_want(npte), cur = PTE_HSTATE(npte);

		/* An unreferenced page is left unmapped rather than mapped NONE. */
		if (want == HS_NONE && cur == HS_UNMAPPED)
			want = HS_UNMAPPED;
		if (ahead && cur == HS_UNMAPPED && want >= HS_R) {
			/* opened with its neighbours, at pmap_update */
			pm->pm_pend[pm->pm_npend] = (uint32_t)idx;
			__atomic_store_n(&pm->pm_npend, pm->pm_npend + 1,
			    __ATOMIC_RELAXED);
			if (pm->pm_npend == PEND_MAX)
				pend_flush(pm);
		} else if (want != cur) {
			pte_sethost(pm, idx, npte, want);
		}
		if (!ahead && pm->pm_npend > 0)
			pend_flush(pm);
	}
	mutex_exit(&pm->pm_lock);
	if (pv != NULL)
		pool_put(&pv_pool, pv);
	if (opv != NULL)
		pool_put(&pv_pool, opv);
	return 0;
}

/* Host mappings of a run of PTEs [*runstart, idx) go back in one call. */
static void
remove_flush(struct pmap *pm, size_t *runstart, size_t idx)
{
	if (*runstart == SIZE_MAX)
		return;
	host_close(pm, hostaddr(pm, pte_va(pm, *runstart)),
	    (idx - *runstart) << PAGE_SHIFT);
	*runstart = SIZE_MAX;
}

void
pmap_remove(pmap_t pm, vaddr_t sva, vaddr_t eva)
{
	struct pv_entry *freelist = NULL, *pv;
	size_t idx, end, runstart = SIZE_MAX;
	uint64_t pte;

	KASSERT(sva <= eva && sva >= pm->pm_minva && eva <= pm->pm_maxva);
	if (sva == eva)
		return;
	mutex_enter(&pm->pm_lock);
	end = pte_index(pm, eva - 1) + 1;
	for (idx = pte_index(pm, sva); idx < end;) {
		if (idx % PTES_PER_PTP == 0 &&
		    pm->pm_ptpcnt[idx / PTES_PER_PTP] == 0) {
			remove_flush(pm, &runstart, idx);
			idx += PTES_PER_PTP;	/* an empty page of PTEs */
			continue;
		}
		pte = pm->pm_ptes[idx];
		if ((pte & PTE_V) == 0 || PTE_HSTATE(pte) == HS_UNMAPPED)
			remove_flush(pm, &runstart, idx);
		else if (runstart == SIZE_MAX)
			runstart = idx;
		if (pte & PTE_V) {
			pv = pte_clear(pm, idx, pte);
			if (pv != NULL) {
				pv->pv_next = freelist;
				freelist = pv;
			}
		}
		idx++;
	}
	remove_flush(pm, &runstart, end);
	mutex_exit(&pm->pm_lock);
	pv_free_list(freelist);
}

void
pmap_protect(pmap_t pm, vaddr_t sva, vaddr_t eva, vm_prot_t prot)
{
	size_t idx, end;
	uint64_t pte, npte;
	enum hstate want;

	if ((prot & VM_PROT_READ) == 0 && (prot & VM_PROT_EXECUTE) == 0) {
		pmap_remove(pm, sva, eva);
		return;
	}
	KASSERT(sva <= eva && sva >= pm->pm_minva && eva <= pm->pm_maxva);
	if (sva == eva)
		return;
	mutex_enter(&pm->pm_lock);
	end = pte_index(pm, eva - 1) + 1;
	for (idx = pte_index(pm, sva); idx < end; idx++) {
		if (idx % PTES_PER_PTP == 0 &&
		    pm->pm_ptpcnt[idx / PTES_PER_PTP] == 0) {
			idx += PTES_PER_PTP - 1;
			continue;
		}
		pte = pm->pm_ptes[idx];
		if ((pte & PTE_V) == 0)
			continue;
		npte = pte;
		if ((prot & VM_PROT_WRITE) == 0)
			npte &= ~PTE_W;
		if ((prot & VM_PROT_EXECUTE) == 0)
			npte &= ~PTE_X;
		if (npte == pte)
			continue;
		pm->pm_ptes[idx] = npte;
		want = pte_want(npte);
		if (PTE_HSTATE(npte) > want)
			pte_sethost(pm, idx, npte, want == HS_UNMAPPED ? HS_NONE : want);
	}
	mutex_exit(&pm->pm_lock);
}

void
pmap_unwire(pmap_t pm, vaddr_t va)
{
	size_t idx;
	uint64_t pte;

	mutex_enter(&pm->pm_lock);
	idx = pte_index(pm, va);
	pte = pm->pm_ptes[idx];
	KASSERTMSG((pte & PTE_V) && (pte & PTE_WIRED),
	    "pmap_unwire: va %#lx not wired", (unsigned long)va);
	pm->pm_ptes[idx] = pte & ~PTE_WIRED;
	pm->pm_stats.wired_count--;
	/* Now it may be evicted: remember it for the FIFO. */
	if (PTE_HSTATE(pte) != HS_UNMAPPED && (pte & PTE_MANAGED)) {
		if (pm->pm_ringhead - pm->pm_ringtail == pm->pm_ringcap)
			pm->pm_ringtail++;
		pm->pm_ring[pm->pm_ringhead++ & (pm->pm_ringcap - 1)] =
		    (uint32_t)idx;
	}
	mutex_exit(&pm->pm_lock);
}

/* The PTE of va (0 outside the pmap).  => pm_lock not held */
static uint64_t
pte_read(pmap_t pm, vaddr_t va)
{
	uint64_t pte;

	if (va < pm->pm_minva || va >= pm->pm_maxva)
		return 0;
	mutex_enter(&pm->pm_lock);
	pte = pm->pm_ptes[pte_index(pm, va)];
	mutex_exit(&pm->pm_lock);
	return pte;
}

bool
pmap_extract(pmap_t pm, vaddr_t va, paddr_t *pap)
{
	uint64_t pte = pte_read(pm, va);

	if ((pte & PTE_V) == 0)
		return false;
	if (pap != NULL)
		*pap = (pte & PTE_FRAME) | (va & PAGE_MASK);
	return true;
}

bool
pmap_is_wired(pmap_t pm, vaddr_t va, paddr_t pa)
{
	uint64_t pte = pte_read(pm, va);

	return (pte & (PTE_V | PTE_WIRED)) == (PTE_V | PTE_WIRED) &&
	    (pte & PTE_FRAME) == trunc_page(pa);
}

/*
 * pv_foreach: call fn on every mapping of pg with both the pv lock and
 * that pmap's lock held.  We hold the pv lock and may only *try* pm_lock
 * (wrong order); on failure let go of everything, wait a moment, and
 * start over.  fn returns true if it unlinked the pv entry (returned via
 * *freed).
 */
typedef bool (*pv_fn)(struct vm_page *, struct pv_entry *, void *);

static void
pv_foreach(struct vm_page *pg, pv_fn fn, void *arg)
{
	struct pv_entry **pvp, *pv, *freelist = NULL;
	kmutex_t *pvl = pv_lock(pg);
	int i;

again:
	mutex_enter(pvl);
	for (pvp = &pg->mdpage.pvh_list; (pv = *pvp) != NULL;) {
		pmap_t pm = pv->pv_pmap;

		if (!mutex_tryenter(&pm->pm_lock)) {
			mutex_exit(pvl);
			for (i = 0; i < 32; i++)
				SPINLOCK_SPIN_HOOK;
			goto again;
		}
		if (fn(pg, pv, arg)) {
			*pvp = pv->pv_next;
			pv->pv_next = freelist;
			freelist = pv;
		} else {
			pvp = &pv->pv_next;
		}
		mutex_exit(&pm->pm_lock);
	}
	mutex_exit(pvl);
	pv_free_list(freelist);
}

/*
 * A neighbour whose host mapping may close with a removal's: valid,
 * managed, unwired, open on the host, its page marked going.
 */
static inline bool
pte_going(uint64_t pte)
{
	return pte_evictable(pte) &&
	    (pg_attrs(PHYS_TO_VM_PAGE(pte & PTE_FRAME)) & PGA_GOING) != 0;
}

/*
 * going_run: the host mapping at idx is about to close: widen the close
 * to the neighbours whose pages are going too, across neighbours with no
 * host mapping (closing nothing again costs nothing), and take theirs
 * back in the same call (their logical mappings stay).  Returns the run's
 * first index; *endp its end.  => pm_lock held
 */
static size_t
going_run(struct pmap *pm, size_t idx, size_t *endp)
{
	size_t lo = idx, hi = idx + 1, i;
	long n = 0;
	uint64_t pte;

	for (i = idx; i > 0 && idx - (i - 1) <= EVICT_RUN; i--) {
		pte = pm->pm_ptes[i - 1];
		if (pte_going(pte))
			lo = i - 1;
		else if (PTE_HSTATE(pte) != HS_UNMAPPED)
			break;
	}
	for (i = idx + 1; i < pm->pm_npte && i - lo < 2 * EVICT_RUN; i++) {
		pte = pm->pm_ptes[i];
		if (pte_going(pte))
			hi = i + 1;
		else if (PTE_HSTATE(pte) != HS_UNMAPPED)
			break;
	}
	/*
	 * Every open PTE in [lo, hi) was going when we looked; it may have
	 * been unmarked since (the flag is the page queues', not ours), but
	 * it is in the range and closes all the same: its host state, which
	 * only we change under pm_lock, must say so.
	 */
	for (i = lo; i < hi; i++)
		if (i != idx && PTE_HSTATE(pm->pm_ptes[i]) != HS_UNMAPPED) {
			pm->pm_ptes[i] = PTE_SETH(pm->pm_ptes[i], HS_UNMAPPED);
			n++;
		}
	if (n > 0) {
		live_add(pm, -n);
		atomic_fetch_add_explicit(&mmu_ngoing, (uint64_t)n,
		    memory_order_relaxed);
	}
	*endp = hi;
	return lo;
}

static bool
pv_remove_one(struct vm_page *pg, struct pv_entry *pv, void *arg __unused)
{
	pmap_t pm = pv->pv_pmap;
	size_t idx = pte_index(pm, pv->pv_va);
	uint64_t pte = pm->pm_ptes[idx];

	KASSERT((pte & PTE_V) && (pte & PTE_FRAME) == pg->phys_addr);
	if (PTE_HSTATE(pte) != HS_UNMAPPED) {
		size_t lo = idx, hi = idx + 1;

		if ((pte & PTE_WIRED) == 0)
			lo = going_run(pm, idx, &hi);
		host_close(pm, hostaddr(pm, pte_va(pm, lo)),
		    (hi - lo) << PAGE_SHIFT);
		live_add(pm, -1);
	}
	if (pte & PTE_WIRED)
		pm->pm_stats.wired_count--;
	pm->pm_stats.resident_count--;
	pm->pm_ptpcnt[idx / PTES_PER_PTP]--;
	pm->pm_ptes[idx] = 0;
	return true;
}

/* Lower the host mapping of pv's PTE to at most `max` (after PTE edits). */
static bool
pv_lower(struct vm_page *pg, struct pv_entry *pv, void *arg)
{
	pmap_t pm = pv->pv_pmap;
	size_t idx = pte_index(pm, pv->pv_va);
	uint64_t pte = pm->pm_ptes[idx];
	uint64_t clear = *(uint64_t *)arg;
	enum hstate want;

	KASSERT((pte & PTE_V) && (pte & PTE_FRAME) == pg->phys_addr);
	pte &= ~clear;
	pm->pm_ptes[idx] = pte;
	want = pte_want(pte);
	if (PTE_HSTATE(pte) > want && PTE_HSTATE(pte) != HS_UNMAPPED)
		pte_sethost(pm, idx, pte, want == HS_UNMAPPED ? HS_NONE : want);
	return false;
}

void
pmap_page_going(struct vm_page *pg, bool going)
{
	if (going)
		__atomic_fetch_or(&pg->mdpage.pvh_attrs, PGA_GOING,
		    __ATOMIC_ACQ_REL);
	else
		__atomic_fetch_and(&pg->mdpage.pvh_attrs, ~(uint32_t)PGA_GOING,
		    __ATOMIC_ACQ_REL);
}

void
pmap_page_protect(struct vm_page *pg, vm_prot_t prot)
{
	uint64_t clear;

	if (prot & VM_PROT_WRITE)
		return;
	if ((prot & (VM_PROT_READ | VM_PROT_EXECUTE)) == 0) {
		pv_foreach(pg, pv_remove_one, NULL);
		return;
	}
	clear = PTE_W;
	pv_foreach(pg, pv_lower, &clear);
}

bool
pmap_is_referenced(struct vm_page *pg)
{
	return (pg_attrs(pg) & PGA_REFERENCED) != 0;
}

/*
 * Modified, or (HOST_MOD_CONTENT) no longer what it was when a load
 * opened it writable: a store through that mapping never trapped.
 */
bool
pmap_is_modified(struct vm_page *pg)
{
	kmutex_t *pvl = pv_lock(pg);
	uint32_t attrs = pg_attrs(pg);
	bool mod;

	if (attrs & PGA_MODIFIED)
		return true;
	if ((attrs & PGA_BASELINE) == 0)
		return false;
	mutex_enter(pvl);
	attrs = pg_attrs(pg);
	mod = (attrs & PGA_MODIFIED) != 0;
	if (!mod && (attrs & PGA_BASELINE) &&
	    page_changed(pg, pg->mdpage.pvh_sum)) {
		pg_setattrs(pg, PGA_MODIFIED);
		mod = true;
	}
	mutex_exit(pvl);
	return mod;
}

/*
 * Clear the bit first, then close the host mappings: an access in
 * between is one that happened before the clear.
 */
static bool
pmap_clear_attr(struct vm_page *pg, uint32_t bit)
{
	uint32_t old;
	uint64_t clear = 0;

	old = __atomic_fetch_and(&pg->mdpage.pvh_attrs, ~bit, __ATOMIC_ACQ_REL);
	pv_foreach(pg, pv_lower, &clear);
	return (old & bit) != 0;
}

bool
pmap_clear_reference(struct vm_page *pg)
{
	return pmap_clear_attr(pg, PGA_REFERENCED);
}

/*
 * The baseline goes with the bit: the host mappings close to read-only,
 * and only then does the content say whether the page was modified (a
 * store through a mapping still open read-write counts, as one before
 * the clear).
 */
bool
pmap_clear_modify(struct vm_page *pg)
{
	kmutex_t *pvl = pv_lock(pg);
	uint64_t clear = 0, sum;
	uint32_t old;

	mutex_enter(pvl);
	old = __atomic_fetch_and(&pg->mdpage.pvh_attrs,
	    ~(uint32_t)(PGA_MODIFIED | PGA_BASELINE), __ATOMIC_ACQ_REL);
	sum = pg->mdpage.pvh_sum;
	mutex_exit(pvl);
	pv_foreach(pg, pv_lower, &clear);
	if (old & PGA_MODIFIED)
		return true;
	return (old & PGA_BASELINE) != 0 && page_changed(pg, sum);
}

bool
pmap_fault_fixup(pmap_t pm, vaddr_t va, vm_prot_t access, bool *validp)
{
	struct vm_page *pg;
	uint64_t pte;
	size_t idx;
	enum hstate want;
	bool ok = false;

	*validp = false;
	if (va < pm->pm_minva || va >= pm->pm_maxva)
		return false;
	mutex_enter(&pm->pm_lock);
	idx = pte_index(pm, va);
	pte = pm->pm_ptes[idx];
	if ((pte & PTE_V) == 0)
		goto out;
	*validp = true;
	if ((access & VM_PROT_WRITE) && (pte & PTE_W) == 0)
		goto out;
	if ((access & (VM_PROT_READ | VM_PROT_EXECUTE)) &&
	    (pte & (PTE_R | PTE_W | PTE_X)) == 0)
		goto out;
	walk_note(pm, va);
	if (pte & PTE_MANAGED) {
		pg = PHYS_TO_VM_PAGE(pte & PTE_FRAME);
		pg_setattrs(pg, PGA_REFERENCED |
		    ((access & VM_PROT_WRITE) ? PGA_MODIFIED : 0));
		pte_baseline(pm, va, pte, access);
	}
	/*
	 * A clear of the bits racing us (it waits for pm_lock to close the
	 * host mappings) may have taken them back already: then the access
	 * is one after the clear, and traps again.
	 */
	want = pte_want(pte);
	if (want >= HS_R)
		pte_sethost(pm, idx, pte, want);
	atomic_fetch_add_explicit(&mmu_nfixup, 1, memory_order_relaxed);
	ok = true;
out:
	mutex_exit(&pm->pm_lock);
	return ok;
}

void
pmap_kenter_pa(vaddr_t va, paddr_t pa, vm_prot_t prot, unsigned flags __unused)
{
	struct pmap *pm = kernel_pmap_ptr;
	size_t idx;
	uint64_t pte;

	KASSERT((va & PAGE_MASK) == 0 && (pa & PAGE_MASK) == 0);
	KASSERT(pa < host_arena_size());
	mutex_enter(&pm->pm_lock);
	idx = pte_index(pm, va);
	KASSERTMSG((pm->pm_ptes[idx] & PTE_V) == 0,
	    "pmap_kenter_pa: va %#lx already mapped", (unsigned long)va);
	pte = pa | PTE_V;
	if (prot & VM_PROT_READ)
		pte |= PTE_R;
	if (prot & VM_PROT_WRITE)
		pte |= PTE_W;
	if (prot & VM_PROT_EXECUTE)
		pte |= PTE_X;
	pm->pm_ptes[idx] = pte;
	pm->pm_stats.resident_count++;
	pm->pm_ptpcnt[idx / PTES_PER_PTP]++;
	pte_sethost(pm, idx, pte, pte_want(pte));
	mutex_exit(&pm->pm_lock);
}

void
pmap_kremove(vaddr_t va, vsize_t len)
{
	struct pmap *pm = kernel_pmap_ptr;
	vaddr_t eva = va + len;
	size_t idx;
	uint64_t pte;

	KASSERT((va & PAGE_MASK) == 0 && (len & PAGE_MASK) == 0);
	mutex_enter(&pm->pm_lock);
	for (; va < eva; va += PAGE_SIZE) {
		idx = pte_index(pm, va);
		pte = pm->pm_ptes[idx];
		if ((pte & PTE_V) == 0)
			continue;
		KASSERTMSG((pte & PTE_MANAGED) == 0,
		    "pmap_kremove: va %#lx is a managed mapping",
		    (unsigned long)va);
		(void)pte_clear(pm, idx, pte);
		host_close(pm, hostaddr(pm, va), PAGE_SIZE);
	}
	mutex_exit(&pm->pm_lock);
}

void
pmap_collect(pmap_t pm)
{
	size_t idx, ptp, nptp = howmany(pm->pm_npte, PTES_PER_PTP);
	uint64_t pte;

	mutex_enter(&pm->pm_lock);
	for (ptp = 0; ptp < nptp; ptp++) {
		if (pm->pm_ptpcnt[ptp] == 0) {
			/* Give the host back an all-empty page of PTEs. */
			madvise((char *)pm->pm_ptes + ptp * PAGE_SIZE, PAGE_SIZE,
			    MADV_DONTNEED);
			continue;
		}
		for (idx = ptp * PTES_PER_PTP;
		    idx < MIN((ptp + 1) * PTES_PER_PTP, pm->pm_npte); idx++) {
			pte = pm->pm_ptes[idx];
			if ((pte & (PTE_V | PTE_WIRED | PTE_MANAGED)) ==
			    (PTE_V | PTE_MANAGED) && PTE_HSTATE(pte) != HS_UNMAPPED)
				pte_sethost(pm, idx, pte, HS_UNMAPPED);
		}
	}
	mutex_exit(&pm->pm_lock);
}

void
pmap_update(pmap_t pm)
{
	/*
	 * Host mappings close synchronously; only the openings ahead of a
	 * walk wait, to be done in runs.
	 */
	if (__atomic_load_n(&pm->pm_npend, __ATOMIC_RELAXED) == 0)
		return;		/* the common case: no lock taken */
	mutex_enter(&pm->pm_lock);
	if (pm->pm_npend > 0)
		pend_flush(pm);
	mutex_exit(&pm->pm_lock);
}

void
pmap_copy(pmap_t dst __unused, pmap_t src __unused, vaddr_t dst_addr __unused,
    vsize_t len __unused, vaddr_t src_addr __unused)
{
	/* Optional in pmap(9): the child faults its mappings in. */
}

const struct pmap_statistics *
pmap_stats(pmap_t pm)
{
	return &pm->pm_stats;
}

void
pmap_set_owner(pmap_t pm, void *owner)
{
	__atomic_store_n(&pm->pm_owner, owner, __ATOMIC_RELEASE);
}

void *
pmap_owner(pmap_t pm)
{
	return __atomic_load_n(&pm->pm_owner, __ATOMIC_ACQUIRE);
}

void *
pmap_hostaddr(pmap_t pm, vaddr_t va)
{
	KASSERT(va >= pm->pm_minva && va < pm->pm_maxva);
	return hostaddr(pm, va);
}

void
host_mmu_get_stats(struct host_mmu_stats *st)
{
	st->live = atomic_load(&mmu_live);
	st->peak = atomic_load(&mmu_peak);
	st->budget = mmu_budget;
	st->max_map_count = mmu_max_map_count;
	st->nmap = atomic_load(&mmu_nmap);
	st->nprotect = atomic_load(&mmu_nprotect);
	st->nunmap = atomic_load(&mmu_nunmap);
	st->nevict = atomic_load(&mmu_nevict);
	st->nfixup = atomic_load(&mmu_nfixup);
	st->mmap_ns = atomic_load(&mmu_ns);
	st->nbaseline = atomic_load(&mmu_nbaseline);
	st->nsumcheck = atomic_load(&mmu_nsumcheck);
	st->nsumdirty = atomic_load(&mmu_nsumdirty);
	st->nwalk = atomic_load(&mmu_nwalk);
	st->nmaprun = atomic_load(&mmu_nmaprun);
	st->ngoing = atomic_load(&mmu_ngoing);
	st->nwinholes = atomic_load(&mmu_nwinholes);
	st->nwinreserved = atomic_load(&mmu_nwinreserved);
	st->mod_emulation = mmu_modemul;
}

long
host_mmu_count_vmas(void)
{
	FILE *f = fopen("/proc/self/maps", "r");
	long n = 0;
	int c;

	if (f == NULL)
		return -1;
	while ((c = getc(f)) != EOF)
		if (c == '\n')
			n++;
	fclose(f);
	return n;
}
