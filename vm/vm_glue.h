/*
 * vm/vm_glue.h: the process half of FreeBSD's vm_glue.c (seed 001):
 * kernacc/useracc, vslock/vsunlock, kernel stacks (with their cache and
 * guard pages), the kernel-stack usage profile, vm_forkproc and
 * vm_waitproc; and the swapper half: vm_thread_swapout/swapin, faultin,
 * swapper, kick_proc0, swapout_procs, swapclear, swapout, with FreeBSD's
 * PHOLD/PRELE, a kernel-stack canary and a residency check for the
 * auditor.  The image-activation helpers are not here yet.
 *
 * FreeBSD's struct thread (td) is our struct lwp, its struct proc ours;
 * td_kstack, td_kstack_pages and td_kstack_obj are l_kstack,
 * l_kstack_pages and l_kstack_obj (host/lwp.h).
 *
 * A kernel stack is l_kstack_pages wired pages of an aobj (l_kstack_obj),
 * mapped read-write in kernel_map at [l_kstack, l_kstack + pages pages),
 * with KSTACK_GUARD_PAGES guard pages below it that are really unmapped:
 * a kernel_map entry with no access at all (protection and maximum
 * protection VM_PROT_NONE), so a touch traps, the fault is refused and
 * the trap panics naming the address as a kstack guard
 * (vm_kstack_guard_check).
 *
 * Swapping (FreeBSD's, by process): swapout marks every thread of a
 * process out of memory (l_flag LW_INMEM clear, p_flag P_INMEM clear,
 * P_SWAPPINGOUT while at work), then vm_thread_swapout unmaps and
 * unwires each kernel stack and puts its pages on the inactive queue,
 * where the pagedaemon may page them out through the aobj.  faultin
 * (P_SWAPPINGIN while at work) reads them back with vm_thread_swapin,
 * wires and maps them, and swapclear marks the threads in and queues
 * the runnable ones.  A thread woken while out (the host's lwp_unblock)
 * gets LW_SWAPINREQ and kicks the swapper (kick_proc0: install it with
 * host_set_kick_scheduler), which runs on a kernel thread and calls
 * faultin for the process that waited longest.
 *
 * Locks: kstack_cache_mtx (a kmutex) covers the cache list; kstacks and
 * max_kstack_used are atomic; kernel_map and the stack objects are
 * locked inside.  Order: kstack_cache_mtx is a leaf (no VM lock is taken
 * under it).  The swapper half: proc_lock (FreeBSD's allproc_lock, and
 * here p_lwps and p_stat) > p->p_lock (PROC_LOCK: p_flag, p_holdcnt,
 * p_swtick) > lwp_lock (thread_lock: l_flag, l_stat); swapout_procs
 * holds proc_lock and the process's map (tried) across swapout, which
 * takes the stack objects and the page queues.  swapper_mtx, a leaf,
 * covers the swapper's stop flag.  The tunables and counts are atomic.
 */
#ifndef VM_VM_GLUE_H
#define VM_VM_GLUE_H

#include "host/lwp.h"
#include "uvm_map.h"

/* rfork(2) flags, FreeBSD's values (sys/unistd.h) */
#define RFNAMEG		(1 << 0)	/* UNIMPL new plan9 `name space' */
#define RFENVG		(1 << 1)	/* UNIMPL copy plan9 `env space' */
#define RFFDG		(1 << 2)	/* copy fd table */
#define RFNOTEG		(1 << 3)	/* UNIMPL create new plan9 `note group' */
#define RFPROC		(1 << 4)	/* change child (else changes curproc) */
#define RFMEM		(1 << 5)	/* share `address space' */
#define RFNOWAIT	(1 << 6)	/* give child to init */
#define RFCNAMEG	(1 << 10)	/* UNIMPL zero plan9 `name space' */
#define RFCENVG		(1 << 11)	/* UNIMPL zero plan9 `env space' */
#define RFCFDG		(1 << 12)	/* close all fds, zero fd table */
#define RFTHREAD	(1 << 13)	/* enable kernel thread support */
#define RFSIGSHARE	(1 << 14)	/* share signal handlers */
#define RFLINUXTHPN	(1 << 16)	/* do linux clone exit parent notification */
#define RFSTOPPED	(1 << 17)	/* leave child in a stopped state */
#define RFHIGHPID	(1 << 18)	/* use a pid higher than 10 (idleproc) */
#define RFTSIGZMB	(1 << 19)	/* select signal for exit parent notification */
#define RFTSIGSHIFT	20		/* selected signal number is in bits 20-27 */
#define RFTSIGMASK	0xFF
#define RFPPWAIT	((int)(1u << 31)) /* parent sleeps until child exits (vfork) */

