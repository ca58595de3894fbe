/* spec_json.c: an experiment back to spec JSON (for `sluice experiment show` and the admin API).
 * Invariants: the output has the input's shape and reads back to an equal experiment: the
 * holdout appears as the filter it became, bucket ranges are written explicitly, start and
 * stop as RFC 3339 UTC with milliseconds (absent when unbounded). */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "experiment-int.h"

static int put_time(struct sl_buf *b, const char *key, double t)
{
	if (!isfinite(t))
		return 0;
	/* rounded to the millisecond, so that writing what was read gives the same text */
	double whole = floor(t);
	long ms = lround((t - whole) * 1000);
	if (ms == 1000 && whole + 1 > 253402300799.0) /* 9999-12-31T23:59:59.999Z at most */
		ms = 999;
	else if (ms == 1000) {
		whole += 1;
		ms = 0;
	}
	time_t s = (time_t)whole;
	struct tm tm;
	char tmp[64];
	if (!gmtime_r(&s, &tm))
		return SL_EINVAL;
	snprintf(tmp, sizeof(tmp), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
	         tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
	return sl__json_str_field(b, key, tmp, SIZE_MAX);
}

static int put_pair(struct sl_buf *b, double lo, double hi)
{
	int rc = sl_buf_puts(b, "[");
	if (!rc)
		rc = sl__json_num(b, lo);
	if (!rc)
		rc = sl_buf_puts(b, ",");
	if (!rc)
		rc = sl__json_num(b, hi);
	return rc ? rc : sl_buf_puts(b, "]");
}

static int put_variant(struct sl_buf *b, const struct sl_exp_variant *v)
{
	int rc = sl_buf_puts(b, "{\"key\":");
	if (!rc)
		rc = sl_buf_json_str(b, v->key, strlen(v->key));
	if (!rc && v->version)
		rc = sl__json_str_field(b, "version", v->version, SIZE_MAX);
	if (!rc && v->params)
		rc = sl_buf_printf(b, ",\"params\":%s", v->params);
	if (!rc && v->system_prompt)
		rc = sl__json_str_field(b, "system_prompt", v->system_prompt, SIZE_MAX);
	if (!rc)
		rc = sl__json_num_field(b, "weight", v->weight);
	return rc ? rc : sl_buf_puts(b, "}");
}

static int put_filter(struct sl_buf *b, const struct sl_exp_filter *f)
{
	int rc = sl_buf_puts(b, "{\"seed\":");
	if (!rc)
		rc = sl_buf_json_str(b, f->seed, strlen(f->seed));
	if (!rc)
		rc = sl_buf_printf(b, ",\"hash_version\":%d,\"ranges\":[", f->hash_version);
	for (unsigned i = 0; !rc && i < f->nranges; i++) {
		rc = i ? sl_buf_puts(b, ",") : 0;
		if (!rc)
			rc = put_pair(b, f->ranges[i][0], f->ranges[i][1]);
	}
	return rc ? rc : sl_buf_puts(b, "]}");
}

static int put_metric(struct sl_buf *b, const struct sl_exp_metric *m)
{
	int rc = sl_buf_puts(b, "{\"name\":");
	if (!rc)
		rc = sl_buf_json_str(b, m->name, strlen(m->name));
	if (!rc)
		rc = sl_buf_printf(b, ",\"kind\":\"%s\"", sl_exp_kind_name(m->kind));
	if (!rc)
		rc = sl__source_put(b, "source", &m->source);
	if (!rc && m->kind == SL_EXP_RATIO)
		rc = sl__source_put(b, "denominator", &m->denominator);
	if (!rc && m->kind == SL_EXP_QUANTILE)
		rc = sl__json_num_field(b, "quantile", m->quantile);
	return rc ? rc
	          : sl_buf_printf(b, ",\"guardrail\":%s,\"direction\":\"%s\",\"cuped\":%s}", m->guardrail ? "true" : "false",
	                          m->increase_is_good ? "increase_is_good" : "decrease_is_good",
	                          m->cuped ? "true" : "false");
}

static int put_analysis(struct sl_buf *b, const struct sl_exp_analysis *a)
{
	static const char *const corr[] = {"holm", "bh", "none"};
	int rc = sl_buf_printf(b, ",\"analysis\":{\"engine\":\"%s\",\"sequential\":%s,\"tau\":",
	                       a->bayesian ? "bayesian" : "frequentist", a->sequential ? "true" : "false");
	if (!rc)
		rc = sl__json_num(b, a->tau);
	if (!rc)
		rc = sl__json_num_field(b, "alpha", a->alpha);
	if (!rc)
		rc = sl_buf_printf(b, ",\"correction\":\"%s\"", corr[a->correction]);
	if (!rc)
		rc = sl__json_num_field(b, "srm_threshold", a->srm_threshold);
	return rc ? rc : sl_buf_puts(b, "}");
}

static int put_lists(struct sl_buf *b, const struct sl_experiment *e)
{
	int rc = sl_buf_puts(b, ",\"variants\":[");
	for (unsigned i = 0; !rc && i < e->nvariants; i++)
		rc = (i ? sl_buf_puts(b, ",") : 0) ? SL_ENOMEM : put_variant(b, &e->variants[i]);
	if (!rc)
		rc = sl_buf_puts(b, "],\"ranges\":[");
	for (unsigned i = 0; !rc && i < e->nvariants; i++)
		rc = (i ? sl_buf_puts(b, ",") : 0) ? SL_ENOMEM : put_pair(b, e->variants[i].lo, e->variants[i].hi);
	if (!rc)
		rc = sl_buf_puts(b, "],\"filters\":[");
	for (unsigned i = 0; !rc && i < e->nfilters; i++)
		rc = (i ? sl_buf_puts(b, ",") : 0) ? SL_ENOMEM : put_filter(b, &e->filters[i]);
	if (!rc)
		rc = sl_buf_puts(b, "],\"metrics\":[");
	for (unsigned i = 0; !rc && i < e->nmetrics; i++)
		rc = (i ? sl_buf_puts(b, ",") : 0) ? SL_ENOMEM : put_metric(b, &e->metrics[i]);
	return rc ? rc : sl_buf_puts(b, "]");
}

int sl_experiment_spec_json(const struct sl_experiment *e, struct sl_buf *b)
{
	int rc = sl_buf_puts(b, "{\"key\":");
	if (!rc)
		rc = sl_buf_json_str(b, e->key, strlen(e->key));
	if (!rc)
		rc = sl__json_str_field(b, "model", e->model, SIZE_MAX);
	if (!rc)
		rc = sl_buf_printf(b, ",\"unit\":\"%s\",\"hash_version\":%d", sl_exp_unit_name(e->unit), e->hash_version);
	if (!rc)
		rc = sl__json_str_field(b, "seed", e->seed, SIZE_MAX);
	if (!rc)
		rc = sl__json_num_field(b, "coverage", e->coverage);
	if (!rc && e->has_namespace) {
		rc = sl_buf_puts(b, ",\"namespace\":{\"id\":");
		rc = rc ? rc : sl_buf_json_str(b, e->ns_id, strlen(e->ns_id));
		rc = rc ? rc : sl_buf_puts(b, ",\"range\":");
		rc = rc ? rc : put_pair(b, e->ns_lo, e->ns_hi);
		rc = rc ? rc : sl_buf_puts(b, "}");
	}
	if (!rc)
		rc = put_time(b, "start", e->start);
	if (!rc)
		rc = put_time(b, "stop", e->stop);
	if (!rc)
		rc = sl_buf_printf(b, ",\"max_units\":%llu", (unsigned long long)e->max_units);
	if (!rc)
		rc = put_lists(b, e);
	if (!rc)
		rc = put_analysis(b, &e->analysis);
	return rc ? rc : sl_buf_puts(b, "}");
}
