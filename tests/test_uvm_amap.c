/*
 * tests/test_uvm_amap.c: vm/uvm_amap.c: slots (add, lookup, unadd, the
 * dense list), references, wipeout, amap_copy and the shared lock,
 * chunked large amaps, kernel memory for amaps; per-slot reference
 * counts (ppref: the encoding, runs split at both ends, ranges wiped at
 * 0, busy pages released, the PPREF_NONE fallback, large amaps) and
 * what they do for maps: clipping (amap_splitref), partial unmaps of one
 * entry or of one of two sharers after fork, fork copies of clipped
 * entries.
 *
 * Each test boots its own machine and VM.  Page counts compare free +
 * kernel, since pool pages stay cached in their pools.
 */
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "host/arena.h"
#include "host/failpoint.h"
#include "tests/vmtest.h"
#include "vm/uvm.h"
#include "vm/uvm_amap.h"
#include "vm/uvm_anon.h"
#include "vm/uvm_km.h"
#include "vm/uvm_map.h"
#include "vm/uvm_mmap.h"
#include "vm/uvm_object.h"
#include "vm/uvm_pager.h"

#define P(n)		((vsize_t)(n) * PAGE_SIZE)
#define BASE		((vaddr_t)0x10000000)
#define peek		vmtest_peek
#define poke		vmtest_poke

TestSuite(uvm_amap, .init = vmtest_boot, .fini = vmtest_shutdown);

/* local prototypes */
static int pages_free(void);
static struct vm_anon *add_anon(struct vm_aref *aref, int slot,
    bool withpage);
static void check_dense(struct vm_amap *amap);
static void pp_counts(struct vm_amap *amap, int *counts);
static void check_counts(struct vm_amap *amap, const int *want, int n);
static struct vmspace *anonvm(int npages);
static struct vm_map_entry *entry_at(struct vmspace *vm, vaddr_t va);

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

/*
 * pp_counts: decode the per-slot counts run by run (each run must start
 * where the last ended, and the runs must tile the amap exactly).
 * => amap unlocked; its counts established
 */
static void
pp_counts(struct vm_amap *amap, int *counts)
{
	int slot = 0, v, ref, len, i;

	amap_lock(amap);
	cr_assert(amap->am_ppref != NULL && amap->am_ppref != PPREF_NONE);
	while (slot < amap->am_nslot) {
		v = amap->am_ppref[slot / AMAP_PPREF_CHUNK]
		    [slot % AMAP_PPREF_CHUNK];
		cr_assert_neq(v, 0, "slot %d starts no run", slot);
		if (v > 0) {
			ref = v - 1;
			len = 1;
		} else {
			cr_assert_lt(slot + 1, amap->am_nslot);
			ref = -v - 1;
			len = amap->am_ppref[(slot + 1) / AMAP_PPREF_CHUNK]
			    [(slot + 1) % AMAP_PPREF_CHUNK];
		}
		cr_assert(len >= 1 && slot + len <= amap->am_nslot,
		    "run at %d of length %d", slot, len);
		cr_assert_leq(ref, amap_refs(amap));
		for (i = 0; i < len; i++)
			counts[slot + i] = ref;
		slot += len;
	}
	amap_unlock(amap);
}

/* The per-slot counts are want[0..n). */
static void
check_counts(struct vm_amap *amap, const int *want, int n)
{
	int got[64], i;

	cr_assert_eq(amap->am_nslot, n);
	cr_assert_leq(n, 64);
	pp_counts(amap, got);
	for (i = 0; i < n; i++)
		cr_assert_eq(got[i], want[i], "slot %d: count %d, want %d", i,
		    got[i], want[i]);
}

/* A user address space with npages of private anonymous memory at BASE. */
static struct vmspace *
anonvm(int npages)
{
	struct vmspace *vm = uvmspace_alloc(PAGE_SIZE, VM_MAXUSER_ADDRESS,
	    true);
	vaddr_t va = BASE;

	cr_assert_not_null(vm);
	cr_assert_eq(uvm_mmap_anon(&vm->vm_map, &va, P(npages),
	    VM_PROT_READ | VM_PROT_WRITE, UVM_MMAP_FIXED), 0);
	return vm;
}

