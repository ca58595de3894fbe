/* sse.c: an incremental Server-Sent Events tap. Bytes go in as they arrive from the upstream;
 * each complete event (terminated by a blank line) goes out at once, after its data is read for
 * usage, finish reason and errors. Only a usage-only chunk the client did not ask for is dropped.
 * An optional hook sees every parsed event and may replace it (the guard's answer checks).
 * Plain chunks (chunk.c) are read without json-c: they teach the usage tap no more than that
 * content has begun, and a hook that takes them unparsed (plain) gets them so.
 * Invariant: `partial` never holds a complete event after a feed returns. */
#include <json-c/json.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "sluice/openai.h"

int sl_sse_tap_init(struct sl_sse_tap *t, bool drop_usage_chunk, size_t max_event_bytes)
{
	memset(t, 0, sizeof(*t));
	sl_buf_init(&t->partial, max_event_bytes);
	sl_buf_init(&t->scratch, max_event_bytes);
	sl_buf_init(&t->text, max_event_bytes);
	sl_buf_init(&t->like.bytes, max_event_bytes);
	sl_oai_usage_init(&t->usage);
	t->drop_usage_chunk = drop_usage_chunk;
	t->tok = json_tokener_new();
	return t->tok ? 0 : SL_ENOMEM;
}

void sl_sse_tap_release(struct sl_sse_tap *t)
{
	sl_buf_release(&t->partial);
	sl_buf_release(&t->scratch);
	sl_buf_release(&t->text);
	sl_buf_release(&t->like.bytes);
	if (t->tok)
		json_tokener_free(t->tok);
	t->tok = NULL;
}

/* The first line break ('\n' or '\r') in p[i..n), or n; 16 bytes at a time where SSE2 exists. */
static size_t next_break(const char *p, size_t i, size_t n)
{
#ifdef __SSE2__
	const __m128i nl = _mm_set1_epi8('\n'), cr = _mm_set1_epi8('\r');
	for (; n - i >= 16; i += 16) {
		__m128i x = _mm_loadu_si128((const __m128i *)(const void *)(p + i));
		int m = _mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(x, nl), _mm_cmpeq_epi8(x, cr)));
		if (m)
			return i + (size_t)__builtin_ctz((unsigned)m);
	}
#endif
	while (i < n && p[i] != '\n' && p[i] != '\r')
		i++;
	return i;
}

/* Returns the length of the event including its terminator, or 0 if none is complete. */
static size_t event_end(const char *p, size_t n)
{
	for (size_t i = next_break(p, 0, n); i + 1 < n; i = next_break(p, i + 1, n)) {
		if (p[i] == '\n' && p[i + 1] == '\n')
			return i + 2;
		if (p[i] == '\r' && p[i + 1] == '\r' && (i + 2 >= n || p[i + 2] != '\n'))
			return i + 2;
		if (i + 3 < n && p[i] == '\r' && p[i + 1] == '\n' && p[i + 2] == '\r' && p[i + 3] == '\n')
			return i + 4;
	}
	return 0;
}

/* Collects the event's data lines (joined by '\n') into data. */
static int event_data(const char *p, size_t n, struct sl_buf *data)
{
	size_t i = 0;
	int lines = 0;
	while (i < n) {
		size_t j = next_break(p, i, n);
		if (j - i >= 5 && memcmp(p + i, "data:", 5) == 0) {
			size_t k = i + 5 + (j > i + 5 && p[i + 5] == ' ');
			int rc = (lines++ ? sl_buf_append(data, "\n", 1) : 0);
			if (rc || (rc = sl_buf_append(data, p + k, j - k)))
				return rc;
		}
		i = j + 1;
	}
	return lines;
}

/* The end of the stream, told to the hook once. */
static int hook_end(struct sl_sse_tap *t, struct sl_buf *out)
{
	if (!t->hook || t->hook_ended)
		return 0;
	t->hook_ended = true;
	return t->hook(t->hook_ctx, NULL, out);
}

/* A hook's answer (0 forward, 1 replaced, < 0 error) as the tap's verdict on the event. */
static int hook_verdict(int rc)
{
	return rc < 0 ? rc : rc == 1 ? 2 : 1;
}

