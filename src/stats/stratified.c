/* stratified.c: two-sample comparisons pooled over strata (a rollout's stages), so that
 * evidence accumulates across strata while each stratum is compared only with itself (a shift
 * of level or traffic mix between strata cannot bias the result).
 *
 * Values: van Elteren's stratified Wilcoxon-Mann-Whitney test. In stratum k (N_k = nx + ny
 * values), U_k counts the pairs with y - delta s_k > x (ties 1/2); with weights 1/(N_k + 1),
 *   z(delta) = sum (U_k - nx ny/2)/(N_k+1) / sqrt(sum nx ny ((N_k+1) - T_k/(N_k(N_k-1)))/(12 (N_k+1)^2))
 * (T_k: sum of t^3 - t over tie groups), no continuity correction. One stratum gives SciPy's
 * mannwhitneyu(y, x, use_continuity=False). z(delta) never increases with delta, so the
 * common shift (in units of s_k per stratum) is estimated by its zero crossing and bounded by
 * the crossings of +-z_conf, found by bisection (the Hodges-Lehmann estimator and interval for
 * one stratum and s = 1, up to the continuity correction).
 *
 * Rates: Mantel-Haenszel weights w_k = n1 n2 / N_k on the differences d_k = x1/n1 - x2/n2;
 *   z(m) = sum w_k (d_k - m) / sqrt(sum w_k^2 v_k(m) N_k/(N_k - 1)),
 * v_k(m) = p1 q1/n1 + p2 q2/n2 at the rates restricted to p1 - p2 = m (moment estimate:
 * p2 = (x1 + x2 - n1 m)/N_k, clamped to the feasible range). At m = 0 this is exactly the
 * Cochran-Mantel-Haenszel statistic (uncorrected); for one stratum its square is SciPy's
 * chi2_contingency(correction=False) statistic times (N-1)/N. The interval inverts z(m).
 * Small counts: the exact conditional test of p1 = p2 (the distribution of sum x1 given every
 * stratum's margins, a convolution of hypergeometric laws; Fisher's exact test for one
 * stratum), computed while its support is at most SL_STRAT_EXACT_MAX_SUPPORT and the
 * convolution at most SL_STRAT_EXACT_MAX_WORK multiply-adds (about 0.1 s).
 * Invariants: pure; inputs are validated (sorted, finite values; 0 <= x <= n) and refused with
 * SL_EINVAL; strata with an empty side are skipped; the only allocations are the exact test's
 * two arrays, freed before return. */
#include <stdlib.h>

#include "stats-int.h"

#define BISECT_STEPS 64

/* ---- van Elteren ---- */

/* U (pairs y - d > x, ties 1/2) and the tie sum of the merged sample, in O(nx + ny). */
static void stratum_u(const struct sl_ve_stratum *s, double d, double *u, double *tie)
{
	size_t i = 0, j = 0;
	double below = 0;
	*u = 0, *tie = 0;
	while (i < s->nx || j < s->ny) {
		double yv = j < s->ny ? s->y[j] - d * s->scale : INFINITY;
		double v = i < s->nx && s->x[i] < yv ? s->x[i] : yv;
		double cx = 0, cy = 0;
		for (; i < s->nx && s->x[i] == v; i++)
			cx++;
		for (; j < s->ny && s->y[j] - d * s->scale == v; j++)
			cy++;
		*u += cy * (below + 0.5 * cx);
		below += cx;
		double g = cx + cy;
		*tie += g * g * g - g;
	}
}

static double ratio_z(double num, double var)
{
	if (var > 0)
		return num / sqrt(var);
	return num > 0 ? INFINITY : num < 0 ? -INFINITY : NAN; /* NaN: no information (p = 1) */
}

