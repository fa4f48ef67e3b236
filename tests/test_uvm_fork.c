/*
 * tests/test_uvm_fork.c: address spaces across fork (vm/uvm_map.c
 * uvmspace_fork/share/unshare/exec, vm/uvm_amap.c amap_cow_now): each
 * inheritance value, copy-on-write isolation both ways, wired entries
 * copied at once, an amap shared with a third process, fork while the
 * parent's pages are being paged out, exit while a child still shares
 * the anons, vfork sharing and exec.
 *
 * Each test boots its own machine; the pageout test starts the daemons
 * and quiesces the pagedaemon so that only the test scans.
 */
#include <criterion/criterion.h>
#include <unistd.h>

#include "host/disk.h"
#include "host/failpoint.h"
#include "host/lwp.h"
#include "host/pmap.h"
#include "tests/vmtest.h"
#include "vm/uvm_amap.h"
#include "vm/uvm_anon.h"
#include "vm/uvm_map.h"
#include "vm/uvm_mmap.h"
#include "vm/uvm_pdaemon.h"

#define VA	((vaddr_t)0x400000)
#define RW	(VM_PROT_READ | VM_PROT_WRITE)
#define page_at(vm, va)	vmtest_page_at((vm)->vm_map.pmap, (va))
#define peek		vmtest_peek
#define poke		vmtest_poke

/* local prototypes */
static void fork_init(void);
static void fork_init_bare(void);
static void fork_fini(void);
static struct vmspace *newvm(int npages);
static void poke_pages(struct vmspace *vm, int npages, uint64_t base);
static void check_pages(struct vmspace *vm, int npages, uint64_t base);
static struct vm_map_entry *entry_at(struct vmspace *vm, vaddr_t va);
static struct proc *newproc(struct vmspace *vm);

TestSuite(uvm_fork, .init = fork_init, .fini = fork_fini, .timeout = 120);
TestSuite(uvm_fork_pageout, .init = fork_init_bare, .fini = fork_fini,
    .timeout = 120);

static void
fork_init(void)
{
	alarm(120);
	vmtest_boot();
}

/* The test boots its own machine (with swap and the daemons). */
static void
fork_init_bare(void)
{
	alarm(120);
	(void)host_thread_self();
}

static void
fork_fini(void)
{
	host_set_sched_hook(NULL);
	if (uvm_pdaemon_running())
		uvm_pdaemon_stop();
	vmtest_shutdown();
}

/* A new address space with npages of private anonymous memory at VA. */
static struct vmspace *
newvm(int npages)
{
	struct vmspace *vm = uvmspace_alloc(PAGE_SIZE, VM_MAXUSER_ADDRESS,
	    true);
	vaddr_t va = VA;

	cr_assert_not_null(vm);
	cr_assert_eq(uvm_mmap_anon(&vm->vm_map, &va, ptoa(npages), RW,
	    UVM_MMAP_FIXED), 0);
	return vm;
}

/* Write base + i into the first word of page i, for npages pages. */
static void
poke_pages(struct vmspace *vm, int npages, uint64_t base)
{
	int i;

	for (i = 0; i < npages; i++)
		poke(vm, VA + ptoa(i), base + (uint64_t)i);
}

static void
check_pages(struct vmspace *vm, int npages, uint64_t base)
{
	int i;

	for (i = 0; i < npages; i++)
		cr_assert_eq(peek(vm, VA + ptoa(i)), base + (uint64_t)i,
		    "page %d of vmspace %p: %#lx, expected %#lx", i,
		    (void *)vm, (unsigned long)peek(vm, VA + ptoa(i)),
		    (unsigned long)(base + (uint64_t)i));
}

static struct vm_map_entry *
entry_at(struct vmspace *vm, vaddr_t va)
{
	struct vm_map_entry *entry;

	vm_map_lock_read(&vm->vm_map);
	cr_assert(uvm_map_lookup_entry(&vm->vm_map, va, &entry));
	vm_map_unlock_read(&vm->vm_map);
	return entry;
}

static struct proc *
newproc(struct vmspace *vm)
{
	struct proc *p;

	cr_assert_eq(proc_create("forktest", &p), 0);
	p->p_vmspace = vm;
	return p;
}

