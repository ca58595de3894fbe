/* experiment.h: A/B experiments between model versions (or one version with other request
 * parameters or another system prompt): the strict JSON spec, GrowthBook-exact assignment, a
 * bounded aggregator of per-unit metrics fed by requests and business events, and the analysis
 * report (statistics by abstats.h, never re-implemented here).
 *
 * Spec (JSON; the configuration's YAML `experiments:` list is converted to this; docs/EXPERIMENTS.md):
 *   {"experiments": [{
 *      "key": "tone-v2",                 required, [A-Za-z0-9_.:-]{1,64}, unique
 *      "model": "chat",                  required: the public model name it applies to
 *      "unit": "user",                   user | session | request (default user)
 *      "variants": [                     2..16, the first is the control
 *        {"key": "a", "weight": 1},
 *        {"key": "b", "version": "v2", "params": {"temperature": 0.2},
 *         "system_prompt": "Be brief.", "weight": 1}],
 *      "coverage": 1,                    0..1 share of units in the experiment (default 1)
 *      "ranges": [[0, 0.5], [0.5, 1]],   optional explicit bucket ranges (override coverage and weights)
 *      "namespace": {"id": "ns", "range": [0, 0.5]},   optional mutual exclusion
 *      "holdout": {"seed": "global", "share": 0.05},   optional: the share of units kept out
 *      "filters": [{"seed": "s", "ranges": [[0, 0.1]], "hash_version": 2}],  optional (GrowthBook)
 *      "hash_version": 2,                1 or 2 (default 2)
 *      "seed": "tone-v2",                default the key
 *      "start": "2025-01-01T00:00:00Z",  RFC 3339, optional (absent: already started)
 *      "stop": "2025-02-01T00:00:00Z",   RFC 3339, optional (absent: runs until stopped)
 *      "max_units": 1000000,             units tracked (1..10,000,000, default 1,000,000)
 *      "metrics": [{"name": "ctr", "kind": "proportion", "source": "event:click",
 *                   "denominator": "request:requests" (ratio only), "quantile": 0.95 (quantile only),
 *                   "guardrail": false, "direction": "increase_is_good", "cuped": false}],
 *      "analysis": {"engine": "frequentist", "sequential": false, "tau": 5000, "alpha": 0.05,
 *                   "correction": "holm", "srm_threshold": 0.001}}]}
 * Weights are normalized to sum 1 (they must not all be 0). Every error names its field path:
 * `experiments[1].variants[0].weight: must be >= 0`.
 *
 * Metric values: a unit's value of a source is the sum over its requests (request:*) or its
 * events (event:NAME, each event's value, 1 when it has none) since its first request in the
 * experiment (its exposure). proportion: 1 when the unit has any, else 0; mean: the sum per unit;
 * ratio: sum of source over sum of denominator across units (delta method); quantile: the
 * quantile of the individual values (requests or events) of exposed units, from a reservoir.
 * CUPED's covariate is the unit's same value before start (requests or events before start).
 *
 * Threads: a set and the experiments in it are immutable once built, except sl_experiment_stop.
 * An aggregator is owned by one thread (the gateway's event loop): no function here locks.
 * Invariants: every int-returning function returns 0 or a negative SL_E* code; memory is bounded
 * by max_units per experiment (units past it are counted as dropped, never stored). */
#ifndef SLUICE_EXPERIMENT_H
#define SLUICE_EXPERIMENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sluice/core.h"

#define SL_EXP_MAX_EXPERIMENTS 64
#define SL_EXP_MAX_VARIANTS 16
#define SL_EXP_MAX_METRICS 32
#define SL_EXP_MAX_FILTERS 4
#define SL_EXP_MAX_FILTER_RANGES 8
#define SL_EXP_NAME_CAP 65   /* keys, metric and event names: 1..64 bytes of [A-Za-z0-9_.:-] */
#define SL_EXP_STR_CAP 257   /* model, version, seeds, namespace ids: 1..256 bytes */
#define SL_EXP_UNIT_ID_MAX 256
#define SL_EXP_PARAMS_MAX 16384
#define SL_EXP_PROMPT_MAX 65536
#define SL_EXP_DEFAULT_MAX_UNITS 1000000
#define SL_EXP_MAX_UNITS_LIMIT 10000000
#define SL_EXP_RESERVOIR 8192 /* values kept per variant and quantile metric */

