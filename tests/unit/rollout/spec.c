/* spec.c: rollout specs: the documented defaults, validation, and the JSON round trip, with
 * a table of malformed inputs whose errors must name the field. */
#include <criterion/criterion.h>
#include <string.h>

#include "sluice/rollout.h"

static bool check_eq(const struct sl_metric_check *a, const struct sl_metric_check *b)
{
	return strcmp(a->name, b->name) == 0 && a->kind == b->kind && a->direction == b->direction &&
	       a->tolerance == b->tolerance && a->critical == b->critical && a->dry_run == b->dry_run &&
	       a->weight == b->weight;
}

static bool spec_eq(const struct sl_rollout_spec *a, const struct sl_rollout_spec *b)
{
	if (a->nsteps != b->nsteps || a->nchecks != b->nchecks)
		return false;
	for (unsigned i = 0; i < a->nsteps; i++)
		if (a->steps[i].percent != b->steps[i].percent ||
		    a->steps[i].require_approval != b->steps[i].require_approval)
			return false;
	for (unsigned i = 0; i < a->nchecks; i++)
		if (!check_eq(&a->checks[i], &b->checks[i]))
			return false;
	return a->shadow_share == b->shadow_share && a->interval_ms == b->interval_ms &&
	       a->min_requests == b->min_requests && a->progress_deadline_ms == b->progress_deadline_ms &&
	       a->max_failures == b->max_failures && a->max_consecutive_failures == b->max_consecutive_failures &&
	       a->pass_score == b->pass_score && a->marginal_score == b->marginal_score && a->alpha == b->alpha &&
	       a->confirm_start == b->confirm_start && a->confirm_steps == b->confirm_steps;
}

Test(spec, defaults_are_the_documented_ones)
{
	struct sl_rollout_spec s;
	char err[256];
	sl_rollout_spec_defaults(&s);
	cr_assert_eq(sl_rollout_spec_validate(&s, err, sizeof(err)), 0, "%s", err);
	double steps[] = {1, 5, 25, 50, 100};
	cr_assert_eq(s.nsteps, 5);
	for (unsigned i = 0; i < 5; i++) {
		cr_expect_eq(s.steps[i].percent, steps[i]);
		cr_expect(!s.steps[i].require_approval);
	}
	cr_expect_eq(s.shadow_share, 0);
	cr_expect_eq(s.interval_ms, 120000);
	cr_expect_eq(s.min_requests, 100);
	cr_expect_eq(sl_rollout_spec_deadline_ms(&s), 1200000);
	cr_expect_eq(s.max_failures, 3);
	cr_expect_eq(s.max_consecutive_failures, 2);
	cr_expect_eq(s.pass_score, 95);
	cr_expect_eq(s.marginal_score, 75);
	cr_expect_eq(s.alpha, 0.05);
	cr_expect(!s.confirm_start && !s.confirm_steps);
	struct {
		const char *name;
		enum sl_metric_kind kind;
		enum sl_direction dir;
		double tol;
		bool critical, dry_run;
	} want[] = {
	    {"latency", SL_METRIC_VALUE, SL_DIR_INCREASE_BAD, 0.05, true, false},
	    {"ttft", SL_METRIC_VALUE, SL_DIR_INCREASE_BAD, 0.1, false, false},
	    {"output_tokens", SL_METRIC_VALUE, SL_DIR_EITHER, 0.1, false, true},
	    {"cost", SL_METRIC_VALUE, SL_DIR_INCREASE_BAD, 0.1, false, false},
	    {"error_rate", SL_METRIC_RATE, SL_DIR_INCREASE_BAD, 0, true, false},
	    {"negative_feedback_rate", SL_METRIC_RATE, SL_DIR_INCREASE_BAD, 0.02, false, false},
	    {"score", SL_METRIC_VALUE, SL_DIR_DECREASE_BAD, 0.1, false, false},
	};
	cr_assert_eq(s.nchecks, 7);
	for (unsigned i = 0; i < 7; i++) {
		const struct sl_metric_check *c = &s.checks[i];
		cr_expect_str_eq(c->name, want[i].name);
		cr_expect_eq(c->kind, want[i].kind, "%s", c->name);
		cr_expect_eq(c->direction, want[i].dir, "%s", c->name);
		cr_expect_eq(c->tolerance, want[i].tol, "%s", c->name);
		cr_expect_eq(c->critical, want[i].critical, "%s", c->name);
		cr_expect_eq(c->dry_run, want[i].dry_run, "%s", c->name);
		cr_expect_eq(c->weight, 1, "%s", c->name);
		cr_expect_eq(sl_rollout_spec_find(&s, want[i].name), (int)i);
	}
	cr_expect_eq(sl_rollout_spec_find(&s, "nope"), -1);
}

