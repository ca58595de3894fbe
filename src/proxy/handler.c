/* handler.c: the data plane. One `struct exchange` per request, allocated in the request's pool:
 * parse and validate the body, pick a version, forward to its upstream with h2o's HTTP/1 client,
 * and relay the response (through the SSE tap for streams) with backpressure from the client.
 *
 * Exchange states (one request):
 *   received --on_req--> rejected (error sent)          | connecting
 *   connecting --on_connect--> awaiting head            | failed (502/504 sent)
 *   awaiting head --on_head--> relaying                 | failed (502/504 sent)
 *   relaying --on_body(eos)--> finishing --do_send--> done
 *   relaying --on_body(error)--> finishing (SSE error event, or a cut connection) --> done
 *   any --do_stop (client left)--> upstream cancelled
 * on_dispose (the request's pool is freed) records the event exactly once. */
#include <json-c/json.h>
#include <string.h>

#include "proxy/proxy.h"
#include "proxy/drift_live.h"
#include "proxy/experiments.h"
#include "proxy/guard_gw.h"
#include "proxy/reqmap.h"
#include "proxy/rollouts.h"
#include "sluice/openai.h"
#include <math.h>

#define MAX_PENDING (64u << 20)   /* bytes waiting for a slow client */
#define MAX_COPY (8u << 20)       /* non-stream response kept for usage parsing */
#define MAX_SSE_EVENT (16u << 20) /* one SSE event */

struct exchange {
	h2o_generator_t super;
	h2o_req_t *req;
	struct sl_routes_ref *ref;
	struct sl_route_version *version;
	h2o_http1client_t *client;
	h2o_timeout_entry_t connect_entry;
	h2o_iovec_t up_bufs[2];
	struct sl_buf up_body, pending, inflight, copy;
	struct sl_sse_tap tap;
	struct sl_event ev;
	struct sl_features feat; /* prompt features, for drift monitoring */
	struct sl_guard_answer *answer; /* the guard's checks on the answer, or NULL */
	struct json_object *held;       /* the held body, parsed once for usage and the guard */
	struct sl_exp_pick pick;        /* the experiment and variant routing chose, if any */
	uint64_t t_start, t_upstream;
	char upstream[300];
	unsigned stream_req : 1, client_wants_usage : 1, is_sse : 1, is_json : 1, tap_on : 1, sending : 1, upstream_done : 1,
		upstream_failed : 1, final_sent : 1, keep_copy : 1, has_feat : 1, hold_body : 1;
};

static double since(uint64_t t0)
{
	return (double)(sl_now_ns() - t0) / 1e9;
}

static const char *class_of(const char *errstr)
{
	return strstr(errstr, "timeout") ? "upstream_timeout" : "upstream_error";
}

/* ---- recording ---- */

static void on_dispose(void *p)
{
	struct exchange *ex = p;
	if (ex->client) {
		h2o_http1client_cancel(ex->client);
		ex->client = NULL;
		if (!ex->ev.error_class)
			ex->ev.error_class = "client_closed";
	}
	if (h2o_timeout_is_linked(&ex->connect_entry))
		h2o_timeout_unlink(&ex->connect_entry);
	if (ex->tap_on) {
		ex->ev.prompt_tokens = ex->tap.usage.prompt_tokens;
		ex->ev.completion_tokens = ex->tap.usage.completion_tokens;
		if (ex->tap.usage.finish_reason[0])
			ex->ev.finish_reason = h2o_strdup(&ex->req->pool, ex->tap.usage.finish_reason, SIZE_MAX).base;
		ex->ev.refused = ex->tap.usage.refused;
		sl_sse_tap_release(&ex->tap);
	}
	if (ex->answer) {
		ex->ev.guard_output = sl_guard_answer_outcome(ex->answer, NULL, 0);
		sl_guard_answer_free(ex->answer);
		ex->answer = NULL;
	}
	ex->ev.status = ex->req->res.status;
	ex->ev.total_s = since(ex->t_start);
	ex->ev.response_bytes = ex->req->bytes_sent;
	sl_server_record(&ex->ev);
	if (ex->has_feat)
		sl_drift_live_observe(&ex->ev, &ex->feat);
	sl_experiments_observe(&ex->ev, &ex->pick);
	sl_buf_release(&ex->up_body);
	sl_buf_release(&ex->pending);
	sl_buf_release(&ex->inflight);
	sl_buf_release(&ex->copy);
	json_object_put(ex->held);
	if (ex->ref)
		sl_routes_release(ex->ref);
	sl_server.inflight--;
}

/* ---- responses ---- */

