/*
 * host/lwp.c: processes, LWPs, blocking and preemption.
 *
 * An LWP runs only while it holds a simulated CPU (host/cpu.c).  It gives
 * the CPU up in lwp_block() and queues for one in lwp_unblock(); between
 * the two its thread runs host code only (a pthread wait on the sleep
 * queue, the lock or the condvar).  lwp_unblock() of a swapped-out LWP
 * calls the VM's swapper kick while it holds no CPU; the kick may take an
 * adaptive mutex and find it contended, so a block nested inside the
 * blocked stretch is a no-op (lwp_blockdepth): there is no CPU to give.
 *
 * Creation is two-phase as in NetBSD (lwp_alloc, then the MD
 * cpu_lwp_fork that starts the thread), so that the VM can give the LWP
 * its u-area in between (uvm_lwp_fork); lwp_create does both at once for
 * LWPs without one.  Two hooks let the VM watch u-areas without host
 * calling vm/: the run hook, on the LWP's thread whenever it gets a CPU
 * (lwp_wait_cpu, the one place that happens), and the free hook when
 * an LWP with a u-area is freed (lwp_join, lwp_discard).
 */
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "cpu.h"
#include "disk.h"
#include "hook.h"
#include "hsync.h"
#include "kassert.h"
#include "lwp.h"
#include "spl.h"

const struct syncobj sleep_syncobj = { "sleep" };
const struct syncobj mutex_syncobj = { "mutex" };
const struct syncobj rw_syncobj = { "rwlock" };
const struct syncobj cv_syncobj = { "condvar" };
const struct syncobj sched_syncobj = { "sched" };

kmutex_t proc_lock_store;
struct lwplist alllwp = LIST_HEAD_INITIALIZER(alllwp);
struct proclist allproc = LIST_HEAD_INITIALIZER(allproc);
struct proc proc0;

static int nextpid = 1;			/* [p] */
static int nextlid = 1;			/* [p] */
static _Atomic(void (*)(void)) kick_scheduler;
static _Atomic(void (*)(struct lwp *)) lwp_run_hook;
static _Atomic(void (*)(struct lwp *)) lwp_free_hook;

/*
 * The swap-in latency histograms, from the wakeup of an LWP out of memory
 * (lwp_unblock) to its being in memory and queued for a CPU (sched_enqueue
 * after the swap-in: swlat_in) and to its running (swlat_run).  Bucket
 * (e, m) holds latencies in [2^e * (8 + m) / 8, 2^e * (9 + m) / 8) ns.
 * Recording stops at lwp_swapin_latency_stop (the run's end, whose
 * wakeups of every sleeper at once are not swap-ins of the workload).
 */
#define SWLAT_SUB	8
#define SWLAT_NBUCKETS	(64 * SWLAT_SUB)
struct swlat {
	_Atomic uint64_t	sw_bucket[SWLAT_NBUCKETS];
	_Atomic uint64_t	sw_count, sw_max;
};
static struct swlat swlat_in, swlat_run;	/* [a] */
static atomic_bool swlat_stopped;

/*
 * [o] > 0 from lwp_block() to the end of the matching lwp_unblock(): the
 * thread's LWP holds no CPU, and nested blocks only count.
 */
static __thread int lwp_blockdepth;

void
host_lwp_init(void)
{
	static bool done;

	if (done)
		return;
	done = true;
	mutex_init_class(&proc_lock_store, MUTEX_DEFAULT, IPL_NONE, "proc_lock");
	proc0.p_pid = 0;
	snprintf(proc0.p_comm, sizeof(proc0.p_comm), "system");
	proc0.p_stat = SACTIVE;
	proc0.p_flag = P_SYSTEM | P_INMEM;
	proc0.p_nice = NZERO;
	mutex_init_class(&proc0.p_lock, MUTEX_DEFAULT, IPL_NONE, "p_lock");
	LIST_INIT(&proc0.p_lwps);
	LIST_INSERT_HEAD(&allproc, &proc0, p_list);
}

void
host_set_kick_scheduler(void (*fn)(void))
{
	atomic_store(&kick_scheduler, fn);
}

void
host_set_lwp_run_hook(void (*fn)(struct lwp *))
{
	atomic_store(&lwp_run_hook, fn);
}

void
host_set_lwp_free_hook(void (*fn)(struct lwp *))
{
	atomic_store(&lwp_free_hook, fn);
}

