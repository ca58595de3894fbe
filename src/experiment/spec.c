/* spec.c: the experiments of a configuration from strict JSON (shape in experiment.h and
 * docs/EXPERIMENTS.md), and the set's lifetime and lookups.
 * Invariants: a returned set is fully validated: keys unique, 2..16 variants with unique keys and
 * weights normalized to sum 1, bucket ranges computed once (GrowthBook getBucketRanges unless
 * explicit), the holdout turned into a filter, start < stop; on failure nothing is returned and
 * err names the first bad field by its path. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "experiment-int.h"
#include "sluice/route.h"

/* The text strictly (UTF-8 validated, nothing after the value), in the experiments' wording. */
int sl__exp_parse(const char *json, size_t len, struct json_object **out, char *err, size_t errlen)
{
	return sl__json_parse_n(json, len, "trailing bytes after the value", "truncated", out, err, errlen);
}

/* An optional string of 1..max bytes, copied into *out. */
static int dup_string(struct json_object *o, const char *key, const char *path, size_t max, char **out, char *err,
                      size_t errlen)
{
	struct json_object *v;
	char p[SL__JSON_PATH_CAP];
	const char *s = NULL;
	size_t n = 0;
	int rc = sl__json_member_at(o, key, path, false, &v, p, err, errlen);
	if (rc)
		return rc > 0 ? 0 : rc;
	if ((rc = sl__json_text(v, p, max, &s, &n, err, errlen)))
		return rc;
	*out = strndup(s, n);
	return *out ? 0 : SL_ENOMEM;
}

/* A [lo, hi] pair with 0 <= lo <= hi <= 1. */
static int range_pair(struct json_object *v, const char *path, double r[2], char *err, size_t errlen)
{
	if (!json_object_is_type(v, json_type_array) || json_object_array_length(v) != 2)
		return sl__rerr(err, errlen, "%s: must be a pair [lo, hi]", path);
	for (unsigned i = 0; i < 2; i++)
		if (sl__json_number(json_object_array_get_idx(v, i), path, &r[i], NULL, 0))
			return sl__rerr(err, errlen, "%s: must be a pair of numbers", path);
	if (!(r[0] >= 0 && r[0] <= r[1] && r[1] <= 1))
		return sl__rerr(err, errlen, "%s: must satisfy 0 <= lo <= hi <= 1", path);
	return 0;
}

static int variant_params(struct json_object *o, const char *path, struct sl_exp_variant *v, char *err, size_t errlen)
{
	struct json_object *p;
	char pp[SL__JSON_PATH_CAP];
	int rc = sl__json_member_at(o, "params", path, false, &p, pp, err, errlen);
	if (rc)
		return rc > 0 ? 0 : rc;
	if (!json_object_is_type(p, json_type_object))
		return sl__rerr(err, errlen, "%s: must be an object", pp);
	if (json_object_object_get_ex(p, "model", NULL) || json_object_object_get_ex(p, "messages", NULL))
		return sl__rerr(err, errlen, "%s: must not set model or messages", pp);
	size_t n;
	const char *s = json_object_to_json_string_length(p, JSON_C_TO_STRING_PLAIN, &n);
	if (!s || n > SL_EXP_PARAMS_MAX)
		return sl__rerr(err, errlen, "%s: longer than %d bytes", pp, SL_EXP_PARAMS_MAX);
	v->params = strndup(s, n);
	return v->params ? 0 : SL_ENOMEM;
}

static int variant_from_json(struct json_object *o, const char *path, struct sl_exp_variant *v, char *err,
                             size_t errlen)
{
	static const char *const keys[] = {"key", "version", "params", "system_prompt", "weight", NULL};
	int rc = sl__json_object(o, path, keys, err, errlen);
	if (!rc)
		rc = sl__exp_name_at(o, "key", path, true, v->key, err, errlen);
	if (!rc)
		rc = dup_string(o, "version", path, SL_EXP_STR_CAP - 1, &v->version, err, errlen);
	if (!rc)
		rc = variant_params(o, path, v, err, errlen);
	if (!rc)
		rc = dup_string(o, "system_prompt", path, SL_EXP_PROMPT_MAX, &v->system_prompt, err, errlen);
	v->weight = 1;
	if (!rc)
		rc = sl__json_num_at(o, "weight", path, 0, 1e9, &v->weight, err, errlen);
	return rc;
}

