/* univariate.c: the drift tests against SciPy 1.10 / numpy 1.24 called as Evidently calls them
 * (tests/data/drift/univariate.json, written by gen_expected.py beside this file): K-S,
 * chi-squared, z, PSI and Jensen-Shannon (on counts and on Evidently's numeric bins), the bins
 * themselves, Wasserstein normed, Evidently's default test per column, and dataset verdicts
 * with Bonferroni / Benjamini-Hochberg. Tolerances are relative and stated per family; bin
 * edges and counts are compared exactly. The worst error of each family is logged. */
#include <criterion/criterion.h>
#include <json-c/json.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sluice/drift.h"

#define EXPECTED SLUICE_TEST_DATA "/drift/univariate.json"

static json_object *root;

static void load(void)
{
	root = json_object_from_file(EXPECTED);
	cr_assert_not_null(root, "cannot read %s: %s", EXPECTED, json_util_get_last_err());
}

static void unload(void)
{
	json_object_put(root);
}

TestSuite(univariate, .init = load, .fini = unload);

static json_object *get(json_object *o, const char *key)
{
	json_object *v = NULL;
	cr_assert(json_object_object_get_ex(o, key, &v), "expected.json: '%s' missing", key);
	return v;
}

static json_object *section(const char *name)
{
	json_object *a = get(root, name);
	cr_assert(json_object_is_type(a, json_type_array) && json_object_array_length(a) > 0, "'%s' empty", name);
	return a;
}

#define each(i, c, name)                                                                                               \
	for (json_object *each_ = section(name), *c = NULL; each_; each_ = NULL)                                       \
		for (size_t i = 0;                                                                                     \
		     i < json_object_array_length(each_) && ((c = json_object_array_get_idx(each_, i)), 1); i++)

static double field(json_object *o, const char *key)
{
	json_object *v = get(o, key);
	if (json_object_is_type(v, json_type_null))
		return NAN;
	if (json_object_is_type(v, json_type_string))
		return strcmp(json_object_get_string(v), "inf") == 0 ? INFINITY : -INFINITY;
	return json_object_get_double(v);
}

/* {"sample": i} names samples[i]: numbers, or {"gen": [n, offset, scale, quant, shift]}
 * rebuilt as numpy computes it. Counts are given inline as numbers. */
static size_t sample(json_object *o, double **v)
{
	json_object *g = NULL;
	if (json_object_is_type(o, json_type_object) && json_object_object_get_ex(o, "sample", &g))
		o = json_object_array_get_idx(get(root, "samples"), (size_t)json_object_get_int64(g));
	if (json_object_is_type(o, json_type_object) && json_object_object_get_ex(o, "gen", &g)) {
		size_t n = (size_t)json_object_get_int64(json_object_array_get_idx(g, 0));
		double off = json_object_get_double(json_object_array_get_idx(g, 1));
		double scale = json_object_get_double(json_object_array_get_idx(g, 2));
		int quant = json_object_get_int(json_object_array_get_idx(g, 3));
		double shift = json_object_get_double(json_object_array_get_idx(g, 4));
		*v = malloc(n * sizeof **v);
		cr_assert_not_null(*v);
		for (size_t i = 0; i < n; i++) {
			volatile double u = fmod(((double)i + off) * 0.6180339887498949, 1.0);
			volatile double s = u * scale;
			(*v)[i] = (quant ? floor(s) : s) + shift;
		}
		return n;
	}
	size_t n = json_object_array_length(o);
	*v = malloc((n ? n : 1) * sizeof **v);
	cr_assert_not_null(*v);
	for (size_t i = 0; i < n; i++)
		(*v)[i] = json_object_get_double(json_object_array_get_idx(o, i));
	return n;
}

/* The case's "x" and "y" (or "ref" and "cur"), sorted when asked. */
struct pair {
	double *x, *y;
	size_t nx, ny;
};

static struct pair pair_of(json_object *c, const char *a, const char *b, bool sorted)
{
	struct pair p;
	p.nx = sample(get(c, a), &p.x);
	p.ny = sample(get(c, b), &p.y);
	if (sorted) {
		cr_assert_eq(sl_drift_sort(p.x, p.nx), 0);
		cr_assert_eq(sl_drift_sort(p.y, p.ny), 0);
	}
	return p;
}

