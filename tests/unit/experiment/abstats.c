/* abstats.c: sluice's A/B statistics against GrowthBook's published figures
 * (tests/data/ab-stats-vectors.json, see tests/data/README.md): every frequentist, sequential,
 * bayesian, SRM, multiple-testing and delta-method vector, each compared at the rounding its
 * source uses (|x - expected| <= 0.5 10^-k, what "round(x, k) == expected" implies). */
#include <criterion/criterion.h>
#include <json-c/json.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sluice/abstats.h"

#define VECTORS SLUICE_TEST_DATA "/ab-stats-vectors.json"

static json_object *root;

static void setup(void)
{
	root = json_object_from_file(VECTORS);
	cr_assert_not_null(root, "cannot read %s: %s", VECTORS, json_util_get_last_err());
}

static void teardown(void)
{
	json_object_put(root);
}

TestSuite(abstats, .init = setup, .fini = teardown);

static json_object *get(json_object *o, const char *key)
{
	json_object *v = NULL;
	cr_assert(json_object_object_get_ex(o, key, &v), "key '%s' missing", key);
	return v;
}

static bool has(json_object *o, const char *key)
{
	return json_object_object_get_ex(o, key, NULL);
}

/* A number, or "inf"/"-inf". */
static double num(json_object *v)
{
	if (json_object_is_type(v, json_type_string)) {
		const char *s = json_object_get_string(v);
		cr_assert(!strcmp(s, "inf") || !strcmp(s, "-inf"), "not a number: %s", s);
		return s[0] == '-' ? -INFINITY : INFINITY;
	}
	return json_object_get_double(v);
}

static double numk(json_object *o, const char *key)
{
	return num(get(o, key));
}

static json_object *find(const char *section, const char *name)
{
	json_object *s = get(root, section);
	for (size_t i = 0; i < json_object_array_length(s); i++) {
		json_object *v = json_object_array_get_idx(s, i);
		if (!strcmp(json_object_get_string(get(v, "name")), name))
			return v;
	}
	cr_assert_fail("vector %s/%s missing", section, name);
	return NULL;
}

/* |x - e| within half a unit of the k-th decimal (k < 0: relative 1e-12, "exact"). */
static void near(double x, double e, int k, const char *what)
{
	if (isinf(e)) {
		cr_expect(x == e, "%s: %.17g, expected %g", what, x, e);
		return;
	}
	double tol = k < 0 ? 1e-12 * fmax(1, fabs(e)) : 0.5 * pow(10, -k) * (1 + 1e-9);
	cr_expect(fabs(x - e) <= tol, "%s: %.17g, expected %.17g (tolerance %g)", what, x, e, tol);
}

static int rounding(json_object *v)
{
	json_object *r = NULL;
	if (!json_object_object_get_ex(v, "rounding", &r) || !json_object_is_type(r, json_type_int))
		return -1;
	return json_object_get_int(r);
}

/* An arm from its JSON form; a string ("as above") keeps the previous arm. */
static void arm(json_object *j, struct sl_ab_stat *s)
{
	if (json_object_is_type(j, json_type_string))
		return;
	const char *type = json_object_get_string(get(j, "type"));
	if (!strcmp(type, "mean") || !strcmp(type, "proportion")) {
		bool prop = !strcmp(type, "proportion");
		sl_ab_stat_init(s, prop ? SL_AB_PROPORTION : SL_AB_MEAN);
		s->n = numk(j, "n"), s->sum = numk(j, "sum");
		s->sum_sq = prop ? s->sum : numk(j, "sum_squares");
	} else if (!strcmp(type, "ratio")) {
		sl_ab_stat_init(s, SL_AB_RATIO);
		s->n = numk(j, "n"), s->sum = numk(j, "main_sum"), s->sum_sq = numk(j, "main_sum_squares");
		s->d_sum = numk(j, "denominator_sum"), s->d_sum_sq = numk(j, "denominator_sum_squares");
		s->yd_sum = numk(j, "main_denominator_sum_product");
	} else if (!strcmp(type, "cuped")) {
		sl_ab_stat_init(s, SL_AB_CUPED);
		json_object *post = get(j, "post"), *pre = get(j, "pre");
		s->n = numk(j, "n"), s->sum = numk(post, "sum"), s->sum_sq = numk(post, "sum_squares");
		s->x_sum = numk(pre, "sum"), s->x_sum_sq = numk(pre, "sum_squares");
		s->yx_sum = numk(j, "post_pre_sum_of_products");
	} else if (!strcmp(type, "quantile")) {
		sl_ab_stat_init(s, SL_AB_QUANTILE);
		s->n = numk(j, "n"), s->q_n_star = numk(j, "n_star"), s->q_nu = numk(j, "nu");
		s->q_hat = numk(j, "quantile_hat"), s->q_lo = numk(j, "lower"), s->q_hi = numk(j, "upper");
	} else {
		cr_assert_fail("unknown arm type %s", type);
	}
}

