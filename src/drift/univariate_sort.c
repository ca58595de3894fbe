/* univariate_sort.c: ascending sort of doubles by radix sort on their bit patterns, several
 * times faster than qsort on the million-value columns of an offline report: one MSD pass over
 * the whole column on the 11 bits just below the keys' common prefix (into one scratch buffer),
 * then each bucket (a few hundred keys: in cache) sorted the same way on its own next bits
 * until buckets hold at most 32 keys, which one insertion pass orders; about 2 passes over
 * the column's memory instead of the 6 of an LSD sort. A column of at most FEW distinct values
 * (counts, ratings, flags) is counted per value in one pass instead and written back in order;
 * any other column leaves that count within its first few thousand values.
 * Keys are converted in place in the first pass and back as each bucket is finished;
 * sl__drift_sort_with lets a caller reuse one scratch buffer over many columns (fresh pages cost
 * a fault each). Decimal codes (numcode-int.h) are their own keys, 32 bits: an LSD radix sort
 * of three 11-bit digits sorts them in about half the time of the MSD passes (one pass counts
 * all three digits; a digit that every key shares is skipped).
 * Invariants: no NaN in the input; -0.0 sorts just before +0.0 (they compare equal, so every
 * consumer that compares values sees a sorted array), at every size; small inputs go to
 * insertion sort (on the same keys); equal keys are equal bits, so the output is the same
 * bits whatever the sort. */
#include "univariate-int.h"

#define DIGIT 11
#define NBUCK (1u << DIGIT)
#define SMALL 32   /* buckets of at most this many keys are left to insertion sort */
#define FEW   8192 /* distinct values counted before the radix sort takes over (a power of 2) */

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

/* Insertion sort of keys; cheap on the nearly sorted runs the radix passes leave. */
static void insertion_keys(uint64_t *a, size_t n)
{
	for (size_t i = 1; i < n; i++) {
		uint64_t x = a[i];
		size_t j = i;
		for (; j > 0 && a[j - 1] > x; j--)
			a[j] = a[j - 1];
		a[j] = x;
	}
}

/* The bits where some key of a[0..n) differs from a[0]. */
static uint64_t differing(const uint64_t *a, size_t n)
{
	uint64_t d = 0;
	for (size_t i = 1; i < n; i++)
		d |= a[i] ^ a[0];
	return d;
}

/* One MSD pass: a[0..n) moved to t by the digit of the DIGIT (or, for a small n, about log2 n)
 * bits just below the keys' common prefix (diff: their differing bits, not 0); end[d] is then
 * the end of digit d's bucket in t. Returns the number of buckets. */
static size_t split(const uint64_t *a, uint64_t *t, size_t n, uint64_t diff, uint32_t *end)
{
	unsigned hb = 63u - (unsigned)__builtin_clzll(diff), bits = 64u - (unsigned)__builtin_clzll(n);
	bits = bits < 6 ? 6 : bits > DIGIT ? DIGIT : bits;
	bits = bits > hb + 1 ? hb + 1 : bits;
	unsigned shift = hb + 1 - bits;
	size_t nb = (size_t)1 << bits, mask = nb - 1;
	memset(end, 0, nb * sizeof *end);
	for (size_t i = 0; i < n; i++)
		end[(a[i] >> shift) & mask]++;
	uint32_t sum = 0;
	for (size_t d = 0; d < nb; d++) {
		uint32_t c = end[d];
		end[d] = sum, sum += c;
	}
	for (size_t i = 0; i < n; i++)
		t[end[(a[i] >> shift) & mask]++] = a[i];
	return nb;
}

/* Sorts the keys a[0..n) (n > SMALL), t[0..n) scratch; returns the buffer that holds them
 * sorted. Each pass takes at least 6 bits (or all the differing ones), so the depth is at
 * most 11 and the stack below 100 KiB. */
static uint64_t *sort_keys(uint64_t *a, uint64_t *t, size_t n)
{
	uint64_t diff = differing(a, n);
	if (!diff)
		return a;
	uint32_t end[NBUCK];
	size_t nb = split(a, t, n, diff, end);
	for (size_t d = 0, start = 0; d < nb; start = end[d++]) {
		size_t m = end[d] - start;
		if (m <= SMALL)
			continue; /* the insertion below orders it */
		uint64_t *r = sort_keys(t + start, a + start, m);
		if (r != t + start)
			memcpy(t + start, r, m * sizeof *t);
	}
	insertion_keys(t, n); /* only inside the small buckets is anything out of order */
	return t;
}

/* Sorts v by its keys: converted in place, one MSD pass over the whole column into b, then
 * each bucket sorted in cache (sort_keys) and written back to v as doubles. */
static void radix(double *v, uint64_t *b, size_t n)
{
	uint64_t *a = (uint64_t *)v, k0 = sl__key_of(v[0]), diff = 0;
	for (size_t i = 0; i < n; i++) {
		uint64_t k = sl__key_of(v[i]);
		a[i] = k, diff |= k ^ k0;
	}
	if (!diff) { /* all keys equal */
		for (size_t i = 0; i < n; i++)
			v[i] = sl__val_of(a[i]);
		return;
	}
	uint32_t end[NBUCK];
	size_t nb = split(a, b, n, diff, end);
	for (size_t d = 0, start = 0; d < nb; start = end[d++]) {
		size_t m = end[d] - start;
		uint64_t *r = b + start;
		if (m > SMALL)
			r = sort_keys(b + start, a + start, m);
		else
			insertion_keys(r, m);
		for (size_t i = 0; i < m; i++)
			v[start + i] = sl__val_of(r[i]);
	}
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
	/* The keys live in v's own memory (the build has -fno-strict-aliasing). */
	radix(v, scratch, n);
	return 0;
}

#define CODE_DIGITS 3 /* of DIGIT bits: 33 >= 32 */

static int cmp_code(const void *x, const void *y)
{
	uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;
	return (a > b) - (a < b);
}

int sl__drift_sort_codes(uint32_t *c, size_t n, uint32_t *scratch, uint32_t **out)
{
	*out = c;
	if (n < 64) { /* not worth the counts */
		qsort(c, n, sizeof *c, cmp_code);
		return 0;
	}
	if (n > UINT32_MAX)
		return SL_ERANGE;
	uint32_t(*count)[NBUCK] = calloc(CODE_DIGITS, sizeof *count);
	if (!count)
		return SL_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		uint32_t k = c[i];
		count[0][k & (NBUCK - 1)]++, count[1][(k >> DIGIT) & (NBUCK - 1)]++, count[2][k >> 2 * DIGIT]++;
	}
	uint32_t *src = c, *dst = scratch;
	for (unsigned p = 0; p < CODE_DIGITS; p++) {
		unsigned shift = DIGIT * p;
		uint32_t *at = count[p], sum = 0;
		if (at[(src[0] >> shift) & (NBUCK - 1)] == n)
			continue; /* every key has this digit */
		for (size_t d = 0; d < NBUCK; d++) {
			uint32_t k = at[d];
			at[d] = sum, sum += k;
		}
		for (size_t i = 0; i < n; i++)
			dst[at[(src[i] >> shift) & (NBUCK - 1)]++] = src[i];
		uint32_t *t = src;
		src = dst, dst = t;
	}
	*out = src;
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