enum sl_exp_unit { SL_EXP_UNIT_USER, SL_EXP_UNIT_SESSION, SL_EXP_UNIT_REQUEST };
enum sl_exp_kind { SL_EXP_PROPORTION, SL_EXP_MEAN, SL_EXP_RATIO, SL_EXP_QUANTILE };
/* What a request contributes (request:NAME); the enum order is the names' order. */
enum sl_exp_field {
	SL_EXP_F_REQUESTS,      /* "requests": 1 per request */
	SL_EXP_F_LATENCY,       /* "latency": ms */
	SL_EXP_F_TTFT,          /* "ttft": ms to the first token */
	SL_EXP_F_INPUT_TOKENS,  /* "input_tokens" */
	SL_EXP_F_OUTPUT_TOKENS, /* "output_tokens" */
	SL_EXP_F_TOKENS,        /* "tokens": input + output */
	SL_EXP_F_COST,          /* "cost": from the version's prices */
	SL_EXP_F_ERROR,         /* "error": 1 when the request failed */
	SL_EXP_F_REFUSAL,       /* "refusal": 1 when the model refused */
	SL_EXP_F_COUNT_
};
enum sl_exp_correction { SL_EXP_CORR_HOLM, SL_EXP_CORR_BH, SL_EXP_CORR_NONE };

struct sl_exp_source {
	bool is_event;               /* event:NAME, else request:FIELD */
	enum sl_exp_field field;     /* request sources */
	char event[SL_EXP_NAME_CAP]; /* event sources */
};

struct sl_exp_metric {
	char name[SL_EXP_NAME_CAP];
	enum sl_exp_kind kind;
	struct sl_exp_source source, denominator; /* denominator: ratio only */
	double quantile;                          /* quantile only, (0, 1) */
	bool guardrail;
	bool increase_is_good;
	bool cuped; /* proportion and mean only */
};

struct sl_exp_variant {
	char key[SL_EXP_NAME_CAP];
	char *version;       /* NULL: the route decides */
	char *params;        /* JSON object text merged into the request, or NULL */
	char *system_prompt; /* or NULL */
	double weight;       /* normalized: the variants' weights sum to 1 */
	double lo, hi;       /* bucket range [lo, hi) (GrowthBook getBucketRanges or explicit) */
};

struct sl_exp_filter {
	char seed[SL_EXP_STR_CAP];
	int hash_version;
	unsigned nranges;
	double ranges[SL_EXP_MAX_FILTER_RANGES][2];
};

struct sl_exp_analysis {
	bool bayesian;
	bool sequential;
	double tau; /* N* of the always-valid interval */
	double alpha;
	enum sl_exp_correction correction;
	double srm_threshold;
};

struct sl_experiment {
	char key[SL_EXP_NAME_CAP];
	char model[SL_EXP_STR_CAP];
	char seed[SL_EXP_STR_CAP];
	enum sl_exp_unit unit;
	int hash_version;
	double coverage;
	bool has_namespace;
	char ns_id[SL_EXP_STR_CAP];
	double ns_lo, ns_hi;
	struct sl_exp_filter filters[SL_EXP_MAX_FILTERS]; /* the holdout is one of them */
	unsigned nfilters;
	double start, stop; /* seconds since the epoch; -inf / +inf when absent */
	uint64_t max_units;
	struct sl_exp_variant variants[SL_EXP_MAX_VARIANTS];
	unsigned nvariants;
	struct sl_exp_metric metrics[SL_EXP_MAX_METRICS];
	unsigned nmetrics;
	struct sl_exp_analysis analysis;
};

struct sl_experiment_set {
	struct sl_experiment *exps;
	unsigned n;
};

