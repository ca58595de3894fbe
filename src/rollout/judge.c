/* judge.c: compares candidate with stable over a window, check by check, and scores the result.
 *
 * Evidence accumulates: the window keeps one stratum per stage (shadow, each canary step), and
 * every check is judged on all strata kept, each stratum comparing candidate and stable over
 * the same period at one share (van Elteren's stratified Mann-Whitney for values, a stratified
 * Mantel-Haenszel test for rates: judge_value.c, judge_rate.c, src/stats/stratified.c). Drift
 * between stages (time of day, traffic mix) cannot bias a stratified comparison.
 *
 * Error control across looks (always valid): the rollout's k-th judgment (k = index + 1,
 * counted over the whole rollout, never reset) spends alpha_k (sl_judge_alpha_look: equal
 * shares over the looks the spec plans, one per judged stage, and a reserve for extra looks),
 * so the sum over every look ever taken is alpha. alpha_k is split evenly over the m checks
 * that count (not dry-run). A directional check can only fail on its bad side, so it is tested
 * one-sided at alpha_k/m; a check whose both sides are bad spends alpha_k/(2m) on each. By the
 * union bound over looks and checks, when candidate and stable are alike the chance that any
 * check ever FAILs during the whole rollout is at most alpha, however the looks depend on each
 * other (here they are strongly dependent: each look sees the data of the previous ones).
 *
 * Verdict of one check (tol = tolerance; "bad side" from the direction):
 *   FAIL          p <= alpha_k/m, where p tests "the shift is at most tol on a bad side", AND
 *                 the interval lies entirely beyond tol on a bad side (the same test inverted,
 *                 so the two agree up to ties and the exact test's correction for rates);
 *   PASS          the interval lies entirely inside the acceptable region (<= tol for
 *                 increase_bad, >= -tol for decrease_bad, within [-tol, tol] for either);
 *   INCONCLUSIVE  otherwise (also when too few values make the interval unbounded);
 *   NO_DATA       no stratum has SL_JUDGE_MIN_VALUES values on each side (value) or a trial on
 *                 each side (rate).
 * A shift smaller than tol can never FAIL, however large n grows.
 *
 * Outcome: candidate requests in the current stage < min_requests -> INSUFFICIENT_DATA (too
 * little traffic holds, it never fails). Else score = 100 x the weight of counted checks with
 * data that did not FAIL / the weight of counted checks with data (dry-run and no_data checks
 * are left out). A counted critical check that FAILs -> FAIL; else score < marginal_score ->
 * FAIL; score < pass_score -> INCONCLUSIVE; else PASS. No counted check at all -> PASS with
 * score 100 (a timed ramp); counted checks but none with data -> INSUFFICIENT_DATA.
 * Invariants: pure; out is fully written on success; checks keep the spec's order. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "rollout-int.h"

double sl_judge_alpha_look(double alpha, unsigned planned, unsigned index)
{
	planned = planned ? planned : 1;
	if (index < planned)
		return (1 - SL_JUDGE_ALPHA_RESERVE) * alpha / planned;
	double j = (double)(index - planned) + 1;
	return SL_JUDGE_ALPHA_RESERVE * alpha * 6 / (M_PI * M_PI * j * j);
}

double sl__interval_confidence(enum sl_direction d, double alpha)
{
	return d == SL_DIR_EITHER ? 1 - alpha : 1 - 2 * alpha;
}

void sl__classify(struct sl_check_result *r)
{
	bool up_bad = r->direction != SL_DIR_DECREASE_BAD, down_bad = r->direction != SL_DIR_INCREASE_BAD;
	double tol = r->tolerance;
	bool beyond = (up_bad && r->lo > tol) || (down_bad && r->hi < -tol);
	if (beyond && r->pvalue <= r->alpha) {
		r->verdict = SL_VERDICT_FAIL;
		return;
	}
	bool inside = (!up_bad || r->hi <= tol) && (!down_bad || r->lo >= -tol);
	r->verdict = inside ? SL_VERDICT_PASS : SL_VERDICT_INCONCLUSIVE;
}

static const char *tol_text(const struct sl_check_result *r, bool percent, char *buf, size_t cap)
{
	const char *sign = r->direction == SL_DIR_INCREASE_BAD ? "+" : r->direction == SL_DIR_DECREASE_BAD ? "-" : "±";
	if (percent)
		snprintf(buf, cap, "%s%g%%", sign, r->tolerance * 100);
	else
		snprintf(buf, cap, "%s%.2f points", sign, r->tolerance * 100);
	return buf;
}

void sl__verdict_reason(struct sl_check_result *r, const char *summary, bool percent)
{
	char tol[48];
	tol_text(r, percent, tol, sizeof(tol));
	const char *unbounded = isinf(r->lo) || isinf(r->hi) ? ": too few values for this look's confidence" : "";
	switch (r->verdict) {
	case SL_VERDICT_FAIL:
		snprintf(r->reason, sizeof(r->reason), "%s is beyond the %s tolerance (p=%.2g <= %.2g)", summary, tol,
		         r->pvalue, r->alpha);
		break;
	case SL_VERDICT_PASS:
		snprintf(r->reason, sizeof(r->reason), "%s is within the %s tolerance", summary, tol);
		break;
	default:
		snprintf(r->reason, sizeof(r->reason), "%s: undecided against the %s tolerance%s", summary, tol,
		         unbounded);
	}
}

static void check_identity(const struct sl_metric_check *c, double alpha, struct sl_check_result *r)
{
	memset(r, 0, sizeof(*r));
	memcpy(r->name, c->name, sizeof(r->name));
	r->kind = c->kind;
	r->direction = c->direction;
	r->critical = c->critical;
	r->dry_run = c->dry_run;
	r->weight = c->weight;
	r->tolerance = c->tolerance;
	r->alpha = alpha;
	r->confidence = sl__interval_confidence(c->direction, alpha);
	r->stable = r->candidate = r->effect = r->lo = r->hi = NAN;
	r->abs_effect = r->abs_lo = r->abs_hi = r->pvalue = NAN;
	r->verdict = SL_VERDICT_NO_DATA;
}

/* Counts of every stratum kept, for a judgment that does not look at the data. */
static void show_counts(const struct sl_window *w, unsigned i, struct sl_check_result *r)
{
	for (unsigned k = 0; k < w->nstrata; k++)
		for (int s = 0; s < 2; s++) {
			const struct sl_window_stratum *st = &w->m[i].s[k];
			bool value = r->kind == SL_METRIC_VALUE;
			r->n[s] += value ? st->values[s].len : st->trials[s];
			r->seen[s] += value ? st->values[s].seen : st->trials[s];
			r->events[s] += value ? 0 : st->events[s];
		}
}

