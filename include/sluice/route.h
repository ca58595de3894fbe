/* route: GrowthBook-compatible hashing and bucketing, and immutable route tables.
 * A route table is built from a config and never edited after it is published, except for
 * the per-version round-robin cursor, which only the owning event loop thread touches. */
#ifndef SLUICE_ROUTE_H
#define SLUICE_ROUTE_H

#include <stddef.h>

#include "sluice/config.h"
#include "sluice/core.h"

/* GrowthBook's hash: version 1 or 2; returns -1 for an unknown version, else a value in [0, 1). */
double sl_gb_hash(struct sl_slice seed, struct sl_slice value, int version);
/* Fills n equal weights (none when n <= 0). */
void sl_gb_equal_weights(int n, double *out);
/* GrowthBook's getBucketRanges: weights may be NULL or of another length (then equal). */
void sl_gb_bucket_ranges(int n, double coverage, const double *weights, int nweights, double (*ranges)[2]);
/* Index of the range that holds x, or -1. */
int sl_gb_choose(double x, const double (*ranges)[2], int n);
/* GrowthBook's inNamespace: hash("__" + id, user, 1) in [lo, hi). */
bool sl_gb_in_namespace(struct sl_slice user, struct sl_slice ns_id, double lo, double hi);

struct sl_route_version {
	char *name;
	char *upstream_model;
	char *api_key; /* resolved from api_key_env when the table is built; NULL if none */
	struct sl_url *upstreams;
	size_t nupstreams;
	size_t cursor; /* round-robin position (event loop thread only) */
	double weight; /* normalized share, sums to 1 over a model's versions */
	double lo, hi; /* bucket range [lo, hi) */
	size_t index;  /* position within its model */
	double price_in, price_out; /* per million tokens; 0 when not configured */
};

struct sl_route_model {
	char *name;
	char *seed;
	struct sl_route_version *versions;
	size_t nversions;
	bool overridden;                 /* a rollout's override decides the split */
	struct sl_route_version *shadow; /* mirror target (a rollout's shadow stage), or NULL */
	double shadow_share;             /* share of requests mirrored to shadow */
};

/* A rollout's hold on one model's split: stable gets 1 - share, candidate share, every other
 * version 0, and the buckets are laid out ..., stable, candidate, so that a growing share only
 * moves users from stable to the candidate. candidate NULL: stable takes everything.
 * An override naming an unknown model or version is ignored (the config wins). */
struct sl_route_override {
	const char *model, *stable, *candidate;
	double share;        /* 0..1 */
	double shadow_share; /* share of requests also mirrored to the candidate, 0..1 */
};

struct sl_route_table {
	struct sl_route_model *models;
	size_t nmodels;
	unsigned long generation;
};

/* Builds a table from a validated config. Returns NULL on allocation failure. */
struct sl_route_table *sl_route_table_new(const struct sl_config *cfg, unsigned long generation);
/* The same with rollout overrides applied (borrowed for the call only). */
struct sl_route_table *sl_route_table_build(const struct sl_config *cfg, const struct sl_route_override *ov,
					    size_t nov, unsigned long generation);
void sl_route_table_free(struct sl_route_table *t);
const struct sl_route_model *sl_route_find(const struct sl_route_table *t, struct sl_slice name);
/* Sticky by key when key.len > 0 (GrowthBook v2 hash of seed and key), else random by weight. */
struct sl_route_version *sl_route_pick(const struct sl_route_model *m, struct sl_slice key, struct sl_rng *rng);
/* Next upstream of a version, round robin. */
const struct sl_url *sl_route_next_upstream(struct sl_route_version *v, size_t *idx);

#endif
