/* judge.c: the canary judge on seeded synthetic traffic: identical versions pass; a +40%
 * latency shift fails with the right evidence; a +5% shift under a 10% tolerance never fails
 * however large n grows; small rate counts use the exact conditional test (one stratum:
 * Fisher's one-sided p-values checked against SciPy 1.10), large ones the stratified score
 * test; evidence pools the window's strata (a regression split over two stages is caught
 * where each stage alone is not, and a level shift between stages that hits both versions
 * alike is not taken for a regression); dry-run checks never change the outcome; a critical
 * check fails the judgment alone; scores against the pass and marginal thresholds; the alpha
 * spent per look; and the JSON and text forms of the evidence. */
#include <json-c/json.h>
#include <math.h>
#include <string.h>

#include "rollout_test.h"

/* How the candidate differs: multipliers of each value metric and the two rates. */
struct traffic {
	double latency, ttft, tokens, cost, score;
	double error_rate, negative_rate;
};
static const struct traffic base = {1, 1, 1, 1, 1, 0.02, 0.05};

static int idx(const struct sl_rollout_spec *s, const char *name)
{
	int i = sl_rollout_spec_find(s, name);
	cr_assert_geq(i, 0, "no check %s", name);
	return i;
}

/* n requests of one side, each with every default metric. */
static void feed(struct sl_window *w, const struct sl_rollout_spec *s, enum sl_side side, size_t n,
                 const struct traffic *t, struct sl_rng *rng)
{
	for (size_t i = 0; i < n; i++) {
		double tokens = round(sl_rng_lognormal(rng, 200, 0.7)) * t->tokens;
		cr_assert_eq(sl_window_add_request(w, side), 0);
		sl_window_add_value(w, side, idx(s, "latency"), sl_rng_lognormal(rng, 1000, 0.5) * t->latency);
		sl_window_add_value(w, side, idx(s, "ttft"), sl_rng_lognormal(rng, 300, 0.6) * t->ttft);
		sl_window_add_value(w, side, idx(s, "output_tokens"), tokens);
		sl_window_add_value(w, side, idx(s, "cost"), sl_rng_lognormal(rng, 6e-4, 0.5) * t->cost);
		sl_window_add_value(w, side, idx(s, "score"), (0.8 + 0.1 * sl_rng_normal(rng)) * t->score);
		sl_window_add_rate(w, side, idx(s, "error_rate"), sl_rng_double(rng) < t->error_rate, 1);
		sl_window_add_rate(w, side, idx(s, "negative_feedback_rate"), sl_rng_double(rng) < t->negative_rate, 1);
	}
}

struct run {
	struct sl_rollout_spec spec;
	struct sl_window w;
	struct sl_judgment j;
};

static void run_judge(struct run *r, size_t n_stable, size_t n_cand, const struct traffic *cand, uint64_t seed,
                      unsigned index)
{
	struct sl_rng rng;
	sl_rng_seed(&rng, seed);
	cr_assert_eq(sl_window_init(&r->w, &r->spec, 0, seed), 0);
	feed(&r->w, &r->spec, SL_STABLE, n_stable, &base, &rng);
	feed(&r->w, &r->spec, SL_CANDIDATE, n_cand, cand, &rng);
	cr_assert_eq(sl_judge(&r->spec, &r->w, index, &r->j), 0);
	sl_window_release(&r->w);
}

static const struct sl_check_result *check(const struct run *r, const char *name)
{
	return &r->j.checks[idx(&r->spec, name)];
}

