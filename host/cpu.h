/*
 * host/cpu.h: the simulated CPUs and the run queue.
 *
 * The machine has `ncpu` CPUs.  A simulated LWP is a pthread that must
 * hold a CPU to run (LSONPROC).  It gives the CPU up whenever it blocks
 * (sleep, condvar, contended adaptive lock) and queues for one again
 * when it becomes runnable (LSRUN, on the run queue, if it is in memory).
 * CPUs are handed over directly, first come first served within four
 * levels (lock holders, kernel threads, LWPs woken in the kernel,
 * preempted LWPs: see host/cpu.c).  Preemption
 * happens at preemption points (kernel entry and exit: preempt(),
 * lwp_userret()) once the hardclock has asked for a reschedule, never in
 * the middle of kernel code, so spin mutexes are never held across it.
 *
 * Locking: the run queue and the CPUs' hand-off state are under a
 * host-internal lock (rq_lock), innermost of all; run queue membership is
 * changed with the LWP's lwp_lock held (sched_enqueue/sched_dequeue).
 * A thread never waits for a CPU while it holds a host-internal lock.
 */
#ifndef HOST_CPU_H
#define HOST_CPU_H

#include "param.h"

struct lwp;

#define MAXCPUS		64

struct cpu_info {
	int		ci_index;	/* [I] */
	struct lwp	*ci_curlwp;	/* [rq] LWP running here, or NULL */
	int		ci_want_resched; /* [a] set by hardclock */
	uint64_t	ci_nswitch;	/* [rq] hand-offs to this CPU */
	uint64_t	ci_idle_ns;	/* [rq] time with no LWP */
	uint64_t	ci_idle_since;	/* [rq] */
	int		ci_hostpu;	/* [I] host PU bound to, -1 none */
	bool		ci_bound;	/* [I] binding held */
};

extern int ncpu;			/* [I] after host_cpu_init */
extern struct cpu_info cpu_info_store[MAXCPUS];

/* host_cpu_init: make n CPUs (1..MAXCPUS). => EINVAL on a bad count */
int host_cpu_init(int n);
void host_cpu_fini(void);

/* curcpu: the CPU the caller holds, or NULL (not an LWP, or blocked). */
struct cpu_info *curcpu(void);
#define cpu_number()	(curcpu() != NULL ? curcpu()->ci_index : -1)

/*
 * sched_enqueue/sched_dequeue: put a runnable, in-memory LWP on the run
 * queue or take it off.  => lwp_lock(l) held; dequeue of an LWP that is
 * not queued is a no-op.
 */
void sched_enqueue(struct lwp *l, bool swtch);
void sched_dequeue(struct lwp *l);
/*
 * sched_onrq: is l queued for a CPU (the auditor's question; a CPU
 * handed to an LWP swapped out meanwhile is passed on by the LWP itself,
 * and is not "queued")?  => any thread; takes the run-queue lock
 */
bool sched_onrq(struct lwp *l);
/*
 * sched_cancel: l runs now on the CPU it was handed: take it off the run
 * queue and take back a second CPU handed to it meanwhile, which the
 * caller releases (cpu_release) once it has dropped lwp_lock.  (A swap-in
 * can queue an LWP that holds a CPU it has not yet started running on.)
 * => lwp_lock(l) held; the second CPU or NULL
 */
struct cpu_info *sched_cancel(struct lwp *l);
/* How many LWPs wait on the run queue. */
int sched_nrunnable(void);
/*
 * sched_should_yield: at a preemption point, should an LWP (a kernel
 * thread: kthread) give its CPU to a queued one?  A kernel thread yields
 * to kernel threads and lock holders only, as a higher priority is not
 * preempted by a lower; an LWP to any.
 */
bool sched_should_yield(bool kthread);

/*
 * cpu_wait_for_cpu: block until the run queue hands l a CPU; returns it.
 * => no host-internal lock held; kernel locks may be held
 */
struct cpu_info *cpu_wait_for_cpu(struct lwp *l);
/* cpu_release: give ci away (to the first queued LWP, or idle). */
void cpu_release(struct cpu_info *ci);

/* hardclock: ask every busy CPU to reschedule if LWPs are waiting. */
void cpu_need_resched_all(void);

/*
 * cpu_set_binding: when on, a thread that takes CPU i binds itself to the
 * host PU of CPU i (host/topology.c), so simulated CPUs are host PUs.
 */
void cpu_set_binding(bool on);
/* cpu_bind_current: apply the binding for ci to the calling thread. */
void cpu_bind_current(struct cpu_info *ci);

/* Per-CPU counters for reports. */
struct cpu_stats {
	uint64_t	cs_nswitch;
	uint64_t	cs_idle_ns;
};
void cpu_get_stats(int index, struct cpu_stats *st);

#endif /* HOST_CPU_H */
