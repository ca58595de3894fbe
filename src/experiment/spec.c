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

static int dup_string(struct json_object *o, const char *key, const char *path, size_t max, char **out, char *err,
                      size_t errlen)
{
	struct json_object *v;
	char p[SL__XPATH_CAP];
	if (!json_object_object_get_ex(o, key, &v) || !v)
		return 0;
	sl__xpath(p, path, key, 0);
	if (!json_object_is_type(v, json_type_string))
		return sl__xerr(err, errlen, p, "must be a string");
	size_t n = (size_t)json_object_get_string_len(v);
	if (n == 0 || n > max || memchr(json_object_get_string(v), '\0', n))
		return sl__xerr(err, errlen, p, "must be 1 to %zu bytes without NUL", max);
	*out = strndup(json_object_get_string(v), n);
	return *out ? 0 : SL_ENOMEM;
}

static int variant_params(struct json_object *o, const char *path, struct sl_exp_variant *v, char *err, size_t errlen)
{
	struct json_object *p;
	char pp[SL__XPATH_CAP];
	if (!json_object_object_get_ex(o, "params", &p) || !p)
		return 0;
	sl__xpath(pp, path, "params", 0);
	if (!json_object_is_type(p, json_type_object))
		return sl__xerr(err, errlen, pp, "must be an object");
	if (json_object_object_get_ex(p, "model", NULL) || json_object_object_get_ex(p, "messages", NULL))
		return sl__xerr(err, errlen, pp, "must not set model or messages");
	size_t n;
	const char *s = json_object_to_json_string_length(p, JSON_C_TO_STRING_PLAIN, &n);
	if (!s || n > SL_EXP_PARAMS_MAX)
		return sl__xerr(err, errlen, pp, "longer than %d bytes", SL_EXP_PARAMS_MAX);
	v->params = strndup(s, n);
	return v->params ? 0 : SL_ENOMEM;
}

static int variant_from_json(struct json_object *o, const char *path, struct sl_exp_variant *v, char *err,
                             size_t errlen)
{
	static const char *const keys[] = {"key", "version", "params", "system_prompt", "weight", NULL};
	int rc = sl__xobject(o, path, keys, err, errlen);
	if (!rc)
		rc = sl__xname(o, "key", path, true, v->key, err, errlen);
	if (!rc)
		rc = dup_string(o, "version", path, SL_EXP_STR_CAP - 1, &v->version, err, errlen);
	if (!rc)
		rc = variant_params(o, path, v, err, errlen);
	if (!rc)
		rc = dup_string(o, "system_prompt", path, SL_EXP_PROMPT_MAX, &v->system_prompt, err, errlen);
	v->weight = 1;
	if (!rc)
		rc = sl__xnum(o, "weight", path, 0, 1e9, &v->weight, err, errlen);
	return rc;
}

/* Normalizes the weights; refuses duplicate keys and an all-zero total. */
static int variants_check(struct sl_experiment *e, const char *path, char *err, size_t errlen)
{
	double total = 0;
	char p[SL__XPATH_CAP];
	for (unsigned i = 0; i < e->nvariants; i++) {
		total += e->variants[i].weight;
		for (unsigned j = 0; j < i; j++)
			if (strcmp(e->variants[i].key, e->variants[j].key) == 0) {
				sl__xpath(p, path, NULL, (int)i);
				return sl__xerr(err, errlen, p, "duplicate variant key '%s'", e->variants[i].key);
			}
	}
	if (!(total > 0))
		return sl__xerr(err, errlen, path, "weights must not all be 0");
	for (unsigned i = 0; i < e->nvariants; i++)
		e->variants[i].weight /= total;
	return 0;
}

