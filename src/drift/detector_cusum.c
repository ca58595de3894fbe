/* detector_cusum.c: the tabular two-sided CUSUM (Page 1954; Montgomery, Introduction to
 * Statistical Quality Control, 9.1), a port of River's drift.CUSUM: the first min_instances
 * values estimate the reference mean mu0 and the sample standard deviation sigma (River's
 * stats.Mean and stats.Var, ddof = 1), which then stay frozen; from the min_instances-th value
 * on, with k = slack sigma and h = threshold sigma,
 *   S+ = max(0, S+ + (x - mu0) - k),  S- = max(0, S- - (x - mu0) - k),
 * and drift once a watched sum exceeds h.
 * Invariants: the sums are >= 0 and stay 0 until the reference exists; sigma is taken as
 * pow(var, 0.5) like Python's `** 0.5`; arithmetic is River's, operation by operation. */
#include "detector-int.h"

struct cusum {
	struct sl_cusum_params p;
	struct det_mean mean;
	double ss; /* River's Var._S: sum of (x - old mean)(x - new mean) */
	double reference, sigma;
	double up, down;
	bool has_reference, drift;
};

static int cusum_check(const struct sl_cusum_params *p)
{
	if (p->min_instances < 1 || !(p->slack >= 0 && isfinite(p->slack)))
		return SL_EINVAL;
	if (!(p->threshold > 0 && isfinite(p->threshold)) || !det_mode_ok(p->mode))
		return SL_EINVAL;
	return 0;
}

static size_t cusum_size(const struct sl_detector_params *p)
{
	struct sl_detector_params def;
	return cusum_check(&det_params(p, &def)->cusum) ? 0 : sizeof(struct cusum);
}

static void cusum_clear(struct cusum *c)
{
	c->mean = (struct det_mean){0, 0};
	c->ss = 0, c->reference = 0, c->sigma = 0;
	c->up = 0, c->down = 0;
	c->has_reference = false, c->drift = false;
}

static int cusum_init(void *self, const struct sl_detector_params *p)
{
	struct sl_detector_params def;
	const struct sl_cusum_params *cp = &det_params(p, &def)->cusum;
	struct cusum *c = self;
	if (cusum_check(cp))
		return SL_EINVAL;
	c->p = *cp;
	cusum_clear(c);
	return 0;
}

static double cusum_statistic(const struct cusum *c)
{
	if (c->p.mode == SL_DETECT_UP)
		return c->up;
	if (c->p.mode == SL_DETECT_DOWN)
		return c->down;
	return c->up > c->down ? c->up : c->down;
}

/* Freezes the reference at the end of the warm-up (River: Var.get is 0 below two values). */
static void cusum_freeze(struct cusum *c)
{
	double var = c->mean.n > 1 ? c->ss / (c->mean.n - 1) : 0.0;
	c->reference = c->mean.mean;
	c->sigma = pow(var < 0.0 ? 0.0 : var, 0.5);
	c->has_reference = true;
}

static void cusum_step(struct cusum *c, double x)
{
	double k = c->p.slack * c->sigma, limit = c->p.threshold * c->sigma;
	double dev = x - c->reference;
	double up = c->up + dev - k, down = c->down - dev - k;
	c->up = up > 0.0 ? up : 0.0;
	c->down = down > 0.0 ? down : 0.0;
	c->drift = cusum_statistic(c) > limit;
}

static int cusum_update(void *self, double x, struct sl_detector_state *out)
{
	struct cusum *c = self;
	if (!isfinite(x))
		return det_reject(out);
	if (c->drift)
		cusum_clear(c);
	double old = c->mean.mean;
	det_mean_add(&c->mean, x);
	c->ss += (x - old) * (x - c->mean.mean);
	if (c->mean.n >= c->p.min_instances) {
		if (!c->has_reference)
			cusum_freeze(c);
		cusum_step(c, x);
	}
	out->drift = c->drift, out->warning = false;
	return 0;
}

static void cusum_reset(void *self)
{
	cusum_clear(self);
}

static void cusum_summary(const void *self, struct sl_detector_summary *s)
{
	const struct cusum *c = self;
	*s = (struct sl_detector_summary){
	    .estimation = c->mean.mean,
	    .n = c->mean.n,
	    .statistic = c->has_reference ? cusum_statistic(c) : NAN,
	    .threshold = c->has_reference ? c->p.threshold * c->sigma : NAN,
	    .drift = c->drift,
	};
}

const struct sl_detector_ops sl_detector_cusum = {
    .name = "cusum",
    .size = cusum_size,
    .init = cusum_init,
    .update = cusum_update,
    .reset = cusum_reset,
    .summary = cusum_summary,
};
