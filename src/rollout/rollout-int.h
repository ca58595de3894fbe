/* rollout-int.h: helpers shared by the rollout files, not part of the public API.
 * Invariants: no allocation except through the sl_buf given; errors are SL_EINVAL with a
 * message "field: problem" written into err (truncated to errlen, always NUL-terminated). */
#ifndef SLUICE_ROLLOUT_INT_H
#define SLUICE_ROLLOUT_INT_H

#include <json-c/json.h>
#include <stddef.h>

#include "../core/json-int.h"
#include "sluice/rollout.h"

/* The spec's checks that count (not dry-run). */
unsigned sl__counted_checks(const struct sl_rollout_spec *spec);
/* The JSON name of a check's tolerance: "tolerance" (value) or "allowed_increase" (rate). */
const char *sl__tolerance_key(enum sl_metric_kind k);

/* ---- judge internals (judge.c, judge_value.c, judge_rate.c) ---- */
/* Judges check `metric` of w, pooled over its strata, at level alpha into r (whose identity
 * fields are already filled, counts zeroed). */
int sl__judge_value(const struct sl_window *w, unsigned metric, double alpha, struct sl_check_result *r);
int sl__judge_rate(const struct sl_window *w, unsigned metric, double alpha, struct sl_check_result *r);
/* Two-sided confidence of a check's interval at level alpha: 1 - 2 alpha for a directional
 * check (each end a one-sided bound at 1 - alpha, the side tested), 1 - alpha for either. */
double sl__interval_confidence(enum sl_direction d, double alpha);
/* Sets r->verdict from r's interval, tolerance, direction, p-value and alpha (see judge.c). */
void sl__classify(struct sl_check_result *r);
/* Writes r->reason: `summary` (what was measured) then the verdict in words. */
void sl__verdict_reason(struct sl_check_result *r, const char *summary, bool percent);

#endif
