/* table.c: route tables built from an in-memory config: split proportions (sticky and random),
 * stickiness, agreement with GrowthBook's bucketing, the monotone canary ramp, zero weights and
 * upstream round robin. Proportions are checked within 5 standard deviations of the binomial
 * count: the sticky hash is deterministic and the rng is seeded, so a pass is reproducible. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sluice/route.h"

/* Under ASan, a leak fails the test where it happens (Criterion ignores LeakSanitizer's exit report). */
#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/lsan_interface.h>
#define LEAK_CHECK() cr_expect_eq(__lsan_do_recoverable_leak_check(), 0, "memory leaked: see LeakSanitizer above")
#else
#define LEAK_CHECK() ((void)0)
#endif

#define MAXV 8
#define MAXU 4

/* One model "chat" with up to MAXV versions "v0".."v7"; version i has nups[i] upstreams. */
struct fixture {
	struct sl_config cfg;
	struct sl_cfg_model model;
	struct sl_cfg_version ver[MAXV];
	char names[MAXV][8];
	char urls[MAXV][MAXU][64];
	char *ups[MAXV][MAXU];
};

static void fixture_init(struct fixture *f, const double *weights, size_t n)
{
	memset(f, 0, sizeof(*f));
	cr_assert_leq(n, MAXV);
	for (size_t i = 0; i < n; i++) {
		snprintf(f->names[i], sizeof(f->names[i]), "v%zu", i);
		for (size_t u = 0; u < MAXU; u++) {
			snprintf(f->urls[i][u], sizeof(f->urls[i][u]), "http://127.0.0.%zu:%zu/base/", u + 1, 8100 + i);
			f->ups[i][u] = f->urls[i][u];
		}
		f->ver[i] = (struct sl_cfg_version){
		    .name = f->names[i], .upstreams = f->ups[i], .upstreams_count = 1, .weight = weights[i]};
	}
	f->model = (struct sl_cfg_model){.name = "chat", .versions = f->ver, .versions_count = (unsigned)n};
	f->cfg = (struct sl_config){.models = &f->model, .models_count = 1};
}

static struct sl_route_table *table_of(const double *weights, size_t n)
{
	struct fixture f;
	fixture_init(&f, weights, n);
	struct sl_route_table *t = sl_route_table_new(&f.cfg, 1);
	cr_assert_not_null(t);
	return t;
}

static void table_free(struct sl_route_table *t)
{
	sl_route_table_free(t);
	LEAK_CHECK();
}

static size_t pick_key(const struct sl_route_model *m, int user)
{
	char key[32];
	int len = snprintf(key, sizeof(key), "user-%d", user);
	struct sl_route_version *v = sl_route_pick(m, sl_slice_make(key, (size_t)len), NULL);
	cr_assert_not_null(v, "no version for user-%d", user);
	return v->index;
}

/* Counts of |count - n p| within 5 binomial standard deviations, for every version. */
static void expect_split(const size_t *counts, const double *weights, size_t nv, size_t n, const char *what)
{
	double total = 0;
	for (size_t i = 0; i < nv; i++)
		total += weights[i];
	for (size_t i = 0; i < nv; i++) {
		double p = weights[i] / total, mean = (double)n * p, sd = sqrt((double)n * p * (1 - p));
		cr_expect(fabs((double)counts[i] - mean) <= 5 * sd + 1e-9,
		          "%s: version %zu got %zu of %zu, expected %.0f +- %.0f", what, i, counts[i], n, mean, 5 * sd);
	}
}

static void sticky_split(const double *weights, size_t nv)
{
	enum { USERS = 100000 };
	struct sl_route_table *t = table_of(weights, nv);
	size_t counts[MAXV] = {0};
	for (int u = 0; u < USERS; u++)
		counts[pick_key(&t->models[0], u)]++;
	expect_split(counts, weights, nv, USERS, "sticky");
	table_free(t);
}

