/* config.c: loads the serve configuration with libcyaml, fills defaults and validates it.
 * Every error is reported as "FILE:LINE: field 'PATH': reason"; the line comes from yamlpath. */
#include <cyaml/cyaml.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sluice/config.h"
#include "sluice/core.h"
#include "yamlpath.h"

#define F_OPT (CYAML_FLAG_OPTIONAL)
#define F_OPT_PTR (CYAML_FLAG_OPTIONAL | CYAML_FLAG_POINTER)

static const cyaml_schema_value_t string_ptr = {CYAML_VALUE_STRING(CYAML_FLAG_POINTER, char, 0, 4096)};

static const cyaml_schema_field_t version_fields[] = {
	CYAML_FIELD_STRING_PTR("name", CYAML_FLAG_POINTER, struct sl_cfg_version, name, 0, 4096),
	CYAML_FIELD_SEQUENCE("upstreams", CYAML_FLAG_POINTER, struct sl_cfg_version, upstreams, &string_ptr, 0, 64),
	CYAML_FIELD_STRING_PTR("upstream_model", F_OPT_PTR, struct sl_cfg_version, upstream_model, 0, 4096),
	CYAML_FIELD_FLOAT("weight", CYAML_FLAG_DEFAULT, struct sl_cfg_version, weight),
	CYAML_FIELD_STRING_PTR("api_key_env", F_OPT_PTR, struct sl_cfg_version, api_key_env, 0, 4096),
	CYAML_FIELD_END};
static const cyaml_schema_value_t version_schema = {
	CYAML_VALUE_MAPPING(CYAML_FLAG_DEFAULT, struct sl_cfg_version, version_fields)};

static const cyaml_schema_field_t model_fields[] = {
	CYAML_FIELD_STRING_PTR("name", CYAML_FLAG_POINTER, struct sl_cfg_model, name, 0, 4096),
	CYAML_FIELD_STRING_PTR("hash_seed", F_OPT_PTR, struct sl_cfg_model, hash_seed, 0, 4096),
	CYAML_FIELD_SEQUENCE("versions", CYAML_FLAG_POINTER, struct sl_cfg_model, versions, &version_schema, 0, 64),
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
	CYAML_FIELD_SEQUENCE("models", CYAML_FLAG_POINTER, struct sl_config, models, &model_schema, 0, 256),
	CYAML_FIELD_END};
static const cyaml_schema_value_t top_schema = {CYAML_VALUE_MAPPING(CYAML_FLAG_POINTER, struct sl_config, top_fields)};

/* Collects libcyaml's log lines: the first message and the innermost backtrace entry. */
struct cyaml_capture {
	char msg[256];
	char path[512]; /* built from the backtrace, outermost first */
	int line;
	int in_backtrace;
};

/* Backtrace lines come innermost first, so each segment goes in front: "x" + "[0].y" -> "x[0].y". */
static void prepend_path(struct cyaml_capture *c, const char *seg)
{
	char tmp[512];
	const char *sep = (c->path[0] && c->path[0] != '[') ? "." : "";
	snprintf(tmp, sizeof(tmp), "%s%s%s", seg, sep, c->path);
	memcpy(c->path, tmp, sizeof(c->path));
}

static void on_cyaml_log(cyaml_log_t level, void *ctx, const char *fmt, va_list args)
{
	struct cyaml_capture *c = ctx;
	char line[512], name[256];
	unsigned ln = 0, entry = 0;
	if (level < CYAML_LOG_ERROR)
		return;
	vsnprintf(line, sizeof(line), fmt, args);
	line[strcspn(line, "\n")] = '\0';
	if (strstr(line, "Backtrace:")) {
		c->in_backtrace = 1;
		return;
	}
	if (!c->in_backtrace) {
		if (!c->msg[0])
			snprintf(c->msg, sizeof(c->msg), "%s", strncmp(line, "Load: ", 6) == 0 ? line + 6 : line);
		return;
	}
	const char *at = strstr(line, "(line: ");
	if (at && !c->line && sscanf(at, "(line: %u", &ln) == 1)
		c->line = (int)ln;
	if (sscanf(line, " in mapping field '%255[^']'", name) == 1) {
		prepend_path(c, name);
	} else if (sscanf(line, " in sequence entry '%u'", &entry) == 1) {
		char seg[32];
		snprintf(seg, sizeof(seg), "[%u]", entry ? entry - 1 : 0); /* libcyaml counts from 1 */
		prepend_path(c, seg);
	}
}

