/* workload.h: the experiments benchmark's synthetic event stream (bench/experiments/workload.c),
 * shared by bench_experiments (main.c) and, through the files it writes, bench/experiments.py.
 * Invariants: the stream is a pure function of (events, units, seed, the experiment's
 * assignment); events [0, npre) are pre-period (before the experiment's start: CUPED
 * covariates), events [npre, npre + units) are every unit's first request (its exposure) in a
 * random order, and the rest come after; so a post-period event never precedes its unit's
 * exposure and the NumPy side needs no ordering logic to agree with the aggregator. */
#ifndef SLUICE_BENCH_EXPERIMENTS_WORKLOAD_H
#define SLUICE_BENCH_EXPERIMENTS_WORKLOAD_H

#include <stddef.h>
#include <stdint.h>

#include "sluice/experiment.h"

/* Event kinds; a request's value is its latency in ms, the others' their event value. */
enum wl_kind { WL_REQUEST, WL_CLICK, WL_PURCHASE, WL_VIEW, WL_PAGE_LOAD, WL_MESSAGE, WL_KINDS };
extern const char *const wl_kind_names[WL_KINDS]; /* "request", then the event names */

#define WL_ID_STRIDE 16 /* unit ids "u%07u", NUL-padded */

struct workload {
	size_t n, npre, nreq; /* events, pre-period events, requests (exposures included) */
	uint32_t nunits;
	uint32_t *unit;      /* per event: the unit's index */
	uint8_t *kind;       /* per event: enum wl_kind */
	double *value;       /* per event */
	uint16_t *in_tok;    /* per request, in stream order */
	uint16_t *out_tok;   /* per request */
	uint8_t *error;      /* per request: 0 or 1 */
	int8_t *variant;     /* per unit: sl_experiment_assign's variant */
	char *ids;           /* per unit: WL_ID_STRIDE bytes */
	size_t id_len;       /* every id's length */
};

/* Draws n events over nunits units of experiment e (every unit must be assigned: coverage 1,
 * no filters), start being e's start. 0, or SL_ENOMEM / SL_EINVAL (n too small, a unit not
 * assigned). */
int wl_generate(struct workload *w, const struct sl_experiment *e, size_t n, uint32_t nunits, uint64_t seed);
void wl_release(struct workload *w);
/* A request's cost: the same expression bench/experiments.py evaluates. */
double wl_cost(uint16_t in, uint16_t out);
/* Writes the columns as raw little-endian arrays plus meta.json into dir (which must exist):
 * unit.u32 kind.u8 value.f64 in_tok.u16 out_tok.u16 error.u8 variant.i8; meta.json has the counts,
 * the kind names and the variants' weights (bucket range widths). */
int wl_write(const struct workload *w, const struct sl_experiment *e, const char *dir);

#endif
