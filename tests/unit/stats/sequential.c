/* sequential.c: the mixture SPRT: the formula against mpmath (expected.json "msprt"),
 * GrowthBook's published sequential intervals (5 decimals), the O(1) streaming state against
 * the batch formula, and simulations: under H0 the always-valid p-value keeps the type I
 * error at any stopping time below alpha where repeated fixed-horizon z-tests do not; under
 * H1 it rejects. The simulations are seeded, so their counts are fixed numbers. */
#include "expect.h"

TestSuite(sequential, .init = ex_load, .fini = ex_free);

Test(sequential, formula)
{
	struct ex_worst w = {"msprt (mpmath)", 0, 1e-12, 0};
	ex_rows(i, c, "msprt")
	{
		double rho2 = sl_msprt_rho2(ex_field(c, "alpha"), ex_field(c, "nstar"));
		ex_check(&w, rho2, ex_field(c, "rho2"), "case %zu rho2", i);
		struct sl_msprt_result r;
		cr_assert_eq(sl_msprt_eval(ex_field(c, "est"), ex_field(c, "se"), ex_field(c, "n"), rho2,
		                           ex_field(c, "alpha"), &r),
		             0);
		ex_check(&w, r.lambda, ex_field(c, "lambda"), "case %zu lambda", i);
		ex_check(&w, r.pvalue, ex_field(c, "p"), "case %zu p", i);
		ex_check(&w, r.lo, ex_field(c, "lo"), "case %zu lo", i);
		ex_check(&w, r.hi, ex_field(c, "hi"), "case %zu hi", i);
	}
	struct sl_msprt_result r;
	cr_expect_eq(sl_msprt_eval(1, 0, 10, 0.1, 0.05, &r), SL_EINVAL);
	cr_expect(isnan(sl_msprt_rho2(0, 100)));
	ex_report(&w);
}

/* GrowthBook's relative difference (delta method) as in its test suite, then our interval. */
Test(sequential, growthbook_vectors)
{
	ex_rows(i, c, "growthbook_sequential")
	{
		json_object *a = ex_get(c, "a"), *b = ex_get(c, "b");
		bool prop = strcmp(ex_str(c, "type"), "proportion") == 0;
		double na = ex_num(a, 2), nb = ex_num(b, 2), ma = ex_num(a, 0) / na, mb = ex_num(b, 0) / nb;
		double va = prop ? ma * (1 - ma) : (ex_num(a, 1) - ex_num(a, 0) * ex_num(a, 0) / na) / (na - 1);
		double vb = prop ? mb * (1 - mb) : (ex_num(b, 1) - ex_num(b, 0) * ex_num(b, 0) / nb) / (nb - 1);
		double pe = (mb - ma) / fabs(ma);
		double se = sqrt(vb / (ma * ma * nb) + va * mb * mb / (ma * ma * ma * ma * na));
		struct sl_msprt_result r;
		double rho2 = sl_msprt_rho2(ex_field(c, "alpha"), ex_field(c, "tau"));
		cr_assert_eq(sl_msprt_eval(pe, se, na + nb, rho2, ex_field(c, "alpha"), &r), 0);
		const char *name = ex_str(c, "name");
		cr_expect(fabs(pe - ex_field(c, "expected")) <= 0.5e-5, "%s: estimate %.6f", name, pe);
		cr_expect(fabs(se - ex_field(c, "stddev")) <= 0.5e-5, "%s: stddev %.6f", name, se);
		cr_expect(fabs(r.lo - ex_num(ex_get(c, "ci"), 0)) <= 0.5e-5, "%s: lo %.6f", name, r.lo);
		cr_expect(fabs(r.hi - ex_num(ex_get(c, "ci"), 1)) <= 0.5e-5, "%s: hi %.6f", name, r.hi);
	}
}

