/* experiments_api.c: the admin API of experiments and of the recommendation monitor, and their
 * Prometheus lines (see experiments.h). Answers are JSON; errors are OpenAI-shaped.
 * Invariants: a declaration is stored before it takes effect (a restart keeps what the API
 * answered 201 for); the list and /metrics read the aggregators only (no side effect). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "proxy/experiments-int.h"
#include "proxy/proxy.h"
#include "core/json-int.h"
#include "sluice/openai.h"
#include "sluice/store.h"

/* ---- list ---- */

static int render_variants(struct sl_buf *out, const struct sl_experiment *e, const struct sl_exp_report *r)
{
	int rc = sl_buf_puts(out, ",\"variants\":[");
	for (unsigned v = 0; !rc && v < e->nvariants; v++) {
		rc = sl_buf_puts(out, v ? ",{\"key\":" : "{\"key\":");
		rc = rc ? rc : sl_buf_json_str(out, e->variants[v].key, strlen(e->variants[v].key));
		rc = rc ? rc : sl_buf_puts(out, ",\"version\":");
		rc = rc ? rc
		     : e->variants[v].version
		         ? sl_buf_json_str(out, e->variants[v].version, strlen(e->variants[v].version))
		         : sl_buf_puts(out, "null");
		rc = rc ? rc
		        : sl_buf_printf(out, ",\"weight\":%.6g,\"units\":%llu}", e->variants[v].weight,
		                        (unsigned long long)r->units[v]);
	}
	return rc ? rc : sl_buf_puts(out, "]");
}

static int render_summary(struct sl_buf *out, const struct sl_xgw_slot *x, double now)
{
	const struct sl_experiment *e = sl_xgw_exp(x);
	struct sl_exp_report *r = malloc(sizeof(*r));
	int rc = r ? sl_experiment_report(x->agg, 0, now, r) : SL_ENOMEM;
	rc = rc ? rc : sl_buf_puts(out, "{\"key\":");
	rc = rc ? rc : sl_buf_json_str(out, e->key, strlen(e->key));
	rc = rc ? rc : sl_buf_puts(out, ",\"model\":");
	rc = rc ? rc : sl_buf_json_str(out, e->model, strlen(e->model));
	rc = rc ? rc
	        : sl_buf_printf(out, ",\"unit\":\"%s\",\"state\":\"%s\",\"origin\":\"%s\",\"stopped_at\":",
	                        sl_exp_unit_name(e->unit), sl_xgw_state(x, now), x->from_api ? "api" : "config");
	rc = rc ? rc : sl__json_num(out, x->stopped_at);
	rc = rc ? rc : render_variants(out, e, r);
	rc = rc ? rc
	        : sl_buf_printf(out, ",\"exposed\":%llu,\"events\":%llu,\"srm\":{\"p_value\":",
	                        (unsigned long long)r->counts.exposed, (unsigned long long)r->counts.events);
	rc = rc ? rc : sl__json_num(out, r->srm_pvalue);
	rc = rc ? rc
	        : sl_buf_printf(out, ",\"verdict\":\"%s\"},\"stop_recommended\":%s}", r->srm ? "mismatch" : "ok",
	                        r->stop_recommended ? "true" : "false");
	free(r);
	return rc;
}

void sl_experiments_api_list(struct sl_buf *out, int *status)
{
	double now = sl_wall_time();
	int rc = sl_buf_puts(out, "{\"experiments\":[");
	for (unsigned i = 0; !rc && i < sl_xgw.n; i++) {
		rc = i ? sl_buf_puts(out, ",") : 0;
		rc = rc ? rc : render_summary(out, sl_xgw.slots[i], now);
	}
	rc = rc ? rc : sl_buf_puts(out, "]}");
	*status = 200;
	if (rc)
		sl_api_error(out, status, 500, "internal_error", "cannot list experiments");
}

/* ---- one experiment ---- */

static struct sl_xgw_slot *named(const char *key, struct sl_buf *out, int *status)
{
	struct sl_xgw_slot *x = key ? sl_xgw_find(key, strlen(key)) : NULL;
	if (!x)
		sl_api_error(out, status, 404, "experiment_not_found", "no experiment '%.80s'", key ? key : "");
	return x;
}

void sl_experiments_api_get(const char *key, struct sl_buf *out, int *status)
{
	struct sl_xgw_slot *x = named(key, out, status);
	if (!x)
		return;
	*status = 200;
	if (sl_experiment_analyze(x->agg, 0, sl_wall_time(), out) != 0)
		sl_api_error(out, status, 500, "internal_error", "cannot analyze experiment '%s'", key);
}

