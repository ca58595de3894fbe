/* experiment_cmd.c: `sluice experiment list|show KEY|stop KEY`: the gateway's A/B experiments
 * through the admin API (GET /api/v1/experiments[/KEY], POST /api/v1/experiments/KEY/stop),
 * as tables for people or the raw JSON with --json.
 * Exit status: 0 done, 1 the admin API refused or could not be reached (the reason printed), 2
 * bad usage. Invariants: every string from the server goes through the table's cleaning; an
 * answer of another shape is reported, never half printed. */
#include <json-c/json.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cli/admin_client.h"
#include "cli/commands.h"
#include "cli/table.h"

static const char usage[] =
    "usage: sluice experiment COMMAND [ARGS] [OPTIONS]\n"
    "\n"
    "commands:\n"
    "  list        experiments in force: model, state, units per variant, SRM verdict\n"
    "  show KEY    the analysis: per metric and variant the units, mean, lift with its interval,\n"
    "              p-value (adjusted) or chance to win, verdict; the SRM check and guardrails\n"
    "  stop KEY    stop assigning units and counting data (kept across restarts)\n"
    "\n"
    "options:\n"
    "  --admin URL        admin API (default $SLUICE_ADMIN or " SL_ADMIN_DEFAULT_URL ")\n"
    "  --token-env NAME   environment variable holding the admin token (default " SL_ADMIN_TOKEN_ENV ")\n"
    "  --allow-remote     allow an admin URL that is not on this machine\n"
    "  --json             print the API's JSON answer\n"
    "\n"
    "exit status: 0 done, 1 the admin API refused or could not be reached, 2 bad usage\n";

static int bad_shape(struct sl_admin *a)
{
	sl_admin_err(a, "the answer does not have the expected shape (try --json)");
	return 1;
}

static const char *str_or(struct json_object *o, const char *key, const char *dflt)
{
	const char *s = sl_cli_jstr(o, key);
	return s ? s : dflt;
}

/* ---- list ---- */

static enum sl_tcolor state_color(const char *state)
{
	return !strcmp(state, "running") ? SL_TC_GREEN : !strcmp(state, "stopped") ? SL_TC_YELLOW : SL_TC_DIM;
}

static void units_cell(struct sl_table *t, struct json_object *variants)
{
	char buf[512] = "";
	size_t n = 0;
	for (size_t i = 0; variants && i < json_object_array_length(variants) && n < sizeof(buf) - 1; i++) {
		struct json_object *v = json_object_array_get_idx(variants, i);
		int w = snprintf(buf + n, sizeof(buf) - n, "%s%s=%.0f", i ? " " : "", str_or(v, "key", "?"),
		                 sl_cli_jnum(v, "units"));
		n += w > 0 ? (size_t)w : 0;
	}
	sl_table_add(t, SL_TC_NONE, buf);
}

static int view_list(struct sl_admin *a, struct json_object *doc)
{
	static const char *const head[] = {"KEY", "MODEL", "UNIT", "STATE", "ORIGIN", "UNITS", "SRM"};
	struct json_object *list = sl_cli_jget(doc, "experiments");
	bool color = sl_cli_color(stdout);
	struct sl_table t;
	if (!list || !json_object_is_type(list, json_type_array))
		return bad_shape(a);
	if (json_object_array_length(list) == 0) {
		printf("no experiments\n");
		return 0;
	}
	sl_table_init(&t, head, 7);
	for (size_t i = 0; i < json_object_array_length(list); i++) {
		struct json_object *e = json_object_array_get_idx(list, i), *srm = sl_cli_jget(e, "srm");
		const char *state = str_or(e, "state", "?"), *verdict = str_or(srm, "verdict", "-");
		char p[32];
		sl_table_add(&t, SL_TC_BOLD, str_or(e, "key", "?"));
		sl_table_add(&t, SL_TC_NONE, str_or(e, "model", "?"));
		sl_table_add(&t, SL_TC_NONE, str_or(e, "unit", "?"));
		sl_table_add(&t, state_color(state), state);
		sl_table_add(&t, SL_TC_DIM, str_or(e, "origin", "?"));
		units_cell(&t, sl_cli_jget(e, "variants"));
		sl_table_addf(&t, strcmp(verdict, "ok") ? SL_TC_RED : SL_TC_GREEN, "%s (p %s)", verdict,
		              sl_fmt_num(p, sizeof(p), sl_cli_jnum(srm, "p_value")));
	}
	int rc = sl_table_print(&t, stdout, "", color);
	sl_table_release(&t);
	return rc ? 1 : 0;
}

