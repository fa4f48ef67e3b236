/*
 * vm/uvm_pdaemon.c: the page daemon (seed: OpenBSD uvm_pdaemon.c 1.105,
 * 2022/09/10), with the aiodone daemon and the control the harness
 * needs (start, stop, quiesce, hibernate).  See uvm_pdaemon.h.
 *
 * Every function of the seed is here under its own name, with its
 * logic, branches and locking.  Translations of OpenBSD idioms:
 *
 *  - rw_enter(slock, RW_WRITE|RW_NOSLEEP) is our rwlock's try;
 *    msleep_nsec/INFSLP as in OpenBSD; sched_pause(yield) is preempt()
 *    (the machine's preemption point); printf is host_printf.
 *  - Counters: the event counters are bumped with uvmexp_inc (relaxed
 *    atomics: reports read them while we run); free, active, inactive,
 *    paging, swpginuse are read with uvmexp_read (others change them
 *    under locks we do not hold); the targets uvmpd_tune and the loop
 *    set (freemin, freetarg, inactarg, wiredmax) are stored atomically
 *    under the page queues, since the page allocator reads them under
 *    uvm.fpageqlock alone.  uvmexp.paging += npages is atomic, as is
 *    the aiodone daemon's -=.
 *  - pma->pm_flags is [f]: the seed reads UVM_PMA_FREED without
 *    uvm.fpageqlock while uvm_wakeup_pla sets it under it; we read it
 *    under the lock (uvmpd_pma_freed).
 *  - __HAVE_PMAP_COLLECT: uvmpd_scan calls uvm_swapout_threads through a
 *    hook that is NULL until the uvm_glue issue lands; pdswout counts.
 *  - HIBERNATE: uvmpd_drop and uvmpd_hibernate are always compiled.
 *
 * Deviations, each marked "[deviation]" where it is made, with why:
 *  - PG_RELEASED after a synchronous pageout: the seed's anon
 *    sequence (an_page = NULL, rw_exit, uvm_anfree, uvm_pagefree) is
 *    our uvm_anon_release (uvm_anon.c's contract for a released anon:
 *    the busy page's holder frees page and anon under the lock), and a
 *    released object page (uvm_km_pgremove releases busy kernel-object
 *    pages; the seed asserts anon != NULL) is freed as uvm_page_unbusy
 *    frees one.
 *  - PG_CLEAN is re-synced with the modified bit after the mappings are
 *    zapped, before a clean page is freed (uvmpd_scan_inactive,
 *    uvmpd_drop): what uvm_pagedeactivate's comment in BSD promises
 *    ("we'll re-sync it after we zap all mappings").  Between the
 *    reference check and the zap a user write can land (our reference
 *    bits are real, threads run), and uvmpd_drop frees active pages,
 *    which may have been written since they were cleaned.  A page found
 *    modified is dirty and takes the dirty path instead.
 *  - uao_set_swslot may fail (no memory for a hash cluster): the page
 *    is given up like a page for which no swap could be had, rather
 *    than written to a slot its object does not record.
 *  - An object pager that answers VM_PAGER_PEND: the seed keeps the
 *    object locked (its vnode pager never answers PEND); we unlock, or
 *    the I/O completion could never take the lock.
 *  - uvmpd_drop walks the queue with the page queues held and only
 *    tries the object lock: OpenBSD runs it with the machine halted for
 *    hibernation; here other threads run.
 *  - The daemons' loops also end on a stop flag, and the pagedaemon does
 *    not scan while quiesced (uvm_hibernate, tests).
 *  - uvm_wait, and the aiodone daemon when it wakes the pagedaemon, leave
 *    a flag with the wakeup (pd.wanted), which the pagedaemon checks
 *    before it sleeps: a wakeup that arrives while it is not asleep is not
 *    lost (see uvm_pageout).
 *  - uvm_wait with no pagedaemon running sleeps 125 ms, not for ever.
 *
 * Extension (marked "[extension]"): FreeBSD's vm_lowmem event, which a
 * pass under a shortage invokes before it scans (uvm_lowmem_register;
 * vm_glue.c's kstack cache is its first user).
 */
#include <string.h>

#include "host/clock.h"
#include "host/disk.h"
#include "host/lwp.h"
#include "host/pmap.h"
#include "uvm.h"
#include "uvm_anon.h"
#include "uvm_aobj.h"
#include "uvm_bufcache.h"
#include "uvm_object.h"
#include "uvm_pager.h"
#include "uvm_glue.h"
#include "uvm_pdaemon.h"
#include "uvm_swap.h"

#define MSEC_TO_NSEC(ms)	((uint64_t)(ms) * 1000000ull)
#ifndef PROT_NONE
#define PROT_NONE	VM_PROT_NONE
#define PROT_READ	VM_PROT_READ
#endif

/* Targets uvmpd_tune and the loop set: [q], read elsewhere atomically. */
#define uvmexp_store(field, v) \
	__atomic_store_n(&uvmexp.field, (v), __ATOMIC_RELAXED)

volatile int uvm_nowait_failed;		/* [f] */

/* Daemon control. */
static struct {
	/* [f] uvm.fpageqlock */
	bool		stop;		/* the pagedaemon must exit */
	bool		wanted;		/* uvm_wait or the aiodone daemon woke
					   it: run a pass */
	int		quiesce;	/* > 0: no scanning (nests) */
	bool		inpass;		/* the pagedaemon is in a pass */
	/* [uvm.aiodoned_lock] */
	bool		aiostop;	/* the aiodone daemon must exit */
	bool		aiobusy;	/* it is finishing a batch */
	/* [pd_lock] */
	int		started;	/* daemons that are up */
	bool		running;	/* started and not stopped */
	struct proc	*pdproc, *aioproc;
	struct lwp	*pdlwp, *aiolwp;
	/* the pagedaemon's own: tick of its last vm_lowmem event + 1 */
	uint64_t	lowmem_last;	/* 0: none yet */
} pd;
static kmutex_t pd_lock;		/* adaptive: start/stop/hibernate */
static bool pd_lock_inited;
static void (*uvmpd_swapout_hook)(void);	/* [a] */
static int uvmpd_ndropped;			/* [a] pages uvmpd_drop freed */

/* local prototypes */
static bool uvmpd_is_pagedaemon(void);
static bool uvmpd_pma_freed(struct uvm_pmalloc *pma);
static void uvmpd_swapout_threads(void);
static void uvmpd_exit_locked(void);
static void uvmpd_lowmem(void);

/* Is the caller the pagedaemon's process? */
static bool
uvmpd_is_pagedaemon(void)
{
	struct proc *p = curproc;

	return p != NULL &&
	    p == __atomic_load_n(&uvm.pagedaemon_proc, __ATOMIC_ACQUIRE);
}

/*
 * uvmpd_pma_freed: has the pma request been given pages (UVM_PMA_FREED)?
 * => pm_flags is [f]: taken here (the page queues may be held: fpageq
 *    comes after them)
 */
static bool
uvmpd_pma_freed(struct uvm_pmalloc *pma)
{
	bool freed;

	uvm_lock_fpageq();
	freed = (pma->pm_flags & UVM_PMA_FREED) != 0;
	uvm_unlock_fpageq();
	return freed;
}

