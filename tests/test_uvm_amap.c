/*
 * tests/test_uvm_amap.c: vm/uvm_amap.c: slots (add, lookup, unadd, the
 * dense list), references, wipeout, amap_copy and the shared lock,
 * chunked large amaps, kernel memory for amaps.
 *
 * Each test boots its own machine and VM.  Page counts compare free +
 * kernel, since pool pages stay cached in their pools.
 */
#include <string.h>

#include <criterion/criterion.h>

#include "host/arena.h"
#include "tests/vmtest.h"
#include "vm/uvm.h"
#include "vm/uvm_amap.h"
#include "vm/uvm_anon.h"
#include "vm/uvm_km.h"
#include "vm/uvm_map.h"
#include "vm/uvm_object.h"
#include "vm/uvm_pager.h"

#define P(n)		((vsize_t)(n) * PAGE_SIZE)
#define BASE		((vaddr_t)0x10000000)

TestSuite(uvm_amap, .init = vmtest_boot, .fini = vmtest_shutdown);

/* local prototypes */
static int pages_free(void);
static struct vm_anon *add_anon(struct vm_aref *aref, int slot,
    bool withpage);
static void check_dense(struct vm_amap *amap);

static int
pages_free(void)
{
	return uvmexp_read(free) + uvmexp_read(kernel);
}

/* A new anon (with a page if asked) in slot of aref.  => am_lock held */
static struct vm_anon *
add_anon(struct vm_aref *aref, int slot, bool withpage)
{
	struct vm_anon *anon = uvm_analloc();
	struct vm_page *pg;

	cr_assert_not_null(anon);
	anon->an_lock = aref->ar_amap->am_lock;
	if (withpage) {
		pg = uvm_pagealloc(NULL, 0, anon, UVM_PGA_ZERO);
		cr_assert_not_null(pg);
		atomic_clearbits_int(&pg->pg_flags, PG_BUSY | PG_FAKE);
		UVM_PAGE_OWN(pg, NULL);
	}
	cr_assert_eq(amap_add(aref, P(slot), anon, false), 0);
	return anon;
}

/* The dense list and back pointers agree with the slots.  => locked */
static void
check_dense(struct vm_amap *amap)
{
	struct vm_aref whole = { 0, amap };
	struct vm_anon *anons[1024];
	int slot, used = 0;

	cr_assert_leq(amap->am_nslot, 1024);
	amap_lookups(&whole, 0, anons, amap->am_nslot);
	for (slot = 0; slot < amap->am_nslot; slot++)
		if (anons[slot] != NULL)
			used++;
	cr_assert_eq(used, amap->am_nused);
}

Test(uvm_amap, alloc_gives_one_reference_and_a_lock)
{
	int c0 = amap_count();
	struct vm_amap *amap = amap_alloc(P(16), PR_WAITOK);

	cr_assert_not_null(amap);
	cr_assert_eq(amap_count(), c0 + 1);
	cr_assert_eq(amap_refs(amap), 1);
	cr_assert_eq(amap->am_nslot, 16);
	cr_assert_eq(amap->am_nused, 0);
	cr_assert_not_null(amap->am_lock);
	cr_assert_str_eq(amap->am_lock->rw_lo.lo_name, "amap");
	cr_assert_null(amap_alloc(P(AMAP_MAXSLOTS + 1), PR_NOWAIT));
	amap_unref(amap, 0, P(16), true);
	cr_assert_eq(amap_count(), c0);
}

Test(uvm_amap, amaps_and_slots_live_in_arena_pages)
{
	struct vm_amap *amap = amap_alloc(P(4), PR_WAITOK);

	cr_assert_not_null(amap);
	cr_assert_lt(PMAP_UNMAP_POOLPAGE(amap), host_arena_size());
	cr_assert_lt(PMAP_UNMAP_POOLPAGE(amap->am_chunks[0]),
	    host_arena_size());
	cr_assert_lt(PMAP_UNMAP_POOLPAGE(amap->am_lock), host_arena_size());
	amap_unref(amap, 0, P(4), true);
}

