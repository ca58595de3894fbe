/* load_run.c: the engine of `sluice load`: one thread, libcurl's multi interface driven by
 * epoll through curl_multi_socket_action, a fixed pool of request slots (one easy handle
 * each, reused so connections stay alive), open-loop Poisson arrivals or a closed loop.
 * Slots are split into shards of SHARD_SLOTS, each with its own multi handle: libcurl looks
 * for a reusable connection by walking every connection to the host, so one multi handle
 * with thousands of connections spends most of its time there.
 * With --feedback a slot that got an answer may go on with a second request, the user's
 * rating of it, before it returns to the free list: ratings share the concurrency budget and
 * the connections, but are counted apart from the answers.
 * With --shift-at, requests due from that moment on take their prompt from the second set;
 * the draw that picks a prompt is the same either way, so users and streams do not change.
 * Invariants: at most --concurrency requests (answers and ratings) are in flight; a slot is
 * either on the free list or attached to its shard's multi handle, never both; every started
 * request is recorded exactly once, unless a second interrupt abandons it. */
#include <curl/curl.h>
#include <errno.h>
#include <json-c/json.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <unistd.h>

#include "sim/load.h"
#include "sim/sse_scan.h"

#define LATE_NS           10000000u /* a start this far behind its arrival counts as late */
#define UNREACHABLE_AFTER 20        /* connect failures with no response at all: give up */
#define EPOLL_BATCH       256
#define SHARD_SLOTS       64                  /* slots (and so connections) per multi handle */
#define REQUEST_ID_MAX    64                  /* bytes of x-sluice-request-id kept; a longer one is ignored */
#define FEEDBACK_SALT     0x666565646261636bu /* "feedback": rating draws apart from the mix */

struct load_run;

/* A multi handle and its timer. Epoll events carry the shard index beside the socket. */
struct load_shard {
	struct load_run *run;
	CURLM *multi;
	uint32_t index;
	uint64_t timer_at; /* libcurl's next timeout, when timer_set */
	bool timer_set;
};

/* What x-sim-answer said about the answer. */
enum sim_mark { MARK_NONE, MARK_GOOD, MARK_BAD };

/* A slot's request: the answer, then perhaps the user's rating of it. */
enum phase { PHASE_ANSWER, PHASE_FEEDBACK };

/* One request slot. */
struct load_req {
	CURL *easy;
	struct load_shard *shard;
	struct load_req *next_free;
	struct sl_buf body;
	struct sl_sse_scan sse;
	struct sl_load_judge judge; /* read only when rating and x-sim-answer is absent */
	uint64_t t_start, t_first, user;
	uint64_t seq; /* the request's number in the run: seeds its rating draws */
	long status;  /* the answer's status, its group's key when its rating ends */
	enum phase phase;
	enum sim_mark mark;
	bool stream, url_feedback, rated_down;
	char version[SL_LOAD_VERSION_MAX];
	char request_id[REQUEST_ID_MAX + 1]; /* x-sluice-request-id, "" when absent */
	char errbuf[CURL_ERROR_SIZE];
};

struct load_run {
	const struct sl_load_opts *o;
	const struct sl_load_prompts *ps;
	const struct sl_load_prompts *shifted; /* NULL: no --shift-at */
	struct sl_load_stats *stats;
	struct sl_load_body_tmpl tmpl;
	struct sl_load_progress progress;
	struct sl_rng rng;
	struct load_shard *shards;
	size_t nshards;
	struct curl_slist *headers;
	struct json_tokener *tok; /* for the judge: one run, one thread */
	struct load_req *reqs, *free;
	int epfd;
	uint64_t inflight;
	uint64_t t0, t_stop, t_shift; /* t_shift: t0 + --shift-at */
	bool stopping;
	double next_arrival_s; /* open loop: the next arrival, seconds after t0 */
};

static volatile sig_atomic_t interrupts;

static void on_sigint(int sig)
{
	interrupts++;
}

/* ---- what happens once an answer is complete ----
 * Steps run in order on every finished answer: record it, then perhaps rate it. A step that
 * starts a follow-up request from the slot sets q->phase to PHASE_FEEDBACK; the slot then
 * returns to the free list when that request ends (finish_feedback). */
struct load_step {
	const char *name;
	int (*run)(struct load_run *r, struct load_req *q, const struct sl_load_result *res);
};