static void opts_of(json_object *v, struct sl_ab_opts *o)
{
	sl_ab_opts_init(o);
	if (has(v, "alpha"))
		o->alpha = numk(v, "alpha");
	if (has(v, "difference"))
		o->relative = !strcmp(json_object_get_string(get(v, "difference")), "relative");
	if (has(v, "tau"))
		o->n_star = numk(v, "tau");
}

/* Compares x with e[key] (a number) or e[key][idx] (idx >= 0) when e has key. */
static void chk(double x, json_object *e, const char *key, int idx, int k, const char *name)
{
	if (!has(e, key))
		return;
	char what[128];
	json_object *v = get(e, key);
	if (idx >= 0)
		v = json_object_array_get_idx(v, (size_t)idx);
	snprintf(what, sizeof what, idx >= 0 ? "%s %s[%d]" : "%s %s", name, key, idx);
	near(x, num(v), k, what);
}

static void expect_result(const struct sl_ab_result *r, json_object *e, int k, const char *name)
{
	cr_expect(r->ok, "%s: not ok (%s)", name, r->error ? r->error : "?");
	cr_expect(!isnan(r->expected) && !isnan(r->p_value) && !isnan(r->stddev), "%s: NaN", name);
	chk(r->expected, e, "expected", -1, k, name);
	chk(r->stddev, e, "stddev", -1, k, name);
	chk(r->p_value, e, "pValue", -1, k, name);
	chk(r->ci[0], e, "ci", 0, k, name);
	chk(r->ci[1], e, "ci", 1, k, name);
	chk(r->chance_to_win, e, "chanceToWin", -1, k, name);
	chk(r->risk[0], e, "risk", 0, k, name);
	chk(r->risk[1], e, "risk", 1, k, name);
	chk(r->mean_a, e, "cr_a", -1, k, name);
	chk(r->mean_b, e, "cr_b", -1, k, name);
}

static enum sl_alt alt_of(const char *name)
{
	if (!strncmp(name, "one_sided_greater", 17))
		return SL_ALT_GREATER;
	if (!strncmp(name, "one_sided_lesser", 16))
		return SL_ALT_LESS;
	return SL_ALT_TWO_SIDED;
}

Test(abstats, frequentist_vectors)
{
	json_object *s = get(root, "frequentist");
	struct sl_ab_stat a = {0}, b = {0};
	size_t checked = 0;
	for (size_t i = 0; i < json_object_array_length(s); i++) {
		json_object *v = json_object_array_get_idx(s, i);
		const char *name = json_object_get_string(get(v, "name"));
		int k = rounding(v);
		arm(get(v, "a"), &a);
		arm(get(v, "b"), &b);
		struct sl_ab_opts o;
		opts_of(v, &o);
		o.alt = alt_of(name);
		struct sl_ab_result r;
		cr_assert_eq(sl_ab_frequentist(&a, &b, &o, &r), 0, "%s", name);
		json_object *e = get(v, "expected");
		if (!strcmp(name, "missing_variance_n2")) {
			/* GrowthBook's default output with ZERO_NEGATIVE_VARIANCE */
			cr_expect(!r.ok && r.status == SL_AB_ZERO_VARIANCE && r.error, "%s", name);
			cr_expect(r.expected == 0 && r.ci[0] == 0 && r.ci[1] == 0 && r.p_value == 1 && r.stddev == 0);
		} else {
			expect_result(&r, e, k, name);
		}
		checked++;
	}
	cr_expect_eq(checked, 10);
}

