/*
 * host/cpu.c: simulated CPUs and the run queue.
 *
 * A CPU is a token.  An LWP that wants to run queues on the run queue;
 * whoever gives a CPU up hands it to the head of the queue (ci_curlwp,
 * l_handoff) or leaves it idle.  The run queue lock is a host mutex, the
 * innermost lock of the machine.
 *
 * The queue has four levels, as BSD's priorities do at their coarsest,
 * first in first out within each: LWPs that hold kernel locks while they
 * wait (one woken from a lock wait holds the lock it waited for; one
 * woken from a sleep may hold a map lock: a turnstile lends such a holder
 * its waiters' priority); kernel threads (the pagedaemon, the aiodone
 * daemon: PRI_KTHREAD); LWPs woken in the kernel (from a sleep, and new
 * ones: their kernel priority, so that they finish their system call
 * before user code runs on); LWPs preempted at a preemption point (user
 * priority).  Queueing above user priority asks a busy CPU to
 * reschedule at once, as NetBSD's sched_resched_lwp does for a higher
 * priority.  With one first-come level, a thousand runnable LWPs each ran
 * a quantum before the pagedaemon did while they slept for the memory it
 * frees, and a lock holder waited behind the waiters of its lock, each of
 * which gave its CPU up again on finding the lock held: a convoy of one
 * CPU hand-off round per acquisition.
 */
#include <stdatomic.h>
#include <string.h>

#include "clock.h"
#include "cpu.h"
#include "hook.h"
#include "hsync.h"
#include "kassert.h"
#include "lwp.h"
#include "thread.h"
#include "topology.h"

int ncpu;
struct cpu_info cpu_info_store[MAXCPUS];

enum { RQ_LOCK, RQ_KTHREAD, RQ_KERNEL, RQ_USER, RQ_NLEVELS };

static pthread_mutex_t rq_lock = PTHREAD_MUTEX_INITIALIZER;
static TAILQ_HEAD(runqhead, lwp) runq[RQ_NLEVELS] = {	/* [rq] */
	TAILQ_HEAD_INITIALIZER(runq[RQ_LOCK]),
	TAILQ_HEAD_INITIALIZER(runq[RQ_KTHREAD]),
	TAILQ_HEAD_INITIALIZER(runq[RQ_KERNEL]),
	TAILQ_HEAD_INITIALIZER(runq[RQ_USER]),
};
static int nrunq;			/* [rq] all levels */
static int nrunq_level[RQ_NLEVELS];	/* [rq] */
static int resched_next;		/* [rq] the CPU asked next */
static struct cpu_info *idle_cpus[MAXCPUS];	/* [rq] */
static int nidle;			/* [rq] */

int
host_cpu_init(int n)
{
	int i;

	if (n < 1 || n > MAXCPUS)
		return EINVAL;
	hs_lock(&rq_lock);
	KASSERTMSG(nrunq == 0, "host_cpu_init with LWPs queued");
	memset(cpu_info_store, 0, sizeof(cpu_info_store));
	ncpu = n;
	nidle = 0;
	for (i = n - 1; i >= 0; i--) {
		cpu_info_store[i].ci_index = i;
		cpu_info_store[i].ci_hostpu = -1;
		cpu_info_store[i].ci_idle_since = host_real_ns();
		idle_cpus[nidle++] = &cpu_info_store[i];
	}
	hs_unlock(&rq_lock);
	return 0;
}

void
host_cpu_fini(void)
{
	hs_lock(&rq_lock);
	KASSERTMSG(nidle == ncpu, "host_cpu_fini: %d of %d CPUs busy",
	    ncpu - nidle, ncpu);
	hs_unlock(&rq_lock);
}

struct cpu_info *
curcpu(void)
{
	struct host_thread *ht = host_curthread;

	return ht != NULL ? ht->ht_cpu : NULL;
}

/* Hand ci to l.  => rq_lock held */
static void
cpu_handoff(struct cpu_info *ci, struct lwp *l)
{
	uint64_t now = host_real_ns();

	if (ci->ci_curlwp == NULL && ci->ci_idle_since != 0)
		ci->ci_idle_ns += now - ci->ci_idle_since;
	ci->ci_idle_since = 0;
	ci->ci_curlwp = l;
	/* A fresh quantum: a request meant for the previous LWP is void. */
	__atomic_store_n(&ci->ci_want_resched, 0, __ATOMIC_RELAXED);
	ci->ci_nswitch++;
	l->l_handoff = ci;
	hs_cond_signal(&l->l_ht->ht_cpucv);
}

/* The level l queues at: swtch, preempted (user priority).  => [l] */
static int
rq_level(const struct lwp *l, bool swtch)
{
	if (l->l_lockpri)
		return RQ_LOCK;
	if (l->l_flag & LW_SYSTEM)
		return RQ_KTHREAD;
	return swtch ? RQ_USER : RQ_KERNEL;
}

/*
 * rq_resched_one: an LWP queued above user priority: ask one busy CPU
 * (in turn) to give itself up at its next preemption point.
 * => rq_lock held
 */
static void
rq_resched_one(void)
{
	struct cpu_info *ci;
	int i;

	for (i = 0; i < ncpu; i++) {
		ci = &cpu_info_store[(resched_next + i) % ncpu];
		if (ci->ci_curlwp != NULL) {
			__atomic_store_n(&ci->ci_want_resched, 1,
			    __ATOMIC_RELAXED);
			resched_next = (ci->ci_index + 1) % ncpu;
			return;
		}
	}
}

