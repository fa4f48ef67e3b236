/*
 * tests/test_vm_swap.c: the swapper half of vm/vm_glue.c (the seed
 * FreeBSD vm_glue.c): vm_thread_swapout, vm_thread_swapin, faultin,
 * swapper, kick_proc0, swapout_procs, swapclear, swapout; and ours
 * around them: the kernel-stack canary (vm_thread_check), the residency
 * check (vm_thread_resident), PHOLD/PRELE (vm_phold, vm_prele), the
 * tunables and vm_swapper_stop.
 *
 * Each test boots its own machine and VM with swap and a quiesced
 * pagedaemon (the tests page kernel stacks out themselves, with one
 * inactive scan).  The LWPs under test are FreeBSD threads: lwp_alloc,
 * vm_thread_new, cpu_lwp_fork (kern_proc.c's kern_lwp_create), reaped
 * with lwp_join (the free hook disposes of the stack), and they sleep
 * on a channel the test wakes.  How long they have slept (l_slptick,
 * in ticks) is set back by the test under lwp_lock, so no test waits
 * for the clock.  The run hook checks every LWP's canary each time it
 * gets a CPU.  LWP bodies never cr_assert: they report through atomics.
 * VMSWAP_STDERR=1 in the environment keeps stderr (panic reports).
 */
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <criterion/redirect.h>

#include "host/clock.h"
#include "host/kassert.h"
#include "host/sleepq.h"
#include "tests/vmtest.h"
#include "vm/kern_proc.h"
#include "vm/uvm.h"
#include "vm/uvm_aobj.h"
#include "vm/uvm_glue.h"
#include "vm/uvm_map.h"
#include "vm/uvm_pdaemon.h"
#include "vm/vm_glue.h"

#define WAIT_NS		(10 * 1000000000ull)
#define P(n)		((vsize_t)(n) * PAGE_SIZE)
#define CANARY_EXIT	42	/* the panic named the canary and the LWP */
#define OTHER_EXIT	43

