/* abstats_compare.c: two-arm comparisons as GrowthBook's gbstats computes them: effect moments
 * (relative or absolute difference with delta-method variance), the Welch t-test, the
 * sequential always-valid test (two-sided through sl_msprt_eval, one-sided with GrowthBook's
 * halfwidth and bisection p-value) and the Gaussian Bayesian test.
 * Invariants: O(1) per call (the one-sided sequential p-value is at most 100 bisection steps);
 * a degenerate input yields GrowthBook's default output with ok false, never NaN. */
#include <math.h>

#include "sluice/abstats.h"

void sl_ab_opts_init(struct sl_ab_opts *o)
{
	*o = (struct sl_ab_opts){
		.alpha = 0.05,
		.relative = true,
		.alt = SL_ALT_TWO_SIDED,
		.n_star = 5000,
		.prior_proper = false,
		.prior_relative = true,
		.prior_mean = 0,
		.prior_var = 1,
	};
}

const char *sl_ab_status_str(enum sl_ab_status s)
{
	switch (s) {
	case SL_AB_OK:
		return "ok";
	case SL_AB_FEW_UNITS:
		return "fewer than 2 units in an arm";
	case SL_AB_ZERO_VARIANCE:
		return "zero or negative variance";
	case SL_AB_ZERO_BASELINE:
		return "control mean is zero: no relative difference";
	case SL_AB_KIND_MISMATCH:
		return "arms hold different kinds of statistic";
	case SL_AB_NUMERIC:
		return "non-finite intermediate value";
	}
	return "unknown";
}

static void default_output(struct sl_ab_result *out, enum sl_ab_status st, double ma, double mb)
{
	*out = (struct sl_ab_result){
		.p_value = 1,
		.chance_to_win = 0.5,
		.mean_a = isfinite(ma) ? ma : 0,
		.mean_b = isfinite(mb) ? mb : 0,
		.ok = false,
		.status = st,
		.error = sl_ab_status_str(st),
	};
}

double sl_ab_delta_var(double var_a, double mean_a, double n_a, double var_b, double mean_b, double n_b, bool relative)
{
	if (!relative)
		return var_b / n_b + var_a / n_a;
	double ma2 = mean_a * mean_a;
	return var_b / (ma2 * n_b) + var_a * mean_b * mean_b / (ma2 * ma2 * n_a);
}

/* The effect and its variance, shared by every test. */
struct moments {
	double pe, se, va, vb, na, nb, ma, mb;
};

static bool quantile_degenerate(const struct sl_ab_stat *s)
{
	double z2 = sl_norm_isf(0.025) * sl_norm_isf(0.025);
	if (s->n <= z2 * s->q_nu / (1 - s->q_nu) || s->n <= z2 * (1 - s->q_nu) / s->q_nu)
		return true;
	return sl_ab_var(s) <= 0 && s->n < 1000;
}

static bool degenerate_var(const struct sl_ab_stat *s, double v)
{
	return s->kind == SL_AB_QUANTILE ? quantile_degenerate(s) : !(v > 0);
}

static enum sl_ab_status moments(const struct sl_ab_stat *a, const struct sl_ab_stat *b, bool relative,
                                 struct moments *m)
{
	m->ma = sl_ab_mean(a), m->mb = sl_ab_mean(b);
	if (a->kind != b->kind)
		return SL_AB_KIND_MISMATCH;
	if (!(a->n >= 2 && b->n >= 2))
		return SL_AB_FEW_UNITS;
	m->na = a->n, m->nb = b->n;
	m->va = sl_ab_var(a), m->vb = sl_ab_var(b);
	if (!isfinite(m->va) || !isfinite(m->vb) || !isfinite(m->ma) || !isfinite(m->mb))
		return SL_AB_NUMERIC;
	if (degenerate_var(a, m->va) || degenerate_var(b, m->vb))
		return SL_AB_ZERO_VARIANCE;
	double ua = sl_ab_unadjusted_mean(a), ub = sl_ab_unadjusted_mean(b);
	if (relative && ua == 0)
		return SL_AB_ZERO_BASELINE;
	m->pe = relative ? (m->mb - m->ma) / fabs(ua) : m->mb - m->ma;
	double v = sl_ab_delta_var(m->va, ua, m->na, m->vb, ub, m->nb, relative);
	if (!isfinite(m->pe) || !isfinite(v))
		return SL_AB_NUMERIC;
	if (!(v > 0))
		return SL_AB_ZERO_VARIANCE;
	m->se = sqrt(v);
	return SL_AB_OK;
}

