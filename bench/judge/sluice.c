/* sluice.c: the sluice judge, fed exactly as the gateway feeds it (src/proxy/rollouts.c,
 * sl_rollouts_observe and sl_rollouts_feedback): every request counts toward its side's
 * requests and error rate; a failed request records nothing else; an answered one adds its
 * latency, time to first token, output tokens and cost; a rating adds to the thumbs-down rate.
 * The window holds BENCH_WINDOW_CAP values per side per value check, as the gateway's does, and
 * the judgment is sl_judge over the rollout's own spec with the machine's judgment index.
 * Invariants: idx[] maps the gateway's metric names to check indexes (-1 when the spec has no
 * such check), so a spec with fewer or reordered checks is fed the way the gateway feeds it. */
#include <math.h>

#include "judge.h"

enum { M_LATENCY, M_TTFT, M_TOKENS, M_COST, M_ERROR, M_NEGATIVE, M_COUNT };
static const char *const metric_names[M_COUNT] = {"latency", "ttft",       "output_tokens",
                                                  "cost",    "error_rate", "negative_feedback_rate"};

static int idx_of(const struct arm *a, int metric)
{
	return sl_rollout_spec_find(&a->r.spec, metric_names[metric]);
}

static int sluice_init(struct arm *a)
{
	return sl_window_init(&a->win, &a->r.spec, BENCH_WINDOW_CAP, a->seed);
}

static void sluice_release(struct arm *a)
{
	sl_window_release(&a->win);
}

static void sluice_reset(struct arm *a)
{
	sl_window_reset(&a->win);
}

static void add_value(struct arm *a, int side, int metric, double v)
{
	int i = idx_of(a, metric);
	if (i >= 0 && isfinite(v))
		sl_window_add_value(&a->win, (enum sl_side)side, (unsigned)i, v);
}

static void add_rate(struct arm *a, int side, int metric, bool event)
{
	int i = idx_of(a, metric);
	if (i >= 0)
		sl_window_add_rate(&a->win, (enum sl_side)side, (unsigned)i, event, 1);
}

static void sluice_observe(struct arm *a, int side, const struct obs *o)
{
	sl_window_add_request(&a->win, (enum sl_side)side);
	add_rate(a, side, M_ERROR, o->error);
	if (o->error)
		return;
	add_value(a, side, M_LATENCY, o->latency_ms);
	add_value(a, side, M_TTFT, o->ttft_ms);
	add_value(a, side, M_TOKENS, o->tokens);
	add_value(a, side, M_COST, o->cost);
	if (o->rated)
		add_rate(a, side, M_NEGATIVE, o->negative);
}

static enum sl_outcome sluice_judge(struct arm *a, unsigned index)
{
	struct sl_judgment j;
	if (sl_judge(&a->r.spec, &a->win, index, &j) != 0)
		return SL_OUTCOME_INSUFFICIENT_DATA; /* the gateway logs and skips; never seen here */
	for (unsigned i = 0; i < j.nchecks && i < SL_ROLLOUT_MAX_CHECKS; i++)
		if (j.checks[i].verdict == SL_VERDICT_FAIL && !j.checks[i].dry_run)
			a->check_fails[i]++;
	return j.outcome;
}

const struct judge_ops judge_sluice = {
    .name = "sluice",
    .init = sluice_init,
    .release = sluice_release,
    .reset = sluice_reset,
    .observe = sluice_observe,
    .judge = sluice_judge,
};