Test(judge, identical_samples_pass)
{
	struct run r;
	sl_rollout_spec_defaults(&r.spec);
	struct sl_rng rng;
	sl_rng_seed(&rng, 7);
	cr_assert_eq(sl_window_init(&r.w, &r.spec, 0, 7), 0);
	for (int i = 0; i < 1000; i++) { /* the very same values on both sides */
		double v[5] = {sl_rng_lognormal(&rng, 1000, 0.5), sl_rng_lognormal(&rng, 300, 0.6), 200 + i % 50,
		               1e-3 + i % 7 * 1e-5, 0.8 + 0.1 * sl_rng_normal(&rng)};
		int ix[5] = {idx(&r.spec, "latency"), idx(&r.spec, "ttft"), idx(&r.spec, "output_tokens"),
		             idx(&r.spec, "cost"), idx(&r.spec, "score")};
		for (int side = 0; side < 2; side++) {
			sl_window_add_request(&r.w, (enum sl_side)side);
			for (int k = 0; k < 5; k++)
				sl_window_add_value(&r.w, (enum sl_side)side, (unsigned)ix[k], v[k]);
		}
	}
	for (int side = 0; side < 2; side++) { /* rates need more trials to be decided at 10,000 */
		sl_window_add_rate(&r.w, (enum sl_side)side, idx(&r.spec, "error_rate"), 100, 10000);
		sl_window_add_rate(&r.w, (enum sl_side)side, idx(&r.spec, "negative_feedback_rate"), 500, 10000);
	}
	cr_assert_eq(sl_judge(&r.spec, &r.w, 0, &r.j), 0);
	sl_window_release(&r.w);
	cr_expect_eq(r.j.outcome, SL_OUTCOME_PASS, "%s", r.j.reason);
	cr_expect_float_eq(r.j.score, 100, 1e-9);
	for (unsigned i = 0; i < r.j.nchecks; i++) {
		const struct sl_check_result *c = &r.j.checks[i];
		/* a 5% latency tolerance needs more than 1,000 values to be shown met, and a rate
		 * with no allowed increase can only be undecided when nothing changed */
		bool tight = strcmp(c->name, "latency") == 0 || strcmp(c->name, "error_rate") == 0;
		cr_expect_eq(c->verdict, tight ? SL_VERDICT_INCONCLUSIVE : SL_VERDICT_PASS, "%s: %s", c->name, c->reason);
		cr_expect_float_eq(c->effect, 0, 1e-7, "%s", c->name); /* bisection to 1e-9 of the range */
		cr_expect_geq(c->pvalue, 0.5, "%s: p %g (one-sided, at the margin)", c->name, c->pvalue);
	}
	LEAK_CHECK();
}

Test(judge, same_distribution_passes)
{
	struct run r;
	sl_rollout_spec_defaults(&r.spec);
	run_judge(&r, 3000, 3000, &base, 11, 0);
	cr_expect_eq(r.j.outcome, SL_OUTCOME_PASS, "%s", r.j.reason);
	for (unsigned i = 0; i < r.j.nchecks; i++)
		cr_expect_neq(r.j.checks[i].verdict, SL_VERDICT_FAIL, "%s: %s", r.j.checks[i].name,
		              r.j.checks[i].reason);
}

Test(judge, latency_plus_40_percent_fails_with_evidence)
{
	struct run r;
	struct traffic t = base;
	t.latency = 1.4;
	sl_rollout_spec_defaults(&r.spec);
	run_judge(&r, 500, 500, &t, 21, 0);
	const struct sl_check_result *c = check(&r, "latency");
	cr_expect_eq(r.j.outcome, SL_OUTCOME_FAIL, "%s", r.j.reason);
	cr_expect_eq(r.j.decided_by, idx(&r.spec, "latency"));
	cr_expect(strstr(r.j.reason, "critical check failed: latency"), "%s", r.j.reason);
	cr_expect_eq(c->verdict, SL_VERDICT_FAIL, "%s", c->reason);
	cr_expect_eq(c->n[SL_STABLE], 500);
	cr_expect_eq(c->n[SL_CANDIDATE], 500);
	cr_expect_eq(c->seen[SL_CANDIDATE], 500);
	cr_expect_eq(c->test, SL_TEST_VAN_ELTEREN);
	cr_expect_eq(c->strata, 1);
	cr_expect_float_eq(c->candidate / c->stable, 1.4, 0.12, "median ratio %g", c->candidate / c->stable);
	cr_expect(c->effect > 0.3 && c->effect < 0.5, "shift %g", c->effect);
	cr_expect(c->lo > 0.1 && c->lo < c->effect && c->effect < c->hi, "interval [%g, %g]", c->lo, c->hi);
	cr_expect_float_eq(c->abs_effect, c->effect * c->stable, 1e-9 * c->stable);
	cr_expect_float_eq(c->tolerance, 0.05, 0);
	cr_expect_float_eq(c->alpha, sl_judge_alpha_look(0.05, 4, 0) / 6, 1e-15);
	cr_expect_float_eq(c->confidence, 1 - 2 * c->alpha, 1e-15, "one-sided ends at 1 - alpha");
	cr_expect(c->pvalue < 1e-12, "p %g", c->pvalue);
	cr_expect(strstr(c->reason, "beyond the +5% tolerance"), "%s", c->reason);
	/* no other check failed: the others pass or are undecided */
	for (unsigned i = 1; i < r.j.nchecks; i++)
		cr_expect_neq(r.j.checks[i].verdict, SL_VERDICT_FAIL, "%s: %s", r.j.checks[i].name,
		              r.j.checks[i].reason);
	cr_expect_float_eq(r.j.score, 100.0 * 5 / 6, 1e-9);
}