static int step_record(struct load_run *r, struct load_req *q, const struct sl_load_result *res)
{
	char *e = r->stats->first_error;
	if (res->errclass != SL_LOAD_ERR_NONE && !e[0]) {
		snprintf(e, sizeof(r->stats->first_error), "%s", q->errbuf);
		if (e[0] >= 'A' && e[0] <= 'Z' && e[1] >= 'a' && e[1] <= 'z')
			e[0] = (char)(e[0] - 'A' + 'a'); /* house style: messages start in lower case */
	}
	return sl_load_stats_record(r->stats, res);
}

static bool rating_on(const struct load_run *r)
{
	return r->o->feedback > 0;
}

/* The rating's body, {"request_id":"...","label":"..."}, goes into the slot's body buffer:
 * the answer's request body is no longer needed. */
static int start_feedback(struct load_run *r, struct load_req *q, bool down)
{
	struct sl_buf *b = &q->body;
	sl_buf_reset(b);
	int rc = sl_buf_puts(b, "{\"request_id\":");
	rc = rc ? rc : sl_buf_json_str(b, q->request_id, strlen(q->request_id));
	rc = rc ? rc : sl_buf_printf(b, ",\"label\":\"%s\"}", down ? "thumbs_down" : "thumbs_up");
	rc = rc ? rc : sl_load_stats_feedback(r->stats, q->version, q->status, SL_LOAD_FB_POSTED, 0);
	if (rc)
		return rc;
	q->phase = PHASE_FEEDBACK;
	q->rated_down = down;
	q->errbuf[0] = '\0';
	q->url_feedback = true;
	curl_easy_setopt(q->easy, CURLOPT_URL, r->o->feedback_url);
	curl_easy_setopt(q->easy, CURLOPT_POSTFIELDSIZE, (long)b->len);
	curl_easy_setopt(q->easy, CURLOPT_POSTFIELDS, b->data);
	return curl_multi_add_handle(q->shard->multi, q->easy) == CURLM_OK ? 0 : SL_EIO;
}

/* With probability --feedback the user rates a successful answer: thumbs_down when it was
 * bad, flipped with probability --feedback-noise. The draws come from the request's number
 * and --seed, so which answers are rated does not depend on the order answers end in. */
static int step_feedback(struct load_run *r, struct load_req *q, const struct sl_load_result *res)
{
	struct sl_rng rng;
	if (!rating_on(r) || !sl_load_result_answered(res))
		return 0;
	sl_rng_seed(&rng, r->o->seed ^ FEEDBACK_SALT ^ (q->seq * 0x9e3779b97f4a7c15u));
	if (sl_rng_double(&rng) >= r->o->feedback)
		return 0;
	bool down = q->mark == MARK_BAD || (q->mark == MARK_NONE && sl_load_judge_bad(&q->judge, r->tok));
	if (sl_rng_double(&rng) < r->o->feedback_noise)
		down = !down;
	if (!q->request_id[0]) /* straight against a model server: nothing to rate it by */
		return sl_load_stats_feedback(r->stats, q->version, q->status, SL_LOAD_FB_SKIPPED, 0);
	return start_feedback(r, q, down);
}

static const struct load_step answer_steps[] = {
    {"record", step_record},
    {"feedback", step_feedback},
};

/* ---- libcurl callbacks ---- */

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
	struct load_req *q = ud;
	if (q->phase == PHASE_FEEDBACK) /* the rating's answer: only its status matters */
		return n;
	if (!q->t_first)
		q->t_first = sl_now_ns();
	if (q->stream)
		sl_sse_scan_feed(&q->sse, p, n);
	if (q->mark == MARK_NONE && rating_on(q->shard->run))
		sl_load_judge_feed(&q->judge, q->shard->run->tok, p, n);
	return n;
}

/* A header's value without the blanks and line break around it. */
static void trim(const char **p, size_t *n)
{
	while (*n && (**p == ' ' || **p == '\t'))
		(*p)++, (*n)--;
	while (*n && ((*p)[*n - 1] == '\r' || (*p)[*n - 1] == '\n' || (*p)[*n - 1] == ' ' || (*p)[*n - 1] == '\t'))
		(*n)--;
}

