/* detectors.c (bench_drift_detectors): updates per second per core of each streaming drift
 * detector on gateway-shaped streams, through sl_detector_update (the indirect call and the
 * lifetime counters included, as sl_monitor_signal calls it). Folds in the earlier rough
 * bench/drift_detectors.c. Run by bench/drift.sh pinned to one core (taskset -c 1).
 *
 * Streams are drawn beforehand (2^20 values, cycled) so the RNG is not timed:
 *   errors 1%          Bernoulli(0.01): 1 = failed request (ADWIN, Page-Hinkley, DDM, CUSUM)
 *   errors 1%<->5%     the rate switches every 131,072 values (a change to find, resets)
 *   latency            lognormal, median 0.8 s, sigma 0.5 (seconds; DDM takes 0/1 only)
 *   latency 0.8<->1.2  the median switches every 131,072 values
 * Each (detector, stream) runs RUNS times on a fresh detector for N updates; the table gives
 * the best run, timed by the thread's CPU clock (CLOCK_THREAD_CPUTIME_ID: time the core spent
 * on us, so other load on a shared machine inflates it less than wall time), and the ratio to
 * the aim of 10 M updates/s per core. A second table times the per-request summaries the live
 * monitor feeds besides the detectors (the reservoir, the category table, a whole request).
 *
 * Usage: bench_drift_detectors [--updates N] [--runs R] [--markdown]
 *   defaults N = 50,000,000, R = 3; --markdown prints only the tables (for BENCHMARKS.md). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sluice/detector.h"
#include "sluice/drift.h"
#include "sluice/features.h"
#include "sluice/monitor.h"

#define LEN    (1u << 20)
#define PERIOD (1u << 17)
#define AIM    10e6

enum { S_ERR, S_ERR_CHG, S_LAT, S_LAT_CHG, S_COUNT };
static const char *const stream_names[S_COUNT] = {"errors 1%", "errors 1%<->5%", "latency lognormal",
                                                  "latency 0.8s<->1.2s"};
static double *streams[S_COUNT];

struct clocks {
	double cpu, wall;
};

static struct clocks now(void)
{
	struct timespec c, w;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c);
	clock_gettime(CLOCK_MONOTONIC, &w);
	return (struct clocks){c.tv_sec + c.tv_nsec * 1e-9, w.tv_sec + w.tv_nsec * 1e-9};
}

static void fill(double *x, int kind)
{
	struct sl_rng r;
	sl_rng_seed(&r, 20261128 + (uint64_t)kind);
	for (size_t i = 0; i < LEN; i++) {
		bool moved = (i / PERIOD) % 2 == 1;
		switch (kind) {
		case S_ERR: x[i] = sl_rng_double(&r) < 0.01; break;
		case S_ERR_CHG: x[i] = sl_rng_double(&r) < (moved ? 0.05 : 0.01); break;
		case S_LAT: x[i] = sl_rng_lognormal(&r, 0.8, 0.5); break;
		default: x[i] = sl_rng_lognormal(&r, moved ? 1.2 : 0.8, 0.5); break;
		}
	}
}

struct result {
	double rate, wall_rate; /* best run: updates per CPU second, per wall second */
	uint64_t detections;
};

static struct result run_detector(const struct sl_detector_ops *ops, const double *x, uint64_t n, int runs)
{
	struct result best = {0};
	for (int r = 0; r < runs; r++) {
		struct sl_detector *d;
		if (sl_detector_new(ops, NULL, &d)) {
			fprintf(stderr, "bench_drift_detectors: cannot create %s\n", ops->name);
			exit(1);
		}
		struct sl_detector_state st;
		uint64_t bad = 0;
		struct clocks t0 = now();
		for (uint64_t i = 0; i < n; i++)
			bad += sl_detector_update(d, x[i & (LEN - 1)], &st) != 0;
		struct clocks t1 = now();
		if (bad || d->n_updates != n) {
			fprintf(stderr, "bench_drift_detectors: %s rejected %llu values\n", ops->name, (unsigned long long)bad);
			exit(1);
		}
		double rate = n / (t1.cpu - t0.cpu), wall = n / (t1.wall - t0.wall);
		if (rate > best.rate)
			best.rate = rate;
		if (wall > best.wall_rate)
			best.wall_rate = wall;
		best.detections = d->n_detections;
		sl_detector_free(d);
	}
	return best;
}

