/* special.c: special functions and distributions against tests/data/stats/expected.json
 * (mpmath at 45 digits; SciPy for kstwo and smirnov). Each family has its own relative
 * tolerance, stated in its struct ex_worst, and logs the worst error it saw. The tolerances
 * sit a few times above the errors measured, so a wrong branch or a lost digit fails. */
#include "expect.h"

TestSuite(special, .init = ex_load, .fini = ex_free);

Test(special, lgamma_lbeta)
{
	struct ex_worst wg = {"lgamma", 0, 1e-14, 0}, wb = {"lbeta", 0, 1e-13, 0};
	ex_rows(i, r, "special.lgamma")
	{
		ex_check(&wg, sl_lgamma(ex_num(r, 0)), ex_num(r, 1), "x=%g", ex_num(r, 0));
	}
	ex_rows(i, r, "special.lbeta")
	{
		double a = ex_num(r, 0), b = ex_num(r, 1);
		/* log B near 0 is a difference of O(1) terms: compare absolutely there */
		double want = ex_num(r, 2), got = sl_lbeta(a, b);
		ex_check(&wb, fabs(want) < 1 ? got + 1 : got, fabs(want) < 1 ? want + 1 : want, "a=%g b=%g", a, b);
	}
	ex_report(&wg);
	ex_report(&wb);
}

Test(special, incomplete_gamma)
{
	struct ex_worst wp = {"gamma P", 0, 1e-12, 0}, wq = {"gamma Q", 0, 1e-12, 0};
	ex_rows(i, r, "special.gamma_pq")
	{
		double a = ex_num(r, 0), x = ex_num(r, 1);
		ex_check(&wp, sl_gamma_p(a, x), ex_num(r, 2), "a=%g x=%g", a, x);
		ex_check(&wq, sl_gamma_q(a, x), ex_num(r, 3), "a=%g x=%g", a, x);
	}
	cr_expect(isnan(sl_gamma_p(-1, 1)) && isnan(sl_gamma_q(1, -1)));
	cr_expect_eq(sl_gamma_p(2, 0), 0);
	cr_expect_eq(sl_gamma_q(2, INFINITY), 0);
	ex_report(&wp);
	ex_report(&wq);
}

Test(special, incomplete_beta)
{
	struct ex_worst wi = {"I_x(a,b)", 0, 1e-12, 0}, wc = {"1 - I_x(a,b)", 0, 1e-12, 0};
	ex_rows(i, r, "special.beta_inc")
	{
		double a = ex_num(r, 0), b = ex_num(r, 1), x = ex_num(r, 2);
		ex_check(&wi, sl_beta_inc(a, b, x), ex_num(r, 3), "a=%g b=%g x=%.17g", a, b, x);
		/* the complement takes x, so it is checked where 1 - x is exact */
		if (1 - (1 - x) == x)
			ex_check(&wc, sl_beta_incc(a, b, x), ex_num(r, 4), "a=%g b=%g x=%.17g", a, b, x);
	}
	cr_expect(isnan(sl_beta_inc(0, 1, 0.5)) && isnan(sl_beta_inc(1, 1, 1.5)));
	cr_expect_eq(sl_beta_inc(2, 3, 0), 0);
	cr_expect_eq(sl_beta_inc(2, 3, 1), 1);
	ex_report(&wi);
	ex_report(&wc);
}

Test(special, normal)
{
	struct ex_worst wc = {"norm cdf/sf", 0, 5e-13, 0}, wp = {"norm ppf", 0, 1e-15, 0};
	ex_rows(i, r, "special.norm")
	{
		double x = ex_num(r, 0);
		ex_check(&wc, sl_norm_cdf(x), ex_num(r, 1), "cdf x=%g", x);
		ex_check(&wc, sl_norm_sf(x), ex_num(r, 2), "sf x=%g", x);
	}
	ex_rows(i, r, "special.norm_ppf")
	{
		double p = ex_num(r, 0);
		ex_check(&wp, sl_norm_ppf(p), ex_num(r, 1), "p=%g", p);
		ex_check(&wp, sl_norm_isf(p), -ex_num(r, 1), "isf q=%g", p);
	}
	cr_expect(isinf(sl_norm_ppf(0)) && sl_norm_ppf(0) < 0 && isinf(sl_norm_ppf(1)));
	cr_expect(isnan(sl_norm_ppf(-0.1)));
	ex_report(&wc);
	ex_report(&wp);
}

