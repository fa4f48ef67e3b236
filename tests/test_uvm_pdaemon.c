/*
 * tests/test_uvm_pdaemon.c: vm/uvm_pdaemon.c, the pagedaemon (seed 003):
 * each branch of uvmpd_scan_inactive and uvmpd_scan built on purpose,
 * the daemons' loops (pma requests, uvm_nowait_failed, uvm_wait from the
 * pagedaemon itself), hibernate, aobj swap-in, and an end-to-end run
 * with a working set three times the RAM.
 *
 * Each test boots its own machine, attaches swap, starts the daemons
 * and (for the branch tests) quiesces the pagedaemon, so that only the
 * test scans: it runs uvmpd_scan_inactive/uvmpd_scan on an LWP of the
 * pagedaemon's process (its pageouts must be B_PDAEMON bufs, counted in
 * uvmexp.paging), while the aiodone daemon finishes the I/O.  Targets
 * are set by hand (a free target of all of RAM: never met) so that the
 * scan visits every page.  Waits are bounded polls.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <pthread.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "host/clock.h"
#include "host/disk.h"
#include "host/hook.h"
#include "host/lwp.h"
#include "host/pmap.h"
#include "host/pool.h"
#include "host/sleepq.h"
#include "host/trap.h"
#include "stress/audit.h"
#include "tests/vmtest.h"
#include "vm/uvm_amap.h"
#include "vm/uvm_anon.h"
#include "vm/uvm_aobj.h"
#include "vm/uvm_bufcache.h"
#include "vm/uvm_km.h"
#include "vm/uvm_map.h"
#include "vm/uvm_mmap.h"
#include "vm/uvm_object.h"
#include "vm/uvm_pager.h"
#include "vm/uvm_pdaemon.h"

/* local prototypes */
static void pd_init(void);
static void pd_fini(void);
static void up(uint64_t ram, int swap_pages, bool quiesced);
static void scan_fn(void *arg);
static void set_targets(int freetarg, int inactarg);
static void wait_paging_done(void);
static struct vmspace *newvm(vaddr_t va, int npages);
static void do_fill(void *arg);
static int user_fill(struct vmspace *vm, vaddr_t va, int npages,
    uint64_t gen, bool check, int *bad);
static struct vm_page *page_at(struct vmspace *vm, vaddr_t va);
static krwlock_t *owner_lock(struct vm_page *pg);
static void requeue(struct vmspace *vm, vaddr_t va, int npages, bool active);
static void deactivate(struct vmspace *vm, vaddr_t va, int npages);
static void activate(struct vmspace *vm, vaddr_t va, int npages);
static uint32_t flags_at(struct vmspace *vm, vaddr_t va);
static int count_flag(struct vmspace *vm, vaddr_t va, int npages,
    uint32_t flag);
static struct vm_anon *anon_at(struct vmspace *vm, vaddr_t va);
static void scan_inactive_gated(void);

#define VA	((vaddr_t)0x10000000)
#define SIG(va, gen)	(((uint64_t)(va) * 0x9e3779b97f4a7c15ull) ^ (gen))

TestSuite(uvm_pdaemon, .init = pd_init, .fini = pd_fini, .timeout = 120);

static void
pd_init(void)
{
	alarm(120);
	(void)host_thread_self();
}

static void
pd_fini(void)
{
	host_set_sched_hook(NULL);
	uvm_pdaemon_stop();
	vmtest_shutdown();
}

/*
 * up: boot a machine of ram bytes with swap_pages of swap, start the
 * daemons, and quiesce the pagedaemon if asked.
 */
static void
up(uint64_t ram, int swap_pages, bool quiesced)
{
	vmtest_boot_ram(ram);
	if (swap_pages > 0)
		cr_assert_eq(uvm_swap_attach(NULL, (uint64_t)swap_pages,
		    HOST_DISK_BUFFERED), 0, "%s", uvm_swap_error());
	cr_assert_eq(uvm_pdaemon_start(), 0);
	cr_assert(uvm_pdaemon_running());
	cr_assert_not_null(__atomic_load_n(&uvm.pagedaemon_proc,
	    __ATOMIC_ACQUIRE));
	cr_assert_not_null(__atomic_load_n(&uvm.aiodoned_proc,
	    __ATOMIC_ACQUIRE));
	if (quiesced)
		uvm_pdaemon_quiesce();
}

static void
scan_fn(void *arg)
{
	uvm_lock_pageq();
	uvmpd_scan(arg);
	uvm_unlock_pageq();
}

/* Set the pagedaemon's targets as uvmpd_tune and its loop do. */
static void
set_targets(int freetarg, int inactarg)
{
	uvm_lock_pageq();
	__atomic_store_n(&uvmexp.freetarg, freetarg, __ATOMIC_RELAXED);
	__atomic_store_n(&uvmexp.inactarg, inactarg, __ATOMIC_RELAXED);
	uvm_unlock_pageq();
}

/* Wait (bounded) for every pageout in flight to be finished. */
static void
wait_paging_done(void)
{
	uvm_pageout_drain();
	cr_assert_eq(uvmexp_read(paging), 0, "pageouts still in flight");
}

static struct vmspace *
newvm(vaddr_t va, int npages)
{
	struct vmspace *vm = uvmspace_alloc(PAGE_SIZE, VM_MAXUSER_ADDRESS,
	    true);

	cr_assert_not_null(vm);
	cr_assert_eq(uvm_mmap_anon(&vm->vm_map, &va, ptoa(npages),
	    VM_PROT_READ | VM_PROT_WRITE, UVM_MMAP_FIXED), 0);
	return vm;
}

struct fill {
	struct vmspace	*vm;
	vaddr_t		va;
	const int	*idx;		/* page order (NULL: in order) */
	int		npages;
	uint64_t	gen;
	bool		check;
	int		bad;
};

/* In user mode: sign (or check) the first and last word of each page. */
static void
do_fill(void *arg)
{
	struct fill *f = arg;
	volatile uint64_t *w;
	vaddr_t va;
	int i;

	for (i = 0; i < f->npages; i++) {
		va = f->va + ptoa(f->idx != NULL ? f->idx[i] : i);
		w = pmap_hostaddr(f->vm->vm_map.pmap, va);
		if (f->check) {
			if (w[0] != SIG(va, f->gen) || w[511] != ~SIG(va, f->gen))
				f->bad++;
		} else {
			w[0] = SIG(va, f->gen);
			w[511] = ~SIG(va, f->gen);
		}
	}
}

/* 0, or the error of the refused fault. */
static int
user_fill(struct vmspace *vm, vaddr_t va, int npages, uint64_t gen,
    bool check, int *bad)
{
	struct fill f = { vm, va, NULL, npages, gen, check, 0 };
	struct host_user_fault uf;

	if (host_user_call(do_fill, &f, &uf) != 0)
		return uf.uf_error;
	if (bad != NULL)
		*bad = f.bad;
	return 0;
}

static struct vm_page *
page_at(struct vmspace *vm, vaddr_t va)
{
	paddr_t pa;

	if (!pmap_extract(vm->vm_map.pmap, va, &pa))
		return NULL;
	return PHYS_TO_VM_PAGE(pa);
}

static krwlock_t *
owner_lock(struct vm_page *pg)
{
	return pg->uobject != NULL ? pg->uobject->vmobjlock :
	    pg->uanon->an_lock;
}

/*
 * Move the resident pages of [va, va + npages) to the active queue or
 * (deactivate) to the inactive one.
 */
static void
requeue(struct vmspace *vm, vaddr_t va, int npages, bool active)
{
	struct vm_page *pg;
	krwlock_t *lock;
	int i;

	for (i = 0; i < npages; i++) {
		pg = page_at(vm, va + ptoa(i));
		cr_assert_not_null(pg, "page %d is not resident", i);
		lock = owner_lock(pg);
		rw_enter(lock, RW_WRITE);
		uvm_lock_pageq();
		if (active)
			uvm_pageactivate(pg);
		else
			uvm_pagedeactivate(pg);
		uvm_unlock_pageq();
		rw_exit(lock);
	}
}

static void
deactivate(struct vmspace *vm, vaddr_t va, int npages)
{
	requeue(vm, va, npages, false);
}

static void
activate(struct vmspace *vm, vaddr_t va, int npages)
{
	requeue(vm, va, npages, true);
}

static uint32_t
flags_at(struct vmspace *vm, vaddr_t va)
{
	struct vm_page *pg = page_at(vm, va);

	return pg != NULL ? pg_flags_load(pg) : 0;
}

static int
count_flag(struct vmspace *vm, vaddr_t va, int npages, uint32_t flag)
{
	int i, n = 0;

	for (i = 0; i < npages; i++)
		if (flags_at(vm, va + ptoa(i)) & flag)
			n++;
	return n;
}

/* The anon of the page mapped at va (resident or not). */
static struct vm_anon *
anon_at(struct vmspace *vm, vaddr_t va)
{
	struct vm_map_entry *entry;
	struct vm_anon *anon;

	vm_map_lock_read(&vm->vm_map);
	cr_assert(uvm_map_lookup_entry(&vm->vm_map, va, &entry));
	cr_assert_not_null(entry->aref.ar_amap);
	rw_enter(entry->aref.ar_amap->am_lock, RW_READ);
	anon = amap_lookup(&entry->aref, va - entry->start);
	rw_exit(entry->aref.ar_amap->am_lock);
	vm_map_unlock_read(&vm->vm_map);
	return anon;
}

/*
 * A pageout scan with the disk's completions held until it is over: the
 * aiodone daemon cannot take a page owner's lock under the scan (its
 * try-lock would fail and skip the page), so what the scan does depends
 * on the pages alone.
 */
static void
scan_inactive_gated(void)
{
	disk_gate_set(1);
	host_set_sched_hook(disk_gate_hook);
	as_pagedaemon(scan_inactive_fn, NULL);
	disk_gate_set(0);
	host_set_sched_hook(NULL);
}

/*
 * uvmpd_tune and the loop's inactive target, as the daemon sets them;
 * uvm_pageout and uvm_aiodone_daemon run as LWPs of their own processes,
 * and the pagedaemon wakes for uvm_wait.
 */
