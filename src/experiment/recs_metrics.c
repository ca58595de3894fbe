/* recs_metrics.c: the live monitor's numbers: a window's accumulators turned into metrics
 * (ratios NaN when their denominator is 0), Gini of exposure over the catalog, accessors by
 * version and by name, and the interaction kind names.
 * Invariants: reading never changes the monitor; the closed window's metrics were computed
 * once when it closed (its item table is gone by then). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "recs-int.h"

static const char *const kind_names[SL_RECS_KIND_COUNT_] = {
    "impression", "click", "watch", "skip", "like", "dislike", "not_interested",
};

const char *sl_recs_kind_name(enum sl_recs_kind k)
{
	return (unsigned)k < SL_RECS_KIND_COUNT_ ? kind_names[k] : "unknown";
}

int sl_recs_kind_parse(const char *s, size_t n, enum sl_recs_kind *out)
{
	for (size_t i = 0; s && i < SL_RECS_KIND_COUNT_; i++)
		if (strlen(kind_names[i]) == n && memcmp(kind_names[i], s, n) == 0) {
			*out = (enum sl_recs_kind)i;
			return 0;
		}
	return SL_EINVAL;
}

static double ratio(double a, double b)
{
	return b > 0 ? a / b : NAN;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return (x > y) - (x < y);
}

/* Gini of exposure over a catalog of n items, those not in the table counted as 0 exposures:
 * sum_j (2 j - n - 1) x_(j) / (n sum x), x ascending, j from 1. */
static int gini(const struct recs_counts *c, double n, double *out)
{
	uint64_t *x = malloc((c->n ? c->n : 1) * sizeof *x);
	if (!x)
		return SL_ENOMEM;
	size_t k = 0;
	double total = 0;
	for (size_t i = 0; i < c->nslots; i++)
		if (c->keys[i])
			x[k++] = c->counts[i], total += (double)c->counts[i];
	qsort(x, k, sizeof *x, cmp_u64);
	if (n < (double)k)
		n = (double)k;
	double zeros = n - (double)k, s = 0;
	for (size_t j = 0; j < k; j++)
		s += (2 * (zeros + (double)j + 1) - n - 1) * (double)x[j];
	free(x);
	*out = total > 0 ? s / (n * total) : NAN;
	return 0;
}

static double satisfaction(const struct recs_win *w)
{
	const uint64_t *k = w->kinds;
	double pos = (double)(k[SL_RECS_LIKE] + w->long_watches);
	double neg = (double)(k[SL_RECS_DISLIKE] + k[SL_RECS_SKIP] + k[SL_RECS_NOT_INTERESTED]);
	double n = 0;
	for (size_t i = 0; i < SL_RECS_KIND_COUNT_; i++)
		n += i == SL_RECS_IMPRESSION ? 0 : (double)k[i];
	return ratio(pos - neg, n);
}

int sl__recs_win_metrics(const struct sl_recs_monitor *m, const struct recs_win *w, const struct recs_counts *items,
                         struct sl_recs_metrics *out)
{
	struct sl_recs_metrics r = {
	    .start = w->start,
	    .end = w->end,
	    .slates = w->slates,
	    .shown = w->shown,
	    .repeat_slates = w->repeat_slates,
	    .untracked = w->untracked,
	    .clicked = w->clicked,
	    .long_watches = w->long_watches,
	    .catalog = sl__recs_catalog(m),
	    .diversity = ratio(w->ild_sum, (double)w->ild_n),
	    .novelty = ratio(w->novelty_sum, (double)w->shown),
	    .repetition = ratio(w->jaccard_sum, (double)w->repeat_slates),
	    .reshown_ignored = ratio(w->reshown, (double)w->repeat_items),
	    .ctr = ratio((double)w->clicked, (double)w->shown),
	    .watch_s = w->watch_s,
	    .watch_per_item = ratio(w->watch_s, (double)w->shown),
	    .satisfaction = satisfaction(w),
	};
	memcpy(r.kinds, w->kinds, sizeof r.kinds);
	r.distinct = items->n;
	r.coverage = ratio((double)items->n, r.catalog);
	int rc = gini(items, r.catalog, &r.gini);
	if (rc)
		return rc;
	*out = r;
	return 0;
}

int sl_recs_metrics_get(const struct sl_recs_monitor *m, const char *version, enum sl_recs_which w,
                        struct sl_recs_metrics *out)
{
	if (!m || !out)
		return SL_EINVAL;
	const struct recs_version *v = sl__recs_version(m, version);
	if (!v || (w == SL_RECS_LAST && !v->has_last))
		return SL_ENOTFOUND;
	if (w == SL_RECS_LAST) {
		*out = v->last_m;
		return 0;
	}
	return sl__recs_win_metrics(m, &v->cur, &v->items, out);
}

