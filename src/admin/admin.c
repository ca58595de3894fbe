/* admin.c: the admin listener: GET /metrics (Prometheus text), GET /healthz, GET /api/v1/routes
 * (the route table in force, as JSON) and POST /api/v1/reload (same as SIGHUP). */
#include <ctype.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "proxy/proxy.h"
#include "proxy/drift_live.h"
#include "proxy/experiments.h"
#include "proxy/reqmap.h"
#include "proxy/rollouts.h"

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
	rc = rc ? rc : render_routes_prom(out, sl_server.current->table);
	rc = rc ? rc : sl_reqmap_metrics(out);
	rc = rc ? rc : sl_drift_live_metrics(out);
	rc = rc ? rc : sl_experiments_render_prom(out);
	return rc ? rc : sl_rollouts_metrics(out);
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

/* Percent-decodes src[0..n) into dst[cap] (NUL-terminated); -1 on a bad escape, a NUL or no room. */
static long url_decode(const char *src, size_t n, char *dst, size_t cap)
{
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		int c = (unsigned char)src[i];
		if (c == '%') {
			unsigned v;
			if (i + 2 >= n || sscanf(src + i + 1, "%2x", &v) != 1 || !isxdigit((unsigned char)src[i + 1]) ||
			    !isxdigit((unsigned char)src[i + 2]))
				return -1;
			c = (int)v;
			i += 2;
		} else if (c == '+') {
			c = ' ';
		}
		if (c == 0 || o + 1 >= cap)
			return -1;
		dst[o++] = (char)c;
	}
	dst[o] = '\0';
	return (long)o;
}

/* Copies the path segment after prefix (up to the next '/' or the query) into seg; returns the
 * rest of the path after it, or NULL when the path does not start with prefix. */
static const char *segment(h2o_req_t *req, const char *prefix, char *seg, size_t cap)
{
	size_t n = req->query_at != SIZE_MAX ? req->query_at : req->path.len, plen = strlen(prefix);
	if (n <= plen || memcmp(req->path.base, prefix, plen) != 0)
		return NULL;
	const char *p = req->path.base + plen, *end = req->path.base + n;
	const char *slash = memchr(p, '/', (size_t)(end - p));
	size_t len = (size_t)((slash ? slash : end) - p);
	if (len == 0 || len >= cap)
		return NULL;
	if (url_decode(p, len, seg, cap) <= 0)
		return NULL;
	return slash ? slash : end;
}

/* A query parameter's value (URL-decoded into out), or NULL. */
static const char *query_param(h2o_req_t *req, const char *name, char *out, size_t cap)
{
	if (req->query_at == SIZE_MAX)
		return NULL;
	const char *q = req->path.base + req->query_at + 1, *end = req->path.base + req->path.len;
	size_t nlen = strlen(name);
	while (q < end) {
		const char *amp = memchr(q, '&', (size_t)(end - q));
		const char *stop = amp ? amp : end;
		if ((size_t)(stop - q) > nlen && memcmp(q, name, nlen) == 0 && q[nlen] == '=') {
			return url_decode(q + nlen + 1, (size_t)(stop - q - nlen - 1), out, cap) > 0 ? out : NULL;
		}
		q = stop + 1;
	}
	return NULL;
}

static bool authorized(h2o_req_t *req)
{
	const char *token = sl_server.admin_token;
	if (!token)
		return true;
	ssize_t i = h2o_find_header(&req->headers, H2O_TOKEN_AUTHORIZATION, -1);
	if (i < 0)
		return false;
	h2o_iovec_t v = req->headers.entries[i].value;
	size_t tlen = strlen(token);
	if (v.len != tlen + 7 || !h2o_lcstris(v.base, 7, H2O_STRLIT("bearer ")))
		return false;
	unsigned char diff = 0; /* constant time over the token's length */
	for (size_t k = 0; k < tlen; k++)
		diff |= (unsigned char)(v.base[7 + k] ^ token[k]);
	return diff == 0;
}

static void send_api(h2o_req_t *req, int status, struct sl_buf *out)
{
	send_buf(req, status, "application/json", out);
}