static struct vm_map_entry *
entry_at(struct vmspace *vm, vaddr_t va)
{
	struct vm_map_entry *e;

	vm_map_lock_read(&vm->vm_map);
	cr_assert(uvm_map_lookup_entry(&vm->vm_map, va, &e), "no entry at "
	    "%#lx", (unsigned long)va);
	vm_map_unlock_read(&vm->vm_map);
	return e;
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
	amap_unref(amap, 0, 16, true);
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
	amap_unref(amap, 0, 4, true);
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
	amap_unref(amap, 0, 16, true);
}

Test(uvm_amap, ref_unref_counting)
{
	struct vm_amap *amap = amap_alloc(P(8), PR_WAITOK);
	int c0 = amap_count();

	amap_ref(amap, 0, 8, AMAP_SHARED);
	cr_assert_eq(amap_refs(amap), 2);
	cr_assert(amap_flags(amap) & AMAP_SHARED);
	amap_ref(amap, 0, 8, 0);
	cr_assert_eq(amap_refs(amap), 3);
	amap_unref(amap, 0, 8, false);
	cr_assert_eq(amap_refs(amap), 2);
	cr_assert(amap_flags(amap) & AMAP_SHARED);
	amap_unref(amap, 0, 8, false);
	cr_assert_eq(amap_refs(amap), 1);
	cr_assert_eq(amap_flags(amap) & AMAP_SHARED, 0,
	    "one reference left: no longer shared");
	cr_assert_eq(amap_count(), c0);
	amap_unref(amap, 0, 8, true);
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
	amap_unref(amap, 0, 8, true);
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

	amap_ref(amap, 0, 8, 0);
	amap_unref(amap, 0, 8, false);	/* not the last */
	cr_assert_eq(uvm_anon_count(), c0 + 8);
	amap_unref(amap, 0, 8, true);	/* the last: wipeout */
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
	amap_ref(src, 0, 8, 0);
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
	amap_unref(src, 0, 8, true);
	cr_assert_eq(a1->an_ref, 1);
	amap_lock(copy);
	cr_assert_eq(amap_lookup(&e.aref, 0), a1);
	cr_assert_not_null(a1->an_page);
	amap_unlock(copy);
	amap_unref(copy, 0, 4, true);
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
	amap_unref(amap, 0, 4, true);
	uvmspace_free(vm);
}

Test(uvm_amap, copy_of_empty_shared_amap_gets_its_own_lock)
{
	struct vmspace *vm = uvmspace_alloc(VM_MIN_ADDRESS,
	    VM_MAXUSER_ADDRESS, true);
	struct vm_map_entry e;
	struct vm_amap *src = amap_alloc(P(4), PR_WAITOK);

	amap_ref(src, 0, 4, 0);
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
	amap_unref(e.aref.ar_amap, 0, 4, true);
	amap_unref(src, 0, 4, true);
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
	amap_unref(amap, 0, nslot, true);
	cr_assert_eq(uvm_anon_count(), c0);
}

/*
 * ppref at the amap level: a whole-amap reference establishes nothing;
 * splitting a reference establishes the counts (every reference over the
 * whole amap: one run, -(ref + 1) then the length); letting go of a
 * middle part splits the run at both ends (a run of one holds ref + 1);
 * slots that reach 0 lose their anons at once, the others keep theirs.
 */
