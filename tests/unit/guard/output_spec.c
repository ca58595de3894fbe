/* output_spec.c: the output checks' config: documented defaults, strict parsing with errors
 * that name the field, and the JSON round trip. */
#include "output_test.h"

Test(ospec, defaults)
{
	struct sl_guard_output_spec s;
	char err[256] = "";
	cr_assert_eq(sl_guard_output_spec_from_json("{}", &s, err, sizeof(err)), 0, "%s", err);
	cr_expect_eq(s.action, SL_GOUT_FLAG);
	cr_expect_eq(s.urls, SL_GOUT_URLS_ALL);
	cr_expect(s.system_prompt_leak && s.secrets);
	cr_expect_eq(s.leak_min_run, 4);
	cr_expect_eq(s.leak_min_share, 0.5);
	cr_expect_eq(s.ncanaries, 0);
	cr_expect_eq(s.ndomains, 0);
}

Test(ospec, full_and_round_trip)
{
	struct sl_guard_output_spec s, back;
	char err[256] = "";
	const char *j = "{\"action\":\"redact\",\"urls\":\"images\",\"canaries\":[\"CANARY-123456\",\"zz-top-secret\"],"
	                "\"allow_domains\":[\"Example.COM.\",\"cdn.x-y.org\"],\"system_prompt_leak\":false,"
	                "\"secrets\":false,\"leak_min_run\":2,\"leak_min_share\":0.25}";
	cr_assert_eq(sl_guard_output_spec_from_json(j, &s, err, sizeof(err)), 0, "%s", err);
	cr_expect_eq(s.action, SL_GOUT_REDACT);
	cr_expect_eq(s.urls, SL_GOUT_URLS_IMAGES);
	cr_expect_eq(s.ncanaries, 2);
	cr_expect_str_eq(s.canaries[1], "zz-top-secret");
	cr_expect_eq(s.ndomains, 2);
	cr_expect_str_eq(s.allow_domains[0], "example.com");
	cr_expect(!s.system_prompt_leak && !s.secrets);
	cr_expect_eq(s.leak_min_run, 2);
	cr_expect_eq(s.leak_min_share, 0.25);
	struct sl_buf b;
	sl_buf_init(&b, 0);
	cr_assert_eq(sl_guard_output_spec_to_json(&s, &b), 0);
	cr_assert_eq(sl_guard_output_spec_from_json(b.data, &back, err, sizeof(err)), 0, "%s: %s", b.data, err);
	cr_expect(memcmp(&s, &back, sizeof(s)) == 0, "%s", b.data);
	sl_buf_release(&b);
}

Test(ospec, errors_name_the_field)
{
	static const struct {
		const char *json, *err;
	} bad[] = {
	    {"{\"actions\":\"flag\"}", "actions: unknown field"},
	    {"{\"action\":\"drop\"}", "action: must be flag, redact or block"},
	    {"{\"urls\":true}", "urls: must be all, images or off"},
	    {"{\"secrets\":1}", "secrets: must be true or false"},
	    {"{\"allow_domains\":[\"a.com\",\"b.org\",\"http://c.net\"]}", "allow_domains[2]: must be a host name"},
	    {"{\"allow_domains\":[\"a..com\"]}", "allow_domains[0]: must be a host name"},
	    {"{\"allow_domains\":[\"-a.com\"]}", "allow_domains[0]: must be a host name"},
	    {"{\"allow_domains\":[\"\"]}", "allow_domains[0]: must be a host name"},
	    {"{\"allow_domains\":[7]}", "allow_domains[0]: must be a host name"},
	    {"{\"allow_domains\":\"a.com\"}", "allow_domains: must be an array"},
	    {"{\"canaries\":[\"short\"]}", "canaries[0]: must be a string of 6 to 128 bytes"},
	    {"{\"canaries\":[\"abc\\u0000defgh\"]}", "canaries[0]: must be a string of 6 to 128 bytes"},
	    {"{\"leak_min_run\":0}", "leak_min_run: must be in [1, 64]"},
	    {"{\"leak_min_run\":65}", "leak_min_run: must be in [0, 64]"},
	    {"{\"leak_min_share\":0}", "leak_min_share: must be in (0, 1]"},
	    {"{\"leak_min_share\":1.5}", "leak_min_share: must be in [0, 1]"},
	    {"[]", "output: must be a JSON object"},
	    {"{\"action\":\"flag\"", "json: unexpected end of input"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct sl_guard_output_spec s;
		char err[256] = "";
		cr_expect_lt(sl_guard_output_spec_from_json(bad[i].json, &s, err, sizeof(err)), 0, "%s", bad[i].json);
		cr_expect_str_eq(err, bad[i].err, "%s", bad[i].json);
	}
}

Test(ospec, domain_length_bounds)
{
	char json[600], name[300];
	struct sl_guard_output_spec s;
	char err[256] = "";
	/* 253 bytes: labels of 63 with dots (63*4 + 3 = 255, so trim to 253). */
	memset(name, 'a', sizeof(name));
	for (int i = 63; i < 253; i += 64)
		name[i] = '.';
	name[253] = '\0';
	snprintf(json, sizeof(json), "{\"allow_domains\":[\"%s\"]}", name);
	cr_expect_eq(sl_guard_output_spec_from_json(json, &s, err, sizeof(err)), 0, "%s", err);
	name[253] = '.';
	name[254] = '\0';
	snprintf(json, sizeof(json), "{\"allow_domains\":[\"%s\"]}", name);
	cr_expect_lt(sl_guard_output_spec_from_json(json, &s, err, sizeof(err)), 0);
	cr_expect_str_eq(err, "allow_domains[0]: must be a host name");
}

Test(ospec, too_many_entries)
{
	struct sl_buf b;
	sl_buf_init(&b, 0);
	sl_buf_puts(&b, "{\"allow_domains\":[");
	for (int i = 0; i <= SL_GOUT_MAX_DOMAINS; i++)
		sl_buf_printf(&b, "%s\"d%d.com\"", i ? "," : "", i);
	sl_buf_puts(&b, "]}");
	struct sl_guard_output_spec s;
	char err[256] = "";
	cr_expect_lt(sl_guard_output_spec_from_json(b.data, &s, err, sizeof(err)), 0);
	cr_expect_str_eq(err, "allow_domains: must have at most 128 entries");
	sl_buf_release(&b);
}
