/* drift_live.c: the gateway side of drift monitoring (see drift_live.h and docs/DRIFT.md).
 * The configuration is read once at start (reloads keep the monitors and their references).
 * Uploaded references are stored (drift_references) before they replace a monitor's, and read
 * back once, at the first use after the store is open, so a restart keeps them. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "proxy/drift_live.h"
#include "proxy/proxy.h"
#include "proxy/webhook.h"
#include "sluice/monitor.h"
#include "sluice/store.h"

#define MAX_MONITORS 64

struct mon {
	char model[129], version[129];
	struct sl_monitor *m;
	enum sl_drift_state state;
	struct sl_monitor_report last;
	bool has_last;
	uint64_t windows, alarms[SL_SIGNAL_COUNT], retrains;
	double last_retrain;
	struct mon *next;
};

static struct {
	bool enabled;
	struct sl_monitor_opts opts;
	struct mon *list;
	unsigned n;
	bool full_logged;
	char *webhook;
	struct sl_cfg_retrain retrain; /* copied: the strings stay owned by the first config */
	bool has_retrain;
	struct sl_buf retrain_params; /* ,"name":"value" pairs, JSON */
	struct sl_cfg_when when[SL_CFG_WHEN_MAX];
	unsigned nwhen;
	bool refs_loaded;
} D;

void sl_drift_live_init(const struct sl_config *cfg)
{
	const struct sl_cfg_drift *d = cfg->drift;
	sl_monitor_opts_init(&D.opts);
	D.enabled = !d || d->enabled;
	sl_buf_init(&D.retrain_params, 1 << 16);
	if (!d)
		return;
	D.opts.reference_size = d->reference_size;
	D.opts.window_size = d->window_size;
	D.opts.drift_share = d->drift_share;
	D.opts.error_warning = d->error_warning;
	D.webhook = d->webhook ? strdup(d->webhook) : NULL;
	if (d->retrain) {
		D.has_retrain = true;
		D.retrain = *d->retrain;
		D.retrain.url = strdup(d->retrain->url);
		D.retrain.pipeline_id = strdup(d->retrain->pipeline_id);
		D.retrain.experiment_id = d->retrain->experiment_id ? strdup(d->retrain->experiment_id) : NULL;
		D.retrain.on = strdup(d->retrain->on ? d->retrain->on : "drift");
		char err[192];
		for (unsigned i = 0; i < d->retrain->when_count && i < SL_CFG_WHEN_MAX; i++)
			if (sl_cfg_when_parse(d->retrain->when[i], &D.when[D.nwhen], err, sizeof err) == 0)
				D.nwhen++; /* validated with the configuration */
		for (unsigned i = 0; i < d->retrain->parameters_count; i++) {
			const struct sl_cfg_param *p = &d->retrain->parameters[i];
			sl_buf_puts(&D.retrain_params, ",");
			sl_buf_json_str(&D.retrain_params, p->name, strlen(p->name));
			sl_buf_puts(&D.retrain_params, ":");
			sl_buf_json_str(&D.retrain_params, p->value, strlen(p->value));
		}
	}
}

void sl_drift_live_shutdown(void)
{
	while (D.list) {
		struct mon *x = D.list;
		D.list = x->next;
		sl_monitor_free(x->m);
		free(x);
	}
	free(D.webhook);
	free(D.retrain.url);
	free(D.retrain.pipeline_id);
	free(D.retrain.experiment_id);
	free(D.retrain.on);
	sl_buf_release(&D.retrain_params);
	memset(&D, 0, sizeof(D));
}

static struct mon *find(const char *model, const char *version, bool create)
{
	for (struct mon *x = D.list; x; x = x->next)
		if (!strcmp(x->model, model) && !strcmp(x->version, version))
			return x;
	if (!create || !D.enabled)
		return NULL;
	if (D.n >= MAX_MONITORS) {
		if (!D.full_logged)
			sl_log(SL_LOG_WARN, "drift: %d model versions are monitored; %s/%s and later ones are not",
			       MAX_MONITORS, model, version);
		D.full_logged = true;
		return NULL;
	}
	struct mon *x = calloc(1, sizeof(*x));
	struct sl_monitor_opts o = D.opts;
	o.seed = D.opts.seed + D.n;
	if (!x || sl_monitor_new(&o, &x->m) != 0) {
		free(x);
		return NULL;
	}
	snprintf(x->model, sizeof(x->model), "%s", model);
	snprintf(x->version, sizeof(x->version), "%s", version);
	x->next = D.list;
	D.list = x;
	D.n++;
	return x;
}