Test(uvm_amap, ppref_runs_split_at_both_ends_and_wipe_at_zero)
{
	struct vm_amap *amap = amap_alloc(P(8), PR_WAITOK);
	struct vm_aref a = { 0, amap }, a2, b1, b2, b3;
	struct vm_anon *anons[8];
	int c0 = uvm_anon_count(), i;
	const int w1[8] = { 2, 2, 2, 2, 2, 2, 2, 2 };
	const int w2[8] = { 2, 2, 2, 1, 2, 2, 2, 2 };
	const int w3[8] = { 1, 1, 1, 1, 2, 2, 2, 2 };
	const int w4[8] = { 0, 0, 0, 0, 1, 2, 2, 2 };
	const int w5[8] = { 0, 0, 0, 0, 0, 1, 1, 1 };

	amap_lock(amap);
	for (i = 0; i < 8; i++)
		anons[i] = add_anon(&a, i, true);
	amap_unlock(amap);
	cr_assert_eq(uvm_anon_count(), c0 + 8);

	/* B: a second whole reference (fork): no counts needed */
	amap_ref(amap, 0, 8, 0);
	cr_assert_null(amap->am_ppref);
	b1 = a;

	/* B clipped at 3 and at 4: b1 [0,3), b2 [3,4), b3 [4,8) */
	b2 = b1;
	amap_splitref(&b1, &b2, P(3));
	cr_assert_eq(b2.ar_pageoff, 3);
	cr_assert(amap->am_ppref != NULL && amap->am_ppref != PPREF_NONE);
	cr_assert_eq(amap->am_ppref[0][0], -3, "one run of count 2 ...");
	cr_assert_eq(amap->am_ppref[0][1], 8, "... over all 8 slots");
	b3 = b2;
	amap_splitref(&b2, &b3, P(1));
	cr_assert_eq(b3.ar_pageoff, 4);
	cr_assert_eq(amap_refs(amap), 4);
	check_counts(amap, w1, 8);	/* splitting changes no count */

	/* b2 goes: the run is split before and after slot 3 */
	amap_unref(amap, (vaddr_t)b2.ar_pageoff, 1, false);
	check_counts(amap, w2, 8);
	cr_assert_eq(amap->am_ppref[0][0], -3);
	cr_assert_eq(amap->am_ppref[0][1], 3, "[0,3) at 2");
	cr_assert_eq(amap->am_ppref[0][3], 2, "slot 3 alone at 1: ref + 1");
	cr_assert_eq(amap->am_ppref[0][4], -3);
	cr_assert_eq(amap->am_ppref[0][5], 4, "[4,8) at 2");
	cr_assert_eq(uvm_anon_count(), c0 + 8, "A still maps slot 3");

	/* b1 goes */
	amap_unref(amap, (vaddr_t)b1.ar_pageoff, 3, false);
	check_counts(amap, w3, 8);
	cr_assert_eq(uvm_anon_count(), c0 + 8);

	/* A clipped at 5; its first part goes: slots 0..3 reach 0 */
	a2 = a;
	amap_splitref(&a, &a2, P(5));
	amap_unref(amap, (vaddr_t)a.ar_pageoff, 5, false);
	check_counts(amap, w4, 8);
	cr_assert_eq(uvm_anon_count(), c0 + 4, "slots 0..3 wiped at once");
	amap_lock(amap);
	cr_assert_eq(amap->am_nused, 4);
	check_dense(amap);
	for (i = 0; i < 4; i++)
		cr_assert_null(amap_lookup(&a, P(i)));
	for (i = 4; i < 8; i++)
		cr_assert_eq(amap_lookup(&a, P(i)), anons[i]);
	amap_unlock(amap);

	/* b3 goes: slot 4 (only b3 had it) too */
	amap_unref(amap, (vaddr_t)b3.ar_pageoff, 4, false);
	check_counts(amap, w5, 8);
	cr_assert_eq(uvm_anon_count(), c0 + 3);
	cr_assert_eq(amap_refs(amap), 1);

	/* a2, the last */
	amap_unref(amap, (vaddr_t)a2.ar_pageoff, 3, false);
	cr_assert_eq(uvm_anon_count(), c0);
}

/*
 * A range wiped while an anon's page is busy (its holder unlocked for
 * I/O): the slot empties at once, the page is released to its holder
 * (PG_RELEASED), which frees it and the anon later; an anon another amap
 * also holds only loses this amap's reference.
 */