/* ---- show ---- */

static enum sl_tcolor verdict_color(const char *v)
{
	return !strcmp(v, "better") ? SL_TC_GREEN : !strcmp(v, "worse") ? SL_TC_RED : SL_TC_NONE;
}

/* "+3.2% [+1.0%, +5.4%]" */
static void lift_cell(struct sl_table *t, struct json_object *c)
{
	struct json_object *ci = sl_cli_jget(c, "ci");
	char l[32], lo[32], hi[32];
	double vlo = NAN, vhi = NAN;
	if (ci && json_object_is_type(ci, json_type_array) && json_object_array_length(ci) == 2) {
		struct json_object *a = json_object_array_get_idx(ci, 0), *b = json_object_array_get_idx(ci, 1);
		vlo = a && !json_object_is_type(a, json_type_null) ? json_object_get_double(a) : NAN;
		vhi = b && !json_object_is_type(b, json_type_null) ? json_object_get_double(b) : NAN;
	}
	double lift = sl_cli_jnum(c, "lift");
	const char *verdict = sl_cli_jstr(c, "verdict");
	if (isnan(lift) || (verdict && !strcmp(verdict, "no_data"))) {
		sl_table_add(t, SL_TC_DIM, NULL);
		return;
	}
	sl_table_addf(t, SL_TC_NONE, "%s [%s, %s]", sl_fmt_signed_pct(l, sizeof(l), lift),
	              sl_fmt_signed_pct(lo, sizeof(lo), vlo), sl_fmt_signed_pct(hi, sizeof(hi), vhi));
}

static void metric_rows(struct sl_table *t, struct json_object *m)
{
	struct json_object *vars = sl_cli_jget(m, "variants");
	for (size_t i = 0; vars && json_object_is_type(vars, json_type_array) && i < json_object_array_length(vars);
	     i++) {
		struct json_object *c = json_object_array_get_idx(vars, i);
		char b1[32], b2[32], b3[32], b4[32];
		const char *verdict = str_or(c, "verdict", "-");
		sl_table_addf(t, SL_TC_BOLD, "%s%s", i ? "" : str_or(m, "name", "?"),
		              i == 0 && sl_cli_jbool(m, "guardrail") ? " (guardrail)" : "");
		sl_table_add(t, SL_TC_NONE, str_or(c, "variant", "?"));
		sl_table_add(t, SL_TC_NONE, sl_fmt_num(b1, sizeof(b1), sl_cli_jnum(c, "units")));
		sl_table_add(t, SL_TC_NONE, sl_fmt_num(b2, sizeof(b2), sl_cli_jnum(c, "mean")));
		lift_cell(t, c);
		sl_table_add(t, SL_TC_NONE, sl_fmt_num(b3, sizeof(b3), sl_cli_jnum(c, "p_value")));
		sl_table_add(t, SL_TC_NONE, sl_fmt_num(b4, sizeof(b4), sl_cli_jnum(c, "p_adjusted")));
		sl_table_add(t, SL_TC_NONE, sl_fmt_pct(b1, sizeof(b1), sl_cli_jnum(c, "chance_to_win")));
		sl_table_add(t, verdict_color(verdict), verdict);
	}
}

static void show_head(struct json_object *doc, bool color)
{
	struct json_object *srm = sl_cli_jget(doc, "srm"), *counts = sl_cli_jget(doc, "counts");
	const char *verdict = str_or(srm, "verdict", "-");
	char p[32];
	printf("experiment %s on model %s (unit %s): %s, %s%s\n", str_or(doc, "experiment", "?"),
	       str_or(doc, "model", "?"), str_or(doc, "unit", "?"), str_or(doc, "status", "?"),
	       str_or(doc, "engine", "?"), sl_cli_jbool(doc, "sequential") ? " (sequential)" : "");
	printf("exposed units %.0f, requests %.0f, events %.0f, ignored %.0f\n", sl_cli_jnum(counts, "exposed"),
	       sl_cli_jnum(counts, "requests"), sl_cli_jnum(counts, "events"), sl_cli_jnum(counts, "ignored"));
	printf("sample ratio: ");
	sl_cli_put(stdout, color, strcmp(verdict, "ok") ? SL_TC_RED : SL_TC_GREEN, verdict);
	printf(" (p %s)\n", sl_fmt_num(p, sizeof(p), sl_cli_jnum(srm, "p_value")));
}