void sl_send_oai_error(h2o_req_t *req, int status, const char *type, const char *code, const char *fmt, ...)
{
	char msg[1024];
	struct sl_buf body;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	sl_buf_init(&body, 0);
	if (sl_oai_error(&body, type, code, "%s", msg) != 0)
		sl_buf_reset(&body);
	h2o_iovec_t copy = h2o_strdup(&req->pool, body.data ? body.data : "", body.len);
	sl_buf_release(&body);
	req->res.status = status;
	req->res.reason = status == 400	  ? "Bad Request"
			  : status == 404 ? "Not Found"
			  : status == 405 ? "Method Not Allowed"
			  : status == 413 ? "Payload Too Large"
			  : status == 502 ? "Bad Gateway"
			  : status == 503 ? "Service Unavailable"
			  : status == 504 ? "Gateway Timeout"
					  : "Error";
	h2o_set_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, H2O_STRLIT("application/json"), 0);
	h2o_send_inline(req, copy.base, copy.len);
}

void sl_api_error(struct sl_buf *out, int *status, int code, const char *type, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	sl_buf_reset(out);
	sl_oai_error(out, code >= 500 ? "server_error" : "invalid_request_error", type, "%s", msg);
	*status = code;
}

static void fail(struct exchange *ex, int status, const char *class, const char *code, const char *msg)
{
	ex->ev.error_class = class;
	ex->final_sent = 1;
	sl_send_oai_error(ex->req, status, status >= 500 ? "upstream_error" : "invalid_request_error", code, "%s",
			  msg);
}

/* ---- relaying the response ---- */

static void do_send(struct exchange *ex)
{
	if (ex->sending || ex->final_sent || (ex->hold_body && !ex->upstream_done))
		return;
	if (ex->pending.len == 0 && !ex->upstream_done)
		return;
	struct sl_buf tmp = ex->inflight;
	ex->inflight = ex->pending;
	ex->pending = tmp;
	sl_buf_reset(&ex->pending);
	h2o_iovec_t vec = h2o_iovec_init(ex->inflight.data, ex->inflight.len);
	h2o_send_state_t state = H2O_SEND_STATE_IN_PROGRESS;
	if (ex->upstream_done) {
		/* a cut non-stream body must look cut to the client; SSE ends cleanly after its error event */
		state = (ex->upstream_failed && !ex->is_sse) ? H2O_SEND_STATE_ERROR : H2O_SEND_STATE_FINAL;
		ex->final_sent = 1;
	}
	ex->sending = 1;
	h2o_send(ex->req, &vec, vec.len ? 1 : 0, state);
}

static void do_proceed(h2o_generator_t *gen, h2o_req_t *req)
{
	struct exchange *ex = (struct exchange *)gen;
	ex->sending = 0;
	sl_buf_reset(&ex->inflight);
	do_send(ex);
}

static void do_stop(h2o_generator_t *gen, h2o_req_t *req)
{
	struct exchange *ex = (struct exchange *)gen;
	if (ex->client) {
		h2o_http1client_cancel(ex->client);
		ex->client = NULL;
		ex->ev.error_class = "client_closed";
	}
}

static void append_sse_error(struct exchange *ex, const char *class, const char *msg)
{
	struct sl_buf err;
	sl_buf_init(&err, 0);
	if (sl_oai_error(&err, "upstream_error", class, "%s", msg) == 0) {
		sl_buf_puts(&ex->pending, "data: ");
		sl_buf_append(&ex->pending, err.data, err.len);
		sl_buf_puts(&ex->pending, "\n\n");
	}
	sl_buf_release(&err);
}

static int take_body(struct exchange *ex, h2o_buffer_t **input)
{
	const char *p = (*input)->bytes;
	size_t n = (*input)->size;
	int rc = 0;
	if (n == 0)
		return 0;
	if (ex->tap_on) {
		bool first = false;
		rc = sl_sse_tap_feed(&ex->tap, p, n, &ex->pending, &first);
		if (first && ex->ev.ttft_s < 0)
			ex->ev.ttft_s = since(ex->t_start);
	} else {
		rc = sl_buf_append(&ex->pending, p, n);
		if (ex->keep_copy && sl_buf_append(&ex->copy, p, n) != 0)
			ex->keep_copy = 0;
	}
	h2o_buffer_consume(input, n);
	return rc;
}

/* Reads usage and finish reason from a non-stream body kept whole (one parse: the body the
 * guard holds, kept parsed in ex->held for its checks, or else the copy), and says whether a
 * JSON body is whole. */
static bool read_copy(struct exchange *ex)
{
	const struct sl_buf *b = ex->hold_body ? &ex->pending : ex->keep_copy ? &ex->copy : NULL;
	if (!b || b->len == 0)
		return true;
	struct sl_oai_usage u;
	struct json_object *obj = json_tokener_parse_ex(sl_server.tok, b->data, (int)b->len);
	bool whole = obj != NULL && json_tokener_get_parse_end(sl_server.tok) == b->len;
	json_tokener_reset(sl_server.tok);
	if (obj) {
		sl_oai_usage_init(&u);
		sl_oai_usage_scan(&u, obj);
		ex->ev.prompt_tokens = u.prompt_tokens;
		ex->ev.completion_tokens = u.completion_tokens;
		if (u.finish_reason[0])
			ex->ev.finish_reason = h2o_strdup(&ex->req->pool, u.finish_reason, SIZE_MAX).base;
		ex->ev.refused = u.refused;
		if (ex->hold_body)
			ex->held = obj;
		else
			json_object_put(obj);
	}
	return whole || !ex->is_json;
}

