/* schema.c: the tables sluice keeps, created on an empty database, and the schema version check
 * that refuses a database written by a newer sluice or by something else.
 * Invariants: the schema is created in one transaction with its schema_version row, so a
 * database either has the whole schema or none of it; schema_version holds one row. */
#include <stdio.h>

#include "store-int.h"

/* 'SLCE': lets `file` and humans tell a sluice database from other SQLite files. */
#define SL_STORE_APPLICATION_ID 0x534c4345

/* Tables (times are REAL seconds since the epoch; JSON columns hold valid JSON, byte-exact):
 * - schema_version: one row, the version of this layout (SL_STORE_SCHEMA_VERSION).
 * - rollouts: one row per rollout, updated in place as it moves: model, stable and candidate
 *   versions, the spec it was started with, its current state (a word) and full state (JSON),
 *   the step it is at and the candidate's share of traffic; ended_at is NULL while active. At
 *   most one active rollout per model (a partial unique index). AUTOINCREMENT: ids are never
 *   reused, so an id in a URL or a log always names one rollout.
 * - rollout_events: append-only history of each rollout (started, step, judgment, action,
 *   webhook, state) with a JSON detail; triggers refuse UPDATE and DELETE.
 * - judgments: append-only verdicts of the judge per step and look, with the evidence as JSON.
 * - route_overrides: per model, the split the gateway must apply over its configured routes
 *   after a restart (stable, candidate, candidate and shadow shares).
 * - feedback: labels and scores posted for requests, with the model and version they hit.
 * - drift_reports: append-only verdicts of live drift monitoring, per model version and window,
 *   with every feature's test as JSON.
 * - drift_references (version 2): per model version, the reference file uploaded for its live
 *   drift monitor (CSV or JSON Lines, byte-exact), replacing the pinned first window.
 * - experiments (version 3): per experiment key, the spec declared through the admin API
 *   (spec_json; NULL for a configuration-declared one) and when it was stopped (stopped_at;
 *   NULL while it runs), so a restart keeps both.
 * Upgrades: a database at an older version gets the tables added since, in the transaction that
 * checks its version, and its schema_version row is set to the current version. */
/* Version 2. */
#define DRIFT_REFERENCES_SQL                                                                               \
	"CREATE TABLE drift_references ("                                                                  \
	" model TEXT NOT NULL, version TEXT NOT NULL,"                                                     \
	" body BLOB NOT NULL, rows INTEGER NOT NULL, updated_at REAL NOT NULL,"                            \
	" PRIMARY KEY (model, version));"

/* Version 3. */
#define EXPERIMENTS_SQL                                                                                    \
	"CREATE TABLE experiments ("                                                                       \
	" key TEXT PRIMARY KEY,"                                                                           \
	" spec_json TEXT CHECK (spec_json IS NULL OR json_valid(spec_json)),"                              \
	" stopped_at REAL, created_at REAL NOT NULL, updated_at REAL NOT NULL);"

/* Index v - 1: what takes a database from version v to v + 1. */
static const char *const upgrades[] = {DRIFT_REFERENCES_SQL, EXPERIMENTS_SQL};
_Static_assert(sizeof(upgrades) / sizeof(upgrades[0]) == SL_STORE_SCHEMA_VERSION - 1, "one upgrade per version");

