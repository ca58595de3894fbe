/* rollout_view.c: rollouts for people: the list (`sluice rollout status`), one rollout with its
 * plan, counters, latest evidence and events (`sluice rollout status ID`), and the one-line
 * summary after start or an action.
 * Invariants: reads the admin API's field names only (R, J and events of the API contract in
 * docs/CLI.md); absent fields print "-"; steps count from 1 on screen (the API's "step" is an
 * index from 0); every server string is cleaned before it is printed. */
#include <json-c/json.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/admin_client.h"
#include "cli/rollout_view.h"

#define EVENTS_SHOWN  10
#define HISTORY_SHOWN 8

bool sl_view_terminal(const char *s)
{
	return s && (strcmp(s, "promoted") == 0 || strcmp(s, "rolled_back") == 0 || strcmp(s, "aborted") == 0);
}

enum sl_tcolor sl_view_state_color(const char *s)
{
	if (!s)
		return SL_TC_NONE;
	if (strcmp(s, "promoted") == 0)
		return SL_TC_GREEN;
	if (strcmp(s, "rolled_back") == 0 || strcmp(s, "aborted") == 0)
		return SL_TC_RED;
	return strcmp(s, "awaiting_approval") == 0 || strcmp(s, "paused") == 0 ? SL_TC_YELLOW : SL_TC_NONE;
}

double sl_view_epoch(struct json_object *o, const char *key)
{
	double v = sl_cli_jnum(o, key);
	return v > 1e11 ? v / 1000 : v; /* milliseconds since the epoch */
}

const char *sl_view_id(char *dst, size_t cap, struct json_object *r)
{
	struct json_object *id = sl_cli_jget(r, "id");
	if (id && json_object_is_type(id, json_type_int))
		snprintf(dst, cap, "%lld", (long long)json_object_get_int64(id));
	else
		snprintf(dst, cap, "%s",
		         id && json_object_is_type(id, json_type_string) ? json_object_get_string(id) : "?");
	return dst;
}

static size_t nsteps(struct json_object *spec)
{
	struct json_object *steps = sl_cli_jget(spec, "steps");
	return steps && json_object_is_type(steps, json_type_array) ? json_object_array_length(steps) : 0;
}

static void step_text(char *dst, size_t cap, struct json_object *r, struct json_object *spec)
{
	double step = sl_cli_jnum(r, "step");
	size_t n = nsteps(spec);
	if (isnan(step))
		snprintf(dst, cap, "?");
	else if (n)
		snprintf(dst, cap, "%.0f/%zu", step + 1, n);
	else
		snprintf(dst, cap, "%.0f", step + 1);
}

const char *sl_view_rollout_where(char *dst, size_t cap, struct json_object *r, struct json_object *spec)
{
	char step[32], share[32], shadow[32];
	const char *s = sl_cli_jstr(r, "state");
	step_text(step, sizeof(step), r, spec);
	sl_fmt_pct(share, sizeof(share), sl_cli_jnum(r, "share"));
	sl_fmt_pct(shadow, sizeof(shadow), sl_cli_jnum(r, "shadow_share"));
	if (!s || sl_view_terminal(s) || strcmp(s, "pending") == 0)
		snprintf(dst, cap, "%s", "");
	else if (strcmp(s, "shadow") == 0)
		snprintf(dst, cap, ", mirroring %s of requests to the candidate", shadow);
	else if (strcmp(s, "awaiting_approval") == 0)
		snprintf(dst, cap, " of step %s, candidate %s", step, share);
	else if (strcmp(s, "paused") == 0)
		snprintf(dst, cap, ", candidate %s", share);
	else
		snprintf(dst, cap, ", step %s, candidate %s", step, share);
	return dst;
}

static void pair_text(char *dst, size_t cap, struct json_object *r)
{
	const char *s = sl_cli_jstr(r, "stable"), *c = sl_cli_jstr(r, "candidate");
	snprintf(dst, cap, "%s → %s", s ? s : "?", c ? c : "?");
}

/* The latest judgment: judgments[0] of a detailed answer, else last_judgment. */
static struct json_object *latest_judgment(struct json_object *r)
{
	struct json_object *js = sl_cli_jget(r, "judgments");
	if (js && json_object_is_type(js, json_type_array) && json_object_array_length(js) > 0)
		return json_object_array_get_idx(js, 0);
	return sl_cli_jget(r, "last_judgment");
}