static int variants_from_json(struct json_object *o, const char *path, struct sl_experiment *e, char *err,
                              size_t errlen)
{
	struct json_object *a;
	char p[SL__XPATH_CAP], pi[SL__XPATH_CAP];
	sl__xpath(p, path, "variants", 0);
	if (!json_object_object_get_ex(o, "variants", &a) || !a)
		return sl__xerr(err, errlen, p, "missing");
	if (!json_object_is_type(a, json_type_array))
		return sl__xerr(err, errlen, p, "must be an array");
	size_t n = json_object_array_length(a);
	if (n < 2 || n > SL_EXP_MAX_VARIANTS)
		return sl__xerr(err, errlen, p, "must have 2 to %d entries", SL_EXP_MAX_VARIANTS);
	e->nvariants = (unsigned)n;
	for (size_t i = 0; i < n; i++) {
		sl__xpath(pi, p, NULL, (int)i);
		int rc = variant_from_json(json_object_array_get_idx(a, i), pi, &e->variants[i], err, errlen);
		if (rc)
			return rc;
	}
	return variants_check(e, p, err, errlen);
}

/* Explicit "ranges" (one [lo, hi] per variant), else GrowthBook's getBucketRanges. */
static int ranges_from_json(struct json_object *o, const char *path, struct sl_experiment *e, char *err,
                            size_t errlen)
{
	struct json_object *a;
	double r[SL_EXP_MAX_VARIANTS][2], w[SL_EXP_MAX_VARIANTS];
	char p[SL__XPATH_CAP], pi[SL__XPATH_CAP];
	if (json_object_object_get_ex(o, "ranges", &a) && a) {
		sl__xpath(p, path, "ranges", 0);
		if (!json_object_is_type(a, json_type_array) || json_object_array_length(a) != e->nvariants)
			return sl__xerr(err, errlen, p, "must be an array of one [lo, hi] per variant");
		for (unsigned i = 0; i < e->nvariants; i++) {
			sl__xpath(pi, p, NULL, (int)i);
			int rc = sl__xrange(json_object_array_get_idx(a, i), pi, r[i], err, errlen);
			if (rc)
				return rc;
		}
	} else {
		for (unsigned i = 0; i < e->nvariants; i++)
			w[i] = e->variants[i].weight;
		sl_gb_bucket_ranges((int)e->nvariants, e->coverage, w, (int)e->nvariants, r);
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
	char p[SL__XPATH_CAP], pr[SL__XPATH_CAP];
	double range[2];
	if (!json_object_object_get_ex(o, "namespace", &ns) || !ns)
		return 0;
	sl__xpath(p, path, "namespace", 0);
	int rc = sl__xobject(ns, p, keys, err, errlen);
	if (!rc)
		rc = sl__xstr(ns, "id", p, true, e->ns_id, sizeof(e->ns_id) - 2, err, errlen);
	sl__xpath(pr, p, "range", 0);
	if (!rc && !json_object_object_get_ex(ns, "range", &r))
		return sl__xerr(err, errlen, pr, "missing");
	if (!rc)
		rc = sl__xrange(r, pr, range, err, errlen);
	e->ns_lo = range[0];
	e->ns_hi = range[1];
	e->has_namespace = rc == 0;
	return rc;
}

static int filter_from_json(struct json_object *o, const char *path, struct sl_exp_filter *f, char *err, size_t errlen)
{
	static const char *const keys[] = {"seed", "ranges", "hash_version", NULL};
	struct json_object *a;
	char p[SL__XPATH_CAP], pi[SL__XPATH_CAP];
	double hv = 2;
	int rc = sl__xobject(o, path, keys, err, errlen);
	if (!rc)
		rc = sl__xstr(o, "seed", path, true, f->seed, sizeof(f->seed), err, errlen);
	if (!rc)
		rc = sl__xnum(o, "hash_version", path, 1, 2, &hv, err, errlen);
	f->hash_version = hv == 1 ? 1 : 2;
	if (!rc && hv != 1 && hv != 2)
		return sl__xpath(p, path, "hash_version", 0), sl__xerr(err, errlen, p, "must be 1 or 2");
	sl__xpath(p, path, "ranges", 0);
	if (!rc && (!json_object_object_get_ex(o, "ranges", &a) || !json_object_is_type(a, json_type_array) ||
	            json_object_array_length(a) < 1 || json_object_array_length(a) > SL_EXP_MAX_FILTER_RANGES))
		return sl__xerr(err, errlen, p, "must be an array of 1 to %d [lo, hi] pairs", SL_EXP_MAX_FILTER_RANGES);
	for (unsigned i = 0; !rc && i < json_object_array_length(a); i++) {
		sl__xpath(pi, p, NULL, (int)i);
		rc = sl__xrange(json_object_array_get_idx(a, i), pi, f->ranges[i], err, errlen);
		f->nranges = i + 1;
	}
	return rc;
}

/* "holdout": {"seed", "share"}: units hashing below share (v2) are kept out: a filter [share, 1). */
static int holdout_from_json(struct json_object *o, const char *path, struct sl_experiment *e, char *err,
                             size_t errlen)
{
	static const char *const keys[] = {"seed", "share", NULL};
	struct json_object *h;
	char p[SL__XPATH_CAP];
	if (!json_object_object_get_ex(o, "holdout", &h) || !h)
		return 0;
	sl__xpath(p, path, "holdout", 0);
	struct sl_exp_filter *f = &e->filters[e->nfilters];
	char ps[SL__XPATH_CAP], seed[SL_EXP_STR_CAP] = "sluice-holdout";
	double share = -1;
	int rc = sl__xobject(h, p, keys, err, errlen);
	if (!rc)
		rc = sl__xstr(h, "seed", p, false, seed, sizeof(seed), err, errlen);
	if (!rc)
		rc = sl__xnum(h, "share", p, 0, 1, &share, err, errlen);
	if (!rc && share < 0)
		return sl__xpath(ps, p, "share", 0), sl__xerr(err, errlen, ps, "missing");
	memcpy(f->seed, seed, strlen(seed) + 1);
	f->hash_version = 2;
	f->nranges = 1;
	f->ranges[0][0] = share;
	f->ranges[0][1] = 1;
	e->nfilters += rc == 0;
	return rc;
}

static int filters_from_json(struct json_object *o, const char *path, struct sl_experiment *e, char *err,
                             size_t errlen)
{
	struct json_object *a;
	char p[SL__XPATH_CAP], pi[SL__XPATH_CAP];
	if (!json_object_object_get_ex(o, "filters", &a) || !a)
		return holdout_from_json(o, path, e, err, errlen);
	sl__xpath(p, path, "filters", 0);
	if (!json_object_is_type(a, json_type_array) || json_object_array_length(a) > SL_EXP_MAX_FILTERS - 1)
		return sl__xerr(err, errlen, p, "must be an array of at most %d filters", SL_EXP_MAX_FILTERS - 1);
	for (unsigned i = 0; i < json_object_array_length(a); i++) {
		sl__xpath(pi, p, NULL, (int)i);
		int rc = filter_from_json(json_object_array_get_idx(a, i), pi, &e->filters[i], err, errlen);
		if (rc)
			return rc;
		e->nfilters = i + 1;
	}
	return holdout_from_json(o, path, e, err, errlen);
}

static int time_field(struct json_object *o, const char *key, const char *path, double *out, char *err, size_t errlen)
{
	char s[64] = "", p[SL__XPATH_CAP];
	int rc = sl__xstr(o, key, path, false, s, sizeof(s), err, errlen);
	if (rc || !s[0])
		return rc;
	if (sl_exp_parse_time(s, out) != 0) {
		sl__xpath(p, path, key, 0);
		return sl__xerr(err, errlen, p, "must be an RFC 3339 time such as 2025-01-31T12:00:00Z");
	}
	return 0;
}

static int metrics_from_json(struct json_object *o, const char *path, struct sl_experiment *e, char *err,
                             size_t errlen)
{
	struct json_object *a;
	char p[SL__XPATH_CAP], pi[SL__XPATH_CAP];
	if (!json_object_object_get_ex(o, "metrics", &a) || !a)
		return 0;
	sl__xpath(p, path, "metrics", 0);
	if (!json_object_is_type(a, json_type_array) || json_object_array_length(a) > SL_EXP_MAX_METRICS)
		return sl__xerr(err, errlen, p, "must be an array of at most %d metrics", SL_EXP_MAX_METRICS);
	for (unsigned i = 0; i < json_object_array_length(a); i++) {
		sl__xpath(pi, p, NULL, (int)i);
		int rc = sl__metric_from_json(json_object_array_get_idx(a, i), pi, &e->metrics[i], err, errlen);
		for (unsigned j = 0; !rc && j < i; j++)
			if (strcmp(e->metrics[i].name, e->metrics[j].name) == 0)
				rc = sl__xerr(err, errlen, pi, "duplicate metric name '%s'", e->metrics[i].name);
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
	char p[SL__XPATH_CAP];
	int rc = sl__xnum(o, "coverage", path, 0, 1, &e->coverage, err, errlen);
	if (!rc)
		rc = ranges_from_json(o, path, e, err, errlen);
	if (!rc)
		rc = namespace_from_json(o, path, e, err, errlen);
	if (!rc)
		rc = filters_from_json(o, path, e, err, errlen);
	if (!rc)
		rc = sl__xnum(o, "hash_version", path, 1, 2, &hv, err, errlen);
	e->hash_version = hv == 1 ? 1 : 2;
	if (!rc && hv != 1 && hv != 2)
		return sl__xpath(p, path, "hash_version", 0), sl__xerr(err, errlen, p, "must be 1 or 2");
	if (!rc)
		rc = sl__xstr(o, "seed", path, false, e->seed, sizeof(e->seed), err, errlen);
	if (!rc)
		rc = time_field(o, "start", path, &e->start, err, errlen);
	if (!rc)
		rc = time_field(o, "stop", path, &e->stop, err, errlen);
	if (!rc && !(e->start < e->stop))
		return sl__xpath(p, path, "stop", 0), sl__xerr(err, errlen, p, "must be after start");
	if (!rc)
		rc = sl__xnum(o, "max_units", path, 1, SL_EXP_MAX_UNITS_LIMIT, &max_units, err, errlen);
	e->max_units = (uint64_t)max_units;
	if (!rc)
		rc = metrics_from_json(o, path, e, err, errlen);
	sl__xpath(p, path, "analysis", 0);
	if (!rc && json_object_object_get_ex(o, "analysis", &an) && an)
		rc = sl__analysis_from_json(an, p, &e->analysis, err, errlen);
	return rc;
}

static int experiment_from_json(struct json_object *o, const char *path, struct sl_experiment *e, char *err,
                                size_t errlen)
{
	static const char *const keys[] = {"key",          "model", "unit",  "variants", "coverage",  "ranges",
	                                   "namespace",    "holdout", "filters", "hash_version", "seed", "start",
	                                   "stop",         "max_units", "metrics", "analysis", NULL};
	int unit = 0;
	e->coverage = 1;
	e->start = -INFINITY;
	e->stop = INFINITY;
	sl__analysis_defaults(&e->analysis);
	int rc = sl__xobject(o, path, keys, err, errlen);
	if (!rc)
		rc = sl__xname(o, "key", path, true, e->key, err, errlen);
	if (!rc)
		rc = sl__xstr(o, "model", path, true, e->model, sizeof(e->model), err, errlen);
	if (!rc)
		rc = sl__xenum(o, "unit", path, sl__unit_names, &unit, err, errlen);
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
		if (sl__xobject(root, "", keys, err, errlen))
			return NULL;
		if (!json_object_object_get_ex(root, "experiments", &a))
			return sl__xerr(err, errlen, "experiments", "missing"), NULL;
	}
	if (!json_object_is_type(a, json_type_array))
		return sl__xerr(err, errlen, "experiments", "must be an array"), NULL;
	if (json_object_array_length(a) > SL_EXP_MAX_EXPERIMENTS)
		return sl__xerr(err, errlen, "experiments", "must have at most %d entries", SL_EXP_MAX_EXPERIMENTS), NULL;
	return a;
}

static int set_from_array(struct json_object *a, struct sl_experiment_set *s, char *err, size_t errlen)
{
	char p[SL__XPATH_CAP];
	size_t n = json_object_array_length(a);
	s->exps = calloc(n ? n : 1, sizeof(*s->exps));
	if (!s->exps)
		return SL_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		s->n = (unsigned)i + 1;
		sl__xpath(p, "experiments", NULL, (int)i);
		int rc = experiment_from_json(json_object_array_get_idx(a, i), p, &s->exps[i], err, errlen);
		for (size_t j = 0; !rc && j < i; j++)
			if (strcmp(s->exps[i].key, s->exps[j].key) == 0)
				rc = sl__xerr(err, errlen, p, "duplicate key '%s'", s->exps[i].key);
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
	int rc = sl__xparse(json, json ? strlen(json) : 0, &root, err, errlen);
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