/* The monitor's concept path: sl_monitor_signal (an ADWIN per signal). */
static struct result run_monitor_signal(const double *x, enum sl_signal s, uint64_t n, int runs)
{
	struct result best = {0};
	struct sl_monitor_opts o;
	sl_monitor_opts_init(&o);
	for (int r = 0; r < runs; r++) {
		struct sl_monitor *m;
		if (sl_monitor_new(&o, &m))
			exit(1);
		uint64_t alarms = 0;
		struct clocks t0 = now();
		for (uint64_t i = 0; i < n; i++)
			alarms += sl_monitor_signal(m, s, x[i & (LEN - 1)]);
		struct clocks t1 = now();
		double rate = n / (t1.cpu - t0.cpu), wall = n / (t1.wall - t0.wall);
		best.rate = rate > best.rate ? rate : best.rate;
		best.wall_rate = wall > best.wall_rate ? wall : best.wall_rate;
		best.detections = alarms;
		sl_monitor_free(m);
	}
	return best;
}

static void row(bool md, const char *name, const char *stream, struct result r)
{
	if (md)
		printf("| %s | %s | %.1f | %.1f | %.1f | %.2fx | %llu |\n", name, stream, r.rate / 1e6, 1e9 / r.rate,
		       r.wall_rate / 1e6, r.rate / AIM, (unsigned long long)r.detections);
	else
		printf("%-22s %-20s %8.1f M/s %6.1f ns  (wall %6.1f M/s)  %5.2fx aim  drifts %llu\n", name, stream,
		       r.rate / 1e6, 1e9 / r.rate, r.wall_rate / 1e6, r.rate / AIM, (unsigned long long)r.detections);
	fflush(stdout);
}

/* ---- per-request summaries ---- */

struct req_result {
	double rate; /* per CPU second, best run */
};

static double time_nums(uint64_t n, int runs)
{
	double best = 0;
	for (int r = 0; r < runs; r++) {
		struct sl_drift_nums s;
		if (sl_drift_nums_init(&s, 1000, 7))
			exit(1);
		struct clocks t0 = now();
		for (uint64_t i = 0; i < n; i++)
			sl_drift_nums_add(&s, streams[S_LAT][i & (LEN - 1)]);
		struct clocks t1 = now();
		best = fmax(best, n / (t1.cpu - t0.cpu));
		sl_drift_nums_release(&s);
	}
	return best;
}

static const char *const finish_reasons[] = {"stop", "length", "content_filter", "tool_calls"};

static double time_cats(uint64_t n, int runs)
{
	double best = 0;
	size_t lens[4];
	for (int k = 0; k < 4; k++)
		lens[k] = strlen(finish_reasons[k]);
	for (int r = 0; r < runs; r++) {
		struct sl_drift_cats c;
		if (sl_drift_cats_init(&c, 64, 64, SL_DRIFT_CMS_EPS, SL_DRIFT_CMS_DELTA, 7))
			exit(1);
		struct clocks t0 = now();
		for (uint64_t i = 0; i < n; i++) {
			unsigned k = (unsigned)(streams[S_LAT][i & (LEN - 1)] * 3) & 3;
			sl_drift_cats_add(&c, finish_reasons[k], lens[k], 1);
		}
		struct clocks t1 = now();
		best = fmax(best, n / (t1.cpu - t0.cpu));
		sl_drift_cats_release(&c);
	}
	return best;
}

#define NREQ 4096

/* sl_monitor_add per request: 15 numeric features, the finish reason and the topic vector,
 * with the window tests (every 1,000 requests) included. */
static double time_monitor_add(uint64_t n, int runs, double *window_ms)
{
	static struct sl_features reqs[NREQ];
	struct sl_rng g;
	sl_rng_seed(&g, 99);
	for (int i = 0; i < NREQ; i++) {
		struct sl_features *f = &reqs[i];
		for (int k = 0; k < SL_F_COUNT; k++)
			f->v[k] = sl_rng_lognormal(&g, 100.0 + k, 0.5);
		double norm = 0;
		for (int k = 0; k < SL_TOPIC_DIMS; k++)
			f->topic[k] = (float)sl_rng_normal(&g), norm += (double)f->topic[k] * f->topic[k];
		for (int k = 0; k < SL_TOPIC_DIMS; k++)
			f->topic[k] = (float)(f->topic[k] / sqrt(norm));
		f->has_topic = true;
	}
	struct sl_monitor_opts o;
	sl_monitor_opts_init(&o);
	double best = 0;
	*window_ms = 0;
	for (int r = 0; r < runs; r++) {
		struct sl_monitor *m;
		if (sl_monitor_new(&o, &m))
			exit(1);
		struct sl_monitor_report rep;
		uint64_t windows = 0;
		struct clocks t0 = now();
		for (uint64_t i = 0; i < n; i++)
			windows += sl_monitor_add(m, &reqs[i % NREQ], finish_reasons[i & 3], &rep);
		struct clocks t1 = now();
		double rate = n / (t1.cpu - t0.cpu);
		if (rate > best)
			best = rate;
		(void)windows;
		sl_monitor_free(m);
	}
	/* one window's tests alone: the 1,000th request of a window */
	{
		struct sl_monitor *m;
		if (sl_monitor_new(&o, &m))
			exit(1);
		struct sl_monitor_report rep;
		double tbest = 1e9;
		for (uint64_t i = 0; i < 1000 + 5 * 1000; i++) {
			bool last = i >= 1000 && (i - 1000) % 1000 == 999;
			struct clocks t0 = now();
			sl_monitor_add(m, &reqs[i % NREQ], finish_reasons[i & 3], &rep);
			struct clocks t1 = now();
			if (last)
				tbest = fmin(tbest, t1.cpu - t0.cpu);
		}
		*window_ms = tbest * 1e3;
		sl_monitor_free(m);
	}
	return best;
}

