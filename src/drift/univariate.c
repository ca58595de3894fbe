/* univariate.c: the univariate drift tests, each as Evidently computes it (the stattests in
 * github.com/evidentlyai/evidently, src/evidently/legacy/calculations/stattests/: ks_stattest.py,
 * chisquare_stattest.py, z_stattest.py, psi.py, jensenshannon.py,
 * wasserstein_distance_norm.py) and with the arithmetic of the SciPy 1.10 / numpy 1.24 calls they
 * make, so the results agree with them to rounding.
 * Invariants: inputs are finite; counts are aligned bins; the tests reuse libsluice's stats
 * (sl_ks_2samp, sl_chisquare, sl_prop_test) rather than restating them; the faster forms (the
 * Wasserstein merge of two arrays, repeated compensated additions in bulk) give the same bits
 * as the plain loops they replace (tests/unit/drift/univariate_fast.c). */
#include <math.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

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

/* Integral of |F_ref - F_cur| over the merged sorted values, one distinct value at a time:
 * between consecutive distinct values the two step functions are constant (SciPy's
 * _cdf_distance with p = 1). Any samples; merge_arrays is the same sum for arrays. */
static void merge_walk(const struct sl__sample *a, const struct sl__sample *b, double *out, size_t *distinct)
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

/* merge_arrays merges blocks of MERGE_BLOCK values as MERGE_CHAINS independent merges of
 * MERGE_STEPS values each (their starts found by binary search), without a branch per value:
 * the walk's branch on which side comes next is mispredicted about every other value, while
 * the chains' compares and loads overlap. */
#define MERGE_CHAINS 4
#define MERGE_STEPS 256
#define MERGE_BLOCK (MERGE_CHAINS * MERGE_STEPS)
_Static_assert(MERGE_CHAINS == 4, "merge_arrays runs four chains by hand");

/* The state after a prefix of the merge: the sum so far, the value of the current run of equal
 * values and the counts after its last value so far (a's in the low 32 bits, b's above), and the
 * runs finished before it (each added one term to sum). */
struct wmerge {
	struct sl__ksum sum;
	double v;
	uint64_t c;
	size_t runs;
	double nr, nc;
};

static inline uint64_t bits_of(double d)
{
	uint64_t u;
	memcpy(&u, &d, sizeof u);
	return u;
}

static inline double double_of(uint64_t u)
{
	double d;
	memcpy(&d, &u, sizeof d);
	return d;
}

/* |F_a - F_b| after counts c: the walk's arithmetic (and SciPy's). */
static inline double cdf_gap(uint64_t c, double nr, double nc)
{
	return fabs((double)(uint32_t)c / nr - (double)(uint32_t)(c >> 32) / nc);
}

/* Values of a among the first t of the merge of a and b (ties: a first), known in [lo, hi]. */
static size_t merge_rank(const double *a, const double *b, size_t t, size_t lo, size_t hi)
{
	while (lo < hi) {
		size_t m = lo + (hi - lo) / 2;
		if (a[m] <= b[t - m - 1])
			lo = m + 1;
		else
			hi = m;
	}
	return lo;
}

/* One value of a merge chain: the smaller of a[*i] and b[*j] (ties: a) to val, the counts after
 * it to cnt. No branch. */
static inline void merge_step(const double *a, const double *b, size_t *i, size_t *j, uint64_t *val, uint64_t *cnt)
{
	uint64_t x = bits_of(a[*i]), y = bits_of(b[*j]), ta = double_of(x) <= double_of(y);
	*val = ta ? x : y;
	*i += ta, *j += 1 - ta;
	*cnt = (uint64_t)*i | (uint64_t)*j << 32;
}

/* Adds the terms of the runs that values val[0..n) (counts after each in cnt) finish, in order:
 * the run ends are compacted in place (val gets the finished runs' values, cnt their counts),
 * then their gaps to the next distinct value are weighted and summed. val has n + 1 entries. */
static void merge_terms(struct wmerge *w, uint64_t *val, uint64_t *cnt, size_t n)
{
	double pv = w->v, *rv = (double *)val; /* the same memory as doubles (-fno-strict-aliasing) */
	uint64_t pc = w->c;
	size_t m = 0;
	for (size_t s = 0; s < n; s++) {
		double x = double_of(val[s]);
		uint64_t c = cnt[s];
		rv[m] = pv, cnt[m] = pc; /* kept only when x starts a new run */
		m += x != pv;
		pv = x, pc = c;
	}
	rv[m] = pv;
#ifdef __SSE2__
	__m128d den = _mm_set_pd(w->nc, w->nr);
	for (size_t r = 0; r < m; r++) { /* the same quotients as cdf_gap's, two at once */
		__m128d q = _mm_div_pd(_mm_cvtepi32_pd(_mm_loadl_epi64((const __m128i *)&cnt[r])), den);
		rv[r] = fabs(_mm_cvtsd_f64(q) - _mm_cvtsd_f64(_mm_unpackhi_pd(q, q))) * (rv[r + 1] - rv[r]);
	}
#else
	for (size_t r = 0; r < m; r++)
		rv[r] = cdf_gap(cnt[r], w->nr, w->nc) * (rv[r + 1] - rv[r]);
#endif
	for (size_t r = 0; r < m; r++)
		sl__ksum_add(&w->sum, rv[r]);
	w->v = pv, w->c = pc, w->runs += m;
}

