/* dataset_num.c: bounded numeric summaries for live windows: a uniform reservoir sample
 * (sl_reservoir, Vitter's algorithm R) with the exact count, missing count and running
 * mean/variance beside it, and their comparison through the same tests as offline data.
 * Invariants: memory is the reservoir's 8 cap bytes plus a constant; non-finite values are
 * counted as missing and never enter the sample (Evidently drops them too). */
#include <math.h>

#include "univariate-int.h"

int sl_drift_nums_init(struct sl_drift_nums *s, size_t cap, uint64_t seed)
{
	s->missing = 0;
	sl_welford_init(&s->w);
	return sl_reservoir_init(&s->r, cap, seed);
}

void sl_drift_nums_release(struct sl_drift_nums *s)
{
	sl_reservoir_release(&s->r);
}

void sl_drift_nums_reset(struct sl_drift_nums *s, uint64_t seed)
{
	s->missing = 0;
	sl_welford_init(&s->w);
	sl_reservoir_reset(&s->r, seed);
}

void sl_drift_nums_add(struct sl_drift_nums *s, double x)
{
	if (!isfinite(x)) {
		s->missing++;
		return;
	}
	sl_welford_add(&s->w, x);
	sl_reservoir_add(&s->r, x);
}

/* A sorted copy of the reservoir's sample. */
static int sorted_sample(const struct sl_drift_nums *s, double **out)
{
	size_t n = s->r.len;
	double *v = malloc((n ? n : 1) * sizeof *v);
	if (!v)
		return SL_ENOMEM;
	memcpy(v, s->r.v, n * sizeof *v);
	int rc = sl_drift_sort(v, n);
	if (rc) {
		free(v);
		return rc;
	}
	*out = v;
	return 0;
}

int sl_drift_compare_nums(const struct sl_drift_nums *ref, const struct sl_drift_nums *cur,
                          const struct sl_drift_opts *o, struct sl_drift_result *out)
{
	if (!ref || !cur || ref->r.len == 0 || cur->r.len == 0)
		return SL_EINVAL;
	double *a = NULL, *b = NULL;
	int rc = sorted_sample(ref, &a);
	if (rc == 0)
		rc = sorted_sample(cur, &b);
	if (rc == 0)
		rc = sl_drift_test_num(a, ref->r.len, b, cur->r.len, o, out);
	free(a);
	free(b);
	return rc;
}
