/*
 * vm/uvm_anon.h: anonymous pages.
 *
 * An anon is one page of anonymous memory: resident (an_page), in swap
 * (an_swslot), or both.  Its lock, an_lock, is the lock of the amap it
 * lives in (shared by the amap and all its anons, OpenBSD 2022); an anon
 * that is in no amap yet has no lock (an_lock NULL).
 *
 *	[a] an_lock (the amap's)
 */
#ifndef VM_UVM_ANON_H
#define VM_UVM_ANON_H

#include "host/rwlock.h"
#include "uvm_page.h"

struct vm_anon {
	krwlock_t		*an_lock;	/* [a] the amap's lock */
	struct vm_page		*an_page;	/* [a] resident page, or NULL */
	int			an_ref;		/* [a] references (amap slots) */
	int			an_swslot;	/* [a] swap slot, 0 none */
};

/* uvm_anon_init: the anon pool (kernel memory).  => at boot */
void uvm_anon_init(void);
/* uvm_analloc: a new anon, one reference, no page, no lock. */
struct vm_anon *uvm_analloc(void);
/*
 * uvm_anfree: free an anon with no references left, with its page and
 * swap slot.  => an_lock write-held if set; a busy page is marked
 * PG_RELEASED for its owner to free instead.
 */
void uvm_anfree(struct vm_anon *anon);
#define uvm_anon_free(a)	uvm_anfree(a)
/* uvm_anon_dropswap: release the anon's swap slot.  => an_lock held */
void uvm_anon_dropswap(struct vm_anon *anon);
/* Anons allocated now (the auditor's count). */
int uvm_anon_count(void);

#endif /* VM_UVM_ANON_H */