/*
 * uvm_wait: wait (sleep) for the page daemon to free some pages
 *
 * => should be called with all locks released
 * => should _not_ be called by the page daemon (to avoid deadlock)
 * => with no pagedaemon running (before uvm_pdaemon_start, after
 *    uvm_pdaemon_stop) the sleep is a short timed one, as uvm.h
 *    promises: the caller retries or fails
 */
void
uvm_wait(const char *wmsg)
{
	uint64_t timo = INFSLP;

#ifdef DIAGNOSTIC
	if (curproc == &proc0)
		panic("%s: cannot sleep for memory during boot", __func__);
#endif
	/*
	 * no locks held, but for [deviation] the l_swaplock NetBSD's
	 * swapper holds across uvm_swapin's wiring (uvm_glue.c)
	 */
	KASSERT(witness_nheld() == uvm_swapin_locks());

	/*
	 * check for page daemon going to sleep (waiting for itself)
	 * (curproc is NULL on host threads that are not LWPs: never it)
	 */
	if (uvmpd_is_pagedaemon()) {
		host_printf("uvm_wait emergency bufbackoff\n");
		if (bufbackoff(NULL, 4) == 0)
			return;
		/*
		 * now we have a problem: the pagedaemon wants to go to
		 * sleep until it frees more memory.   but how can it
		 * free more memory if it is asleep?  that is a deadlock.
		 * we have two options:
		 *  [1] panic now
		 *  [2] put a timeout on the sleep, thus causing the
		 *      pagedaemon to only pause (rather than sleep forever)
		 *
		 * note that option [2] will only help us if we get lucky
		 * and some other process on the system breaks the deadlock
		 * by exiting or freeing memory (thus allowing the pagedaemon
		 * to continue).  for now we panic if DEBUG is defined,
		 * otherwise we hope for the best with option [2] (better
		 * yet, this should never happen in the first place!).
		 */
		host_printf("pagedaemon: deadlock detected!\n");
		timo = MSEC_TO_NSEC(125);	/* set timeout */
#if defined(DEBUG)
		/* DEBUG: panic so we can debug it */
		panic("pagedaemon deadlock");
#endif
	}

	uvm_lock_fpageq();
	if (__atomic_load_n(&uvm.pagedaemon_proc, __ATOMIC_ACQUIRE) == NULL)
		/* nobody to wake (it is cleared under this lock) */
		timo = MSEC_TO_NSEC(125);
	pd.wanted = true;		/* [deviation] see uvm_pageout */
	wakeup(&uvm.pagedaemon);		/* wake the daemon! */
	msleep_nsec(&uvmexp.free, &uvm.fpageqlock, PVM | PNORELOCK, wmsg,
	    timo);
}

/*
 * uvmpd_tune: tune paging parameters
 *
 * => called whenever memory is added to (or removed from?) the system
 * => caller must call with page queues locked
 */
void
uvmpd_tune(void)
{
	int freemin, freetarg;

	MUTEX_ASSERT_LOCKED(&uvm.pageqlock);

	freemin = uvmexp.npages / 30;

	/* between 16k and 512k */
	/* XXX:  what are these values good for? */
	freemin = MAX(freemin, (16 * 1024) >> PAGE_SHIFT);
#if 0
	freemin = MIN(freemin, (512 * 1024) >> PAGE_SHIFT);
#endif

	/* Make sure there's always a user page free. */
	if (freemin < uvmexp.reserve_kernel + 1)
		freemin = uvmexp.reserve_kernel + 1;

	freetarg = (freemin * 4) / 3;
	if (freetarg <= freemin)
		freetarg = freemin + 1;

	uvmexp_store(freemin, freemin);
	uvmexp_store(freetarg, freetarg);

	/* uvmexp.inactarg: computed in main daemon loop */

	uvmexp_store(wiredmax, uvmexp.npages / 3);
}

/*
 * uvmpd_exit_locked: the pagedaemon is stopping: no pagedaemon from
 * now on; pma requests fail (their allocations return ENOMEM) and
 * uvm_wait sleepers wake to find nobody to wait for.
 * => uvm.fpageqlock held
 */
static void
uvmpd_exit_locked(void)
{
	struct uvm_pmalloc *pma;

	MUTEX_ASSERT_LOCKED(&uvm.fpageqlock);
	__atomic_store_n(&uvm.pagedaemon_proc, NULL, __ATOMIC_RELEASE);
	while ((pma = TAILQ_FIRST(&uvm.pmr_control.allocs)) != NULL) {
		pma->pm_flags |= UVM_PMA_FAIL;
		pma->pm_flags &= ~(UVM_PMA_LINKED | UVM_PMA_BUSY);
		TAILQ_REMOVE(&uvm.pmr_control.allocs, pma, pmq);
		wakeup(pma);
	}
	uvm_nowait_failed = 0;
	wakeup(&uvmexp.free);
}

/*
 * uvm_pageout: the main loop for the pagedaemon
 *
 * => runs as the LWP of the pagedaemon's process; returns on
 *    uvm_pdaemon_stop
 */
