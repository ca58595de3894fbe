/* agg-int.h: the aggregator's layout, shared by agg.c, agg_units.c and report.c.
 * Invariants: one xagg per experiment of the set, same order; a unit's values live in its
 * record, stored inline in the open-addressing table (struct sl__unit: key, variant, `stride`
 * doubles: per metric the source sum, the denominator sum for a ratio, the pre-period covariate
 * for CUPED; -1 offsets are absent); suff[m][v] always equals the sums over
 * the exposed units of variant v of the metric's per-unit values, kept exact by removing a
 * unit's old contribution and adding its new one on every change. */
#ifndef SLUICE_EXPERIMENT_AGG_INT_H
#define SLUICE_EXPERIMENT_AGG_INT_H

#include "experiment-int.h"
#include "sluice/stats.h"

/* Sums over exposed units of one metric in one variant: y (value), d (ratio denominator),
 * x (CUPED covariate). Names follow struct sl_ab_stat. */
struct sl__suff {
	double sum, sum_sq, d_sum, d_sum_sq, yd_sum, x_sum, x_sum_sq, yx_sum;
};

/* Where one source lands: metric m's slot of a role. */
enum sl__role { SL__ROLE_Y, SL__ROLE_D, SL__ROLE_X };
struct sl__target {
	unsigned short metric;
	unsigned char role;
};

struct sl__event_route { /* the targets of one distinct event name */
	char name[SL_EXP_NAME_CAP];
	size_t len;
	unsigned n;
	struct sl__target t[SL_EXP_MAX_METRICS * 3];
};

/* One slot of the units table: the unit's record, inline (one cache miss per observation).
 * A slot is slot_bytes = sizeof(struct sl__unit) + 8 stride bytes. */
struct sl__unit {
	uint64_t key;    /* 64-bit hash of the unit id; 0 = empty slot */
	int64_t variant; /* -1 = not exposed */
	double vals[];   /* stride doubles */
};

struct sl__xagg {
	const struct sl_experiment *e;
	int off[SL_EXP_MAX_METRICS][3]; /* offset of each role's value in a record, or -1 */
	unsigned stride;
	bool any_cuped;
	/* request fields -> targets */
	unsigned nreq[SL_EXP_F_COUNT_];
	struct sl__target req[SL_EXP_F_COUNT_][SL_EXP_MAX_METRICS * 3];
	struct sl__event_route *events;
	unsigned nevents;
	/* units: open addressing (linear probing) with the records inline */
	unsigned char *table; /* cap slots of slot_bytes */
	size_t cap, slot_bytes, cap_limit;
	uint32_t nrec;
	/* results */
	uint64_t units[SL_EXP_MAX_VARIANTS];
	struct sl__suff suff[SL_EXP_MAX_METRICS][SL_EXP_MAX_VARIANTS];
	struct sl_reservoir *res[SL_EXP_MAX_METRICS]; /* quantile metrics: one per variant */
	struct sl_exp_agg_counts counts;
};

struct sl_exp_agg {
	const struct sl_experiment_set *set;
	struct sl__xagg *x;
};

/* agg_units.c: the 64-bit key of a unit id (never 0); the record of key (created when create
 * is set and the bound allows), or NULL (absent, or refused past max_units: counts.dropped is
 * then incremented); a record stays valid until the next call that may create one. */
uint64_t sl__unit_hash(struct sl_slice unit);
struct sl__unit *sl__unit_find(struct sl__xagg *x, uint64_t key, bool create);
/* Hints the cache to fetch key's home slot (no effect on the results). */
void sl__unit_prefetch(const struct sl__xagg *x, uint64_t key);
void sl__units_release(struct sl__xagg *x);

/* The per-unit value of a metric's role from its raw sum (proportion: any, else the sum). */
static inline double sl__unit_value(const struct sl_exp_metric *m, int role, double raw)
{
	return role != SL__ROLE_D && m->kind == SL_EXP_PROPORTION ? (raw > 0) : raw;
}

#endif