Test(abstats, welch_df_matches_stats)
{
	/* the df and interval agree with src/stats' Welch test on the absolute difference */
	json_object *v = find("frequentist", "two_sided_absolute");
	struct sl_ab_stat a, b;
	arm(get(v, "a"), &a);
	arm(get(v, "b"), &b);
	struct sl_ab_opts o;
	opts_of(v, &o);
	struct sl_ab_result r;
	cr_assert_eq(sl_ab_frequentist(&a, &b, &o, &r), 0);
	struct sl_welch_result w;
	cr_assert_eq(sl_welch_from_stats(sl_ab_mean(&b), sl_ab_var(&b), b.n, sl_ab_mean(&a), sl_ab_var(&a), a.n,
	                                 SL_ALT_TWO_SIDED, 0.95, &w),
	             0);
	near(r.df, w.df, -1, "df");
	near(r.p_value, w.pvalue, -1, "p");
	near(r.ci[0], w.lo, -1, "lo");
	near(r.ci[1], w.hi, -1, "hi");
}

static double theta_of(json_object *v)
{
	const char *s = json_object_get_string(get(v, "theta"));
	const char *eq = strrchr(s, '=');
	cr_assert_not_null(eq);
	return strtod(eq + 1, NULL);
}

Test(abstats, sequential_vectors)
{
	const char *two[] = {"seq_two_sided_tau1000", "seq_two_sided_prop_default_tau5000", "seq_two_sided_cuped"};
	for (size_t i = 0; i < 3; i++) {
		json_object *v = find("sequential", two[i]);
		struct sl_ab_stat a, b;
		arm(get(v, "a"), &a);
		arm(get(v, "b"), &b);
		if (a.kind == SL_AB_CUPED) {
			cr_assert_eq(sl_ab_cuped_prepare(&a, &b), 0);
			near(a.theta, theta_of(v), 15, "pooled theta");
			cr_expect(b.theta == a.theta);
		}
		struct sl_ab_opts o;
		opts_of(v, &o);
		struct sl_ab_result r;
		cr_assert_eq(sl_ab_sequential(&a, &b, &o, &r), 0, "%s", two[i]);
		expect_result(&r, get(v, "expected"), rounding(v), two[i]);
	}
}

Test(abstats, sequential_one_sided)
{
	json_object *v = find("sequential", "seq_one_sided_cis");
	json_object *e = get(v, "expected");
	struct sl_ab_stat a, b;
	arm(get(v, "a"), &a);
	arm(get(v, "b"), &b);
	int k = rounding(v);
	struct {
		enum sl_alt alt;
		bool rel;
		const char *ci, *p;
	} c[] = {
	    {SL_ALT_GREATER, true, "greater_rel_ci_lo", "greater_rel_p"},
	    {SL_ALT_GREATER, false, "greater_abs_ci_lo", "greater_abs_p"},
	    {SL_ALT_LESS, true, "lesser_rel_ci_hi", "lesser_p"},
	    {SL_ALT_LESS, false, "lesser_abs_ci_hi", NULL},
	};
	for (size_t i = 0; i < 4; i++) {
		struct sl_ab_opts o;
		opts_of(v, &o);
		o.alt = c[i].alt, o.relative = c[i].rel;
		struct sl_ab_result r;
		cr_assert_eq(sl_ab_sequential(&a, &b, &o, &r), 0);
		cr_expect(r.ok);
		bool greater = c[i].alt == SL_ALT_GREATER;
		near(r.ci[greater ? 0 : 1], numk(e, c[i].ci), k, c[i].ci);
		cr_expect(greater ? r.ci[1] == INFINITY : r.ci[0] == -INFINITY, "open end");
		if (c[i].p)
			near(r.p_value, numk(e, c[i].p), k, c[i].p);
	}
	/* GrowthBook refuses alpha >= 0.5 for a one-sided sequential test */
	struct sl_ab_opts o;
	opts_of(v, &o);
	o.alt = SL_ALT_GREATER, o.alpha = 0.5;
	struct sl_ab_result r;
	cr_expect_eq(sl_ab_sequential(&a, &b, &o, &r), SL_EINVAL);
}

