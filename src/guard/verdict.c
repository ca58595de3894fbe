/* verdict.c: a verdict in words (reasons) and as JSON, for logs, the CLI and the admin API.
 * Invariants: the JSON is always valid (rule ids are checked ASCII; numbers finite, 4
 * significant digits); on failure b may hold a partial object (the caller resets it). */
#include <string.h>

#include "guard-int.h"

int sl_guard_reason_format(const struct sl_guard_reason *r, struct sl_buf *b)
{
	if (r->kind == SL_GUARD_REASON_CLASSIFIER)
		return sl_buf_printf(b, "classifier %.2f on segment %u (%s)", r->score, r->segment,
		                     sl_guard_trust_name(r->trust));
	return sl_buf_printf(b, "rule %s [%s %.2g] in %s view of segment %u (%s)", r->rule_id,
	                     sl_guard_category_name(r->category), r->score, sl_guard_view_name(r->view), r->segment,
	                     sl_guard_trust_name(r->trust));
}

static int reason_json(const struct sl_guard_reason *r, struct sl_buf *b)
{
	if (r->kind == SL_GUARD_REASON_CLASSIFIER)
		return sl_buf_printf(b, "{\"kind\":\"classifier\",\"score\":%.4g,\"segment\":%u,\"trust\":\"%s\"}", r->score,
		                     r->segment, sl_guard_trust_name(r->trust));
	int rc = sl_buf_puts(b, "{\"kind\":\"rule\",\"id\":");
	if (!rc)
		rc = sl_buf_json_str(b, r->rule_id, strnlen(r->rule_id, sizeof(r->rule_id)));
	return rc ? rc
	          : sl_buf_printf(b, ",\"category\":\"%s\",\"view\":\"%s\",\"weight\":%.4g,\"segment\":%u,\"trust\":\"%s\"}",
	                          sl_guard_category_name(r->category), sl_guard_view_name(r->view), r->score, r->segment,
	                          sl_guard_trust_name(r->trust));
}

static int categories_json(unsigned mask, struct sl_buf *b)
{
	int rc = sl_buf_puts(b, "\"categories\":[");
	for (unsigned c = 0, first = 1; !rc && c < SL_GUARD_CAT_COUNT_; c++)
		if (mask & (1u << c)) {
			rc = sl_buf_printf(b, "%s\"%s\"", first ? "" : ",", sl_guard_category_name(c));
			first = 0;
		}
	return rc ? rc : sl_buf_puts(b, "]");
}

int sl_guard_verdict_json(const struct sl_guard_verdict *v, struct sl_buf *b)
{
	int rc = sl_buf_printf(b, "{\"score\":%.4g,\"verdict\":\"%s\",\"fired\":%s,\"rule_score\":%.4g,\"model_score\":",
	                       v->score, sl_guard_action_name(v->action), v->fired ? "true" : "false", v->rule_score);
	if (!rc)
		rc = v->model_score < 0 ? sl_buf_puts(b, "null") : sl_buf_printf(b, "%.4g", v->model_score);
	if (!rc && v->segment >= 0)
		rc = sl_buf_printf(b, ",\"segment\":%d,\"trust\":\"%s\",", v->segment, sl_guard_trust_name(v->trust));
	else if (!rc)
		rc = sl_buf_puts(b, ",\"segment\":null,\"trust\":null,");
	if (!rc)
		rc = categories_json(v->categories, b);
	if (!rc)
		rc = sl_buf_puts(b, ",\"reasons\":[");
	for (unsigned i = 0; !rc && i < v->nreasons; i++) {
		if (i)
			rc = sl_buf_puts(b, ",");
		if (!rc)
			rc = reason_json(&v->reasons[i], b);
	}
	return rc ? rc : sl_buf_printf(b, "],\"more_reasons\":%u}", v->more_reasons);
}
