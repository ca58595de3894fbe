/* policy_response.c: the Rule of Two on a response's tool calls. A call violates the rule when
 * the tool confers something and the session's properties together with the tool's hold all
 * three: e.g. the policy removed send_email, and the model calls send_email anyway.
 * Invariants: reads the response only; a malformed tool call is an error naming the field. */
#include <stdio.h>
#include <string.h>

#include "policy-int.h"

int sl_agent_check_call(const struct sl_agent_policy *p, const struct sl_agent_session *s, const char *name,
                        size_t len, char *why, size_t whylen)
{
	unsigned c = sl_agent_policy_confers(p, name, len, NULL);
	if (!c || (s->held | c) != SL_AGENT_ALL)
		return 0;
	struct sl_buf b;
	sl_buf_init(&b, 4096);
	int rc = sl_buf_printf(&b, "rule of two: calling %.*s (", (int)(len > SL_AGENT_NAME_MAX ? SL_AGENT_NAME_MAX : len),
	                       name);
	if (!rc)
		rc = sl__agent_bits(c, &b);
	if (!rc && (s->held & ~c & SL_AGENT_ALL)) {
		rc = sl_buf_puts(&b, ") in a session holding ");
		if (!rc)
			rc = sl__agent_describe(s, s->held & ~c & SL_AGENT_ALL, &b);
		if (!rc)
			rc = sl_buf_puts(&b, " completes the triangle");
	} else if (!rc) {
		rc = sl_buf_puts(&b, ") completes the triangle by itself");
	}
	if (why && whylen)
		sl__agent_copy(why, whylen, &b);
	sl_buf_release(&b);
	return 1;
}

static bool has_name(struct json_object *call)
{
	struct json_object *fn;
	return json_object_object_get_ex(call, "function", &fn) && json_object_object_get_ex(fn, "name", NULL);
}

/* The calls of one message object: tool_calls[] and legacy function_call. In a stream's delta
 * only the first piece of a call carries its name; the others are skipped. */
static int message_calls(const struct sl_agent_policy *p, const struct sl_agent_session *s, struct json_object *m,
                         const char *where, bool delta, char *why, size_t whylen, bool *have_why, char *err,
                         size_t errlen)
{
	struct json_object *calls, *fc;
	char f[96];
	const char *name;
	size_t len;
	int n = 0, rc;
	if (!json_object_is_type(m, json_type_object))
		return sl__rerr(err, errlen, "%s: must be an object", where);
	if (json_object_object_get_ex(m, "tool_calls", &calls) && !json_object_is_type(calls, json_type_null)) {
		if (!json_object_is_type(calls, json_type_array))
			return sl__rerr(err, errlen, "%s.tool_calls: must be an array", where);
		for (size_t k = 0; k < json_object_array_length(calls); k++) {
			snprintf(f, sizeof(f), "%s.tool_calls[%zu]", where, k);
			struct json_object *c = json_object_array_get_idx(calls, k);
			if (delta && !has_name(c))
				continue;
			if ((rc = sl__agent_call_name(c, false, f, &name, &len, err, errlen)))
				return rc;
			if (sl_agent_check_call(p, s, name, len, *have_why ? NULL : why, whylen) && ++n)
				*have_why = true;
		}
	}
	if (json_object_object_get_ex(m, "function_call", &fc) && !json_object_is_type(fc, json_type_null)) {
		snprintf(f, sizeof(f), "%s.function_call", where);
		if (delta && !json_object_object_get_ex(fc, "name", NULL))
			return n;
		if ((rc = sl__agent_call_name(fc, true, f, &name, &len, err, errlen)))
			return rc;
		if (sl_agent_check_call(p, s, name, len, *have_why ? NULL : why, whylen) && ++n)
			*have_why = true;
	}
	return n;
}

int sl_agent_check_response(const struct sl_agent_policy *p, const struct sl_agent_session *s,
                            struct json_object *resp, char *why, size_t whylen, char *err, size_t errlen)
{
	struct json_object *choices;
	bool have_why = false;
	if (why && whylen)
		why[0] = '\0';
	if (!json_object_is_type(resp, json_type_object))
		return sl__rerr(err, errlen, "response: must be a JSON object");
	if (!json_object_object_get_ex(resp, "choices", &choices))
		return message_calls(p, s, resp, "message", false, why, whylen, &have_why, err, errlen);
	if (!json_object_is_type(choices, json_type_array))
		return sl__rerr(err, errlen, "choices: must be an array");
	int total = 0;
	for (size_t i = 0; i < json_object_array_length(choices); i++) {
		struct json_object *c = json_object_array_get_idx(choices, i);
		struct json_object *m = NULL;
		char where[48];
		if (!json_object_is_type(c, json_type_object))
			return sl__rerr(err, errlen, "choices[%zu]: must be an object", i);
		bool delta = !json_object_object_get_ex(c, "message", &m) && json_object_object_get_ex(c, "delta", &m);
		snprintf(where, sizeof(where), "choices[%zu].%s", i, delta ? "delta" : "message");
		if (!m || json_object_is_type(m, json_type_null))
			continue;
		int n = message_calls(p, s, m, where, delta, why, whylen, &have_why, err, errlen);
		if (n < 0)
			return n;
		total += n;
	}
	return total;
}
