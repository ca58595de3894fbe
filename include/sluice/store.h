/* store: everything sluice keeps on disk, in one SQLite database (WAL mode): rollouts, their
 * append-only event log and judgments, the route overrides the gateway applies over its config
 * after a restart, and posted feedback. Generic about content: rollout specs and states arrive
 * as JSON text and are kept byte-exact beside a few indexed columns.
 *
 * Durability (journal_mode=WAL, synchronous=NORMAL): a function that returned 0 has committed.
 * A killed process (kill -9, crash, OOM) loses nothing committed: the commit is in the WAL file
 * and the next open replays it. A power loss or OS crash may lose the last few transactions
 * (those not yet checkpointed or synced) but never corrupts the database.
 *
 * Threads: a store is one connection. It may be opened in one thread and used in another, but
 * by one thread at a time: it has no lock of its own. Two stores (connections) on the same file,
 * in one process or several, are safe; readers never block the writer nor see half a
 * transaction; a second writer waits up to 5 s for the write lock, then gets SL_ETIMEOUT. A
 * child process must open its own store, never use one inherited through fork().
 *
 * Transactions: every write runs in a transaction of its own and has committed when it returns
 * 0, unless sl_store_begin() opened a group: then writes commit together at sl_store_commit(),
 * or none of them do.
 *
 * Reads hand each row to a callback. The row's strings are borrowed: valid during that call
 * only. A callback returns 0 to go on, or anything else to stop; that value is returned. A
 * callback may call other read functions of the same store (they then see the same snapshot),
 * but not the one it is called from, nor any write (both return SL_ESTATE).
 *
 * Bounds: names (model, version, request id, metric, label) are 1..SL_STORE_NAME_MAX bytes,
 * words (state, kind, outcome) 1..SL_STORE_WORD_MAX, JSON text at most SL_STORE_JSON_MAX;
 * longer gives SL_ETOOBIG. Times are seconds since the epoch and must be finite; shares are
 * fractions in [0, 1]. JSON must be valid JSON (checked by the database). */
#ifndef SLUICE_STORE_H
#define SLUICE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sluice/core.h"

#define SL_STORE_SCHEMA_VERSION 3 /* 2: drift_references, 3: experiments */
#define SL_STORE_NAME_MAX       256
#define SL_STORE_WORD_MAX       64
#define SL_STORE_JSON_MAX       (1u << 20)
#define SL_STORE_LIST_MAX       10000
#define SL_STORE_BLOB_MAX       (64u << 20) /* an uploaded drift reference */

struct sl_store;

/* Opens or creates the database at path and its schema. On error returns a negative SL_E* code,
 * *out is NULL and err holds e.g. "cannot open 'x.db': unable to open database file". A database
 * written by a newer sluice (higher schema version) or by something else is refused. */
int sl_store_open(const char *path, struct sl_store **out, char *err, size_t errlen);
/* Rolls back an open group, then closes. NULL is a no-op. */
void sl_store_close(struct sl_store *s);
/* The last error in words, for logs: "rollout update: UNIQUE constraint failed: ...". */
const char *sl_store_errmsg(const struct sl_store *s);
/* Runs PRAGMA integrity_check and foreign_key_check: 0 when both pass, else SL_EIO and the
 * first problem in err. */
int sl_store_check(struct sl_store *s, char *err, size_t errlen);

/* Groups the writes that follow into one transaction (takes the write lock now). SL_ESTATE if a
 * group is already open. After a failed write inside a group, call sl_store_rollback(). */
int sl_store_begin(struct sl_store *s);
/* Commits the group; on failure it is rolled back. SL_ESTATE if none is open. */
int sl_store_commit(struct sl_store *s);
/* Discards the group; no-op when none is open. */
void sl_store_rollback(struct sl_store *s);

/* ---- rollouts ---------------------------------------------------------------------------- */

