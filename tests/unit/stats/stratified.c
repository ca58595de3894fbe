/* stratified.c: the stratified tests (src/stats/stratified.c) against SciPy 1.10 values written
 * by gen_stratified.py into stratified_expected.h: van Elteren's z and p-value (one stratum:
 * SciPy's mannwhitneyu without continuity correction; ties included), the common shift and its
 * interval (the exact jumps of the step function, to the bisection's precision), the stratified
 * proportion test (Cochran-Mantel-Haenszel at margin 0, chi-squared for one stratum), its
 * interval, and the exact conditional test (Fisher's for one stratum). Also: what pooling buys
 * (two strata together reject where neither does alone), that a level shift between strata is
 * not taken for a difference, and that bad input is refused. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>

#include "sluice/stats.h"
#include "stratified_expected.h"

#define GOLD 0.6180339887498949

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static double *golden(int n, int offset, double scale, int quant, double shift)
{
	double *v = malloc((size_t)n * sizeof *v);
	cr_assert_not_null(v);
	for (int i = 0; i < n; i++) {
		double u = fmod((double)(i + offset) * GOLD, 1.0) * scale;
		v[i] = (quant ? floor(u) : u) + shift;
	}
	qsort(v, (size_t)n, sizeof *v, cmp);
	return v;
}

static void build(const struct gen_stratum *g, int k, struct sl_ve_stratum *st)
{
	for (int i = 0; i < k; i++)
		st[i] = (struct sl_ve_stratum){golden(g[i].nx, g[i].xoff, g[i].xscale, g[i].quant, 0),
		                               golden(g[i].ny, g[i].yoff, g[i].yscale, g[i].quant, g[i].yshift),
		                               (size_t)g[i].nx, (size_t)g[i].ny, g[i].s};
}

static void release(struct sl_ve_stratum *st, int k)
{
	for (int i = 0; i < k; i++) {
		free((void *)st[i].x);
		free((void *)st[i].y);
	}
}

static bool close_to(double got, double want, double rel)
{
	if (isinf(want))
		return got == want;
	return fabs(got - want) <= rel * fmax(fabs(want), 1e-300);
}

Test(stratified, van_elteren_against_scipy)
{
	for (size_t c = 0; c < sizeof ve_cases / sizeof ve_cases[0]; c++) {
		const struct ve_case *e = &ve_cases[c];
		struct sl_ve_stratum st[3];
		struct sl_van_elteren_result r;
		build(e->st, e->k, st);
		cr_assert_eq(sl_van_elteren(st, (size_t)e->k, e->delta, e->alt, &r), 0);
		cr_expect(close_to(r.z, e->z, 1e-12), "%s, delta %g: z %.17g, want %.17g", e->name, e->delta, r.z, e->z);
		cr_expect(close_to(r.pvalue, e->p, 1e-12), "%s, delta %g: p %.17g, want %.17g", e->name, e->delta,
		          r.pvalue, e->p);
		cr_expect_eq(r.strata, (size_t)e->k);
		release(st, e->k);
	}
}

Test(stratified, common_shift_against_the_exact_jumps)
{
	for (size_t c = 0; c < sizeof shift_cases / sizeof shift_cases[0]; c++) {
		const struct shift_case *e = &shift_cases[c];
		struct sl_ve_stratum st[3];
		struct sl_ve_shift r;
		build(e->st, e->k, st);
		cr_assert_eq(sl_van_elteren_shift(st, (size_t)e->k, e->conf, &r), 0);
		/* bisection to 1e-9 of the bracket (the range of differences, at most a few hundred
		 * here): 1e-6 absolute is far inside the gaps between jumps */
		cr_expect(fabs(r.estimate - e->est) < 1e-6, "%s: estimate %.12g, want %.12g", e->name, r.estimate, e->est);
		cr_expect(isinf(e->lo) ? isinf(r.lo) && !r.lo_attained : fabs(r.lo - e->lo) < 1e-6, "%s %g: lo %.12g, want %.12g",
		          e->name, e->conf, r.lo, e->lo);
		cr_expect(isinf(e->hi) ? isinf(r.hi) && !r.hi_attained : fabs(r.hi - e->hi) < 1e-6, "%s %g: hi %.12g, want %.12g",
		          e->name, e->conf, r.hi, e->hi);
		release(st, e->k);
	}
}