/* /api/v1/rollouts[...] */
static void rollouts_api(h2o_req_t *req, bool get, bool post, struct sl_buf *out)
{
	char ref[160], action[32], model[160], limit_s[16];
	int status = 404;
	size_t n = req->query_at != SIZE_MAX ? req->query_at : req->path.len;
	uint64_t limit = 50;
	if (h2o_memis(req->path.base, n, H2O_STRLIT("/api/v1/rollouts"))) {
		if (get) {
			const char *lim = query_param(req, "limit", limit_s, sizeof(limit_s));
			if (lim && (sl_parse_u64(lim, 1000, &limit) || limit == 0))
				return sl_send_oai_error(req, 400, "invalid_request_error", "invalid_limit",
							 "limit must be a number from 1 to 1000");
			sl_rollouts_api_list(query_param(req, "model", model, sizeof(model)), (int)limit, out, &status);
		} else if (post) {
			sl_rollouts_api_start(req->entity.base ? req->entity.base : "", req->entity.len, out, &status);
		} else {
			return sl_send_oai_error(req, 405, "invalid_request_error", "method_not_allowed", "use GET or POST");
		}
		return send_api(req, status, out);
	}
	const char *rest = segment(req, "/api/v1/rollouts/", ref, sizeof(ref));
	const char *end = req->path.base + n;
	if (rest && rest == end && get) {
		sl_rollouts_api_get(ref, out, &status);
		return send_api(req, status, out);
	}
	if (rest && rest < end && post && (size_t)(end - rest - 1) < sizeof(action) && !memchr(rest + 1, '/', (size_t)(end - rest - 1))) {
		memcpy(action, rest + 1, (size_t)(end - rest - 1));
		action[end - rest - 1] = '\0';
		sl_rollouts_api_action(ref, action, out, &status);
		return send_api(req, status, out);
	}
	sl_send_oai_error(req, 404, "invalid_request_error", "unknown_url",
			  "unknown rollout URL: GET|POST /api/v1/rollouts, GET /api/v1/rollouts/{id|model}, "
			  "POST /api/v1/rollouts/{id|model}/{pause|resume|approve|promote|rollback|abort}");
}

/* /api/v1/experiments[...] (docs/EXPERIMENTS.md, "In the running gateway") */
static void experiments_api(h2o_req_t *req, bool get, bool post, struct sl_buf *out)
{
	char key[160];
	int status = 404;
	size_t n = req->query_at != SIZE_MAX ? req->query_at : req->path.len;
	const char *end = req->path.base + n;
	if (h2o_memis(req->path.base, n, H2O_STRLIT("/api/v1/experiments"))) {
		if (get)
			sl_experiments_api_list(out, &status);
		else if (post)
			sl_experiments_api_create(req->entity.base ? req->entity.base : "", req->entity.len, out, &status);
		else
			return sl_send_oai_error(req, 405, "invalid_request_error", "method_not_allowed", "use GET or POST");
		return send_api(req, status, out);
	}
	const char *rest = segment(req, "/api/v1/experiments/", key, sizeof(key));
	if (rest && rest == end && get) {
		sl_experiments_api_get(key, out, &status);
		return send_api(req, status, out);
	}
	if (rest && post && h2o_memis(rest, (size_t)(end - rest), H2O_STRLIT("/stop"))) {
		sl_experiments_api_stop(key, out, &status);
		return send_api(req, status, out);
	}
	sl_send_oai_error(req, 404, "invalid_request_error", "unknown_url",
			  "unknown experiment URL: GET|POST /api/v1/experiments, GET /api/v1/experiments/{key}, "
			  "POST /api/v1/experiments/{key}/stop");
}

/* The {version} segment after rest ("/VERSION/..."), URL-decoded into seg; what follows it, or NULL. */
static const char *next_segment(const h2o_req_t *req, const char *rest, char *seg, size_t cap)
{
	size_t n = req->query_at != SIZE_MAX ? req->query_at : req->path.len;
	const char *end = req->path.base + n, *p = rest + 1;
	if (!rest || rest >= end || *rest != '/')
		return NULL;
	const char *slash = memchr(p, '/', (size_t)(end - p));
	size_t len = (size_t)((slash ? slash : end) - p);
	if (len == 0 || len >= cap || url_decode(p, len, seg, cap) <= 0)
		return NULL;
	return p + len;
}