void
uvm_pageout(void *arg)
{
	struct uvm_constraint_range constraint;
	struct uvm_pmalloc *pma;
	int npages = 0;

	/* ensure correct priority and set paging parameters... */
	__atomic_store_n(&uvm.pagedaemon_proc, curproc, __ATOMIC_RELEASE);
	(void) spl0();
	uvm_lock_pageq();
	npages = uvmexp.npages;
	uvmpd_tune();
	uvm_unlock_pageq();

	mutex_enter(&pd_lock);
	pd.started++;
	wakeup(&pd.started);
	mutex_exit(&pd_lock);

	for (;;) {
		long size;

		/*
		 * [deviation] pd.wanted: a uvm_wait caller (or the aiodone
		 * daemon, its pageouts done at the reserve) woke us.  The
		 * seed sleeps here whenever no pma request and no nowait
		 * failure is pending, so a wakeup from uvm_wait that came
		 * while we were not asleep (in a pass, or before our first
		 * sleep) is lost, and its caller, asleep on &uvmexp.free
		 * with no timeout, may wait for ever if nothing else wakes
		 * us.  (OpenBSD's callers are many, and someone else always
		 * kicks; a test or a single-threaded workload is not.)
		 */
		uvm_lock_fpageq();
		if ((!uvm_nowait_failed && !pd.wanted &&
		    TAILQ_EMPTY(&uvm.pmr_control.allocs)) ||
		    pd.quiesce > 0) {
			if (!pd.stop) {
				msleep_nsec(&uvm.pagedaemon, &uvm.fpageqlock,
				    PVM, "pgdaemon", INFSLP);
				uvmexp_inc(pdwoke);
			}
		}
		if (pd.stop) {
			uvmpd_exit_locked();
			uvm_unlock_fpageq();
			break;
		}
		if (pd.quiesce > 0) {
			/* quiesced: serve nothing, scan nothing */
			uvm_unlock_fpageq();
			continue;
		}
		pd.inpass = true;
		pd.wanted = false;

		if ((pma = TAILQ_FIRST(&uvm.pmr_control.allocs)) != NULL) {
			pma->pm_flags |= UVM_PMA_BUSY;
			constraint = pma->pm_constraint;
		} else {
			if (uvm_nowait_failed) {
				/*
				 * XXX realisticly, this is what our
				 * nowait callers probably care about
				 */
				constraint = dma_constraint;
				uvm_nowait_failed = 0;
			} else
				constraint = no_constraint;
		}

		uvm_unlock_fpageq();

		/*
		 * now lock page queues and recompute inactive count
		 */
		uvm_lock_pageq();
		if (npages != uvmexp.npages) {	/* check for new pages? */
			npages = uvmexp.npages;
			uvmpd_tune();
		}

		uvmexp_store(inactarg,
		    (uvmexp_read(active) + uvmexp_read(inactive)) / 3);
		if (uvmexp.inactarg <= uvmexp.freetarg) {
			uvmexp_store(inactarg, uvmexp.freetarg + 1);
		}

		/* Reclaim pages from the buffer cache if possible. */
		size = 0;
		if (pma != NULL)
			size += pma->pm_size >> PAGE_SHIFT;
		if (uvmexp_read(free) - BUFPAGES_DEFICIT < uvmexp.freetarg)
			size += uvmexp.freetarg - (uvmexp_read(free) -
			    BUFPAGES_DEFICIT);
		if (size == 0)
			size = 16; /* XXX */
		uvm_unlock_pageq();
		(void) bufbackoff(&constraint, size * 2);
		/* (no drm here: drmbackoff has nothing to give back) */
		if (pma != NULL || uvmexp_read(free) - BUFPAGES_DEFICIT <
		    uvmexp_read(freetarg))
			uvmpd_lowmem();		/* [extension] see there */
		uvm_lock_pageq();

		/*
		 * scan if needed
		 */
		if (pma != NULL ||
		    ((uvmexp_read(free) - BUFPAGES_DEFICIT) <
		    uvmexp.freetarg) ||
		    ((uvmexp_read(inactive) + BUFPAGES_INACT) <
		    uvmexp.inactarg)) {
			uvmpd_scan(pma);
		}

		/*
		 * if there's any free memory to be had,
		 * wake up any waiters.
		 */
		uvm_lock_fpageq();
		if (uvmexp_read(free) > uvmexp.reserve_kernel ||
		    uvmexp_read(paging) == 0) {
			wakeup(&uvmexp.free);
		}

		if (pma != NULL) {
			/*
			 * XXX If UVM_PMA_FREED isn't set, no pages
			 * were freed.  Should we set UVM_PMA_FAIL in
			 * that case?
			 */
			pma->pm_flags &= ~UVM_PMA_BUSY;
			if (pma->pm_flags & UVM_PMA_FREED) {
				pma->pm_flags &= ~UVM_PMA_LINKED;
				TAILQ_REMOVE(&uvm.pmr_control.allocs, pma,
				    pmq);
				wakeup(pma);
			}
		}
		pd.inpass = false;
		wakeup(&pd.inpass);		/* uvm_pdaemon_quiesce */
		uvm_unlock_fpageq();

		/*
		 * scan done.  unlock page queues (the only lock we are holding)
		 */
		uvm_unlock_pageq();

		preempt();			/* sched_pause(yield) */
	}
}

/*
 * uvm_aiodone_daemon:  main loop for the aiodone daemon.
 *
 * => runs as the LWP of the aiodone daemon's process; returns on
 *    uvm_pdaemon_stop once nothing is in flight (uvmexp.paging is 0:
 *    the pagedaemon has stopped first, so no pageout can start again)
 */
void
uvm_aiodone_daemon(void *arg)
{
	int s, free;
	struct buf *bp, *nbp;

	__atomic_store_n(&uvm.aiodoned_proc, curproc, __ATOMIC_RELEASE);

	mutex_enter(&pd_lock);
	pd.started++;
	wakeup(&pd.started);
	mutex_exit(&pd_lock);

	for (;;) {
		/*
		 * Check for done aio structures. If we've got structures to
		 * process, do so. Otherwise sleep while avoiding races.
		 */
		mtx_enter(&uvm.aiodoned_lock);
		while ((bp = TAILQ_FIRST(&uvm.aio_done)) == NULL) {
			if (pd.aiobusy) {
				pd.aiobusy = false;	/* uvm_pageout_drain */
				wakeup(&pd.aiobusy);
			}
			if (pd.aiostop && uvmexp_read(paging) <= 0)
				break;
			msleep_nsec(&uvm.aiodoned, &uvm.aiodoned_lock,
			    PVM, "aiodoned", INFSLP);
		}
		if (bp == NULL) {
			__atomic_store_n(&uvm.aiodoned_proc, NULL,
			    __ATOMIC_RELEASE);
			mtx_leave(&uvm.aiodoned_lock);
			break;
		}
		/* Take the list for ourselves. */
		TAILQ_INIT(&uvm.aio_done);
		pd.aiobusy = true;
		mtx_leave(&uvm.aiodoned_lock);

		/* process each i/o that's done. */
		free = uvmexp_read(free);
		while (bp != NULL) {
			if (bp->b_flags & B_PDAEMON) {
				uvmexp_add(paging,
				    -(int)(bp->b_bufsize >> PAGE_SHIFT));
			}
			nbp = TAILQ_NEXT(bp, b_freelist);
			s = splbio();	/* b_iodone must by called at splbio */
			(*bp->b_iodone)(bp);
			splx(s);
			bp = nbp;

			preempt();		/* sched_pause(yield) */
		}
		uvm_lock_fpageq();
		if (free <= uvmexp.reserve_kernel) {
			/*
			 * [deviation] the flag with the wakeup, as uvm_wait
			 * leaves it (see uvm_pageout): a pagedaemon in its
			 * pass (or on its way to sleep) lost this wakeup, and
			 * with every LWP asleep in uvm_wait and its pageouts
			 * done, nothing woke it again (found by --sched pct:
			 * pressure --ram 16M --steps 1000000 --seed 9).
			 */
			pd.wanted = true;
			wakeup(&uvm.pagedaemon);
		} else {
			wakeup(&uvmexp.free);
		}
		uvm_unlock_fpageq();
	}
}

/*
 * uvmpd_trylockowner: trylock the page's owner.
 *
 * => return the locked rwlock on success.  otherwise, return NULL.
 * => page queues locked (they keep pg->uobject, pg->uanon and the
 *    anon alive: freeing the page needs them)
 */
krwlock_t *
uvmpd_trylockowner(struct vm_page *pg)
{

	struct uvm_object *uobj = pg->uobject;
	krwlock_t *slock;

	MUTEX_ASSERT_LOCKED(&uvm.pageqlock);
	if (uobj != NULL) {
		slock = uobj->vmobjlock;
	} else {
		struct vm_anon *anon = pg->uanon;

		KASSERT(anon != NULL);
		slock = anon->an_lock;
	}

	if (rw_enter(slock, RW_WRITE|RW_NOSLEEP)) {
		return NULL;
	}

	return slock;
}


/*
 * uvmpd_dropswap: free any swap allocated to this page.
 *
 * => called with owner locked.
 */
void
uvmpd_dropswap(struct vm_page *pg)
{
	struct vm_anon *anon = pg->uanon;

	KASSERT(uvm_page_owner_locked_p(pg));
	if ((pg_flags_load(pg) & PQ_ANON) && anon->an_swslot) {
		uvm_swap_free(anon->an_swslot, 1);
		anon->an_swslot = 0;
	} else if (pg_flags_load(pg) & PQ_AOBJ) {
		uao_dropswap(pg->uobject, (int)(pg->offset >> PAGE_SHIFT));
	}
}

