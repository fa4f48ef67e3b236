/*
 * stress/scenarios.c: the one registry of scenarios.
 *
 * Add a scenario here, in the order --list shows them; the first is the
 * default.
 */
#include <string.h>

#include "scenario.h"

const struct scenario *const stress_scenarios[] = {
	&scenario_mix,		/* the default: the first */
	&scenario_touch,
	&scenario_segv,
	&scenario_pressure,
	&scenario_fork,
	&scenario_swapper,
};
const int stress_nscenarios =
    (int)(sizeof(stress_scenarios) / sizeof(stress_scenarios[0]));

const struct scenario *
scenario_find(const char *name)
{
	int i;

	for (i = 0; i < stress_nscenarios; i++)
		if (strcmp(stress_scenarios[i]->sc_name, name) == 0)
			return stress_scenarios[i];
	return NULL;
}

int
scenario_opt_index(const struct scenario *sc, const char *name)
{
	int i;

	for (i = 0; i < sc->sc_nopts; i++)
		if (strcmp(sc->sc_opts[i].so_name, name) == 0)
			return i;
	return -1;
}
