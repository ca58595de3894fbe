/* spec_json.c: a rollout spec to and from JSON, for the store and the admin API.
 * Invariants: to_json writes every field, so from_json(to_json(s)) == s for a valid s; from_json
 * starts from the defaults, refuses unknown fields, wrong types and invalid values with an
 * error naming the field, validates the result, and writes *spec only on success. Rate checks
 * carry their tolerance as "allowed_increase", value checks as "tolerance". */
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "rollout-int.h"

static int steps_to_json(const struct sl_rollout_spec *s, struct sl_buf *b)
{
	int rc = sl_buf_puts(b, "[");
	for (unsigned i = 0; !rc && i < s->nsteps; i++) {
		rc = sl_buf_puts(b, i ? ",{\"percent\":" : "{\"percent\":");
		if (!rc)
			rc = sl__json_num(b, s->steps[i].percent);
		if (!rc)
			rc = sl_buf_printf(b, ",\"require_approval\":%s}",
			                   s->steps[i].require_approval ? "true" : "false");
	}
	return rc ? rc : sl_buf_puts(b, "]");
}

static int check_to_json(const struct sl_metric_check *c, struct sl_buf *b)
{
	int rc = sl_buf_puts(b, "{\"name\":");
	if (!rc)
		rc = sl_buf_json_str(b, c->name, strlen(c->name));
	if (!rc)
		rc = sl_buf_printf(b, ",\"kind\":\"%s\",\"direction\":\"%s\",\"%s\":", sl_metric_kind_name(c->kind),
		                   sl_direction_name(c->direction),
		                   c->kind == SL_METRIC_VALUE ? "tolerance" : "allowed_increase");
	if (!rc)
		rc = sl__json_num(b, c->tolerance);
	if (!rc)
		rc = sl_buf_printf(b, ",\"critical\":%s,\"dry_run\":%s,\"weight\":", c->critical ? "true" : "false",
		                   c->dry_run ? "true" : "false");
	if (!rc)
		rc = sl__json_num(b, c->weight);
	return rc ? rc : sl_buf_puts(b, "}");
}

static int scalars_to_json(const struct sl_rollout_spec *s, struct sl_buf *b)
{
	int rc = sl_buf_puts(b, ",\"shadow_share\":");
	if (!rc)
		rc = sl__json_num(b, s->shadow_share);
	if (!rc)
		rc = sl_buf_printf(b,
		                   ",\"interval_ms\":%llu,\"min_requests\":%llu,\"progress_deadline_ms\":%llu,"
		                   "\"max_failures\":%u,\"max_consecutive_failures\":%u,\"pass_score\":",
		                   (unsigned long long)s->interval_ms, (unsigned long long)s->min_requests,
		                   (unsigned long long)s->progress_deadline_ms, s->max_failures,
		                   s->max_consecutive_failures);
	if (!rc)
		rc = sl__json_num(b, s->pass_score);
	if (!rc)
		rc = sl_buf_puts(b, ",\"marginal_score\":");
	if (!rc)
		rc = sl__json_num(b, s->marginal_score);
	if (!rc)
		rc = sl_buf_puts(b, ",\"alpha\":");
	if (!rc)
		rc = sl__json_num(b, s->alpha);
	if (!rc)
		rc = sl_buf_printf(b, ",\"confirm_start\":%s,\"confirm_steps\":%s", s->confirm_start ? "true" : "false",
		                   s->confirm_steps ? "true" : "false");
	return rc;
}

int sl_rollout_spec_to_json(const struct sl_rollout_spec *s, struct sl_buf *b)
{
	int rc = sl_buf_puts(b, "{\"steps\":");
	if (!rc)
		rc = steps_to_json(s, b);
	if (!rc)
		rc = scalars_to_json(s, b);
	if (!rc)
		rc = sl_buf_puts(b, ",\"checks\":[");
	for (unsigned i = 0; !rc && i < s->nchecks; i++) {
		if (i)
			rc = sl_buf_puts(b, ",");
		if (!rc)
			rc = check_to_json(&s->checks[i], b);
	}
	return rc ? rc : sl_buf_puts(b, "]}");
}

/* ---- reading ---- */