/* The shift is real and (with this n) significant, but smaller than the tolerance. */
Test(judge, five_percent_shift_under_ten_percent_tolerance_never_fails)
{
	struct traffic t = base;
	t.latency = 1.05;
	for (uint64_t seed = 1; seed <= 4; seed++) {
		struct run r;
		sl_rollout_spec_defaults(&r.spec);
		r.spec.checks[idx(&r.spec, "latency")].tolerance = 0.1;
		run_judge(&r, 20000, 20000, &t, seed, 0);
		const struct sl_check_result *c = check(&r, "latency");
		cr_expect_eq(c->verdict, SL_VERDICT_PASS, "seed %llu: %s", (unsigned long long)seed, c->reason);
		cr_expect(c->lo > 0, "seed %llu: significant, interval [%g, %g]", (unsigned long long)seed, c->lo,
		          c->hi);
		cr_expect(c->hi < 0.1);
		cr_expect_eq(r.j.outcome, SL_OUTCOME_PASS, "%s", r.j.reason);
	}
}

Test(judge, reservoir_caps_the_sample)
{
	struct run r;
	struct traffic t = base;
	t.latency = 1.05;
	sl_rollout_spec_defaults(&r.spec);
	run_judge(&r, 30000, 25000, &t, 5, 3);
	const struct sl_check_result *c = check(&r, "latency");
	cr_expect_eq(c->n[SL_STABLE], SL_WINDOW_CAP_DEFAULT);
	cr_expect_eq(c->seen[SL_STABLE], 30000);
	cr_expect_eq(c->seen[SL_CANDIDATE], 25000);
	cr_expect_neq(c->verdict, SL_VERDICT_FAIL, "%s", c->reason);
	cr_expect_eq(r.j.requests[SL_STABLE], 30000);
}

static struct sl_window rate_window(const struct sl_rollout_spec *s, uint64_t es, uint64_t ns, uint64_t ec, uint64_t nc)
{
	struct sl_window w;
	cr_assert_eq(sl_window_init(&w, s, 64, 1), 0);
	w.requests[SL_STABLE] = ns;
	w.requests[SL_CANDIDATE] = nc;
	cr_assert_eq(sl_window_add_rate(&w, SL_STABLE, 0, es, ns), 0);
	cr_assert_eq(sl_window_add_rate(&w, SL_CANDIDATE, 0, ec, nc), 0);
	return w;
}

/* The defaults with one check only, judged from the first candidate request on. */
static struct sl_rollout_spec one_check_spec(const char *name, enum sl_metric_kind kind)
{
	struct sl_rollout_spec s;
	sl_rollout_spec_defaults(&s);
	s.nchecks = 1;
	sl_metric_check_defaults(&s.checks[0], name, kind);
	s.min_requests = 1;
	return s;
}

static struct sl_rollout_spec rate_spec(double allowed, bool critical)
{
	struct sl_rollout_spec s = one_check_spec("error_rate", SL_METRIC_RATE);
	s.checks[0].tolerance = allowed;
	s.checks[0].critical = critical;
	return s;
}

