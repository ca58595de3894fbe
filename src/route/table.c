/* table.c: route tables built from a config, and the per-request version choice.
 * Sticky choice: GrowthBook v2 hash of (model seed, key) into cumulative weight ranges in
 * config order. The last version's range is [1 - w, 1): raising its weight only widens it
 * downward, so no user ever leaves it (a canary ramp never flips a user back). With more than
 * two versions, users may shift between the earlier ones as their ranges shrink, as in GrowthBook. */
#include <stdlib.h>
#include <string.h>

#include "sluice/route.h"

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

static int build_version(struct sl_route_version *v, const struct sl_cfg_version *cv)
{
	v->name = strdup(cv->name);
	v->upstream_model = strdup(cv->upstream_model ? cv->upstream_model : cv->name);
	v->api_key = cv->api_key_env ? dup_or_null(getenv(cv->api_key_env)) : NULL;
	v->price_in = cv->price ? cv->price->input_per_mtok : 0;
	v->price_out = cv->price ? cv->price->output_per_mtok : 0;
	v->nupstreams = cv->upstreams_count;
	v->upstreams = calloc(v->nupstreams ? v->nupstreams : 1, sizeof(*v->upstreams));
	if (!v->name || !v->upstream_model || !v->upstreams)
		return SL_ENOMEM;
	for (size_t i = 0; i < v->nupstreams; i++)
		if (sl_parse_url(cv->upstreams[i], &v->upstreams[i]))
			return SL_EINVAL; /* config validation already rejected this */
	return 0;
}

static const struct sl_route_override *find_override(const struct sl_route_override *ov, size_t nov,
						     const char *model)
{
	for (size_t i = 0; i < nov; i++)
		if (strcmp(ov[i].model, model) == 0)
			return &ov[i];
	return NULL;
}

static long version_index(const struct sl_cfg_model *cm, const char *name)
{
	for (unsigned i = 0; name && i < cm->versions_count; i++)
		if (strcmp(cm->versions[i].name, name) == 0)
			return (long)i;
	return -1;
}

/* Weights and bucket order of a model: config weights in config order, or, under an override,
 * stable 1 - share and candidate share, laid out last (stable, then candidate) so the
 * candidate's range is [1 - share, 1) and growing it only moves users from stable. */
static void plan(const struct sl_cfg_model *cm, const struct sl_route_override *o, double *w, size_t *order)
{
	long st = o ? version_index(cm, o->stable) : -1, ca = o ? version_index(cm, o->candidate) : -1;
	size_t n = 0;
	for (size_t i = 0; i < cm->versions_count; i++) {
		w[i] = st < 0 ? cm->versions[i].weight : (long)i == st ? 1.0 - (ca >= 0 ? o->share : 0)
						       : (long)i == ca ? o->share
								       : 0;
		if ((long)i != st && (long)i != ca)
			order[n++] = i;
	}
	if (st >= 0)
		order[n++] = (size_t)st;
	if (ca >= 0)
		order[n++] = (size_t)ca;
}

static void layout(struct sl_route_model *m, const double *w, const size_t *order)
{
	double total = 0, cumulative = 0;
	for (size_t i = 0; i < m->nversions; i++)
		total += w[i];
	struct sl_route_version *last = NULL;
	for (size_t k = 0; k < m->nversions; k++) {
		struct sl_route_version *v = &m->versions[order[k]];
		v->weight = total > 0 ? w[order[k]] / total : 0;
		v->lo = cumulative;
		cumulative += v->weight;
		v->hi = cumulative;
		if (v->weight > 0)
			last = v;
	}
	if (last) /* rounding never leaves a gap at the top */
		last->hi = 1.0;
}

static int build_model(struct sl_route_model *m, const struct sl_cfg_model *cm, const struct sl_route_override *o)
{
	m->name = strdup(cm->name);
	m->seed = strdup(cm->hash_seed ? cm->hash_seed : cm->name);
	m->nversions = cm->versions_count;
	m->versions = calloc(m->nversions ? m->nversions : 1, sizeof(*m->versions));
	double *w = calloc(m->nversions + 1, sizeof(*w));
	size_t *order = calloc(m->nversions + 1, sizeof(*order));
	int rc = (!m->name || !m->seed || !m->versions || !w || !order) ? SL_ENOMEM : 0;
	for (size_t i = 0; !rc && i < m->nversions; i++) {
		rc = build_version(&m->versions[i], &cm->versions[i]);
		m->versions[i].index = i;
	}
	if (!rc) {
		plan(cm, o, w, order);
		layout(m, w, order);
		long ca = o ? version_index(cm, o->candidate) : -1;
		m->shadow = ca >= 0 && o->shadow_share > 0 ? &m->versions[ca] : NULL;
		m->shadow_share = m->shadow ? o->shadow_share : 0;
		m->overridden = o && version_index(cm, o->stable) >= 0;
	}
	free(w);
	free(order);
	return rc;
}

struct sl_route_table *sl_route_table_build(const struct sl_config *cfg, const struct sl_route_override *ov,
					    size_t nov, unsigned long generation)
{
	struct sl_route_table *t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->generation = generation;
	t->nmodels = cfg->models_count;
	t->models = calloc(t->nmodels ? t->nmodels : 1, sizeof(*t->models));
	if (!t->models)
		goto fail;
	for (size_t i = 0; i < t->nmodels; i++)
		if (build_model(&t->models[i], &cfg->models[i], find_override(ov, nov, cfg->models[i].name)))
			goto fail;
	return t;
fail:
	sl_route_table_free(t);
	return NULL;
}

struct sl_route_table *sl_route_table_new(const struct sl_config *cfg, unsigned long generation)
{
	return sl_route_table_build(cfg, NULL, 0, generation);
}

void sl_route_table_free(struct sl_route_table *t)
{
	if (!t)
		return;
	for (size_t i = 0; t->models && i < t->nmodels; i++) {
		struct sl_route_model *m = &t->models[i];
		for (size_t j = 0; m->versions && j < m->nversions; j++) {
			struct sl_route_version *v = &m->versions[j];
			free(v->name);
			free(v->upstream_model);
			free(v->api_key);
			free(v->upstreams);
		}
		free(m->versions);
		free(m->name);
		free(m->seed);
	}
	free(t->models);
	free(t);
}

const struct sl_route_model *sl_route_find(const struct sl_route_table *t, struct sl_slice name)
{
	for (size_t i = 0; i < t->nmodels; i++)
		if (sl_slice_eq(name, t->models[i].name))
			return &t->models[i];
	return NULL;
}

struct sl_route_version *sl_route_pick(const struct sl_route_model *m, struct sl_slice key, struct sl_rng *rng)
{
	double x = key.len > 0 ? sl_gb_hash(sl_slice_cstr(m->seed), key, 2) : sl_rng_double(rng);
	for (size_t i = 0; i < m->nversions; i++)
		if (x >= m->versions[i].lo && x < m->versions[i].hi)
			return &m->versions[i];
	return NULL; /* only when every weight is zero */
}

const struct sl_url *sl_route_next_upstream(struct sl_route_version *v, size_t *idx)
{
	size_t i = v->cursor++ % v->nupstreams;
	if (idx)
		*idx = i;
	return &v->upstreams[i];
}
