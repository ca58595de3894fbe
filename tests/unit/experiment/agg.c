/* agg.c: the aggregator and the report on synthetic experiments with known truth: a +10%
 * click rate is found (interval covers 0.10, p < 0.01), A/A tests are significant about alpha
 * of the time, SRM flags 55/45 against a declared 50/50, a regressing guardrail recommends a
 * stop, CUPED narrows the interval, ratio and quantile metrics match direct computation, the
 * unit bound holds, and the JSON report parses. */
#include <criterion/criterion.h>
#include <json-c/json.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sluice/experiment.h"

static struct sl_experiment_set *load(const char *json)
{
	struct sl_experiment_set *s = NULL;
	char err[256];
	int rc = sl_experiments_from_json(json, &s, err, sizeof(err));
	cr_assert_eq(rc, 0, "%s", err);
	return s;
}

static struct sl_slice uid(char *buf, size_t cap, const char *prefix, int i)
{
	int n = snprintf(buf, cap, "%s%d", prefix, i);
	return sl_slice_make(buf, (size_t)n);
}

static const struct sl_exp_request_obs plain = {.latency_ms = 100, .ttft_ms = 10, .input_tokens = 50,
                                                 .output_tokens = 20, .cost = 0.001};

/* n units through assignment; unit in variant v clicks (once or twice) with probability rate[v]. */
static void simulate_clicks(struct sl_exp_agg *agg, const struct sl_experiment *e, int n, const double *rate,
                            uint64_t seed)
{
	struct sl_rng r;
	char buf[32];
	int v;
	sl_rng_seed(&r, seed);
	for (int i = 0; i < n; i++) {
		struct sl_slice u = uid(buf, sizeof(buf), "u", i);
		if (!sl_experiment_assign(e, u, 100, &v))
			continue;
		cr_assert_eq(sl_experiment_agg_request(agg, 0, v, u, &plain, 100), 0);
		if (sl_rng_double(&r) < rate[v]) {
			cr_assert_eq(sl_experiment_agg_event(agg, 0, u, SL_SLICE_LIT("click"), 1, 101), 0);
			if (sl_rng_double(&r) < 0.5)
				sl_experiment_agg_event(agg, 0, u, SL_SLICE_LIT("click"), 1, 102);
		}
	}
}

#define CTR_METRIC "{\"name\":\"ctr\",\"kind\":\"proportion\",\"source\":\"event:click\"}"

Test(agg, ten_percent_lift_is_found)
{
	struct sl_experiment_set *s =
	    load("[{\"key\":\"lift\",\"model\":\"m\",\"variants\":[{\"key\":\"a\"},{\"key\":\"b\"}],\"metrics\":[" CTR_METRIC
	         "]}]");
	struct sl_exp_agg *agg = sl_experiment_agg_new(s);
	double rate[2] = {0.30, 0.33};
	simulate_clicks(agg, &s->exps[0], 40000, rate, 7);
	struct sl_exp_report r;
	cr_assert_eq(sl_experiment_report(agg, 0, 200, &r), 0);
	const struct sl_exp_cell *b = &r.cells[0][1];
	cr_expect_eq(r.units[0] + r.units[1], 40000);
	cr_expect_eq(b->units, r.units[1]);
	cr_expect(fabs(r.cells[0][0].mean - 0.30) < 0.01, "control rate %f", r.cells[0][0].mean);
	cr_expect(b->lo < 0.10 && b->hi > 0.10, "lift %f [%f, %f]", b->lift, b->lo, b->hi);
	cr_expect_lt(b->pvalue, 0.01);
	cr_expect_eq(b->verdict, SL_EXP_BETTER);
	cr_expect(!r.srm && !r.stop_recommended);
	sl_experiment_agg_free(agg);
	sl_experiment_set_free(s);
}

Test(agg, bayesian_chance_to_win)
{
	struct sl_experiment_set *s =
	    load("[{\"key\":\"lift\",\"model\":\"m\",\"variants\":[{\"key\":\"a\"},{\"key\":\"b\"}],\"metrics\":[" CTR_METRIC
	         "],\"analysis\":{\"engine\":\"bayesian\"}}]");
	struct sl_exp_agg *agg = sl_experiment_agg_new(s);
	double rate[2] = {0.30, 0.33};
	simulate_clicks(agg, &s->exps[0], 40000, rate, 7);
	struct sl_exp_report r;
	cr_assert_eq(sl_experiment_report(agg, 0, 200, &r), 0);
	cr_expect_gt(r.cells[0][1].chance_to_win, 0.99);
	cr_expect(isnan(r.cells[0][1].pvalue));
	cr_expect_eq(r.cells[0][1].verdict, SL_EXP_BETTER);
	sl_experiment_agg_free(agg);
	sl_experiment_set_free(s);
}