/* Normalizes the weights; refuses duplicate keys and an all-zero total. Weights that already sum
 * to 1 within 1e-12 are kept as they are: normalized doubles need not sum to exactly 1, and
 * dividing again would move them by an ulp, so a written spec would not read back the same. */
static int variants_check(struct sl_experiment *e, const char *path, char *err, size_t errlen)
{
	double total = 0;
	char p[SL__JSON_PATH_CAP];
	for (unsigned i = 0; i < e->nvariants; i++) {
		total += e->variants[i].weight;
		for (unsigned j = 0; j < i; j++)
			if (strcmp(e->variants[i].key, e->variants[j].key) == 0) {
				sl__json_path_at(p, path, i);
				return sl__rerr(err, errlen, "%s: duplicate variant key '%s'", p, e->variants[i].key);
			}
	}
	if (!(total > 0))
		return sl__rerr(err, errlen, "%s: weights must not all be 0", path);
	if (fabs(total - 1) > 1e-12)
		for (unsigned i = 0; i < e->nvariants; i++)
			e->variants[i].weight /= total;
	return 0;
}

static int variants_from_json(struct json_object *o, const char *path, struct sl_experiment *e, char *err,
                              size_t errlen)
{
	struct json_object *a;
	char p[SL__JSON_PATH_CAP], pi[SL__JSON_PATH_CAP];
	int rc = sl__json_member_at(o, "variants", path, true, &a, p, err, errlen);
	if (!rc)
		rc = sl__json_array_check(a, p, 2, SL_EXP_MAX_VARIANTS, &e->nvariants, err, errlen);
	for (unsigned i = 0; !rc && i < e->nvariants; i++) {
		sl__json_path_at(pi, p, i);
		rc = variant_from_json(json_object_array_get_idx(a, i), pi, &e->variants[i], err, errlen);
	}
	return rc ? rc : variants_check(e, p, err, errlen);
}

/* Explicit "ranges" (one [lo, hi] per variant), else GrowthBook's getBucketRanges. */
static int ranges_from_json(struct json_object *o, const char *path, struct sl_experiment *e, char *err, size_t errlen)
{
	struct json_object *a;
	double r[SL_EXP_MAX_VARIANTS][2], w[SL_EXP_MAX_VARIANTS];
	char p[SL__JSON_PATH_CAP], pi[SL__JSON_PATH_CAP];
	if (sl__json_member_at(o, "ranges", path, false, &a, p, err, errlen) == 0) {
		if (!json_object_is_type(a, json_type_array) || json_object_array_length(a) != e->nvariants)
			return sl__rerr(err, errlen, "%s: must be an array of one [lo, hi] per variant", p);
		for (unsigned i = 0; i < e->nvariants; i++) {
			sl__json_path_at(pi, p, i);
			int rc = range_pair(json_object_array_get_idx(a, i), pi, r[i], err, errlen);
			if (rc)
				return rc;
		}
	} else {
		for (unsigned i = 0; i < e->nvariants; i++)
			w[i] = e->variants[i].weight;
		sl_gb_bucket_ranges((int)e->nvariants, e->coverage, w, (int)e->nvariants, r);
		/* the running sum can pass 1 by an ulp: no hash (at most 0.9999) can tell, but a written
		 * "ranges" above 1 would be refused when read back */
		for (unsigned i = 0; i < e->nvariants; i++)
			r[i][1] = r[i][1] > 1 ? 1 : r[i][1];
	}
	for (unsigned i = 0; i < e->nvariants; i++) {
		e->variants[i].lo = r[i][0];
		e->variants[i].hi = r[i][1];
	}
	return 0;
}

static int namespace_from_json(struct json_object *o, const char *path, struct sl_experiment *e, char *err,
                               size_t errlen)
{
	static const char *const keys[] = {"id", "range", NULL};
	struct json_object *ns, *r;
	char p[SL__JSON_PATH_CAP], pr[SL__JSON_PATH_CAP];
	double range[2] = {0, 0};
	if (sl__json_member_at(o, "namespace", path, false, &ns, p, err, errlen))
		return 0;
	int rc = sl__json_object(ns, p, keys, err, errlen);
	if (!rc)
		rc = sl__json_str_at(ns, "id", p, true, e->ns_id, sizeof(e->ns_id) - 2, err, errlen);
	sl__json_path(pr, p, "range");
	if (!rc && !json_object_object_get_ex(ns, "range", &r))
		return sl__rerr(err, errlen, "%s: missing", pr);
	if (!rc)
		rc = range_pair(r, pr, range, err, errlen);
	e->ns_lo = range[0];
	e->ns_hi = range[1];
	e->has_namespace = rc == 0;
	return rc;
}

