/*
 * host/machine.c: boot and shutdown of the simulated machine.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "clock.h"
#include "cpu.h"
#include "hook.h"
#include "lwp.h"
#include "machine.h"
#include "pmap.h"
#include "rng.h"
#include "thread.h"
#include "topology.h"
#include "watchdog.h"
#include "witness.h"

static struct machine_config cur_config;
static char boot_err[640];
static int boot_stage;		/* how far host_boot got */

enum { ST_NONE, ST_ARENA, ST_MMU, ST_TOPO, ST_CLOCK, ST_WATCHDOG };

void
machine_config_default(struct machine_config *mc)
{
	memset(mc, 0, sizeof(*mc));
	mc->mc_ram = 64ull << 20;
	mc->mc_ncpu = 2;
	mc->mc_hz = HZ_DEFAULT;
	mc->mc_timescale = 1;
	mc->mc_witness = -1;
	mc->mc_user_va = 4ull << 30;
	mc->mc_kernel_va = 1ull << 30;
}

const char *
host_boot_error(void)
{
	return boot_err;
}

const struct machine_config *
host_config(void)
{
	return &cur_config;
}

static int
boot_fail(int status, const char *fmt, const char *detail)
{
	snprintf(boot_err, sizeof(boot_err), fmt, detail);
	host_shutdown();
	return status;
}

int
host_boot(const struct machine_config *mc)
{
	int error;

	KASSERT(boot_stage == ST_NONE);
	cur_config = *mc;
	boot_err[0] = '\0';
	if (cur_config.mc_seed == 0)
		cur_config.mc_seed = host_rng_fresh_seed();
	host_rng_set_seed(cur_config.mc_seed);
	(void)host_thread_self();
	if (cur_config.mc_witness >= 0)
		witness_enable(cur_config.mc_witness != 0);

	if (host_clock_init(mc->mc_hz, mc->mc_timescale) != 0)
		return boot_fail(EXIT_USAGE, "%s", "hz must be 1..10000 and the "
		    "time scale 1..1000");
	if (host_cpu_init(mc->mc_ncpu) != 0) {
		snprintf(boot_err, sizeof(boot_err), "--ncpu %d: must be 1..%d",
		    mc->mc_ncpu, MAXCPUS);
		return EXIT_USAGE;
	}

	error = host_arena_init(mc->mc_ram);
	if (error != 0)
		return boot_fail(error == EINVAL ? EXIT_USAGE : EXIT_NO_RESOURCE,
		    "RAM: %s", host_arena_error());
	boot_stage = ST_ARENA;

	error = host_mmu_init(&(struct host_mmu_config){
	    .user_va_size = mc->mc_user_va,
	    .kernel_va_size = mc->mc_kernel_va,
	    .map_budget = mc->mc_map_budget,
	    .mod_emulation = mc->mc_mod_trap ? HOST_MOD_TRAP :
	    HOST_MOD_CONTENT,
	    .close_mode = mc->mc_reserve_closes ? HOST_CLOSE_RESERVE :
	    HOST_CLOSE_HOLE,
	    .lwps = mc->mc_lwps });
	if (error != 0)
		return boot_fail(error == EINVAL ? EXIT_USAGE : EXIT_NO_RESOURCE,
		    "MMU: %s", host_mmu_error());
	boot_stage = ST_MMU;

	host_lwp_init();
	if (host_topo_init() != 0)
		host_notice("uvmstress: notice: no host topology (%s); "
		    "running unbound\n", host_topo_error());
	else if (mc->mc_bind)
		cpu_set_binding(true);
	boot_stage = ST_TOPO;

	if ((error = host_clock_start()) != 0)
		return boot_fail(EXIT_NO_RESOURCE, "cannot start the hardclock "
		    "thread: %s", strerror(error));
	boot_stage = ST_CLOCK;

	if ((error = host_watchdog_start(mc->mc_watchdog_s, NULL)) != 0)
		return boot_fail(EXIT_NO_RESOURCE, "cannot start the watchdog: "
		    "%s", strerror(error));
	boot_stage = ST_WATCHDOG;
	host_set_chaos(mc->mc_chaos_permille, mc->mc_chaos_delay_us);
	return 0;
}

void
host_shutdown(void)
{
	host_set_chaos(0, 0);
	if (boot_stage >= ST_WATCHDOG)
		host_watchdog_stop();
	if (boot_stage >= ST_CLOCK)
		host_clock_stop();
	if (boot_stage >= ST_TOPO) {
		cpu_set_binding(false);
		host_topo_fini();
	}
	if (boot_stage >= ST_MMU)
		host_mmu_fini();
	if (boot_stage >= ST_ARENA)
		host_arena_fini();
	host_cpu_fini();
	boot_stage = ST_NONE;
}

int
parse_size(const char *s, uint64_t *out)
{
	unsigned long long v;
	char *end;
	uint64_t mult = 1;

	if (s == NULL || !isdigit((unsigned char)*s))
		return EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0)
		return EINVAL;
	switch (tolower((unsigned char)*end)) {
	case '\0': break;
	case 'k': mult = 1ull << 10; end++; break;
	case 'm': mult = 1ull << 20; end++; break;
	case 'g': mult = 1ull << 30; end++; break;
	case 't': mult = 1ull << 40; end++; break;
	default: return EINVAL;
	}
	if (*end == 'b' || *end == 'B')
		end++;
	if (*end != '\0' || (v != 0 && mult > UINT64_MAX / v))
		return EINVAL;
	*out = (uint64_t)v * mult;
	return 0;
}

int
parse_duration(const char *s, uint64_t *out)
{
	unsigned long long v;
	char *end;
	uint64_t mult = 1;

	if (s == NULL || !isdigit((unsigned char)*s))
		return EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0)
		return EINVAL;
	switch (*end) {
	case '\0': break;
	case 's': end++; break;
	case 'm': mult = 60; end++; break;
	case 'h': mult = 3600; end++; break;
	case 'd': mult = 86400; end++; break;
	default: return EINVAL;
	}
	if (*end != '\0' || (v != 0 && mult > UINT64_MAX / v))
		return EINVAL;
	*out = (uint64_t)v * mult;
	return 0;
}