/* COPY (the default of private memory): each side sees its own writes. */
Test(uvm_fork, copy_inheritance_isolates_both_ways)
{
	struct vmspace *parent = newvm(8), *child;
	int anons, acow, prcopy;

	poke_pages(parent, 8, 0x1000);
	anons = uvm_anon_count();
	child = uvmspace_fork(parent);
	cr_assert_not_null(child);
	cr_assert(UVM_ET_ISNEEDSCOPY(entry_at(parent, VA)), "parent deferred");
	cr_assert(UVM_ET_ISNEEDSCOPY(entry_at(child, VA)), "child deferred");
	cr_assert_eq(uvm_anon_count(), anons, "no anon copied at fork");

	check_pages(child, 8, 0x1000);
	cr_assert_eq(page_at(child, VA), page_at(parent, VA),
	    "a read shares the page");
	acow = uvmexp_read(flt_acow);
	prcopy = uvmexp_read(flt_prcopy);
	poke_pages(child, 4, 0x2000);			/* pages 0-3 */
	cr_assert_eq(uvmexp_read(flt_acow), acow + 4, "copied on write");
	cr_assert_eq(uvmexp_read(flt_prcopy), prcopy,
	    "an anon's copy is no object promotion (flt_prcopy)");
	cr_assert_neq(page_at(child, VA), page_at(parent, VA));
	check_pages(parent, 8, 0x1000);			/* parent untouched */

	poke(parent, VA + ptoa(6), 0x3006);		/* parent's own write */
	cr_assert_eq(peek(child, VA + ptoa(6)), 0x1006, "child untouched");
	cr_assert_eq(peek(parent, VA + ptoa(6)), 0x3006);

	uvmspace_free(child);
	check_pages(parent, 6, 0x1000);
	uvmspace_free(parent);
	cr_assert_eq(uvm_anon_count(), 0, "every anon freed");
}

/* A second fork of a parent already needs-copy: three isolated views. */
Test(uvm_fork, forking_twice_keeps_three_views)
{
	struct vmspace *p = newvm(4), *c1, *c2;

	poke_pages(p, 4, 0x100);
	c1 = uvmspace_fork(p);
	c2 = uvmspace_fork(p);
	poke_pages(c1, 4, 0x200);
	poke_pages(c2, 4, 0x300);
	check_pages(p, 4, 0x100);
	poke_pages(p, 4, 0x400);
	check_pages(c1, 4, 0x200);
	check_pages(c2, 4, 0x300);
	check_pages(p, 4, 0x400);
	uvmspace_free(p);
	check_pages(c1, 4, 0x200);
	uvmspace_free(c2);
	uvmspace_free(c1);
	cr_assert_eq(uvm_anon_count(), 0);
}

/* SHARE: one amap for both; an untouched parent entry gets one first. */
Test(uvm_fork, share_inheritance_is_seen_by_both)
{
	struct vmspace *p = newvm(4), *c;

	cr_assert_eq(uvm_map_inherit(&p->vm_map, VA, VA + ptoa(4),
	    MAP_INHERIT_SHARE), 0);
	cr_assert_null(entry_at(p, VA)->aref.ar_amap, "never touched");
	c = uvmspace_fork(p);
	cr_assert_not_null(entry_at(p, VA)->aref.ar_amap, "amap made to share");
	cr_assert_eq(entry_at(c, VA)->aref.ar_amap, entry_at(p, VA)->aref.ar_amap);
	cr_assert(amap_flags(entry_at(p, VA)->aref.ar_amap) & AMAP_SHARED);
	poke(c, VA, 0xc0);
	cr_assert_eq(peek(p, VA), 0xc0, "parent sees the child's write");
	poke(p, VA + PAGE_SIZE, 0xd0);
	cr_assert_eq(peek(c, VA + PAGE_SIZE), 0xd0, "and the child the parent's");
	uvmspace_free(p);
	cr_assert_eq(peek(c, VA), 0xc0, "the survivor keeps the memory");
	uvmspace_free(c);
	cr_assert_eq(uvm_anon_count(), 0);
}

/* MAP_SHARED|MAP_ANON is an aobj, inherited shared by default. */
Test(uvm_fork, shared_anonymous_memory_is_seen_by_both)
{
	struct vmspace *p = uvmspace_alloc(PAGE_SIZE, VM_MAXUSER_ADDRESS, true);
	struct vmspace *c;
	vaddr_t va = VA;

	cr_assert_eq(uvm_mmap_anon(&p->vm_map, &va, ptoa(2), RW,
	    UVM_MMAP_FIXED | UVM_MMAP_SHARED), 0);
	poke(p, VA, 1);
	c = uvmspace_fork(p);
	cr_assert_eq(entry_at(c, VA)->object.uvm_obj,
	    entry_at(p, VA)->object.uvm_obj);
	poke(c, VA, 2);
	cr_assert_eq(peek(p, VA), 2);
	cr_assert_eq(page_at(p, VA), page_at(c, VA), "one page");
	uvmspace_free(c);
	uvmspace_free(p);
}

