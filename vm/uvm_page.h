/*
 * vm/uvm_page.h: physical pages: flags, queues, allocation.
 *
 * struct vm_page itself is in host/vm_page.h (the machine builds the array
 * with its RAM); this header gives its machine-independent meaning.
 *
 * pg_flags holds both the owner's PG_* bits and the page queues' PQ_* bits,
 * as in OpenBSD: it is only changed with atomic bit operations
 * (atomic_setbits_int/atomic_clearbits_int), PG_* with the owner's lock
 * held, PQ_ACTIVE/PQ_INACTIVE with uvm.pageqlock held, PQ_FREE with
 * uvm.fpageqlock held (PQ_ANON/PQ_AOBJ are set at allocation, while the
 * page is its allocator's alone).  Read it with pg_flags_load().
 *
 * Queues: a page is on at most one of uvm.page_active, uvm.page_inactive
 * ([q] uvm.pageqlock) and the free lists ([f] uvm.fpageqlock), linked by
 * pg->pageq.  Wired pages are on no queue.  Object pages are also in
 * their object's tree (pg->objt, [o]).  pg->uobject, pg->uanon and
 * pg->offset are [o], and also stable under [q] while the page is on a
 * paging queue (uvm_pagefree clears them with the page queues held), so
 * the pagedaemon may read them to find the owner to trylock.
 *
 * Counters (uvmexp.h): free is changed under [f], active/inactive/wired
 * under [q], anonpages anywhere, always with atomic operations, so any
 * thread may read them with uvmexp_read() without those locks.
 */
#ifndef VM_UVM_PAGE_H
#define VM_UVM_PAGE_H

#include "host/arena.h"
#include "host/rwlock.h"
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
#define atomic_inc_uint(p)		((void)__atomic_fetch_add((p), 1u, __ATOMIC_ACQ_REL))
#define atomic_dec_uint(p)		((void)__atomic_fetch_sub((p), 1u, __ATOMIC_ACQ_REL))
#define atomic_inc_uint_nv(p)		__atomic_add_fetch((p), 1u, __ATOMIC_ACQ_REL)
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
 * uvm_pagealloc: allocate a free page for obj at off, or for anon, or
 * for nobody (obj and anon NULL: pool pages, kernel memory).
 * => owner (obj or anon) locked by the caller, never both
 * => returns a PG_BUSY|PG_FAKE|PG_CLEAN page owned by curproc, not on any
 *    queue, or NULL if none is free (nothing here sleeps: callers
 *    uvm_wait() with their locks dropped, if a pagedaemon runs)
 * => reserves: an ordinary allocation leaves reserve_kernel pages free;
 *    UVM_PGA_USERESERVE or a kernel object (UVM_OBJ_KERN) may go down to
 *    reserve_pagedaemon; the pagedaemon's process may take the last page
 * => UVM_PGA_ZERO: the page is zeroed (and so not PG_CLEAN)
 * => wakes the pagedaemon when free drops below freemin (or below
 *    freetarg with too few inactive pages)
 * => never sleeps; the page queues may be held
 */
struct vm_page *uvm_pagealloc(struct uvm_object *obj, voff_t off,
    struct vm_anon *anon, int flags);
/*
 * uvm_pagefree: free a page: take it out of its owner (object tree or
 * anon), off its queue, unwire it, and put it on a free list.
 * => page queues: held or not.  A caller that holds uvm.pageqlock (the
 *    pagedaemon, uvm_anfree, uao_detach: the seeds' way) keeps it; one
 *    that does not (pool pages, uvm_km) has it taken and released inside
 *    (detected with mutex_owned).  uvm.fpageqlock must not be held.
 * => owner locked (if any: object, or anon with a lock)
 * => a PG_BUSY object or anon page may only be freed by its owner (the
 *    process that busied it, see uvm_page_own): anything else panics,
 *    naming the owner and its tag.  Its PG_WANTED waiters are woken.
 *    (A page with no owner -- a pool page -- has no one to race with.)
 * => the caller has removed every mapping (pmap_page_protect NONE)
 * => never sleeps
 */
void uvm_pagefree(struct vm_page *pg);
/*
 * uvm_pglistalloc: size bytes of pages whose frames lie in [low, high)
 * (page frame numbers, like struct uvm_constraint_range), appended to
 * rlist (which it initialises).  alignment and boundary are bytes (0:
 * none); with nsegs >= the page count and no alignment or boundary the
 * pages may be scattered, otherwise they form one contiguous run.  The
 * pages come back unowned, not busy, on no queue, linked by pageq.
 * => kernel allocation: may use the kernel reserve
 * => UVM_PLA_WAITOK: may sleep (a pma request the pagedaemon serves);
 *    with no pagedaemon it fails instead.  No locks held then.
 * => returns 0, ENOMEM, or EINVAL (empty range, bad alignment)
 */
int uvm_pglistalloc(psize_t size, paddr_t low, paddr_t high,
    paddr_t alignment, paddr_t boundary, struct pglist *rlist, int nsegs,
    int flags);
/* uvm_pglistfree: free the pages of a uvm_pglistalloc list.
 * => page queues unlocked (taken inside); never sleeps */
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

/*
 * Contents, through the direct map.  The page written is no longer
 * clean (PG_CLEAN cleared): no backing store holds what is in it now.
 * => owner of the written page locked (or the page is ours alone)
 */
void uvm_pagezero(struct vm_page *pg);
void uvm_pagecopy(struct vm_page *src, struct vm_page *dst);

/*
 * uvm_page_unbusy: unbusy n pages, waking PG_WANTED waiters and freeing
 * PG_RELEASED ones (object pages, with their aobj swap slot; a released
 * anon page is the caller's: uvm_anon_release).  NULL and PGO_DONTCARE
 * entries are skipped.
 * => owners locked (write); page queues unlocked
 */
void uvm_page_unbusy(struct vm_page **pgs, int npgs);
/*
 * uvm_pagewait: sleep until pg is no longer busy; releases `lock` (the
 * owner's lock, held) and does not retake it.
 * => pg PG_BUSY; no page queue lock held; may sleep
 */
void uvm_pagewait(struct vm_page *pg, struct krwlock *lock,
    const char *wmesg);

/*
 * Page-owner debugging: who busied the page.  uvm_page_own(pg, tag)
 * records the busying process (pg->owner: its pid, -1 for a host thread
 * that is no LWP) and tag; uvm_page_own(pg, NULL) drops the ownership
 * after PG_BUSY is cleared.  Busying an owned page panics, naming both.
 * => owner locked (write)
 */
void uvm_page_own(struct vm_page *pg, const char *tag);
#define UVM_PAGE_OWN(pg, tag)	uvm_page_own((pg), (tag))

/*
 * uvm_page_owner_locked_p: does the caller hold pg's owner lock (the
 * object's vmobjlock, or the anon's an_lock), write-held?  True for a
 * page with no owner, or an anon with no lock yet.
 */
bool uvm_page_owner_locked_p(struct vm_page *pg);

/* Free pages with frames in [low, high) (page frame numbers). */
int uvm_pmr_count_free(paddr_t low, paddr_t high);

#define uvm_lock_pageq()	mtx_enter(&uvm.pageqlock)
#define uvm_unlock_pageq()	mtx_leave(&uvm.pageqlock)
#define uvm_lock_fpageq()	mtx_enter(&uvm.fpageqlock)
#define uvm_unlock_fpageq()	mtx_leave(&uvm.fpageqlock)

#define VM_PAGE_IS_FREE(pg)	((pg_flags_load(pg) & PQ_FREE) != 0)

#endif /* VM_UVM_PAGE_H */
