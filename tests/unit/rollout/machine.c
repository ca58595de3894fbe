/* machine.c: the rollout state machine. A table gives, for every state (and the canary
 * sub-state "confirming a step") and every kind of input (a clock tick, each judgment outcome,
 * each operator action, each webhook answer), the expected return code, next state, published
 * share, notification and window reset; refusals must leave the rollout byte-for-byte intact.
 * Scenarios then cover the failure limits, the progress deadline, the judge's timing,
 * approval, pause/resume and a full shadow-then-steps run to promotion. */
#include <string.h>

#include "rollout_test.h"

#define T0 1000000u

/* shadow 10%, steps 10, 50 (approval), 100; interval 1 s, 100 requests, deadline 10 s. */
static struct sl_rollout_spec fixture_spec(bool confirm_steps)
{
	struct sl_rollout_spec s;
	sl_rollout_spec_defaults(&s);
	s.nsteps = 3;
	s.steps[0] = (struct sl_rollout_step){10, false};
	s.steps[1] = (struct sl_rollout_step){50, true};
	s.steps[2] = (struct sl_rollout_step){100, false};
	s.shadow_share = 0.1;
	s.interval_ms = 1000;
	s.min_requests = 100;
	s.confirm_start = true;
	s.confirm_steps = confirm_steps;
	return s;
}

static struct sl_rollout_input ev(uint64_t now, uint64_t reqs)
{
	return (struct sl_rollout_input){.now_ms = now, .step_requests = reqs};
}

/* One event at now with 1000 step requests, which r must accept. */
static struct sl_rollout_decision judge(struct sl_rollout *r, uint64_t now, enum sl_outcome o)
{
	struct sl_rollout_input in = ev(now, 1000);
	in.judgment = o;
	return advance_ok(r, in);
}

static struct sl_rollout_decision act(struct sl_rollout *r, uint64_t now, enum sl_rollout_action a)
{
	struct sl_rollout_input in = ev(now, 1000);
	in.action = a;
	return advance_ok(r, in);
}

static struct sl_rollout_decision hook(struct sl_rollout *r, uint64_t now, enum sl_webhook_result w)
{
	struct sl_rollout_input in = ev(now, 1000);
	in.webhook = w;
	return advance_ok(r, in);
}

enum fx {
	FX_PENDING,
	FX_SHADOW,
	FX_CANARY,
	FX_AWAITING,
	FX_PAUSED,
	FX_PROMOTED,
	FX_ROLLED_BACK,
	FX_ABORTED,
	FX_CONFIRMING,
	FX_COUNT
};
static const char *const fx_names[] = {"pending",  "shadow",      "canary",  "awaiting_approval", "paused",
                                       "promoted", "rolled_back", "aborted", "confirming"};

/* A rollout brought to the fixture state by legal inputs, all at T0. */
static void make(struct sl_rollout *r, enum fx f)
{
	struct sl_rollout_spec s = fixture_spec(f == FX_CONFIRMING);
	cr_assert_eq(sl_rollout_init(r, &s, T0, NULL, 0), 0);
	if (f == FX_PENDING)
		return;
	hook(r, T0, SL_WEBHOOK_START_CONFIRMED);
	if (f == FX_SHADOW)
		return;
	judge(r, T0, SL_OUTCOME_PASS);
	if (f == FX_CONFIRMING) {
		hook(r, T0, SL_WEBHOOK_STEP_OK);
		judge(r, T0, SL_OUTCOME_PASS);
		cr_assert(r->confirming);
		return;
	}
	if (f == FX_AWAITING)
		judge(r, T0, SL_OUTCOME_PASS);
	else if (f == FX_PAUSED)
		act(r, T0, SL_ACTION_PAUSE);
	else if (f == FX_PROMOTED)
		act(r, T0, SL_ACTION_PROMOTE);
	else if (f == FX_ABORTED)
		act(r, T0, SL_ACTION_ABORT);
	else if (f == FX_ROLLED_BACK) {
		judge(r, T0, SL_OUTCOME_FAIL);
		judge(r, T0, SL_OUTCOME_FAIL);
	}
}

enum in_kind {
	IN_TICK,
	IN_PASS,
	IN_FAIL,
	IN_INCONCLUSIVE,
	IN_INSUFFICIENT,
	IN_PAUSE,
	IN_RESUME,
	IN_APPROVE,
	IN_PROMOTE,
	IN_ROLLBACK,
	IN_ABORT,
	IN_START_OK,
	IN_START_REFUSED,
	IN_STEP_OK,
	IN_STEP_FAILED,
	IN_COUNT
};
static const char *const in_names[] = {"tick",  "pass",     "fail",          "inconclusive", "insufficient",
                                       "pause", "resume",   "approve",       "promote",      "rollback",
                                       "abort", "start_ok", "start_refused", "step_ok",      "step_failed"};

