/*
 * stress/main.c: uvmstress, the BSD UVM virtual-memory system under
 * stress on a simulated machine.
 *
 *	uvmstress [--scenario NAME] [options] [scenario options]
 *
 * Exit status: 0 pass, 1 usage or harness error, 2 a failure found
 * (integrity, invariant, lock order, hang, unexpected SIGSEGV, panic), 3
 * the host lacks a resource.  See --help, README.md and docs/uvmstress.md.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "host/clock.h"
#include "host/machine.h"
#include "stress/options.h"
#include "stress/runner.h"
#include "stress/shrink.h"

/*
 * search: --seeds A-B: each seed a run of its own, in a child process
 * (forked before any machine thread exists), until one does not pass.
 * => the first status other than pass (or untested), else pass
 */
static volatile sig_atomic_t interrupted;

static void
on_interrupt(int sig)
{
	interrupted = sig;
}

static int
search(struct stress_config *cfg)
{
	uint64_t s, t0 = host_wall_ns();
	int status = EXIT_PASS, wst, untested = 0;
	pid_t pid;

	/* a SIGINT reaches the child too (its group): it reports; we stop */
	signal(SIGINT, on_interrupt);
	signal(SIGTERM, on_interrupt);
	for (s = cfg->seeds_lo; s <= cfg->seeds_hi; s++) {
		fflush(NULL);
		if (interrupted)
			break;
		if ((pid = fork()) < 0) {
			perror("uvmstress: --seeds: fork");
			return EXIT_NO_RESOURCE;
		}
		if (pid == 0) {
			signal(SIGINT, SIG_DFL);
			signal(SIGTERM, SIG_DFL);
			cfg->seed = s;
			cfg->seed_given = true;
			cfg->quiet = cfg->verbose == 0;
			_exit(runner_main(cfg));
		}
		while (waitpid(pid, &wst, 0) < 0)
			continue;
		/* a child killed by a signal (a SIGINT to the group) stops it */
		status = WIFEXITED(wst) ? WEXITSTATUS(wst) :
		    128 + WTERMSIG(wst);
		if (status == EXIT_UNTESTED) {
			untested++;
			continue;
		}
		if (status != EXIT_PASS)
			break;
	}
	if (interrupted && (status == EXIT_PASS || status == EXIT_UNTESTED)) {
		printf("uvmstress: --seeds: interrupted after %llu runs of "
		    "%llu-%llu\n", (unsigned long long)(s - cfg->seeds_lo),
		    (unsigned long long)cfg->seeds_lo,
		    (unsigned long long)cfg->seeds_hi);
		return 128 + interrupted;
	}
	if (status != EXIT_PASS && status != EXIT_UNTESTED)
		printf("uvmstress: --seeds: seed %llu %s (exit %d) after %llu "
		    "runs of %llu-%llu, %.1f s\n", (unsigned long long)s,
		    status == EXIT_FAILURE_FOUND ? "failed" : "stopped the "
		    "search", status, (unsigned long long)(s - cfg->seeds_lo +
		    1), (unsigned long long)cfg->seeds_lo,
		    (unsigned long long)cfg->seeds_hi,
		    (double)(host_wall_ns() - t0) / 1e9);
	else
		printf("uvmstress: --seeds: no failure in seeds %llu-%llu "
		    "(%llu runs, %d of them untested), %.1f s\n",
		    (unsigned long long)cfg->seeds_lo,
		    (unsigned long long)cfg->seeds_hi,
		    (unsigned long long)(cfg->seeds_hi - cfg->seeds_lo + 1),
		    untested, (double)(host_wall_ns() - t0) / 1e9);
	/* nothing tested in any run: say so, as one run would */
	if (untested > 0 && (uint64_t)untested == cfg->seeds_hi -
	    cfg->seeds_lo + 1)
		return EXIT_UNTESTED;
	return status == EXIT_UNTESTED ? EXIT_PASS : status;
}

int
main(int argc, char **argv)
{
	struct stress_config cfg;
	int status;

	if ((status = options_parse(argc, argv, &cfg)) != 0)
		;
	else if (cfg.help)
		options_help(stdout, &cfg);
	else if (cfg.list)
		options_list(stdout);
	else if ((status = options_check(&cfg)) == 0)
		status = cfg.seeds_lo != 0 ? search(&cfg) : cfg.shrink ?
		    stress_shrink(&cfg) : runner_main(&cfg);
	options_free(&cfg);
	return status;
}
