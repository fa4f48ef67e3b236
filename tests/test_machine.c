/*
 * tests/test_machine.c: booting the whole machine, its bad-input
 * answers, and the size/duration parsers the runner uses.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "host/clock.h"
#include "host/cpu.h"
#include "host/machine.h"
#include "host/pmap.h"
#include "host/rng.h"

TestSuite(machine);

Test(machine, parse_size)
{
	uint64_t v;

	cr_assert_eq(parse_size("4096", &v), 0);
	cr_assert_eq(v, 4096);
	cr_assert_eq(parse_size("64M", &v), 0);
	cr_assert_eq(v, 64ull << 20);
	cr_assert_eq(parse_size("2g", &v), 0);
	cr_assert_eq(v, 2ull << 30);
	cr_assert_eq(parse_size("8kB", &v), 0);
	cr_assert_eq(v, 8192);
	cr_assert_eq(parse_size("-1", &v), EINVAL);
	cr_assert_eq(parse_size("12Q", &v), EINVAL);
	cr_assert_eq(parse_size("", &v), EINVAL);
	cr_assert_eq(parse_size("99999999999999999999", &v), EINVAL);
	cr_assert_eq(parse_size("99999999999T", &v), EINVAL, "overflow");
}

Test(machine, parse_duration)
{
	uint64_t v;

	cr_assert_eq(parse_duration("10", &v), 0);
	cr_assert_eq(v, 10);
	cr_assert_eq(parse_duration("10s", &v), 0);
	cr_assert_eq(v, 10);
	cr_assert_eq(parse_duration("5m", &v), 0);
	cr_assert_eq(v, 300);
	cr_assert_eq(parse_duration("2h", &v), 0);
	cr_assert_eq(v, 7200);
	cr_assert_eq(parse_duration("1x", &v), EINVAL);
	cr_assert_eq(parse_duration("s", &v), EINVAL);
}

Test(machine, boots_and_shuts_down)
{
	struct machine_config mc;

	machine_config_default(&mc);
	mc.mc_ram = 16ull << 20;
	mc.mc_seed = 12345;
	cr_assert_eq(host_boot(&mc), 0, "%s", host_boot_error());
	cr_assert_eq(host_rng_seed(), 12345);
	cr_assert_eq(ncpu, 2);
	cr_assert_not_null(pmap_kernel());
	cr_assert_eq(host_config()->mc_seed, 12345);
	host_shutdown();
	/* and again: shutdown leaves nothing behind */
	cr_assert_eq(host_boot(&mc), 0, "%s", host_boot_error());
	host_shutdown();
}

Test(machine, seed_is_drawn_when_not_given)
{
	struct machine_config mc;

	machine_config_default(&mc);
	mc.mc_ram = 16ull << 20;
	cr_assert_eq(host_boot(&mc), 0, "%s", host_boot_error());
	cr_assert_neq(host_config()->mc_seed, 0);
	cr_assert_eq(host_rng_seed(), host_config()->mc_seed);
	host_shutdown();
}

static void
boot_expect(struct machine_config *mc, int status, const char *words)
{
	cr_assert_eq(host_boot(mc), status, "got: %s", host_boot_error());
	cr_assert_not_null(strstr(host_boot_error(), words), "message: %s",
	    host_boot_error());
	cr_assert_null(strchr(host_boot_error(), '\n'), "one line");
}

Test(machine, bad_input_gets_the_documented_status)
{
	struct machine_config mc;

	machine_config_default(&mc);
	mc.mc_ram = 0;
	boot_expect(&mc, EXIT_USAGE, "RAM");
	mc.mc_ram = (16ull << 20) + 1;
	boot_expect(&mc, EXIT_USAGE, "multiple");
	mc.mc_ram = 1ull << 50;
	boot_expect(&mc, EXIT_NO_RESOURCE, "available");
	machine_config_default(&mc);
	mc.mc_ncpu = 0;
	boot_expect(&mc, EXIT_USAGE, "ncpu");
	mc.mc_ncpu = MAXCPUS + 1;
	boot_expect(&mc, EXIT_USAGE, "ncpu");
	machine_config_default(&mc);
	mc.mc_hz = 0;
	boot_expect(&mc, EXIT_USAGE, "hz");
	machine_config_default(&mc);
	mc.mc_map_budget = 1L << 30;
	boot_expect(&mc, EXIT_NO_RESOURCE, "max_map_count");
	/* after all those, a good configuration still boots */
	machine_config_default(&mc);
	mc.mc_ram = 16ull << 20;
	cr_assert_eq(host_boot(&mc), 0, "%s", host_boot_error());
	host_shutdown();
}
