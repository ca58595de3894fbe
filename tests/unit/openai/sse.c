/* sse.c: the SSE tap forwards whole events as soon as they end, across any split of the input,
 * reads usage and finish reasons, and drops only a usage-only chunk the client did not ask for. */
#include <criterion/criterion.h>
#include <string.h>

#include "sluice/openai.h"

static const char stream[] =
	"data: {\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"}}]}\n\n"
	"data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hel\"}}]}\n\n"
	": keep-alive comment\n\n"
	"data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"lo\"}}]}\r\n\r\n"
	"data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"length\"}]}\n\n"
	"data: {\"choices\":[],\"usage\":{\"prompt_tokens\":11,\"completion_tokens\":2,\"total_tokens\":13}}\n\n"
	"data: [DONE]\n\n";

static const char usage_event[] =
	"data: {\"choices\":[],\"usage\":{\"prompt_tokens\":11,\"completion_tokens\":2,\"total_tokens\":13}}\n\n";

/* Feeds the stream in pieces of `step` bytes and returns what came out. */
static void run(size_t step, bool drop, struct sl_buf *out, struct sl_sse_tap *t)
{
	cr_assert_eq(sl_sse_tap_init(t, drop, 1 << 20), 0);
	size_t n = strlen(stream);
	for (size_t i = 0; i < n; i += step) {
		size_t k = n - i < step ? n - i : step;
		size_t before = out->len;
		cr_assert_eq(sl_sse_tap_feed(t, stream + i, k, out, NULL), 0);
		/* whatever came out ends on an event boundary */
		if (out->len > before)
			cr_assert(out->len >= 2 && out->data[out->len - 1] == '\n' &&
				  (out->data[out->len - 2] == '\n' || out->data[out->len - 3] == '\n'));
	}
	cr_assert_eq(sl_sse_tap_finish(t, out), 0);
}

Test(sse, passes_everything_through_when_usage_was_asked_for)
{
	for (size_t step = 1; step <= strlen(stream); step++) {
		struct sl_buf out;
		struct sl_sse_tap t;
		sl_buf_init(&out, 0);
		run(step, false, &out, &t);
		cr_assert_str_eq(out.data, stream, "step %zu", step);
		cr_assert_eq(t.usage.prompt_tokens, 11);
		cr_assert_eq(t.usage.completion_tokens, 2);
		cr_assert_str_eq(t.usage.finish_reason, "length");
		cr_assert(t.saw_done);
		cr_assert_eq(t.first_content_event, 2, "the role-only chunk carries no content");
		sl_sse_tap_release(&t);
		sl_buf_release(&out);
	}
}

Test(sse, drops_only_the_usage_chunk_when_not_asked)
{
	char expected[sizeof(stream)];
	const char *at = strstr(stream, usage_event);
	size_t head = (size_t)(at - stream);
	memcpy(expected, stream, head);
	memcpy(expected + head, at + strlen(usage_event), strlen(stream) - head - strlen(usage_event) + 1);
	for (size_t step = 1; step <= strlen(stream); step += 7) {
		struct sl_buf out;
		struct sl_sse_tap t;
		sl_buf_init(&out, 0);
		run(step, true, &out, &t);
		cr_assert_str_eq(out.data, expected, "step %zu", step);
		cr_assert_eq(t.usage.completion_tokens, 2, "usage is still measured");
		sl_sse_tap_release(&t);
		sl_buf_release(&out);
	}
}

Test(sse, reports_first_content_once)
{
	struct sl_sse_tap t;
	struct sl_buf out;
	bool first = false;
	int firsts = 0;
	sl_buf_init(&out, 0);
	cr_assert_eq(sl_sse_tap_init(&t, true, 1 << 20), 0);
	for (size_t i = 0; i < strlen(stream); i++) {
		cr_assert_eq(sl_sse_tap_feed(&t, stream + i, 1, &out, &first), 0);
		firsts += first;
	}
	cr_assert_eq(firsts, 1);
	sl_sse_tap_release(&t);
	sl_buf_release(&out);
}

Test(sse, unterminated_tail_is_flushed_and_errors_seen)
{
	static const char s[] = "data: {\"error\":{\"message\":\"boom\"}}\n\ndata: partial";
	struct sl_sse_tap t;
	struct sl_buf out;
	sl_buf_init(&out, 0);
	cr_assert_eq(sl_sse_tap_init(&t, true, 1 << 20), 0);
	cr_assert_eq(sl_sse_tap_feed(&t, s, strlen(s), &out, NULL), 0);
	cr_assert(t.saw_error);
	cr_assert_eq(out.len, strlen(s) - strlen("data: partial"));
	cr_assert_eq(sl_sse_tap_finish(&t, &out), 0);
	cr_assert_str_eq(out.data, s);
	sl_sse_tap_release(&t);
	sl_buf_release(&out);
}

Test(sse, oversized_event_fails_cleanly)
{
	struct sl_sse_tap t;
	struct sl_buf out;
	char big[300];
	memset(big, 'x', sizeof(big));
	sl_buf_init(&out, 0);
	cr_assert_eq(sl_sse_tap_init(&t, true, 256), 0);
	cr_assert_eq(sl_sse_tap_feed(&t, "data: ", 6, &out, NULL), 0);
	cr_assert_eq(sl_sse_tap_feed(&t, big, sizeof(big), &out, NULL), SL_ETOOBIG);
	sl_sse_tap_release(&t);
	sl_buf_release(&out);
}

/* A hook that replaces every second data event by one naming its count, and marks the end of
 * the stream. */
struct hook_log {
	int objects, ends;
};