/* NONE: nothing there in the child; the parent keeps its memory. */
Test(uvm_fork, none_inheritance_leaves_a_hole)
{
	struct vmspace *p = newvm(2), *c;
	uint64_t v = 0;

	poke(p, VA, 7);
	cr_assert_eq(uvm_map_inherit(&p->vm_map, VA, VA + ptoa(2),
	    MAP_INHERIT_NONE), 0);
	c = uvmspace_fork(p);
	cr_assert_eq(c->vm_map.nentries, 0);
	cr_assert_eq(user_access(c, VA, false, &v), EFAULT, "unmapped");
	cr_assert_eq(peek(p, VA), 7);
	uvmspace_free(c);
	uvmspace_free(p);
}

/* ZERO (OpenBSD): the child gets fresh zero-fill memory. */
Test(uvm_fork, zero_inheritance_gives_zero_pages)
{
	struct vmspace *p = newvm(2), *c;

	poke(p, VA, 7);
	cr_assert_eq(uvm_map_inherit(&p->vm_map, VA, VA + ptoa(2),
	    MAP_INHERIT_ZERO), 0);
	c = uvmspace_fork(p);
	cr_assert_null(entry_at(c, VA)->aref.ar_amap);
	cr_assert_eq(peek(c, VA), 0, "zero-filled");
	poke(c, VA, 9);
	cr_assert_eq(peek(p, VA), 7, "the parent keeps its page");
	cr_assert_eq(uvm_map_inherit(&p->vm_map, VA, VA + ptoa(2), 17),
	    EINVAL);
	uvmspace_free(c);
	uvmspace_free(p);
}

/*
 * A wired parent entry must never fault, so it cannot be write-protected:
 * the child copies every page at fork (amap_cow_now), the parent keeps
 * writing through its wired mappings.
 */
Test(uvm_fork, wired_entry_is_copied_at_fork)
{
	struct vmspace *p = newvm(4), *c;
	struct vm_page *pg[4];
	int anons, acow, i;

	poke_pages(p, 4, 0x50);
	cr_assert_eq(uvm_mlock(&p->vm_map, VA, ptoa(4)), 0);
	for (i = 0; i < 4; i++)
		pg[i] = page_at(p, VA + ptoa(i));
	anons = uvm_anon_count();
	c = uvmspace_fork(p);
	cr_assert_eq(uvm_anon_count(), anons + 4, "four anons copied now");
	cr_assert_not(UVM_ET_ISNEEDSCOPY(entry_at(p, VA)), "parent not deferred");
	cr_assert_eq(entry_at(c, VA)->wired_count, 0, "child not wired");
	for (i = 0; i < 4; i++)
		cr_assert(pmap_is_wired(p->vm_map.pmap, VA + ptoa(i),
		    VM_PAGE_TO_PHYS(pg[i])), "parent page %d still wired", i);

	acow = uvmexp_read(flt_acow);
	poke_pages(p, 4, 0x60);
	cr_assert_eq(uvmexp_read(flt_acow), acow, "no COW in the parent");
	for (i = 0; i < 4; i++)
		cr_assert_eq(page_at(p, VA + ptoa(i)), pg[i]);
	check_pages(c, 4, 0x50);
	poke_pages(c, 4, 0x70);
	cr_assert_eq(uvmexp_read(flt_acow), acow, "nor in the child");
	check_pages(p, 4, 0x60);
	uvmspace_free(c);
	uvmspace_free(p);
	cr_assert_eq(uvm_anon_count(), 0);
}

/*
 * No memory for a wired entry's copies: the fork fails (NULL: ENOMEM to the
 * forker; NetBSD would sleep with the maps locked, which uvm_wait may not
 * do here), leaving nothing behind and the parent as it was.
 */
