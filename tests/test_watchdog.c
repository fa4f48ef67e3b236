/*
 * tests/test_watchdog.c: host/watchdog.c (the hang watchdog).
 *
 * Criterion forks every test, so the progress count and the watchdog are
 * each test's own.  The hang test makes a real hang: a thread holding one
 * kmutex blocks on a second that the main thread holds, nobody calls
 * host_progress(), and the watchdog must notice within its bound, print
 * the held lock, and call on_hang.  Its output goes to a memfd standing in
 * for stderr while the watchdog runs.
 *
 * The dump tests run LWPs on a machine (CPUs, clock, proc) that sleep,
 * wake and get preempted all through the dump, without progress, so the
 * dump reads LWP state while it changes (lwp_describe reads it under a
 * try of lwp_lock: race-free, never blocking); and one holds an LWP's
 * lock through the dump, which must print "(busy)" and go on.
 */
#include "host/hook.h"
#include "host/kassert.h"
#include "host/lwp.h"
#include "host/mutex.h"
#include "host/sleepq.h"
#include "host/spl.h"
#include "host/thread.h"
#include "host/watchdog.h"
#include "host/witness.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>

#define WD_WAIT_S	10		/* generous bound for "it fired" */
#define WAIT_NS		(5ull * 1000 * 1000 * 1000)	/* hosttest.h */
#define NCHURN		3		/* LWPs sleeping and waking */
#include "hosttest.h"

static pthread_mutex_t hang_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t hang_cv = PTHREAD_COND_INITIALIZER;
static int hang_n;			/* [hang_lock] on_hang calls */
static uint64_t hang_ns;		/* [hang_lock] time of the first */

struct blocker {
	kmutex_t	*b_held;	/* taken, then kept while blocked */
	kmutex_t	*b_wanted;	/* held by the main thread */
	atomic_bool	b_ready;
};

static atomic_bool spin_stop;

/* LWPs for the dump tests: churners, a spinner and a long sleeper. */
struct lwpset {
	atomic_bool	ls_stop;
	atomic_long	ls_rounds;	/* churn and spin rounds, all LWPs */
	kmutex_t	ls_lock;	/* interlock of the long sleep */
	int		ls_chan;	/* the long sleeper's channel */
	atomic_bool	ls_asleep;
	struct proc	*ls_proc;
	struct lwp	*ls_churn[NCHURN];
	struct lwp	*ls_spin;
	struct lwp	*ls_sleeper;
};

/* local prototypes */
static uint64_t now_ns(void);
static void on_hang(void);
static bool wait_hang(unsigned seconds);
static int stderr_to_memfd(int *saved);
static char *stderr_restore(int memfd, int saved);
static void *blocker_main(void *arg);
static void *progress_main(void *arg);
static void churn_main(void *arg);
static void spin_main(void *arg);
static void sleeper_main(void *arg);
static void lwpset_start(struct lwpset *ls);
static void lwpset_stop(struct lwpset *ls);
static void lwp_line(const struct lwp *l, const char *state, char *buf,
    size_t len);

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void
on_hang(void)
{
	pthread_mutex_lock(&hang_lock);
	if (hang_n++ == 0)
		hang_ns = now_ns();
	pthread_cond_broadcast(&hang_cv);
	pthread_mutex_unlock(&hang_lock);
}

/* wait_hang: wait up to `seconds` for on_hang; did it fire? */
static bool
wait_hang(unsigned seconds)
{
	struct timespec deadline;
	bool fired;

	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += seconds;
	pthread_mutex_lock(&hang_lock);
	while (hang_n == 0 &&
	    pthread_cond_timedwait(&hang_cv, &hang_lock, &deadline) == 0)
		continue;
	fired = hang_n > 0;
	pthread_mutex_unlock(&hang_lock);
	return fired;
}

/* Point fd 2 at a fresh memfd; *saved keeps the real stderr. */
static int
stderr_to_memfd(int *saved)
{
	int fd = memfd_create("wd_stderr", 0);

	cr_assert_geq(fd, 0);
	*saved = dup(STDERR_FILENO);
	cr_assert_geq(*saved, 0);
	cr_assert_eq(dup2(fd, STDERR_FILENO), STDERR_FILENO);
	return fd;
}

