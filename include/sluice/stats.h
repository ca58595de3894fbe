/* stats: special functions, distributions, two-sample tests, sequential tests and streaming
 * summaries for the canary judge, drift detection and A/B analysis.
 * Invariants: pure (no I/O, no locks, no global state; the only allocations are scratch
 * buffers freed before return, and the reservoir's own array); every int-returning function
 * returns 0 or a negative SL_E* code and fills *out only on success; the double-returning
 * distribution functions return NaN for arguments outside their domain.
 * Accuracy, as checked by tests/unit/stats against mpmath (special functions) and SciPy 1.10
 * (tests): special functions and distributions to a relative 1e-12 over the tested grids
 * (worst seen 3e-13, tails down to 1e-300 included; normal cdf/sf 5e-13 out to |x| = 37.5;
 * normal ppf 1e-15), incomplete beta with both shapes in 1e8..1e10 to 1e-10; kstwo to 1e-10
 * of SciPy; test statistics exact or 1e-12, p-values 1e-12 (KS 2e-11). */
#ifndef SLUICE_STATS_H
#define SLUICE_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sluice/core.h"

/* ---- special functions (special.c) ---- */
double sl_lgamma(double x);                        /* log|Gamma(x)|, thread-safe (lgamma_r) */
double sl_lbeta(double a, double b);               /* log B(a,b), a,b > 0, no cancellation for large a,b */
double sl_gamma_p(double a, double x);             /* regularized lower incomplete gamma P(a,x) */
double sl_gamma_q(double a, double x);             /* regularized upper incomplete gamma Q(a,x) = 1-P */
double sl_beta_inc(double a, double b, double x);  /* regularized incomplete beta I_x(a,b) */
double sl_beta_incc(double a, double b, double x); /* 1 - I_x(a,b), without cancellation */

/* ---- distributions (normal.c, student.c, discrete.c) ---- */
double sl_norm_pdf(double x);
double sl_norm_cdf(double x);
double sl_norm_sf(double x);  /* 1 - cdf, accurate in the upper tail */
double sl_norm_ppf(double p); /* inverse cdf (Wichura AS241), -inf at 0, +inf at 1 */
double sl_norm_isf(double q); /* inverse sf: sl_norm_isf(q) == -sl_norm_ppf(q) */
double sl_t_pdf(double t, double df);
double sl_t_cdf(double t, double df); /* Student t, df > 0 (may be fractional or +inf) */
double sl_t_sf(double t, double df);
double sl_t_ppf(double p, double df);
double sl_t_isf(double q, double df);
double sl_chi2_cdf(double x, double df);
double sl_chi2_sf(double x, double df);
double sl_f_cdf(double x, double d1, double d2);
double sl_f_sf(double x, double d1, double d2);
double sl_binom_logpmf(double k, double n, double p);
double sl_binom_pmf(double k, double n, double p);
double sl_binom_cdf(double k, double n, double p); /* P(X <= k) */
double sl_binom_sf(double k, double n, double p);  /* P(X > k), as SciPy */
/* Hypergeometric: k successes in `draws` draws from `total` items of which `good` are
 * successes (SciPy's hypergeom(M=total, n=good, N=draws)). */
double sl_hypergeom_logpmf(int64_t k, int64_t total, int64_t good, int64_t draws);
double sl_hypergeom_pmf(int64_t k, int64_t total, int64_t good, int64_t draws);
double sl_hypergeom_cdf(int64_t k, int64_t total, int64_t good, int64_t draws); /* P(X <= k) */
double sl_hypergeom_sf(int64_t k, int64_t total, int64_t good, int64_t draws);  /* P(X > k) */
/* Two-sided one-sample Kolmogorov-Smirnov statistic D_n (SciPy's kstwo). */
double sl_kstwo_cdf(double d, int64_t n);
double sl_kstwo_sf(double d, int64_t n);
/* One-sided D+_n exceedance P(D+_n >= d), exact (SciPy's special.smirnov). */
double sl_smirnov(int64_t n, double d);

/* ---- tests ---- */
/* Alternative hypothesis, with SciPy's meaning for the first sample x against y:
 * LESS says x is stochastically smaller (or its mean/proportion smaller) than y's. */
enum sl_alt { SL_ALT_TWO_SIDED, SL_ALT_LESS, SL_ALT_GREATER };

