/* report_json.c: the drift report as one JSON document (shape in docs/DRIFT.md).
 * Invariants: always valid JSON: strings through sl_buf_json_str (invalid UTF-8 becomes
 * U+FFFD), numbers with 17 significant digits, NaN and infinities as null (the drift booleans
 * still carry the verdicts). */
#include <math.h>
#include <stdio.h>

#include "univariate-int.h"

static void num(struct sl_buf *b, const char *key, double v, bool comma)
{
	if (isfinite(v))
		sl_buf_printf(b, "\"%s\":%.17g%s", key, v, comma ? "," : "");
	else
		sl_buf_printf(b, "\"%s\":null%s", key, comma ? "," : "");
}

static void str(struct sl_buf *b, const char *key, const char *s, bool comma)
{
	sl_buf_printf(b, "\"%s\":", key);
	if (s)
		sl_buf_json_str(b, s, strlen(s));
	else
		sl_buf_puts(b, "null");
	if (comma)
		sl_buf_puts(b, ",");
}

static void side(struct sl_buf *b, const char *key, const struct sl_drift_side *s, bool numeric)
{
	sl_buf_printf(b, "\"%s\":{\"count\":%llu,\"missing\":%llu,\"unique\":%llu", key, (unsigned long long)s->count,
	              (unsigned long long)s->missing, (unsigned long long)s->unique);
	if (numeric) {
		sl_buf_puts(b, ",");
		num(b, "mean", s->mean, true);
		num(b, "std", s->std, true);
		num(b, "min", s->min, true);
		num(b, "max", s->max, false);
	}
	sl_buf_puts(b, "}");
}

static void column(struct sl_buf *b, const struct sl_drift_column *c, bool adjusted)
{
	const struct sl_drift_result *r = &c->r;
	sl_buf_puts(b, "{");
	str(b, "name", c->name, true);
	str(b, "type", sl_drift_kind_name(c->kind), true);
	sl_buf_printf(b, "\"tested\":%s,", c->tested ? "true" : "false");
	str(b, "test", c->tested ? sl_drift_test_name(r->test) : NULL, true);
	num(b, "statistic", c->tested ? r->statistic : NAN, true);
	num(b, "p_value", c->tested ? r->pvalue : NAN, true);
	if (adjusted)
		num(b, "p_value_adjusted", c->tested && sl_drift_test_has_pvalue(r->test) ? r->score : NAN, true);
	num(b, "threshold", c->tested ? r->threshold : NAN, true);
	sl_buf_printf(b, "\"drift\":%s,\"hashed\":%s,", c->tested && r->drift ? "true" : "false",
	              c->hashed ? "true" : "false");
	if (c->tested)
		sl_buf_printf(b, "\"n_unique\":%zu,\"bins\":%zu,", r->n_unique, r->bins);
	str(b, "note", c->note, true);
	side(b, "reference", &c->ref, c->kind == SL_DRIFT_NUM);
	sl_buf_puts(b, ",");
	side(b, "current", &c->cur, c->kind == SL_DRIFT_NUM);
	sl_buf_puts(b, "}");
}

int sl_drift_report_json(const struct sl_drift_report *rep, const char *ref_name, const char *cur_name,
                         struct sl_buf *out)
{
	const struct sl_drift_config *cfg = &rep->cfg;
	bool adjusted = cfg->correction != SL_DRIFT_CORR_NONE;
	sl_buf_puts(out, "{\"reference\":{");
	str(out, "file", ref_name, true);
	sl_buf_printf(out, "\"rows\":%llu},\"current\":{", (unsigned long long)rep->ref_rows);
	str(out, "file", cur_name, true);
	sl_buf_printf(out, "\"rows\":%llu},\"options\":{", (unsigned long long)rep->cur_rows);
	str(out, "test", sl_drift_test_name(cfg->opts.test), true);
	num(out, "threshold", cfg->opts.threshold, true);
	str(out, "correction", sl_drift_correction_name(cfg->correction), true);
	num(out, "drift_share", cfg->drift_share, false);
	sl_buf_puts(out, "},\"columns\":[");
	for (size_t i = 0; i < rep->ncols; i++) {
		if (i)
			sl_buf_puts(out, ",");
		column(out, &rep->cols[i], adjusted);
	}
	const struct sl_drift_verdict *v = &rep->verdict;
	sl_buf_printf(out, "],\"dataset\":{\"columns\":%zu,\"tested\":%zu,\"drifted\":%zu,", rep->ncols, v->tested,
	              v->drifted);
	num(out, "share", v->share, true);
	num(out, "drift_share", cfg->drift_share, true);
	return sl_buf_printf(out, "\"drift\":%s}}\n", v->drift ? "true" : "false");
}