/* Put stderr back and return what was written (malloc'd, NUL-ended). */
static char *
stderr_restore(int memfd, int saved)
{
	off_t len;
	char *buf;

	cr_assert_eq(dup2(saved, STDERR_FILENO), STDERR_FILENO);
	close(saved);
	len = lseek(memfd, 0, SEEK_END);
	cr_assert_geq(len, 0);
	buf = calloc(1, (size_t)len + 1);
	cr_assert_not_null(buf);
	cr_assert_eq(pread(memfd, buf, (size_t)len, 0), len);
	close(memfd);
	/* Let the test's own log show what the watchdog said. */
	(void)!write(STDERR_FILENO, buf, (size_t)len);
	return buf;
}

static void *
blocker_main(void *arg)
{
	struct blocker *b = arg;

	mutex_enter(b->b_held);
	atomic_store(&b->b_ready, true);
	mutex_enter(b->b_wanted);	/* blocks until the test lets go */
	mutex_exit(b->b_wanted);
	mutex_exit(b->b_held);
	return NULL;
}

static void *
progress_main(void *arg)
{
	struct timespec ts = { 0, 10 * 1000 * 1000 };

	while (!atomic_load(&spin_stop)) {
		host_progress();
		nanosleep(&ts, NULL);
	}
	return NULL;
}

Test(watchdog, hang_reported_with_held_lock)
{
	kmutex_t held, wanted;
	struct blocker b = { &held, &wanted, false };
	struct timespec ts = { 0, 1000 * 1000 };
	pthread_t t;
	uint64_t t0, dt;
	int memfd, saved;
	char *out;
	bool fired;

	witness_enable(false);	/* no order checks: only the hang matters */
	mutex_init_class(&held, MUTEX_DEFAULT, IPL_NONE, "wd_held_lock");
	mutex_init_class(&wanted, MUTEX_DEFAULT, IPL_NONE, "wd_wanted_lock");
	mutex_enter(&wanted);
	cr_assert_eq(host_thread_create(&t, "wd_blocker", blocker_main, &b),
	    0);
	while (!atomic_load(&b.b_ready))
		nanosleep(&ts, NULL);

	memfd = stderr_to_memfd(&saved);
	t0 = now_ns();
	cr_assert_eq(host_watchdog_start(1, on_hang), 0);
	fired = wait_hang(WD_WAIT_S);
	dt = hang_ns - t0;
	host_watchdog_stop();
	out = stderr_restore(memfd, saved);

	mutex_exit(&wanted);		/* let the blocker finish */
	pthread_join(t, NULL);

	cr_assert(fired, "on_hang not called within %d s", WD_WAIT_S);
	cr_assert_eq(hang_n, 1, "on_hang called %d times for one stall",
	    hang_n);
	cr_assert_eq(host_watchdog_nhangs(), 1);
	/* Not before the threshold, and well before the generous bound. */
	cr_assert_geq(dt, 1000ull * 1000 * 1000, "fired after %llu ns",
	    (unsigned long long)dt);
	cr_assert_lt(dt, 3000ull * 1000 * 1000, "fired after %llu ns",
	    (unsigned long long)dt);
	cr_assert(strstr(out, "watchdog: no progress for 1 s") != NULL, "%s",
	    out);
	cr_assert(strstr(out, "wd_blocker") != NULL, "%s", out);
	cr_assert(strstr(out, "wd_held_lock") != NULL,
	    "the blocker's held lock is not in the dump: %s", out);
	cr_assert(strstr(out, "wd_wanted_lock") != NULL,
	    "the main thread's held lock is not in the dump: %s", out);
	cr_assert(strstr(out, "test_watchdog.c") != NULL,
	    "no acquisition site in the dump: %s", out);
	free(out);
}

Test(watchdog, progress_keeps_it_quiet)
{
	struct timespec ts = { 2, 500 * 1000 * 1000 };
	pthread_t t;

	atomic_store(&spin_stop, false);
	cr_assert_eq(host_thread_create(&t, "wd_worker", progress_main, NULL),
	    0);
	cr_assert_eq(host_watchdog_start(1, on_hang), 0);
	nanosleep(&ts, NULL);		/* 2.5 s, over twice the threshold */
	host_watchdog_stop();
	atomic_store(&spin_stop, true);
	pthread_join(t, NULL);

	cr_assert_eq(hang_n, 0, "fired although progress was made");
	cr_assert_eq(host_watchdog_nhangs(), 0);
	/* It really was looking: about one sample per 250 ms. */
	cr_assert_geq(host_watchdog_nchecks(), 5, "only %llu samples",
	    (unsigned long long)host_watchdog_nchecks());
}

