/*
 * host/panic.c: panic(9) and the allocation-free printing it needs.
 */
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "kassert.h"
#include "evring.h"
#include "machine.h"
#include "rng.h"
#include "thread.h"

static _Atomic(void (*)(const char *)) panic_hook;
static _Atomic(void (*)(const char *)) limit_hook;
static atomic_int panicking;	/* a panic or a host limit ends the run */
static _Thread_local bool in_panic;	/* this thread panics already */
static atomic_bool notices_off;		/* host_set_quiet */

void
host_set_panic_hook(void (*fn)(const char *msg))
{
	atomic_store(&panic_hook, fn);
}

int
host_panics(void)
{
	return atomic_load(&panicking);
}

void
host_set_limit_hook(void (*fn)(const char *msg))
{
	atomic_store(&limit_hook, fn);
}

static void
host_vprintf(const char *fmt, va_list ap)
{
	char buf[1024];
	int n;

	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(buf))
		n = sizeof(buf) - 1;
	(void)!write(STDERR_FILENO, buf, (size_t)n);
}

void
host_set_quiet(bool quiet)
{
	atomic_store(&notices_off, quiet);
}

void
host_notice(const char *fmt, ...)
{
	va_list ap;

	if (atomic_load(&notices_off))
		return;
	va_start(ap, fmt);
	host_vprintf(fmt, ap);
	va_end(ap);
}

void
host_printf(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	host_vprintf(fmt, ap);
	va_end(ap);
}

void
panic(const char *fmt, ...)
{
	char msg[512];
	struct host_thread *ht = host_curthread;
	void (*hook)(const char *);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);

	/*
	 * One report: a second panic on another thread waits for the first
	 * to end the process (an abort here would end it as exit 134, with
	 * no report); a nested one, from the hook itself, ends it at once
	 * with the failure status.
	 */
	if (atomic_fetch_add(&panicking, 1) != 0) {
		host_printf("panic (%s): %s\n", in_panic ? "nested" :
		    "while another thread panics", msg);
		if (in_panic)
			_exit(EXIT_FAILURE_FOUND);
		for (;;)
			pause();
	}
	in_panic = true;
	host_printf("panic: %s\n", msg);
	host_printf("panic: seed %llu, thread %s\n",
	    (unsigned long long)host_rng_seed(),
	    ht != NULL ? ht->ht_name : "(not a host thread)");
	if (ht != NULL) {
		host_printf("panic: recent events of this thread, oldest first:\n");
		evring_dump(&ht->ht_ring, 32);
	}
	hook = atomic_load(&panic_hook);
	if (hook != NULL)
		hook(msg);
	abort();
}

void
host_limit(const char *fmt, ...)
{
	char msg[512];
	void (*hook)(const char *);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* One report: a racing limit or panic ends the process for us. */
	if (atomic_fetch_add(&panicking, 1) != 0)
		for (;;)
			pause();
	hook = atomic_load(&limit_hook);
	if (hook != NULL)
		hook(msg);
	host_printf("host limit: %s\n", msg);
	_exit(EXIT_NO_RESOURCE);
}

void
kassert_fail(const char *expr, const char *file, int line, const char *func)
{
	panic("kernel assertion \"%s\" failed: file \"%s\", line %d, "
	    "function \"%s\"", expr, file, line, func);
}
