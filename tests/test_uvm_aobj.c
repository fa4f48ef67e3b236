/*
 * tests/test_uvm_aobj.c: vm/uvm_aobj.c: the aobj pager (zero fill,
 * locked and unlocked gets, busy pages), references and detach, swap
 * slots (array and hash), the kernel object.
 *
 * Each test boots its own machine and VM.  Page counts compare free +
 * kernel, since pool pages stay cached in their pools.
 */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <string.h>

#include <criterion/criterion.h>

#include "host/arena.h"
#include "host/disk.h"
#include "host/clock.h"
#include "host/thread.h"
#include "tests/vmtest.h"
#include "vm/uvm.h"
#include "vm/uvm_aobj.h"
#include "vm/uvm_km.h"
#include "vm/uvm_object.h"
#include "vm/uvm_pager.h"
#include "vm/uvm_swap.h"

#define P(n)		((vsize_t)(n) * PAGE_SIZE)
#define WAIT_NS		(10 * 1000000000ull)

#define WAIT_FOR(cond)							\
	do {								\
		uint64_t wf_dl_ = host_real_ns() + WAIT_NS;		\
		while (!(cond)) {					\
			cr_assert(host_real_ns() < wf_dl_,		\
			    "timed out waiting for %s", #cond);		\
			sched_yield();					\
		}							\
	} while (0)

TestSuite(uvm_aobj, .init = vmtest_boot, .fini = vmtest_shutdown);

#define SWAP_PAGES	256

/* local prototypes */
static void swap_on(void);
static int pages_free(void);
static bool page_is_zero(struct vm_page *pg);
static struct vm_page *get_one(struct uvm_object *uobj, voff_t off,
    int *result);
static void unbusy(struct uvm_object *uobj, struct vm_page *pg);
static void *detacher(void *arg);

/* A swap device for the tests that hold slots (buffered: any tmpfs). */
static void
swap_on(void)
{
	cr_assert_eq(uvm_swap_attach(NULL, SWAP_PAGES, HOST_DISK_BUFFERED), 0,
	    "%s", uvm_swap_error());
}

static int
pages_free(void)
{
	return uvmexp_read(free) + uvmexp_read(kernel);
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

/* An unlocked get of one page: returns it busy (or NULL on error). */
static struct vm_page *
get_one(struct uvm_object *uobj, voff_t off, int *result)
{
	struct vm_page *pg = NULL;
	int npages = 1, r;

	rw_enter(uobj->vmobjlock, RW_WRITE);
	r = uobj->pgops->pgo_get(uobj, off, &pg, &npages, 0, VM_PROT_READ, 0,
	    0);
	cr_assert_not(rw_lock_held(uobj->vmobjlock),
	    "an unlocked get returns with the object unlocked");
	if (result != NULL)
		*result = r;
	else
		cr_assert_eq(r, VM_PAGER_OK);
	return r == VM_PAGER_OK ? pg : NULL;
}

static void
unbusy(struct uvm_object *uobj, struct vm_page *pg)
{
	rw_enter(uobj->vmobjlock, RW_WRITE);
	uvm_lock_pageq();
	uvm_pageactivate(pg);
	uvm_unlock_pageq();
	uvm_page_unbusy(&pg, 1);
	rw_exit(uobj->vmobjlock);
}

Test(uvm_aobj, create_is_an_aobj_with_one_reference)
{
	struct uvm_object *uobj = uao_create(P(4), 0);

	cr_assert_not_null(uobj);
	cr_assert(UVM_OBJ_IS_AOBJ(uobj));
	cr_assert_eq(uobj->uo_refs, 1);
	cr_assert_lt(PMAP_UNMAP_POOLPAGE(uobj), host_arena_size(),
	    "the aobj is kernel memory in RAM");
	uao_reference(uobj);
	cr_assert_eq(uobj->uo_refs, 2);
	uao_detach(uobj);
	cr_assert_eq(uobj->uo_refs, 1);
	uao_detach(uobj);
}

Test(uvm_aobj, get_zero_fills_and_second_get_finds_it)
{
	struct uvm_object *uobj = uao_create(P(4), 0);
	struct vm_page *pg, *pg2, *pgs[4];
	unsigned char *p;
	int npages, r;

	/* dirty a page first, so that zero-fill is seen */
	pg = uvm_pagealloc(NULL, 0, NULL, 0);
	memset(host_arena_direct(VM_PAGE_TO_PHYS(pg)), 0xee, PAGE_SIZE);
	uvm_pagefree(pg);

	pg = get_one(uobj, P(2), NULL);
	cr_assert_not_null(pg);
	cr_assert(page_is_zero(pg));
	cr_assert_eq(pg_flags_load(pg) & (PG_BUSY | PG_FAKE | PG_CLEAN |
	    PQ_AOBJ), PG_BUSY | PQ_AOBJ, "busy, valid, dirty, an aobj page");
	cr_assert_eq(pg->uobject, uobj);
	cr_assert_eq(pg->offset, P(2));
	p = host_arena_direct(VM_PAGE_TO_PHYS(pg));
	memset(p, 0x42, PAGE_SIZE);
	unbusy(uobj, pg);

	/* again, unlocked: the same page, with what was written */
	pg2 = get_one(uobj, P(2), NULL);
	cr_assert_eq(pg2, pg);
	cr_assert_eq(p[100], 0x42);
	unbusy(uobj, pg2);

	/* and locked: the resident page, busied; no neighbours made up */
	memset(pgs, 0, sizeof(pgs));
	npages = 4;
	rw_enter(uobj->vmobjlock, RW_WRITE);
	r = uobj->pgops->pgo_get(uobj, 0, pgs, &npages, 2, VM_PROT_READ, 0,
	    PGO_LOCKED);
	cr_assert(rw_write_held(uobj->vmobjlock));
	cr_assert_eq(r, VM_PAGER_OK);
	cr_assert_eq(npages, 1);
	cr_assert_eq(pgs[2], pg);
	cr_assert(pgs[0] == NULL && pgs[1] == NULL && pgs[3] == NULL);
	cr_assert_eq(uobj->uo_npages, 1);
	cr_assert_str_eq(pg->owner_tag, "uao_get1");
	uvm_page_unbusy(&pgs[2], 1);
	rw_exit(uobj->vmobjlock);
	uao_detach(uobj);
}

Test(uvm_aobj, locked_get_zero_fills_the_centre_only)
{
	struct uvm_object *uobj = uao_create(P(8), 0);
	struct vm_page *pgs[3] = { NULL, PGO_DONTCARE, NULL };
	int npages = 3, r;

	rw_enter(uobj->vmobjlock, RW_WRITE);
	r = uobj->pgops->pgo_get(uobj, P(3), pgs, &npages, 2, VM_PROT_READ,
	    0, PGO_LOCKED);
	cr_assert_eq(r, VM_PAGER_OK);
	cr_assert_eq(npages, 1);
	cr_assert_null(pgs[0]);
	cr_assert_eq(pgs[1], PGO_DONTCARE);
	cr_assert_not_null(pgs[2]);
	cr_assert_eq(pgs[2]->offset, P(5));
	cr_assert(page_is_zero(pgs[2]));
	cr_assert_eq(pg_flags_load(pgs[2]) & (PG_BUSY | PG_FAKE), PG_BUSY);
	cr_assert_eq(uobj->uo_npages, 1);
	uvm_page_unbusy(&pgs[2], 1);
	rw_exit(uobj->vmobjlock);
	uao_detach(uobj);
}

Test(uvm_aobj, locked_get_of_busy_page_says_unlock)
{
	struct uvm_object *uobj = uao_create(P(2), 0);
	struct vm_page *pg = get_one(uobj, 0, NULL), *pgs[1] = { NULL };
	int npages = 1;

	/* pg is busy (ours): a locked get cannot have it */
	rw_enter(uobj->vmobjlock, RW_WRITE);
	cr_assert_eq(uobj->pgops->pgo_get(uobj, 0, pgs, &npages, 0,
	    VM_PROT_READ, 0, PGO_LOCKED), VM_PAGER_UNLOCK);
	cr_assert_eq(npages, 0);
	cr_assert_null(pgs[0]);
	rw_exit(uobj->vmobjlock);
	unbusy(uobj, pg);
	uao_detach(uobj);
}

Test(uvm_aobj, allpages_get_and_detach_frees_everything)
{
	struct uvm_object *uobj;
	struct vm_page *pgs[6];
	int f0, a0 = uvmexp_read(active), npages = 6, i;

	/* warm the pools */
	uobj = uao_create(P(6), 0);
	uao_detach(uobj);

	f0 = pages_free();
	uobj = uao_create(P(6), 0);
	memset(pgs, 0, sizeof(pgs));
	rw_enter(uobj->vmobjlock, RW_WRITE);
	cr_assert_eq(uobj->pgops->pgo_get(uobj, 0, pgs, &npages, 0,
	    VM_PROT_WRITE, 0, PGO_ALLPAGES), VM_PAGER_OK);
	for (i = 0; i < 6; i++) {
		cr_assert_not_null(pgs[i]);
		cr_assert_eq(pgs[i]->offset, P(i));
	}
	cr_assert_eq(uobj->uo_npages, 6);
	rw_enter(uobj->vmobjlock, RW_WRITE);
	uvm_lock_pageq();
	for (i = 0; i < 6; i += 2)
		uvm_pageactivate(pgs[i]);
	uvm_unlock_pageq();
	uvm_page_unbusy(pgs, 6);
	rw_exit(uobj->vmobjlock);
	cr_assert_eq(uvmexp_read(active), a0 + 3);
	cr_assert_lt(pages_free(), f0);

	uao_detach(uobj);
	cr_assert_eq(pages_free(), f0);
	cr_assert_eq(uvmexp_read(active), a0);
	for (i = 0; i < 6; i++)
		cr_assert(VM_PAGE_IS_FREE(pgs[i]));
}

/* The last detach waits for a busy page (pageout I/O) to be unbusied. */
static void *
detacher(void *arg)
{
	uao_detach(arg);
	return NULL;
}

Test(uvm_aobj, detach_waits_for_busy_pages)
{
	struct uvm_object *uobj = uao_create(P(2), 0);
	struct vm_page *pg = get_one(uobj, P(1), NULL);
	pthread_t t;
	int f0;

	cr_assert_not_null(pg);
	f0 = pages_free() + 1;
	cr_assert_eq(host_thread_create(&t, "detacher", detacher, uobj), 0);
	WAIT_FOR(sleepq_nsleepers(pg) == 1);
	/* "I/O done": unbusy; the detacher frees it and the aobj */
	rw_enter(uobj->vmobjlock, RW_WRITE);
	cr_assert_eq(uobj->uo_refs, 0);
	uvm_page_unbusy(&pg, 1);
	rw_exit(uobj->vmobjlock);
	pthread_join(t, NULL);
	cr_assert(VM_PAGE_IS_FREE(pg));
	cr_assert_eq(pages_free(), f0);
}

Test(uvm_aobj, swap_slots_array_and_detach_frees_them)
{
	struct uvm_object *uobj = uao_create(P(8), 0);
	int n = 1, s1, s2, in0, u0 = uao_swslots_in_use();

	swap_on();
	in0 = uvm_swap_inuse();
	s1 = uvm_swap_alloc(&n, false);
	s2 = uvm_swap_alloc(&n, false);
	rw_enter(uobj->vmobjlock, RW_WRITE);
	cr_assert_eq(uao_find_swslot(uobj, 3), 0);
	cr_assert_eq(uao_set_swslot(uobj, 3, s1), 0);
	cr_assert_eq(uao_set_swslot(uobj, 7, s2), 0);
	uvmexp_inc(swpgonly);	/* page 7 lives only in swap (pagedaemon) */
	cr_assert_eq(uao_find_swslot(uobj, 3), s1);
	cr_assert_eq(uao_find_swslot(uobj, 7), s2);
	cr_assert_eq(uao_swslots_in_use(), u0 + 2);
	uao_dropswap(uobj, 3);
	cr_assert_eq(uao_find_swslot(uobj, 3), 0);
	cr_assert_eq(uao_swslots_in_use(), u0 + 1);
	cr_assert_eq(uvm_swap_inuse(), in0 + 1);
	rw_exit(uobj->vmobjlock);
	uao_detach(uobj);
	cr_assert_eq(uao_swslots_in_use(), u0);
	cr_assert_eq(uvm_swap_inuse(), in0);
	cr_assert_eq(uvmexp_read(swpgonly), 0);
}

Test(uvm_aobj, swap_slots_hash_for_large_objects)
{
	int pages = 5000;
	struct uvm_object *uobj = uao_create(P(pages), 0);
	static const int idx[] = { 0, 15, 16, 17, 4095, 4999 };
	int slot[nitems(idx)], n = 1, u0 = uao_swslots_in_use(), i;

	swap_on();
	rw_enter(uobj->vmobjlock, RW_WRITE);
	for (i = 0; i < (int)nitems(idx); i++) {
		slot[i] = uvm_swap_alloc(&n, false);
		cr_assert_eq(uao_set_swslot(uobj, idx[i], slot[i]), 0);
	}
	for (i = 0; i < (int)nitems(idx); i++)
		cr_assert_eq(uao_find_swslot(uobj, idx[i]), slot[i]);
	cr_assert_eq(uao_find_swslot(uobj, 1), 0);
	cr_assert_eq(uao_find_swslot(uobj, 4000), 0);
	cr_assert_eq(uao_swslots_in_use(), u0 + (int)nitems(idx));
	/* replacing returns the old slot */
	cr_assert_eq(uao_set_swslot(uobj, 16, slot[2]), slot[2]);
	uao_dropswap(uobj, 15);
	uao_dropswap(uobj, 0);
	cr_assert_eq(uao_find_swslot(uobj, 0), 0);
	cr_assert_eq(uao_find_swslot(uobj, 16), slot[2]);
	rw_exit(uobj->vmobjlock);
	uvmexp_add(swpgonly, 4);	/* the 4 left live only in swap */
	uao_detach(uobj);
	cr_assert_eq(uao_swslots_in_use(), u0);
	cr_assert_eq(uvm_swap_inuse(), 0);
	cr_assert_eq(uvmexp_read(swpgonly), 0);
}

/* a slot that was never written holds no data: its read fails its checksum */
Test(uvm_aobj, get_of_a_slot_never_written_fails_with_error)
{
	struct uvm_object *uobj = uao_create(P(4), 0);
	int n = 1, r, f0;

	swap_on();
	(void)get_one(uobj, 0, NULL);	/* warm: pools, etc. */
	rw_enter(uobj->vmobjlock, RW_WRITE);
	uvm_page_unbusy((struct vm_page *[]){ uvm_pagelookup(uobj, 0) }, 1);
	cr_assert_eq(uao_set_swslot(uobj, 1, uvm_swap_alloc(&n, false)), 0);
	uvmexp_inc(swpgonly);
	rw_exit(uobj->vmobjlock);
	f0 = pages_free();
	cr_assert_null(get_one(uobj, P(1), &r));
	cr_assert_eq(r, VM_PAGER_ERROR);
	cr_assert_eq(pages_free(), f0);
	rw_enter(uobj->vmobjlock, RW_READ);
	cr_assert_null(uvm_pagelookup(uobj, P(1)));
	rw_exit(uobj->vmobjlock);
	uao_detach(uobj);
}

Test(uvm_aobj, get_without_memory_or_pagedaemon_says_again)
{
	static struct vm_page *pgs[8192];
	struct uvm_object *uobj = uao_create(P(4), 0);
	struct vm_page *got[3] = { NULL, NULL, NULL };
	int n = 0, r, npages = 3, i;

	while ((pgs[n] = uvm_pagealloc(NULL, 0, NULL, 0)) != NULL)
		n++;
	uvm_pagefree(pgs[--n]);		/* one page for the ALLPAGES get */
	rw_enter(uobj->vmobjlock, RW_WRITE);
	r = uobj->pgops->pgo_get(uobj, 0, got, &npages, 0, VM_PROT_READ, 0,
	    PGO_ALLPAGES);
	cr_assert_eq(r, VM_PAGER_AGAIN);
	/* the page it had got is given back unbusied, still resident */
	cr_assert(got[0] == NULL && got[1] == NULL && got[2] == NULL);
	rw_enter(uobj->vmobjlock, RW_READ);
	cr_assert_eq(uobj->uo_npages, 1);
	cr_assert_eq(pg_flags_load(uvm_pagelookup(uobj, 0)) & PG_BUSY, 0);
	rw_exit(uobj->vmobjlock);
	for (i = 0; i < n; i++)
		uvm_pagefree(pgs[i]);
	uao_detach(uobj);
}

Test(uvm_aobj, kernel_object_is_a_permanent_aobj)
{
	struct uvm_object *kobj = uvm.kernel_object;

	cr_assert_not_null(kobj);
	cr_assert(UVM_OBJ_IS_AOBJ(kobj));
	cr_assert(UVM_OBJ_IS_KERN_OBJECT(kobj));
	uao_reference(kobj);
	uao_detach(kobj);
	cr_assert_eq(kobj->uo_refs, UVM_OBJ_KERN);
	/* it spans kernel VA, with a swap hash: a slot far out works */
	swap_on();
	rw_enter(kobj->vmobjlock, RW_WRITE);
	{
		int n = 1, s = uvm_swap_alloc(&n, false);
		int far = (int)((VM_MAX_KERNEL_ADDRESS -
		    VM_MIN_KERNEL_ADDRESS) >> PAGE_SHIFT) - 1;

		cr_assert_eq(uao_set_swslot(kobj, far, s), 0);
		cr_assert_eq(uao_find_swslot(kobj, far), s);
		uao_dropswap(kobj, far);
		cr_assert_eq(uao_find_swslot(kobj, far), 0);
	}
	rw_exit(kobj->vmobjlock);
	cr_assert_eq(uao_create(P(1), UAO_FLAG_KERNSWAP), kobj);
}

/*
 * A bad slot (its read failed: UAO_SWSLOT_BAD) stands for a page that is
 * lost and still counted in uvmexp.swpgonly, as uao_get leaves it and
 * uao_swslots_free (the aobj's end) counts it out.  uao_dropswap, which
 * forgets the slot earlier (uvm_km_pgremove, a page freed over it), must
 * count it out too, or swpgonly stays up for good.
 */
Test(uvm_aobj, dropping_a_bad_slot_counts_its_lost_page_out)
{
	struct uvm_object *uobj = uao_create(P(4), 0);
	int n = 1, r, slot, only, after;

	swap_on();
	rw_enter(uobj->vmobjlock, RW_WRITE);
	slot = uvm_swap_alloc(&n, false);
	cr_assert_gt(slot, 0);
	cr_assert_eq(uao_set_swslot(uobj, 1, slot), 0);
	uvmexp_inc(swpgonly);		/* page 1 lives only in swap */
	rw_exit(uobj->vmobjlock);
	/* never written: the read fails its checksum, the slot goes bad */
	cr_assert_null(get_one(uobj, P(1), &r));
	cr_assert_eq(r, VM_PAGER_ERROR);
	rw_enter(uobj->vmobjlock, RW_WRITE);
	slot = uao_find_swslot(uobj, 1);
	only = uvmexp_read(swpgonly);
	uao_dropswap(uobj, 1);
	after = uao_find_swslot(uobj, 1);
	rw_exit(uobj->vmobjlock);
	cr_assert_eq(slot, UAO_SWSLOT_BAD);
	cr_assert_eq(only, 1, "the lost page still counts");
	cr_assert_eq(after, 0);
	cr_assert_eq(uvmexp_read(swpgonly), 0, "swpgonly %d after the bad slot "
	    "was dropped", uvmexp_read(swpgonly));
	uao_detach(uobj);
	cr_assert_eq(uvmexp_read(swpgonly), 0);
	cr_assert_eq(uvm_swap_nbad(), 1);
	cr_assert_eq(uvm_swap_inuse(), 1, "the bad slot is never reused");
}
