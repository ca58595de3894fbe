/* overrides.c: route_overrides, per model the split the gateway applies over its configured
 * routes after a restart. Invariants: one row per model (set replaces it); shares are in [0, 1];
 * without a candidate both shares are 0. */
#include <math.h>
#include <stdio.h>

#include "store-int.h"

static int check_override(struct sl_store *s, const char *model, const char *stable, const char *candidate,
                          double share, double shadow, double ts)
{
	const char *w = "override set";
	int rc = sl_store_arg_text(s, w, "model", model, SL_STORE_NAME_MAX, false);
	if (!rc)
		rc = sl_store_arg_text(s, w, "stable", stable, SL_STORE_NAME_MAX, false);
	if (!rc)
		rc = sl_store_arg_text(s, w, "candidate", candidate, SL_STORE_NAME_MAX, true);
	if (!rc)
		rc = sl_store_arg_share(s, w, "candidate_share", share);
	if (!rc)
		rc = sl_store_arg_share(s, w, "shadow_share", shadow);
	if (!rc && !candidate && (share != 0 || shadow != 0)) {
		snprintf(s->errmsg, sizeof(s->errmsg), "%s: candidate: shares need a candidate", w);
		rc = SL_EINVAL;
	}
	return rc ? rc : sl_store_arg_time(s, w, ts);
}

int sl_store_override_set(struct sl_store *s, const char *model, const char *stable, const char *candidate,
                          double candidate_share, double shadow_share, double ts)
{
	sqlite3_stmt *st;
	int rc = check_override(s, model, stable, candidate, candidate_share, shadow_share, ts);
	if (!rc)
		rc = sl_store_stmt(s, SL_Q_OVERRIDE_SET, true, &st);
	if (rc)
		return rc;
	struct sl_binder b = {st, 0, 0};
	sl_bind_text(&b, model);
	sl_bind_text(&b, stable);
	sl_bind_text(&b, candidate);
	sl_bind_double(&b, candidate_share);
	sl_bind_double(&b, shadow_share);
	sl_bind_double(&b, ts);
	return sl_store_run_write(s, st, b.rc, "override set");
}

int sl_store_override_clear(struct sl_store *s, const char *model)
{
	sqlite3_stmt *st;
	int rc = sl_store_arg_text(s, "override clear", "model", model, SL_STORE_NAME_MAX, false);
	if (!rc)
		rc = sl_store_stmt(s, SL_Q_OVERRIDE_CLEAR, true, &st);
	if (rc)
		return rc;
	struct sl_binder b = {st, 0, 0};
	sl_bind_text(&b, model);
	return sl_store_run_write(s, st, b.rc, "override clear");
}

struct override_closure {
	sl_store_override_cb cb;
	void *ctx;
};

static int emit_override(sqlite3_stmt *st, void *p)
{
	struct override_closure *c = p;
	struct sl_store_override o;
	o.model = sl_col_text(st, 0, NULL);
	o.stable = sl_col_text(st, 1, NULL);
	o.candidate = sl_col_text(st, 2, NULL);
	o.candidate_share = sqlite3_column_double(st, 3);
	o.shadow_share = sqlite3_column_double(st, 4);
	o.updated_at = sqlite3_column_double(st, 5);
	return c->cb(c->ctx, &o);
}

int sl_store_overrides_load(struct sl_store *s, sl_store_override_cb cb, void *ctx)
{
	sqlite3_stmt *st;
	struct override_closure c = {cb, ctx};
	int rc = sl_store_stmt(s, SL_Q_OVERRIDES_LOAD, false, &st);
	return rc ? rc : sl_store_run_read(s, SL_Q_OVERRIDES_LOAD, 0, emit_override, &c, "overrides load", NULL);
}
