/* experiments_http.c: the data plane's POST /v1/events (business events and slate interactions,
 * one object or an array of up to 1000) and POST /v1/recs (one served recommendation slate).
 * Invariants: every input is bounded and validated before anything is counted: a batch is
 * refused whole (400 malformed, 404 unknown request id or experiment) and then nothing of it is
 * recorded; an event whose request id is unknown to both request maps is refused, never guessed;
 * answers are OpenAI-shaped errors or small JSON objects. What a slate or interaction contributed
 * goes on to the canary judge and the drift monitor (recs_forward), and a slate's diversity,
 * novelty and repetition to the experiments as events of its unit (slate_events). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "proxy/drift_live.h"
#include "proxy/experiments-int.h"
#include "proxy/proxy.h"
#include "proxy/reqmap.h"
#include "proxy/rollouts.h"

#define MAX_BATCH       1000
#define MAX_EVENTS_BODY (MAX_BATCH * SL_EXP_EVENT_MAX_BYTES)
#define MAX_RECS_BODY   (1u << 20)
#define MAX_DIM         1024
#define MAX_TS          253402300799.0 /* 9999-12-31 */

static struct json_tokener *tok;

void sl_xgw_http_free(void)
{
	if (tok)
		json_tokener_free(tok);
	tok = NULL;
}

static void send_ok(h2o_req_t *req, struct sl_buf *b)
{
	h2o_iovec_t body = h2o_strdup(&req->pool, b->data ? b->data : "{}", b->data ? b->len : 2);
	req->res.status = 200;
	req->res.reason = "OK";
	h2o_set_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, H2O_STRLIT("application/json"), 0);
	h2o_send_inline(req, body.base, body.len);
}

/* The body as one JSON value (strict, valid UTF-8, nothing after it), or NULL. */
static struct json_object *parse_body(h2o_req_t *req, size_t max)
{
	if (!tok && !(tok = json_tokener_new_ex(16)))
		return NULL;
	if (req->entity.len == 0 || req->entity.len > max)
		return NULL;
	json_tokener_reset(tok);
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	struct json_object *o = json_tokener_parse_ex(tok, req->entity.base, (int)req->entity.len);
	if (o && json_tokener_get_parse_end(tok) != req->entity.len) {
		json_object_put(o);
		o = NULL;
	}
	return o;
}

/* ---- field readers: NULL, or the problem ---- */