Test(uvm_pdaemon, start_tunes_and_stop_is_clean)
{
	int npages, i;

	up(16ull << 20, 256, false);
	npages = uvmexp.npages;
	cr_assert_eq(uvmexp_read(freemin), MAX(npages / 30, 4));
	cr_assert_eq(uvmexp_read(freetarg), uvmexp_read(freemin) * 4 / 3);
	cr_assert_eq(uvmexp_read(wiredmax), npages / 3);
	cr_assert_eq(__atomic_load_n(&uvm.pagedaemon_proc,
	    __ATOMIC_ACQUIRE)->p_flag & P_SYSTEM, P_SYSTEM);
	cr_assert_neq(__atomic_load_n(&uvm.pagedaemon_proc, __ATOMIC_ACQUIRE),
	    __atomic_load_n(&uvm.aiodoned_proc, __ATOMIC_ACQUIRE),
	    "each daemon has its own process");

	/* a wakeup with nothing to do: a pass, no scan */
	for (i = 0; i < 10000 && sleepq_nsleepers(&uvm.pagedaemon) == 0; i++)
		usleep(500);
	cr_assert_eq(sleepq_nsleepers(&uvm.pagedaemon), 1);
	uvm_wait("test");
	cr_assert_geq(uvmexp_read(pdwoke), 1);
	uvm_pdaemon_stop();
	cr_assert_not(uvm_pdaemon_running());
	cr_assert_null(__atomic_load_n(&uvm.pagedaemon_proc, __ATOMIC_ACQUIRE));
	cr_assert_null(__atomic_load_n(&uvm.aiodoned_proc, __ATOMIC_ACQUIRE));
	/* and again, as a harness that stops and restarts would */
	cr_assert_eq(uvm_pdaemon_start(), 0);
	uvm_pdaemon_stop();
}

/*
 * Dirty anon pages: clusters of SWCLUSTPAGES slots written
 * asynchronously (PEND), finished by the aiodone daemon (clean, still
 * inactive), freed by the next scan (they live only in swap), and read
 * back by faults.
 */
Test(uvm_pdaemon, scan_clusters_pageouts_then_frees_clean_pages)
{
	struct vmspace *vm;
	struct vm_anon *anon;
	int n = 40, bad = -1, i, pageouts, pending, swapout, anscan, freed;
	int swapin, slot0;

	up(16ull << 20, 1024, true);
	vm = newvm(VA, n);
	cr_assert_eq(user_fill(vm, VA, n, 1, false, NULL), 0);
	deactivate(vm, VA, n);
	cr_assert_eq(count_flag(vm, VA, n, PQ_INACTIVE), n);
	set_targets(uvmexp.npages, uvmexp.npages);

	pageouts = uvmexp_read(pdpageouts);
	pending = uvmexp_read(pdpending);
	swapout = uvmexp_read(pgswapout);
	anscan = uvmexp_read(pdanscan);
	scan_inactive_gated();
	/* 16 + 16 + the last 8 (the final cluster, p == NULL) */
	cr_assert_eq(uvmexp_read(pdpageouts) - pageouts, 3);
	cr_assert_eq(uvmexp_read(pdpending) - pending, 3);
	cr_assert_eq(uvmexp_read(pgswapout) - swapout, n);
	cr_assert_eq(uvmexp_read(pdanscan) - anscan, n);
	wait_paging_done();

	/* written: clean, unbusy, still inactive, slots in cluster order */
	slot0 = anon_at(vm, VA)->an_swslot;
	cr_assert_gt(slot0, 0);
	for (i = 0; i < n; i++) {
		uint32_t f = flags_at(vm, VA + ptoa(i));

		cr_assert(f & PG_CLEAN, "page %d not clean", i);
		cr_assert_not(f & PG_BUSY, "page %d still busy", i);
		cr_assert(f & PQ_INACTIVE, "page %d left the inactive queue", i);
		if (i % SWCLUSTPAGES != 0)
			cr_assert_eq(anon_at(vm, VA + ptoa(i))->an_swslot,
			    anon_at(vm, VA + ptoa(i - 1))->an_swslot + 1,
			    "page %d not next in its cluster", i);
	}
	cr_assert_eq(uvm_swap_inuse(), n, "the last cluster's tail was freed");

	/* the next scan frees them: they live only in swap now */
	freed = uvmexp_read(pdfreed);
	as_pagedaemon(scan_inactive_fn, NULL);
	cr_assert_eq(uvmexp_read(pdfreed) - freed, n);
	cr_assert_eq(uvmexp_read(swpgonly), n);
	for (i = 0; i < n; i++) {
		cr_assert_null(page_at(vm, VA + ptoa(i)));
		anon = anon_at(vm, VA + ptoa(i));
		cr_assert_null(anon->an_page);
		cr_assert_neq(anon->an_swslot, 0);
	}

	/* and every byte comes back */
	swapin = uvmexp_read(pgswapin);
	cr_assert_eq(user_fill(vm, VA, n, 1, true, &bad), 0);
	cr_assert_eq(bad, 0, "%d pages lost", bad);
	cr_assert_eq(uvmexp_read(pgswapin) - swapin, n);
	cr_assert_eq(uvmexp_read(swpgonly), 0);
	uvmspace_free(vm);
}

/* uvmpd_scan, and whether its LWP still held a plug after it. */
static bool scan_left_a_plug;

static void
scan_plug_fn(void *arg)
{
	uvm_lock_pageq();
	uvmpd_scan(arg);
	scan_left_a_plug = host_disk_plugged();
	uvm_unlock_pageq();
}

/*
 * A pass plugs the swap device: every pageout it starts waits on the plug
 * and goes to the disk when the pass ends (none while its deactivation
 * loop closes host mappings), and no plug outlives the pass.
 */
Test(uvm_pdaemon, a_pass_holds_its_pageouts_until_it_ends)
{
	struct vmspace *vm;
	struct host_disk_stats st0, st1;
	int n = 40, bad = -1, pageouts, i;

	up(16ull << 20, 1024, true);
	vm = newvm(VA, n);
	cr_assert_eq(user_fill(vm, VA, n, 1, false, NULL), 0);
	deactivate(vm, VA, n);
	set_targets(uvmexp.npages, uvmexp.npages);
	host_disk_get_stats(uvm_swap_disk(), &st0);
	pageouts = uvmexp_read(pdpageouts);
	as_pagedaemon(scan_plug_fn, NULL);
	host_disk_get_stats(uvm_swap_disk(), &st1);
	pageouts = uvmexp_read(pdpageouts) - pageouts;
	cr_assert_eq(pageouts, 3, "16 + 16 + 8 pages");
	cr_assert_eq(st1.plugged - st0.plugged, (uint64_t)pageouts,
	    "a pageout of the pass went to the disk before it ended");
	cr_assert_not(scan_left_a_plug, "uvmpd_scan left its plug behind");
	wait_paging_done();
	for (i = 0; i < n; i++)
		cr_assert(flags_at(vm, VA + ptoa(i)) & PG_CLEAN,
		    "page %d not written", i);
	cr_assert_eq(user_fill(vm, VA, n, 1, true, &bad), 0);
	cr_assert_eq(bad, 0, "%d pages lost", bad);
	uvmspace_free(vm);
}

/* Pages referenced since they were deactivated go back to the active queue. */
Test(uvm_pdaemon, referenced_pages_are_reactivated)
{
	struct vmspace *vm;
	int n = 8, react, bad = -1;

	up(16ull << 20, 256, true);
	vm = newvm(VA, n);
	cr_assert_eq(user_fill(vm, VA, n, 2, false, NULL), 0);
	deactivate(vm, VA, n);
	/* touch the first half: the trap sets their referenced bits */
	cr_assert_eq(user_fill(vm, VA, n / 2, 2, true, &bad), 0);
	cr_assert_eq(bad, 0);
	cr_assert(pmap_is_referenced(page_at(vm, VA)));
	cr_assert_not(pmap_is_referenced(page_at(vm, VA + ptoa(n - 1))));
	set_targets(uvmexp.npages, uvmexp.npages);

	react = uvmexp_read(pdreact);
	as_pagedaemon(scan_inactive_fn, NULL);
	cr_assert_eq(uvmexp_read(pdreact) - react, n / 2);
	cr_assert_eq(count_flag(vm, VA, n / 2, PQ_ACTIVE), n / 2);
	wait_paging_done();
	/* the others were paged out */
	cr_assert_eq(count_flag(vm, VA + ptoa(n / 2), n / 2, PG_CLEAN), n / 2);
	uvmspace_free(vm);
}

/* Busy pages are skipped (and counted); the rest are paged out. */
Test(uvm_pdaemon, busy_pages_are_skipped)
{
	struct vmspace *vm;
	struct vm_page *pg[2];
	krwlock_t *lock;
	int n = 4, busy, i;

	up(16ull << 20, 256, true);
	vm = newvm(VA, n);
	cr_assert_eq(user_fill(vm, VA, n, 3, false, NULL), 0);
	deactivate(vm, VA, n);
	for (i = 0; i < 2; i++) {
		pg[i] = page_at(vm, VA + ptoa(i));
		lock = owner_lock(pg[i]);
		rw_enter(lock, RW_WRITE);
		atomic_setbits_int(&pg[i]->pg_flags, PG_BUSY);
		UVM_PAGE_OWN(pg[i], "test");
		rw_exit(lock);
	}
	set_targets(uvmexp.npages, uvmexp.npages);

	busy = uvmexp_read(pdbusy);
	as_pagedaemon(scan_inactive_fn, NULL);
	cr_assert_eq(uvmexp_read(pdbusy) - busy, 2);
	wait_paging_done();
	for (i = 0; i < 2; i++) {
		uint32_t f = pg_flags_load(pg[i]);

		cr_assert(f & PQ_INACTIVE);
		cr_assert_not(f & PG_CLEAN, "a busy page was written");
		cr_assert_eq(pg[i]->uanon->an_swslot, 0);
		lock = owner_lock(pg[i]);
		rw_enter(lock, RW_WRITE);
		uvm_page_unbusy(&pg[i], 1);
		rw_exit(lock);
	}
	cr_assert_eq(count_flag(vm, VA + ptoa(2), 2, PG_CLEAN), 2);
	uvmspace_free(vm);
}

/*
 * With swap full of pages that live only there, dirty swap-backed pages
 * cannot be paged out: they are reactivated, UVMPD_NUMDIRTYREACTS of
 * them per pass, and the pass ends there.
 */
