/* groups.c: sl_store_begin/commit/rollback group writes into one transaction; misuse is refused
 * with SL_ESTATE; callbacks may nest other reads but cannot write or re-enter their own read. */
#include "store_test.h"

static struct sl_store *s;
static struct rows w;

static void setup(void)
{
	s = scratch_store("g.db");
}

static void teardown(void)
{
	scratch_store_close(s, &w);
}

TestSuite(store_groups, .init = setup, .fini = teardown);

static size_t rollouts_seen_by(struct sl_store *other)
{
	size_t n = 0;
	cr_assert_eq(sl_store_rollouts_list(other, NULL, 0, count_rollouts, &n), 0);
	return n;
}

Test(store_groups, commit_publishes_all_at_once)
{
	struct sl_store *reader = store_open_ok(path);
	int64_t id;
	cr_assert_eq(sl_store_begin(s), 0);
	cr_assert_eq(sl_store_rollout_create(s, "m", "v1", "v2", "{}", "canary", "{}", 1, &id), 0);
	cr_assert_eq(sl_store_event_append(s, id, 1, "started", "{}"), 0);
	cr_assert_eq(sl_store_rollout_update(s, id, "canary", "{}", 1, 0.01, 2, false), 0);
	cr_expect_eq(rollouts_seen_by(s), 1, "the writer sees its own group");
	cr_expect_eq(rollouts_seen_by(reader), 0, "another connection does not see an open group");
	cr_assert_eq(sl_store_commit(s), 0);
	cr_expect_eq(rollouts_seen_by(reader), 1);
	sl_store_close(reader);
}

Test(store_groups, rollback_discards)
{
	int64_t id;
	cr_assert_eq(sl_store_begin(s), 0);
	cr_assert_eq(sl_store_rollout_create(s, "m", "v1", "v2", "{}", "canary", "{}", 1, &id), 0);
	cr_assert_eq(sl_store_override_set(s, "m", "v1", "v2", 0.5, 0, 1), 0);
	sl_store_rollback(s);
	sl_store_rollback(s);
	cr_expect_eq(rollouts_seen_by(s), 0);
	cr_assert_eq(sl_store_overrides_load(s, collect_override, &w), 0);
	cr_expect_eq(w.n, 0);
}

Test(store_groups, failed_write_inside_group_keeps_the_rest)
{
	int64_t id;
	cr_assert_eq(sl_store_begin(s), 0);
	cr_assert_eq(sl_store_rollout_create(s, "m", "v1", "v2", "{}", "canary", "{}", 1, &id), 0);
	cr_expect_eq(sl_store_event_append(s, id + 7, 1, "step", "{}"), SL_ENOTFOUND);
	cr_assert_eq(sl_store_event_append(s, id, 1, "step", "{}"), 0);
	cr_assert_eq(sl_store_commit(s), 0);
	size_t n = 0;
	cr_expect_eq(sl_store_events_list(s, id, 0, count_events, &n), 0);
	cr_expect_eq(n, 1);
}

Test(store_groups, misuse_refused)
{
	cr_expect_eq(sl_store_commit(s), SL_ESTATE);
	cr_expect_str_eq(sl_store_errmsg(s), "commit: no group is open");
	cr_assert_eq(sl_store_begin(s), 0);
	cr_expect_eq(sl_store_begin(s), SL_ESTATE);
	char err[128];
	cr_expect_eq(sl_store_check(s, err, sizeof(err)), SL_ESTATE);
	cr_assert_eq(sl_store_commit(s), 0);
	cr_expect_eq(sl_store_check(s, err, sizeof(err)), 0, "%s", err);
}

/* A group left open at close is rolled back, not committed. */
Test(store_groups, close_rolls_back)
{
	int64_t id;
	cr_assert_eq(sl_store_begin(s), 0);
	cr_assert_eq(sl_store_rollout_create(s, "m", "v1", "v2", "{}", "canary", "{}", 1, &id), 0);
	sl_store_close(s);
	s = store_open_ok(path);
	cr_expect_eq(rollouts_seen_by(s), 0);
}

struct nest {
	int write_rc, same_rc, begin_rc, nested_rc;
	size_t events;
};

static int inside(void *ctx, const struct sl_store_rollout *r)
{
	struct nest *n = ctx;
	size_t dummy = 0;
	n->write_rc = sl_store_event_append(s, r->id, 1, "step", "{}");
	n->same_rc = sl_store_rollouts_list(s, NULL, 0, count_rollouts, &dummy);
	n->begin_rc = sl_store_begin(s);
	n->nested_rc = sl_store_events_list(s, r->id, 0, count_events, &n->events);
	return 0;
}

Test(store_groups, callbacks_may_read_but_not_write)
{
	int64_t id;
	cr_assert_eq(sl_store_rollout_create(s, "m", "v1", "v2", "{}", "canary", "{}", 1, &id), 0);
	cr_assert_eq(sl_store_event_append(s, id, 1, "started", "{}"), 0);
	struct nest n = {0};
	cr_assert_eq(sl_store_rollouts_list(s, NULL, 0, inside, &n), 0);
	cr_expect_eq(n.write_rc, SL_ESTATE);
	cr_expect_eq(n.same_rc, SL_ESTATE);
	cr_expect_eq(n.begin_rc, SL_ESTATE);
	cr_expect_eq(n.nested_rc, 0);
	cr_expect_eq(n.events, 1);
	/* and after the read, writes work again */
	cr_expect_eq(sl_store_event_append(s, id, 2, "step", "{}"), 0);
}
