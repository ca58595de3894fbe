/* sim_http.c: the simulator's endpoints: the OpenAI-compatible API (chat completions,
 * completions, embeddings, models) and the control API (/sim/stats, /sim/reset), plus the
 * x-sim-fault hooks and the random errors and bad answers; with --recs, non-streamed chat
 * completions without a fault are answered by the simulated recommender (sim_recs.c).
 * Invariants: every request is answered with an OpenAI-shaped body unless a fault says not to;
 * random draws happen in a fixed order per request, so a seed replays the same run. */
#include <json-c/json.h>
#include <math.h>
#include <string.h>
#include <time.h>

#include "sim/sim.h"

enum fault { F_NONE, F_ERROR_500, F_DIE, F_HANG, F_SLOW, F_CLOSE, F_UNKNOWN };

struct sim_handler {
	h2o_handler_t super;
	struct sl_sim *sim;
};

void sl_sim_add_header(h2o_req_t *req, const char *name, size_t nlen, const char *value, size_t vlen)
{
	h2o_add_header_by_str(&req->pool, &req->res.headers, name, nlen, 0, NULL, value, vlen);
}

void sl_sim_set_json(h2o_req_t *req)
{
	h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL, H2O_STRLIT("application/json"));
}

static bool iov_is(h2o_iovec_t v, const char *s)
{
	size_t n = strlen(s);
	return v.len == n && memcmp(v.base, s, n) == 0;
}

static int read_fault(h2o_req_t *req)
{
	static const char *const names[] = {"", "error-500", "die-mid-stream", "hang", "slow-first-byte", "close"};
	ssize_t i = h2o_find_header_by_str(&req->headers, H2O_STRLIT("x-sim-fault"), -1);
	if (i < 0)
		return F_NONE;
	h2o_iovec_t v = req->headers.entries[i].value;
	for (int f = F_ERROR_500; f < F_UNKNOWN; f++)
		if (iov_is(v, names[f]))
			return f;
	return F_UNKNOWN;
}

static bool draw(struct sl_sim *sim, double rate)
{
	return rate > 0 && sl_rng_double(&sim->rng) < rate;
}

static uint64_t draw_ms(struct sl_sim *sim, double median, double sigma)
{
	if (median <= 0)
		return 0;
	double ms = sl_rng_lognormal(&sim->rng, median, sigma);
	return ms > 10 * SL_SIM_MAX_MS ? (uint64_t)(10 * SL_SIM_MAX_MS) : (uint64_t)llround(ms);
}

static void send_error(struct sl_sim *sim, h2o_req_t *req, int status, const char *msg, const char *code, bool counted)
{
	struct sl_sim_error err = {status, msg, NULL, code};
	sl_sim_reply_error(sim, req, &err, 0, counted);
}

static h2o_iovec_t answer_body(struct sl_sim *sim, h2o_req_t *req, const struct sl_sim_plan *plan, bool bad)
{
	char id[33];
	sl_request_id(&sim->rng, id);
	struct sl_sim_answer a = {plan, id, (uint64_t)time(NULL), plan->text_hash ^ sim->cfg.seed, bad};
	sl_buf_reset(&sim->scratch);
	int rc = plan->kind == SL_SIM_EMBED ? sl_sim_body_embeddings(&sim->scratch, plan)
	                                    : sl_sim_body_answer(&sim->scratch, &a);
	if (rc)
		return h2o_iovec_init(NULL, 0);
	return sl_sim_pool_copy(req, &sim->scratch);
}

/* The request's "user" field when it is a string, else NULL. */
static const char *user_of(struct json_object *doc, size_t *len)
{
	struct json_object *u = NULL;
	if (!json_object_object_get_ex(doc, "user", &u) || !json_object_is_type(u, json_type_string))
		return NULL;
	*len = (size_t)json_object_get_string_len(u);
	return json_object_get_string(u);
}