/* Keeps a header value printable and short: it ends up in tables and JSON keys. */
static void set_version(struct load_req *q, const char *p, size_t n)
{
	trim(&p, &n);
	if (n == 0) {
		memcpy(q->version, "-", 2);
		return;
	}
	if (n >= sizeof(q->version))
		n = sizeof(q->version) - 1;
	for (size_t i = 0; i < n; i++)
		q->version[i] = p[i] > 0x20 && p[i] < 0x7f ? p[i] : '?';
	q->version[n] = '\0';
}

/* Keeps the request id only when it is a plain token that fits. */
static void set_request_id(struct load_req *q, const char *p, size_t n)
{
	trim(&p, &n);
	q->request_id[0] = '\0';
	if (n == 0 || n > REQUEST_ID_MAX)
		return;
	for (size_t i = 0; i < n; i++)
		if (!((p[i] >= '0' && p[i] <= '9') || (p[i] >= 'a' && p[i] <= 'z') || (p[i] >= 'A' && p[i] <= 'Z') ||
		      p[i] == '-' || p[i] == '_'))
			return;
	memcpy(q->request_id, p, n);
	q->request_id[n] = '\0';
}

static void set_mark(struct load_req *q, const char *p, size_t n)
{
	trim(&p, &n);
	q->mark = n == 3 && strncasecmp(p, "bad", 3) == 0 ? MARK_BAD : MARK_GOOD;
}

/* When the header line starts with name (which ends in ':'), its value. */
static bool header_is(const char *p, size_t n, const char *name, const char **v, size_t *vn)
{
	size_t len = strlen(name);
	if (n < len || strncasecmp(p, name, len) != 0)
		return false;
	*v = p + len;
	*vn = n - len;
	return true;
}

static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
	struct load_req *q = ud;
	const char *v;
	size_t vn;
	if (q->phase == PHASE_FEEDBACK)
		return n;
	if (n >= 5 && memcmp(p, "HTTP/", 5) == 0) { /* a new response (after a 1xx) starts clean */
		memcpy(q->version, "-", 2);
		q->request_id[0] = '\0';
		q->mark = MARK_NONE;
	} else if (header_is(p, n, "x-sluice-version:", &v, &vn)) {
		set_version(q, v, vn);
	} else if (header_is(p, n, "x-sluice-request-id:", &v, &vn)) {
		set_request_id(q, v, vn);
	} else if (header_is(p, n, "x-sim-answer:", &v, &vn)) {
		set_mark(q, v, vn);
	}
	return n;
}

static int on_socket(CURL *e, curl_socket_t s, int what, void *ud, void *sockp)
{
	struct load_shard *sh = ud;
	int epfd = sh->run->epfd;
	struct epoll_event ev = {.data.u64 = (uint64_t)sh->index << 32 | (uint32_t)s};
	if (what == CURL_POLL_REMOVE) {
		epoll_ctl(epfd, EPOLL_CTL_DEL, s, NULL); /* may already be closed: fine */
		return 0;
	}
	ev.events = ((what & CURL_POLL_IN) ? EPOLLIN : 0) | ((what & CURL_POLL_OUT) ? EPOLLOUT : 0);
	if (sockp)
		return epoll_ctl(epfd, EPOLL_CTL_MOD, s, &ev) == 0 ? 0 : -1;
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, s, &ev) != 0 &&
	    !(errno == EEXIST && !epoll_ctl(epfd, EPOLL_CTL_MOD, s, &ev)))
		return -1;
	curl_multi_assign(sh->multi, s, sh);
	return 0;
}

static int on_timer(CURLM *m, long ms, void *ud)
{
	struct load_shard *sh = ud;
	sh->timer_set = ms >= 0;
	sh->timer_at = ms > 0 ? sl_now_ns() + (uint64_t)ms * 1000000u : 0; /* 0: due at once */
	return 0;
}

/* ---- setup ---- */

static bool has_header(const struct sl_load_opts *o, const char *name)
{
	size_t n = strlen(name);
	for (size_t i = 0; i < o->nheaders; i++)
		if (strncasecmp(o->headers[i], name, n) == 0 && o->headers[i][n] == ':')
			return true;
	return false;
}

