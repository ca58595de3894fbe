/* guard_answer.c: checks one answer on its way back: the output checks (guard_output.h) over the
 * text of choice 0 and the Rule of Two over the tool calls it makes.
 *
 * Streams: every chunk passes through sl_guard_answer_event (the SSE tap's hook). With the
 * action `flag` chunks go out unchanged and findings are only recorded. With `redact` or
 * `block` the chunk's text is replaced by what the checker releases (it holds back a bounded
 * tail, so a secret split over chunks is caught before any of it is sent); the tail goes out in
 * the chunk carrying finish_reason, or in an extra chunk at the end. A block, or a tool call
 * completing the triangle under policy block, ends the stream with an SSE error event and drops
 * everything after it, [DONE] included.
 * Invariant: once stopped, nothing more of the upstream's answer reaches the client. The answer
 * freed last is kept for the next one (loop thread), its checker reset rather than made anew. */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proxy/guard_gw.h"
#include "sluice/openai.h"

struct sl_guard_answer {
	const struct sl_guard_mrt *g;
	struct sl_guard_output *chk; /* NULL when output checks are off; else mem */
	struct sl_guard_output *mem; /* the checker's memory, kept with the answer for reuse */
	struct sl_agent_session session;
	struct sl_buf text;  /* released text of the current chunk */
	bool stopped, tool_violation, finished;
	char tool_why[256];
};

/* The answer freed last, kept (loop thread) for the next request with its checker and text
 * buffer: allocating and freeing a checker's 12 KB per request made glibc consolidate its fast
 * bins every time, which cost more than the checks (bench/guard_gateway.sh). */
static struct sl_guard_answer *spare;
#define SPARE_TEXT_MAX ((size_t)64 << 10) /* a larger text buffer is not kept */

/* The checker of an answer to g's model: the spare's memory reset, or a new one. */
static int fit_checker(struct sl_guard_answer *a, const struct sl_guard_mrt *g, const struct sl_guard_req *res)
{
	if (!g->cfg.output_on)
		return 0;
	int rc = a->mem ? sl_guard_output_reset(a->mem, &g->cfg.output, res->system_prompt, res->system_len)
			: sl_guard_output_new(&g->cfg.output, res->system_prompt, res->system_len, &a->mem);
	a->chk = rc ? NULL : a->mem;
	return rc;
}

int sl_guard_answer_new(const struct sl_guard_mrt *g, const struct sl_guard_req *res, struct sl_guard_answer **out)
{
	*out = NULL;
	if (!g->cfg.output_on && !g->cfg.agents_on)
		return 0;
	struct sl_guard_answer *a = spare;
	if (a) {
		spare = NULL;
		struct sl_guard_output *mem = a->mem;
		struct sl_buf text = a->text;
		*a = (struct sl_guard_answer){.mem = mem, .text = text};
		sl_buf_reset(&a->text);
	} else if ((a = calloc(1, sizeof(*a))) != NULL) {
		sl_buf_init(&a->text, 0);
	} else {
		return SL_ENOMEM;
	}
	a->g = g;
	a->session = res->session;
	if (fit_checker(a, g, res) != 0) {
		sl_guard_answer_free(a);
		return SL_ENOMEM;
	}
	*out = a;
	return 0;
}

void sl_guard_answer_free(struct sl_guard_answer *a)
{
	if (!a)
		return;
	if (!spare && a->text.cap <= SPARE_TEXT_MAX) {
		spare = a;
		return;
	}
	sl_guard_output_free(a->mem);
	sl_buf_release(&a->text);
	free(a);
}

static bool rewrites(const struct sl_guard_answer *a)
{
	return a->chk && a->g->cfg.output.action != SL_GOUT_FLAG;
}

/* Choice 0 of a response object, or NULL. */
static struct json_object *choice0(struct json_object *obj)
{
	static const char *const keys[] = {"choices"};
	struct json_object *choices;
	sl_guard_members(obj, keys, 1, &choices);
	if (!json_object_is_type(choices, json_type_array) || json_object_array_length(choices) == 0)
		return NULL;
	struct json_object *c = json_object_array_get_idx(choices, 0);
	return json_object_is_type(c, json_type_object) ? c : NULL;
}

/* A choice's message: its "delta" when it has one (even null), else its "message" (or NULL). */
static struct json_object *message_of(struct json_object *choice)
{
	static const char *const keys[] = {"delta", "message"};
	struct json_object *v[2];
	unsigned has = sl_guard_members(choice, keys, 2, v);
	return has & 1 ? v[0] : v[1];
}

/* The text field of a choice: message.content, delta.content or (completions) text. */
static struct json_object *text_of(struct json_object *choice)
{
	static const char *const content[] = {"content"}, *const text[] = {"text"};
	struct json_object *t;
	sl_guard_members(message_of(choice), content, 1, &t);
	if (json_object_is_type(t, json_type_string))
		return t;
	sl_guard_members(choice, text, 1, &t);
	return json_object_is_type(t, json_type_string) ? t : NULL;
}

