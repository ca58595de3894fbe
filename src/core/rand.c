/* rand.c: xoshiro256** (Blackman and Vigna), seeded by splitmix64; normal by Box-Muller. */
#include <math.h>

#include "sluice/core.h"

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15u);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
	return z ^ (z >> 31);
}

void sl_rng_seed(struct sl_rng *r, uint64_t seed)
{
	for (int i = 0; i < 4; i++)
		r->s[i] = splitmix64(&seed);
}

static inline uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

uint64_t sl_rng_next(struct sl_rng *r)
{
	uint64_t *s = r->s;
	uint64_t result = rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;
	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return result;
}

double sl_rng_double(struct sl_rng *r)
{
	return (double)(sl_rng_next(r) >> 11) * 0x1.0p-53;
}

double sl_rng_normal(struct sl_rng *r)
{
	double u1 = 1.0 - sl_rng_double(r); /* (0, 1] */
	double u2 = sl_rng_double(r);
	return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}

double sl_rng_lognormal(struct sl_rng *r, double median, double sigma)
{
	return median * exp(sigma * sl_rng_normal(r));
}

void sl_request_id(struct sl_rng *r, char out[33])
{
	static const char hex[] = "0123456789abcdef";
	for (int w = 0; w < 2; w++) {
		uint64_t v = sl_rng_next(r);
		for (int i = 0; i < 16; i++, v >>= 4)
			out[w * 16 + i] = hex[v & 15];
	}
	out[32] = '\0';
}