Test(uvm_amap, ppref_wipe_releases_busy_pages_and_spares_shared_anons)
{
	struct vm_amap *amap = amap_alloc(P(4), PR_WAITOK);
	struct vm_aref a = { 0, amap }, b;
	struct vm_anon *busy, *shared;
	struct vm_page *pg;
	krwlock_t *lock = amap->am_lock;
	int c0 = uvm_anon_count();

	amap_lock(amap);
	(void)add_anon(&a, 0, true);
	busy = add_anon(&a, 1, true);
	shared = add_anon(&a, 2, true);
	(void)add_anon(&a, 3, true);
	pg = busy->an_page;
	atomic_setbits_int(&pg->pg_flags, PG_BUSY);
	UVM_PAGE_OWN(pg, "test");
	shared->an_ref++;		/* another amap of the lock has it */
	uvm_rwobj_hold(lock);		/* ... and its reference on the lock */
	amap_unlock(amap);

	/* two entries: a [0,3) and b [3,4); a goes */
	b = a;
	amap_splitref(&a, &b, P(3));
	amap_unref(amap, 0, 3, false);
	cr_assert_eq(amap_refs(amap), 1);
	cr_assert_eq(uvm_anon_count(), c0 + 3,
	    "slot 0's anon freed; the busy and the shared one live on");
	cr_assert(pg_flags_load(pg) & PG_RELEASED);
	cr_assert_eq(busy->an_ref, 0);
	cr_assert_eq(shared->an_ref, 1);
	amap_lock(amap);
	cr_assert_eq(amap->am_nused, 1);
	cr_assert_null(amap_lookup(&a, P(1)));
	cr_assert_null(amap_lookup(&a, P(2)));
	cr_assert_not_null(amap_lookup(&a, P(3)));
	check_dense(amap);
	/* the holder comes back: it frees the page and the anon */
	uvm_anon_release(busy);		/* unlocks */
	cr_assert_eq(uvm_anon_count(), c0 + 2);

	amap_unref(amap, 3, 1, false);	/* the last */
	cr_assert_eq(uvm_anon_count(), c0 + 1);
	rw_enter(lock, RW_WRITE);
	shared->an_ref = 0;
	uvm_anfree(shared);
	rw_exit(lock);
	cr_assert(uvm_rwobj_free(lock));
	cr_assert_eq(uvm_anon_count(), c0);
}

/*
 * The counts cannot be had (an injected NOWAIT failure): PPREF_NONE, for
 * good; references count for the whole amap, and the anons of a range
 * let go of live until the amap dies (the BSDs' fallback).
 */
Test(uvm_amap, ppref_none_falls_back_to_whole_amap_counting)
{
	struct vm_amap *amap = NULL;
	struct vm_aref a, b, c;
	uint64_t f0 = host_fail_alloc_count_at(HOST_FAIL_POOL);
	int c0 = uvm_anon_count(), n0 = amap_count(), i, tries;

	host_fail_alloc_set(HOST_FAIL_ALLOC_MAX, 7);
	for (tries = 0; tries < 500; tries++) {
		amap = amap_alloc(P(8), PR_WAITOK);	/* never injected */
		cr_assert_not_null(amap);
		a.ar_pageoff = 0;
		a.ar_amap = amap;
		b = a;
		amap_splitref(&a, &b, P(4));
		if (amap->am_ppref == PPREF_NONE)
			break;
		cr_assert_not_null(amap->am_ppref);
		amap_unref(amap, 4, 4, false);
		amap_unref(amap, 0, 4, false);
		amap = NULL;
	}
	host_fail_alloc_set(0, 0);
	cr_assert_not_null(amap, "no establishment failed in %d tries", tries);
	cr_assert_gt(host_fail_alloc_count_at(HOST_FAIL_POOL), f0);
	cr_assert_eq(amap_count(), n0 + 1);

	amap_lock(amap);
	for (i = 0; i < 8; i++)
		(void)add_anon(&a, i, true);
	amap_unlock(amap);
	/* a third reference, partial: no second try at establishing */
	c = b;
	amap_splitref(&b, &c, P(2));
	cr_assert_eq(amap->am_ppref, PPREF_NONE);
	cr_assert_eq(amap_refs(amap), 3);

	amap_unref(amap, (vaddr_t)c.ar_pageoff, 2, false);
	amap_unref(amap, (vaddr_t)b.ar_pageoff, 2, false);
	cr_assert_eq(amap_refs(amap), 1);
	cr_assert_eq(amap->am_ppref, PPREF_NONE);
	cr_assert_eq(uvm_anon_count(), c0 + 8,
	    "without counts, slots 4..7 live until the amap dies");
	amap_unref(amap, 0, 4, false);		/* the last: wipeout */
	cr_assert_eq(uvm_anon_count(), c0);
	cr_assert_eq(amap_count(), n0);
}

