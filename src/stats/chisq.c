/* chisq.c: Pearson chi-squared tests: r x c contingency (SciPy chi2_contingency, Yates'
 * correction only when dof == 1), goodness of fit (SciPy chisquare) and the sample-ratio-
 * mismatch check built on it. Invariants: counts are finite and nonnegative; an expected
 * count of zero is refused (SL_EINVAL), as SciPy raises. */
#include <math.h>
#include <stdlib.h>

#include "stats-int.h"

#define CHISQ_MAX_DIM 4096

static int margins(const double *t, size_t rows, size_t cols, double *rs, double *cs, double *total)
{
	*total = 0;
	for (size_t j = 0; j < cols; j++)
		cs[j] = 0;
	for (size_t i = 0; i < rows; i++) {
		rs[i] = 0;
		for (size_t j = 0; j < cols; j++) {
			double v = t[i * cols + j];
			if (!(v >= 0) || !isfinite(v))
				return SL_EINVAL;
			rs[i] += v, cs[j] += v;
		}
		*total += rs[i];
	}
	return 0;
}

static double pearson(const double *t, size_t rows, size_t cols, const double *rs, const double *cs, double total,
                      bool yates)
{
	double stat = 0;
	for (size_t i = 0; i < rows; i++)
		for (size_t j = 0; j < cols; j++) {
			double e = rs[i] * cs[j] / total, o = t[i * cols + j];
			if (yates) {
				double d = e - o;
				o += (d > 0 ? 1 : d < 0 ? -1 : 0) * fmin(0.5, fabs(d));
			}
			stat += (o - e) * (o - e) / e;
		}
	return stat;
}

int sl_chi2_contingency(const double *table, size_t rows, size_t cols, bool correction, struct sl_chi2_result *out)
{
	if (!table || rows == 0 || cols == 0 || rows > CHISQ_MAX_DIM || cols > CHISQ_MAX_DIM)
		return SL_EINVAL;
	double *m = malloc((rows + cols) * sizeof *m), total;
	if (!m)
		return SL_ENOMEM;
	double *rs = m, *cs = m + rows;
	int err = margins(table, rows, cols, rs, cs, &total);
	for (size_t i = 0; !err && i < rows; i++)
		if (rs[i] == 0)
			err = SL_EINVAL;
	for (size_t j = 0; !err && j < cols; j++)
		if (cs[j] == 0)
			err = SL_EINVAL;
	if (!err) {
		double dof = (double)(rows * cols) - (double)rows - (double)cols + 1;
		struct sl_chi2_result r = {0, dof, 1};
		if (dof > 0) {
			r.statistic = pearson(table, rows, cols, rs, cs, total, dof == 1 && correction);
			r.pvalue = sl_chi2_sf(r.statistic, dof);
		}
		*out = r;
	}
	free(m);
	return err;
}

int sl_chisquare(const double *f_obs, const double *f_exp, size_t k, int ddof, struct sl_chi2_result *out)
{
	if (!f_obs || k == 0)
		return SL_EINVAL;
	double so = 0, se = 0;
	for (size_t i = 0; i < k; i++) {
		if (!isfinite(f_obs[i]) || (f_exp && !(f_exp[i] > 0)))
			return SL_EINVAL;
		so += f_obs[i];
		se += f_exp ? f_exp[i] : 0;
	}
	if (f_exp && fabs(so - se) / fmin(so, se) > 1e-8)
		return SL_EINVAL;
	double mean = so / (double)k, stat = 0;
	if (!f_exp && !(mean > 0))
		return SL_EINVAL;
	for (size_t i = 0; i < k; i++) {
		double e = f_exp ? f_exp[i] : mean, d = f_obs[i] - e;
		stat += d * d / e;
	}
	double df = (double)k - 1 - ddof;
	if (!(df > 0))
		return SL_EINVAL;
	*out = (struct sl_chi2_result){stat, df, sl_chi2_sf(stat, df)};
	return 0;
}

int sl_srm(const double *counts, const double *weights, size_t k, struct sl_chi2_result *out)
{
	if (!counts || !weights || k < 2)
		return SL_EINVAL;
	double total = 0, wsum = 0, stat = 0;
	size_t used = 0;
	for (size_t i = 0; i < k; i++) {
		if (!(weights[i] >= 0) || !(counts[i] >= 0))
			return SL_EINVAL;
		if (weights[i] > 0)
			total += counts[i], wsum += weights[i], used++;
	}
	if (used < 2 || !(total > 0))
		return SL_EINVAL;
	for (size_t i = 0; i < k; i++) {
		if (weights[i] == 0)
			continue;
		double e = total * weights[i] / wsum, d = counts[i] - e;
		stat += d * d / e;
	}
	double df = (double)used - 1;
	*out = (struct sl_chi2_result){stat, df, sl_chi2_sf(stat, df)};
	return 0;
}