static void random_split(const double *weights, size_t nv, uint64_t seed)
{
	enum { PICKS = 100000 };
	struct sl_route_table *t = table_of(weights, nv);
	struct sl_rng rng;
	size_t counts[MAXV] = {0};
	sl_rng_seed(&rng, seed);
	for (int i = 0; i < PICKS; i++) {
		struct sl_route_version *v = sl_route_pick(&t->models[0], sl_slice_make("", 0), &rng);
		cr_assert_not_null(v);
		counts[v->index]++;
	}
	expect_split(counts, weights, nv, PICKS, "random");
	table_free(t);
}

Test(route_split, sticky_90_10)
{
	sticky_split((double[]){90, 10}, 2);
}

Test(route_split, sticky_1_5_25_69)
{
	sticky_split((double[]){1, 5, 25, 69}, 4);
}

Test(route_split, random_90_10)
{
	random_split((double[]){90, 10}, 2, 42);
}

Test(route_split, random_1_5_25_69)
{
	random_split((double[]){1, 5, 25, 69}, 4, 7);
}

Test(route_split, weights_need_not_sum_to_100)
{
	sticky_split((double[]){0.3, 0.7}, 2);
	random_split((double[]){3000, 1000}, 2, 1);
}

Test(route_sticky, same_key_same_version)
{
	double w[] = {1, 5, 25, 69};
	struct sl_route_table *t = table_of(w, 4), *t2 = table_of(w, 4);
	struct sl_rng rng;
	sl_rng_seed(&rng, 3);
	for (int u = 0; u < 5000; u++) {
		size_t first = pick_key(&t->models[0], u);
		for (int k = 0; k < 4; k++)
			cr_assert_eq(pick_key(&t->models[0], u), first, "user-%d moved", u);
		/* The rng is not consulted for a keyed pick, and a rebuilt table agrees. */
		char key[32];
		int len = snprintf(key, sizeof(key), "user-%d", u);
		cr_assert_eq(sl_route_pick(&t->models[0], sl_slice_make(key, (size_t)len), &rng)->index, first);
		cr_assert_eq(pick_key(&t2->models[0], u), first, "user-%d differs between tables", u);
	}
	table_free(t);
	table_free(t2);
}

Test(route_sticky, key_is_a_slice)
{
	struct sl_route_table *t = table_of((double[]){50, 50}, 2);
	const char buf[] = "user-17 and trailing bytes";
	struct sl_route_version *a = sl_route_pick(&t->models[0], sl_slice_make(buf, 7), NULL);
	cr_expect_eq(a->index, pick_key(&t->models[0], 17));
	table_free(t);
}

/* A keyed pick is GrowthBook's chooseVariation(hash(seed, key, 2), getBucketRanges(n, 1, w)). */
static void expect_growthbook_choice(const char *seed_cfg, const char *seed_used)
{
	double w[] = {10, 20, 30, 40}, norm[4];
	struct fixture f;
	fixture_init(&f, w, 4);
	f.model.hash_seed = (char *)seed_cfg;
	struct sl_route_table *t = sl_route_table_new(&f.cfg, 1);
	cr_assert_not_null(t);
	cr_expect_str_eq(t->models[0].seed, seed_used);
	for (int i = 0; i < 4; i++)
		norm[i] = w[i] / 100;
	double ranges[4][2];
	sl_gb_bucket_ranges(4, 1, norm, 4, ranges);
	for (int u = 0; u < 20000; u++) {
		char key[32];
		int len = snprintf(key, sizeof(key), "user-%d", u);
		struct sl_slice k = sl_slice_make(key, (size_t)len);
		int want = sl_gb_choose(sl_gb_hash(sl_slice_cstr(seed_used), k, 2), (const double(*)[2])ranges, 4);
		cr_assert_eq((int)sl_route_pick(&t->models[0], k, NULL)->index, want, "user-%d", u);
	}
	table_free(t);
}

Test(route_sticky, agrees_with_growthbook_default_seed)
{
	expect_growthbook_choice(NULL, "chat");
}

