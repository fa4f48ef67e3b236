/*
 * host/kassert.h: panic(9), KASSERT and KDASSERT.
 *
 * KASSERT is always compiled in: a stress tool wants its assertions.
 * KDASSERT holds the costly checks and is compiled in DIAGNOSTIC builds
 * (debug, asan, tsan).  panic() never allocates: it formats into a stack
 * buffer and write(2)s, so it is safe on the SIGSEGV trap path.  It prints
 * the run seed and the recent events of the panicking thread, runs the
 * panic hook (the harness prints its replay line there), and aborts.
 */
#ifndef HOST_KASSERT_H
#define HOST_KASSERT_H

#include <stdbool.h>

#include "param.h"

__noreturn __printflike(1, 2) void panic(const char *fmt, ...);
__noreturn void kassert_fail(const char *expr, const char *file, int line,
    const char *func);

#define KASSERT(e)							\
	do {								\
		if (__predict_false(!(e)))				\
			kassert_fail(#e, __FILE__, __LINE__, __func__);	\
	} while (0)

#define KASSERTMSG(e, ...)						\
	do {								\
		if (__predict_false(!(e)))				\
			panic(__VA_ARGS__);				\
	} while (0)

#ifdef DIAGNOSTIC
#define KDASSERT(e)	KASSERT(e)
#else
#define KDASSERT(e)	((void)0)
#endif

#define CTASSERT(e)	_Static_assert(e, #e)

/*
 * host_panic_hook: called once by panic() after the report is printed and
 * before abort(); the harness uses it to print the replay command.  A
 * panic on another thread meanwhile waits for the first to end the
 * process (one report, its exit status); a panic inside the hook ends it
 * with EXIT_FAILURE_FOUND.
 * => must not allocate.
 */
void host_set_panic_hook(void (*fn)(const char *msg));
/* host_panics: how many panics (and host limits) were raised so far. */
int host_panics(void);

/*
 * host_limit: the host refused the machine a resource it needs (an mmap
 * with ENOMEM at vm.max_map_count or out of memory, descriptors) where
 * it could not be foreseen.  A host limit, not a VM failure: the message
 * names the limit, its value and what would fit.  Runs the limit hook
 * (the harness prints its one line and report, and exits 3), else prints
 * "host limit: MSG" and exits EXIT_NO_RESOURCE (3).  A second caller
 * (another thread at the same limit) waits for the first to end it.
 * => never allocates: safe on the trap path
 */
__noreturn __printflike(1, 2) void host_limit(const char *fmt, ...);
/* host_set_limit_hook: fn(msg) ends the process.  => must not allocate */
void host_set_limit_hook(void (*fn)(const char *msg));

/* host_printf: formatted write(2) to stderr without allocation. */
__printflike(1, 2) void host_printf(const char *fmt, ...);
/*
 * host_notice: host_printf for a notice ("uvmstress: notice: ..."), said
 * unless host_set_quiet(true) (the harness's -q).
 */
__printflike(1, 2) void host_notice(const char *fmt, ...);
void host_set_quiet(bool quiet);

#endif /* HOST_KASSERT_H */
