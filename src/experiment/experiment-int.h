/* experiment-int.h: helpers shared by the experiment files, not part of the public API.
 * Invariants: errors are SL_EINVAL with "path: problem" written into err (truncated to errlen,
 * always NUL-terminated); a getter writes *out only on success; an absent (or null) optional
 * member leaves *out untouched and returns 0. */
#ifndef SLUICE_EXPERIMENT_INT_H
#define SLUICE_EXPERIMENT_INT_H

#include <json-c/json.h>
#include <stddef.h>

#include "../core/json-int.h"
#include "sluice/experiment.h"

/* JSON input: core's helpers (src/core/json-int.h), with field paths such as
 * "experiments[1].variants[0].key" (sl__json_path, sl__json_*_at). */
/* Parses text of len bytes strictly (UTF-8 validated, nothing after the value). (spec.c) */
int sl__exp_parse(const char *json, size_t len, struct json_object **out, char *err, size_t errlen);
/* JSON output: core's helpers (sl__json_num, sl__json_num_field, sl__json_str_field). */

/* spec_metric.c */
/* A name of 1..64 bytes of [A-Za-z0-9_.:-]; as an optional or required member. */
bool sl__name_ok(const char *s, size_t n);
int sl__exp_name_at(struct json_object *o, const char *key, const char *path, bool required, char *out, char *err,
                    size_t errlen);
extern const char *const sl__unit_names[]; /* "user", "session", "request", NULL */
int sl__metric_from_json(struct json_object *o, const char *path, struct sl_exp_metric *m, char *err, size_t errlen);
int sl__source_parse(const char *s, struct sl_exp_source *out);
int sl__source_put(struct sl_buf *b, const char *key, const struct sl_exp_source *s);
int sl__analysis_from_json(struct json_object *o, const char *path, struct sl_exp_analysis *a, char *err,
                           size_t errlen);
void sl__analysis_defaults(struct sl_exp_analysis *a);

#endif
