/* latency.c: exact quantiles over stored samples; see latency.h.
 * Samples are kept as microseconds in a growable array; a quantile sorts it once and
 * stays valid until the next add or merge. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sim/latency.h"
#include "sluice/core.h"

void sl_latency_init(struct sl_latency *l)
{
	l->us = NULL;
	l->n = l->cap = 0;
	l->sorted = true;
}

void sl_latency_release(struct sl_latency *l)
{
	free(l->us);
	sl_latency_init(l);
}

static int reserve(struct sl_latency *l, size_t extra)
{
	if (extra <= l->cap - l->n)
		return 0;
	if (extra > SIZE_MAX / sizeof(uint32_t) / 2 - l->n)
		return SL_ENOMEM;
	size_t cap = l->cap ? l->cap : 64;
	while (cap < l->n + extra)
		cap *= 2;
	uint32_t *p = realloc(l->us, cap * sizeof(*p));
	if (!p)
		return SL_ENOMEM;
	l->us = p;
	l->cap = cap;
	return 0;
}

int sl_latency_add(struct sl_latency *l, uint64_t ns)
{
	int rc = reserve(l, 1);
	if (rc)
		return rc;
	uint64_t us = ns / 1000;
	l->us[l->n++] = us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
	l->sorted = l->n == 1 || (l->sorted && l->us[l->n - 2] <= l->us[l->n - 1]);
	return 0;
}

int sl_latency_merge(struct sl_latency *dst, const struct sl_latency *src)
{
	if (src->n == 0)
		return 0;
	int rc = reserve(dst, src->n);
	if (rc)
		return rc;
	memcpy(dst->us + dst->n, src->us, src->n * sizeof(*src->us));
	dst->n += src->n;
	dst->sorted = false;
	return 0;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return (x > y) - (x < y);
}

double sl_latency_quantile_ms(struct sl_latency *l, double q)
{
	if (l->n == 0 || !(q >= 0 && q <= 1))
		return NAN;
	if (!l->sorted) {
		qsort(l->us, l->n, sizeof(*l->us), cmp_u32);
		l->sorted = true;
	}
	double pos = q * (double)(l->n - 1);
	size_t lo = (size_t)pos;
	size_t hi = lo + 1 < l->n ? lo + 1 : lo;
	double frac = pos - (double)lo;
	return ((double)l->us[lo] + frac * ((double)l->us[hi] - (double)l->us[lo])) / 1000.0;
}
