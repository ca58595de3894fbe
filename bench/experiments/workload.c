/* workload.c: the experiments benchmark's seeded event stream (see workload.h for its order).
 * Shape: every unit has an activity a ~ lognormal(median 1, sigma 0.7); post-period events pick
 * their unit with probability proportional to a (heavy users do more), and a unit's view
 * seconds and purchase amounts scale with a, so the pre-period values (a view with probability
 * 0.35 a, a purchase with probability 0.05 a) correlate with the post-period ones and CUPED has
 * something to remove. Per variant (0 is the control): 1 clicks 4% more and pages load 3%
 * faster, 2 is an exact copy of the control (A/A: what it finds is noise), 3 purchases 5% more,
 * views 3% fewer pages for 3% longer and writes 10% fewer output tokens.
 * Invariants: no allocation is leaked on failure (wl_release is safe on a partial workload);
 * generation is not timed by the benchmark. */
#include "workload.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const wl_kind_names[WL_KINDS] = {"request", "click", "purchase", "view", "page_load", "message"};

/* Post-period kind probabilities per variant (message takes the rest). */
static const double kind_p[4][WL_MESSAGE] = {
    {0.24, 0.150, 0.0300, 0.2500, 0.003},
    {0.24, 0.156, 0.0300, 0.2500, 0.003},
    {0.24, 0.150, 0.0300, 0.2500, 0.003},
    {0.24, 0.150, 0.0315, 0.2425, 0.003},
};

double wl_cost(uint16_t in, uint16_t out)
{
	return (double)in * 1e-6 + (double)out * 3e-6;
}

void wl_release(struct workload *w)
{
	free(w->unit);
	free(w->kind);
	free(w->value);
	free(w->in_tok);
	free(w->out_tok);
	free(w->error);
	free(w->variant);
	free(w->ids);
	memset(w, 0, sizeof(*w));
}

static int alloc_arrays(struct workload *w, size_t n, uint32_t nunits)
{
	w->unit = malloc(n * sizeof(*w->unit));
	w->kind = malloc(n);
	w->value = malloc(n * sizeof(*w->value));
	w->in_tok = malloc(n * sizeof(*w->in_tok)); /* requests <= n */
	w->out_tok = malloc(n * sizeof(*w->out_tok));
	w->error = malloc(n);
	w->variant = malloc(nunits);
	w->ids = calloc(nunits, WL_ID_STRIDE);
	return w->unit && w->kind && w->value && w->in_tok && w->out_tok && w->error && w->variant && w->ids
	           ? 0
	           : SL_ENOMEM;
}

/* Ids, variants (through the experiment's own assignment) and activities with their CDF. */
static int units_init(struct workload *w, const struct sl_experiment *e, struct sl_rng *r, double *act, double *cdf)
{
	double total = 0;
	for (uint32_t u = 0; u < w->nunits; u++) {
		char *id = w->ids + (size_t)u * WL_ID_STRIDE;
		int v = -1;
		w->id_len = (size_t)snprintf(id, WL_ID_STRIDE, "u%07u", u);
		if (!sl_experiment_assign(e, sl_slice_make(id, w->id_len), e->start + 1, &v) || v < 0 || v > 3)
			return SL_EINVAL;
		w->variant[u] = (int8_t)v;
		act[u] = sl_rng_lognormal(r, 1, 0.7);
		total += act[u];
		cdf[u] = total;
	}
	for (uint32_t u = 0; u < w->nunits; u++)
		cdf[u] /= total;
	return 0;
}

