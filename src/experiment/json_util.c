/* json_util.c: strict JSON reading with field paths in every error, for the experiment spec and
 * the event body (output goes through core's helpers, src/core/json_util.c).
 * Invariants: see experiment-int.h; nothing here allocates except json-c's parse tree (the
 * caller puts it) and the sl_buf given. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "experiment-int.h"

int sl__xerr(char *err, size_t errlen, const char *path, const char *fmt, ...)
{
	if (err && errlen) {
		int n = snprintf(err, errlen, "%s: ", path);
		if (n >= 0 && (size_t)n < errlen) {
			va_list ap;
			va_start(ap, fmt);
			vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
			va_end(ap);
		}
	}
	return SL_EINVAL;
}

void sl__xpath(char *out, const char *path, const char *key, int i)
{
	if (key)
		snprintf(out, SL__XPATH_CAP, "%s%s%s", path, *path ? "." : "", key);
	else
		snprintf(out, SL__XPATH_CAP, "%s[%d]", path, i);
}

int sl__xparse(const char *json, size_t len, struct json_object **out, char *err, size_t errlen)
{
	if (!json)
		return sl__xerr(err, errlen, "json", "missing"), SL_EPARSE;
	if (len > (1u << 24))
		return sl__xerr(err, errlen, "json", "longer than 16 MiB"), SL_ETOOBIG;
	struct json_tokener *tok = json_tokener_new();
	if (!tok)
		return SL_ENOMEM;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	struct json_object *o = json_tokener_parse_ex(tok, json, (int)len);
	enum json_tokener_error jerr = json_tokener_get_error(tok);
	size_t end = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	if (jerr == json_tokener_success && end <= len) {
		size_t k = end;
		while (k < len && strchr(" \t\r\n", json[k]) && json[k])
			k++;
		if (k == len) {
			*out = o;
			return 0;
		}
		json_object_put(o);
		return sl__xerr(err, errlen, "json", "trailing bytes after the value"), SL_EPARSE;
	}
	json_object_put(o);
	return sl__xerr(err, errlen, "json", "%s",
	                jerr == json_tokener_success || jerr == json_tokener_continue ? "truncated"
	                                                                                : json_tokener_error_desc(jerr)),
	       SL_EPARSE;
}

int sl__xobject(struct json_object *o, const char *path, const char *const *keys, char *err, size_t errlen)
{
	if (!json_object_is_type(o, json_type_object))
		return sl__xerr(err, errlen, *path ? path : "json", "must be an object");
	json_object_object_foreach(o, key, val)
	{
		(void)val;
		size_t i = 0;
		while (keys[i] && strcmp(keys[i], key) != 0)
			i++;
		if (!keys[i]) {
			char p[SL__XPATH_CAP];
			sl__xpath(p, path, key, 0);
			return sl__xerr(err, errlen, p, "unknown field");
		}
	}
	return 0;
}

/* The member key of o: 0 with *v set, 1 when absent and optional, or the "missing" error. */
static int member(struct json_object *o, const char *key, const char *path, bool required, struct json_object **v,
                  char *p, char *err, size_t errlen)
{
	sl__xpath(p, path, key, 0);
	if (json_object_object_get_ex(o, key, v) && *v)
		return 0;
	return required ? sl__xerr(err, errlen, p, "missing") : 1;
}

int sl__xstr(struct json_object *o, const char *key, const char *path, bool required, char *out, size_t cap,
             char *err, size_t errlen)
{
	char p[SL__XPATH_CAP];
	struct json_object *v;
	int rc = member(o, key, path, required, &v, p, err, errlen);
	if (rc)
		return rc > 0 ? 0 : rc;
	if (!json_object_is_type(v, json_type_string))
		return sl__xerr(err, errlen, p, "must be a string");
	size_t n = (size_t)json_object_get_string_len(v);
	const char *s = json_object_get_string(v);
	if (n == 0 || n >= cap || memchr(s, '\0', n))
		return sl__xerr(err, errlen, p, "must be 1 to %zu bytes without NUL", cap - 1);
	memcpy(out, s, n + 1);
	return 0;
}

