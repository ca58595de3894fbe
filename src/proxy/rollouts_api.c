/* rollouts_api.c: the JSON of the admin API's rollout endpoints (see rollouts.h and README).
 * A rollout is rendered the same way whether it is active (from memory) or finished (from the
 * store): id, model, versions, the state machine's fields, timestamps and the latest judgment. */
#include <json-c/json.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "proxy/proxy.h"
#include "proxy/rollouts.h"
#include "rollouts-int.h"
#include "core/json-int.h"
#include "sluice/openai.h"

static int str_field(struct sl_buf *out, const char *name, const char *v)
{
	int rc = sl_buf_printf(out, ",\"%s\":", name);
	return rc ? rc : sl_buf_json_str(out, v, strlen(v));
}

/* One rollout object; last_judgment is raw JSON or NULL. */
static int render(struct sl_buf *out, const struct sl_rt_view *v)
{
	const struct sl_rollout *r = v->r;
	int rc = sl_buf_printf(out, "{\"id\":%lld", (long long)v->id);
	rc = rc ? rc : str_field(out, "model", v->model);
	rc = rc ? rc : str_field(out, "stable", v->stable);
	rc = rc ? rc : str_field(out, "candidate", v->candidate);
	rc = rc ? rc : str_field(out, "state", sl_rollout_state_name(r->state));
	rc = rc ? rc
		: sl_buf_printf(out, ",\"step\":%u,\"steps\":%u,\"share\":%.6g,\"shadow_share\":%.6g,\"failures\":%u,"
				     "\"consecutive_failures\":%u,\"judgment_count\":%u",
				r->step, r->spec.nsteps, r->share, r->shadow_share, r->failures,
				r->consecutive_failures, r->judgments);
	rc = rc ? rc : str_field(out, "reason", r->reason);
	rc = rc ? rc : sl_buf_puts(out, ",\"created_at\":");
	rc = rc ? rc : sl__json_num(out, v->created_at);
	rc = rc ? rc : sl_buf_puts(out, ",\"updated_at\":");
	rc = rc ? rc : sl__json_num(out, v->updated_at);
	rc = rc ? rc : sl_buf_puts(out, ",\"ended_at\":");
	rc = rc ? rc : sl__json_num(out, v->ended_at);
	rc = rc ? rc : sl_buf_puts(out, ",\"last_judgment\":");
	rc = rc ? rc : sl_buf_puts(out, v->last_judgment ? v->last_judgment : "null");
	return rc ? rc : sl_buf_puts(out, "}");
}

int sl_rollouts_render(struct sl_buf *out, const struct sl_rt_view *v)
{
	return render(out, v);
}

void sl_rollouts_api_list(const char *model, int limit, struct sl_buf *out, int *status)
{
	int rc = sl_buf_puts(out, "{\"rollouts\":[");
	rc = rc ? rc : sl_rollouts_each(model, limit, out);
	rc = rc ? rc : sl_buf_puts(out, "]}");
	*status = 200;
	if (rc)
		sl_api_error(out, status, 500, "internal_error", "cannot list rollouts");
}

void sl_rollouts_api_get(const char *ref, struct sl_buf *out, int *status)
{
	int rc = sl_rollouts_detail(ref, out);
	*status = 200;
	if (rc == SL_ENOTFOUND)
		sl_api_error(out, status, 404, "rollout_not_found", "no rollout '%s' (give an id or a model name)", ref);
	else if (rc)
		sl_api_error(out, status, 500, "internal_error", "cannot read rollout '%s'", ref);
}

/* Merges request spec fields over the model's configured rollout section. */
static int merged_spec(const char *model_json, struct json_object *req_spec, struct sl_rollout_spec *spec, char *err,
		       size_t errlen)
{
	struct json_object *base = json_tokener_parse(model_json ? model_json : "{}");
	if (!base)
		return SL_ENOMEM;
	if (req_spec) {
		json_object_object_foreach(req_spec, key, val) json_object_object_add(base, key, json_object_get(val));
	}
	int rc = sl_rollout_spec_from_jobj(base, spec, err, errlen);
	json_object_put(base);
	return rc;
}

static const char *get_str(struct json_object *o, const char *k)
{
	struct json_object *v;
	return json_object_object_get_ex(o, k, &v) && json_object_is_type(v, json_type_string) ? json_object_get_string(v)
											       : NULL;
}