static bool bad_args(const struct sl_ab_stat *a, const struct sl_ab_stat *b, const struct sl_ab_opts *o,
                     const struct sl_ab_result *out)
{
	return !a || !b || !o || !out || !(o->alpha > 0 && o->alpha < 1) ||
	       (o->alt != SL_ALT_TWO_SIDED && o->alt != SL_ALT_LESS && o->alt != SL_ALT_GREATER);
}

/* Starts a result from the moments: ok, or the default output with the reason. */
static bool begin(const struct sl_ab_stat *a, const struct sl_ab_stat *b, bool relative, struct moments *m,
                  struct sl_ab_result *out)
{
	enum sl_ab_status st = moments(a, b, relative, m);
	if (st != SL_AB_OK) {
		default_output(out, st, m->ma, m->mb);
		return false;
	}
	*out = (struct sl_ab_result){
		.expected = m->pe,
		.stddev = m->se,
		.p_value = 1,
		.chance_to_win = 0.5,
		.df = INFINITY,
		.mean_a = m->ma,
		.mean_b = m->mb,
		.ok = true,
		.status = SL_AB_OK,
	};
	return true;
}

static double welch_df(const struct moments *m)
{
	double a = m->va / m->na, b = m->vb / m->nb;
	return (a + b) * (a + b) / (b * b / (m->nb - 1) + a * a / (m->na - 1));
}

int sl_ab_frequentist(const struct sl_ab_stat *a, const struct sl_ab_stat *b, const struct sl_ab_opts *o,
                      struct sl_ab_result *out)
{
	if (bad_args(a, b, o, out))
		return SL_EINVAL;
	struct moments m;
	if (!begin(a, b, o->relative, &m, out))
		return 0;
	double df = welch_df(&m), t = m.pe / m.se;
	out->df = df;
	if (o->alt == SL_ALT_TWO_SIDED) {
		double h = sl_t_isf(o->alpha / 2, df) * m.se;
		out->p_value = fmin(1, 2 * sl_t_sf(fabs(t), df));
		out->ci[0] = m.pe - h, out->ci[1] = m.pe + h;
	} else {
		double h = sl_t_isf(o->alpha, df) * m.se;
		bool greater = o->alt == SL_ALT_GREATER;
		out->p_value = greater ? sl_t_sf(t, df) : sl_t_cdf(t, df);
		out->ci[0] = greater ? m.pe - h : -INFINITY;
		out->ci[1] = greater ? INFINITY : m.pe + h;
	}
	return 0;
}

/* GrowthBook sequentialIntervalHalfwidthOneSided, rho fixed (from 2 alpha at the test's alpha). */
static double seq_halfwidth_one_sided(double s2, double n, double rho2, double alpha)
{
	double nr = n * rho2;
	return sqrt(s2 * 2 * (nr + 1) / (nr * n) * log(1 + sqrt(nr + 1) / (2 * alpha)));
}

/* GrowthBook SequentialOneSidedTreatmentLesserTTest.computePValue: bisection on alpha in
 * [1e-5, 0.4999] for the alpha whose one-sided bound touches 0 (tolerance 1e-6 on the bound,
 * at most 100 steps), with rho held at the test's own. */