static void pair_free(struct pair *p)
{
	free(p->x);
	free(p->y);
}

struct worst {
	const char *name;
	double tol, err;
	size_t n;
};

static double relerr(double got, double want)
{
	if (got == want || (isnan(got) && isnan(want)))
		return 0;
	return want == 0 ? fabs(got) : fabs(got - want) / fabs(want);
}

__attribute__((format(printf, 4, 5))) static void check(struct worst *w, double got, double want, const char *fmt, ...)
{
	double e = relerr(got, want);
	w->n++;
	if (e > w->err)
		w->err = e;
	if (e <= w->tol)
		return;
	char ctx[200];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(ctx, sizeof ctx, fmt, ap);
	va_end(ap);
	cr_expect(false, "%s %s: got %.17g want %.17g (rel %.2e > %.0e)", w->name, ctx, got, want, e, w->tol);
}

static void report(const struct worst *w)
{
	cr_log_info("%-22s %4zu checks, worst relative error %.2e (tolerance %.0e)", w->name, w->n, w->err, w->tol);
}

Test(univariate, ks)
{
	struct worst wd = {"ks statistic", 1e-15, 0, 0}, wp = {"ks p-value", 1e-11, 0, 0};
	each(i, c, "ks")
	{
		struct pair p = pair_of(c, "x", "y", false);
		struct sl_ks_result r;
		cr_assert_eq(sl_drift_ks(p.x, p.nx, p.y, p.ny, &r), 0);
		check(&wd, r.d, field(c, "d"), "case %zu (%zu vs %zu)", i, p.nx, p.ny);
		check(&wp, r.pvalue, field(c, "p"), "case %zu (%zu vs %zu)", i, p.nx, p.ny);
		pair_free(&p);
	}
	report(&wd);
	report(&wp);
}

Test(univariate, wasserstein)
{
	struct worst ww = {"wasserstein", 1e-13, 0, 0}, ws = {"numpy std", 1e-13, 0, 0};
	struct worst wn = {"wasserstein normed", 1e-13, 0, 0};
	each(i, c, "wasserstein")
	{
		struct pair p = pair_of(c, "x", "y", true);
		double w, norm, mean, std;
		cr_assert_eq(sl_drift_wasserstein(p.x, p.nx, p.y, p.ny, &w), 0);
		cr_assert_eq(sl_drift_wasserstein_norm(p.x, p.nx, p.y, p.ny, &norm), 0);
		sl_drift_mean_std(p.x, p.nx, &mean, &std);
		check(&ww, w, field(c, "w"), "case %zu (%zu vs %zu)", i, p.nx, p.ny);
		check(&ws, std, field(c, "std"), "case %zu", i);
		check(&wn, norm, field(c, "norm"), "case %zu", i);
		pair_free(&p);
	}
	report(&ww);
	report(&ws);
	report(&wn);
}

Test(univariate, bins)
{
	size_t checked = 0;
	each(i, c, "bins")
	{
		struct pair p = pair_of(c, "x", "y", true);
		struct sl_drift_bins b;
		cr_assert_eq(sl_drift_bins_num(p.x, p.nx, p.y, p.ny, &b), 0);
		json_object *edges = get(c, "edges"), *ref = get(c, "ref"), *cur = get(c, "cur");
		cr_expect_eq(b.k, json_object_array_length(ref), "case %zu: %zu bins, want %zu", i, b.k,
		             json_object_array_length(ref));
		cr_expect_eq(b.edges == NULL, json_object_is_type(edges, json_type_null), "case %zu: kind of bins", i);
		for (size_t j = 0; j < b.k && j < json_object_array_length(ref); j++) {
			cr_expect_eq(b.ref[j], json_object_get_double(json_object_array_get_idx(ref, j)),
			             "case %zu bin %zu", i, j);
			cr_expect_eq(b.cur[j], json_object_get_double(json_object_array_get_idx(cur, j)),
			             "case %zu bin %zu", i, j);
			if (b.edges)
				cr_expect_eq(b.edges[j], json_object_get_double(json_object_array_get_idx(edges, j)),
				             "case %zu edge %zu: %.17g", i, j, b.edges[j]);
		}
		checked += b.k;
		sl_drift_bins_release(&b);
		pair_free(&p);
	}
	cr_log_info("bins: %zu bin counts and edges identical to numpy", checked);
}

