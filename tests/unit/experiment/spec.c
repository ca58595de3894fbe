/* spec.c: the experiment spec: defaults, normalization, bucket ranges, the round trip through
 * sl_experiment_spec_json, and strict refusals whose messages name the field path. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "sluice/experiment.h"

static int parse(const char *json, struct sl_experiment_set **s, char *err)
{
	return sl_experiments_from_json(json, s, err, 256);
}

#define BASE "\"key\":\"x\",\"model\":\"m\",\"variants\":[{\"key\":\"a\"},{\"key\":\"b\"}]"

Test(spec, defaults_and_normalization)
{
	struct sl_experiment_set *s = NULL;
	char err[256];
	cr_assert_eq(parse("{\"experiments\":[{" BASE "}]}", &s, err), 0, "%s", err);
	const struct sl_experiment *e = &s->exps[0];
	cr_expect_str_eq(e->seed, "x");
	cr_expect_eq(e->hash_version, 2);
	cr_expect_eq(e->unit, SL_EXP_UNIT_USER);
	cr_expect_eq(e->coverage, 1);
	cr_expect(isinf(e->start) && e->start < 0 && isinf(e->stop) && e->stop > 0);
	cr_expect_eq(e->max_units, SL_EXP_DEFAULT_MAX_UNITS);
	cr_expect_eq(e->analysis.tau, 5000);
	cr_expect_eq(e->analysis.alpha, 0.05);
	cr_expect_eq(e->analysis.correction, SL_EXP_CORR_HOLM);
	cr_expect_eq(e->analysis.srm_threshold, 0.001);
	cr_expect_eq(e->variants[0].weight, 0.5);
	cr_expect_eq(e->variants[1].lo, 0.5);
	cr_expect_eq(e->variants[1].hi, 1);
	sl_experiment_set_free(s);
}

Test(spec, full_shape_round_trips)
{
	const char *json =
	    "[{\"key\":\"tone\",\"model\":\"chat\",\"unit\":\"session\",\"coverage\":0.5,"
	    "\"variants\":[{\"key\":\"a\",\"weight\":2},{\"key\":\"b\",\"version\":\"v2\",\"params\":{\"temperature\":0.2},"
	    "\"system_prompt\":\"Be brief.\",\"weight\":6}],\"namespace\":{\"id\":\"ns\",\"range\":[0.25,0.75]},"
	    "\"holdout\":{\"seed\":\"g\",\"share\":0.05},\"hash_version\":1,\"seed\":\"s\","
	    "\"start\":\"2025-01-01T00:00:00.250Z\",\"stop\":\"2025-03-01T00:00:00Z\",\"max_units\":5000,"
	    "\"metrics\":[{\"name\":\"ctr\",\"kind\":\"proportion\",\"source\":\"event:click\",\"cuped\":true},"
	    "{\"name\":\"lat\",\"kind\":\"ratio\",\"source\":\"request:latency\",\"denominator\":\"request:requests\","
	    "\"guardrail\":true,\"direction\":\"decrease_is_good\"},"
	    "{\"name\":\"p95\",\"kind\":\"quantile\",\"source\":\"request:ttft\",\"quantile\":0.95}],"
	    "\"analysis\":{\"engine\":\"frequentist\",\"sequential\":true,\"tau\":1000,\"alpha\":0.1,"
	    "\"correction\":\"bh\",\"srm_threshold\":0.01}}]";
	struct sl_experiment_set *s = NULL, *s2 = NULL;
	char err[256];
	cr_assert_eq(parse(json, &s, err), 0, "%s", err);
	const struct sl_experiment *e = &s->exps[0];
	cr_expect_eq(e->variants[1].weight, 0.75);
	cr_expect(fabs(e->variants[0].hi - 0.125) < 1e-12, "range a [%g, %g)", e->variants[0].lo, e->variants[0].hi);
	cr_expect(fabs(e->variants[1].lo - 0.25) < 1e-12 && fabs(e->variants[1].hi - 0.625) < 1e-12);
	cr_expect_str_eq(e->variants[1].params, "{\"temperature\":0.2}");
	cr_expect_eq(e->nfilters, 1);
	cr_expect_eq(e->filters[0].ranges[0][0], 0.05);
	cr_expect(fabs(e->start - 1735689600.25) < 1e-6);
	cr_expect_eq(e->metrics[1].denominator.field, SL_EXP_F_REQUESTS);
	cr_expect(!e->metrics[1].increase_is_good && e->metrics[1].guardrail);
	cr_expect(e->analysis.sequential && e->analysis.correction == SL_EXP_CORR_BH);

	struct sl_buf b;
	sl_buf_init(&b, 0);
	cr_assert_eq(sl_buf_puts(&b, "["), 0);
	cr_assert_eq(sl_experiment_spec_json(e, &b), 0);
	cr_assert_eq(sl_buf_puts(&b, "]"), 0);
	cr_assert_eq(parse(b.data, &s2, err), 0, "%s in %s", err, b.data);
	const struct sl_experiment *f = &s2->exps[0];
	cr_expect_eq(memcmp(f->metrics, e->metrics, sizeof(e->metrics)), 0);
	cr_expect_eq(memcmp(&f->analysis, &e->analysis, sizeof(e->analysis)), 0);
	cr_expect_eq(memcmp(f->filters, e->filters, sizeof(e->filters)), 0);
	cr_expect(f->start == e->start && f->stop == e->stop && f->unit == e->unit);
	for (unsigned i = 0; i < 2; i++)
		cr_expect(f->variants[i].lo == e->variants[i].lo && f->variants[i].hi == e->variants[i].hi &&
		          fabs(f->variants[i].weight - e->variants[i].weight) < 1e-15);
	cr_expect_str_eq(f->variants[1].system_prompt, "Be brief.");
	sl_buf_release(&b);
	sl_experiment_set_free(s2);
	sl_experiment_set_free(s);
}

struct bad {
	const char *json, *err;
};

static const struct bad bads[] = {
    {"{\"experiments\":[{" BASE "},{" BASE ",\"variants\":[{\"key\":\"a\",\"weight\":-1},{\"key\":\"b\"}]}]}",
     "experiments[1].variants[0].weight: must be >= 0"},
    {"[{" BASE ",\"colour\":1}]", "experiments[0].colour: unknown field"},
    {"[{\"model\":\"m\",\"variants\":[]}]", "experiments[0].key: missing"},
    {"[{\"key\":\"x y\",\"model\":\"m\"}]", "experiments[0].key: must be 1 to 64 characters"},
    {"[{\"key\":\"x\",\"model\":\"m\",\"variants\":[{\"key\":\"a\"}]}]", "experiments[0].variants: must have 2 to 16"},
    {"[{\"key\":\"x\",\"model\":\"m\",\"variants\":[{\"key\":\"a\"},{\"key\":\"a\"}]}]",
     "experiments[0].variants[1]: duplicate variant key 'a'"},
    {"[{\"key\":\"x\",\"model\":\"m\",\"variants\":[{\"key\":\"a\",\"weight\":0},{\"key\":\"b\",\"weight\":0}]}]",
     "experiments[0].variants: weights must not all be 0"},
    {"[{\"key\":\"x\",\"model\":\"m\",\"variants\":[{\"key\":\"a\",\"params\":[1]},{\"key\":\"b\"}]}]",
     "experiments[0].variants[0].params: must be an object"},
    {"[{\"key\":\"x\",\"model\":\"m\",\"variants\":[{\"key\":\"a\",\"params\":{\"model\":\"z\"}},{\"key\":\"b\"}]}]",
     "experiments[0].variants[0].params: must not set model"},
    {"[{" BASE ",\"coverage\":1.5}]", "experiments[0].coverage: must be <= 1"},
    {"[{" BASE ",\"unit\":\"device\"}]", "experiments[0].unit: must be one of user, session, request"},
    {"[{" BASE ",\"hash_version\":3}]", "experiments[0].hash_version: must be <= 2"},
    {"[{" BASE ",\"hash_version\":1.5}]", "experiments[0].hash_version: must be 1 or 2"},
    {"[{" BASE ",\"namespace\":{\"id\":\"n\",\"range\":[0.6,0.2]}}]",
     "experiments[0].namespace.range: must satisfy 0 <= lo <= hi <= 1"},
    {"[{" BASE ",\"namespace\":{\"id\":\"n\"}}]", "experiments[0].namespace.range: missing"},
    {"[{" BASE ",\"holdout\":{\"seed\":\"g\"}}]", "experiments[0].holdout.share: missing"},
    {"[{" BASE ",\"ranges\":[[0,0.5]]}]", "experiments[0].ranges: must be an array of one [lo, hi] per variant"},
    {"[{" BASE ",\"start\":\"2025-13-01T00:00:00Z\"}]", "experiments[0].start: must be an RFC 3339 time"},
    {"[{" BASE ",\"start\":\"2025-02-01T00:00:00Z\",\"stop\":\"2025-01-01T00:00:00Z\"}]",
     "experiments[0].stop: must be after start"},
    {"[{" BASE ",\"max_units\":0}]", "experiments[0].max_units: must be >= 1"},
    {"[{" BASE ",\"metrics\":[{\"name\":\"m\",\"kind\":\"ratio\",\"source\":\"event:click\"}]}]",
     "experiments[0].metrics[0].denominator: missing"},
    {"[{" BASE ",\"metrics\":[{\"name\":\"m\",\"kind\":\"mean\",\"source\":\"event:click\",\"quantile\":0.5}]}]",
     "experiments[0].metrics[0].quantile: only for kind quantile"},
    {"[{" BASE ",\"metrics\":[{\"name\":\"m\",\"kind\":\"quantile\",\"source\":\"request:latency\"}]}]",
     "experiments[0].metrics[0].quantile: missing"},
    {"[{" BASE ",\"metrics\":[{\"name\":\"m\",\"kind\":\"mean\",\"source\":\"request:speed\"}]}]",
     "experiments[0].metrics[0].source: must be event:NAME or request:FIELD"},
    {"[{" BASE ",\"metrics\":[{\"name\":\"m\",\"kind\":\"ratio\",\"source\":\"event:a\",\"denominator\":\"event:b\","
     "\"cuped\":true}]}]",
     "experiments[0].metrics[0].cuped: only for kinds proportion and mean"},
    {"[{" BASE ",\"metrics\":[{\"name\":\"m\",\"kind\":\"mean\",\"source\":\"event:a\"},"
     "{\"name\":\"m\",\"kind\":\"mean\",\"source\":\"event:b\"}]}]",
     "experiments[0].metrics[1]: duplicate metric name 'm'"},
    {"[{" BASE ",\"metrics\":[{\"name\":\"m\",\"kind\":\"mean\",\"source\":\"event:a\",\"direction\":\"up\"}]}]",
     "experiments[0].metrics[0].direction: must be one of increase_is_good, decrease_is_good"},
    {"[{" BASE ",\"analysis\":{\"engine\":\"bayesian\",\"sequential\":true}}]",
     "experiments[0].analysis.sequential: only with engine frequentist"},
    {"[{" BASE ",\"analysis\":{\"alpha\":0}}]", "experiments[0].analysis.alpha: must be >= 1e-06"},
    {"[{" BASE ",\"analysis\":{\"correction\":\"bonferroni\"}}]",
     "experiments[0].analysis.correction: must be one of holm, bh, none"},
    {"[{" BASE "},{" BASE "}]", "experiments[1]: duplicate key 'x'"},
    {"{\"experiment\":[]}", "experiment: unknown field"},
    {"{\"experiments\":{}}", "experiments: must be an array"},
    {"[{" BASE "}] x", "json: "},
    {"[{" BASE "}", "json: "},
};

Test(spec, refusals_name_the_field)
{
	for (size_t i = 0; i < sizeof(bads) / sizeof(bads[0]); i++) {
		struct sl_experiment_set *s = NULL;
		char err[256] = "";
		int rc = parse(bads[i].json, &s, err);
		cr_expect_neq(rc, 0, "case %zu accepted: %s", i, bads[i].json);
		cr_expect_null(s);
		cr_expect(strncmp(err, bads[i].err, strlen(bads[i].err)) == 0, "case %zu: got '%s', want '%s...'", i, err,
		          bads[i].err);
	}
}

Test(spec, bounds)
{
	struct sl_buf b;
	struct sl_experiment_set *s = NULL;
	char err[256];
	sl_buf_init(&b, 0);
	sl_buf_puts(&b, "[");
	for (int i = 0; i < SL_EXP_MAX_EXPERIMENTS + 1; i++)
		sl_buf_printf(&b, "%s{\"key\":\"e%d\",\"model\":\"m\",\"variants\":[{\"key\":\"a\"},{\"key\":\"b\"}]}",
		              i ? "," : "", i);
	sl_buf_puts(&b, "]");
	cr_expect_eq(parse(b.data, &s, err), SL_EINVAL);
	cr_expect_str_eq(err, "experiments: must have at most 64 entries");
	sl_buf_reset(&b);
	sl_buf_puts(&b, "[{\"key\":\"x\",\"model\":\"m\",\"variants\":[");
	for (int i = 0; i < SL_EXP_MAX_VARIANTS + 1; i++)
		sl_buf_printf(&b, "%s{\"key\":\"v%d\"}", i ? "," : "", i);
	sl_buf_puts(&b, "]}]");
	cr_expect_eq(parse(b.data, &s, err), SL_EINVAL);
	cr_expect_str_eq(err, "experiments[0].variants: must have 2 to 16 entries");
	sl_buf_reset(&b);
	sl_buf_puts(&b, "[{" BASE ",\"metrics\":[");
	for (int i = 0; i < SL_EXP_MAX_METRICS + 1; i++)
		sl_buf_printf(&b, "%s{\"name\":\"m%d\",\"kind\":\"mean\",\"source\":\"event:e\"}", i ? "," : "", i);
	sl_buf_puts(&b, "]}]");
	cr_expect_eq(parse(b.data, &s, err), SL_EINVAL);
	cr_expect_str_eq(err, "experiments[0].metrics: must be an array of at most 32 metrics");
	cr_expect_eq(parse(NULL, &s, err), SL_EPARSE);
	sl_buf_release(&b);
}

/* The spec of json's only experiment, written (*a), read back (*t) and written again: the two
 * writings must be the same bytes (a written spec is a fixed point). *s is json read. */
