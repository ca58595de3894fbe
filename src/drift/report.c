/* report.c: builds a drift report from two loaded tables: per column its summary on each side,
 * the test Evidently would run (or the one asked for) and its verdict, the chart data, then
 * the dataset verdict with the optional correction.
 * Invariants: a column with no values on a side, or whose forced test does not apply, is
 * reported untested with a note and left out of the dataset share; chart shares sum to 1 per
 * side (numeric charts: equal-width bins over both samples' range; categories: the most
 * frequent ones, the rest as "(other)"). */
#include <math.h>
#include <stdio.h>

#include "univariate-int.h"

#define LABEL_MAX 200 /* bytes of a category label kept for charts */

void sl_drift_config_init(struct sl_drift_config *c)
{
	*c = (struct sl_drift_config){
	    .correction = SL_DRIFT_CORR_NONE, .drift_share = 0.5, .chart_bins = 20, .chart_cats = 20};
	sl_drift_opts_init(&c->opts);
}

static void chart_release(struct sl_drift_chart *ch)
{
	for (size_t i = 0; ch->labels && i < ch->k; i++)
		free(ch->labels[i]);
	free(ch->labels);
	free(ch->edges);
	free(ch->ref);
	free(ch->cur);
	*ch = (struct sl_drift_chart){0};
}

void sl_drift_report_release(struct sl_drift_report *rep)
{
	for (size_t i = 0; i < rep->ncols; i++) {
		free(rep->cols[i].name);
		chart_release(&rep->cols[i].chart);
	}
	free(rep->cols);
	*rep = (struct sl_drift_report){0};
}

/* A numeric column as a sorted sample (counted or not; codes decoded into w's buffer k, with
 * the summary made in the same pass) and its side of the report; false when out of memory. */
static bool side_num(struct sl_drift_side *s, const struct sl_drift_col *c, struct sl_drift_work *w, int k,
                     struct sl__sample *a)
{
	*s = (struct sl_drift_side){.count = c->n_num, .missing = c->missing + c->nonfinite};
	if (c->counts) {
		*a = (struct sl__sample){c->num, c->counts, c->n_distinct, c->n_num};
		sl__sample_summary(a, &s->unique, &s->mean, &s->std);
	} else if (c->code && c->n_num) {
		double *v = sl__values_room(&w->v[k], &w->cap[k], c->n_num);
		if (!v)
			return false;
		sl__codes_summary(c->code, c->n_num, v, &s->unique, &s->mean, &s->std);
		*a = sl__sample_of(v, c->n_num);
	} else { /* doubles, or no values (neither array) */
		*a = sl__sample_of(c->num, c->n_num);
		sl__sample_summary(a, &s->unique, &s->mean, &s->std);
	}
	s->min = a->n ? a->v[0] : NAN;
	s->max = a->n ? a->v[a->n - 1] : NAN;
	return true;
}

static void side_cat(struct sl_drift_side *s, const struct sl_drift_col *c)
{
	*s = (struct sl_drift_side){
	    .count = c->cats.total, .missing = c->missing, .mean = NAN, .std = NAN, .min = NAN, .max = NAN};
	s->unique = c->cats.n; /* a lower bound once categories were folded */
}

static int chart_num(struct sl_drift_chart *ch, const struct sl__sample *x, const struct sl__sample *y, size_t nbins)
{
	struct sl_drift_bins bins;
	double lo = fmin(x->v[0], y->v[0]), hi = fmax(x->v[x->n - 1], y->v[y->n - 1]);
	int rc = sl__sample_hist(x, y, lo, hi, nbins ? nbins : 20, &bins);
	if (rc)
		return rc;
	for (size_t i = 0; i < bins.k; i++)
		bins.ref[i] /= (double)x->total, bins.cur[i] /= (double)y->total;
	*ch = (struct sl_drift_chart){.k = bins.k, .edges = bins.edges, .ref = bins.ref, .cur = bins.cur};
	return 0;
}

struct rank {
	size_t i;
	double w;
};

static int cmp_rank(const void *x, const void *y)
{
	const struct rank *a = x, *b = y;
	if (a->w != b->w)
		return a->w > b->w ? -1 : 1;
	return (a->i > b->i) - (a->i < b->i);
}

