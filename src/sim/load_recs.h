/* load_recs.h: private to `sluice load --recs`: a parsed slate, a simulated user's memory, the
 * per-version tallies, and the user's reaction to a slate (load_recs_user.c), shared with the
 * runner (load_recs.c).
 * Invariants: a user remembers at most LOAD_RECS_SEEN items and its last slate; a version table
 * holds at most LOAD_RECS_VERSIONS versions (later ones are tallied under "other"). */
#ifndef SLUICE_SIM_LOAD_RECS_H
#define SLUICE_SIM_LOAD_RECS_H

#include <stdbool.h>
#include <stdint.h>

#include "sim/load.h"
#include "sim/recs_model.h"

#define LOAD_RECS_SEEN     32
#define LOAD_RECS_VERSIONS 16
#define LOAD_RECS_ID_MAX   64

struct load_slate_item {
	char id[LOAD_RECS_ID_MAX + 1], category[LOAD_RECS_ID_MAX + 1], source[LOAD_RECS_ID_MAX + 1];
	double score;
};
struct load_slate {
	struct load_slate_item items[SL_SIM_RECS_MAX_SLATE];
	size_t n;
};

struct load_recs_user {
	uint64_t seen[LOAD_RECS_SEEN]; /* hashes of items shown before, a ring */
	uint64_t last[SL_SIM_RECS_MAX_SLATE];
	size_t nseen, next, nlast;
};

/* What the users saw of one version. */
struct load_recs_version {
	char name[SL_LOAD_VERSION_MAX];
	uint64_t slates, shown, clicks, watches, repeat_slates, seen_again;
	uint64_t kinds[7]; /* events sent by kind (enum load_event) */
	double watch_s, jaccard_sum;
};

enum load_event { EV_IMPRESSION, EV_CLICK, EV_WATCH, EV_SKIP, EV_LIKE, EV_DISLIKE, EV_NOT_INTERESTED, EV_COUNT_ };
extern const char *const sl_load_event_names[EV_COUNT_];

/* One interaction to post. */
struct load_event_out {
	enum load_event kind;
	size_t item; /* index in the slate */
	double value;
};

/* Parses an answer body: choices[0].message.content holding {"items":[...]}. Returns the
 * number of items or a negative SL_E* code (SL_EPARSE for anything not a valid slate). */
int sl_load_slate_parse(const char *body, size_t len, struct load_slate *out);
/* The user's reaction: events into ev (cap at least 5 per item), tallied into v. */
size_t sl_load_recs_react(const char *user, size_t ulen, struct load_recs_user *u, const struct load_slate *s,
                          struct sl_rng *rng, struct load_recs_version *v, struct load_event_out *ev);

#endif
