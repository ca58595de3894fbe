/* agg_batch.c: the aggregator's fast paths against their plain definitions: the batched
 * ingestion (sl_experiment_agg_batch) leaves exactly the counts and report of one call per
 * observation, through table growth, the unit bound, pre-period, late, unknown and invalid
 * observations; and a quantile metric's report is bit-identical to the one computed from a
 * fully sorted reservoir (order statistics selected, not sorted), whatever the order and ties. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sluice/abstats.h"
#include "sluice/experiment.h"

static struct sl_experiment_set *load(const char *json)
{
	struct sl_experiment_set *s = NULL;
	char err[256];
	int rc = sl_experiments_from_json(json, &s, err, sizeof(err));
	cr_assert_eq(rc, 0, "%s", err);
	return s;
}

#define N_OBS 60000
#define N_IDS 20000

struct stream {
	struct sl_exp_agg_item it[N_OBS];
	struct sl_exp_request_obs ob[N_OBS];
	char ids[N_IDS][16];
};

static const char *const names[] = {"click", "purchase", "nope", "bad name!"};

static uint64_t below(struct sl_rng *r, uint64_t n)
{
	return sl_rng_next(r) % n;
}

/* A seeded mix: 10,000 units allowed of 20,000 ids, a tenth of the stream before start, a
 * little after stop, unknown and malformed event names, NaN values, out-of-range variants. */
static void make_stream(struct stream *s, uint64_t seed)
{
	struct sl_rng r;
	sl_rng_seed(&r, seed);
	for (int i = 0; i < N_IDS; i++)
		snprintf(s->ids[i], sizeof(s->ids[i]), "id%d", i);
	for (int i = 0; i < N_OBS; i++) {
		struct sl_exp_agg_item *it = &s->it[i];
		const char *id = s->ids[below(&r, N_IDS)];
		double u = sl_rng_double(&r);
		memset(it, 0, sizeof(*it));
		it->unit = sl_slice_cstr(id);
		it->now = u < 0.1 ? 50 : u < 0.98 ? 150 : 1e12;
		if (sl_rng_double(&r) < 0.4) {
			s->ob[i] = (struct sl_exp_request_obs){.latency_ms = sl_rng_lognormal(&r, 200, 0.5), .ttft_ms = 10,
			                                       .input_tokens = 40, .output_tokens = 12, .cost = 1e-3};
			it->request = &s->ob[i];
			it->variant = (int)(id[2] % 3) - (sl_rng_double(&r) < 0.01); /* sometimes -1: refused */
		} else {
			it->name = sl_slice_cstr(names[below(&r, 4)]);
			it->value = sl_rng_double(&r) < 0.01 ? NAN : 1 + below(&r, 50);
		}
	}
}

static const char batch_spec[] =
    "[{\"key\":\"b\",\"model\":\"m\",\"max_units\":10000,"
    "\"start\":\"1970-01-01T00:01:40Z\",\"stop\":\"1970-01-12T13:46:40Z\","
    "\"variants\":[{\"key\":\"a\"},{\"key\":\"b\"},{\"key\":\"c\"}],\"metrics\":["
    "{\"name\":\"ctr\",\"kind\":\"proportion\",\"source\":\"event:click\",\"cuped\":true},"
    "{\"name\":\"rev\",\"kind\":\"mean\",\"source\":\"event:purchase\",\"cuped\":true},"
    "{\"name\":\"cpr\",\"kind\":\"ratio\",\"source\":\"event:click\",\"denominator\":\"request:requests\"},"
    "{\"name\":\"p50\",\"kind\":\"quantile\",\"source\":\"request:latency\",\"quantile\":0.5}]}]";

