/* experiments-int.h: the state shared by the gateway's experiment files (experiments.c: the
 * runtime; experiments_reqs.c: interned names and the request-id map; experiments_body.c: a
 * variant's changes to a request; experiments_http.c: /v1/events and /v1/recs;
 * experiments_api.c: the admin API and /metrics). Loop thread only.
 * Invariants: each slot holds a set of exactly one experiment and the aggregator over it, so an
 * experiment's data can outlive a reload that replaces the others; slots[0..n) are in the
 * configuration's order, then API-declared ones in the order they came; keys are unique. */
#ifndef SLUICE_PROXY_EXPERIMENTS_INT_H
#define SLUICE_PROXY_EXPERIMENTS_INT_H

#include <json-c/json.h>

#include "proxy/experiments.h"
#include "sluice/recs.h"

struct sl_xgw_slot {
	struct sl_experiment_set *set; /* one experiment: set->exps[0] */
	struct sl_exp_agg *agg;
	char *spec_json;                /* canonical spec as declared (sl_experiment_spec_json), before any stop */
	bool from_api;                  /* declared through the admin API (kept in the store) */
	bool stopped;                   /* stopped through the API or by a guardrail (kept in the store) */
	double stopped_at;              /* NAN unless stopped */
	int tag;                        /* interned key */
	int vtags[SL_EXP_MAX_VARIANTS]; /* interned variant keys */
	double next_check;              /* next guardrail look (seconds since the epoch) */
};

struct sl_xgw {
	struct sl_xgw_slot *slots[SL_EXP_MAX_EXPERIMENTS];
	unsigned n;
	struct sl_recs_monitor *recs;
	bool ready;
};
extern struct sl_xgw sl_xgw;

static inline const struct sl_experiment *sl_xgw_exp(const struct sl_xgw_slot *x)
{
	return &x->set->exps[0];
}

/* experiments.c */
struct sl_xgw_slot *sl_xgw_find(const char *key, size_t len);
/* A slot for the one experiment in spec JSON {"experiments":[...]}; NULL with err on failure. */
struct sl_xgw_slot *sl_xgw_slot_new(const char *wrapped_json, bool from_api, char *err, size_t errlen);
void sl_xgw_slot_free(struct sl_xgw_slot *x);
/* Stops x at now, records it in the store and logs why. */
void sl_xgw_stop(struct sl_xgw_slot *x, double now, const char *why);
/* "running", "stopped", "scheduled" or "ended". */
const char *sl_xgw_state(const struct sl_xgw_slot *x, double now);
/* Model and versions of e exist in the route table in force; else err says which does not. */
int sl_xgw_check_routes(const struct sl_experiment *e, char *err, size_t errlen);

/* experiments_reqs.c: names interned for the process's life, and the request-id map
 * (2^15 entries in 8-way sets, sluice/idmap.h: a request is forgotten when eight later ones
 * land in its set). */
int sl_xgw_intern(const char *name); /* its tag, or -1 when the table is full */
const char *sl_xgw_name(int tag);
/* Remembers id -> (tag, variant, version, unit); tag -1: a request in no experiment (a slate's);
 * version NULL when unknown (a name longer than 64 bytes is not kept either). */
void sl_xgw_reqs_put(struct sl_slice id, int tag, int variant, const char *version, struct sl_slice unit);
/* SL_ENOTFOUND when unknown or forgotten; *version is NULL when not kept; unit gets the
 * NUL-terminated unit id. */
int sl_xgw_reqs_get(struct sl_slice id, int *tag, int *variant, const char **version,
                    char unit[SL_EXP_UNIT_ID_MAX + 1]);
void sl_xgw_reqs_free(void);

/* experiments_body.c: applies v's params (merged, top level) and system prompt (the first
 * system message replaced, or one inserted first) to a request body. */
int sl_xgw_apply(const struct sl_exp_variant *v, struct json_object *root);

/* experiments_http.c */
void sl_xgw_http_free(void);

#endif
