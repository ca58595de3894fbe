/* judge.h: the canary-judge benchmark (bench/judge): simulated LLM traffic, and three judges
 * driving identical rollouts over the same request streams.
 * Invariants: everything is seeded and single-threaded, so a run is a pure function of its
 * options; time is simulated (milliseconds from the rollout's start), never read from a clock. */
#ifndef SLUICE_BENCH_JUDGE_H
#define SLUICE_BENCH_JUDGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sluice/rollout.h"

/* ---- traffic (traffic.c) ---- */

/* What the candidate does differently from stable; all zero (and fb_mult 1) is an A/A run. */
struct scenario {
	const char *name;
	double latency_mult; /* candidate latency = stable's draw x this */
	double error_add;    /* candidate error probability = base + this */
	double fb_mult;      /* candidate thumbs-down probability = base x this */
};

/* The model of one request before it is assigned a side: every random draw it needs, so that
 * each judge can assign it by its own share and still see the same stream (common random
 * numbers across judges and scenarios). */
struct draw {
	double u_split; /* candidate when u_split < share */
	double z_latency, z_ttft, z_tokens, z_prompt;
	double u_error, u_rated, u_negative;
};

/* One request as the gateway records it, for one side. */
struct obs {
	bool error;
	double latency_ms, ttft_ms, tokens, cost;
	bool rated, negative;
};

struct traffic {
	double rps; /* mean arrivals per second (Poisson) */
	double latency_median_ms, latency_sigma;
	double ttft_median_ms, ttft_sigma;
	double tokens_median, tokens_sigma;
	double prompt_median, prompt_sigma;
	double price_in, price_out; /* dollars per million tokens */
	double error_rate, rated_share, negative_rate;
};

void traffic_defaults(struct traffic *t);
void traffic_draw(struct sl_rng *rng, struct draw *d);
double traffic_next_gap_ms(const struct traffic *t, struct sl_rng *rng);
void traffic_observe(const struct traffic *t, const struct scenario *sc, const struct draw *d, int side, struct obs *o);
/* The stable p99 latency implied by the model (the Flagger SLO's reference). */
double traffic_latency_p99(const struct traffic *t);

/* ---- judges (sluice.c, peers.c) ---- */

struct arm;

/* A judge: how it keeps data and how it turns data into a judgment outcome. The rollout state
 * machine, the steps, the interval, min_requests and the failure limits are shared. */
struct judge_ops {
	const char *name;
	int (*init)(struct arm *a);
	void (*release)(struct arm *a);
	void (*reset)(struct arm *a); /* a new stage began */
	void (*observe)(struct arm *a, int side, const struct obs *o);
	enum sl_outcome (*judge)(struct arm *a, unsigned index);
};

/* Thresholds of the Flagger-style judge: a check fails when the candidate's value over the
 * interval is above its bound. */
struct flagger_cfg {
	double p99_ms, error_rate, negative_rate;
};

/* Per-interval data of the comparison judges (grown as needed, emptied after each judgment;
 * running out of memory ends the program: a benchmark with lost samples would be wrong). */
struct vec {
	double *v;
	size_t len, cap;
};
struct interval_data {
	struct vec values[2][3]; /* side x (latency, ttft, cost) */
	uint64_t requests[2], errors[2], rated[2], negative[2];
};

struct arm {
	const struct judge_ops *ops;
	const char *label;   /* column name in the tables */
	struct sl_rollout r; /* its spec is the judge's */
	uint64_t seed;
	uint64_t step_requests;      /* candidate requests in the current stage (as the gateway counts) */
	uint64_t candidate_requests; /* candidate requests since the start */
	unsigned judgments;
	double judge_cpu_s;
	/* diagnostics: failed checks by index (sluice: the spec's checks; flagger: p99, errors,
	 * thumbs-down; kayenta: High for latency, ttft, cost, errors, thumbs-down) */
	unsigned check_fails[SL_ROLLOUT_MAX_CHECKS];
	bool done;
	/* judge-specific state */
	struct sl_window win;       /* sluice */
	struct interval_data iv;    /* flagger, kayenta */
	struct flagger_cfg flagger; /* flagger */
	double kayenta_conf;        /* kayenta: confidence of the Hodges-Lehmann interval */
	double kayenta_tolerance;   /* kayenta: fraction of |estimate| the interval must clear */
};

extern const struct judge_ops judge_sluice, judge_flagger, judge_kayenta;

/* Window capacity the gateway uses (src/proxy/rollouts.c, WINDOW_CAP). */
#define BENCH_WINDOW_CAP 5000

/* ---- small helpers (peers.c) ---- */
int vec_push(struct vec *v, double x);
void vec_free(struct vec *v);
void interval_clear(struct interval_data *iv);
void interval_free(struct interval_data *iv);
void interval_add(struct interval_data *iv, int side, const struct obs *o);
int cmp_double(const void *a, const void *b);

#endif