Test(uvm_pdaemon, swap_full_reactivates_dirty_pages_up_to_the_limit)
{
	struct vmspace *vm;
	int nswap = 32, n = 20, pageouts, swapout, i;
	vaddr_t va2 = VA + ptoa(nswap);

	up(16ull << 20, nswap, true);
	vm = newvm(VA, nswap + n);
	cr_assert_eq(user_fill(vm, VA, nswap, 4, false, NULL), 0);
	deactivate(vm, VA, nswap);
	set_targets(uvmexp.npages, uvmexp.npages);
	scan_inactive_gated();	/* page out */
	wait_paging_done();
	as_pagedaemon(scan_inactive_fn, NULL);	/* free */
	cr_assert_eq(uvmexp_read(swpgonly), nswap);
	cr_assert(uvm_swapisfull());

	cr_assert_eq(user_fill(vm, va2, n, 4, false, NULL), 0);
	deactivate(vm, va2, n);
	pageouts = uvmexp_read(pdpageouts);
	swapout = uvmexp_read(pgswapout);
	as_pagedaemon(scan_inactive_fn, NULL);
	cr_assert_eq(count_flag(vm, va2, n, PQ_ACTIVE), UVMPD_NUMDIRTYREACTS);
	for (i = 0; i < UVMPD_NUMDIRTYREACTS; i++)
		cr_assert(flags_at(vm, va2 + ptoa(i)) & PQ_ACTIVE,
		    "page %d: the first ones in the queue are reactivated", i);
	cr_assert_eq(count_flag(vm, va2, n, PQ_INACTIVE),
	    n - UVMPD_NUMDIRTYREACTS);
	cr_assert_eq(uvmexp_read(pdpageouts), pageouts);
	cr_assert_eq(uvmexp_read(pgswapout), swapout);
	uvmspace_free(vm);
}

/*
 * uvmpd_scan, swap shortage: every slot in use, but by resident pages
 * (not "swap full"), and nothing could be freed: the active pages' slots
 * are freed (and the pages are dirty again) so others can be paged out.
 */
Test(uvm_pdaemon, swap_shortage_frees_the_slots_of_active_pages)
{
	struct vmspace *vm;
	int nswap = 32, revs, swout, deact, i;

	up(16ull << 20, nswap, true);
	vm = newvm(VA, nswap);
	cr_assert_eq(user_fill(vm, VA, nswap, 5, false, NULL), 0);
	deactivate(vm, VA, nswap);
	set_targets(uvmexp.npages, uvmexp.npages);
	scan_inactive_gated();
	wait_paging_done();
	activate(vm, VA, nswap);		/* clean, resident, with slots */
	cr_assert_eq(uvmexp_read(swpginuse), nswap);
	cr_assert_not(uvm_swapisfull());

	set_targets(uvmexp.npages, 0);		/* no inactive shortage */
	revs = uvmexp_read(pdrevs);
	swout = uvmexp_read(pdswout);
	deact = uvmexp_read(pddeact);
	as_pagedaemon(scan_fn, NULL);
	cr_assert_eq(uvmexp_read(pdrevs) - revs, 1);
	cr_assert_eq(uvmexp_read(pdswout) - swout, 1, "below the free "
	    "target: the swapout hook is tried (and counted)");
	cr_assert_eq(uvmexp_read(pddeact), deact);
	cr_assert_eq(uvmexp_read(swpginuse), 0);
	for (i = 0; i < nswap; i++) {
		cr_assert_eq(anon_at(vm, VA + ptoa(i))->an_swslot, 0);
		cr_assert_not(flags_at(vm, VA + ptoa(i)) & PG_CLEAN);
		cr_assert(flags_at(vm, VA + ptoa(i)) & PQ_ACTIVE);
	}
	uvmspace_free(vm);
}

/* n pages written and active; the inactive target k above the queue. */
static struct vmspace *
active_with_shortage(int n, int k)
{
	struct vmspace *vm;

	up(16ull << 20, 256, true);
	vm = newvm(VA, n);
	cr_assert_eq(user_fill(vm, VA, n, 6, false, NULL), 0);
	cr_assert_eq(count_flag(vm, VA, n, PQ_ACTIVE), n);
	set_targets(uvmexp.freetarg, uvmexp_read(inactive) + k);
	return vm;
}

/* uvmpd_scan, inactive shortage: the oldest active pages are deactivated. */
Test(uvm_pdaemon, inactive_shortage_deactivates_active_pages)
{
	struct vmspace *vm;
	int n = 20, deact, bad = -1, i;

	vm = active_with_shortage(n, 10);

	deact = uvmexp_read(pddeact);
	as_pagedaemon(scan_fn, NULL);
	cr_assert_eq(uvmexp_read(pddeact) - deact, 10);
	/* the ten oldest: unmapped (pmap_page_protect NONE), inactive */
	for (i = 0; i < 10; i++)
		cr_assert_null(page_at(vm, VA + ptoa(i)), "page %d", i);
	cr_assert_eq(count_flag(vm, VA + ptoa(10), 10, PQ_ACTIVE), 10);
	cr_assert_eq(user_fill(vm, VA, n, 6, true, &bad), 0);
	cr_assert_eq(bad, 0);
	uvmspace_free(vm);
}

/*
 * Deactivating a walk's pages closes their host mappings in runs: the
 * loop marks the pages it is about to deactivate, and the first one's
 * pmap_page_protect takes its marked neighbours' host mappings with it.
 * The pages it leaves active keep theirs (no trap at the next touch).
 */
Test(uvm_pdaemon, deactivation_closes_host_mappings_in_runs)
{
	struct vmspace *vm;
	struct host_mmu_stats m0, m1;
	struct host_trap_stats t0, t1;
	int n = 40, deact, i;

	vm = active_with_shortage(n, 32);

	deact = uvmexp_read(pddeact);
	host_mmu_get_stats(&m0);
	as_pagedaemon(scan_fn, NULL);
	host_mmu_get_stats(&m1);
	cr_assert_eq(uvmexp_read(pddeact) - deact, 32);
	for (i = 0; i < 32; i++)
		cr_assert_null(page_at(vm, VA + ptoa(i)), "page %d", i);
	cr_assert_leq(m1.nunmap - m0.nunmap, 2, "%llu host closes for 32 "
	    "neighbours", (unsigned long long)(m1.nunmap - m0.nunmap));
	cr_assert_geq(m1.ngoing - m0.ngoing, 30);

	/* the eight left active were not marked: still open on the host */
	host_trap_get_stats(&t0);
	for (i = 32; i < n; i++)
		(void)*(volatile uint64_t *)pmap_hostaddr(vm_map_pmap(
		    &vm->vm_map), VA + ptoa(i));
	host_trap_get_stats(&t1);
	cr_assert_eq(t1.ntraps, t0.ntraps, "an active page lost its mapping");
	uvmspace_free(vm);
}

/*
 * A pass marks its whole shortage going at once, not a short window at a
 * time: 256 deactivations of neighbours close in two host calls (runs go
 * to 128 pages), where windows of 64 took four.
 */
Test(uvm_pdaemon, a_pass_marks_its_whole_shortage_going)
{
	struct vmspace *vm;
	struct host_mmu_stats m0, m1;
	int deact;

	vm = active_with_shortage(300, 256);
	deact = uvmexp_read(pddeact);
	host_mmu_get_stats(&m0);
	as_pagedaemon(scan_fn, NULL);
	host_mmu_get_stats(&m1);
	cr_assert_eq(uvmexp_read(pddeact) - deact, 256);
	cr_assert_eq(m1.nunmap - m0.nunmap, 2, "%llu host closes for 256 "
	    "neighbours", (unsigned long long)(m1.nunmap - m0.nunmap));
	cr_assert_eq(m1.ngoing - m0.ngoing, 254);
	uvmspace_free(vm);
}

/* A page whose owner is locked by someone else is passed over. */
Test(uvm_pdaemon, locked_owner_is_skipped)
{
	struct vmspace *vm;
	krwlock_t *lock;
	int scans;

	up(16ull << 20, 256, true);
	vm = newvm(VA, 1);
	cr_assert_eq(user_fill(vm, VA, 1, 7, false, NULL), 0);
	deactivate(vm, VA, 1);
	set_targets(uvmexp.npages, uvmexp.npages);
	lock = owner_lock(page_at(vm, VA));
	rw_enter(lock, RW_READ);
	scans = uvmexp_read(pdscans);
	as_pagedaemon(scan_inactive_fn, NULL);
	rw_exit(lock);
	cr_assert_eq(uvmexp_read(pdscans) - scans, 1);
	cr_assert(flags_at(vm, VA) & PQ_INACTIVE);
	cr_assert_not(flags_at(vm, VA) & (PG_BUSY | PG_CLEAN));
	cr_assert_eq(uvmexp_read(pgswapout), 0);
	uvmspace_free(vm);
}

/*
 * uvmpd_trylockowner: the owner's lock, write-held, when it is free;
 * NULL, without waiting, when someone holds it (here: we, for reading).
 */
Test(uvm_pdaemon, uvmpd_trylockowner_never_waits)
{
	struct vmspace *vm;
	struct vm_page *pg;
	krwlock_t *lock, *got;

	up(16ull << 20, 256, true);
	vm = newvm(VA, 1);
	cr_assert_eq(user_fill(vm, VA, 1, 7, false, NULL), 0);
	pg = page_at(vm, VA);
	lock = owner_lock(pg);
	uvm_lock_pageq();		/* its contract: page queues held */
	got = uvmpd_trylockowner(pg);
	uvm_unlock_pageq();
	cr_assert_eq(got, lock, "the anon's lock (the amap's)");
	cr_assert(rw_write_held(got));
	rw_exit(got);
	rw_enter(lock, RW_READ);
	uvm_lock_pageq();
	got = uvmpd_trylockowner(pg);
	uvm_unlock_pageq();
	cr_assert_null(got, "held: a try, not a wait");
	cr_assert(rw_read_held(lock) && !rw_write_held(lock));
	rw_exit(lock);
	uvmspace_free(vm);
}

/* uvmpd_dropswap frees an anon's and an aobj page's slot. */
Test(uvm_pdaemon, dropswap_frees_the_slot)
{
	struct uvm_object *uobj;
	struct vmspace *vm;
	struct vm_page *pg;
	int n = 1, slot;

	up(16ull << 20, 256, true);
	vm = newvm(VA, 1);
	cr_assert_eq(user_fill(vm, VA, 1, 8, false, NULL), 0);
	pg = page_at(vm, VA);
	rw_enter(pg->uanon->an_lock, RW_WRITE);
	pg->uanon->an_swslot = uvm_swap_alloc(&n, false);
	cr_assert_eq(uvm_swap_inuse(), 1);
	uvmpd_dropswap(pg);
	cr_assert_eq(pg->uanon->an_swslot, 0);
	rw_exit(pg->uanon->an_lock);
	cr_assert_eq(uvm_swap_inuse(), 0);

	uobj = uao_create(ptoa(4), 0);
	rw_enter(uobj->vmobjlock, RW_WRITE);
	pg = uvm_pagealloc(uobj, ptoa(2), NULL, UVM_PGA_ZERO);
	cr_assert_not_null(pg);
	slot = uvm_swap_alloc(&n, false);
	cr_assert_eq(uao_set_swslot(uobj, 2, slot), 0);
	uvmpd_dropswap(pg);
	cr_assert_eq(uao_find_swslot(uobj, 2), 0);
	cr_assert_eq(uvm_swap_inuse(), 0);
	atomic_clearbits_int(&pg->pg_flags, PG_BUSY | PG_FAKE);
	UVM_PAGE_OWN(pg, NULL);
	rw_exit(uobj->vmobjlock);
	uao_detach(uobj);
	uvmspace_free(vm);
}