int
proc_create(const char *name, struct proc **pp)
{
	struct proc *p;

	p = calloc(1, sizeof(*p));
	if (p == NULL)
		return ENOMEM;
	snprintf(p->p_comm, sizeof(p->p_comm), "%s", name);
	p->p_stat = SACTIVE;
	p->p_flag = P_INMEM;
	p->p_nice = NZERO;
	mutex_init_class(&p->p_lock, MUTEX_DEFAULT, IPL_NONE, "p_lock");
	LIST_INIT(&p->p_lwps);
	/* limits are inherited from proc0 (uvm_init_limits), as by fork */
	mutex_enter(&proc0.p_lock);
	memcpy(p->p_rlimit, proc0.p_rlimit, sizeof(p->p_rlimit));
	mutex_exit(&proc0.p_lock);
	mutex_enter(proc_lock);
	p->p_pid = nextpid++;
	LIST_INSERT_HEAD(&allproc, p, p_list);
	mutex_exit(proc_lock);
	*pp = p;
	return 0;
}

void
proc_free(struct proc *p)
{
	KASSERT(p != &proc0);
	mutex_enter(proc_lock);
	KASSERTMSG(LIST_EMPTY(&p->p_lwps), "proc_free: pid %d has LWPs",
	    p->p_pid);
	LIST_REMOVE(p, p_list);
	mutex_exit(proc_lock);
	mutex_destroy(&p->p_lock);
	free(p);
}

/* swlat_record: a latency of ns nanoseconds into h. */
static void
swlat_record(struct swlat *h, uint64_t ns)
{
	int e, m;
	uint64_t max;

	if (ns < SWLAT_SUB) {
		e = 0;
		m = (int)ns;
	} else {
		e = 63 - __builtin_clzll(ns) - 3;	/* ns >> e in [8, 16) */
		m = (int)(ns >> e) - SWLAT_SUB;
		e++;
	}
	atomic_fetch_add(&h->sw_bucket[e * SWLAT_SUB + m], 1);
	atomic_fetch_add(&h->sw_count, 1);
	max = atomic_load(&h->sw_max);
	while (ns > max && !atomic_compare_exchange_weak(&h->sw_max, &max, ns))
		continue;
}

/* The lower bound of bucket b, in ns. */
static uint64_t
swlat_floor(int b)
{
	int e = b / SWLAT_SUB, m = b % SWLAT_SUB;

	return e == 0 ? (uint64_t)m : (uint64_t)(SWLAT_SUB + m) << (e - 1);
}

/* swlat_get: h's count, percentiles and maximum. */
static void
swlat_get(struct swlat *h, struct lwp_latency *sl)
{
	uint64_t n, seen = 0, want[3];
	uint64_t *out[3] = { &sl->sl_p50_ns, &sl->sl_p90_ns, &sl->sl_p99_ns };
	int b, k = 0;

	memset(sl, 0, sizeof(*sl));
	n = atomic_load(&h->sw_count);
	sl->sl_count = n;
	sl->sl_max_ns = atomic_load(&h->sw_max);
	if (n == 0)
		return;
	want[0] = (n * 50 + 99) / 100;
	want[1] = (n * 90 + 99) / 100;
	want[2] = (n * 99 + 99) / 100;
	for (b = 0; b < SWLAT_NBUCKETS && k < 3; b++) {
		seen += atomic_load(&h->sw_bucket[b]);
		while (k < 3 && seen >= want[k])
			*out[k++] = swlat_floor(b);
	}
}

void
lwp_swapin_latency(struct lwp_latency *in, struct lwp_latency *run)
{
	swlat_get(&swlat_in, in);
	swlat_get(&swlat_run, run);
}

void
lwp_swapin_latency_stop(void)
{
	atomic_store(&swlat_stopped, true);
}

/*
 * lwp_wait_cpu: wait until the run queue hands us a CPU while we are in
 * memory.  A CPU that arrives while we are swapped out goes straight on;
 * the swapper queues us again when it brings us in.  Every LWP gets its
 * CPU here, so the run hook (the VM's u-area check) is called here.
 */