/* h2o's HTTP/1 client reports an upstream that closes between two chunks as a clean end, so
 * the body itself must prove it is whole: a successful stream ends with "data: [DONE]" and no
 * partial event, a JSON body parses. (Bodies too big to keep cannot be checked.) */
static bool ended_whole(struct exchange *ex)
{
	if (ex->req->res.status < 200 || ex->req->res.status >= 300)
		return true;
	if (ex->tap_on)
		return ex->tap.saw_done && ex->tap.partial.len == 0;
	return read_copy(ex);
}

/* A non-stream answer the guard checks is held until it is whole: checked (and redacted, or
 * replaced by an error), then the response starts. */
static void release_held(struct exchange *ex)
{
	if (!ex->hold_body)
		return;
	ex->hold_body = 0;
	if (!ex->upstream_failed) {
		if (sl_guard_answer_body(ex->answer, ex->held, &ex->pending) == 1) {
			ex->req->res.status = 400;
			ex->req->res.reason = "Bad Request";
			ex->ev.error_class = "guard_blocked";
		}
		ex->req->res.content_length = ex->pending.len;
	}
	json_object_put(ex->held);
	ex->held = NULL;
	h2o_start_response(ex->req, &ex->super);
}

static int on_body(h2o_http1client_t *client, const char *errstr)
{
	struct exchange *ex = client->data;
	/* a client too slow for the stream, or an absurd event: give up on this response (h2o closes
	 * the upstream connection when this callback returns non-zero) */
	int overflow = take_body(ex, &client->sock->input) != 0;
	if (overflow && !errstr)
		errstr = "response too large to buffer";
	if (errstr) {
		ex->client = NULL;
		ex->upstream_done = 1;
		ex->ev.upstream_s = since(ex->t_upstream);
		if (errstr == h2o_http1client_error_is_eos && !ended_whole(ex))
			errstr = "upstream response ended early";
		if (ex->tap_on)
			sl_sse_tap_finish(&ex->tap, &ex->pending);
		if (errstr != h2o_http1client_error_is_eos) {
			ex->upstream_failed = 1;
			ex->ev.error_class = overflow ? "response_too_large" : class_of(errstr);
			if (ex->is_sse)
				append_sse_error(ex, ex->ev.error_class, "the upstream model server failed mid-stream");
		}
		release_held(ex);
	}
	do_send(ex);
	return overflow ? -1 : 0;
}

static bool drop_response_header(const h2o_iovec_t *name)
{
	static const char *const drop[] = {"connection", "keep-alive", "proxy-connection", "transfer-encoding",
					   "content-length", "upgrade", "te", "trailer", "server", "date"};
	for (size_t i = 0; i < sizeof(drop) / sizeof(drop[0]); i++)
		if (h2o_lcstris(name->base, name->len, drop[i], strlen(drop[i])))
			return true;
	return false;
}

static void copy_response_headers(struct exchange *ex, h2o_header_t *headers, size_t n)
{
	h2o_req_t *req = ex->req;
	for (size_t i = 0; i < n; i++) {
		h2o_iovec_t *name = headers[i].name;
		if (h2o_lcstris(name->base, name->len, H2O_STRLIT("content-length"))) /* h2o writes it */
			req->res.content_length = h2o_strtosize(headers[i].value.base, headers[i].value.len);
		if (drop_response_header(name))
			continue;
		if (h2o_lcstris(name->base, name->len, H2O_STRLIT("content-type")) &&
		    headers[i].value.len >= 17 && h2o_lcstris(headers[i].value.base, 17, H2O_STRLIT("text/event-stream")))
			ex->is_sse = 1;
		if (h2o_lcstris(name->base, name->len, H2O_STRLIT("content-type")) && headers[i].value.len >= 16 &&
		    h2o_lcstris(headers[i].value.base, 16, H2O_STRLIT("application/json")))
			ex->is_json = 1;
		h2o_iovec_t value = h2o_strdup(&req->pool, headers[i].value.base, headers[i].value.len);
		if (h2o_iovec_is_token(name))
			h2o_add_header(&req->pool, &req->res.headers, (const h2o_token_t *)name, NULL, value.base,
				       value.len);
		else {
			h2o_iovec_t nm = h2o_strdup(&req->pool, name->base, name->len);
			h2o_add_header_by_str(&req->pool, &req->res.headers, nm.base, nm.len, 0, NULL, value.base,
					      value.len);
		}
	}
}

