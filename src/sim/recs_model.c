/* recs_model.c: the simulated recommendation world (see recs_model.h): categories, tastes,
 * Zipf popularity and the slates of the two simulated recommenders.
 * Invariants: an item's category and a user's taste are hashes of their ids, identical in every
 * process; a slate never repeats an item. */
#include <math.h>
#include <string.h>

#include "sim/recs_model.h"

static const char *const categories[SL_SIM_RECS_CATS] = {"drama", "comedy",  "news", "sports",
                                                         "music", "science", "kids", "cooking"};

static uint64_t mix64(uint64_t z)
{
	z += 0x9e3779b97f4a7c15u;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
	return z ^ (z >> 31);
}

static uint64_t fnv(const char *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325u;
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)p[i]) * 0x100000001b3u;
	return h;
}

const char *sl_sim_recs_category(uint64_t item)
{
	return categories[mix64(item) % SL_SIM_RECS_CATS];
}

void sl_sim_recs_taste(const char *user, size_t len, const char *fav[2])
{
	uint64_t h = mix64(fnv(user, len));
	size_t a = h % SL_SIM_RECS_CATS, b = (h >> 16) % (SL_SIM_RECS_CATS - 1);
	fav[0] = categories[a];
	fav[1] = categories[b >= a ? b + 1 : b];
}

bool sl_sim_recs_likes(const char *const fav[2], const char *category)
{
	return strcmp(fav[0], category) == 0 || strcmp(fav[1], category) == 0;
}

uint64_t sl_sim_recs_zipf(struct sl_rng *r, uint64_t catalog)
{
	/* inverse of the continuous CDF ln(1 + x) / ln(1 + N): P(k) ~ ln((k + 2) / (k + 1)) */
	double x = exp(sl_rng_double(r) * log((double)catalog + 1)) - 1;
	uint64_t k = (uint64_t)x;
	return k < catalog ? k : catalog - 1;
}

static bool taken(const struct sl_sim_recs_item *out, size_t n, uint64_t id)
{
	for (size_t i = 0; i < n; i++)
		if (out[i].id == id)
			return true;
	return false;
}

enum source { PERSONAL, POPULAR, FRESH };
static const char *const source_names[] = {"personal", "popular", "fresh"};

/* One item of the given source not yet in out[0..n). */
static uint64_t pick(uint64_t catalog, const char *const fav[2], enum source src, struct sl_rng *r,
                     const struct sl_sim_recs_item *out, size_t n)
{
	for (int tries = 0; tries < 200; tries++) {
		uint64_t id = src == FRESH ? sl_rng_next(r) % catalog : sl_sim_recs_zipf(r, catalog);
		bool fits = src != PERSONAL || sl_sim_recs_likes(fav, sl_sim_recs_category(id));
		if (fits && !taken(out, n, id))
			return id;
	}
	for (uint64_t id = 0;; id++) /* a tiny catalog: the first free item */
		if (!taken(out, n, id))
			return id;
}

void sl_sim_recs_slate(uint64_t catalog, const char *user, size_t ulen, bool repeat, uint64_t seed, struct sl_rng *rng,
                       struct sl_sim_recs_item *out, size_t n)
{
	const char *fav[2];
	struct sl_rng own;
	sl_sim_recs_taste(user, ulen, fav);
	if (repeat) {
		sl_rng_seed(&own, seed ^ fnv(user, ulen));
		rng = &own;
	}
	size_t personal = (n * 4 + 5) / 10, popular = (n * 3 + 5) / 10;
	for (size_t i = 0; i < n; i++) {
		enum source src = i < personal ? PERSONAL : i < personal + popular ? POPULAR : FRESH;
		out[i].id = pick(catalog, fav, src, rng, out, i);
		out[i].category = sl_sim_recs_category(out[i].id);
		out[i].source = source_names[src];
		out[i].score = 1.0 - (double)i / (double)(n + 1);
	}
}

int sl_sim_recs_json(struct sl_buf *b, const struct sl_sim_recs_item *items, size_t n)
{
	int rc = sl_buf_puts(b, "{\"items\":[");
	for (size_t i = 0; !rc && i < n; i++)
		rc = sl_buf_printf(b, "%s{\"id\":\"i%llu\",\"category\":\"%s\",\"source\":\"%s\",\"score\":%.4f}",
		                   i ? "," : "", (unsigned long long)items[i].id, items[i].category, items[i].source,
		                   items[i].score);
	return rc ? rc : sl_buf_puts(b, "]}");
}
