/* args.c: the checks every store function applies to its inputs before touching the database,
 * and the mapping of SQLite result codes to SL_E* codes.
 * Invariants: a rejected argument leaves the database untouched and explains itself in errmsg
 * as "what: field: reason"; only the first failed check of a call speaks; strings are measured
 * with a bound, never read past max + 1 bytes. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "store-int.h"

void sl_arg_fail(struct sl_args *a, int rc, const char *field, const char *why)
{
	if (a->rc)
		return;
	snprintf(a->s->errmsg, sizeof(a->s->errmsg), "%s: %s: %s", a->what, field, why);
	a->rc = rc;
}

void sl_arg_text(struct sl_args *a, const char *field, const char *v, size_t max, bool nullable)
{
	if (!v) {
		if (!nullable)
			sl_arg_fail(a, SL_EINVAL, field, "missing");
		return;
	}
	size_t n = strnlen(v, max + 1);
	if (n == 0)
		sl_arg_fail(a, SL_EINVAL, field, "empty");
	else if (n > max)
		sl_arg_fail(a, SL_ETOOBIG, field, "too long");
}

void sl_arg_time(struct sl_args *a, double ts)
{
	if (!isfinite(ts))
		sl_arg_fail(a, SL_EINVAL, "ts", "not a finite time");
}

void sl_arg_share(struct sl_args *a, const char *field, double v)
{
	if (!(v >= 0 && v <= 1))
		sl_arg_fail(a, SL_ERANGE, field, "not a share in [0, 1]");
}

void sl_arg_score(struct sl_args *a, double v)
{
	if (!(isnan(v) || isfinite(v)))
		sl_arg_fail(a, SL_EINVAL, "score", "infinite");
}

void sl_arg_limit(struct sl_args *a, int limit, int *out)
{
	if (limit < 0 || limit > SL_STORE_LIST_MAX)
		sl_arg_fail(a, SL_EINVAL, "limit", "out of 0..SL_STORE_LIST_MAX");
	*out = limit ? limit : SL_STORE_LIST_MAX;
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
