/*
 * vm/uvm_glue.h: glue between the VM and processes (the seed: NetBSD
 * uvm_glue.c 1.133, 2008): kernel access checks, wiring user memory for
 * I/O, address spaces at fork and exit, u-areas, process limits.
 *
 * The u-area.  Every LWP made by uvm_lwp_create has one: USPACE bytes of
 * pageable kernel memory (uvm.kernel_object) mapped in kernel_map,
 * allocated from a pool_cache of wired u-areas (uvm_uarea_alloc), wired
 * while the LWP is in memory (LW_INMEM; the swapper will unwire it and
 * let the pagedaemon page it out), returned to the cache when the LWP is
 * reaped (uvm_lwp_exit, through the host's LWP free hook: uvm_uarea_init
 * installs one, the harness's kern_set_glue its own).  l->l_addr
 * points at it ([s] l_swaplock).  Kernel threads (kthread_create) and
 * lwp_create's LWPs have none (l_addr NULL).
 *
 * Layout (USPACE = 2 pages = 8 KiB: a PCB and a small kernel stack, as
 * on NetBSD's smaller ports; our LWPs run on their host threads' stacks,
 * so the stack part only carries the canary):
 *
 *	0			struct upcb: the "PCB" (whose the u-area is,
 *				how often its canary was checked)
 *	UAREA_GUARD_LO		UAREA_NGUARD guard words: the kernel stack's
 *				overflow end (where NetBSD's KSTACK_CHECK_MAGIC
 *				looks)
 *	...			the kernel stack (not used)
 *	USPACE - UAREA_NGUARD*8	UAREA_NGUARD guard words: the very top
 *
 * The canary: guard word w at address a holds uarea_magic(l, a) = a
 * constant ^ a ^ the LWP's address, written by uvm_lwp_fork when the LWP
 * gets the u-area and checked on the LWP's own thread each time it gets
 * a CPU (the host's run hook), and once more when it is reaped.  Only the
 * 2 x UAREA_NGUARD guard words and upcb_lwp are checked (cheap: it runs
 * on every switch).  A bad word is a panic naming the LWP, the u-area
 * and the first bad word.  Because the pattern includes the LWP, a
 * u-area handed to two LWPs at once is caught too.
 */
#ifndef VM_UVM_GLUE_H
#define VM_UVM_GLUE_H

#include "host/cpu.h"
#include "host/lwp.h"
#include "host/pool.h"
#include "uvm_map.h"

#define USPACE_PAGES	2
#define USPACE		(USPACE_PAGES * PAGE_SIZE)	/* u-area size */
#define USPACE_ALIGN	0		/* uvm_km_alloc's: page alignment */

/* NetBSD's struct user lives at UAREA_USER_OFFSET into the u-area. */
#define UAREA_USER_OFFSET	0
#define USER_TO_UAREA(user)	((vaddr_t)(user) - UAREA_USER_OFFSET)
#define UAREA_TO_USER(uarea)	((void *)((vaddr_t)(uarea) + UAREA_USER_OFFSET))

/* The u-area's "PCB", at its start.  [o] the LWP's own thread. */
struct upcb {
	const struct lwp	*upcb_lwp;	/* whose (set by uvm_lwp_fork) */
	uint64_t		upcb_nswitch;	/* [a] canary checks so far */
};

#define UAREA_NGUARD	8		/* guard words at each end */
#define UAREA_GUARD_LO	64		/* byte offset of the low guard */
#define UAREA_GUARD_HI	(USPACE - UAREA_NGUARD * sizeof(uint64_t))
#define UAREA_MAGIC	0x5ca1ab1e0ddba11ull

/*
 * Default and maximum data and stack sizes (NetBSD's MD vmparam.h
 * DFLDSIZ/MAXDSIZ/DFLSSIZ/MAXSSIZ; maxdmap/maxsmap are param.c's
 * variables).  Sized for our machine: i386's stack sizes (2 MiB, 64
 * MiB), a default data size of 256 MiB as i386's and a maximum of 1 GiB,
 * a quarter of the default 4 GiB user window (--user-va).
 */
