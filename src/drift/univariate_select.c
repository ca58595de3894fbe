/* univariate_select.c: which test a column gets and how its score is judged, following
 * Evidently's defaults (evidently, src/evidently/legacy/calculations/stattests/registry.py,
 * _get_default_stattest; thresholds from each StatTest's default_threshold):
 *   reference size <= 1000: numeric with more than 5 distinct values -> K-S (p <= 0.05);
 *     numeric with at most 5, or categorical -> chi-squared (p < 0.05), or the z-test
 *     (p < 0.05) when there are at most 2 distinct values;
 *   reference size > 1000: numeric with more than 5 distinct values -> Wasserstein normed
 *     (>= 0.1); otherwise Jensen-Shannon (>= 0.1).
 * Distinct values are counted over both samples together (pandas nunique of the concat).
 * Invariants: a column is run through exactly one test; numeric columns counted per value are
 * keyed in ascending numeric order (the z-test's first key is the smallest value). */
#include <math.h>

#include "univariate-int.h"

static const char *const test_names[SL_DRIFT_TEST_COUNT_] = {
    "auto", "ks", "chisquare", "z", "psi", "jensenshannon", "wasserstein",
};

const char *sl_drift_test_name(enum sl_drift_test t)
{
	return (unsigned)t < SL_DRIFT_TEST_COUNT_ ? test_names[t] : "?";
}

int sl_drift_test_parse(const char *s, enum sl_drift_test *out)
{
	for (int t = 0; t < SL_DRIFT_TEST_COUNT_; t++)
		if (strcmp(s, test_names[t]) == 0) {
			*out = (enum sl_drift_test)t;
			return 0;
		}
	if (strcmp(s, "js") == 0 || strcmp(s, "chi2") == 0) {
		*out = s[0] == 'j' ? SL_DRIFT_JS : SL_DRIFT_CHISQUARE;
		return 0;
	}
	return SL_EINVAL;
}

const char *sl_drift_kind_name(enum sl_drift_kind k)
{
	return k == SL_DRIFT_NUM ? "num" : k == SL_DRIFT_CAT ? "cat" : "auto";
}

bool sl_drift_test_has_pvalue(enum sl_drift_test t)
{
	return t == SL_DRIFT_KS || t == SL_DRIFT_CHISQUARE || t == SL_DRIFT_Z;
}

double sl_drift_test_default_threshold(enum sl_drift_test t)
{
	return sl_drift_test_has_pvalue(t) ? 0.05 : 0.1;
}

bool sl_drift_test_decide(enum sl_drift_test t, double score, double threshold)
{
	if (isnan(score))
		return false;
	if (t == SL_DRIFT_KS)
		return score <= threshold;
	if (sl_drift_test_has_pvalue(t))
		return score < threshold;
	return score >= threshold;
}

void sl_drift_opts_init(struct sl_drift_opts *o)
{
	*o = (struct sl_drift_opts){.test = SL_DRIFT_AUTO, .threshold = NAN, .js_base = 0, .size_cutoff = 1000};
}

enum sl_drift_test sl_drift_default_test(enum sl_drift_kind kind, size_t n_ref, size_t n_unique, size_t size_cutoff)
{
	bool few = kind == SL_DRIFT_CAT || n_unique <= 5;
	if (n_ref <= (size_cutoff ? size_cutoff : 1000)) {
		if (!few)
			return SL_DRIFT_KS;
		return n_unique > 2 ? SL_DRIFT_CHISQUARE : SL_DRIFT_Z;
	}
	return few ? SL_DRIFT_JS : SL_DRIFT_WASSERSTEIN;
}

static void finish(struct sl_drift_result *r, const struct sl_drift_opts *o)
{
	r->threshold = isnan(o->threshold) ? sl_drift_test_default_threshold(r->test) : o->threshold;
	r->score = sl_drift_test_has_pvalue(r->test) ? r->pvalue : r->statistic;
	r->drift = sl_drift_test_decide(r->test, r->score, r->threshold);
}

/* Runs a count-based test on aligned bins. */
static int run_counts(const double *ref, const double *cur, size_t k, const struct sl_drift_opts *o,
                      struct sl_drift_result *r)
{
	struct sl_chi2_result c;
	int rc = SL_EINVAL;
	r->bins = k;
	switch (r->test) {
	case SL_DRIFT_CHISQUARE:
		rc = sl_drift_chisquare(ref, cur, k, &c);
		r->statistic = c.statistic, r->pvalue = c.pvalue;
		break;
	case SL_DRIFT_Z:
		rc = sl_drift_ztest(ref, cur, k, &r->statistic, &r->pvalue);
		break;
	case SL_DRIFT_PSI:
		rc = sl_drift_psi(ref, cur, k, &r->statistic);
		break;
	case SL_DRIFT_JS:
		rc = sl_drift_js(ref, cur, k, o->js_base, &r->statistic);
		break;
	default:
		break;
	}
	return rc;
}