int main(int argc, char **argv)
{
	uint64_t n = 50000000;
	int runs = 3;
	bool md = false;
	for (int i = 1; i < argc; i++) {
		uint64_t v;
		if (strcmp(argv[i], "--updates") == 0 && i + 1 < argc && sl_parse_u64(argv[i + 1], UINT64_MAX / 2, &v) == 0)
			n = v, i++;
		else if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc && sl_parse_u64(argv[i + 1], 100, &v) == 0)
			runs = (int)v, i++;
		else if (strcmp(argv[i], "--markdown") == 0)
			md = true;
		else {
			fprintf(stderr, "usage: bench_drift_detectors [--updates N] [--runs R] [--markdown]\n");
			return 2;
		}
	}
	if (n < 1000 || runs < 1)
		return 2;
	for (int s = 0; s < S_COUNT; s++) {
		streams[s] = malloc(LEN * sizeof(double));
		if (!streams[s])
			return 1;
		fill(streams[s], s);
	}
	if (md) {
		printf("Streaming detectors, %llu updates per run, best of %d, one core; M/s by the thread's CPU "
		       "clock (wall in its own column)\n\n",
		       (unsigned long long)n, runs);
		printf("| detector | stream | M updates/s | ns/update | M/s (wall) | vs 10 M/s aim | drifts signalled |\n");
		printf("|---|---|---:|---:|---:|---:|---:|\n");
	} else
		printf("%llu updates per run, best of %d (M/s by thread CPU time)\n", (unsigned long long)n, runs);
	double worst = 1e300;
	for (size_t k = 0; sl_detector_at(k); k++) {
		const struct sl_detector_ops *ops = sl_detector_at(k);
		for (int s = 0; s < S_COUNT; s++) {
			if (strcmp(ops->name, "ddm") == 0 && (s == S_LAT || s == S_LAT_CHG))
				continue; /* DDM takes 0/1 only */
			struct result r = run_detector(ops, streams[s], n, runs);
			worst = fmin(worst, r.rate);
			row(md, ops->name, stream_names[s], r);
		}
	}
	row(md, "sl_monitor_signal (adwin)", stream_names[S_ERR], run_monitor_signal(streams[S_ERR], SL_SIGNAL_ERROR, n, runs));
	row(md, "sl_monitor_signal (adwin)", stream_names[S_LAT], run_monitor_signal(streams[S_LAT], SL_SIGNAL_LATENCY, n, runs));

	uint64_t nreq = n / 10 < 5000000 ? n / 10 : 5000000;
	double window_ms;
	double nums = time_nums(n / 5, runs), cats = time_cats(n / 5, runs), mon = time_monitor_add(nreq, runs, &window_ms);
	if (md) {
		printf("\nPer-request summaries of the live monitor (not detectors; best of %d, CPU clock)\n\n", runs);
		printf("| operation | M/s | ns each |\n|---|---:|---:|\n");
		printf("| sl_drift_nums_add (reservoir of 1,000) | %.1f | %.1f |\n", nums / 1e6, 1e9 / nums);
		printf("| sl_drift_cats_add (finish reason, 4 categories) | %.1f | %.1f |\n", cats / 1e6, 1e9 / cats);
		printf("| sl_monitor_add (one request: 15 features, finish reason, topic; window tests included) | %.2f | %.0f |\n",
		       mon / 1e6, 1e9 / mon);
		printf("| of which one window's tests (the request that closes a 1,000-request window) | | %.2f ms |\n",
		       window_ms);
	} else {
		printf("sl_drift_nums_add      %8.1f M/s %6.1f ns\n", nums / 1e6, 1e9 / nums);
		printf("sl_drift_cats_add      %8.1f M/s %6.1f ns\n", cats / 1e6, 1e9 / cats);
		printf("sl_monitor_add         %8.2f M/s %6.0f ns (window tests %.2f ms)\n", mon / 1e6, 1e9 / mon, window_ms);
	}
	if (!md)
		printf("slowest detector: %.1f M/s, %.2fx the 10 M/s aim\n", worst / 1e6, worst / AIM);
	for (int s = 0; s < S_COUNT; s++)
		free(streams[s]);
	return 0;
}