Test(uvm_amap, add_lookup_unadd)
{
	struct vm_amap *amap = amap_alloc(P(16), PR_WAITOK);
	struct vm_aref aref = { 0, amap }, sub = { 4, amap };
	struct vm_anon *a3, *a7, *a0, *x, *anons[4];

	amap_lock(amap);
	a3 = add_anon(&aref, 3, false);
	a7 = add_anon(&aref, 7, false);
	a0 = add_anon(&aref, 0, false);
	cr_assert_eq(amap->am_nused, 3);
	cr_assert_eq(amap_lookup(&aref, P(3)), a3);
	cr_assert_eq(amap_lookup(&aref, P(7)), a7);
	cr_assert_eq(amap_lookup(&aref, 0), a0);
	cr_assert_null(amap_lookup(&aref, P(1)));
	/* an entry whose first slot is 4 sees slot 7 at its page 3 */
	cr_assert_eq(amap_lookup(&sub, P(3)), a7);
	amap_lookups(&aref, P(2), anons, 4);
	cr_assert(anons[0] == NULL && anons[1] == a3 && anons[2] == NULL &&
	    anons[3] == NULL);
	check_dense(amap);

	/* unadd from the middle of the dense list */
	amap_unadd(&aref, P(3));
	cr_assert_eq(amap->am_nused, 2);
	cr_assert_null(amap_lookup(&aref, P(3)));
	cr_assert_eq(amap_lookup(&aref, P(7)), a7);
	check_dense(amap);

	/* replace */
	x = uvm_analloc();
	x->an_lock = amap->am_lock;
	amap_add(&aref, P(7), x, true);
	cr_assert_eq(amap_lookup(&aref, P(7)), x);
	cr_assert_eq(amap->am_nused, 2);
	a7->an_ref = 0;
	uvm_anfree(a7);
	a3->an_ref = 0;
	uvm_anfree(a3);

	/* re-add where one was */
	a3 = add_anon(&aref, 3, false);
	check_dense(amap);
	amap_unlock(amap);
	amap_unref(amap, 0, P(16), true);
}

Test(uvm_amap, ref_unref_counting)
{
	struct vm_amap *amap = amap_alloc(P(8), PR_WAITOK);
	int c0 = amap_count();

	amap_ref(amap, 0, P(8), AMAP_SHARED);
	cr_assert_eq(amap_refs(amap), 2);
	cr_assert(amap_flags(amap) & AMAP_SHARED);
	amap_ref(amap, 0, P(8), 0);
	cr_assert_eq(amap_refs(amap), 3);
	amap_unref(amap, 0, P(8), false);
	cr_assert_eq(amap_refs(amap), 2);
	cr_assert(amap_flags(amap) & AMAP_SHARED);
	amap_unref(amap, 0, P(8), false);
	cr_assert_eq(amap_refs(amap), 1);
	cr_assert_eq(amap_flags(amap) & AMAP_SHARED, 0,
	    "one reference left: no longer shared");
	cr_assert_eq(amap_count(), c0);
	amap_unref(amap, 0, P(8), true);
	cr_assert_eq(amap_count(), c0 - 1);
}

Test(uvm_amap, wipeout_frees_anons_and_pages)
{
	struct vm_amap *amap;
	struct vm_aref aref;
	struct vm_anon *shared;
	int f0, c0, ap0, i;

	/* warm the pools, so that only pages move */
	amap = amap_alloc(P(8), PR_WAITOK);
	amap_unref(amap, 0, P(8), true);
	shared = uvm_analloc();
	shared->an_ref = 0;
	uvm_anfree(shared);

	f0 = pages_free();
	c0 = uvm_anon_count();
	ap0 = uvmexp_read(anonpages);
	amap = amap_alloc(P(8), PR_WAITOK);
	aref.ar_pageoff = 0;
	aref.ar_amap = amap;
	amap_lock(amap);
	for (i = 0; i < 8; i++)
		add_anon(&aref, i, true);
	/*
	 * One anon is also referenced from elsewhere (another amap of the
	 * same lock, after a fork): it survives, and so does the lock.
	 */
	shared = amap_lookup(&aref, P(5));
	shared->an_ref++;
	uvm_rwobj_hold(amap->am_lock);
	amap_unlock(amap);
	cr_assert_eq(uvm_anon_count(), c0 + 8);
	cr_assert_eq(uvmexp_read(anonpages), ap0 + 8);
	cr_assert_lt(pages_free(), f0);

	amap_ref(amap, 0, P(8), 0);
	amap_unref(amap, 0, P(8), false);	/* not the last */
	cr_assert_eq(uvm_anon_count(), c0 + 8);
	amap_unref(amap, 0, P(8), true);	/* the last: wipeout */
	cr_assert_eq(uvm_anon_count(), c0 + 1);
	cr_assert_eq(shared->an_ref, 1);
	cr_assert_not_null(shared->an_page);
	cr_assert_eq(uvmexp_read(anonpages), ap0 + 1);

	/* the other amap goes too */
	rw_enter(shared->an_lock, RW_WRITE);
	shared->an_ref = 0;
	{
		krwlock_t *lock = shared->an_lock;

		uvm_anfree(shared);
		rw_exit(lock);
		cr_assert(uvm_rwobj_free(lock));
	}
	cr_assert_eq(uvm_anon_count(), c0);
	cr_assert_eq(uvmexp_read(anonpages), ap0);
	cr_assert_eq(pages_free(), f0);
}

