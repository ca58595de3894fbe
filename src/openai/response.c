/* response.c: OpenAI-shaped error bodies and what a response says about usage and finish. */
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "sluice/openai.h"

int sl_oai_error(struct sl_buf *out, const char *type, const char *code, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	int rc = sl_buf_puts(out, "{\"error\":{\"message\":");
	rc = rc ? rc : sl_buf_json_str(out, msg, strlen(msg));
	rc = rc ? rc : sl_buf_puts(out, ",\"type\":");
	rc = rc ? rc : sl_buf_json_str(out, type, strlen(type));
	rc = rc ? rc : sl_buf_puts(out, ",\"param\":null,\"code\":");
	rc = rc ? rc : (code ? sl_buf_json_str(out, code, strlen(code)) : sl_buf_puts(out, "null"));
	return rc ? rc : sl_buf_puts(out, "}}");
}

void sl_oai_usage_init(struct sl_oai_usage *u)
{
	memset(u, 0, sizeof(*u));
	u->prompt_tokens = u->completion_tokens = -1;
}

static long int_field(struct json_object *obj, const char *name)
{
	struct json_object *v;
	if (!json_object_object_get_ex(obj, name, &v) || !json_object_is_type(v, json_type_int))
		return -1;
	int64_t n = json_object_get_int64(v);
	return n < 0 ? -1 : (long)n;
}

static bool nonempty(struct json_object *obj, const char *name)
{
	struct json_object *v;
	if (!json_object_object_get_ex(obj, name, &v) || !v)
		return false;
	if (json_object_is_type(v, json_type_string))
		return json_object_get_string_len(v) > 0;
	if (json_object_is_type(v, json_type_array))
		return json_object_array_length(v) > 0;
	return !json_object_is_type(v, json_type_null);
}

static void scan_choice(struct sl_oai_usage *u, struct json_object *choice)
{
	struct json_object *fr, *delta;
	if (json_object_object_get_ex(choice, "finish_reason", &fr) && json_object_is_type(fr, json_type_string)) {
		snprintf(u->finish_reason, sizeof(u->finish_reason), "%s", json_object_get_string(fr));
		if (strcmp(u->finish_reason, "content_filter") == 0)
			u->refused = true;
	}
	if (nonempty(choice, "text"))
		u->saw_content = true;
	if ((json_object_object_get_ex(choice, "delta", &delta) || json_object_object_get_ex(choice, "message", &delta)) &&
	    json_object_is_type(delta, json_type_object)) {
		if (nonempty(delta, "refusal"))
			u->refused = u->saw_content = true;
		else if (nonempty(delta, "content") || nonempty(delta, "tool_calls") || nonempty(delta, "function_call"))
			u->saw_content = true;
	}
}

bool sl_oai_usage_scan(struct sl_oai_usage *u, struct json_object *obj)
{
	struct json_object *usage = NULL, *choices = NULL, *data = NULL;
	if (!json_object_is_type(obj, json_type_object))
		return false;
	bool has_usage = json_object_object_get_ex(obj, "usage", &usage) && json_object_is_type(usage, json_type_object);
	if (has_usage) {
		long p = int_field(usage, "prompt_tokens"), c = int_field(usage, "completion_tokens");
		if (p >= 0)
			u->prompt_tokens = p;
		if (c >= 0)
			u->completion_tokens = c;
	}
	size_t nchoices = 0;
	if (json_object_object_get_ex(obj, "choices", &choices) && json_object_is_type(choices, json_type_array)) {
		nchoices = json_object_array_length(choices);
		for (size_t i = 0; i < nchoices; i++)
			scan_choice(u, json_object_array_get_idx(choices, i));
	}
	if (json_object_object_get_ex(obj, "data", &data) && json_object_is_type(data, json_type_array) &&
	    json_object_array_length(data) > 0)
		u->saw_content = true; /* embeddings */
	return has_usage && choices && nchoices == 0;
}
