/* policy_spec.c: the Rule of Two config parser: the documented shape, defaults, bounds, and
 * errors that name the field. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "sluice/agent_policy.h"

Test(pspec, example_and_lookup)
{
	struct sl_agent_policy p;
	char err[256] = "";
	const char *j = "{\"policy\":\"block\",\"user_is_untrusted\":true,\"unknown_tools\":[\"private_data\"],"
	                "\"tools\":[{\"name\":\"send_email\",\"confers\":[\"external_comm\"]},"
	                "{\"name\":\"read_email\",\"confers\":[\"private_data\",\"untrusted_input\"]},"
	                "{\"name\":\"noop\",\"confers\":[]}]}";
	cr_assert_eq(sl_agent_policy_from_json(j, &p, err, sizeof(err)), 0, "%s", err);
	cr_expect_eq(p.mode, SL_AGENT_BLOCK);
	cr_expect(p.user_is_untrusted);
	cr_expect_eq(p.unknown_confers, SL_AGENT_B);
	cr_expect_eq(p.ntools, 3);
	bool known;
	cr_expect_eq(sl_agent_policy_confers(&p, "read_email", 10, &known), SL_AGENT_A | SL_AGENT_B);
	cr_expect(known);
	cr_expect_eq(sl_agent_policy_confers(&p, "noop", 4, &known), 0);
	cr_expect(known);
	cr_expect_eq(sl_agent_policy_confers(&p, "read_emai", 9, &known), SL_AGENT_B);
	cr_expect(!known);
	sl_agent_policy_free(&p);
	cr_assert_eq(sl_agent_policy_from_json("{}", &p, err, sizeof(err)), 0, "%s", err);
	cr_expect_eq(p.mode, SL_AGENT_REMOVE);
	cr_expect(!p.user_is_untrusted);
	cr_expect_eq(p.unknown_confers, SL_AGENT_ALL);
	sl_agent_policy_free(&p);
	cr_expect_str_eq(sl_agent_prop_name(SL_AGENT_C), "external_comm");
	cr_expect_str_eq(sl_agent_verdict_name(SL_AGENT_REMOVED), "remove");
}

Test(pspec, errors_name_the_field)
{
	static const struct {
		const char *json, *err;
	} bad[] = {
	    {"{\"mode\":\"remove\"}", "mode: unknown field"},
	    {"{\"policy\":\"deny\"}", "policy: must be remove, block or flag"},
	    {"{\"user_is_untrusted\":\"no\"}", "user_is_untrusted: must be true or false"},
	    {"{\"unknown_tools\":[\"all\"]}", "unknown_tools[0]: must be untrusted_input, private_data or external_comm"},
	    {"{\"unknown_tools\":\"private_data\"}", "unknown_tools: must be an array"},
	    {"{\"tools\":{}}", "tools: must be an array"},
	    {"{\"tools\":[1]}", "tools[0]: must be an object"},
	    {"{\"tools\":[{\"confers\":[]}]}", "tools[0].name: missing"},
	    {"{\"tools\":[{\"name\":\"\",\"confers\":[]}]}", "tools[0].name: must be a string of 1 to 128 bytes"},
	    {"{\"tools\":[{\"name\":\"a\"}]}", "tools[0].confers: missing"},
	    {"{\"tools\":[{\"name\":\"a\",\"confers\":[\"x\"]}]}",
	     "tools[0].confers[0]: must be untrusted_input, private_data or external_comm"},
	    {"{\"tools\":[{\"name\":\"a\",\"confers\":[],\"why\":1}]}", "tools[0].why: unknown field"},
	    {"{\"tools\":[{\"name\":\"b\",\"confers\":[]},{\"name\":\"b\",\"confers\":[\"private_data\"]}]}",
	     "tools: 'b' is declared twice"},
	    {"{\"tools\":[{\"name\":\"a\\u0000b\",\"confers\":[]}]}",
	     "tools[0].name: must be a string of at most 128 bytes without NUL"},
	    {"nope", "json: null expected"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct sl_agent_policy p;
		char err[256] = "";
		cr_expect_lt(sl_agent_policy_from_json(bad[i].json, &p, err, sizeof(err)), 0, "%s", bad[i].json);
		cr_expect_str_eq(err, bad[i].err, "%s: %s", bad[i].json, err);
	}
}

Test(pspec, bounds)
{
	struct sl_buf b;
	struct sl_agent_policy p;
	char err[256] = "", name[200];
	memset(name, 'n', 129);
	name[129] = '\0';
	sl_buf_init(&b, 0);
	sl_buf_printf(&b, "{\"tools\":[{\"name\":\"%s\",\"confers\":[]}]}", name);
	cr_expect_lt(sl_agent_policy_from_json(b.data, &p, err, sizeof(err)), 0);
	cr_expect_str_eq(err, "tools[0].name: must be a string of 1 to 128 bytes");
	name[128] = '\0';
	sl_buf_reset(&b);
	sl_buf_printf(&b, "{\"tools\":[{\"name\":\"%s\",\"confers\":[]}]}", name);
	cr_expect_eq(sl_agent_policy_from_json(b.data, &p, err, sizeof(err)), 0, "%s", err);
	sl_agent_policy_free(&p);
	for (int n = SL_AGENT_MAX_TOOLS; n <= SL_AGENT_MAX_TOOLS + 1; n++) {
		sl_buf_reset(&b);
		sl_buf_puts(&b, "{\"tools\":[");
		for (int i = 0; i < n; i++)
			sl_buf_printf(&b, "%s{\"name\":\"t%d\",\"confers\":[\"private_data\"]}", i ? "," : "", i);
		sl_buf_puts(&b, "]}");
		int rc = sl_agent_policy_from_json(b.data, &p, err, sizeof(err));
		if (n == SL_AGENT_MAX_TOOLS) {
			cr_expect_eq(rc, 0, "%s", err);
			cr_expect_eq(p.ntools, SL_AGENT_MAX_TOOLS);
			cr_expect_eq(sl_agent_policy_confers(&p, "t777", 4, NULL), SL_AGENT_B);
			sl_agent_policy_free(&p);
		} else {
			cr_expect_lt(rc, 0);
			cr_expect_str_eq(err, "tools: must have at most 1024 entries");
		}
	}
	sl_buf_release(&b);
}
