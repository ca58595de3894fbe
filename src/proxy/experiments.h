/* experiments.h: A/B experiments and recommendation monitoring in the running gateway (loop
 * thread only). It owns the experiments in force (from the configuration and the admin API),
 * one aggregator per experiment, the recommendation monitor, and a bounded map from recent
 * request ids to (experiment, variant, unit) that joins business events posted later.
 * The pure parts (spec, assignment, aggregation, analysis, slate metrics) are src/experiment.
 *
 * Lifetimes: the names an sl_exp_pick points at are interned for the process's life (at most
 * SL_EXPGW_MAX_NAMES experiment and variant keys; past that a request is routed as if it were in
 * no experiment), so a pick stays valid across reloads and experiments that end. Everything
 * else is owned here and freed by sl_experiments_shutdown. Docs: docs/EXPERIMENTS.md, "In the running gateway". */
#ifndef SLUICE_PROXY_EXPERIMENTS_H
#define SLUICE_PROXY_EXPERIMENTS_H

#define H2O_USE_LIBUV 0
#include <h2o.h>
#include <stdbool.h>

#include "sluice/config.h"
#include "sluice/core.h"
#include "sluice/experiment.h"
#include "sluice/metrics.h"
#include "sluice/route.h"

#define SL_EXPGW_MAX_NAMES 4096

struct json_object;

/* What routing decided for one request; embed it in the request's state (zeroed = none). */
struct sl_exp_pick {
	const char *exp_key;               /* interned; NULL when the request is in no experiment */
	const char *variant_key;           /* interned */
	char unit[SL_EXP_UNIT_ID_MAX + 1]; /* the unit id the experiment uses (user, session or request id) */
};

/* The configuration's experiments ({"experiments": [...]} in cfg->experiments_json_), then the
 * store's (API-declared ones and stops). 0, or an SL_E* code with err saying why. */
int sl_experiments_init(const struct sl_config *cfg, char *err, size_t errlen);
/* A reloaded configuration: an experiment whose key survives with the same spec keeps its data;
 * a changed or new one starts empty; API-declared ones stay (the configuration wins a key). */
void sl_experiments_reload(const struct sl_config *cfg);
void sl_experiments_shutdown(void);

/* Called after the model is found and before the version is picked. user: the sticky key;
 * session: the x-sluice-session header; request_id: the gateway's id of this request. When a
 * running experiment on m takes the unit, fills pick, applies the variant's params and system
 * prompt to root (the parsed body) and returns the variant's version, or NULL to let the route
 * decide (also when no experiment takes the request: then pick->exp_key is NULL). */
struct sl_route_version *sl_experiments_route(const struct sl_route_model *m, struct sl_slice user,
                                              struct sl_slice session, struct sl_slice request_id,
                                              struct json_object *root, struct sl_exp_pick *pick);
/* A finished request that routing put in an experiment (no-op when pick->exp_key is NULL). */
void sl_experiments_observe(const struct sl_event *ev, const struct sl_exp_pick *pick);

/* Data plane: POST /v1/events and POST /v1/recs; each answers req itself. */
void sl_experiments_events_post(h2o_req_t *req);
void sl_experiments_recs_post(h2o_req_t *req);

/* Admin API (JSON out; *status is the HTTP status to answer). */
void sl_experiments_api_list(struct sl_buf *out, int *status);
void sl_experiments_api_get(const char *key, struct sl_buf *out, int *status);
void sl_experiments_api_stop(const char *key, struct sl_buf *out, int *status);
void sl_experiments_api_create(const char *body, size_t len, struct sl_buf *out, int *status);
void sl_experiments_api_recs(struct sl_buf *out, int *status);
/* Prometheus lines: sluice_experiment_* and sluice_recs_*. */
int sl_experiments_render_prom(struct sl_buf *out);

#endif