/* One row of `rollouts`. ended is false (and ended_at 0) while the rollout is active. */
struct sl_store_rollout {
	int64_t id;
	const char *model, *stable, *candidate;
	const char *spec_json;
	size_t spec_json_len;
	const char *state;
	const char *state_json;
	size_t state_json_len;
	int step_index;
	double candidate_share;
	double created_at, updated_at;
	bool ended;
	double ended_at;
};
typedef int (*sl_store_rollout_cb)(void *ctx, const struct sl_store_rollout *row);

/* Records a new active rollout (step_index 0, candidate_share 0) and sets *id (id may be NULL).
 * A model has at most one active rollout: SL_ESTATE when it already has one. */
int sl_store_rollout_create(struct sl_store *s, const char *model, const char *stable, const char *candidate,
                            const char *spec_json, const char *state, const char *state_json, double ts, int64_t *id);
/* Records the rollout's current state and weight at ts. ended marks it finished (ended_at = ts
 * the first time); a finished rollout stays finished. SL_ENOTFOUND for an unknown id. */
int sl_store_rollout_update(struct sl_store *s, int64_t id, const char *state, const char *state_json, int step_index,
                            double candidate_share, double ts, bool ended);
/* Calls cb once with the rollout; SL_ENOTFOUND for an unknown id. */
int sl_store_rollout_get(struct sl_store *s, int64_t id, sl_store_rollout_cb cb, void *ctx);
/* Active rollouts (not ended), oldest first: what to resume after a restart. */
int sl_store_rollouts_load_active(struct sl_store *s, sl_store_rollout_cb cb, void *ctx);
/* The newest `limit` rollouts (of model, or of every model when model is NULL), newest first.
 * limit is 1..SL_STORE_LIST_MAX; 0 means SL_STORE_LIST_MAX. */
int sl_store_rollouts_list(struct sl_store *s, const char *model, int limit, sl_store_rollout_cb cb, void *ctx);

/* ---- events (append-only) ---------------------------------------------------------------- */

/* kind is one of "started", "step", "judgment", "action", "webhook", "state". detail_json may
 * be NULL (then NULL in the row too). */
struct sl_store_event {
	int64_t id, rollout_id;
	double ts;
	const char *kind;
	const char *detail_json;
	size_t detail_json_len;
};
typedef int (*sl_store_event_cb)(void *ctx, const struct sl_store_event *row);

/* SL_EINVAL for an unknown kind, SL_ENOTFOUND for an unknown rollout. */
int sl_store_event_append(struct sl_store *s, int64_t rollout_id, double ts, const char *kind, const char *detail_json);
/* The rollout's last `limit` events (0 = SL_STORE_LIST_MAX), oldest first. */
int sl_store_events_list(struct sl_store *s, int64_t rollout_id, int limit, sl_store_event_cb cb, void *ctx);

/* ---- judgments (append-only) ------------------------------------------------------------- */

/* One verdict of the judge: look is the sequential look number within the step; outcome a word
 * such as "pass", "marginal", "fail", "inconclusive", "too_few"; score NAN when none. */
struct sl_store_judgment {
	int64_t id, rollout_id;
	double ts;
	int step_index, look;
	const char *outcome;
	double score;
	const char *detail_json;
	size_t detail_json_len;
};
typedef int (*sl_store_judgment_cb)(void *ctx, const struct sl_store_judgment *row);

/* score may be NAN (kept as NULL); detail_json may be NULL. SL_ENOTFOUND for an unknown
 * rollout. */
int sl_store_judgment_append(struct sl_store *s, int64_t rollout_id, double ts, int step_index, int look,
                             const char *outcome, double score, const char *detail_json);
/* The rollout's last `limit` judgments (0 = SL_STORE_LIST_MAX), oldest first. */
int sl_store_judgments_list(struct sl_store *s, int64_t rollout_id, int limit, sl_store_judgment_cb cb, void *ctx);

/* ---- route overrides --------------------------------------------------------------------- */

