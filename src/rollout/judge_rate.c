/* judge_rate.c: one rate check: the rates on both sides, the Newcombe interval of candidate
 * minus stable, and a two-sided p-value: Fisher's exact test when any expected cell of the
 * 2x2 table is below 5, else the pooled two-proportion z-test.
 * Invariants: events <= trials on each side (the window enforces it); the effect is in
 * absolute rate units (0.01 = one point), so abs_* equal the relative fields. */
#include <math.h>
#include <stdio.h>

#include "rollout-int.h"

/* Smallest expected count of the table [[ec, nc - ec], [es, ns - es]]. */
static double min_expected(double ec, double nc, double es, double ns)
{
	double total = nc + ns, events = ec + es, rest = total - events;
	return fmin(nc, ns) * fmin(events, rest) / total;
}

static int pvalue_of(const struct sl_window_metric *m, struct sl_check_result *r, double z_p)
{
	double ec = (double)m->events[1], nc = (double)m->trials[1], es = (double)m->events[0],
	       ns = (double)m->trials[0];
	if (min_expected(ec, nc, es, ns) >= 5) {
		r->test = SL_TEST_Z;
		r->pvalue = z_p;
		return 0;
	}
	int64_t t[4] = {(int64_t)m->events[1], (int64_t)(m->trials[1] - m->events[1]), (int64_t)m->events[0],
	                (int64_t)(m->trials[0] - m->events[0])};
	struct sl_fisher_result f;
	int rc = sl_fisher_exact(t, SL_ALT_TWO_SIDED, &f);
	if (rc)
		return rc;
	r->test = SL_TEST_FISHER;
	r->pvalue = f.pvalue;
	return 0;
}

int sl__judge_rate(const struct sl_window_metric *m, double alpha, struct sl_check_result *r)
{
	if (m->trials[0] == 0 || m->trials[1] == 0) {
		snprintf(r->reason, sizeof(r->reason), "no trials yet: stable %llu, candidate %llu",
		         (unsigned long long)m->trials[0], (unsigned long long)m->trials[1]);
		return 0;
	}
	if (m->trials[0] > INT64_MAX || m->trials[1] > INT64_MAX)
		return SL_ERANGE;
	struct sl_prop_result p;
	int rc = sl_prop_test((int64_t)m->events[1], (int64_t)m->trials[1], (int64_t)m->events[0],
	                      (int64_t)m->trials[0], SL_ALT_TWO_SIDED, 1 - alpha, &p);
	if (!rc)
		rc = pvalue_of(m, r, p.pvalue);
	if (rc)
		return rc;
	r->stable = p.p2;
	r->candidate = p.p1;
	r->effect = r->abs_effect = p.diff;
	r->lo = r->abs_lo = p.lo;
	r->hi = r->abs_hi = p.hi;
	sl__classify(r);
	char summary[SL_ROLLOUT_REASON_MAX];
	snprintf(summary, sizeof(summary), "rate %.2f%% vs stable %.2f%%, change %+.2f [%+.2f, %+.2f] points",
	         100 * r->candidate, 100 * r->stable, 100 * r->effect, 100 * r->lo, 100 * r->hi);
	sl__verdict_reason(r, summary, false);
	return 0;
}