/* Kernel stacks (FreeBSD amd64's sizes). */
#define KSTACK_PAGES		4	/* pages of a default kernel stack */
#define KSTACK_MAX_PAGES	32	/* most pages vm_thread_new gives */
#define KSTACK_GUARD_PAGES	1	/* unmapped pages below each stack */

/*
 * A trap frame, as far as the stack profile needs one: where the
 * interrupted code was.  tf_usermode: it ran in user mode (its LWP is
 * not in the kernel: nothing of it is on the kernel stack); tf_sp: its
 * simulated kernel stack pointer (an address in its kernel stack).
 */
struct trapframe {
	int		tf_usermode;
	vaddr_t		tf_sp;
};
#define TRAPF_USERMODE(frame)	((frame)->tf_usermode != 0)

/*
 * vm_glue_init: boot-time setup: the kstack cache mutex (the seed's
 * MTX_SYSINIT), the guard object, an empty cache, and kstack_cache_init
 * (the seed's SYSINIT: the low-memory handler).  Call after uvm_init.
 * => single-threaded boot; may be called again after a new uvm_init
 */
void vm_glue_init(void);

/*
 * kernacc/useracc: is [addr, addr + len) mapped in kernel_map (useracc:
 * curproc's map) with at least rw (VM_PROT_*)?  Only the map entries are
 * checked, not the pages (the seed's warning).  A range that wraps or
 * ends past the map's maximum is refused.
 * => no map locked (read-locked inside); never sleeps for memory
 * => useracc: the caller is an LWP of a process with a vmspace
 */
int kernacc(void *addr, int len, int rw);
int useracc(void *addr, int len, int rw);

/*
 * vslock: wire [addr, addr + len) of curproc's map (faulting it in).
 * => 0; EINVAL when the range wraps; ENOMEM when it has more pages than
 *    uvmexp.wiredmax; EFAULT when wiring fails (a hole, an inaccessible
 *    entry, no memory), with nothing left wired
 * => curproc's map unlocked; may sleep
 * vsunlock: unwire what vslock wired (the same range).
 */
int vslock(void *addr, size_t len);
void vsunlock(void *addr, size_t len);

/*
 * vm_thread_new: a kernel stack of `pages` pages for td (<= 1:
 * KSTACK_PAGES; capped at KSTACK_MAX_PAGES), from the cache when it is
 * of the default size.  Its pages are resident, wired and writable.
 * => returns 1, or 0 when no kernel VA is left
 * => no VM locks held; may sleep (for memory)
 */
int vm_thread_new(struct lwp *td, int pages);
/*
 * vm_thread_dispose: take td's kernel stack away: into the cache (a
 * default-size stack, while there are no more than kstack_cache_size
 * stacks in all), or freed.  => td's stack is not in use; may sleep
 */
void vm_thread_dispose(struct lwp *td);

/*
 * vm_thread_stack_lowmem: the "vm_lowmem" handler: empty the kstack cache
 * and free its stacks (kstacks drops, their pages go back to the free
 * list).  kstack_cache_init: register it with the pagedaemon's low-memory
 * event (uvm_lowmem_register).  [deviation: static in the seed; public
 * so that vm_glue_init and the tests can name them]
 * => no VM locks held; may sleep
 */
void vm_thread_stack_lowmem(void *nulll);
void kstack_cache_init(void *nulll);

/*
 * intr_prof_stack_use: the clock interrupt's probe of how deep td's
 * kernel stack is (frame: where td was interrupted); keeps the maximum
 * in max_kstack_used.  => any thread; never sleeps, takes no lock
 */
void intr_prof_stack_use(struct lwp *td, struct trapframe *frame);

