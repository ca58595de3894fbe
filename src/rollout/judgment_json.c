/* judgment_json.c: a judgment with all its evidence, as JSON (store, admin API) and as a
 * table for people (CLI, demo). Invariants: NaN and infinities are written as JSON null; the
 * checks keep the spec's order; nothing is computed here, only shown. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "rollout-int.h"

static int num_field(struct sl_buf *b, const char *key, double v)
{
	int rc = sl__json_key(b, key, false);
	return rc ? rc : sl__json_num(b, v);
}

static int pair_field(struct sl_buf *b, const char *key, const uint64_t v[2])
{
	return sl_buf_printf(b, ",\"%s\":{\"stable\":%llu,\"candidate\":%llu}", key, (unsigned long long)v[0],
	                     (unsigned long long)v[1]);
}

static int check_head(const struct sl_check_result *c, struct sl_buf *b)
{
	int rc = sl_buf_puts(b, "{\"name\":");
	if (!rc)
		rc = sl_buf_json_str(b, c->name, strnlen(c->name, sizeof(c->name)));
	if (!rc)
		rc = sl_buf_printf(b, ",\"kind\":\"%s\",\"direction\":\"%s\",\"critical\":%s,\"dry_run\":%s",
		                   sl_metric_kind_name(c->kind), sl_direction_name(c->direction),
		                   c->critical ? "true" : "false", c->dry_run ? "true" : "false");
	if (!rc)
		rc = sl_buf_printf(b, ",\"verdict\":\"%s\",\"test\":\"%s\"", sl_verdict_name(c->verdict),
		                   sl_test_kind_name(c->test));
	if (!rc)
		rc = num_field(b, "weight", c->weight);
	if (!rc)
		rc = pair_field(b, "n", c->n);
	if (!rc)
		rc = pair_field(b, "seen", c->seen);
	if (!rc && c->kind == SL_METRIC_RATE)
		rc = pair_field(b, "events", c->events);
	return rc;
}

static int check_to_json(const struct sl_check_result *c, struct sl_buf *b)
{
	const char *keys[] = {"stable", "candidate", "effect",     "lo",     "hi",    "abs_effect",
	                      "abs_lo", "abs_hi",    "confidence", "pvalue", "alpha", "tolerance"};
	const double vals[] = {c->stable, c->candidate, c->effect,     c->lo,     c->hi,    c->abs_effect,
	                       c->abs_lo, c->abs_hi,    c->confidence, c->pvalue, c->alpha, c->tolerance};
	int rc = check_head(c, b);
	for (size_t i = 0; !rc && i < sizeof(vals) / sizeof(vals[0]); i++)
		rc = num_field(b, keys[i], vals[i]);
	if (!rc)
		rc = sl_buf_puts(b, ",\"reason\":");
	if (!rc)
		rc = sl_buf_json_str(b, c->reason, strnlen(c->reason, sizeof(c->reason)));
	return rc ? rc : sl_buf_puts(b, "}");
}

static int judgment_head(const struct sl_judgment *j, struct sl_buf *b)
{
	int rc = sl_buf_printf(b, "{\"index\":%u,\"look\":%u,\"outcome\":\"%s\"", j->index, j->index + 1,
	                       sl_outcome_name(j->outcome));
	if (!rc)
		rc = num_field(b, "score", j->score);
	if (!rc)
		rc = sl__json_key(b, "decided_by", false);
	if (!rc)
		rc = j->decided_by >= 0 ? sl_buf_json_str(b, j->checks[j->decided_by].name,
		                                          strnlen(j->checks[j->decided_by].name, SL_METRIC_NAME_MAX))
		                        : sl_buf_puts(b, "null");
	if (!rc)
		rc = num_field(b, "alpha_look", j->alpha_look);
	if (!rc)
		rc = num_field(b, "alpha_check", j->alpha_check);
	if (!rc)
		rc = pair_field(b, "requests", j->requests);
	if (!rc)
		rc = sl_buf_puts(b, ",\"reason\":");
	if (!rc)
		rc = sl_buf_json_str(b, j->reason, strnlen(j->reason, sizeof(j->reason)));
	return rc;
}

int sl_judgment_to_json(const struct sl_judgment *j, struct sl_buf *b)
{
	int rc = judgment_head(j, b);
	if (!rc)
		rc = sl_buf_puts(b, ",\"checks\":[");
	for (unsigned i = 0; !rc && i < j->nchecks && i < SL_ROLLOUT_MAX_CHECKS; i++) {
		if (i)
			rc = sl_buf_puts(b, ",");
		if (!rc)
			rc = check_to_json(&j->checks[i], b);
	}
	return rc ? rc : sl_buf_puts(b, "]}");
}

/* ---- text ---- */

static const char *flags_of(const struct sl_check_result *c)
{
	return c->dry_run ? "dry-run" : c->critical ? "critical" : "";
}

static int check_line(const struct sl_check_result *c, struct sl_buf *b)
{
	return sl_buf_printf(b, "  %-22s %-8s %-12s n %llu/%llu  p %-9.2g %s\n", c->name, flags_of(c),
	                     sl_verdict_name(c->verdict), (unsigned long long)c->n[SL_CANDIDATE],
	                     (unsigned long long)c->n[SL_STABLE], c->pvalue, c->reason);
}

int sl_judgment_to_text(const struct sl_judgment *j, struct sl_buf *b)
{
	int rc = sl_buf_printf(b, "judgment %u: candidate %llu / stable %llu requests, alpha %.3g per check\n",
	                       j->index + 1, (unsigned long long)j->requests[SL_CANDIDATE],
	                       (unsigned long long)j->requests[SL_STABLE], j->alpha_check);
	for (unsigned i = 0; !rc && i < j->nchecks && i < SL_ROLLOUT_MAX_CHECKS; i++)
		rc = check_line(&j->checks[i], b);
	if (!rc)
		rc = sl_buf_printf(b, "  => %s, score %.1f: %s\n", sl_outcome_name(j->outcome), j->score, j->reason);
	return rc;
}
