/* rollouts.c: rollouts round-trip through create, update, get, the active load and the list;
 * JSON is kept byte-exact; one active rollout per model; bounds and bad values are refused
 * without touching the database. */
#include "store_test.h"

static struct sl_store *s;
static struct rows w;

static void setup(void)
{
	s = scratch_store("r.db");
}

static void teardown(void)
{
	scratch_store_close(s, &w);
}

TestSuite(store_rollouts, .init = setup, .fini = teardown);

/* Quotes, backslashes, escapes, raw multi-byte UTF-8 (2, 3 and 4 bytes), an escaped surrogate
 * pair, control escapes and odd whitespace: all must come back byte for byte. */
static const char spec[] = "{\"steps\": [1, 5, 25, 50, 100],\n\t\"note\": \"say \\\"hi\\\" \\\\ caf\xc3\xa9 "
                           "\xe6\xbc\xa2\xe5\xad\x97 \xf0\x9f\x9a\x80 \\ud83d\\ude80 \\u0000 \\n\",  \"x\" :1e-300 }";
static const char state_json[] = "{\"look\":3,\"share\":0.05,\"name\":\"\xce\xa9\"}";

static int64_t create(const char *model, double ts)
{
	int64_t id = -1;
	int rc = sl_store_rollout_create(s, model, "v1", "v2", spec, "canary", state_json, ts, &id);
	cr_assert_eq(rc, 0, "%s: %s", sl_errname(rc), sl_store_errmsg(s));
	cr_assert_gt(id, 0);
	return id;
}

Test(store_rollouts, create_get_round_trip)
{
	int64_t id = create("llama-3", 1700000000.123456);
	cr_assert_eq(sl_store_rollout_get(s, id, collect_rollout, &w), 0);
	cr_assert_eq(w.n, 1);
	const struct sl_store_rollout *r = &w.ro[0];
	cr_expect_eq(r->id, id);
	cr_expect_str_eq(r->model, "llama-3");
	cr_expect_str_eq(r->stable, "v1");
	cr_expect_str_eq(r->candidate, "v2");
	cr_expect_eq(r->spec_json_len, sizeof(spec) - 1);
	cr_expect_eq(memcmp(r->spec_json, spec, sizeof(spec)), 0, "spec changed: %s", r->spec_json);
	cr_expect_str_eq(r->state, "canary");
	cr_expect_eq(r->state_json_len, sizeof(state_json) - 1);
	cr_expect_eq(memcmp(r->state_json, state_json, sizeof(state_json)), 0);
	cr_expect_eq(r->step_index, 0);
	cr_expect_eq(r->candidate_share, 0);
	cr_expect_eq(r->created_at, 1700000000.123456, "times must be exact doubles");
	cr_expect_eq(r->updated_at, 1700000000.123456);
	cr_expect_not(r->ended);
	cr_expect_eq(r->ended_at, 0);
}

Test(store_rollouts, update_and_end)
{
	int64_t id = create("m", 10);
	cr_assert_eq(sl_store_rollout_update(s, id, "canary", "{\"step\":2}", 2, 0.25, 20, false), 0);
	cr_assert_eq(sl_store_rollout_get(s, id, collect_rollout, &w), 0);
	cr_expect_eq(w.ro[0].step_index, 2);
	cr_expect_eq(w.ro[0].candidate_share, 0.25);
	cr_expect_str_eq(w.ro[0].state_json, "{\"step\":2}");
	cr_expect_eq(w.ro[0].created_at, 10);
	cr_expect_eq(w.ro[0].updated_at, 20);
	cr_expect_not(w.ro[0].ended);
	rows_reset(&w);

	cr_assert_eq(sl_store_rollout_update(s, id, "rolled_back", "{}", 2, 0, 30, true), 0);
	cr_assert_eq(sl_store_rollout_update(s, id, "rolled_back", "{\"late\":true}", 2, 0, 40, false), 0);
	cr_assert_eq(sl_store_rollout_update(s, id, "rolled_back", "{}", 2, 0, 50, true), 0);
	cr_assert_eq(sl_store_rollout_get(s, id, collect_rollout, &w), 0);
	cr_expect_str_eq(w.ro[0].state, "rolled_back");
	cr_expect(w.ro[0].ended, "a finished rollout stays finished");
	cr_expect_eq(w.ro[0].ended_at, 30, "ended_at is set once");
	cr_expect_eq(w.ro[0].updated_at, 50);
}

