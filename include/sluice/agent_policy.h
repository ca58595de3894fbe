/* agent_policy.h: the Rule of Two for agents. A session must not hold all three of
 *   A  untrusted input (tool results, documents, or users when configured untrusted),
 *   B  access to private data or sensitive systems,
 *   C  the power to change state or communicate outside.
 * Tools are declared with the properties they confer; for each chat-completions request the
 * policy works out which of A, B, C the session holds and why (first evidence of each), and when
 * all three would hold it flags, removes the offered tools that complete the triangle, or
 * blocks. A response's tool calls are checked against the same session.
 *
 * Invariants: pure (no I/O, no locks, no globals); every int-returning function returns 0 (or
 * a documented non-negative count) or a negative SL_E* code; a request of the wrong shape is an
 * SL_EINVAL with a message naming the field ("tools[2].function.name: missing"), never a crash;
 * the request object is changed only by a REMOVE verdict. */
#ifndef SLUICE_AGENT_POLICY_H
#define SLUICE_AGENT_POLICY_H

#include <stdbool.h>
#include <stddef.h>

#include "sluice/core.h"

struct json_object;

#define SL_AGENT_MAX_TOOLS 1024
#define SL_AGENT_NAME_MAX 128   /* tool name bytes, NUL excluded */
#define SL_AGENT_MSG_MAX 512    /* bytes of result messages and removed-tool lists, NUL included */

/* The three properties, as bits. */
#define SL_AGENT_A 1u /* untrusted_input */
#define SL_AGENT_B 2u /* private_data */
#define SL_AGENT_C 4u /* external_comm */
#define SL_AGENT_ALL 7u
/* "untrusted_input", "private_data", "external_comm" for one bit; NULL for anything else. */
const char *sl_agent_prop_name(unsigned bit);

enum sl_agent_mode { SL_AGENT_REMOVE, SL_AGENT_BLOCK, SL_AGENT_FLAG };
const char *sl_agent_mode_name(enum sl_agent_mode m); /* "remove", "block", "flag" */

struct sl_agent_tool {
	char name[SL_AGENT_NAME_MAX + 1];
	unsigned confers; /* SL_AGENT_* bits */
};

struct sl_agent_policy {
	enum sl_agent_mode mode;  /* "policy": remove (default) | block | flag */
	bool user_is_untrusted;   /* "user_is_untrusted": default false */
	unsigned unknown_confers; /* "unknown_tools": default all three */
	unsigned ntools;          /* "tools": [{"name", "confers": [...]}], names unique */
	struct sl_agent_tool *tools; /* owned, sorted by name */
};

/* Strict JSON (see docs): unknown keys, bad types, duplicate names, names outside 1..128 bytes
 * and more than 1024 tools are refused with an error naming the field. *out is written only on
 * success and then owns memory: release with sl_agent_policy_free. */
int sl_agent_policy_from_json(const char *json, struct sl_agent_policy *out, char *err, size_t errlen);
int sl_agent_policy_from_jobj(struct json_object *o, struct sl_agent_policy *out, char *err, size_t errlen);
void sl_agent_policy_defaults(struct sl_agent_policy *p); /* no tools, nothing to free */
void sl_agent_policy_free(struct sl_agent_policy *p);
/* The properties tool `name` confers: its declared set, or unknown_confers (*known = false). */
unsigned sl_agent_policy_confers(const struct sl_agent_policy *p, const char *name, size_t len, bool *known);

/* Why a property holds: the first piece of evidence found. */
enum sl_agent_how {
	SL_AGENT_NONE,
	SL_AGENT_MESSAGE, /* message `message` is untrusted content (A only) */
	SL_AGENT_OFFERED, /* tool `tool` is offered in the request */
	SL_AGENT_CALLED   /* tool `tool` was called by the assistant in message `message` */
};
struct sl_agent_evidence {
	enum sl_agent_how how;
	int message;      /* index in messages, -1 when not from a message */
	const char *what; /* static: "tool result", "function result", "document", "user message",
	                   * "offered", "called"; NULL when how is NONE */
	char tool[SL_AGENT_NAME_MAX + 1]; /* the tool ("" for a message not tied to one) */
};

struct sl_agent_session {
	unsigned held;      /* properties the session holds (after any removal) */
	unsigned exercised; /* held by messages or past calls, which no removal can undo */
	struct sl_agent_evidence why[3]; /* index 0 = A, 1 = B, 2 = C */
};

enum sl_agent_verdict { SL_AGENT_ALLOW, SL_AGENT_FLAGGED, SL_AGENT_REMOVED, SL_AGENT_BLOCKED };
const char *sl_agent_verdict_name(enum sl_agent_verdict v); /* "allow", "flag", "remove", "block" */

struct sl_agent_result {
	enum sl_agent_verdict verdict;
	unsigned held_before;           /* before removal */
	struct sl_agent_session session; /* as the request goes upstream */
	unsigned nremoved;               /* offered tools taken out of the request */
	char removed[SL_AGENT_MSG_MAX];  /* their names, comma-separated (", ..." when cut) */
	char message[SL_AGENT_MSG_MAX];  /* why, for logs and the error body; "" when ALLOW */
};

/* Checks one chat-completions request body. A REMOVED verdict rewrites req in place (tools,
 * functions; tool_choice/function_call naming a removed tool become "auto"; tools, tool_choice and
 * parallel_tool_calls go when no tool is left). SL_EINVAL with err for malformed shapes. */
int sl_agent_policy_check_request(const struct sl_agent_policy *p, struct json_object *req,
                                  struct sl_agent_result *res, char *err, size_t errlen);

/* Whether calling tool `name` in session s completes the triangle (it confers something and
 * session + its properties hold A, B and C): 1 with a reason in why, else 0. */
int sl_agent_check_call(const struct sl_agent_policy *p, const struct sl_agent_session *s, const char *name,
                        size_t len, char *why, size_t whylen);
/* The tool calls of a response (a chat completion object with choices[].message, or one
 * message object): the number of violating calls (0 = none), the first one's reason in why, or
 * SL_EINVAL with err when a tool call is malformed. */
int sl_agent_check_response(const struct sl_agent_policy *p, const struct sl_agent_session *s,
                            struct json_object *resp, char *why, size_t whylen, char *err, size_t errlen);

#endif
