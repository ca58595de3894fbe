/* agg_units.c: the bounded table of an experiment's units: 64-bit hash of the unit id -> the
 * unit's record (variant and values), stored inline in an open-addressing table so that an
 * observation costs one cache miss (the slot), not two (an index slot, then a record).
 * Invariants: at most max_units records, ever (past it a new unit is refused and counted as
 * dropped); linear probing from the home slot (key * cap) >> 64, so cap need not be a power of
 * two; the table doubles while its load would pass 1/2, but never beyond cap_limit =
 * max_units * 4/3 + 1 slots, where the load stays <= 3/4; no deletion; ids are identified by
 * their 64-bit hash only (two ids colliding share a record: with 10^6 units the chance is
 * ~3e-8); memory is slot_bytes = 16 + 8 stride bytes per slot, at most cap_limit slots. */
#include <stdlib.h>
#include <string.h>

#include "agg-int.h"

#define MIN_CAP 1024

/* FNV-1a 64 then the splitmix64 finalizer: well-mixed high bits for the home slot. */
uint64_t sl__unit_hash(struct sl_slice s)
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

static size_t home(uint64_t key, size_t cap)
{
	return (size_t)(((unsigned __int128)key * cap) >> 64);
}

static struct sl__unit *slot_at(const unsigned char *table, size_t slot_bytes, size_t i)
{
	return (struct sl__unit *)(void *)(table + i * slot_bytes);
}

void sl__unit_prefetch(const struct sl__xagg *x, uint64_t key)
{
	if (x->cap)
		__builtin_prefetch(x->table + home(key, x->cap) * x->slot_bytes, 1);
}

/* The slot of key in table: its record, or the empty slot where it would go. */
static struct sl__unit *probe(const unsigned char *table, size_t cap, size_t slot_bytes, uint64_t key)
{
	size_t i = home(key, cap);
	for (;;) {
		struct sl__unit *u = slot_at(table, slot_bytes, i);
		if (u->key == key || u->key == 0)
			return u;
		if (++i == cap)
			i = 0;
	}
}

/* A zeroed table (huge-page aligned from 2 MiB on: see sl_huge_alloc). */
static unsigned char *table_alloc(size_t cap, size_t slot_bytes)
{
	void *p = sl_huge_alloc(cap * slot_bytes);
	return p ? memset(p, 0, cap * slot_bytes) : NULL;
}

static int table_grow(struct sl__xagg *x)
{
	if (!x->cap_limit)
		x->cap_limit = (size_t)x->e->max_units + x->e->max_units / 3 + 1;
	size_t cap = x->cap ? x->cap * 2 : MIN_CAP;
	if (cap > x->cap_limit)
		cap = x->cap_limit > x->cap ? x->cap_limit : x->cap;
	if (cap == x->cap)
		return SL_ENOMEM; /* not reached: the bound refuses a unit first */
	unsigned char *t = table_alloc(cap, x->slot_bytes);
	if (!t)
		return SL_ENOMEM;
	for (size_t i = 0; i < x->cap; i++) {
		const struct sl__unit *u = slot_at(x->table, x->slot_bytes, i);
		if (u->key)
			memcpy(probe(t, cap, x->slot_bytes, u->key), u, x->slot_bytes);
	}
	free(x->table);
	x->table = t;
	x->cap = cap;
	return 0;
}

/* Room for one more record: the load stays <= 1/2 until the table reaches cap_limit. */
static bool needs_grow(const struct sl__xagg *x)
{
	return !x->cap || (((size_t)x->nrec + 1) * 2 > x->cap && x->cap < x->cap_limit);
}

struct sl__unit *sl__unit_find(struct sl__xagg *x, uint64_t key, bool create)
{
	if (!x->slot_bytes)
		x->slot_bytes = sizeof(struct sl__unit) + x->stride * sizeof(double);
	struct sl__unit *u = x->cap ? probe(x->table, x->cap, x->slot_bytes, key) : NULL;
	if (u && u->key)
		return u;
	if (!create)
		return NULL;
	if (x->nrec >= x->e->max_units) {
		x->counts.dropped++;
		return NULL;
	}
	if (needs_grow(x)) {
		if (table_grow(x))
			return NULL;
		u = probe(x->table, x->cap, x->slot_bytes, key);
	}
	u->key = key;
	u->variant = -1;
	x->nrec++;
	x->counts.units++;
	return u;
}

void sl__units_release(struct sl__xagg *x)
{
	free(x->table);
	x->table = NULL;
	x->cap = 0;
	x->nrec = 0;
}
