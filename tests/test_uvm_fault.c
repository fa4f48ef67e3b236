/*
 * tests/test_uvm_fault.c: uvm_fault through real traps: zero fill, object
 * pages, copy on write, protection, wiring, busy-page waits, no memory;
 * and the races of a fault that sleeps unlocked (a busy object page, a
 * swap-in), orchestrated by holding the page busy, parking a thread at a
 * hook point, or holding a disk completion: never by sleeping and hoping.
 */
#include <criterion/criterion.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include "host/disk.h"
#include "host/hook.h"
#include "host/sleepq.h"
#include "host/thread.h"
#include "host/trap.h"
#include "vmtest.h"
#include "vm/uvm_amap.h"
#include "vm/uvm_anon.h"
#include "vm/uvm_aobj.h"
#include "vm/uvm_fault.h"
#include "vm/uvm_mmap.h"
#include "vm/uvm_pager.h"

static void
fault_setup(void)
{
	alarm(60);
	vmtest_boot();
	(void)host_thread_self();
}

TestSuite(uvm_fault, .init = fault_setup, .fini = vmtest_shutdown);

/* OpenBSD's fault-ahead: the advice's window at every fault */
static void
fault_setup_advice(void)
{
	fault_setup();
	uvm_fault_set_ahead(UVM_FAULTAHEAD_ADVICE);
}

TestSuite(uvm_fault_advice, .init = fault_setup_advice,
    .fini = vmtest_shutdown);

static struct vmspace *
newvm(void)
{
	struct vmspace *vm = uvmspace_alloc(PAGE_SIZE, VM_MAXUSER_ADDRESS, true);

	cr_assert_not_null(vm);
	return vm;
}


static struct vm_page *
page_at(struct vmspace *vm, vaddr_t va)
{
	paddr_t pa;

	if (!pmap_extract(vm->vm_map.pmap, va, &pa))
		return NULL;
	return PHYS_TO_VM_PAGE(pa);
}

Test(uvm_fault, anon_zero_fill_read_then_write)
{
	struct vmspace *vm = newvm();
	vaddr_t va = 0x100000;
	int faults, przero;
	uint64_t v = 1;

	cr_assert_eq(uvm_mmap_anon(&vm->vm_map, &va, 4 * PAGE_SIZE,
	    VM_PROT_READ | VM_PROT_WRITE, UVM_MMAP_FIXED), 0);
	faults = uvmexp_read(faults);
	przero = uvmexp_read(flt_przero);
	cr_assert_eq(user_access(vm, va + 8, false, &v), 0);
	cr_assert_eq(v, 0, "zero fill");
	cr_assert_eq(uvmexp_read(flt_przero), przero + 1);
	cr_assert_geq(uvmexp_read(faults), faults + 1);
	cr_assert_not_null(page_at(vm, va));
	cr_assert_not_null(page_at(vm, va)->uanon, "an anon owns it");
	v = 0xabc;
	cr_assert_eq(user_access(vm, va + 8, true, &v), 0);
	v = 0;
	cr_assert_eq(user_access(vm, va + 8, false, &v), 0);
	cr_assert_eq(v, 0xabc);
	cr_assert(pmap_is_modified(page_at(vm, va)));
	cr_assert_eq(*(uint64_t *)((char *)host_arena_direct(
	    VM_PAGE_TO_PHYS(page_at(vm, va))) + 8), 0xabc, "the arena holds it");
	uvmspace_free(vm);
}

/* Map npages fresh anon pages at va, write each, forget the translations. */
static void
resident_unmapped(struct vmspace *vm, vaddr_t va, int npages)
{
	uint64_t v;
	int i;

	cr_assert_eq(uvm_mmap_anon(&vm->vm_map, &va, ptoa(npages),
	    VM_PROT_READ | VM_PROT_WRITE, UVM_MMAP_FIXED), 0);
	for (i = 0; i < npages; i++) {
		v = (uint64_t)i + 100;
		cr_assert_eq(user_access(vm, va + ptoa(i), true, &v), 0);
	}
	pmap_remove(vm->vm_map.pmap, va, va + ptoa(npages));
}

/* Every page of resident_unmapped(vm, va, npages) reads back its value. */
static void
assert_data_kept(struct vmspace *vm, vaddr_t va, int npages)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < npages; i++) {
		cr_assert_eq(user_access(vm, va + ptoa(i), false, &v), 0);
		cr_assert_eq(v, (uint64_t)i + 100, "page %d kept its data", i);
	}
}

/* Pages [from, to] of va mapped, and the page just above not. */
static void
assert_mapped_range(struct vmspace *vm, vaddr_t va, int from, int to)
{
	int i;

	for (i = from; i <= to; i++)
		cr_assert_not_null(page_at(vm, va + ptoa(i)), "page %d", i);
	cr_assert_null(page_at(vm, va + ptoa(to + 1)), "page %d", to + 1);
}

/*
 * A read of page `at` of resident_unmapped(vm, va, ...) maps n neighbours
 * with it, and pages [from, to] are mapped after it.
 */
static void
read_maps(struct vmspace *vm, vaddr_t va, int at, int n, int from, int to)
{
	int namap = uvmexp_read(fltnamap);
	uint64_t v = 0;

	cr_assert_eq(user_access(vm, va + ptoa(at), false, &v), 0);
	cr_assert_eq(v, (uint64_t)at + 100, "page %d", at);
	cr_assert_eq(uvmexp_read(fltnamap), namap + n,
	    "a fault at page %d maps %d neighbours, not %d", at, n,
	    uvmexp_read(fltnamap) - namap);
	assert_mapped_range(vm, va, from, to);
}