/* What the gateway applies over its configured routes for model after a restart: stable takes
 * 1 - candidate_share of the traffic, candidate (NULL when none) the rest; shadow_share of
 * requests are mirrored to the candidate. */
struct sl_store_override {
	const char *model, *stable, *candidate;
	double candidate_share, shadow_share;
	double updated_at;
};
typedef int (*sl_store_override_cb)(void *ctx, const struct sl_store_override *row);

/* Inserts or replaces model's override. With candidate NULL both shares must be 0. */
int sl_store_override_set(struct sl_store *s, const char *model, const char *stable, const char *candidate,
                          double candidate_share, double shadow_share, double ts);
/* Removes model's override; 0 whether or not there was one. */
int sl_store_override_clear(struct sl_store *s, const char *model);
/* Every override, by model name. */
int sl_store_overrides_load(struct sl_store *s, sl_store_override_cb cb, void *ctx);

/* ---- feedback ---------------------------------------------------------------------------- */

/* Feedback posted for one request: a label ("thumbs_up", "thumbs_down"), a score, or both;
 * label and metric NULL and score NAN when absent. */
struct sl_store_feedback {
	int64_t id;
	const char *request_id, *model, *version;
	const char *label;
	double score;
	const char *metric;
	double ts;
};
typedef int (*sl_store_feedback_cb)(void *ctx, const struct sl_store_feedback *row);

/* SL_EINVAL when both label is NULL and score is NAN. */
int sl_store_feedback_append(struct sl_store *s, const char *request_id, const char *model, const char *version,
                             const char *label, double score, const char *metric, double ts);
/* One verdict of live drift monitoring (state "ok", "warning" or "drift"; detail_json the report). */
int sl_store_drift_append(struct sl_store *s, const char *model, const char *version, double ts, const char *state,
                          const char *detail_json);
/* The reference file uploaded for a version's live drift monitor (replaces the stored one;
 * 1..SL_STORE_BLOB_MAX bytes, kept byte-exact; rows is what the upload held). */
int sl_store_drift_ref_set(struct sl_store *s, const char *model, const char *version, const void *body,
                           size_t len, int64_t rows, double ts);
/* Forgets it (0 also when there was none). */
int sl_store_drift_ref_clear(struct sl_store *s, const char *model, const char *version);
/* Every stored reference, by model and version; body is borrowed for the call. */
typedef int (*sl_store_drift_ref_cb)(void *ctx, const char *model, const char *version, const void *body,
                                     size_t len, int64_t rows, double ts);
int sl_store_drift_refs_load(struct sl_store *s, sl_store_drift_ref_cb cb, void *ctx);
/* The newest `limit` feedback rows (of model, or all when NULL; 0 = SL_STORE_LIST_MAX), newest
 * first. */
int sl_store_feedback_list(struct sl_store *s, const char *model, int limit, sl_store_feedback_cb cb, void *ctx);

/* ---- experiments ------------------------------------------------------------------------- */

/* One row of `experiments`: spec_json is the spec declared through the admin API (NULL for an
 * experiment of the configuration whose stop is all that is kept); stopped_at is NAN while it
 * runs. */
struct sl_store_experiment {
	const char *key;
	const char *spec_json;
	size_t spec_json_len;
	double stopped_at, created_at, updated_at;
};
typedef int (*sl_store_experiment_cb)(void *ctx, const struct sl_store_experiment *row);

/* Declares key with spec_json (inserted, or replacing a stored spec and clearing its stop). */
int sl_store_experiment_declare(struct sl_store *s, const char *key, const char *spec_json, double ts);
/* Records that key stopped at ts (the first stop is kept); creates the row when needed. */
int sl_store_experiment_stop(struct sl_store *s, const char *key, double ts);
/* Every row, by key. */
int sl_store_experiments_load(struct sl_store *s, sl_store_experiment_cb cb, void *ctx);

#endif