/* ---- uploaded references ---- */

/* Parses body and makes it x's reference; err holds why not. */
static int apply_ref(struct mon *x, const char *body, size_t len, uint64_t *rows, struct sl_drift_error *err)
{
	struct sl_drift_table t;
	int rc = sl_monitor_reference_parse(body, len, SL_MONITOR_REF_MAX_ROWS, &t, err);
	if (rc)
		return rc;
	*rows = t.rows;
	if (x)
		rc = sl_monitor_reference_set(x->m, &t);
	sl_drift_table_release(&t);
	return rc;
}

static int restore_ref(void *ctx, const char *model, const char *version, const void *body, size_t len,
		       int64_t rows, double ts)
{
	struct sl_drift_error err;
	uint64_t n;
	struct mon *x = find(model, version, true);
	if (x && apply_ref(x, body, len, &n, &err) == 0)
		sl_log(SL_LOG_INFO, "drift: %s/%s: uploaded reference restored (%llu rows)", model, version,
		       (unsigned long long)n);
	else if (x)
		sl_log(SL_LOG_WARN, "drift: %s/%s: stored reference unusable: %s", model, version, err.msg);
	return 0;
}

/* Once, when the store is open: the references uploaded before a restart. */
static void load_refs(void)
{
	struct sl_store *store = D.refs_loaded || !D.enabled ? NULL : sl_rollouts_store();
	if (!store)
		return;
	D.refs_loaded = true;
	if (sl_store_drift_refs_load(store, restore_ref, NULL) != 0)
		sl_log(SL_LOG_WARN, "store: cannot read drift references: %s", sl_store_errmsg(store));
}

static int refuse(struct sl_buf *msg, int status, const char *what)
{
	sl_buf_puts(msg, what);
	return status;
}

/* Stores the parsed upload, then makes it the version's reference; the HTTP status. */
static int install_ref(const char *model, const char *version, const char *body, size_t len,
		       const struct sl_drift_table *t, bool *stored, struct sl_buf *msg)
{
	struct sl_store *store = sl_rollouts_store();
	*stored = store != NULL;
	if (store && sl_store_drift_ref_set(store, model, version, body, len, (int64_t)t->rows, sl_wall_time()) != 0) {
		sl_log(SL_LOG_WARN, "store: cannot record a drift reference: %s", sl_store_errmsg(store));
		return refuse(msg, 500, "cannot store the reference");
	}
	struct mon *x = find(model, version, true);
	if (!x || sl_monitor_reference_set(x->m, t) != 0)
		return refuse(msg, 409, "too many monitored model versions (64), or out of memory");
	sl_log(SL_LOG_INFO, "drift: %s/%s: reference uploaded (%llu rows)", model, version,
	       (unsigned long long)t->rows);
	return 200;
}

int sl_drift_live_reference_put(const char *model, const char *version, const char *body, size_t len,
				struct sl_buf *out, struct sl_buf *msg)
{
	struct sl_drift_error err;
	struct sl_drift_table t;
	bool stored;
	load_refs();
	if (!D.enabled)
		return refuse(msg, 409, "drift monitoring is disabled (drift.enabled: false)");
	if (len > SL_DRIFT_LIVE_REF_MAX)
		return refuse(msg, 413, "reference: larger than the upload limit (1 MiB)");
	if (sl_monitor_reference_parse(body, len, SL_MONITOR_REF_MAX_ROWS, &t, &err) != 0)
		return refuse(msg, 400, err.msg); /* nothing changed */
	int status = install_ref(model, version, body, len, &t, &stored, msg);
	uint64_t rows = t.rows;
	sl_drift_table_release(&t);
	if (status != 200)
		return status;
	int rc = sl_buf_puts(out, "{\"model\":");
	rc = rc ? rc : sl_buf_json_str(out, model, strlen(model));
	rc = rc ? rc : sl_buf_puts(out, ",\"version\":");
	rc = rc ? rc : sl_buf_json_str(out, version, strlen(version));
	rc = rc ? rc : sl_buf_printf(out, ",\"reference_source\":\"uploaded\",\"rows\":%llu,\"stored\":%s}",
				     (unsigned long long)rows, stored ? "true" : "false");
	return rc ? refuse(msg, 500, "out of memory") : 200;
}

