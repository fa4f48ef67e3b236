/*
 * tests/test_pmap.c: the pmap, the trap and ref/mod emulation, on real
 * host mappings of the RAM memfd.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "host/arena.h"
#include "host/kassert.h"
#include "host/pmap.h"
#include "host/thread.h"
#include "host/trap.h"

#define RAM	(16ull << 20)

static void
boot_close(long budget, enum host_mod_emulation mod, enum host_mmu_close close)
{
	struct host_mmu_config cfg = {
		.user_va_size = 64ull << 20,
		.kernel_va_size = 64ull << 20,
		.map_budget = budget,
		.mod_emulation = mod,
		.close_mode = close,
	};

	(void)host_thread_self();
	cr_assert_eq(host_arena_init(RAM), 0, "%s", host_arena_error());
	cr_assert_eq(host_mmu_init(&cfg), 0, "%s", host_mmu_error());
}

static void
boot_mode(long budget, enum host_mod_emulation mod)
{
	boot_close(budget, mod, HOST_CLOSE_HOLE);
}

static void
boot(long budget)
{
	boot_mode(budget, HOST_MOD_CONTENT);
}

static void
setup(void)
{
	boot(0);
}

static void
setup_trap(void)
{
	boot_mode(0, HOST_MOD_TRAP);
}

static void
teardown(void)
{
	host_set_fault_hook(NULL);
	host_mmu_fini();
	host_arena_fini();
}

TestSuite(pmap, .init = setup, .fini = teardown);
/* modified told by a trap on the first store (--mod-emulation trap) */
TestSuite(pmap_trap, .init = setup_trap, .fini = teardown);
/* tests that boot the MMU themselves */
TestSuite(pmap_boot, .fini = teardown);

static volatile uint64_t *
uaddr(pmap_t pm, vaddr_t va)
{
	return (volatile uint64_t *)pmap_hostaddr(pm, va);
}

static uint64_t *
dmap(paddr_t pa)
{
	return (uint64_t *)host_arena_direct(pa);
}

/* Enter va read-write on the frame of the same number. */
static void
enter_touch(pmap_t pm, vaddr_t va, vm_prot_t access)
{
	cr_assert_eq(pmap_enter(pm, va, ptoa(atop(va)), VM_PROT_READ |
	    VM_PROT_WRITE, access), 0);
}

Test(pmap, enter_maps_the_arena_page)
{
	pmap_t pm = pmap_create();
	paddr_t pa = ptoa(7), got;

	cr_assert_eq(pmap_enter(pm, 0x10000, pa, VM_PROT_READ | VM_PROT_WRITE,
	    VM_PROT_WRITE), 0);
	*uaddr(pm, 0x10008) = 0xfeedfaceull;
	cr_assert_eq(dmap(pa)[1], 0xfeedfaceull, "store reached the frame");
	dmap(pa)[2] = 42;
	cr_assert_eq(uaddr(pm, 0x10000)[2], 42, "direct-map store visible");
	cr_assert(pmap_extract(pm, 0x10010, &got));
	cr_assert_eq(got, pa + 0x10);
	cr_assert_not(pmap_extract(pm, 0x20000, NULL));
	cr_assert_eq(pmap_resident_count(pm), 1);
	pmap_remove(pm, 0x10000, 0x11000);
	cr_assert_not(pmap_extract(pm, 0x10000, NULL));
	cr_assert_eq(pmap_resident_count(pm), 0);
	pmap_destroy(pm);
}

Test(pmap, one_page_two_addresses_two_pmaps)
{
	pmap_t a = pmap_create(), b = pmap_create();
	paddr_t pa = ptoa(3);
	vm_prot_t rw = VM_PROT_READ | VM_PROT_WRITE;

	cr_assert_eq(pmap_enter(a, 0x1000, pa, rw, VM_PROT_WRITE), 0);
	cr_assert_eq(pmap_enter(a, 0x5000, pa, rw, VM_PROT_WRITE), 0);
	cr_assert_eq(pmap_enter(b, 0x9000, pa, rw, VM_PROT_WRITE), 0);
	*uaddr(a, 0x1000) = 1234;
	cr_assert_eq(*uaddr(a, 0x5000), 1234);
	cr_assert_eq(*uaddr(b, 0x9000), 1234);
	*uaddr(b, 0x9000) = 99;
	cr_assert_eq(*uaddr(a, 0x1000), 99);
	/* removing every mapping of the page */
	pmap_page_protect(PHYS_TO_VM_PAGE(pa), VM_PROT_NONE);
	cr_assert_not(pmap_extract(a, 0x1000, NULL));
	cr_assert_not(pmap_extract(a, 0x5000, NULL));
	cr_assert_not(pmap_extract(b, 0x9000, NULL));
	cr_assert_eq(pmap_resident_count(a) + pmap_resident_count(b), 0);
	pmap_destroy(a);
	pmap_destroy(b);
}

/* A fault hook that records what it saw and maps the next free frame. */
static struct {
	atomic_int	n;
	pmap_t		pm;
	vaddr_t		va;
	vm_prot_t	access;
	bool		valid;		/* a protection fault */
	atomic_uint	nextpage;
	int		refuse;		/* errno to return instead */
} fh;

static int
record_and_map(pmap_t pm, vaddr_t va, vm_prot_t access, bool valid)
{
	atomic_fetch_add(&fh.n, 1);
	fh.pm = pm;
	fh.va = va;
	fh.access = access;
	fh.valid = valid;
	if (fh.refuse != 0)
		return fh.refuse;
	return pmap_enter(pm, va, ptoa(atomic_fetch_add(&fh.nextpage, 1)),
	    VM_PROT_READ | VM_PROT_WRITE, access);
}

Test(pmap, trap_delivers_va_and_access_type)
{
	pmap_t pm = pmap_create();
	uint64_t v;

	atomic_store(&fh.nextpage, 100);
	host_set_fault_hook(record_and_map);
	v = *uaddr(pm, 0x3000 + 16);
	cr_assert_eq(v, 0, "a fresh frame reads zero");
	cr_assert_eq(atomic_load(&fh.n), 1);
	cr_assert_eq(fh.pm, pm);
	cr_assert_eq(fh.va, 0x3000, "page-aligned fault va");
	cr_assert_eq(fh.access, VM_PROT_READ);
	cr_assert_not(fh.valid, "nothing was mapped there");
	*uaddr(pm, 0x7000 + 8) = 5;
	cr_assert_eq(atomic_load(&fh.n), 2);
	cr_assert_eq(fh.va, 0x7000);
	cr_assert_eq(fh.access, VM_PROT_WRITE);
	/* already mapped read-write and accessed: no more faults */
	*uaddr(pm, 0x3000) = 1;
	cr_assert_eq(atomic_load(&fh.n), 2);
	pmap_destroy(pm);
}

struct touch_arg {
	pmap_t		pm;
	vaddr_t		va;
	bool		write;
	bool		done;
};

static void
touch_fn(void *arg)
{
	struct touch_arg *ta = arg;

	if (ta->write)
		*uaddr(ta->pm, ta->va) = 7;
	else
		(void)*uaddr(ta->pm, ta->va);
	ta->done = true;
}

