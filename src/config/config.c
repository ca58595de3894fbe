/* config.c: loads the serve configuration with libcyaml, fills defaults and validates it.
 * Every error is reported as "FILE:LINE: field 'PATH': reason": cyamllog turns libcyaml's log into
 * a path and a reason, and the line comes from yamlpath, which finds that path in the file. */
#include <cyaml/cyaml.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "sluice/config.h"
#include "sluice/recs.h"
#include "sluice/core.h"
#include "sluice/experiment.h"
#include "sluice/guard_config.h"
#include "sluice/rollout.h"
#include "cyamllog.h"
#include "yamlpath.h"

#define SL_CONFIG_MAX_BYTES (1u << 20)
#define F_OPT (CYAML_FLAG_OPTIONAL)
#define F_OPT_PTR (CYAML_FLAG_OPTIONAL | CYAML_FLAG_POINTER)

static const cyaml_schema_value_t string_ptr = {CYAML_VALUE_STRING(CYAML_FLAG_POINTER, char, 0, 4096)};

static const cyaml_schema_field_t price_fields[] = {
	CYAML_FIELD_FLOAT("input_per_mtok", F_OPT, struct sl_cfg_price, input_per_mtok),
	CYAML_FIELD_FLOAT("output_per_mtok", F_OPT, struct sl_cfg_price, output_per_mtok),
	CYAML_FIELD_END};

static const cyaml_schema_field_t webhook_fields[] = {
	CYAML_FIELD_STRING_PTR("pre_start", F_OPT_PTR, struct sl_cfg_webhooks, pre_start, 0, 4096),
	CYAML_FIELD_STRING_PTR("confirm_step", F_OPT_PTR, struct sl_cfg_webhooks, confirm_step, 0, 4096),
	CYAML_FIELD_STRING_PTR("on_promote", F_OPT_PTR, struct sl_cfg_webhooks, on_promote, 0, 4096),
	CYAML_FIELD_STRING_PTR("on_rollback", F_OPT_PTR, struct sl_cfg_webhooks, on_rollback, 0, 4096),
	CYAML_FIELD_UINT("timeout_ms", F_OPT, struct sl_cfg_webhooks, timeout_ms),
	CYAML_FIELD_UINT("retries", F_OPT, struct sl_cfg_webhooks, retries),
	CYAML_FIELD_END};

static const cyaml_schema_field_t param_fields[] = {
	CYAML_FIELD_STRING_PTR("name", CYAML_FLAG_POINTER, struct sl_cfg_param, name, 1, 256),
	CYAML_FIELD_STRING_PTR("value", CYAML_FLAG_POINTER, struct sl_cfg_param, value, 0, 4096),
	CYAML_FIELD_END};
static const cyaml_schema_value_t param_schema = {
	CYAML_VALUE_MAPPING(CYAML_FLAG_DEFAULT, struct sl_cfg_param, param_fields)};

static const cyaml_schema_field_t retrain_fields[] = {
	CYAML_FIELD_STRING_PTR("url", CYAML_FLAG_POINTER, struct sl_cfg_retrain, url, 0, 4096),
	CYAML_FIELD_STRING_PTR("pipeline_id", CYAML_FLAG_POINTER, struct sl_cfg_retrain, pipeline_id, 1, 256),
	CYAML_FIELD_STRING_PTR("experiment_id", F_OPT_PTR, struct sl_cfg_retrain, experiment_id, 0, 256),
	CYAML_FIELD_STRING_PTR("on", F_OPT_PTR, struct sl_cfg_retrain, on, 0, 16),
	CYAML_FIELD_UINT("cooldown_s", F_OPT, struct sl_cfg_retrain, cooldown_s),
	CYAML_FIELD_SEQUENCE("parameters", F_OPT_PTR, struct sl_cfg_retrain, parameters, &param_schema, 0, 64),
	CYAML_FIELD_SEQUENCE("when", F_OPT_PTR, struct sl_cfg_retrain, when, &string_ptr, 0, SL_CFG_WHEN_MAX),
	CYAML_FIELD_END};

static const cyaml_schema_field_t drift_fields[] = {
	CYAML_FIELD_BOOL("enabled", F_OPT, struct sl_cfg_drift, enabled),
	CYAML_FIELD_UINT("reference_size", F_OPT, struct sl_cfg_drift, reference_size),
	CYAML_FIELD_UINT("window_size", F_OPT, struct sl_cfg_drift, window_size),
	CYAML_FIELD_FLOAT("drift_share", F_OPT, struct sl_cfg_drift, drift_share),
	CYAML_FIELD_FLOAT("error_warning", F_OPT, struct sl_cfg_drift, error_warning),
	CYAML_FIELD_STRING_PTR("webhook", F_OPT_PTR, struct sl_cfg_drift, webhook, 0, 4096),
	CYAML_FIELD_MAPPING_PTR("retrain", F_OPT_PTR, struct sl_cfg_drift, retrain, retrain_fields),
	CYAML_FIELD_END};