/*
 * Counts of a large amap span several chunks: a run that starts at the
 * last slot of a chunk keeps its length in the next chunk.
 */
Test(uvm_amap, ppref_of_a_large_amap_spans_chunks)
{
	int nslot = 2 * AMAP_PPREF_CHUNK + 5, edge = AMAP_PPREF_CHUNK - 1;
	struct vm_amap *amap = amap_alloc(P(nslot), PR_WAITOK);
	struct vm_aref a = { 0, amap }, b, c;
	int *counts, c0 = uvm_anon_count(), i;

	cr_assert_not_null(amap);
	counts = calloc((size_t)nslot, sizeof(int));
	cr_assert_not_null(counts);
	amap_lock(amap);
	for (i = edge - 1; i <= edge + 2; i++)
		(void)add_anon(&a, i, true);
	amap_unlock(amap);

	/* a [0, edge), b [edge, edge + 2), c the rest */
	b = a;
	amap_splitref(&a, &b, P(edge));
	c = b;
	amap_splitref(&b, &c, P(2));
	cr_assert(amap->am_ppref != NULL && amap->am_ppref != PPREF_NONE);

	amap_unref(amap, 0, (vsize_t)edge, false);
	pp_counts(amap, counts);
	for (i = 0; i < nslot; i++)
		cr_assert_eq(counts[i], i < edge ? 0 : 1, "slot %d", i);
	cr_assert_eq(amap->am_ppref[0][edge], -2, "a run at 1 from the edge");
	cr_assert_eq(amap->am_ppref[1][0], nslot - edge, "its length beyond");
	cr_assert_eq(uvm_anon_count(), c0 + 3);

	amap_unref(amap, (vaddr_t)b.ar_pageoff, 2, false);
	pp_counts(amap, counts);
	for (i = 0; i < nslot; i++)
		cr_assert_eq(counts[i], i < edge + 2 ? 0 : 1, "slot %d", i);
	cr_assert_eq(amap->am_ppref[0][0], -1, "merged: one run at 0 ...");
	cr_assert_eq(amap->am_ppref[0][1], edge + 2, "... up to c");
	cr_assert_eq(uvm_anon_count(), c0 + 1);

	amap_unref(amap, (vaddr_t)c.ar_pageoff,
	    (vsize_t)(nslot - c.ar_pageoff), false);
	cr_assert_eq(uvm_anon_count(), c0);
	free(counts);
}

/*
 * One entry clipped in three by the unmap of its middle: the two parts
 * left share the amap (amap_splitref: one more reference, ar_pageoff
 * moved on), keep their data, and the anons of the middle are freed at
 * once.
 */
Test(uvm_amap, ppref_unmap_of_a_middle_range_frees_its_anons_at_once)
{
	struct vmspace *vm = anonvm(8);
	struct vm_amap *amap;
	int c0 = uvm_anon_count(), i;
	const int want[8] = { 1, 1, 0, 0, 0, 1, 1, 1 };

	for (i = 0; i < 8; i++)
		poke(vm, BASE + P(i), 0x100 + (uint64_t)i);
	amap = entry_at(vm, BASE)->aref.ar_amap;
	cr_assert_not_null(amap);
	cr_assert_null(amap->am_ppref, "one entry over the whole amap");
	cr_assert_eq(uvm_anon_count(), c0 + 8);

	uvm_unmap(&vm->vm_map, BASE + P(2), BASE + P(5));
	cr_assert_eq(uvm_anon_count(), c0 + 5, "pages 2..4 freed at once");
	cr_assert_eq(entry_at(vm, BASE)->aref.ar_amap, amap);
	cr_assert_eq(entry_at(vm, BASE)->aref.ar_pageoff, 0);
	cr_assert_eq(entry_at(vm, BASE + P(5))->aref.ar_amap, amap);
	cr_assert_eq(entry_at(vm, BASE + P(5))->aref.ar_pageoff, 5);
	cr_assert_eq(amap_refs(amap), 2);
	check_counts(amap, want, 8);
	amap_lock(amap);
	cr_assert_eq(amap->am_nused, 5);
	check_dense(amap);
	amap_unlock(amap);
	for (i = 0; i < 8; i++) {
		if (i >= 2 && i < 5)
			cr_assert_neq(user_access(vm, BASE + P(i), false,
			    NULL), 0, "page %d is unmapped", i);
		else
			cr_assert_eq(peek(vm, BASE + P(i)),
			    0x100 + (uint64_t)i, "page %d", i);
	}
	uvmspace_free(vm);
	cr_assert_eq(uvm_anon_count(), c0);
	cr_assert_eq(amap_count(), 0);
}

