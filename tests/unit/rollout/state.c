/* state.c: a rollout's JSON, what the store keeps so that a restarted gateway resumes where
 * it was: a round trip in every state gives the same JSON and the same next decisions, and
 * malformed or inconsistent state is refused with the field named. */
#include <stdio.h>
#include <string.h>

#include "rollout_test.h"

#define T0 5000000u

static struct sl_rollout_input at(uint64_t now)
{
	return (struct sl_rollout_input){.now_ms = now, .step_requests = 1000};
}

/* 0 pending, 1 shadow, 2 canary after a failure, 3 awaiting approval, 4 paused, 5 confirming,
 * 6 promoted, 7 rolled back, 8 aborted. */
static void make(struct sl_rollout *r, int which)
{
	struct sl_rollout_spec s;
	sl_rollout_spec_defaults(&s);
	s.shadow_share = 0.05;
	s.confirm_start = true;
	s.confirm_steps = which == 5;
	s.steps[2].require_approval = true;
	s.interval_ms = 1000;
	cr_assert_eq(sl_rollout_init(r, &s, T0, NULL, 0), 0);
	struct sl_rollout_input in = at(T0 + 10);
	if (which == 0)
		return;
	in.webhook = SL_WEBHOOK_START_CONFIRMED;
	advance_ok(r, in);
	if (which == 1)
		return;
	in = at(T0 + 1010);
	in.judgment = SL_OUTCOME_PASS;
	advance_ok(r, in);
	if (which == 5) { /* the shadow's pass asked for a confirmation too */
		in = at(T0 + 1020);
		in.webhook = SL_WEBHOOK_STEP_OK;
		advance_ok(r, in);
	}
	in = at(T0 + 2010);
	in.judgment = which == 7 ? SL_OUTCOME_FAIL : which == 5 ? SL_OUTCOME_PASS : SL_OUTCOME_FAIL;
	advance_ok(r, in);
	if (which == 7) {
		in.now_ms += 1000;
		advance_ok(r, in);
	}
	if (which == 3) {
		in = at(T0 + 3010);
		in.judgment = SL_OUTCOME_PASS;
		advance_ok(r, in);
		in.now_ms += 1000;
		advance_ok(r, in);
	}
	if (which == 4 || which == 6 || which == 8) {
		in = at(T0 + 2500);
		in.action = which == 4 ? SL_ACTION_PAUSE : which == 6 ? SL_ACTION_PROMOTE : SL_ACTION_ABORT;
		advance_ok(r, in);
	}
}

static void to_json(const struct sl_rollout *r, struct sl_buf *b)
{
	sl_buf_init(b, 0);
	cr_assert_eq(sl_rollout_to_json(r, b), 0);
}

Test(state, round_trip_in_every_state)
{
	static const enum sl_rollout_state want[] = {
	    SL_ROLLOUT_PENDING,           SL_ROLLOUT_SHADOW,      SL_ROLLOUT_CANARY,
	    SL_ROLLOUT_AWAITING_APPROVAL, SL_ROLLOUT_PAUSED,      SL_ROLLOUT_CANARY,
	    SL_ROLLOUT_PROMOTED,          SL_ROLLOUT_ROLLED_BACK, SL_ROLLOUT_ABORTED};
	for (int w = 0; w < 9; w++) {
		struct sl_rollout a, b;
		struct sl_buf ja, jb;
		char err[256] = "";
		make(&a, w);
		cr_assert_eq(a.state, want[w], "fixture %d is %s", w, sl_rollout_state_name(a.state));
		to_json(&a, &ja);
		cr_assert_eq(sl_rollout_from_json(ja.data, &b, err, sizeof(err)), 0, "fixture %d: %s\n%s", w, err,
		             ja.data);
		to_json(&b, &jb);
		cr_expect_str_eq(ja.data, jb.data);
		cr_expect_eq(b.state, a.state);
		cr_expect_eq(b.failures, a.failures);
		cr_expect_eq(b.judgments, a.judgments);
		cr_expect_eq(b.confirming, a.confirming);
		/* the restored rollout decides as the original would have */
		for (uint64_t t = T0 + 3000; t < T0 + 30000; t += 700) {
			struct sl_rollout_decision da, db;
			struct sl_rollout_input in = at(t);
			int ra = sl_rollout_advance(&a, &in, &da), rb = sl_rollout_advance(&b, &in, &db);
			cr_assert_eq(ra, rb);
			cr_assert(da.state == db.state && da.share == db.share && da.judge == db.judge &&
			          da.call == db.call && da.judgment_index == db.judgment_index);
			if (da.judge) {
				in.judgment = SL_OUTCOME_PASS;
				cr_assert_eq(sl_rollout_advance(&a, &in, &da), sl_rollout_advance(&b, &in, &db));
			}
		}
		sl_buf_release(&ja);
		sl_buf_release(&jb);
	}
}

Test(state, json_fields)
{
	struct sl_rollout r;
	struct sl_buf b;
	make(&r, 2);
	to_json(&r, &b);
	cr_expect(strstr(b.data, "\"state\":\"canary\""), "%s", b.data);
	cr_expect(strstr(b.data, "\"step\":0,\"step_percent\":1,\"share\":0.01"), "%s", b.data);
	cr_expect(strstr(b.data, "\"failures\":1"), "%s", b.data);
	cr_expect(strstr(b.data, "\"spec\":{\"steps\":[{\"percent\":1,"), "%s", b.data);
	sl_buf_release(&b);
}