static const cyaml_schema_field_t version_fields[] = {
	CYAML_FIELD_STRING_PTR("name", CYAML_FLAG_POINTER, struct sl_cfg_version, name, 0, 4096),
	CYAML_FIELD_SEQUENCE("upstreams", CYAML_FLAG_POINTER, struct sl_cfg_version, upstreams, &string_ptr, 0, 64),
	CYAML_FIELD_STRING_PTR("upstream_model", F_OPT_PTR, struct sl_cfg_version, upstream_model, 0, 4096),
	CYAML_FIELD_FLOAT("weight", CYAML_FLAG_DEFAULT, struct sl_cfg_version, weight),
	CYAML_FIELD_STRING_PTR("api_key_env", F_OPT_PTR, struct sl_cfg_version, api_key_env, 0, 4096),
	CYAML_FIELD_MAPPING_PTR("price", F_OPT_PTR, struct sl_cfg_version, price, price_fields),
	CYAML_FIELD_END};
static const cyaml_schema_value_t version_schema = {
	CYAML_VALUE_MAPPING(CYAML_FLAG_DEFAULT, struct sl_cfg_version, version_fields)};

static const cyaml_schema_field_t model_fields[] = {
	CYAML_FIELD_STRING_PTR("name", CYAML_FLAG_POINTER, struct sl_cfg_model, name, 0, 4096),
	CYAML_FIELD_STRING_PTR("hash_seed", F_OPT_PTR, struct sl_cfg_model, hash_seed, 0, 4096),
	CYAML_FIELD_SEQUENCE("versions", CYAML_FLAG_POINTER, struct sl_cfg_model, versions, &version_schema, 0, 64),
	CYAML_FIELD_MAPPING_PTR("webhooks", F_OPT_PTR, struct sl_cfg_model, webhooks, webhook_fields),
	CYAML_FIELD_IGNORE("rollout", F_OPT), /* read as JSON by json_section() */
	CYAML_FIELD_IGNORE("guard", F_OPT),
	CYAML_FIELD_END};
static const cyaml_schema_value_t model_schema = {
	CYAML_VALUE_MAPPING(CYAML_FLAG_DEFAULT, struct sl_cfg_model, model_fields)};

static const cyaml_schema_field_t top_fields[] = {
	CYAML_FIELD_STRING_PTR("listen", F_OPT_PTR, struct sl_config, listen, 0, 4096),
	CYAML_FIELD_STRING_PTR("admin_listen", F_OPT_PTR, struct sl_config, admin_listen, 0, 4096),
	CYAML_FIELD_UINT("max_body_bytes", F_OPT, struct sl_config, max_body_bytes),
	CYAML_FIELD_STRING_PTR("sticky_field", F_OPT_PTR, struct sl_config, sticky_field, 0, 4096),
	CYAML_FIELD_STRING_PTR("sticky_header", F_OPT_PTR, struct sl_config, sticky_header, 0, 4096),
	CYAML_FIELD_UINT("connect_timeout_ms", F_OPT, struct sl_config, connect_timeout_ms),
	CYAML_FIELD_UINT("upstream_timeout_ms", F_OPT, struct sl_config, upstream_timeout_ms),
	CYAML_FIELD_UINT("drain_timeout_ms", F_OPT, struct sl_config, drain_timeout_ms),
	CYAML_FIELD_STRING_PTR("access_log", F_OPT_PTR, struct sl_config, access_log, 0, 4096),
	CYAML_FIELD_BOOL("log_bodies", F_OPT, struct sl_config, log_bodies),
	CYAML_FIELD_STRING_PTR("store", F_OPT_PTR, struct sl_config, store, 0, 4096),
	CYAML_FIELD_STRING_PTR("admin_token_env", F_OPT_PTR, struct sl_config, admin_token_env, 0, 4096),
	CYAML_FIELD_MAPPING_PTR("drift", F_OPT_PTR, struct sl_config, drift, drift_fields),
	CYAML_FIELD_IGNORE("guard", F_OPT), /* read as JSON by json_section() */
	CYAML_FIELD_IGNORE("experiments", F_OPT), /* read as JSON by json_section() */
	CYAML_FIELD_SEQUENCE("models", CYAML_FLAG_POINTER, struct sl_config, models, &model_schema, 0, 256),
	CYAML_FIELD_END};
static const cyaml_schema_value_t top_schema = {CYAML_VALUE_MAPPING(CYAML_FLAG_POINTER, struct sl_config, top_fields)};

