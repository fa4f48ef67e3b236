/*
 * perf/hostmmu.c: what the host charges for the MMU model's two calls,
 * and how much that depends on what the process's other threads do.
 *
 * An "open" maps one page of a memfd into a window with
 * mmap(MAP_SHARED|MAP_FIXED|MAP_POPULATE), as host_open_run does; a
 * "close" takes it away as host_close does (a TLB shootdown: the page was
 * touched), in either of its two ways: "reserve" maps PROT_NONE anonymous
 * memory over it again (so the next open replaces a reservation), "hole"
 * unmaps it (so the next open goes into a hole).  Each is timed over
 * PAGES isolated pages, ROUNDS times, while one other thread of the process
 *   alone	does not exist,
 *   sleeps	sleeps 50 us at a time,
 *   spins	runs a loop,
 *   reads	reads 4 KiB at random offsets of a file with O_DIRECT,
 *   writes	writes 64 KiB clusters to a file with O_DIRECT.
 * On a guest where a shootdown must wake or interrupt the other vCPU,
 * the close costs more whenever that vCPU is not simply halted.
 * Last, the trap: a SIGSEGV round trip (fault, handler, sigreturn) on a
 * page made PROT_NONE whose handler opens it again, less the same two
 * mprotect calls made without the touch.
 *
 * usage: hostmmu SCRATCHFILE
 * prints one JSON line per case and way of closing: {"anchor":"hostmmu",
 * "case":C,"close":"reserve"|"hole","open_us":F,"close_us":F,"direct":B},
 * then {"anchor":"hostmmu",
 * "case":"trap","trap_us":F}.  Exit 1 on a host error.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "anchor.h"

#define PAGE		4096UL
#define PAGES		4096UL		/* isolated pages a round */
#define ROUNDS		4
#define FILEPAGES	4096UL		/* the scratch file: 16 MiB */
#define CLUSTER		(16 * PAGE)

enum neighbour { ALONE, SLEEPS, SPINS, READS, WRITES };
static const char *const names[] = { "alone", "sleeps", "spins", "reads",
    "writes" };

#define TRAPS		20000

static atomic_bool stop;
static char *trap_page;
static int scratch = -1;
static bool direct;

static void
die(const char *what)
{
	fprintf(stderr, "hostmmu: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void *
neighbour(void *arg)
{
	enum neighbour kind = (enum neighbour)(uintptr_t)arg;
	struct timespec nap = { 0, 50000 };
	uint64_t x = 88172645463325252ull;	/* xorshift: read offsets */
	volatile uint64_t spin = 0;
	void *buf = NULL;
	off_t off = 0;

	if ((kind == READS || kind == WRITES) &&
	    (buf = aligned_alloc(PAGE, CLUSTER)) == NULL)
		die("aligned_alloc");
	if (buf != NULL)
		memset(buf, 0x5a, CLUSTER);
	while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
		switch (kind) {
		case SLEEPS:
			nanosleep(&nap, NULL);
			break;
		case SPINS:
			spin++;
			break;
		case READS:
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			if (pread(scratch, buf, PAGE,
			    (off_t)((x % FILEPAGES) * PAGE)) != (ssize_t)PAGE)
				die("pread");
			break;
		case WRITES:
			if (pwrite(scratch, buf, CLUSTER, off) !=
			    (ssize_t)CLUSTER)
				die("pwrite");
			off = (off + (off_t)CLUSTER) % (off_t)(FILEPAGES * PAGE);
			break;
		case ALONE:
			break;
		}
	}
	free(buf);
	return NULL;
}

/* One case: the mean open and close, in microseconds. */
static void
measure(enum neighbour kind, bool holes, int memfd, char *win, double *openp,
    double *closep)
{
	pthread_t t;
	double topen = 0, tclose = 0, t0;
	unsigned long i;
	int r;

	atomic_store(&stop, false);
	if (kind != ALONE && pthread_create(&t, NULL, neighbour,
	    (void *)(uintptr_t)kind) != 0)
		die("pthread_create");
	if (kind != ALONE)
		usleep(20000);		/* let it get going */
	for (r = 0; r < ROUNDS; r++) {
		t0 = now();
		for (i = 0; i < PAGES; i++)	/* every other page: no merging */
			if (mmap(win + 2 * i * PAGE, PAGE, PROT_READ | PROT_WRITE,
			    MAP_SHARED | MAP_FIXED | MAP_POPULATE, memfd,
			    (off_t)(i * PAGE)) == MAP_FAILED)
				die("mmap (open)");
		topen += now() - t0;
		for (i = 0; i < PAGES; i++)
			win[2 * i * PAGE] = (char)i;
		t0 = now();
		for (i = 0; i < PAGES; i++)
			if (holes ? munmap(win + 2 * i * PAGE, PAGE) != 0 :
			    mmap(win + 2 * i * PAGE, PAGE, PROT_NONE, MAP_PRIVATE |
			    MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE, -1, 0) ==
			    MAP_FAILED)
				die("close");
		tclose += now() - t0;
	}
	/* the whole window reserved again for the next case */
	if (holes && mmap(win, 2 * PAGES * PAGE, PROT_NONE, MAP_PRIVATE |
	    MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE, -1, 0) == MAP_FAILED)
		die("mmap (reservation)");
	atomic_store(&stop, true);
	if (kind != ALONE)
		pthread_join(t, NULL);
	*openp = topen / (PAGES * ROUNDS) * 1e6;
	*closep = tclose / (PAGES * ROUNDS) * 1e6;
}

static void
reopen(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)si;
	(void)uc;
	if (mprotect(trap_page, PAGE, PROT_READ | PROT_WRITE) != 0)
		abort();
}

