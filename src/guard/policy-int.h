/* policy-int.h: helpers shared by the Rule of Two files (policy_spec.c, policy.c,
 * policy_remove.c, policy_response.c). Not part of the public API.
 * Invariants: errors are SL_EINVAL with "field: problem" in err (rollout's sl__rerr); names
 * handed out point into the json-c objects and live as long as they do. */
#ifndef SLUICE_GUARD_POLICY_INT_H
#define SLUICE_GUARD_POLICY_INT_H

#include <json-c/json.h>

#include "../core/json-int.h"
#include "sluice/agent_policy.h"

/* The function name of a tool call ({"type":"function","function":{"name":...}}, or
 * {"type":"custom","custom":{"name":...}}, or a legacy function_call {"name":...} when legacy). */
int sl__agent_call_name(struct json_object *call, bool legacy, const char *where, const char **name, size_t *len,
                        char *err, size_t errlen);

/* Notes evidence for the bits of `confers` that s does not hold yet, and adds them to held (and
 * to exercised when `exercised`). */
void sl__agent_note(struct sl_agent_session *s, unsigned confers, enum sl_agent_how how, int message,
                    const char *what, const char *tool, size_t toollen, bool exercised);

/* "untrusted input (messages[3]: tool result of search_web), private data (tool read_email
 * offered)" for the given bits of s, appended to b. */
int sl__agent_describe(const struct sl_agent_session *s, unsigned bits, struct sl_buf *b);

/* Writes "a, b, c" of the set bits' names ("untrusted input", ...) into b. */
int sl__agent_bits(unsigned bits, struct sl_buf *b);

/* policy.c: the session from the messages alone (exercised evidence), and with the offered tools. */
int sl__agent_history(const struct sl_agent_policy *p, struct json_object *req, struct sl_agent_session *s,
                      char *err, size_t errlen);
int sl__agent_session(const struct sl_agent_policy *p, struct json_object *req, struct sl_agent_session *s,
                      char *err, size_t errlen);

/* res->message := "rule of two: the session holds <A, B, C with evidence>; <tail>". */
void sl__agent_explain(struct sl_agent_result *res, const char *tail);

/* policy_remove.c: the REMOVE policy once all three hold (res->session filled): drops the offered
 * tools conferring C (or B when C was exercised) from req, or blocks when both were. */
int sl__agent_remove(const struct sl_agent_policy *p, struct json_object *req, struct sl_agent_result *res,
                     char *err, size_t errlen);

/* Copies b into the fixed buffer dst[cap], cut with "..." when longer. */
void sl__agent_copy(char *dst, size_t cap, const struct sl_buf *b);

#endif
