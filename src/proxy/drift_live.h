/* drift_live.h: live drift monitoring in the gateway (loop thread only): one monitor per model
 * version (at most 64), fed by finished requests and feedback; reports go to /metrics, the admin
 * API, the store and webhooks, and can trigger a retraining pipeline. */
#ifndef SLUICE_DRIFT_LIVE_H
#define SLUICE_DRIFT_LIVE_H

#include "sluice/config.h"
#include "sluice/features.h"
#include "sluice/metrics.h"

void sl_drift_live_init(const struct sl_config *cfg);
void sl_drift_live_shutdown(void);
/* A routed request finished: f holds its prompt features (answer features are filled here). */
void sl_drift_live_observe(const struct sl_event *ev, struct sl_features *f);
/* Feedback for a version: label 1 thumbs_down, 0 thumbs_up. */
void sl_drift_live_feedback(const char *model, const char *version, int label);
int sl_drift_live_metrics(struct sl_buf *out);
/* GET /api/v1/drift */
int sl_drift_live_api(struct sl_buf *out);

#endif
