/*
 * tests/test_vm_glue.c: vm/vm_glue.c, the process half of the seed
 * FreeBSD vm_glue.c: kernacc, useracc, vslock, vsunlock, the kernel
 * stacks (vm_thread_new, vm_thread_dispose, vm_thread_stack_dispose,
 * vm_thread_stack_lowmem, kstack_cache_init and the pagedaemon's
 * vm_lowmem event), intr_prof_stack_use, vm_forkproc, vm_waitproc.
 *
 * Each test boots its own machine and VM and calls vm_glue_init.  What
 * needs curproc (useracc, vslock, vm_forkproc) runs on an LWP of a
 * process with a vmspace; LWP bodies never cr_assert: they leave their
 * results in a struct the test checks after lwp_join.  A panic is
 * checked through the panic hook, which ends the test with exit status
 * GUARD_EXIT only when the message is the one expected.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <criterion/redirect.h>

#include "host/clock.h"
#include "host/kassert.h"
#include "host/thread.h"
#include "tests/vmtest.h"
#include "vm/uvm.h"
#include "vm/uvm_km.h"
#include "vm/uvm_map.h"
#include "vm/uvm_mmap.h"
#include "vm/uvm_pdaemon.h"
#include "vm/vm_glue.h"

#define kpage(va)	vmtest_page_at(pmap_kernel(), (va))
#define upage(vm, va)	vmtest_page_at((vm)->vm_map.pmap, (va))

#define P(n)		((vsize_t)(n) * PAGE_SIZE)
#define WAIT_NS		(10 * 1000000000ull)
#define GUARD_EXIT	42	/* the panic named a kstack guard */
#define OTHER_EXIT	43	/* some other panic */
#define UVA		((vaddr_t)0x100000)

