/*
 * tests/test_uvm_km.c: vm/uvm_km.c, kernel memory (the seed uvm_km.c).
 *
 * Each test boots its own machine and VM.  A kernel va is its own host
 * address, so the tests read and write kernel memory through plain
 * pointers; page state is checked through the pmap (pmap_extract) and the
 * vm_page.  Page counts are compared as free + kernel, since pool pages
 * (map entries, anons) move between the two and stay cached in pools.
 *
 * Helper threads never cr_assert; they report through atomics.
 */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "host/arena.h"
#include "host/clock.h"
#include "host/disk.h"
#include "host/hook.h"
#include "host/thread.h"
#include "tests/vmtest.h"
#include "vm/uvm.h"
#include "vm/uvm_aobj.h"
#include "vm/uvm_fault.h"
#include "vm/uvm_km.h"
#include "vm/uvm_map.h"
#include "vm/uvm_pager.h"

#define WAIT_NS		(10 * 1000000000ull)
#define P(n)		((vsize_t)(n) * PAGE_SIZE)

#define WAIT_FOR(cond)							\
	do {								\
		uint64_t wf_dl_ = host_real_ns() + WAIT_NS;		\
		while (!(cond)) {					\
			cr_assert(host_real_ns() < wf_dl_,		\
			    "timed out waiting for %s", #cond);		\
			sched_yield();					\
		}							\
	} while (0)

TestSuite(uvm_km, .init = vmtest_boot, .fini = vmtest_shutdown);

/* local prototypes */
static int pages_free(void);
static void warm(void);
static voff_t kobj_off(vaddr_t);
static struct vm_page *page_at(vaddr_t);
static bool page_is_zero(struct vm_page *);
static struct vm_page *obj_page(struct uvm_object *, voff_t, bool);
static void *get_waiter(void *);
static void *valloc_waiter(void *);
static void kswap_out(vaddr_t);
static void kr_gate_hook(enum hook_ev, const void *, uintptr_t);
static void *kfault_main(void *);

/* Free pages, with the pool pages (which pools keep) counted as free. */
static int
pages_free(void)
{
	return uvmexp_read(free) + uvmexp_read(kernel);
}

/* Warm the pools a kernel allocation uses, so counts settle. */
static void
warm(void)
{
	vaddr_t va;

	va = uvm_km_alloc1(kernel_map, P(1), true);
	cr_assert_neq(va, 0);
	uvm_km_free(kernel_map, va, P(1), 0);
}

/* The seed's rule: a kernel object's offset is va - min(kernel_map). */
static voff_t
kobj_off(vaddr_t va)
{
	return va - vm_map_min(kernel_map);
}

static struct vm_page *
page_at(vaddr_t va)
{
	paddr_t pa;

	if (!pmap_extract(pmap_kernel(), va, &pa))
		return NULL;
	return PHYS_TO_VM_PAGE(pa);
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

/* A new page of uobj at off, left busy (ours) or not.  => uobj locked */
static struct vm_page *
obj_page(struct uvm_object *uobj, voff_t off, bool busy)
{
	struct vm_page *pg;

	pg = uvm_pagealloc(uobj, off, NULL, 0);
	cr_assert_not_null(pg);
	atomic_clearbits_int(&pg->pg_flags, PG_FAKE);
	if (!busy) {
		atomic_clearbits_int(&pg->pg_flags, PG_BUSY);
		UVM_PAGE_OWN(pg, NULL);
	}
	return pg;
}

/*
 * Boot state: what uvm_km_init (run by uvm_init at boot) built.
 */

Test(uvm_km, init_builds_kernel_map_and_kmem_map)
{
	struct vm_map_entry *e;
	vsize_t ksize;

	cr_assert_not_null(kernel_map);
	cr_assert_eq(vm_map_min(kernel_map), VM_MIN_KERNEL_ADDRESS);
	cr_assert_eq(vm_map_max(kernel_map), VM_MAX_KERNEL_ADDRESS);
	cr_assert_eq(vm_map_pmap(kernel_map), pmap_kernel());
	cr_assert_eq(pmap_owner(pmap_kernel()), kernel_map);
	cr_assert(UVM_OBJ_IS_KERN_OBJECT(uvm.kernel_object));
	cr_assert(UVM_OBJ_IS_AOBJ(uvm.kernel_object));
	cr_assert_eq(kmem_object->pgops, &km_pager);
	cr_assert(UVM_OBJ_IS_KERN_OBJECT(kmem_object));
	cr_assert_eq(uvmexp.kmem_object, kmem_object);
	cr_assert_eq(uvmexp.mb_object, mb_object);

	ksize = MIN(UVM_KM_KMEM_SIZE,
	    (VM_MAX_KERNEL_ADDRESS - VM_MIN_KERNEL_ADDRESS) / 4);
	cr_assert_not_null(kmem_map);
	cr_assert_eq(vm_map_max(kmem_map) - vm_map_min(kmem_map), ksize);
	cr_assert_eq(vm_map_pmap(kmem_map), pmap_kernel());
	vm_map_lock_read(kernel_map);
	cr_assert(uvm_map_lookup_entry(kernel_map, vm_map_min(kmem_map), &e));
	cr_assert(UVM_ET_ISSUBMAP(e));
	cr_assert_eq(e->object.sub_map, kmem_map);
	cr_assert_eq(e->start, vm_map_min(kmem_map));
	cr_assert_eq(e->end, vm_map_max(kmem_map));
	vm_map_unlock_read(kernel_map);
}

/*
 * uvm_km_alloc1 / uvm_km_free.
 */

Test(uvm_km, alloc1_gives_zeroed_wired_memory_and_free_returns_it)
{
	int free0, wired0, i;
	struct vm_page *pg;
	unsigned char *p;
	vaddr_t va;

	warm();
	free0 = pages_free();
	wired0 = uvmexp.wired;

	/* dirty some pages first, so that zeroing is seen to happen */
	va = uvm_km_alloc1(kernel_map, P(4), false);
	cr_assert_neq(va, 0);
	memset((void *)va, 0xee, P(4));
	uvm_km_free(kernel_map, va, P(4), 0);

	va = uvm_km_alloc1(kernel_map, P(3) + 100, true);	/* 4 pages */
	cr_assert_neq(va, 0);
	cr_assert_eq(va & PAGE_MASK, 0);
	cr_assert(va >= vm_map_min(kernel_map) &&
	    va + P(4) <= vm_map_max(kernel_map));
	cr_assert_eq(pages_free(), free0 - 4);
	cr_assert_eq(uvmexp.wired, wired0 + 4);
	p = (unsigned char *)va;		/* kernel va == host address */
	for (i = 0; i < (int)P(4); i++)
		cr_assert_eq(p[i], 0, "byte %d not zero", i);
	for (i = 0; i < 4; i++) {
		pg = page_at(va + P(i));
		cr_assert_not_null(pg, "page %d not mapped", i);
		cr_assert_eq(pg->uobject, uvm.kernel_object);
		cr_assert_eq(pg->offset, kobj_off(va + P(i)));
		cr_assert_eq(pg->wire_count, 1);
		cr_assert_eq(pg_flags_load(pg) & (PG_BUSY | PQ_ACTIVE |
		    PQ_INACTIVE | PQ_FREE), 0);
		p[P(i) + 7] = (unsigned char)(0x40 + i);
		cr_assert_eq(((unsigned char *)host_arena_direct(
		    VM_PAGE_TO_PHYS(pg)))[7], 0x40 + i);
	}
	cr_assert_geq(pmap_wired_count(pmap_kernel()), 4);

	uvm_km_free(kernel_map, va, P(3) + 100, 0);
	cr_assert_eq(pages_free(), free0);
	cr_assert_eq(uvmexp.wired, wired0);
	cr_assert_null(page_at(va));
	rw_enter(uvm.kernel_object->vmobjlock, RW_READ);
	for (i = 0; i < 4; i++)
		cr_assert_null(uvm_pagelookup(uvm.kernel_object,
		    kobj_off(va + P(i))));
	rw_exit(uvm.kernel_object->vmobjlock);
}

/*
 * uvm_km_valloc: demand zero through the fault handler (the acceptance
 * test of uvm_fault on kernel_map).
 */

Test(uvm_km, valloc_is_demand_zero)
{
	volatile unsigned char *p;
	struct vm_page *pg;
	int free0;
	vaddr_t va;

	warm();
	free0 = pages_free();
	va = uvm_km_valloc(kernel_map, P(2));
	cr_assert_neq(va, 0);
	cr_assert_null(page_at(va), "valloc maps nothing yet");
	cr_assert_null(page_at(va + P(1)));
	cr_assert_eq(pages_free(), free0);

	p = (volatile unsigned char *)va;
	cr_assert_eq(p[100], 0);		/* fault: zero fill */
	p[100] = 0x5a;
	cr_assert_eq(p[100], 0x5a);
	pg = page_at(va);
	cr_assert_not_null(pg);
	cr_assert_eq(pg->uobject, uvm.kernel_object);
	cr_assert_eq(pg->offset, kobj_off(va));
	cr_assert_null(page_at(va + P(1)),
	    "RANDOM advice: no neighbour faulted in");
	cr_assert_eq(p[P(1) + 5], 0);
	cr_assert_lt(pages_free(), free0);

	uvm_km_free(kernel_map, va, P(2), 0);
	cr_assert_eq(pages_free(), free0);
	rw_enter(uvm.kernel_object->vmobjlock, RW_READ);
	cr_assert_null(uvm_pagelookup(uvm.kernel_object, kobj_off(va)));
	rw_exit(uvm.kernel_object->vmobjlock);
}

/*
 * uvm_km_kmemalloc.
 */

Test(uvm_km, kmemalloc_maps_wired_kmem_object_pages)
{
	int free0, wired0, i;
	struct vm_page *pg;
	vaddr_t va, vva;

	warm();
	/* first use of kmem_map: warm its entries too */
	va = uvm_km_kmemalloc(kmem_map, kmem_object, P(1), 0);
	uvm_km_free(kmem_map, va, P(1), 0);
	free0 = pages_free();
	wired0 = uvmexp.wired;

	va = uvm_km_kmemalloc(kmem_map, kmem_object, P(3), 0);
	cr_assert_neq(va, 0);
	cr_assert(va >= vm_map_min(kmem_map) && va < vm_map_max(kmem_map));
	for (i = 0; i < 3; i++) {
		pg = page_at(va + P(i));
		cr_assert_not_null(pg);
		cr_assert_eq(pg->uobject, kmem_object);
		cr_assert_eq(pg->offset, kobj_off(va + P(i)));
		cr_assert_eq(pg->wire_count, 1);
	}
	memset((void *)va, 0x33, P(3));
	cr_assert_eq(uvmexp.wired, wired0 + 3);
	cr_assert_eq(kmem_object->uo_npages, 3);

	/* VALLOC: the VA alone */
	vva = uvm_km_kmemalloc(kmem_map, kmem_object, P(2), UVM_KMF_VALLOC);
	cr_assert_neq(vva, 0);
	cr_assert_null(page_at(vva));
	cr_assert_eq(kmem_object->uo_npages, 3);

	/* TRYLOCK on a locked map fails at once */
	vm_map_lock(kmem_map);
	cr_assert_eq(uvm_km_kmemalloc(kmem_map, kmem_object, P(1),
	    UVM_KMF_TRYLOCK | UVM_KMF_NOWAIT), 0);
	vm_map_unlock(kmem_map);

	uvm_km_free(kmem_map, va, P(3), 0);
	uvm_km_free(kmem_map, vva, P(2), 0);
	cr_assert_eq(kmem_object->uo_npages, 0);
	cr_assert_eq(uvmexp.wired, wired0);
	cr_assert_eq(pages_free(), free0);
	cr_assert_eq(kmem_map->nentries, 0);
}

Test(uvm_km, kmemalloc_nowait_failure_frees_what_it_took)
{
	int free0, wired0, want;
	vaddr_t va;

	warm();
	va = uvm_km_kmemalloc(kmem_map, kmem_object, P(1), 0);
	uvm_km_free(kmem_map, va, P(1), 0);
	free0 = pages_free();
	wired0 = uvmexp.wired;

	/* more than there is: it must run out part way */
	want = uvmexp_read(free) + 64;
	cr_assert_leq(P(want), vm_map_max(kmem_map) - vm_map_min(kmem_map));
	va = uvm_km_kmemalloc(kmem_map, kmem_object, P(want), UVM_KMF_NOWAIT);
	cr_assert_eq(va, 0);
	cr_assert_eq(pages_free(), free0, "pages leaked: %d",
	    free0 - pages_free());
	cr_assert_eq(uvmexp.wired, wired0);
	cr_assert_eq(kmem_object->uo_npages, 0);
	cr_assert_eq(kmem_map->nentries, 0, "VA leaked");
	cr_assert_eq(kmem_map->size, 0);

	/* and memory is usable again */
	va = uvm_km_kmemalloc(kmem_map, kmem_object, P(8), UVM_KMF_NOWAIT);
	cr_assert_neq(va, 0);
	uvm_km_free(kmem_map, va, P(8), 0);
}

/*
 * uvm_km_pgremove.
 */

Test(uvm_km, pgremove_releases_busy_pages_and_frees_the_rest)
{
	struct uvm_object *uobj = kmem_object;
	struct vm_page *pg[4], *extra[20];
	voff_t off = kobj_off(vm_map_min(kmem_map)) + P(100);
	int free0, i;

	free0 = pages_free();
	rw_enter(uobj->vmobjlock, RW_WRITE);
	for (i = 0; i < 4; i++)
		pg[i] = obj_page(uobj, off + P(i), i == 1);
	rw_exit(uobj->vmobjlock);
	cr_assert_eq(pages_free(), free0 - 4);

	/* few pages against the range: the walk over the object's pages */
	uvm_km_pgremove(uobj, off, off + P(4));
	rw_enter(uobj->vmobjlock, RW_WRITE);
	for (i = 0; i < 4; i++) {
		if (i == 1) {
			cr_assert_eq(uvm_pagelookup(uobj, off + P(i)), pg[i]);
			cr_assert(pg_flags_load(pg[i]) & PG_RELEASED);
			cr_assert(pg_flags_load(pg[i]) & PG_BUSY);
		} else {
			cr_assert_null(uvm_pagelookup(uobj, off + P(i)));
			cr_assert(VM_PAGE_IS_FREE(pg[i]));
		}
	}
	/* the busy page's owner frees it when it lets go */
	uvm_page_unbusy(&pg[1], 1);
	cr_assert_null(uvm_pagelookup(uobj, off + P(1)));
	cr_assert(VM_PAGE_IS_FREE(pg[1]));
	cr_assert_eq(pages_free(), free0);

	/* many pages, a small range: page by page lookups */
	for (i = 0; i < 20; i++)
		extra[i] = obj_page(uobj, off + P(10 + i), false);
	rw_exit(uobj->vmobjlock);
	uvm_km_pgremove(uobj, off + P(12), off + P(14));
	rw_enter(uobj->vmobjlock, RW_WRITE);
	for (i = 0; i < 20; i++) {
		if (i == 2 || i == 3)
			cr_assert_null(uvm_pagelookup(uobj, off + P(10 + i)));
		else
			cr_assert_eq(uvm_pagelookup(uobj, off + P(10 + i)),
			    extra[i]);
	}
	cr_assert_eq(uobj->uo_npages, 18);
	rw_exit(uobj->vmobjlock);
	uvm_km_pgremove(uobj, off, off + P(64));
	cr_assert_eq(uobj->uo_npages, 0);
	cr_assert_eq(pages_free(), free0);
}

/*
 * Pool pages.
 */

Test(uvm_km, poolpage_is_a_direct_map_arena_frame)
{
	int free0, kern0, n;
	struct vm_page *pg;
	struct pool pp;
	vaddr_t va, *all;
	paddr_t pa;
	void *item;

	free0 = uvmexp_read(free);
	kern0 = uvmexp_read(kernel);
	va = uvm_km_alloc_poolpage1(kmem_map, NULL);
	cr_assert_neq(va, 0);
	pa = PMAP_UNMAP_POOLPAGE(va);
	cr_assert_eq(pa & PAGE_MASK, 0);
	cr_assert_lt(pa, host_arena_size());
	cr_assert_eq((void *)va, host_arena_direct(pa));
	cr_assert_eq(PMAP_MAP_POOLPAGE(pa), va);
	pg = PHYS_TO_VM_PAGE(pa);
	cr_assert_not(VM_PAGE_IS_FREE(pg));
	cr_assert_null(pg->uobject);
	cr_assert_null(pg->uanon);
	cr_assert_eq(uvmexp_read(kernel), kern0 + 1);
	cr_assert_eq(uvmexp_read(free), free0 - 1);
	memset((void *)va, 0xab, PAGE_SIZE);
	uvm_km_free_poolpage1(kmem_map, va);
	cr_assert(VM_PAGE_IS_FREE(pg));
	cr_assert_eq(uvmexp_read(kernel), kern0);
	cr_assert_eq(uvmexp_read(free), free0);

	/* the allocator of VM pools hands out such pages */
	pool_init(&pp, 200, 0, 0, 0, "kmtestpl", &uvm_km_pool_allocator,
	    IPL_NONE);
	item = pool_get(&pp, PR_WAITOK);
	cr_assert_not_null(item);
	cr_assert((char *)item >= (char *)host_arena_direct(0) &&
	    (char *)item < (char *)host_arena_direct(0) + host_arena_size());
	cr_assert_eq(uvmexp_read(kernel), kern0 + 1);
	pool_put(&pp, item);
	pool_destroy(&pp);
	cr_assert_eq(uvmexp_read(kernel), kern0);

	/* when no page is free it says 0 (and the pool allocator NULL) */
	all = calloc((size_t)uvmexp.npages, sizeof(*all));
	cr_assert_not_null(all);
	for (n = 0; n < uvmexp.npages; n++) {
		all[n] = uvm_km_alloc_poolpage1(kmem_map, NULL);
		if (all[n] == 0)
			break;
	}
	cr_assert_gt(n, 0);
	cr_assert_lt(n, uvmexp.npages);
	cr_assert_null(uvm_km_pool_allocator.pa_alloc(NULL, PR_NOWAIT));
	while (n-- > 0)
		uvm_km_free_poolpage1(kmem_map, all[n]);
	free(all);
	cr_assert_eq(uvmexp_read(free), free0);
	cr_assert_eq(uvmexp_read(kernel), kern0);
}

/*
 * uvm_km_suballoc.
 */

Test(uvm_km, suballoc_makes_submap_with_bounds)
{
	static struct vm_map fixed_store;
	struct vm_map *sub, *fsub;
	struct vm_map_entry *e;
	vaddr_t min = vm_map_min(kernel_map), max = 0, fmin, fmax = 0, va;

	sub = uvm_km_suballoc(kernel_map, &min, &max, (1 << 20) + 1, true,
	    false, NULL);
	cr_assert_not_null(sub);
	cr_assert_eq(max - min, (1 << 20) + PAGE_SIZE, "size is rounded");
	cr_assert_eq(vm_map_min(sub), min);
	cr_assert_eq(vm_map_max(sub), max);
	cr_assert_eq(vm_map_pmap(sub), pmap_kernel());
	vm_map_lock_read(kernel_map);
	cr_assert(uvm_map_lookup_entry(kernel_map, min, &e));
	cr_assert(UVM_ET_ISSUBMAP(e));
	cr_assert_eq(e->object.sub_map, sub);
	cr_assert_eq(e->start, min);
	cr_assert_eq(e->end, max);
	vm_map_unlock_read(kernel_map);

	/* memory from it lies within it */
	va = uvm_km_alloc1(sub, P(2), true);
	cr_assert(va >= min && va + P(2) <= max);
	cr_assert_eq(page_at(va)->offset, kobj_off(va));
	uvm_km_free(sub, va, P(2), 0);
	cr_assert_eq(sub->nentries, 0);

	/* fixed, into a given map */
	fmin = max + P(64);
	sub = uvm_km_suballoc(kernel_map, &fmin, &fmax, P(8), false, true,
	    &fixed_store);
	fsub = &fixed_store;
	cr_assert_eq(sub, fsub);
	cr_assert_eq(fmin, max + P(64));
	cr_assert_eq(fmax, fmin + P(8));
	cr_assert_eq(vm_map_min(fsub), fmin);
	cr_assert_eq(vm_map_max(fsub), fmax);
}

/*
 * uvm_km_get: the km pager.
 */

struct getter {
	struct uvm_object	*uobj;
	voff_t			off;
	atomic_int		state;		/* 1 getting, 2 got */
	struct vm_page		*pg;
	int			rv;
};

static void *
get_waiter(void *arg)
{
	struct getter *g = arg;
	struct vm_page *pps[1] = { NULL };
	int n = 1;

	atomic_store(&g->state, 1);
	rw_enter(g->uobj->vmobjlock, RW_WRITE);
	g->rv = uvm_km_get(g->uobj, g->off, pps, &n, 0, VM_PROT_READ, 0, 0);
	g->pg = pps[0];
	/* we own it now: let it go */
	rw_enter(g->uobj->vmobjlock, RW_WRITE);
	if (g->pg != NULL)
		uvm_page_unbusy(&g->pg, 1);
	rw_exit(g->uobj->vmobjlock);
	atomic_store(&g->state, 2);
	return NULL;
}

Test(uvm_km, get_locked_returns_resident_pages_and_unlock_for_busy)
{
	struct uvm_object *uobj = kmem_object;
	voff_t off = kobj_off(vm_map_min(kmem_map)) + P(200);
	struct vm_page *p0, *p1, *pps[3], *pg;
	struct getter g;
	pthread_t t;
	int n, rv;

	rw_enter(uobj->vmobjlock, RW_WRITE);
	p0 = obj_page(uobj, off, false);
	p1 = obj_page(uobj, off + P(1), true);	/* busy: ours */

	/* centre resident: OK, the busy neighbour skipped, a hole filled */
	memset(pps, 0, sizeof(pps));
	n = 3;
	rv = uvm_km_get(uobj, off, pps, &n, 0, VM_PROT_READ, 0, PGO_LOCKED);
	cr_assert_eq(rv, VM_PAGER_OK);
	cr_assert(rw_write_held(uobj->vmobjlock), "PGO_LOCKED keeps the lock");
	cr_assert_eq(n, 2);
	cr_assert_eq(pps[0], p0);
	cr_assert_null(pps[1]);
	cr_assert_not_null(pps[2]);
	cr_assert_eq(pps[2]->offset, off + P(2));
	cr_assert(page_is_zero(pps[2]));
	cr_assert(pg_flags_load(p0) & PG_BUSY);
	cr_assert(pg_flags_load(pps[2]) & PG_BUSY);
	cr_assert_eq(pg_flags_load(pps[2]) & PG_FAKE, 0);
	uvm_page_unbusy(&pps[0], 1);
	uvm_page_unbusy(&pps[2], 1);

	/* centre busy: VM_PAGER_UNLOCK, the others still handed out */
	memset(pps, 0, sizeof(pps));
	n = 3;
	rv = uvm_km_get(uobj, off, pps, &n, 1, VM_PROT_READ, 0, PGO_LOCKED);
	cr_assert_eq(rv, VM_PAGER_UNLOCK);
	cr_assert_eq(n, 2);
	cr_assert_null(pps[1]);
	uvm_page_unbusy(&pps[0], 1);
	uvm_page_unbusy(&pps[2], 1);

	/* PGO_ALLPAGES: any busy page means UNLOCK; DONTCARE is skipped */
	memset(pps, 0, sizeof(pps));
	pps[0] = PGO_DONTCARE;
	n = 3;
	rv = uvm_km_get(uobj, off, pps, &n, 2, VM_PROT_READ, 0,
	    PGO_LOCKED | PGO_ALLPAGES);
	cr_assert_eq(rv, VM_PAGER_UNLOCK);
	cr_assert_eq(n, 1);
	cr_assert_eq(pps[0], PGO_DONTCARE);
	uvm_page_unbusy(&pps[2], 1);

	/* unlocked get of a missing page: zero filled, busy, unlocked */
	pps[0] = NULL;
	n = 1;
	rv = uvm_km_get(uobj, off + P(5), pps, &n, 0, VM_PROT_READ, 0, 0);
	cr_assert_eq(rv, VM_PAGER_OK);
	cr_assert_not(rw_lock_held(uobj->vmobjlock), "unlocked on return");
	pg = pps[0];
	cr_assert_not_null(pg);
	cr_assert_eq(pg->offset, off + P(5));
	cr_assert(pg_flags_load(pg) & PG_BUSY);
	cr_assert_eq(pg_flags_load(pg) & PG_FAKE, 0);
	cr_assert(page_is_zero(pg));
	rw_enter(uobj->vmobjlock, RW_WRITE);
	uvm_page_unbusy(&pg, 1);
	rw_exit(uobj->vmobjlock);

	/* unlocked get of a busy page waits for its owner (us) */
	memset(&g, 0, sizeof(g));
	g.uobj = uobj;
	g.off = off + P(1);
	cr_assert_eq(host_thread_create(&t, "get_waiter", get_waiter, &g), 0);
	WAIT_FOR(pg_flags_load(p1) & PG_WANTED);
	cr_assert_eq(atomic_load(&g.state), 1);
	rw_enter(uobj->vmobjlock, RW_WRITE);
	uvm_page_unbusy(&p1, 1);
	rw_exit(uobj->vmobjlock);
	WAIT_FOR(atomic_load(&g.state) == 2);
	pthread_join(t, NULL);
	cr_assert_eq(g.rv, VM_PAGER_OK);
	cr_assert_eq(g.pg, p1, "the same page, once unbusy");

	uvm_km_pgremove(uobj, off, off + P(8));
	cr_assert_eq(uobj->uo_npages, 0);
}

/*
 * uvm_km_alloc (NetBSD 2008 flags).
 */

Test(uvm_km, alloc_wired_pageable_vaonly)
{
	const vsize_t align = 64 * 1024;
	struct vm_map_entry *e;
	int free0, wired0, i;
	vaddr_t w, pg, vo;

	warm();
	free0 = pages_free();
	wired0 = uvmexp.wired;

	w = uvm_km_alloc(kernel_map, P(3), align, UVM_KMF_WIRED | UVM_KMF_ZERO);
	cr_assert_neq(w, 0);
	cr_assert_eq(w & (align - 1), 0);
	cr_assert_eq(uvmexp.wired, wired0 + 3);
	for (i = 0; i < (int)P(3); i++)
		cr_assert_eq(((unsigned char *)w)[i], 0);

	pg = uvm_km_alloc(kernel_map, P(2), 0, UVM_KMF_PAGEABLE);
	cr_assert_neq(pg, 0);
	cr_assert_null(page_at(pg));
	vm_map_lock_read(kernel_map);
	cr_assert(uvm_map_lookup_entry(kernel_map, pg, &e));
	cr_assert_eq(e->object.uvm_obj, uvm.kernel_object);
	cr_assert_eq(e->offset, kobj_off(pg));
	vm_map_unlock_read(kernel_map);

	vo = uvm_km_alloc(kernel_map, P(2), 0, UVM_KMF_VAONLY);
	cr_assert_neq(vo, 0);
	vm_map_lock_read(kernel_map);
	cr_assert(uvm_map_lookup_entry(kernel_map, vo, &e));
	cr_assert_null(e->object.uvm_obj);
	cr_assert_null(e->aref.ar_amap);
	vm_map_unlock_read(kernel_map);

	uvm_km_free(kernel_map, w, P(3), UVM_KMF_WIRED);
	uvm_km_free(kernel_map, pg, P(2), UVM_KMF_PAGEABLE);
	uvm_km_free(kernel_map, vo, P(2), UVM_KMF_VAONLY);
	cr_assert_eq(uvmexp.wired, wired0);
	cr_assert_eq(pages_free(), free0);
}

/*
 * Waiting for VA.
 */

struct vwaiter {
	struct vm_map	*map;
	int		how;		/* 0 valloc_wait, 1 uvm_km_alloc WAITVA */
	atomic_int	state;		/* 1 waiting, 2 got */
	vaddr_t		va;
};

static void *
valloc_waiter(void *arg)
{
	struct vwaiter *w = arg;

	atomic_store(&w->state, 1);
	if (w->how == 0)
		w->va = uvm_km_valloc_wait(w->map, P(2));
	else
		w->va = uvm_km_alloc(w->map, P(2), 0,
		    UVM_KMF_PAGEABLE | UVM_KMF_WAITVA);
	atomic_store(&w->state, 2);
	return NULL;
}

Test(uvm_km, valloc_wait_sleeps_until_va_is_freed)
{
	struct vwaiter w;
	struct vm_map *sub;
	vaddr_t min = vm_map_min(kernel_map), max, full;
	pthread_t t;
	int how;

	sub = uvm_km_suballoc(kernel_map, &min, &max, P(4), true, false,
	    NULL);
	cr_assert_eq(uvm_km_valloc_wait(sub, P(5)), 0, "larger than the map");
	for (how = 0; how < 2; how++) {
		full = uvm_km_valloc_wait(sub, P(4));
		cr_assert_eq(full, min);
		memset(&w, 0, sizeof(w));
		w.map = sub;
		w.how = how;
		cr_assert_eq(host_thread_create(&t, "vwaiter", valloc_waiter,
		    &w), 0);
		WAIT_FOR(atomic_load(&w.state) == 1);
		usleep(30 * 1000);
		cr_assert_eq(atomic_load(&w.state), 1, "no VA: it waits");
		if (how == 0)
			uvm_km_free_wakeup(sub, full, P(4));
		else
			uvm_km_free(sub, full, P(4), 0);
		WAIT_FOR(atomic_load(&w.state) == 2);
		pthread_join(t, NULL);
		cr_assert(w.va >= min && w.va + P(2) <= max);
		uvm_km_free(sub, w.va, P(2), 0);
		cr_assert_eq(sub->nentries, 0);
	}
}

/*
 * Page the kernel_object page at va out by hand, as the pagedaemon would:
 * busy, a slot, written synchronously, freed; it lives only in swap.
 */
static void
kswap_out(vaddr_t va)
{
	struct uvm_object *kobj = uvm.kernel_object;
	struct vm_page *pg = page_at(va);
	int n = 1, slot;

	cr_assert_not_null(pg);
	slot = uvm_swap_alloc(&n, false);
	cr_assert_gt(slot, 0);
	rw_enter(kobj->vmobjlock, RW_WRITE);
	atomic_setbits_int(&pg->pg_flags, PG_BUSY);
	UVM_PAGE_OWN(pg, "test");
	pmap_page_protect(pg, VM_PROT_NONE);
	cr_assert_eq(uao_set_swslot(kobj, (int)(kobj_off(va) >> PAGE_SHIFT),
	    slot), 0);
	rw_exit(kobj->vmobjlock);
	cr_assert_eq(uvm_swap_put(slot, &pg, 1, PGO_SYNCIO), VM_PAGER_OK);
	rw_enter(kobj->vmobjlock, RW_WRITE);
	atomic_clearbits_int(&pg->pg_flags, PG_BUSY);
	UVM_PAGE_OWN(pg, NULL);
	uvm_lock_pageq();
	uvm_pagefree(pg);
	uvm_unlock_pageq();
	uvmexp_inc(swpgonly);
	rw_exit(kobj->vmobjlock);
}

/*
 * A kernel address whose swap-in failed (its slot went bad: the data is
 * lost) is poisoned until it is freed: every fault there fails with EIO.
 * uvm_km_free must clear the bad slot with the rest (uvm_km_pgremove:
 * OpenBSD drops any slot of a page not resident, bad ones included), or
 * the next allocation at that address fails for a page it never had.
 */
Test(uvm_km, a_failed_read_does_not_poison_the_kernel_address)
{
	struct uvm_object *kobj = uvm.kernel_object;
	volatile uint64_t *w;
	vaddr_t va, va2;
	int slot, idx;

	vmtest_attach_swap(64);
	warm();
	va = uvm_km_valloc(kernel_map, P(1));
	cr_assert_neq(va, 0);
	w = (volatile uint64_t *)va;
	w[0] = 0x1234;			/* fault: zero fill, then the store */
	idx = (int)(kobj_off(va) >> PAGE_SHIFT);

	kswap_out(va);

	/* the read fails: the slot is bad, the address fails with EIO */
	host_disk_set_fail_rate(uvm_swap_disk(), 1000);
	cr_assert_eq(uvm_fault(kernel_map, va, VM_FAULT_INVALID,
	    VM_PROT_READ), EIO);
	host_disk_set_fail_rate(uvm_swap_disk(), 0);
	rw_enter(kobj->vmobjlock, RW_READ);
	slot = uao_find_swslot(kobj, idx);
	rw_exit(kobj->vmobjlock);
	cr_assert_eq(slot, UAO_SWSLOT_BAD);
	cr_assert_eq(uvmexp_read(swpgonly), 1);

	/* freed: the bad slot goes with it */
	uvm_km_free(kernel_map, va, P(1), 0);
	rw_enter(kobj->vmobjlock, RW_READ);
	slot = uao_find_swslot(kobj, idx);
	rw_exit(kobj->vmobjlock);
	cr_assert_eq(slot, 0, "the freed address keeps its bad slot");
	cr_assert_eq(uvmexp_read(swpgonly), 0);
	cr_assert_eq(uvm_swap_nbad(), 1);
	cr_assert_eq(uvm_swap_inuse(), 1, "the bad slot is never reused");

	/* allocated again: zero fill */
	va2 = uvm_km_valloc(kernel_map, P(1));
	cr_assert_eq(va2, va, "first fit gives the same VA back");
	cr_assert_eq(uvm_fault(kernel_map, va2, VM_FAULT_INVALID,
	    VM_PROT_READ), 0, "the address is poisoned");
	w = (volatile uint64_t *)va2;
	cr_assert_eq(w[0], 0);
	uvm_km_free(kernel_map, va2, P(1), 0);
}

/*
 * The same address freed while its swap-in is in flight (the read held
 * by a gate on its completion): uvm_km_pgremove can only release the busy
 * page; when the read fails, uao_get frees the page and must drop the
 * slot it just marked bad with it, since nobody maps that offset any
 * more and the pgremove that would have dropped it has come and gone.
 */
static int kr_gate, kr_gated;		/* [a] */

static void
kr_gate_hook(enum hook_ev ev, const void *obj, uintptr_t arg)
{
	const struct buf *bp = obj;

	(void)arg;
	if (ev != HE_DISK_DONE || !(bp->b_flags & B_READ))
		return;
	__atomic_store_n(&kr_gated, 1, __ATOMIC_RELEASE);
	while (__atomic_load_n(&kr_gate, __ATOMIC_ACQUIRE))
		usleep(100);
}

struct kfault {
	vaddr_t	va;
	int	error;		/* [a] */
};

static void *
kfault_main(void *arg)
{
	struct kfault *kf = arg;

	(void)host_thread_self();
	__atomic_store_n(&kf->error, uvm_fault(kernel_map, kf->va,
	    VM_FAULT_INVALID, VM_PROT_READ), __ATOMIC_RELEASE);
	return NULL;
}

Test(uvm_km, a_kernel_page_freed_during_a_failed_swapin_leaves_no_bad_slot)
{
	struct uvm_object *kobj = uvm.kernel_object;
	struct kfault kf;
	pthread_t t;
	vaddr_t va;
	int slot, idx, i;

	vmtest_attach_swap(64);
	warm();
	va = uvm_km_valloc(kernel_map, P(1));
	cr_assert_neq(va, 0);
	*(volatile uint64_t *)va = 0x4321;
	idx = (int)(kobj_off(va) >> PAGE_SHIFT);
	kswap_out(va);

	host_disk_set_fail_rate(uvm_swap_disk(), 1000);
	__atomic_store_n(&kr_gate, 1, __ATOMIC_RELEASE);
	host_set_sched_hook(kr_gate_hook);
	kf.va = va;
	kf.error = -1;
	cr_assert_eq(host_thread_create(&t, "kfault", kfault_main, &kf), 0);
	for (i = 0; i < 20000 && !__atomic_load_n(&kr_gated, __ATOMIC_ACQUIRE);
	    i++)
		usleep(500);
	cr_assert(__atomic_load_n(&kr_gated, __ATOMIC_ACQUIRE),
	    "the swap-in never started");
	uvm_km_free(kernel_map, va, P(1), 0);	/* releases the busy page */
	__atomic_store_n(&kr_gate, 0, __ATOMIC_RELEASE);
	pthread_join(t, NULL);
	host_set_sched_hook(NULL);
	host_disk_set_fail_rate(uvm_swap_disk(), 0);

	cr_assert_eq(__atomic_load_n(&kf.error, __ATOMIC_ACQUIRE), EIO);
	rw_enter(kobj->vmobjlock, RW_READ);
	slot = uao_find_swslot(kobj, idx);
	rw_exit(kobj->vmobjlock);
	cr_assert_eq(slot, 0, "the freed address keeps slot %d", slot);
	cr_assert_eq(uvmexp_read(swpgonly), 0);
	cr_assert_eq(uvm_swap_nbad(), 1);
	cr_assert_eq(uvm_swap_inuse(), 1, "the bad slot is never reused");
}
