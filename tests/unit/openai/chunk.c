/* chunk.c: the plain-chunk reader takes the common streamed chunk shapes (OpenAI's with usage
 * null and logprobs, vLLM's, sluice sim's), decodes the content's escapes, points at its string
 * token, and leaves everything else to json-c; whatever it calls plain, json-c reads the same way
 * (the same text, no finish reason, usage, error or tool calls), here on fixed events and on
 * every single-byte change and cut of them. */
#include <criterion/criterion.h>
#include <json-c/json.h>
#include <string.h>

#include "sluice/openai.h"

static const char *const plain_events[] = {
    "{\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"created\":1795920418,\"model\":\"x\",\"choices\":"
    "[{\"index\":0,\"delta\":{\"content\":\" Here\"},\"logprobs\":null,\"finish_reason\":null}]}",
    "{\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"gpt-4o\",\"system_fingerprint\":"
    "\"fp_1\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\",\"refusal\":null},"
    "\"logprobs\":null,\"finish_reason\":null}],\"usage\":null}",
    "{\"choices\":[{\"index\":0,\"delta\":{\"content\":\"a\"},\"logprobs\":{\"content\":[{\"token\":\"a\","
    "\"logprob\":-0.25,\"bytes\":[97],\"top_logprobs\":[{\"token\":\"b\",\"logprob\":-1.5e3,\"bytes\":[]}]}]},"
    "\"finish_reason\":null,\"stop_reason\":null}],\"usage\":null,\"x\":[true,false,{},[]]}",
    "{ \"choices\" : [ { \"index\" : 0 , \"delta\" : { \"content\" : \"Hel\\tlo \\\"q\\\" \\u00e9\\ud83d\\ude00\\n\" } } ] }",
    "{\"choices\":[{\"delta\":{}}]}",
    "{\"choices\":[{\"delta\":{\"content\":null}}]}",
    "{\"choices\":[{\"delta\":{\"role\":\"assistant\"}}]}",
    "\t{\"choices\":[{\"delta\":{\"content\":\"x\"}}]}  ",
    "{\"id\":\"cmpl-1\",\"object\":\"text_completion\",\"created\":1,\"choices\":[{\"text\":\" tok\",\"index\":0,"
    "\"logprobs\":null,\"finish_reason\":null}],\"model\":\"x\"}",
};