Test(judge, small_rate_counts_use_the_exact_test)
{
	struct sl_rollout_spec s = rate_spec(0, true);
	s.alpha = 0.01; /* this look: 0.01 x 0.9 / 4 = 0.00225 for the one check */
	struct sl_window w = rate_window(&s, 1, 1000, 3, 150);
	struct sl_judgment j;
	cr_assert_eq(sl_judge(&s, &w, 0, &j), 0);
	sl_window_release(&w);
	const struct sl_check_result *c = &j.checks[0];
	cr_expect_float_eq(c->alpha, 0.00225, 1e-15);
	cr_expect_eq(c->test, SL_TEST_MH_EXACT);
	cr_expect_float_eq(c->pvalue, 0.007884063312944386, 1e-12,
	                   "SciPy fisher_exact([[3,147],[1,999]], alternative='greater')");
	cr_expect_eq(c->events[SL_CANDIDATE], 3);
	cr_expect_eq(c->n[SL_CANDIDATE], 150);
	cr_expect_float_eq(c->candidate, 0.02, 1e-15);
	cr_expect_float_eq(c->stable, 0.001, 1e-15);
	cr_expect_float_eq(c->effect, 0.019, 1e-15);
	cr_expect_eq(c->verdict, SL_VERDICT_INCONCLUSIVE, "%s", c->reason);
	cr_expect(isfinite(c->lo) && c->lo < 0.01 && c->hi > 0.019, "[%g, %g]", c->lo, c->hi);
	/* a clear regression in small counts still fails, on the exact p */
	w = rate_window(&s, 0, 400, 5, 100);
	cr_assert_eq(sl_judge(&s, &w, 0, &j), 0);
	sl_window_release(&w);
	cr_expect_eq(j.checks[0].test, SL_TEST_MH_EXACT);
	cr_expect_float_eq(j.checks[0].pvalue, 0.0002949621428281589, 1e-12,
	                   "SciPy fisher_exact([[5,95],[0,400]], alternative='greater')");
	cr_expect_eq(j.checks[0].verdict, SL_VERDICT_FAIL, "%s", j.checks[0].reason);
	/* with an allowed increase, the score test at the margin must agree: its larger p counts */
	s.checks[0].tolerance = 0.01;
	w = rate_window(&s, 1, 1000, 3, 150);
	cr_assert_eq(sl_judge(&s, &w, 0, &j), 0);
	sl_window_release(&w);
	cr_expect_geq(j.checks[0].pvalue, 0.007884063312944386);
	cr_expect_eq(j.checks[0].test, SL_TEST_MH_Z);
}

Test(judge, large_rate_counts_use_the_score_test)
{
	/* 21,000 and 20,000 errors in a million each: the exact law's support is past its limit */
	struct sl_rollout_spec s = rate_spec(0, true);
	struct sl_window w = rate_window(&s, 20000, 1000000, 21000, 1000000);
	struct sl_judgment j;
	cr_assert_eq(sl_judge(&s, &w, 0, &j), 0);
	sl_window_release(&w);
	const struct sl_check_result *c = &j.checks[0];
	double pooled = 41000.0 / 2e6, se = sqrt(pooled * (1 - pooled) * 2e-6 * 2e6 / (2e6 - 1));
	cr_expect_eq(c->test, SL_TEST_MH_Z);
	cr_expect_float_eq(c->pvalue, sl_norm_sf(0.001 / se), 1e-9 * sl_norm_sf(0.001 / se), "p %.17g", c->pvalue);
	cr_expect_float_eq(c->effect, 0.001, 1e-15);
	cr_expect(c->lo > 0 && c->lo < 0.001 && c->hi > 0.001, "[%g, %g]", c->lo, c->hi);
	cr_expect_eq(c->verdict, SL_VERDICT_FAIL, "%s", c->reason);
	cr_expect_eq(j.outcome, SL_OUTCOME_FAIL);
	cr_expect(strstr(c->reason, "rate 2.10% vs stable 2.00%"), "%s", c->reason);
	s.checks[0].tolerance = 0.01;
	/* +0.5 points under the allowed 1 point: passes once the interval is tight */
	w = rate_window(&s, 2000, 200000, 2100, 200000);
	cr_assert_eq(sl_judge(&s, &w, 0, &j), 0);
	sl_window_release(&w);
	cr_expect_eq(j.checks[0].verdict, SL_VERDICT_PASS, "%s", j.checks[0].reason);
}

