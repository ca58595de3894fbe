/* rollout: the canary state machine and its judge, as pure functions over data.
 * A rollout moves one model from its stable version to a candidate: an optional shadow stage,
 * then canary steps of growing candidate share, then promoted; or rolled back / aborted.
 * Invariants: no I/O, no threads, no clock reads (time is always an argument, in milliseconds
 * of any monotonic clock); every int-returning function returns 0 or a negative SL_E* code;
 * a spec is a flat value (no pointers), so it can be copied with `=`. The user-facing
 * description (every parameter, default and rule) is docs/ROLLOUTS.md. */
#ifndef SLUICE_ROLLOUT_H
#define SLUICE_ROLLOUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sluice/core.h"
#include "sluice/stats.h"

#define SL_ROLLOUT_MAX_STEPS  16
#define SL_ROLLOUT_MAX_CHECKS 16
#define SL_METRIC_NAME_MAX    48 /* bytes, NUL included */
#define SL_ROLLOUT_REASON_MAX 192
/* Values kept per version per value metric per stage (a uniform reservoir): 8 bytes each. */
#define SL_WINDOW_CAP_DEFAULT 5000
#define SL_WINDOW_CAP_MAX     (1u << 20)
/* A value check needs this many values on each side before it is judged (else no_data). */
#define SL_JUDGE_MIN_VALUES 10

/* ---- spec (spec.c, spec_json.c) ---------------------------------------------------------- */

enum sl_metric_kind { SL_METRIC_VALUE, SL_METRIC_RATE };
enum sl_direction { SL_DIR_INCREASE_BAD, SL_DIR_DECREASE_BAD, SL_DIR_EITHER };

/* One metric compared between candidate and stable. */
struct sl_metric_check {
	char name[SL_METRIC_NAME_MAX]; /* [A-Za-z0-9_.:-], unique within a spec */
	enum sl_metric_kind kind;
	enum sl_direction direction;
	/* value: largest acceptable shift of the median relative to stable's (0.1 = 10%).
	 * rate: largest acceptable change of the rate in absolute points (0.01 = 1 point). */
	double tolerance;
	bool critical; /* a FAIL of this check fails the judgment alone */
	bool dry_run;  /* judged and shown, never counted */
	double weight; /* share of the score, > 0 */
};

struct sl_rollout_step {
	double percent;        /* candidate share in percent, (0, 100] */
	bool require_approval; /* wait for an operator's approve before entering this step */
};

struct sl_rollout_spec {
	struct sl_rollout_step steps[SL_ROLLOUT_MAX_STEPS];
	unsigned nsteps;               /* 1..16, strictly increasing, the last is 100 */
	double shadow_share;           /* [0, 1]; 0 = no shadow stage */
	uint64_t interval_ms;          /* time between judgments */
	uint64_t min_requests;         /* candidate requests in a step before a judgment */
	uint64_t progress_deadline_ms; /* 0 = 10 x interval_ms; else >= interval_ms */
	unsigned max_failures;         /* cumulative failed judgments that roll back */
	unsigned max_consecutive_failures;
	double pass_score, marginal_score; /* 0..100, marginal <= pass */
	double alpha;                      /* overall false-fail budget of one rollout, (0, 0.5] */
	bool confirm_start;                /* wait for a pre-start webhook before starting */
	bool confirm_steps;                /* ask a step-confirmation webhook before each advance */
	struct sl_metric_check checks[SL_ROLLOUT_MAX_CHECKS];
	unsigned nchecks;
};

/* Defaults: steps 1,5,25,50,100 without approvals, no shadow, interval 120 s, 100 requests,
 * deadline 10 x interval, 3 failures / 2 consecutive, scores 95/75, alpha 0.05, no webhooks,
 * and the seven default checks (latency with tolerance 5%, ttft, output_tokens, cost,
 * error_rate with no allowed increase, negative_feedback_rate, score), described in
 * docs/ROLLOUTS.md and measured in docs/BENCHMARKS.md ("Canary judge"). */