/*
 * uvmpd_scan_inactive: scan an inactive list for pages to clean or free.
 *
 * => called with page queues locked (dropped and retaken around each
 *    pageout: uvm_pager_put returns with them unlocked)
 * => we work on meeting our free target by converting inactive pages
 *    into free pages.
 * => we handle the building of swap-backed clusters
 * => the pagedaemon's process: its pageouts are B_PDAEMON (paging)
 */
void
uvmpd_scan_inactive(struct uvm_pmalloc *pma, struct pglist *pglst)
{
	int free = 0, result;
	struct vm_page *p, *nextpg;
	struct uvm_object *uobj;
	struct vm_page *pps[SWCLUSTPAGES], **ppsp;
	int npages;
	struct vm_page *swpps[SWCLUSTPAGES]; 	/* XXX: see below */
	krwlock_t *slock;
	int swnpages, swcpages;				/* XXX: see below */
	int swslot;
	struct vm_anon *anon;
	bool swap_backed;
	vaddr_t start;
	int dirtyreacts;
	uint32_t flags = 0;

	MUTEX_ASSERT_LOCKED(&uvm.pageqlock);
	KASSERTMSG(uvmpd_is_pagedaemon(), "uvmpd_scan_inactive: not the "
	    "pagedaemon's process (its pageouts would not be B_PDAEMON)");

	/*
	 * swslot is non-zero if we are building a swap cluster.  we want
	 * to stay in the loop while we have a page to scan or we have
	 * a swap-cluster to build.
	 */
	swslot = 0;
	swnpages = swcpages = 0;
	dirtyreacts = 0;
	p = NULL;
	slock = NULL;
	nextpg = NULL;

	/* Start with the first page on the list that fit in pma's ranges */
	if (pma != NULL) {
		paddr_t paddr;

		TAILQ_FOREACH(p, pglst, pageq) {
			paddr = atop(VM_PAGE_TO_PHYS(p));
			if (paddr >= pma->pm_constraint.ucr_low &&
			    paddr < pma->pm_constraint.ucr_high)
				break;
		}

	}

	if (p == NULL) {
		p = TAILQ_FIRST(pglst);
		pma = NULL;
	}

	for (; p != NULL || swslot != 0; p = nextpg) {
		/*
		 * note that p can be NULL iff we have traversed the whole
		 * list and need to do one final swap-backed clustered pageout.
		 */
		uobj = NULL;
		anon = NULL;
		if (p) {
			/*
			 * see if we've met our target
			 */
			free = uvmexp_read(free) - BUFPAGES_DEFICIT;
			if (((pma == NULL || uvmpd_pma_freed(pma)) &&
			    (free + uvmexp_read(paging) >=
			    uvmexp_read(freetarg) << 2)) ||
			    dirtyreacts == UVMPD_NUMDIRTYREACTS) {
				if (swslot == 0) {
					/* exit now if no swap-i/o pending */
					break;
				}

				/* set p to null to signal final swap i/o */
				p = NULL;
				nextpg = NULL;
			}
		}
		if (p) {	/* if (we have a new page to consider) */
			/*
			 * we are below target and have a new page to consider.
			 */
			uvmexp_inc(pdscans);
			nextpg = TAILQ_NEXT(p, pageq);

			anon = p->uanon;
			uobj = p->uobject;

			/*
			 * first we attempt to lock the object that this page
			 * belongs to.  if our attempt fails we skip on to
			 * the next page (no harm done).  it is important to
			 * "try" locking the object as we are locking in the
			 * wrong order (pageq -> object) and we don't want to
			 * deadlock.
			 */
			slock = uvmpd_trylockowner(p);
			if (slock == NULL) {
				continue;
			}

			/*
			 * move referenced pages back to active queue
			 * and skip to next page.
			 */
			if (pmap_is_referenced(p)) {
				uvm_pageactivate(p);
				rw_exit(slock);
				uvmexp_inc(pdreact);
				continue;
			}

			if (pg_flags_load(p) & PG_BUSY) {
				rw_exit(slock);
				uvmexp_inc(pdbusy);
				continue;
			}

			/* does the page belong to an object? */
			if (uobj != NULL) {
				uvmexp_inc(pdobscan);
			} else {
				KASSERT(anon != NULL);
				uvmexp_inc(pdanscan);
			}

			/*
			 * [deviation: the seed's km pager (NetBSD 1998:
			 * "we do not support pageout to the swap area") has
			 * no put, and OpenBSD has no such pager: a page of a
			 * kernel object it backs (kmem_object: a fault on a
			 * UVM_KMF_VALLOC range of kmem_map puts one there,
			 * unwired) can be neither cleaned nor freed (a fresh
			 * get would zero it).  Keep it: reactivate.]
			 */
			if (uobj != NULL && !(pg_flags_load(p) & PQ_SWAPBACKED)
			    && uobj->pgops->pgo_put == NULL) {
				uvm_pageactivate(p);
				rw_exit(slock);
				uvmexp_inc(pdreact);
				continue;
			}

			/*
			 * we now have the page queues locked.
			 * the page is not busy.   if the page is clean we
			 * can free it now and continue.
			 */
			flags = pg_flags_load(p);
			if (flags & PG_CLEAN) {
				/* zap all mappings with pmap_page_protect... */
				pmap_page_protect(p, PROT_NONE);

				/*
				 * [deviation] ...and re-sync the clean bit
				 * now that nobody can write it: a write that
				 * landed after the reference check makes it
				 * dirty (see the top of the file).
				 */
				if (pmap_is_modified(p)) {
					atomic_clearbits_int(&p->pg_flags,
					    PG_CLEAN);
					flags &= ~PG_CLEAN;
				}
			}
			if (flags & PG_CLEAN) {
				if (flags & PQ_SWAPBACKED) {
					/* this page now lives only in swap */
					KASSERT(anon != NULL ?
					    anon->an_swslot != 0 :
					    uao_find_swslot(uobj, (int)
					    (p->offset >> PAGE_SHIFT)) != 0);
					atomic_inc_int(&uvmexp.swpgonly);
				}

				uvm_pagefree(p);
				uvmexp_inc(pdfreed);

				if (anon) {

					/*
					 * an anonymous page can only be clean
					 * if it has backing store assigned.
					 */

					KASSERT(anon->an_swslot != 0);

					/*
					 * remove from object (uvm_pagefree
					 * did: it detaches an anon's page)
					 */
					KASSERT(anon->an_page == NULL);
				}
				rw_exit(slock);
				continue;
			}

			/*
			 * this page is dirty, skip it if we'll have met our
			 * free target when all the current pageouts complete.
			 */
			if ((pma == NULL || uvmpd_pma_freed(pma)) &&
			    (free + uvmexp_read(paging) >
			    uvmexp_read(freetarg) << 2)) {
				rw_exit(slock);
				continue;
			}

			/*
			 * this page is dirty, but we can't page it out
			 * since all pages in swap are only in swap.
			 * reactivate it so that we eventually cycle
			 * all pages thru the inactive queue.
			 */
			if ((flags & PQ_SWAPBACKED) && uvm_swapisfull()) {
				dirtyreacts++;
				uvm_pageactivate(p);
				rw_exit(slock);
				continue;
			}

			/*
			 * if the page is swap-backed and dirty and swap space
			 * is full, free any swap allocated to the page
			 * so that other pages can be paged out.
			 */
			KASSERT(uvmexp_read(swpginuse) <= uvmexp.swpages);
			if ((flags & PQ_SWAPBACKED) &&
			    uvmexp_read(swpginuse) == uvmexp.swpages) {
				uvmpd_dropswap(p);
			}

			/*
			 * the page we are looking at is dirty.   we must
			 * clean it before it can be freed.  to do this we
			 * first mark the page busy so that no one else will
			 * touch the page.   we write protect all the mappings
			 * of the page so that no one touches it while it is
			 * in I/O.
			 */

			swap_backed = ((flags & PQ_SWAPBACKED) != 0);
			atomic_setbits_int(&p->pg_flags, PG_BUSY);
			UVM_PAGE_OWN(p, "scan_inactive");
			pmap_page_protect(p, PROT_READ);
			uvmexp_inc(pgswapout);

			/*
			 * for swap-backed pages we need to (re)allocate
			 * swap space.
			 */
			if (swap_backed) {
				/* free old swap slot (if any) */
				uvmpd_dropswap(p);

				/* start new cluster (if necessary) */
				if (swslot == 0) {
					swnpages = SWCLUSTPAGES;
					swslot = uvm_swap_alloc(&swnpages,
					    true);
					if (swslot == 0) {
						/* no swap?  give up! */
						atomic_clearbits_int(
						    &p->pg_flags,
						    PG_BUSY);
						UVM_PAGE_OWN(p, NULL);
						rw_exit(slock);
						continue;
					}
					swcpages = 0;	/* cluster is empty */
				}

				/* add block to cluster */
				if (anon) {
					anon->an_swslot = swslot + swcpages;
				} else if (uao_set_swslot(uobj,
				    (int)(p->offset >> PAGE_SHIFT),
				    swslot + swcpages) == -1) {
					/*
					 * [deviation] the object cannot
					 * record the slot (no memory for
					 * its hash cluster): give up on
					 * this page as if no swap could
					 * be had; the slot stays in the
					 * cluster's unused tail.
					 */
					atomic_clearbits_int(&p->pg_flags,
					    PG_BUSY);
					UVM_PAGE_OWN(p, NULL);
					rw_exit(slock);
					if (swcpages == 0) {
						uvm_swap_free(swslot,
						    swnpages);
						swslot = 0;
					}
					continue;
				}
				swpps[swcpages] = p;
				swcpages++;
			}
		} else {
			/* if p == NULL we must be doing a last swap i/o */
			swap_backed = true;
		}

		/*
		 * now consider doing the pageout.
		 *
		 * for swap-backed pages, we do the pageout if we have either
		 * filled the cluster (in which case (swnpages == swcpages) or
		 * run out of pages (p == NULL).
		 *
		 * for object pages, we always do the pageout.
		 */
		if (swap_backed) {
			if (p) {	/* if we just added a page to cluster */
				rw_exit(slock);

				/* cluster not full yet? */
				if (swcpages < swnpages)
					continue;
			}

			/* starting I/O now... set up for it */
			npages = swcpages;
			ppsp = swpps;
			/* for swap-backed pages only */
			start = (vaddr_t) swslot;

			/* if this is final pageout we could have a few
			 * extra swap blocks */
			if (swcpages < swnpages) {
				uvm_swap_free(swslot + swcpages,
				    (swnpages - swcpages));
			}
		} else {
			/* normal object pageout */
			ppsp = pps;
			npages = sizeof(pps) / sizeof(struct vm_page *);
			/* not looked at because PGO_ALLPAGES is set */
			start = 0;
		}

		/*
		 * now do the pageout.
		 *
		 * for swap_backed pages we have already built the cluster.
		 * for !swap_backed pages, uvm_pager_put will call the object's
		 * "make put cluster" function to build a cluster on our behalf.
		 *
		 * we pass the PGO_PDFREECLUST flag to uvm_pager_put to instruct
		 * it to free the cluster pages for us on a successful I/O (it
		 * always does this for un-successful I/O requests).  this
		 * allows us to do clustered pageout without having to deal
		 * with cluster pages at this level.
		 *
		 * note locking semantics of uvm_pager_put with PGO_PDFREECLUST:
		 *  IN: locked: page queues
		 * OUT: locked:
		 *     !locked: pageqs
		 */

		uvmexp_inc(pdpageouts);
		result = uvm_pager_put(swap_backed ? NULL : uobj, p,
		    &ppsp, &npages, PGO_ALLPAGES|PGO_PDFREECLUST, start, 0);

		/*
		 * if we did i/o to swap, zero swslot to indicate that we are
		 * no longer building a swap-backed cluster.
		 */

		if (swap_backed)
			swslot = 0;		/* done with this cluster */

		/*
		 * first, we check for VM_PAGER_PEND which means that the
		 * async I/O is in progress and the async I/O done routine
		 * will clean up after us.   in this case we move on to the
		 * next page.
		 *
		 * there is a very remote chance that the pending async i/o can
		 * finish _before_ we get here.   if that happens, our page "p"
		 * may no longer be on the inactive queue.   so we verify this
		 * when determining the next page (starting over at the head if
		 * we've lost our inactive page).
		 */

		if (result == VM_PAGER_PEND) {
			uvmexp_add(paging, npages);
			/*
			 * [deviation] an object pager's async I/O finishes
			 * under the object lock: let it go (the seed's
			 * vnode pager never answers PEND).
			 */
			if (!swap_backed)
				rw_exit(slock);
			uvm_lock_pageq();
			uvmexp_inc(pdpending);
			if (p) {
				if (pg_flags_load(p) & PQ_INACTIVE)
					nextpg = TAILQ_NEXT(p, pageq);
				else
					nextpg = TAILQ_FIRST(pglst);
			} else {
				nextpg = NULL;
			}
			continue;
		}

		/* clean up "p" if we have one */
		if (p) {
			/*
			 * the I/O request to "p" is done and uvm_pager_put
			 * has freed any cluster pages it may have allocated
			 * during I/O.  all that is left for us to do is
			 * clean up page "p" (which is still PG_BUSY).
			 *
			 * our result could be one of the following:
			 *   VM_PAGER_OK: successful pageout
			 *
			 *   VM_PAGER_AGAIN: tmp resource shortage, we skip
			 *     to next page
			 *   VM_PAGER_{FAIL,ERROR,BAD}: an error.   we
			 *     "reactivate" page to get it out of the way (it
			 *     will eventually drift back into the inactive
			 *     queue for a retry).
			 *   VM_PAGER_UNLOCK: should never see this as it is
			 *     only valid for "get" operations
			 */

			/* relock p's object: page queues not lock yet, so
			 * no need for "try" */

			/* !swap_backed case: already locked... */
			if (swap_backed) {
				rw_enter(slock, RW_WRITE);
			}

#ifdef DIAGNOSTIC
			if (result == VM_PAGER_UNLOCK)
				panic("pagedaemon: pageout returned "
				    "invalid 'unlock' code");
#endif

			/* handle PG_WANTED now */
			if (pg_flags_load(p) & PG_WANTED)
				wakeup(p);

			atomic_clearbits_int(&p->pg_flags, PG_BUSY|PG_WANTED);
			UVM_PAGE_OWN(p, NULL);

			/* released during I/O? Can only happen for anons */
			if ((pg_flags_load(p) & PG_RELEASED) && anon != NULL) {
				/*
				 * [deviation] the seed: an_page = NULL,
				 * uanon = NULL, rw_exit(an_lock),
				 * uvm_anfree(anon) "kills anon",
				 * pmap_page_protect(NONE), lock the page
				 * queues, nextpg, uvm_pagefree(p).  Ours:
				 * the anon was uvm_anfree'd while we held
				 * its busy page, which left it (and a
				 * reference on its lock) for us to finish:
				 * uvm_anon_release frees the page and the
				 * anon under the lock and unlocks it, the
				 * same end.  nextpg is read first, while p
				 * is still on the queue.
				 */
				KASSERT(anon->an_lock == slock);
				uvm_lock_pageq();
				nextpg = TAILQ_NEXT(p, pageq);
				uvm_unlock_pageq();
				uvm_anon_release(anon);	/* kills anon */
				anon = NULL;
				slock = NULL;		/* released */
				uvm_lock_pageq();
			} else if (pg_flags_load(p) & PG_RELEASED) {
				/*
				 * [deviation] a released object page
				 * (uvm_km_pgremove of a busy kernel-object
				 * page): free it as uvm_page_unbusy does.
				 */
				KASSERT(uobj != NULL);
				atomic_clearbits_int(&p->pg_flags, PG_RELEASED);
				pmap_page_protect(p, PROT_NONE);
				if (pg_flags_load(p) & PQ_AOBJ)
					uao_dropswap(uobj,
					    (int)(p->offset >> PAGE_SHIFT));
				uvm_lock_pageq();
				nextpg = TAILQ_NEXT(p, pageq);
				/* free released page */
				uvm_pagefree(p);
			} else {	/* page was not released during I/O */
				uvm_lock_pageq();
				nextpg = TAILQ_NEXT(p, pageq);
				if (result != VM_PAGER_OK) {
					/* pageout was a failure... */
					if (result != VM_PAGER_AGAIN)
						uvm_pageactivate(p);
					pmap_clear_reference(p);
					/* XXXCDC: if (swap_backed) FREE p's
					 * swap block? */
				} else {
					/* pageout was a success... */
					pmap_clear_reference(p);
					pmap_clear_modify(p);
					atomic_setbits_int(&p->pg_flags,
					    PG_CLEAN);
				}
			}

			/*
			 * drop object lock (if there is an object left).   do
			 * a safety check of nextpg to make sure it is on the
			 * inactive queue (it should be since PG_BUSY pages on
			 * the inactive queue can't be re-queued [note: not
			 * true for active queue]).
			 */
			if (slock != NULL)
				rw_exit(slock);

			if (nextpg &&
			    (pg_flags_load(nextpg) & PQ_INACTIVE) == 0) {
				nextpg = TAILQ_FIRST(pglst);	/* reload! */
			}
		} else {
			/*
			 * if p is null in this loop, make sure it stays null
			 * in the next loop.
			 */
			nextpg = NULL;

			/*
			 * lock page queues here just so they're always locked
			 * at the end of the loop.
			 */
			uvm_lock_pageq();
		}
	}
}