/* The top categories by combined share, in key order of their rank; the rest as "(other)". */
static int chart_cat(struct sl_drift_chart *ch, const struct sl_drift_col *a, const struct sl_drift_col *b, size_t top)
{
	struct sl_drift_cat_pair u;
	int rc = sl_drift_cats_union(&a->cats, &b->cats, &u);
	if (rc)
		return rc;
	double na = (double)a->cats.total, nb = (double)b->cats.total;
	struct rank *r = malloc((u.k ? u.k : 1) * sizeof *r);
	size_t shown = u.k < top ? u.k : top, k = shown;
	if (r) {
		for (size_t i = 0; i < u.k; i++)
			r[i] = (struct rank){i, u.ref[i] / na + u.cur[i] / nb};
		qsort(r, u.k, sizeof *r, cmp_rank);
	}
	double ra = 0, rb = 0;
	for (size_t i = 0; r && i < shown; i++)
		ra += u.ref[r[i].i], rb += u.cur[r[i].i];
	k += ra < na || rb < nb; /* "(other)": categories not shown, or folded past the cap */
	*ch = (struct sl_drift_chart){.k = k};
	ch->labels = calloc(k, sizeof *ch->labels);
	ch->ref = calloc(k, sizeof *ch->ref);
	ch->cur = calloc(k, sizeof *ch->cur);
	rc = r && ch->labels && ch->ref && ch->cur ? 0 : SL_ENOMEM;
	for (size_t i = 0; rc == 0 && i < shown; i++) {
		size_t j = r[i].i, len = sl__utf8_cut(u.names[j], u.lens[j], LABEL_MAX);
		ch->ref[i] = u.ref[j] / na, ch->cur[i] = u.cur[j] / nb;
		rc = (ch->labels[i] = sl__strndup(u.names[j], len)) ? 0 : SL_ENOMEM;
	}
	if (rc == 0 && k > shown) {
		ch->ref[shown] = (na - ra) / na, ch->cur[shown] = (nb - rb) / nb;
		rc = (ch->labels[shown] = sl__strndup("(other)", 7)) ? 0 : SL_ENOMEM;
	}
	free(r);
	sl_drift_cat_pair_release(&u);
	return rc;
}

static const char *why(int rc, const struct sl_drift_opts *o, enum sl_drift_kind kind)
{
	if (rc == SL_ENOMEM)
		return "out of memory";
	if (o->test == SL_DRIFT_Z)
		return "the z-test needs at most two distinct values";
	if (kind == SL_DRIFT_CAT && (o->test == SL_DRIFT_KS || o->test == SL_DRIFT_WASSERSTEIN))
		return "this test needs numbers";
	return "the test could not run on these values";
}

static int test_num(struct sl_drift_column *col, const struct sl__sample *x, const struct sl__sample *y,
                    const struct sl_drift_config *cfg)
{
	/* the loader's columns are sorted and finite, and the reference's std is already known */
	int rc = sl__drift_test_num_sample(x, y, col->ref.std, &cfg->opts, &col->r);
	if (rc)
		col->note = why(rc, &cfg->opts, SL_DRIFT_NUM);
	col->tested = rc == 0;
	return rc == SL_ENOMEM ? rc : chart_num(&col->chart, x, y, cfg->chart_bins);
}

static int test_cat(struct sl_drift_column *col, const struct sl_drift_col *a, const struct sl_drift_col *b,
                    const struct sl_drift_config *cfg)
{
	struct sl_drift_cat_pair p;
	int rc = sl_drift_cats_pair(&a->cats, &b->cats, false, &p);
	if (rc == 0) {
		rc = sl_drift_test_cat(p.ref, p.cur, p.k, &cfg->opts, &col->r);
		col->hashed = p.hashed;
		sl_drift_cat_pair_release(&p);
	}
	if (rc)
		col->note = why(rc, &cfg->opts, SL_DRIFT_CAT);
	else if (col->hashed)
		col->note = "too many categories: compared in hashed bins";
	col->tested = rc == 0;
	return rc == SL_ENOMEM ? rc : chart_cat(&col->chart, a, b, cfg->chart_cats ? cfg->chart_cats : 20);
}

