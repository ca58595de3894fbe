/* args.c: the checks every store function applies to its inputs before touching the database,
 * and the mapping of SQLite result codes to SL_E* codes.
 * Invariants: a rejected argument leaves the database untouched and explains itself in errmsg
 * as "what: field: reason"; strings are measured with a bound, never read past max + 1 bytes. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "store-int.h"

static int reject(struct sl_store *s, int rc, const char *what, const char *field, const char *why)
{
	snprintf(s->errmsg, sizeof(s->errmsg), "%s: %s: %s", what, field, why);
	return rc;
}

int sl_store_arg_text(struct sl_store *s, const char *what, const char *field, const char *v, size_t max, bool nullable)
{
	if (!v)
		return nullable ? 0 : reject(s, SL_EINVAL, what, field, "missing");
	size_t n = strnlen(v, max + 1);
	if (n == 0)
		return reject(s, SL_EINVAL, what, field, "empty");
	if (n > max)
		return reject(s, SL_ETOOBIG, what, field, "too long");
	return 0;
}

int sl_store_arg_time(struct sl_store *s, const char *what, double ts)
{
	return isfinite(ts) ? 0 : reject(s, SL_EINVAL, what, "ts", "not a finite time");
}

int sl_store_arg_share(struct sl_store *s, const char *what, const char *field, double v)
{
	return (v >= 0 && v <= 1) ? 0 : reject(s, SL_ERANGE, what, field, "not a share in [0, 1]");
}

int sl_store_arg_score(struct sl_store *s, const char *what, double v)
{
	return (isnan(v) || isfinite(v)) ? 0 : reject(s, SL_EINVAL, what, "score", "infinite");
}

int sl_store_arg_limit(struct sl_store *s, const char *what, int limit, int *out)
{
	if (limit < 0 || limit > SL_STORE_LIST_MAX)
		return reject(s, SL_EINVAL, what, "limit", "out of 0..SL_STORE_LIST_MAX");
	*out = limit ? limit : SL_STORE_LIST_MAX;
	return 0;
}

int sl_store_map_rc(int rc)
{
	switch (rc) {
	case SQLITE_CONSTRAINT_FOREIGNKEY:
		return SL_ENOTFOUND; /* the referenced rollout does not exist */
	case SQLITE_CONSTRAINT_UNIQUE:
	case SQLITE_CONSTRAINT_PRIMARYKEY:
		return SL_ESTATE; /* e.g. a second active rollout for one model */
	}
	switch (rc & 0xff) {
	case SQLITE_CONSTRAINT:
	case SQLITE_RANGE:
	case SQLITE_MISMATCH:
		return SL_EINVAL;
	case SQLITE_NOMEM:
		return SL_ENOMEM;
	case SQLITE_TOOBIG:
		return SL_ETOOBIG;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return SL_ETIMEOUT;
	default:
		return SL_EIO;
	}
}

int sl_store_fail(struct sl_store *s, int rc, const char *what)
{
	const char *msg = sqlite3_extended_errcode(s->db) == rc ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc);
	snprintf(s->errmsg, sizeof(s->errmsg), "%s: %s", what, msg);
	return sl_store_map_rc(rc);
}
