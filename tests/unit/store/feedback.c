/* feedback.c: feedback rows round-trip with optional label, score and metric, list newest first
 * by model, and a row with neither label nor score is refused. */
#include "store_test.h"

static struct sl_store *s;
static struct rows w;

static void setup(void)
{
	s = scratch_store("f.db");
}

static void teardown(void)
{
	scratch_store_close(s, &w);
}

TestSuite(store_feedback, .init = setup, .fini = teardown);

Test(store_feedback, round_trip)
{
	cr_assert_eq(sl_store_feedback_append(s, "req-1", "llama", "v1", "thumbs_up", NAN, NULL, 1.25), 0);
	cr_assert_eq(sl_store_feedback_append(s, "req-2", "llama", "v2", NULL, 0.75, "helpfulness", 2.5), 0);
	cr_assert_eq(sl_store_feedback_append(s, "req-3", "qwen", "q1", "thumbs_down", 0, "overall", 3), 0);
	cr_assert_eq(sl_store_feedback_list(s, NULL, 0, collect_feedback, &w), 0);
	cr_assert_eq(w.n, 3);
	const struct sl_store_feedback *f = w.fb;
	cr_expect_str_eq(f[0].request_id, "req-3");
	cr_expect_str_eq(f[0].label, "thumbs_down");
	cr_expect_eq(f[0].score, 0);
	cr_expect_str_eq(f[0].metric, "overall");
	cr_expect_str_eq(f[1].version, "v2");
	cr_expect_null(f[1].label);
	cr_expect_eq(f[1].score, 0.75);
	cr_expect_str_eq(f[1].metric, "helpfulness");
	cr_expect_eq(f[1].ts, 2.5);
	cr_expect_str_eq(f[2].label, "thumbs_up");
	cr_expect(isnan(f[2].score));
	cr_expect_null(f[2].metric);
	cr_expect_gt(f[0].id, f[1].id);
	rows_reset(&w);
	cr_assert_eq(sl_store_feedback_list(s, "llama", 1, collect_feedback, &w), 0);
	cr_assert_eq(w.n, 1);
	cr_expect_str_eq(w.fb[0].request_id, "req-2");
}

Test(store_feedback, refused)
{
	cr_expect_eq(sl_store_feedback_append(s, "r", "m", "v", NULL, NAN, "x", 1), SL_EINVAL);
	cr_expect_str_eq(sl_store_errmsg(s), "feedback append: label: neither a label nor a score");
	cr_expect_eq(sl_store_feedback_append(s, "r", "m", "v", NULL, INFINITY, NULL, 1), SL_EINVAL);
	cr_expect_eq(sl_store_feedback_append(s, NULL, "m", "v", "thumbs_up", NAN, NULL, 1), SL_EINVAL);
	cr_expect_eq(sl_store_feedback_append(s, "r", "m", NULL, "thumbs_up", NAN, NULL, 1), SL_EINVAL);
	cr_expect_eq(sl_store_feedback_append(s, "r", "m", "v", "thumbs_up", NAN, NULL, NAN), SL_EINVAL);
	cr_assert_eq(sl_store_feedback_list(s, NULL, 0, collect_feedback, &w), 0);
	cr_expect_eq(w.n, 0);
}
