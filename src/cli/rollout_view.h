/* rollout_view.h: the human views of the admin API's answers about rollouts and models:
 * the rollout list, one rollout with its evidence and events, the one-line summary after an
 * action, and `sluice status`. rollout_view.c draws rollouts, status_view.c the models,
 * judgment_view.c a judgment's evidence. Everything prints to stdout; nothing here talks to the network.
 * Invariants: a missing or mistyped field prints as "-" rather than failing, so a newer or
 * older gateway still gets a readable view; the return is 0 or SL_ENOMEM (or SL_EPARSE when
 * the answer lacks its main list or object). */
#ifndef SLUICE_CLI_ROLLOUT_VIEW_H
#define SLUICE_CLI_ROLLOUT_VIEW_H

#include <stdbool.h>

#include "cli/table.h"

struct json_object;

/* GET /api/v1/rollouts: {"rollouts":[R...]} as a table. */
int sl_view_rollout_list(struct json_object *doc, bool color);
/* GET /api/v1/rollouts/{id}: the rollout, its latest judgment, score, outcome and events. */
int sl_view_rollout_detail(struct json_object *r, bool color);
/* After start or an action: "rollout 3 (chat: v1 → v2) VERB STATE: REASON". */
int sl_view_rollout_brief(struct json_object *r, const char *verb, bool color);
/* GET /api/v1/status: models, versions, weights, rollouts and verdicts. */
int sl_view_status(struct json_object *doc, bool color);

/* judgment_view.c: J (sl_judgment_to_json) as an evidence table, then the score against the
 * spec's thresholds (spec may be NULL) and the outcome. indent prefixes every line. */
int sl_view_judgment(struct json_object *j, struct json_object *spec, const char *indent, bool color);
/* One word of a verdict or outcome, coloured: pass green, fail red, the rest yellow. */
enum sl_tcolor sl_view_verdict_color(const char *word);
/* rollout_view.c, shared with status_view.c. */
/* A rollout's state word, coloured: promoted green, rolled_back and aborted red. */
enum sl_tcolor sl_view_state_color(const char *state);
bool sl_view_terminal(const char *state);
/* What follows the state word: ", step 2/5, candidate 5%" (spec, for the step count, may be
 * NULL); "" when nothing does. */
const char *sl_view_rollout_where(char *dst, size_t cap, struct json_object *r, struct json_object *spec);
/* The rollout's id as text ("3"), or "?". */
const char *sl_view_id(char *dst, size_t cap, struct json_object *r);
/* Epoch seconds of a timestamp field (milliseconds are recognised and converted); NAN if none. */
double sl_view_epoch(struct json_object *o, const char *key);
/* "fail: latency, error_rate" or "pass, score 100" for a J; "-" for none. */
const char *sl_view_verdict_line(char *dst, size_t cap, struct json_object *j);
/* The names of a judgment's counted checks that failed, comma separated ("latency, ttft"). */
void sl_view_failed_checks(char *dst, size_t cap, struct json_object *j);

#endif