Test(uvm_fault_advice, a_walk_up_maps_fifteen_ahead)
{
	struct vmspace *vm = newvm();
	vaddr_t va = 0x400000;
	int walks;

	resident_unmapped(vm, va, 64);
	walks = uvmexp_read(fltwalk);
	/* a fault out of the blue: the normal window, 3 back, 4 ahead */
	read_maps(vm, va, 20, 7, 17, 24);
	cr_assert_eq(uvmexp_read(fltwalk), walks);
	/* the next fault where that window ended: the walk, 15 ahead */
	read_maps(vm, va, 25, 15, 25, 40);
	/* and on */
	read_maps(vm, va, 41, 15, 41, 56);
	cr_assert_eq(uvmexp_read(fltwalk), walks + 2, "counted");
	/* a fault behind the walk: back to the normal window */
	read_maps(vm, va, 8, 7, 5, 12);
	cr_assert_eq(uvmexp_read(fltwalk), walks + 2);
	assert_data_kept(vm, va, 64);
	uvmspace_free(vm);
}

/* One read of read_maps, after forgetting every translation if `forget`. */
struct read_step {
	int	at, n, from, to;
	bool	forget;
};

/*
 * The steps on npages resident, unmapped pages of a fresh map with advice
 * adv, in order.
 */
static void
read_steps(int npages, int adv, const struct read_step *st, size_t nst)
{
	struct vmspace *vm = newvm();
	vaddr_t va = 0x400000;
	size_t i;

	resident_unmapped(vm, va, npages);
	cr_assert_eq(uvm_map_advice(&vm->vm_map, va, va + ptoa(npages), adv),
	    0);
	for (i = 0; i < nst; i++) {
		if (st[i].forget)
			pmap_remove(vm->vm_map.pmap, va, va + ptoa(npages));
		read_maps(vm, va, st[i].at, st[i].n, st[i].from, st[i].to);
	}
	uvmspace_free(vm);
}

/* A fault restarted at the same address keeps the window it had. */
Test(uvm_fault_advice, a_fault_again_keeps_its_window)
{
	static const struct read_step st[] = {
		{ 20, 7, 17, 24, false },
		{ 25, 15, 25, 40, false },
		{ 25, 15, 25, 40, true },	/* the walk's, again */
		{ 50, 7, 47, 54, true },
		{ 50, 7, 47, 54, true },	/* no walk, again */
	};

	read_steps(64, UVM_ADV_NORMAL, st, nitems(st));
}

Test(uvm_fault_advice, a_walk_past_its_window_or_down_is_no_walk)
{
	static const struct read_step st[] = {
		{ 20, 7, 17, 24, false },
		{ 26, 7, 23, 30, true },	/* a page past the window: a jump */
		{ 40, 7, 37, 44, true },
		{ 30, 7, 27, 34, false },	/* down from there: no walk */
	};

	read_steps(64, UVM_ADV_NORMAL, st, nitems(st));
}

/* A walk stops at its entry's end: the window is clamped, not past it. */
Test(uvm_fault_advice, a_walk_ends_with_its_entry)
{
	static const struct read_step st[] = {
		{ 10, 7, 7, 14, false },
		{ 15, 14, 15, 29, false },	/* 16..29: the entry's last */
	};

	read_steps(30, UVM_ADV_NORMAL, st, nitems(st));
}

/*
 * By default a fault off a walk maps its page alone; the next one up is a
 * walk, and maps 15 ahead; a fault behind it is none, and alone again.
 */
Test(uvm_fault, off_a_walk_a_fault_maps_its_page_alone)
{
	static const struct read_step st[] = {
		{ 20, 0, 20, 20, false },
		{ 21, 15, 21, 36, false },
		{ 37, 15, 37, 52, false },
		{ 8, 0, 8, 8, false },
		{ 10, 0, 10, 10, false },	/* past the last page: no walk */
	};

	read_steps(64, UVM_ADV_NORMAL, st, nitems(st));
}

Test(uvm_fault_advice, random_advice_walks_no_further)
{
	static const struct read_step st[] = {
		{ 4, 0, 4, 4, false },
		{ 5, 0, 4, 5, false },		/* no neighbours at all */
	};

	read_steps(32, UVM_ADV_RANDOM, st, nitems(st));
}

/* A walk is one map's: the next page in another map is no walk. */
Test(uvm_fault_advice, a_walk_is_one_maps)
{
	struct vmspace *vm = newvm(), *other = newvm();
	vaddr_t va = 0x400000;

	resident_unmapped(vm, va, 64);
	resident_unmapped(other, va, 64);
	read_maps(vm, va, 20, 7, 17, 24);
	read_maps(other, va, 25, 7, 22, 29);
	read_maps(vm, va, 25, 4, 17, 29);	/* 22..24 were there */
	uvmspace_free(other);
	uvmspace_free(vm);
}

Test(uvm_fault_advice, resident_neighbours_are_mapped_with_the_fault)
{
	struct vmspace *vm = newvm();
	vaddr_t va = 0x200000;

	/* written, then the translations forgotten: the anons stay */
	resident_unmapped(vm, va, 16);
	/* normal advice: 3 behind and 4 ahead come along */
	read_maps(vm, va, 8, 7, 5, 12);
	cr_assert_null(page_at(vm, va + ptoa(4)));
	assert_data_kept(vm, va, 16);
	uvmspace_free(vm);
}

Test(uvm_fault, protection_and_holes_are_refused)
{
	struct vmspace *vm = newvm();
	vaddr_t va = 0x300000;
	uint64_t v = 5;

	cr_assert_eq(uvm_mmap_anon(&vm->vm_map, &va, 2 * PAGE_SIZE,
	    VM_PROT_READ | VM_PROT_WRITE, UVM_MMAP_FIXED), 0);
	cr_assert_eq(user_access(vm, va, true, &v), 0);
	cr_assert_eq(uvm_mprotect(&vm->vm_map, va, PAGE_SIZE, VM_PROT_READ), 0);
	cr_assert_eq(user_access(vm, va, true, &v), EACCES, "read-only");
	v = 0;
	cr_assert_eq(user_access(vm, va, false, &v), 0);
	cr_assert_eq(v, 5, "still readable");
	cr_assert_eq(uvm_mprotect(&vm->vm_map, va + PAGE_SIZE, PAGE_SIZE,
	    VM_PROT_NONE), 0);
	cr_assert_eq(user_access(vm, va + PAGE_SIZE, false, &v), EACCES,
	    "guard page");
	cr_assert_eq(user_access(vm, va + 2 * PAGE_SIZE, false, &v), EFAULT,
	    "unmapped hole");
	cr_assert_eq(user_access(vm, 0x7fff0000, true, &v), EFAULT);
	uvmspace_free(vm);
}

