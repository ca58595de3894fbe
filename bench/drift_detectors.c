/* drift_detectors.c: a rough speed check of the streaming drift detectors, updates per second
 * on one core, through sl_detector_update (the indirect call included). Not built by CMake
 * (bench/drift is the benchmark of record); build and run by hand:
 *   cc -O2 -Iinclude bench/drift_detectors.c build/libsluice.a -lm -o /tmp/bench_det
 *   /tmp/bench_det [updates]
 * Streams are drawn beforehand (2^20 values, cycled) so the RNG is not timed: a 10% error rate
 * (0/1) for ADWIN, Page-Hinkley and DDM, latencies N(250, 40) for CUSUM, and for ADWIN also a
 * stream whose rate moves every 50,000 values (drifts, window resets). Stationary ADWIN is the
 * slow case: its window, and so each look, grows with log2(n). */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "sluice/detector.h"

#define LEN (1u << 20)

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void fill(double *x, int kind)
{
	struct sl_rng r;
	sl_rng_seed(&r, 42);
	for (size_t i = 0; i < LEN; i++) {
		double rate = kind == 2 && (i / 50000) % 2 ? 0.4 : 0.1;
		x[i] = kind == 1 ? 250 + 40 * sl_rng_normal(&r) : sl_rng_double(&r) < rate;
	}
}

static void run(const char *name, const char *label, const double *x, uint64_t n)
{
	struct sl_detector *d;
	if (sl_detector_new(sl_detector_find(name), NULL, &d))
		exit(1);
	struct sl_detector_state st;
	double t0 = now();
	for (uint64_t i = 0; i < n; i++)
		sl_detector_update(d, x[i & (LEN - 1)], &st);
	double dt = now() - t0;
	struct sl_detector_summary s;
	sl_detector_summary(d, &s);
	printf("%-13s %-22s %6.1f M updates/s  %5.1f ns/update  drifts %llu  n %.0f\n", name, label, n / dt / 1e6,
	       dt / n * 1e9, (unsigned long long)d->n_detections, s.n);
	sl_detector_free(d);
}

int main(int argc, char **argv)
{
	uint64_t n = argc > 1 ? strtoull(argv[1], NULL, 10) : 100000000;
	double *err = malloc(LEN * sizeof *err), *lat = malloc(LEN * sizeof *lat), *mov = malloc(LEN * sizeof *mov);
	if (!err || !lat || !mov)
		return 1;
	fill(err, 0), fill(lat, 1), fill(mov, 2);
	run("adwin", "10% errors, stationary", err, n);
	run("adwin", "10%/40% every 50k", mov, n);
	run("page_hinkley", "10% errors", err, n);
	run("ddm", "10% errors", err, n);
	run("cusum", "latency N(250, 40)", lat, n);
	free(err), free(lat), free(mov);
	return 0;
}
