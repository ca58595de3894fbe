/* names.c: the lower-case words for the rollout enums, used in JSON, logs, the API and the CLI,
 * and the names and kinds of the metrics the gateway measures itself.
 * Invariant: each table is indexed by its enum and covers every value; out-of-range values get
 * "unknown", and parsing accepts exactly the words of the table. */
#include <string.h>

#include "rollout-int.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static const char *const state_names[] = {"pending", "shadow",   "canary",      "awaiting_approval",
                                          "paused",  "promoted", "rolled_back", "aborted"};
static const char *const action_names[] = {"none", "pause", "resume", "approve", "promote", "rollback", "abort"};
static const char *const webhook_names[] = {"none", "start_confirmed", "start_refused", "step_ok", "step_failed"};
static const char *const call_names[] = {"none", "confirm_start", "confirm_step"};
static const char *const notify_names[] = {"none", "promoted", "rolled_back", "aborted"};
static const char *const outcome_names[] = {"none", "pass", "fail", "inconclusive", "insufficient_data"};
static const char *const verdict_names[] = {"pass", "fail", "inconclusive", "no_data"};
static const char *const test_names[] = {"none",        "mann_whitney",      "fisher_exact",
                                         "z_test",      "van_elteren",       "mantel_haenszel_z",
                                         "mantel_haenszel_exact"};
static const char *const kind_names[] = {"value", "rate"};
static const char *const direction_names[] = {"increase_bad", "decrease_bad", "either"};
static const char *const tolerance_keys[] = {"tolerance", "allowed_increase"}; /* by metric kind */

static const char *name_of(const char *const *table, size_t n, int v)
{
	return v >= 0 && (size_t)v < n ? table[v] : "unknown";
}

/* Words from table[first..n); first = 1 keeps "none" out of what an operator may type. */
static int parse_in(const char *const *table, size_t first, size_t n, const char *s, int *out)
{
	for (size_t i = first; s && i < n; i++)
		if (strcmp(s, table[i]) == 0) {
			*out = (int)i;
			return 0;
		}
	return SL_EINVAL;
}

#define NAME_FN(fn, type, table)                                                                                       \
	const char *fn(type v)                                                                                         \
	{                                                                                                              \
		return name_of(table, COUNT(table), (int)v);                                                           \
	}
#define PARSE_FN(fn, type, table, first)                                                                               \
	int fn(const char *s, type *out)                                                                               \
	{                                                                                                              \
		int v, rc = parse_in(table, first, COUNT(table), s, &v);                                               \
		if (rc == 0)                                                                                           \
			*out = (type)v;                                                                                \
		return rc;                                                                                             \
	}

NAME_FN(sl_rollout_state_name, enum sl_rollout_state, state_names)
NAME_FN(sl_rollout_action_name, enum sl_rollout_action, action_names)
NAME_FN(sl_webhook_result_name, enum sl_webhook_result, webhook_names)
NAME_FN(sl_rollout_call_name, enum sl_rollout_call, call_names)
NAME_FN(sl_rollout_notify_name, enum sl_rollout_notify, notify_names)
NAME_FN(sl_outcome_name, enum sl_outcome, outcome_names)
NAME_FN(sl_verdict_name, enum sl_verdict, verdict_names)
NAME_FN(sl_test_kind_name, enum sl_test_kind, test_names)
NAME_FN(sl_metric_kind_name, enum sl_metric_kind, kind_names)
NAME_FN(sl_direction_name, enum sl_direction, direction_names)
NAME_FN(sl__tolerance_key, enum sl_metric_kind, tolerance_keys)

PARSE_FN(sl_rollout_state_parse, enum sl_rollout_state, state_names, 0)
PARSE_FN(sl_rollout_action_parse, enum sl_rollout_action, action_names, 1)
PARSE_FN(sl_webhook_result_parse, enum sl_webhook_result, webhook_names, 1)
PARSE_FN(sl_metric_kind_parse, enum sl_metric_kind, kind_names, 0)
PARSE_FN(sl_direction_parse, enum sl_direction, direction_names, 0)

static const struct {
	const char *name;
	enum sl_metric_kind kind;
} builtin[] = {
    {"latency", SL_METRIC_VALUE},
    {"ttft", SL_METRIC_VALUE},
    {"output_tokens", SL_METRIC_VALUE},
    {"cost", SL_METRIC_VALUE},
    {"error_rate", SL_METRIC_RATE},
    {"negative_feedback_rate", SL_METRIC_RATE},
    {"score", SL_METRIC_VALUE},
    {"truncation_rate", SL_METRIC_RATE},
    {"recs_ctr", SL_METRIC_RATE},
    {"recs_negative_rate", SL_METRIC_RATE},
    {"recs_diversity", SL_METRIC_VALUE},
    {"recs_novelty", SL_METRIC_VALUE},
    {"recs_repetition", SL_METRIC_VALUE},
    {"recs_watch_seconds", SL_METRIC_VALUE},
    {"refusal_rate", SL_METRIC_RATE},
    {"safety_flag_rate", SL_METRIC_RATE},
};
_Static_assert(COUNT(builtin) == SL_BM_COUNT, "one row per built-in metric");

const char *sl_builtin_metric_name(enum sl_builtin_metric m)
{
	return (unsigned)m < SL_BM_COUNT ? builtin[m].name : "unknown";
}

enum sl_metric_kind sl_builtin_metric_kind(enum sl_builtin_metric m)
{
	return (unsigned)m < SL_BM_COUNT ? builtin[m].kind : SL_METRIC_VALUE;
}

int sl_builtin_metric_find(const char *name)
{
	for (int i = 0; name && i < SL_BM_COUNT; i++)
		if (strcmp(name, builtin[i].name) == 0)
			return i;
	return -1;
}
