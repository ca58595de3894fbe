/* tests.c: the two-sample tests against SciPy 1.10 (tests/data/stats/expected.json):
 * Mann-Whitney U, Hodges-Lehmann (against numpy brute force, and whether its interval attains
 * the confidence asked for), Fisher's exact test, two proportions (z-test, Wilson, Newcombe),
 * Welch's t, Kolmogorov-Smirnov, chi-squared.
 * Tolerances are stated per family; statistics that are exact rationals are compared exactly. */
#include "expect.h"

TestSuite(tests, .init = ex_load, .fini = ex_free);

static enum sl_mwu_method mwu_method(const char *s)
{
	return strcmp(s, "exact") == 0 ? SL_MWU_EXACT : strcmp(s, "asymptotic") == 0 ? SL_MWU_ASYMPTOTIC : SL_MWU_AUTO;
}

Test(tests, mann_whitney)
{
	struct ex_worst wu = {"mwu U", 0, 0, 0}, wp = {"mwu p", 0, 1e-12, 0};
	ex_rows(i, c, "mwu")
	{
		struct ex_pair p = ex_pair_of(c);
		const char *alt = ex_str(c, "alt"), *m = ex_str(c, "method");
		struct sl_mwu_result r;
		int rc = sl_mannwhitneyu(p.x, p.nx, p.y, p.ny, ex_alt(alt), mwu_method(m), true, &r);
		cr_expect_eq(rc, 0, "mwu[%zu] rc %d", i, rc);
		ex_check(&wu, r.u1, ex_field(c, "u"), "case %zu (%zu vs %zu)", i, p.nx, p.ny);
		ex_check(&wp, r.pvalue, ex_field(c, "p"), "case %zu (%zu vs %zu, %s, %s)", i, p.nx, p.ny, alt, m);
		cr_expect_eq(r.exact, json_object_get_boolean(ex_get(c, "exact")), "case %zu: method chosen", i);
		ex_pair_free(&p);
	}
	ex_report(&wu);
	ex_report(&wp);
}

Test(tests, mann_whitney_edges)
{
	double x[] = {1, 2, 3}, y[] = {4, 5}, nanv[] = {NAN};
	struct sl_mwu_result r;
	cr_expect_eq(sl_mannwhitneyu(x, 0, y, 2, SL_ALT_TWO_SIDED, SL_MWU_AUTO, true, &r), SL_EINVAL);
	cr_expect_eq(sl_mannwhitneyu(nanv, 1, y, 2, SL_ALT_TWO_SIDED, SL_MWU_AUTO, true, &r), SL_EINVAL);
	/* exact, complete separation: P(U2 >= 6) = 1/C(5,2) = 0.1, two-sided 0.2 */
	cr_assert_eq(sl_mannwhitneyu(x, 3, y, 2, SL_ALT_TWO_SIDED, SL_MWU_AUTO, true, &r), 0);
	cr_expect(r.exact && r.u1 == 0 && fabs(r.pvalue - 0.2) < 1e-15, "u1 %g p %.17g", r.u1, r.pvalue);
	/* all values equal: no information, p = 1 with the continuity correction */
	double e1[] = {7, 7, 7, 7, 7, 7, 7, 7, 7, 7}, e2[] = {7, 7, 7, 7, 7, 7, 7, 7, 7};
	cr_assert_eq(sl_mannwhitneyu(e1, 10, e2, 9, SL_ALT_TWO_SIDED, SL_MWU_AUTO, true, &r), 0);
	cr_expect(!r.exact && r.pvalue == 1, "p %g", r.pvalue);
	/* exact is bounded: 2100 x 2100 > SL_MWU_EXACT_MAX_CELLS, 700 x 700 is too much work */
	double *big = calloc(2100, sizeof *big);
	for (int i = 0; i < 2100; i++)
		big[i] = i;
	cr_expect_eq(sl_mannwhitneyu(big, 2100, big, 2100, SL_ALT_TWO_SIDED, SL_MWU_EXACT, true, &r), SL_ERANGE);
	cr_expect_eq(sl_mannwhitneyu(big, 700, big + 1, 700, SL_ALT_TWO_SIDED, SL_MWU_EXACT, true, &r), SL_ERANGE);
	cr_expect_eq(sl_mannwhitneyu(big, 6, big + 100, 2000, SL_ALT_TWO_SIDED, SL_MWU_AUTO, true, &r), 0);
	cr_expect(r.exact, "6 x 2000 without ties is exact under AUTO");
	free(big);
}