Test(special, student_t)
{
	struct ex_worst wc = {"t cdf/sf", 0, 1e-12, 0}, wp = {"t ppf", 0, 1e-12, 0};
	ex_rows(i, r, "special.t")
	{
		double t = ex_num(r, 0), df = ex_num(r, 1);
		ex_check(&wc, sl_t_cdf(t, df), ex_num(r, 2), "cdf t=%g df=%g", t, df);
		ex_check(&wc, sl_t_sf(t, df), ex_num(r, 3), "sf t=%g df=%g", t, df);
	}
	ex_rows(i, r, "special.t_ppf")
	{
		double p = ex_num(r, 0), df = ex_num(r, 1);
		ex_check(&wp, sl_t_ppf(p, df), ex_num(r, 2), "p=%.17g df=%g", p, df);
	}
	cr_expect_eq(sl_t_ppf(0.5, 3), 0);
	cr_expect(ex_close(sl_t_cdf(1.5, INFINITY), sl_norm_cdf(1.5), 0));
	cr_expect(isnan(sl_t_cdf(1, 0)));
	ex_report(&wc);
	ex_report(&wp);
}

Test(special, chi2_f)
{
	struct ex_worst wc = {"chi2 cdf/sf", 0, 1e-12, 0}, wf = {"F sf", 0, 1e-12, 0};
	ex_rows(i, r, "special.chi2")
	{
		double x = ex_num(r, 0), df = ex_num(r, 1);
		ex_check(&wc, sl_chi2_cdf(x, df), ex_num(r, 2), "cdf x=%g df=%g", x, df);
		ex_check(&wc, sl_chi2_sf(x, df), ex_num(r, 3), "sf x=%g df=%g", x, df);
	}
	ex_rows(i, r, "special.f_sf")
	{
		double x = ex_num(r, 0), d1 = ex_num(r, 1), d2 = ex_num(r, 2);
		ex_check(&wf, sl_f_sf(x, d1, d2), ex_num(r, 3), "x=%g d1=%g d2=%g", x, d1, d2);
		double c = sl_f_cdf(x, d1, d2);
		cr_expect(fabs(c + sl_f_sf(x, d1, d2) - 1) < 1e-15, "F cdf + sf != 1 at x=%g", x);
	}
	ex_report(&wc);
	ex_report(&wf);
}

Test(special, binomial)
{
	struct ex_worst wp = {"binom pmf", 0, 1e-12, 0}, wc = {"binom cdf/sf", 0, 1e-12, 0};
	ex_rows(i, r, "special.binom")
	{
		double k = ex_num(r, 0), n = ex_num(r, 1), p = ex_num(r, 2);
		ex_check(&wp, sl_binom_pmf(k, n, p), ex_num(r, 3), "k=%g n=%g p=%g", k, n, p);
		ex_check(&wc, sl_binom_cdf(k, n, p), ex_num(r, 4), "cdf k=%g n=%g p=%g", k, n, p);
		if (ex_num(r, 5) > 1e-300)
			ex_check(&wc, sl_binom_sf(k, n, p), ex_num(r, 5), "sf k=%g n=%g p=%g", k, n, p);
	}
	cr_expect_eq(sl_binom_pmf(2.5, 10, 0.5), 0);
	ex_report(&wp);
	ex_report(&wc);
}