Test(uvm_amap, copy_of_shared_amap_shares_anons_and_lock)
{
	struct vmspace *vm = uvmspace_alloc(VM_MIN_ADDRESS,
	    VM_MAXUSER_ADDRESS, true);
	struct vm_map *map = &vm->vm_map;
	struct vm_map_entry e;
	struct vm_amap *src, *copy;
	struct vm_aref aref;
	struct vm_anon *a1, *a2;
	int c0;

	cr_assert_not_null(vm);
	src = amap_alloc(P(8), PR_WAITOK);
	aref.ar_pageoff = 0;
	aref.ar_amap = src;
	amap_lock(src);
	a1 = add_anon(&aref, 1, true);
	a2 = add_anon(&aref, 6, true);
	amap_unlock(src);
	/* fork: the child's entry shares the amap, needs-copy */
	amap_ref(src, 0, P(8), 0);
	c0 = amap_count();

	/* the child's entry maps slots 1..4 of it */
	memset(&e, 0, sizeof(e));
	e.start = BASE;
	e.end = BASE + P(4);
	e.etype = UVM_ET_COPYONWRITE | UVM_ET_NEEDSCOPY;
	e.aref.ar_pageoff = 1;
	e.aref.ar_amap = src;

	vm_map_lock(map);
	amap_copy(map, &e, 0, true, e.start, e.end);
	vm_map_unlock(map);

	copy = e.aref.ar_amap;
	cr_assert_neq(copy, src);
	cr_assert_eq(amap_count(), c0 + 1);
	cr_assert_eq(e.aref.ar_pageoff, 0);
	cr_assert_eq(e.etype & UVM_ET_NEEDSCOPY, 0);
	cr_assert_eq(copy->am_nslot, 4);
	cr_assert_eq(amap_refs(copy), 1);
	cr_assert_eq(amap_refs(src), 1);
	/* the anons are shared, with one lock */
	cr_assert_eq(copy->am_lock, src->am_lock);
	amap_lock(copy);
	cr_assert_eq(amap_lookup(&e.aref, 0), a1);
	cr_assert_eq(copy->am_nused, 1, "slot 6 is outside the entry");
	cr_assert_eq(a1->an_ref, 2);
	cr_assert_eq(a2->an_ref, 1);
	amap_unlock(copy);

	/* either side can go first */
	amap_unref(src, 0, P(8), true);
	cr_assert_eq(a1->an_ref, 1);
	amap_lock(copy);
	cr_assert_eq(amap_lookup(&e.aref, 0), a1);
	cr_assert_not_null(a1->an_page);
	amap_unlock(copy);
	amap_unref(copy, 0, P(4), true);
	cr_assert_eq(amap_count(), c0 - 1);
	uvmspace_free(vm);
}

Test(uvm_amap, copy_with_one_reference_takes_it_over)
{
	struct vmspace *vm = uvmspace_alloc(VM_MIN_ADDRESS,
	    VM_MAXUSER_ADDRESS, true);
	struct vm_map_entry e;
	struct vm_amap *amap = amap_alloc(P(4), PR_WAITOK);

	memset(&e, 0, sizeof(e));
	e.start = BASE;
	e.end = BASE + P(4);
	e.etype = UVM_ET_COPYONWRITE | UVM_ET_NEEDSCOPY;
	e.aref.ar_amap = amap;
	vm_map_lock(&vm->vm_map);
	amap_copy(&vm->vm_map, &e, AMAP_COPY_NOWAIT, true, e.start, e.end);
	vm_map_unlock(&vm->vm_map);
	cr_assert_eq(e.aref.ar_amap, amap);
	cr_assert_eq(e.etype & UVM_ET_NEEDSCOPY, 0);
	amap_unref(amap, 0, P(4), true);
	uvmspace_free(vm);
}

