/*
 * vm/uvm_pdaemon.h: the page daemon and the aiodone daemon (seed:
 * OpenBSD uvm_pdaemon.c 1.105), and their control.
 *
 * Two system LWPs, each in its own system process so that `curproc ==
 * uvm.pagedaemon_proc` names the pagedaemon exactly as the seed does
 * (the page allocator lets it take the last pages; its pageouts are
 * B_PDAEMON bufs, counted in uvmexp.paging until the aiodone daemon
 * finishes them):
 *
 *  - uvm_pageout, the pagedaemon: sleeps on &uvm.pagedaemon until woken
 *    (uvm_wait, the page allocator below its targets, a pma request from
 *    uvm_pglistalloc, a failed UVM_PLA_NOWAIT allocation through
 *    uvm_nowait_failed); then backs the buffer cache off (bufbackoff),
 *    scans (uvmpd_scan: the inactive queue for pages to free or clean,
 *    the active queue for pages to deactivate) and wakes the waiters.
 *  - uvm_aiodone_daemon: finishes asynchronous pageouts that the disk
 *    threads queued on uvm.aio_done (uvm_aio_biodone).
 *
 * uvm_pdaemon_start() starts both (after the swap device is attached:
 * the scan reads uvmexp.swpages, fixed from then on) and returns once
 * they run; uvm_pdaemon_stop() stops the pagedaemon, waits for its
 * pageouts to complete, stops the aiodone daemon (the seed's loops run
 * "for ever": here they also end on a stop flag, checked where they
 * sleep).  Without them the VM runs as before: allocations that find no
 * memory fail (ENOMEM), nothing is paged out.
 *
 * Control state (the stop, quiesce and in-pass flags) is under
 * uvm.fpageqlock, the pagedaemon's own channel lock; the aiodone
 * daemon's stop flag under uvm.aiodoned_lock.
 */
#ifndef VM_UVM_PDAEMON_H
#define VM_UVM_PDAEMON_H

#include "uvm.h"

/*
 * UVMPD_NUMDIRTYREACTS: dirty pages the pagedaemon reactivates in one
 * pass through the inactive queue when swap is full (seed).
 */
#define UVMPD_NUMDIRTYREACTS	16

/*
 * uvm_nowait_failed: a UVM_PLA_NOWAIT allocation failed; the pagedaemon
 * should recover memory in the most restricted range (dma_constraint).
 * [f] set by uvm_pglistalloc, cleared by the pagedaemon.
 */
extern volatile int uvm_nowait_failed;

/* uvm_pdaemon_init: the daemons' control state.  => boot (uvm_init) */
void uvm_pdaemon_init(void);
/*
 * uvm_pdaemon_start: start the pagedaemon and the aiodone daemon, each
 * a system LWP in its own system process, and wait until both run.
 * => no locks held; may sleep; returns 0 or an errno (ENOMEM, EAGAIN)
 */
int uvm_pdaemon_start(void);
/*
 * uvm_pdaemon_stop: stop both daemons cleanly: the pagedaemon first
 * (its pending pma requests fail, uvm_wait sleepers are woken and find
 * no pagedaemon), then, once every pageout it started has completed,
 * the aiodone daemon.  A no-op when they do not run.
 * => no locks held; may sleep
 */
void uvm_pdaemon_stop(void);
/* uvm_pdaemon_running: have the daemons been started (and not stopped)? */
bool uvm_pdaemon_running(void);
/*
 * uvm_pdaemon_quiesce: stop the pagedaemon from scanning (it sleeps and
 * serves nothing until resumed) and wait until it is out of any pass and
 * every pageout it started has completed (uvmexp.paging == 0).  Nests.
 * uvm_pdaemon_resume: undo one quiesce and wake it.
 * => no locks held; may sleep
 */
