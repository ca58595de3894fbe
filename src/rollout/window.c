/* window.c: what the judge sees of a rollout: per check, per stratum (one stage: shadow or a
 * canary step) and per side, a seeded uniform reservoir of values (value checks) or
 * event/trial counts (rate checks), and request counts.
 * Memory: 2 x cap x 8 bytes per value check per stratum, allocated by sl_window_init for every
 * stage the spec can judge and never grown; rate checks and counters are fixed-size.
 * Invariants: m[i].kind == spec.checks[i].kind; events <= trials; reservoirs hold only finite
 * values; 1 <= nstrata <= maxstrata; s[nstrata-1] is the current stage; a reset never
 * allocates (it opens the next allocated stratum, or rotates the oldest one to the end) and
 * reseeds the new stratum from (seed, metric, side, reset count). */
#include <math.h>
#include <string.h>

#include "sluice/rollout.h"

static uint64_t mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

static uint64_t seed_of(const struct sl_window *w, unsigned metric, int side)
{
	return mix(w->seed ^ mix(((uint64_t)metric << 1 | (uint64_t)side) + (w->resets << 8)));
}

void sl_window_release(struct sl_window *w)
{
	for (unsigned i = 0; i < w->nmetrics && i < SL_ROLLOUT_MAX_CHECKS; i++)
		for (unsigned k = 0; k < SL_WINDOW_MAX_STRATA; k++)
			for (int s = 0; s < 2; s++)
				if (w->m[i].kind == SL_METRIC_VALUE)
					sl_reservoir_release(&w->m[i].s[k].values[s]);
	w->nmetrics = 0;
}

static int init_metric(struct sl_window *w, unsigned i)
{
	for (unsigned k = 0; w->m[i].kind == SL_METRIC_VALUE && k < w->maxstrata; k++)
		for (int s = 0; s < 2; s++) {
			int rc = sl_reservoir_init(&w->m[i].s[k].values[s], w->cap, seed_of(w, i, s));
			if (rc)
				return rc;
		}
	return 0;
}

int sl_window_init(struct sl_window *w, const struct sl_rollout_spec *spec, size_t cap, uint64_t seed)
{
	memset(w, 0, sizeof(*w));
	if (!spec || spec->nchecks > SL_ROLLOUT_MAX_CHECKS || cap > SL_WINDOW_CAP_MAX)
		return SL_EINVAL;
	w->cap = cap ? cap : SL_WINDOW_CAP_DEFAULT;
	w->seed = seed;
	w->maxstrata = sl_rollout_spec_stages(spec);
	w->nstrata = 1;
	for (unsigned i = 0; i < spec->nchecks; i++) {
		w->m[i].kind = spec->checks[i].kind;
		w->nmetrics = i + 1;
		int rc = init_metric(w, i);
		if (rc) { /* reservoirs not yet initialized are zeroed: releasing them is a no-op */
			sl_window_release(w);
			return rc;
		}
	}
	return 0;
}

/* Drops stratum 0 of every metric; its (emptied) memory becomes the last stratum. */
static void drop_oldest(struct sl_window *w)
{
	for (unsigned i = 0; i < w->nmetrics; i++) {
		struct sl_window_metric *m = &w->m[i];
		struct sl_window_stratum first = m->s[0];
		memmove(&m->s[0], &m->s[1], (w->maxstrata - 1) * sizeof(m->s[0]));
		m->s[w->maxstrata - 1] = first;
	}
	w->nstrata--;
}

int sl_window_reset(struct sl_window *w)
{
	if (w->nstrata == w->maxstrata)
		drop_oldest(w);
	w->nstrata++;
	w->resets++;
	w->requests[0] = w->requests[1] = 0;
	for (unsigned i = 0; i < w->nmetrics; i++) {
		struct sl_window_stratum *st = sl_window_current(w, i);
		for (int s = 0; s < 2; s++) {
			st->events[s] = st->trials[s] = 0;
			if (w->m[i].kind == SL_METRIC_VALUE)
				sl_reservoir_reset(&st->values[s], seed_of(w, i, s));
		}
	}
	return 0;
}

struct sl_window_stratum *sl_window_current(struct sl_window *w, unsigned metric)
{
	return &w->m[metric].s[w->nstrata - 1];
}

static bool side_ok(enum sl_side side)
{
	return side == SL_STABLE || side == SL_CANDIDATE;
}

int sl_window_add_request(struct sl_window *w, enum sl_side side)
{
	if (!side_ok(side))
		return SL_EINVAL;
	w->requests[side]++;
	return 0;
}

int sl_window_add_value(struct sl_window *w, enum sl_side side, unsigned metric, double value)
{
	if (!side_ok(side) || metric >= w->nmetrics || w->m[metric].kind != SL_METRIC_VALUE || !isfinite(value))
		return SL_EINVAL;
	sl_reservoir_add(&sl_window_current(w, metric)->values[side], value);
	return 0;
}

int sl_window_add_rate(struct sl_window *w, enum sl_side side, unsigned metric, uint64_t events, uint64_t trials)
{
	if (!side_ok(side) || metric >= w->nmetrics || w->m[metric].kind != SL_METRIC_RATE || events > trials)
		return SL_EINVAL;
	struct sl_window_stratum *st = sl_window_current(w, metric);
	if (trials > INT64_MAX - st->trials[side])
		return SL_ERANGE;
	st->events[side] += events;
	st->trials[side] += trials;
	return 0;
}