static int step_from_json(struct json_object *o, unsigned i, struct sl_rollout_step *st, char *err, size_t errlen)
{
	static const char *const keys[] = {"percent", "require_approval", NULL};
	char f[48];
	snprintf(f, sizeof(f), "steps[%u]", i);
	memset(st, 0, sizeof(*st));
	if (!json_object_is_type(o, json_type_object))
		return sl__json_double(o, f, -1e300, 1e300, &st->percent, err, errlen);
	int rc = sl__json_known(o, f, keys, err, errlen);
	struct json_object *v;
	snprintf(f, sizeof(f), "steps[%u].percent", i);
	if (!rc && !json_object_object_get_ex(o, "percent", &v))
		rc = sl__rerr(err, errlen, "%s: missing", f);
	if (!rc)
		rc = sl__json_double(v, f, -1e300, 1e300, &st->percent, err, errlen);
	snprintf(f, sizeof(f), "steps[%u].require_approval", i);
	if (!rc && json_object_object_get_ex(o, "require_approval", &v))
		rc = sl__json_bool(v, f, &st->require_approval, err, errlen);
	return rc;
}

static int steps_from_json(struct json_object *o, struct sl_rollout_spec *s, char *err, size_t errlen)
{
	if (!json_object_is_type(o, json_type_array))
		return sl__rerr(err, errlen, "steps: must be an array");
	size_t n = json_object_array_length(o);
	if (n < 1 || n > SL_ROLLOUT_MAX_STEPS)
		return sl__rerr(err, errlen, "steps: must have 1 to %d entries", SL_ROLLOUT_MAX_STEPS);
	s->nsteps = (unsigned)n;
	for (unsigned i = 0; i < s->nsteps; i++) {
		int rc = step_from_json(json_object_array_get_idx(o, i), i, &s->steps[i], err, errlen);
		if (rc)
			return rc;
	}
	return 0;
}

/* Everything of a check but its name and kind, already set. */
static int check_fields(struct json_object *o, unsigned i, struct sl_metric_check *c, char *err, size_t errlen)
{
	const char *tol_key = c->kind == SL_METRIC_VALUE ? "tolerance" : "allowed_increase";
	const char *other = c->kind == SL_METRIC_VALUE ? "allowed_increase" : "tolerance";
	char f[96];
	int rc = 0;
	json_object_object_foreach(o, key, v)
	{
		snprintf(f, sizeof(f), "checks[%u].%s", i, key);
		if (strcmp(key, "name") == 0 || strcmp(key, "kind") == 0)
			continue;
		else if (strcmp(key, "direction") == 0)
			rc = json_object_is_type(v, json_type_string) &&
			             sl_direction_parse(json_object_get_string(v), &c->direction) == 0
			         ? 0
			         : sl__rerr(err, errlen, "%s: must be increase_bad, decrease_bad or either", f);
		else if (strcmp(key, tol_key) == 0)
			rc = sl__json_double(v, f, -1e300, 1e300, &c->tolerance, err, errlen);
		else if (strcmp(key, "critical") == 0)
			rc = sl__json_bool(v, f, &c->critical, err, errlen);
		else if (strcmp(key, "dry_run") == 0)
			rc = sl__json_bool(v, f, &c->dry_run, err, errlen);
		else if (strcmp(key, "weight") == 0)
			rc = sl__json_double(v, f, -1e300, 1e300, &c->weight, err, errlen);
		else if (strcmp(key, other) == 0)
			rc = sl__rerr(err, errlen, "%s: only for %s checks (use %s)", f,
			              c->kind == SL_METRIC_VALUE ? "rate" : "value", tol_key);
		else
			rc = sl__rerr(err, errlen, "%s: unknown field", f);
		if (rc)
			return rc;
	}
	return 0;
}

static int check_from_json(struct json_object *o, unsigned i, struct sl_metric_check *c, char *err, size_t errlen)
{
	char f[64], name[SL_METRIC_NAME_MAX];
	enum sl_metric_kind kind;
	struct json_object *v;
	if (!json_object_is_type(o, json_type_object))
		return sl__rerr(err, errlen, "checks[%u]: must be an object", i);
	snprintf(f, sizeof(f), "checks[%u].name", i);
	if (!json_object_object_get_ex(o, "name", &v))
		return sl__rerr(err, errlen, "%s: missing", f);
	int rc = sl__json_string(v, f, name, sizeof(name), err, errlen);
	if (rc)
		return rc;
	snprintf(f, sizeof(f), "checks[%u].kind", i);
	if (!json_object_object_get_ex(o, "kind", &v))
		return sl__rerr(err, errlen, "%s: missing", f);
	if (!json_object_is_type(v, json_type_string) || sl_metric_kind_parse(json_object_get_string(v), &kind))
		return sl__rerr(err, errlen, "%s: must be value or rate", f);
	sl_metric_check_defaults(c, name, kind);
	return check_fields(o, i, c, err, errlen);
}

