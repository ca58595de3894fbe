/* report.c: an experiment's analysis from its aggregator: per metric and variant the
 * comparison with the control (abstats.h: Welch, sequential or Bayesian, CUPED, ratio delta
 * method, quantiles), the multiple-testing correction, the SRM check and the guardrails.
 * Invariants: pure over the aggregator (reads only; a quantile reservoir is copied, then only
 * the order statistics its quantiles read are selected, with the values a full sort gives);
 * the correction covers the non-guardrail metrics of every treatment variant (frequentist only);
 * guardrails are judged on their raw p-value (or chance to win), so that a regression stops an
 * experiment as early as possible; no NaN reaches a verdict. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agg-int.h"
#include "sluice/abstats.h"

static const char *const verdict_names[] = {"no_data", "inconclusive", "better", "worse", "control"};

const char *sl_exp_verdict_name(enum sl_exp_verdict v)
{
	return (unsigned)v <= SL_EXP_CONTROL ? verdict_names[v] : "?";
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

#define MAX_RANKS 12 /* three quantiles, four neighbouring order statistics each */

static void swap(double *v, size_t i, size_t j)
{
	double t = v[i];
	v[i] = v[j];
	v[j] = t;
}

static double median3(double a, double b, double c)
{
	return a < b ? (b < c ? b : a < c ? c : a) : (a < c ? a : b < c ? c : b);
}

/* Places at every rank of k[0..nk) (ascending, inside [lo, hi)) the value a full sort would
 * put there: introselect over several ranks at once, three-way partitions around a median of
 * three (ties settle in one pass); past depth 0 the range is sorted whole (qsort), so a
 * crafted reservoir costs O(n log n) at worst. Values are finite (the aggregator drops others). */
static void select_ranks(double *v, size_t lo, size_t hi, const size_t *k, size_t nk, int depth)
{
	while (nk && hi - lo > 1) {
		if (depth-- == 0 || hi - lo <= 16) {
			qsort(v + lo, hi - lo, sizeof(double), cmp_double);
			return;
		}
		double p = median3(v[lo], v[lo + (hi - lo) / 2], v[hi - 1]);
		size_t lt = lo, i = lo, gt = hi; /* [lo,lt) < p, [lt,i) == p, [gt,hi) > p */
		while (i < gt) {
			if (v[i] < p)
				swap(v, lt++, i++);
			else if (v[i] > p)
				swap(v, i, --gt);
			else
				i++;
		}
		size_t a = 0, b = nk; /* k[0..a) below lt, k[b..nk) at or past gt */
		while (a < nk && k[a] < lt)
			a++;
		while (b > a && k[b - 1] >= gt)
			b--;
		select_ranks(v, lo, lt, k, a, depth);
		lo = gt, k += b, nk -= b;
	}
}

/* The ranks sl_quantile_sorted reads for quantile q of n values, floor((n - 1) q) and the next,
 * widened by one on each side: a last-bit difference in q (another compiler's contraction of
 * the same expression) moves the floor by at most one. */
static size_t add_ranks(size_t *k, size_t nk, size_t n, double q)
{
	size_t i = (size_t)floor((double)(n - 1) * q);
	for (size_t r = i ? i - 1 : 0; r <= i + 2 && r < n; r++)
		k[nk++] = r;
	return nk;
}

static int cmp_size(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	return (x > y) - (x < y);
}

/* Orders scratch[0..n) enough for sl_ab_quantile_from_sorted(scratch, n, nu): the order
 * statistics at the ranks it reads for nu and nu -/+ h (the same expressions as there) hold
 * the values a full sort would give, so the result is bit-identical, in O(n) on average. */
static void select_for_quantile(double *scratch, size_t n, double nu)
{
	size_t k[MAX_RANKS], nk = 0, uniq = 0;
	double h = sl_norm_isf(0.025) * sqrt(nu * (1 - nu) / (double)n);
	nk = add_ranks(k, nk, n, nu);
	nk = add_ranks(k, nk, n, fmax(0, nu - h));
	nk = add_ranks(k, nk, n, fmin(1, nu + h));
	qsort(k, nk, sizeof(size_t), cmp_size);
	for (size_t i = 0; i < nk; i++)
		if (!uniq || k[i] != k[uniq - 1])
			k[uniq++] = k[i];
	int depth = 2;
	for (size_t m = n; m > 1; m >>= 1)
		depth += 2;
	select_ranks(scratch, 0, n, k, uniq, depth);
}

/* The arm of a quantile metric from a copy of its reservoir, its order statistics selected. */
static int quantile_arm(const struct sl_reservoir *r, double nu, double *scratch, struct sl_ab_stat *out)
{
	sl_ab_stat_init(out, SL_AB_QUANTILE);
	if (r->len < 2)
		return 0; /* n 0: the comparison reports too few units */
	memcpy(scratch, r->v, r->len * sizeof(double));
	if (nu > 0 && nu < 1)
		select_for_quantile(scratch, r->len, nu);
	return sl_ab_quantile_from_sorted(scratch, r->len, nu, out);
}