Test(pmap, refused_fault_is_a_simulated_sigsegv)
{
	pmap_t pm = pmap_create();
	struct touch_arg ta = { pm, 0x4000 + 24, true, false };
	struct host_user_fault uf;
	struct host_trap_stats before, after;

	fh.refuse = EACCES;
	host_set_fault_hook(record_and_map);
	host_trap_get_stats(&before);
	cr_assert_eq(host_user_call(touch_fn, &ta, &uf), EFAULT);
	cr_assert_not(ta.done, "the access did not complete");
	cr_assert_eq(uf.uf_pmap, pm);
	cr_assert_eq(uf.uf_va, 0x4000);
	cr_assert_eq(uf.uf_addr, 0x4000 + 24);
	cr_assert_eq(uf.uf_access, VM_PROT_WRITE);
	cr_assert_eq(uf.uf_error, EACCES);
	host_trap_get_stats(&after);
	cr_assert_eq(after.nsegv, before.nsegv + 1);
	/* and the thread goes on working normally */
	fh.refuse = 0;
	ta.done = false;
	cr_assert_eq(host_user_call(touch_fn, &ta, &uf), 0);
	cr_assert(ta.done);
	pmap_destroy(pm);
}

static void
ref_mod_follow_accesses(void)
{
	pmap_t pm = pmap_create();
	paddr_t pa = ptoa(11);
	struct vm_page *pg = PHYS_TO_VM_PAGE(pa);
	uint64_t v;

	/* entered without an access type: untouched so far */
	cr_assert_eq(pmap_enter(pm, 0x2000, pa, VM_PROT_READ | VM_PROT_WRITE,
	    0), 0);
	cr_assert_not(pmap_is_referenced(pg));
	cr_assert_not(pmap_is_modified(pg));
	v = *uaddr(pm, 0x2000);
	(void)v;
	cr_assert(pmap_is_referenced(pg), "a load sets referenced");
	cr_assert_not(pmap_is_modified(pg), "a load does not set modified");
	*uaddr(pm, 0x2000) = 3;
	cr_assert(pmap_is_modified(pg), "a store sets modified");

	cr_assert(pmap_clear_reference(pg));
	cr_assert_not(pmap_is_referenced(pg));
	cr_assert_not(pmap_clear_reference(pg), "already clear");
	v = *uaddr(pm, 0x2000);
	cr_assert_eq(v, 3);
	cr_assert(pmap_is_referenced(pg), "the next load sets it again");

	cr_assert(pmap_clear_modify(pg));
	cr_assert_not(pmap_is_modified(pg));
	v = *uaddr(pm, 0x2000);
	cr_assert_not(pmap_is_modified(pg), "loads leave it clean");
	*uaddr(pm, 0x2000) = 4;
	cr_assert(pmap_is_modified(pg), "the next store dirties it");
	cr_assert_eq(*(uint64_t *)host_arena_direct(pa), 4);
	pmap_destroy(pm);
}

Test(pmap, referenced_and_modified_follow_real_accesses)
{
	ref_mod_follow_accesses();
}

Test(pmap_trap, referenced_and_modified_follow_real_accesses)
{
	ref_mod_follow_accesses();
}

/* A load then a store: `fixups` traps, none of them the VM's. */
static void
load_store_fixups(uint64_t fixups)
{
	pmap_t pm = pmap_create();
	paddr_t pa = ptoa(12);
	struct host_trap_stats before, after;

	host_set_fault_hook(record_and_map);
	cr_assert_eq(pmap_enter(pm, 0x2000, pa, VM_PROT_READ | VM_PROT_WRITE,
	    0), 0);
	host_trap_get_stats(&before);
	(void)*uaddr(pm, 0x2000);
	*uaddr(pm, 0x2000) = 1;
	host_trap_get_stats(&after);
	cr_assert_eq(after.nfixups - before.nfixups, fixups);
	cr_assert_eq(after.nfaults, before.nfaults);
	cr_assert_eq(atomic_load(&fh.n), 0);
	cr_assert(pmap_is_modified(PHYS_TO_VM_PAGE(pa)));
	pmap_destroy(pm);
}

Test(pmap_trap, emulation_faults_do_not_reach_the_vm)
{
	load_store_fixups(2);	/* ref, then mod */
}

Test(pmap, emulation_faults_do_not_reach_the_vm)
{
	load_store_fixups(1);	/* ref; the store finds it open */
}

Test(pmap, protect_and_page_protect_revoke_write)
{
	pmap_t pm = pmap_create();
	paddr_t pa = ptoa(20);
	struct touch_arg ta = { pm, 0x6000, true, false };
	struct host_user_fault uf;

	fh.refuse = EACCES;
	host_set_fault_hook(record_and_map);
	cr_assert_eq(pmap_enter(pm, 0x6000, pa, VM_PROT_READ | VM_PROT_WRITE,
	    VM_PROT_WRITE), 0);
	*uaddr(pm, 0x6000) = 1;
	pmap_protect(pm, 0x6000, 0x7000, VM_PROT_READ);
	cr_assert_eq(*uaddr(pm, 0x6000), 1, "still readable");
	cr_assert_eq(host_user_call(touch_fn, &ta, &uf), EFAULT);
	cr_assert_eq(uf.uf_access, VM_PROT_WRITE);
	cr_assert_eq(fh.va, 0x6000, "the write went to the VM");
	cr_assert(fh.valid, "as a protection fault");

	/* page_protect(READ) on a second, writable mapping */
	cr_assert_eq(pmap_enter(pm, 0x8000, pa, VM_PROT_READ | VM_PROT_WRITE,
	    VM_PROT_WRITE), 0);
	*uaddr(pm, 0x8000) = 2;
	pmap_page_protect(PHYS_TO_VM_PAGE(pa), VM_PROT_READ);
	ta.va = 0x8000;
	cr_assert_eq(host_user_call(touch_fn, &ta, &uf), EFAULT);
	cr_assert_eq(*uaddr(pm, 0x8000), 2);
	pmap_destroy(pm);
}

Test(pmap, wired_mappings_never_trap)
{
	pmap_t pm = pmap_create();
	struct host_trap_stats before, after;
	vaddr_t va;

	for (va = 0x10000; va < 0x20000; va += PAGE_SIZE)
		cr_assert_eq(pmap_enter(pm, va, ptoa(atop(va)), VM_PROT_READ |
		    VM_PROT_WRITE, PMAP_WIRED), 0);
	cr_assert_eq(pmap_wired_count(pm), 16);
	host_trap_get_stats(&before);
	for (va = 0x10000; va < 0x20000; va += PAGE_SIZE)
		*uaddr(pm, va) = va;
	host_trap_get_stats(&after);
	cr_assert_eq(after.ntraps, before.ntraps, "no trap on wired pages");
	cr_assert(pmap_is_modified(PHYS_TO_VM_PAGE(ptoa(atop(0x10000)))));
	pmap_unwire(pm, 0x10000);
	cr_assert_eq(pmap_wired_count(pm), 15);
	pmap_remove(pm, 0x10000, 0x20000);
	cr_assert_eq(pmap_wired_count(pm), 0);
	pmap_destroy(pm);
}