Test(uvm_fork, wired_copy_without_memory_fails_the_fork)
{
	struct vmspace *p = newvm(16), *c;
	int anons, i, failed = 0, made = 0;

	poke_pages(p, 16, 0x900);
	cr_assert_eq(uvm_mlock(&p->vm_map, VA, ptoa(16)), 0);
	anons = uvm_anon_count();
	host_fail_alloc_set(HOST_FAIL_ALLOC_MAX, 7);
	for (i = 0; i < 20; i++) {
		if ((c = uvmspace_fork(p)) == NULL) {
			failed++;
			continue;
		}
		made++;
		uvmspace_free(c);
	}
	host_fail_alloc_set(0, 0);
	cr_assert_gt(failed, 0, "20 forks at 20%% failed allocations all "
	    "copied 16 pages");
	cr_assert_eq(uvm_anon_count(), anons, "a failed fork left anons (%d "
	    "made, %d failed)", made, failed);
	cr_assert_eq(amap_count(), 1, "only the parent's amap is left");
	check_pages(p, 16, 0x900);
	c = uvmspace_fork(p);
	cr_assert_not_null(c, "with memory again, the fork works");
	check_pages(c, 16, 0x900);
	uvmspace_free(c);
	uvmspace_free(p);
}

/*
 * A parent whose amap it shares (inherit share) with one child forks a
 * second with COPY: the second copies the amap at once (the parent may not
 * take a private copy at its next write without leaving the first).
 */
Test(uvm_fork, copy_of_a_shared_amap_is_taken_at_fork)
{
	struct vmspace *p = newvm(2), *c1, *c2;

	cr_assert_eq(uvm_map_inherit(&p->vm_map, VA, VA + ptoa(2),
	    MAP_INHERIT_SHARE), 0);
	poke(p, VA, 1);
	c1 = uvmspace_fork(p);
	cr_assert_eq(uvm_map_inherit(&p->vm_map, VA, VA + ptoa(2),
	    MAP_INHERIT_COPY), 0);
	c2 = uvmspace_fork(p);
	cr_assert_neq(entry_at(c2, VA)->aref.ar_amap,
	    entry_at(p, VA)->aref.ar_amap, "c2 has its own amap");
	cr_assert_not(UVM_ET_ISNEEDSCOPY(entry_at(c2, VA)));
	cr_assert_eq(peek(c2, VA), 1);
	poke(c1, VA, 2);
	cr_assert_eq(peek(c2, VA), 1, "c2 isolated from the sharers");
	poke(c2, VA, 3);
	cr_assert_eq(peek(c1, VA), 2);
	uvmspace_free(c2);
	uvmspace_free(c1);
	uvmspace_free(p);
	cr_assert_eq(uvm_anon_count(), 0);
}

/* The parent exits first: the child keeps the anons it shared. */
Test(uvm_fork, exit_while_a_child_shares_the_anons)
{
	struct vmspace *p = newvm(8), *c;

	poke_pages(p, 8, 0x900);
	c = uvmspace_fork(p);
	poke(c, VA, 0xa00);
	uvmspace_free(p);
	cr_assert_eq(uvm_anon_count(), 8,
	    "7 the child inherited, 1 its copy of page 0");
	check_pages(c, 1, 0xa00);
	cr_assert_eq(peek(c, VA + ptoa(5)), 0x905);
	poke(c, VA + ptoa(5), 0xa05);	/* the only reference: no copy */
	cr_assert_eq(uvm_anon_count(), 8, "an anon of one reference is reused");
	uvmspace_free(c);
	cr_assert_eq(uvm_anon_count(), 0);
}

/*
 * Fork while the parent's pages are being paged out (busy, in flight):
 * the child shares the anons; when the writes complete both read the
 * data back from swap, and a write on either side is its own.
 */
