/* univariate_bins.c: the bins PSI and Jensen-Shannon run on, as Evidently's get_binned_data
 * builds them (evidently, src/evidently/legacy/calculations/stattests/utils.py): a numeric
 * column whose reference has more than 20 distinct values gets numpy's Sturges histogram of
 * both samples together; anything else one bin per distinct value of the union. Also the
 * equal-width histograms the HTML report draws.
 * Each works on arrays and, through struct sl__sample, on counted columns with the same results.
 * Invariants: inputs sorted ascending and finite; edges reproduce numpy 1.24's
 * histogram_bin_edges/linspace arithmetic step for step, and counts np.histogram's (bins
 * half-open, the last closed), so bin counts are identical to numpy's. */
#include <math.h>

#include "univariate-int.h"

size_t sl_drift_nunique_sorted(const double *v, size_t n)
{
	size_t u = n ? 1 : 0;
	for (size_t i = 1; i < n; i++)
		u += v[i] != v[i - 1];
	return u;
}

size_t sl__sample_nunique(const struct sl__sample *s)
{
	return sl_drift_nunique_sorted(s->v, s->n); /* counted: entries equal by == (-0.0, +0.0) count once */
}

const double *sl__sample_values(const struct sl__sample *s, double **own)
{
	*own = NULL;
	if (!s->cnt)
		return s->v;
	double *v = malloc((s->total ? s->total : 1) * sizeof *v);
	if (!v)
		return NULL;
	for (size_t i = 0, k = 0; i < s->n; i++)
		for (uint64_t j = 0; j < s->cnt[i]; j++)
			v[k++] = s->v[i];
	return *own = v;
}

/* Copies of the run of entries of s from *i on that equal x; moves *i past them. */
static uint64_t take_run(const struct sl__sample *s, size_t *i, double x)
{
	size_t i0 = *i;
	uint64_t m = 0;
	for (; *i < s->n && s->v[*i] == x; (*i)++)
		m += s->cnt ? s->cnt[*i] : 1;
	return s->cnt ? m : *i - i0;
}

/* Calls fn for each distinct value of the union with its count on each side. */
typedef int (*merge_fn)(void *ctx, double v, uint64_t cr, uint64_t cc);

static int merge_distinct(const struct sl__sample *a, const struct sl__sample *b, merge_fn fn, void *ctx)
{
	size_t i = 0, j = 0;
	while (i < a->n || j < b->n) {
		double v = j >= b->n || (i < a->n && a->v[i] <= b->v[j]) ? a->v[i] : b->v[j];
		uint64_t cr = take_run(a, &i, v), cc = take_run(b, &j, v);
		int rc = fn ? fn(ctx, v, cr, cc) : 0;
		if (rc)
			return rc;
	}
	return 0;
}

static int count_one(void *ctx, double v, uint64_t cr, uint64_t cc)
{
	(void)v, (void)cr, (void)cc;
	++*(size_t *)ctx;
	return 0;
}

/* The merge of merge_distinct without the call per value (a hot loop offline). */
size_t sl_drift_nunique_union(const double *a, size_t na, const double *b, size_t nb)
{
	size_t n = 0, i = 0, j = 0;
	while (i < na && j < nb) {
		double v = a[i] <= b[j] ? a[i] : b[j];
		while (i < na && a[i] == v)
			i++;
		while (j < nb && b[j] == v)
			j++;
		n++;
	}
	return n + sl_drift_nunique_sorted(a + i, na - i) + sl_drift_nunique_sorted(b + j, nb - j);
}

void sl_drift_bins_release(struct sl_drift_bins *b)
{
	free(b->ref);
	free(b->cur);
	free(b->edges);
	*b = (struct sl_drift_bins){0};
}

static int bins_alloc(struct sl_drift_bins *b, size_t k, bool edges)
{
	*b = (struct sl_drift_bins){.k = k};
	b->ref = calloc(k, sizeof *b->ref);
	b->cur = calloc(k, sizeof *b->cur);
	b->edges = edges ? malloc((k + 1) * sizeof *b->edges) : NULL;
	if (!b->ref || !b->cur || (edges && !b->edges)) {
		sl_drift_bins_release(b);
		return SL_ENOMEM;
	}
	return 0;
}

struct vc {
	struct sl_drift_bins *b;
	size_t i;
};

static int put_count(void *ctx, double v, uint64_t cr, uint64_t cc)
{
	struct vc *s = ctx;
	s->b->ref[s->i] = (double)cr;
	s->b->cur[s->i] = (double)cc;
	s->i++;
	return 0;
}