static int checks_from_json(struct json_object *o, struct sl_rollout_spec *s, char *err, size_t errlen)
{
	if (!json_object_is_type(o, json_type_array))
		return sl__rerr(err, errlen, "checks: must be an array");
	size_t n = json_object_array_length(o);
	if (n > SL_ROLLOUT_MAX_CHECKS)
		return sl__rerr(err, errlen, "checks: must have at most %d entries", SL_ROLLOUT_MAX_CHECKS);
	s->nchecks = (unsigned)n;
	for (unsigned i = 0; i < s->nchecks; i++) {
		int rc = check_from_json(json_object_array_get_idx(o, i), i, &s->checks[i], err, errlen);
		if (rc)
			return rc;
	}
	return 0;
}

enum ftype { F_U64, F_UINT, F_DOUBLE, F_BOOL, F_STEPS, F_CHECKS };
struct field {
	const char *key;
	enum ftype type;
	size_t off;
};
#define FLD(k, t, m)                                                                                                   \
	{                                                                                                              \
		k, t, offsetof(struct sl_rollout_spec, m)                                                              \
	}
static const struct field fields[] = {
    FLD("steps", F_STEPS, steps),
    FLD("shadow_share", F_DOUBLE, shadow_share),
    FLD("interval_ms", F_U64, interval_ms),
    FLD("min_requests", F_U64, min_requests),
    FLD("progress_deadline_ms", F_U64, progress_deadline_ms),
    FLD("max_failures", F_UINT, max_failures),
    FLD("max_consecutive_failures", F_UINT, max_consecutive_failures),
    FLD("pass_score", F_DOUBLE, pass_score),
    FLD("marginal_score", F_DOUBLE, marginal_score),
    FLD("alpha", F_DOUBLE, alpha),
    FLD("confirm_start", F_BOOL, confirm_start),
    FLD("confirm_steps", F_BOOL, confirm_steps),
    FLD("checks", F_CHECKS, checks),
};

static int field_from_json(const struct field *fd, struct json_object *v, struct sl_rollout_spec *s, char *err,
                           size_t errlen)
{
	char *p = (char *)s + fd->off;
	uint64_t u;
	int rc;
	switch (fd->type) {
	case F_U64:
		return sl__json_u64(v, fd->key, INT64_MAX, (uint64_t *)(void *)p, err, errlen);
	case F_UINT:
		if ((rc = sl__json_u64(v, fd->key, UINT_MAX, &u, err, errlen)) == 0)
			*(unsigned *)(void *)p = (unsigned)u;
		return rc;
	case F_DOUBLE:
		return sl__json_double(v, fd->key, -1e300, 1e300, (double *)(void *)p, err, errlen);
	case F_BOOL:
		return sl__json_bool(v, fd->key, (bool *)p, err, errlen);
	case F_STEPS:
		return steps_from_json(v, s, err, errlen);
	case F_CHECKS:
		return checks_from_json(v, s, err, errlen);
	}
	return SL_EINVAL;
}

int sl_rollout_spec_from_jobj(struct json_object *o, struct sl_rollout_spec *out, char *err, size_t errlen)
{
	struct sl_rollout_spec s;
	sl_rollout_spec_defaults(&s);
	if (!json_object_is_type(o, json_type_object))
		return sl__rerr(err, errlen, "spec: must be a JSON object");
	json_object_object_foreach(o, key, v)
	{
		size_t i = 0, n = sizeof(fields) / sizeof(fields[0]);
		while (i < n && strcmp(fields[i].key, key) != 0)
			i++;
		if (i == n)
			return sl__rerr(err, errlen, "%s: unknown field", key);
		int rc = field_from_json(&fields[i], v, &s, err, errlen);
		if (rc)
			return rc;
	}
	int rc = sl_rollout_spec_validate(&s, err, errlen);
	if (rc == 0)
		*out = s;
	return rc;
}

int sl_rollout_spec_from_json(const char *json, struct sl_rollout_spec *spec, char *err, size_t errlen)
{
	struct json_object *o = NULL;
	int rc = sl__json_parse(json, &o, err, errlen);
	if (rc == 0)
		rc = sl_rollout_spec_from_jobj(o, spec, err, errlen);
	json_object_put(o);
	return rc;
}
