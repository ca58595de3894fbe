/* mirror.c: the shadow stage of a rollout. A share of the stable version's requests is copied to
 * the candidate; the copy lives on its own (the client never waits for it and may leave), its
 * answer is read through the SSE tap or kept (bounded) for usage, measured as a candidate
 * observation for the judge, and thrown away. Mirrors are capped so a slow candidate cannot
 * pile them up. */
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "proxy/proxy.h"
#include "proxy/rollouts.h"
#include "sluice/openai.h"

#define MAX_MIRRORS 256
#define MAX_COPY (1u << 20)

struct mirror {
	h2o_http1client_t *client;
	h2o_iovec_t bufs[2];
	struct sl_buf head, body, copy, sink;
	struct sl_sse_tap tap;
	struct sl_event ev;
	char model[129], version[129], upstream[300];
	uint64_t t_start, t_upstream;
	unsigned tap_on : 1, stream : 1;
};

static long in_flight;

long sl_mirrors_in_flight(void)
{
	return in_flight;
}

static double since(uint64_t t0)
{
	return (double)(sl_now_ns() - t0) / 1e9;
}

static void finish(struct mirror *mi, const char *error_class)
{
	struct sl_oai_usage u;
	sl_oai_usage_init(&u);
	if (mi->tap_on) {
		u = mi->tap.usage;
	} else if (mi->copy.len) {
		struct json_object *o = json_tokener_parse(mi->copy.data);
		if (o) {
			sl_oai_usage_scan(&u, o);
			json_object_put(o);
		}
	}
	mi->ev.prompt_tokens = u.prompt_tokens;
	mi->ev.completion_tokens = u.completion_tokens;
	mi->ev.finish_reason = u.finish_reason[0] ? u.finish_reason : NULL;
	mi->ev.error_class = error_class;
	mi->ev.total_s = since(mi->t_start);
	sl_rollouts_observe(&mi->ev, true);
	if (mi->tap_on)
		sl_sse_tap_release(&mi->tap);
	sl_buf_release(&mi->head);
	sl_buf_release(&mi->body);
	sl_buf_release(&mi->copy);
	sl_buf_release(&mi->sink);
	free(mi);
	in_flight--;
}

static int on_body(h2o_http1client_t *client, const char *errstr)
{
	struct mirror *mi = client->data;
	h2o_buffer_t **in = &client->sock->input;
	bool first = false;
	if (mi->tap_on) {
		sl_sse_tap_feed(&mi->tap, (*in)->bytes, (*in)->size, &mi->sink, &first);
		sl_buf_reset(&mi->sink);
		if (first && mi->ev.ttft_s < 0)
			mi->ev.ttft_s = since(mi->t_start);
	} else if (sl_buf_append(&mi->copy, (*in)->bytes, (*in)->size) != 0) {
		sl_buf_reset(&mi->copy); /* too big to read usage from: measured without tokens */
	}
	h2o_buffer_consume(in, (*in)->size);
	if (errstr)
		finish(mi, errstr == h2o_http1client_error_is_eos ? NULL : "upstream_error");
	return 0;
}

static h2o_http1client_body_cb on_head(h2o_http1client_t *client, const char *errstr, int minor_version, int status,
				       h2o_iovec_t msg, h2o_header_t *headers, size_t num_headers, int rlen)
{
	struct mirror *mi = client->data;
	mi->ev.status = errstr && errstr != h2o_http1client_error_is_eos ? 0 : status;
	if (mi->ev.status == 0) {
		finish(mi, strstr(errstr, "timeout") ? "upstream_timeout" : "upstream_error");
		return NULL;
	}
	for (size_t i = 0; i < num_headers; i++)
		if (h2o_lcstris(headers[i].name->base, headers[i].name->len, H2O_STRLIT("content-type")) &&
		    headers[i].value.len >= 17 && h2o_lcstris(headers[i].value.base, 17, H2O_STRLIT("text/event-stream")))
			mi->tap_on = mi->stream && sl_sse_tap_init(&mi->tap, false, 1u << 20) == 0;
	if (errstr == h2o_http1client_error_is_eos) {
		finish(mi, status >= 400 ? "upstream_status" : NULL);
		return NULL;
	}
	return on_body;
}

static h2o_http1client_head_cb on_connect(h2o_http1client_t *client, const char *errstr, h2o_iovec_t **reqbufs,
					  size_t *reqbufcnt, int *method_is_head)
{
	struct mirror *mi = client->data;
	if (errstr) {
		finish(mi, "upstream_connect");
		return NULL;
	}
	mi->t_upstream = sl_now_ns();
	*reqbufs = mi->bufs;
	*reqbufcnt = 2;
	*method_is_head = 0;
	return on_head;
}

void sl_mirror_start(h2o_req_t *req, const struct sl_route_model *m, struct sl_oai_request *body,
		     const char *request_id)
{
	struct sl_route_version *v = m->shadow;
	if (in_flight >= MAX_MIRRORS)
		return;
	struct mirror *mi = calloc(1, sizeof(*mi));
	if (!mi)
		return;
	size_t idx;
	const struct sl_url *url = sl_route_next_upstream(v, &idx);
	sl_buf_init(&mi->head, 0);
	sl_buf_init(&mi->body, 0);
	sl_buf_init(&mi->copy, MAX_COPY);
	sl_buf_init(&mi->sink, 0);
	sl_event_init(&mi->ev);
	snprintf(mi->model, sizeof(mi->model), "%s", m->name);
	snprintf(mi->version, sizeof(mi->version), "%s", v->name);
	snprintf(mi->upstream, sizeof(mi->upstream), "%s:%u", url->host, url->port);
	mi->ev.model = mi->model;
	mi->ev.version = mi->version;
	mi->ev.upstream = mi->upstream;
	mi->ev.endpoint = "shadow";
	mi->ev.start = sl_wall_time();
	mi->stream = body->stream;
	mi->ev.stream = body->stream;
	snprintf(mi->ev.request_id, sizeof(mi->ev.request_id), "%s", request_id);
	mi->t_start = sl_now_ns();
	h2o_socketpool_t *pool = sl_upstream_pool_get(&sl_server, url);
	if (!pool || sl_oai_request_rewrite(body, v->upstream_model, &mi->body) != 0 ||
	    sl_upstream_head(req, v, url, mi->body.len, request_id, &mi->head) != 0) {
		in_flight++;
		return finish(mi, "internal");
	}
	mi->bufs[0] = h2o_iovec_init(mi->head.data, mi->head.len);
	mi->bufs[1] = h2o_iovec_init(mi->body.data, mi->body.len);
	in_flight++;
	h2o_http1client_connect_with_pool(&mi->client, mi, &sl_server.client_ctx, pool, on_connect);
}
