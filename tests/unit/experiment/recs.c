/* recs.c: the offline recommendation metrics against Microsoft Recommenders' fixture
 * (recsys_beyond_accuracy in tests/data/ab-stats-vectors.json, copied from the shared oracles):
 * every expected value is reproduced within the fixture's tolerance (1e-4), and the edge cases
 * (unknown items and users, repeated rows, bad input) behave as documented in recs.h. */
#include <criterion/criterion.h>
#include <json-c/json.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sluice/recs.h"

#define VECTORS "/ab-stats-vectors.json"
#define TOL     1e-4
#define MAXROWS 64

static json_object *root, *fixture, *expected;
static struct sl_recs_row train[MAXROWS], reco[MAXROWS];
static size_t n_train, n_reco;
static struct sl_recs_eval *ev;

static json_object *get(json_object *o, const char *key)
{
	json_object *v = NULL;
	cr_assert(json_object_object_get_ex(o, key, &v), "field '%s' missing", key);
	return v;
}

static size_t read_rows(json_object *a, struct sl_recs_row *rows)
{
	size_t n = json_object_array_length(a);
	cr_assert_leq(n, MAXROWS);
	for (size_t i = 0; i < n; i++) {
		json_object *r = json_object_array_get_idx(a, i);
		rows[i].user = json_object_get_int64(json_object_array_get_idx(r, 0));
		rows[i].item = json_object_get_int64(json_object_array_get_idx(r, 1));
		rows[i].relevance =
		    json_object_array_length(r) > 2 ? json_object_get_double(json_object_array_get_idx(r, 2)) : 1;
	}
	return n;
}

/* Item features, in the file's key order. */
static void load_features(void)
{
	json_object *f = get(fixture, "item_features");
	int64_t items[MAXROWS];
	double vecs[MAXROWS * 8];
	size_t n = 0, dim = 0;
	json_object_object_foreach(f, key, val)
	{
		dim = json_object_array_length(val);
		cr_assert_leq(dim, 8);
		cr_assert_lt(n, MAXROWS);
		items[n] = strtoll(key, NULL, 10);
		for (size_t d = 0; d < dim; d++)
			vecs[n * dim + d] = json_object_get_double(json_object_array_get_idx(val, d));
		n++;
	}
	cr_assert_eq(sl_recs_eval_features(ev, items, vecs, n, dim), 0);
}

static void setup(void)
{
	root = json_object_from_file(SLUICE_TEST_DATA VECTORS);
	cr_assert_not_null(root, "cannot read %s: %s", SLUICE_TEST_DATA VECTORS, json_util_get_last_err());
	json_object *cases = get(root, "recsys_beyond_accuracy");
	cr_assert_gt(json_object_array_length(cases), 0);
	fixture = json_object_array_get_idx(cases, 0);
	expected = get(fixture, "expected");
	n_train = read_rows(get(fixture, "train"), train);
	n_reco = read_rows(get(fixture, "reco_user_item_relevance"), reco);
	cr_assert_eq(sl_recs_eval_new(train, n_train, reco, n_reco, &ev), 0);
	load_features();
}

static void teardown(void)
{
	sl_recs_eval_free(ev);
	json_object_put(root);
	ev = NULL, root = NULL;
}

static void near(double got, json_object *want, const char *what)
{
	double w = json_object_get_double(want);
	cr_expect(fabs(got - w) <= TOL, "%s: got %.6f, expected %.6f", what, got, w);
}

/* Checks a {"user": value} object through a per-user function. */
static void per_user(const char *field, double (*f)(const struct sl_recs_eval *, enum sl_recs_sim, int64_t),
                     enum sl_recs_sim s)
{
	json_object *o = get(expected, field);
	int checked = 0;
	json_object_object_foreach(o, key, val)
	{
		near(f(ev, s, strtoll(key, NULL, 10)), val, field);
		checked++;
	}
	cr_assert_gt(checked, 0);
}

static void per_row(const char *field, enum sl_recs_sim s)
{
	json_object *a = get(expected, field);
	cr_assert_eq(json_object_array_length(a), n_reco);
	double out[MAXROWS];
	cr_assert_eq(sl_recs_user_item_serendipity(ev, s, out), 0);
	for (size_t i = 0; i < n_reco; i++)
		near(out[i], json_object_array_get_idx(a, i), field);
}

TestSuite(recs_offline, .init = setup, .fini = teardown);

Test(recs_offline, coverage)
{
	near(sl_recs_catalog_coverage(ev), get(expected, "catalog_coverage"), "catalog_coverage");
	near(sl_recs_distributional_coverage(ev), get(expected, "distributional_coverage"), "distributional_coverage");
}

Test(recs_offline, novelty)
{
	json_object_object_foreach(get(expected, "item_novelty"), key, val)
	{
		near(sl_recs_item_novelty(ev, strtoll(key, NULL, 10)), val, "item_novelty");
	}
	near(sl_recs_novelty(ev), get(expected, "novelty"), "novelty");
	cr_expect(isnan(sl_recs_item_novelty(ev, 999)), "an item never trained on has no novelty");
}

