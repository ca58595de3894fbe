/* discrete.c: binomial and hypergeometric distributions.
 * Densities use Loader's saddle-point form (relative error ~1e-15 even for n in the
 * millions, where lgamma differences would lose 1e-9). Binomial tails are incomplete beta
 * functions; hypergeometric tails are sums from the tail inwards, stopped when a term no
 * longer changes the sum, with the density re-anchored exactly every 64 steps of the ratio
 * recurrence. Invariants: a tail is never formed as 1 - (something near 1) unless it is
 * itself above about one half. */
#include <math.h>

#include "stats-int.h"

static bool is_count(double k)
{
	return k == floor(k);
}

double sl_binom_logpmf(double k, double n, double p)
{
	if (isnan(k) || !(n >= 0) || !is_count(n) || !(p >= 0 && p <= 1))
		return NAN;
	if (!is_count(k) || k < 0 || k > n)
		return -INFINITY;
	return sl__ldbinom_raw(k, n, p, 1 - p);
}

double sl_binom_pmf(double k, double n, double p)
{
	return exp(sl_binom_logpmf(k, n, p));
}

double sl_binom_cdf(double k, double n, double p)
{
	if (isnan(k) || !(n >= 0) || !is_count(n) || !(p >= 0 && p <= 1))
		return NAN;
	k = floor(k);
	if (k < 0)
		return 0;
	if (k >= n)
		return 1;
	double i, ic;
	sl__ibeta(n - k, k + 1, 1 - p, p, &i, &ic);
	return i;
}

double sl_binom_sf(double k, double n, double p)
{
	if (isnan(k) || !(n >= 0) || !is_count(n) || !(p >= 0 && p <= 1))
		return NAN;
	k = floor(k);
	if (k < 0)
		return 1;
	if (k >= n)
		return 0;
	double i, ic;
	sl__ibeta(k + 1, n - k, p, 1 - p, &i, &ic);
	return i;
}

/* ---- hypergeometric ---- */

struct hyper {
	int64_t total, good, draws, lo, hi;
};

static bool hyper_init(struct hyper *h, int64_t total, int64_t good, int64_t draws)
{
	if (total <= 0 || good < 0 || draws < 0 || good > total || draws > total)
		return false;
	h->total = total, h->good = good, h->draws = draws;
	h->lo = draws - (total - good) > 0 ? draws - (total - good) : 0;
	h->hi = good < draws ? good : draws;
	return true;
}

/* R's dhyper: the ratio of three binomial densities at p = draws/total. */
static double hyper_logpmf(const struct hyper *h, int64_t k)
{
	if (k < h->lo || k > h->hi)
		return -INFINITY;
	double n = (double)h->total, p = (double)h->draws / n, q = (double)(h->total - h->draws) / n;
	double p1 = sl__ldbinom_raw((double)k, (double)h->good, p, q);
	double p2 = sl__ldbinom_raw((double)(h->draws - k), (double)(h->total - h->good), p, q);
	double p3 = sl__ldbinom_raw((double)h->draws, n, p, q);
	return p1 + p2 - p3;
}

double sl_hypergeom_logpmf(int64_t k, int64_t total, int64_t good, int64_t draws)
{
	struct hyper h;
	if (!hyper_init(&h, total, good, draws))
		return NAN;
	return hyper_logpmf(&h, k);
}

double sl_hypergeom_pmf(int64_t k, int64_t total, int64_t good, int64_t draws)
{
	return exp(sl_hypergeom_logpmf(k, total, good, draws));
}

/* pmf(j + dir) / pmf(j) */
static double hyper_ratio(const struct hyper *h, int64_t j, int dir)
{
	double g = (double)h->good, d = (double)h->draws, b = (double)(h->total - h->good), x = (double)j;
	if (dir > 0)
		return (g - x) * (d - x) / ((x + 1) * (b - d + x + 1));
	return x * (b - d + x) / ((g - x + 1) * (d - x + 1));
}

/* sum of pmf(j) for j from `from` in direction dir until the support ends or terms vanish. */
static double hyper_tail_sum(const struct hyper *h, int64_t from, int dir)
{
	double sum = 0, term = 0;
	int64_t steps = 0;
	for (int64_t j = from; j >= h->lo && j <= h->hi; j += dir, steps++) {
		term = steps % 64 == 0 ? exp(hyper_logpmf(h, j)) : term * hyper_ratio(h, j - dir, dir);
		double s = sum + term;
		if (s == sum && steps > 0)
			break;
		sum = s;
	}
	return sum;
}

static int64_t hyper_mode(const struct hyper *h)
{
	return (int64_t)(((double)h->draws + 1) * ((double)h->good + 1) / ((double)h->total + 2));
}

double sl_hypergeom_cdf(int64_t k, int64_t total, int64_t good, int64_t draws)
{
	struct hyper h;
	if (!hyper_init(&h, total, good, draws))
		return NAN;
	if (k < h.lo)
		return 0;
	if (k >= h.hi)
		return 1;
	if (k < hyper_mode(&h))
		return fmin(1, hyper_tail_sum(&h, k, -1));
	return fmax(0, 1 - hyper_tail_sum(&h, k + 1, +1));
}

double sl_hypergeom_sf(int64_t k, int64_t total, int64_t good, int64_t draws)
{
	struct hyper h;
	if (!hyper_init(&h, total, good, draws))
		return NAN;
	if (k < h.lo)
		return 1;
	if (k >= h.hi)
		return 0;
	if (k >= hyper_mode(&h))
		return fmin(1, hyper_tail_sum(&h, k + 1, +1));
	return fmax(0, 1 - hyper_tail_sum(&h, k, -1));
}