static h2o_http1client_body_cb on_head(h2o_http1client_t *client, const char *errstr, int minor_version, int status,
				       h2o_iovec_t msg, h2o_header_t *headers, size_t num_headers, int rlen)
{
	struct exchange *ex = client->data;
	if (errstr && errstr != h2o_http1client_error_is_eos) {
		ex->client = NULL;
		ex->ev.upstream_s = since(ex->t_upstream);
		bool timeout = strstr(errstr, "timeout") != NULL;
		fail(ex, timeout ? 504 : 502, class_of(errstr), timeout ? "upstream_timeout" : "upstream_error",
		     timeout ? "the upstream model server did not answer in time"
			     : "the upstream model server closed the connection without a valid response");
		return NULL;
	}
	ex->req->res.status = status;
	ex->req->res.reason = h2o_strdup(&ex->req->pool, msg.base, msg.len).base;
	copy_response_headers(ex, headers, num_headers);
	if (status >= 400)
		ex->ev.error_class = "upstream_status";
	bool checked = ex->answer && status >= 200 && status < 300;
	if (ex->is_sse && ex->stream_req) {
		ex->tap_on = sl_sse_tap_init(&ex->tap, !ex->client_wants_usage, MAX_SSE_EVENT) == 0;
		if (ex->tap_on && checked) {
			ex->tap.hook = sl_guard_answer_event;
			ex->tap.plain = sl_guard_answer_plain;
			ex->tap.hook_ctx = ex->answer;
		}
	} else {
		ex->hold_body = checked && ex->is_json; /* checked whole, then sent */
		ex->keep_copy = !ex->hold_body;        /* a held body is its own copy */
		sl_buf_init(&ex->copy, MAX_COPY);
	}
	if (!ex->hold_body)
		h2o_start_response(ex->req, &ex->super);
	if (errstr == h2o_http1client_error_is_eos) {
		ex->client = NULL;
		ex->upstream_done = 1;
		ex->ev.upstream_s = since(ex->t_upstream);
		release_held(ex);
		do_send(ex);
		return NULL;
	}
	return on_body;
}

static h2o_http1client_head_cb on_connect(h2o_http1client_t *client, const char *errstr, h2o_iovec_t **reqbufs,
					  size_t *reqbufcnt, int *method_is_head)
{
	struct exchange *ex = client->data;
	if (h2o_timeout_is_linked(&ex->connect_entry))
		h2o_timeout_unlink(&ex->connect_entry);
	if (errstr) {
		ex->client = NULL;
		fail(ex, 502, "upstream_connect", "upstream_unavailable", "cannot connect to the upstream model server");
		return NULL;
	}
	ex->t_upstream = sl_now_ns();
	*reqbufs = ex->up_bufs;
	*reqbufcnt = 2;
	*method_is_head = 0;
	return on_head;
}

static void on_connect_timeout(h2o_timeout_entry_t *entry)
{
	struct exchange *ex = H2O_STRUCT_FROM_MEMBER(struct exchange, connect_entry, entry);
	if (ex->client) {
		h2o_http1client_cancel(ex->client);
		ex->client = NULL;
	}
	fail(ex, 504, "upstream_connect_timeout", "upstream_timeout", "connecting to the upstream model server timed out");
}

/* ---- building the upstream request ---- */

static bool skip_request_header(const h2o_iovec_t *name, bool have_key)
{
	static const char *const drop[] = {"connection", "keep-alive", "proxy-connection", "transfer-encoding",
					   "content-length", "upgrade", "te", "host", "expect", "http2-settings",
					   "accept-encoding"};
	for (size_t i = 0; i < sizeof(drop) / sizeof(drop[0]); i++)
		if (h2o_lcstris(name->base, name->len, drop[i], strlen(drop[i])))
			return true;
	return have_key && h2o_lcstris(name->base, name->len, H2O_STRLIT("authorization"));
}

int sl_upstream_head(h2o_req_t *req, const struct sl_route_version *v, const struct sl_url *url, size_t body_len,
		     const char *request_id, struct sl_buf *head)
{
	const char *path = req->path.base;
	size_t plen = req->path.len;
	size_t blen = strlen(url->base);
	/* an OpenAI-style base URL ending in /v1 is accepted: do not double it */
	if (blen >= 3 && strcmp(url->base + blen - 3, "/v1") == 0 && plen >= 3 && memcmp(path, "/v1", 3) == 0) {
		path += 3;
		plen -= 3;
	}
	int rc = sl_buf_printf(head, "POST %s%.*s HTTP/1.1\r\nhost: %s:%u\r\nconnection: keep-alive\r\n"
				     "content-length: %zu\r\nx-sluice-request-id: %s\r\n",
			       url->base, (int)plen, path, url->host, url->port, body_len, request_id);
	if (!rc && v->api_key)
		rc = sl_buf_printf(head, "authorization: Bearer %s\r\n", v->api_key);
	for (size_t i = 0; !rc && i < req->headers.size; i++) {
		const h2o_header_t *h = &req->headers.entries[i];
		if (skip_request_header(h->name, v->api_key != NULL))
			continue;
		rc = sl_buf_printf(head, "%.*s: %.*s\r\n", (int)h->name->len, h->name->base, (int)h->value.len,
				   h->value.base);
	}
	return rc ? rc : sl_buf_puts(head, "\r\n");
}