static int headers_build(struct load_run *r)
{
	struct curl_slist *l = NULL, *t;
	const char *fixed[] = {"Expect:", has_header(r->o, "content-type") ? NULL : "Content-Type: application/json"};
	for (size_t i = 0; i < r->o->nheaders + 2; i++) {
		const char *h = i < r->o->nheaders ? r->o->headers[i] : fixed[i - r->o->nheaders];
		if (!h)
			continue;
		if (!(t = curl_slist_append(l, h))) {
			curl_slist_free_all(l);
			return SL_ENOMEM;
		}
		l = t;
	}
	r->headers = l;
	return 0;
}

static int easy_setup(struct load_run *r, struct load_req *q)
{
	const struct sl_load_opts *o = r->o;
	long timeout_ms = (long)(o->timeout_s * 1000), connect_ms = timeout_ms < 10000 ? timeout_ms : 10000;
	CURL *e = q->easy = curl_easy_init();
	if (!e)
		return SL_ENOMEM;
	sl_buf_init(&q->body, 0);
	sl_load_judge_init(&q->judge);
	if (curl_easy_setopt(e, CURLOPT_URL, o->url) || curl_easy_setopt(e, CURLOPT_HTTPHEADER, r->headers) ||
	    curl_easy_setopt(e, CURLOPT_POST, 1L) || curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L) ||
	    curl_easy_setopt(e, CURLOPT_TCP_NODELAY, 1L) ||
	    curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1) ||
	    curl_easy_setopt(e, CURLOPT_PROXY, "") || curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http") ||
	    curl_easy_setopt(e, CURLOPT_USERAGENT, "sluice-load/0.1") ||
	    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body) || curl_easy_setopt(e, CURLOPT_WRITEDATA, q) ||
	    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header) || curl_easy_setopt(e, CURLOPT_HEADERDATA, q) ||
	    curl_easy_setopt(e, CURLOPT_PRIVATE, q) || curl_easy_setopt(e, CURLOPT_ERRORBUFFER, q->errbuf) ||
	    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, timeout_ms) ||
	    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, connect_ms))
		return SL_EINVAL;
	return 0;
}

static int slots_init(struct load_run *r)
{
	size_t n = (size_t)r->o->concurrency;
	r->reqs = calloc(n, sizeof(*r->reqs));
	if (!r->reqs)
		return SL_ENOMEM;
	for (size_t i = n; i-- > 0;) {
		int rc = easy_setup(r, &r->reqs[i]);
		if (rc)
			return rc;
		r->reqs[i].shard = &r->shards[i / SHARD_SLOTS];
		r->reqs[i].next_free = r->free;
		r->free = &r->reqs[i];
	}
	return 0;
}

static int shard_setup(struct load_run *r, struct load_shard *sh, uint32_t index)
{
	sh->run = r;
	sh->index = index;
	sh->multi = curl_multi_init();
	if (!sh->multi)
		return SL_ENOMEM;
	if (curl_multi_setopt(sh->multi, CURLMOPT_SOCKETFUNCTION, on_socket) ||
	    curl_multi_setopt(sh->multi, CURLMOPT_SOCKETDATA, sh) ||
	    curl_multi_setopt(sh->multi, CURLMOPT_TIMERFUNCTION, on_timer) ||
	    curl_multi_setopt(sh->multi, CURLMOPT_TIMERDATA, sh) ||
	    curl_multi_setopt(sh->multi, CURLMOPT_MAXCONNECTS, (long)SHARD_SLOTS) ||
	    curl_multi_setopt(sh->multi, CURLMOPT_PIPELINING, (long)CURLPIPE_NOTHING))
		return SL_EINVAL;
	return 0;
}

static int shards_init(struct load_run *r)
{
	r->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (r->epfd < 0)
		return SL_EIO;
	r->nshards = ((size_t)r->o->concurrency + SHARD_SLOTS - 1) / SHARD_SLOTS;
	r->shards = calloc(r->nshards, sizeof(*r->shards));
	if (!r->shards)
		return SL_ENOMEM;
	int rc = 0;
	for (size_t i = 0; i < r->nshards && !rc; i++)
		rc = shard_setup(r, &r->shards[i], (uint32_t)i);
	return rc;
}

