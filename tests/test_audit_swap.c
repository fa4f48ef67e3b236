/*
 * tests/test_audit_swap.c: stress/audit.c's quiescent swap check, per
 * slot: every slot an anon or an aobj names is allocated in the swap map
 * (and not bad), no slot has two owners, and every allocated slot that
 * is not bad has one.
 *
 * Each test boots its own machine with swap and the daemons (the
 * pagedaemon quiesced), pages out anon pages, kernel-object pages (an
 * aobj with a swap hash) and the pages of a small aobj (a slot array)
 * through the pagedaemon's scan, so that they live only in swap, stops
 * the daemons (a quiescent machine) and audits.  The clean state passes;
 * each defect is then planted by hand, and the first violation the
 * auditor reports must name the slot (and both owners, for a slot with
 * two).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "host/disk.h"
#include "host/hook.h"
#include "host/pmap.h"
#include "host/trap.h"
#include "stress/audit.h"
#include "tests/vmtest.h"
#include "vm/uvm_amap.h"
#include "vm/uvm_anon.h"
#include "vm/uvm_aobj.h"
#include "vm/uvm_km.h"
#include "vm/uvm_mmap.h"
#include "vm/uvm_pager.h"

#define VA		((vaddr_t)0x10000000)
#define P(n)		((vsize_t)(n) * PAGE_SIZE)
#define NANON		40	/* anon pages in swap */
#define NKERN		8	/* kernel-object pages in swap */
#define NAOBJ		4	/* pages of the small aobj in swap */
#define SWAP_PAGES	256

/* The machine a test audits: every page below lives only in swap. */
struct world {
	struct vmspace		*vm;	/* NANON anon pages at VA */
	vaddr_t			kva;	/* NKERN kernel-object pages */
	struct uvm_object	*aobj;	/* NAOBJ pages (a slot array) */
};

/* local prototypes */
static void as_init(void);
static void as_fini(void);
static void do_fill(void *arg);
static int user_fill(struct vmspace *vm, vaddr_t va, int npages);
static struct vm_page *page_at(pmap_t pmap, vaddr_t va);
static void deactivate(struct vm_page *pg);
static void world_make(struct world *w);
static struct vm_anon *anon_at(struct world *w, int i);
static int kidx(struct world *w, int i);
static int aobj_slot(struct uvm_object *uobj, int pageidx);
static void audit_q(struct audit_result *ar);
static void assert_clean(void);
static void assert_names_slot(const struct audit_result *ar, int slot,
    const char *what);

TestSuite(audit_swap, .init = as_init, .fini = as_fini, .timeout = 60);

static void
as_init(void)
{
	alarm(60);
	(void)host_thread_self();
}

static void
as_fini(void)
{
	host_set_sched_hook(NULL);
	uvm_pdaemon_stop();
	vmtest_shutdown();
}

struct fill {
	struct vmspace	*vm;
	vaddr_t		va;
	int		npages;
};

/* In user mode: write the first word of each page. */
static void
do_fill(void *arg)
{
	struct fill *f = arg;
	int i;

	for (i = 0; i < f->npages; i++)
		*(volatile uint64_t *)pmap_hostaddr(f->vm->vm_map.pmap,
		    f->va + P(i)) = 0x5a5a0000u + (uint64_t)i;
}

/* 0, or the error of the refused fault. */
static int
user_fill(struct vmspace *vm, vaddr_t va, int npages)
{
	struct fill f = { vm, va, npages };
	struct host_user_fault uf;

	if (host_user_call(do_fill, &f, &uf) != 0)
		return uf.uf_error;
	return 0;
}

static struct vm_page *
page_at(pmap_t pmap, vaddr_t va)
{
	paddr_t pa;

	if (!pmap_extract(pmap, va, &pa))
		return NULL;
	return PHYS_TO_VM_PAGE(pa);
}