Test(judge, dry_run_checks_never_change_the_outcome)
{
	struct traffic t = base;
	t.tokens = 1.6; /* output_tokens is dry-run by default */
	struct run a, b;
	sl_rollout_spec_defaults(&a.spec);
	sl_rollout_spec_defaults(&b.spec);
	run_judge(&a, 2000, 2000, &t, 3, 0);
	run_judge(&b, 2000, 2000, &base, 3, 0);
	cr_expect_eq(check(&a, "output_tokens")->verdict, SL_VERDICT_FAIL, "%s", check(&a, "output_tokens")->reason);
	cr_expect_eq(a.j.outcome, SL_OUTCOME_PASS, "%s", a.j.reason);
	cr_expect_eq(a.j.outcome, b.j.outcome);
	cr_expect_float_eq(a.j.score, b.j.score, 0);
	cr_expect_float_eq(a.j.alpha_check, sl_judge_alpha_look(0.05, 4, 0) / 6, 1e-15, "dry-run checks get no alpha");
	/* making the latency check dry-run turns its failure into a shown, inert one */
	t = base;
	t.latency = 1.5;
	a.spec.checks[idx(&a.spec, "latency")].dry_run = true;
	run_judge(&a, 1000, 1000, &t, 4, 0);
	cr_expect_eq(check(&a, "latency")->verdict, SL_VERDICT_FAIL);
	cr_expect_eq(a.j.outcome, SL_OUTCOME_PASS, "%s", a.j.reason);
	cr_expect_eq(a.j.decided_by, -1);
}

Test(judge, critical_check_failing_alone_fails)
{
	struct traffic t = base;
	t.error_rate = 0.12; /* +10 points on a critical rate */
	struct run r;
	sl_rollout_spec_defaults(&r.spec);
	run_judge(&r, 2000, 2000, &t, 8, 0);
	cr_expect_eq(check(&r, "error_rate")->verdict, SL_VERDICT_FAIL, "%s", check(&r, "error_rate")->reason);
	cr_expect_float_eq(r.j.score, 100.0 * 5 / 6, 1e-9, "the score alone would only be marginal");
	cr_expect_eq(r.j.outcome, SL_OUTCOME_FAIL);
	cr_expect_eq(r.j.decided_by, idx(&r.spec, "error_rate"));
	/* the same failure on a non-critical copy only makes the judgment inconclusive */
	r.spec.checks[idx(&r.spec, "error_rate")].critical = false;
	run_judge(&r, 2000, 2000, &t, 8, 0);
	cr_expect_eq(r.j.outcome, SL_OUTCOME_INCONCLUSIVE, "%s", r.j.reason);
	cr_expect_eq(r.j.decided_by, idx(&r.spec, "error_rate"));
}

Test(judge, score_against_pass_and_marginal)
{
	struct traffic t = base;
	t.ttft = 1.5;
	struct run r;
	sl_rollout_spec_defaults(&r.spec);
	run_judge(&r, 2000, 2000, &t, 9, 0);
	cr_expect_eq(r.j.outcome, SL_OUTCOME_INCONCLUSIVE, "one of six: %s", r.j.reason);
	cr_expect(strstr(r.j.reason, "score 83.3 below the pass 95"), "%s", r.j.reason);
	t.cost = 1.5;
	run_judge(&r, 2000, 2000, &t, 9, 0);
	cr_expect_eq(r.j.outcome, SL_OUTCOME_FAIL, "two of six: %s", r.j.reason);
	cr_expect_float_eq(r.j.score, 100.0 * 4 / 6, 1e-9);
	cr_expect(strstr(r.j.reason, "below the marginal 75"), "%s", r.j.reason);
	/* weights: ttft heavy enough that its failure alone is a fail */
	t = base;
	t.ttft = 1.5;
	r.spec.checks[idx(&r.spec, "ttft")].weight = 3;
	run_judge(&r, 2000, 2000, &t, 9, 0);
	cr_expect_float_eq(r.j.score, 100.0 * 5 / 8, 1e-9);
	cr_expect_eq(r.j.outcome, SL_OUTCOME_FAIL);
}