Test(watchdog, fires_again_only_after_progress)
{
	struct timespec ts = { 0, 600 * 1000 * 1000 };
	int memfd, saved;
	char *out;

	host_thread_self();		/* so that host_progress() counts */
	memfd = stderr_to_memfd(&saved);
	cr_assert_eq(host_watchdog_start(1, on_hang), 0);
	cr_assert(wait_hang(WD_WAIT_S));
	nanosleep(&ts, NULL);		/* the stall goes on: no repeat */
	nanosleep(&ts, NULL);
	pthread_mutex_lock(&hang_lock);
	cr_assert_eq(hang_n, 1);
	pthread_mutex_unlock(&hang_lock);
	host_progress();		/* progress, then a second stall */
	ts.tv_sec = 2;
	ts.tv_nsec = 500 * 1000 * 1000;
	nanosleep(&ts, NULL);
	host_watchdog_stop();
	out = stderr_restore(memfd, saved);
	free(out);
	cr_assert_eq(hang_n, 2);
	cr_assert_eq(host_watchdog_nhangs(), 2);
}

Test(watchdog, stop_is_prompt)
{
	struct timespec ts = { 0, 20 * 1000 * 1000 };
	uint64_t t0, dt;

	cr_assert_eq(host_watchdog_start(30, on_hang), 0);
	nanosleep(&ts, NULL);
	t0 = now_ns();
	host_watchdog_stop();
	dt = now_ns() - t0;
	/* A sleeping sampler would take the rest of its 250 ms period. */
	cr_assert_lt(dt, 150ull * 1000 * 1000, "stop took %llu ns",
	    (unsigned long long)dt);
	host_watchdog_stop();		/* a second stop is harmless */
	cr_assert_eq(hang_n, 0);
}

Test(watchdog, zero_disables)
{
	struct timespec ts = { 0, 600 * 1000 * 1000 };

	cr_assert_eq(host_watchdog_start(0, on_hang), 0);
	nanosleep(&ts, NULL);
	cr_assert_eq(host_watchdog_nchecks(), 0);
	host_watchdog_stop();
	cr_assert_eq(hang_n, 0);
}

Test(watchdog, one_at_a_time)
{
	cr_assert_eq(host_watchdog_start(30, on_hang), 0);
	cr_assert_eq(host_watchdog_start(30, on_hang), EBUSY);
	host_watchdog_stop();
	cr_assert_eq(host_watchdog_start(30, on_hang), 0);
	host_watchdog_stop();
}

Test(watchdog, default_exits_with_status_2, .exit_code = 2)
{
	int devnull = open("/dev/null", O_WRONLY);

	cr_assert_geq(devnull, 0);
	dup2(devnull, STDERR_FILENO);
	cr_assert_eq(host_watchdog_start(1, NULL), 0);
	sleep(WD_WAIT_S);
	cr_assert_fail("the default on_hang did not exit");
}

/* Sleep a tick and wake, over and over: l_stat, l_wmesg, l_slptime move. */
static void
churn_main(void *arg)
{
	struct lwpset *ls = arg;
	int chan;

	while (!atomic_load(&ls->ls_stop)) {
		(void)tsleep(&chan, PVM, "wdchurn", 1);
		atomic_fetch_add(&ls->ls_rounds, 1);
	}
}

/* Run, and be preempted: LSONPROC and LSRUN. */
static void
spin_main(void *arg)
{
	struct lwpset *ls = arg;

	while (!atomic_load(&ls->ls_stop)) {
		preempt();
		atomic_fetch_add(&ls->ls_rounds, 1);
	}
}

/* Sleep until the end of the test. */
static void
sleeper_main(void *arg)
{
	struct lwpset *ls = arg;

	mutex_enter(&ls->ls_lock);
	while (!atomic_load(&ls->ls_stop)) {
		atomic_store(&ls->ls_asleep, true);
		(void)msleep(&ls->ls_chan, &ls->ls_lock, PVM, "wdlong", 0);
	}
	mutex_exit(&ls->ls_lock);
}