/*
 * uvmpd_swapout_threads: the seed's uvm_swapout_threads() call, through
 * the hook (NULL until the uvm_glue issue brings the swapper).
 * => no locks held
 */
static void
uvmpd_swapout_threads(void)
{
	void (*fn)(void) = __atomic_load_n(&uvmpd_swapout_hook,
	    __ATOMIC_ACQUIRE);

	if (fn != NULL)
		fn();
}

void
uvm_pdaemon_set_swapout(void (*fn)(void))
{
	__atomic_store_n(&uvmpd_swapout_hook, fn, __ATOMIC_RELEASE);
}

#define UVMPD_GOING	1024	/* pages marked going ahead of deactivation:
				   a pass's shortage at once, mostly, so that
				   scattered ones still meet in runs */

/*
 * uvmpd_mark_going: unmark the pages of the last window and mark the
 * next n not busy ones from p on as going (pmap_page_going), so that
 * deactivating one closes its marked address neighbours' host mappings
 * in the same host call.  Returns the first page past the window.
 * => page queues locked
 */
static struct vm_page *
uvmpd_mark_going(struct vm_page **going, int *ngoing, struct vm_page *p,
    int n)
{
	int i;

	for (i = 0; i < *ngoing; i++)
		pmap_page_going(going[i], false);
	*ngoing = 0;
	for (; p != NULL && *ngoing < n; p = TAILQ_NEXT(p, pageq)) {
		if (pg_flags_load(p) & PG_BUSY)
			continue;
		pmap_page_going(p, true);
		going[(*ngoing)++] = p;
	}
	return p;
}

