/* machine.c: the rollout state machine. One call, sl_rollout_advance, applies at most one event
 * (a judgment outcome, an operator action or a webhook answer) and then the clock, and says
 * what the gateway must do: publish a share, run the judge, reset the window, call a webhook,
 * send a notification.
 *
 * States (live = pending, shadow, canary, awaiting_approval; terminal = promoted, rolled_back,
 * aborted) and transitions, with the function performing each:
 *   pending  --start_confirmed, or the first call when !confirm_start--> start()
 *   pending  --start_refused--> aborted                                   on_webhook()
 *   start()  --> shadow (shadow_share > 0), else go_to_step(0)
 *   shadow | canary(i) --judgment pass--> want_advance(): confirming (confirm_steps) or
 *                                          go_to_step(next)               on_judgment()
 *   shadow | canary(i), confirming --step_ok--> go_to_step(next)           on_webhook()
 *   shadow | canary(i), confirming --step_failed--> hold, not a failure    on_webhook()
 *   go_to_step(j) --> awaiting_approval(j) when steps[j].require_approval, else enter_step(j)
 *   enter_step(j) --> canary(j), or promoted when j is the last (100%) step
 *   awaiting_approval(j) --approve--> enter_step(j)                       on_action()
 *   shadow | canary --judgment fail--> hold; rolled_back at max_failures or
 *                                       max_consecutive_failures          on_judgment()
 *   shadow | canary --judgment inconclusive | insufficient_data--> hold   on_judgment()
 *   shadow | canary --clock: deadline passed, step_requests < min_requests--> rolled_back
 *                                                                          on_clock()
 *   live --pause--> paused (paused_from remembers the state)              on_action()
 *   paused --resume--> paused_from, stage timers shifted by the pause     on_action()
 *   live | paused --promote--> promoted; --rollback | abort--> aborted     on_action(), end()
 *   terminal: every event is refused.
 * Notifications (edge-triggered, once): promoted -> PROMOTED; rolled_back (judge, limit,
 * deadline) and the operator's rollback (state aborted) -> ROLLED_BACK; the operator's abort
 * and a refused start -> ABORTED. Webhook calls are level-triggered: CONFIRM_START on every
 * call while pending with confirm_start, CONFIRM_STEP on every call while confirming.
 * Refusals (SL_ESTATE) leave the rollout unchanged: events are applied to a copy that is kept
 * only on success. Counters: judgments counts pass/fail/inconclusive judgments over the whole
 * rollout (the judge's look index, never reset); failures is cumulative; consecutive_failures
 * resets on pass or inconclusive. reset_window is set whenever a stage (shadow or a canary
 * step) begins: the window then opens a new stratum, so candidate and stable are always
 * compared over the same period at one constant share, while the judge pools the strata of
 * the stages before (evidence accumulates over the rollout). A failure holds the step; the
 * next judgment comes an interval later, on that interval's new data pooled with the rest, so
 * max_consecutive_failures asks the failure to persist as evidence grows. Invariants: share == steps[step]/100 in canary; 0 in pending and shadow;
 * 1 once promoted, 0 once rolled back or aborted. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "rollout-int.h"

bool sl_rollout_terminal(enum sl_rollout_state s)
{
	return s == SL_ROLLOUT_PROMOTED || s == SL_ROLLOUT_ROLLED_BACK || s == SL_ROLLOUT_ABORTED;
}

static bool judging_state(enum sl_rollout_state s)
{
	return s == SL_ROLLOUT_SHADOW || s == SL_ROLLOUT_CANARY;
}

static uint64_t since(uint64_t now, uint64_t t)
{
	return now > t ? now - t : 0;
}

/* Writes the reason of this call into out, and into r when keep (a transition's reason). */
__attribute__((format(printf, 4, 5))) static void say(struct sl_rollout *r, struct sl_rollout_decision *out, bool keep,
                                                      const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(out->reason, sizeof(out->reason), fmt, ap);
	va_end(ap);
	if (keep)
		memcpy(r->reason, out->reason, sizeof(r->reason));
}

static double percent_of(const struct sl_rollout *r, unsigned j)
{
	return r->spec.steps[j].percent;
}

static void end(struct sl_rollout *r, struct sl_rollout_decision *out, enum sl_rollout_state s,
                enum sl_rollout_notify n, uint64_t now)
{
	r->state = s;
	r->share = s == SL_ROLLOUT_PROMOTED ? 1 : 0;
	r->shadow_share = 0;
	r->confirming = false;
	r->ended_ms = now;
	out->notify = n;
}

