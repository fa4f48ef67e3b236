/*
 * tests/test_uvm_glue.c: vm/uvm_glue.c, the process half of the seed
 * uvm_glue.c (kernel access, vslock, fork and exit of address spaces and
 * LWPs, u-areas and their canary, limits).
 *
 * Each test boots its own machine and VM.  A kernel va is its own host
 * address: the tests read and write kernel memory (u-areas) through
 * plain pointers; a write that must fault goes through host_user_call,
 * which turns a refused fault into an error instead of a crash.  Panic
 * tests install a panic hook that checks the message and exits with
 * EXIT_FAILURE_FOUND only if it is the expected one.
 *
 * Helper LWPs never cr_assert; they report through atomics.
 */
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <criterion/redirect.h>

#include "host/clock.h"
#include "host/kassert.h"
#include "host/sleepq.h"
#include "host/trap.h"
#include "tests/vmtest.h"
#include "vm/uvm.h"
#include "vm/uvm_fault.h"
#include "vm/uvm_glue.h"
#include "vm/uvm_km.h"
#include "vm/uvm_map.h"
#include "vm/uvm_mmap.h"
#include "vm/uvm_pager.h"

#define kpage(va)	vmtest_page_at(pmap_kernel(), (va))
#define upage(vm, va)	vmtest_page_at((vm)->vm_map.pmap, (va))

#define WAIT_NS		(10 * 1000000000ull)
#define P(n)		((vsize_t)(n) * PAGE_SIZE)
#define UVA		((vaddr_t)0x100000)