Test(tests, hodges_lehmann)
{
	struct ex_worst w = {"hl estimate/interval", 0, 0, 0};
	ex_rows(i, c, "hl")
	{
		struct ex_pair p = ex_pair_of(c);
		struct sl_hl_result r;
		cr_assert_eq(sl_hodges_lehmann(p.x, p.nx, p.y, p.ny, ex_field(c, "conf"), &r), 0);
		ex_check(&w, r.estimate, ex_field(c, "estimate"), "case %zu estimate", i);
		ex_check(&w, r.lo, ex_field(c, "lo"), "case %zu lo", i);
		ex_check(&w, r.hi, ex_field(c, "hi"), "case %zu hi", i);
		cr_expect_eq(r.k_lo, (int64_t)ex_field(c, "k"), "case %zu K", i);
		cr_expect_eq(r.k_hi, (int64_t)(p.nx * p.ny) + 1 - r.k_lo, "case %zu upper rank", i);
		ex_pair_free(&p);
	}
	ex_report(&w);
}

/* Ten values a side reach 95% but not 1 - 1e-6: K is then clamped to 1, and said so. */
Test(tests, hodges_lehmann_attained)
{
	double x[10], y[10];
	for (int i = 0; i < 10; i++)
		x[i] = i, y[i] = 2 * i;
	struct sl_hl_result r;
	cr_assert_eq(sl_hodges_lehmann(x, 10, y, 10, 0.95, &r), 0);
	cr_expect(r.attained && r.k_lo > 1, "K %lld", (long long)r.k_lo);
	cr_assert_eq(sl_hodges_lehmann(x, 10, y, 10, 1 - 1e-6, &r), 0);
	cr_expect(!r.attained && r.k_lo == 1, "K %lld", (long long)r.k_lo);
}

/* Selection against sorting every difference, on random data with many ties. */
Test(tests, pairdiff_select_bruteforce)
{
	struct sl_rng rng;
	sl_rng_seed(&rng, 7);
	for (int trial = 0; trial < 40; trial++) {
		size_t nx = 1 + sl_rng_next(&rng) % 60, ny = 1 + sl_rng_next(&rng) % 60;
		double xs[60], ys[60], *d = malloc(nx * ny * sizeof *d);
		for (size_t i = 0; i < nx; i++)
			xs[i] = (double)(sl_rng_next(&rng) % 9) * 0.1;
		for (size_t j = 0; j < ny; j++)
			ys[j] = trial % 2 ? sl_rng_normal(&rng) : (double)(sl_rng_next(&rng) % 7) * 0.1;
		qsort(xs, nx, sizeof *xs, ex_cmp_double);
		qsort(ys, ny, sizeof *ys, ex_cmp_double);
		for (size_t i = 0; i < nx; i++)
			for (size_t j = 0; j < ny; j++)
				d[i * ny + j] = ys[j] - xs[i];
		qsort(d, nx * ny, sizeof *d, ex_cmp_double);
		for (size_t k = 0; k < nx * ny; k += 1 + nx * ny / 17) {
			double v;
			cr_assert_eq(sl_pairdiff_select(xs, nx, ys, ny, (int64_t)k, &v), 0);
			cr_expect_eq(v, d[k], "trial %d: k=%zu of %zu: got %g want %g", trial, k, nx * ny, v, d[k]);
		}
		free(d);
	}
	double v, one = 1;
	cr_expect_eq(sl_pairdiff_select(&one, 1, &one, 1, 1, &v), SL_EINVAL);
}

Test(tests, fisher_exact)
{
	struct ex_worst wp = {"fisher p", 0, 1e-12, 0}, wo = {"fisher odds ratio", 0, 1e-15, 0};
	const char *alts[] = {"two-sided", "less", "greater"};
	ex_rows(i, c, "fisher")
	{
		json_object *t = ex_get(c, "t");
		int64_t tab[4];
		for (int j = 0; j < 4; j++)
			tab[j] = json_object_get_int64(ex_at(t, (size_t)j));
		for (int a = 0; a < 3; a++) {
			struct sl_fisher_result r;
			cr_assert_eq(sl_fisher_exact(tab, ex_alt(alts[a]), &r), 0);
			ex_check(&wp, r.pvalue, ex_field(c, alts[a]), "[[%ld,%ld],[%ld,%ld]] %s", (long)tab[0],
			         (long)tab[1], (long)tab[2], (long)tab[3], alts[a]);
			ex_check(&wo, r.odds_ratio, ex_field(c, "odds"), "table %zu", i);
		}
	}
	int64_t bad[4] = {1, -1, 2, 3};
	struct sl_fisher_result r;
	cr_expect_eq(sl_fisher_exact(bad, SL_ALT_TWO_SIDED, &r), SL_EINVAL);
	ex_report(&wp);
	ex_report(&wo);
}

