/* sim.c: placeholder until the sim command lands. */
#include <stdio.h>

#include "cli/commands.h"

int sl_cmd_sim(int argc, char **argv)
{
	fprintf(stderr, "sluice sim: not built yet\n");
	return 1;
}
