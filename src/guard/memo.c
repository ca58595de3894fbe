/* memo.c: what segments scanned before contributed to their verdicts (see guard.h).
 * Storage: a slot table (one slot per hash value) and one ring of bytes written in turn, so
 * keeping a segment allocates nothing: its record (a header, its reasons, its bytes) goes at the
 * ring's head, and room is made by dropping the oldest records at the tail (first in, first
 * out). A slot's newcomer leaves the old record in the ring, dead, until the tail passes it.
 * Invariants: a slot is empty (hash 0) or points at its live record (pos), which is in
 * [tail, head); every record is 8-byte aligned and whole (a record that would cross the ring's
 * end is preceded by a filler record up to the end); head - tail <= ring size, so slots, texts
 * and reasons stay within max_bytes; a lookup answers only when trust, length and every byte
 * agree, so a hash collision costs a scan, never a wrong verdict. */
#include <stdlib.h>
#include <string.h>

#include "guard-int.h"

#define BYTES_PER_SLOT 1024 /* the slot count is max_bytes / this, rounded down to a power of two */
#define MAX_SLOTS      ((size_t)1 << 20)
#define FILLER         UINT32_MAX /* the slot field of a filler record */

struct slot {
	uint64_t hash; /* 0: empty */
	uint64_t pos;  /* its record's position (counted from the ring's first byte ever written) */
	size_t len;
	enum sl_guard_trust trust;
	struct sl__gseg g; /* g.reasons points into the ring */
};

/* At the start of each record, then g.n reasons, then the segment's bytes, then padding to 8. */
struct rec {
	uint32_t slot; /* index, or FILLER */
	uint32_t size; /* bytes of the whole record */
};

struct sl_guard_memo {
	struct slot *slot;
	size_t mask;            /* slots - 1 */
	char *ring;
	size_t cap;             /* ring bytes, a multiple of 8 */
	uint64_t head, tail;    /* positions; the ring offset is pos % cap */
	size_t max_bytes, slot_bytes, entries;
	uint64_t hits, misses;
	const void *rules, *opts; /* what it serves, once bound (opts NULL until then) */
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
	if (!m)
		return SL_ENOMEM;
	m->max_bytes = max_bytes;
	m->slot_bytes = slots * sizeof(*m->slot); /* under a tenth of max_bytes */
	m->cap = (max_bytes - m->slot_bytes) & ~(size_t)7;
	if (!(m->slot = calloc(slots, sizeof(*m->slot))) || !(m->ring = malloc(m->cap))) {
		sl_guard_memo_free(m);
		return SL_ENOMEM;
	}
	m->mask = slots - 1;
	*out = m;
	return 0;
}

void sl_guard_memo_free(struct sl_guard_memo *m)
{
	if (!m)
		return;
	free(m->slot);
	free(m->ring);
	free(m);
}

void sl_guard_memo_stats(const struct sl_guard_memo *m, struct sl_guard_memo_stats *out)
{
	*out = (struct sl_guard_memo_stats){m->hits, m->misses, m->entries, m->slot_bytes + (size_t)(m->head - m->tail)};
}

int sl__memo_bind(struct sl_guard_memo *m, const void *rules, const void *o)
{
	if (!m->opts) {
		m->rules = rules;
		m->opts = o;
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

static struct rec *rec_at(const struct sl_guard_memo *m, uint64_t pos)
{
	return (struct rec *)(m->ring + pos % m->cap);
}

const struct sl__gseg *sl__memo_get(struct sl_guard_memo *m, const struct sl_guard_segment *seg, uint64_t *hash)
{
	uint64_t h = hash_of(seg->text, seg->len, seg->trust);
	const struct slot *e = &m->slot[h & m->mask];
	*hash = h;
	if (e->hash == h && e->len == seg->len && e->trust == seg->trust &&
	    (!seg->len || memcmp((const char *)(e->g.reasons + e->g.n), seg->text, seg->len) == 0)) {
		m->hits++;
		return &e->g;
	}
	m->misses++;
	return NULL;
}

/* Drops the oldest record (a live one empties its slot). */
static void drop_tail(struct sl_guard_memo *m)
{
	const struct rec *r = rec_at(m, m->tail);
	if (r->slot != FILLER && m->slot[r->slot].hash && m->slot[r->slot].pos == m->tail) {
		m->slot[r->slot].hash = 0;
		m->entries--;
	}
	m->tail += r->size;
}

void sl__memo_put(struct sl_guard_memo *m, uint64_t hash, const struct sl_guard_segment *seg, const struct sl__gseg *g)
{
	size_t rbytes = g->n * sizeof(struct sl_guard_reason);
	size_t size = (sizeof(struct rec) + rbytes + seg->len + 7) & ~(size_t)7;
	size_t idx = hash & m->mask;
	if (seg->len > m->max_bytes / 8)
		return; /* (which keeps a record and a filler before it well within the ring) */
	if (m->slot[idx].hash) { /* the holder's record stays, dead, until the tail passes it */
		m->slot[idx].hash = 0;
		m->entries--;
	}
	size_t off = m->head % m->cap, filler = m->cap - off < size ? m->cap - off : 0;
	while (m->head + filler + size - m->tail > m->cap && m->tail < m->head)
		drop_tail(m);
	if (filler) {
		*rec_at(m, m->head) = (struct rec){FILLER, (uint32_t)filler};
		m->head += filler;
	}
	struct rec *r = rec_at(m, m->head);
	struct sl_guard_reason *reasons = (struct sl_guard_reason *)(r + 1);
	*r = (struct rec){(uint32_t)idx, (uint32_t)size};
	if (rbytes)
		memcpy(reasons, g->reasons, rbytes);
	if (seg->len)
		memcpy(reasons + g->n, seg->text, seg->len);
	m->slot[idx] = (struct slot){hash, m->head, seg->len, seg->trust, *g};
	m->slot[idx].g.reasons = reasons;
	m->head += size;
	m->entries++;
}