static struct sl_rollout_input input_of(enum in_kind k)
{
	struct sl_rollout_input in = ev(T0 + 1, 1000);
	static const enum sl_outcome outcomes[] = {SL_OUTCOME_PASS, SL_OUTCOME_FAIL, SL_OUTCOME_INCONCLUSIVE,
	                                           SL_OUTCOME_INSUFFICIENT_DATA};
	static const enum sl_webhook_result hooks[] = {SL_WEBHOOK_START_CONFIRMED, SL_WEBHOOK_START_REFUSED,
	                                               SL_WEBHOOK_STEP_OK, SL_WEBHOOK_STEP_FAILED};
	if (k >= IN_PASS && k <= IN_INSUFFICIENT)
		in.judgment = outcomes[k - IN_PASS];
	else if (k >= IN_PAUSE && k <= IN_ABORT)
		in.action = (enum sl_rollout_action)(SL_ACTION_PAUSE + (k - IN_PAUSE));
	else if (k >= IN_START_OK)
		in.webhook = hooks[k - IN_START_OK];
	return in;
}

struct row {
	enum fx from;
	enum in_kind in;
	int rc;
	enum sl_rollout_state to;
	double share;
	enum sl_rollout_notify notify;
	bool reset;
};

#define P   SL_ROLLOUT_PENDING
#define SH  SL_ROLLOUT_SHADOW
#define C   SL_ROLLOUT_CANARY
#define AW  SL_ROLLOUT_AWAITING_APPROVAL
#define PA  SL_ROLLOUT_PAUSED
#define PR  SL_ROLLOUT_PROMOTED
#define RB  SL_ROLLOUT_ROLLED_BACK
#define AB  SL_ROLLOUT_ABORTED
#define NO  SL_NOTIFY_NONE
#define NP  SL_NOTIFY_PROMOTED
#define NR  SL_NOTIFY_ROLLED_BACK
#define NA  SL_NOTIFY_ABORTED
#define BAD SL_ESTATE