Test(store_rollouts, unknown_id)
{
	cr_expect_eq(sl_store_rollout_update(s, 999, "x", "{}", 0, 0, 1, false), SL_ENOTFOUND);
	cr_expect(strstr(sl_store_errmsg(s), "no rollout 999") != NULL, "%s", sl_store_errmsg(s));
	cr_expect_eq(sl_store_rollout_get(s, 999, collect_rollout, &w), SL_ENOTFOUND);
	cr_expect_eq(w.n, 0);
}

Test(store_rollouts, one_active_per_model)
{
	int64_t a = create("m", 1), b = -1;
	cr_expect_eq(sl_store_rollout_create(s, "m", "v1", "v3", "{}", "canary", "{}", 2, &b), SL_ESTATE);
	cr_expect_eq(b, -1);
	cr_expect(strstr(sl_store_errmsg(s), "UNIQUE") != NULL, "%s", sl_store_errmsg(s));
	create("other", 2);
	cr_assert_eq(sl_store_rollout_update(s, a, "promoted", "{}", 4, 1, 3, true), 0);
	int64_t c = create("m", 4);
	cr_expect_gt(c, a);
}

Test(store_rollouts, load_active_oldest_first)
{
	int64_t a = create("a", 1), b = create("b", 2), c = create("c", 3);
	cr_assert_eq(sl_store_rollout_update(s, b, "aborted", "{}", 1, 0, 4, true), 0);
	cr_assert_eq(sl_store_rollouts_load_active(s, collect_rollout, &w), 0);
	cr_assert_eq(w.n, 2);
	cr_expect_eq(w.ro[0].id, a);
	cr_expect_eq(w.ro[1].id, c);
}

Test(store_rollouts, list_newest_first_by_model_and_limit)
{
	int64_t ids[6];
	for (int i = 0; i < 6; i++) {
		ids[i] = create(i % 2 ? "odd" : "even", i);
		cr_assert_eq(sl_store_rollout_update(s, ids[i], "promoted", "{}", 1, 1, i, true), 0);
	}
	cr_assert_eq(sl_store_rollouts_list(s, NULL, 0, collect_rollout, &w), 0);
	cr_assert_eq(w.n, 6);
	for (int i = 0; i < 6; i++)
		cr_expect_eq(w.ro[i].id, ids[5 - i]);
	rows_reset(&w);
	cr_assert_eq(sl_store_rollouts_list(s, "odd", 2, collect_rollout, &w), 0);
	cr_assert_eq(w.n, 2);
	cr_expect_eq(w.ro[0].id, ids[5]);
	cr_expect_eq(w.ro[1].id, ids[3]);
	rows_reset(&w);
	cr_assert_eq(sl_store_rollouts_list(s, "none", 5, collect_rollout, &w), 0);
	cr_expect_eq(w.n, 0);
	cr_expect_eq(sl_store_rollouts_list(s, NULL, -1, collect_rollout, &w), SL_EINVAL);
	cr_expect_eq(sl_store_rollouts_list(s, NULL, SL_STORE_LIST_MAX + 1, collect_rollout, &w), SL_EINVAL);
}

static int stop_at_two(void *ctx, const struct sl_store_rollout *r)
{
	(void)r;
	return ++*(int *)ctx == 2 ? 42 : 0;
}

Test(store_rollouts, callback_stops_iteration)
{
	for (int i = 0; i < 4; i++)
		create(i == 0 ? "a" : i == 1 ? "b" : i == 2 ? "c" : "d", i);
	int n = 0;
	cr_expect_eq(sl_store_rollouts_list(s, NULL, 0, stop_at_two, &n), 42);
	cr_expect_eq(n, 2);
	/* the statement was reset: the next call works */
	size_t all = 0;
	cr_expect_eq(sl_store_rollouts_list(s, NULL, 0, count_rollouts, &all), 0);
	cr_expect_eq(all, 4);
}