/* merge_walk for arrays of fewer than 2^31 values each: the same terms in the same order (a
 * value equal to the one before finishes no run and adds nothing; the walk adds no term for it
 * either), so the same bits. */
static void merge_arrays(const double *a, size_t na, const double *b, size_t nb, double *out, size_t *distinct)
{
	uint64_t val[MERGE_BLOCK + 1], cnt[MERGE_BLOCK];
	struct wmerge w = {{0, 0}, fmin(a[0], b[0]), 0, 0, (double)na, (double)nb};
	size_t i = 0, j = 0;
	while (i + MERGE_BLOCK <= na && j + MERGE_BLOCK <= nb) { /* no chain reads past an end */
		size_t t = i + j, ic[MERGE_CHAINS], jc[MERGE_CHAINS];
		ic[0] = i, jc[0] = j;
		for (size_t c = 1; c < MERGE_CHAINS; c++) {
			ic[c] = merge_rank(a, b, t + c * MERGE_STEPS, ic[c - 1], i + c * MERGE_STEPS);
			jc[c] = t + c * MERGE_STEPS - ic[c];
		}
		size_t i0 = ic[0], i1 = ic[1], i2 = ic[2], i3 = ic[3], j0 = jc[0], j1 = jc[1], j2 = jc[2], j3 = jc[3];
		for (size_t s = 0; s < MERGE_STEPS; s++) {
			merge_step(a, b, &i0, &j0, &val[s], &cnt[s]);
			merge_step(a, b, &i1, &j1, &val[s + MERGE_STEPS], &cnt[s + MERGE_STEPS]);
			merge_step(a, b, &i2, &j2, &val[s + 2 * MERGE_STEPS], &cnt[s + 2 * MERGE_STEPS]);
			merge_step(a, b, &i3, &j3, &val[s + 3 * MERGE_STEPS], &cnt[s + 3 * MERGE_STEPS]);
		}
		merge_terms(&w, val, cnt, MERGE_BLOCK);
		i = i3, j = j3;
	}
	while (i < na || j < nb) { /* the rest one value at a time */
		size_t n = 0;
		for (; n < MERGE_BLOCK && (i < na || j < nb); n++) {
			bool ta = j >= nb || (i < na && a[i] <= b[j]);
			val[n] = bits_of(ta ? a[i++] : b[j++]);
			cnt[n] = (uint64_t)i | (uint64_t)j << 32;
		}
		merge_terms(&w, val, cnt, n);
	}
	*out = sl__ksum_get(&w.sum);
	*distinct = w.runs + 1;
}