Test(univariate, psi_js_numeric)
{
	struct worst wp = {"psi (numeric bins)", 1e-12, 0, 0}, wj = {"js (numeric bins)", 1e-9, 0, 0};
	struct worst wj2 = {"js base 2 (numeric)", 1e-9, 0, 0};
	each(i, c, "psi_num")
	{
		struct pair p = pair_of(c, "x", "y", true);
		struct sl_drift_bins b;
		double v;
		cr_assert_eq(sl_drift_bins_num(p.x, p.nx, p.y, p.ny, &b), 0);
		cr_assert_eq(sl_drift_psi(b.ref, b.cur, b.k, &v), 0);
		check(&wp, v, field(c, "psi"), "case %zu", i);
		sl_drift_bins_release(&b);
		pair_free(&p);
	}
	each(i, c, "js_num")
	{
		struct pair p = pair_of(c, "x", "y", true);
		struct sl_drift_bins b;
		double v, v2;
		cr_assert_eq(sl_drift_bins_num(p.x, p.nx, p.y, p.ny, &b), 0);
		cr_assert_eq(sl_drift_js(b.ref, b.cur, b.k, 0, &v), 0);
		cr_assert_eq(sl_drift_js(b.ref, b.cur, b.k, 2, &v2), 0);
		check(&wj, v, field(c, "js"), "case %zu", i);
		check(&wj2, v2, field(c, "js2"), "case %zu", i);
		sl_drift_bins_release(&b);
		pair_free(&p);
	}
	report(&wp);
	report(&wj);
	report(&wj2);
}

Test(univariate, counts)
{
	struct worst wcs = {"chisquare statistic", 1e-13, 0, 0}, wcp = {"chisquare p-value", 1e-11, 0, 0};
	struct worst wz = {"z statistic", 1e-13, 0, 0}, wzp = {"z p-value", 1e-13, 0, 0};
	struct worst wp = {"psi (counts)", 1e-13, 0, 0}, wj = {"js (counts)", 1e-12, 0, 0};
	each(i, c, "chisquare")
	{
		struct pair p = pair_of(c, "ref", "cur", false);
		struct sl_chi2_result r;
		cr_assert_eq(sl_drift_chisquare(p.x, p.y, p.nx, &r), 0);
		check(&wcs, r.statistic, field(c, "stat"), "case %zu", i);
		check(&wcp, r.pvalue, field(c, "p"), "case %zu", i);
		pair_free(&p);
	}
	each(i, c, "z")
	{
		struct pair p = pair_of(c, "ref", "cur", false);
		double z, pv;
		cr_assert_eq(sl_drift_ztest(p.x, p.y, p.nx, &z, &pv), 0);
		check(&wz, z, field(c, "z"), "case %zu", i);
		check(&wzp, pv, field(c, "p"), "case %zu", i);
		cr_expect(fabs(pv - field(c, "p_evidently")) < 1e-15, "case %zu: Evidently's 2(1-cdf) differs", i);
		pair_free(&p);
	}
	each(i, c, "psi_counts")
	{
		struct pair p = pair_of(c, "ref", "cur", false);
		double v;
		cr_assert_eq(sl_drift_psi(p.x, p.y, p.nx, &v), 0);
		check(&wp, v, field(c, "psi"), "case %zu", i);
		pair_free(&p);
	}
	each(i, c, "js_counts")
	{
		struct pair p = pair_of(c, "ref", "cur", false);
		double v, v2;
		cr_assert_eq(sl_drift_js(p.x, p.y, p.nx, 0, &v), 0);
		cr_assert_eq(sl_drift_js(p.x, p.y, p.nx, 2, &v2), 0);
		check(&wj, v, field(c, "js"), "case %zu", i);
		check(&wj, v2, field(c, "js2"), "case %zu base 2", i);
		pair_free(&p);
	}
	report(&wcs);
	report(&wcp);
	report(&wz);
	report(&wzp);
	report(&wp);
	report(&wj);
}

