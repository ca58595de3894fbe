/* status_view.c: `sluice status` for people: one row per model version with its weight, and
 * on the model's first row its rollout (state, step, share) and the latest verdict.
 * Invariants: weights show as percentages of the model's total, whatever scale the gateway
 * uses; roles (stable, candidate) are shown only while a rollout is in progress. */
#include <json-c/json.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cli/admin_client.h"
#include "cli/rollout_view.h"

static const char *const head[] = {"MODEL", "VERSION", "ROLE", "WEIGHT", "ROLLOUT", "LATEST VERDICT"};
enum { NCOLS = sizeof(head) / sizeof(head[0]) };

static size_t array_len(struct json_object *a)
{
	return a && json_object_is_type(a, json_type_array) ? json_object_array_length(a) : 0;
}

static double total_weight(struct json_object *versions)
{
	double sum = 0;
	for (size_t i = 0; i < array_len(versions); i++) {
		double w = sl_cli_jnum(json_object_array_get_idx(versions, i), "weight");
		sum += isfinite(w) && w > 0 ? w : 0;
	}
	return sum;
}

static const char *role_of(struct json_object *r, const char *version)
{
	const char *s = sl_cli_jstr(r, "stable"), *c = sl_cli_jstr(r, "candidate");
	if (!r || !version || sl_view_terminal(sl_cli_jstr(r, "state")))
		return "";
	return s && strcmp(s, version) == 0 ? "stable" : c && strcmp(c, version) == 0 ? "candidate" : "";
}

/* "#3 canary, step 2, candidate 5%" */
static void rollout_cells(struct sl_table *t, struct json_object *r)
{
	char id[32], where[160], verdict[320];
	struct json_object *j = sl_cli_jget(r, "last_judgment");
	const char *state = sl_cli_jstr(r, "state");
	if (!r) {
		sl_table_add(t, SL_TC_NONE, NULL);
		sl_table_add(t, SL_TC_NONE, NULL);
		return;
	}
	sl_table_addf(t, sl_view_state_color(state), "#%s %s%s", sl_view_id(id, sizeof(id), r), state ? state : "?",
	              sl_view_rollout_where(where, sizeof(where), r, NULL));
	sl_table_add(t, sl_view_verdict_color(sl_cli_jstr(j, "outcome")),
	             sl_view_verdict_line(verdict, sizeof(verdict), j));
}

static void version_row(struct sl_table *t, struct json_object *m, struct json_object *v, double total, bool first)
{
	const char *name = sl_cli_jstr(v, "name");
	double w = sl_cli_jnum(v, "weight");
	struct json_object *r = sl_cli_jget(m, "rollout");
	sl_table_add(t, SL_TC_NONE, first ? sl_cli_jstr(m, "name") : "");
	sl_table_add(t, SL_TC_NONE, name);
	sl_table_add(t, SL_TC_NONE, role_of(r, name));
	if (isfinite(w) && total > 0)
		sl_table_addf(t, SL_TC_NONE, "%.1f%%", (w > 0 ? w : 0) / total * 100);
	else
		sl_table_add(t, SL_TC_NONE, isfinite(w) ? "0.0%" : NULL);
	if (first)
		rollout_cells(t, r);
	else {
		sl_table_add(t, SL_TC_NONE, "");
		sl_table_add(t, SL_TC_NONE, "");
	}
}

static void model_rows(struct sl_table *t, struct json_object *m)
{
	struct json_object *versions = sl_cli_jget(m, "versions");
	size_t n = array_len(versions);
	double total = total_weight(versions);
	if (n == 0) {
		sl_table_add(t, SL_TC_NONE, sl_cli_jstr(m, "name"));
		sl_table_add(t, SL_TC_NONE, NULL);
		sl_table_add(t, SL_TC_NONE, "");
		sl_table_add(t, SL_TC_NONE, NULL);
		rollout_cells(t, sl_cli_jget(m, "rollout"));
		return;
	}
	for (size_t i = 0; i < n; i++)
		version_row(t, m, json_object_array_get_idx(versions, i), total, i == 0);
}

int sl_view_status(struct json_object *doc, bool color)
{
	struct sl_table t;
	struct json_object *models = sl_cli_jget(doc, "models");
	if (!models || !json_object_is_type(models, json_type_array))
		return SL_EPARSE;
	if (array_len(models) == 0) {
		printf("no models\n");
		return 0;
	}
	sl_table_init(&t, head, NCOLS);
	sl_table_align_right(&t, 3);
	for (size_t i = 0; i < array_len(models); i++)
		model_rows(&t, json_object_array_get_idx(models, i));
	int rc = sl_table_print(&t, stdout, "", color);
	sl_table_release(&t);
	return rc;
}