/* Mann-Whitney U (mwu.c), SciPy mannwhitneyu semantics. AUTO picks EXACT when either sample
 * has at most 8 values and there are no ties, ASYMPTOTIC otherwise (SciPy 1.10's rule);
 * EXACT is refused with SL_ERANGE past n1*n2 > SL_MWU_EXACT_MAX_CELLS (memory: n1*n2/2
 * doubles) or min(n1,n2)*n1*n2 > SL_MWU_EXACT_MAX_WORK (time: ~0.1 s at the limit); AUTO then
 * falls back to ASYMPTOTIC. The exact distribution ignores ties, as SciPy's does. */
enum sl_mwu_method { SL_MWU_AUTO, SL_MWU_ASYMPTOTIC, SL_MWU_EXACT };
#define SL_MWU_EXACT_MAX_CELLS (1u << 22)
#define SL_MWU_EXACT_MAX_WORK  (1u << 27)
struct sl_mwu_result {
	double u1; /* U of the first sample: R1 - n1(n1+1)/2 */
	double pvalue;
	double z;   /* standardized statistic used (asymptotic), NaN for exact */
	bool exact; /* method actually used */
	bool ties;
};
int sl_mannwhitneyu(const double *x, size_t nx, const double *y, size_t ny, enum sl_alt alt, enum sl_mwu_method method,
                    bool continuity, struct sl_mwu_result *out);

/* Hodges-Lehmann shift of y relative to x (hl.c): the median of the nx*ny differences
 * y_j - x_i, with the distribution-free interval [D_(K), D_(N+1-K)] (1-based order
 * statistics of the N = nx*ny differences), K = max(1, ceil(N/2 - 0.5 - z sqrt(N(nx+ny+1)/12)))
 * from the normal approximation of U with continuity correction, z = norm_isf((1-conf)/2).
 * Exact selection in O((nx+ny) log(nx*ny)) time and O(nx+ny) memory, no subsampling. */
struct sl_hl_result {
	double estimate;
	double lo, hi;
	int64_t k_lo, k_hi; /* 1-based ranks of the interval ends among the differences */
	bool attained;      /* the interval reaches confidence conf; false when K was clamped to 1
	                       (too few values: even [D_(1), D_(N)] falls short of conf) */
};
int sl_hodges_lehmann(const double *x, size_t nx, const double *y, size_t ny, double conf, struct sl_hl_result *out);
/* k-th smallest (0-based) of y_j - x_i, both arrays sorted ascending; exposed for tests. */
int sl_pairdiff_select(const double *xs, size_t nx, const double *ys, size_t ny, int64_t k, double *out);

/* Fisher's exact test on [[a, b], [c, d]] (fisher.c), SciPy fisher_exact semantics:
 * odds ratio a*d/(b*c) (inf when b*c == 0, NaN with pvalue 1 when a row or column is empty). */
struct sl_fisher_result {
	double odds_ratio;
	double pvalue;
};
int sl_fisher_exact(const int64_t table[4], enum sl_alt alt, struct sl_fisher_result *out);

/* Two proportions x1/n1 against x2/n2 (proportion.c): pooled z-test for p1 - p2 and the
 * Newcombe hybrid score interval (method 10, from Wilson intervals, no continuity correction). */
struct sl_prop_result {
	double p1, p2, diff; /* diff = p1 - p2 */
	double z, pvalue;    /* pooled z-test; z NaN and pvalue 1 when the pooled p is 0 or 1 */
	double lo, hi;       /* Newcombe interval for diff at the requested confidence */
};
int sl_prop_test(int64_t x1, int64_t n1, int64_t x2, int64_t n2, enum sl_alt alt, double conf,
                 struct sl_prop_result *out);
/* Wilson score interval for x/n. */
int sl_wilson_interval(int64_t x, int64_t n, double conf, double *lo, double *hi);

/* Welch's t-test (welch.c), SciPy ttest_ind(equal_var=False): t = (mean_x - mean_y)/se;
 * the interval is for mean_x - mean_y (one-sided alternatives give a one-sided interval
 * with -inf or +inf as the open end). */
struct sl_welch_result {
	double t, df, pvalue;
	double diff, se;
	double lo, hi;
};
int sl_welch_from_stats(double mean1, double var1, double n1, double mean2, double var2, double n2, enum sl_alt alt,
                        double conf, struct sl_welch_result *out);
int sl_welch(const double *x, size_t nx, const double *y, size_t ny, enum sl_alt alt, double conf,
             struct sl_welch_result *out);