/* Every slot needs a socket; raise the soft limit on descriptors when it is too low. */
static int ensure_fds(uint64_t need)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= need)
		return 0;
	if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < need) {
		fprintf(stderr, "sluice load: --concurrency needs %llu file descriptors, the limit is %llu\n",
		        (unsigned long long)need, (unsigned long long)rl.rlim_max);
		return SL_ERANGE;
	}
	rl.rlim_cur = need;
	return setrlimit(RLIMIT_NOFILE, &rl) == 0 ? 0 : SL_EIO;
}

static void run_release(struct load_run *r)
{
	for (size_t i = 0; r->reqs && i < (size_t)r->o->concurrency; i++) {
		struct load_req *q = &r->reqs[i];
		if (q->easy && q->shard)
			curl_multi_remove_handle(q->shard->multi, q->easy); /* harmless when not attached */
		if (q->easy)
			curl_easy_cleanup(q->easy);
		sl_buf_release(&q->body);
		sl_load_judge_release(&q->judge);
	}
	free(r->reqs);
	for (size_t i = 0; r->shards && i < r->nshards; i++)
		if (r->shards[i].multi)
			curl_multi_cleanup(r->shards[i].multi);
	free(r->shards);
	curl_slist_free_all(r->headers);
	if (r->tok)
		json_tokener_free(r->tok);
	if (r->epfd >= 0)
		close(r->epfd);
	sl_load_body_tmpl_release(&r->tmpl);
}

/* ---- requests ---- */

static double exp_interval(struct load_run *r)
{
	return -log(1.0 - sl_rng_double(&r->rng)) / r->o->rate;
}

/* Whether a request due at due_ns (0 in a closed loop: now) takes the second prompt set. An
 * open loop judges by the scheduled arrival, not the actual start, so that the requests that
 * shift depend on --seed only, not on how busy the machine was. */
static bool takes_second_set(const struct load_run *r, uint64_t due_ns)
{
	return r->shifted && (due_ns ? due_ns : sl_now_ns()) >= r->t_shift;
}

static int start_request(struct load_run *r, uint64_t due_ns)
{
	struct load_req *q = r->free;
	bool second = takes_second_set(r, due_ns);
	const struct sl_load_prompts *ps = second ? r->shifted : r->ps;
	const struct sl_load_prompt *p = &ps->v[sl_rng_next(&r->rng) % ps->n];
	q->user = sl_rng_next(&r->rng) % r->o->users;
	q->stream = r->o->stream_share > 0 && sl_rng_double(&r->rng) < r->o->stream_share;
	int rc = sl_load_body(&q->body, &r->tmpl, p, q->user, q->stream);
	if (rc)
		return rc;
	r->free = q->next_free;
	memcpy(q->version, "-", 2);
	q->errbuf[0] = '\0';
	q->request_id[0] = '\0';
	q->t_first = 0;
	q->seq = r->stats->sent;
	q->phase = PHASE_ANSWER;
	q->mark = MARK_NONE;
	sl_sse_scan_init(&q->sse);
	sl_load_judge_reset(&q->judge, q->stream);
	if (q->url_feedback) {
		curl_easy_setopt(q->easy, CURLOPT_URL, r->o->url);
		q->url_feedback = false;
	}
	curl_easy_setopt(q->easy, CURLOPT_POSTFIELDSIZE, (long)q->body.len);
	curl_easy_setopt(q->easy, CURLOPT_POSTFIELDS, q->body.data);
	q->t_start = sl_now_ns();
	r->stats->late += due_ns && q->t_start > due_ns + LATE_NS;
	r->stats->sent++;
	r->stats->shift_after += second;
	r->stats->shift_before += r->shifted && !second;
	r->inflight++;
	return curl_multi_add_handle(q->shard->multi, q->easy) == CURLM_OK ? 0 : SL_EIO;
}

static enum sl_load_errclass classify(CURLcode c)
{
	switch (c) {
	case CURLE_OK:
		return SL_LOAD_ERR_NONE;
	case CURLE_COULDNT_CONNECT:
		return SL_LOAD_ERR_CONNECT;
	case CURLE_OPERATION_TIMEDOUT:
		return SL_LOAD_ERR_TIMEOUT;
	case CURLE_COULDNT_RESOLVE_HOST:
		return SL_LOAD_ERR_RESOLVE;
	case CURLE_GOT_NOTHING:
		return SL_LOAD_ERR_EMPTY;
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
		return SL_LOAD_ERR_RESET;
	case CURLE_PARTIAL_FILE:
		return SL_LOAD_ERR_PARTIAL;
	default:
		return SL_LOAD_ERR_OTHER;
	}
}

