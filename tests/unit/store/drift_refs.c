/* drift_refs.c: uploaded drift references are stored byte-exact per model version, replaced by a
 * second upload, cleared, bounded, kept across a reopen, and a version-1 database (before the
 * table existed) is upgraded in place to the current version with its data kept. */
#include <sqlite3.h>

#include "store_test.h"

static void setup(void)
{
	scratch_make("sluice.db");
}

TestSuite(store_drift_refs, .init = setup, .fini = scratch_remove);

struct seen {
	int n;
	char model[64], version[64], body[256];
	size_t len;
	int64_t rows;
	double ts;
};

static int collect(void *ctx, const char *model, const char *version, const void *body, size_t len, int64_t rows,
                   double ts)
{
	struct seen *s = ctx;
	s->n++;
	snprintf(s->model, sizeof(s->model), "%s", model);
	snprintf(s->version, sizeof(s->version), "%s", version);
	s->len = len < sizeof(s->body) ? len : sizeof(s->body) - 1;
	memcpy(s->body, body, s->len);
	s->body[s->len] = '\0';
	s->rows = rows, s->ts = ts;
	return 0;
}

Test(store_drift_refs, set_replace_clear_reopen)
{
	struct sl_store *s = store_open_ok(path);
	const char csv[] = "prompt_chars,latency_ms\n10,200\n\0binary";
	cr_assert_eq(sl_store_drift_ref_set(s, "chat", "v1", csv, sizeof(csv), 2, 100.5), 0);
	cr_assert_eq(sl_store_drift_ref_set(s, "chat", "v2", "x", 1, 0, 100.5), 0);
	cr_assert_eq(sl_store_drift_ref_set(s, "chat", "v2", "{\"a\":1}\n", 8, 1, 101), 0); /* replaces */
	cr_assert_eq(sl_store_drift_ref_clear(s, "chat", "v3"), 0);                        /* none: fine */
	sl_store_close(s);

	s = store_open_ok(path);
	struct seen w = {0};
	cr_assert_eq(sl_store_drift_refs_load(s, collect, &w), 0);
	cr_expect_eq(w.n, 2);
	cr_expect_str_eq(w.version, "v2"); /* ordered by model, version: v2 last */
	cr_expect_str_eq(w.body, "{\"a\":1}\n");
	cr_expect_eq(w.rows, 1);
	cr_expect_float_eq(w.ts, 101, 1e-12);
	cr_assert_eq(sl_store_drift_ref_clear(s, "chat", "v2"), 0);
	w = (struct seen){0};
	cr_assert_eq(sl_store_drift_refs_load(s, collect, &w), 0);
	cr_expect_eq(w.n, 1);
	cr_expect_str_eq(w.version, "v1");
	cr_expect_eq(w.len, sizeof(csv)); /* byte-exact, NUL included */
	cr_expect_eq(memcmp(w.body, csv, sizeof(csv)), 0);
	sl_store_close(s);
}

Test(store_drift_refs, bounds)
{
	struct sl_store *s = store_open_ok(path);
	cr_expect_eq(sl_store_drift_ref_set(s, "chat", "v1", "", 0, 0, 1), SL_EINVAL);
	cr_expect_eq(sl_store_drift_ref_set(s, "chat", "v1", "x", (size_t)SL_STORE_BLOB_MAX + 1, 0, 1), SL_ETOOBIG);
	cr_expect_eq(sl_store_drift_ref_set(s, "", "v1", "x", 1, 0, 1), SL_EINVAL);
	cr_expect_eq(sl_store_drift_ref_set(s, "chat", "v1", "x", 1, -1, 1), SL_EINVAL);
	cr_expect_eq(sl_store_drift_ref_set(s, "chat", "v1", "x", 1, 0, NAN), SL_EINVAL);
	cr_expect_eq(sl_store_drift_refs_load(s, NULL, NULL), SL_EINVAL);
	struct seen w = {0};
	cr_assert_eq(sl_store_drift_refs_load(s, collect, &w), 0);
	cr_expect_eq(w.n, 0);
	sl_store_close(s);
}

static void raw(const char *sql, char *out)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	cr_assert_eq(sqlite3_open(path, &db), SQLITE_OK);
	cr_assert_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK, "%s", sqlite3_errmsg(db));
	int rc = sqlite3_step(st);
	cr_assert(rc == SQLITE_ROW || rc == SQLITE_DONE, "%s", sqlite3_errmsg(db));
	if (out)
		snprintf(out, 128, "%s", rc == SQLITE_ROW ? (const char *)sqlite3_column_text(st, 0) : "");
	sqlite3_finalize(st);
	sqlite3_close(db);
}

Test(store_drift_refs, version_1_database_is_upgraded)
{
	int64_t id = 0;
	char v[128];
	struct sl_store *s = store_open_ok(path);
	cr_assert_eq(sl_store_rollout_create(s, "llama", "v1", "v2", "{}", "canary", "{}", 100.5, &id), 0);
	sl_store_close(s);
	/* what a version-1 sluice wrote: its tables only (later versions only add tables) */
	static const char v1[] = "('schema_version', 'rollouts', 'rollout_events', 'judgments', 'route_overrides', "
	                         "'feedback', 'drift_reports')";
	char q[512], later[128];
	for (;;) {
		snprintf(q, sizeof(q), "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT IN %s "
		         "AND name NOT LIKE 'sqlite_%%'", v1);
		raw(q, later);
		if (!later[0])
			break;
		snprintf(q, sizeof(q), "DROP TABLE \"%s\"", later);
		raw(q, NULL);
	}
	raw("UPDATE schema_version SET version = 1", NULL);
	raw("SELECT count(*) FROM sqlite_master WHERE name = 'drift_references'", v);
	cr_assert_str_eq(v, "0");

	s = store_open_ok(path);
	cr_expect_eq(sl_store_drift_ref_set(s, "chat", "v1", "a\n1\n", 4, 1, 5), 0);
	char err[256] = "";
	cr_expect_eq(sl_store_check(s, err, sizeof(err)), 0, "%s", err);
	sl_store_close(s);
	char want[16];
	snprintf(want, sizeof(want), "%d", SL_STORE_SCHEMA_VERSION);
	raw("SELECT version FROM schema_version", v);
	cr_expect_str_eq(v, want);
	raw("SELECT count(*) FROM schema_version", v);
	cr_expect_str_eq(v, "1");
	raw("SELECT count(*) FROM rollouts", v);
	cr_expect_str_eq(v, "1");
	raw("SELECT count(*) FROM drift_references", v);
	cr_expect_str_eq(v, "1");
}