static int view_show(struct sl_admin *a, struct json_object *doc)
{
	static const char *const head[] = {"METRIC", "VARIANT", "UNITS",  "MEAN",   "LIFT [INTERVAL]",
	                                   "P",      "P ADJ",   "CHANCE", "VERDICT"};
	struct json_object *metrics = sl_cli_jget(doc, "metrics");
	bool color = sl_cli_color(stdout);
	struct sl_table t;
	if (!metrics || !json_object_is_type(metrics, json_type_array) || !sl_cli_jstr(doc, "experiment"))
		return bad_shape(a);
	show_head(doc, color);
	sl_table_init(&t, head, 9);
	for (unsigned c = 2; c < 8; c++)
		if (c != 4)
			sl_table_align_right(&t, c);
	for (size_t i = 0; i < json_object_array_length(metrics); i++)
		metric_rows(&t, json_object_array_get_idx(metrics, i));
	int rc = sl_table_print(&t, stdout, "", color);
	sl_table_release(&t);
	if (sl_cli_jbool(doc, "stop_recommended")) {
		sl_cli_put(stdout, color, SL_TC_RED, "stop recommended");
		printf(": %s\n", str_or(doc, "reason", "a guardrail regressed"));
	}
	return rc ? 1 : 0;
}

/* ---- commands ---- */

static int run(struct sl_admin *a, const char *method, const char *path,
               int (*view)(struct sl_admin *, struct json_object *))
{
	struct sl_admin_reply r;
	int status = 1;
	if (sl_admin_open(a)) {
		sl_admin_close(a);
		return 2;
	}
	sl_admin_reply_init(&r);
	if (sl_admin_call(a, method, path, NULL, &r) == 0) {
		if (a->json)
			sl_admin_print_raw(&r);
		status = a->json ? 0 : view(a, r.doc);
	}
	sl_admin_reply_release(&r);
	sl_admin_close(a);
	return status;
}

static int view_stopped(struct sl_admin *a, struct json_object *doc)
{
	if (!sl_cli_jstr(doc, "key"))
		return bad_shape(a);
	printf("experiment %s is now stopped\n", sl_cli_jstr(doc, "key"));
	return 0;
}

int sl_cmd_experiment(int argc, char **argv)
{
	struct sl_admin a;
	char *pos[2], esc[768], path[832];
	const char *sub = argc > 1 ? argv[1] : "";
	if (!strcmp(sub, "--help") || !strcmp(sub, "-h") || !strcmp(sub, "help")) {
		fputs(usage, stdout);
		return 0;
	}
	bool list = !strcmp(sub, "list"), show = !strcmp(sub, "show"), stop = !strcmp(sub, "stop");
	if (!list && !show && !stop) {
		fprintf(stderr, "sluice experiment: unknown command '%s' (list, show KEY, stop KEY)\n", sub);
		return 2;
	}
	int npos = sl_admin_parse(&a, "experiment", NULL, 0, argc - 1, argv + 1, pos, 2);
	if (npos >= 0 && a.help) {
		fputs(usage, stdout);
		return 0;
	}
	if (npos >= 0 && npos != (list ? 0 : 1))
		sl_admin_err(&a, list ? "list takes no argument" : "%s needs the experiment KEY", sub);
	if (npos != (list ? 0 : 1))
		return 2;
	if (list)
		return run(&a, "GET", "/api/v1/experiments", view_list);
	if (sl_admin_escape(pos[0], esc, sizeof(esc))) {
		sl_admin_err(&a, "'%.40s...': too long for an experiment key", pos[0]);
		return 2;
	}
	snprintf(path, sizeof(path), "/api/v1/experiments/%s%s", esc, stop ? "/stop" : "");
	return run(&a, stop ? "POST" : "GET", path, stop ? view_stopped : view_show);
}