static int put_error_event(struct sl_buf *out, const char *code, const char *msg)
{
	struct sl_buf err;
	sl_buf_init(&err, 0);
	int rc = sl_oai_error(&err, "guard_error", code, "%s", msg);
	rc = rc ? rc : sl_buf_puts(out, "data: ");
	rc = rc ? rc : sl_buf_append(out, err.data, err.len);
	rc = rc ? rc : sl_buf_puts(out, "\n\n");
	sl_buf_release(&err);
	return rc;
}

static int put_json(struct sl_buf *out, struct json_object *obj)
{
	size_t n;
	const char *s = json_object_to_json_string_length(obj, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &n);
	return s ? sl_buf_append(out, s, n) : SL_ENOMEM;
}

static int put_event(struct sl_buf *out, struct json_object *obj)
{
	int rc = sl_buf_puts(out, "data: ");
	rc = rc ? rc : put_json(out, obj);
	return rc ? rc : sl_buf_puts(out, "\n\n");
}

/* Tool calls named in a message or delta: each checked against the session. */
static void check_tools(struct sl_guard_answer *a, struct json_object *choice)
{
	struct json_object *calls;
	if (!a->g->cfg.agents_on || a->tool_violation ||
	    !json_object_object_get_ex(message_of(choice), "tool_calls", &calls) ||
	    !json_object_is_type(calls, json_type_array))
		return;
	for (size_t i = 0; i < json_object_array_length(calls); i++) {
		struct json_object *fn, *name;
		if (!json_object_object_get_ex(json_object_array_get_idx(calls, i), "function", &fn) ||
		    !json_object_object_get_ex(fn, "name", &name) || !json_object_is_type(name, json_type_string))
			continue;
		if (sl_agent_check_call(&a->g->cfg.agents, &a->session, json_object_get_string(name),
					(size_t)json_object_get_string_len(name), a->tool_why, sizeof(a->tool_why)) == 1) {
			a->tool_violation = true;
			return;
		}
	}
}

static bool tool_blocks(const struct sl_guard_answer *a)
{
	return a->tool_violation && a->g->cfg.agents.mode == SL_AGENT_BLOCK;
}

/* A chunk of its own carrying text as choice 0's content. */
static int put_content_event(struct sl_buf *out, const char *text, size_t len)
{
	struct json_object *o = json_object_new_object(), *choices = json_object_new_array(),
			   *c = json_object_new_object(), *d = json_object_new_object();
	json_object_object_add(d, "content", json_object_new_string_len(text, (int)len));
	json_object_object_add(c, "index", json_object_new_int(0));
	json_object_object_add(c, "delta", d);
	json_object_array_add(choices, c);
	json_object_object_add(o, "object", json_object_new_string("chat.completion.chunk"));
	json_object_object_add(o, "choices", choices);
	int rc = put_event(out, o);
	json_object_put(o);
	return rc;
}

/* Stops the stream: what was released before the finding, then the error event. */
static int stop(struct sl_guard_answer *a, struct sl_buf *out)
{
	int rc = a->text.len ? put_content_event(out, a->text.data, a->text.len) : 0;
	a->stopped = true;
	if (rc)
		return rc;
	return tool_blocks(a) ? put_error_event(out, "rule_of_two_violation", a->tool_why)
			      : put_error_event(out, "output_blocked", "the answer was stopped by the output guard");
}

/* Feeds text (and, at the end, the held tail) to the checker; a->text gets what is released. */
static int check_text(struct sl_guard_answer *a, const char *s, size_t n, bool end)
{
	sl_buf_reset(&a->text);
	int rc = a->finished ? 0 : sl_guard_output_feed(a->chk, s, n, &a->text);
	if (rc == 0 && end && !a->finished) {
		a->finished = true;
		rc = sl_guard_output_finish(a->chk, &a->text);
	}
	return rc;
}

static bool has_finish(struct json_object *choice)
{
	struct json_object *f;
	return json_object_object_get_ex(choice, "finish_reason", &f) && json_object_is_type(f, json_type_string);
}

/* The end of the stream: the held tail in a chunk of its own. */
static int end_of_stream(struct sl_guard_answer *a, struct sl_buf *out)
{
	if (a->stopped)
		return 1; /* drop [DONE] */
	if (!a->chk || a->finished)
		return 0;
	int rc = check_text(a, "", 0, true);
	if (rc == SL_GOUT_STOP)
		return stop(a, out) ? SL_ENOMEM : 1;
	if (rc < 0 || !rewrites(a) || a->text.len == 0)
		return rc < 0 ? rc : 0;
	return put_content_event(out, a->text.data, a->text.len);
}

/* An event's text (has_text: it has a text field; s[0..n) its text) and whether it ends the
 * choice, checked. Returns what the event hooks return; *rewrite: the event must go out with
 * a->text (what the checker released) as its text. */
