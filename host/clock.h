/*
 * host/clock.h: the machine's clock.
 *
 * A hardclock thread ticks `hz` times per simulated second, asks busy
 * CPUs to reschedule when LWPs wait for one, and runs schedcpu() once per
 * simulated second.  A time scale lets seconds-long policy constants play
 * out in short runs: with scale s, one simulated second lasts 1/s real
 * seconds.  Timed sleeps convert ticks through the same scale, and every
 * clock read passes the hook point (HE_CLOCK) so that a deterministic
 * scheduler can make time virtual.
 */
#ifndef HOST_CLOCK_H
#define HOST_CLOCK_H

#include "param.h"

extern int hz;			/* [I] ticks per simulated second */

/* host_clock_init: set hz (1..10000) and scale (1..1000). => EINVAL */
int host_clock_init(int hz, unsigned int scale);
/* Start and stop the hardclock thread.  => may sleep */
int host_clock_start(void);
void host_clock_stop(void);

unsigned int host_clock_scale(void);
/* Simulated nanoseconds since boot (hooked: HE_CLOCK). */
uint64_t host_clock_now_ns(void);
/* Ticks since boot, counted by hardclock. */
uint64_t getticks(void);
/* Simulated seconds since boot. */
uint64_t time_uptime(void);
/* Real (host) nanoseconds that `ticks` ticks last under the scale. */
uint64_t host_ticks_to_real_ns(uint64_t ticks);
/* Real nanoseconds that `ns` simulated nanoseconds last. */
uint64_t host_sim_to_real_ns(uint64_t ns);
/*
 * Host monotonic time, real nanoseconds (not hooked: for measurements);
 * under the deterministic scheduler, its virtual time (host/dsched.h).
 */
uint64_t host_real_ns(void);
/* The host's monotonic clock (wall-clock limits, the status line). */
uint64_t host_wall_ns(void);
/* A host_real_ns() time as CLOCK_MONOTONIC (for pthread deadlines). */
uint64_t host_real_to_mono_ns(uint64_t t);
/*
 * The deterministic scheduler ends at virtual time virtual_now: host time
 * (host_real_ns()) resumes from it, the host's clock plus an offset, which
 * keeps it continuous across the switch; host_wall_ns() stays the host's.
 */
void host_clock_det_end(uint64_t virtual_now);
/* Number of schedcpu() runs (tests). */
uint64_t host_clock_nschedcpu(void);
/*
 * host_set_clock_intr_hook: fn() runs on the hardclock thread at every
 * tick, after the tick is counted: the VM's part of the clock interrupt
 * (vm/vm_glue.c: the kernel-stack profile, intr_prof_stack_use).  The
 * host does not call vm/ itself.  NULL (the default): nothing.
 * => fn must not sleep for long (it delays the clock)
 */
void host_set_clock_intr_hook(void (*fn)(void));

#endif /* HOST_CLOCK_H */
