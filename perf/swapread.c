/*
 * perf/swapread.c: the anchor the swapper benchmark's swap-in latency is
 * read against: the latency of one random 4 KiB read of a swap file, on
 * the file system uvmstress puts its swap file on, opened as host/disk.c
 * opens it (a new file in DIR, unlinked once open, space reserved with
 * posix_fallocate, then O_DIRECT set with fcntl; buffered, with a notice,
 * where the file system refuses O_DIRECT).
 *
 * The file (MIB MiB, uvmstress's default swap for the scenario) is
 * written through first, so that reads come from the disk and not from
 * unwritten extents; then one thread reads 4 KiB at random page offsets
 * into an aligned buffer, one pread at a time, for SECONDS, each read
 * timed alone on the monotonic clock (uvmstress's host_real_ns).  With
 * GAP_US > 0 it sleeps that long between reads (paced: a read that finds
 * the vCPU idle, as a swap-in of a sleeper mostly does); 0 reads back to
 * back.  No VM work, no trap, no hand-off: a floor, not a model.
 *
 * usage: swapread DIR MIB SECONDS GAP_US
 * prints one JSON line: {"anchor":"swapread","direct":B,"gap_us":G,
 * "reads":N,"seconds":S,"p50_ns":..,"p90_ns":..,"p99_ns":..,"max_ns":..,
 * "mean_ns":..}
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "anchor.h"

#define PAGE		4096UL
#define FILL_CHUNK	256UL		/* pages a write while filling */
#define MAX_READS	(1UL << 20)	/* a minute of 60 us reads */

static unsigned long rng = 88172645463325252UL;

static unsigned long
next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* The q-th quantile (0..1) of n sorted samples: the nearest rank. */
static uint64_t
quantile(const uint64_t *s, size_t n, double q)
{
	size_t r = (size_t)(q * (double)n + 0.999999);

	if (r < 1)
		r = 1;
	return s[(r > n ? n : r) - 1];
}

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int
main(int argc, char **argv)
{
	char path[4096];
	struct timespec gap;
	uint64_t *lat, t, sum = 0;
	unsigned long npages, i;
	double seconds, t0, t1;
	size_t n = 0;
	long gap_us;
	bool direct = true;
	void *buf;
	int fd, fl, error;

	if (argc != 5 || atol(argv[2]) < 1 || (seconds = atof(argv[3])) <= 0 ||
	    (gap_us = atol(argv[4])) < 0) {
		fprintf(stderr, "usage: swapread DIR MIB SECONDS GAP_US\n");
		return 1;
	}
	npages = (unsigned long)atol(argv[2]) * (1UL << 20) / PAGE;
	snprintf(path, sizeof(path), "%s/uvmstress-swapread.XXXXXX", argv[1]);
	if ((fd = mkostemp(path, O_CLOEXEC)) < 0) {
		perror("swapread: mkostemp");
		return 3;
	}
	unlink(path);			/* lives as long as we hold it */
	if ((error = posix_fallocate(fd, 0, (off_t)(npages * PAGE))) != 0) {
		fprintf(stderr, "swapread: posix_fallocate: %s\n",
		    strerror(error));
		return 3;
	}
	if ((fl = fcntl(fd, F_GETFL)) < 0 ||
	    fcntl(fd, F_SETFL, fl | O_DIRECT) != 0) {
		if (errno != EINVAL) {
			perror("swapread: O_DIRECT");
			return 3;
		}
		fprintf(stderr, "swapread: %s: no O_DIRECT here, buffered "
		    "I/O\n", argv[1]);
		direct = false;
	}
	lat = malloc(MAX_READS * sizeof(*lat));
	if (lat == NULL || posix_memalign(&buf, PAGE, FILL_CHUNK * PAGE) != 0) {
		fprintf(stderr, "swapread: out of memory\n");
		return 3;
	}
	/* write it through: reads must come from the disk, not holes */
	memset(buf, 0xa5, FILL_CHUNK * PAGE);
	for (i = 0; i < npages; i += FILL_CHUNK)
		if (pwrite(fd, buf, FILL_CHUNK * PAGE, (off_t)(i * PAGE)) !=
		    (ssize_t)(FILL_CHUNK * PAGE)) {
			perror("swapread: filling the file");
			return 3;
		}
	fsync(fd);

	gap.tv_sec = gap_us / 1000000;
	gap.tv_nsec = (gap_us % 1000000) * 1000;
	t0 = now();
	do {
		off_t off = (off_t)((next() % npages) * PAGE);

		if (gap_us > 0)
			nanosleep(&gap, NULL);
		t = now_ns();
		if (pread(fd, buf, PAGE, off) != (ssize_t)PAGE) {
			perror("swapread: pread");
			return 3;
		}
		lat[n] = now_ns() - t;
		sum += lat[n++];
		t1 = now();
	} while (t1 - t0 < seconds && n < MAX_READS);
	qsort(lat, n, sizeof(*lat), cmp_u64);
	printf("{\"anchor\":\"swapread\",\"direct\":%s,\"gap_us\":%ld,"
	    "\"reads\":%zu,\"seconds\":%.3f,\"p50_ns\":%llu,\"p90_ns\":%llu,"
	    "\"p99_ns\":%llu,\"max_ns\":%llu,\"mean_ns\":%llu}\n",
	    direct ? "true" : "false", gap_us, n, t1 - t0,
	    (unsigned long long)quantile(lat, n, 0.50),
	    (unsigned long long)quantile(lat, n, 0.90),
	    (unsigned long long)quantile(lat, n, 0.99),
	    (unsigned long long)lat[n - 1],
	    (unsigned long long)(sum / n));
	close(fd);
	free(buf);
	free(lat);
	return 0;
}