static void round_trip(const struct sl_rollout_spec *s)
{
	struct sl_buf b;
	struct sl_rollout_spec back;
	char err[256] = "";
	sl_buf_init(&b, 0);
	cr_assert_eq(sl_rollout_spec_to_json(s, &b), 0);
	cr_assert_eq(sl_rollout_spec_from_json(b.data, &back, err, sizeof(err)), 0, "%s in %s", err, b.data);
	cr_expect(spec_eq(s, &back), "round trip differs: %s", b.data);
	sl_buf_release(&b);
}

Test(spec, json_round_trip)
{
	struct sl_rollout_spec s;
	sl_rollout_spec_defaults(&s);
	round_trip(&s);
	s.nsteps = 4;
	s.steps[0] = (struct sl_rollout_step){0.5, false};
	s.steps[1] = (struct sl_rollout_step){10, true};
	s.steps[2] = (struct sl_rollout_step){33.3, false};
	s.steps[3] = (struct sl_rollout_step){100, true};
	s.shadow_share = 0.1;
	s.interval_ms = 1234;
	s.min_requests = 7;
	s.progress_deadline_ms = 99999;
	s.max_failures = 10;
	s.max_consecutive_failures = 4;
	s.pass_score = 90.5;
	s.marginal_score = 60;
	s.alpha = 0.003;
	s.confirm_start = s.confirm_steps = true;
	s.checks[1].weight = 2.5;
	s.checks[4].tolerance = 0.005;
	s.nchecks = 6;
	round_trip(&s);
	s.nchecks = 0;
	round_trip(&s);
}

Test(spec, json_partial_keeps_defaults)
{
	struct sl_rollout_spec s;
	char err[256] = "";
	cr_assert_eq(sl_rollout_spec_from_json("{\"steps\":[10,{\"percent\":100,\"require_approval\":true}],"
	                                       "\"interval_ms\":5000}",
	                                       &s, err, sizeof(err)),
	             0, "%s", err);
	cr_expect_eq(s.nsteps, 2);
	cr_expect(s.steps[1].require_approval && !s.steps[0].require_approval);
	cr_expect_eq(sl_rollout_spec_deadline_ms(&s), 50000, "10 x the given interval");
	cr_expect_eq(s.nchecks, 7);
	cr_assert_eq(sl_rollout_spec_from_json(" {\"checks\":[{\"name\":\"p95\",\"kind\":\"value\",\"tolerance\":0.2},"
	                                       "{\"name\":\"refusals\",\"kind\":\"rate\",\"allowed_increase\":0.05,"
	                                       "\"critical\":true,\"direction\":\"either\",\"weight\":2}]}\n",
	                                       &s, err, sizeof(err)),
	             0, "%s", err);
	cr_assert_eq(s.nchecks, 2, "checks replace the default list");
	cr_expect_eq(s.checks[0].tolerance, 0.2);
	cr_expect_eq(s.checks[0].direction, SL_DIR_INCREASE_BAD);
	cr_expect_eq(s.checks[1].tolerance, 0.05);
	cr_expect_eq(s.checks[1].direction, SL_DIR_EITHER);
	cr_expect(s.checks[1].critical);
	cr_expect_eq(s.checks[1].weight, 2);
}

struct bad {
	const char *json;
	int rc;
	const char *err;
};

