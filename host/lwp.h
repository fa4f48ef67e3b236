/*
 * host/lwp.h: processes and LWPs, NetBSD style.
 *
 * Each LWP is a real pthread (struct host_thread) that holds a simulated
 * CPU while it runs.  State and flags follow NetBSD: l_stat LSIDL, LSRUN
 * (runnable: on the run queue if in memory), LSONPROC (on a CPU), LSSLEEP,
 * LSSTOP, LSZOMB; l_flag LW_INMEM (its u-area is resident: it may run),
 * LW_SYSTEM (a kernel thread, never swapped), LW_WEXIT (exiting).
 * FreeBSD's process flags P_INMEM, P_SWAPPINGIN, P_SWAPPINGOUT live in
 * p_flag and describe the same machine for the FreeBSD seed.
 *
 * Lock legend:
 *	[I] immutable after creation
 *	[p] proc_lock
 *	[P] p_lock of the process
 *	[s] l_swaplock
 *	[l] lwp_lock(l) (l_lock, a spin mutex at IPL_SCHED)
 *	[a] atomic
 *	[o] the LWP itself (only its own thread touches it)
 *
 * Order: proc_lock > l_swaplock > lwp_lock > (run queue, host-internal).
 */
#ifndef HOST_LWP_H
#define HOST_LWP_H

#include <pthread.h>
#include <sys/queue.h>
#include <sys/resource.h>	/* struct rlimit, RLIMIT_*: NetBSD's values */

#include "mutex.h"
#include "thread.h"

/* l_stat */
#define LSIDL		1
#define LSRUN		2
#define LSSLEEP		3
#define LSSTOP		4
#define LSZOMB		5
#define LSONPROC	7

/* l_flag [l] */
#define LW_INMEM	0x00000004
#define LW_SINTR	0x00000080
#define LW_SYSTEM	0x00000200
#define LW_WEXIT	0x00100000
#define LW_WSUSPEND	0x00020000
/*
 * FreeBSD's TDF_SWAPINREQ: woken while swapped out, a swap-in is asked
 * for (set by lwp_unblock, cleared by the swapper when it brings the LWP
 * in; FreeBSD's swapper then ignores p_nice).
 */
#define LW_SWAPINREQ	0x00000800

/* l_pflag [o] (read with lwp_lock by swappable()) */
#define LP_RUNNING	0x20000000	/* on a CPU */

/* l_class */
#define SCHED_OTHER	0
#define SCHED_FIFO	1
#define SCHED_RR	2

/* p_stat [p] */
#define SIDL		1
#define SACTIVE		2
#define SSTOP		4
#define SZOMB		5
#define SDEAD		6

/* p_flag [P] (FreeBSD names) */
#define P_INMEM		0x10000000
#define P_SWAPPINGOUT	0x20000000
#define P_SWAPPINGIN	0x40000000
#define P_SYSTEM	0x00000200
#define P_TRACED	0x00000800	/* never set here: no debugger */
#define P_WEXIT		0x00002000	/* exiting (kern_exit) */
#define P_STOPPED_SINGLE 0x00080000	/* never set here: no single-threading */

#define NZERO		20	/* default p_nice */
#define PRI_VM		(-1)	/* priorities are recorded, not used */

/* What an LWP sleeps on (l_syncobj): tells swappable() lock waits apart. */
struct syncobj {
	const char	*sobj_name;
};
extern const struct syncobj sleep_syncobj, mutex_syncobj, rw_syncobj,
    cv_syncobj, sched_syncobj;

struct vmspace;
struct rusage_lite {
	long		ru_nswap;	/* swapouts */
	long		ru_nvcsw;	/* voluntary switches */
	long		ru_nivcsw;	/* preemptions */
};