/* Put pg (resident, unbusy) on the inactive queue.  => owner unlocked */
static void
deactivate(struct vm_page *pg)
{
	krwlock_t *lock = pg->uobject != NULL ? pg->uobject->vmobjlock :
	    pg->uanon->an_lock;

	rw_enter(lock, RW_WRITE);
	uvm_lock_pageq();
	uvm_pagedeactivate(pg);
	uvm_unlock_pageq();
	rw_exit(lock);
}

/*
 * world_make: boot, page every page of the world out and free it (two
 * scans: the first writes the dirty pages, the next frees them clean),
 * stop the daemons and register the process's map with the auditor.
 */
static void
world_make(struct world *w)
{
	struct vm_page *pg;
	vaddr_t va = VA;
	int i;

	vmtest_boot_ram(16ull << 20);
	cr_assert_eq(uvm_swap_attach(NULL, SWAP_PAGES, HOST_DISK_BUFFERED), 0,
	    "%s", uvm_swap_error());
	cr_assert_eq(uvm_pdaemon_start(), 0);
	uvm_pdaemon_quiesce();

	/* anon pages of a process */
	w->vm = uvmspace_alloc(PAGE_SIZE, VM_MAXUSER_ADDRESS, true);
	cr_assert_not_null(w->vm);
	cr_assert_eq(uvm_mmap_anon(&w->vm->vm_map, &va, P(NANON),
	    VM_PROT_READ | VM_PROT_WRITE, UVM_MMAP_FIXED), 0);
	cr_assert_eq(user_fill(w->vm, VA, NANON), 0);
	for (i = 0; i < NANON; i++) {
		pg = page_at(w->vm->vm_map.pmap, VA + P(i));
		cr_assert_not_null(pg, "anon page %d is not resident", i);
		deactivate(pg);
	}

	/* pageable kernel memory: the kernel object, a large aobj */
	w->kva = uvm_km_valloc(kernel_map, P(NKERN));
	cr_assert_neq(w->kva, 0);
	for (i = 0; i < NKERN; i++) {
		*(volatile uint64_t *)(w->kva + P(i)) = 0xdead0000u + i;
		pg = page_at(pmap_kernel(), w->kva + P(i));
		cr_assert_not_null(pg, "kernel page %d is not resident", i);
		deactivate(pg);
	}

	/* a small aobj (nobody maps it): dirty pages */
	w->aobj = uao_create(P(NAOBJ), 0);
	cr_assert_not_null(w->aobj);
	for (i = 0; i < NAOBJ; i++) {
		rw_enter(w->aobj->vmobjlock, RW_WRITE);
		pg = uvm_pagealloc(w->aobj, P(i), NULL, UVM_PGA_ZERO);
		cr_assert_not_null(pg);
		atomic_clearbits_int(&pg->pg_flags, PG_BUSY | PG_FAKE |
		    PG_CLEAN);
		UVM_PAGE_OWN(pg, NULL);
		rw_exit(w->aobj->vmobjlock);
		deactivate(pg);
	}

	/* a free target of all of RAM: the scans visit every page */
	uvm_lock_pageq();
	__atomic_store_n(&uvmexp.freetarg, uvmexp.npages, __ATOMIC_RELAXED);
	__atomic_store_n(&uvmexp.inactarg, uvmexp.npages, __ATOMIC_RELAXED);
	uvm_unlock_pageq();

	/*
	 * The writes' completions are held until the scan is over: the
	 * aiodone daemon would otherwise contend for the owners' locks the
	 * scan only tries.
	 */
	disk_gate_set(1);
	host_set_sched_hook(disk_gate_hook);
	as_pagedaemon(scan_inactive_fn, NULL);
	disk_gate_set(0);
	uvm_pageout_drain();
	host_set_sched_hook(NULL);
	cr_assert_eq(uvmexp_read(paging), 0, "pageouts still in flight");
	as_pagedaemon(scan_inactive_fn, NULL);

	cr_assert_eq(uvmexp_read(swpgonly), NANON + NKERN + NAOBJ,
	    "%d pages live only in swap, not %d", uvmexp_read(swpgonly),
	    NANON + NKERN + NAOBJ);
	cr_assert_eq(uvm_swap_inuse(), NANON + NKERN + NAOBJ);
	cr_assert_eq(uao_swslots_in_use(), NKERN + NAOBJ);

	/* quiescent: no daemon runs, nothing is in flight */
	uvm_pdaemon_stop();
	audit_register_map(&w->vm->vm_map);
}

