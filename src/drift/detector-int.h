/* detector-int.h: what the drift detectors share: River's running mean, done with River's exact
 * arithmetic, and the switch that keeps the compiler from fusing a*b+c into one fma.
 * Invariant: every detector file includes this header first, so that its floating-point
 * expressions round exactly as River's Python/Rust ones do (each operation rounded, left to
 * right); results then match River bit for bit, and detection indices exactly. */
#ifndef SLUICE_DRIFT_DETECTOR_INT_H
#define SLUICE_DRIFT_DETECTOR_INT_H

#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif

#include <math.h>
#include <string.h>

#include "sluice/detector.h"

/* River's stats.Mean: n += 1; mean += (1 / n) * (x - mean). */
struct det_mean {
	double n, mean;
};

static inline void det_mean_add(struct det_mean *m, double x)
{
	m->n += 1.0;
	m->mean += (1.0 / m->n) * (x - m->mean);
}

static inline const struct sl_detector_params *det_params(const struct sl_detector_params *p,
                                                          struct sl_detector_params *def)
{
	if (p)
		return p;
	sl_detector_params_default(def);
	return def;
}

static inline int det_reject(struct sl_detector_state *out)
{
	out->drift = false, out->warning = false;
	return SL_EINVAL;
}

static inline bool det_mode_ok(enum sl_detector_mode m)
{
	return m == SL_DETECT_BOTH || m == SL_DETECT_UP || m == SL_DETECT_DOWN;
}

#endif
