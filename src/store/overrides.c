/* overrides.c: route_overrides, per model the split the gateway applies over its configured
 * routes after a restart. Invariants: one row per model (set replaces it); shares are in [0, 1];
 * without a candidate both shares are 0. */
#include "store-int.h"

int sl_store_override_set(struct sl_store *s, const char *model, const char *stable, const char *candidate,
                          double candidate_share, double shadow_share, double ts)
{
	struct sl_args a = {s, "override set", 0};
	struct sl_binder b;
	sl_arg_text(&a, "model", model, SL_STORE_NAME_MAX, false);
	sl_arg_text(&a, "stable", stable, SL_STORE_NAME_MAX, false);
	sl_arg_text(&a, "candidate", candidate, SL_STORE_NAME_MAX, true);
	sl_arg_share(&a, "candidate_share", candidate_share);
	sl_arg_share(&a, "shadow_share", shadow_share);
	if (!candidate && (candidate_share != 0 || shadow_share != 0))
		sl_arg_fail(&a, SL_EINVAL, "candidate", "shares need a candidate");
	sl_arg_time(&a, ts);
	int rc = sl_binder_init(&b, &a, SL_Q_OVERRIDE_SET, true);
	if (rc)
		return rc;
	sl_bind_text(&b, model);
	sl_bind_text(&b, stable);
	sl_bind_text(&b, candidate);
	sl_bind_double(&b, candidate_share);
	sl_bind_double(&b, shadow_share);
	sl_bind_double(&b, ts);
	return sl_store_run_write(s, b.st, b.rc, a.what);
}

int sl_store_override_clear(struct sl_store *s, const char *model)
{
	struct sl_args a = {s, "override clear", 0};
	struct sl_binder b;
	sl_arg_text(&a, "model", model, SL_STORE_NAME_MAX, false);
	int rc = sl_binder_init(&b, &a, SL_Q_OVERRIDE_CLEAR, true);
	if (rc)
		return rc;
	sl_bind_text(&b, model);
	return sl_store_run_write(s, b.st, b.rc, a.what);
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
