/* traffic.c: simulated LLM traffic for the judge benchmark. Requests arrive as a Poisson
 * process; each request's random draws are taken once (struct draw) and turned into what the
 * gateway would record for either side (struct obs), so every judge and every scenario sees
 * the same stream (common random numbers): a difference in outcome comes from the judge or the
 * regression, never from luck of the draw.
 * Model per request: total latency lognormal (median 800 ms, sigma 0.5), correlated (rho 0.7
 * on the log scale) with the output length, itself lognormal (median 250 tokens, sigma 0.7);
 * time to first token lognormal (median 300 ms, sigma 0.6); prompt lognormal (median 600
 * tokens, sigma 0.8); cost from per-million prices (0.5 in, 1.5 out); errors Bernoulli (1%);
 * 30% of answered requests rated, 5% of ratings thumbs-down. A failed request records only
 * the error, as the gateway does (no latency, tokens or rating). */
#include <math.h>

#include "judge.h"

#define RHO_LATENCY_TOKENS 0.7

void traffic_defaults(struct traffic *t)
{
	*t = (struct traffic){
	    .rps = 20,
	    .latency_median_ms = 800,
	    .latency_sigma = 0.5,
	    .ttft_median_ms = 300,
	    .ttft_sigma = 0.6,
	    .tokens_median = 250,
	    .tokens_sigma = 0.7,
	    .prompt_median = 600,
	    .prompt_sigma = 0.8,
	    .price_in = 0.5,
	    .price_out = 1.5,
	    .error_rate = 0.01,
	    .rated_share = 0.3,
	    .negative_rate = 0.05,
	};
}

/* Two independent standard normals (Box-Muller, both halves). */
static void normal_pair(struct sl_rng *rng, double *a, double *b)
{
	double u1 = 1.0 - sl_rng_double(rng), u2 = sl_rng_double(rng);
	double r = sqrt(-2.0 * log(u1)), th = 2.0 * M_PI * u2;
	*a = r * cos(th);
	*b = r * sin(th);
}

void traffic_draw(struct sl_rng *rng, struct draw *d)
{
	double ind;
	d->u_split = sl_rng_double(rng);
	normal_pair(rng, &d->z_tokens, &ind);
	d->z_latency = RHO_LATENCY_TOKENS * d->z_tokens + sqrt(1 - RHO_LATENCY_TOKENS * RHO_LATENCY_TOKENS) * ind;
	normal_pair(rng, &d->z_ttft, &d->z_prompt);
	d->u_error = sl_rng_double(rng);
	d->u_rated = sl_rng_double(rng);
	d->u_negative = sl_rng_double(rng);
}

double traffic_next_gap_ms(const struct traffic *t, struct sl_rng *rng)
{
	return -log(1.0 - sl_rng_double(rng)) * 1000.0 / t->rps;
}

void traffic_observe(const struct traffic *t, const struct scenario *sc, const struct draw *d, int side, struct obs *o)
{
	bool cand = side == SL_CANDIDATE;
	double p_error = t->error_rate + (cand ? sc->error_add : 0);
	double p_negative = t->negative_rate * (cand ? sc->fb_mult : 1);
	o->error = d->u_error < p_error;
	o->latency_ms = t->latency_median_ms * exp(t->latency_sigma * d->z_latency) * (cand ? sc->latency_mult : 1);
	o->ttft_ms = t->ttft_median_ms * exp(t->ttft_sigma * d->z_ttft);
	o->tokens = fmax(1, round(t->tokens_median * exp(t->tokens_sigma * d->z_tokens)));
	double prompt = fmax(1, round(t->prompt_median * exp(t->prompt_sigma * d->z_prompt)));
	o->cost = (prompt * t->price_in + o->tokens * t->price_out) / 1e6;
	o->rated = !o->error && d->u_rated < t->rated_share;
	o->negative = o->rated && d->u_negative < p_negative;
}

double traffic_latency_p99(const struct traffic *t)
{
	return t->latency_median_ms * exp(t->latency_sigma * sl_norm_isf(0.01));
}
