/* spec.c: a rollout's parameters: defaults and validation.
 * Invariants: a spec that passed sl_rollout_spec_validate has 1..16 strictly increasing steps
 * ending at 100, consistent limits and scores, and at most 16 checks with unique, well-formed
 * names; every function of the module that takes a spec assumes it was validated. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "rollout-int.h"

void sl_metric_check_defaults(struct sl_metric_check *c, const char *name, enum sl_metric_kind kind)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->name, sizeof(c->name), "%s", name);
	c->kind = kind;
	c->direction = SL_DIR_INCREASE_BAD;
	c->tolerance = kind == SL_METRIC_VALUE ? 0.1 : 0.01;
	c->weight = 1;
}

static void add_check(struct sl_rollout_spec *s, const char *name, enum sl_metric_kind kind, enum sl_direction dir,
                      double tolerance, bool critical, bool dry_run)
{
	struct sl_metric_check *c = &s->checks[s->nchecks++];
	sl_metric_check_defaults(c, name, kind);
	c->direction = dir;
	c->tolerance = tolerance;
	c->critical = critical;
	c->dry_run = dry_run;
}

static void default_checks(struct sl_rollout_spec *s)
{
	s->nchecks = 0;
	add_check(s, "latency", SL_METRIC_VALUE, SL_DIR_INCREASE_BAD, 0.05, true, false);
	add_check(s, "ttft", SL_METRIC_VALUE, SL_DIR_INCREASE_BAD, 0.1, false, false);
	add_check(s, "output_tokens", SL_METRIC_VALUE, SL_DIR_EITHER, 0.1, false, true);
	add_check(s, "cost", SL_METRIC_VALUE, SL_DIR_INCREASE_BAD, 0.1, false, false);
	add_check(s, "error_rate", SL_METRIC_RATE, SL_DIR_INCREASE_BAD, 0, true, false);
	add_check(s, "negative_feedback_rate", SL_METRIC_RATE, SL_DIR_INCREASE_BAD, 0.02, false, false);
	add_check(s, "score", SL_METRIC_VALUE, SL_DIR_DECREASE_BAD, 0.1, false, false);
}

void sl_rollout_spec_defaults(struct sl_rollout_spec *s)
{
	static const double percents[] = {1, 5, 25, 50, 100};
	memset(s, 0, sizeof(*s));
	s->nsteps = sizeof(percents) / sizeof(percents[0]);
	for (unsigned i = 0; i < s->nsteps; i++)
		s->steps[i].percent = percents[i];
	s->interval_ms = 120000;
	s->min_requests = 100;
	s->progress_deadline_ms = 0;
	s->max_failures = 3;
	s->max_consecutive_failures = 2;
	s->pass_score = 95;
	s->marginal_score = 75;
	s->alpha = 0.05;
	default_checks(s);
}

unsigned sl_rollout_spec_stages(const struct sl_rollout_spec *s)
{
	unsigned n = (s->shadow_share > 0) + (s->nsteps > 1 ? s->nsteps - 1 : 0);
	return n < 1 ? 1 : n > SL_WINDOW_MAX_STRATA ? SL_WINDOW_MAX_STRATA : n;
}

uint64_t sl_rollout_spec_deadline_ms(const struct sl_rollout_spec *s)
{
	if (s->progress_deadline_ms)
		return s->progress_deadline_ms;
	return s->interval_ms > UINT64_MAX / 10 ? UINT64_MAX : 10 * s->interval_ms;
}

int sl_rollout_spec_find(const struct sl_rollout_spec *s, const char *name)
{
	for (unsigned i = 0; i < s->nchecks; i++)
		if (strcmp(s->checks[i].name, name) == 0)
			return (int)i;
	return -1;
}

unsigned sl__counted_checks(const struct sl_rollout_spec *s)
{
	unsigned n = 0;
	for (unsigned i = 0; i < s->nchecks && i < SL_ROLLOUT_MAX_CHECKS; i++)
		n += !s->checks[i].dry_run;
	return n;
}

static int validate_steps(const struct sl_rollout_spec *s, char *err, size_t errlen)
{
	if (s->nsteps < 1 || s->nsteps > SL_ROLLOUT_MAX_STEPS)
		return sl__rerr(err, errlen, "steps: must have 1 to %d entries", SL_ROLLOUT_MAX_STEPS);
	for (unsigned i = 0; i < s->nsteps; i++) {
		double p = s->steps[i].percent;
		if (!(p > 0 && p <= 100))
			return sl__rerr(err, errlen, "steps[%u].percent: must be in (0, 100]", i);
		if (i > 0 && !(p > s->steps[i - 1].percent))
			return sl__rerr(err, errlen, "steps[%u].percent: must be larger than %g", i,
			                s->steps[i - 1].percent);
	}
	if (s->steps[s->nsteps - 1].percent != 100)
		return sl__rerr(err, errlen, "steps[%u].percent: the last step must be 100", s->nsteps - 1);
	return 0;
}

static int validate_timing(const struct sl_rollout_spec *s, char *err, size_t errlen)
{
	if (!(s->shadow_share >= 0 && s->shadow_share <= 1))
		return sl__rerr(err, errlen, "shadow_share: must be in [0, 1]");
	if (s->interval_ms < 1 || s->interval_ms > 7 * 86400000ull)
		return sl__rerr(err, errlen, "interval_ms: must be in [1, 604800000]");
	if (s->min_requests < 1 || s->min_requests > 1000000000ull)
		return sl__rerr(err, errlen, "min_requests: must be in [1, 1000000000]");
	if (s->progress_deadline_ms && s->progress_deadline_ms < s->interval_ms)
		return sl__rerr(err, errlen,
		                "progress_deadline_ms: must be 0 (10 x interval_ms) or at least interval_ms");
	if (s->progress_deadline_ms > 70 * 86400000ull)
		return sl__rerr(err, errlen, "progress_deadline_ms: must be at most 6048000000 (70 days)");
	return 0;
}

static int validate_limits(const struct sl_rollout_spec *s, char *err, size_t errlen)
{
	if (s->max_failures < 1 || s->max_failures > 1000)
		return sl__rerr(err, errlen, "max_failures: must be in [1, 1000]");
	if (s->max_consecutive_failures < 1 || s->max_consecutive_failures > s->max_failures)
		return sl__rerr(err, errlen, "max_consecutive_failures: must be in [1, max_failures]");
	if (!(s->pass_score >= 0 && s->pass_score <= 100))
		return sl__rerr(err, errlen, "pass_score: must be in [0, 100]");
	if (!(s->marginal_score >= 0 && s->marginal_score <= s->pass_score))
		return sl__rerr(err, errlen, "marginal_score: must be in [0, pass_score]");
	if (!(s->alpha > 0 && s->alpha <= 0.5))
		return sl__rerr(err, errlen, "alpha: must be in (0, 0.5]");
	return 0;
}

static bool name_ok(const char *n)
{
	size_t len = strnlen(n, SL_METRIC_NAME_MAX);
	if (len == 0 || len == SL_METRIC_NAME_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = n[i];
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
		          c == '.' || c == ':' || c == '-';
		if (!ok)
			return false;
	}
	return true;
}

static int validate_check(const struct sl_rollout_spec *s, unsigned i, char *err, size_t errlen)
{
	const struct sl_metric_check *c = &s->checks[i];
	if (!name_ok(c->name))
		return sl__rerr(err, errlen, "checks[%u].name: must be 1 to %d characters of [A-Za-z0-9_.:-]", i,
		                SL_METRIC_NAME_MAX - 1);
	for (unsigned j = 0; j < i; j++)
		if (strcmp(s->checks[j].name, c->name) == 0)
			return sl__rerr(err, errlen, "checks[%u].name: '%s' is already checks[%u]", i, c->name, j);
	if ((unsigned)c->kind > SL_METRIC_RATE)
		return sl__rerr(err, errlen, "checks[%u].kind: must be value or rate", i);
	int b = sl_builtin_metric_find(c->name);
	if (b >= 0 && sl_builtin_metric_kind((enum sl_builtin_metric)b) != c->kind)
		return sl__rerr(err, errlen, "checks[%u].kind: '%s' is measured by the gateway as a %s", i, c->name,
		                sl_metric_kind_name(sl_builtin_metric_kind((enum sl_builtin_metric)b)));
	if ((unsigned)c->direction > SL_DIR_EITHER)
		return sl__rerr(err, errlen, "checks[%u].direction: must be increase_bad, decrease_bad or either", i);
	double max = c->kind == SL_METRIC_VALUE ? 100 : 1;
	if (!(c->tolerance >= 0 && c->tolerance <= max))
		return sl__rerr(err, errlen, "checks[%u].%s: must be in [0, %g]", i, sl__tolerance_key(c->kind), max);
	if (!(c->weight > 0 && c->weight <= 1e6))
		return sl__rerr(err, errlen, "checks[%u].weight: must be in (0, 1000000]", i);
	return 0;
}

int sl_rollout_spec_validate(const struct sl_rollout_spec *s, char *err, size_t errlen)
{
	int rc;
	if (!s)
		return sl__rerr(err, errlen, "spec: missing");
	if ((rc = validate_steps(s, err, errlen)) || (rc = validate_timing(s, err, errlen)) ||
	    (rc = validate_limits(s, err, errlen)))
		return rc;
	if (s->nchecks > SL_ROLLOUT_MAX_CHECKS)
		return sl__rerr(err, errlen, "checks: must have at most %d entries", SL_ROLLOUT_MAX_CHECKS);
	for (unsigned i = 0; i < s->nchecks; i++)
		if ((rc = validate_check(s, i, err, errlen)))
			return rc;
	return 0;
}