static void
lwp_wait_cpu(struct lwp *l)
{
	struct host_thread *ht = l->l_ht;
	struct cpu_info *ci, *extra;
	void (*hook)(struct lwp *);

	for (;;) {
		ci = cpu_wait_for_cpu(l);
		lwp_lock(l);
		if (l->l_flag & LW_INMEM) {
			l->l_stat = LSONPROC;
			l->l_pflag |= LP_RUNNING;
			l->l_cpu = ci;
			l->l_locksheld = false;
			/* queued again by a swap-in while we held ci: undo */
			extra = sched_cancel(l);
			if (l->l_swapwait_ns != 0) {
				if (!atomic_load(&swlat_stopped)) {
					uint64_t now = host_real_ns();

					swlat_record(&swlat_in, (l->l_swapin_ns ?
					    l->l_swapin_ns : now) -
					    l->l_swapwait_ns);
					swlat_record(&swlat_run,
					    now - l->l_swapwait_ns);
				}
				l->l_swapwait_ns = 0;
				l->l_swapin_ns = 0;
			}
			lwp_unlock(l);
			if (extra != NULL)
				cpu_release(extra);
			ht->ht_cpu = ci;
			cpu_bind_current(ci);
			host_hook(HE_CPU_ACQUIRE, ci, (uintptr_t)ci->ci_index,
			    __FILE__, __LINE__);
			hook = atomic_load_explicit(&lwp_run_hook,
			    memory_order_relaxed);
			if (hook != NULL)
				(*hook)(l);
			return;
		}
		lwp_unlock(l);
		cpu_release(ci);
	}
}

void
lwp_block(const void *wchan, const char *wmesg, const struct syncobj *so)
{
	struct host_thread *ht = host_curthread;
	struct lwp *l = ht != NULL ? ht->ht_lwp : NULL;
	struct cpu_info *ci;
	bool held;

	host_disk_flush_plug();		/* what we may wait for must go */
	if (l == NULL)
		return;
	if (lwp_blockdepth++ > 0)
		return;		/* already off the CPU (the swapper kick) */
	ci = ht->ht_cpu;
	KASSERTMSG(ci != NULL, "lwp_block: LWP %s is not on a CPU", l->l_name);
	KASSERTMSG(ht->ht_nspin == 0, "lwp_block: %s blocks on %s holding a "
	    "spin mutex", l->l_name, wmesg);
	held = ht->ht_nheld > 0;	/* (before lwp_lock, which counts) */
	lwp_lock(l);
	/* the CPUs never run an LWP out of memory (the swapper's contract) */
	KASSERTMSG(l->l_flag & LW_INMEM, "lwp_block: LWP %d.%d (%s) ran while "
	    "swapped out (LW_INMEM clear)", l->l_proc->p_pid, l->l_lid,
	    l->l_name);
	l->l_stat = LSSLEEP;
	l->l_wchan = wchan;
	l->l_wmesg = wmesg;
	l->l_syncobj = so;
	l->l_slptime = 0;
	l->l_slptick = getticks();
	l->l_locksheld = held;
	l->l_pflag &= ~LP_RUNNING;
	l->l_ru.ru_nvcsw++;
	lwp_unlock(l);
	ht->ht_cpu = NULL;
	host_hook(HE_CPU_RELEASE, ci, (uintptr_t)ci->ci_index, __FILE__, __LINE__);
	cpu_release(ci);
}

void
lwp_unblock(void)
{
	struct host_thread *ht = host_curthread;
	struct lwp *l = ht != NULL ? ht->ht_lwp : NULL;
	void (*kick)(void) = NULL;
	bool held;

	if (l == NULL)
		return;
	KASSERTMSG(lwp_blockdepth > 0, "lwp_unblock: %s is not blocked",
	    l->l_name);
	if (lwp_blockdepth > 1) {
		lwp_blockdepth--;	/* a nested block ends */
		return;
	}
	KASSERT(ht->ht_cpu == NULL);
	held = ht->ht_nheld > 0;	/* (before lwp_lock, which counts) */
	lwp_lock(l);
	/*
	 * Back from a lock wait it holds that lock already (mutex.c and
	 * rwlock.c take it before the CPU); from a sleep it may hold others.
	 * (l_lockpri counts lwp_lock itself, so it is always set: kept as it
	 * was, the run queue's levels were tuned with it.)
	 */
	l->l_lockpri = l->l_syncobj == &mutex_syncobj ||
	    l->l_syncobj == &rw_syncobj || ht->ht_nheld > 0;
	l->l_locksheld = l->l_syncobj == &mutex_syncobj ||
	    l->l_syncobj == &rw_syncobj || held;
	l->l_stat = LSRUN;
	l->l_wchan = NULL;
	l->l_wmesg = NULL;
	l->l_syncobj = &sched_syncobj;
	if (l->l_flag & LW_INMEM) {
		sched_enqueue(l, false);
	} else {
		l->l_flag |= LW_SWAPINREQ;	/* FreeBSD's setrunnable */
		kick = atomic_load(&kick_scheduler);
		l->l_swapwait_ns = host_real_ns();
		l->l_swapin_ns = 0;
	}
	l->l_lockpri = false;
	lwp_unlock(l);
	if (kick != NULL)
		kick();		/* may block: nested, see lwp_blockdepth */
	lwp_wait_cpu(l);
	lwp_blockdepth = 0;
}

