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
	v->nupstreams = cv->upstreams_count;
	v->upstreams = calloc(v->nupstreams ? v->nupstreams : 1, sizeof(*v->upstreams));
	if (!v->name || !v->upstream_model || !v->upstreams)
		return SL_ENOMEM;
	for (size_t i = 0; i < v->nupstreams; i++)
		if (sl_parse_url(cv->upstreams[i], &v->upstreams[i]))
			return SL_EINVAL; /* config validation already rejected this */
	return 0;
}

static int build_model(struct sl_route_model *m, const struct sl_cfg_model *cm)
{
	double total = 0;
	m->name = strdup(cm->name);
	m->seed = strdup(cm->hash_seed ? cm->hash_seed : cm->name);
	m->nversions = cm->versions_count;
	m->versions = calloc(m->nversions ? m->nversions : 1, sizeof(*m->versions));
	if (!m->name || !m->seed || !m->versions)
		return SL_ENOMEM;
	for (size_t i = 0; i < m->nversions; i++) {
		int rc = build_version(&m->versions[i], &cm->versions[i]);
		if (rc)
			return rc;
		total += cm->versions[i].weight;
	}
	double cumulative = 0;
	for (size_t i = 0; i < m->nversions; i++) {
		struct sl_route_version *v = &m->versions[i];
		v->index = i;
		v->weight = total > 0 ? cm->versions[i].weight / total : 0;
		v->lo = cumulative;
		cumulative += v->weight;
		v->hi = cumulative;
	}
	/* Close the last non-empty range at 1 so rounding never leaves a gap at the top. */
	for (size_t i = m->nversions; i-- > 0;)
		if (m->versions[i].weight > 0) {
			m->versions[i].hi = 1.0;
			break;
		}
	return 0;
}

struct sl_route_table *sl_route_table_new(const struct sl_config *cfg, unsigned long generation)
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
		if (build_model(&t->models[i], &cfg->models[i]))
			goto fail;
	return t;
fail:
	sl_route_table_free(t);
	return NULL;
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
