/* detector.c: the registry of drift detectors, River's default parameters, and the heap wrapper
 * that counts updates, rejections and detections around any ops table.
 * Invariants: the registry is const and lists each detector once; a struct sl_detector is one
 * allocation of sl_detector_footprint bytes whose state was initialized by its ops. */
#include <stdlib.h>
#include <string.h>

#include "detector-int.h"

static const struct sl_detector_ops *const registry[] = {
    &sl_detector_adwin,
    &sl_detector_page_hinkley,
    &sl_detector_ddm,
    &sl_detector_cusum,
};

const struct sl_detector_ops *sl_detector_at(size_t i)
{
	return i < sizeof registry / sizeof registry[0] ? registry[i] : NULL;
}

const struct sl_detector_ops *sl_detector_find(const char *name)
{
	const struct sl_detector_ops *ops;
	if (!name)
		return NULL;
	for (size_t i = 0; (ops = sl_detector_at(i)); i++)
		if (strcmp(ops->name, name) == 0)
			return ops;
	return NULL;
}

void sl_detector_params_default(struct sl_detector_params *p)
{
	memset(p, 0, sizeof *p);
	p->adwin = (struct sl_adwin_params){
	    .delta = 0.002, .clock = 32, .max_buckets = 5, .min_window_length = 5, .grace_period = 10, .max_rows = 32};
	p->page_hinkley = (struct sl_page_hinkley_params){
	    .min_instances = 30, .delta = 0.005, .threshold = 50.0, .alpha = 1 - 0.0001, .mode = SL_DETECT_BOTH};
	p->ddm = (struct sl_ddm_params){.warm_start = 30, .warning_threshold = 2.0, .drift_threshold = 3.0};
	p->cusum =
	    (struct sl_cusum_params){.min_instances = 30, .slack = 0.5, .threshold = 5.0, .mode = SL_DETECT_BOTH};
}

size_t sl_detector_footprint(const struct sl_detector_ops *ops, const struct sl_detector_params *p)
{
	size_t n = ops ? ops->size(p) : 0;
	return n ? sizeof(struct sl_detector) + n : 0;
}

int sl_detector_new(const struct sl_detector_ops *ops, const struct sl_detector_params *p, struct sl_detector **out)
{
	size_t n = sl_detector_footprint(ops, p);
	if (!n)
		return SL_EINVAL;
	struct sl_detector *d = calloc(1, n);
	if (!d)
		return SL_ENOMEM;
	d->ops = ops;
	int err = ops->init(d->self, p);
	if (err) {
		free(d);
		return err;
	}
	*out = d;
	return 0;
}

void sl_detector_free(struct sl_detector *d)
{
	free(d);
}

int sl_detector_update(struct sl_detector *d, double x, struct sl_detector_state *out)
{
	int err = d->ops->update(d->self, x, out);
	if (err) {
		d->n_rejected++;
		return err;
	}
	d->n_updates++;
	d->n_detections += out->drift;
	return 0;
}

void sl_detector_reset(struct sl_detector *d)
{
	d->ops->reset(d->self);
}

void sl_detector_summary(const struct sl_detector *d, struct sl_detector_summary *s)
{
	d->ops->summary(d->self, s);
}
