/* peers.c: the two comparison judges, each judging only the data of the interval since its
 * previous judgment (or since the stage began), afresh every time.
 *
 * Flagger-style (fixed thresholds, as Flagger's metric checks with thresholdRange.max): over
 * the interval, the candidate's p99 latency, error rate and thumbs-down rate are compared with
 * hand-set bounds; any bound exceeded fails the check, else it passes. A metric without data
 * in the interval is skipped (Flagger would fail it with "no values found": this is kinder).
 *
 * Kayenta-style (NetflixACAJudge's MannWhitneyClassifier as shipped: tolerance 0.25,
 * confLevel 0.98, effect-size threshold 1.0, IQR outlier removal with factor 3): for each
 * value metric (latency, ttft, cost), outliers beyond [Q1 - 3 IQR, Q3 + 3 IQR] are dropped on
 * each side; the metric is High when the lower end of the 98% Hodges-Lehmann interval of the
 * candidate-minus-stable shift exceeds 0.25 x |estimate| and the candidate's mean is at least
 * stable's. Rate metrics (errors, thumbs-down) are the same rule on the per-request 0/1
 * indicator, with the Newcombe interval of the difference of proportions in place of the
 * Hodges-Lehmann one (which is degenerate on 0/1 data: its estimate is almost always 0, and
 * Kayenta would never flag a rate). Score = 100 x metrics not High / metrics with data; a
 * critical metric (latency, errors) that is High fails the judgment, as Kayenta's critical
 * metrics do; then the rollout's pass/marginal scores apply as for sluice.
 * Invariants: interval data only grow between judgments and are emptied by each judgment and
 * each stage reset; the judges never look at earlier intervals. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "judge.h"

enum { V_LATENCY, V_TTFT, V_COST, V_COUNT };

int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

int vec_push(struct vec *v, double x)
{
	if (v->len == v->cap) {
		size_t cap = v->cap ? 2 * v->cap : 256;
		double *p = realloc(v->v, cap * sizeof(*p));
		if (!p)
			return SL_ENOMEM;
		v->v = p;
		v->cap = cap;
	}
	v->v[v->len++] = x;
	return 0;
}

void vec_free(struct vec *v)
{
	free(v->v);
	memset(v, 0, sizeof(*v));
}

void interval_clear(struct interval_data *iv)
{
	for (int s = 0; s < 2; s++) {
		for (int m = 0; m < V_COUNT; m++)
			iv->values[s][m].len = 0;
		iv->requests[s] = iv->errors[s] = iv->rated[s] = iv->negative[s] = 0;
	}
}

void interval_free(struct interval_data *iv)
{
	for (int s = 0; s < 2; s++)
		for (int m = 0; m < V_COUNT; m++)
			vec_free(&iv->values[s][m]);
}

void interval_add(struct interval_data *iv, int side, const struct obs *o)
{
	iv->requests[side]++;
	iv->errors[side] += o->error;
	if (o->error)
		return;
	if (vec_push(&iv->values[side][V_LATENCY], o->latency_ms) || vec_push(&iv->values[side][V_TTFT], o->ttft_ms) ||
	    vec_push(&iv->values[side][V_COST], o->cost)) {
		fprintf(stderr, "bench_judge: out of memory\n");
		exit(1);
	}
	iv->rated[side] += o->rated;
	iv->negative[side] += o->negative;
}

static int peer_init(struct arm *a)
{
	memset(&a->iv, 0, sizeof(a->iv));
	return 0;
}

static void peer_release(struct arm *a)
{
	interval_free(&a->iv);
}

static void peer_reset(struct arm *a)
{
	interval_clear(&a->iv);
}

/* ---- Flagger-style ---- */

static void flagger_observe(struct arm *a, int side, const struct obs *o)
{
	if (side == SL_CANDIDATE) /* Flagger's checks look at the canary's own metrics only */
		interval_add(&a->iv, side, o);
}

static enum sl_outcome flagger_judge(struct arm *a, unsigned index)
{
	const struct interval_data *iv = &a->iv;
	const struct vec *lat = &iv->values[SL_CANDIDATE][V_LATENCY];
	bool f[3] = {false, false, false};
	if (lat->len) {
		qsort(lat->v, lat->len, sizeof(double), cmp_double);
		f[0] = sl_quantile_sorted(lat->v, lat->len, 0.99) > a->flagger.p99_ms;
	}
	if (iv->requests[SL_CANDIDATE])
		f[1] = (double)iv->errors[SL_CANDIDATE] / (double)iv->requests[SL_CANDIDATE] > a->flagger.error_rate;
	if (iv->rated[SL_CANDIDATE])
		f[2] = (double)iv->negative[SL_CANDIDATE] / (double)iv->rated[SL_CANDIDATE] > a->flagger.negative_rate;
	interval_clear(&a->iv);
	for (int i = 0; i < 3; i++)
		a->check_fails[i] += f[i];
	return f[0] || f[1] || f[2] ? SL_OUTCOME_FAIL : SL_OUTCOME_PASS;
}

