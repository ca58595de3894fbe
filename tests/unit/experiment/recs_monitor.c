/* recs_monitor.c: the live recommendation monitor: repetition of a repeating recommender near
 * 1 and of an exploring one near 0, ignored-then-reshown items, diversity by categories and
 * embeddings, novelty and Gini against hand-computed values, CTR/watch by position and source,
 * satisfaction, windows by count and time, the bounds (users, pending slates, items), malformed
 * input refused with nothing counted, and the JSON output. */
#include <criterion/criterion.h>
#include <json-c/json.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "sluice/recs.h"

static struct sl_recs_monitor *mon;

static void make(size_t window_slates, double window_seconds)
{
	struct sl_recs_opts o;
	sl_recs_opts_init(&o);
	o.window_slates = window_slates;
	o.window_seconds = window_seconds;
	cr_assert_eq(sl_recs_monitor_new(&o, &mon), 0);
}

static void teardown(void)
{
	sl_recs_monitor_free(mon);
	mon = NULL;
}

/* A slate of n items named prefix0.. with the given id offset. */
static int serve(const char *version, const char *user, const char *req, const char *prefix, int first, size_t n,
                 double now)
{
	char names[SL_RECS_MAX_SLATE][32];
	const char *items[SL_RECS_MAX_SLATE];
	for (size_t i = 0; i < n; i++) {
		snprintf(names[i], sizeof names[i], "%s%d", prefix, first + (int)i);
		items[i] = names[i];
	}
	return sl_recs_slate(mon, version, user, req, items, NULL, NULL, n, now);
}

static double metric(const char *version, const char *name)
{
	double v = NAN;
	cr_assert_eq(sl_recs_metric(mon, version, SL_RECS_CURRENT, name, &v), 0, "metric %s", name);
	return v;
}

TestSuite(recs_monitor, .fini = teardown);

Test(recs_monitor, repeating_recommender_repeats)
{
	make(100000, 0);
	char user[32], req[32];
	for (int round = 0; round < 20; round++)
		for (int u = 0; u < 50; u++) {
			snprintf(user, sizeof user, "u%d", u);
			snprintf(req, sizeof req, "r%d-%d", round, u);
			cr_assert_eq(serve("bad", user, req, "i", u, 10, round), 0);
		}
	cr_expect_float_eq(metric("bad", "repetition"), 1.0, 1e-12);
	cr_expect_float_eq(metric("bad", "reshown_ignored"), 1.0, 1e-12, "nothing was clicked");
	cr_expect_eq(metric("bad", "repeat_slates"), 19 * 50);
	cr_expect_eq(metric("bad", "slates"), 1000);
	cr_expect_eq(metric("bad", "distinct"), 59, "items 0..58");
}

Test(recs_monitor, exploring_recommender_does_not)
{
	make(100000, 0);
	char user[32], req[32];
	int next = 0;
	for (int round = 0; round < 20; round++)
		for (int u = 0; u < 50; u++, next += 10) {
			snprintf(user, sizeof user, "u%d", u);
			snprintf(req, sizeof req, "r%d-%d", round, u);
			cr_assert_eq(serve("good", user, req, "i", next, 10, round), 0);
		}
	cr_expect_float_eq(metric("good", "repetition"), 0.0, 1e-12);
	cr_expect_float_eq(metric("good", "reshown_ignored"), 0.0, 1e-12);
	cr_expect_float_eq(metric("good", "coverage"), 1.0, 1e-12, "every item shown this window");
	cr_expect_float_eq(metric("good", "gini"), 0.0, 1e-12, "every item shown once");
	/* each item shown once among 10000 exposures, counted after its own slate */
	cr_expect_gt(metric("good", "novelty"), 9.0);
}

