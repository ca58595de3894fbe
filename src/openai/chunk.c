/* chunk.c: reads a streamed chat chunk of the common shape without building a JSON tree. After
 * its first content, nearly every event of a chat stream is a "plain" chunk: one choice whose
 * delta carries content (or a role; a null refusal), or whose text does (completions), no
 * finish reason, no usage, no error. The
 * SSE tap and the guard's answer checks read those here instead of through json-c, whose
 * objects cost about 30,000 instructions an event (docs/BENCHMARKS.md, "The guard on streamed
 * answers"). Anything else (a finish reason, usage, an error, tool calls, a refusal, several
 * choices, JSON this reader does not take) is left to the caller's parse.
 * The chunks of one stream repeat each other but for their content, so the last plain one is
 * kept as a template (sl_oai_chunk_like) and the next is matched against it.
 * Invariants: strict JSON (RFC 8259) with white space limited to spaces and tabs (data over
 * several lines is not plain, so a rewritten event stays one data line); nesting past 16 levels
 * is not plain; a member the decision depends on ("choices", "usage", "delta", "finish_reason",
 * "content", "role", "refusal", "text") given twice, or any member name with escapes, is not plain;
 * never reads past the data. */
#include <string.h>

#include "../core/json-int.h"
#include "sluice/openai.h"

#define MAX_DEPTH 16

struct rd {
	const char *p, *e;
	int depth;
};

static void ws(struct rd *r)
{
	while (r->p < r->e && (*r->p == ' ' || *r->p == '\t'))
		r->p++;
}

static bool eat(struct rd *r, char c)
{
	ws(r);
	if (r->p < r->e && *r->p == c) {
		r->p++;
		return true;
	}
	return false;
}

/* A string at r->p (after white space), its escapes decoded into buf, or checked only (buf
 * NULL: s->v is then the raw text); false when there is none. */
static bool str(struct rd *r, struct sl_buf *buf, struct sl__json_str *s)
{
	const char *why;
	ws(r);
	if (r->p >= r->e || *r->p != '"' || sl__json_str_read(r->p, r->e, buf, s, &why))
		return false;
	r->p = s->end;
	return true;
}

static bool word(struct rd *r, const char *w, size_t n)
{
	ws(r);
	if ((size_t)(r->e - r->p) < n || memcmp(r->p, w, n) != 0)
		return false;
	r->p += n;
	return true;
}

/* Reads an object's members: on_key reads each one's value (false: not plain). A name with
 * escapes is not plain: it could spell a member the decision depends on. */
typedef bool (*key_fn)(struct rd *r, const struct sl__json_str *key, void *ctx);
static bool members(struct rd *r, key_fn on_key, void *ctx)
{
	struct sl__json_str key;
	if (!eat(r, '{') || ++r->depth > MAX_DEPTH)
		return false;
	if (!eat(r, '}')) {
		do
			if (!str(r, NULL, &key) || key.escaped || !eat(r, ':') || !on_key(r, &key, ctx))
				return false;
		while (eat(r, ','));
		if (!eat(r, '}'))
			return false;
	}
	r->depth--;
	return true;
}

static bool skip(struct rd *r);

static bool skip_member(struct rd *r, const struct sl__json_str *key, void *ctx)
{
	return skip(r);
}

static bool skip_array(struct rd *r)
{
	if (!eat(r, '[') || ++r->depth > MAX_DEPTH)
		return false;
	if (!eat(r, ']')) {
		do
			if (!skip(r))
				return false;
		while (eat(r, ','));
		if (!eat(r, ']'))
			return false;
	}
	r->depth--;
	return true;
}

/* One value, checked and passed over. */
static bool skip(struct rd *r)
{
	struct sl__json_str s;
	ws(r);
	if (r->p >= r->e)
		return false;
	switch (*r->p) {
	case '"':
		return str(r, NULL, &s);
	case '{':
		return members(r, skip_member, NULL);
	case '[':
		return skip_array(r);
	case 't':
		return word(r, "true", 4);
	case 'f':
		return word(r, "false", 5);
	case 'n':
		return word(r, "null", 4);
	default: {
		size_t n = sl__json_num_len(r->p, r->e);
		r->p += n;
		return n > 0;
	}
	}
}

static bool is(const struct sl__json_str *k, const char *name)
{
	size_t n = strlen(name);
	return k->n == n && memcmp(k->v, name, n) == 0;
}

/* Sets bit in *seen; false when it was set already (a member given twice). */
static bool first(unsigned *seen, unsigned bit)
{
	if (*seen & bit)
		return false;
	*seen |= bit;
	return true;
}

