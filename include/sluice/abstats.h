/* abstats.h: A/B-test statistics on sufficient statistics, reproducing GrowthBook's gbstats
 * (packages/stats) figures: per-arm statistics (sample mean, proportion, ratio, CUPED
 * regression adjustment, quantile), the frequentist Welch t-test (relative or absolute,
 * one- or two-sided), GrowthBook's sequential always-valid intervals, the Gaussian Bayesian
 * test (flat or proper prior, chance to win, risk), the sample-ratio-mismatch check, Holm and
 * Benjamini-Hochberg adjustment and the delta-method variance used by power analysis.
 * Formulas and sources: docs/EXPERIMENTS.md, "Statistics".
 * Invariants: pure (no I/O, no locks, no global state, no allocation); every function on two
 * arms is O(1); results never hold NaN: a degenerate input (fewer than 2 units, zero or negative
 * variance, zero baseline mean for a relative difference) gives ok == false, a static reason
 * in `error`, and GrowthBook's default output (expected 0, ci [0, 0], stddev 0, p 1,
 * chance to win 0.5, risk [0, 0]). An int return is 0 or a negative SL_E* code (SL_EINVAL for
 * a NULL pointer or a parameter out of range such as alpha outside (0, 1)); a degenerate
 * input is not an error code: the call returns 0 and the result says ok == false. */
#ifndef SLUICE_ABSTATS_H
#define SLUICE_ABSTATS_H

#include <stdbool.h>
#include <stddef.h>

#include "sluice/core.h"
#include "sluice/stats.h"

/* ---- per-arm statistics (abstats.c) ---- */

enum sl_ab_kind {
	SL_AB_MEAN,       /* SampleMeanStatistic: var = (sum_sq - sum^2/n)/(n-1) */
	SL_AB_PROPORTION, /* ProportionStatistic: values 0/1, var = p(1-p) (population) */
	SL_AB_RATIO,      /* RatioStatistic: sum(num)/sum(den) per unit, delta-method variance */
	SL_AB_CUPED,      /* RegressionAdjustedStatistic: post - theta * pre */
	SL_AB_QUANTILE,   /* QuantileStatistic: a quantile with its order-statistic interval */
};

/* One arm. n counts units (users); the other fields are sums over units of the per-unit
 * value y (ratio: numerator; CUPED: post period), its square, and for RATIO the per-unit
 * denominator d, for CUPED the pre-period covariate x. `binary` (RATIO and CUPED only) says the
 * components are 0/1 values, giving them ProportionStatistic variances and covariance as in
 * GrowthBook. theta (CUPED) is set by sl_ab_cuped_theta over both arms; 0 leaves y unadjusted.
 * QUANTILE uses n, q_nu, q_hat, q_lo, q_hi and q_n_star (see sl_ab_quantile_from_sorted). */
struct sl_ab_stat {
	enum sl_ab_kind kind;
	bool binary;
	double n;
	double sum, sum_sq;               /* y */
	double d_sum, d_sum_sq, yd_sum;   /* RATIO: d, d^2, y*d */
	double x_sum, x_sum_sq, yx_sum;   /* CUPED: x, x^2, y*x */
	double theta;                     /* CUPED */
	double q_nu, q_hat, q_lo, q_hi, q_n_star; /* QUANTILE */
};

/* Zeroes s and sets its kind. */
void sl_ab_stat_init(struct sl_ab_stat *s, enum sl_ab_kind kind);
/* Adds one unit: y, and d (RATIO) or x (CUPED); the second value is ignored otherwise.
 * Not for QUANTILE. */
void sl_ab_stat_add(struct sl_ab_stat *s, double y, double dx);
/* dst += src (same kind; theta and quantile fields of dst are kept). */
void sl_ab_stat_merge(struct sl_ab_stat *dst, const struct sl_ab_stat *src);

/* GrowthBook's `mean` (CUPED: adjusted by theta; RATIO: sum/d_sum, 0 when d_sum is 0; 0 when
 * n is 0), `unadjusted_mean` (CUPED: post-period mean) and per-unit `variance` (0 when n <= 1
 * or a ratio's denominator mean is 0; may be negative for inconsistent sums, which the tests
 * reject). */