/* Refused rows keep the state and share of their fixture. */
static const struct row rows[] = {
    /* pending: share 0 */
    {FX_PENDING, IN_TICK, 0, P, 0, NO, false},
    {FX_PENDING, IN_PASS, BAD, P, 0, NO, false},
    {FX_PENDING, IN_FAIL, BAD, P, 0, NO, false},
    {FX_PENDING, IN_INCONCLUSIVE, BAD, P, 0, NO, false},
    {FX_PENDING, IN_INSUFFICIENT, BAD, P, 0, NO, false},
    {FX_PENDING, IN_PAUSE, 0, PA, 0, NO, false},
    {FX_PENDING, IN_RESUME, BAD, P, 0, NO, false},
    {FX_PENDING, IN_APPROVE, BAD, P, 0, NO, false},
    {FX_PENDING, IN_PROMOTE, 0, PR, 1, NP, false},
    {FX_PENDING, IN_ROLLBACK, 0, AB, 0, NR, false},
    {FX_PENDING, IN_ABORT, 0, AB, 0, NA, false},
    {FX_PENDING, IN_START_OK, 0, SH, 0, NO, true},
    {FX_PENDING, IN_START_REFUSED, 0, AB, 0, NA, false},
    {FX_PENDING, IN_STEP_OK, BAD, P, 0, NO, false},
    {FX_PENDING, IN_STEP_FAILED, BAD, P, 0, NO, false},
    /* shadow: share 0, mirroring 10% */
    {FX_SHADOW, IN_TICK, 0, SH, 0, NO, false},
    {FX_SHADOW, IN_PASS, 0, C, 0.1, NO, true},
    {FX_SHADOW, IN_FAIL, 0, SH, 0, NO, false},
    {FX_SHADOW, IN_INCONCLUSIVE, 0, SH, 0, NO, false},
    {FX_SHADOW, IN_INSUFFICIENT, 0, SH, 0, NO, false},
    {FX_SHADOW, IN_PAUSE, 0, PA, 0, NO, false},
    {FX_SHADOW, IN_RESUME, BAD, SH, 0, NO, false},
    {FX_SHADOW, IN_APPROVE, BAD, SH, 0, NO, false},
    {FX_SHADOW, IN_PROMOTE, 0, PR, 1, NP, false},
    {FX_SHADOW, IN_ROLLBACK, 0, AB, 0, NR, false},
    {FX_SHADOW, IN_ABORT, 0, AB, 0, NA, false},
    {FX_SHADOW, IN_START_OK, BAD, SH, 0, NO, false},
    {FX_SHADOW, IN_START_REFUSED, BAD, SH, 0, NO, false},
    {FX_SHADOW, IN_STEP_OK, BAD, SH, 0, NO, false},
    {FX_SHADOW, IN_STEP_FAILED, BAD, SH, 0, NO, false},
    /* canary at step 1 (10%); step 2 requires approval */
    {FX_CANARY, IN_TICK, 0, C, 0.1, NO, false},
    {FX_CANARY, IN_PASS, 0, AW, 0.1, NO, false},
    {FX_CANARY, IN_FAIL, 0, C, 0.1, NO, false},
    {FX_CANARY, IN_INCONCLUSIVE, 0, C, 0.1, NO, false},
    {FX_CANARY, IN_INSUFFICIENT, 0, C, 0.1, NO, false},
    {FX_CANARY, IN_PAUSE, 0, PA, 0.1, NO, false},
    {FX_CANARY, IN_RESUME, BAD, C, 0.1, NO, false},
    {FX_CANARY, IN_APPROVE, BAD, C, 0.1, NO, false},
    {FX_CANARY, IN_PROMOTE, 0, PR, 1, NP, false},
    {FX_CANARY, IN_ROLLBACK, 0, AB, 0, NR, false},
    {FX_CANARY, IN_ABORT, 0, AB, 0, NA, false},
    {FX_CANARY, IN_START_OK, BAD, C, 0.1, NO, false},
    {FX_CANARY, IN_START_REFUSED, BAD, C, 0.1, NO, false},
    {FX_CANARY, IN_STEP_OK, BAD, C, 0.1, NO, false},
    {FX_CANARY, IN_STEP_FAILED, BAD, C, 0.1, NO, false},
    /* awaiting approval to enter step 2 (50%), still at 10% */
    {FX_AWAITING, IN_TICK, 0, AW, 0.1, NO, false},
    {FX_AWAITING, IN_PASS, BAD, AW, 0.1, NO, false},
    {FX_AWAITING, IN_FAIL, BAD, AW, 0.1, NO, false},
    {FX_AWAITING, IN_INCONCLUSIVE, BAD, AW, 0.1, NO, false},
    {FX_AWAITING, IN_INSUFFICIENT, BAD, AW, 0.1, NO, false},
    {FX_AWAITING, IN_PAUSE, 0, PA, 0.1, NO, false},
    {FX_AWAITING, IN_RESUME, BAD, AW, 0.1, NO, false},
    {FX_AWAITING, IN_APPROVE, 0, C, 0.5, NO, true},
    {FX_AWAITING, IN_PROMOTE, 0, PR, 1, NP, false},
    {FX_AWAITING, IN_ROLLBACK, 0, AB, 0, NR, false},
    {FX_AWAITING, IN_ABORT, 0, AB, 0, NA, false},
    {FX_AWAITING, IN_START_OK, BAD, AW, 0.1, NO, false},
    {FX_AWAITING, IN_START_REFUSED, BAD, AW, 0.1, NO, false},
    {FX_AWAITING, IN_STEP_OK, BAD, AW, 0.1, NO, false},
    {FX_AWAITING, IN_STEP_FAILED, BAD, AW, 0.1, NO, false},
    /* paused at step 1 (10%) */
    {FX_PAUSED, IN_TICK, 0, PA, 0.1, NO, false},
    {FX_PAUSED, IN_PASS, BAD, PA, 0.1, NO, false},
    {FX_PAUSED, IN_FAIL, BAD, PA, 0.1, NO, false},
    {FX_PAUSED, IN_INCONCLUSIVE, BAD, PA, 0.1, NO, false},
    {FX_PAUSED, IN_INSUFFICIENT, BAD, PA, 0.1, NO, false},
    {FX_PAUSED, IN_PAUSE, BAD, PA, 0.1, NO, false},
    {FX_PAUSED, IN_RESUME, 0, C, 0.1, NO, false},
    {FX_PAUSED, IN_APPROVE, BAD, PA, 0.1, NO, false},
    {FX_PAUSED, IN_PROMOTE, 0, PR, 1, NP, false},
    {FX_PAUSED, IN_ROLLBACK, 0, AB, 0, NR, false},
    {FX_PAUSED, IN_ABORT, 0, AB, 0, NA, false},
    {FX_PAUSED, IN_START_OK, BAD, PA, 0.1, NO, false},
    {FX_PAUSED, IN_START_REFUSED, BAD, PA, 0.1, NO, false},
    {FX_PAUSED, IN_STEP_OK, BAD, PA, 0.1, NO, false},
    {FX_PAUSED, IN_STEP_FAILED, BAD, PA, 0.1, NO, false},
    /* canary at step 1, a step confirmation wanted */
    {FX_CONFIRMING, IN_TICK, 0, C, 0.1, NO, false},
    {FX_CONFIRMING, IN_PASS, BAD, C, 0.1, NO, false},
    {FX_CONFIRMING, IN_FAIL, BAD, C, 0.1, NO, false},
    {FX_CONFIRMING, IN_INCONCLUSIVE, BAD, C, 0.1, NO, false},
    {FX_CONFIRMING, IN_INSUFFICIENT, BAD, C, 0.1, NO, false},
    {FX_CONFIRMING, IN_PAUSE, 0, PA, 0.1, NO, false},
    {FX_CONFIRMING, IN_RESUME, BAD, C, 0.1, NO, false},
    {FX_CONFIRMING, IN_APPROVE, BAD, C, 0.1, NO, false},
    {FX_CONFIRMING, IN_PROMOTE, 0, PR, 1, NP, false},
    {FX_CONFIRMING, IN_ROLLBACK, 0, AB, 0, NR, false},
    {FX_CONFIRMING, IN_ABORT, 0, AB, 0, NA, false},
    {FX_CONFIRMING, IN_START_OK, BAD, C, 0.1, NO, false},
    {FX_CONFIRMING, IN_START_REFUSED, BAD, C, 0.1, NO, false},
    {FX_CONFIRMING, IN_STEP_OK, 0, AW, 0.1, NO, false},
    {FX_CONFIRMING, IN_STEP_FAILED, 0, C, 0.1, NO, false},
};

