/*
 * stress/shrink.c: --shrink, a failing deterministic run made smaller.
 *
 * A deterministic run is a function of its command line, so shrinking is
 * a search over command lines: each candidate is the user's command with
 * options appended (a later option overrides an earlier one), run as a
 * child of its own (this binary, its JSON report to a file of ours), and
 * kept when it fails the same way: exit 2 with the same failure kind.
 * Greedy delta debugging, one parameter at a time, halving:
 *
 *  1. --steps: the failure's step + 1 (the schedule up to the failure is
 *     the same, so this keeps it, unless the failure came in the final
 *     checks, after the limit; under PCT --pct-steps keeps the change
 *     points where they were): the shorter schedule, verified by a run;
 *  2. --lwps, then --ops, then --pct-depth (fewer preemptions), then the
 *     scenario's own counts and sizes (--pages, --ws, ...): halved while
 *     the run still fails so, then one less; after each success, the
 *     steps are cut to the new failure again.
 *
 * Bounded by SHRINK_RUNS candidate runs.  Prints each candidate's
 * outcome, then the smallest run with its replay line and how much
 * smaller it is.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "host/dsched.h"
#include "host/machine.h"
#include "host/rng.h"
#include "shrink.h"

#define SHRINK_RUNS	40
#define SHRINK_MAXOPT	(SOPT_MAX + 8)

extern char **environ;

/* SIGINT/SIGTERM: the running child has it too (its group); we stop. */
static volatile sig_atomic_t shrink_sig;

static void
shrink_on_signal(int sig)
{
	shrink_sig = sig;
}

struct override {
	char	name[32];		/* "--lwps" */
	char	value[32];
};

struct outcome {
	int		status;
	char		kind[32];	/* failures.0.kind, "" none */
	uint64_t	step;		/* failures.0.step, 0 unknown */
};

struct shrink {
	const struct stress_config *cfg;
	char		json[256];	/* our report file */
	struct override	ov[SHRINK_MAXOPT];
	int		nov;
	int		runs;
	uint64_t	steps;		/* the --steps the candidates have */
};

/* set: the override of name, added or replaced. */
static void
set(struct shrink *s, const char *name, unsigned long long v)
{
	int i;

	for (i = 0; i < s->nov && strcmp(s->ov[i].name, name) != 0; i++)
		continue;
	if (i == s->nov) {
		if (s->nov == SHRINK_MAXOPT)
			return;
		s->nov++;
		snprintf(s->ov[i].name, sizeof(s->ov[i].name), "%s", name);
	}
	snprintf(s->ov[i].value, sizeof(s->ov[i].value), "%llu", v);
}

/* The words of the user's command that a candidate keeps. */
static bool
kept(const char *a, int *skip)
{
	static const char *const drop[] = { "--json", "--schedule-out",
	    "--replay", "--seed" };
	size_t k, n;

	*skip = 0;
	if (strcmp(a, "--shrink") == 0 || strcmp(a, "-q") == 0 ||
	    strcmp(a, "--quiet") == 0)
		return false;
	for (k = 0; k < sizeof(drop) / sizeof(drop[0]); k++) {
		n = strlen(drop[k]);
		if (strcmp(a, drop[k]) == 0) {
			*skip = 1;
			return false;
		}
		if (strncmp(a, drop[k], n) == 0 && a[n] == '=')
			return false;
	}
	return true;
}

/* A JSON value after "key": in text, or NULL. */
static const char *
json_after(const char *text, const char *key)
{
	const char *p = strstr(text, key);

	return p != NULL ? p + strlen(key) : NULL;
}

static void
read_outcome(const char *path, struct outcome *o)
{
	char buf[1 << 16];
	const char *f, *p;
	ssize_t n;
	int fd;

	o->kind[0] = '\0';
	o->step = 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return;
	buf[n] = '\0';
	if ((f = strstr(buf, "\"failures\": [")) == NULL)
		return;
	if ((p = json_after(f, "\"kind\": \"")) != NULL)
		sscanf(p, "%31[^\"]", o->kind);
	if ((p = json_after(f, "\"step\": ")) != NULL)
		o->step = strtoull(p, NULL, 10);
}

/*
 * candidate: run the command with the overrides; its outcome.
 * => the words it ran into cmd (for the replay line)
 */