static int test_hook(void *ctx, struct json_object *obj, struct sl_buf *out)
{
	struct hook_log *log = ctx;
	if (!obj) {
		log->ends++;
		return sl_buf_puts(out, "data: {\"end\":true}\n\n") ? -1 : 0;
	}
	if (++log->objects % 2)
		return 0;
	return sl_buf_printf(out, "data: {\"replaced\":%d}\n\n", log->objects) ? -1 : 1;
}

Test(sse, hook_sees_every_event_and_the_end_once)
{
	for (size_t step = 1; step <= strlen(stream); step += 7) {
		struct sl_buf out;
		struct sl_sse_tap t;
		struct hook_log log = {0, 0};
		sl_buf_init(&out, 0);
		cr_assert_eq(sl_sse_tap_init(&t, false, 1 << 20), 0);
		t.hook = test_hook;
		t.hook_ctx = &log;
		size_t n = strlen(stream);
		for (size_t i = 0; i < n; i += step)
			cr_assert_eq(sl_sse_tap_feed(&t, stream + i, n - i < step ? n - i : step, &out, NULL), 0);
		cr_assert_eq(sl_sse_tap_finish(&t, &out), 0);
		cr_expect_eq(log.objects, 5, "every data event but [DONE] is parsed for the hook");
		cr_expect_eq(log.ends, 1);
		cr_expect(strstr(out.data, "data: {\"replaced\":2}\n\n"));
		cr_expect(strstr(out.data, "data: {\"replaced\":4}\n\n"));
		cr_expect_null(strstr(out.data, "\"content\":\"Hel\""), "the second data event was replaced");
		cr_expect(strstr(out.data, "\"content\":\"lo\""));
		cr_expect(strstr(out.data, ": keep-alive comment"));
		/* the end comes before [DONE] */
		char *end = strstr(out.data, "{\"end\":true}"), *done = strstr(out.data, "[DONE]");
		cr_assert(end && done && end < done);
		sl_sse_tap_release(&t);
		sl_buf_release(&out);
	}
}

Test(sse, hook_end_without_done)
{
	static const char cut[] = "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"x\"}}]}\n\n";
	struct sl_buf out;
	struct sl_sse_tap t;
	struct hook_log log = {0, 0};
	sl_buf_init(&out, 0);
	cr_assert_eq(sl_sse_tap_init(&t, false, 1 << 20), 0);
	t.hook = test_hook;
	t.hook_ctx = &log;
	cr_assert_eq(sl_sse_tap_feed(&t, cut, strlen(cut), &out, NULL), 0);
	cr_assert_eq(sl_sse_tap_finish(&t, &out), 0);
	cr_assert_eq(sl_sse_tap_finish(&t, &out), 0);
	cr_expect_eq(log.ends, 1, "the end is told once");
	cr_expect_eq(log.objects, 1);
	sl_sse_tap_release(&t);
	sl_buf_release(&out);
}

/* With a plain hook, the plain chunks reach it unparsed (the first content among them, still
 * reported once); the rest (the finish, the usage chunk) reach the parsed hook. */
struct split_log {
	int objects, plain;
	char text[64];
};

static int split_hook(void *ctx, struct json_object *obj, struct sl_buf *out)
{
	((struct split_log *)ctx)->objects += obj != NULL;
	return 0;
}

static int split_plain(void *ctx, const struct sl_oai_chunk *c, const char *data, size_t n, struct sl_buf *out)
{
	struct split_log *log = ctx;
	log->plain++;
	cr_assert(c->has_content && c->at < c->end && c->end <= n && data[c->at] == '"');
	strncat(log->text, c->text, c->len);
	return 0;
}

Test(sse, plain_chunks_skip_the_parse)
{
	static const char s[] =
		"data: {\"choices\":[{\"delta\":{\"role\":\"assistant\",\"content\":\"\"}}],\"usage\":null}\n\n"
		"data: {\"choices\":[{\"delta\":{\"content\":\"Hel\"}}],\"usage\":null}\n\n"
		"data: {\"choices\":[{\"delta\":{\"content\":\"lo\"}}],\"usage\":null}\n\n"
		"data: {\"choices\":[{\"delta\":{\"content\":\" \\u00e9\"}}],\"usage\":null}\n\n"
		"data: {\"choices\":[{\"delta\":{},\"finish_reason\":\"stop\"}],\"usage\":null}\n\n"
		"data: {\"choices\":[],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":3,\"total_tokens\":6}}\n\n"
		"data: [DONE]\n\n";
	struct sl_buf out;
	struct sl_sse_tap t;
	struct split_log log = {0};
	sl_buf_init(&out, 0);
	cr_assert_eq(sl_sse_tap_init(&t, false, 1 << 20), 0);
	t.hook = split_hook;
	t.plain = split_plain;
	t.hook_ctx = &log;
	bool first = false;
	size_t n = strlen(s), cut = strstr(s, "Hel") - s;
	cr_assert_eq(sl_sse_tap_feed(&t, s, cut, &out, &first), 0);
	cr_expect_not(first, "the role chunk has no content");
	cr_assert_eq(sl_sse_tap_feed(&t, s + cut, n - cut, &out, &first), 0);
	cr_expect(first, "the first content is reported");
	cr_expect_eq(t.first_content_event, 2);
	cr_assert_eq(sl_sse_tap_finish(&t, &out), 0);
	cr_expect_eq(log.objects, 2, "the finish and the usage are parsed");
	cr_expect_eq(log.plain, 4);
	cr_expect_str_eq(log.text, "Hello \xC3\xA9");
	cr_expect_eq(t.usage.completion_tokens, 3);
	cr_expect_str_eq(t.usage.finish_reason, "stop");
	cr_expect_eq(out.len, strlen(s), "everything forwarded as it came");
	sl_sse_tap_release(&t);
	sl_buf_release(&out);
}
