/* judge_rate.c: one rate check pooled over the window's strata (stages): the Mantel-Haenszel
 * difference of candidate minus stable rates, its interval (inverting the stratified score
 * test), and the p-value of "the increase exceeds the allowed change on a bad side": the
 * stratified score test at the margin, and, while its support is small enough to compute, the
 * exact conditional test of equal rates (Fisher's for one stratum), which must agree: rejecting
 * "change <= tol" implies rejecting "change <= 0", so the larger p-value counts (at tol 0 the
 * exact test alone). Shown rates are pooled over the strata used.
 * Invariants: events <= trials on each side (the window enforces it); the effect is in
 * absolute rate units (0.01 = one point), so abs_* equal the relative fields; strata with no
 * trial on a side are left out. */
#include <math.h>
#include <stdio.h>

#include "rollout-int.h"

struct rate_strata {
	struct sl_prop_stratum st[SL_WINDOW_MAX_STRATA];
	size_t k;
};

static int gather(const struct sl_window *w, unsigned metric, struct rate_strata *p, struct sl_check_result *r)
{
	p->k = 0;
	for (unsigned k = 0; k < w->nstrata; k++) {
		const struct sl_window_stratum *s = &w->m[metric].s[k];
		if (s->trials[0] == 0 || s->trials[1] == 0)
			continue;
		if (s->trials[0] > INT64_MAX / 4 || s->trials[1] > INT64_MAX / 4)
			return SL_ERANGE;
		p->st[p->k++] = (struct sl_prop_stratum){(int64_t)s->events[1], (int64_t)s->trials[1],
		                                         (int64_t)s->events[0], (int64_t)s->trials[0]};
		for (int side = 0; side < 2; side++) {
			r->n[side] += s->trials[side];
			r->seen[side] += s->trials[side];
			r->events[side] += s->events[side];
		}
	}
	return 0;
}

/* One side's p-value: the score test at margin, and the exact test of equality when known. */
static int side_p(const struct rate_strata *p, double margin, enum sl_alt alt, double conf,
                  struct sl_strat_prop_result *out, bool *exact)
{
	int rc = sl_strat_prop_test(p->st, p->k, margin, alt, conf, out);
	if (rc)
		return rc;
	*exact = !isnan(out->exact_pvalue) && (margin == 0 || out->exact_pvalue > out->pvalue);
	if (!isnan(out->exact_pvalue))
		out->pvalue = margin == 0 ? out->exact_pvalue : fmax(out->pvalue, out->exact_pvalue);
	return 0;
}

static int tests(const struct rate_strata *p, double alpha, struct sl_check_result *r)
{
	struct sl_strat_prop_result up = {.pvalue = 1}, down = {.pvalue = 1};
	bool ex_up = false, ex_down = false;
	double tol = r->tolerance;
	r->confidence = sl__interval_confidence(r->direction, alpha);
	int rc = 0;
	if (r->direction != SL_DIR_DECREASE_BAD)
		rc = side_p(p, tol, SL_ALT_GREATER, r->confidence, &up, &ex_up);
	if (!rc && r->direction != SL_DIR_INCREASE_BAD)
		rc = side_p(p, -tol, SL_ALT_LESS, r->confidence, &down, &ex_down);
	if (rc)
		return rc;
	const struct sl_strat_prop_result *any = r->direction == SL_DIR_DECREASE_BAD ? &down : &up;
	bool up_decides = r->direction == SL_DIR_INCREASE_BAD || (r->direction == SL_DIR_EITHER && up.pvalue <= down.pvalue);
	r->pvalue = r->direction == SL_DIR_EITHER ? fmin(1, 2 * fmin(up.pvalue, down.pvalue)) : any->pvalue;
	r->test = (up_decides ? ex_up : ex_down) ? SL_TEST_MH_EXACT : SL_TEST_MH_Z;
	r->effect = r->abs_effect = any->diff;
	r->lo = r->abs_lo = any->lo;
	r->hi = r->abs_hi = any->hi;
	return 0;
}

int sl__judge_rate(const struct sl_window *w, unsigned metric, double alpha, struct sl_check_result *r)
{
	struct rate_strata p;
	int rc = gather(w, metric, &p, r);
	if (rc)
		return rc;
	if (p.k == 0) {
		const struct sl_window_stratum *s = &w->m[metric].s[w->nstrata - 1];
		snprintf(r->reason, sizeof(r->reason), "no trials yet: stable %llu, candidate %llu",
		         (unsigned long long)s->trials[0], (unsigned long long)s->trials[1]);
		return 0;
	}
	r->strata = (unsigned)p.k;
	r->stable = (double)r->events[0] / (double)r->n[0];
	r->candidate = (double)r->events[1] / (double)r->n[1];
	rc = tests(&p, alpha, r);
	if (rc)
		return rc;
	sl__classify(r);
	char summary[SL_ROLLOUT_REASON_MAX];
	snprintf(summary, sizeof(summary), "rate %.2f%% vs stable %.2f%%, change %+.2f [%+.2f, %+.2f] points",
	         100 * r->candidate, 100 * r->stable, 100 * r->effect, 100 * r->lo, 100 * r->hi);
	sl__verdict_reason(r, summary, false);
	return 0;
}
