/* judge_value.c: one value check pooled over the window's strata (stages): van Elteren's
 * stratified Mann-Whitney test of the candidate shifted by the tolerance, and the common
 * relative shift of candidate against stable with its interval (the stratified
 * Hodges-Lehmann estimator: stratum k's values move by shift x |stable median of k|).
 * Strata with fewer than SL_JUDGE_MIN_VALUES values on a side, or a stable median of 0, are
 * left out. Shown medians are the strata's medians averaged with weights nc ns/(nc + ns) (the
 * information each stratum brings); abs_* are the relative fields times that stable median.
 * Invariants: the window is read, never changed (sorting happens on one scratch copy, freed
 * before return); an interval end the data cannot reach at this look's confidence is reported
 * unbounded, never clamped, so a small sample cannot fail a check at a confidence it does not
 * have. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rollout-int.h"

struct pooled {
	struct sl_ve_stratum st[SL_WINDOW_MAX_STRATA];  /* strata with a stable median != 0 */
	struct sl_ve_stratum abs[SL_WINDOW_MAX_STRATA]; /* every usable stratum, scale 1 */
	size_t k, nabs;
	double *buf;
	double stable, candidate, weight; /* weighted sums of medians, and of weights */
};

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static double *sorted_copy(double *dst, const struct sl_reservoir *r)
{
	memcpy(dst, r->v, r->len * sizeof(*dst));
	qsort(dst, r->len, sizeof(*dst), cmp_double);
	return dst;
}

static bool usable(const struct sl_window_stratum *s)
{
	return s->values[SL_STABLE].len >= SL_JUDGE_MIN_VALUES && s->values[SL_CANDIDATE].len >= SL_JUDGE_MIN_VALUES;
}

/* Sorted copies of the usable strata into p (p->buf owns them); counts into r. */
static int gather(const struct sl_window *w, unsigned metric, struct pooled *p, struct sl_check_result *r)
{
	size_t total = 0;
	const struct sl_window_metric *m = &w->m[metric];
	for (unsigned k = 0; k < w->nstrata; k++)
		if (usable(&m->s[k]))
			total += m->s[k].values[0].len + m->s[k].values[1].len;
	memset(p, 0, sizeof(*p));
	if (total == 0)
		return 0;
	double *at = p->buf = malloc(total * sizeof(double));
	if (!at)
		return SL_ENOMEM;
	for (unsigned k = 0; k < w->nstrata; k++) {
		const struct sl_window_stratum *s = &m->s[k];
		if (!usable(s))
			continue;
		size_t ns = s->values[0].len, nc = s->values[1].len;
		double *x = sorted_copy(at, &s->values[0]), *y = sorted_copy(at + ns, &s->values[1]);
		at += ns + nc;
		double ms = sl_quantile_sorted(x, ns, 0.5), mc = sl_quantile_sorted(y, nc, 0.5);
		double wk = (double)ns * (double)nc / (double)(ns + nc);
		p->stable += wk * ms, p->candidate += wk * mc, p->weight += wk;
		for (int side = 0; side < 2; side++)
			r->n[side] += s->values[side].len, r->seen[side] += s->values[side].seen;
		p->abs[p->nabs++] = (struct sl_ve_stratum){x, y, ns, nc, 1};
		if (ms != 0)
			p->st[p->k++] = (struct sl_ve_stratum){x, y, ns, nc, fabs(ms)};
	}
	return 0;
}

/* p-value of "the shift exceeds the tolerance on a bad side" (either: both sides, doubled). */
static int margin_p(const struct pooled *p, struct sl_check_result *r)
{
	struct sl_van_elteren_result up = {.pvalue = 1}, down = {.pvalue = 1};
	int rc = 0;
	if (r->direction != SL_DIR_DECREASE_BAD)
		rc = sl_van_elteren(p->st, p->k, r->tolerance, SL_ALT_GREATER, &up);
	if (!rc && r->direction != SL_DIR_INCREASE_BAD)
		rc = sl_van_elteren(p->st, p->k, -r->tolerance, SL_ALT_LESS, &down);
	if (rc)
		return rc;
	r->pvalue = r->direction == SL_DIR_EITHER ? fmin(1, 2 * fmin(up.pvalue, down.pvalue))
	            : r->direction == SL_DIR_INCREASE_BAD ? up.pvalue
	                                                  : down.pvalue;
	return 0;
}

static int tests(const struct pooled *p, double alpha, struct sl_check_result *r)
{
	struct sl_ve_shift sh;
	r->confidence = sl__interval_confidence(r->direction, alpha);
	int rc = margin_p(p, r);
	if (!rc)
		rc = sl_van_elteren_shift(p->st, p->k, r->confidence, &sh);
	if (rc)
		return rc;
	r->test = SL_TEST_VAN_ELTEREN;
	r->effect = sh.estimate;
	r->lo = sh.lo;
	r->hi = sh.hi;
	r->abs_effect = r->effect * fabs(r->stable);
	r->abs_lo = r->lo * fabs(r->stable);
	r->abs_hi = r->hi * fabs(r->stable);
	return 0;
}

/* Every stable median is 0: no relative shift; the absolute one is shown, never judged. */
static int absolute_only(const struct pooled *p, double alpha, struct sl_check_result *r)
{
	struct sl_ve_shift sh;
	int rc = sl_van_elteren_shift(p->abs, p->nabs, sl__interval_confidence(r->direction, alpha), &sh);
	if (rc)
		return rc;
	r->abs_effect = sh.estimate, r->abs_lo = sh.lo, r->abs_hi = sh.hi;
	r->verdict = SL_VERDICT_INCONCLUSIVE;
	snprintf(r->reason, sizeof(r->reason), "median %.4g vs stable 0: no relative shift to judge", r->candidate);
	return 0;
}

static void describe(struct sl_check_result *r)
{
	char summary[SL_ROLLOUT_REASON_MAX];
	sl__classify(r);
	snprintf(summary, sizeof(summary), "median %.4g vs stable %.4g, shift %+.1f%% [%+.1f%%, %+.1f%%]", r->candidate,
	         r->stable, 100 * r->effect, 100 * r->lo, 100 * r->hi);
	sl__verdict_reason(r, summary, true);
}

int sl__judge_value(const struct sl_window *w, unsigned metric, double alpha, struct sl_check_result *r)
{
	struct pooled p;
	int rc = gather(w, metric, &p, r);
	if (rc)
		return rc;
	if (p.weight == 0) {
		const struct sl_window_stratum *s = &w->m[metric].s[w->nstrata - 1];
		snprintf(r->reason, sizeof(r->reason),
		         "too few values: stable %zu, candidate %zu in this stage (%d needed on each side)",
		         s->values[0].len, s->values[1].len, SL_JUDGE_MIN_VALUES);
		return 0;
	}
	r->stable = p.stable / p.weight;
	r->candidate = p.candidate / p.weight;
	r->strata = (unsigned)p.k;
	if (p.k == 0) {
		rc = absolute_only(&p, alpha, r);
	} else if (!(rc = tests(&p, alpha, r)))
		describe(r);
	free(p.buf);
	return rc;
}
