/* sim_reply.c: replies the simulator sends later than its handler returns (delayed answers,
 * hangs, half-sent bodies) and the watch that notices a client hanging up on one of them.
 *
 * A pending request is a h2o generator allocated in the request's pool. While it waits, the sim
 * reads its socket (h2o's HTTP/1 layer does not read while a response is under way): EOF or an
 * error there means the client left, which counts one client_disconnect and closes the
 * connection at once. A write failure reaches the generator's stop callback and counts the same.
 * Invariants: the watch is dropped before any final send, so h2o gets its socket back intact;
 * after a send with a final state the pending object may be freed and is not touched again. */
#include <sys/socket.h>

#include "sim/sim.h"

#define WATCH_MAX_INPUT 65536 /* a client pipelining more than this is no longer watched */

static struct sl_sim *watch_owner; /* the socket callback only gets the socket */

static void unwatch(struct sl_sim_pending *p)
{
	if (!h2o_linklist_is_linked(&p->watch))
		return;
	h2o_linklist_unlink(&p->watch);
	h2o_socket_read_stop(p->sock);
}

static void count_gone(struct sl_sim_pending *p)
{
	if (p->gone)
		return;
	p->gone = true;
	p->sim->stats.client_disconnects++;
}

static struct sl_sim_pending *find_watched(h2o_socket_t *sock)
{
	h2o_linklist_t *head = &watch_owner->watched;
	for (h2o_linklist_t *n = head->next; n != head; n = n->next) {
		struct sl_sim_pending *p = H2O_STRUCT_FROM_MEMBER(struct sl_sim_pending, watch, n);
		if (p->sock == sock)
			return p;
	}
	return NULL;
}

static void on_watch_read(h2o_socket_t *sock, const char *err)
{
	struct sl_sim_pending *p = find_watched(sock);
	if (!p) {
		h2o_socket_read_stop(sock);
		return;
	}
	if (!err) {
		if (sock->input->size > WATCH_MAX_INPUT)
			unwatch(p);
		return;
	}
	count_gone(p);
	unwatch(p);
	if (!p->in_flight)
		sl_sim_pending_abort(p, false);
	/* else the write under way fails or completes, and proceed aborts */
}

/* Only when h2o is not reading the socket itself: stealing its reader would break it. */
static void watch(struct sl_sim_pending *p)
{
	p->sock = p->req->conn->callbacks->get_socket ? p->req->conn->callbacks->get_socket(p->req->conn) : NULL;
	if (!p->sock || p->sock->_cb.read != NULL)
		return;
	watch_owner = p->sim;
	h2o_linklist_insert(&p->sim->watched, &p->watch);
	h2o_socket_read_start(p->sock, on_watch_read);
}

static void on_proceed(h2o_generator_t *g, h2o_req_t *req)
{
	struct sl_sim_pending *p = (struct sl_sim_pending *)g;
	p->in_flight = false;
	if (p->gone)
		sl_sim_pending_abort(p, false);
	else
		p->resume(p);
}

static void on_stop(h2o_generator_t *g, h2o_req_t *req)
{
	struct sl_sim_pending *p = (struct sl_sim_pending *)g;
	count_gone(p);
	unwatch(p);
	sl_sim_timer_stop(&p->timer);
}

static void on_timer(struct sl_sim_timer *t)
{
	struct sl_sim_pending *p = H2O_STRUCT_FROM_MEMBER(struct sl_sim_pending, timer, t);
	p->resume(p);
}

static void on_dispose(void *obj)
{
	struct sl_sim_pending *p = obj;
	unwatch(p);
	sl_sim_timer_stop(&p->timer);
	if (p->dispose)
		p->dispose(p);
	p->sim->pending--;
}

struct sl_sim_pending *sl_sim_pending_new(struct sl_sim *sim, h2o_req_t *req, size_t size,
                                          void (*resume)(struct sl_sim_pending *p))
{
	struct sl_sim_pending *p = h2o_mem_alloc_shared(&req->pool, size, on_dispose);
	memset(p, 0, size);
	p->gen.proceed = on_proceed;
	p->gen.stop = on_stop;
	p->sim = sim;
	p->req = req;
	p->resume = resume;
	sl_sim_timer_init(&p->timer, &sim->clock, on_timer);
	sim->pending++;
	watch(p);
	return p;
}

void sl_sim_pending_wait(struct sl_sim_pending *p, uint64_t due_ms)
{
	if (due_ms <= sl_sim_clock_now(&p->sim->clock))
		p->resume(p);
	else
		sl_sim_timer_start(&p->timer, due_ms);
}

