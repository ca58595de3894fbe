/* rollout_watch.c: `sluice rollout watch [MODEL|ID]`: follows one rollout until it ends. One line
 * whenever its state, step, traffic split or latest judgment changes; at the end the reason and the
 * latest judgment's evidence (judgment_view.c), and an exit status that says how it ended.
 * Invariants: once found, the rollout is followed by id (GET /api/v1/rollouts?model=M, which never
 * answers 404), so a newer rollout of the same model is never taken for it; transport errors and
 * 5xx answers are retried for RETRY_NS after the first of them, then the watch gives up (exit 1);
 * exit 0 promoted, 3 rolled_back or aborted, 1 API errors, 2 usage, 4 --timeout; the bar is
 * Unicode only when stdout takes colours (a terminal, NO_COLOR unset), '#' and '.' otherwise;
 * every server string is cleaned before it reaches the terminal. */
#include <errno.h>
#include <json-c/json.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/admin_client.h"
#include "cli/rollout_view.h"

#define NS_PER_MS      1000000ull
#define RETRY_NS       (5000 * NS_PER_MS) /* how long the gateway may stay unreachable */
#define RETRY_PAUSE_MS 500u
#define BAR_CELLS      20
#define STATE_W        11 /* "rolled_back"; awaiting_approval overflows */
#define WHERE_W        10 /* "step 10/12", "mirror 10%" */
#define RECENT         5  /* a model's newest rollouts asked for: ours is among them while it runs */
#define NAME_MAX_      160
#define PATH_MAX_      1200

enum { EXIT_PROMOTED = 0, EXIT_API = 1, EXIT_USAGE = 2, EXIT_REVERTED = 3, EXIT_TIMEOUT = 4 };

static const char watch_usage[] =
    "usage: sluice rollout watch [MODEL|ID] [OPTIONS]\n"
    "\n"
    "Follow a rollout until it ends: one line whenever its state, step, traffic split or latest\n"
    "judgment changes, then the reason it ended and the latest judgment's evidence. Without an\n"
    "argument: the most recently started active rollout.\n"
    "\n"
    "  --interval 1s              time between polls (units ms, s, m, h; at least 100ms)\n"
    "  --timeout 10m              stop waiting after this long (0: wait for ever)\n"
    "  --admin URL                admin API (default $SLUICE_ADMIN, else " SL_ADMIN_DEFAULT_URL ")\n"
    "  --token-env NAME           environment variable holding the admin bearer token\n"
    "                             (default " SL_ADMIN_TOKEN_ENV " when it is set)\n"
    "  --allow-remote             allow an admin URL that is not loopback\n"
    "  --help                     this text\n"
    "\n"
    "An unreachable gateway (a restart) is retried for 5 s before the watch gives up.\n"
    "\n"
    "exit status: 0 promoted, 3 rolled back or aborted, 1 the admin API refused or could not be\n"
    "reached, 2 bad usage, 4 still running when --timeout passed\n";

/* What a line shows: from a rollout (R) or, for a rollout the gateway forgot, from the weights. */
struct snap {
	const char *state;
	double step, steps, share, shadow;
	struct json_object *j; /* the latest judgment, borrowed; may be NULL */
};

struct watch {
	struct sl_admin a;
	uint64_t interval_ms, timeout_ms;
	uint64_t t0_ns;      /* the watch began */
	uint64_t fail_ns;    /* the first failure of the current outage; 0 while the API answers */
	bool lost;           /* an outage happened since the rollout was last seen */
	bool color, unicode; /* colours; the Unicode bar */
	char id[32], model[NAME_MAX_], stable[NAME_MAX_], candidate[NAME_MAX_];
	FILE *held;                  /* what the retries printed (tmpfile); NULL: they print as usual */
	struct json_object *spec;    /* from the first answer (thresholds, step count); owned */
	struct json_object *last_j;  /* the judgment of the last line (the latest seen); owned */
	double created_at, ended_at; /* epoch seconds, NAN when unknown */
	bool printed;                /* a line has been printed: seen_* and last_j are valid */
	char seen_state[32];
	double seen_step, seen_share, seen_shadow;
};