static int filter_from_json(struct json_object *o, const char *path, struct sl_exp_filter *f, char *err, size_t errlen)
{
	static const char *const keys[] = {"seed", "ranges", "hash_version", NULL};
	struct json_object *a;
	char p[SL__JSON_PATH_CAP], pi[SL__JSON_PATH_CAP];
	double hv = 2;
	int rc = sl__json_object(o, path, keys, err, errlen);
	if (!rc)
		rc = sl__json_str_at(o, "seed", path, true, f->seed, sizeof(f->seed), err, errlen);
	if (!rc)
		rc = sl__json_num_at(o, "hash_version", path, 1, 2, &hv, err, errlen);
	f->hash_version = hv == 1 ? 1 : 2;
	if (!rc && hv != 1 && hv != 2)
		return sl__json_path(p, path, "hash_version"), sl__rerr(err, errlen, "%s: must be 1 or 2", p);
	sl__json_path(p, path, "ranges");
	if (!rc && (!json_object_object_get_ex(o, "ranges", &a) || !json_object_is_type(a, json_type_array) ||
	            json_object_array_length(a) < 1 || json_object_array_length(a) > SL_EXP_MAX_FILTER_RANGES))
		return sl__rerr(err, errlen, "%s: must be an array of 1 to %d [lo, hi] pairs", p,
		                SL_EXP_MAX_FILTER_RANGES);
	for (unsigned i = 0; !rc && i < json_object_array_length(a); i++) {
		sl__json_path_at(pi, p, i);
		rc = range_pair(json_object_array_get_idx(a, i), pi, f->ranges[i], err, errlen);
		f->nranges = i + 1;
	}
	return rc;
}

/* "holdout": {"seed", "share"}: units hashing below share (v2) are kept out: a filter [share, 1). */
static int holdout_from_json(struct json_object *o, const char *path, struct sl_experiment *e, char *err, size_t errlen)
{
	static const char *const keys[] = {"seed", "share", NULL};
	struct json_object *h;
	char p[SL__JSON_PATH_CAP];
	if (sl__json_member_at(o, "holdout", path, false, &h, p, err, errlen))
		return 0;
	struct sl_exp_filter *f = &e->filters[e->nfilters];
	char ps[SL__JSON_PATH_CAP], seed[SL_EXP_STR_CAP] = "sluice-holdout";
	double share = -1;
	int rc = sl__json_object(h, p, keys, err, errlen);
	if (!rc)
		rc = sl__json_str_at(h, "seed", p, false, seed, sizeof(seed), err, errlen);
	if (!rc)
		rc = sl__json_num_at(h, "share", p, 0, 1, &share, err, errlen);
	if (!rc && share < 0)
		return sl__json_path(ps, p, "share"), sl__rerr(err, errlen, "%s: missing", ps);
	memcpy(f->seed, seed, strlen(seed) + 1);
	f->hash_version = 2;
	f->nranges = 1;
	f->ranges[0][0] = share;
	f->ranges[0][1] = 1;
	e->nfilters += rc == 0;
	return rc;
}

static int filters_from_json(struct json_object *o, const char *path, struct sl_experiment *e, char *err, size_t errlen)
{
	struct json_object *a;
	char p[SL__JSON_PATH_CAP], pi[SL__JSON_PATH_CAP];
	if (sl__json_member_at(o, "filters", path, false, &a, p, err, errlen))
		return holdout_from_json(o, path, e, err, errlen);
	if (!json_object_is_type(a, json_type_array) || json_object_array_length(a) > SL_EXP_MAX_FILTERS - 1)
		return sl__rerr(err, errlen, "%s: must be an array of at most %d filters", p, SL_EXP_MAX_FILTERS - 1);
	for (unsigned i = 0; i < json_object_array_length(a); i++) {
		sl__json_path_at(pi, p, i);
		int rc = filter_from_json(json_object_array_get_idx(a, i), pi, &e->filters[i], err, errlen);
		if (rc)
			return rc;
		e->nfilters = i + 1;
	}
	return holdout_from_json(o, path, e, err, errlen);
}