/* Where errors go, and the bytes that were loaded (errors are located in these, not the file). */
struct verr {
	const char *file;
	const char *data;
	size_t len;
	char *err;
	size_t errlen;
};

/* Cuts the last ".name" or "[i]" off path; false when nothing is left to cut. */
static bool cut_last(char *path)
{
	char *cut = strrchr(path, '.'), *bracket = strrchr(path, '[');
	if (bracket && (!cut || bracket > cut))
		cut = bracket;
	if (!path[0])
		return false;
	if (cut)
		*cut = '\0';
	else
		path[0] = '\0';
	return true;
}

/* The line of the nth occurrence of path, or else of its nearest ancestor in the file: a field
 * that is missing (or was filled by a default) is reported at the mapping that lacks it. */
static int locate(const struct verr *v, const char *path, int nth)
{
	char p[512];
	snprintf(p, sizeof(p), "%s", path);
	int line = sl_yaml_find(v->data, v->len, p, nth, NULL, 0, NULL);
	while (!line && cut_last(p))
		line = sl_yaml_locate(v->data, v->len, p);
	return line;
}

static int report(struct verr *v, const char *path, int nth, int hint, const char *reason)
{
	int line = locate(v, path, nth);
	if (!line)
		line = hint > 0 ? hint : 1;
	if (*path)
		snprintf(v->err, v->errlen, "%s:%d: field '%s': %s", v->file, line, path, reason);
	else
		snprintf(v->err, v->errlen, "%s:%d: %s", v->file, line, reason);
	return SL_ECONFIG;
}

static int fail_at(struct verr *v, const char *path, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int fail_at(struct verr *v, const char *path, const char *fmt, ...)
{
	char reason[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	return report(v, path, 1, 0, reason);
}

/* libcyaml refused the file: say where and why in the house format. */
static int cyaml_fail(struct verr *v, const struct sl_cyaml_log *log, cyaml_err_t cerr)
{
	struct sl_cyaml_error e;
	char msg[400];
	sl_cyaml_explain(log, cerr, &e);
	if (!e.syntax)
		return report(v, e.path, e.nth, e.line_hint, e.reason);
	int line = sl_yaml_syntax_error(v->data, v->len, msg, sizeof(msg));
	if (!line) {
		line = e.line_hint > 0 ? e.line_hint : 1;
		snprintf(msg, sizeof(msg), "%s", e.reason);
	}
	snprintf(v->err, v->errlen, "%s:%d: invalid YAML: %s", v->file, line, msg);
	return SL_ECONFIG;
}

static int set_default_str(char **field, const char *value)
{
	if (*field)
		return 0;
	*field = strdup(value);
	return *field ? 0 : SL_ENOMEM;
}

static int apply_defaults(struct sl_config *c)
{
	if (!c->max_body_bytes)
		c->max_body_bytes = 4u << 20;
	if (!c->connect_timeout_ms)
		c->connect_timeout_ms = 5000;
	if (!c->upstream_timeout_ms)
		c->upstream_timeout_ms = 120000;
	if (!c->drain_timeout_ms)
		c->drain_timeout_ms = 10000;
	if (set_default_str(&c->listen, "127.0.0.1:8080") || set_default_str(&c->admin_listen, "127.0.0.1:9090") ||
	    set_default_str(&c->sticky_field, "user") || set_default_str(&c->sticky_header, "x-sluice-user") ||
	    set_default_str(&c->access_log, "-") || set_default_str(&c->store, "sluice.db"))
		return SL_ENOMEM;
	return 0;
}

static bool valid_name(const char *s, size_t max)
{
	size_t n = strlen(s);
	if (n == 0 || n > max)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] <= 0x20 || s[i] == 0x7f || s[i] == '"' || s[i] == '\\')
			return false;
	return true;
}

static bool valid_env_name(const char *s)
{
	if (!*s || (*s >= '0' && *s <= '9'))
		return false;
	for (; *s; s++)
		if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_'))
			return false;
	return true;
}

static bool valid_header_name(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '-' || *s == '_'))
			return false;
	return true;
}

