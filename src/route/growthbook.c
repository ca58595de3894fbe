/* growthbook.c: GrowthBook's FNV-1a based hash, bucket ranges and variation choice, so that
 * sluice assigns a user exactly as GrowthBook's SDKs do (checked against their shared cases). */
#include <math.h>
#include <stdio.h>

#include "sluice/route.h"

#define FNV_OFFSET 0x811c9dc5u
#define FNV_PRIME 0x01000193u

static uint32_t fnv1a(uint32_t h, struct sl_slice s)
{
	for (size_t i = 0; i < s.len; i++) {
		h ^= (unsigned char)s.ptr[i];
		h *= FNV_PRIME;
	}
	return h;
}

double sl_gb_hash(struct sl_slice seed, struct sl_slice value, int version)
{
	if (version == 1) {
		uint32_t n = fnv1a(fnv1a(FNV_OFFSET, value), seed);
		return (double)(n % 1000) / 1000.0;
	}
	if (version == 2) {
		char digits[16];
		uint32_t inner = fnv1a(fnv1a(FNV_OFFSET, seed), value);
		int len = snprintf(digits, sizeof(digits), "%u", inner);
		uint32_t n = fnv1a(FNV_OFFSET, sl_slice_make(digits, (size_t)len));
		return (double)(n % 10000) / 10000.0;
	}
	return -1;
}

void sl_gb_equal_weights(int n, double *out)
{
	for (int i = 0; i < n; i++)
		out[i] = 1.0 / n;
}

void sl_gb_bucket_ranges(int n, double coverage, const double *weights, int nweights, double (*ranges)[2])
{
	double total = 0;
	if (n <= 0)
		return;
	coverage = coverage < 0 ? 0 : coverage > 1 ? 1 : coverage;
	for (int i = 0; weights && nweights == n && i < n; i++)
		total += weights[i];
	bool equal = !weights || nweights != n || total < 0.99 || total > 1.01;
	double cumulative = 0;
	for (int i = 0; i < n; i++) {
		double w = equal ? 1.0 / n : weights[i];
		ranges[i][0] = cumulative;
		ranges[i][1] = cumulative + coverage * w;
		cumulative += w;
	}
}

int sl_gb_choose(double x, const double (*ranges)[2], int n)
{
	for (int i = 0; i < n; i++)
		if (x >= ranges[i][0] && x < ranges[i][1])
			return i;
	return -1;
}

bool sl_gb_in_namespace(struct sl_slice user, struct sl_slice ns_id, double lo, double hi)
{
	char seed[256];
	if (ns_id.len + 2 > sizeof(seed))
		return false;
	seed[0] = seed[1] = '_';
	for (size_t i = 0; i < ns_id.len; i++)
		seed[i + 2] = ns_id.ptr[i];
	double x = sl_gb_hash(sl_slice_make(seed, ns_id.len + 2), user, 1);
	return x >= lo && x < hi;
}
