/*
 * vm/uvm_page.h: physical pages: flags, queues, allocation.
 *
 * struct vm_page itself is in host/vm_page.h (the machine builds the array
 * with its RAM); this header gives its machine-independent meaning.
 *
 * pg_flags holds both the owner's PG_* bits and the page queues' PQ_* bits,
 * as in OpenBSD: it is only changed with atomic bit operations
 * (atomic_setbits_int/atomic_clearbits_int), PG_* with the owner's lock
 * held, PQ_* with uvm.pageqlock held.
 *
 * Queues: a page is on at most one of uvm.page_active, uvm.page_inactive
 * ([q] uvm.pageqlock) and the free lists ([f] uvm.fpageqlock), linked by
 * pg->pageq.  Wired pages are on no queue.  Object pages are also in
 * their object's tree (pg->objt, [o]).
 */
#ifndef VM_UVM_PAGE_H
#define VM_UVM_PAGE_H

#include "host/arena.h"
#include "host/vm_page.h"

/* PG_*: owner-locked page state [o] */
#define PG_BUSY		0x00000001	/* someone holds the page: hands off */
#define PG_WANTED	0x00000002	/* someone sleeps waiting for PG_BUSY */
#define PG_TABLED	0x00000004	/* in an object's tree */
#define PG_CLEAN	0x00000008	/* matches its backing store */
#define PG_CLEANCHK	0x00000010	/* clean bit has been checked */
#define PG_RELEASED	0x00000020	/* free when done (owner checks) */
#define PG_FAKE		0x00000040	/* contents not yet valid */
#define PG_RDONLY	0x00000080	/* must be mapped read-only */
#define PG_ZERO		0x00000100	/* known zero */
#define PG_DEV		0x00000200	/* not managed memory */
#define PG_PAGER1	0x00001000	/* pager private */
#define PG_MASK		0x0000ffff

/* PQ_*: queue state [q] */
#define PQ_FREE		0x00010000	/* on a free list */
#define PQ_INACTIVE	0x00020000	/* on the inactive queue */
#define PQ_ACTIVE	0x00040000	/* on the active queue */
#define PQ_ANON		0x00100000	/* owned by an anon */
#define PQ_AOBJ		0x00200000	/* owned by an aobj */
#define PQ_SWAPBACKED	(PQ_ANON | PQ_AOBJ)
#define PQ_MASK		0x00ff0000

#define atomic_setbits_int(p, b)	__atomic_fetch_or((p), (b), __ATOMIC_ACQ_REL)
#define atomic_clearbits_int(p, b)	__atomic_fetch_and((p), ~(b), __ATOMIC_ACQ_REL)
#define atomic_inc_int(p)		__atomic_fetch_add((p), 1, __ATOMIC_RELAXED)
#define atomic_dec_int(p)		__atomic_fetch_sub((p), 1, __ATOMIC_RELAXED)
#define pg_flags_load(pg)		__atomic_load_n(&(pg)->pg_flags, __ATOMIC_ACQUIRE)

/* uvm_pagealloc flags */
#define UVM_PGA_USERESERVE	0x0001	/* may dip into the kernel reserve */
#define UVM_PGA_ZERO		0x0002	/* return a zeroed page */

/* uvm_pglistalloc flags */
#define UVM_PLA_WAITOK		0x0001	/* may sleep (through a pma request) */
#define UVM_PLA_NOWAIT		0x0002
#define UVM_PLA_ZERO		0x0004

TAILQ_HEAD(pglist, vm_page);

/* A physical address range (in pages) an allocation must come from. */
struct uvm_constraint_range {
	paddr_t	ucr_low;	/* first page frame number */
	paddr_t	ucr_high;	/* one past the last */
};
extern struct uvm_constraint_range no_constraint;	/* all of RAM */
extern struct uvm_constraint_range dma_constraint;	/* the low "DMA" range */

struct uvm_object;
struct vm_anon;

/*
 * uvm_page_init: build the free lists from the arena's vm_page array, set
 * uvmexp, init the page queue locks.  => at boot, single-threaded
 */
void uvm_page_init(void);

/*
 * uvm_pagealloc: allocate a free page for obj at off, or for anon.
 * => owner (obj or anon) locked by the caller, never both
 * => returns a PG_BUSY|PG_FAKE|PG_CLEAN page owned by curproc, not on any
 *    queue, or NULL if none is free (nothing here sleeps: callers
 *    uvm_wait() with their locks dropped)
 */
struct vm_page *uvm_pagealloc(struct uvm_object *obj, voff_t off,
    struct vm_anon *anon, int flags);
/*
 * uvm_pagefree: free a page: take it off its queue and out of its owner.
 * => owner locked (if any); page queues NOT locked (taken inside)
 * => a PG_BUSY page is freed as the caller's own (its PG_WANTED waiters
 *    are woken)
 */
void uvm_pagefree(struct vm_page *pg);
/* uvm_pglistalloc/uvm_pglistfree: n pages within a constraint. */
int uvm_pglistalloc(psize_t size, paddr_t low, paddr_t high,
    paddr_t alignment, paddr_t boundary, struct pglist *rlist, int nsegs,
    int flags);
void uvm_pglistfree(struct pglist *list);

/* uvm_pagelookup: the page of obj at off.  => obj locked */
struct vm_page *uvm_pagelookup(struct uvm_object *obj, voff_t off);
/* uvm_pagerealloc: move pg to newobj at newoff. => both owners locked */
void uvm_pagerealloc(struct vm_page *pg, struct uvm_object *newobj,
    voff_t newoff);

/* Queue moves.  => page queues locked; owner locked */
void uvm_pageactivate(struct vm_page *pg);
void uvm_pagedeactivate(struct vm_page *pg);
void uvm_pagewire(struct vm_page *pg);
void uvm_pageunwire(struct vm_page *pg);
void uvm_pagedequeue(struct vm_page *pg);

/* Contents, through the direct map. */
void uvm_pagezero(struct vm_page *pg);
void uvm_pagecopy(struct vm_page *src, struct vm_page *dst);

/*
 * uvm_page_unbusy: unbusy n pages, waking PG_WANTED waiters and freeing
 * PG_RELEASED ones (object pages; anon pages are the caller's).
 * => owners locked
 */
void uvm_page_unbusy(struct vm_page **pgs, int npgs);
/*
 * uvm_pagewait: sleep until pg is no longer busy; releases `lock` (the
 * owner's lock, write-held) and does not retake it.
 */
void uvm_pagewait(struct vm_page *pg, struct krwlock *lock,
    const char *wmesg);

/* Page-owner debugging: who busied the page. */
void uvm_page_own(struct vm_page *pg, const char *tag);
#define UVM_PAGE_OWN(pg, tag)	uvm_page_own((pg), (tag))

/* Free pages in a physical range (for constraint checks). */
int uvm_pmr_count_free(paddr_t low, paddr_t high);

#define uvm_lock_pageq()	mtx_enter(&uvm.pageqlock)
#define uvm_unlock_pageq()	mtx_leave(&uvm.pageqlock)
#define uvm_lock_fpageq()	mtx_enter(&uvm.fpageqlock)
#define uvm_unlock_fpageq()	mtx_leave(&uvm.fpageqlock)

#define VM_PAGE_IS_FREE(pg)	((pg_flags_load(pg) & PQ_FREE) != 0)

#endif /* VM_UVM_PAGE_H */
