/* detector_ddm.c: DDM, the Drift Detection Method of Gama et al. (2004), a port of River's
 * drift.binary.DDM: p_i is the error rate of the values since the last reset and
 * s_i = sqrt(p_i (1 - p_i) / i); after warm_start values the pair with the smallest p + s is
 * kept (ties move it: River's <=), warning when p_i + s_i > p_min + warning_threshold s_min,
 * drift when p_i + s_i > p_min + drift_threshold s_min (drift clears the warning).
 * Invariants: input in [0, 1] (1 = error), others rejected; the warning flag keeps its value
 * through the warm-up (false after a reset), as River's does; arithmetic is River's. */
#include "detector-int.h"

struct ddm {
	struct sl_ddm_params p;
	struct det_mean rate;
	double p_min, s_min, ps_min;
	bool drift, warning;
};

static int ddm_check(const struct sl_ddm_params *p)
{
	if (!(p->warning_threshold > 0 && isfinite(p->warning_threshold)))
		return SL_EINVAL;
	if (!(p->drift_threshold > 0 && isfinite(p->drift_threshold)))
		return SL_EINVAL;
	return 0;
}

static size_t ddm_size(const struct sl_detector_params *p)
{
	struct sl_detector_params def;
	return ddm_check(&det_params(p, &def)->ddm) ? 0 : sizeof(struct ddm);
}

static void ddm_clear(struct ddm *d)
{
	d->rate = (struct det_mean){0, 0};
	d->p_min = INFINITY, d->s_min = INFINITY, d->ps_min = INFINITY;
	d->drift = false, d->warning = false;
}

static int ddm_init(void *self, const struct sl_detector_params *p)
{
	struct sl_detector_params def;
	const struct sl_ddm_params *dp = &det_params(p, &def)->ddm;
	struct ddm *d = self;
	if (ddm_check(dp))
		return SL_EINVAL;
	d->p = *dp;
	ddm_clear(d);
	return 0;
}

static inline double ddm_s(const struct ddm *d)
{
	double p = d->rate.mean;
	return sqrt(p * (1 - p) / d->rate.n);
}

static void ddm_test(struct ddm *d, double p, double s)
{
	if (p + s <= d->ps_min) {
		d->p_min = p, d->s_min = s;
		d->ps_min = d->p_min + d->s_min;
	}
	d->warning = p + s > d->p_min + d->p.warning_threshold * d->s_min;
	if (p + s > d->p_min + d->p.drift_threshold * d->s_min)
		d->drift = true, d->warning = false;
}

static int ddm_update(void *self, double x, struct sl_detector_state *out)
{
	struct ddm *d = self;
	if (!(x >= 0 && x <= 1))
		return det_reject(out);
	if (d->drift)
		ddm_clear(d);
	det_mean_add(&d->rate, x);
	if (d->rate.n > d->p.warm_start)
		ddm_test(d, d->rate.mean, ddm_s(d));
	out->drift = d->drift, out->warning = d->warning;
	return 0;
}

static void ddm_reset(void *self)
{
	ddm_clear(self);
}

static void ddm_summary(const void *self, struct sl_detector_summary *s)
{
	const struct ddm *d = self;
	double thr = d->p_min + d->p.drift_threshold * d->s_min;
	*s = (struct sl_detector_summary){
	    .estimation = d->rate.mean,
	    .n = d->rate.n,
	    .statistic = d->rate.n > 0 ? d->rate.mean + ddm_s(d) : NAN,
	    .threshold = isfinite(thr) ? thr : NAN,
	    .drift = d->drift,
	    .warning = d->warning,
	};
}

const struct sl_detector_ops sl_detector_ddm = {
    .name = "ddm",
    .size = ddm_size,
    .init = ddm_init,
    .update = ddm_update,
    .reset = ddm_reset,
    .summary = ddm_summary,
};