static void check_row(const struct row *w)
{
	struct sl_rollout r, before;
	struct sl_rollout_decision d;
	make(&r, w->from);
	before = r;
	struct sl_rollout_input in = input_of(w->in);
	int rc = sl_rollout_advance(&r, &in, &d);
	const char *where = fx_names[w->from], *what = in_names[w->in];
	cr_expect_eq(rc, w->rc, "%s + %s: rc %d, want %d (%s)", where, what, rc, w->rc, d.reason);
	cr_expect_eq(r.state, w->to, "%s + %s: state %s, want %s", where, what, sl_rollout_state_name(r.state),
	             sl_rollout_state_name(w->to));
	cr_expect_eq(d.state, r.state, "%s + %s: decision state", where, what);
	cr_expect_float_eq(d.share, w->share, 1e-12, "%s + %s: share %g, want %g", where, what, d.share, w->share);
	cr_expect_eq(d.notify, w->notify, "%s + %s: notify %s", where, what, sl_rollout_notify_name(d.notify));
	cr_expect_eq(d.reset_window, w->reset, "%s + %s: reset_window", where, what);
	cr_expect_eq(d.share_changed, w->share != before.share || r.shadow_share != before.shadow_share,
	             "%s + %s: share_changed", where, what);
	cr_expect_neq(d.reason[0], '\0', "%s + %s: a reason is always given", where, what);
	if (rc == SL_ESTATE) {
		cr_expect(memcmp(&r, &before, sizeof(r)) == 0, "%s + %s: a refusal changed the rollout", where, what);
		cr_expect(strstr(d.reason, "cannot apply"), "%s + %s: refusal reason '%s'", where, what, d.reason);
		cr_expect(!d.state_changed && !d.share_changed && !d.judge && d.call == SL_CALL_NONE);
	}
	if (sl_rollout_terminal(r.state) && rc == 0)
		cr_expect_eq(r.ended_ms, T0 + 1, "%s + %s: ended_ms", where, what);
}

Test(machine, every_state_every_input)
{
	cr_assert_eq(sizeof(rows) / sizeof(rows[0]), 6 * IN_COUNT);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		check_row(&rows[i]);
}