static void enter_stage(struct sl_rollout *r, struct sl_rollout_decision *out, uint64_t now)
{
	r->step_started_ms = now;
	r->last_judgment_ms = 0;
	r->confirming = false;
	out->reset_window = true;
}

static void enter_step(struct sl_rollout *r, struct sl_rollout_decision *out, unsigned j, uint64_t now)
{
	r->step = j;
	if (j + 1 == r->spec.nsteps) {
		end(r, out, SL_ROLLOUT_PROMOTED, SL_NOTIFY_PROMOTED, now);
		say(r, out, true, "promoted: the candidate takes all traffic");
		return;
	}
	r->state = SL_ROLLOUT_CANARY;
	r->share = percent_of(r, j) / 100;
	r->shadow_share = 0;
	enter_stage(r, out, now);
	say(r, out, true, "step %u: candidate at %g%%", j + 1, percent_of(r, j));
}

static void go_to_step(struct sl_rollout *r, struct sl_rollout_decision *out, unsigned j, uint64_t now)
{
	if (!r->spec.steps[j].require_approval) {
		enter_step(r, out, j, now);
		return;
	}
	r->state = SL_ROLLOUT_AWAITING_APPROVAL;
	r->step = j;
	r->confirming = false;
	say(r, out, true, "waiting for approval to enter step %u (%g%%)", j + 1, percent_of(r, j));
}

static unsigned next_step(const struct sl_rollout *r)
{
	return r->state == SL_ROLLOUT_SHADOW ? 0 : r->step + 1;
}

static void start(struct sl_rollout *r, struct sl_rollout_decision *out, uint64_t now)
{
	if (r->spec.shadow_share > 0) {
		r->state = SL_ROLLOUT_SHADOW;
		r->share = 0;
		r->shadow_share = r->spec.shadow_share;
		enter_stage(r, out, now);
		say(r, out, true, "shadow: mirroring %g%% of requests to the candidate", 100 * r->shadow_share);
		return;
	}
	go_to_step(r, out, 0, now);
}

static void want_advance(struct sl_rollout *r, struct sl_rollout_decision *out, uint64_t now)
{
	unsigned j = next_step(r);
	if (!r->spec.confirm_steps) {
		go_to_step(r, out, j, now);
		return;
	}
	r->confirming = true;
	say(r, out, true, "judgment passed: confirming step %u (%g%%)", j + 1, percent_of(r, j));
}

static void on_fail(struct sl_rollout *r, struct sl_rollout_decision *out, uint64_t now)
{
	r->failures++;
	r->consecutive_failures++;
	const struct sl_rollout_spec *s = &r->spec;
	if (r->consecutive_failures >= s->max_consecutive_failures || r->failures >= s->max_failures) {
		bool consecutive = r->consecutive_failures >= s->max_consecutive_failures;
		end(r, out, SL_ROLLOUT_ROLLED_BACK, SL_NOTIFY_ROLLED_BACK, now);
		say(r, out, true, "rolled back: %u %sfailed judgments (limit %u)",
		    consecutive ? r->consecutive_failures : r->failures, consecutive ? "consecutive " : "",
		    consecutive ? s->max_consecutive_failures : s->max_failures);
		return;
	}
	say(r, out, true, "judgment failed (%u of %u, %u consecutive of %u): holding at %g%%", r->failures,
	    s->max_failures, r->consecutive_failures, s->max_consecutive_failures, 100 * r->share);
}

static int on_judgment(struct sl_rollout *r, enum sl_outcome o, uint64_t now, struct sl_rollout_decision *out)
{
	if (!judging_state(r->state) || r->confirming)
		return SL_ESTATE;
	if (o < SL_OUTCOME_PASS || o > SL_OUTCOME_INSUFFICIENT_DATA)
		return SL_EINVAL;
	r->last_judgment_ms = now;
	if (o == SL_OUTCOME_INSUFFICIENT_DATA) {
		say(r, out, false, "too little data to judge: holding at %g%%", 100 * r->share);
		return 0;
	}
	r->judgments++;
	if (o == SL_OUTCOME_FAIL) {
		on_fail(r, out, now);
		return 0;
	}
	r->consecutive_failures = 0;
	if (o == SL_OUTCOME_PASS)
		want_advance(r, out, now);
	else
		say(r, out, true, "judgment inconclusive: holding at %g%%", 100 * r->share);
	return 0;
}