static int event_text(struct sl_guard_answer *a, const char *s, size_t n, bool has_text, bool finish,
                      struct sl_buf *out, bool *rewrite)
{
	*rewrite = false;
	if (!a->chk || (!has_text && !finish))
		return tool_blocks(a) ? (stop(a, out) ? SL_ENOMEM : 1) : 0;
	int rc = check_text(a, has_text ? s : "", has_text ? n : 0, finish);
	if (rc == SL_GOUT_STOP || tool_blocks(a))
		return stop(a, out) ? SL_ENOMEM : 1;
	*rewrite = rc == 0 && rewrites(a);
	return rc < 0 ? rc : 0;
}

/* A plain chunk (no tool calls, no finish reason: sl_oai_chunk_scan), unparsed; rewritten by
 * putting the released text in place of its content's string. */
int sl_guard_answer_plain(void *ctx, const struct sl_oai_chunk *c, const char *data, size_t n, struct sl_buf *out)
{
	struct sl_guard_answer *a = ctx;
	bool rewrite;
	if (a->stopped)
		return 1;
	int rc = event_text(a, c->text, c->len, c->has_content, false, out, &rewrite);
	if (rc || !rewrite)
		return rc;
	rc = sl_buf_puts(out, "data: ");
	rc = rc ? rc : sl_buf_append(out, data, c->at);
	rc = rc ? rc : sl_buf_json_str(out, a->text.data, a->text.len);
	rc = rc ? rc : sl_buf_append(out, data + c->end, n - c->end);
	rc = rc ? rc : sl_buf_puts(out, "\n\n");
	return rc ? SL_ENOMEM : 1;
}

int sl_guard_answer_event(void *ctx, struct json_object *obj, struct sl_buf *out)
{
	struct sl_guard_answer *a = ctx;
	bool rewrite;
	if (!obj)
		return end_of_stream(a, out);
	if (a->stopped)
		return 1;
	struct json_object *choice = choice0(obj), *t = choice ? text_of(choice) : NULL;
	if (choice)
		check_tools(a, choice);
	int rc = event_text(a, t ? json_object_get_string(t) : NULL, t ? (size_t)json_object_get_string_len(t) : 0,
			    t != NULL, choice && has_finish(choice), out, &rewrite);
	if (rc || !rewrite)
		return rc;
	if (!t) { /* the finish chunk had no text: the tail goes out in its delta, or just before it */
		struct json_object *d;
		if (!json_object_object_get_ex(choice, "delta", &d) || !json_object_is_type(d, json_type_object)) {
			int w = a->text.len ? put_content_event(out, a->text.data, a->text.len) : 0;
			return w ? SL_ENOMEM : (put_event(out, obj) ? SL_ENOMEM : 1);
		}
		json_object_object_add(d, "content", json_object_new_string_len(a->text.data, (int)a->text.len));
	} else {
		json_object_set_string_len(t, a->text.data, (int)a->text.len);
	}
	return put_event(out, obj) ? SL_ENOMEM : 1;
}

static int replace_with_error(struct sl_buf *body, const char *code, const char *msg)
{
	sl_buf_reset(body);
	return sl_oai_error(body, "guard_error", code, "%s", msg) ? SL_ENOMEM : 1;
}

int sl_guard_answer_body(struct sl_guard_answer *a, struct json_object *obj, struct sl_buf *body)
{
	struct json_object *choice = obj ? choice0(obj) : NULL, *t = choice ? text_of(choice) : NULL;
	int rc = 0;
	if (choice)
		check_tools(a, choice);
	if (a->chk && t)
		rc = check_text(a, json_object_get_string(t), (size_t)json_object_get_string_len(t), true);
	if (rc == SL_GOUT_STOP || tool_blocks(a)) {
		a->stopped = true;
		rc = tool_blocks(a) ? replace_with_error(body, "rule_of_two_violation", a->tool_why)
				    : replace_with_error(body, "output_blocked", "the answer was stopped by the output guard");
	} else if (rc == 0 && t && rewrites(a) && sl_guard_output_total(a->chk) > 0) {
		json_object_set_string_len(t, a->text.data, (int)a->text.len);
		sl_buf_reset(body);
		rc = put_json(body, obj) ? SL_ENOMEM : 0;
	}
	return rc;
}

const char *sl_guard_answer_outcome(const struct sl_guard_answer *a, char *detail, size_t len)
{
	const struct sl_gout_finding *f;
	size_t n = a->chk ? sl_guard_output_findings(a->chk, &f) : 0;
	if (detail && len)
		detail[0] = '\0';
	if (n > 0 && detail)
		snprintf(detail, len, "%s: %s", sl_gout_kind_name(f[0].kind), f[0].detail);
	else if (a->tool_violation && detail)
		snprintf(detail, len, "%s", a->tool_why);
	if (a->stopped)
		return "block";
	if (n > 0)
		return rewrites(a) ? "redact" : "flag";
	return a->tool_violation ? "flag" : NULL;
}