Test(judge, decrease_bad_and_either_directions)
{
	struct traffic t = base;
	t.score = 0.7;
	struct run r;
	sl_rollout_spec_defaults(&r.spec);
	run_judge(&r, 2000, 2000, &t, 12, 0);
	cr_expect_eq(check(&r, "score")->verdict, SL_VERDICT_FAIL, "%s", check(&r, "score")->reason);
	cr_expect(strstr(check(&r, "score")->reason, "beyond the -10% tolerance"), "%s", check(&r, "score")->reason);
	t.score = 1.3; /* better scores are fine */
	run_judge(&r, 2000, 2000, &t, 12, 0);
	cr_expect_eq(check(&r, "score")->verdict, SL_VERDICT_PASS, "%s", check(&r, "score")->reason);
	t = base;
	t.tokens = 0.6; /* either: a drop fails too */
	run_judge(&r, 2000, 2000, &t, 12, 0);
	cr_expect_eq(check(&r, "output_tokens")->verdict, SL_VERDICT_FAIL, "%s", check(&r, "output_tokens")->reason);
	t.latency = 0.5; /* increase_bad: much faster passes */
	run_judge(&r, 2000, 2000, &t, 12, 0);
	cr_expect_eq(check(&r, "latency")->verdict, SL_VERDICT_PASS, "%s", check(&r, "latency")->reason);
}

Test(judge, too_few_candidate_requests_is_insufficient_data)
{
	struct run r;
	sl_rollout_spec_defaults(&r.spec);
	struct traffic t = base;
	t.latency = 3;
	run_judge(&r, 5000, 99, &t, 13, 0);
	cr_expect_eq(r.j.outcome, SL_OUTCOME_INSUFFICIENT_DATA);
	cr_expect_str_eq(r.j.reason, "99 of 100 candidate requests");
	cr_expect(isnan(r.j.score));
	for (unsigned i = 0; i < r.j.nchecks; i++)
		cr_expect_eq(r.j.checks[i].verdict, SL_VERDICT_NO_DATA);
	cr_expect_eq(check(&r, "latency")->n[SL_CANDIDATE], 99, "the counts are still shown");
}

Test(judge, checks_without_data_are_left_out_of_the_score)
{
	struct run r;
	sl_rollout_spec_defaults(&r.spec);
	struct sl_rng rng;
	sl_rng_seed(&rng, 14);
	cr_assert_eq(sl_window_init(&r.w, &r.spec, 0, 14), 0);
	for (int side = 0; side < 2; side++)
		for (int i = 0; i < 500; i++) {
			sl_window_add_request(&r.w, (enum sl_side)side);
			sl_window_add_value(&r.w, (enum sl_side)side, idx(&r.spec, "latency"),
			                    sl_rng_lognormal(&rng, 1000, 0.5) * (side ? 1.3 : 1));
			sl_window_add_rate(&r.w, (enum sl_side)side, idx(&r.spec, "error_rate"), 0, 1);
		}
	cr_assert_eq(sl_judge(&r.spec, &r.w, 0, &r.j), 0);
	sl_window_release(&r.w);
	cr_expect_eq(check(&r, "score")->verdict, SL_VERDICT_NO_DATA);
	cr_expect(strstr(check(&r, "score")->reason, "too few values"), "%s", check(&r, "score")->reason);
	cr_expect_eq(check(&r, "negative_feedback_rate")->verdict, SL_VERDICT_NO_DATA);
	cr_expect_eq(check(&r, "latency")->verdict, SL_VERDICT_FAIL);
	cr_expect_float_eq(r.j.score, 50, 1e-9, "latency failed, error_rate did not: 1 of 2 with data");
	cr_expect_eq(r.j.outcome, SL_OUTCOME_FAIL);
}

