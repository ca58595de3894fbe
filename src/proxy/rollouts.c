/* rollouts.c: the runtime of automated canaries on the loop thread (see rollouts.h).
 *
 * One `struct rt` per active rollout. Inputs reach sl_rollout_advance from four places: the
 * 250 ms tick (clock, candidate request count), the judge (run here on the loop over a bounded
 * window, whenever the machine asks), operator actions from the admin API, and webhook answers
 * (posted by the worker thread). Every decision is applied by apply(): reset the window, publish
 * the candidate share as a route override, record state, judgment and events in the store, and
 * call or notify webhooks. Store writes are small WAL transactions on this thread: a few per
 * judgment interval, never per request. Time is wall-clock milliseconds, so recorded times stay
 * meaningful across restarts. */
#include <json-c/json.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "proxy/proxy.h"
#include "proxy/rollouts.h"
#include "proxy/webhook.h"
#include "rollouts-int.h"
#include "sluice/rollout.h"
#include "sluice/store.h"

#define WINDOW_CAP 5000 /* values kept per side per value check: bounds the judge's time on the loop */
#define MAX_OVERRIDES 256


struct rt {
	int64_t id;
	char model[129], stable[129], candidate[129];
	struct sl_rollout r;
	struct sl_window win;
	int idx[SL_BM_COUNT]; /* check index of each built-in metric, or -1 */
	uint64_t step_requests;
	double price_in[2], price_out[2];
	double created_at, updated_at;
	bool calling, has_last;
	struct sl_judgment last;
	unsigned long outcomes[5]; /* judgments by sl_outcome */
	unsigned long verdicts[SL_ROLLOUT_MAX_CHECKS][4]; /* check results by sl_verdict */
	struct rt *next;
};

struct override {
	char model[129], stable[129], candidate[129];
	double share, shadow;
};

static struct {
	struct sl_store *store;
	struct rt *active;
	struct override ov[MAX_OVERRIDES];
	size_t nov;
} R;

static uint64_t now_ms(void)
{
	return (uint64_t)(sl_wall_time() * 1000.0);
}

static void copy_name(char dst[129], const char *src)
{
	snprintf(dst, 129, "%s", src ? src : "");
}

/* ---- overrides ---- */

static struct override *override_of(const char *model)
{
	for (size_t i = 0; i < R.nov; i++)
		if (strcmp(R.ov[i].model, model) == 0)
			return &R.ov[i];
	return NULL;
}

static void set_override(const char *model, const char *stable, const char *candidate, double share, double shadow)
{
	struct override *o = override_of(model);
	if (!o && R.nov < MAX_OVERRIDES)
		o = &R.ov[R.nov++];
	if (!o)
		return;
	copy_name(o->model, model);
	copy_name(o->stable, stable);
	copy_name(o->candidate, candidate);
	o->share = candidate ? share : 0;
	o->shadow = candidate ? shadow : 0;
	if (R.store && sl_store_override_set(R.store, model, stable, candidate, o->share, o->shadow, sl_wall_time()))
		sl_log(SL_LOG_ERROR, "store: cannot record the route override of '%s': %s", model,
		       sl_store_errmsg(R.store));
	sl_server_republish();
}

struct sl_store *sl_rollouts_store(void)
{
	return R.store;
}

size_t sl_rollouts_overrides(struct sl_route_override *out, size_t cap)
{
	size_t n = 0;
	for (size_t i = 0; i < R.nov && n < cap; i++, n++)
		out[n] = (struct sl_route_override){R.ov[i].model, R.ov[i].stable,
						    R.ov[i].candidate[0] ? R.ov[i].candidate : NULL, R.ov[i].share,
						    R.ov[i].shadow};
	return n;
}

/* ---- runtime objects ---- */

static struct rt *find_active(const char *model)
{
	for (struct rt *t = R.active; t; t = t->next)
		if (strcmp(t->model, model) == 0)
			return t;
	return NULL;
}

static struct rt *find_active_id(int64_t id)
{
	for (struct rt *t = R.active; t; t = t->next)
		if (t->id == id)
			return t;
	return NULL;
}

/* Token prices of both sides, from the configuration (it exists before the first route table). */
static void set_prices(struct rt *t, const struct sl_config *cfg)
{
	for (unsigned i = 0; i < cfg->models_count; i++) {
		const struct sl_cfg_model *m = &cfg->models[i];
		for (unsigned j = 0; strcmp(m->name, t->model) == 0 && j < m->versions_count; j++) {
			const struct sl_cfg_version *v = &m->versions[j];
			int side = !strcmp(v->name, t->stable) ? SL_STABLE : !strcmp(v->name, t->candidate) ? SL_CANDIDATE : -1;
			if (side >= 0 && v->price) {
				t->price_in[side] = v->price->input_per_mtok;
				t->price_out[side] = v->price->output_per_mtok;
			}
		}
	}
}

