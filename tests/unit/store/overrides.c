/* overrides.c: route overrides are set, replaced, cleared and loaded by model; a candidate may be
 * absent only with zero shares; shares outside [0, 1] are refused. */
#include "store_test.h"

static struct sl_store *s;
static struct rows w;

static void setup(void)
{
	s = scratch_store("o.db");
}

static void teardown(void)
{
	scratch_store_close(s, &w);
}

TestSuite(store_overrides, .init = setup, .fini = teardown);

Test(store_overrides, set_replace_clear_load)
{
	cr_assert_eq(sl_store_override_set(s, "qwen", "q1", "q2", 0.25, 0.1, 10), 0);
	cr_assert_eq(sl_store_override_set(s, "llama", "l1", "l2", 0.01, 0, 11), 0);
	cr_assert_eq(sl_store_override_set(s, "mistral", "m2", NULL, 0, 0, 12), 0);
	cr_assert_eq(sl_store_override_set(s, "qwen", "q1", "q3", 0.5, 0, 13), 0);
	cr_assert_eq(sl_store_overrides_load(s, collect_override, &w), 0);
	cr_assert_eq(w.n, 3);
	cr_expect_str_eq(w.ov[0].model, "llama");
	cr_expect_str_eq(w.ov[1].model, "mistral");
	cr_expect_null(w.ov[1].candidate);
	cr_expect_str_eq(w.ov[1].stable, "m2");
	cr_expect_str_eq(w.ov[2].model, "qwen");
	cr_expect_str_eq(w.ov[2].candidate, "q3", "set replaces");
	cr_expect_eq(w.ov[2].candidate_share, 0.5);
	cr_expect_eq(w.ov[2].shadow_share, 0);
	cr_expect_eq(w.ov[2].updated_at, 13);
	cr_expect_eq(w.ov[0].candidate_share, 0.01);
	rows_reset(&w);

	cr_assert_eq(sl_store_override_clear(s, "qwen"), 0);
	cr_assert_eq(sl_store_override_clear(s, "qwen"), 0, "clear is idempotent");
	cr_assert_eq(sl_store_override_clear(s, "never-set"), 0);
	cr_assert_eq(sl_store_overrides_load(s, collect_override, &w), 0);
	cr_assert_eq(w.n, 2);
	cr_expect_str_eq(w.ov[0].model, "llama");
	cr_expect_str_eq(w.ov[1].model, "mistral");
}

Test(store_overrides, refused)
{
	cr_expect_eq(sl_store_override_set(s, "m", "v1", NULL, 0.1, 0, 1), SL_EINVAL);
	cr_expect_str_eq(sl_store_errmsg(s), "override set: candidate: shares need a candidate");
	cr_expect_eq(sl_store_override_set(s, "m", "v1", NULL, 0, 0.1, 1), SL_EINVAL);
	cr_expect_eq(sl_store_override_set(s, "m", "v1", "v2", 1.01, 0, 1), SL_ERANGE);
	cr_expect_eq(sl_store_override_set(s, "m", "v1", "v2", 0, -1, 1), SL_ERANGE);
	cr_expect_eq(sl_store_override_set(s, "m", NULL, "v2", 0, 0, 1), SL_EINVAL);
	cr_expect_eq(sl_store_override_set(s, "m", "v1", "", 0, 0, 1), SL_EINVAL);
	cr_expect_eq(sl_store_override_set(s, "m", "v1", "v2", 0, 0, INFINITY), SL_EINVAL);
	cr_expect_eq(sl_store_override_clear(s, NULL), SL_EINVAL);
	cr_assert_eq(sl_store_overrides_load(s, collect_override, &w), 0);
	cr_expect_eq(w.n, 0);
	cr_expect_eq(sl_store_override_set(s, "m", "v1", "v2", 1, 1, 1), 0, "the bounds are inclusive");
}