Test(stratified, proportions_against_scipy)
{
	for (size_t c = 0; c < sizeof prop_cases / sizeof prop_cases[0]; c++) {
		const struct prop_case *e = &prop_cases[c];
		struct sl_strat_prop_result r;
		cr_assert_eq(sl_strat_prop_test(e->st, (size_t)e->k, e->margin, e->alt, e->conf, &r), 0);
		cr_expect(close_to(r.diff, e->diff, 1e-12), "%s: diff %.17g want %.17g", e->name, r.diff, e->diff);
		cr_expect(close_to(r.z, e->z, 1e-11), "%s m %g: z %.17g want %.17g", e->name, e->margin, r.z, e->z);
		cr_expect(close_to(r.pvalue, e->p, 1e-10), "%s m %g: p %.17g want %.17g", e->name, e->margin, r.pvalue,
		          e->p);
		cr_expect(fabs(r.lo - e->lo) < 1e-10 && fabs(r.hi - e->hi) < 1e-10, "%s %g: [%.15g, %.15g] want [%.15g, %.15g]",
		          e->name, e->conf, r.lo, r.hi, e->lo, e->hi);
		cr_expect(close_to(r.exact_pvalue, e->exact, 1e-9), "%s: exact %.17g want %.17g", e->name, r.exact_pvalue,
		          e->exact);
	}
}

/* Two strata each too small to reject at 1%, rejected when pooled. */
Test(stratified, pooling_accumulates_evidence)
{
	struct sl_ve_stratum st[2];
	struct gen_stratum g[2] = {{60, 0, 10, 60, 500, 10, 1.1, 0, 1}, {60, 7, 10, 60, 900, 10, 1.1, 0, 1}};
	struct sl_van_elteren_result one, two, both;
	build(g, 2, st);
	cr_assert_eq(sl_van_elteren(st, 1, 0, SL_ALT_GREATER, &one), 0);
	cr_assert_eq(sl_van_elteren(st + 1, 1, 0, SL_ALT_GREATER, &two), 0);
	cr_assert_eq(sl_van_elteren(st, 2, 0, SL_ALT_GREATER, &both), 0);
	cr_expect(one.pvalue > 0.01 && two.pvalue > 0.01, "alone: %g, %g", one.pvalue, two.pvalue);
	cr_expect(both.pvalue < 0.01, "pooled: %g", both.pvalue);
	release(st, 2);
	/* rates: 3 vs 1 errors per 100 at each of four stages */
	struct sl_prop_stratum p[4] = {{3, 100, 1, 100}, {3, 100, 1, 100}, {3, 100, 1, 100}, {3, 100, 1, 100}};
	struct sl_strat_prop_result a, all;
	cr_assert_eq(sl_strat_prop_test(p, 1, 0, SL_ALT_GREATER, 0.95, &a), 0);
	cr_assert_eq(sl_strat_prop_test(p, 4, 0, SL_ALT_GREATER, 0.95, &all), 0);
	cr_expect(a.exact_pvalue > 0.3 && all.exact_pvalue < a.exact_pvalue / 2, "%g -> %g", a.exact_pvalue,
	          all.exact_pvalue);
}

/* Stratum 2 is slower for both sides alike and holds most of y: pooled naively, y looks slower;
 * stratified, it does not. */
