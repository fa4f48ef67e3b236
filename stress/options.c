/*
 * stress/options.c: options, job files, --help, --list, the replay line.
 *
 * Parsing is in two passes so that scenario options may come before
 * --scenario: first every (name, value) pair is collected, from the job
 * file and then from argv; then the scenario is chosen (the last
 * --scenario wins) and the pairs are applied in order, so a later value
 * overrides an earlier one and the command line overrides the job file.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "host/arena.h"
#include "host/cpu.h"
#include "host/disk.h"
#include "host/dsched.h"
#include "host/machine.h"
#include "host/param.h"
#include "options.h"
#include "sanitizer.h"
#include "vm/kern_proc.h"
#include "vm/uvm_glue.h"
#include "vm/uvm_pager.h"

/* Descriptors a run opens for a moment (/proc files, hwloc's), at most. */
#define OPTIONS_FDS_TRANSIENT	4

#define RAM_MIN_BYTES	((uint64_t)ARENA_MIN_PAGES * PAGE_SIZE)
#define JOB_LINE_MAX	1023	/* characters in a job file's line */
#define HELP_ARGCOL	24	/* --help: where descriptions start */
#define HELP_WIDTH	79

enum gopt_id {
	GO_SCENARIO = 1, GO_LWPS, GO_NCPU, GO_RAM, GO_SEED, GO_TIMEOUT,
	GO_OPS, GO_JSON, GO_JOB, GO_QUIET, GO_VERBOSE, GO_HELP, GO_LIST,
	GO_WITNESS, GO_WATCHDOG, GO_CHAOS, GO_BIND, GO_INJECT,
	GO_SWAP, GO_SWAP_FILE, GO_SWAP_IO, GO_KEEP_SWAP, GO_FAIL_IO,
	GO_BUFCACHE, GO_OOM_IS_FAILURE, GO_MAP_BUDGET, GO_MOD_EMULATION,
	GO_MMU_CLOSE, GO_FAULT_AHEAD, GO_THREADS, GO_FAIL_ALLOC, GO_LOSE_IO,
	GO_GLUE, GO_SWAPPER, GO_MAXSLP, GO_IDLE_T1, GO_IDLE_T2, GO_SWAP_IDLE,
	GO_TIMESCALE, GO_SCHED, GO_PCT_DEPTH, GO_STEPS, GO_SCHEDULE_OUT,
	GO_REPLAY, GO_SEEDS, GO_SHRINK, GO_PCT_STEPS,
};

struct gopt {
	const char	*go_name;
	char		go_short;	/* 0: none */
	bool		go_hasarg;
	enum gopt_id	go_id;
	const char	*go_metavar;
	const char	*go_help;
};

static const struct gopt gopts[] = {
	{ "scenario", 0, true, GO_SCENARIO, "NAME",
	    "the scenario to run (default: mix; see --list)" },
	{ "lwps", 0, true, GO_LWPS, "N",
	    "worker LWPs in all (1..1024; default: the scenario's, 8 for mix, "
	    "256 for swapper, 4 for the others)" },
	{ "threads", 0, true, GO_THREADS, "N",
	    "LWPs per process, sharing its map (1..64; default: the "
	    "scenario's, 4 for mix and swapper, 2 for fork (at most 8), 1 "
	    "for the others; the last process may have fewer)" },
	{ "ncpu", 0, true, GO_NCPU, "N",
	    "simulated CPUs (1..64, default 2)" },
	{ "ram", 0, true, GO_RAM, "SIZE",
	    "RAM of the machine: 64M, 1G (default 64M; 32M for swapper)" },
	{ "map-budget", 0, true, GO_MAP_BUDGET, "N|max",
	    "live host mappings the MMU keeps, like a TLB's reach (256.., "
	    "default: the RAM's pages)" },
	{ "mod-emulation", 0, true, GO_MOD_EMULATION, "content|trap",
	    "how the MMU tells a page modified: by its checksum (a load opens "
	    "a writable mapping read-write) or by a trap on the first store "
	    "(default content)" },
	{ "mmu-close", 0, true, GO_MMU_CLOSE, "hole|reserve",
	    "how the MMU takes a host mapping away: unmap it, leaving a hole "
	    "in its window, or lay the window's PROT_NONE reservation over it "
	    "again (default hole)" },
	{ "fault-ahead", 0, true, GO_FAULT_AHEAD, "walk|advice",
	    "which resident neighbours a fault maps with its page: only along "
	    "a walk up through memory, or also the advice's window at every "
	    "fault, as OpenBSD does (default walk)" },
	{ "glue", 0, true, GO_GLUE, "netbsd|freebsd",
	    "whose process glue the kernel runs: NetBSD's uvm_glue.c (u-areas, "
	    "uvm_proc_fork) or FreeBSD's vm_glue.c (kernel stacks, "
	    "vm_forkproc) (default netbsd: UVM's own)" },
	{ "swapper", 0, true, GO_SWAPPER, "netbsd|freebsd|off",
	    "the swapper's policy: NetBSD's (uvm_swapout_threads, "
	    "uvm_scheduler: LWPs' u-areas) or FreeBSD's (swapout_procs, "
	    "swapper: processes' kernel stacks); it must be the glue's "
	    "(--swapper alone chooses the glue too) (default: the glue's "
	    "where there is swap, else off)" },
	{ "maxslp", 0, true, GO_MAXSLP, "S",
	    "NetBSD swapper: simulated seconds asleep after which an LWP is "
	    "swapped out (1..1000, default 20, NetBSD's MAXSLP)" },
	{ "swap-idle-threshold1", 0, true, GO_IDLE_T1, "S",
	    "FreeBSD swapper: simulated seconds a process is guaranteed in "
	    "memory (1..1000, default 2)" },
	{ "swap-idle-threshold2", 0, true, GO_IDLE_T2, "S",
	    "FreeBSD swapper: simulated seconds idle before --swap-idle "
	    "swaps a process out (1..1000, default 10; above threshold1)" },
	{ "swap-idle", 0, false, GO_SWAP_IDLE, NULL,
	    "FreeBSD swapper: also swap out idle processes without memory "
	    "pressure (vm.swap_idle_enabled)" },
	{ "time-scale", 0, true, GO_TIMESCALE, "N",
	    "simulated seconds per real second, so that the swapper's "
	    "seconds-long thresholds play out in a short run (1..1000; "
	    "default: the scenario's, 10 for swapper, 1 for the others)" },
	{ "seed", 0, true, GO_SEED, "N",
	    "run seed, 1..2^53-1 (default: drawn; always printed)" },
	{ "seeds", 0, true, GO_SEEDS, "A-B",
	    "search: run seed A, A+1, ... B in turn (each a run of its own, "
	    "quiet) and stop at the first that fails, with its replay line "
	    "(with --sched pos: the deterministic search for a failure seen "
	    "free-running)" },
	{ "shrink", 0, false, GO_SHRINK, NULL,
	    "deterministic run that fails: run it, then smaller variants "
	    "(fewer steps, LWPs, ops, PCT depth, scenario pages and sizes), "
	    "each a run of its own, and print the smallest that fails the "
	    "same way with its replay line" },
	{ "timeout", 't', true, GO_TIMEOUT, "D",
	    "the whole run's time, fill included (final checks and report "
	    "get a few seconds of grace): 10, 10s, 5m, 1h, 0 for none "
	    "(default 5s, none with --ops)" },
	{ "ops", 0, true, GO_OPS, "N",
	    "stop after N ops in total (all LWPs)" },
	{ "json", 0, true, GO_JSON, "FILE",
	    "write the JSON report to FILE ('-': stdout): a new file, or "
	    "an earlier uvmstress report (or empty file), which is replaced; "
	    "anything else is refused" },
	{ "job", 0, true, GO_JOB, "FILE",
	    "read options from FILE: `name value` a line, '#' comments" },
	{ "quiet", 'q', false, GO_QUIET, NULL,
	    "only the seed, failures and the verdict" },
	{ "verbose", 'v', false, GO_VERBOSE, NULL,
	    "more detail (per-LWP counts, audit runs)" },
	{ "help", 'h', false, GO_HELP, NULL, "this text" },
	{ "list", 0, false, GO_LIST, NULL,
	    "list scenarios and their options" },
	{ "witness", 0, true, GO_WITNESS, "on|off",
	    "lock-order checker (default: on in DIAGNOSTIC builds)" },
	{ "watchdog", 0, true, GO_WATCHDOG, "S",
	    "hang watchdog: fail after S s without progress (default 30, 0 off)" },
	{ "chaos", 0, true, GO_CHAOS, "PERMILLE",
	    "seeded yields and delays at hook points (0..1000, default 0)" },
	{ "sched", 0, true, GO_SCHED, "free|random|pct|pos",
	    "who runs next: the host's threads at once (free, the default), "
	    "or one thread at a time chosen from the seed at every hook point, "
	    "with virtual time, so that a seed replays the interleaving: a "
	    "uniform random walk, PCT (priorities with d-1 change points) or "
	    "POS (priorities resampled for racing events) (see docs/sched.md)" },
	{ "pct-depth", 0, true, GO_PCT_DEPTH, "D",
	    "--sched pct: the bug depth d it aims at (1..64, default 3)" },
	{ "pct-steps", 0, true, GO_PCT_STEPS, "K",
	    "--sched pct: the steps its change points are spread over (PCT's "
	    "k; default: --steps, or 3000000)" },
	{ "steps", 0, true, GO_STEPS, "N",
	    "deterministic run: stop the workers after N scheduling steps, "
	    "counted from boot (the fill too); the run goes on past N to end "
	    "its operations, final checks and teardown (default 3000000 when "
	    "neither --ops nor -t is given)" },
	{ "schedule-out", 0, true, GO_SCHEDULE_OUT, "FILE",
	    "deterministic run: write its decisions to FILE (a new file)" },
	{ "replay", 0, true, GO_REPLAY, "FILE",
	    "deterministic run: follow the decisions in FILE (from "
	    "--schedule-out, same binary and options); a divergence is "
	    "reported with its step" },
	{ "bind", 0, false, GO_BIND, NULL,
	    "bind simulated CPUs to host PUs (hwloc)" },
	{ "inject", 0, true, GO_INJECT, "corrupt|panic|hang|race|lock-order",
	    "after ~1 s, flip bits in a written page behind the VM's back, "
	    "panic, stop every worker, (tsan build) make the workers race on "
	    "a plain variable, or take two locks in both orders (with the "
	    "witness on): the run must fail (exit 2)" },
	{ "swap", 0, true, GO_SWAP, "SIZE",
	    "swap: 256M, 1G, 0 for none (default: none if the working set "
	    "fits in RAM, else (and for pressure) 4x the working set up to "
	    "1G, within 90% of the free disk)" },
	{ "swap-file", 0, true, GO_SWAP_FILE, "PATH",
	    "the swap file: a new path, or a directory to make a new file "
	    "in (default: $TMPDIR), unlinked once open unless --keep-swap; "
	    "or a swap file uvmstress made and kept, reused and kept. "
	    "Anything else is refused, untouched" },
	{ "swap-io", 0, true, GO_SWAP_IO, "direct|buffered",
	    "swap I/O with O_DIRECT (default; buffered where the file "
	    "system refuses it, with a notice) or through the page cache" },
	{ "keep-swap", 0, false, GO_KEEP_SWAP, NULL,
	    "keep the swap file at exit" },
	{ "fail-io", 0, true, GO_FAIL_IO, "RATE",
	    "fail that share of swap transfers with EIO: a percentage like "
	    "1% or 0.5%, or a fraction like 0.01; at most 20% (nothing may "
	    "be lost)" },
	{ "lose-io", 0, true, GO_LOSE_IO, "RATE",
	    "bad sectors: of that share of swap writes, the first page goes "
	    "bad (its reads fail for good: the page is lost), as --fail-io "
	    "takes rates; at most 20%; only for scenarios that expect lost "
	    "pages (default: the scenario's, 0.2% for mix, 0 for the others)" },
	{ "fail-alloc", 0, true, GO_FAIL_ALLOC, "RATE",
	    "fail that share of the allocations the BSDs may fail (PR_NOWAIT "
	    "pool gets, UVM_KMF_NOWAIT kernel memory), as --fail-io takes "
	    "it; at most 20% (default: the scenario's, 0.5% for mix, 0 for "
	    "the others)" },
	{ "bufcache", 0, true, GO_BUFCACHE, "SIZE",
	    "a buffer cache of SIZE (at most half of RAM), filled at boot, "
	    "that the pagedaemon backs off (default: the scenario's, a 16th of "
	    "RAM for mix, 0 (none) for the others)" },
	{ "oom-is-failure", 0, false, GO_OOM_IS_FAILURE, NULL,
	    "an out-of-swap kill is a failure (exit 2), not just counted" },
};

