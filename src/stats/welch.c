/* welch.c: Welch's unequal-variance t-test (SciPy ttest_ind(equal_var=False)) and the
 * matching confidence interval for mean_x - mean_y.
 * Invariants: needs n >= 2 per sample and a positive standard error (else SL_ERANGE: a
 * metric without variance cannot be tested this way); variances are sample variances
 * (n-1), computed in two passes. */
#include <math.h>

#include "stats-int.h"

int sl_welch_from_stats(double mean1, double var1, double n1, double mean2, double var2, double n2, enum sl_alt alt,
                        double conf, struct sl_welch_result *out)
{
	if (!(n1 >= 2 && n2 >= 2) || !(var1 >= 0 && var2 >= 0) || !isfinite(mean1) || !isfinite(mean2) ||
	    !(conf > 0 && conf < 1))
		return SL_EINVAL;
	double a = var1 / n1, b = var2 / n2, s2 = a + b;
	if (!(s2 > 0))
		return SL_ERANGE;
	struct sl_welch_result r = {.diff = mean1 - mean2, .se = sqrt(s2)};
	r.df = s2 * s2 / (a * a / (n1 - 1) + b * b / (n2 - 1));
	r.t = r.diff / r.se;
	if (alt == SL_ALT_LESS) {
		r.pvalue = sl_t_cdf(r.t, r.df);
		r.lo = -INFINITY, r.hi = r.diff + sl_t_isf(1 - conf, r.df) * r.se;
	} else if (alt == SL_ALT_GREATER) {
		r.pvalue = sl_t_sf(r.t, r.df);
		r.lo = r.diff - sl_t_isf(1 - conf, r.df) * r.se, r.hi = INFINITY;
	} else {
		r.pvalue = fmin(1, 2 * sl_t_cdf(-fabs(r.t), r.df));
		double h = sl_t_isf(0.5 * (1 - conf), r.df) * r.se;
		r.lo = r.diff - h, r.hi = r.diff + h;
	}
	*out = r;
	return 0;
}

static void mean_var(const double *v, size_t n, double *mean, double *var)
{
	double s = 0, ss = 0;
	for (size_t i = 0; i < n; i++)
		s += v[i];
	double m = s / (double)n;
	for (size_t i = 0; i < n; i++)
		ss += (v[i] - m) * (v[i] - m);
	*mean = m, *var = n > 1 ? ss / (double)(n - 1) : NAN;
}

int sl_welch(const double *x, size_t nx, const double *y, size_t ny, enum sl_alt alt, double conf,
             struct sl_welch_result *out)
{
	if (!x || !y || nx < 2 || ny < 2)
		return SL_EINVAL;
	double m1, v1, m2, v2;
	mean_var(x, nx, &m1, &v1);
	mean_var(y, ny, &m2, &v2);
	return sl_welch_from_stats(m1, v1, (double)nx, m2, v2, (double)ny, alt, conf, out);
}
