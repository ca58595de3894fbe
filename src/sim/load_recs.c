/* load_recs.c: `sluice load --recs`: worker threads (one libcurl easy handle each, kept-alive
 * connections) drive the simulated users: ask for a slate (POST /v1/chat/completions with the
 * user), post it to /v1/recs with the answer's x-sluice-request-id, then post the user's
 * interactions to /v1/events. A 404 from /v1/recs or /v1/events (no gateway, or one without
 * those endpoints) is counted as "not counted", not as a failure. Prints a summary per version
 * as the users saw it: CTR, watch time, repetition.
 * Invariants: user k belongs to thread k % threads only, so a user's memory is never shared;
 * tallies are merged under one mutex once per slate; every response body is bounded (1 MiB). */
#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "sim/load_recs.h"

#define MAX_THREADS 64
#define BODY_MAX    (1u << 20)

struct post_counts {
	uint64_t ok, not_found, failed;
};

struct recs_totals {
	pthread_mutex_t mu;
	struct load_recs_version v[LOAD_RECS_VERSIONS + 1]; /* the last: "other" */
	size_t nv;
	uint64_t chat_ok, chat_failed, bad_slates, started;
	struct post_counts recs, events;
	char first_error[256];
};

struct worker {
	const struct sl_load_opts *o;
	struct recs_totals *t;
	size_t index, nthreads;
	uint64_t t0_ns;
	CURL *easy;
	struct curl_slist *headers;
	struct sl_buf body, resp;
	char request_id[LOAD_RECS_ID_MAX + 1], version[SL_LOAD_VERSION_MAX];
	struct sl_rng rng;
	struct load_recs_user *users; /* this thread's users: k / nthreads */
};

static void set_hdr(char *dst, size_t cap, const char *v, size_t n)
{
	while (n && (*v == ' ' || *v == '\t'))
		v++, n--;
	while (n && (v[n - 1] == '\r' || v[n - 1] == '\n' || v[n - 1] == ' '))
		n--;
	if (n < cap) {
		memcpy(dst, v, n);
		dst[n] = '\0';
	}
}

static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
	struct worker *w = ud;
	if (n > 20 && strncasecmp(p, "x-sluice-request-id:", 20) == 0)
		set_hdr(w->request_id, sizeof w->request_id, p + 20, n - 20);
	else if (n > 17 && strncasecmp(p, "x-sluice-version:", 17) == 0)
		set_hdr(w->version, sizeof w->version, p + 17, n - 17);
	return n;
}

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
	struct worker *w = ud;
	return sl_buf_append(&w->resp, p, n) ? 0 : n;
}

static int worker_init(struct worker *w)
{
	char ct[] = "Content-Type: application/json";
	long timeout_ms = (long)(w->o->timeout_s * 1000);
	w->easy = curl_easy_init();
	w->headers = curl_slist_append(NULL, ct);
	for (size_t i = 0; w->headers && i < w->o->nheaders; i++)
		w->headers = curl_slist_append(w->headers, w->o->headers[i]);
	sl_buf_init(&w->body, BODY_MAX);
	sl_buf_init(&w->resp, BODY_MAX);
	if (!w->easy || !w->headers)
		return SL_ENOMEM;
	CURL *e = w->easy;
	if (curl_easy_setopt(e, CURLOPT_HTTPHEADER, w->headers) || curl_easy_setopt(e, CURLOPT_POST, 1L) ||
	    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L) || curl_easy_setopt(e, CURLOPT_TCP_NODELAY, 1L) ||
	    curl_easy_setopt(e, CURLOPT_PROXY, "") || curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http") ||
	    curl_easy_setopt(e, CURLOPT_USERAGENT, "sluice-load/0.1") ||
	    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body) || curl_easy_setopt(e, CURLOPT_WRITEDATA, w) ||
	    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header) || curl_easy_setopt(e, CURLOPT_HEADERDATA, w) ||
	    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, timeout_ms))
		return SL_EINVAL;
	size_t mine = (size_t)(w->o->users / w->nthreads + 1);
	w->users = calloc(mine, sizeof *w->users);
	return w->users ? 0 : SL_ENOMEM;
}

static void worker_release(struct worker *w)
{
	curl_easy_cleanup(w->easy);
	curl_slist_free_all(w->headers);
	sl_buf_release(&w->body);
	sl_buf_release(&w->resp);
	free(w->users);
}

static void note_error(struct recs_totals *t, const char *what, const char *why)
{
	pthread_mutex_lock(&t->mu);
	if (!t->first_error[0])
		snprintf(t->first_error, sizeof t->first_error, "%s: %s", what, why);
	pthread_mutex_unlock(&t->mu);
}