/* ---- small parts ---- */

/* *slot takes a reference to o (NULL leaves it as it is). */
static void keep(struct json_object **slot, struct json_object *o)
{
	if (!o || o == *slot)
		return;
	json_object_put(*slot);
	*slot = json_object_get(o);
}

static void pause_ms(uint64_t ms)
{
	struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static double seconds_since(uint64_t ns)
{
	return (double)(sl_now_ns() - ns) / 1e9;
}

/* "12.3s", "4m05s", "2h03m": since the rollout started (the gateway's clock), else since the watch began. */
static const char *elapsed_text(char *dst, size_t cap, const struct watch *w)
{
	double t = (isnan(w->ended_at) ? sl_wall_time() : w->ended_at) - w->created_at;
	if (!(t >= 0 && t < 86400 * 30))
		t = seconds_since(w->t0_ns);
	if (t < 100)
		snprintf(dst, cap, "%.1fs", t);
	else if (t < 3600)
		snprintf(dst, cap, "%dm%02ds", (int)(t / 60), (int)fmod(t, 60));
	else
		snprintf(dst, cap, "%dh%02dm", (int)(t / 3600), (int)fmod(t / 60, 60));
	return dst;
}

/* 0.1 -> "10%", 0.125 -> "12.5%". */
static const char *pct_text(char *dst, size_t cap, double fraction)
{
	double p = fraction * 100;
	if (!isfinite(p))
		snprintf(dst, cap, "-");
	else if (fabs(p - round(p)) < 0.05)
		snprintf(dst, cap, "%.0f%%", p);
	else
		snprintf(dst, cap, "%.1f%%", p);
	return dst;
}

/* Stable cells full, candidate cells light; a share above 0 (or below 1) gets at least one cell. */
static const char *bar_text(char *dst, size_t cap, double share, bool unicode)
{
	int cand = (int)lround(share * BAR_CELLS);
	size_t len = 0;
	if (share > 0 && cand == 0)
		cand = 1;
	if (share < 1 && cand == BAR_CELLS)
		cand = BAR_CELLS - 1;
	for (int i = 0; i < BAR_CELLS; i++) {
		const char *cell = i < BAR_CELLS - cand ? (unicode ? "█" : "#") : (unicode ? "░" : ".");
		size_t n = strlen(cell);
		if (len + n >= cap)
			break;
		memcpy(dst + len, cell, n);
		len += n;
	}
	dst[len] = '\0';
	return dst;
}

static double look_of(struct json_object *j)
{
	double look = sl_cli_jnum(j, "look");
	return isnan(look) ? sl_cli_jnum(j, "index") + 1 : look;
}

/* A judgment not shown yet. Compared whole: an insufficient_data judgment does not use up its
 * look, so the next one has the same number. */
static bool is_new(const struct watch *w, struct json_object *j)
{
	return j && !(w->last_j && json_object_equal(w->last_j, j));
}

/* Counted judgments between the last one shown and j: looks count only those. */
static double unseen(const struct watch *w, struct json_object *j)
{
	const char *o = sl_cli_jstr(w->last_j, "outcome");
	if (!w->last_j)
		return 0;
	return look_of(j) - look_of(w->last_j) - (o && strcmp(o, "insufficient_data") != 0);
}


static void put_padded(bool color, enum sl_tcolor c, const char *s, size_t width)
{
	char clean[128];
	sl_cli_clean(clean, sizeof(clean), s);
	sl_cli_put(stdout, color, c, clean);
	for (size_t n = sl_cli_width(clean); n < width; n++)
		fputc(' ', stdout);
}

/* ---- one line ---- */

static const char *where_text(char *dst, size_t cap, const struct snap *s)
{
	char pct[16];
	const char *st = s->state;
	bool stepped = strcmp(st, "canary") == 0 || strcmp(st, "awaiting_approval") == 0 || strcmp(st, "paused") == 0;
	if (stepped && !isnan(s->step) && s->steps > 0)
		snprintf(dst, cap, "step %.0f/%.0f", s->step + 1, s->steps);
	else if (stepped && !isnan(s->step))
		snprintf(dst, cap, "step %.0f", s->step + 1);
	else if (strcmp(st, "shadow") == 0)
		snprintf(dst, cap, "mirror %s", pct_text(pct, sizeof(pct), s->shadow));
	else
		dst[0] = '\0';
	return dst;
}

/* "judgment 3: pass (score 100)", "judgment 4: fail (score 42.9; failed: latency, ttft)". */
static void put_judgment(const struct watch *w, struct json_object *j, double skipped)
{
	char score[32], failed[256];
	const char *outcome = sl_cli_jstr(j, "outcome");
	sl_view_failed_checks(failed, sizeof(failed), j);
	sl_fmt_num(score, sizeof(score), sl_cli_jnum(j, "score"));
	printf("   judgment %.0f: ", look_of(j));
	sl_cli_put(stdout, w->color, sl_view_verdict_color(outcome), outcome ? outcome : "?");
	if (strcmp(score, "-") != 0 || failed[0])
		printf(" (score %s%s", score, failed[0] ? "; failed: " : "");
	if (failed[0])
		sl_cli_put(stdout, false, SL_TC_NONE, failed);
	if (strcmp(score, "-") != 0 || failed[0])
		fputc(')', stdout);
	if (skipped >= 1)
		printf(", %.0f earlier not shown", skipped);
}

/* Under the line that enters a state waiting for an operator: what to type. */
static void print_hint(const struct watch *w, const char *state)
{
	if (strcmp(state, "awaiting_approval") == 0)
		printf("%10swaiting for approval: sluice rollout approve %s (or rollback %s)\n", "", w->id, w->id);
	else if (strcmp(state, "paused") == 0)
		printf("%10spaused: sluice rollout resume %s\n", "", w->id);
}

/* "  12.3s  canary       step 2/4    v1 ################....  80%  v2 20%    judgment 3: pass (score 100)" */
static void print_line(struct watch *w, const struct snap *s)
{
	char el[16], where[32], bar[BAR_CELLS * 3 + 1], sp[16], cp[16];
	bool fresh = is_new(w, s->j);
	printf("%8s  ", elapsed_text(el, sizeof(el), w));
	put_padded(w->color, sl_view_state_color(s->state), s->state, STATE_W);
	printf("  %-*s  ", WHERE_W, where_text(where, sizeof(where), s));
	sl_cli_put(stdout, false, SL_TC_NONE, w->stable);
	printf(" %s %4s  ", bar_text(bar, sizeof(bar), s->share, w->unicode), pct_text(sp, sizeof(sp), 1 - s->share));
	sl_cli_put(stdout, false, SL_TC_NONE, w->candidate);
	printf(" %s", pct_text(cp, sizeof(cp), s->share));
	if (fresh) {
		printf("%*s", 4 - (int)strlen(cp), ""); /* the percentages are ASCII */
		put_judgment(w, s->j, unseen(w, s->j));
	}
	fputc('\n', stdout);
	if (!w->printed || strcmp(w->seen_state, s->state) != 0)
		print_hint(w, s->state);
	fflush(stdout);
	snprintf(w->seen_state, sizeof(w->seen_state), "%s", s->state);
	w->seen_step = s->step;
	w->seen_share = s->share;
	w->seen_shadow = s->shadow;
	keep(&w->last_j, s->j);
	w->printed = true;
}

static bool same(double a, double b)
{
	return (isnan(a) && isnan(b)) || fabs(a - b) < 1e-9;
}

static bool changed(const struct watch *w, const struct snap *s)
{
	return !w->printed || strcmp(w->seen_state, s->state) != 0 || !same(w->seen_step, s->step) ||
	       !same(w->seen_share, s->share) || !same(w->seen_shadow, s->shadow) || is_new(w, s->j);
}

/* The rollout's fields as a line sees them; NULL state when it has none. */
static struct snap snap_of(const struct watch *w, struct json_object *r)
{
	struct json_object *steps = sl_cli_jget(w->spec, "steps");
	struct snap s = {sl_cli_jstr(r, "state"), sl_cli_jnum(r, "step"),         sl_cli_jnum(r, "steps"),
	                 sl_cli_jnum(r, "share"), sl_cli_jnum(r, "shadow_share"), sl_cli_jget(r, "last_judgment")};
	if (isnan(s.steps) && steps && json_object_is_type(steps, json_type_array))
		s.steps = (double)json_object_array_length(steps);
	if (isnan(s.share))
		s.share = 0;
	return s;
}

/* ---- the end ---- */

static void put_rollout(const struct watch *w)
{
	printf("rollout %s (", w->id);
	sl_cli_put(stdout, false, SL_TC_NONE, w->model);
	fputs(": ", stdout);
	sl_cli_put(stdout, false, SL_TC_NONE, w->stable);
	fputs(" → ", stdout);
	sl_cli_put(stdout, false, SL_TC_NONE, w->candidate);
	fputc(')', stdout);
}

static void print_evidence(const struct watch *w, struct json_object *j, const char *label, const char *none)
{
	if (!j) {
		printf("\n%s\n", none);
		return;
	}
	printf("\n%s", label);
	if (sl_view_judgment(j, w->spec, "", w->color))
		sl_admin_err(&w->a, "cannot show the judgment: %s", sl_strerror(SL_ENOMEM));
}

/* The rollout reached promoted, rolled_back or aborted. */
static int finish(struct watch *w, struct json_object *r, const struct snap *s)
{
	w->ended_at = sl_view_epoch(r, "ended_at");
	print_line(w, s);
	if (sl_view_rollout_brief(r, "ended", w->color) == 0)
		print_evidence(w, w->last_j, "latest ", "no judgment was made");
	fflush(stdout);
	return strcmp(s->state, "promoted") == 0 ? EXIT_PROMOTED : EXIT_REVERTED;
}

/* ---- calling the API ---- */

static bool transient(int rc, const struct sl_admin_reply *r)
{
	return rc == SL_EIO || rc == SL_ETIMEOUT || (rc == SL_EUPSTREAM && r->status >= 500);
}

static void recovered(struct watch *w)
{
	char el[16];
	if (!w->fail_ns)
		return;
	printf("%8s  the admin API answers again, after %.1fs\n", elapsed_text(el, sizeof(el), w),
	       seconds_since(w->fail_ns));
	fflush(stdout);
	w->fail_ns = 0;
}

/* sl_admin_call with what it prints on stderr held in w->held instead, so that the retries of
 * one outage do not repeat the same message: the first failure is shown as it happens, the
 * last one only if the watch gives up. A stopgap until admin_client can keep a message back. */
static int call_held(struct watch *w, const char *path, struct sl_admin_reply *r)
{
	int saved = -1, rc;
	fflush(stderr);
	if (w->held && ftruncate(fileno(w->held), 0) == 0) {
		rewind(w->held);
		saved = dup(STDERR_FILENO);
	}
	if (saved >= 0 && dup2(fileno(w->held), STDERR_FILENO) < 0) {
		close(saved);
		saved = -1;
	}
	rc = sl_admin_call(&w->a, "GET", path, NULL, r);
	fflush(stderr);
	if (saved >= 0) {
		dup2(saved, STDERR_FILENO);
		close(saved);
	}
	return rc;
}

static void replay_held(struct watch *w)
{
	char buf[1024];
	size_t n;
	if (!w->held)
		return;
	rewind(w->held);
	while ((n = fread(buf, 1, sizeof(buf), w->held)) > 0)
		fwrite(buf, 1, n, stderr);
}

/* GET path into r, which the caller releases. Transport errors and 5xx answers (the gateway
 * restarting) are retried until RETRY_NS after the first of them. 0 or the last error, printed. */
static int get(struct watch *w, const char *path, struct sl_admin_reply *r)
{
	for (;;) {
		uint64_t start = sl_now_ns();
		sl_admin_reply_init(r);
		int rc = w->fail_ns ? call_held(w, path, r) : sl_admin_call(&w->a, "GET", path, NULL, r);
		if (rc == 0)
			recovered(w);
		if (rc == 0 || !transient(rc, r)) {
			if (rc && w->fail_ns)
				replay_held(w);
			return rc;
		}
		if (!w->fail_ns) {
			w->fail_ns = start;
			sl_admin_err(&w->a, "watch: retrying for up to %llu s",
			             (unsigned long long)(RETRY_NS / 1000000000));
		}
		w->lost = true;
		uint64_t now = sl_now_ns(), end = w->fail_ns + RETRY_NS;
		if (now >= end) {
			replay_held(w);
			sl_admin_err(&w->a, "watch: the admin API did not come back within %llu s; giving up",
			             (unsigned long long)(RETRY_NS / 1000000000));
			return rc;
		}
		sl_admin_reply_release(r);
		uint64_t left_ms = (end - now) / NS_PER_MS + 1;
		pause_ms(left_ms < RETRY_PAUSE_MS ? left_ms : RETRY_PAUSE_MS);
	}
}

static int escaped_path(struct watch *w, char *dst, size_t cap, const char *fmt, const char *arg)
{
	char esc[NAME_MAX_ * 3];
	if (sl_admin_escape(arg, esc, sizeof(esc))) {
		sl_admin_err(&w->a, "'%.40s...': too long for a model name or rollout id", arg);
		return -1;
	}
	snprintf(dst, cap, fmt, esc);
	return 0;
}

/* ---- finding the rollout ---- */

/* No argument: the active rollout started last, from GET /api/v1/status; its id into w->id. */
static int pick_active(struct watch *w)
{
	struct sl_admin_reply rep;
	struct json_object *best = NULL;
	int rc = get(w, "/api/v1/status", &rep);
	struct json_object *models = rc ? NULL : sl_cli_jget(rep.doc, "models");
	size_t n = models && json_object_is_type(models, json_type_array) ? json_object_array_length(models) : 0;
	for (size_t i = 0; i < n; i++) {
		struct json_object *r = sl_cli_jget(json_object_array_get_idx(models, i), "rollout");
		double t = sl_view_epoch(r, "created_at"), bt = sl_view_epoch(best, "created_at");
		if (r && sl_cli_jstr(r, "state") && !sl_view_terminal(sl_cli_jstr(r, "state")) &&
		    (!best || t > bt || (t == bt && sl_cli_jnum(r, "id") > sl_cli_jnum(best, "id"))))
			best = r;
	}
	if (best)
		sl_view_id(w->id, sizeof(w->id), best);
	else if (!rc && !models)
		sl_admin_err(&w->a, "the status answer has no models (try sluice status --json)");
	else if (!rc)
		sl_admin_err(&w->a,
		             "no active rollout to watch: start one, or name one (sluice rollout watch MODEL|ID)");
	sl_admin_reply_release(&rep);
	return rc ? rc : best ? 0 : SL_ENOTFOUND;
}

/* The first answer: names, spec and start time, kept for the whole watch. */
static int adopt(struct watch *w, struct json_object *r)
{
	const char *model = sl_cli_jstr(r, "model");
	if (!model || !sl_cli_jstr(r, "state")) {
		sl_admin_err(&w->a, "the answer does not have the expected shape (try sluice rollout status --json)");
		return SL_EPARSE;
	}
	sl_view_id(w->id, sizeof(w->id), r);
	snprintf(w->model, sizeof(w->model), "%s", model);
	snprintf(w->stable, sizeof(w->stable), "%s", sl_cli_jstr(r, "stable") ? sl_cli_jstr(r, "stable") : "?");
	snprintf(w->candidate, sizeof(w->candidate), "%s",
	         sl_cli_jstr(r, "candidate") ? sl_cli_jstr(r, "candidate") : "?");
	keep(&w->spec, sl_cli_jget(r, "spec"));
	w->created_at = sl_view_epoch(r, "created_at");
	return 0;
}

/* ---- following it ---- */

/* Prints a line when something changed; the exit status once the rollout has ended, else -1. */
static int observe(struct watch *w, struct json_object *r)
{
	struct snap s = snap_of(w, r);
	if (!s.state) {
		sl_admin_err(&w->a, "rollout %s: the answer has no state (try sluice rollout status --json)", w->id);
		return EXIT_API;
	}
	w->lost = false;
	if (sl_view_terminal(s.state))
		return finish(w, r, &s);
	if (changed(w, &s))
		print_line(w, &s);
	return -1;
}

/* The candidate's share of the model's weight now, from GET /api/v1/status: 0 or the error. */
static int weights_share(struct watch *w, double *share)
{
	struct sl_admin_reply rep;
	double total = 0, cand = 0;
	int rc = get(w, "/api/v1/status", &rep);
	struct json_object *models = rc ? NULL : sl_cli_jget(rep.doc, "models"), *vs = NULL;
	size_t n = models && json_object_is_type(models, json_type_array) ? json_object_array_length(models) : 0;
	for (size_t i = 0; i < n && !vs; i++) {
		struct json_object *m = json_object_array_get_idx(models, i);
		const char *name = sl_cli_jstr(m, "name");
		if (name && strcmp(name, w->model) == 0)
			vs = sl_cli_jget(m, "versions");
	}
	size_t nv = vs && json_object_is_type(vs, json_type_array) ? json_object_array_length(vs) : 0;
	for (size_t k = 0; k < nv; k++) {
		struct json_object *v = json_object_array_get_idx(vs, k);
		const char *name = sl_cli_jstr(v, "name");
		double wt = sl_cli_jnum(v, "weight");
		total += wt > 0 ? wt : 0;
		cand += wt > 0 && name && strcmp(name, w->candidate) == 0 ? wt : 0;
	}
	sl_admin_reply_release(&rep);
	*share = total > 0 ? cand / total : NAN;
	return rc;
}

/* The rollout left the list without a trace: the gateway keeps no history (store: off) and
 * frees a rollout as it ends, or it restarted and forgot it. The weights tell how it ended. */
static int vanished(struct watch *w)
{
	double share;
	if (w->lost) {
		sl_admin_err(&w->a,
		             "rollout %s is gone: the admin API was unreachable meanwhile, so the gateway probably "
		             "restarted and, keeping no history (store: off), forgot it",
		             w->id);
		return EXIT_API;
	}
	if (weights_share(w, &share))
		return EXIT_API;
	if (share != 0 && share != 1) {
		sl_admin_err(&w->a,
		             "rollout %s is gone, and the gateway keeps no history (store: off) to tell how it ended",
		             w->id);
		return EXIT_API;
	}
	struct snap s = {"ended", NAN, NAN, share, 0, NULL};
	print_line(w, &s);
	put_rollout(w);
	printf(" ended, %s: all of ", share == 1 ? "promoted" : "rolled back or aborted");
	sl_cli_put(stdout, false, SL_TC_NONE, w->model);
	fputs("'s traffic goes to ", stdout);
	sl_cli_put(stdout, false, SL_TC_NONE, share == 1 ? w->candidate : w->stable);
	printf(" now (the gateway keeps no history with store: off: the final judgment and reason are lost)\n");
	print_evidence(w, w->last_j, "last seen ", "no judgment was seen");
	fflush(stdout);
	return share == 1 ? EXIT_PROMOTED : EXIT_REVERTED;
}

/* One poll: the exit status once the rollout has ended, else -1. */
static int poll_once(struct watch *w)
{
	struct sl_admin_reply rep;
	char path[PATH_MAX_], fmt[64];
	struct json_object *found = NULL;
	snprintf(fmt, sizeof(fmt), "/api/v1/rollouts?model=%%s&limit=%d", RECENT);
	if (escaped_path(w, path, sizeof(path), fmt, w->model))
		return EXIT_API;
	int rc = get(w, path, &rep);
	struct json_object *list = rc ? NULL : sl_cli_jget(rep.doc, "rollouts");
	size_t n = list && json_object_is_type(list, json_type_array) ? json_object_array_length(list) : 0;
	for (size_t i = 0; i < n && !found; i++) {
		char id[32];
		struct json_object *r = json_object_array_get_idx(list, i);
		if (strcmp(sl_view_id(id, sizeof(id), r), w->id) == 0)
			found = r;
	}
	int status = rc ? EXIT_API : found ? observe(w, found) : list ? vanished(w) : EXIT_API;
	if (!rc && !list)
		sl_admin_err(&w->a, "the answer has no rollouts list (try sluice rollout status --json)");
	sl_admin_reply_release(&rep);
	return status;
}

/* The first look, by the user's MODEL|ID or the id picked: GET /api/v1/rollouts/{ref}. */
static int first_look(struct watch *w, const char *ref)
{
	struct sl_admin_reply rep;
	char path[PATH_MAX_];
	if (escaped_path(w, path, sizeof(path), "/api/v1/rollouts/%s", ref))
		return EXIT_USAGE;
	int rc = get(w, path, &rep);
	int status = rc ? EXIT_API : adopt(w, rep.doc) ? EXIT_API : observe(w, rep.doc);
	sl_admin_reply_release(&rep);
	return status;
}

static int follow(struct watch *w, const char *ref)
{
	uint64_t deadline = w->timeout_ms ? w->t0_ns + w->timeout_ms * NS_PER_MS : UINT64_MAX;
	int status = first_look(w, ref);
	while (status < 0) {
		uint64_t now = sl_now_ns(), next = now + w->interval_ms * NS_PER_MS;
		if (now >= deadline) {
			sl_admin_err(&w->a, "rollout %s is still %s after --timeout", w->id, w->seen_state);
			return EXIT_TIMEOUT;
		}
		pause_ms(((next < deadline ? next : deadline) - now) / NS_PER_MS);
		status = poll_once(w);
	}
	return status;
}

static int watch_opts(struct watch *w, const char *interval, const char *timeout)
{
	if (sl_cli_parse_duration(interval ? interval : "1s", false, &w->interval_ms) || w->interval_ms < 100) {
		sl_admin_err(&w->a, "--interval '%s': expected a duration such as 500ms, 1s or 2m (at least 100ms)",
		             interval);
		return -1;
	}
	if (sl_cli_parse_duration(timeout ? timeout : "10m", true, &w->timeout_ms)) {
		sl_admin_err(&w->a, "--timeout '%s': expected a duration such as 30s, 10m or 1h, or 0 for none",
		             timeout);
		return -1;
	}
	if (w->a.json) {
		sl_admin_err(&w->a, "watch prints lines for people; for JSON poll sluice rollout status ID --json");
		return -1;
	}
	return 0;
}

int sl_rollout_watch(int argc, char **argv)
{
	struct watch w = {0};
	const char *interval = NULL, *timeout = NULL;
	const struct sl_cli_opt opts[] = {{"--interval", SL_OPT_VALUE, &interval},
	                                  {"--timeout", SL_OPT_VALUE, &timeout}};
	char *pos[1];
	int npos = sl_admin_parse(&w.a, "rollout", opts, 2, argc, argv, pos, 1);
	if (npos >= 0 && w.a.help) {
		fputs(watch_usage, stdout);
		return 0;
	}
	if (npos < 0 || watch_opts(&w, interval, timeout))
		return EXIT_USAGE;
	if (sl_admin_open(&w.a)) {
		sl_admin_close(&w.a);
		return EXIT_USAGE;
	}
	w.t0_ns = sl_now_ns();
	w.created_at = w.ended_at = NAN;
	w.color = w.unicode = sl_cli_color(stdout);
	w.held = tmpfile();
	int status = npos == 0 && pick_active(&w) ? EXIT_API : follow(&w, npos ? pos[0] : w.id);
	json_object_put(w.spec);
	json_object_put(w.last_j);
	if (w.held)
		fclose(w.held);
	sl_admin_close(&w.a);
	return status;
}