static double ve_z(const struct sl_ve_stratum *s, size_t k, double d, double *num, double *var)
{
	*num = 0, *var = 0;
	for (size_t i = 0; i < k; i++) {
		if (!s[i].nx || !s[i].ny)
			continue;
		double u, tie, nx = (double)s[i].nx, ny = (double)s[i].ny, n = nx + ny;
		stratum_u(&s[i], d, &u, &tie);
		double w = 1 / (n + 1);
		*num += w * (u - nx * ny / 2);
		*var += w * w * nx * ny / 12 * ((n + 1) - (n > 1 ? tie / (n * (n - 1)) : 0));
	}
	return ratio_z(*num, *var);
}

static bool sorted_finite(const double *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!isfinite(v[i]) || (i && v[i] < v[i - 1]))
			return false;
	return true;
}

static int ve_valid(const struct sl_ve_stratum *s, size_t k)
{
	if (!s || k == 0)
		return SL_EINVAL;
	for (size_t i = 0; i < k; i++)
		if ((s[i].nx && !s[i].x) || (s[i].ny && !s[i].y) || !(s[i].scale > 0) || !isfinite(s[i].scale) ||
		    !sorted_finite(s[i].x, s[i].nx) || !sorted_finite(s[i].y, s[i].ny))
			return SL_EINVAL;
	return 0;
}

static double tail_p(double z, enum sl_alt alt)
{
	if (isnan(z))
		return 1;
	if (alt == SL_ALT_GREATER)
		return sl_norm_sf(z);
	if (alt == SL_ALT_LESS)
		return sl_norm_cdf(z);
	return fmin(1, 2 * sl_norm_sf(fabs(z)));
}

int sl_van_elteren(const struct sl_ve_stratum *s, size_t k, double delta, enum sl_alt alt,
                   struct sl_van_elteren_result *out)
{
	if (ve_valid(s, k) || !isfinite(delta))
		return SL_EINVAL;
	struct sl_van_elteren_result r = {0};
	for (size_t i = 0; i < k; i++)
		r.strata += s[i].nx && s[i].ny;
	if (!r.strata)
		return SL_EINVAL;
	r.z = ve_z(s, k, delta, &r.statistic, &r.variance);
	r.pvalue = tail_p(r.z, alt);
	*out = r;
	return 0;
}

/* Shifts (in units of scale) beyond which every pair of every stratum is on one side. */
static void ve_bracket(const struct sl_ve_stratum *s, size_t k, double *lo, double *hi)
{
	*lo = INFINITY, *hi = -INFINITY;
	for (size_t i = 0; i < k; i++) {
		if (!s[i].nx || !s[i].ny)
			continue;
		*lo = fmin(*lo, (s[i].y[0] - s[i].x[s[i].nx - 1]) / s[i].scale);
		*hi = fmax(*hi, (s[i].y[s[i].ny - 1] - s[i].x[0]) / s[i].scale);
	}
	double pad = fmax(1e-9, 1e-6 * (*hi - *lo));
	*lo -= pad, *hi += pad;
}

/* The crossing of level c by z(d) (non-increasing): the boundary between z >= c and z < c
 * (strict = false) or z > c and z <= c (strict = true), inside [a, b]. */
static double ve_cross(const struct sl_ve_stratum *s, size_t k, double c, bool strict, double a, double b)
{
	double num, var;
	for (int it = 0; it < BISECT_STEPS && b - a > 1e-9 * fmax(1, fabs(a) + fabs(b)); it++) {
		double m = 0.5 * (a + b), z = ve_z(s, k, m, &num, &var);
		if (strict ? z > c : z >= c)
			a = m;
		else
			b = m;
	}
	return 0.5 * (a + b);
}

