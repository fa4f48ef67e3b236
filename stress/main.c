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
#include <stdio.h>

#include "host/machine.h"
#include "stress/options.h"
#include "stress/runner.h"

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
		status = runner_main(&cfg);
	options_free(&cfg);
	return status;
}
