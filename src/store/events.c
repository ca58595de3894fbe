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

int sl_store_event_append(struct sl_store *s, int64_t rollout_id, double ts, const char *kind, const char *detail_json)
{
	struct sl_args a = {s, "event append", 0};
	struct sl_binder b;
	sl_arg_text(&a, "kind", kind, SL_STORE_WORD_MAX, false);
	if (!a.rc && !known_kind(kind)) {
		char why[SL_STORE_WORD_MAX + 16];
		snprintf(why, sizeof(why), "unknown kind '%s'", kind);
		sl_arg_fail(&a, SL_EINVAL, "kind", why);
	}
	sl_arg_text(&a, "detail_json", detail_json, SL_STORE_JSON_MAX, true);
	sl_arg_time(&a, ts);
	int rc = sl_binder_init(&b, &a, SL_Q_EVENT_INSERT, true);
	if (rc)
		return rc;
	sl_bind_int64(&b, rollout_id);
	sl_bind_double(&b, ts);
	sl_bind_text(&b, kind);
	sl_bind_text(&b, detail_json);
	return sl_store_run_write(s, b.st, b.rc, a.what);
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
	struct event_closure c = {cb, ctx};
	return sl_store_list(s, SL_Q_EVENTS_LIST, "events list", NULL, &rollout_id, limit, emit_event, &c);
}
