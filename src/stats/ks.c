/* ks.c: two-sample Kolmogorov-Smirnov test with SciPy 1.10's ks_2samp semantics.
 * Statistic from a merge walk over both sorted samples (ECDF differences i/nx - j/ny at
 * every distinct value, as SciPy's searchsorted). Exact p-values: for nx == ny the
 * reflection sum (two-sided) or a product (one-sided); otherwise Hodges' lattice-path
 * counts: the "inside" recursion for 1 - p of Viehmann (2021) (two-sided, O(nx*ny) time,
 * O(min(nx,ny)) memory) and the "outside" path count for one-sided (only while
 * C(nx+ny, nx) is finite, i.e. nx+ny <= ~1030). Asymptotic: kstwo.sf(d, round(en)) with
 * en = nx ny/(nx+ny) (two-sided) or Hodges' approximation (one-sided).
 * Invariants: an exact computation that is not finite or leaves [0,1] falls back to the
 * asymptotic one, as SciPy does; the reported d is h/lcm(nx,ny) when exact. */
#include <math.h>
#include <stdlib.h>

#include "stats-int.h"

#define KS_MAX_AUTO_N 10000

static int64_t gcd64(int64_t a, int64_t b)
{
	while (b) {
		int64_t t = a % b;
		a = b, b = t;
	}
	return a;
}

static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;
	return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

static int64_t ceil_div(int64_t a, int64_t b)
{
	return -floor_div(-a, b);
}

/* C(n, k) as a double (inf past ~1e308): a product for small k, else Loader's binomial
 * density at p = 1/2 scaled by 2^n. */
static double binom(int64_t n, int64_t k)
{
	if (k < 0 || k > n)
		return 0;
	if (k > n - k)
		k = n - k;
	if (k <= 30) {
		double c = 1;
		for (int64_t i = 1; i <= k; i++)
			c = c * (double)(n - k + i) / (double)i;
		return c;
	}
	double l = sl__ldbinom_raw((double)k, (double)n, 0.5, 0.5) + (double)n * M_LN2;
	return l > 709.78 ? INFINITY : exp(l);
}

/* Pr(D_{n,n} >= h/n), two-sided. */
static double prob_outside_square(int64_t n, int64_t h)
{
	double p = 0;
	for (int64_t k = n / h; k >= 0; k--) {
		double p1 = 1;
		for (int64_t j = 0; j < h; j++)
			p1 = (double)(n - k * h - j) * p1 / (double)(n + k * h + j + 1);
		p = p1 * (1 - p);
	}
	return 2 * p;
}

/* Proportion of lattice paths (0,0)->(m,n) that leave |x/m - y/n| < h/lcm, computed as 1 - p
 * column by column over a sliding window. */
static double outer_prob_inside(int64_t m, int64_t n, int64_t g, int64_t h)
{
	if (m < n) {
		int64_t s = m;
		m = n, n = s;
	}
	int64_t mg = m / g, ng = n / g;
	int64_t minj = 0, maxj = ceil_div(h, mg) < n + 1 ? ceil_div(h, mg) : n + 1, curlen = maxj - minj;
	int64_t lena = 2 * maxj + 2 < n + 1 ? 2 * maxj + 2 : n + 1;
	double *a = malloc((size_t)lena * sizeof *a), res;
	if (!a)
		return NAN;
	for (int64_t j = 0; j < lena; j++)
		a[j] = j < maxj ? 0 : 1;
	for (int64_t i = 1; i <= m; i++) {
		int64_t lastminj = minj, lastlen = curlen;
		minj = floor_div(ng * i - h, mg) + 1;
		minj = minj < 0 ? 0 : minj > n ? n : minj;
		maxj = ceil_div(ng * i + h, mg);
		maxj = maxj > n + 1 ? n + 1 : maxj;
		if (maxj <= minj) {
			free(a);
			return 1;
		}
		double val = minj == 0 ? 0 : 1;
		for (int64_t jj = 0; jj < maxj - minj; jj++) {
			int64_t j = jj + minj;
			val = (a[jj + minj - lastminj] * (double)i + val * (double)j) / (double)(i + j);
			a[jj] = val;
		}
		curlen = maxj - minj;
		for (int64_t j = curlen; j < curlen + (lastlen - curlen) && j < lena; j++)
			a[j] = 1;
	}
	res = a[maxj - minj - 1];
	free(a);
	return res;
}

/* Number of paths (0,0)->(m,n) reaching m y <= n x - h g (one-sided), NaN if it overflows. */
static double count_paths_outside(int64_t m, int64_t n, int64_t g, int64_t h)
{
	if (m < n) {
		int64_t s = m;
		m = n, n = s;
	}
	int64_t mg = m / g, ng = n / g, lxj = n + floor_div(mg - h, mg);
	if (lxj <= 0)
		return binom(m + n, n);
	double *b = malloc((size_t)lxj * 2 * sizeof *b), num = 0;
	if (!b)
		return NAN;
	double *xj = b + lxj;
	for (int64_t j = 0; j < lxj; j++)
		xj[j] = (double)floor_div(h + mg * j + ng - 1, ng);
	b[0] = 1;
	for (int64_t j = 1; j < lxj; j++) {
		double bj = binom((int64_t)xj[j] + j, j);
		for (int64_t i = 0; i < j; i++)
			bj -= binom((int64_t)(xj[j] - xj[i]) + j - i, j - i) * b[i];
		b[j] = bj;
	}
	for (int64_t j = 0; j < lxj; j++)
		num += b[j] * binom((m - (int64_t)xj[j]) + (n - j), n - j);
	free(b);
	return num;
}