Test(tests, proportions)
{
	struct ex_worst wz = {"prop z, p", 0, 1e-12, 0}, wi = {"wilson/newcombe", 0, 1e-12, 0};
	ex_rows(i, c, "prop")
	{
		json_object *in = ex_get(c, "in");
		int64_t x1 = json_object_get_int64(ex_at(in, 0)), n1 = json_object_get_int64(ex_at(in, 1));
		int64_t x2 = json_object_get_int64(ex_at(in, 2)), n2 = json_object_get_int64(ex_at(in, 3));
		double conf = ex_field(c, "conf");
		enum sl_alt alts[3] = {SL_ALT_TWO_SIDED, SL_ALT_LESS, SL_ALT_GREATER};
		for (int a = 0; a < 3; a++) {
			struct sl_prop_result r;
			cr_assert_eq(sl_prop_test(x1, n1, x2, n2, alts[a], conf, &r), 0);
			ex_check(&wz, r.z, ex_field(c, "z"), "case %zu z", i);
			ex_check(&wz, r.pvalue, ex_num(ex_get(c, "p"), (size_t)a), "case %zu alt %d", i, a);
			ex_check(&wi, r.lo, ex_field(c, "lo"), "case %zu newcombe lo", i);
			ex_check(&wi, r.hi, ex_field(c, "hi"), "case %zu newcombe hi", i);
		}
		double lo, hi;
		cr_assert_eq(sl_wilson_interval(x1, n1, conf, &lo, &hi), 0);
		ex_check(&wi, lo, ex_num(ex_get(c, "w1"), 0), "case %zu wilson lo", i);
		ex_check(&wi, hi, ex_num(ex_get(c, "w1"), 1), "case %zu wilson hi", i);
	}
	struct sl_prop_result r;
	cr_expect_eq(sl_prop_test(5, 4, 1, 10, SL_ALT_TWO_SIDED, 0.95, &r), SL_EINVAL);
	cr_assert_eq(sl_prop_test(0, 10, 0, 10, SL_ALT_TWO_SIDED, 0.95, &r), 0);
	cr_expect(isnan(r.z) && r.pvalue == 1);
	ex_report(&wz);
	ex_report(&wi);
}

Test(tests, welch)
{
	struct ex_worst wt = {"welch t, df", 0, 1e-12, 0}, wp = {"welch p", 0, 1e-12, 0},
	                wc = {"welch interval", 0, 1e-12, 0};
	const char *alts[] = {"two-sided", "less", "greater"};
	ex_rows(i, c, "welch")
	{
		struct ex_pair p = ex_pair_of(c);
		for (int a = 0; a < 3; a++) {
			json_object *e = ex_get(c, alts[a]);
			struct sl_welch_result r;
			cr_assert_eq(sl_welch(p.x, p.nx, p.y, p.ny, ex_alt(alts[a]), ex_field(c, "conf"), &r), 0);
			ex_check(&wt, r.t, ex_field(e, "t"), "case %zu %s t", i, alts[a]);
			ex_check(&wt, r.df, ex_field(e, "df"), "case %zu df", i);
			ex_check(&wp, r.pvalue, ex_field(e, "p"), "case %zu %s", i, alts[a]);
			double lo = ex_field(e, "lo"), hi = ex_field(e, "hi");
			ex_check(&wc, r.lo, isnan(lo) ? -INFINITY : lo, "case %zu %s lo", i, alts[a]);
			ex_check(&wc, r.hi, isnan(hi) ? INFINITY : hi, "case %zu %s hi", i, alts[a]);
		}
		ex_pair_free(&p);
	}
	double c3[] = {1, 1, 1}, r[] = {2, 3};
	struct sl_welch_result res;
	cr_expect_eq(sl_welch(c3, 3, c3, 3, SL_ALT_TWO_SIDED, 0.95, &res), SL_ERANGE);
	cr_expect_eq(sl_welch(c3, 1, r, 2, SL_ALT_TWO_SIDED, 0.95, &res), SL_EINVAL);
	ex_report(&wt);
	ex_report(&wp);
	ex_report(&wc);
}