static uint32_t pick_unit(const double *cdf, uint32_t nunits, double x)
{
	uint32_t lo = 0, hi = nunits - 1;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (cdf[mid] > x)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

static void put(struct workload *w, uint32_t u, enum wl_kind k, double value)
{
	w->unit[w->n] = u;
	w->kind[w->n] = (uint8_t)k;
	w->value[w->n] = value;
	w->n++;
}

static void put_request(struct workload *w, struct sl_rng *r, uint32_t u)
{
	int v = w->variant[u];
	w->in_tok[w->nreq] = (uint16_t)(100 + sl_rng_next(r) % 400);
	w->out_tok[w->nreq] = (uint16_t)(v == 3 ? 45 + sl_rng_next(r) % 270 : 50 + sl_rng_next(r) % 300);
	w->error[w->nreq] = sl_rng_double(r) < 0.02;
	w->nreq++;
	put(w, u, WL_REQUEST, sl_rng_lognormal(r, 800, 0.5));
}

static void pre_period(struct workload *w, struct sl_rng *r, const double *act)
{
	for (uint32_t u = 0; u < w->nunits; u++) {
		if (sl_rng_double(r) < fmin(1, 0.35 * act[u]))
			put(w, u, WL_VIEW, act[u] * sl_rng_lognormal(r, 30, 0.8));
		if (sl_rng_double(r) < fmin(1, 0.05 * act[u]))
			put(w, u, WL_PURCHASE, sqrt(act[u]) * sl_rng_lognormal(r, 25, 0.6));
	}
	w->npre = w->n;
}

/* Every unit's first request, in a random order (Fisher-Yates over the unit indexes). */
static void exposures(struct workload *w, struct sl_rng *r, uint32_t *perm)
{
	for (uint32_t u = 0; u < w->nunits; u++)
		perm[u] = u;
	for (uint32_t i = w->nunits - 1; i > 0; i--) {
		uint32_t j = (uint32_t)(sl_rng_next(r) % (i + 1)), t = perm[i];
		perm[i] = perm[j], perm[j] = t;
	}
	for (uint32_t i = 0; i < w->nunits; i++)
		put_request(w, r, perm[i]);
}

static void post_event(struct workload *w, struct sl_rng *r, const double *act, const double *cdf)
{
	uint32_t u = pick_unit(cdf, w->nunits, sl_rng_double(r));
	int v = w->variant[u];
	double x = sl_rng_double(r), acc = 0;
	int k = 0;
	while (k < WL_MESSAGE && x >= (acc += kind_p[v][k]))
		k++;
	switch (k) {
	case WL_REQUEST: put_request(w, r, u); break;
	case WL_CLICK: put(w, u, WL_CLICK, 1); break;
	case WL_PURCHASE: put(w, u, WL_PURCHASE, sqrt(act[u]) * sl_rng_lognormal(r, 25, 0.6)); break;
	case WL_VIEW: put(w, u, WL_VIEW, act[u] * sl_rng_lognormal(r, v == 3 ? 30.9 : 30, 0.8)); break;
	case WL_PAGE_LOAD: put(w, u, WL_PAGE_LOAD, sl_rng_lognormal(r, v == 1 ? 873 : 900, 0.4)); break;
	default: put(w, u, WL_MESSAGE, 1); break;
	}
}

static int write_array(const char *dir, const char *name, const void *p, size_t size, size_t n)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "wb");
	if (!f)
		return SL_EIO;
	size_t put = n ? fwrite(p, size, n, f) : 0;
	return fclose(f) == 0 && put == n ? 0 : SL_EIO;
}

static int write_meta(const struct workload *w, const struct sl_experiment *e, const char *dir)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/meta.json", dir);
	FILE *f = fopen(path, "w");
	if (!f)
		return SL_EIO;
	fprintf(f, "{\"events\": %zu, \"pre\": %zu, \"requests\": %zu, \"units\": %u, \"variants\": %u,\n \"kinds\": [",
	        w->n, w->npre, w->nreq, w->nunits, e->nvariants);
	for (int k = 0; k < WL_KINDS; k++)
		fprintf(f, "%s\"%s\"", k ? ", " : "", wl_kind_names[k]);
	fprintf(f, "],\n \"weights\": [");
	for (unsigned v = 0; v < e->nvariants; v++)
		fprintf(f, "%s%.17g", v ? ", " : "", e->variants[v].hi - e->variants[v].lo);
	fprintf(f, "]}\n");
	return fclose(f) == 0 ? 0 : SL_EIO;
}

int wl_write(const struct workload *w, const struct sl_experiment *e, const char *dir)
{
	int rc = write_array(dir, "unit.u32", w->unit, sizeof(*w->unit), w->n);
	rc = rc ? rc : write_array(dir, "kind.u8", w->kind, 1, w->n);
	rc = rc ? rc : write_array(dir, "value.f64", w->value, sizeof(*w->value), w->n);
	rc = rc ? rc : write_array(dir, "in_tok.u16", w->in_tok, sizeof(*w->in_tok), w->nreq);
	rc = rc ? rc : write_array(dir, "out_tok.u16", w->out_tok, sizeof(*w->out_tok), w->nreq);
	rc = rc ? rc : write_array(dir, "error.u8", w->error, 1, w->nreq);
	rc = rc ? rc : write_array(dir, "variant.i8", w->variant, 1, w->nunits);
	return rc ? rc : write_meta(w, e, dir);
}

int wl_generate(struct workload *w, const struct sl_experiment *e, size_t n, uint32_t nunits, uint64_t seed)
{
	struct sl_rng r;
	memset(w, 0, sizeof(*w));
	if (nunits < 2 || e->nvariants != 4 || n < (size_t)nunits * 3)
		return SL_EINVAL;
	w->nunits = nunits;
	double *act = malloc(nunits * sizeof(double)), *cdf = malloc(nunits * sizeof(double));
	uint32_t *perm = malloc(nunits * sizeof(uint32_t));
	int rc = act && cdf && perm ? alloc_arrays(w, n, nunits) : SL_ENOMEM;
	sl_rng_seed(&r, seed);
	if (!rc)
		rc = units_init(w, e, &r, act, cdf);
	if (!rc) {
		pre_period(w, &r, act);
		exposures(w, &r, perm);
		while (w->n < n)
			post_event(w, &r, act, cdf);
	}
	free(act);
	free(cdf);
	free(perm);
	return rc;
}