struct proc {
	pid_t			p_pid;		/* [I] */
	char			p_comm[24];	/* [I] */
	int			p_stat;		/* [p] SACTIVE... */
	int			p_flag;		/* [P] P_INMEM... */
	int			p_nice;		/* [P] NZERO is neutral */
	kmutex_t		p_lock;
	struct vmspace		*p_vmspace;	/* [P] owned by vm/ */
	void			*p_vmdata;	/* [P] scenario data */
	int			p_nlwps;	/* [P] */
	int			p_swtime;	/* [p] FreeBSD: resident time */
	int			p_slptime;	/* [p] FreeBSD: sleep time */
	/*
	 * FreeBSD's p_lock (a hold count: PHOLD/PRELE; a held process is not
	 * swapped out) is p_holdcnt here, our p_lock being its p_mtx; and
	 * p_swtick, the tick of its last swap-in or swap-out.
	 */
	int			p_holdcnt;	/* [P] */
	uint64_t		p_swtick;	/* [P] */
	LIST_HEAD(, lwp)	p_lwps;		/* [p] */
	LIST_ENTRY(proc)	p_list;		/* [p] allproc */
	/*
	 * [P] resource limits (NetBSD's p_limit->pl_rlimit, not shared
	 * copy-on-write here): set for proc0 by uvm_init_limits, copied
	 * from proc0 by proc_create as fork inherits them.  Linux's
	 * <sys/resource.h> numbers RLIMIT_DATA (2), RLIMIT_STACK (3) and
	 * RLIMIT_RSS (5) as NetBSD does; nothing enforces them yet.
	 */
	struct rlimit		p_rlimit[RLIM_NLIMITS];
};

struct lwp {
	int			l_lid;		/* [I] */
	struct proc		*l_proc;	/* [I] */
	char			l_name[24];	/* [I] */
	kmutex_t		l_lock;		/* lwp_lock */
	kmutex_t		l_swaplock;
	int			l_stat;		/* [l] */
	int			l_flag;		/* [l] */
	int			l_pflag;	/* [l] */
	int			l_class;	/* [l] */
	int			l_priority;	/* [l] recorded */
	unsigned int		l_holdcnt;	/* [a] uvm_lwp_hold */
	unsigned int		l_slptime;	/* [l] seconds asleep */
	unsigned int		l_swtime;	/* [l] seconds in/out of memory */
	uint64_t		l_slptick;	/* [l] tick it last went to sleep
						   (FreeBSD's td_slptick) */
	uint64_t		l_swapwait_ns;	/* [l] woken out of memory at
						   (real ns), 0: not */
	uint64_t		l_swapin_ns;	/* [l] then queued in memory at
						   (sched_enqueue), 0: not yet */
	const void		*l_wchan;	/* [l] */
	const char		*l_wmesg;	/* [l] */
	const struct syncobj	*l_syncobj;	/* [l] */
	struct cpu_info		*l_cpu;		/* [l] last CPU */
	void			*l_addr;	/* [s] u-area (vm/) */
	struct rusage_lite	l_ru;		/* [l] */
	struct host_thread	*l_ht;		/* [I] once running */

	/*
	 * Kernel stack, FreeBSD's td_kstack* (vm/vm_glue.c; opaque here).
	 * [a]: set by vm_thread_new/dispose while the LWP does not use it;
	 * l_kstack_sp (0: in user mode) moved by the LWP itself, read by
	 * the clock's stack profile.
	 */
	vaddr_t			l_kstack;	/* [a] stack bottom, 0: none */
	int			l_kstack_pages;	/* [a] */
	void			*l_kstack_obj;	/* [a] its uvm_object */
	vaddr_t			l_kstack_sp;	/* [a] simulated stack pointer */

	/* run queue (host/cpu.c), under the run-queue lock */
	TAILQ_ENTRY(lwp)	l_runq;
	bool			l_onrq;
	int			l_rqlevel;	/* the level it is queued at */
	bool			l_lockpri;	/* [l] waits for a CPU holding
						   kernel locks: queued first */
	bool			l_locksheld;	/* [l] off its CPU holding kernel
						   locks (asleep with them, or
						   woken owning the lock it
						   waited for): not swappable */
	struct cpu_info		*l_handoff;	/* CPU handed to us */

	/* life cycle */
	pthread_t		l_thread;	/* [I] */
	void			(*l_func)(void *);	/* [I] */
	void			*l_arg;		/* [I] */
	LIST_ENTRY(lwp)		l_sibling;	/* [p] */
	LIST_ENTRY(lwp)		l_list;		/* [p] alllwp */
};

