/* open.c: opening creates the database and its schema in WAL mode; reopening keeps the data; a
 * newer schema version, a foreign database, a non-database file and a bad path are refused with
 * a clear message, and nothing leaks on any of those paths. */
#include <sqlite3.h>

#include "store_test.h"

static void setup(void)
{
	scratch_make("sluice.db");
}

TestSuite(store_open, .init = setup, .fini = scratch_remove);

/* Runs sql on path through a raw connection, outside the store. */
static void raw_exec(const char *sql)
{
	sqlite3 *db = NULL;
	cr_assert_eq(sqlite3_open(path, &db), SQLITE_OK);
	char *msg = NULL;
	int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
	cr_assert_eq(rc, SQLITE_OK, "%s: %s", sql, msg ? msg : "?");
	sqlite3_free(msg);
	sqlite3_close(db);
}

/* First column of the first row of sql, as text, into out[128]. */
static void raw_query(const char *sql, char *out)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	cr_assert_eq(sqlite3_open(path, &db), SQLITE_OK);
	cr_assert_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK, "%s", sqlite3_errmsg(db));
	cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
	snprintf(out, 128, "%s", (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	sqlite3_close(db);
}

static void expect_refused(const char *p, int want, const char *msg)
{
	char err[512] = "";
	struct sl_store *s = (struct sl_store *)1;
	int rc = sl_store_open(p, &s, err, sizeof(err));
	cr_expect_eq(rc, want, "rc %s, want %s: %s", sl_errname(rc), sl_errname(want), err);
	cr_expect_null(s);
	cr_expect(strstr(err, msg) != NULL, "error '%s' lacks '%s'", err, msg);
	cr_expect(strchr(err, '\n') == NULL);
}

Test(store_open, creates_schema_in_wal_mode)
{
	char v[128];
	struct sl_store *s = store_open_ok(path);
	cr_expect_eq(access(path, F_OK), 0);
	char err[256] = "";
	cr_expect_eq(sl_store_check(s, err, sizeof(err)), 0, "%s", err);
	cr_expect_str_eq(sl_store_errmsg(s), "no error");
	raw_query("PRAGMA journal_mode", v);
	cr_expect_str_eq(v, "wal");
	char want[16];
	snprintf(want, sizeof(want), "%d", SL_STORE_SCHEMA_VERSION);
	raw_query("SELECT version FROM schema_version", v);
	cr_expect_str_eq(v, want);
	raw_query("PRAGMA application_id", v);
	cr_expect_str_eq(v, "1397506885"); /* 'SLCE' */
	raw_query("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN "
	          "('rollouts', 'rollout_events', 'judgments', 'route_overrides', 'feedback')",
	          v);
	cr_expect_str_eq(v, "5");
	sl_store_close(s);
}

static int first_rollout(void *ctx, const struct sl_store_rollout *r)
{
	*(int64_t *)ctx = r->id;
	return 0;
}

Test(store_open, reopen_keeps_data)
{
	int64_t id = 0, seen = 0;
	struct sl_store *s = store_open_ok(path);
	cr_assert_eq(sl_store_rollout_create(s, "llama", "v1", "v2", "{}", "canary", "{}", 100.5, &id), 0);
	cr_assert_eq(sl_store_override_set(s, "llama", "v1", "v2", 0.05, 0, 101), 0);
	sl_store_close(s);
	for (int i = 0; i < 3; i++) {
		s = store_open_ok(path);
		cr_expect_eq(sl_store_rollout_get(s, id, first_rollout, &seen), 0);
		cr_expect_eq(seen, id);
		struct rows w = {0};
		cr_expect_eq(sl_store_overrides_load(s, collect_override, &w), 0);
		cr_expect_eq(w.n, 1);
		cr_expect_float_eq(w.ov[0].candidate_share, 0.05, 1e-15);
		rows_reset(&w);
		sl_store_close(s);
	}
	char v[128];
	raw_query("SELECT count(*) FROM schema_version", v);
	cr_expect_str_eq(v, "1", "reopening must not add version rows");
}

Test(store_open, newer_schema_refused)
{
	char sql[64], msg[160], want[400], v[128], newer[16];
	int next = SL_STORE_SCHEMA_VERSION + 1;
	sl_store_close(store_open_ok(path));
	snprintf(sql, sizeof(sql), "UPDATE schema_version SET version = %d", next);
	raw_exec(sql);
	snprintf(msg, sizeof(msg), "schema version %d is newer than this sluice understands (%d); upgrade sluice", next,
	         SL_STORE_SCHEMA_VERSION);
	expect_refused(path, SL_ESTATE, msg);
	char err[512];
	struct sl_store *s;
	sl_store_open(path, &s, err, sizeof(err));
	snprintf(want, sizeof(want), "cannot open '%s': schema version %d", path, next);
	cr_expect(strncmp(err, want, strlen(want)) == 0, "%s", err);
	/* the refusal changed nothing */
	raw_query("SELECT version FROM schema_version", v);
	snprintf(newer, sizeof(newer), "%d", next);
	cr_expect_str_eq(v, newer);
}

Test(store_open, missing_version_refused)
{
	sl_store_close(store_open_ok(path));
	raw_exec("DELETE FROM schema_version");
	expect_refused(path, SL_ESTATE, "schema_version holds no valid version");
}

Test(store_open, foreign_database_refused)
{
	raw_exec("CREATE TABLE t (x); INSERT INTO t VALUES (1)");
	expect_refused(path, SL_EINVAL, "not a sluice database");
	char v[128];
	raw_query("SELECT count(*) FROM sqlite_master", v);
	cr_expect_str_eq(v, "1", "a foreign database must be left alone");
}

Test(store_open, not_a_database_refused)
{
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f);
	for (int i = 0; i < 200; i++)
		fputs("this is not an sqlite database, just text. ", f);
	fclose(f);
	expect_refused(path, SL_EIO, "file is not a database");
}

Test(store_open, bad_path_has_clear_error)
{
	char bad[300], want[400];
	snprintf(bad, sizeof(bad), "%s/no/such/dir/x.db", dir);
	snprintf(want, sizeof(want), "cannot open '%s': unable to open database file", bad);
	expect_refused(bad, SL_EIO, want);
	expect_refused(dir, SL_EIO, "cannot open");
	expect_refused("", SL_EINVAL, "cannot open database: empty or overlong path");
	expect_refused(NULL, SL_EINVAL, "empty or overlong path");
	cr_expect_neq(access(bad, F_OK), 0);
}

Test(store_open, read_only_file_refused)
{
	if (geteuid() == 0) {
		scratch_remove(); /* a skipped test does not run .fini */
		cr_skip_test("root ignores file permissions");
	}
	sl_store_close(store_open_ok(path));
	cr_assert_eq(chmod(path, 0444), 0);
	expect_refused(path, SL_EIO, "cannot open");
}

Test(store_open, close_null_is_noop)
{
	sl_store_close(NULL);
}
