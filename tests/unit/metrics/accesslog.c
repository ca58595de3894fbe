/* accesslog.c: access-log records are one line of valid JSON with the right fields and nulls,
 * for any bytes in the strings; sl_event_init; the UTF-8-safe JSON escaper. */
#include <criterion/criterion.h>
#include <json-c/json.h>

#include "expo.h"

/* Parses a record strictly (UTF-8 validated); checks it is exactly one line. */
static json_object *parse_line(const struct sl_buf *b)
{
	cr_assert_gt(b->len, 1);
	cr_assert_eq(b->data[b->len - 1], '\n');
	cr_assert_null(memchr(b->data, '\n', b->len - 1), "raw newline inside the record");
	json_tokener *tok = json_tokener_new();
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	json_object *o = json_tokener_parse_ex(tok, b->data, (int)b->len - 1);
	enum json_tokener_error err = json_tokener_get_error(tok);
	json_tokener_free(tok);
	cr_assert_eq(err, json_tokener_success, "%s: %s", json_tokener_error_desc(err), b->data);
	cr_assert(json_object_is_type(o, json_type_object));
	return o;
}

static json_object *record(const struct sl_event *ev)
{
	struct sl_buf b;
	sl_buf_init(&b, 0);
	cr_assert_eq(sl_event_to_json(ev, &b), 0);
	json_object *o = parse_line(&b);
	sl_buf_release(&b);
	return o;
}

static json_object *get(json_object *o, const char *k)
{
	json_object *v = NULL;
	cr_assert(json_object_object_get_ex(o, k, &v), "missing %s", k);
	return v;
}

static void expect_null(json_object *o, const char *k)
{
	cr_expect_null(get(o, k), "%s should be null", k);
}

static void expect_str(json_object *o, const char *k, const char *want)
{
	json_object *v = get(o, k);
	cr_assert(json_object_is_type(v, json_type_string), "%s is not a string", k);
	cr_expect_str_eq(json_object_get_string(v), want, "%s", k);
}

static void expect_int(json_object *o, const char *k, int64_t want)
{
	json_object *v = get(o, k);
	cr_assert(json_object_is_type(v, json_type_int), "%s is not an integer", k);
	cr_expect_eq(json_object_get_int64(v), want, "%s", k);
}

static void expect_double(json_object *o, const char *k, double want)
{
	json_object *v = get(o, k);
	cr_assert(json_object_is_type(v, json_type_double) || json_object_is_type(v, json_type_int), "%s", k);
	cr_expect_float_eq(json_object_get_double(v), want, 1e-9, "%s", k);
}

Test(accesslog, event_init)
{
	struct sl_event ev;
	memset(&ev, 0x5a, sizeof(ev));
	sl_event_init(&ev);
	cr_expect_eq(ev.total_s, -1);
	cr_expect_eq(ev.ttft_s, -1);
	cr_expect_eq(ev.upstream_s, -1);
	cr_expect_eq(ev.prompt_tokens, -1);
	cr_expect_eq(ev.completion_tokens, -1);
	cr_expect_eq(ev.start, 0);
	cr_expect_eq(ev.status, 0);
	cr_expect_eq(ev.request_id[0], '\0');
	cr_expect_null(ev.model);
	cr_expect_null(ev.version);
	cr_expect_null(ev.endpoint);
	cr_expect_null(ev.upstream);
	cr_expect_null(ev.error_class);
	cr_expect_null(ev.finish_reason);
	cr_expect_null(ev.body);
	cr_expect_not(ev.stream);
	cr_expect_not(ev.sticky);
	cr_expect_eq(ev.request_bytes + ev.response_bytes + ev.body_len, 0);
}

