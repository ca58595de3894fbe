/* monitor: live drift monitoring of one model version, pure (no I/O, no locks, time is an input).
 * Data drift: the first `reference_size` requests after the monitor starts form the reference;
 * then every `window_size` requests form a tumbling current window, and when it fills each
 * feature (include/sluice/features.h, plus the finish reason) is tested against the reference
 * with Evidently's default test for its type and size (include/sluice/drift.h), the dataset
 * verdict is the share of drifted features, and the topic sketch's centroids are compared with a
 * permutation test. Features a request does not have (a recommendation slate's) are added apart
 * (sl_monitor_add_value) and tested like the others when both sides hold values. Concept drift:
 * ADWIN (River's defaults) watches the error rate, the negative-feedback rate and the latency,
 * request by request, and a slate's click-through and the share of negative interactions.
 * State: drift when the dataset verdict says so (share >= drift_share) or a concept detector
 * fired in the window; warning when some feature or the topic drifted, or when the window's
 * error rate (the share of its requests signalled as errors) reaches error_warning, so that a
 * version whose every request fails never reads ok; ok otherwise. The report says why.
 * Memory per monitor (defaults 1000/1000): 2 windows x 20 numeric features x 1000 x 8 bytes
 * (320 KB) + 2 x 256 topic vectors x 32 x 4 bytes (64 KB) + finish-reason counts and five
 * detectors (< 30 KB): about 420 KB, fixed at creation. */
#ifndef SLUICE_MONITOR_H
#define SLUICE_MONITOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sluice/core.h"
#include "sluice/drift.h"
#include "sluice/features.h"

#define SL_MONITOR_TOPIC_SAMPLE 256
#define SL_MONITOR_PERMUTATIONS 200

enum sl_drift_state { SL_DRIFT_OK, SL_DRIFT_WARNING, SL_DRIFT_DRIFT };
const char *sl_drift_state_name(enum sl_drift_state s);

enum sl_signal {
	SL_SIGNAL_ERROR,
	SL_SIGNAL_NEGATIVE_FEEDBACK,
	SL_SIGNAL_LATENCY,
	SL_SIGNAL_RECS_CTR,      /* a slate's click-through (0..1), read at the user's next slate */
	SL_SIGNAL_RECS_NEGATIVE, /* an interaction with a slate: 1 dislike, skip or not interested, else 0 */
	SL_SIGNAL_COUNT
};
extern const char *const sl_signal_names[SL_SIGNAL_COUNT];

struct sl_monitor_opts {
	size_t reference_size; /* default 1000 */
	size_t window_size;    /* default 1000 */
	double drift_share;    /* default 0.5 (Evidently) */
	enum sl_drift_correction correction; /* default none (Evidently) */
	uint64_t seed;
	double error_warning; /* default 0.5: a window with this share of errors or more reads at least warning */
};
void sl_monitor_opts_init(struct sl_monitor_opts *o);

/* One window's verdict with everything behind it. */
#define SL_MONITOR_COLUMNS (SL_F_COUNT + 1) /* the numeric features and finish_reason */
struct sl_monitor_report {
	uint64_t window;              /* 1 for the first window after the reference */
	enum sl_drift_state state;
	struct sl_drift_verdict verdict;
	const char *names[SL_MONITOR_COLUMNS];
	struct sl_drift_result results[SL_MONITOR_COLUMNS];
	bool tested[SL_MONITOR_COLUMNS]; /* false when a side had no values */
	double topic_distance, topic_pvalue; /* NaN when either side had no text */
	bool topic_drift;
	uint64_t alarms[SL_SIGNAL_COUNT]; /* concept-drift alarms within this window */
	/* Share of the window's (and of the live reference's) requests whose error signal was 1;
	 * NaN when none was signalled (an uploaded reference has none). */
	double error_rate, ref_error_rate;
	/* Why the state is not ok, parts joined by "; " (empty when ok), e.g. "error rate 100% in the
	 * current window (reference 0%); error_rate alarm". */
	char reason[192];
};

struct sl_monitor;
int sl_monitor_new(const struct sl_monitor_opts *o, struct sl_monitor **out);
void sl_monitor_free(struct sl_monitor *m);
/* Adds one request; returns true (and fills *out) when it completed a current window. */
bool sl_monitor_add(struct sl_monitor *m, const struct sl_features *f, const char *finish_reason,
		    struct sl_monitor_report *out);
/* A feature observed apart from a request (a recommendation slate's diversity, say): joins the
 * side the next request joins (the reference until it is full, then the current window), which
 * requests still close. Non-finite values count as missing; SL_EINVAL for an unknown feature. */
int sl_monitor_add_value(struct sl_monitor *m, enum sl_feature f, double x);
/* A concept signal: error (0/1), negative feedback (0/1), latency in seconds, a slate's
 * click-through (0..1), a negative interaction (0/1). True on an alarm.
 * An error signal also counts toward the error rate of the side the next sl_monitor_add joins
 * (the reference until it is full, then the current window): signal a request before adding it. */
bool sl_monitor_signal(struct sl_monitor *m, enum sl_signal s, double x);
/* Requests counted so far into the reference (until it is full) and the current window. */
void sl_monitor_progress(const struct sl_monitor *m, size_t *reference, size_t *current);

/* ---- an uploaded reference (monitor_ref.c) ----
 * Instead of the first reference_size requests, the reference may come from a file: CSV (header
 * row) or JSON Lines, whose columns are among sl_feature_names (numbers) and "finish_reason"
 * (text), any subset, in any order; missing values allowed. Each numeric feature keeps a uniform
 * sample of reference_size values (the reservoir), finish reasons their counts; the uploaded
 * reference has no topic sketch, so the topic test is skipped while it is in place. */
#define SL_MONITOR_REF_MAX_ROWS 1000000
/* The feature index of a column name (SL_F_COUNT for finish_reason), or -1. */
int sl_monitor_column_index(const char *name);
/* Parses and validates an upload into t (the caller releases it). Fails with err naming the
 * unknown column, or "reference:LINE: column 'x' is declared numeric but holds 'y'", or the
 * syntax error and its line; SL_ETOOBIG past max_rows. */
int sl_monitor_reference_parse(const char *data, size_t len, size_t max_rows, struct sl_drift_table *t,
                               struct sl_drift_error *err);
/* Replaces the reference with t's values (from sl_monitor_reference_parse) and starts the current
 * window over; SL_EINVAL (nothing changed) for a column that is not a feature. */
int sl_monitor_reference_set(struct sl_monitor *m, const struct sl_drift_table *t);
/* Drops the reference (uploaded or pinned) and the current window: the next reference_size
 * requests form the reference again. */
void sl_monitor_reference_reset(struct sl_monitor *m);
bool sl_monitor_reference_uploaded(const struct sl_monitor *m);
/* Appends the report as a JSON object. */
int sl_monitor_report_to_json(const struct sl_monitor_report *r, struct sl_buf *out);

#endif
