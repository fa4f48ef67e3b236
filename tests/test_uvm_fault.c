/*
 * tests/test_uvm_fault.c: uvm_fault through real traps: zero fill, object
 * pages, copy on write, protection, wiring, busy-page waits, no memory.
 */
#include <criterion/criterion.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include "host/sleepq.h"
#include "host/trap.h"
#include "vmtest.h"
#include "vm/uvm_aobj.h"
#include "vm/uvm_fault.h"
#include "vm/uvm_mmap.h"

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

static volatile uint64_t *
U(struct vmspace *vm, vaddr_t va)
{
	return pmap_hostaddr(vm->vm_map.pmap, va);
}

struct access {
	struct vmspace	*vm;
	vaddr_t		va;
	bool		write;
	uint64_t	value;
};

static void
do_access(void *arg)
{
	struct access *a = arg;

	if (a->write)
		*U(a->vm, a->va) = a->value;
	else
		a->value = *U(a->vm, a->va);
}

/* An access in user mode: 0 or the error of the simulated SIGSEGV. */
static int
user_access(struct vmspace *vm, vaddr_t va, bool write, uint64_t *value)
{
	struct access a = { vm, va, write, value != NULL ? *value : 0 };
	struct host_user_fault uf;

	if (host_user_call(do_access, &a, &uf) != 0)
		return uf.uf_error;
	if (value != NULL)
		*value = a.value;
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
