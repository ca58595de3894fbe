/* exposition.c: the text format as a whole: every family once with HELP and TYPE, label
 * escaping, bounded output, promtool's verdict, and random bytes as label values. */
#include <criterion/criterion.h>

#include "expo.h"

METRICS_FIXTURE(metrics_exposition)

static const char *const families[][2] = {
    {"gen_ai_server_request_duration_seconds", "histogram"},
    {"gen_ai_server_time_to_first_token_seconds", "histogram"},
    {"gen_ai_server_time_per_output_token_seconds", "histogram"},
    {"gen_ai_client_operation_duration_seconds", "histogram"},
    {"gen_ai_client_token_usage", "histogram"},
    {"sluice_requests_total", "counter"},
    {"sluice_finish_reasons_total", "counter"},
    {"sluice_guard_actions_total", "counter"},
    {"sluice_guard_segments_total", "counter"},
    {"sluice_streams_total", "counter"},
    {"sluice_request_bytes_total", "counter"},
    {"sluice_response_bytes_total", "counter"},
    {"sluice_requests_in_flight", "gauge"},
};

/* A full event: every histogram and counter gets a sample. */
static void observe_full(const char *model, const char *version, const char *reason, double scale)
{
	struct sl_event ev = ev_make(model, version, 200, 1.5 * scale);
	ev.stream = true;
	ev.ttft_s = 0.2 * scale;
	ev.upstream_s = 1.4 * scale;
	ev.prompt_tokens = 120;
	ev.completion_tokens = 300;
	ev.finish_reason = reason;
	ev.request_bytes = 800;
	ev.response_bytes = 40000;
	sl_metrics_observe(m, &ev);
}

static void render(void)
{
	free(text);
	text = expo_render(m);
	cr_assert_not_null(text);
	const char *err = expo_validate(text);
	cr_assert_null(err, "%s\n%s", err, text);
}

static void expect_promtool_clean(void)
{
	char report[4096];
	if (!promtool_available())
		cr_skip("promtool is not on PATH");
	int status = promtool_check(text, report, sizeof(report));
	cr_expect_eq(status, 0, "promtool exit status %d: %s", status, report);
	cr_expect_str_empty(report, "promtool: %s", report);
}

Test(metrics_exposition, guard_actions_by_stage_and_action)
{
	struct sl_event ev = ev_make("m", "v", 400, 0.1);
	ev.guard_input = "block";
	sl_metrics_observe(m, &ev);
	ev = ev_make("m", "v", 200, 0.1);
	ev.guard_input = "sanitize";
	ev.guard_output = "redact";
	sl_metrics_observe(m, &ev);
	sl_metrics_observe(m, &ev);
	ev.guard_output = "not-an-action"; /* not counted */
	sl_metrics_observe(m, &ev);
	render();
	cr_expect(strstr(text, "sluice_guard_actions_total{model=\"m\",version=\"v\",stage=\"input\",action=\"block\"} 1\n"));
	cr_expect(strstr(text, "sluice_guard_actions_total{model=\"m\",version=\"v\",stage=\"input\",action=\"sanitize\"} 3\n"));
	cr_expect(strstr(text, "sluice_guard_actions_total{model=\"m\",version=\"v\",stage=\"output\",action=\"redact\"} 2\n"));
	cr_expect_eq(expo_lines(text, "sluice_guard_actions_total{"), 3);
	cr_expect_eq(expo_lines(text, "sluice_guard_segments_total{"), 0, "no segment was checked");
	ev = ev_make("m", "v", 200, 0.1);
	ev.guard_scanned = 5;
	ev.guard_remembered = 3;
	sl_metrics_observe(m, &ev);
	ev.guard_scanned = 1;
	ev.guard_remembered = 0;
	sl_metrics_observe(m, &ev);
	render();
	cr_expect(strstr(text, "sluice_guard_segments_total{model=\"m\",version=\"v\",from=\"scan\"} 3\n"), "%s", text);
	cr_expect(strstr(text, "sluice_guard_segments_total{model=\"m\",version=\"v\",from=\"memo\"} 3\n"));
	expect_promtool_clean();
}