/* Two-sample Kolmogorov-Smirnov (ks.c), SciPy ks_2samp: AUTO is exact when
 * max(nx, ny) <= 10000, else asymptotic; an exact computation that fails numerically falls
 * back to asymptotic, as SciPy does. */
enum sl_ks_method { SL_KS_AUTO, SL_KS_EXACT, SL_KS_ASYMP };
struct sl_ks_result {
	double d, pvalue;
	int sign;   /* +1 when the statistic is max(F_x - F_y), -1 for max(F_y - F_x) */
	bool exact; /* method actually used */
};
int sl_ks_2samp(const double *x, size_t nx, const double *y, size_t ny, enum sl_alt alt, enum sl_ks_method method,
                struct sl_ks_result *out);

/* Chi-squared tests (chisq.c). Contingency: r x c table, row-major, SciPy chi2_contingency
 * (Yates' correction applied only when dof == 1 and `correction`); refused (SL_EINVAL) when
 * an expected count is zero. Goodness of fit: SciPy chisquare; f_exp NULL means uniform,
 * otherwise its sum must match f_obs's to a relative 1e-8. */
struct sl_chi2_result {
	double statistic, df, pvalue;
};
int sl_chi2_contingency(const double *table, size_t rows, size_t cols, bool correction, struct sl_chi2_result *out);
int sl_chisquare(const double *f_obs, const double *f_exp, size_t k, int ddof, struct sl_chi2_result *out);
/* Sample-ratio mismatch: counts per arm against planned weights (arms with weight 0 are
 * skipped), p = chi2 goodness-of-fit with df = arms used - 1. */
int sl_srm(const double *counts, const double *weights, size_t k, struct sl_chi2_result *out);

/* ---- stratified tests (stratified.c): two samples compared within each stratum, pooled ----
 * Values: van Elteren's stratified Wilcoxon-Mann-Whitney test of "y shifted by delta * scale
 * is like x" in every stratum (weights 1/(N_k + 1), tie-corrected variance, no continuity
 * correction: one stratum is SciPy's mannwhitneyu(y - delta scale, x, use_continuity=False)).
 * x and y must be sorted ascending and finite; a stratum with an empty side is skipped;
 * SL_EINVAL when no stratum has both sides. z > 0 says y is larger. */
struct sl_ve_stratum {
	const double *x, *y; /* sorted ascending */
	size_t nx, ny;
	double scale; /* > 0: the shift delta moves y by delta * scale in this stratum */
};
struct sl_van_elteren_result {
	double statistic, variance; /* sum of weighted (U_k - E U_k), and its variance */
	double z, pvalue;
	size_t strata; /* strata with both sides */
};
int sl_van_elteren(const struct sl_ve_stratum *s, size_t k, double delta, enum sl_alt alt,
                   struct sl_van_elteren_result *out);
/* The common shift: estimate = where z(delta) crosses 0, [lo, hi] = where it crosses
 * +-norm_isf((1-conf)/2) (each end a one-sided bound at (1+conf)/2), by bisection to a relative
 * 1e-9. An end the data cannot reach (even the extreme shift leaves z short) is -inf / +inf
 * with its *_attained false. */
struct sl_ve_shift {
	double estimate, lo, hi;
	bool lo_attained, hi_attained;
};
int sl_van_elteren_shift(const struct sl_ve_stratum *s, size_t k, double conf, struct sl_ve_shift *out);

/* Rates: x1/n1 (e.g. candidate) against x2/n2 in each stratum. diff is the Mantel-Haenszel
 * weighted difference (weights n1 n2/N); z tests diff = margin with variances restricted to the
 * margin (at margin 0: the Cochran-Mantel-Haenszel statistic without continuity correction);
 * [lo, hi] inverts that test at conf (two-sided). exact_pvalue is the exact conditional test of
 * p1 = p2 given every stratum's margins (Fisher's exact test for one stratum; two-sided = twice
 * the smaller tail), against alt, or NaN when its support would exceed
 * SL_STRAT_EXACT_MAX_SUPPORT or its convolution SL_STRAT_EXACT_MAX_WORK multiply-adds.
 * Strata with an empty side are skipped; SL_EINVAL when none is left, for counts out of range,
 * |margin| >= 1 or conf outside (0, 1). */
