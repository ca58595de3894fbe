/* abstats.c: per-arm A/B statistics as GrowthBook's gbstats models/statistics.py defines them:
 * sample mean, proportion, ratio (delta method), CUPED regression adjustment with a pooled
 * theta, and quantiles with an order-statistic interval.
 * Invariants: pure, O(1) per call except sl_ab_quantile_from_sorted (O(1) on sorted input too);
 * the mean and variance accessors return 0, never NaN, for empty or one-unit arms (GrowthBook's
 * convention), so the tests decide what is degenerate. */
#include <math.h>
#include <string.h>

#include "sluice/abstats.h"

void sl_ab_stat_init(struct sl_ab_stat *s, enum sl_ab_kind kind)
{
	memset(s, 0, sizeof *s);
	s->kind = kind;
}

void sl_ab_stat_add(struct sl_ab_stat *s, double y, double dx)
{
	s->n += 1;
	s->sum += y, s->sum_sq += y * y;
	if (s->kind == SL_AB_RATIO)
		s->d_sum += dx, s->d_sum_sq += dx * dx, s->yd_sum += y * dx;
	else if (s->kind == SL_AB_CUPED)
		s->x_sum += dx, s->x_sum_sq += dx * dx, s->yx_sum += y * dx;
}

void sl_ab_stat_merge(struct sl_ab_stat *dst, const struct sl_ab_stat *src)
{
	dst->n += src->n;
	dst->sum += src->sum, dst->sum_sq += src->sum_sq;
	dst->d_sum += src->d_sum, dst->d_sum_sq += src->d_sum_sq, dst->yd_sum += src->yd_sum;
	dst->x_sum += src->x_sum, dst->x_sum_sq += src->x_sum_sq, dst->yx_sum += src->yx_sum;
}

/* A component (SampleMeanStatistic or ProportionStatistic) over n units. */
static double comp_mean(double n, double sum)
{
	return n == 0 ? 0 : sum / n;
}

static double comp_var(double n, double sum, double sum_sq, bool binary)
{
	if (binary) {
		double p = comp_mean(n, sum);
		return p * (1 - p);
	}
	if (n <= 1)
		return 0;
	return (sum_sq - sum * sum / n) / (n - 1);
}

double sl_ab_cov(double n, double s1, double s2, double sp, bool binary)
{
	if (n <= 1)
		return 0;
	if (binary)
		return sp / n - s1 * s2 / (n * n);
	return (sp - s1 * s2 / n) / (n - 1);
}

/* variance_of_ratios: Var(m/d) per unit by the delta method. */
static double ratio_var(double mm, double vm, double md, double vd, double cov)
{
	return vm / (md * md) + vd * mm * mm / (md * md * md * md) - 2 * cov * mm / (md * md * md);
}

static double quantile_var(const struct sl_ab_stat *s)
{
	if (s->n <= 1)
		return 0;
	double w = (s->q_hi - s->q_lo) / (2 * sl_norm_isf(0.025));
	double v = (s->q_n_star / s->n) * (s->n - 1) * w * w;
	return s->n < 100 ? v : fmax(v, 1e-5);
}

double sl_ab_mean(const struct sl_ab_stat *s)
{
	switch (s->kind) {
	case SL_AB_RATIO:
		return s->d_sum == 0 ? 0 : s->sum / s->d_sum;
	case SL_AB_CUPED:
		return comp_mean(s->n, s->sum) - s->theta * comp_mean(s->n, s->x_sum);
	case SL_AB_QUANTILE:
		return s->q_hat;
	default:
		return comp_mean(s->n, s->sum);
	}
}

double sl_ab_unadjusted_mean(const struct sl_ab_stat *s)
{
	return s->kind == SL_AB_CUPED ? comp_mean(s->n, s->sum) : sl_ab_mean(s);
}

double sl_ab_var(const struct sl_ab_stat *s)
{
	bool bin = s->binary;
	switch (s->kind) {
	case SL_AB_PROPORTION:
		return comp_var(s->n, s->sum, s->sum_sq, true);
	case SL_AB_RATIO: {
		double md = comp_mean(s->n, s->d_sum);
		if (md == 0 || s->n <= 1)
			return 0;
		return ratio_var(comp_mean(s->n, s->sum), comp_var(s->n, s->sum, s->sum_sq, bin), md,
		                 comp_var(s->n, s->d_sum, s->d_sum_sq, bin), sl_ab_cov(s->n, s->sum, s->d_sum, s->yd_sum, bin));
	}
	case SL_AB_CUPED: {
		if (s->n <= 1)
			return 0;
		double t = s->theta;
		return comp_var(s->n, s->sum, s->sum_sq, bin) + t * t * comp_var(s->n, s->x_sum, s->x_sum_sq, bin) -
		       2 * t * sl_ab_cov(s->n, s->sum, s->x_sum, s->yx_sum, bin);
	}
	case SL_AB_QUANTILE:
		return quantile_var(s);
	default:
		return comp_var(s->n, s->sum, s->sum_sq, false);
	}
}

double sl_ab_cuped_theta(const struct sl_ab_stat *a, const struct sl_ab_stat *b)
{
	double n = a->n + b->n, y = a->sum + b->sum, x = a->x_sum + b->x_sum;
	bool bin = a->binary && b->binary;
	double vy = comp_var(n, y, a->sum_sq + b->sum_sq, bin);
	double vx = comp_var(n, x, a->x_sum_sq + b->x_sum_sq, bin);
	if (vx == 0 || vy == 0 || n <= 1 || !isfinite(vx) || !isfinite(vy))
		return 0;
	double t = sl_ab_cov(n, y, x, a->yx_sum + b->yx_sum, bin) / vx;
	return isfinite(t) ? t : 0;
}

int sl_ab_cuped_prepare(struct sl_ab_stat *a, struct sl_ab_stat *b)
{
	if (!a || !b || a->kind != SL_AB_CUPED || b->kind != SL_AB_CUPED)
		return SL_EINVAL;
	a->theta = b->theta = sl_ab_cuped_theta(a, b);
	return 0;
}

int sl_ab_quantile_from_sorted(const double *v, size_t n, double nu, struct sl_ab_stat *out)
{
	if (!v || !out || n < 2 || !(nu > 0 && nu < 1))
		return SL_EINVAL;
	double h = sl_norm_isf(0.025) * sqrt(nu * (1 - nu) / (double)n);
	sl_ab_stat_init(out, SL_AB_QUANTILE);
	out->n = out->q_n_star = (double)n;
	out->q_nu = nu;
	out->q_hat = sl_quantile_sorted(v, n, nu);
	out->q_lo = sl_quantile_sorted(v, n, fmax(0, nu - h));
	out->q_hi = sl_quantile_sorted(v, n, fmin(1, nu + h));
	return 0;
}
