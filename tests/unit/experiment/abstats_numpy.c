/* abstats_numpy.c: CUPED, ratio and quantile statistics against NumPy/SciPy computed from the
 * raw per-unit data (abstats_expect.h, written by gen_cuped.py beside this file): the arms are
 * built unit by unit with sl_ab_stat_add, so the sufficient statistics, the pooled theta, the
 * adjusted variances, the delta-method ratio variance and the Welch test on CUPED-adjusted
 * values are all checked against an independent computation. Tolerance: relative 1e-9
 * (sums of a few hundred values in a different order). */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>

#include "abstats_expect.h"
#include "sluice/abstats.h"

static void close_to(double x, double e, double rel, const char *what)
{
	cr_expect(fabs(x - e) <= rel * fmax(1e-300, fabs(e)), "%s: %.17g, expected %.17g", what, x, e);
}

static void build(struct sl_ab_stat *s, enum sl_ab_kind kind, const double *y, const double *dx, size_t n)
{
	sl_ab_stat_init(s, kind);
	for (size_t i = 0; i < n; i++)
		sl_ab_stat_add(s, y[i], dx ? dx[i] : 0);
}

Test(abstats_numpy, cuped)
{
	struct sl_ab_stat a, b;
	build(&a, SL_AB_CUPED, YA, XA, NA);
	build(&b, SL_AB_CUPED, YB, XB, NB);
	cr_assert_eq(sl_ab_cuped_prepare(&a, &b), 0);
	close_to(a.theta, CUPED_THETA, 1e-9, "theta");
	close_to(sl_ab_mean(&a), CUPED_MEAN_A, 1e-9, "adjusted mean a");
	close_to(sl_ab_mean(&b), CUPED_MEAN_B, 1e-9, "adjusted mean b");
	close_to(sl_ab_var(&a), CUPED_VAR_A, 1e-9, "adjusted var a");
	close_to(sl_ab_var(&b), CUPED_VAR_B, 1e-9, "adjusted var b");

	struct sl_ab_opts o;
	sl_ab_opts_init(&o);
	struct sl_ab_result r;
	cr_assert_eq(sl_ab_frequentist(&a, &b, &o, &r), 0);
	cr_expect(r.ok);
	close_to(r.expected, CUPED_REL_PE, 1e-9, "relative effect");
	close_to(r.stddev, CUPED_REL_SE, 1e-9, "relative se");
	o.relative = false;
	cr_assert_eq(sl_ab_frequentist(&a, &b, &o, &r), 0);
	close_to(r.expected, CUPED_ABS_PE, 1e-9, "absolute effect");
	close_to(r.stddev, CUPED_ABS_SE, 1e-9, "absolute se");
	close_to(r.df, CUPED_ABS_DF, 1e-9, "welch df");
	close_to(r.p_value, CUPED_ABS_P, 1e-9, "scipy ttest_ind on adjusted values");
	close_to(r.ci[0], CUPED_ABS_LO, 1e-9, "ci lo");
	close_to(r.ci[1], CUPED_ABS_HI, 1e-9, "ci hi");

	/* theta 0 is the unadjusted test; the adjustment shrinks the standard error */
	struct sl_ab_result plain;
	a.theta = b.theta = 0;
	cr_assert_eq(sl_ab_frequentist(&a, &b, &o, &plain), 0);
	close_to(plain.p_value, PLAIN_ABS_P, 1e-9, "unadjusted p");
	close_to(plain.stddev, PLAIN_ABS_SE, 1e-9, "unadjusted se");
	cr_expect(r.stddev < 0.7 * plain.stddev, "CUPED se %g vs %g", r.stddev, plain.stddev);

	/* merge of two halves equals the whole */
	struct sl_ab_stat h1, h2;
	build(&h1, SL_AB_CUPED, YA, XA, NA / 2);
	build(&h2, SL_AB_CUPED, YA + NA / 2, XA + NA / 2, NA - NA / 2);
	sl_ab_stat_merge(&h1, &h2);
	struct sl_ab_stat whole;
	build(&whole, SL_AB_CUPED, YA, XA, NA);
	cr_expect(h1.n == whole.n);
	close_to(h1.yx_sum, whole.yx_sum, 1e-12, "merged sum of products");
	close_to(h1.x_sum_sq, whole.x_sum_sq, 1e-12, "merged pre sum of squares");
}

