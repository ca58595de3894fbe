/* load.c: placeholder until the load command lands. */
#include <stdio.h>

#include "cli/commands.h"

int sl_cmd_load(int argc, char **argv)
{
	fprintf(stderr, "sluice load: not built yet\n");
	return 1;
}