Test(uvm_amap, copy_of_empty_shared_amap_gets_its_own_lock)
{
	struct vmspace *vm = uvmspace_alloc(VM_MIN_ADDRESS,
	    VM_MAXUSER_ADDRESS, true);
	struct vm_map_entry e;
	struct vm_amap *src = amap_alloc(P(4), PR_WAITOK);

	amap_ref(src, 0, P(4), 0);
	memset(&e, 0, sizeof(e));
	e.start = BASE;
	e.end = BASE + P(4);
	e.etype = UVM_ET_COPYONWRITE | UVM_ET_NEEDSCOPY;
	e.aref.ar_amap = src;
	vm_map_lock(&vm->vm_map);
	amap_copy(&vm->vm_map, &e, 0, true, e.start, e.end);
	vm_map_unlock(&vm->vm_map);
	cr_assert_neq(e.aref.ar_amap, src);
	cr_assert_neq(e.aref.ar_amap->am_lock, src->am_lock);
	amap_unref(e.aref.ar_amap, 0, P(4), true);
	amap_unref(src, 0, P(4), true);
	uvmspace_free(vm);
}

Test(uvm_amap, copy_without_amap_chunks_a_large_entry)
{
	struct vmspace *vm = uvmspace_alloc(VM_MIN_ADDRESS,
	    VM_MAXUSER_ADDRESS, true);
	struct vm_map *map = &vm->vm_map;
	struct vm_map_entry *entry;
	vaddr_t va = BASE, fault = BASE + P(100) + 123;

	cr_assert_eq(uvm_map(map, &va, P(1024), NULL, UVM_UNKNOWN_OFFSET, 0,
	    UVM_MAPFLAG(VM_PROT_READ | VM_PROT_WRITE, VM_PROT_ALL,
	    UVM_INH_COPY, UVM_ADV_NORMAL, UVM_FLAG_FIXED | UVM_FLAG_COPYONW)),
	    0);
	vm_map_lock(map);
	cr_assert(uvm_map_lookup_entry(map, fault, &entry));
	cr_assert(UVM_ET_ISNEEDSCOPY(entry));
	cr_assert_null(entry->aref.ar_amap);
	amap_copy(map, entry, AMAP_COPY_NOWAIT, true, trunc_page(fault),
	    trunc_page(fault) + PAGE_SIZE);
	/* clipped to the UVM_AMAP_CHUNK pages around the fault */
	cr_assert_eq(entry->start, BASE + P(96));
	cr_assert_eq(entry->end, BASE + P(96 + UVM_AMAP_CHUNK));
	cr_assert_not_null(entry->aref.ar_amap);
	cr_assert_eq(entry->aref.ar_amap->am_nslot, UVM_AMAP_CHUNK);
	cr_assert_eq(entry->etype & UVM_ET_NEEDSCOPY, 0);
	vm_map_unlock(map);
	uvmspace_free(vm);
	cr_assert_eq(amap_count(), 0);
}

Test(uvm_amap, large_amap_spans_chunks)
{
	int nslot = 3 * AMAP_CHUNK_SLOTS + 10;
	struct vm_amap *amap = amap_alloc(P(nslot), PR_WAITOK);
	struct vm_aref aref = { 0, amap };
	struct vm_anon *a[4], *got[4];
	int slots[4] = { 0, AMAP_CHUNK_SLOTS - 1, AMAP_CHUNK_SLOTS, nslot - 1 };
	int i, c0 = uvm_anon_count();

	cr_assert_not_null(amap);
	cr_assert_eq(amap->am_nchunk, 4);
	amap_lock(amap);
	for (i = 0; i < 4; i++)
		a[i] = add_anon(&aref, slots[i], false);
	for (i = 0; i < 4; i++)
		cr_assert_eq(amap_lookup(&aref, P(slots[i])), a[i]);
	amap_lookups(&aref, P(AMAP_CHUNK_SLOTS - 2), got, 4);
	cr_assert(got[0] == NULL && got[1] == a[1] && got[2] == a[2] &&
	    got[3] == NULL);
	amap_unadd(&aref, P(AMAP_CHUNK_SLOTS));
	a[2]->an_ref = 0;
	uvm_anfree(a[2]);
	cr_assert_eq(amap->am_nused, 3);
	amap_unlock(amap);
	amap_unref(amap, 0, P(nslot), true);
	cr_assert_eq(uvm_anon_count(), c0);
}
