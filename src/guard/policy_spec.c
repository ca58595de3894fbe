/* policy_spec.c: the Rule of Two configuration: strict JSON, tool lookup, names, and the
 * evidence helpers shared by the policy files.
 * Invariants: a policy's tools are sorted by name with no duplicate, each name 1..128 bytes
 * without NUL, at most SL_AGENT_MAX_TOOLS; from_json writes *out only on success. Defaults:
 * policy remove, user_is_untrusted false, unknown_tools all three (an undeclared tool might do
 * anything, so it counts as the worst case until it is declared). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy-int.h"

static const char *const prop_names[] = {"untrusted_input", "private_data", "external_comm"};
static const char *const prop_words[] = {"untrusted input", "private data", "external communication"};

const char *sl_agent_prop_name(unsigned bit)
{
	return bit == SL_AGENT_A ? prop_names[0] : bit == SL_AGENT_B ? prop_names[1] : bit == SL_AGENT_C ? prop_names[2] : NULL;
}

const char *sl_agent_mode_name(enum sl_agent_mode m)
{
	static const char *const names[] = {"remove", "block", "flag"};
	return (unsigned)m < 3 ? names[m] : "unknown";
}

const char *sl_agent_verdict_name(enum sl_agent_verdict v)
{
	static const char *const names[] = {"allow", "flag", "remove", "block"};
	return (unsigned)v < 4 ? names[v] : "unknown";
}

void sl_agent_policy_defaults(struct sl_agent_policy *p)
{
	memset(p, 0, sizeof(*p));
	p->mode = SL_AGENT_REMOVE;
	p->unknown_confers = SL_AGENT_ALL;
}

void sl_agent_policy_free(struct sl_agent_policy *p)
{
	if (!p)
		return;
	free(p->tools);
	p->tools = NULL;
	p->ntools = 0;
}

static int cmp_tool(const void *a, const void *b)
{
	return strcmp(((const struct sl_agent_tool *)a)->name, ((const struct sl_agent_tool *)b)->name);
}

unsigned sl_agent_policy_confers(const struct sl_agent_policy *p, const char *name, size_t len, bool *known)
{
	struct sl_agent_tool key;
	const struct sl_agent_tool *t = NULL;
	if (len <= SL_AGENT_NAME_MAX && !memchr(name, '\0', len)) {
		memcpy(key.name, name, len);
		key.name[len] = '\0';
		t = p->ntools ? bsearch(&key, p->tools, p->ntools, sizeof(key), cmp_tool) : NULL;
	}
	if (known)
		*known = t != NULL;
	return t ? t->confers : p->unknown_confers;
}

/* ---- JSON ---- */

static int confers_from_json(struct json_object *o, const char *field, unsigned *out, char *err, size_t errlen)
{
	if (!json_object_is_type(o, json_type_array))
		return sl__rerr(err, errlen, "%s: must be an array", field);
	unsigned bits = 0;
	for (size_t i = 0; i < json_object_array_length(o); i++) {
		struct json_object *v = json_object_array_get_idx(o, i);
		unsigned k = 0;
		while (k < 3 && !(json_object_is_type(v, json_type_string) && strcmp(json_object_get_string(v), prop_names[k]) == 0))
			k++;
		if (k == 3)
			return sl__rerr(err, errlen, "%s[%zu]: must be untrusted_input, private_data or external_comm", field, i);
		bits |= 1u << k;
	}
	*out = bits;
	return 0;
}