/* One collected (name, value) pair and where it came from. */
struct pair {
	char		*p_name;	/* without dashes */
	char		*p_value;	/* NULL: none given */
	char		p_where[96];	/* "--lwps" or "job.txt:3: lwps" */
};

struct pairs {
	struct pair	*v;
	int		n;
	int		cap;
};

/* local prototypes */
static __printflike(1, 2) int usage_error(const char *fmt, ...);
static const struct gopt *gopt_find(const char *name);
static const struct gopt *gopt_find_short(char c);
static const struct sopt *sopt_find_any(const char *name);
static bool takes_value(const char *name);
static bool takes_value_arg(const char *a);
static int pairs_add(struct pairs *ps, const char *name, size_t namelen,
    const char *value, const char *where);
static int read_job(const char *path, struct pairs *ps);
static int collect_argv(int argc, char **argv, struct pairs *ps);
static int parse_count(const char *s, int64_t min, int64_t max, int64_t *out);
static int parse_bool(const char *s, bool *out);
static int parse_rate(const char *s, unsigned int *permille);
static int swap_dir(const struct stress_config *cfg, char *buf, size_t len);
static int apply_pair(struct stress_config *cfg, const struct pair *p);
static int apply_sopt(struct stress_config *cfg, int i, const struct pair *p);
static void shell_quote(char **buf, size_t *len, size_t *cap, const char *s);
static void help_wrap(FILE *f, int col, int indent, const char *text);
static void help_entry(FILE *f, const char *arg, const char *text);
static void sopt_usage(FILE *f, const struct sopt *so);
static bool replay_drops(const char *a, bool timing, int *skip);
static int options_sched(struct stress_config *cfg);

static int
usage_error(const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* one line, whatever the input held */
	for (char *p = msg; *p != '\0'; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	fprintf(stderr, "uvmstress: %s (try --help)\n", msg);
	return EXIT_USAGE;
}

static const struct gopt *
gopt_find(const char *name)
{
	size_t i;

	for (i = 0; i < nitems(gopts); i++)
		if (strcmp(gopts[i].go_name, name) == 0)
			return &gopts[i];
	return NULL;
}

static const struct gopt *
gopt_find_short(char c)
{
	size_t i;

	for (i = 0; i < nitems(gopts); i++)
		if (gopts[i].go_short == c)
			return &gopts[i];
	return NULL;
}

/* A scenario option of any scenario (for "takes a value?" and messages). */
static const struct sopt *
sopt_find_any(const char *name)
{
	int i, k;

	for (i = 0; i < stress_nscenarios; i++)
		if ((k = scenario_opt_index(stress_scenarios[i], name)) >= 0)
			return &stress_scenarios[i]->sc_opts[k];
	return NULL;
}

static bool
takes_value(const char *name)
{
	const struct gopt *g = gopt_find(name);
	const struct sopt *so;

	if (g != NULL)
		return g->go_hasarg;
	so = sopt_find_any(name);
	return so != NULL && so->so_type != SOPT_FLAG;
}

/* takes_value_arg: argv word a is an option whose value is the next word. */
static bool
takes_value_arg(const char *a)
{
	const struct gopt *g;

	if (a[0] == '-' && a[1] == '-' && a[2] != '\0')
		return strchr(a, '=') == NULL && takes_value(a + 2);
	if (a[0] == '-' && a[1] != '\0' && a[1] != '-' && a[2] == '\0')
		return (g = gopt_find_short(a[1])) != NULL && g->go_hasarg;
	return false;
}

static int
pairs_add(struct pairs *ps, const char *name, size_t namelen,
    const char *value, const char *where)
{
	struct pair *p;

	if (ps->n == ps->cap) {
		int cap = ps->cap == 0 ? 16 : ps->cap * 2;
		struct pair *v = realloc(ps->v, (size_t)cap * sizeof(*v));

		if (v == NULL)
			return usage_error("out of memory");
		ps->v = v;
		ps->cap = cap;
	}
	p = &ps->v[ps->n];
	p->p_name = strndup(name, namelen);
	p->p_value = value != NULL ? strdup(value) : NULL;
	if (p->p_name == NULL || (value != NULL && p->p_value == NULL))
		return usage_error("out of memory");
	snprintf(p->p_where, sizeof(p->p_where), "%s", where);
	ps->n++;
	return 0;
}

/*
 * read_job: a stress-ng-like job file.  Each line: `name value` or
 * `name` (a leading "--" is allowed), '#' starts a comment at the start of
 * a line or after blanks.  --job inside a job file is an error.
 */
static int
read_job(const char *path, struct pairs *ps)
{
	char *line = NULL, where[96];
	size_t cap = 0;
	ssize_t len;
	FILE *f;
	int lineno = 0, error = 0;

	if ((f = fopen(path, "r")) == NULL)
		return usage_error("--job %s: %s", path, strerror(errno));
	while (error == 0 && (len = getline(&line, &cap, f)) != -1) {
		char *s = line, *e, *name, *value = NULL, *hash;
		size_t namelen;

		lineno++;
		if (memchr(line, '\0', (size_t)len) != NULL) {
			error = usage_error("%s:%d: a NUL byte: not a text file",
			    path, lineno);
			break;
		}
		if (len > JOB_LINE_MAX) {
			error = usage_error("%s:%d: line longer than %d "
			    "characters", path, lineno, JOB_LINE_MAX);
			break;
		}
		for (hash = s; (hash = strchr(hash, '#')) != NULL; hash++)
			if (hash == s || isspace((unsigned char)hash[-1])) {
				*hash = '\0';
				break;
			}
		while (isspace((unsigned char)*s))
			s++;
		e = s + strlen(s);
		while (e > s && isspace((unsigned char)e[-1]))
			*--e = '\0';
		if (*s == '\0')
			continue;
		if (s[0] == '-' && s[1] == '-')
			s += 2;
		name = s;
		while (*s != '\0' && !isspace((unsigned char)*s) && *s != '=')
			s++;
		namelen = (size_t)(s - name);
		if (*s != '\0') {
			*s++ = '\0';
			while (isspace((unsigned char)*s) || *s == '=')
				s++;
			value = s;
		}
		snprintf(where, sizeof(where), "%s:%d: %.*s", path, lineno,
		    (int)MIN(namelen, 40), name);
		if (namelen == 0)
			error = usage_error("%s:%d: no option name", path,
			    lineno);
		else if (strcmp(name, "job") == 0)
			error = usage_error("%s: job files do not nest", where);
		else
			error = pairs_add(ps, name, namelen, value, where);
	}
	if (error == 0 && ferror(f))
		error = usage_error("--job %s: read error", path);
	free(line);
	fclose(f);
	return error;
}

static int
collect_argv(int argc, char **argv, struct pairs *ps)
{
	char where[96];
	int i, error;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *eq, *value = NULL;
		size_t namelen;

		if (a[0] == '-' && a[1] == '-' && a[2] != '\0') {
			a += 2;
			eq = strchr(a, '=');
			namelen = eq != NULL ? (size_t)(eq - a) : strlen(a);
			snprintf(where, sizeof(where), "--%.*s",
			    (int)MIN(namelen, 60), a);
			if (eq != NULL)
				value = eq + 1;
			else {
				char name[64];

				snprintf(name, sizeof(name), "%.*s",
				    (int)MIN(namelen, 63), a);
				if (takes_value(name)) {
					if (i + 1 >= argc)
						return usage_error("%s needs a "
						    "value", where);
					value = argv[++i];
				}
			}
			if ((error = pairs_add(ps, a, namelen, value, where)) != 0)
				return error;
		} else if (a[0] == '-' && a[1] != '\0' && a[1] != '-') {
			const struct gopt *g = gopt_find_short(a[1]);

			if (g == NULL)
				return usage_error("unknown option '%s'", a);
			snprintf(where, sizeof(where), "-%c", a[1]);
			if (g->go_hasarg) {
				if (a[2] != '\0')
					value = a + 2;
				else if (i + 1 < argc)
					value = argv[++i];
				else
					return usage_error("%s needs a value",
					    where);
			} else if (a[2] != '\0')
				return usage_error("unknown option '%s'", a);
			if ((error = pairs_add(ps, g->go_name,
			    strlen(g->go_name), value, where)) != 0)
				return error;
		} else
			return usage_error("unexpected argument '%s'", a);
	}
	return 0;
}

