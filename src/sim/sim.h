/* sim.h: private header of `sluice sim`, a simulated OpenAI-compatible model server.
 * The pieces: options and the event loop (sim.c), delay timers (sim_timer.c), request parsing
 * (sim_req.c), response bodies (sim_body.c), endpoints (sim_http.c), deferred and faulty replies
 * (sim_reply.c), paced SSE streams (sim_stream.c) and the recommender of --recs (sim_recs.c).
 * Invariants: everything runs on one h2o event loop thread, so no state needs locking; every
 * object that outlives its handler call lives in the request's pool and is disposed with it. */
#ifndef SLUICE_SIM_H
#define SLUICE_SIM_H

#include <stdbool.h>
#include <stdint.h>

#include <h2o.h>

#include "sluice/core.h"

#define SL_SIM_MAX_BODY   ((size_t)8 << 20) /* larger request bodies get 413 from h2o */
#define SL_SIM_MAX_TOKENS 4096
#define SL_SIM_MAX_DIMS   4096
#define SL_SIM_MAX_INPUTS 2048
#define SL_SIM_MAX_FLOATS ((size_t)1 << 20) /* embedding values in one response */
#define SL_SIM_MAX_MS     600000.0
#define SL_SIM_MODEL_MAX  256 /* longest accepted `model` field, in bytes */

struct sl_sim_config {
	const char *listen;
	const char *model_id;
	uint64_t seed;
	double latency_ms, latency_sigma; /* non-streamed replies: lognormal total latency */
	double ttft_ms, ttft_sigma;       /* streams: lognormal time to first token */
	double tokens_per_second;         /* streams: 0 = as fast as the client reads */
	double error_rate, bad_answer_rate;
	uint64_t max_tokens; /* completion length when the request sets none */
	bool quiet;
	bool recs, repeat;      /* --recs: chat answers are recommendation slates; --repeat: the same per user */
	uint64_t catalog, slate; /* items in the catalog, items per slate */
};

/* Fills cfg from argv (argv[0] is "sim"). Returns 0, 1 when --help was printed, or SL_EINVAL
 * after printing why to stderr. */
int sl_sim_config_parse(struct sl_sim_config *cfg, int argc, char **argv);

/* Counters served by GET /sim/stats. */
struct sl_sim_stats {
	uint64_t requests, streams, completed, errors, client_disconnects, bad_answers, faults, model_lists;
	char last_model[SL_SIM_MODEL_MAX + 1];
	size_t last_model_len;
	bool have_last_model;
};

/* Timers of any duration on h2o's fixed-duration timeouts: bucket k waits 2^k ms (bucket 0
 * waits 0 ms); a timer sits in the largest bucket not past its due time and moves down as
 * it nears, so it fires within about 1 ms of due and costs O(log delay) relinks. */
#define SL_SIM_CLOCK_BUCKETS 22
struct sl_sim_clock {
	h2o_loop_t *loop;
	h2o_timeout_t buckets[SL_SIM_CLOCK_BUCKETS];
};
struct sl_sim_timer {
	h2o_timeout_entry_t entry;
	struct sl_sim_clock *clock;
	uint64_t due_ms;
	void (*cb)(struct sl_sim_timer *t);
};
void sl_sim_clock_init(struct sl_sim_clock *c, h2o_loop_t *loop);
void sl_sim_timer_init(struct sl_sim_timer *t, struct sl_sim_clock *c, void (*cb)(struct sl_sim_timer *t));
/* Arms t for the loop time due_ms (ms); fires from the loop, never from this call. */
void sl_sim_timer_start(struct sl_sim_timer *t, uint64_t due_ms);
void sl_sim_timer_stop(struct sl_sim_timer *t);
static inline uint64_t sl_sim_clock_now(struct sl_sim_clock *c)
{
	return h2o_now(c->loop);
}

/* The server. */
struct sl_sim {
	struct sl_sim_config cfg;
	struct sl_sim_stats stats;
	struct sl_rng rng;
	struct sl_sim_clock clock;
	h2o_globalconf_t globalconf;
	h2o_context_t ctx;
	h2o_accept_ctx_t accept_ctx;
	struct sl_buf scratch;    /* response bodies are built here, then copied to the pool */
	struct json_tokener *tok; /* reused for every request body */
	h2o_iovec_t model_json;   /* the --model-id as a JSON string literal */
	h2o_iovec_t models_body;  /* GET /v1/models */
	h2o_socket_t *listener, *signals;
	h2o_linklist_t watched; /* pending requests whose sockets are watched for hang-ups */
	uint64_t pending;       /* pending requests alive */
	volatile bool stop;
};

/* A parsed inference request. */
enum sl_sim_kind { SL_SIM_CHAT, SL_SIM_TEXT, SL_SIM_EMBED };
struct sl_sim_plan {
	enum sl_sim_kind kind;
	h2o_iovec_t model; /* JSON string literal, quotes included; in the request pool or static */
	const char *model_raw;
	size_t model_raw_len; /* 0 with model_raw NULL when the request named no model */
	bool stream, include_usage, length_cut, base64;
	uint32_t n_tokens, dims;
	uint64_t prompt_tokens, text_hash;
	struct sl_slice *inputs; /* embeddings: valid while the parsed document lives */
	size_t n_inputs;
};
struct sl_sim_error {
	int status;
	const char *message, *param, *code;
};
struct json_object;
/* Parses req->entity for kind into plan. On success *doc holds the parsed document (release
 * it with json_object_put once done with plan->inputs); on failure fills err. */
