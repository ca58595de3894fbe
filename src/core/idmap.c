/* idmap.c: the set-associative request-id map (see sluice/idmap.h). An entry is a 24-byte head
 * (the id and its insertion number) followed by the value, rounded up to 8 bytes; the slots are
 * 64-byte aligned, so a set of 32-byte entries is four whole cache lines. */
#include <stdlib.h>
#include <string.h>

#include "sluice/idmap.h"

struct head {
	uint64_t hi, lo; /* 0/0 = empty */
	uint32_t seq;    /* insertion number, to find a set's oldest (compared modulo 2^32) */
	uint32_t spare;
};

static size_t stride(const struct sl_idmap *m)
{
	return sizeof(struct head) + ((m->value_size + 7) & ~(size_t)7);
}

bool sl_idmap_id(struct sl_slice id, uint64_t *hi, uint64_t *lo)
{
	if (!id.ptr || id.len != 32)
		return false;
	*hi = *lo = 0;
	for (size_t i = 0; i < 32; i++) {
		int c = (unsigned char)id.ptr[i];
		int v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
		if (v < 0)
			return false;
		uint64_t *w = i < 16 ? hi : lo;
		*w = (*w << 4) | (uint64_t)v;
	}
	return *hi || *lo;
}

static unsigned char *set_of(const struct sl_idmap *m, uint64_t hi, uint64_t lo)
{
	uint64_t sets = m->entries / SL_IDMAP_WAYS;
	return m->slots + ((hi ^ (lo * 0x9e3779b97f4a7c15u)) & (sets - 1)) * SL_IDMAP_WAYS * stride(m);
}

/* The head holding id in its set, or NULL; *victim (may be NULL) is then the set's empty or oldest. */
static struct head *lookup(const struct sl_idmap *m, uint64_t hi, uint64_t lo, struct head **victim)
{
	unsigned char *set = set_of(m, hi, lo);
	size_t step = stride(m);
	struct head *old = (struct head *)set;
	for (unsigned i = 0; i < SL_IDMAP_WAYS; i++) {
		struct head *h = (struct head *)(set + i * step);
		if (h->hi == hi && h->lo == lo)
			return h;
		bool empty = !h->hi && !h->lo, old_empty = !old->hi && !old->lo;
		if (!old_empty && (empty || m->seq - h->seq > m->seq - old->seq))
			old = h;
	}
	if (victim)
		*victim = old;
	return NULL;
}

void *sl_idmap_get(const struct sl_idmap *m, uint64_t hi, uint64_t lo)
{
	if (!m->slots || (!hi && !lo))
		return NULL;
	struct head *h = lookup(m, hi, lo, NULL);
	return h ? h + 1 : NULL;
}

void *sl_idmap_put(struct sl_idmap *m, uint64_t hi, uint64_t lo)
{
	if (!hi && !lo)
		return NULL;
	if (!m->slots) { /* probed at random: on huge pages where the system allows */
		if (!(m->slots = sl_huge_alloc(m->entries * stride(m))))
			return NULL;
		memset(m->slots, 0, m->entries * stride(m));
	}
	struct head *victim = NULL, *h = lookup(m, hi, lo, &victim);
	if (!h) {
		h = victim;
		memset(h, 0, stride(m));
		h->hi = hi;
		h->lo = lo;
	}
	h->seq = ++m->seq;
	return h + 1;
}

void sl_idmap_free(struct sl_idmap *m)
{
	free(m->slots);
	m->slots = NULL;
	m->seq = 0;
}