static struct sl_slice sticky_key(h2o_req_t *req, const struct sl_oai_request *body, const struct sl_config *cfg)
{
	if (body->user.len > 0)
		return body->user;
	ssize_t i = h2o_find_header_by_str(&req->headers, cfg->sticky_header, strlen(cfg->sticky_header), -1);
	if (i < 0)
		return (struct sl_slice){NULL, 0};
	return sl_slice_make(req->headers.entries[i].value.base, req->headers.entries[i].value.len);
}

static int start_upstream(struct exchange *ex, struct sl_oai_request *body)
{
	size_t idx;
	const struct sl_url *url = sl_route_next_upstream(ex->version, &idx);
	struct sl_buf head;
	snprintf(ex->upstream, sizeof(ex->upstream), "%s:%u", url->host, url->port);
	ex->ev.upstream = ex->upstream;
	sl_buf_init(&ex->up_body, 0);
	if (sl_oai_request_rewrite(body, ex->version->upstream_model, &ex->up_body) != 0)
		return SL_ENOMEM;
	sl_buf_init(&head, 0);
	if (sl_upstream_head(ex->req, ex->version, url, ex->up_body.len, ex->ev.request_id, &head) != 0) {
		sl_buf_release(&head);
		return SL_ENOMEM;
	}
	ex->up_bufs[0] = h2o_strdup(&ex->req->pool, head.data, head.len);
	ex->up_bufs[1] = h2o_iovec_init(ex->up_body.data, ex->up_body.len);
	sl_buf_release(&head);
	h2o_socketpool_t *pool = sl_upstream_pool_get(&sl_server, url);
	if (!pool)
		return SL_ENOMEM;
	ex->connect_entry.cb = on_connect_timeout;
	h2o_timeout_link(ex->req->conn->ctx->loop, &sl_server.connect_timeout, &ex->connect_entry);
	h2o_http1client_connect_with_pool(&ex->client, ex, &sl_server.client_ctx, pool,
					  on_connect);
	return 0;
}

/* ---- request entry points ---- */

static struct exchange *exchange_new(h2o_req_t *req, const char *endpoint)
{
	struct exchange *ex = h2o_mem_alloc_shared(&req->pool, sizeof(*ex), on_dispose);
	memset(ex, 0, sizeof(*ex));
	ex->req = req;
	ex->super.proceed = do_proceed;
	ex->super.stop = do_stop;
	ex->t_start = sl_now_ns();
	sl_buf_init(&ex->pending, MAX_PENDING);
	sl_buf_init(&ex->inflight, 0);
	sl_event_init(&ex->ev);
	ex->ev.start = sl_wall_time();
	ex->ev.endpoint = endpoint;
	ex->ev.request_bytes = req->entity.len;
	sl_request_id(&sl_server.rng, ex->ev.request_id);
	sl_server.inflight++;
	h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("x-sluice-request-id"), 0, NULL,
			      ex->ev.request_id, 32);
	return ex;
}

/* The guard's inspection of the request; non-zero when the request was refused (answer sent). */
static int guard_request(struct exchange *ex, const struct sl_guard_mrt *g, struct sl_oai_request *body)
{
	struct sl_guard_req res;
	int rc = sl_guard_gw_request(g, body->root, &res);
	if (!rc && !res.status)
		rc = sl_guard_answer_new(g, &res, &ex->answer);
	ex->ev.guard_input = res.outcome;
	ex->ev.guard_score = res.score;
	ex->ev.guard_scanned = res.scanned;
	ex->ev.guard_remembered = res.remembered;
	if (res.header[0])
		h2o_add_header_by_str(&ex->req->pool, &ex->req->res.headers, H2O_STRLIT("x-sluice-guard"), 0, NULL,
				      h2o_strdup(&ex->req->pool, res.header, SIZE_MAX).base, strlen(res.header));
	if (rc)
		fail(ex, 502, "internal", "internal_error", "out of memory");
	else if (res.status)
		fail(ex, res.status, "guard_blocked", res.code, res.message);
	sl_guard_req_release(&res);
	return rc || res.status;
}