/* Replaces the first occurrence of from by to in json (into out). */
static void edit(const char *json, const char *from, const char *to, char *out, size_t cap)
{
	const char *p = strstr(json, from);
	cr_assert_not_null(p, "no '%s' in %s", from, json);
	snprintf(out, cap, "%.*s%s%s", (int)(p - json), json, to, p + strlen(from));
}

Test(state, malformed_state_is_refused)
{
	static const struct {
		const char *from, *to, *err;
	} edits[] = {
	    {"\"state\":\"canary\"", "\"state\":\"flying\"", "state: must be a rollout state name"},
	    {"\"failures\":1", "\"failures\":-1", "failures: must be in [0, "},
	    {"\"failures\":1", "\"failures\":1,\"extra\":2", "extra: unknown field"},
	    {"\"failures\":1,", "", "failures: missing"},
	    {"\"share\":0.01", "\"share\":0.5", "share: must be step 0's 1%"},
	    {"\"share\":0.01", "\"share\":2", "share: must be in [0, 1]"},
	    {"\"step\":0", "\"step\":9", "step: must be below 5"},
	    {"\"confirming\":false", "\"confirming\":0", "confirming: must be true or false"},
	    {"\"state\":\"canary\"", "\"state\":\"paused\"", "share: does not match state pending"},
	    {"\"alpha\":0.05", "\"alpha\":7", "spec.alpha: must be in (0, 0.5]"},
	    {"\"reason\":", "\"reason\":1,\"x\":", "x: unknown field"},
	};
	struct sl_rollout r, back;
	struct sl_buf b;
	make(&r, 2);
	to_json(&r, &b);
	for (size_t i = 0; i < sizeof(edits) / sizeof(edits[0]); i++) {
		char json[16384], err[256] = "";
		edit(b.data, edits[i].from, edits[i].to, json, sizeof(json));
		back.state = SL_ROLLOUT_ABORTED;
		cr_expect_eq(sl_rollout_from_json(json, &back, err, sizeof(err)), SL_EINVAL, "edit %zu accepted", i);
		cr_expect(strncmp(err, edits[i].err, strlen(edits[i].err)) == 0, "edit %zu: '%s', want '%s'", i, err,
		          edits[i].err);
		cr_expect_eq(back.state, SL_ROLLOUT_ABORTED, "written on failure");
	}
	char err[256] = "", json[16384];
	sl_buf_release(&b);
	make(&r, 4);
	to_json(&r, &b);
	edit(b.data, "\"paused_from\":\"canary\"", "\"paused_from\":\"promoted\"", json, sizeof(json));
	cr_expect_eq(sl_rollout_from_json(json, &back, err, sizeof(err)), SL_EINVAL);
	cr_expect_str_eq(err, "paused_from: must be a live state");
	cr_expect_eq(sl_rollout_from_json("[1]", &back, err, sizeof(err)), SL_EINVAL);
	cr_expect_str_eq(err, "rollout: must be a JSON object");
	cr_expect_eq(sl_rollout_from_json("{", &back, err, sizeof(err)), SL_EPARSE);
	sl_buf_release(&b);
}

/* A restart loses the window: the stage starts over, so traffic that was counted before the
 * crash is not missed by the deadline, and the look index carries on. */
Test(state, restore_restarts_the_stage_clock)
{
	struct sl_rollout r, back;
	struct sl_buf b;
	char err[256] = "";
	make(&r, 2); /* canary, step began at T0 + 1010, deadline 10 s */
	to_json(&r, &b);
	cr_assert_eq(sl_rollout_from_json(b.data, &back, err, sizeof(err)), 0, "%s", err);
	sl_buf_release(&b);
	uint64_t later = T0 + 60000; /* down for a minute */
	struct sl_rollout_decision d;
	struct sl_rollout_input in = {.now_ms = later, .step_requests = 0};
	struct sl_rollout lost = back;
	cr_assert_eq(sl_rollout_advance(&lost, &in, &d), 0);
	cr_expect_eq(d.state, SL_ROLLOUT_ROLLED_BACK, "without restore the deadline fires at once");
	sl_rollout_restore(&back, later);
	cr_assert_eq(sl_rollout_advance(&back, &in, &d), 0);
	cr_expect_eq(d.state, SL_ROLLOUT_CANARY);
	cr_expect_eq(back.step_started_ms, later);
	cr_expect_eq(back.judgments, r.judgments);
	cr_expect_eq(back.failures, r.failures);
	in.now_ms = later + 1000;
	in.step_requests = 100;
	cr_assert_eq(sl_rollout_advance(&back, &in, &d), 0);
	cr_expect(d.judge);
	cr_expect_eq(d.judgment_index, r.judgments);
	make(&r, 4); /* paused */
	sl_rollout_restore(&r, later);
	cr_expect_eq(r.state, SL_ROLLOUT_PAUSED);
	cr_expect_eq(r.paused_at_ms, later);
	make(&r, 6); /* promoted: untouched */
	uint64_t ended = r.ended_ms;
	sl_rollout_restore(&r, later);
	cr_expect_eq(r.ended_ms, ended);
	cr_expect_eq(r.state, SL_ROLLOUT_PROMOTED);
}
