/* request.c: strict parsing of an OpenAI request body and its rewrite for the chosen version.
 * json-c keeps the original text of numbers, so a rewrite changes only what it must. */
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "sluice/openai.h"

static struct sl_slice string_field(struct json_object *root, const char *name, bool *present, bool *is_string)
{
	struct json_object *v = NULL;
	*present = json_object_object_get_ex(root, name, &v);
	*is_string = *present && json_object_is_type(v, json_type_string);
	if (!*is_string)
		return (struct sl_slice){NULL, 0};
	return sl_slice_make(json_object_get_string(v), (size_t)json_object_get_string_len(v));
}

static bool bool_field(struct json_object *obj, const char *name)
{
	struct json_object *v = NULL;
	return obj && json_object_object_get_ex(obj, name, &v) && json_object_is_type(v, json_type_boolean) &&
	       json_object_get_boolean(v);
}

int sl_oai_request_parse(struct sl_oai_request *r, struct json_tokener *tok, const char *body, size_t len,
			 const char *sticky_field, char *err, size_t errlen)
{
	memset(r, 0, sizeof(*r));
	json_tokener_reset(tok);
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	r->root = len ? json_tokener_parse_ex(tok, body, (int)len) : NULL;
	if (!r->root || json_tokener_get_parse_end(tok) != len) {
		enum json_tokener_error e = json_tokener_get_error(tok);
		snprintf(err, errlen, "request body is not valid JSON: %s",
			 len == 0 ? "empty body"
			 : e == json_tokener_continue || e == json_tokener_success ? "unexpected end or trailing data"
										    : json_tokener_error_desc(e));
		sl_oai_request_release(r);
		return SL_EPARSE;
	}
	if (!json_object_is_type(r->root, json_type_object)) {
		snprintf(err, errlen, "request body must be a JSON object");
		sl_oai_request_release(r);
		return SL_EINVAL;
	}
	bool present, is_string;
	r->model = string_field(r->root, "model", &present, &is_string);
	if (!is_string || r->model.len == 0) {
		snprintf(err, errlen, present ? "'model' must be a non-empty string" : "'model' is required");
		sl_oai_request_release(r);
		return SL_EINVAL;
	}
	r->user = string_field(r->root, sticky_field, &present, &is_string);
	r->stream = bool_field(r->root, "stream");
	struct json_object *opts = NULL;
	json_object_object_get_ex(r->root, "stream_options", &opts);
	r->client_wants_usage = bool_field(opts, "include_usage");
	return 0;
}

void sl_oai_request_release(struct sl_oai_request *r)
{
	if (r->root)
		json_object_put(r->root);
	memset(r, 0, sizeof(*r));
}

int sl_oai_request_rewrite(struct sl_oai_request *r, const char *upstream_model, struct sl_buf *out)
{
	struct json_object *m = json_object_new_string(upstream_model);
	if (!m || json_object_object_add(r->root, "model", m))
		return SL_ENOMEM;
	r->model = sl_slice_make(json_object_get_string(m), strlen(upstream_model));
	if (r->stream && !r->client_wants_usage) {
		struct json_object *opts = NULL;
		if (!json_object_object_get_ex(r->root, "stream_options", &opts) ||
		    !json_object_is_type(opts, json_type_object)) {
			opts = json_object_new_object();
			if (!opts || json_object_object_add(r->root, "stream_options", opts))
				return SL_ENOMEM;
		}
		if (json_object_object_add(opts, "include_usage", json_object_new_boolean(1)))
			return SL_ENOMEM;
	}
	size_t n;
	const char *s = json_object_to_json_string_length(
		r->root, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &n);
	return s ? sl_buf_append(out, s, n) : SL_ENOMEM;
}
