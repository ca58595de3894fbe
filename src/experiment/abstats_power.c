/* abstats_power.c: power and minimum detectable effect for a relative difference in means, as
 * GrowthBook's power calculator computes them (packages/front-end power.ts), fixed-horizon or
 * sequential. Invariants: pure, O(1); results are finite or the call fails. */
#include <math.h>

#include "sluice/abstats.h"

static bool valid(const struct sl_ab_power_in *in)
{
	return in && in->variance > 0 && in->mean > 0 && isfinite(in->mean) && isfinite(in->variance) &&
	       in->n_total > 0 && in->variations >= 2 && in->alpha > 0 && in->alpha < 1 && in->n_star >= 0 &&
	       isfinite(in->effect);
}

/* Sequential inflation of the standard error: z_seq(N) / z*, N = 2 n per arm (GrowthBook's
 * sequentialPowerSequentialVariance, whose variance is v z_seq^2 / z*^2). */
static double seq_factor(const struct sl_ab_power_in *in, double n_arm)
{
	if (in->n_star == 0)
		return 1;
	double n = 2 * n_arm, rho2 = sl_msprt_rho2(in->alpha, in->n_star), nr = n * rho2;
	double zseq = sqrt(n) * sqrt(2 * (nr + 1) * log(sqrt(nr + 1) / in->alpha) / (nr * n));
	return zseq / sl_norm_isf(in->alpha / 2);
}

int sl_ab_power(const struct sl_ab_power_in *in, double *power)
{
	if (!valid(in) || !power)
		return SL_EINVAL;
	double n = in->n_total / in->variations;
	double se = sqrt(sl_ab_delta_var(in->variance, in->mean, n, in->variance, in->mean * (1 + in->effect), n, true)) *
	            seq_factor(in, n);
	double z = in->two_sided ? sl_norm_isf(in->alpha / 2) : sl_norm_isf(in->alpha), d = in->effect / se;
	double p = sl_norm_sf(z - d) + (in->two_sided ? sl_norm_cdf(-z - d) : 0);
	if (!isfinite(p))
		return SL_ERANGE;
	*power = fmin(1, p);
	return 0;
}

int sl_ab_mde(const struct sl_ab_power_in *in, double power, double *mde)
{
	if (!valid(in) || !mde || !(power > in->alpha && power < 1))
		return SL_EINVAL;
	double n = in->n_total / in->variations, m = in->mean, f = seq_factor(in, n);
	double z = sl_norm_isf(in->alpha / 2) - sl_norm_isf(power);
	double s2 = in->variance * f * f / n;
	if (n <= in->variance * f * f * z * z / (m * m))
		return SL_ERANGE;
	double a = 1 - z * z * s2 / (m * m), b = -2 * m, c = m * m - z * z * s2;
	double sol = (-b + sqrt(b * b - 4 * a * c)) / (2 * a);
	*mde = (sol - m) / m;
	return isfinite(*mde) ? 0 : SL_ERANGE;
}
