/* monitor.c: the live monitor's state when requests fail: a version whose every request fails
 * has no answer features to test and prompts like the reference's, yet reads drift in the window
 * where its error detector alarms and warning in every window after it, with the error rate
 * named as the reason; healthy windows read ok with no reason; the error rate is per window and
 * the threshold is validated. */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "sluice/monitor.h"

#define N 200 /* reference and window size */

static struct sl_monitor *monitor(double error_warning)
{
	struct sl_monitor_opts o;
	struct sl_monitor *m;
	sl_monitor_opts_init(&o);
	o.reference_size = o.window_size = N;
	if (error_warning > 0)
		o.error_warning = error_warning;
	cr_assert_eq(sl_monitor_new(&o, &m), 0);
	return m;
}

/* One request as the gateway feeds it: the error signal first, then the features (a failed
 * request has no latency and no finish reason). Returns true when it closed a window. */
static bool request(struct sl_monitor *m, int i, bool failed, struct sl_monitor_report *r)
{
	struct sl_features f = {.has_topic = false};
	for (int k = 0; k < SL_F_COUNT; k++)
		f.v[k] = NAN;
	f.v[SL_F_PROMPT_CHARS] = 100 + i % 37;
	f.v[SL_F_MESSAGES] = 1 + i % 3;
	f.v[SL_F_LATENCY_MS] = failed ? NAN : 800 + (i * 13) % 101;
	sl_monitor_signal(m, SL_SIGNAL_ERROR, failed);
	return sl_monitor_add(m, &f, failed ? NULL : "stop", r);
}

/* A window of N requests, the first `failing` of them failed; the report of its close. */
static struct sl_monitor_report window(struct sl_monitor *m, int failing)
{
	struct sl_monitor_report r;
	bool done = false;
	for (int i = 0; i < N; i++)
		done = request(m, i, i < failing, &r);
	cr_assert(done, "the window did not close");
	return r;
}

static struct sl_monitor *healthy_reference(double error_warning)
{
	struct sl_monitor *m = monitor(error_warning);
	struct sl_monitor_report r;
	for (int i = 0; i < N; i++)
		cr_assert(!request(m, i, false, &r));
	return m;
}

Test(monitor, healthy_windows_read_ok_without_reason)
{
	struct sl_monitor *m = healthy_reference(0);
	struct sl_monitor_report r = window(m, 0);
	cr_expect_eq(r.state, SL_DRIFT_OK, "state %s: %s", sl_drift_state_name(r.state), r.reason);
	cr_expect_str_empty(r.reason);
	cr_expect_eq(r.error_rate, 0.0);
	cr_expect_eq(r.ref_error_rate, 0.0);
	sl_monitor_free(m);
}

Test(monitor, an_all_failing_version_never_reads_ok)
{
	struct sl_monitor *m = healthy_reference(0);
	struct sl_monitor_report r = window(m, N); /* the version starts failing every request */
	cr_expect_eq(r.state, SL_DRIFT_DRIFT, "state %s: %s", sl_drift_state_name(r.state), r.reason);
	cr_expect_gt(r.alarms[SL_SIGNAL_ERROR], 0);
	cr_expect_eq(r.error_rate, 1.0);
	cr_expect(strstr(r.reason, "error rate 100% in the current window (reference 0%)"), "%s", r.reason);
	cr_expect(strstr(r.reason, "error_rate alarm"), "%s", r.reason);
	for (int w = 0; w < 3; w++) { /* the detector has settled: only the error rate speaks */
		r = window(m, N);
		cr_expect_eq(r.alarms[SL_SIGNAL_ERROR], 0);
		cr_expect_eq(r.verdict.drifted, 0, "the prompts did not change");
		cr_expect(!r.tested[SL_F_LATENCY_MS], "failed requests have no latency");
		cr_expect_eq(r.state, SL_DRIFT_WARNING, "window %d: state %s", w, sl_drift_state_name(r.state));
		cr_expect_str_eq(r.reason, "error rate 100% in the current window (reference 0%)");
	}
	struct sl_buf json;
	sl_buf_init(&json, 0);
	cr_assert_eq(sl_monitor_report_to_json(&r, &json), 0);
	cr_expect(strstr(json.data, "\"state\":\"warning\""), "%s", json.data);
	cr_expect(strstr(json.data, "\"error_rate\":1,\"reference_error_rate\":0,"
	                            "\"reason\":\"error rate 100% in the current window (reference 0%)\""),
	          "%s", json.data);
	sl_buf_release(&json);
	sl_monitor_free(m);
}

