/* store-int.h: the store's connection, its cache of prepared statements, and the helpers the
 * table files share (argument checks, binding, running writes, reads and lists, error mapping).
 * Invariants: a statement is prepared once per store, on first use, and is reset with its
 * bindings cleared after every use; group is true exactly while sl_store_begin()'s transaction
 * is open; in_use[q] is true while q's rows are being handed to a callback, and reading counts
 * such callbacks, so no write and no re-entry of q happens under them. */
#ifndef SLUICE_STORE_INT_H
#define SLUICE_STORE_INT_H

#include <sqlite3.h>

#include "sluice/store.h"

/* Every statement the store runs; their SQL is in stmt.c, in the same order. */
enum sl_q {
	SL_Q_BEGIN,
	SL_Q_COMMIT,
	SL_Q_ROLLBACK,
	SL_Q_ROLLOUT_INSERT,
	SL_Q_ROLLOUT_UPDATE,
	SL_Q_ROLLOUT_GET,
	SL_Q_ROLLOUTS_ACTIVE,
	SL_Q_ROLLOUTS_ALL,
	SL_Q_ROLLOUTS_MODEL,
	SL_Q_EVENT_INSERT,
	SL_Q_EVENTS_LIST,
	SL_Q_JUDGMENT_INSERT,
	SL_Q_JUDGMENTS_LIST,
	SL_Q_OVERRIDE_SET,
	SL_Q_OVERRIDE_CLEAR,
	SL_Q_OVERRIDES_LOAD,
	SL_Q_FEEDBACK_INSERT,
	SL_Q_FEEDBACK_ALL,
	SL_Q_FEEDBACK_MODEL,
	SL_Q_DRIFT_INSERT,
	SL_Q_DRIFT_REF_SET,
	SL_Q_DRIFT_REF_CLEAR,
	SL_Q_DRIFT_REFS_LOAD,
	SL_Q_COUNT_
};

struct sl_store {
	sqlite3 *db;
	sqlite3_stmt *stmt[SL_Q_COUNT_];
	bool in_use[SL_Q_COUNT_];
	int reading;
	bool group;
	char errmsg[512];
};

/* Argument checks that remember the first failure, as the binder does: check in order, read rc
 * once. A failed check sets s->errmsg ("what: field: reason"); the checks after it do nothing. */
struct sl_args {
	struct sl_store *s;
	const char *what;
	int rc;
};
void sl_arg_text(struct sl_args *a, const char *field, const char *v, size_t max, bool nullable);
void sl_arg_time(struct sl_args *a, double ts);
void sl_arg_share(struct sl_args *a, const char *field, double v);
void sl_arg_score(struct sl_args *a, double v); /* a finite score, or NAN for none */
/* *out = limit, 0 becoming SL_STORE_LIST_MAX; negative or larger is SL_EINVAL. */
void sl_arg_limit(struct sl_args *a, int limit, int *out);
/* A rule of the caller's that does not hold: fails with rc and "what: field: why". */
void sl_arg_fail(struct sl_args *a, int rc, const char *field, const char *why);

/* Positional binding that remembers the first failure: bind in order, check rc once. */
struct sl_binder {
	sqlite3_stmt *st;
	int n;
	int rc;
};
/* a->rc when a check failed; else takes statement q (as sl_store_stmt) into b, ready to bind. */
int sl_binder_init(struct sl_binder *b, const struct sl_args *a, enum sl_q q, bool write);
void sl_bind_text(struct sl_binder *b, const char *v); /* NULL binds NULL */
void sl_bind_double(struct sl_binder *b, double v);    /* NAN binds NULL */
void sl_bind_int64(struct sl_binder *b, int64_t v);
void sl_bind_blob(struct sl_binder *b, const void *v, size_t len); /* borrowed until the step */

/* Records sqlite's error for what in s->errmsg and returns the SL_E* code for rc. */
int sl_store_fail(struct sl_store *s, int rc, const char *what);
int sl_store_map_rc(int rc);

/* The prepared statement q, ready to bind. SL_ESTATE when q is being read by a callback, or when
 * write is true and any read callback is running. */
int sl_store_stmt(struct sl_store *s, enum sl_q q, bool write, sqlite3_stmt **out);
/* Steps the bound write statement st to completion in a transaction of its own, or inside the
 * open group; bind_rc is the binder's rc. Resets st. */
int sl_store_run_write(struct sl_store *s, sqlite3_stmt *st, int bind_rc, const char *what);

/* Steps the bound read statement q and calls emit(st, closure) for each row; stops at the first
 * non-zero return, which it returns. *nrows (may be NULL) counts the rows emitted. Resets q. */
typedef int (*sl_store_emit_fn)(sqlite3_stmt *st, void *closure);
int sl_store_run_read(struct sl_store *s, enum sl_q q, int bind_rc, sl_store_emit_fn emit, void *closure,
                      const char *what, size_t *nrows);
/* A list read: the newest `limit` rows (0 = SL_STORE_LIST_MAX) of q, in the order its SQL gives,
 * handed to emit. q is filtered on model or on *rollout_id, bound as ?1 when not NULL (q must
 * match: a list of every model takes neither); the limit is the last parameter. */
int sl_store_list(struct sl_store *s, enum sl_q q, const char *what, const char *model, const int64_t *rollout_id,
                  int limit, sl_store_emit_fn emit, void *closure);

/* Column readers: text is NULL for SQL NULL, a double is NAN for SQL NULL. */
const char *sl_col_text(sqlite3_stmt *st, int i, size_t *len);
double sl_col_double(sqlite3_stmt *st, int i);

/* schema.c: creates the schema on an empty database or checks its version; 0 or an SL_E* code
 * with the reason in err. */
int sl_store_schema_init(struct sl_store *s, char *err, size_t errlen);
/* stmt.c: finalizes every cached statement. */
void sl_store_stmts_release(struct sl_store *s);

#endif