static const char schema_sql[] =
    "CREATE TABLE schema_version (version INTEGER NOT NULL);"
    "CREATE TABLE rollouts ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " model TEXT NOT NULL, stable TEXT NOT NULL, candidate TEXT NOT NULL,"
    " spec_json TEXT NOT NULL CHECK (json_valid(spec_json)),"
    " state TEXT NOT NULL,"
    " state_json TEXT NOT NULL CHECK (json_valid(state_json)),"
    " step_index INTEGER NOT NULL DEFAULT 0,"
    " candidate_share REAL NOT NULL DEFAULT 0 CHECK (candidate_share BETWEEN 0 AND 1),"
    " created_at REAL NOT NULL, updated_at REAL NOT NULL, ended_at REAL);"
    "CREATE INDEX rollouts_model ON rollouts (model, id);"
    "CREATE UNIQUE INDEX rollouts_one_active ON rollouts (model) WHERE ended_at IS NULL;"
    "CREATE TABLE rollout_events ("
    " id INTEGER PRIMARY KEY,"
    " rollout_id INTEGER NOT NULL REFERENCES rollouts (id),"
    " ts REAL NOT NULL,"
    " kind TEXT NOT NULL CHECK (kind IN ('started', 'step', 'judgment', 'action', 'webhook', 'state')),"
    " detail_json TEXT CHECK (detail_json IS NULL OR json_valid(detail_json)));"
    "CREATE INDEX rollout_events_rollout ON rollout_events (rollout_id, id);"
    "CREATE TRIGGER rollout_events_no_update BEFORE UPDATE ON rollout_events"
    " BEGIN SELECT RAISE(ABORT, 'rollout_events is append-only'); END;"
    "CREATE TRIGGER rollout_events_no_delete BEFORE DELETE ON rollout_events"
    " BEGIN SELECT RAISE(ABORT, 'rollout_events is append-only'); END;"
    "CREATE TABLE judgments ("
    " id INTEGER PRIMARY KEY,"
    " rollout_id INTEGER NOT NULL REFERENCES rollouts (id),"
    " ts REAL NOT NULL, step_index INTEGER NOT NULL, look INTEGER NOT NULL,"
    " outcome TEXT NOT NULL, score REAL,"
    " detail_json TEXT CHECK (detail_json IS NULL OR json_valid(detail_json)));"
    "CREATE INDEX judgments_rollout ON judgments (rollout_id, id);"
    "CREATE TRIGGER judgments_no_update BEFORE UPDATE ON judgments"
    " BEGIN SELECT RAISE(ABORT, 'judgments is append-only'); END;"
    "CREATE TRIGGER judgments_no_delete BEFORE DELETE ON judgments"
    " BEGIN SELECT RAISE(ABORT, 'judgments is append-only'); END;"
    "CREATE TABLE route_overrides ("
    " model TEXT PRIMARY KEY, stable TEXT NOT NULL, candidate TEXT,"
    " candidate_share REAL NOT NULL CHECK (candidate_share BETWEEN 0 AND 1),"
    " shadow_share REAL NOT NULL CHECK (shadow_share BETWEEN 0 AND 1),"
    " updated_at REAL NOT NULL,"
    " CHECK (candidate IS NOT NULL OR (candidate_share = 0 AND shadow_share = 0)));"
    "CREATE TABLE feedback ("
    " id INTEGER PRIMARY KEY,"
    " request_id TEXT NOT NULL, model TEXT NOT NULL, version TEXT NOT NULL,"
    " label TEXT, score REAL, metric TEXT, ts REAL NOT NULL,"
    " CHECK (label IS NOT NULL OR score IS NOT NULL));"
    "CREATE INDEX feedback_request ON feedback (request_id);"
    "CREATE INDEX feedback_model ON feedback (model, id);"
    "CREATE TABLE drift_reports ("
    " id INTEGER PRIMARY KEY,"
    " model TEXT NOT NULL, version TEXT NOT NULL, ts REAL NOT NULL,"
    " state TEXT NOT NULL CHECK (state IN ('ok', 'warning', 'drift')),"
    " detail_json TEXT NOT NULL CHECK (json_valid(detail_json)));"
    "CREATE INDEX drift_reports_version ON drift_reports (model, version, id);"
    "CREATE TRIGGER drift_reports_no_update BEFORE UPDATE ON drift_reports"
    " BEGIN SELECT RAISE(ABORT, 'drift_reports is append-only'); END;"
    DRIFT_REFERENCES_SQL
    EXPERIMENTS_SQL;

/* Runs a query whose first column of its first row is an integer; *v = -1 when NULL or none. */
static int query_int(struct sl_store *s, const char *q, long long *v)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(s->db, q, -1, &st, NULL);
	if (rc == SQLITE_OK) {
		rc = sqlite3_step(st);
		*v = (rc == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) ? sqlite3_column_int64(st, 0) : -1;
		rc = (rc == SQLITE_ROW || rc == SQLITE_DONE) ? SQLITE_OK : rc;
	}
	sqlite3_finalize(st);
	return rc;
}

