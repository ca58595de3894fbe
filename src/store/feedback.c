/* feedback.c: labels and scores posted for requests (POST /v1/feedback), kept with the model and version
 * they went to, and the live drift monitor's reports (append-only).
 * Invariants: every row has a label or a score (or both); a missing
 * score is SQL NULL here and NAN in C. */
#include <math.h>

#include "store-int.h"

int sl_store_feedback_append(struct sl_store *s, const char *request_id, const char *model, const char *version,
                             const char *label, double score, const char *metric, double ts)
{
	struct sl_args a = {s, "feedback append", 0};
	struct sl_binder b;
	sl_arg_text(&a, "request_id", request_id, SL_STORE_NAME_MAX, false);
	sl_arg_text(&a, "model", model, SL_STORE_NAME_MAX, false);
	sl_arg_text(&a, "version", version, SL_STORE_NAME_MAX, false);
	sl_arg_text(&a, "label", label, SL_STORE_NAME_MAX, true);
	sl_arg_text(&a, "metric", metric, SL_STORE_NAME_MAX, true);
	sl_arg_score(&a, score);
	if (!label && isnan(score))
		sl_arg_fail(&a, SL_EINVAL, "label", "neither a label nor a score");
	sl_arg_time(&a, ts);
	int rc = sl_binder_init(&b, &a, SL_Q_FEEDBACK_INSERT, true);
	if (rc)
		return rc;
	sl_bind_text(&b, request_id);
	sl_bind_text(&b, model);
	sl_bind_text(&b, version);
	sl_bind_text(&b, label);
	sl_bind_double(&b, score);
	sl_bind_text(&b, metric);
	sl_bind_double(&b, ts);
	return sl_store_run_write(s, b.st, b.rc, a.what);
}

struct feedback_closure {
	sl_store_feedback_cb cb;
	void *ctx;
};

static int emit_feedback(sqlite3_stmt *st, void *p)
{
	struct feedback_closure *c = p;
	struct sl_store_feedback f;
	f.id = sqlite3_column_int64(st, 0);
	f.request_id = sl_col_text(st, 1, NULL);
	f.model = sl_col_text(st, 2, NULL);
	f.version = sl_col_text(st, 3, NULL);
	f.label = sl_col_text(st, 4, NULL);
	f.score = sl_col_double(st, 5);
	f.metric = sl_col_text(st, 6, NULL);
	f.ts = sqlite3_column_double(st, 7);
	return c->cb(c->ctx, &f);
}

int sl_store_feedback_list(struct sl_store *s, const char *model, int limit, sl_store_feedback_cb cb, void *ctx)
{
	struct feedback_closure c = {cb, ctx};
	enum sl_q q = model ? SL_Q_FEEDBACK_MODEL : SL_Q_FEEDBACK_ALL;
	return sl_store_list(s, q, "feedback list", model, NULL, limit, emit_feedback, &c);
}

int sl_store_drift_append(struct sl_store *s, const char *model, const char *version, double ts, const char *state,
                          const char *detail_json)
{
	struct sl_args a = {s, "drift append", 0};
	struct sl_binder b;
	sl_arg_text(&a, "model", model, SL_STORE_NAME_MAX, false);
	sl_arg_text(&a, "version", version, SL_STORE_NAME_MAX, false);
	sl_arg_text(&a, "state", state, SL_STORE_NAME_MAX, false);
	sl_arg_text(&a, "detail_json", detail_json, SL_STORE_JSON_MAX, false);
	sl_arg_time(&a, ts);
	int rc = sl_binder_init(&b, &a, SL_Q_DRIFT_INSERT, true);
	if (rc)
		return rc;
	sl_bind_text(&b, model);
	sl_bind_text(&b, version);
	sl_bind_double(&b, ts);
	sl_bind_text(&b, state);
	sl_bind_text(&b, detail_json);
	return sl_store_run_write(s, b.st, b.rc, a.what);
}