Test(pmap, kenter_is_a_direct_kernel_mapping)
{
	vaddr_t kva = VM_MIN_KERNEL_ADDRESS + 5 * PAGE_SIZE;
	paddr_t pa = ptoa(30);
	paddr_t got;

	pmap_kenter_pa(kva, pa, VM_PROT_READ | VM_PROT_WRITE, 0);
	*(volatile uint64_t *)kva = 0xabcdef;
	cr_assert_eq(*(uint64_t *)host_arena_direct(pa), 0xabcdef,
	    "kernel va is a host address");
	cr_assert(pmap_extract(pmap_kernel(), kva, &got));
	cr_assert_eq(got, pa);
	cr_assert_null(PHYS_TO_VM_PAGE(pa)->mdpage.pvh_list, "unmanaged");
	pmap_kremove(kva, PAGE_SIZE);
	cr_assert_not(pmap_extract(pmap_kernel(), kva, NULL));
}

Test(pmap, remove_range_and_destroy_clean_up_pv_lists)
{
	pmap_t pm = pmap_create();
	vaddr_t va;
	int i;

	for (i = 0; i < 64; i++)
		cr_assert_eq(pmap_enter(pm, 0x100000 + ptoa(i), ptoa(40 + i),
		    VM_PROT_READ | VM_PROT_WRITE, VM_PROT_WRITE), 0);
	for (i = 0; i < 64; i++)
		*uaddr(pm, 0x100000 + ptoa(i)) = (uint64_t)i;
	pmap_remove(pm, 0x100000 + ptoa(8), 0x100000 + ptoa(24));
	cr_assert_eq(pmap_resident_count(pm), 48);
	for (i = 8; i < 24; i++)
		cr_assert_null(PHYS_TO_VM_PAGE(ptoa(40 + i))->mdpage.pvh_list);
	for (va = 0x100000; va < 0x100000 + ptoa(8); va += PAGE_SIZE)
		cr_assert_eq(*uaddr(pm, va), atop(va - 0x100000));
	pmap_destroy(pm);
	for (i = 0; i < 64; i++)
		cr_assert_null(PHYS_TO_VM_PAGE(ptoa(40 + i))->mdpage.pvh_list);
}

Test(pmap_boot, live_mappings_stay_within_the_budget)
{
	struct host_mmu_stats st;
	pmap_t pm;
	int i, npages = 2000;
	long vmas;

	boot(300);
	pm = pmap_create();
	for (i = 0; i < npages; i++) {
		/* every other page: no two mappings merge in the host */
		cr_assert_eq(pmap_enter(pm, ptoa(2 * i), ptoa(i % 3000),
		    VM_PROT_READ | VM_PROT_WRITE, 0), 0);
		*uaddr(pm, ptoa(2 * i)) = (uint64_t)i;
	}
	host_mmu_get_stats(&st);
	cr_assert_eq(st.budget, 300);
	cr_assert_leq(st.live, 300);
	cr_assert_leq(st.peak, 301);
	cr_assert_gt(st.nevict, (uint64_t)npages - 400);
	vmas = host_mmu_count_vmas();
	cr_assert_lt(vmas, 2 * 300 + 400, "host VMAs bounded: %ld", vmas);
	/* evicted pages refault through the pmap and keep their data */
	for (i = 0; i < npages; i++)
		cr_assert_eq(*uaddr(pm, ptoa(2 * i)), (uint64_t)i);
	pmap_destroy(pm);
}

/*
 * A walk in address order past the budget: the oldest host mappings go
 * in runs (one host call for many), never the one just made (the store
 * right after each enter does not trap), and the data stays.
 */
Test(pmap_boot, evictions_come_in_runs_and_spare_the_new_mapping)
{
	struct host_mmu_stats st0, st;
	pmap_t pm;
	int i, npages = 3000;

	boot(300);
	pm = pmap_create();
	host_mmu_get_stats(&st0);
	for (i = 0; i < npages; i++) {
		enter_touch(pm, ptoa(i), VM_PROT_READ | VM_PROT_WRITE);
		*uaddr(pm, ptoa(i)) = (uint64_t)i + 7;
	}
	host_mmu_get_stats(&st);
	cr_assert_eq(st.nfixup, st0.nfixup, "a new mapping was evicted");
	cr_assert_leq(st.live, 300);
	cr_assert_gt(st.nevict - st0.nevict, (uint64_t)npages - 400);
	cr_assert_lt((st.nunmap - st0.nunmap) * 16, st.nevict - st0.nevict,
	    "%llu host calls for %llu evictions",
	    (unsigned long long)(st.nunmap - st0.nunmap),
	    (unsigned long long)(st.nevict - st0.nevict));
	for (i = 0; i < npages; i++)
		cr_assert_eq(*uaddr(pm, ptoa(i)), (uint64_t)i + 7);
	pmap_destroy(pm);
}

/* The default budget: host mappings for all the RAM; -1: the most. */
Test(pmap_boot, default_budget_is_the_ram)
{
	struct host_mmu_stats st;

	boot(0);
	host_mmu_get_stats(&st);
	cr_assert_eq(st.budget, (long)atop(RAM));
	host_mmu_fini();
	host_arena_fini();
	boot(-1);
	host_mmu_get_stats(&st);
	cr_assert_gt(st.budget, (long)atop(RAM));
	cr_assert_eq(st.budget, st.max_map_count > 0 ?
	    (st.max_map_count - 4096) / 2 : 32000);
}

/* Is the host page at p mapped at all (a hole says ENOMEM)? */
static bool
host_mapped(volatile void *p)
{
	unsigned char vec;

	if (mincore((void *)p, PAGE_SIZE, &vec) == 0)
		return true;
	cr_assert_eq(errno, ENOMEM, "mincore: errno %d", errno);
	return false;
}

static bool
in_window_region(const volatile void *p)
{
	uintptr_t a = (uintptr_t)p;

	return (a >= (64ull << 30) && a < (512ull << 30)) ||
	    (a >= 0x100100000000ull && a < 0x200000000000ull);
}

/*
 * Windows go to the regions nothing else of the process is put in, as
 * holes but for their open mappings, and a close unmaps: the hole traps
 * as a reservation would, and a mapping opens it again with the new
 * frame's data.
 */
Test(pmap, a_close_leaves_a_hole_in_a_placed_window)
{
	pmap_t pm = pmap_create();
	struct host_mmu_stats st;
	struct touch_arg ta = { pm, 0x6000, false, false };
	struct host_user_fault uf;

	host_mmu_get_stats(&st);
	cr_assert_eq(st.nwinholes, 2, "the kernel's window and this one");
	cr_assert_eq(st.nwinreserved, 0);
	cr_assert(in_window_region(uaddr(pm, 0)), "window at %p",
	    (void *)uaddr(pm, 0));
	cr_assert(in_window_region((void *)vm_min_kernel_address));
	cr_assert_not(host_mapped(uaddr(pm, 0x6000)), "no reservation");
	enter_touch(pm, 0x5000, VM_PROT_WRITE);
	enter_touch(pm, 0x6000, VM_PROT_WRITE);
	*uaddr(pm, 0x6000) = 17;
	cr_assert(host_mapped(uaddr(pm, 0x6000)));
	pmap_remove(pm, 0x6000, 0x7000);
	cr_assert_not(host_mapped(uaddr(pm, 0x6000)), "a hole again");
	cr_assert(host_mapped(uaddr(pm, 0x5000)), "its neighbour stays");
	/* an access to the hole reaches the VM, which maps another frame */
	atomic_store(&fh.nextpage, 200);
	atomic_store(&fh.n, 0);
	dmap(ptoa(200))[0] = 0xabcdull;
	host_set_fault_hook(record_and_map);
	cr_assert_eq(host_user_call(touch_fn, &ta, &uf), 0);
	cr_assert(ta.done);
	cr_assert_eq(atomic_load(&fh.n), 1);
	cr_assert_eq(fh.va, 0x6000);
	cr_assert_not(fh.valid);
	cr_assert_eq(*uaddr(pm, 0x6000), 0xabcdull, "the new frame's data");
	pmap_destroy(pm);
}