/*
 * Released during (asynchronous) I/O: the pages' anons are freed while
 * their pageout is in flight; the aiodone daemon finishes the job.
 */
Test(uvm_pdaemon, released_during_async_pageout)
{
	struct vmspace *vm;
	int n = 4, anons, pending, i;
	struct vm_page *pg[4];

	up(16ull << 20, 256, true);
	vm = newvm(VA, n);
	cr_assert_eq(user_fill(vm, VA, n, 9, false, NULL), 0);
	deactivate(vm, VA, n);
	for (i = 0; i < n; i++)
		pg[i] = page_at(vm, VA + ptoa(i));
	anons = uvm_anon_count();
	set_targets(uvmexp.npages, uvmexp.npages);

	disk_gate_set(1);
	host_set_sched_hook(disk_gate_hook);
	pending = uvmexp_read(pdpending);
	as_pagedaemon(scan_inactive_fn, NULL);
	cr_assert_eq(uvmexp_read(pdpending) - pending, 1);
	cr_assert_eq(uvmexp_read(paging), n);
	for (i = 0; i < n; i++)
		cr_assert(pg_flags_load(pg[i]) & PG_BUSY, "in flight");

	/* unmap: the anons die with their pages busy: PG_RELEASED */
	uvm_unmap(&vm->vm_map, VA, VA + ptoa(n));
	for (i = 0; i < n; i++)
		cr_assert(pg_flags_load(pg[i]) & PG_RELEASED);
	cr_assert_eq(uvm_anon_count(), anons, "the anons wait for their pages");

	disk_gate_set(0);
	wait_paging_done();
	for (i = 0; i < n; i++)
		cr_assert(VM_PAGE_IS_FREE(pg[i]), "released page %d not freed", i);
	cr_assert_eq(uvm_anon_count(), anons - n);
	cr_assert_eq(uvm_swap_inuse(), 0, "their slots went too");
	host_set_sched_hook(NULL);
	uvmspace_free(vm);
}

/*
 * A pageout that fails (every write fails): the aiodone daemon
 * reactivates the pages, dirty, without slots (marked bad); nothing is
 * lost.
 */
Test(uvm_pdaemon, failed_pageout_reactivates_the_pages)
{
	struct vmspace *vm;
	int n = 16, bad = -1, i;

	up(16ull << 20, 256, true);
	vm = newvm(VA, n);
	cr_assert_eq(user_fill(vm, VA, n, 10, false, NULL), 0);
	deactivate(vm, VA, n);
	set_targets(uvmexp.npages, uvmexp.npages);
	host_disk_set_fail_rate(uvm_swap_disk(), 1000);
	scan_inactive_gated();
	wait_paging_done();
	host_disk_set_fail_rate(uvm_swap_disk(), 0);
	for (i = 0; i < n; i++) {
		uint32_t f = flags_at(vm, VA + ptoa(i));

		cr_assert(f & PQ_ACTIVE, "page %d not reactivated", i);
		cr_assert_not(f & (PG_CLEAN | PG_BUSY));
		cr_assert_eq(anon_at(vm, VA + ptoa(i))->an_swslot, 0);
	}
	cr_assert_eq(uvm_swap_nbad(), n);
	cr_assert_eq(user_fill(vm, VA, n, 10, true, &bad), 0);
	cr_assert_eq(bad, 0);
	uvmspace_free(vm);
}

/*
 * The synchronous branches of uvmpd_scan_inactive, through an object
 * with its own (test) pager: pgo_put answers what the test says.
 */
static int tp_result;		/* what tp_put answers */
static int tp_calls;
static bool tp_release;		/* mark the page released "during I/O" */

static int
tp_put(struct uvm_object *uobj, struct vm_page **pps, int npages, int flags)
{
	KASSERT(rw_write_held(uobj->vmobjlock));
	KASSERT(npages == 1 && (pg_flags_load(pps[0]) & PG_BUSY));
	tp_calls++;
	if (tp_release)
		atomic_setbits_int(&pps[0]->pg_flags, PG_RELEASED);
	return tp_result;
}

static const struct uvm_pagerops test_pager = {
	.pgo_put = tp_put,
};

/* A dirty, unbusy page of uobj at off on the inactive queue. */
static struct vm_page *
tp_page(struct uvm_object *uobj, voff_t off)
{
	struct vm_page *pg;

	rw_enter(uobj->vmobjlock, RW_WRITE);
	pg = uvm_pagealloc(uobj, off, NULL, UVM_PGA_ZERO);
	cr_assert_not_null(pg);
	atomic_clearbits_int(&pg->pg_flags, PG_BUSY | PG_FAKE);
	UVM_PAGE_OWN(pg, NULL);
	uvm_lock_pageq();
	uvm_pagedeactivate(pg);
	uvm_unlock_pageq();
	rw_exit(uobj->vmobjlock);
	return pg;
}

/* One scan in which the test pager answers result (once). */
static void
tp_scan(struct uvm_object *uobj, int result)
{
	tp_result = result;
	tp_calls = 0;
	set_targets(uvmexp.npages, uvmexp.npages);
	as_pagedaemon(scan_inactive_fn, NULL);
	cr_assert_eq(tp_calls, 1);
	cr_assert(rw_tryenter(uobj->vmobjlock, RW_WRITER),
	    "the object was left locked");
	rw_exit(uobj->vmobjlock);
}

Test(uvm_pdaemon, object_pageout_sync_results)
{
	struct uvm_object obj, *uobj = &obj;
	struct vm_page *pg;
	int obscan, pageouts, freed;

	up(16ull << 20, 256, true);
	uvm_obj_init(uobj, &test_pager, 1);

	/* OK: clean, unbusy, still inactive */
	pg = tp_page(uobj, 0);
	obscan = uvmexp_read(pdobscan);
	pageouts = uvmexp_read(pdpageouts);
	tp_scan(uobj, VM_PAGER_OK);
	cr_assert_eq(uvmexp_read(pdobscan) - obscan, 1);
	cr_assert_eq(uvmexp_read(pdpageouts) - pageouts, 1);
	cr_assert_eq(pg_flags_load(pg) & (PG_CLEAN | PG_BUSY | PQ_INACTIVE),
	    PG_CLEAN | PQ_INACTIVE);
	/* ... and the next scan frees it (not swap-backed: no swpgonly) */
	freed = uvmexp_read(pdfreed);
	as_pagedaemon(scan_inactive_fn, NULL);
	cr_assert_eq(uvmexp_read(pdfreed) - freed, 1);
	cr_assert(VM_PAGE_IS_FREE(pg));
	cr_assert_eq(uvmexp_read(swpgonly), 0);

	/* ERROR: reactivated, still dirty */
	pg = tp_page(uobj, ptoa(1));
	tp_scan(uobj, VM_PAGER_ERROR);
	cr_assert_eq(pg_flags_load(pg) & (PG_CLEAN | PG_BUSY | PQ_ACTIVE),
	    PQ_ACTIVE);

	/* AGAIN: left on the inactive queue for the next pass, dirty */
	rw_enter(uobj->vmobjlock, RW_WRITE);
	uvm_lock_pageq();
	uvm_pagedeactivate(pg);
	uvm_unlock_pageq();
	rw_exit(uobj->vmobjlock);
	tp_scan(uobj, VM_PAGER_AGAIN);
	cr_assert_eq(pg_flags_load(pg) & (PG_CLEAN | PG_BUSY | PQ_INACTIVE),
	    PQ_INACTIVE);

	/* released during the I/O: freed by the pagedaemon */
	tp_release = true;
	tp_scan(uobj, VM_PAGER_OK);
	tp_release = false;
	cr_assert(VM_PAGE_IS_FREE(pg));
	cr_assert_eq(uobj->uo_npages, 0);

	/* PEND: the pager finishes it; the object is not left locked */
	pg = tp_page(uobj, ptoa(2));
	tp_scan(uobj, VM_PAGER_PEND);
	cr_assert(pg_flags_load(pg) & PG_BUSY);
	cr_assert_eq(uvmexp_read(paging), 1);
	rw_enter(uobj->vmobjlock, RW_WRITE);
	uvm_page_unbusy(&pg, 1);		/* "the I/O is done" */
	pmap_page_protect(pg, VM_PROT_NONE);
	uvm_pagefree(pg);
	rw_exit(uobj->vmobjlock);
	uvmexp_add(paging, -1);			/* no B_PDAEMON buf did it */
	uvm_obj_destroy(uobj);
}

/*
 * The synchronous branches for anons: with memory and pageout bufs all
 * taken, the swap pageout answers VM_PAGER_AGAIN.  A cluster of one
 * (swap has one free slot) is the seed's "p" path: the page stays
 * inactive with its slot; released meanwhile (its anon freed while the
 * pagedaemon had unlocked it), the pagedaemon frees page and anon.
 */
struct starve {
	struct pglist		pages;
	struct uvm_aiobuf	*bufs[512];
	int			nbufs;
};

static void
starve(struct starve *s)
{
	struct vm_page *pg;

	TAILQ_INIT(&s->pages);
	while ((pg = uvm_pagealloc(NULL, 0, NULL, 0)) != NULL)
		TAILQ_INSERT_TAIL(&s->pages, pg, pageq);
	for (s->nbufs = 0; s->nbufs < 512; s->nbufs++)
		if ((s->bufs[s->nbufs] = uvm_aiobuf_get()) == NULL)
			break;
	KASSERT(s->nbufs < 512);
}

static void
unstarve(struct starve *s)
{
	struct vm_page *pg;

	while (s->nbufs > 0)
		uvm_aiobuf_put(s->bufs[--s->nbufs]);
	while ((pg = TAILQ_FIRST(&s->pages)) != NULL) {
		TAILQ_REMOVE(&s->pages, pg, pageq);
		uvm_pagefree(pg);
	}
}

