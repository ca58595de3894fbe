/* check.c: sl_store_check, the database's own consistency checks (page structure, indexes,
 * foreign keys), for tests, recovery and an operator's `sluice` command.
 * Invariant: reads only; reports the first problem found. */
#include <stdio.h>
#include <string.h>

#include "store-int.h"

/* Runs a pragma; a first row other than `ok_row` (NULL: any row at all) is a problem. */
static int pragma_clean(struct sl_store *s, const char *pragma, const char *ok_row, char *err, size_t errlen)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(s->db, pragma, -1, &st, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	int out = 0;
	if (rc == SQLITE_ROW) {
		const char *v = (const char *)sqlite3_column_text(st, 0);
		if (!ok_row || !v || strcmp(v, ok_row) != 0) {
			snprintf(err, errlen, "%s: %s", pragma, v ? v : "?");
			out = SL_EIO;
		}
	} else if (rc != SQLITE_DONE) {
		snprintf(err, errlen, "%s: %s", pragma, sqlite3_errmsg(s->db));
		out = sl_store_map_rc(rc);
	}
	sqlite3_finalize(st);
	return out;
}

int sl_store_check(struct sl_store *s, char *err, size_t errlen)
{
	if (s->reading || s->group) {
		snprintf(err, errlen, "check: inside a read callback or an open group");
		return SL_ESTATE;
	}
	int rc = pragma_clean(s, "PRAGMA integrity_check", "ok", err, errlen);
	if (rc == 0)
		rc = pragma_clean(s, "PRAGMA foreign_key_check", NULL, err, errlen);
	return rc;
}