void sl_rollout_spec_defaults(struct sl_rollout_spec *spec);
/* 0 or SL_EINVAL with err = "field: problem", e.g. "steps[2].percent: must be larger than 25". */
int sl_rollout_spec_validate(const struct sl_rollout_spec *spec, char *err, size_t errlen);
/* Stages the judge can see: the shadow stage (if any) and every step but the last; 1..16. */
unsigned sl_rollout_spec_stages(const struct sl_rollout_spec *spec);
/* The effective progress deadline (resolves 0 to 10 x interval_ms). */
uint64_t sl_rollout_spec_deadline_ms(const struct sl_rollout_spec *spec);
/* Index of the check named name, or -1. */
int sl_rollout_spec_find(const struct sl_rollout_spec *spec, const char *name);
/* Default check values for a kind (tolerance 0.1 or 0.01, increase_bad, weight 1). */
void sl_metric_check_defaults(struct sl_metric_check *c, const char *name, enum sl_metric_kind kind);

/* The metrics the gateway measures itself and feeds to checks of the same name (the table in
 * docs/ROLLOUTS.md). A check named like one must have its kind (validation says so); any other
 * name is fed by feedback that names it. */
enum sl_builtin_metric {
	SL_BM_LATENCY,
	SL_BM_TTFT,
	SL_BM_OUTPUT_TOKENS,
	SL_BM_COST,
	SL_BM_ERROR_RATE,
	SL_BM_NEGATIVE_FEEDBACK_RATE,
	SL_BM_SCORE,
	SL_BM_TRUNCATION_RATE,
	SL_BM_RECS_CTR,           /* rate: items clicked out of items shown, per slate (docs/RECS.md) */
	SL_BM_RECS_NEGATIVE_RATE, /* rate: dislikes, skips, "not interested" out of interactions */
	SL_BM_RECS_DIVERSITY,     /* value: a slate's intra-list diversity */
	SL_BM_RECS_NOVELTY,       /* value: a slate's mean novelty */
	SL_BM_RECS_REPETITION,    /* value: Jaccard of a user's consecutive slates */
	SL_BM_RECS_WATCH_SECONDS, /* value: seconds of one watch */
	SL_BM_REFUSAL_RATE,       /* rate: answers the model refused ("refusal", finish_reason content_filter) */
	SL_BM_SAFETY_FLAG_RATE,   /* rate: answers the guard's output checks or the Rule of Two flagged,
	                             redacted or blocked (docs/GUARD.md) */
	SL_BM_COUNT
};
const char *sl_builtin_metric_name(enum sl_builtin_metric m);
enum sl_metric_kind sl_builtin_metric_kind(enum sl_builtin_metric m);
/* The built-in metric called name, or -1. */
int sl_builtin_metric_find(const char *name);

/* Appends the spec as one JSON object (every field, checks included). */
int sl_rollout_spec_to_json(const struct sl_rollout_spec *spec, struct sl_buf *out);
/* Parses a JSON object over the defaults: absent fields keep their default, "checks" replaces
 * the whole default list. Strict: unknown fields, wrong types and out-of-range values are
 * SL_EINVAL (SL_EPARSE for text that is not JSON) with err naming the field. *spec is written
 * only on success. */
int sl_rollout_spec_from_json(const char *json, struct sl_rollout_spec *spec, char *err, size_t errlen);
/* The same from an already parsed json-c object (used for the state's embedded spec). */
struct json_object;
int sl_rollout_spec_from_jobj(struct json_object *o, struct sl_rollout_spec *spec, char *err, size_t errlen);

/* ---- window (window.c) --------------------------------------------------------------------
 * What the judge sees: per version, per check and per stratum (a stage of the rollout: shadow
 * or one canary step), a reservoir of values (value checks) or event and trial counts (rate
 * checks), plus request counts. A stage is compared only with itself (same period, one
 * constant share) and the judge pools the strata, so evidence accumulates across steps.
 * Strata: one per stage the spec can judge (shadow, if any, and every step but the last),
 * allocated at init; a window that has begun that many stages drops its oldest stratum to
 * open a new one. Memory: 2 x value checks x strata x cap x 8 bytes, allocated at init
 * (gateway: cap 5,000, default spec: 5 x 2 x 4 x 5,000 x 8 = 1.6 MB); nothing grows
 * afterwards. While a stratum's side has seen at most cap values its reservoir holds them all;
 * beyond, it is a uniform sample of that stage's values. */
enum sl_side { SL_STABLE = 0, SL_CANDIDATE = 1 };

#define SL_WINDOW_MAX_STRATA SL_ROLLOUT_MAX_STEPS /* shadow + 15 judged steps */