int sl_drift_live_reference_delete(const char *model, const char *version, struct sl_buf *out, struct sl_buf *msg)
{
	load_refs();
	struct sl_store *store = sl_rollouts_store();
	if (store && sl_store_drift_ref_clear(store, model, version) != 0)
		return refuse(msg, 500, "cannot update the store");
	struct mon *x = find(model, version, false);
	bool had = x && sl_monitor_reference_uploaded(x->m);
	if (had)
		sl_monitor_reference_reset(x->m);
	int rc = sl_buf_puts(out, "{\"model\":");
	rc = rc ? rc : sl_buf_json_str(out, model, strlen(model));
	rc = rc ? rc : sl_buf_puts(out, ",\"version\":");
	rc = rc ? rc : sl_buf_json_str(out, version, strlen(version));
	rc = rc ? rc : sl_buf_printf(out, ",\"reference_source\":\"live\",\"removed\":%s}", had ? "true" : "false");
	return rc ? refuse(msg, 500, "out of memory") : 200;
}

/* Posts the create-run call for x unless its cooldown runs. */
static void retrain(struct mon *x, const char *why)
{
	double now = sl_wall_time();
	if (!D.has_retrain || (x->retrains && now - x->last_retrain < D.retrain.cooldown_s))
		return;
	struct sl_buf b;
	sl_buf_init(&b, 1 << 20);
	int rc = sl_buf_puts(&b, "{\"display_name\":");
	char name[400];
	snprintf(name, sizeof(name), "sluice retrain %s/%s (%s)", x->model, x->version, why);
	rc = rc ? rc : sl_buf_json_str(&b, name, strlen(name));
	rc = rc ? rc : sl_buf_puts(&b, ",\"pipeline_version_reference\":{\"pipeline_id\":");
	rc = rc ? rc : sl_buf_json_str(&b, D.retrain.pipeline_id, strlen(D.retrain.pipeline_id));
	rc = rc ? rc : sl_buf_puts(&b, "}");
	if (!rc && D.retrain.experiment_id) {
		rc = sl_buf_puts(&b, ",\"experiment_id\":");
		rc = rc ? rc : sl_buf_json_str(&b, D.retrain.experiment_id, strlen(D.retrain.experiment_id));
	}
	rc = rc ? rc : sl_buf_puts(&b, ",\"runtime_config\":{\"parameters\":{\"model\":");
	rc = rc ? rc : sl_buf_json_str(&b, x->model, strlen(x->model));
	rc = rc ? rc : sl_buf_puts(&b, ",\"version\":");
	rc = rc ? rc : sl_buf_json_str(&b, x->version, strlen(x->version));
	rc = rc ? rc : sl_buf_puts(&b, ",\"reason\":");
	rc = rc ? rc : sl_buf_json_str(&b, why, strlen(why));
	rc = rc ? rc : sl_buf_append(&b, D.retrain_params.data ? D.retrain_params.data : "", D.retrain_params.len);
	rc = rc ? rc : sl_buf_puts(&b, "}}}");
	if (!rc) {
		sl_webhook_send(D.retrain.url, b.data, 10000, 2);
		x->retrains++;
		x->last_retrain = now;
		sl_log(SL_LOG_INFO, "drift: %s/%s: retraining requested (%s)", x->model, x->version, why);
	}
	sl_buf_release(&b);
}

