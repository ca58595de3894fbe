/* experiments.c: experiment rows: an API-declared spec and a stop survive a reopen; the first
 * stop time is kept; a stop of a configuration experiment keeps no spec; declaring again clears
 * the stop; bad arguments and invalid JSON are refused; a version-2 database is upgraded. */
#include <sqlite3.h>

#include "store_test.h"

#define EXP_MAX 8

struct exp_rows {
	size_t n;
	char key[EXP_MAX][64], spec[EXP_MAX][256];
	bool has_spec[EXP_MAX];
	double stopped_at[EXP_MAX], created_at[EXP_MAX];
};

static int collect(void *ctx, const struct sl_store_experiment *row)
{
	struct exp_rows *w = ctx;
	cr_assert_lt(w->n, EXP_MAX);
	size_t i = w->n++;
	snprintf(w->key[i], sizeof(w->key[i]), "%s", row->key);
	w->has_spec[i] = row->spec_json != NULL;
	snprintf(w->spec[i], sizeof(w->spec[i]), "%.*s", (int)row->spec_json_len, row->spec_json ? row->spec_json : "");
	w->stopped_at[i] = row->stopped_at;
	w->created_at[i] = row->created_at;
	return 0;
}

static struct sl_store *s;

static void setup(void)
{
	scratch_make("x.db");
	s = store_open_ok(path);
}

static void teardown(void)
{
	sl_store_close(s);
	scratch_remove();
}

TestSuite(store_experiments, .init = setup, .fini = teardown);

Test(store_experiments, declare_and_stop_survive_reopen)
{
	struct exp_rows w = {0};
	cr_assert_eq(sl_store_experiment_declare(s, "tone", "{\"key\":\"tone\"}", 10), 0);
	cr_assert_eq(sl_store_experiment_stop(s, "cfg-exp", 20), 0);
	cr_assert_eq(sl_store_experiment_stop(s, "tone", 30), 0);
	cr_assert_eq(sl_store_experiment_stop(s, "tone", 40), 0); /* the first stop is kept */
	sl_store_close(s);
	s = store_open_ok(path);
	cr_assert_eq(sl_store_experiments_load(s, collect, &w), 0);
	cr_assert_eq(w.n, 2);
	cr_expect_str_eq(w.key[0], "cfg-exp");
	cr_expect_not(w.has_spec[0]);
	cr_expect_eq(w.stopped_at[0], 20);
	cr_expect_str_eq(w.key[1], "tone");
	cr_expect_str_eq(w.spec[1], "{\"key\":\"tone\"}");
	cr_expect_eq(w.stopped_at[1], 30);
	cr_expect_eq(w.created_at[1], 10);
}

Test(store_experiments, declaring_again_clears_the_stop)
{
	struct exp_rows w = {0};
	cr_assert_eq(sl_store_experiment_stop(s, "k", 5), 0);
	cr_assert_eq(sl_store_experiment_declare(s, "k", "{\"v\":2}", 6), 0);
	cr_assert_eq(sl_store_experiments_load(s, collect, &w), 0);
	cr_assert_eq(w.n, 1);
	cr_expect(isnan(w.stopped_at[0]));
	cr_expect_str_eq(w.spec[0], "{\"v\":2}");
}

Test(store_experiments, bad_arguments_refused)
{
	struct exp_rows w = {0};
	char longkey[SL_STORE_NAME_MAX + 2];
	memset(longkey, 'k', sizeof(longkey) - 1);
	longkey[sizeof(longkey) - 1] = '\0';
	cr_expect_eq(sl_store_experiment_declare(s, "", "{}", 1), SL_EINVAL);
	cr_expect_eq(sl_store_experiment_declare(s, longkey, "{}", 1), SL_ETOOBIG);
	cr_expect_eq(sl_store_experiment_declare(s, "k", NULL, 1), SL_EINVAL);
	cr_expect_eq(sl_store_experiment_declare(s, "k", "{}", NAN), SL_EINVAL);
	cr_expect_neq(sl_store_experiment_declare(s, "k", "{not json", 1), 0);
	cr_expect_eq(sl_store_experiment_stop(s, NULL, 1), SL_EINVAL);
	cr_expect_eq(sl_store_experiments_load(s, NULL, NULL), SL_EINVAL);
	cr_assert_eq(sl_store_experiments_load(s, collect, &w), 0);
	cr_expect_eq(w.n, 0, "a refused write leaves nothing behind");
}

static int write_inside(void *ctx, const struct sl_store_experiment *row)
{
	(void)row;
	return sl_store_experiment_stop(ctx, "other", 1);
}

Test(store_experiments, no_write_from_a_read_callback)
{
	cr_assert_eq(sl_store_experiment_declare(s, "k", "{}", 1), 0);
	cr_expect_eq(sl_store_experiments_load(s, write_inside, s), SL_ESTATE);
}

Test(store_experiments, version_2_database_upgraded)
{
	sl_store_close(s);
	sqlite3 *db;
	cr_assert_eq(sqlite3_open(path, &db), SQLITE_OK);
	cr_assert_eq(
	    sqlite3_exec(db, "DROP TABLE experiments; UPDATE schema_version SET version = 2", NULL, NULL, NULL),
	    SQLITE_OK);
	sqlite3_close(db);
	s = store_open_ok(path);
	cr_expect_eq(sl_store_experiment_declare(s, "k", "{}", 1), 0);
}