Test(metrics_exposition, every_family_once_in_order)
{
	observe_full("m", "v", "stop", 1);
	render();
	const char *prev = text;
	for (size_t i = 0; i < sizeof(families) / sizeof(families[0]); i++) {
		char line[256];
		snprintf(line, sizeof(line), "# TYPE %s %s\n", families[i][0], families[i][1]);
		const char *at = strstr(text, line);
		cr_expect_not_null(at, "missing %s", line);
		cr_expect_geq(at, prev, "out of order: %s", line);
		cr_expect_eq(expo_lines(text, line), 1);
		snprintf(line, sizeof(line), "# HELP %s ", families[i][0]);
		cr_expect_eq(expo_lines(text, line), 1);
		prev = at ? at : prev;
	}
	cr_expect_eq(expo_lines(text, "# "), 2 * (int)(sizeof(families) / sizeof(families[0])));
}

Test(metrics_exposition, empty_metrics_render_headers_and_gauge)
{
	render();
	cr_expect_eq(expo_value(text, "sluice_requests_in_flight"), 0);
	cr_expect_eq(expo_lines(text, "sluice_requests_in_flight"), 1);
	expect_promtool_clean();
}

Test(metrics_exposition, label_values_are_escaped)
{
	struct sl_event ev = ev_make("a\\b\"c\nd", "v\t1\r", 500, 0.1);
	ev.error_class = "x\"y";
	ev.finish_reason = "line\nbreak";
	sl_metrics_observe(m, &ev);
	render();
	cr_expect_eq(expo_value(text, "sluice_streams_total{model=\"a\\\\b\\\"c\\nd\",version=\"v\t1\r\"}"), 0, "%s",
	             text);
	cr_expect_eq(expo_value(text,
	                        "sluice_requests_total{model=\"a\\\\b\\\"c\\nd\",version=\"v\t1\r\",status=\"500\","
	                        "error_class=\"x\\\"y\"}"),
	             1);
	cr_expect_eq(expo_value(text, "sluice_finish_reasons_total{model=\"a\\\\b\\\"c\\nd\",version=\"v\t1\r\","
	                              "reason=\"line\\nbreak\"}"),
	             1);
	expect_promtool_clean();
}

Test(metrics_exposition, invalid_utf8_becomes_replacement_character)
{
	struct sl_event ev = ev_make("caf\xc3\xa9", "\xc0\xaf", 200, 0.1);
	sl_metrics_observe(m, &ev);
	render();
	cr_expect_eq(
	    expo_value(text, "sluice_streams_total{model=\"caf\xc3\xa9\",version=\"\xef\xbf\xbd\xef\xbf\xbd\"}"), 0,
	    "%s", text);
}

Test(metrics_exposition, bounded_output_fails_cleanly)
{
	struct sl_buf b;
	observe_full("m", "v", "stop", 1);
	sl_buf_init(&b, 1000);
	sl_buf_puts(&b, "keep");
	cr_expect_eq(sl_metrics_render(m, &b), SL_ETOOBIG);
	cr_expect_eq(b.len, 4);
	cr_expect_str_eq(b.data, "keep");
	sl_buf_release(&b);
}

Test(metrics_exposition, appends_after_existing_content)
{
	struct sl_buf b;
	sl_buf_init(&b, 0);
	sl_buf_puts(&b, "# HELP x y\n");
	cr_expect_eq(sl_metrics_render(m, &b), 0);
	cr_expect_eq(strncmp(b.data, "# HELP x y\n# HELP gen_ai_server_request_duration_seconds ", 57), 0);
	sl_buf_release(&b);
}