Test(route_sticky, agrees_with_growthbook_hash_seed)
{
	expect_growthbook_choice("chat-2024", "chat-2024");
}

/* Ramps the last of nv versions through 1, 5, 25, 50, 100 (the others share the rest equally):
 * a user once on the last version stays there at every later step. */
static void ramp(size_t nv)
{
	enum { USERS = 20000 };
	static const double steps[] = {1, 5, 25, 50, 100};
	static bool on_last[USERS];
	memset(on_last, 0, sizeof(on_last));
	size_t prev_count = 0;
	for (size_t s = 0; s < sizeof(steps) / sizeof(steps[0]); s++) {
		double w[MAXV];
		for (size_t i = 0; i + 1 < nv; i++)
			w[i] = (100 - steps[s]) / (double)(nv - 1);
		w[nv - 1] = steps[s];
		struct sl_route_table *t = table_of(w, nv);
		size_t count = 0;
		for (int u = 0; u < USERS; u++) {
			bool last = pick_key(&t->models[0], u) == nv - 1;
			cr_assert(last || !on_last[u], "user-%d left the last version at weight %g", u, steps[s]);
			on_last[u] = last;
			count += last;
		}
		cr_expect_geq(count, prev_count);
		prev_count = count;
		table_free(t);
	}
	cr_expect_eq(prev_count, USERS, "at weight 100 every user is on the last version");
}

Test(route_ramp, two_versions_monotone)
{
	ramp(2);
}

Test(route_ramp, four_versions_monotone)
{
	ramp(4);
}

Test(route_zero, zero_weight_never_picked)
{
	double w[] = {0, 50, 0, 50, 0};
	struct sl_route_table *t = table_of(w, 5);
	struct sl_rng rng;
	size_t counts[5] = {0};
	sl_rng_seed(&rng, 99);
	for (int u = 0; u < 20000; u++) {
		counts[pick_key(&t->models[0], u)]++;
		counts[sl_route_pick(&t->models[0], sl_slice_make("", 0), &rng)->index]++;
	}
	cr_expect_eq(counts[0], 0);
	cr_expect_eq(counts[2], 0);
	cr_expect_eq(counts[4], 0);
	cr_expect_eq(counts[1] + counts[3], 40000);
	table_free(t);
}

Test(route_zero, single_live_version_takes_all)
{
	struct sl_route_table *t = table_of((double[]){0, 0, 7}, 3);
	for (int u = 0; u < 5000; u++)
		cr_assert_eq(pick_key(&t->models[0], u), 2);
	table_free(t);
}

Test(route_zero, all_zero_picks_nothing)
{
	struct sl_route_table *t = table_of((double[]){0, 0}, 2);
	struct sl_rng rng;
	sl_rng_seed(&rng, 1);
	cr_expect_null(sl_route_pick(&t->models[0], SL_SLICE_LIT("user-1"), NULL));
	cr_expect_null(sl_route_pick(&t->models[0], sl_slice_make("", 0), &rng));
	table_free(t);
}

Test(route_table, ranges_are_contiguous_and_normalized)
{
	double w[] = {1, 5, 0, 25, 69, 0};
	struct sl_route_table *t = table_of(w, 6);
	const struct sl_route_model *m = &t->models[0];
	double sum = 0, at = 0;
	cr_expect_eq(t->generation, 1);
	cr_assert_eq(m->nversions, 6);
	for (size_t i = 0; i < m->nversions; i++) {
		const struct sl_route_version *v = &m->versions[i];
		cr_expect_eq(v->index, i);
		cr_expect_eq(v->lo, at, "version %zu starts at %g, previous ended at %g", i, v->lo, at);
		cr_expect_leq(v->lo, v->hi);
		cr_expect(fabs(v->weight - w[i] / 100) < 1e-12);
		sum += v->weight;
		at = v->hi;
	}
	cr_expect(fabs(sum - 1) < 1e-12);
	cr_expect_eq(m->versions[4].hi, 1.0, "the last live version closes at 1");
	cr_expect_eq(m->versions[5].lo, m->versions[5].hi);
	table_free(t);
}