extern kmutex_t proc_lock_store;
#define proc_lock	(&proc_lock_store)	/* NetBSD: kmutex_t *proc_lock */
extern LIST_HEAD(lwplist, lwp) alllwp;		/* [p] */
extern LIST_HEAD(proclist, proc) allproc;	/* [p] */
extern struct proc proc0;			/* the kernel: daemons live here */

#define curlwp		(host_curthread != NULL ? host_curthread->ht_lwp : NULL)
#define curproc		(curlwp != NULL ? curlwp->l_proc : NULL)

#define lwp_lock(l)	mutex_enter(&(l)->l_lock)
#define lwp_unlock(l)	mutex_exit(&(l)->l_lock)

/* host_lwp_init: proc0, proc_lock.  => before any LWP */
void host_lwp_init(void);

/* proc_create: a new process in SACTIVE with P_INMEM. => may sleep */
int proc_create(const char *name, struct proc **pp);
/* proc_free: free a process whose LWPs have all been reaped. */
void proc_free(struct proc *p);

/*
 * lwp_create: make an LWP of p that runs fn(arg) on a CPU, in memory.
 * flags: LW_SYSTEM for kernel threads.  The LWP starts LSRUN and runs
 * as soon as it gets a CPU.  When fn returns the LWP exits (LSZOMB).
 * It has no u-area (l_addr NULL): lwp_alloc + cpu_lwp_fork at once.
 * (vm/uvm_glue.h's uvm_lwp_create makes an LWP with a u-area.)
 * => may sleep; returns 0 or an errno value
 */
int lwp_create(struct proc *p, const char *name, int flags,
    void (*fn)(void *), void *arg, struct lwp **lp);

/*
 * Two-phase creation, NetBSD's order (kern_lwp.c lwp_create): lwp_alloc
 * makes the LWP (LSIDL, on p_lwps and alllwp, no thread yet); the caller
 * gives it a u-area (l_addr, under l_swaplock) and LW_INMEM once that is
 * wired (uvm_lwp_fork); cpu_lwp_fork (machine-dependent) then makes it
 * ready to run: its thread starts, queues for a CPU (LSIDL -> LSRUN ->
 * LSONPROC: it runs only once LW_INMEM is set) and calls func(arg).
 * flags: LW_SYSTEM, LW_INMEM.  An LWP never started is undone with
 * lwp_discard; a started one is reaped with lwp_join.
 * => may sleep; 0 or an errno value (ENOMEM)
 */
int lwp_alloc(struct proc *p, const char *name, int flags, struct lwp **lp);
/*
 * cpu_lwp_fork: start l2 (from lwp_alloc, LSIDL) running func(arg).
 * l1 is the creating LWP (NULL: none) and stack/stacksize the child's
 * user stack; NetBSD's copies l1's PCB and points the child's trapframe
 * at the stack.  Our LWPs run on their host thread's stack and have no
 * PCB or trapframe to copy, so those are unused here.
 * Deviation: returns the host's error (EAGAIN: no thread) where NetBSD's
 * cannot fail; l2 is then still LSIDL (lwp_discard it).
 * => may sleep; 0 or an errno value
 */
int cpu_lwp_fork(struct lwp *l1, struct lwp *l2, void *stack,
    size_t stacksize, void (*func)(void *), void *arg);
/* lwp_discard: undo lwp_alloc of an LWP never started (free hook too). */
void lwp_discard(struct lwp *l);
/* cpu_proc_fork: the MD fork hook of a process: nothing to do here. */
void cpu_proc_fork(struct proc *p1, struct proc *p2);
/*
 * The MD swap hooks: NetBSD's cpu_swapin/cpu_swapout (an LWP's u-area
 * comes in or goes out: FPU state, mips's u-area TLB entries) and
 * FreeBSD's cpu_thread_swapin/cpu_thread_swapout (its kernel stack).  Our
 * machine keeps no state in either: nothing to do.
 */
