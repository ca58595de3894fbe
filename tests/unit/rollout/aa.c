/* aa.c: error control of the judge across repeated looks and pooled stages. 200 seeded A/A
 * rollouts (candidate and stable draw from the same distributions), each judged at 20 looks on
 * growing data (15 candidate and 45 stable requests between looks, as at a 25% step), in 4
 * stages of 5 looks: the window opens a new stratum at each stage and the judge pools them, so
 * every look sees all the data before it. The budget is alpha = 1% per rollout; with 200 rollouts the test allows up to 3% (6 of 200) so that it
 * does not flake on binomial noise, and prints the measured rate.
 * The checks (latency and error rate) have tolerance 0 and direction "either", the hardest
 * case for the judge: any significant shift either way then fails, as in Kayenta's
 * per-interval test, and the whole alpha_k/m of a look can be spent. The same data are also
 * judged by a naive judge that tests each check at a fixed 1% at every look (no spending over
 * looks): it must exceed the 3% bound, which shows the test can fail. The default spec (its
 * seven checks and tolerances) runs on 100 rollouts with smaller looks (10 and 30 requests)
 * and must stay within the bound too. Sizes are kept small so that the file runs in about
 * 4 CPU seconds: the judge's cost is dominated by the Hodges-Lehmann selections, and the
 * guarantee does not depend on the sample size. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>

#include "sluice/rollout.h"

#define ROLLOUTS        200
#define LOOKS           20
#define CAND_PER_LOOK   15
#define STABLE_PER_LOOK 45
#define STAGES          4 /* the default steps' judged stages */

static struct sl_rollout_spec strict_spec(void)
{
	struct sl_rollout_spec s;
	sl_rollout_spec_defaults(&s);
	s.alpha = 0.01;
	s.min_requests = CAND_PER_LOOK;
	s.nchecks = 2;
	sl_metric_check_defaults(&s.checks[0], "latency", SL_METRIC_VALUE);
	sl_metric_check_defaults(&s.checks[1], "error_rate", SL_METRIC_RATE);
	for (unsigned i = 0; i < s.nchecks; i++) {
		s.checks[i].tolerance = 0;
		s.checks[i].direction = SL_DIR_EITHER;
		s.checks[i].critical = true;
	}
	return s;
}

/* The same judge without spending: every look is look 1 (index 0) and alpha is chosen so
 * that each check is tested at exactly 1%. */
static struct sl_rollout_spec naive_of(const struct sl_rollout_spec *s)
{
	struct sl_rollout_spec n = *s;
	unsigned m = 0;
	for (unsigned i = 0; i < s->nchecks; i++)
		m += !s->checks[i].dry_run;
	n.alpha = 0.01 * m / sl_judge_alpha_look(1, sl_rollout_spec_stages(s), 0);
	return n;
}

static void add_side(struct sl_window *w, const struct sl_rollout_spec *s, enum sl_side side, unsigned n,
                     struct sl_rng *rng)
{
	for (unsigned i = 0; i < n; i++) {
		sl_window_add_request(w, side);
		for (unsigned c = 0; c < s->nchecks; c++) {
			const char *name = s->checks[c].name;
			if (s->checks[c].kind == SL_METRIC_RATE)
				sl_window_add_rate(w, side, c, sl_rng_double(rng) < (name[0] == 'e' ? 0.02 : 0.05), 1);
			else if (name[0] == 's')
				sl_window_add_value(w, side, c, 0.8 + 0.1 * sl_rng_normal(rng));
			else if (name[0] == 'o')
				sl_window_add_value(w, side, c, round(sl_rng_lognormal(rng, 200, 0.7)));
			else
				sl_window_add_value(w, side, c, sl_rng_lognormal(rng, 800, 0.6));
		}
	}
}

struct tally {
	int fails; /* rollouts with at least one FAIL judgment */
};

/* Runs the A/A rollouts with per-look batches of cand and stable requests; judges each look
 * with every spec in specs (index k, or 0 when naive[i]). */
static void simulate(const struct sl_rollout_spec *specs, const bool *naive, int nspecs, int rollouts, unsigned cand,
                     unsigned stable, struct tally *t)
{
	struct sl_window w;
	for (int r = 0; r < rollouts; r++) {
		struct sl_rng rng;
		bool failed[4] = {false};
		sl_rng_seed(&rng, 1000 + (uint64_t)r);
		cr_assert_eq(sl_window_init(&w, &specs[0], 4096, (uint64_t)r + 1), 0);
		cr_assert_eq(w.maxstrata, STAGES);
		for (unsigned k = 0; k < LOOKS; k++) {
			if (k && k % (LOOKS / STAGES) == 0)
				sl_window_reset(&w); /* a new stage: a new stratum */
			add_side(&w, &specs[0], SL_CANDIDATE, cand, &rng);
			add_side(&w, &specs[0], SL_STABLE, stable, &rng);
			for (int i = 0; i < nspecs; i++) {
				struct sl_judgment j;
				cr_assert_eq(sl_judge(&specs[i], &w, naive[i] ? 0 : k, &j), 0);
				cr_assert_neq(j.outcome, SL_OUTCOME_INSUFFICIENT_DATA);
				failed[i] |= j.outcome == SL_OUTCOME_FAIL;
			}
		}
		for (int i = 0; i < nspecs; i++)
			t[i].fails += failed[i];
		cr_assert_eq(w.nstrata, STAGES);
		sl_window_release(&w);
	}
}

Test(aa, false_fail_rate_within_budget_and_naive_exceeds_it, .timeout = 240)
{
	struct sl_rollout_spec specs[2];
	bool naive[2] = {false, true};
	struct tally t[2] = {{0}, {0}};
	specs[0] = strict_spec();
	specs[1] = naive_of(&specs[0]);
	simulate(specs, naive, 2, ROLLOUTS, CAND_PER_LOOK, STABLE_PER_LOOK, t);
	double ours = (double)t[0].fails / ROLLOUTS, theirs = (double)t[1].fails / ROLLOUTS;
	fprintf(stderr,
	        "A/A, tolerance 0, %d rollouts x %d looks: alpha-spending judge %d (%.1f%%), "
	        "fixed 1%% per look %d (%.1f%%); budget 1%%, bound 3%%\n",
	        ROLLOUTS, LOOKS, t[0].fails, 100 * ours, t[1].fails, 100 * theirs);
	cr_expect_leq(ours, 0.03, "alpha-spending judge: %d of %d A/A rollouts failed", t[0].fails, ROLLOUTS);
	cr_expect_gt(theirs, 0.03, "the naive judge should exceed the bound (it did %d of %d)", t[1].fails, ROLLOUTS);
}

Test(aa, default_spec_within_budget, .timeout = 240)
{
	struct sl_rollout_spec specs[1];
	bool naive[1] = {false};
	struct tally t[1] = {{0}};
	sl_rollout_spec_defaults(&specs[0]); /* its own alpha (5%): the 3% bound is stricter */
	specs[0].min_requests = 10;
	simulate(specs, naive, 1, ROLLOUTS / 2, 10, 30, t);
	fprintf(stderr, "A/A, default spec, %d rollouts x %d looks: %d failed (%.1f%%)\n", ROLLOUTS / 2, LOOKS,
	        t[0].fails, 200.0 * t[0].fails / ROLLOUTS);
	cr_expect_leq(t[0].fails, ROLLOUTS / 2 * 3 / 100);
}
