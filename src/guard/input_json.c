/* input_json.c: the `input` part of the guard configuration as JSON (the lead turns YAML into
 * JSON): action, threshold, rules_file, model_file, indirect_model_file, scan_trusted, memo_bytes.
 * Invariants: strict (unknown
 * keys, wrong types and out-of-range values are refused with an error naming the key); starts
 * from the defaults; *out is written only on success. Reuses core's strict JSON helpers (src/core/json_util.c). */
#include <string.h>

#include "../core/json-int.h"
#include "guard-int.h"

void sl_guard_input_spec_defaults(struct sl_guard_input_spec *s)
{
	memset(s, 0, sizeof(*s));
	s->action = SL_GUARD_FLAG;
	s->threshold = SL_GUARD_DEFAULT_THRESHOLD;
	s->memo_bytes = SL_GUARD_MEMO_DEFAULT;
}

static int member(const char *key, struct json_object *v, struct sl_guard_input_spec *s, char *err, size_t errlen)
{
	if (strcmp(key, "action") == 0)
		return json_object_is_type(v, json_type_string) &&
		               sl_guard_action_parse(json_object_get_string(v), &s->action) == 0
		           ? 0
		           : sl__gerr(SL_EINVAL, err, errlen, "action: must be allow, flag, block or sanitize");
	if (strcmp(key, "threshold") == 0) {
		double t = -1;
		if (json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double))
			t = json_object_get_double(v);
		if (!(t >= 0 && t <= 1))
			return sl__gerr(SL_EINVAL, err, errlen, "threshold: must be a number in [0, 1]");
		s->threshold = t;
		return 0;
	}
	if (strcmp(key, "rules_file") == 0)
		return sl__json_string(v, key, s->rules_file, sizeof(s->rules_file), err, errlen);
	if (strcmp(key, "model_file") == 0)
		return sl__json_string(v, key, s->model_file, sizeof(s->model_file), err, errlen);
	if (strcmp(key, "indirect_model_file") == 0)
		return sl__json_string(v, key, s->indirect_model_file, sizeof(s->indirect_model_file), err, errlen);
	if (strcmp(key, "scan_trusted") == 0)
		return sl__json_bool(v, key, &s->scan_trusted, err, errlen);
	if (strcmp(key, "memo_bytes") == 0) {
		uint64_t n;
		if (!json_object_is_type(v, json_type_int) ||
		    sl__json_u64(v, key, SL_GUARD_MEMO_MAX, &n, NULL, 0) != 0 || (n && n < SL_GUARD_MEMO_MIN))
			return sl__gerr(SL_EINVAL, err, errlen, "memo_bytes: must be 0 (no memo) or an integer in [%zu, %zu]",
			                SL_GUARD_MEMO_MIN, SL_GUARD_MEMO_MAX);
		s->memo_bytes = n;
		return 0;
	}
	return sl__gerr(SL_EINVAL, err, errlen, "%s: unknown field (expected action, threshold, rules_file, model_file, "
	                                        "indirect_model_file, scan_trusted or memo_bytes)",
	                key);
}

int sl_guard_input_spec_from_json(const char *json, struct sl_guard_input_spec *out, char *err, size_t errlen)
{
	struct json_object *o = NULL;
	struct sl_guard_input_spec s;
	sl_guard_input_spec_defaults(&s);
	int rc = sl__json_parse(json, &o, err, errlen);
	if (!rc && !json_object_is_type(o, json_type_object))
		rc = sl__gerr(SL_EINVAL, err, errlen, "input: must be a JSON object");
	if (!rc) {
		json_object_object_foreach(o, key, v)
		{
			if ((rc = member(key, v, &s, err, errlen)))
				break;
		}
	}
	json_object_put(o);
	if (!rc)
		*out = s;
	return rc;
}

int sl_guard_input_spec_to_json(const struct sl_guard_input_spec *s, struct sl_buf *b)
{
	int rc = sl_buf_printf(b, "{\"action\":\"%s\",\"threshold\":", sl_guard_action_name(s->action));
	if (!rc)
		rc = sl__json_num(b, s->threshold);
	if (!rc)
		rc = sl__json_str_field(b, "rules_file", s->rules_file, sizeof(s->rules_file));
	if (!rc)
		rc = sl__json_str_field(b, "model_file", s->model_file, sizeof(s->model_file));
	if (!rc)
		rc = sl__json_str_field(b, "indirect_model_file", s->indirect_model_file, sizeof(s->indirect_model_file));
	return rc ? rc
	          : sl_buf_printf(b, ",\"scan_trusted\":%s,\"memo_bytes\":%llu}", s->scan_trusted ? "true" : "false",
	                          (unsigned long long)s->memo_bytes);
}
