/* recs.h: recommendation-quality metrics beyond accuracy.
 * Offline (recs_offline.c): Microsoft Recommenders' python_evaluation.py metrics over arrays of
 * (user, item[, relevance]) rows: catalog and distributional coverage, historical item novelty
 * and novelty, intra-list diversity and serendipity by co-occurrence or item-feature cosine.
 * Live (recs_monitor.c, recs_metrics.c, recs_json.c): a bounded monitor fed with served slates
 * and the interactions against them, keeping per model version a tumbling window of intra-list
 * diversity, novelty, catalog coverage, Gini of exposure, repetition, click-through and watch
 * time by position and candidate source, and satisfaction. Formulas and bounds: docs/RECS.md.
 * Invariants: pure (no I/O, no locks, no global state); every int-returning function returns 0
 * or a negative SL_E* code and fills its outputs only on success; a metric with nothing to
 * measure is NaN (JSON null), never a made-up 0; the monitor's memory is fixed by its options
 * at creation (sl_recs_monitor_memory) apart from the per-version windows (at most
 * SL_RECS_MAX_VERSIONS, each bounded by max_window_items). */
#ifndef SLUICE_RECS_H
#define SLUICE_RECS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sluice/core.h"

/* ---- offline metrics (recs_offline.c) ---- */

/* One row: a training interaction (relevance unused) or a recommendation with its relevance. */
struct sl_recs_row {
	int64_t user, item;
	double relevance;
};
enum sl_recs_sim {
	SL_RECS_SIM_COOC,     /* users with both / sqrt(count_i count_j) over the training rows */
	SL_RECS_SIM_FEATURES, /* cosine of the items' feature vectors (0 when one is unknown or zero) */
};
#define SL_RECS_EVAL_MAX_ROWS (1u << 26)
#define SL_RECS_EVAL_MAX_DIM  4096

struct sl_recs_eval;
/* Indexes train and reco (copied). SL_EINVAL for NULL arrays with n > 0, an empty train set or
 * a non-finite relevance; SL_ETOOBIG past SL_RECS_EVAL_MAX_ROWS rows. */
int sl_recs_eval_new(const struct sl_recs_row *train, size_t n_train, const struct sl_recs_row *reco, size_t n_reco,
                     struct sl_recs_eval **out);
/* Item features for SL_RECS_SIM_FEATURES: vecs holds n rows of dim values (copied). Replaces
 * earlier features. SL_EINVAL for a repeated item or a non-finite value. */
int sl_recs_eval_features(struct sl_recs_eval *e, const int64_t *items, const double *vecs, size_t n, size_t dim);
void sl_recs_eval_free(struct sl_recs_eval *e);

/* distinct recommended items / distinct training items */
double sl_recs_catalog_coverage(const struct sl_recs_eval *e);
/* Shannon entropy (bits) of the items' shares among the recommendation rows */
double sl_recs_distributional_coverage(const struct sl_recs_eval *e);
/* -log2(training rows of item / training rows); NaN for an item absent from training */
double sl_recs_item_novelty(const struct sl_recs_eval *e, int64_t item);
/* sum of item novelty over the recommendation rows whose item is in training / all rows */
double sl_recs_novelty(const struct sl_recs_eval *e);
double sl_recs_similarity(const struct sl_recs_eval *e, enum sl_recs_sim s, int64_t i, int64_t j);
/* 1 - mean similarity over the user's recommended pairs of distinct items; NaN with no pair */
double sl_recs_user_diversity(const struct sl_recs_eval *e, enum sl_recs_sim s, int64_t user);
/* mean user diversity over the users that have one */
double sl_recs_diversity(const struct sl_recs_eval *e, enum sl_recs_sim s);
/* per recommendation row, in the order given: (1 - mean similarity of the item to each of the
 * user's training rows) * relevance; NaN when the user has no training row. out has n_reco. */
int sl_recs_user_item_serendipity(const struct sl_recs_eval *e, enum sl_recs_sim s, double *out);
double sl_recs_user_serendipity(const struct sl_recs_eval *e, enum sl_recs_sim s, int64_t user);
double sl_recs_serendipity(const struct sl_recs_eval *e, enum sl_recs_sim s);

/* ---- live monitor (recs_monitor.c) ---- */

