/* assign.c: which variant a unit gets, exactly as GrowthBook's SDKs run an experiment
 * (sdk-js `_run`): filters (the holdout) before the namespace, which they replace, then the
 * hash of seed and unit id (hash_version) chosen into the variants' bucket ranges.
 * Invariants: pure and deterministic; an empty id or one longer than SL_EXP_UNIT_ID_MAX is
 * never assigned; the time window is [start, stop). */
#include <math.h>

#include "sluice/experiment.h"
#include "sluice/route.h"

static bool in_filter(const struct sl_exp_filter *f, struct sl_slice unit)
{
	double x = sl_gb_hash(sl_slice_cstr(f->seed), unit, f->hash_version);
	for (unsigned i = 0; x >= 0 && i < f->nranges; i++)
		if (x >= f->ranges[i][0] && x < f->ranges[i][1])
			return true;
	return false;
}

/* GrowthBook: with filters, every filter must hold and the namespace is not consulted. */
static bool included(const struct sl_experiment *e, struct sl_slice unit)
{
	if (e->nfilters) {
		for (unsigned i = 0; i < e->nfilters; i++)
			if (!in_filter(&e->filters[i], unit))
				return false;
		return true;
	}
	return !e->has_namespace || sl_gb_in_namespace(unit, sl_slice_cstr(e->ns_id), e->ns_lo, e->ns_hi);
}

bool sl_experiment_bucket(const struct sl_experiment *e, struct sl_slice unit_id, int *variant)
{
	double ranges[SL_EXP_MAX_VARIANTS][2];
	if (unit_id.len == 0 || unit_id.len > SL_EXP_UNIT_ID_MAX || e->nvariants < 2 || !included(e, unit_id))
		return false;
	double x = sl_gb_hash(sl_slice_cstr(e->seed), unit_id, e->hash_version);
	if (x < 0)
		return false;
	for (unsigned i = 0; i < e->nvariants; i++) {
		ranges[i][0] = e->variants[i].lo;
		ranges[i][1] = e->variants[i].hi;
	}
	int v = sl_gb_choose(x, (const double(*)[2])ranges, (int)e->nvariants);
	if (v < 0)
		return false;
	*variant = v;
	return true;
}

bool sl_experiment_assign(const struct sl_experiment *e, struct sl_slice unit_id, double now, int *variant)
{
	if (!(now >= e->start && now < e->stop))
		return false;
	return sl_experiment_bucket(e, unit_id, variant);
}
