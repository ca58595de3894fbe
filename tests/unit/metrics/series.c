/* series.c: (model, version) series are created on first sight and bounded; sub-labels
 * (status x error_class, finish reasons) are bounded too; keys that render alike share one
 * series. */
#include <criterion/criterion.h>

#include "expo.h"

METRICS_FIXTURE(metrics_series)

static void observe(const char *model, const char *version, int status, const char *cls)
{
	struct sl_event ev = ev_make(model, version, status, 0.1);
	ev.error_class = cls;
	sl_metrics_observe(m, &ev);
}

static void render(void)
{
	free(text);
	text = expo_render(m);
	cr_assert_not_null(text);
	const char *err = expo_validate(text);
	cr_assert_null(err, "%s", err);
}

Test(metrics_series, created_on_first_sight)
{
	cr_expect_eq(sl_metrics_series_count(m), 0);
	observe("llama", "v1", 200, NULL);
	observe("llama", "v2", 200, NULL);
	observe("llama", "v1", 200, NULL);
	observe("qwen", "v1", 503, "upstream_timeout");
	cr_expect_eq(sl_metrics_series_count(m), 3);
	render();
	cr_expect_eq(
	    expo_value(text,
	               "sluice_requests_total{model=\"llama\",version=\"v1\",status=\"200\",error_class=\"none\"}"),
	    2);
	cr_expect_eq(
	    expo_value(text,
	               "sluice_requests_total{model=\"llama\",version=\"v2\",status=\"200\",error_class=\"none\"}"),
	    1);
	cr_expect_eq(
	    expo_value(
	        text,
	        "sluice_requests_total{model=\"qwen\",version=\"v1\",status=\"503\",error_class=\"upstream_timeout\"}"),
	    1);
	cr_expect_eq(expo_lines(text, "sluice_streams_total{"), 3);
	cr_expect_eq(expo_lines(text, "gen_ai_server_request_duration_seconds_count{"), 3);
	/* "_other" only shows once used */
	cr_expect_eq(expo_lines(text, "sluice_streams_total{model=\"_other\""), 0);
}

Test(metrics_series, null_labels_count_as_empty)
{
	observe(NULL, NULL, 0, "bad_request");
	observe("", "", 0, "bad_request");
	cr_expect_eq(sl_metrics_series_count(m), 1);
	render();
	cr_expect_eq(
	    expo_value(text, "sluice_requests_total{model=\"\",version=\"\",status=\"0\",error_class=\"bad_request\"}"),
	    2);
}

Test(metrics_series, bounded_with_other)
{
	char model[32];
	for (int i = 0; i < SL_METRICS_MAX_SERIES + 10; i++) {
		snprintf(model, sizeof(model), "m%d", i);
		observe(model, "v", 200, NULL);
	}
	cr_expect_eq(sl_metrics_series_count(m), SL_METRICS_MAX_SERIES + 1);
	observe("m0", "v", 200, NULL); /* an existing series still counts into itself */
	observe("brand-new", "v", 200, NULL);
	cr_expect_eq(sl_metrics_series_count(m), SL_METRICS_MAX_SERIES + 1);
	render();
	cr_expect_eq(
	    expo_value(
	        text, "sluice_requests_total{model=\"_other\",version=\"_other\",status=\"200\",error_class=\"none\"}"),
	    11);
	cr_expect_eq(
	    expo_value(text, "sluice_requests_total{model=\"m0\",version=\"v\",status=\"200\",error_class=\"none\"}"),
	    2);
	cr_expect_eq(
	    expo_value(text,
	               "sluice_requests_total{model=\"m4095\",version=\"v\",status=\"200\",error_class=\"none\"}"),
	    1);
	cr_expect(isnan(expo_value(
	    text, "sluice_requests_total{model=\"m4096\",version=\"v\",status=\"200\",error_class=\"none\"}")));
	cr_expect_eq(expo_lines(text, "sluice_streams_total{"), SL_METRICS_MAX_SERIES + 1);
}

Test(metrics_series, literal_other_is_the_overflow_series)
{
	observe("_other", "_other", 200, NULL);
	cr_expect_eq(sl_metrics_series_count(m), 1);
	render();
	cr_expect_eq(expo_lines(text, "sluice_streams_total{"), 1);
	cr_expect_eq(expo_value(text, "sluice_streams_total{model=\"_other\",version=\"_other\"}"), 0);
}

