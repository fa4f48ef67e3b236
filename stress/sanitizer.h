/*
 * stress/sanitizer.h: the sanitizers' findings as the run's failures
 * (stress/sanitizer.c).
 */
#ifndef STRESS_SANITIZER_H
#define STRESS_SANITIZER_H

#include <stdbool.h>

/*
 * sanitizer_init: in the tsan build, TSan's reports become failures
 * (kind "tsan") and its exits the run's (stress_sanitizer_death); in
 * the other builds, nothing.  => before any thread of the machine starts
 */
void sanitizer_init(void);
/*
 * sanitizer_poll: the first TSan report, if one came since, becomes a
 * failure (stress_fail, kind "tsan").  => the harness thread
 */
void sanitizer_poll(void);
/* sanitizer_reports: how many reports TSan made in all. */
int sanitizer_reports(void);
/* sanitizer_tsan: this is the tsan build. */
bool sanitizer_tsan(void);

#endif /* STRESS_SANITIZER_H */
