/* recs_table.c: the bounded tables behind the live recommendation monitor: a set-associative
 * tag table with LRU eviction inside a set (users, pending slates), exact counts on 64-bit
 * keys up to a cap (popularity, window exposures) and a HyperLogLog for the catalog past it.
 * Invariants: key 0 is never stored (sl__recs_hash never returns it); a counts table holds at
 * most cap keys at load <= 1/2; the tag table never grows. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "recs-int.h"

uint64_t sl__recs_hash(const char *s, size_t n)
{
	uint64_t h = sl_drift_hash(s, n, 0x5eed5eedULL);
	return h ? h : 1;
}

int sl__recs_assoc_init(struct recs_assoc *a, size_t cap)
{
	a->sets = (cap + RECS_WAYS - 1) / RECS_WAYS;
	a->clock = 0;
	a->tag = calloc(a->sets * RECS_WAYS, sizeof *a->tag);
	return a->tag ? 0 : SL_ENOMEM;
}

void sl__recs_assoc_release(struct recs_assoc *a)
{
	free(a->tag);
	a->tag = NULL;
}

static size_t set_of(const struct recs_assoc *a, uint64_t key)
{
	return (size_t)((key >> 17) % a->sets) * RECS_WAYS;
}

long sl__recs_assoc_find(const struct recs_assoc *a, uint64_t key)
{
	size_t s = set_of(a, key);
	for (size_t w = 0; w < RECS_WAYS; w++)
		if (a->tag[s + w].key == key)
			return (long)(s + w);
	return -1;
}

void sl__recs_assoc_touch(struct recs_assoc *a, size_t slot)
{
	a->tag[slot].used = ++a->clock;
}

size_t sl__recs_assoc_claim(struct recs_assoc *a, uint64_t key, bool *fresh, bool *evicted)
{
	long found = sl__recs_assoc_find(a, key);
	*fresh = found < 0, *evicted = false;
	size_t slot = (size_t)found;
	if (found < 0) {
		size_t s = set_of(a, key);
		slot = s;
		for (size_t w = 0; w < RECS_WAYS; w++) /* an empty slot, else the least recently used */
			if (!a->tag[s + w].key || (a->tag[slot].key && a->tag[s + w].used < a->tag[slot].used))
				slot = s + w;
		*evicted = a->tag[slot].key != 0;
		a->tag[slot].key = key;
	}
	sl__recs_assoc_touch(a, slot);
	return slot;
}

int sl__recs_counts_init(struct recs_counts *c, size_t cap, size_t initial)
{
	*c = (struct recs_counts){.cap = cap};
	size_t n = 16;
	while (n < 2 * initial && n < 2 * cap)
		n *= 2;
	c->keys = calloc(n, sizeof *c->keys);
	c->counts = calloc(n, sizeof *c->counts);
	c->nslots = n;
	return c->keys && c->counts ? 0 : SL_ENOMEM;
}

void sl__recs_counts_release(struct recs_counts *c)
{
	free(c->keys);
	free(c->counts);
	c->keys = c->counts = NULL;
}

void sl__recs_counts_reset(struct recs_counts *c)
{
	memset(c->keys, 0, c->nslots * sizeof *c->keys);
	memset(c->counts, 0, c->nslots * sizeof *c->counts);
	c->n = 0;
}

static size_t probe(const uint64_t *keys, size_t nslots, uint64_t key)
{
	size_t mask = nslots - 1, s = (size_t)key & mask;
	while (keys[s] && keys[s] != key)
		s = (s + 1) & mask;
	return s;
}

static int grow(struct recs_counts *c)
{
	size_t n = c->nslots * 2;
	uint64_t *k = calloc(n, sizeof *k), *v = calloc(n, sizeof *v);
	if (!k || !v) {
		free(k), free(v);
		return SL_ENOMEM;
	}
	for (size_t i = 0; i < c->nslots; i++)
		if (c->keys[i]) {
			size_t s = probe(k, n, c->keys[i]);
			k[s] = c->keys[i], v[s] = c->counts[i];
		}
	free(c->keys), free(c->counts);
	c->keys = k, c->counts = v, c->nslots = n;
	return 0;
}

int sl__recs_counts_add(struct recs_counts *c, uint64_t key, uint64_t add, uint64_t *now)
{
	size_t s = probe(c->keys, c->nslots, key);
	if (!c->keys[s]) {
		if (c->n >= c->cap)
			return SL_ERANGE;
		if ((c->n + 1) * 2 > c->nslots) {
			if (grow(c))
				return SL_ENOMEM;
			s = probe(c->keys, c->nslots, key);
		}
		c->keys[s] = key;
		c->n++;
	}
	c->counts[s] += add;
	if (now)
		*now = c->counts[s];
	return 0;
}

uint64_t sl__recs_counts_get(const struct recs_counts *c, uint64_t key)
{
	size_t s = probe(c->keys, c->nslots, key);
	return c->keys[s] ? c->counts[s] : 0;
}

void sl__recs_hll_add(struct recs_hll *h, uint64_t hash)
{
	size_t idx = (size_t)(hash >> (64 - RECS_HLL_BITS));
	uint64_t rest = hash << RECS_HLL_BITS;
	uint8_t rank = rest ? (uint8_t)(__builtin_clzll(rest) + 1) : (uint8_t)(64 - RECS_HLL_BITS + 1);
	if (rank > h->reg[idx])
		h->reg[idx] = rank;
}

double sl__recs_hll_estimate(const struct recs_hll *h)
{
	const double m = (double)(1u << RECS_HLL_BITS), alpha = 0.7213 / (1 + 1.079 / m);
	double sum = 0;
	size_t zeros = 0;
	for (size_t i = 0; i < (1u << RECS_HLL_BITS); i++) {
		sum += ldexp(1.0, -h->reg[i]);
		zeros += h->reg[i] == 0;
	}
	double e = alpha * m * m / sum;
	if (e <= 2.5 * m && zeros) /* linear counting for the small range */
		e = m * log(m / (double)zeros);
	return e;
}