static int window_matches(const struct sl_rollout_spec *spec, const struct sl_window *w)
{
	if (w->nmetrics != spec->nchecks || spec->nchecks > SL_ROLLOUT_MAX_CHECKS || w->nstrata < 1 ||
	    w->nstrata > w->maxstrata || w->maxstrata > SL_WINDOW_MAX_STRATA)
		return SL_EINVAL;
	for (unsigned i = 0; i < spec->nchecks; i++)
		if (w->m[i].kind != spec->checks[i].kind)
			return SL_EINVAL;
	return 0;
}

/* The counted check that decides a FAIL or INCONCLUSIVE: the first critical failure, else
 * the heaviest failure (first on ties); -1 when none failed. */
static int deciding_check(const struct sl_judgment *j, bool critical_only)
{
	int best = -1;
	for (unsigned i = 0; i < j->nchecks; i++) {
		const struct sl_check_result *c = &j->checks[i];
		if (c->dry_run || c->verdict != SL_VERDICT_FAIL || (critical_only && !c->critical))
			continue;
		if (critical_only)
			return (int)i;
		if (best < 0 || c->weight > j->checks[best].weight)
			best = (int)i;
	}
	return best;
}

static void score_of(struct sl_judgment *j, unsigned *counted)
{
	double total = 0, ok = 0;
	*counted = 0;
	for (unsigned i = 0; i < j->nchecks; i++) {
		const struct sl_check_result *c = &j->checks[i];
		if (c->dry_run)
			continue;
		(*counted)++;
		if (c->verdict == SL_VERDICT_NO_DATA)
			continue;
		total += c->weight;
		ok += c->verdict == SL_VERDICT_FAIL ? 0 : c->weight;
	}
	j->score = *counted == 0 ? 100 : total > 0 ? 100 * ok / total : NAN;
}