static int create(struct sl_store *s, char *err, size_t errlen)
{
	char tail[160];
	snprintf(tail, sizeof(tail), "PRAGMA application_id = %d; INSERT INTO schema_version VALUES (%d);",
	         SL_STORE_APPLICATION_ID, SL_STORE_SCHEMA_VERSION);
	int rc = sqlite3_exec(s->db, schema_sql, NULL, NULL, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(s->db, tail, NULL, NULL, NULL);
	if (rc == SQLITE_OK)
		return 0;
	snprintf(err, errlen, "cannot create the schema: %s", sqlite3_errmsg(s->db));
	return sl_store_map_rc(rc);
}

/* Brings a database at version v up to SL_STORE_SCHEMA_VERSION (inside the caller's transaction). */
static int upgrade(struct sl_store *s, int v, char *err, size_t errlen)
{
	char set[80];
	int rc = SQLITE_OK;
	for (; rc == SQLITE_OK && v < SL_STORE_SCHEMA_VERSION; v++)
		rc = sqlite3_exec(s->db, upgrades[v - 1], NULL, NULL, NULL);
	snprintf(set, sizeof(set), "UPDATE schema_version SET version = %d", SL_STORE_SCHEMA_VERSION);
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(s->db, set, NULL, NULL, NULL);
	if (rc == SQLITE_OK)
		return 0;
	snprintf(err, errlen, "cannot upgrade the schema to version %d: %s", SL_STORE_SCHEMA_VERSION,
	         sqlite3_errmsg(s->db));
	return sl_store_map_rc(rc);
}

/* The database has tables: they must be ours, at a version this code understands. Returns an
 * SL_E* code: SL_ESTATE for a version out of range, SL_EINVAL for a database that is not ours. */
static int check_version(struct sl_store *s, char *err, size_t errlen)
{
	long long ours = -1, v = -1;
	int rc =
	    query_int(s, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'", &ours);
	if (rc == SQLITE_OK && ours == 1)
		rc = query_int(s, "SELECT max(version) FROM schema_version", &v);
	if (rc != SQLITE_OK) {
		snprintf(err, errlen, "%s", sqlite3_errmsg(s->db));
		return sl_store_map_rc(rc);
	}
	if (ours != 1) {
		snprintf(err, errlen, "not a sluice database (it has tables but no schema_version)");
		return SL_EINVAL;
	}
	if (v > SL_STORE_SCHEMA_VERSION) {
		snprintf(err, errlen, "schema version %lld is newer than this sluice understands (%d); upgrade sluice",
		         v, SL_STORE_SCHEMA_VERSION);
		return SL_ESTATE;
	}
	if (v < 1) {
		snprintf(err, errlen, "schema_version holds no valid version");
		return SL_ESTATE;
	}
	return upgrade(s, (int)v, err, errlen);
}

/* Fills err and returns the SL_E* code of an SQLite failure. */
static int sql_fail(struct sl_store *s, int rc, char *err, size_t errlen)
{
	snprintf(err, errlen, "%s", sqlite3_errmsg(s->db));
	return sl_store_map_rc(rc);
}

int sl_store_schema_init(struct sl_store *s, char *err, size_t errlen)
{
	long long tables = -1;
	int rc = sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
	if (rc != SQLITE_OK)
		return sql_fail(s, rc, err, errlen);
	rc = query_int(s, "SELECT count(*) FROM sqlite_master", &tables);
	if (rc != SQLITE_OK)
		rc = sql_fail(s, rc, err, errlen);
	else if (tables == 0)
		rc = create(s, err, errlen);
	else
		rc = check_version(s, err, errlen);
	if (rc != 0) {
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
		return rc;
	}
	rc = sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL);
	return rc == SQLITE_OK ? 0 : sql_fail(s, rc, err, errlen);
}