void sl_sim_pending_send(struct sl_sim_pending *p, h2o_iovec_t *bufs, size_t n, h2o_send_state_t state)
{
	if (!p->started) {
		p->started = true;
		h2o_start_response(p->req, &p->gen);
	}
	if (h2o_send_state_is_in_progress(state))
		p->in_flight = true;
	else
		unwatch(p);
	h2o_send(p->req, bufs, n, state);
}

void sl_sim_pending_abort(struct sl_sim_pending *p, bool shut)
{
	h2o_req_t *req = p->req;
	unwatch(p);
	sl_sim_timer_stop(&p->timer);
	req->http1_is_persistent = 0;
	if (shut && p->sock)
		shutdown(h2o_socket_get_fd(p->sock), SHUT_WR);
	if (!p->started) {
		req->res.status = 500;
		req->res.reason = "Internal Server Error";
		req->res.content_length = SIZE_MAX;
	}
	sl_sim_pending_send(p, NULL, 0, H2O_SEND_STATE_ERROR);
}

h2o_iovec_t sl_sim_pool_copy(h2o_req_t *req, const struct sl_buf *b)
{
	char *p = h2o_mem_alloc_pool(&req->pool, b->len + 1);
	memcpy(p, b->data ? b->data : "", b->len);
	p[b->len] = '\0';
	return h2o_iovec_init(p, b->len);
}

struct reply {
	struct sl_sim_pending p;
	h2o_iovec_t body;
	bool die, counted;
};

static void reply_resume(struct sl_sim_pending *p)
{
	struct reply *r = (struct reply *)p;
	if (p->started) { /* half the body is out: now drop the connection */
		sl_sim_pending_abort(p, true);
		return;
	}
	if (r->die) {
		h2o_iovec_t half = h2o_iovec_init(r->body.base, r->body.len / 2);
		sl_sim_pending_send(p, &half, 1, H2O_SEND_STATE_IN_PROGRESS);
		return;
	}
	if (r->counted && p->req->res.status < 400)
		p->sim->stats.completed++;
	sl_sim_pending_send(p, &r->body, 1, H2O_SEND_STATE_FINAL);
}

static const char *reason(int status)
{
	switch (status) {
	case 200:
		return "OK";
	case 400:
		return "Bad Request";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	default:
		return "Internal Server Error";
	}
}

void sl_sim_reply(struct sl_sim *sim, h2o_req_t *req, int status, h2o_iovec_t body, uint64_t delay_ms, bool die,
                  bool counted)
{
	static h2o_generator_t plain = {NULL, NULL};
	req->res.status = status;
	req->res.reason = reason(status);
	req->res.content_length = body.len;
	sl_sim_set_json(req);
	if (counted && status >= 400)
		sim->stats.errors++;
	if (delay_ms == 0 && !die) {
		if (counted && status < 400)
			sim->stats.completed++;
		h2o_start_response(req, &plain);
		h2o_send(req, &body, 1, H2O_SEND_STATE_FINAL);
		return;
	}
	struct reply *r = (struct reply *)sl_sim_pending_new(sim, req, sizeof(*r), reply_resume);
	r->body = body;
	r->die = die;
	r->counted = counted;
	sl_sim_pending_wait(&r->p, sl_sim_clock_now(&sim->clock) + delay_ms);
}

void sl_sim_reply_error(struct sl_sim *sim, h2o_req_t *req, const struct sl_sim_error *err, uint64_t delay_ms,
                        bool counted)
{
	const char *type = err->status >= 500 ? "server_error" : "invalid_request_error";
	sl_buf_reset(&sim->scratch);
	if (sl_sim_body_error(&sim->scratch, err->message, type, err->param, err->code))
		sl_buf_reset(&sim->scratch);
	sl_sim_reply(sim, req, err->status, sl_sim_pool_copy(req, &sim->scratch), delay_ms, false, counted);
}

static void hang_resume(struct sl_sim_pending *p)
{
}

void sl_sim_hang(struct sl_sim *sim, h2o_req_t *req)
{
	sl_sim_pending_new(sim, req, sizeof(struct sl_sim_pending), hang_resume);
}

void sl_sim_close_now(h2o_req_t *req)
{
	static h2o_generator_t plain = {NULL, NULL};
	h2o_socket_t *sock = req->conn->callbacks->get_socket ? req->conn->callbacks->get_socket(req->conn) : NULL;
	req->http1_is_persistent = 0;
	if (sock)
		shutdown(h2o_socket_get_fd(sock), SHUT_WR);
	req->res.status = 500;
	req->res.reason = "Internal Server Error";
	h2o_start_response(req, &plain);
	h2o_send(req, NULL, 0, H2O_SEND_STATE_ERROR);
}