/*
 * uvmpd_scan: scan the page queues and attempt to meet our targets.
 *
 * => called with pageq's locked (dropped around the swapout hook and
 *    the pageouts)
 * => the pagedaemon's process
 */

void
uvmpd_scan(struct uvm_pmalloc *pma)
{
	int free, inactive_shortage, swap_shortage, pages_freed;
	struct vm_page *p, *nextpg, *going_end;
	struct vm_page *going[UVMPD_GOING];
	struct host_disk_plug plug;
	int ngoing = 0;
	krwlock_t *slock;
	uint32_t flags;

	MUTEX_ASSERT_LOCKED(&uvm.pageqlock);

	uvmexp_inc(pdrevs);		/* counter */

	/*
	 * [deviation] plug the swap devices for the pass, as Linux's
	 * reclaim does (blk_start_plug): the pageouts below go to the disk
	 * together at the end.  Here it matters more than for batching:
	 * while a controller thread runs, each host close the deactivation
	 * loop makes must shoot down that thread's CPU too (20-30 us more
	 * a close on this host, with the page queues held).  If we sleep,
	 * the plug goes at once (lwp_block), so nothing waits on it.
	 */
	host_disk_start_plug(&plug);

	/*
	 * get current "free" page count
	 */
	free = uvmexp_read(free) - BUFPAGES_DEFICIT;

	/* __HAVE_PMAP_COLLECT */
	/*
	 * swap out some processes if we are below our free target.
	 * we need to unlock the page queues for this.
	 */
	if (free < uvmexp.freetarg) {
		uvmexp_inc(pdswout);
		uvm_unlock_pageq();
		uvmpd_swapout_threads();
		uvm_lock_pageq();
	}

	/*
	 * now we want to work on meeting our targets.   first we work on our
	 * free target by converting inactive pages into free pages.  then
	 * we work on meeting our inactive target by converting active pages
	 * to inactive ones.
	 */

	pages_freed = uvmexp_read(pdfreed);
	(void) uvmpd_scan_inactive(pma, &uvm.page_inactive);
	pages_freed = uvmexp_read(pdfreed) - pages_freed;

	/*
	 * we have done the scan to get free pages.   now we work on meeting
	 * our inactive target.
	 */
	inactive_shortage = uvmexp.inactarg - uvmexp_read(inactive) -
	    BUFPAGES_INACT;

	/*
	 * detect if we're not going to be able to page anything out
	 * until we free some swap resources from active pages.
	 */
	free = uvmexp_read(free) - BUFPAGES_DEFICIT;
	swap_shortage = 0;
	if (free < uvmexp.freetarg &&
	    uvmexp_read(swpginuse) == uvmexp.swpages &&
	    !uvm_swapisfull() &&
	    pages_freed == 0) {
		swap_shortage = uvmexp.freetarg - free;
	}

	going_end = TAILQ_FIRST(&uvm.page_active);	/* nothing marked yet */
	for (p = TAILQ_FIRST(&uvm.page_active);
	     p != NULL && (inactive_shortage > 0 || swap_shortage > 0);
	     p = nextpg) {
		nextpg = TAILQ_NEXT(p, pageq);

		/*
		 * [deviation] the pages about to be deactivated are marked
		 * going a window at a time: the first one's
		 * pmap_page_protect closes the host mappings of its marked
		 * address neighbours in the same host call (a walk's pages
		 * sit on the queue in address order; scattered ones meet
		 * across the unmapped pages between them), and theirs then
		 * find nothing to close.  Only the queue lock keeps the
		 * window: nothing else moves active pages while we hold it.
		 */
		if (inactive_shortage > 0 && p == going_end)
			going_end = uvmpd_mark_going(going, &ngoing, p,
			    MIN(UVMPD_GOING, inactive_shortage));
		if (pg_flags_load(p) & PG_BUSY) {
			continue;
		}

		/*
		 * lock the page's owner.
		 */
		slock = uvmpd_trylockowner(p);
		if (slock == NULL) {
			continue;
		}

		/*
		 * skip this page if it's busy.
		 */
		flags = pg_flags_load(p);
		if ((flags & PG_BUSY) != 0) {
			rw_exit(slock);
			continue;
		}

		/*
		 * if there's a shortage of swap, free any swap allocated
		 * to this page so that other pages can be paged out.
		 */
		if (swap_shortage > 0) {
			if ((flags & PQ_ANON) && p->uanon->an_swslot) {
				uvm_swap_free(p->uanon->an_swslot, 1);
				p->uanon->an_swslot = 0;
				atomic_clearbits_int(&p->pg_flags, PG_CLEAN);
				swap_shortage--;
			}
			if (flags & PQ_AOBJ) {
				int slot = uao_set_swslot(p->uobject,
					(int)(p->offset >> PAGE_SHIFT), 0);
				if (slot > 0) {
					uvm_swap_free(slot, 1);
					atomic_clearbits_int(&p->pg_flags,
					    PG_CLEAN);
					swap_shortage--;
				}
			}
		}

		/*
		 * deactivate this page if there's a shortage of
		 * inactive pages.
		 */
		if (inactive_shortage > 0) {
			pmap_page_protect(p, PROT_NONE);
			/* no need to check wire_count as pg is "active" */
			uvm_pagedeactivate(p);
			uvmexp_inc(pddeact);
			inactive_shortage--;
		}

		/*
		 * we're done with this page.
		 */
		rw_exit(slock);
	}
	(void)uvmpd_mark_going(going, &ngoing, NULL, 0);	/* unmark */
	host_disk_finish_plug(&plug);
}