Test(judge, no_check_with_data_is_insufficient_data)
{
	struct sl_rollout_spec s;
	struct sl_window w;
	struct sl_judgment j;
	sl_rollout_spec_defaults(&s);
	cr_assert_eq(sl_window_init(&w, &s, 16, 1), 0);
	w.requests[0] = w.requests[1] = 1000;
	cr_assert_eq(sl_judge(&s, &w, 0, &j), 0);
	sl_window_release(&w);
	cr_expect_eq(j.outcome, SL_OUTCOME_INSUFFICIENT_DATA);
	cr_expect_str_eq(j.reason, "no check has data yet");
	s.nchecks = 0; /* a timed ramp: nothing to judge */
	cr_assert_eq(sl_window_init(&w, &s, 16, 1), 0);
	w.requests[1] = 1000;
	cr_assert_eq(sl_judge(&s, &w, 0, &j), 0);
	sl_window_release(&w);
	cr_expect_eq(j.outcome, SL_OUTCOME_PASS);
	cr_expect_float_eq(j.score, 100, 0);
}

/* Ten values a side cannot reach confidence 1 - 1e-6: the interval is unbounded and the
 * check cannot fail, however different the samples. */
Test(judge, unattainable_interval_never_fails)
{
	struct sl_rollout_spec s = one_check_spec("latency", SL_METRIC_VALUE);
	s.alpha = 1e-5;
	struct sl_window w;
	struct sl_judgment j;
	cr_assert_eq(sl_window_init(&w, &s, 64, 1), 0);
	for (int i = 0; i < 10; i++) {
		sl_window_add_value(&w, SL_STABLE, 0, 100 + i);
		sl_window_add_value(&w, SL_CANDIDATE, 0, 1000 + i);
	}
	w.requests[1] = 10;
	cr_assert_eq(sl_judge(&s, &w, 0, &j), 0);
	cr_expect(isinf(j.checks[0].lo) && isinf(j.checks[0].hi));
	cr_expect_eq(j.checks[0].verdict, SL_VERDICT_INCONCLUSIVE, "%s", j.checks[0].reason);
	cr_expect(strstr(j.checks[0].reason, "too few values for this look's confidence"), "%s", j.checks[0].reason);
	/* at a looser alpha the same data decide */
	s.alpha = 0.05;
	cr_assert_eq(sl_judge(&s, &w, 0, &j), 0);
	cr_expect_eq(j.checks[0].verdict, SL_VERDICT_FAIL, "%s", j.checks[0].reason);
	sl_window_release(&w);
}

Test(judge, stable_median_zero_is_undecided)
{
	struct sl_rollout_spec s = one_check_spec("tool_calls", SL_METRIC_VALUE);
	struct sl_window w;
	struct sl_judgment j;
	cr_assert_eq(sl_window_init(&w, &s, 256, 1), 0);
	for (int i = 0; i < 100; i++) {
		sl_window_add_value(&w, SL_STABLE, 0, i % 3 == 0);
		sl_window_add_value(&w, SL_CANDIDATE, 0, 2);
	}
	w.requests[1] = 100;
	cr_assert_eq(sl_judge(&s, &w, 0, &j), 0);
	sl_window_release(&w);
	cr_expect_eq(j.checks[0].verdict, SL_VERDICT_INCONCLUSIVE);
	cr_expect(strstr(j.checks[0].reason, "no relative shift"), "%s", j.checks[0].reason);
	cr_expect_float_eq(j.checks[0].abs_effect, 2, 1e-7); /* bisection to 1e-9 of the range */
}

Test(judge, alpha_spending_sums_to_alpha)
{
	for (unsigned planned = 0; planned <= 16; planned += 4) {
		double sum = 0;
		for (unsigned k = 0; k < 1000000; k++)
			sum += sl_judge_alpha_look(0.01, planned, k);
		cr_expect_float_eq(sum, 0.01, 1e-8, "planned %u: partial sum %.10g", planned, sum);
	}
	/* equal shares over the planned looks, then the reserve as 6/(pi^2 j^2) */
	for (unsigned k = 0; k < 4; k++)
		cr_expect_float_eq(sl_judge_alpha_look(0.01, 4, k), 0.009 / 4, 1e-15);
	cr_expect_float_eq(sl_judge_alpha_look(0.01, 4, 4), 0.006 / (M_PI * M_PI), 1e-18);
	cr_expect_float_eq(sl_judge_alpha_look(0.01, 4, 13), 0.006 / (M_PI * M_PI * 100), 1e-18);
	cr_expect_float_eq(sl_judge_alpha_look(0.01, 0, 0), 0.009, 1e-15, "no plan counts as one look");
	struct run r;
	sl_rollout_spec_defaults(&r.spec); /* 4 judged stages; look 20 is the 16th extra look */
	cr_expect_eq(sl_rollout_spec_stages(&r.spec), 4);
	run_judge(&r, 200, 200, &base, 15, 19);
	cr_expect_eq(r.j.index, 19);
	cr_expect_float_eq(r.j.alpha_look, 0.1 * 0.05 * 6 / (M_PI * M_PI * 256), 1e-18);
	cr_expect_float_eq(r.j.alpha_check, r.j.alpha_look / 6, 1e-18);
}