/* Terminal states refuse every event and ignore ticks. */
Test(machine, terminal_states_refuse_everything)
{
	enum fx ends[] = {FX_PROMOTED, FX_ROLLED_BACK, FX_ABORTED};
	double shares[] = {1, 0, 0};
	for (size_t e = 0; e < 3; e++)
		for (int k = 0; k < IN_COUNT; k++) {
			struct sl_rollout r, before;
			struct sl_rollout_decision d;
			make(&r, ends[e]);
			before = r;
			struct sl_rollout_input in = input_of((enum in_kind)k);
			int rc = sl_rollout_advance(&r, &in, &d);
			cr_expect_eq(rc, k == IN_TICK ? 0 : SL_ESTATE, "%s + %s: rc %d", fx_names[ends[e]], in_names[k],
			             rc);
			cr_expect(memcmp(&r, &before, sizeof(r)) == 0, "%s + %s changed the rollout", fx_names[ends[e]],
			          in_names[k]);
			cr_expect_float_eq(d.share, shares[e], 1e-12);
			cr_expect(!d.judge && d.call == SL_CALL_NONE && d.notify == SL_NOTIFY_NONE && !d.state_changed);
		}
}

Test(machine, one_event_per_call_and_unknown_events)
{
	struct sl_rollout r, before;
	struct sl_rollout_decision d;
	make(&r, FX_CANARY);
	before = r;
	struct sl_rollout_input in = ev(T0 + 1, 1000);
	in.judgment = SL_OUTCOME_PASS;
	in.action = SL_ACTION_PAUSE;
	cr_expect_eq(sl_rollout_advance(&r, &in, &d), SL_EINVAL);
	cr_expect(strstr(d.reason, "one event per call"), "%s", d.reason);
	in = ev(T0 + 1, 1000);
	in.action = (enum sl_rollout_action)42;
	cr_expect_eq(sl_rollout_advance(&r, &in, &d), SL_EINVAL);
	in = ev(T0 + 1, 1000);
	in.judgment = (enum sl_outcome)42;
	cr_expect_eq(sl_rollout_advance(&r, &in, &d), SL_EINVAL);
	in = ev(T0 + 1, 1000);
	in.webhook = (enum sl_webhook_result)42;
	cr_expect_eq(sl_rollout_advance(&r, &in, &d), SL_EINVAL);
	cr_expect(memcmp(&r, &before, sizeof(r)) == 0);
	cr_expect_eq(sl_rollout_advance(NULL, &in, &d), SL_EINVAL);
}

/* ---- scenarios ---- */

static struct sl_rollout_decision tick(struct sl_rollout *r, uint64_t now, uint64_t reqs)
{
	return advance_ok(r, ev(now, reqs));
}

Test(machine, pending_asks_the_start_webhook_until_answered)
{
	struct sl_rollout r;
	make(&r, FX_PENDING);
	for (int i = 0; i < 3; i++) {
		struct sl_rollout_decision d = tick(&r, T0 + 1000u * (unsigned)i, 0);
		cr_expect_eq(d.call, SL_CALL_CONFIRM_START);
		cr_expect_eq(d.state, SL_ROLLOUT_PENDING);
		cr_expect(!d.state_changed);
	}
}

Test(machine, without_webhooks_the_first_call_starts)
{
	struct sl_rollout_spec s;
	struct sl_rollout r;
	sl_rollout_spec_defaults(&s);
	cr_assert_eq(sl_rollout_init(&r, &s, T0, NULL, 0), 0);
	struct sl_rollout_decision d = tick(&r, T0, 0);
	cr_expect_eq(d.state, SL_ROLLOUT_CANARY);
	cr_expect_float_eq(d.share, 0.01, 1e-12);
	cr_expect(d.share_changed && d.reset_window && d.state_changed && !d.judge);
	cr_expect_eq(d.step, 0);
}

Test(machine, a_single_100_step_promotes_at_start)
{
	struct sl_rollout_spec s;
	struct sl_rollout r;
	sl_rollout_spec_defaults(&s);
	s.nsteps = 1;
	s.steps[0].percent = 100;
	cr_assert_eq(sl_rollout_init(&r, &s, T0, NULL, 0), 0);
	struct sl_rollout_decision d = tick(&r, T0, 0);
	cr_expect_eq(d.state, SL_ROLLOUT_PROMOTED);
	cr_expect_eq(d.notify, SL_NOTIFY_PROMOTED);
	cr_expect_float_eq(d.share, 1, 0);
}

