/* stmt.c: the SQL of every statement the store runs, the per-store cache of prepared
 * statements, binding, and the two ways to run one: a write (in a transaction) and a read (rows
 * handed to a callback), the lists being the common reads. Invariants: each statement is
 * prepared at most once per store and always left reset with cleared bindings; a write either
 * commits, joins the open group, or leaves nothing behind; a read never lets a callback write or
 * re-enter the statement it is reading. */
#include <math.h>
#include <stdio.h>

#include "store-int.h"

#define ROLLOUT_COLS                                                                                                   \
	"id, model, stable, candidate, spec_json, state, state_json, step_index, candidate_share, created_at, "        \
	"updated_at, ended_at"
#define FEEDBACK_COLS "id, request_id, model, version, label, score, metric, ts"

static const char *const sql[SL_Q_COUNT_] = {
    [SL_Q_BEGIN] = "BEGIN IMMEDIATE",
    [SL_Q_COMMIT] = "COMMIT",
    [SL_Q_ROLLBACK] = "ROLLBACK",
    [SL_Q_ROLLOUT_INSERT] = "INSERT INTO rollouts (model, stable, candidate, spec_json, state, state_json, "
                            "step_index, candidate_share, created_at, updated_at) "
                            "VALUES (?1, ?2, ?3, ?4, ?5, ?6, 0, 0, ?7, ?7)",
    [SL_Q_ROLLOUT_UPDATE] = "UPDATE rollouts SET state = ?1, state_json = ?2, step_index = ?3, "
                            "candidate_share = ?4, updated_at = ?5, "
                            "ended_at = CASE WHEN ?6 THEN coalesce(ended_at, ?5) ELSE ended_at END WHERE id = ?7",
    [SL_Q_ROLLOUT_GET] = "SELECT " ROLLOUT_COLS " FROM rollouts WHERE id = ?1",
    [SL_Q_ROLLOUTS_ACTIVE] = "SELECT " ROLLOUT_COLS " FROM rollouts WHERE ended_at IS NULL ORDER BY id",
    [SL_Q_ROLLOUTS_ALL] = "SELECT " ROLLOUT_COLS " FROM rollouts ORDER BY id DESC LIMIT ?1",
    [SL_Q_ROLLOUTS_MODEL] = "SELECT " ROLLOUT_COLS " FROM rollouts WHERE model = ?1 ORDER BY id DESC LIMIT ?2",
    [SL_Q_EVENT_INSERT] = "INSERT INTO rollout_events (rollout_id, ts, kind, detail_json) VALUES (?1, ?2, ?3, ?4)",
    [SL_Q_EVENTS_LIST] = "SELECT id, rollout_id, ts, kind, detail_json FROM (SELECT * FROM rollout_events "
                         "WHERE rollout_id = ?1 ORDER BY id DESC LIMIT ?2) ORDER BY id",
    [SL_Q_JUDGMENT_INSERT] = "INSERT INTO judgments (rollout_id, ts, step_index, look, outcome, score, "
                             "detail_json) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    [SL_Q_JUDGMENTS_LIST] = "SELECT id, rollout_id, ts, step_index, look, outcome, score, detail_json FROM "
                            "(SELECT * FROM judgments WHERE rollout_id = ?1 ORDER BY id DESC LIMIT ?2) ORDER BY id",
    [SL_Q_OVERRIDE_SET] = "INSERT INTO route_overrides (model, stable, candidate, candidate_share, shadow_share, "
                          "updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (model) DO UPDATE SET "
                          "stable = excluded.stable, candidate = excluded.candidate, "
                          "candidate_share = excluded.candidate_share, shadow_share = excluded.shadow_share, "
                          "updated_at = excluded.updated_at",
    [SL_Q_OVERRIDE_CLEAR] = "DELETE FROM route_overrides WHERE model = ?1",
    [SL_Q_OVERRIDES_LOAD] = "SELECT model, stable, candidate, candidate_share, shadow_share, updated_at "
                            "FROM route_overrides ORDER BY model",
    [SL_Q_FEEDBACK_INSERT] = "INSERT INTO feedback (request_id, model, version, label, score, metric, ts) "
                             "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    [SL_Q_FEEDBACK_ALL] = "SELECT " FEEDBACK_COLS " FROM feedback ORDER BY id DESC LIMIT ?1",
    [SL_Q_DRIFT_INSERT] = "INSERT INTO drift_reports (model, version, ts, state, detail_json) VALUES (?1, ?2, ?3, ?4, ?5)",
    [SL_Q_FEEDBACK_MODEL] = "SELECT " FEEDBACK_COLS " FROM feedback WHERE model = ?1 ORDER BY id DESC LIMIT ?2",
    [SL_Q_DRIFT_REF_SET] = "INSERT INTO drift_references (model, version, body, rows, updated_at) "
                           "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (model, version) DO UPDATE SET "
                           "body = excluded.body, rows = excluded.rows, updated_at = excluded.updated_at",
    [SL_Q_DRIFT_REF_CLEAR] = "DELETE FROM drift_references WHERE model = ?1 AND version = ?2",
    [SL_Q_DRIFT_REFS_LOAD] = "SELECT model, version, body, rows, updated_at FROM drift_references "
                             "ORDER BY model, version",
};

