/* univariate.c: the univariate drift tests, each as Evidently computes it (the stattests in
 * github.com/evidentlyai/evidently, src/evidently/legacy/calculations/stattests/: ks_stattest.py,
 * chisquare_stattest.py, z_stattest.py, psi.py, jensenshannon.py,
 * wasserstein_distance_norm.py) and with the arithmetic of the SciPy 1.10 / numpy 1.24 calls they
 * make, so the results agree with them to rounding.
 * Invariants: inputs are finite; counts are aligned bins; the tests reuse libsluice's stats
 * (sl_ks_2samp, sl_chisquare, sl_prop_test) rather than restating them. */
#include <math.h>

#include "univariate-int.h"

int sl_drift_ks(const double *ref, size_t nr, const double *cur, size_t nc, struct sl_ks_result *out)
{
	/* Evidently: scipy.stats.ks_2samp(reference, current), two-sided, method "auto". */
	return sl_ks_2samp(ref, nr, cur, nc, SL_ALT_TWO_SIDED, SL_KS_AUTO, out);
}

static int counts_ok(const double *ref, const double *cur, size_t k, double *sr, double *sc)
{
	if (!ref || !cur || k == 0)
		return SL_EINVAL;
	double a = 0, b = 0;
	for (size_t i = 0; i < k; i++) {
		if (!(ref[i] >= 0) || !(cur[i] >= 0) || isinf(ref[i]) || isinf(cur[i]))
			return SL_EINVAL;
		a += ref[i], b += cur[i];
	}
	if (!(a > 0) || !(b > 0))
		return SL_EINVAL;
	*sr = a, *sc = b;
	return 0;
}

int sl_drift_chisquare(const double *ref, const double *cur, size_t k, struct sl_chi2_result *out)
{
	double nr, nc;
	int rc = counts_ok(ref, cur, k, &nr, &nc);
	if (rc)
		return rc;
	double *f_exp = malloc(k * sizeof *f_exp), knorm = nc / nr;
	if (!f_exp)
		return SL_ENOMEM;
	bool zero = false;
	for (size_t i = 0; i < k; i++) {
		f_exp[i] = ref[i] * knorm;
		zero |= f_exp[i] == 0;
	}
	if (zero) /* (o - 0)^2 / 0 with o > 0: SciPy's statistic is inf and its p-value 0 */
		*out = (struct sl_chi2_result){INFINITY, (double)k - 1, 0};
	else if (k == 1) /* no degrees of freedom: SciPy's chi2.sf(0, 0) is NaN */
		*out = (struct sl_chi2_result){0, 0, NAN};
	else
		rc = sl_chisquare(cur, f_exp, k, 0, out);
	free(f_exp);
	return rc;
}

int sl_drift_ztest(const double *ref, const double *cur, size_t k, double *z, double *pvalue)
{
	double nr, nc;
	int rc = counts_ok(ref, cur, k, &nr, &nc);
	if (rc)
		return rc;
	if (k > 2)
		return SL_EINVAL;
	/* Evidently counts the values other than the first key (sorted) in each sample. */
	double x1 = k == 2 ? ref[1] : 0, x2 = k == 2 ? cur[1] : 0;
	struct sl_prop_result r;
	rc = sl_prop_test((int64_t)x1, (int64_t)nr, (int64_t)x2, (int64_t)nc, SL_ALT_TWO_SIDED, 0.95, &r);
	if (rc)
		return rc;
	*z = r.z;
	*pvalue = r.pvalue;
	return 0;
}

/* Evidently's feel_zeroes: empty shares become min(nonzero)/1e6 when that minimum is at
 * most 1e-4, else 1e-4. */
static void fill_zeros(double *s, size_t k)
{
	double m = INFINITY;
	for (size_t i = 0; i < k; i++)
		if (s[i] != 0 && s[i] < m)
			m = s[i];
	double fill = m <= 0.0001 ? m / 1e6 : 0.0001;
	for (size_t i = 0; i < k; i++)
		if (s[i] == 0)
			s[i] = fill;
}

int sl_drift_psi(const double *ref, const double *cur, size_t k, double *out)
{
	double nr, nc;
	int rc = counts_ok(ref, cur, k, &nr, &nc);
	if (rc)
		return rc;
	double *s = malloc(2 * k * sizeof *s), *r = s, *c = s + k;
	if (!s)
		return SL_ENOMEM;
	for (size_t i = 0; i < k; i++)
		r[i] = ref[i] / nr, c[i] = cur[i] / nc;
	fill_zeros(r, k);
	fill_zeros(c, k);
	struct sl__ksum sum = {0, 0};
	for (size_t i = 0; i < k; i++)
		sl__ksum_add(&sum, (r[i] - c[i]) * log(r[i] / c[i]));
	free(s);
	*out = sl__ksum_get(&sum);
	return 0;
}

/* scipy.special.rel_entr */
static double rel_entr(double x, double y)
{
	if (x > 0 && y > 0)
		return x * log(x / y);
	return x == 0 && y >= 0 ? 0 : INFINITY;
}

int sl_drift_js(const double *ref, const double *cur, size_t k, double base, double *out)
{
	double nr, nc;
	int rc = counts_ok(ref, cur, k, &nr, &nc);
	if (rc)
		return rc;
	if (base != 0 && !(base > 0 && base != 1 && isfinite(base)))
		return SL_EINVAL;
	/* Evidently passes shares (count / n); SciPy normalizes them again by their sum. */
	struct sl__ksum tr = {0, 0}, tc = {0, 0}, left = {0, 0}, right = {0, 0};
	for (size_t i = 0; i < k; i++) {
		sl__ksum_add(&tr, ref[i] / nr);
		sl__ksum_add(&tc, cur[i] / nc);
	}
	double str = sl__ksum_get(&tr), stc = sl__ksum_get(&tc);
	for (size_t i = 0; i < k; i++) {
		double p = ref[i] / nr / str, q = cur[i] / nc / stc, m = (p + q) / 2.0;
		sl__ksum_add(&left, rel_entr(p, m));
		sl__ksum_add(&right, rel_entr(q, m));
	}
	double js = sl__ksum_get(&left) + sl__ksum_get(&right);
	if (base != 0)
		js /= log(base);
	/* Rounding can leave a hair below 0 for nearly equal inputs, where SciPy returns NaN. */
	*out = sqrt(fmax(0, js / 2.0));
	return 0;
}