static void route_and_forward(struct exchange *ex)
{
	h2o_req_t *req = ex->req;
	const struct sl_config *cfg = ex->ref->config;
	char err[256];
	struct sl_oai_request body;
	if (req->entity.len > cfg->max_body_bytes)
		return fail(ex, 413, "body_too_large", "request_too_large", "request body exceeds the configured limit");
	int rc = sl_oai_request_parse(&body, sl_server.tok, req->entity.base, req->entity.len, cfg->sticky_field, err,
				      sizeof(err));
	if (rc)
		return fail(ex, 400, rc == SL_EPARSE ? "invalid_json" : "bad_request",
			    rc == SL_EPARSE ? "invalid_json" : "invalid_request", err);
	const struct sl_route_model *m = sl_route_find(ex->ref->table, body.model);
	if (!m) {
		snprintf(err, sizeof(err), "the model '%.*s' does not exist", (int)(body.model.len > 128 ? 128 : body.model.len),
			 body.model.ptr);
		sl_oai_request_release(&body);
		return fail(ex, 404, "unknown_model", "model_not_found", err);
	}
	struct sl_slice key = sticky_key(req, &body, cfg), session = {NULL, 0};
	ssize_t si = h2o_find_header_by_str(&req->headers, H2O_STRLIT("x-sluice-session"), -1);
	if (si >= 0)
		session = sl_slice_make(req->headers.entries[si].value.base, req->headers.entries[si].value.len);
	ex->version = sl_experiments_route(m, key, session, sl_slice_make(ex->ev.request_id, 32), body.root, &ex->pick);
	if (!ex->version)
		ex->version = sl_route_pick(m, key, &sl_server.rng);
	if (ex->pick.exp_key)
		h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("x-sluice-experiment"), 0, NULL,
				      ex->pick.exp_key, strlen(ex->pick.exp_key));
	if (ex->pick.variant_key)
		h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("x-sluice-variant"), 0, NULL,
				      ex->pick.variant_key, strlen(ex->pick.variant_key));
	ex->ev.model = m->name;
	ex->ev.version = ex->version->name;
	ex->ev.sticky = key.len > 0;
	ex->stream_req = body.stream;
	ex->ev.stream = body.stream;
	ex->client_wants_usage = body.client_wants_usage;
	if (cfg->log_bodies) {
		ex->ev.body = req->entity.base;
		ex->ev.body_len = req->entity.len;
	}
	h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("x-sluice-version"), 0, NULL,
			      ex->version->name, strlen(ex->version->name));
	const struct sl_guard_mrt *g = sl_guard_rt_find(ex->ref->cref->guard, m->name);
	if (g && guard_request(ex, g, &body) != 0)
		return sl_oai_request_release(&body);
	sl_features_from_request(body.root, &ex->feat);
	ex->has_feat = 1;
	rc = start_upstream(ex, &body);
	if (!rc && m->shadow && ex->version != m->shadow && sl_rng_double(&sl_server.rng) < m->shadow_share)
		sl_mirror_start(req, m, &body, ex->ev.request_id);
	sl_oai_request_release(&body);
	if (rc)
		fail(ex, 502, "internal", "internal_error", "out of memory");
}

static void list_models(struct exchange *ex)
{
	const struct sl_route_table *t = ex->ref->table;
	struct sl_buf out;
	sl_buf_init(&out, 0);
	int rc = sl_buf_puts(&out, "{\"object\":\"list\",\"data\":[");
	for (size_t i = 0; !rc && i < t->nmodels; i++) {
		rc = sl_buf_puts(&out, i ? ",{\"id\":" : "{\"id\":");
		rc = rc ? rc : sl_buf_json_str(&out, t->models[i].name, strlen(t->models[i].name));
		rc = rc ? rc : sl_buf_puts(&out, ",\"object\":\"model\",\"created\":0,\"owned_by\":\"sluice\"}");
	}
	rc = rc ? rc : sl_buf_puts(&out, "]}");
	if (rc) {
		sl_buf_release(&out);
		return fail(ex, 502, "internal", "internal_error", "out of memory");
	}
	h2o_iovec_t body = h2o_strdup(&ex->req->pool, out.data, out.len);
	sl_buf_release(&out);
	ex->final_sent = 1;
	ex->req->res.status = 200;
	ex->req->res.reason = "OK";
	h2o_set_header(&ex->req->pool, &ex->req->res.headers, H2O_TOKEN_CONTENT_TYPE, H2O_STRLIT("application/json"),
		       0);
	h2o_send_inline(ex->req, body.base, body.len);
}

struct endpoint {
	const char *path;
	const char *name;
	bool post;
};

static const struct endpoint endpoints[] = {
	{"/v1/chat/completions", "chat.completions", true},
	{"/v1/completions", "completions", true},
	{"/v1/embeddings", "embeddings", true},
	{"/v1/models", "models", false},
	{"/v1/feedback", "feedback", true},
	{"/v1/events", "events", true},
	{"/v1/recs", "recs", true},
};