Test(recs_monitor, ignored_then_reshown)
{
	make(1000, 0);
	const char *a[] = {"a", "b", "c"}, *b[] = {"a", "b", "d"};
	cr_assert_eq(sl_recs_slate(mon, "v", "u", "r1", a, NULL, NULL, 3, 1), 0);
	cr_assert_eq(sl_recs_interaction(mon, "r1", NULL, "a", SL_RECS_CLICK, 0, 2), 0);
	cr_assert_eq(sl_recs_slate(mon, "v", "u", "r2", b, NULL, NULL, 3, 3), 0);
	cr_expect_float_eq(metric("v", "repetition"), 2.0 / 4.0, 1e-12, "Jaccard {a,b,c} {a,b,d}");
	cr_expect_float_eq(metric("v", "reshown_ignored"), 1.0 / 3.0, 1e-12, "b was ignored, a was clicked");
	/* by user: the click lands on the last slate */
	cr_assert_eq(sl_recs_interaction(mon, NULL, "u", "d", SL_RECS_CLICK, 0, 4), 0);
	cr_expect_float_eq(metric("v", "ctr"), 2.0 / 6.0, 1e-12);
	cr_expect_float_eq(metric("v", "ctr.pos.1"), 1.0 / 2.0, 1e-12);
	cr_expect_float_eq(metric("v", "ctr.pos.3"), 1.0 / 2.0, 1e-12);
	cr_expect_float_eq(metric("v", "ctr.pos.2"), 0.0, 1e-12);
}

Test(recs_monitor, clicks_count_once_per_item)
{
	make(1000, 0);
	const char *a[] = {"a", "b"};
	cr_assert_eq(sl_recs_slate(mon, "v", "u", "r1", a, NULL, NULL, 2, 1), 0);
	for (int i = 0; i < 3; i++)
		cr_assert_eq(sl_recs_interaction(mon, "r1", NULL, "a", SL_RECS_CLICK, 0, 2), 0);
	cr_expect_float_eq(metric("v", "ctr"), 0.5, 1e-12);
	cr_expect_eq(metric("v", "click"), 3, "every click event is an interaction");
}

Test(recs_monitor, diversity_categories_and_embeddings)
{
	make(1000, 0);
	const char *it[] = {"a", "b", "c"};
	const char *same[] = {"drama", "drama", "drama"}, *diff[] = {"drama", "comedy", "news"};
	cr_assert_eq(sl_recs_slate(mon, "same", "u1", "r1", it, NULL, same, 3, 1), 0);
	cr_assert_eq(sl_recs_slate(mon, "diff", "u2", "r2", it, NULL, diff, 3, 1), 0);
	cr_expect_float_eq(metric("same", "diversity"), 0.0, 1e-12);
	cr_expect_float_eq(metric("diff", "diversity"), 1.0, 1e-12);
	/* {a,b} {b,c}: Jaccard 1/3; {a,b} {x}: 0; {b,c} {x}: 0 -> 1 - 1/9 */
	const char *multi[] = {"a|b", "b|c", "x"};
	cr_assert_eq(sl_recs_slate(mon, "multi", "u3", "r3", it, NULL, multi, 3, 1), 0);
	cr_expect_float_eq(metric("multi", "diversity"), 1.0 - 1.0 / 9.0, 1e-12);
	/* embeddings: two identical, one orthogonal -> similarities 1, 0, 0 */
	float emb[] = {1, 0, 1, 0, 0, 2};
	struct sl_recs_slate_in in = {.version = "emb",
	                              .user = "u4",
	                              .request_id = "r4",
	                              .items = it,
	                              .categories = same,
	                              .embeddings = emb,
	                              .n = 3,
	                              .dim = 2,
	                              .now = 1};
	cr_assert_eq(sl_recs_slate_add(mon, &in), 0);
	cr_expect_float_eq(metric("emb", "diversity"), 1.0 - 1.0 / 3.0, 1e-12, "embeddings win over categories");
}

