/* proportion.c: comparing two proportions: the pooled two-proportion z-test and the
 * Newcombe (1998, method 10) hybrid score interval for p1 - p2 built from Wilson intervals
 * without continuity correction. Invariants: 0 <= x <= n, n > 0; lo <= diff <= hi. */
#include <math.h>

#include "stats-int.h"

static double alt_p(double z, enum sl_alt alt)
{
	if (alt == SL_ALT_LESS)
		return sl_norm_cdf(z);
	if (alt == SL_ALT_GREATER)
		return sl_norm_sf(z);
	return fmin(1, 2 * sl_norm_sf(fabs(z)));
}

static void wilson(double x, double n, double z, double *lo, double *hi)
{
	double z2 = z * z, c = (x + z2 / 2) / (n + z2);
	double h = z / (n + z2) * sqrt(x * (n - x) / n + z2 / 4);
	*lo = x == 0 ? 0 : fmax(0, c - h);
	*hi = x == n ? 1 : fmin(1, c + h);
}

int sl_wilson_interval(int64_t x, int64_t n, double conf, double *lo, double *hi)
{
	if (n <= 0 || x < 0 || x > n || !(conf > 0 && conf < 1))
		return SL_EINVAL;
	wilson((double)x, (double)n, sl_norm_isf(0.5 * (1 - conf)), lo, hi);
	return 0;
}

int sl_prop_test(int64_t x1, int64_t n1, int64_t x2, int64_t n2, enum sl_alt alt, double conf,
                 struct sl_prop_result *out)
{
	if (n1 <= 0 || n2 <= 0 || x1 < 0 || x2 < 0 || x1 > n1 || x2 > n2 || !(conf > 0 && conf < 1))
		return SL_EINVAL;
	double a = (double)x1, na = (double)n1, b = (double)x2, nb = (double)n2;
	struct sl_prop_result r = {.p1 = a / na, .p2 = b / nb};
	r.diff = r.p1 - r.p2;
	double pp = (a + b) / (na + nb), se = sqrt(pp * (1 - pp) * (1 / na + 1 / nb));
	r.z = se > 0 ? r.diff / se : NAN;
	r.pvalue = se > 0 ? alt_p(r.z, alt) : 1;
	double z = sl_norm_isf(0.5 * (1 - conf)), l1, u1, l2, u2;
	wilson(a, na, z, &l1, &u1);
	wilson(b, nb, z, &l2, &u2);
	r.lo = r.diff - sqrt((r.p1 - l1) * (r.p1 - l1) + (u2 - r.p2) * (u2 - r.p2));
	r.hi = r.diff + sqrt((u1 - r.p1) * (u1 - r.p1) + (r.p2 - l2) * (r.p2 - l2));
	*out = r;
	return 0;
}