static void announce(struct mon *x, enum sl_drift_state before, const char *report_json)
{
	struct sl_buf b;
	struct sl_store *store = sl_rollouts_store();
	double now = sl_wall_time();
	if (store && sl_store_drift_append(store, x->model, x->version, now, sl_drift_state_name(x->state),
					   report_json) != 0)
		sl_log(SL_LOG_WARN, "store: cannot record a drift report: %s", sl_store_errmsg(store));
	if (x->state == before)
		return;
	sl_log(x->state == SL_DRIFT_OK ? SL_LOG_INFO : SL_LOG_WARN, "drift: %s/%s is now %s (was %s)", x->model,
	       x->version, sl_drift_state_name(x->state), sl_drift_state_name(before));
	if (D.webhook) {
		sl_buf_init(&b, 1 << 20);
		int rc = sl_buf_printf(&b, "{\"event\":\"drift_state\",\"state\":\"%s\",\"previous\":\"%s\",\"model\":",
				       sl_drift_state_name(x->state), sl_drift_state_name(before));
		rc = rc ? rc : sl_buf_json_str(&b, x->model, strlen(x->model));
		rc = rc ? rc : sl_buf_puts(&b, ",\"version\":");
		rc = rc ? rc : sl_buf_json_str(&b, x->version, strlen(x->version));
		rc = rc ? rc : sl_buf_printf(&b, ",\"report\":%s}", report_json);
		if (!rc)
			sl_webhook_send(D.webhook, b.data, 5000, 2);
		sl_buf_release(&b);
	}
	bool wanted = D.has_retrain && (x->state == SL_DRIFT_DRIFT ? strcmp(D.retrain.on, "thresholds") != 0
	                                                           : x->state == SL_DRIFT_WARNING &&
	                                                                 strcmp(D.retrain.on, "warning") == 0);
	if (wanted)
		retrain(x, sl_drift_state_name(x->state));
}

/* The first threshold named metric that value crosses asks x to be retrained. */
static void check_thresholds(struct mon *x, const char *metric, double value)
{
	for (unsigned i = 0; isfinite(value) && i < D.nwhen; i++) {
		const struct sl_cfg_when *w = &D.when[i];
		if (strcmp(w->metric, metric) != 0 || (w->below ? !(value < w->value) : !(value > w->value)))
			continue;
		char why[160];
		snprintf(why, sizeof why, "%s %.4g %s %.4g", metric, value, w->below ? "<" : ">", w->value);
		sl_log(SL_LOG_WARN, "drift: %s/%s: threshold crossed: %s", x->model, x->version, why);
		retrain(x, why);
		return;
	}
}

static void on_report(struct mon *x, const struct sl_monitor_report *r)
{
	enum sl_drift_state before = x->state;
	struct sl_buf json;
	x->last = *r;
	x->has_last = true;
	x->windows++;
	x->state = r->state;
	sl_buf_init(&json, 1 << 20);
	if (sl_monitor_report_to_json(r, &json) == 0)
		announce(x, before, json.data);
	sl_buf_release(&json);
	check_thresholds(x, "error_rate", r->error_rate);
}

void sl_drift_live_observe(const struct sl_event *ev, struct sl_features *f)
{
	struct sl_monitor_report r;
	if (!ev->model || !ev->version)
		return;
	load_refs();
	struct mon *x = find(ev->model, ev->version, true);
	if (!x)
		return;
	bool failed = ev->status == 0 || ev->status >= 500 || (ev->error_class && !strncmp(ev->error_class, "upstream", 8));
	x->alarms[SL_SIGNAL_ERROR] += sl_monitor_signal(x->m, SL_SIGNAL_ERROR, failed);
	if (!failed && ev->total_s >= 0)
		x->alarms[SL_SIGNAL_LATENCY] += sl_monitor_signal(x->m, SL_SIGNAL_LATENCY, ev->total_s);
	f->v[SL_F_RESPONSE_TOKENS] = ev->completion_tokens >= 0 ? (double)ev->completion_tokens : NAN;
	f->v[SL_F_LATENCY_MS] = !failed && ev->total_s >= 0 ? ev->total_s * 1000 : NAN;
	f->v[SL_F_TTFT_MS] = ev->ttft_s >= 0 ? ev->ttft_s * 1000 : NAN;
	if (sl_monitor_add(x->m, f, ev->finish_reason, &r))
		on_report(x, &r);
}