static enum sl_ks_method ks_method(const char *s)
{
	return strcmp(s, "exact") == 0 ? SL_KS_EXACT : strcmp(s, "asymp") == 0 ? SL_KS_ASYMP : SL_KS_AUTO;
}

Test(tests, kolmogorov_smirnov)
{
	struct ex_worst wd = {"ks d", 0, 0, 0}, wp = {"ks p", 0, 2e-11, 0};
	ex_rows(i, c, "ks")
	{
		struct ex_pair p = ex_pair_of(c);
		const char *alt = ex_str(c, "alt"), *m = ex_str(c, "method");
		struct sl_ks_result r;
		cr_assert_eq(sl_ks_2samp(p.x, p.nx, p.y, p.ny, ex_alt(alt), ks_method(m), &r), 0);
		ex_check(&wd, r.d, ex_field(c, "d"), "case %zu (%zu vs %zu %s %s)", i, p.nx, p.ny, alt, m);
		ex_check(&wp, r.pvalue, ex_field(c, "p"), "case %zu (%zu vs %zu %s %s)", i, p.nx, p.ny, alt, m);
		ex_pair_free(&p);
	}
	ex_report(&wd);
	ex_report(&wp);
}

Test(tests, chi_squared)
{
	struct ex_worst w = {"chi2 stat, p", 0, 1e-12, 0};
	ex_rows(i, c, "chi2.contingency")
	{
		json_object *t = ex_get(c, "t");
		size_t rows = json_object_array_length(t), cols = json_object_array_length(ex_at(t, 0));
		double tab[64];
		cr_assert_leq(rows * cols, 64);
		for (size_t a = 0; a < rows; a++)
			for (size_t b = 0; b < cols; b++)
				tab[a * cols + b] = ex_num(ex_at(t, a), b);
		struct sl_chi2_result r;
		bool corr = json_object_get_boolean(ex_get(c, "correction"));
		cr_assert_eq(sl_chi2_contingency(tab, rows, cols, corr, &r), 0);
		ex_check(&w, r.statistic, ex_field(c, "stat"), "table %zu", i);
		ex_check(&w, r.df, ex_field(c, "df"), "table %zu df", i);
		ex_check(&w, r.pvalue, ex_field(c, "p"), "table %zu", i);
	}
	ex_rows(i, c, "chi2.gof")
	{
		json_object *e = ex_get(c, "exp");
		double *obs, *exp = NULL;
		size_t k = ex_sample(ex_get(c, "obs"), &obs);
		if (!json_object_is_type(e, json_type_null))
			ex_sample(e, &exp);
		struct sl_chi2_result r;
		cr_assert_eq(sl_chisquare(obs, exp, k, (int)ex_field(c, "ddof"), &r), 0);
		ex_check(&w, r.statistic, ex_field(c, "stat"), "gof %zu", i);
		ex_check(&w, r.pvalue, ex_field(c, "p"), "gof %zu", i);
		free(obs);
		free(exp);
	}
	/* sample-ratio mismatch: GrowthBook's chi2_two_arms vector (p = 2.0079e-05 at 9 decimals) */
	double users[] = {1000, 1200}, weights[] = {0.5, 0.5}, w3[] = {0.5, 0.5, 0}, u3[] = {1000, 1200, 5};
	struct sl_chi2_result r;
	cr_assert_eq(sl_srm(users, weights, 2, &r), 0);
	cr_expect(fabs(r.pvalue - 2.0079e-05) < 0.5e-9, "srm p %.10g", r.pvalue);
	cr_assert_eq(sl_srm(u3, w3, 3, &r), 0);
	cr_expect(fabs(r.pvalue - 2.0079e-05) < 0.5e-9 && r.df == 1, "srm with an unused arm");
	double zero[] = {0, 5}, obs[] = {1, 2};
	cr_expect_eq(sl_chi2_contingency(zero, 1, 2, true, &r), SL_EINVAL);
	double ztab[] = {0, 0, 3, 4};
	cr_expect_eq(sl_chi2_contingency(ztab, 2, 2, true, &r), SL_EINVAL);
	double bad_exp[] = {1, 5};
	cr_expect_eq(sl_chisquare(obs, bad_exp, 2, 0, &r), SL_EINVAL);
	ex_report(&w);
}
