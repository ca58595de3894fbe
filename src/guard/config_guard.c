/* config_guard.c: the `guard:` section (input, output, agents), checked and resolved per model.
 * Each part is parsed by its own module's strict parser; this file only splits the section,
 * overlays a model's parts on the top-level ones, and prefixes errors with the part's name.
 * Invariant: *out is written only on success, and then owns the agents' tool table. */
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "sluice/guard_config.h"

static const char *const parts[] = {"input", "output", "agents"};

static int fail(int rc, char *err, size_t errlen, const char *fmt, const char *a, const char *b)
{
	snprintf(err, errlen, fmt, a, b);
	return rc;
}

static int parse_object(const char *json, struct json_object **out, char *err, size_t errlen)
{
	enum json_tokener_error jerr;
	*out = json_tokener_parse_verbose(json, &jerr);
	if (!*out)
		return fail(SL_EPARSE, err, errlen, "%s%s", "invalid JSON: ", json_tokener_error_desc(jerr));
	if (!json_object_is_type(*out, json_type_object)) {
		json_object_put(*out);
		*out = NULL;
		return fail(SL_EINVAL, err, errlen, "%s%s", "must be a mapping with input, output or agents", "");
	}
	json_object_object_foreach(*out, key, v)
	{
		(void)v;
		size_t i = 0;
		while (i < 3 && strcmp(key, parts[i]) != 0)
			i++;
		if (i == 3) {
			fail(SL_EINVAL, err, errlen, "%s: unknown field (expected %s)", key, "input, output or agents");
			json_object_put(*out);
			*out = NULL;
			return SL_EINVAL;
		}
	}
	return 0;
}

/* Parses part i from v (an object) into c; errors become "PART.reason". */
static int parse_part(size_t i, struct json_object *v, struct sl_guard_config *c, char *err, size_t errlen)
{
	char sub[256];
	int rc;
	if (i == 0)
		rc = sl_guard_input_spec_from_json(json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN), &c->input, sub,
						   sizeof(sub));
	else if (i == 1)
		rc = sl_guard_output_spec_from_jobj(v, &c->output, sub, sizeof(sub));
	else
		rc = sl_agent_policy_from_jobj(v, &c->agents, sub, sizeof(sub));
	if (rc)
		return fail(rc, err, errlen, "%s.%s", parts[i], sub);
	bool *on[] = {&c->input_on, &c->output_on, &c->agents_on};
	*on[i] = true;
	return 0;
}

/* The value of part i: from the model's section when it names it, else from the top level. */
static struct json_object *pick(struct json_object *top, struct json_object *model, size_t i)
{
	struct json_object *v = NULL;
	if (model && json_object_object_get_ex(model, parts[i], &v))
		return v;
	return top && json_object_object_get_ex(top, parts[i], &v) ? v : NULL;
}

static int resolve(struct json_object *top, struct json_object *model, struct sl_guard_config *c, char *err,
		   size_t errlen)
{
	memset(c, 0, sizeof(*c));
	sl_guard_input_spec_defaults(&c->input);
	sl_guard_output_spec_defaults(&c->output);
	sl_agent_policy_defaults(&c->agents);
	for (size_t i = 0; i < 3; i++) {
		struct json_object *v = pick(top, model, i);
		if (!v || (json_object_is_type(v, json_type_boolean) && !json_object_get_boolean(v)))
			continue;
		int rc = json_object_is_type(v, json_type_object)
				 ? parse_part(i, v, c, err, errlen)
				 : fail(SL_EINVAL, err, errlen, "%s: %s", parts[i], "must be a mapping, or false to switch it off");
		if (rc) {
			sl_guard_config_release(c);
			return rc;
		}
	}
	return 0;
}

int sl_guard_config_resolve(const char *top, const char *model, struct sl_guard_config *out, char *err,
			    size_t errlen)
{
	struct json_object *t = NULL, *m = NULL;
	struct sl_guard_config c;
	int rc = parse_object(top, &t, err, errlen);
	if (!rc)
		rc = parse_object(model, &m, err, errlen);
	if (!rc)
		rc = resolve(t, m, &c, err, errlen);
	json_object_put(t);
	json_object_put(m);
	if (!rc)
		*out = c;
	return rc;
}

int sl_guard_config_check(const char *json, char *err, size_t errlen)
{
	struct sl_guard_config c;
	int rc = sl_guard_config_resolve(json, "{}", &c, err, errlen);
	if (!rc)
		sl_guard_config_release(&c);
	return rc;
}

void sl_guard_config_release(struct sl_guard_config *c)
{
	sl_agent_policy_free(&c->agents);
	c->agents_on = false;
}

bool sl_guard_config_any(const struct sl_guard_config *c)
{
	return c->input_on || c->output_on || c->agents_on;
}
