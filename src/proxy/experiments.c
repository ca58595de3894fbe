/* experiments.c: the experiment runtime of the gateway (see experiments.h): the slots (one
 * experiment and its aggregator each) built from the configuration and the store, kept across
 * reloads, the routing of a request into a variant, the measurement of finished requests, and
 * the guardrails that stop an experiment by themselves.
 * Invariants: loop thread only; sl_xgw.slots holds at most SL_EXP_MAX_EXPERIMENTS slots with
 * distinct keys; a stopped slot assigns nobody and counts nothing more (its experiment's stop
 * is set to the stop time); a stop is in the store before it is reported. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "proxy/experiments-int.h"
#include "proxy/proxy.h"
#include "sluice/store.h"

#define GUARD_CHECK_S 1.0 /* guardrails are looked at most once a second per experiment */

struct sl_xgw sl_xgw;

/* ---- slots ---- */

struct sl_xgw_slot *sl_xgw_find(const char *key, size_t len)
{
	for (unsigned i = 0; i < sl_xgw.n; i++) {
		const char *k = sl_xgw_exp(sl_xgw.slots[i])->key;
		if (strlen(k) == len && memcmp(k, key, len) == 0)
			return sl_xgw.slots[i];
	}
	return NULL;
}

void sl_xgw_slot_free(struct sl_xgw_slot *x)
{
	if (!x)
		return;
	sl_experiment_agg_free(x->agg);
	sl_experiment_set_free(x->set);
	free(x->spec_json);
	free(x);
}

static int intern_names(struct sl_xgw_slot *x, char *err, size_t errlen)
{
	const struct sl_experiment *e = sl_xgw_exp(x);
	x->tag = sl_xgw_intern(e->key);
	for (unsigned v = 0; x->tag >= 0 && v < e->nvariants; v++)
		if ((x->vtags[v] = sl_xgw_intern(e->variants[v].key)) < 0)
			x->tag = -1;
	if (x->tag < 0)
		snprintf(err, errlen, "experiment '%s': more than %d experiment and variant names since start", e->key,
		         SL_EXPGW_MAX_NAMES);
	return x->tag < 0 ? SL_ERANGE : 0;
}

/* The canonical spec of the slot's experiment (as the parser reads it back). */
static int canonical(struct sl_xgw_slot *x)
{
	struct sl_buf b;
	sl_buf_init(&b, SL_STORE_JSON_MAX);
	int rc = sl_experiment_spec_json(sl_xgw_exp(x), &b);
	x->spec_json = rc ? NULL : b.data;
	if (rc)
		sl_buf_release(&b);
	return rc ? rc : (x->spec_json ? 0 : SL_ENOMEM);
}

struct sl_xgw_slot *sl_xgw_slot_new(const char *wrapped_json, bool from_api, char *err, size_t errlen)
{
	struct sl_xgw_slot *x = calloc(1, sizeof(*x));
	if (!x) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	x->from_api = from_api;
	x->stopped_at = NAN;
	int rc = sl_experiments_from_json(wrapped_json, &x->set, err, errlen);
	if (!rc && x->set->n != 1) {
		snprintf(err, errlen, "give exactly one experiment");
		rc = SL_EINVAL;
	}
	rc = rc ? rc : intern_names(x, err, errlen);
	rc = rc ? rc : canonical(x);
	if (!rc && !(x->agg = sl_experiment_agg_new(x->set)))
		rc = SL_ENOMEM;
	if (rc == SL_ENOMEM)
		snprintf(err, errlen, "out of memory");
	if (rc) {
		sl_xgw_slot_free(x);
		return NULL;
	}
	return x;
}

/* A slot for experiment e of a set parsed from the configuration. */
static struct sl_xgw_slot *slot_of_config(const struct sl_experiment *e, char *err, size_t errlen)
{
	struct sl_buf b;
	sl_buf_init(&b, SL_STORE_JSON_MAX + 64);
	int rc = sl_buf_puts(&b, "{\"experiments\":[");
	rc = rc ? rc : sl_experiment_spec_json(e, &b);
	rc = rc ? rc : sl_buf_puts(&b, "]}");
	struct sl_xgw_slot *x = rc ? NULL : sl_xgw_slot_new(b.data, false, err, errlen);
	if (rc)
		snprintf(err, errlen, "experiment '%s': out of memory", e->key);
	sl_buf_release(&b);
	return x;
}