/* Clipping without unmapping (mprotect of a middle range) keeps all. */
Test(uvm_amap, ppref_splitref_on_clip_keeps_data)
{
	struct vmspace *vm = anonvm(6);
	struct vm_amap *amap;
	int c0 = uvm_anon_count(), i;
	const int want[6] = { 1, 1, 1, 1, 1, 1 };

	for (i = 0; i < 6; i++)
		poke(vm, BASE + P(i), 0x200 + (uint64_t)i);
	amap = entry_at(vm, BASE)->aref.ar_amap;
	cr_assert_eq(uvm_map_protect(&vm->vm_map, BASE + P(2), BASE + P(4),
	    VM_PROT_READ, false), 0);
	cr_assert_eq(amap_refs(amap), 3, "three entries");
	cr_assert_eq(entry_at(vm, BASE + P(2))->aref.ar_pageoff, 2);
	cr_assert_eq(entry_at(vm, BASE + P(4))->aref.ar_pageoff, 4);
	cr_assert_eq(entry_at(vm, BASE + P(4))->aref.ar_amap, amap);
	check_counts(amap, want, 6);
	cr_assert_eq(uvm_anon_count(), c0 + 6);
	for (i = 0; i < 6; i++)
		cr_assert_eq(peek(vm, BASE + P(i)), 0x200 + (uint64_t)i);
	cr_assert_neq(user_access(vm, BASE + P(3), true, NULL), 0,
	    "read-only now");
	poke(vm, BASE + P(5), 0x2ff);
	amap_lock(amap);
	cr_assert_eq(amap->am_nused, 6, "written in place");
	amap_unlock(amap);
	uvmspace_free(vm);
	cr_assert_eq(uvm_anon_count(), c0);
	cr_assert_eq(amap_count(), 0);
}

/*
 * Two processes share an amap (inherit share, fork).  A partial unmap by
 * one keeps the pages for the other; once neither maps a page, its anon
 * goes at once; a middle page unmapped then its neighbours on each side
 * (runs split at both ends, then merged) free nothing until the other
 * sharer lets go of them too.
 */
Test(uvm_amap, ppref_shared_after_fork_frees_what_nobody_maps)
{
	struct vmspace *p = anonvm(8), *c;
	struct vm_amap *amap;
	int c0 = uvm_anon_count(), i;
	const int w1[8] = { 2, 2, 2, 2, 1, 2, 2, 2 };
	const int w2[8] = { 2, 2, 2, 1, 1, 1, 2, 2 };
	const int w3[8] = { 2, 2, 2, 0, 0, 0, 2, 2 };

	for (i = 0; i < 8; i++)
		poke(p, BASE + P(i), 0x300 + (uint64_t)i);
	cr_assert_eq(uvm_map_inherit(&p->vm_map, BASE, BASE + P(8),
	    MAP_INHERIT_SHARE), 0);
	c = uvmspace_fork(p);
	cr_assert_not_null(c);
	amap = entry_at(p, BASE)->aref.ar_amap;
	cr_assert_eq(entry_at(c, BASE)->aref.ar_amap, amap);
	cr_assert_eq(amap_refs(amap), 2);
	cr_assert_null(amap->am_ppref, "two whole references");

	/* the parent unmaps page 4, then pages 3 and 5 on each side */
	uvm_unmap(&p->vm_map, BASE + P(4), BASE + P(5));
	check_counts(amap, w1, 8);
	uvm_unmap(&p->vm_map, BASE + P(3), BASE + P(4));
	uvm_unmap(&p->vm_map, BASE + P(5), BASE + P(6));
	check_counts(amap, w2, 8);
	cr_assert_eq(uvm_anon_count(), c0 + 8, "the child maps them all");
	for (i = 0; i < 8; i++)
		cr_assert_eq(peek(c, BASE + P(i)), 0x300 + (uint64_t)i,
		    "the child keeps page %d", i);
	poke(c, BASE + P(4), 0x3ff);
	cr_assert_eq(peek(c, BASE + P(4)), 0x3ff);

	/* the child lets go of 3..5 too: they go at once */
	uvm_unmap(&c->vm_map, BASE + P(3), BASE + P(6));
	check_counts(amap, w3, 8);
	cr_assert_eq(uvm_anon_count(), c0 + 5);
	for (i = 0; i < 8; i++) {
		if (i >= 3 && i < 6)
			continue;
		cr_assert_eq(peek(p, BASE + P(i)), 0x300 + (uint64_t)i);
		cr_assert_eq(peek(c, BASE + P(i)), 0x300 + (uint64_t)i);
	}
	/* still shared: a write on one side is seen on the other */
	poke(p, BASE + P(7), 0x377);
	cr_assert_eq(peek(c, BASE + P(7)), 0x377);

	/* the parent lets go of 0..2; the child keeps them */
	uvm_unmap(&p->vm_map, BASE, BASE + P(3));
	cr_assert_eq(uvm_anon_count(), c0 + 5);
	cr_assert_eq(peek(c, BASE + P(1)), 0x301);
	uvmspace_free(c);
	cr_assert_eq(uvm_anon_count(), c0 + 2,
	    "pages 0..2 went with the child; 6, 7 are the parent's");
	cr_assert_eq(peek(p, BASE + P(6)), 0x306);
	uvmspace_free(p);
	cr_assert_eq(uvm_anon_count(), c0);
	cr_assert_eq(amap_count(), 0);
}