/* POSTs w->body to url; the HTTP status, or 0 when none arrived. */
static long post(struct worker *w, const char *url)
{
	long status = 0;
	sl_buf_reset(&w->resp);
	w->request_id[0] = '\0';
	memcpy(w->version, "-", 2);
	curl_easy_setopt(w->easy, CURLOPT_URL, url);
	curl_easy_setopt(w->easy, CURLOPT_POSTFIELDSIZE, (long)w->body.len);
	curl_easy_setopt(w->easy, CURLOPT_POSTFIELDS, w->body.data);
	CURLcode rc = curl_easy_perform(w->easy);
	if (rc != CURLE_OK) {
		note_error(w->t, url, curl_easy_strerror(rc));
		return 0;
	}
	curl_easy_getinfo(w->easy, CURLINFO_RESPONSE_CODE, &status);
	return status;
}

static void count_post(struct post_counts *c, long status)
{
	if (status >= 200 && status < 300)
		c->ok++;
	else if (status == 404)
		c->not_found++;
	else
		c->failed++;
}

static int chat_body(struct worker *w, const char *user)
{
	sl_buf_reset(&w->body);
	int rc = sl_buf_puts(&w->body, "{\"model\":");
	rc = rc ? rc : sl_buf_json_str(&w->body, w->o->model, strlen(w->o->model));
	rc = rc ? rc
	        : sl_buf_printf(&w->body,
	                        ",\"user\":\"%s\",\"messages\":[{\"role\":\"user\",\"content\":"
	                        "\"recommend\"}]}",
	                        user);
	return rc;
}

static int recs_body(struct worker *w, const char *user, const struct load_slate *s)
{
	sl_buf_reset(&w->body);
	int rc = sl_buf_puts(&w->body, "{\"request_id\":");
	rc = rc ? rc : sl_buf_json_str(&w->body, w->request_id, strlen(w->request_id));
	rc = rc ? rc : sl_buf_printf(&w->body, ",\"user\":\"%s\",\"model\":", user);
	rc = rc ? rc : sl_buf_json_str(&w->body, w->o->model, strlen(w->o->model));
	rc = rc ? rc : sl_buf_puts(&w->body, ",\"items\":[");
	for (size_t i = 0; !rc && i < s->n; i++) {
		const struct load_slate_item *it = &s->items[i];
		rc = sl_buf_puts(&w->body, i ? ",{\"id\":" : "{\"id\":");
		rc = rc ? rc : sl_buf_json_str(&w->body, it->id, strlen(it->id));
		rc = rc ? rc : sl_buf_puts(&w->body, ",\"category\":");
		rc = rc ? rc : sl_buf_json_str(&w->body, it->category, strlen(it->category));
		rc = rc ? rc : sl_buf_puts(&w->body, ",\"source\":");
		rc = rc ? rc : sl_buf_json_str(&w->body, it->source, strlen(it->source));
		rc = rc ? rc : sl_buf_printf(&w->body, ",\"score\":%.6g}", it->score);
	}
	return rc ? rc : sl_buf_puts(&w->body, "]}");
}

static int event_body(struct worker *w, const char *user, const struct load_slate *s, const struct load_event_out *e)
{
	const char *item = s->items[e->item].id;
	sl_buf_reset(&w->body);
	int rc = sl_buf_puts(&w->body, "{\"request_id\":");
	rc = rc ? rc : sl_buf_json_str(&w->body, w->request_id, strlen(w->request_id));
	rc = rc ? rc
	        : sl_buf_printf(&w->body, ",\"unit_id\":\"%s\",\"event\":\"%s\",\"item\":", user,
	                        sl_load_event_names[e->kind]);
	rc = rc ? rc : sl_buf_json_str(&w->body, item, strlen(item));
	if (!rc && e->kind == EV_WATCH)
		rc = sl_buf_printf(&w->body, ",\"value\":%.3f", e->value);
	return rc ? rc : sl_buf_puts(&w->body, "}");
}

static struct load_recs_version *version_of(struct recs_totals *t, const char *name)
{
	for (size_t i = 0; i < t->nv; i++)
		if (strcmp(t->v[i].name, name) == 0)
			return &t->v[i];
	struct load_recs_version *v = &t->v[t->nv < LOAD_RECS_VERSIONS ? t->nv++ : LOAD_RECS_VERSIONS];
	if (!v->name[0])
		snprintf(v->name, sizeof v->name, "%s", v == &t->v[LOAD_RECS_VERSIONS] ? "other" : name);
	return v;
}

