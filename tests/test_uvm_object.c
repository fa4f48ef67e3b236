/*
 * tests/test_uvm_object.c: vm/uvm_object.c: object init and locks, the
 * page tree, wiring a range, reference-counted locks.
 *
 * Each test boots its own machine and VM.
 */
#include <signal.h>
#include <string.h>

#include <criterion/criterion.h>

#include "host/arena.h"
#include "tests/vmtest.h"
#include "vm/uvm.h"
#include "vm/uvm_aobj.h"
#include "vm/uvm_km.h"
#include "vm/uvm_object.h"
#include "vm/uvm_pager.h"

TestSuite(uvm_object, .init = vmtest_boot, .fini = vmtest_shutdown);

/* local prototypes */
static struct vm_page *alloc_at(struct uvm_object *uobj, voff_t off);

static struct vm_page *
alloc_at(struct uvm_object *uobj, voff_t off)
{
	struct vm_page *pg = uvm_pagealloc(uobj, off, NULL, 0);

	cr_assert_not_null(pg);
	atomic_clearbits_int(&pg->pg_flags, PG_BUSY | PG_FAKE);
	UVM_PAGE_OWN(pg, NULL);
	return pg;
}

Test(uvm_object, init_gives_own_lock_and_empty_tree)
{
	struct uvm_object o;

	uvm_obj_init(&o, &aobj_pager, 3);
	cr_assert_eq(o.vmobjlock, &o.vmobjlock_store);
	cr_assert_str_eq(o.vmobjlock->rw_lo.lo_name, "vmobjlock");
	cr_assert(RB_EMPTY(&o.memt));
	cr_assert_eq(o.uo_npages, 0);
	cr_assert_eq(o.uo_refs, 3);
	cr_assert_eq(o.pgops, &aobj_pager);
	uvm_obj_destroy(&o);
}

Test(uvm_object, setlock_shares_a_lock)
{
	struct uvm_object a, b;

	uvm_obj_init(&a, NULL, 1);
	uvm_obj_init(&b, NULL, 1);
	uvm_obj_setlock(&b, a.vmobjlock);
	cr_assert_eq(b.vmobjlock, a.vmobjlock);
	rw_enter(a.vmobjlock, RW_WRITE);
	cr_assert(rw_write_held(b.vmobjlock));
	rw_exit(a.vmobjlock);
	uvm_obj_setlock(&b, NULL);
	cr_assert_eq(b.vmobjlock, &b.vmobjlock_store);
	uvm_obj_destroy(&b);
	uvm_obj_destroy(&a);
}

Test(uvm_object, tree_is_ordered_by_offset)
{
	static const int offs[] = { 9, 2, 40, 0, 17, 3, 1000, 5 };
	struct uvm_object o;
	struct vm_page *pg, *next;
	voff_t last = 0;
	int n = 0;
	size_t i;

	uvm_obj_init(&o, NULL, 1);
	rw_enter(o.vmobjlock, RW_WRITE);
	for (i = 0; i < nitems(offs); i++)
		alloc_at(&o, (voff_t)offs[i] * PAGE_SIZE);
	cr_assert_eq(o.uo_npages, (int)nitems(offs));
	RB_FOREACH(pg, uvm_objtree, &o.memt) {
		if (n > 0)
			cr_assert_gt(pg->offset, last);
		last = pg->offset;
		n++;
	}
	cr_assert_eq(n, (int)nitems(offs));
	for (pg = RB_MIN(uvm_objtree, &o.memt); pg != NULL; pg = next) {
		next = RB_NEXT(uvm_objtree, &o.memt, pg);
		uvm_pagefree(pg);
	}
	rw_exit(o.vmobjlock);
	cr_assert_eq(o.uo_npages, 0);
	uvm_obj_destroy(&o);
}

Test(uvm_object, destroy_with_pages_panics, .signal = SIGABRT)
{
	struct uvm_object o;

	uvm_obj_init(&o, NULL, 1);
	rw_enter(o.vmobjlock, RW_WRITE);
	alloc_at(&o, 0);
	rw_exit(o.vmobjlock);
	uvm_obj_destroy(&o);
}