/* GrowthBook's always-valid interval is wider than the fixed-horizon one on the same data. */
Test(agg, sequential_interval_is_wider)
{
	struct sl_experiment_set *s = load(
	    "[{\"key\":\"lift\",\"model\":\"m\",\"variants\":[{\"key\":\"a\"},{\"key\":\"b\"}],\"metrics\":[" CTR_METRIC "]},"
	    "{\"key\":\"seq\",\"seed\":\"lift\",\"model\":\"m\",\"variants\":[{\"key\":\"a\"},{\"key\":\"b\"}],"
	    "\"metrics\":[" CTR_METRIC "],\"analysis\":{\"sequential\":true}}]");
	double rate[2] = {0.30, 0.33};
	struct sl_exp_report r[2];
	for (unsigned k = 0; k < 2; k++) {
		struct sl_experiment_set one = {&s->exps[k], 1};
		struct sl_exp_agg *a1 = sl_experiment_agg_new(&one);
		simulate_clicks(a1, &s->exps[k], 40000, rate, 7);
		cr_assert_eq(sl_experiment_report(a1, 0, 200, &r[k]), 0);
		sl_experiment_agg_free(a1);
	}
	const struct sl_exp_cell *f = &r[0].cells[0][1], *q = &r[1].cells[0][1];
	cr_expect_eq(f->lift, q->lift);
	cr_expect_gt(q->hi - q->lo, f->hi - f->lo);
	cr_expect(q->lo < 0.10 && q->hi > 0.10 && q->lo > 0, "sequential [%f, %f]", q->lo, q->hi);
	cr_expect_geq(q->pvalue, f->pvalue);
	sl_experiment_set_free(s);
}

/* 200 A/A experiments (different seeds): the share called significant is near alpha. */
Test(agg, aa_false_positive_rate_is_about_alpha)
{
	int significant = 0;
	for (int k = 0; k < 200; k++) {
		char json[512];
		snprintf(json, sizeof(json),
		         "[{\"key\":\"aa\",\"seed\":\"aa-%d\",\"model\":\"m\",\"variants\":[{\"key\":\"a\"},{\"key\":\"b\"}],"
		         "\"metrics\":[" CTR_METRIC "]}]",
		         k);
		struct sl_experiment_set *s = load(json);
		struct sl_exp_agg *agg = sl_experiment_agg_new(s);
		double rate[2] = {0.2, 0.2};
		simulate_clicks(agg, &s->exps[0], 2000, rate, 1000 + (uint64_t)k);
		struct sl_exp_report r;
		cr_assert_eq(sl_experiment_report(agg, 0, 200, &r), 0);
		significant += r.cells[0][1].pvalue < 0.05;
		sl_experiment_agg_free(agg);
		sl_experiment_set_free(s);
	}
	cr_log_info("%d of 200 A/A tests significant at 0.05", significant);
	cr_expect(significant >= 2 && significant <= 22, "%d of 200 A/A tests significant at 0.05", significant);
}

static void expose_n(struct sl_exp_agg *agg, int variant, int n, const char *prefix)
{
	char buf[32];
	for (int i = 0; i < n; i++)
		cr_assert_eq(sl_experiment_agg_request(agg, 0, variant, uid(buf, sizeof(buf), prefix, i), &plain, 1), 0);
}

