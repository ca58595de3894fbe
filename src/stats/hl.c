/* hl.c: Hodges-Lehmann shift estimate (median of all y_j - x_i) and its distribution-free
 * confidence interval, by exact selection among the nx*ny pairwise differences without
 * forming them.
 * Selection: the differences form a matrix whose rows (x ascending) and columns (y ascending)
 * are sorted. Each row keeps a window [lo, hi) of candidate columns; a random candidate is the
 * pivot; one two-pointer sweep counts the differences below and equal to it in O(nx + ny);
 * the windows shrink to the side holding rank k. Expected O(log(nx*ny)) sweeps; memory
 * 4 nx + ny + nx words. The generator is seeded from (nx, ny, k): results are deterministic,
 * and exact whatever the pivots. Invariants: windows only shrink; rank k always lies inside
 * the union of the windows; computed differences are monotone in i and j because rounding is. */
#include <math.h>
#include <stdlib.h>

#include "stats-int.h"

struct pdsel {
	const double *xs, *ys;
	size_t nx, ny;
	int64_t *lo, *hi, *lt, *le;
};

/* Counts, per row, differences < p (lt) and <= p (le); returns the totals. */
static void count_below(struct pdsel *s, double p, int64_t *tl, int64_t *te)
{
	int64_t a = 0, b = 0, sl = 0, se = 0;
	for (size_t i = 0; i < s->nx; i++) {
		double xi = s->xs[i];
		while ((size_t)a < s->ny && s->ys[a] - xi < p)
			a++;
		if (b < a)
			b = a;
		while ((size_t)b < s->ny && s->ys[b] - xi <= p)
			b++;
		s->lt[i] = a, s->le[i] = b;
		sl += a, se += b;
	}
	*tl = sl, *te = se;
}

static double pick_pivot(const struct pdsel *s, struct sl_rng *rng, int64_t total)
{
	int64_t r = (int64_t)(sl_rng_next(rng) % (uint64_t)total);
	for (size_t i = 0; i < s->nx; i++) {
		int64_t w = s->hi[i] - s->lo[i];
		if (r < w)
			return s->ys[s->lo[i] + r] - s->xs[i];
		r -= w;
	}
	return NAN; /* not reached: r < total */
}

static double select_loop(struct pdsel *s, int64_t k)
{
	struct sl_rng rng;
	sl_rng_seed(&rng, (uint64_t)s->nx * 0x9e3779b97f4a7c15u ^ (uint64_t)s->ny ^ (uint64_t)k << 20);
	for (;;) {
		int64_t total = 0, tl, te;
		for (size_t i = 0; i < s->nx; i++)
			total += s->hi[i] - s->lo[i];
		double p = pick_pivot(s, &rng, total);
		count_below(s, p, &tl, &te);
		if (k >= tl && k < te)
			return p;
		for (size_t i = 0; i < s->nx; i++) {
			int64_t *lo = &s->lo[i], *hi = &s->hi[i];
			if (k < tl)
				*hi = s->lt[i] < *lo ? *lo : s->lt[i] < *hi ? s->lt[i] : *hi;
			else
				*lo = s->le[i] > *hi ? *hi : s->le[i] > *lo ? s->le[i] : *lo;
		}
	}
}

int sl_pairdiff_select(const double *xs, size_t nx, const double *ys, size_t ny, int64_t k, double *out)
{
	if (!xs || !ys || nx == 0 || ny == 0 || nx > INT32_MAX || ny > INT32_MAX || k < 0 ||
	    k >= (int64_t)nx * (int64_t)ny)
		return SL_EINVAL;
	int64_t *w = malloc(4 * nx * sizeof *w);
	if (!w)
		return SL_ENOMEM;
	struct pdsel s = {xs, ys, nx, ny, w, w + nx, w + 2 * nx, w + 3 * nx};
	for (size_t i = 0; i < nx; i++)
		s.lo[i] = 0, s.hi[i] = (int64_t)ny;
	*out = select_loop(&s, k);
	free(w);
	return 0;
}

static int hl_fill(const double *xs, size_t nx, const double *ys, size_t ny, double conf, struct sl_hl_result *r)
{
	int64_t n = (int64_t)nx * (int64_t)ny;
	double a, b;
	int err = sl_pairdiff_select(xs, nx, ys, ny, (n - 1) / 2, &a);
	if (!err && n % 2 == 0)
		err = sl_pairdiff_select(xs, nx, ys, ny, n / 2, &b);
	if (err)
		return err;
	r->estimate = n % 2 ? a : 0.5 * (a + b);
	double z = sl_norm_isf(0.5 * (1 - conf)), nd = (double)n;
	double kk = ceil(nd / 2 - 0.5 - z * sqrt(nd * ((double)nx + (double)ny + 1) / 12));
	r->attained = kk >= 1;
	int64_t k = r->attained ? (int64_t)kk : 1;
	if (k > (n + 1) / 2)
		k = (n + 1) / 2;
	r->k_lo = k, r->k_hi = n + 1 - k;
	err = sl_pairdiff_select(xs, nx, ys, ny, k - 1, &r->lo);
	if (!err)
		err = sl_pairdiff_select(xs, nx, ys, ny, n - k, &r->hi);
	return err;
}

int sl_hodges_lehmann(const double *x, size_t nx, const double *y, size_t ny, double conf, struct sl_hl_result *out)
{
	if (!x || !y || nx == 0 || ny == 0 || nx > INT32_MAX || ny > INT32_MAX || !(conf > 0 && conf < 1))
		return SL_EINVAL;
	for (size_t i = 0; i < nx; i++)
		if (!isfinite(x[i]))
			return SL_EINVAL;
	for (size_t i = 0; i < ny; i++)
		if (!isfinite(y[i]))
			return SL_EINVAL;
	double *buf = malloc((nx + ny) * sizeof *buf);
	if (!buf)
		return SL_ENOMEM;
	sl__sorted_copy(buf, x, nx);
	sl__sorted_copy(buf + nx, y, ny);
	struct sl_hl_result r;
	int err = hl_fill(buf, nx, buf + nx, ny, conf, &r);
	free(buf);
	if (!err)
		*out = r;
	return err;
}
