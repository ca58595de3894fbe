/* dataset_cms.c: a count-min sketch (Cormode and Muthukrishnan 2005) for high-cardinality
 * categories, and the seeded 64-bit string hash the drift module uses.
 * Width w = ceil(e / eps) and depth d = ceil(ln(1 / delta)) give, for N values added,
 * true <= estimate <= true + eps N with probability >= 1 - delta per query. Row i's bucket is
 * (h1 + i h2) mod w from the two halves of one 64-bit hash (Kirsch and Mitzenmacher 2006).
 * Invariants: counters saturate at UINT32_MAX instead of wrapping; memory is 4 w d bytes;
 * sketches built with equal (eps, delta, seed) map every key to the same buckets. */
#include <math.h>

#include "univariate-int.h"

#define CMS_MAX_CELLS (1u << 26) /* 256 MiB of counters: refuse anything larger */

static uint32_t load32(const unsigned char *p)
{
	uint32_t v;
	memcpy(&v, p, sizeof v);
	return v;
}

/* The n <= 8 bytes at p as a little-endian number, in registers: one load for 8, two
 * overlapping ones for 4-7, three bytes for 1-3 (the overlaps hold the same bytes). */
static uint64_t load_le(const unsigned char *p, size_t n)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	uint64_t v;
	if (n == 8) {
		memcpy(&v, p, sizeof v);
		return v;
	}
	if (n >= 4)
		return load32(p) | (uint64_t)load32(p + n - 4) << (8 * (n - 4));
	if (n == 0)
		return 0;
	return p[0] | (uint64_t)p[n / 2] << (8 * (n / 2)) | (uint64_t)p[n - 1] << (8 * (n - 1));
#else
	uint64_t v = 0;
	for (size_t i = n; i-- > 0;)
		v = (v << 8) | p[i];
	return v;
#endif
}

static uint64_t mix(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return h;
}

/* MurmurHash64A's structure with a final avalanche; the same value on every platform. */
uint64_t sl_drift_hash(const char *p, size_t n, uint64_t seed)
{
	const uint64_t m = 0xc6a4a7935bd1e995ULL;
	const unsigned char *s = (const unsigned char *)p;
	uint64_t h = seed ^ (n * m);
	for (; n >= 8; n -= 8, s += 8) {
		uint64_t k = load_le(s, 8) * m;
		k ^= k >> 47;
		h = (h ^ (k * m)) * m;
	}
	if (n)
		h = (h ^ load_le(s, n)) * m;
	return mix(h);
}

int sl_cms_init(struct sl_cms *s, double eps, double delta, uint64_t seed)
{
	if (!(eps > 0 && eps < 1) || !(delta > 0 && delta < 1))
		return SL_EINVAL;
	double w = ceil(M_E / eps), d = ceil(log(1 / delta));
	if (w * d > CMS_MAX_CELLS)
		return SL_ERANGE;
	*s = (struct sl_cms){.w = (uint32_t)w, .d = (uint32_t)d, .seed = seed};
	s->c = calloc((size_t)s->w * s->d, sizeof *s->c);
	return s->c ? 0 : SL_ENOMEM;
}

void sl_cms_release(struct sl_cms *s)
{
	free(s->c);
	s->c = NULL;
}

void sl_cms_reset(struct sl_cms *s)
{
	memset(s->c, 0, (size_t)s->w * s->d * sizeof *s->c);
	s->total = 0;
}

static size_t bucket(const struct sl_cms *s, uint64_t h, uint32_t row)
{
	uint64_t h1 = h & 0xffffffffu, h2 = (h >> 32) | 1;
	return (size_t)row * s->w + (size_t)((h1 + row * h2) % s->w);
}

void sl_cms_add(struct sl_cms *s, const char *key, size_t len, uint64_t count)
{
	uint64_t h = sl_drift_hash(key, len, s->seed);
	for (uint32_t i = 0; i < s->d; i++) {
		uint32_t *c = &s->c[bucket(s, h, i)];
		*c = count >= UINT32_MAX - *c ? UINT32_MAX : *c + (uint32_t)count;
	}
	s->total += count;
}

uint64_t sl_cms_estimate(const struct sl_cms *s, const char *key, size_t len)
{
	uint64_t h = sl_drift_hash(key, len, s->seed), best = UINT64_MAX;
	for (uint32_t i = 0; i < s->d; i++) {
		uint64_t c = s->c[bucket(s, h, i)];
		best = c < best ? c : best;
	}
	return best;
}