Test(agg, srm_flags_55_45_against_50_50)
{
	struct sl_experiment_set *s = load("[{\"key\":\"srm\",\"model\":\"m\",\"variants\":[{\"key\":\"a\"},{\"key\":\"b\"}]}]");
	struct sl_exp_agg *agg = sl_experiment_agg_new(s);
	struct sl_exp_report r;
	expose_n(agg, 0, 5000, "a");
	expose_n(agg, 1, 5000, "b");
	cr_assert_eq(sl_experiment_report(agg, 0, 2, &r), 0);
	cr_expect(!r.srm, "balanced flagged, p %g", r.srm_pvalue);
	sl_experiment_agg_free(agg);
	agg = sl_experiment_agg_new(s);
	expose_n(agg, 0, 5500, "a");
	expose_n(agg, 1, 4500, "b");
	cr_assert_eq(sl_experiment_report(agg, 0, 2, &r), 0);
	cr_expect(r.srm, "55/45 not flagged, p %g", r.srm_pvalue);
	cr_expect_lt(r.srm_pvalue, 1e-10);
	struct sl_buf b;
	sl_buf_init(&b, 0);
	cr_assert_eq(sl_experiment_analyze(agg, 0, 2, &b), 0);
	cr_expect(strstr(b.data, "\"verdict\":\"mismatch\""), "%s", b.data);
	sl_buf_release(&b);
	sl_experiment_agg_free(agg);
	sl_experiment_set_free(s);
}

/* Found by fuzz/experiment.c: a spec where one variant takes every unit must still report. */
Test(agg, one_weighted_variant_still_reports)
{
	struct sl_experiment_set *s =
		load("[{\"key\":\"k\",\"model\":\"m\",\"variants\":[{\"key\":\"a\",\"weight\":0},{\"key\":\"b\"}]}]");
	struct sl_exp_agg *agg = sl_experiment_agg_new(s);
	struct sl_exp_report r;
	expose_n(agg, 1, 50, "b");
	cr_assert_eq(sl_experiment_report(agg, 0, 2, &r), 0);
	cr_expect(!r.srm);
	cr_expect_eq(r.srm_pvalue, 1);
	sl_experiment_agg_free(agg);
	sl_experiment_set_free(s);
}

static void errors(struct sl_exp_agg *agg, const struct sl_experiment *e, const double *rate, uint64_t seed)
{
	struct sl_rng r;
	char buf[32];
	int v;
	sl_rng_seed(&r, seed);
	for (int i = 0; i < 20000; i++) {
		struct sl_slice u = uid(buf, sizeof(buf), "u", i);
		if (!sl_experiment_assign(e, u, 1, &v))
			continue;
		struct sl_exp_request_obs o = plain;
		o.error = sl_rng_double(&r) < rate[v];
		cr_assert_eq(sl_experiment_agg_request(agg, 0, v, u, &o, 1), 0);
	}
}

#define GUARD_SPEC                                                                                                     \
	"[{\"key\":\"g\",\"model\":\"m\",\"variants\":[{\"key\":\"a\"},{\"key\":\"b\"}],\"metrics\":["                  \
	"{\"name\":\"errors\",\"kind\":\"proportion\",\"source\":\"request:error\",\"guardrail\":true,"                  \
	"\"direction\":\"decrease_is_good\"}]}]"

Test(agg, guardrail_regression_recommends_stop)
{
	struct sl_experiment_set *s = load(GUARD_SPEC);
	struct sl_exp_agg *agg = sl_experiment_agg_new(s);
	double bad[2] = {0.05, 0.08}, same[2] = {0.05, 0.05};
	errors(agg, &s->exps[0], bad, 3);
	struct sl_exp_report r;
	cr_assert_eq(sl_experiment_report(agg, 0, 2, &r), 0);
	cr_expect_eq(r.cells[0][1].verdict, SL_EXP_WORSE);
	cr_expect(r.stop_recommended);
	cr_expect(strstr(r.reason, "guardrail 'errors' regressed in variant 'b'"), "%s", r.reason);
	sl_experiment_agg_free(agg);
	agg = sl_experiment_agg_new(s);
	errors(agg, &s->exps[0], same, 4);
	cr_assert_eq(sl_experiment_report(agg, 0, 2, &r), 0);
	cr_expect(!r.stop_recommended, "%s", r.reason);
	sl_experiment_agg_free(agg);
	sl_experiment_set_free(s);
}

