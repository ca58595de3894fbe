/* agg_units.c: the bounded table of an experiment's units: 64-bit hash of the unit id ->
 * a dense record (variant and values).
 * Invariants: at most max_units records, ever (past it a new unit is refused and counted as
 * dropped); the index's load stays <= 1/2 (linear probing); ids are identified by their 64-bit
 * hash only (two ids colliding share a record: with 10^6 units the chance is ~3e-8); memory is
 * 16 bytes per index slot + (1 + 8 stride) bytes per record, grown by doubling. */
#include <stdlib.h>
#include <string.h>

#include "agg-int.h"

/* FNV-1a 64 then the splitmix64 finalizer: good low bits for the index mask. */
static uint64_t unit_hash(struct sl_slice s)
{
	uint64_t h = 0xcbf29ce484222325ull;
	for (size_t i = 0; i < s.len; i++) {
		h ^= (unsigned char)s.ptr[i];
		h *= 0x100000001b3ull;
	}
	h ^= h >> 30;
	h *= 0xbf58476d1ce4e5b9ull;
	h ^= h >> 27;
	h *= 0x94d049bb133111ebull;
	h ^= h >> 31;
	return h ? h : 1;
}

static int index_grow(struct sl__xagg *x)
{
	size_t cap = x->cap ? x->cap * 2 : 1024;
	struct sl__slot *s = calloc(cap, sizeof(*s));
	if (!s)
		return SL_ENOMEM;
	for (size_t i = 0; i < x->cap; i++) {
		if (!x->slots[i].key)
			continue;
		size_t j = x->slots[i].key & (cap - 1);
		while (s[j].key)
			j = (j + 1) & (cap - 1);
		s[j] = x->slots[i];
	}
	free(x->slots);
	x->slots = s;
	x->cap = cap;
	return 0;
}

static int records_grow(struct sl__xagg *x)
{
	uint64_t want = x->rec_cap ? (uint64_t)x->rec_cap * 2 : 1024;
	if (want > x->e->max_units)
		want = x->e->max_units;
	signed char *v = realloc(x->variant, want);
	if (!v)
		return SL_ENOMEM;
	x->variant = v;
	double *vals = realloc(x->vals, want * x->stride * sizeof(double) + 1);
	if (!vals)
		return SL_ENOMEM;
	x->vals = vals;
	x->rec_cap = (uint32_t)want;
	return 0;
}

static int64_t record_new(struct sl__xagg *x, size_t slot, uint64_t key)
{
	if (x->nrec >= x->rec_cap && records_grow(x))
		return -1;
	uint32_t r = x->nrec++;
	x->variant[r] = -1;
	memset(x->vals + (size_t)r * x->stride, 0, x->stride * sizeof(double));
	x->slots[slot].key = key;
	x->slots[slot].rec = r;
	x->counts.units++;
	return r;
}

int64_t sl__unit_find(struct sl__xagg *x, struct sl_slice unit, bool create)
{
	uint64_t key = unit_hash(unit);
	if (!x->cap && (!create || index_grow(x)))
		return -1;
	for (;;) {
		size_t i = key & (x->cap - 1);
		while (x->slots[i].key && x->slots[i].key != key)
			i = (i + 1) & (x->cap - 1);
		if (x->slots[i].key)
			return x->slots[i].rec;
		if (!create)
			return -1;
		if (x->nrec >= x->e->max_units) {
			x->counts.dropped++;
			return -1;
		}
		if ((x->nrec + 1) * 2 <= x->cap)
			return record_new(x, i, key);
		if (index_grow(x))
			return -1;
	}
}

void sl__units_release(struct sl__xagg *x)
{
	free(x->slots);
	free(x->variant);
	free(x->vals);
	x->slots = NULL;
	x->variant = NULL;
	x->vals = NULL;
	x->cap = 0;
	x->nrec = x->rec_cap = 0;
}