Test(abstats, bayesian_vectors)
{
	const char *names[] = {"binomial_flat", "gaussian_flat", "gaussian_informative_prior"};
	struct sl_ab_stat a = {0}, b = {0};
	for (size_t i = 0; i < 3; i++) {
		json_object *v = find("bayesian", names[i]);
		arm(get(v, "a"), &a);
		arm(get(v, "b"), &b);
		struct sl_ab_opts o;
		opts_of(v, &o);
		if (has(v, "prior")) {
			json_object *p = get(v, "prior");
			o.prior_proper = json_object_get_boolean(get(p, "proper"));
			o.prior_mean = numk(p, "mean"), o.prior_var = numk(p, "variance");
		}
		struct sl_ab_result r;
		cr_assert_eq(sl_ab_bayesian(&a, &b, &o, &r), 0, "%s", names[i]);
		expect_result(&r, get(v, "expected"), rounding(v), names[i]);
	}
}

Test(abstats, bayesian_quantile)
{
	json_object *v = find("bayesian", "quantile_p90_absolute_flat");
	json_object *e = get(v, "expected");
	struct sl_ab_stat a, b;
	arm(get(v, "a"), &a);
	arm(get(v, "b"), &b);
	struct sl_ab_opts o;
	sl_ab_opts_init(&o);
	o.relative = false;
	struct sl_ab_result r;
	cr_assert_eq(sl_ab_bayesian(&a, &b, &o, &r), 0);
	cr_expect(r.ok);
	near(r.expected, numk(e, "improper_abs_expected"), -1, "improper abs expected");
	near(r.ci[0], num(json_object_array_get_idx(get(e, "improper_abs_ci"), 0)), -1, "improper abs ci lo");
	near(r.ci[1], num(json_object_array_get_idx(get(e, "improper_abs_ci"), 1)), -1, "improper abs ci hi");
	o.relative = true, o.prior_proper = true, o.prior_mean = 0, o.prior_var = 1e6;
	cr_assert_eq(sl_ab_bayesian(&a, &b, &o, &r), 0);
	near(r.expected, numk(e, "proper1e6_rel_expected"), -1, "proper rel expected");
	near(r.ci[0], num(json_object_array_get_idx(get(e, "proper1e6_rel_ci"), 0)), -1, "proper rel ci lo");
	near(r.ci[1], num(json_object_array_get_idx(get(e, "proper1e6_rel_ci"), 1)), -1, "proper rel ci hi");
}

Test(abstats, risk_closed_form)
{
	json_object *v = find("bayesian", "risk_closed_form");
	double risk[2];
	sl_ab_risk(numk(v, "mu"), numk(v, "sigma"), risk);
	json_object *e = get(get(v, "expected"), "risk");
	near(risk[0], num(json_object_array_get_idx(e, 0)), rounding(v), "risk[0]");
	near(risk[1], num(json_object_array_get_idx(e, 1)), rounding(v), "risk[1]");
}

