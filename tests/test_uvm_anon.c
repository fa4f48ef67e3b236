/*
 * tests/test_uvm_anon.c: vm/uvm_anon.c: anon allocation and freeing with
 * pages and swap slots, released pages, kernel memory for anons.
 *
 * Each test boots its own machine and VM.
 */
#include <string.h>

#include <criterion/criterion.h>

#include "host/arena.h"
#include "host/disk.h"
#include "tests/vmtest.h"
#include "vm/uvm.h"
#include "vm/uvm_anon.h"
#include "vm/uvm_km.h"
#include "vm/uvm_object.h"
#include "vm/uvm_swap.h"

TestSuite(uvm_anon, .init = vmtest_boot, .fini = vmtest_shutdown);

#define SWAP_PAGES	256

/* local prototypes */
static struct vm_anon *anon_with_page(krwlock_t *lock);
static int pages_free(void);
static void swap_on(void);

/* A swap device for the tests that hold slots (buffered: any tmpfs). */
static void
swap_on(void)
{
	cr_assert_eq(uvm_swap_attach(NULL, SWAP_PAGES, HOST_DISK_BUFFERED), 0,
	    "%s", uvm_swap_error());
}

/* Free pages, with pool pages (cached by pools) counted as free. */
static int
pages_free(void)
{
	return uvmexp_read(free) + uvmexp_read(kernel);
}

/* An anon under lock (write-held by the caller) with an unbusy page. */
static struct vm_anon *
anon_with_page(krwlock_t *lock)
{
	struct vm_anon *anon = uvm_analloc();
	struct vm_page *pg;

	cr_assert_not_null(anon);
	anon->an_lock = lock;
	pg = uvm_pagealloc(NULL, 0, anon, UVM_PGA_ZERO);
	cr_assert_not_null(pg);
	atomic_clearbits_int(&pg->pg_flags, PG_BUSY | PG_FAKE);
	UVM_PAGE_OWN(pg, NULL);
	return anon;
}

Test(uvm_anon, alloc_and_free_count)
{
	int c0 = uvm_anon_count();
	struct vm_anon *a = uvm_analloc(), *b = uvm_analloc();

	cr_assert(a != NULL && b != NULL && a != b);
	cr_assert_eq(a->an_ref, 1);
	cr_assert_null(a->an_lock);
	cr_assert_null(a->an_page);
	cr_assert_eq(a->an_swslot, 0);
	cr_assert_eq(uvm_anon_count(), c0 + 2);
	a->an_ref = b->an_ref = 0;
	uvm_anfree(a);
	uvm_anfree(b);
	cr_assert_eq(uvm_anon_count(), c0);
}

Test(uvm_anon, anons_live_in_arena_pages)
{
	struct vm_anon *a = uvm_analloc();
	paddr_t pa;

	cr_assert_not_null(a);
	pa = PMAP_UNMAP_POOLPAGE(a);
	cr_assert_lt(pa, host_arena_size(),
	    "anon %p is not in the machine's RAM", (void *)a);
	/* and its frame is not free: a kernel page */
	cr_assert_not(VM_PAGE_IS_FREE(PHYS_TO_VM_PAGE(trunc_page(pa))));
	cr_assert_gt(uvmexp_read(kernel), 0);
	a->an_ref = 0;
	uvm_anfree(a);
}

Test(uvm_anon, anfree_frees_the_page)
{
	krwlock_t *lock = uvm_rwobj_alloc("amap", PR_WAITOK);
	struct vm_anon *anon;
	struct vm_page *pg;
	int f0, ap0 = uvmexp_read(anonpages), c0 = uvm_anon_count();

	rw_enter(lock, RW_WRITE);
	anon = anon_with_page(lock);	/* warm the pool first */
	f0 = pages_free() + 1;
	pg = anon->an_page;
	cr_assert(pg_flags_load(pg) & PQ_ANON);
	cr_assert_eq(uvmexp_read(anonpages), ap0 + 1);
	uvm_lock_pageq();
	uvm_pageactivate(pg);
	uvm_unlock_pageq();

	anon->an_ref = 0;
	uvm_anfree(anon);
	rw_exit(lock);
	cr_assert(VM_PAGE_IS_FREE(pg));
	cr_assert_eq(uvmexp_read(anonpages), ap0);
	cr_assert_eq(pages_free(), f0);
	cr_assert_eq(uvm_anon_count(), c0);
	cr_assert(uvm_rwobj_free(lock));
}