static const struct endpoint *find_endpoint(h2o_req_t *req)
{
	size_t n = req->query_at != SIZE_MAX ? req->query_at : req->path.len;
	for (size_t i = 0; i < sizeof(endpoints) / sizeof(endpoints[0]); i++)
		if (h2o_memis(req->path.base, n, endpoints[i].path, strlen(endpoints[i].path)))
			return &endpoints[i];
	return NULL;
}

/* ---- feedback ---- */

static void send_json(struct exchange *ex, int status, const char *json, size_t len)
{
	ex->final_sent = 1;
	ex->req->res.status = status;
	ex->req->res.reason = status == 200 ? "OK" : "Error";
	h2o_set_header(&ex->req->pool, &ex->req->res.headers, H2O_TOKEN_CONTENT_TYPE, H2O_STRLIT("application/json"),
		       0);
	h2o_send_inline(ex->req, json, len);
}

/* Reads label, score and metric; returns an error message or NULL. */
static const char *feedback_fields(struct json_object *o, int *label, double *score, const char **metric)
{
	struct json_object *v;
	json_object_object_foreach(o, key, val)
	{
		(void)val;
		if (strcmp(key, "request_id") && strcmp(key, "label") && strcmp(key, "score") && strcmp(key, "metric"))
			return "unknown field: use request_id, label, score and metric";
	}
	if (json_object_object_get_ex(o, "label", &v)) {
		const char *l = json_object_is_type(v, json_type_string) ? json_object_get_string(v) : "";
		*label = !strcmp(l, "thumbs_up") ? 0 : !strcmp(l, "thumbs_down") ? 1 : -2;
		if (*label == -2)
			return "'label' must be \"thumbs_up\" or \"thumbs_down\"";
	}
	if (json_object_object_get_ex(o, "score", &v)) {
		if (!json_object_is_type(v, json_type_double) && !json_object_is_type(v, json_type_int))
			return "'score' must be a number";
		*score = json_object_get_double(v);
		if (!isfinite(*score))
			return "'score' must be a finite number";
	}
	if (json_object_object_get_ex(o, "metric", &v)) {
		if (!json_object_is_type(v, json_type_string) || json_object_get_string_len(v) == 0 ||
		    json_object_get_string_len(v) > 47)
			return "'metric' must be a name of 1 to 47 characters";
		*metric = json_object_get_string(v);
	}
	if (*label < 0 && isnan(*score))
		return "give a 'label' (thumbs_up or thumbs_down), a 'score', or both";
	return NULL;
}