int sl_van_elteren_shift(const struct sl_ve_stratum *s, size_t k, double conf, struct sl_ve_shift *out)
{
	struct sl_van_elteren_result t;
	if (!(conf > 0 && conf < 1) || sl_van_elteren(s, k, 0, SL_ALT_TWO_SIDED, &t))
		return SL_EINVAL;
	double a, b, num, var, zc = sl_norm_isf(0.5 * (1 - conf));
	ve_bracket(s, k, &a, &b);
	struct sl_ve_shift r;
	r.estimate = ve_cross(s, k, 0, false, a, b);
	r.lo_attained = ve_z(s, k, a, &num, &var) >= zc;
	r.hi_attained = ve_z(s, k, b, &num, &var) <= -zc;
	r.lo = r.lo_attained ? ve_cross(s, k, zc, false, a, b) : -INFINITY;
	r.hi = r.hi_attained ? ve_cross(s, k, -zc, true, a, b) : INFINITY;
	*out = r;
	return 0;
}

/* ---- stratified proportions ---- */

static int prop_valid(const struct sl_prop_stratum *s, size_t k)
{
	if (!s || k == 0)
		return SL_EINVAL;
	for (size_t i = 0; i < k; i++)
		if (s[i].n1 < 0 || s[i].n2 < 0 || s[i].x1 < 0 || s[i].x2 < 0 || s[i].x1 > s[i].n1 ||
		    s[i].x2 > s[i].n2 || s[i].n1 > INT64_MAX / 2 - s[i].n2)
			return SL_EINVAL;
	return 0;
}

static bool prop_used(const struct sl_prop_stratum *s)
{
	return s->n1 > 0 && s->n2 > 0;
}

/* Variance of d at rates restricted to p1 - p2 = m, times N/(N-1). */
static double restricted_var(const struct sl_prop_stratum *s, double m)
{
	double n1 = (double)s->n1, n2 = (double)s->n2, n = n1 + n2;
	double p2 = ((double)(s->x1 + s->x2) - n1 * m) / n;
	p2 = fmin(fmax(p2, fmax(0, -m)), fmin(1, 1 - m));
	double p1 = p2 + m;
	double v = p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2;
	return n > 1 ? v * n / (n - 1) : v;
}

static double prop_z(const struct sl_prop_stratum *s, size_t k, double m)
{
	double num = 0, var = 0;
	for (size_t i = 0; i < k; i++) {
		if (!prop_used(&s[i]))
			continue;
		double n1 = (double)s[i].n1, n2 = (double)s[i].n2, w = n1 * n2 / (n1 + n2);
		num += w * ((double)s[i].x1 / n1 - (double)s[i].x2 / n2 - m);
		var += w * w * restricted_var(&s[i], m);
	}
	return ratio_z(num, var);
}

/* Crossing of level c by z(m) over m in [-1, 1]: the boundary between z >= c and z < c. */
static double prop_cross(const struct sl_prop_stratum *s, size_t k, double c)
{
	double a = -1, b = 1;
	for (int it = 0; it < BISECT_STEPS && b - a > 1e-13; it++) {
		double m = 0.5 * (a + b);
		if (prop_z(s, k, m) >= c)
			a = m;
		else
			b = m;
	}
	return 0.5 * (a + b);
}

static double mh_diff(const struct sl_prop_stratum *s, size_t k)
{
	double num = 0, den = 0;
	for (size_t i = 0; i < k; i++) {
		if (!prop_used(&s[i]))
			continue;
		double n1 = (double)s[i].n1, n2 = (double)s[i].n2, w = n1 * n2 / (n1 + n2);
		num += w * ((double)s[i].x1 / n1 - (double)s[i].x2 / n2);
		den += w;
	}
	return num / den;
}

/* Support of x1 in stratum s given its margins. */
static void hyper_support(const struct sl_prop_stratum *s, int64_t *lo, int64_t *hi)
{
	int64_t good = s->x1 + s->x2, bad = s->n1 + s->n2 - good;
	*lo = s->n1 > bad ? s->n1 - bad : 0;
	*hi = s->n1 < good ? s->n1 : good;
}

