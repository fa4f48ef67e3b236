/*
 * vm/kern_proc.h: the process system calls around the glue seeds.
 *
 * What NetBSD's kern_fork.c, kern_lwp.c and kern_exit.c (FreeBSD's
 * kern_fork.c, kern_thread.c, kern_exit.c) do around the VM's glue, kept
 * to the VM's part: fork1 (a new process whose address space is a copy or
 * a share of the parent's), LWP creation with a u-area (NetBSD) or a
 * kernel stack (FreeBSD), exit and the parent's reap.  Which glue runs is
 * chosen once at boot (--glue): the two seeds are two kernels' answers to
 * the same calls, and a run uses one kernel.
 *
 *	NetBSD (000 uvm_glue.c)	FreeBSD (001 vm_glue.c)
 * fork	uvm_proc_fork		uvmspace_fork (fork1's vmspace_fork) then
 *				vm_forkproc(RFPROC [| RFMEM])
 * lwp	uvm_lwp_create		lwp_alloc, vm_thread_new, cpu_lwp_fork
 *	(u-area, uvm_lwp_fork)
 * join	uvm_lwp_exit		vm_thread_dispose
 *	(the host's free hook)
 * exit	uvm_proc_exit		(the vmspace stays until the reap)
 * reap	proc_free		vm_waitproc, proc_free
 *
 * The uvmexp counters forks, forks_ppwait and forks_sharevm are counted
 * here, where NetBSD's fork1 counts them.
 */
#ifndef VM_KERN_PROC_H
#define VM_KERN_PROC_H

#include <stdbool.h>

#include <stdint.h>

#include "host/lwp.h"

enum uvm_glue_kind {
	UVM_GLUE_NETBSD = 0,
	UVM_GLUE_FREEBSD = 1,
};

/* kern_set_glue: the glue of this run.  => at boot, before any LWP */
void kern_set_glue(enum uvm_glue_kind kind);
enum uvm_glue_kind kern_glue(void);
const char *kern_glue_name(enum uvm_glue_kind kind);

/* fork1 flags (NetBSD's FORK_* meanings) */
#define KFORK_SHAREVM	0x1	/* share the address space (vfork, RFMEM) */
#define KFORK_PPWAIT	0x2	/* the parent waits for the child (vfork) */

/*
 * kern_fork: a new process p2 of p1, named name, with p1's address space
 * copied by its inheritance values or (KFORK_SHAREVM) shared, and its
 * first LWP running fn(arg) (*l2p; reap it with kern_lwp_join, then the
 * process with kern_reap).  KFORK_PPWAIT is only counted: the caller
 * does the waiting (it knows what it waits for).
 * => curlwp is an LWP of p1 (fork is a system call of the forker)
 * => may sleep; 0, or ENOMEM (no process, LWP, u-area, kernel stack or
 *    address space: nothing is left behind), or the host's thread error
 */
int kern_fork(struct proc *p1, int flags, const char *name,
    void (*fn)(void *), void *arg, struct proc **p2p, struct lwp **l2p);

/*
 * kern_lwp_create: an LWP of p running fn(arg), with its u-area or kernel
 * stack, by the glue.  kern_lwp_join waits for it to exit and frees it.
 * => may sleep; 0, ENOMEM, or the host's thread error
 */
int kern_lwp_create(struct proc *p, const char *name, void (*fn)(void *),
    void *arg, struct lwp **lp);
void kern_lwp_join(struct lwp *l);

/*
 * kern_exit: p's last LWP leaves (curlwp is of p): NetBSD frees the
 * address space now (uvm_proc_exit), FreeBSD at the reap.
 * => may sleep
 */
void kern_exit(struct proc *p);
/*
 * kern_reap: the parent reaps p (every LWP joined): FreeBSD's
 * vm_waitproc, then the process itself.  => may sleep
 */
void kern_reap(struct proc *p);

/*
 * kern_vslock/kern_vsunlock: wire [addr, addr + len) of curproc's space
 * for I/O by the glue (uvm_vslock / vslock); the error as the seed
 * returns it.  kern_useracc/kern_kernacc: the access checks (uvm_kernacc;
 * useracc and kernacc).  => may sleep
 */
int kern_vslock(vaddr_t addr, size_t len, vm_prot_t access);
void kern_vsunlock(vaddr_t addr, size_t len);
bool kern_useracc(vaddr_t addr, size_t len, vm_prot_t access);
bool kern_kernacc(vaddr_t addr, size_t len, vm_prot_t access);

/*
 * Counts for reports: processes forked and reaped here (the harness's
 * root processes are not), alive now and at most; u-areas handed out
 * (uvm_uarea_alloc) and constructed (wired anew), cached now; kernel
 * stacks handed out and made anew, cached now, purged on low memory;
 * the deepest kernel stack the clock saw (bytes); lowmem events.
 */