/* The anon of page i of the process's region. */
static struct vm_anon *
anon_at(struct world *w, int i)
{
	struct vm_map *map = &w->vm->vm_map;
	struct vm_map_entry *entry;
	struct vm_anon *anon;

	vm_map_lock_read(map);
	cr_assert(uvm_map_lookup_entry(map, VA + P(i), &entry));
	cr_assert_not_null(entry->aref.ar_amap);
	rw_enter(entry->aref.ar_amap->am_lock, RW_READ);
	anon = amap_lookup(&entry->aref, VA + P(i) - entry->start);
	rw_exit(entry->aref.ar_amap->am_lock);
	vm_map_unlock_read(map);
	cr_assert_not_null(anon);
	return anon;
}

/* The kernel object's page index of kernel page i. */
static int
kidx(struct world *w, int i)
{
	return (int)((w->kva + P(i) - vm_map_min(kernel_map)) >> PAGE_SHIFT);
}

static int
aobj_slot(struct uvm_object *uobj, int pageidx)
{
	int slot;

	rw_enter(uobj->vmobjlock, RW_READ);
	slot = uao_find_swslot(uobj, pageidx);
	rw_exit(uobj->vmobjlock);
	return slot;
}

/* The quiescent audit, as the harness runs it at the end of a run. */
static void
audit_q(struct audit_result *ar)
{
	memset(ar, 0, sizeof(*ar));
	audit_all(ar, AUDIT_QUIESCENT);
}

static void
assert_clean(void)
{
	struct audit_result ar;

	audit_q(&ar);
	cr_assert_eq(ar.nviolations, 0, "%u violations, the first: %s",
	    ar.nviolations, ar.first);
	cr_assert_gt(ar.nchecks, (uint64_t)SWAP_PAGES, "the slots were "
	    "checked one by one");
}

/* The first violation names the slot ("swap slot N ...") and says what. */
static void
assert_names_slot(const struct audit_result *ar, int slot, const char *what)
{
	char name[32];

	cr_assert_gt(ar->nviolations, 0, "no violation for slot %d", slot);
	snprintf(name, sizeof(name), "swap slot %d ", slot);
	cr_assert_not_null(strstr(ar->first, name), "the first violation "
	    "does not name slot %d: %s", slot, ar->first);
	cr_assert_not_null(strstr(ar->first, what), "the first violation "
	    "does not say \"%s\": %s", what, ar->first);
	cr_log_info("slot %d: %s (%u violations)", slot, ar->first,
	    ar->nviolations);
}

Test(audit_swap, a_clean_machine_passes)
{
	struct world w;
	int i;

	world_make(&w);
	/* every page of the world is in swap, under its own slot */
	for (i = 0; i < NANON; i++) {
		cr_assert_null(anon_at(&w, i)->an_page);
		cr_assert_gt(anon_at(&w, i)->an_swslot, 0);
	}
	for (i = 0; i < NKERN; i++)
		cr_assert_gt(aobj_slot(uvm.kernel_object, kidx(&w, i)), 0);
	for (i = 0; i < NAOBJ; i++)
		cr_assert_gt(aobj_slot(w.aobj, i), 0);
	assert_clean();
}