/*
 * Should anything else ever be mapped in a window's hole, opening the
 * pmap's mapping there panics rather than replacing it.
 */
Test(pmap, a_foreign_mapping_in_a_hole_is_a_panic, .signal = SIGABRT)
{
	pmap_t pm = pmap_create();
	void *p = (void *)uaddr(pm, 0x6000);

	cr_assert_eq(mmap(p, PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE |
	    MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0), p);
	enter_touch(pm, 0x6000, VM_PROT_WRITE);	/* opens: panics */
}

/* Placed windows never overlap, and a destroyed one's slot is used again. */
Test(pmap, placed_windows_are_disjoint_and_reused)
{
	pmap_t pm[3], again;
	uintptr_t w[3], len = 64ull << 20;
	int i, j;

	for (i = 0; i < 3; i++) {
		pm[i] = pmap_create();
		w[i] = (uintptr_t)uaddr(pm[i], 0);
		cr_assert(in_window_region((void *)w[i]));
		cr_assert(w[i] + len <= vm_min_kernel_address ||
		    vm_min_kernel_address + len <= w[i], "clear of the kernel's");
		for (j = 0; j < i; j++)
			cr_assert(w[i] + len <= w[j] || w[j] + len <= w[i],
			    "windows %d and %d overlap", i, j);
	}
	pmap_destroy(pm[1]);
	again = pmap_create();
	cr_assert_eq((uintptr_t)uaddr(again, 0), w[1], "the lowest free slot");
	pmap_destroy(again);
	pmap_destroy(pm[0]);
	pmap_destroy(pm[2]);
}

/*
 * A full window region: the next window is a reservation wherever mmap
 * puts it, and its closes re-reserve; a destroyed window's slot takes
 * holes again.  (Where the region holds more than the test makes, as
 * ASan's does, there is nothing to see.)
 */
Test(pmap, a_full_region_falls_back_to_a_reserved_window)
{
	static pmap_t pm[1100];
	struct host_mmu_stats st;
	pmap_t last;
	int n, i;

	for (n = 0; n < (int)nitems(pm); n++) {
		pm[n] = pmap_create();
		host_mmu_get_stats(&st);
		if (st.nwinreserved > 0)
			break;
	}
	if (n == (int)nitems(pm)) {
		for (i = 0; i < n; i++)
			pmap_destroy(pm[i]);
		cr_skip_test("the window region holds more than %d windows", n);
	}
	last = pm[n];
	cr_assert_eq(st.nwinreserved, 1);
	cr_assert_not(in_window_region(uaddr(last, 0)));
	cr_assert(host_mapped(uaddr(last, 0x6000)), "reserved before use");
	enter_touch(last, 0x6000, VM_PROT_WRITE);
	*uaddr(last, 0x6000) = 17;
	pmap_remove(last, 0x6000, 0x7000);
	cr_assert(host_mapped(uaddr(last, 0x6000)), "reserved again, no hole");
	pmap_destroy(last);
	pmap_destroy(pm[0]);
	last = pmap_create();
	host_mmu_get_stats(&st);
	cr_assert_eq(st.nwinreserved, 1);
	cr_assert(in_window_region(uaddr(last, 0)), "the freed slot");
	pmap_destroy(last);
	for (i = 1; i < n; i++)
		pmap_destroy(pm[i]);
}

/* --mmu-close reserve: a close lays the reservation over the page again. */
Test(pmap_boot, reserve_closes_keep_the_window_reserved)
{
	pmap_t pm;
	struct host_mmu_stats st;

	boot_close(0, HOST_MOD_CONTENT, HOST_CLOSE_RESERVE);
	pm = pmap_create();
	host_mmu_get_stats(&st);
	cr_assert_eq(st.nwinholes, 0);
	cr_assert_eq(st.nwinreserved, 2);
	enter_touch(pm, 0x6000, VM_PROT_WRITE);
	*uaddr(pm, 0x6000) = 17;
	pmap_remove(pm, 0x6000, 0x7000);
	cr_assert(host_mapped(uaddr(pm, 0x6000)), "reserved again, no hole");
	cr_assert_eq(dmap(ptoa(atop(0x6000)))[0], 17);
	pmap_destroy(pm);
}

/*
 * pmap_page_protect(NONE) of the page entered at va (enter_touch's frame)
 * closes its host mapping and `along` going neighbours' in one host call.
 */
static void
remove_in_one_call(pmap_t pm, vaddr_t va, long along)
{
	struct host_mmu_stats m0, m1;

	host_mmu_get_stats(&m0);
	pmap_page_protect(PHYS_TO_VM_PAGE(ptoa(atop(va))), VM_PROT_NONE);
	host_mmu_get_stats(&m1);
	cr_assert_eq(m1.nunmap - m0.nunmap, 1, "one host call");
	cr_assert_eq(m1.ngoing - m0.ngoing, (uint64_t)along, "%llu went along, "
	    "not %ld", (unsigned long long)(m1.ngoing - m0.ngoing), along);
	cr_assert_eq(m1.live, m0.live - along - 1);
	cr_assert_not(pmap_extract(pm, va, NULL));
}

/*
 * A removal closes the host mappings of its address neighbours whose
 * pages are marked going in the same host call; their logical mappings
 * stay (a touch refaults through the pmap, data intact) and their own
 * removal closes nothing.  Unmarked neighbours keep their host mappings.
 */
Test(pmap, a_removal_takes_its_going_neighbours_along)
{
	pmap_t pm = pmap_create();
	struct host_mmu_stats m0, m1;
	struct host_trap_stats t0, t1;
	vaddr_t va = 0x40000;
	int i;

	for (i = 0; i < 8; i++) {
		enter_touch(pm, va + ptoa(i), VM_PROT_WRITE);
		*uaddr(pm, va + ptoa(i)) = 100 + (uint64_t)i;
	}
	for (i = 2; i <= 5; i++)
		pmap_page_going(PHYS_TO_VM_PAGE(ptoa(atop(va) + i)), true);
	remove_in_one_call(pm, va + ptoa(3), 3);	/* 2, 4 and 5 along */
	cr_assert_not(pmap_extract(pm, va + ptoa(3), NULL));
	for (i = 0; i < 8; i++)
		if (i != 3)
			cr_assert(pmap_extract(pm, va + ptoa(i), NULL),
			    "page %d lost its logical mapping", i);

	/* the unmarked neighbours are still open: no trap */
	host_trap_get_stats(&t0);
	(void)*uaddr(pm, va + ptoa(1));
	(void)*uaddr(pm, va + ptoa(6));
	host_trap_get_stats(&t1);
	cr_assert_eq(t1.ntraps, t0.ntraps);
	/* a marked one refaults through the pmap, its data intact */
	cr_assert_eq(*uaddr(pm, va + ptoa(4)), 104);
	host_trap_get_stats(&t1);
	cr_assert_eq(t1.nfixups, t0.nfixups + 1);
	/* page 5's own removal has nothing left to close */
	host_mmu_get_stats(&m0);
	pmap_page_protect(PHYS_TO_VM_PAGE(ptoa(atop(va) + 5)), VM_PROT_NONE);
	host_mmu_get_stats(&m1);
	cr_assert_eq(m1.nunmap, m0.nunmap);
	for (i = 2; i <= 5; i++)
		pmap_page_going(PHYS_TO_VM_PAGE(ptoa(atop(va) + i)), false);
	pmap_destroy(pm);
}

