/* guard_gw.h: the guard in the gateway. A guard runtime is built with every configuration load
 * (rules compiled, classifier models loaded, each model's guard resolved) and freed with it.
 * Requests are inspected before they go upstream (injection scan, Rule of Two, spotlighting);
 * answers are checked as they stream back (canaries, system-prompt leaks, outside links,
 * secrets, tool calls). Loop thread only. */
#ifndef SLUICE_PROXY_GUARD_GW_H
#define SLUICE_PROXY_GUARD_GW_H

#include <stdbool.h>

#include "sluice/config.h"
#include "sluice/core.h"
#include "sluice/guard_config.h"
#include "sluice/guard_model.h"
#include "sluice/openai.h"

struct json_object;
struct sl_guard_rt;

/* One model's guard, resolved. */
struct sl_guard_mrt {
	const char *model;
	struct sl_guard_config cfg;
	const struct sl_guard_rules *rules; /* NULL when input is off */
	struct sl_guard_opts opts;
	struct sl_guard_model_pair pair; /* opts.both's: the classifier and the document model */
	struct sl_guard_memo *memo; /* segments seen before (input.memo_bytes); NULL: none. The loop
	                             * thread's; mutable although the runtime is shared read-only */
};

/* Builds the runtime of cfg. *out is NULL (and 0 returned) when no model has a guard. Errors
 * (a rules file that does not compile, a model file that does not load) go to err. */
int sl_guard_rt_new(const struct sl_config *cfg, struct sl_guard_rt **out, char *err, size_t errlen);
void sl_guard_rt_free(struct sl_guard_rt *rt);
/* The guard of a model, or NULL when it has none (rt may be NULL). */
const struct sl_guard_mrt *sl_guard_rt_find(const struct sl_guard_rt *rt, const char *model);

/* The members of object obj named keys[0..n) (n <= 32) into vals, NULL for one it lacks (or
 * for all when obj is not an object); returns the mask of those it has (bit i: keys[i]; a JSON
 * null member counts as had, with a NULL value), as json_object_object_get_ex would tell key by
 * key. One walk over obj's members comparing keys: for the few members of a request, a message
 * or an answer this is cheaper than a lookup per key (json-c hashes each key looked up). */
unsigned sl_guard_members(struct json_object *obj, const char *const *keys, unsigned n, struct json_object **vals);

/* What the inspection of one request decided. */
struct sl_guard_req {
	int status;          /* 0: forward; 400: refuse with code and message */
	const char *code;    /* "prompt_injection_detected" or "rule_of_two_violation" */
	const char *outcome; /* for the event and metrics: NULL (nothing), "flag", "block", "sanitize", "remove" */
	double score;        /* injection risk; -1 when not scanned */
	unsigned scanned, remembered; /* segments scanned, and of those answered by the memo */
	char message[512];   /* the error message, or the reason of a flag */
	char header[320];    /* value of x-sluice-guard, "" for none */
	struct sl_agent_session session; /* what the session holds, for checking the answer's tool calls */
	const char *system_prompt; /* system and developer text (NULL or "" when none), for leak checks;
	                            * borrowed from the loop thread, valid until the next request */
	size_t system_len;
};
/* Inspects (and, for sanitize and remove, rewrites) a chat or completions request body. */
int sl_guard_gw_request(const struct sl_guard_mrt *g, struct json_object *root, struct sl_guard_req *res);
void sl_guard_req_release(struct sl_guard_req *res);

/* One answer's checker (output checks and tool calls), fed with parsed response objects. */
struct sl_guard_answer;
/* NULL (and 0) when the model checks nothing in answers. res must have come from this model. */
int sl_guard_answer_new(const struct sl_guard_mrt *g, const struct sl_guard_req *res, struct sl_guard_answer **out);
void sl_guard_answer_free(struct sl_guard_answer *a);
/* SSE hook (sl_sse_tap's hook): one stream chunk, or NULL at the end of the stream. */
int sl_guard_answer_event(void *a, struct json_object *obj, struct sl_buf *out);
/* SSE plain hook (sl_sse_tap's plain): a plain chunk, unparsed, as sl_guard_answer_event takes
 * its parsed form. */
int sl_guard_answer_plain(void *a, const struct sl_oai_chunk *c, const char *data, size_t n, struct sl_buf *out);
/* A whole (non-stream) JSON answer: obj, parsed from body by the caller (NULL when it is not
 * JSON: nothing to check), is checked, and body rewritten from obj when something is redacted
 * (obj's text is changed too). Returns 1 when the answer must be replaced by an error (body then
 * holds it). */
int sl_guard_answer_body(struct sl_guard_answer *a, struct json_object *obj, struct sl_buf *body);
/* After the answer: "redact", "block" or "flag" when something was found, else NULL; detail
 * gets the first finding. */
const char *sl_guard_answer_outcome(const struct sl_guard_answer *a, char *detail, size_t len);

#endif
