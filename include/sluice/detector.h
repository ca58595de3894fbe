/* detector: streaming concept-drift detectors over one numeric signal (error rate, negative
 * feedback, guard flags, latency): ADWIN, Page-Hinkley, DDM and CUSUM, as River
 * (online-ml/river, BSD-3-Clause) implements them, with River's default parameters. They give
 * River's documented results on River's documented streams (tests/unit/drift/detectors.c,
 * data from tests/unit/drift/gen_streams.py); the notes below say where sluice deliberately
 * differs.
 *
 * Semantics shared by all four, River's: update() takes one value and reports whether this
 * value made the detector signal drift (and, DDM only, whether it is in the warning zone).
 * A detector that signalled drift starts afresh on its next update (River's `_reset` at the
 * top of `update`): everything learnt before the change is dropped, so one change gives one
 * signal, not a burst.
 *
 * Input: a non-finite x (NaN, +-inf) is rejected, never learnt: update returns SL_EINVAL,
 * leaves the state untouched (a pending reset included) and reports no signal. DDM also
 * rejects x outside [0, 1] (its model is Bernoulli: 1 = error, 0 = success; River would fail
 * on sqrt of a negative number). Rejections cost no memory and never allocate.
 *
 * Plug-ins: each detector is a const struct sl_detector_ops with a `name`, listed in the
 * registry of detector.c (sl_detector_find, sl_detector_at). An ops table works on caller
 * memory of ops->size(p) bytes (aligned for double), so a monitor can embed many detectors in
 * one block; sl_detector_new wraps that in one heap object with lifetime counters.
 * Invariants: pure (no I/O, no locks, no global state); update and reset never allocate and run
 * in bounded time; memory per detector is fixed at init (below).
 *
 * Memory per detector (64-bit, struct sl_detector's 32-byte header included; for other
 * parameters sl_detector_footprint gives the exact figure, checked by the unit test):
 *   adwin         3,272 bytes with the defaults: 200 + max_rows * (max_buckets + 1) * 16; the
 *                 window then holds up to max_buckets * (2^max_rows - 1) values (2.1e10)
 *   page_hinkley    128 bytes     ddm    104 bytes     cusum    128 bytes
 * Speed (bench/drift/detectors.c (bench/drift.sh), 1e8 updates through sl_detector_update, -O2, one core of
 * the shared development machine; ranges over runs under varying load): adwin 18-28 M
 * updates/s on a stationary stream whose window reaches 1e8 values (its slow case: each look,
 * every `clock` updates, scans ~5 log2(W) buckets) and 26-39 M/s on a stream that drifts
 * every 50,000 values; page_hinkley and ddm 80-100 M/s; cusum 59-81 M/s.
 *
 * False alarms with River's defaults (counted on 200,000-value stationary streams, 10 to 20
 * seeds; properties of the algorithms with these parameters, not of this port):
 *   adwin: none at error rates of 1% to 30%; about one per million values at 50% or on
 *     Gaussian noise.
 *   page_hinkley: its faded sums spread with the signal's standard deviation sd, threshold
 *     does not: quiet up to sd ~0.1 (a 1% error rate), ~10 alarms per million values at sd 0.2
 *     (a 5% error rate: 16), ~100 at sd 0.5, ~600 at sd 1. Scale the signal or raise threshold.
 *   ddm: 1 to 5 per million values at error rates of 10% to 30%; at low rates it alarms on the
 *     first error after a warm-up that saw none (s_min = 0): ~6 per million at 5%, ~40 at 1%.
 *   cusum: k = 0.5, h = 5 has an in-control average run length of ~465 values for a known
 *     sigma (Montgomery); with sigma from 30 values, one alarm per ~700 here. k = 1, h = 8 and
 *     a 1,000-value warm-up stay quiet. */
#ifndef SLUICE_DETECTOR_H
#define SLUICE_DETECTOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sluice/core.h"

/* Which direction of change a two-sided test watches. */
enum sl_detector_mode { SL_DETECT_BOTH, SL_DETECT_UP, SL_DETECT_DOWN };

/* ADWIN (Bifet and Gavalda 2007; River's drift.ADWIN, ADWIN2's exponential buckets). Keeps a
 * window of recent values summarized in rows of buckets, row i holding up to max_buckets
 * buckets of 2^i values each; every `clock` updates (once the window holds more than
 * grace_period values) it tries every cut between buckets and drops the oldest bucket while
 * the means of the two sides differ by more than the Hoeffding-Bernstein bound for delta.
 * River lets the window grow without limit while nothing changes; sluice keeps max_rows rows
 * and, once the oldest row overflows, drops its oldest bucket instead of opening a new row:
 * the same results as River until the window exceeds max_buckets * (2^max_rows - 1) values,
 * a sliding window of about that size after. */
#define SL_ADWIN_MAX_ROWS    48
#define SL_ADWIN_MAX_BUCKETS 64
struct sl_adwin_params {
	double delta;               /* significance, in (0, 1); River: 0.002 */
	uint32_t clock;             /* look for a change every `clock` updates, >= 1; River: 32 */
	uint32_t max_buckets;       /* buckets of each size kept before merging, 1..64; River: 5 */
	uint32_t min_window_length; /* smallest side a cut may leave, >= 1; River: 5 */
	uint32_t grace_period;      /* no look until the window holds more values; River: 10 */
	uint32_t max_rows;          /* sluice's bound on bucket rows, 2..48; default 32 */
};