/* Convolves dist[0..len] (support offset lo0) with stratum s's hypergeometric law into tmp. */
static size_t convolve_stratum(const struct sl_prop_stratum *s, const double *dist, size_t len, double *tmp)
{
	int64_t lo, hi, total = s->n1 + s->n2, good = s->x1 + s->x2;
	hyper_support(s, &lo, &hi);
	size_t w = (size_t)(hi - lo), out = len + w;
	for (size_t i = 0; i <= out; i++)
		tmp[i] = 0;
	for (int64_t a = lo; a <= hi; a++) {
		double p = sl_hypergeom_pmf(a, total, good, s->n1);
		for (size_t i = 0; i <= len; i++)
			tmp[i + (size_t)(a - lo)] += p * dist[i];
	}
	return out;
}

/* Support width of the exact law and the work to build it, or false when past the limits. */
static bool exact_size(const struct sl_prop_stratum *s, size_t k, size_t *width)
{
	double work = 0;
	*width = 0;
	for (size_t i = 0; i < k; i++) {
		if (!prop_used(&s[i]))
			continue;
		int64_t lo, hi;
		hyper_support(&s[i], &lo, &hi);
		if ((double)*width + (double)(hi - lo) > SL_STRAT_EXACT_MAX_SUPPORT)
			return false;
		*width += (size_t)(hi - lo);
		work += (double)(*width + 1) * (double)(hi - lo + 1);
	}
	return work <= SL_STRAT_EXACT_MAX_WORK;
}

/* Exact conditional p-value of p1 = p2 against alt; NaN past the limits. */
static int exact_p(const struct sl_prop_stratum *s, size_t k, enum sl_alt alt, double *out)
{
	size_t width;
	*out = NAN;
	if (!exact_size(s, k, &width))
		return 0;
	double *dist = malloc((width + 1) * sizeof *dist), *tmp = malloc((width + 1) * sizeof *tmp);
	if (!dist || !tmp) {
		free(dist);
		free(tmp);
		return SL_ENOMEM;
	}
	size_t len = 0;
	int64_t base = 0, obs = 0;
	dist[0] = 1;
	for (size_t i = 0; i < k; i++) {
		if (!prop_used(&s[i]))
			continue;
		int64_t lo, hi;
		hyper_support(&s[i], &lo, &hi);
		len = convolve_stratum(&s[i], dist, len, tmp);
		double *t = dist;
		dist = tmp, tmp = t;
		base += lo, obs += s[i].x1;
	}
	double le = 0, ge = 0;
	for (size_t i = 0; i <= len; i++) {
		int64_t v = base + (int64_t)i;
		le += v <= obs ? dist[i] : 0;
		ge += v >= obs ? dist[i] : 0;
	}
	free(dist);
	free(tmp);
	le = fmin(1, le), ge = fmin(1, ge);
	*out = alt == SL_ALT_GREATER ? ge : alt == SL_ALT_LESS ? le : fmin(1, 2 * fmin(le, ge));
	return 0;
}

int sl_strat_prop_test(const struct sl_prop_stratum *s, size_t k, double margin, enum sl_alt alt, double conf,
                       struct sl_strat_prop_result *out)
{
	if (prop_valid(s, k) || !(margin > -1 && margin < 1) || !(conf > 0 && conf < 1))
		return SL_EINVAL;
	struct sl_strat_prop_result r = {0};
	for (size_t i = 0; i < k; i++)
		r.strata += prop_used(&s[i]);
	if (!r.strata)
		return SL_EINVAL;
	r.diff = mh_diff(s, k);
	r.z = prop_z(s, k, margin);
	r.pvalue = tail_p(r.z, alt);
	double zc = sl_norm_isf(0.5 * (1 - conf));
	r.lo = prop_cross(s, k, zc);
	r.hi = prop_cross(s, k, -zc);
	int rc = exact_p(s, k, alt, &r.exact_pvalue);
	if (rc)
		return rc;
	*out = r;
	return 0;
}