static int check_version(struct verr *v, const struct sl_cfg_model *m, unsigned mi, unsigned vi)
{
	const struct sl_cfg_version *ver = &m->versions[vi];
	char p[256];
	snprintf(p, sizeof(p), "models[%u].versions[%u].name", mi, vi);
	if (!valid_name(ver->name, 128))
		return fail_at(v, p, "must be 1 to 128 characters without spaces or quotes");
	for (unsigned j = 0; j < vi; j++)
		if (strcmp(m->versions[j].name, ver->name) == 0)
			return fail_at(v, p, "duplicate version name '%s'", ver->name);
	snprintf(p, sizeof(p), "models[%u].versions[%u].weight", mi, vi);
	if (!isfinite(ver->weight) || ver->weight < 0 || ver->weight > 1e6)
		return fail_at(v, p, "must be a number from 0 to 1000000");
	snprintf(p, sizeof(p), "models[%u].versions[%u].upstreams", mi, vi);
	if (ver->upstreams_count == 0)
		return fail_at(v, p, "needs at least one upstream base URL");
	for (unsigned u = 0; u < ver->upstreams_count; u++) {
		struct sl_url url;
		snprintf(p, sizeof(p), "models[%u].versions[%u].upstreams[%u]", mi, vi, u);
		if (sl_parse_url(ver->upstreams[u], &url))
			return fail_at(v, p, "'%s' is not an http://host:port[/path] URL", ver->upstreams[u]);
	}
	snprintf(p, sizeof(p), "models[%u].versions[%u].upstream_model", mi, vi);
	if (ver->upstream_model && !valid_name(ver->upstream_model, 256))
		return fail_at(v, p, "must be 1 to 256 characters without spaces or quotes");
	snprintf(p, sizeof(p), "models[%u].versions[%u].api_key_env", mi, vi);
	if (ver->api_key_env && !valid_env_name(ver->api_key_env))
		return fail_at(v, p, "'%s' is not an environment variable name", ver->api_key_env);
	if (ver->api_key_env && !getenv(ver->api_key_env))
		sl_log(SL_LOG_WARN, "%s: environment variable '%s' for %s/%s is not set", v->file, ver->api_key_env,
		       m->name, ver->name);
	const struct sl_cfg_price *pr = ver->price;
	snprintf(p, sizeof(p), "models[%u].versions[%u].price", mi, vi);
	if (pr && (!(pr->input_per_mtok >= 0 && pr->input_per_mtok <= 1e6) ||
		   !(pr->output_per_mtok >= 0 && pr->output_per_mtok <= 1e6)))
		return fail_at(v, p, "prices must be numbers from 0 to 1000000 per million tokens");
	return 0;
}

static int check_webhooks(struct verr *v, struct sl_cfg_webhooks *w, unsigned mi)
{
	const char *names[] = {"pre_start", "confirm_step", "on_promote", "on_rollback"};
	const char *urls[] = {w->pre_start, w->confirm_step, w->on_promote, w->on_rollback};
	char p[128];
	for (size_t i = 0; i < 4; i++) {
		struct sl_url url;
		snprintf(p, sizeof(p), "models[%u].webhooks.%s", mi, names[i]);
		if (urls[i] && sl_parse_url(urls[i], &url))
			return fail_at(v, p, "'%s' is not an http://host:port[/path] URL", urls[i]);
	}
	if (!w->timeout_ms)
		w->timeout_ms = 5000;
	snprintf(p, sizeof(p), "models[%u].webhooks.retries", mi);
	if (!w->retries && !sl_yaml_locate(v->data, v->len, p)) /* an explicit 0 turns retries off */
		w->retries = 2;
	snprintf(p, sizeof(p), "models[%u].webhooks", mi);
	if (w->timeout_ms > 600000 || w->retries > 10)
		return fail_at(v, p, "timeout_ms must be at most 600000 and retries at most 10");
	return 0;
}

/* A section kept as JSON text (absent: `absent`) and checked by its module's strict parser, whose
 * errors read "FIELD: reason" and are reported at PATH.FIELD. On success *out owns the text. */
static int json_section(struct verr *v, const char *path, const char *absent,
			int (*check)(const char *json, char *err, size_t errlen), char **out)
{
	char err[256], field[300];
	struct sl_buf json;
	sl_buf_init(&json, 1 << 20);
	int rc = sl_yaml_to_json(v->data, v->len, path, &json);
	if (rc == SL_ENOTFOUND) {
		sl_buf_reset(&json);
		rc = sl_buf_puts(&json, absent);
	}
	if (rc) {
		sl_buf_release(&json);
		return rc == SL_ENOMEM ? rc : fail_at(v, path, "must be plain YAML values (no anchors or tags)");
	}
	if (check(json.data, err, sizeof(err)) != 0) {
		sl_buf_release(&json);
		const char *colon = strstr(err, ": ");
		snprintf(field, sizeof(field), "%s%s%.*s", path, err[0] == '[' ? "" : ".", colon ? (int)(colon - err) : 0,
			 err);
		return fail_at(v, colon ? field : path, "%s", colon ? colon + 2 : err);
	}
	*out = json.data;
	return 0;
}

/* The `experiments:` list, checked in the {"experiments": [...]} form the module reads; its
 * errors name "experiments[1]..." and are reported from the index on. */
