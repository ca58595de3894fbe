/* experiment-int.h: helpers shared by the experiment files, not part of the public API.
 * Invariants: errors are SL_EINVAL with "path: problem" written into err (truncated to errlen,
 * always NUL-terminated); a getter writes *out only on success; an absent optional member
 * leaves *out untouched and returns 0. */
#ifndef SLUICE_EXPERIMENT_INT_H
#define SLUICE_EXPERIMENT_INT_H

#include <json-c/json.h>
#include <stddef.h>

#include "../core/json-int.h"
#include "sluice/experiment.h"

/* A field path such as "experiments[1].variants[0]", built on the stack as the parser descends. */
#define SL__XPATH_CAP 128

/* Writes "path: message" into err (when err != NULL) and returns SL_EINVAL. */
int sl__xerr(char *err, size_t errlen, const char *path, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* path + "." + key (or "[i]" when key is NULL) into out[SL__XPATH_CAP]. */
void sl__xpath(char *out, const char *path, const char *key, int i);
/* Parses text of len bytes strictly (UTF-8 validated, nothing after the value). */
int sl__xparse(const char *json, size_t len, struct json_object **out, char *err, size_t errlen);
/* o must be an object whose members are all in keys (NULL-terminated). */
int sl__xobject(struct json_object *o, const char *path, const char *const *keys, char *err, size_t errlen);
/* Optional members (absent: 0, *out untouched); required: "path.key: missing". */
int sl__xstr(struct json_object *o, const char *key, const char *path, bool required, char *out, size_t cap,
             char *err, size_t errlen);
/* A name of 1..64 bytes of [A-Za-z0-9_.:-]. */
int sl__xname(struct json_object *o, const char *key, const char *path, bool required, char *out, char *err,
              size_t errlen);
int sl__xnum(struct json_object *o, const char *key, const char *path, double lo, double hi, double *out, char *err,
             size_t errlen);
int sl__xbool(struct json_object *o, const char *key, const char *path, bool *out, char *err, size_t errlen);
/* One of names (NULL-terminated) into *out as its index. */
int sl__xenum(struct json_object *o, const char *key, const char *path, const char *const *names, int *out,
              char *err, size_t errlen);
/* A [lo, hi] pair with 0 <= lo <= hi <= 1. */
int sl__xrange(struct json_object *v, const char *path, double r[2], char *err, size_t errlen);
bool sl__name_ok(const char *s, size_t n);

/* JSON output: core's helpers (sl__json_num, sl__json_num_field, sl__json_str_field). */

/* spec_metric.c */
extern const char *const sl__unit_names[]; /* "user", "session", "request", NULL */
int sl__metric_from_json(struct json_object *o, const char *path, struct sl_exp_metric *m, char *err, size_t errlen);
int sl__source_parse(const char *s, struct sl_exp_source *out);
int sl__source_put(struct sl_buf *b, const char *key, const struct sl_exp_source *s);
int sl__analysis_from_json(struct json_object *o, const char *path, struct sl_exp_analysis *a, char *err,
                           size_t errlen);
void sl__analysis_defaults(struct sl_exp_analysis *a);

#endif
