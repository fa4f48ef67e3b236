/*
 * tests/test_uvm_swap.c: the swapper half of vm/uvm_glue.c (the seed
 * NetBSD uvm_glue.c): swappable (through its callers), uvm_swapout_threads
 * and uvm_swapout, uvm_swapin, uvm_kick_scheduler, uvm_scheduler,
 * uvm_lwp_hold, uvm_lwp_rele; and the two races the seed's rechecks
 * prevent.
 *
 * Each test boots its own machine and VM.  The LWPs under test have
 * u-areas (uvm_lwp_create) and sleep on a channel the test wakes; how
 * long they have slept (l_slptime, aged by schedcpu once a simulated
 * second) is set by the test under lwp_lock, so that no test waits for
 * the clock.  Helper LWPs never cr_assert; they report through atomics.
 */
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <criterion/redirect.h>

#include "host/clock.h"
#include "host/hook.h"
#include "host/kassert.h"
#include "host/sleepq.h"
#include "tests/vmtest.h"
#include "vm/kern_proc.h"
#include "vm/uvm.h"
#include "vm/uvm_glue.h"
#include "vm/uvm_map.h"
#include "vm/uvm_pager.h"
#include "vm/uvm_pdaemon.h"

#define WAIT_NS		(10 * 1000000000ull)
#define P(n)		((vsize_t)(n) * PAGE_SIZE)