/* A non-negative decimal count in [min, max]: no sign, no blanks. */
static int
parse_count(const char *s, int64_t min, int64_t max, int64_t *out)
{
	unsigned long long v;
	char *end;

	if (s == NULL || !isdigit((unsigned char)s[0]))
		return EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0' || v > (unsigned long long)INT64_MAX ||
	    (int64_t)v < min || (int64_t)v > max)
		return EINVAL;
	*out = (int64_t)v;
	return 0;
}

static int
parse_bool(const char *s, bool *out)
{
	static const char *const yes[] = { "on", "1", "true", "yes" };
	static const char *const no[] = { "off", "0", "false", "no" };
	size_t i;

	for (i = 0; i < nitems(yes); i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	return EINVAL;
}

/* One of two words: `off` gives false, `on` true. */
static int
parse_either(const char *s, const char *off, const char *on, bool *out)
{
	if (strcmp(s, off) == 0)
		*out = false;
	else if (strcmp(s, on) == 0)
		*out = true;
	else
		return EINVAL;
	return 0;
}

/*
 * parse_rate: a share of transfers in one spelling of two, to permille:
 * a percentage ("1%", "0.5%") or a fraction below 1 with its leading zero
 * ("0.01").  A bare count ("1", "10") is refused: it was a permille
 * count once, and "1" reads as 100% as easily as 0.1%.  So are hex,
 * exponents and signs.  "0" is none.  Finer than one permille is refused
 * (the disk draws whole permilles).
 */
static int
parse_rate(const char *s, unsigned int *permille)
{
	const char *p;
	double v;
	size_t n;
	char *end;

	if (s == NULL)
		return EINVAL;
	if (strcmp(s, "0") == 0) {
		*permille = 0;
		return 0;
	}
	n = strlen(s);
	for (p = s; *p != '\0'; p++)
		if (!isdigit((unsigned char)*p) && *p != '.' &&
		    !(*p == '%' && p == s + n - 1))
			return EINVAL;
	if (!isdigit((unsigned char)s[0]))
		return EINVAL;
	v = strtod(s, &end);
	if (end == s || (*end != '\0' && *end != '%') || !isfinite(v))
		return EINVAL;
	if (*end == '%')
		v *= 10.0;
	else if (s[0] != '0' || s[1] != '.')
		return EINVAL;		/* a fraction: 0.xxx only */
	else
		v *= 1000.0;
	if (v > 1000.0 + 1e-9 || fabs(v - round(v)) > 1e-6)
		return EINVAL;
	*permille = (unsigned int)round(v);
	return 0;
}

/*
 * apply_rate: a --fail-io-like rate (permille) into *out, at most max;
 * why says what a higher one would do.  => 0 or EXIT_USAGE
 */
static int
apply_rate(const struct pair *p, unsigned int max, const char *why,
    unsigned int *out)
{
	if (parse_rate(p->p_value, out) != 0)
		return usage_error("%s '%s': not a rate: a percentage like 1%% "
		    "or 0.5%%, or a fraction like 0.01, below 100%% in steps "
		    "of 0.1%%", p->p_where, p->p_value);
	if (*out > max)
		return usage_error("%s '%s': at most %u%%%s", p->p_where,
		    p->p_value, max / 10, why);
	return 0;
}

static int
apply_sopt(struct stress_config *cfg, int i, const struct pair *p)
{
	const struct sopt *so = &cfg->sc->sc_opts[i];
	uint64_t size;
	int64_t v;
	bool b;
	int k;

	/* (a job file's line may name an option without its value) */
	if (so->so_type != SOPT_FLAG && p->p_value == NULL)
		return usage_error("%s: needs a value (%s)", p->p_where,
		    so->so_metavar != NULL ? so->so_metavar : "a value");
	switch (so->so_type) {
	case SOPT_FLAG:
		if (p->p_value == NULL)
			v = 1;
		else if (parse_bool(p->p_value, &b) == 0)
			v = b;
		else
			return usage_error("%s '%s': takes no value (or on|off)",
			    p->p_where, p->p_value);
		break;
	case SOPT_INT:
		if (parse_count(p->p_value, so->so_min, so->so_max, &v) != 0)
			return usage_error("%s '%s': not a count in %lld..%lld",
			    p->p_where, p->p_value, (long long)so->so_min,
			    (long long)so->so_max);
		break;
	case SOPT_SIZE:
		if (parse_size(p->p_value, &size) != 0 ||
		    size < (uint64_t)so->so_min || size > (uint64_t)so->so_max)
			return usage_error("%s '%s': not a size in %lld..%lld "
			    "bytes", p->p_where, p->p_value,
			    (long long)so->so_min, (long long)so->so_max);
		v = (int64_t)size;
		break;
	case SOPT_ENUM:
		for (k = 0; so->so_choices[k] != NULL; k++)
			if (strcmp(so->so_choices[k], p->p_value) == 0)
				break;
		if (so->so_choices[k] == NULL)
			return usage_error("%s '%s': must be %s", p->p_where,
			    p->p_value, so->so_metavar);
		v = k;
		break;
	case SOPT_STRING:	/* the scenario's sc_check parses it */
		if (p->p_value == NULL || p->p_value[0] == '\0')
			return usage_error("%s: needs a value (%s)", p->p_where,
			    so->so_metavar);
		free(cfg->sstr[i]);
		if ((cfg->sstr[i] = strdup(p->p_value)) == NULL)
			return usage_error("out of memory");
		v = 0;
		break;
	default:
		return usage_error("%s: bad option table", p->p_where);
	}
	cfg->sval[i] = v;
	cfg->sset[i] = true;
	return 0;
}

static int
apply_pair(struct stress_config *cfg, const struct pair *p)
{
	const struct gopt *g = gopt_find(p->p_name);
	const char *v = p->p_value;
	uint64_t u;
	int64_t n;
	bool b = true;
	int i, error;

	if (g == NULL) {
		if ((i = scenario_opt_index(cfg->sc, p->p_name)) >= 0)
			return apply_sopt(cfg, i, p);
		if (sopt_find_any(p->p_name) != NULL)
			return usage_error("%s: not an option of scenario %s",
			    p->p_where, cfg->sc->sc_name);
		return usage_error("%s: unknown option", p->p_where);
	}
	if (g->go_hasarg && v == NULL)
		return usage_error("%s needs a value", p->p_where);
	if (!g->go_hasarg && v != NULL && parse_bool(v, &b) != 0)
		return usage_error("%s '%s': takes no value", p->p_where, v);
	if (!g->go_hasarg)
		b = v == NULL ? true : b;

	switch (g->go_id) {
	case GO_SCENARIO:
		/* chosen before the pairs are applied (options_parse) */
		break;
	case GO_LWPS:
		if (parse_count(v, 1, LWPS_MAX, &n) != 0)
			return usage_error("%s '%s': not a count in 1..%d",
			    p->p_where, v, LWPS_MAX);
		cfg->lwps = (int)n;
		cfg->lwps_given = true;
		break;
	case GO_NCPU:
		if (parse_count(v, 1, MAXCPUS, &n) != 0)
			return usage_error("%s '%s': not a count in 1..%d",
			    p->p_where, v, MAXCPUS);
		cfg->ncpu = (int)n;
		break;
	case GO_RAM:
		if (parse_size(v, &u) != 0)
			return usage_error("%s '%s': not a size like 64M",
			    p->p_where, v);
		if (u < RAM_MIN_BYTES || (u & PAGE_MASK) != 0)
			return usage_error("%s '%s': must be a multiple of %lu "
			    "bytes, at least %lluK", p->p_where, v, PAGE_SIZE,
			    (unsigned long long)(RAM_MIN_BYTES >> 10));
		cfg->ram = u;
		cfg->ram_given = true;
		break;
	case GO_MAP_BUDGET:
		if (strcmp(v, "max") == 0) {
			cfg->map_budget = -1;
			break;
		}
		if (parse_count(v, 256, INT32_MAX, &n) != 0)
			return usage_error("%s '%s': not 'max' or a count of "
			    "at least 256", p->p_where, v);
		cfg->map_budget = (long)n;
		break;
	case GO_MOD_EMULATION:
		if (parse_either(v, "content", "trap", &cfg->mod_trap) != 0)
			return usage_error("%s '%s': must be content or trap",
			    p->p_where, v);
		break;
	case GO_MMU_CLOSE:
		if (parse_either(v, "hole", "reserve", &cfg->reserve_closes) != 0)
			return usage_error("%s '%s': must be hole or reserve",
			    p->p_where, v);
		break;
	case GO_GLUE:
		if (parse_either(v, "netbsd", "freebsd", &cfg->glue_freebsd) != 0)
			return usage_error("%s '%s': must be netbsd or freebsd",
			    p->p_where, v);
		cfg->glue_given = true;
		break;
	case GO_SWAPPER:
		if (strcmp(v, "off") == 0)
			cfg->swapper = KERN_SWAPPER_OFF;
		else if (strcmp(v, "netbsd") == 0)
			cfg->swapper = KERN_SWAPPER_NETBSD;
		else if (strcmp(v, "freebsd") == 0)
			cfg->swapper = KERN_SWAPPER_FREEBSD;
		else
			return usage_error("%s '%s': must be netbsd, freebsd "
			    "or off", p->p_where, v);
		break;
	case GO_MAXSLP:
		if (parse_count(v, 1, 1000, &n) != 0)
			return usage_error("%s '%s': not a count of seconds in "
			    "1..1000", p->p_where, v);
		cfg->maxslp = (int)n;
		cfg->maxslp_given = true;
		break;
	case GO_IDLE_T1:
	case GO_IDLE_T2:
		if (parse_count(v, 1, 1000, &n) != 0)
			return usage_error("%s '%s': not a count of seconds in "
			    "1..1000", p->p_where, v);
		if (g->go_id == GO_IDLE_T1) {
			cfg->idle_t1 = (int)n;
			cfg->idle_t1_given = true;
		} else {
			cfg->idle_t2 = (int)n;
			cfg->idle_t2_given = true;
		}
		break;
	case GO_SWAP_IDLE:
		cfg->swap_idle = b;
		break;
	case GO_TIMESCALE:
		if (parse_count(v, 1, 1000, &n) != 0)
			return usage_error("%s '%s': not a count in 1..1000",
			    p->p_where, v);
		cfg->timescale = (unsigned)n;
		break;
	case GO_FAULT_AHEAD:
		if (parse_either(v, "walk", "advice", &cfg->fault_ahead_advice)
		    != 0)
			return usage_error("%s '%s': must be walk or advice",
			    p->p_where, v);
		break;
	case GO_SEED:
		if (!isdigit((unsigned char)v[0]))
			return usage_error("%s '%s': not a number", p->p_where, v);
		{
			unsigned long long s;
			char *end;

			errno = 0;
			s = strtoull(v, &end, (v[0] == '0' && (v[1] == 'x' ||
			    v[1] == 'X')) ? 16 : 10);
			if (errno != 0 || *end != '\0' || s == 0 ||
			    s > SEED_MAX)
				return usage_error("%s '%s': not a number in "
				    "1..%llu (2^53 - 1: exact in every JSON "
				    "reader)", p->p_where, v,
				    (unsigned long long)SEED_MAX);
			cfg->seed = s;
			cfg->seed_given = true;
		}
		break;
	case GO_TIMEOUT:
		if (parse_duration(v, &u) != 0 || u > TIMEOUT_MAX)
			return usage_error("%s '%s': not a duration in 1s..7d "
			    "(10, 10s, 5m, 1h), or 0 for none", p->p_where, v);
		cfg->timeout_s = u;
		cfg->timeout_given = true;
		break;
	case GO_OPS:
		if (parse_count(v, 1, OPS_MAX, &n) != 0)
			return usage_error("%s '%s': not a count in 1..%lld",
			    p->p_where, v, (long long)OPS_MAX);
		cfg->ops = (uint64_t)n;
		break;
	case GO_JSON:
		if (v[0] == '\0')
			return usage_error("%s: needs a file name", p->p_where);
		free(cfg->json_path);
		cfg->json_path = strdup(v);
		break;
	case GO_JOB:
		/* read before the pairs are applied (options_parse) */
		break;
	case GO_QUIET:
		cfg->quiet = b;
		break;
	case GO_VERBOSE:
		cfg->verbose = b ? cfg->verbose + 1 : 0;
		break;
	case GO_HELP:
		cfg->help = b;
		break;
	case GO_LIST:
		cfg->list = b;
		break;
	case GO_WITNESS:
		if (parse_bool(v, &b) != 0)
			return usage_error("%s '%s': must be on|off",
			    p->p_where, v);
		cfg->witness = b;
		break;
	case GO_WATCHDOG:
		if (parse_count(v, 0, 3600, &n) != 0)
			return usage_error("%s '%s': not a count of seconds in "
			    "0..3600", p->p_where, v);
		cfg->watchdog_s = (unsigned)n;
		break;
	case GO_CHAOS:
		if (parse_count(v, 0, 1000, &n) != 0)
			return usage_error("%s '%s': not a permille in 0..1000",
			    p->p_where, v);
		cfg->chaos = (unsigned)n;
		break;
	case GO_BIND:
		cfg->bind = b;
		break;
	case GO_SCHED:
		if ((n = dsched_strategy_parse(v)) < 0)
			return usage_error("%s '%s': must be free, random, pct "
			    "or pos", p->p_where, v);
		cfg->sched = (int)n;
		break;
	case GO_PCT_DEPTH:
		if (parse_count(v, 1, PCT_DEPTH_MAX, &n) != 0)
			return usage_error("%s '%s': not a depth in 1..%d "
			    "(PCT's d: d - 1 change points)", p->p_where, v,
			    PCT_DEPTH_MAX);
		cfg->pct_depth = (unsigned)n;
		cfg->pct_depth_given = true;
		break;
	case GO_SHRINK:
		if (b && p->p_where[0] != '-')
			return usage_error("%s: give --shrink on the command "
			    "line, not in a job file (the runs it makes read "
			    "the job file too)", p->p_where);
		cfg->shrink = b;
		break;
	case GO_SEEDS: {
		unsigned long long lo, hi;
		int end = 0;

		if (sscanf(v, "%llu-%llu%n", &lo, &hi, &end) != 2 ||
		    v[end] != '\0' || lo == 0 || hi < lo || hi > SEED_MAX)
			return usage_error("%s '%s': not a seed range A-B with "
			    "1 <= A <= B <= %llu", p->p_where, v,
			    (unsigned long long)SEED_MAX);
		cfg->seeds_lo = lo;
		cfg->seeds_hi = hi;
		break;
	}
	case GO_PCT_STEPS:
		if (parse_count(v, 1, (int64_t)STEPS_MAX, &n) != 0)
			return usage_error("%s '%s': not a count in 1..%llu",
			    p->p_where, v, (unsigned long long)STEPS_MAX);
		cfg->pct_steps = (uint64_t)n;
		break;
	case GO_STEPS:
		if (parse_count(v, 1, (int64_t)STEPS_MAX, &n) != 0)
			return usage_error("%s '%s': not a count in 1..%llu",
			    p->p_where, v, (unsigned long long)STEPS_MAX);
		cfg->steps = (uint64_t)n;
		break;
	case GO_SCHEDULE_OUT:
	case GO_REPLAY:
		if (v[0] == '\0')
			return usage_error("%s: needs a file name", p->p_where);
		if (g->go_id == GO_REPLAY) {
			free(cfg->replay_path);
			cfg->replay_path = strdup(v);
		} else {
			free(cfg->schedule_out);
			cfg->schedule_out = strdup(v);
		}
		break;
	case GO_INJECT:
		if (strcmp(v, "corrupt") == 0)
			cfg->inject = INJECT_CORRUPT;
		else if (strcmp(v, "panic") == 0)
			cfg->inject = INJECT_PANIC;
		else if (strcmp(v, "hang") == 0)
			cfg->inject = INJECT_HANG;
		else if (strcmp(v, "race") == 0)
			cfg->inject = INJECT_RACE;
		else if (strcmp(v, "lock-order") == 0)
			cfg->inject = INJECT_LOCKORDER;
		else if (strcmp(v, "none") == 0)
			cfg->inject = INJECT_NONE;
		else
			return usage_error("%s '%s': must be corrupt, panic, "
			    "hang, race or lock-order", p->p_where, v);
		break;
	case GO_SWAP:
		if (strcmp(v, "none") == 0)
			u = 0;
		else if (parse_size(v, &u) != 0)
			return usage_error("%s '%s': not a size like 1G (or 0, "
			    "none)", p->p_where, v);
		if (u != 0 && ((u & PAGE_MASK) != 0 ||
		    u < (uint64_t)SWCLUSTPAGES * PAGE_SIZE || u > SWAP_MAX))
			return usage_error("%s '%s': swap must be a multiple of "
			    "%lu bytes, at least one swap cluster (%lluK) and at "
			    "most %lluG, or 0 for none", p->p_where, v, PAGE_SIZE,
			    (unsigned long long)SWCLUSTPAGES * PAGE_SIZE >> 10,
			    (unsigned long long)(SWAP_MAX >> 30));
		cfg->swap = u;
		cfg->swap_given = true;
		break;
	case GO_SWAP_FILE:
		if (v[0] == '\0')
			return usage_error("%s: needs a file name", p->p_where);
		free(cfg->swap_file);
		cfg->swap_file = strdup(v);
		break;
	case GO_SWAP_IO:
		if (parse_either(v, "direct", "buffered",
		    &cfg->swap_buffered) != 0)
			return usage_error("%s '%s': must be direct or buffered",
			    p->p_where, v);
		break;
	case GO_KEEP_SWAP:
		cfg->keep_swap = b;
		break;
	case GO_FAIL_IO:
		cfg->fail_io_given = true;
		return apply_rate(p, FAIL_IO_MAX, ": a swap read is tried 16 "
		    "times, and above that rate the disk itself loses pages "
		    "(an integrity failure that is no bug) and the run tests "
		    "little but retries", &cfg->fail_io);
	case GO_FAIL_ALLOC:
		cfg->fail_alloc_given = true;
		return apply_rate(p, FAIL_ALLOC_MAX, ": above that the run "
		    "tests little but retries", &cfg->fail_alloc);
	case GO_LOSE_IO:
		if ((error = apply_rate(p, FAIL_IO_MAX, "", &cfg->lose_io)) != 0)
			return error;
		if (cfg->lose_io != 0 && !cfg->sc->sc_expects_loss)
			return usage_error("%s: scenario %s does not expect "
			    "lost pages (a lost page is a failure there); mix "
			    "does", p->p_where, cfg->sc->sc_name);
		cfg->lose_io_given = true;
		break;
	case GO_THREADS:
		if (parse_count(v, 1, THREADS_MAX, &n) != 0)
			return usage_error("%s '%s': not a count in 1..%d",
			    p->p_where, v, THREADS_MAX);
		cfg->threads = (int)n;
		break;
	case GO_BUFCACHE:
		if (parse_size(v, &u) != 0 || (u & PAGE_MASK) != 0)
			return usage_error("%s '%s': not a size like 8M (a "
			    "multiple of %lu bytes)", p->p_where, v, PAGE_SIZE);
		cfg->bufcache = u;
		cfg->bufcache_given = true;
		break;
	case GO_OOM_IS_FAILURE:
		cfg->oom_is_failure = b;
		break;
	}
	return 0;
}

/*
 * options_sched: --sched and what goes with it.  A deterministic run ends
 * after a number of steps or operations; -t stays the wall-clock limit
 * it is, and the run says its end point is not reproducible.
 */
static int
options_sched(struct stress_config *cfg)
{
	const char *name = dsched_strategy_name(cfg->sched);

	if (cfg->sched == DSCHED_FREE) {
		if (cfg->steps != 0)
			return usage_error("--steps: only a deterministic run "
			    "counts steps (give --sched random|pct|pos)");
		if (cfg->schedule_out != NULL || cfg->replay_path != NULL)
			return usage_error("--%s: a free run has no schedule to "
			    "%s (give --sched random|pct|pos)",
			    cfg->replay_path != NULL ? "replay" :
			    "schedule-out", cfg->replay_path != NULL ?
			    "follow" : "write");
	} else if (cfg->chaos != 0) {
		return usage_error("--chaos with --sched %s: the deterministic "
		    "scheduler chooses every step itself (chaos perturbs the "
		    "host's)", name);
	} else if (cfg->inject == INJECT_RACE) {
		return usage_error("--inject race with --sched %s: one thread "
		    "runs at a time and the hand-offs order every access, so "
		    "ThreadSanitizer sees no race (use --sched free)", name);
	}
	if (cfg->pct_depth_given && cfg->sched != DSCHED_PCT)
		return usage_error("--pct-depth: only --sched pct has a depth "
		    "(--sched is %s)", name);
	if (cfg->pct_steps != 0 && cfg->sched != DSCHED_PCT)
		return usage_error("--pct-steps: only --sched pct has change "
		    "points (--sched is %s)", name);
	if (cfg->sched != DSCHED_FREE && cfg->watchdog_s == 0 &&
	    !cfg->timeout_given)
		return usage_error("--watchdog 0 with --sched %s and no -t: a "
		    "deadlock would never end the run (virtual time goes on "
		    "from tick to tick); keep the watchdog, or give -t", name);
	if (cfg->pct_depth == 0)
		cfg->pct_depth = PCT_DEPTH_DEFAULT;
	if (cfg->shrink && (cfg->json_path != NULL ||
	    cfg->schedule_out != NULL))
		return usage_error("--shrink with --%s: the runs it makes write "
		    "no report or schedule; give it to the replay line it "
		    "prints", cfg->json_path != NULL ? "json" :
		    "schedule-out");
	if (cfg->shrink && (cfg->sched == DSCHED_FREE ||
	    cfg->seeds_lo != 0 || cfg->replay_path != NULL))
		return usage_error("--shrink %s", cfg->sched == DSCHED_FREE ?
		    "needs a deterministic --sched (random, pct or pos): a "
		    "free run does not replay" : cfg->seeds_lo != 0 ?
		    "with --seeds: shrink the seed the search found (--seed)" :
		    "with --replay: shrink the run from its seed and options");
	if (cfg->seeds_lo != 0 && (cfg->seed_given ||
	    cfg->schedule_out != NULL || cfg->replay_path != NULL))
		return usage_error("--seeds with --%s: a search runs many "
		    "seeds; give the one it finds to --seed%s",
		    cfg->seed_given ? "seed" : cfg->schedule_out != NULL ?
		    "schedule-out" : "replay", cfg->seed_given ? "" :
		    " (with --schedule-out to keep its schedule)");
	if (cfg->schedule_out != NULL && cfg->replay_path != NULL &&
	    strcmp(cfg->schedule_out, cfg->replay_path) == 0)
		return usage_error("--schedule-out and --replay name the same "
		    "file (%s)", cfg->replay_path);
	if (cfg->sched != DSCHED_FREE && !cfg->timeout_given) {
		cfg->timeout_s = 0;
		if (cfg->ops == 0 && cfg->steps == 0)
			cfg->steps = STEPS_DEFAULT;
	}
	return 0;
}

int
options_parse(int argc, char **argv, struct stress_config *cfg)
{
	struct pairs ps = { NULL, 0, 0 };
	const char *scname = NULL, *job = NULL;
	int i, error = 0;

	memset(cfg, 0, sizeof(*cfg));
	cfg->lwps = 4;
	cfg->ncpu = 2;
	cfg->ram = 64ull << 20;
	cfg->timeout_s = TIMEOUT_DEFAULT;
	cfg->witness = -1;
	cfg->watchdog_s = WATCHDOG_DEFAULT;
	cfg->swapper = -1;
	cfg->maxslp = MAXSLP;
	cfg->idle_t1 = 2;		/* FreeBSD's swap_idle_threshold1 */
	cfg->idle_t2 = 10;		/* and threshold2 */
	cfg->argc = argc;
	cfg->argv = argv;

	/* The job file first (its path from argv: one --job a run). */
	for (i = 1; i < argc; i++) {
		const char *j = NULL;

		if (strcmp(argv[i], "--job") == 0 && i + 1 < argc)
			j = argv[++i];
		else if (strncmp(argv[i], "--job=", 6) == 0)
			j = argv[i] + 6;
		else if (takes_value_arg(argv[i]) && i + 1 < argc)
			i++;	/* (its value is not an option) */
		if (j != NULL && job != NULL)
			return usage_error("--job given twice (%s, then %s): "
			    "one job file a run; put the options of both in "
			    "one file", job, j);
		if (j != NULL)
			job = j;
	}
	if (job != NULL) {
		if (job[0] == '\0')
			return usage_error("--job: needs a file name");
		if ((cfg->job_path = strdup(job)) == NULL)
			return usage_error("out of memory");
		if ((error = read_job(cfg->job_path, &ps)) != 0)
			goto out;
	}
	if ((error = collect_argv(argc, argv, &ps)) != 0)
		goto out;

	/* The scenario: the last one named. */
	for (i = 0; i < ps.n; i++)
		if (strcmp(ps.v[i].p_name, "scenario") == 0) {
			if (ps.v[i].p_value == NULL) {
				error = usage_error("%s needs a value",
				    ps.v[i].p_where);
				goto out;
			}
			scname = ps.v[i].p_value;
		}
	cfg->sc = stress_scenarios[0];
	cfg->sc_given = scname != NULL;
	if (scname != NULL && (cfg->sc = scenario_find(scname)) == NULL) {
		error = usage_error("--scenario '%s': no such scenario (see "
		    "--list)", scname);
		goto out;
	}
	for (i = 0; i < cfg->sc->sc_nopts; i++)
		cfg->sval[i] = cfg->sc->sc_opts[i].so_def;

	for (i = 0; i < ps.n && error == 0; i++)
		error = apply_pair(cfg, &ps.v[i]);
	if (error == 0 && cfg->ops != 0 && !cfg->timeout_given)
		cfg->timeout_s = 0;	/* --ops alone: run until done */
	if (error == 0)
		error = options_sched(cfg);
	/* the scenario's defaults for what was not given */
	if (!cfg->ram_given && cfg->sc->sc_ram != 0)
		cfg->ram = cfg->sc->sc_ram;
	if (!cfg->lwps_given && cfg->sc->sc_lwps != 0)
		cfg->lwps = cfg->sc->sc_lwps;
	if (cfg->threads == 0)
		cfg->threads = MAX(1, cfg->sc->sc_threads);
	if (!cfg->fail_alloc_given)
		cfg->fail_alloc = cfg->sc->sc_fail_alloc;
	if (!cfg->bufcache_given && cfg->sc->sc_bufcache_div != 0)
		cfg->bufcache = cfg->ram / (uint64_t)cfg->sc->sc_bufcache_div &
		    ~(uint64_t)PAGE_MASK;
out:
	for (i = 0; i < ps.n; i++) {
		free(ps.v[i].p_name);
		free(ps.v[i].p_value);
	}
	free(ps.v);
	return error;
}

void
options_free(struct stress_config *cfg)
{
	free(cfg->json_path);
	free(cfg->job_path);
	free(cfg->swap_file);
	free(cfg->schedule_out);
	free(cfg->replay_path);
	cfg->json_path = cfg->job_path = cfg->swap_file = NULL;
	cfg->schedule_out = cfg->replay_path = NULL;
	for (int i = 0; i < SOPT_MAX; i++) {
		free(cfg->sstr[i]);
		cfg->sstr[i] = NULL;
	}
}

/*
 * The kernel's share of a working set, estimated: a fixed base (kernel
 * map, pools, reserves), per LWP (u-area, vmspace, map entries, amaps)
 * and per user page (its anon, amap slot, pv entry): measured at about
 * 1/80 page, estimated at 1/32.  Anons and amap slots stay resident
 * when their pages are in swap, so the whole share must fit in RAM.
 */
#define WS_KERNEL_BASE_PAGES	512
#define WS_KERNEL_LWP_PAGES	16
#define WS_KERNEL_PER_PAGE	32	/* one kernel page per this many */

uint64_t
options_working_set(const struct stress_config *cfg, uint64_t *kernelp)
{
	uint64_t user = (uint64_t)cfg->lwps * cfg->sc->sc_pages_per_lwp(cfg);

	if (kernelp != NULL)
		*kernelp = WS_KERNEL_BASE_PAGES +
		    (uint64_t)cfg->lwps * WS_KERNEL_LWP_PAGES +
		    user / WS_KERNEL_PER_PAGE;
	return user;
}

/* The directory the swap file goes in (--swap-file DIR: DIR). */
static int
swap_dir(const struct stress_config *cfg, char *buf, size_t len)
{
	const char *tmp = getenv("TMPDIR"), *slash;
	struct stat st;

	if (cfg->swap_file == NULL) {
		snprintf(buf, len, "%s", tmp != NULL && tmp[0] != '\0' ? tmp :
		    "/tmp");
		return 0;
	}
	if (stat(cfg->swap_file, &st) == 0 && S_ISDIR(st.st_mode)) {
		snprintf(buf, len, "%s", cfg->swap_file);
		return 0;
	}
	if ((slash = strrchr(cfg->swap_file, '/')) == NULL)
		snprintf(buf, len, ".");
	else if (slash == cfg->swap_file)
		snprintf(buf, len, "/");
	else
		snprintf(buf, len, "%.*s", (int)(slash - cfg->swap_file),
		    cfg->swap_file);
	return 0;
}

int
options_check(struct stress_config *cfg)
{
	uint64_t user, kernel, ram_pages = cfg->ram / PAGE_SIZE, want, room;
	uint64_t swap_pages, need;
	bool wants_swap;
	struct statvfs vfs;
	char dir[512], why[256], ram[32];
	int error, swap_kind = HOST_DISK_NEW;

	if (cfg->sc->sc_check != NULL &&
	    cfg->sc->sc_check(cfg, why, sizeof(why)) != NULL)
		return usage_error("%s", why);
	/* the swapper swaps what the glue's LWPs carry: the same kernel */
	if (cfg->swapper > 0 && !cfg->glue_given)
		cfg->glue_freebsd = cfg->swapper == KERN_SWAPPER_FREEBSD;
	if (cfg->swapper > 0 && cfg->glue_freebsd !=
	    (cfg->swapper == KERN_SWAPPER_FREEBSD))
		return usage_error("--swapper %s with --glue %s: the swapper "
		    "must be the glue's (it swaps out what that kernel's LWPs "
		    "carry), or off", kern_swapper_name(cfg->swapper),
		    cfg->glue_freebsd ? "freebsd" : "netbsd");
	if (cfg->idle_t2 <= cfg->idle_t1)
		return usage_error("--swap-idle-threshold1 %d must be below "
		    "--swap-idle-threshold2 %d%s", cfg->idle_t1, cfg->idle_t2,
		    cfg->idle_t2_given ? "" : " (its default: give "
		    "--swap-idle-threshold2)");
	if (cfg->timescale == 0)
		cfg->timescale = cfg->sc->sc_timescale != 0 ?
		    cfg->sc->sc_timescale : 1;
	user = options_working_set(cfg, &kernel);

	/*
	 * The kernel's share stays in RAM whatever swap there is: with
	 * what the user pages need at the least, it must fit (this is
	 * what refuses an absurd working set).
	 */
	size_str(ram, sizeof(ram), cfg->ram);
	if (kernel + WS_MIN_RESIDENT > ram_pages)
		return usage_error("working set of %llu pages (%d LWPs x %llu "
		    "pages) needs ~%llu kernel pages (anons, amaps) resident, "
		    "more than --ram %s (%llu pages) can hold next to %d user "
		    "pages: lower --ws/--pages or --lwps, or raise --ram",
		    (unsigned long long)user, cfg->lwps,
		    (unsigned long long)(user / (uint64_t)cfg->lwps),
		    (unsigned long long)kernel, ram,
		    (unsigned long long)ram_pages, WS_MIN_RESIDENT);

	/*
	 * A swap file path that exists must be ours to write (a directory,
	 * or a swap file uvmstress made): anything else is the user's, and
	 * naming it is a usage error, refused before anything touches it.
	 * The host refusing to let us look is exit 3.
	 */
	if (cfg->swap_file != NULL &&
	    (error = host_disk_check(cfg->swap_file, &swap_kind)) != 0) {
		fprintf(stderr, "uvmstress: %s\n", host_disk_error());
		return error == EEXIST ? EXIT_USAGE : EXIT_NO_RESOURCE;
	}

	/*
	 * Swap: as given, or by default when the scenario is about reclaim,
	 * when a swap option asks for it, or when the working set exceeds
	 * RAM.
	 */
	wants_swap = cfg->sc->sc_reclaim || cfg->swap_file != NULL ||
	    cfg->fail_io != 0 || cfg->keep_swap || cfg->swap_buffered ||
	    cfg->swapper > 0 || cfg->swap_idle || user + kernel > ram_pages;
	if (!cfg->swap_given && wants_swap) {
		swap_dir(cfg, dir, sizeof(dir));
		if (statvfs(dir, &vfs) != 0) {
			if (cfg->swap_file != NULL)
				fprintf(stderr, "uvmstress: --swap-file %s: "
				    "directory %s: %s\n", cfg->swap_file, dir,
				    strerror(errno));
			else
				fprintf(stderr, "uvmstress: swap file directory "
				    "%s ($TMPDIR): %s (use --swap-file PATH "
				    "elsewhere)\n", dir, strerror(errno));
			return EXIT_NO_RESOURCE;
		}
		want = 4 * user * PAGE_SIZE;
		if (want > SWAP_DEFAULT_CAP)
			want = MAX(SWAP_DEFAULT_CAP, 2 * user * PAGE_SIZE);
		room = (uint64_t)((double)vfs.f_bavail * (double)vfs.f_frsize *
		    SWAP_DISK_SHARE);
		/* the file may exist already: then it is ours to reuse */
		if (want > room)
			want = room;
		want &= ~((uint64_t)SWCLUSTPAGES * PAGE_SIZE - 1);
		need = user + kernel > ram_pages ?
		    (user + kernel - ram_pages) * PAGE_SIZE : 0;
		if (want < need || want < (uint64_t)SWCLUSTPAGES * PAGE_SIZE) {
			fprintf(stderr, "uvmstress: the working set needs %llu "
			    "MiB of swap but %s has room for %llu MiB: give "
			    "--swap-file PATH on a bigger file system, or lower "
			    "--ws/--pages\n", (unsigned long long)(need >> 20),
			    dir, (unsigned long long)(room >> 20));
			return EXIT_NO_RESOURCE;
		}
		cfg->swap = want;
	}
	swap_pages = cfg->swap / PAGE_SIZE;
	/* the scenario's default I/O errors, where there is swap to fail */
	if (!cfg->fail_io_given && swap_pages != 0)
		cfg->fail_io = cfg->sc->sc_fail_io;
	if (!cfg->lose_io_given && swap_pages != 0)
		cfg->lose_io = cfg->sc->sc_lose_io;
	if (swap_pages == 0 && (cfg->fail_io != 0 || cfg->lose_io != 0 ||
	    cfg->swap_file != NULL || cfg->keep_swap))
		return usage_error("--fail-io, --lose-io, --swap-file and "
		    "--keep-swap need swap (not --swap 0)");
	if (swap_pages == 0 && user + kernel > ram_pages)
		return usage_error("working set of %llu pages (%d LWPs x %llu "
		    "pages + ~%llu kernel) exceeds --ram %s (%llu pages) and "
		    "there is no swap: give --swap SIZE, lower --ws/--pages or "
		    "--lwps, or raise --ram",
		    (unsigned long long)(user + kernel), cfg->lwps,
		    (unsigned long long)(user / (uint64_t)cfg->lwps),
		    (unsigned long long)kernel, ram,
		    (unsigned long long)ram_pages);
	/* beyond an explicit --swap: allowed, out-of-swap kills expected */
	cfg->overcommit = user + kernel > ram_pages + swap_pages;
	cfg->reclaim = swap_pages != 0 || cfg->sc->sc_reclaim;
	/* the swapper pages u-areas and kernel stacks out: it needs swap */
	if (cfg->swapper > 0 && swap_pages == 0)
		return usage_error("--swapper %s needs swap (not --swap 0): a "
		    "swapped-out LWP's memory goes to the swap file",
		    kern_swapper_name(cfg->swapper));
	if (cfg->swap_idle && swap_pages == 0)
		return usage_error("--swap-idle needs swap (not --swap 0)");
	if (cfg->swapper < 0)
		cfg->swapper = swap_pages == 0 ? KERN_SWAPPER_OFF :
		    cfg->glue_freebsd ? KERN_SWAPPER_FREEBSD :
		    KERN_SWAPPER_NETBSD;
	/* each swapper's tunables: refused for another (not ignored) */
	if (cfg->maxslp_given && cfg->swapper != KERN_SWAPPER_NETBSD)
		return usage_error("--maxslp is NetBSD's swapper's; the swapper "
		    "here is %s (--swapper netbsd, or leave --maxslp out)",
		    kern_swapper_name(cfg->swapper));
	if ((cfg->idle_t1_given || cfg->idle_t2_given || cfg->swap_idle) &&
	    cfg->swapper != KERN_SWAPPER_FREEBSD)
		return usage_error("%s is FreeBSD's swapper's; the swapper here "
		    "is %s (--swapper freebsd, or leave it out)",
		    cfg->swap_idle ? "--swap-idle" : cfg->idle_t1_given ?
		    "--swap-idle-threshold1" : "--swap-idle-threshold2",
		    kern_swapper_name(cfg->swapper));
	if (cfg->bufcache > cfg->ram / 2)
		return usage_error("--bufcache %llu MiB: at most half of --ram "
		    "(%llu MiB)", (unsigned long long)(cfg->bufcache >> 20),
		    (unsigned long long)(cfg->ram >> 21));
	if (cfg->swap_file != NULL && cfg->swap != 0 &&
	    swap_kind != HOST_DISK_REUSE) {	/* a file is made in dir */
		swap_dir(cfg, dir, sizeof(dir));
		if (access(dir, W_OK) != 0) {
			fprintf(stderr, "uvmstress: --swap-file %s: cannot "
			    "create a file in %s: %s\n", cfg->swap_file, dir,
			    strerror(errno));
			return EXIT_NO_RESOURCE;
		}
	}
	if (cfg->inject != INJECT_NONE && cfg->timeout_s != 0 &&
	    cfg->timeout_s < 2)
		return usage_error("--inject needs a run of at least 2 s (it "
		    "strikes after ~1 s)");
	if (cfg->inject == INJECT_RACE && !sanitizer_tsan())
		return usage_error("--inject race needs the tsan build (make "
		    "tsan: build/tsan/uvmstress), whose ThreadSanitizer is "
		    "the oracle that must find it");
	if (cfg->inject == INJECT_LOCKORDER && cfg->witness == 0)
		return usage_error("--inject lock-order needs the witness "
		    "(--witness on)");
	if (cfg->inject == INJECT_RACE && cfg->lwps < 2)
		return usage_error("--inject race needs two LWPs at least");
	if (cfg->inject == INJECT_HANG && cfg->watchdog_s == 0)
		return usage_error("--inject hang needs the watchdog (--watchdog "
		    "S, S > 0)");

	/*
	 * Descriptors (RLIMIT_NOFILE): the RAM's memfd, the swap file, the
	 * --json file and a few open for a moment (/proc files, the host
	 * topology's) must find free numbers below the limit, beside those
	 * open now.  Counted up from 0, as open(2) allocates.
	 */
	{
		struct rlimit rl;
		int fd, nfree = 0, nopen = 0, needfd = OPTIONS_FDS_TRANSIENT +
		    1 + (cfg->swap != 0) + (cfg->json_path != NULL &&
		    strcmp(cfg->json_path, "-") != 0);

		if (getrlimit(RLIMIT_NOFILE, &rl) == 0 &&
		    rl.rlim_cur != RLIM_INFINITY) {
			for (fd = 0; (rlim_t)fd < rl.rlim_cur && nfree < needfd;
			    fd++) {
				if (fcntl(fd, F_GETFD) == -1 && errno == EBADF)
					nfree++;
				else
					nopen++;
			}
			if (nfree < needfd) {
				fprintf(stderr, "uvmstress: host limit: "
				    "RLIMIT_NOFILE is %llu: the run needs %d "
				    "more descriptors beside the %d open, %d "
				    "fit: raise it to at least %d (ulimit -n "
				    "%d)\n", (unsigned long long)rl.rlim_cur,
				    needfd, nopen, nfree, nopen + needfd,
				    nopen + needfd);
				return EXIT_NO_RESOURCE;
			}
		}
	}
	return 0;
}

/*
 * help_wrap: text from column col (the cursor's), wrapped at HELP_WIDTH
 * with continuation lines indented to indent; ends the line.
 */
static void
help_wrap(FILE *f, int col, int indent, const char *text)
{
	const char *p = text;

	do {
		int room = HELP_WIDTH - MAX(col, indent), n = (int)strlen(p);
		int cut;

		fprintf(f, "%*s", MAX(indent - col, 0), "");
		if (n <= room)
			cut = n;
		else {
			for (cut = room; cut > 0 && p[cut] != ' '; cut--)
				;
			if (cut == 0)	/* one word longer than the room */
				for (cut = room; p[cut] != '\0' &&
				    p[cut] != ' '; cut++)
					;
		}
		fprintf(f, "%.*s\n", cut, p);
		p += cut;
		while (*p == ' ')
			p++;
		col = 0;
	} while (*p != '\0');
}

/*
 * help_entry: "  ARG  text" with the text aligned at HELP_ARGCOL (an ARG
 * too long for its column gets a line of its own).
 */
static void
help_entry(FILE *f, const char *arg, const char *text)
{
	int col = fprintf(f, "  %s", arg);

	if (col > HELP_ARGCOL - 2) {
		fputc('\n', f);
		col = 0;
	}
	help_wrap(f, col, HELP_ARGCOL, text);
}

static void
sopt_usage(FILE *f, const struct sopt *so)
{
	char arg[64], text[512];
	int n;

	snprintf(arg, sizeof(arg), "--%s%s%s", so->so_name,
	    so->so_metavar != NULL ? " " : "",
	    so->so_metavar != NULL ? so->so_metavar : "");
	n = snprintf(text, sizeof(text), "%s", so->so_help);
	if (so->so_defstr != NULL)
		snprintf(text + n, sizeof(text) - (size_t)n, " (default %s)",
		    so->so_defstr);
	else if (so->so_type == SOPT_INT)
		snprintf(text + n, sizeof(text) - (size_t)n,
		    " (%lld..%lld, default %lld)", (long long)so->so_min,
		    (long long)so->so_max, (long long)so->so_def);
	else if (so->so_type == SOPT_SIZE)
		snprintf(text + n, sizeof(text) - (size_t)n, " (default %lldK)",
		    (long long)so->so_def >> 10);
	else if (so->so_type == SOPT_ENUM)
		snprintf(text + n, sizeof(text) - (size_t)n, " (default %s)",
		    so->so_choices[so->so_def]);
	help_entry(f, arg, text);
}

void
options_help(FILE *f, const struct stress_config *cfg)
{
	size_t i;
	int k, s;

	fprintf(f,
"usage: uvmstress [--scenario NAME] [options] [scenario options]\n"
"\n"
"Runs the BSD UVM virtual-memory system on a simulated machine: worker\n"
"LWPs, each in its own process and address space, fault and check their\n"
"pages while oracles watch (page integrity, invariants, lock order, hangs).\n"
"\n"
"Options:\n");
	for (i = 0; i < nitems(gopts); i++) {
		char arg[64];

		if (gopts[i].go_short != 0)
			snprintf(arg, sizeof(arg), "-%c, --%s%s%s",
			    gopts[i].go_short, gopts[i].go_name,
			    gopts[i].go_hasarg ? " " : "",
			    gopts[i].go_hasarg ? gopts[i].go_metavar : "");
		else
			snprintf(arg, sizeof(arg), "--%s%s%s",
			    gopts[i].go_name, gopts[i].go_hasarg ? " " : "",
			    gopts[i].go_hasarg ? gopts[i].go_metavar : "");
		help_entry(f, arg, gopts[i].go_help);
	}
	for (s = 0; s < stress_nscenarios; s++) {
		const struct scenario *sc = stress_scenarios[s];

		if (cfg != NULL && cfg->sc_given && sc != cfg->sc)
			continue;	/* --scenario X --help: only X */
		help_wrap(f, fprintf(f, "\nScenario %s: ", sc->sc_name) - 1,
		    2, sc->sc_summary);
		fprintf(f, "%s", sc->sc_help);
		for (k = 0; k < sc->sc_nopts; k++)
			sopt_usage(f, &sc->sc_opts[k]);
	}
	fprintf(f,
"\n"
"Exit status: 0 pass, 1 usage or harness error, 2 a failure found\n"
"(integrity, invariant, lock order, hang, unexpected SIGSEGV, panic),\n"
"3 the host lacks a resource, 4 the run tested nothing (every worker\n"
"killed before its first operation, or the time ran out during the\n"
"fill), 130/143 interrupted by SIGINT/SIGTERM (a full report first; a\n"
"second signal ends it at once).  -t bounds the whole run, fill\n"
"included, plus %d s of grace for the final checks and the report.\n"
"Every failure prints the command that replays it.  A free run's: the\n"
"same options, --seed fixed and --ops for the operations done, which\n"
"replays every LWP's access sequence but not the interleaving, which\n"
"the host's scheduler chooses (it prints the deterministic search for\n"
"it too).  A deterministic run's (--sched random|pct|pos): the same\n"
"options and --seed, which replay the interleaving: the same failure at\n"
"the same step (see docs/sched.md).\n", RUN_GRACE_S);
}

void
options_list(FILE *f)
{
	int s, k;

	for (s = 0; s < stress_nscenarios; s++) {
		const struct scenario *sc = stress_scenarios[s];

		help_wrap(f, fprintf(f, "%-10s ", sc->sc_name), 11,
		    sc->sc_summary);
		for (k = 0; k < sc->sc_nopts; k++)
			sopt_usage(f, &sc->sc_opts[k]);
	}
}

const char *
options_sstr(const struct stress_config *cfg, int i)
{
	return cfg->sstr[i] != NULL ? cfg->sstr[i] :
	    cfg->sc->sc_opts[i].so_str_def;
}

void
size_str(char *buf, size_t len, uint64_t bytes)
{
	static const char *const unit[] = { "bytes", "KiB", "MiB", "GiB",
	    "TiB" };
	double v = (double)bytes;
	size_t u = 0;

	while (v >= 1024.0 && u + 1 < nitems(unit)) {
		v /= 1024.0;
		u++;
	}
	if (v == (double)(uint64_t)v)
		snprintf(buf, len, "%llu %s", (unsigned long long)v, unit[u]);
	else
		snprintf(buf, len, "%.1f %s", v, unit[u]);
}

void
options_sval_str(const struct stress_config *cfg, int i, char *buf,
    size_t len)
{
	const struct sopt *so = &cfg->sc->sc_opts[i];

	switch (so->so_type) {
	case SOPT_ENUM:
		snprintf(buf, len, "%s", so->so_choices[cfg->sval[i]]);
		break;
	case SOPT_FLAG:
		snprintf(buf, len, "%s", cfg->sval[i] ? "true" : "false");
		break;
	case SOPT_STRING:
		snprintf(buf, len, "%s", options_sstr(cfg, i));
		break;
	default:
		snprintf(buf, len, "%lld", (long long)cfg->sval[i]);
		break;
	}
}

/* Append s to *buf, in single quotes if the shell would read it otherwise. */
static void
shell_quote(char **buf, size_t *len, size_t *cap, const char *s)
{
	const char *p;
	bool plain = s[0] != '\0';
	size_t need = strlen(s) * 4 + 4;

	for (p = s; *p != '\0'; p++)
		if (!isalnum((unsigned char)*p) && strchr("_./:=,+-@%", *p) == NULL)
			plain = false;
	if (*len + need + 1 > *cap) {
		size_t ncap = (*len + need + 1) * 2;
		char *nb = realloc(*buf, ncap);

		if (nb == NULL)
			return;
		*buf = nb;
		*cap = ncap;
	}
	if (*len > 0)
		(*buf)[(*len)++] = ' ';
	if (plain) {
		memcpy(*buf + *len, s, strlen(s));
		*len += strlen(s);
	} else {
		(*buf)[(*len)++] = '\'';
		for (p = s; *p != '\0'; p++) {
			if (*p == '\'') {
				memcpy(*buf + *len, "'\\''", 4);
				*len += 4;
			} else
				(*buf)[(*len)++] = *p;
		}
		(*buf)[(*len)++] = '\'';
	}
	(*buf)[*len] = '\0';
}

/*
 * word_drops: argv word a is one of the options in list (with its value:
 * *skip), or -t when drop_t.
 */
static bool
word_drops(const char *a, const char *const *list, size_t nlist,
    bool drop_t, int *skip)
{
	size_t k, n;

	*skip = 0;
	for (k = 0; k < nlist; k++) {
		n = strlen(list[k]);
		if (strcmp(a, list[k]) == 0) {
			*skip = 1;
			return true;
		}
		if (strncmp(a, list[k], n) == 0 && a[n] == '=')
			return true;
	}
	if (drop_t && strncmp(a, "-t", 2) == 0) {
		*skip = a[2] == '\0';
		return true;
	}
	return false;
}

/* replay_drops: argv word a (with its value: *skip) is left out. */
static bool
replay_drops(const char *a, bool timing, int *skip)
{
	static const char *const always[] = { "--seed", "--schedule-out",
	    "--replay", "--seeds", "--shrink" };
	static const char *const timed[] = { "--seed", "--schedule-out",
	    "--replay", "--seeds", "--shrink", "--timeout", "--ops" };

	return timing ? word_drops(a, timed, nitems(timed), true, skip) :
	    word_drops(a, always, nitems(always), false, skip);
}

char *
options_search_line(const struct stress_config *cfg)
{
	static const char *const drop[] = { "--seed", "--schedule-out",
	    "--replay", "--seeds", "--shrink", "--timeout", "--chaos",
	    "--sched", "--json", "--steps", "--pct-depth" };
	char *buf = NULL;
	size_t len = 0, cap = 0;
	int i, skip;

	shell_quote(&buf, &len, &cap, cfg->argc > 0 ? cfg->argv[0] :
	    "uvmstress");
	for (i = 1; i < cfg->argc; i++) {
		const char *a = cfg->argv[i];

		if (word_drops(a, drop, nitems(drop), true, &skip)) {
			i += skip;
			continue;
		}
		shell_quote(&buf, &len, &cap, a);
		if (takes_value_arg(a) && i + 1 < cfg->argc)
			shell_quote(&buf, &len, &cap, cfg->argv[++i]);
	}
	shell_quote(&buf, &len, &cap, "--sched");
	shell_quote(&buf, &len, &cap, "pos");
	shell_quote(&buf, &len, &cap, "--seeds");
	shell_quote(&buf, &len, &cap, "1-1000");
	return buf;
}

char *
options_replay(const struct stress_config *cfg, uint64_t ops_per_lwp)
{
	char *buf = NULL, num[32];
	size_t len = 0, cap = 0;
	bool timing = ops_per_lwp != 0;
	int i, skip;

	shell_quote(&buf, &len, &cap, cfg->argc > 0 ? cfg->argv[0] :
	    "uvmstress");
	for (i = 1; i < cfg->argc; i++) {
		const char *a = cfg->argv[i];

		if (replay_drops(a, timing, &skip)) {
			i += skip;
			continue;
		}
		shell_quote(&buf, &len, &cap, a);
		if (takes_value_arg(a) && i + 1 < cfg->argc)
			shell_quote(&buf, &len, &cap, cfg->argv[++i]);
	}
	shell_quote(&buf, &len, &cap, "--seed");
	snprintf(num, sizeof(num), "%llu", (unsigned long long)cfg->seed);
	shell_quote(&buf, &len, &cap, num);
	if (timing) {
		shell_quote(&buf, &len, &cap, "--ops");
		snprintf(num, sizeof(num), "%llu",
		    (unsigned long long)(ops_per_lwp * (uint64_t)cfg->lwps));
		shell_quote(&buf, &len, &cap, num);
		if (cfg->job_path != NULL) {	/* its timeout, if any: none */
			shell_quote(&buf, &len, &cap, "-t");
			shell_quote(&buf, &len, &cap, "0");
		}
	}
	return buf;
}

void
options_json(struct json *j, const char *key, const struct stress_config *cfg)
{
	char buf[64];
	int i;

	json_object_begin(j, key);
	json_string(j, "scenario", cfg->sc->sc_name);
	json_i64(j, "lwps", cfg->lwps);
	json_i64(j, "ncpu", cfg->ncpu);
	json_u64(j, "ram", cfg->ram);
	json_i64(j, "map_budget", cfg->map_budget);
	json_string(j, "mod_emulation", cfg->mod_trap ? "trap" : "content");
	json_string(j, "mmu_close", cfg->reserve_closes ? "reserve" : "hole");
	json_string(j, "fault_ahead", cfg->fault_ahead_advice ? "advice" :
	    "walk");
	json_string(j, "glue", cfg->glue_freebsd ? "freebsd" : "netbsd");
	json_string(j, "swapper", kern_swapper_name(cfg->swapper < 0 ?
	    KERN_SWAPPER_OFF : (enum kern_swapper_kind)cfg->swapper));
	json_i64(j, "maxslp", cfg->maxslp);
	json_i64(j, "swap_idle_threshold1", cfg->idle_t1);
	json_i64(j, "swap_idle_threshold2", cfg->idle_t2);
	json_bool(j, "swap_idle", cfg->swap_idle);
	json_u64(j, "time_scale", cfg->timescale);
	json_u64(j, "seed", cfg->seed);
	json_bool(j, "seed_given", cfg->seed_given);
	json_u64(j, "timeout_s", cfg->timeout_s);
	json_u64(j, "ops", cfg->ops);
	json_string(j, "json", cfg->json_path);
	json_string(j, "job", cfg->job_path);
	json_bool(j, "quiet", cfg->quiet);
	json_i64(j, "verbose", cfg->verbose);
	json_string(j, "witness", cfg->witness < 0 ? "default" :
	    cfg->witness ? "on" : "off");
	json_u64(j, "watchdog_s", cfg->watchdog_s);
	json_u64(j, "chaos_permille", cfg->chaos);
	json_string(j, "sched", dsched_strategy_name(cfg->sched));
	json_u64(j, "pct_depth", cfg->pct_depth);
	json_u64(j, "steps", cfg->steps);
	json_u64(j, "pct_steps", cfg->pct_steps);
	json_bool(j, "bind", cfg->bind);
	json_string(j, "inject", cfg->inject == INJECT_CORRUPT ? "corrupt" :
	    cfg->inject == INJECT_PANIC ? "panic" :
	    cfg->inject == INJECT_HANG ? "hang" :
	    cfg->inject == INJECT_RACE ? "race" :
	    cfg->inject == INJECT_LOCKORDER ? "lock-order" : "none");
	json_u64(j, "swap", cfg->swap);
	json_bool(j, "swap_given", cfg->swap_given);
	json_string(j, "swap_file", cfg->swap_file);
	json_string(j, "swap_io", cfg->swap_buffered ? "buffered" : "direct");
	json_bool(j, "keep_swap", cfg->keep_swap);
	json_u64(j, "fail_io_permille", cfg->fail_io);
	json_u64(j, "fail_alloc_permille", cfg->fail_alloc);
	json_u64(j, "lose_io_permille", cfg->lose_io);
	json_i64(j, "threads", cfg->threads);
	json_u64(j, "bufcache", cfg->bufcache);
	json_bool(j, "oom_is_failure", cfg->oom_is_failure);
	json_bool(j, "reclaim", cfg->reclaim);
	json_bool(j, "overcommit", cfg->overcommit);
	json_object_begin(j, "scenario_options");
	for (i = 0; i < cfg->sc->sc_nopts; i++) {
		const struct sopt *so = &cfg->sc->sc_opts[i];

		switch (so->so_type) {
		case SOPT_FLAG:
			json_bool(j, so->so_name, cfg->sval[i] != 0);
			break;
		case SOPT_ENUM:
			options_sval_str(cfg, i, buf, sizeof(buf));
			json_string(j, so->so_name, buf);
			break;
		case SOPT_STRING:
			json_string(j, so->so_name, options_sstr(cfg, i));
			break;
		default:
			json_i64(j, so->so_name, cfg->sval[i]);
			break;
		}
	}
	json_object_end(j);
	json_object_end(j);
}
