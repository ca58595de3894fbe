/* histogram.c: bucket placement (bounds are inclusive), cumulative counts, _sum and _count,
 * which events feed which histogram, and the token histograms. */
#include <criterion/criterion.h>

#include "expo.h"

METRICS_FIXTURE(metrics_histogram)

static void render(void)
{
	free(text);
	text = expo_render(m);
	cr_assert_not_null(text);
	const char *err = expo_validate(text);
	cr_assert_null(err, "%s", err);
}

/* Cumulative count of a histogram child at bound le ("+Inf" included). */
static double bucket(const char *family, const char *labels, const char *le)
{
	char series[512];
	snprintf(series, sizeof(series), "%s_bucket{%s,le=\"%s\"}", family, labels, le);
	return expo_value(text, series);
}

static double field(const char *family, const char *suffix, const char *labels)
{
	char series[512];
	snprintf(series, sizeof(series), "%s_%s{%s}", family, suffix, labels);
	return expo_value(text, series);
}

#define REQ    "gen_ai_server_request_duration_seconds"
#define TTFT   "gen_ai_server_time_to_first_token_seconds"
#define TPOT   "gen_ai_server_time_per_output_token_seconds"
#define CLIENT "gen_ai_client_operation_duration_seconds"
#define TOKENS "gen_ai_client_token_usage"
#define MV     "model=\"m\",version=\"v\""

static const double req_le[] = {0.001, 0.0025, 0.005, 0.01, 0.02,  0.04,  0.08,  0.16, 0.32,
                                0.64,  1.28,   2.56,  5.12, 10.24, 20.48, 40.96, 81.92};
static const char *const req_le_text[] = {"0.001", "0.0025", "0.005", "0.01", "0.02",  "0.04",  "0.08",  "0.16", "0.32",
                                          "0.64",  "1.28",   "2.56",  "5.12", "10.24", "20.48", "40.96", "81.92"};

Test(metrics_histogram, exact_bounds_land_in_their_own_bucket)
{
	for (size_t i = 0; i < 17; i++) {
		struct sl_event ev = ev_make("m", "v", 200, req_le[i]);
		sl_metrics_observe(m, &ev);
	}
	render();
	for (size_t i = 0; i < 17; i++)
		cr_expect_eq(bucket(REQ, MV, req_le_text[i]), (double)(i + 1), "le=%s", req_le_text[i]);
	cr_expect_eq(bucket(REQ, MV, "+Inf"), 17);
	cr_expect_eq(expo_lines(text, REQ "_bucket{"), 18);
}

Test(metrics_histogram, just_above_a_bound_goes_to_the_next)
{
	struct sl_event ev = ev_make("m", "v", 200, nextafter(0.01, 1));
	sl_metrics_observe(m, &ev);
	ev.total_s = 0; /* zero is in the first bucket */
	sl_metrics_observe(m, &ev);
	ev.total_s = 1000; /* past the last bound: +Inf only */
	sl_metrics_observe(m, &ev);
	render();
	cr_expect_eq(bucket(REQ, MV, "0.001"), 1);
	cr_expect_eq(bucket(REQ, MV, "0.01"), 1);
	cr_expect_eq(bucket(REQ, MV, "0.02"), 2);
	cr_expect_eq(bucket(REQ, MV, "81.92"), 2);
	cr_expect_eq(bucket(REQ, MV, "+Inf"), 3);
	cr_expect_eq(field(REQ, "count", MV), 3);
	cr_expect_float_eq(field(REQ, "sum", MV), 1000.01, 1e-9);
}

Test(metrics_histogram, cumulative_counts_sum_and_count)
{
	struct sl_rng rng;
	double sum = 0;
	sl_rng_seed(&rng, 42);
	for (int i = 0; i < 5000; i++) {
		struct sl_event ev = ev_make("m", "v", 200, sl_rng_lognormal(&rng, 0.3, 1.5));
		sum += ev.total_s;
		sl_metrics_observe(m, &ev);
	}
	render();
	double prev = 0;
	for (size_t i = 0; i < 17; i++) {
		double c = bucket(REQ, MV, req_le_text[i]);
		cr_expect_geq(c, prev, "le=%s", req_le_text[i]);
		prev = c;
	}
	cr_expect_geq(bucket(REQ, MV, "+Inf"), prev);
	cr_expect_eq(bucket(REQ, MV, "+Inf"), 5000);
	cr_expect_eq(field(REQ, "count", MV), 5000);
	cr_expect_float_eq(field(REQ, "sum", MV), sum, 1e-9 * sum);
}