Test(machine, judge_is_asked_after_interval_and_min_requests)
{
	struct sl_rollout r;
	make(&r, FX_CANARY); /* step began at T0 */
	cr_expect(!tick(&r, T0 + 999, 500).judge, "before the interval");
	cr_expect(!tick(&r, T0 + 1000, 99).judge, "too few requests");
	struct sl_rollout_decision d = tick(&r, T0 + 1000, 100);
	cr_expect(d.judge);
	cr_expect_eq(d.judgment_index, 1, "the shadow judgment counted as look 1");
	cr_expect(tick(&r, T0 + 1500, 100).judge, "level-triggered until a judgment arrives");
	judge(&r, T0 + 1500, SL_OUTCOME_INCONCLUSIVE);
	cr_expect(!tick(&r, T0 + 2499, 200).judge, "one interval after the last judgment");
	d = tick(&r, T0 + 2500, 200);
	cr_expect(d.judge);
	cr_expect_eq(d.judgment_index, 2);
	cr_expect_float_eq(d.share, 0.1, 1e-12);
}

Test(machine, insufficient_data_holds_without_counting)
{
	struct sl_rollout r;
	make(&r, FX_CANARY);
	unsigned n = r.judgments;
	judge(&r, T0 + 1000, SL_OUTCOME_INSUFFICIENT_DATA);
	cr_expect_eq(r.judgments, n);
	cr_expect_eq(r.failures, 0);
	cr_expect_eq(r.state, SL_ROLLOUT_CANARY);
	cr_expect(!tick(&r, T0 + 1999, 500).judge);
	cr_expect(tick(&r, T0 + 2000, 500).judge);
}

Test(machine, consecutive_failure_limit)
{
	struct sl_rollout r;
	make(&r, FX_CANARY);
	judge(&r, T0 + 1000, SL_OUTCOME_FAIL);
	cr_expect_eq(r.state, SL_ROLLOUT_CANARY);
	cr_expect_float_eq(r.share, 0.1, 1e-12);
	cr_expect_eq(r.failures, 1);
	struct sl_rollout_decision d = judge(&r, T0 + 2000, SL_OUTCOME_FAIL);
	cr_expect_eq(d.state, SL_ROLLOUT_ROLLED_BACK);
	cr_expect_eq(d.notify, SL_NOTIFY_ROLLED_BACK);
	cr_expect_float_eq(d.share, 0, 0);
	cr_expect(d.share_changed);
	cr_expect(strstr(d.reason, "2 consecutive failed judgments (limit 2)"), "%s", d.reason);
}

Test(machine, cumulative_failure_limit_and_streak_resets)
{
	struct sl_rollout r;
	make(&r, FX_CANARY);
	judge(&r, T0 + 1000, SL_OUTCOME_FAIL);
	judge(&r, T0 + 2000, SL_OUTCOME_INCONCLUSIVE); /* breaks the streak */
	cr_expect_eq(r.consecutive_failures, 0);
	judge(&r, T0 + 3000, SL_OUTCOME_FAIL);
	cr_expect_eq(r.state, SL_ROLLOUT_CANARY);
	judge(&r, T0 + 4000, SL_OUTCOME_PASS); /* to awaiting approval of 50% */
	act(&r, T0 + 5000, SL_ACTION_APPROVE);
	cr_expect_eq(r.state, SL_ROLLOUT_CANARY);
	cr_expect_eq(r.failures, 2, "failures are counted over the whole rollout");
	struct sl_rollout_decision d = judge(&r, T0 + 6000, SL_OUTCOME_FAIL);
	cr_expect_eq(d.state, SL_ROLLOUT_ROLLED_BACK);
	cr_expect(strstr(d.reason, "3 failed judgments (limit 3)"), "%s", d.reason);
}

Test(machine, progress_deadline_rolls_back_for_no_traffic)
{
	struct sl_rollout r;
	make(&r, FX_CANARY); /* deadline 10 x 1 s */
	struct sl_rollout_decision d = tick(&r, T0 + 9999, 99);
	cr_expect_eq(d.state, SL_ROLLOUT_CANARY, "too few requests holds before the deadline");
	cr_expect(!d.judge);
	d = tick(&r, T0 + 10000, 99);
	cr_expect_eq(d.state, SL_ROLLOUT_ROLLED_BACK);
	cr_expect_eq(d.notify, SL_NOTIFY_ROLLED_BACK);
	cr_expect(strstr(d.reason, "no traffic (99 of 100 candidate requests in 10 s)"), "%s", d.reason);
	cr_expect_eq(r.failures, 0, "no traffic is not a failed judgment");
}

