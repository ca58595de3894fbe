/* sim_stream.c: server-sent event streams of chat.completion.chunk / text_completion objects,
 * paced like a model: headers with the first token after the time to first token, then one
 * token per 1/tokens-per-second, then the finish chunk, the optional usage chunk and [DONE].
 *
 * Pacing is by schedule, not by sleeps: event i is due at t0 + ttft + i / tps, so a slow
 * reader never stretches the total, and every event already due goes out in one send (at most
 * BATCH_EVENTS). The next send happens only from h2o's proceed callback (backpressure).
 * Phases: FIRST (role chunk, chat only) -> TOKENS -> FINISH -> USAGE (include_usage only)
 * -> DONE ([DONE] sent with the final state) -> END; pump() performs every transition. */
#include <math.h>
#include <time.h>

#include "sim/sim.h"

#define BATCH_EVENTS 64
#define DIE_AFTER    3 /* content chunks sent before die-mid-stream drops the connection */

enum phase { PH_FIRST, PH_TOKENS, PH_FINISH, PH_USAGE, PH_DONE, PH_END };
enum fill { FILL_WAIT, FILL_MORE, FILL_DONE, FILL_DIE, FILL_ERR };

struct stream {
	struct sl_sim_pending p; /* first */
	struct sl_buf out;       /* the events of the send under way */
	h2o_iovec_t head;        /* `data: {"id":…,"model":…,` in the pool */
	enum sl_sim_kind kind;
	enum phase phase;
	bool include_usage, length_cut, bad, die, begun;
	uint32_t n_tokens, emitted;
	uint64_t prompt_tokens, seed, t0_ms;
	double ttft_ms, ms_per_token;
};

/* One step of the phase machine; sets *wait_ms when the next event is not due yet. */
static int step(struct stream *s, double elapsed, double *wait_ms)
{
	switch (s->phase) {
	case PH_FIRST:
		if (elapsed < s->ttft_ms) {
			*wait_ms = s->ttft_ms;
			return FILL_WAIT;
		}
		s->phase = PH_TOKENS;
		return s->kind == SL_SIM_CHAT && sl_sim_chunk_role(&s->out, s->head) ? FILL_ERR : FILL_MORE;
	case PH_TOKENS: {
		if (s->die && (s->emitted == DIE_AFTER || s->emitted == s->n_tokens))
			return FILL_DIE;
		if (s->emitted == s->n_tokens) {
			s->phase = PH_FINISH;
			return FILL_MORE;
		}
		double due = s->ttft_ms + s->emitted * s->ms_per_token;
		if (elapsed < due) {
			*wait_ms = due;
			return FILL_WAIT;
		}
		struct sl_slice tok = sl_sim_token(s->seed, s->bad, s->emitted++);
		return sl_sim_chunk_token(&s->out, s->head, s->kind, tok) ? FILL_ERR : FILL_MORE;
	}
	case PH_FINISH:
		s->phase = s->include_usage ? PH_USAGE : PH_DONE;
		return sl_sim_chunk_finish(&s->out, s->head, s->kind, s->length_cut) ? FILL_ERR : FILL_MORE;
	case PH_USAGE:
		s->phase = PH_DONE;
		return sl_sim_chunk_usage(&s->out, s->head, s->prompt_tokens, s->emitted) ? FILL_ERR : FILL_MORE;
	case PH_DONE:
		s->phase = PH_END;
		return sl_buf_append(&s->out, "data: [DONE]\n\n", 14) ? FILL_ERR : FILL_DONE;
	default:
		return FILL_DONE;
	}
}

/* Appends every event due at now (up to the batch limit). */
static int fill(struct stream *s, uint64_t now, uint64_t *next_due)
{
	double elapsed = now > s->t0_ms ? (double)(now - s->t0_ms) : 0, wait_ms = 0; /* h2o's clock is wall time */
	for (int n = 0; n < BATCH_EVENTS; n++) {
		int st = step(s, elapsed, &wait_ms);
		if (st == FILL_WAIT)
			*next_due = s->t0_ms + (uint64_t)ceil(wait_ms);
		if (st != FILL_MORE)
			return st;
	}
	*next_due = now;
	return FILL_MORE;
}

static void pump(struct sl_sim_pending *p)
{
	struct stream *s = (struct stream *)p;
	uint64_t now = sl_sim_clock_now(&p->sim->clock), next_due = now;
	if (!s->begun) {
		s->begun = true;
		s->t0_ms = now;
	}
	sl_buf_reset(&s->out);
	int st = fill(s, now, &next_due);
	if (st == FILL_ERR || (st == FILL_DIE && s->out.len == 0)) {
		sl_sim_pending_abort(p, st == FILL_DIE);
		return;
	}
	if (s->out.len == 0) { /* h2o sends no headers without a body byte: they go with the first event */
		sl_sim_timer_start(&p->timer, next_due);
		return;
	}
	h2o_iovec_t buf = h2o_iovec_init(s->out.data, s->out.len);
	if (st == FILL_DONE)
		p->sim->stats.completed++;
	sl_sim_pending_send(p, &buf, 1, st == FILL_DONE ? H2O_SEND_STATE_FINAL : H2O_SEND_STATE_IN_PROGRESS);
}

static void stream_dispose(struct sl_sim_pending *p)
{
	sl_buf_release(&((struct stream *)p)->out);
}

static void set_headers(h2o_req_t *req, bool bad)
{
	req->res.status = 200;
	req->res.reason = "OK";
	h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL, H2O_STRLIT("text/event-stream"));
	h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CACHE_CONTROL, NULL, H2O_STRLIT("no-cache"));
	if (bad)
		sl_sim_add_header(req, H2O_STRLIT("x-sim-answer"), H2O_STRLIT("bad"));
	else
		sl_sim_add_header(req, H2O_STRLIT("x-sim-answer"), H2O_STRLIT("good"));
}

void sl_sim_stream_start(struct sl_sim *sim, h2o_req_t *req, const struct sl_sim_plan *plan,
                         const struct sl_sim_stream_opts *o)
{
	char id[33];
	sl_request_id(&sim->rng, id);
	struct sl_sim_answer a = {.plan = plan, .id = id, .created = (uint64_t)time(NULL), .bad = o->bad};
	struct stream *s = (struct stream *)sl_sim_pending_new(sim, req, sizeof(*s), pump);
	s->p.dispose = stream_dispose;
	sl_buf_init(&s->out, 0);
	sl_buf_reset(&sim->scratch);
	if (sl_sim_chunk_head(&sim->scratch, &a))
		sl_buf_reset(&sim->scratch);
	s->head = sl_sim_pool_copy(req, &sim->scratch);
	s->kind = plan->kind;
	s->include_usage = plan->include_usage;
	s->length_cut = plan->length_cut;
	s->bad = o->bad;
	s->die = o->die;
	s->n_tokens = plan->n_tokens;
	s->prompt_tokens = plan->prompt_tokens;
	s->seed = plan->text_hash ^ sim->cfg.seed;
	s->ttft_ms = o->ttft_ms;
	s->ms_per_token = sim->cfg.tokens_per_second > 0 ? 1000.0 / sim->cfg.tokens_per_second : 0;
	sim->stats.streams++;
	set_headers(req, o->bad);
	sl_sim_pending_wait(&s->p, sl_sim_clock_now(&sim->clock) + o->delay_ms);
}