#define WAIT_FOR(cond)							\
	do {								\
		uint64_t wf_dl_ = host_real_ns() + WAIT_NS;		\
		while (!(cond)) {					\
			cr_assert(host_real_ns() < wf_dl_,		\
			    "timed out waiting for %s", #cond);		\
			sched_yield();					\
		}							\
	} while (0)

static void
glue_boot(void)
{
	cr_redirect_stderr();
	vmtest_boot();
}

TestSuite(uvm_glue, .init = glue_boot, .fini = vmtest_shutdown);

/* local prototypes */
static vaddr_t kmap_ro(vsize_t);
static void kwrite_fn(void *);
static int kwrite(vaddr_t, uint64_t);
static bool uarea_wired(vaddr_t);
static void expect_panic(const char *);
static void panic_hook(const char *);
static void record_fn(void *);
static void sleeper_fn(void *);
static void exit_fn(void *);
static struct proc *newproc(struct vmspace **);
static uint64_t nswitch_of(vaddr_t);
static bool stat_zomb(struct lwp *);
static void plain_fn(void *);

/* ---- helpers ---- */

/*
 * A read-only (max: all) range of pageable kernel memory, faulted in and
 * wired read-only.
 */
static vaddr_t
kmap_ro(vsize_t size)
{
	vaddr_t va = vm_map_min(kernel_map);

	cr_assert_eq(uvm_map(kernel_map, &va, size, uvm.kernel_object,
	    UVM_UNKNOWN_OFFSET, 0, UVM_MAPFLAG(VM_PROT_READ, VM_PROT_ALL,
	    UVM_INH_NONE, UVM_ADV_RANDOM, 0)), 0);
	cr_assert_eq(uvm_fault_wire(kernel_map, va, va + size, VM_PROT_READ,
	    0), 0);
	return va;
}

struct kwrite {
	vaddr_t		va;
	uint64_t	v;
};

static void
kwrite_fn(void *arg)
{
	struct kwrite *kw = arg;

	*(volatile uint64_t *)kw->va = kw->v;
}

/* Write v at kernel va as the kernel would; 0 or the fault's error. */
static int
kwrite(vaddr_t va, uint64_t v)
{
	struct kwrite kw = { va, v };
	struct host_user_fault uf;

	if (host_user_call(kwrite_fn, &kw, &uf) != 0)
		return uf.uf_error;
	return 0;
}

/* Every page of the u-area at ua resident, wired in the pmap and VM. */
static bool
uarea_wired(vaddr_t ua)
{
	struct vm_page *pg;
	paddr_t pa;
	vaddr_t va;

	for (va = ua; va < ua + USPACE; va += PAGE_SIZE) {
		if (!pmap_extract(pmap_kernel(), va, &pa) ||
		    !pmap_is_wired(pmap_kernel(), va, pa))
			return false;
		pg = PHYS_TO_VM_PAGE(pa);
		if (pg->wire_count == 0 || pg->uobject != uvm.kernel_object)
			return false;
	}
	return true;
}

static uint64_t
nswitch_of(vaddr_t ua)
{
	return __atomic_load_n(&((struct upcb *)ua)->upcb_nswitch,
	    __ATOMIC_RELAXED);
}

static bool
stat_zomb(struct lwp *l)
{
	int st;

	lwp_lock(l);
	st = l->l_stat;
	lwp_unlock(l);
	return st == LSZOMB;
}

/* The panic a test expects: its message must contain all of these. */
static const char *panic_want[4];

static void
panic_hook(const char *msg)
{
	int i;

	for (i = 0; i < 4 && panic_want[i] != NULL; i++)
		if (strstr(msg, panic_want[i]) == NULL)
			_exit(EXIT_USAGE);	/* not the expected panic */
	_exit(EXIT_FAILURE_FOUND);
}

static void
expect_panic(const char *want)
{
	panic_want[0] = want;
	host_set_panic_hook(panic_hook);
}

static struct proc *
newproc(struct vmspace **vmp)
{
	struct proc *p;

	cr_assert_eq(proc_create("gluetest", &p), 0);
	if (vmp != NULL) {
		*vmp = uvmspace_alloc(PAGE_SIZE, VM_MAXUSER_ADDRESS, true);
		cr_assert_not_null(*vmp);
		p->p_vmspace = *vmp;
	}
	return p;
}

/* What an LWP saw of itself. */
struct record {
	struct lwp	*self;		/* curlwp */
	void		*addr;		/* its l_addr */
	uint64_t	nswitch;	/* canary checks before fn ran */
	int		flag;		/* its l_flag */
	int		ran;		/* [a] */
};

static void
record_fn(void *arg)
{
	struct record *r = arg;
	struct lwp *l = curlwp;

	r->self = l;
	r->addr = l->l_addr;
	r->nswitch = nswitch_of(USER_TO_UAREA(l->l_addr));
	lwp_lock(l);
	r->flag = l->l_flag;
	lwp_unlock(l);
	__atomic_store_n(&r->ran, 1, __ATOMIC_RELEASE);
}

/*
 * An LWP that sleeps nsleeps times on chan (woken by the test, or each
 * after one tick if timo), noting the canary checks around each sleep.
 */
struct sleeper {
	int		chan;
	int		nsleeps;
	int		timo;
	int		started;	/* [a] */
	int		slept;		/* [a] sleeps done */
	int		ran_on;		/* [a] back from the last sleep */
	uint64_t	before[8], after[8];
};

static void
sleeper_fn(void *arg)
{
	struct sleeper *s = arg;
	vaddr_t ua = USER_TO_UAREA(curlwp->l_addr);
	int i;

	__atomic_store_n(&s->started, 1, __ATOMIC_RELEASE);
	for (i = 0; i < s->nsleeps; i++) {
		s->before[i] = nswitch_of(ua);
		(void)tsleep(&s->chan, 0, "gluetst", s->timo);
		s->after[i] = nswitch_of(ua);
		__atomic_store_n(&s->slept, i + 1, __ATOMIC_RELEASE);
	}
	__atomic_store_n(&s->ran_on, 1, __ATOMIC_RELEASE);
}

/* ---- uvm_kernacc ---- */

Test(uvm_glue, uvm_kernacc_true_for_mapped_kernel_memory)
{
	vaddr_t va = uvm_km_alloc1(kernel_map, P(3), true);

	cr_assert_neq(va, 0);
	cr_assert(uvm_kernacc((void *)(va + 100), P(2), B_READ));
	cr_assert(uvm_kernacc((void *)(va + 100), P(2), B_WRITE));
	cr_assert(uvm_kernacc((void *)va, P(3), B_WRITE), "all of it");
	uvm_km_free(kernel_map, va, P(3), UVM_KMF_WIRED);
	cr_assert_not(uvm_kernacc((void *)va, P(1), B_READ), "freed");
}

Test(uvm_glue, uvm_kernacc_false_unmapped_or_over_protected)
{
	vaddr_t va = kmap_ro(P(2)), hole;

	cr_assert(uvm_kernacc((void *)va, P(2), B_READ));
	cr_assert_not(uvm_kernacc((void *)va, P(2), B_WRITE), "read-only");
	cr_assert_not(uvm_kernacc((void *)(va + P(1) + 8), 8, B_WRITE));
	/* a range running past the mapping into a hole */
	hole = uvm_km_valloc(kernel_map, P(1));
	cr_assert_neq(hole, 0);
	uvm_km_free(kernel_map, hole, P(1), UVM_KMF_VAONLY);
	cr_assert_not(uvm_kernacc((void *)hole, 8, B_READ), "unmapped");
	cr_assert_not(uvm_kernacc((void *)(va + P(1)), P(2), B_READ),
	    "ends past the entry");
	uvm_fault_unwire(kernel_map, va, va + P(2));
	uvm_unmap(kernel_map, va, va + P(2));
	cr_assert_not(uvm_kernacc((void *)va, 8, B_READ));
}

/* ---- uvm_chgkprot ---- */

Test(uvm_glue, uvm_chgkprot_forces_the_pmap_protection)
{
	vaddr_t va = kmap_ro(P(2));
	struct vm_page *pg0 = kpage(va), *pg1 = kpage(va + P(1));
	long wired = pmap_wired_count(pmap_kernel());

	cr_assert_not_null(pg0);
	cr_assert_not_null(pg1);
	cr_assert_eq(kwrite(va + 8, 1), EACCES, "read-only: the write faults");

	/* write-enable the second half of page 0 and the start of page 1 */
	uvm_chgkprot((void *)(va + 2048), P(1), B_WRITE);
	cr_assert_eq(kwrite(va + 8, 0x1111), 0, "page 0 writable now");
	cr_assert_eq(kwrite(va + P(1) + 8, 0x2222), 0, "page 1 too");
	cr_assert_eq(*(uint64_t *)(va + 8), 0x1111);
	cr_assert_eq(*(uint64_t *)(va + P(1) + 8), 0x2222);
	cr_assert_eq(kpage(va), pg0, "the same pages, not new ones");
	cr_assert_eq(kpage(va + P(1)), pg1);
	cr_assert(pmap_is_wired(pmap_kernel(), va, VM_PAGE_TO_PHYS(pg0)));
	cr_assert_eq(pmap_wired_count(pmap_kernel()), wired,
	    "re-entered as wired, not wired twice");
	cr_assert_not(uvm_kernacc((void *)va, 8, B_WRITE),
	    "the map is unchanged: only the pmap");

	/* and back to read-only */
	uvm_chgkprot((void *)va, P(2), B_READ);
	cr_assert_eq(kwrite(va + 16, 3), EACCES);
	cr_assert_eq(kwrite(va + P(1) + 16, 3), EACCES);
	cr_assert_eq(*(uint64_t *)(va + 8), 0x1111, "still readable");

	uvm_fault_unwire(kernel_map, va, va + P(2));
	uvm_unmap(kernel_map, va, va + P(2));
}

Test(uvm_glue, uvm_chgkprot_of_an_invalid_page_panics,
    .exit_code = EXIT_FAILURE_FOUND)
{
	vaddr_t va = uvm_km_valloc(kernel_map, P(2));	/* VA, no pages */

	cr_assert_neq(va, 0);
	expect_panic("uvm_chgkprot: invalid page");
	uvm_chgkprot((void *)va, 8, B_WRITE);
	cr_assert_fail("no panic");
}

/* ---- uvm_vslock / uvm_vsunlock ---- */

Test(uvm_glue, uvm_vslock_wires_and_uvm_vsunlock_unwires)
{
	struct vmspace *vm = uvmspace_alloc(PAGE_SIZE, VM_MAXUSER_ADDRESS,
	    true);
	vaddr_t va = UVA;
	int wired0 = uvmexp_read(wired), i;
	uint64_t v = 0x55;

	cr_assert_eq(uvm_mmap_anon(&vm->vm_map, &va, P(4),
	    VM_PROT_READ | VM_PROT_WRITE, UVM_MMAP_FIXED), 0);
	cr_assert_null(upage(vm, UVA), "nothing resident yet");
	/* 100 bytes in, two pages long: three pages */
	cr_assert_eq(uvm_vslock(vm, (void *)(UVA + 100), P(2),
	    VM_PROT_READ | VM_PROT_WRITE), 0);
	for (i = 0; i < 3; i++) {
		struct vm_page *pg = upage(vm, UVA + P(i));

		cr_assert_not_null(pg, "page %d resident", i);
		cr_assert_eq(pg->wire_count, 1, "page %d wired", i);
		cr_assert(pmap_is_wired(vm->vm_map.pmap, UVA + P(i),
		    VM_PAGE_TO_PHYS(pg)));
	}
	cr_assert_null(upage(vm, UVA + P(3)), "the fourth page untouched");
	cr_assert_eq(uvmexp_read(wired), wired0 + 3);
	cr_assert_eq(pmap_wired_count(vm->vm_map.pmap), 3);
	cr_assert_eq(user_access(vm, UVA + P(1), true, &v), 0);

	uvm_vsunlock(vm, (void *)(UVA + 100), P(2));
	for (i = 0; i < 3; i++) {
		struct vm_page *pg = upage(vm, UVA + P(i));

		cr_assert_not_null(pg, "still resident");
		cr_assert_eq(pg->wire_count, 0, "page %d unwired", i);
		cr_assert_not(pmap_is_wired(vm->vm_map.pmap, UVA + P(i),
		    VM_PAGE_TO_PHYS(pg)));
	}
	cr_assert_eq(uvmexp_read(wired), wired0);
	cr_assert_eq(pmap_wired_count(vm->vm_map.pmap), 0);
	v = 0;
	cr_assert_eq(user_access(vm, UVA + P(1), false, &v), 0);
	cr_assert_eq(v, 0x55);
	uvmspace_free(vm);
}

Test(uvm_glue, uvm_vslock_fails_with_uvm_fault_wires_error)
{
	struct vmspace *vm = uvmspace_alloc(PAGE_SIZE, VM_MAXUSER_ADDRESS,
	    true);
	vaddr_t va = UVA;
	int wired0 = uvmexp_read(wired);

	/* nothing there */
	cr_assert_eq(uvm_vslock(vm, (void *)UVA, P(1), VM_PROT_READ), EFAULT);
	/* one page, then a hole: the first is left unwired */
	cr_assert_eq(uvm_mmap_anon(&vm->vm_map, &va, P(1),
	    VM_PROT_READ | VM_PROT_WRITE, UVM_MMAP_FIXED), 0);
	cr_assert_eq(uvm_vslock(vm, (void *)UVA, P(2), VM_PROT_READ), EFAULT);
	cr_assert_not_null(upage(vm, UVA), "it was faulted in");
	cr_assert_eq(upage(vm, UVA)->wire_count, 0, "and unwired again");
	/* a read-only page wired for writing */
	va = UVA + P(8);
	cr_assert_eq(uvm_mmap_anon(&vm->vm_map, &va, P(1), VM_PROT_READ,
	    UVM_MMAP_FIXED), 0);
	cr_assert_eq(uvm_vslock(vm, (void *)va, 8, VM_PROT_WRITE), EACCES);
	cr_assert_eq(uvmexp_read(wired), wired0, "nothing left wired");
	cr_assert_eq(pmap_wired_count(vm->vm_map.pmap), 0);
	uvmspace_free(vm);
}

/* ---- the u-area cache ---- */

/*
 * uvm_uarea_init made the cache; uvm_uarea_alloc hands out u-areas made
 * by uarea_poolpage_alloc (pageable kernel_map memory in kernel_object)
 * and wired by uarea_ctor (uarea_swapin).
 */
Test(uvm_glue, uvm_uarea_alloc_gives_wired_kernel_map_memory)
{
	struct pool_cache_stats st0, st;
	struct vm_map_entry *entry;
	struct host_trap_stats t0, t1;
	vaddr_t ua, ub;

	uvm_uarea_stats(&st0);
	cr_assert(uvm_uarea_alloc(&ua), "in memory (wired)");
	cr_assert_neq(ua, 0);
	cr_assert_eq(ua & PAGE_MASK, 0);
	cr_assert(uarea_wired(ua));
	cr_assert(uvm_kernacc((void *)ua, USPACE, B_WRITE));
	vm_map_lock_read(kernel_map);
	cr_assert(uvm_map_lookup_entry(kernel_map, ua, &entry));
	cr_assert_eq(entry->object.uvm_obj, uvm.kernel_object, "pageable");
	cr_assert_eq(entry->wired_count, 0,
	    "wired in the pages, not the entry (no map fragmentation)");
	cr_assert_geq(entry->end, ua + USPACE);
	vm_map_unlock_read(kernel_map);
	uvm_uarea_stats(&st);
	cr_assert_eq(st.pcs_nctor, st0.pcs_nctor + 1, "uarea_ctor ran");

	/* wired: no fault when the kernel touches it */
	host_trap_get_stats(&t0);
	memset((void *)ua, 0xa5, USPACE);
	host_trap_get_stats(&t1);
	cr_assert_eq(t1.ntraps, t0.ntraps);

	cr_assert(uvm_uarea_alloc(&ub));
	cr_assert(ub + USPACE <= ua || ua + USPACE <= ub, "disjoint");
	uvm_uarea_free(ub, NULL);
	uvm_uarea_free(ua, NULL);
}

Test(uvm_glue, uvm_uarea_free_keeps_it_wired_in_the_cache_for_reuse)
{
	struct pool_cache_stats st0, st;
	vaddr_t ua, ub;

	cr_assert(uvm_uarea_alloc(&ua));
	uvm_uarea_stats(&st0);
	uvm_uarea_free(ua, NULL);
	cr_assert(uarea_wired(ua), "cached wired");
	uvm_uarea_stats(&st);
	cr_assert_eq(st.pcs_cached, st0.pcs_cached + 1);
	cr_assert(uvm_uarea_alloc(&ub));
	cr_assert_eq(ub, ua, "reused");
	uvm_uarea_stats(&st);
	cr_assert_eq(st.pcs_nctor, st0.pcs_nctor, "not constructed again");
	cr_assert_eq(st.pcs_hits, st0.pcs_hits + 1);
	uvm_uarea_free(ub, NULL);
}

/* Drained, a u-area goes back to kernel_map: uarea_poolpage_free. */
Test(uvm_glue, uarea_poolpage_free_unmaps_a_drained_uarea)
{
	struct vm_page *pgs[3][USPACE_PAGES];
	int wired0, i, j;
	vaddr_t ua[3];

	for (i = 0; i < 3; i++) {
		cr_assert(uvm_uarea_alloc(&ua[i]));
		for (j = 0; j < USPACE_PAGES; j++)
			pgs[i][j] = kpage(ua[i] + P(j));
	}
	wired0 = uvmexp_read(wired);
	for (i = 0; i < 3; i++)
		uvm_uarea_free(ua[i], NULL);
	cr_assert_eq(uvmexp_read(wired), wired0, "cached wired");
	cr_assert_eq(uvm_uarea_drain(), 3);
	for (i = 0; i < 3; i++) {
		cr_assert_null(kpage(ua[i]), "unmapped");
		cr_assert_not(uvm_kernacc((void *)ua[i], 8, B_READ));
		for (j = 0; j < USPACE_PAGES; j++)
			cr_assert(VM_PAGE_IS_FREE(pgs[i][j]),
			    "u-area %d page %d freed, though it was wired", i, j);
	}
	cr_assert_eq(uvmexp_read(wired), wired0 - 3 * USPACE_PAGES);
}

/* ---- LWPs with u-areas: uvm_lwp_create, uvm_lwp_fork, uvm_lwp_exit ---- */

Test(uvm_glue, uvm_lwp_create_runs_fn_on_a_new_lwp_with_a_uarea)
{
	struct proc *p = newproc(NULL);
	struct pool_cache_stats st0, st;
	struct record r = { 0 };
	struct lwp *l;
	vaddr_t ua, ub;

	cr_assert_eq(uvm_lwp_create(p, "glue", record_fn, &r, &l), 0);
	ua = USER_TO_UAREA(l->l_addr);
	cr_assert(uarea_wired(ua));
	WAIT_FOR(__atomic_load_n(&r.ran, __ATOMIC_ACQUIRE));
	cr_assert_eq(r.self, l, "fn ran on the new LWP");
	cr_assert_eq(r.addr, l->l_addr);
	cr_assert(r.flag & LW_INMEM);
	cr_assert_geq(r.nswitch, 1, "the canary was checked before fn ran");
	cr_assert_eq(((struct upcb *)ua)->upcb_lwp, l);

	uvm_uarea_stats(&st0);
	lwp_join(l);		/* the teardown: uvm_lwp_exit */
	uvm_uarea_stats(&st);
	cr_assert_eq(st.pcs_cached, st0.pcs_cached + 1,
	    "uvm_lwp_exit gave the u-area back");
	cr_assert(uarea_wired(ua), "cached wired");
	cr_assert(uvm_uarea_alloc(&ub));
	cr_assert_eq(ub, ua);
	uvm_uarea_free(ub, NULL);
	proc_free(p);
}

static void
plain_fn(void *arg)
{
	struct record *r = arg;

	__atomic_store_n(&r->ran, 1, __ATOMIC_RELEASE);
}

/* lwp_create's LWPs (and kernel threads) have no u-area: no check. */
Test(uvm_glue, lwp_create_lwps_have_no_uarea)
{
	struct proc *p = newproc(NULL);
	struct pool_cache_stats st0, st;
	struct lwp *l;
	struct record r = { 0 };

	uvm_uarea_stats(&st0);
	cr_assert_eq(lwp_create(p, "plain", 0, plain_fn,
	    &r, &l), 0);
	cr_assert_null(l->l_addr);
	lwp_join(l);
	cr_assert(r.ran);
	uvm_uarea_stats(&st);
	cr_assert_eq(st.pcs_nctor, st0.pcs_nctor);
	cr_assert_eq(st.pcs_hits + st.pcs_misses, st0.pcs_hits +
	    st0.pcs_misses);
	proc_free(p);
}

/*
 * uvm_lwp_fork of an LWP whose u-area is not in memory: uarea_swapin
 * wires it (the u-area unwired by hand as uarea_swapout would) and
 * LW_INMEM is set before the LWP may run.
 */
Test(uvm_glue, uvm_lwp_fork_swaps_in_a_uarea_not_in_memory)
{
	struct proc *p = newproc(NULL);
	struct record r = { 0 };
	struct lwp *l;
	vaddr_t ua;

	cr_assert(uvm_uarea_alloc(&ua));
	uvm_fault_unwire(kernel_map, ua, ua + USPACE);	/* = uarea_swapout */
	cr_assert_eq(kpage(ua)->wire_count, 0);
	cr_assert_eq(lwp_alloc(p, "swapin", 0, &l), 0);
	cr_assert_eq(l->l_stat, LSIDL);
	cr_assert_eq(l->l_flag & LW_INMEM, 0);
	l->l_addr = UAREA_TO_USER(ua);
	cr_assert_eq(uvm_lwp_fork(NULL, l, NULL, 0, record_fn, &r), 0);
	WAIT_FOR(__atomic_load_n(&r.ran, __ATOMIC_ACQUIRE));
	cr_assert(r.flag & LW_INMEM);
	cr_assert(uarea_wired(ua), "uarea_swapin wired it");
	cr_assert_geq(r.nswitch, 1);
	lwp_join(l);
	proc_free(p);
}

/* The canary is checked each time the LWP gets a CPU. */
Test(uvm_glue, the_canary_is_checked_whenever_the_lwp_runs)
{
	struct proc *p = newproc(NULL);
	struct sleeper s = { .nsleeps = 3, .timo = 1 };
	struct lwp *l;
	int i;

	cr_assert_eq(uvm_lwp_create(p, "sleeper", sleeper_fn, &s, &l), 0);
	WAIT_FOR(__atomic_load_n(&s.ran_on, __ATOMIC_ACQUIRE));
	for (i = 0; i < 3; i++)
		cr_assert_gt(s.after[i], s.before[i],
		    "sleep %d: checked when it got its CPU back", i);
	lwp_join(l);
	proc_free(p);
}

/*
 * Corrupt a guard word of a sleeping LWP's u-area; the LWP panics when it
 * next gets a CPU, naming itself, its u-area and the word.
 */
static void
canary_corrupt(const char *name, size_t off, const char *want_word)
{
	static char want_lwp[64], want_ua[64];
	struct proc *p = newproc(NULL);
	struct sleeper s = { .nsleeps = 1, .timo = 0 };
	struct lwp *l;
	vaddr_t ua;

	cr_assert_eq(uvm_lwp_create(p, name, sleeper_fn, &s, &l), 0);
	ua = USER_TO_UAREA(l->l_addr);
	WAIT_FOR(__atomic_load_n(&s.started, __ATOMIC_ACQUIRE) &&
	    sleepq_nsleepers(&s.chan) == 1);
	snprintf(want_lwp, sizeof(want_lwp), "LWP %d.%d (%s)", p->p_pid,
	    l->l_lid, name);
	snprintf(want_ua, sizeof(want_ua), "u-area %p", (void *)ua);
	panic_want[0] = "u-area canary (run)";
	panic_want[1] = want_lwp;
	panic_want[2] = want_ua;
	panic_want[3] = want_word;
	host_set_panic_hook(panic_hook);
	*(volatile uint64_t *)(ua + off) ^= 0x100;	/* a stray store */
	wakeup(&s.chan);
	WAIT_FOR(__atomic_load_n(&s.ran_on, __ATOMIC_ACQUIRE));
	cr_assert_fail("the LWP ran on with a bad canary");
}

Test(uvm_glue, a_bad_low_canary_panics_when_the_lwp_next_runs,
    .exit_code = EXIT_FAILURE_FOUND)
{
	canary_corrupt("lowguard", UAREA_GUARD_LO + 8, "bad word at +0x48");
}

Test(uvm_glue, a_bad_high_canary_panics_when_the_lwp_next_runs,
    .exit_code = EXIT_FAILURE_FOUND)
{
	canary_corrupt("highguard", USPACE - 8, "bad word at +0x1ff8");
}

/* Corrupted after its last run: uvm_lwp_exit catches it at the reaping. */
Test(uvm_glue, uvm_lwp_exit_checks_the_canary_a_last_time,
    .exit_code = EXIT_FAILURE_FOUND)
{
	struct proc *p = newproc(NULL);
	struct record r = { 0 };
	struct lwp *l;
	vaddr_t ua;

	cr_assert_eq(uvm_lwp_create(p, "exiting", record_fn, &r, &l), 0);
	ua = USER_TO_UAREA(l->l_addr);
	WAIT_FOR(stat_zomb(l));
	expect_panic("u-area canary (exit)");
	((uint64_t *)(ua + UAREA_GUARD_LO))[0] = 0;
	lwp_join(l);
	cr_assert_fail("no panic at the reaping");
}

/* ---- uvm_proc_fork ---- */

Test(uvm_glue, uvm_proc_fork_shared_shares_the_vmspace)
{
	struct vmspace *vm1;
	struct proc *p1 = newproc(&vm1), *p2 = newproc(NULL);

	p2->p_vmspace = (struct vmspace *)0x1;	/* the seed clears it */
	cr_assert_eq(uvm_proc_fork(p1, p2, true), 0);
	cr_assert_eq(p2->p_vmspace, vm1);
	cr_assert_eq(vm1->vm_refcnt, 2);
	uvmspace_free(p2->p_vmspace);
	cr_assert_eq(vm1->vm_refcnt, 1);
	uvmspace_free(vm1);
}

Test(uvm_glue, uvm_proc_fork_copies_the_vmspace)
{
	struct vmspace *vm1, *vm2;
	struct proc *p1 = newproc(&vm1), *p2 = newproc(NULL);
	vaddr_t va = UVA;
	uint64_t v = 0x1234;

	cr_assert_eq(uvm_mmap_anon(&vm1->vm_map, &va, P(2),
	    VM_PROT_READ | VM_PROT_WRITE, UVM_MMAP_FIXED), 0);
	cr_assert_eq(user_access(vm1, UVA, true, &v), 0);
	cr_assert_eq(uvm_proc_fork(p1, p2, false), 0);
	vm2 = p2->p_vmspace;
	cr_assert_not_null(vm2);
	cr_assert_neq(vm2, vm1);
	cr_assert_eq(vm1->vm_refcnt, 1);
	cr_assert_eq(vm2->vm_refcnt, 1);
	cr_assert_eq(vm2->vm_map.nentries, vm1->vm_map.nentries);
	v = 0;
	cr_assert_eq(user_access(vm2, UVA, false, &v), 0);
	cr_assert_eq(v, 0x1234, "the child sees the parent's data");
	v = 0x9999;
	cr_assert_eq(user_access(vm2, UVA, true, &v), 0);
	v = 0;
	cr_assert_eq(user_access(vm1, UVA, false, &v), 0);
	cr_assert_eq(v, 0x1234, "copied: the child's write is its own");
	uvmspace_free(vm2);
	uvmspace_free(vm1);
}

/* ---- uvm_proc_exit ---- */

struct exit_ctx {
	struct proc	*p;
	struct vmspace	*seen;		/* p_vmspace after uvm_proc_exit */
	int		done;		/* [a] */
};

static void
exit_fn(void *arg)
{
	struct exit_ctx *x = arg;

	uvm_proc_exit(x->p);
	x->seen = x->p->p_vmspace;
	__atomic_store_n(&x->done, 1, __ATOMIC_RELEASE);
}

Test(uvm_glue, uvm_proc_exit_frees_the_vmspace_borrowing_proc0s)
{
	struct vmspace *vm;
	struct proc *p = newproc(&vm);
	struct exit_ctx x = { .p = p };
	vaddr_t va = UVA;
	uint64_t v = 7;
	struct vm_page *pgs[4];
	struct lwp *l;
	vaddr_t ua;
	int nent0, i;

	cr_assert_not_null(proc0.p_vmspace, "proc0 has vmspace0");
	cr_assert_eq(vm_map_pmap(&proc0.p_vmspace->vm_map), pmap_kernel());
	cr_assert_eq(uvm_mmap_anon(&vm->vm_map, &va, P(4),
	    VM_PROT_READ | VM_PROT_WRITE, UVM_MMAP_FIXED), 0);
	for (i = 0; i < 4; i++) {
		cr_assert_eq(user_access(vm, UVA + P(i), true, &v), 0);
		pgs[i] = upage(vm, UVA + P(i));
		cr_assert_not_null(pgs[i]);
	}
	/* a cached u-area for the exiter: its own entry does not count */
	cr_assert(uvm_uarea_alloc(&ua));
	uvm_uarea_free(ua, NULL);
	nent0 = uvm_mapent_count();

	cr_assert_eq(uvm_lwp_create(p, "exiter", exit_fn, &x, &l), 0);
	lwp_join(l);
	cr_assert(x.done);
	cr_assert_eq(x.seen, proc0.p_vmspace, "borrowed proc0's");
	cr_assert_eq(p->p_vmspace, proc0.p_vmspace);
	for (i = 0; i < 4; i++)
		cr_assert(VM_PAGE_IS_FREE(pgs[i]), "its page %d freed", i);
	cr_assert_lt(uvm_mapent_count(), nent0, "its entries freed");
	cr_assert_eq(proc0.p_vmspace->vm_refcnt, 1, "vmspace0 not referenced");
	proc_free(p);
}

/* uvm_proc_exit drops p's reference, no more. */
Test(uvm_glue, uvm_proc_exit_drops_one_reference)
{
	struct vmspace *vm;
	struct proc *p = newproc(&vm);
	struct exit_ctx x = { .p = p };
	struct lwp *l;

	uvmspace_addref(vm);		/* another holder */
	cr_assert_eq(uvm_lwp_create(p, "exiter", exit_fn, &x, &l), 0);
	lwp_join(l);
	cr_assert_eq(p->p_vmspace, proc0.p_vmspace);
	cr_assert_eq(vm->vm_refcnt, 1, "the other holder's is left");
	uvmspace_free(vm);
	proc_free(p);
}

/* ---- uvm_init_limits ---- */

Test(uvm_glue, uvm_init_limits_sets_the_default_limits)
{
	struct proc *p = newproc(NULL);
	rlim_t f0, f1;

	/* proc0's, set at boot, are inherited by proc_create */
	cr_assert_eq(proc0.p_rlimit[RLIMIT_STACK].rlim_cur, DFLSSIZ);
	cr_assert_eq(p->p_rlimit[RLIMIT_STACK].rlim_cur, DFLSSIZ);
	cr_assert_eq(p->p_rlimit[RLIMIT_DATA].rlim_max, MAXDSIZ);

	memset(p->p_rlimit, 0, sizeof(p->p_rlimit));
	f0 = ptoa(uvmexp_read(free));
	uvm_init_limits(p);
	f1 = ptoa(uvmexp_read(free));
	cr_assert_eq(p->p_rlimit[RLIMIT_STACK].rlim_cur, DFLSSIZ);
	cr_assert_eq(p->p_rlimit[RLIMIT_STACK].rlim_max, MAXSSIZ);
	cr_assert_eq(p->p_rlimit[RLIMIT_DATA].rlim_cur, DFLDSIZ);
	cr_assert_eq(p->p_rlimit[RLIMIT_DATA].rlim_max, MAXDSIZ);
	cr_assert(p->p_rlimit[RLIMIT_RSS].rlim_cur >= MIN(f0, f1) &&
	    p->p_rlimit[RLIMIT_RSS].rlim_cur <= MAX(f0, f1),
	    "RSS: all free memory");
	cr_assert_gt(p->p_rlimit[RLIMIT_RSS].rlim_cur, 0);
	cr_assert_eq(p->p_rlimit[RLIMIT_RSS].rlim_max, 0, "not set");
	cr_assert(DFLSSIZ <= MAXSSIZ && DFLDSIZ <= MAXDSIZ);
	proc_free(p);
}