Test(abstats, srm_vector)
{
	json_object *v = find("srm", "chi2_two_arms");
	double units[2], weights[2];
	for (size_t i = 0; i < 2; i++) {
		units[i] = num(json_object_array_get_idx(get(v, "users"), i));
		weights[i] = num(json_object_array_get_idx(get(v, "weights"), i));
	}
	double p;
	bool flag;
	cr_assert_eq(sl_ab_srm(units, weights, 2, &p, &flag), 0);
	near(p, numk(get(v, "expected"), "p"), rounding(v), "srm p");
	cr_expect(flag, "p < 0.001 flags");
	double few[] = {7, 40}, w2[] = {0.5, 0.5};
	cr_assert_eq(sl_ab_srm(few, w2, 2, &p, &flag), 0);
	cr_expect(p < 0.001 && !flag, "an arm below 8 units never flags (p %g)", p);
	double fine[] = {1000, 1010};
	cr_assert_eq(sl_ab_srm(fine, w2, 2, &p, &flag), 0);
	cr_expect(p > 0.8 && !flag);
	double none[] = {0, 0};
	cr_assert_eq(sl_ab_srm(none, w2, 2, &p, &flag), 0);
	cr_expect(p == 1 && !flag, "no units: p 1");
	double three[] = {500, 500, 1000}, w3[] = {0.25, 0.25, 0.5};
	cr_assert_eq(sl_ab_srm(three, w3, 3, &p, &flag), 0);
	cr_expect(fabs(p - 1) < 1e-12 && !flag, "unequal planned weights respected");
	double bad[] = {-1, 10};
	cr_expect_eq(sl_ab_srm(bad, w2, 2, &p, &flag), SL_EINVAL);
	cr_expect_eq(sl_ab_srm(units, weights, 1, &p, &flag), SL_EINVAL);
}

static void check_adjust(const char *name, int (*fn)(const double *, size_t, double *, size_t *),
                         const char *sorted_key)
{
	json_object *v = find("multiple_testing", name);
	json_object *in = get(v, "input"), *es = get(v, sorted_key), *ei = get(v, "expected_original_index");
	size_t n = json_object_array_length(in);
	cr_assert(n <= 16);
	double p[16], adj[16];
	size_t order[16];
	for (size_t i = 0; i < n; i++)
		p[i] = num(json_object_array_get_idx(in, i));
	cr_assert_eq(fn(p, n, adj, order), 0);
	int k = rounding(v) >= 0 ? rounding(v) : 12;
	for (size_t i = 0; i < n; i++) {
		cr_expect_eq(order[i], (size_t)json_object_get_int(json_object_array_get_idx(ei, i)), "%s order[%zu]", name,
		             i);
		near(adj[order[i]], num(json_object_array_get_idx(es, i)), k, name);
	}
	/* in place gives the same */
	double q[16];
	memcpy(q, p, n * sizeof *q);
	cr_assert_eq(fn(q, n, q, order), 0);
	for (size_t i = 0; i < n; i++)
		cr_expect(q[i] == adj[i], "%s in place [%zu]", name, i);
}

Test(abstats, holm_bonferroni)
{
	check_adjust("holm_bonferroni", sl_ab_adjust_holm, "expected_sorted");
}

Test(abstats, benjamini_hochberg)
{
	check_adjust("benjamini_hochberg", sl_ab_adjust_bh, "expected_sorted_desc");
}

Test(abstats, adjust_edges)
{
	double adj[2];
	size_t order[2];
	cr_expect_eq(sl_ab_adjust_holm(NULL, 0, NULL, NULL), 0, "empty family");
	double bad[] = {0.1, NAN};
	cr_expect_eq(sl_ab_adjust_holm(bad, 2, adj, order), SL_EINVAL);
	double big[] = {0.1, 1.5};
	cr_expect_eq(sl_ab_adjust_bh(big, 2, adj, order), SL_EINVAL);
	double one[] = {0.03};
	cr_assert_eq(sl_ab_adjust_bh(one, 1, adj, order), 0);
	cr_expect(adj[0] == 0.03 && order[0] == 0);
}

Test(abstats, delta_method_variance)
{
	json_object *v = find("power", "delta_method_variance");
	json_object *e = get(v, "expected");
	/* frequentistVariance(varA=2, meanA=7, nA=4, varB=0.5, meanB=5, nB=15, relative) */
	near(sl_ab_delta_var(2, 7, 4, 0.5, 5, 15, false), numk(e, "absolute"), rounding(v), "absolute");
	near(sl_ab_delta_var(2, 7, 4, 0.5, 5, 15, true), numk(e, "relative"), rounding(v), "relative");
}

/* ---- degenerate inputs: default output, a reason, never NaN ---- */