/* ---- spec (spec.c, spec_metric.c, spec_json.c) ---- */
/* Parses and validates the JSON above. On success *out is a new set (free with
 * sl_experiment_set_free); on failure SL_EPARSE (bad JSON) or SL_EINVAL with err naming the field. */
int sl_experiments_from_json(const char *json, struct sl_experiment_set **out, char *err, size_t errlen);
void sl_experiment_set_free(struct sl_experiment_set *s);
/* Index of the experiment with this key, or -1. */
int sl_experiment_index(const struct sl_experiment_set *s, struct sl_slice key);
/* Ends e at now (if it would stop later). */
void sl_experiment_stop(struct sl_experiment *e, double now);
/* Writes e as spec JSON (the same shape as the input: reads back to an equal experiment). */
int sl_experiment_spec_json(const struct sl_experiment *e, struct sl_buf *out);
const char *sl_exp_unit_name(enum sl_exp_unit u);
const char *sl_exp_kind_name(enum sl_exp_kind k);
const char *sl_exp_field_name(enum sl_exp_field f);
/* Strict RFC 3339 ("2025-01-02T03:04:05[.fff](Z|+hh:mm)") to seconds since the epoch. */
int sl_exp_parse_time(const char *s, double *out);

/* ---- assignment (assign.c) ---- */
/* GrowthBook's run() for one unit id: false when the id is empty, the experiment is not
 * running at now ([start, stop)), a filter (holdout) or the namespace excludes the unit, or its
 * hash falls outside every variant's range (coverage). Else true with *variant set. */
bool sl_experiment_assign(const struct sl_experiment *e, struct sl_slice unit_id, double now, int *variant);
/* The same without the time window. */
bool sl_experiment_bucket(const struct sl_experiment *e, struct sl_slice unit_id, int *variant);

/* ---- events (event.c): the body of POST /v1/events ----
 * {"event": "click", "value": 12.5, "request_id": "...", "user": "...", "session": "...",
 *  "timestamp": 1735689600.5}; event required; at least one of request_id, user, session;
 * value optional and finite (|value| <= 1e15); timestamp optional (seconds since the epoch). */
struct sl_exp_event {
	char name[SL_EXP_NAME_CAP];
	double value; /* 1 when absent */
	bool has_value;
	double timestamp; /* NaN when absent */
	char request_id[SL_EXP_UNIT_ID_MAX + 1], user[SL_EXP_UNIT_ID_MAX + 1], session[SL_EXP_UNIT_ID_MAX + 1];
};
#define SL_EXP_EVENT_MAX_BYTES 4096
int sl_exp_event_parse(const char *json, size_t len, struct sl_exp_event *ev, char *err, size_t errlen);

/* ---- aggregation (agg.c, agg_units.c) ---- */
struct sl_exp_request_obs {
	double latency_ms, ttft_ms;
	double input_tokens, output_tokens;
	double cost;
	bool error, refusal;
};

struct sl_exp_agg;
/* One aggregator for every experiment of set (borrowed: it must outlive the aggregator). */
struct sl_exp_agg *sl_experiment_agg_new(const struct sl_experiment_set *set);
void sl_experiment_agg_free(struct sl_exp_agg *agg);
/* A finished request of unit in experiment exp (its index in the set). At now in [start, stop)
 * with variant >= 0 (from sl_experiment_assign) it exposes the unit (its first request fixes its
 * variant) and adds to its metrics. Before start (variant ignored, pass -1) it adds to the unit's
 * CUPED covariates. Otherwise it is ignored. SL_ERANGE for a bad exp or variant. */
int sl_experiment_agg_request(struct sl_exp_agg *agg, unsigned exp, int variant, struct sl_slice unit,
                              const struct sl_exp_request_obs *m, double now);
/* A business event of unit: before start it feeds the covariates, after an exposure its metrics;
 * otherwise (not exposed yet, or after stop) it is counted as ignored. */
