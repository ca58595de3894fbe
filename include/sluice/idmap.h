/* idmap: a bounded map from a request id (128 bits, 32 lowercase hex characters) to a small
 * fixed-size value, for what is posted after the answer and names only its request id
 * (feedback, business events, recommendation slates).
 * Invariants: `entries` slots (a power of two, at least SL_IDMAP_WAYS) in sets of SL_IDMAP_WAYS
 * chosen by the id's bits, allocated on the first put; an id is forgotten only when
 * SL_IDMAP_WAYS newer ids land in its set (the set's oldest gives way), so a recent id is never
 * lost to one unlucky collision. Not thread-safe: one owner thread. */
#ifndef SLUICE_IDMAP_H
#define SLUICE_IDMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sluice/core.h"

#define SL_IDMAP_WAYS 8

struct sl_idmap {
	uint32_t entries;  /* set by the owner: a power of two >= SL_IDMAP_WAYS */
	size_t value_size; /* set by the owner */
	unsigned char *slots;
	uint32_t seq;
};
#define SL_IDMAP_INIT(entries, value_size)                                                                             \
	{                                                                                                              \
		(entries), (value_size), NULL, 0                                                                       \
	}

/* The 128 bits of a request id (exactly 32 lowercase hex characters, not all zero); false otherwise. */
bool sl_idmap_id(struct sl_slice id, uint64_t *hi, uint64_t *lo);
/* The value stored for id, or NULL when unknown or forgotten. */
void *sl_idmap_get(const struct sl_idmap *m, uint64_t hi, uint64_t lo);
/* The value for id, made (zeroed) in place of its set's oldest when the id is new; NULL when the
 * first allocation fails or the id is 0/0. A put of a known id keeps its value and makes it newest. */
void *sl_idmap_put(struct sl_idmap *m, uint64_t hi, uint64_t lo);
/* Frees the slots; the map is empty and usable again (entries and value_size stay). */
void sl_idmap_free(struct sl_idmap *m);

#endif
