/* report_json.c: the analysis report as JSON (the admin API's and `sluice experiment show`'s
 * shape, docs/EXPERIMENTS.md "Report").
 * Invariants: always valid JSON (non-finite numbers are null); every variant of every metric is
 * listed, the control first; p_value and p_adjusted are null for the control and under the
 * Bayesian engine, chance_to_win null under the frequentist one. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "agg-int.h"

static const char *status_name(const struct sl_experiment *e, double now)
{
	return now < e->start ? "scheduled" : now < e->stop ? "running" : "stopped";
}

static int put_counts(struct sl_buf *b, const struct sl_exp_agg_counts *c)
{
	return sl_buf_printf(b,
	                     ",\"counts\":{\"units\":%llu,\"exposed\":%llu,\"dropped\":%llu,\"requests\":%llu,"
	                     "\"events\":%llu,\"ignored\":%llu,\"conflicts\":%llu}",
	                     (unsigned long long)c->units, (unsigned long long)c->exposed,
	                     (unsigned long long)c->dropped, (unsigned long long)c->requests,
	                     (unsigned long long)c->events, (unsigned long long)c->ignored,
	                     (unsigned long long)c->conflicts);
}

static int put_head(struct sl_buf *b, const struct sl_experiment *e, double now)
{
	static const char *const corr[] = {"holm", "bh", "none"};
	int rc = sl_buf_puts(b, "{\"experiment\":");
	if (!rc)
		rc = sl_buf_json_str(b, e->key, strlen(e->key));
	if (!rc)
		rc = sl__json_str_field(b, "model", e->model, SIZE_MAX);
	if (!rc)
		rc = sl_buf_printf(b, ",\"unit\":\"%s\",\"status\":\"%s\",\"engine\":\"%s\",\"sequential\":%s",
		                   sl_exp_unit_name(e->unit), status_name(e, now),
		                   e->analysis.bayesian ? "bayesian" : "frequentist", e->analysis.sequential ? "true" : "false");
	if (!rc)
		rc = sl__json_num_field(b, "alpha", e->analysis.alpha);
	return rc ? rc : sl_buf_printf(b, ",\"correction\":\"%s\"", corr[e->analysis.correction]);
}

static int put_variants(struct sl_buf *b, const struct sl_experiment *e, const struct sl_exp_report *r)
{
	int rc = sl_buf_puts(b, ",\"variants\":[");
	for (unsigned v = 0; !rc && v < e->nvariants; v++) {
		rc = sl_buf_puts(b, v ? ",{\"key\":" : "{\"key\":");
		if (!rc)
			rc = sl_buf_json_str(b, e->variants[v].key, strlen(e->variants[v].key));
		if (!rc)
			rc = sl__json_num_field(b, "weight", e->variants[v].weight);
		if (!rc)
			rc = sl_buf_printf(b, ",\"units\":%llu}", (unsigned long long)r->units[v]);
	}
	if (!rc)
		rc = sl_buf_puts(b, "],\"srm\":{\"p_value\":");
	if (!rc)
		rc = sl__json_num(b, r->srm_pvalue);
	if (!rc)
		rc = sl__json_num_field(b, "threshold", e->analysis.srm_threshold);
	return rc ? rc : sl_buf_printf(b, ",\"verdict\":\"%s\"}", r->srm ? "mismatch" : "ok");
}

static int put_cell(struct sl_buf *b, const struct sl_experiment *e, unsigned v, const struct sl_exp_cell *c)
{
	int rc = sl_buf_puts(b, v ? ",{\"variant\":" : "{\"variant\":");
	if (!rc)
		rc = sl_buf_json_str(b, e->variants[v].key, strlen(e->variants[v].key));
	if (!rc)
		rc = sl_buf_printf(b, ",\"units\":%llu", (unsigned long long)c->units);
	if (!rc)
		rc = sl__json_num_field(b, "mean", c->mean);
	if (!rc && v > 0) {
		rc = sl__json_num_field(b, "lift", c->lift);
		if (!rc)
			rc = sl_buf_puts(b, ",\"ci\":[");
		if (!rc)
			rc = sl__json_num(b, c->lo);
		if (!rc)
			rc = sl_buf_puts(b, ",");
		if (!rc)
			rc = sl__json_num(b, c->hi);
		if (!rc)
			rc = sl_buf_puts(b, "]");
	}
	if (!rc)
		rc = sl__json_num_field(b, "p_value", c->pvalue);
	if (!rc)
		rc = sl__json_num_field(b, "p_adjusted", c->p_adjusted);
	if (!rc)
		rc = sl__json_num_field(b, "chance_to_win", c->chance_to_win);
	return rc ? rc : sl_buf_printf(b, ",\"verdict\":\"%s\"}", sl_exp_verdict_name(c->verdict));
}

static int put_metric(struct sl_buf *b, const struct sl_experiment *e, unsigned m, const struct sl_exp_report *r)
{
	const struct sl_exp_metric *mt = &e->metrics[m];
	int rc = sl_buf_puts(b, m ? ",{\"name\":" : "{\"name\":");
	if (!rc)
		rc = sl_buf_json_str(b, mt->name, strlen(mt->name));
	if (!rc)
		rc = sl_buf_printf(b, ",\"kind\":\"%s\"", sl_exp_kind_name(mt->kind));
	if (!rc)
		rc = sl__source_put(b, "source", &mt->source);
	if (!rc && mt->kind == SL_EXP_RATIO)
		rc = sl__source_put(b, "denominator", &mt->denominator);
	if (!rc && mt->kind == SL_EXP_QUANTILE)
		rc = sl__json_num_field(b, "quantile", mt->quantile);
	if (!rc)
		rc = sl_buf_printf(b, ",\"guardrail\":%s,\"direction\":\"%s\",\"cuped\":%s,\"variants\":[",
		                   mt->guardrail ? "true" : "false",
		                   mt->increase_is_good ? "increase_is_good" : "decrease_is_good", mt->cuped ? "true" : "false");
	for (unsigned v = 0; !rc && v < e->nvariants; v++)
		rc = put_cell(b, e, v, &r->cells[m][v]);
	return rc ? rc : sl_buf_puts(b, "]}");
}

static int put_report(struct sl_buf *b, const struct sl_experiment *e, const struct sl_exp_report *r, double now)
{
	int rc = put_head(b, e, now);
	if (!rc)
		rc = put_counts(b, &r->counts);
	if (!rc)
		rc = put_variants(b, e, r);
	if (!rc)
		rc = sl_buf_puts(b, ",\"metrics\":[");
	for (unsigned m = 0; !rc && m < e->nmetrics; m++)
		rc = put_metric(b, e, m, r);
	if (!rc)
		rc = sl_buf_printf(b, "],\"stop_recommended\":%s,\"reason\":", r->stop_recommended ? "true" : "false");
	if (!rc)
		rc = r->stop_recommended ? sl_buf_json_str(b, r->reason, strlen(r->reason)) : sl_buf_puts(b, "null");
	return rc ? rc : sl_buf_puts(b, "}");
}

int sl_experiment_analyze(const struct sl_exp_agg *agg, unsigned exp, double now, struct sl_buf *json_out)
{
	struct sl_exp_report *r = malloc(sizeof(*r));
	if (!r)
		return SL_ENOMEM;
	int rc = sl_experiment_report(agg, exp, now, r);
	size_t len = json_out->len;
	if (!rc)
		rc = put_report(json_out, &agg->set->exps[exp], r, now);
	if (rc && json_out->data) {
		json_out->len = len;
		json_out->data[len] = '\0';
	}
	free(r);
	return rc;
}