static void slot_free(struct load_run *r, struct load_req *q)
{
	q->next_free = r->free;
	r->free = q;
	r->inflight--;
}

/* A rating ended: 2xx means the server recorded it. */
static int finish_feedback(struct load_run *r, struct load_req *q, long status, CURLcode code)
{
	bool ok = code == CURLE_OK && status >= 200 && status < 300;
	enum sl_load_fb_event ev = !ok ? SL_LOAD_FB_FAILED : q->rated_down ? SL_LOAD_FB_DOWN : SL_LOAD_FB_UP;
	int rc = sl_load_stats_feedback(r->stats, q->version, q->status, ev, code == CURLE_OK ? status : 0);
	slot_free(r, q);
	return rc;
}

static int finish_request(struct load_run *r, CURL *e, CURLcode code)
{
	char *priv = NULL;
	long status = 0;
	uint64_t now = sl_now_ns();
	curl_easy_getinfo(e, CURLINFO_PRIVATE, &priv);
	struct load_req *q = (struct load_req *)priv;
	curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
	curl_multi_remove_handle(q->shard->multi, e);
	if (q->phase == PHASE_FEEDBACK)
		return finish_feedback(r, q, status, code);
	q->status = status;
	sl_sse_scan_finish(&q->sse);
	if (code != CURLE_OK && !q->errbuf[0])
		snprintf(q->errbuf, sizeof(q->errbuf), "%s", curl_easy_strerror(code));
	struct sl_load_result res = {
	    .version = q->version,
	    .status = status,
	    .errclass = classify(code),
	    .latency_ns = now - q->t_start,
	    .ttft_ns = q->stream && q->t_first ? q->t_first - q->t_start : 0,
	    .user = q->user,
	    .stream = q->stream,
	    .stream_done = q->sse.done,
	    .stream_error = q->sse.error,
	    .sim_bad = q->mark == MARK_BAD,
	};
	int rc = 0;
	r->stats->t_end_ns = now;
	for (size_t i = 0; i < sizeof(answer_steps) / sizeof(answer_steps[0]) && !rc; i++)
		rc = answer_steps[i].run(r, q, &res);
	if (q->phase != PHASE_FEEDBACK) /* else the slot stays busy until the rating ends */
		slot_free(r, q);
	return rc;
}

static int collect(struct load_run *r)
{
	CURLMsg *m;
	int left, rc = 0;
	for (size_t i = 0; i < r->nshards && !rc; i++)
		while (!rc && (m = curl_multi_info_read(r->shards[i].multi, &left)))
			if (m->msg == CURLMSG_DONE)
				rc = finish_request(r, m->easy_handle, m->data.result);
	return rc;
}

/* ---- the loop ---- */

static bool unreachable(const struct sl_load_stats *s)
{
	return s->responses == 0 &&
	       s->transport[SL_LOAD_ERR_CONNECT] + s->transport[SL_LOAD_ERR_RESOLVE] >= UNREACHABLE_AFTER;
}

static void check_stop(struct load_run *r, uint64_t now)
{
	const struct sl_load_opts *o = r->o;
	if (r->stopping)
		return;
	r->stopping = now >= r->t_stop || interrupts > 0 || (o->requests && r->stats->sent >= o->requests) ||
	              unreachable(r->stats);
}

static uint64_t arrival_ns(const struct load_run *r)
{
	return r->t0 + (uint64_t)(r->next_arrival_s * 1e9);
}

static int issue_due(struct load_run *r, uint64_t now)
{
	int rc = 0;
	while (!rc && r->free && !r->stopping) {
		uint64_t due = 0;
		if (r->o->rate > 0) {
			due = arrival_ns(r);
			if (due > now)
				break;
			r->next_arrival_s += exp_interval(r);
		}
		rc = start_request(r, due);
		check_stop(r, now);
	}
	return rc;
}

