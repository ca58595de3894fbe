/* univariate_fast.c: the offline report's fast paths against their simple forms, bit for bit
 * (univariate-int.h): the Wasserstein merge of two arrays (blocks of four branch-free merge
 * chains, then the rest one value at a time) against the walk that counted samples take, on the
 * same values as (value, count) pairs; and the one-pass summary of an array (distinct values,
 * mean, std) against sl_drift_nunique_sorted and the counted form's mean and std; and the
 * counted form's repeated compensated additions in bulk (sl__ksum_add_n) against the loop.
 * Inputs: sizes on both sides of the merge's block (1,024 values) and of its chains (256),
 * distinct values, heavy ties, signed zeros, one side ending long before the other, disjoint and
 * identical samples. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "drift/univariate-int.h"

/* Value order, -0.0 before +0.0 (the loader's order). */
static int cmp_total(const void *x, const void *y)
{
	double a = *(const double *)x, b = *(const double *)y;
	if (a != b)
		return a < b ? -1 : 1;
	return (int)!signbit(a) - (int)!signbit(b);
}

/* v[0..n) (sorted) as a counted sample: one entry per run of equal bits. */
struct counted {
	double *v;
	uint64_t *cnt;
	struct sl__sample s;
};

static struct counted counted_of(const double *v, size_t n)
{
	struct counted c = {malloc(n * sizeof *c.v), malloc(n * sizeof *c.cnt), {0}};
	cr_assert(c.v && c.cnt);
	size_t m = 0;
	for (size_t i = 0; i < n; i++) {
		if (m && memcmp(&c.v[m - 1], &v[i], sizeof *v) == 0) {
			c.cnt[m - 1]++;
			continue;
		}
		c.v[m] = v[i], c.cnt[m++] = 1;
	}
	c.s = (struct sl__sample){c.v, c.cnt, m, n};
	return c;
}

static void counted_free(struct counted *c)
{
	free(c->v);
	free(c->cnt);
}

enum kind { DISTINCT, TIES, ZEROS, SHIFTED, DISJOINT, SAME, KINDS };

/* n values of a kind, sorted; side 1 is the current sample. */
static double *draw(enum kind k, size_t n, int side, struct sl_rng *rng)
{
	double *v = malloc((n ? n : 1) * sizeof *v);
	cr_assert(v);
	for (size_t i = 0; i < n; i++) {
		double u = sl_rng_double(rng), z = sl_rng_normal(rng);
		switch (k) {
		case DISTINCT: /* latencies with 6 significant digits: ties within and across sides */
			v[i] = round(exp(z * 0.5 + 6.5 + 0.05 * side) * 1000) / 1000;
			break;
		case TIES: /* 37 values */
			v[i] = (double)(sl_rng_next(rng) % 37) * 0.5 - (side ? 3 : 4);
			break;
		case ZEROS: /* signed zeros among small numbers of both signs */
			v[i] = u < 0.2 ? -0.0 : u < 0.4 ? 0.0 : z * 1e-3;
			break;
		case SHIFTED: /* the current side mostly above the reference */
			v[i] = z + (side ? 3 : 0);
			break;
		case DISJOINT:
			v[i] = u + (side ? 2 : 0);
			break;
		default: /* SAME: both sides draw the same values (the caller reseeds) */
			v[i] = round(z * 1e4) / 1e4;
			break;
		}
	}
	qsort(v, n, sizeof *v, cmp_total);
	return v;
}

static void check_merge(enum kind k, size_t na, size_t nb, uint64_t seed)
{
	struct sl_rng rng;
	sl_rng_seed(&rng, seed);
	double *a = draw(k, na, 0, &rng);
	if (k == SAME)
		sl_rng_seed(&rng, seed);
	double *b = draw(k, nb, 1, &rng);
	struct counted ca = counted_of(a, na), cb = counted_of(b, nb);
	double fast, walk;
	size_t kf, kw;
	sl__drift_wasserstein_merge(a, na, b, nb, &fast, &kf);
	sl__sample_wasserstein(&ca.s, &cb.s, &walk, &kw);
	cr_expect(memcmp(&fast, &walk, sizeof fast) == 0, "kind %d, %zu vs %zu: %.17g against the walk's %.17g", k, na,
	          nb, fast, walk);
	cr_expect_eq(kf, kw, "kind %d, %zu vs %zu: %zu distinct, the walk %zu", k, na, nb, kf, kw);
	cr_expect_eq(kf, sl_drift_nunique_union(a, na, b, nb), "kind %d, %zu vs %zu: distinct values", k, na, nb);
	counted_free(&ca);
	counted_free(&cb);
	free(a);
	free(b);
}

