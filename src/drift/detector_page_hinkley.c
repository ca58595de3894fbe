/* detector_page_hinkley.c: Page-Hinkley, a port of River's drift.PageHinkley (two-sided since
 * River 0.11): with the running mean m_t of the values since the last reset,
 *   up_t   = alpha up_{t-1}   + (x_t - m_t) - delta,   test_up   = up_t - min(up)
 *   down_t = alpha down_{t-1} + (x_t - m_t) + delta,   test_down = max(down) - down_t
 * and drift once a watched test exceeds threshold, after min_instances values.
 * Invariants: min(up) and max(down) run over every value since the reset (River seeds the
 * maximum with -1, not -inf; kept, though down_1 = delta >= 0 overrides it at once); the
 * arithmetic is River's, operation by operation. */
#include "detector-int.h"

struct page_hinkley {
	struct sl_page_hinkley_params p;
	struct det_mean mean;
	double up, down, min_up, max_down;
	bool drift;
};

static int ph_check(const struct sl_page_hinkley_params *p)
{
	if (!(p->delta >= 0 && isfinite(p->delta)) || !(p->threshold > 0 && isfinite(p->threshold)))
		return SL_EINVAL;
	if (!(p->alpha > 0 && p->alpha <= 1) || !det_mode_ok(p->mode))
		return SL_EINVAL;
	return 0;
}

static size_t ph_size(const struct sl_detector_params *p)
{
	struct sl_detector_params def;
	return ph_check(&det_params(p, &def)->page_hinkley) ? 0 : sizeof(struct page_hinkley);
}

static void ph_clear(struct page_hinkley *h)
{
	h->mean = (struct det_mean){0, 0};
	h->up = 0, h->down = 0;
	h->min_up = INFINITY, h->max_down = -1;
	h->drift = false;
}

static int ph_init(void *self, const struct sl_detector_params *p)
{
	struct sl_detector_params def;
	const struct sl_page_hinkley_params *pp = &det_params(p, &def)->page_hinkley;
	struct page_hinkley *h = self;
	if (ph_check(pp))
		return SL_EINVAL;
	h->p = *pp;
	ph_clear(h);
	return 0;
}

/* The watched test's value (the larger of the two when both are watched). */
static double ph_statistic(const struct page_hinkley *h)
{
	double up = h->up - h->min_up, down = h->max_down - h->down;
	if (h->p.mode == SL_DETECT_UP)
		return up;
	if (h->p.mode == SL_DETECT_DOWN)
		return down;
	return up > down ? up : down;
}

static int ph_update(void *self, double x, struct sl_detector_state *out)
{
	struct page_hinkley *h = self;
	if (!isfinite(x))
		return det_reject(out);
	if (h->drift)
		ph_clear(h);
	det_mean_add(&h->mean, x);
	double dev = x - h->mean.mean;
	h->up = h->p.alpha * h->up + dev - h->p.delta;
	h->down = h->p.alpha * h->down + dev + h->p.delta;
	if (h->up < h->min_up)
		h->min_up = h->up;
	if (h->down > h->max_down)
		h->max_down = h->down;
	if (h->mean.n >= h->p.min_instances)
		h->drift = ph_statistic(h) > h->p.threshold;
	out->drift = h->drift, out->warning = false;
	return 0;
}

static void ph_reset(void *self)
{
	ph_clear(self);
}

static void ph_summary(const void *self, struct sl_detector_summary *s)
{
	const struct page_hinkley *h = self;
	*s = (struct sl_detector_summary){
	    .estimation = h->mean.mean,
	    .n = h->mean.n,
	    .statistic = h->mean.n > 0 ? ph_statistic(h) : NAN,
	    .threshold = h->mean.n >= h->p.min_instances ? h->p.threshold : NAN,
	    .drift = h->drift,
	};
}

const struct sl_detector_ops sl_detector_page_hinkley = {
    .name = "page_hinkley",
    .size = ph_size,
    .init = ph_init,
    .update = ph_update,
    .reset = ph_reset,
    .summary = ph_summary,
};
