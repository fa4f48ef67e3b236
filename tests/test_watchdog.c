/*
 * tests/test_watchdog.c: host/watchdog.c (the hang watchdog).
 *
 * Criterion forks every test, so the progress count and the watchdog are
 * each test's own.  The hang test makes a real hang: a thread holding one
 * kmutex blocks on a second that the main thread holds, nobody calls
 * host_progress(), and the watchdog must notice within its bound, print
 * the held lock, and call on_hang.  Its output goes to a memfd standing in
 * for stderr while the watchdog runs.
 */
#include "host/hook.h"
#include "host/kassert.h"
#include "host/mutex.h"
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

/* local prototypes */
static uint64_t now_ns(void);
static void on_hang(void);
static bool wait_hang(unsigned seconds);
static int stderr_to_memfd(int *saved);
static char *stderr_restore(int memfd, int saved);
static void *blocker_main(void *arg);
static void *progress_main(void *arg);

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