Test(recs_monitor, novelty_gini_coverage)
{
	make(1000, 0);
	const char *all[] = {"a", "b", "c", "d"}, *ab[] = {"a", "b"}, *a[] = {"a"};
	cr_assert_eq(sl_recs_slate(mon, "v1", "u1", "r1", all, NULL, NULL, 4, 1), 0);
	/* each of 4 items once among 4 exposures: -log2(1/4) = 2 */
	cr_expect_float_eq(metric("v1", "novelty"), 2.0, 1e-12);
	cr_expect_float_eq(metric("v1", "gini"), 0.0, 1e-12);
	cr_assert_eq(sl_recs_slate(mon, "v2", "u2", "r2", ab, NULL, NULL, 2, 2), 0);
	cr_assert_eq(sl_recs_slate(mon, "v2", "u3", "r3", a, NULL, NULL, 1, 3), 0);
	cr_assert_eq(sl_recs_slate(mon, "v2", "u4", "r4", a, NULL, NULL, 1, 4), 0);
	/* v2 exposes a 3 times, b once, over a catalog of 4: x = 0 0 1 3,
	 * sum (2j - n - 1) x_j = 1 * 1 + 3 * 3 = 10, / (4 * 4) */
	cr_expect_float_eq(metric("v2", "gini"), 10.0 / 16.0, 1e-12);
	cr_expect_float_eq(metric("v2", "coverage"), 0.5, 1e-12);
	cr_expect_float_eq(metric("v2", "catalog"), 4.0, 1e-12);
	/* novelty of v2, popularity after each slate: a 2/6, b 2/6; a 3/7; a 4/8 */
	double want = (-log2(2.0 / 6) - log2(2.0 / 6) - log2(3.0 / 7) - log2(4.0 / 8)) / 4;
	cr_expect_float_eq(metric("v2", "novelty"), want, 1e-12);
}

Test(recs_monitor, position_source_watch_satisfaction)
{
	make(1000, 0);
	const char *it[] = {"a", "b", "c"}, *src[] = {"popular", "personal", "popular"};
	cr_assert_eq(sl_recs_slate(mon, "v", "u", "r", it, src, NULL, 3, 1), 0);
	cr_assert_eq(sl_recs_interaction(mon, "r", NULL, "a", SL_RECS_IMPRESSION, 0, 1), 0);
	cr_assert_eq(sl_recs_interaction(mon, "r", NULL, "a", SL_RECS_CLICK, 0, 1), 0);
	cr_assert_eq(sl_recs_interaction(mon, "r", NULL, "a", SL_RECS_WATCH, 40, 1), 0);
	cr_assert_eq(sl_recs_interaction(mon, "r", NULL, "a", SL_RECS_LIKE, 0, 1), 0);
	cr_assert_eq(sl_recs_interaction(mon, "r", NULL, "b", SL_RECS_CLICK, 0, 1), 0);
	cr_assert_eq(sl_recs_interaction(mon, "r", NULL, "b", SL_RECS_WATCH, 10, 1), 0);
	cr_assert_eq(sl_recs_interaction(mon, "r", NULL, "b", SL_RECS_DISLIKE, 0, 1), 0);
	cr_assert_eq(sl_recs_interaction(mon, "r", NULL, "c", SL_RECS_SKIP, 0, 1), 0);
	cr_assert_eq(sl_recs_interaction(mon, "r", NULL, "c", SL_RECS_NOT_INTERESTED, 0, 1), 0);
	/* positive: 1 like + 1 long watch; negative: dislike, skip, not interested; 8 interactions */
	cr_expect_float_eq(metric("v", "satisfaction"), (2.0 - 3.0) / 8.0, 1e-12);
	cr_expect_float_eq(metric("v", "ctr.source.popular"), 0.5, 1e-12);
	cr_expect_float_eq(metric("v", "ctr.source.personal"), 1.0, 1e-12);
	cr_expect_float_eq(metric("v", "watch.source.popular"), 20.0, 1e-12, "40 s over 2 shown");
	cr_expect_float_eq(metric("v", "watch.pos.2"), 10.0, 1e-12);
	cr_expect_float_eq(metric("v", "watch_s"), 50.0, 1e-12);
	cr_expect_float_eq(metric("v", "watch_per_item"), 50.0 / 3.0, 1e-12);
	cr_expect_eq(metric("v", "long_watches"), 1);
	cr_expect_eq(metric("v", "impression"), 1);
	double x;
	cr_expect_eq(sl_recs_metric(mon, "v", SL_RECS_CURRENT, "ctr.source.fresh", &x), SL_ENOTFOUND);
	cr_expect_eq(sl_recs_metric(mon, "v", SL_RECS_CURRENT, "ctr.pos.0", &x), SL_ENOTFOUND);
	cr_expect_eq(sl_recs_metric(mon, "v", SL_RECS_CURRENT, "bogus", &x), SL_ENOTFOUND);
	cr_expect_eq(sl_recs_metric(mon, "nope", SL_RECS_CURRENT, "ctr", &x), SL_ENOTFOUND);
}

