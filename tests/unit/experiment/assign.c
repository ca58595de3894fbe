/* assign.c: experiment assignment against GrowthBook's `run` cases (the ones sluice can
 * express, growthbook-run-cases.json beside this file), then namespaces as mutual exclusion,
 * the holdout, coverage and the time window on many synthetic units. */
#include <criterion/criterion.h>
#include <json-c/json.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "sluice/experiment.h"
#include "sluice/route.h"

#define RUN_CASES SLUICE_TEST_DATA "/../unit/experiment/growthbook-run-cases.json"

static void add(json_object *o, const char *k, json_object *v)
{
	json_object_object_add(o, k, v);
}

static json_object *copy(json_object *o)
{
	json_object *c = NULL;
	cr_assert_eq(json_object_deep_copy(o, &c, NULL), 0);
	return c;
}

/* A GrowthBook experiment as a sluice spec (hashVersion defaults to 1 in GrowthBook's run). */
static json_object *to_spec(json_object *gx)
{
	json_object *e = json_object_new_object(), *v, *vars = json_object_new_array(), *w = NULL;
	json_object_object_get_ex(gx, "weights", &w);
	json_object_object_get_ex(gx, "variations", &v);
	add(e, "key", copy(json_object_object_get(gx, "key")));
	add(e, "model", json_object_new_string("m"));
	for (size_t i = 0; i < json_object_array_length(v); i++) {
		json_object *var = json_object_new_object();
		char key[16];
		snprintf(key, sizeof(key), "v%zu", i);
		add(var, "key", json_object_new_string(key));
		add(var, "weight", w ? copy(json_object_array_get_idx(w, i)) : json_object_new_int(1));
		json_object_array_add(vars, var);
	}
	add(e, "variants", vars);
	json_object *x;
	if (json_object_object_get_ex(gx, "coverage", &x))
		add(e, "coverage", copy(x));
	if (json_object_object_get_ex(gx, "ranges", &x))
		add(e, "ranges", copy(x));
	if (json_object_object_get_ex(gx, "seed", &x))
		add(e, "seed", copy(x));
	add(e, "hash_version",
	    json_object_object_get_ex(gx, "hashVersion", &x) ? copy(x) : json_object_new_int(1));
	if (json_object_object_get_ex(gx, "namespace", &x)) {
		json_object *ns = json_object_new_object(), *r = json_object_new_array();
		add(ns, "id", copy(json_object_array_get_idx(x, 0)));
		json_object_array_add(r, copy(json_object_array_get_idx(x, 1)));
		json_object_array_add(r, copy(json_object_array_get_idx(x, 2)));
		add(ns, "range", r);
		add(e, "namespace", ns);
	}
	if (json_object_object_get_ex(gx, "filters", &x)) {
		json_object *fs = json_object_new_array();
		for (size_t i = 0; i < json_object_array_length(x); i++) {
			json_object *f = json_object_array_get_idx(x, i), *nf = json_object_new_object(), *y;
			add(nf, "seed", copy(json_object_object_get(f, "seed")));
			add(nf, "ranges", copy(json_object_object_get(f, "ranges")));
			if (json_object_object_get_ex(f, "hashVersion", &y))
				add(nf, "hash_version", copy(y));
			json_object_array_add(fs, nf);
		}
		add(e, "filters", fs);
	}
	if (json_object_object_get_ex(gx, "active", &x) && !json_object_get_boolean(x))
		add(e, "stop", json_object_new_string("1970-01-02T00:00:00Z"));
	json_object *root = json_object_new_object(), *list = json_object_new_array();
	json_object_array_add(list, e);
	add(root, "experiments", list);
	return root;
}

static int expected_index(json_object *gx, json_object *value)
{
	json_object *v = json_object_object_get(gx, "variations");
	for (size_t i = 0; i < json_object_array_length(v); i++)
		if (json_object_equal(json_object_array_get_idx(v, i), value))
			return (int)i;
	return -1;
}

static const char *case_id(json_object *ctx)
{
	json_object *attrs, *id;
	if (!json_object_object_get_ex(ctx, "attributes", &attrs) || !json_object_object_get_ex(attrs, "id", &id) ||
	    !json_object_is_type(id, json_type_string))
		return "";
	return json_object_get_string(id);
}

Test(assign, growthbook_run_cases)
{
	json_object *root = json_object_from_file(RUN_CASES), *cases;
	cr_assert_not_null(root, "cannot read %s", RUN_CASES);
	cr_assert(json_object_object_get_ex(root, "run", &cases));
	cr_assert_geq(json_object_array_length(cases), 50);
	for (size_t i = 0; i < json_object_array_length(cases); i++) {
		json_object *c = json_object_array_get_idx(cases, i), *gx = json_object_array_get_idx(c, 2);
		const char *name = json_object_get_string(json_object_array_get_idx(c, 0));
		json_object *spec = to_spec(gx);
		struct sl_experiment_set *set = NULL;
		char err[256];
		int rc = sl_experiments_from_json(json_object_to_json_string(spec), &set, err, sizeof(err));
		cr_assert_eq(rc, 0, "run[%zu] %s: spec refused: %s", i, name, err);
		int v = -1;
		bool in = sl_experiment_assign(&set->exps[0], sl_slice_cstr(case_id(json_object_array_get_idx(c, 1))),
		                               1e9, &v);
		bool want_in = json_object_get_boolean(json_object_array_get_idx(c, 4));
		cr_expect_eq(in, want_in, "run[%zu] %s: in experiment %d, want %d", i, name, in, want_in);
		if (in && want_in)
			cr_expect_eq(v, expected_index(gx, json_object_array_get_idx(c, 3)), "run[%zu] %s: variant %d", i,
			             name, v);
		sl_experiment_set_free(set);
		json_object_put(spec);
	}
	json_object_put(root);
}

