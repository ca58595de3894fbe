/* msprt.c: always-valid inference for a difference in means by the normal-mixture sequential
 * probability ratio test (mSPRT; Johari, Pekelis, Walsh 2017; Robbins' normal mixture), in
 * GrowthBook's parametrization so its published numbers are reproduced.
 * With n observations in all, estimate d, standard error se, V = n se^2 and mixing variance
 * tau^2 = rho2 * V on the effect:
 *   log Lambda = rho2 n^2 d^2 / (2 V (1 + n rho2)) - log(1 + n rho2) / 2
 *   p = min(1, 1/Lambda);  CS: d +- sqrt(V) sqrt(2 (1 + n rho2) log(sqrt(1 + n rho2)/alpha)) / (n sqrt(rho2))
 * rho2 = (-2 ln alpha + ln(1 - 2 ln alpha)) / N* makes the interval narrowest at n = N*.
 * Under H0 with known variances, P(ever p <= alpha) <= alpha (Ville's inequality): the
 * running minimum of p and the running intersection of the intervals stay valid at any
 * stopping time. With estimated variances the guarantee is asymptotic.
 * Invariants: the streaming state is O(1) (two Welford accumulators, running p/CS). */
#include <math.h>

#include "stats-int.h"

double sl_msprt_rho2(double alpha, double n_star)
{
	if (!(alpha > 0 && alpha < 1) || !(n_star > 0))
		return NAN;
	double l = -2 * log(alpha);
	return (l + log(l + 1)) / n_star;
}

int sl_msprt_eval(double estimate, double se, double n, double rho2, double alpha, struct sl_msprt_result *out)
{
	if (!isfinite(estimate) || !(se > 0) || !(n > 0) || !(rho2 > 0) || !(alpha > 0 && alpha < 1))
		return SL_EINVAL;
	double nr = n * rho2, st2 = estimate * estimate / (se * se);
	double loglam = rho2 * n * st2 / (2 * (1 + nr)) - 0.5 * log1p(nr);
	double v = n * se * se;
	double hw = sqrt(v) * sqrt(2 * (1 + nr) * (0.5 * log1p(nr) - log(alpha))) / (n * sqrt(rho2));
	struct sl_msprt_result r = {.estimate = estimate, .se = se, .n = n, .lambda = exp(loglam)};
	r.pvalue = loglam <= 0 ? 1 : exp(-loglam);
	r.pvalue_av = r.pvalue;
	r.lo = estimate - hw, r.hi = estimate + hw;
	*out = r;
	return 0;
}

int sl_msprt_init(struct sl_msprt *m, double alpha, double n_star)
{
	double rho2 = sl_msprt_rho2(alpha, n_star);
	if (isnan(rho2))
		return SL_EINVAL;
	sl_welford_init(&m->a);
	sl_welford_init(&m->b);
	m->alpha = alpha, m->rho2 = rho2;
	m->var_a = m->var_b = -1;
	m->p_min = 1, m->lo_max = -INFINITY, m->hi_min = INFINITY;
	m->looks = 0;
	return 0;
}

void sl_msprt_set_variance(struct sl_msprt *m, double var_a, double var_b)
{
	m->var_a = var_a, m->var_b = var_b;
}

void sl_msprt_add(struct sl_msprt *m, int arm, double x)
{
	sl_welford_add(arm ? &m->b : &m->a, x);
}

void sl_msprt_add_pair(struct sl_msprt *m, double xa, double xb)
{
	sl_welford_add(&m->a, xa);
	sl_welford_add(&m->b, xb);
}

int sl_msprt_look(struct sl_msprt *m, struct sl_msprt_result *out)
{
	if (m->a.n < 2 || m->b.n < 2)
		return SL_ESTATE;
	double va = m->var_a >= 0 ? m->var_a : sl_welford_var(&m->a);
	double vb = m->var_b >= 0 ? m->var_b : sl_welford_var(&m->b);
	double se = sqrt(va / m->a.n + vb / m->b.n);
	struct sl_msprt_result r;
	int err = sl_msprt_eval(m->b.mean - m->a.mean, se, m->a.n + m->b.n, m->rho2, m->alpha, &r);
	if (err)
		return err == SL_EINVAL ? SL_ERANGE : err;
	m->looks++;
	m->p_min = fmin(m->p_min, r.pvalue);
	m->lo_max = fmax(m->lo_max, r.lo);
	m->hi_min = fmin(m->hi_min, r.hi);
	r.pvalue_av = m->p_min;
	r.lo = m->lo_max, r.hi = m->hi_min;
	*out = r;
	return 0;
}