struct verr {
	const char *file;
	char *err;
	size_t errlen;
};

static int fail_at(struct verr *v, const char *path, int fallback_line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int fail_at(struct verr *v, const char *path, int fallback_line, const char *fmt, ...)
{
	char reason[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	int line = path && *path ? sl_yaml_locate(v->file, path) : 0;
	if (!line)
		line = fallback_line > 0 ? fallback_line : 1;
	if (path && *path)
		snprintf(v->err, v->errlen, "%s:%d: field '%s': %s", v->file, line, path, reason);
	else
		snprintf(v->err, v->errlen, "%s:%d: %s", v->file, line, reason);
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
	    set_default_str(&c->access_log, "-"))
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
		return fail_at(v, p, 0, "must be 1 to 128 characters without spaces or quotes");
	for (unsigned j = 0; j < vi; j++)
		if (strcmp(m->versions[j].name, ver->name) == 0)
			return fail_at(v, p, 0, "duplicate version name '%s'", ver->name);
	snprintf(p, sizeof(p), "models[%u].versions[%u].weight", mi, vi);
	if (!isfinite(ver->weight) || ver->weight < 0 || ver->weight > 1e6)
		return fail_at(v, p, 0, "must be a number from 0 to 1000000");
	snprintf(p, sizeof(p), "models[%u].versions[%u].upstreams", mi, vi);
	if (ver->upstreams_count == 0)
		return fail_at(v, p, 0, "needs at least one upstream base URL");
	for (unsigned u = 0; u < ver->upstreams_count; u++) {
		struct sl_url url;
		snprintf(p, sizeof(p), "models[%u].versions[%u].upstreams[%u]", mi, vi, u);
		if (sl_parse_url(ver->upstreams[u], &url))
			return fail_at(v, p, 0, "'%s' is not an http://host:port[/path] URL", ver->upstreams[u]);
	}
	snprintf(p, sizeof(p), "models[%u].versions[%u].upstream_model", mi, vi);
	if (ver->upstream_model && !valid_name(ver->upstream_model, 256))
		return fail_at(v, p, 0, "must be 1 to 256 characters without spaces or quotes");
	snprintf(p, sizeof(p), "models[%u].versions[%u].api_key_env", mi, vi);
	if (ver->api_key_env && !valid_env_name(ver->api_key_env))
		return fail_at(v, p, 0, "'%s' is not an environment variable name", ver->api_key_env);
	if (ver->api_key_env && !getenv(ver->api_key_env))
		sl_log(SL_LOG_WARN, "%s: environment variable '%s' for %s/%s is not set", v->file, ver->api_key_env,
		       m->name, ver->name);
	return 0;
}

static int check_model(struct verr *v, const struct sl_config *c, unsigned mi)
{
	const struct sl_cfg_model *m = &c->models[mi];
	char p[128];
	snprintf(p, sizeof(p), "models[%u].name", mi);
	if (!valid_name(m->name, 128))
		return fail_at(v, p, 0, "must be 1 to 128 characters without spaces or quotes");
	for (unsigned j = 0; j < mi; j++)
		if (strcmp(c->models[j].name, m->name) == 0)
			return fail_at(v, p, 0, "duplicate model name '%s'", m->name);
	snprintf(p, sizeof(p), "models[%u].versions", mi);
	if (m->versions_count == 0)
		return fail_at(v, p, 0, "needs at least one version");
	double total = 0;
	for (unsigned vi = 0; vi < m->versions_count; vi++) {
		int rc = check_version(v, m, mi, vi);
		if (rc)
			return rc;
		total += m->versions[vi].weight;
	}
	if (total <= 0)
		return fail_at(v, p, 0, "at least one version needs a weight above 0");
	return 0;
}

static int check_config(struct verr *v, const struct sl_config *c)
{
	char host[256];
	uint16_t port;
	if (sl_parse_hostport(c->listen, host, sizeof(host), &port))
		return fail_at(v, "listen", 0, "'%s' is not HOST:PORT", c->listen);
	if (sl_parse_hostport(c->admin_listen, host, sizeof(host), &port))
		return fail_at(v, "admin_listen", 0, "'%s' is not HOST:PORT", c->admin_listen);
	if (strcmp(c->listen, c->admin_listen) == 0)
		return fail_at(v, "admin_listen", 0, "must differ from listen");
	if (c->max_body_bytes > (1u << 30))
		return fail_at(v, "max_body_bytes", 0, "must be at most 1073741824 (1 GiB)");
	if (c->connect_timeout_ms > 3600000 || c->upstream_timeout_ms > 3600000 || c->drain_timeout_ms > 3600000)
		return fail_at(v, "", 0, "timeouts must be at most 3600000 ms");
	if (!valid_header_name(c->sticky_header))
		return fail_at(v, "sticky_header", 0, "must be a lower-case header name");
	if (!valid_name(c->sticky_field, 128))
		return fail_at(v, "sticky_field", 0, "must be a JSON field name without spaces");
	if (c->models_count == 0)
		return fail_at(v, "models", 0, "needs at least one model");
	for (unsigned mi = 0; mi < c->models_count; mi++) {
		int rc = check_model(v, c, mi);
		if (rc)
			return rc;
	}
	return 0;
}

static const cyaml_config_t *cyaml_cfg(struct cyaml_capture *cap)
{
	static __thread cyaml_config_t cfg;
	cfg = (cyaml_config_t){.log_fn = on_cyaml_log,
			       .log_ctx = cap,
			       .mem_fn = cyaml_mem,
			       .log_level = CYAML_LOG_ERROR,
			       .flags = CYAML_CFG_DEFAULT};
	return &cfg;
}

int sl_config_load(const char *path, struct sl_config **out, char *err, size_t errlen)
{
	struct cyaml_capture cap = {0};
	struct verr v = {path, err, errlen};
	struct sl_config *c = NULL;
	*out = NULL;
	FILE *f = fopen(path, "rb");
	if (!f) {
		snprintf(err, errlen, "cannot open '%s': %s", path, strerror(errno));
		return SL_ECONFIG;
	}
	fclose(f);
	cyaml_err_t cerr = cyaml_load_file(path, cyaml_cfg(&cap), &top_schema, (cyaml_data_t **)&c, NULL);
	if (cerr != CYAML_OK) {
		const char *msg = cap.msg[0] ? cap.msg : cyaml_strerror(cerr);
		char key[256];
		if (sscanf(msg, "Unexpected key: %255s", key) == 1) {
			char full[800];
			snprintf(full, sizeof(full), "%s%s%s", cap.path, cap.path[0] ? "." : "", key);
			return fail_at(&v, full, cap.line, "unknown field");
		}
		return fail_at(&v, cap.path, cap.line, "%s", msg);
	}
	if (!c) {
		snprintf(err, errlen, "%s:1: the file is empty", path);
		return SL_ECONFIG;
	}
	int rc = apply_defaults(c);
	if (!rc)
		rc = check_config(&v, c);
	if (!rc && !(c->path_ = strdup(path)))
		rc = SL_ENOMEM;
	if (rc) {
		if (rc == SL_ENOMEM)
			snprintf(err, errlen, "%s: out of memory", path);
		sl_config_free(c);
		return rc == SL_ENOMEM ? SL_ENOMEM : SL_ECONFIG;
	}
	*out = c;
	return 0;
}

void sl_config_free(struct sl_config *cfg)
{
	if (!cfg)
		return;
	char *p = cfg->path_;
	cfg->path_ = NULL;
	free(p);
	struct cyaml_capture cap = {0};
	cyaml_free(cyaml_cfg(&cap), &top_schema, cfg, 0);
}