Test(metrics_exposition, promtool_accepts_several_series)
{
	static const char *const models[] = {"llama-3-8b", "qwen2.5:7b", "gpt-4o", "a/b \"quoted\""};
	static const char *const reasons[] = {"stop", "length", "tool_calls", NULL};
	for (int i = 0; i < 4; i++)
		for (int v = 0; v < 3; v++) {
			char version[16];
			snprintf(version, sizeof(version), "v%d", v);
			for (int k = 0; k < 20; k++)
				observe_full(models[i], version, reasons[k % 4], 0.01 * (k + 1));
			struct sl_event ev = ev_make(models[i], version, 504, 30);
			ev.error_class = "upstream_timeout";
			sl_metrics_observe(m, &ev);
		}
	sl_metrics_set_inflight(m, 3);
	render();
	cr_expect_eq(sl_metrics_series_count(m), 12);
	expect_promtool_clean();
}

/* Random bytes (never NUL), biased toward the ones that need care. */
static void random_string(struct sl_rng *rng, char *s, size_t cap)
{
	static const char tricky[] = "\\\"\n\r\t{}=,# \xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xff\xc0\xed\xa0\x80";
	size_t n = sl_rng_next(rng) % cap;
	for (size_t i = 0; i < n; i++) {
		uint64_t r = sl_rng_next(rng);
		char c = (r & 1) ? tricky[(r >> 1) % (sizeof(tricky) - 1)] : (char)(r >> 8);
		s[i] = c ? c : 'z';
	}
	s[n] = '\0';
}

Test(metrics_exposition, random_bytes_as_labels)
{
	struct sl_rng rng;
	char model[200], version[40], reason[80], cls[80];
	sl_rng_seed(&rng, 7);
	for (int i = 0; i < 20000; i++) {
		random_string(&rng, model, (i % 50 == 0) ? sizeof(model) : 4);
		random_string(&rng, version, 3);
		random_string(&rng, reason, (i % 7 == 0) ? sizeof(reason) : 3);
		random_string(&rng, cls, (i % 9 == 0) ? sizeof(cls) : 3);
		struct sl_event ev = ev_make(model, version, (int)(sl_rng_next(&rng) % 600) - 50, sl_rng_double(&rng));
		ev.finish_reason = (i % 3) ? reason : NULL;
		ev.error_class = (i % 4) ? cls : NULL;
		ev.prompt_tokens = (long)(sl_rng_next(&rng) % 5000) - 10;
		sl_metrics_observe(m, &ev);
	}
	cr_expect_leq(sl_metrics_series_count(m), SL_METRICS_MAX_SERIES + 1);
	render();
	expect_promtool_clean();
}

/* The checks above are only as good as the validator: it must catch what matters. */
Test(metrics_exposition, validator_rejects_broken_text)
{
	static const char *const bad[] = {
	    "# HELP a x\n# TYPE a counter\na 1",                          /* no final newline */
	    "# HELP a x\n# TYPE a counter\na{l=\"\xff\"} 1\n",            /* invalid UTF-8 */
	    "# HELP a x\n# TYPE a counter\na{l=\"\\t\"} 1\n",             /* bad escape */
	    "# HELP a x\n# TYPE a counter\na{l=\"1\"} 1\na{l=\"1\"} 2\n", /* duplicate */
	    "# HELP a x\n# TYPE a counter\nb 1\n",                        /* outside family */
	    "# HELP a x\n# TYPE a counter\n# HELP b x\n# TYPE b gauge\n# HELP a x\n# TYPE a counter\n",
	    "# HELP a x\n# TYPE a histogram\na_total 1\n",          /* wrong suffix */
	    "# HELP a x\n# TYPE a counter\na{l=\"1\",l=\"2\"} 1\n", /* repeated label */
	    "# HELP a x\n# TYPE a counter\na 1x\n",                 /* bad value */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_expect_not_null(expo_validate(bad[i]), "accepted case %zu", i);
	cr_expect_null(
	    expo_validate("# HELP a x\n# TYPE a histogram\na_bucket{le=\"+Inf\"} 1\na_sum 0.5\na_count 1\n"));
}