static int check_experiments(const char *json, char *err, size_t errlen)
{
	struct sl_buf wrapped;
	struct sl_experiment_set *set = NULL;
	sl_buf_init(&wrapped, 0);
	int rc = sl_buf_printf(&wrapped, "{\"experiments\":%s}", json);
	if (!rc)
		rc = sl_experiments_from_json(wrapped.data, &set, err, errlen);
	sl_experiment_set_free(set);
	sl_buf_release(&wrapped);
	if (rc && strncmp(err, "experiments", 11) == 0)
		memmove(err, err + 11, strlen(err + 11) + 1);
	return rc;
}

static const struct sl_cfg_model *find_model(const struct sl_config *c, const char *name)
{
	for (unsigned i = 0; i < c->models_count; i++)
		if (strcmp(c->models[i].name, name) == 0)
			return &c->models[i];
	return NULL;
}

/* Each experiment names a configured model, and each variant's version one of its versions. */
static int check_experiment_names(struct verr *v, const struct sl_config *c, const struct sl_experiment_set *set)
{
	char p[128];
	for (unsigned i = 0; i < set->n; i++) {
		const struct sl_experiment *e = &set->exps[i];
		const struct sl_cfg_model *m = find_model(c, e->model);
		snprintf(p, sizeof(p), "experiments[%u].model", i);
		if (!m)
			return fail_at(v, p, "no model is named '%s'", e->model);
		for (unsigned j = 0; j < e->nvariants; j++) {
			const char *ver = e->variants[j].version;
			unsigned k = 0;
			while (ver && k < m->versions_count && strcmp(m->versions[k].name, ver) != 0)
				k++;
			snprintf(p, sizeof(p), "experiments[%u].variants[%u].version", i, j);
			if (ver && k == m->versions_count)
				return fail_at(v, p, "model '%s' has no version '%s'", m->name, ver);
		}
	}
	return 0;
}

static int experiments_section(struct verr *v, struct sl_config *c)
{
	char *list = NULL, err[256];
	struct sl_experiment_set *set = NULL;
	int rc = json_section(v, "experiments", "[]", check_experiments, &list);
	if (rc)
		return rc;
	struct sl_buf wrapped;
	sl_buf_init(&wrapped, 0);
	rc = sl_buf_printf(&wrapped, "{\"experiments\":%s}", list);
	free(list);
	c->experiments_json_ = wrapped.data;
	if (!rc)
		rc = sl_experiments_from_json(wrapped.data, &set, err, sizeof(err));
	if (!rc)
		rc = check_experiment_names(v, c, set);
	sl_experiment_set_free(set);
	return rc;
}

static int check_rollout(const char *json, char *err, size_t errlen)
{
	struct sl_rollout_spec spec;
	return sl_rollout_spec_from_json(json, &spec, err, errlen);
}

static int check_model(struct verr *v, const struct sl_config *c, unsigned mi)
{
	struct sl_cfg_model *m = &c->models[mi];
	char p[128];
	snprintf(p, sizeof(p), "models[%u].name", mi);
	if (!valid_name(m->name, 128))
		return fail_at(v, p, "must be 1 to 128 characters without spaces or quotes");
	for (unsigned j = 0; j < mi; j++)
		if (strcmp(c->models[j].name, m->name) == 0)
			return fail_at(v, p, "duplicate model name '%s'", m->name);
	snprintf(p, sizeof(p), "models[%u].versions", mi);
	if (m->versions_count == 0)
		return fail_at(v, p, "needs at least one version");
	double total = 0;
	for (unsigned vi = 0; vi < m->versions_count; vi++) {
		int rc = check_version(v, m, mi, vi);
		if (rc)
			return rc;
		total += m->versions[vi].weight;
	}
	if (total <= 0)
		return fail_at(v, p, "at least one version needs a weight above 0");
	int rc = m->webhooks ? check_webhooks(v, m->webhooks, mi) : 0;
	snprintf(p, sizeof(p), "models[%u].rollout", mi);
	rc = rc ? rc : json_section(v, p, "{}", check_rollout, &m->rollout_json_);
	snprintf(p, sizeof(p), "models[%u].guard", mi);
	return rc ? rc : json_section(v, p, "{}", sl_guard_config_check, &m->guard_json_);
}

/* libcyaml reads "4MiB" as 4, "1e3" as 1, "010" as 8 and any word but false/no/off/disable/0 as
 * true. So the whole numbers and booleans are read again from their text, strictly. */
struct uint_field {
	const char *name;
	size_t offset, size;
	uint64_t max;
	const char *unit; /* said after the maximum */
};