void
preempt(void)
{
	struct host_thread *ht = host_curthread;
	struct lwp *l = ht != NULL ? ht->ht_lwp : NULL;
	struct cpu_info *ci;
	bool kthread;

	if (l == NULL || (ci = ht->ht_cpu) == NULL)
		return;
	if (__atomic_load_n(&ci->ci_want_resched, __ATOMIC_RELAXED) == 0)
		return;
	/*
	 * Never preempted holding a lock (a spin mutex holder must not wait
	 * for a CPU: the CPU holders would spin on it for ever).  A fault
	 * taken with a lock held (copyin-like access) reaches the trap exit's
	 * preemption point: keep the request for the next point, as NetBSD
	 * keeps it while kernel preemption is disabled, rather than panic.
	 */
	if (ht->ht_nheld > 0 || ht->ht_nspin > 0)
		return;
	__atomic_store_n(&ci->ci_want_resched, 0, __ATOMIC_RELAXED);
	lwp_lock(l);
	kthread = (l->l_flag & LW_SYSTEM) != 0;
	lwp_unlock(l);
	if (!sched_should_yield(kthread))
		return;
	lwp_lock(l);
	KASSERTMSG(l->l_flag & LW_INMEM, "preempt: LWP %d.%d (%s) ran while "
	    "swapped out (LW_INMEM clear)", l->l_proc->p_pid, l->l_lid,
	    l->l_name);
	l->l_stat = LSRUN;
	l->l_pflag &= ~LP_RUNNING;
	l->l_ru.ru_nivcsw++;
	sched_enqueue(l, true);
	lwp_unlock(l);
	ht->ht_cpu = NULL;
	host_hook(HE_CPU_RELEASE, ci, (uintptr_t)ci->ci_index, __FILE__, __LINE__);
	cpu_release(ci);
	lwp_wait_cpu(l);
}

void
lwp_swapin_done(struct lwp *l)
{
	lwp_lock(l);
	l->l_flag |= LW_INMEM;
	l->l_swtime = 0;
	if (l->l_stat == LSRUN)
		sched_enqueue(l, false);
	lwp_unlock(l);
}

static void *
lwp_trampoline(void *arg)
{
	struct lwp *l = arg;
	struct host_thread *ht = host_curthread;

	__atomic_store_n(&ht->ht_lwp, l, __ATOMIC_RELAXED);	/* dumps read it */
	lwp_lock(l);
	l->l_ht = ht;
	lwp_unlock(l);
	lwp_blockdepth = 1;	/* born off the CPU */
	lwp_unblock();		/* LSIDL -> LSRUN -> LSONPROC */
	l->l_func(l->l_arg);

	KASSERTMSG(ht->ht_nheld == 0, "LWP %s exits holding %d locks",
	    l->l_name, ht->ht_nheld);
	lwp_lock(l);
	l->l_stat = LSZOMB;
	l->l_flag |= LW_WEXIT;
	l->l_pflag &= ~LP_RUNNING;
	l->l_ht = NULL;		/* ht is freed below: no hand-off to it */
	lwp_unlock(l);
	if (ht->ht_cpu != NULL) {
		struct cpu_info *ci = ht->ht_cpu;

		ht->ht_cpu = NULL;
		host_hook(HE_CPU_RELEASE, ci, (uintptr_t)ci->ci_index,
		    __FILE__, __LINE__);
		cpu_release(ci);
	}
	__atomic_store_n(&ht->ht_lwp, NULL, __ATOMIC_RELAXED);
	host_thread_unregister();
	return NULL;
}