/* The SIGSEGV round trip, in microseconds. */
static double
measure_trap(void)
{
	struct sigaction sa;
	double t0, with, without;
	int i;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = reopen;
	sa.sa_flags = SA_SIGINFO | SA_NODEFER;
	if (sigaction(SIGSEGV, &sa, NULL) != 0)
		die("sigaction");
	trap_page = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE |
	    MAP_ANONYMOUS, -1, 0);
	if (trap_page == MAP_FAILED)
		die("mmap (trap page)");
	trap_page[0] = 1;
	t0 = now();
	for (i = 0; i < TRAPS; i++) {
		if (mprotect(trap_page, PAGE, PROT_NONE) != 0 ||
		    mprotect(trap_page, PAGE, PROT_READ | PROT_WRITE) != 0)
			die("mprotect");
		((volatile char *)trap_page)[0]++;
	}
	without = now() - t0;
	t0 = now();
	for (i = 0; i < TRAPS; i++) {
		if (mprotect(trap_page, PAGE, PROT_NONE) != 0)
			die("mprotect");
		((volatile char *)trap_page)[0]++;	/* traps, reopens */
	}
	with = now() - t0;
	return (with - without) / TRAPS * 1e6;
}

int
main(int argc, char **argv)
{
	static char zero[CLUSTER];
	double o, c;
	char *win;
	int memfd, k, h;
	unsigned long i;

	if (argc != 2) {
		fprintf(stderr, "usage: hostmmu SCRATCHFILE\n");
		return 2;
	}
	if ((memfd = memfd_create("hostmmu", 0)) < 0 ||
	    ftruncate(memfd, (off_t)(PAGES * PAGE)) != 0)
		die("memfd");
	win = mmap(NULL, 2 * PAGES * PAGE, PROT_NONE, MAP_PRIVATE |
	    MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (win == MAP_FAILED)
		die("mmap (reservation)");
	scratch = open(argv[1], O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (scratch < 0)
		die(argv[1]);
	for (i = 0; i < FILEPAGES * PAGE / CLUSTER; i++)
		if (write(scratch, zero, CLUSTER) != (ssize_t)CLUSTER)
			die("write");
	if (fsync(scratch) != 0)
		die("fsync");
	close(scratch);
	direct = true;
	if ((scratch = open(argv[1], O_RDWR | O_DIRECT)) < 0) {
		fprintf(stderr, "hostmmu: %s takes no O_DIRECT: buffered\n",
		    argv[1]);
		direct = false;
		if ((scratch = open(argv[1], O_RDWR)) < 0)
			die(argv[1]);
	}
	for (k = ALONE; k <= WRITES; k++)
		for (h = 0; h < 2; h++) {
			measure((enum neighbour)k, h, memfd, win, &o, &c);
			printf("{\"anchor\":\"hostmmu\",\"case\":\"%s\","
			    "\"close\":\"%s\",\"open_us\":%.2f,"
			    "\"close_us\":%.2f,\"direct\":%s}\n", names[k],
			    h ? "hole" : "reserve", o, c,
			    direct ? "true" : "false");
			fflush(stdout);
		}
	printf("{\"anchor\":\"hostmmu\",\"case\":\"trap\",\"trap_us\":%.2f}\n",
	    measure_trap());
	close(scratch);
	unlink(argv[1]);
	return 0;
}