void sl_drift_live_feedback(const char *model, const char *version, int label)
{
	struct mon *x = label >= 0 ? find(model, version, false) : NULL;
	if (x)
		x->alarms[SL_SIGNAL_NEGATIVE_FEEDBACK] += sl_monitor_signal(x->m, SL_SIGNAL_NEGATIVE_FEEDBACK, label == 1);
}

/* ---- recommendation slates ---- */

/* The monitor of model's version; with no model, the first monitor of that version (slates and
 * interactions name a version, not always a model). */
static struct mon *find_version(const char *model, const char *version)
{
	if (!version)
		return NULL;
	if (model)
		return find(model, version, true);
	for (struct mon *x = D.list; x; x = x->next)
		if (!strcmp(x->version, version))
			return x;
	return NULL;
}

static void add_value(struct mon *x, enum sl_feature f, double v)
{
	if (isfinite(v))
		sl_monitor_add_value(x->m, f, v);
}

void sl_drift_live_recs(const char *model, const struct sl_recs_obs *o)
{
	struct mon *x = find_version(model, o->prev_version);
	if (x && o->prev_shown) {
		double ctr = (double)o->prev_clicked / (double)o->prev_shown;
		add_value(x, SL_F_RECS_CTR, ctr);
		x->alarms[SL_SIGNAL_RECS_CTR] += sl_monitor_signal(x->m, SL_SIGNAL_RECS_CTR, ctr);
	}
	if (!(x = find_version(model, o->version)))
		return;
	if (o->interaction) {
		if (o->kind != SL_RECS_IMPRESSION)
			x->alarms[SL_SIGNAL_RECS_NEGATIVE] +=
			    sl_monitor_signal(x->m, SL_SIGNAL_RECS_NEGATIVE, o->sentiment < 0);
		add_value(x, SL_F_RECS_WATCH_S, o->watch_s);
		return;
	}
	add_value(x, SL_F_RECS_DIVERSITY, o->diversity);
	add_value(x, SL_F_RECS_NOVELTY, o->novelty);
	add_value(x, SL_F_RECS_REPETITION, o->repetition);
}

void sl_drift_live_recs_window(const char *model, const char *version, const struct sl_recs_monitor *m)
{
	struct mon *x = find_version(model, version);
	double v;
	for (unsigned i = 0; x && i < D.nwhen; i++)
		if (strncmp(D.when[i].metric, "recs_", 5) == 0 &&
		    sl_recs_metric(m, version, SL_RECS_LAST, D.when[i].metric + 5, &v) == 0)
			check_thresholds(x, D.when[i].metric, v);
}

static int labels(struct sl_buf *out, const struct mon *x)
{
	int rc = sl_buf_puts(out, "{model=\"");
	rc = rc ? rc : sl_buf_prom_label(out, x->model, strlen(x->model));
	rc = rc ? rc : sl_buf_puts(out, "\",version=\"");
	rc = rc ? rc : sl_buf_prom_label(out, x->version, strlen(x->version));
	return rc ? rc : sl_buf_puts(out, "\"");
}

