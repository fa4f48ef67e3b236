/*
 * stress/shrink.h: --shrink, a failing deterministic run made smaller
 * (fewer LWPs, operations, preemptions and steps) that fails the same way.
 */
#ifndef STRESS_SHRINK_H
#define STRESS_SHRINK_H

#include "options.h"

/*
 * stress_shrink: run the command (a deterministic --sched), and if it
 * fails, smaller variants of it; print the smallest that fails the same
 * way, with its replay line.  => EXIT_FAILURE_FOUND when it failed (the
 * smallest's), EXIT_USAGE if the run passes or does not replay
 */
int stress_shrink(const struct stress_config *cfg);

#endif /* STRESS_SHRINK_H */