Test(machine, deadline_does_not_apply_once_traffic_came)
{
	struct sl_rollout r;
	make(&r, FX_CANARY);
	for (unsigned t = 1000; t <= 60000; t += 1000) {
		struct sl_rollout_decision d = tick(&r, T0 + t, 100);
		cr_assert_eq(d.state, SL_ROLLOUT_CANARY);
		if (d.judge)
			judge(&r, T0 + t, SL_OUTCOME_INCONCLUSIVE);
	}
	cr_expect_eq(r.judgments, 61, "one shadow judgment, then one judgment per interval");
}

Test(machine, explicit_deadline)
{
	struct sl_rollout_spec s = fixture_spec(false);
	struct sl_rollout r;
	s.progress_deadline_ms = 2500;
	s.confirm_start = false;
	cr_assert_eq(sl_rollout_init(&r, &s, T0, NULL, 0), 0);
	cr_expect_eq(tick(&r, T0, 0).state, SL_ROLLOUT_SHADOW);
	cr_expect_eq(tick(&r, T0 + 2499, 0).state, SL_ROLLOUT_SHADOW);
	cr_expect_eq(tick(&r, T0 + 2500, 0).state, SL_ROLLOUT_ROLLED_BACK);
}

Test(machine, pause_freezes_judgments_and_the_deadline)
{
	struct sl_rollout r;
	make(&r, FX_CANARY);
	act(&r, T0 + 500, SL_ACTION_PAUSE);
	for (unsigned t = 1000; t <= 100000; t += 1000) {
		struct sl_rollout_decision d = tick(&r, T0 + t, 0);
		cr_assert_eq(d.state, SL_ROLLOUT_PAUSED, "at +%u ms", t);
		cr_assert(!d.judge && !d.share_changed);
		cr_assert_float_eq(d.share, 0.1, 1e-12);
	}
	struct sl_rollout_input in = ev(T0 + 100500, 0);
	in.action = SL_ACTION_RESUME;
	struct sl_rollout_decision d = advance_ok(&r, in);
	cr_expect_eq(d.state, SL_ROLLOUT_CANARY);
	cr_expect(!d.reset_window && !d.share_changed, "resume keeps the window and the share");
	cr_expect_eq(r.step_started_ms, T0 + 100000, "the stage clock skips the pause");
	cr_expect(!tick(&r, T0 + 100999, 500).judge, "500 ms of the stage ran before the pause");
	cr_expect(tick(&r, T0 + 101000, 500).judge);
	cr_expect_eq(tick(&r, T0 + 109999, 0).state, SL_ROLLOUT_CANARY, "deadline shifted by the pause");
	cr_expect_eq(tick(&r, T0 + 110000, 0).state, SL_ROLLOUT_ROLLED_BACK);
}

Test(machine, paused_remembers_awaiting_approval)
{
	struct sl_rollout r;
	make(&r, FX_AWAITING);
	act(&r, T0 + 1, SL_ACTION_PAUSE);
	cr_expect_eq(r.paused_from, SL_ROLLOUT_AWAITING_APPROVAL);
	act(&r, T0 + 2, SL_ACTION_RESUME);
	cr_expect_eq(r.state, SL_ROLLOUT_AWAITING_APPROVAL);
	cr_expect_eq(r.step, 1);
	act(&r, T0 + 3, SL_ACTION_APPROVE);
	cr_expect_eq(r.state, SL_ROLLOUT_CANARY);
	cr_expect_float_eq(r.share, 0.5, 1e-12);
}

Test(machine, approval_waits_indefinitely_without_judging)
{
	struct sl_rollout r;
	make(&r, FX_AWAITING);
	for (unsigned t = 1; t < 1000000; t += 7919) {
		struct sl_rollout_decision d = tick(&r, T0 + t, 0);
		cr_assert_eq(d.state, SL_ROLLOUT_AWAITING_APPROVAL);
		cr_assert(!d.judge);
	}
}

Test(machine, failed_step_confirmation_holds_then_asks_again)
{
	struct sl_rollout r;
	make(&r, FX_CONFIRMING);
	struct sl_rollout_decision d = tick(&r, T0 + 5000, 500);
	cr_expect_eq(d.call, SL_CALL_CONFIRM_STEP);
	cr_expect_eq(d.confirm_step, 1);
	cr_expect(!d.judge, "no judgment while a confirmation is wanted");
	hook(&r, T0 + 5000, SL_WEBHOOK_STEP_FAILED);
	cr_expect_eq(r.state, SL_ROLLOUT_CANARY);
	cr_expect_eq(r.failures, 0, "a failed confirmation is not a failure");
	cr_expect(!r.confirming);
	d = tick(&r, T0 + 5999, 500);
	cr_expect(!d.judge && d.call == SL_CALL_NONE);
	d = tick(&r, T0 + 6000, 500);
	cr_expect(d.judge, "judged again one interval later");
	judge(&r, T0 + 6000, SL_OUTCOME_PASS);
	cr_expect(r.confirming);
	hook(&r, T0 + 6001, SL_WEBHOOK_STEP_OK);
	cr_expect_eq(r.state, SL_ROLLOUT_AWAITING_APPROVAL);
}

