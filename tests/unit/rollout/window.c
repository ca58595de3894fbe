/* window.c: the judge's window: shaped after the spec (one stratum per judged stage), bounded
 * (a reservoir per side, value check and stratum never holds more than cap values), strict
 * about what it accepts, keeps each closed stage as a stratum (dropping the oldest once all are
 * in use), and reproducible: the same seed and the same calls, resets included, give the same
 * samples. */
#include <math.h>
#include <string.h>

#include "rollout_test.h"

static struct sl_rollout_spec spec(void)
{
	struct sl_rollout_spec s;
	sl_rollout_spec_defaults(&s);
	return s;
}

Test(window, shaped_after_the_spec)
{
	struct sl_rollout_spec s = spec();
	struct sl_window w;
	cr_assert_eq(sl_window_init(&w, &s, 0, 1), 0);
	cr_expect_eq(w.nmetrics, s.nchecks);
	cr_expect_eq(w.cap, SL_WINDOW_CAP_DEFAULT);
	cr_expect_eq(w.maxstrata, 4, "steps 1, 5, 25, 50 are judged; 100 is promotion");
	cr_expect_eq(w.nstrata, 1);
	for (unsigned i = 0; i < s.nchecks; i++) {
		cr_expect_eq(w.m[i].kind, s.checks[i].kind);
		for (unsigned k = 0; k < w.maxstrata && s.checks[i].kind == SL_METRIC_VALUE; k++)
			cr_expect_eq(w.m[i].s[k].values[SL_CANDIDATE].cap, SL_WINDOW_CAP_DEFAULT);
		cr_expect_null(w.m[i].s[w.maxstrata].values[SL_CANDIDATE].v, "no memory past the spec's stages");
	}
	sl_window_release(&w);
	s.shadow_share = 0.1; /* a shadow stage is one more */
	cr_assert_eq(sl_window_init(&w, &s, 8, 1), 0);
	cr_expect_eq(w.maxstrata, 5);
	sl_window_release(&w);
	sl_window_release(&w); /* a released window can be released again */
	LEAK_CHECK();
}

Test(window, refuses_what_does_not_fit)
{
	struct sl_rollout_spec s = spec();
	struct sl_window w;
	unsigned lat = (unsigned)sl_rollout_spec_find(&s, "latency"),
	         err = (unsigned)sl_rollout_spec_find(&s, "error_rate");
	cr_expect_eq(sl_window_init(&w, &s, SL_WINDOW_CAP_MAX + 1, 1), SL_EINVAL);
	cr_assert_eq(sl_window_init(&w, &s, 100, 1), 0);
	cr_expect_eq(sl_window_add_value(&w, SL_STABLE, err, 1), SL_EINVAL, "value into a rate check");
	cr_expect_eq(sl_window_add_rate(&w, SL_STABLE, lat, 0, 1), SL_EINVAL, "rate into a value check");
	cr_expect_eq(sl_window_add_value(&w, SL_STABLE, lat, NAN), SL_EINVAL);
	cr_expect_eq(sl_window_add_value(&w, SL_STABLE, lat, INFINITY), SL_EINVAL);
	cr_expect_eq(sl_window_add_value(&w, SL_STABLE, s.nchecks, 1), SL_EINVAL, "unknown check");
	cr_expect_eq(sl_window_add_value(&w, (enum sl_side)2, lat, 1), SL_EINVAL, "unknown side");
	cr_expect_eq(sl_window_add_request(&w, (enum sl_side)2), SL_EINVAL);
	cr_expect_eq(sl_window_add_rate(&w, SL_STABLE, err, 3, 2), SL_EINVAL, "events > trials");
	cr_expect_eq(sl_window_add_rate(&w, SL_STABLE, err, 0, INT64_MAX), 0);
	cr_expect_eq(sl_window_add_rate(&w, SL_STABLE, err, 0, 1), SL_ERANGE, "trials would overflow");
	cr_expect_eq(w.m[lat].s[0].values[SL_STABLE].len, 0);
	sl_window_release(&w);
}