Test(agg_batch, batch_equals_one_call_each)
{
	struct sl_experiment_set *s = load(batch_spec);
	struct stream *st = malloc(sizeof(*st));
	cr_assert(st);
	make_stream(st, 11);
	struct sl_exp_agg *one = sl_experiment_agg_new(s), *bat = sl_experiment_agg_new(s);
	size_t ok = 0, accepted = 0, total = 0;
	for (int i = 0; i < N_OBS; i++) {
		const struct sl_exp_agg_item *it = &st->it[i];
		int rc = it->request ? sl_experiment_agg_request(one, 0, it->variant, it->unit, it->request, it->now)
		                     : sl_experiment_agg_event(one, 0, it->unit, it->name, it->value, it->now);
		ok += rc == 0;
	}
	for (size_t i = 0, n; i < N_OBS; i += n) { /* uneven batches, some shorter than the look-ahead */
		n = 1 + (i * 7919) % 700;
		if (n > N_OBS - i)
			n = N_OBS - i;
		cr_assert_eq(sl_experiment_agg_batch(bat, 0, st->it + i, n, &accepted), 0);
		total += accepted;
	}
	cr_expect_eq(total, ok);
	cr_expect_lt(ok, N_OBS); /* the stream does hold refused observations */
	struct sl_exp_agg_counts ca, cb;
	sl_experiment_agg_counts(one, 0, &ca);
	sl_experiment_agg_counts(bat, 0, &cb);
	cr_expect_eq(memcmp(&ca, &cb, sizeof(ca)), 0);
	cr_expect_eq(ca.units, 10000);
	cr_expect_gt(ca.dropped, 0);
	static struct sl_exp_report ra, rb;
	cr_assert_eq(sl_experiment_report(one, 0, 200, &ra), 0);
	cr_assert_eq(sl_experiment_report(bat, 0, 200, &rb), 0);
	cr_expect_eq(memcmp(ra.cells, rb.cells, sizeof(ra.cells)), 0);
	cr_expect_eq(memcmp(ra.units, rb.units, sizeof(ra.units)), 0);
	cr_expect_eq(sl_experiment_agg_batch(bat, 0, NULL, 0, &accepted), 0);
	cr_expect_eq(accepted, 0);
	cr_expect_eq(sl_experiment_agg_batch(bat, 1, st->it, 1, &accepted), SL_EINVAL);
	cr_expect_eq(sl_experiment_agg_batch(NULL, 0, st->it, 1, &accepted), SL_EINVAL);
	sl_experiment_agg_free(one);
	sl_experiment_agg_free(bat);
	free(st);
	sl_experiment_set_free(s);
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* The values of arm v (of n) in one of several shapes, many with ties. */
static double shaped(int shape, int i, int n, struct sl_rng *r)
{
	switch (shape) {
	case 0: return sl_rng_double(r);
	case 1: return i;                          /* sorted */
	case 2: return n - i;                      /* reversed */
	case 3: return 7;                          /* all equal */
	case 4: return i < n / 2 ? i : n - i;      /* organ pipe */
	default: return (double)below(r, 5); /* five distinct values */
	}
}

/* The report's quantile cells against sl_ab_quantile_from_sorted on a full sort. */
static void check_quantile(int n, double nu, int shape)
{
	char spec[512], buf[32];
	snprintf(spec, sizeof(spec),
	         "[{\"key\":\"q\",\"model\":\"m\",\"variants\":[{\"key\":\"a\"},{\"key\":\"b\"}],\"metrics\":["
	         "{\"name\":\"q\",\"kind\":\"quantile\",\"source\":\"request:latency\",\"quantile\":%.17g}]}]",
	         nu);
	struct sl_experiment_set *s = load(spec);
	struct sl_exp_agg *agg = sl_experiment_agg_new(s);
	double *v[2] = {malloc(sizeof(double) * (size_t)n), malloc(sizeof(double) * (size_t)n)};
	struct sl_rng r;
	sl_rng_seed(&r, (uint64_t)n * 31 + (uint64_t)shape);
	for (int i = 0; i < 2 * n; i++) {
		struct sl_exp_request_obs o = {.latency_ms = shaped(shape, i / 2, n, &r) + (i % 2) * 0.5};
		v[i % 2][i / 2] = o.latency_ms;
		snprintf(buf, sizeof(buf), "u%d", i);
		cr_assert_eq(sl_experiment_agg_request(agg, 0, i % 2, sl_slice_cstr(buf), &o, 1), 0);
	}
	struct sl_ab_stat a, b;
	struct sl_ab_result res;
	struct sl_ab_opts o;
	qsort(v[0], (size_t)n, sizeof(double), cmp);
	qsort(v[1], (size_t)n, sizeof(double), cmp);
	cr_assert_eq(sl_ab_quantile_from_sorted(v[0], (size_t)n, nu, &a), 0);
	cr_assert_eq(sl_ab_quantile_from_sorted(v[1], (size_t)n, nu, &b), 0);
	sl_ab_opts_init(&o);
	o.alpha = s->exps[0].analysis.alpha;
	o.n_star = s->exps[0].analysis.tau;
	cr_assert_eq(sl_ab_frequentist(&a, &b, &o, &res), 0);
	struct sl_exp_report rep;
	cr_assert_eq(sl_experiment_report(agg, 0, 2, &rep), 0);
	const struct sl_exp_cell *c = rep.cells[0];
	cr_expect(c[0].mean == a.q_hat, "n %d nu %g shape %d: control %.17g, want %.17g", n, nu, shape, c[0].mean,
	          a.q_hat);
	cr_expect(c[1].lo == res.ci[0] || (isnan(c[1].lo) && isnan(res.ci[0])), "n %d nu %g shape %d: lo", n, nu, shape);
	cr_expect(c[1].hi == res.ci[1] || (isnan(c[1].hi) && isnan(res.ci[1])), "n %d nu %g shape %d: hi", n, nu, shape);
	cr_expect(c[1].pvalue == res.p_value || (isnan(c[1].pvalue) && isnan(res.p_value)), "n %d nu %g shape %d: p",
	          n, nu, shape);
	free(v[0]);
	free(v[1]);
	sl_experiment_agg_free(agg);
	sl_experiment_set_free(s);
}

Test(agg_batch, quantile_is_the_full_sort_order_statistic)
{
	static const int sizes[] = {2, 3, 5, 17, 100, 1001, 6000};
	static const double nus[] = {0.01, 0.5, 0.9, 0.99};
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		for (size_t j = 0; j < sizeof(nus) / sizeof(nus[0]); j++)
			for (int shape = 0; shape < 6; shape++)
				check_quantile(sizes[i], nus[j], shape);
}