Test(route_table, names_upstream_model_and_api_key)
{
	struct fixture f;
	fixture_init(&f, (double[]){1, 1}, 2);
	f.ver[0].upstream_model = "sim-v0";
	f.ver[0].api_key_env = "SLUICE_TEST_ROUTE_KEY";
	f.ver[1].api_key_env = "SLUICE_TEST_ROUTE_UNSET";
	setenv("SLUICE_TEST_ROUTE_KEY", "sk-test", 1);
	unsetenv("SLUICE_TEST_ROUTE_UNSET");
	struct sl_route_table *t = sl_route_table_new(&f.cfg, 7);
	cr_assert_not_null(t);
	const struct sl_route_model *m = sl_route_find(t, SL_SLICE_LIT("chat"));
	cr_assert_eq(m, &t->models[0]);
	cr_expect_eq(t->generation, 7);
	cr_expect_str_eq(m->versions[0].name, "v0");
	cr_expect_str_eq(m->versions[0].upstream_model, "sim-v0");
	cr_expect_str_eq(m->versions[1].upstream_model, "v1", "upstream_model defaults to the version name");
	cr_expect_str_eq(m->versions[0].api_key, "sk-test");
	cr_expect_null(m->versions[1].api_key);
	cr_expect_eq(m->versions[0].upstreams[0].port, 8100);
	cr_expect_str_eq(m->versions[0].upstreams[0].host, "127.0.0.1");
	cr_expect_str_eq(m->versions[0].upstreams[0].base, "/base");
	/* The table owns its strings: the config may go away. */
	cr_expect_neq(m->versions[0].name, f.ver[0].name);
	table_free(t);
}

Test(route_table, find_by_slice)
{
	struct fixture f;
	fixture_init(&f, (double[]){1}, 1);
	struct sl_cfg_model models[2] = {f.model, f.model};
	models[1].name = "embed";
	f.cfg.models = models;
	f.cfg.models_count = 2;
	struct sl_route_table *t = sl_route_table_new(&f.cfg, 1);
	cr_assert_not_null(t);
	const char buf[] = "embedding";
	cr_expect_eq(sl_route_find(t, sl_slice_make(buf, 5)), &t->models[1]);
	cr_expect_eq(sl_route_find(t, SL_SLICE_LIT("chat")), &t->models[0]);
	cr_expect_null(sl_route_find(t, sl_slice_make(buf, 9)));
	cr_expect_null(sl_route_find(t, SL_SLICE_LIT("cha")));
	cr_expect_null(sl_route_find(t, sl_slice_make("", 0)));
	table_free(t);
}

Test(route_table, free_null)
{
	sl_route_table_free(NULL);
}

Test(route_upstream, round_robin)
{
	struct fixture f;
	fixture_init(&f, (double[]){1, 1}, 2);
	f.ver[0].upstreams_count = 3;
	struct sl_route_table *t = sl_route_table_new(&f.cfg, 1);
	cr_assert_not_null(t);
	struct sl_route_version *v = &t->models[0].versions[0];
	cr_assert_eq(v->nupstreams, 3);
	for (size_t i = 0; i < 30; i++) {
		size_t idx = 99;
		const struct sl_url *u = sl_route_next_upstream(v, &idx);
		cr_expect_eq(idx, i % 3);
		cr_expect_eq(u, &v->upstreams[i % 3]);
		char host[16];
		snprintf(host, sizeof(host), "127.0.0.%zu", i % 3 + 1);
		cr_expect_str_eq(u->host, host);
	}
	cr_expect_eq(sl_route_next_upstream(v, NULL), &v->upstreams[0], "idx may be NULL");
	struct sl_route_version *one = &t->models[0].versions[1];
	for (int i = 0; i < 5; i++)
		cr_expect_eq(sl_route_next_upstream(one, NULL), &one->upstreams[0]);
	table_free(t);
}
