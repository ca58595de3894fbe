/* stream.c: streaming summaries: Welford against two-pass sums, Chan's merge, the reservoir's
 * quantiles against numpy while it holds everything (expected.json "quantile"), its rank
 * error beyond capacity against the documented DKW bound, its uniformity and determinism, and
 * its reset. */
#include "expect.h"

TestSuite(stream, .init = ex_load, .fini = ex_free);

static void golden(double *v, size_t n, size_t off)
{
	for (size_t i = 0; i < n; i++)
		v[i] = fmod((double)(i + off) * 0.6180339887498949, 1.0);
}

Test(stream, welford)
{
	enum { N = 10000 };
	static double v[N];
	golden(v, N, 3);
	struct sl_welford all, a, b;
	sl_welford_init(&all);
	sl_welford_init(&a);
	sl_welford_init(&b);
	double s = 0, ss = 0;
	for (int i = 0; i < N; i++) {
		v[i] = 1e6 + v[i]; /* a large offset defeats the naive sum-of-squares formula */
		sl_welford_add(&all, v[i]);
		sl_welford_add(i < 3000 ? &a : &b, v[i]);
		s += v[i];
	}
	double mean = s / N;
	for (int i = 0; i < N; i++)
		ss += (v[i] - mean) * (v[i] - mean);
	cr_expect(fabs(all.mean - mean) < 1e-14 * mean, "mean %.17g vs %.17g", all.mean, mean);
	cr_expect(fabs(sl_welford_var(&all) / (ss / (N - 1)) - 1) < 1e-9, "var %.17g", sl_welford_var(&all));
	sl_welford_merge(&a, &b);
	cr_expect_eq(a.n, N);
	cr_expect(fabs(a.mean - mean) < 1e-14 * mean, "merged mean %.17g vs %.17g", a.mean, mean);
	cr_expect(fabs(sl_welford_var(&a) / sl_welford_var(&all) - 1) < 1e-9, "merged var %.17g vs %.17g",
	          sl_welford_var(&a), sl_welford_var(&all));
	struct sl_welford one;
	sl_welford_init(&one);
	sl_welford_add(&one, 5);
	cr_expect(isnan(sl_welford_var(&one)));
}

Test(stream, reservoir_exact_below_capacity)
{
	struct ex_worst w = {"quantile vs numpy", 0, 1e-15, 0};
	ex_rows(i, c, "quantile")
	{
		json_object *q = ex_get(c, "q"), *want = ex_get(c, "v");
		double *x;
		size_t n = ex_sample(ex_get(c, "x"), &x);
		struct sl_reservoir r;
		cr_assert_eq(sl_reservoir_init(&r, 4096, 1), 0);
		for (size_t j = 0; j < n; j++)
			sl_reservoir_add(&r, x[j]);
		for (size_t j = 0; j < json_object_array_length(q); j++)
			ex_check(&w, sl_reservoir_quantile(&r, ex_num(q, j)), ex_num(want, j), "n=%zu q=%g", n,
			         ex_num(q, j));
		cr_expect_eq(sl_reservoir_rank_error(&r, 1e-3), 0);
		sl_reservoir_release(&r);
		free(x);
	}
	struct sl_reservoir r;
	cr_expect_eq(sl_reservoir_init(&r, 0, 1), SL_EINVAL);
	cr_assert_eq(sl_reservoir_init(&r, 8, 1), 0);
	cr_expect(isnan(sl_reservoir_quantile(&r, 0.5)));
	sl_reservoir_release(&r);
	ex_report(&w);
}

/* Fraction of sorted[0..n) that is <= v. */
static double rank_of(const double *sorted, size_t n, double v)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (sorted[mid] <= v)
			lo = mid + 1;
		else
			hi = mid;
	}
	return (double)lo / (double)n;
}