struct sync_again {
	struct starve	s;
	krwlock_t	*lock;		/* the page's owner */
	int		phase;		/* [a] the hook's hand-shake */
	struct host_thread *scanner;	/* [a] */
	int		free0;
};
static struct sync_again *sa;

static void
sync_again_fn(void *arg)
{
	struct sync_again *a = arg;

	__atomic_store_n(&a->scanner, host_curthread, __ATOMIC_RELEASE);
	starve(&a->s);
	a->free0 = uvmexp_read(free);
	uvm_lock_pageq();
	uvmpd_scan_inactive(NULL, &uvm.page_inactive);
	uvm_unlock_pageq();
	unstarve(&a->s);
}

/* After the pagedaemon lets go of the page's owner before the pageout. */
static void
release_hook(enum hook_ev ev, const void *obj, uintptr_t arg)
{
	if (ev != HE_UNLOCK || sa == NULL || obj != sa->lock ||
	    host_curthread != __atomic_load_n(&sa->scanner, __ATOMIC_ACQUIRE) ||
	    __atomic_load_n(&sa->phase, __ATOMIC_ACQUIRE) != 0)
		return;
	__atomic_store_n(&sa->phase, 1, __ATOMIC_RELEASE);
	while (__atomic_load_n(&sa->phase, __ATOMIC_ACQUIRE) != 2)
		usleep(100);
}

/* A standalone anon with a dirty page on the inactive queue. */
static struct vm_anon *
lone_anon(krwlock_t *lock)
{
	struct vm_anon *anon = uvm_analloc();
	struct vm_page *pg;

	cr_assert_not_null(anon);
	rw_enter(lock, RW_WRITE);
	anon->an_lock = lock;
	pg = uvm_pagealloc(NULL, 0, anon, UVM_PGA_ZERO);
	cr_assert_not_null(pg);
	atomic_clearbits_int(&pg->pg_flags, PG_BUSY | PG_FAKE);
	UVM_PAGE_OWN(pg, NULL);
	uvm_lock_pageq();
	uvm_pagedeactivate(pg);
	uvm_unlock_pageq();
	rw_exit(lock);
	return anon;
}

/* Take all of swap but one slot: the next cluster is a cluster of one. */
static void
swap_all_but_one(int nswap)
{
	int i, n;

	for (i = 0; i < nswap - 1; i++) {
		n = 1;
		cr_assert_gt(uvm_swap_alloc(&n, false), 0);
	}
}

Test(uvm_pdaemon, sync_again_keeps_the_page_and_its_slot)
{
	static struct sync_again a;
	krwlock_t *lock;
	struct vm_anon *anon;
	struct vm_page *pg;
	struct lwp *l;
	int pageouts;

	up(16ull << 20, 32, true);
	lock = uvm_rwobj_alloc("amap", PR_WAITOK);
	swap_all_but_one(32);
	anon = lone_anon(lock);
	pg = anon->an_page;
	set_targets(uvmexp.npages, uvmexp.npages);
	pageouts = uvmexp_read(pdpageouts);
	a.lock = lock;
	cr_assert_eq(lwp_create(__atomic_load_n(&uvm.pagedaemon_proc,
	    __ATOMIC_ACQUIRE), "pdtest", LW_SYSTEM, sync_again_fn, &a, &l), 0);
	lwp_join(l);
	cr_assert_eq(a.free0, 0, "memory was not exhausted");
	cr_assert_eq(uvmexp_read(pdpageouts) - pageouts, 1);
	cr_assert_eq(uvmexp_read(pdpending), 0);
	cr_assert_eq(pg_flags_load(pg) & (PG_CLEAN | PG_BUSY | PQ_INACTIVE),
	    PQ_INACTIVE);
	cr_assert_gt(anon->an_swslot, 0, "AGAIN: the page keeps its slot");
	rw_enter(lock, RW_WRITE);
	anon->an_ref = 0;
	uvm_anfree(anon);
	rw_exit(lock);
	cr_assert(uvm_rwobj_free(lock));
}

Test(uvm_pdaemon, released_during_sync_pageout)
{
	static struct sync_again a;
	krwlock_t *lock;
	struct vm_anon *anon;
	struct vm_page *pg;
	struct lwp *l;
	int anons, locks, i;

	up(16ull << 20, 32, true);
	lock = uvm_rwobj_alloc("amap", PR_WAITOK);
	swap_all_but_one(32);
	anon = lone_anon(lock);
	pg = anon->an_page;
	anons = uvm_anon_count();
	locks = uvm_rwobj_count();
	set_targets(uvmexp.npages, uvmexp.npages);
	a.lock = lock;
	sa = &a;
	host_set_sched_hook(release_hook);
	cr_assert_eq(lwp_create(__atomic_load_n(&uvm.pagedaemon_proc,
	    __ATOMIC_ACQUIRE), "pdtest", LW_SYSTEM, sync_again_fn, &a, &l), 0);
	for (i = 0; i < 20000 && __atomic_load_n(&a.phase, __ATOMIC_ACQUIRE)
	    != 1; i++)
		usleep(500);
	cr_assert_eq(__atomic_load_n(&a.phase, __ATOMIC_ACQUIRE), 1);
	/* the page is busy (the pageout's), its owner unlocked: free it */
	rw_enter(lock, RW_WRITE);
	cr_assert(pg_flags_load(pg) & PG_BUSY);
	anon->an_ref = 0;
	uvm_anfree(anon);
	cr_assert(pg_flags_load(pg) & PG_RELEASED);
	rw_exit(lock);
	__atomic_store_n(&a.phase, 2, __ATOMIC_RELEASE);
	lwp_join(l);
	host_set_sched_hook(NULL);
	sa = NULL;
	cr_assert_eq(uvmexp_read(pdpending), 0, "the synchronous path");
	cr_assert_eq(uvmexp_read(pdpageouts), 1);
	cr_assert(VM_PAGE_IS_FREE(pg), "the pagedaemon freed the page");
	cr_assert_eq(uvm_anon_count(), anons - 1, "and the anon");
	cr_assert_eq(uvm_rwobj_count(), locks, "and let go of the lock");
	cr_assert(uvm_rwobj_free(lock));
}

/*
 * A final cluster (p == NULL) that cannot be written: uvm_pager_put drops
 * it, unbusying its pages without slots, dirty, where they were: on the
 * inactive queue, for the next pass (OpenBSD's uvm_pager_dropcluster
 * leaves them there; only the pagedaemon's own page p is reactivated
 * after an error, by uvmpd_scan_inactive).
 */
static void
starved_scan_fn(void *arg)
{
	struct starve *s = arg;

	starve(s);
	uvm_lock_pageq();
	uvmpd_scan_inactive(NULL, &uvm.page_inactive);
	uvm_unlock_pageq();
	unstarve(s);
}

Test(uvm_pdaemon, unwritable_final_cluster_stays_inactive)
{
	static struct starve s;
	struct vmspace *vm;
	int n = 3, i;

	up(16ull << 20, 256, true);
	vm = newvm(VA, n);
	cr_assert_eq(user_fill(vm, VA, n, 11, false, NULL), 0);
	deactivate(vm, VA, n);
	set_targets(uvmexp.npages, uvmexp.npages);
	as_pagedaemon(starved_scan_fn, &s);
	for (i = 0; i < n; i++) {
		cr_assert_eq(flags_at(vm, VA + ptoa(i)) &
		    (PG_BUSY | PG_CLEAN | PQ_ACTIVE | PQ_INACTIVE), PQ_INACTIVE,
		    "page %d: flags %#x", i, flags_at(vm, VA + ptoa(i)));
		cr_assert_eq(anon_at(vm, VA + ptoa(i))->an_swslot, 0);
	}
	cr_assert_eq(uvm_swap_inuse(), 0);
	uvmspace_free(vm);
}

/*
 * pma requests: an allocation in the DMA range that cannot be met waits
 * for the pagedaemon, which scans for pages in that range first.
 */
static int
fill_default_range(struct pglist *pl)
{
	paddr_t high = dma_constraint.ucr_high;
	int n = uvm_pmr_count_free(high, uvmexp.npages);

	cr_assert_eq(uvm_pglistalloc(ptoa(n), high, uvmexp.npages, 0, 0, pl,
	    n, UVM_PLA_NOWAIT), 0);
	return n;
}

Test(uvm_pdaemon, pma_request_in_the_dma_range_is_served_by_a_scan)
{
	struct pglist def, got;
	struct vmspace *vm;
	struct vm_page *pg;
	int n, want, bad = -1, pending;

	up(16ull << 20, 2048, true);
	vm = newvm(VA, 1024);
	(void)fill_default_range(&def);
	/* anon pages fill the DMA range, leaving a margin */
	n = uvmexp_read(free) - 64;
	cr_assert_gt(n, 200);
	cr_assert_eq(user_fill(vm, VA, n, 12, false, NULL), 0);
	want = uvm_pmr_count_free(0, dma_constraint.ucr_high) + 16;
	cr_assert_eq(uvm_pglistalloc(ptoa(want), 0, dma_constraint.ucr_high,
	    0, 0, &got, want, UVM_PLA_NOWAIT), ENOMEM);

	pending = uvmexp_read(pdpending);
	uvm_pdaemon_resume();
	cr_assert_eq(uvm_pglistalloc(ptoa(want), 0, dma_constraint.ucr_high,
	    0, 0, &got, want, UVM_PLA_WAITOK), 0);
	TAILQ_FOREACH(pg, &got, pageq)
		cr_assert_lt(atop(VM_PAGE_TO_PHYS(pg)), dma_constraint.ucr_high);
	cr_assert_gt(uvmexp_read(pdpending), pending, "DMA pages paged out");
	uvm_lock_fpageq();
	cr_assert(TAILQ_EMPTY(&uvm.pmr_control.allocs));
	uvm_unlock_fpageq();
	uvm_pglistfree(&got);
	uvm_pglistfree(&def);
	cr_assert_eq(user_fill(vm, VA, n, 12, true, &bad), 0);
	cr_assert_eq(bad, 0);
	uvmspace_free(vm);
}

