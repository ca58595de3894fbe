/* kolmogorov.c: distribution of the one-sample Kolmogorov-Smirnov statistics: the two-sided
 * D_n (SciPy's kstwo, after Simard & L'Ecuyer 2011) and the one-sided D+_n (smirnov).
 * Branches follow SciPy 1.10's _kolmogn: Ruben-Gambino closed forms at the ends, 2*smirnov
 * for large n x^2 or x >= 1/2, the Durbin matrix (Marsaglia-Tsang-Wang) for small n x^2,
 * the Pelz-Good expansion for large n. Difference from SciPy: where it uses Pomeranz's
 * recursion (n <= 140, 0.754693 < n x^2 <= 4) this file uses the Durbin matrix too; both are
 * exact algorithms and agree to ~1e-13. The only allocation is the Durbin matrices
 * (3 m^2 doubles, m = 2 ceil(n x) - 1 <= 115 where used); NaN if it fails.
 * smirnov is the Birnbaum-Tingey sum with each term a Loader binomial density. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "stats-int.h"

double sl_smirnov(int64_t n, double x)
{
	if (n <= 0 || isnan(x))
		return NAN;
	if (x <= 0)
		return 1;
	if (x >= 1)
		return 0;
	double nd = (double)n, nx = nd * x, sum = 0;
	int64_t jmax = (int64_t)floor(nd - nx);
	for (int64_t j = 0; j <= jmax; j++) {
		double b = (nx + (double)j) / nd, a = (nd - (double)j - nx) / nd;
		if (a <= 0)
			break;
		sum += exp(sl__ldbinom_raw((double)j, nd, b, a)) / b;
	}
	return fmin(1, x * sum);
}

#define E128 128
static const double EP128 = 3.402823669209384634633746e38; /* 2^128 */

static void matmul(double *c, const double *a, const double *b, int m)
{
	for (int i = 0; i < m; i++) {
		for (int j = 0; j < m; j++)
			c[i * m + j] = 0;
		for (int l = 0; l < m; l++) {
			double ail = a[i * m + l];
			if (ail == 0)
				continue;
			for (int j = 0; j < m; j++)
				c[i * m + j] += ail * b[l * m + j];
		}
	}
}

/* Builds Durbin's matrix H (m x m) for h = k - n d. */
static void durbin_matrix(double *hm, int m, double h)
{
	double v[256], w[256], fac = 1;
	for (int j = 1; j <= m; j++) {
		w[j - 1] = fac;
		fac /= j;
		v[j - 1] = (1 - pow(h, j)) * fac;
	}
	double tt = pow(fmax(2 * h - 1, 0), m) - 2 * pow(h, m);
	v[m - 1] = (1 + tt) * fac;
	memset(hm, 0, sizeof(double) * (size_t)m * (size_t)m);
	for (int i = 1; i < m; i++)
		for (int r = i - 1; r < m; r++)
			hm[r * m + i] = w[r - (i - 1)];
	for (int r = 0; r < m; r++)
		hm[r * m] = v[r];
	for (int j = 0; j < m; j++)
		hm[(m - 1) * m + j] = v[m - 1 - j];
}

/* H^n [k-1][k-1] scaled back by n!/n^n; binary powering with exponent bookkeeping. */
static double durbin_power(double *hm, double *acc, double *tmp, int m, int k, int64_t n)
{
	int64_t expnt = 0, hexpnt = 0;
	for (int i = 0; i < m * m; i++)
		acc[i] = i % (m + 1) == 0;
	for (int64_t nn = n; nn > 0; nn /= 2) {
		if (nn % 2) {
			matmul(tmp, acc, hm, m);
			memcpy(acc, tmp, sizeof(double) * (size_t)(m * m));
			expnt += hexpnt;
		}
		matmul(tmp, hm, hm, m);
		memcpy(hm, tmp, sizeof(double) * (size_t)(m * m));
		hexpnt *= 2;
		if (fabs(hm[(k - 1) * m + k - 1]) > EP128) {
			for (int i = 0; i < m * m; i++)
				hm[i] /= EP128;
			hexpnt += E128;
		}
	}
	double p = acc[(k - 1) * m + k - 1];
	for (int64_t i = 1; i <= n; i++) {
		p = (double)i * p / (double)n;
		if (fabs(p) < 1 / EP128) {
			p *= EP128;
			expnt -= E128;
		}
	}
	return ldexp(p, (int)expnt);
}

/* Pr(D_n <= d) by the Durbin matrix. */
static double kolmogn_dmtw(int64_t n, double d)
{
	if (d >= 1)
		return 1;
	double nd = (double)n * d;
	if (nd <= 0.5)
		return 0;
	int k = (int)ceil(nd), m = 2 * k - 1;
	if (m > 255)
		return NAN;
	double *buf = malloc(sizeof(double) * 3 * (size_t)m * (size_t)m);
	if (!buf)
		return NAN;
	double *hm = buf, *acc = buf + m * m, *tmp = buf + 2 * m * m;
	durbin_matrix(hm, m, k - nd);
	double p = durbin_power(hm, acc, tmp, m, k, n);
	free(buf);
	return fmin(1, fmax(0, p));
}

