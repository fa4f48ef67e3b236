/*
 * tests/test_uvm_pager.c: vm/uvm_pager.c, the pager layer: the end of a
 * pageout (uvm_aio_aiodone) and the dropping of a pageout cluster
 * (uvm_pager_dropcluster, through uvm_pager_put).
 *
 * Each test boots its own machine with swap and the daemons, the
 * pagedaemon quiesced, so that only the test scans: it runs
 * uvmpd_scan_inactive on an LWP of the pagedaemon's process.  An I/O is
 * held "in flight" by a gate on the disk's completions (a scheduler hook
 * at HE_DISK_DONE), so that what happens meanwhile is the test's doing,
 * not a race.  Waits are bounded polls.
 */
#include <criterion/criterion.h>
#include <string.h>
#include <unistd.h>

#include "host/disk.h"
#include "host/hook.h"
#include "host/lwp.h"
#include "host/pmap.h"
#include "tests/vmtest.h"
#include "vm/uvm_aobj.h"
#include "vm/uvm_fault.h"
#include "vm/uvm_km.h"
#include "vm/uvm_map.h"
#include "vm/uvm_object.h"
#include "vm/uvm_pager.h"
#include "vm/uvm_pdaemon.h"

/* local prototypes */
static void pg_init(void);
static void pg_fini(void);
static void up(int swap_pages);
static void set_targets(void);
static struct vm_page *kpage_at(vaddr_t va);
static void kdeactivate(vaddr_t va, int npages);

#define P(n)	((vsize_t)(n) * PAGE_SIZE)

TestSuite(uvm_pager, .init = pg_init, .fini = pg_fini, .timeout = 60);

static void
pg_init(void)
{
	alarm(60);
	(void)host_thread_self();
}

static void
pg_fini(void)
{
	host_set_sched_hook(NULL);
	uvm_pdaemon_stop();
	vmtest_shutdown();
}

/* Boot 16 MiB with swap_pages of swap and the daemons, pagedaemon quiet. */
static void
up(int swap_pages)
{
	vmtest_boot_ram(16ull << 20);
	cr_assert_eq(uvm_swap_attach(NULL, (uint64_t)swap_pages,
	    HOST_DISK_BUFFERED), 0, "%s", uvm_swap_error());
	cr_assert_eq(uvm_pdaemon_start(), 0);
	uvm_pdaemon_quiesce();
}

/* A free target of all of RAM: never met, the scan visits every page. */
static void
set_targets(void)
{
	uvm_lock_pageq();
	__atomic_store_n(&uvmexp.freetarg, uvmexp.npages, __ATOMIC_RELAXED);
	__atomic_store_n(&uvmexp.inactarg, uvmexp.npages, __ATOMIC_RELAXED);
	uvm_unlock_pageq();
}

static struct vm_page *
kpage_at(vaddr_t va)
{
	paddr_t pa;

	if (!pmap_extract(pmap_kernel(), va, &pa))
		return NULL;
	return PHYS_TO_VM_PAGE(pa);
}

/* Put the kernel_object pages of [va, va + npages) on the inactive queue. */
static void
kdeactivate(vaddr_t va, int npages)
{
	struct uvm_object *kobj = uvm.kernel_object;
	struct vm_page *pg;
	int i;

	rw_enter(kobj->vmobjlock, RW_WRITE);
	for (i = 0; i < npages; i++) {
		pg = kpage_at(va + P(i));
		cr_assert_not_null(pg, "kernel page %d is not resident", i);
		cr_assert_eq(pg->uobject, kobj);
		uvm_lock_pageq();
		uvm_pagedeactivate(pg);
		uvm_unlock_pageq();
	}
	rw_exit(kobj->vmobjlock);
}

/*
 * The reporter's sequence (issue 13): pageable kernel memory (an aobj,
 * the kernel object) is paged out asynchronously, and freed while the
 * write is in flight: uvm_km_pgremove can only mark the busy pages
 * PG_RELEASED.  When the write completes, uvm_aio_aiodone frees them; it
 * must give back their swap slots too (uao_dropswap, as uvm_page_unbusy
 * does for a released aobj page), or the kernel object keeps the slots:
 * swpginuse stays counted, and the next zero-fill fault at that offset
 * reads the dead page back from swap.
 */
