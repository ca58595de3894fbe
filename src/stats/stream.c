/* stream.c: streaming summaries: Welford/Chan mean and variance, and a seeded uniform
 * reservoir (Vitter's algorithm R) for bounded-memory quantiles.
 * Invariants: a reservoir holds min(seen, cap) values, each of the values seen since its init or
 * last reset with equal probability cap/seen; it owns its array (allocated by init only, kept by
 * reset, released by sl_reservoir_release); quantiles use numpy's default 'linear'
 * interpolation, so they equal numpy's while seen <= cap. */
#include <math.h>
#include <stdlib.h>

#include "stats-int.h"

void sl_welford_init(struct sl_welford *w)
{
	w->n = 0, w->mean = 0, w->m2 = 0;
}

void sl_welford_add(struct sl_welford *w, double x)
{
	w->n += 1;
	double d = x - w->mean;
	w->mean += d / w->n;
	w->m2 += d * (x - w->mean);
}

void sl_welford_merge(struct sl_welford *w, const struct sl_welford *o)
{
	if (o->n == 0)
		return;
	double n = w->n + o->n, d = o->mean - w->mean;
	w->mean += d * o->n / n;
	w->m2 += o->m2 + d * d * w->n * o->n / n;
	w->n = n;
}

double sl_welford_var(const struct sl_welford *w)
{
	return w->n >= 2 ? w->m2 / (w->n - 1) : NAN;
}

int sl_reservoir_init(struct sl_reservoir *r, size_t cap, uint64_t seed)
{
	if (cap == 0 || cap > ((size_t)1 << 28))
		return SL_EINVAL;
	r->v = malloc(cap * sizeof *r->v);
	if (!r->v)
		return SL_ENOMEM;
	r->cap = cap;
	sl_reservoir_reset(r, seed);
	return 0;
}

void sl_reservoir_reset(struct sl_reservoir *r, uint64_t seed)
{
	r->len = 0, r->seen = 0, r->sorted = true;
	sl_rng_seed(&r->rng, seed);
}

void sl_reservoir_release(struct sl_reservoir *r)
{
	free(r->v);
	r->v = NULL;
	r->cap = r->len = 0;
}

/* Uniform integer in [0, n), n > 0, without modulo bias (Lemire). */
static uint64_t uniform_below(struct sl_rng *rng, uint64_t n)
{
	unsigned __int128 m = (unsigned __int128)sl_rng_next(rng) * n;
	uint64_t l = (uint64_t)m;
	if (l < n) {
		uint64_t t = -n % n;
		while (l < t) {
			m = (unsigned __int128)sl_rng_next(rng) * n;
			l = (uint64_t)m;
		}
	}
	return (uint64_t)(m >> 64);
}

void sl_reservoir_add(struct sl_reservoir *r, double x)
{
	r->seen++;
	if (r->len < r->cap) {
		r->v[r->len++] = x;
		r->sorted = false;
		return;
	}
	uint64_t j = uniform_below(&r->rng, r->seen);
	if (j < r->cap) {
		r->v[j] = x;
		r->sorted = false;
	}
}

double sl_quantile_sorted(const double *v, size_t n, double q)
{
	if (n == 0 || !(q >= 0 && q <= 1))
		return NAN;
	double h = (double)(n - 1) * q, lo = floor(h), t = h - lo;
	size_t i = (size_t)lo;
	if (i + 1 >= n)
		return v[n - 1];
	double a = v[i], b = v[i + 1], d = b - a;
	return t >= 0.5 ? b - d * (1 - t) : a + d * t;
}

double sl_reservoir_quantile(struct sl_reservoir *r, double q)
{
	if (!r->sorted) {
		qsort(r->v, r->len, sizeof *r->v, sl__cmp_double);
		r->sorted = true;
	}
	return sl_quantile_sorted(r->v, r->len, q);
}

double sl_reservoir_rank_error(const struct sl_reservoir *r, double delta)
{
	if (r->seen <= r->cap)
		return 0;
	return sqrt(log(2 / delta) / (2 * (double)r->len));
}
