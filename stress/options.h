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
#define INJECT_RACE		4	/* workers race on a plain int (tsan) */
#define INJECT_LOCKORDER	5	/* two locks taken in both orders */

/* The exit status of a run that tested nothing (status no-work, short). */
#define EXIT_UNTESTED		4

#define LWPS_MAX		1024
#define OPS_MAX			1000000000000000ll	/* 10^15 */
#define TIMEOUT_MAX		(7ull * 86400)		/* a week */
#define TIMEOUT_DEFAULT		5
/*
 * -t bounds the whole run: boot, fill and the timed phase end at the
 * limit; the final checks, teardown and report get RUN_GRACE_S more,
 * the final sweeps RUN_SWEEP_GRACE_S of it (see docs/uvmstress.md).
 */
#define RUN_GRACE_S		5
#define RUN_SWEEP_GRACE_S	2
#define SEED_MAX		((1ull << 53) - 1)	/* exact in JSON */
/*
 * --fail-io: at most 20% (permille).  A swap read is tried 16 times
 * before its data counts as lost (vm/uvm_swap.c): at 20% one read in
 * 1.5e11 loses its page, which no run reaches; at 50%, one in 65536.
 */
#define FAIL_IO_MAX		200
/* --fail-alloc: at most 20% (permille), as --fail-io. */
#define FAIL_ALLOC_MAX		200
/* --threads: LWPs per process. */
#define THREADS_MAX		64
#define WATCHDOG_DEFAULT	30
/* Deterministic schedules: PCT's depth, and the steps of a run that
   gives no other end (--ops, --steps, -t). */
#define PCT_DEPTH_DEFAULT	3
#define PCT_DEPTH_MAX		64
#define STEPS_DEFAULT		3000000
#define STEPS_MAX		(1ull << 40)

/*
 * Swap sizing (see options_check): the default swap is 4x the working
 * set, at most SWAP_DEFAULT_CAP unless the working set needs more (then
 * twice the working set), and never more than SWAP_DISK_SHARE of the
 * free space where the swap file goes.
 */
#define SWAP_DEFAULT_CAP	(1ull << 30)
#define SWAP_MAX		(1ull << 40)	/* --swap: at most 1 TiB */
#define SWAP_DISK_SHARE		0.9
/* Resident pages the user part of a working set needs at the least. */
#define WS_MIN_RESIDENT		256

struct stress_config {
	const struct scenario	*sc;		/* --scenario */
	bool			sc_given;	/* named explicitly */
	int64_t			sval[SOPT_MAX];	/* scenario options, by index */
	bool			sset[SOPT_MAX];	/* given explicitly */
	char			*sstr[SOPT_MAX]; /* SOPT_STRING values given
						   (options_sstr reads them) */
	int			lwps;		/* --lwps: all of them */
	bool			lwps_given;
	int			threads;	/* --threads: LWPs per process */
	int			ncpu;		/* --ncpu */
	uint64_t		ram;		/* --ram, bytes */
	bool			ram_given;
	long			map_budget;	/* --map-budget (0 default, -1 max) */
	bool			mod_trap;	/* --mod-emulation trap */
	bool			reserve_closes;	/* --mmu-close reserve */
	bool			fault_ahead_advice; /* --fault-ahead advice */
	bool			glue_freebsd;	/* --glue freebsd */
	bool			glue_given;	/* --glue given */
	int			swapper;	/* --swapper: KERN_SWAPPER_*; -1
						   until options_check (the
						   glue's, if there is swap) */
	int			maxslp;		/* --maxslp, seconds */
	int			idle_t1;	/* --swap-idle-threshold1 */
	int			idle_t2;	/* --swap-idle-threshold2 */
	bool			maxslp_given, idle_t1_given, idle_t2_given;
	bool			swap_idle;	/* --swap-idle */
	unsigned int		timescale;	/* --time-scale (0: the
						   scenario's, then 1) */
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
	uint64_t		swap;		/* --swap bytes; after options_check
						   the swap the run gets (0: none) */
	bool			swap_given;	/* --swap given */
	char			*swap_file;	/* --swap-file (NULL: in $TMPDIR) */
	bool			swap_buffered;	/* --swap-io buffered */
	bool			keep_swap;	/* --keep-swap */
	unsigned int		fail_io;	/* --fail-io, permille */
	bool			fail_io_given;
	unsigned int		lose_io;	/* --lose-io, permille */
	bool			lose_io_given;
	unsigned int		fail_alloc;	/* --fail-alloc, permille */
	bool			fail_alloc_given;
	uint64_t		bufcache;	/* --bufcache bytes (0: none) */
	bool			bufcache_given;
	bool			oom_is_failure;	/* --oom-is-failure */
	bool			reclaim;	/* [checked] start the pagedaemon */
	bool			overcommit;	/* [checked] ws > RAM + swap */
	int			sched;		/* --sched: DSCHED_* */
	unsigned int		pct_depth;	/* --pct-depth (PCT's d) */
	bool			pct_depth_given;
	uint64_t		steps;		/* --steps; 0: no limit */
	uint64_t		pct_steps;	/* --pct-steps: PCT's k (0: the
						   steps, or STEPS_DEFAULT) */
	bool			shrink;		/* --shrink */
	uint64_t		seeds_lo;	/* --seeds A-B: a search, 0: none */
	uint64_t		seeds_hi;
	char			*schedule_out;	/* --schedule-out FILE */
	char			*replay_path;	/* --replay FILE */
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
 * options_check: checks across options, before boot, and the derived
 * settings ([checked] fields, the default swap size): the working set
 * must fit in RAM + swap (a working set beyond an explicit --swap is
 * allowed: out-of-swap kills are then expected), the kernel's share of
 * it in RAM; the swap file's directory must have room.
 * => 0, or EXIT_USAGE (EXIT_NO_RESOURCE: the host has no room or no
 *    usable directory for the swap file) with one line on stderr.
 */
int options_check(struct stress_config *cfg);
/*
 * options_working_set: user pages all LWPs may hold, and (*kernelp) an
 * estimate of the kernel's own pages for them.
 */
uint64_t options_working_set(const struct stress_config *cfg,
    uint64_t *kernelp);

void options_help(FILE *f, const struct stress_config *cfg);
void options_list(FILE *f);
/*
 * options_replay: the one command line that replays this run: argv with
 * --seed fixed and, when ops_per_lwp != 0, the time limit and any --ops
 * replaced by --ops (ops_per_lwp x LWPs), so that every LWP replays at
 * least the operations it did (its sequence is the seed's).
 */
char *options_replay(const struct stress_config *cfg, uint64_t ops_per_lwp);
/*
 * options_search_line: the command that searches deterministically for a
 * failure a free run found: argv without the seed, the time limit, chaos
 * and the output, with --sched pos --seeds 1-1000.
 */
char *options_search_line(const struct stress_config *cfg);
/* The "config" object of the JSON report: every option's value. */
void options_json(struct json *j, const char *key,
    const struct stress_config *cfg);
/* size_str: bytes for people: "256 KiB", "64 MiB", "1.5 GiB". */
void size_str(char *buf, size_t len, uint64_t bytes);
/* A SOPT_STRING option's value: as given, or its so_str_def. */
const char *options_sstr(const struct stress_config *cfg, int i);
/* A scenario option's value as text ("random", "64", "true"). */
void options_sval_str(const struct stress_config *cfg, int i, char *buf,
    size_t len);

#endif /* STRESS_OPTIONS_H */
