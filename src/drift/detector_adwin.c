/* detector_adwin.c: ADWIN, a line-for-line port of River's AdaptiveWindowing (rust_src/adwin.rs,
 * itself a port of river/drift/adwin_c.pyx) with River's ADWIN wrapper around it (a detector
 * that signalled drift starts afresh on its next update).
 *
 * The window is kept as rows of buckets: row i holds up to max_buckets (transiently
 * max_buckets + 1) buckets of 2^i values, each summarized by its total and its variance
 * (sum of squared deviations). Row 0 gets every new value; a row that reaches max_buckets + 1
 * merges its two oldest buckets into one bucket of the next row. Every `clock` updates, once
 * the window is wider than grace_period, every cut between buckets is tried from the oldest
 * end; while some cut separates two means further apart than
 *   eps = sqrt(2 m v dp) + 2/3 dp m,  m = 1/(n0 - L + 1) + 1/(n1 - L + 1),
 *   dp = log(2 log(W) / delta), v = variance / W, L = min_window_length,
 * the oldest bucket is dropped and the scan starts again.
 *
 * Invariants: width = sum over rows of count * 2^row and total the sum of the bucket totals
 * (up to rounding); rows are ring buffers of max_buckets + 1 cells (head = oldest); rows at or
 * past n_rows are unused; nothing allocates after init. Departures from River, neither of
 * which changes a result: dp, v and 2/3 dp are computed once per scan instead of once per cut
 * (same operands, same values), and a cut whose |delta_mean| is at most 2/3 dp m is rejected
 * before the square root (eps >= that term, in floating point too). The sluice-only bound:
 * when row max_rows - 1 overflows, its oldest bucket is dropped (see detector.h).
 * Version: this is River's current scan, over every bucket of every row. Older adwin_c.pyx
 * releases skipped the last bucket of each row; on River's regression stream of four
 * 1,000-value segments they detect at 1023, 2047, 3039 where current River, and sluice, give
 * 1023, 2015, 3007 (tests/data/drift/README.md). */
#include "detector-int.h"

struct adwin_cell {
	double total, variance;
};

struct adwin {
	struct sl_adwin_params p;
	double total, variance, width;
	uint32_t countdown; /* updates left before the next look (River: tick % clock == 0) */
	uint32_t n_rows;    /* rows in use, 1..p.max_rows */
	uint32_t cap;       /* cells per row: max_buckets + 1 */
	bool drift;         /* the last update signalled: the next one starts afresh */
	uint8_t head[SL_ADWIN_MAX_ROWS];
	uint8_t count[SL_ADWIN_MAX_ROWS];
	struct adwin_cell cell[]; /* max_rows * cap */
};

static int adwin_check(const struct sl_adwin_params *p)
{
	if (!(p->delta > 0 && p->delta < 1) || p->clock < 1 || p->min_window_length < 1)
		return SL_EINVAL;
	if (p->max_buckets < 1 || p->max_buckets > SL_ADWIN_MAX_BUCKETS)
		return SL_EINVAL;
	if (p->max_rows < 2 || p->max_rows > SL_ADWIN_MAX_ROWS)
		return SL_EINVAL;
	return 0;
}

static size_t adwin_size(const struct sl_detector_params *p)
{
	struct sl_detector_params def;
	const struct sl_adwin_params *a = &det_params(p, &def)->adwin;
	if (adwin_check(a))
		return 0;
	return sizeof(struct adwin) + (size_t)a->max_rows * (a->max_buckets + 1) * sizeof(struct adwin_cell);
}

static void adwin_clear(struct adwin *a)
{
	a->total = 0, a->variance = 0, a->width = 0;
	a->countdown = a->p.clock;
	a->n_rows = 1;
	a->head[0] = 0, a->count[0] = 0;
	a->drift = false;
}

static int adwin_init(void *self, const struct sl_detector_params *p)
{
	struct sl_detector_params def;
	const struct sl_adwin_params *ap = &det_params(p, &def)->adwin;
	struct adwin *a = self;
	if (adwin_check(ap))
		return SL_EINVAL;
	a->p = *ap;
	a->cap = ap->max_buckets + 1;
	adwin_clear(a);
	return 0;
}

static inline double bucket_size(uint32_t row)
{
	return (double)((uint64_t)1 << row);
}

/* The k-th oldest bucket of a row. */
static inline struct adwin_cell *row_at(struct adwin *a, uint32_t row, uint32_t k)
{
	uint32_t j = a->head[row] + k;
	if (j >= a->cap)
		j -= a->cap;
	return &a->cell[(size_t)row * a->cap + j];
}

static inline void row_push(struct adwin *a, uint32_t row, double total, double variance)
{
	*row_at(a, row, a->count[row]) = (struct adwin_cell){total, variance};
	a->count[row]++;
}

static inline void row_pop(struct adwin *a, uint32_t row, uint32_t n)
{
	uint32_t h = a->head[row] + n;
	a->head[row] = (uint8_t)(h >= a->cap ? h - a->cap : h);
	a->count[row] = (uint8_t)(a->count[row] - n);
}

