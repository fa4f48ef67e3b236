/*
 * stress/sanitizer.c: ThreadSanitizer's reports are failures like any
 * other oracle's.
 *
 * In the tsan build TSan calls __tsan_on_report after it has printed a
 * report (a data race, a lock-order inversion of pthread mutexes, a
 * signal-unsafe call, ...), with its own locks held: the hook only copies
 * the first report's raw data (description, each access's pcs).  The
 * harness thread's sanitizer_poll (every tick, and before the verdict)
 * symbolizes it and records the failure (kind "tsan", the first frames
 * of each access as the detail), which stops the run; the run then ends
 * as any failed run does: exit 2, the report, the JSON, the replay line.
 * Later reports are counted (sanitizer_reports), not failures of their
 * own, as later lock-order inversions are.
 *
 * TSan ends the process itself in two places, both through Die(), which
 * runs the death callbacks first: at exit when it reported anything (with
 * its exitcode, 66), and at once after a report under halt_on_error=1.
 * stress_sanitizer_death (runner.c) takes both over: the run's own exit
 * status once it has finished; else (halt_on_error) a line, a JSON written
 * before boot, and exit 2, from uninstrumented code.
 *
 * In the other builds this file defines sanitizer_init only, which does
 * nothing.
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "runner.h"
#include "sanitizer.h"

#if defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define STRESS_TSAN	1
#endif
#endif
#if defined(__SANITIZE_THREAD__)
#define STRESS_TSAN	1
#endif

#ifdef STRESS_TSAN

#define TSAN_FRAMES	6	/* frames of each access we keep */
#define TSAN_MOPS	2	/* accesses of a report we keep */

/* The runtime's interface (compiler-rt's tsan_interface.h, debugging). */
void __tsan_on_report(void *report);
int __tsan_get_report_data(void *report, const char **description,
    int *count, int *stack_count, int *mop_count, int *loc_count,
    int *mutex_count, int *thread_count, int *unique_tid_count,
    void **sleep_trace, unsigned long trace_size);
int __tsan_get_report_mop(void *report, unsigned long idx, int *tid,
    void **addr, int *size, int *write, int *atomic, void **trace,
    unsigned long trace_size);
int __tsan_get_report_stack(void *report, unsigned long idx, void **trace,
    unsigned long trace_size);
void __sanitizer_symbolize_pc(void *pc, const char *fmt, char *out_buf,
    size_t out_buf_size);
void __sanitizer_set_death_callback(void (*callback)(void));

/*
 * The first report, as __tsan_on_report copies it: raw, to be formatted
 * by sanitizer_poll.  The runtime calls the hook with its report locks
 * held, so the hook is not instrumented and calls nothing that is (an
 * instrumented access there may wait for those very locks).
 */
struct tsan_access {
	int	ta_tid, ta_size, ta_write, ta_atomic;
	void	*ta_addr;
	void	*ta_pc[TSAN_FRAMES + 1];
};
static struct {
	char			desc[48];
	int			naccess;	/* accesses (0: a stack only) */
	struct tsan_access	access[TSAN_MOPS];
	void			*stack[TSAN_FRAMES + 1];
} tsan_first;
static int tsan_state;		/* [a] 0 none, 1 copying, 2 copied, 3 failed */
static int tsan_reports;	/* [a] every report */

/* local prototypes */
static size_t frames(char *buf, size_t len, void *const *trace);

/*
 * __tsan_on_report: a report was printed (on stderr): keep the first.
 * => inside the runtime's report path: no instrumentation, no libc
 */
__attribute__((no_sanitize("thread"))) void
__tsan_on_report(void *report)
{
	const char *desc = "report";
	void *sleep_trace[1];
	int count, nstack, nmop, nloc, nmutex, nthread, nuniq, i, k, none = 0;

	__atomic_fetch_add(&tsan_reports, 1, __ATOMIC_RELAXED);
	if (!__atomic_compare_exchange_n(&tsan_state, &none, 1, false,
	    __ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
		return;
	if (__tsan_get_report_data(report, &desc, &count, &nstack, &nmop,
	    &nloc, &nmutex, &nthread, &nuniq, sleep_trace, 1) == 0)
		nstack = nmop = 0;
	for (k = 0; k + 1 < (int)sizeof(tsan_first.desc) && desc[k] != '\0';
	    k++)
		tsan_first.desc[k] = desc[k];
	tsan_first.desc[k] = '\0';
	for (i = 0; i < nmop && i < TSAN_MOPS; i++) {
		struct tsan_access *ta = &tsan_first.access[i];

		if (__tsan_get_report_mop(report, (unsigned long)i,
		    &ta->ta_tid, &ta->ta_addr, &ta->ta_size, &ta->ta_write,
		    &ta->ta_atomic, ta->ta_pc, TSAN_FRAMES) == 0)
			break;
		tsan_first.naccess = i + 1;
	}
	if (nmop == 0 && nstack > 0)
		(void)__tsan_get_report_stack(report, 0, tsan_first.stack,
		    TSAN_FRAMES);
	__atomic_store_n(&tsan_state, 2, __ATOMIC_RELEASE);
}

/* frames: "    #k function file:line" for each pc of trace. */
static size_t
frames(char *buf, size_t len, void *const *trace)
{
	char sym[256];
	size_t off = 0;
	int k;

	for (k = 0; k < TSAN_FRAMES && trace[k] != NULL && off < len; k++) {
		__sanitizer_symbolize_pc(trace[k], "%f %L", sym, sizeof(sym));
		off += (size_t)snprintf(buf + off, len - off, "    #%d %s\n",
		    k, sym);
	}
	return off < len ? off : len;
}

void
sanitizer_poll(void)
{
	char detail[2048], where[256] = "";
	size_t off = 0;
	int i, two = 2;

	if (!__atomic_compare_exchange_n(&tsan_state, &two, 3, false,
	    __ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
		return;
	detail[0] = '\0';
	for (i = 0; i < tsan_first.naccess && off < sizeof(detail); i++) {
		const struct tsan_access *ta = &tsan_first.access[i];

		off += (size_t)snprintf(detail + off, sizeof(detail) - off,
		    "  %s%s of %d bytes at %p by thread T%d:\n",
		    ta->ta_atomic ? "atomic " : "", ta->ta_write ? "write" :
		    "read", ta->ta_size, ta->ta_addr, ta->ta_tid);
		if (off < sizeof(detail))
			off += frames(detail + off, sizeof(detail) - off,
			    ta->ta_pc);
	}
	if (tsan_first.naccess == 0 && tsan_first.stack[0] != NULL)
		(void)frames(detail, sizeof(detail), tsan_first.stack);
	if (tsan_first.naccess > 0 && tsan_first.access[0].ta_pc[0] != NULL)
		__sanitizer_symbolize_pc(tsan_first.access[0].ta_pc[0],
		    "%f %L", where, sizeof(where));
	stress_fail(FK_TSAN, detail, "ThreadSanitizer: %s%s%s (the report "
	    "is above)", tsan_first.desc, where[0] != '\0' ? " in " : "",
	    where);
}

int
sanitizer_reports(void)
{
	return __atomic_load_n(&tsan_reports, __ATOMIC_RELAXED);
}

void
sanitizer_init(void)
{
	__sanitizer_set_death_callback(stress_sanitizer_death);
}

bool
sanitizer_tsan(void)
{
	return true;
}

#else	/* !STRESS_TSAN */

void
sanitizer_init(void)
{
}

void
sanitizer_poll(void)
{
}

int
sanitizer_reports(void)
{
	return 0;
}

bool
sanitizer_tsan(void)
{
	return false;
}

#endif
