/*
 * perf/anchor.h: what the anchor programs of perf/ share (each is built
 * alone by its benchmark script).
 */
#ifndef PERF_ANCHOR_H
#define PERF_ANCHOR_H

#include <time.h>

/* Seconds on the monotonic clock. */
static inline double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

#endif /* PERF_ANCHOR_H */
