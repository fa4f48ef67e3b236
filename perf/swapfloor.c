/*
 * perf/swapfloor.c: the swap-in floor of uvmstress's host MMU model, the
 * anchor the reclaim benchmark's random pattern is read against.
 *
 * Each "miss" costs what a random-pattern swap-in must cost uvmstress
 * on this host with no VM work at all: a SIGSEGV on a closed page, one
 * 4 KiB O_DIRECT read from a swap file into a frame of a memfd (through
 * a direct map, as the disk model reads), the frame mapped at the
 * faulting address with mmap(MAP_FIXED|MAP_SHARED|MAP_POPULATE), the
 * touch itself, and, once BUDGET mappings are open, the oldest closed by
 * unmapping it (a hole, as `--mmu-close hole` does; nothing else maps
 * here once the loop runs), as the pmap's budget or the pagedaemon's
 * pmap_page_protect must.  A writer thread writes 64 KiB
 * clusters to the same file at one per 16 misses, as pageout does.
 * Timed from the first miss that closes a page.  It flatters: no VM
 * work, no hand-off to a disk thread, and the bench counts hits free.
 *
 * usage: swapfloor SWAPFILE SECONDS
 * prints one JSON line: {"anchor":"swapin","direct":B,"misses":N,
 * "seconds":S,"misses_per_s":F}; on a file system without O_DIRECT it
 * says so and reads buffered ("direct":false, a floor that flatters).
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
#define FRAMES		16384UL		/* 64 MiB of "RAM" */
#define SLOTS		65536UL		/* 256 MiB of swap in use */
#define WINDOW_PAGES	65536UL		/* the working set's VA range */
#define BUDGET		8192UL		/* open mappings, the pmap's default */
#define CLUSTER		16UL		/* pages a pageout writes */

static int memfd, swapfd;
static char *direct, *window;
static unsigned long rng = 88172645463325252UL;
static atomic_ulong misses;
static atomic_bool stop;
static bool odirect = true;	/* the swap file opened O_DIRECT */

static unsigned long
next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* The trap: read the page in and open it where it was touched. */
static void
segv(int sig, siginfo_t *si, void *ctx)
{
	uintptr_t va = (uintptr_t)si->si_addr & ~(PAGE - 1);
	unsigned long frame = next() % FRAMES, slot = next() % SLOTS;

	(void)sig;
	(void)ctx;
	if (pread(swapfd, direct + frame * PAGE, PAGE, (off_t)(slot * PAGE)) !=
	    (ssize_t)PAGE)
		abort();
	if (mmap((void *)va, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED |
	    MAP_FIXED | MAP_POPULATE, memfd, (off_t)(frame * PAGE)) ==
	    MAP_FAILED)
		abort();
}

/* Pageout: one cluster written for every CLUSTER misses. */
static void *
writer(void *arg)
{
	unsigned long written = 0, slot = 0;
	void *buf;

	(void)arg;
	if (posix_memalign(&buf, PAGE, CLUSTER * PAGE) != 0)
		abort();
	memset(buf, 0x5a, CLUSTER * PAGE);
	while (!atomic_load(&stop)) {
		if ((written + 1) * CLUSTER > atomic_load(&misses)) {
			usleep(50);
			continue;
		}
		if (pwrite(swapfd, buf, CLUSTER * PAGE, (off_t)(slot * PAGE)) !=
		    (ssize_t)(CLUSTER * PAGE))
			abort();
		slot = (slot + CLUSTER) % SLOTS;
		written++;
	}
	free(buf);
	return NULL;
}

int
main(int argc, char **argv)
{
	static unsigned long ring[BUDGET];
	static unsigned char isopen[WINDOW_PAGES];
	struct sigaction sa;
	pthread_t wt;
	unsigned long i, n = 0, n0 = 0, va;
	double seconds, t0, t1;
	void *buf;

	if (argc != 3 || (seconds = atof(argv[2])) <= 0) {
		fprintf(stderr, "usage: swapfloor SWAPFILE SECONDS\n");
		return 1;
	}
	memfd = memfd_create("swapfloor", 0);
	swapfd = open(argv[1], O_RDWR | O_CREAT | O_DIRECT, 0600);
	if (swapfd < 0 && errno == EINVAL) {
		/* a file system without O_DIRECT: buffered, as uvmstress */
		fprintf(stderr, "swapfloor: %s: no O_DIRECT here, buffered "
		    "I/O\n", argv[1]);
		odirect = false;
		swapfd = open(argv[1], O_RDWR | O_CREAT, 0600);
	}
	if (memfd < 0 || ftruncate(memfd, (off_t)(FRAMES * PAGE)) != 0 ||
	    swapfd < 0) {
		perror("swapfloor: memfd or swap file");
		return 3;
	}
	direct = mmap(NULL, FRAMES * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED |
	    MAP_POPULATE, memfd, 0);
	window = mmap(NULL, WINDOW_PAGES * PAGE, PROT_NONE, MAP_PRIVATE |
	    MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (direct == MAP_FAILED || window == MAP_FAILED ||
	    posix_memalign(&buf, PAGE, 256 * PAGE) != 0) {
		perror("swapfloor: mmap");
		return 3;
	}
	/* fill the swap file: reads must come from the disk, not holes */
	memset(buf, 0xa5, 256 * PAGE);
	for (i = 0; i < SLOTS; i += 256)
		if (pwrite(swapfd, buf, 256 * PAGE, (off_t)(i * PAGE)) !=
		    (ssize_t)(256 * PAGE)) {
			perror("swapfloor: filling the swap file");
			return 3;
		}
	fsync(swapfd);
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = segv;
	sa.sa_flags = SA_SIGINFO | SA_NODEFER;
	sigaction(SIGSEGV, &sa, NULL);
	pthread_create(&wt, NULL, writer, NULL);

	/* timed once BUDGET pages are open: from then on every miss closes one */
	t0 = 0;
	do {
		if (t0 == 0 && n >= BUDGET) {
			t0 = now();
			n0 = n;
		}
		for (i = 0; i < 256; i++, n++) {
			volatile unsigned long *p;

			/* a page not open now: every touch is a miss */
			do
				va = next() % WINDOW_PAGES;
			while (isopen[va]);
			if (n >= BUDGET) {
				unsigned long old = ring[n % BUDGET];

				if (munmap(window + old * PAGE, PAGE) != 0)
					abort();
				isopen[old] = 0;
			}
			ring[n % BUDGET] = va;
			isopen[va] = 1;
			p = (void *)(window + va * PAGE);
			*p = *p + 1;		/* check, then a new generation */
			atomic_fetch_add_explicit(&misses, 1,
			    memory_order_relaxed);
		}
		t1 = now();
	} while (t0 == 0 || t1 - t0 < seconds);
	atomic_store(&stop, true);
	pthread_join(wt, NULL);
	printf("{\"anchor\":\"swapin\",\"direct\":%s,\"misses\":%lu,"
	    "\"seconds\":%.3f,\"misses_per_s\":%.0f}\n",
	    odirect ? "true" : "false", n - n0, t1 - t0,
	    (double)(n - n0) / (t1 - t0));
	free(buf);
	return 0;
}