static void fixed_point(const char *json, struct sl_buf *a, struct sl_experiment_set **s, struct sl_experiment_set **t)
{
	char err[256], again[8192];
	struct sl_buf b;
	cr_assert_eq(parse(json, s, err), 0, "%s: %s", json, err);
	sl_buf_init(a, 0);
	sl_buf_init(&b, 0);
	cr_assert_eq(sl_experiment_spec_json(&(*s)->exps[0], a), 0);
	snprintf(again, sizeof again, "{\"experiments\":[%s]}", a->data);
	cr_assert_eq(parse(again, t, err), 0, "%s: %s", a->data, err);
	cr_assert_eq(sl_experiment_spec_json(&(*t)->exps[0], &b), 0);
	cr_expect_str_eq(a->data, b.data);
	sl_buf_release(&b);
}

/* fixed_point, keeping only the first writing. */
static void assert_fixed_point(const char *json, struct sl_buf *a)
{
	struct sl_experiment_set *s = NULL, *t = NULL;
	fixed_point(json, a, &s, &t);
	sl_experiment_set_free(s);
	sl_experiment_set_free(t);
}

Test(spec, times)
{
	double t;
	cr_expect_eq(sl_exp_parse_time("1970-01-01T00:00:00Z", &t), 0);
	cr_expect_eq(t, 0);
	cr_expect_eq(sl_exp_parse_time("2024-02-29T12:00:00.5+02:00", &t), 0);
	cr_expect_eq(t, 1709200800.5);
	const char *bad[] = {"2023-02-29T00:00:00Z", "2025-01-01 00:00:00Z", "2025-01-01T24:00:00Z",
	                     "2025-01-01T00:00:60Z", "2025-01-01T00:00:00",  "2025-01-01T00:00:00.Z",
	                     "2025-01-01T00:00:00+2:00", "2025-01-01T00:00:00Zx", "1969-12-31T23:59:59Z", "",
	                     /* found by fuzz/experiment.c: in UTC these fall in 10000 and 1969, which the
	                      * spec cannot be written back with */
	                     "9999-12-31T23:59:59.999-00:10", "1970-01-01T00:00:00+01:00"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_expect_neq(sl_exp_parse_time(bad[i], &t), 0, "accepted %s", bad[i]);
}

/* Found by fuzz/experiment.c: times were cut to the millisecond, so each write lost one. */
Test(spec, times_are_stable_through_round_trips)
{
	static const char *const times[] = {"2025-01-01T00:00:00.1Z", "2025-01-01T00:00:00.123456789Z",
	                                    "9999-12-31T23:59:59.999+00:00", "2025-06-30T12:00:00.9996Z",
	                                    "9999-12-31t23:59:59.9999+00:00" /* rounds to the last millisecond */};
	for (size_t i = 0; i < sizeof(times) / sizeof(times[0]); i++) {
		char json[512];
		struct sl_buf a;
		struct sl_experiment_set *s = NULL, *t = NULL;
		snprintf(json, sizeof(json), "{\"experiments\":[{" BASE ",\"stop\":\"%s\"}]}", times[i]);
		fixed_point(json, &a, &s, &t);
		cr_expect_leq(fabs(t->exps[0].stop - s->exps[0].stop), 0.001, "%s", times[i]); /* a millisecond */
		sl_buf_release(&a);
		sl_experiment_set_free(s);
		sl_experiment_set_free(t);
	}
}

/* Found by fuzz/experiment.c: a weight of -0 was written "-0", which json-c reads back as the
 * integer 0, so the written spec was not a fixed point. Numbers are written without the sign. */
Test(spec, negative_zero_weight_round_trips)
{
	struct sl_buf a;
	assert_fixed_point("{\"experiments\":[{\"key\":\"k\",\"model\":\"m\",\"variants\":[{\"key\":\"a\","
	                   "\"weight\":-0.0},{\"key\":\"b\"}],\"metrics\":[]}]}",
	                   &a);
	cr_expect(strstr(a.data, "{\"key\":\"a\",\"weight\":0}"), "%s", a.data);
	sl_buf_release(&a);
}

/* Found by fuzz/experiment.c: weights 7.8 and 1 normalize to two doubles whose sum is 1 - 2^-53
 * rather than 1, and dividing by that sum again moved each by an ulp, so the written spec read
 * back differently. Weights that already sum to 1 (within 1e-12) are kept as they are. */
Test(spec, normalized_weights_round_trip)
{
	struct sl_buf a;
	assert_fixed_point("{\"experiments\":[{\"key\":\"k\",\"model\":\"m\",\"variants\":[{\"key\":\"a\","
	                   "\"weight\":7.8},{\"key\":\"b\"}],\"metrics\":[]}]}",
	                   &a);
	sl_buf_release(&a);
	assert_fixed_point("{\"experiments\":[{\"key\":\"k\",\"model\":\"m\",\"variants\":[{\"key\":\"a\","
	                   "\"weight\":1},{\"key\":\"b\",\"weight\":1},{\"key\":\"c\",\"weight\":1}],"
	                   "\"metrics\":[]}]}",
	                   &a);
	sl_buf_release(&a);
	/* and 7.7 and 1, whose bucket ranges summed to 1.0000000000000002, which "ranges" refuses */
	assert_fixed_point("{\"experiments\":[{\"key\":\"k\",\"model\":\"m\",\"variants\":[{\"key\":\"a\","
	                   "\"weight\":7.7},{\"key\":\"b\"}],\"metrics\":[]}]}",
	                   &a);
	cr_expect(strstr(a.data, "\"ranges\":[[0,0.885057471264368],[0.885057471264368,1]]"), "%s", a.data);
	sl_buf_release(&a);
}

/* Found by fuzz/experiment.c: json-c's UTF-8 check lets overlong forms (C0 BC for '<') through,
 * and the writer turns each such byte into U+FFFD, so a 256-byte name came back longer than
 * allowed. Strings must be well-formed UTF-8. */
Test(spec, malformed_utf8_refused)
{
	struct sl_experiment_set *s = NULL;
	char err[256];
	cr_expect_eq(parse("{\"experiments\":[{\"key\":\"x\",\"model\":\"m\xc0\xbc\",\"variants\":[{\"key\":\"a\"},"
	                   "{\"key\":\"b\"}]}]}",
	                   &s, err),
	             SL_EINVAL);
	cr_expect_str_eq(err, "experiments[0].model: must be valid UTF-8");
	cr_expect(sl_utf8_valid("caf\xc3\xa9", 5));
	cr_expect(!sl_utf8_valid("\xc0\xbc", 2));
	cr_expect(!sl_utf8_valid("\xed\xa0\x80", 3), "a surrogate");
	cr_expect(!sl_utf8_valid("\xe2\x82", 2), "cut short");
	cr_expect(sl_utf8_valid("", 0));
}