Test(metrics_histogram, unmeasured_times_are_not_observed)
{
	struct sl_event ev = ev_make("m", "v", 0, -1);
	sl_metrics_observe(m, &ev);
	ev.total_s = NAN;
	ev.ttft_s = NAN;
	ev.upstream_s = NAN;
	sl_metrics_observe(m, &ev);
	render();
	cr_expect_eq(expo_lines(text, REQ "_"), 0);
	cr_expect_eq(expo_lines(text, TTFT "_"), 0);
	cr_expect_eq(expo_lines(text, CLIENT "_"), 0);
	cr_expect_eq(expo_lines(text, TOKENS "_"), 0);
	cr_expect_eq(expo_lines(text, "# TYPE " REQ " histogram"), 1);
}

Test(metrics_histogram, ttft_tpot_and_upstream)
{
	struct sl_event ev = ev_make("m", "v", 200, 2.0);
	ev.stream = true;
	ev.ttft_s = 0.5;
	ev.upstream_s = 1.9;
	ev.completion_tokens = 4; /* (2.0 - 0.5) / 3 = 0.5 */
	sl_metrics_observe(m, &ev);
	render();
	cr_expect_eq(bucket(TTFT, MV, "0.25"), 0);
	cr_expect_eq(bucket(TTFT, MV, "0.5"), 1);
	cr_expect_eq(bucket(TTFT, MV, "10"), 1);
	cr_expect_eq(expo_lines(text, TTFT "_bucket{"), 17);
	cr_expect_eq(bucket(TPOT, MV, "0.4"), 0);
	cr_expect_eq(bucket(TPOT, MV, "0.5"), 1);
	cr_expect_float_eq(field(TPOT, "sum", MV), 0.5, 1e-12);
	cr_expect_eq(expo_lines(text, TPOT "_bucket{"), 14);
	cr_expect_eq(bucket(CLIENT, MV, "1.28"), 0);
	cr_expect_eq(bucket(CLIENT, MV, "2.56"), 1);
}

Test(metrics_histogram, tpot_needs_a_stream_with_two_tokens)
{
	struct sl_event ev = ev_make("m", "v", 200, 2.0);
	ev.ttft_s = 0.5;
	ev.completion_tokens = 10; /* not a stream */
	sl_metrics_observe(m, &ev);
	ev.stream = true;
	ev.completion_tokens = 1; /* nothing after the first token */
	sl_metrics_observe(m, &ev);
	ev.completion_tokens = -1; /* usage unknown */
	sl_metrics_observe(m, &ev);
	ev.completion_tokens = 5;
	ev.ttft_s = -1; /* no first token */
	sl_metrics_observe(m, &ev);
	render();
	cr_expect_eq(expo_lines(text, TPOT "_"), 0);
	cr_expect_eq(field(TTFT, "count", MV), 3);
}

Test(metrics_histogram, token_usage_by_type)
{
	struct sl_event ev = ev_make("m", "v", 200, 0.1);
	ev.prompt_tokens = 16;
	ev.completion_tokens = 17;
	sl_metrics_observe(m, &ev);
	ev.prompt_tokens = 0;
	ev.completion_tokens = -1; /* unknown: not observed */
	sl_metrics_observe(m, &ev);
	ev.prompt_tokens = 100000000; /* past 67108864 */
	sl_metrics_observe(m, &ev);
	render();
	const char *in = MV ",token_type=\"input\"", *out = MV ",token_type=\"output\"";
	cr_expect_eq(bucket(TOKENS, in, "1"), 1);
	cr_expect_eq(bucket(TOKENS, in, "4"), 1);
	cr_expect_eq(bucket(TOKENS, in, "16"), 2);
	cr_expect_eq(bucket(TOKENS, in, "67108864"), 2);
	cr_expect_eq(bucket(TOKENS, in, "16777216"), 2);
	cr_expect_eq(bucket(TOKENS, in, "+Inf"), 3);
	cr_expect_eq(field(TOKENS, "sum", in), 100000016);
	cr_expect_eq(field(TOKENS, "count", in), 3);
	cr_expect_eq(bucket(TOKENS, out, "16"), 0);
	cr_expect_eq(bucket(TOKENS, out, "64"), 1);
	cr_expect_eq(field(TOKENS, "count", out), 1);
	cr_expect_eq(expo_lines(text, TOKENS "_bucket{"), 2 * 15);
	cr_expect_eq(expo_lines(text, "# TYPE " TOKENS " histogram"), 1);
}

Test(metrics_histogram, sums_read_back_exactly)
{
	struct sl_event ev = ev_make("m", "v", 200, 0.1);
	sl_metrics_observe(m, &ev);
	ev.total_s = 0.2;
	sl_metrics_observe(m, &ev);
	render();
	cr_expect_eq(field(REQ, "sum", MV), 0.1 + 0.2); /* 0.30000000000000004, printed in full */
}
