/*
 * perf/linux_touch.c: the Linux kernel's reclaim, on the workload of
 * `uvmstress --scenario pressure`: one process touches a working set
 * (each touch: check the page's signature, write a new generation), in a
 * sequential, random or hot/cold pattern.  Run inside a memory cgroup
 * smaller than the working set, with a swap file, by bench_reclaim.sh.
 *
 * usage: linux_touch WS_BYTES seq|random|hotcold SECONDS SEED
 * A first pass writes every page (not timed); then it touches for SECONDS
 * and prints one JSON line with touches_per_s.  Exit 2 on a signature
 * mismatch (the kernel lost data: never expected).
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "anchor.h"

#define PAGE	4096UL

static uint64_t
rng(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static uint64_t
sig(uint64_t page, uint32_t gen)
{
	return (page << 32) ^ gen ^ 0x5eedull;
}

int
main(int argc, char **argv)
{
	uint64_t ws, npages, i, p = 0, touches = 0, seed;
	uint32_t *gen;
	char *mem;
	double secs, t0, t;
	int pattern;

	if (argc != 5 || (ws = strtoull(argv[1], NULL, 0)) < PAGE ||
	    (secs = atof(argv[3])) <= 0) {
		fprintf(stderr, "usage: linux_touch WS_BYTES seq|random|hotcold "
		    "SECONDS SEED\n");
		return 1;
	}
	pattern = !strcmp(argv[2], "seq") ? 0 : !strcmp(argv[2], "random") ? 1 :
	    !strcmp(argv[2], "hotcold") ? 2 : -1;
	if (pattern < 0)
		return 1;
	seed = strtoull(argv[4], NULL, 0);
	npages = ws / PAGE;
	mem = mmap(NULL, npages * PAGE, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	gen = calloc(npages, sizeof(*gen));
	if (mem == MAP_FAILED || gen == NULL)
		return 3;
	for (i = 0; i < npages; i++)
		*(uint64_t *)(mem + i * PAGE) = sig(i, 0);
	t0 = now();
	do {
		for (i = 0; i < 256; i++) {
			uint64_t *w;

			if (pattern == 0)
				p = (p + 1) % npages;
			else if (pattern == 1)
				p = rng(&seed) % npages;
			else	/* 90% of touches on 10% of the pages */
				p = rng(&seed) % 10 < 9 ?
				    rng(&seed) % (npages / 10 + 1) :
				    rng(&seed) % npages;
			w = (uint64_t *)(mem + p * PAGE);
			if (*w != sig(p, gen[p])) {
				fprintf(stderr, "linux_touch: page %llu lost\n",
				    (unsigned long long)p);
				return 2;
			}
			*w = sig(p, ++gen[p]);
			touches++;
		}
		t = now();
	} while (t - t0 < secs);
	printf("{\"side\":\"linux\",\"pattern\":\"%s\",\"ws\":%llu,"
	    "\"touches\":%llu,\"seconds\":%.3f,\"touches_per_s\":%.0f}\n",
	    argv[2], (unsigned long long)ws, (unsigned long long)touches,
	    t - t0, (double)touches / (t - t0));
	return 0;
}
