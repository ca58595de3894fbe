/* memo.c: what segments scanned before contributed to their verdicts (see guard.h).
 * Invariants: a slot is empty (hash 0) or holds one segment: its hash (never 0), trust, length,
 * contribution and one allocation with its reasons then its bytes; bytes counts the slot array
 * plus every held allocation and never exceeds max_bytes (the slot array is under a tenth of it
 * and a segment kept under an eighth, so emptying slots always makes room); a lookup answers only when trust,
 * length and every byte agree, so a hash collision costs a scan, never a wrong verdict. */
#include <stdlib.h>
#include <string.h>

#include "guard-int.h"

#define BYTES_PER_SLOT 1024 /* the slot count is max_bytes / this, rounded down to a power of two */
#define MAX_SLOTS      ((size_t)1 << 20)

struct slot {
	uint64_t hash; /* 0: empty */
	size_t len;
	enum sl_guard_trust trust;
	struct sl__gseg g; /* g.reasons points into mem */
	void *mem;         /* g.n reasons, then the segment's len bytes */
	size_t cost;       /* bytes of mem */
};

struct sl_guard_memo {
	struct slot *slot;
	size_t mask;             /* slots - 1 */
	size_t max_bytes, bytes; /* bytes: the slot array plus every held mem */
	size_t entries;
	size_t hand; /* the next slot emptied when room is needed */
	uint64_t hits, misses;
	const void *rules, *opts; /* what it serves (NULL, NULL until first used) */
	bool bound;
};

int sl_guard_memo_new(size_t max_bytes, struct sl_guard_memo **out)
{
	*out = NULL;
	if (max_bytes < SL_GUARD_MEMO_MIN)
		return SL_EINVAL;
	size_t slots = 16;
	while (slots < MAX_SLOTS && slots * 2 <= max_bytes / BYTES_PER_SLOT)
		slots *= 2;
	struct sl_guard_memo *m = calloc(1, sizeof(*m));
	if (!m || !(m->slot = calloc(slots, sizeof(*m->slot)))) {
		free(m);
		return SL_ENOMEM;
	}
	m->mask = slots - 1;
	m->max_bytes = max_bytes;
	m->bytes = slots * sizeof(*m->slot);
	*out = m;
	return 0;
}

void sl_guard_memo_free(struct sl_guard_memo *m)
{
	if (!m)
		return;
	for (size_t i = 0; i <= m->mask; i++)
		free(m->slot[i].mem);
	free(m->slot);
	free(m);
}

void sl_guard_memo_stats(const struct sl_guard_memo *m, struct sl_guard_memo_stats *out)
{
	*out = (struct sl_guard_memo_stats){m->hits, m->misses, m->entries, m->bytes};
}

int sl__memo_bind(struct sl_guard_memo *m, const void *rules, const void *o)
{
	if (!m->bound) {
		m->rules = rules;
		m->opts = o;
		m->bound = true;
	}
	return m->rules == rules && m->opts == o ? 0 : SL_EINVAL;
}

/* 64-bit multiply-xorshift over 8 bytes at a time (about 1 ns per 8 bytes, against the scan's
 * 5 ns per byte); never 0. Not keyed: a crafted collision only costs a scan. */
static uint64_t hash_of(const char *s, size_t n, enum sl_guard_trust trust)
{
	const uint64_t k = 0x9e3779b97f4a7c15ULL;
	uint64_t h = (n * 0xbf58476d1ce4e5b9ULL) ^ ((uint64_t)trust << 56) ^ 0x94d049bb133111ebULL, w;
	size_t i = 0;
	for (; i + 8 <= n; i += 8) {
		memcpy(&w, s + i, 8);
		h = (h ^ w) * k;
		h ^= h >> 32;
	}
	w = 0;
	if (n > i) /* s may be NULL when n is 0 */
		memcpy(&w, s + i, n - i);
	h = (h ^ w) * k;
	h ^= h >> 29;
	h *= 0xbf58476d1ce4e5b9ULL;
	h ^= h >> 32;
	return h | 1;
}

static void empty(struct sl_guard_memo *m, struct slot *e)
{
	if (!e->hash)
		return;
	free(e->mem);
	m->bytes -= e->cost;
	m->entries--;
	memset(e, 0, sizeof(*e));
}

const struct sl__gseg *sl__memo_get(struct sl_guard_memo *m, const struct sl_guard_segment *seg, uint64_t *hash)
{
	uint64_t h = hash_of(seg->text, seg->len, seg->trust);
	const struct slot *e = &m->slot[h & m->mask];
	*hash = h;
	if (e->hash == h && e->len == seg->len && e->trust == seg->trust &&
	    (!seg->len || memcmp((const char *)e->mem + e->g.n * sizeof(struct sl_guard_reason), seg->text, seg->len) == 0)) {
		m->hits++;
		return &e->g;
	}
	m->misses++;
	return NULL;
}

void sl__memo_put(struct sl_guard_memo *m, uint64_t hash, const struct sl_guard_segment *seg, const struct sl__gseg *g)
{
	size_t rbytes = g->n * sizeof(struct sl_guard_reason), cost = rbytes + seg->len;
	struct slot *e = &m->slot[hash & m->mask];
	if (seg->len > m->max_bytes / 8)
		return;
	empty(m, e);
	while (m->bytes + cost > m->max_bytes) { /* room: the hand empties slots in turn */
		empty(m, &m->slot[m->hand]);
		m->hand = (m->hand + 1) & m->mask;
	}
	void *mem = malloc(cost ? cost : 1);
	if (!mem)
		return;
	if (rbytes)
		memcpy(mem, g->reasons, rbytes);
	if (seg->len)
		memcpy((char *)mem + rbytes, seg->text, seg->len);
	*e = (struct slot){hash, seg->len, seg->trust, *g, mem, cost};
	e->g.reasons = mem;
	m->bytes += cost;
	m->entries++;
}