/*
 * The simulated kernel stack pointer (l_kstack_sp) of an LWP with a
 * kernel stack, which the clock's probe reads.  0 means "in user mode".
 * vm_kstack_enter: td enters the kernel (or a nested call): push a frame
 * of framesz bytes on td's kernel stack, in its memory, and return its
 * address (the caller may fill it); a push past the bottom writes into
 * the guard page, which traps and panics, as a real stack overflow does.
 * vm_kstack_leave: pop back to before the frame vm_kstack_enter gave.
 * => td is curlwp (its own stack; the clock only reads l_kstack_sp)
 */
void *vm_kstack_enter(struct lwp *td, size_t framesz);
void vm_kstack_leave(struct lwp *td, void *frame);

/*
 * vm_kstack_guard_check: if va (of kernel_map) is in a kernel stack's
 * guard, panic naming it ("kstack guard page ... touched"); otherwise
 * return.  The trap calls it when it refuses a kernel fault.
 * => no VM locks held (kernel_map is read-locked inside)
 */
void vm_kstack_guard_check(vaddr_t va, vm_prot_t access);

/*
 * vm_forkproc: fork's actions on an address space (see vm_glue.c).
 * td: the forking LWP (its process p1); p2, td2: the child (flags
 * without RFPROC: unused); vm2: the child's copy (uvmspace_fork of p1's)
 * when flags has RFPROC and not RFMEM, else unused (the caller frees it).
 * => 0, or the error of uvmspace_unshare (ENOMEM); may sleep
 */
int vm_forkproc(struct lwp *td, struct proc *p2, struct lwp *td2,
    struct vmspace *vm2, int flags);
/*
 * vm_waitproc: a reaped process's vmspace reference goes (the last
 * frees it); p->p_vmspace becomes NULL.  => may sleep
 */
void vm_waitproc(struct proc *p);

/* Sysctl-like accessors (vm.kstacks, vm.kstack_cache_size,
 * debug.max_kstack_used) and a count of the cache (tests). */
int vm_kstacks(void);
int vm_kstack_cache_size(void);
void vm_kstack_cache_size_set(int size);
int vm_kstack_cache_count(void);
int vm_max_kstack_used(void);

/* Kernel-stack counts for reports: made, reused from the cache, purged
 * by the lowmem handler; alive (cached ones too), cached; max used. */
struct vm_kstack_stats {
	uint64_t	ks_new;
	uint64_t	ks_reused;
	uint64_t	ks_purged;
	int		ks_live;
	int		ks_cached;
	int		ks_max_used;
};
void vm_kstack_stats(struct vm_kstack_stats *st);

/*
 * The swapper half (FreeBSD's vm_glue.c; see vm_glue.c for the
 * translations).  swapout_procs actions:
 */
#define VM_SWAP_NORMAL	1	/* memory is short: swap out what qualifies */
#define VM_SWAP_IDLE	2	/* swap out processes idle > threshold2 */

/*
 * vm_thread_swapout: unmap and unwire td's kernel stack; its pages go
 * dirty to the inactive queue (the pagedaemon may page them out).
 * vm_thread_swapin: bring them back (reading from swap those paged out),
 * wired and mapped; panics naming the LWP and page if a page cannot be
 * read (the seed's panic).  uvmexp.swapouts/swapins count the threads.
 * [deviation: static in the seed; public for tests]
 * => td has a kernel stack and is out of memory (LW_INMEM clear: it
 *    cannot run, nothing touches its stack); no VM lock held;
 *    vm_thread_swapin may sleep (busy pages, swap I/O, memory)
 */
void vm_thread_swapout(struct lwp *td);
void vm_thread_swapin(struct lwp *td);

/*
 * faultin: bring p in (all its threads' stacks; the runnable ones are
 * queued).  A faultin while another is at work (P_SWAPPINGIN) waits for
 * it (wmesg "faultin"); one while a swapout is at work waits for that
 * first.  => p->p_lock held on entry and return (dropped inside); no
 * other lock; may sleep
 */
void faultin(struct proc *p);
/*
 * swapper: the swapper's loop (FreeBSD's proc0): brings in the swapped
 * process whose runnable thread waited longest; sleeps on &proc0
 * ("swapin", MAXSLP * hz / 2 ticks) when there is none.  With idle
 * swapping on it calls swapout_procs(VM_SWAP_IDLE) about once a
 * simulated second.  Returns after vm_swapper_stop.
 * => run it on a kernel thread (kthread_create); no locks held
 */
