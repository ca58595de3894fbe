/* proxy.h: the gateway process's shared state (one event loop thread owns all of it) and the
 * entry points between its files. Nothing here is touched by another thread. */
#ifndef SLUICE_PROXY_H
#define SLUICE_PROXY_H

#define H2O_USE_LIBUV 0
#include <h2o.h>
#include <h2o/http1client.h>
#include <stdio.h>

#include "sluice/config.h"
#include "sluice/core.h"
#include "sluice/metrics.h"
#include "sluice/route.h"

struct sl_guard_rt;

/* A loaded configuration, shared by every route table built from it (rollouts rebuild tables
 * without reloading the file); freed with its last table. */
struct sl_config_ref {
	struct sl_config *cfg;
	struct sl_guard_rt *guard; /* NULL when no model has a guard */
	long refs;
};

/* A route table plus the number of requests still holding it; freed when it is neither
 * current nor held. */
struct sl_routes_ref {
	struct sl_route_table *table;
	struct sl_config *config; /* == cref->cfg */
	struct sl_config_ref *cref;
	long holders;
};

/* One connection pool per upstream host:port, created on first use, kept for the process's life. */
struct sl_upstream_pool {
	char key[300]; /* "host:port" */
	h2o_socketpool_t pool;
	struct sl_upstream_pool *next;
};

struct sl_server {
	h2o_evloop_t *loop;
	h2o_globalconf_t data_conf, admin_conf;
	h2o_context_t data_ctx, admin_ctx;
	h2o_accept_ctx_t data_accept, admin_accept;
	h2o_socket_t *data_listener, *admin_listener, *signals;
	h2o_http1client_ctx_t client_ctx;
	h2o_timeout_t io_timeout, connect_timeout, flush_timeout, tick_timeout;
	h2o_timeout_entry_t flush_entry, tick_entry;

	struct sl_routes_ref *current;
	unsigned long generation;
	struct sl_upstream_pool *pools;
	struct sl_metrics *metrics;
	struct json_tokener *tok;
	struct sl_rng rng;
	FILE *access_log; /* NULL when off */
	long inflight;
	int draining;     /* SIGTERM received: listeners closed, waiting for in-flight requests */
	int stop;
	uint64_t drain_deadline_ns;
	const char *config_path;
	const char *admin_token; /* from admin_token_env at start; NULL: no token asked */
};

extern struct sl_server sl_server;

/* handler.c */
int sl_proxy_register(h2o_hostconf_t *host);
/* upstream.c */
h2o_socketpool_t *sl_upstream_pool_get(struct sl_server *s, const struct sl_url *url);
void sl_upstream_pools_free(struct sl_server *s);
/* admin.c */
int sl_admin_register(h2o_hostconf_t *host);
/* table refs (serve.c) */
struct sl_routes_ref *sl_routes_hold(void);
void sl_routes_release(struct sl_routes_ref *ref);
/* Builds and publishes a route table from the current configuration and the rollouts'
 * overrides (after a rollout changed a share). */
void sl_server_republish(void);
/* Records a finished request: metrics and access log. */
void sl_server_record(const struct sl_event *ev);
/* handler.c: the request head for an upstream (hop-by-hop headers dropped, key replaced). */
struct sl_oai_request;
int sl_upstream_head(h2o_req_t *req, const struct sl_route_version *v, const struct sl_url *url, size_t body_len,
		     const char *request_id, struct sl_buf *head);
/* mirror.c: sends a copy of the request to the model's shadow version; the answer is measured
 * for the rollout's judge and discarded. The body is rewritten for the shadow version. */
void sl_mirror_start(h2o_req_t *req, const struct sl_route_model *m, struct sl_oai_request *body,
		     const char *request_id);
long sl_mirrors_in_flight(void);
/* rollouts.c: the store (NULL with store: off), for other loop-thread writers. */
struct sl_store *sl_rollouts_store(void);
/* An admin API error: out := an OpenAI-shaped error body (type `server_error` from 500 on), *status
 * := code. */
void sl_api_error(struct sl_buf *out, int *status, int code, const char *type, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
/* Sends a complete response with an OpenAI-shaped error body. */
void sl_send_oai_error(h2o_req_t *req, int status, const char *type, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

#endif