static char *filled(size_t n, char c)
{
	char *p = malloc(n + 1);
	cr_assert_not_null(p);
	memset(p, c, n);
	p[n] = '\0';
	return p;
}

Test(store_rollouts, bounds)
{
	int64_t id = -1;
	char *name = filled(SL_STORE_NAME_MAX, 'm');
	char *longname = filled(SL_STORE_NAME_MAX + 1, 'm');
	char *word = filled(SL_STORE_WORD_MAX + 1, 's');
	cr_expect_eq(sl_store_rollout_create(s, name, "v1", "v2", "{}", "canary", "{}", 1, &id), 0);
	cr_expect_eq(sl_store_rollout_create(s, longname, "v1", "v2", "{}", "canary", "{}", 1, &id), SL_ETOOBIG);
	cr_expect(strstr(sl_store_errmsg(s), "rollout create: model: too long") != NULL, "%s", sl_store_errmsg(s));
	cr_expect_eq(sl_store_rollout_create(s, "x", "v1", longname, "{}", "c", "{}", 1, &id), SL_ETOOBIG);
	cr_expect_eq(sl_store_rollout_create(s, "x", "v1", "v2", "{}", word, "{}", 1, &id), SL_ETOOBIG);

	/* JSON of exactly the limit is kept; one byte more is refused */
	char *big = filled(SL_STORE_JSON_MAX, ' ');
	big[0] = '"';
	big[SL_STORE_JSON_MAX - 1] = '"';
	cr_expect_eq(sl_store_rollout_create(s, "big", "v1", "v2", big, "c", "{}", 1, &id), 0, "%s",
	             sl_store_errmsg(s));
	cr_assert_eq(sl_store_rollout_get(s, id, collect_rollout, &w), 0);
	cr_expect_eq(w.ro[0].spec_json_len, SL_STORE_JSON_MAX);
	char *over = filled(SL_STORE_JSON_MAX + 1, ' ');
	cr_expect_eq(sl_store_rollout_create(s, "over", "v1", "v2", over, "c", "{}", 1, &id), SL_ETOOBIG);
	free(name), free(longname), free(word), free(big), free(over);
	size_t n = 0;
	cr_expect_eq(sl_store_rollouts_list(s, NULL, 0, count_rollouts, &n), 0);
	cr_expect_eq(n, 2, "refused rollouts must not be stored");
}

Test(store_rollouts, bad_values_refused)
{
	int64_t id = create("m", 1);
	int64_t other = -1;
	cr_expect_eq(sl_store_rollout_create(s, "", "v1", "v2", "{}", "c", "{}", 1, &other), SL_EINVAL);
	cr_expect_eq(sl_store_rollout_create(s, NULL, "v1", "v2", "{}", "c", "{}", 1, &other), SL_EINVAL);
	cr_expect_eq(sl_store_rollout_create(s, "x", "v1", "v2", "{not json", "c", "{}", 1, &other), SL_EINVAL);
	cr_expect(strstr(sl_store_errmsg(s), "CHECK constraint failed") != NULL, "%s", sl_store_errmsg(s));
	cr_expect_eq(sl_store_rollout_create(s, "x", "v1", "v2", "{}", "c", "{}", NAN, &other), SL_EINVAL);
	cr_expect_eq(sl_store_rollout_create(s, "x", "v1", "v2", "{}", "c", "{}", INFINITY, &other), SL_EINVAL);
	cr_expect_eq(sl_store_rollout_update(s, id, "c", "{}", 1, 1.5, 2, false), SL_ERANGE);
	cr_expect_eq(sl_store_rollout_update(s, id, "c", "{}", 1, -0.1, 2, false), SL_ERANGE);
	cr_expect_eq(sl_store_rollout_update(s, id, "c", "{}", 1, NAN, 2, false), SL_ERANGE);
	cr_expect_eq(sl_store_rollout_update(s, id, "c", "[", 1, 0.5, 2, false), SL_EINVAL);
	cr_expect_eq(other, -1);
	cr_assert_eq(sl_store_rollout_get(s, id, collect_rollout, &w), 0);
	cr_expect_eq(w.ro[0].updated_at, 1, "refused updates change nothing");
	char err[256];
	cr_expect_eq(sl_store_check(s, err, sizeof(err)), 0, "%s", err);
}