#define DFLSSIZ		((rlim_t)2 << 20)
#define MAXSSIZ		((rlim_t)64 << 20)
#define DFLDSIZ		((rlim_t)256 << 20)
#define MAXDSIZ		((rlim_t)1 << 30)

/*
 * uvm_kernacc: may the kernel access [addr, addr + len) (rw: B_READ or
 * B_WRITE)?  => kernel_map unlocked (read-locked inside); may sleep
 */
bool uvm_kernacc(void *addr, size_t len, int rw);
/*
 * uvm_chgkprot: force the pmap protection of kernel pages (B_READ: read
 * only, else read/write), as a debugger planting a breakpoint does.
 * Panics on a page that is not mapped.  => never sleeps
 */
void uvm_chgkprot(void *addr, size_t len, int rw);
/*
 * uvm_vslock: fault in and wire user memory for I/O.
 * => vs's map unlocked; may sleep; 0 or uvm_fault_wire's error (EFAULT:
 *    a hole, EACCES: protection, ENOMEM), with nothing left wired
 */
int uvm_vslock(struct vmspace *vs, void *addr, size_t len,
    vm_prot_t access_type);
/* uvm_vsunlock: unwire what uvm_vslock wired.  => may sleep */
void uvm_vsunlock(struct vmspace *vs, void *addr, size_t len);
/*
 * uvm_proc_fork: give p2 an address space: p1's (shared) or a copy by
 * inheritance (uvmspace_fork).
 * => may sleep; 0, or ENOMEM (p2->p_vmspace NULL) [deviation: void]
 */
int uvm_proc_fork(struct proc *p1, struct proc *p2, bool shared);
/*
 * uvm_lwp_fork: wire l2's u-area if it is not in memory, write its
 * canary, and start it running func(arg) (cpu_lwp_fork).
 * => l2 from lwp_alloc with l_addr set; may sleep; 0 or cpu_lwp_fork's
 *    error (the host had no thread) [deviation: void]
 */
int uvm_lwp_fork(struct lwp *l1, struct lwp *l2, void *stack,
    size_t stacksize, void (*func)(void *), void *arg);
/* uvm_uarea_init: the u-area cache, the host's LWP hooks.  => at boot */
void uvm_uarea_init(void);
/*
 * uvm_uarea_alloc: a u-area at *uaddrp; true: it is wired (always, as
 * the cache constructs wired ones).  [deviation] *uaddrp is 0 (and false
 * is returned) when none could be had.  => may sleep
 */
bool uvm_uarea_alloc(vaddr_t *uaddrp);
/* uvm_uarea_free: a wired u-area back to the cache (ci unused). */
void uvm_uarea_free(vaddr_t uaddr, struct cpu_info *ci);
/*
 * uvm_proc_exit: p's last LWP (curlwp) gives up p's address space,
 * borrowing proc0's.  => may sleep; curlwp is an LWP of p
 */
void uvm_proc_exit(struct proc *p);
/* uvm_lwp_exit: free l's u-area (l reaped: no thread).  => may sleep */
void uvm_lwp_exit(struct lwp *l);
/* uvm_init_limits: p's (proc0's) default VM limits. */
void uvm_init_limits(struct proc *p);

/*
 * The swapper (the seed's swapper half).  Swapped out means: LW_INMEM is
 * clear, the u-area unwired (the pagedaemon may page it out) and the LWP
 * off the run queue; the host never gives such an LWP a CPU.  A wakeup
 * leaves it LSRUN and kicks the scheduler (the host's kick hook is
 * uvm_kick_scheduler), which wires the u-area back (reading it from
 * swap), queues the LWP and sets LW_INMEM; the run hook then checks the
 * canary before the LWP runs.
 *
 * Locks: proc_lock > l_swaplock > lwp_lock; uvm.scheduler_mutex is a
 * leaf.  maxslp: seconds asleep after which an LWP is a "dud" the
 * pagedaemon swaps out (MAXSLP, NetBSD's default; set at boot only).
 */