static struct sl_experiment_set *load(const char *json)
{
	struct sl_experiment_set *s = NULL;
	char err[256];
	int rc = sl_experiments_from_json(json, &s, err, sizeof(err));
	cr_assert_eq(rc, 0, "%s", err);
	return s;
}

static struct sl_slice uid(char *buf, size_t cap, int i)
{
	int n = snprintf(buf, cap, "user-%d", i);
	return sl_slice_make(buf, (size_t)n);
}

/* Two experiments on halves of one namespace never share a unit and together cover all. */
Test(assign, namespaces_are_mutually_exclusive)
{
	struct sl_experiment_set *s = load(
	    "[{\"key\":\"x\",\"model\":\"m\",\"variants\":[{\"key\":\"a\"},{\"key\":\"b\"}],"
	    "\"namespace\":{\"id\":\"chat\",\"range\":[0,0.5]}},"
	    "{\"key\":\"y\",\"model\":\"m\",\"variants\":[{\"key\":\"a\"},{\"key\":\"b\"}],"
	    "\"namespace\":{\"id\":\"chat\",\"range\":[0.5,1]}}]");
	int inx = 0, iny = 0, v;
	char buf[32];
	for (int i = 0; i < 20000; i++) {
		bool a = sl_experiment_assign(&s->exps[0], uid(buf, sizeof(buf), i), 0, &v);
		bool b = sl_experiment_assign(&s->exps[1], uid(buf, sizeof(buf), i), 0, &v);
		cr_assert(!(a && b), "unit %d in both experiments", i);
		cr_assert(a || b, "unit %d in neither experiment", i);
		inx += a;
		iny += b;
	}
	cr_expect(inx > 9500 && inx < 10500, "x got %d of 20000", inx);
	sl_experiment_set_free(s);
}

Test(assign, coverage_weights_holdout_and_window)
{
	struct sl_experiment_set *s = load(
	    "{\"experiments\":[{\"key\":\"c\",\"model\":\"m\",\"coverage\":0.4,"
	    "\"variants\":[{\"key\":\"a\",\"weight\":1},{\"key\":\"b\",\"weight\":3}],"
	    "\"holdout\":{\"share\":0.1},\"start\":\"2025-01-01T00:00:00Z\",\"stop\":\"2025-02-01T00:00:00+01:00\"}]}");
	const struct sl_experiment *e = &s->exps[0];
	double t0, t1;
	cr_assert_eq(sl_exp_parse_time("2025-01-01T00:00:00Z", &t0), 0);
	cr_assert_eq(sl_exp_parse_time("2025-01-31T23:00:00Z", &t1), 0);
	cr_expect_eq(e->start, t0);
	cr_expect_eq(e->stop, t1);
	cr_expect_eq(e->nfilters, 1);
	int n[2] = {0, 0}, held = 0, v;
	char buf[32];
	for (int i = 0; i < 40000; i++) {
		struct sl_slice u = uid(buf, sizeof(buf), i);
		cr_assert(!sl_experiment_assign(e, u, t0 - 1, &v), "assigned before start");
		cr_assert(!sl_experiment_assign(e, u, t1, &v), "assigned at stop");
		bool hold = sl_gb_hash(SL_SLICE_LIT("sluice-holdout"), u, 2) < 0.1;
		held += hold;
		if (sl_experiment_assign(e, u, t0, &v)) {
			cr_assert(!hold, "unit %d of the holdout assigned", i);
			n[v]++;
		}
	}
	/* 90% outside the holdout, 40% coverage: 36% in, split 1:3. */
	double in = (n[0] + n[1]) / 40000.0;
	cr_expect(fabs(in - 0.36) < 0.015, "share in %.4f", in);
	cr_expect(fabs(n[1] / (double)(n[0] + n[1]) - 0.75) < 0.02, "b share %d/%d", n[1], n[0] + n[1]);
	cr_expect(fabs(held / 40000.0 - 0.1) < 0.01, "held %d", held);
	sl_experiment_stop(&s->exps[0], t0 + 10);
	cr_expect(!sl_experiment_assign(e, uid(buf, sizeof(buf), 1), t0 + 11, &v), "assigned after stop");
	sl_experiment_set_free(s);
}

Test(assign, empty_or_long_ids_are_not_assigned)
{
	struct sl_experiment_set *s = load("[{\"key\":\"x\",\"model\":\"m\",\"variants\":[{\"key\":\"a\"},{\"key\":\"b\"}]}]");
	char big[SL_EXP_UNIT_ID_MAX + 2];
	int v;
	memset(big, 'u', sizeof(big));
	cr_expect(!sl_experiment_assign(&s->exps[0], sl_slice_make("", 0), 0, &v));
	cr_expect(!sl_experiment_assign(&s->exps[0], sl_slice_make(big, sizeof(big)), 0, &v));
	cr_expect(sl_experiment_assign(&s->exps[0], sl_slice_make(big, SL_EXP_UNIT_ID_MAX), 0, &v));
	sl_experiment_set_free(s);
}
