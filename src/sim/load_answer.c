/* load_answer.c: the simulated user's reading of an answer: the first bytes of its text, to
 * tell a bad answer (one that starts with SL_LOAD_BAD_MARKER) from a good one when the server
 * does not say so in x-sim-answer.
 * A plain body is kept whole (up to SL_LOAD_JUDGE_MAX) and parsed at its end; a stream is
 * read line by line as it arrives, each `data:` line parsed until the deltas' text is long
 * enough to compare, so a stream costs one line of memory however long it runs.
 * Invariant: text holds at most sizeof(text) - 1 bytes, NUL-terminated; a body or line too
 * long to keep leaves the text as it was (the answer then reads as good). */
#include <json-c/json.h>
#include <string.h>

#include "sim/load.h"

#define MARKER_LEN (sizeof(SL_LOAD_BAD_MARKER) - 1)

void sl_load_judge_init(struct sl_load_judge *j)
{
	memset(j, 0, sizeof(*j));
	sl_buf_init(&j->buf, SL_LOAD_JUDGE_MAX);
}

void sl_load_judge_release(struct sl_load_judge *j)
{
	sl_buf_release(&j->buf);
}

void sl_load_judge_reset(struct sl_load_judge *j, bool stream)
{
	sl_buf_reset(&j->buf);
	j->text[0] = '\0';
	j->text_len = 0;
	j->stream = stream;
	j->skip_line = j->overflow = false;
}

static bool judge_full(const struct sl_load_judge *j)
{
	return j->text_len >= MARKER_LEN;
}

static void add_text(struct sl_load_judge *j, const char *s, size_t n)
{
	size_t room = sizeof(j->text) - 1 - j->text_len;
	if (n > room)
		n = room;
	memcpy(j->text + j->text_len, s, n);
	j->text_len += n;
	j->text[j->text_len] = '\0';
}

/* choices[0] of an answer or a chunk: message.content, delta.content or text. */
static void take_text(struct sl_load_judge *j, struct json_object *doc)
{
	struct json_object *choices, *c, *v = NULL;
	if (!json_object_object_get_ex(doc, "choices", &choices) || !json_object_is_type(choices, json_type_array) ||
	    json_object_array_length(choices) == 0)
		return;
	c = json_object_array_get_idx(choices, 0);
	if (json_object_object_get_ex(c, "message", &v) || json_object_object_get_ex(c, "delta", &v)) {
		if (!json_object_object_get_ex(v, "content", &v))
			return;
	} else if (!json_object_object_get_ex(c, "text", &v)) {
		return;
	}
	if (json_object_is_type(v, json_type_string))
		add_text(j, json_object_get_string(v), (size_t)json_object_get_string_len(v));
}

static void parse_into(struct sl_load_judge *j, struct json_tokener *tok, const char *p, size_t n)
{
	json_tokener_reset(tok);
	struct json_object *doc = json_tokener_parse_ex(tok, p, (int)n);
	if (doc && json_tokener_get_parse_end(tok) == n)
		take_text(j, doc);
	json_object_put(doc);
}

/* One complete SSE line: `data: {...}` carries a chunk; everything else is ignored. */
static void end_line(struct sl_load_judge *j, struct json_tokener *tok)
{
	const char *p = j->buf.data;
	size_t n = j->buf.len;
	if (!j->skip_line && n > 5 && memcmp(p, "data:", 5) == 0) {
		p += 5, n -= 5;
		if (*p == ' ')
			p++, n--;
		if (n && *p == '{')
			parse_into(j, tok, p, n);
	}
	sl_buf_reset(&j->buf);
	j->skip_line = false;
}

static void feed_stream(struct sl_load_judge *j, struct json_tokener *tok, const char *p, size_t n)
{
	while (n && !judge_full(j)) {
		const char *nl = p;
		while (nl < p + n && *nl != '\n' && *nl != '\r')
			nl++;
		size_t part = (size_t)(nl - p);
		if (!j->skip_line && sl_buf_append(&j->buf, p, part))
			j->skip_line = true; /* too long to be a chunk worth reading */
		if (nl == p + n)
			return;
		end_line(j, tok);
		p = nl + 1;
		n -= part + 1;
	}
}

void sl_load_judge_feed(struct sl_load_judge *j, struct json_tokener *tok, const char *p, size_t n)
{
	if (j->stream) {
		feed_stream(j, tok, p, n);
		return;
	}
	if (!j->overflow && sl_buf_append(&j->buf, p, n)) {
		j->overflow = true;
		sl_buf_reset(&j->buf);
	}
}

bool sl_load_judge_bad(struct sl_load_judge *j, struct json_tokener *tok)
{
	if (j->stream) {
		if (j->buf.len && !judge_full(j))
			end_line(j, tok); /* a last line without a line break */
	} else if (!j->overflow && j->buf.len) {
		parse_into(j, tok, j->buf.data, j->buf.len);
		sl_buf_reset(&j->buf);
	}
	return j->text_len >= MARKER_LEN && memcmp(j->text, SL_LOAD_BAD_MARKER, MARKER_LEN) == 0;
}