#define WAIT_FOR(cond)							\
	do {								\
		uint64_t wf_dl_ = host_real_ns() + WAIT_NS;		\
		while (!(cond)) {					\
			cr_assert(host_real_ns() < wf_dl_,		\
			    "timed out waiting for %s", #cond);		\
			sched_yield();					\
		}							\
	} while (0)

struct sleeper;

/* local prototypes */
static void swap_boot(void);
static void swap_fini(void);
static struct proc *newproc(void);
static void sleeper_fn(void *);
static struct lwp *sleeper(struct proc *, struct sleeper *);
static bool inmem(struct lwp *);
static bool uarea_wired(struct lwp *);
static void set_slptime(struct lwp *, unsigned int);
static void swapout_threads_fn(void *);
static void run_swapout_threads(void);
static void scheduler_fn(void *);
static void start_scheduler(void);
static void stop_scheduler(void);
static void page_out_uarea(struct lwp *);
static void spinner_fn(void *);
static void locker_fn(void *);
static void starve_fn(void *);
static void starve(void);
static void unstarve(void);
static void wake_on_unlock_hook(enum hook_ev, const void *, uintptr_t);
static void wake(struct sleeper *);
static void racer_fn(void *);
static void ksleeper_fn(void *);
static void rele_panic_hook(const char *);

static struct lwp *sched_lwp;

TestSuite(uvm_swap, .init = swap_boot, .fini = swap_fini, .timeout = 60);

static void
swap_boot(void)
{
	if (getenv("SWAPTEST_STDERR") == NULL)
		cr_redirect_stderr();
	vmtest_boot();
	vmtest_attach_swap(1024);
	cr_assert_eq(uvm_pdaemon_start(), 0);
	uvm_pdaemon_quiesce();		/* the tests drive the swapper */
}

static void
swap_fini(void)
{
	host_set_sched_hook(NULL);
	if (sched_lwp != NULL)
		stop_scheduler();
	vmtest_shutdown();
}

/* ---- helpers ---- */

static struct proc *
newproc(void)
{
	struct proc *p;
	struct vmspace *vm;

	cr_assert_eq(proc_create("swaptest", &p), 0);
	vm = uvmspace_alloc(PAGE_SIZE, VM_MAXUSER_ADDRESS, true);
	cr_assert_not_null(vm);
	p->p_vmspace = vm;
	return p;
}

/*
 * An LWP that writes a pattern into its u-area's unused stack part,
 * sleeps on chan until s->go, then checks the pattern (after a swap-in,
 * that it came back from swap intact) and exits.
 */
struct sleeper {
	int		chan;
	int		go;		/* [a] set by the test before wakeup */
	int		sleeping;	/* [a] about to sleep */
	int		woke;		/* [a] back, pattern checked */
	int		pattern_ok;	/* [a] */
	uint64_t	nswitch;	/* canary checks when it woke */
};

#define PAT_OFF		1024		/* in the u-area's stack part */
#define PAT_WORDS	256

static void
sleeper_fn(void *arg)
{
	struct sleeper *s = arg;
	uint64_t *w = (uint64_t *)(USER_TO_UAREA(curlwp->l_addr) + PAT_OFF);
	int i, ok = 1;

	for (i = 0; i < PAT_WORDS; i++)
		w[i] = 0xfeed0000ull + (uint64_t)i + (uint64_t)(uintptr_t)s;
	__atomic_store_n(&s->sleeping, 1, __ATOMIC_RELEASE);
	while (!__atomic_load_n(&s->go, __ATOMIC_ACQUIRE))
		(void)tsleep(&s->chan, 0, "swaptst", 0);
	for (i = 0; i < PAT_WORDS; i++)
		if (w[i] != 0xfeed0000ull + (uint64_t)i + (uint64_t)(uintptr_t)s)
			ok = 0;
	s->nswitch = ((struct upcb *)USER_TO_UAREA(curlwp->l_addr))->upcb_nswitch;
	__atomic_store_n(&s->pattern_ok, ok, __ATOMIC_RELEASE);
	__atomic_store_n(&s->woke, 1, __ATOMIC_RELEASE);
}

/* Start a sleeper on p and wait until it sleeps. */
static struct lwp *
sleeper(struct proc *p, struct sleeper *s)
{
	struct lwp *l;

	cr_assert_eq(uvm_lwp_create(p, "sleeper", sleeper_fn, s, &l), 0);
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

static bool
inmem(struct lwp *l)
{
	return uvm_lwp_inmem(l);
}

/* Is every page of l's u-area wired and mapped? */
static bool
uarea_wired(struct lwp *l)
{
	char why[160];

	return uvm_uarea_resident(l, why, sizeof(why));
}

static void
set_slptime(struct lwp *l, unsigned int secs)
{
	lwp_lock(l);
	l->l_slptime = secs;
	lwp_unlock(l);
}

static void
swapout_threads_fn(void *arg)
{
	(void)arg;
	uvm_swapout_threads();
}

/* The pagedaemon's call, on an LWP of the pagedaemon's process. */
static void
run_swapout_threads(void)
{
	as_pagedaemon(swapout_threads_fn, NULL);
}

static void
scheduler_fn(void *arg)
{
	(void)arg;
	uvm_scheduler();
}

static void
start_scheduler(void)
{
	uvm_scheduler_start();
	host_set_kick_scheduler(uvm_kick_scheduler);
	sched_lwp = vmtest_system_lwp("swapper", scheduler_fn, NULL);
}

static void
stop_scheduler(void)
{
	host_set_kick_scheduler(NULL);
	uvm_scheduler_stop();
	lwp_join(sched_lwp);
	sched_lwp = NULL;
}

/*
 * Page l's (swapped-out, unwired) u-area out to swap: deactivate its
 * pages, let one inactive scan page them out, wait for the writes.
 */
static void
page_out_uarea(struct lwp *l)
{
	vaddr_t ua = USER_TO_UAREA(l->l_addr), va;
	struct vm_page *pg;
	paddr_t pa;
	int n;

	rw_enter(uvm.kernel_object->vmobjlock, RW_WRITE);
	uvm_lock_pageq();
	for (va = ua; va < ua + USPACE; va += PAGE_SIZE) {
		cr_assert(pmap_extract(pmap_kernel(), va, &pa));
		pg = PHYS_TO_VM_PAGE(pa);
		cr_assert_eq(pg->wire_count, 0, "u-area page still wired");
		uvm_pagedeactivate(pg);
	}
	uvm_unlock_pageq();
	rw_exit(uvm.kernel_object->vmobjlock);
	n = uvmexp_read(swpgonly);
	uvm_lock_pageq();
	__atomic_store_n(&uvmexp.freetarg, uvmexp.npages, __ATOMIC_RELAXED);
	uvm_unlock_pageq();
	as_pagedaemon(scan_inactive_fn, NULL);	/* the pageout */
	uvm_pageout_drain();
	as_pagedaemon(scan_inactive_fn, NULL);	/* frees the clean pages */
	cr_assert_geq(uvmexp_read(swpgonly), n + (int)(USPACE / PAGE_SIZE),
	    "the u-area went to swap");
	for (va = ua; va < ua + USPACE; va += PAGE_SIZE)
		cr_assert_not(pmap_extract(pmap_kernel(), va, &pa),
		    "u-area page %#lx still mapped", (unsigned long)va);
}

/* A kernel thread asleep on arg until it is set. */
static void
ksleeper_fn(void *arg)
{
	int *go = arg;

	while (!__atomic_load_n(go, __ATOMIC_ACQUIRE))
		(void)tsleep(go, 0, "ksleep", 0);
}

/* An LWP that runs (on a CPU) until *stop. */
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
	int		done;		/* [a] */
};

static void
locker_fn(void *arg)
{
	struct locker *k = arg;

	mutex_enter(&k->mtx);
	mutex_exit(&k->mtx);
	__atomic_store_n(&k->done, 1, __ATOMIC_RELEASE);
}

/*
 * Take free pages until at most a u-area's worth is left (and back): as
 * the pagedaemon's process, which may take the last pages.
 */
static struct pglist starved;

static void
starve_fn(void *arg)
{
	struct vm_page *pg;

	(void)arg;
	while (uvmexp_read(free) > (int)atop(USPACE) &&
	    (pg = uvm_pagealloc(NULL, 0, NULL, 0)) != NULL)
		TAILQ_INSERT_TAIL(&starved, pg, pageq);
}

static void
starve(void)
{
	TAILQ_INIT(&starved);
	as_pagedaemon(starve_fn, NULL);
	cr_assert_leq(uvmexp_read(free), (int)atop(USPACE));
}

static void
unstarve(void)
{
	struct vm_page *pg;

	while ((pg = TAILQ_FIRST(&starved)) != NULL) {
		TAILQ_REMOVE(&starved, pg, pageq);
		uvm_pagefree(pg);
	}
}

/* ---- uvm_swapout_threads, uvm_swapout, swappable ---- */

Test(uvm_swap, an_lwp_asleep_for_maxslp_is_swapped_out)
{
	struct proc *p = newproc();
	struct sleeper s = { 0 };
	struct lwp *l = sleeper(p, &s);
	int outs = uvmexp_read(swapouts);

	cr_assert(inmem(l));
	cr_assert(uarea_wired(l));
	set_slptime(l, (unsigned int)maxslp);
	run_swapout_threads();
	cr_assert_not(inmem(l), "LW_INMEM still set");
	cr_assert_not(uarea_wired(l), "the u-area is still wired");
	cr_assert_eq(uvmexp_read(swapouts), outs + 1);
	cr_assert_eq(l->l_ru.ru_nswap, 1);
	lwp_lock(l);
	cr_assert_eq(l->l_swtime, 0, "l_swtime restarts at swap-out");
	cr_assert_not(l->l_onrq, "a swapped-out LWP is off the run queue");
	lwp_unlock(l);

	/* bring it back for the teardown: a hold swaps it in */
	uvm_lwp_hold(l);
	cr_assert(inmem(l));
	uvm_lwp_rele(l);
	wake(&s);
	lwp_join(l);
	cr_assert(s.pattern_ok);
}

Test(uvm_swap, a_short_sleeper_stays_while_memory_is_plentiful)
{
	struct proc *p = newproc();
	struct sleeper s = { 0 };
	struct lwp *l = sleeper(p, &s);
	int outs = uvmexp_read(swapouts);

	set_slptime(l, (unsigned int)maxslp - 1);
	run_swapout_threads();
	cr_assert(inmem(l), "swapped out with memory to spare");
	cr_assert_eq(uvmexp_read(swapouts), outs);
	wake(&s);
	lwp_join(l);
}

Test(uvm_swap, with_no_memory_the_longest_sleeper_goes)
{
	struct proc *p = newproc();
	struct sleeper s1 = { 0 }, s2 = { 0 };
	struct lwp *l1 = sleeper(p, &s1), *l2 = sleeper(p, &s2);

	set_slptime(l1, 1);
	set_slptime(l2, 3);		/* below maxslp, but the longest */
	starve();
	run_swapout_threads();
	unstarve();
	cr_assert(inmem(l1), "the shorter sleeper was taken");
	cr_assert_not(inmem(l2), "the longest sleeper was not swapped out");
	uvm_lwp_hold(l2);
	uvm_lwp_rele(l2);
	wake(&s1);
	wake(&s2);
	lwp_join(l1);
	lwp_join(l2);
}

Test(uvm_swap, running_lock_waiting_held_and_system_lwps_are_not_swappable)
{
	struct proc *p = newproc();
	struct sleeper s = { 0 };
	struct locker k = { .done = 0 };
	struct lwp *ls, *lr, *lk, *lsys;
	int stop = 0, kgo = 0, outs;

	mutex_init(&k.mtx, MUTEX_DEFAULT, IPL_NONE);
	/* held: uvm_lwp_hold'd sleeper */
	ls = sleeper(p, &s);
	uvm_lwp_hold(ls);
	set_slptime(ls, 100);
	/* running */
	cr_assert_eq(uvm_lwp_create(p, "spinner", spinner_fn, &stop, &lr), 0);
	WAIT_FOR(vmtest_lwp_stat(lr) == LSONPROC);
	/* waiting for a lock */
	mutex_enter(&k.mtx);
	cr_assert_eq(uvm_lwp_create(p, "locker", locker_fn, &k, &lk), 0);
	WAIT_FOR(vmtest_lwp_stat(lk) == LSSLEEP);
	set_slptime(lk, 100);
	/* a kernel thread asleep for ages (no u-area, LW_SYSTEM) */
	cr_assert_eq(kthread_create(ksleeper_fn, &kgo, &lsys, "ksleeper"), 0);
	WAIT_FOR(vmtest_lwp_waits_in(lsys, "ksleep"));
	set_slptime(lsys, 100);
	outs = uvmexp_read(swapouts);
	starve();
	run_swapout_threads();
	unstarve();
	cr_assert_eq(uvmexp_read(swapouts), outs, "something was swapped out");
	cr_assert(inmem(ls) && inmem(lr) && inmem(lk));
	mutex_exit(&k.mtx);
	__atomic_store_n(&stop, 1, __ATOMIC_RELEASE);
	uvm_lwp_rele(ls);
	wake(&s);
	lwp_join(ls);
	lwp_join(lr);
	lwp_join(lk);
	cr_assert(k.done);
	__atomic_store_n(&kgo, 1, __ATOMIC_RELEASE);
	wakeup(&kgo);
	lwp_join(lsys);
	mutex_destroy(&k.mtx);
}

/*
 * The race uvm_swapout's recheck exists for: the scan picks an LWP
 * asleep, drops proc_lock to call uvm_swapout, and the LWP is woken and
 * runs before uvm_swapout takes its lock.  The hook wakes it at that
 * moment (proc_lock released by the pagedaemon's LWP while it holds the
 * sleeper's l_swaplock) and waits until it runs.  uvm_swapout must find
 * it running and leave it in memory.
 */
static struct lwp *race_lwp;
static struct sleeper *race_s;
static int race_fired;

static void
wake_on_unlock_hook(enum hook_ev ev, const void *obj, uintptr_t arg)
{
	(void)arg;
	if (ev != HE_UNLOCK || obj != (const void *)proc_lock ||
	    race_lwp == NULL || !mutex_owned(&race_lwp->l_swaplock))
		return;
	if (__atomic_exchange_n(&race_fired, 1, __ATOMIC_ACQ_REL) != 0)
		return;
	__atomic_store_n(&race_s->go, 2, __ATOMIC_RELEASE);
	wakeup(&race_s->chan);
	while (!(race_lwp->l_pflag & LP_RUNNING) &&
	    !__atomic_load_n(&race_s->woke, __ATOMIC_ACQUIRE))
		sched_yield();
}

/* The sleeper, made to stay on its CPU once woken (go == 2). */
static void
racer_fn(void *arg)
{
	struct sleeper *s = arg;

	__atomic_store_n(&s->sleeping, 1, __ATOMIC_RELEASE);
	while (!__atomic_load_n(&s->go, __ATOMIC_ACQUIRE))
		(void)tsleep(&s->chan, 0, "swaptst", 0);
	while (__atomic_load_n(&s->go, __ATOMIC_ACQUIRE) == 2)
		;		/* on the CPU, LP_RUNNING, until the test says */
	__atomic_store_n(&s->woke, 1, __ATOMIC_RELEASE);
}

Test(uvm_swap, an_lwp_woken_before_uvm_swapout_locks_it_is_not_swapped)
{
	struct proc *p = newproc();
	struct sleeper s = { 0 };
	struct lwp *l;
	int outs = uvmexp_read(swapouts);

	cr_assert_eq(uvm_lwp_create(p, "racer", racer_fn, &s, &l), 0);
	WAIT_FOR(__atomic_load_n(&s.sleeping, __ATOMIC_ACQUIRE) &&
	    vmtest_lwp_stat(l) == LSSLEEP);
	set_slptime(l, (unsigned int)maxslp);
	race_lwp = l;
	race_s = &s;
	host_set_sched_hook(wake_on_unlock_hook);
	run_swapout_threads();
	host_set_sched_hook(NULL);
	cr_assert(race_fired, "the hook never saw the window");
	cr_assert_eq(uvmexp_read(swapouts), outs,
	    "a running LWP was swapped out");
	cr_assert(inmem(l));
	cr_assert(uarea_wired(l));
	__atomic_store_n(&s.go, 1, __ATOMIC_RELEASE);
	lwp_join(l);
	cr_assert(s.woke);
	race_lwp = NULL;
}

/* ---- uvm_scheduler, uvm_swapin, uvm_kick_scheduler ---- */

Test(uvm_swap, a_woken_lwp_is_swapped_in_from_swap_and_runs)
{
	struct proc *p = newproc();
	struct sleeper s = { 0 };
	struct lwp *l = sleeper(p, &s);
	int ins;

	start_scheduler();
	set_slptime(l, (unsigned int)maxslp);
	run_swapout_threads();
	cr_assert_not(inmem(l));
	page_out_uarea(l);
	ins = uvmexp_read(swapins);
	wake(&s);		/* lwp_unblock kicks the scheduler */
	WAIT_FOR(__atomic_load_n(&s.woke, __ATOMIC_ACQUIRE));
	cr_assert(inmem(l));
	cr_assert_eq(uvmexp_read(swapins), ins + 1);
	cr_assert(s.pattern_ok, "the u-area came back from swap changed");
	cr_assert_gt(s.nswitch, 0, "the canary was checked before it ran");
	lwp_join(l);
	stop_scheduler();
}

Test(uvm_swap, a_runnable_lwp_swapped_out_is_brought_back)
{
	struct proc *p = newproc();
	struct sleeper s = { 0 };
	struct lwp *l = sleeper(p, &s);

	/* out while asleep; woken with no swapper to bring it in */
	set_slptime(l, (unsigned int)maxslp);
	run_swapout_threads();
	cr_assert_not(inmem(l));
	wake(&s);
	WAIT_FOR(vmtest_lwp_stat(l) == LSRUN);
	cr_assert_not(__atomic_load_n(&s.woke, __ATOMIC_ACQUIRE),
	    "it ran out of memory");
	lwp_lock(l);
	cr_assert(l->l_flag & LW_SWAPINREQ, "the wakeup asked for a swap-in");
	lwp_unlock(l);
	/* the swapper's first pass finds it (LSRUN, not in memory) */
	start_scheduler();
	WAIT_FOR(__atomic_load_n(&s.woke, __ATOMIC_ACQUIRE));
	lwp_join(l);
	stop_scheduler();
}

Test(uvm_swap, uvm_kick_scheduler_needs_a_running_scheduler)
{
	uvm_kick_scheduler();		/* none: a no-op */
	cr_assert_not(uvm.scheduler_kicked);
	start_scheduler();
	WAIT_FOR(sched_lwp != NULL && vmtest_lwp_stat(sched_lwp) == LSSLEEP);
	uvm_kick_scheduler();
	/* it wakes, finds nothing and clears the kick before sleeping */
	WAIT_FOR(vmtest_lwp_stat(sched_lwp) == LSSLEEP &&
	    !__atomic_load_n(&uvm.scheduler_kicked, __ATOMIC_ACQUIRE));
	stop_scheduler();
	cr_assert_not(__atomic_load_n(&uvm.swap_running, __ATOMIC_ACQUIRE));
}

Test(uvm_swap, the_scheduler_waits_for_memory_before_a_swapin)
{
	struct proc *p = newproc();
	struct sleeper s = { 0 };
	struct lwp *l = sleeper(p, &s);

	set_slptime(l, (unsigned int)maxslp);
	run_swapout_threads();
	cr_assert_not(inmem(l));
	starve();
	start_scheduler();
	wake(&s);
	WAIT_FOR(vmtest_lwp_waits_in(sched_lwp, "schedpwait"));
	cr_assert_not(inmem(l), "swapped in with no memory");
	unstarve();
	WAIT_FOR(__atomic_load_n(&s.woke, __ATOMIC_ACQUIRE));
	lwp_join(l);
	stop_scheduler();
}

/* ---- uvm_lwp_hold, uvm_lwp_rele ---- */

Test(uvm_swap, uvm_lwp_hold_brings_an_lwp_in_and_keeps_it)
{
	struct proc *p = newproc();
	struct sleeper s = { 0 };
	struct lwp *l = sleeper(p, &s);

	set_slptime(l, (unsigned int)maxslp);
	run_swapout_threads();
	cr_assert_not(inmem(l));
	page_out_uarea(l);
	uvm_lwp_hold(l);
	cr_assert(inmem(l), "hold did not swap it in");
	cr_assert(uarea_wired(l));
	cr_assert_eq(l->l_holdcnt, 1);
	uvm_lwp_hold(l);
	cr_assert_eq(l->l_holdcnt, 2, "holds count");
	set_slptime(l, 1000);
	run_swapout_threads();
	cr_assert(inmem(l), "a held LWP was swapped out");
	uvm_lwp_rele(l);
	uvm_lwp_rele(l);
	cr_assert_eq(l->l_holdcnt, 0);
	run_swapout_threads();
	cr_assert_not(inmem(l), "released, it is swappable again");
	uvm_lwp_hold(l);
	uvm_lwp_rele(l);
	wake(&s);
	lwp_join(l);
	cr_assert(s.pattern_ok);
}

static void
rele_panic_hook(const char *msg)
{
	_exit(strstr(msg, "l_holdcnt") != NULL ? EXIT_FAILURE_FOUND :
	    EXIT_USAGE);
}

Test(uvm_swap, uvm_lwp_rele_without_a_hold_panics,
    .exit_code = EXIT_FAILURE_FOUND)
{
	struct proc *p = newproc();
	struct sleeper s = { 0 };
	struct lwp *l = sleeper(p, &s);

	host_set_panic_hook(rele_panic_hook);
	uvm_lwp_rele(l);
}