Test(uvm_pdaemon, pma_request_served_by_bufbackoff)
{
	struct pglist def, got;
	struct vm_page *pg;
	int want, dma0;

	up(16ull << 20, 256, true);
	(void)fill_default_range(&def);
	/* the buffer cache takes most of the DMA range */
	cr_assert_eq(uvm_bufcache_setsize(400), 0);
	cr_assert_gt(uvm_bufcache_fill(400, 0), 200);
	dma0 = (int)bc_load(bcstats.dmapages);
	want = uvm_pmr_count_free(0, dma_constraint.ucr_high) + 8;
	uvm_pdaemon_resume();
	cr_assert_eq(uvm_pglistalloc(ptoa(want), 0, dma_constraint.ucr_high,
	    0, 0, &got, want, UVM_PLA_WAITOK), 0);
	TAILQ_FOREACH(pg, &got, pageq)
		cr_assert_lt(atop(VM_PAGE_TO_PHYS(pg)), dma_constraint.ucr_high);
	cr_assert_lt(bc_load(bcstats.dmapages), dma0, "the cache gave back "
	    "DMA pages");
	uvm_pglistfree(&got);
	uvm_pglistfree(&def);
}

/*
 * uvm_nowait_failed: a failed UVM_PLA_NOWAIT allocation makes the
 * pagedaemon back off in the DMA range (the buffer cache gives DMA pages
 * back, not high ones).
 */
Test(uvm_pdaemon, nowait_failure_backs_off_the_dma_range)
{
	struct pglist def, got;
	int64_t dma0, high0;
	int i, failed = 1;

	up(16ull << 20, 256, true);
	cr_assert_eq(uvm_bufcache_setsize(400), 0);
	cr_assert_eq(uvm_bufcache_fill(200, 0), 200);	/* high pages */
	(void)fill_default_range(&def);
	cr_assert_eq(uvm_bufcache_fill(200, 0), 200);	/* DMA pages */
	dma0 = bc_load(bcstats.dmapages);
	high0 = bc_load(bcstats.highpages);
	cr_assert_eq(dma0, 200);
	cr_assert_eq(high0, 200);

	cr_assert_eq(uvm_pglistalloc(ptoa(400), 0, dma_constraint.ucr_high,
	    0, 0, &got, 400, UVM_PLA_NOWAIT), ENOMEM);
	uvm_lock_fpageq();
	cr_assert_eq(uvm_nowait_failed, 1);
	uvm_unlock_fpageq();
	uvm_pdaemon_resume();
	for (i = 0; i < 10000 && failed; i++) {
		usleep(500);
		uvm_lock_fpageq();
		failed = uvm_nowait_failed;
		uvm_unlock_fpageq();
	}
	cr_assert_eq(failed, 0, "the pagedaemon took the signal");
	uvm_pdaemon_quiesce();			/* its pass is over */
	cr_assert_lt(bc_load(bcstats.dmapages), dma0);
	cr_assert_eq(bc_load(bcstats.highpages), high0);
	uvm_pglistfree(&def);
}

/* uvm_wait from the pagedaemon: the emergency bufbackoff spares it... */
static void
pd_wait_fn(void *arg)
{
	uint64_t *ns = arg;
	uint64_t t0 = host_real_ns();

	uvm_wait("pdtest");
	*ns = host_real_ns() - t0;
}

Test(uvm_pdaemon, uvm_wait_in_the_pagedaemon_backs_off_the_bufcache)
{
	uint64_t ns = 0;
	int64_t n0;

	up(16ull << 20, 0, true);
	cr_assert_eq(uvm_bufcache_setsize(400), 0);
	cr_assert_eq(uvm_bufcache_fill(400, 0), 400);
	n0 = bc_load(bcstats.numbufpages);
	as_pagedaemon(pd_wait_fn, &ns);
	cr_assert_lt(ns, 100000000ull, "no sleep: the cache gave memory back");
	cr_assert_lt(bc_load(bcstats.numbufpages), n0 - 3);
}

/* ...and without a buffer cache to give, it only pauses (125 ms). */
Test(uvm_pdaemon, uvm_wait_in_the_pagedaemon_pauses)
{
	uint64_t ns = 0;

	up(16ull << 20, 0, true);
	as_pagedaemon(pd_wait_fn, &ns);
	cr_assert_geq(ns, 100000000ull, "a timed sleep, %llu ns",
	    (unsigned long long)ns);
	cr_assert_lt(ns, 5000000000ull, "not a sleep for ever");
}

/* After the daemons stop, uvm_wait is a short pause, not a hang. */
Test(uvm_pdaemon, uvm_wait_without_a_pagedaemon_returns)
{
	uint64_t t0;

	up(16ull << 20, 0, false);
	uvm_pdaemon_stop();
	t0 = host_real_ns();
	uvm_wait("nopd");
	cr_assert_lt(host_real_ns() - t0, 5000000000ull);
}

/*
 * Hibernate: clean object pages (in swap) are dropped from RAM, on both
 * queues; a page written since it was cleaned is not; nothing is lost.
 */
Test(uvm_pdaemon, hibernate_drops_clean_object_pages_and_loses_nothing)
{
	struct uvm_object *uobj;
	struct vmspace *vm;
	struct vm_page *pg;
	vaddr_t va = VA;
	int n = 32, bad = -1, dropped, i, swpgonly;

	up(16ull << 20, 256, true);
	vm = uvmspace_alloc(PAGE_SIZE, VM_MAXUSER_ADDRESS, true);
	uobj = uao_create(ptoa(n), 0);
	uao_reference(uobj);			/* the mapping's */
	cr_assert_eq(uvm_map(&vm->vm_map, &va, ptoa(n), uobj, 0, 0,
	    UVM_MAPFLAG(VM_PROT_READ | VM_PROT_WRITE, VM_PROT_ALL,
	    UVM_INH_SHARE, UVM_ADV_NORMAL, UVM_FLAG_FIXED)), 0);
	cr_assert_eq(user_fill(vm, VA, n, 13, false, NULL), 0);
	for (i = 0; i < n; i++)
		cr_assert_eq(page_at(vm, VA + ptoa(i))->uobject, uobj);
	deactivate(vm, VA, n);
	set_targets(uvmexp.npages, uvmexp.npages);
	scan_inactive_gated();
	wait_paging_done();
	cr_assert_eq(count_flag(vm, VA, n, PG_CLEAN), n);
	activate(vm, VA, n / 2);		/* half active, half inactive */
	/* page 0 is written again: PG_CLEAN is stale until re-synced */
	cr_assert_eq(user_fill(vm, VA, 1, 14, false, NULL), 0);
	cr_assert(pmap_is_modified(page_at(vm, VA)));

	swpgonly = uvmexp_read(swpgonly);
	dropped = uvm_hibernate();
	cr_assert_eq(dropped, n - 1);
	cr_assert_eq(uvmexp_read(swpgonly) - swpgonly, n - 1);
	for (i = 1; i < n; i++)
		cr_assert_null(page_at(vm, VA + ptoa(i)), "page %d still here", i);
	rw_enter(uobj->vmobjlock, RW_READ);
	cr_assert_eq(uobj->uo_npages, 1);
	pg = uvm_pagelookup(uobj, 0);
	cr_assert_not_null(pg, "the written page stays");
	cr_assert_not(pg_flags_load(pg) & PG_CLEAN, "and is dirty now");
	rw_exit(uobj->vmobjlock);

	cr_assert_eq(user_fill(vm, VA, 1, 14, true, &bad), 0);
	cr_assert_eq(bad, 0);
	cr_assert_eq(user_fill(vm, VA + PAGE_SIZE, n - 1, 13, true, &bad), 0);
	cr_assert_eq(bad, 0, "%d pages lost", bad);
	cr_assert_eq(uvmexp_read(swpgonly), swpgonly);
	uvmspace_free(vm);
	uao_detach(uobj);
	cr_assert_eq(uvmexp_read(swpgonly), 0);
}

/*
 * uvmpd_drop and uvmpd_hibernate called directly (the daemon idle):
 * clean object pages of both queues go, dirty and anon pages stay.
 */
Test(uvm_pdaemon, uvmpd_drop_and_uvmpd_hibernate_free_clean_object_pages)
{
	struct uvm_object *uobj;
	struct vmspace *vm;
	vaddr_t va = VA;
	int n = 8, bad = -1, i;

	up(16ull << 20, 256, true);
	vm = uvmspace_alloc(PAGE_SIZE, VM_MAXUSER_ADDRESS, true);
	uobj = uao_create(ptoa(n), 0);
	uao_reference(uobj);
	cr_assert_eq(uvm_map(&vm->vm_map, &va, ptoa(n), uobj, 0, 0,
	    UVM_MAPFLAG(VM_PROT_READ | VM_PROT_WRITE, VM_PROT_ALL,
	    UVM_INH_SHARE, UVM_ADV_NORMAL, UVM_FLAG_FIXED)), 0);
	cr_assert_eq(user_fill(vm, VA, n, 21, false, NULL), 0);
	deactivate(vm, VA, n);
	set_targets(uvmexp.npages, uvmexp.npages);
	scan_inactive_gated();
	wait_paging_done();
	cr_assert_eq(count_flag(vm, VA, n, PG_CLEAN), n);
	activate(vm, VA + ptoa(n / 2), n / 2);
	uvm_pdaemon_quiesce();
	uvmpd_drop(&uvm.page_inactive);
	for (i = 0; i < n / 2; i++)
		cr_assert_null(page_at(vm, VA + ptoa(i)), "inactive page %d", i);
	for (i = n / 2; i < n; i++)
		cr_assert_not_null(page_at(vm, VA + ptoa(i)), "active page %d "
		    "is not on that list", i);
	uvmpd_hibernate();
	for (i = n / 2; i < n; i++)
		cr_assert_null(page_at(vm, VA + ptoa(i)), "active page %d", i);
	uvm_pdaemon_resume();
	cr_assert_eq(user_fill(vm, VA, n, 21, true, &bad), 0);
	cr_assert_eq(bad, 0, "%d pages lost", bad);
	uvmspace_free(vm);
	uao_detach(uobj);
}

/* Anon pages are not hibernate's (the seed skips them). */
Test(uvm_pdaemon, hibernate_keeps_anon_pages)
{
	struct vmspace *vm;
	int n = 8;

	up(16ull << 20, 256, true);
	vm = newvm(VA, n);
	cr_assert_eq(user_fill(vm, VA, n, 15, false, NULL), 0);
	deactivate(vm, VA, n);
	set_targets(uvmexp.npages, uvmexp.npages);
	scan_inactive_gated();
	wait_paging_done();
	cr_assert_eq(count_flag(vm, VA, n, PG_CLEAN), n);
	cr_assert_eq(uvm_hibernate(), 0);
	cr_assert_eq(count_flag(vm, VA, n, PG_CLEAN), n);
	uvmspace_free(vm);
}

/*
 * aobj swap-in that fails: the slot is marked bad and the page fails
 * with EIO from then on (its data is lost), even once the disk is good.
 */
