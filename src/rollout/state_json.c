/* state_json.c: a rollout (state, counters, timers and its spec) to and from JSON, so the store
 * can keep it and a restarted gateway can resume it where it was.
 * Invariants: to_json writes every field; from_json requires every field, refuses unknown ones,
 * validates the embedded spec and the state's consistency (step in range, share matching the
 * state), and writes *r only on success. Times are milliseconds of the caller's clock. */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "rollout-int.h"

static int put_u64(struct sl_buf *b, const char *key, uint64_t v)
{
	return sl_buf_printf(b, ",\"%s\":%llu", key, (unsigned long long)v);
}

static int counters_to_json(const struct sl_rollout *r, struct sl_buf *b)
{
	int rc = sl_buf_printf(b, ",\"confirming\":%s", r->confirming ? "true" : "false");
	if (!rc)
		rc = put_u64(b, "failures", r->failures);
	if (!rc)
		rc = put_u64(b, "consecutive_failures", r->consecutive_failures);
	if (!rc)
		rc = put_u64(b, "judgments", r->judgments);
	if (!rc)
		rc = put_u64(b, "started_ms", r->started_ms);
	if (!rc)
		rc = put_u64(b, "step_started_ms", r->step_started_ms);
	if (!rc)
		rc = put_u64(b, "last_judgment_ms", r->last_judgment_ms);
	if (!rc)
		rc = put_u64(b, "paused_at_ms", r->paused_at_ms);
	if (!rc)
		rc = put_u64(b, "ended_ms", r->ended_ms);
	return rc;
}

int sl_rollout_to_json(const struct sl_rollout *r, struct sl_buf *b)
{
	int rc = sl_buf_printf(b, "{\"state\":\"%s\",\"paused_from\":\"%s\",\"step\":%u,\"step_percent\":",
	                       sl_rollout_state_name(r->state), sl_rollout_state_name(r->paused_from), r->step);
	if (!rc)
		rc = sl__json_num(b, r->spec.steps[r->step < r->spec.nsteps ? r->step : 0].percent);
	if (!rc)
		rc = sl_buf_puts(b, ",\"share\":");
	if (!rc)
		rc = sl__json_num(b, r->share);
	if (!rc)
		rc = sl_buf_puts(b, ",\"shadow_share\":");
	if (!rc)
		rc = sl__json_num(b, r->shadow_share);
	if (!rc)
		rc = counters_to_json(r, b);
	if (!rc)
		rc = sl_buf_puts(b, ",\"reason\":");
	if (!rc)
		rc = sl_buf_json_str(b, r->reason, strnlen(r->reason, sizeof(r->reason)));
	if (!rc)
		rc = sl_buf_puts(b, ",\"spec\":");
	if (!rc)
		rc = sl_rollout_spec_to_json(&r->spec, b);
	return rc ? rc : sl_buf_puts(b, "}");
}

/* ---- reading ---- */

static const char *const keys[] = {"state",
                                   "paused_from",
                                   "step",
                                   "step_percent",
                                   "share",
                                   "shadow_share",
                                   "confirming",
                                   "failures",
                                   "consecutive_failures",
                                   "judgments",
                                   "started_ms",
                                   "step_started_ms",
                                   "last_judgment_ms",
                                   "paused_at_ms",
                                   "ended_ms",
                                   "reason",
                                   "spec",
                                   NULL};

static int member(struct json_object *o, const char *key, struct json_object **v, char *err, size_t errlen)
{
	if (!json_object_object_get_ex(o, key, v))
		return sl__rerr(err, errlen, "%s: missing", key);
	return 0;
}

static int get_state(struct json_object *o, const char *key, enum sl_rollout_state *out, char *err, size_t errlen)
{
	struct json_object *v;
	int rc = member(o, key, &v, err, errlen);
	if (rc)
		return rc;
	if (!json_object_is_type(v, json_type_string) || sl_rollout_state_parse(json_object_get_string(v), out))
		return sl__rerr(err, errlen, "%s: must be a rollout state name", key);
	return 0;
}

static int get_u64(struct json_object *o, const char *key, uint64_t max, uint64_t *out, char *err, size_t errlen)
{
	struct json_object *v;
	int rc = member(o, key, &v, err, errlen);
	return rc ? rc : sl__json_u64(v, key, max, out, err, errlen);
}

static int get_uint(struct json_object *o, const char *key, unsigned *out, char *err, size_t errlen)
{
	uint64_t u;
	int rc = get_u64(o, key, UINT32_MAX, &u, err, errlen);
	if (!rc)
		*out = (unsigned)u;
	return rc;
}

static int get_share(struct json_object *o, const char *key, double *out, char *err, size_t errlen)
{
	struct json_object *v;
	int rc = member(o, key, &v, err, errlen);
	return rc ? rc : sl__json_double(v, key, 0, 1, out, err, errlen);
}