int sl_drift_live_metrics(struct sl_buf *out)
{
	int rc = sl_buf_puts(out, "# HELP sluice_drift_state Drift state of a model version: 0 ok, 1 warning, 2 drift.\n"
				  "# TYPE sluice_drift_state gauge\n");
	for (struct mon *x = D.list; !rc && x; x = x->next) {
		rc = sl_buf_puts(out, "sluice_drift_state");
		rc = rc ? rc : labels(out, x);
		rc = rc ? rc : sl_buf_printf(out, "} %d\n", (int)x->state);
	}
	rc = rc ? rc : sl_buf_puts(out, "# HELP sluice_drift_windows_total Current windows tested against the reference.\n"
					"# TYPE sluice_drift_windows_total counter\n");
	for (struct mon *x = D.list; !rc && x; x = x->next) {
		rc = sl_buf_puts(out, "sluice_drift_windows_total");
		rc = rc ? rc : labels(out, x);
		rc = rc ? rc : sl_buf_printf(out, "} %llu\n", (unsigned long long)x->windows);
	}
	rc = rc ? rc : sl_buf_puts(out, "# HELP sluice_drift_feature_drifted Whether a feature drifted in the last window.\n"
					"# TYPE sluice_drift_feature_drifted gauge\n");
	for (struct mon *x = D.list; !rc && x; x = x->next)
		for (int i = 0; !rc && x->has_last && i < SL_MONITOR_COLUMNS; i++) {
			if (!x->last.tested[i])
				continue;
			rc = sl_buf_puts(out, "sluice_drift_feature_drifted");
			rc = rc ? rc : labels(out, x);
			rc = rc ? rc
				: sl_buf_printf(out, ",feature=\"%s\",test=\"%s\"} %d\n", x->last.names[i],
						sl_drift_test_name(x->last.results[i].test), x->last.results[i].drift);
		}
	rc = rc ? rc : sl_buf_puts(out, "# HELP sluice_drift_alarms_total Concept-drift alarms (ADWIN) by signal.\n"
					"# TYPE sluice_drift_alarms_total counter\n");
	for (struct mon *x = D.list; !rc && x; x = x->next)
		for (int s = 0; !rc && s < SL_SIGNAL_COUNT; s++) {
			rc = sl_buf_puts(out, "sluice_drift_alarms_total");
			rc = rc ? rc : labels(out, x);
			rc = rc ? rc
				: sl_buf_printf(out, ",signal=\"%s\"} %llu\n", sl_signal_names[s],
						(unsigned long long)x->alarms[s]);
		}
	rc = rc ? rc : sl_buf_puts(out, "# HELP sluice_retrain_triggers_total Retraining runs requested.\n"
					"# TYPE sluice_retrain_triggers_total counter\n");
	for (struct mon *x = D.list; !rc && x; x = x->next) {
		rc = sl_buf_puts(out, "sluice_retrain_triggers_total");
		rc = rc ? rc : labels(out, x);
		rc = rc ? rc : sl_buf_printf(out, "} %llu\n", (unsigned long long)x->retrains);
	}
	return rc;
}

int sl_drift_live_api(struct sl_buf *out)
{
	load_refs();
	int rc = sl_buf_printf(out, "{\"enabled\":%s,\"reference_size\":%zu,\"window_size\":%zu,\"features\":[",
			       D.enabled ? "true" : "false", D.opts.reference_size, D.opts.window_size);
	for (int i = 0; !rc && i < SL_F_COUNT; i++)
		rc = sl_buf_printf(out, "\"%s\",", sl_feature_names[i]);
	rc = rc ? rc : sl_buf_puts(out, "\"finish_reason\"],\"versions\":[");
	int n = 0;
	for (struct mon *x = D.list; !rc && x; x = x->next) {
		size_t ref, cur;
		sl_monitor_progress(x->m, &ref, &cur);
		rc = sl_buf_puts(out, n++ ? ",{\"model\":" : "{\"model\":");
		rc = rc ? rc : sl_buf_json_str(out, x->model, strlen(x->model));
		rc = rc ? rc : sl_buf_puts(out, ",\"version\":");
		rc = rc ? rc : sl_buf_json_str(out, x->version, strlen(x->version));
		rc = rc ? rc
			: sl_buf_printf(out, ",\"state\":\"%s\",\"reference\":%zu,\"reference_source\":\"%s\","
					     "\"current\":%zu,\"windows\":%llu,\"retrains\":%llu,\"last\":",
					sl_drift_state_name(x->state), ref,
					sl_monitor_reference_uploaded(x->m) ? "uploaded" : "live", cur,
					(unsigned long long)x->windows,
					(unsigned long long)x->retrains);
		rc = rc ? rc : x->has_last ? sl_monitor_report_to_json(&x->last, out) : sl_buf_puts(out, "null");
		rc = rc ? rc : sl_buf_puts(out, "}");
	}
	return rc ? rc : sl_buf_puts(out, "]}");
}