static int sorted_ok(const double *v, size_t n)
{
	if (!v || n == 0)
		return SL_EINVAL;
	for (size_t i = 0; i < n; i++)
		if (!isfinite(v[i]) || (i && v[i] < v[i - 1]))
			return SL_EINVAL;
	return 0;
}

/* The cursor of a merge walk over a sample: entry i, and how many values lie before it. */
struct walk {
	const struct sl__sample *s;
	size_t i;
	uint64_t below;
};

/* Moves w past every entry equal to x (one run of equal values; a counted sample may hold two
 * entries that compare equal, -0.0 and +0.0). */
static inline void walk_past(struct walk *w, double x)
{
	const struct sl__sample *s = w->s;
	if (!s->cnt) {
		while (w->i < s->n && s->v[w->i] == x)
			w->i++;
		w->below = w->i;
		return;
	}
	while (w->i < s->n && s->v[w->i] == x)
		w->below += s->cnt[w->i++];
}

/* Integral of |F_ref - F_cur| over the merged sorted values: between consecutive distinct
 * values the two step functions are constant (SciPy's _cdf_distance with p = 1). */
void sl__sample_wasserstein(const struct sl__sample *a, const struct sl__sample *b, double *out, size_t *distinct)
{
	struct walk r = {a, 0, 0}, c = {b, 0, 0};
	size_t k = 0;
	struct sl__ksum sum = {0, 0};
	double v = fmin(a->v[0], b->v[0]), nr = (double)a->total, nc = (double)b->total;
	while (r.i < a->n || c.i < b->n) {
		walk_past(&r, v);
		walk_past(&c, v);
		k++; /* v was one distinct value of the union */
		if (r.i == a->n && c.i == b->n)
			break;
		double next = c.i >= b->n || (r.i < a->n && a->v[r.i] <= b->v[c.i]) ? a->v[r.i] : b->v[c.i];
		double d = fabs((double)r.below / nr - (double)c.below / nc);
		sl__ksum_add(&sum, d * (next - v));
		v = next;
	}
	*out = sl__ksum_get(&sum);
	*distinct = k;
}

void sl__drift_wasserstein_merge(const double *ref, size_t nr, const double *cur, size_t nc, double *out,
                                 size_t *distinct)
{
	struct sl__sample a = sl__sample_of(ref, nr), b = sl__sample_of(cur, nc);
	sl__sample_wasserstein(&a, &b, out, distinct);
}

int sl_drift_wasserstein(const double *ref, size_t nr, const double *cur, size_t nc, double *out)
{
	size_t k;
	if (sorted_ok(ref, nr) || sorted_ok(cur, nc))
		return SL_EINVAL;
	sl__drift_wasserstein_merge(ref, nr, cur, nc, out, &k);
	return 0;
}

/* x added m times, as m calls of sl__ksum_add would: at once when every partial sum is an
 * integer below 2^52 (each addition exact, the correction term unchanged), else one by one. */
static void ksum_add_n(struct sl__ksum *k, double x, uint64_t m)
{
	if (x == trunc(x) && k->s == trunc(k->s) && fabs(k->s) + (double)m * fabs(x) <= 0x1p52) {
		k->s += (double)m * x;
		return;
	}
	for (uint64_t j = 0; j < m; j++)
		sl__ksum_add(k, x);
}

void sl__sample_mean_std(const struct sl__sample *a, double *mean, double *std)
{
	if (!a->cnt) {
		sl_drift_mean_std(a->v, a->n, mean, std);
		return;
	}
	if (a->total == 0) {
		*mean = *std = NAN;
		return;
	}
	struct sl__ksum s = {0, 0}, q = {0, 0};
	for (size_t i = 0; i < a->n; i++)
		ksum_add_n(&s, a->v[i], a->cnt[i]);
	double m = sl__ksum_get(&s) / (double)a->total;
	for (size_t i = 0; i < a->n; i++)
		ksum_add_n(&q, (a->v[i] - m) * (a->v[i] - m), a->cnt[i]);
	*mean = m;
	*std = sqrt(sl__ksum_get(&q) / (double)a->total);
}

void sl_drift_mean_std(const double *v, size_t n, double *mean, double *std)
{
	if (n == 0) {
		*mean = *std = NAN;
		return;
	}
	struct sl__ksum s = {0, 0}, q = {0, 0};
	for (size_t i = 0; i < n; i++)
		sl__ksum_add(&s, v[i]);
	double m = sl__ksum_get(&s) / (double)n;
	for (size_t i = 0; i < n; i++)
		sl__ksum_add(&q, (v[i] - m) * (v[i] - m));
	*mean = m;
	*std = sqrt(sl__ksum_get(&q) / (double)n);
}

int sl_drift_wasserstein_norm(const double *ref, size_t nr, const double *cur, size_t nc, double *out)
{
	double w, mean, std;
	int rc = sl_drift_wasserstein(ref, nr, cur, nc, &w);
	if (rc)
		return rc;
	sl_drift_mean_std(ref, nr, &mean, &std);
	*out = w / fmax(std, 0.001);
	return 0;
}