/* Pelz-Good asymptotic expansion of Pr(D_n <= x). */
static double kolmogn_pelzgood(int64_t n, double x)
{
	if (x <= 0)
		return 0;
	if (x >= 1)
		return 1;
	const double pi2 = M_PI * M_PI, pi4 = pi2 * pi2, pi6 = pi4 * pi2, sqrt2pi = sqrt(2 * M_PI);
	double z = sqrt((double)n) * x, z2 = z * z, z3 = z2 * z, z4 = z2 * z2, z6 = z4 * z2;
	double qlog = -pi2 / 8 / z2;
	if (qlog < -708)
		return 0;
	double q = exp(qlog);
	double k1a = -z2, k1b = pi2 / 4;
	double k2a = 6 * z6 + 2 * z4, k2b = (2 * z4 - 5 * z2) * pi2 / 4, k2c = pi4 * (1 - 2 * z2) / 16;
	double k3d = pi6 * (5 - 30 * z2) / 64, k3c = pi4 * (-60 * z2 + 212 * z4) / 16;
	double k3b = pi2 * (135 * z4 - 96 * z6) / 4, k3a = -30 * z6 - 90 * z4 * z4;
	double kk[4] = {0, 0, 0, 0};
	int maxk = (int)ceil(16 * z / M_PI);
	for (int k = maxk; k > 0; k--) {
		double m = 2 * k - 1, m2 = m * m, m4 = m2 * m2, m6 = m4 * m2, qp = pow(q, 8 * k);
		double c[4] = {1, k1a + k1b * m2, k2a + k2b * m2 + k2c * m4, k3a + k3b * m2 + k3c * m4 + k3d * m6};
		for (int i = 0; i < 4; i++)
			kk[i] = kk[i] * qp + c[i];
	}
	double den[4] = {z, 6 * z4, 72 * z4 * z3, 6480 * z6 * z4};
	for (int i = 0; i < 4; i++)
		kk[i] = kk[i] * q * sqrt2pi / den[i];
	double q2 = exp(-pi2 / 2 / z2), e2 = 0, e3 = 0, s3z = sqrt(3.0) * z;
	for (int k = maxk; k > 0; k--) {
		double k2 = (double)k * k, qp = pow(q2, k2), kpi = M_PI * k;
		e2 += k2 * qp;
		e3 += (s3z + kpi) * (s3z - kpi) * k2 * qp;
	}
	kk[2] += e2 * pi2 * sqrt2pi / (-36 * z3);
	kk[3] += e3 * pi2 * sqrt2pi / (216 * z6);
	double sn = sqrt((double)n);
	return kk[0] + kk[1] / sn + kk[2] / (double)n + kk[3] / ((double)n * sn);
}

/* log(n!/n^n) */
static double log_nfact_over_npow(int64_t n)
{
	double nd = (double)n;
	return sl__stirlerr(nd) + 0.5 * log(nd) - nd + SL_LN_SQRT_2PI;
}

/* Pr(D_n <= x) (cdf) or Pr(D_n > x) (sf), SciPy's _kolmogn branches. */
static double kolmogn(int64_t n, double x, bool cdf)
{
	if (n <= 0 || isnan(x))
		return NAN;
	if (x >= 1)
		return cdf ? 1 : 0;
	if (x <= 0)
		return cdf ? 0 : 1;
	double nd = (double)n, t = nd * x;
	double p;
	if (t <= 1) {
		if (t <= 0.5)
			return cdf ? 0 : 1;
		p = exp(log_nfact_over_npow(n) + nd * log(2 * t - 1));
		return cdf ? p : 1 - p;
	}
	if (t >= nd - 1) {
		p = 2 * pow(1 - x, nd);
		return cdf ? 1 - p : p;
	}
	double nx2 = t * x;
	if (x >= 0.5 || (n <= 140 && nx2 > 4)) {
		p = 2 * sl_smirnov(n, x);
		return cdf ? 1 - p : p;
	}
	if (n <= 140) {
		p = kolmogn_dmtw(n, x);
		return cdf ? p : 1 - p;
	}
	if (!cdf && nx2 >= 370)
		return 0;
	if (!cdf && nx2 >= 2.2)
		return fmin(1, 2 * sl_smirnov(n, x));
	if (nx2 >= 18)
		p = 1;
	else if (n <= 100000 && nd * pow(x, 1.5) <= 1.4)
		p = kolmogn_dmtw(n, x);
	else
		p = kolmogn_pelzgood(n, x);
	p = fmin(1, fmax(0, p));
	return cdf ? p : 1 - p;
}

double sl_kstwo_cdf(double d, int64_t n)
{
	double p = kolmogn(n, d, true);
	return isnan(p) ? p : fmin(1, fmax(0, p));
}

double sl_kstwo_sf(double d, int64_t n)
{
	double p = kolmogn(n, d, false);
	return isnan(p) ? p : fmin(1, fmax(0, p));
}