static const struct bad bads[] = {
    {"[]", SL_EINVAL, "spec: must be a JSON object"},
    {"not json", SL_EPARSE, "json: "},
    {"{\"a\":1} x", SL_EPARSE, "json: unexpected character"},
    {"{\"interval_ms\":1", SL_EPARSE, "json: unexpected end of input"},
    {"{\"bogus\":1}", SL_EINVAL, "bogus: unknown field"},
    {"{\"interval_ms\":\"60s\"}", SL_EINVAL, "interval_ms: must be an integer"},
    {"{\"interval_ms\":1.5}", SL_EINVAL, "interval_ms: must be an integer"},
    {"{\"interval_ms\":-1}", SL_EINVAL, "interval_ms: must be in [0, "},
    {"{\"interval_ms\":0}", SL_EINVAL, "interval_ms: must be in [1, 604800000]"},
    {"{\"min_requests\":0}", SL_EINVAL, "min_requests: must be in [1, 1000000000]"},
    {"{\"progress_deadline_ms\":10}", SL_EINVAL, "progress_deadline_ms: must be 0 (10 x interval_ms) or at least"},
    {"{\"max_failures\":4294967296}", SL_EINVAL, "max_failures: must be in [0, 4294967295]"},
    {"{\"max_failures\":0}", SL_EINVAL, "max_failures: must be in [1, 1000]"},
    {"{\"max_consecutive_failures\":5}", SL_EINVAL, "max_consecutive_failures: must be in [1, max_failures]"},
    {"{\"pass_score\":101}", SL_EINVAL, "pass_score: must be in [0, 100]"},
    {"{\"marginal_score\":99}", SL_EINVAL, "marginal_score: must be in [0, pass_score]"},
    {"{\"alpha\":0}", SL_EINVAL, "alpha: must be in (0, 0.5]"},
    {"{\"alpha\":\"0.01\"}", SL_EINVAL, "alpha: must be a number"},
    {"{\"shadow_share\":1.5}", SL_EINVAL, "shadow_share: must be in [0, 1]"},
    {"{\"confirm_start\":1}", SL_EINVAL, "confirm_start: must be true or false"},
    {"{\"steps\":\"1,5\"}", SL_EINVAL, "steps: must be an array"},
    {"{\"steps\":[]}", SL_EINVAL, "steps: must have 1 to 16 entries"},
    {"{\"steps\":[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,100]}", SL_EINVAL, "steps: must have 1 to 16 entries"},
    {"{\"steps\":[5,1,100]}", SL_EINVAL, "steps[1].percent: must be larger than 5"},
    {"{\"steps\":[5,5,100]}", SL_EINVAL, "steps[1].percent: must be larger than 5"},
    {"{\"steps\":[1,5]}", SL_EINVAL, "steps[1].percent: the last step must be 100"},
    {"{\"steps\":[0,100]}", SL_EINVAL, "steps[0].percent: must be in (0, 100]"},
    {"{\"steps\":[1,true,100]}", SL_EINVAL, "steps[1]: must be a number"},
    {"{\"steps\":[{\"percent\":5,\"approve\":true},100]}", SL_EINVAL, "steps[0].approve: unknown field"},
    {"{\"steps\":[{\"require_approval\":true},100]}", SL_EINVAL, "steps[0].percent: missing"},
    {"{\"steps\":[{\"percent\":5,\"require_approval\":\"yes\"},100]}", SL_EINVAL,
     "steps[0].require_approval: must be true or false"},
    {"{\"checks\":{}}", SL_EINVAL, "checks: must be an array"},
    {"{\"checks\":[1]}", SL_EINVAL, "checks[0]: must be an object"},
    {"{\"checks\":[{\"kind\":\"value\"}]}", SL_EINVAL, "checks[0].name: missing"},
    {"{\"checks\":[{\"name\":\"x\"}]}", SL_EINVAL, "checks[0].kind: missing"},
    {"{\"checks\":[{\"name\":7,\"kind\":\"value\"}]}", SL_EINVAL, "checks[0].name: must be a string"},
    {"{\"checks\":[{\"name\":\"x\",\"kind\":\"ratio\"}]}", SL_EINVAL, "checks[0].kind: must be value or rate"},
    {"{\"checks\":[{\"name\":\"x\",\"kind\":\"rate\",\"tolerance\":0.1}]}", SL_EINVAL,
     "checks[0].tolerance: only for value checks (use allowed_increase)"},
    {"{\"checks\":[{\"name\":\"x\",\"kind\":\"value\",\"allowed_increase\":0.1}]}", SL_EINVAL,
     "checks[0].allowed_increase: only for rate checks (use tolerance)"},
    {"{\"checks\":[{\"name\":\"x\",\"kind\":\"rate\",\"allowed_increase\":2}]}", SL_EINVAL,
     "checks[0].allowed_increase: must be in [0, 1]"},
    {"{\"checks\":[{\"name\":\"x\",\"kind\":\"value\",\"tolerance\":-0.1}]}", SL_EINVAL,
     "checks[0].tolerance: must be in [0, 100]"},
    {"{\"checks\":[{\"name\":\"x\",\"kind\":\"value\",\"direction\":\"up\"}]}", SL_EINVAL,
     "checks[0].direction: must be increase_bad, decrease_bad or either"},
    {"{\"checks\":[{\"name\":\"x\",\"kind\":\"value\",\"weight\":0}]}", SL_EINVAL,
     "checks[0].weight: must be in (0, 1000000]"},
    {"{\"checks\":[{\"name\":\"x\",\"kind\":\"value\",\"critical\":null}]}", SL_EINVAL,
     "checks[0].critical: must be true or false"},
    {"{\"checks\":[{\"name\":\"x\",\"kind\":\"value\",\"colour\":1}]}", SL_EINVAL, "checks[0].colour: unknown field"},
    {"{\"checks\":[{\"name\":\"x\",\"kind\":\"value\"},{\"name\":\"x\",\"kind\":\"rate\"}]}", SL_EINVAL,
     "checks[1].name: 'x' is already checks[0]"},
    {"{\"checks\":[{\"name\":\"a b\",\"kind\":\"value\"}]}", SL_EINVAL,
     "checks[0].name: must be 1 to 47 characters of [A-Za-z0-9_.:-]"},
    {"{\"checks\":[{\"name\":\"\",\"kind\":\"value\"}]}", SL_EINVAL, "checks[0].name: must be 1 to 47"},
    {"{\"checks\":[{\"name\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\",\"kind\":\"value\"}]}", SL_EINVAL,
     "checks[0].name: must be a string of at most 47 bytes"},
};

