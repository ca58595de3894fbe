/* spec_metric.c: an experiment's metrics and analysis settings from JSON, the names of units,
 * kinds and request fields, and the one check of experiment, variant, metric and event names.
 * Invariants: a metric is consistent when returned (ratio has a denominator, quantile a
 * quantile in (0, 1), CUPED only for proportion and mean); defaults: direction
 * increase_is_good, guardrail and cuped false; analysis frequentist, fixed horizon, tau 5000,
 * alpha 0.05, Holm, SRM threshold 0.001. */
#include <string.h>

#include "experiment-int.h"

const char *const sl__unit_names[] = {"user", "session", "request", NULL};
static const char *const kind_names[] = {"proportion", "mean", "ratio", "quantile", NULL};
static const char *const field_names[] = {"requests", "latency", "ttft",  "input_tokens", "output_tokens",
                                          "tokens",   "cost",    "error", "refusal",      NULL};
static const char *const direction_names[] = {"increase_is_good", "decrease_is_good", NULL};
static const char *const engine_names[] = {"frequentist", "bayesian", NULL};
static const char *const correction_names[] = {"holm", "bh", "none", NULL};

const char *sl_exp_unit_name(enum sl_exp_unit u)
{
	return (unsigned)u < 3 ? sl__unit_names[u] : "?";
}

const char *sl_exp_kind_name(enum sl_exp_kind k)
{
	return (unsigned)k < 4 ? kind_names[k] : "?";
}

const char *sl_exp_field_name(enum sl_exp_field f)
{
	return (unsigned)f < SL_EXP_F_COUNT_ ? field_names[f] : "?";
}

static bool name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || (c && strchr("_.:-", c));
}

bool sl__name_ok(const char *s, size_t n)
{
	if (n == 0 || n >= SL_EXP_NAME_CAP)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!name_char(s[i]))
			return false;
	return true;
}

int sl__exp_name_at(struct json_object *o, const char *key, const char *path, bool required, char *out, char *err,
                    size_t errlen)
{
	char tmp[SL_EXP_STR_CAP], p[SL__JSON_PATH_CAP];
	tmp[0] = '\0';
	int rc = sl__json_str_at(o, key, path, required, tmp, sizeof(tmp), err, errlen);
	if (rc || !tmp[0])
		return rc;
	if (!sl__name_ok(tmp, strlen(tmp))) {
		sl__json_path(p, path, key);
		return sl__rerr(err, errlen, "%s: must be 1 to 64 characters of A-Z a-z 0-9 _ . : -", p);
	}
	memcpy(out, tmp, strlen(tmp) + 1);
	return 0;
}

int sl__source_parse(const char *s, struct sl_exp_source *out)
{
	struct sl_exp_source src = {0};
	if (strncmp(s, "event:", 6) == 0) {
		if (!sl__name_ok(s + 6, strlen(s + 6)))
			return SL_EINVAL;
		src.is_event = true;
		memcpy(src.event, s + 6, strlen(s + 6) + 1);
	} else if (strncmp(s, "request:", 8) == 0) {
		int i = 0;
		while (field_names[i] && strcmp(field_names[i], s + 8) != 0)
			i++;
		if (!field_names[i])
			return SL_EINVAL;
		src.field = (enum sl_exp_field)i;
	} else {
		return SL_EINVAL;
	}
	*out = src;
	return 0;
}

int sl__source_put(struct sl_buf *b, const char *key, const struct sl_exp_source *s)
{
	char tmp[SL_EXP_NAME_CAP + 16];
	size_t n = strlen(s->is_event ? s->event : field_names[s->field]);
	memcpy(tmp, s->is_event ? "event:" : "request:", s->is_event ? 6 : 8);
	memcpy(tmp + (s->is_event ? 6 : 8), s->is_event ? s->event : field_names[s->field], n + 1);
	return sl__json_str_field(b, key, tmp, SIZE_MAX);
}

static int source_field(struct json_object *o, const char *key, const char *path, bool required,
                        struct sl_exp_source *out, char *err, size_t errlen)
{
	char s[SL_EXP_NAME_CAP + 16] = "", p[SL__JSON_PATH_CAP];
	int rc = sl__json_str_at(o, key, path, required, s, sizeof(s), err, errlen);
	if (rc || !s[0])
		return rc;
	if (sl__source_parse(s, out) != 0) {
		sl__json_path(p, path, key);
		return sl__rerr(err, errlen,
		                "%s: must be event:NAME or request:FIELD (FIELD one of requests, latency, "
		                "ttft, input_tokens, output_tokens, tokens, cost, error, refusal)",
		                p);
	}
	return 0;
}

