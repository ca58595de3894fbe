/* cathash.c: the category tables' hash (sl__cat_hash, table-int.h): keys longer than 32 bytes
 * hash as sl_drift_hash; shorter ones read every byte (keys differing in any one byte or in
 * length hash apart), spread over slots and tags (the low bits index a table, the top ones are
 * tags) about as well as random numbers; and category counts through it stay exact for keys
 * that differ only where the two overlapping loads meet. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drift/table-int.h"

static uint64_t rng_state = 0x2545F4914F6CDD1DULL;

static uint64_t rnd(void)
{
	uint64_t x = rng_state;
	x ^= x << 13, x ^= x >> 7, x ^= x << 17;
	return rng_state = x;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return (x > y) - (x < y);
}

/* Distinct values among v[0..n) after masking (v is sorted in place). */
static size_t distinct(uint64_t *v, size_t n, uint64_t mask, unsigned shift)
{
	for (size_t i = 0; i < n; i++)
		v[i] = (v[i] >> shift) & mask;
	qsort(v, n, sizeof *v, cmp_u64);
	size_t d = n ? 1 : 0;
	for (size_t i = 1; i < n; i++)
		d += v[i] != v[i - 1];
	return d;
}

Test(cathash, long_keys_are_sl_drift_hash)
{
	char buf[300];
	for (size_t i = 0; i < sizeof buf; i++)
		buf[i] = (char)rnd();
	for (size_t n = 33; n < 300; n++)
		cr_assert_eq(sl__cat_hash(buf, n, SL_DRIFT_CAT_SEED), sl_drift_hash(buf, n, SL_DRIFT_CAT_SEED), "%zu",
		             n);
}

Test(cathash, every_byte_and_the_length_count)
{
	/* one key of each length 0..32, then each byte changed in turn, and each prefix */
	char key[33];
	for (size_t n = 0; n <= 32; n++) {
		for (size_t i = 0; i < n; i++)
			key[i] = (char)('a' + rnd() % 26);
		uint64_t h = sl__cat_hash(key, n, SL_DRIFT_CAT_SEED);
		for (size_t i = 0; i < n; i++) {
			char was = key[i];
			key[i] = (char)(was ^ 1);
			cr_expect_neq(sl__cat_hash(key, n, SL_DRIFT_CAT_SEED), h, "length %zu, byte %zu", n, i);
			key[i] = was;
		}
		for (size_t m = 0; m < n; m++)
			cr_expect_neq(sl__cat_hash(key, m, SL_DRIFT_CAT_SEED), h, "length %zu, prefix %zu", n, m);
		cr_expect_neq(sl__cat_hash(key, n, SL_DRIFT_CAT_SEED + 1), h, "the seed counts");
	}
}

Test(cathash, spread_like_random)
{
	/* 65,536 keys of a log's shape; Poisson expectations for 65,536 draws:
	 * 131,072 slots -> 51,572 occupied; 2^32 tags -> all but a handful distinct */
	enum { N = 65536 };
	uint64_t *h = malloc(N * sizeof *h), *t = malloc(N * sizeof *t);
	cr_assert(h && t);
	static const char *const shapes[] = {"tenant-%05d", "t%d", "agent/%d.%d", "%d", "us-east-%d",
	                                     "agent/5.%d (sdk-%03d)", "a-long-common-prefix-%d-%d"};
	for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
		char key[32];
		for (int i = 0; i < N; i++) {
			int n = snprintf(key, sizeof key, shapes[s], i, i % 7);
			h[i] = sl__cat_hash(key, (size_t)n, SL_DRIFT_CAT_SEED);
		}
		memcpy(t, h, N * sizeof *t);
		cr_expect_gt(distinct(t, N, UINT64_MAX, 0), N - 2, "%s: full hashes", shapes[s]);
		memcpy(t, h, N * sizeof *t);
		cr_expect_gt(distinct(t, N, (1u << 17) - 1, 0), 50500, "%s: low 17 bits", shapes[s]);
		memcpy(t, h, N * sizeof *t);
		cr_expect_gt(distinct(t, N, (1u << 17) - 1, 47), 50500, "%s: top 17 bits", shapes[s]);
	}
	free(h);
	free(t);
}

Test(cathash, counts_exact_where_loads_overlap)
{
	/* keys of 4-32 bytes that differ in one middle byte, counted at a cap that holds them all
	 * and at one that folds: every kept count is the plain count */
	struct sl_drift_cats c;
	for (size_t cap = 64; cap <= 4096; cap *= 64) {
		cr_assert_eq(sl_drift_cats_init(&c, cap, 64, 0.01, 0.01, SL_DRIFT_CAT_SEED), 0);
		uint64_t want[29][26] = {{0}};
		for (int r = 0; r < 20000; r++) {
			size_t n = 4 + rnd() % 29, at = n / 2, v = rnd() % 26;
			char key[32];
			memset(key, 'k', n);
			key[at] = (char)('a' + v);
			want[n - 4][v]++;
			cr_assert_eq(sl_drift_cats_add(&c, key, n, 1), 0);
		}
		size_t kept = 0;
		for (size_t n = 4; n <= 32; n++)
			for (size_t v = 0; v < 26; v++)
				for (size_t i = 0; i < c.n; i++) {
					const struct sl_drift_cat_item *it = &c.items[i];
					if (it->len == n && c.pool[it->off + n / 2] == (char)('a' + v) &&
					    memcmp(c.pool + it->off, "kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk", n / 2) == 0) {
						cr_expect_eq(it->count, want[n - 4][v], "length %zu, value %zu", n, v);
						kept++;
					}
				}
		cr_expect_eq(kept, c.n);
		cr_expect_eq(c.total, 20000);
		sl_drift_cats_release(&c);
	}
}