static void expect_default(const struct sl_ab_result *r, enum sl_ab_status st, const char *what)
{
	cr_expect(!r->ok && r->status == st, "%s: status %d (%s)", what, r->status, r->error ? r->error : "");
	cr_expect(r->error != NULL && r->error[0], "%s: a reason", what);
	cr_expect(r->expected == 0 && r->ci[0] == 0 && r->ci[1] == 0 && r->stddev == 0 && r->p_value == 1, "%s", what);
	cr_expect(r->chance_to_win == 0.5 && r->risk[0] == 0 && r->risk[1] == 0, "%s", what);
	cr_expect(!isnan(r->mean_a) && !isnan(r->mean_b) && !isnan(r->df), "%s: NaN", what);
}

static void all_tests(const struct sl_ab_stat *a, const struct sl_ab_stat *b, enum sl_ab_status st, const char *what)
{
	struct sl_ab_opts o;
	sl_ab_opts_init(&o);
	struct sl_ab_result r;
	for (int rel = 0; rel < 2; rel++) {
		o.relative = rel;
		for (int alt = 0; alt < 3; alt++) {
			o.alt = (enum sl_alt)alt;
			cr_assert_eq(sl_ab_frequentist(a, b, &o, &r), 0);
			if (st != SL_AB_ZERO_BASELINE || rel)
				expect_default(&r, st, what);
			cr_assert_eq(sl_ab_sequential(a, b, &o, &r), 0);
			if (st != SL_AB_ZERO_BASELINE || rel)
				expect_default(&r, st, what);
		}
		o.alt = SL_ALT_TWO_SIDED;
		cr_assert_eq(sl_ab_bayesian(a, b, &o, &r), 0);
		if (st != SL_AB_ZERO_BASELINE || rel)
			expect_default(&r, st, what);
	}
}

static struct sl_ab_stat mean_arm(double n, double sum, double sum_sq)
{
	struct sl_ab_stat s;
	sl_ab_stat_init(&s, SL_AB_MEAN);
	s.n = n, s.sum = sum, s.sum_sq = sum_sq;
	return s;
}

Test(abstats, degenerate)
{
	struct sl_ab_stat good = mean_arm(100, 50, 80);
	struct sl_ab_stat empty = mean_arm(0, 0, 0), one = mean_arm(1, 3, 9), flat = mean_arm(50, 100, 200);
	all_tests(&empty, &good, SL_AB_FEW_UNITS, "n = 0");
	all_tests(&good, &one, SL_AB_FEW_UNITS, "n = 1");
	all_tests(&good, &flat, SL_AB_ZERO_VARIANCE, "constant values");
	struct sl_ab_stat neg = mean_arm(10, 100, 5);
	all_tests(&neg, &good, SL_AB_ZERO_VARIANCE, "negative variance");
	struct sl_ab_stat zero_mean = mean_arm(100, 0, 80);
	all_tests(&zero_mean, &good, SL_AB_ZERO_BASELINE, "zero baseline");
	struct sl_ab_stat nan_arm = mean_arm(100, NAN, 80), inf_arm = mean_arm(100, 1e308, INFINITY);
	all_tests(&nan_arm, &good, SL_AB_NUMERIC, "NaN sum");
	all_tests(&good, &inf_arm, SL_AB_NUMERIC, "overflow");
	struct sl_ab_stat prop;
	sl_ab_stat_init(&prop, SL_AB_PROPORTION);
	prop.n = 100, prop.sum = prop.sum_sq = 40;
	all_tests(&good, &prop, SL_AB_KIND_MISMATCH, "kinds differ");
	struct sl_ab_stat p0 = prop, p1 = prop;
	p0.sum = p0.sum_sq = 0, p1.sum = p1.sum_sq = 100;
	all_tests(&p0, &prop, SL_AB_ZERO_VARIANCE, "no conversions");
	all_tests(&prop, &p1, SL_AB_ZERO_VARIANCE, "all converted");
	struct sl_ab_stat ratio;
	sl_ab_stat_init(&ratio, SL_AB_RATIO);
	ratio.n = 100, ratio.sum = 30, ratio.sum_sq = 40;
	struct sl_ab_stat ratio2 = ratio;
	ratio2.d_sum = 200, ratio2.d_sum_sq = 500, ratio2.yd_sum = 70;
	all_tests(&ratio, &ratio2, SL_AB_ZERO_VARIANCE, "ratio with zero denominator");

	/* argument errors are codes, not results */
	struct sl_ab_opts o;
	sl_ab_opts_init(&o);
	struct sl_ab_result r;
	cr_expect_eq(sl_ab_frequentist(NULL, &good, &o, &r), SL_EINVAL);
	o.alpha = 0;
	cr_expect_eq(sl_ab_frequentist(&good, &good, &o, &r), SL_EINVAL);
	o.alpha = 0.05, o.n_star = 0;
	cr_expect_eq(sl_ab_sequential(&good, &good, &o, &r), SL_EINVAL);
	o.n_star = 5000, o.prior_proper = true, o.prior_var = 0;
	cr_expect_eq(sl_ab_bayesian(&good, &good, &o, &r), SL_EINVAL);
}

