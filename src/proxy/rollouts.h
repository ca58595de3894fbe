/* rollouts.h: the gateway side of automated canaries (loop thread only). It owns the active
 * rollouts, feeds their judge windows from finished requests and feedback, ticks their state
 * machines, publishes route overrides, records everything in the store, and calls webhooks on
 * the worker thread. The pure state machine and judge live in src/rollout. */
#ifndef SLUICE_ROLLOUTS_H
#define SLUICE_ROLLOUTS_H

#include "sluice/config.h"
#include "sluice/core.h"
#include "sluice/metrics.h"
#include "sluice/recs.h"
#include "sluice/route.h"

/* Opens the store (unless "off") and resumes active rollouts and overrides. */
int sl_rollouts_init(const struct sl_config *cfg, char *err, size_t errlen);
void sl_rollouts_shutdown(void);
/* Fills out[cap] with the overrides in force; returns how many. Strings are valid until the
 * next call into this module. */
size_t sl_rollouts_overrides(struct sl_route_override *out, size_t cap);
/* A finished request (or a shadow copy, which always counts for the candidate). */
void sl_rollouts_observe(const struct sl_event *ev, bool shadow);
/* Feedback joined to a request's version: label 1 thumbs_down, 0 thumbs_up, -1 none; score NaN
 * when none; metric NULL for "score". */
void sl_rollouts_feedback(const char *model, const char *version, int label, double score, const char *metric,
			  const char *request_id);
/* What a recommendation slate or interaction contributed: fed to the rollout (of model, or of any
 * model when NULL) whose stable or candidate is the observation's version, as the recs_* checks.
 * A slate's click-through counts for its own version when the user's next slate arrives. */
void sl_rollouts_recs(const char *model, const struct sl_recs_obs *o);
/* Advances every rollout's clock; called every 250 ms. */
void sl_rollouts_tick(void);

/* Admin API (JSON in, JSON out): each sets *status to the HTTP status to answer. */
void sl_rollouts_api_start(const char *body, size_t len, struct sl_buf *out, int *status);
void sl_rollouts_api_action(const char *ref, const char *action, struct sl_buf *out, int *status);
void sl_rollouts_api_get(const char *ref, struct sl_buf *out, int *status);
void sl_rollouts_api_list(const char *model, int limit, struct sl_buf *out, int *status);
void sl_rollouts_api_status(struct sl_buf *out, int *status);
/* Prometheus lines for rollout state, weights and checks. */
int sl_rollouts_metrics(struct sl_buf *out);

#endif