Test(univariate_fast, merge_matches_walk)
{
	static const size_t sizes[][2] = {{1, 1},       {1, 3000},    {2, 2},       {255, 257},   {1023, 1024},
	                                  {1024, 1024}, {1025, 1100}, {2048, 2049}, {3000, 1},    {5000, 7000},
	                                  {4096, 900},  {20000, 19999}, {100000, 3000}, {131072, 131073}};
	uint64_t seed = 1;
	for (int k = 0; k < KINDS; k++)
		for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
			check_merge((enum kind)k, sizes[i][0], sizes[i][1], seed++);
}

Test(univariate_fast, summary_matches)
{
	static const size_t sizes[] = {1, 2, 63, 1000, 100000};
	uint64_t seed = 100;
	for (int k = 0; k < KINDS; k++)
		for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
			struct sl_rng rng;
			sl_rng_seed(&rng, seed++);
			size_t n = sizes[i], u;
			double *v = draw((enum kind)k, n, 0, &rng), mean, std, m2, s2;
			struct sl__sample s = sl__sample_of(v, n);
			struct counted c = counted_of(v, n);
			sl__sample_summary(&s, &u, &mean, &std);
			sl__sample_mean_std(&c.s, &m2, &s2);
			cr_expect_eq(u, sl_drift_nunique_sorted(v, n), "kind %d, n %zu: distinct values", k, n);
			cr_expect(memcmp(&mean, &m2, sizeof mean) == 0 && memcmp(&std, &s2, sizeof std) == 0,
			          "kind %d, n %zu: mean %.17g std %.17g, counted %.17g %.17g", k, n, mean, std, m2, s2);
			sl_drift_mean_std(v, n, &m2, &s2);
			cr_expect(memcmp(&mean, &m2, sizeof mean) == 0 && memcmp(&std, &s2, sizeof std) == 0,
			          "kind %d, n %zu: not sl_drift_mean_std's bits", k, n);
			counted_free(&c);
			free(v);
		}
}

/* A random double of magnitude about 2^[lo, hi), either sign. */
static double magnitude(struct sl_rng *rng, int lo, int hi)
{
	double d = ldexp(1 + sl_rng_double(rng), lo + (int)(sl_rng_next(rng) % (uint64_t)(hi - lo)));
	return sl_rng_next(rng) % 2 ? -d : d;
}

/* A value added m times against m calls of sl__ksum_add, bit for bit, on the sum and on its
 * correction: sums of any sign and size, with or without a correction, values from 1 unit of
 * the sum to far above it, exact ties (half a unit of the sum, odd numbers of half units),
 * integers on a fractional sum, zero, and the variance terms of a counted column. */
Test(univariate_fast, ksum_add_n_matches_loop)
{
	static const uint64_t counts[] = {0, 1, 7, 8, 9, 10, 100, 1000, 4096, 30000};
	struct sl_rng rng;
	sl_rng_seed(&rng, 77);
	for (int i = 0; i < 4000; i++) {
		struct sl__ksum k = {0, 0};
		int sp = (int)(sl_rng_next(&rng) % 40) - 10;
		if (i % 7)
			k.s = magnitude(&rng, sp, sp + 1);
		if (i % 3 == 0)
			k.c = magnitude(&rng, sp - 60, sp - 50);
		double x, ulp = k.s != 0 ? nextafter(fabs(k.s), INFINITY) - fabs(k.s) : 0x1p-40;
		switch (i % 6) {
		case 0: /* below the sum, down to a few units */
			x = magnitude(&rng, sp - 55, sp);
			break;
		case 1: /* a tie: an odd number of half units */
			x = ulp * (0.5 + (double)(sl_rng_next(&rng) % 9)) * (sl_rng_next(&rng) % 2 ? 1 : -1);
			break;
		case 2: /* above the sum */
			x = magnitude(&rng, sp, sp + 8);
			break;
		case 3: /* an integer */
			x = (double)(int64_t)(sl_rng_next(&rng) % 2001) - 1000;
			break;
		case 4:
			x = i % 12 == 4 ? 0.0 : ulp * 0.25;
			break;
		default: /* a variance term: (v - mean)^2 */
			x = pow(3.7 - (double)(sl_rng_next(&rng) % 7) * 1.1, 2);
			break;
		}
		uint64_t m = counts[sl_rng_next(&rng) % (sizeof counts / sizeof counts[0])];
		struct sl__ksum loop = k;
		for (uint64_t j = 0; j < m; j++)
			sl__ksum_add(&loop, x);
		sl__ksum_add_n(&k, x, m);
		cr_expect(memcmp(&k.s, &loop.s, sizeof k.s) == 0 && memcmp(&k.c, &loop.c, sizeof k.c) == 0,
		          "case %d: %.17g added %llu times: (%.17g, %.17g), the loop (%.17g, %.17g)", i, x,
		          (unsigned long long)m, k.s, k.c, loop.s, loop.c);
	}
}