static int tool_from_json(struct json_object *o, unsigned i, void *elem, char *err, size_t errlen)
{
	static const char *const keys[] = {"name", "confers", NULL};
	struct sl_agent_tool *t = elem;
	struct json_object *v;
	char f[64];
	snprintf(f, sizeof(f), "tools[%u]", i);
	if (!json_object_is_type(o, json_type_object))
		return sl__rerr(err, errlen, "%s: must be an object", f);
	int rc = sl__json_known(o, f, keys, err, errlen);
	snprintf(f, sizeof(f), "tools[%u].name", i);
	if (!rc)
		rc = sl__json_member(o, "name", f, &v, err, errlen);
	if (!rc && (!json_object_is_type(v, json_type_string) || json_object_get_string_len(v) < 1 ||
	            json_object_get_string_len(v) > SL_AGENT_NAME_MAX))
		rc = sl__rerr(err, errlen, "%s: must be a string of 1 to %d bytes", f, SL_AGENT_NAME_MAX);
	if (!rc)
		rc = sl__json_string(v, f, t->name, sizeof(t->name), err, errlen);
	snprintf(f, sizeof(f), "tools[%u].confers", i);
	if (!rc)
		rc = sl__json_member(o, "confers", f, &v, err, errlen);
	return rc ? rc : confers_from_json(v, f, &t->confers, err, errlen);
}

static int member_from_json(const char *key, struct json_object *v, struct sl_agent_policy *p, char *err, size_t errlen)
{
	static const char *const modes[] = {"remove", "block", "flag"};
	if (strcmp(key, "policy") == 0) {
		for (int m = 0; m < 3; m++)
			if (json_object_is_type(v, json_type_string) && strcmp(json_object_get_string(v), modes[m]) == 0) {
				p->mode = (enum sl_agent_mode)m;
				return 0;
			}
		return sl__rerr(err, errlen, "policy: must be remove, block or flag");
	}
	if (strcmp(key, "user_is_untrusted") == 0)
		return sl__json_bool(v, key, &p->user_is_untrusted, err, errlen);
	if (strcmp(key, "unknown_tools") == 0)
		return confers_from_json(v, key, &p->unknown_confers, err, errlen);
	if (strcmp(key, "tools") == 0) {
		size_t n = json_object_is_type(v, json_type_array) ? json_object_array_length(v) : 0;
		free(p->tools);
		p->tools = calloc(n ? n : 1, sizeof(*p->tools));
		if (!p->tools)
			return SL_ENOMEM;
		return sl__json_array_get(v, key, 0, SL_AGENT_MAX_TOOLS, p->tools, sizeof(*p->tools), &p->ntools,
		                          tool_from_json, err, errlen);
	}
	return sl__rerr(err, errlen, "%s: unknown field", key);
}

static int check_unique(const struct sl_agent_policy *p, char *err, size_t errlen)
{
	for (unsigned i = 1; i < p->ntools; i++)
		if (strcmp(p->tools[i - 1].name, p->tools[i].name) == 0)
			return sl__rerr(err, errlen, "tools: '%s' is declared twice", p->tools[i].name);
	return 0;
}

int sl_agent_policy_from_jobj(struct json_object *o, struct sl_agent_policy *out, char *err, size_t errlen)
{
	struct sl_agent_policy p;
	sl_agent_policy_defaults(&p);
	if (!json_object_is_type(o, json_type_object))
		return sl__rerr(err, errlen, "agent policy: must be a JSON object");
	int rc = 0;
	json_object_object_foreach(o, key, v)
	{
		if ((rc = member_from_json(key, v, &p, err, errlen)))
			break;
	}
	if (!rc && p.ntools) {
		qsort(p.tools, p.ntools, sizeof(*p.tools), cmp_tool);
		rc = check_unique(&p, err, errlen);
	}
	if (rc)
		sl_agent_policy_free(&p);
	else
		*out = p;
	return rc;
}

int sl_agent_policy_from_json(const char *json, struct sl_agent_policy *out, char *err, size_t errlen)
{
	struct json_object *o = NULL;
	int rc = sl__json_parse(json, &o, err, errlen);
	if (rc == 0)
		rc = sl_agent_policy_from_jobj(o, out, err, errlen);
	json_object_put(o);
	return rc;
}

/* ---- evidence ---- */