static void sums_arm(const struct sl__xagg *x, unsigned m, unsigned v, struct sl_ab_stat *out)
{
	const struct sl_exp_metric *mt = &x->e->metrics[m];
	const struct sl__suff *s = &x->suff[m][v];
	enum sl_ab_kind k = mt->cuped ? SL_AB_CUPED
	                    : mt->kind == SL_EXP_RATIO      ? SL_AB_RATIO
	                    : mt->kind == SL_EXP_PROPORTION ? SL_AB_PROPORTION
	                                                    : SL_AB_MEAN;
	sl_ab_stat_init(out, k);
	out->binary = mt->kind == SL_EXP_PROPORTION;
	out->n = (double)x->units[v];
	out->sum = s->sum;
	out->sum_sq = s->sum_sq;
	out->d_sum = s->d_sum;
	out->d_sum_sq = s->d_sum_sq;
	out->yd_sum = s->yd_sum;
	out->x_sum = s->x_sum;
	out->x_sum_sq = s->x_sum_sq;
	out->yx_sum = s->yx_sum;
}

static int arm(const struct sl__xagg *x, unsigned m, unsigned v, double *scratch, struct sl_ab_stat *out)
{
	const struct sl_exp_metric *mt = &x->e->metrics[m];
	if (mt->kind == SL_EXP_QUANTILE)
		return quantile_arm(&x->res[m][v], mt->quantile, scratch, out);
	sums_arm(x, m, v, out);
	return 0;
}

static int compare(const struct sl_exp_analysis *an, struct sl_ab_stat *a, struct sl_ab_stat *b,
                   struct sl_ab_result *r)
{
	struct sl_ab_opts o;
	sl_ab_opts_init(&o);
	o.alpha = an->alpha;
	o.n_star = an->tau;
	if (a->kind == SL_AB_CUPED) {
		int rc = sl_ab_cuped_prepare(a, b);
		if (rc)
			return rc;
	}
	if (an->bayesian)
		return sl_ab_bayesian(a, b, &o, r);
	return an->sequential ? sl_ab_sequential(a, b, &o, r) : sl_ab_frequentist(a, b, &o, r);
}

static void fill_cell(const struct sl_exp_analysis *an, const struct sl_ab_result *r, struct sl_exp_cell *c)
{
	c->mean = r->mean_b;
	c->lift = r->expected;
	c->lo = r->ci[0];
	c->hi = r->ci[1];
	c->pvalue = an->bayesian ? NAN : r->p_value;
	c->p_adjusted = c->pvalue;
	c->chance_to_win = an->bayesian ? r->chance_to_win : NAN;
	c->verdict = r->ok ? SL_EXP_INCONCLUSIVE : SL_EXP_NO_DATA;
}

/* One metric: the control's cell and each treatment's comparison. */
static int metric_cells(const struct sl__xagg *x, unsigned m, double *scratch, struct sl_exp_report *rep)
{
	struct sl_ab_stat a, a0, b;
	struct sl_ab_result r;
	const struct sl_exp_metric *mt = &x->e->metrics[m];
	int rc = arm(x, m, 0, scratch, &a0);
	struct sl_exp_cell *c0 = &rep->cells[m][0];
	c0->units = mt->kind == SL_EXP_QUANTILE ? x->res[m][0].seen : x->units[0];
	c0->mean = mt->kind == SL_EXP_QUANTILE ? a0.q_hat : sl_ab_mean(&a0);
	c0->lift = c0->lo = c0->hi = 0;
	c0->pvalue = c0->p_adjusted = c0->chance_to_win = NAN;
	c0->verdict = SL_EXP_CONTROL;
	for (unsigned v = 1; !rc && v < x->e->nvariants; v++) {
		a = a0;
		rc = arm(x, m, v, scratch, &b);
		if (!rc)
			rc = compare(&x->e->analysis, &a, &b, &r);
		if (rc)
			break;
		struct sl_exp_cell *c = &rep->cells[m][v];
		fill_cell(&x->e->analysis, &r, c);
		c->units = mt->kind == SL_EXP_QUANTILE ? x->res[m][v].seen : x->units[v];
		if (!r.ok)
			c->mean = mt->kind == SL_EXP_QUANTILE ? b.q_hat : sl_ab_mean(&b);
	}
	return rc;
}