void cpu_swapin(struct lwp *l);
void cpu_swapout(struct lwp *l);
void cpu_thread_swapin(struct lwp *td);
void cpu_thread_swapout(struct lwp *td);

/*
 * The VM's LWP hooks (host never calls vm/ directly), called for every
 * LWP (the VM tells those with a u-area by l_addr):
 * - the run hook is called on an LWP's own thread each time it gets a
 *   CPU (first run, after a sleep or lock wait, after a preemption),
 *   with the CPU held and possibly kernel locks held (a lock waiter
 *   takes its lock before its CPU): it must not sleep, take locks or
 *   fault (uvm_glue.c checks the u-area's canary);
 * - the free hook is called when an LWP is freed (lwp_join reaping it,
 *   after its thread has exited and it is off every list, or
 *   lwp_discard): NetBSD's lwp_free calling uvm_lwp_exit, FreeBSD's
 *   thread_free calling vm_thread_dispose.  => may sleep
 * NULL: none.
 */
void host_set_lwp_run_hook(void (*fn)(struct lwp *));
void host_set_lwp_free_hook(void (*fn)(struct lwp *));
/* kthread_create: an LW_SYSTEM LWP of proc0. */
int kthread_create(void (*fn)(void *), void *arg, struct lwp **lp,
    const char *name);
/*
 * lwp_join: wait for l to exit and free it (NetBSD's lwp_free: its u-area
 * through the free hook).  => not from l itself; may sleep
 */
void lwp_join(struct lwp *l);

/*
 * lwp_block/lwp_unblock: the calling LWP stops running (sleeps on wchan,
 * or waits for a lock) and gives its CPU away; lwp_unblock makes it
 * runnable and waits for a CPU.  For a thread that is not an LWP they
 * only record the wait channel.
 * => no host-internal lock held; lwp_unblock never returns while the
 *    LWP is swapped out.
 */
void lwp_block(const void *wchan, const char *wmesg, const struct syncobj *so);
void lwp_unblock(void);

/* preempt: a preemption point; yields the CPU if a reschedule is due. */
void preempt(void);
/* lwp_userret: return to user mode (a preemption point). */
#define lwp_userret()	preempt()

/* lwp_setrunnable_inmem: the swapper brought l in: queue it if runnable. */
void lwp_swapin_done(struct lwp *l);
/*
 * The VM's swapper kick (uvm_kick_scheduler, kick_proc0), called when a
 * swapped-out LWP becomes runnable (lwp_unblock, which also sets
 * LW_SWAPINREQ), and by schedcpu while a runnable LWP is out of memory
 * (uvm_meter's kick of proc0 in NetBSD, the swapper's timed sleep in
 * FreeBSD: a swapped-out LWP that was runnable, not woken, is not lost).
 * NULL: nothing to kick.
 */
void host_set_kick_scheduler(void (*fn)(void));

/*
 * Swap-in latency, over every wakeup of an LWP out of memory since boot,
 * in real time: from the wakeup to the LWP's being back in memory and
 * queued for a CPU (in: the swapper's part), and to its running (run:
 * that and the wait for a CPU).  Exact to 1/8 of a power of two.
 * lwp_swapin_latency_stop: record no more (the run's end wakes every
 * sleeper at once: not the workload's swap-ins).
 */
struct lwp_latency {
	uint64_t	sl_count;
	uint64_t	sl_p50_ns, sl_p90_ns, sl_p99_ns, sl_max_ns;
};
void lwp_swapin_latency(struct lwp_latency *in, struct lwp_latency *run);
void lwp_swapin_latency_stop(void);

/*
 * schedcpu: once a simulated second, age l_slptime and l_swtime (and the
 * process's p_swtime, p_slptime), then kick the swapper if a runnable
 * LWP is out of memory.
 */
void schedcpu(void);

/*
 * lwp_describe: one line of state for dumps; the state under a try of
 * lwp_lock, "(busy)" if it is held.  => never sleeps, never blocks
 */
void lwp_describe(const struct lwp *l, char *buf, size_t len);

#endif /* HOST_LWP_H */