static const char *const other_events[] = {
    "{\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}",
    "{\"choices\":[],\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":3,\"total_tokens\":4}}",
    "{\"choices\":[{\"delta\":{\"content\":\"a\"}}],\"usage\":{\"prompt_tokens\":1}}",
    "{\"error\":{\"message\":\"boom\"}}",
    "{\"choices\":[{\"delta\":{\"content\":\"a\"}}],\"error\":null}",
    "{\"choices\":[{\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":{\"name\":\"send_email\"}}]}}]}",
    "{\"choices\":[{\"delta\":{\"refusal\":\"I can't\"}}]}",
    "{\"choices\":[{\"delta\":{\"content\":\"a\"}},{\"delta\":{\"content\":\"b\"}}]}",
    "{\"choices\":[{\"text\":\"a\",\"delta\":{\"content\":\"b\"}}]}",
    "{\"choices\":[{\"text\":null}]}",
    "{\"choices\":[{\"text\":\"a\",\"text\":\"b\"}]}",
    "{\"choices\":[{\"message\":{\"content\":\"a\"}}]}",
    "{\"choices\":[{\"index\":0}]}",
    "{\"choices\":[{\"delta\":{\"content\":\"a\",\"content\":\"b\"}}]}",
    "{\"choices\":[{\"delta\":{\"content\":\"a\"}}],\"choices\":[{\"delta\":{\"content\":\"b\"}}]}",
    "{\"choices\":[{\"delta\":{\"\\u0063ontent\":\"a\"}}]}",
    "{\"choices\":[{\"delta\":{\"content\":\"a\"},\"fin\\u0069sh_reason\":\"stop\"}]}",
    "{\"choices\":[{\"delta\":{\"content\":\"a\"}}]}\n",
    "{\"choices\":[{\"delta\":\n{\"content\":\"a\"}}]}",
    "{\"choices\":[{\"delta\":{\"content\":\"a\"}}]} x",
    "{\"choices\":[{\"delta\":{\"content\":\"a\"}}],}",
    "{\"choices\":[{\"delta\":{\"content\":\"a\\q\"}}]}",
    "{\"choices\":[{\"delta\":{\"content\":\"a\"}}]",
    "{\"choices\":[{\"delta\":{\"content\":\"a\"}}],\"deep\":[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]}",
    "{\"choices\":[{\"delta\":{\"content\":1}}]}",
    "{\"choices\":[{\"delta\":{\"content\":\"a\"},\"finish_reason\":0}]}",
    "{\"choices\":{\"delta\":{\"content\":\"a\"}}}",
    "{\"choices\":[{\"delta\":{\"content\":\"a\"}}],\"n\":01}",
    "[]",
    "null",
    "",
};

/* Whether json-c reads data as the plain reader did: one choice, its delta's content, nothing
 * that ends, counts or fails the stream. */
static void agrees_with_json_c(const char *data, size_t n, const struct sl_oai_chunk *c)
{
	struct json_tokener *tok = json_tokener_new();
	struct json_object *o = json_tokener_parse_ex(tok, data, (int)n), *v, *choices, *ch, *delta, *content;
	cr_assert_not_null(o, "json-c does not parse what was read as plain: %.*s", (int)n, data);
	cr_assert_eq(json_tokener_get_parse_end(tok), n, "%.*s", (int)n, data);
	cr_assert_not(json_object_object_get_ex(o, "error", &v), "%.*s", (int)n, data);
	cr_assert(!json_object_object_get_ex(o, "usage", &v) || v == NULL, "%.*s", (int)n, data);
	cr_assert(json_object_object_get_ex(o, "choices", &choices) && json_object_array_length(choices) == 1);
	ch = json_object_array_get_idx(choices, 0);
	cr_assert(!json_object_object_get_ex(ch, "finish_reason", &v) || v == NULL, "%.*s", (int)n, data);
	cr_assert_not(json_object_object_get_ex(ch, "message", &v), "%.*s", (int)n, data);
	bool has;
	if (json_object_object_get_ex(ch, "delta", &delta)) { /* chat */
		cr_assert(json_object_is_type(delta, json_type_object), "%.*s", (int)n, data);
		cr_assert_not(json_object_object_get_ex(ch, "text", &v), "%.*s", (int)n, data);
		cr_assert_not(json_object_object_get_ex(delta, "tool_calls", &v), "%.*s", (int)n, data);
		cr_assert(!json_object_object_get_ex(delta, "refusal", &v) || v == NULL, "%.*s", (int)n, data);
		has = json_object_object_get_ex(delta, "content", &content) && json_object_is_type(content, json_type_string);
	} else { /* completions */
		has = json_object_object_get_ex(ch, "text", &content) && json_object_is_type(content, json_type_string);
		cr_assert(has, "%.*s", (int)n, data);
	}
	cr_assert_eq(has, c->has_content, "%.*s", (int)n, data);
	if (has) {
		cr_assert_eq((size_t)json_object_get_string_len(content), c->len, "%.*s", (int)n, data);
		cr_assert(memcmp(json_object_get_string(content), c->text, c->len) == 0, "%.*s", (int)n, data);
		cr_assert(c->at < c->end && c->end <= n && data[c->at] == '"' && data[c->end - 1] == '"');
	}
	json_object_put(o);
	json_tokener_free(tok);
}

/* The last plain event with content, as the tap keeps it: every event is also tried against
 * it, and what matches must read as json-c reads it too. */
static struct sl_oai_chunk_like like;

static int scan(const char *data, size_t n, struct sl_buf *buf, struct sl_oai_chunk *c)
{
	if (sl_oai_chunk_like(&like, data, n, buf, c))
		agrees_with_json_c(data, n, c);
	int plain = sl_oai_chunk_scan(data, n, buf, c);
	if (plain) {
		agrees_with_json_c(data, n, c);
		sl_oai_chunk_keep(&like, data, n, c);
	}
	return plain;
}

static void like_init(void)
{
	sl_buf_init(&like.bytes, 0);
	like.at = like.end = 0;
}
static void like_fini(void)
{
	sl_buf_release(&like.bytes);
}
TestSuite(chunk, .init = like_init, .fini = like_fini);

/* The next chunk of the same stream matches the template: the same bytes but for the content. */
Test(chunk, the_next_chunk_matches_the_last_one)
{
	static const char a[] = "{\"id\":\"c1\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hel\"},\"finish_reason\":null}]}",
	                  b[] = "{\"id\":\"c1\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"lo \\\"w\\u00e9\\\"\"},\"finish_reason\":null}]}",
	                  other_id[] = "{\"id\":\"c2\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"x\"},\"finish_reason\":null}]}",
	                  breakout[] = "{\"id\":\"c1\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"x\"},\"finish_reason\":\"stop\"},\"finish_reason\":null}]}",
	                  null_content[] = "{\"id\":\"c1\",\"choices\":[{\"index\":0,\"delta\":{\"content\":null},\"finish_reason\":null}]}";
	struct sl_buf buf;
	struct sl_oai_chunk c;
	sl_buf_init(&buf, 0);
	cr_assert_eq(sl_oai_chunk_like(&like, a, strlen(a), &buf, &c), 0, "no template yet");
	cr_assert_eq(scan(a, strlen(a), &buf, &c), 1);
	cr_assert_eq(sl_oai_chunk_like(&like, b, strlen(b), &buf, &c), 1);
	cr_assert(c.has_content && c.len == 8 && memcmp(c.text, "lo \"w\xC3\xA9\"", 8) == 0);
	cr_assert_eq(memcmp(b + c.at, "\"lo \\\"w", 7), 0);
	cr_assert_eq(strcmp(b + c.end, "},\"finish_reason\":null}]}"), 0);
	cr_assert_eq(sl_oai_chunk_like(&like, other_id, strlen(other_id), &buf, &c), 0);
	cr_assert_eq(sl_oai_chunk_like(&like, breakout, strlen(breakout), &buf, &c), 0);
	cr_assert_eq(sl_oai_chunk_like(&like, null_content, strlen(null_content), &buf, &c), 0);
	cr_assert_eq(scan(null_content, strlen(null_content), &buf, &c), 1);
	cr_assert_eq(sl_oai_chunk_like(&like, b, strlen(b), &buf, &c), 0, "a chunk without content is no template");
	sl_buf_release(&buf);
}

Test(chunk, common_shapes_are_plain)
{
	struct sl_buf buf;
	struct sl_oai_chunk c;
	sl_buf_init(&buf, 0);
	for (size_t i = 0; i < sizeof plain_events / sizeof *plain_events; i++)
		cr_expect_eq(scan(plain_events[i], strlen(plain_events[i]), &buf, &c), 1, "%s", plain_events[i]);
	cr_assert_eq(scan(plain_events[0], strlen(plain_events[0]), &buf, &c), 1);
	cr_assert(c.has_content && c.len == 5 && memcmp(c.text, " Here", 5) == 0);
	cr_assert(c.text > plain_events[0] && c.text < plain_events[0] + strlen(plain_events[0]), "no copy");
	cr_assert_eq(memcmp(plain_events[0] + c.at, "\" Here\"", c.end - c.at), 0);
	cr_assert_eq(scan(plain_events[3], strlen(plain_events[3]), &buf, &c), 1);
	const char want[] = "Hel\tlo \"q\" \xC3\xA9\xF0\x9F\x98\x80\n";
	cr_assert(c.len == sizeof want - 1 && memcmp(c.text, want, c.len) == 0);
	cr_assert_eq(scan(plain_events[5], strlen(plain_events[5]), &buf, &c), 1);
	cr_assert_not(c.has_content);
	sl_buf_release(&buf);
}

Test(chunk, everything_else_is_left_to_the_parse)
{
	struct sl_buf buf;
	struct sl_oai_chunk c;
	sl_buf_init(&buf, 0);
	for (size_t i = 0; i < sizeof other_events / sizeof *other_events; i++)
		cr_expect_eq(sl_oai_chunk_scan(other_events[i], strlen(other_events[i]), &buf, &c), 0, "%s",
		             other_events[i]);
	sl_buf_release(&buf);
}

/* A buffer that cannot hold the decoded content makes the event not plain, not a failure. */
Test(chunk, a_full_buffer_is_not_plain)
{
	struct sl_buf buf;
	struct sl_oai_chunk c;
	sl_buf_init(&buf, 2);
	const char *e = "{\"choices\":[{\"delta\":{\"content\":\"\\u00e9\\u00e9\\u00e9\"}}]}";
	cr_assert_eq(sl_oai_chunk_scan(e, strlen(e), &buf, &c), 0);
	sl_buf_release(&buf);
}

/* Every one-byte change, insertion and cut of every event: whatever is read as plain, json-c
 * reads the same way (scan() checks it). */
Test(chunk, plain_means_what_json_c_reads)
{
	static const char alphabet[] = "{}[]\":,\\ \tun0-e.a\n";
	struct sl_buf buf;
	struct sl_oai_chunk c;
	char m[1024];
	size_t plain = 0;
	sl_buf_init(&buf, 0);
	const size_t np = sizeof plain_events / sizeof *plain_events, no = sizeof other_events / sizeof *other_events;
	for (size_t k = 0; k < np + no; k++) {
		const char *e = k < np ? plain_events[k] : other_events[k - np];
		size_t n = strlen(e);
		cr_assert_lt(n + 1, sizeof m);
		for (size_t i = 0; i <= n; i++) {
			plain += (size_t)scan(e, i, &buf, &c); /* cut */
			for (size_t a = 0; a < sizeof alphabet - 1; a++) {
				memcpy(m, e, n);
				if (i < n) { /* change */
					m[i] = alphabet[a];
					plain += (size_t)scan(m, n, &buf, &c);
				}
				memcpy(m, e, i); /* insertion */
				m[i] = alphabet[a];
				memcpy(m + i + 1, e + i, n - i);
				plain += (size_t)scan(m, n + 1, &buf, &c);
			}
		}
	}
	cr_assert_gt(plain, 1000, "the mutations should keep many events plain (%zu)", plain);
	sl_buf_release(&buf);
}