Test(monitor, error_rate_is_per_window_and_below_the_threshold_is_quiet)
{
	struct sl_monitor *m = healthy_reference(0.9);
	struct sl_monitor_report r = window(m, N / 2); /* 50 %: an alarm, but below 0.9 */
	cr_expect_eq(r.error_rate, 0.5);
	cr_expect(!strstr(r.reason, "error rate"), "%s", r.reason);
	for (int w = 0; w < 2; w++)
		r = window(m, 0); /* recovered: the rate is the window's own */
	cr_expect_eq(r.error_rate, 0.0);
	sl_monitor_free(m);
}

Test(monitor, error_warning_is_validated)
{
	struct sl_monitor_opts o;
	struct sl_monitor *m = NULL;
	sl_monitor_opts_init(&o);
	cr_expect_eq(o.error_warning, 0.5);
	o.error_warning = 0;
	cr_expect_eq(sl_monitor_new(&o, &m), SL_EINVAL);
	cr_expect_null(m);
	o.error_warning = 1.5;
	cr_expect_eq(sl_monitor_new(&o, &m), SL_EINVAL);
	o.error_warning = NAN;
	cr_expect_eq(sl_monitor_new(&o, &m), SL_EINVAL);
	o.error_warning = 1;
	cr_expect_eq(sl_monitor_new(&o, &m), 0);
	sl_monitor_free(m);
}

/* Recommendation slates' features come apart from requests (sl_monitor_add_value), join the
 * side the next request joins, and are tested like any feature: a recommender that starts to
 * repeat itself is named in the report; a monitor that never sees a slate does not test them. */
Test(monitor, slate_features_added_apart_are_tested)
{
	struct sl_monitor *m = monitor(0);
	struct sl_monitor_report r;
	for (int i = 0; i < N; i++) {
		cr_assert_eq(sl_monitor_add_value(m, SL_F_RECS_REPETITION, 0.05 + (i % 10) * 0.01), 0);
		cr_assert_eq(sl_monitor_add_value(m, SL_F_RECS_DIVERSITY, 0.6 + (i % 7) * 0.01), 0);
		cr_assert(!request(m, i, false, &r));
	}
	bool done = false;
	for (int i = 0; i < N; i++) {
		cr_assert_eq(sl_monitor_add_value(m, SL_F_RECS_REPETITION, 0.9 + (i % 10) * 0.01), 0);
		cr_assert_eq(sl_monitor_add_value(m, SL_F_RECS_DIVERSITY, 0.6 + (i % 7) * 0.01), 0);
		done = request(m, i, false, &r);
	}
	cr_assert(done);
	cr_expect(r.tested[SL_F_RECS_REPETITION] && r.results[SL_F_RECS_REPETITION].drift);
	cr_expect(r.tested[SL_F_RECS_DIVERSITY] && !r.results[SL_F_RECS_DIVERSITY].drift);
	cr_expect(!r.tested[SL_F_RECS_CTR], "no slate outcome was added");
	cr_expect_str_eq(r.names[SL_F_RECS_REPETITION], "recs_repetition");
	cr_expect_eq(r.state, SL_DRIFT_WARNING, "one feature of many: %s", r.reason);
	cr_expect_eq(sl_monitor_add_value(m, SL_F_COUNT, 1), SL_EINVAL);
	sl_monitor_free(m);

	m = healthy_reference(0);
	r = window(m, 0);
	for (int k = SL_F_RECS_DIVERSITY; k <= SL_F_RECS_WATCH_S; k++)
		cr_expect(!r.tested[k], "%s tested without slates", r.names[k]);
	sl_monitor_free(m);
}
