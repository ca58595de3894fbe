/* rollout-int.h: helpers shared by the rollout files, not part of the public API.
 * Invariants: no allocation except through the sl_buf given; errors are SL_EINVAL with a
 * message "field: problem" written into err (truncated to errlen, always NUL-terminated). */
#ifndef SLUICE_ROLLOUT_INT_H
#define SLUICE_ROLLOUT_INT_H

#include <json-c/json.h>

#include "sluice/rollout.h"

/* Writes the formatted message into err (when err != NULL) and returns SL_EINVAL. */
int sl__rerr(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* JSON output: a number with round-trip precision, or null when not finite. */
int sl__json_num(struct sl_buf *b, double v);
/* `"key":` with a leading comma unless first. */
int sl__json_key(struct sl_buf *b, const char *key, bool first);

/* Strict JSON input. Each getter checks the type of o (named `field` in errors) and range. */
int sl__json_bool(struct json_object *o, const char *field, bool *out, char *err, size_t errlen);
int sl__json_u64(struct json_object *o, const char *field, uint64_t max, uint64_t *out, char *err, size_t errlen);
int sl__json_double(struct json_object *o, const char *field, double lo, double hi, double *out, char *err,
                    size_t errlen);
/* A string copied into out[cap] (SL_EINVAL when longer). */
int sl__json_string(struct json_object *o, const char *field, char *out, size_t cap, char *err, size_t errlen);
/* Fails naming the first member of object o not in keys (NULL-terminated). */
int sl__json_known(struct json_object *o, const char *where, const char *const *keys, char *err, size_t errlen);
/* Parses text into an object (strict, UTF-8 validated); SL_EPARSE with err on bad JSON. */
int sl__json_parse(const char *json, struct json_object **out, char *err, size_t errlen);

/* The spec's checks that count (not dry-run). */
unsigned sl__counted_checks(const struct sl_rollout_spec *spec);

/* ---- judge internals (judge.c, judge_value.c, judge_rate.c) ---- */
/* Judges one check at level alpha into r (whose identity fields are already filled). */
int sl__judge_value(const struct sl_window_metric *m, double alpha, struct sl_check_result *r);
int sl__judge_rate(const struct sl_window_metric *m, double alpha, struct sl_check_result *r);
/* Sets r->verdict from r's interval, tolerance, direction, p-value and alpha (see judge.c). */
void sl__classify(struct sl_check_result *r);
/* Writes r->reason: `summary` (what was measured) then the verdict in words. */
void sl__verdict_reason(struct sl_check_result *r, const char *summary, bool percent);

#endif