Test(sequential, streaming_matches_batch)
{
	struct sl_msprt m;
	struct sl_rng rng;
	sl_rng_seed(&rng, 11);
	cr_assert_eq(sl_msprt_init(&m, 0.05, 2000), 0);
	struct sl_msprt_result r;
	cr_expect_eq(sl_msprt_look(&m, &r), SL_ESTATE);
	double sa = 0, sb = 0, qa = 0, qb = 0, pmin = 1;
	int n = 0;
	for (int i = 0; i < 3000; i++) {
		double xa = 10 + sl_rng_normal(&rng), xb = 10.05 + 1.5 * sl_rng_normal(&rng);
		sl_msprt_add_pair(&m, xa, xb);
		sa += xa, sb += xb, qa += xa * xa, qb += xb * xb, n++;
		if (n < 2 || n % 100)
			continue;
		cr_assert_eq(sl_msprt_look(&m, &r), 0);
		double ma = sa / n, mb = sb / n, va = (qa - sa * sa / n) / (n - 1), vb = (qb - sb * sb / n) / (n - 1);
		struct sl_msprt_result b;
		cr_assert_eq(sl_msprt_eval(mb - ma, sqrt(va / n + vb / n), 2.0 * n, m.rho2, 0.05, &b), 0);
		cr_expect(fabs(r.estimate - b.estimate) < 1e-12 && fabs(r.se / b.se - 1) < 1e-9, "look at %d", n);
		cr_expect(fabs(r.pvalue - b.pvalue) <= 1e-9 * b.pvalue + 1e-300, "p at %d", n);
		pmin = fmin(pmin, r.pvalue);
		cr_expect_eq(r.pvalue_av, pmin, "always-valid p is the running minimum");
		cr_expect(r.lo >= b.lo - 1e-12 && r.hi <= b.hi + 1e-12, "interval is the running intersection");
	}
	cr_expect_eq(m.looks, 30);
}

/* Streams of `pairs` N(0,1) pairs (b shifted by `effect`), a look every 20 pairs; counts the
 * streams that ever reach p <= alpha, by mSPRT and by a naive z-test at every look. */
static void simulate(double effect, int streams, int pairs, int *msprt, int *naive)
{
	struct sl_rng rng;
	sl_rng_seed(&rng, 20240517);
	*msprt = *naive = 0;
	for (int s = 0; s < streams; s++) {
		struct sl_msprt m;
		sl_msprt_init(&m, 0.05, 2.0 * pairs);
		sl_msprt_set_variance(&m, 1, 1);
		bool hit = false, nhit = false;
		for (int i = 1; i <= pairs; i++) {
			sl_msprt_add_pair(&m, sl_rng_normal(&rng), effect + sl_rng_normal(&rng));
			if (i % 20)
				continue;
			struct sl_msprt_result r;
			cr_assert_eq(sl_msprt_look(&m, &r), 0);
			hit |= r.pvalue_av <= 0.05;
			nhit |= 2 * sl_norm_sf(fabs(r.estimate / r.se)) <= 0.05;
		}
		*msprt += hit, *naive += nhit;
	}
}

Test(sequential, type_one_error_under_peeking)
{
	int ms, nv;
	simulate(0, 400, 2000, &ms, &nv);
	cr_log_info("H0, 400 streams x 100 looks: mSPRT rejected %d, naive z-test %d", ms, nv);
	/* alpha = 0.05 of 400 is 20; Ville's bound holds for every stream, so even the sampling
	 * noise (sd ~4.4) leaves it below 30; peeking at a fixed-horizon test goes far beyond */
	cr_expect_leq(ms, 30, "mSPRT type I error %d/400", ms);
	cr_expect_geq(nv, 60, "naive repeated z-test should inflate the error: %d/400", nv);
}

Test(sequential, power_under_alternative)
{
	int ms, nv;
	simulate(0.15, 200, 2000, &ms, &nv);
	cr_log_info("H1 (0.15 sd), 200 streams: mSPRT rejected %d, naive z-test %d", ms, nv);
	cr_expect_geq(ms, 150, "mSPRT power %d/200", ms);
}