static int time_field(struct json_object *o, const char *key, const char *path, double *out, char *err, size_t errlen)
{
	char s[64] = "", p[SL__JSON_PATH_CAP];
	int rc = sl__json_str_at(o, key, path, false, s, sizeof(s), err, errlen);
	if (rc || !s[0])
		return rc;
	if (sl_exp_parse_time(s, out) != 0) {
		sl__json_path(p, path, key);
		return sl__rerr(err, errlen, "%s: must be an RFC 3339 time such as 2025-01-31T12:00:00Z", p);
	}
	return 0;
}

static int metrics_from_json(struct json_object *o, const char *path, struct sl_experiment *e, char *err, size_t errlen)
{
	struct json_object *a;
	char p[SL__JSON_PATH_CAP], pi[SL__JSON_PATH_CAP];
	if (sl__json_member_at(o, "metrics", path, false, &a, p, err, errlen))
		return 0;
	if (!json_object_is_type(a, json_type_array) || json_object_array_length(a) > SL_EXP_MAX_METRICS)
		return sl__rerr(err, errlen, "%s: must be an array of at most %d metrics", p, SL_EXP_MAX_METRICS);
	for (unsigned i = 0; i < json_object_array_length(a); i++) {
		sl__json_path_at(pi, p, i);
		int rc = sl__metric_from_json(json_object_array_get_idx(a, i), pi, &e->metrics[i], err, errlen);
		for (unsigned j = 0; !rc && j < i; j++)
			if (strcmp(e->metrics[i].name, e->metrics[j].name) == 0)
				rc = sl__rerr(err, errlen, "%s: duplicate metric name '%s'", pi, e->metrics[i].name);
		if (rc)
			return rc;
		e->nmetrics = i + 1;
	}
	return 0;
}

/* Scalars and the small objects, after the variants (ranges need the weights). */
static int experiment_rest(struct json_object *o, const char *path, struct sl_experiment *e, char *err, size_t errlen)
{
	double hv = 2, max_units = SL_EXP_DEFAULT_MAX_UNITS;
	struct json_object *an;
	char p[SL__JSON_PATH_CAP];
	int rc = sl__json_num_at(o, "coverage", path, 0, 1, &e->coverage, err, errlen);
	if (!rc)
		rc = ranges_from_json(o, path, e, err, errlen);
	if (!rc)
		rc = namespace_from_json(o, path, e, err, errlen);
	if (!rc)
		rc = filters_from_json(o, path, e, err, errlen);
	if (!rc)
		rc = sl__json_num_at(o, "hash_version", path, 1, 2, &hv, err, errlen);
	e->hash_version = hv == 1 ? 1 : 2;
	if (!rc && hv != 1 && hv != 2)
		return sl__json_path(p, path, "hash_version"), sl__rerr(err, errlen, "%s: must be 1 or 2", p);
	if (!rc)
		rc = sl__json_str_at(o, "seed", path, false, e->seed, sizeof(e->seed), err, errlen);
	if (!rc)
		rc = time_field(o, "start", path, &e->start, err, errlen);
	if (!rc)
		rc = time_field(o, "stop", path, &e->stop, err, errlen);
	if (!rc && !(e->start < e->stop))
		return sl__json_path(p, path, "stop"), sl__rerr(err, errlen, "%s: must be after start", p);
	if (!rc)
		rc = sl__json_num_at(o, "max_units", path, 1, SL_EXP_MAX_UNITS_LIMIT, &max_units, err, errlen);
	e->max_units = (uint64_t)max_units;
	if (!rc)
		rc = metrics_from_json(o, path, e, err, errlen);
	if (!rc && sl__json_member_at(o, "analysis", path, false, &an, p, err, errlen) == 0)
		rc = sl__analysis_from_json(an, p, &e->analysis, err, errlen);
	return rc;
}