/* Holm or BH over the non-guardrail cells with a p-value. */
static int correct(const struct sl_experiment *e, struct sl_exp_report *rep)
{
	double p[SL_EXP_MAX_METRICS * SL_EXP_MAX_VARIANTS], adj[SL_EXP_MAX_METRICS * SL_EXP_MAX_VARIANTS];
	size_t order[SL_EXP_MAX_METRICS * SL_EXP_MAX_VARIANTS], n = 0;
	struct sl_exp_cell *cell[SL_EXP_MAX_METRICS * SL_EXP_MAX_VARIANTS];
	if (e->analysis.bayesian || e->analysis.correction == SL_EXP_CORR_NONE)
		return 0;
	for (unsigned m = 0; m < e->nmetrics; m++)
		for (unsigned v = 1; !e->metrics[m].guardrail && v < e->nvariants; v++)
			if (rep->cells[m][v].verdict != SL_EXP_NO_DATA) {
				cell[n] = &rep->cells[m][v];
				p[n] = cell[n]->pvalue;
				n++;
			}
	if (!n)
		return 0;
	int rc = e->analysis.correction == SL_EXP_CORR_HOLM ? sl_ab_adjust_holm(p, n, adj, order)
	                                                    : sl_ab_adjust_bh(p, n, adj, order);
	for (size_t i = 0; !rc && i < n; i++)
		cell[i]->p_adjusted = adj[i];
	return rc;
}

/* better / worse / inconclusive from the (adjusted) p-value or the chance to win. */
static void classify(const struct sl_exp_analysis *an, const struct sl_exp_metric *mt, struct sl_exp_cell *c)
{
	if (c->verdict != SL_EXP_INCONCLUSIVE)
		return;
	int up = 0;
	if (an->bayesian)
		up = c->chance_to_win > 1 - an->alpha ? 1 : c->chance_to_win < an->alpha ? -1 : 0;
	else if (c->p_adjusted < an->alpha)
		up = c->lift > 0 ? 1 : c->lift < 0 ? -1 : 0;
	if (up)
		c->verdict = (up > 0) == mt->increase_is_good ? SL_EXP_BETTER : SL_EXP_WORSE;
}

static void guardrails(const struct sl_experiment *e, struct sl_exp_report *rep)
{
	for (unsigned m = 0; m < e->nmetrics; m++)
		for (unsigned v = 1; e->metrics[m].guardrail && v < e->nvariants; v++) {
			const struct sl_exp_cell *c = &rep->cells[m][v];
			if (c->verdict != SL_EXP_WORSE || rep->stop_recommended)
				continue;
			rep->stop_recommended = true;
			snprintf(rep->reason, sizeof(rep->reason),
			         "guardrail '%s' regressed in variant '%s': %+.2f%% [%+.2f%%, %+.2f%%], %s %.3g",
			         e->metrics[m].name, e->variants[v].key, 100 * c->lift, 100 * c->lo, 100 * c->hi,
			         e->analysis.bayesian ? "chance to win" : "p",
			         e->analysis.bayesian ? c->chance_to_win : c->pvalue);
		}
}

static int srm(const struct sl_experiment *e, struct sl_exp_report *rep)
{
	double units[SL_EXP_MAX_VARIANTS], w[SL_EXP_MAX_VARIANTS];
	bool flag, enough = true;
	unsigned weighted = 0;
	for (unsigned v = 0; v < e->nvariants; v++) {
		units[v] = (double)rep->units[v];
		w[v] = e->variants[v].hi - e->variants[v].lo;
		enough &= w[v] <= 0 || units[v] >= SL_AB_SRM_MIN_UNITS;
		weighted += w[v] > 0;
	}
	if (weighted < 2) { /* one arm takes every unit: no ratio to mismatch */
		rep->srm_pvalue = 1;
		rep->srm = false;
		return 0;
	}
	int rc = sl_ab_srm(units, w, e->nvariants, &rep->srm_pvalue, &flag);
	rep->srm = !rc && enough && rep->srm_pvalue < e->analysis.srm_threshold;
	return rc;
}

int sl_experiment_report(const struct sl_exp_agg *agg, unsigned exp, double now, struct sl_exp_report *out)
{
	if (!agg || !out || exp >= agg->set->n)
		return SL_EINVAL;
	const struct sl__xagg *x = &agg->x[exp];
	const struct sl_experiment *e = x->e;
	double *scratch = malloc(SL_EXP_RESERVOIR * sizeof(double));
	if (!scratch)
		return SL_ENOMEM;
	memset(out, 0, sizeof(*out));
	out->nvariants = e->nvariants;
	out->nmetrics = e->nmetrics;
	out->counts = x->counts;
	memcpy(out->units, x->units, sizeof(out->units));
	int rc = srm(e, out);
	for (unsigned m = 0; !rc && m < e->nmetrics; m++)
		rc = metric_cells(x, m, scratch, out);
	free(scratch);
	if (!rc)
		rc = correct(e, out);
	for (unsigned m = 0; !rc && m < e->nmetrics; m++)
		for (unsigned v = 1; v < e->nvariants; v++)
			classify(&e->analysis, &e->metrics[m], &out->cells[m][v]);
	if (!rc)
		guardrails(e, out);
	(void)now;
	return rc;
}
