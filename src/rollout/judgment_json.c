/* judgment_json.c: a judgment with all its evidence, as JSON (store, admin API) and as a
 * table for people (CLI, demo). Invariants: NaN and infinities are written as JSON null; the
 * checks keep the spec's order; nothing is computed here, only shown. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "rollout-int.h"

static int pair_field(struct sl_buf *b, const char *key, const uint64_t v[2])
{
	return sl_buf_printf(b, ",\"%s\":{\"stable\":%llu,\"candidate\":%llu}", key, (unsigned long long)v[0],
	                     (unsigned long long)v[1]);
}

#define EVIDENCE(m) SL__JFIELD(struct sl_check_result, SL__J_DOUBLE, m, 0, 0)
static const struct sl__jfield evidence[] = {
    EVIDENCE(stable),     EVIDENCE(candidate),  EVIDENCE(effect), EVIDENCE(lo),
    EVIDENCE(hi),         EVIDENCE(abs_effect), EVIDENCE(abs_lo), EVIDENCE(abs_hi),
    EVIDENCE(confidence), EVIDENCE(pvalue),     EVIDENCE(alpha),  EVIDENCE(tolerance),
};

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
		rc = sl_buf_printf(b, ",\"strata\":%u", c->strata);
	if (!rc)
		rc = sl__json_num_field(b, "weight", c->weight);
	if (!rc)
		rc = pair_field(b, "n", c->n);
	if (!rc)
		rc = pair_field(b, "seen", c->seen);
	if (!rc && c->kind == SL_METRIC_RATE)
		rc = pair_field(b, "events", c->events);
	return rc;
}

static int check_to_json(const void *p, struct sl_buf *b)
{
	const struct sl_check_result *c = p;
	int rc = check_head(c, b);
	if (!rc)
		rc = sl__json_put_fields(b, evidence, sizeof(evidence) / sizeof(evidence[0]), c);
	if (!rc)
		rc = sl__json_str_field(b, "reason", c->reason, sizeof(c->reason));
	return rc ? rc : sl_buf_puts(b, "}");
}

static int judgment_head(const struct sl_judgment *j, struct sl_buf *b)
{
	int rc = sl_buf_printf(b, "{\"index\":%u,\"look\":%u,\"outcome\":\"%s\"", j->index, j->index + 1,
	                       sl_outcome_name(j->outcome));
	if (!rc)
		rc = sl__json_num_field(b, "score", j->score);
	if (!rc)
		rc = j->decided_by >= 0
		         ? sl__json_str_field(b, "decided_by", j->checks[j->decided_by].name, SL_METRIC_NAME_MAX)
		         : sl_buf_puts(b, ",\"decided_by\":null");
	if (!rc)
		rc = sl__json_num_field(b, "alpha_look", j->alpha_look);
	if (!rc)
		rc = sl__json_num_field(b, "alpha_check", j->alpha_check);
	if (!rc)
		rc = pair_field(b, "requests", j->requests);
	if (!rc)
		rc = sl__json_str_field(b, "reason", j->reason, sizeof(j->reason));
	return rc;
}

int sl_judgment_to_json(const struct sl_judgment *j, struct sl_buf *b)
{
	unsigned n = j->nchecks < SL_ROLLOUT_MAX_CHECKS ? j->nchecks : SL_ROLLOUT_MAX_CHECKS;
	int rc = judgment_head(j, b);
	if (!rc)
		rc = sl_buf_puts(b, ",\"checks\":");
	if (!rc)
		rc = sl__json_array(b, j->checks, sizeof(j->checks[0]), n, check_to_json);
	return rc ? rc : sl_buf_puts(b, "}");
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
