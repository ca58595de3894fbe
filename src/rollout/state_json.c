/* state_json.c: a rollout (state, counters, timers and its spec) to and from JSON, so the store
 * can keep it and a restarted gateway can resume it where it was.
 * Invariants: to_json writes every field; from_json requires every field, refuses unknown ones,
 * validates the embedded spec and the state's consistency (step in range, share matching the
 * state), and writes *r only on success. Times are milliseconds of the caller's clock. */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "rollout-int.h"

/* The scalar members after step_percent, in their JSON order; step is written before it. */
#define FIELD(type, m, lo, hi) SL__JFIELD(struct sl_rollout, type, m, lo, hi)
static const struct sl__jfield step_field = FIELD(SL__J_UINT, step, 0, 0);
static const struct sl__jfield fields[] = {
    FIELD(SL__J_DOUBLE, share, 0, 1),
    FIELD(SL__J_DOUBLE, shadow_share, 0, 1),
    FIELD(SL__J_BOOL, confirming, 0, 0),
    FIELD(SL__J_UINT, failures, 0, 0),
    FIELD(SL__J_UINT, consecutive_failures, 0, 0),
    FIELD(SL__J_UINT, judgments, 0, 0),
    FIELD(SL__J_U64, started_ms, 0, 0),
    FIELD(SL__J_U64, step_started_ms, 0, 0),
    FIELD(SL__J_U64, last_judgment_ms, 0, 0),
    FIELD(SL__J_U64, paused_at_ms, 0, 0),
    FIELD(SL__J_U64, ended_ms, 0, 0),
};

int sl_rollout_to_json(const struct sl_rollout *r, struct sl_buf *b)
{
	int rc = sl_buf_printf(b, "{\"state\":\"%s\",\"paused_from\":\"%s\"", sl_rollout_state_name(r->state),
	                       sl_rollout_state_name(r->paused_from));
	if (!rc)
		rc = sl__json_put_fields(b, &step_field, 1, r);
	if (!rc)
		rc = sl__json_num_field(b, "step_percent",
		                        r->spec.steps[r->step < r->spec.nsteps ? r->step : 0].percent);
	if (!rc)
		rc = sl__json_put_fields(b, fields, sizeof(fields) / sizeof(fields[0]), r);
	if (!rc)
		rc = sl__json_str_field(b, "reason", r->reason, sizeof(r->reason));
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

static int get_state(struct json_object *o, const char *key, enum sl_rollout_state *out, char *err, size_t errlen)
{
	struct json_object *v;
	int rc = sl__json_member(o, key, key, &v, err, errlen);
	if (rc)
		return rc;
	if (!json_object_is_type(v, json_type_string) || sl_rollout_state_parse(json_object_get_string(v), out))
		return sl__rerr(err, errlen, "%s: must be a rollout state name", key);
	return 0;
}

static int get_field(struct json_object *o, const struct sl__jfield *f, struct sl_rollout *r, char *err, size_t errlen)
{
	struct json_object *v;
	int rc = sl__json_member(o, f->key, f->key, &v, err, errlen);
	return rc ? rc : sl__json_get_field(f, v, r, err, errlen);
}

static int get_fields(struct json_object *o, struct sl_rollout *r, char *err, size_t errlen)
{
	struct json_object *v;
	double percent;
	int rc = get_state(o, "state", &r->state, err, errlen);
	if (!rc)
		rc = get_state(o, "paused_from", &r->paused_from, err, errlen);
	if (!rc)
		rc = get_field(o, &step_field, r, err, errlen);
	if (!rc && !(rc = sl__json_member(o, "step_percent", "step_percent", &v, err, errlen)))
		rc = sl__json_double(v, "step_percent", 0, 100, &percent, err, errlen);
	for (size_t i = 0; !rc && i < sizeof(fields) / sizeof(fields[0]); i++)
		rc = get_field(o, &fields[i], r, err, errlen);
	if (!rc && !(rc = sl__json_member(o, "reason", "reason", &v, err, errlen)))
		rc = sl__json_string(v, "reason", r->reason, sizeof(r->reason), err, errlen);
	if (!rc && !(rc = sl__json_member(o, "spec", "spec", &v, err, errlen))) {
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