double sl_ab_mean(const struct sl_ab_stat *s);
double sl_ab_unadjusted_mean(const struct sl_ab_stat *s);
double sl_ab_var(const struct sl_ab_stat *s);
/* Covariance of two components over n units (GrowthBook compute_covariance): binary
 * components sp/n - s1 s2/n^2, otherwise (sp - s1 s2/n)/(n-1); 0 when n <= 1. */
double sl_ab_cov(double n, double s1, double s2, double sp, bool binary);

/* CUPED: the pooled theta = cov(y, x)/var(x) over both arms together (GrowthBook
 * compute_theta; 0 when either pooled variance is 0). sl_ab_cuped_prepare computes it and
 * stores it in both arms (CUPED only; SL_EINVAL otherwise). */
double sl_ab_cuped_theta(const struct sl_ab_stat *a, const struct sl_ab_stat *b);
int sl_ab_cuped_prepare(struct sl_ab_stat *a, struct sl_ab_stat *b);

/* QUANTILE from n values sorted ascending: q_hat = numpy-linear quantile nu (sl_quantile_sorted),
 * q_lo and q_hi the quantiles at nu -/+ z_{0.975} sqrt(nu (1 - nu) / n), clamped to [0, 1] (the
 * normal approximation to the binomial count of values below the quantile), q_n_star = n.
 * SL_EINVAL when n < 2 or nu outside (0, 1). */
int sl_ab_quantile_from_sorted(const double *v, size_t n, double nu, struct sl_ab_stat *out);

/* ---- two-arm comparison (abstats_compare.c) ---- */

/* Options. sl_ab_opts_init sets GrowthBook's defaults: alpha 0.05, relative, two-sided,
 * n_star (sequential tuning parameter, "tau") 5000, flat prior (prior_mean 0, prior_var 1,
 * prior_relative: GrowthBook's priorType "relative"). A proper prior stated on the other scale
 * than the difference is rescaled by a's unadjusted mean, as GrowthBook does. */
struct sl_ab_opts {
	double alpha;
	bool relative;   /* (mean_b - mean_a)/|mean_a|, else mean_b - mean_a */
	enum sl_alt alt; /* for the effect of b over a: GREATER tests effect > 0 */
	double n_star;   /* sequential */
	bool prior_proper;   /* bayesian: N(prior_mean, prior_var) on the effect, else flat */
	bool prior_relative; /* the prior is on the relative scale */
	double prior_mean, prior_var;
};
void sl_ab_opts_init(struct sl_ab_opts *o);

/* Why a result is not ok. */
enum sl_ab_status {
	SL_AB_OK,
	SL_AB_FEW_UNITS,     /* an arm has n < 2 */
	SL_AB_ZERO_VARIANCE, /* zero or negative variance in an arm (GrowthBook ZERO_NEGATIVE_VARIANCE) */
	SL_AB_ZERO_BASELINE, /* relative difference with control mean 0 (GrowthBook BASELINE_VARIATION_ZERO) */
	SL_AB_KIND_MISMATCH, /* the two arms are of different kinds */
	SL_AB_NUMERIC,       /* a non-finite intermediate (overflowing sums) */
};

/* One comparison of arm b (treatment) against arm a (control). For one-sided tests the open
 * end of ci is -inf or +inf (the only non-finite values a result may hold). p_value is NaN-free
 * and 1 in the default output; chance_to_win and risk are filled by sl_ab_bayesian only
 * (0.5 and [0, 0] otherwise). risk[0] is the expected loss of keeping a, risk[1] of
 * choosing b. df is the Welch degrees of freedom (frequentist), +inf for the other tests, 0 in
 * the default output. */
struct sl_ab_result {
	double expected;
	double ci[2];
	double stddev; /* standard error of `expected` (bayesian: posterior sd) */
	double p_value;
	double chance_to_win;
	double risk[2];
	double df;
	double mean_a, mean_b; /* GrowthBook's `mean` of each arm (CUPED: adjusted) */
	bool ok;
	enum sl_ab_status status;
	const char *error; /* static string, NULL when ok */
};
const char *sl_ab_status_str(enum sl_ab_status s);

/* Point estimate and its variance as GrowthBook's frequentist_variance: absolute
 * pe = mb - ma, var = vb/nb + va/na; relative pe = (mb - ma)/|ma|,
 * var = vb/(ma^2 nb) + va mb^2/(ma^4 na) (CUPED relative: the means are the adjusted ones and
 * the baseline in the denominator is a's unadjusted mean). */