/* River's _delete_element: drops the oldest bucket of the window. */
static void adwin_delete_oldest(struct adwin *a)
{
	uint32_t last = a->n_rows - 1;
	double n = bucket_size(last);
	struct adwin_cell c = *row_at(a, last, 0);
	double mu = c.total / n;
	a->width -= n;
	a->total -= c.total;
	double mu_window = a->total / a->width;
	a->variance -= c.variance + n * a->width * (mu - mu_window) * (mu - mu_window) / (n + a->width);
	row_pop(a, last, 1);
	if (a->count[last] == 0 && a->n_rows > 1)
		a->n_rows--;
}

/* Merges the two oldest buckets of a full row into one bucket of the next row. */
static void adwin_merge(struct adwin *a, uint32_t row)
{
	struct adwin_cell c0 = *row_at(a, row, 0), c1 = *row_at(a, row, 1);
	double n1 = bucket_size(row);
	double mu1 = c0.total / n1, mu2 = c1.total / n1;
	double temp = n1 * 0.5 * (mu1 - mu2) * (mu1 - mu2);
	if (row + 1 == a->n_rows) {
		a->n_rows++;
		a->head[row + 1] = 0, a->count[row + 1] = 0;
	}
	row_push(a, row + 1, c0.total + c1.total, c0.variance + c1.variance + temp);
	row_pop(a, row, 2);
}

/* River's _compress_buckets, bounded to max_rows rows. */
static void adwin_compress(struct adwin *a)
{
	for (uint32_t row = 0; a->count[row] == a->cap; row++) {
		if (row + 1 == a->p.max_rows) {
			adwin_delete_oldest(a);
			return;
		}
		adwin_merge(a, row);
		if (a->count[row + 1] < a->cap)
			return;
	}
}

/* River's _insert_element. */
static void adwin_insert(struct adwin *a, double x)
{
	row_push(a, 0, x, 0.0);
	a->width += 1.0;
	double inc = 0.0;
	if (a->width > 1.0) {
		double d = x - a->total / (a->width - 1.0);
		inc = (a->width - 1.0) * d * d / a->width;
	}
	a->variance += inc;
	a->total += x;
	adwin_compress(a);
}

/* What one scan holds fixed: River recomputes these per cut from the same operands. */
struct adwin_scan {
	double mwl, v, dp, c; /* min_window_length, variance / width, dp, 2/3 dp */
};

/* River's _evaluate_cut. */
static inline bool adwin_cut(const struct adwin_scan *s, double n0, double n1, double u0, double u1)
{
	double delta_mean = fabs((u0 / n0) - (u1 / n1));
	double m_recip = 1.0 / (n0 - s->mwl + 1.0) + 1.0 / (n1 - s->mwl + 1.0);
	double tail = s->c * m_recip;
	if (delta_mean <= tail)
		return false;
	return delta_mean > sqrt(2.0 * m_recip * s->v * s->dp) + tail;
}

/* One pass over every cut, oldest first; drops the oldest bucket and returns true at the first
 * cut that separates the means. */
static bool adwin_scan_once(struct adwin *a)
{
	struct adwin_scan s = {.mwl = a->p.min_window_length, .v = a->variance / a->width};
	s.dp = log(2.0 * log(a->width) / a->p.delta);
	s.c = 2.0 / 3.0 * s.dp;
	double n0 = 0.0, n1 = a->width, u0 = 0.0, u1 = a->total;
	for (uint32_t row = a->n_rows; row-- > 0;) {
		double size = bucket_size(row);
		uint32_t cnt = a->count[row];
		for (uint32_t k = 0; k < cnt; k++) {
			double t = row_at(a, row, k)->total;
			n0 += size, n1 -= size, u0 += t, u1 -= t;
			if (row == 0 && k == cnt - 1)
				return false;
			if (n1 >= s.mwl && n0 >= s.mwl && adwin_cut(&s, n0, n1, u0, u1) && a->width > 0) {
				adwin_delete_oldest(a);
				return true;
			}
		}
	}
	return false;
}

/* River's _detect_change: every clock updates, shrink the window while a cut holds. */
static bool adwin_detect(struct adwin *a)
{
	bool change = false;
	if (--a->countdown > 0)
		return false;
	a->countdown = a->p.clock;
	if (a->width > a->p.grace_period)
		while (adwin_scan_once(a))
			change = true;
	return change;
}

static int adwin_update(void *self, double x, struct sl_detector_state *out)
{
	struct adwin *a = self;
	if (!isfinite(x))
		return det_reject(out);
	if (a->drift)
		adwin_clear(a);
	adwin_insert(a, x);
	a->drift = adwin_detect(a);
	out->drift = a->drift, out->warning = false;
	return 0;
}

static void adwin_reset(void *self)
{
	adwin_clear(self);
}

static void adwin_summary(const void *self, struct sl_detector_summary *s)
{
	const struct adwin *a = self;
	*s = (struct sl_detector_summary){
	    .estimation = a->width > 0 ? a->total / a->width : 0.0,
	    .n = a->width,
	    .statistic = NAN,
	    .threshold = NAN,
	    .drift = a->drift,
	};
}

const struct sl_detector_ops sl_detector_adwin = {
    .name = "adwin",
    .size = adwin_size,
    .init = adwin_init,
    .update = adwin_update,
    .reset = adwin_reset,
    .summary = adwin_summary,
};
