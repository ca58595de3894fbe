/* main.c: the sluice command line: dispatches to subcommands. */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"

struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
};

static const struct command commands[] = {
	{"serve", sl_cmd_serve, "run the gateway: sluice serve -c FILE"},
	{"sim", sl_cmd_sim, "run a simulated OpenAI-compatible model server"},
	{"load", sl_cmd_load, "drive simulated users against a gateway or server"},
	{"rollout", sl_cmd_rollout, "start, watch and steer canary rollouts (admin API)"},
	{"status", sl_cmd_status, "models, versions, weights and rollouts at a glance"},
	{"drift", sl_cmd_drift, "compare two datasets (CSV, JSONL) for data drift, offline"},
	{"scan", sl_cmd_scan, "scan prompts for prompt injection (text or JSON Lines), offline"},
	{"guard", sl_cmd_guard, "train and evaluate the prompt-injection classifier, offline"},
	{"experiment", sl_cmd_experiment, "list, show and stop A/B experiments (admin API)"},
};

static void usage(FILE *f)
{
	fprintf(f, "usage: sluice COMMAND [OPTIONS]\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].summary);
	fprintf(f, "\nsluice COMMAND --help shows the options of a command.\n");
}

int main(int argc, char **argv)
{
	/* A client hanging up mid-stream must not kill the process. */
	signal(SIGPIPE, SIG_IGN);
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
		printf("sluice 0.1.0\n");
		return 0;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			return commands[i].run(argc - 1, argv + 1);
	fprintf(stderr, "sluice: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return 2;
}