static struct rt *rt_new(int64_t id, const char *model, const char *stable, const char *candidate,
			 const struct sl_rollout *r, const struct sl_config *cfg)
{
	struct rt *t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->id = id;
	copy_name(t->model, model);
	copy_name(t->stable, stable);
	copy_name(t->candidate, candidate);
	t->r = *r;
	if (sl_window_init(&t->win, &r->spec, WINDOW_CAP, (uint64_t)id * 0x9e3779b97f4a7c15u + 1)) {
		free(t);
		return NULL;
	}
	for (int i = 0; i < SL_BM_COUNT; i++)
		t->idx[i] = sl_rollout_spec_find(&r->spec, sl_builtin_metric_name((enum sl_builtin_metric)i));
	t->created_at = t->updated_at = sl_wall_time();
	set_prices(t, cfg);
	t->next = R.active;
	R.active = t;
	return t;
}

static void rt_free(struct rt *t)
{
	struct rt **pp = &R.active;
	while (*pp && *pp != t)
		pp = &(*pp)->next;
	if (*pp)
		*pp = t->next;
	sl_window_release(&t->win);
	free(t);
}

/* ---- recording ---- */

static void record_event(struct rt *t, const char *kind, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void record_event(struct rt *t, const char *kind, const char *fmt, ...)
{
	struct sl_buf b;
	va_list ap;
	if (!R.store)
		return;
	sl_buf_init(&b, 1 << 20);
	va_start(ap, fmt);
	int rc = sl_buf_vprintf(&b, fmt, ap);
	va_end(ap);
	if (rc || sl_store_event_append(R.store, t->id, sl_wall_time(), kind, b.data))
		sl_log(SL_LOG_ERROR, "store: cannot record a %s event of rollout %lld: %s", kind, (long long)t->id,
		       R.store ? sl_store_errmsg(R.store) : "");
	sl_buf_release(&b);
}

static void record_state(struct rt *t)
{
	struct sl_buf b;
	if (!R.store)
		return;
	sl_buf_init(&b, 1 << 20);
	if (sl_rollout_to_json(&t->r, &b) == 0 &&
	    sl_store_rollout_update(R.store, t->id, sl_rollout_state_name(t->r.state), b.data, (int)t->r.step,
				    t->r.share, sl_wall_time(), sl_rollout_terminal(t->r.state)) != 0)
		sl_log(SL_LOG_ERROR, "store: cannot record rollout %lld: %s", (long long)t->id,
		       sl_store_errmsg(R.store));
	sl_buf_release(&b);
}

static void record_judgment(struct rt *t, const struct sl_judgment *j)
{
	struct sl_buf b;
	if (!R.store)
		return;
	sl_buf_init(&b, 1 << 20);
	if (sl_judgment_to_json(j, &b) == 0 &&
	    sl_store_judgment_append(R.store, t->id, sl_wall_time(), (int)t->r.step, (int)j->index + 1,
				     sl_outcome_name(j->outcome), j->score, b.data) != 0)
		sl_log(SL_LOG_ERROR, "store: cannot record a judgment of rollout %lld: %s", (long long)t->id,
		       sl_store_errmsg(R.store));
	sl_buf_release(&b);
}

static void record_state_event(struct rt *t, const struct sl_rollout_decision *d)
{
	struct sl_buf reason;
	sl_buf_init(&reason, 1024);
	if (sl_buf_json_str(&reason, d->reason, strlen(d->reason)) == 0)
		record_event(t, "state", "{\"state\":\"%s\",\"step\":%u,\"share\":%.6g,\"reason\":%s}",
			     sl_rollout_state_name(d->state), d->step, d->share, reason.data);
	sl_buf_release(&reason);
}

/* ---- applying decisions ---- */

static void advance(struct rt *t, struct sl_rollout_input *in, int depth);

static void publish_share(struct rt *t)
{
	enum sl_rollout_state s = t->r.state;
	if (s == SL_ROLLOUT_PROMOTED)
		set_override(t->model, t->candidate, NULL, 0, 0);
	else if (s == SL_ROLLOUT_ROLLED_BACK || s == SL_ROLLOUT_ABORTED)
		set_override(t->model, t->stable, NULL, 0, 0);
	else
		set_override(t->model, t->stable, t->candidate, t->r.share, t->r.shadow_share);
}

static void judge(struct rt *t, unsigned index, int depth)
{
	struct sl_judgment j;
	if (sl_judge(&t->r.spec, &t->win, index, &j) != 0) {
		sl_log(SL_LOG_ERROR, "rollout %lld: the judge failed", (long long)t->id);
		return;
	}
	t->last = j;
	t->has_last = true;
	if ((unsigned)j.outcome < 5)
		t->outcomes[j.outcome]++;
	for (unsigned i = 0; i < j.nchecks && i < SL_ROLLOUT_MAX_CHECKS; i++)
		if ((unsigned)j.checks[i].verdict < 4)
			t->verdicts[i][j.checks[i].verdict]++;
	record_judgment(t, &j);
	sl_log(SL_LOG_INFO, "rollout %lld (%s %s->%s): judgment %u: %s, score %.0f: %s", (long long)t->id, t->model,
	       t->stable, t->candidate, index + 1, sl_outcome_name(j.outcome), j.score, j.reason);
	struct sl_rollout_input in = {.now_ms = now_ms(), .step_requests = t->step_requests, .judgment = j.outcome};
	advance(t, &in, depth + 1);
}

static void apply(struct rt *t, const struct sl_rollout_decision *d, int depth)
{
	if (d->reset_window) {
		sl_window_reset(&t->win);
		t->step_requests = 0;
	}
	if (d->share_changed || (d->state_changed && sl_rollout_terminal(d->state)))
		publish_share(t);
	if (d->state_changed) {
		t->updated_at = sl_wall_time();
		record_state(t);
		record_state_event(t, d);
		sl_log(SL_LOG_INFO, "rollout %lld (%s): %s, candidate %.1f%%: %s", (long long)t->id, t->model,
		       sl_rollout_state_name(d->state), d->share * 100, d->reason);
	}
	if (d->notify != SL_NOTIFY_NONE)
		sl_webhook_notify(t->model, t->id, d->notify, t->stable, t->candidate, d->reason);
	if (d->call != SL_CALL_NONE && !t->calling) {
		t->calling = true;
		sl_webhook_confirm(t->model, t->id, d->call, d->confirm_step, t->stable, t->candidate);
	}
	if (d->judge && depth < 2)
		judge(t, d->judgment_index, depth);
	if (sl_rollout_terminal(t->r.state) && depth == 0)
		rt_free(t);
}

static void advance(struct rt *t, struct sl_rollout_input *in, int depth)
{
	struct sl_rollout_decision d;
	if (sl_rollout_advance(&t->r, in, &d) == 0)
		apply(t, &d, depth);
}

void sl_rollouts_tick(void)
{
	struct rt *next;
	for (struct rt *t = R.active; t; t = next) {
		next = t->next;
		if (sl_rollout_terminal(t->r.state))
			continue;
		struct sl_rollout_input in = {.now_ms = now_ms(), .step_requests = t->step_requests};
		advance(t, &in, 0);
	}
}

void sl_rollouts_webhook_answer(int64_t id, enum sl_webhook_result result)
{
	struct rt *t = find_active_id(id);
	if (!t)
		return;
	t->calling = false;
	record_event(t, "webhook", "{\"result\":\"%s\"}", sl_webhook_result_name(result));
	struct sl_rollout_input in = {.now_ms = now_ms(), .step_requests = t->step_requests, .webhook = result};
	advance(t, &in, 0);
}

/* ---- observations ---- */

static void add_value(struct rt *t, int side, int metric, double v)
{
	if (t->idx[metric] >= 0 && isfinite(v))
		sl_window_add_value(&t->win, (enum sl_side)side, (unsigned)t->idx[metric], v);
}

static void add_rate(struct rt *t, int side, int metric, uint64_t events, uint64_t trials)
{
	if (t->idx[metric] >= 0)
		sl_window_add_rate(&t->win, (enum sl_side)side, (unsigned)t->idx[metric], events, trials);
}

/* Whether t's window takes observations now (not paused, not waiting to start). */
static bool measuring(const struct rt *t)
{
	return t->r.state != SL_ROLLOUT_PAUSED && t->r.state != SL_ROLLOUT_PENDING;
}

static int side_of(const struct rt *t, const char *version)
{
	if (!version)
		return -1;
	return strcmp(version, t->stable) == 0 ? SL_STABLE : strcmp(version, t->candidate) == 0 ? SL_CANDIDATE : -1;
}

void sl_rollouts_observe(const struct sl_event *ev, bool shadow)
{
	struct rt *t = ev->model ? find_active(ev->model) : NULL;
	int side = t ? (shadow ? SL_CANDIDATE : side_of(t, ev->version)) : -1;
	if (side < 0 || !measuring(t))
		return;
	sl_window_add_request(&t->win, (enum sl_side)side);
	if (side == SL_CANDIDATE)
		t->step_requests++;
	bool failed = ev->status == 0 || ev->status >= 500 ||
		      (ev->error_class && strncmp(ev->error_class, "upstream", 8) == 0);
	add_rate(t, side, SL_BM_ERROR_RATE, failed, 1);
	bool answer_blocked = ev->error_class && strcmp(ev->error_class, "guard_blocked") == 0;
	if (!failed && (ev->status < 400 || answer_blocked)) /* the model answered: what the guard made of it */
		add_rate(t, side, SL_BM_SAFETY_FLAG_RATE, ev->guard_output != NULL, 1);
	if (failed || ev->status >= 400)
		return;
	add_rate(t, side, SL_BM_REFUSAL_RATE, ev->refused, 1);
	add_value(t, side, SL_BM_LATENCY, ev->total_s * 1000.0);
	if (ev->ttft_s >= 0)
		add_value(t, side, SL_BM_TTFT, ev->ttft_s * 1000.0);
	if (ev->completion_tokens >= 0)
		add_value(t, side, SL_BM_OUTPUT_TOKENS, (double)ev->completion_tokens);
	if (ev->completion_tokens >= 0 && ev->prompt_tokens >= 0)
		add_value(t, side, SL_BM_COST,
			  (ev->prompt_tokens * t->price_in[side] + ev->completion_tokens * t->price_out[side]) / 1e6);
	if (ev->finish_reason)
		add_rate(t, side, SL_BM_TRUNCATION_RATE, strcmp(ev->finish_reason, "length") == 0, 1);
}

void sl_rollouts_feedback(const char *model, const char *version, int label, double score, const char *metric,
			  const char *request_id)
{
	if (R.store && sl_store_feedback_append(R.store, request_id, model, version,
						  label < 0 ? NULL : label ? "thumbs_down" : "thumbs_up", score, metric,
						  sl_wall_time()) != 0)
		sl_log(SL_LOG_WARN, "store: cannot record feedback: %s", sl_store_errmsg(R.store));
	struct rt *t = find_active(model);
	int side = t ? side_of(t, version) : -1;
	if (side < 0)
		return;
	if (label >= 0)
		add_rate(t, side, SL_BM_NEGATIVE_FEEDBACK_RATE, label == 1, 1);
	if (!isnan(score)) {
		int idx = metric ? sl_rollout_spec_find(&t->r.spec, metric) : t->idx[SL_BM_SCORE];
		if (idx >= 0)
			sl_window_add_value(&t->win, (enum sl_side)side, (unsigned)idx, score);
	}
}

/* The active rollout of model (any model when NULL) whose stable or candidate is version, or
 * NULL; *side which. Recommendation slates name a version and not always a model. */
static struct rt *find_by_version(const char *model, const char *version, int *side)
{
	for (struct rt *t = R.active; version && t; t = t->next)
		if ((!model || strcmp(model, t->model) == 0) && (*side = side_of(t, version)) >= 0 && measuring(t))
			return t;
	return NULL;
}

void sl_rollouts_recs(const char *model, const struct sl_recs_obs *o)
{
	int side;
	struct rt *t = find_by_version(model, o->prev_version, &side);
	if (t)
		add_rate(t, side, SL_BM_RECS_CTR, o->prev_clicked, o->prev_shown);
	if (!(t = find_by_version(model, o->version, &side)))
		return;
	if (o->interaction) {
		if (o->kind != SL_RECS_IMPRESSION)
			add_rate(t, side, SL_BM_RECS_NEGATIVE_RATE, o->sentiment < 0, 1);
		add_value(t, side, SL_BM_RECS_WATCH_SECONDS, o->watch_s);
		return;
	}
	add_value(t, side, SL_BM_RECS_DIVERSITY, o->diversity);
	add_value(t, side, SL_BM_RECS_NOVELTY, o->novelty);
	add_value(t, side, SL_BM_RECS_REPETITION, o->repetition);
}

/* ---- start and restart ---- */

struct load_ctx {
	int failures;
	const struct sl_config *cfg;
};

static int on_override_row(void *ctx, const struct sl_store_override *row)
{
	if (R.nov >= MAX_OVERRIDES)
		return 0;
	struct override *o = &R.ov[R.nov++];
	copy_name(o->model, row->model);
	copy_name(o->stable, row->stable);
	copy_name(o->candidate, row->candidate);
	o->share = row->candidate_share;
	o->shadow = row->shadow_share;
	return 0;
}

static int on_active_row(void *ctx, const struct sl_store_rollout *row)
{
	struct load_ctx *lc = ctx;
	struct sl_rollout r;
	char err[256];
	if (sl_rollout_from_json(row->state_json, &r, err, sizeof(err)) != 0) {
		sl_log(SL_LOG_ERROR, "store: rollout %lld cannot be resumed: %s", (long long)row->id, err);
		lc->failures++;
		return 0;
	}
	sl_rollout_restore(&r, now_ms()); /* the window starts empty: give the step a fresh clock */
	struct rt *t = rt_new(row->id, row->model, row->stable, row->candidate, &r, lc->cfg);
	if (!t)
		return SL_ENOMEM;
	t->created_at = row->created_at;
	t->updated_at = row->updated_at;
	sl_log(SL_LOG_INFO, "rollout %lld (%s %s->%s) resumed: %s, candidate %.1f%%", (long long)row->id, row->model,
	       row->stable, row->candidate, sl_rollout_state_name(r.state), r.share * 100);
	return 0;
}

int sl_rollouts_init(const struct sl_config *cfg, char *err, size_t errlen)
{
	if (strcmp(cfg->store, "off") == 0)
		return 0;
	if (sl_store_open(cfg->store, &R.store, err, errlen) != 0)
		return SL_EIO;
	struct load_ctx lc = {0, cfg};
	if (sl_store_overrides_load(R.store, on_override_row, NULL) != 0 ||
	    sl_store_rollouts_load_active(R.store, on_active_row, &lc) != 0) {
		snprintf(err, errlen, "cannot read '%s': %s", cfg->store, sl_store_errmsg(R.store));
		return SL_EIO;
	}
	return 0;
}

void sl_rollouts_shutdown(void)
{
	while (R.active)
		rt_free(R.active);
	if (R.store)
		sl_store_close(R.store);
	R.store = NULL;
}

/* ---- views for the API ---- */

static int render_active(struct sl_buf *out, struct rt *t)
{
	struct sl_buf j;
	sl_buf_init(&j, 1 << 20);
	if (t->has_last && sl_judgment_to_json(&t->last, &j) != 0)
		sl_buf_reset(&j);
	struct sl_rt_view v = {t->id, t->model, t->stable, t->candidate, &t->r, t->created_at, t->updated_at, NAN,
			       j.len ? j.data : NULL};
	int rc = sl_rollouts_render(out, &v);
	sl_buf_release(&j);
	return rc;
}

struct last_ctx {
	struct sl_buf *json;
};

static int on_last_judgment(void *ctx, const struct sl_store_judgment *row)
{
	struct last_ctx *lc = ctx;
	sl_buf_reset(lc->json);
	return row->detail_json ? sl_buf_append(lc->json, row->detail_json, row->detail_json_len) : 0;
}

static int render_row(struct sl_buf *out, const struct sl_store_rollout *row)
{
	struct rt *t = find_active_id(row->id);
	if (t)
		return render_active(out, t);
	struct sl_rollout r;
	char err[256];
	if (sl_rollout_from_json(row->state_json, &r, err, sizeof(err)) != 0)
		return 0; /* unreadable history is skipped, not fatal */
	struct sl_buf j;
	struct last_ctx lc = {&j};
	sl_buf_init(&j, 1 << 20);
	sl_store_judgments_list(R.store, row->id, 1, on_last_judgment, &lc);
	struct sl_rt_view v = {row->id, row->model, row->stable, row->candidate, &r, row->created_at, row->updated_at,
			       row->ended ? row->ended_at : NAN, j.len ? j.data : NULL};
	int rc = sl_rollouts_render(out, &v);
	sl_buf_release(&j);
	return rc;
}

struct each_ctx {
	struct sl_buf *out;
	int n;
};

static int on_row(void *ctx, const struct sl_store_rollout *row)
{
	struct each_ctx *ec = ctx;
	int rc = ec->n++ ? sl_buf_puts(ec->out, ",") : 0;
	return rc ? rc : render_row(ec->out, row);
}

int sl_rollouts_each(const char *model, int limit, struct sl_buf *out)
{
	struct each_ctx ec = {out, 0};
	if (R.store)
		return sl_store_rollouts_list(R.store, model, limit, on_row, &ec);
	for (struct rt *t = R.active; t; t = t->next) {
		if (model && strcmp(model, t->model) != 0)
			continue;
		int rc = ec.n++ ? sl_buf_puts(out, ",") : 0;
		if (rc || (rc = render_active(out, t)))
			return rc;
	}
	return 0;
}

int sl_rollouts_current(const char *model, struct sl_buf *out)
{
	struct rt *t = find_active(model);
	return t ? render_active(out, t) : sl_buf_puts(out, "null");
}

struct detail_ctx {
	struct sl_buf *out;
	int n;
	int rc;
};

static int on_detail_row(void *ctx, const struct sl_store_rollout *row)
{
	struct detail_ctx *dc = ctx;
	dc->n++;
	return render_row(dc->out, row);
}

/* An id, or a model name: its active rollout, else its latest. Sets *id. */
static int resolve(const char *ref, int64_t *id)
{
	uint64_t n;
	if (sl_parse_u64(ref, INT64_MAX, &n) == 0) {
		struct sl_buf tmp;
		struct detail_ctx dc = {&tmp, 0, 0};
		sl_buf_init(&tmp, 1 << 22);
		bool known = find_active_id((int64_t)n) ||
			     (R.store && sl_store_rollout_get(R.store, (int64_t)n, on_detail_row, &dc) == 0);
		sl_buf_release(&tmp);
		*id = (int64_t)n;
		return known ? 0 : SL_ENOTFOUND;
	}
	struct rt *t = find_active(ref);
	if (t) {
		*id = t->id;
		return 0;
	}
	struct sl_buf tmp;
	struct each_ctx ec = {&tmp, 0};
	sl_buf_init(&tmp, 1 << 22);
	int rc = R.store ? sl_store_rollouts_list(R.store, ref, 1, on_row, &ec) : 0;
	long long found = -1;
	if (!rc && ec.n && sscanf(tmp.data, "{\"id\":%lld", &found) == 1)
		*id = found;
	sl_buf_release(&tmp);
	return found >= 0 ? 0 : SL_ENOTFOUND;
}

#define DETAIL_JUDGMENTS 20

/* The store lists judgments oldest first; the API shows them newest first. */
struct judgments_ctx {
	char *json[DETAIL_JUDGMENTS];
	int n;
};

static int on_judgment_row(void *ctx, const struct sl_store_judgment *row)
{
	struct judgments_ctx *jc = ctx;
	if (jc->n >= DETAIL_JUDGMENTS)
		return 0;
	jc->json[jc->n] = row->detail_json ? strndup(row->detail_json, row->detail_json_len) : strdup("null");
	return jc->json[jc->n++] ? 0 : SL_ENOMEM;
}

static int judgments_newest_first(int64_t id, struct sl_buf *out)
{
	struct judgments_ctx jc = {.n = 0};
	int rc = R.store ? sl_store_judgments_list(R.store, id, DETAIL_JUDGMENTS, on_judgment_row, &jc) : 0;
	for (int i = jc.n - 1; i >= 0; i--) {
		rc = rc ? rc : sl_buf_puts(out, i == jc.n - 1 ? "" : ",");
		rc = rc ? rc : sl_buf_puts(out, jc.json[i]);
		free(jc.json[i]);
	}
	return rc;
}

static int on_event_row(void *ctx, const struct sl_store_event *row)
{
	struct detail_ctx *dc = ctx;
	int rc = sl_buf_printf(dc->out, "%s{\"ts\":%.3f,\"kind\":\"%s\",\"detail\":", dc->n++ ? "," : "", row->ts,
			       row->kind);
	rc = rc ? rc
		: sl_buf_append(dc->out, row->detail_json ? row->detail_json : "null",
				row->detail_json ? row->detail_json_len : 4);
	return rc ? rc : sl_buf_puts(dc->out, "}");
}

int sl_rollouts_detail(const char *ref, struct sl_buf *out)
{
	int64_t id;
	struct detail_ctx dc = {out, 0, 0};
	if (resolve(ref, &id) != 0)
		return SL_ENOTFOUND;
	struct rt *t = find_active_id(id);
	int rc = t ? render_active(out, t) : R.store ? sl_store_rollout_get(R.store, id, on_detail_row, &dc) : SL_ENOTFOUND;
	if (rc)
		return rc;
	out->len--; /* reopen the object to add spec, judgments and events */
	rc = sl_buf_puts(out, ",\"spec\":");
	if (!rc && t)
		rc = sl_rollout_spec_to_json(&t->r.spec, out);
	else if (!rc)
		rc = sl_buf_puts(out, "null");
	rc = rc ? rc : sl_buf_puts(out, ",\"judgments\":[");
	rc = rc ? rc : judgments_newest_first(id, out);
	rc = rc ? rc : sl_buf_puts(out, "],\"events\":[");
	dc.n = 0;
	rc = rc ? rc : R.store ? sl_store_events_list(R.store, id, 50, on_event_row, &dc) : 0;
	return rc ? rc : sl_buf_puts(out, "]}");
}

const char *sl_rollouts_model_json(const char *model)
{
	const struct sl_config *cfg = sl_server.current->config;
	for (unsigned i = 0; i < cfg->models_count; i++)
		if (strcmp(cfg->models[i].name, model) == 0)
			return cfg->models[i].rollout_json_;
	return NULL;
}

/* The version with the largest share now, other than the candidate. */
static const char *default_stable(const struct sl_route_model *m, const char *candidate)
{
	const struct sl_route_version *best = NULL;
	for (size_t i = 0; i < m->nversions; i++)
		if (strcmp(m->versions[i].name, candidate) != 0 && (!best || m->versions[i].weight > best->weight))
			best = &m->versions[i];
	return best ? best->name : NULL;
}

static bool has_version(const struct sl_route_model *m, const char *name)
{
	for (size_t i = 0; name && i < m->nversions; i++)
		if (strcmp(m->versions[i].name, name) == 0)
			return true;
	return false;
}

static int begin_checked(const struct sl_route_model *m, const char *stable, const char *candidate,
			 struct sl_rollout_spec *spec, struct sl_buf *out, char *err, size_t errlen)
{
	struct sl_rollout r;
	int64_t id = -1;
	const struct sl_cfg_webhooks *w = NULL;
	const struct sl_config *cfg = sl_server.current->config;
	for (unsigned i = 0; i < cfg->models_count; i++)
		if (strcmp(cfg->models[i].name, m->name) == 0)
			w = cfg->models[i].webhooks;
	spec->confirm_start = spec->confirm_start || (w && w->pre_start);
	spec->confirm_steps = spec->confirm_steps || (w && w->confirm_step);
	if (sl_rollout_init(&r, spec, now_ms(), err, errlen) != 0)
		return SL_EINVAL;
	struct sl_buf b;
	double created = sl_wall_time();
	sl_buf_init(&b, 1 << 20);
	int rc = sl_rollout_spec_to_json(spec, &b);
	size_t speclen = b.len;
	rc = rc ? rc : sl_buf_append(&b, "", 1);
	rc = rc ? rc : sl_rollout_to_json(&r, &b);
	if (!rc && R.store) {
		b.data[speclen] = '\0';
		rc = sl_store_rollout_create(R.store, m->name, stable, candidate, b.data, sl_rollout_state_name(r.state),
					     b.data + speclen + 1, created, &id);
		if (rc == SL_ESTATE)
			snprintf(err, errlen, "the model '%s' has an active rollout", m->name);
		else if (rc)
			snprintf(err, errlen, "store: %s", sl_store_errmsg(R.store));
	} else if (!rc) {
		static int64_t next_id = 1;
		id = next_id++;
	}
	sl_buf_release(&b);
	if (rc)
		return rc;
	struct rt *t = rt_new(id, m->name, stable, candidate, &r, cfg);
	if (!t)
		return SL_ENOMEM;
	t->created_at = t->updated_at = created;
	record_event(t, "started", "{\"stable\":\"%s\",\"candidate\":\"%s\"}", stable, candidate);
	sl_log(SL_LOG_INFO, "rollout %lld (%s %s->%s) started", (long long)id, m->name, stable, candidate);
	struct sl_rollout_input in = {.now_ms = now_ms()};
	advance(t, &in, 1); /* leaves pending now unless a pre-start webhook must confirm */
	return render_active(out, t);
}

int sl_rollouts_begin(const char *model, const char *stable, const char *candidate, const struct sl_rollout_spec *spec,
		      struct sl_buf *out, char *err, size_t errlen)
{
	struct sl_rollout_spec s = *spec;
	struct sl_routes_ref *ref = sl_routes_hold();
	const struct sl_route_model *m = sl_route_find(ref->table, sl_slice_cstr(model));
	int rc = 0;
	if (!m) {
		snprintf(err, errlen, "the model '%s' does not exist", model);
		rc = SL_ENOTFOUND;
	} else if (!has_version(m, candidate) || (stable && !has_version(m, stable))) {
		snprintf(err, errlen, "the model '%s' has no version '%s'", model,
			 has_version(m, candidate) ? stable : candidate);
		rc = SL_ENOTFOUND;
	} else if (!stable && !(stable = default_stable(m, candidate))) {
		snprintf(err, errlen, "the model '%s' has no other version to be stable", model);
		rc = SL_EINVAL;
	} else if (strcmp(stable, candidate) == 0) {
		snprintf(err, errlen, "stable and candidate are the same version '%s'", stable);
		rc = SL_EINVAL;
	} else if (find_active(model)) {
		snprintf(err, errlen, "the model '%s' has an active rollout (%lld)", model,
			 (long long)find_active(model)->id);
		rc = SL_ESTATE;
	} else {
		char st[129];
		copy_name(st, stable); /* the table may be replaced while the rollout starts */
		rc = begin_checked(m, st, candidate, &s, out, err, errlen);
	}
	sl_routes_release(ref);
	return rc;
}

int sl_rollouts_act(const char *ref, enum sl_rollout_action a, struct sl_buf *out, char *err, size_t errlen)
{
	int64_t id;
	if (resolve(ref, &id) != 0) {
		snprintf(err, errlen, "no rollout '%s' (give an id or a model name)", ref);
		return SL_ENOTFOUND;
	}
	struct rt *t = find_active_id(id);
	if (!t) {
		snprintf(err, errlen, "rollout %lld has ended; it takes no more actions", (long long)id);
		return SL_ESTATE;
	}
	struct sl_rollout_decision d;
	struct sl_rollout_input in = {.now_ms = now_ms(), .step_requests = t->step_requests, .action = a};
	int rc = sl_rollout_advance(&t->r, &in, &d);
	if (rc == SL_ESTATE) {
		snprintf(err, errlen, "%s", d.reason);
		return rc;
	}
	if (rc)
		return rc;
	record_event(t, "action", "{\"action\":\"%s\"}", sl_rollout_action_name(a));
	apply(t, &d, 0); /* may end the rollout and free t */
	if ((t = find_active_id(id)) != NULL)
		return render_active(out, t);
	struct detail_ctx dc = {out, 0, 0};
	return R.store ? sl_store_rollout_get(R.store, id, on_detail_row, &dc) : 0;
}

int sl_rollouts_metrics(struct sl_buf *out)
{
	int rc = sl_buf_puts(out, "# HELP sluice_rollout_candidate_share Candidate share of an active rollout (0 to 1).\n"
				  "# TYPE sluice_rollout_candidate_share gauge\n");
	for (struct rt *t = R.active; !rc && t; t = t->next) {
		rc = sl_buf_puts(out, "sluice_rollout_candidate_share{model=\"");
		rc = rc ? rc : sl_buf_prom_label(out, t->model, strlen(t->model));
		rc = rc ? rc : sl_buf_puts(out, "\",candidate=\"");
		rc = rc ? rc : sl_buf_prom_label(out, t->candidate, strlen(t->candidate));
		rc = rc ? rc : sl_buf_printf(out, "\",state=\"%s\"} %.6g\n", sl_rollout_state_name(t->r.state), t->r.share);
	}
	rc = rc ? rc : sl_buf_puts(out, "# HELP sluice_rollout_judgments_total Judgments of an active rollout by outcome.\n"
					"# TYPE sluice_rollout_judgments_total counter\n");
	for (struct rt *t = R.active; !rc && t; t = t->next)
		for (int o = SL_OUTCOME_PASS; !rc && o <= SL_OUTCOME_INSUFFICIENT_DATA; o++) {
			rc = sl_buf_puts(out, "sluice_rollout_judgments_total{model=\"");
			rc = rc ? rc : sl_buf_prom_label(out, t->model, strlen(t->model));
			rc = rc ? rc
				: sl_buf_printf(out, "\",rollout=\"%lld\",outcome=\"%s\"} %lu\n", (long long)t->id,
						sl_outcome_name((enum sl_outcome)o), t->outcomes[o]);
		}
	rc = rc ? rc : sl_buf_puts(out, "# HELP sluice_rollout_checks_total Metric checks of an active rollout by verdict.\n"
					"# TYPE sluice_rollout_checks_total counter\n");
	for (struct rt *t = R.active; !rc && t; t = t->next)
		for (unsigned i = 0; !rc && i < t->r.spec.nchecks; i++)
			for (int v = SL_VERDICT_PASS; !rc && v <= SL_VERDICT_NO_DATA; v++) {
				rc = sl_buf_puts(out, "sluice_rollout_checks_total{model=\"");
				rc = rc ? rc : sl_buf_prom_label(out, t->model, strlen(t->model));
				rc = rc ? rc
					: sl_buf_printf(out, "\",rollout=\"%lld\",check=\"%s\",verdict=\"%s\"} %lu\n",
							(long long)t->id, t->r.spec.checks[i].name,
							sl_verdict_name((enum sl_verdict)v), t->verdicts[i][v]);
			}
	return rc;
}