Test(judge, window_must_match_the_spec)
{
	struct sl_rollout_spec s, other;
	struct sl_window w;
	struct sl_judgment j;
	sl_rollout_spec_defaults(&s);
	other = s;
	other.nchecks--;
	cr_assert_eq(sl_window_init(&w, &other, 16, 1), 0);
	cr_expect_eq(sl_judge(&s, &w, 0, &j), SL_EINVAL);
	sl_window_release(&w);
	other = s;
	other.checks[0].kind = SL_METRIC_RATE;
	cr_assert_eq(sl_window_init(&w, &other, 16, 1), 0);
	cr_expect_eq(sl_judge(&s, &w, 0, &j), SL_EINVAL);
	sl_window_release(&w);
}

Test(judge, evidence_as_json_and_text)
{
	struct run r;
	struct traffic t = base;
	t.latency = 1.4;
	sl_rollout_spec_defaults(&r.spec);
	run_judge(&r, 500, 500, &t, 21, 0);
	struct sl_buf b;
	sl_buf_init(&b, 0);
	cr_assert_eq(sl_judgment_to_json(&r.j, &b), 0);
	struct json_object *o = json_tokener_parse(b.data), *v, *c0, *x;
	cr_assert_not_null(o, "not JSON: %s", b.data);
	cr_expect(json_object_object_get_ex(o, "outcome", &v) && strcmp(json_object_get_string(v), "fail") == 0);
	cr_expect(json_object_object_get_ex(o, "decided_by", &v) && strcmp(json_object_get_string(v), "latency") == 0);
	cr_expect(json_object_object_get_ex(o, "look", &v) && json_object_get_int(v) == 1);
	cr_assert(json_object_object_get_ex(o, "checks", &v) && json_object_array_length(v) == 7);
	c0 = json_object_array_get_idx(v, 0);
	cr_expect(json_object_object_get_ex(c0, "verdict", &x) && strcmp(json_object_get_string(x), "fail") == 0);
	cr_expect(json_object_object_get_ex(c0, "test", &x) && strcmp(json_object_get_string(x), "van_elteren") == 0);
	cr_expect(json_object_object_get_ex(c0, "strata", &x) && json_object_get_int(x) == 1);
	cr_expect(json_object_object_get_ex(c0, "n", &x) && json_object_object_get_ex(x, "candidate", &x) &&
	          json_object_get_int(x) == 500);
	cr_expect(json_object_object_get_ex(c0, "lo", &x) &&
	          fabs(json_object_get_double(x) - r.j.checks[0].lo) < 1e-12);
	cr_expect(json_object_object_get_ex(c0, "events", &x) == false, "values have no events");
	json_object_put(o);
	sl_buf_reset(&b);
	cr_assert_eq(sl_judgment_to_text(&r.j, &b), 0);
	cr_expect(strstr(b.data, "latency") && strstr(b.data, "critical") && strstr(b.data, "=> fail"), "%s", b.data);
	sl_buf_release(&b);
	/* an insufficient judgment has NaNs: they must come out as null */
	run_judge(&r, 10, 10, &base, 1, 0);
	sl_buf_init(&b, 0);
	cr_assert_eq(sl_judgment_to_json(&r.j, &b), 0);
	o = json_tokener_parse(b.data);
	cr_assert_not_null(o, "not JSON: %s", b.data);
	cr_expect(json_object_object_get_ex(o, "score", &v) && v == NULL);
	json_object_put(o);
	sl_buf_release(&b);
	LEAK_CHECK();
}