int sl_experiment_agg_event(struct sl_exp_agg *agg, unsigned exp, struct sl_slice unit, struct sl_slice name,
                            double value, double now);
/* One observation of a batch: a request when request is non-NULL (with variant), else a
 * business event (name, value); at now. Borrowed: only read during the call. */
struct sl_exp_agg_item {
	struct sl_slice unit;
	const struct sl_exp_request_obs *request;
	int variant;
	struct sl_slice name;
	double value, now;
};
/* Feeds items[0..n) to experiment exp in order, with exactly the effects of the matching
 * sl_experiment_agg_request / sl_experiment_agg_event calls (same sums, counts and refusals),
 * but hashes a few items ahead and prefetches their units' slots, which overlaps the cache
 * misses. *accepted is the number of items whose single call would have returned 0. 0, or
 * SL_EINVAL (agg, exp, items or accepted invalid: nothing is fed). */
int sl_experiment_agg_batch(struct sl_exp_agg *agg, unsigned exp, const struct sl_exp_agg_item *items, size_t n,
                            size_t *accepted);
/* Feeds ev to every experiment that uses its event name, with the id that matches the
 * experiment's unit (request_id for request units). Time is ev->timestamp when set, else now.
 * Returns the number of experiments fed (>= 0). A user/session experiment whose id is absent is
 * skipped: the caller resolves request_id to those ids first when it can. */
int sl_experiment_agg_dispatch(struct sl_exp_agg *agg, const struct sl_exp_event *ev, double now);

struct sl_exp_agg_counts {
	uint64_t units;     /* units tracked (exposed or pre-period) */
	uint64_t exposed;   /* units exposed */
	uint64_t dropped;   /* units refused past max_units */
	uint64_t requests;  /* requests counted */
	uint64_t events;    /* events counted */
	uint64_t ignored;   /* events or requests outside the window or before exposure */
	uint64_t conflicts; /* requests whose variant differs from the unit's first */
};
int sl_experiment_agg_counts(const struct sl_exp_agg *agg, unsigned exp, struct sl_exp_agg_counts *out);

/* ---- analysis (report.c, report_json.c) ---- */
enum sl_exp_verdict {
	SL_EXP_NO_DATA,      /* too few units or no variance */
	SL_EXP_INCONCLUSIVE, /* not significant */
	SL_EXP_BETTER,       /* significant, in the good direction */
	SL_EXP_WORSE,        /* significant, in the bad direction */
	SL_EXP_CONTROL       /* variant 0 itself */
};
const char *sl_exp_verdict_name(enum sl_exp_verdict v);

struct sl_exp_cell { /* one metric in one variant */
	uint64_t units;     /* units (or values for a quantile metric) */
	double mean;        /* proportion, mean per unit, ratio or quantile */
	double lift;        /* relative to the control: (b - a) / |a| */
	double lo, hi;      /* interval of the lift */
	double pvalue;      /* frequentist (raw); NaN for bayesian or the control */
	double p_adjusted;  /* after the correction */
	double chance_to_win; /* bayesian; NaN for frequentist */
	enum sl_exp_verdict verdict;
};

struct sl_exp_report {
	unsigned nvariants, nmetrics;
	uint64_t units[SL_EXP_MAX_VARIANTS];
	double srm_pvalue;
	bool srm;              /* srm_pvalue < srm_threshold */
	bool stop_recommended; /* a guardrail regressed significantly */
	char reason[512];      /* why, when stop_recommended */
	struct sl_exp_agg_counts counts;
	struct sl_exp_cell cells[SL_EXP_MAX_METRICS][SL_EXP_MAX_VARIANTS];
};
/* The report of experiment exp at now (pure over the aggregator). */
int sl_experiment_report(const struct sl_exp_agg *agg, unsigned exp, double now, struct sl_exp_report *out);
/* The report as JSON (docs/EXPERIMENTS.md, "Report") appended to json_out. */
int sl_experiment_analyze(const struct sl_exp_agg *agg, unsigned exp, double now, struct sl_buf *json_out);

#endif
