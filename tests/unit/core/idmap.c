/* The request-id map (sluice/idmap.h): id parsing, values kept per id, and the promise the
 * gateway's joins rely on: the newest SL_IDMAP_WAYS ids are always found, however they collide. */
#include <criterion/criterion.h>
#include <stdio.h>

#include "sluice/idmap.h"

struct val {
	uint32_t a, b;
	char tail[5]; /* a size that is not a multiple of 8 */
};

static uint64_t rng_state = 0x853c49e6748fea9bu;
static uint64_t next(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

Test(idmap, parses_only_32_lowercase_hex_not_zero)
{
	uint64_t hi, lo;
	cr_assert(sl_idmap_id(sl_slice_cstr("0123456789abcdef00000000000000ff"), &hi, &lo));
	cr_assert_eq(hi, 0x0123456789abcdefu);
	cr_assert_eq(lo, 0xffu);
	const char *bad[] = {"",
	                     "0123456789abcdef00000000000000f",
	                     "0123456789abcdef00000000000000fff",
	                     "0123456789ABCDEF00000000000000ff",
	                     "0123456789abcdeg00000000000000ff",
	                     "00000000000000000000000000000000",
	                     " 123456789abcdef00000000000000ff"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
		cr_assert(!sl_idmap_id(sl_slice_cstr(bad[i]), &hi, &lo), "accepted '%s'", bad[i]);
	cr_assert(!sl_idmap_id((struct sl_slice){NULL, 32}, &hi, &lo));
}

Test(idmap, keeps_values_and_zeroes_new_ones)
{
	struct sl_idmap m = SL_IDMAP_INIT(64, sizeof(struct val));
	cr_assert_null(sl_idmap_get(&m, 1, 2), "an empty map finds nothing");
	cr_assert_null(sl_idmap_put(&m, 0, 0), "0/0 is not an id");
	struct val *v = sl_idmap_put(&m, 1, 2);
	cr_assert_not_null(v);
	cr_assert_eq(v->a | v->b | (uint32_t)v->tail[4], 0);
	*v = (struct val){7, 8, "abcd"};
	cr_assert_eq(sl_idmap_get(&m, 1, 2), v);
	cr_assert_null(sl_idmap_get(&m, 2, 1));
	cr_assert_eq(sl_idmap_put(&m, 1, 2), v, "a second put finds the same value");
	cr_assert_eq(v->a, 7, "and keeps it");
	sl_idmap_free(&m);
	cr_assert_null(sl_idmap_get(&m, 1, 2), "freed: empty");
	cr_assert_not_null(sl_idmap_put(&m, 1, 2), "and usable again");
	sl_idmap_free(&m);
}

/* Ids with lo = 0 land in set hi % sets: all of these share set 3. */
Test(idmap, a_full_set_gives_way_oldest_first)
{
	struct sl_idmap m = SL_IDMAP_INIT(64, sizeof(struct val));
	uint64_t sets = 64 / SL_IDMAP_WAYS;
	for (uint64_t k = 0; k < SL_IDMAP_WAYS; k++)
		((struct val *)sl_idmap_put(&m, 3 + k * sets, 0))->a = (uint32_t)k;
	for (uint64_t k = 0; k < SL_IDMAP_WAYS; k++) {
		struct val *v = sl_idmap_get(&m, 3 + k * sets, 0);
		cr_assert(v && v->a == k, "id %lu of a full set lost", (unsigned long)k);
	}
	sl_idmap_put(&m, 3, 0); /* the oldest is put again: now the newest */
	sl_idmap_put(&m, 3 + SL_IDMAP_WAYS * sets, 0);
	cr_assert_not_null(sl_idmap_get(&m, 3, 0), "a refreshed id was evicted");
	cr_assert_null(sl_idmap_get(&m, 3 + sets, 0), "the oldest did not give way");
	cr_assert_not_null(sl_idmap_get(&m, 3 + SL_IDMAP_WAYS * sets, 0));
	for (uint64_t k = 2; k < SL_IDMAP_WAYS; k++)
		cr_assert_not_null(sl_idmap_get(&m, 3 + k * sets, 0));
	sl_idmap_free(&m);
}

/* A direct-mapped table loses a recent id whenever two collide; this map never loses any of the
 * newest SL_IDMAP_WAYS, whatever sets they land in. A small map and many random ids. */
Test(idmap, the_newest_ids_are_always_found)
{
	struct sl_idmap m = SL_IDMAP_INIT(32, sizeof(struct val));
	uint64_t hist[SL_IDMAP_WAYS][2];
	for (unsigned n = 0; n < 20000; n++) {
		uint64_t hi = next(), lo = next() | 1;
		struct val *v = sl_idmap_put(&m, hi, lo);
		cr_assert_not_null(v);
		v->a = n;
		hist[n % SL_IDMAP_WAYS][0] = hi;
		hist[n % SL_IDMAP_WAYS][1] = lo;
		for (unsigned k = 0; k < SL_IDMAP_WAYS && k <= n; k++) {
			unsigned at = (n - k) % SL_IDMAP_WAYS;
			struct val *w = sl_idmap_get(&m, hist[at][0], hist[at][1]);
			cr_assert(w && w->a == n - k, "put %u: the id put %u before is lost", n, k);
		}
	}
	sl_idmap_free(&m);
}