/*
 * A run goes on across neighbours with no host mapping (never mapped, or
 * closed already) to the going pages past them, and stops at the first
 * open page that is not going.
 */
Test(pmap, a_going_run_reaches_across_closed_neighbours)
{
	pmap_t pm = pmap_create();
	struct host_trap_stats t0, t1;
	vaddr_t va = 0x80000;
	/* 0 open, 1 going, 2 hole, 3 going, 4 closed but mapped, 5 going,
	   6 open, 7 going */
	static const int mapped[] = { 0, 1, 3, 4, 5, 6, 7 }, going[] = { 1, 3,
	    5, 7 };
	size_t i;

	for (i = 0; i < nitems(mapped); i++) {
		enter_touch(pm, va + ptoa(mapped[i]), VM_PROT_WRITE);
		*uaddr(pm, va + ptoa(mapped[i])) = 200 + (uint64_t)mapped[i];
	}
	pmap_collect(pm);	/* every host mapping closed... */
	for (i = 0; i < nitems(mapped); i++)	/* ...and all but 4's opened */
		if (mapped[i] != 4)
			cr_assert_eq(*uaddr(pm, va + ptoa(mapped[i])),
			    200 + (uint64_t)mapped[i]);
	for (i = 0; i < nitems(going); i++)
		pmap_page_going(PHYS_TO_VM_PAGE(ptoa(atop(va) + going[i])),
		    true);
	remove_in_one_call(pm, va + ptoa(3), 2);	/* 1 and 5, not 7 */
	host_trap_get_stats(&t0);
	(void)*uaddr(pm, va + ptoa(0));
	(void)*uaddr(pm, va + ptoa(6));
	(void)*uaddr(pm, va + ptoa(7));
	host_trap_get_stats(&t1);
	cr_assert_eq(t1.ntraps, t0.ntraps, "0, 6 and 7 still open");
	cr_assert_eq(*uaddr(pm, va + ptoa(5)), 205, "5 refaults, data intact");
	cr_assert_eq(*uaddr(pm, va + ptoa(4)), 204);
	host_trap_get_stats(&t1);
	cr_assert_eq(t1.nfixups, t0.nfixups + 2);
	for (i = 0; i < nitems(going); i++)
		pmap_page_going(PHYS_TO_VM_PAGE(ptoa(atop(va) + going[i])),
		    false);
	pmap_destroy(pm);
}

Test(pmap, collect_drops_host_mappings_keeps_data)
{
	pmap_t pm = pmap_create();
	struct host_mmu_stats a, b;
	int i;

	for (i = 0; i < 32; i++) {
		cr_assert_eq(pmap_enter(pm, ptoa(2 * i), ptoa(100 + i),
		    VM_PROT_READ | VM_PROT_WRITE, VM_PROT_WRITE), 0);
		*uaddr(pm, ptoa(2 * i)) = (uint64_t)i + 1;
	}
	host_mmu_get_stats(&a);
	pmap_collect(pm);
	host_mmu_get_stats(&b);
	cr_assert_eq(a.live - b.live, 32);
	cr_assert_eq(pmap_resident_count(pm), 32, "logical mappings stay");
	for (i = 0; i < 32; i++)
		cr_assert_eq(*uaddr(pm, ptoa(2 * i)), (uint64_t)i + 1);
	pmap_destroy(pm);
}

Test(pmap_boot, budget_too_large_for_max_map_count)
{
	struct host_mmu_config cfg = {
		.user_va_size = 64ull << 20,
		.kernel_va_size = 64ull << 20,
		.map_budget = 1L << 30,
		.mod_emulation = HOST_MOD_CONTENT,
		.close_mode = HOST_CLOSE_HOLE,
	};

	(void)host_thread_self();
	cr_assert_eq(host_arena_init(RAM), 0);
	cr_assert_eq(host_mmu_init(&cfg), EMLINK);
	cr_assert_not_null(strstr(host_mmu_error(), "max_map_count"));
	cr_assert_eq(host_mmu_init(&(struct host_mmu_config){ 4097, 1 << 20,
	    0, HOST_MOD_CONTENT, HOST_CLOSE_HOLE, 0 }), EINVAL);
	cr_assert_eq(host_mmu_init(&(struct host_mmu_config){ 1 << 20,
	    1 << 20, 0, (enum host_mod_emulation)7, HOST_CLOSE_HOLE, 0 }), EINVAL);
	cr_assert_not_null(strstr(host_mmu_error(), "emulation"));
	cr_assert_eq(host_mmu_init(&(struct host_mmu_config){ 1 << 20,
	    1 << 20, 0, HOST_MOD_CONTENT, (enum host_mmu_close)5, 0 }), EINVAL);
	cr_assert_not_null(strstr(host_mmu_error(), "close"));
}

struct fault_worker {
	pmap_t		pm;
	int		id;
	int		npages;
	int		bad;
};

static void *
fault_worker(void *arg)
{
	struct fault_worker *w = arg;
	vaddr_t base = ptoa(1000 * w->id);
	int i, round;

	for (round = 0; round < 3; round++)
		for (i = 0; i < w->npages; i++) {
			volatile uint64_t *p = uaddr(w->pm, base + ptoa(i));

			if (round > 0 && *p != (uint64_t)(w->id << 16 | i))
				w->bad++;
			*p = (uint64_t)(w->id << 16 | i);
		}
	return NULL;
}