Test(uvm_fault, max_protection_bounds_mprotect)
{
	struct vmspace *vm = newvm();
	vaddr_t va = 0x400000;
	uint64_t v = 1;

	cr_assert_eq(uvm_map(&vm->vm_map, &va, PAGE_SIZE, NULL,
	    UVM_UNKNOWN_OFFSET, 0, UVM_MAPFLAG(VM_PROT_READ, VM_PROT_READ,
	    UVM_INH_COPY, UVM_ADV_NORMAL, UVM_FLAG_FIXED | UVM_FLAG_COPYONW)),
	    0);
	cr_assert_eq(uvm_mprotect(&vm->vm_map, va, PAGE_SIZE,
	    VM_PROT_READ | VM_PROT_WRITE), EACCES);
	cr_assert_eq(user_access(vm, va, true, &v), EACCES);
	cr_assert_eq(user_access(vm, va, false, &v), 0);
	cr_assert_eq(v, 0);
	uvmspace_free(vm);
}

/* Map an aobj into vm at va: shared, or private copy-on-write. */
static void
map_aobj(struct vmspace *vm, vaddr_t va, struct uvm_object *uobj, bool cow)
{
	uao_reference(uobj);
	cr_assert_eq(uvm_map(&vm->vm_map, &va, 4 * PAGE_SIZE, uobj, 0, 0,
	    UVM_MAPFLAG(VM_PROT_READ | VM_PROT_WRITE, VM_PROT_ALL,
	    cow ? UVM_INH_COPY : UVM_INH_SHARE, UVM_ADV_NORMAL,
	    UVM_FLAG_FIXED | (cow ? UVM_FLAG_COPYONW : 0))), 0);
}

Test(uvm_fault, shared_object_pages_are_one_page)
{
	struct vmspace *a = newvm(), *b = newvm();
	struct uvm_object *uobj = uao_create(4 * PAGE_SIZE, 0);
	uint64_t v = 0x5151;
	int obj;

	map_aobj(a, 0x500000, uobj, false);
	map_aobj(b, 0x900000, uobj, false);
	obj = uvmexp_read(flt_obj);
	cr_assert_eq(user_access(a, 0x500000 + PAGE_SIZE, true, &v), 0);
	v = 0;
	cr_assert_eq(user_access(b, 0x900000 + PAGE_SIZE, false, &v), 0);
	cr_assert_eq(v, 0x5151, "b sees a's store");
	cr_assert_geq(uvmexp_read(flt_obj), obj + 2);
	cr_assert_eq(page_at(a, 0x500000 + PAGE_SIZE),
	    page_at(b, 0x900000 + PAGE_SIZE));
	cr_assert_eq(page_at(a, 0x500000 + PAGE_SIZE)->uobject, uobj);
	uvmspace_free(a);
	uvmspace_free(b);
	uao_detach(uobj);
}

Test(uvm_fault, private_mapping_copies_on_write)
{
	struct vmspace *a = newvm(), *b = newvm();
	struct uvm_object *uobj = uao_create(4 * PAGE_SIZE, 0);
	struct vm_page *opg;
	uint64_t v = 111;
	int prcopy;

	map_aobj(a, 0x500000, uobj, false);	/* the "file" */
	map_aobj(b, 0x500000, uobj, true);	/* a private view of it */
	cr_assert_eq(user_access(a, 0x500000, true, &v), 0);
	v = 0;
	cr_assert_eq(user_access(b, 0x500000, false, &v), 0);
	cr_assert_eq(v, 111, "a read sees the object");
	opg = page_at(b, 0x500000);
	cr_assert_eq(opg->uobject, uobj, "mapped the object's page");
	prcopy = uvmexp_read(flt_prcopy);
	v = 222;
	cr_assert_eq(user_access(b, 0x500000, true, &v), 0);
	cr_assert_eq(uvmexp_read(flt_prcopy), prcopy + 1, "promoted by copy");
	cr_assert_neq(page_at(b, 0x500000), opg);
	cr_assert_not_null(page_at(b, 0x500000)->uanon);
	v = 0;
	cr_assert_eq(user_access(a, 0x500000, false, &v), 0);
	cr_assert_eq(v, 111, "the object is untouched");
	v = 333;
	cr_assert_eq(user_access(a, 0x500000, true, &v), 0);
	v = 0;
	cr_assert_eq(user_access(b, 0x500000, false, &v), 0);
	cr_assert_eq(v, 222, "b keeps its copy");
	uvmspace_free(a);
	uvmspace_free(b);
	uao_detach(uobj);
}

/* sys_mlock's cap: past uvmexp.wiredmax, EAGAIN and nothing wired. */
Test(uvm_fault, mlock_beyond_wiredmax_is_eagain)
{
	struct vmspace *vm = newvm();
	vaddr_t va = 0x600000;
	int wired = uvmexp_read(wired), room;

	room = uvmexp_read(wiredmax) - wired;
	cr_assert_gt(room, 1);
	cr_assert_eq(uvm_mmap_anon(&vm->vm_map, &va, ptoa(room + 1),
	    VM_PROT_READ | VM_PROT_WRITE, UVM_MMAP_FIXED), 0);
	cr_assert_eq(uvm_mlock(&vm->vm_map, va, ptoa(room + 1)), EAGAIN);
	cr_assert_eq(uvmexp_read(wired), wired, "nothing was wired");
	cr_assert_eq(pmap_wired_count(vm->vm_map.pmap), 0);
	cr_assert_eq(uvm_mlock(&vm->vm_map, va, ptoa(1)), 0, "within the cap");
	cr_assert_eq(uvmexp_read(wired), wired + 1);
	cr_assert_eq(uvm_munlock(&vm->vm_map, va, ptoa(1)), 0);
	uvmspace_free(vm);
}

