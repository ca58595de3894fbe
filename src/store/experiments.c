/* experiments.c: what the gateway keeps about A/B experiments across restarts (table
 * experiments, schema version 3): the specs declared through the admin API and the stops.
 * Statements are prepared per call (admin actions and start-up only, never the data path), run
 * through the shared write path so they join an open group like every other write.
 * Invariants: one row per key; a stop, once recorded, keeps its first time until the key is
 * declared again; spec_json is valid JSON or NULL (checked by the database). */
#include <math.h>
#include <stdio.h>

#include "store-int.h"

static int prepare(struct sl_store *s, const char *sql, bool write, sqlite3_stmt **st, const char *what)
{
	*st = NULL;
	if (write && s->reading > 0) {
		snprintf(s->errmsg, sizeof(s->errmsg), "%s: write from inside a read callback", what);
		return SL_ESTATE;
	}
	int rc = sqlite3_prepare_v2(s->db, sql, -1, st, NULL);
	return rc == SQLITE_OK ? 0 : sl_store_fail(s, rc, what);
}

/* Binds key (?1), an optional text (?2) and ts (?3), then runs the write. */
static int write3(struct sl_store *s, struct sl_args *a, const char *sql, const char *key, const char *text, double ts)
{
	sqlite3_stmt *st;
	int rc = a->rc ? a->rc : prepare(s, sql, true, &st, a->what);
	if (rc)
		return rc;
	int b = sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	b = b ? b : (text ? sqlite3_bind_text(st, 2, text, -1, SQLITE_STATIC) : sqlite3_bind_null(st, 2));
	b = b ? b : sqlite3_bind_double(st, 3, ts);
	rc = sl_store_run_write(s, st, b, a->what);
	sqlite3_finalize(st);
	return rc;
}

int sl_store_experiment_declare(struct sl_store *s, const char *key, const char *spec_json, double ts)
{
	struct sl_args a = {s, "experiment declare", 0};
	if (!s)
		return SL_EINVAL;
	sl_arg_text(&a, "key", key, SL_STORE_NAME_MAX, false);
	sl_arg_text(&a, "spec_json", spec_json, SL_STORE_JSON_MAX, false);
	sl_arg_time(&a, ts);
	return write3(s, &a,
	              "INSERT INTO experiments (key, spec_json, stopped_at, created_at, updated_at) "
	              "VALUES (?1, ?2, NULL, ?3, ?3) ON CONFLICT (key) DO UPDATE SET spec_json = excluded.spec_json, "
	              "stopped_at = NULL, created_at = excluded.created_at, updated_at = excluded.updated_at",
	              key, spec_json, ts);
}

int sl_store_experiment_stop(struct sl_store *s, const char *key, double ts)
{
	struct sl_args a = {s, "experiment stop", 0};
	if (!s)
		return SL_EINVAL;
	sl_arg_text(&a, "key", key, SL_STORE_NAME_MAX, false);
	sl_arg_time(&a, ts);
	return write3(
	    s, &a,
	    "INSERT INTO experiments (key, spec_json, stopped_at, created_at, updated_at) "
	    "VALUES (?1, ?2, ?3, ?3, ?3) ON CONFLICT (key) DO UPDATE SET "
	    "stopped_at = coalesce(experiments.stopped_at, excluded.stopped_at), updated_at = excluded.updated_at",
	    key, NULL, ts);
}

/* The rows, handed to cb one by one; no write and no nested load may run from cb. */
static int emit_rows(struct sl_store *s, sqlite3_stmt *st, sl_store_experiment_cb cb, void *ctx)
{
	int rc = 0;
	s->reading++;
	while (rc == 0) {
		int src = sqlite3_step(st);
		if (src == SQLITE_DONE)
			break;
		if (src != SQLITE_ROW) {
			rc = sl_store_fail(s, src, "experiments load");
			break;
		}
		struct sl_store_experiment row = {.key = sl_col_text(st, 0, NULL)};
		row.spec_json = sl_col_text(st, 1, &row.spec_json_len);
		row.stopped_at = sl_col_double(st, 2);
		row.created_at = sl_col_double(st, 3);
		row.updated_at = sl_col_double(st, 4);
		rc = cb(ctx, &row);
	}
	s->reading--;
	return rc;
}

int sl_store_experiments_load(struct sl_store *s, sl_store_experiment_cb cb, void *ctx)
{
	sqlite3_stmt *st;
	if (!s || !cb)
		return SL_EINVAL;
	int rc = prepare(s, "SELECT key, spec_json, stopped_at, created_at, updated_at FROM experiments ORDER BY key",
	                 false, &st, "experiments load");
	if (rc)
		return rc;
	rc = emit_rows(s, st, cb, ctx);
	sqlite3_finalize(st);
	return rc;
}