static const struct uint_field uint_fields[] = {
	{"max_body_bytes", offsetof(struct sl_config, max_body_bytes), sizeof(uint64_t), 1u << 30, " (1 GiB)"},
	{"connect_timeout_ms", offsetof(struct sl_config, connect_timeout_ms), sizeof(uint32_t), 3600000, " ms (1 hour)"},
	{"upstream_timeout_ms", offsetof(struct sl_config, upstream_timeout_ms), sizeof(uint32_t), 3600000, " ms (1 hour)"},
	{"drain_timeout_ms", offsetof(struct sl_config, drain_timeout_ms), sizeof(uint32_t), 3600000, " ms (1 hour)"},
};

static int check_uint(struct verr *v, struct sl_config *c, const struct uint_field *f)
{
	char text[64];
	bool scalar;
	uint64_t val;
	if (!sl_yaml_find(v->data, v->len, f->name, 1, text, sizeof(text), &scalar) || !scalar)
		return 0; /* absent, or an alias libcyaml resolved: the range check below still applies */
	int rc = sl_parse_u64(text, f->max, &val);
	if (rc == SL_ERANGE)
		return fail_at(v, f->name, "must be at most %llu%s", (unsigned long long)f->max, f->unit);
	if (rc)
		return fail_at(v, f->name, "'%s' is not a whole number", text);
	if (val == 0)
		return fail_at(v, f->name, "must be above 0 (leave it out for the default)");
	if (f->size == sizeof(uint64_t))
		*(uint64_t *)((char *)c + f->offset) = val;
	else
		*(uint32_t *)((char *)c + f->offset) = (uint32_t)val;
	return 0;
}

static int check_bool(struct verr *v, const char *name, bool *out)
{
	static const char *const words[][2] = {{"true", "false"}, {"yes", "no"}, {"on", "off"}};
	char text[64];
	bool scalar;
	if (!sl_yaml_find(v->data, v->len, name, 1, text, sizeof(text), &scalar) || !scalar)
		return 0;
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		for (int b = 0; b < 2; b++)
			if (strcasecmp(text, words[i][b]) == 0) {
				*out = b == 0;
				return 0;
			}
	return fail_at(v, name, "'%s' is not true or false", text);
}

static int check_scalars(struct verr *v, struct sl_config *c)
{
	for (size_t i = 0; i < sizeof(uint_fields) / sizeof(uint_fields[0]); i++) {
		int rc = check_uint(v, c, &uint_fields[i]);
		if (rc)
			return rc;
	}
	return check_bool(v, "log_bodies", &c->log_bodies);
}

static bool wildcard_host(const char *h)
{
	return !strcmp(h, "0.0.0.0") || !strcmp(h, "::") || !strcmp(h, "[::]") || !strcmp(h, "*");
}

/* Both listeners on one address: same port, and the same host or a wildcard on either side. */
static int check_drift(struct verr *v, struct sl_cfg_drift *d)
{
	struct sl_url url;
	if (!sl_yaml_locate(v->data, v->len, "drift.enabled"))
		d->enabled = true;
	/* absent means the default; an explicit 0 is refused below */
	if (!d->reference_size && !sl_yaml_locate(v->data, v->len, "drift.reference_size"))
		d->reference_size = 1000;
	if (!d->window_size && !sl_yaml_locate(v->data, v->len, "drift.window_size"))
		d->window_size = 1000;
	if (d->drift_share == 0 && !sl_yaml_locate(v->data, v->len, "drift.drift_share"))
		d->drift_share = 0.5;
	if (d->error_warning == 0 && !sl_yaml_locate(v->data, v->len, "drift.error_warning"))
		d->error_warning = 0.5;
	if (d->reference_size < 50 || d->reference_size > 1000000)
		return fail_at(v, "drift.reference_size", "must be from 50 to 1000000 requests");
	if (d->window_size < 50 || d->window_size > 1000000)
		return fail_at(v, "drift.window_size", "must be from 50 to 1000000 requests");
	if (!(d->drift_share > 0 && d->drift_share <= 1))
		return fail_at(v, "drift.drift_share", "must be a share above 0 and at most 1");
	if (!(d->error_warning > 0 && d->error_warning <= 1))
		return fail_at(v, "drift.error_warning", "must be a share above 0 and at most 1");
	if (d->webhook && sl_parse_url(d->webhook, &url))
		return fail_at(v, "drift.webhook", "'%s' is not an http://host:port[/path] URL", d->webhook);
	struct sl_cfg_retrain *r = d->retrain;
	if (!r)
		return 0;
	if (sl_parse_url(r->url, &url))
		return fail_at(v, "drift.retrain.url", "'%s' is not an http://host:port[/path] URL", r->url);
	if (r->on && strcmp(r->on, "drift") && strcmp(r->on, "warning") && strcmp(r->on, "thresholds"))
		return fail_at(v, "drift.retrain.on", "must be \"drift\", \"warning\" or \"thresholds\"");
	for (unsigned i = 0; i < r->when_count; i++) {
		struct sl_cfg_when w;
		char why[192], path[64];
		snprintf(path, sizeof path, "drift.retrain.when[%u]", i);
		if (sl_cfg_when_parse(r->when[i], &w, why, sizeof why))
			return fail_at(v, path, "%s", why);
	}
	if (r->on && !strcmp(r->on, "thresholds") && !r->when_count)
		return fail_at(v, "drift.retrain.when", "on: thresholds needs at least one threshold");
	if (!r->cooldown_s)
		r->cooldown_s = 3600;
	if (r->cooldown_s > 30 * 86400)
		return fail_at(v, "drift.retrain.cooldown_s", "must be at most 2592000 (30 days)");
	return 0;
}