/*
 * uvmpd_drop: drop clean pages from list
 *
 * => no locks held; never sleeps
 * => [deviation] OpenBSD runs this with the other CPUs halted
 *    (hibernation) and walks the list unlocked, taking each object's
 *    lock and then the page queues.  Here threads run: we walk with the
 *    page queues held (so nextpg stays valid) and only try the object's
 *    lock (pageq -> object is the wrong order); a page whose object is
 *    busy stays.  PG_BUSY and PG_CLEAN are re-checked under the lock,
 *    and PG_CLEAN re-synced with the modified bit once the mappings are
 *    gone: an active page may have been written since it was cleaned.
 */
void
uvmpd_drop(struct pglist *pglst)
{
	struct vm_page *p, *nextpg;
	uint32_t flags;

	uvm_lock_pageq();
	for (p = TAILQ_FIRST(pglst); p != NULL; p = nextpg) {
		nextpg = TAILQ_NEXT(p, pageq);

		flags = pg_flags_load(p);
		if (flags & PQ_ANON || p->uobject == NULL)
			continue;

		if (flags & PG_BUSY)
			continue;

		if (flags & PG_CLEAN) {
			struct uvm_object * uobj = p->uobject;

			if (rw_enter(uobj->vmobjlock, RW_WRITE|RW_NOSLEEP))
				continue;
			/*
			 * we now have the page queues locked.
			 * the page is not busy.   if the page is clean we
			 * can free it now and continue.
			 */
			flags = pg_flags_load(p);
			if ((flags & (PG_CLEAN | PG_BUSY)) == PG_CLEAN) {
				/* zap all mappings with pmap_page_protect... */
				pmap_page_protect(p, PROT_NONE);
				if (pmap_is_modified(p)) {
					/* written since it was cleaned */
					atomic_clearbits_int(&p->pg_flags,
					    PG_CLEAN);
				} else {
					/* this page now lives only in swap */
					if (flags & PQ_SWAPBACKED) {
						KASSERT(uao_find_swslot(uobj,
						    (int)(p->offset >>
						    PAGE_SHIFT)) != 0);
						atomic_inc_int(
						    &uvmexp.swpgonly);
					}
					uvm_pagefree(p);
					__atomic_fetch_add(&uvmpd_ndropped, 1,
					    __ATOMIC_RELAXED);
				}
			}
			rw_exit(uobj->vmobjlock);
		}
	}
	uvm_unlock_pageq();
}

void
uvmpd_hibernate(void)
{
	uvmpd_drop(&uvm.page_inactive);
	uvmpd_drop(&uvm.page_active);
}

/*
 * Daemon control: start, stop, quiesce, hibernate.
 */

/*
 * uvm_pdaemon_init: the control lock.  => boot (uvm_init), single-threaded
 */
/*
 * [extension: FreeBSD's vm_lowmem event, not in the seed] Kernel caches
 * register a handler (EVENTHANDLER_REGISTER(vm_lowmem, ...)) that gives
 * memory back; the pagedaemon invokes them all when a pass starts under
 * a free-page shortage (after bufbackoff, before the scan: FreeBSD's
 * vm_pageout_scan invokes vm_lowmem, then uma_reclaim, before it scans),
 * at most once every UVM_LOWMEM_PERIOD simulated seconds (FreeBSD's
 * vm.lowmem_period).  Handlers are never removed; a slot is published
 * with a release store of its `ready' flag, so invoking takes no lock.
 */
#define UVM_LOWMEM_MAX		8
#define UVM_LOWMEM_PERIOD	10	/* seconds, FreeBSD's default */

static struct {
	void	(*fn)(void *);		/* [I] once ready */
	void	*arg;			/* [I] once ready */
	int	ready;			/* [a] */
} uvm_lowmem_handlers[UVM_LOWMEM_MAX];
static int uvm_lowmem_nslots;		/* [a] slots claimed */
static int uvm_lowmem_nevents;		/* [a] events invoked */

int
uvm_lowmem_register(void (*fn)(void *), void *arg)
{
	int i, n;

	n = __atomic_load_n(&uvm_lowmem_nslots, __ATOMIC_ACQUIRE);
	for (i = 0; i < n && i < UVM_LOWMEM_MAX; i++)
		if (__atomic_load_n(&uvm_lowmem_handlers[i].ready,
		    __ATOMIC_ACQUIRE) && uvm_lowmem_handlers[i].fn == fn &&
		    uvm_lowmem_handlers[i].arg == arg)
			return 0;	/* registered already (a reboot) */
	i = __atomic_fetch_add(&uvm_lowmem_nslots, 1, __ATOMIC_ACQ_REL);
	if (i >= UVM_LOWMEM_MAX)
		return ENOSPC;
	uvm_lowmem_handlers[i].fn = fn;
	uvm_lowmem_handlers[i].arg = arg;
	__atomic_store_n(&uvm_lowmem_handlers[i].ready, 1, __ATOMIC_RELEASE);
	return 0;
}