double sl_ab_delta_var(double var_a, double mean_a, double n_a, double var_b, double mean_b, double n_b,
                       bool relative);

/* Welch t-test (GrowthBook TwoSidedTTest / OneSidedTreatment{Greater,Lesser}TTest). */
int sl_ab_frequentist(const struct sl_ab_stat *a, const struct sl_ab_stat *b, const struct sl_ab_opts *o,
                      struct sl_ab_result *out);
/* Sequential always-valid test (GrowthBook SequentialTwoSidedTTest and the one-sided variants),
 * tuning o->n_star. */
int sl_ab_sequential(const struct sl_ab_stat *a, const struct sl_ab_stat *b, const struct sl_ab_opts *o,
                     struct sl_ab_result *out);
/* Gaussian Bayesian test (GrowthBook EffectBayesianABTest): posterior N(pe, se^2) with a flat
 * prior, or with the precision-weighted proper prior; chance to win P(effect > 0), credible
 * interval at 1 - alpha, risk. */
int sl_ab_bayesian(const struct sl_ab_stat *a, const struct sl_ab_stat *b, const struct sl_ab_opts *o,
                   struct sl_ab_result *out);
/* risk of a N(mu, sigma^2) effect: [mu Phi(mu/s) + s phi(mu/s), -mu Phi(-mu/s) + s phi(mu/s)]. */
void sl_ab_risk(double mu, double sigma, double risk[2]);

/* ---- experiment-level checks (abstats_check.c) ---- */

#define SL_AB_SRM_THRESHOLD 0.001 /* GrowthBook DEFAULT_SRM_THRESHOLD */
#define SL_AB_SRM_MIN_UNITS 8     /* every arm needs this many units before SRM can be flagged */
/* Sample-ratio mismatch (sl_srm: chi-squared goodness of fit, arms with weight 0 skipped,
 * weights normalized). *flag is p < SL_AB_SRM_THRESHOLD with every weighted arm holding at
 * least SL_AB_SRM_MIN_UNITS units. No units at all: p 1, no flag. */
int sl_ab_srm(const double *units, const double *weights, size_t k, double *p, bool *flag);

/* Multiple-testing adjustment in place of p[0..n) into adjusted[0..n) (same positions; p may
 * equal adjusted). order (n entries, caller's) receives the original indexes in processing
 * order: Holm ascending p, BH descending p, ties kept in original order (GrowthBook's
 * adjustPValuesHolmBonferroni / adjustPValuesBenjaminiHochberg). Holm: running max of
 * p_(i) (n - i), BH: running min of p_(i) n / i (i 1-based ascending rank), both capped at 1.
 * SL_EINVAL for a p outside [0, 1] or NaN. */
int sl_ab_adjust_holm(const double *p, size_t n, double *adjusted, size_t *order);
int sl_ab_adjust_bh(const double *p, size_t n, double *adjusted, size_t *order);

/* ---- power analysis (abstats_power.c), GrowthBook's power.ts for relative effects ---- */

/* A metric with per-unit mean and variance, a relative effect to detect, n_total units split
 * evenly over `variations` arms (control included). n_star 0: fixed-horizon test; > 0: the
 * sequential test with that tuning parameter (its standard error scaled by the ratio of the
 * sequential half-width at 2 n_total/variations units to z_{1-alpha/2}). */
struct sl_ab_power_in {
	double mean, variance, effect;
	double n_total;
	double variations;
	double alpha; /* 0.05 */
	bool two_sided;
	double n_star;
};
/* Power: P(reject) = 1 - Phi(z* - effect/se) (+ Phi(-z* - effect/se) when two-sided), se from
 * sl_ab_delta_var(variance, mean, n, variance, mean (1 + effect), n, relative).
 * SL_EINVAL for a non-positive variance, n or mean, fewer than 2 variations, alpha outside (0, 1). */
int sl_ab_power(const struct sl_ab_power_in *in, double *power);
/* Minimum detectable relative effect at `power` (GrowthBook findMdeFrequentist's closed form,
 * z = z_{1-alpha/2} - z_{1-power}); in->effect is ignored. SL_ERANGE when no effect reaches it
 * (too few units), SL_EINVAL for power <= alpha or the power's errors. */
int sl_ab_mde(const struct sl_ab_power_in *in, double power, double *mde);

#endif
