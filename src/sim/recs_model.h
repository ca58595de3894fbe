/* recs_model.h: the simulated recommendation world shared by `sluice sim --recs` (the
 * recommender) and `sluice load --recs` (its users): a catalog of items i0..i(N-1) whose
 * popularity follows Zipf (item k drawn with probability about 1/(k+1)), each in one of
 * SL_SIM_RECS_CATS categories, and users whose two favourite categories follow from their
 * name. Both programs derive the same facts from the same names, so no state is shared.
 * Invariants: pure functions of their arguments (and the RNG handed in); slates hold distinct
 * items. */
#ifndef SLUICE_SIM_RECS_MODEL_H
#define SLUICE_SIM_RECS_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sluice/core.h"

#define SL_SIM_RECS_CATS        8
#define SL_SIM_RECS_MAX_SLATE   64
#define SL_SIM_RECS_MAX_CATALOG 10000000u

struct sl_sim_recs_item {
	uint64_t id;
	const char *category, *source; /* static strings */
	double score;
};

const char *sl_sim_recs_category(uint64_t item);
/* The user's two favourite categories (distinct). */
void sl_sim_recs_taste(const char *user, size_t len, const char *fav[2]);
bool sl_sim_recs_likes(const char *const fav[2], const char *category);
/* Zipf(1) rank in [0, catalog). */
uint64_t sl_sim_recs_zipf(struct sl_rng *r, uint64_t catalog);
/* A slate of n distinct items for user: 40 % "personal" (popular items of the user's
 * categories), 30 % "popular", the rest "fresh" (uniform over the catalog). With repeat the
 * draws are seeded by the user alone, so the user gets the same slate every time; otherwise
 * they come from rng. Scores fall with the position. */
void sl_sim_recs_slate(uint64_t catalog, const char *user, size_t ulen, bool repeat, uint64_t seed, struct sl_rng *rng,
                       struct sl_sim_recs_item *out, size_t n);
/* {"items":[{"id":"i12","category":"drama","source":"popular","score":0.9},...]} */
int sl_sim_recs_json(struct sl_buf *b, const struct sl_sim_recs_item *items, size_t n);

#endif