Test(uvm_object, wire_and_unwire_an_aobj_range)
{
	struct uvm_object *uobj = uao_create(8 * PAGE_SIZE, 0);
	struct pglist list;
	struct vm_page *pg;
	int w0 = uvmexp_read(wired), a0 = uvmexp_read(active);
	int f0 = uvmexp_read(free) + uvmexp_read(kernel), n = 0;
	voff_t off;

	cr_assert_not_null(uobj);
	TAILQ_INIT(&list);
	cr_assert_eq(uvm_obj_wire(uobj, 2 * PAGE_SIZE, 6 * PAGE_SIZE, &list),
	    0);
	cr_assert_eq(uvmexp_read(wired), w0 + 4);
	TAILQ_FOREACH(pg, &list, pageq) {
		cr_assert_eq(pg->uobject, uobj);
		cr_assert_eq(pg->wire_count, 1);
		cr_assert_eq(pg_flags_load(pg) & (PG_BUSY | PG_FAKE | PQ_ACTIVE |
		    PQ_INACTIVE), 0);
		n++;
	}
	cr_assert_eq(n, 4);
	rw_enter(uobj->vmobjlock, RW_READ);
	for (off = 0; off < 8 * PAGE_SIZE; off += PAGE_SIZE)
		cr_assert_eq(uvm_pagelookup(uobj, off) != NULL,
		    off >= 2 * PAGE_SIZE && off < 6 * PAGE_SIZE);
	rw_exit(uobj->vmobjlock);

	uvm_obj_unwire(uobj, 2 * PAGE_SIZE, 6 * PAGE_SIZE);
	cr_assert_eq(uvmexp_read(wired), w0);
	cr_assert_eq(uvmexp_read(active), a0 + 4);

	uao_detach(uobj);
	cr_assert_eq(uvmexp_read(active), a0);
	cr_assert_eq(uvmexp_read(free) + uvmexp_read(kernel), f0);
}

Test(uvm_object, wire_fails_cleanly_without_memory)
{
	struct uvm_object *uobj = uao_create(64 * PAGE_SIZE, 0);
	static struct vm_page *pgs[8192];
	struct vm_page *pg;
	int n = 0, w0 = uvmexp_read(wired), i;

	cr_assert_not_null(uobj);
	/* leave only 3 pages above the reserve, then wire 16 */
	while ((pgs[n] = uvm_pagealloc(NULL, 0, NULL, 0)) != NULL)
		n++;
	for (i = 0; i < 3; i++)
		uvm_pagefree(pgs[--n]);
	cr_assert_eq(uvm_obj_wire(uobj, 0, 16 * PAGE_SIZE, NULL), ENOMEM);
	cr_assert_eq(uvmexp_read(wired), w0);
	/* what it got stays resident, unbusied and unwired */
	rw_enter(uobj->vmobjlock, RW_READ);
	cr_assert_eq(uobj->uo_npages, 3);
	RB_FOREACH(pg, uvm_objtree, &uobj->memt) {
		cr_assert_eq(pg_flags_load(pg) & PG_BUSY, 0);
		cr_assert_eq(pg->wire_count, 0);
	}
	rw_exit(uobj->vmobjlock);
	for (i = 0; i < n; i++)
		uvm_pagefree(pgs[i]);
	uao_detach(uobj);
}

Test(uvm_object, rwobj_reference_counts)
{
	int c0 = uvm_rwobj_count();
	krwlock_t *l = uvm_rwobj_alloc("testlk", PR_WAITOK);

	cr_assert_not_null(l);
	cr_assert_eq(uvm_rwobj_count(), c0 + 1);
	cr_assert_str_eq(l->rw_lo.lo_name, "testlk");
	/* the lock's memory is kernel memory: an arena frame */
	cr_assert_lt(PMAP_UNMAP_POOLPAGE(l), host_arena_size());
	uvm_rwobj_hold(l);
	rw_enter(l, RW_WRITE);
	rw_exit(l);
	cr_assert_not(uvm_rwobj_free(l));
	cr_assert_eq(uvm_rwobj_count(), c0 + 1);
	cr_assert(uvm_rwobj_free(l));
	cr_assert_eq(uvm_rwobj_count(), c0);
}