void sl_rollouts_api_start(const char *body, size_t len, struct sl_buf *out, int *status)
{
	char err[300];
	struct json_tokener *tok = json_tokener_new();
	struct json_object *o = tok ? json_tokener_parse_ex(tok, body, (int)len) : NULL, *spec_obj = NULL;
	if (tok)
		json_tokener_free(tok);
	if (!o || !json_object_is_type(o, json_type_object)) {
		if (o)
			json_object_put(o);
		return sl_api_error(out, status, 400, "invalid_json", "the body must be a JSON object");
	}
	const char *model = get_str(o, "model"), *cand = get_str(o, "candidate"), *stable = get_str(o, "stable");
	json_object_object_foreach(o, key, val)
	{
		(void)val;
		if (strcmp(key, "model") && strcmp(key, "candidate") && strcmp(key, "stable") && strcmp(key, "spec")) {
			sl_api_error(out, status, 400, "invalid_request", "unknown field '%s'", key);
			return (void)json_object_put(o);
		}
	}
	json_object_object_get_ex(o, "spec", &spec_obj);
	if (!model || !cand || (spec_obj && !json_object_is_type(spec_obj, json_type_object))) {
		json_object_put(o);
		return sl_api_error(out, status, 400, "invalid_request",
				 "'model' and 'candidate' are required strings; 'spec' must be an object");
	}
	struct sl_rollout_spec spec;
	int rc = merged_spec(sl_rollouts_model_json(model), spec_obj, &spec, err, sizeof(err));
	if (rc) {
		json_object_put(o);
		return sl_api_error(out, status, 400, "invalid_spec", "spec: %s", err);
	}
	rc = sl_rollouts_begin(model, stable, cand, &spec, out, err, sizeof(err));
	json_object_put(o);
	*status = 201;
	if (rc == SL_ENOTFOUND)
		sl_api_error(out, status, 404, "not_found", "%s", err);
	else if (rc == SL_ESTATE)
		sl_api_error(out, status, 409, "conflict", "%s", err);
	else if (rc)
		sl_api_error(out, status, rc == SL_EINVAL ? 400 : 500, "invalid_request", "%s", err);
}

void sl_rollouts_api_action(const char *ref, const char *action, struct sl_buf *out, int *status)
{
	char err[300];
	enum sl_rollout_action a;
	if (sl_rollout_action_parse(action, &a) != 0 || a == SL_ACTION_NONE)
		return sl_api_error(out, status, 404, "unknown_action",
				 "unknown action '%s': pause, resume, approve, promote, rollback or abort", action);
	int rc = sl_rollouts_act(ref, a, out, err, sizeof(err));
	*status = 200;
	if (rc == SL_ENOTFOUND)
		sl_api_error(out, status, 404, "rollout_not_found", "%s", err);
	else if (rc == SL_ESTATE)
		sl_api_error(out, status, 409, "conflict", "%s", err);
	else if (rc)
		sl_api_error(out, status, 500, "internal_error", "%s", err);
}

void sl_rollouts_api_status(struct sl_buf *out, int *status)
{
	struct sl_routes_ref *ref = sl_routes_hold();
	const struct sl_route_table *t = ref->table;
	int rc = sl_buf_puts(out, "{\"models\":[");
	for (size_t i = 0; !rc && i < t->nmodels; i++) {
		const struct sl_route_model *m = &t->models[i];
		rc = sl_buf_puts(out, i ? ",{\"name\":" : "{\"name\":");
		rc = rc ? rc : sl_buf_json_str(out, m->name, strlen(m->name));
		rc = rc ? rc : sl_buf_puts(out, ",\"versions\":[");
		for (size_t j = 0; !rc && j < m->nversions; j++) {
			rc = sl_buf_puts(out, j ? ",{\"name\":" : "{\"name\":");
			rc = rc ? rc : sl_buf_json_str(out, m->versions[j].name, strlen(m->versions[j].name));
			rc = rc ? rc : sl_buf_printf(out, ",\"weight\":%.6g}", m->versions[j].weight);
		}
		rc = rc ? rc : sl_buf_puts(out, "],\"rollout\":");
		rc = rc ? rc : sl_rollouts_current(m->name, out);
		rc = rc ? rc : sl_buf_puts(out, "}");
	}
	rc = rc ? rc : sl_buf_puts(out, "]}");
	sl_routes_release(ref);
	*status = 200;
	if (rc)
		sl_api_error(out, status, 500, "internal_error", "cannot render the status");
}