static void apply_stop(struct sl_xgw_slot *x, double at)
{
	x->stopped = true;
	x->stopped_at = at;
	sl_experiment_stop(&x->set->exps[0], at);
}

void sl_xgw_stop(struct sl_xgw_slot *x, double now, const char *why)
{
	if (x->stopped)
		return;
	struct sl_store *st = sl_rollouts_store();
	int rc = st ? sl_store_experiment_stop(st, sl_xgw_exp(x)->key, now) : 0;
	if (rc)
		sl_log(SL_LOG_ERROR, "experiment '%s': cannot record its stop: %s", sl_xgw_exp(x)->key,
		       sl_store_errmsg(st));
	apply_stop(x, now);
	sl_log(SL_LOG_WARN, "experiment '%s' stopped: %s", sl_xgw_exp(x)->key, why);
}

const char *sl_xgw_state(const struct sl_xgw_slot *x, double now)
{
	const struct sl_experiment *e = sl_xgw_exp(x);
	if (x->stopped)
		return "stopped";
	return now < e->start ? "scheduled" : now < e->stop ? "running" : "ended";
}

static const struct sl_route_version *find_version(const struct sl_route_model *m, const char *name)
{
	for (size_t i = 0; i < m->nversions; i++)
		if (strcmp(m->versions[i].name, name) == 0)
			return &m->versions[i];
	return NULL;
}

int sl_xgw_check_routes(const struct sl_experiment *e, char *err, size_t errlen)
{
	const struct sl_route_model *m =
	    sl_server.current ? sl_route_find(sl_server.current->table, sl_slice_cstr(e->model)) : NULL;
	if (!m) {
		snprintf(err, errlen, "model: no model '%s' in the configuration", e->model);
		return SL_EINVAL;
	}
	for (unsigned v = 0; v < e->nvariants; v++)
		if (e->variants[v].version && !find_version(m, e->variants[v].version)) {
			snprintf(err, errlen, "variants[%u].version: model '%s' has no version '%s'", v, e->model,
			         e->variants[v].version);
			return SL_EINVAL;
		}
	return 0;
}

/* ---- start, reload, store ---- */

static int add_slot(struct sl_xgw_slot *x)
{
	if (sl_xgw.n == SL_EXP_MAX_EXPERIMENTS)
		return SL_ERANGE;
	sl_xgw.slots[sl_xgw.n++] = x;
	return 0;
}

/* One stored row: an API-declared experiment (unless the configuration has the key), a stop. */
static int load_row(void *ctx, const struct sl_store_experiment *row)
{
	char err[512];
	struct sl_xgw_slot *x = sl_xgw_find(row->key, strlen(row->key));
	struct sl_buf b;
	(void)ctx;
	if (!x && row->spec_json) {
		sl_buf_init(&b, 0);
		if (sl_buf_printf(&b, "{\"experiments\":[%.*s]}", (int)row->spec_json_len, row->spec_json) == 0 &&
		    (x = sl_xgw_slot_new(b.data, true, err, sizeof(err))) != NULL && add_slot(x) != 0) {
			sl_xgw_slot_free(x);
			x = NULL;
			snprintf(err, sizeof(err), "more than %d experiments", SL_EXP_MAX_EXPERIMENTS);
		}
		if (!x)
			sl_log(SL_LOG_ERROR, "stored experiment '%s' not resumed: %s", row->key, err);
		sl_buf_release(&b);
	}
	if (x && !isnan(row->stopped_at))
		apply_stop(x, row->stopped_at);
	return 0;
}

static int load_store(char *err, size_t errlen)
{
	struct sl_store *st = sl_rollouts_store();
	int rc = st ? sl_store_experiments_load(st, load_row, NULL) : 0;
	if (rc)
		snprintf(err, errlen, "cannot read stored experiments: %s", sl_store_errmsg(st));
	return rc;
}

static bool holds(struct sl_xgw_slot *const *a, unsigned n, const struct sl_xgw_slot *x)
{
	for (unsigned i = 0; i < n; i++)
		if (a[i] == x)
			return true;
	return false;
}

/* The configuration's experiments as slots in out[] (*n of them): new ones, or the slot in force
 * with the same key and spec, taken over with its data. */
