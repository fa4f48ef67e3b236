/*
 * tests/test_uvm_page.c: vm/uvm_page.c: free lists, reserves, paging
 * queues, object page lookup, busy/wanted, page owners, pglistalloc.
 *
 * Each test boots its own machine (16 MiB) and VM.  The page accounting
 * checked throughout is
 *	free + active + inactive + wired + kernel (pool pages) + held = npages
 * where "held" are the pages the test holds on no queue.  Helper threads
 * never cr_assert; they report through atomics.
 */
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>

#include <criterion/criterion.h>

#include "host/arena.h"
#include "host/clock.h"
#include "host/thread.h"
#include "tests/vmtest.h"
#include "vm/uvm.h"
#include "vm/uvm_anon.h"
#include "vm/uvm_object.h"
#include "vm/uvm_pager.h"

#define WAIT_NS		(10 * 1000000000ull)
#define MAXHELD		8192

#define WAIT_FOR(cond)							\
	do {								\
		uint64_t wf_dl_ = host_real_ns() + WAIT_NS;		\
		while (!(cond)) {					\
			cr_assert(host_real_ns() < wf_dl_,		\
			    "timed out waiting for %s", #cond);		\
			sched_yield();					\
		}							\
	} while (0)

TestSuite(uvm_page, .init = vmtest_boot, .fini = vmtest_shutdown);

/* local prototypes */
static int accounted(int held);
static void check_accounting(int held);
static void obj_setup(struct uvm_object *uobj, int refs);
static struct vm_page *obj_alloc(struct uvm_object *uobj, voff_t off);
static void obj_free(struct uvm_object *uobj, struct vm_page *pg);
static int alloc_all(struct vm_page **pgs, int max, int flags);
static void free_all(struct vm_page **pgs, int n);
static bool page_is_zero(struct vm_page *pg);
static void *pagewait_thread(void *arg);
static void pd_alloc_all(void *arg);
static void foreign_free(void *arg);

static struct vm_page *held[MAXHELD];

/* free + active + inactive + wired + kernel + held */
static int
accounted(int nheld)
{
	return uvmexp_read(free) + uvmexp_read(active) +
	    uvmexp_read(inactive) + uvmexp_read(wired) + uvmexp_read(kernel) +
	    nheld;
}

static void
check_accounting(int nheld)
{
	cr_assert_eq(accounted(nheld), uvmexp.npages,
	    "free %d + active %d + inactive %d + wired %d + kernel %d + "
	    "held %d != npages %d", uvmexp_read(free), uvmexp_read(active),
	    uvmexp_read(inactive), uvmexp_read(wired), uvmexp_read(kernel),
	    nheld, uvmexp.npages);
}

/* An object with no pager (uvm_pagealloc and lookup need no more). */
static void
obj_setup(struct uvm_object *uobj, int refs)
{
	uvm_obj_init(uobj, NULL, refs);
}

/* A page of uobj at off, unbusied and valid. */
static struct vm_page *
obj_alloc(struct uvm_object *uobj, voff_t off)
{
	struct vm_page *pg;

	rw_enter(uobj->vmobjlock, RW_WRITE);
	pg = uvm_pagealloc(uobj, off, NULL, 0);
	cr_assert_not_null(pg);
	atomic_clearbits_int(&pg->pg_flags, PG_BUSY | PG_FAKE);
	UVM_PAGE_OWN(pg, NULL);
	rw_exit(uobj->vmobjlock);
	return pg;
}

static void
obj_free(struct uvm_object *uobj, struct vm_page *pg)
{
	rw_enter(uobj->vmobjlock, RW_WRITE);
	uvm_lock_pageq();
	uvm_pagefree(pg);
	uvm_unlock_pageq();
	rw_exit(uobj->vmobjlock);
}

/* Ownerless pages until uvm_pagealloc says no; how many. */
static int
alloc_all(struct vm_page **pgs, int max, int flags)
{
	int n = 0;

	while (n < max && (pgs[n] = uvm_pagealloc(NULL, 0, NULL, flags)) != NULL)
		n++;
	cr_assert_lt(n, max, "uvm_pagealloc never failed");
	return n;
}

static void
free_all(struct vm_page **pgs, int n)
{
	int i;

	for (i = 0; i < n; i++)
		uvm_pagefree(pgs[i]);	/* page queues taken inside */
}

static bool
page_is_zero(struct vm_page *pg)
{
	const unsigned char *p = host_arena_direct(VM_PAGE_TO_PHYS(pg));
	size_t i;

	for (i = 0; i < PAGE_SIZE; i++)
		if (p[i] != 0)
			return false;
	return true;
}

Test(uvm_page, init_builds_free_lists)
{
	struct vm_page *pg;
	int n[UVM_NFREELIST] = { 0, 0 };
	int fl;

	cr_assert_eq(uvmexp.npages, (int)vm_npages);
	cr_assert_eq(dma_constraint.ucr_low, 0);
	cr_assert_eq(dma_constraint.ucr_high,
	    MAX(vm_npages / 8, (uint64_t)64));
	cr_assert_eq(no_constraint.ucr_high, vm_npages);
	cr_assert_eq(uvmexp.reserve_kernel, 8);
	cr_assert_eq(uvmexp.reserve_pagedaemon, 4);
	cr_assert_gt(uvmexp.freemin, uvmexp.reserve_kernel);
	cr_assert_gt(uvmexp.freetarg, uvmexp.freemin);

	uvm_lock_fpageq();
	for (fl = 0; fl < UVM_NFREELIST; fl++) {
		TAILQ_FOREACH(pg, &uvm.page_free[fl], pageq) {
			paddr_t f = atop(VM_PAGE_TO_PHYS(pg));

			cr_assert(pg_flags_load(pg) & PQ_FREE);
			cr_assert_eq(pg->free_list, fl);
			if (fl == UVM_FREELIST_DMA)
				cr_assert_lt(f, dma_constraint.ucr_high);
			else
				cr_assert_geq(f, dma_constraint.ucr_high);
			n[fl]++;
		}
	}
	cr_assert_eq(n[0] + n[1], uvmexp_read(free));
	uvm_unlock_fpageq();
	check_accounting(0);
}

Test(uvm_page, alloc_until_null_accounts_exactly)
{
	int free0 = uvmexp_read(free), n, i;

	n = alloc_all(held, MAXHELD, 0);
	/* an ordinary allocation leaves the kernel reserve */
	cr_assert_eq(uvmexp_read(free), uvmexp.reserve_kernel);
	cr_assert_eq(n, free0 - uvmexp.reserve_kernel);
	cr_assert_null(uvm_pagealloc(NULL, 0, NULL, 0));
	check_accounting(n);
	for (i = 0; i < n; i++) {
		uint32_t f = pg_flags_load(held[i]);

		cr_assert_eq(f & (PG_BUSY | PG_FAKE | PG_CLEAN | PQ_MASK),
		    PG_BUSY | PG_FAKE | PG_CLEAN);
		cr_assert_str_eq(held[i]->owner_tag, "new alloc");
	}
	free_all(held, n);
	cr_assert_eq(uvmexp_read(free), free0);
	check_accounting(0);
}

Test(uvm_page, reserve_kernel_and_pagedaemon)
{
	struct uvm_object kobj;
	struct vm_page *kpg;
	int n, m;

	n = alloc_all(held, MAXHELD, 0);
	cr_assert_eq(uvmexp_read(free), uvmexp.reserve_kernel);

	/* a kernel object may dip into the kernel reserve */
	obj_setup(&kobj, UVM_OBJ_KERN);
	rw_enter(kobj.vmobjlock, RW_WRITE);
	kpg = uvm_pagealloc(&kobj, 0, NULL, 0);
	cr_assert_not_null(kpg);
	rw_exit(kobj.vmobjlock);

	/* so may UVM_PGA_USERESERVE, down to the pagedaemon's reserve */
	m = alloc_all(held + n, MAXHELD - n, UVM_PGA_USERESERVE);
	cr_assert_eq(uvmexp_read(free), uvmexp.reserve_pagedaemon);
	cr_assert_eq(m, uvmexp.reserve_kernel - 1 - uvmexp.reserve_pagedaemon);
	check_accounting(n + m + 1);

	rw_enter(kobj.vmobjlock, RW_WRITE);
	uvm_pagefree(kpg);
	rw_exit(kobj.vmobjlock);
	uvm_obj_destroy(&kobj);
	free_all(held, n + m);
	check_accounting(0);
}

/* The pagedaemon (its process) may take the very last page. */
struct pd_ctx {
	atomic_int	n;
	atomic_int	free_after;
};

static void
pd_alloc_all(void *arg)
{
	struct pd_ctx *ctx = arg;
	int n = 0;

	while (n < MAXHELD && (held[n] = uvm_pagealloc(NULL, 0, NULL, 0)) != NULL)
		n++;
	atomic_store(&ctx->free_after, uvmexp_read(free));
	/* ownerless pages: anyone may free them */
	atomic_store(&ctx->n, n);
}

Test(uvm_page, pagedaemon_takes_the_last_page)
{
	struct pd_ctx ctx = { 0, -1 };
	struct lwp *l;
	int free0 = uvmexp_read(free);

	__atomic_store_n(&uvm.pagedaemon_proc, &proc0, __ATOMIC_RELEASE);
	cr_assert_eq(kthread_create(pd_alloc_all, &ctx, &l, "fakepd"), 0);
	lwp_join(l);
	__atomic_store_n(&uvm.pagedaemon_proc, NULL, __ATOMIC_RELEASE);
	cr_assert_eq(atomic_load(&ctx.free_after), 0);
	cr_assert_eq(atomic_load(&ctx.n), free0);
	free_all(held, atomic_load(&ctx.n));
	cr_assert_eq(uvmexp_read(free), free0);
}

Test(uvm_page, queue_moves_set_flags_and_counts)
{
	struct uvm_object obj;
	struct vm_page *pg;
	int a0 = uvmexp_read(active), i0 = uvmexp_read(inactive);
	int w0 = uvmexp_read(wired);

	obj_setup(&obj, 1);
	pg = obj_alloc(&obj, 0);
	check_accounting(1);

	rw_enter(obj.vmobjlock, RW_WRITE);
	uvm_lock_pageq();
	uvm_pageactivate(pg);
	cr_assert_eq(pg_flags_load(pg) & (PQ_ACTIVE | PQ_INACTIVE), PQ_ACTIVE);
	cr_assert_eq(uvmexp_read(active), a0 + 1);
	cr_assert_eq(TAILQ_LAST(&uvm.page_active, pglist), pg);

	uvm_pagedeactivate(pg);
	cr_assert_eq(pg_flags_load(pg) & (PQ_ACTIVE | PQ_INACTIVE),
	    PQ_INACTIVE);
	cr_assert_eq(uvmexp_read(active), a0);
	cr_assert_eq(uvmexp_read(inactive), i0 + 1);
	cr_assert_eq(TAILQ_LAST(&uvm.page_inactive, pglist), pg);

	uvm_pagewire(pg);
	uvm_pagewire(pg);
	cr_assert_eq(pg_flags_load(pg) & (PQ_ACTIVE | PQ_INACTIVE), 0);
	cr_assert_eq(pg->wire_count, 2);
	cr_assert_eq(uvmexp_read(wired), w0 + 1);
	cr_assert_eq(uvmexp_read(inactive), i0);
	uvm_pageactivate(pg);		/* a wired page stays off the queues */
	cr_assert_eq(pg_flags_load(pg) & PQ_ACTIVE, 0);

	uvm_pageunwire(pg);
	cr_assert_eq(uvmexp_read(wired), w0 + 1);
	uvm_pageunwire(pg);
	cr_assert_eq(pg->wire_count, 0);
	cr_assert_eq(uvmexp_read(wired), w0);
	cr_assert_eq(pg_flags_load(pg) & PQ_ACTIVE, PQ_ACTIVE);
	cr_assert_eq(uvmexp_read(active), a0 + 1);
	uvm_unlock_pageq();
	rw_exit(obj.vmobjlock);
	check_accounting(0);

	/* freeing takes it off its queue (and unwires) */
	rw_enter(obj.vmobjlock, RW_WRITE);
	uvm_lock_pageq();
	uvm_pagewire(pg);
	uvm_pagefree(pg);
	uvm_unlock_pageq();
	rw_exit(obj.vmobjlock);
	cr_assert_eq(uvmexp_read(active), a0);
	cr_assert_eq(uvmexp_read(wired), w0);
	cr_assert(VM_PAGE_IS_FREE(pg));
	check_accounting(0);
	uvm_obj_destroy(&obj);
}

Test(uvm_page, lookup_after_alloc_and_free)
{
	struct uvm_object obj;
	struct vm_page *a, *b, *c;

	obj_setup(&obj, 1);
	a = obj_alloc(&obj, 0);
	b = obj_alloc(&obj, 5 * PAGE_SIZE);
	c = obj_alloc(&obj, 3 * PAGE_SIZE);
	cr_assert_eq(obj.uo_npages, 3);

	rw_enter(obj.vmobjlock, RW_READ);
	cr_assert_eq(uvm_pagelookup(&obj, 0), a);
	cr_assert_eq(uvm_pagelookup(&obj, 5 * PAGE_SIZE), b);
	cr_assert_eq(uvm_pagelookup(&obj, 3 * PAGE_SIZE), c);
	cr_assert_null(uvm_pagelookup(&obj, PAGE_SIZE));
	cr_assert(pg_flags_load(b) & PG_TABLED);
	cr_assert_eq(b->uobject, &obj);
	cr_assert_eq(b->offset, 5 * PAGE_SIZE);
	rw_exit(obj.vmobjlock);

	obj_free(&obj, b);
	rw_enter(obj.vmobjlock, RW_READ);
	cr_assert_null(uvm_pagelookup(&obj, 5 * PAGE_SIZE));
	cr_assert_eq(uvm_pagelookup(&obj, 3 * PAGE_SIZE), c);
	rw_exit(obj.vmobjlock);
	cr_assert_eq(obj.uo_npages, 2);
	cr_assert(VM_PAGE_IS_FREE(b));
	cr_assert_null(b->uobject);

	obj_free(&obj, a);
	obj_free(&obj, c);
	cr_assert(RB_EMPTY(&obj.memt));
	uvm_obj_destroy(&obj);
	check_accounting(0);
}

Test(uvm_page, pagerealloc_moves_between_objects)
{
	struct uvm_object o1, o2;
	struct vm_page *pg;

	obj_setup(&o1, 1);
	obj_setup(&o2, 1);
	pg = obj_alloc(&o1, PAGE_SIZE);
	rw_enter(o1.vmobjlock, RW_WRITE);
	rw_enter(o2.vmobjlock, RW_WRITE);
	uvm_pagerealloc(pg, &o2, 7 * PAGE_SIZE);
	cr_assert_null(uvm_pagelookup(&o1, PAGE_SIZE));
	cr_assert_eq(uvm_pagelookup(&o2, 7 * PAGE_SIZE), pg);
	cr_assert_eq(o1.uo_npages, 0);
	cr_assert_eq(o2.uo_npages, 1);
	rw_exit(o1.vmobjlock);
	rw_exit(o2.vmobjlock);
	obj_free(&o2, pg);
	uvm_obj_destroy(&o1);
	uvm_obj_destroy(&o2);
}

Test(uvm_page, zero_and_copy_dirty_the_page)
{
	struct vm_page *a, *b;
	unsigned char *pa;

	a = uvm_pagealloc(NULL, 0, NULL, 0);
	b = uvm_pagealloc(NULL, 0, NULL, UVM_PGA_ZERO);
	cr_assert(a != NULL && b != NULL);
	cr_assert(page_is_zero(b));
	cr_assert_eq(pg_flags_load(b) & PG_CLEAN, 0);
	cr_assert(pg_flags_load(a) & PG_CLEAN);
	pa = host_arena_direct(VM_PAGE_TO_PHYS(a));
	memset(pa, 0x5a, PAGE_SIZE);
	uvm_pagecopy(a, b);
	cr_assert_eq(memcmp(host_arena_direct(VM_PAGE_TO_PHYS(b)), pa,
	    PAGE_SIZE), 0);
	uvm_pagezero(a);
	cr_assert(page_is_zero(a));
	cr_assert_eq(pg_flags_load(a) & PG_CLEAN, 0);
	uvm_pagefree(a);
	uvm_pagefree(b);
}

/* A waiter: uvm_pagewait on a busy page, then record that it woke. */
struct pw_ctx {
	struct uvm_object *obj;
	struct vm_page	*pg;
	atomic_int	state;		/* 1 about to wait, 2 woken */
	atomic_int	bad;
};

static void *
pagewait_thread(void *arg)
{
	struct pw_ctx *ctx = arg;

	rw_enter(ctx->obj->vmobjlock, RW_WRITE);
	if ((pg_flags_load(ctx->pg) & PG_BUSY) == 0)
		atomic_store(&ctx->bad, 1);
	atomic_store(&ctx->state, 1);
	uvm_pagewait(ctx->pg, ctx->obj->vmobjlock, "testwait");
	/* PNORELOCK: the lock is not ours any more */
	if (rw_lock_held(ctx->obj->vmobjlock))
		atomic_store(&ctx->bad, 2);
	rw_enter(ctx->obj->vmobjlock, RW_READ);
	if (pg_flags_load(ctx->pg) & (PG_BUSY | PG_WANTED))
		atomic_store(&ctx->bad, 3);
	rw_exit(ctx->obj->vmobjlock);
	atomic_store(&ctx->state, 2);
	return NULL;
}

Test(uvm_page, pg_wanted_waiter_woken_by_unbusy)
{
	struct uvm_object obj;
	struct pw_ctx ctx;
	pthread_t t;

	obj_setup(&obj, 1);
	memset(&ctx, 0, sizeof(ctx));
	ctx.obj = &obj;
	rw_enter(obj.vmobjlock, RW_WRITE);
	ctx.pg = uvm_pagealloc(&obj, 0, NULL, 0);	/* busy, ours */
	cr_assert_not_null(ctx.pg);
	atomic_clearbits_int(&ctx.pg->pg_flags, PG_FAKE);
	rw_exit(obj.vmobjlock);

	cr_assert_eq(host_thread_create(&t, "pgwaiter", pagewait_thread,
	    &ctx), 0);
	WAIT_FOR(sleepq_nsleepers(ctx.pg) == 1);
	cr_assert_eq(atomic_load(&ctx.state), 1);

	rw_enter(obj.vmobjlock, RW_WRITE);
	cr_assert(pg_flags_load(ctx.pg) & PG_WANTED);
	uvm_page_unbusy(&ctx.pg, 1);
	cr_assert_null(ctx.pg->owner_tag);
	rw_exit(obj.vmobjlock);
	pthread_join(t, NULL);
	cr_assert_eq(atomic_load(&ctx.state), 2);
	cr_assert_eq(atomic_load(&ctx.bad), 0);
	cr_assert_eq(sleepq_nsleepers(ctx.pg), 0);

	obj_free(&obj, ctx.pg);
	uvm_obj_destroy(&obj);
}

Test(uvm_page, unbusy_frees_released_object_page)
{
	struct uvm_object obj;
	struct vm_page *pg;
	int free0 = uvmexp_read(free);

	obj_setup(&obj, 1);
	rw_enter(obj.vmobjlock, RW_WRITE);
	pg = uvm_pagealloc(&obj, 2 * PAGE_SIZE, NULL, 0);
	cr_assert_not_null(pg);
	atomic_setbits_int(&pg->pg_flags, PG_RELEASED);
	uvm_page_unbusy(&pg, 1);
	cr_assert(VM_PAGE_IS_FREE(pg));
	cr_assert_null(uvm_pagelookup(&obj, 2 * PAGE_SIZE));
	rw_exit(obj.vmobjlock);
	cr_assert_eq(uvmexp_read(free), free0);
	uvm_obj_destroy(&obj);
}

Test(uvm_page, busying_an_owned_page_panics, .signal = SIGABRT)
{
	struct vm_page *pg = uvm_pagealloc(NULL, 0, NULL, 0);

	cr_assert_not_null(pg);
	UVM_PAGE_OWN(pg, "second owner");	/* "new alloc" owns it */
}

Test(uvm_page, double_free_panics, .signal = SIGABRT)
{
	struct vm_page *pg = uvm_pagealloc(NULL, 0, NULL, 0);

	cr_assert_not_null(pg);
	uvm_pagefree(pg);
	uvm_pagefree(pg);
}

/* Another process frees a busy object page it does not own. */
struct ff_ctx {
	struct uvm_object *obj;
	struct vm_page	*pg;
};

static void
foreign_free(void *arg)
{
	struct ff_ctx *ctx = arg;

	rw_enter(ctx->obj->vmobjlock, RW_WRITE);
	uvm_pagefree(ctx->pg);		/* panics: owner -1, we are pid 0 */
	rw_exit(ctx->obj->vmobjlock);
}

Test(uvm_page, freeing_someone_elses_busy_page_panics, .signal = SIGABRT)
{
	struct uvm_object obj;
	struct ff_ctx ctx;
	struct lwp *l;

	obj_setup(&obj, 1);
	rw_enter(obj.vmobjlock, RW_WRITE);
	ctx.pg = uvm_pagealloc(&obj, 0, NULL, 0);
	rw_exit(obj.vmobjlock);
	cr_assert_not_null(ctx.pg);
	ctx.obj = &obj;
	cr_assert_eq(kthread_create(foreign_free, &ctx, &l, "freer"), 0);
	lwp_join(l);
}

Test(uvm_page, pglistalloc_scattered_within_range)
{
	struct pglist list;
	struct vm_page *pg;
	paddr_t low = dma_constraint.ucr_high / 2, high = dma_constraint.ucr_high;
	int free0 = uvmexp_read(free), n = 0, infree0;

	infree0 = uvm_pmr_count_free(low, high);
	cr_assert_eq(uvm_pglistalloc(ptoa(20), low, high, 0, 0, &list, 20,
	    UVM_PLA_NOWAIT | UVM_PLA_ZERO), 0);
	TAILQ_FOREACH(pg, &list, pageq) {
		paddr_t f = atop(VM_PAGE_TO_PHYS(pg));

		cr_assert(f >= low && f < high, "frame %lu outside [%lu, %lu)",
		    (unsigned long)f, (unsigned long)low, (unsigned long)high);
		cr_assert_eq(pg_flags_load(pg), 0);
		cr_assert(page_is_zero(pg));
		n++;
	}
	cr_assert_eq(n, 20);
	cr_assert_eq(uvmexp_read(free), free0 - 20);
	cr_assert_eq(uvm_pmr_count_free(low, high), infree0 - 20);
	check_accounting(20);
	uvm_pglistfree(&list);
	cr_assert(TAILQ_EMPTY(&list));
	cr_assert_eq(uvmexp_read(free), free0);
	cr_assert_eq(uvm_pmr_count_free(low, high), infree0);
}

Test(uvm_page, pglistalloc_contiguous_aligned)
{
	struct pglist list;
	struct vm_page *pg;
	paddr_t first = 0, prev = 0, f;
	int n = 0;

	cr_assert_eq(uvm_pglistalloc(ptoa(16), 0, vm_npages, ptoa(16),
	    ptoa(64), &list, 1, UVM_PLA_NOWAIT), 0);
	TAILQ_FOREACH(pg, &list, pageq) {
		f = atop(VM_PAGE_TO_PHYS(pg));
		if (n == 0)
			first = f;
		else
			cr_assert_eq(f, prev + 1);
		prev = f;
		n++;
	}
	cr_assert_eq(n, 16);
	cr_assert_eq(first % 16, 0);
	cr_assert_eq(first / 64, (first + 15) / 64);
	uvm_pglistfree(&list);
}

Test(uvm_page, pglistalloc_exhausted_range_fails_without_pagedaemon)
{
	struct pglist all, more;
	paddr_t low = 16, high = 48;
	int infree = uvm_pmr_count_free(low, high), free0;

	cr_assert_gt(infree, 0);
	cr_assert_eq(uvm_pglistalloc(ptoa(infree), low, high, 0, 0, &all,
	    infree, UVM_PLA_NOWAIT), 0);
	cr_assert_eq(uvm_pmr_count_free(low, high), 0);
	free0 = uvmexp_read(free);
	/* WAITOK with no pagedaemon: ENOMEM, not a sleep forever */
	cr_assert_null(uvm.pagedaemon_proc);
	cr_assert_eq(uvm_pglistalloc(PAGE_SIZE, low, high, 0, 0, &more, 1,
	    UVM_PLA_WAITOK), ENOMEM);
	cr_assert(TAILQ_EMPTY(&more));
	cr_assert_eq(uvm_pglistalloc(PAGE_SIZE, low, high, 0, 0, &more, 1,
	    UVM_PLA_NOWAIT), ENOMEM);
	cr_assert(TAILQ_EMPTY(&uvm.pmr_control.allocs));
	cr_assert_eq(uvmexp_read(free), free0);
	/* elsewhere there is memory */
	cr_assert_eq(uvm_pglistalloc(PAGE_SIZE, high, vm_npages, 0, 0, &more,
	    1, UVM_PLA_NOWAIT), 0);
	uvm_pglistfree(&more);
	uvm_pglistfree(&all);
	cr_assert_eq(uvm_pmr_count_free(low, high), infree);
}

Test(uvm_page, pglistalloc_rejects_bad_arguments)
{
	struct pglist list;

	cr_assert_eq(uvm_pglistalloc(0, 0, 64, 0, 0, &list, 1, 0), EINVAL);
	cr_assert_eq(uvm_pglistalloc(PAGE_SIZE, 64, 64, 0, 0, &list, 1, 0),
	    EINVAL);
	cr_assert_eq(uvm_pglistalloc(PAGE_SIZE, 0, 64, 3 * PAGE_SIZE, 0,
	    &list, 1, 0), EINVAL);
	/* a boundary smaller than the run */
	cr_assert_eq(uvm_pglistalloc(ptoa(4), 0, 64, 0, ptoa(2), &list, 1,
	    0), EINVAL);
}

Test(uvm_page, anon_page_identity)
{
	struct vm_anon *anon = uvm_analloc();
	struct vm_page *pg;
	int ap0 = uvmexp_read(anonpages);

	cr_assert_not_null(anon);
	pg = uvm_pagealloc(NULL, 0, anon, 0);
	cr_assert_not_null(pg);
	cr_assert_eq(anon->an_page, pg);
	cr_assert_eq(pg->uanon, anon);
	cr_assert(pg_flags_load(pg) & PQ_ANON);
	cr_assert_eq(uvmexp_read(anonpages), ap0 + 1);
	uvm_pagefree(pg);
	cr_assert_null(anon->an_page);
	cr_assert_eq(uvmexp_read(anonpages), ap0);
	anon->an_ref = 0;
	uvm_anfree(anon);
}
