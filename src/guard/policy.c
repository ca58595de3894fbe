/* policy.c: the Rule of Two over one chat-completions request: which of A (untrusted input),
 * B (private data), C (external communication) the session holds, and why.
 *
 * Evidence, first found wins for the explanation:
 *   A  a tool result (role tool, or legacy function) unless it is attributed, by tool_call_id to
 *      the preceding assistant's tool_calls or by its name, to a declared tool that does not
 *      confer untrusted_input; a document: a message named "document" or a content part of type
 *      "file"; a user message when user_is_untrusted; an offered or called tool conferring it.
 *   B, C  an offered tool (tools[], legacy functions[]) or a tool already called (assistant
 *      tool_calls, legacy function_call) conferring it; undeclared tools confer unknown_tools.
 * Messages and past calls are "exercised": no removal can take them back. When all three hold:
 * flag, block, or remove (policy_remove.c).
 * Invariants: never writes req except through a REMOVED verdict; a malformed shape is an error
 * naming the field; work is linear in the request (a tool result looks back only to the nearest
 * assistant message with tool_calls). */
#include <stdio.h>
#include <string.h>

#include "policy-int.h"

static const char *str_member(struct json_object *o, const char *key)
{
	struct json_object *v;
	return json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_string)
	           ? json_object_get_string(v)
	           : NULL;
}

/* Past calls of an assistant message: tool_calls[] and legacy function_call. */
static int note_calls(const struct sl_agent_policy *p, struct json_object *m, int i, struct sl_agent_session *s,
                      char *err, size_t errlen)
{
	struct json_object *calls, *fc;
	char where[80];
	const char *name;
	size_t len;
	int rc = 0;
	if (json_object_object_get_ex(m, "tool_calls", &calls) && !json_object_is_type(calls, json_type_null)) {
		if (!json_object_is_type(calls, json_type_array))
			return sl__rerr(err, errlen, "messages[%d].tool_calls: must be an array", i);
		for (size_t k = 0; !rc && k < json_object_array_length(calls); k++) {
			snprintf(where, sizeof(where), "messages[%d].tool_calls[%zu]", i, k);
			rc = sl__agent_call_name(json_object_array_get_idx(calls, k), false, where, &name, &len, err, errlen);
			if (!rc)
				sl__agent_note(s, sl_agent_policy_confers(p, name, len, NULL), SL_AGENT_CALLED, i, "called",
				               name, len, true);
		}
	}
	if (!rc && json_object_object_get_ex(m, "function_call", &fc) && !json_object_is_type(fc, json_type_null)) {
		snprintf(where, sizeof(where), "messages[%d].function_call", i);
		rc = sl__agent_call_name(fc, true, where, &name, &len, err, errlen);
		if (!rc)
			sl__agent_note(s, sl_agent_policy_confers(p, name, len, NULL), SL_AGENT_CALLED, i, "called", name,
			               len, true);
	}
	return rc;
}

/* The name of the tool whose call has this id, in the nearest assistant message with tool_calls
 * before message i; NULL when not found. */
static const char *call_by_id(struct json_object *msgs, int i, const char *id)
{
	for (int j = i - 1; j >= 0 && id; j--) {
		struct json_object *m = json_object_array_get_idx(msgs, (size_t)j), *calls, *fn;
		if (!json_object_object_get_ex(m, "tool_calls", &calls) || !json_object_is_type(calls, json_type_array))
			continue;
		for (size_t k = 0; k < json_object_array_length(calls); k++) {
			struct json_object *c = json_object_array_get_idx(calls, k);
			const char *cid = str_member(c, "id");
			if (cid && strcmp(cid, id) == 0 && json_object_object_get_ex(c, "function", &fn))
				return str_member(fn, "name");
		}
		return NULL;
	}
	return NULL;
}

/* A tool or function result: untrusted unless its declared tool does not confer A. */
static void note_result(const struct sl_agent_policy *p, struct json_object *msgs, struct json_object *m, int i,
                        bool legacy, struct sl_agent_session *s)
{
	const char *tool = legacy ? str_member(m, "name") : call_by_id(msgs, i, str_member(m, "tool_call_id"));
	bool known = false;
	unsigned c = tool ? sl_agent_policy_confers(p, tool, strlen(tool), &known) : 0;
	if (known && !(c & SL_AGENT_A))
		return;
	sl__agent_note(s, SL_AGENT_A, SL_AGENT_MESSAGE, i, legacy ? "function result" : "tool result", tool,
	               tool ? strlen(tool) : 0, true);
}

/* A content part of type "file" makes a message a document. */
static bool has_file_part(struct json_object *m)
{
	struct json_object *content;
	if (!json_object_object_get_ex(m, "content", &content) || !json_object_is_type(content, json_type_array))
		return false;
	for (size_t k = 0; k < json_object_array_length(content); k++) {
		const char *type = str_member(json_object_array_get_idx(content, k), "type");
		if (type && strcmp(type, "file") == 0)
			return true;
	}
	return false;
}