/* The first LWP of the highest level queued, taken off.  => rq_lock held */
static struct lwp *
rq_take(void)
{
	struct lwp *l;
	int i;

	if (nrunq == 0)
		return NULL;
	for (i = 0; i < RQ_NLEVELS; i++)
		if ((l = TAILQ_FIRST(&runq[i])) != NULL) {
			TAILQ_REMOVE(&runq[i], l, l_runq);
			l->l_onrq = false;
			nrunq--;
			nrunq_level[i]--;
			return l;
		}
	panic("sched: %d LWPs counted queued, none found", nrunq);
}

void
sched_enqueue(struct lwp *l, bool swtch)
{
	int level;

	KASSERT(mutex_owned(&l->l_lock));
	KASSERT(l->l_ht != NULL);
	/* the swap-in of an LWP woken out of memory is done: time it */
	if (l->l_swapwait_ns != 0 && l->l_swapin_ns == 0)
		l->l_swapin_ns = host_real_ns();
	level = rq_level(l, swtch);
	hs_lock(&rq_lock);
	if (!l->l_onrq && l->l_handoff == NULL) {
		if (nidle > 0 && nrunq == 0) {
			cpu_handoff(idle_cpus[--nidle], l);
		} else {
			TAILQ_INSERT_TAIL(&runq[level], l, l_runq);
			l->l_onrq = true;
			l->l_rqlevel = level;
			nrunq++;
			nrunq_level[level]++;
			if (level < RQ_USER)
				rq_resched_one();
		}
	}
	hs_unlock(&rq_lock);
}

bool
sched_onrq(struct lwp *l)
{
	bool onrq;

	hs_lock(&rq_lock);
	onrq = l->l_onrq;
	hs_unlock(&rq_lock);
	return onrq;
}

/* Take l off the run queue if it is queued.  => rq_lock held */
static void
rq_unqueue(struct lwp *l)
{
	if (!l->l_onrq)
		return;
	TAILQ_REMOVE(&runq[l->l_rqlevel], l, l_runq);
	l->l_onrq = false;
	nrunq--;
	nrunq_level[l->l_rqlevel]--;
}

struct cpu_info *
sched_cancel(struct lwp *l)
{
	struct cpu_info *ci;

	KASSERT(mutex_owned(&l->l_lock));
	hs_lock(&rq_lock);
	rq_unqueue(l);
	ci = l->l_handoff;
	l->l_handoff = NULL;
	hs_unlock(&rq_lock);
	return ci;
}

void
sched_dequeue(struct lwp *l)
{
	KASSERT(mutex_owned(&l->l_lock));
	hs_lock(&rq_lock);
	rq_unqueue(l);
	hs_unlock(&rq_lock);
}

bool
sched_should_yield(bool kthread)
{
	bool yield;

	hs_lock(&rq_lock);
	yield = kthread ? nrunq_level[RQ_LOCK] + nrunq_level[RQ_KTHREAD] > 0 :
	    nrunq > 0;
	hs_unlock(&rq_lock);
	return yield;
}

int
sched_nrunnable(void)
{
	int n;

	hs_lock(&rq_lock);
	n = nrunq;
	hs_unlock(&rq_lock);
	return n;
}

struct cpu_info *
cpu_wait_for_cpu(struct lwp *l)
{
	struct cpu_info *ci;

	hs_lock(&rq_lock);
	while (l->l_handoff == NULL)
		hs_cond_wait(&l->l_ht->ht_cpucv, &rq_lock);
	ci = l->l_handoff;
	l->l_handoff = NULL;
	hs_unlock(&rq_lock);
	return ci;
}

void
cpu_release(struct cpu_info *ci)
{
	struct lwp *l;

	hs_lock(&rq_lock);
	ci->ci_curlwp = NULL;
	if ((l = rq_take()) != NULL) {
		cpu_handoff(ci, l);
	} else {
		ci->ci_idle_since = host_real_ns();
		idle_cpus[nidle++] = ci;
	}
	hs_unlock(&rq_lock);
}

void
cpu_need_resched_all(void)
{
	int i;

	hs_lock(&rq_lock);
	if (nrunq > 0) {
		for (i = 0; i < ncpu; i++)
			if (cpu_info_store[i].ci_curlwp != NULL)
				__atomic_store_n(&cpu_info_store[i].ci_want_resched,
				    1, __ATOMIC_RELAXED);
	}
	hs_unlock(&rq_lock);
}

void
cpu_get_stats(int index, struct cpu_stats *st)
{
	struct cpu_info *ci = &cpu_info_store[index];

	KASSERT(index >= 0 && index < ncpu);
	hs_lock(&rq_lock);
	st->cs_nswitch = ci->ci_nswitch;
	st->cs_idle_ns = ci->ci_idle_ns;
	if (ci->ci_curlwp == NULL && ci->ci_idle_since != 0)
		st->cs_idle_ns += host_real_ns() - ci->ci_idle_since;
	hs_unlock(&rq_lock);
}

static atomic_bool cpu_binding;

void
cpu_set_binding(bool on)
{
	atomic_store(&cpu_binding, on);
}

void
cpu_bind_current(struct cpu_info *ci)
{
	int pu;

	if (!atomic_load_explicit(&cpu_binding, memory_order_relaxed))
		return;
	/* A thread that last ran this CPU is already bound to its PU. */
	if (host_curthread->ht_boundcpu == ci->ci_index)
		return;
	if (host_topo_bind_cpu(ci->ci_index, &pu) == 0)
		host_curthread->ht_boundcpu = ci->ci_index;
}