#define SL_STRAT_EXACT_MAX_SUPPORT 20000
#define SL_STRAT_EXACT_MAX_WORK    1e8
struct sl_prop_stratum {
	int64_t x1, n1, x2, n2;
};
struct sl_strat_prop_result {
	double diff;
	double z, pvalue; /* of diff = margin against alt */
	double lo, hi;
	double exact_pvalue;
	size_t strata;
};
int sl_strat_prop_test(const struct sl_prop_stratum *s, size_t k, double margin, enum sl_alt alt, double conf,
                       struct sl_strat_prop_result *out);

/* ---- sequential, always-valid inference (msprt.c) ----
 * Normal-mixture SPRT (Johari et al. 2017), with GrowthBook's tuning: after n observations
 * (n = n_a + n_b) with estimate d and standard error se, let V = n se^2 and rho2 = tau^2/V
 * (mixing variance per unit of V). Then
 *   Lambda = exp(rho2 n^2 d^2 / (2 V (1 + n rho2))) / sqrt(1 + n rho2),  p = min(1, 1/Lambda)
 *   half-width = sqrt(V) sqrt(2 (n rho2 + 1) ln(sqrt(n rho2 + 1)/alpha)) / (n sqrt(rho2)).
 * rho2 from the sample size N* where the interval is tightest:
 *   rho2 = (-2 ln alpha + ln(1 - 2 ln alpha)) / N*. */
struct sl_msprt_result {
	double estimate, se, n;
	double lambda;    /* mixture likelihood ratio at the null 0 */
	double pvalue;    /* this look: min(1, 1/lambda) */
	double pvalue_av; /* always-valid: running minimum over looks (streaming only) */
	double lo, hi;    /* confidence sequence at this look (streaming: running intersection) */
};
double sl_msprt_rho2(double alpha, double n_star);
int sl_msprt_eval(double estimate, double se, double n, double rho2, double alpha, struct sl_msprt_result *out);

/* ---- streaming (stream.c) ---- */
/* Welford/Chan running mean and variance; mergeable. */
struct sl_welford {
	double n, mean, m2;
};
void sl_welford_init(struct sl_welford *w);
void sl_welford_add(struct sl_welford *w, double x);
void sl_welford_merge(struct sl_welford *w, const struct sl_welford *other);
double sl_welford_var(const struct sl_welford *w); /* sample variance (n-1), NaN below 2 */

/* Streaming mSPRT for mean(b) - mean(a): O(1) per observation through two Welford
 * accumulators. Variances are estimated unless set (known variances keep the test exact). */
struct sl_msprt {
	struct sl_welford a, b;
	double alpha, rho2;
	double var_a, var_b; /* < 0: estimate from the data */
	double p_min, lo_max, hi_min;
	uint64_t looks;
};
int sl_msprt_init(struct sl_msprt *m, double alpha, double n_star);
void sl_msprt_set_variance(struct sl_msprt *m, double var_a, double var_b);
void sl_msprt_add(struct sl_msprt *m, int arm, double x); /* arm 0 = a (control), 1 = b */
void sl_msprt_add_pair(struct sl_msprt *m, double xa, double xb);
/* One look: updates the running p-value and interval. SL_ESTATE before 2 values per arm. */
int sl_msprt_look(struct sl_msprt *m, struct sl_msprt_result *out);

/* Bounded quantile sketch: a uniform reservoir (Vitter's algorithm R) of `cap` values drawn
 * with a seeded generator. Memory: 8*cap bytes. Exact while count <= cap. Beyond, the rank
 * error of any quantile is below eps = sqrt(ln(2/delta)/(2 cap)) with probability 1-delta
 * (Dvoretzky-Kiefer-Wolfowitz), e.g. cap 4096, delta 1e-3: 0.030; cap 65536: 0.0076. */
struct sl_reservoir {
	double *v;
	size_t cap, len;
	uint64_t seen;
	struct sl_rng rng;
	bool sorted;
};
int sl_reservoir_init(struct sl_reservoir *r, size_t cap, uint64_t seed);
/* Empties r, keeping its array, and reseeds it: r then behaves as if just initialized with seed. */
void sl_reservoir_reset(struct sl_reservoir *r, uint64_t seed);
void sl_reservoir_release(struct sl_reservoir *r);
void sl_reservoir_add(struct sl_reservoir *r, double x);
/* Quantile q in [0,1] with linear interpolation (numpy's default); NaN when empty. */
double sl_reservoir_quantile(struct sl_reservoir *r, double q);
double sl_reservoir_rank_error(const struct sl_reservoir *r, double delta);

/* Sample quantile of n values sorted ascending, numpy 'linear' method. */
double sl_quantile_sorted(const double *v, size_t n, double q);

#endif
