/* agg.c: the aggregator: requests and business events -> per-unit values -> per-variant
 * sufficient statistics (and reservoirs for quantile metrics).
 * Invariants: see agg-int.h; a unit is exposed by its first request inside [start, stop) and
 * keeps that variant; before start only CUPED covariates are fed (and only when a metric uses
 * CUPED); after stop, and for units not exposed yet, observations are counted as ignored.
 * One thread owns an aggregator (no locks). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "agg-int.h"

static void add_target(struct sl__target *t, unsigned *n, unsigned metric, int role)
{
	t[*n].metric = (unsigned short)metric;
	t[*n].role = (unsigned char)role;
	(*n)++;
}

static void route_source(struct sl__xagg *x, const struct sl_exp_source *s, unsigned m, int role)
{
	if (!s->is_event) {
		add_target(x->req[s->field], &x->nreq[s->field], m, role);
		return;
	}
	size_t len = strlen(s->event);
	unsigned i = 0;
	while (i < x->nevents && strcmp(x->events[i].name, s->event) != 0)
		i++;
	if (i == x->nevents) {
		memcpy(x->events[i].name, s->event, len + 1);
		x->events[i].len = len;
		x->nevents++;
	}
	add_target(x->events[i].t, &x->events[i].n, m, role);
}

/* Record offsets, routes from sources to targets, reservoirs. */
static int xagg_init(struct sl__xagg *x, const struct sl_experiment *e)
{
	x->e = e;
	x->events = calloc(SL_EXP_MAX_METRICS * 2, sizeof(*x->events));
	if (!x->events)
		return SL_ENOMEM;
	for (unsigned m = 0; m < e->nmetrics; m++) {
		const struct sl_exp_metric *mt = &e->metrics[m];
		bool q = mt->kind == SL_EXP_QUANTILE;
		x->off[m][SL__ROLE_Y] = q ? -1 : (int)x->stride++;
		x->off[m][SL__ROLE_D] = mt->kind == SL_EXP_RATIO ? (int)x->stride++ : -1;
		x->off[m][SL__ROLE_X] = mt->cuped ? (int)x->stride++ : -1;
		x->any_cuped |= mt->cuped;
		route_source(x, &mt->source, m, SL__ROLE_Y);
		if (mt->kind == SL_EXP_RATIO)
			route_source(x, &mt->denominator, m, SL__ROLE_D);
		if (mt->cuped)
			route_source(x, &mt->source, m, SL__ROLE_X);
		if (q && !(x->res[m] = calloc(e->nvariants, sizeof(struct sl_reservoir))))
			return SL_ENOMEM;
		for (unsigned v = 0; q && v < e->nvariants; v++)
			if (sl_reservoir_init(&x->res[m][v], SL_EXP_RESERVOIR, 0x5eed0000u + m * 64 + v))
				return SL_ENOMEM;
	}
	return 0;
}

static void xagg_release(struct sl__xagg *x)
{
	for (unsigned m = 0; x->e && m < x->e->nmetrics; m++)
		for (unsigned v = 0; x->res[m] && v < x->e->nvariants; v++)
			sl_reservoir_release(&x->res[m][v]);
	for (unsigned m = 0; m < SL_EXP_MAX_METRICS; m++)
		free(x->res[m]);
	free(x->events);
	sl__units_release(x);
}

struct sl_exp_agg *sl_experiment_agg_new(const struct sl_experiment_set *set)
{
	struct sl_exp_agg *a = calloc(1, sizeof(*a));
	if (!a)
		return NULL;
	a->set = set;
	a->x = calloc(set->n ? set->n : 1, sizeof(*a->x));
	for (unsigned i = 0; a->x && i < set->n; i++)
		if (xagg_init(&a->x[i], &set->exps[i])) {
			sl_experiment_agg_free(a);
			return NULL;
		}
	if (!a->x) {
		free(a);
		return NULL;
	}
	return a;
}

void sl_experiment_agg_free(struct sl_exp_agg *a)
{
	if (!a)
		return;
	for (unsigned i = 0; a->x && i < a->set->n; i++)
		xagg_release(&a->x[i]);
	free(a->x);
	free(a);
}

/* Adds (sign +1) or removes (-1) a unit's whole contribution to metric m's sums. */
static void contrib(struct sl__xagg *x, unsigned m, const double *vals, struct sl__suff *s, double sign)
{
	const struct sl_exp_metric *mt = &x->e->metrics[m];
	double y = sl__unit_value(mt, SL__ROLE_Y, vals[x->off[m][SL__ROLE_Y]]);
	s->sum += sign * y;
	s->sum_sq += sign * y * y;
	if (x->off[m][SL__ROLE_D] >= 0) {
		double d = vals[x->off[m][SL__ROLE_D]];
		s->d_sum += sign * d;
		s->d_sum_sq += sign * d * d;
		s->yd_sum += sign * y * d;
	}
	if (x->off[m][SL__ROLE_X] >= 0) {
		double c = sl__unit_value(mt, SL__ROLE_X, vals[x->off[m][SL__ROLE_X]]);
		s->x_sum += sign * c;
		s->x_sum_sq += sign * c * c;
		s->yx_sum += sign * y * c;
	}
}