#define WAIT_FOR_NS(cond, ns)						\
	do {								\
		uint64_t wf_dl_ = host_real_ns() + (ns);		\
		while (!(cond)) {					\
			cr_assert(host_real_ns() < wf_dl_,		\
			    "timed out waiting for %s", #cond);		\
			usleep(1000);					\
		}							\
	} while (0)
#define WAIT_FOR(cond)	WAIT_FOR_NS(cond, WAIT_NS)

/* An LWP that signs its kernel stack and sleeps until it is let go. */
struct sleeper {
	int		chan;
	int		go;		/* [a] set by the test before wakeup */
	int		sleeping;	/* [a] signed, about to sleep */
	int		woke;		/* [a] back, stack checked */
	int		pattern_ok;	/* [a] */
	int		resident;	/* [a] vm_thread_resident when back */
};

#define PAT_OFF		1024		/* in each stack page */
#define PAT_WORDS	32

/* local prototypes */
static void swap_boot(void);
static void swap_fini(void);
static void run_hook(struct lwp *);
static struct proc *newproc(const char *);
static struct lwp *td_create(struct proc *, const char *,
    void (*)(void *), void *);
static uint64_t pat(const struct sleeper *, int, int);
static void sleeper_fn(void *);
static void napper_fn(void *);
static struct lwp *sleeper(struct proc *, struct sleeper *);
static void wake(struct sleeper *);
static int lflag_of(struct lwp *);
static int pflag_of(struct proc *);
static bool inmem(struct lwp *);
static bool waits_on_lock(struct lwp *, const struct syncobj *);
static void set_slept(struct lwp *, int);
static int do_swapout(struct proc *);
static void do_faultin(struct proc *);
static bool kstack_unwired_unmapped(struct lwp *);
static void page_out_kstack(struct lwp *);
static void spinner_fn(void *);
static void locker_fn(void *);
static void swapper_fn(void *);
static void start_swapper(void);
static void stop_swapper(void);
static void faultin_fn(void *);
static void canary_panic_hook(const char *);
static void resident_fn(void *);

static struct lwp *swapper_lwp;
static char canary_want[64];

TestSuite(vm_swap, .init = swap_boot, .fini = swap_fini, .timeout = 60);

static void
swap_boot(void)
{
	if (getenv("VMSWAP_STDERR") == NULL)
		cr_redirect_stderr();
	vmtest_boot();
	vm_glue_init();
	vmtest_attach_swap(1024);
	cr_assert_eq(uvm_pdaemon_start(), 0);
	uvm_pdaemon_quiesce();		/* the tests page stacks out */
	kern_set_glue(UVM_GLUE_FREEBSD);	/* the free hook */
	host_set_lwp_run_hook(run_hook);
}

static void
swap_fini(void)
{
	if (swapper_lwp != NULL)
		stop_swapper();
	host_set_kick_scheduler(NULL);
	vmtest_shutdown();
}

/* The run hook: the canaries, each time an LWP gets a CPU. */
static void
run_hook(struct lwp *l)
{
	if (l->l_addr != NULL)
		uvm_uarea_check(l);
	vm_thread_check(l, "run");
}

/* ---- helpers ---- */

static struct proc *
newproc(const char *name)
{
	struct proc *p;

	cr_assert_eq(proc_create(name, &p), 0);
	p->p_vmspace = uvmspace_alloc(PAGE_SIZE, VM_MAXUSER_ADDRESS, true);
	cr_assert_not_null(p->p_vmspace);
	return p;
}

/* A FreeBSD thread of p (kern_lwp_create's steps): a kernel stack. */
static struct lwp *
td_create(struct proc *p, const char *name, void (*fn)(void *), void *arg)
{
	struct lwp *l;

	cr_assert_eq(lwp_alloc(p, name, LW_INMEM, &l), 0);
	cr_assert_eq(vm_thread_new(l, 0), 1);
	cr_assert_eq(cpu_lwp_fork(NULL, l, NULL, 0, fn, arg), 0);
	return l;
}

static uint64_t
pat(const struct sleeper *s, int page, int i)
{
	return 0x5eed000000000000ull ^ ((uint64_t)page << 32) ^
	    (uint64_t)i ^ (uint64_t)(uintptr_t)s;
}

static void
sleeper_fn(void *arg)
{
	struct sleeper *s = arg;
	struct lwp *l = curlwp;
	char why[160];
	uint64_t *w;
	int pg, i, ok = 1;

	for (pg = 0; pg < l->l_kstack_pages; pg++) {
		w = (uint64_t *)(l->l_kstack + P(pg) + PAT_OFF);
		for (i = 0; i < PAT_WORDS; i++)
			w[i] = pat(s, pg, i);
	}
	__atomic_store_n(&s->sleeping, 1, __ATOMIC_RELEASE);
	while (!__atomic_load_n(&s->go, __ATOMIC_ACQUIRE))
		(void)tsleep(&s->chan, 0, "swaptst", 0);
	for (pg = 0; pg < l->l_kstack_pages; pg++) {
		w = (uint64_t *)(l->l_kstack + P(pg) + PAT_OFF);
		for (i = 0; i < PAT_WORDS; i++)
			if (w[i] != pat(s, pg, i))
				ok = 0;
	}
	__atomic_store_n(&s->resident, vm_thread_resident(l, why,
	    sizeof(why)), __ATOMIC_RELEASE);
	__atomic_store_n(&s->pattern_ok, ok, __ATOMIC_RELEASE);
	__atomic_store_n(&s->woke, 1, __ATOMIC_RELEASE);
}

/* A sleeper that does not touch a kernel stack (it may have none). */
static void
napper_fn(void *arg)
{
	struct sleeper *s = arg;

	__atomic_store_n(&s->sleeping, 1, __ATOMIC_RELEASE);
	while (!__atomic_load_n(&s->go, __ATOMIC_ACQUIRE))
		(void)tsleep(&s->chan, 0, "swaptst", 0);
	__atomic_store_n(&s->woke, 1, __ATOMIC_RELEASE);
}

/* Start a sleeper on p and wait until it sleeps. */
static struct lwp *
sleeper(struct proc *p, struct sleeper *s)
{
	struct lwp *l = td_create(p, "sleeper", sleeper_fn, s);

	WAIT_FOR(__atomic_load_n(&s->sleeping, __ATOMIC_ACQUIRE) &&
	    vmtest_lwp_stat(l) == LSSLEEP);
	return l;
}

static void
wake(struct sleeper *s)
{
	__atomic_store_n(&s->go, 1, __ATOMIC_RELEASE);
	wakeup(&s->chan);
}

static int
lflag_of(struct lwp *l)
{
	int f;

	lwp_lock(l);
	f = l->l_flag;
	lwp_unlock(l);
	return f;
}

static int
pflag_of(struct proc *p)
{
	int f;

	mutex_enter(&p->p_lock);
	f = p->p_flag;
	mutex_exit(&p->p_lock);
	return f;
}

static bool
inmem(struct lwp *l)
{
	return (lflag_of(l) & LW_INMEM) != 0;
}

static bool
waits_on_lock(struct lwp *l, const struct syncobj *so)
{
	bool yes;

	lwp_lock(l);
	yes = l->l_stat == LSSLEEP && l->l_syncobj == so;
	lwp_unlock(l);
	return yes;
}

/* l has slept for secs seconds (its last sleep began secs ago). */
static void
set_slept(struct lwp *l, int secs)
{
	lwp_lock(l);
	l->l_slptick = getticks() - (uint64_t)secs * (uint64_t)hz;
	lwp_unlock(l);
}

/* swapout(p) with its locks (as swapout_procs calls it). */
static int
do_swapout(struct proc *p)
{
	int rv;

	mutex_enter(proc_lock);
	mutex_enter(&p->p_lock);
	rv = swapout(p);
	mutex_exit(&p->p_lock);
	mutex_exit(proc_lock);
	return rv;
}

static void
do_faultin(struct proc *p)
{
	mutex_enter(&p->p_lock);
	faultin(p);
	mutex_exit(&p->p_lock);
}

/* Every page of l's stack unwired, and unmapped in pmap_kernel. */
static bool
kstack_unwired_unmapped(struct lwp *l)
{
	struct uvm_object *ksobj = l->l_kstack_obj;
	struct vm_page *pg;
	paddr_t pa;
	bool ok = true;
	int i;

	rw_enter(ksobj->vmobjlock, RW_READ);
	for (i = 0; i < l->l_kstack_pages; i++) {
		pg = uvm_pagelookup(ksobj, P(i));
		if (pg != NULL && pg->wire_count != 0)
			ok = false;
		if (pmap_extract(pmap_kernel(), l->l_kstack + P(i), &pa))
			ok = false;
	}
	rw_exit(ksobj->vmobjlock);
	return ok;
}

/*
 * Page l's swapped-out stack out to swap: its pages are inactive and
 * dirty (vm_thread_swapout); inactive scans page them out and free them.
 */
static void
page_out_kstack(struct lwp *l)
{
	struct uvm_object *ksobj = l->l_kstack_obj;
	int i, n, left, tries;

	uvm_lock_pageq();
	__atomic_store_n(&uvmexp.freetarg, uvmexp.npages, __ATOMIC_RELAXED);
	uvm_unlock_pageq();
	for (tries = 0; tries < 4; tries++) {
		as_pagedaemon(scan_inactive_fn, NULL);
		uvm_pageout_drain();
		rw_enter(ksobj->vmobjlock, RW_READ);
		for (left = 0, i = 0; i < l->l_kstack_pages; i++)
			if (uvm_pagelookup(ksobj, P(i)) != NULL)
				left++;
		rw_exit(ksobj->vmobjlock);
		if (left == 0)
			break;
	}
	cr_assert_eq(left, 0, "%d kstack pages still resident", left);
	rw_enter(ksobj->vmobjlock, RW_READ);
	for (n = 0, i = 0; i < l->l_kstack_pages; i++)
		if (uao_find_swslot(ksobj, i) > 0)
			n++;
	rw_exit(ksobj->vmobjlock);
	cr_assert_eq(n, l->l_kstack_pages, "every stack page has a slot");
}

/* An LWP that runs (on a CPU, or queued for one) until *stop. */
static void
spinner_fn(void *arg)
{
	int *stop = arg;

	while (!__atomic_load_n(stop, __ATOMIC_ACQUIRE))
		preempt();
}

/* An LWP that waits for the mutex arg (held by the test). */
struct locker {
	kmutex_t	mtx;
	int		chan;
	int		go;		/* [a] */
	int		done;		/* [a] */
};

static void
locker_fn(void *arg)
{
	struct locker *k = arg;

	while (!__atomic_load_n(&k->go, __ATOMIC_ACQUIRE))
		(void)tsleep(&k->chan, 0, "lockgo", 0);
	mutex_enter(&k->mtx);
	mutex_exit(&k->mtx);
	__atomic_store_n(&k->done, 1, __ATOMIC_RELEASE);
}

static void
swapper_fn(void *arg)
{
	(void)arg;
	swapper();
}

/* The swapper on a kernel thread, kicked by the host (kick_proc0). */
static void
start_swapper(void)
{
	vm_swapper_reset();
	host_set_kick_scheduler(kick_proc0);
	swapper_lwp = vmtest_system_lwp("swapper", swapper_fn, NULL);
}

static void
stop_swapper(void)
{
	host_set_kick_scheduler(NULL);
	vm_swapper_stop();
	lwp_join(swapper_lwp);		/* swapper() returned */
	swapper_lwp = NULL;
}

/* faultin(p) on an LWP; what it saw when faultin returned. */
struct faultin_ctx {
	struct proc	*p;
	struct lwp	*td;		/* a thread of p */
	int		chan;
	int		go;		/* [a] */
	int		done;		/* [a] */
	int		pflag;		/* p_flag after faultin */
	int		td_inmem;	/* td's LW_INMEM after faultin */
};

static void
faultin_fn(void *arg)
{
	struct faultin_ctx *c = arg;

	while (!__atomic_load_n(&c->go, __ATOMIC_ACQUIRE))
		(void)tsleep(&c->chan, 0, "faultgo", 0);
	mutex_enter(&c->p->p_lock);
	faultin(c->p);
	c->pflag = c->p->p_flag;
	mutex_exit(&c->p->p_lock);
	c->td_inmem = inmem(c->td);
	__atomic_store_n(&c->done, 1, __ATOMIC_RELEASE);
}

/* ---- swapout, vm_thread_swapout ---- */

/*
 * swapout of a process whose threads all sleep: P_INMEM and every
 * LW_INMEM clear, each kernel stack unwired and unmapped (the pages stay
 * in the object, inactive), uvmexp.swapouts counts the threads and
 * ru_nswap the first; faultin brings it all back and the threads run.
 */
Test(vm_swap, swapout_of_sleeping_threads_unwires_and_unmaps_their_stacks)
{
	struct proc *p = newproc("sleepy");
	struct sleeper s[2];
	struct lwp *l[2];
	struct vm_swap_stats st;
	struct vm_page *pg;
	char why[160];
	int i, swapouts = uvmexp_read(swapouts), wired;

	memset(s, 0, sizeof(s));
	for (i = 0; i < 2; i++) {
		l[i] = sleeper(p, &s[i]);
		cr_assert(vm_thread_resident(l[i], why, sizeof(why)), "%s",
		    why);
	}
	wired = uvmexp_read(wired);
	cr_assert_eq(do_swapout(p), 0);
	cr_assert_eq(pflag_of(p) & (P_INMEM | P_SWAPPINGOUT | P_SWAPPINGIN),
	    0);
	for (i = 0; i < 2; i++) {
		cr_assert_not(inmem(l[i]));
		cr_assert(kstack_unwired_unmapped(l[i]));
		cr_assert_not(vm_thread_resident(l[i], why, sizeof(why)));
		cr_assert_not_null(strstr(why, "not wired"), "%s", why);
		rw_enter(((struct uvm_object *)l[i]->l_kstack_obj)->vmobjlock,
		    RW_READ);
		pg = uvm_pagelookup(l[i]->l_kstack_obj, 0);
		cr_assert_not_null(pg, "the page stays in its object");
		cr_assert(pg_flags_load(pg) & PQ_INACTIVE, "and is inactive");
		cr_assert_eq(pg_flags_load(pg) & PG_CLEAN, 0, "and dirty");
		rw_exit(((struct uvm_object *)l[i]->l_kstack_obj)->vmobjlock);
	}
	cr_assert_eq(uvmexp_read(swapouts), swapouts + 2);
	cr_assert_eq(uvmexp_read(wired), wired - 2 * KSTACK_PAGES);
	lwp_lock(LIST_FIRST(&p->p_lwps));
	cr_assert_eq(LIST_FIRST(&p->p_lwps)->l_ru.ru_nswap, 1);
	lwp_unlock(LIST_FIRST(&p->p_lwps));
	vm_swap_stats(&st);
	cr_assert_eq(st.vs_proc_swapouts, 1);

	do_faultin(p);
	cr_assert_eq(pflag_of(p) & (P_INMEM | P_SWAPPINGIN), P_INMEM);
	for (i = 0; i < 2; i++) {
		cr_assert(inmem(l[i]));
		cr_assert(vm_thread_resident(l[i], why, sizeof(why)), "%s",
		    why);
		wake(&s[i]);
		lwp_join(l[i]);
		cr_assert(s[i].pattern_ok, "the stack is intact");
		cr_assert(s[i].resident);
	}
	cr_assert_eq(uvmexp_read(wired), wired, "wired again (the reaped "
	    "threads' stacks are cached, wired)");
}

/*
 * swapout refuses (EBUSY) a process with a thread on a CPU or runnable,
 * one waiting for a lock, or one without a kernel stack, and swapclear
 * leaves everything as it was: P_INMEM, every LW_INMEM, the sleeper's
 * stack wired and mapped, the others go on.
 */
Test(vm_swap, swapout_refuses_a_running_or_lock_waiting_thread_with_ebusy)
{
	struct proc *p1 = newproc("busy"), *p2 = newproc("locky"),
	    *p3 = newproc("nostack");
	struct sleeper s[3];
	struct locker k;
	struct lwp *l[3], *spin, *lk, *bare;
	struct sleeper nap;
	struct vm_swap_stats st;
	char why[160];
	int stop = 0, i;

	memset(s, 0, sizeof(s));
	memset(&k, 0, sizeof(k));
	/* p1: a sleeper and a spinner (on a CPU or queued for one) */
	l[0] = sleeper(p1, &s[0]);
	spin = td_create(p1, "spinner", spinner_fn, &stop);
	WAIT_FOR(vmtest_lwp_stat(spin) == LSONPROC || vmtest_lwp_stat(spin) == LSRUN);
	cr_assert_eq(do_swapout(p1), EBUSY);
	cr_assert_eq(pflag_of(p1) & (P_INMEM | P_SWAPPINGOUT), P_INMEM);
	cr_assert(inmem(l[0]) && inmem(spin));
	cr_assert(vm_thread_resident(l[0], why, sizeof(why)), "%s", why);
	__atomic_store_n(&stop, 1, __ATOMIC_RELEASE);
	lwp_join(spin);

	/* p2: a sleeper and a thread waiting for a mutex */
	mutex_init(&k.mtx, MUTEX_DEFAULT, IPL_NONE);
	l[1] = sleeper(p2, &s[1]);
	lk = td_create(p2, "locker", locker_fn, &k);
	WAIT_FOR(vmtest_lwp_waits_in(lk, "lockgo"));
	mutex_enter(&k.mtx);
	__atomic_store_n(&k.go, 1, __ATOMIC_RELEASE);
	wakeup(&k.chan);
	WAIT_FOR(waits_on_lock(lk, &mutex_syncobj));
	cr_assert_eq(do_swapout(p2), EBUSY);
	cr_assert_eq(pflag_of(p2) & (P_INMEM | P_SWAPPINGOUT), P_INMEM);
	cr_assert(inmem(l[1]) && inmem(lk));
	cr_assert(vm_thread_resident(l[1], why, sizeof(why)), "%s", why);
	mutex_exit(&k.mtx);
	lwp_join(lk);
	cr_assert(k.done, "the lock waiter went on");

	/* p3: a sleeper and a sleeping thread without a kernel stack */
	l[2] = sleeper(p3, &s[2]);
	memset(&nap, 0, sizeof(nap));
	cr_assert_eq(lwp_create(p3, "bare", 0, napper_fn, &nap, &bare), 0);
	WAIT_FOR(__atomic_load_n(&nap.sleeping, __ATOMIC_ACQUIRE) &&
	    vmtest_lwp_stat(bare) == LSSLEEP);
	cr_assert_eq(do_swapout(p3), EBUSY);
	cr_assert_eq(pflag_of(p3) & (P_INMEM | P_SWAPPINGOUT), P_INMEM);
	cr_assert(inmem(l[2]) && inmem(bare));
	wake(&nap);
	lwp_join(bare);

	vm_swap_stats(&st);
	cr_assert_eq(st.vs_busy, 3);
	for (i = 0; i < 3; i++) {
		wake(&s[i]);
		lwp_join(l[i]);
		cr_assert(s[i].pattern_ok);
	}
}

/* ---- swapclear ---- */

/*
 * A thread woken while its process is out becomes LSRUN with
 * LW_SWAPINREQ and cannot run; once its stack is back (vm_thread_swapin),
 * swapclear marks it in memory, clears LW_SWAPINREQ and queues it: it
 * runs.  A thread that still sleeps is marked in memory only.
 */
Test(vm_swap, swapclear_marks_threads_in_and_queues_the_runnable_ones)
{
	struct proc *p = newproc("clear");
	struct sleeper s[2];
	struct lwp *l[2], *td;
	int i;

	memset(s, 0, sizeof(s));
	for (i = 0; i < 2; i++)
		l[i] = sleeper(p, &s[i]);
	cr_assert_eq(do_swapout(p), 0);
	wake(&s[0]);
	WAIT_FOR(vmtest_lwp_stat(l[0]) == LSRUN);
	cr_assert(lflag_of(l[0]) & LW_SWAPINREQ, "woken while out");
	cr_assert_not(inmem(l[0]));
	cr_assert_eq(__atomic_load_n(&s[0].woke, __ATOMIC_ACQUIRE), 0,
	    "it cannot run while out");

	LIST_FOREACH(td, &p->p_lwps, l_sibling)
		vm_thread_swapin(td);
	mutex_enter(&p->p_lock);
	swapclear(p);
	cr_assert_eq(p->p_flag & (P_INMEM | P_SWAPPINGIN | P_SWAPPINGOUT),
	    P_INMEM);
	mutex_exit(&p->p_lock);
	for (i = 0; i < 2; i++) {
		cr_assert(inmem(l[i]));
		cr_assert_eq(lflag_of(l[i]) & LW_SWAPINREQ, 0);
	}
	WAIT_FOR(__atomic_load_n(&s[0].woke, __ATOMIC_ACQUIRE));
	cr_assert(s[0].pattern_ok);
	cr_assert(s[0].resident);
	cr_assert_eq(vmtest_lwp_stat(l[1]), LSSLEEP, "the other still sleeps");
	lwp_join(l[0]);
	wake(&s[1]);
	lwp_join(l[1]);
	cr_assert(s[1].pattern_ok);
}

/* ---- vm_thread_swapin ---- */

/*
 * vm_thread_swapout, then the stack paged out to swap by an inactive
 * scan (its pages leave the object, their slots hold them), then
 * vm_thread_swapin reads them back: wired, mapped, no slot kept, the
 * canary and the thread's own pattern intact.
 */
Test(vm_swap, vm_thread_swapin_reads_a_paged_out_stack_back_intact)
{
	struct proc *p = newproc("paged");
	struct sleeper s;
	struct lwp *l;
	struct uvm_object *ksobj;
	char why[160];
	int i, swapins = uvmexp_read(swapins), swpgonly;

	memset(&s, 0, sizeof(s));
	l = sleeper(p, &s);
	ksobj = l->l_kstack_obj;
	cr_assert_eq(do_swapout(p), 0);
	swpgonly = uvmexp_read(swpgonly);
	page_out_kstack(l);
	cr_assert_eq(uvmexp_read(swpgonly), swpgonly + l->l_kstack_pages);

	vm_thread_swapin(l);
	cr_assert_eq(uvmexp_read(swapins), swapins + 1);
	cr_assert(vm_thread_resident(l, why, sizeof(why)), "%s", why);
	vm_thread_check(l, "test");	/* the canary came back */
	rw_enter(ksobj->vmobjlock, RW_READ);
	for (i = 0; i < l->l_kstack_pages; i++) {
		struct vm_page *pg = uvm_pagelookup(ksobj, P(i));

		cr_assert_eq(pg->wire_count, 1);
		cr_assert_eq(pg_flags_load(pg) & (PG_BUSY | PG_CLEAN |
		    PG_FAKE), 0);
		cr_assert_eq(uao_find_swslot(ksobj, i), 0,
		    "a wired stack page keeps no slot");
	}
	rw_exit(ksobj->vmobjlock);
	cr_assert_eq(uvmexp_read(swpgonly), swpgonly);

	mutex_enter(&p->p_lock);
	swapclear(p);
	mutex_exit(&p->p_lock);
	wake(&s);
	lwp_join(l);
	cr_assert(s.pattern_ok, "the stack came back from swap intact");
	cr_assert(s.resident);
}

/* ---- faultin ---- */

/*
 * faultin brings a swapped-out process in: its paged-out stacks, every
 * LW_INMEM, P_INMEM; a thread woken meanwhile runs after it.
 */
Test(vm_swap, faultin_brings_the_process_in_and_a_woken_thread_runs)
{
	struct proc *p = newproc("faulty");
	struct sleeper s[2];
	struct lwp *l[2];
	struct vm_swap_stats st;
	char why[160];
	int i;

	memset(s, 0, sizeof(s));
	for (i = 0; i < 2; i++)
		l[i] = sleeper(p, &s[i]);
	cr_assert_eq(do_swapout(p), 0);
	page_out_kstack(l[0]);
	wake(&s[0]);
	WAIT_FOR(vmtest_lwp_stat(l[0]) == LSRUN);
	do_faultin(p);
	cr_assert_eq(pflag_of(p) & (P_INMEM | P_SWAPPINGIN), P_INMEM);
	for (i = 0; i < 2; i++) {
		cr_assert(inmem(l[i]));
		cr_assert(vm_thread_resident(l[i], why, sizeof(why)), "%s",
		    why);
	}
	WAIT_FOR(__atomic_load_n(&s[0].woke, __ATOMIC_ACQUIRE));
	cr_assert(s[0].pattern_ok);
	do_faultin(p);		/* in memory: nothing to do */
	vm_swap_stats(&st);
	cr_assert_eq(st.vs_proc_swapins, 1);
	lwp_join(l[0]);
	wake(&s[1]);
	lwp_join(l[1]);
	cr_assert(s[1].pattern_ok);
}

/*
 * A second faultin while the first is at work (P_SWAPPINGIN) waits for
 * it ("faultin") and returns only with the process in: nothing runs on a
 * half swapped-in process.  The first is held inside vm_thread_swapin by
 * the test holding the stack object's lock.
 */
Test(vm_swap, a_second_faultin_waits_for_the_first)
{
	struct proc *p = newproc("twice");
	struct sleeper s;
	struct faultin_ctx c1, c2;
	struct lwp *l, *f1, *f2;
	struct uvm_object *ksobj;
	struct vm_swap_stats st;

	memset(&s, 0, sizeof(s));
	l = sleeper(p, &s);
	ksobj = l->l_kstack_obj;
	cr_assert_eq(do_swapout(p), 0);
	wake(&s);
	WAIT_FOR(vmtest_lwp_stat(l) == LSRUN);

	memset(&c1, 0, sizeof(c1));
	memset(&c2, 0, sizeof(c2));
	c1.p = c2.p = p;
	c1.td = c2.td = l;
	/* (LWPs are made with no lock held: lwp_alloc takes proc_lock) */
	f1 = vmtest_system_lwp("faultin1", faultin_fn, &c1);
	f2 = vmtest_system_lwp("faultin2", faultin_fn, &c2);
	WAIT_FOR(vmtest_lwp_waits_in(f1, "faultgo") && vmtest_lwp_waits_in(f2, "faultgo"));
	rw_enter(ksobj->vmobjlock, RW_WRITE);
	__atomic_store_n(&c1.go, 1, __ATOMIC_RELEASE);
	wakeup(&c1.chan);
	WAIT_FOR(waits_on_lock(f1, &rw_syncobj));
	cr_assert(pflag_of(p) & P_SWAPPINGIN);
	cr_assert_eq(p->p_holdcnt, 1, "held while it comes in");
	__atomic_store_n(&c2.go, 1, __ATOMIC_RELEASE);
	wakeup(&c2.chan);
	WAIT_FOR(vmtest_lwp_waits_in(f2, "faultin"));
	cr_assert_not(inmem(l), "nothing runs half swapped in");
	cr_assert_eq(__atomic_load_n(&s.woke, __ATOMIC_ACQUIRE), 0);
	rw_exit(ksobj->vmobjlock);

	lwp_join(f1);
	lwp_join(f2);
	cr_assert_eq(c1.pflag & (P_INMEM | P_SWAPPINGIN), P_INMEM);
	cr_assert_eq(c2.pflag & (P_INMEM | P_SWAPPINGIN), P_INMEM,
	    "the second returned with the process in");
	cr_assert(c2.td_inmem);
	vm_swap_stats(&st);
	cr_assert_eq(st.vs_faultin_waits, 1);
	cr_assert_eq(st.vs_proc_swapins, 1, "swapped in once");
	cr_assert_eq(p->p_holdcnt, 0);
	lwp_join(l);
	cr_assert(s.pattern_ok);
}

/*
 * PHOLD (vm_phold) of a swapped-out process faults it in and holds it:
 * swapout_procs leaves it; PRELE (vm_prele) lets it go.
 */
Test(vm_swap, phold_faults_the_process_in_and_keeps_it)
{
	struct proc *p = newproc("held");
	struct sleeper s;
	struct lwp *l;

	memset(&s, 0, sizeof(s));
	l = sleeper(p, &s);
	cr_assert_eq(do_swapout(p), 0);
	PHOLD(p);
	cr_assert(pflag_of(p) & P_INMEM);
	cr_assert(inmem(l));
	set_slept(l, 60);
	swapout_procs(VM_SWAP_NORMAL);
	cr_assert(pflag_of(p) & P_INMEM, "a held process stays");
	PRELE(p);
	cr_assert_eq(p->p_holdcnt, 0);
	set_slept(l, 60);
	swapout_procs(VM_SWAP_NORMAL);
	cr_assert_eq(pflag_of(p) & P_INMEM, 0, "let go: swapped out");
	do_faultin(p);
	wake(&s);
	lwp_join(l);
	cr_assert(s.pattern_ok);
}

/* ---- swapout_procs ---- */

/*
 * VM_SWAP_NORMAL swaps out a process whose threads have slept for
 * swap_idle_threshold1 seconds or more; it leaves a P_SYSTEM process, a
 * held one, an exiting one, a real-time one and one that has not slept
 * long enough.
 */
Test(vm_swap, swapout_procs_normal_swaps_sleepers_and_skips_the_rest)
{
	const char *names[6] = { "ok", "system", "held", "exiting",
	    "realtime", "fresh" };
	struct proc *p[6];
	struct sleeper s[6];
	struct lwp *l[6];
	int i;

	cr_assert_eq(vm_swap_idle_threshold1(), 2);
	cr_assert_eq(vm_swap_idle_threshold2(), 10);
	memset(s, 0, sizeof(s));
	for (i = 0; i < 6; i++) {
		p[i] = newproc(names[i]);
		l[i] = sleeper(p[i], &s[i]);
		set_slept(l[i], i == 5 ? 1 : 30);
	}
	mutex_enter(&p[1]->p_lock);
	p[1]->p_flag |= P_SYSTEM;
	mutex_exit(&p[1]->p_lock);
	PHOLD(p[2]);
	mutex_enter(&p[3]->p_lock);
	p[3]->p_flag |= P_WEXIT;
	mutex_exit(&p[3]->p_lock);
	lwp_lock(l[4]);
	l[4]->l_class = SCHED_FIFO;
	lwp_unlock(l[4]);

	swapout_procs(VM_SWAP_NORMAL);
	cr_assert_eq(pflag_of(p[0]) & P_INMEM, 0, "the sleeper is out");
	cr_assert_not(inmem(l[0]));
	for (i = 1; i < 6; i++) {
		cr_assert(pflag_of(p[i]) & P_INMEM, "%s stays", names[i]);
		cr_assert(inmem(l[i]), "%s stays", names[i]);
	}
	cr_assert(pflag_of(&proc0) & P_INMEM);

	mutex_enter(&p[1]->p_lock);
	p[1]->p_flag &= ~P_SYSTEM;
	mutex_exit(&p[1]->p_lock);
	PRELE(p[2]);
	mutex_enter(&p[3]->p_lock);
	p[3]->p_flag &= ~P_WEXIT;
	mutex_exit(&p[3]->p_lock);
	do_faultin(p[0]);
	for (i = 0; i < 6; i++) {
		wake(&s[i]);
		lwp_join(l[i]);
		cr_assert(s[i].pattern_ok);
	}
}

/*
 * VM_SWAP_IDLE alone swaps out only a process idle longer than
 * swap_idle_threshold2 (every thread asleep more than it: the seed's
 * minslptime > threshold2); swap_idle_threshold1 holds back any action;
 * a lower threshold2 takes the others.
 */
Test(vm_swap, swapout_procs_idle_swaps_only_long_idle_processes)
{
	struct proc *p[3];
	struct sleeper s[3];
	struct lwp *l[3];
	struct vm_swap_stats st;
	int slept[3] = { 5, 10, 30 }, i;

	memset(s, 0, sizeof(s));
	for (i = 0; i < 3; i++) {
		p[i] = newproc("idle");
		l[i] = sleeper(p[i], &s[i]);
	}
	for (i = 0; i < 3; i++)		/* half a second to spare */
		set_slept(l[i], slept[i]);
	for (i = 0; i < 3; i++) {
		lwp_lock(l[i]);
		l[i]->l_slptick -= (uint64_t)hz / 2;
		lwp_unlock(l[i]);
	}
	swapout_procs(VM_SWAP_IDLE);
	cr_assert(pflag_of(p[0]) & P_INMEM, "idle 5 s < threshold2");
	cr_assert(pflag_of(p[1]) & P_INMEM, "idle 10 s, not more");
	cr_assert_eq(pflag_of(p[2]) & P_INMEM, 0, "idle 30 s: out");
	vm_swap_stats(&st);
	cr_assert_eq(st.vs_idle_swapouts, 1);

	vm_swap_idle_threshold1_set(60);
	cr_assert_eq(vm_swap_idle_threshold1(), 60);
	swapout_procs(VM_SWAP_NORMAL);
	cr_assert(pflag_of(p[0]) & P_INMEM, "threshold1 guarantees 60 s");
	cr_assert(pflag_of(p[1]) & P_INMEM, "threshold1 guarantees 60 s");
	vm_swap_idle_threshold1_set(2);
	vm_swap_idle_threshold2_set(3);
	cr_assert_eq(vm_swap_idle_threshold2(), 3);
	swapout_procs(VM_SWAP_IDLE);
	cr_assert_eq(pflag_of(p[0]) & P_INMEM, 0, "threshold2 lowered");
	cr_assert_eq(pflag_of(p[1]) & P_INMEM, 0, "threshold2 lowered");
	vm_swap_stats(&st);
	cr_assert_eq(st.vs_idle_swapouts, 3);
	cr_assert_eq(st.vs_proc_swapouts, 3);

	for (i = 0; i < 3; i++) {
		wake(&s[i]);
		do_faultin(p[i]);
		lwp_join(l[i]);
		cr_assert(s[i].pattern_ok);
	}
}

/* ---- swapper, kick_proc0 ---- */

/*
 * The swapper on a kernel thread: a thread of a swapped-out process
 * (its stack paged out) is woken; the host kicks the swapper
 * (kick_proc0), which faults the process in, and the thread runs.
 * vm_swapper_stop makes swapper() return.
 */
Test(vm_swap, the_swapper_brings_in_a_woken_thread_and_stops)
{
	struct proc *p = newproc("swapped");
	struct sleeper s;
	struct lwp *l;
	struct vm_swap_stats st;

	memset(&s, 0, sizeof(s));
	l = sleeper(p, &s);
	cr_assert_eq(do_swapout(p), 0);
	page_out_kstack(l);
	start_swapper();
	WAIT_FOR(vmtest_lwp_waits_in(swapper_lwp, "swapin"));
	wake(&s);
	WAIT_FOR(__atomic_load_n(&s.woke, __ATOMIC_ACQUIRE));
	cr_assert(s.pattern_ok, "its stack came back from swap");
	cr_assert(s.resident);
	cr_assert(pflag_of(p) & P_INMEM);
	vm_swap_stats(&st);
	cr_assert_eq(st.vs_proc_swapins, 1);
	lwp_join(l);
	stop_swapper();
}

/*
 * kick_proc0 wakes a swapper sleeping in "swapin": with no kick hook a
 * woken thread of a swapped-out process stays out (the swapper's timed
 * sleep is ten seconds); kick_proc0 and it comes in at once.
 */
Test(vm_swap, kick_proc0_wakes_the_sleeping_swapper)
{
	struct proc *p = newproc("kicked");
	struct sleeper s;
	struct lwp *l;

	memset(&s, 0, sizeof(s));
	l = sleeper(p, &s);
	start_swapper();
	host_set_kick_scheduler(NULL);	/* nobody kicks but the test */
	WAIT_FOR(vmtest_lwp_waits_in(swapper_lwp, "swapin"));
	cr_assert_eq(do_swapout(p), 0);
	wake(&s);
	WAIT_FOR(vmtest_lwp_stat(l) == LSRUN);
	cr_assert_not(inmem(l));
	cr_assert(vmtest_lwp_waits_in(swapper_lwp, "swapin"), "nobody kicked it");
	kick_proc0();
	/* well within the swapper's MAXSLP * hz / 2 sleep */
	WAIT_FOR_NS(__atomic_load_n(&s.woke, __ATOMIC_ACQUIRE),
	    4000000000ull);
	cr_assert(s.pattern_ok);
	lwp_join(l);
	stop_swapper();
}

/*
 * With idle swapping on, the swapper itself swaps out a process idle
 * longer than swap_idle_threshold2 (the vm_daemon's VM_SWAP_IDLE).
 */
Test(vm_swap, the_swapper_swaps_idle_processes_out_when_enabled)
{
	struct proc *p = newproc("idler");
	struct sleeper s;
	struct lwp *l;
	struct vm_swap_stats st;

	memset(&s, 0, sizeof(s));
	l = sleeper(p, &s);
	set_slept(l, 60);
	vm_swap_idle_enabled_set(true);
	start_swapper();
	WAIT_FOR((pflag_of(p) & P_INMEM) == 0);
	/* counted by swapout_procs once swapout() is back: wait for it too */
	WAIT_FOR((vm_swap_stats(&st), st.vs_idle_swapouts >= 1));
	vm_swap_idle_enabled_set(false);
	wake(&s);		/* the swapper brings it back */
	WAIT_FOR(__atomic_load_n(&s.woke, __ATOMIC_ACQUIRE));
	cr_assert(s.pattern_ok);
	lwp_join(l);
	stop_swapper();
}

/* ---- the canary, vm_thread_resident ---- */

/*
 * vm_thread_new writes the canary on both paths (a fresh stack, one
 * from the cache, over its cache entry): vm_thread_check passes.
 */
Test(vm_swap, vm_thread_new_writes_the_canary_fresh_and_cached)
{
	struct lwp td, td2;

	memset(&td, 0, sizeof(td));
	memset(&td2, 0, sizeof(td2));
	cr_assert_eq(vm_thread_new(&td, 0), 1);
	vm_thread_check(&td, "test");
	vm_thread_dispose(&td);
	cr_assert_eq(vm_kstack_cache_count(), 1);
	cr_assert_eq(vm_thread_new(&td2, 0), 1);
	cr_assert_eq(vm_kstack_cache_count(), 0, "from the cache");
	vm_thread_check(&td2, "test");
	memset(&td, 0, sizeof(td));
	vm_thread_check(&td, "test");	/* no stack: nothing to check */
}

static void
canary_panic_hook(const char *msg)
{
	_exit(strstr(msg, "kstack canary (run)") != NULL &&
	    strstr(msg, canary_want) != NULL ? CANARY_EXIT : OTHER_EXIT);
}

/* A corrupted canary panics when the LWP next gets a CPU, naming it. */
Test(vm_swap, a_corrupted_canary_panics_at_the_next_run,
    .exit_code = CANARY_EXIT)
{
	struct proc *p = newproc("smashed");
	struct sleeper s;
	struct lwp *l;

	memset(&s, 0, sizeof(s));
	l = sleeper(p, &s);
	snprintf(canary_want, sizeof(canary_want), "LWP %d.%d (sleeper)",
	    p->p_pid, l->l_lid);
	host_set_panic_hook(canary_panic_hook);
	((volatile uint64_t *)l->l_kstack)[3] ^= 1;
	wake(&s);
	WAIT_FOR_NS(false, 10000000000ull);	/* the panic ends the test */
}

/*
 * vm_thread_resident: true for a running thread (asked by itself),
 * false with a reason once its stack is swapped out.
 */
struct resident_ctx {
	int	ok;		/* [a] */
	int	done;		/* [a] */
};

static void
resident_fn(void *arg)
{
	struct resident_ctx *c = arg;
	char why[160];

	__atomic_store_n(&c->ok, vm_thread_resident(curlwp, why,
	    sizeof(why)), __ATOMIC_RELEASE);
	__atomic_store_n(&c->done, 1, __ATOMIC_RELEASE);
}

Test(vm_swap, vm_thread_resident_is_true_running_and_false_swapped_out)
{
	struct proc *p = newproc("resident");
	struct resident_ctx c;
	struct sleeper s;
	struct lwp *l;
	char why[160];

	memset(&c, 0, sizeof(c));
	l = td_create(p, "running", resident_fn, &c);
	lwp_join(l);
	cr_assert(c.done && c.ok, "a running thread's stack is resident");

	memset(&s, 0, sizeof(s));
	l = sleeper(p, &s);
	cr_assert(vm_thread_resident(l, why, sizeof(why)), "%s", why);
	cr_assert_eq(do_swapout(p), 0);
	cr_assert_not(vm_thread_resident(l, why, sizeof(why)));
	cr_assert_not_null(strstr(why, "not wired"), "%s", why);
	page_out_kstack(l);
	cr_assert_not(vm_thread_resident(l, why, sizeof(why)));
	cr_assert_not_null(strstr(why, "not in its object"), "%s", why);
	do_faultin(p);
	cr_assert(vm_thread_resident(l, why, sizeof(why)), "%s", why);
	wake(&s);
	lwp_join(l);
	cr_assert(s.pattern_ok);
}
