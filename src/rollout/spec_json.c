/* spec_json.c: a rollout spec to and from JSON, for the store and the admin API.
 * Invariants: to_json writes every field, so from_json(to_json(s)) == s for a valid s; from_json
 * starts from the defaults, refuses unknown fields, wrong types and invalid values with an
 * error naming the field, validates the result, and writes *spec only on success. Rate checks
 * carry their tolerance as "allowed_increase", value checks as "tolerance". */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "rollout-int.h"

/* The scalar members, in their JSON order; doubles are range-checked by validate afterwards. */
#define SCALAR(type, m) SL__JFIELD(struct sl_rollout_spec, type, m, -1e300, 1e300)
static const struct sl__jfield scalars[] = {
    SCALAR(SL__J_DOUBLE, shadow_share), SCALAR(SL__J_U64, interval_ms),
    SCALAR(SL__J_U64, min_requests),    SCALAR(SL__J_U64, progress_deadline_ms),
    SCALAR(SL__J_UINT, max_failures),   SCALAR(SL__J_UINT, max_consecutive_failures),
    SCALAR(SL__J_DOUBLE, pass_score),   SCALAR(SL__J_DOUBLE, marginal_score),
    SCALAR(SL__J_DOUBLE, alpha),        SCALAR(SL__J_BOOL, confirm_start),
    SCALAR(SL__J_BOOL, confirm_steps),
};
#define NSCALARS (sizeof(scalars) / sizeof(scalars[0]))

static int step_to_json(const void *p, struct sl_buf *b)
{
	const struct sl_rollout_step *st = p;
	int rc = sl_buf_puts(b, "{\"percent\":");
	if (!rc)
		rc = sl__json_num(b, st->percent);
	return rc ? rc : sl_buf_printf(b, ",\"require_approval\":%s}", st->require_approval ? "true" : "false");
}

static int check_to_json(const void *p, struct sl_buf *b)
{
	const struct sl_metric_check *c = p;
	int rc = sl_buf_puts(b, "{\"name\":");
	if (!rc)
		rc = sl_buf_json_str(b, c->name, strlen(c->name));
	if (!rc)
		rc = sl_buf_printf(b, ",\"kind\":\"%s\",\"direction\":\"%s\"", sl_metric_kind_name(c->kind),
		                   sl_direction_name(c->direction));
	if (!rc)
		rc = sl__json_num_field(b, sl__tolerance_key(c->kind), c->tolerance);
	if (!rc)
		rc = sl_buf_printf(b, ",\"critical\":%s,\"dry_run\":%s", c->critical ? "true" : "false",
		                   c->dry_run ? "true" : "false");
	if (!rc)
		rc = sl__json_num_field(b, "weight", c->weight);
	return rc ? rc : sl_buf_puts(b, "}");
}

int sl_rollout_spec_to_json(const struct sl_rollout_spec *s, struct sl_buf *b)
{
	int rc = sl_buf_puts(b, "{\"steps\":");
	if (!rc)
		rc = sl__json_array(b, s->steps, sizeof(s->steps[0]), s->nsteps, step_to_json);
	if (!rc)
		rc = sl__json_put_fields(b, scalars, NSCALARS, s);
	if (!rc)
		rc = sl_buf_puts(b, ",\"checks\":");
	if (!rc)
		rc = sl__json_array(b, s->checks, sizeof(s->checks[0]), s->nchecks, check_to_json);
	return rc ? rc : sl_buf_puts(b, "}");
}

/* ---- reading ---- */

static int step_from_json(struct json_object *o, unsigned i, void *elem, char *err, size_t errlen)
{
	static const char *const keys[] = {"percent", "require_approval", NULL};
	struct sl_rollout_step *st = elem;
	char f[48];
	snprintf(f, sizeof(f), "steps[%u]", i);
	memset(st, 0, sizeof(*st));
	if (!json_object_is_type(o, json_type_object))
		return sl__json_double(o, f, -1e300, 1e300, &st->percent, err, errlen);
	int rc = sl__json_known(o, f, keys, err, errlen);
	struct json_object *v;
	snprintf(f, sizeof(f), "steps[%u].percent", i);
	if (!rc)
		rc = sl__json_member(o, "percent", f, &v, err, errlen);
	if (!rc)
		rc = sl__json_double(v, f, -1e300, 1e300, &st->percent, err, errlen);
	snprintf(f, sizeof(f), "steps[%u].require_approval", i);
	if (!rc && json_object_object_get_ex(o, "require_approval", &v))
		rc = sl__json_bool(v, f, &st->require_approval, err, errlen);
	return rc;
}

/* Everything of a check but its name and kind, already set. */
static int check_fields(struct json_object *o, unsigned i, struct sl_metric_check *c, char *err, size_t errlen)
{
	const char *tol_key = sl__tolerance_key(c->kind);
	const char *other = sl__tolerance_key(c->kind == SL_METRIC_VALUE ? SL_METRIC_RATE : SL_METRIC_VALUE);
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

static int check_from_json(struct json_object *o, unsigned i, void *elem, char *err, size_t errlen)
{
	struct sl_metric_check *c = elem;
	char f[64], name[SL_METRIC_NAME_MAX];
	enum sl_metric_kind kind;
	struct json_object *v;
	if (!json_object_is_type(o, json_type_object))
		return sl__rerr(err, errlen, "checks[%u]: must be an object", i);
	snprintf(f, sizeof(f), "checks[%u].name", i);
	int rc = sl__json_member(o, "name", f, &v, err, errlen);
	if (!rc)
		rc = sl__json_string(v, f, name, sizeof(name), err, errlen);
	if (rc)
		return rc;
	snprintf(f, sizeof(f), "checks[%u].kind", i);
	if ((rc = sl__json_member(o, "kind", f, &v, err, errlen)))
		return rc;
	if (!json_object_is_type(v, json_type_string) || sl_metric_kind_parse(json_object_get_string(v), &kind))
		return sl__rerr(err, errlen, "%s: must be value or rate", f);
	sl_metric_check_defaults(c, name, kind);
	return check_fields(o, i, c, err, errlen);
}

static int scalar_from_json(const char *key, struct json_object *v, struct sl_rollout_spec *s, char *err, size_t errlen)
{
	for (size_t i = 0; i < NSCALARS; i++)
		if (strcmp(scalars[i].key, key) == 0)
			return sl__json_get_field(&scalars[i], v, s, err, errlen);
	return sl__rerr(err, errlen, "%s: unknown field", key);
}

static int member_from_json(const char *key, struct json_object *v, struct sl_rollout_spec *s, char *err, size_t errlen)
{
	if (strcmp(key, "steps") == 0)
		return sl__json_array_get(v, "steps", 1, SL_ROLLOUT_MAX_STEPS, s->steps, sizeof(s->steps[0]),
		                          &s->nsteps, step_from_json, err, errlen);
	if (strcmp(key, "checks") == 0)
		return sl__json_array_get(v, "checks", 0, SL_ROLLOUT_MAX_CHECKS, s->checks, sizeof(s->checks[0]),
		                          &s->nchecks, check_from_json, err, errlen);
	return scalar_from_json(key, v, s, err, errlen);
}

int sl_rollout_spec_from_jobj(struct json_object *o, struct sl_rollout_spec *out, char *err, size_t errlen)
{
	struct sl_rollout_spec s;
	sl_rollout_spec_defaults(&s);
	if (!json_object_is_type(o, json_type_object))
		return sl__rerr(err, errlen, "spec: must be a JSON object");
	json_object_object_foreach(o, key, v)
	{
		int rc = member_from_json(key, v, &s, err, errlen);
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
