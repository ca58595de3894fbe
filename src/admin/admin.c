/* admin.c: the admin listener: GET /metrics (Prometheus text), GET /healthz, GET /api/v1/routes
 * (the route table in force, as JSON) and POST /api/v1/reload (same as SIGHUP). */
#include <signal.h>
#include <string.h>

#include "proxy/proxy.h"

static void send_buf(h2o_req_t *req, int status, const char *ctype, struct sl_buf *b)
{
	h2o_iovec_t body = h2o_strdup(&req->pool, b->data ? b->data : "", b->len);
	sl_buf_release(b);
	req->res.status = status;
	req->res.reason = status == 200 ? "OK" : "Error";
	h2o_set_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, ctype, strlen(ctype), 0);
	h2o_send_inline(req, body.base, body.len);
}

static int render_routes_prom(struct sl_buf *out, const struct sl_route_table *t)
{
	int rc = sl_buf_puts(out, "# HELP sluice_route_weight Share of new traffic routed to a version (0 to 1).\n"
				  "# TYPE sluice_route_weight gauge\n");
	for (size_t i = 0; !rc && i < t->nmodels; i++)
		for (size_t j = 0; !rc && j < t->models[i].nversions; j++)
			rc = sl_buf_printf(out, "sluice_route_weight{model=\"%s\",version=\"%s\"} %.6g\n",
					   t->models[i].name, t->models[i].versions[j].name,
					   t->models[i].versions[j].weight);
	rc = rc ? rc
		: sl_buf_printf(out, "# HELP sluice_config_generation Configuration generation in force.\n"
				     "# TYPE sluice_config_generation gauge\nsluice_config_generation %lu\n",
				t->generation);
	return rc;
}

static int on_metrics(struct sl_buf *out)
{
	sl_metrics_set_inflight(sl_server.metrics, sl_server.inflight);
	int rc = sl_metrics_render(sl_server.metrics, out);
	return rc ? rc : render_routes_prom(out, sl_server.current->table);
}

static int render_routes_json(struct sl_buf *out, const struct sl_route_table *t)
{
	int rc = sl_buf_printf(out, "{\"generation\":%lu,\"models\":[", t->generation);
	for (size_t i = 0; !rc && i < t->nmodels; i++) {
		const struct sl_route_model *m = &t->models[i];
		rc = sl_buf_puts(out, i ? ",{\"name\":" : "{\"name\":");
		rc = rc ? rc : sl_buf_json_str(out, m->name, strlen(m->name));
		rc = rc ? rc : sl_buf_puts(out, ",\"versions\":[");
		for (size_t j = 0; !rc && j < m->nversions; j++) {
			const struct sl_route_version *v = &m->versions[j];
			rc = sl_buf_puts(out, j ? ",{\"name\":" : "{\"name\":");
			rc = rc ? rc : sl_buf_json_str(out, v->name, strlen(v->name));
			rc = rc ? rc : sl_buf_puts(out, ",\"upstream_model\":");
			rc = rc ? rc : sl_buf_json_str(out, v->upstream_model, strlen(v->upstream_model));
			rc = rc ? rc : sl_buf_printf(out, ",\"weight\":%.6g,\"bucket\":[%.6g,%.6g],\"upstreams\":[",
						     v->weight, v->lo, v->hi);
			for (size_t k = 0; !rc && k < v->nupstreams; k++)
				rc = sl_buf_printf(out, "%s\"http://%s:%u%s\"", k ? "," : "", v->upstreams[k].host,
						   v->upstreams[k].port, v->upstreams[k].base);
			rc = rc ? rc : sl_buf_puts(out, "]}");
		}
		rc = rc ? rc : sl_buf_puts(out, "]}");
	}
	return rc ? rc : sl_buf_puts(out, "]}");
}

static int on_req(h2o_handler_t *self, h2o_req_t *req)
{
	struct sl_buf out;
	bool get = h2o_memis(req->method.base, req->method.len, H2O_STRLIT("GET"));
	bool post = h2o_memis(req->method.base, req->method.len, H2O_STRLIT("POST"));
	size_t n = req->query_at != SIZE_MAX ? req->query_at : req->path.len;
	sl_buf_init(&out, 0);
	if (get && h2o_memis(req->path.base, n, H2O_STRLIT("/metrics"))) {
		if (on_metrics(&out) == 0)
			send_buf(req, 200, "text/plain; version=0.0.4; charset=utf-8", &out);
		else
			sl_send_oai_error(req, 500, "server_error", NULL, "cannot render metrics");
	} else if (get && h2o_memis(req->path.base, n, H2O_STRLIT("/healthz"))) {
		sl_buf_puts(&out, sl_server.draining ? "draining\n" : "ok\n");
		send_buf(req, sl_server.draining ? 503 : 200, "text/plain", &out);
	} else if (get && h2o_memis(req->path.base, n, H2O_STRLIT("/api/v1/routes"))) {
		if (render_routes_json(&out, sl_server.current->table) == 0)
			send_buf(req, 200, "application/json", &out);
		else
			sl_send_oai_error(req, 500, "server_error", NULL, "cannot render routes");
	} else if (post && h2o_memis(req->path.base, n, H2O_STRLIT("/api/v1/reload"))) {
		unsigned long before = sl_server.generation;
		raise(SIGHUP);
		sl_buf_printf(&out, "{\"requested\":true,\"generation_before\":%lu}", before);
		send_buf(req, 202, "application/json", &out);
	} else {
		sl_buf_release(&out);
		sl_send_oai_error(req, 404, "invalid_request_error", "unknown_url",
				  "unknown admin URL: try /metrics, /healthz, /api/v1/routes, POST /api/v1/reload");
	}
	return 0;
}

int sl_admin_register(h2o_hostconf_t *host)
{
	h2o_pathconf_t *path = h2o_config_register_path(host, "/", 0);
	h2o_handler_t *h = h2o_create_handler(path, sizeof(*h));
	if (!h)
		return SL_ENOMEM;
	h->on_req = on_req;
	return 0;
}
