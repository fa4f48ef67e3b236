/*
 * stress/scenario.h: what a scenario is, and the one registry of them.
 *
 * A scenario is one file, stress/scenario_<name>.c, in the same order as
 * stress-ng's stressors: help text, options table, a context struct, the
 * LWP worker, the scenario entry, and its descriptor, which is listed in
 * the one table in stress/scenarios.c.
 *
 * Scenario options are spelled --NAME on the command line (NAME in a job
 * file).  Their values are parsed into the config (stress/options.h) by
 * table order: a scenario reads option i as cfg->sval[i].
 */
#ifndef STRESS_SCENARIO_H
#define STRESS_SCENARIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum sopt_type {
	SOPT_INT = 1,		/* a count in [min, max] */
	SOPT_FLAG,		/* no value: 1 when given */
	SOPT_ENUM,		/* one of so_choices: the value is its index */
	SOPT_SIZE,		/* bytes ("64M"), in [min, max] */
	SOPT_STRING,		/* text the scenario's sc_check parses
				   (options_sstr; default so_str_def) */
};

struct sopt {
	const char		*so_name;	/* "pages" */
	enum sopt_type		so_type;
	int64_t			so_min;
	int64_t			so_max;
	int64_t			so_def;		/* default value */
	const char *const	*so_choices;	/* SOPT_ENUM, NULL-terminated */
	const char		*so_metavar;	/* "N", "seq|random" */
	const char		*so_help;	/* one line */
	const char		*so_defstr;	/* the default, in words, if
						   so_def does not say it */
	const char		*so_str_def;	/* SOPT_STRING: the default */
};
#define SOPT_MAX	16

struct stress_config;
struct stress_run;

struct scenario {
	const char		*sc_name;
	const char		*sc_summary;	/* one line, for --list */
	const char		*sc_help;	/* a paragraph, for --help */
	const struct sopt	*sc_opts;
	int			sc_nopts;
	/*
	 * The user pages one LWP may hold at once with these option
	 * values (the working-set check: RAM + swap).
	 */
	uint64_t		(*sc_pages_per_lwp)(const struct stress_config *cfg);
	/*
	 * The scenario is about reclaim: swap (default size) and the
	 * pagedaemon even when its working set fits in RAM.
	 */
	bool			sc_reclaim;
	/*
	 * Defaults: LWPs in all (0: 4), per process (0: 1), --fail-io,
	 * --fail-alloc.
	 */
	int			sc_lwps;
	int			sc_threads;
	unsigned int		sc_fail_io;	/* permille, where swap is */
	unsigned int		sc_fail_alloc;	/* permille */
	unsigned int		sc_lose_io;	/* permille, where swap is */
	unsigned int		sc_timescale;	/* --time-scale default (0: 1) */
	uint64_t		sc_ram;		/* --ram default (0: 64M) */
	int			sc_bufcache_div; /* --bufcache: RAM / this (0:
						   none) */
	/*
	 * The scenario expects pages lost on bad sectors (--lose-io): a
	 * fault refused with EIO is counted, not a failure.
	 */
	bool			sc_expects_loss;
	/*
	 * Checks of the scenario's options against the rest (options_check
	 * calls it first): NULL, or a one-line reason the run is refused
	 * (in buf), exit 1.  May be NULL.
	 */
	const char		*(*sc_check)(const struct stress_config *cfg,
				    char *buf, size_t len);
	/* A missing host feature: the reason to skip, or NULL to run. */
	const char		*(*sc_skip)(const struct stress_config *cfg);
	/*
	 * The scenario entry: set up per-LWP contexts, run the workers
	 * (stress_run_workers), add metrics.  => 0, or EXIT_USAGE for a
	 * harness error (failures are recorded with stress_fail).
	 */
	int			(*sc_run)(struct stress_run *run);
};

/* The registry (stress/scenarios.c). */
extern const struct scenario *const stress_scenarios[];
extern const int stress_nscenarios;
const struct scenario *scenario_find(const char *name);
/* The option of sc named name, or -1. */
int scenario_opt_index(const struct scenario *sc, const char *name);

/* The descriptors (one per scenario file). */
extern const struct scenario scenario_touch;
extern const struct scenario scenario_segv;
extern const struct scenario scenario_pressure;
extern const struct scenario scenario_mix;
extern const struct scenario scenario_fork;
extern const struct scenario scenario_swapper;

#endif /* STRESS_SCENARIO_H */