Test(uvm_anon, busy_page_is_released_then_finished)
{
	krwlock_t *lock = uvm_rwobj_alloc("amap", PR_WAITOK);
	struct vm_anon *anon;
	struct vm_page *pg;
	int c0 = uvm_anon_count(), l0 = uvm_rwobj_count(), f0;

	rw_enter(lock, RW_WRITE);
	anon = anon_with_page(lock);
	f0 = pages_free() + 1;
	pg = anon->an_page;
	/* someone (pageout) busies the page */
	atomic_setbits_int(&pg->pg_flags, PG_BUSY);
	UVM_PAGE_OWN(pg, "pageout");
	anon->an_ref = 0;
	uvm_anfree(anon);
	cr_assert(pg_flags_load(pg) & PG_RELEASED);
	cr_assert_eq(anon->an_page, pg);
	cr_assert_eq(uvm_anon_count(), c0 + 1);
	rw_exit(lock);

	/* the amap dies: its lock reference goes, the anon's stays */
	cr_assert_not(uvm_rwobj_free(lock));
	cr_assert_eq(uvm_rwobj_count(), l0);

	/* the I/O is done: the holder finishes the anon */
	rw_enter(lock, RW_WRITE);
	uvm_anon_release(anon);
	cr_assert(VM_PAGE_IS_FREE(pg));
	cr_assert_eq(uvm_anon_count(), c0);
	cr_assert_eq(uvm_rwobj_count(), l0 - 1);
	cr_assert_eq(pages_free(), f0);
}

Test(uvm_anon, anfree_gives_back_the_swap_slot)
{
	krwlock_t *lock = uvm_rwobj_alloc("amap", PR_WAITOK);
	struct vm_anon *anon, *swaponly;
	int nslots = 1, in0;

	swap_on();
	in0 = uvm_swap_inuse();
	rw_enter(lock, RW_WRITE);

	/* dropswap alone */
	anon = anon_with_page(lock);
	anon->an_swslot = uvm_swap_alloc(&nslots, false);
	cr_assert_gt(anon->an_swslot, 0);
	cr_assert_eq(uvm_swap_inuse(), in0 + 1);
	uvm_anon_dropswap(anon);
	cr_assert_eq(anon->an_swslot, 0);
	cr_assert_eq(uvm_swap_inuse(), in0);

	/* resident, with a copy in swap */
	anon->an_swslot = uvm_swap_alloc(&nslots, false);
	anon->an_ref = 0;
	uvm_anfree(anon);
	cr_assert_eq(uvm_swap_inuse(), in0);
	cr_assert_eq(uvmexp_read(swpgonly), 0);

	/* only in swap (the pagedaemon counted it in swpgonly) */
	swaponly = uvm_analloc();
	cr_assert_not_null(swaponly);
	swaponly->an_lock = lock;
	swaponly->an_swslot = uvm_swap_alloc(&nslots, false);
	uvmexp_inc(swpgonly);
	swaponly->an_ref = 0;
	uvm_anfree(swaponly);
	cr_assert_eq(uvmexp_read(swpgonly), 0);
	cr_assert_eq(uvm_swap_inuse(), in0);

	rw_exit(lock);
	cr_assert(uvm_rwobj_free(lock));
	uvm_swap_detach();
}

/* The pager's way: unbusy under the lock, then finish the released anon. */
Test(uvm_anon, released_page_finished_after_unbusy)
{
	krwlock_t *lock = uvm_rwobj_alloc("amap", PR_WAITOK);
	struct vm_anon *anon;
	struct vm_page *pg;
	int c0 = uvm_anon_count(), l0 = uvm_rwobj_count();

	rw_enter(lock, RW_WRITE);
	anon = anon_with_page(lock);
	pg = anon->an_page;
	atomic_setbits_int(&pg->pg_flags, PG_BUSY);
	UVM_PAGE_OWN(pg, "pageout");
	anon->an_ref = 0;
	uvm_anfree(anon);
	rw_exit(lock);
	cr_assert_not(uvm_rwobj_free(lock));	/* the amap's reference */

	rw_enter(lock, RW_WRITE);		/* I/O done */
	atomic_clearbits_int(&pg->pg_flags, PG_BUSY | PG_WANTED);
	UVM_PAGE_OWN(pg, NULL);
	cr_assert(pg_flags_load(pg) & PG_RELEASED);
	uvm_anon_release(anon);
	cr_assert(VM_PAGE_IS_FREE(pg));
	cr_assert_eq(uvm_anon_count(), c0);
	cr_assert_eq(uvm_rwobj_count(), l0 - 1);
}