int sl_sim_plan_parse(struct sl_sim *sim, h2o_req_t *req, enum sl_sim_kind kind, struct sl_sim_plan *plan,
                      struct json_object **doc, struct sl_sim_error *err);

/* Response bodies, appended to b; each returns 0 or SL_ENOMEM/SL_ETOOBIG. */
struct sl_sim_answer {
	const struct sl_sim_plan *plan;
	const char *id; /* 32 hex characters */
	uint64_t created;
	uint64_t seed; /* picks the answer's words */
	bool bad;
};
struct sl_slice sl_sim_token(uint64_t seed, bool bad, uint32_t i);
int sl_sim_body_answer(struct sl_buf *b, const struct sl_sim_answer *a);
int sl_sim_body_embeddings(struct sl_buf *b, const struct sl_sim_plan *p);
/* A chat completion whose message content is the given text (JSON-escaped here). */
int sl_sim_body_content(struct sl_buf *b, const struct sl_sim_answer *a, const char *content, size_t len);
int sl_sim_body_error(struct sl_buf *b, const char *message, const char *type, const char *param, const char *code);
/* SSE events of a stream; head is `data: {"id":...,"model":...,` from sl_sim_chunk_head. */
int sl_sim_chunk_head(struct sl_buf *b, const struct sl_sim_answer *a);
int sl_sim_chunk_role(struct sl_buf *b, h2o_iovec_t head);
int sl_sim_chunk_token(struct sl_buf *b, h2o_iovec_t head, enum sl_sim_kind kind, struct sl_slice tok);
int sl_sim_chunk_finish(struct sl_buf *b, h2o_iovec_t head, enum sl_sim_kind kind, bool length_cut);
int sl_sim_chunk_usage(struct sl_buf *b, h2o_iovec_t head, uint64_t prompt_tokens, uint64_t completion_tokens);
int sl_sim_put_u64(struct sl_buf *b, uint64_t v);
uint64_t sl_sim_hash(uint64_t h, const char *p, size_t n); /* FNV-1a 64, chainable from 0 */

/* Requests answered later. A pending request lives in its request's pool; while it waits its
 * socket is watched, so a client that hangs up is counted in client_disconnects and the
 * connection is closed at once. */
struct sl_sim_pending {
	h2o_generator_t gen; /* first: h2o hands it back to the callbacks */
	struct sl_sim *sim;
	h2o_req_t *req;
	h2o_socket_t *sock;
	h2o_linklist_t watch;
	struct sl_sim_timer timer;
	void (*resume)(struct sl_sim_pending *p); /* due time reached or previous send written */
	void (*dispose)(struct sl_sim_pending *p);
	bool started, in_flight, gone;
};
struct sl_sim_pending *sl_sim_pending_new(struct sl_sim *sim, h2o_req_t *req, size_t size,
                                          void (*resume)(struct sl_sim_pending *p));
/* Calls resume at due_ms (at once when already due). */
void sl_sim_pending_wait(struct sl_sim_pending *p, uint64_t due_ms);
/* Sends bufs; p is gone once a final state has been sent. */
void sl_sim_pending_send(struct sl_sim_pending *p, h2o_iovec_t *bufs, size_t n, h2o_send_state_t state);
/* Ends the response without its terminator and closes the connection; shut first sends FIN so
 * the peer sees the close right after the bytes already written. p is gone on return. */
void sl_sim_pending_abort(struct sl_sim_pending *p, bool shut);

/* Replies: JSON bodies now or after delay_ms; die sends half the body, then drops the connection.
 * counted replies answer inference requests: they count in completed (once sent) or errors. */
void sl_sim_reply(struct sl_sim *sim, h2o_req_t *req, int status, h2o_iovec_t body, uint64_t delay_ms, bool die,
                  bool counted);
void sl_sim_reply_error(struct sl_sim *sim, h2o_req_t *req, const struct sl_sim_error *err, uint64_t delay_ms,
                        bool counted);
void sl_sim_hang(struct sl_sim *sim, h2o_req_t *req);
void sl_sim_close_now(h2o_req_t *req);
/* Copies scratch into the request pool. */
h2o_iovec_t sl_sim_pool_copy(h2o_req_t *req, const struct sl_buf *b);

/* Streams: headers after delay_ms, then events paced by ttft and tokens per second. */
struct sl_sim_stream_opts {
	uint64_t delay_ms;
	double ttft_ms;
	bool bad, die;
};
void sl_sim_stream_start(struct sl_sim *sim, h2o_req_t *req, const struct sl_sim_plan *plan,
                         const struct sl_sim_stream_opts *o);

/* sim_recs.c: answers a non-streamed chat completion with a slate after delay_ms (--recs);
 * user is the request's "user" field (NULL: "anonymous"). */
void sl_sim_recs_answer(struct sl_sim *sim, h2o_req_t *req, const struct sl_sim_plan *plan, const char *user,
                        size_t ulen, uint64_t delay_ms);

/* Endpoints. */
int sl_sim_http_init(struct sl_sim *sim);
void sl_sim_add_header(h2o_req_t *req, const char *name, size_t nlen, const char *value, size_t vlen);
void sl_sim_set_json(h2o_req_t *req);

#endif
