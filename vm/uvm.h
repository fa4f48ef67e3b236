/*
 * vm/uvm.h: the VM's global state and its one lock order.
 *
 * Lock order, outermost first (docs/locking.md keeps the full table):
 *
 *	proc_lock > l_swaplock > lwp_lock
 *	map > amap (= anon) > object > uvm.pageqlock > uvm.fpageqlock
 *	    > pmap > pvh > uvm.aiodoned_lock > swap data lock
 *
 * The pagedaemon holds the page queues and only *tries* an owner's lock
 * (uvmpd_trylockowner): that is the one sanctioned reversal.
 *
 * Lock legend used in vm/ headers:
 *	[I] immutable	[a] atomic	[m] map lock	[o] owner (object or
 *	amap) lock	[q] uvm.pageqlock	[f] uvm.fpageqlock
 *	[s] swap data lock	[l] lwp lock
 * PG_* flags are [o], PQ_* flags are [q], as in BSD.
 */
#ifndef VM_UVM_H
#define VM_UVM_H

#include "host/buf.h"
#include "host/condvar.h"
#include "host/lwp.h"
#include "host/mutex.h"
#include "host/rwlock.h"
#include "host/sleepq.h"
#include "uvm_page.h"
#include "uvmexp.h"

struct uvm_object;
struct uvm_pmalloc;
TAILQ_HEAD(uvm_pmalloc_head, uvm_pmalloc);

/* A physical allocation the pagedaemon is asked to make room for. */
struct uvm_pmalloc {
	TAILQ_ENTRY(uvm_pmalloc) pmq;		/* [f] */
	struct uvm_constraint_range pm_constraint; /* [I] */
	psize_t			pm_size;	/* [I] bytes */
	int			pm_flags;	/* [f] UVM_PMA_* */
};
#define UVM_PMA_LINKED	0x01	/* on pmr_control.allocs */
#define UVM_PMA_BUSY	0x02	/* the pagedaemon works on it */
#define UVM_PMA_FREED	0x20	/* pages were freed for it */
#define UVM_PMA_FAIL	0x10

struct uvm {
	/* page queues */
	struct pglist		page_active;	/* [q] */
	struct pglist		page_inactive;	/* [q] */
	kmutex_t		pageqlock;	/* spin, IPL_VM */
	/* free lists, by range: [0] the DMA range, [1] the rest */
#define UVM_NFREELIST	2
#define UVM_FREELIST_DMA	0
#define UVM_FREELIST_DEFAULT	1
	struct pglist		page_free[UVM_NFREELIST]; /* [f] */
	kmutex_t		fpageqlock;	/* spin, IPL_VM */
	struct {
		struct uvm_pmalloc_head allocs;	/* [f] pma requests */
	} pmr_control;

	/* the pagedaemon and aiodone daemon */
	int			pagedaemon;	/* wait channel */
	struct proc		*pagedaemon_proc;
	int			aiodoned;	/* wait channel */
	struct proc		*aiodoned_proc;
	kmutex_t		aiodoned_lock;
	TAILQ_HEAD(, buf)	aio_done;	/* [aiodoned_lock] */

	/* the swapper */
	bool			swap_running;	/* [scheduler_mutex] */
	bool			scheduler_kicked; /* [scheduler_mutex] */
	kcondvar_t		scheduler_cv;
	kmutex_t		scheduler_mutex;

	/* kernel objects */
	struct uvm_object	*kernel_object;
	bool			page_init_done;
};

extern struct uvm uvm;

/*
 * uvm_init: boot the VM on a booted machine (host_boot): pages, pools,
 * kernel map and objects, the trap hook.  => single-threaded
 */
void uvm_init(void);
/* uvm_shutdown: undo uvm_init (tests, the end of a run). */
void uvm_shutdown(void);

/*
 * uvm_wait: sleep until the pagedaemon frees memory.  => no locks held.
 * Before the pagedaemon exists (issue 3), it sleeps briefly and returns;
 * callers retry or fail.
 */
void uvm_wait(const char *wmsg);

#endif /* VM_UVM_H */
