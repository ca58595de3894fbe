/* drift_live.h: live drift monitoring in the gateway (loop thread only): one monitor per model
 * version (at most 64), fed by finished requests and feedback; reports go to /metrics, the admin
 * API, the store and webhooks, and can trigger a retraining pipeline. */
#ifndef SLUICE_DRIFT_LIVE_H
#define SLUICE_DRIFT_LIVE_H

#include "sluice/config.h"
#include "sluice/features.h"
#include "sluice/metrics.h"
#include "sluice/recs.h"

void sl_drift_live_init(const struct sl_config *cfg);
void sl_drift_live_shutdown(void);
/* A routed request finished: f holds its prompt features (answer features are filled here). */
void sl_drift_live_observe(const struct sl_event *ev, struct sl_features *f);
/* Feedback for a version: label 1 thumbs_down, 0 thumbs_up. */
void sl_drift_live_feedback(const char *model, const char *version, int label);
/* What a recommendation slate or interaction contributed (docs/RECS.md): the slate features and
 * the recs_ctr / recs_negative_rate signals of the monitor of model's version (the first monitor
 * of that version when model is NULL; none is created without a model). */
void sl_drift_live_recs(const char *model, const struct sl_recs_obs *o);
/* A recommendation window of version closed: the recs_* retraining thresholds are checked. */
void sl_drift_live_recs_window(const char *model, const char *version, const struct sl_recs_monitor *m);
int sl_drift_live_metrics(struct sl_buf *out);
/* GET /api/v1/drift */
int sl_drift_live_api(struct sl_buf *out);
/* PUT /api/v1/drift/{model}/{version}/reference: body is CSV or JSON Lines of the monitor's
 * features (sl_monitor_reference_parse); it is stored, then replaces that version's reference.
 * Returns the HTTP status: 200 with out the JSON answer, else msg the reason (400 bad upload,
 * 409 monitoring disabled or no monitor slot, 413 over SL_DRIFT_LIVE_REF_MAX, 500 store). A
 * refused upload changes nothing. */
#define SL_DRIFT_LIVE_REF_MAX (1u << 20) /* the admin listener's request limit */
int sl_drift_live_reference_put(const char *model, const char *version, const char *body, size_t len,
				struct sl_buf *out, struct sl_buf *msg);
/* DELETE of the same URL: forgets the upload; the next reference_size requests form the reference. */
int sl_drift_live_reference_delete(const char *model, const char *version, struct sl_buf *out, struct sl_buf *msg);

#endif