Test(uvm_pdaemon, aobj_swapin_error_marks_the_slot_bad)
{
	struct uvm_object *uobj;
	struct vmspace *vm;
	vaddr_t va = VA;
	int n = 2, bad = -1;

	up(16ull << 20, 256, true);
	vm = uvmspace_alloc(PAGE_SIZE, VM_MAXUSER_ADDRESS, true);
	uobj = uao_create(ptoa(n), 0);
	uao_reference(uobj);			/* the mapping's */
	cr_assert_eq(uvm_map(&vm->vm_map, &va, ptoa(n), uobj, 0, 0,
	    UVM_MAPFLAG(VM_PROT_READ | VM_PROT_WRITE, VM_PROT_ALL,
	    UVM_INH_SHARE, UVM_ADV_NORMAL, UVM_FLAG_FIXED)), 0);
	cr_assert_eq(user_fill(vm, VA, n, 16, false, NULL), 0);
	deactivate(vm, VA, n);
	set_targets(uvmexp.npages, uvmexp.npages);
	scan_inactive_gated();
	wait_paging_done();
	as_pagedaemon(scan_inactive_fn, NULL);	/* free them */
	cr_assert_null(page_at(vm, VA));
	cr_assert_eq(uvmexp_read(swpgonly), n);

	host_disk_set_fail_rate(uvm_swap_disk(), 1000);
	cr_assert_eq(user_fill(vm, VA, 1, 16, true, &bad), EIO);
	host_disk_set_fail_rate(uvm_swap_disk(), 0);
	cr_assert_eq(uvm_swap_nbad(), 1);
	rw_enter(uobj->vmobjlock, RW_READ);
	cr_assert_eq(uao_find_swslot(uobj, 0), UAO_SWSLOT_BAD);
	rw_exit(uobj->vmobjlock);
	cr_assert_eq(user_fill(vm, VA, 1, 16, true, &bad), EIO, "still lost");
	/* the other page is fine */
	cr_assert_eq(user_fill(vm, VA + PAGE_SIZE, 1, 16, true, &bad), 0);
	cr_assert_eq(bad, 0);
	uvmspace_free(vm);
	uao_detach(uobj);
	cr_assert_eq(uvmexp_read(swpgonly), 0);
	cr_assert_eq(uvm_swap_inuse(), 1, "the bad slot is never reused");
}

/*
 * Swap read-ahead (uvm_fault.c).  swap_out_all: fill n pages, page them
 * all out and free them, so that every page lives only in swap, its
 * cluster's slots in address order.
 */
static struct vmspace *
swap_out_all(int n, uint64_t gen)
{
	struct vmspace *vm = newvm(VA, n);

	cr_assert_eq(user_fill(vm, VA, n, gen, false, NULL), 0);
	deactivate(vm, VA, n);
	set_targets(uvmexp.npages, uvmexp.npages);
	scan_inactive_gated();
	wait_paging_done();
	as_pagedaemon(scan_inactive_fn, NULL);
	cr_assert_eq(uvmexp_read(swpgonly), n, "%d of %d pages paged out",
	    uvmexp_read(swpgonly), n);
	return vm;
}

/* Check every page of [VA, VA + n) in the order of idx[] (NULL: in order). */
static int
walk(struct vmspace *vm, const int *idx, int n, uint64_t gen, int *bad)
{
	struct fill f = { vm, VA, idx, n, gen, true, 0 };
	struct host_user_fault uf;

	if (host_user_call(do_fill, &f, &uf) != 0)
		return uf.uf_error;
	*bad = f.bad;
	return 0;
}

/*
 * A walk in address order reads ahead: the window doubles with its hits
 * (1, 2, 4, 8, 16, 32, ... slots a read), every byte comes back, nothing is
 * read twice, and the read-ahead pages are clean (they match their slots).
 */
Test(uvm_pdaemon, sequential_swapin_reads_ahead)
{
	struct vmspace *vm;
	int n = 64, bad = -1, gets, pages;

	up(16ull << 20, 256, true);
	vm = swap_out_all(n, 21);
	gets = uvmexp_read(nswget);
	pages = uvmexp_read(pgswapin);
	cr_assert_eq(walk(vm, NULL, n, 21, &bad), 0);
	cr_assert_eq(bad, 0, "%d pages lost", bad);
	cr_assert_eq(uvmexp_read(pgswapin) - pages, n, "a page read twice");
	/* 1 + 2 + 4 + 8 + 16 + 32 + the last 1 */
	cr_assert_eq(uvmexp_read(nswget) - gets, 7, "%d reads for %d pages",
	    uvmexp_read(nswget) - gets, n);
	cr_assert_eq(uvmexp_read(swpgonly), 0);
	cr_assert_eq(count_flag(vm, VA, n, PG_CLEAN), n);
	cr_assert_eq(count_flag(vm, VA, n, PG_BUSY), 0);
	cr_assert_eq(uvm_swap_inuse(), n, "the slots stay (clean pages)");
	uvmspace_free(vm);
	cr_assert_eq(uvm_swap_inuse(), 0);
}

static int
by_frame_down(const void *a, const void *b)
{
	paddr_t x = VM_PAGE_TO_PHYS(*(struct vm_page *const *)a);
	paddr_t y = VM_PAGE_TO_PHYS(*(struct vm_page *const *)b);

	return x < y ? 1 : x > y ? -1 : 0;
}

/*
 * The pages a read-ahead allocates go to its anons in frame order, so
 * that a walk finds consecutive pages in consecutive frames (which the
 * MMU opens in one host call), even when the free list hands frames out
 * backwards, as it is made to here.
 */
Test(uvm_pdaemon, read_ahead_pages_take_frames_in_address_order)
{
	static struct vm_page *pgs[8192];
	struct vmspace *vm;
	int n = 64, bad = -1, m = 0, i, up_pairs = 0;

	up(16ull << 20, 256, true);
	vm = swap_out_all(n, 23);
	while (m < 8192 && (pgs[m] = uvm_pagealloc(NULL, 0, NULL, 0)) != NULL)
		m++;
	qsort(pgs, (size_t)m, sizeof(pgs[0]), by_frame_down);
	for (i = 0; i < m; i++)
		uvm_pagefree(pgs[i]);
	cr_assert_eq(walk(vm, NULL, n, 23, &bad), 0);
	cr_assert_eq(bad, 0, "%d pages lost", bad);
	for (i = 0; i + 1 < n; i++)
		if (VM_PAGE_TO_PHYS(page_at(vm, VA + ptoa(i + 1))) ==
		    VM_PAGE_TO_PHYS(page_at(vm, VA + ptoa(i))) + PAGE_SIZE)
			up_pairs++;
	/* all but the breaks at each read's own page and between reads */
	cr_assert_geq(up_pairs, n - 2 * 7, "%d of %d neighbours in "
	    "consecutive frames", up_pairs, n - 1);
	uvmspace_free(vm);
}

/*
 * Large anonymous mappings have one amap per 16-page chunk entry: the
 * read-ahead takes the anons of the entries around too (their locks
 * try-locked), so the reads reach 64 pages across entry boundaries.
 */
Test(uvm_pdaemon, sequential_swapin_reads_across_amap_chunks)
{
	struct vm_map_entry *entry;
	struct vmspace *vm;
	int n = 512, bad = -1, gets, reads;

	up(16ull << 20, 1024, true);
	vm = swap_out_all(n, 22);
	vm_map_lock_read(&vm->vm_map);
	cr_assert(uvm_map_lookup_entry(&vm->vm_map, VA, &entry));
	cr_assert_lt(entry->end - entry->start, ptoa(n), "not chunked");
	vm_map_unlock_read(&vm->vm_map);
	gets = uvmexp_read(nswget);
	cr_assert_eq(walk(vm, NULL, n, 22, &bad), 0);
	cr_assert_eq(bad, 0, "%d pages lost", bad);
	reads = uvmexp_read(nswget) - gets;
	/* the ramp (6 reads for 63 pages), then 64 pages a read */
	cr_assert_leq(reads, 6 + (n - 63 + 63) / 64, "%d reads for %d pages",
	    reads, n);
	uvmspace_free(vm);
}

/* A walk in no order reads one page per fault: there are no hits. */
Test(uvm_pdaemon, scattered_swapin_does_not_read_ahead)
{
	struct vmspace *vm;
	int n = 64, idx[64], bad = -1, gets, i;

	up(16ull << 20, 256, true);
	vm = swap_out_all(n, 23);
	for (i = 0; i < n; i++)
		idx[i] = (i * 37) % n;		/* 37 is prime to 64 */
	gets = uvmexp_read(nswget);
	cr_assert_eq(walk(vm, idx, n, 23, &bad), 0);
	cr_assert_eq(bad, 0);
	cr_assert_eq(uvmexp_read(nswget) - gets, n);
	uvmspace_free(vm);
}

/* MADV_RANDOM: never any read-ahead, even walking in order. */
Test(uvm_pdaemon, random_advice_swapin_reads_one_page)
{
	struct vmspace *vm;
	int n = 64, bad = -1, gets;

	up(16ull << 20, 256, true);
	vm = swap_out_all(n, 24);
	cr_assert_eq(uvm_map_advice(&vm->vm_map, VA, VA + ptoa(n),
	    UVM_ADV_RANDOM), 0);
	gets = uvmexp_read(nswget);
	cr_assert_eq(walk(vm, NULL, n, 24, &bad), 0);
	cr_assert_eq(bad, 0);
	cr_assert_eq(uvmexp_read(nswget) - gets, n);
	uvmspace_free(vm);
}

/*
 * Every read of more than one page fails: each fault falls back to its
 * own page, read alone, and nothing is lost or marked bad (a failed
 * read-ahead proves nothing about the neighbours' slots).
 */
static void
fail_clusters_hook(enum hook_ev ev, const void *obj, uintptr_t arg)
{
	const struct buf *bp = obj;

	(void)arg;
	if (ev == HE_DISK_SUBMIT && (bp->b_flags & B_READ))
		host_disk_set_fail_rate(uvm_swap_disk(),
		    bp->b_npages > 1 ? 1000 : 0);
}