static const char *get_str(struct json_object *o, const char *key, char *dst, size_t cap, bool name)
{
	struct json_object *v;
	dst[0] = '\0';
	if (!json_object_object_get_ex(o, key, &v))
		return NULL;
	size_t n = json_object_is_type(v, json_type_string) ? (size_t)json_object_get_string_len(v) : 0;
	if (n == 0 || n >= cap)
		return "must be a non-empty string of bounded length";
	const char *s = json_object_get_string(v);
	for (size_t i = 0; name && i < n; i++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.:-", s[i]))
			return "must be 1 to 64 characters of [A-Za-z0-9_.:-]";
	if (memchr(s, '\0', n))
		return "must not hold a NUL character";
	memcpy(dst, s, n + 1);
	return NULL;
}

static const char *get_num(struct json_object *o, const char *key, double lo, double hi, double *out)
{
	struct json_object *v;
	if (!json_object_object_get_ex(o, key, &v))
		return NULL;
	if (!json_object_is_type(v, json_type_double) && !json_object_is_type(v, json_type_int))
		return "must be a number";
	*out = json_object_get_double(v);
	return isfinite(*out) && *out >= lo && *out <= hi ? NULL : "must be a finite number in range";
}

/* ---- POST /v1/events ---- */

struct xev {
	char name[SL_EXP_NAME_CAP], experiment[SL_EXP_NAME_CAP];
	char request_id[SL_EXP_UNIT_ID_MAX + 1], unit_id[SL_EXP_UNIT_ID_MAX + 1];
	char user[SL_EXP_UNIT_ID_MAX + 1], session[SL_EXP_UNIT_ID_MAX + 1];
	char item[SL_RECS_MAX_ID + 1];
	char runit[SL_EXP_UNIT_ID_MAX + 1]; /* the unit the request id resolved to */
	double value, ts;
	bool has_value;
	int tag, variant; /* from the request id: -1 when in no experiment */
};

static const char *event_fields(struct json_object *o, struct xev *e, const char **field)
{
	static const char *const keys[] = {"request_id", "unit_id", "user", "session", "experiment",
	                                   "event",      "value",   "item", "ts",      "timestamp"};
	const char *why = NULL;
	json_object_object_foreach(o, key, val)
	{
		(void)val;
		size_t k = 0;
		while (k < sizeof(keys) / sizeof(keys[0]) && strcmp(key, keys[k]) != 0)
			k++;
		if (k == sizeof(keys) / sizeof(keys[0]))
			return *field = "body", "unknown field (use request_id, unit_id, user, session, experiment, "
			                        "event, value, item, ts)";
	}
	double ts = NAN;
	e->value = NAN;
	e->ts = NAN;
#define F(name, expr)                                                                                                  \
	if (!why && (why = (expr)) != NULL)                                                                            \
		*field = name;
	F("event", get_str(o, "event", e->name, sizeof(e->name), true))
	F("experiment", get_str(o, "experiment", e->experiment, sizeof(e->experiment), true))
	F("request_id", get_str(o, "request_id", e->request_id, sizeof(e->request_id), false))
	F("unit_id", get_str(o, "unit_id", e->unit_id, sizeof(e->unit_id), false))
	F("user", get_str(o, "user", e->user, sizeof(e->user), false))
	F("session", get_str(o, "session", e->session, sizeof(e->session), false))
	F("item", get_str(o, "item", e->item, sizeof(e->item), false))
	F("value", get_num(o, "value", -1e15, 1e15, &e->value))
	F("ts", get_num(o, "ts", 0, MAX_TS, &e->ts))
	F("timestamp", get_num(o, "timestamp", 0, MAX_TS, &ts))
#undef F
	if (why)
		return why;
	if (!e->name[0])
		return *field = "event", "is required (a name such as \"click\")";
	if (!e->request_id[0] && !e->unit_id[0] && !e->user[0] && !e->session[0])
		return *field = "request_id", "give request_id or unit_id (or user, session)";
	e->has_value = !isnan(e->value);
	e->ts = isnan(e->ts) ? ts : e->ts;
	return NULL;
}

/* Resolves the request id (but that of a slate interaction, which the recommendation monitor
 * joins itself); 0, or the HTTP status of the refusal with msg filled. */
static int resolve(struct xev *e, char *msg, size_t cap)
{
	const char *model, *version;
	e->tag = e->variant = -1;
	if (e->experiment[0] && !sl_xgw_find(e->experiment, strlen(e->experiment))) {
		snprintf(msg, cap, "experiment '%s' does not exist", e->experiment);
		return 404;
	}
	enum sl_recs_kind k;
	if (!e->request_id[0] || (e->item[0] && sl_recs_kind_parse(e->name, strlen(e->name), &k) == 0))
		return 0; /* a slate interaction: the monitor joins the application's own request ids */
	struct sl_slice id = sl_slice_cstr(e->request_id);
	if (sl_xgw_reqs_get(id, &e->tag, &e->variant, &version, e->runit) == 0 ||
	    sl_reqmap_peek(id, &model, &version) == 0)
		return 0;
	snprintf(msg, cap, "unknown or expired request id '%.64s' (only recent requests can be joined)", e->request_id);
	return 404;
}

static const char *unit_for(const struct sl_xgw_slot *x, const struct xev *e)
{
	if (e->tag == x->tag && e->runit[0])
		return e->runit;
	switch (sl_xgw_exp(x)->unit) {
	case SL_EXP_UNIT_USER:
		return e->user[0] ? e->user : e->unit_id;
	case SL_EXP_UNIT_SESSION:
		return e->session[0] ? e->session : e->unit_id;
	case SL_EXP_UNIT_REQUEST:
		return e->request_id;
	}
	return "";
}

/* Feeds e to the experiments (the named one, or all); returns how many took it. */
static int feed_experiments(const struct xev *e, double now)
{
	int fed = 0;
	for (unsigned i = 0; i < sl_xgw.n; i++) {
		struct sl_xgw_slot *x = sl_xgw.slots[i];
		const char *unit = unit_for(x, e);
		struct sl_exp_agg_counts before, after;
		if ((e->experiment[0] && strcmp(e->experiment, sl_xgw_exp(x)->key) != 0) || !unit[0])
			continue;
		sl_experiment_agg_counts(x->agg, 0, &before);
		sl_experiment_agg_event(x->agg, 0, sl_slice_cstr(unit), sl_slice_cstr(e->name),
		                        e->has_value ? e->value : 1, isnan(e->ts) ? now : e->ts);
		sl_experiment_agg_counts(x->agg, 0, &after);
		fed += after.events > before.events;
	}
	return fed;
}

/* What a slate or an interaction contributed goes to the canary judge and the drift monitor;
 * a recommendation window that closed meanwhile has its retraining thresholds checked. */
static void recs_forward(const char *model, const struct sl_recs_obs *o)
{
	static uint64_t seen[SL_RECS_MAX_VERSIONS];
	const char *names[SL_RECS_MAX_VERSIONS];
	sl_rollouts_recs(model, o);
	sl_drift_live_recs(model, o);
	size_t n = sl_recs_versions(sl_xgw.recs, names, SL_RECS_MAX_VERSIONS);
	for (size_t i = 0; i < n && i < SL_RECS_MAX_VERSIONS; i++) {
		uint64_t closed = sl_recs_windows(sl_xgw.recs, names[i]);
		if (closed != seen[i])
			sl_drift_live_recs_window(names[i] == o->version ? model : NULL, names[i], sl_xgw.recs);
		seen[i] = closed;
	}
}

/* An interaction with a recorded slate (event named like a sl_recs_kind, with an item). */
static int feed_recs(const struct xev *e, double now)
{
	enum sl_recs_kind k;
	struct sl_recs_obs o;
	const char *user = e->user[0] ? e->user : e->unit_id[0] ? e->unit_id : e->runit;
	if (!e->item[0] || sl_recs_kind_parse(e->name, strlen(e->name), &k) != 0)
		return 0;
	double v = k == SL_RECS_WATCH && e->has_value ? e->value : 0;
	if (v < 0 || v > SL_RECS_MAX_WATCH)
		return 0;
	if (sl_recs_interaction_observe(sl_xgw.recs, e->request_id[0] ? e->request_id : NULL, user[0] ? user : NULL,
	                                e->item, k, v, isnan(e->ts) ? now : e->ts, &o) != 0)
		return 0;
	recs_forward(NULL, &o);
	return 1;
}

/* Validates every event of o (an object or an array); 0 or the refusal's HTTP status. */
static int validate(struct json_object *o, struct xev **out, size_t *n, char *msg, size_t cap)
{
	bool arr = json_object_is_type(o, json_type_array);
	size_t count = arr ? json_object_array_length(o) : 1;
	if ((!arr && !json_object_is_type(o, json_type_object)) || count == 0 || count > MAX_BATCH) {
		snprintf(msg, cap, "the body must be one event object or an array of 1 to %d of them", MAX_BATCH);
		return 400;
	}
	struct xev *ev = calloc(count, sizeof(*ev));
	if (!ev)
		return snprintf(msg, cap, "out of memory"), 503;
	for (size_t i = 0; i < count; i++) {
		struct json_object *item = arr ? json_object_array_get_idx(o, i) : o;
		const char *field = "body", *why = json_object_is_type(item, json_type_object)
		                                       ? event_fields(item, &ev[i], &field)
		                                       : "must be an object";
		int status = why ? 400 : resolve(&ev[i], msg, cap);
		if (why && arr)
			snprintf(msg, cap, "events[%zu].%s: %s", i, field, why);
		else if (why)
			snprintf(msg, cap, "%s: %s", field, why);
		if (status) {
			free(ev);
			return status;
		}
	}
	*out = ev;
	*n = count;
	return 0;
}

void sl_experiments_events_post(h2o_req_t *req)
{
	char msg[512];
	struct xev *ev = NULL;
	size_t n = 0;
	struct json_object *o = parse_body(req, MAX_EVENTS_BODY);
	if (!o)
		return sl_send_oai_error(req, req->entity.len > MAX_EVENTS_BODY ? 413 : 400, "invalid_request_error",
		                         "invalid_json",
		                         "the body must be JSON: one event object or an array of up to %d", MAX_BATCH);
	int status = validate(o, &ev, &n, msg, sizeof(msg));
	json_object_put(o);
	if (status)
		return sl_send_oai_error(
		    req, status, status >= 500 ? "server_error" : "invalid_request_error",
		    status == 404 ? (strstr(msg, "experiment") == msg ? "experiment_not_found" : "request_not_found")
		                  : "invalid_event",
		    "%s", msg);
	double now = sl_wall_time();
	long recorded = 0, recs = 0;
	for (size_t i = 0; i < n; i++) {
		recorded += feed_experiments(&ev[i], now);
		recs += feed_recs(&ev[i], now);
	}
	free(ev);
	struct sl_buf b;
	sl_buf_init(&b, 0);
	sl_buf_printf(&b, "{\"recorded\":%ld,\"events\":%zu,\"recs\":%ld}", recorded, n, recs);
	send_ok(req, &b);
	sl_buf_release(&b);
}

/* ---- POST /v1/recs ---- */

struct slate {
	char request_id[SL_RECS_MAX_ID + 1], user[SL_RECS_MAX_ID + 1], model[SL_RECS_MAX_ID + 1];
	char version[SL_RECS_MAX_ID + 1];
	double ts;
	size_t n, dim;
	char ids[SL_RECS_MAX_SLATE][SL_RECS_MAX_ID + 1], cats[SL_RECS_MAX_SLATE][SL_RECS_MAX_ID + 1];
	char srcs[SL_RECS_MAX_SLATE][SL_RECS_MAX_ID + 1];
	const char *idp[SL_RECS_MAX_SLATE], *catp[SL_RECS_MAX_SLATE], *srcp[SL_RECS_MAX_SLATE];
	float *emb; /* n x dim, or NULL */
};

static const char *embedding(struct json_object *v, struct slate *s, size_t i)
{
	size_t d = json_object_is_type(v, json_type_array) ? json_object_array_length(v) : 0;
	if (d == 0 || d > MAX_DIM || (i > 0 && d != s->dim) || (i > 0 && !s->emb))
		return "must be an array of 1 to 1024 numbers, the same length for every item, on all items or none";
	if (i == 0 && !(s->emb = calloc(SL_RECS_MAX_SLATE * d, sizeof(float))))
		return "out of memory";
	s->dim = d;
	for (size_t k = 0; k < d; k++) {
		struct json_object *x = json_object_array_get_idx(v, k);
		double f = json_object_get_double(x);
		if ((!json_object_is_type(x, json_type_double) && !json_object_is_type(x, json_type_int)) ||
		    !isfinite(f) || fabs(f) > 1e30)
			return "must hold finite numbers";
		s->emb[i * d + k] = (float)f;
	}
	return NULL;
}

static const char *slate_item(struct json_object *it, struct slate *s, size_t i)
{
	static const char *const keys[] = {"id", "category", "source", "score", "embedding"};
	struct json_object *v;
	double score;
	if (!json_object_is_type(it, json_type_object))
		return "must be an item id or an object with an id";
	json_object_object_foreach(it, key, val)
	{
		(void)val;
		size_t k = 0;
		while (k < 5 && strcmp(key, keys[k]) != 0)
			k++;
		if (k == 5)
			return "unknown field (use id, category, source, score, embedding)";
	}
	const char *why = get_str(it, "id", s->ids[i], sizeof(s->ids[i]), false);
	why = why ? why : get_str(it, "category", s->cats[i], sizeof(s->cats[i]), false);
	why = why ? why : get_str(it, "source", s->srcs[i], sizeof(s->srcs[i]), false);
	why = why ? why : get_num(it, "score", -1e300, 1e300, &score);
	if (!why && !s->ids[i][0])
		why = "needs an id";
	if (!why && json_object_object_get_ex(it, "embedding", &v))
		why = embedding(v, s, i);
	else if (!why && s->emb)
		why = "embedding: give it on all items or none";
	return why;
}

static const char *slate_items(struct json_object *items, struct slate *s, size_t *bad)
{
	size_t n = json_object_is_type(items, json_type_array) ? json_object_array_length(items) : 0;
	if (n == 0 || n > SL_RECS_MAX_SLATE)
		return "must be an array of 1 to 64 items";
	for (size_t i = 0; i < n; i++) {
		struct json_object *it = json_object_array_get_idx(items, i);
		const char *why = NULL;
		*bad = i;
		if (json_object_is_type(it, json_type_string)) {
			size_t len = (size_t)json_object_get_string_len(it);
			if (len == 0 || len > SL_RECS_MAX_ID || memchr(json_object_get_string(it), '\0', len))
				why = "an item id must be a non-empty string of at most 256 bytes";
			else
				memcpy(s->ids[i], json_object_get_string(it), len + 1);
			if (!why && s->emb)
				why = "embedding: give it on all items or none";
		} else {
			why = slate_item(it, s, i);
		}
		if (why)
			return why;
		s->idp[i] = s->ids[i];
		s->catp[i] = s->cats[i][0] ? s->cats[i] : NULL;
		s->srcp[i] = s->srcs[i][0] ? s->srcs[i] : NULL;
	}
	s->n = n;
	return NULL;
}

/* Parses the slate; NULL, or the problem with *field naming where. */
static const char *slate_fields(struct json_object *o, struct slate *s, const char **field, size_t *bad)
{
	static const char *const keys[] = {"request_id", "user", "model", "version", "items", "ts"};
	struct json_object *items;
	const char *why = NULL;
	json_object_object_foreach(o, key, val)
	{
		(void)val;
		size_t k = 0;
		while (k < 6 && strcmp(key, keys[k]) != 0)
			k++;
		if (k == 6)
			return *field = "body", "unknown field (use request_id, user, model, version, items, ts)";
	}
	s->ts = NAN;
	if ((why = get_str(o, "request_id", s->request_id, sizeof(s->request_id), false)) || !s->request_id[0])
		return *field = "request_id", why ? why : "is required";
	if ((why = get_str(o, "user", s->user, sizeof(s->user), false)) || !s->user[0])
		return *field = "user", why ? why : "is required";
	if ((why = get_str(o, "model", s->model, sizeof(s->model), false)))
		return *field = "model", why;
	if ((why = get_str(o, "version", s->version, sizeof(s->version), false)))
		return *field = "version", why;
	if ((why = get_num(o, "ts", 0, MAX_TS, &s->ts)))
		return *field = "ts", why;
	if (!json_object_object_get_ex(o, "items", &items))
		return *field = "items", "is required";
	*field = "items";
	return slate_items(items, s, bad);
}

static void recs_refuse(h2o_req_t *req, int rc)
{
	if (rc == SL_ESTATE)
		return sl_send_oai_error(req, 409, "invalid_request_error", "slate_exists",
		                         "a slate was already recorded for this request id");
	if (rc == SL_ERANGE)
		return sl_send_oai_error(req, 409, "invalid_request_error", "too_many_versions",
		                         "the recommendation monitor follows at most %d versions",
		                         SL_RECS_MAX_VERSIONS);
	sl_send_oai_error(req, rc == SL_ENOMEM ? 503 : 400, "invalid_request_error", "invalid_slate",
	                  "the slate was refused: %s (items must be distinct)", sl_strerror(rc));
}

/* A slate's own measures reach the experiments as events of its unit, like business events:
 * recs_slates (1) and, when it has a value, recs_diversity, recs_novelty, and recs_repetition
 * with recs_repeat_slates (1), so that a ratio metric averages them per slate (docs/RECS.md). */
static void slate_events(const struct slate *s, int tag, int variant, const char *runit, const struct sl_recs_obs *o,
                         double now)
{
	const struct {
		const char *name;
		double v;
	} m[] = {{"recs_slates", 1},
	         {"recs_diversity", o->diversity},
	         {"recs_novelty", o->novelty},
	         {"recs_repetition", o->repetition},
	         {"recs_repeat_slates", isfinite(o->repetition) ? 1 : NAN}};
	struct xev e = {.tag = tag, .variant = variant, .has_value = true, .ts = now};
	snprintf(e.request_id, sizeof e.request_id, "%s", s->request_id);
	snprintf(e.user, sizeof e.user, "%s", s->user);
	snprintf(e.runit, sizeof e.runit, "%s", runit);
	for (size_t i = 0; i < sizeof m / sizeof *m; i++)
		if (isfinite(m[i].v)) {
			snprintf(e.name, sizeof e.name, "%s", m[i].name);
			e.value = m[i].v;
			feed_experiments(&e, now);
		}
}

static void recs_record(h2o_req_t *req, struct slate *s)
{
	const char *answered = NULL, *version = s->version[0] ? s->version : NULL, *model = NULL, *mapped = NULL;
	struct sl_slice id = sl_slice_cstr(s->request_id);
	int tag, variant;
	char unit[SL_EXP_UNIT_ID_MAX + 1];
	struct sl_recs_obs o;
	bool known = sl_xgw_reqs_get(id, &tag, &variant, &answered, unit) == 0;
	bool gateway = sl_reqmap_peek(id, &model, &mapped) == 0; /* a request this gateway served */
	version = version ? version : answered ? answered : mapped; /* the version that answered, when kept */
	if (!version)
		return sl_send_oai_error(req, 404, "invalid_request_error", "request_not_found",
		                         "unknown or expired request id and no 'version' given");
	model = s->model[0] ? s->model : gateway ? model : NULL;
	double now = isnan(s->ts) ? sl_wall_time() : s->ts;
	struct sl_recs_slate_in in = {.version = version,
	                              .user = s->user,
	                              .request_id = s->request_id,
	                              .items = s->idp,
	                              .sources = s->srcp,
	                              .categories = s->catp,
	                              .embeddings = s->emb,
	                              .n = s->n,
	                              .dim = s->dim,
	                              .now = now};
	sl_recs_tick(sl_xgw.recs, now);
	int rc = sl_recs_slate_observe(sl_xgw.recs, &in, &o);
	if (rc)
		return recs_refuse(req, rc);
	recs_forward(model, &o);
	slate_events(s, known ? tag : -1, known ? variant : -1, known ? unit : "", &o, now);
	if (!known) /* joins interactions by request id */
		sl_xgw_reqs_put(id, -1, -1, version, sl_slice_cstr(s->user));
	struct sl_buf b;
	sl_buf_init(&b, 0);
	sl_buf_puts(&b, "{\"recorded\":true,\"version\":");
	sl_buf_json_str(&b, version, strlen(version));
	sl_buf_printf(&b, ",\"items\":%zu}", s->n);
	send_ok(req, &b);
	sl_buf_release(&b);
}

void sl_experiments_recs_post(h2o_req_t *req)
{
	const char *field = "body", *why;
	size_t bad = 0;
	struct json_object *o = parse_body(req, MAX_RECS_BODY);
	if (!o || !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		return sl_send_oai_error(req, req->entity.len > MAX_RECS_BODY ? 413 : 400, "invalid_request_error",
		                         "invalid_json", "the body must be one JSON object of at most 1 MiB");
	}
	struct slate *s = calloc(1, sizeof(*s));
	if (!s) {
		json_object_put(o);
		return sl_send_oai_error(req, 503, "server_error", NULL, "out of memory");
	}
	why = slate_fields(o, s, &field, &bad);
	json_object_put(o);
	if (why && strcmp(field, "items") == 0 && s->n == 0 && strncmp(why, "must be an array", 16) != 0)
		sl_send_oai_error(req, 400, "invalid_request_error", "invalid_slate", "items[%zu]: %s", bad, why);
	else if (why)
		sl_send_oai_error(req, 400, "invalid_request_error", "invalid_slate", "%s: %s", field, why);
	else
		recs_record(req, s);
	free(s->emb);
	free(s);
}