Test(stream, reservoir_rank_error_bound)
{
	enum { N = 1000000, CAP = 4096 };
	double *v = malloc(N * sizeof *v);
	struct sl_rng rng;
	sl_rng_seed(&rng, 5);
	for (int i = 0; i < N; i++)
		v[i] = sl_rng_lognormal(&rng, 0.2, 1.0); /* a latency-like stream */
	struct sl_reservoir r;
	cr_assert_eq(sl_reservoir_init(&r, CAP, 99), 0);
	for (int i = 0; i < N; i++)
		sl_reservoir_add(&r, v[i]);
	qsort(v, N, sizeof *v, ex_cmp_double);
	double eps = sl_reservoir_rank_error(&r, 1e-6), worst = 0;
	cr_expect(fabs(eps - sqrt(log(2e6) / (2.0 * CAP))) < 1e-15, "eps %g", eps);
	for (double q = 0.01; q < 1; q += 0.01) {
		double e = fabs(rank_of(v, N, sl_reservoir_quantile(&r, q)) - q);
		worst = fmax(worst, e);
	}
	cr_log_info("reservoir %d of %d: worst rank error %.4f, DKW bound (delta 1e-6) %.4f", CAP, N, worst, eps);
	cr_expect_lt(worst, eps, "rank error %.4f above the bound %.4f", worst, eps);
	cr_expect_lt(worst, 0.02);
	cr_expect_eq(r.len, CAP);
	cr_expect_eq(r.seen, N);
	sl_reservoir_release(&r);
	free(v);
}

/* Every item of a stream is kept with probability cap/seen: inclusion counts over many
 * seeds are checked with a chi-squared goodness-of-fit test. */
Test(stream, reservoir_uniform_and_deterministic)
{
	enum { ITEMS = 100, CAP = 10, RUNS = 4000 };
	double counts[ITEMS] = {0};
	for (int s = 0; s < RUNS; s++) {
		struct sl_reservoir r;
		cr_assert_eq(sl_reservoir_init(&r, CAP, (uint64_t)s + 1), 0);
		for (int i = 0; i < ITEMS; i++)
			sl_reservoir_add(&r, i);
		for (size_t j = 0; j < r.len; j++)
			counts[(int)r.v[j]]++;
		sl_reservoir_release(&r);
	}
	struct sl_chi2_result c;
	cr_assert_eq(sl_chisquare(counts, NULL, ITEMS, 0, &c), 0);
	cr_expect_gt(c.pvalue, 1e-4, "inclusion counts not uniform: chi2 %g p %g", c.statistic, c.pvalue);
	struct sl_reservoir a, b;
	sl_reservoir_init(&a, 16, 42);
	sl_reservoir_init(&b, 16, 42);
	for (int i = 0; i < 1000; i++) {
		sl_reservoir_add(&a, i);
		sl_reservoir_add(&b, i);
	}
	cr_expect_eq(sl_reservoir_quantile(&a, 0.3), sl_reservoir_quantile(&b, 0.3), "same seed, same sample");
	sl_reservoir_release(&a);
	sl_reservoir_release(&b);
}

/* A reset reservoir keeps its array and behaves as a new one with the new seed. */
Test(stream, reservoir_reset_is_a_fresh_start)
{
	struct sl_reservoir a, b;
	cr_assert_eq(sl_reservoir_init(&a, 16, 42), 0);
	cr_assert_eq(sl_reservoir_init(&b, 16, 7), 0);
	for (int i = 0; i < 1000; i++)
		sl_reservoir_add(&a, -i);
	double *v = a.v;
	sl_reservoir_reset(&a, 7);
	cr_expect(a.v == v && a.cap == 16 && a.len == 0 && a.seen == 0);
	cr_expect(isnan(sl_reservoir_quantile(&a, 0.5)));
	for (int i = 0; i < 1000; i++) {
		sl_reservoir_add(&a, i);
		sl_reservoir_add(&b, i);
	}
	cr_expect_eq(a.seen, b.seen);
	cr_expect_eq(memcmp(a.v, b.v, 16 * sizeof(double)), 0, "same seed, same sample");
	sl_reservoir_release(&a);
	sl_reservoir_release(&b);
}