static int prepare(struct sl_store *s, enum sl_q q)
{
	if (s->stmt[q])
		return 0;
	int rc = sqlite3_prepare_v3(s->db, sql[q], -1, SQLITE_PREPARE_PERSISTENT, &s->stmt[q], NULL);
	return rc == SQLITE_OK ? 0 : sl_store_fail(s, rc, "prepare");
}

int sl_store_stmt(struct sl_store *s, enum sl_q q, bool write, sqlite3_stmt **out)
{
	if (s->in_use[q] || (write && s->reading)) {
		snprintf(s->errmsg, sizeof(s->errmsg), "store: %s from inside a read callback",
		         write ? "write" : "same read");
		return SL_ESTATE;
	}
	int rc = prepare(s, q);
	*out = s->stmt[q];
	return rc;
}

void sl_store_stmts_release(struct sl_store *s)
{
	for (int q = 0; q < SL_Q_COUNT_; q++) {
		sqlite3_finalize(s->stmt[q]);
		s->stmt[q] = NULL;
	}
}

/* Runs BEGIN IMMEDIATE, COMMIT or ROLLBACK. */
static int txn(struct sl_store *s, enum sl_q q, const char *what)
{
	int rc = prepare(s, q);
	if (rc)
		return rc;
	int src = sqlite3_step(s->stmt[q]);
	sqlite3_reset(s->stmt[q]);
	return src == SQLITE_DONE ? 0 : sl_store_fail(s, src, what);
}

/* Rolls back whatever transaction is open, keeping errmsg as it is. */
static void rollback_quiet(struct sl_store *s)
{
	if (sqlite3_get_autocommit(s->db))
		return;
	if (prepare(s, SL_Q_ROLLBACK) == 0) {
		sqlite3_step(s->stmt[SL_Q_ROLLBACK]);
		sqlite3_reset(s->stmt[SL_Q_ROLLBACK]);
	}
}