Test(stratified, a_level_shift_between_strata_is_not_a_difference)
{
	struct sl_ve_stratum st[2];
	struct gen_stratum g[2] = {{400, 0, 10, 20, 3, 10, 0, 0, 1}, {40, 5, 10, 400, 9, 10, 0, 0, 1}};
	build(g, 2, st);
	double *x2 = (double *)st[1].x, *y2 = (double *)st[1].y;
	for (size_t i = 0; i < st[1].nx; i++)
		x2[i] += 8;
	for (size_t i = 0; i < st[1].ny; i++)
		y2[i] += 8;
	struct sl_van_elteren_result r;
	cr_assert_eq(sl_van_elteren(st, 2, 0, SL_ALT_TWO_SIDED, &r), 0);
	cr_expect(r.pvalue > 0.2, "stratified p %g", r.pvalue);
	double *xs = malloc(440 * sizeof *xs), *ys = malloc(420 * sizeof *ys);
	for (size_t i = 0; i < 400; i++)
		xs[i] = st[0].x[i], ys[i] = st[1].y[i];
	for (size_t i = 0; i < 40; i++)
		xs[400 + i] = st[1].x[i];
	for (size_t i = 0; i < 20; i++)
		ys[400 + i] = st[0].y[i];
	struct sl_mwu_result naive;
	cr_assert_eq(sl_mannwhitneyu(ys, 420, xs, 440, SL_ALT_TWO_SIDED, SL_MWU_ASYMPTOTIC, false, &naive), 0);
	cr_expect(naive.pvalue < 1e-10, "unstratified p %g", naive.pvalue);
	free(xs);
	free(ys);
	release(st, 2);
}

Test(stratified, bad_input_is_refused)
{
	double x[] = {1, 2, 3}, y[] = {3, 2, 1}, nanv[] = {1, NAN};
	struct sl_ve_stratum ok = {x, x, 3, 3, 1}, unsorted = {x, y, 3, 3, 1}, bad_scale = {x, x, 3, 3, 0},
	                     with_nan = {nanv, x, 2, 3, 1}, empty = {x, NULL, 3, 0, 1};
	struct sl_van_elteren_result r;
	struct sl_ve_shift sh;
	cr_expect_eq(sl_van_elteren(&ok, 0, 0, SL_ALT_GREATER, &r), SL_EINVAL);
	cr_expect_eq(sl_van_elteren(&unsorted, 1, 0, SL_ALT_GREATER, &r), SL_EINVAL);
	cr_expect_eq(sl_van_elteren(&bad_scale, 1, 0, SL_ALT_GREATER, &r), SL_EINVAL);
	cr_expect_eq(sl_van_elteren(&with_nan, 1, 0, SL_ALT_GREATER, &r), SL_EINVAL);
	cr_expect_eq(sl_van_elteren(&empty, 1, 0, SL_ALT_GREATER, &r), SL_EINVAL, "no stratum with both sides");
	cr_expect_eq(sl_van_elteren(&ok, 1, NAN, SL_ALT_GREATER, &r), SL_EINVAL);
	cr_expect_eq(sl_van_elteren_shift(&ok, 1, 1, &sh), SL_EINVAL);
	cr_assert_eq(sl_van_elteren_shift(&ok, 1, 0.999, &sh), 0); /* 3 a side: |z| <= 1.96 < 3.29 */
	cr_expect(!sh.lo_attained && !sh.hi_attained && isinf(sh.lo) && isinf(sh.hi), "[%g, %g]", sh.lo, sh.hi);
	struct sl_prop_stratum p = {5, 4, 0, 10}, neg = {-1, 4, 0, 10}, none = {0, 0, 0, 10};
	struct sl_strat_prop_result pr;
	cr_expect_eq(sl_strat_prop_test(&p, 1, 0, SL_ALT_GREATER, 0.95, &pr), SL_EINVAL, "x > n");
	cr_expect_eq(sl_strat_prop_test(&neg, 1, 0, SL_ALT_GREATER, 0.95, &pr), SL_EINVAL);
	cr_expect_eq(sl_strat_prop_test(&none, 1, 0, SL_ALT_GREATER, 0.95, &pr), SL_EINVAL, "no stratum with both");
	p.x1 = 1;
	cr_expect_eq(sl_strat_prop_test(&p, 1, 1, SL_ALT_GREATER, 0.95, &pr), SL_EINVAL, "margin 1");
	cr_expect_eq(sl_strat_prop_test(&p, 1, 0, SL_ALT_GREATER, 0, &pr), SL_EINVAL, "conf 0");
	/* no events anywhere: nothing to reject */
	struct sl_prop_stratum zero = {0, 100, 0, 1000};
	cr_assert_eq(sl_strat_prop_test(&zero, 1, 0, SL_ALT_GREATER, 0.95, &pr), 0);
	cr_expect(pr.pvalue == 1 && pr.exact_pvalue == 1, "p %g exact %g", pr.pvalue, pr.exact_pvalue);
}
