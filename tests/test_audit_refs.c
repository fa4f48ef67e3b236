/*
 * tests/test_audit_refs.c: stress/audit.c's reference-count checks: the
 * exact, quiescent audit_refs (am_ref = the map entries that refer to an
 * amap, an_ref = the amap slots that hold an anon, nothing unreachable)
 * and the per-amap check audit_map runs during a run (anons referenced,
 * sharing the amap's lock).
 *
 * A parent with written pages forks a child; both maps are registered
 * with the auditor.  The clean state passes; each defect is then planted
 * by hand and must be named, then undone.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "stress/audit.h"
#include "tests/vmtest.h"
#include "vm/uvm_amap.h"
#include "vm/uvm_anon.h"
#include "vm/uvm_mmap.h"

#define VA	((vaddr_t)0x400000)
#define NPAGES	4

/* local prototypes */
static void refs_init(void);
static void refs_fini(void);
static struct vm_map_entry *entry_at(struct vmspace *vm);
static void fork_world(struct vmspace **parent, struct vmspace **child);
static void audit_q(struct audit_result *ar);
static struct vm_anon *anon_at(struct vmspace *vm, int page);

TestSuite(audit_refs, .init = refs_init, .fini = refs_fini,
    .timeout = 60);

/* The world of a test, freed before the machine goes (ASan: no leaks). */
static struct vmspace *world_parent, *world_child;

static void
refs_init(void)
{
	alarm(60);
	vmtest_boot();
}

static void
refs_fini(void)
{
	if (world_child != NULL) {
		audit_unregister_map(&world_child->vm_map);
		uvmspace_free(world_child);
	}
	if (world_parent != NULL) {
		audit_unregister_map(&world_parent->vm_map);
		uvmspace_free(world_parent);
	}
	vmtest_shutdown();
}

static struct vm_map_entry *
entry_at(struct vmspace *vm)
{
	struct vm_map_entry *e;
	bool found;

	vm_map_lock_read(&vm->vm_map);
	found = uvm_map_lookup_entry(&vm->vm_map, VA, &e);
	vm_map_unlock_read(&vm->vm_map);
	cr_assert(found);
	return e;
}

/* A parent with NPAGES written, a child that wrote page 0 (its copy). */
static void
fork_world(struct vmspace **parent, struct vmspace **child)
{
	struct vmspace *p = uvmspace_alloc(PAGE_SIZE, VM_MAXUSER_ADDRESS, true);
	vaddr_t va = VA;
	uint64_t v;
	int i;

	cr_assert_eq(uvm_mmap_anon(&p->vm_map, &va, ptoa(NPAGES),
	    VM_PROT_READ | VM_PROT_WRITE, UVM_MMAP_FIXED), 0);
	for (i = 0; i < NPAGES; i++) {
		v = (uint64_t)i + 1;
		cr_assert_eq(user_access(p, VA + ptoa(i), true, &v), 0);
	}
	*parent = p;
	*child = uvmspace_fork(p);
	v = 99;
	cr_assert_eq(user_access(*child, VA, true, &v), 0);
	audit_register_map(&p->vm_map);
	audit_register_map(&(*child)->vm_map);
	world_parent = p;
	world_child = *child;
}

static struct vm_anon *
anon_at(struct vmspace *vm, int page)
{
	struct vm_aref *aref = &entry_at(vm)->aref;
	struct vm_anon *anon;

	rw_enter(aref->ar_amap->am_lock, RW_READ);
	anon = amap_lookup(aref, ptoa(page));
	rw_exit(aref->ar_amap->am_lock);
	cr_assert_not_null(anon);
	return anon;
}

static void
audit_q(struct audit_result *ar)
{
	memset(ar, 0, sizeof(*ar));
	audit_refs(ar, AUDIT_QUIESCENT);
}

Test(audit_refs, a_fork_is_counted_exactly)
{
	struct vmspace *p, *c;
	struct audit_result ar;

	fork_world(&p, &c);
	audit_q(&ar);
	cr_assert_eq(ar.nviolations, 0, "%s", ar.first);
	cr_assert_gt(ar.nchecks, (uint64_t)(2 + NPAGES), "amaps and anons seen");
}

Test(audit_refs, an_extra_anon_reference_is_named)
{
	struct vmspace *p, *c;
	struct audit_result ar;
	struct vm_anon *anon;
	char want[64];

	fork_world(&p, &c);
	anon = anon_at(p, 1);
	anon->an_ref++;
	audit_q(&ar);
	cr_assert_eq(ar.nviolations, 1);
	snprintf(want, sizeof(want), "anon %p: an_ref 3 but 2", (void *)anon);
	cr_assert(strstr(ar.first, want) != NULL, "%s", ar.first);
	anon->an_ref--;
}

Test(audit_refs, a_missing_amap_reference_is_named)
{
	struct vmspace *p, *c;
	struct audit_result ar;
	struct vm_amap *amap;

	fork_world(&p, &c);
	amap = entry_at(c)->aref.ar_amap;
	amap->am_ref++;
	audit_q(&ar);
	cr_assert_geq(ar.nviolations, 1);
	cr_assert(strstr(ar.first, "am_ref 2 but 1 map entries") != NULL,
	    "%s", ar.first);
	amap->am_ref--;
}

Test(audit_refs, an_unreachable_amap_is_a_leak)
{
	struct vmspace *p, *c;
	struct audit_result ar;

	fork_world(&p, &c);
	audit_unregister_map(&c->vm_map);	/* its amap: no holder seen */
	audit_q(&ar);
	cr_assert_geq(ar.nviolations, 1);
	cr_assert(strstr(ar.first, "reachable") != NULL ||
	    strstr(ar.first, "an_ref") != NULL, "%s", ar.first);
	audit_register_map(&c->vm_map);
}

Test(audit_refs, an_anon_with_a_foreign_lock_is_named_during_a_run)
{
	struct vmspace *p, *c;
	struct audit_result ar;
	struct vm_anon *anon;
	krwlock_t *lock;

	fork_world(&p, &c);
	anon = anon_at(c, 0);	/* the child's copy */
	lock = anon->an_lock;
	anon->an_lock = entry_at(p)->aref.ar_amap->am_lock == lock ?
	    (krwlock_t *)&ar : entry_at(p)->aref.ar_amap->am_lock;
	memset(&ar, 0, sizeof(ar));
	audit_map(&ar, &c->vm_map);
	anon->an_lock = lock;
	cr_assert_eq(ar.nviolations, 1);
	cr_assert(strstr(ar.first, "has lock") != NULL, "%s", ar.first);
}
