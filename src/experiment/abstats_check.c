/* abstats_check.c: experiment-level checks: the sample-ratio-mismatch flag (GrowthBook's
 * threshold and minimum units over sl_srm's chi-squared test) and the Holm-Bonferroni and
 * Benjamini-Hochberg adjustments with GrowthBook's processing order.
 * Invariants: no allocation (the caller's order array is the sort's workspace); ties in p are
 * ordered by original index, so results do not depend on the sort algorithm; O(n log n). */
#include <math.h>

#include "sluice/abstats.h"

int sl_ab_srm(const double *units, const double *weights, size_t k, double *p, bool *flag)
{
	if (!units || !weights || !p || !flag || k < 2)
		return SL_EINVAL;
	double total = 0, min_units = INFINITY;
	for (size_t i = 0; i < k; i++) {
		if (!(units[i] >= 0 && units[i] < INFINITY) || !(weights[i] >= 0 && weights[i] < INFINITY))
			return SL_EINVAL;
		if (weights[i] > 0)
			total += units[i], min_units = fmin(min_units, units[i]);
	}
	if (total == 0) {
		*p = 1, *flag = false;
		return 0;
	}
	struct sl_chi2_result r;
	int rc = sl_srm(units, weights, k, &r);
	if (rc)
		return rc;
	*p = r.pvalue;
	*flag = r.pvalue < SL_AB_SRM_THRESHOLD && min_units >= SL_AB_SRM_MIN_UNITS;
	return 0;
}

/* Sort key: (sign * p, index) ascending; sign -1 sorts p descending. */
static bool before(const double *p, double sign, size_t i, size_t j)
{
	double a = sign * p[i], b = sign * p[j];
	return a < b || (a == b && i < j);
}

static void sift(const double *p, double sign, size_t *o, size_t root, size_t n)
{
	for (size_t c; (c = 2 * root + 1) < n; root = c) {
		if (c + 1 < n && before(p, sign, o[c], o[c + 1]))
			c++;
		if (!before(p, sign, o[root], o[c]))
			return;
		size_t t = o[root];
		o[root] = o[c], o[c] = t;
	}
}

/* Heapsort of the indexes 0..n-1 by the key: no allocation, total order, so stable in effect. */
static void sort_order(const double *p, size_t n, double sign, size_t *o)
{
	for (size_t i = 0; i < n; i++)
		o[i] = i;
	for (size_t i = n / 2; i-- > 0;)
		sift(p, sign, o, i, n);
	for (size_t end = n; end-- > 1;) {
		size_t t = o[0];
		o[0] = o[end], o[end] = t;
		sift(p, sign, o, 0, end);
	}
}

static int check_p(const double *p, size_t n, const double *adjusted, const size_t *order)
{
	if (n && (!p || !adjusted || !order))
		return SL_EINVAL;
	for (size_t i = 0; i < n; i++)
		if (!(p[i] >= 0 && p[i] <= 1))
			return SL_EINVAL;
	return 0;
}

int sl_ab_adjust_holm(const double *p, size_t n, double *adjusted, size_t *order)
{
	int rc = check_p(p, n, adjusted, order);
	if (rc)
		return rc;
	sort_order(p, n, 1, order);
	double run = 0;
	for (size_t k = 0; k < n; k++) {
		run = fmin(1, fmax(run, p[order[k]] * (double)(n - k)));
		adjusted[order[k]] = run;
	}
	return 0;
}

int sl_ab_adjust_bh(const double *p, size_t n, double *adjusted, size_t *order)
{
	int rc = check_p(p, n, adjusted, order);
	if (rc)
		return rc;
	sort_order(p, n, -1, order);
	double run = 1;
	for (size_t k = 0; k < n; k++) {
		run = fmin(run, p[order[k]] * (double)n / (double)(n - k));
		adjusted[order[k]] = run;
	}
	return 0;
}
