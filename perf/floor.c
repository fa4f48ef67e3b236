/*
 * perf/floor.c: the anchors the fault benchmark is measured against.
 *
 *  floor   the host-MMU floor: a SIGSEGV on a hole whose handler maps
 *          one memfd page at the faulting address with
 *          mmap(MAP_FIXED|MAP_SHARED), no VM work at all; each page is
 *          touched once (a zero-fill-like first touch), then the region
 *          is unmapped to holes again and reused, as `touch --remap`
 *          does with the pmap's default `--mmu-close hole` (each thread's
 *          region sits at its own address below everything mmap(NULL)
 *          hands out, as the pmap places its windows).
 *  native  the Linux kernel's own anonymous zero-fill fault: first
 *          touches of fresh MAP_ANONYMOUS memory, unmapped and repeated.
 *  cow     the floor of a copy-on-write fault: as floor, and the handler
 *          also copies 4 KiB into the new page from a source page (the
 *          page the child shares with its parent), as a COW fault must.
 *
 * usage: floor floor|native|cow THREADS SECONDS
 * prints one JSON line: {"anchor":..., "threads":N, "faults":N,
 * "seconds":S, "faults_per_s":F}
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "anchor.h"

#define PAGE		4096UL
#define REGION_PAGES	256
#define FLOOR_BASE	(64UL << 30)	/* the pmap's first window region */

static int memfd;
static size_t memfd_pages;
static bool copy_on_fault;		/* cow: copy a page in the handler */
static char *cow_src;			/* cow: the pages copied from */
#define COW_SRC_PAGES	64
static atomic_ulong next_page;
static atomic_bool stop;
static double seconds;

static void
segv(int sig, siginfo_t *si, void *ctx)
{
	uintptr_t va = (uintptr_t)si->si_addr & ~(PAGE - 1);
	unsigned long pg = atomic_fetch_add_explicit(&next_page, 1,
	    memory_order_relaxed) % memfd_pages;

	(void)sig;
	(void)ctx;
	if (mmap((void *)va, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED |
	    MAP_FIXED, memfd, (off_t)(pg * PAGE)) == MAP_FAILED)
		abort();
	if (copy_on_fault)
		memcpy((void *)va, cow_src + (pg % COW_SRC_PAGES) * PAGE, PAGE);
}

/* Is thread id's region free (nothing of the process mapped there)? */
static bool
region_free(int id)
{
	size_t len = REGION_PAGES * PAGE;
	void *a = (void *)(FLOOR_BASE + (size_t)id * len);
	void *p = mmap(a, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS |
	    MAP_NORESERVE | MAP_FIXED_NOREPLACE, -1, 0);

	if (p != MAP_FAILED)
		munmap(p, len);
	return p == a;
}

struct worker {
	int		floor;
	int		id;
	unsigned long	faults;
};

static void *
work(void *arg)
{
	struct worker *w = arg;
	size_t len = REGION_PAGES * PAGE;
	char *r;
	size_t i;

	while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
		if (w->floor)
			r = (char *)(FLOOR_BASE + (size_t)w->id * len);
		else
			r = mmap(NULL, len, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (r == MAP_FAILED)
			abort();
		for (i = 0; i < REGION_PAGES; i++) {
			/* first touch: read (must be zero or stale), write */
			volatile unsigned long *p = (void *)(r + i * PAGE);

			*p = i;
		}
		munmap(r, len);
		w->faults += REGION_PAGES;
	}
	return NULL;
}

int
main(int argc, char **argv)
{
	struct sigaction sa;
	struct worker *ws;
	pthread_t *t;
	unsigned long total = 0;
	double t0, t1;
	int n, i, floor;

	if (argc != 4 || (strcmp(argv[1], "floor") && strcmp(argv[1], "native") &&
	    strcmp(argv[1], "cow")) || (n = atoi(argv[2])) < 1 || n > 64 ||
	    (seconds = atof(argv[3])) <= 0) {
		fprintf(stderr, "usage: floor floor|native|cow THREADS SECONDS\n");
		return 1;
	}
	copy_on_fault = strcmp(argv[1], "cow") == 0;
	floor = strcmp(argv[1], "native") != 0;
	if (copy_on_fault) {
		cow_src = mmap(NULL, COW_SRC_PAGES * PAGE, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
		if (cow_src == MAP_FAILED)
			return 3;
		memset(cow_src, 0x5a, COW_SRC_PAGES * PAGE);
	}
	memfd_pages = 16384;
	memfd = memfd_create("floor", 0);
	if (memfd < 0 || ftruncate(memfd, (off_t)(memfd_pages * PAGE)) != 0) {
		perror("memfd");
		return 3;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = segv;
	sa.sa_flags = SA_SIGINFO | SA_NODEFER;
	sigaction(SIGSEGV, &sa, NULL);
	ws = calloc((size_t)n, sizeof(*ws));
	t = calloc((size_t)n, sizeof(*t));
	t0 = now();
	for (i = 0; i < n; i++) {
		ws[i].floor = floor;
		ws[i].id = i;
		if (floor && !region_free(i)) {
			fprintf(stderr, "floor: the region at %#lx is taken\n",
			    FLOOR_BASE + (unsigned long)i * REGION_PAGES * PAGE);
			return 3;
		}
		pthread_create(&t[i], NULL, work, &ws[i]);
	}
	usleep((useconds_t)(seconds * 1e6));
	atomic_store(&stop, true);
	for (i = 0; i < n; i++) {
		pthread_join(t[i], NULL);
		total += ws[i].faults;
	}
	t1 = now();
	printf("{\"anchor\":\"%s\",\"threads\":%d,\"faults\":%lu,"
	    "\"seconds\":%.3f,\"faults_per_s\":%.0f}\n", argv[1], n, total,
	    t1 - t0, (double)total / (t1 - t0));
	return 0;
}