Test(uvm_fork_pageout, fork_while_the_parents_pages_are_paged_out)
{
	struct vmspace *p, *c;
	struct vm_page *pg;
	int n = 4, i;

	vmtest_boot_ram(16ull << 20);
	cr_assert_eq(uvm_swap_attach(NULL, 256, HOST_DISK_BUFFERED), 0, "%s",
	    uvm_swap_error());
	cr_assert_eq(uvm_pdaemon_start(), 0);
	uvm_pdaemon_quiesce();

	p = newvm(n);
	poke_pages(p, n, 0x7000);
	for (i = 0; i < n; i++) {
		pg = page_at(p, VA + ptoa(i));
		rw_enter(pg->uanon->an_lock, RW_WRITE);
		uvm_lock_pageq();
		uvm_pagedeactivate(pg);
		uvm_unlock_pageq();
		rw_exit(pg->uanon->an_lock);
	}
	pg = page_at(p, VA);
	uvm_lock_pageq();
	__atomic_store_n(&uvmexp.freetarg, uvmexp.npages, __ATOMIC_RELAXED);
	__atomic_store_n(&uvmexp.inactarg, uvmexp.npages, __ATOMIC_RELAXED);
	uvm_unlock_pageq();

	disk_gate_set(1);
	host_set_sched_hook(disk_gate_hook);
	as_pagedaemon(scan_inactive_fn, NULL);
	cr_assert(pg_flags_load(pg) & PG_BUSY, "the pageout is in flight");

	c = uvmspace_fork(p);		/* with the pages under I/O */
	disk_gate_set(0);
	cr_assert_eq(amap_refs(entry_at(c, VA)->aref.ar_amap), 2,
	    "the child shares the amap");
	uvm_pageout_drain();
	host_set_sched_hook(NULL);
	cr_assert(uvm_swap_inuse() >= n, "the pages went to swap");

	check_pages(c, n, 0x7000);	/* swapped in by the child */
	check_pages(p, n, 0x7000);
	poke(p, VA, 0x8000);
	cr_assert_eq(peek(c, VA), 0x7000, "the child keeps its view");
	poke(c, VA + PAGE_SIZE, 0x8001);
	cr_assert_eq(peek(p, VA + PAGE_SIZE), 0x7001);
	uvmspace_free(c);
	uvmspace_free(p);
	cr_assert_eq(uvm_anon_count(), 0);
	cr_assert_eq(uvm_swap_inuse(), 0, "every slot freed");
}

/* vfork: the child uses the parent's vmspace; unshare makes it a copy. */
Test(uvm_fork, share_then_unshare)
{
	struct vmspace *vm = newvm(2);
	struct proc *p1 = newproc(vm), *p2;

	cr_assert_eq(proc_create("child", &p2), 0);
	poke(vm, VA, 5);
	uvmspace_share(p1, p2);
	cr_assert_eq(p2->p_vmspace, vm);
	cr_assert_eq(vm->vm_refcnt, 2);
	poke(p2->p_vmspace, VA, 6);
	cr_assert_eq(peek(vm, VA), 6, "one address space");

	cr_assert_eq(uvmspace_unshare(p2), 0);
	cr_assert_neq(p2->p_vmspace, vm);
	cr_assert_eq(vm->vm_refcnt, 1);
	poke(p2->p_vmspace, VA, 7);
	cr_assert_eq(peek(vm, VA), 6, "copy-on-write from now on");
	cr_assert_eq(uvmspace_unshare(p1), 0, "not shared: nothing to do");
	cr_assert_eq(p1->p_vmspace, vm);
	uvmspace_free(p2->p_vmspace);
	uvmspace_free(vm);
}

/* exec: alone, the vmspace is emptied and resized; shared, replaced. */
Test(uvm_fork, exec_recycles_or_replaces_the_vmspace)
{
	struct vmspace *vm = newvm(2), *ovm;
	struct proc *p1 = newproc(vm), *p2;
	uint64_t v = 0;

	poke(vm, VA, 5);
	cr_assert_eq(uvmspace_exec(p1, PAGE_SIZE, VM_MAXUSER_ADDRESS / 2), 0);
	cr_assert_eq(p1->p_vmspace, vm, "recycled");
	cr_assert_eq(vm->vm_map.nentries, 0);
	cr_assert_eq(vm_map_max(&vm->vm_map), VM_MAXUSER_ADDRESS / 2);
	cr_assert_eq(user_access(vm, VA, false, &v), EFAULT);
	cr_assert_eq(uvm_anon_count(), 0, "the old image's anons are gone");

	cr_assert_eq(proc_create("sharer", &p2), 0);
	uvmspace_share(p1, p2);
	ovm = p1->p_vmspace;
	cr_assert_eq(uvmspace_exec(p1, PAGE_SIZE, VM_MAXUSER_ADDRESS), 0);
	cr_assert_neq(p1->p_vmspace, ovm, "a new one");
	cr_assert_eq(p2->p_vmspace, ovm);
	cr_assert_eq(ovm->vm_refcnt, 1);
	uvmspace_free(p1->p_vmspace);
	uvmspace_free(ovm);
}
