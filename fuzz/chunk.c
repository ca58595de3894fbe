/* chunk.c: libFuzzer target for the plain-chunk reader (untrusted upstream bytes): whatever it
 * reads as plain, json-c must read the same way: all of it one object, one choice whose delta's
 * content (or, without a delta, text) is the reader's text, and no finish reason, usage, error,
 * message, refusal or tool calls. */
#include <json-c/json.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sluice/openai.h"

static bool absent_or_null(struct json_object *o, const char *key)
{
	struct json_object *v;
	return !json_object_object_get_ex(o, key, &v) || v == NULL;
}

/* Aborts unless json-c reads data[0..size) as the plain chunk c. */
static void check(const uint8_t *data, size_t size, const struct sl_oai_chunk *c)
{
	struct json_tokener *tok = json_tokener_new();
	struct json_object *o = json_tokener_parse_ex(tok, (const char *)data, (int)size), *choices, *delta, *s;
	if (!o || json_tokener_get_parse_end(tok) != size || !absent_or_null(o, "usage") ||
	    json_object_object_get_ex(o, "error", &s) || !json_object_object_get_ex(o, "choices", &choices) ||
	    json_object_array_length(choices) != 1)
		abort();
	struct json_object *ch = json_object_array_get_idx(choices, 0);
	if (!absent_or_null(ch, "finish_reason") || json_object_object_get_ex(ch, "message", &s))
		abort();
	bool has;
	if (json_object_object_get_ex(ch, "delta", &delta)) { /* chat */
		if (json_object_object_get_ex(ch, "text", &s) || json_object_object_get_ex(delta, "tool_calls", &s) ||
		    !absent_or_null(delta, "refusal"))
			abort();
		has = json_object_object_get_ex(delta, "content", &s) && json_object_is_type(s, json_type_string);
	} else if (!(has = json_object_object_get_ex(ch, "text", &s) && json_object_is_type(s, json_type_string))) {
		abort(); /* completions: the text is a string */
	}
	if (has != c->has_content ||
	    (has && ((size_t)json_object_get_string_len(s) != c->len || memcmp(json_object_get_string(s), c->text, c->len) ||
	             c->end > size || data[c->at] != '"' || data[c->end - 1] != '"')))
		abort();
	json_object_put(o);
	json_tokener_free(tok);
}

/* The input is one event, or two separated by a 0x01 byte: the first, when plain, becomes the
 * template the second is matched against (sl_oai_chunk_like). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sl_buf buf;
	struct sl_oai_chunk c;
	struct sl_oai_chunk_like like = {.at = 0, .end = 0};
	sl_buf_init(&buf, 1 << 16);
	sl_buf_init(&like.bytes, 1 << 16);
	const uint8_t *cut = memchr(data, 1, size);
	size_t first = cut ? (size_t)(cut - data) : size;
	if (sl_oai_chunk_scan((const char *)data, first, &buf, &c)) {
		check(data, first, &c);
		sl_oai_chunk_keep(&like, (const char *)data, first, &c);
	}
	if (cut && sl_oai_chunk_like(&like, (const char *)cut + 1, size - first - 1, &buf, &c))
		check(cut + 1, size - first - 1, &c);
	sl_buf_release(&buf);
	sl_buf_release(&like.bytes);
	return 0;
}