enum sl_recs_kind {
	SL_RECS_IMPRESSION,
	SL_RECS_CLICK,
	SL_RECS_WATCH, /* value: seconds watched */
	SL_RECS_SKIP,
	SL_RECS_LIKE,
	SL_RECS_DISLIKE,
	SL_RECS_NOT_INTERESTED,
	SL_RECS_KIND_COUNT_
};
const char *sl_recs_kind_name(enum sl_recs_kind k); /* "impression", "click", ..., "not_interested" */
int sl_recs_kind_parse(const char *s, size_t n, enum sl_recs_kind *out);

#define SL_RECS_MAX_SLATE    64  /* items per slate, hard bound */
#define SL_RECS_MAX_VERSIONS 16  /* model versions per monitor */
#define SL_RECS_MAX_SOURCES  16  /* candidate-source names; later ones count as "other" */
#define SL_RECS_MAX_ID       256 /* bytes of an id, version, source or category string */
#define SL_RECS_MAX_CATS     8   /* categories per item ("a|b|c") */
#define SL_RECS_MAX_WATCH    86400.0

struct sl_recs_opts {
	size_t window_slates;      /* a version's window closes after this many slates (default 1000, 0 = off) */
	double window_seconds;     /* or this long after its first slate (default 0 = off) */
	size_t max_slate;          /* items per slate accepted (default 32, at most SL_RECS_MAX_SLATE) */
	size_t max_users;          /* users whose last slate is kept (default 16384; 4-way sets, LRU within a set) */
	size_t max_pending;        /* slates kept for joining interactions (default 16384; same eviction) */
	size_t max_items;          /* items with exact popularity (default 100000); the rest in a count-min sketch */
	size_t max_window_items;   /* distinct items counted exactly per version window (default 65536) */
	double long_watch_s;       /* a watch at least this long is satisfied (default 30) */
	double cms_eps, cms_delta; /* the popularity sketch (default 1e-4, 0.01) */
};
void sl_recs_opts_init(struct sl_recs_opts *o);

struct sl_recs_monitor;
/* SL_EINVAL for an option out of range (both windows off, max_slate 0 or past the bound, ...). */
int sl_recs_monitor_new(const struct sl_recs_opts *o, struct sl_recs_monitor **out);
void sl_recs_monitor_free(struct sl_recs_monitor *m);
/* Bytes allocated now. */
size_t sl_recs_monitor_memory(const struct sl_recs_monitor *m);

/* One served slate. Strings are NUL-terminated, non-empty, at most SL_RECS_MAX_ID bytes; items
 * are distinct; sources and categories may be NULL (and so may each entry); categories list
 * one or several names separated by '|'; embeddings, when not NULL, hold n rows of dim floats
 * and take precedence over categories for diversity. now: seconds, finite, >= 0 (a clock
 * going backwards is held at its last value). Errors: SL_EINVAL for malformed input,
 * SL_ETOOBIG for n > max_slate, SL_ERANGE for a version past SL_RECS_MAX_VERSIONS, SL_ESTATE
 * for a request id already recorded. Nothing is counted on error. */
struct sl_recs_slate_in {
	const char *version, *user, *request_id;
	const char *const *items;
	const char *const *sources;
	const char *const *categories;
	const float *embeddings;
	size_t n, dim;
	double now;
};
int sl_recs_slate_add(struct sl_recs_monitor *m, const struct sl_recs_slate_in *in);
int sl_recs_slate(struct sl_recs_monitor *m, const char *version, const char *user, const char *request_id,
                  const char *const *items, const char *const *sources, const char *const *categories, size_t n,
                  double now);
/* An interaction against a recorded slate, found by request_id or, when that is NULL, by the
 * user's last slate. value: seconds for SL_RECS_WATCH (0..SL_RECS_MAX_WATCH), ignored otherwise.
 * SL_ENOTFOUND when the slate is unknown (never seen or evicted) or the item is not in it;
 * SL_EINVAL for malformed input. Counted in the window current for the slate's version. */
int sl_recs_interaction(struct sl_recs_monitor *m, const char *request_id, const char *user, const char *item,
                        enum sl_recs_kind kind, double value, double now);

/* What one slate or interaction contributed, for consumers outside the monitor: the canary
 * judge and the drift monitor (docs/RECS.md, "Beyond the monitor"). NaN where a value does not
 * apply. A slate's click-through is read when the same user's next slate arrives (the moment
 * repetition is measured too): prev_* describe that previous slate, whose version may differ. */
