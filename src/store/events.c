/* events.c: rollout_events, the append-only history of each rollout.
 * Invariants: rows are only ever inserted (triggers refuse UPDATE and DELETE); kind is one of a
 * fixed set, checked here for a clear error and again by the table; detail_json is kept
 * byte-exact or NULL. */
#include <stdio.h>
#include <string.h>

#include "store-int.h"

static const char *const kinds[] = {"started", "step", "judgment", "action", "webhook", "state"};

static bool known_kind(const char *kind)
{
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (strcmp(kind, kinds[i]) == 0)
			return true;
	return false;
}

static int check_event(struct sl_store *s, double ts, const char *kind, const char *detail_json)
{
	const char *w = "event append";
	int rc = sl_store_arg_text(s, w, "kind", kind, SL_STORE_WORD_MAX, false);
	if (!rc && !known_kind(kind)) {
		snprintf(s->errmsg, sizeof(s->errmsg), "%s: kind: unknown kind '%s'", w, kind);
		rc = SL_EINVAL;
	}
	if (!rc)
		rc = sl_store_arg_text(s, w, "detail_json", detail_json, SL_STORE_JSON_MAX, true);
	return rc ? rc : sl_store_arg_time(s, w, ts);
}

int sl_store_event_append(struct sl_store *s, int64_t rollout_id, double ts, const char *kind, const char *detail_json)
{
	sqlite3_stmt *st;
	int rc = check_event(s, ts, kind, detail_json);
	if (!rc)
		rc = sl_store_stmt(s, SL_Q_EVENT_INSERT, true, &st);
	if (rc)
		return rc;
	struct sl_binder b = {st, 0, 0};
	sl_bind_int64(&b, rollout_id);
	sl_bind_double(&b, ts);
	sl_bind_text(&b, kind);
	sl_bind_text(&b, detail_json);
	return sl_store_run_write(s, st, b.rc, "event append");
}

struct event_closure {
	sl_store_event_cb cb;
	void *ctx;
};

static int emit_event(sqlite3_stmt *st, void *p)
{
	struct event_closure *c = p;
	struct sl_store_event e;
	e.id = sqlite3_column_int64(st, 0);
	e.rollout_id = sqlite3_column_int64(st, 1);
	e.ts = sqlite3_column_double(st, 2);
	e.kind = sl_col_text(st, 3, NULL);
	e.detail_json = sl_col_text(st, 4, &e.detail_json_len);
	return c->cb(c->ctx, &e);
}

int sl_store_events_list(struct sl_store *s, int64_t rollout_id, int limit, sl_store_event_cb cb, void *ctx)
{
	sqlite3_stmt *st;
	struct event_closure c = {cb, ctx};
	int n;
	int rc = sl_store_arg_limit(s, "events list", limit, &n);
	if (!rc)
		rc = sl_store_stmt(s, SL_Q_EVENTS_LIST, false, &st);
	if (rc)
		return rc;
	struct sl_binder b = {st, 0, 0};
	sl_bind_int64(&b, rollout_id);
	sl_bind_int64(&b, n);
	return sl_store_run_read(s, SL_Q_EVENTS_LIST, b.rc, emit_event, &c, "events list", NULL);
}