static double exact_p(int64_t n1, int64_t n2, int64_t g, int64_t h, enum sl_alt alt)
{
	if (alt == SL_ALT_TWO_SIDED)
		return n1 == n2 ? prob_outside_square(n1, h) : outer_prob_inside(n1, n2, g, h);
	if (n1 == n2) {
		double p = 1;
		for (int64_t j = 0; j < h; j++)
			p *= (double)(n1 - j) / ((double)(n1 + j) + 1);
		return p;
	}
	double bin = binom(n1 + n2, n1);
	if (isinf(bin))
		return NAN;
	double num = count_paths_outside(n1, n2, g, h);
	return num > bin ? NAN : num / bin;
}

static double asymp_p(int64_t n1, int64_t n2, double d, enum sl_alt alt)
{
	double m = (double)(n1 > n2 ? n1 : n2), n = (double)(n1 > n2 ? n2 : n1), en = m * n / (m + n);
	if (alt == SL_ALT_TWO_SIDED)
		return sl_kstwo_sf(d, (int64_t)nearbyint(en));
	double z = sqrt(en) * d;
	return exp(-2 * z * z - 2 * z * (m + 2 * n) / sqrt(m * n * (m + n)) / 3);
}

/* max(F_x - F_y) and max(F_y - F_x) (clipped at 0) over the merged sorted samples. */
static void ks_stat(const double *xs, size_t n1, const double *ys, size_t n2, double *maxs, double *mins)
{
	size_t i = 0, j = 0;
	double hi = -INFINITY, lo = INFINITY;
	while (i < n1 || j < n2) {
		double v = j >= n2 || (i < n1 && xs[i] <= ys[j]) ? xs[i] : ys[j];
		while (i < n1 && xs[i] == v)
			i++;
		while (j < n2 && ys[j] == v)
			j++;
		double d = (double)i / (double)n1 - (double)j / (double)n2;
		hi = fmax(hi, d), lo = fmin(lo, d);
	}
	*maxs = hi;
	*mins = fmin(1, fmax(0, -lo));
}

static void ks_finish(int64_t n1, int64_t n2, enum sl_alt alt, enum sl_ks_method method, struct sl_ks_result *r)
{
	int64_t g = gcd64(n1, n2), n1g = n1 / g, n2g = n2 / g;
	if (method == SL_KS_AUTO)
		method = (n1 > n2 ? n1 : n2) <= KS_MAX_AUTO_N ? SL_KS_EXACT : SL_KS_ASYMP;
	else if (method == SL_KS_EXACT && (double)n1g >= 2147483647.0 / (double)n2g)
		method = SL_KS_ASYMP;
	if (method == SL_KS_EXACT) {
		int64_t lcm = n1g * n2, h = (int64_t)nearbyint(r->d * (double)lcm);
		r->d = (double)h / (double)lcm;
		double p = h == 0 ? 1 : exact_p(n1, n2, g, h, alt);
		if (p >= 0 && p <= 1) {
			r->pvalue = p, r->exact = true;
			return;
		}
	}
	r->pvalue = fmin(1, fmax(0, asymp_p(n1, n2, r->d, alt)));
	r->exact = false;
}

int sl_ks_2samp(const double *x, size_t nx, const double *y, size_t ny, enum sl_alt alt, enum sl_ks_method method,
                struct sl_ks_result *out)
{
	if (!x || !y || nx == 0 || ny == 0 || nx > INT32_MAX || ny > INT32_MAX)
		return SL_EINVAL;
	for (size_t i = 0; i < nx; i++)
		if (isnan(x[i]))
			return SL_EINVAL;
	for (size_t i = 0; i < ny; i++)
		if (isnan(y[i]))
			return SL_EINVAL;
	double *buf = malloc((nx + ny) * sizeof *buf), maxs, mins;
	if (!buf)
		return SL_ENOMEM;
	sl__sorted_copy(buf, x, nx);
	sl__sorted_copy(buf + nx, y, ny);
	ks_stat(buf, nx, buf + nx, ny, &maxs, &mins);
	free(buf);
	struct sl_ks_result r = {.d = maxs, .sign = 1};
	if (alt == SL_ALT_LESS || (alt == SL_ALT_TWO_SIDED && mins > maxs))
		r.d = mins, r.sign = -1;
	ks_finish((int64_t)nx, (int64_t)ny, alt, method, &r);
	*out = r;
	return 0;
}