/* A whole rollout: pre-start webhook, shadow, 10%, approval, 50%, promotion; each stage
 * resets the window once and publishes its share once. */
Test(machine, shadow_then_steps_to_promotion)
{
	struct sl_rollout r;
	struct sl_rollout_decision d;
	make(&r, FX_PENDING);
	uint64_t t = T0;
	cr_expect_eq(tick(&r, t, 0).call, SL_CALL_CONFIRM_START);
	struct sl_rollout_input in = ev(t += 10, 0);
	in.webhook = SL_WEBHOOK_START_CONFIRMED;
	d = advance_ok(&r, in);
	cr_expect(d.state == SL_ROLLOUT_SHADOW && d.reset_window && d.share_changed);
	cr_expect_float_eq(d.shadow_share, 0.1, 1e-12);
	cr_expect_float_eq(d.share, 0, 0);
	d = tick(&r, t += 1000, 100);
	cr_expect(d.judge);
	in = ev(t, 100);
	in.judgment = SL_OUTCOME_PASS;
	d = advance_ok(&r, in);
	cr_expect(d.state == SL_ROLLOUT_CANARY && d.reset_window && d.share_changed);
	cr_expect_float_eq(d.share, 0.1, 1e-12);
	cr_expect_float_eq(d.shadow_share, 0, 0);
	d = tick(&r, t += 1000, 100);
	cr_expect(d.judge);
	cr_expect_eq(d.judgment_index, 1);
	in = ev(t, 100);
	in.judgment = SL_OUTCOME_PASS;
	d = advance_ok(&r, in);
	cr_expect(d.state == SL_ROLLOUT_AWAITING_APPROVAL && !d.reset_window && !d.share_changed);
	cr_expect(strstr(d.reason, "approval"), "%s", d.reason);
	in = ev(t += 60000, 0);
	in.action = SL_ACTION_APPROVE;
	d = advance_ok(&r, in);
	cr_expect(d.state == SL_ROLLOUT_CANARY && d.reset_window && d.share_changed);
	cr_expect_float_eq(d.share, 0.5, 1e-12);
	cr_expect_eq(r.step_started_ms, t);
	cr_expect(!tick(&r, t + 999, 5000).judge, "a new step waits a full interval");
	in = ev(t += 1000, 100);
	in.judgment = SL_OUTCOME_PASS;
	d = advance_ok(&r, in);
	cr_expect_eq(d.state, SL_ROLLOUT_PROMOTED);
	cr_expect_eq(d.notify, SL_NOTIFY_PROMOTED);
	cr_expect_float_eq(d.share, 1, 0);
	cr_expect_eq(r.judgments, 3);
	cr_expect_eq(r.ended_ms, t);
}

Test(machine, names_round_trip)
{
	for (int s = SL_ROLLOUT_PENDING; s <= SL_ROLLOUT_ABORTED; s++) {
		enum sl_rollout_state back;
		cr_expect_eq(sl_rollout_state_parse(sl_rollout_state_name((enum sl_rollout_state)s), &back), 0);
		cr_expect_eq((int)back, s);
	}
	for (int a = SL_ACTION_PAUSE; a <= SL_ACTION_ABORT; a++) {
		enum sl_rollout_action back;
		cr_expect_eq(sl_rollout_action_parse(sl_rollout_action_name((enum sl_rollout_action)a), &back), 0);
		cr_expect_eq((int)back, a);
	}
	enum sl_rollout_action a;
	cr_expect_eq(sl_rollout_action_parse("none", &a), SL_EINVAL, "an operator cannot send 'none'");
	cr_expect_eq(sl_rollout_action_parse("Pause", &a), SL_EINVAL);
	cr_expect_str_eq(sl_rollout_state_name((enum sl_rollout_state)99), "unknown");
	cr_expect_str_eq(sl_outcome_name(SL_OUTCOME_INSUFFICIENT_DATA), "insufficient_data");
	cr_expect_str_eq(sl_verdict_name(SL_VERDICT_NO_DATA), "no_data");
}
