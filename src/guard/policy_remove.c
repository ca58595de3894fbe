/* policy_remove.c: the REMOVE policy. When a request would give the session all three of A, B
 * and C, take out of it the offered tools that complete the triangle: the external_comm tools
 * when no past call exercised C, else the private_data tools when none exercised B; when both
 * were exercised nothing offered can help and the request is blocked. A comes from content and
 * is never removed here.
 * Invariants: req is rewritten only on a REMOVED verdict: kept tools keep their order and their
 * JSON untouched; an emptied "tools" goes with "tool_choice" and "parallel_tool_calls" (an
 * emptied "functions" with "function_call"); a tool_choice or function_call naming a removed tool
 * becomes "auto". res->session is recomputed from the rewritten request. */
#include <string.h>

#include "policy-int.h"

/* Rewrites req[key] without the tools conferring any of `drop`; names go to `removed`. */
static int filter(const struct sl_agent_policy *p, struct json_object *req, const char *key, bool legacy,
                  unsigned drop, struct sl_buf *removed, unsigned *nremoved)
{
	struct json_object *arr, *kept;
	if (!json_object_object_get_ex(req, key, &arr) || !json_object_is_type(arr, json_type_array))
		return 0;
	if (!(kept = json_object_new_array()))
		return SL_ENOMEM;
	int rc = 0;
	for (size_t k = 0; !rc && k < json_object_array_length(arr); k++) {
		struct json_object *t = json_object_array_get_idx(arr, k);
		const char *name;
		size_t len;
		if ((rc = sl__agent_call_name(t, legacy, key, &name, &len, NULL, 0)))
			break;
		if (sl_agent_policy_confers(p, name, len, NULL) & drop) {
			rc = sl_buf_printf(removed, "%s%.*s", *nremoved ? ", " : "", (int)len, name);
			++*nremoved;
		} else {
			rc = json_object_array_add(kept, json_object_get(t)) ? SL_ENOMEM : 0;
		}
	}
	if (rc) {
		json_object_put(kept);
		return rc;
	}
	if (json_object_array_length(kept) == 0) {
		json_object_put(kept);
		json_object_object_del(req, key);
		return 0;
	}
	return json_object_object_add(req, key, kept) ? SL_ENOMEM : 0;
}

/* Whether the choice (a tool_choice object or a legacy function_call object) names a tool that
 * is no longer offered. */
static bool choice_gone(const struct sl_agent_policy *p, struct json_object *choice, bool legacy, unsigned drop)
{
	const char *name;
	size_t len;
	if (!json_object_is_type(choice, json_type_object) ||
	    sl__agent_call_name(choice, legacy, "choice", &name, &len, NULL, 0))
		return false;
	return (sl_agent_policy_confers(p, name, len, NULL) & drop) != 0;
}

static int fix_choice(const struct sl_agent_policy *p, struct json_object *req, const char *list, const char *key,
                      bool legacy, unsigned drop)
{
	struct json_object *v;
	if (!json_object_object_get_ex(req, key, &v))
		return 0;
	if (!json_object_object_get_ex(req, list, NULL)) {
		json_object_object_del(req, key);
		if (!legacy)
			json_object_object_del(req, "parallel_tool_calls");
		return 0;
	}
	if (!choice_gone(p, v, legacy, drop))
		return 0;
	struct json_object *s = json_object_new_string("auto");
	return s && json_object_object_add(req, key, s) == 0 ? 0 : SL_ENOMEM;
}

static int rewrite(const struct sl_agent_policy *p, struct json_object *req, unsigned drop, struct sl_buf *removed,
                   unsigned *n)
{
	bool had_tools = json_object_object_get_ex(req, "tools", NULL);
	bool had_functions = json_object_object_get_ex(req, "functions", NULL);
	int rc = filter(p, req, "tools", false, drop, removed, n);
	if (!rc)
		rc = filter(p, req, "functions", true, drop, removed, n);
	if (!rc && had_tools)
		rc = fix_choice(p, req, "tools", "tool_choice", false, drop);
	if (!rc && had_functions)
		rc = fix_choice(p, req, "functions", "function_call", true, drop);
	return rc;
}

int sl__agent_remove(const struct sl_agent_policy *p, struct json_object *req, struct sl_agent_result *res,
                     char *err, size_t errlen)
{
	unsigned ex = res->session.exercised;
	unsigned drop = !(ex & SL_AGENT_C) ? SL_AGENT_C : !(ex & SL_AGENT_B) ? SL_AGENT_B : 0;
	if (!drop) {
		res->verdict = SL_AGENT_BLOCKED;
		sl__agent_explain(res, "private data and external communication were both used already, so no "
		                       "offered tool can be removed");
		return 0;
	}
	struct sl_buf removed, tail;
	sl_buf_init(&removed, 1 << 16);
	sl_buf_init(&tail, 1 << 16);
	int rc = rewrite(p, req, drop, &removed, &res->nremoved);
	if (!rc) {
		sl__agent_copy(res->removed, sizeof(res->removed), &removed);
		rc = sl_buf_printf(&tail, "removed the %s tools: %s",
		                   drop == SL_AGENT_C ? "external communication" : "private data", res->removed);
	}
	if (!rc) {
		res->verdict = SL_AGENT_REMOVED;
		sl__agent_explain(res, tail.data);
		rc = sl__agent_session(p, req, &res->session, err, errlen);
	}
	sl_buf_release(&removed);
	sl_buf_release(&tail);
	return rc;
}