static int experiment_from_json(struct json_object *o, const char *path, struct sl_experiment *e, char *err,
                                size_t errlen)
{
	static const char *const keys[] = {"key",       "model",     "unit",    "variants",     "coverage", "ranges",
	                                   "namespace", "holdout",   "filters", "hash_version", "seed",     "start",
	                                   "stop",      "max_units", "metrics", "analysis",     NULL};
	int unit = 0;
	e->coverage = 1;
	e->start = -INFINITY;
	e->stop = INFINITY;
	sl__analysis_defaults(&e->analysis);
	int rc = sl__json_object(o, path, keys, err, errlen);
	if (!rc)
		rc = sl__exp_name_at(o, "key", path, true, e->key, err, errlen);
	if (!rc)
		rc = sl__json_str_at(o, "model", path, true, e->model, sizeof(e->model), err, errlen);
	if (!rc)
		rc = sl__json_enum_at(o, "unit", path, sl__unit_names, &unit, err, errlen);
	e->unit = (enum sl_exp_unit)unit;
	if (!rc)
		rc = variants_from_json(o, path, e, err, errlen);
	if (!rc)
		rc = experiment_rest(o, path, e, err, errlen);
	if (!rc && !e->seed[0])
		memcpy(e->seed, e->key, strlen(e->key) + 1);
	return rc;
}

static struct json_object *experiments_array(struct json_object *root, char *err, size_t errlen)
{
	static const char *const keys[] = {"experiments", NULL};
	struct json_object *a = root;
	if (json_object_is_type(root, json_type_object)) {
		if (sl__json_object(root, "", keys, err, errlen))
			return NULL;
		if (!json_object_object_get_ex(root, "experiments", &a))
			return sl__rerr(err, errlen, "experiments: missing"), NULL;
	}
	unsigned n;
	return sl__json_array_check(a, "experiments", 0, SL_EXP_MAX_EXPERIMENTS, &n, err, errlen) ? NULL : a;
}

static int set_from_array(struct json_object *a, struct sl_experiment_set *s, char *err, size_t errlen)
{
	char p[SL__JSON_PATH_CAP];
	size_t n = json_object_array_length(a);
	s->exps = calloc(n ? n : 1, sizeof(*s->exps));
	if (!s->exps)
		return SL_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		s->n = (unsigned)i + 1;
		sl__json_path_at(p, "experiments", i);
		int rc = experiment_from_json(json_object_array_get_idx(a, i), p, &s->exps[i], err, errlen);
		for (size_t j = 0; !rc && j < i; j++)
			if (strcmp(s->exps[i].key, s->exps[j].key) == 0)
				rc = sl__rerr(err, errlen, "%s: duplicate key '%s'", p, s->exps[i].key);
		if (rc)
			return rc;
	}
	return 0;
}

int sl_experiments_from_json(const char *json, struct sl_experiment_set **out, char *err, size_t errlen)
{
	struct json_object *root = NULL, *a;
	if (err && errlen)
		err[0] = '\0';
	int rc = sl__exp_parse(json, json ? strlen(json) : 0, &root, err, errlen);
	if (rc)
		return rc;
	struct sl_experiment_set *s = calloc(1, sizeof(*s));
	if (!s)
		rc = SL_ENOMEM;
	else if (!(a = experiments_array(root, err, errlen)))
		rc = SL_EINVAL;
	else
		rc = set_from_array(a, s, err, errlen);
	json_object_put(root);
	if (rc) {
		sl_experiment_set_free(s);
		return rc;
	}
	*out = s;
	return 0;
}

void sl_experiment_set_free(struct sl_experiment_set *s)
{
	if (!s)
		return;
	for (unsigned i = 0; s->exps && i < s->n; i++)
		for (unsigned j = 0; j < s->exps[i].nvariants; j++) {
			free(s->exps[i].variants[j].version);
			free(s->exps[i].variants[j].params);
			free(s->exps[i].variants[j].system_prompt);
		}
	free(s->exps);
	free(s);
}

int sl_experiment_index(const struct sl_experiment_set *s, struct sl_slice key)
{
	for (unsigned i = 0; s && i < s->n; i++)
		if (strlen(s->exps[i].key) == key.len && memcmp(s->exps[i].key, key.ptr, key.len) == 0)
			return (int)i;
	return -1;
}

void sl_experiment_stop(struct sl_experiment *e, double now)
{
	if (now < e->stop)
		e->stop = now;
}