/* The swap map frees a slot an anon still names. */
Test(audit_swap, a_slot_freed_while_an_anon_names_it)
{
	struct world w;
	struct audit_result ar;
	char owner[48];
	struct vm_anon *a;
	int s;

	world_make(&w);
	a = anon_at(&w, 3);
	s = a->an_swslot;
	uvm_swap_free(s, 1);
	audit_q(&ar);
	assert_names_slot(&ar, s, "is free in the swap map");
	snprintf(owner, sizeof(owner), "anon %p", (void *)a);
	cr_assert_not_null(strstr(ar.first, owner), "%s", ar.first);
	/* (the anon names a free slot: its teardown would panic; we exit) */
}

Test(audit_swap, two_anons_name_one_slot)
{
	struct world w;
	struct audit_result ar;
	struct vm_anon *a, *b;
	char owner[48];
	int s, s2;

	world_make(&w);
	a = anon_at(&w, 5);
	b = anon_at(&w, 6);
	s = a->an_swslot;
	s2 = b->an_swslot;
	cr_assert_neq(s, s2);
	rw_enter(b->an_lock, RW_WRITE);
	b->an_swslot = s;		/* and s2 is nobody's now */
	rw_exit(b->an_lock);
	audit_q(&ar);
	assert_names_slot(&ar, s, "has two owners");
	snprintf(owner, sizeof(owner), "anon %p", (void *)a);
	cr_assert_not_null(strstr(ar.first, owner), "%s", ar.first);
	snprintf(owner, sizeof(owner), "anon %p", (void *)b);
	cr_assert_not_null(strstr(ar.first, owner), "%s", ar.first);
	cr_assert_geq(ar.nviolations, 2, "slot %d leaked too", s2);
}

Test(audit_swap, a_slot_nobody_owns_is_a_leak)
{
	struct world w;
	struct audit_result ar;
	int n = 1, t;

	world_make(&w);
	t = uvm_swap_alloc(&n, false);
	cr_assert_gt(t, 0);
	audit_q(&ar);
	assert_names_slot(&ar, t, "allocated but unowned: leaked");
}

Test(audit_swap, an_aobj_page_and_an_anon_share_a_slot)
{
	struct world w;
	struct audit_result ar;
	struct vm_anon *a;
	char owner[48];
	int k;

	world_make(&w);
	k = aobj_slot(uvm.kernel_object, kidx(&w, 2));
	cr_assert_gt(k, 0);
	a = anon_at(&w, 7);
	rw_enter(a->an_lock, RW_WRITE);
	a->an_swslot = k;		/* its own slot is nobody's now */
	rw_exit(a->an_lock);
	audit_q(&ar);
	assert_names_slot(&ar, k, "has two owners");
	snprintf(owner, sizeof(owner), "anon %p", (void *)a);
	cr_assert_not_null(strstr(ar.first, owner), "%s", ar.first);
	snprintf(owner, sizeof(owner), "aobj %p page %d",
	    (void *)uvm.kernel_object, kidx(&w, 2));
	cr_assert_not_null(strstr(ar.first, owner), "%s", ar.first);
}

Test(audit_swap, two_aobj_pages_share_a_slot)
{
	struct world w;
	struct audit_result ar;
	char owner[48];
	int s, old;

	world_make(&w);
	s = aobj_slot(w.aobj, 1);
	cr_assert_gt(s, 0);
	/* the kernel object's page 0 takes the small aobj's slot */
	rw_enter(uvm.kernel_object->vmobjlock, RW_WRITE);
	old = uao_set_swslot(uvm.kernel_object, kidx(&w, 0), s);
	rw_exit(uvm.kernel_object->vmobjlock);
	cr_assert_gt(old, 0);
	audit_q(&ar);
	assert_names_slot(&ar, s, "has two owners");
	snprintf(owner, sizeof(owner), "aobj %p page 1", (void *)w.aobj);
	cr_assert_not_null(strstr(ar.first, owner), "%s", ar.first);
	snprintf(owner, sizeof(owner), "aobj %p page %d",
	    (void *)uvm.kernel_object, kidx(&w, 0));
	cr_assert_not_null(strstr(ar.first, owner), "%s", ar.first);
}