/* Pre-period activity predicts post-period activity: CUPED's interval is narrower. */
Test(agg, cuped_narrows_the_interval)
{
	struct sl_experiment_set *s = load(
	    "[{\"key\":\"c\",\"model\":\"m\",\"start\":\"1970-01-01T00:01:40Z\",\"variants\":[{\"key\":\"a\"},{\"key\":\"b\"}],"
	    "\"metrics\":[{\"name\":\"views\",\"kind\":\"mean\",\"source\":\"event:view\"},"
	    "{\"name\":\"views_cuped\",\"kind\":\"mean\",\"source\":\"event:view\",\"cuped\":true}]}]");
	const struct sl_experiment *e = &s->exps[0];
	struct sl_exp_agg *agg = sl_experiment_agg_new(s);
	struct sl_rng r;
	char buf[32];
	int v;
	sl_rng_seed(&r, 11);
	for (int i = 0; i < 10000; i++) {
		struct sl_slice u = uid(buf, sizeof(buf), "u", i);
		double level = sl_rng_lognormal(&r, 5, 0.8);
		cr_assert_eq(sl_experiment_agg_event(agg, 0, u, SL_SLICE_LIT("view"), level * (0.9 + 0.2 * sl_rng_double(&r)),
		                                     50),
		             0);
		cr_assert(sl_experiment_assign(e, u, 150, &v));
		cr_assert_eq(sl_experiment_agg_request(agg, 0, v, u, &plain, 150), 0);
		double post = level * (v ? 1.05 : 1.0) * (0.9 + 0.2 * sl_rng_double(&r));
		cr_assert_eq(sl_experiment_agg_event(agg, 0, u, SL_SLICE_LIT("view"), post, 160), 0);
	}
	struct sl_exp_report rep;
	cr_assert_eq(sl_experiment_report(agg, 0, 200, &rep), 0);
	const struct sl_exp_cell *raw = &rep.cells[0][1], *adj = &rep.cells[1][1];
	double wraw = raw->hi - raw->lo, wadj = adj->hi - adj->lo;
	cr_expect_lt(wadj, wraw / 3, "cuped width %f, raw %f", wadj, wraw);
	cr_expect(adj->lo < 0.05 && adj->hi > 0.05, "cuped lift %f [%f, %f]", adj->lift, adj->lo, adj->hi);
	cr_expect_eq(adj->verdict, SL_EXP_BETTER);
	sl_experiment_agg_free(agg);
	sl_experiment_set_free(s);
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* Ratio (latency per request) and p90 latency against a direct computation. */
Test(agg, ratio_and_quantile_match_direct_computation)
{
	struct sl_experiment_set *s = load(
	    "[{\"key\":\"q\",\"model\":\"m\",\"variants\":[{\"key\":\"a\"},{\"key\":\"b\"}],\"metrics\":["
	    "{\"name\":\"lat\",\"kind\":\"ratio\",\"source\":\"request:latency\",\"denominator\":\"request:requests\"},"
	    "{\"name\":\"p90\",\"kind\":\"quantile\",\"source\":\"request:latency\",\"quantile\":0.9},"
	    "{\"name\":\"tokens\",\"kind\":\"mean\",\"source\":\"request:tokens\"}]}]");
	struct sl_exp_agg *agg = sl_experiment_agg_new(s);
	double lat_sum[2] = {0, 0}, req[2] = {0, 0};
	double *vals = malloc(sizeof(double) * 3000);
	size_t nv = 0;
	struct sl_rng r;
	char buf[32];
	sl_rng_seed(&r, 5);
	for (int i = 0; i < 3000; i++) {
		int v = i % 2;
		struct sl_exp_request_obs o = plain;
		o.latency_ms = sl_rng_lognormal(&r, 200, 0.5);
		cr_assert_eq(sl_experiment_agg_request(agg, 0, v, uid(buf, sizeof(buf), "u", i % 1000), &o, 1), 0);
		lat_sum[v] += o.latency_ms;
		req[v]++;
		if (v == 0)
			vals[nv++] = o.latency_ms;
	}
	struct sl_exp_report rep;
	cr_assert_eq(sl_experiment_report(agg, 0, 2, &rep), 0);
	cr_expect(fabs(rep.cells[0][0].mean - lat_sum[0] / req[0]) < 1e-9 * lat_sum[0] / req[0]);
	cr_expect(fabs(rep.cells[0][1].mean - lat_sum[1] / req[1]) < 1e-9 * lat_sum[1] / req[1]);
	/* numpy-linear p90 of the control's 1500 values (all kept: below the reservoir size) */
	qsort(vals, nv, sizeof(double), cmp);
	double h = (double)(nv - 1) * 0.9, p90 = vals[(size_t)h] + (h - floor(h)) * (vals[(size_t)h + 1] - vals[(size_t)h]);
	cr_expect(fabs(rep.cells[1][0].mean - p90) < 1e-9, "p90 %f, want %f", rep.cells[1][0].mean, p90);
	cr_expect_eq(rep.cells[1][0].units, 1500);
	cr_expect(fabs(rep.cells[2][0].mean - 3 * 70) < 1e-9, "tokens per unit %f", rep.cells[2][0].mean);
	cr_expect_eq(rep.cells[2][1].verdict, SL_EXP_NO_DATA); /* no variance */
	free(vals);
	sl_experiment_agg_free(agg);
	sl_experiment_set_free(s);
}

Test(agg, unit_bound_is_respected)
{
	struct sl_experiment_set *s = load("[{\"key\":\"b\",\"model\":\"m\",\"max_units\":1000,"
	                                   "\"variants\":[{\"key\":\"a\"},{\"key\":\"b\"}],\"metrics\":[" CTR_METRIC "]}]");
	struct sl_exp_agg *agg = sl_experiment_agg_new(s);
	char buf[32];
	for (int i = 0; i < 1500; i++) {
		cr_assert_eq(sl_experiment_agg_request(agg, 0, i % 2, uid(buf, sizeof(buf), "u", i), &plain, 1), 0);
		cr_assert_eq(sl_experiment_agg_event(agg, 0, uid(buf, sizeof(buf), "u", i), SL_SLICE_LIT("click"), 1, 2), 0);
	}
	struct sl_exp_agg_counts c;
	cr_assert_eq(sl_experiment_agg_counts(agg, 0, &c), 0);
	cr_expect_eq(c.units, 1000);
	cr_expect_eq(c.exposed, 1000);
	cr_expect_eq(c.dropped, 500);
	cr_expect_eq(c.requests, 1000);
	cr_expect_eq(c.events, 1000);
	cr_expect_eq(c.ignored, 500); /* clicks of the dropped units: never exposed */
	struct sl_exp_report r;
	cr_assert_eq(sl_experiment_report(agg, 0, 2, &r), 0);
	cr_expect_eq(r.units[0] + r.units[1], 1000);
	sl_experiment_agg_free(agg);
	sl_experiment_set_free(s);
}

/* Exposure rules: the first variant sticks, events before exposure and after stop are ignored,
 * pre-period data without a CUPED metric is ignored, bad arguments are refused. */
Test(agg, exposure_rules)
{
	struct sl_experiment_set *s =
	    load("[{\"key\":\"e\",\"model\":\"m\",\"start\":\"1970-01-01T00:00:10Z\",\"stop\":\"1970-01-01T00:00:20Z\","
	         "\"variants\":[{\"key\":\"a\"},{\"key\":\"b\"}],\"metrics\":[" CTR_METRIC "]}]");
	struct sl_exp_agg *agg = sl_experiment_agg_new(s);
	struct sl_slice u = SL_SLICE_LIT("user-1");
	cr_expect_eq(sl_experiment_agg_event(agg, 0, u, SL_SLICE_LIT("click"), 1, 11), 0); /* not exposed */
	cr_expect_eq(sl_experiment_agg_request(agg, 0, -1, u, &plain, 5), 0);            /* pre, no CUPED */
	cr_expect_eq(sl_experiment_agg_request(agg, 0, 1, u, &plain, 12), 0);
	cr_expect_eq(sl_experiment_agg_request(agg, 0, 0, u, &plain, 13), 0); /* conflict: stays in b */
	cr_expect_eq(sl_experiment_agg_event(agg, 0, u, SL_SLICE_LIT("click"), 1, 14), 0);
	cr_expect_eq(sl_experiment_agg_event(agg, 0, u, SL_SLICE_LIT("click"), 1, 25), 0); /* after stop */
	cr_expect_eq(sl_experiment_agg_event(agg, 0, u, SL_SLICE_LIT("purchase"), 1, 14), 0); /* unused name */
	cr_expect_eq(sl_experiment_agg_request(agg, 0, 2, u, &plain, 12), SL_ERANGE);
	cr_expect_eq(sl_experiment_agg_request(agg, 1, 0, u, &plain, 12), SL_EINVAL);
	cr_expect_eq(sl_experiment_agg_event(agg, 0, u, SL_SLICE_LIT("bad name"), 1, 14), SL_EINVAL);
	cr_expect_eq(sl_experiment_agg_event(agg, 0, u, SL_SLICE_LIT("click"), NAN, 14), SL_EINVAL);
	cr_expect_eq(sl_experiment_agg_event(agg, 0, sl_slice_make("", 0), SL_SLICE_LIT("click"), 1, 14), SL_EINVAL);
	struct sl_exp_request_obs inf = plain;
	inf.latency_ms = INFINITY;
	cr_expect_eq(sl_experiment_agg_request(agg, 0, 0, u, &inf, 12), SL_EINVAL);
	struct sl_exp_agg_counts c;
	cr_assert_eq(sl_experiment_agg_counts(agg, 0, &c), 0);
	cr_expect_eq(c.exposed, 1);
	cr_expect_eq(c.conflicts, 1);
	cr_expect_eq(c.requests, 2);
	cr_expect_eq(c.events, 1);
	cr_expect_eq(c.ignored, 4);
	struct sl_exp_report r;
	cr_assert_eq(sl_experiment_report(agg, 0, 15, &r), 0);
	cr_expect_eq(r.units[1], 1);
	cr_expect_eq(r.cells[0][1].mean, 1);
	cr_expect_eq(r.cells[0][1].verdict, SL_EXP_NO_DATA);
	sl_experiment_agg_free(agg);
	sl_experiment_set_free(s);
}

Test(agg, events_parse_and_dispatch)
{
	struct sl_experiment_set *s = load(
	    "[{\"key\":\"u\",\"model\":\"m\",\"variants\":[{\"key\":\"a\"},{\"key\":\"b\"}],\"metrics\":[" CTR_METRIC "]},"
	    "{\"key\":\"r\",\"model\":\"m\",\"unit\":\"request\",\"variants\":[{\"key\":\"a\"},{\"key\":\"b\"}],"
	    "\"metrics\":[{\"name\":\"rev\",\"kind\":\"mean\",\"source\":\"event:purchase\"}]}]");
	struct sl_exp_agg *agg = sl_experiment_agg_new(s);
	struct sl_exp_event ev;
	char err[256];
	const char *ok = "{\"event\":\"purchase\",\"value\":12.5,\"request_id\":\"r1\",\"user\":\"alice\"}";
	cr_assert_eq(sl_exp_event_parse(ok, strlen(ok), &ev, err, sizeof(err)), 0, "%s", err);
	cr_expect(ev.has_value && ev.value == 12.5 && isnan(ev.timestamp));
	cr_expect_str_eq(ev.request_id, "r1");
	cr_assert_eq(sl_experiment_agg_request(agg, 0, 0, SL_SLICE_LIT("alice"), &plain, 1), 0);
	cr_assert_eq(sl_experiment_agg_request(agg, 1, 1, SL_SLICE_LIT("r1"), &plain, 1), 0);
	cr_expect_eq(sl_experiment_agg_dispatch(agg, &ev, 2), 1); /* "u" has no purchase metric */
	const char *click = "{\"event\":\"click\",\"user\":\"alice\",\"timestamp\":3}";
	cr_assert_eq(sl_exp_event_parse(click, strlen(click), &ev, err, sizeof(err)), 0, "%s", err);
	cr_expect(!ev.has_value && ev.value == 1 && ev.timestamp == 3);
	cr_expect_eq(sl_experiment_agg_dispatch(agg, &ev, 2), 1);
	struct sl_exp_report r;
	cr_assert_eq(sl_experiment_report(agg, 1, 2, &r), 0);
	cr_expect_eq(r.cells[0][1].mean, 12.5);
	cr_assert_eq(sl_experiment_report(agg, 0, 2, &r), 0);
	cr_expect_eq(r.cells[0][0].mean, 1);

	static const struct {
		const char *body, *err;
	} bad[] = {
	    {"", "json: "},
	    {"[]", "json: must be an object"},
	    {"{\"user\":\"a\"}", "event: missing"},
	    {"{\"event\":\"click\"}", "request_id: one of request_id, user or session is required"},
	    {"{\"event\":\"cl ick\",\"user\":\"a\"}", "event: must be 1 to 64 characters"},
	    {"{\"event\":\"click\",\"user\":\"a\",\"value\":\"3\"}", "value: must be a number"},
	    {"{\"event\":\"click\",\"user\":\"a\",\"value\":1e300}", "value: must be <= 1e+15"},
	    {"{\"event\":\"click\",\"user\":\"a\",\"extra\":1}", "extra: unknown field"},
	    {"{\"event\":\"click\",\"user\":\"\"}", "user: must be 1 to 256 bytes"},
	    {"{\"event\":\"click\",\"user\":7}", "user: must be a string"},
	    {"{\"event\":\"click\",\"user\":\"a\",\"timestamp\":-1}", "timestamp: must be >= 0"},
	    {"{\"event\":\"click\",\"user\":\"a\"} {}", "json: "},
	    {"{\"event\":\"click\",\"user\":\"\xff\"}", "json: "},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&ev, 0x5a, sizeof(ev));
		int rc = sl_exp_event_parse(bad[i].body, strlen(bad[i].body), &ev, err, sizeof(err));
		cr_expect_neq(rc, 0, "case %zu accepted", i);
		cr_expect(strncmp(err, bad[i].err, strlen(bad[i].err)) == 0, "case %zu: '%s', want '%s'", i, err, bad[i].err);
		cr_expect_eq(ev.name[0], 0x5a, "case %zu wrote the event", i);
	}
	char big[SL_EXP_EVENT_MAX_BYTES + 2];
	memset(big, ' ', sizeof(big));
	cr_expect_eq(sl_exp_event_parse(big, sizeof(big), &ev, err, sizeof(err)), SL_ETOOBIG);
	sl_experiment_agg_free(agg);
	sl_experiment_set_free(s);
}

