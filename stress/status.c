/*
 * stress/status.c: the live one-line status on a terminal.
 *
 * Drawn on stderr by the harness thread about once a second when stderr
 * is a terminal and the run is not quiet:
 *
 *	[uvmstress] 3/10 s touch ops 1234567 faults/s 152.3k free 12345 swap 0/0
 *	kills 0
 *
 * The first line is drawn at once, when the timed phase starts (the
 * workers are past their start barrier), then about once a second.
 * status_end() wipes the line so what follows starts clean; failures
 * call it too (from any thread: the worst case is a stray blank).
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "host/clock.h"
#include "host/dsched.h"
#include "runner.h"
#include "vm/uvm.h"

#define STATUS_PERIOD_NS	1000000000ull

static int status_on;			/* [a] a line is being drawn */
static uint64_t status_last_ns;		/* harness thread only */
static uint64_t status_last_faults;

/* local prototypes */
static void human(double v, char *buf, size_t len);
static void status_draw(const struct stress_run *r, uint64_t now);

static void
human(double v, char *buf, size_t len)
{
	if (v >= 1e6)
		snprintf(buf, len, "%.1fM", v / 1e6);
	else if (v >= 1e4)
		snprintf(buf, len, "%.1fk", v / 1e3);
	else
		snprintf(buf, len, "%.0f", v);
}

void
status_begin(const struct stress_run *r)
{
	if (r->r_cfg->quiet || !isatty(STDERR_FILENO))
		return;
	status_last_ns = host_wall_ns();
	status_last_faults = (uint64_t)uvmexp_read(faults);
	__atomic_store_n(&status_on, 1, __ATOMIC_RELEASE);
	status_draw(r, status_last_ns);
}

void
status_update(const struct stress_run *r)
{
	uint64_t now = host_wall_ns();

	if (!__atomic_load_n(&status_on, __ATOMIC_ACQUIRE) ||
	    now - status_last_ns < STATUS_PERIOD_NS)
		return;
	status_draw(r, now);
}

/* Draw the line; faults/s over the time since the last one (0 at first). */
static void
status_draw(const struct stress_run *r, uint64_t now)
{
	uint64_t ops = 0, faults;
	char line[192], rate[32], total[64];
	double dt;
	int i, nfree;

	dt = (double)(now - status_last_ns) / 1e9;
	faults = (uint64_t)uvmexp_read(faults);
	human(dt > 0 ? (double)(faults - status_last_faults) / dt : 0, rate,
	    sizeof(rate));
	status_last_ns = now;
	status_last_faults = faults;
	for (i = 0; i < r->r_nworkers; i++)
		ops += STRESS_LD(&r->r_workers[i].w_ops);
	/*
	 * No lock: the line is drawn at wall-clock times, which must not add
	 * scheduling points to a deterministic run's trace.
	 */
	nfree = uvmexp_read(free);
	if (r->r_det)		/* where the schedule is, and virtual time */
		snprintf(total, sizeof(total), "step %llu%s%.0llu, %.1f s",
		    (unsigned long long)dsched_step(),
		    r->r_cfg->steps != 0 ? "/" : "",
		    (unsigned long long)r->r_cfg->steps, stress_elapsed_s(r));
	else if (r->r_cfg->timeout_s != 0)
		snprintf(total, sizeof(total), "%.0f/%llu s",
		    stress_elapsed_s(r),
		    (unsigned long long)r->r_cfg->timeout_s);
	else
		snprintf(total, sizeof(total), "%.0f s", stress_elapsed_s(r));
	snprintf(line, sizeof(line), "\r\033[K[uvmstress] %s %s ops %llu "
	    "faults/s %s free %d swap %d/%d kills %llu",
	    total, r->r_sc->sc_name, (unsigned long long)ops, rate, nfree,
	    uvmexp_read(swpginuse), uvmexp.swpages,
	    (unsigned long long)STRESS_LD(&r->r_kills));
	(void)!write(STDERR_FILENO, line, strlen(line));
}

void
status_end(void)
{
	if (__atomic_exchange_n(&status_on, 0, __ATOMIC_ACQ_REL))
		(void)!write(STDERR_FILENO, "\r\033[K", 4);
}