void
uvm_lowmem_invoke(void)
{
	int i, n;

	KASSERT(witness_nheld() == 0);
	__atomic_fetch_add(&uvm_lowmem_nevents, 1, __ATOMIC_RELAXED);
	n = MIN(__atomic_load_n(&uvm_lowmem_nslots, __ATOMIC_ACQUIRE),
	    UVM_LOWMEM_MAX);
	for (i = 0; i < n; i++)
		if (__atomic_load_n(&uvm_lowmem_handlers[i].ready,
		    __ATOMIC_ACQUIRE))
			uvm_lowmem_handlers[i].fn(uvm_lowmem_handlers[i].arg);
}

int
uvm_lowmem_count(void)
{
	return __atomic_load_n(&uvm_lowmem_nevents, __ATOMIC_RELAXED);
}

/*
 * uvmpd_lowmem: the pagedaemon's vm_lowmem event, rate-limited.
 * => the pagedaemon; no locks held; may sleep (the handlers)
 */
static void
uvmpd_lowmem(void)
{
	uint64_t now = getticks();

	if (pd.lowmem_last != 0 &&
	    (now + 1 - pd.lowmem_last) / (uint64_t)hz < UVM_LOWMEM_PERIOD)
		return;
	pd.lowmem_last = now + 1;
	uvm_lowmem_invoke();
}

void
uvm_pdaemon_init(void)
{
	if (!pd_lock_inited) {
		mutex_init_class(&pd_lock, MUTEX_DEFAULT, IPL_NONE, "pd_lock");
		pd_lock_inited = true;
	}
	KASSERT(!pd.running);
	memset(&pd, 0, sizeof(pd));
	uvm_nowait_failed = 0;
}

bool
uvm_pdaemon_running(void)
{
	bool running;

	mutex_enter(&pd_lock);
	running = pd.running;
	mutex_exit(&pd_lock);
	return running;
}

int
uvm_pdaemon_start(void)
{
	struct proc *pdp = NULL, *aiop = NULL;
	int error;

	KASSERT(pd_lock_inited);
	KASSERT(witness_nheld() == 0);
	mutex_enter(&pd_lock);
	KASSERTMSG(!pd.running, "uvm_pdaemon_start: already running");
	pd.started = 0;
	mutex_exit(&pd_lock);
	uvm_lock_fpageq();
	pd.stop = false;
	pd.quiesce = 0;
	uvm_unlock_fpageq();
	mtx_enter(&uvm.aiodoned_lock);
	pd.aiostop = false;
	mtx_leave(&uvm.aiodoned_lock);

	if ((error = proc_create("pagedaemon", &pdp)) != 0)
		return error;
	if ((error = proc_create("aiodoned", &aiop)) != 0) {
		proc_free(pdp);
		return error;
	}
	mutex_enter(&pdp->p_lock);
	pdp->p_flag |= P_SYSTEM;
	mutex_exit(&pdp->p_lock);
	mutex_enter(&aiop->p_lock);
	aiop->p_flag |= P_SYSTEM;
	mutex_exit(&aiop->p_lock);

	/* the aiodone daemon first: the pagedaemon's pageouts need it */
	error = lwp_create(aiop, "aiodoned", LW_SYSTEM, uvm_aiodone_daemon,
	    NULL, &pd.aiolwp);
	if (error != 0) {
		proc_free(pdp);
		proc_free(aiop);
		return error;
	}
	pd.aioproc = aiop;
	error = lwp_create(pdp, "pagedaemon", LW_SYSTEM, uvm_pageout, NULL,
	    &pd.pdlwp);
	if (error != 0) {
		proc_free(pdp);
		mutex_enter(&pd_lock);
		pd.running = true;	/* let stop reap the aiodone daemon */
		mutex_exit(&pd_lock);
		uvm_pdaemon_stop();
		return error;
	}
	pd.pdproc = pdp;

	/* both up: uvm.pagedaemon_proc and uvm.aiodoned_proc are set */
	mutex_enter(&pd_lock);
	while (pd.started < 2)
		msleep(&pd.started, &pd_lock, PVM, "pdstart", 0);
	pd.running = true;
	mutex_exit(&pd_lock);
	return 0;
}

void
uvm_pdaemon_stop(void)
{
	bool running;

	if (!pd_lock_inited)
		return;
	KASSERT(witness_nheld() == 0);
	mutex_enter(&pd_lock);
	running = pd.running;
	pd.running = false;
	mutex_exit(&pd_lock);
	if (!running)
		return;

	/* the pagedaemon: no new pageouts after this */
	if (pd.pdlwp != NULL) {
		uvm_lock_fpageq();
		pd.stop = true;
		wakeup(&uvm.pagedaemon);
		uvm_unlock_fpageq();
		lwp_join(pd.pdlwp);
		proc_free(pd.pdproc);
		pd.pdlwp = NULL;
		pd.pdproc = NULL;
	}

	/* the aiodone daemon, once the pageouts in flight are done */
	mtx_enter(&uvm.aiodoned_lock);
	pd.aiostop = true;
	wakeup(&uvm.aiodoned);
	mtx_leave(&uvm.aiodoned_lock);
	lwp_join(pd.aiolwp);
	proc_free(pd.aioproc);
	pd.aiolwp = NULL;
	pd.aioproc = NULL;
	KASSERT(uvmexp_read(paging) == 0);
}

void
uvm_pdaemon_quiesce(void)
{
	KASSERT(witness_nheld() == 0);
	uvm_lock_fpageq();
	pd.quiesce++;
	while (pd.inpass)
		msleep_nsec(&pd.inpass, &uvm.fpageqlock, PVM, "pdquiet",
		    MSEC_TO_NSEC(10));
	uvm_unlock_fpageq();

	/* out of any pass: every pageout it started is counted in paging */
	uvm_pageout_drain();
}

void
uvm_pageout_drain(void)
{
	KASSERT(witness_nheld() == 0);
	mtx_enter(&uvm.aiodoned_lock);
	while (uvmexp_read(paging) > 0 || pd.aiobusy ||
	    !TAILQ_EMPTY(&uvm.aio_done))
		msleep_nsec(&pd.aiobusy, &uvm.aiodoned_lock, PVM, "pddrain",
		    MSEC_TO_NSEC(10));
	mtx_leave(&uvm.aiodoned_lock);
}

void
uvm_pdaemon_resume(void)
{
	uvm_lock_fpageq();
	KASSERT(pd.quiesce > 0);
	if (--pd.quiesce == 0)
		wakeup(&uvm.pagedaemon);
	uvm_unlock_fpageq();
}

int
uvm_hibernate(void)
{
	int before;

	KASSERT(witness_nheld() == 0);
	/*
	 * Quiescing nests, so hibernations may overlap; the count is then
	 * shared between them (uvmpd_drop keeps the seed's signature).
	 */
	uvm_pdaemon_quiesce();
	before = __atomic_load_n(&uvmpd_ndropped, __ATOMIC_RELAXED);
	uvmpd_hibernate();
	before = __atomic_load_n(&uvmpd_ndropped, __ATOMIC_RELAXED) - before;
	uvm_pdaemon_resume();
	return before;
}
