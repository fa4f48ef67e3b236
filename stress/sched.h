/*
 * stress/sched.h: the harness's side of the deterministic scheduler
 * (--sched, --steps, --schedule-out, --replay; host/dsched.h).
 */
#ifndef STRESS_SCHED_H
#define STRESS_SCHED_H

#include "json.h"
#include "runner.h"

/*
 * stress_sched_begin: before the machine boots: read and check a --replay
 * file, make the --schedule-out file, start the scheduler (the calling
 * thread, the harness's, becomes its first thread).
 * => 0, or EXIT_USAGE with one line on stderr
 */
int stress_sched_begin(struct stress_run *r);
/*
 * stress_sched_end: the workers, daemons and watchdog are gone: take the
 * trace, write --schedule-out, check a replay's hash, and let every
 * thread run free for the machine's shutdown.  Idempotent.
 */
void stress_sched_end(struct stress_run *r);
/*
 * stress_sched_fatal: a run ending on the spot (a panic, a hang): take
 * the trace as it is and write --schedule-out, with write(2) only; the
 * threads stay parked.  => never allocates
 */
void stress_sched_fatal(struct stress_run *r);
/* The harness's sleep: virtual time under the scheduler. */
void stress_sched_sleep_ms(unsigned int ms);
/* The report's lines and JSON object ("schedule"). */
void stress_sched_report(FILE *f, const struct stress_run *r);
void stress_sched_json(struct json *j, const struct stress_run *r);
/* A one-line failure for a replay that diverged, or NULL. */
const char *stress_sched_diverged(const struct stress_run *r, char *buf,
    size_t len);

#endif /* STRESS_SCHED_H */