static int build_column(struct sl_drift_column *col, const struct sl_drift_col *a, const struct sl_drift_col *b,
                        const struct sl_drift_config *cfg, struct sl_drift_work *w)
{
	col->name = sl__strndup(a->name, strlen(a->name));
	if (!col->name)
		return SL_ENOMEM;
	col->kind = a->kind;
	col->r = (struct sl_drift_result){.pvalue = NAN, .statistic = NAN, .score = NAN, .threshold = NAN};
	struct sl__sample x, y;
	bool num = a->kind == SL_DRIFT_NUM;
	if (num && (!side_num(&col->ref, a, w, 0, &x) || !side_num(&col->cur, b, w, 1, &y)))
		return SL_ENOMEM;
	if (!num)
		side_cat(&col->ref, a), side_cat(&col->cur, b);
	if (col->ref.count == 0 || col->cur.count == 0) {
		col->note = col->ref.count == 0 ? "no values in the reference" : "no values in the current data";
		return 0;
	}
	return num ? test_num(col, &x, &y, cfg) : test_cat(col, a, b, cfg);
}

static int verdict(struct sl_drift_report *rep)
{
	size_t n = rep->ncols;
	struct sl_drift_result *r = calloc(n ? n : 1, sizeof *r);
	bool *skip = calloc(n ? n : 1, sizeof *skip);
	int rc = r && skip ? 0 : SL_ENOMEM;
	for (size_t i = 0; rc == 0 && i < n; i++)
		r[i] = rep->cols[i].r, skip[i] = !rep->cols[i].tested;
	if (rc == 0)
		rc = sl_drift_dataset(r, skip, n, rep->cfg.correction, rep->cfg.drift_share, &rep->verdict);
	for (size_t i = 0; rc == 0 && i < n; i++)
		rep->cols[i].r = r[i];
	free(r);
	free(skip);
	return rc;
}

int sl_drift_report_begin(struct sl_drift_report *rep, const struct sl_drift_table *tref,
                          const struct sl_drift_table *tcur, const struct sl_drift_config *cfg)
{
	if (!rep || !tref || !tcur || !cfg || tref->ncols != tcur->ncols)
		return SL_EINVAL;
	*rep = (struct sl_drift_report){.cfg = *cfg, .ref_rows = tref->rows, .cur_rows = tcur->rows};
	rep->cols = calloc(tref->ncols ? tref->ncols : 1, sizeof *rep->cols);
	if (!rep->cols)
		return SL_ENOMEM;
	rep->ncols = tref->ncols; /* zeroed columns release cleanly until built */
	return 0;
}

void sl_drift_work_release(struct sl_drift_work *w)
{
	free(w->v[0]);
	free(w->v[1]);
	*w = (struct sl_drift_work){0};
}

int sl_drift_report_column(struct sl_drift_report *rep, const struct sl_drift_table *tref,
                           const struct sl_drift_table *tcur, size_t i, struct sl_drift_work *w)
{
	if (i >= rep->ncols || i >= tref->ncols || i >= tcur->ncols)
		return SL_EINVAL;
	struct sl_drift_work own = {0};
	int rc = build_column(&rep->cols[i], &tref->cols[i], &tcur->cols[i], &rep->cfg, w ? w : &own);
	sl_drift_work_release(&own);
	return rc;
}

int sl_drift_report_end(struct sl_drift_report *rep, int rc)
{
	if (rc == 0)
		rc = verdict(rep);
	if (rc)
		sl_drift_report_release(rep);
	return rc;
}

int sl_drift_report_build(struct sl_drift_report *rep, const struct sl_drift_table *tref,
                          const struct sl_drift_table *tcur, const struct sl_drift_config *cfg)
{
	int rc = sl_drift_report_begin(rep, tref, tcur, cfg);
	if (rc)
		return rc;
	struct sl_drift_work w = {0};
	for (size_t i = 0; rc == 0 && i < rep->ncols; i++)
		rc = sl_drift_report_column(rep, tref, tcur, i, &w);
	sl_drift_work_release(&w);
	return sl_drift_report_end(rep, rc);
}