static void failures_text(char *dst, size_t cap, struct json_object *r)
{
	double f = sl_cli_jnum(r, "failures"), c = sl_cli_jnum(r, "consecutive_failures");
	if (isnan(f))
		snprintf(dst, cap, "-");
	else if (c > 0)
		snprintf(dst, cap, "%.0f (%.0f in a row)", f, c);
	else
		snprintf(dst, cap, "%.0f", f);
}

/* ---- the list ---- */

static const char *const list_head[] = {"ID",    "MODEL",    "STABLE → CANDIDATE", "STATE",  "STEP",
                                        "SHARE", "FAILURES", "LAST OUTCOME",       "UPDATED"};

static void list_row(struct sl_table *t, struct json_object *r, double now)
{
	char id[32], pair[160], step[32], share[32], fails[48], verdict[320], ago[32];
	const char *state = sl_cli_jstr(r, "state");
	bool stepped = state && (strcmp(state, "canary") == 0 || strcmp(state, "awaiting_approval") == 0 ||
	                         strcmp(state, "paused") == 0);
	struct json_object *j = latest_judgment(r);
	step_text(step, sizeof(step), r, NULL);
	pair_text(pair, sizeof(pair), r);
	failures_text(fails, sizeof(fails), r);
	sl_table_add(t, SL_TC_NONE, sl_view_id(id, sizeof(id), r));
	sl_table_add(t, SL_TC_NONE, sl_cli_jstr(r, "model"));
	sl_table_add(t, SL_TC_NONE, pair);
	sl_table_add(t, sl_view_state_color(state), state);
	sl_table_add(t, SL_TC_NONE, stepped ? step : NULL);
	sl_table_add(t, SL_TC_NONE, sl_fmt_pct(share, sizeof(share), sl_cli_jnum(r, "share")));
	sl_table_add(t, SL_TC_NONE, fails);
	sl_table_add(t, sl_view_verdict_color(sl_cli_jstr(j, "outcome")),
	             sl_view_verdict_line(verdict, sizeof(verdict), j));
	sl_table_add(t, SL_TC_NONE, sl_fmt_ago(ago, sizeof(ago), sl_view_epoch(r, "updated_at"), now));
}

int sl_view_rollout_list(struct json_object *doc, bool color)
{
	struct sl_table t;
	struct json_object *list = sl_cli_jget(doc, "rollouts");
	if (!list || !json_object_is_type(list, json_type_array))
		return SL_EPARSE;
	size_t n = json_object_array_length(list);
	if (n == 0) {
		printf("no rollouts\n");
		return 0;
	}
	sl_table_init(&t, list_head, sizeof(list_head) / sizeof(list_head[0]));
	sl_table_align_right(&t, 0);
	sl_table_align_right(&t, 5);
	for (size_t i = 0; i < n; i++)
		list_row(&t, json_object_array_get_idx(list, i), sl_wall_time());
	int rc = sl_table_print(&t, stdout, "", color);
	sl_table_release(&t);
	return rc;
}

/* ---- one rollout ---- */