const struct judge_ops judge_flagger = {
    .name = "flagger",
    .init = peer_init,
    .release = peer_release,
    .reset = peer_reset,
    .observe = flagger_observe,
    .judge = flagger_judge,
};

/* ---- Kayenta-style ---- */

enum kclass { K_NODATA, K_PASS, K_HIGH };

static void kayenta_observe(struct arm *a, int side, const struct obs *o)
{
	interval_add(&a->iv, side, o);
}

/* Sorts v and returns the bounds [*b, *e) of the values inside the IQR fences (factor 3). */
static void iqr_keep(struct vec *v, size_t *b, size_t *e)
{
	qsort(v->v, v->len, sizeof(double), cmp_double);
	double q1 = sl_quantile_sorted(v->v, v->len, 0.25), q3 = sl_quantile_sorted(v->v, v->len, 0.75);
	double lo = q1 - 3 * (q3 - q1), hi = q3 + 3 * (q3 - q1);
	*b = 0, *e = v->len;
	while (*b < *e && v->v[*b] < lo)
		(*b)++;
	while (*e > *b && v->v[*e - 1] > hi)
		(*e)--;
}

static double mean_of(const double *v, size_t n)
{
	double s = 0;
	for (size_t i = 0; i < n; i++)
		s += v[i];
	return s / (double)n;
}

static enum kclass kayenta_value(struct arm *a, int m)
{
	struct vec *s = &a->iv.values[SL_STABLE][m], *c = &a->iv.values[SL_CANDIDATE][m];
	if (!s->len || !c->len)
		return K_NODATA;
	size_t sb, se, cb, ce;
	iqr_keep(s, &sb, &se);
	iqr_keep(c, &cb, &ce);
	if (sb == se || cb == ce)
		return K_NODATA;
	struct sl_hl_result hl;
	if (sl_hodges_lehmann(s->v + sb, se - sb, c->v + cb, ce - cb, a->kayenta_conf, &hl) != 0)
		return K_NODATA;
	double ratio = mean_of(c->v + cb, ce - cb) / mean_of(s->v + sb, se - sb);
	return hl.lo > a->kayenta_tolerance * fabs(hl.estimate) && ratio >= 1 ? K_HIGH : K_PASS;
}

static enum kclass kayenta_rate(const struct arm *a, uint64_t ec, uint64_t nc, uint64_t es, uint64_t ns)
{
	struct sl_prop_result p;
	if (!nc || !ns)
		return K_NODATA;
	if (sl_prop_test((int64_t)ec, (int64_t)nc, (int64_t)es, (int64_t)ns, SL_ALT_TWO_SIDED, a->kayenta_conf, &p))
		return K_NODATA;
	return p.lo > a->kayenta_tolerance * fabs(p.diff) && p.p1 >= p.p2 && p.p1 > 0 ? K_HIGH : K_PASS;
}

static enum sl_outcome kayenta_judge(struct arm *a, unsigned index)
{
	const struct interval_data *iv = &a->iv;
	enum kclass k[5] = {
	    kayenta_value(a, V_LATENCY),
	    kayenta_value(a, V_TTFT),
	    kayenta_value(a, V_COST),
	    kayenta_rate(a, iv->errors[1], iv->requests[1], iv->errors[0], iv->requests[0]),
	    kayenta_rate(a, iv->negative[1], iv->rated[1], iv->negative[0], iv->rated[0]),
	};
	static const bool critical[5] = {true, false, false, true, false};
	int counted = 0, ok = 0;
	bool critical_high = false;
	for (int i = 0; i < 5; i++) {
		a->check_fails[i] += k[i] == K_HIGH;
		counted += k[i] != K_NODATA;
		ok += k[i] == K_PASS;
		critical_high |= critical[i] && k[i] == K_HIGH;
	}
	interval_clear(&a->iv);
	if (critical_high)
		return SL_OUTCOME_FAIL;
	if (!counted)
		return SL_OUTCOME_INSUFFICIENT_DATA;
	double score = 100.0 * ok / counted;
	return score < a->r.spec.marginal_score ? SL_OUTCOME_FAIL
	       : score < a->r.spec.pass_score   ? SL_OUTCOME_INCONCLUSIVE
	                                        : SL_OUTCOME_PASS;
}

const struct judge_ops judge_kayenta = {
    .name = "kayenta",
    .init = peer_init,
    .release = peer_release,
    .reset = peer_reset,
    .observe = kayenta_observe,
    .judge = kayenta_judge,
};