/* A machine of 2 CPUs at 100 Hz, and the LWPs of ls, running. */
static void
lwpset_start(struct lwpset *ls)
{
	int i;

	witness_enable(false);	/* (the busy test holds an LWP's lock) */
	machine_setup_alarm(100, 1, 2, 60);
	memset(ls, 0, sizeof(*ls));
	mutex_init_class(&ls->ls_lock, MUTEX_DEFAULT, IPL_NONE, "wd_ls_lock");
	cr_assert_eq(proc_create("wdproc", &ls->ls_proc), 0);
	for (i = 0; i < NCHURN; i++)
		ls->ls_churn[i] = spawn(ls->ls_proc, "wd_churn", churn_main,
		    ls);
	ls->ls_spin = spawn(ls->ls_proc, "wd_spin", spin_main, ls);
	ls->ls_sleeper = spawn(ls->ls_proc, "wd_sleeper", sleeper_main, ls);
	wait_until(atomic_load(&ls->ls_asleep) &&
	    atomic_load(&ls->ls_rounds) > 100);
}

static void
lwpset_stop(struct lwpset *ls)
{
	int i;

	mutex_enter(&ls->ls_lock);
	atomic_store(&ls->ls_stop, true);
	wakeup(&ls->ls_chan);
	mutex_exit(&ls->ls_lock);
	for (i = 0; i < NCHURN; i++)
		lwp_join(ls->ls_churn[i]);
	lwp_join(ls->ls_spin);
	lwp_join(ls->ls_sleeper);
	proc_free(ls->ls_proc);
}

/* The start of l's line in a dump: "[pid P lid L <state>". */
static void
lwp_line(const struct lwp *l, const char *state, char *buf, size_t len)
{
	snprintf(buf, len, "[pid %d lid %d %s", l->l_proc->p_pid, l->l_lid,
	    state);
}

Test(watchdog, dump_reads_lwps_that_run_and_sleep_meanwhile)
{
	struct lwpset ls;
	char want[NCHURN + 2][64];
	long rounds;
	int memfd, saved, i;
	char *out;
	bool fired;

	lwpset_start(&ls);
	/* (lines to look for, made while the LWPs live) */
	for (i = 0; i < NCHURN; i++)
		lwp_line(ls.ls_churn[i], "", want[i], sizeof(want[i]));
	lwp_line(ls.ls_spin, "", want[NCHURN], sizeof(want[NCHURN]));
	lwp_line(ls.ls_sleeper, "LSSLEEP", want[NCHURN + 1],
	    sizeof(want[NCHURN + 1]));
	memfd = stderr_to_memfd(&saved);
	cr_assert_eq(host_watchdog_start(1, on_hang), 0);
	fired = wait_hang(WD_WAIT_S);
	rounds = atomic_load(&ls.ls_rounds);
	nap_us(300 * 1000);		/* the LWPs go on meanwhile */
	host_watchdog_stop();
	out = stderr_restore(memfd, saved);
	cr_assert(fired, "on_hang not called within %d s", WD_WAIT_S);
	cr_assert_gt(atomic_load(&ls.ls_rounds), rounds,
	    "the LWPs stopped: the dump did not run beside them");
	lwpset_stop(&ls);

	cr_assert(strstr(out, "watchdog: no progress for 1 s") != NULL, "%s",
	    out);
	for (i = 0; i < NCHURN + 2; i++)
		cr_assert(strstr(out, want[i]) != NULL, "no \"%s\" in the "
		    "dump: %s", want[i], out);
	cr_assert(strstr(out, "on wdlong]") != NULL, "%s", out);
	cr_assert(strstr(out, "wd_churn") != NULL, "%s", out);
	free(out);
}

Test(watchdog, dump_says_busy_for_an_lwp_whose_lock_is_held)
{
	struct lwpset ls;
	char busy[64], spin[64];
	int memfd, saved;
	char *out;
	bool fired;

	lwpset_start(&ls);
	lwp_line(ls.ls_sleeper, "(busy)]", busy, sizeof(busy));
	lwp_line(ls.ls_spin, "", spin, sizeof(spin));
	lwp_lock(ls.ls_sleeper);	/* as a hung holder would */
	memfd = stderr_to_memfd(&saved);
	cr_assert_eq(host_watchdog_start(1, on_hang), 0);
	fired = wait_hang(WD_WAIT_S);
	host_watchdog_stop();
	out = stderr_restore(memfd, saved);
	lwp_unlock(ls.ls_sleeper);
	lwpset_stop(&ls);

	cr_assert(fired, "the dump blocked on the held lwp_lock");
	cr_assert(strstr(out, busy) != NULL, "no \"%s\" in: %s", busy, out);
	cr_assert(strstr(out, spin) != NULL, "no \"%s\" in: %s", spin, out);
	free(out);
}