static int get_counters(struct json_object *o, struct sl_rollout *r, char *err, size_t errlen)
{
	struct json_object *v;
	int rc = member(o, "confirming", &v, err, errlen);
	if (!rc)
		rc = sl__json_bool(v, "confirming", &r->confirming, err, errlen);
	if (!rc)
		rc = get_uint(o, "failures", &r->failures, err, errlen);
	if (!rc)
		rc = get_uint(o, "consecutive_failures", &r->consecutive_failures, err, errlen);
	if (!rc)
		rc = get_uint(o, "judgments", &r->judgments, err, errlen);
	if (!rc)
		rc = get_u64(o, "started_ms", INT64_MAX, &r->started_ms, err, errlen);
	if (!rc)
		rc = get_u64(o, "step_started_ms", INT64_MAX, &r->step_started_ms, err, errlen);
	if (!rc)
		rc = get_u64(o, "last_judgment_ms", INT64_MAX, &r->last_judgment_ms, err, errlen);
	if (!rc)
		rc = get_u64(o, "paused_at_ms", INT64_MAX, &r->paused_at_ms, err, errlen);
	if (!rc)
		rc = get_u64(o, "ended_ms", INT64_MAX, &r->ended_ms, err, errlen);
	return rc;
}

static int get_fields(struct json_object *o, struct sl_rollout *r, char *err, size_t errlen)
{
	struct json_object *v;
	double percent;
	int rc = get_state(o, "state", &r->state, err, errlen);
	if (!rc)
		rc = get_state(o, "paused_from", &r->paused_from, err, errlen);
	if (!rc)
		rc = get_uint(o, "step", &r->step, err, errlen);
	if (!rc && !(rc = member(o, "step_percent", &v, err, errlen)))
		rc = sl__json_double(v, "step_percent", 0, 100, &percent, err, errlen);
	if (!rc)
		rc = get_share(o, "share", &r->share, err, errlen);
	if (!rc)
		rc = get_share(o, "shadow_share", &r->shadow_share, err, errlen);
	if (!rc)
		rc = get_counters(o, r, err, errlen);
	if (!rc && !(rc = member(o, "reason", &v, err, errlen)))
		rc = sl__json_string(v, "reason", r->reason, sizeof(r->reason), err, errlen);
	if (!rc && !(rc = member(o, "spec", &v, err, errlen))) {
		char inner[SL_ROLLOUT_REASON_MAX] = "";
		if ((rc = sl_rollout_spec_from_jobj(v, &r->spec, inner, sizeof(inner))))
			sl__rerr(err, errlen, "spec.%s", inner);
	}
	return rc;
}

/* The share must be what the state publishes (see machine.c's invariants). */
static int check_consistent(const struct sl_rollout *r, char *err, size_t errlen)
{
	enum sl_rollout_state s = r->state == SL_ROLLOUT_PAUSED ? r->paused_from : r->state;
	if (r->step >= r->spec.nsteps)
		return sl__rerr(err, errlen, "step: must be below %u", r->spec.nsteps);
	if (r->state == SL_ROLLOUT_PAUSED && (s == SL_ROLLOUT_PAUSED || sl_rollout_terminal(s)))
		return sl__rerr(err, errlen, "paused_from: must be a live state");
	if (s == SL_ROLLOUT_CANARY && r->share != r->spec.steps[r->step].percent / 100)
		return sl__rerr(err, errlen, "share: must be step %u's %g%%", r->step, r->spec.steps[r->step].percent);
	if ((s == SL_ROLLOUT_PROMOTED && r->share != 1) || ((s == SL_ROLLOUT_ROLLED_BACK || s == SL_ROLLOUT_ABORTED ||
	                                                     s == SL_ROLLOUT_PENDING || s == SL_ROLLOUT_SHADOW) &&
	                                                    r->share != 0))
		return sl__rerr(err, errlen, "share: does not match state %s", sl_rollout_state_name(s));
	if (r->confirming && s != SL_ROLLOUT_SHADOW && s != SL_ROLLOUT_CANARY)
		return sl__rerr(err, errlen, "confirming: only in shadow or canary");
	return 0;
}

int sl_rollout_from_json(const char *json, struct sl_rollout *out, char *err, size_t errlen)
{
	struct json_object *o = NULL;
	struct sl_rollout r;
	memset(&r, 0, sizeof(r));
	int rc = sl__json_parse(json, &o, err, errlen);
	if (!rc && !json_object_is_type(o, json_type_object))
		rc = sl__rerr(err, errlen, "rollout: must be a JSON object");
	if (!rc)
		rc = sl__json_known(o, "", keys, err, errlen);
	if (!rc)
		rc = get_fields(o, &r, err, errlen);
	if (!rc)
		rc = check_consistent(&r, err, errlen);
	json_object_put(o);
	if (!rc)
		*out = r;
	return rc;
}