Test(uvm_pager, a_released_aobj_page_gives_back_its_swap_slot)
{
	struct uvm_object *kobj;
	struct vm_page *pg[4];
	volatile uint64_t *w;
	vaddr_t va, va2;
	int n = 4, i, idx, slot;

	up(256);
	kobj = uvm.kernel_object;
	va = uvm_km_valloc(kernel_map, P(n));
	cr_assert_neq(va, 0);
	for (i = 0; i < n; i++) {
		w = (volatile uint64_t *)(va + P(i));
		w[0] = 0xdead0000u + (uint64_t)i;	/* fault: zero fill */
		pg[i] = kpage_at(va + P(i));
	}
	kdeactivate(va, n);
	set_targets();

	/* the pageout goes out and stays in flight */
	disk_gate_set(1);
	host_set_sched_hook(disk_gate_hook);
	as_pagedaemon(scan_inactive_fn, NULL);
	cr_assert_eq(uvmexp_read(paging), n, "one async pageout of %d pages",
	    n);
	cr_assert_eq(uvm_swap_inuse(), n);
	for (i = 0; i < n; i++)
		cr_assert(pg_flags_load(pg[i]) & PG_BUSY, "page %d in flight",
		    i);

	/* freed meanwhile: the busy pages are released */
	uvm_km_free(kernel_map, va, P(n), 0);
	for (i = 0; i < n; i++)
		cr_assert(pg_flags_load(pg[i]) & PG_RELEASED);

	/* the write completes: the aiodone daemon frees pages and slots */
	disk_gate_set(0);
	uvm_pageout_drain();
	host_set_sched_hook(NULL);
	cr_assert_eq(uvmexp_read(paging), 0);
	for (i = 0; i < n; i++)
		cr_assert(VM_PAGE_IS_FREE(pg[i]), "released page %d not freed",
		    i);
	for (i = 0; i < n; i++) {
		idx = (int)((va - vm_map_min(kernel_map)) >> PAGE_SHIFT) + i;
		rw_enter(kobj->vmobjlock, RW_READ);
		slot = uao_find_swslot(kobj, idx);
		rw_exit(kobj->vmobjlock);
		cr_assert_eq(slot, 0, "the kernel object kept slot %d of freed "
		    "page %d", slot, i);
	}
	cr_assert_eq(uvm_swap_inuse(), 0, "%d slots leaked", uvm_swap_inuse());
	cr_assert_eq(uvmexp_read(swpginuse), 0);
	cr_assert_eq(uvmexp_read(swpgonly), 0);
	cr_assert_eq(uao_swslots_in_use(), 0);

	/* the same VA again: zero fill, not the dead pages from swap */
	va2 = uvm_km_valloc(kernel_map, P(n));
	cr_assert_eq(va2, va, "first fit gives the same VA back");
	for (i = 0; i < n; i++) {
		w = (volatile uint64_t *)(va2 + P(i));
		cr_assert_eq(w[0], 0, "page %d reads %#llx, not zero", i,
		    (unsigned long long)w[0]);
	}
	uvm_km_free(kernel_map, va2, P(n), 0);
}

/*
 * The same for uvm_pager_dropcluster's success path (a synchronous
 * pageout of a cluster, PGO_PDFREECLUST): a released aobj page in the
 * cluster is freed with its slot.
 */
Test(uvm_pager, dropcluster_gives_back_the_slot_of_a_released_aobj_page)
{
	struct uvm_object *uobj;
	struct vm_page *pgs[2];
	int n = 2, slot, i;

	up(256);
	uobj = uao_create(P(2), 0);
	slot = uvm_swap_alloc(&n, false);
	cr_assert_gt(slot, 0);
	rw_enter(uobj->vmobjlock, RW_WRITE);
	for (i = 0; i < 2; i++) {
		pgs[i] = uvm_pagealloc(uobj, P(i), NULL, UVM_PGA_ZERO);
		cr_assert_not_null(pgs[i]);
		atomic_clearbits_int(&pgs[i]->pg_flags, PG_FAKE);
		cr_assert_eq(uao_set_swslot(uobj, i, slot + i), 0);
	}
	/* "written": page 1 was released meanwhile (page 0 is the caller's) */
	atomic_setbits_int(&pgs[1]->pg_flags, PG_RELEASED);
	rw_exit(uobj->vmobjlock);
	n = 2;
	uvm_pager_dropcluster(NULL, pgs[0], pgs, &n, PGO_PDFREECLUST);
	cr_assert(VM_PAGE_IS_FREE(pgs[1]));
	rw_enter(uobj->vmobjlock, RW_WRITE);
	slot = uao_find_swslot(uobj, 1);
	uvm_page_unbusy(&pgs[0], 1);
	rw_exit(uobj->vmobjlock);
	cr_assert_eq(slot, 0, "the object kept slot %d", slot);
	cr_assert_eq(uvm_swap_inuse(), 1, "page 1's slot is free again");
	uao_detach(uobj);
	cr_assert_eq(uvm_swap_inuse(), 0);
}

/*
 * An object pager that builds its own clusters (pgo_mk_pcluster: the
 * page and the next one, if resident and unbusy) and answers what the
 * test says.  The pagedaemon calls uvm_pager_put for it with the object
 * locked (uvmpd_scan_inactive holds slock through the pageout), so
 * uvm_pager_dropcluster must not lock the object again, and must leave
 * the object's swap slots alone (it has none: only a swap cluster's pages
 * lose theirs).
 */