void sl_experiments_api_stop(const char *key, struct sl_buf *out, int *status)
{
	struct sl_xgw_slot *x = named(key, out, status);
	if (!x)
		return;
	double now = sl_wall_time();
	sl_xgw_stop(x, now, "stopped through the admin API");
	*status = 200;
	int rc = sl_buf_puts(out, "{\"key\":");
	rc = rc ? rc : sl_buf_json_str(out, key, strlen(key));
	rc = rc ? rc : sl_buf_puts(out, ",\"state\":\"stopped\",\"stopped_at\":");
	rc = rc ? rc : sl__json_num(out, x->stopped_at);
	rc = rc ? rc : sl_buf_puts(out, "}");
	if (rc)
		sl_api_error(out, status, 500, "internal_error", "cannot render the answer");
}

/* The parser's "experiments[0].field: why" without the wrapper's prefix. */
static const char *unwrapped(const char *err)
{
	return strncmp(err, "experiments[0].", 15) == 0 ? err + 15 : err;
}

/* Validates body (one experiment object) into a slot; NULL with the answer set on failure. */
static struct sl_xgw_slot *declared(const char *body, size_t len, struct sl_buf *out, int *status)
{
	char err[1024];
	struct sl_buf w;
	struct sl_xgw_slot *x = NULL;
	if (len == 0 || len > SL_STORE_JSON_MAX || memchr(body, '\0', len)) {
		sl_api_error(out, status, 400, "invalid_experiment", "the body must be one experiment as a JSON object");
		return NULL;
	}
	sl_buf_init(&w, 0);
	if (sl_buf_puts(&w, "{\"experiments\":[") || sl_buf_append(&w, body, len) || sl_buf_puts(&w, "]}"))
		sl_api_error(out, status, 503, "internal_error", "out of memory");
	else if (!(x = sl_xgw_slot_new(w.data, true, err, sizeof(err))))
		sl_api_error(out, status, 400, "invalid_experiment", "%s", unwrapped(err));
	else if (sl_xgw_check_routes(sl_xgw_exp(x), err, sizeof(err)) != 0)
		sl_api_error(out, status, 400, "invalid_experiment", "%s", err);
	else if (sl_xgw_find(sl_xgw_exp(x)->key, strlen(sl_xgw_exp(x)->key)))
		sl_api_error(out, status, 409, "experiment_exists", "an experiment '%s' already exists",
		          sl_xgw_exp(x)->key);
	else if (sl_xgw.n == SL_EXP_MAX_EXPERIMENTS)
		sl_api_error(out, status, 409, "too_many_experiments", "at most %d experiments", SL_EXP_MAX_EXPERIMENTS);
	else {
		sl_buf_release(&w);
		return x;
	}
	sl_buf_release(&w);
	sl_xgw_slot_free(x);
	return NULL;
}

void sl_experiments_api_create(const char *body, size_t len, struct sl_buf *out, int *status)
{
	struct sl_xgw_slot *x = declared(body, len, out, status);
	if (!x)
		return;
	struct sl_store *st = sl_rollouts_store();
	if (st && sl_store_experiment_declare(st, sl_xgw_exp(x)->key, x->spec_json, sl_wall_time()) != 0) {
		sl_api_error(out, status, 500, "store_error", "cannot store the experiment: %s", sl_store_errmsg(st));
		sl_xgw_slot_free(x);
		return;
	}
	sl_xgw.slots[sl_xgw.n++] = x;
	sl_log(SL_LOG_INFO, "experiment '%s' declared through the admin API%s", sl_xgw_exp(x)->key,
	       st ? "" : " (store off: it lasts until the gateway stops)");
	*status = 201;
	if (sl_buf_puts(out, "{\"experiment\":") || sl_buf_puts(out, x->spec_json) || sl_buf_puts(out, "}"))
		sl_api_error(out, status, 500, "internal_error", "cannot render the answer");
}

void sl_experiments_api_recs(struct sl_buf *out, int *status)
{
	*status = 200;
	if (!sl_xgw.recs || sl_recs_json(sl_xgw.recs, out) != 0)
		sl_api_error(out, status, 500, "internal_error", "cannot render the recommendation monitor");
}

/* ---- Prometheus ---- */