Test(pmap, concurrent_faults_on_one_pmap)
{
	pmap_t pm = pmap_create();
	struct fault_worker w[4];
	pthread_t t[4];
	int i, j;

	atomic_store(&fh.nextpage, 64);
	host_set_fault_hook(record_and_map);
	for (i = 0; i < 4; i++) {
		w[i] = (struct fault_worker){ pm, i, 200, 0 };
		cr_assert_eq(host_thread_create(&t[i], "faulter", fault_worker,
		    &w[i]), 0);
	}
	for (i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	for (i = 0; i < 4; i++)
		cr_assert_eq(w[i].bad, 0);
	cr_assert_eq(atomic_load(&fh.n), 800, "one VM fault per page");
	cr_assert_eq(pmap_resident_count(pm), 800);
	/* every frame handed out was stored to */
	for (j = 64; j < 64 + 800; j++)
		cr_assert(pmap_is_modified(PHYS_TO_VM_PAGE(ptoa(j))),
		    "frame %d modified", j);
	pmap_destroy(pm);
}

/*
 * HOST_MOD_CONTENT: a load through a writable mapping of a page mapped
 * nowhere else opens it read-write with the page's checksum kept; the
 * content then says whether it was modified.
 */
static void
mmu_counts(uint64_t *nbaseline, uint64_t *nsumdirty)
{
	struct host_mmu_stats ms;

	host_mmu_get_stats(&ms);
	*nbaseline = ms.nbaseline;
	*nsumdirty = ms.nsumdirty;
}

static uint64_t
ntraps(void)
{
	struct host_trap_stats ts;

	host_trap_get_stats(&ts);
	return ts.ntraps;
}

Test(pmap, content_modified_store_after_load_is_seen_without_a_trap)
{
	pmap_t pm = pmap_create();
	paddr_t pa = ptoa(50);
	struct vm_page *pg = PHYS_TO_VM_PAGE(pa);
	uint64_t b0, d0, b1, d1, t;

	dmap(pa)[0] = 10;
	cr_assert_eq(pmap_enter(pm, 0x2000, pa, VM_PROT_READ | VM_PROT_WRITE,
	    0), 0);
	mmu_counts(&b0, &d0);
	cr_assert_eq(*uaddr(pm, 0x2000), 10);
	mmu_counts(&b1, &d1);
	cr_assert_eq(b1, b0 + 1, "the load took a baseline");
	cr_assert_not(pmap_is_modified(pg), "a load leaves it clean");
	t = ntraps();
	*uaddr(pm, 0x2000) = 11;
	cr_assert_eq(ntraps(), t, "the store did not trap");
	cr_assert(pmap_is_modified(pg), "the content tells the store");
	mmu_counts(&b1, &d1);
	cr_assert_eq(d1, d0 + 1);
	cr_assert(pmap_is_modified(pg), "and it stays modified");

	/* a store of what was there is no modification */
	cr_assert(pmap_clear_modify(pg));
	(void)pmap_clear_reference(pg);	/* so that the load traps */
	cr_assert_eq(*uaddr(pm, 0x2000), 11);
	t = ntraps();
	*uaddr(pm, 0x2000) = 11;
	cr_assert_eq(ntraps(), t);
	cr_assert_not(pmap_is_modified(pg), "same content: clean");
	cr_assert_not(pmap_clear_modify(pg));
	pmap_destroy(pm);
}

Test(pmap, content_clear_modify_closes_the_mapping_to_stores)
{
	pmap_t pm = pmap_create();
	paddr_t pa = ptoa(51);
	struct vm_page *pg = PHYS_TO_VM_PAGE(pa);
	struct host_trap_stats before, after;

	cr_assert_eq(pmap_enter(pm, 0x3000, pa, VM_PROT_READ | VM_PROT_WRITE,
	    VM_PROT_READ), 0);
	*uaddr(pm, 0x3000) = 5;		/* opened by the enter's load */
	cr_assert(pmap_clear_modify(pg), "the store before the clear counts");
	cr_assert_not(pmap_is_modified(pg));
	host_trap_get_stats(&before);
	(void)*uaddr(pm, 0x3000);
	host_trap_get_stats(&after);
	cr_assert_eq(after.ntraps, before.ntraps, "still readable");
	*uaddr(pm, 0x3000) = 6;
	host_trap_get_stats(&after);
	cr_assert_eq(after.nfixups, before.nfixups + 1,
	    "the next store traps: the baseline went with the clear");
	cr_assert(pmap_is_modified(pg));
	cr_assert_eq(dmap(pa)[0], 6);
	pmap_destroy(pm);
}

Test(pmap, content_shared_page_gets_no_baseline)
{
	pmap_t a = pmap_create(), b = pmap_create();
	paddr_t pa = ptoa(52);
	struct vm_page *pg = PHYS_TO_VM_PAGE(pa);
	vm_prot_t rw = VM_PROT_READ | VM_PROT_WRITE;
	uint64_t b0, d0, b1, d1, t;

	cr_assert_eq(pmap_enter(a, 0x1000, pa, rw, 0), 0);
	cr_assert_eq(pmap_enter(b, 0x1000, pa, rw, 0), 0);
	mmu_counts(&b0, &d0);
	(void)*uaddr(a, 0x1000);
	(void)*uaddr(b, 0x1000);
	mmu_counts(&b1, &d1);
	cr_assert_eq(b1, b0, "two mappings: no baseline");
	t = ntraps();
	*uaddr(b, 0x1000) = 9;
	cr_assert_eq(ntraps(), t + 1, "so the store traps");
	cr_assert(pmap_is_modified(pg));
	cr_assert_eq(*uaddr(a, 0x1000), 9);
	pmap_destroy(a);
	pmap_destroy(b);
}

Test(pmap, content_page_protect_read_closes_stores)
{
	pmap_t pm = pmap_create();
	paddr_t pa = ptoa(53);
	struct vm_page *pg = PHYS_TO_VM_PAGE(pa);
	struct touch_arg ta = { pm, 0x4000, true, false };
	struct host_user_fault uf;

	fh.refuse = EACCES;
	host_set_fault_hook(record_and_map);
	cr_assert_eq(pmap_enter(pm, 0x4000, pa, VM_PROT_READ | VM_PROT_WRITE,
	    VM_PROT_READ), 0);
	cr_assert_not(pmap_is_modified(pg));
	pmap_page_protect(pg, VM_PROT_READ);	/* as for a pageout */
	cr_assert_eq(host_user_call(touch_fn, &ta, &uf), EFAULT,
	    "a store to a page in I/O goes to the VM");
	cr_assert_not(pmap_is_modified(pg), "and changes nothing");
	pmap_destroy(pm);
}

/*
 * A store racing pmap_clear_modify is never lost: once the writer has
 * finished two touches since the clear returned (the second began after
 * it), pmap_is_modified must say so.  Each touch loads then stores, and
 * the clear of the referenced bit makes its load trap.  Every other
 * round the writer holds still for the clears, so that its next load
 * takes a new baseline and its store goes through without a trap; in
 * the others it races them.
 */
struct mod_racer {
	pmap_t		pm;
	atomic_bool	stop;
	atomic_bool	hold;		/* asked to hold still */
	atomic_bool	holding;
	atomic_ulong	touches;	/* published after each store */
};
#define RACER_VA	0x8000
#define RACER_PA	ptoa(54)
#define RACER_ROUNDS	5000

/* The racer's page comes back where the test took it away. */
static int
remap_racer(pmap_t pm, vaddr_t va, vm_prot_t access, bool valid __unused)
{
	cr_assert_eq(va, RACER_VA);
	return pmap_enter(pm, va, RACER_PA, VM_PROT_READ | VM_PROT_WRITE,
	    access);
}

static void *
mod_racer(void *arg)
{
	struct mod_racer *r = arg;
	volatile uint64_t *p = uaddr(r->pm, RACER_VA);

	while (!atomic_load_explicit(&r->stop, memory_order_relaxed)) {
		uint64_t v;

		if (atomic_load(&r->hold)) {
			atomic_store(&r->holding, true);
			while (atomic_load(&r->hold))
				sched_yield();	/* the CPU may be shared */
			atomic_store(&r->holding, false);
		}
		v = *p;
		*p = v + 1;
		atomic_fetch_add_explicit(&r->touches, 1, memory_order_release);
		sched_yield();	/* the tester may be waiting on this CPU */
	}
	return NULL;
}

Test(pmap, content_modified_bit_loses_no_racing_store)
{
	struct mod_racer r = { .pm = pmap_create() };
	struct vm_page *pg = PHYS_TO_VM_PAGE(RACER_PA);
	uint64_t b0, d0, b1, d1;
	unsigned long t1, spins;
	pthread_t t;
	int i;

	host_set_fault_hook(remap_racer);
	cr_assert_eq(pmap_enter(r.pm, RACER_VA, RACER_PA, VM_PROT_READ |
	    VM_PROT_WRITE, 0), 0);
	mmu_counts(&b0, &d0);
	cr_assert_eq(host_thread_create(&t, "racer", mod_racer, &r), 0);
	for (i = 0; i < RACER_ROUNDS; i++) {
		if (i % 2 == 0) {
			while (atomic_load(&r.holding))
				sched_yield();	/* out of the last hold */
			atomic_store(&r.hold, true);
			while (!atomic_load(&r.holding))
				sched_yield();
		}
		(void)pmap_clear_modify(pg);
		(void)pmap_clear_reference(pg);
		if (i % 64 == 0)	/* now and then, a removal */
			pmap_page_protect(pg, VM_PROT_NONE);
		t1 = atomic_load_explicit(&r.touches, memory_order_acquire);
		atomic_store(&r.hold, false);
		for (spins = 0; atomic_load_explicit(&r.touches,
		    memory_order_acquire) < t1 + 2; spins++) {
			cr_assert_lt(spins, 1ul << 26, "the writer is stuck");
			sched_yield();
		}
		cr_assert(pmap_is_modified(pg), "round %d: a store after the "
		    "clear went unseen", i);
	}
	atomic_store(&r.stop, true);
	pthread_join(t, NULL);
	mmu_counts(&b1, &d1);
	cr_assert_geq(b1 - b0, RACER_ROUNDS / 2, "the stores went through "
	    "baselines (%llu)", (unsigned long long)(b1 - b0));
	cr_assert_eq(*(volatile uint64_t *)dmap(RACER_PA), atomic_load(
	    &r.touches), "every store landed once");
	pmap_destroy(r.pm);
}

/*
 * An eviction reads the dirty bits of the pages it closes (as x86 takes
 * PG_M from a PTE it removes): the stores through baselines are modified
 * before the pagedaemon asks, and its pmap_is_modified reads no page.
 */
Test(pmap_boot, eviction_harvests_modified_by_content)
{
	struct host_mmu_stats st0, st1, st2;
	pmap_t pm;
	int i, npages = 1000;

	boot(300);
	pm = pmap_create();
	host_mmu_get_stats(&st0);
	for (i = 0; i < npages; i++) {
		enter_touch(pm, ptoa(i), VM_PROT_READ);
		if (i % 2 == 0)		/* the odd ones are only loaded */
			*uaddr(pm, ptoa(i)) = (uint64_t)i + 7;
	}
	host_mmu_get_stats(&st1);
	cr_assert_eq(st1.nbaseline - st0.nbaseline, (uint64_t)npages);
	cr_assert_gt(st1.nsumdirty - st0.nsumdirty, (uint64_t)npages / 2 - 200,
	    "evictions found the stores");
	for (i = 0; i < 500; i += 2)	/* long evicted */
		cr_assert(pmap_is_modified(PHYS_TO_VM_PAGE(ptoa(i))));
	host_mmu_get_stats(&st2);
	cr_assert_eq(st2.nsumcheck, st1.nsumcheck, "no page read again");
	for (i = 1; i < npages; i += 2)
		cr_assert_not(pmap_is_modified(PHYS_TO_VM_PAGE(ptoa(i))));
	pmap_destroy(pm);
}

/*
 * A streak of trapping accesses going up through the address space opens
 * the mappings entered just ahead of it at once (referenced, and
 * read-write on a baseline): their touches do not trap.  Entries behind
 * the streak, beyond its reach, or after it breaks stay closed.
 */
Test(pmap, a_walk_opens_the_mappings_ahead_of_it)
{
	pmap_t pm = pmap_create();
	struct host_mmu_stats st0, st1;
	uint64_t t;
	int i;

	host_mmu_get_stats(&st0);
	/* entered untouched, then touched in order: each load traps */
	for (i = 100; i < 110; i++)
		enter_touch(pm, ptoa(i), 0);
	t = ntraps();
	for (i = 100; i < 110; i++)
		(void)*uaddr(pm, ptoa(i));
	cr_assert_eq(ntraps(), t + 10, "entered before a streak: each traps");

	/* the streak has 8 steps now: entries just ahead open */
	for (i = 110; i < 110 + 32; i++)
		enter_touch(pm, ptoa(i), 0);
	enter_touch(pm, ptoa(110 + 32), 0);	/* beyond its reach */
	enter_touch(pm, ptoa(90), 0);		/* behind it */
	cr_assert(pmap_is_referenced(PHYS_TO_VM_PAGE(ptoa(110))));
	cr_assert(pmap_is_referenced(PHYS_TO_VM_PAGE(ptoa(141))));
	cr_assert_not(pmap_is_referenced(PHYS_TO_VM_PAGE(ptoa(142))));
	cr_assert_not(pmap_is_referenced(PHYS_TO_VM_PAGE(ptoa(90))));
	t = ntraps();
	for (i = 110; i < 110 + 32; i++) {
		(void)*uaddr(pm, ptoa(i));
		*uaddr(pm, ptoa(i)) = (uint64_t)i;
	}
	cr_assert_eq(ntraps(), t, "the opened pages were touched freely");
	for (i = 110; i < 110 + 32; i++)
		cr_assert(pmap_is_modified(PHYS_TO_VM_PAGE(ptoa(i))),
		    "page %d: its store is seen by content", i);
	host_mmu_get_stats(&st1);
	cr_assert_eq(st1.nwalk - st0.nwalk, 32);

	/* a jump breaks the streak: entries ahead of it stay closed */
	(void)*uaddr(pm, ptoa(90));
	enter_touch(pm, ptoa(91), 0);
	cr_assert_not(pmap_is_referenced(PHYS_TO_VM_PAGE(ptoa(91))));
	t = ntraps();
	(void)*uaddr(pm, ptoa(91));
	cr_assert_eq(ntraps(), t + 1);
	pmap_destroy(pm);
}

/* Wired entries and entries without read access are never opened ahead. */
Test(pmap, a_walk_opens_no_wired_or_unreadable_entry)
{
	pmap_t pm = pmap_create();
	struct host_mmu_stats st0, st1;
	int i;

	for (i = 0; i < 10; i++)
		enter_touch(pm, ptoa(200 + i), VM_PROT_READ);
	host_mmu_get_stats(&st0);
	cr_assert_eq(pmap_enter(pm, ptoa(210), ptoa(210), VM_PROT_READ |
	    VM_PROT_WRITE, PMAP_WIRED), 0);
	cr_assert_eq(pmap_enter(pm, ptoa(211), ptoa(211), VM_PROT_NONE, 0), 0);
	host_mmu_get_stats(&st1);
	cr_assert_eq(st1.nwalk, st0.nwalk);
	cr_assert_not(pmap_is_referenced(PHYS_TO_VM_PAGE(ptoa(211))));
	enter_touch(pm, ptoa(212), 0);
	host_mmu_get_stats(&st1);
	cr_assert_eq(st1.nwalk, st0.nwalk + 1, "but a plain one is");
	pmap_destroy(pm);
}

/*
 * The mappings opened ahead of a walk wait for pmap_update (or the next
 * enter with an access), then go in one host call for each run of
 * consecutive pages in consecutive frames; one that changed or went
 * meanwhile opens as its PTE allows now, or not at all.
 */
Test(pmap, openings_ahead_go_in_runs_at_pmap_update)
{
	pmap_t pm = pmap_create();
	struct host_mmu_stats st0, st1;
	uint64_t t;
	int i;

	for (i = 100; i < 110; i++)		/* a streak */
		enter_touch(pm, ptoa(i), VM_PROT_READ);
	host_mmu_get_stats(&st0);
	for (i = 110; i < 118; i++)		/* frames in step */
		enter_touch(pm, ptoa(i), 0);
	cr_assert_eq(pmap_enter(pm, ptoa(118), ptoa(300), VM_PROT_READ |
	    VM_PROT_WRITE, 0), 0);		/* a frame out of step */
	enter_touch(pm, ptoa(119), 0);		/* removed before the update */
	pmap_remove(pm, ptoa(119), ptoa(120));
	host_mmu_get_stats(&st1);
	cr_assert_eq(st1.nmap, st0.nmap, "nothing opened before the update");
	cr_assert_eq(st1.nwalk - st0.nwalk, 10);
	pmap_update(pm);
	host_mmu_get_stats(&st1);
	cr_assert_eq(st1.nmap - st0.nmap, 2, "one call for 110..117, one "
	    "for 118 (%llu)", (unsigned long long)(st1.nmap - st0.nmap));
	cr_assert_eq(st1.nmaprun - st0.nmaprun, 8);
	cr_assert_not(pmap_extract(pm, ptoa(119), NULL));
	t = ntraps();
	for (i = 110; i < 119; i++)
		*uaddr(pm, ptoa(i)) = (uint64_t)i;
	cr_assert_eq(ntraps(), t, "all open, read-write on baselines");
	for (i = 110; i < 118; i++)
		cr_assert_eq(dmap(ptoa(i))[0], (uint64_t)i);
	cr_assert_eq(dmap(ptoa(300))[0], 118);
	cr_assert(pmap_is_modified(PHYS_TO_VM_PAGE(ptoa(300))));
	pmap_destroy(pm);
}

/*
 * The host-mapping budget is the machine's: address spaces share it, so
 * their count does not multiply it (64 pmaps each opening 50 mappings
 * under a budget of 300 once took the process to 3200 host mappings:
 * each pmap evicted only its own, and a pmap with few had none to give).
 */
Test(pmap_boot, many_pmaps_share_one_budget)
{
	static pmap_t pm[64];
	struct host_mmu_stats st;
	int n, i;

	boot(300);
	for (n = 0; n < (int)nitems(pm); n++) {
		pm[n] = pmap_create();
		for (i = 0; i < 50; i++)
			cr_assert_eq(pmap_enter(pm[n], ptoa(2 * i),
			    ptoa((n * 50 + i) % 4000), VM_PROT_READ |
			    VM_PROT_WRITE, VM_PROT_READ | VM_PROT_WRITE), 0);
	}
	host_mmu_get_stats(&st);
	cr_assert_leq(st.live, 300, "%ld host mappings live", st.live);
	cr_assert_leq(st.peak, 300 + 2 * 64, "peak %ld", st.peak);
	cr_assert_gt(st.nevict, (uint64_t)(64 * 50 - 300));
	/* every evicted mapping refaults through the pmap, data intact */
	for (n = 0; n < (int)nitems(pm); n++) {
		for (i = 0; i < 50; i++)
			*uaddr(pm[n], ptoa(2 * i)) = (uint64_t)(n << 8 | i);
	}
	for (n = 0; n < (int)nitems(pm); n++) {
		for (i = 0; i < 50; i++)
			cr_assert_eq(*uaddr(pm[n], ptoa(2 * i)),
			    (uint64_t)(n << 8 | i));
	}
	host_mmu_get_stats(&st);
	cr_assert_leq(st.live, 300);
	for (n = 0; n < (int)nitems(pm); n++)
		pmap_destroy(pm[n]);
	host_mmu_get_stats(&st);
	cr_assert_eq(st.live, 0);
}

/*
 * A pmap that opens mappings past the budget takes them from the one
 * holding more than its share (budget / pmaps), not from itself: the
 * second address space keeps its 100 (they do not trap again), the
 * first gives up what it held above its share.
 */
Test(pmap_boot, a_pmap_takes_its_share_from_the_others)
{
	struct host_mmu_stats st0, st;
	pmap_t a, b;
	uint64_t t;
	int i;

	boot(300);
	a = pmap_create();
	b = pmap_create();
	for (i = 0; i < 300; i++)
		cr_assert_eq(pmap_enter(a, ptoa(2 * i), ptoa(i), VM_PROT_READ |
		    VM_PROT_WRITE, VM_PROT_READ | VM_PROT_WRITE), 0);
	host_mmu_get_stats(&st0);
	for (i = 0; i < 100; i++)
		cr_assert_eq(pmap_enter(b, ptoa(2 * i), ptoa(1000 + i),
		    VM_PROT_READ | VM_PROT_WRITE, VM_PROT_READ | VM_PROT_WRITE),
		    0);
	host_mmu_get_stats(&st);
	cr_assert_leq(st.live, 300);
	cr_assert_geq(st.nevict - st0.nevict, 100, "a gave back %llu",
	    (unsigned long long)(st.nevict - st0.nevict));
	t = ntraps();
	for (i = 0; i < 100; i++)
		*uaddr(b, ptoa(2 * i)) = (uint64_t)i;
	cr_assert_eq(ntraps(), t, "b lost %llu of its mappings",
	    (unsigned long long)(ntraps() - t));
	pmap_destroy(b);
	pmap_destroy(a);
}

/* The limit hook of the test below: the message must name the limit. */
static void
limit_named(const char *msg)
{
	_exit(strstr(msg, "vm.max_map_count is") != NULL ? 3 : 4);
}

/*
 * The host refusing a mapping at vm.max_map_count (here the process's
 * other mappings used it up) is a host limit, exit 3 with the limit
 * named, not a panic of the VM.
 */
Test(pmap, a_host_refusal_at_max_map_count_is_a_host_limit, .exit_code = 3)
{
	struct host_mmu_stats st;
	pmap_t pm = pmap_create();
	char *p;
	long i, n;

	host_mmu_get_stats(&st);
	if (st.max_map_count <= 0 || st.max_map_count > 300000)
		cr_skip_test("vm.max_map_count is %ld", st.max_map_count);
	n = st.max_map_count;
	p = mmap(NULL, (size_t)n * 2 * PAGE_SIZE, PROT_READ, MAP_PRIVATE |
	    MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	cr_assert_neq(p, MAP_FAILED);
	/* every other page PROT_NONE: a host mapping each, until refused */
	for (i = 0; i < n; i++)
		if (mprotect(p + 2 * i * PAGE_SIZE, PAGE_SIZE, PROT_NONE) != 0)
			break;
	cr_assert_eq(errno, ENOMEM, "mprotect: errno %d", errno);
	host_set_limit_hook(limit_named);
	for (i = 0; i < 16; i++)
		enter_touch(pm, ptoa(2 * i), VM_PROT_READ | VM_PROT_WRITE);
	cr_assert_fail("16 isolated host mappings past vm.max_map_count");
}
