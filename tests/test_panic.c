/*
 * tests/test_panic.c: panic(9) ends the process once, with one report and
 * the status its hook chooses, however many threads panic.
 */
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <criterion/redirect.h>

#include "host/kassert.h"
#include "host/machine.h"

/* local prototypes */
static void wait_for_second_panic(const char *msg);
static void panic_again(const char *msg);
static void *second_panicker(void *arg);

/* The first panic's hook: end the run only once the second has come. */
static void
wait_for_second_panic(const char *msg)
{
	while (host_panics() < 2)
		usleep(1000);
	_exit(EXIT_FAILURE_FOUND);
}

static void
panic_again(const char *msg)
{
	panic("the hook panics too");
}

static void *
second_panicker(void *arg)
{
	while (host_panics() < 1)
		usleep(1000);
	panic("second: %s", (const char *)arg);
}

TestSuite(panic, .init = cr_redirect_stderr);

/*
 * A panic on a second thread while the first panic's hook runs waits for
 * it (before: abort(), exit 134 with no report).
 */
Test(panic, two_panics_at_once_end_with_the_first_ones_status,
    .exit_code = EXIT_FAILURE_FOUND)
{
	pthread_t t;

	host_set_panic_hook(wait_for_second_panic);
	cr_assert_eq(pthread_create(&t, NULL, second_panicker, "racing"), 0);
	panic("first");
}

/* A panic inside the hook ends the process at once, as a failure. */
Test(panic, a_panic_in_the_hook_is_a_failure_not_an_abort,
    .exit_code = EXIT_FAILURE_FOUND)
{
	host_set_panic_hook(panic_again);
	panic("first");
}