static int build_config_slots(const struct sl_config *cfg, struct sl_xgw_slot **out, unsigned *n, char *err,
                              size_t errlen)
{
	struct sl_experiment_set *set = NULL;
	const char *json = cfg->experiments_json_ ? cfg->experiments_json_ : "{\"experiments\":[]}";
	int rc = sl_experiments_from_json(json, &set, err, errlen);
	for (unsigned i = 0; !rc && i < set->n; i++) {
		struct sl_xgw_slot *x = slot_of_config(&set->exps[i], err, errlen);
		struct sl_xgw_slot *old = x ? sl_xgw_find(set->exps[i].key, strlen(set->exps[i].key)) : NULL;
		if (old && !old->from_api && strcmp(old->spec_json, x->spec_json) == 0) {
			sl_xgw_slot_free(x);
			x = old;
		} else if (old) {
			sl_log(SL_LOG_INFO, "experiment '%s' changed: it starts again with no data", set->exps[i].key);
		}
		if (x)
			out[(*n)++] = x;
		else
			rc = SL_EINVAL;
	}
	sl_experiment_set_free(set);
	return rc;
}

/* The slot of out[0..n) with x's key, or NULL. */
static struct sl_xgw_slot *same_key(struct sl_xgw_slot *const *out, unsigned n, const struct sl_xgw_slot *x)
{
	for (unsigned k = 0; k < n; k++)
		if (strcmp(sl_xgw_exp(out[k])->key, sl_xgw_exp(x)->key) == 0)
			return out[k];
	return NULL;
}

/* Replaces the slots: the configuration's first, then the API-declared ones it does not name;
 * the stops of replaced slots carry over by key. On failure nothing changes. */
static int install(const struct sl_config *cfg, char *err, size_t errlen)
{
	struct sl_xgw_slot *next[SL_EXP_MAX_EXPERIMENTS] = {0};
	unsigned n = 0;
	int rc = build_config_slots(cfg, next, &n, err, errlen);
	if (rc) {
		for (unsigned i = 0; i < n; i++)
			if (!holds(sl_xgw.slots, sl_xgw.n, next[i]))
				sl_xgw_slot_free(next[i]);
		return rc;
	}
	unsigned nconfig = n;
	for (unsigned i = 0; i < sl_xgw.n; i++) {
		struct sl_xgw_slot *old = sl_xgw.slots[i], *named = same_key(next, nconfig, old);
		if (holds(next, nconfig, old))
			continue;
		if (named && old->stopped && !named->stopped)
			apply_stop(named, old->stopped_at);
		if (!named && old->from_api && n < SL_EXP_MAX_EXPERIMENTS)
			next[n++] = old;
		else
			sl_xgw_slot_free(old);
	}
	memcpy(sl_xgw.slots, next, sizeof(next));
	sl_xgw.n = n;
	return 0;
}

int sl_experiments_init(const struct sl_config *cfg, char *err, size_t errlen)
{
	struct sl_recs_opts o;
	sl_recs_opts_init(&o);
	o.max_slate = SL_RECS_MAX_SLATE;
	int rc = sl_recs_monitor_new(&o, &sl_xgw.recs);
	if (rc) {
		snprintf(err, errlen, "recommendation monitor: %s", sl_strerror(rc));
		return rc;
	}
	rc = install(cfg, err, errlen);
	rc = rc ? rc : load_store(err, errlen);
	sl_xgw.ready = rc == 0;
	if (!rc && sl_xgw.n)
		sl_log(SL_LOG_INFO, "%u experiment(s) in force", sl_xgw.n);
	return rc;
}

void sl_experiments_reload(const struct sl_config *cfg)
{
	char err[1024];
	if (!sl_xgw.ready)
		return;
	if (install(cfg, err, sizeof(err)) != 0)
		sl_log(SL_LOG_ERROR, "experiments not reloaded, keeping those in force: %s", err);
}

void sl_experiments_shutdown(void)
{
	for (unsigned i = 0; i < sl_xgw.n; i++)
		sl_xgw_slot_free(sl_xgw.slots[i]);
	sl_recs_monitor_free(sl_xgw.recs);
	sl_xgw_reqs_free();
	sl_xgw_http_free();
	memset(&sl_xgw, 0, sizeof(sl_xgw));
}

/* ---- routing and measurement ---- */

static struct sl_slice unit_of(const struct sl_experiment *e, struct sl_slice user, struct sl_slice session,
                               struct sl_slice request_id)
{
	return e->unit == SL_EXP_UNIT_USER ? user : e->unit == SL_EXP_UNIT_SESSION ? session : request_id;
}