Test(accesslog, full_record)
{
	struct sl_event ev;
	sl_event_init(&ev);
	ev.start = 1714567890.123;
	memcpy(ev.request_id, "0123456789abcdef0123456789abcdef", 33);
	ev.endpoint = "chat.completions";
	ev.model = "llama";
	ev.version = "v2";
	ev.upstream = "127.0.0.1:8001";
	ev.status = 200;
	ev.finish_reason = "stop";
	ev.stream = true;
	ev.sticky = true;
	ev.total_s = 1.5;
	ev.ttft_s = 0.25;
	ev.upstream_s = 1.4995;
	ev.prompt_tokens = 12;
	ev.completion_tokens = 34;
	ev.request_bytes = 100;
	ev.response_bytes = 2000;
	ev.body = "{\"model\":\"llama\"}";
	ev.body_len = strlen(ev.body);
	json_object *o = record(&ev);
	expect_str(o, "ts", "2024-05-01T12:51:30.123Z");
	expect_str(o, "request_id", "0123456789abcdef0123456789abcdef");
	expect_str(o, "endpoint", "chat.completions");
	expect_str(o, "model", "llama");
	expect_str(o, "version", "v2");
	expect_str(o, "upstream", "127.0.0.1:8001");
	expect_int(o, "status", 200);
	expect_null(o, "error_class");
	expect_str(o, "finish_reason", "stop");
	cr_expect(json_object_get_boolean(get(o, "stream")));
	cr_expect(json_object_get_boolean(get(o, "sticky")));
	expect_double(o, "total_ms", 1500);
	expect_double(o, "ttft_ms", 250);
	expect_double(o, "upstream_ms", 1499.5);
	expect_int(o, "prompt_tokens", 12);
	expect_int(o, "completion_tokens", 34);
	expect_int(o, "request_bytes", 100);
	expect_int(o, "response_bytes", 2000);
	expect_str(o, "body", "{\"model\":\"llama\"}");
	cr_expect_eq(json_object_object_length(o), 19);
	json_object_put(o);
}

Test(accesslog, nothing_measured_is_null)
{
	struct sl_event ev;
	sl_event_init(&ev);
	ev.error_class = "bad_request";
	ev.status = 400;
	json_object *o = record(&ev);
	static const char *const nulls[] = {"ts", "request_id",       "endpoint", "model",   "version",     "upstream",
	                                    "finish_reason",    "total_ms", "ttft_ms", "upstream_ms", "prompt_tokens",
	                                    "completion_tokens"};
	for (size_t i = 0; i < sizeof(nulls) / sizeof(nulls[0]); i++)
		expect_null(o, nulls[i]);
	expect_str(o, "error_class", "bad_request");
	expect_int(o, "status", 400);
	cr_expect_not(json_object_get_boolean(get(o, "stream")));
	cr_expect_not(json_object_object_get_ex(o, "body", NULL), "body only when set");
	cr_expect_eq(json_object_object_length(o), 18);
	json_object_put(o);
}

Test(accesslog, guard_fields_only_when_guarded)
{
	struct sl_event ev;
	sl_event_init(&ev);
	ev.status = 200;
	ev.guard_score = 0.875;
	ev.guard_input = "flag";
	json_object *o = record(&ev);
	expect_str(o, "guard_input", "flag");
	expect_null(o, "guard_output");
	cr_expect_float_eq(json_object_get_double(get(o, "guard_score")), 0.875, 1e-12);
	cr_expect_eq(json_object_object_length(o), 21);
	json_object_put(o);
	ev.guard_input = NULL;
	ev.guard_score = -1;
	ev.guard_output = "redact";
	o = record(&ev);
	expect_str(o, "guard_output", "redact");
	expect_null(o, "guard_score");
	json_object_put(o);
}

/* The record's text for ev (the caller frees it). */
static char *record_text(const struct sl_event *ev)
{
	struct sl_buf b;
	sl_buf_init(&b, 0);
	cr_assert_eq(sl_event_to_json(ev, &b), 0);
	char *t = strndup(b.data, b.len);
	sl_buf_release(&b);
	return t;
}

/* Times and the guard's score are written by integer arithmetic: rounded, fixed decimals. */
Test(accesslog, fixed_decimals)
{
	struct sl_event ev;
	sl_event_init(&ev);
	ev.total_s = 0.0123456789;
	ev.ttft_s = 0.0000004;
	ev.upstream_s = 1e17; /* past 2^63 microseconds: printf's digits */
	ev.guard_score = 0.123456;
	char *t = record_text(&ev);
	cr_expect(strstr(t, "\"total_ms\":12.346,") != NULL, "%s", t);
	cr_expect(strstr(t, "\"ttft_ms\":0.000,") != NULL, "%s", t);
	cr_expect(strstr(t, "\"upstream_ms\":100000000000000000000.000,") != NULL, "%s", t);
	cr_expect(strstr(t, "\"guard_score\":0.1235") != NULL, "%s", t);
	free(t);
	ev.guard_score = 1;
	t = record_text(&ev);
	cr_expect(strstr(t, "\"guard_score\":1.0000") != NULL, "%s", t);
	free(t);
}

Test(accesslog, odd_times)
{
	struct sl_event ev;
	sl_event_init(&ev);
	ev.start = NAN;
	ev.total_s = INFINITY;
	ev.ttft_s = NAN;
	ev.upstream_s = 0;
	json_object *o = record(&ev);
	expect_null(o, "ts");
	expect_null(o, "total_ms");
	expect_null(o, "ttft_ms");
	expect_double(o, "upstream_ms", 0);
	json_object_put(o);
	ev.start = 1e300;
	o = record(&ev);
	expect_null(o, "ts");
	json_object_put(o);
	ev.start = 0.5;
	o = record(&ev);
	expect_str(o, "ts", "1970-01-01T00:00:00.500Z");
	json_object_put(o);
	ev.start = 1714567890.9996; /* rounds to the next second */
	o = record(&ev);
	expect_str(o, "ts", "2024-05-01T12:51:31.000Z");
	json_object_put(o);
}