Test(abstats, huge_effect_stays_finite)
{
	/* a decisive result: p underflows to 0, not NaN; chance to win 1 */
	struct sl_ab_stat a = mean_arm(1e6, 1e6, 1.01e6), b = mean_arm(1e6, 2e6, 4.01e6);
	struct sl_ab_opts o;
	sl_ab_opts_init(&o);
	struct sl_ab_result r;
	cr_assert_eq(sl_ab_frequentist(&a, &b, &o, &r), 0);
	cr_expect(r.ok && r.p_value >= 0 && r.p_value < 1e-100, "p %g", r.p_value);
	cr_assert_eq(sl_ab_sequential(&a, &b, &o, &r), 0);
	cr_expect(r.ok && r.p_value >= 0 && r.p_value < 1e-100 && isfinite(r.ci[0]), "p %g", r.p_value);
	cr_assert_eq(sl_ab_bayesian(&a, &b, &o, &r), 0);
	cr_expect(r.ok && r.chance_to_win == 1 && isfinite(r.risk[0]) && r.risk[1] >= 0, "ctw %g", r.chance_to_win);
}

Test(abstats, power_vectors)
{
	json_object *v = find("power", "power_fixed");
	json_object *met = get(v, "metric"), *e = get(v, "expected");
	struct sl_ab_power_in in = {
	    .mean = numk(met, "mean"),
	    .variance = numk(met, "variance"),
	    .effect = numk(met, "effectSize"),
	    .n_total = numk(v, "n_total"),
	    .variations = numk(v, "variations"),
	    .alpha = numk(v, "alpha"),
	    .two_sided = json_object_get_boolean(get(v, "two_tailed")),
	};
	double pw, mde;
	cr_assert_eq(sl_ab_power(&in, &pw), 0);
	near(pw, numk(e, "power"), rounding(v), "fixed power");
	cr_assert_eq(sl_ab_mde(&in, 0.8, &mde), 0);
	near(mde, numk(e, "mde_at_power_0.8"), rounding(v), "fixed mde");
	json_object *s = find("power", "power_sequential_tau5000");
	in.n_star = 5000;
	cr_assert_eq(sl_ab_power(&in, &pw), 0);
	near(pw, numk(get(s, "expected"), "power"), rounding(s), "sequential power");
	cr_assert_eq(sl_ab_mde(&in, 0.8, &mde), 0);
	near(mde, numk(get(s, "expected"), "mde_at_power_0.8"), rounding(s), "sequential mde");
	/* the MDE reaches the power it was asked for (two-sided: within the neglected tail) */
	in.effect = mde;
	cr_assert_eq(sl_ab_power(&in, &pw), 0);
	cr_expect(fabs(pw - 0.8) < 1e-3, "power at the mde %g", pw);
	in.n_total = 10;
	cr_expect_eq(sl_ab_mde(&in, 0.8, &mde), SL_ERANGE, "too few units");
	in.variance = 0;
	cr_expect_eq(sl_ab_power(&in, &pw), SL_EINVAL);
}