#define MAXSLP		20
extern int maxslp;
/*
 * uvm_swapin: wire l's u-area back and let it run.  Panics if the
 * u-area cannot be read back (the seed's "rewiring stack failed").
 * => l_swaplock held; l != curlwp; may sleep
 */
void uvm_swapin(struct lwp *l);
/* uvm_kick_scheduler: wake the scheduler if it runs.  => any thread */
void uvm_kick_scheduler(void);
/*
 * uvm_scheduler: the swapper (proc0's main loop): swaps in the runnable,
 * swapped-out LWP of highest priority while memory allows, else waits for
 * the pagedaemon.  => on its own kernel thread; returns after
 * uvm_scheduler_stop [deviation: the seed's never returns]
 */
void uvm_scheduler(void);
/*
 * uvm_scheduler_start: arm the swapper (kicks reach it) before its thread
 * runs uvm_scheduler; uvm_scheduler_stop: make it return.
 */
void uvm_scheduler_start(void);
void uvm_scheduler_stop(void);
/*
 * uvm_swapout_threads: the pagedaemon's call when memory is short: swap
 * out every LWP asleep for maxslp seconds or more, or, with almost no
 * memory left, the longest sleeper (else the longest resident runnable
 * one).  => no locks held; may sleep
 */
void uvm_swapout_threads(void);
/*
 * uvm_lwp_hold: keep l in memory (bringing it in first if it is out);
 * uvm_lwp_rele: let it go again.  => hold: may sleep; l must stay alive
 */
void uvm_lwp_hold(struct lwp *l);
void uvm_lwp_rele(struct lwp *l);
/*
 * uvm_swapin_locks: the locks the calling thread holds for a swap-in
 * (its LWP's l_swaplock, across uvm_swapin's wiring, which may wait for
 * memory): uvm_wait allows those.  0 outside uvm_swapin.
 */
int uvm_swapin_locks(void);
/* uvm_uarea_pages_in: u-area pages swap-ins found paged out (reports) */
uint64_t uvm_uarea_pages_in(void);
/* uvm_lwp_inmem: is l in memory (LW_INMEM)?  => takes lwp_lock */
bool uvm_lwp_inmem(struct lwp *l);
/*
 * uvm_uarea_resident: is l's u-area resident, wired and mapped (the
 * auditor's check of an in-memory LWP)?  false with a reason in why.
 * => l in memory and held; takes kernel_object's lock
 */
bool uvm_uarea_resident(struct lwp *l, char *why, size_t len);

/*
 * uvm_lwp_create: what NetBSD's kern_lwp.c lwp_create does around these:
 * an LWP of p with a u-area (uvm_uarea_alloc, lwp_alloc, l_addr,
 * uvm_lwp_fork(curlwp, l2, NULL, 0, fn, arg)), running fn(arg).  Its
 * teardown is lwp_join(l): when it reaps the LWP the host's free hook
 * calls uvm_lwp_exit, which checks the canary a last time and returns the
 * u-area to the cache.
 * => may sleep; 0, ENOMEM (no u-area or LWP), or the host's thread error
 */
int uvm_lwp_create(struct proc *p, const char *name, void (*fn)(void *),
    void *arg, struct lwp **lp);

/*
 * uvm_uarea_check: check l's canary (if l has a u-area); panic if it is
 * bad.  The host's run hook.  => on l's thread, holding a CPU; never
 *    sleeps, takes no lock
 */
void uvm_uarea_check(struct lwp *l);
/* The u-area cache's statistics (tests, reports). */
void uvm_uarea_stats(struct pool_cache_stats *st);
/*
 * uvm_uarea_drain: give cached u-areas back to kernel_map (the cache's
 * depot and this CPU's cache, then the pool's free pages: a low-memory
 * pool drain).  => may sleep; returns the u-areas unmapped
 */
int uvm_uarea_drain(void);

#endif /* VM_UVM_GLUE_H */