size_t sl_recs_versions(const struct sl_recs_monitor *m, const char **names, size_t cap)
{
	for (size_t i = 0; i < m->n_ver && i < cap; i++)
		names[i] = m->ver[i]->name;
	return m->n_ver;
}

static const struct {
	const char *name;
	size_t off;
} fields[] = {
#define F(x)                                                                                                           \
	{                                                                                                              \
#x, offsetof(struct sl_recs_metrics, x)                                                                \
	}
    F(catalog), F(diversity), F(novelty),        F(coverage),     F(gini),  F(repetition), F(reshown_ignored),
    F(ctr),     F(watch_s),   F(watch_per_item), F(satisfaction), F(start), F(end),
#undef F
};

static const struct {
	const char *name;
	size_t off;
} counters[] = {
#define C(x)                                                                                                           \
	{                                                                                                              \
#x, offsetof(struct sl_recs_metrics, x)                                                                \
	}
    C(slates), C(shown), C(repeat_slates), C(distinct), C(untracked), C(clicked), C(long_watches),
#undef C
};

uint64_t sl_recs_windows(const struct sl_recs_monitor *m, const char *version)
{
	const struct recs_version *v = m ? sl__recs_version(m, version) : NULL;
	return v ? v->closed : 0;
}

bool sl_recs_metric_known(const char *name)
{
	for (size_t i = 0; name && i < sizeof fields / sizeof *fields; i++)
		if (strcmp(name, fields[i].name) == 0)
			return true;
	for (size_t i = 0; name && i < sizeof counters / sizeof *counters; i++)
		if (strcmp(name, counters[i].name) == 0)
			return true;
	for (size_t i = 0; name && i < SL_RECS_KIND_COUNT_; i++)
		if (strcmp(name, kind_names[i]) == 0)
			return true;
	return false;
}

/* "ctr.pos.N", "watch.pos.N", "ctr.source.NAME", "watch.source.NAME" from a window's cells. */
static int breakdown(const struct sl_recs_monitor *m, const struct recs_win *w, const char *name, double *out)
{
	bool ctr = strncmp(name, "ctr.", 4) == 0, watch = strncmp(name, "watch.", 6) == 0;
	const char *rest = name + (ctr ? 4 : 6);
	const struct recs_cell *c = NULL;
	uint64_t p;
	if (!ctr && !watch)
		return SL_ENOTFOUND;
	if (strncmp(rest, "pos.", 4) == 0 && sl_parse_u64(rest + 4, SL_RECS_MAX_SLATE, &p) == 0 && p >= 1 &&
	    p <= m->o.max_slate)
		c = &w->pos[p - 1];
	for (size_t i = 0; !c && strncmp(rest, "source.", 7) == 0 && i <= RECS_OTHER; i++)
		if (strcmp(rest + 7, i == RECS_OTHER ? "other" : m->sources[i]) == 0 &&
		    (i < m->n_sources || i == RECS_OTHER))
			c = &w->src[i];
	if (!c)
		return SL_ENOTFOUND;
	*out = ctr ? ratio((double)c->clicked, (double)c->shown) : ratio(c->watch_s, (double)c->shown);
	return 0;
}

static int by_kind(const struct sl_recs_metrics *r, const char *name, double *out)
{
	for (size_t i = 0; i < SL_RECS_KIND_COUNT_; i++)
		if (strcmp(name, kind_names[i]) == 0) {
			*out = (double)r->kinds[i];
			return 0;
		}
	return SL_ENOTFOUND;
}

int sl_recs_metric(const struct sl_recs_monitor *m, const char *version, enum sl_recs_which w, const char *name,
                   double *out)
{
	struct sl_recs_metrics r;
	if (!name || !out)
		return SL_EINVAL;
	int rc = sl_recs_metrics_get(m, version, w, &r);
	if (rc)
		return rc;
	for (size_t i = 0; i < sizeof fields / sizeof *fields; i++)
		if (strcmp(name, fields[i].name) == 0) {
			memcpy(out, (const char *)&r + fields[i].off, sizeof *out);
			return 0;
		}
	for (size_t i = 0; i < sizeof counters / sizeof *counters; i++)
		if (strcmp(name, counters[i].name) == 0) {
			uint64_t u;
			memcpy(&u, (const char *)&r + counters[i].off, sizeof u);
			*out = (double)u;
			return 0;
		}
	if (by_kind(&r, name, out) == 0)
		return 0;
	const struct recs_version *v = sl__recs_version(m, version);
	return breakdown(m, w == SL_RECS_LAST ? &v->last : &v->cur, name, out);
}