static int on_webhook(struct sl_rollout *r, enum sl_webhook_result w, uint64_t now, struct sl_rollout_decision *out)
{
	bool pending = r->state == SL_ROLLOUT_PENDING, confirming = judging_state(r->state) && r->confirming;
	switch (w) {
	case SL_WEBHOOK_START_CONFIRMED:
		if (!pending)
			return SL_ESTATE;
		start(r, out, now);
		return 0;
	case SL_WEBHOOK_START_REFUSED:
		if (!pending)
			return SL_ESTATE;
		end(r, out, SL_ROLLOUT_ABORTED, SL_NOTIFY_ABORTED, now);
		say(r, out, true, "aborted: the pre-start webhook refused the rollout");
		return 0;
	case SL_WEBHOOK_STEP_OK:
		if (!confirming)
			return SL_ESTATE;
		go_to_step(r, out, next_step(r), now);
		return 0;
	case SL_WEBHOOK_STEP_FAILED:
		if (!confirming)
			return SL_ESTATE;
		r->confirming = false;
		r->last_judgment_ms = now; /* judge again after an interval, then ask again */
		say(r, out, true, "step confirmation failed: holding at %g%%", 100 * r->share);
		return 0;
	default:
		return SL_EINVAL;
	}
}

static void pause(struct sl_rollout *r, uint64_t now, struct sl_rollout_decision *out)
{
	r->paused_from = r->state;
	r->paused_at_ms = now;
	r->state = SL_ROLLOUT_PAUSED;
	say(r, out, true, "paused by operator at %g%%", 100 * r->share);
}

static void resume(struct sl_rollout *r, uint64_t now, struct sl_rollout_decision *out)
{
	uint64_t paused = since(now, r->paused_at_ms);
	r->state = r->paused_from;
	r->step_started_ms += paused;
	if (r->last_judgment_ms)
		r->last_judgment_ms += paused;
	r->paused_at_ms = 0;
	say(r, out, true, "resumed (%s) after %llu s paused", sl_rollout_state_name(r->state),
	    (unsigned long long)(paused / 1000));
}

static int on_action(struct sl_rollout *r, enum sl_rollout_action a, uint64_t now, struct sl_rollout_decision *out)
{
	bool paused = r->state == SL_ROLLOUT_PAUSED;
	if (sl_rollout_terminal(r->state))
		return a >= SL_ACTION_PAUSE && a <= SL_ACTION_ABORT ? SL_ESTATE : SL_EINVAL;
	switch (a) {
	case SL_ACTION_PAUSE:
		if (paused)
			return SL_ESTATE;
		pause(r, now, out);
		return 0;
	case SL_ACTION_RESUME:
		if (!paused)
			return SL_ESTATE;
		resume(r, now, out);
		return 0;
	case SL_ACTION_APPROVE:
		if (r->state != SL_ROLLOUT_AWAITING_APPROVAL)
			return SL_ESTATE;
		enter_step(r, out, r->step, now);
		return 0;
	case SL_ACTION_PROMOTE:
		end(r, out, SL_ROLLOUT_PROMOTED, SL_NOTIFY_PROMOTED, now);
		say(r, out, true, "promoted by operator");
		return 0;
	case SL_ACTION_ROLLBACK:
	case SL_ACTION_ABORT:
		end(r, out, SL_ROLLOUT_ABORTED, a == SL_ACTION_ROLLBACK ? SL_NOTIFY_ROLLED_BACK : SL_NOTIFY_ABORTED,
		    now);
		say(r, out, true, "%s by operator", a == SL_ACTION_ROLLBACK ? "rolled back" : "aborted");
		return 0;
	default:
		return SL_EINVAL;
	}
}

/* Timers of a stage that did not change in this call: deadline, judge due, webhook wanted. */
static void on_clock(struct sl_rollout *r, const struct sl_rollout_input *in, struct sl_rollout_decision *out)
{
	const struct sl_rollout_spec *s = &r->spec;
	if (r->state == SL_ROLLOUT_PENDING) {
		if (s->confirm_start)
			out->call = SL_CALL_CONFIRM_START;
		else
			start(r, out, in->now_ms);
		return;
	}
	if (!judging_state(r->state))
		return;
	if (r->confirming) {
		out->call = SL_CALL_CONFIRM_STEP;
		out->confirm_step = next_step(r);
		return;
	}
	uint64_t elapsed = since(in->now_ms, r->step_started_ms);
	if (in->step_requests < s->min_requests) {
		if (elapsed < sl_rollout_spec_deadline_ms(s))
			return;
		end(r, out, SL_ROLLOUT_ROLLED_BACK, SL_NOTIFY_ROLLED_BACK, in->now_ms);
		say(r, out, true, "rolled back: no traffic (%llu of %llu candidate requests in %llu s)",
		    (unsigned long long)in->step_requests, (unsigned long long)s->min_requests,
		    (unsigned long long)(elapsed / 1000));
		return;
	}
	uint64_t from = r->last_judgment_ms > r->step_started_ms ? r->last_judgment_ms : r->step_started_ms;
	out->judge = since(in->now_ms, from) >= s->interval_ms;
}