static int run_sorted(const double *ref, size_t nr, const double *cur, size_t nc, const struct sl_drift_opts *o,
                      struct sl_drift_result *r)
{
	struct sl_drift_bins b;
	struct sl_ks_result ks;
	int rc;
	switch (r->test) {
	case SL_DRIFT_KS:
		rc = sl_drift_ks(ref, nr, cur, nc, &ks);
		r->statistic = ks.d, r->pvalue = ks.pvalue;
		return rc;
	case SL_DRIFT_WASSERSTEIN:
		return sl_drift_wasserstein_norm(ref, nr, cur, nc, &r->statistic);
	case SL_DRIFT_PSI:
	case SL_DRIFT_JS:
		rc = sl_drift_bins_num(ref, nr, cur, nc, &b);
		break;
	default: /* chi-squared and z count per distinct value */
		rc = sl_drift_value_counts(ref, nr, cur, nc, SIZE_MAX, &b);
		break;
	}
	if (rc)
		return rc;
	rc = run_counts(b.ref, b.cur, b.k, o, r);
	sl_drift_bins_release(&b);
	return rc;
}

int sl_drift_test_num(const double *ref, size_t nr, const double *cur, size_t nc, const struct sl_drift_opts *o,
                      struct sl_drift_result *out)
{
	if (!ref || !cur || nr == 0 || nc == 0 || !o)
		return SL_EINVAL;
	struct sl_drift_result r = {.pvalue = NAN};
	r.n_unique = sl_drift_nunique_union(ref, nr, cur, nc);
	r.test =
	    o->test != SL_DRIFT_AUTO ? o->test : sl_drift_default_test(SL_DRIFT_NUM, nr, r.n_unique, o->size_cutoff);
	int rc = run_sorted(ref, nr, cur, nc, o, &r);
	if (rc)
		return rc;
	finish(&r, o);
	*out = r;
	return 0;
}

/* sl_drift_test_num on samples, counted ones expanded (tests other than the offline defaults). */
static int test_expanded(const struct sl__sample *a, const struct sl__sample *b, const struct sl_drift_opts *o,
                         struct sl_drift_result *out)
{
	double *ea, *eb;
	const double *va = sl__sample_values(a, &ea), *vb = sl__sample_values(b, &eb);
	int rc = va && vb ? sl_drift_test_num(va, (size_t)a->total, vb, (size_t)b->total, o, out) : SL_ENOMEM;
	free(ea);
	free(eb);
	return rc;
}

/* The rest of sl_drift_test_num for a test on one bin per distinct value (r: test chosen). */
static int test_per_value(const struct sl__sample *a, const struct sl__sample *b, const struct sl_drift_opts *o,
                          struct sl_drift_result *r, struct sl_drift_result *out)
{
	struct sl_drift_bins bins;
	int rc = sl__sample_value_counts(a, b, &bins);
	if (rc)
		return rc;
	rc = run_counts(bins.ref, bins.cur, bins.k, o, r);
	sl_drift_bins_release(&bins);
	if (rc)
		return rc;
	finish(r, o);
	*out = *r;
	return 0;
}

int sl__drift_test_num_sample(const struct sl__sample *a, const struct sl__sample *b, double ref_std,
                              const struct sl_drift_opts *o, struct sl_drift_result *out)
{
	if (o->test != SL_DRIFT_AUTO && o->test != SL_DRIFT_WASSERSTEIN)
		return test_expanded(a, b, o, out);
	struct sl_drift_result r = {.pvalue = NAN};
	double w, mean;
	sl__sample_wasserstein(a, b, &w, &r.n_unique); /* the count picks the test */
	r.test = o->test != SL_DRIFT_AUTO
	             ? o->test
	             : sl_drift_default_test(SL_DRIFT_NUM, (size_t)a->total, r.n_unique, o->size_cutoff);
	if (r.test == SL_DRIFT_JS && sl__sample_nunique(a) <= 20) /* sl_drift_bins_num's choice */
		return test_per_value(a, b, o, &r, out);
	if (r.test != SL_DRIFT_WASSERSTEIN)
		return test_expanded(a, b, o, out);
	if (isnan(ref_std))
		sl__sample_mean_std(a, &mean, &ref_std);
	r.statistic = w / fmax(ref_std, 0.001); /* sl_drift_wasserstein_norm's arithmetic */
	finish(&r, o);
	*out = r;
	return 0;
}

/* Drops the bins empty on both sides (hashed sketches leave many). */
static size_t compact(const double *ref, const double *cur, size_t k, double *r2, double *c2)
{
	size_t m = 0;
	for (size_t i = 0; i < k; i++)
		if (ref[i] > 0 || cur[i] > 0)
			r2[m] = ref[i], c2[m] = cur[i], m++;
	return m;
}

int sl_drift_test_cat(const double *ref, const double *cur, size_t k, const struct sl_drift_opts *o,
                      struct sl_drift_result *out)
{
	if (!ref || !cur || k == 0 || !o)
		return SL_EINVAL;
	if (o->test == SL_DRIFT_KS || o->test == SL_DRIFT_WASSERSTEIN)
		return SL_EINVAL; /* numeric tests: Evidently refuses them for categories too */
	double *buf = malloc(2 * k * sizeof *buf);
	if (!buf)
		return SL_ENOMEM;
	struct sl_drift_result r = {.pvalue = NAN};
	double nr = 0;
	r.n_unique = compact(ref, cur, k, buf, buf + k);
	for (size_t i = 0; i < r.n_unique; i++)
		nr += buf[i];
	r.test = o->test != SL_DRIFT_AUTO ? o->test
	                                  : sl_drift_default_test(SL_DRIFT_CAT, (size_t)nr, r.n_unique, o->size_cutoff);
	int rc = r.n_unique ? run_counts(buf, buf + k, r.n_unique, o, &r) : SL_EINVAL;
	free(buf);
	if (rc)
		return rc;
	finish(&r, o);
	*out = r;
	return 0;
}