static void answer(struct sl_sim *sim, h2o_req_t *req, const struct sl_sim_plan *plan, int fault,
                   struct json_object *doc)
{
	if (sim->cfg.recs && plan->kind == SL_SIM_CHAT && !plan->stream && fault == F_NONE) {
		size_t ulen = 0;
		const char *user = user_of(doc, &ulen);
		sl_sim_recs_answer(sim, req, plan, user, ulen, draw_ms(sim, sim->cfg.latency_ms, sim->cfg.latency_sigma));
		return;
	}
	uint64_t delay = fault == F_SLOW ? (uint64_t)llround(sim->cfg.latency_ms * 10) : 0;
	bool bad = plan->kind != SL_SIM_EMBED && draw(sim, sim->cfg.bad_answer_rate);
	sim->stats.bad_answers += bad;
	if (plan->stream) {
		struct sl_sim_stream_opts o = {delay, (double)draw_ms(sim, sim->cfg.ttft_ms, sim->cfg.ttft_sigma), bad,
		                               fault == F_DIE};
		sl_sim_stream_start(sim, req, plan, &o);
		return;
	}
	delay += draw_ms(sim, sim->cfg.latency_ms, sim->cfg.latency_sigma);
	h2o_iovec_t body = answer_body(sim, req, plan, bad);
	if (!body.base) {
		send_error(sim, req, 500, "the simulated answer is too large", "server_error", true);
		return;
	}
	if (plan->kind != SL_SIM_EMBED)
		sl_sim_add_header(req, H2O_STRLIT("x-sim-answer"), bad ? "bad" : "good", bad ? 3 : 4);
	sl_sim_reply(sim, req, 200, body, delay, fault == F_DIE, true);
}

static void inference(struct sl_sim *sim, h2o_req_t *req, enum sl_sim_kind kind)
{
	struct sl_sim_plan plan;
	struct sl_sim_error err;
	struct json_object *doc;
	int fault = read_fault(req);
	sim->stats.requests++;
	if (fault == F_UNKNOWN) {
		send_error(sim, req, 400,
		           "x-sim-fault must be one of error-500, die-mid-stream, hang, "
		           "slow-first-byte, close",
		           "invalid_fault", true);
		return;
	}
	if (sl_sim_plan_parse(sim, req, kind, &plan, &doc, &err)) {
		sl_sim_reply_error(sim, req, &err, 0, true);
		return;
	}
	sim->stats.faults += fault != F_NONE;
	if (fault == F_CLOSE) {
		sl_sim_close_now(req);
	} else if (fault == F_HANG) {
		sl_sim_hang(sim, req);
	} else if (draw(sim, sim->cfg.error_rate) || fault == F_ERROR_500) {
		struct sl_sim_error e500 = {500, "The simulated server had an error while processing your request.",
		                            NULL, "sim_error"};
		sl_sim_reply_error(sim, req, &e500, draw_ms(sim, sim->cfg.latency_ms, sim->cfg.latency_sigma), true);
	} else {
		answer(sim, req, &plan, fault, doc);
	}
	json_object_put(doc);
}

static void stats(struct sl_sim *sim, h2o_req_t *req)
{
	const struct sl_sim_stats *st = &sim->stats;
	struct sl_buf *b = &sim->scratch;
	sl_buf_reset(b);
	int rc = sl_buf_printf(b,
	                       "{\"requests\":%llu,\"streams\":%llu,\"completed\":%llu,\"errors\":%llu,"
	                       "\"client_disconnects\":%llu,\"bad_answers\":%llu,\"faults\":%llu,"
	                       "\"model_lists\":%llu,\"pending\":%llu,\"last_model\":",
	                       (unsigned long long)st->requests, (unsigned long long)st->streams,
	                       (unsigned long long)st->completed, (unsigned long long)st->errors,
	                       (unsigned long long)st->client_disconnects, (unsigned long long)st->bad_answers,
	                       (unsigned long long)st->faults, (unsigned long long)st->model_lists,
	                       (unsigned long long)sim->pending);
	rc |= st->have_last_model ? sl_buf_json_str(b, st->last_model, st->last_model_len) : sl_buf_puts(b, "null");
	rc |= sl_buf_puts(b, "}");
	if (rc)
		sl_buf_reset(b);
	sl_sim_reply(sim, req, 200, sl_sim_pool_copy(req, b), 0, false, false);
}

static void reset(struct sl_sim *sim, h2o_req_t *req)
{
	sim->stats = (struct sl_sim_stats){0};
	sl_sim_reply(sim, req, 200, h2o_iovec_init(H2O_STRLIT("{\"reset\":true}")), 0, false, false);
}