int
lwp_alloc(struct proc *p, const char *name, int flags, struct lwp **lp)
{
	struct lwp *l;

	KASSERT((flags & ~(LW_SYSTEM | LW_INMEM)) == 0);
	l = calloc(1, sizeof(*l));
	if (l == NULL)
		return ENOMEM;
	snprintf(l->l_name, sizeof(l->l_name), "%s", name);
	mutex_init_class(&l->l_lock, MUTEX_SPIN, IPL_SCHED, "lwp_lock");
	mutex_init_class(&l->l_swaplock, MUTEX_DEFAULT, IPL_NONE, "l_swaplock");
	l->l_proc = p;
	l->l_stat = LSIDL;
	l->l_flag = flags;
	l->l_class = SCHED_OTHER;
	l->l_syncobj = &sched_syncobj;

	mutex_enter(proc_lock);
	l->l_lid = nextlid++;
	LIST_INSERT_HEAD(&p->p_lwps, l, l_sibling);
	LIST_INSERT_HEAD(&alllwp, l, l_list);
	mutex_exit(proc_lock);
	mutex_enter(&p->p_lock);
	p->p_nlwps++;
	mutex_exit(&p->p_lock);
	*lp = l;
	return 0;
}

/*
 * lwp_free: l is off every list and has no thread running: let the VM
 * take back what it carries (the free hook: its u-area or kernel stack)
 * and free it.
 */
static void
lwp_free(struct lwp *l)
{
	void (*hook)(struct lwp *);

	hook = atomic_load(&lwp_free_hook);
	if (hook != NULL)
		(*hook)(l);
	mutex_destroy(&l->l_lock);
	mutex_destroy(&l->l_swaplock);
	free(l);
}

/*
 * lwp_unlink: take l off its process and alllwp.
 *
 * The swapper finds LWPs on alllwp under proc_lock and works on one with
 * only its l_swaplock held (uvm_swapout_threads drops proc_lock around
 * uvm_swapout); taking l_swaplock here, inside proc_lock (the order),
 * waits for such a swapper to finish with l before l leaves the lists
 * and is freed.  NetBSD's lwp_free has the swapper's own rechecks
 * (LW_WEXIT) for the same end.
 */
static void
lwp_unlink(struct lwp *l)
{
	struct proc *p = l->l_proc;

	mutex_enter(proc_lock);
	mutex_enter(&l->l_swaplock);
	LIST_REMOVE(l, l_sibling);
	LIST_REMOVE(l, l_list);
	mutex_exit(&l->l_swaplock);
	mutex_exit(proc_lock);
	mutex_enter(&p->p_lock);
	p->p_nlwps--;
	mutex_exit(&p->p_lock);
}

int
cpu_lwp_fork(struct lwp *l1, struct lwp *l2, void *stack, size_t stacksize,
    void (*func)(void *), void *arg)
{
	(void)l1;		/* no PCB to copy */
	(void)stack;		/* no trapframe: the host thread's stack */
	(void)stacksize;
	KASSERTMSG(l2->l_stat == LSIDL && l2->l_ht == NULL,
	    "cpu_lwp_fork: LWP %s already started", l2->l_name);
	l2->l_func = func;	/* [I] from here: the thread reads them */
	l2->l_arg = arg;
	return host_thread_create(&l2->l_thread, l2->l_name, lwp_trampoline,
	    l2);
}

void
lwp_discard(struct lwp *l)
{
	KASSERTMSG(l->l_stat == LSIDL && l->l_ht == NULL,
	    "lwp_discard: LWP %s was started", l->l_name);
	lwp_unlink(l);
	lwp_free(l);
}

void
cpu_proc_fork(struct proc *p1, struct proc *p2)
{
	/* NetBSD's MD hook (e.g. FPU state); our machine has none */
	(void)p1;
	(void)p2;
}

void
cpu_swapin(struct lwp *l)
{
	(void)l;
}

void
cpu_swapout(struct lwp *l)
{
	(void)l;
}

void
cpu_thread_swapin(struct lwp *td)
{
	(void)td;
}

void
cpu_thread_swapout(struct lwp *td)
{
	(void)td;
}