int sl_drift_value_counts(const double *ref, size_t nr, const double *cur, size_t nc, size_t max_k,
                          struct sl_drift_bins *out)
{
	if ((!ref && nr) || (!cur && nc) || nr + nc == 0)
		return SL_EINVAL;
	size_t k = sl_drift_nunique_union(ref, nr, cur, nc);
	if (k > max_k)
		return SL_ERANGE;
	int rc = bins_alloc(out, k, false);
	if (rc)
		return rc;
	struct vc s = {out, 0};
	struct sl__sample a = sl__sample_of(ref, nr), b = sl__sample_of(cur, nc);
	return merge_distinct(&a, &b, put_count, &s);
}

int sl__sample_value_counts(const struct sl__sample *a, const struct sl__sample *b, struct sl_drift_bins *out)
{
	size_t k = 0;
	merge_distinct(a, b, count_one, &k);
	int rc = bins_alloc(out, k, false);
	if (rc)
		return rc;
	struct vc s = {out, 0};
	return merge_distinct(a, b, put_count, &s);
}

/* numpy's searchsorted: first index with v[i] >= x (left) or v[i] > x (right). */
static size_t search(const double *v, size_t n, double x, bool right)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (right ? v[mid] <= x : v[mid] < x)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Values of s below x (right: at most x), searchsorted's index on the expansion. */
static uint64_t below(const struct sl__sample *s, double x, bool right)
{
	size_t i = search(s->v, s->n, x, right);
	if (!s->cnt)
		return i;
	uint64_t m = 0;
	for (size_t j = 0; j < i; j++)
		m += s->cnt[j];
	return m;
}

/* np.histogram(v, edges): cumulative counts through searchsorted, the last edge inclusive. */
static void hist_counts(const struct sl__sample *s, const double *edges, size_t k, double *counts)
{
	uint64_t prev = below(s, edges[0], false);
	for (size_t i = 1; i <= k; i++) {
		uint64_t c = below(s, edges[i], i == k);
		counts[i - 1] = (double)(c - prev);
		prev = c;
	}
}

/* np.linspace(first, last, k + 1): i * step + first, the last edge set to last exactly. */
static void linspace(double first, double last, size_t k, double *edges)
{
	double delta = last - first, step = delta / (double)k;
	for (size_t i = 0; i < k; i++)
		edges[i] = step == 0 ? (double)i / (double)k * delta + first : (double)i * step + first;
	edges[k] = last;
}

int sl_drift_hist(const double *ref, size_t nr, const double *cur, size_t nc, double lo, double hi, size_t nbins,
                  struct sl_drift_bins *out)
{
	struct sl__sample a = sl__sample_of(ref, nr), b = sl__sample_of(cur, nc);
	return sl__sample_hist(&a, &b, lo, hi, nbins, out);
}

int sl__sample_hist(const struct sl__sample *a, const struct sl__sample *b, double lo, double hi, size_t nbins,
                    struct sl_drift_bins *out)
{
	if (nbins == 0 || nbins > SL_DRIFT_MAX_BINS || !(lo <= hi) || !isfinite(lo) || !isfinite(hi))
		return SL_EINVAL;
	if (lo == hi) /* numpy widens an empty range by 0.5 each way */
		lo -= 0.5, hi += 0.5;
	int rc = bins_alloc(out, nbins, true);
	if (rc)
		return rc;
	linspace(lo, hi, nbins, out->edges);
	hist_counts(a, out->edges, nbins, out->ref);
	hist_counts(b, out->edges, nbins, out->cur);
	return 0;
}

int sl_drift_hist_sturges(const double *ref, size_t nr, const double *cur, size_t nc, struct sl_drift_bins *out)
{
	if (!ref || !cur || nr == 0 || nc == 0)
		return SL_EINVAL;
	double lo = fmin(ref[0], cur[0]), hi = fmax(ref[nr - 1], cur[nc - 1]);
	/* _hist_bin_sturges: width = ptp / (log2(n) + 1); bins = ceil(range / width). */
	double width = (hi - lo) / (log2((double)(nr + nc)) + 1.0), first = lo, last = hi;
	if (first == last)
		first -= 0.5, last += 0.5;
	double nb = width != 0 ? ceil((last - first) / width) : 1;
	if (!(nb >= 1 && nb <= SL_DRIFT_MAX_BINS))
		return SL_ERANGE;
	return sl_drift_hist(ref, nr, cur, nc, first, last, (size_t)nb, out);
}

int sl_drift_bins_num(const double *ref, size_t nr, const double *cur, size_t nc, struct sl_drift_bins *out)
{
	if (!ref || !cur || nr == 0 || nc == 0)
		return SL_EINVAL;
	if (sl_drift_nunique_sorted(ref, nr) > 20)
		return sl_drift_hist_sturges(ref, nr, cur, nc, out);
	return sl_drift_value_counts(ref, nr, cur, nc, SIZE_MAX, out);
}