Test(recs_monitor, window_by_count)
{
	make(10, 0);
	double x;
	cr_expect_eq(sl_recs_metric(mon, "v", SL_RECS_LAST, "ctr", &x), SL_ENOTFOUND);
	char req[16];
	for (int i = 0; i < 15; i++) {
		snprintf(req, sizeof req, "r%d", i);
		cr_assert_eq(serve("v", "u", req, "i", i, 5, i), 0);
	}
	struct sl_recs_metrics last, cur;
	cr_assert_eq(sl_recs_metrics_get(mon, "v", SL_RECS_LAST, &last), 0);
	cr_assert_eq(sl_recs_metrics_get(mon, "v", SL_RECS_CURRENT, &cur), 0);
	cr_expect_eq(last.slates, 10);
	cr_expect_eq(cur.slates, 5);
	cr_expect_eq(last.start, 0);
	cr_expect_eq(last.end, 9);
	cr_expect_eq(cur.start, 10);
	/* consecutive slates share 4 of 6 items */
	cr_expect_float_eq(last.repetition, 4.0 / 6.0, 1e-12);
}

Test(recs_monitor, window_by_time)
{
	make(0, 60);
	char req[16];
	for (int i = 0; i < 6; i++) {
		snprintf(req, sizeof req, "r%d", i);
		cr_assert_eq(serve("v", "u", req, "i", 0, 3, i * 11.0), 0); /* 0 .. 55 */
	}
	double x;
	cr_expect_eq(sl_recs_metric(mon, "v", SL_RECS_LAST, "slates", &x), SL_ENOTFOUND);
	sl_recs_tick(mon, 61);
	cr_assert_eq(sl_recs_metric(mon, "v", SL_RECS_LAST, "slates", &x), 0);
	cr_expect_eq(x, 6);
	cr_expect_eq(metric("v", "slates"), 0);
	cr_expect(isnan(metric("v", "ctr")), "an empty window has no CTR");
	/* a clock going backwards is held */
	cr_assert_eq(serve("v", "u", "late", "i", 0, 3, 5), 0);
	struct sl_recs_metrics cur;
	cr_assert_eq(sl_recs_metrics_get(mon, "v", SL_RECS_CURRENT, &cur), 0);
	cr_expect_eq(cur.start, 61);
}

Test(recs_monitor, bounds_respected)
{
	struct sl_recs_opts o;
	sl_recs_opts_init(&o);
	o.max_users = 8, o.max_pending = 8, o.max_items = 64, o.max_window_items = 16, o.max_slate = 4;
	o.window_slates = 1000000;
	cr_assert_eq(sl_recs_monitor_new(&o, &mon), 0);
	char user[32], req[32];
	cr_assert_eq(serve("v", "warm", "r-warm", "w", 0, 4, 0), 0);
	size_t mem0 = sl_recs_monitor_memory(mon);
	for (int i = 0; i < 1000; i++) {
		snprintf(user, sizeof user, "u%d", i % 100);
		snprintf(req, sizeof req, "r%d", i);
		cr_assert_eq(serve("v", user, req, "i", i, 4, i), 0);
	}
	struct sl_recs_metrics m;
	cr_assert_eq(sl_recs_metrics_get(mon, "v", SL_RECS_CURRENT, &m), 0);
	cr_expect_eq(m.distinct, 16, "window items capped");
	/* tracked: w0..w3 once, i0 1, i1 2, i2 3, i3..i11 4 times each (slate i shows i..i+3) */
	cr_expect_eq(m.untracked, m.shown - (4 + 6 + 9 * 4), "untracked %llu", (unsigned long long)m.untracked);
	/* 1003 distinct items: 64 exact, the rest estimated (HyperLogLog, a few per cent) */
	cr_expect(fabs(m.catalog - 1007) / 1007 < 0.1, "catalog %.1f", m.catalog);
	/* the pending table holds 8 slates: the first request is gone */
	cr_expect_eq(sl_recs_interaction(mon, "r0", NULL, "i0", SL_RECS_CLICK, 0, 2000), SL_ENOTFOUND);
	cr_expect_eq(sl_recs_interaction(mon, "r999", NULL, "i999", SL_RECS_CLICK, 0, 2000), 0);
	/* 100 users cycling through 8 slots: repeats are rarely seen */
	cr_expect_lt(m.repeat_slates, 200);
	size_t mem1 = sl_recs_monitor_memory(mon);
	cr_expect_lt(mem1 - mem0, 600000, "growth %zu: sketch and bounded tables only", mem1 - mem0);
	for (int i = 1000; i < 3000; i++) {
		snprintf(req, sizeof req, "r%d", i);
		cr_assert_eq(serve("v", "u", req, "i", i, 4, i), 0);
	}
	cr_expect_eq(sl_recs_monitor_memory(mon), mem1, "no growth once the tables are full");
}