Test(special, hypergeometric)
{
	struct ex_worst wl = {"hypergeom logpmf", 0, 1e-12, 0}, wp = {"hypergeom pmf/cdf/sf", 0, 1e-12, 0};
	ex_rows(i, r, "special.hypergeom")
	{
		int64_t k = (int64_t)ex_num(r, 0), tot = (int64_t)ex_num(r, 1), good = (int64_t)ex_num(r, 2),
		        draws = (int64_t)ex_num(r, 3);
		double lw = ex_num(r, 4);
		/* log pmf near 0 is compared absolutely (via + 1) */
		double lg = sl_hypergeom_logpmf(k, tot, good, draws);
		ex_check(&wl, fabs(lw) < 1 ? lg + 1 : lg, fabs(lw) < 1 ? lw + 1 : lw, "k=%ld M=%ld", (long)k,
		         (long)tot);
		ex_check(&wp, sl_hypergeom_pmf(k, tot, good, draws), ex_num(r, 5), "pmf k=%ld M=%ld", (long)k,
		         (long)tot);
		ex_check(&wp, sl_hypergeom_cdf(k, tot, good, draws), ex_num(r, 6), "cdf k=%ld M=%ld", (long)k,
		         (long)tot);
		if (ex_num(r, 7) > 1e-300)
			ex_check(&wp, sl_hypergeom_sf(k, tot, good, draws), ex_num(r, 7), "sf k=%ld M=%ld", (long)k,
			         (long)tot);
	}
	cr_expect(isnan(sl_hypergeom_pmf(1, 10, 11, 2)));
	ex_report(&wl);
	ex_report(&wp);
}

Test(special, kolmogorov)
{
	struct ex_worst wk = {"kstwo cdf/sf (SciPy)", 0, 1e-10, 0}, ws = {"smirnov (SciPy)", 0, 1e-12, 0};
	ex_rows(i, r, "special.kstwo")
	{
		double d = ex_num(r, 0);
		int64_t n = (int64_t)ex_num(r, 1);
		ex_check(&wk, sl_kstwo_cdf(d, n), ex_num(r, 2), "cdf d=%.17g n=%ld", d, (long)n);
		if (ex_num(r, 3) > 0)
			ex_check(&wk, sl_kstwo_sf(d, n), ex_num(r, 3), "sf d=%.17g n=%ld", d, (long)n);
	}
	ex_rows(i, r, "special.smirnov")
	{
		int64_t n = (int64_t)ex_num(r, 0);
		double d = ex_num(r, 1);
		if (ex_num(r, 2) > 0)
			ex_check(&ws, sl_smirnov(n, d), ex_num(r, 2), "n=%ld d=%g", (long)n, d);
	}
	ex_report(&wk);
	ex_report(&ws);
}

/* Shapes beyond mpmath's reach, against asymptotic expansions (see gen_expected.py). */
Test(special, large_shapes)
{
	struct ex_worst wg = {"P(a,a), a >= 1e9", 0, 1e-14, 0}, wt = {"t, df >= 1e15", 0, 5e-13, 0},
	                wb = {"I_x(a,a), a in 1e8..1e10", 0, 1e-10, 0};
	ex_rows(i, r, "special.asymptotic.gamma_p_at_a")
	{
		ex_check(&wg, sl_gamma_p(ex_num(r, 0), ex_num(r, 0)), ex_num(r, 1), "a=%g", ex_num(r, 0));
	}
	ex_rows(i, r, "special.asymptotic.t_large_df")
	{
		double t = ex_num(r, 0), df = ex_num(r, 1);
		ex_check(&wt, sl_t_cdf(t, df), ex_num(r, 2), "t=%g df=%g", t, df);
	}
	ex_rows(i, r, "special.asymptotic.beta_sym")
	{
		double a = ex_num(r, 0), x = ex_num(r, 1);
		ex_check(&wb, sl_beta_inc(a, a, x), ex_num(r, 2), "a=%g x=%.17g", a, x);
	}
	/* beyond the double range the t quantile is infinite, never a wrong finite number */
	cr_expect(isinf(sl_t_ppf(1e-12, 0.001)) && sl_t_ppf(1e-12, 0.001) < 0);
	double t = sl_t_ppf(1e-12, 0.05);
	cr_expect(fabs(sl_t_cdf(t, 0.05) / 1e-12 - 1) < 1e-12, "df 0.05: t %g cdf %g", t, sl_t_cdf(t, 0.05));
	ex_report(&wg);
	ex_report(&wt);
	ex_report(&wb);
}