/* Evidently's default test per column, its statistic, p-value and verdict. */
Test(univariate, default_choice)
{
	struct worst ws = {"column statistic", 1e-9, 0, 0}, wp = {"column p-value", 1e-10, 0, 0};
	struct sl_drift_opts o;
	sl_drift_opts_init(&o);
	each(i, c, "columns")
	{
		bool numeric = strcmp(json_object_get_string(get(c, "kind")), "num") == 0;
		struct pair p = numeric ? pair_of(c, "x", "y", true) : pair_of(c, "ref", "cur", false);
		struct sl_drift_result r;
		int rc = numeric ? sl_drift_test_num(p.x, p.nx, p.y, p.ny, &o, &r)
		                 : sl_drift_test_cat(p.x, p.y, p.nx, &o, &r);
		cr_assert_eq(rc, 0, "column %zu: rc %d", i, rc);
		const char *want = json_object_get_string(get(c, "test"));
		cr_expect_str_eq(sl_drift_test_name(r.test), want, "column %zu: test", i);
		cr_expect_eq(r.n_unique, (size_t)json_object_get_int64(get(c, "n_unique")), "column %zu: nunique", i);
		double stat = field(c, "stat");
		if (!isnan(stat))
			check(&ws, r.statistic, stat, "column %zu (%s)", i, want);
		check(&wp, r.pvalue, field(c, "p"), "column %zu (%s)", i, want);
		cr_expect_eq(r.drift, json_object_get_boolean(get(c, "drift")), "column %zu (%s): verdict", i, want);
		pair_free(&p);
	}
	report(&ws);
	report(&wp);
}

static enum sl_drift_correction corr_of(const char *s)
{
	enum sl_drift_correction c = SL_DRIFT_CORR_NONE;
	cr_assert_eq(sl_drift_correction_parse(s, &c), 0);
	return c;
}

Test(univariate, datasets)
{
	struct worst wa = {"adjusted p-value", 1e-15, 0, 0};
	each(i, c, "datasets")
	{
		json_object *rows = get(c, "rows"), *adj = get(c, "adjusted");
		size_t n = json_object_array_length(rows);
		struct sl_drift_result *r = calloc(n, sizeof *r);
		for (size_t j = 0; j < n; j++) {
			json_object *row = json_object_array_get_idx(rows, j);
			cr_assert_eq(sl_drift_test_parse(json_object_get_string(get(row, "test")), &r[j].test), 0);
			bool pv = sl_drift_test_has_pvalue(r[j].test);
			r[j].pvalue = pv ? field(row, "p") : NAN;
			r[j].statistic = pv ? NAN : field(row, "stat");
			r[j].score = pv ? r[j].pvalue : r[j].statistic;
			r[j].threshold = sl_drift_test_default_threshold(r[j].test);
			r[j].drift = sl_drift_test_decide(r[j].test, r[j].score, r[j].threshold);
		}
		struct sl_drift_verdict v;
		const char *corr = json_object_get_string(get(c, "correction"));
		cr_assert_eq(sl_drift_dataset(r, NULL, n, corr_of(corr), 0.5, &v), 0);
		for (size_t j = 0; j < n; j++) {
			double want = json_object_get_double(json_object_array_get_idx(adj, j));
			if (sl_drift_test_has_pvalue(r[j].test))
				check(&wa, r[j].score, want, "dataset %zu (%s) row %zu", i, corr, j);
		}
		cr_expect_eq(v.tested, n);
		cr_expect_eq(v.drifted, (size_t)json_object_get_int(get(c, "drifted")), "dataset %zu (%s): drifted", i,
		             corr);
		cr_expect_eq(v.share, field(c, "share"), "dataset %zu: share", i);
		cr_expect_eq(v.drift, json_object_get_boolean(get(c, "drift")), "dataset %zu (%s): verdict", i, corr);
		free(r);
	}
	report(&wa);
}