void uvm_pdaemon_quiesce(void);
void uvm_pdaemon_resume(void);
/*
 * uvm_pageout_drain: wait until no pageout is in flight (uvmexp.paging
 * is 0) and the aiodone daemon has finished every completed one (its
 * pages are unbusied).  Pageouts the pagedaemon starts meanwhile are
 * waited for too.  => no locks held; may sleep
 */
void uvm_pageout_drain(void);
/*
 * uvm_hibernate: the harness's `hibernate` action: quiesce the
 * pagedaemon, drop every clean object page from RAM (uvmpd_hibernate:
 * they are in swap), resume.  Nothing is lost: a dropped page comes
 * back from swap on its next fault.  Returns the pages dropped.
 * => no locks held; may sleep; works with or without the daemons
 */
int uvm_hibernate(void);
/*
 * uvm_pdaemon_set_swapout: the hook uvmpd_scan calls when free memory is
 * below target (the seed's uvm_swapout_threads, __HAVE_PMAP_COLLECT).
 * NULL until the uvm_glue issue provides the swapper; uvmexp.pdswout
 * counts the attempts either way.
 * => the hook is called with no locks held and may sleep
 */
void uvm_pdaemon_set_swapout(void (*fn)(void));

/*
 * The "vm_lowmem" event [extension: FreeBSD's EVENTHANDLER vm_lowmem,
 * not in the seed]: when a pagedaemon pass starts under a free-page
 * shortage it calls every registered handler fn(arg) (at most once every
 * 10 simulated seconds), so that kernel caches give memory back
 * (vm_glue.c's kstack cache).
 * uvm_lowmem_register: add a handler (a second registration of the same
 *    fn and arg is ignored).  => 0, or ENOSPC (8 handlers at most)
 * uvm_lowmem_invoke: EVENTHANDLER_INVOKE(vm_lowmem): call them all now.
 *    => no locks held; may sleep (the handlers may)
 * uvm_lowmem_count: events invoked so far (tests, reports).
 */
int uvm_lowmem_register(void (*fn)(void *), void *arg);
void uvm_lowmem_invoke(void);
int uvm_lowmem_count(void);

/*
 * The seed's functions, under their own names.  Those that page out
 * (uvmpd_scan, uvmpd_scan_inactive) must run in the pagedaemon's
 * process (its LWP, or another LWP of uvm.pagedaemon_proc, as tests
 * do): the pageouts they start are B_PDAEMON bufs whose pages
 * uvmexp.paging counts.
 */
void uvm_pageout(void *arg);
void uvm_aiodone_daemon(void *arg);
/* uvmpd_tune: paging parameters from uvmexp.npages.  => page queues locked */
void uvmpd_tune(void);
/*
 * uvmpd_trylockowner: try the page's owner lock (object or anon).
 * => page queues locked: we lock in the wrong order (pageq -> owner),
 *    so we may only try; returns the lock, write-held, or NULL
 */
krwlock_t *uvmpd_trylockowner(struct vm_page *pg);
/* uvmpd_dropswap: free the page's swap slot, if any.  => owner locked */
void uvmpd_dropswap(struct vm_page *pg);
/*
 * uvmpd_scan_inactive: scan pglst (the inactive queue) for pages to
 * free or clean, until the free target is met (or pma is served).
 * => page queues locked on entry and on return (dropped around
 *    pageouts); the pagedaemon's process
 */
void uvmpd_scan_inactive(struct uvm_pmalloc *pma, struct pglist *pglst);
/*
 * uvmpd_scan: one revolution: free inactive pages, then deactivate
 * active ones for the inactive target and free swap for a swap shortage.
 * => page queues locked on entry and on return; the pagedaemon's process
 */
void uvmpd_scan(struct uvm_pmalloc *pma);
/*
 * uvmpd_drop: free the clean object pages of pglst (hibernate).
 * uvmpd_hibernate: uvmpd_drop the inactive, then the active queue.
 * => no locks held; never sleeps
 */
void uvmpd_drop(struct pglist *pglst);
void uvmpd_hibernate(void);

#endif /* VM_UVM_PDAEMON_H */