/* Applies the change of one role's per-unit value (old -> now) to the sums; d, y and c are the
 * unit's current denominator, value and covariate, for the cross-products. */
static void shift(struct sl__suff *s, int role, double old, double now, double d, double y, double c)
{
	double dv = now - old, dsq = now * now - old * old;
	switch (role) {
	case SL__ROLE_Y:
		s->sum += dv;
		s->sum_sq += dsq;
		s->yd_sum += dv * d;
		s->yx_sum += dv * c;
		break;
	case SL__ROLE_D:
		s->d_sum += dv;
		s->d_sum_sq += dsq;
		s->yd_sum += y * dv;
		break;
	default:
		s->x_sum += dv;
		s->x_sum_sq += dsq;
		s->yx_sum += y * dv;
	}
}

/* Adds value to the unit's slot of target t, keeping the sums exact when it is exposed. */
static void bump(struct sl__xagg *x, struct sl__unit *u, struct sl__target t, double value)
{
	const struct sl_exp_metric *mt = &x->e->metrics[t.metric];
	const int *off = x->off[t.metric];
	double *vals = u->vals;
	int v = (int)u->variant;
	double old = vals[off[t.role]];
	vals[off[t.role]] = old + value;
	if (v < 0)
		return;
	double before = sl__unit_value(mt, t.role, old), after = sl__unit_value(mt, t.role, old + value);
	if (before == after)
		return;
	double y = sl__unit_value(mt, SL__ROLE_Y, vals[off[SL__ROLE_Y]]);
	double d = off[SL__ROLE_D] >= 0 ? vals[off[SL__ROLE_D]] : 0;
	double c = off[SL__ROLE_X] >= 0 ? sl__unit_value(mt, SL__ROLE_X, vals[off[SL__ROLE_X]]) : 0;
	shift(&x->suff[t.metric][v], t.role, before, after, d, y, c);
}

static void expose(struct sl__xagg *x, struct sl__unit *u, int variant)
{
	const double *vals = u->vals;
	u->variant = variant;
	x->units[variant]++;
	x->counts.exposed++;
	for (unsigned m = 0; m < x->e->nmetrics; m++)
		if (x->off[m][SL__ROLE_Y] >= 0)
			contrib(x, m, vals, &x->suff[m][variant], +1);
}

static double field_value(const struct sl_exp_request_obs *o, enum sl_exp_field f)
{
	switch (f) {
	case SL_EXP_F_REQUESTS: return 1;
	case SL_EXP_F_LATENCY: return o->latency_ms;
	case SL_EXP_F_TTFT: return o->ttft_ms;
	case SL_EXP_F_INPUT_TOKENS: return o->input_tokens;
	case SL_EXP_F_OUTPUT_TOKENS: return o->output_tokens;
	case SL_EXP_F_TOKENS: return o->input_tokens + o->output_tokens;
	case SL_EXP_F_COST: return o->cost;
	case SL_EXP_F_ERROR: return o->error;
	case SL_EXP_F_REFUSAL: return o->refusal;
	case SL_EXP_F_COUNT_: break;
	}
	return 0;
}

/* Feeds n targets: pre-period ones only the covariates (X), exposed ones the rest. */
static void feed(struct sl__xagg *x, struct sl__unit *u, const struct sl__target *t, unsigned n, double value,
                 bool pre)
{
	int v = (int)u->variant;
	for (unsigned i = 0; i < n; i++) {
		if ((t[i].role == SL__ROLE_X) != pre)
			continue;
		if (x->off[t[i].metric][t[i].role] >= 0)
			bump(x, u, t[i], value);
		else if (v >= 0 && isfinite(value))
			sl_reservoir_add(&x->res[t[i].metric][v], value);
	}
}

static bool obs_ok(const struct sl_exp_request_obs *m)
{
	return m && isfinite(m->latency_ms) && isfinite(m->ttft_ms) && isfinite(m->input_tokens) &&
	       isfinite(m->output_tokens) && isfinite(m->cost);
}

static bool unit_ok(struct sl_slice unit)
{
	return unit.len > 0 && unit.len <= SL_EXP_UNIT_ID_MAX;
}

/* A validated request of the unit whose key is given. */
static int request_key(struct sl__xagg *x, int variant, uint64_t key, const struct sl_exp_request_obs *m,
                       double now)
{
	bool pre = now < x->e->start;
	if (!pre && (variant < 0 || (unsigned)variant >= x->e->nvariants))
		return SL_ERANGE;
	if ((pre && !x->any_cuped) || !(now < x->e->stop))
		return x->counts.ignored++, 0;
	struct sl__unit *u = sl__unit_find(x, key, true);
	if (!u)
		return 0;
	if (!pre && u->variant < 0)
		expose(x, u, variant);
	else if (!pre && u->variant != variant)
		x->counts.conflicts++;
	x->counts.requests++;
	for (int f = 0; f < SL_EXP_F_COUNT_; f++)
		if (x->nreq[f])
			feed(x, u, x->req[f], x->nreq[f], field_value(m, (enum sl_exp_field)f), pre);
	return 0;
}