struct sl_window_stratum {
	struct sl_reservoir values[2]; /* value checks, by side */
	uint64_t events[2], trials[2]; /* rate checks, by side */
};

struct sl_window_metric {
	enum sl_metric_kind kind;
	struct sl_window_stratum s[SL_WINDOW_MAX_STRATA]; /* oldest first; s[nstrata-1] is current */
};

struct sl_window {
	unsigned nmetrics;
	unsigned maxstrata; /* strata allocated (the spec's judged stages) */
	unsigned nstrata;   /* strata in use, 1..maxstrata; the last is the current stage */
	size_t cap;         /* values per side per value check per stratum */
	uint64_t seed;
	uint64_t resets;
	uint64_t requests[2]; /* by side, in the current stage (min_requests counts these) */
	struct sl_window_metric m[SL_ROLLOUT_MAX_CHECKS];
};

/* Shapes the window after spec's checks (same indexes) and stages. cap 0 =
 * SL_WINDOW_CAP_DEFAULT. */
int sl_window_init(struct sl_window *w, const struct sl_rollout_spec *spec, size_t cap, uint64_t seed);
void sl_window_release(struct sl_window *w);
/* A new stage began (sl_rollout_decision.reset_window): the current stratum is closed, kept
 * for the judge, and an empty one opens (when all are in use, the oldest is dropped and its
 * memory reused). Reservoirs are reseeded from seed and the reset count, so a replay gives the
 * same samples. Never allocates; always 0. */
int sl_window_reset(struct sl_window *w);
/* The current stratum (the stage in progress) of check i. */
struct sl_window_stratum *sl_window_current(struct sl_window *w, unsigned metric);
/* One request served by side (counts toward min_requests). */
int sl_window_add_request(struct sl_window *w, enum sl_side side);
/* SL_EINVAL for a rate metric, an unknown index or a value that is not finite. */
int sl_window_add_value(struct sl_window *w, enum sl_side side, unsigned metric, double value);
/* Adds events out of trials (events <= trials); SL_EINVAL for a value metric. */
int sl_window_add_rate(struct sl_window *w, enum sl_side side, unsigned metric, uint64_t events, uint64_t trials);

/* ---- judge (judge.c, judge_value.c, judge_rate.c, judgment_json.c) ----------------------- */

enum sl_verdict { SL_VERDICT_PASS, SL_VERDICT_FAIL, SL_VERDICT_INCONCLUSIVE, SL_VERDICT_NO_DATA };
enum sl_outcome {
	SL_OUTCOME_NONE, /* only in sl_rollout_input: no judgment in this call */
	SL_OUTCOME_PASS,
	SL_OUTCOME_FAIL,
	SL_OUTCOME_INCONCLUSIVE,
	SL_OUTCOME_INSUFFICIENT_DATA,
};
enum sl_test_kind {
	SL_TEST_NONE,
	SL_TEST_MANN_WHITNEY,
	SL_TEST_FISHER,
	SL_TEST_Z,
	SL_TEST_VAN_ELTEREN, /* value checks: stratified Mann-Whitney (one stratum: Mann-Whitney) */
	SL_TEST_MH_Z,        /* rate checks: stratified score test, Mantel-Haenszel weights */
	SL_TEST_MH_EXACT,    /* rate checks: exact conditional test (one stratum: Fisher's) */
};

/* One check's evidence, pooled over the window's strata (stages; see judge.c). Value checks:
 * n = values kept (seen = values observed, larger once a reservoir is full), stable/candidate
 * = the strata's medians averaged with weights nc ns/(nc + ns), effect/lo/hi = the common
 * shift of candidate against stable relative to each stratum's stable median (stratified
 * Hodges-Lehmann) and its interval (abs_* = relative x the shown stable median). Rate checks:
 * n = trials, events, stable/candidate = pooled rates, effect/lo/hi = the Mantel-Haenszel
 * difference candidate - stable and its interval (abs_* the same). The interval has two-sided
 * confidence `confidence`: a directional check's ends are each one-sided bounds at 1 - alpha.
 * Unbounded ends are +-inf; fields that do not apply are NaN. */