/*
 * One slot freed while an anon names it, one leaked: the counts cancel
 * out (slots in use, swpginuse, slots referenced are all unchanged), so
 * the old count check passes; the per-slot check does not.
 */
Test(audit_swap, a_freed_slot_and_a_leaked_one_cancel_out_in_the_counts)
{
	struct world w;
	struct audit_result ar;
	int inuse = NANON + NKERN + NAOBJ, n = 1, s, t;

	world_make(&w);
	s = anon_at(&w, 9)->an_swslot;
	uvm_swap_free(s, 1);
	t = uvm_swap_alloc(&n, false);
	cr_assert_gt(t, 0);
	cr_assert_neq(t, s, "the swap map gave the freed slot back");
	/* the counts the old check compared are those of a clean machine */
	cr_assert_eq(uvm_swap_inuse(), inuse);
	cr_assert_eq(uvmexp_read(swpginuse), inuse);
	cr_assert_eq(uvm_swap_nbad(), 0);
	cr_assert_eq(uao_swslots_in_use() + NANON, inuse);
	audit_q(&ar);
	assert_names_slot(&ar, s, "is free in the swap map");
	/* exactly the two per-slot violations: no count check fired */
	cr_assert_eq(ar.nviolations, 2, "%u violations (the counts cancel "
	    "out: only slots %d and %d are wrong)", ar.nviolations, s, t);
}

/* An anon naming a slot the swap map has marked bad. */
Test(audit_swap, a_named_slot_marked_bad)
{
	struct world w;
	struct audit_result ar;
	int s;

	world_make(&w);
	s = anon_at(&w, 11)->an_swslot;
	uvm_swap_markbad(s, 1);
	audit_q(&ar);
	assert_names_slot(&ar, s, "is marked bad but anon");
}

/*
 * Bad slots are not leaks, and an aobj's bad entry (UAO_SWSLOT_BAD, left
 * by a failed read) is counted once: its slot is one of the swap map's
 * bad ones, not also one of the aobj's slots in use.  Both reads fail for
 * real: every transfer fails while the disk's failure rate is 100%.
 */
Test(audit_swap, bad_slots_after_failed_reads_are_counted_once)
{
	struct world w;
	struct vm_page *pg = NULL;
	struct vm_anon *a;
	int npages = 1, r, s, k, nbad;

	world_make(&w);
	a = anon_at(&w, 13);
	s = a->an_swslot;
	k = aobj_slot(w.aobj, 2);
	host_disk_set_fail_rate(uvm_swap_disk(), 1000);
	/* an anon's read fails: its slot goes bad, the anon forgets it */
	cr_assert_neq(user_fill(w.vm, VA + P(13), 1), 0, "the read failed");
	/* an aobj page's read fails: UAO_SWSLOT_BAD in its table */
	rw_enter(w.aobj->vmobjlock, RW_WRITE);
	r = w.aobj->pgops->pgo_get(w.aobj, P(2), &pg, &npages, 0,
	    VM_PROT_READ, 0, 0);
	host_disk_set_fail_rate(uvm_swap_disk(), 0);
	cr_assert_eq(r, VM_PAGER_ERROR);
	cr_assert_eq(a->an_swslot, 0);
	cr_assert_eq(aobj_slot(w.aobj, 2), UAO_SWSLOT_BAD);
	nbad = uvm_swap_nbad();
	cr_assert_eq(nbad, 2);
	cr_assert(uvm_swap_slot_bad(s) && uvm_swap_slot_allocated(s));
	cr_assert(uvm_swap_slot_bad(k) && uvm_swap_slot_allocated(k));
	cr_assert_eq(uvm_swap_inuse(), NANON + NKERN + NAOBJ);
	assert_clean();
}