int sl_experiment_agg_request(struct sl_exp_agg *agg, unsigned exp, int variant, struct sl_slice unit,
                              const struct sl_exp_request_obs *m, double now)
{
	if (!agg || exp >= agg->set->n || !obs_ok(m) || !unit_ok(unit))
		return SL_EINVAL;
	return request_key(&agg->x[exp], variant, sl__unit_hash(unit), m, now);
}

static const struct sl__event_route *event_route(const struct sl__xagg *x, struct sl_slice name)
{
	for (unsigned i = 0; i < x->nevents; i++)
		if (x->events[i].len == name.len && memcmp(x->events[i].name, name.ptr, name.len) == 0)
			return &x->events[i];
	return NULL;
}

static bool event_ok(struct sl_slice unit, struct sl_slice name, double value)
{
	return isfinite(value) && unit_ok(unit) && sl__name_ok(name.ptr, name.len);
}

/* A validated event of the unit whose key is given. */
static int event_key(struct sl__xagg *x, uint64_t key, struct sl_slice name, double value, double now)
{
	const struct sl__event_route *r = event_route(x, name);
	bool pre = now < x->e->start;
	if (!r || (pre && !x->any_cuped) || !(now < x->e->stop))
		return x->counts.ignored++, 0;
	struct sl__unit *u = sl__unit_find(x, key, pre);
	if (!u && pre)
		return 0; /* refused past max_units: counted as dropped */
	if (!u || (!pre && u->variant < 0)) {
		x->counts.ignored++; /* not exposed (yet) */
		return 0;
	}
	x->counts.events++;
	feed(x, u, r->t, r->n, value, pre);
	return 0;
}

int sl_experiment_agg_event(struct sl_exp_agg *agg, unsigned exp, struct sl_slice unit, struct sl_slice name,
                            double value, double now)
{
	if (!agg || exp >= agg->set->n || !event_ok(unit, name, value))
		return SL_EINVAL;
	return event_key(&agg->x[exp], sl__unit_hash(unit), name, value, now);
}

static bool item_ok(const struct sl_exp_agg_item *it)
{
	return it->request ? obs_ok(it->request) && unit_ok(it->unit) : event_ok(it->unit, it->name, it->value);
}

static int item_feed(struct sl__xagg *x, const struct sl_exp_agg_item *it, uint64_t key)
{
	if (!key)
		return SL_EINVAL;
	return it->request ? request_key(x, it->variant, key, it->request, it->now)
	                   : event_key(x, key, it->name, it->value, it->now);
}

/* How far ahead of the item being fed its successors are hashed and their slots prefetched. */
#define AHEAD 8

int sl_experiment_agg_batch(struct sl_exp_agg *agg, unsigned exp, const struct sl_exp_agg_item *items, size_t n,
                            size_t *accepted)
{
	if (!agg || exp >= agg->set->n || (n && !items) || !accepted)
		return SL_EINVAL;
	struct sl__xagg *x = &agg->x[exp];
	uint64_t keys[AHEAD]; /* 0: the item is invalid */
	*accepted = 0;
	for (size_t i = 0; i < n + AHEAD; i++) {
		if (i >= AHEAD && item_feed(x, &items[i - AHEAD], keys[i % AHEAD]) == 0)
			(*accepted)++; /* item i - AHEAD, whose key is in the slot item i takes next */
		if (i + AHEAD < n)
			__builtin_prefetch(items[i + AHEAD].unit.ptr); /* the id, before it is hashed */
		if (i < n) {
			keys[i % AHEAD] = item_ok(&items[i]) ? sl__unit_hash(items[i].unit) : 0;
			sl__unit_prefetch(x, keys[i % AHEAD]);
		}
	}
	return 0;
}

static const char *event_unit(const struct sl_experiment *e, const struct sl_exp_event *ev)
{
	switch (e->unit) {
	case SL_EXP_UNIT_USER: return ev->user;
	case SL_EXP_UNIT_SESSION: return ev->session;
	case SL_EXP_UNIT_REQUEST: return ev->request_id;
	}
	return "";
}

int sl_experiment_agg_dispatch(struct sl_exp_agg *agg, const struct sl_exp_event *ev, double now)
{
	if (!agg || !ev)
		return SL_EINVAL;
	struct sl_slice name = sl_slice_cstr(ev->name);
	double t = isnan(ev->timestamp) ? now : ev->timestamp;
	int fed = 0;
	for (unsigned i = 0; i < agg->set->n; i++) {
		const char *id = event_unit(&agg->set->exps[i], ev);
		if (!id[0] || !event_route(&agg->x[i], name))
			continue;
		if (sl_experiment_agg_event(agg, i, sl_slice_cstr(id), name, ev->value, t) == 0)
			fed++;
	}
	return fed;
}

int sl_experiment_agg_counts(const struct sl_exp_agg *agg, unsigned exp, struct sl_exp_agg_counts *out)
{
	if (!agg || exp >= agg->set->n)
		return SL_EINVAL;
	*out = agg->x[exp].counts;
	return 0;
}