int
lwp_create(struct proc *p, const char *name, int flags, void (*fn)(void *),
    void *arg, struct lwp **lp)
{
	struct lwp *l;
	int error;

	error = lwp_alloc(p, name, LW_INMEM | (flags & LW_SYSTEM), &l);
	if (error != 0)
		return error;
	error = cpu_lwp_fork(curlwp, l, NULL, 0, fn, arg);
	if (error != 0) {
		lwp_discard(l);
		return error;
	}
	*lp = l;
	return 0;
}

int
kthread_create(void (*fn)(void *), void *arg, struct lwp **lp,
    const char *name)
{
	return lwp_create(&proc0, name, LW_SYSTEM, fn, arg, lp);
}

void
lwp_join(struct lwp *l)
{
	KASSERT(l != curlwp);
	lwp_block(l, "lwpjoin", &sleep_syncobj);
	hs_join(l->l_thread);
	lwp_unblock();
	lwp_unlink(l);
	lwp_free(l);		/* off its CPU and every list: NetBSD's lwp_free */
}

void
schedcpu(void)
{
	struct proc *p;
	struct lwp *l;
	bool allasleep, waiting = false;
	void (*kick)(void);

	mutex_enter(proc_lock);
	LIST_FOREACH(p, &allproc, p_list) {
		allasleep = !LIST_EMPTY(&p->p_lwps);
		LIST_FOREACH(l, &p->p_lwps, l_sibling) {
			lwp_lock(l);
			if (l->l_stat == LSSLEEP || l->l_stat == LSSTOP)
				l->l_slptime++;
			else
				allasleep = false;
			if (l->l_stat == LSRUN && (l->l_flag & LW_INMEM) == 0)
				waiting = true;
			l->l_swtime++;
			lwp_unlock(l);
		}
		p->p_swtime++;
		p->p_slptime = allasleep ? p->p_slptime + 1 : 0;
	}
	mutex_exit(proc_lock);
	if (waiting && (kick = atomic_load(&kick_scheduler)) != NULL)
		kick();
}

static const char *
lwp_stat_name(int stat)
{
	switch (stat) {
	case LSIDL: return "LSIDL";
	case LSRUN: return "LSRUN";
	case LSSLEEP: return "LSSLEEP";
	case LSSTOP: return "LSSTOP";
	case LSZOMB: return "LSZOMB";
	case LSONPROC: return "LSONPROC";
	default: return "?";
	}
}

/*
 * lwp_describe: one line of l's state for a dump (the watchdog's, a
 * panic's), which runs when something may be hung.
 *
 * The fields it prints are [l], written under lwp_lock: it reads them
 * under lwp_lock too, so that the dump is race-free (ThreadSanitizer
 * agrees), but only tries it, and at the host level: a try of the
 * kmutex's own pthread mutex, without the hook, the witness or the spl,
 * so that a dump never blocks, never waits in a scheduler hook and leaves
 * no trace in the held-lock stacks it is printing.  The lock is held for
 * the copy alone.  A holder that is not hung lets go within microseconds,
 * so the try is repeated a few times (LWP_DESCRIBE_TRIES, yielding in
 * between); if it is still taken (by the LWP itself, hung holding it),
 * the line says "(busy)" instead of the state.
 * [I] fields (pid, lid) are printed either way.
 * => never sleeps, never blocks; l stays alive across the call (the
 *    caller holds the thread registry lock, which its exit needs)
 */
#define LWP_DESCRIBE_TRIES	64

void
lwp_describe(const struct lwp *l, char *buf, size_t len)
{
	pthread_mutex_t *ml = (pthread_mutex_t *)(uintptr_t)&l->l_lock.mtx_lock;
	const char *wmesg;
	unsigned int slp, sw;
	int stat, flag, i;

	for (i = 0; pthread_mutex_trylock(ml) != 0; i++) {
		if (i == LWP_DESCRIBE_TRIES) {
			snprintf(buf, len, "[pid %d lid %d (busy)]",
			    l->l_proc->p_pid, l->l_lid);
			return;
		}
		sched_yield();
	}
	stat = l->l_stat;
	flag = l->l_flag;
	slp = l->l_slptime;
	sw = l->l_swtime;
	wmesg = l->l_wmesg;
	pthread_mutex_unlock(ml);

	snprintf(buf, len, "[pid %d lid %d %s flags %#x slp %u sw %u%s%s]",
	    l->l_proc->p_pid, l->l_lid, lwp_stat_name(stat), (unsigned)flag,
	    slp, sw, wmesg != NULL ? " on " : "", wmesg != NULL ? wmesg : "");
}