Test(univariate, edges)
{
	double a[] = {1, 2, 3}, b[] = {1, 2}, z[] = {0, 0}, bad[] = {3, 1, 2};
	double out;
	struct sl_chi2_result cr;
	struct sl_drift_result r;
	struct sl_drift_opts o;
	sl_drift_opts_init(&o);
	cr_expect_eq(sl_drift_psi(a, z, 2, &out), SL_EINVAL, "an empty side has no shares");
	cr_expect_eq(sl_drift_js(a, b, 2, 1, &out), SL_EINVAL, "log base 1");
	cr_expect_eq(sl_drift_wasserstein(bad, 3, a, 3, &out), SL_EINVAL, "unsorted input is refused");
	cr_expect_eq(sl_drift_test_num(a, 0, b, 2, &o, &r), SL_EINVAL);
	o.test = SL_DRIFT_KS;
	cr_expect_eq(sl_drift_test_cat(a, b, 2, &o, &r), SL_EINVAL, "K-S does not apply to categories");
	o.test = SL_DRIFT_Z;
	cr_expect_eq(sl_drift_test_cat(a, a, 3, &o, &r), SL_EINVAL, "z needs at most two categories");
	cr_assert_eq(sl_drift_chisquare(a, a, 1, &cr), 0);
	cr_expect(isnan(cr.pvalue), "one category: no degrees of freedom");
	/* identical samples: distances 0, no drift */
	cr_assert_eq(sl_drift_js(a, a, 3, 0, &out), 0);
	cr_expect_eq(out, 0);
	cr_assert_eq(sl_drift_wasserstein_norm(a, 3, a, 3, &out), 0);
	cr_expect_eq(out, 0);
	/* a constant reference: the norm is 0.001 */
	double c1[] = {5, 5, 5}, c2[] = {5, 5, 6};
	cr_assert_eq(sl_drift_wasserstein_norm(c1, 3, c2, 3, &out), 0);
	cr_expect(fabs(out - (1.0 / 3) / 0.001) < 1e-9, "got %g", out);
}

Test(univariate, sort)
{
	size_t n = 100000;
	double *v = malloc(n * sizeof *v), *w = malloc(n * sizeof *w);
	struct sl_rng rng;
	sl_rng_seed(&rng, 7);
	for (size_t i = 0; i < n; i++) {
		double x = sl_rng_normal(&rng) * (i % 3 ? 1e-300 : 1e300);
		v[i] = i % 11 == 0 ? -0.0 : i % 13 == 0 ? 0.0 : i % 17 == 0 ? INFINITY : i % 19 == 0 ? -INFINITY : x;
		w[i] = v[i];
	}
	cr_assert_eq(sl_drift_sort(v, n), 0);
	for (size_t i = 1; i < n; i++)
		cr_assert(v[i - 1] <= v[i], "not sorted at %zu: %g > %g", i, v[i - 1], v[i]);
	double sv = 0, sw = 0;
	for (size_t i = 0; i < n; i++) {
		sv += isfinite(v[i]) ? fabs(v[i]) * 1e-300 : 1;
		sw += isfinite(w[i]) ? fabs(w[i]) * 1e-300 : 1;
	}
	cr_expect(fabs(sv - sw) <= 1e-9 * sw, "a permutation keeps the values");
	free(v);
	free(w);
}

/* Value order, -0.0 before +0.0: the order sl_drift_sort promises, bit for bit. */
static int cmp_total(const void *x, const void *y)
{
	double a = *(const double *)x, b = *(const double *)y;
	if (a != b)
		return a < b ? -1 : 1;
	return (int)!signbit(a) - (int)!signbit(b);
}

/* Sorts n values drawn from `distinct` values (the last new one placed at `late`) and compares
 * with qsort bit for bit. */