Test(recs_monitor, malformed_input_refused)
{
	make(1000, 0);
	char longid[SL_RECS_MAX_ID + 2];
	memset(longid, 'x', sizeof longid - 1);
	longid[sizeof longid - 1] = '\0';
	const char *ok[] = {"a", "b"}, *dup[] = {"a", "a"}, *nul[] = {"a", NULL}, *lng[] = {"a", longid};
	const char *many[SL_RECS_MAX_SLATE + 1];
	for (size_t i = 0; i <= SL_RECS_MAX_SLATE; i++)
		many[i] = "z";
	cr_expect_eq(sl_recs_slate(mon, NULL, "u", "r", ok, NULL, NULL, 2, 1), SL_EINVAL);
	cr_expect_eq(sl_recs_slate(mon, "v", "", "r", ok, NULL, NULL, 2, 1), SL_EINVAL);
	cr_expect_eq(sl_recs_slate(mon, "v", "u", longid, ok, NULL, NULL, 2, 1), SL_EINVAL);
	cr_expect_eq(sl_recs_slate(mon, "v", "u", "r", NULL, NULL, NULL, 2, 1), SL_EINVAL);
	cr_expect_eq(sl_recs_slate(mon, "v", "u", "r", ok, NULL, NULL, 0, 1), SL_EINVAL);
	cr_expect_eq(sl_recs_slate(mon, "v", "u", "r", many, NULL, NULL, 33, 1), SL_ETOOBIG);
	cr_expect_eq(sl_recs_slate(mon, "v", "u", "r", dup, NULL, NULL, 2, 1), SL_EINVAL);
	cr_expect_eq(sl_recs_slate(mon, "v", "u", "r", nul, NULL, NULL, 2, 1), SL_EINVAL);
	cr_expect_eq(sl_recs_slate(mon, "v", "u", "r", lng, NULL, NULL, 2, 1), SL_EINVAL);
	cr_expect_eq(sl_recs_slate(mon, "v", "u", "r", ok, NULL, NULL, 2, NAN), SL_EINVAL);
	cr_expect_eq(sl_recs_slate(mon, "v", "u", "r", ok, NULL, NULL, 2, -1), SL_EINVAL);
	float bad[] = {1, NAN, 0, 1};
	struct sl_recs_slate_in in = {
	    .version = "v", .user = "u", .request_id = "r", .items = ok, .embeddings = bad, .n = 2, .dim = 2, .now = 1};
	cr_expect_eq(sl_recs_slate_add(mon, &in), SL_EINVAL);
	size_t n = sl_recs_versions(mon, NULL, 0);
	cr_expect_eq(n, 0, "nothing counted, no version created");
	cr_assert_eq(sl_recs_slate(mon, "v", "u", "r", ok, NULL, NULL, 2, 1), 0);
	cr_expect_eq(sl_recs_slate(mon, "v", "u", "r", ok, NULL, NULL, 2, 1), SL_ESTATE, "request id reused");
	cr_expect_eq(metric("v", "slates"), 1);
	cr_expect_eq(sl_recs_interaction(mon, "r", NULL, "a", SL_RECS_KIND_COUNT_, 0, 1), SL_EINVAL);
	cr_expect_eq(sl_recs_interaction(mon, "r", NULL, "a", SL_RECS_WATCH, NAN, 1), SL_EINVAL);
	cr_expect_eq(sl_recs_interaction(mon, "r", NULL, "a", SL_RECS_WATCH, -1, 1), SL_EINVAL);
	cr_expect_eq(sl_recs_interaction(mon, NULL, NULL, "a", SL_RECS_CLICK, 0, 1), SL_EINVAL);
	cr_expect_eq(sl_recs_interaction(mon, "r", NULL, NULL, SL_RECS_CLICK, 0, 1), SL_EINVAL);
	cr_expect_eq(sl_recs_interaction(mon, "r", NULL, "zz", SL_RECS_CLICK, 0, 1), SL_ENOTFOUND);
	cr_expect_eq(sl_recs_interaction(mon, "other", NULL, "a", SL_RECS_CLICK, 0, 1), SL_ENOTFOUND);
	cr_expect_eq(sl_recs_interaction(mon, NULL, "nobody", "a", SL_RECS_CLICK, 0, 1), SL_ENOTFOUND);
	cr_expect_eq(metric("v", "click"), 0);
	char v[8], r[8];
	for (int i = 0; i < SL_RECS_MAX_VERSIONS + 1; i++) {
		snprintf(v, sizeof v, "v%d", i);
		snprintf(r, sizeof r, "x%d", i);
		int rc = serve(v, "u", r, "i", 0, 2, 2);
		cr_expect_eq(rc, i < SL_RECS_MAX_VERSIONS - 1 ? 0 : SL_ERANGE, "version %d: %d", i, rc);
	}
	struct sl_recs_opts o;
	sl_recs_opts_init(&o);
	o.window_slates = 0;
	struct sl_recs_monitor *m2 = NULL;
	cr_expect_eq(sl_recs_monitor_new(&o, &m2), SL_EINVAL, "no window");
	sl_recs_opts_init(&o);
	o.max_slate = SL_RECS_MAX_SLATE + 1;
	cr_expect_eq(sl_recs_monitor_new(&o, &m2), SL_EINVAL);
	enum sl_recs_kind k;
	cr_expect_eq(sl_recs_kind_parse("not_interested", 14, &k), 0);
	cr_expect_eq(k, SL_RECS_NOT_INTERESTED);
	cr_expect_eq(sl_recs_kind_parse("clicks", 6, &k), SL_EINVAL);
}

