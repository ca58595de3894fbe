/* judge_value.c: one value check: medians, the Mann-Whitney U p-value and the Hodges-Lehmann
 * shift of candidate against stable with its interval, relative to the stable median.
 * Invariants: the window is read, never changed (sorting happens on a scratch copy, freed
 * before return); an interval whose confidence cannot be reached with this many values
 * (sl_hl_result.attained false: the rank K of its lower end would fall below 1) is reported
 * unbounded, never clamped, so a small sample cannot fail a check at a confidence it does not
 * have. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rollout-int.h"

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static void sorted_copy(double *dst, const struct sl_reservoir *r)
{
	memcpy(dst, r->v, r->len * sizeof(*dst));
	qsort(dst, r->len, sizeof(*dst), cmp_double);
}

static int tests(const double *s, size_t ns, const double *c, size_t nc, double alpha, struct sl_check_result *r)
{
	struct sl_mwu_result mw;
	struct sl_hl_result hl;
	int rc = sl_mannwhitneyu(c, nc, s, ns, SL_ALT_TWO_SIDED, SL_MWU_AUTO, true, &mw);
	if (!rc)
		rc = sl_hodges_lehmann(s, ns, c, nc, 1 - alpha, &hl);
	if (rc)
		return rc;
	r->test = SL_TEST_MANN_WHITNEY;
	r->pvalue = mw.pvalue;
	r->abs_effect = hl.estimate;
	r->abs_lo = hl.attained ? hl.lo : -INFINITY;
	r->abs_hi = hl.attained ? hl.hi : INFINITY;
	return 0;
}

static void relative(struct sl_check_result *r)
{
	double scale = fabs(r->stable);
	char summary[SL_ROLLOUT_REASON_MAX];
	if (scale == 0) {
		r->verdict = SL_VERDICT_INCONCLUSIVE;
		snprintf(r->reason, sizeof(r->reason), "median %.4g vs stable 0: no relative shift to judge",
		         r->candidate);
		return;
	}
	r->effect = r->abs_effect / scale;
	r->lo = r->abs_lo / scale;
	r->hi = r->abs_hi / scale;
	sl__classify(r);
	snprintf(summary, sizeof(summary), "median %.4g vs stable %.4g, shift %+.1f%% [%+.1f%%, %+.1f%%]", r->candidate,
	         r->stable, 100 * r->effect, 100 * r->lo, 100 * r->hi);
	sl__verdict_reason(r, summary, true);
}

int sl__judge_value(const struct sl_window_metric *m, double alpha, struct sl_check_result *r)
{
	size_t ns = m->values[SL_STABLE].len, nc = m->values[SL_CANDIDATE].len;
	if (ns < SL_JUDGE_MIN_VALUES || nc < SL_JUDGE_MIN_VALUES) {
		snprintf(r->reason, sizeof(r->reason),
		         "too few values: stable %zu, candidate %zu (%d needed on each side)", ns, nc,
		         SL_JUDGE_MIN_VALUES);
		return 0;
	}
	double *buf = malloc((ns + nc) * sizeof(*buf));
	if (!buf)
		return SL_ENOMEM;
	sorted_copy(buf, &m->values[SL_STABLE]);
	sorted_copy(buf + ns, &m->values[SL_CANDIDATE]);
	r->stable = sl_quantile_sorted(buf, ns, 0.5);
	r->candidate = sl_quantile_sorted(buf + ns, nc, 0.5);
	int rc = tests(buf, ns, buf + ns, nc, alpha, r);
	free(buf);
	if (!rc)
		relative(r);
	return rc;
}
