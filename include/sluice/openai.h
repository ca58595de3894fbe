/* openai: the OpenAI wire format as the gateway needs it: request inspection and rewriting,
 * error bodies, usage extraction, and an incremental Server-Sent Events tap. Pure: no I/O. */
#ifndef SLUICE_OPENAI_H
#define SLUICE_OPENAI_H

#include <stdbool.h>
#include <stddef.h>

#include "sluice/core.h"

struct json_object;
struct json_tokener;

/* Appends {"error":{"message":..,"type":..,"param":null,"code":..}} to out. code may be NULL. */
int sl_oai_error(struct sl_buf *out, const char *type, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* A parsed request body. Slices point into `root` and live as long as it. */
struct sl_oai_request {
	struct json_object *root; /* owned; freed by sl_oai_request_release */
	struct sl_slice model;
	struct sl_slice user; /* value of the sticky field when it is a string; empty otherwise */
	bool stream;
	bool client_wants_usage; /* stream_options.include_usage was true */
};

/* Parses body strictly (valid UTF-8, one JSON object, nothing after it). On failure returns
 * SL_EPARSE (not JSON), SL_EINVAL (not an object / "model" missing or not a string) and puts a
 * client-facing reason in err. sticky_field names the body field used as the sticky key. */
int sl_oai_request_parse(struct sl_oai_request *r, struct json_tokener *tok, const char *body, size_t len,
			 const char *sticky_field, char *err, size_t errlen);
void sl_oai_request_release(struct sl_oai_request *r);
/* Rewrites model to upstream_model and, for streams, asks for usage (stream_options.include_usage);
 * appends the serialized body to out. */
int sl_oai_request_rewrite(struct sl_oai_request *r, const char *upstream_model, struct sl_buf *out);

/* What the gateway learns from a response. */
struct sl_oai_usage {
	long prompt_tokens;     /* < 0 when unknown */
	long completion_tokens; /* < 0 when unknown */
	char finish_reason[32]; /* "" when none seen */
	bool saw_content;       /* a choice carried content, text, tool calls or an embedding */
	bool refused;           /* a choice refused: a non-empty "refusal", or finish_reason content_filter */
};
void sl_oai_usage_init(struct sl_oai_usage *u);
/* Reads usage, finish_reason and content presence from one response object (a whole JSON
 * response or one stream chunk). Returns true when the object is a usage-only chunk
 * (an empty "choices" array and a "usage" object). */
bool sl_oai_usage_scan(struct sl_oai_usage *u, struct json_object *obj);

/* A streamed chunk of the common shape, read without json-c (chunk.c): a JSON object whose
 * "choices" is an array of one object with either a "delta" object holding only "content" (a
 * string or null), "role" and "refusal" (null), or a "text" string (completions), and
 * "finish_reason" absent or null; "usage" absent or null; no "error". Other members are checked
 * as JSON and passed over. */
struct sl_oai_chunk {
	bool has_content;    /* delta.content (or text) is a string, maybe empty */
	const char *text;    /* its text, escapes decoded: in the data or in the scan's buffer */
	size_t len;
	size_t at, end;      /* the content's string token, quotes included: data[at, end) */
};
/* 1 when data[0..n) is a plain chunk (c filled; text may point into buf, which holds decoded
 * escapes until the next scan), 0 when it is anything else (the caller parses it). Never
 * fails: a buffer that cannot grow makes the event "anything else". */
int sl_oai_chunk_scan(const char *data, size_t n, struct sl_buf *buf, struct sl_oai_chunk *c);
/* The chunks of one stream differ in their content only (the id, model and the rest repeat):
 * a plain chunk with content kept as a template, the next event is plain when it is the same
 * bytes but for another string in the content's place (its JSON is then valid and decided the
 * same way), which takes two compares and the string's read instead of a scan. */
struct sl_oai_chunk_like {
	struct sl_buf bytes; /* the template's data */
	size_t at, end;      /* its content's string token; end 0: no template */
};
/* 1 and c filled when data[0..n) matches the template, else 0 (then scan). */
int sl_oai_chunk_like(const struct sl_oai_chunk_like *like, const char *data, size_t n, struct sl_buf *buf,
                      struct sl_oai_chunk *c);
/* Keeps data, scanned plain as c, as the template (none when it has no content string). */
void sl_oai_chunk_keep(struct sl_oai_chunk_like *like, const char *data, size_t n, const struct sl_oai_chunk *c);

/* Incremental SSE tap: feed upstream bytes, get back whole events ("...\n\n") in out, with
 * usage-only chunks dropped when the client did not ask for them. Events are never held
 * longer than it takes their terminating blank line to arrive. */
struct sl_sse_tap {
	struct sl_buf partial;    /* bytes of an event not yet terminated */
	struct sl_buf scratch;    /* the data lines of the event being inspected */
	struct sl_buf text;       /* a plain chunk's content, when it had escapes */
	struct sl_oai_chunk_like like; /* the last plain chunk with content */
	struct json_tokener *tok; /* owned */
	struct sl_oai_usage usage;
	bool drop_usage_chunk;
	bool saw_done;   /* "data: [DONE]" passed */
	bool saw_error;  /* an event carried an "error" object */
	size_t events;   /* events forwarded */
	size_t first_content_event; /* 1-based index of the first event with content; 0 if none yet */
	/* Optional hook: sees every data event's parsed object before it is forwarded, then the end
	 * of the stream once (obj NULL: at "[DONE]" or when the upstream ends without it). Returns
	 * 0 to forward the event as it came, 1 when it appended what to forward instead to out (the
	 * event itself is dropped), < 0 to fail the feed. */
	int (*hook)(void *ctx, struct json_object *obj, struct sl_buf *out);
	/* Optional, with hook: sees the plain chunks (sl_oai_chunk_scan) instead, unparsed
	 * (data[0..n) is the event's data); returns as hook does. */
	int (*plain)(void *ctx, const struct sl_oai_chunk *c, const char *data, size_t n, struct sl_buf *out);
	void *hook_ctx;
	bool hook_ended;
};
int sl_sse_tap_init(struct sl_sse_tap *t, bool drop_usage_chunk, size_t max_event_bytes);
void sl_sse_tap_release(struct sl_sse_tap *t);
/* Appends complete events from data to out; returns SL_ETOOBIG when a single event exceeds
 * the limit. *first_content is set true when this call forwarded the first content event. */
int sl_sse_tap_feed(struct sl_sse_tap *t, const char *data, size_t len, struct sl_buf *out, bool *first_content);
/* Whatever is left when the upstream ends (an unterminated last event) is flushed to out. */
int sl_sse_tap_finish(struct sl_sse_tap *t, struct sl_buf *out);

#endif
