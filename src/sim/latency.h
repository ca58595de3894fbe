/* latency.h: an exact latency recorder: stores every sample (microseconds, uint32) and
 * answers quantiles by sorting on demand. Pure: no I/O, no locking, no clock.
 * Invariant: n <= cap; sorted is true only while us[0..n) is in ascending order. */
#ifndef SLUICE_SIM_LATENCY_H
#define SLUICE_SIM_LATENCY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sl_latency {
	uint32_t *us; /* samples in microseconds, saturated at UINT32_MAX (about 71 minutes) */
	size_t n, cap;
	bool sorted;
};

void sl_latency_init(struct sl_latency *l);
void sl_latency_release(struct sl_latency *l);
/* Records one sample given in nanoseconds. SL_ENOMEM leaves the recorder unchanged. */
int sl_latency_add(struct sl_latency *l, uint64_t ns);
/* Appends every sample of src to dst. */
int sl_latency_merge(struct sl_latency *dst, const struct sl_latency *src);
/* The q-quantile (0 <= q <= 1) in milliseconds, interpolated linearly between the two
 * nearest order statistics (numpy's default); NAN when there is no sample. Sorts l. */
double sl_latency_quantile_ms(struct sl_latency *l, double q);

#endif
