/* names.c: the names of the guard's enums, for configuration, output and reasons.
 * Invariant: each table has one entry per enum value, in order; parse accepts exactly the names
 * the name function prints. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "guard-int.h"

static const char *const trust_names[] = {"trusted", "direct", "indirect"};
static const char *const view_names[] = {"text", "hidden", "decoded", "collapsed"};
static const char *const category_names[] = {"override", "role", "secret", "template", "exfil", "address"};
static const char *const action_names[] = {"allow", "flag", "block", "sanitize"};

static const char *name_of(const char *const *t, unsigned n, unsigned v)
{
	return v < n ? t[v] : "?";
}

static int parse_in(const char *const *t, unsigned n, const char *s, unsigned *out)
{
	for (unsigned i = 0; s && i < n; i++)
		if (strcmp(s, t[i]) == 0) {
			*out = i;
			return 0;
		}
	return SL_EINVAL;
}

const char *sl_guard_trust_name(enum sl_guard_trust t)
{
	return name_of(trust_names, SL_GUARD_TRUST_COUNT_, t);
}

const char *sl_guard_view_name(enum sl_guard_view_kind v)
{
	return name_of(view_names, SL_GUARD_VIEW_COUNT_, v);
}

const char *sl_guard_category_name(enum sl_guard_category c)
{
	return name_of(category_names, SL_GUARD_CAT_COUNT_, c);
}

const char *sl_guard_action_name(enum sl_guard_action a)
{
	return name_of(action_names, SL_GUARD_ACTION_COUNT_, a);
}

int sl_guard_category_parse(const char *s, enum sl_guard_category *out)
{
	unsigned v;
	int rc = parse_in(category_names, SL_GUARD_CAT_COUNT_, s, &v);
	if (rc == 0)
		*out = (enum sl_guard_category)v;
	return rc;
}

int sl_guard_action_parse(const char *s, enum sl_guard_action *out)
{
	unsigned v;
	int rc = parse_in(action_names, SL_GUARD_ACTION_COUNT_, s, &v);
	if (rc == 0)
		*out = (enum sl_guard_action)v;
	return rc;
}

int sl__gerr(int rc, char *err, size_t errlen, const char *fmt, ...)
{
	if (err && errlen) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return rc;
}
