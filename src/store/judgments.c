/* judgments.c: the judge's verdicts, one row per step and look, with their evidence as JSON.
 * Invariants: rows are only ever inserted (triggers refuse UPDATE and DELETE); a missing score
 * is SQL NULL here and NAN in C; detail_json is kept byte-exact or NULL. */
#include "store-int.h"

int sl_store_judgment_append(struct sl_store *s, int64_t rollout_id, double ts, int step_index, int look,
                             const char *outcome, double score, const char *detail_json)
{
	struct sl_args a = {s, "judgment append", 0};
	struct sl_binder b;
	sl_arg_text(&a, "outcome", outcome, SL_STORE_WORD_MAX, false);
	sl_arg_score(&a, score);
	sl_arg_text(&a, "detail_json", detail_json, SL_STORE_JSON_MAX, true);
	sl_arg_time(&a, ts);
	int rc = sl_binder_init(&b, &a, SL_Q_JUDGMENT_INSERT, true);
	if (rc)
		return rc;
	sl_bind_int64(&b, rollout_id);
	sl_bind_double(&b, ts);
	sl_bind_int64(&b, step_index);
	sl_bind_int64(&b, look);
	sl_bind_text(&b, outcome);
	sl_bind_double(&b, score);
	sl_bind_text(&b, detail_json);
	return sl_store_run_write(s, b.st, b.rc, a.what);
}

struct judgment_closure {
	sl_store_judgment_cb cb;
	void *ctx;
};

static int emit_judgment(sqlite3_stmt *st, void *p)
{
	struct judgment_closure *c = p;
	struct sl_store_judgment j;
	j.id = sqlite3_column_int64(st, 0);
	j.rollout_id = sqlite3_column_int64(st, 1);
	j.ts = sqlite3_column_double(st, 2);
	j.step_index = sqlite3_column_int(st, 3);
	j.look = sqlite3_column_int(st, 4);
	j.outcome = sl_col_text(st, 5, NULL);
	j.score = sl_col_double(st, 6);
	j.detail_json = sl_col_text(st, 7, &j.detail_json_len);
	return c->cb(c->ctx, &j);
}

int sl_store_judgments_list(struct sl_store *s, int64_t rollout_id, int limit, sl_store_judgment_cb cb, void *ctx)
{
	struct judgment_closure c = {cb, ctx};
	return sl_store_list(s, SL_Q_JUDGMENTS_LIST, "judgments list", NULL, &rollout_id, limit, emit_judgment, &c);
}
