/* univariate_sort.c: ascending sort of doubles by LSD radix sort on their bit patterns
 * (11-bit digits, 6 passes, a pass skipped when every key shares its digit), several times
 * faster than qsort on the million-value columns of an offline report. A column of at most
 * FEW distinct values (counts, ratings, flags) is counted per value in one pass instead and
 * written back in order (one pass and a fill instead of 2-4 radix passes); any other column
 * leaves that count within its first few thousand values.
 * Keys are converted inside the counting pass and back inside the last pass that moves them;
 * sl__drift_sort_with lets a caller reuse one scratch buffer over many columns (fresh pages cost
 * a fault each).
 * Invariants: no NaN in the input; -0.0 sorts just before +0.0 (they compare equal, so every
 * consumer that compares values sees a sorted array), at every size; small inputs go to
 * insertion sort (on the same keys). */
#include "univariate-int.h"

#define DIGIT  11
#define NBUCK  (1u << DIGIT)
#define PASSES 6
#define FEW    8192 /* distinct values counted before the radix sort takes over (a power of 2) */

/* Sorts v by counting its distinct values in a hash table laid out in scratch (n keys), or
 * returns false with v untouched once there are more than can be counted (FEW, or n / 6 for a
 * small n). Key 0 marks an empty slot: it is never a key (it would be the bits of a NaN). */
static bool sort_few(double *v, size_t n, uint64_t *scratch)
{
	size_t few = FEW;
	while (few * 6 > n)
		few /= 2;
	size_t nslots = 2 * few, shift = 64 - (size_t)__builtin_ctzll(nslots), distinct = 0;
	uint64_t *key = scratch, *count = key + nslots, *run = count + nslots; /* run: 2 few */
	memset(key, 0, nslots * sizeof *key);
	for (size_t i = 0; i < n; i++) {
		uint64_t k = sl__key_of(v[i]);
		size_t s = (size_t)((k * 0x9E3779B97F4A7C15ULL) >> shift);
		while (key[s] != k) {
			if (!key[s]) {
				if (++distinct > few)
					return false;
				key[s] = k, count[s] = 0;
				break;
			}
			s = (s + 1) & (nslots - 1);
		}
		count[s]++;
	}
	size_t m = 0;
	for (size_t s = 0; s < nslots; s++)
		if (key[s])
			run[2 * m] = key[s], run[2 * m + 1] = count[s], m++;
	qsort(run, m, 2 * sizeof *run, sl__cmp_key); /* (key, count) pairs by key */
	for (size_t r = 0, i = 0; r < m; r++) {
		double d = sl__val_of(run[2 * r]);
		for (uint64_t j = 0; j < run[2 * r + 1]; j++)
			v[i++] = d;
	}
	return true;
}

/* By key, as the other sorts order (-0.0 before +0.0 whatever their input order). */
static void insertion(double *v, size_t n)
{
	for (size_t i = 1; i < n; i++) {
		double x = v[i];
		uint64_t k = sl__key_of(x);
		size_t j = i;
		for (; j > 0 && sl__key_of(v[j - 1]) > k; j--)
			v[j] = v[j - 1];
		v[j] = x;
	}
}

/* Sorts the keys of v (converted in the counting pass) using b as scratch; the last pass that
 * moves anything writes doubles back. Returns the buffer holding the sorted doubles. */
static double *radix(double *v, uint64_t *b, size_t n, uint32_t (*count)[NBUCK])
{
	uint64_t *a = (uint64_t *)v;
	for (size_t i = 0; i < n; i++) {
		uint64_t k = sl__key_of(v[i]);
		a[i] = k;
		for (int p = 0; p < PASSES; p++)
			count[p][(k >> (p * DIGIT)) & (NBUCK - 1)]++;
	}
	int last = -1;
	for (int p = 0; p < PASSES; p++)
		if (count[p][(a[0] >> (p * DIGIT)) & (NBUCK - 1)] != n)
			last = p; /* else every key has this digit: the pass would not move anything */
	if (last < 0) { /* all keys equal */
		for (size_t i = 0; i < n; i++)
			v[i] = sl__val_of(a[i]);
		return v;
	}
	for (int p = 0; p <= last; p++) {
		uint32_t *c = count[p];
		if (c[(a[0] >> (p * DIGIT)) & (NBUCK - 1)] == n)
			continue;
		uint32_t sum = 0;
		for (size_t d = 0; d < NBUCK; d++) {
			uint32_t t = c[d];
			c[d] = sum, sum += t;
		}
		if (p == last) {
			double *out = (double *)b;
			for (size_t i = 0; i < n; i++)
				out[c[(a[i] >> (p * DIGIT)) & (NBUCK - 1)]++] = sl__val_of(a[i]);
			return out;
		}
		for (size_t i = 0; i < n; i++)
			b[c[(a[i] >> (p * DIGIT)) & (NBUCK - 1)]++] = a[i];
		uint64_t *t = a;
		a = b, b = t;
	}
	return v; /* not reached */
}

int sl__drift_sort_with(double *v, size_t n, uint64_t *scratch)
{
	if (n < 64) {
		insertion(v, n);
		return 0;
	}
	if (n > UINT32_MAX)
		return SL_ERANGE;
	if (sort_few(v, n, scratch))
		return 0;
	uint32_t(*count)[NBUCK] = calloc(PASSES, sizeof *count);
	if (!count)
		return SL_ENOMEM;
	/* The keys live in v's own memory (the build has -fno-strict-aliasing). */
	double *done = radix(v, scratch, n, count);
	if (done != v)
		memcpy(v, done, n * sizeof *v);
	free(count);
	return 0;
}

int sl_drift_sort(double *v, size_t n)
{
	if (n < 64)
		return sl__drift_sort_with(v, n, NULL);
	uint64_t *b = malloc(n * sizeof *b);
	if (!b)
		return SL_ENOMEM;
	int rc = sl__drift_sort_with(v, n, b);
	free(b);
	return rc;
}
