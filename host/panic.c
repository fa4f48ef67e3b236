/*
 * host/panic.c: panic(9) and the allocation-free printing it needs.
 */
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "kassert.h"
#include "evring.h"
#include "rng.h"
#include "thread.h"

static _Atomic(void (*)(const char *)) panic_hook;
static atomic_int panicking;

void
host_set_panic_hook(void (*fn)(const char *msg))
{
	atomic_store(&panic_hook, fn);
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

	/* A second panic (from the hook or a racing thread) just dies. */
	if (atomic_fetch_add(&panicking, 1) != 0) {
		host_printf("panic (nested): %s\n", msg);
		abort();
	}
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
kassert_fail(const char *expr, const char *file, int line, const char *func)
{
	panic("kernel assertion \"%s\" failed: file \"%s\", line %d, "
	    "function \"%s\"", expr, file, line, func);
}