Test(accesslog, body_with_any_bytes)
{
	static const char body[] = "a\0b\x01\x1f\"\\\n\r\t\x7f\xc3\xa9\xff\xed\xa0\x80\xf0\x9f\x98\x80\xe2\x82";
	struct sl_event ev;
	sl_event_init(&ev);
	ev.body = body;
	ev.body_len = sizeof(body) - 1;
	json_object *o = record(&ev);
	json_object *v = get(o, "body");
	static const char want[] = "a\0b\x01\x1f\"\\\n\r\t\x7f\xc3\xa9\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"
	                           "\xf0\x9f\x98\x80\xef\xbf\xbd\xef\xbf\xbd";
	cr_assert_eq((size_t)json_object_get_string_len(v), sizeof(want) - 1);
	cr_expect_eq(memcmp(json_object_get_string(v), want, sizeof(want) - 1), 0);
	json_object_put(o);
}

static void expect_escaped(const char *in, size_t n, const char *want)
{
	struct sl_buf b;
	sl_buf_init(&b, 0);
	cr_assert_eq(sl_buf_json_str(&b, in, n), 0);
	cr_expect_str_eq(b.data, want);
	sl_buf_release(&b);
}

Test(accesslog, json_escaper)
{
	expect_escaped("", 0, "\"\"");
	expect_escaped("plain", 5, "\"plain\"");
	expect_escaped("\b\f\x01", 3, "\"\\b\\f\\u0001\"");
	expect_escaped("\xc0\xaf", 2, "\"\xef\xbf\xbd\xef\xbf\xbd\"");                 /* overlong '/' */
	expect_escaped("\xe0\x80\xaf", 3, "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\""); /* overlong */
	expect_escaped("\xed\x9f\xbf", 3, "\"\xed\x9f\xbf\"");                         /* U+D7FF is fine */
	expect_escaped("\xf4\x8f\xbf\xbf", 4, "\"\xf4\x8f\xbf\xbf\"");                 /* U+10FFFF */
	expect_escaped("\xf4\x90\x80\x80", 4,
	               "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\""); /* above U+10FFFF */
	expect_escaped("x\xe2\x82", 3, "\"x\xef\xbf\xbd\xef\xbf\xbd\"");        /* cut at the end */
}

Test(accesslog, bounded_output_fails_cleanly)
{
	struct sl_event ev;
	struct sl_buf b;
	char body[4096];
	memset(body, 'a', sizeof(body));
	sl_event_init(&ev);
	ev.body = body;
	ev.body_len = sizeof(body);
	sl_buf_init(&b, 1024);
	sl_buf_puts(&b, "previous line\n");
	cr_expect_eq(sl_event_to_json(&ev, &b), SL_ETOOBIG);
	cr_expect_str_eq(b.data, "previous line\n");
	sl_buf_release(&b);
}

static void random_string(struct sl_rng *rng, char *s, size_t cap)
{
	size_t n = sl_rng_next(rng) % cap;
	for (size_t i = 0; i < n; i++) {
		char c = (char)sl_rng_next(rng);
		s[i] = c ? c : '\x01';
	}
	s[n] = '\0';
}

Test(accesslog, random_bytes_always_give_valid_json)
{
	struct sl_rng rng;
	char s[7][64], body[256];
	sl_rng_seed(&rng, 11);
	for (int i = 0; i < 5000; i++) {
		struct sl_event ev;
		sl_event_init(&ev);
		for (int k = 0; k < 7; k++)
			random_string(&rng, s[k], sizeof(s[k]));
		for (size_t k = 0; k < sizeof(body); k++)
			body[k] = (char)sl_rng_next(&rng);
		memcpy(ev.request_id, s[0], sizeof(ev.request_id)); /* not necessarily terminated */
		ev.endpoint = s[1];
		ev.model = s[2];
		ev.version = s[3];
		ev.upstream = s[4];
		ev.error_class = s[5];
		ev.finish_reason = s[6];
		ev.body = body;
		ev.body_len = sl_rng_next(&rng) % sizeof(body);
		ev.start = sl_rng_double(&rng) * 4e9;
		json_object *o = record(&ev);
		cr_assert_eq(json_object_object_length(o), 19);
		json_object_put(o);
	}
}