struct sl_check_result {
	char name[SL_METRIC_NAME_MAX];
	enum sl_metric_kind kind;
	enum sl_direction direction;
	bool critical, dry_run;
	double weight;
	uint64_t n[2], seen[2], events[2]; /* by side */
	double stable, candidate;
	double effect, lo, hi;
	double abs_effect, abs_lo, abs_hi;
	double confidence; /* of the interval (two-sided) */
	enum sl_test_kind test;
	unsigned strata; /* strata (stages) pooled */
	double pvalue;   /* of "beyond the tolerance on a bad side" (either: both sides, doubled) */
	double alpha;     /* this look's threshold for the p-value */
	double tolerance; /* the spec's tolerance or allowed change */
	enum sl_verdict verdict;
	char reason[SL_ROLLOUT_REASON_MAX];
};

struct sl_judgment {
	unsigned index;       /* judgment index given to sl_judge (look k = index + 1) */
	double alpha_look;    /* alpha spent at look k (sl_judge_alpha_look) */
	double alpha_check;   /* alpha_k / number of non-dry-run checks */
	uint64_t requests[2]; /* by side, from the window */
	struct sl_check_result checks[SL_ROLLOUT_MAX_CHECKS];
	unsigned nchecks;
	double score; /* 0..100; NaN when no counted check has data */
	enum sl_outcome outcome;
	int decided_by; /* index of the deciding check, or -1 */
	char reason[SL_ROLLOUT_REASON_MAX];
};

/* The share of alpha spent at look k = index + 1 of a rollout planned for `planned` looks (one
 * per judged stage, sl_rollout_spec_stages): (1 - SL_JUDGE_ALPHA_RESERVE) alpha / planned at
 * each planned look, then SL_JUDGE_ALPHA_RESERVE alpha 6 / (pi^2 j^2) at extra look planned + j
 * (holds, confirmations). Sums to alpha over every look ever taken. planned 0 counts as 1. */
#define SL_JUDGE_ALPHA_RESERVE 0.1
double sl_judge_alpha_look(double alpha, unsigned planned, unsigned index);
/* Judges the window. judgment_index counts every judgment of the rollout so far (pass
 * sl_rollout_decision.judgment_index); it must grow across steps for the error control to
 * hold. SL_EINVAL when the window does not match the spec, SL_ENOMEM on allocation failure. */
int sl_judge(const struct sl_rollout_spec *spec, const struct sl_window *w, unsigned judgment_index,
             struct sl_judgment *out);
/* Appends the judgment with all its evidence as one JSON object (NaN and inf as null). */
int sl_judgment_to_json(const struct sl_judgment *j, struct sl_buf *out);
/* Appends a human table: one line per check and a closing line with score and outcome. */
int sl_judgment_to_text(const struct sl_judgment *j, struct sl_buf *out);

/* ---- state machine (machine.c, state_json.c) ------------------------------- */

enum sl_rollout_state {
	SL_ROLLOUT_PENDING,
	SL_ROLLOUT_SHADOW,
	SL_ROLLOUT_CANARY,
	SL_ROLLOUT_AWAITING_APPROVAL,
	SL_ROLLOUT_PAUSED,
	SL_ROLLOUT_PROMOTED,
	SL_ROLLOUT_ROLLED_BACK,
	SL_ROLLOUT_ABORTED,
};
enum sl_rollout_action {
	SL_ACTION_NONE,
	SL_ACTION_PAUSE,
	SL_ACTION_RESUME,
	SL_ACTION_APPROVE,
	SL_ACTION_PROMOTE,
	SL_ACTION_ROLLBACK,
	SL_ACTION_ABORT,
};
enum sl_webhook_result {
	SL_WEBHOOK_NONE,
	SL_WEBHOOK_START_CONFIRMED,
	SL_WEBHOOK_START_REFUSED,
	SL_WEBHOOK_STEP_OK,
	SL_WEBHOOK_STEP_FAILED,
};
/* A webhook the gateway should call (level-triggered: asked on every call until answered;
 * the gateway keeps at most one in flight). */
enum sl_rollout_call { SL_CALL_NONE, SL_CALL_CONFIRM_START, SL_CALL_CONFIRM_STEP };
/* A notification to send (edge-triggered: once, on the transition). */
enum sl_rollout_notify { SL_NOTIFY_NONE, SL_NOTIFY_PROMOTED, SL_NOTIFY_ROLLED_BACK, SL_NOTIFY_ABORTED };