static int apply_event(struct sl_rollout *r, const struct sl_rollout_input *in, struct sl_rollout_decision *out)
{
	if (in->judgment != SL_OUTCOME_NONE)
		return on_judgment(r, in->judgment, in->now_ms, out);
	if (in->action != SL_ACTION_NONE)
		return on_action(r, in->action, in->now_ms, out);
	if (in->webhook != SL_WEBHOOK_NONE)
		return on_webhook(r, in->webhook, in->now_ms, out);
	return 0;
}

static void describe(const struct sl_rollout *r, struct sl_rollout_decision *out)
{
	out->state = r->state;
	out->step = r->step;
	out->share = r->share;
	out->shadow_share = r->shadow_share;
	out->judgment_index = r->judgments;
}

static bool same_state(const struct sl_rollout *a, const struct sl_rollout *b)
{
	return a->state == b->state && a->paused_from == b->paused_from && a->step == b->step && a->share == b->share &&
	       a->shadow_share == b->shadow_share && a->confirming == b->confirming && a->failures == b->failures &&
	       a->consecutive_failures == b->consecutive_failures && a->judgments == b->judgments &&
	       a->step_started_ms == b->step_started_ms && a->last_judgment_ms == b->last_judgment_ms &&
	       a->paused_at_ms == b->paused_at_ms && a->ended_ms == b->ended_ms;
}

static int refuse(const struct sl_rollout *r, const struct sl_rollout_input *in, int rc,
                  struct sl_rollout_decision *out)
{
	memset(out, 0, sizeof(*out));
	describe(r, out);
	const char *what = in->judgment != SL_OUTCOME_NONE ? sl_outcome_name(in->judgment)
	                   : in->action != SL_ACTION_NONE  ? sl_rollout_action_name(in->action)
	                                                   : sl_webhook_result_name(in->webhook);
	int events =
	    (in->judgment != SL_OUTCOME_NONE) + (in->action != SL_ACTION_NONE) + (in->webhook != SL_WEBHOOK_NONE);
	if (rc == SL_ESTATE)
		snprintf(out->reason, sizeof(out->reason), "cannot apply '%s': rollout is %s%s", what,
		         sl_rollout_state_name(r->state), r->confirming ? " (confirming a step)" : "");
	else if (events > 1)
		snprintf(out->reason, sizeof(out->reason),
		         "invalid input: one event per call (judgment, action or webhook)");
	else
		snprintf(out->reason, sizeof(out->reason), "invalid input: unknown event '%s'", what);
	return rc;
}

int sl_rollout_advance(struct sl_rollout *r, const struct sl_rollout_input *in, struct sl_rollout_decision *out)
{
	if (!r || !in || !out)
		return SL_EINVAL;
	int events =
	    (in->judgment != SL_OUTCOME_NONE) + (in->action != SL_ACTION_NONE) + (in->webhook != SL_WEBHOOK_NONE);
	if (events > 1)
		return refuse(r, in, SL_EINVAL, out);
	struct sl_rollout next = *r;
	memset(out, 0, sizeof(*out));
	memcpy(out->reason, r->reason, sizeof(out->reason));
	int rc = apply_event(&next, in, out);
	if (rc)
		return refuse(r, in, rc, out);
	if (!out->reset_window) /* step_requests describe this stage only while it lasts */
		on_clock(&next, in, out);
	out->share_changed = next.share != r->share || next.shadow_share != r->shadow_share;
	out->state_changed = !same_state(&next, r);
	*r = next;
	describe(r, out);
	return 0;
}

void sl_rollout_restore(struct sl_rollout *r, uint64_t now_ms)
{
	if (sl_rollout_terminal(r->state))
		return;
	r->step_started_ms = now_ms;
	r->last_judgment_ms = 0;
	if (r->state == SL_ROLLOUT_PAUSED)
		r->paused_at_ms = now_ms;
}

int sl_rollout_init(struct sl_rollout *r, const struct sl_rollout_spec *spec, uint64_t now_ms, char *err, size_t errlen)
{
	int rc = sl_rollout_spec_validate(spec, err, errlen);
	if (rc)
		return rc;
	memset(r, 0, sizeof(*r));
	r->spec = *spec;
	r->state = SL_ROLLOUT_PENDING;
	r->paused_from = SL_ROLLOUT_PENDING;
	r->started_ms = r->step_started_ms = now_ms;
	snprintf(r->reason, sizeof(r->reason), "%s",
	         spec->confirm_start ? "waiting for the pre-start webhook" : "waiting to start");
	return 0;
}
