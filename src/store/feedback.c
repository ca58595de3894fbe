/* feedback.c: labels and scores posted for requests (POST /v1/feedback), kept with the model and
 * version the request went to. Invariants: every row has a label or a score (or both); a missing
 * score is SQL NULL here and NAN in C. */
#include <math.h>
#include <stdio.h>

#include "store-int.h"

static int check_feedback(struct sl_store *s, const char *request_id, const char *model, const char *version,
                          const char *label, double score, const char *metric)
{
	const char *w = "feedback append";
	int rc = sl_store_arg_text(s, w, "request_id", request_id, SL_STORE_NAME_MAX, false);
	if (!rc)
		rc = sl_store_arg_text(s, w, "model", model, SL_STORE_NAME_MAX, false);
	if (!rc)
		rc = sl_store_arg_text(s, w, "version", version, SL_STORE_NAME_MAX, false);
	if (!rc)
		rc = sl_store_arg_text(s, w, "label", label, SL_STORE_NAME_MAX, true);
	if (!rc)
		rc = sl_store_arg_text(s, w, "metric", metric, SL_STORE_NAME_MAX, true);
	if (!rc)
		rc = sl_store_arg_score(s, w, score);
	if (!rc && !label && isnan(score)) {
		snprintf(s->errmsg, sizeof(s->errmsg), "%s: label: neither a label nor a score", w);
		rc = SL_EINVAL;
	}
	return rc;
}

int sl_store_feedback_append(struct sl_store *s, const char *request_id, const char *model, const char *version,
                             const char *label, double score, const char *metric, double ts)
{
	sqlite3_stmt *st;
	int rc = check_feedback(s, request_id, model, version, label, score, metric);
	if (!rc)
		rc = sl_store_arg_time(s, "feedback append", ts);
	if (!rc)
		rc = sl_store_stmt(s, SL_Q_FEEDBACK_INSERT, true, &st);
	if (rc)
		return rc;
	struct sl_binder b = {st, 0, 0};
	sl_bind_text(&b, request_id);
	sl_bind_text(&b, model);
	sl_bind_text(&b, version);
	sl_bind_text(&b, label);
	sl_bind_double(&b, score);
	sl_bind_text(&b, metric);
	sl_bind_double(&b, ts);
	return sl_store_run_write(s, st, b.rc, "feedback append");
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
	sqlite3_stmt *st;
	struct feedback_closure c = {cb, ctx};
	enum sl_q q = model ? SL_Q_FEEDBACK_MODEL : SL_Q_FEEDBACK_ALL;
	int n;
	int rc = sl_store_arg_text(s, "feedback list", "model", model, SL_STORE_NAME_MAX, true);
	if (!rc)
		rc = sl_store_arg_limit(s, "feedback list", limit, &n);
	if (!rc)
		rc = sl_store_stmt(s, q, false, &st);
	if (rc)
		return rc;
	struct sl_binder b = {st, 0, 0};
	if (model)
		sl_bind_text(&b, model);
	sl_bind_int64(&b, n);
	return sl_store_run_read(s, q, b.rc, emit_feedback, &c, "feedback list", NULL);
}
