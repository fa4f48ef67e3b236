/*
 * host/machine.h: booting and stopping the whole simulated machine.
 *
 * host_boot() brings the machine up in dependency order: run seed and
 * the booting thread's registration, the clock parameters, RAM (arena),
 * the MMU (kernel window, trap), CPUs, proc0, the host topology (and
 * optional binding), the hardclock, and the hang watchdog.  On failure
 * everything already up is taken down again, and the returned class says
 * which exit status the caller owes its user (ARCHITECTURE.md section 4).
 */
#ifndef HOST_MACHINE_H
#define HOST_MACHINE_H

#include "param.h"

/* Exit statuses (stress-ng's conventions). */
#define EXIT_PASS	0
#define EXIT_USAGE	1	/* usage or harness error */
#define EXIT_FAILURE_FOUND 2	/* integrity, invariant, lock order, hang */
#define EXIT_NO_RESOURCE 3	/* the host lacks a resource */

struct machine_config {
	uint64_t	mc_ram;		/* bytes of RAM */
	int		mc_ncpu;	/* simulated CPUs */
	int		mc_hz;		/* clock ticks per simulated second */
	unsigned int	mc_timescale;	/* simulated seconds per real second */
	uint64_t	mc_seed;	/* run seed (0: draw one) */
	bool		mc_bind;	/* bind simulated CPUs to host PUs */
	int		mc_witness;	/* lock-order checker: 1 on, 0 off, -1 build default */
	unsigned int	mc_watchdog_s;	/* hang watchdog, seconds (0: off) */
	uint64_t	mc_user_va;	/* user VA per address space */
	uint64_t	mc_kernel_va;	/* kernel VA */
	long		mc_map_budget;	/* host mappings (0: the RAM's
					   pages, -1: the most there can be) */
	bool		mc_mod_trap;	/* modified by a store's trap, not by
					   content (host/pmap.h) */
	bool		mc_reserve_closes; /* closes re-reserve, not unmap */
	unsigned int	mc_chaos_permille; /* chaos at hook points (0: off) */
	unsigned int	mc_chaos_delay_us;
	int		mc_lwps;	/* LWPs the run will make, each with
					   its own address space at most (host
					   VMAs they need beside the MMU's
					   budget); 0: a few */
};

/* The defaults: 64 MiB, 2 CPUs, hz 100, scale 1, witness as built. */
void machine_config_default(struct machine_config *mc);

/*
 * host_boot: bring the machine up.  => 0, or the exit status the caller
 * should end with (EXIT_USAGE, EXIT_NO_RESOURCE), with host_boot_error()
 * saying why in one line.
 */
int host_boot(const struct machine_config *mc);
const char *host_boot_error(void);
/* host_shutdown: stop the clock and watchdog, free RAM and windows. */
void host_shutdown(void);

/* The configuration the machine runs with (after defaults). */
const struct machine_config *host_config(void);

/*
 * parse_size: "64M", "1G", "4096", "2k" -> bytes.  => 0 or EINVAL
 * parse_duration: "10", "10s", "5m", "1h" -> seconds.  => 0 or EINVAL
 */
int parse_size(const char *s, uint64_t *out);
int parse_duration(const char *s, uint64_t *out);

#endif /* HOST_MACHINE_H */