static void merge(struct recs_totals *t, const char *version, const struct load_recs_version *d,
                  const struct post_counts *recs, const struct post_counts *events)
{
	pthread_mutex_lock(&t->mu);
	struct load_recs_version *v = version_of(t, version);
	v->slates += d->slates, v->shown += d->shown, v->clicks += d->clicks, v->watches += d->watches;
	v->repeat_slates += d->repeat_slates, v->seen_again += d->seen_again;
	v->watch_s += d->watch_s, v->jaccard_sum += d->jaccard_sum;
	for (size_t i = 0; i < EV_COUNT_; i++)
		v->kinds[i] += d->kinds[i];
	t->chat_ok++;
	t->recs.ok += recs->ok, t->recs.not_found += recs->not_found, t->recs.failed += recs->failed;
	t->events.ok += events->ok, t->events.not_found += events->not_found, t->events.failed += events->failed;
	pthread_mutex_unlock(&t->mu);
}

static void count_failure(struct recs_totals *t, bool bad_slate)
{
	pthread_mutex_lock(&t->mu);
	bad_slate ? t->bad_slates++ : t->chat_failed++;
	pthread_mutex_unlock(&t->mu);
}

/* One slate for user k: ask, post it, react, post the events. */
static void one_slate(struct worker *w, uint64_t k)
{
	char user[32];
	struct load_slate s;
	struct load_event_out ev[SL_SIM_RECS_MAX_SLATE * 5];
	struct load_recs_version d = {0};
	struct post_counts recs = {0}, events = {0};
	snprintf(user, sizeof user, "user-%llu", (unsigned long long)k);
	if (chat_body(w, user) || post(w, w->o->url) != 200) {
		count_failure(w->t, false);
		return;
	}
	char version[SL_LOAD_VERSION_MAX];
	memcpy(version, w->version, sizeof version);
	if (sl_load_slate_parse(w->resp.data, w->resp.len, &s) < 0 || s.n != w->o->slate) {
		count_failure(w->t, true);
		return;
	}
	if (!w->request_id[0]) /* no gateway: an id of our own, so the bodies stay well-formed */
		sl_request_id(&w->rng, w->request_id);
	char request_id[sizeof w->request_id];
	memcpy(request_id, w->request_id, sizeof request_id);
	if (recs_body(w, user, &s) == 0)
		count_post(&recs, post(w, w->o->recs_url));
	size_t n = sl_load_recs_react(user, strlen(user), &w->users[k / w->nthreads], &s, &w->rng, &d, ev);
	for (size_t i = 0; i < n; i++) {
		memcpy(w->request_id, request_id, sizeof request_id);
		if (event_body(w, user, &s, &ev[i]) == 0)
			count_post(&events, post(w, w->o->events_url));
	}
	merge(w->t, version, &d, &recs, &events);
}

static bool budget_left(struct worker *w)
{
	double elapsed = (double)(sl_now_ns() - w->t0_ns) / 1e9;
	if (elapsed >= w->o->duration_s)
		return false;
	uint64_t n = __atomic_fetch_add(&w->t->started, 1, __ATOMIC_RELAXED);
	return !w->o->requests || n < w->o->requests;
}

/* With --rate, this thread's share: slate j is due at t0 + j * threads / rate. */
static void pace(struct worker *w, uint64_t j)
{
	if (w->o->rate <= 0)
		return;
	uint64_t due = w->t0_ns + (uint64_t)((double)j * (double)w->nthreads / w->o->rate * 1e9), now = sl_now_ns();
	if (due > now) {
		struct timespec ts = {(time_t)((due - now) / 1000000000u), (long)((due - now) % 1000000000u)};
		nanosleep(&ts, NULL);
	}
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	uint64_t mine = (w->o->users - w->index + w->nthreads - 1) / w->nthreads;
	for (uint64_t j = 0; mine && budget_left(w); j++) {
		pace(w, j);
		one_slate(w, w->index + (j % mine) * w->nthreads);
	}
	return NULL;
}

static double ratio(double a, double b)
{
	return b > 0 ? a / b : 0;
}

static void print_table(const struct recs_totals *t, const struct sl_load_opts *o)
{
	printf("%-16s %8s %8s %7s %10s %10s %10s %8s\n", "version", "slates", "items", "ctr", "watch/item",
	       "repetition", "seen-again", "not-int");
	for (size_t i = 0; i <= LOAD_RECS_VERSIONS; i++) {
		const struct load_recs_version *v = &t->v[i];
		if (!v->slates)
			continue;
		printf("%-16s %8llu %8llu %7.4f %9.2fs %10.4f %10.4f %8llu\n", v->name, (unsigned long long)v->slates,
		       (unsigned long long)v->shown, ratio((double)v->clicks, (double)v->shown),
		       ratio(v->watch_s, (double)v->shown), ratio(v->jaccard_sum, (double)v->repeat_slates),
		       ratio((double)v->seen_again, (double)v->shown), (unsigned long long)v->kinds[EV_NOT_INTERESTED]);
	}
	printf("slates: %llu answered, %llu failed, %llu not valid slates of %llu items\n",
	       (unsigned long long)t->chat_ok, (unsigned long long)t->chat_failed, (unsigned long long)t->bad_slates,
	       (unsigned long long)o->slate);
	printf("/v1/recs: %llu posted, %llu not counted (404), %llu failed\n", (unsigned long long)t->recs.ok,
	       (unsigned long long)t->recs.not_found, (unsigned long long)t->recs.failed);
	printf("/v1/events: %llu posted, %llu not counted (404), %llu failed\n", (unsigned long long)t->events.ok,
	       (unsigned long long)t->events.not_found, (unsigned long long)t->events.failed);
}