/* PUT|DELETE /api/v1/drift/{model}/{version}/reference (docs/DRIFT.md) */
static void drift_reference_api(h2o_req_t *req, bool put, bool del, struct sl_buf *out)
{
	char model[160], version[160];
	struct sl_buf msg;
	size_t n = req->query_at != SIZE_MAX ? req->query_at : req->path.len;
	const char *tail = next_segment(req, segment(req, "/api/v1/drift/", model, sizeof(model)), version, sizeof(version));
	if (!tail || !h2o_memis(tail, (size_t)(req->path.base + n - tail), H2O_STRLIT("/reference")))
		return sl_send_oai_error(req, 404, "invalid_request_error", "unknown_url", "%s",
					 "unknown drift URL: GET /api/v1/drift, PUT|DELETE "
					 "/api/v1/drift/{model}/{version}/reference");
	if (!put && !del)
		return sl_send_oai_error(req, 405, "invalid_request_error", "method_not_allowed", "use PUT or DELETE");
	sl_buf_init(&msg, 4096);
	int status = put ? sl_drift_live_reference_put(model, version, req->entity.base ? req->entity.base : "",
						       req->entity.len, out, &msg)
			 : sl_drift_live_reference_delete(model, version, out, &msg);
	if (status == 200)
		send_api(req, 200, out);
	else
		sl_send_oai_error(req, status, status >= 500 ? "server_error" : "invalid_request_error",
				  status == 400 ? "invalid_reference" : NULL, "%s", msg.data ? msg.data : "refused");
	sl_buf_release(&msg);
}

static int on_req(h2o_handler_t *self, h2o_req_t *req)
{
	struct sl_buf out;
	bool get = h2o_memis(req->method.base, req->method.len, H2O_STRLIT("GET"));
	bool post = h2o_memis(req->method.base, req->method.len, H2O_STRLIT("POST"));
	size_t n = req->query_at != SIZE_MAX ? req->query_at : req->path.len;
	sl_buf_init(&out, 0);
	if (get && h2o_memis(req->path.base, n, H2O_STRLIT("/healthz"))) {
		sl_buf_puts(&out, sl_server.draining ? "draining\n" : "ok\n");
		send_buf(req, sl_server.draining ? 503 : 200, "text/plain", &out);
	} else if (!authorized(req)) {
		sl_buf_release(&out);
		h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_WWW_AUTHENTICATE, NULL, H2O_STRLIT("Bearer"));
		sl_send_oai_error(req, 401, "invalid_request_error", "unauthorized",
				  "the admin API wants 'Authorization: Bearer TOKEN' (the token in admin_token_env)");
	} else if (get && h2o_memis(req->path.base, n, H2O_STRLIT("/metrics"))) {
		if (on_metrics(&out) == 0)
			send_buf(req, 200, "text/plain; version=0.0.4; charset=utf-8", &out);
		else
			sl_send_oai_error(req, 500, "server_error", NULL, "cannot render metrics");
	} else if (get && h2o_memis(req->path.base, n, H2O_STRLIT("/api/v1/routes"))) {
		if (render_routes_json(&out, sl_server.current->table) == 0)
			send_buf(req, 200, "application/json", &out);
		else
			sl_send_oai_error(req, 500, "server_error", NULL, "cannot render routes");
	} else if (get && h2o_memis(req->path.base, n, H2O_STRLIT("/api/v1/status"))) {
		int status;
		sl_rollouts_api_status(&out, &status);
		send_api(req, status, &out);
	} else if (get && h2o_memis(req->path.base, n, H2O_STRLIT("/api/v1/drift"))) {
		if (sl_drift_live_api(&out) == 0)
			send_api(req, 200, &out);
		else
			sl_send_oai_error(req, 500, "server_error", NULL, "cannot render drift");
	} else if (n > 14 && memcmp(req->path.base, "/api/v1/drift/", 14) == 0) {
		drift_reference_api(req, h2o_memis(req->method.base, req->method.len, H2O_STRLIT("PUT")),
				    h2o_memis(req->method.base, req->method.len, H2O_STRLIT("DELETE")), &out);
	} else if (n >= 19 && memcmp(req->path.base, "/api/v1/experiments", 19) == 0) {
		experiments_api(req, get, post, &out);
	} else if (get && h2o_memis(req->path.base, n, H2O_STRLIT("/api/v1/recs"))) {
		int status;
		sl_experiments_api_recs(&out, &status);
		send_api(req, status, &out);
	} else if (n >= 16 && memcmp(req->path.base, "/api/v1/rollouts", 16) == 0) {
		rollouts_api(req, get, post, &out);
	} else if (post && h2o_memis(req->path.base, n, H2O_STRLIT("/api/v1/reload"))) {
		unsigned long before = sl_server.generation;
		raise(SIGHUP);
		sl_buf_printf(&out, "{\"requested\":true,\"generation_before\":%lu}", before);
		send_buf(req, 202, "application/json", &out);
	} else {
		sl_buf_release(&out);
		sl_send_oai_error(req, 404, "invalid_request_error", "unknown_url",
				  "unknown admin URL: try /metrics, /healthz, /api/v1/status, /api/v1/routes, "
				  "/api/v1/rollouts, POST /api/v1/reload");
	}
	sl_buf_release(&out);
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