/* Reads a parsed event; returns 1 to forward it, 0 to drop it, 2 when the hook replaced it. */
static int inspect_object(struct sl_sse_tap *t, struct json_object *obj, struct sl_buf *out)
{
	bool had_content = t->usage.saw_content;
	struct json_object *e;
	int verdict = 1;
	if (json_object_object_get_ex(obj, "error", &e))
		t->saw_error = true;
	if (sl_oai_usage_scan(&t->usage, obj) && t->drop_usage_chunk)
		verdict = 0;
	if (!had_content && t->usage.saw_content)
		t->first_content_event = t->events + 1;
	if (verdict && t->hook) {
		int rc = t->hook(t->hook_ctx, obj, out);
		verdict = hook_verdict(rc);
	}
	return verdict;
}

/* Decides on one complete event: 1 forward it, 0 drop it, 2 replaced by the hook, < 0 error. */
static int inspect_event(struct sl_sse_tap *t, const char *p, size_t n, struct sl_buf *out)
{
	struct sl_buf *data = &t->scratch;
	sl_buf_reset(data);
	int lines = event_data(p, n, data);
	if (lines <= 0)
		return 1; /* comments, retry hints, oversized data: pass through untouched */
	if (data->len == 6 && memcmp(data->data, "[DONE]", 6) == 0) {
		t->saw_done = true;
		int rc = hook_end(t, out);
		return hook_verdict(rc);
	}
	/* Most chunks are plain (chunk.c) and skip the parse, most of them told by the last one's
	 * template: a plain chunk has no usage, finish reason, refusal or error, so all it can tell
	 * the tap is that the content has begun. */
	if (t->plain || !t->hook) {
		struct sl_oai_chunk c;
		int plain = sl_oai_chunk_like(&t->like, data->data, data->len, &t->text, &c);
		if (!plain && (plain = sl_oai_chunk_scan(data->data, data->len, &t->text, &c)))
			sl_oai_chunk_keep(&t->like, data->data, data->len, &c);
		if (plain && !t->usage.saw_content && c.len > 0) {
			t->usage.saw_content = true;
			t->first_content_event = t->events + 1;
		}
		if (plain) {
			int rc = t->hook ? t->plain(t->hook_ctx, &c, data->data, data->len, out) : 0;
			return hook_verdict(rc);
		}
	}
	json_tokener_reset(t->tok);
	struct json_object *obj = json_tokener_parse_ex(t->tok, data->data, (int)data->len);
	if (!obj)
		return 1;
	int verdict = inspect_object(t, obj, out);
	json_object_put(obj);
	return verdict;
}

static int emit(struct sl_sse_tap *t, const char *p, size_t n, struct sl_buf *out, bool *first_content)
{
	int verdict = inspect_event(t, p, n, out);
	if (verdict <= 0)
		return verdict;
	t->events++;
	if (t->first_content_event == t->events && first_content)
		*first_content = true;
	return verdict == 2 ? 0 : sl_buf_append(out, p, n);
}

int sl_sse_tap_feed(struct sl_sse_tap *t, const char *data, size_t len, struct sl_buf *out, bool *first_content)
{
	int rc;
	if (first_content)
		*first_content = false;
	/* Fast path: nothing pending, consume whole events straight from the input. */
	while (t->partial.len == 0 && len > 0) {
		size_t n = event_end(data, len);
		if (!n)
			break;
		if ((rc = emit(t, data, n, out, first_content)))
			return rc;
		data += n;
		len -= n;
	}
	if (len == 0)
		return 0;
	/* An event is pending (or this one is cut): the rest joins it, and the events found from
	 * there are taken at an offset, the consumed part dropped once: a read of many events after
	 * a cut one costs one copy, not one move of the rest per event. */
	size_t scanned_from = t->partial.len > 3 ? t->partial.len - 3 : 0, off = 0;
	if ((rc = sl_buf_append(&t->partial, data, len)))
		return rc;
	for (;;) {
		size_t n = event_end(t->partial.data + off + scanned_from, t->partial.len - off - scanned_from);
		if (!n)
			break;
		n += scanned_from;
		if ((rc = emit(t, t->partial.data + off, n, out, first_content)))
			break;
		off += n;
		scanned_from = 0;
	}
	sl_buf_consume(&t->partial, off);
	return rc;
}

int sl_sse_tap_finish(struct sl_sse_tap *t, struct sl_buf *out)
{
	int rc = 0;
	if (t->partial.len > 0) {
		rc = emit(t, t->partial.data, t->partial.len, out, NULL);
		sl_buf_reset(&t->partial);
	}
	if (!rc && (rc = hook_end(t, out)) > 0)
		rc = 0;
	return rc;
}