struct sl_rollout {
	struct sl_rollout_spec spec;
	enum sl_rollout_state state;
	enum sl_rollout_state paused_from; /* the state to resume (state == PAUSED only) */
	unsigned step;                     /* canary: current step; awaiting_approval: the step to enter */
	double share;                      /* candidate share published now, 0..1 */
	double shadow_share;               /* mirrored share published now (shadow only), else 0 */
	bool confirming;                   /* a step confirmation is wanted before advancing */
	unsigned failures, consecutive_failures;
	unsigned judgments; /* judgments counted (insufficient_data is not one) */
	uint64_t started_ms, step_started_ms, last_judgment_ms, paused_at_ms, ended_ms;
	char reason[SL_ROLLOUT_REASON_MAX]; /* why the last transition happened */
};

struct sl_rollout_input {
	uint64_t now_ms;
	uint64_t step_requests;         /* candidate requests since the current step began */
	enum sl_outcome judgment;       /* result of the judgment asked for, or NONE */
	enum sl_rollout_action action;  /* operator action, or NONE */
	enum sl_webhook_result webhook; /* webhook answer, or NONE */
};

struct sl_rollout_decision {
	enum sl_rollout_state state;
	unsigned step;
	double share;        /* candidate share to publish, 0..1 */
	double shadow_share; /* mirrored share to publish, 0..1 */
	bool share_changed;  /* publish a new route table */
	bool state_changed;  /* store the state */
	bool judge;          /* run sl_judge now with judgment_index, then report the outcome */
	unsigned judgment_index;
	bool reset_window; /* a new stage began: sl_window_reset before adding more data */
	enum sl_rollout_call call;
	unsigned confirm_step; /* the step a CONFIRM_STEP call is about (nsteps-1 = promotion) */
	enum sl_rollout_notify notify;
	char reason[SL_ROLLOUT_REASON_MAX];
};

/* Validates and copies spec; the rollout starts pending at now_ms. err as for validate. */
int sl_rollout_init(struct sl_rollout *r, const struct sl_rollout_spec *spec, uint64_t now_ms, char *err,
                    size_t errlen);
/* Applies at most one event (judgment, action or webhook; more is SL_EINVAL) and the clock.
 * An event the current state does not accept is refused with SL_ESTATE: r is unchanged and out
 * describes the current state with the refusal in reason. out is always filled. */
int sl_rollout_advance(struct sl_rollout *r, const struct sl_rollout_input *in, struct sl_rollout_decision *out);
bool sl_rollout_terminal(enum sl_rollout_state s);
/* After loading a rollout whose window was lost (a restart): the current stage starts over at
 * now_ms with an empty window (its clocks restart, so the progress deadline and the interval
 * count from now); counters, the look index and the share are kept. A paused rollout stays
 * paused (the pause counts from now). Terminal rollouts are left as they are. */
void sl_rollout_restore(struct sl_rollout *r, uint64_t now_ms);

/* The rollout (spec included) as one JSON object, and back (strict, as the spec). */
int sl_rollout_to_json(const struct sl_rollout *r, struct sl_buf *out);
int sl_rollout_from_json(const char *json, struct sl_rollout *r, char *err, size_t errlen);

/* ---- names (names.c): lower-case words used in JSON, logs and the API ------------------- */
const char *sl_rollout_state_name(enum sl_rollout_state s);
const char *sl_rollout_action_name(enum sl_rollout_action a);
const char *sl_webhook_result_name(enum sl_webhook_result w);
const char *sl_rollout_call_name(enum sl_rollout_call c);
const char *sl_rollout_notify_name(enum sl_rollout_notify n);
const char *sl_outcome_name(enum sl_outcome o);
const char *sl_verdict_name(enum sl_verdict v);
const char *sl_test_kind_name(enum sl_test_kind t);
const char *sl_metric_kind_name(enum sl_metric_kind k);
const char *sl_direction_name(enum sl_direction d);
/* Parsers: 0 and *out, or SL_EINVAL for an unknown word. */
int sl_rollout_state_parse(const char *s, enum sl_rollout_state *out);
int sl_rollout_action_parse(const char *s, enum sl_rollout_action *out);
int sl_webhook_result_parse(const char *s, enum sl_webhook_result *out);
int sl_metric_kind_parse(const char *s, enum sl_metric_kind *out);
int sl_direction_parse(const char *s, enum sl_direction *out);

#endif