void swapper(void);
/* kick_proc0: wake the swapper (the host's kick hook).  => any thread */
void kick_proc0(void);
/*
 * swapout_procs: swap out every process that qualifies for action
 * (VM_SWAP_NORMAL, VM_SWAP_IDLE): not P_SYSTEM, held, exiting, traced or
 * being swapped; every thread sleeping (not on a lock) for at least
 * swap_idle_threshold1 seconds, none real-time; for VM_SWAP_IDLE alone,
 * every thread asleep longer than swap_idle_threshold2.
 * => no locks held; may sleep
 */
void swapout_procs(int action);
/*
 * swapclear: mark p and its threads in memory, queue those runnable.
 * swapout: swap p out; EBUSY (nothing changed: swapclear) if a thread is
 * not safe to swap out (on a CPU, runnable, waiting for a lock, no kernel
 * stack).  [deviation: static in the seed; public for tests]
 * => swapclear: p->p_lock held.  swapout: proc_lock and p->p_lock held
 *    (p_lock dropped and retaken inside), p P_INMEM and not being
 *    swapped, no VM lock held but p's map
 */
void swapclear(struct proc *p);
int swapout(struct proc *p);

/*
 * FreeBSD's PHOLD (p_lock not held) and _PHOLD (held): p_holdcnt++, and
 * bring p in if it is out (faultin: may sleep); PRELE/_PRELE drop it.
 */
void vm_phold(struct proc *p);
void vm_phold_locked(struct proc *p);
void vm_prele(struct proc *p);
void vm_prele_locked(struct proc *p);
#define PHOLD(p)	vm_phold(p)
#define _PHOLD(p)	vm_phold_locked(p)
#define PRELE(p)	vm_prele(p)
#define _PRELE(p)	vm_prele_locked(p)

/*
 * vm_thread_check: check td's kernel-stack canary (KSTACK_NCANARY words
 * at the bottom of the stack, written by vm_thread_new): panic naming the
 * LWP (pid.lid and name), the stack, the bad word's offset, its value,
 * the value wanted, and `when' (e.g. "run").  Nothing if td has no
 * stack.  For the host's run hook, each time td gets a CPU.
 * => never sleeps, takes no lock, never faults: td in memory (LW_INMEM)
 */
void vm_thread_check(struct lwp *td, const char *when);
/*
 * vm_thread_resident: is every page of td's kernel stack in its object,
 * wired and mapped in pmap_kernel at its address to that very page?
 * false with a one-line reason in why (len bytes) otherwise; true for an
 * LWP without a kernel stack.  For the auditor.
 * => no lock held (the object is read-locked inside); meaningful only
 *    while td is in memory and not being swapped
 */
bool vm_thread_resident(struct lwp *td, char *why, size_t len);

/*
 * The swapper's sysctls: vm.swap_idle_threshold1 (seconds in memory a
 * process is guaranteed, default 2), vm.swap_idle_threshold2 (seconds
 * idle before an idle swapout, default 10); idle swapping (off by
 * default).
 */
int vm_swap_idle_threshold1(void);
void vm_swap_idle_threshold1_set(int secs);
int vm_swap_idle_threshold2(void);
void vm_swap_idle_threshold2_set(int secs);
void vm_swap_idle_enabled_set(bool on);
/*
 * vm_swapper_stop: make swapper() return (now if it sleeps, else at its
 * next loop).  vm_swapper_reset: allow a new swapper() (vm_glue_init
 * does it at boot).  => no lock held
 */
void vm_swapper_stop(void);
void vm_swapper_reset(void);

/* Swap counts for reports (uvmexp.swapouts/swapins count threads). */
struct vm_swap_stats {
	uint64_t	vs_proc_swapouts;	/* processes swapped out */
	uint64_t	vs_proc_swapins;	/* processes swapped in */
	uint64_t	vs_busy;		/* swapouts refused (EBUSY) */
	uint64_t	vs_faultin_waits;	/* a faultin waited for another */
	uint64_t	vs_idle_swapouts;	/* by VM_SWAP_IDLE alone */
	uint64_t	vs_pages_in;		/* kstack pages read from swap */
};
void vm_swap_stats(struct vm_swap_stats *st);

#endif /* VM_VM_GLUE_H */
