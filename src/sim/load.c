/* load.c: `sluice load`, a load generator of simulated users for demos, integration tests
 * and benchmarks: parse options, load prompts (and the second set of --shift-at), run, print
 * the summary.
 * Exit status: 0 the run completed (HTTP errors are data), 1 no request got any HTTP response
 * (nothing could connect, or nothing answered) or the run could not start, 2 bad options or prompts, 130 a second
 * interrupt abandoned requests. */
#include <stdio.h>

#include "cli/commands.h"
#include "sim/load.h"

static int load_prompts(struct sl_load_prompts *ps, struct sl_load_prompts *shifted, const struct sl_load_opts *o)
{
	int rc = o->prompts_path ? sl_load_prompts_read(ps, o->prompts_path) : sl_load_prompts_builtin(ps);
	if (!rc && o->shift_at_s >= 0)
		rc = o->shift_prompts_path ? sl_load_prompts_read(shifted, o->shift_prompts_path)
		                           : sl_load_prompts_builtin_shift(shifted);
	if (rc == SL_ENOMEM)
		fprintf(stderr, "sluice load: prompts: %s\n", sl_strerror(rc));
	return rc;
}

static int report(struct sl_load_stats *st, const struct sl_load_opts *o)
{
	int rc = o->json ? sl_load_print_json(st, o) : sl_load_print_table(st, o);
	if (rc) {
		fprintf(stderr, "sluice load: summary: %s\n", sl_strerror(rc));
		return 1;
	}
	if (st->done > 0 && st->responses == 0) {
		fprintf(stderr, "sluice load: no response from '%s': %s\n", o->url, st->first_error);
		return 1;
	}
	return st->sent > st->done ? 130 : 0; /* a second interrupt abandoned requests */
}

int sl_cmd_load(int argc, char **argv)
{
	struct sl_load_opts o;
	struct sl_load_prompts ps, shifted;
	struct sl_load_stats st;
	int status, rc;
	if (sl_load_opts_parse(&o, argc, argv))
		return 2;
	if (o.help) {
		sl_load_usage();
		return 0;
	}
	if (o.recs)
		return sl_load_recs_run(&o);
	sl_load_prompts_init(&ps);
	sl_load_prompts_init(&shifted);
	sl_load_stats_init(&st);
	if ((rc = load_prompts(&ps, &shifted, &o))) {
		status = rc == SL_ENOMEM ? 1 : 2;
		goto out;
	}
	if ((rc = sl_load_run(&o, &ps, o.shift_at_s >= 0 ? &shifted : NULL, &st))) {
		if (rc != SL_ERANGE) /* the descriptor limit explains itself */
			fprintf(stderr, "sluice load: cannot run against '%s': %s\n", o.url, sl_strerror(rc));
		status = 1;
		goto out;
	}
	status = report(&st, &o);
out:
	sl_load_stats_release(&st);
	sl_load_prompts_release(&shifted);
	sl_load_prompts_release(&ps);
	return status;
}