static void
candidate(struct shrink *s, struct outcome *o, char *cmd, size_t len)
{
	const struct stress_config *cfg = s->cfg;
	char *argv[512];
	posix_spawn_file_actions_t fa;
	int i, k, n = 0, skip, wst;
	pid_t pid;

	argv[n++] = cfg->argv[0];
	for (i = 1; i < cfg->argc && n < 400; i++) {
		if (!kept(cfg->argv[i], &skip)) {
			i += skip;
			continue;
		}
		argv[n++] = cfg->argv[i];
	}
	for (k = 0; k < s->nov; k++) {
		argv[n++] = s->ov[k].name;
		argv[n++] = s->ov[k].value;
	}
	cmd[0] = '\0';
	for (i = 0; i < n; i++)
		snprintf(cmd + strlen(cmd), len - strlen(cmd), "%s%s",
		    i > 0 ? " " : "", argv[i]);
	argv[n++] = (char *)"-q";
	argv[n++] = (char *)"--json";
	argv[n++] = s->json;
	argv[n] = NULL;
	(void)truncate(s->json, 0);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null",
	    O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, "/dev/null",
	    O_WRONLY, 0);
	s->runs++;
	o->status = EXIT_USAGE;
	if (posix_spawn(&pid, "/proc/self/exe", &fa, NULL, argv, environ) == 0) {
		while (waitpid(pid, &wst, 0) < 0 && errno == EINTR)
			continue;
		o->status = WIFEXITED(wst) ? WEXITSTATUS(wst) :
		    128 + WTERMSIG(wst);
	}
	posix_spawn_file_actions_destroy(&fa);
	read_outcome(s->json, o);
}

static bool
same_failure(const struct outcome *a, const struct outcome *b)
{
	return b->status == EXIT_FAILURE_FOUND && strcmp(a->kind, b->kind) == 0;
}

static void
say(const char *what, const struct outcome *o)
{
	if (o->status == EXIT_FAILURE_FOUND)
		printf("uvmstress: shrink: %s: fails (%s at step %llu)\n", what,
		    o->kind, (unsigned long long)o->step);
	else
		printf("uvmstress: shrink: %s: %s (exit %d)\n", what,
		    o->status == 0 ? "passes" : "does not fail so", o->status);
	fflush(stdout);
}

static void run_as(struct shrink *s, struct shrink *t, struct outcome *o,
    char *cmd, size_t len);

/*
 * cut_steps: --steps to want's failure + 1, kept if the run still fails
 * so (it does, unless the failure came after the limit, in the final
 * checks: then there is nothing to cut).
 */
static void
cut_steps(struct shrink *s, struct outcome *want, char *cmd, size_t len)
{
	struct shrink t;
	struct outcome o;

	if (want->step == 0 || want->step + 1 >= s->steps ||
	    s->runs >= SHRINK_RUNS || shrink_sig != 0)
		return;
	t = *s;
	set(&t, "--steps", want->step + 1);
	run_as(s, &t, &o, cmd, len);
	say("--steps to the failure", &o);
	if (o.status != EXIT_FAILURE_FOUND || strcmp(o.kind, want->kind) != 0)
		return;
	memcpy(s->ov, t.ov, sizeof(t.ov));
	s->nov = t.nov;
	s->steps = want->step + 1;
	*want = o;
}

/* run_as: candidate t (a variant of s), its runs counted in s. */
static void
run_as(struct shrink *s, struct shrink *t, struct outcome *o, char *cmd,
    size_t len)
{
	candidate(t, o, cmd, len);
	s->runs = t->runs;
}

/*
 * try: the override name = v; kept if the run still fails as want did
 * (want and the steps updated).  => kept
 */
static bool
try(struct shrink *s, const char *name, unsigned long long v,
    unsigned long long *cur, struct outcome *want, char *cmd, size_t len)
{
	struct shrink t = *s;
	struct outcome o;
	char what[64];

	if (s->runs >= SHRINK_RUNS || shrink_sig != 0)
		return false;
	set(&t, name, v);
	run_as(s, &t, &o, cmd, len);
	snprintf(what, sizeof(what), "%s %llu", name, v);
	say(what, &o);
	if (!same_failure(want, &o))
		return false;
	memcpy(s->ov, t.ov, sizeof(t.ov));
	s->nov = t.nov;
	*cur = v;
	*want = o;
	/* the schedule up to the new failure, and no further */
	cut_steps(s, want, cmd, len);
	return true;
}