static void check_few(size_t n, size_t distinct, size_t late, uint64_t seed)
{
	double *v = malloc(n * sizeof *v), *w = malloc(n * sizeof *w), *pool = malloc(distinct * sizeof *pool);
	cr_assert(v && w && pool);
	struct sl_rng rng;
	sl_rng_seed(&rng, seed);
	for (size_t i = 0; i < distinct; i++) /* signed integers, halves, zeros of both signs, infinities */
		pool[i] = i == 0 ? -0.0 : i == 1 ? 0.0 : i == 2 ? INFINITY : i == 3 ? -INFINITY
		        : (double)((int64_t)i - (int64_t)distinct / 2) / (i % 2 ? 1 : 2);
	for (size_t i = 0; i < n; i++)
		v[i] = pool[sl_rng_next(&rng) % (distinct - 1)]; /* every value but the last */
	v[late] = pool[distinct - 1];
	memcpy(w, v, n * sizeof *v);
	qsort(w, n, sizeof *w, cmp_total);
	cr_assert_eq(sl_drift_sort(v, n), 0);
	cr_expect(memcmp(v, w, n * sizeof *v) == 0, "n %zu, %zu distinct: not the same bits as qsort", n, distinct);
	free(v);
	free(w);
	free(pool);
}

Test(univariate, sort_few_values)
{
	check_few(100000, 5, 0, 1);            /* counted per value */
	check_few(100000, 4, 99999, 2);        /* counted, zeros of both signs */
	check_few(1000000, 8192, 777, 3);      /* exactly as many as are counted */
	check_few(1000000, 8193, 999999, 4);   /* one more, first seen at the end: radix sort */
	check_few(64, 8, 63, 5);               /* small input: its own smaller table */
	check_few(64, 9, 63, 6);
	check_few(1000, 160, 10, 7);
}

/* A double from random bits (never NaN: a NaN's bits become an infinity of the same sign). */
static double any_double(struct sl_rng *rng)
{
	uint64_t b = sl_rng_next(rng);
	double d;
	memcpy(&d, &b, sizeof d);
	return isnan(d) ? copysign(INFINITY, d) : d;
}

/* The MSD radix sort (columns of more than 8,192 distinct values) against qsort, bit for bit:
 * sizes around its thresholds (64 values, buckets of 32), random bits, values that differ only
 * in their last bits (every level of the recursion), runs of equal values beside unique ones,
 * signed zeros among them, one value apart from a constant column, and lognormal latencies. */
Test(univariate, sort_radix_matches_qsort)
{
	static const size_t sizes[] = {64, 65, 97, 1000, 4097, 20000, 300000};
	struct sl_rng rng;
	sl_rng_seed(&rng, 11);
	for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++) {
		size_t n = sizes[si];
		double *v = malloc(n * sizeof *v), *w = malloc(n * sizeof *w);
		cr_assert(v && w);
		for (int kind = 0; kind < 6; kind++) {
			double base = 1234.5678 + (double)kind;
			for (size_t i = 0; i < n; i++) {
				uint64_t r = sl_rng_next(&rng);
				switch (kind) {
				case 0: /* any bits */
					v[i] = any_double(&rng);
					break;
				case 1: /* the same value but its last 1-20 bits */
					v[i] = nextafter(base, INFINITY) + (double)(r % (1u << (1 + r % 20))) * 0x1p-42;
					break;
				case 2: /* runs: 9,000 unique values (past the counted sort) and a few repeated ones */
					v[i] = i % 3 ? (double)(r % 9000) * 0.25 - 100 : (double)(r % 4);
					break;
				case 3: /* signed zeros among small numbers of both signs */
					v[i] = r % 5 == 0   ? -0.0
					       : r % 5 == 1 ? 0.0
					                    : ((double)(int64_t)(r >> 20) * 0x1p-60);
					break;
				case 4: /* constant but one */
					v[i] = i == n / 2 ? -base : base;
					break;
				default: /* lognormal, as latencies */
					v[i] = exp(sl_rng_normal(&rng) * 0.5 + 6.5);
					break;
				}
			}
			memcpy(w, v, n * sizeof *v);
			qsort(w, n, sizeof *w, cmp_total);
			cr_assert_eq(sl_drift_sort(v, n), 0);
			cr_expect(memcmp(v, w, n * sizeof *v) == 0, "n %zu kind %d: not the same bits as qsort", n,
			          kind);
		}
		free(v);
		free(w);
	}
}
