/* journal.c: rollout events and judgments are appended, listed oldest first within the last
 * `limit`, tied to an existing rollout, kept byte-exact, and can never be changed or deleted. */
#include <sqlite3.h>

#include "store_test.h"

static struct sl_store *s;
static struct rows w;
static int64_t rid;

static void setup(void)
{
	s = scratch_store("j.db");
	cr_assert_eq(sl_store_rollout_create(s, "m", "v1", "v2", "{}", "canary", "{}", 1, &rid), 0);
}

static void teardown(void)
{
	scratch_store_close(s, &w);
}

TestSuite(store_journal, .init = setup, .fini = teardown);

static const char detail[] = "{\"from\":\"5%\",\"to\":\"25%\",\"why\":\"p=0.003 \\\"ok\\\" \xe2\x9c\x93\"}";

Test(store_journal, events_round_trip)
{
	static const char *const kinds[] = {"started", "step", "judgment", "action", "webhook", "state"};
	for (int i = 0; i < 6; i++)
		cr_assert_eq(sl_store_event_append(s, rid, 10 + i, kinds[i], i == 3 ? NULL : detail), 0, "%s",
		             sl_store_errmsg(s));
	cr_assert_eq(sl_store_events_list(s, rid, 0, collect_event, &w), 0);
	cr_assert_eq(w.n, 6);
	for (int i = 0; i < 6; i++) {
		cr_expect_eq(w.ev[i].rollout_id, rid);
		cr_expect_eq(w.ev[i].ts, 10 + i);
		cr_expect_str_eq(w.ev[i].kind, kinds[i]);
		if (i > 0)
			cr_expect_gt(w.ev[i].id, w.ev[i - 1].id);
		if (i == 3) {
			cr_expect_null(w.ev[i].detail_json);
			cr_expect_eq(w.ev[i].detail_json_len, 0);
		} else {
			cr_expect_eq(w.ev[i].detail_json_len, sizeof(detail) - 1);
			cr_expect_eq(memcmp(w.ev[i].detail_json, detail, sizeof(detail)), 0);
		}
	}
}

Test(store_journal, events_limit_keeps_latest_oldest_first)
{
	char d[32];
	for (int i = 0; i < 10; i++) {
		snprintf(d, sizeof(d), "{\"i\":%d}", i);
		cr_assert_eq(sl_store_event_append(s, rid, i, "step", d), 0);
	}
	cr_assert_eq(sl_store_events_list(s, rid, 3, collect_event, &w), 0);
	cr_assert_eq(w.n, 3);
	cr_expect_str_eq(w.ev[0].detail_json, "{\"i\":7}");
	cr_expect_str_eq(w.ev[2].detail_json, "{\"i\":9}");
	rows_reset(&w);
	cr_assert_eq(sl_store_events_list(s, rid + 1, 0, collect_event, &w), 0);
	cr_expect_eq(w.n, 0);
}

Test(store_journal, events_refused)
{
	cr_expect_eq(sl_store_event_append(s, rid + 100, 1, "step", "{}"), SL_ENOTFOUND);
	cr_expect(strstr(sl_store_errmsg(s), "FOREIGN KEY") != NULL, "%s", sl_store_errmsg(s));
	cr_expect_eq(sl_store_event_append(s, rid, 1, "stepped", "{}"), SL_EINVAL);
	cr_expect_str_eq(sl_store_errmsg(s), "event append: kind: unknown kind 'stepped'");
	cr_expect_eq(sl_store_event_append(s, rid, 1, NULL, "{}"), SL_EINVAL);
	cr_expect_eq(sl_store_event_append(s, rid, 1, "step", ""), SL_EINVAL);
	cr_expect_eq(sl_store_event_append(s, rid, 1, "step", "{\"a\":}"), SL_EINVAL);
	cr_expect_eq(sl_store_event_append(s, rid, NAN, "step", "{}"), SL_EINVAL);
	size_t n = 0;
	cr_expect_eq(sl_store_events_list(s, rid, 0, count_events, &n), 0);
	cr_expect_eq(n, 0);
}

