/* drift_refs.c: the reference files uploaded for live drift monitors, one per model version
 * (table drift_references, schema version 2), kept byte-exact so a restart re-reads them.
 * Invariants: at most one row per (model, version); a body is 1..SL_STORE_BLOB_MAX bytes. */
#include "store-int.h"

int sl_store_drift_ref_set(struct sl_store *s, const char *model, const char *version, const void *body,
                           size_t len, int64_t rows, double ts)
{
	struct sl_args a = {s, "drift reference set", 0};
	struct sl_binder b;
	sl_arg_text(&a, "model", model, SL_STORE_NAME_MAX, false);
	sl_arg_text(&a, "version", version, SL_STORE_NAME_MAX, false);
	if (!body || len == 0 || len > SL_STORE_BLOB_MAX)
		sl_arg_fail(&a, len > SL_STORE_BLOB_MAX ? SL_ETOOBIG : SL_EINVAL, "body", "empty or too large");
	if (rows < 0)
		sl_arg_fail(&a, SL_EINVAL, "rows", "negative");
	sl_arg_time(&a, ts);
	int rc = sl_binder_init(&b, &a, SL_Q_DRIFT_REF_SET, true);
	if (rc)
		return rc;
	sl_bind_text(&b, model);
	sl_bind_text(&b, version);
	sl_bind_blob(&b, body, len);
	sl_bind_int64(&b, rows);
	sl_bind_double(&b, ts);
	return sl_store_run_write(s, b.st, b.rc, a.what);
}

int sl_store_drift_ref_clear(struct sl_store *s, const char *model, const char *version)
{
	struct sl_args a = {s, "drift reference clear", 0};
	struct sl_binder b;
	sl_arg_text(&a, "model", model, SL_STORE_NAME_MAX, false);
	sl_arg_text(&a, "version", version, SL_STORE_NAME_MAX, false);
	int rc = sl_binder_init(&b, &a, SL_Q_DRIFT_REF_CLEAR, true);
	if (rc)
		return rc;
	sl_bind_text(&b, model);
	sl_bind_text(&b, version);
	return sl_store_run_write(s, b.st, b.rc, a.what);
}

struct ref_closure {
	sl_store_drift_ref_cb cb;
	void *ctx;
};

static int emit_ref(sqlite3_stmt *st, void *p)
{
	struct ref_closure *c = p;
	const void *body = sqlite3_column_blob(st, 2);
	size_t len = (size_t)sqlite3_column_bytes(st, 2);
	return c->cb(c->ctx, sl_col_text(st, 0, NULL), sl_col_text(st, 1, NULL), body ? body : "", len,
	             sqlite3_column_int64(st, 3), sqlite3_column_double(st, 4));
}

int sl_store_drift_refs_load(struct sl_store *s, sl_store_drift_ref_cb cb, void *ctx)
{
	sqlite3_stmt *st;
	struct ref_closure c = {cb, ctx};
	if (!cb)
		return SL_EINVAL;
	int rc = sl_store_stmt(s, SL_Q_DRIFT_REFS_LOAD, false, &st);
	return rc ? rc : sl_store_run_read(s, SL_Q_DRIFT_REFS_LOAD, 0, emit_ref, &c, "drift references load", NULL);
}