/* The members that depend on the kind: denominator, quantile, cuped. */
static int metric_kind_fields(struct json_object *o, const char *path, struct sl_exp_metric *m, char *err,
                              size_t errlen)
{
	char p[SL__JSON_PATH_CAP];
	struct json_object *v;
	int rc = source_field(o, "denominator", path, m->kind == SL_EXP_RATIO, &m->denominator, err, errlen);
	if (!rc && m->kind != SL_EXP_RATIO && json_object_object_get_ex(o, "denominator", &v))
		return sl__json_path(p, path, "denominator"), sl__rerr(err, errlen, "%s: only for kind ratio", p);
	m->quantile = -1;
	if (!rc)
		rc = sl__json_num_at(o, "quantile", path, 0, 1, &m->quantile, err, errlen);
	sl__json_path(p, path, "quantile");
	if (!rc && m->kind == SL_EXP_QUANTILE && !(m->quantile > 0 && m->quantile < 1))
		return sl__rerr(err, errlen, "%s: %s", p, m->quantile < 0 ? "missing" : "must be in (0, 1)");
	if (!rc && m->kind != SL_EXP_QUANTILE && m->quantile >= 0)
		return sl__rerr(err, errlen, "%s: only for kind quantile", p);
	if (!rc)
		rc = sl__json_bool_at(o, "cuped", path, &m->cuped, err, errlen);
	sl__json_path(p, path, "cuped");
	if (!rc && m->cuped && m->kind != SL_EXP_PROPORTION && m->kind != SL_EXP_MEAN)
		return sl__rerr(err, errlen, "%s: only for kinds proportion and mean", p);
	return rc;
}

int sl__metric_from_json(struct json_object *o, const char *path, struct sl_exp_metric *m, char *err, size_t errlen)
{
	static const char *const keys[] = {"name",      "kind",      "source", "denominator", "quantile",
	                                   "guardrail", "direction", "cuped",  NULL};
	int kind = -1, dir = 0;
	memset(m, 0, sizeof(*m));
	int rc = sl__json_object(o, path, keys, err, errlen);
	if (!rc)
		rc = sl__exp_name_at(o, "name", path, true, m->name, err, errlen);
	if (!rc)
		rc = sl__json_enum_at(o, "kind", path, kind_names, &kind, err, errlen);
	if (!rc && kind < 0) {
		char p[SL__JSON_PATH_CAP];
		sl__json_path(p, path, "kind");
		return sl__rerr(err, errlen, "%s: missing", p);
	}
	m->kind = (enum sl_exp_kind)kind;
	if (!rc)
		rc = source_field(o, "source", path, true, &m->source, err, errlen);
	if (!rc)
		rc = metric_kind_fields(o, path, m, err, errlen);
	if (!rc)
		rc = sl__json_bool_at(o, "guardrail", path, &m->guardrail, err, errlen);
	if (!rc)
		rc = sl__json_enum_at(o, "direction", path, direction_names, &dir, err, errlen);
	m->increase_is_good = dir == 0;
	return rc;
}

void sl__analysis_defaults(struct sl_exp_analysis *a)
{
	*a = (struct sl_exp_analysis){
	    .tau = 5000, .alpha = 0.05, .correction = SL_EXP_CORR_HOLM, .srm_threshold = 0.001};
}

int sl__analysis_from_json(struct json_object *o, const char *path, struct sl_exp_analysis *a, char *err, size_t errlen)
{
	static const char *const keys[] = {"engine", "sequential", "tau", "alpha", "correction", "srm_threshold", NULL};
	int engine = 0, corr = (int)a->correction;
	int rc = sl__json_object(o, path, keys, err, errlen);
	if (!rc)
		rc = sl__json_enum_at(o, "engine", path, engine_names, &engine, err, errlen);
	if (!rc)
		rc = sl__json_bool_at(o, "sequential", path, &a->sequential, err, errlen);
	if (!rc)
		rc = sl__json_num_at(o, "tau", path, 1, 1e12, &a->tau, err, errlen);
	if (!rc)
		rc = sl__json_num_at(o, "alpha", path, 1e-6, 0.5, &a->alpha, err, errlen);
	if (!rc)
		rc = sl__json_enum_at(o, "correction", path, correction_names, &corr, err, errlen);
	if (!rc)
		rc = sl__json_num_at(o, "srm_threshold", path, 1e-12, 0.5, &a->srm_threshold, err, errlen);
	a->bayesian = engine == 1;
	a->correction = (enum sl_exp_correction)corr;
	if (!rc && a->bayesian && a->sequential) {
		char p[SL__JSON_PATH_CAP];
		sl__json_path(p, path, "sequential");
		return sl__rerr(err, errlen, "%s: only with engine frequentist", p);
	}
	return rc;
}