int sl_cfg_when_parse(const char *s, struct sl_cfg_when *out, char *err, size_t errlen)
{
	const char *op = s ? strpbrk(s, "<>") : NULL;
	char name[64], num[64];
	size_t n = op ? (size_t)(op - s) : 0;
	while (n && s[n - 1] == ' ')
		n--;
	const char *x = op ? op + 1 : NULL;
	while (x && *x == ' ')
		x++;
	if (!op || n == 0 || n >= sizeof name || strlen(x) >= sizeof num) {
		snprintf(err, errlen, "must read \"METRIC < NUMBER\" or \"METRIC > NUMBER\"");
		return SL_EINVAL;
	}
	memcpy(name, s, n);
	name[n] = '\0';
	snprintf(num, sizeof num, "%s", x);
	bool known = strcmp(name, "error_rate") == 0 || (strncmp(name, "recs_", 5) == 0 && sl_recs_metric_known(name + 5));
	if (!known) {
		snprintf(err, errlen, "unknown metric '%s' (error_rate, or recs_ and a recommendation metric: recs_ctr, "
		                      "recs_satisfaction, recs_repetition, ...)", name);
		return SL_EINVAL;
	}
	if (sl_parse_double(num, &out->value) != 0) {
		snprintf(err, errlen, "'%s' is not a number", num);
		return SL_EINVAL;
	}
	snprintf(out->metric, sizeof out->metric, "%s", name);
	out->below = *op == '<';
	return 0;
}

static bool loopback_listener(const char *hostport)
{
	char host[256];
	uint16_t port;
	if (sl_parse_hostport(hostport, host, sizeof(host), &port))
		return false;
	return strncmp(host, "127.", 4) == 0 || strcmp(host, "localhost") == 0 || strcmp(host, "[::1]") == 0;
}

static int check_listeners(struct verr *v, const struct sl_config *c)
{
	char host[256], ahost[256];
	uint16_t port, aport;
	if (sl_parse_hostport(c->listen, host, sizeof(host), &port))
		return fail_at(v, "listen", "'%s' is not HOST:PORT", c->listen);
	if (sl_parse_hostport(c->admin_listen, ahost, sizeof(ahost), &aport))
		return fail_at(v, "admin_listen", "'%s' is not HOST:PORT", c->admin_listen);
	if (port != aport || (strcmp(host, ahost) != 0 && !wildcard_host(host) && !wildcard_host(ahost)))
		return 0;
	/* Blame the one written in the file; admin_listen may be its default. */
	if (sl_yaml_locate(v->data, v->len, "admin_listen"))
		return fail_at(v, "admin_listen", "'%s' clashes with listen '%s'", c->admin_listen, c->listen);
	return fail_at(v, "listen", "'%s' clashes with admin_listen '%s' (its default)", c->listen, c->admin_listen);
}

static int check_config(struct verr *v, const struct sl_config *c)
{
	int rc = check_listeners(v, c);
	if (rc)
		return rc;
	for (size_t i = 0; i < sizeof(uint_fields) / sizeof(uint_fields[0]); i++) {
		const struct uint_field *f = &uint_fields[i];
		uint64_t val = f->size == sizeof(uint64_t) ? *(const uint64_t *)((const char *)c + f->offset)
							   : *(const uint32_t *)((const char *)c + f->offset);
		if (val > f->max)
			return fail_at(v, f->name, "must be at most %llu%s", (unsigned long long)f->max, f->unit);
	}
	if (!valid_header_name(c->sticky_header))
		return fail_at(v, "sticky_header", "must be a lower-case header name");
	if (!valid_name(c->sticky_field, 128))
		return fail_at(v, "sticky_field", "must be a JSON field name without spaces");
	if (c->admin_token_env && (!valid_env_name(c->admin_token_env) || !getenv(c->admin_token_env)))
		return fail_at(v, "admin_token_env", "'%s' must name a set environment variable holding the token",
			       c->admin_token_env);
	if (!c->admin_token_env && !loopback_listener(c->admin_listen))
		return fail_at(v, "admin_listen", "'%s' is not a loopback address: set admin_token_env to protect the "
						  "admin API", c->admin_listen);
	if (!c->store[0])
		return fail_at(v, "store", "must be a file path or \"off\"");
	if (c->drift && (rc = check_drift(v, c->drift)) != 0)
		return rc;
	if (c->models_count == 0)
		return fail_at(v, "models", "needs at least one model");
	for (unsigned mi = 0; mi < c->models_count; mi++) {
		rc = check_model(v, c, mi);
		if (rc)
			return rc;
	}
	return 0;
}

