/* univariate-int.h: helpers shared by the drift module's own files (not exported): compensated
 * sums, growable arrays and small string utilities.
 * Invariants: header-only, static inline; nothing here allocates except sl__grow. */
#ifndef SLUICE_DRIFT_UNIVARIATE_INT_H
#define SLUICE_DRIFT_UNIVARIATE_INT_H

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "numcode-int.h"
#include "sluice/drift.h"

/* Neumaier's compensated sum: error independent of the count, so long sums agree with numpy's
 * pairwise ones to a few units in the last place. */
struct sl__ksum {
	double s, c;
};

static inline void sl__ksum_add(struct sl__ksum *k, double x)
{
	double t = k->s + x;
	if (fabs(k->s) >= fabs(x))
		k->c += (k->s - t) + x;
	else
		k->c += (x - t) + k->s;
	k->s = t;
}

static inline double sl__ksum_get(const struct sl__ksum *k)
{
	return k->s + k->c;
}

/* sl__ksum_add of x, m times: the same bits, in a few steps per binade the sum crosses. */
void sl__ksum_add_n(struct sl__ksum *k, double x, uint64_t m);

/* Grows *p (elements of size sz) to hold at least need elements; doubles the capacity. */
static inline int sl__grow(void **p, size_t *cap, size_t need, size_t sz)
{
	if (need <= *cap)
		return 0;
	size_t n = *cap ? *cap : 16;
	while (n < need) {
		if (n > SIZE_MAX / 2 / sz)
			return SL_ENOMEM;
		n *= 2;
	}
	void *q = realloc(*p, n * sz);
	if (!q)
		return SL_ENOMEM;
	*p = q;
	*cap = n;
	return 0;
}

/* A sorted sample, as a loaded column holds it: v[0..n) ascending; cnt NULL: one value per
 * entry (total = n), else counted (sl_drift_col.counts): v distinct by bit pattern (-0.0 and
 * +0.0 apart, so two entries may compare equal) and cnt[i] copies of v[i], total their sum.
 * Every function below gives the same bits on a counted sample as on its expansion. */
struct sl__sample {
	const double *v;
	const uint64_t *cnt;
	size_t n;
	uint64_t total;
};

static inline struct sl__sample sl__sample_of(const double *v, size_t n)
{
	return (struct sl__sample){v, NULL, n, n};
}

/* Distinct values (by ==), mean and std (sl_drift_mean_std's), histogram (sl_drift_hist's) and
 * value counts (sl_drift_value_counts', max_k unbounded) of samples. */
size_t sl__sample_nunique(const struct sl__sample *s);
void sl__sample_mean_std(const struct sl__sample *s, double *mean, double *std);
int sl__sample_hist(const struct sl__sample *a, const struct sl__sample *b, double lo, double hi, size_t nbins,
                    struct sl_drift_bins *out);
int sl__sample_value_counts(const struct sl__sample *a, const struct sl__sample *b, struct sl_drift_bins *out);
/* sl__sample_nunique and sl__sample_mean_std at once (for arrays, one pass fewer). */
void sl__sample_summary(const struct sl__sample *s, size_t *unique, double *mean, double *std);
/* c[0..n) (n > 0, sorted) decoded into v, and sl__sample_summary of v: the decode and the first
 * pass over the values in one loop, the same results. */
void sl__codes_summary(const uint32_t *c, size_t n, double *v, size_t *unique, double *mean, double *std);
/* *buf (cap *cap doubles) with room for n (n > 0): kept, or replaced by a larger huge-page
 * allocation; NULL (and *cap 0) when out of memory. */
double *sl__values_room(double **buf, size_t *cap, size_t n);
/* The values of s one per entry: s->v itself when not counted (*own NULL), else a copy in *own
 * that the caller frees; NULL when out of memory. */
const double *sl__sample_values(const struct sl__sample *s, double **own);
/* sl__drift_wasserstein_merge on samples. */
void sl__sample_wasserstein(const struct sl__sample *a, const struct sl__sample *b, double *w, size_t *distinct);
/* sl_drift_test_num for samples known sorted, finite and non-empty (a loaded table's columns),
 * with the reference's standard deviation when the caller has it (sl_drift_mean_std's; NaN:
 * computed here): the same result, bit for bit, with fewer passes over the arrays. */
int sl__drift_test_num_sample(const struct sl__sample *a, const struct sl__sample *b, double ref_std,
                              const struct sl_drift_opts *o, struct sl_drift_result *out);

/* sl_drift_wasserstein without its input checks (both sides sorted, finite, non-empty), also
 * giving the number of distinct values of the union (sl_drift_nunique_union's): one merge. */
void sl__drift_wasserstein_merge(const double *ref, size_t nr, const double *cur, size_t nc, double *w,
                                 size_t *distinct);
/* sl_drift_parse_number for a cell inside a buffer that is readable up to end (p + n <= end):
 * the same results, the common cells read eight bytes at a time; *code (when not NULL) gets the
 * number's decimal code (numcode-int.h), or 0 when it has none. */
int sl__drift_parse_number_in(const char *p, size_t n, const char *end, double *out, uint32_t *code);

/* Monotone map from double to unsigned (the sorts' keys): flip all bits of negatives, the sign
 * bit of others. Never 0 for a non-NaN double; sl__val_of undoes it. */
static inline uint64_t sl__key_of(double d)
{
	uint64_t u;
	memcpy(&u, &d, sizeof u);
	return (u >> 63) ? ~u : u | (1ULL << 63);
}

static inline double sl__val_of(uint64_t k)
{
	uint64_t u = (k >> 63) ? k & ~(1ULL << 63) : ~k;
	double d;
	memcpy(&d, &u, sizeof d);
	return d;
}

/* Ascending order of (key, count) pairs by key, for qsort. */
static inline int sl__cmp_key(const void *x, const void *y)
{
	uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;
	return (a > b) - (a < b);
}

/* sl_drift_sort with a caller's scratch of at least n keys (unused below 64 values). */
int sl__drift_sort_with(double *v, size_t n, uint64_t *scratch);
/* Sorts n decimal codes ascending (so their doubles too) with a scratch of n codes: the
 * sorted codes end up in c or in scratch, *out says which (the other holds a permutation);
 * SL_ENOMEM or SL_ERANGE leave c as it was and *out = c. */
int sl__drift_sort_codes(uint32_t *c, size_t n, uint32_t *scratch, uint32_t **out);

/* Copy of p[0..n) with a NUL, or NULL. */
static inline char *sl__strndup(const char *p, size_t n)
{
	char *s = malloc(n + 1);
	if (s) {
		memcpy(s, p, n);
		s[n] = '\0';
	}
	return s;
}

/* sl_drift_cats_add of a key already cut to c->max_key whose sl__cat_hash (c->seed, table-int.h) is h. */
int sl__cats_add_hashed(struct sl_drift_cats *c, const char *key, size_t len, uint64_t h, uint64_t count);
/* Asks for the slot where a key of hash h is looked for first (its cache line). */
static inline void sl__cats_prefetch(const struct sl_drift_cats *c, uint64_t h)
{
	if (c->nslots)
		__builtin_prefetch(&c->slots[h & (c->nslots - 1)]);
}

/* Longest prefix of p[0..n) of at most max bytes that does not split a UTF-8 sequence. */
static inline size_t sl__utf8_cut(const char *p, size_t n, size_t max)
{
	if (n <= max)
		return n;
	while (max > 0 && ((unsigned char)p[max] & 0xC0) == 0x80)
		max--;
	return max;
}

#endif