#define WAIT_FOR(cond)							\
	do {								\
		uint64_t wf_dl_ = host_real_ns() + WAIT_NS;		\
		while (!(cond)) {					\
			cr_assert(host_real_ns() < wf_dl_,		\
			    "timed out waiting for %s", #cond);		\
			usleep(1000);					\
		}							\
	} while (0)

/* local prototypes */
static void glue_boot(void);
static struct proc *newproc(const char *name);
static void on_lwp(struct proc *p, void (*fn)(void *), void *arg);
static int pages_free(void);
static void guard_panic_hook(const char *msg);
static void stack_overflow_fn(void *arg);
static void overflow_panic_hook(const char *msg);
static void touch_guard(void *arg);
static void vslock_hold_fn(void *arg);
static bool lwp_waits_in(struct lwp *l, const char *wmesg);
static void useracc_fn(void *arg);
static void vslock_fn(void *arg);
static void probe_fn(void *arg);
static void fork_fn(void *arg);
static void severe_fn(void *arg);

TestSuite(vm_glue, .init = glue_boot, .fini = vmtest_shutdown,
    .timeout = 60);

static void
glue_boot(void)
{
	vmtest_boot();
	vm_glue_init();
}

/* A process with an empty user vmspace. */
static struct proc *
newproc(const char *name)
{
	struct proc *p;

	cr_assert_eq(proc_create(name, &p), 0);
	p->p_vmspace = uvmspace_alloc(PAGE_SIZE, VM_MAXUSER_ADDRESS, true);
	cr_assert_not_null(p->p_vmspace);
	return p;
}

/* Run fn(arg) on a new LWP of p and wait for it. */
static void
on_lwp(struct proc *p, void (*fn)(void *), void *arg)
{
	struct lwp *l;

	cr_assert_eq(lwp_create(p, "glue", 0, fn, arg, &l), 0);
	lwp_join(l);
}

/* Free pages, with pool pages (map entries come and go) counted free. */
static int
pages_free(void)
{
	return uvmexp_read(free) + uvmexp_read(kernel);
}

/*
 * kernacc: true for mapped kernel memory with the access, false for a
 * guard page, freed memory, a range that wraps (a negative len: without
 * the overflow check it would be an empty range, "accessible"), and one
 * past the end of kernel_map.
 */
Test(vm_glue, kernacc_checks_kernel_map_overflow_and_guards)
{
	struct lwp td;
	vaddr_t va;

	va = uvm_km_alloc1(kernel_map, P(2), true);
	cr_assert_neq(va, 0);
	cr_assert(kernacc((void *)va, (int)P(2),
	    VM_PROT_READ | VM_PROT_WRITE));
	cr_assert(kernacc((void *)(va + 10), 100, VM_PROT_READ));
	cr_assert_not(kernacc((void *)(va + P(1)), -1, VM_PROT_READ),
	    "a wrapping range is refused");
	cr_assert_not(kernacc((void *)(UINTPTR_MAX - 16), 64, VM_PROT_READ));
	cr_assert_not(kernacc((void *)(vm_map_max(kernel_map) - 8), 16,
	    VM_PROT_READ), "beyond kernel_map");

	memset(&td, 0, sizeof(td));
	cr_assert_eq(vm_thread_new(&td, 0), 1);
	cr_assert(kernacc((void *)td.l_kstack, (int)P(KSTACK_PAGES),
	    VM_PROT_READ | VM_PROT_WRITE));
	cr_assert_not(kernacc((void *)(td.l_kstack - 8), 8, VM_PROT_READ),
	    "the guard page is not accessible");
	cr_assert_not(kernacc((void *)(td.l_kstack - 8), 16, VM_PROT_READ),
	    "a range into the guard");

	uvm_km_free(kernel_map, va, P(2), 0);
	cr_assert_not(kernacc((void *)va, 1, VM_PROT_READ), "freed");
}

struct useracc_ctx {
	bool	rw_rw, ro_r, ro_w, hole, beyond, wrap, overflow, span;
};

static void
useracc_fn(void *arg)
{
	struct useracc_ctx *c = arg;
	vaddr_t max = vm_map_max(&curproc->p_vmspace->vm_map);

	c->rw_rw = useracc((void *)(UVA + 8), (int)P(3),
	    VM_PROT_READ | VM_PROT_WRITE);
	c->ro_r = useracc((void *)(UVA + P(8)), (int)P(2), VM_PROT_READ);
	c->ro_w = useracc((void *)(UVA + P(8)), (int)P(2), VM_PROT_WRITE);
	c->hole = useracc((void *)(UVA + P(4)), 16, VM_PROT_READ);
	c->span = useracc((void *)UVA, (int)P(10), VM_PROT_READ);
	c->beyond = useracc((void *)(max - 8), 16, VM_PROT_READ);
	c->wrap = useracc((void *)(UVA + P(1)), -1, VM_PROT_READ);
	c->overflow = useracc((void *)(UINTPTR_MAX - 16), 64, VM_PROT_READ);
}

/* useracc: curproc's map, its protections, holes, overflow, vm_map_max. */
Test(vm_glue, useracc_checks_curprocs_map)
{
	struct proc *p = newproc("useracc");
	struct vm_map *map = &p->p_vmspace->vm_map;
	struct useracc_ctx c;
	vaddr_t va;

	va = UVA;
	cr_assert_eq(uvm_mmap_anon(map, &va, P(4),
	    VM_PROT_READ | VM_PROT_WRITE, UVM_MMAP_FIXED), 0);
	va = UVA + P(8);
	cr_assert_eq(uvm_mmap_anon(map, &va, P(2), VM_PROT_READ,
	    UVM_MMAP_FIXED), 0);
	/* the last page below vm_map_max is mapped: only the check refuses */
	va = vm_map_max(map) - P(1);
	cr_assert_eq(uvm_mmap_anon(map, &va, P(1), VM_PROT_READ,
	    UVM_MMAP_FIXED), 0);

	memset(&c, 0xff, sizeof(c));
	on_lwp(p, useracc_fn, &c);
	cr_assert(c.rw_rw);
	cr_assert(c.ro_r);
	cr_assert_not(c.ro_w, "read-only memory is not writable");
	cr_assert_not(c.hole);
	cr_assert_not(c.span, "a range with a hole");
	cr_assert_not(c.beyond);
	cr_assert_not(c.wrap, "a wrapping range is refused");
	cr_assert_not(c.overflow);
	vm_waitproc(p);
}

struct vslock_ctx {
	int	einval, enomem, efault, efault_wired, ok, wired_in, wired_out;
};

static void
vslock_fn(void *arg)
{
	struct vslock_ctx *c = arg;
	int wired = uvmexp_read(wired);

	c->einval = vslock((void *)(UINTPTR_MAX - 100), 200);
	c->enomem = vslock((void *)UVA,
	    (size_t)P(uvmexp_read(wiredmax) + 1));
	/* [UVA, UVA + 2 pages) and [UVA + 3, UVA + 4): a hole at page 2 */
	c->efault = vslock((void *)UVA, P(4));
	c->efault_wired = uvmexp_read(wired) - wired;
	/* unaligned: 3 pages from UVA + 100 touch 4 pages */
	c->ok = vslock((void *)(UVA + P(8) + 100), P(3));
	c->wired_in = uvmexp_read(wired) - wired;
	vsunlock((void *)(UVA + P(8) + 100), P(3));
	c->wired_out = uvmexp_read(wired) - wired;
}

/*
 * vslock: EINVAL for a wrapping range, ENOMEM past uvmexp.wiredmax,
 * EFAULT for a hole (nothing left wired); otherwise the pages are
 * resident and wired, and vsunlock unwires them.
 */
Test(vm_glue, vslock_errors_wiring_and_vsunlock)
{
	struct proc *p = newproc("vslock");
	struct vm_map *map = &p->p_vmspace->vm_map;
	struct vslock_ctx c;
	vaddr_t va;
	int i;

	va = UVA;
	cr_assert_eq(uvm_mmap_anon(map, &va, P(2),
	    VM_PROT_READ | VM_PROT_WRITE, UVM_MMAP_FIXED), 0);
	va = UVA + P(3);
	cr_assert_eq(uvm_mmap_anon(map, &va, P(1),
	    VM_PROT_READ | VM_PROT_WRITE, UVM_MMAP_FIXED), 0);
	va = UVA + P(8);
	cr_assert_eq(uvm_mmap_anon(map, &va, P(4),
	    VM_PROT_READ | VM_PROT_WRITE, UVM_MMAP_FIXED), 0);
	for (i = 0; i < 4; i++)
		cr_assert_null(upage(p->p_vmspace, UVA + P(8 + i)),
		    "not resident before vslock");

	on_lwp(p, vslock_fn, &c);
	cr_assert_eq(c.einval, EINVAL);
	cr_assert_eq(c.enomem, ENOMEM);
	cr_assert_eq(c.efault, EFAULT);
	cr_assert_eq(c.efault_wired, 0, "a failed vslock leaves nothing wired");
	cr_assert_eq(c.ok, 0);
	cr_assert_eq(c.wired_in, 4, "four pages wired");
	cr_assert_eq(c.wired_out, 0, "vsunlock unwired them");
	for (i = 0; i < 4; i++) {
		struct vm_page *pg = upage(p->p_vmspace, UVA + P(8 + i));

		cr_assert_not_null(pg, "page %d faulted in by vslock", i);
		cr_assert_eq(pg->wire_count, 0, "page %d unwired", i);
	}
	cr_assert_eq(pmap_wired_count(map->pmap), 0);
	vm_waitproc(p);
}

/* vslock's wiring itself, seen from outside while it holds. */
struct vslock_hold_ctx {
	int	error;
	int	wire_counts[4];
	bool	pmap_wired[4];
};

static void
vslock_hold_fn(void *arg)
{
	struct vslock_hold_ctx *c = arg;
	struct vmspace *vm = curproc->p_vmspace;
	int i;

	c->error = vslock((void *)UVA, P(4));
	for (i = 0; i < 4; i++) {
		struct vm_page *pg = upage(vm, UVA + P(i));
		paddr_t pa;

		c->wire_counts[i] = pg != NULL ? (int)pg->wire_count : -1;
		c->pmap_wired[i] = pg != NULL &&
		    pmap_extract(vm->vm_map.pmap, UVA + P(i), &pa) &&
		    pmap_is_wired(vm->vm_map.pmap, UVA + P(i), pa);
	}
	vsunlock((void *)UVA, P(4));
}

Test(vm_glue, vslock_pages_are_resident_and_wired_until_vsunlock)
{
	struct proc *p = newproc("vslock2");
	struct vslock_hold_ctx c;
	vaddr_t va = UVA;
	int i;

	cr_assert_eq(uvm_mmap_anon(&p->p_vmspace->vm_map, &va, P(4),
	    VM_PROT_READ | VM_PROT_WRITE, UVM_MMAP_FIXED), 0);
	on_lwp(p, vslock_hold_fn, &c);
	cr_assert_eq(c.error, 0);
	for (i = 0; i < 4; i++) {
		cr_assert_eq(c.wire_counts[i], 1, "page %d wired once", i);
		cr_assert(c.pmap_wired[i], "page %d: a wired mapping", i);
		cr_assert_eq(upage(p->p_vmspace, UVA + P(i))->wire_count, 0);
	}
	vm_waitproc(p);
}

/*
 * vm_thread_new: KSTACK_PAGES pages (bounds as the seed), resident,
 * wired, in the stack's own object at offsets 0.., writable; kstacks
 * counts it.
 */
Test(vm_glue, vm_thread_new_gives_a_resident_wired_writable_stack)
{
	struct lwp td, td8, td1, tdmax;
	struct uvm_object *ksobj;
	int wired = uvmexp_read(wired), i;

	memset(&td, 0, sizeof(td));
	cr_assert_eq(vm_thread_new(&td, 0), 1);
	cr_assert_neq(td.l_kstack, 0);
	cr_assert_eq(td.l_kstack & PAGE_MASK, 0);
	cr_assert_eq(td.l_kstack_pages, KSTACK_PAGES);
	cr_assert_eq(td.l_kstack_sp, 0, "starts in user mode");
	ksobj = td.l_kstack_obj;
	cr_assert_not_null(ksobj);
	cr_assert_eq(vm_kstacks(), 1);
	cr_assert_eq(uvmexp_read(wired), wired + KSTACK_PAGES);
	for (i = 0; i < KSTACK_PAGES; i++) {
		struct vm_page *pg = kpage(td.l_kstack + P(i));

		cr_assert_not_null(pg, "stack page %d resident", i);
		cr_assert_eq(pg->wire_count, 1);
		cr_assert_eq(pg->uobject, ksobj);
		cr_assert_eq(pg->offset, (voff_t)P(i));
	}
	cr_assert_null(kpage(td.l_kstack - P(1)), "the guard maps nothing");
	memset((void *)td.l_kstack, 0xa5, P(KSTACK_PAGES));
	cr_assert_eq(((volatile uint8_t *)td.l_kstack)[P(KSTACK_PAGES) - 1],
	    0xa5);

	/* bounds: <= 1 is the default, more than the maximum is capped */
	memset(&td1, 0, sizeof(td1));
	memset(&td8, 0, sizeof(td8));
	memset(&tdmax, 0, sizeof(tdmax));
	cr_assert_eq(vm_thread_new(&td1, 1), 1);
	cr_assert_eq(td1.l_kstack_pages, KSTACK_PAGES);
	cr_assert_eq(vm_thread_new(&td8, 8), 1);
	cr_assert_eq(td8.l_kstack_pages, 8);
	cr_assert_eq(vm_thread_new(&tdmax, 1000), 1);
	cr_assert_eq(tdmax.l_kstack_pages, KSTACK_MAX_PAGES);
	memset((void *)tdmax.l_kstack, 1, P(KSTACK_MAX_PAGES));
	cr_assert_eq(vm_kstacks(), 4);
}

static void
guard_panic_hook(const char *msg)
{
	_exit(strstr(msg, "kstack guard page touched") != NULL ?
	    GUARD_EXIT : OTHER_EXIT);
}

/* A touch of the guard page traps and panics, naming a kstack guard. */
Test(vm_glue, a_guard_page_touch_traps_and_panics_as_a_kstack_guard,
    .exit_code = GUARD_EXIT)
{
	struct lwp td;

	cr_redirect_stderr();
	memset(&td, 0, sizeof(td));
	cr_assert_eq(vm_thread_new(&td, 0), 1);
	host_set_panic_hook(guard_panic_hook);
	*(volatile char *)(td.l_kstack - 1) = 1;
	_exit(1);			/* not reached */
}

/* Also from "user mode": a guard touch is never a simulated SIGSEGV. */
static void
touch_guard(void *arg)
{
	*(volatile char *)((vaddr_t)arg - 1) = 1;
}

Test(vm_glue, a_guard_touch_in_user_mode_panics_too,
    .exit_code = GUARD_EXIT)
{
	struct lwp td;

	cr_redirect_stderr();
	memset(&td, 0, sizeof(td));
	cr_assert_eq(vm_thread_new(&td, 0), 1);
	host_set_panic_hook(guard_panic_hook);
	(void)host_user_call(touch_guard, (void *)td.l_kstack, NULL);
	_exit(1);			/* not reached */
}

/* An LWP that pushes kernel frames past its stack hits its guard. */
static void
stack_overflow_fn(void *arg)
{
	int i;

	if (vm_thread_new(curlwp, 0) != 1)
		_exit(1);
	for (i = 0; i < 10000; i++)
		(void)vm_kstack_enter(curlwp, 1024);
	_exit(1);			/* not reached */
}

static void
overflow_panic_hook(const char *msg)
{
	_exit(strstr(msg, "kstack guard page touched") != NULL &&
	    strstr(msg, "kernel stack overflow of lwp") != NULL ?
	    GUARD_EXIT : OTHER_EXIT);
}

Test(vm_glue, a_kernel_stack_overflow_panics_naming_the_lwp,
    .exit_code = GUARD_EXIT)
{
	struct proc *p;

	cr_redirect_stderr();
	p = newproc("overflow");
	host_set_panic_hook(overflow_panic_hook);
	on_lwp(p, stack_overflow_fn, NULL);
	_exit(1);
}

/*
 * vm_thread_dispose caches a default-size stack; the next vm_thread_new
 * gets the same one back (same address and object, pages still wired).
 */
Test(vm_glue, vm_thread_dispose_caches_and_vm_thread_new_reuses)
{
	struct lwp td, td2;
	vaddr_t ks;
	void *obj;
	int wired;

	memset(&td, 0, sizeof(td));
	memset(&td2, 0, sizeof(td2));
	cr_assert_eq(vm_thread_new(&td, 0), 1);
	ks = td.l_kstack;
	obj = td.l_kstack_obj;
	wired = uvmexp_read(wired);
	vm_thread_dispose(&td);
	cr_assert_eq(td.l_kstack, 0);
	cr_assert_eq(td.l_kstack_pages, 0);
	cr_assert_eq(vm_kstack_cache_count(), 1);
	cr_assert_eq(vm_kstacks(), 1, "a cached stack still counts");
	cr_assert_eq(uvmexp_read(wired), wired, "cached pages stay wired");

	cr_assert_eq(vm_thread_new(&td2, 0), 1);
	cr_assert_eq(td2.l_kstack, ks, "the cached stack is reused");
	cr_assert_eq(td2.l_kstack_obj, obj);
	cr_assert_eq(td2.l_kstack_pages, KSTACK_PAGES);
	cr_assert_eq(vm_kstack_cache_count(), 0);
	cr_assert_eq(vm_kstacks(), 1);
	memset((void *)td2.l_kstack, 0, P(KSTACK_PAGES));
}

/*
 * The cache is bounded: a stack is cached only while there are no more
 * than kstack_cache_size stacks in all; other sizes are never cached
 * (vm_thread_stack_dispose frees them at once).
 */
Test(vm_glue, the_cache_is_bounded_and_other_sizes_are_freed)
{
	struct lwp td[4], big;
	int i, wired, before;

	vm_kstack_cache_size_set(2);
	cr_assert_eq(vm_kstack_cache_size(), 2);
	wired = uvmexp_read(wired);
	memset(td, 0, sizeof(td));
	for (i = 0; i < 4; i++)
		cr_assert_eq(vm_thread_new(&td[i], 0), 1);
	cr_assert_eq(vm_kstacks(), 4);
	for (i = 0; i < 4; i++)
		vm_thread_dispose(&td[i]);
	cr_assert_eq(vm_kstack_cache_count(), 2, "two cached, two freed");
	cr_assert_eq(vm_kstacks(), 2);
	cr_assert_eq(uvmexp_read(wired), wired + 2 * KSTACK_PAGES);

	vm_kstack_cache_size_set(128);
	memset(&big, 0, sizeof(big));
	before = pages_free();
	cr_assert_eq(vm_thread_new(&big, 8), 1);
	cr_assert_eq(vm_kstacks(), 3);
	vm_thread_dispose(&big);
	cr_assert_eq(vm_kstacks(), 2, "an 8-page stack is freed");
	cr_assert_eq(vm_kstack_cache_count(), 2);
	cr_assert_eq(uvmexp_read(wired), wired + 2 * KSTACK_PAGES);
	cr_assert_geq(pages_free(), before - 2, "its pages are free again");
}

/*
 * vm_thread_stack_lowmem empties the cache and frees the stacks: their
 * pages go back, their VA too.
 */
Test(vm_glue, vm_thread_stack_lowmem_empties_the_cache)
{
	struct lwp td[3];
	vaddr_t ks[3];
	int i, wired, before;

	memset(td, 0, sizeof(td));
	wired = uvmexp_read(wired);
	before = pages_free();
	for (i = 0; i < 3; i++) {
		cr_assert_eq(vm_thread_new(&td[i], 0), 1);
		ks[i] = td[i].l_kstack;
	}
	for (i = 0; i < 3; i++)
		vm_thread_dispose(&td[i]);
	cr_assert_eq(vm_kstack_cache_count(), 3);
	cr_assert_eq(uvmexp_read(wired), wired + 3 * KSTACK_PAGES);
	cr_assert_leq(pages_free(), before - 3 * KSTACK_PAGES);

	vm_thread_stack_lowmem(NULL);
	cr_assert_eq(vm_kstack_cache_count(), 0);
	cr_assert_eq(vm_kstacks(), 0);
	cr_assert_eq(uvmexp_read(wired), wired, "no stack page is wired");
	cr_assert_geq(pages_free(), before - 2,
	    "the pages are free again (but for map entry pool pages)");
	for (i = 0; i < 3; i++) {
		cr_assert_null(kpage(ks[i]));
		cr_assert_not(kernacc((void *)ks[i], 1, VM_PROT_READ),
		    "the VA is gone");
	}
}

/*
 * kstack_cache_init registered vm_thread_stack_lowmem on the vm_lowmem
 * event: the event empties the cache, and the pagedaemon fires it when a
 * pass starts under a shortage.
 */
Test(vm_glue, kstack_cache_init_registers_with_the_pagedaemons_lowmem_event)
{
	struct lwp td[2];
	struct pglist hold;
	struct vm_page *pg;
	int i, events;

	memset(td, 0, sizeof(td));
	for (i = 0; i < 2; i++)
		cr_assert_eq(vm_thread_new(&td[i], 0), 1);
	for (i = 0; i < 2; i++)
		vm_thread_dispose(&td[i]);
	cr_assert_eq(vm_kstack_cache_count(), 2);

	kstack_cache_init(NULL);	/* a second registration: ignored */
	events = uvm_lowmem_count();
	uvm_lowmem_invoke();
	cr_assert_eq(uvm_lowmem_count(), events + 1);
	cr_assert_eq(vm_kstack_cache_count(), 0, "the handler ran");
	cr_assert_eq(vm_kstacks(), 0);

	/* now from the pagedaemon: cache two again, then a shortage */
	for (i = 0; i < 2; i++)
		cr_assert_eq(vm_thread_new(&td[i], 0), 1);
	for (i = 0; i < 2; i++)
		vm_thread_dispose(&td[i]);
	cr_assert_eq(vm_kstack_cache_count(), 2);
	vmtest_attach_swap(64);
	cr_assert_eq(uvm_pdaemon_start(), 0);
	events = uvm_lowmem_count();
	TAILQ_INIT(&hold);
	while ((pg = uvm_pagealloc(NULL, 0, NULL, 0)) != NULL)
		TAILQ_INSERT_TAIL(&hold, pg, pageq);
	cr_assert_lt(uvmexp_read(free), uvmexp_read(freetarg));
	/*
	 * The allocator's own wakeups may all have come before the daemon
	 * first slept (they are lost then); uvm_wait's is not (pd.wanted),
	 * and it returns once a pass has ended.
	 */
	uvm_wait("gluetest");
	WAIT_FOR(uvm_lowmem_count() > events && vm_kstacks() == 0);
	cr_assert_eq(vm_kstack_cache_count(), 0);
	while ((pg = TAILQ_FIRST(&hold)) != NULL) {
		TAILQ_REMOVE(&hold, pg, pageq);
		uvm_pagefree(pg);
	}
	uvm_pdaemon_stop();
}

/*
 * intr_prof_stack_use: ignores user mode and a stack pointer outside the
 * thread's stack; keeps the maximum depth (top - sp, plus the frame the
 * interrupt pushes).
 */
Test(vm_glue, intr_prof_stack_use_records_the_maximum)
{
	struct lwp td;
	struct trapframe tf;
	vaddr_t top;

	memset(&td, 0, sizeof(td));
	cr_assert_eq(vm_thread_new(&td, 0), 1);
	top = td.l_kstack + P(td.l_kstack_pages);
	cr_assert_eq(vm_max_kstack_used(), 0);

	tf.tf_usermode = 1;
	tf.tf_sp = top - 3000;
	intr_prof_stack_use(&td, &tf);
	cr_assert_eq(vm_max_kstack_used(), 0, "user mode: nothing");

	tf.tf_usermode = 0;
	tf.tf_sp = top + 4096;		/* another stack (an interrupt's) */
	intr_prof_stack_use(&td, &tf);
	cr_assert_eq(vm_max_kstack_used(), 0);
	tf.tf_sp = td.l_kstack + 8;	/* its frame would be below the stack */
	intr_prof_stack_use(&td, &tf);
	cr_assert_eq(vm_max_kstack_used(), 0);

	tf.tf_sp = top - 1000;
	intr_prof_stack_use(&td, &tf);
	cr_assert_eq(vm_max_kstack_used(), 1000 + (int)sizeof(tf));
	tf.tf_sp = top - 500;
	intr_prof_stack_use(&td, &tf);
	cr_assert_eq(vm_max_kstack_used(), 1000 + (int)sizeof(tf),
	    "a shallower sample keeps the maximum");
	tf.tf_sp = top - 2000;
	intr_prof_stack_use(&td, &tf);
	cr_assert_eq(vm_max_kstack_used(), 2000 + (int)sizeof(tf));
}

struct probe_ctx {
	int	ok;		/* 1: the clock saw exactly our depth */
	int	expect;
	vaddr_t	sp_after;
	int	pattern_ok;
};

/*
 * On an LWP with a kernel stack: enter the kernel three frames deep (in
 * the stack's memory), and stay there until the clock's probe has seen
 * it; then leave.
 */
static void
probe_fn(void *arg)
{
	struct probe_ctx *c = arg;
	struct lwp *l = curlwp;
	uint64_t dl = host_real_ns() + WAIT_NS;
	uint64_t *f[3];
	vaddr_t top;
	int i;

	if (vm_thread_new(l, 0) != 1)
		return;
	top = l->l_kstack + P(l->l_kstack_pages);
	for (i = 0; i < 3; i++) {
		f[i] = vm_kstack_enter(l, 512);
		f[i][0] = 0x1111u * (unsigned)(i + 1);
	}
	c->expect = (int)(top - l->l_kstack_sp + sizeof(struct trapframe));
	while (vm_max_kstack_used() < c->expect && host_real_ns() < dl)
		sched_yield();
	c->ok = vm_max_kstack_used() == c->expect;
	c->pattern_ok = 1;
	for (i = 2; i >= 0; i--) {
		if (f[i][0] != 0x1111u * (unsigned)(i + 1))
			c->pattern_ok = 0;
		vm_kstack_leave(l, f[i]);
	}
	c->sp_after = l->l_kstack_sp;
	vm_thread_dispose(l);
}

/* The clock interrupt's hook probes the running LWP's kernel stack. */
Test(vm_glue, the_clock_probes_running_lwps_kernel_stacks)
{
	struct proc *p = newproc("probe");
	struct probe_ctx c;

	memset(&c, 0, sizeof(c));
	on_lwp(p, probe_fn, &c);
	cr_assert_gt(c.expect, 3 * 512);
	cr_assert_lt(c.expect, (int)P(KSTACK_PAGES));
	cr_assert_eq(c.ok, 1, "max_kstack_used %d, expected %d",
	    vm_max_kstack_used(), c.expect);
	cr_assert_eq(c.pattern_ok, 1, "frames live in the stack's memory");
	cr_assert_eq(c.sp_after, 0, "back in user mode");
	vm_waitproc(p);
}

struct fork_ctx {
	struct proc	*p2;
	struct lwp	*td2;
	struct vmspace	*vm2;
	int		flags;
	int		error;
};

static void
fork_fn(void *arg)
{
	struct fork_ctx *c = arg;

	c->error = vm_forkproc(curlwp, c->p2, c->td2, c->vm2, c->flags);
}

/* RFPROC|RFMEM: the child shares the parent's vmspace (a reference). */
Test(vm_glue, vm_forkproc_rfmem_shares_the_vmspace)
{
	struct proc *p1 = newproc("parent");
	struct lwp td2;
	struct fork_ctx c;

	memset(&td2, 0, sizeof(td2));
	memset(&c, 0, sizeof(c));
	cr_assert_eq(proc_create("child", &c.p2), 0);
	c.td2 = &td2;
	c.flags = RFPROC | RFMEM;
	on_lwp(p1, fork_fn, &c);
	cr_assert_eq(c.error, 0);
	cr_assert_eq(c.p2->p_vmspace, p1->p_vmspace);
	cr_assert_eq(p1->p_vmspace->vm_refcnt, 2);
	cr_assert_neq(td2.l_kstack, 0, "cpu_fork: the child has a kstack");
	cr_assert_eq(td2.l_kstack_sp, 0, "and starts in user mode");
	vm_waitproc(c.p2);
	cr_assert_eq(p1->p_vmspace->vm_refcnt, 1);
	vm_waitproc(p1);
}

/* RFPROC alone: the child gets vm2, the parent's stays unshared. */
Test(vm_glue, vm_forkproc_rfproc_takes_vm2)
{
	struct proc *p1 = newproc("parent");
	struct lwp td2;
	struct fork_ctx c;
	vaddr_t va = UVA;
	uint64_t v = 77;

	cr_assert_eq(uvm_mmap_anon(&p1->p_vmspace->vm_map, &va, P(1),
	    VM_PROT_READ | VM_PROT_WRITE, UVM_MMAP_FIXED), 0);
	cr_assert_eq(user_access(p1->p_vmspace, UVA, true, &v), 0);
	memset(&td2, 0, sizeof(td2));
	memset(&c, 0, sizeof(c));
	cr_assert_eq(proc_create("child", &c.p2), 0);
	c.td2 = &td2;
	c.vm2 = uvmspace_fork(p1->p_vmspace);
	cr_assert_not_null(c.vm2);
	c.flags = RFPROC | RFFDG;
	on_lwp(p1, fork_fn, &c);
	cr_assert_eq(c.error, 0);
	cr_assert_eq(c.p2->p_vmspace, c.vm2);
	cr_assert_eq(p1->p_vmspace->vm_refcnt, 1);
	cr_assert_eq(c.vm2->vm_refcnt, 1);
	v = 0;
	cr_assert_eq(user_access(c.p2->p_vmspace, UVA, false, &v), 0);
	cr_assert_eq(v, 77, "the child's copy");
	cr_assert_neq(td2.l_kstack, 0);
	vm_waitproc(c.p2);
	vm_waitproc(p1);
}

/*
 * rfork without RFPROC: a shared vmspace is divorced (uvmspace_unshare:
 * the caller's process gets a copy, the other keeps the original); an
 * unshared one, or RFMEM, is left alone.
 */
Test(vm_glue, vm_forkproc_without_rfproc_unshares_a_shared_vmspace)
{
	struct proc *p1 = newproc("rforker"), *p3;
	struct vmspace *shared, *own;
	struct fork_ctx c;
	vaddr_t va = UVA;
	uint64_t v = 1234;

	cr_assert_eq(uvm_mmap_anon(&p1->p_vmspace->vm_map, &va, P(1),
	    VM_PROT_READ | VM_PROT_WRITE, UVM_MMAP_FIXED), 0);
	cr_assert_eq(user_access(p1->p_vmspace, UVA, true, &v), 0);
	memset(&c, 0, sizeof(c));

	/* not shared: nothing happens */
	own = p1->p_vmspace;
	c.flags = 0;
	on_lwp(p1, fork_fn, &c);
	cr_assert_eq(c.error, 0);
	cr_assert_eq(p1->p_vmspace, own, "an unshared vmspace stays");

	/* shared with p3; RFMEM: stays shared */
	cr_assert_eq(proc_create("sharer", &p3), 0);
	uvmspace_share(p1, p3);
	shared = p1->p_vmspace;
	cr_assert_eq(shared->vm_refcnt, 2);
	c.flags = RFMEM;
	on_lwp(p1, fork_fn, &c);
	cr_assert_eq(c.error, 0);
	cr_assert_eq(p1->p_vmspace, shared);

	/* shared, no RFMEM: p1 gets its own copy */
	c.flags = 0;
	on_lwp(p1, fork_fn, &c);
	cr_assert_eq(c.error, 0);
	cr_assert_neq(p1->p_vmspace, shared, "divorced");
	cr_assert_eq(p3->p_vmspace, shared);
	cr_assert_eq(shared->vm_refcnt, 1);
	cr_assert_eq(p1->p_vmspace->vm_refcnt, 1);
	v = 0;
	cr_assert_eq(user_access(p1->p_vmspace, UVA, false, &v), 0);
	cr_assert_eq(v, 1234, "same contents, copy on write");
	vm_waitproc(p3);
	vm_waitproc(p1);
}

struct severe_ctx {
	struct proc	*p2;
	struct lwp	td2;
	int		error;
	int		done;		/* [a] */
};

static void
severe_fn(void *arg)
{
	struct severe_ctx *c = arg;

	c->error = vm_forkproc(curlwp, c->p2, &c->td2, NULL, RFPROC | RFMEM);
	__atomic_store_n(&c->done, 1, __ATOMIC_RELEASE);
}

static bool
lwp_waits_in(struct lwp *l, const char *wmesg)
{
	bool in;

	lwp_lock(l);
	in = l->l_wmesg != NULL && strcmp(l->l_wmesg, wmesg) == 0;
	lwp_unlock(l);
	return in;
}

/*
 * while (vm_page_count_severe()) VM_WAIT: a fork waits (uvm_wait) while
 * free memory is below freemin / 2, and goes on once there is memory.
 */
Test(vm_glue, vm_forkproc_waits_while_memory_is_severe)
{
	struct proc *p1 = newproc("severe");
	struct severe_ctx *c = calloc(1, sizeof(*c));
	struct pglist hold;
	struct vm_page *pg;
	struct lwp *l;

	cr_assert_not_null(c);
	cr_assert_eq(proc_create("child", &c->p2), 0);
	/* its kernel stack first: the fork itself then needs no memory */
	cr_assert_eq(vm_thread_new(&c->td2, 0), 1);
	TAILQ_INIT(&hold);
	while ((pg = uvm_pagealloc(NULL, 0, NULL, 0)) != NULL)
		TAILQ_INSERT_TAIL(&hold, pg, pageq);
	cr_assert_lt(uvmexp_read(free), uvmexp_read(freemin) / 2);

	cr_assert_eq(lwp_create(p1, "forker", 0, severe_fn, c, &l), 0);
	WAIT_FOR(lwp_waits_in(l, "vmforkw"));
	cr_assert_eq(__atomic_load_n(&c->done, __ATOMIC_ACQUIRE), 0,
	    "no fork while memory is severe");
	while ((pg = TAILQ_FIRST(&hold)) != NULL) {
		TAILQ_REMOVE(&hold, pg, pageq);
		uvm_pagefree(pg);
	}
	lwp_join(l);
	cr_assert_eq(c->error, 0);
	cr_assert_eq(c->p2->p_vmspace, p1->p_vmspace);
	vm_waitproc(c->p2);
	vm_waitproc(p1);
}

/*
 * vm_waitproc: the reaped process's reference goes; the last one frees
 * the vmspace and its pages; p_vmspace is NULL.
 */
Test(vm_glue, vm_waitproc_frees_the_vmspace)
{
	struct proc *p = newproc("reaped"), *p2;
	struct vmspace *vm = p->p_vmspace;
	vaddr_t va = UVA;
	uint64_t v;
	int i, before;

	cr_assert_eq(uvm_mmap_anon(&vm->vm_map, &va, P(16),
	    VM_PROT_READ | VM_PROT_WRITE, UVM_MMAP_FIXED), 0);
	before = pages_free();
	for (i = 0; i < 16; i++) {
		v = (uint64_t)i;
		cr_assert_eq(user_access(vm, UVA + P(i), true, &v), 0);
	}
	cr_assert_leq(pages_free(), before - 16);

	/* shared: only the reference goes */
	cr_assert_eq(proc_create("other", &p2), 0);
	uvmspace_share(p, p2);
	vm_waitproc(p2);
	cr_assert_null(p2->p_vmspace);
	cr_assert_eq(vm->vm_refcnt, 1);
	v = 0;
	cr_assert_eq(user_access(vm, UVA + P(5), false, &v), 0);
	cr_assert_eq(v, 5, "still alive");

	vm_waitproc(p);
	cr_assert_null(p->p_vmspace);
	cr_assert_geq(pages_free(), before, "its pages are free");
}