/* Halve v toward min while the failure stays, then try one less. */
static void
reduce(struct shrink *s, const char *name, unsigned long long v,
    unsigned long long min, struct outcome *want, char *cmd, size_t len)
{
	while (v / 2 >= min && v / 2 < v &&
	    try(s, name, v / 2, &v, want, cmd, len))
		continue;
	if (v - 1 >= min && v > min && v - 1 != v / 2)
		(void)try(s, name, v - 1, &v, want, cmd, len);
}

int
stress_shrink(const struct stress_config *cfg)
{
	struct shrink s;
	struct outcome first, want, o;
	char cmd[4096], best[4096];
	uint64_t steps0;
	int fd, i;

	memset(&s, 0, sizeof(s));
	s.cfg = cfg;
	snprintf(s.json, sizeof(s.json), "%s/uvmstress-shrink.%d.json",
	    getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp",
	    (int)getpid());
	if ((fd = open(s.json, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
	    0600)) < 0) {
		fprintf(stderr, "uvmstress: --shrink: %s: %s\n", s.json,
		    strerror(errno));
		return EXIT_NO_RESOURCE;
	}
	close(fd);
	signal(SIGINT, shrink_on_signal);
	signal(SIGTERM, shrink_on_signal);
	/* the seed the runs share: the one given, else one drawn now */
	set(&s, "--seed", cfg->seed_given ? cfg->seed :
	    (host_rng_fresh_seed() & SEED_MAX) | 1);
	candidate(&s, &first, cmd, sizeof(cmd));
	say("the run as given", &first);
	if (first.status != EXIT_FAILURE_FOUND) {
		unlink(s.json);
		fprintf(stderr, "uvmstress: --shrink: the run does not fail "
		    "(exit %d): nothing to shrink\n", first.status);
		return first.status == 0 ? EXIT_USAGE : first.status;
	}
	want = first;
	snprintf(best, sizeof(best), "%s", cmd);
	steps0 = s.steps = cfg->steps != 0 ? cfg->steps : UINT64_MAX;
	/* PCT's change points stay where they were when --steps is cut */
	if (cfg->sched == DSCHED_PCT)
		set(&s, "--pct-steps", cfg->pct_steps != 0 ? cfg->pct_steps :
		    cfg->steps != 0 ? cfg->steps : STEPS_DEFAULT);
	cut_steps(&s, &want, cmd, sizeof(cmd));
	reduce(&s, "--lwps", (unsigned long long)cfg->lwps, 1, &want, cmd,
	    sizeof(cmd));
	if (cfg->ops != 0)
		reduce(&s, "--ops", cfg->ops, 1, &want, cmd, sizeof(cmd));
	if (cfg->sched == DSCHED_PCT)
		reduce(&s, "--pct-depth", cfg->pct_depth, 1, &want, cmd,
		    sizeof(cmd));
	for (i = 0; i < cfg->sc->sc_nopts; i++) {
		const struct sopt *so = &cfg->sc->sc_opts[i];
		char name[40];

		if ((so->so_type != SOPT_INT && so->so_type != SOPT_SIZE) ||
		    cfg->sval[i] <= so->so_min || cfg->sval[i] <= 0)
			continue;
		snprintf(name, sizeof(name), "--%s", so->so_name);
		reduce(&s, name, (unsigned long long)cfg->sval[i],
		    (unsigned long long)MAX(so->so_min, 1), &want, cmd,
		    sizeof(cmd));
	}
	if (shrink_sig != 0) {
		unlink(s.json);
		printf("uvmstress: shrink: interrupted after %d runs\n",
		    s.runs);
		return 128 + shrink_sig;
	}
	/* the smallest, run once more as printed (and for its command) */
	candidate(&s, &o, best, sizeof(best));
	unlink(s.json);
	if (!same_failure(&want, &o)) {
		fprintf(stderr, "uvmstress: --shrink: the smallest run did not "
		    "fail again as before (exit %d): the run is not "
		    "deterministic; report it with: %s\n", o.status, best);
		return EXIT_USAGE;
	}
	printf("uvmstress: shrink: %d runs; the smallest fails with %s at "
	    "step %llu (the run as given: step %llu", s.runs, o.kind,
	    (unsigned long long)o.step, (unsigned long long)first.step);
	if (steps0 != UINT64_MAX)
		printf(" of %llu", (unsigned long long)steps0);
	printf(")");
	if (o.step != 0 && first.step > o.step)
		printf(", %.1fx fewer steps", (double)first.step /
		    (double)o.step);
	printf("\nuvmstress: replay with: %s\n", best);
	return EXIT_FAILURE_FOUND;
}