struct kern_proc_stats {
	uint64_t	kp_forked, kp_reaped;
	int		kp_live, kp_peak;
	uint64_t	kp_uareas, kp_uareas_made, kp_uareas_cached;
	uint64_t	kp_kstacks, kp_kstacks_made, kp_kstacks_cached;
	uint64_t	kp_kstacks_purged;
	int		kp_max_kstack_used;
	int		kp_lowmem_events;
};
void kern_proc_stats(struct kern_proc_stats *st);

/*
 * The swapper (--swapper).  Its policy is a kernel's, so it follows the
 * glue: NetBSD's swaps LWPs (their u-areas: uvm_swapout_threads from the
 * pagedaemon, uvm_scheduler as proc0), FreeBSD's whole processes (their
 * threads' kernel stacks: swapout_procs from the pagedaemon, swapper as
 * proc0).  KERN_SWAPPER_OFF: no swapper (nothing is ever swapped out).
 */
enum kern_swapper_kind {
	KERN_SWAPPER_OFF = 0,
	KERN_SWAPPER_NETBSD = 1,
	KERN_SWAPPER_FREEBSD = 2,
};
/*
 * kern_set_swapper: the swapper of this run (its kind must be OFF or
 * the glue's).  kern_swap_tune: the tunables (NetBSD's maxslp; FreeBSD's
 * swap_idle_threshold1/2, seconds, and whether idle processes are swapped
 * out: vm.swap_idle_enabled).  => at boot, before kern_swapper_start
 */
void kern_set_swapper(enum kern_swapper_kind kind);
enum kern_swapper_kind kern_swapper(void);
const char *kern_swapper_name(enum kern_swapper_kind kind);
void kern_swap_tune(int maxslp, int idle_threshold1, int idle_threshold2,
    bool idle_enabled);
/*
 * kern_swapper_start: start proc0's swapper thread and let the
 * pagedaemon and wakeups reach it (the pagedaemon's swap-out hook, the
 * host's kick).  => after uvm_pdaemon_start; may sleep; 0 or an errno
 * kern_swapper_stop: unhook and stop it.  => every LWP that could be
 * swapped out has been joined (a swapped-out LWP needs the swapper to
 * run again); before uvm_pdaemon_stop; may sleep
 */
int kern_swapper_start(void);
void kern_swapper_stop(void);
bool kern_swapper_running(void);

/*
 * kern_lwp_hold/kern_lwp_rele: keep l in memory, bringing it in first if
 * it is out (NetBSD: uvm_lwp_hold of the LWP; FreeBSD: PHOLD of its
 * process), as ptrace or /proc do before reading an LWP's kernel state.
 * => l stays alive across the hold (the caller sees to it); may sleep
 */
void kern_lwp_hold(struct lwp *l);
void kern_lwp_rele(struct lwp *l);
/* kern_lwp_inmem: is l in memory (LW_INMEM)? */
bool kern_lwp_inmem(struct lwp *l);
/*
 * kern_lwp_swapin_wanted: is l runnable but out of memory, waiting for
 * the swapper (woken while out)?  => takes lwp_lock
 */
bool kern_lwp_swapin_wanted(struct lwp *l);
/*
 * kern_lwp_resident: the auditor's check of an in-memory LWP: its u-area
 * or kernel stack is resident, wired and mapped.  false, with a one-line
 * reason in why, if not.  => l in memory and held (not being swapped)
 */
bool kern_lwp_resident(struct lwp *l, char *why, size_t len);
/*
 * kern_lwp_check: check l's canary (u-area or kernel stack) now; panics
 * naming l if it is bad.  => l in memory and held
 */
void kern_lwp_check(struct lwp *l);

/* Swapper counts for reports. */
struct kern_swap_stats {
	uint64_t	ks_swapouts;	/* LWPs swapped out (uvmexp) */
	uint64_t	ks_swapins;	/* LWPs swapped in (uvmexp) */
	uint64_t	ks_pdswout;	/* pagedaemon calls to the swapper */
	uint64_t	ks_proc_swapouts; /* FreeBSD: processes out */
	uint64_t	ks_proc_swapins;  /* FreeBSD: processes in */
	uint64_t	ks_busy;	/* FreeBSD: swapout refused (EBUSY) */
	uint64_t	ks_faultin_waits; /* FreeBSD: a faultin waited */
	uint64_t	ks_pages_in;	/* u-area/kstack pages read from swap */
	int		ks_out_now;	/* LWPs out of memory now */
	int		ks_out_peak;	/* most at once (sampled) */
};
void kern_swap_stats(struct kern_swap_stats *st);

#endif /* VM_KERN_PROC_H */