/*
 * A fork copy of clipped entries: the child's references are partial
 * (amap_ref over its slots); its write copies its part (amap_copy drops
 * its slots of the source); each side keeps its own view, and a range
 * the parent unmaps after the child copied it lives on in the child.
 */
Test(uvm_amap, ppref_fork_copy_of_clipped_entries)
{
	struct vmspace *p = anonvm(6), *c;
	struct vm_amap *amap;
	int c0 = uvm_anon_count(), i;
	const int w1[6] = { 2, 2, 2, 2, 2, 2 };
	const int w2[6] = { 2, 2, 1, 1, 2, 2 };
	const int w3[6] = { 2, 2, 0, 0, 2, 2 };

	for (i = 0; i < 6; i++)
		poke(p, BASE + P(i), 0x400 + (uint64_t)i);
	amap = entry_at(p, BASE)->aref.ar_amap;
	cr_assert_eq(uvm_map_inherit(&p->vm_map, BASE + P(2), BASE + P(4),
	    MAP_INHERIT_COPY), 0);
	cr_assert_eq(amap_refs(amap), 3, "three entries");

	c = uvmspace_fork(p);
	cr_assert_not_null(c);
	cr_assert_eq(amap_refs(amap), 6);
	check_counts(amap, w1, 6);

	/* the child writes page 2: its middle entry gets its own amap */
	poke(c, BASE + P(2), 0x4c2);
	cr_assert_neq(entry_at(c, BASE + P(2))->aref.ar_amap, amap);
	cr_assert_eq(amap_refs(amap), 5);
	check_counts(amap, w2, 6);
	cr_assert_eq(peek(p, BASE + P(2)), 0x402, "the parent's view");
	cr_assert_eq(peek(c, BASE + P(3)), 0x403);

	/* the parent unmaps 2..3: page 3 lives on in the child's copy */
	uvm_unmap(&p->vm_map, BASE + P(2), BASE + P(4));
	check_counts(amap, w3, 6);
	cr_assert_eq(peek(c, BASE + P(3)), 0x403);
	cr_assert_eq(peek(c, BASE + P(2)), 0x4c2);
	poke(p, BASE + P(5), 0x4f5);
	cr_assert_eq(peek(c, BASE + P(5)), 0x405);
	uvmspace_free(p);
	for (i = 0; i < 6; i++)
		cr_assert_eq(peek(c, BASE + P(i)), i == 2 ? 0x4c2 :
		    0x400 + (uint64_t)i);
	uvmspace_free(c);
	cr_assert_eq(uvm_anon_count(), c0);
	cr_assert_eq(amap_count(), 0);
}