static int prom_exp_label(struct sl_buf *out, const char *metric, const struct sl_experiment *e)
{
	int rc = sl_buf_printf(out, "%s{experiment=\"", metric);
	rc = rc ? rc : sl_buf_prom_label(out, e->key, strlen(e->key));
	rc = rc ? rc : sl_buf_puts(out, "\",model=\"");
	rc = rc ? rc : sl_buf_prom_label(out, e->model, strlen(e->model));
	return rc ? rc : sl_buf_puts(out, "\"");
}

/* One family: its HELP and TYPE, then its line for every experiment (k: which family). */
static int prom_family(struct sl_buf *out, int k, const struct sl_exp_report *r, double now)
{
	static const char *const names[] = {"units", "srm_p_value", "running", "events_total", "requests_total"};
	static const char *const help[] = {
	    "Units exposed per experiment variant.", "Sample-ratio-mismatch chi-squared p-value.",
	    "1 while the experiment assigns units.", "Business events counted.", "Requests counted."};
	char metric[64];
	snprintf(metric, sizeof(metric), "sluice_experiment_%s", names[k]);
	int rc =
	    sl_buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", metric, help[k], metric, k >= 3 ? "counter" : "gauge");
	for (unsigned i = 0; !rc && i < sl_xgw.n; i++) {
		const struct sl_experiment *e = sl_xgw_exp(sl_xgw.slots[i]);
		for (unsigned v = 0; !rc && k == 0 && v < e->nvariants; v++) {
			rc = prom_exp_label(out, metric, e);
			rc = rc ? rc : sl_buf_puts(out, ",variant=\"");
			rc = rc ? rc : sl_buf_prom_label(out, e->variants[v].key, strlen(e->variants[v].key));
			rc = rc ? rc : sl_buf_printf(out, "\"} %llu\n", (unsigned long long)r[i].units[v]);
		}
		if (k == 0 || (k == 1 && !isfinite(r[i].srm_pvalue)))
			continue;
		double v = k == 1   ? r[i].srm_pvalue
		           : k == 2 ? strcmp(sl_xgw_state(sl_xgw.slots[i], now), "running") == 0
		           : k == 3 ? (double)r[i].counts.events
		                    : (double)r[i].counts.requests;
		rc = rc ? rc : prom_exp_label(out, metric, e);
		rc = rc ? rc : sl_buf_printf(out, "} %.17g\n", v);
	}
	return rc;
}

static const char *const recs_names[] = {"diversity",  "novelty",         "coverage", "gini",
                                         "repetition", "reshown_ignored", "ctr",      "satisfaction"};

static int prom_recs(struct sl_buf *out)
{
	const char *versions[SL_RECS_MAX_VERSIONS];
	size_t nv = sl_xgw.recs ? sl_recs_versions(sl_xgw.recs, versions, SL_RECS_MAX_VERSIONS) : 0;
	int rc = 0;
	nv = nv > SL_RECS_MAX_VERSIONS ? SL_RECS_MAX_VERSIONS : nv;
	for (size_t k = 0; !rc && k < sizeof(recs_names) / sizeof(recs_names[0]); k++) {
		rc = sl_buf_printf(out,
		                   "# HELP sluice_recs_%s Recommendation slates' %s per version (docs/RECS.md).\n"
		                   "# TYPE sluice_recs_%s gauge\n",
		                   recs_names[k], recs_names[k], recs_names[k]);
		for (size_t i = 0; !rc && i < nv; i++)
			for (int w = 0; !rc && w < 2; w++) {
				double v;
				if (sl_recs_metric(sl_xgw.recs, versions[i], w ? SL_RECS_CURRENT : SL_RECS_LAST,
				                   recs_names[k], &v) != 0 ||
				    !isfinite(v))
					continue;
				rc = sl_buf_printf(out, "sluice_recs_%s{version=\"", recs_names[k]);
				rc = rc ? rc : sl_buf_prom_label(out, versions[i], strlen(versions[i]));
				rc = rc ? rc
				        : sl_buf_printf(out, "\",window=\"%s\"} %.17g\n", w ? "current" : "last", v);
			}
	}
	return rc;
}

int sl_experiments_render_prom(struct sl_buf *out)
{
	double now = sl_wall_time();
	struct sl_exp_report *r = sl_xgw.n ? malloc(sl_xgw.n * sizeof(*r)) : NULL;
	int rc = sl_xgw.n && !r ? SL_ENOMEM : 0;
	for (unsigned i = 0; !rc && i < sl_xgw.n; i++)
		rc = sl_experiment_report(sl_xgw.slots[i]->agg, 0, now, &r[i]);
	for (int k = 0; !rc && k < 5; k++)
		rc = prom_family(out, k, r, now);
	free(r);
	return rc ? rc : prom_recs(out);
}
