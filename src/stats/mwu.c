/* mwu.c: the Mann-Whitney U test with SciPy 1.10's mannwhitneyu semantics.
 * Ranks are mid-ranks; U1 = R1 - n1(n1+1)/2. Asymptotic: tie-corrected normal approximation,
 * continuity correction subtracting 1/2 (the p-value is always an upper tail of the larger U).
 * Exact: the null distribution of U is the Gaussian binomial [m+n choose m]_q divided by
 * C(m+n, m), built as prod_{i=1..m} (1 - q^(n+i)) / (1 - q^i) * i/(n+i) and truncated at
 * the degree needed (at most mn/2); coefficients stay probabilities, so nothing overflows.
 * Invariants: p in [0,1]; the exact path allocates at most (mn/2+1) doubles and does
 * O(min(m,n) * mn) work, bounded by SL_MWU_EXACT_MAX_CELLS and SL_MWU_EXACT_MAX_WORK. */
#include <math.h>
#include <stdlib.h>

#include "stats-int.h"

struct tagged {
	double v;
	int from_x;
};

static int cmp_tagged(const void *a, const void *b)
{
	return sl__cmp_double(&((const struct tagged *)a)->v, &((const struct tagged *)b)->v);
}

/* Mid-ranks: sets *r1 (rank sum of x) and *tie (sum of t^3 - t over tie groups). */
static int rank_sum(const double *x, size_t nx, const double *y, size_t ny, double *r1, double *tie)
{
	size_t n = nx + ny;
	struct tagged *t = malloc(n * sizeof *t);
	if (!t)
		return SL_ENOMEM;
	for (size_t i = 0; i < nx; i++)
		t[i] = (struct tagged){x[i], 1};
	for (size_t i = 0; i < ny; i++)
		t[nx + i] = (struct tagged){y[i], 0};
	qsort(t, n, sizeof *t, cmp_tagged);
	*r1 = 0, *tie = 0;
	for (size_t i = 0; i < n;) {
		size_t j = i, cx = 0;
		while (j < n && t[j].v == t[i].v)
			cx += (size_t)t[j++].from_x;
		double g = (double)(j - i), mid = 0.5 * ((double)i + 1 + (double)j);
		*r1 += mid * (double)cx;
		*tie += g * g * g - g;
		i = j;
	}
	free(t);
	return 0;
}

/* P(U <= k) under H0 for sample sizes m, n (no ties). */
static int mwu_exact_cdf(int64_t m, int64_t n, int64_t k, double *out)
{
	if (m > n) {
		int64_t s = m;
		m = n, n = s;
	}
	int64_t mn = m * n;
	if (k < 0) {
		*out = 0;
		return 0;
	}
	if (k >= mn) {
		*out = 1;
		return 0;
	}
	bool flip = k > mn / 2; /* P(U <= k) = 1 - P(U <= mn - k - 1) by symmetry */
	int64_t kk = flip ? mn - k - 1 : k;
	double *c = calloc((size_t)kk + 1, sizeof *c);
	if (!c)
		return SL_ENOMEM;
	c[0] = 1;
	for (int64_t i = 1; i <= m; i++) {
		for (int64_t j = kk; j >= n + i; j--)
			c[j] -= c[j - n - i];
		/* divide by (1 - q^i) and scale by i/(n+i) in one pass: c'[j] = s c[j] + c'[j-i] */
		double s = (double)i / (double)(n + i);
		for (int64_t j = 0; j <= kk; j++)
			c[j] = j < i ? s * c[j] : s * c[j] + c[j - i];
	}
	double sum = 0;
	for (int64_t j = 0; j <= kk; j++)
		sum += c[j];
	free(c);
	*out = flip ? 1 - sum : sum;
	return 0;
}

static double mwu_z(double u, double n1, double n2, double tie, bool continuity)
{
	double n = n1 + n2;
	double s = sqrt(n1 * n2 / 12 * ((n + 1) - tie / (n * (n - 1))));
	double num = u - n1 * n2 / 2 - (continuity ? 0.5 : 0);
	if (s == 0 || isnan(s))
		return num > 0 ? INFINITY : num < 0 ? -INFINITY : NAN;
	return num / s;
}

static bool has_nan(const double *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (isnan(v[i]))
			return true;
	return false;
}

int sl_mannwhitneyu(const double *x, size_t nx, const double *y, size_t ny, enum sl_alt alt, enum sl_mwu_method method,
                    bool continuity, struct sl_mwu_result *out)
{
	if (!x || !y || nx == 0 || ny == 0 || nx > INT32_MAX || ny > INT32_MAX || has_nan(x, nx) || has_nan(y, ny))
		return SL_EINVAL;
	double r1, tie;
	int err = rank_sum(x, nx, y, ny, &r1, &tie);
	if (err)
		return err;
	double n1 = (double)nx, n2 = (double)ny, u1 = r1 - n1 * (n1 + 1) / 2, u2 = n1 * n2 - u1;
	double u = alt == SL_ALT_GREATER ? u1 : alt == SL_ALT_LESS ? u2 : fmax(u1, u2);
	double f = alt == SL_ALT_TWO_SIDED ? 2 : 1;
	double cells = (double)nx * (double)ny;
	bool big = cells > SL_MWU_EXACT_MAX_CELLS || cells * (double)(nx < ny ? nx : ny) > SL_MWU_EXACT_MAX_WORK;
	if (method == SL_MWU_AUTO)
		method = (nx > 8 && ny > 8) || tie > 0 || big ? SL_MWU_ASYMPTOTIC : SL_MWU_EXACT;
	if (method == SL_MWU_EXACT && big)
		return SL_ERANGE;
	struct sl_mwu_result r = {.u1 = u1, .z = NAN, .exact = method == SL_MWU_EXACT, .ties = tie > 0};
	if (r.exact) {
		int64_t mn = (int64_t)nx * (int64_t)ny;
		err = mwu_exact_cdf((int64_t)nx, (int64_t)ny, mn - (int64_t)u, &r.pvalue);
		if (err)
			return err;
	} else {
		r.z = mwu_z(u, n1, n2, tie, continuity);
		r.pvalue = sl_norm_sf(r.z);
	}
	r.pvalue = fmin(1, fmax(0, r.pvalue * f));
	*out = r;
	return 0;
}