Test(uvm_pdaemon, failed_read_ahead_falls_back_to_the_page)
{
	struct host_disk_stats st;
	struct vmspace *vm;
	int n = 64, bad = -1, pages;

	up(16ull << 20, 256, true);
	vm = swap_out_all(n, 25);
	pages = uvmexp_read(pgswapin);
	host_set_sched_hook(fail_clusters_hook);
	cr_assert_eq(walk(vm, NULL, n, 25, &bad), 0);
	host_set_sched_hook(NULL);
	cr_assert_eq(bad, 0, "%d pages lost", bad);
	host_disk_get_stats(uvm_swap_disk(), &st);
	cr_assert_gt(st.injected, 0, "no read-ahead was tried");
	cr_assert_eq(uvmexp_read(pgswapin) - pages, n);
	cr_assert_eq(uvm_swap_nbad(), 0, "a slot was marked bad");
	cr_assert_eq(uvmexp_read(swpgonly), 0);
	uvmspace_free(vm);
	cr_assert_eq(uvm_swap_inuse(), 0);
}

/*
 * The mapping goes away while a read-ahead is in flight: the faulting
 * anon and the read-ahead ones are released, and the fault frees them
 * all (pages, anons, slots, the lock's references) when the read ends.
 */
static int ra_gate, ra_gated;		/* [a] */

static void
ra_gate_hook(enum hook_ev ev, const void *obj, uintptr_t arg)
{
	const struct buf *bp = obj;

	(void)arg;
	if (ev != HE_DISK_DONE || !(bp->b_flags & B_READ) || bp->b_npages < 4)
		return;
	__atomic_store_n(&ra_gated, 1, __ATOMIC_RELEASE);
	while (__atomic_load_n(&ra_gate, __ATOMIC_ACQUIRE))
		usleep(100);
}

struct ra_walker {
	struct vmspace	*vm;
	int		n;
	int		error;
};

static void *
ra_walker_fn(void *arg)
{
	struct ra_walker *rw = arg;
	int bad;

	(void)host_thread_self();
	rw->error = walk(rw->vm, NULL, rw->n, 26, &bad);
	return NULL;
}

Test(uvm_pdaemon, released_during_read_ahead)
{
	static struct ra_walker rw;
	struct vmspace *vm;
	pthread_t t;
	int n = 64, anons, locks, freepg, i;

	up(16ull << 20, 256, true);
	vm = swap_out_all(n, 26);
	anons = uvm_anon_count();
	locks = uvm_rwobj_count();
	freepg = uvmexp_read(free);
	__atomic_store_n(&ra_gate, 1, __ATOMIC_RELEASE);
	host_set_sched_hook(ra_gate_hook);
	rw.vm = vm;
	rw.n = n;
	cr_assert_eq(pthread_create(&t, NULL, ra_walker_fn, &rw), 0);
	for (i = 0; i < 20000 && !__atomic_load_n(&ra_gated, __ATOMIC_ACQUIRE);
	    i++)
		usleep(500);
	cr_assert(__atomic_load_n(&ra_gated, __ATOMIC_ACQUIRE),
	    "no read-ahead of 4 pages or more");
	/* the pages under the read are busy and their owners unlocked */
	uvm_unmap(&vm->vm_map, VA, VA + ptoa(n));
	__atomic_store_n(&ra_gate, 0, __ATOMIC_RELEASE);
	pthread_join(t, NULL);
	host_set_sched_hook(NULL);
	cr_assert_eq(rw.error, EFAULT, "the walker's mapping is gone");
	cr_assert_eq(uvm_anon_count(), anons - n, "anons leaked");
	cr_assert_eq(uvm_rwobj_count(), locks - 1, "the amap lock leaked");
	cr_assert_eq(uvmexp_read(swpgonly), 0);
	cr_assert_eq(uvm_swap_inuse(), 0, "slots leaked");
	cr_assert_geq(uvmexp_read(free), freepg, "pages leaked");
	uvmspace_free(vm);
}

/*
 * End to end: a working set three times the RAM, written with
 * signatures and read back twice, with the daemons running free.
 */
Test(uvm_pdaemon, working_set_three_times_ram)
{
	struct vmspace *vm;
	struct audit_result ar;
	int n = (int)atop(24ull << 20), bad = -1, pass;

	up(8ull << 20, (int)atop(64ull << 20), false);
	vm = newvm(VA, n);
	cr_assert_eq(user_fill(vm, VA, n, 17, false, NULL), 0);
	for (pass = 0; pass < 2; pass++) {
		cr_assert_eq(user_fill(vm, VA, n, 17, true, &bad), 0);
		cr_assert_eq(bad, 0, "pass %d: %d pages lost", pass, bad);
	}
	cr_assert_gt(uvmexp_read(pgswapout), 0);
	cr_assert_gt(uvmexp_read(pgswapin), 0);
	cr_assert_gt(uvmexp_read(pdfreed), 0);
	cr_assert_gt(uvmexp_read(pdpending), 0);
	cr_assert_gt(uvmexp_read(pddeact), 0);
	cr_log_info("e2e: pdwoke %d pdrevs %d pdscans %d pdfreed %d "
	    "pdpageouts %d pdpending %d pddeact %d pdreact %d pdbusy %d "
	    "pgswapout %d pgswapin %d", uvmexp_read(pdwoke),
	    uvmexp_read(pdrevs), uvmexp_read(pdscans), uvmexp_read(pdfreed),
	    uvmexp_read(pdpageouts), uvmexp_read(pdpending),
	    uvmexp_read(pddeact), uvmexp_read(pdreact), uvmexp_read(pdbusy),
	    uvmexp_read(pgswapout), uvmexp_read(pgswapin));
	uvmspace_free(vm);
	uvm_pdaemon_stop();
	cr_assert_eq(uvmexp_read(paging), 0);
	cr_assert_eq(uvmexp_read(swpgonly), 0);
	cr_assert_eq(uvm_swap_inuse(), 0);
	memset(&ar, 0, sizeof(ar));
	audit_pages(&ar, AUDIT_QUIESCENT);
	cr_assert_eq(ar.nviolations, 0, "%s", ar.first);
}

/*
 * A page of a kernel object whose pager has no put (kmem_object's km
 * pager; a fault on a UVM_KMF_VALLOC range of kmem_map puts one there,
 * unwired) is kept by the pagedaemon: it can be neither paged out nor
 * freed (a fresh uvm_km_get would zero it).  Before, uvm_pager_put
 * asserted pgo_put != NULL (a mix trial with such allocations, 6 s).
 */
Test(uvm_pdaemon, a_km_pager_page_is_kept)
{
	volatile uint64_t *p;
	struct vm_page *pg;
	paddr_t pa;
	vaddr_t va;
	int react;

	up(16ull << 20, 256, true);
	va = uvm_km_kmemalloc(kmem_map, kmem_object, PAGE_SIZE,
	    UVM_KMF_VALLOC);
	cr_assert_neq(va, 0);
	p = (volatile uint64_t *)va;
	p[0] = 0x1234;			/* a fault: uvm_km_get */
	cr_assert(pmap_extract(pmap_kernel(), va, &pa));
	pg = PHYS_TO_VM_PAGE(pa);
	cr_assert_eq(pg->uobject, kmem_object);
	cr_assert_eq(pg->wire_count, 0, "unwired: the pagedaemon meets it");
	rw_enter(kmem_object->vmobjlock, RW_WRITE);
	uvm_lock_pageq();
	uvm_pagedeactivate(pg);
	pmap_clear_reference(pg);
	uvm_unlock_pageq();
	rw_exit(kmem_object->vmobjlock);
	set_targets(uvmexp.npages, uvmexp.npages);

	react = uvmexp_read(pdreact);
	as_pagedaemon(scan_inactive_fn, NULL);
	cr_assert_geq(uvmexp_read(pdreact) - react, 1);
	cr_assert(pg_flags_load(pg) & PQ_ACTIVE, "reactivated");
	cr_assert_eq(pg->uobject, kmem_object, "still the object's page");
	cr_assert_eq(p[0], 0x1234, "its data kept");
	uvm_km_free(kmem_map, va, PAGE_SIZE, 0);
}

/* A user read of the page at the fill's va, on its own LWP. */
struct swapin_reader {
	struct vmspace	*vm;
	int		error;		/* of the refused fault, or 0 */
};

static void
swapin_reader_fn(void *arg)
{
	struct swapin_reader *sr = arg;
	int bad = 0;

	sr->error = user_fill(sr->vm, VA, 1, 1, true, &bad);
}

/*
 * A fault reading a page in from swap while its anon is freed (the
 * region unmapped): the fault finds its page PG_RELEASED when the read
 * completes, frees it with the anon (uvm_anon_release), counts
 * fltpgrele, and refaults: nothing is mapped there any more (EFAULT).
 */
Test(uvm_pdaemon, swapin_of_an_anon_unmapped_meanwhile_is_released)
{
	struct swapin_reader sr;
	struct vmspace *vm;
	struct vm_anon *anon;
	struct lwp *l;
	int n = 1, anons, rele, waited;

	up(16ull << 20, 256, true);
	vm = newvm(VA, n);
	cr_assert_eq(user_fill(vm, VA, n, 1, false, NULL), 0);
	deactivate(vm, VA, n);
	set_targets(uvmexp.npages, uvmexp.npages);
	as_pagedaemon(scan_inactive_fn, NULL);	/* the pageout */
	wait_paging_done();
	as_pagedaemon(scan_inactive_fn, NULL);	/* the clean page freed */
	anon = anon_at(vm, VA);
	cr_assert_null(anon->an_page, "paged out and freed");
	cr_assert_neq(anon->an_swslot, 0);
	anons = uvm_anon_count();
	rele = uvmexp_read(fltpgrele);

	/* the read waits at the disk until the region is gone */
	disk_gate_set(1);
	host_set_sched_hook(disk_gate_hook);
	sr = (struct swapin_reader){ vm, -1 };
	cr_assert_eq(lwp_create(__atomic_load_n(&uvm.pagedaemon_proc,
	    __ATOMIC_ACQUIRE), "reader", 0, swapin_reader_fn, &sr, &l), 0);
	for (waited = 0; waited < 5000; waited++) {
		if (__atomic_load_n(&anon->an_page, __ATOMIC_ACQUIRE) != NULL)
			break;		/* the fault's page, busy, reading */
		usleep(1000);
	}
	cr_assert_lt(waited, 5000, "the fault never started its read");
	uvm_unmap(&vm->vm_map, VA, VA + ptoa(n));
	disk_gate_set(0);
	lwp_join(l);
	host_set_sched_hook(NULL);

	cr_assert_eq(uvmexp_read(fltpgrele), rele + 1, "fltpgrele not counted");
	cr_assert_eq(sr.error, EFAULT, "the refault found a mapping (%d)",
	    sr.error);
	cr_assert_eq(uvm_anon_count(), anons - 1, "the anon was not freed");
	cr_assert_eq(uvm_swap_inuse(), 0, "its slot was not freed");
	uvmspace_free(vm);
}
