/*
 * stress/options.h: the run's configuration, from a job file and the
 * command line (stress-ng's spelling).
 *
 * options_parse() reads a job file (--job FILE: one option a line, `name
 * value` or `name`, '#' comments) first and the command line second, so
 * the command line overrides the job file.  Bad input is one line on
 * stderr and EXIT_USAGE.  The config is filled once, in main, before the
 * machine boots, and is read-only afterwards (any thread may read it).
 */
#ifndef STRESS_OPTIONS_H
#define STRESS_OPTIONS_H

#include <stdio.h>

#include "json.h"
#include "scenario.h"

#define STRESS_VERSION		"0.1.0"

#define INJECT_NONE		0
#define INJECT_CORRUPT		1	/* flip bits in a written page */
#define INJECT_PANIC		2	/* panic (tests the fatal path) */
#define INJECT_HANG		3	/* every worker sleeps forever */

#define LWPS_MAX		1024
#define OPS_MAX			1000000000000000ll	/* 10^15 */
#define TIMEOUT_MAX		(7ull * 86400)		/* a week */
#define TIMEOUT_DEFAULT		5
#define WATCHDOG_DEFAULT	30

struct stress_config {
	const struct scenario	*sc;		/* --scenario */
	bool			sc_given;	/* named explicitly */
	int64_t			sval[SOPT_MAX];	/* scenario options, by index */
	bool			sset[SOPT_MAX];	/* given explicitly */
	int			lwps;		/* --lwps */
	int			ncpu;		/* --ncpu */
	uint64_t		ram;		/* --ram, bytes */
	uint64_t		seed;		/* --seed (drawn if not given) */
	bool			seed_given;
	uint64_t		timeout_s;	/* -t; 0: none (with --ops) */
	bool			timeout_given;
	uint64_t		ops;		/* --ops; 0: no limit */
	char			*json_path;	/* --json, "-" = stdout */
	char			*job_path;	/* --job */
	bool			quiet;		/* -q */
	int			verbose;	/* -v (repeatable) */
	int			witness;	/* --witness: 1, 0, -1 as built */
	unsigned int		watchdog_s;	/* --watchdog, 0 off */
	unsigned int		chaos;		/* --chaos, permille */
	bool			bind;		/* --bind */
	int			inject;		/* --inject: INJECT_* */
	bool			help;		/* --help */
	bool			list;		/* --list */
	int			argc;		/* the command line, for replay */
	char			**argv;
};

/*
 * options_parse: fill cfg from the job file and argv.
 * => 0, or EXIT_USAGE with one line on stderr.
 */
int options_parse(int argc, char **argv, struct stress_config *cfg);
/* options_free: what options_parse allocated (also after it failed). */
void options_free(struct stress_config *cfg);
/*
 * options_check: checks across options, before boot: the working set
 * must fit in --ram while the VM has no reclaim.
 * => 0, or EXIT_USAGE with one line on stderr.
 */
int options_check(const struct stress_config *cfg);
/*
 * options_working_set: user pages all LWPs may hold, and (*kernelp) an
 * estimate of the kernel's own pages for them.
 */
uint64_t options_working_set(const struct stress_config *cfg,
    uint64_t *kernelp);

void options_help(FILE *f, const struct stress_config *cfg);
void options_list(FILE *f);
/* The one command line that replays this run: argv with --seed fixed. */
char *options_replay(const struct stress_config *cfg);
/* The "config" object of the JSON report: every option's value. */
void options_json(struct json *j, const char *key,
    const struct stress_config *cfg);
/* A scenario option's value as text ("random", "64", "true"). */
void options_sval_str(const struct stress_config *cfg, int i, char *buf,
    size_t len);

#endif /* STRESS_OPTIONS_H */