static double seq_one_sided_p(const struct moments *m, double n, double rho2, bool greater)
{
	double s2 = m->se * m->se * n, lo = 1e-5, hi = 0.4999;
	double bound_lo = greater ? m->pe - seq_halfwidth_one_sided(s2, n, rho2, lo)
	                          : m->pe + seq_halfwidth_one_sided(s2, n, rho2, lo);
	if (greater ? bound_lo > 0 : bound_lo < 0)
		return lo;
	double bound_hi = greater ? m->pe - seq_halfwidth_one_sided(s2, n, rho2, hi)
	                          : m->pe + seq_halfwidth_one_sided(s2, n, rho2, hi);
	if (greater ? bound_hi < 0 : bound_hi > 0)
		return hi;
	double mid = 0.5 * (lo + hi);
	for (int i = 0; i < 100; i++) {
		double hw = seq_halfwidth_one_sided(s2, n, rho2, mid);
		double diff = greater ? m->pe - hw : m->pe + hw;
		if (greater ? diff < 0 : diff > 0)
			lo = mid;
		else
			hi = mid;
		mid = 0.5 * (lo + hi);
		if (fabs(diff) < 1e-6)
			break;
	}
	return mid;
}

int sl_ab_sequential(const struct sl_ab_stat *a, const struct sl_ab_stat *b, const struct sl_ab_opts *o,
                     struct sl_ab_result *out)
{
	if (bad_args(a, b, o, out) || !(o->n_star > 0) || (o->alt != SL_ALT_TWO_SIDED && !(o->alpha < 0.5)))
		return SL_EINVAL;
	struct moments m;
	if (!begin(a, b, o->relative, &m, out))
		return 0;
	double n = m.na + m.nb;
	if (o->alt == SL_ALT_TWO_SIDED) {
		struct sl_msprt_result r;
		if (sl_msprt_eval(m.pe, m.se, n, sl_msprt_rho2(o->alpha, o->n_star), o->alpha, &r) != 0) {
			default_output(out, SL_AB_NUMERIC, m.ma, m.mb);
			return 0;
		}
		out->p_value = r.pvalue, out->ci[0] = r.lo, out->ci[1] = r.hi;
		return 0;
	}
	bool greater = o->alt == SL_ALT_GREATER;
	double rho2 = sl_msprt_rho2(2 * o->alpha, o->n_star);
	double hw = seq_halfwidth_one_sided(m.se * m.se * n, n, rho2, o->alpha);
	out->ci[0] = greater ? m.pe - hw : -INFINITY;
	out->ci[1] = greater ? INFINITY : m.pe + hw;
	out->p_value = seq_one_sided_p(&m, n, rho2, greater);
	return 0;
}

void sl_ab_risk(double mu, double sigma, double risk[2])
{
	double z = mu / sigma, d = sigma * sl_norm_pdf(z);
	risk[0] = mu * sl_norm_cdf(z) + d;
	risk[1] = -mu * sl_norm_cdf(-z) + d;
}

int sl_ab_bayesian(const struct sl_ab_stat *a, const struct sl_ab_stat *b, const struct sl_ab_opts *o,
                   struct sl_ab_result *out)
{
	if (bad_args(a, b, o, out) || (o->prior_proper && !(o->prior_var > 0 && isfinite(o->prior_mean))))
		return SL_EINVAL;
	struct moments m;
	if (!begin(a, b, o->relative, &m, out))
		return 0;
	double pm = o->prior_mean, pv = o->prior_var;
	if (o->prior_proper && o->relative != o->prior_relative) {
		/* GrowthBook scales the prior to the difference's scale by a's unadjusted mean */
		double u = sl_ab_unadjusted_mean(a);
		if (u == 0) {
			default_output(out, SL_AB_ZERO_BASELINE, m.ma, m.mb);
			return 0;
		}
		double s = o->relative ? 1 / fabs(u) : fabs(u);
		pm *= s, pv *= s * s;
	}
	double prec = 1 / (m.se * m.se) + (o->prior_proper ? 1 / pv : 0);
	double mean = o->prior_proper ? (m.pe / (m.se * m.se) + pm / pv) / prec : m.pe;
	double sd = sqrt(1 / prec);
	if (!isfinite(mean) || !(sd > 0)) {
		default_output(out, SL_AB_NUMERIC, m.ma, m.mb);
		return 0;
	}
	double z = sl_norm_isf(o->alpha / 2);
	out->expected = mean, out->stddev = sd;
	out->ci[0] = mean - z * sd, out->ci[1] = mean + z * sd;
	out->chance_to_win = sl_norm_cdf(mean / sd);
	sl_ab_risk(mean, sd, out->risk);
	return 0;
}