Test(uvm_fault, wired_ranges_are_resident_and_never_trap)
{
	struct vmspace *vm = newvm();
	vaddr_t va = 0x600000;
	struct host_trap_stats t0, t1;
	int wired = uvmexp.wired, i;
	uint64_t v = 0;

	cr_assert_eq(uvm_mmap_anon(&vm->vm_map, &va, 8 * PAGE_SIZE,
	    VM_PROT_READ | VM_PROT_WRITE, UVM_MMAP_FIXED), 0);
	cr_assert_eq(uvm_mlock(&vm->vm_map, va, 8 * PAGE_SIZE), 0);
	cr_assert_eq(pmap_wired_count(vm->vm_map.pmap), 8);
	cr_assert_eq(uvmexp.wired, wired + 8);
	host_trap_get_stats(&t0);
	for (i = 0; i < 8; i++) {
		v = (uint64_t)i;
		cr_assert_eq(user_access(vm, va + ptoa(i), true, &v), 0);
		cr_assert_eq(page_at(vm, va + ptoa(i))->wire_count, 1);
	}
	host_trap_get_stats(&t1);
	cr_assert_eq(t1.ntraps, t0.ntraps, "no trap on wired memory");
	cr_assert_eq(uvm_munlock(&vm->vm_map, va, 8 * PAGE_SIZE), 0);
	cr_assert_eq(pmap_wired_count(vm->vm_map.pmap), 0);
	cr_assert_eq(uvmexp.wired, wired);
	for (i = 0; i < 8; i++) {
		cr_assert_eq(user_access(vm, va + ptoa(i), false, &v), 0);
		cr_assert_eq(v, (uint64_t)i);
	}
	uvmspace_free(vm);
}

struct waiter {
	struct vmspace	*vm;
	vaddr_t		va;
	uint64_t	value;
	int		error;
	bool		done;
};

static void *
waiter_main(void *arg)
{
	struct waiter *w = arg;

	w->error = user_access(w->vm, w->va, false, &w->value);
	__atomic_store_n(&w->done, true, __ATOMIC_RELEASE);
	return NULL;
}

Test(uvm_fault, a_busy_page_is_waited_for)
{
	struct vmspace *vm = newvm();
	struct uvm_object *uobj = uao_create(4 * PAGE_SIZE, 0);
	struct waiter w = { vm, 0x500000, 0, -1, false };
	struct vm_page *pg;
	pthread_t t;
	uint64_t v = 77;
	int i, waits = uvmexp_read(fltpgwait);

	map_aobj(vm, 0x500000, uobj, false);
	cr_assert_eq(user_access(vm, 0x500000, true, &v), 0);
	pg = page_at(vm, 0x500000);
	/* someone (I/O, say) holds the page, and no mapping is left */
	pmap_page_protect(pg, VM_PROT_NONE);
	rw_enter(uobj->vmobjlock, RW_WRITE);
	atomic_setbits_int(&pg->pg_flags, PG_BUSY);
	UVM_PAGE_OWN(pg, "test");
	rw_exit(uobj->vmobjlock);

	cr_assert_eq(host_thread_create(&t, "waiter", waiter_main, &w), 0);
	for (i = 0; i < 5000 && sleepq_nsleepers(pg) == 0; i++)
		usleep(1000);
	cr_assert_eq(sleepq_nsleepers(pg), 1, "the fault sleeps on the page");
	cr_assert_not(__atomic_load_n(&w.done, __ATOMIC_ACQUIRE));
	rw_enter(uobj->vmobjlock, RW_WRITE);
	uvm_page_unbusy(&pg, 1);
	rw_exit(uobj->vmobjlock);
	pthread_join(t, NULL);
	cr_assert_eq(w.error, 0);
	cr_assert_eq(w.value, 77);
	(void)waits;
	uvmspace_free(vm);
	uao_detach(uobj);
}

Test(uvm_fault, no_memory_is_a_refused_fault)
{
	struct vmspace *vm = newvm();
	vaddr_t va = 0x1000000;
	vsize_t len = 64ull << 20;	/* four times the RAM */
	uint64_t v = 1, i;
	int error = 0, noram = uvmexp_read(fltnoram);

	cr_assert_eq(uvm_mmap_anon(&vm->vm_map, &va, len,
	    VM_PROT_READ | VM_PROT_WRITE, UVM_MMAP_FIXED), 0);
	for (i = 0; i < atop(len) && error == 0; i++)
		error = user_access(vm, va + ptoa(i), true, &v);
	cr_assert_eq(error, ENOMEM, "no pagedaemon: the fault fails");
	cr_assert_gt(uvmexp_read(fltnoram), noram);
	cr_assert_lt(i, atop(len));
	uvmspace_free(vm);
}

struct racer {
	struct vmspace	*vm;
	vaddr_t		va;
	int		npages;
	int		id;
	int		bad;
};

static void *
racer_main(void *arg)
{
	struct racer *r = arg;
	uint64_t v = 0;
	int round, i;

	for (round = 0; round < 4; round++) {
		for (i = 0; i < r->npages; i++) {
			/* everyone touches every page; each owns one word */
			vaddr_t va = r->va + ptoa(i) + 8 * (vaddr_t)r->id;

			if (user_access(r->vm, va, false, &v) != 0 ||
			    v != (round == 0 ? 0 : (uint64_t)(r->id + 1) * 1000 + i))
				r->bad++;
			v = (uint64_t)(r->id + 1) * 1000 + i;
			if (user_access(r->vm, va, true, &v) != 0)
				r->bad++;
		}
	}
	return NULL;
}