struct sl_route_version *sl_experiments_route(const struct sl_route_model *m, struct sl_slice user,
                                              struct sl_slice session, struct sl_slice request_id,
                                              struct json_object *root, struct sl_exp_pick *pick)
{
	double now = sl_wall_time();
	memset(pick, 0, sizeof(*pick));
	for (unsigned i = 0; i < sl_xgw.n; i++) {
		struct sl_xgw_slot *x = sl_xgw.slots[i];
		const struct sl_experiment *e = sl_xgw_exp(x);
		struct sl_slice unit = unit_of(e, user, session, request_id);
		int v;
		if (x->stopped || strcmp(e->model, m->name) != 0 || unit.len == 0 || unit.len > SL_EXP_UNIT_ID_MAX ||
		    !sl_experiment_assign(e, unit, now, &v))
			continue;
		const struct sl_route_version *ver =
		    e->variants[v].version ? find_version(m, e->variants[v].version) : NULL;
		if ((e->variants[v].version && !ver) || sl_xgw_apply(&e->variants[v], root) != 0)
			continue; /* a variant the route table cannot serve is left out, not half applied */
		pick->exp_key = sl_xgw_name(x->tag);
		pick->variant_key = sl_xgw_name(x->vtags[v]);
		memcpy(pick->unit, unit.ptr, unit.len);
		pick->unit[unit.len] = '\0';
		return (struct sl_route_version *)ver;
	}
	return NULL;
}

static double price_of(const struct sl_event *ev, bool output)
{
	const struct sl_route_model *m =
	    ev->model ? sl_route_find(sl_server.current->table, sl_slice_cstr(ev->model)) : NULL;
	const struct sl_route_version *v = m && ev->version ? find_version(m, ev->version) : NULL;
	return v ? (output ? v->price_out : v->price_in) : 0;
}

static void request_obs(const struct sl_event *ev, struct sl_exp_request_obs *o)
{
	double total = ev->total_s >= 0 ? ev->total_s * 1000 : 0;
	o->latency_ms = total;
	o->ttft_ms = ev->ttft_s >= 0 ? ev->ttft_s * 1000 : total; /* a whole answer comes at once */
	o->input_tokens = ev->prompt_tokens > 0 ? (double)ev->prompt_tokens : 0;
	o->output_tokens = ev->completion_tokens > 0 ? (double)ev->completion_tokens : 0;
	o->cost = (o->input_tokens * price_of(ev, false) + o->output_tokens * price_of(ev, true)) / 1e6;
	const char *c = ev->error_class;
	o->refusal = ev->refused || (c && strcmp(c, "guard_blocked") == 0);
	o->error = c && strcmp(c, "guard_blocked") != 0 && strcmp(c, "client_closed") != 0;
}

/* Guardrails: a significant regression stops the experiment. */
static void check_guardrails(struct sl_xgw_slot *x, double now)
{
	if (x->stopped || now < x->next_check)
		return;
	x->next_check = now + GUARD_CHECK_S;
	struct sl_exp_report *r = malloc(sizeof(*r));
	if (r && sl_experiment_report(x->agg, 0, now, r) == 0 && r->stop_recommended) {
		char why[600];
		snprintf(why, sizeof(why), "guardrail regressed: %s", r->reason);
		sl_xgw_stop(x, now, why);
	}
	free(r);
}

static struct sl_xgw_slot *slot_by_tag(const char *exp_key)
{
	for (unsigned i = 0; i < sl_xgw.n; i++)
		if (sl_xgw_name(sl_xgw.slots[i]->tag) == exp_key)
			return sl_xgw.slots[i];
	return NULL;
}

void sl_experiments_observe(const struct sl_event *ev, const struct sl_exp_pick *pick)
{
	struct sl_xgw_slot *x = pick && pick->exp_key ? slot_by_tag(pick->exp_key) : NULL;
	if (!x)
		return; /* in no experiment, or the experiment is gone since */
	const struct sl_experiment *e = sl_xgw_exp(x);
	int v = 0;
	while ((unsigned)v < e->nvariants && sl_xgw_name(x->vtags[v]) != pick->variant_key)
		v++;
	if ((unsigned)v == e->nvariants)
		return;
	struct sl_exp_request_obs o;
	double now = sl_wall_time(), at = ev->start > 0 ? ev->start : now;
	struct sl_slice unit = sl_slice_cstr(pick->unit);
	request_obs(ev, &o);
	sl_experiment_agg_request(x->agg, 0, v, unit, &o, at);
	sl_xgw_reqs_put(sl_slice_cstr(ev->request_id), x->tag, v, ev->version, unit);
	check_guardrails(x, now);
}