static void print_json(const struct recs_totals *t)
{
	printf("{\"versions\":[");
	bool first = true;
	for (size_t i = 0; i <= LOAD_RECS_VERSIONS; i++) {
		const struct load_recs_version *v = &t->v[i];
		if (!v->slates)
			continue;
		printf("%s{\"version\":\"%s\",\"slates\":%llu,\"items\":%llu,\"clicks\":%llu,\"ctr\":%.6g,"
		       "\"watch_s\":%.6g,\"watch_per_item\":%.6g,\"repetition\":%.6g,\"seen_again\":%.6g,"
		       "\"not_interested\":%llu,\"likes\":%llu,\"dislikes\":%llu,\"skips\":%llu}",
		       first ? "" : ",", v->name, (unsigned long long)v->slates, (unsigned long long)v->shown,
		       (unsigned long long)v->clicks, ratio((double)v->clicks, (double)v->shown), v->watch_s,
		       ratio(v->watch_s, (double)v->shown), ratio(v->jaccard_sum, (double)v->repeat_slates),
		       ratio((double)v->seen_again, (double)v->shown), (unsigned long long)v->kinds[EV_NOT_INTERESTED],
		       (unsigned long long)v->kinds[EV_LIKE], (unsigned long long)v->kinds[EV_DISLIKE],
		       (unsigned long long)v->kinds[EV_SKIP]);
		first = false;
	}
	printf("],\"slates_answered\":%llu,\"slates_failed\":%llu,\"bad_slates\":%llu,"
	       "\"recs\":{\"posted\":%llu,\"not_counted\":%llu,\"failed\":%llu},"
	       "\"events\":{\"posted\":%llu,\"not_counted\":%llu,\"failed\":%llu}}\n",
	       (unsigned long long)t->chat_ok, (unsigned long long)t->chat_failed, (unsigned long long)t->bad_slates,
	       (unsigned long long)t->recs.ok, (unsigned long long)t->recs.not_found,
	       (unsigned long long)t->recs.failed, (unsigned long long)t->events.ok,
	       (unsigned long long)t->events.not_found, (unsigned long long)t->events.failed);
}

static int report(const struct recs_totals *t, const struct sl_load_opts *o)
{
	if (o->json)
		print_json(t);
	else
		print_table(t, o);
	if (t->chat_ok == 0) {
		fprintf(stderr, "sluice load: no slate from '%s'%s%s\n", o->url, t->first_error[0] ? ": " : "",
		        t->first_error);
		return 1;
	}
	return 0;
}

int sl_load_recs_run(const struct sl_load_opts *o)
{
	static struct recs_totals t; /* large; one run per process */
	struct worker w[MAX_THREADS];
	pthread_t th[MAX_THREADS];
	size_t n = o->concurrency < MAX_THREADS ? (size_t)o->concurrency : MAX_THREADS, started = 0;
	n = n > o->users ? (size_t)o->users : n;
	memset(&t, 0, sizeof t);
	pthread_mutex_init(&t.mu, NULL);
	if (curl_global_init(CURL_GLOBAL_DEFAULT))
		return 1;
	uint64_t t0 = sl_now_ns();
	int rc = 0;
	for (size_t i = 0; i < n && !rc; i++, started++) {
		w[i] = (struct worker){.o = o, .t = &t, .index = i, .nthreads = n, .t0_ns = t0};
		sl_rng_seed(&w[i].rng, o->seed ^ (0x9e3779b97f4a7c15u * (i + 1)));
		rc = worker_init(&w[i]);
		if (!rc && pthread_create(&th[i], NULL, worker_main, &w[i]))
			rc = SL_ENOMEM;
		if (rc)
			worker_release(&w[i]);
	}
	for (size_t i = 0; i < started - (rc != 0); i++) {
		pthread_join(th[i], NULL);
		worker_release(&w[i]);
	}
	curl_global_cleanup();
	if (rc) {
		fprintf(stderr, "sluice load: cannot start the recs users: %s\n", sl_strerror(rc));
		return 1;
	}
	return report(&t, o);
}