Test(uvm_fault, concurrent_faults_on_shared_pages)
{
	struct vmspace *vm = newvm();
	struct racer r[4];
	pthread_t t[4];
	vaddr_t va = 0x800000;
	int i, npages = 64;

	cr_assert_eq(uvm_mmap_anon(&vm->vm_map, &va, ptoa(npages),
	    VM_PROT_READ | VM_PROT_WRITE, UVM_MMAP_FIXED), 0);
	for (i = 0; i < 4; i++) {
		r[i] = (struct racer){ vm, va, npages, i, 0 };
		cr_assert_eq(host_thread_create(&t[i], "racer", racer_main,
		    &r[i]), 0);
	}
	for (i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	for (i = 0; i < 4; i++)
		cr_assert_eq(r[i].bad, 0, "racer %d saw lost or stale data", i);
	cr_assert_eq(pmap_resident_count(vm->vm_map.pmap), npages,
	    "one page per va, however many raced for it");
	uvmspace_free(vm);
}

/*
 * Page a resident, unbusy page out by hand, as the pagedaemon does: busy
 * it, give it a slot in its owner (an anon or an aobj), write it
 * synchronously, free it.  It lives only in swap then (swpgonly).
 * => returns the slot
 */
static int
swap_out_page(struct vm_page *pg)
{
	krwlock_t *lock = pg->uobject != NULL ? pg->uobject->vmobjlock :
	    pg->uanon->an_lock;
	int n = 1, slot;

	slot = uvm_swap_alloc(&n, false);
	cr_assert_gt(slot, 0);
	rw_enter(lock, RW_WRITE);
	cr_assert_not(pg_flags_load(pg) & PG_BUSY);
	atomic_setbits_int(&pg->pg_flags, PG_BUSY);
	UVM_PAGE_OWN(pg, "swap_out_page");
	pmap_page_protect(pg, VM_PROT_NONE);
	if (pg->uanon != NULL)
		pg->uanon->an_swslot = slot;
	else
		cr_assert_eq(uao_set_swslot(pg->uobject,
		    (int)(pg->offset >> PAGE_SHIFT), slot), 0);
	rw_exit(lock);
	cr_assert_eq(uvm_swap_put(slot, &pg, 1, PGO_SYNCIO), VM_PAGER_OK);
	rw_enter(lock, RW_WRITE);
	atomic_clearbits_int(&pg->pg_flags, PG_BUSY);
	UVM_PAGE_OWN(pg, NULL);
	uvm_lock_pageq();
	uvm_pagefree(pg);		/* detaches it from its owner */
	uvm_unlock_pageq();
	uvmexp_add(swpgonly, 1);
	rw_exit(lock);
	return slot;
}

/* The anon at va of vm's map (resident or not), or NULL. */
static struct vm_anon *
anon_at(struct vmspace *vm, vaddr_t va)
{
	struct vm_map_entry *entry;
	struct vm_anon *anon = NULL;

	vm_map_lock_read(&vm->vm_map);
	cr_assert(uvm_map_lookup_entry(&vm->vm_map, va, &entry));
	if (entry->aref.ar_amap != NULL) {
		rw_enter(entry->aref.ar_amap->am_lock, RW_READ);
		anon = amap_lookup(&entry->aref, va - entry->start);
		rw_exit(entry->aref.ar_amap->am_lock);
	}
	vm_map_unlock_read(&vm->vm_map);
	return anon;
}

/*
 * A wiring fault on an anon that lives in swap: the page comes back, is
 * wired, and, since a wired page is never paged out, gives its swap slot
 * back and is no longer clean (a page with no slot is never clean), as
 * OpenBSD's uvm_fault_upper does.
 */
Test(uvm_fault, a_wiring_fault_drops_the_anons_swap_slot)
{
	struct vmspace *vm = newvm();
	vaddr_t va = 0x700000;
	struct vm_anon *anon;
	struct vm_page *pg;
	uint64_t v = 0x7777;

	vmtest_attach_swap(64);
	cr_assert_eq(uvm_mmap_anon(&vm->vm_map, &va, PAGE_SIZE,
	    VM_PROT_READ | VM_PROT_WRITE, UVM_MMAP_FIXED), 0);
	cr_assert_eq(user_access(vm, va, true, &v), 0);
	(void)swap_out_page(page_at(vm, va));
	cr_assert_null(page_at(vm, va));
	cr_assert_eq(uvm_swap_inuse(), 1);

	cr_assert_eq(uvm_mlock(&vm->vm_map, va, PAGE_SIZE), 0);
	pg = page_at(vm, va);
	cr_assert_not_null(pg);
	anon = anon_at(vm, va);
	cr_assert_eq(pg->uanon, anon);
	cr_assert_eq(pg->wire_count, 1);
	cr_assert_eq(anon->an_swslot, 0, "the wired anon kept slot %d",
	    anon->an_swslot);
	cr_assert_not(pg_flags_load(pg) & PG_CLEAN, "a page with no slot is "
	    "clean");
	cr_assert_eq(uvm_swap_inuse(), 0);
	cr_assert_eq(uvmexp_read(swpgonly), 0);
	v = 0;
	cr_assert_eq(user_access(vm, va, false, &v), 0);
	cr_assert_eq(v, 0x7777);
	cr_assert_eq(uvm_munlock(&vm->vm_map, va, PAGE_SIZE), 0);
	uvmspace_free(vm);
}

/* The same for an aobj page (OpenBSD's uvm_fault_lower). */
Test(uvm_fault, a_wiring_fault_drops_the_aobj_pages_swap_slot)
{
	struct vmspace *vm = newvm();
	struct uvm_object *uobj = uao_create(4 * PAGE_SIZE, 0);
	vaddr_t va = 0x500000;
	struct vm_page *pg;
	uint64_t v = 0x8888;
	int slot;

	vmtest_attach_swap(64);
	map_aobj(vm, va, uobj, false);
	cr_assert_eq(user_access(vm, va, true, &v), 0);
	(void)swap_out_page(page_at(vm, va));
	cr_assert_eq(uvm_swap_inuse(), 1);

	cr_assert_eq(uvm_mlock(&vm->vm_map, va, PAGE_SIZE), 0);
	pg = page_at(vm, va);
	cr_assert_not_null(pg);
	cr_assert_eq(pg->uobject, uobj);
	cr_assert_eq(pg->wire_count, 1);
	rw_enter(uobj->vmobjlock, RW_READ);
	slot = uao_find_swslot(uobj, 0);
	rw_exit(uobj->vmobjlock);
	cr_assert_eq(slot, 0, "the wired page kept slot %d", slot);
	cr_assert_not(pg_flags_load(pg) & PG_CLEAN);
	cr_assert_eq(uvm_swap_inuse(), 0);
	v = 0;
	cr_assert_eq(user_access(vm, va, false, &v), 0);
	cr_assert_eq(v, 0x8888);
	cr_assert_eq(uvm_munlock(&vm->vm_map, va, PAGE_SIZE), 0);
	uvmspace_free(vm);
	uao_detach(uobj);
}

/*
 * A swap-in that fails while the anon is freed under it (the mapping
 * goes away during the read): the slot gave back bad data, so it must be
 * marked bad (never reused) and the page counted out of swpgonly, as for
 * a failed swap-in of a live anon.  The read is held in flight by a gate
 * on its completion while the test unmaps.
 */
static int rd_gate, rd_gated;	/* [a] */

static void
rd_gate_hook(enum hook_ev ev, const void *obj, uintptr_t arg)
{
	const struct buf *bp = obj;

	(void)arg;
	if (ev != HE_DISK_DONE || !(bp->b_flags & B_READ))
		return;
	__atomic_store_n(&rd_gated, 1, __ATOMIC_RELEASE);
	while (__atomic_load_n(&rd_gate, __ATOMIC_ACQUIRE))
		usleep(100);
}

static void *
reader_main(void *arg)
{
	struct waiter *w = arg;

	w->error = user_access(w->vm, w->va, false, &w->value);
	__atomic_store_n(&w->done, true, __ATOMIC_RELEASE);
	return NULL;
}

Test(uvm_fault, a_failed_swapin_of_a_freed_anon_marks_the_slot_bad)
{
	struct vmspace *vm = newvm();
	struct waiter w = { vm, 0x700000, 0, -1, false };
	vaddr_t va = 0x700000;
	pthread_t t;
	uint64_t v = 0x9999;
	int i;

	vmtest_attach_swap(64);
	cr_assert_eq(uvm_mmap_anon(&vm->vm_map, &va, PAGE_SIZE,
	    VM_PROT_READ | VM_PROT_WRITE, UVM_MMAP_FIXED), 0);
	cr_assert_eq(user_access(vm, va, true, &v), 0);
	(void)swap_out_page(page_at(vm, va));
	cr_assert_eq(uvmexp_read(swpgonly), 1);

	/* every read fails; the first one waits for us before it ends */
	host_disk_set_fail_rate(uvm_swap_disk(), 1000);
	__atomic_store_n(&rd_gate, 1, __ATOMIC_RELEASE);
	host_set_sched_hook(rd_gate_hook);
	cr_assert_eq(host_thread_create(&t, "reader", reader_main, &w), 0);
	for (i = 0; i < 20000 && !__atomic_load_n(&rd_gated, __ATOMIC_ACQUIRE);
	    i++)
		usleep(500);
	cr_assert(__atomic_load_n(&rd_gated, __ATOMIC_ACQUIRE),
	    "the swap-in never started");
	/* the anon's page is busy, its amap unlocked: the anon dies */
	uvm_unmap(&vm->vm_map, va, va + PAGE_SIZE);
	__atomic_store_n(&rd_gate, 0, __ATOMIC_RELEASE);
	pthread_join(t, NULL);
	host_set_sched_hook(NULL);
	host_disk_set_fail_rate(uvm_swap_disk(), 0);

	cr_assert(w.error == EIO || w.error == EFAULT, "error %d", w.error);
	cr_assert_eq(uvm_swap_nbad(), 1, "the slot that failed is not marked "
	    "bad");
	cr_assert_eq(uvm_swap_inuse(), 1, "the bad slot went back for reuse");
	cr_assert_eq(uvmexp_read(swpgonly), 0, "swpgonly still counts the "
	    "freed anon's page");
	uvmspace_free(vm);
}

/*
 * Two writes to a private (copy-on-write) object mapping, both waiting
 * for the object's busy page in the unlocked pgo_get: the first promotes
 * the page into a new anon; the second must find the amap slot taken
 * when it relocks (OpenBSD's "re-verify that amap slot is still free")
 * and refault onto that anon, not promote again into the same slot.
 */
struct writer {
	struct vmspace	*vm;
	vaddr_t		va;
	uint64_t	value;
	int		error;
};

static void *
writer_main(void *arg)
{
	struct writer *w = arg;

	w->error = user_access(w->vm, w->va, true, &w->value);
	return NULL;
}

/*
 * The object page at off of uobj, mapped nowhere and busy (the test holds
 * it, as an I/O would).
 */
static struct vm_page *
hold_busy(struct uvm_object *uobj, voff_t off)
{
	struct vm_page *pg;

	rw_enter(uobj->vmobjlock, RW_WRITE);
	pg = uvm_pagelookup(uobj, off);
	cr_assert_not_null(pg);
	cr_assert_not(pg_flags_load(pg) & PG_BUSY);
	pmap_page_protect(pg, VM_PROT_NONE);
	atomic_setbits_int(&pg->pg_flags, PG_BUSY);
	UVM_PAGE_OWN(pg, "test");
	rw_exit(uobj->vmobjlock);
	return pg;
}

static void
let_go(struct uvm_object *uobj, struct vm_page *pg)
{
	rw_enter(uobj->vmobjlock, RW_WRITE);
	uvm_page_unbusy(&pg, 1);
	rw_exit(uobj->vmobjlock);
}

Test(uvm_fault, two_writes_to_a_busy_object_page_promote_it_once)
{
	struct vmspace *a = newvm(), *b = newvm();
	struct uvm_object *uobj = uao_create(4 * PAGE_SIZE, 0);
	vaddr_t va = 0x500000;
	struct writer w[2];
	struct vm_page *pg;
	pthread_t t[2];
	uint64_t v = 111;
	int i;

	map_aobj(a, va, uobj, false);		/* the "file" */
	map_aobj(b, va, uobj, true);		/* a private view of it */
	cr_assert_eq(user_access(a, va, true, &v), 0);
	/* b's amap exists (a write elsewhere): the map no longer changes */
	v = 1;
	cr_assert_eq(user_access(b, va + PAGE_SIZE, true, &v), 0);
	pg = hold_busy(uobj, 0);

	for (i = 0; i < 2; i++) {
		/* each writes its own word of the page */
		w[i] = (struct writer){ b, va + 8 * (vaddr_t)i,
		    (uint64_t)(i + 1) * 1000, -1 };
		cr_assert_eq(host_thread_create(&t[i], "writer", writer_main,
		    &w[i]), 0);
	}
	for (i = 0; i < 20000 && sleepq_nsleepers(pg) < 2; i++)
		usleep(500);
	cr_assert_eq(sleepq_nsleepers(pg), 2, "both faults wait for the page");
	let_go(uobj, pg);
	for (i = 0; i < 2; i++) {
		pthread_join(t[i], NULL);
		cr_assert_eq(w[i].error, 0);
	}

	cr_assert_not_null(anon_at(b, va), "promoted");
	cr_assert_eq(page_at(b, va)->uanon, anon_at(b, va),
	    "b maps the anon, not the object's page");
	for (i = 0; i < 2; i++) {
		v = 0;
		cr_assert_eq(user_access(b, va + 8 * (vaddr_t)i, false, &v), 0);
		cr_assert_eq(v, (uint64_t)(i + 1) * 1000, "writer %d's store "
		    "was lost", i);
	}
	v = 0;
	cr_assert_eq(user_access(a, va, false, &v), 0);
	cr_assert_eq(v, 111, "the object is untouched");
	uvmspace_free(a);
	uvmspace_free(b);
	uao_detach(uobj);
}

/*
 * A read and a write of a private object mapping: the read waits for the
 * busy object page; woken, it is held (parked at its HE_SLEEP_DONE) while
 * the write promotes the page into an anon and stores; then it goes on.
 * Relocked, it must see the amap slot taken and refault, not map the
 * object's page over the new anon (the writer would read old data after
 * its own write).
 */
static struct host_thread *park_who;	/* [a] the thread to park */
static const void *park_chan;		/* [a] after its sleep on this */
static int park_phase;			/* [a] 0 armed, 1 parked, 2 go */

static void
park_hook(enum hook_ev ev, const void *obj, uintptr_t arg)
{
	(void)arg;
	if (ev != HE_SLEEP_DONE || obj != __atomic_load_n(&park_chan,
	    __ATOMIC_ACQUIRE) || host_curthread != __atomic_load_n(&park_who,
	    __ATOMIC_ACQUIRE) || __atomic_load_n(&park_phase,
	    __ATOMIC_ACQUIRE) != 0)
		return;
	__atomic_store_n(&park_phase, 1, __ATOMIC_RELEASE);
	while (__atomic_load_n(&park_phase, __ATOMIC_ACQUIRE) != 2)
		usleep(100);
}

static void *
parked_reader_main(void *arg)
{
	struct waiter *w = arg;

	__atomic_store_n(&park_who, host_thread_self(), __ATOMIC_RELEASE);
	w->error = user_access(w->vm, w->va, false, &w->value);
	__atomic_store_n(&w->done, true, __ATOMIC_RELEASE);
	return NULL;
}

Test(uvm_fault, a_read_racing_a_write_does_not_map_the_object_over_the_anon)
{
	struct vmspace *a = newvm(), *b = newvm();
	struct uvm_object *uobj = uao_create(4 * PAGE_SIZE, 0);
	vaddr_t va = 0x500000;
	struct waiter w = { b, va, 0, -1, false };
	struct vm_page *pg;
	pthread_t t;
	uint64_t v = 111;
	int i;

	map_aobj(a, va, uobj, false);
	map_aobj(b, va, uobj, true);
	cr_assert_eq(user_access(a, va, true, &v), 0);
	v = 1;
	cr_assert_eq(user_access(b, va + PAGE_SIZE, true, &v), 0);
	pg = hold_busy(uobj, 0);

	__atomic_store_n(&park_chan, pg, __ATOMIC_RELEASE);
	__atomic_store_n(&park_phase, 0, __ATOMIC_RELEASE);
	cr_assert_eq(host_thread_create(&t, "reader", parked_reader_main, &w),
	    0);
	for (i = 0; i < 20000 && sleepq_nsleepers(pg) < 1; i++)
		usleep(500);
	cr_assert_eq(sleepq_nsleepers(pg), 1, "the read waits for the page");
	host_set_sched_hook(park_hook);
	let_go(uobj, pg);
	for (i = 0; i < 20000 && __atomic_load_n(&park_phase,
	    __ATOMIC_ACQUIRE) != 1; i++)
		usleep(500);
	cr_assert_eq(__atomic_load_n(&park_phase, __ATOMIC_ACQUIRE), 1,
	    "the reader never woke");

	/* the write, while the reader is held: promote and store */
	v = 222;
	cr_assert_eq(user_access(b, va, true, &v), 0);
	cr_assert_not_null(anon_at(b, va));
	__atomic_store_n(&park_phase, 2, __ATOMIC_RELEASE);
	pthread_join(t, NULL);
	host_set_sched_hook(NULL);
	cr_assert_eq(w.error, 0);

	cr_assert_eq(page_at(b, va)->uanon, anon_at(b, va),
	    "the object's page is mapped over the anon");
	v = 0;
	cr_assert_eq(user_access(b, va, false, &v), 0);
	cr_assert_eq(v, 222, "the writer reads %llu after its own write",
	    (unsigned long long)v);
	uvmspace_free(a);
	uvmspace_free(b);
	uao_detach(uobj);
}

/*
 * uvm_map_clean through madvise and msync (OpenBSD's uvm_map_clean and
 * uao_flush).
 */

/* Write value v into page i of [va, ...) of vm. */
static void
put(struct vmspace *vm, vaddr_t va, int i, uint64_t v)
{
	cr_assert_eq(user_access(vm, va + ptoa(i), true, &v), 0);
}

static uint64_t
get(struct vmspace *vm, vaddr_t va, int i)
{
	uint64_t v = 0;

	cr_assert_eq(user_access(vm, va + ptoa(i), false, &v), 0);
	return v;
}

/* MADV_FREE: private anonymous pages are freed and read zero after. */
Test(uvm_fault, madvise_free_frees_anon_pages)
{
	struct vmspace *vm = newvm();
	vaddr_t va = 0x700000;
	int i, anons;

	cr_assert_eq(uvm_mmap_anon(&vm->vm_map, &va, ptoa(4),
	    VM_PROT_READ | VM_PROT_WRITE, UVM_MMAP_FIXED), 0);
	for (i = 0; i < 4; i++)
		put(vm, va, i, 100 + (uint64_t)i);
	anons = uvmexp_read(anonpages);
	cr_assert_eq(uvm_madvise(&vm->vm_map, va + ptoa(1), ptoa(2),
	    UVM_MADV_FREE), 0);
	cr_assert_eq(uvmexp_read(anonpages), anons - 2, "two pages freed");
	cr_assert_null(page_at(vm, va + ptoa(1)), "unmapped");
	cr_assert_eq(get(vm, va, 0), 100, "outside the range: kept");
	cr_assert_eq(get(vm, va, 1), 0, "freed: zero fill again");
	cr_assert_eq(get(vm, va, 2), 0);
	cr_assert_eq(get(vm, va, 3), 103);
	uvmspace_free(vm);
}

/* MADV_DONTNEED and msync(MS_INVALIDATE): deactivated, data kept. */
Test(uvm_fault, dontneed_and_invalidate_deactivate_and_keep_data)
{
	struct vmspace *vm = newvm();
	vaddr_t va = 0x700000;
	struct vm_page *pg;
	int i;

	cr_assert_eq(uvm_mmap_anon(&vm->vm_map, &va, ptoa(2),
	    VM_PROT_READ | VM_PROT_WRITE, UVM_MMAP_FIXED), 0);
	put(vm, va, 0, 7);
	put(vm, va, 1, 8);
	pg = page_at(vm, va);
	cr_assert_not_null(pg);
	cr_assert_eq(uvm_madvise(&vm->vm_map, va, ptoa(1), UVM_MADV_DONTNEED),
	    0);
	cr_assert(pg_flags_load(pg) & PQ_INACTIVE, "deactivated");
	cr_assert_null(page_at(vm, va), "its mappings zapped");
	pg = page_at(vm, va + ptoa(1));
	cr_assert_eq(uvm_msync(&vm->vm_map, va + ptoa(1), ptoa(1),
	    UVM_MS_INVALIDATE), 0);
	cr_assert(pg_flags_load(pg) & PQ_INACTIVE, "anons: only deactivated");
	for (i = 0; i < 2; i++)
		cr_assert_eq(get(vm, va, i), 7 + (uint64_t)i, "page %d kept", i);
	uvmspace_free(vm);
}

/* MADV_FREE of shared anonymous memory (an aobj with one reference). */
Test(uvm_fault, madvise_free_frees_aobj_pages)
{
	struct vmspace *vm = newvm();
	vaddr_t va = 0x700000;

	cr_assert_eq(uvm_mmap_anon(&vm->vm_map, &va, ptoa(2),
	    VM_PROT_READ | VM_PROT_WRITE, UVM_MMAP_FIXED | UVM_MMAP_SHARED), 0);
	put(vm, va, 0, 5);
	put(vm, va, 1, 6);
	cr_assert_eq(uvm_madvise(&vm->vm_map, va, ptoa(1), UVM_MADV_FREE), 0);
	cr_assert_eq(get(vm, va, 0), 0, "the object's page was freed");
	cr_assert_eq(get(vm, va, 1), 6);
	uvmspace_free(vm);
}

/* Wired pages are skipped by MADV_FREE; holes and bad flags refused. */
Test(uvm_fault, madvise_free_skips_wired_pages_and_refuses_holes)
{
	struct vmspace *vm = newvm();
	vaddr_t va = 0x700000;

	cr_assert_eq(uvm_mmap_anon(&vm->vm_map, &va, ptoa(2),
	    VM_PROT_READ | VM_PROT_WRITE, UVM_MMAP_FIXED), 0);
	put(vm, va, 0, 9);
	cr_assert_eq(uvm_mlock(&vm->vm_map, va, ptoa(1)), 0);
	cr_assert_eq(uvm_madvise(&vm->vm_map, va, ptoa(2), UVM_MADV_FREE), 0);
	cr_assert_eq(get(vm, va, 0), 9, "a wired page keeps its data");
	cr_assert_eq(uvm_munlock(&vm->vm_map, va, ptoa(1)), 0);
	cr_assert_eq(uvm_madvise(&vm->vm_map, va, ptoa(3), UVM_MADV_FREE),
	    EFAULT, "a hole after the mapping");
	cr_assert_eq(uvm_msync(&vm->vm_map, va, ptoa(1), UVM_MS_ASYNC |
	    UVM_MS_SYNC), EINVAL);
	cr_assert_eq(uvm_madvise(&vm->vm_map, va, ptoa(1), 99), EINVAL);
	uvmspace_free(vm);
}