Test(store_journal, judgments_round_trip)
{
	cr_assert_eq(sl_store_judgment_append(s, rid, 5.5, 1, 1, "pass", 97.25, detail), 0);
	cr_assert_eq(sl_store_judgment_append(s, rid, 6.5, 1, 2, "too_few", NAN, NULL), 0);
	cr_assert_eq(sl_store_judgment_append(s, rid, 7.5, 2, 1, "fail", -0.0, "[]"), 0);
	cr_assert_eq(sl_store_judgments_list(s, rid, 0, collect_judgment, &w), 0);
	cr_assert_eq(w.n, 3);
	const struct sl_store_judgment *j = w.ju;
	cr_expect_eq(j[0].rollout_id, rid);
	cr_expect_eq(j[0].ts, 5.5);
	cr_expect_eq(j[0].step_index, 1);
	cr_expect_eq(j[0].look, 1);
	cr_expect_str_eq(j[0].outcome, "pass");
	cr_expect_eq(j[0].score, 97.25);
	cr_expect_eq(memcmp(j[0].detail_json, detail, sizeof(detail)), 0);
	cr_expect(isnan(j[1].score), "a missing score comes back as NAN");
	cr_expect_null(j[1].detail_json);
	cr_expect_str_eq(j[1].outcome, "too_few");
	cr_expect_eq(j[2].score, 0);
	cr_expect_eq(j[2].step_index, 2);
	rows_reset(&w);
	cr_assert_eq(sl_store_judgments_list(s, rid, 1, collect_judgment, &w), 0);
	cr_assert_eq(w.n, 1);
	cr_expect_str_eq(w.ju[0].outcome, "fail");
}

Test(store_journal, judgments_refused)
{
	cr_expect_eq(sl_store_judgment_append(s, rid + 1, 1, 0, 0, "pass", 1, NULL), SL_ENOTFOUND);
	cr_expect_eq(sl_store_judgment_append(s, rid, 1, 0, 0, "pass", INFINITY, NULL), SL_EINVAL);
	cr_expect_eq(sl_store_judgment_append(s, rid, 1, 0, 0, "", 1, NULL), SL_EINVAL);
	cr_expect_eq(sl_store_judgment_append(s, rid, 1, 0, 0, "pass", 1, "nope"), SL_EINVAL);
	cr_expect_eq(sl_store_judgments_list(s, rid, -3, collect_judgment, &w), SL_EINVAL);
	size_t n = 0;
	cr_expect_eq(sl_store_judgments_list(s, rid, 0, count_judgments, &n), 0);
	cr_expect_eq(n, 0);
}

/* Even a raw connection cannot rewrite history. */
Test(store_journal, append_only)
{
	cr_assert_eq(sl_store_event_append(s, rid, 1, "started", "{}"), 0);
	cr_assert_eq(sl_store_judgment_append(s, rid, 1, 0, 1, "pass", 1, "{}"), 0);
	sqlite3 *db = NULL;
	cr_assert_eq(sqlite3_open(path, &db), SQLITE_OK);
	static const char *const sql[] = {"UPDATE rollout_events SET kind = 'step'", "DELETE FROM rollout_events",
	                                  "UPDATE judgments SET outcome = 'fail'", "DELETE FROM judgments"};
	for (int i = 0; i < 4; i++) {
		cr_expect_neq(sqlite3_exec(db, sql[i], NULL, NULL, NULL), SQLITE_OK, "%s succeeded", sql[i]);
		cr_expect(strstr(sqlite3_errmsg(db), "append-only") != NULL, "%s", sqlite3_errmsg(db));
	}
	sqlite3_close(db);
	size_t n = 0;
	cr_expect_eq(sl_store_events_list(s, rid, 0, count_events, &n), 0);
	cr_expect_eq(n, 1);
}