bool sl__name_ok(const char *s, size_t n)
{
	if (n == 0 || n >= SL_EXP_NAME_CAP)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || strchr("_.:-", c)) ||
		    c == '\0')
			return false;
	}
	return true;
}

int sl__xname(struct json_object *o, const char *key, const char *path, bool required, char *out, char *err,
              size_t errlen)
{
	char tmp[SL_EXP_STR_CAP], p[SL__XPATH_CAP];
	tmp[0] = '\0';
	int rc = sl__xstr(o, key, path, required, tmp, sizeof(tmp), err, errlen);
	if (rc || !tmp[0])
		return rc;
	if (!sl__name_ok(tmp, strlen(tmp))) {
		sl__xpath(p, path, key, 0);
		return sl__xerr(err, errlen, p, "must be 1 to 64 characters of A-Z a-z 0-9 _ . : -");
	}
	memcpy(out, tmp, strlen(tmp) + 1);
	return 0;
}

int sl__xnum(struct json_object *o, const char *key, const char *path, double lo, double hi, double *out, char *err,
             size_t errlen)
{
	char p[SL__XPATH_CAP];
	struct json_object *v;
	int rc = member(o, key, path, false, &v, p, err, errlen);
	if (rc)
		return rc > 0 ? 0 : rc;
	if (!json_object_is_type(v, json_type_int) && !json_object_is_type(v, json_type_double))
		return sl__xerr(err, errlen, p, "must be a number");
	double x = json_object_get_double(v);
	if (!(x >= lo))
		return sl__xerr(err, errlen, p, "must be >= %g", lo);
	if (!(x <= hi))
		return sl__xerr(err, errlen, p, "must be <= %g", hi);
	*out = x;
	return 0;
}

int sl__xbool(struct json_object *o, const char *key, const char *path, bool *out, char *err, size_t errlen)
{
	char p[SL__XPATH_CAP];
	struct json_object *v;
	int rc = member(o, key, path, false, &v, p, err, errlen);
	if (rc)
		return rc > 0 ? 0 : rc;
	if (!json_object_is_type(v, json_type_boolean))
		return sl__xerr(err, errlen, p, "must be true or false");
	*out = json_object_get_boolean(v);
	return 0;
}

int sl__xenum(struct json_object *o, const char *key, const char *path, const char *const *names, int *out,
              char *err, size_t errlen)
{
	char p[SL__XPATH_CAP], list[256] = "";
	struct json_object *v;
	int rc = member(o, key, path, false, &v, p, err, errlen);
	if (rc)
		return rc > 0 ? 0 : rc;
	const char *s = json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
	for (int i = 0; s && names[i]; i++)
		if (strcmp(s, names[i]) == 0)
			return *out = i, 0;
	for (int i = 0; names[i]; i++)
		snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s", i ? ", " : "", names[i]);
	return sl__xerr(err, errlen, p, "must be one of %s", list);
}

int sl__xrange(struct json_object *v, const char *path, double r[2], char *err, size_t errlen)
{
	if (!json_object_is_type(v, json_type_array) || json_object_array_length(v) != 2)
		return sl__xerr(err, errlen, path, "must be a pair [lo, hi]");
	for (int i = 0; i < 2; i++) {
		struct json_object *x = json_object_array_get_idx(v, (size_t)i);
		if (!json_object_is_type(x, json_type_int) && !json_object_is_type(x, json_type_double))
			return sl__xerr(err, errlen, path, "must be a pair of numbers");
		r[i] = json_object_get_double(x);
	}
	if (!(r[0] >= 0 && r[0] <= r[1] && r[1] <= 1))
		return sl__xerr(err, errlen, path, "must satisfy 0 <= lo <= hi <= 1");
	return 0;
}
