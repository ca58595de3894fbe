/* experiments_body.c: a variant's changes to a request body before it is forwarded: its
 * `params` object merged at the top level (each member replaces the request's), and its
 * `system_prompt` replacing the content of the first message when that one is a system message,
 * else inserted as a new first message. Requests without `messages` (completions, embeddings)
 * take only the params.
 * Invariants: the params text was validated as a JSON object by the spec parser (never "model"
 * or "messages"); on failure the body is left as it was as far as it got and SL_ENOMEM or
 * SL_EPARSE is returned, so the caller can refuse the request rather than send a half change. */
#include <string.h>

#include "proxy/experiments-int.h"

static int merge_params(const char *params, struct json_object *root)
{
	struct json_object *p = json_tokener_parse(params);
	if (!p || !json_object_is_type(p, json_type_object)) {
		json_object_put(p);
		return SL_EPARSE;
	}
	int rc = 0;
	json_object_object_foreach(p, key, val)
	{
		if (json_object_object_add(root, key, json_object_get(val)) != 0) {
			json_object_put(val);
			rc = SL_ENOMEM;
			break;
		}
	}
	json_object_put(p); /* the members added live on in root */
	return rc;
}

static bool is_system(struct json_object *msg)
{
	struct json_object *role;
	return json_object_is_type(msg, json_type_object) && json_object_object_get_ex(msg, "role", &role) &&
	       json_object_is_type(role, json_type_string) && strcmp(json_object_get_string(role), "system") == 0;
}

/* A new array: {"role":"system","content":prompt} then every message of old. */
static int prepend_system(struct json_object *root, struct json_object *old, const char *prompt)
{
	struct json_object *arr = json_object_new_array(), *msg = json_object_new_object();
	struct json_object *role = json_object_new_string("system"), *content = json_object_new_string(prompt);
	int rc = arr && msg && role && content ? 0 : SL_ENOMEM;
	if (!rc) {
		json_object_object_add(msg, "role", role);
		json_object_object_add(msg, "content", content);
		role = content = NULL;
		rc = json_object_array_add(arr, msg) == 0 ? 0 : SL_ENOMEM;
		msg = rc ? msg : NULL;
	}
	for (size_t i = 0; !rc && i < json_object_array_length(old); i++)
		if (json_object_array_add(arr, json_object_get(json_object_array_get_idx(old, i))) != 0)
			rc = SL_ENOMEM;
	if (!rc && json_object_object_add(root, "messages", arr) == 0)
		return 0;
	json_object_put(role);
	json_object_put(content);
	json_object_put(msg);
	json_object_put(arr);
	return SL_ENOMEM;
}

static int set_system(struct json_object *root, const char *prompt)
{
	struct json_object *msgs;
	if (!json_object_object_get_ex(root, "messages", &msgs) || !json_object_is_type(msgs, json_type_array))
		return 0;
	struct json_object *first = json_object_array_length(msgs) ? json_object_array_get_idx(msgs, 0) : NULL;
	if (!first || !is_system(first))
		return prepend_system(root, msgs, prompt);
	struct json_object *content = json_object_new_string(prompt);
	return content && json_object_object_add(first, "content", content) == 0 ? 0 : SL_ENOMEM;
}

int sl_xgw_apply(const struct sl_exp_variant *v, struct json_object *root)
{
	int rc = v->params ? merge_params(v->params, root) : 0;
	return rc || !v->system_prompt ? rc : set_system(root, v->system_prompt);
}
