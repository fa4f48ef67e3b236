/*
 * vm/vm_glue.h: the process half of FreeBSD's vm_glue.c (seed 001):
 * kernacc/useracc, vslock/vsunlock, kernel stacks (with their cache and
 * guard pages), the kernel-stack usage profile, vm_forkproc and
 * vm_waitproc.  The swapper half (vm_thread_swapout/swapin, faultin,
 * swapper, swapout_procs...) and the image-activation helpers are not
 * here yet.
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
 * Locks: kstack_cache_mtx (a kmutex) covers the cache list; kstacks and
 * max_kstack_used are atomic; kernel_map and the stack objects are
 * locked inside.  Order: kstack_cache_mtx is a leaf (no VM lock is taken
 * under it).
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

#endif /* VM_VM_GLUE_H */