/* Three variants and two goal metrics: Holm's adjusted p-values; the JSON report parses and
 * carries every field. */
Test(agg, report_json_and_correction)
{
	struct sl_experiment_set *s = load(
	    "[{\"key\":\"j\",\"model\":\"m\",\"variants\":[{\"key\":\"a\"},{\"key\":\"b\"},{\"key\":\"c\"}],"
	    "\"metrics\":[" CTR_METRIC ",{\"name\":\"ctr2\",\"kind\":\"mean\",\"source\":\"event:click\"}]}]");
	struct sl_exp_agg *agg = sl_experiment_agg_new(s);
	double rate[3] = {0.3, 0.31, 0.32};
	simulate_clicks(agg, &s->exps[0], 9000, rate, 9);
	struct sl_exp_report r;
	cr_assert_eq(sl_experiment_report(agg, 0, 200, &r), 0);
	double pmin = 1;
	for (unsigned m = 0; m < 2; m++)
		for (unsigned v = 1; v < 3; v++) {
			cr_expect_geq(r.cells[m][v].p_adjusted, r.cells[m][v].pvalue);
			pmin = fmin(pmin, r.cells[m][v].pvalue);
		}
	bool found = false; /* Holm: the smallest p is multiplied by the 4 hypotheses */
	for (unsigned m = 0; m < 2; m++)
		for (unsigned v = 1; v < 3; v++)
			found |= r.cells[m][v].pvalue == pmin && fabs(r.cells[m][v].p_adjusted - fmin(1, 4 * pmin)) < 1e-12;
	cr_expect(found);
	struct sl_buf b;
	sl_buf_init(&b, 0);
	cr_assert_eq(sl_experiment_analyze(agg, 0, 200, &b), 0);
	json_object *o = json_tokener_parse(b.data), *x, *m0, *cells;
	cr_assert_not_null(o, "%s", b.data);
	cr_expect(json_object_object_get_ex(o, "experiment", &x) && strcmp(json_object_get_string(x), "j") == 0);
	cr_expect(json_object_object_get_ex(o, "status", &x) && strcmp(json_object_get_string(x), "running") == 0);
	cr_expect(json_object_object_get_ex(o, "srm", &x));
	cr_expect(json_object_object_get_ex(o, "stop_recommended", &x) && !json_object_get_boolean(x));
	cr_assert(json_object_object_get_ex(o, "metrics", &x) && json_object_array_length(x) == 2);
	m0 = json_object_array_get_idx(x, 0);
	cr_assert(json_object_object_get_ex(m0, "variants", &cells) && json_object_array_length(cells) == 3);
	json_object *c1 = json_object_array_get_idx(cells, 1), *y;
	const char *want[] = {"variant", "units", "mean", "lift", "ci", "p_value", "p_adjusted", "chance_to_win", "verdict"};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		cr_expect(json_object_object_get_ex(c1, want[i], &y), "missing %s", want[i]);
	json_object_object_get_ex(c1, "p_value", &y);
	cr_expect(fabs(json_object_get_double(y) - r.cells[0][1].pvalue) < 1e-15);
	json_object_put(o);
	sl_buf_release(&b);
	sl_experiment_agg_free(agg);
	sl_experiment_set_free(s);
}
