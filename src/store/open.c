/* open.c: opening and closing a store: the connection, its pragmas, the schema, and the
 * integrity check. Invariants: an open store is in WAL mode with synchronous=NORMAL, foreign
 * keys on and a busy timeout, and its schema version is one this code understands; a failed open
 * leaves nothing allocated and explains itself as "cannot open 'path': reason". */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store-int.h"

#define SL_STORE_BUSY_MS       5000
#define SL_STORE_WAL_LIMIT_SQL "PRAGMA journal_size_limit = 67108864" /* WAL file trimmed to 64 MiB */
#define SL_STORE_OPEN_FLAGS    (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX)

/* SQLite's message, then the OS reason when there is one: "unable to open database file: no such
 * file or directory". */
static void open_reason(sqlite3 *db, int rc, char *why, size_t len)
{
	int os = db ? sqlite3_system_errno(db) : 0;
	const char *msg = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
	if (os <= 0) {
		snprintf(why, len, "%s", msg);
		return;
	}
	char oss[128];
	snprintf(oss, sizeof(oss), "%s", strerror(os));
	oss[0] = (char)tolower((unsigned char)oss[0]);
	snprintf(why, len, "%s: %s", msg, oss);
}

static int connect_db(struct sl_store *s, const char *path, char *why, size_t len)
{
	int rc = sqlite3_open_v2(path, &s->db, SL_STORE_OPEN_FLAGS, NULL);
	if (rc != SQLITE_OK) {
		open_reason(s->db, rc, why, len);
		return rc == SQLITE_NOMEM ? SL_ENOMEM : SL_EIO;
	}
	sqlite3_extended_result_codes(s->db, 1);
	sqlite3_busy_timeout(s->db, SL_STORE_BUSY_MS);
	return 0;
}

/* Switches to WAL (persistent in the file) and checks that it took. */
static int use_wal(struct sl_store *s, char *why, size_t len)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(s->db, "PRAGMA journal_mode = WAL", -1, &st, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	const char *mode = rc == SQLITE_ROW ? (const char *)sqlite3_column_text(st, 0) : NULL;
	int out = 0;
	if (rc != SQLITE_ROW) {
		open_reason(s->db, rc, why, len);
		out = sl_store_map_rc(rc);
	} else if (!mode || (strcmp(mode, "wal") != 0 && strcmp(mode, "memory") != 0)) {
		snprintf(why, len, "cannot use WAL journal mode (got '%s')", mode ? mode : "?");
		out = SL_EIO;
	}
	sqlite3_finalize(st);
	return out;
}

static int configure(struct sl_store *s, char *why, size_t len)
{
	int rc = use_wal(s, why, len);
	if (rc)
		return rc;
	rc = sqlite3_exec(s->db, "PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; " SL_STORE_WAL_LIMIT_SQL, NULL,
	                  NULL, NULL);
	if (rc != SQLITE_OK) {
		open_reason(s->db, rc, why, len);
		return sl_store_map_rc(rc);
	}
	return 0;
}

int sl_store_open(const char *path, struct sl_store **out, char *err, size_t errlen)
{
	char why[384] = "";
	*out = NULL;
	if (!path || !*path || strnlen(path, PATH_MAX) >= PATH_MAX) {
		snprintf(err, errlen, "cannot open database: empty or overlong path");
		return SL_EINVAL;
	}
	if (!sqlite3_threadsafe()) {
		snprintf(err, errlen, "cannot open '%s': sqlite3 was built without thread support", path);
		return SL_ESTATE;
	}
	struct sl_store *s = calloc(1, sizeof(*s));
	if (!s) {
		snprintf(err, errlen, "cannot open '%s': out of memory", path);
		return SL_ENOMEM;
	}
	int rc = connect_db(s, path, why, sizeof(why));
	if (rc == 0)
		rc = configure(s, why, sizeof(why));
	if (rc == 0)
		rc = sl_store_schema_init(s, why, sizeof(why));
	if (rc) {
		snprintf(err, errlen, "cannot open '%s': %s", path, why);
		sl_store_close(s);
		return rc;
	}
	*out = s;
	return 0;
}

void sl_store_close(struct sl_store *s)
{
	if (!s)
		return;
	sl_store_rollback(s);
	sl_store_stmts_release(s);
	sqlite3_close_v2(s->db);
	free(s);
}

const char *sl_store_errmsg(const struct sl_store *s)
{
	return s->errmsg[0] ? s->errmsg : "no error";
}