Test(recs_offline, diversity_cooccurrence)
{
	per_user("user_diversity_cooc", sl_recs_user_diversity, SL_RECS_SIM_COOC);
	near(sl_recs_diversity(ev, SL_RECS_SIM_COOC), get(expected, "diversity_cooc"), "diversity_cooc");
}

Test(recs_offline, diversity_features)
{
	per_user("user_diversity_features", sl_recs_user_diversity, SL_RECS_SIM_FEATURES);
	near(sl_recs_diversity(ev, SL_RECS_SIM_FEATURES), get(expected, "diversity_features"), "diversity_features");
}

Test(recs_offline, serendipity_cooccurrence)
{
	per_row("user_item_serendipity_cooc", SL_RECS_SIM_COOC);
	per_user("user_serendipity_cooc", sl_recs_user_serendipity, SL_RECS_SIM_COOC);
	near(sl_recs_serendipity(ev, SL_RECS_SIM_COOC), get(expected, "serendipity_cooc"), "serendipity_cooc");
}

Test(recs_offline, serendipity_features)
{
	per_row("user_item_serendipity_features", SL_RECS_SIM_FEATURES);
	per_user("user_serendipity_features", sl_recs_user_serendipity, SL_RECS_SIM_FEATURES);
	near(sl_recs_serendipity(ev, SL_RECS_SIM_FEATURES), get(expected, "serendipity_features"),
	     "serendipity_features");
}

Test(recs_offline, similarity_definitions)
{
	/* items 3 and 4: users 2 and 3 have both; 3 appears twice, 4 three times */
	cr_expect_float_eq(sl_recs_similarity(ev, SL_RECS_SIM_COOC, 3, 4), 2 / sqrt(6), 1e-12);
	cr_expect_float_eq(sl_recs_similarity(ev, SL_RECS_SIM_COOC, 4, 3), 2 / sqrt(6), 1e-12);
	cr_expect_eq(sl_recs_similarity(ev, SL_RECS_SIM_COOC, 2, 5), 0, "no user has both");
	cr_expect_float_eq(sl_recs_similarity(ev, SL_RECS_SIM_COOC, 4, 4), 1, 1e-12);
	cr_expect_eq(sl_recs_similarity(ev, SL_RECS_SIM_FEATURES, 1, 42), 0, "unknown item");
	cr_expect(isnan(sl_recs_user_diversity(ev, SL_RECS_SIM_COOC, 77)), "unknown user");
}

TestSuite(recs_offline_edges);

Test(recs_offline_edges, repeated_rows_count_as_pandas_does)
{
	/* train: user 1 has item 1 twice; reco: user 1 gets items 1 and 2, user 2 only item 1 */
	struct sl_recs_row t[] = {{1, 1, 1}, {1, 1, 1}, {1, 2, 1}, {2, 2, 1}};
	struct sl_recs_row r[] = {{1, 1, 1}, {1, 2, 0.5}, {2, 1, 1}};
	struct sl_recs_eval *e;
	cr_assert_eq(sl_recs_eval_new(t, 4, r, 3, &e), 0);
	/* pairs (1,2) of user 1: 2 * 1 merged rows; count_1 = 2, count_2 = 2 */
	cr_expect_float_eq(sl_recs_similarity(e, SL_RECS_SIM_COOC, 1, 2), 2.0 / 2.0, 1e-12);
	cr_expect_float_eq(sl_recs_item_novelty(e, 1), 1.0, 1e-12);
	cr_expect(isnan(sl_recs_user_diversity(e, SL_RECS_SIM_COOC, 2)), "one item: no pair");
	cr_expect_float_eq(sl_recs_diversity(e, SL_RECS_SIM_COOC), 0.0, 1e-12);
	double out[3];
	cr_assert_eq(sl_recs_user_item_serendipity(e, SL_RECS_SIM_COOC, out), 0);
	cr_expect(isnan(out[2]) == false);
	sl_recs_eval_free(e);
}

Test(recs_offline_edges, bad_input_refused)
{
	struct sl_recs_row t[] = {{1, 1, 1}};
	struct sl_recs_row r[] = {{1, 1, NAN}};
	struct sl_recs_eval *e = NULL;
	cr_expect_eq(sl_recs_eval_new(NULL, 1, r, 1, &e), SL_EINVAL);
	cr_expect_eq(sl_recs_eval_new(t, 0, r, 1, &e), SL_EINVAL);
	cr_expect_eq(sl_recs_eval_new(t, 1, NULL, 1, &e), SL_EINVAL);
	cr_expect_eq(sl_recs_eval_new(t, 1, r, 1, &e), SL_EINVAL, "non-finite relevance");
	cr_expect_null(e);
	r[0].relevance = 1;
	cr_assert_eq(sl_recs_eval_new(t, 1, r, 1, &e), 0);
	int64_t items[] = {1, 1};
	double v[] = {1, 0, 0, 1};
	cr_expect_eq(sl_recs_eval_features(e, items, v, 2, 2), SL_EINVAL, "repeated item");
	items[1] = 2, v[3] = INFINITY;
	cr_expect_eq(sl_recs_eval_features(e, items, v, 2, 2), SL_EINVAL, "non-finite value");
	cr_expect_eq(sl_recs_eval_features(e, items, v, 2, 0), SL_EINVAL);
	sl_recs_eval_free(e);
}