Test(recs_monitor, json_output)
{
	make(2, 0);
	const char *it[] = {"a", "b"}, *src[] = {"popular", "fresh"}, *cat[] = {"drama", "news"};
	cr_assert_eq(sl_recs_slate(mon, "v\"1", "u", "r1", it, src, cat, 2, 1), 0);
	cr_assert_eq(sl_recs_slate(mon, "v\"1", "u", "r2", it, src, cat, 2, 2), 0);
	cr_assert_eq(sl_recs_interaction(mon, "r2", NULL, "b", SL_RECS_CLICK, 0, 3), 0);
	struct sl_buf b;
	sl_buf_init(&b, 1 << 20);
	cr_assert_eq(sl_recs_json(mon, &b), 0);
	json_object *root = json_tokener_parse(b.data);
	cr_assert_not_null(root, "invalid JSON: %s", b.data);
	json_object *vers, *v, *win, *cur, *x;
	cr_assert(json_object_object_get_ex(root, "versions", &vers));
	v = json_object_array_get_idx(vers, 0);
	cr_assert(json_object_object_get_ex(v, "version", &x));
	cr_expect_str_eq(json_object_get_string(x), "v\"1");
	cr_assert(json_object_object_get_ex(v, "window", &win));
	cr_assert(json_object_object_get_ex(v, "current", &cur));
	cr_assert(json_object_object_get_ex(win, "repetition", &x));
	cr_expect_float_eq(json_object_get_double(x), 1.0, 1e-9);
	cr_assert(json_object_object_get_ex(win, "diversity", &x));
	cr_expect_float_eq(json_object_get_double(x), 1.0, 1e-9);
	cr_assert(json_object_object_get_ex(cur, "clicked", &x));
	cr_expect_eq(json_object_get_int(x), 1, "the click came after the window closed");
	cr_assert(json_object_object_get_ex(cur, "ctr", &x));
	cr_expect(json_object_is_type(x, json_type_null), "nothing shown in this window");
	cr_assert(json_object_object_get_ex(cur, "diversity", &x));
	cr_expect(json_object_is_type(x, json_type_null), "no slate: null, not 0");
	cr_assert(json_object_object_get_ex(win, "by_source", &x));
	cr_expect(json_object_object_get_ex(x, "fresh", NULL));
	cr_assert(json_object_object_get_ex(win, "by_position", &x));
	cr_expect_eq(json_object_array_length(x), 2);
	json_object_put(root);
	/* a buffer too small fails cleanly and is left as it was */
	struct sl_buf small;
	sl_buf_init(&small, 64);
	cr_assert_eq(sl_buf_puts(&small, "keep"), 0);
	cr_expect_eq(sl_recs_json(mon, &small), SL_ETOOBIG);
	cr_expect_str_eq(small.data, "keep");
	sl_buf_reset(&b);
	cr_expect_eq(sl_recs_json_version(mon, "missing", &b), SL_ENOTFOUND);
	cr_assert_eq(sl_recs_json_version(mon, "v\"1", &b), 0);
	root = json_tokener_parse(b.data);
	cr_expect_not_null(root);
	json_object_put(root);
	sl_buf_release(&small);
	sl_buf_release(&b);
}