static int wait_ms(const struct load_run *r, uint64_t now)
{
	uint64_t wake = r->progress.next_ns;
	for (size_t i = 0; i < r->nshards; i++)
		if (r->shards[i].timer_set && r->shards[i].timer_at < wake)
			wake = r->shards[i].timer_at;
	if (!r->stopping && r->t_stop < wake)
		wake = r->t_stop;
	if (!r->stopping && r->free && r->o->rate > 0 && arrival_ns(r) < wake)
		wake = arrival_ns(r);
	if (wake <= now)
		return 0;
	uint64_t ms = (wake - now + 999999) / 1000000;
	return ms > 1000 ? 1000 : (int)ms;
}

static int poll_once(struct load_run *r, int timeout)
{
	struct epoll_event ev[EPOLL_BATCH];
	int running, n = epoll_wait(r->epfd, ev, EPOLL_BATCH, timeout);
	if (n < 0 && errno != EINTR)
		return SL_EIO;
	for (int i = 0; i < n; i++) {
		int flags = ((ev[i].events & EPOLLIN) ? CURL_CSELECT_IN : 0) |
		            ((ev[i].events & EPOLLOUT) ? CURL_CSELECT_OUT : 0) |
		            ((ev[i].events & (EPOLLERR | EPOLLHUP)) ? CURL_CSELECT_ERR : 0);
		struct load_shard *sh = &r->shards[ev[i].data.u64 >> 32];
		curl_multi_socket_action(sh->multi, (curl_socket_t)(uint32_t)ev[i].data.u64, flags, &running);
	}
	uint64_t now = sl_now_ns();
	for (size_t i = 0; i < r->nshards; i++) {
		struct load_shard *sh = &r->shards[i];
		if (sh->timer_set && now >= sh->timer_at) {
			sh->timer_set = false;
			curl_multi_socket_action(sh->multi, CURL_SOCKET_TIMEOUT, 0, &running);
		}
	}
	return 0;
}

static int loop(struct load_run *r)
{
	int rc = 0;
	while (!rc && interrupts < 2) {
		uint64_t now = sl_now_ns();
		check_stop(r, now);
		if (r->stopping && r->inflight == 0)
			break;
		if ((rc = issue_due(r, now)))
			break;
		if (!(rc = poll_once(r, wait_ms(r, now))))
			rc = collect(r);
		sl_load_progress_tick(&r->progress, r->stats, r->inflight, sl_now_ns());
	}
	return rc;
}

static int run_init(struct load_run *r, const struct sl_load_opts *o, const struct sl_load_prompts *ps,
                    const struct sl_load_prompts *shifted, struct sl_load_stats *stats)
{
	memset(r, 0, sizeof(*r));
	r->o = o;
	r->ps = ps;
	r->shifted = shifted && shifted->n ? shifted : NULL;
	r->stats = stats;
	r->epfd = -1;
	sl_buf_init(&r->tmpl.head, 0);
	sl_rng_seed(&r->rng, o->seed);
	if (o->feedback > 0 && !(r->tok = json_tokener_new()))
		return SL_ENOMEM;
	int rc = ensure_fds(o->concurrency + 64);
	if (!rc)
		rc = sl_load_body_tmpl_init(&r->tmpl, o);
	if (!rc)
		rc = headers_build(r);
	if (!rc)
		rc = shards_init(r);
	if (!rc)
		rc = slots_init(r);
	return rc;
}

int sl_load_run(const struct sl_load_opts *o, const struct sl_load_prompts *ps, const struct sl_load_prompts *shifted,
                struct sl_load_stats *stats)
{
	struct load_run r;
	struct sigaction sa = {.sa_handler = on_sigint}, old;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return SL_EIO;
	int rc = run_init(&r, o, ps, shifted, stats);
	if (!rc) {
		interrupts = 0;
		sigemptyset(&sa.sa_mask);
		sigaction(SIGINT, &sa, &old);
		r.t0 = stats->t_start_ns = stats->t_end_ns = sl_now_ns();
		r.t_stop = r.t0 + (uint64_t)(o->duration_s * 1e9);
		r.t_shift = r.t0 + (uint64_t)((o->shift_at_s > 0 ? o->shift_at_s : 0) * 1e9);
		r.next_arrival_s = o->rate > 0 ? exp_interval(&r) : 0;
		sl_load_progress_init(&r.progress, o->quiet, r.t0);
		rc = loop(&r);
		sl_load_progress_end(&r.progress);
		sigaction(SIGINT, &old, NULL);
	}
	run_release(&r);
	curl_global_cleanup();
	return rc;
}