static void set_outcome(struct sl_judgment *j, enum sl_outcome o, int by, const char *why)
{
	j->outcome = o;
	j->decided_by = by;
	if (by >= 0)
		snprintf(j->reason, sizeof(j->reason), "%s: %s %s", why, j->checks[by].name, j->checks[by].reason);
	else
		snprintf(j->reason, sizeof(j->reason), "%s", why);
}

static void decide(const struct sl_rollout_spec *spec, struct sl_judgment *j)
{
	unsigned counted;
	score_of(j, &counted);
	int crit = deciding_check(j, true), worst = deciding_check(j, false);
	char why[96];
	if (crit >= 0)
		set_outcome(j, SL_OUTCOME_FAIL, crit, "critical check failed");
	else if (isnan(j->score))
		set_outcome(j, SL_OUTCOME_INSUFFICIENT_DATA, -1, "no check has data yet");
	else if (j->score < spec->marginal_score) {
		snprintf(why, sizeof(why), "score %.1f below the marginal %g", j->score, spec->marginal_score);
		set_outcome(j, SL_OUTCOME_FAIL, worst, why);
	} else if (j->score < spec->pass_score) {
		snprintf(why, sizeof(why), "score %.1f below the pass %g", j->score, spec->pass_score);
		set_outcome(j, SL_OUTCOME_INCONCLUSIVE, worst, why);
	} else {
		snprintf(why, sizeof(why),
		         counted ? "score %.1f of %g needed" : "no counted checks (score %.0f): timed ramp", j->score,
		         spec->pass_score);
		set_outcome(j, SL_OUTCOME_PASS, -1, why);
	}
}

static int judge_checks(const struct sl_rollout_spec *spec, const struct sl_window *w, struct sl_judgment *j)
{
	for (unsigned i = 0; i < spec->nchecks; i++) {
		struct sl_check_result *r = &j->checks[i];
		int rc = r->kind == SL_METRIC_VALUE ? sl__judge_value(w, i, j->alpha_check, r)
		                                    : sl__judge_rate(w, i, j->alpha_check, r);
		if (rc)
			return rc;
	}
	return 0;
}

int sl_judge(const struct sl_rollout_spec *spec, const struct sl_window *w, unsigned judgment_index,
             struct sl_judgment *out)
{
	if (!spec || !w || !out || window_matches(spec, w))
		return SL_EINVAL;
	struct sl_judgment *j = out;
	memset(j, 0, sizeof(*j));
	unsigned m = sl__counted_checks(spec);
	j->index = judgment_index;
	j->alpha_look = sl_judge_alpha_look(spec->alpha, sl_rollout_spec_stages(spec), judgment_index);
	j->alpha_check = j->alpha_look / (m ? m : 1);
	j->requests[0] = w->requests[0], j->requests[1] = w->requests[1];
	j->nchecks = spec->nchecks;
	j->score = NAN;
	for (unsigned i = 0; i < spec->nchecks; i++)
		check_identity(&spec->checks[i], j->alpha_check, &j->checks[i]);
	if (w->requests[SL_CANDIDATE] < spec->min_requests) {
		char why[96];
		for (unsigned i = 0; i < spec->nchecks; i++)
			show_counts(w, i, &j->checks[i]);
		snprintf(why, sizeof(why), "%llu of %llu candidate requests", (unsigned long long)w->requests[1],
		         (unsigned long long)spec->min_requests);
		set_outcome(j, SL_OUTCOME_INSUFFICIENT_DATA, -1, why);
		return 0;
	}
	int rc = judge_checks(spec, w, j);
	if (rc)
		return rc;
	decide(spec, j);
	return 0;
}