Test(window, memory_is_bounded_by_cap)
{
	struct sl_rollout_spec s = spec();
	struct sl_window w;
	unsigned lat = (unsigned)sl_rollout_spec_find(&s, "latency");
	cr_assert_eq(sl_window_init(&w, &s, 1000, 2), 0);
	for (int i = 0; i < 50000; i++)
		cr_assert_eq(sl_window_add_value(&w, SL_CANDIDATE, lat, i), 0);
	const struct sl_reservoir *r = &sl_window_current(&w, lat)->values[SL_CANDIDATE];
	cr_expect_eq(r->len, 1000);
	cr_expect_eq(r->seen, 50000);
	cr_expect_eq(r->cap, 1000);
	double mean = 0; /* a uniform sample of 0..49999 */
	for (int i = 0; i < 1000; i++)
		mean += r->v[i] / 1000;
	cr_expect(fabs(mean - 25000) < 5 * 14434 / sqrt(1000), "sample mean %g", mean);
	sl_window_release(&w);
}

static void feed(struct sl_window *w, const struct sl_rollout_spec *s, int n)
{
	for (int i = 0; i < n; i++)
		for (unsigned c = 0; c < s->nchecks; c++) {
			if (s->checks[c].kind == SL_METRIC_VALUE)
				sl_window_add_value(w, (enum sl_side)(i & 1), c, i * 1.5 + c);
			else
				sl_window_add_rate(w, (enum sl_side)(i & 1), c, i % 3 == 0, 1);
			sl_window_add_request(w, (enum sl_side)(i & 1));
		}
}

Test(window, reset_opens_a_stratum_keeps_the_last_and_replays_identically)
{
	struct sl_rollout_spec s = spec();
	struct sl_window a, b;
	cr_assert_eq(sl_window_init(&a, &s, 64, 9), 0);
	cr_assert_eq(sl_window_init(&b, &s, 64, 9), 0);
	feed(&a, &s, 1000);
	cr_assert_eq(sl_window_reset(&a), 0);
	cr_expect_eq(a.nstrata, 2);
	for (unsigned c = 0; c < s.nchecks; c++)
		for (int side = 0; side < 2; side++) {
			const struct sl_window_stratum *cur = sl_window_current(&a, c), *old = &a.m[c].s[0];
			cr_expect_eq(cur->values[side].len, 0);
			cr_expect_eq(cur->values[side].seen, 0);
			cr_expect_eq(cur->trials[side], 0);
			cr_expect_eq(cur->events[side], 0);
			bool value = s.checks[c].kind == SL_METRIC_VALUE;
			cr_expect_eq(value ? old->values[side].seen : old->trials[side], 500, "the closed stage is kept");
		}
	cr_expect_eq(a.requests[0] + a.requests[1], 0, "min_requests counts the current stage only");
	feed(&b, &s, 1000);
	sl_window_reset(&b);
	feed(&a, &s, 999);
	feed(&b, &s, 999);
	unsigned lat = (unsigned)sl_rollout_spec_find(&s, "latency");
	cr_expect_eq(memcmp(a.m[lat].s[1].values[1].v, b.m[lat].s[1].values[1].v, 64 * sizeof(double)), 0);
	cr_expect_eq(a.requests[1], b.requests[1]);
	/* past the spec's 4 stages the oldest stratum is dropped and its memory reused */
	for (int k = 0; k < 3; k++) {
		sl_window_reset(&a);
		sl_window_add_value(&a, SL_STABLE, lat, 1000 + k);
	}
	cr_expect_eq(a.nstrata, 4);
	cr_expect_eq(a.m[lat].s[0].values[1].seen, 499, "stage 2 is now the oldest");
	cr_expect_eq(a.m[lat].s[3].values[SL_STABLE].len, 1);
	cr_expect_float_eq(a.m[lat].s[3].values[SL_STABLE].v[0], 1002, 0);
	cr_expect_float_eq(a.m[lat].s[1].values[SL_STABLE].v[0], 1000, 0);
	sl_window_release(&a);
	sl_window_release(&b);
	LEAK_CHECK();
}