static void feedback(struct exchange *ex)
{
	h2o_req_t *req = ex->req;
	struct json_object *o = NULL, *idv;
	const char *model, *version, *metric = NULL, *why;
	int label = -1;
	double score = NAN;
	json_tokener_reset(sl_server.tok);
	json_tokener_set_flags(sl_server.tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	if (req->entity.len == 0 || req->entity.len > 65536 ||
	    !(o = json_tokener_parse_ex(sl_server.tok, req->entity.base, (int)req->entity.len)) ||
	    json_tokener_get_parse_end(sl_server.tok) != req->entity.len || !json_object_is_type(o, json_type_object)) {
		if (o)
			json_object_put(o);
		return fail(ex, 400, "invalid_json", "invalid_json", "the body must be one JSON object of at most 64 KiB");
	}
	if (!json_object_object_get_ex(o, "request_id", &idv) || !json_object_is_type(idv, json_type_string)) {
		json_object_put(o);
		return fail(ex, 400, "bad_request", "invalid_request", "'request_id' (the x-sluice-request-id of the "
									"answer) is required");
	}
	if ((why = feedback_fields(o, &label, &score, &metric)) != NULL) {
		json_object_put(o);
		return fail(ex, 400, "bad_request", "invalid_request", why);
	}
	struct sl_slice id = sl_slice_make(json_object_get_string(idv), (size_t)json_object_get_string_len(idv));
	int rc = sl_reqmap_take(id, &model, &version);
	if (rc) {
		json_object_put(o);
		return fail(ex, rc == SL_ESTATE ? 409 : 404, rc == SL_ESTATE ? "feedback_exists" : "request_not_found",
			    rc == SL_ESTATE ? "feedback_exists" : "request_not_found",
			    rc == SL_ESTATE ? "this request already has feedback"
					    : "unknown or expired request id (only recent requests can be rated)");
	}
	char idcopy[33];
	snprintf(idcopy, sizeof(idcopy), "%.*s", (int)id.len, id.ptr);
	sl_reqmap_count(model, version, label, score);
	sl_drift_live_feedback(model, version, label);
	sl_rollouts_feedback(model, version, label, score, metric, idcopy);
	struct sl_buf out;
	sl_buf_init(&out, 0);
	int w = sl_buf_printf(&out, "{\"request_id\":\"%s\",\"model\":", idcopy);
	w = w ? w : sl_buf_json_str(&out, model, strlen(model));
	w = w ? w : sl_buf_puts(&out, ",\"version\":");
	w = w ? w : sl_buf_json_str(&out, version, strlen(version));
	w = w ? w : sl_buf_puts(&out, ",\"recorded\":true}");
	json_object_put(o);
	send_json(ex, w ? 500 : 200, out.data ? out.data : "{}", out.data ? out.len : 2);
	sl_buf_release(&out);
}

static int on_req(h2o_handler_t *self, h2o_req_t *req)
{
	const struct endpoint *ep = find_endpoint(req);
	struct exchange *ex = exchange_new(req, ep ? ep->name : "unknown");
	ex->ref = sl_routes_hold();
	if (sl_server.draining) {
		fail(ex, 503, "draining", "service_unavailable", "the gateway is shutting down");
	} else if (!ep) {
		fail(ex, 404, "unknown_url", "unknown_url", "unknown URL: this gateway serves /v1/chat/completions, "
						       "/v1/completions, /v1/embeddings, /v1/models and /v1/feedback");
	} else if (ep->post != h2o_memis(req->method.base, req->method.len, H2O_STRLIT("POST")) ||
		   (!ep->post && !h2o_memis(req->method.base, req->method.len, H2O_STRLIT("GET")))) {
		fail(ex, 405, "method_not_allowed", "method_not_allowed", ep->post ? "use POST" : "use GET");
	} else if (!ep->post) {
		list_models(ex);
	} else if (strcmp(ep->name, "feedback") == 0) {
		feedback(ex);
	} else if (strcmp(ep->name, "events") == 0) {
		ex->final_sent = 1;
		sl_experiments_events_post(req);
	} else if (strcmp(ep->name, "recs") == 0) {
		ex->final_sent = 1;
		sl_experiments_recs_post(req);
	} else {
		route_and_forward(ex);
	}
	return 0;
}

/* ---- errors h2o sends before a handler runs ----
 * A body over h2o's own limit (twice max_body_bytes) is refused while it is read, with a plain
 * text 413 sent through the host's fallback path. This filter, on that path only, gives it the
 * OpenAI shape and a request id, and counts it like any other request. */

struct body_swap {
	h2o_ostream_t super;
	h2o_iovec_t body;
};

static void swap_do_send(h2o_ostream_t *self, h2o_req_t *req, h2o_iovec_t *bufs, size_t n, h2o_send_state_t state)
{
	struct body_swap *sw = (struct body_swap *)self;
	if (h2o_send_state_is_in_progress(state))
		h2o_ostream_send_next(self, req, NULL, 0, state);
	else
		h2o_ostream_send_next(self, req, &sw->body, 1, state);
}

static void on_early_error(h2o_filter_t *self, h2o_req_t *req, h2o_ostream_t **slot)
{
	struct sl_event ev;
	struct sl_buf body;
	const struct endpoint *ep = find_endpoint(req);
	sl_event_init(&ev);
	ev.start = sl_wall_time();
	ev.endpoint = ep ? ep->name : "unknown";
	ev.status = req->res.status;
	ev.error_class = req->res.status == 413 ? "body_too_large" : "bad_request";
	sl_request_id(&sl_server.rng, ev.request_id);
	sl_buf_init(&body, 0);
	if (req->res.status == 413)
		sl_oai_error(&body, "invalid_request_error", "request_too_large",
			     "request body exceeds the configured limit");
	else
		sl_oai_error(&body, "invalid_request_error", "bad_request", "the HTTP request is invalid");
	struct body_swap *sw = (struct body_swap *)h2o_add_ostream(req, sizeof(*sw), slot);
	sw->super.do_send = swap_do_send;
	sw->body = h2o_strdup(&req->pool, body.data ? body.data : "", body.len);
	sl_buf_release(&body);
	req->res.content_length = sw->body.len;
	h2o_set_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, H2O_STRLIT("application/json"), 1);
	h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("x-sluice-request-id"), 0, NULL,
			      h2o_strdup(&req->pool, ev.request_id, 32).base, 32);
	ev.response_bytes = sw->body.len;
	sl_server_record(&ev);
	h2o_setup_next_ostream(req, &sw->super.next);
}

int sl_proxy_register(h2o_hostconf_t *host)
{
	h2o_pathconf_t *path = h2o_config_register_path(host, "/", 0);
	h2o_handler_t *h = h2o_create_handler(path, sizeof(*h));
	h2o_filter_t *f = h2o_create_filter(&host->fallback_path, sizeof(*f));
	if (!h || !f)
		return SL_ENOMEM;
	h->on_req = on_req;
	f->on_setup_ostream = on_early_error;
	return 0;
}