static void field(const char *label, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void field(const char *label, const char *fmt, ...)
{
	char buf[2048], clean[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	sl_cli_clean(clean, sizeof(clean), buf);
	printf("  %-10s%s\n", label, clean);
}

static void print_title(struct json_object *r, bool color)
{
	char id[32], pair[160], where[160];
	const char *state = sl_cli_jstr(r, "state");
	const char *model = sl_cli_jstr(r, "model");
	pair_text(pair, sizeof(pair), r);
	printf("rollout %s: ", sl_view_id(id, sizeof(id), r));
	sl_cli_put(stdout, false, SL_TC_NONE, model ? model : "?");
	fputc(' ', stdout);
	sl_cli_put(stdout, false, SL_TC_NONE, pair);
	printf("\n  %-10s", "state");
	sl_cli_put(stdout, color, sl_view_state_color(state), state ? state : "?");
	sl_cli_put(stdout, false, SL_TC_NONE, sl_view_rollout_where(where, sizeof(where), r, sl_cli_jget(r, "spec")));
	fputc('\n', stdout);
}

/* "1% → [5%] → 25% → 50% (approval) → 100%", the current step in brackets. */
static void plan_steps(struct sl_buf *b, struct json_object *r, struct json_object *steps)
{
	const char *state = sl_cli_jstr(r, "state");
	bool stepped =
	    state && !sl_view_terminal(state) && strcmp(state, "pending") != 0 && strcmp(state, "shadow") != 0;
	double cur = sl_cli_jnum(r, "step");
	for (size_t i = 0; i < json_object_array_length(steps); i++) {
		struct json_object *s = json_object_array_get_idx(steps, i);
		double pct =
		    json_object_is_type(s, json_type_object) ? sl_cli_jnum(s, "percent") : json_object_get_double(s);
		bool here = stepped && cur == (double)i;
		sl_buf_printf(b, "%s%s%g%%%s%s", i ? " → " : "", here ? "[" : "", pct, here ? "]" : "",
		              sl_cli_jbool(s, "require_approval") ? " (approval)" : "");
	}
}

static void print_plan(struct json_object *r, struct json_object *spec)
{
	char every[32], shadow[32];
	struct sl_buf b;
	struct json_object *steps = sl_cli_jget(spec, "steps");
	if (!steps || !json_object_is_type(steps, json_type_array))
		return;
	sl_buf_init(&b, 4096);
	plan_steps(&b, r, steps);
	double sh = sl_cli_jnum(spec, "shadow_share");
	if (sh > 0)
		sl_buf_printf(&b, ", after a shadow stage of %s", sl_fmt_pct(shadow, sizeof(shadow), sh));
	field("plan", "%s", b.data ? b.data : "-");
	field("judged", "every %s after %.0f candidate requests; rolls back at %.0f failures (%.0f in a row)",
	      sl_fmt_ms(every, sizeof(every), sl_cli_jnum(spec, "interval_ms")), sl_cli_jnum(spec, "min_requests"),
	      sl_cli_jnum(spec, "max_failures"), sl_cli_jnum(spec, "max_consecutive_failures"));
	sl_buf_release(&b);
}

static void print_counters(struct json_object *r)
{
	char fails[48], t1[32], a1[32], a2[32], t3[32];
	double n = sl_cli_jnum(r, "judgment_count");
	double now = sl_wall_time(), ended = sl_view_epoch(r, "ended_at");
	failures_text(fails, sizeof(fails), r);
	if (!isnan(n))
		field("failures", "%s of %.0f judgments", fails, n);
	else
		field("failures", "%s", fails);
	field("started", "%s (%s), updated %s", sl_fmt_time(t1, sizeof(t1), sl_view_epoch(r, "created_at")),
	      sl_fmt_ago(a1, sizeof(a1), sl_view_epoch(r, "created_at"), now),
	      sl_fmt_ago(a2, sizeof(a2), sl_view_epoch(r, "updated_at"), now));
	if (!isnan(ended))
		field("ended", "%s", sl_fmt_time(t3, sizeof(t3), ended));
}

static void print_hint(struct json_object *r)
{
	char id[32];
	const char *s = sl_cli_jstr(r, "state");
	sl_view_id(id, sizeof(id), r);
	if (s && strcmp(s, "awaiting_approval") == 0)
		field("next", "sluice rollout approve %s (or rollback %s)", id, id);
	else if (s && strcmp(s, "paused") == 0)
		field("next", "sluice rollout resume %s", id);
}

/* "earlier judgments: #3 pass 100 · #2 insufficient_data", from judgments[1..]. */
static void print_history(struct json_object *r)
{
	char score[32];
	struct sl_buf b;
	struct json_object *js = sl_cli_jget(r, "judgments");
	size_t n = js && json_object_is_type(js, json_type_array) ? json_object_array_length(js) : 0;
	if (n < 2)
		return;
	sl_buf_init(&b, 4096);
	for (size_t i = 1; i < n && i <= HISTORY_SHOWN; i++) {
		struct json_object *j = json_object_array_get_idx(js, i);
		const char *o = sl_cli_jstr(j, "outcome");
		sl_fmt_num(score, sizeof(score), sl_cli_jnum(j, "score"));
		double look = sl_cli_jnum(j, "look");
		sl_buf_printf(&b, "%s#%.0f %s%s%s", i > 1 ? " · " : "",
		              isnan(look) ? sl_cli_jnum(j, "index") + 1 : look, o ? o : "?",
		              strcmp(score, "-") ? " " : "", strcmp(score, "-") ? score : "");
	}
	if (n - 1 > HISTORY_SHOWN)
		sl_buf_printf(&b, " · %zu more", n - 1 - HISTORY_SHOWN);
	char clean[4096];
	sl_cli_clean(clean, sizeof(clean), b.data);
	printf("earlier judgments: %s\n", clean);
	sl_buf_release(&b);
}

/* ---- events ---- */

static int by_ts(const void *pa, const void *pb)
{
	struct json_object *a = *(struct json_object *const *)pa, *b = *(struct json_object *const *)pb;
	double x = sl_view_epoch(a, "ts"), y = sl_view_epoch(b, "ts");
	return isnan(x) || isnan(y) ? 0 : (x > y) - (x < y);
}

/* {"from":0,"to":1} -> "from=0 to=1"; strings unquoted, everything else as compact JSON. */
static void detail_text(struct sl_buf *b, struct json_object *d)
{
	int plain = JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE;
	if (!d || !json_object_is_type(d, json_type_object)) {
		sl_buf_puts(b, d && json_object_is_type(d, json_type_string) ? json_object_get_string(d)
		               : d                                           ? json_object_to_json_string_ext(d, plain)
		                                                             : "");
		return;
	}
	json_object_object_foreach(d, key, v)
	{
		bool str = v && json_object_is_type(v, json_type_string);
		sl_buf_printf(b, "%s%s=%s", b->len ? " " : "", key,
		              str ? json_object_get_string(v)
		              : v ? json_object_to_json_string_ext(v, plain)
		                  : "null");
	}
}

static void event_row(struct sl_table *t, struct json_object *e, double now)
{
	char when[32];
	struct sl_buf b;
	double ts = sl_view_epoch(e, "ts");
	sl_fmt_time(when, sizeof(when), ts);
	sl_buf_init(&b, 1000);
	detail_text(&b, sl_cli_jget(e, "detail"));
	/* within a day the date says nothing: keep the time */
	sl_table_add(t, SL_TC_NONE, now - ts < 86400 && strlen(when) > 11 ? when + 11 : when);
	sl_table_add(t, SL_TC_NONE, sl_cli_jstr(e, "kind"));
	sl_table_add(t, SL_TC_NONE, b.data ? b.data : "");
	sl_buf_release(&b);
}

static int print_events(struct json_object *r, bool color)
{
	static const char *const head[] = {"TIME", "EVENT", "DETAIL"};
	struct json_object *ev = sl_cli_jget(r, "events");
	size_t n = ev && json_object_is_type(ev, json_type_array) ? json_object_array_length(ev) : 0;
	if (n == 0)
		return 0;
	struct json_object **v = calloc(n, sizeof(*v));
	if (!v)
		return SL_ENOMEM;
	for (size_t i = 0; i < n; i++)
		v[i] = json_object_array_get_idx(ev, i);
	qsort(v, n, sizeof(*v), by_ts);
	struct sl_table t;
	sl_table_init(&t, head, 3);
	for (size_t i = n > EVENTS_SHOWN ? n - EVENTS_SHOWN : 0; i < n; i++)
		event_row(&t, v[i], sl_wall_time());
	if (n > EVENTS_SHOWN)
		printf("\nevents (the last %d of %zu)\n", EVENTS_SHOWN, n);
	else
		printf("\nevents\n");
	int rc = sl_table_print(&t, stdout, "  ", color);
	sl_table_release(&t);
	free(v);
	return rc;
}

int sl_view_rollout_detail(struct json_object *r, bool color)
{
	struct json_object *spec = sl_cli_jget(r, "spec"), *j = latest_judgment(r);
	if (!r || !sl_cli_jstr(r, "state"))
		return SL_EPARSE;
	print_title(r, color);
	field("reason", "%s", sl_cli_jstr(r, "reason") ? sl_cli_jstr(r, "reason") : "-");
	print_plan(r, spec);
	print_counters(r);
	print_hint(r);
	int rc = 0;
	if (j) {
		fputs("\nlatest ", stdout);
		rc = sl_view_judgment(j, spec, "", color);
	} else
		printf("\nno judgment yet\n");
	if (rc == 0)
		print_history(r);
	return rc ? rc : print_events(r, color);
}

int sl_view_rollout_brief(struct json_object *r, const char *verb, bool color)
{
	char id[32], pair[160], where[160];
	const char *state = sl_cli_jstr(r, "state"), *model = sl_cli_jstr(r, "model"), *why = sl_cli_jstr(r, "reason");
	if (!state)
		return SL_EPARSE;
	pair_text(pair, sizeof(pair), r);
	printf("rollout %s (", sl_view_id(id, sizeof(id), r));
	sl_cli_put(stdout, false, SL_TC_NONE, model ? model : "?");
	fputs(": ", stdout);
	sl_cli_put(stdout, false, SL_TC_NONE, pair);
	printf(") %s ", verb);
	sl_cli_put(stdout, color, sl_view_state_color(state), state);
	sl_cli_put(stdout, false, SL_TC_NONE, sl_view_rollout_where(where, sizeof(where), r, sl_cli_jget(r, "spec")));
	if (why && *why) {
		fputs(": ", stdout);
		sl_cli_put(stdout, false, SL_TC_NONE, why);
	}
	fputc('\n', stdout);
	return 0;
}