/* Page-Hinkley (Page 1954; River's drift.PageHinkley): two cumulative sums of the deviation
 * from the running mean, faded by alpha, offset by -delta (increase) and +delta (decrease);
 * drift once a sum departs from its extreme by more than threshold, after min_instances. */
struct sl_page_hinkley_params {
	uint32_t min_instances;     /* values seen before drift may be signalled; River: 30 */
	double delta;               /* tolerated change of the mean, >= 0; River: 0.005 */
	double threshold;           /* lambda, > 0; River: 50 */
	double alpha;               /* forgetting factor, in (0, 1]; River: 1 - 0.0001 */
	enum sl_detector_mode mode; /* River: both */
};

/* DDM (Gama et al. 2004; River's drift.binary.DDM) over a stream of 0 (success) and 1 (error):
 * p is the error rate so far, s = sqrt(p(1-p)/n); after warm_start values it records the
 * minimum of p + s and signals a warning past p_min + warning_threshold * s_min, drift past
 * p_min + drift_threshold * s_min (a drift clears the warning). */
struct sl_ddm_params {
	uint32_t warm_start;      /* values seen before any signal; River: 30 */
	double warning_threshold; /* > 0; River: 2 */
	double drift_threshold;   /* > 0; River: 3 */
};

/* CUSUM (Page 1954; River's drift.CUSUM): the tabular two-sided CUSUM of Montgomery,
 * S+ = max(0, S+ + (x - mu0) - k), S- = max(0, S- - (x - mu0) - k), on a reference mean mu0
 * and deviation sigma estimated over the first min_instances values and then frozen;
 * k = slack * sigma, h = threshold * sigma; drift when a watched sum exceeds h. A warm-up
 * with sigma = 0 (constant values) makes any later departure a drift, as in River. */
struct sl_cusum_params {
	uint32_t min_instances;     /* warm-up length, >= 1; River: 30 */
	double slack;               /* k in units of sigma, >= 0; River: 0.5 */
	double threshold;           /* h in units of sigma, > 0; River: 5 */
	enum sl_detector_mode mode; /* River: both */
};

/* Parameters of every detector; each reads its own member. */
struct sl_detector_params {
	struct sl_adwin_params adwin;
	struct sl_page_hinkley_params page_hinkley;
	struct sl_ddm_params ddm;
	struct sl_cusum_params cusum;
};
/* Fills p with River's defaults (and max_rows = 32). */
void sl_detector_params_default(struct sl_detector_params *p);

/* What one update reports. */
struct sl_detector_state {
	bool drift;   /* this value made the detector signal a change */
	bool warning; /* in the warning zone after this value (DDM only; false otherwise) */
};

/* A snapshot for metrics and the admin API. Undefined quantities are NaN. */
struct sl_detector_summary {
	double estimation; /* adwin: mean of the window; ddm: error rate p; others: mean since reset */
	double n;          /* adwin: window width; others: values since the last reset */
	double statistic;  /* ph: the larger watched test; cusum: the larger watched sum; ddm: p + s;
	                      adwin: NaN (it tests many cuts) */
	double threshold;  /* what statistic must exceed for drift (ddm: p_min + 3 s_min); NaN
	                      while warming up, and for adwin */
	bool drift;        /* flags of the last accepted update */
	bool warning;
};

/* A detector plug-in. size(p) is the number of bytes init needs for p (0 when p is invalid);
 * p == NULL means the defaults. init validates p (SL_EINVAL) and starts fresh; update returns 0
 * or SL_EINVAL for a rejected value (state untouched, *out all false); reset starts afresh
 * with the same parameters; summary reads the state. */
struct sl_detector_ops {
	const char *name;
	size_t (*size)(const struct sl_detector_params *p);
	int (*init)(void *self, const struct sl_detector_params *p);
	int (*update)(void *self, double x, struct sl_detector_state *out);
	void (*reset)(void *self);
	void (*summary)(const void *self, struct sl_detector_summary *s);
};

extern const struct sl_detector_ops sl_detector_adwin;        /* "adwin" */
extern const struct sl_detector_ops sl_detector_page_hinkley; /* "page_hinkley" */
extern const struct sl_detector_ops sl_detector_ddm;          /* "ddm" */
extern const struct sl_detector_ops sl_detector_cusum;        /* "cusum" */

/* The registry: by name (NULL when unknown), or the i-th (NULL past the end). */
const struct sl_detector_ops *sl_detector_find(const char *name);
const struct sl_detector_ops *sl_detector_at(size_t i);

/* A heap detector: one allocation holding the ops, lifetime counters and the state. */
struct sl_detector {
	const struct sl_detector_ops *ops;
	uint64_t n_updates;    /* values accepted; reset does not clear the counters */
	uint64_t n_rejected;   /* values refused with SL_EINVAL */
	uint64_t n_detections; /* drift signals */
	_Alignas(16) unsigned char self[];
};
/* Bytes sl_detector_new allocates for ops and p (0 when p is invalid). */
size_t sl_detector_footprint(const struct sl_detector_ops *ops, const struct sl_detector_params *p);
/* *out owns the detector until sl_detector_free. SL_EINVAL for bad parameters, SL_ENOMEM. */
int sl_detector_new(const struct sl_detector_ops *ops, const struct sl_detector_params *p, struct sl_detector **out);
void sl_detector_free(struct sl_detector *d);
int sl_detector_update(struct sl_detector *d, double x, struct sl_detector_state *out);
void sl_detector_reset(struct sl_detector *d);
void sl_detector_summary(const struct sl_detector *d, struct sl_detector_summary *s);

#endif
