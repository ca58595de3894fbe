/* features: cheap per-request features for drift monitoring, computed from the request body the
 * gateway has already parsed and from what it measured of the answer. Pure; no allocation.
 * Cost: one pass over the prompt text (a few ns per byte). */
#ifndef SLUICE_FEATURES_H
#define SLUICE_FEATURES_H

#include <stdbool.h>
#include <stddef.h>

#define SL_TOPIC_DIMS 32 /* hashed word-unigram and bigram sketch, L2-normalized */

/* Numeric features, in a fixed order (names in sl_feature_names). */
enum sl_feature {
	SL_F_PROMPT_CHARS,
	SL_F_PROMPT_TOKENS,  /* estimated: ceil(chars / 4) */
	SL_F_MESSAGES,
	SL_F_SCRIPT_LATIN,   /* share of letters in each script */
	SL_F_SCRIPT_CYRILLIC,
	SL_F_SCRIPT_CJK,
	SL_F_SCRIPT_ARABIC,
	SL_F_SCRIPT_OTHER,
	SL_F_CLASS_LETTER,   /* share of characters in each class */
	SL_F_CLASS_DIGIT,
	SL_F_CLASS_SPACE,
	SL_F_CLASS_PUNCT,
	SL_F_RESPONSE_TOKENS,
	SL_F_LATENCY_MS,
	SL_F_TTFT_MS,
	/* Recommendation slates (docs/RECS.md), posted apart from requests (sl_monitor_add_value):
	 * NaN in every request's row. */
	SL_F_RECS_DIVERSITY,  /* a slate's intra-list diversity */
	SL_F_RECS_NOVELTY,    /* a slate's mean novelty */
	SL_F_RECS_REPETITION, /* Jaccard of a user's consecutive slates */
	SL_F_RECS_CTR,        /* share of a slate's items clicked, read at the user's next slate */
	SL_F_RECS_WATCH_S,    /* seconds of one watch */
	SL_F_COUNT
};

struct sl_features {
	double v[SL_F_COUNT]; /* NaN when not measured (e.g. TTFT of a non-stream) */
	float topic[SL_TOPIC_DIMS];
	bool has_topic;
};

extern const char *const sl_feature_names[SL_F_COUNT];

struct json_object;
/* Fills the prompt features from a chat ("messages"), completion ("prompt") or embeddings
 * ("input") body; the answer features are set to NaN. */
void sl_features_from_request(struct json_object *root, struct sl_features *f);
/* Adds one text's characters to the running counts (exposed for tests). */
void sl_features_text(const char *s, size_t n, struct sl_features *f);

#endif