Test(spec, json_errors_name_the_field)
{
	for (size_t i = 0; i < sizeof(bads) / sizeof(bads[0]); i++) {
		struct sl_rollout_spec s;
		char err[256] = "";
		sl_rollout_spec_defaults(&s);
		s.interval_ms = 42; /* must survive a failed parse */
		int rc = sl_rollout_spec_from_json(bads[i].json, &s, err, sizeof(err));
		cr_expect_eq(rc, bads[i].rc, "%s: rc %d (%s)", bads[i].json, rc, err);
		cr_expect(strncmp(err, bads[i].err, strlen(bads[i].err)) == 0, "%s: error '%s', want '%s'",
		          bads[i].json, err, bads[i].err);
		cr_expect_eq(s.interval_ms, 42, "%s: spec written on failure", bads[i].json);
	}
}

Test(spec, too_many_checks)
{
	struct sl_buf b;
	struct sl_rollout_spec s;
	char err[256] = "";
	sl_buf_init(&b, 0);
	sl_buf_puts(&b, "{\"checks\":[");
	for (int i = 0; i <= SL_ROLLOUT_MAX_CHECKS; i++)
		sl_buf_printf(&b, "%s{\"name\":\"m%d\",\"kind\":\"value\"}", i ? "," : "", i);
	sl_buf_puts(&b, "]}");
	cr_expect_eq(sl_rollout_spec_from_json(b.data, &s, err, sizeof(err)), SL_EINVAL);
	cr_expect_str_eq(err, "checks: must have at most 16 entries");
	sl_buf_release(&b);
}

Test(spec, validate_catches_c_callers_too)
{
	struct sl_rollout_spec s;
	char err[256];
	sl_rollout_spec_defaults(&s);
	s.checks[3].direction = (enum sl_direction)9;
	cr_expect_eq(sl_rollout_spec_validate(&s, err, sizeof(err)), SL_EINVAL);
	cr_expect_str_eq(err, "checks[3].direction: must be increase_bad, decrease_bad or either");
	sl_rollout_spec_defaults(&s);
	s.nchecks = SL_ROLLOUT_MAX_CHECKS + 1;
	cr_expect_eq(sl_rollout_spec_validate(&s, err, sizeof(err)), SL_EINVAL);
	sl_rollout_spec_defaults(&s);
	memset(s.checks[0].name, 'a', sizeof(s.checks[0].name)); /* no NUL */
	cr_expect_eq(sl_rollout_spec_validate(&s, err, sizeof(err)), SL_EINVAL);
	cr_expect_eq(sl_rollout_spec_validate(NULL, err, sizeof(err)), SL_EINVAL);
	struct sl_rollout r;
	sl_rollout_spec_defaults(&s);
	s.nsteps = 0;
	cr_expect_eq(sl_rollout_init(&r, &s, 0, err, sizeof(err)), SL_EINVAL);
	cr_expect_str_eq(err, "steps: must have 1 to 16 entries");
}

/* A check named like a metric the gateway measures must have that metric's kind. */
Test(spec, builtin_metrics_keep_their_kind)
{
	struct sl_rollout_spec s;
	char err[256];
	cr_assert_eq(sl_rollout_spec_from_json("{\"checks\":[{\"name\":\"recs_ctr\",\"kind\":\"rate\","
	                                       "\"direction\":\"decrease_bad\"},{\"name\":\"recs_repetition\","
	                                       "\"kind\":\"value\"}]}",
	                                       &s, err, sizeof err),
	             0, "%s", err);
	cr_expect_eq(sl_rollout_spec_from_json("{\"checks\":[{\"name\":\"recs_ctr\",\"kind\":\"value\"}]}", &s, err,
	                                       sizeof err),
	             SL_EINVAL);
	cr_expect_str_eq(err, "checks[0].kind: 'recs_ctr' is measured by the gateway as a rate");
	cr_expect_eq(sl_builtin_metric_find("latency"), SL_BM_LATENCY);
	cr_expect_eq(sl_builtin_metric_find("my_metric"), -1);
	for (int i = 0; i < SL_BM_COUNT; i++)
		cr_expect_eq(sl_builtin_metric_find(sl_builtin_metric_name((enum sl_builtin_metric)i)), i);
}