void sl__sample_wasserstein(const struct sl__sample *a, const struct sl__sample *b, double *out, size_t *distinct)
{
	if (!a->cnt && !b->cnt && a->n <= INT32_MAX && b->n <= INT32_MAX)
		merge_arrays(a->v, a->n, b->v, b->n, out, distinct);
	else
		merge_walk(a, b, out, distinct);
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

/* Repeated additions in bulk. While a running sum a stays inside one binade [lo, 2 lo) of unit
 * u (its ulp), a + y rounds to a multiple of u: from a multiple of u, each addition moves a by
 * round(y / u) units, the same every time, with the same rounding error; in a tie (y / u half-way
 * between integers) the first such addition leaves an even multiple, and from there the step is
 * constant again. So after three additions made one by one, the first landing in the binade and
 * the last two showing the step, as many more as keep every exact sum at least u inside the
 * binade are one multiplication. */

/* How many more additions of y keep the step delta = a3 - a2 after a1, a2, a3 (each the one
 * before plus y): 0 unless a1 is in a3's binade, a normal one, and a2 and a3 well inside it. */
static uint64_t steady_steps(double a1, double a2, double a3, double y)
{
	double m1 = fabs(a1), m2 = fabs(a2), m3 = fabs(a3), delta = a3 - a2, r;
	if (!(m3 >= 0x1p-1000) || !isfinite(m3))
		return 0;
	int e;
	frexp(m3, &e);
	double lo = ldexp(1.0, e - 1), hi = 2 * lo, u = ldexp(1.0, e - 53);
	if (m1 < lo || m1 >= hi || m2 < lo + 2 * u || m2 > hi - 2 * u || m3 < lo + 2 * u || m3 > hi - 2 * u)
		return 0;
	if (delta == 0)
		return UINT64_MAX; /* a fixed point: y is below half a unit */
	if ((delta > 0) == (a3 > 0)) /* away from 0: every sum a + y below hi - u */
		r = (hi - u - m3 - fabs(y)) / fabs(delta);
	else /* towards 0: above lo + u */
		r = (m3 - lo - u - fabs(y)) / fabs(delta);
	return r > 8 && r < 0x1p62 ? (uint64_t)r - 4 : 0; /* 4 to spare for the rounding of r */
}

/* acc + y, m times, each sum rounded, as the loop gives it. */
static double add_n(double acc, double y, uint64_t m)
{
	while (m >= 8) {
		double a1 = acc + y, a2 = a1 + y, a3 = a2 + y;
		uint64_t j = steady_steps(a1, a2, a3, y);
		m -= 3;
		j = j < m ? j : m;
		acc = a3 + (double)j * (a3 - a2); /* exact: a multiple of u inside the binade */
		m -= j;
	}
	for (; m > 0; m--)
		acc += y;
	return acc;
}

void sl__ksum_add_n(struct sl__ksum *k, double x, uint64_t m)
{
	if (x == trunc(x) && k->s == trunc(k->s) && fabs(k->s) + (double)m * fabs(x) <= 0x1p52) {
		k->s += (double)m * x; /* every partial sum an integer below 2^52: exact, no correction */
		return;
	}
	while (m >= 8) {
		sl__ksum_add(k, x);
		double s1 = k->s;
		sl__ksum_add(k, x);
		double s2 = k->s;
		sl__ksum_add(k, x);
		uint64_t j = steady_steps(s1, s2, k->s, x);
		m -= 3;
		j = j < m ? j : m;
		if (j) { /* each addition's exact error, x - delta, goes to the correction term */
			double delta = k->s - s2;
			k->c = add_n(k->c, x - delta, j);
			k->s += (double)j * delta;
			m -= j;
		}
	}
	for (; m > 0; m--)
		sl__ksum_add(k, x);
}

/* The second pass of mean_std_of, from the first one's sum s. */
static void std_of(const double *v, size_t n, const struct sl__ksum *s, double *mean, double *std)
{
	struct sl__ksum q = {0, 0};
	double m = sl__ksum_get(s) / (double)n;
	for (size_t i = 0; i < n; i++)
		sl__ksum_add(&q, (v[i] - m) * (v[i] - m));
	*mean = m;
	*std = sqrt(sl__ksum_get(&q) / (double)n);
}

/* sl_drift_mean_std of v[0..n) (n > 0, sorted when unique is asked for): two compensated sums,
 * the first also counting distinct values (sl_drift_nunique_sorted's) when unique is not NULL. */
static void mean_std_of(const double *v, size_t n, double *mean, double *std, size_t *unique)
{
	struct sl__ksum s = {0, 0};
	size_t u = 1;
	sl__ksum_add(&s, v[0]);
	if (unique)
		for (size_t i = 1; i < n; i++) {
			sl__ksum_add(&s, v[i]);
			u += v[i] != v[i - 1];
		}
	else
		for (size_t i = 1; i < n; i++)
			sl__ksum_add(&s, v[i]);
	std_of(v, n, &s, mean, std);
	if (unique)
		*unique = u;
}

void sl__codes_summary(const uint32_t *c, size_t n, double *v, size_t *unique, double *mean, double *std)
{
	struct sl__ksum s = {0, 0};
	size_t u = 1;
	v[0] = sl__code_value(c[0]);
	sl__ksum_add(&s, v[0]);
	for (size_t i = 1; i < n; i++) {
		v[i] = sl__code_value(c[i]);
		sl__ksum_add(&s, v[i]);
		u += v[i] != v[i - 1];
	}
	std_of(v, n, &s, mean, std);
	*unique = u;
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
		sl__ksum_add_n(&s, a->v[i], a->cnt[i]);
	double m = sl__ksum_get(&s) / (double)a->total;
	for (size_t i = 0; i < a->n; i++)
		sl__ksum_add_n(&q, (a->v[i] - m) * (a->v[i] - m), a->cnt[i]);
	*mean = m;
	*std = sqrt(sl__ksum_get(&q) / (double)a->total);
}

void sl__sample_summary(const struct sl__sample *a, size_t *unique, double *mean, double *std)
{
	if (a->cnt || a->n == 0) {
		*unique = sl__sample_nunique(a);
		sl__sample_mean_std(a, mean, std);
		return;
	}
	mean_std_of(a->v, a->n, mean, std, unique);
}

void sl_drift_mean_std(const double *v, size_t n, double *mean, double *std)
{
	if (n == 0) {
		*mean = *std = NAN;
		return;
	}
	mean_std_of(v, n, mean, std, NULL);
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
