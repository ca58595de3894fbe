/* request.c: strict request parsing, the sticky key, and the rewrite for the upstream. */
#include <criterion/criterion.h>
#include <json-c/json.h>
#include <string.h>

#include "sluice/openai.h"

static struct json_tokener *tok;
static void setup(void)
{
	tok = json_tokener_new();
}
static void teardown(void)
{
	json_tokener_free(tok);
}
TestSuite(request, .init = setup, .fini = teardown);

static int parse(struct sl_oai_request *r, const char *body, char *err)
{
	return sl_oai_request_parse(r, tok, body, strlen(body), "user", err, 256);
}

Test(request, rejects_what_is_not_a_json_object_with_a_model)
{
	static const struct {
		const char *body;
		int rc;
		const char *msg;
	} cases[] = {
		{"", SL_EPARSE, "empty body"},
		{"{\"model\":", SL_EPARSE, "not valid JSON"},
		{"{\"model\":\"a\"} x", SL_EPARSE, "not valid JSON"},
		{"{\"model\":\"a\"}{}", SL_EPARSE, "not valid JSON"},
		{"{'model':'a'}", SL_EPARSE, "not valid JSON"},
		{"{\"model\":\"\xff\"}", SL_EPARSE, "not valid JSON"},
		{"[1,2]", SL_EINVAL, "must be a JSON object"},
		{"{\"messages\":[]}", SL_EINVAL, "'model' is required"},
		{"{\"model\":42}", SL_EINVAL, "non-empty string"},
		{"{\"model\":\"\"}", SL_EINVAL, "non-empty string"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sl_oai_request r;
		char err[256] = "";
		cr_assert_eq(parse(&r, cases[i].body, err), cases[i].rc, "case %zu", i);
		cr_assert(strstr(err, cases[i].msg), "case %zu: %s", i, err);
		cr_assert_null(r.root);
	}
}

Test(request, reads_model_user_and_stream_flags)
{
	struct sl_oai_request r;
	char err[256];
	cr_assert_eq(parse(&r, "{\"model\":\"chat\",\"user\":\"u-7\",\"stream\":true,"
			       "\"stream_options\":{\"include_usage\":true}}", err), 0);
	cr_assert(sl_slice_eq(r.model, "chat"));
	cr_assert(sl_slice_eq(r.user, "u-7"));
	cr_assert(r.stream && r.client_wants_usage);
	sl_oai_request_release(&r);
	cr_assert_eq(parse(&r, "{\"model\":\"chat\",\"user\":5,\"stream\":\"yes\"}", err), 0);
	cr_assert_eq(r.user.len, 0, "a non-string user is no sticky key");
	cr_assert(!r.stream);
	sl_oai_request_release(&r);
}

Test(request, rewrite_changes_model_and_asks_streams_for_usage)
{
	struct sl_oai_request r;
	struct sl_buf out;
	char err[256];
	sl_buf_init(&out, 0);
	cr_assert_eq(parse(&r, "{\"model\":\"chat\",\"temperature\":0.70,\"stream\":true,\"stream_options\":{}}", err),
		     0);
	cr_assert_eq(sl_oai_request_rewrite(&r, "up-1", &out), 0);
	cr_assert_str_eq(out.data, "{\"model\":\"up-1\",\"temperature\":0.70,\"stream\":true,"
				   "\"stream_options\":{\"include_usage\":true}}");
	sl_oai_request_release(&r);
	sl_buf_reset(&out);
	cr_assert_eq(parse(&r, "{\"model\":\"chat\",\"input\":\"caf\\u00e9 /x\"}", err), 0);
	cr_assert_eq(sl_oai_request_rewrite(&r, "emb", &out), 0);
	cr_assert_str_eq(out.data, "{\"model\":\"emb\",\"input\":\"caf\xc3\xa9 /x\"}");
	sl_oai_request_release(&r);
	sl_buf_release(&out);
}

Test(request, usage_scan_of_a_whole_response)
{
	struct sl_oai_usage u;
	struct json_object *o = json_tokener_parse(
		"{\"choices\":[{\"message\":{\"content\":\"hi\"},\"finish_reason\":\"stop\"}],"
		"\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":1}}");
	sl_oai_usage_init(&u);
	cr_assert(!sl_oai_usage_scan(&u, o), "a response with choices is not a usage-only chunk");
	cr_assert_eq(u.prompt_tokens, 3);
	cr_assert_eq(u.completion_tokens, 1);
	cr_assert_str_eq(u.finish_reason, "stop");
	cr_assert(u.saw_content);
	json_object_put(o);
}

/* A refusal: the structured "refusal" field (whole answers and stream deltas) or a content filter. */
Test(request, usage_scan_sees_refusals)
{
	static const struct {
		const char *json;
		bool refused;
	} cases[] = {
	    {"{\"choices\":[{\"message\":{\"content\":null,\"refusal\":\"I can't help with that.\"},"
	     "\"finish_reason\":\"stop\"}]}", true},
	    {"{\"choices\":[{\"delta\":{\"refusal\":\"I can't\"},\"finish_reason\":null}]}", true},
	    {"{\"choices\":[{\"message\":{\"content\":\"\"},\"finish_reason\":\"content_filter\"}]}", true},
	    {"{\"choices\":[{\"message\":{\"content\":\"hi\",\"refusal\":null},\"finish_reason\":\"stop\"}]}", false},
	    {"{\"choices\":[{\"delta\":{\"refusal\":\"\"},\"finish_reason\":\"length\"}]}", false},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sl_oai_usage u;
		struct json_object *o = json_tokener_parse(cases[i].json);
		cr_assert_not_null(o, "%zu", i);
		sl_oai_usage_init(&u);
		sl_oai_usage_scan(&u, o);
		cr_expect_eq(u.refused, cases[i].refused, "case %zu: %s", i, cases[i].json);
		cr_expect(u.saw_content == (i < 2 || i == 3), "case %zu: content seen", i);
		json_object_put(o);
	}
}

Test(request, error_body_is_openai_shaped)
{
	struct sl_buf out;
	sl_buf_init(&out, 0);
	cr_assert_eq(sl_oai_error(&out, "invalid_request_error", "model_not_found", "the model '%s' does not exist",
				  "a\"b"), 0);
	struct json_object *o = json_tokener_parse(out.data), *e, *v;
	cr_assert_not_null(o);
	cr_assert(json_object_object_get_ex(o, "error", &e));
	cr_assert(json_object_object_get_ex(e, "message", &v));
	cr_assert_str_eq(json_object_get_string(v), "the model 'a\"b' does not exist");
	cr_assert(json_object_object_get_ex(e, "code", &v));
	cr_assert_str_eq(json_object_get_string(v), "model_not_found");
	cr_assert(json_object_object_get_ex(e, "param", &v) && v == NULL);
	json_object_put(o);
	sl_buf_release(&out);
}