int sl_store_run_write(struct sl_store *s, sqlite3_stmt *st, int bind_rc, const char *what)
{
	bool own = !s->group;
	int rc = bind_rc ? sl_store_fail(s, bind_rc, what) : 0;
	if (rc == 0 && !own && sqlite3_get_autocommit(s->db)) {
		/* SQLite rolled the group back on an earlier error: never write outside it */
		snprintf(s->errmsg, sizeof(s->errmsg), "%s: the group was rolled back by an earlier error", what);
		rc = SL_EIO;
	}
	if (rc == 0 && own)
		rc = txn(s, SL_Q_BEGIN, "begin");
	if (rc == 0) {
		int src = sqlite3_step(st);
		if (src != SQLITE_DONE)
			rc = sl_store_fail(s, src, what);
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (own && rc == 0)
		rc = txn(s, SL_Q_COMMIT, "commit");
	if (own && rc != 0)
		rollback_quiet(s);
	return rc;
}

int sl_store_run_read(struct sl_store *s, enum sl_q q, int bind_rc, sl_store_emit_fn emit, void *closure,
                      const char *what, size_t *nrows)
{
	sqlite3_stmt *st = s->stmt[q];
	size_t n = 0;
	int rc = bind_rc ? sl_store_fail(s, bind_rc, what) : 0;
	s->in_use[q] = true;
	s->reading++;
	while (rc == 0) {
		int src = sqlite3_step(st);
		if (src == SQLITE_DONE)
			break;
		if (src != SQLITE_ROW) {
			rc = sl_store_fail(s, src, what);
			break;
		}
		n++;
		rc = emit(st, closure);
	}
	s->reading--;
	s->in_use[q] = false;
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (nrows)
		*nrows = n;
	return rc;
}

int sl_store_list(struct sl_store *s, enum sl_q q, const char *what, const char *model, const int64_t *rollout_id,
                  int limit, sl_store_emit_fn emit, void *closure)
{
	struct sl_args a = {s, what, 0};
	struct sl_binder b;
	int n;
	sl_arg_text(&a, "model", model, SL_STORE_NAME_MAX, true);
	sl_arg_limit(&a, limit, &n);
	int rc = sl_binder_init(&b, &a, q, false);
	if (rc)
		return rc;
	if (model)
		sl_bind_text(&b, model);
	if (rollout_id)
		sl_bind_int64(&b, *rollout_id);
	sl_bind_int64(&b, n);
	return sl_store_run_read(s, q, b.rc, emit, closure, what, NULL);
}

int sl_store_begin(struct sl_store *s)
{
	if (s->group || s->reading) {
		snprintf(s->errmsg, sizeof(s->errmsg), "begin: %s",
		         s->group ? "a group is already open" : "inside a read callback");
		return SL_ESTATE;
	}
	int rc = txn(s, SL_Q_BEGIN, "begin");
	s->group = rc == 0;
	return rc;
}

int sl_store_commit(struct sl_store *s)
{
	if (!s->group || s->reading) {
		snprintf(s->errmsg, sizeof(s->errmsg), "commit: %s",
		         s->group ? "inside a read callback" : "no group is open");
		return SL_ESTATE;
	}
	s->group = false;
	if (sqlite3_get_autocommit(s->db)) {
		snprintf(s->errmsg, sizeof(s->errmsg), "commit: the group was rolled back by an earlier error");
		return SL_EIO;
	}
	int rc = txn(s, SL_Q_COMMIT, "commit");
	if (rc)
		rollback_quiet(s);
	return rc;
}

void sl_store_rollback(struct sl_store *s)
{
	if (!s->group)
		return;
	s->group = false;
	rollback_quiet(s);
}

int sl_binder_init(struct sl_binder *b, const struct sl_args *a, enum sl_q q, bool write)
{
	*b = (struct sl_binder){NULL, 0, 0};
	return a->rc ? a->rc : sl_store_stmt(a->s, q, write, &b->st);
}

void sl_bind_text(struct sl_binder *b, const char *v)
{
	int i = ++b->n;
	int rc = v ? sqlite3_bind_text(b->st, i, v, -1, SQLITE_STATIC) : sqlite3_bind_null(b->st, i);
	if (b->rc == 0 && rc != SQLITE_OK)
		b->rc = rc;
}

void sl_bind_double(struct sl_binder *b, double v)
{
	int i = ++b->n;
	int rc = isnan(v) ? sqlite3_bind_null(b->st, i) : sqlite3_bind_double(b->st, i, v);
	if (b->rc == 0 && rc != SQLITE_OK)
		b->rc = rc;
}

void sl_bind_blob(struct sl_binder *b, const void *v, size_t len)
{
	int i = ++b->n;
	int rc = sqlite3_bind_blob64(b->st, i, v, len, SQLITE_STATIC);
	if (b->rc == 0 && rc != SQLITE_OK)
		b->rc = rc;
}

void sl_bind_int64(struct sl_binder *b, int64_t v)
{
	int i = ++b->n;
	int rc = sqlite3_bind_int64(b->st, i, v);
	if (b->rc == 0 && rc != SQLITE_OK)
		b->rc = rc;
}

const char *sl_col_text(sqlite3_stmt *st, int i, size_t *len)
{
	const char *v = (const char *)sqlite3_column_text(st, i);
	if (len)
		*len = v ? (size_t)sqlite3_column_bytes(st, i) : 0;
	return v;
}

double sl_col_double(sqlite3_stmt *st, int i)
{
	return sqlite3_column_type(st, i) == SQLITE_NULL ? NAN : sqlite3_column_double(st, i);
}