static const cyaml_config_t *cyaml_cfg(struct sl_cyaml_log *log)
{
	static __thread cyaml_config_t cfg;
	cfg = (cyaml_config_t){.log_fn = sl_cyaml_log_fn,
			       .log_ctx = log,
			       .mem_fn = cyaml_mem,
			       .log_level = CYAML_LOG_ERROR,
			       .flags = CYAML_CFG_DEFAULT};
	return &cfg;
}

/* Checks a loaded config and fills its defaults; frees it on failure. */
static int finish(struct verr *v, struct sl_config *c)
{
	int rc = check_scalars(v, c);
	if (!rc)
		rc = apply_defaults(c);
	if (!rc)
		rc = check_config(v, c);
	if (!rc)
		rc = json_section(v, "guard", "{}", sl_guard_config_check, &c->guard_json_);
	if (!rc)
		rc = experiments_section(v, c);
	if (!rc && !(c->path_ = strdup(v->file)))
		rc = SL_ENOMEM;
	if (rc)
		sl_config_free(c);
	return rc;
}

/* Reads all of path into b (at most SL_CONFIG_MAX_BYTES). */
static int read_file(const char *path, struct sl_buf *b, char *err, size_t errlen)
{
	char chunk[16384];
	size_t n;
	int rc = 0;
	struct stat st;
	FILE *f = fopen(path, "rb");
	if (!f) {
		snprintf(err, errlen, "cannot open '%s': %s", path, strerror(errno));
		return SL_ECONFIG;
	}
	if (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "cannot read '%s': %s", path, strerror(EISDIR));
		rc = SL_ECONFIG;
	}
	while (!rc && (n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		rc = sl_buf_append(b, chunk, n);
	if (!rc && ferror(f))
		rc = SL_EIO;
	if (rc == SL_ETOOBIG || rc == SL_EIO)
		snprintf(err, errlen, "cannot read '%s': %s", path,
			 rc == SL_EIO ? strerror(errno) : "larger than 1 MiB, too large for a configuration");
	fclose(f);
	return rc == SL_ENOMEM ? rc : rc ? SL_ECONFIG : 0;
}

int sl_config_load(const char *path, struct sl_config **out, char *err, size_t errlen)
{
	struct sl_cyaml_log log = {0};
	struct sl_config *c = NULL;
	struct sl_buf b;
	*out = NULL;
	sl_buf_init(&b, SL_CONFIG_MAX_BYTES);
	int rc = read_file(path, &b, err, errlen);
	struct verr v = {path, b.data ? b.data : "", b.len, err, errlen};
	if (rc)
		goto out;
	cyaml_err_t cerr =
		cyaml_load_data((const uint8_t *)v.data, v.len, cyaml_cfg(&log), &top_schema, (cyaml_data_t **)&c, NULL);
	if (cerr != CYAML_OK) {
		rc = cyaml_fail(&v, &log, cerr);
	} else if (!c) {
		snprintf(err, errlen, "%s:1: the file is empty: it needs at least a 'models' list", path);
		rc = SL_ECONFIG;
	} else if (!(rc = finish(&v, c))) {
		*out = c;
	}
out:
	if (rc == SL_ENOMEM)
		snprintf(err, errlen, "%s: out of memory", path);
	sl_buf_release(&b);
	return rc;
}

void sl_config_free(struct sl_config *cfg)
{
	if (!cfg)
		return;
	char *p = cfg->path_;
	cfg->path_ = NULL;
	free(p);
	free(cfg->guard_json_);
	cfg->guard_json_ = NULL;
	free(cfg->experiments_json_);
	cfg->experiments_json_ = NULL;
	for (unsigned i = 0; cfg->models && i < cfg->models_count; i++) {
		free(cfg->models[i].rollout_json_);
		cfg->models[i].rollout_json_ = NULL;
		free(cfg->models[i].guard_json_);
		cfg->models[i].guard_json_ = NULL;
	}
	struct sl_cyaml_log log = {0};
	cyaml_free(cyaml_cfg(&log), &top_schema, cfg, 0);
}