Test(abstats_numpy, ratio)
{
	struct sl_ab_stat a, b;
	build(&a, SL_AB_RATIO, MA, DA, NA);
	build(&b, SL_AB_RATIO, MB, DB, NB);
	close_to(sl_ab_mean(&a), RATIO_MEAN_A, 1e-12, "ratio a");
	close_to(sl_ab_mean(&b), RATIO_MEAN_B, 1e-12, "ratio b");
	close_to(sl_ab_var(&a), RATIO_VAR_A, 1e-9, "delta-method var a");
	close_to(sl_ab_var(&b), RATIO_VAR_B, 1e-9, "delta-method var b");
	struct sl_ab_opts o;
	sl_ab_opts_init(&o);
	struct sl_ab_result r;
	cr_assert_eq(sl_ab_frequentist(&a, &b, &o, &r), 0);
	close_to(r.expected, RATIO_REL_PE, 1e-12, "relative effect");
	close_to(r.stddev, RATIO_REL_SE, 1e-9, "relative se");
	o.relative = false;
	cr_assert_eq(sl_ab_bayesian(&a, &b, &o, &r), 0);
	close_to(r.stddev, RATIO_ABS_SE, 1e-9, "absolute se (flat prior: posterior sd)");
	close_to(r.chance_to_win, sl_norm_cdf(r.expected / r.stddev), 1e-15, "chance to win");
}

static int cmp(const void *x, const void *y)
{
	double a = *(const double *)x, b = *(const double *)y;
	return (a > b) - (a < b);
}

Test(abstats_numpy, quantile)
{
	double v[NB];
	for (size_t i = 0; i < NB; i++)
		v[i] = YB[i];
	qsort(v, NB, sizeof *v, cmp);
	struct sl_ab_stat q;
	cr_assert_eq(sl_ab_quantile_from_sorted(v, NB, Q_NU, &q), 0);
	cr_expect(q.kind == SL_AB_QUANTILE && q.n == NB && q.q_n_star == NB);
	close_to(q.q_hat, Q_HAT_B, 1e-12, "p90");
	close_to(q.q_lo, Q_LO_B, 1e-12, "p90 lower");
	close_to(q.q_hi, Q_HI_B, 1e-12, "p90 upper");
	cr_expect(sl_ab_var(&q) > 0);
	cr_expect_eq(sl_ab_quantile_from_sorted(v, 1, 0.5, &q), SL_EINVAL);
	cr_expect_eq(sl_ab_quantile_from_sorted(v, NB, 1, &q), SL_EINVAL);

	/* a difference of medians of two samples shifted by a constant: the interval covers it */
	double w[NB];
	for (size_t i = 0; i < NB; i++)
		w[i] = v[i] + 2.5;
	struct sl_ab_stat qa, qb;
	cr_assert_eq(sl_ab_quantile_from_sorted(v, NB, 0.5, &qa), 0);
	cr_assert_eq(sl_ab_quantile_from_sorted(w, NB, 0.5, &qb), 0);
	struct sl_ab_opts o;
	sl_ab_opts_init(&o);
	o.relative = false;
	struct sl_ab_result r;
	cr_assert_eq(sl_ab_frequentist(&qa, &qb, &o, &r), 0);
	cr_expect(r.ok && fabs(r.expected - 2.5) < 1e-12 && r.ci[0] < 2.5 && r.ci[1] > 2.5, "%g [%g, %g]", r.expected,
	          r.ci[0], r.ci[1]);
	/* too few units for a p99 interval: GrowthBook's zero-variance rule */
	struct sl_ab_stat s1, s2;
	cr_assert_eq(sl_ab_quantile_from_sorted(v, 100, 0.99, &s1), 0);
	cr_assert_eq(sl_ab_quantile_from_sorted(w, 100, 0.99, &s2), 0);
	cr_assert_eq(sl_ab_frequentist(&s1, &s2, &o, &r), 0);
	cr_expect(!r.ok && r.status == SL_AB_ZERO_VARIANCE);
}

Test(abstats_numpy, proportion_cuped_binary)
{
	/* binary post and pre values: ProportionStatistic variances and covariance */
	struct sl_ab_stat a, b;
	sl_ab_stat_init(&a, SL_AB_CUPED);
	sl_ab_stat_init(&b, SL_AB_CUPED);
	a.binary = b.binary = true;
	for (int i = 0; i < 400; i++) {
		double x = i % 3 == 0, y = (i % 5 == 0) || (x && i % 2);
		sl_ab_stat_add(i % 2 ? &a : &b, y, x);
	}
	cr_assert_eq(sl_ab_cuped_prepare(&a, &b), 0);
	/* by hand: pooled over 400 units */
	double n = 400, sy = a.sum + b.sum, sx = a.x_sum + b.x_sum, sp = a.yx_sum + b.yx_sum;
	double px = sx / n, cov = sp / n - sy * sx / (n * n);
	close_to(a.theta, cov / (px * (1 - px)), 1e-14, "binary theta");
	double pa = a.sum / a.n, qa = a.x_sum / a.n;
	double va = pa * (1 - pa) + a.theta * a.theta * qa * (1 - qa) -
	            2 * a.theta * (a.yx_sum / a.n - a.sum * a.x_sum / (a.n * a.n));
	close_to(sl_ab_var(&a), va, 1e-14, "binary adjusted variance");
}
