/* serve.c: placeholder until the gateway lands. */
#include <stdio.h>

#include "cli/commands.h"

int sl_cmd_serve(int argc, char **argv)
{
	fprintf(stderr, "sluice serve: not built yet\n");
	return 1;
}
