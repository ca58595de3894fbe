/* dataset.c: the dataset-level verdict and the optional multiple-testing correction.
 * Evidently's rule (evidently, src/evidently/legacy/calculations/data_drift.py,
 * get_dataset_drift): dataset drift when drifted columns / tested columns >= drift_share
 * (0.5 by default). Evidently applies no correction; with many columns of p-value tests some
 * flag by chance, so Bonferroni or Benjamini-Hochberg (statsmodels multipletests "bonferroni"
 * and "fdr_bh", same arithmetic) can be asked for. Distances (PSI, Jensen-Shannon,
 * Wasserstein) are not p-values and are never adjusted.
 * Invariants: results with NaN p-values or marked skipped take no part and are not counted. */
#include <math.h>

#include "univariate-int.h"

static const char *const corr_names[] = {"none", "bonferroni", "bh"};

const char *sl_drift_correction_name(enum sl_drift_correction c)
{
	return (unsigned)c <= SL_DRIFT_CORR_BH ? corr_names[c] : "?";
}

int sl_drift_correction_parse(const char *s, enum sl_drift_correction *out)
{
	for (int c = 0; c <= SL_DRIFT_CORR_BH; c++)
		if (strcmp(s, corr_names[c]) == 0) {
			*out = (enum sl_drift_correction)c;
			return 0;
		}
	if (strcmp(s, "fdr_bh") == 0 || strcmp(s, "benjamini-hochberg") == 0) {
		*out = SL_DRIFT_CORR_BH;
		return 0;
	}
	return SL_EINVAL;
}

struct pidx {
	double p;
	size_t i;
};

static int cmp_pidx(const void *a, const void *b)
{
	const struct pidx *x = a, *y = b;
	if (x->p != y->p)
		return x->p < y->p ? -1 : 1;
	return (x->i > y->i) - (x->i < y->i);
}

/* Step-up: from the largest p down, adjusted = min(previous, p_(j) / (j / m)), capped at 1. */
static void bh(struct pidx *s, size_t m, double *adjusted)
{
	qsort(s, m, sizeof *s, cmp_pidx);
	double run = 1;
	for (size_t j = m; j-- > 0;) {
		double a = s[j].p / ((double)(j + 1) / (double)m);
		run = fmin(run, a);
		adjusted[s[j].i] = run;
	}
}

int sl_drift_adjust(const double *p, size_t n, enum sl_drift_correction c, double *adjusted)
{
	if ((!p || !adjusted) && n)
		return SL_EINVAL;
	size_t m = 0;
	for (size_t i = 0; i < n; i++) {
		if (!isnan(p[i]) && !(p[i] >= 0 && p[i] <= 1))
			return SL_EINVAL;
		m += !isnan(p[i]);
	}
	struct pidx *s = c == SL_DRIFT_CORR_BH && m ? malloc(m * sizeof *s) : NULL;
	if (c == SL_DRIFT_CORR_BH && m && !s)
		return SL_ENOMEM;
	for (size_t i = 0, k = 0; i < n; i++) {
		adjusted[i] = p[i];
		if (isnan(p[i]))
			continue;
		if (c == SL_DRIFT_CORR_BONFERRONI)
			adjusted[i] = fmin(1, p[i] * (double)m);
		else if (s)
			s[k++] = (struct pidx){p[i], i};
	}
	if (s)
		bh(s, m, adjusted);
	free(s);
	return 0;
}

static bool in_family(const struct sl_drift_result *r, const bool *skip, size_t i)
{
	return !(skip && skip[i]) && sl_drift_test_has_pvalue(r[i].test) && !isnan(r[i].pvalue);
}

static int correct(struct sl_drift_result *r, const bool *skip, size_t n, enum sl_drift_correction c)
{
	double *p = calloc(2 * (n ? n : 1), sizeof *p), *adj = p + n;
	if (!p)
		return SL_ENOMEM;
	for (size_t i = 0; i < n; i++)
		p[i] = in_family(r, skip, i) ? r[i].pvalue : NAN;
	int rc = sl_drift_adjust(p, n, c, adj);
	for (size_t i = 0; i < n && rc == 0; i++)
		if (!isnan(p[i])) {
			r[i].score = adj[i];
			r[i].drift = sl_drift_test_decide(r[i].test, adj[i], r[i].threshold);
		}
	free(p);
	return rc;
}

int sl_drift_dataset(struct sl_drift_result *r, const bool *skip, size_t n, enum sl_drift_correction c,
                     double drift_share, struct sl_drift_verdict *out)
{
	if ((!r && n) || !out || !(drift_share >= 0 && drift_share <= 1))
		return SL_EINVAL;
	int rc = c != SL_DRIFT_CORR_NONE ? correct(r, skip, n, c) : 0;
	if (rc)
		return rc;
	struct sl_drift_verdict v = {0};
	for (size_t i = 0; i < n; i++) {
		if (skip && skip[i])
			continue;
		v.tested++;
		v.drifted += r[i].drift;
	}
	v.share = v.tested ? (double)v.drifted / (double)v.tested : 0;
	v.drift = v.tested > 0 && v.share >= drift_share;
	*out = v;
	return 0;
}