/* What each call contributed (sl_recs_obs), as the judge and the drift monitor read it: the
 * slate's diversity, novelty and repetition, and the previous slate's clicks once the same user's
 * next slate arrives (its version, even when the user changed version). */
Test(recs_monitor, observations_of_slates_and_interactions)
{
	make(100000, 0);
	const char *items[3] = {"a", "b", "c"}, *cats[3] = {"x", "x", "y"}, *next[3] = {"a", "b", "d"};
	struct sl_recs_slate_in in = {.version = "v1", .user = "u", .request_id = "r1", .items = items,
	                              .categories = cats, .n = 3, .now = 1};
	struct sl_recs_obs o;
	cr_assert_eq(sl_recs_slate_observe(mon, &in, &o), 0);
	cr_expect_str_eq(o.version, "v1");
	cr_expect_float_eq(o.diversity, 1 - 1.0 / 3, 1e-12, "one similar pair of three");
	cr_expect_float_eq(o.novelty, 3 * -log2(1.0 / 3) / 3, 1e-12, "three items seen once of three exposures");
	cr_expect(isnan(o.repetition) && o.prev_version == NULL, "a first slate has no predecessor");
	cr_expect(!o.interaction);

	cr_assert_eq(sl_recs_interaction_observe(mon, "r1", NULL, "b", SL_RECS_CLICK, 0, 2, &o), 0);
	cr_expect(o.interaction && o.kind == SL_RECS_CLICK && o.sentiment == 0 && isnan(o.watch_s));
	cr_assert_eq(sl_recs_interaction_observe(mon, "r1", NULL, "b", SL_RECS_WATCH, 45, 2, &o), 0);
	cr_expect(o.sentiment == 1 && o.watch_s == 45, "45 s is a long watch (default 30 s)");
	cr_assert_eq(sl_recs_interaction_observe(mon, "r1", NULL, "c", SL_RECS_WATCH, 5, 2, &o), 0);
	cr_expect_eq(o.sentiment, 0, "a short watch is neutral");
	cr_assert_eq(sl_recs_interaction_observe(mon, "r1", NULL, "a", SL_RECS_SKIP, 0, 2, &o), 0);
	cr_expect_eq(o.sentiment, -1);
	cr_expect_eq(sl_recs_interaction_observe(mon, "r1", NULL, "zz", SL_RECS_CLICK, 0, 2, &o), SL_ENOTFOUND);

	in = (struct sl_recs_slate_in){.version = "v2", .user = "u", .request_id = "r2", .items = next, .n = 3, .now = 3};
	cr_assert_eq(sl_recs_slate_observe(mon, &in, &o), 0);
	cr_expect_str_eq(o.version, "v2");
	cr_expect(isnan(o.diversity), "no categories, no diversity");
	cr_expect_float_eq(o.repetition, 2.0 / 4, 1e-12, "{a,b} of {a,b,c,d}");
	cr_expect_float_eq(o.reshown_ignored, 1.0 / 3, 1e-12, "a was shown again without a click");
	cr_expect_str_eq(o.prev_version, "v1");
	cr_expect_eq(o.prev_shown, 3);
	cr_expect_eq(o.prev_clicked, 1, "b once, however often");
	cr_expect_eq(sl_recs_slate_observe(mon, &in, &o), SL_ESTATE, "a refused slate leaves obs alone");
}