static void models(struct sl_sim *sim, h2o_req_t *req)
{
	sim->stats.model_lists++;
	sl_sim_reply(sim, req, 200, sim->models_body, 0, false, false);
}

static void unknown(struct sl_sim *sim, h2o_req_t *req, int status)
{
	char msg[160];
	int n = (int)(req->path_normalized.len > 80 ? 80 : req->path_normalized.len);
	snprintf(msg, sizeof(msg), "%s: %.*s %.*s", status == 404 ? "Unknown request URL" : "Method not allowed",
	         (int)(req->method.len > 16 ? 16 : req->method.len), req->method.base, n, req->path_normalized.base);
	send_error(sim, req, status, msg, status == 404 ? "unknown_url" : "method_not_allowed", false);
}

static void chat(struct sl_sim *sim, h2o_req_t *req)
{
	inference(sim, req, SL_SIM_CHAT);
}

static void text(struct sl_sim *sim, h2o_req_t *req)
{
	inference(sim, req, SL_SIM_TEXT);
}

static void embed(struct sl_sim *sim, h2o_req_t *req)
{
	inference(sim, req, SL_SIM_EMBED);
}

static const struct route {
	const char *path, *method;
	void (*serve)(struct sl_sim *sim, h2o_req_t *req);
} routes[] = {
    {"/v1/chat/completions", "POST", chat}, {"/v1/completions", "POST", text}, {"/v1/embeddings", "POST", embed},
    {"/v1/models", "GET", models},          {"/sim/stats", "GET", stats},      {"/sim/reset", "POST", reset},
};

static int on_req(h2o_handler_t *self, h2o_req_t *req)
{
	struct sl_sim *sim = ((struct sim_handler *)self)->sim;
	bool known_path = false;
	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		if (!iov_is(req->path_normalized, routes[i].path))
			continue;
		known_path = true;
		if (iov_is(req->method, routes[i].method)) {
			routes[i].serve(sim, req);
			return 0;
		}
	}
	unknown(sim, req, known_path ? 405 : 404);
	return 0;
}

static int build_models_body(struct sl_sim *sim)
{
	struct sl_buf b;
	sl_buf_init(&b, 0);
	int rc = sl_buf_puts(&b, "{\"object\":\"list\",\"data\":[{\"id\":");
	rc |= sl_buf_append(&b, sim->model_json.base, sim->model_json.len);
	rc |= sl_buf_printf(&b, ",\"object\":\"model\",\"created\":%llu,\"owned_by\":\"sluice-sim\"}]}",
	                    (unsigned long long)time(NULL));
	if (rc) {
		sl_buf_release(&b);
		return SL_ENOMEM;
	}
	sim->models_body = h2o_iovec_init(b.data, b.len); /* lives as long as the process */
	return 0;
}

static int build_model_json(struct sl_sim *sim)
{
	struct sl_buf b;
	sl_buf_init(&b, 0);
	if (sl_buf_json_str(&b, sim->cfg.model_id, strlen(sim->cfg.model_id))) {
		sl_buf_release(&b);
		return SL_ENOMEM;
	}
	sim->model_json = h2o_iovec_init(b.data, b.len); /* lives as long as the process */
	return 0;
}

int sl_sim_http_init(struct sl_sim *sim)
{
	h2o_config_init(&sim->globalconf);
	sim->globalconf.max_request_entity_size = SL_SIM_MAX_BODY;
	sim->globalconf.http1.upgrade_to_http2 = 0; /* the hang-up watch reads HTTP/1 sockets only */
	sim->globalconf.server_name = h2o_iovec_init(H2O_STRLIT("sluice-sim"));
	h2o_hostconf_t *host = h2o_config_register_host(&sim->globalconf, h2o_iovec_init(H2O_STRLIT("default")), 65535);
	h2o_pathconf_t *path = h2o_config_register_path(host, "/", 0);
	struct sim_handler *h = (struct sim_handler *)h2o_create_handler(path, sizeof(*h));
	h->super.on_req = on_req;
	h->sim = sim;
	h2o_linklist_init_anchor(&sim->watched);
	sim->tok = json_tokener_new_ex(32);
	if (!sim->tok)
		return SL_ENOMEM;
	json_tokener_set_flags(sim->tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	sl_buf_init(&sim->scratch, 64u << 20);
	int rc = build_model_json(sim);
	return rc ? rc : build_models_body(sim);
}