Test(metrics_series, long_labels_are_cut_on_a_character_boundary)
{
	char a[300], b[300];
	memset(a, 'x', sizeof(a));
	a[SL_METRICS_LABEL_MAX - 1] = '\0';
	strncat(a, "\xc3\xa9tail-a", sizeof(a) - strlen(a) - 1); /* é straddles the cut */
	memcpy(b, a, sizeof(a));
	b[strlen(b) - 1] = 'b';
	observe(a, "v", 200, NULL);
	observe(b, "v", 200, NULL);
	cr_expect_eq(sl_metrics_series_count(m), 1);
	render();
	char want[400];
	snprintf(want, sizeof(want), "sluice_streams_total{model=\"%.*s\",version=\"v\"}", SL_METRICS_LABEL_MAX - 1, a);
	cr_expect_eq(expo_value(text, want), 0, "%s", text);
}

Test(metrics_series, invalid_utf8_that_renders_alike_shares_a_series)
{
	observe("m\xff", "v", 200, NULL);
	observe("m\xfe", "v", 200, NULL);
	observe("m\xef\xbf\xbd", "v", 200, NULL);
	cr_expect_eq(sl_metrics_series_count(m), 1);
	render();
	cr_expect_eq(
	    expo_value(
	        text,
	        "sluice_requests_total{model=\"m\xef\xbf\xbd\",version=\"v\",status=\"200\",error_class=\"none\"}"),
	    3);
}

Test(metrics_series, status_pairs_are_bounded)
{
	char cls[32];
	for (int i = 0; i < SL_METRICS_MAX_STATUS + 5; i++) {
		snprintf(cls, sizeof(cls), "class%d", i);
		observe("m", "v", 500, cls);
	}
	observe("m", "v", 500, "class0");
	observe("m", "v", 200, NULL); /* a new pair after the bound */
	render();
	cr_expect_eq(expo_lines(text, "sluice_requests_total{"), SL_METRICS_MAX_STATUS + 1);
	cr_expect_eq(
	    expo_value(text, "sluice_requests_total{model=\"m\",version=\"v\",status=\"500\",error_class=\"class0\"}"),
	    2);
	cr_expect_eq(
	    expo_value(text, "sluice_requests_total{model=\"m\",version=\"v\",status=\"other\",error_class=\"other\"}"),
	    6);
}

Test(metrics_series, empty_error_class_reads_none)
{
	observe("m", "v", 200, "");
	observe("m", "v", 200, NULL);
	observe("m", "v", 200, "none");
	render();
	cr_expect_eq(expo_lines(text, "sluice_requests_total{"), 1);
	cr_expect_eq(
	    expo_value(text, "sluice_requests_total{model=\"m\",version=\"v\",status=\"200\",error_class=\"none\"}"),
	    3);
}

static void finish(const char *reason)
{
	struct sl_event ev = ev_make("m", "v", 200, 0.1);
	ev.finish_reason = reason;
	sl_metrics_observe(m, &ev);
}

Test(metrics_series, finish_reasons_are_bounded)
{
	char reason[32];
	finish(NULL); /* not counted */
	finish("stop");
	finish("other"); /* the overflow's own label: no duplicate line */
	for (int i = 0; i < SL_METRICS_MAX_REASONS + 3; i++) {
		snprintf(reason, sizeof(reason), "r%d", i);
		finish(reason);
	}
	finish("stop");
	render();
	cr_expect_eq(expo_lines(text, "sluice_finish_reasons_total{"), SL_METRICS_MAX_REASONS + 1);
	cr_expect_eq(expo_value(text, "sluice_finish_reasons_total{model=\"m\",version=\"v\",reason=\"stop\"}"), 2);
	/* "stop" + r0..r14 fill the 16; r15..r18 and the literal "other" overflow */
	cr_expect_eq(expo_value(text, "sluice_finish_reasons_total{model=\"m\",version=\"v\",reason=\"other\"}"), 5);
	cr_expect(isnan(expo_value(text, "sluice_finish_reasons_total{model=\"m\",version=\"v\",reason=\"r15\"}")));
}

Test(metrics_series, inflight_gauge_and_byte_counters)
{
	struct sl_event ev = ev_make("m", "v", 200, 0.1);
	ev.stream = true;
	ev.request_bytes = 100;
	ev.response_bytes = 5000;
	sl_metrics_observe(m, &ev);
	ev.stream = false;
	sl_metrics_observe(m, &ev);
	sl_metrics_set_inflight(m, 7);
	render();
	cr_expect_eq(expo_value(text, "sluice_requests_in_flight"), 7);
	cr_expect_eq(expo_value(text, "sluice_streams_total{model=\"m\",version=\"v\"}"), 1);
	cr_expect_eq(expo_value(text, "sluice_request_bytes_total{model=\"m\",version=\"v\"}"), 200);
	cr_expect_eq(expo_value(text, "sluice_response_bytes_total{model=\"m\",version=\"v\"}"), 10000);
}

Test(metrics_series, null_arguments_are_ignored)
{
	sl_metrics_observe(m, NULL);
	sl_metrics_observe(NULL, NULL);
	sl_metrics_free(NULL);
	cr_expect_eq(sl_metrics_series_count(m), 0);
}