static int tc_result;		/* what tc_put answers */
static int tc_calls;
static int tc_clustered;	/* pages in the biggest cluster built */

static struct vm_page **
tc_mk_pcluster(struct uvm_object *uobj, struct vm_page **pps, int *npagesp,
    struct vm_page *center, int flags, voff_t start, voff_t stop)
{
	struct vm_page *next;
	int n = 0;

	KASSERT(rw_write_held(uobj->vmobjlock));
	pps[n++] = center;
	next = uvm_pagelookup(uobj, center->offset + PAGE_SIZE);
	if (next != NULL && (pg_flags_load(next) & PG_BUSY) == 0 &&
	    *npagesp > 1) {
		atomic_setbits_int(&next->pg_flags, PG_BUSY);
		UVM_PAGE_OWN(next, "tc_cluster");
		pps[n++] = next;
	}
	if (n > tc_clustered)
		tc_clustered = n;
	*npagesp = n;
	return pps;
}

static int
tc_put(struct uvm_object *uobj, struct vm_page **pps, int npages, int flags)
{
	int i;

	KASSERT(rw_write_held(uobj->vmobjlock));
	for (i = 0; i < npages; i++)
		KASSERT(pg_flags_load(pps[i]) & PG_BUSY);
	tc_calls++;
	return tc_result;
}

static const struct uvm_pagerops cluster_pager = {
	.pgo_put = tc_put,
	.pgo_mk_pcluster = tc_mk_pcluster,
};

/* A dirty, unbusy page of uobj at off on the inactive queue. */
static struct vm_page *
tc_page(struct uvm_object *uobj, voff_t off)
{
	struct vm_page *pg;

	rw_enter(uobj->vmobjlock, RW_WRITE);
	pg = uvm_pagealloc(uobj, off, NULL, UVM_PGA_ZERO);
	cr_assert_not_null(pg);
	atomic_clearbits_int(&pg->pg_flags, PG_BUSY | PG_FAKE | PG_CLEAN);
	UVM_PAGE_OWN(pg, NULL);
	uvm_lock_pageq();
	uvm_pagedeactivate(pg);
	uvm_unlock_pageq();
	rw_exit(uobj->vmobjlock);
	return pg;
}

static void
tc_free(struct uvm_object *uobj, struct vm_page *pg)
{
	rw_enter(uobj->vmobjlock, RW_WRITE);
	if (pg->uobject == uobj) {
		cr_assert_not(pg_flags_load(pg) & PG_BUSY);
		pmap_page_protect(pg, VM_PROT_NONE);
		uvm_lock_pageq();
		uvm_pagefree(pg);
		uvm_unlock_pageq();
	}
	rw_exit(uobj->vmobjlock);
}

Test(uvm_pager, an_object_cluster_is_dropped_under_the_callers_lock)
{
	struct uvm_object obj, *uobj = &obj;
	struct vm_page *a, *b;

	up(256);
	uvm_obj_init(uobj, &cluster_pager, 1);
	set_targets();

	/* a good pageout: b, the cluster's other page, comes back clean */
	a = tc_page(uobj, 0);
	b = tc_page(uobj, P(1));
	tc_result = VM_PAGER_OK;
	tc_calls = tc_clustered = 0;
	as_pagedaemon(scan_inactive_fn, NULL);
	cr_assert_eq(tc_clustered, 2, "the pager built a cluster of two");
	cr_assert_geq(tc_calls, 1);
	cr_assert(rw_tryenter(uobj->vmobjlock, RW_WRITER),
	    "the object was left locked");
	rw_exit(uobj->vmobjlock);
	cr_assert(VM_PAGE_IS_FREE(b) || (pg_flags_load(b) &
	    (PG_BUSY | PG_CLEAN)) == PG_CLEAN, "b was not cleaned and unbusied");
	tc_free(uobj, a);
	tc_free(uobj, b);

	/* a failed pageout: b comes back dirty and unbusy, where it was */
	a = tc_page(uobj, 0);
	b = tc_page(uobj, P(1));
	tc_result = VM_PAGER_ERROR;
	tc_calls = tc_clustered = 0;
	as_pagedaemon(scan_inactive_fn, NULL);
	cr_assert_eq(tc_clustered, 2);
	cr_assert(rw_tryenter(uobj->vmobjlock, RW_WRITER),
	    "the object was left locked");
	rw_exit(uobj->vmobjlock);
	cr_assert_eq(pg_flags_load(b) & (PG_BUSY | PG_CLEAN), 0,
	    "b was not unbusied, or made clean");
	cr_assert_eq(pg_flags_load(a) & (PG_BUSY | PG_CLEAN), 0);
	tc_free(uobj, a);
	tc_free(uobj, b);
	cr_assert_eq(uobj->uo_npages, 0);
	uvm_obj_destroy(uobj);
}