struct sl_recs_obs {
	const char *version; /* the slate's version (owned by the monitor) */
	/* a slate */
	double diversity, novelty, repetition, reshown_ignored;
	const char *prev_version; /* NULL when the user had no previous slate kept */
	unsigned prev_shown, prev_clicked;
	/* an interaction */
	bool interaction;
	enum sl_recs_kind kind;
	int sentiment;  /* +1 like or long watch, -1 dislike, skip or not interested, 0 otherwise */
	double watch_s; /* seconds of a watch, NaN otherwise */
};
/* sl_recs_slate_add and sl_recs_interaction that also fill *obs (on success only). */
int sl_recs_slate_observe(struct sl_recs_monitor *m, const struct sl_recs_slate_in *in, struct sl_recs_obs *obs);
int sl_recs_interaction_observe(struct sl_recs_monitor *m, const char *request_id, const char *user,
                                const char *item, enum sl_recs_kind kind, double value, double now,
                                struct sl_recs_obs *obs);
/* Closes the windows whose time is up. */
void sl_recs_tick(struct sl_recs_monitor *m, double now);

/* ---- reading the metrics (recs_metrics.c, recs_json.c) ---- */

enum sl_recs_which {
	SL_RECS_LAST,    /* the last closed window (SL_ENOTFOUND before the first closes) */
	SL_RECS_CURRENT, /* the window filling now */
};
struct sl_recs_metrics {
	double start, end;                   /* first and last time seen in the window */
	uint64_t slates;                     /* slates served */
	uint64_t shown;                      /* items shown (sum of slate sizes) */
	uint64_t repeat_slates;              /* slates whose user had a previous slate */
	uint64_t distinct;                   /* distinct items shown (exact up to max_window_items) */
	uint64_t untracked;                  /* exposures of items past max_window_items */
	uint64_t kinds[SL_RECS_KIND_COUNT_]; /* interactions by kind */
	uint64_t clicked;                    /* shown items clicked at least once */
	uint64_t long_watches;
	double catalog;         /* catalog size seen so far (all versions) */
	double diversity;       /* mean intra-list diversity */
	double novelty;         /* mean -log2 popularity of the shown items */
	double coverage;        /* distinct / catalog */
	double gini;            /* Gini of exposure over the catalog */
	double repetition;      /* mean Jaccard of a user's consecutive slates */
	double reshown_ignored; /* share of items (in repeat slates) shown before without a click */
	double ctr;             /* clicked / shown */
	double watch_s;         /* seconds watched */
	double watch_per_item;  /* watch_s / shown */
	double satisfaction;    /* ((likes + long watches) - (dislikes + skips + not interested)) / interactions */
};
int sl_recs_metrics_get(const struct sl_recs_monitor *m, const char *version, enum sl_recs_which w,
                        struct sl_recs_metrics *out);
/* One number by name: a field of sl_recs_metrics ("ctr", "diversity", ...), or a breakdown
 * "ctr.pos.N", "watch.pos.N" (N from 1), "ctr.source.NAME", "watch.source.NAME" (watch per shown
 * item). SL_ENOTFOUND for an unknown version, name, position or source. */
int sl_recs_metric(const struct sl_recs_monitor *m, const char *version, enum sl_recs_which w, const char *name,
                   double *out);
/* Whether name is a plain metric name sl_recs_metric knows (a field, a counter or an interaction
 * kind; breakdowns such as "ctr.pos.1" are not plain). */
bool sl_recs_metric_known(const char *name);
/* Windows of version closed so far (0 for an unknown version). */
uint64_t sl_recs_windows(const struct sl_recs_monitor *m, const char *version);
/* Version names in order of first appearance; returns how many exist (may exceed cap). */
size_t sl_recs_versions(const struct sl_recs_monitor *m, const char **names, size_t cap);
/* {"version":..., "window":{...}|null, "current":{...}} (fields: docs/RECS.md). */
int sl_recs_json_version(const struct sl_recs_monitor *m, const char *version, struct sl_buf *out);
/* {"bounds":{...}, "versions":[ one object per version ]} */
int sl_recs_json(const struct sl_recs_monitor *m, struct sl_buf *out);

#endif
