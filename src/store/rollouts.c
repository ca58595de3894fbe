/* rollouts.c: the rollouts table: create, update, and the reads that resume, list and show
 * rollouts. Invariants: a model has at most one active rollout (ended_at NULL), enforced by a
 * unique index; ended_at, once set, never changes; spec_json and state_json are kept byte-exact. */
#include <stdio.h>

#include "store-int.h"

struct rollout_closure {
	sl_store_rollout_cb cb;
	void *ctx;
};

static int emit_rollout(sqlite3_stmt *st, void *p)
{
	struct rollout_closure *c = p;
	struct sl_store_rollout r;
	r.id = sqlite3_column_int64(st, 0);
	r.model = sl_col_text(st, 1, NULL);
	r.stable = sl_col_text(st, 2, NULL);
	r.candidate = sl_col_text(st, 3, NULL);
	r.spec_json = sl_col_text(st, 4, &r.spec_json_len);
	r.state = sl_col_text(st, 5, NULL);
	r.state_json = sl_col_text(st, 6, &r.state_json_len);
	r.step_index = sqlite3_column_int(st, 7);
	r.candidate_share = sqlite3_column_double(st, 8);
	r.created_at = sqlite3_column_double(st, 9);
	r.updated_at = sqlite3_column_double(st, 10);
	r.ended = sqlite3_column_type(st, 11) != SQLITE_NULL;
	r.ended_at = r.ended ? sqlite3_column_double(st, 11) : 0;
	return c->cb(c->ctx, &r);
}

int sl_store_rollout_create(struct sl_store *s, const char *model, const char *stable, const char *candidate,
                            const char *spec_json, const char *state, const char *state_json, double ts, int64_t *id)
{
	struct sl_args a = {s, "rollout create", 0};
	struct sl_binder b;
	sl_arg_text(&a, "model", model, SL_STORE_NAME_MAX, false);
	sl_arg_text(&a, "stable", stable, SL_STORE_NAME_MAX, false);
	sl_arg_text(&a, "candidate", candidate, SL_STORE_NAME_MAX, false);
	sl_arg_text(&a, "spec_json", spec_json, SL_STORE_JSON_MAX, false);
	sl_arg_text(&a, "state", state, SL_STORE_WORD_MAX, false);
	sl_arg_text(&a, "state_json", state_json, SL_STORE_JSON_MAX, false);
	sl_arg_time(&a, ts);
	int rc = sl_binder_init(&b, &a, SL_Q_ROLLOUT_INSERT, true);
	if (rc)
		return rc;
	sl_bind_text(&b, model);
	sl_bind_text(&b, stable);
	sl_bind_text(&b, candidate);
	sl_bind_text(&b, spec_json);
	sl_bind_text(&b, state);
	sl_bind_text(&b, state_json);
	sl_bind_double(&b, ts);
	rc = sl_store_run_write(s, b.st, b.rc, a.what);
	if (rc == 0 && id)
		*id = sqlite3_last_insert_rowid(s->db);
	return rc;
}

int sl_store_rollout_update(struct sl_store *s, int64_t id, const char *state, const char *state_json, int step_index,
                            double candidate_share, double ts, bool ended)
{
	struct sl_args a = {s, "rollout update", 0};
	struct sl_binder b;
	sl_arg_text(&a, "state", state, SL_STORE_WORD_MAX, false);
	sl_arg_text(&a, "state_json", state_json, SL_STORE_JSON_MAX, false);
	sl_arg_share(&a, "candidate_share", candidate_share);
	sl_arg_time(&a, ts);
	int rc = sl_binder_init(&b, &a, SL_Q_ROLLOUT_UPDATE, true);
	if (rc)
		return rc;
	sl_bind_text(&b, state);
	sl_bind_text(&b, state_json);
	sl_bind_int64(&b, step_index);
	sl_bind_double(&b, candidate_share);
	sl_bind_double(&b, ts);
	sl_bind_int64(&b, ended);
	sl_bind_int64(&b, id);
	rc = sl_store_run_write(s, b.st, b.rc, a.what);
	if (rc == 0 && sqlite3_changes(s->db) == 0) {
		snprintf(s->errmsg, sizeof(s->errmsg), "rollout update: no rollout %lld", (long long)id);
		rc = SL_ENOTFOUND;
	}
	return rc;
}

int sl_store_rollout_get(struct sl_store *s, int64_t id, sl_store_rollout_cb cb, void *ctx)
{
	sqlite3_stmt *st;
	struct rollout_closure c = {cb, ctx};
	size_t n = 0;
	int rc = sl_store_stmt(s, SL_Q_ROLLOUT_GET, false, &st);
	if (rc)
		return rc;
	struct sl_binder b = {st, 0, 0};
	sl_bind_int64(&b, id);
	rc = sl_store_run_read(s, SL_Q_ROLLOUT_GET, b.rc, emit_rollout, &c, "rollout get", &n);
	if (rc == 0 && n == 0) {
		snprintf(s->errmsg, sizeof(s->errmsg), "rollout get: no rollout %lld", (long long)id);
		rc = SL_ENOTFOUND;
	}
	return rc;
}

int sl_store_rollouts_load_active(struct sl_store *s, sl_store_rollout_cb cb, void *ctx)
{
	sqlite3_stmt *st;
	struct rollout_closure c = {cb, ctx};
	int rc = sl_store_stmt(s, SL_Q_ROLLOUTS_ACTIVE, false, &st);
	return rc ? rc : sl_store_run_read(s, SL_Q_ROLLOUTS_ACTIVE, 0, emit_rollout, &c, "rollouts active", NULL);
}

int sl_store_rollouts_list(struct sl_store *s, const char *model, int limit, sl_store_rollout_cb cb, void *ctx)
{
	struct rollout_closure c = {cb, ctx};
	enum sl_q q = model ? SL_Q_ROLLOUTS_MODEL : SL_Q_ROLLOUTS_ALL;
	return sl_store_list(s, q, "rollouts list", model, NULL, limit, emit_rollout, &c);
}