void sl__agent_note(struct sl_agent_session *s, unsigned confers, enum sl_agent_how how, int message,
                    const char *what, const char *tool, size_t toollen, bool exercised)
{
	for (unsigned k = 0; k < 3; k++) {
		unsigned bit = 1u << k;
		if (!(confers & bit))
			continue;
		if (exercised)
			s->exercised |= bit;
		if (s->held & bit)
			continue;
		s->held |= bit;
		struct sl_agent_evidence *e = &s->why[k];
		e->how = how;
		e->message = message;
		e->what = what;
		size_t n = toollen < SL_AGENT_NAME_MAX ? toollen : SL_AGENT_NAME_MAX;
		memcpy(e->tool, tool ? tool : "", tool ? n : 0);
		e->tool[tool ? n : 0] = '\0';
	}
}

static int describe_one(const struct sl_agent_evidence *e, struct sl_buf *b)
{
	switch (e->how) {
	case SL_AGENT_MESSAGE:
		return *e->tool ? sl_buf_printf(b, "messages[%d]: %s of %s", e->message, e->what, e->tool)
		                : sl_buf_printf(b, "messages[%d]: %s", e->message, e->what);
	case SL_AGENT_OFFERED:
		return sl_buf_printf(b, "tool %s offered", e->tool);
	case SL_AGENT_CALLED:
		return sl_buf_printf(b, "tool %s called in messages[%d]", e->tool, e->message);
	default:
		return sl_buf_puts(b, "no evidence");
	}
}

int sl__agent_describe(const struct sl_agent_session *s, unsigned bits, struct sl_buf *b)
{
	int rc = 0;
	bool first = true;
	for (unsigned k = 0; !rc && k < 3; k++) {
		if (!(bits & (1u << k)))
			continue;
		rc = sl_buf_printf(b, "%s%s (", first ? "" : ", ", prop_words[k]);
		if (!rc)
			rc = describe_one(&s->why[k], b);
		if (!rc)
			rc = sl_buf_puts(b, ")");
		first = false;
	}
	return rc;
}

int sl__agent_bits(unsigned bits, struct sl_buf *b)
{
	int rc = 0;
	bool first = true;
	for (unsigned k = 0; !rc && k < 3; k++)
		if (bits & (1u << k)) {
			rc = sl_buf_printf(b, "%s%s", first ? "" : ", ", prop_words[k]);
			first = false;
		}
	return rc;
}

void sl__agent_copy(char *dst, size_t cap, const struct sl_buf *b)
{
	size_t n = b->len < cap ? b->len : cap - 1;
	memcpy(dst, b->data ? b->data : "", n);
	dst[n] = '\0';
	if (b->len >= cap && cap > 4)
		memcpy(dst + cap - 4, "...", 3);
}

int sl__agent_call_name(struct json_object *call, bool legacy, const char *where, const char **name, size_t *len,
                        char *err, size_t errlen)
{
	struct json_object *fn = call, *v = NULL;
	const char *inner = "function";
	if (!json_object_is_type(call, json_type_object))
		return sl__rerr(err, errlen, "%s: must be an object", where);
	if (!legacy) {
		if (json_object_object_get_ex(call, "type", &v) && json_object_is_type(v, json_type_string) &&
		    strcmp(json_object_get_string(v), "custom") == 0)
			inner = "custom";
		if (!json_object_object_get_ex(call, inner, &fn) || !json_object_is_type(fn, json_type_object))
			return sl__rerr(err, errlen, "%s.%s: must be an object", where, inner);
	}
	if (!json_object_object_get_ex(fn, "name", &v))
		return legacy ? sl__rerr(err, errlen, "%s.name: missing", where)
		              : sl__rerr(err, errlen, "%s.%s.name: missing", where, inner);
	if (!json_object_is_type(v, json_type_string) || json_object_get_string_len(v) == 0)
		return legacy ? sl__rerr(err, errlen, "%s.name: must be a non-empty string", where)
		              : sl__rerr(err, errlen, "%s.%s.name: must be a non-empty string", where, inner);
	*name = json_object_get_string(v);
	*len = (size_t)json_object_get_string_len(v);
	return 0;
}
