/* fisher.c: Fisher's exact test on a 2x2 table, SciPy 1.10 fisher_exact semantics.
 * The two-sided p-value sums the hypergeometric probabilities no larger than that of the
 * observed table (relative slack 1e-14), found by SciPy's binary search on the far side of
 * the mode; tails come from sl_hypergeom_cdf/sf, which are accurate far into the tails.
 * Invariants: p in [0,1]; counts are nonnegative and sum below 2^53. */
#include <math.h>

#include "stats-int.h"

struct fisher {
	int64_t total, good, draws;
};

static double fpmf(const struct fisher *f, int64_t x)
{
	return sl_hypergeom_pmf(x, f->total, f->good, f->draws);
}

/* SciPy's _binary_search_for_binom_tst: i in [lo, hi] with a(i) <= d < a(i+1), a ascending;
 * a(x) = sign * pmf(x). */
static int64_t bsearch_pmf(const struct fisher *f, double sign, double d, int64_t lo, int64_t hi)
{
	while (lo < hi) {
		int64_t mid = lo + (hi - lo) / 2;
		double v = sign * fpmf(f, mid);
		if (v < d)
			lo = mid + 1;
		else if (v > d)
			hi = mid - 1;
		else
			return mid;
	}
	return sign * fpmf(f, lo) <= d ? lo : lo - 1;
}

static double fisher_two_sided(const struct fisher *f, int64_t a)
{
	const double eps = 1e-14, gamma = 1 + eps;
	int64_t n = f->draws, mode = (int64_t)(((double)n + 1) * ((double)f->good + 1) / ((double)f->total + 2));
	double pexact = fpmf(f, a), pmode = fpmf(f, mode);
	if (fabs(pexact - pmode) / fmax(pexact, pmode) <= eps)
		return 1;
	if (a < mode) {
		double plower = sl_hypergeom_cdf(a, f->total, f->good, n);
		if (fpmf(f, n) > pexact * gamma)
			return plower;
		int64_t guess = bsearch_pmf(f, -1, -pexact * gamma, mode, n);
		return plower + sl_hypergeom_sf(guess, f->total, f->good, n);
	}
	double pupper = sl_hypergeom_sf(a - 1, f->total, f->good, n);
	if (fpmf(f, 0) > pexact * gamma)
		return pupper;
	int64_t guess = bsearch_pmf(f, 1, pexact * gamma, 0, mode);
	return pupper + sl_hypergeom_cdf(guess, f->total, f->good, n);
}

int sl_fisher_exact(const int64_t t[4], enum sl_alt alt, struct sl_fisher_result *out)
{
	if (!t || t[0] < 0 || t[1] < 0 || t[2] < 0 || t[3] < 0)
		return SL_EINVAL;
	if ((double)t[0] + (double)t[1] + (double)t[2] + (double)t[3] > 9007199254740992.0)
		return SL_ERANGE;
	int64_t r0 = t[0] + t[1], r1 = t[2] + t[3], c0 = t[0] + t[2], c1 = t[1] + t[3];
	if (r0 == 0 || r1 == 0 || c0 == 0 || c1 == 0) {
		*out = (struct sl_fisher_result){NAN, 1};
		return 0;
	}
	double odds = t[2] > 0 && t[1] > 0 ? (double)t[0] * (double)t[3] / ((double)t[2] * (double)t[1]) : INFINITY;
	struct fisher f = {r0 + r1, r0, c0};
	double p;
	if (alt == SL_ALT_LESS)
		p = sl_hypergeom_cdf(t[0], f.total, r0, c0);
	else if (alt == SL_ALT_GREATER)
		p = sl_hypergeom_cdf(t[1], f.total, r0, c1);
	else
		p = fisher_two_sided(&f, t[0]);
	*out = (struct sl_fisher_result){odds, fmin(p, 1)};
	return 0;
}