struct chunk_rd {
	struct sl_oai_chunk *c;
	struct sl_buf *buf;
	const char *data;
	unsigned seen;
};

enum { K_CHOICES = 1, K_USAGE = 2, K_DELTA = 4, K_FINISH = 8, K_CONTENT = 16, K_ROLE = 32, K_REFUSAL = 64, K_TEXT = 128 };

/* The chunk's text: a string (decoded, its token's place kept), or null where null_ok. */
static bool text_value(struct rd *r, struct chunk_rd *d, bool null_ok)
{
	struct sl__json_str s;
	if (null_ok && word(r, "null", 4))
		return true;
	ws(r);
	d->c->at = (size_t)(r->p - d->data);
	if (!str(r, d->buf, &s))
		return false;
	d->c->end = (size_t)(r->p - d->data);
	d->c->has_content = true;
	d->c->text = s.v, d->c->len = s.n;
	return true;
}

/* delta: "content" (a string or null), "role" (a string) and "refusal" (null) only. */
static bool delta_key(struct rd *r, const struct sl__json_str *k, void *ctx)
{
	struct chunk_rd *d = ctx;
	struct sl__json_str s;
	if (is(k, "role"))
		return first(&d->seen, K_ROLE) && str(r, NULL, &s);
	if (is(k, "refusal"))
		return first(&d->seen, K_REFUSAL) && word(r, "null", 4);
	return is(k, "content") && first(&d->seen, K_CONTENT) && text_value(r, d, true);
}

/* The choice: a "delta" object (chat) or a "text" string (completions), and a null
 * "finish_reason"; a "message" is not plain; other members are passed over. */
static bool choice_key(struct rd *r, const struct sl__json_str *k, void *ctx)
{
	struct chunk_rd *d = ctx;
	if (is(k, "delta"))
		return first(&d->seen, K_DELTA) && members(r, delta_key, d);
	if (is(k, "text"))
		return first(&d->seen, K_TEXT) && text_value(r, d, false);
	if (is(k, "finish_reason"))
		return first(&d->seen, K_FINISH) && word(r, "null", 4);
	if (is(k, "message"))
		return false;
	return skip(r);
}

/* The chunk: "choices" an array of exactly one choice, "usage" null, no "error". */
static bool chunk_key(struct rd *r, const struct sl__json_str *k, void *ctx)
{
	struct chunk_rd *d = ctx;
	if (is(k, "choices")) {
		unsigned outer = d->seen;
		if (!first(&outer, K_CHOICES) || !eat(r, '['))
			return false;
		d->seen = 0;
		bool ok = members(r, choice_key, d) && !(d->seen & K_DELTA) != !(d->seen & K_TEXT) && eat(r, ']');
		d->seen = outer;
		return ok;
	}
	if (is(k, "usage"))
		return first(&d->seen, K_USAGE) && word(r, "null", 4);
	if (is(k, "error"))
		return false;
	return skip(r);
}

int sl_oai_chunk_scan(const char *data, size_t n, struct sl_buf *buf, struct sl_oai_chunk *c)
{
	struct rd r = {data, data + n, 0};
	struct chunk_rd d = {c, buf, data, 0};
	memset(c, 0, sizeof(*c));
	bool plain = members(&r, chunk_key, &d) && (d.seen & K_CHOICES);
	ws(&r);
	return plain && r.p == r.e;
}

int sl_oai_chunk_like(const struct sl_oai_chunk_like *like, const char *data, size_t n, struct sl_buf *buf,
                      struct sl_oai_chunk *c)
{
	const char *why, *t = like->bytes.data;
	struct sl__json_str s;
	size_t tail = like->bytes.len - like->end;
	if (!like->end || n < like->at + 2 + tail || memcmp(data, t, like->at) != 0 || data[like->at] != '"' ||
	    sl__json_str_read(data + like->at, data + n - tail, buf, &s, &why) || s.end != data + n - tail ||
	    memcmp(s.end, t + like->end, tail) != 0)
		return 0;
	*c = (struct sl_oai_chunk){true, s.v, s.n, like->at, n - tail};
	return 1;
}

void sl_oai_chunk_keep(struct sl_oai_chunk_like *like, const char *data, size_t n, const struct sl_oai_chunk *c)
{
	sl_buf_reset(&like->bytes);
	like->at = like->end = 0;
	if (c->has_content && sl_buf_append(&like->bytes, data, n) == 0)
		like->at = c->at, like->end = c->end;
}
