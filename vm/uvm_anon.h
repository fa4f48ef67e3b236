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
/*
 * uvm_analloc: a new anon, one reference, no page, no lock, or NULL when
 * no kernel memory is at hand.  => never sleeps (the fault path)
 */
struct vm_anon *uvm_analloc(void);
/*
 * uvm_anfree: free an anon with no references left (an_ref 0), with its
 * page and swap slot (OpenBSD uvm_anfree_list).
 * => an_lock write-held if set (an anon with a page has one); page
 *    queues unlocked (taken inside); never sleeps
 * => a busy page (someone else's I/O or fault) is marked PG_RELEASED and
 *    the anon lives on with it, holding a reference on an_lock: the busy
 *    page's holder finishes with uvm_anon_release().  So a caller must
 *    not pass an anon whose page it has busied itself: unbusy (or free)
 *    the page first.
 */
void uvm_anfree(struct vm_anon *anon);
#define uvm_anon_free(a)	uvm_anfree(a)
/*
 * uvm_anon_release: finish an anon whose busy page was released
 * (uvm_anfree found it busy and marked it PG_RELEASED): free the page
 * and the anon, unlock, and drop the lock reference uvm_anfree took.
 * => an_lock write-held (released on return); page PG_RELEASED, and
 *    either still PG_BUSY and owned by the caller, or unbusied by the
 *    caller under this same lock hold; page queues unlocked
 */
void uvm_anon_release(struct vm_anon *anon);
/*
 * uvm_anon_dropswap: release the anon's swap slot.
 * => an_lock held (or an anon no one else can reach: an_ref 0)
 */
void uvm_anon_dropswap(struct vm_anon *anon);
/* Anons allocated now (the auditor's count). */
int uvm_anon_count(void);

#endif /* VM_UVM_ANON_H */