static int note_message(const struct sl_agent_policy *p, struct json_object *msgs, int i, struct sl_agent_session *s,
                        char *err, size_t errlen)
{
	struct json_object *m = json_object_array_get_idx(msgs, (size_t)i);
	if (!json_object_is_type(m, json_type_object))
		return sl__rerr(err, errlen, "messages[%d]: must be an object", i);
	const char *role = str_member(m, "role"), *name = str_member(m, "name");
	if (!role)
		return sl__rerr(err, errlen, "messages[%d].role: must be a string", i);
	if (strcmp(role, "assistant") == 0)
		return note_calls(p, m, i, s, err, errlen);
	if (strcmp(role, "tool") == 0 || strcmp(role, "function") == 0)
		note_result(p, msgs, m, i, role[0] == 'f', s);
	else if (strcmp(role, "user") != 0 && strcmp(role, "system") != 0 && strcmp(role, "developer") != 0)
		return sl__rerr(err, errlen, "messages[%d].role: must be system, developer, user, assistant, tool or function",
		                i);
	if ((name && strcmp(name, "document") == 0) || has_file_part(m))
		sl__agent_note(s, SL_AGENT_A, SL_AGENT_MESSAGE, i, "document", NULL, 0, true);
	else if (p->user_is_untrusted && strcmp(role, "user") == 0)
		sl__agent_note(s, SL_AGENT_A, SL_AGENT_MESSAGE, i, "user message", NULL, 0, true);
	return 0;
}

/* Offered tools: tools[] (function or custom) and legacy functions[]. */
static int note_offered(const struct sl_agent_policy *p, struct json_object *req, const char *key, bool legacy,
                        struct sl_agent_session *s, char *err, size_t errlen)
{
	struct json_object *arr;
	if (!json_object_object_get_ex(req, key, &arr) || json_object_is_type(arr, json_type_null))
		return 0;
	if (!json_object_is_type(arr, json_type_array))
		return sl__rerr(err, errlen, "%s: must be an array", key);
	for (size_t k = 0; k < json_object_array_length(arr); k++) {
		char where[48];
		const char *name;
		size_t len;
		snprintf(where, sizeof(where), "%s[%zu]", key, k);
		int rc = sl__agent_call_name(json_object_array_get_idx(arr, k), legacy, where, &name, &len, err, errlen);
		if (rc)
			return rc;
		sl__agent_note(s, sl_agent_policy_confers(p, name, len, NULL), SL_AGENT_OFFERED, -1, "offered", name,
		               len, false);
	}
	return 0;
}

int sl__agent_history(const struct sl_agent_policy *p, struct json_object *req, struct sl_agent_session *s,
                      char *err, size_t errlen)
{
	struct json_object *msgs;
	memset(s, 0, sizeof(*s));
	for (int k = 0; k < 3; k++)
		s->why[k].message = -1;
	if (!json_object_is_type(req, json_type_object))
		return sl__rerr(err, errlen, "request: must be a JSON object");
	if (!json_object_object_get_ex(req, "messages", &msgs))
		return sl__rerr(err, errlen, "messages: missing");
	if (!json_object_is_type(msgs, json_type_array))
		return sl__rerr(err, errlen, "messages: must be an array");
	int n = (int)json_object_array_length(msgs), rc = 0;
	for (int i = 0; !rc && i < n; i++)
		rc = note_message(p, msgs, i, s, err, errlen);
	return rc;
}

int sl__agent_session(const struct sl_agent_policy *p, struct json_object *req, struct sl_agent_session *s,
                      char *err, size_t errlen)
{
	int rc = sl__agent_history(p, req, s, err, errlen);
	if (!rc)
		rc = note_offered(p, req, "tools", false, s, err, errlen);
	if (!rc)
		rc = note_offered(p, req, "functions", true, s, err, errlen);
	return rc;
}

void sl__agent_explain(struct sl_agent_result *res, const char *tail)
{
	struct sl_buf b;
	sl_buf_init(&b, 4096);
	int rc = sl_buf_puts(&b, "rule of two: the session holds ");
	if (!rc)
		rc = sl__agent_describe(&res->session, SL_AGENT_ALL, &b);
	if (!rc)
		rc = sl_buf_printf(&b, "; %s", tail);
	sl__agent_copy(res->message, sizeof(res->message), &b);
	sl_buf_release(&b);
}

int sl_agent_policy_check_request(const struct sl_agent_policy *p, struct json_object *req,
                                  struct sl_agent_result *res, char *err, size_t errlen)
{
	if (!p || !res)
		return SL_EINVAL;
	memset(res, 0, sizeof(*res));
	int rc = sl__agent_session(p, req, &res->session, err, errlen);
	if (rc)
		return rc;
	res->held_before = res->session.held;
	if (res->session.held != SL_AGENT_ALL)
		return 0;
	switch (p->mode) {
	case SL_AGENT_FLAG:
		res->verdict = SL_AGENT_FLAGGED;
		sl__agent_explain(res, "flagged");
		return 0;
	case SL_AGENT_BLOCK:
		res->verdict = SL_AGENT_BLOCKED;
		sl__agent_explain(res, "blocked by policy");
		return 0;
	default:
		return sl__agent_remove(p, req, res, err, errlen);
	}
}
