/* json_util.c: strict JSON reading and writing shared by the modules' JSON (rollout spec, state
 * and judgments; guard configuration sections; experiment spec and event body):
 * members, members named by their path, arrays, and tables of scalar fields. Invariants: a
 * getter writes *out only on success; every error names the field; numbers are written in the
 * shortest form that reads back to the same double; a field table is read and written the same
 * way everywhere; the parser never reads past the length it is given. */
#include <limits.h>
#include <stdarg.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json-int.h"

int sl__rerr(char *err, size_t errlen, const char *fmt, ...)
{
	if (err && errlen) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return SL_EINVAL;
}

int sl__json_num(struct sl_buf *b, double v)
{
	if (!isfinite(v))
		return sl_buf_puts(b, "null");
	char tmp[40];
	if (v == 0)
		v = 0; /* -0.0 as 0: json-c reads "-0" back as the integer 0 (found by fuzz/experiment) */
	snprintf(tmp, sizeof(tmp), "%.15g", v);
	if (strtod(tmp, NULL) != v)
		snprintf(tmp, sizeof(tmp), "%.17g", v);
	return sl_buf_puts(b, tmp);
}

static int put_key(struct sl_buf *b, const char *key)
{
	int rc = sl_buf_puts(b, ",");
	if (!rc)
		rc = sl_buf_json_str(b, key, strlen(key));
	return rc ? rc : sl_buf_puts(b, ":");
}

int sl__json_num_field(struct sl_buf *b, const char *key, double v)
{
	int rc = put_key(b, key);
	return rc ? rc : sl__json_num(b, v);
}

int sl__json_str_field(struct sl_buf *b, const char *key, const char *s, size_t cap)
{
	int rc = put_key(b, key);
	return rc ? rc : sl_buf_json_str(b, s, strnlen(s, cap));
}

int sl__json_array(struct sl_buf *b, const void *elems, size_t size, unsigned n, sl__json_put_fn put)
{
	int rc = sl_buf_puts(b, "[");
	for (unsigned i = 0; !rc && i < n; i++) {
		if (i)
			rc = sl_buf_puts(b, ",");
		if (!rc)
			rc = put((const char *)elems + i * size, b);
	}
	return rc ? rc : sl_buf_puts(b, "]");
}

static int put_field(struct sl_buf *b, const struct sl__jfield *f, const char *p)
{
	int rc = put_key(b, f->key);
	if (rc)
		return rc;
	switch (f->type) {
	case SL__J_U64:
		return sl_buf_printf(b, "%llu", (unsigned long long)*(const uint64_t *)(const void *)p);
	case SL__J_UINT:
		return sl_buf_printf(b, "%u", *(const unsigned *)(const void *)p);
	case SL__J_DOUBLE:
		return sl__json_num(b, *(const double *)(const void *)p);
	case SL__J_BOOL:
		return sl_buf_puts(b, *(const bool *)p ? "true" : "false");
	}
	return SL_EINVAL;
}

int sl__json_put_fields(struct sl_buf *b, const struct sl__jfield *f, size_t n, const void *base)
{
	int rc = 0;
	for (size_t i = 0; !rc && i < n; i++)
		rc = put_field(b, &f[i], (const char *)base + f[i].off);
	return rc;
}

int sl__json_get_field(const struct sl__jfield *f, struct json_object *v, void *base, char *err, size_t errlen)
{
	char *p = (char *)base + f->off;
	uint64_t u = 0;
	int rc;
	switch (f->type) {
	case SL__J_U64:
		return sl__json_u64(v, f->key, INT64_MAX, (uint64_t *)(void *)p, err, errlen);
	case SL__J_UINT:
		if ((rc = sl__json_u64(v, f->key, UINT_MAX, &u, err, errlen)) == 0)
			*(unsigned *)(void *)p = (unsigned)u;
		return rc;
	case SL__J_DOUBLE:
		return sl__json_double(v, f->key, f->lo, f->hi, (double *)(void *)p, err, errlen);
	case SL__J_BOOL:
		return sl__json_bool(v, f->key, (bool *)p, err, errlen);
	}
	return SL_EINVAL;
}

int sl__json_bool(struct json_object *o, const char *field, bool *out, char *err, size_t errlen)
{
	if (!json_object_is_type(o, json_type_boolean))
		return sl__rerr(err, errlen, "%s: must be true or false", field);
	*out = json_object_get_boolean(o);
	return 0;
}

int sl__json_u64(struct json_object *o, const char *field, uint64_t max, uint64_t *out, char *err, size_t errlen)
{
	if (!json_object_is_type(o, json_type_int))
		return sl__rerr(err, errlen, "%s: must be an integer", field);
	int64_t v = json_object_get_int64(o);
	if (v < 0 || (uint64_t)v > max)
		return sl__rerr(err, errlen, "%s: must be in [0, %llu]", field, (unsigned long long)max);
	*out = (uint64_t)v;
	return 0;
}

int sl__json_number(struct json_object *o, const char *field, double *out, char *err, size_t errlen)
{
	if (!json_object_is_type(o, json_type_int) && !json_object_is_type(o, json_type_double))
		return sl__rerr(err, errlen, "%s: must be a number", field);
	*out = json_object_get_double(o);
	return 0;
}

int sl__json_double(struct json_object *o, const char *field, double lo, double hi, double *out, char *err,
                    size_t errlen)
{
	double v = 0;
	int rc = sl__json_number(o, field, &v, err, errlen);
	if (rc)
		return rc;
	if (!(v >= lo && v <= hi))
		return sl__rerr(err, errlen, "%s: must be in [%g, %g]", field, lo, hi);
	*out = v;
	return 0;
}

/* The text of string o and its length (which may hold NULs). */
static int string_ref(struct json_object *o, const char *field, const char **s, size_t *n, char *err, size_t errlen)
{
	if (!json_object_is_type(o, json_type_string))
		return sl__rerr(err, errlen, "%s: must be a string", field);
	*n = (size_t)json_object_get_string_len(o);
	*s = json_object_get_string(o);
	if (!sl_utf8_valid(*s, *n)) /* what is written back (sl_buf_json_str) must read back the same */
		return sl__rerr(err, errlen, "%s: must be valid UTF-8", field);
	return 0;
}

int sl__json_string(struct json_object *o, const char *field, char *out, size_t cap, char *err, size_t errlen)
{
	const char *s = NULL;
	size_t n = 0;
	int rc = string_ref(o, field, &s, &n, err, errlen);
	if (rc)
		return rc;
	if (n >= cap || memchr(s, '\0', n))
		return sl__rerr(err, errlen, "%s: must be a string of at most %zu bytes without NUL", field, cap - 1);
	memcpy(out, s, n + 1);
	return 0;
}

int sl__json_text(struct json_object *o, const char *field, size_t max, const char **s, size_t *n, char *err,
                  size_t errlen)
{
	const char *t = NULL;
	size_t len = 0;
	int rc = string_ref(o, field, &t, &len, err, errlen);
	if (rc)
		return rc;
	if (len == 0 || len > max || memchr(t, '\0', len))
		return sl__rerr(err, errlen, "%s: must be 1 to %zu bytes without NUL", field, max);
	*s = t;
	*n = len;
	return 0;
}

int sl__json_member(struct json_object *o, const char *key, const char *field, struct json_object **v, char *err,
                    size_t errlen)
{
	return json_object_object_get_ex(o, key, v) ? 0 : sl__rerr(err, errlen, "%s: missing", field);
}

int sl__json_array_check(struct json_object *o, const char *field, unsigned min, unsigned max, unsigned *n, char *err,
                         size_t errlen)
{
	if (!json_object_is_type(o, json_type_array))
		return sl__rerr(err, errlen, "%s: must be an array", field);
	size_t len = json_object_array_length(o);
	if (len < min || len > max)
		return min ? sl__rerr(err, errlen, "%s: must have %u to %u entries", field, min, max)
		           : sl__rerr(err, errlen, "%s: must have at most %u entries", field, max);
	*n = (unsigned)len;
	return 0;
}

int sl__json_array_get(struct json_object *o, const char *field, unsigned min, unsigned max, void *elems, size_t size,
                       unsigned *n, sl__json_get_fn get, char *err, size_t errlen)
{
	int rc = sl__json_array_check(o, field, min, max, n, err, errlen);
	for (unsigned i = 0; !rc && i < *n; i++)
		rc = get(json_object_array_get_idx(o, i), i, (char *)elems + i * size, err, errlen);
	return rc;
}

/* The first member of object o not in keys (NULL-terminated), or NULL. */
static const char *first_unknown(struct json_object *o, const char *const *keys)
{
	json_object_object_foreach(o, key, val)
	{
		(void)val;
		size_t i = 0;
		while (keys[i] && strcmp(keys[i], key) != 0)
			i++;
		if (!keys[i])
			return key;
	}
	return NULL;
}

int sl__json_known(struct json_object *o, const char *where, const char *const *keys, char *err, size_t errlen)
{
	const char *key = first_unknown(o, keys);
	if (key)
		return sl__rerr(err, errlen, "%s%s%s: unknown field", where, *where ? "." : "", key);
	return 0;
}

/* Whether the len - end bytes after the value at json + end are all JSON whitespace. */
static bool only_space(const char *json, size_t end, size_t len)
{
	while (end < len && json[end] && strchr(" \t\r\n", json[end]))
		end++;
	return end == len;
}

int sl__json_parse(const char *json, struct json_object **out, char *err, size_t errlen)
{
	return sl__json_parse_n(json, json ? strlen(json) : 0, "trailing characters after the value",
	                        "unexpected end of input", out, err, errlen);
}

int sl__json_parse_n(const char *json, size_t len, const char *trailing, const char *truncated,
                     struct json_object **out, char *err, size_t errlen)
{
	if (!json) {
		sl__rerr(err, errlen, "json: missing");
		return SL_EPARSE;
	}
	if (len > (1u << 24)) {
		sl__rerr(err, errlen, "json: longer than 16 MiB");
		return SL_ETOOBIG;
	}
	struct json_tokener *tok = json_tokener_new();
	if (!tok)
		return SL_ENOMEM;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	struct json_object *o = json_tokener_parse_ex(tok, json, (int)len);
	enum json_tokener_error jerr = json_tokener_get_error(tok);
	size_t end = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	if (jerr == json_tokener_success && only_space(json, end, len)) {
		*out = o;
		return 0;
	}
	json_object_put(o);
	sl__rerr(err, errlen, "json: %s",
	         jerr == json_tokener_success    ? trailing
	         : jerr == json_tokener_continue ? truncated
	                                         : json_tokener_error_desc(jerr));
	return SL_EPARSE;
}

void sl__json_path(char *out, const char *path, const char *key)
{
	snprintf(out, SL__JSON_PATH_CAP, "%s%s%s", path, *path ? "." : "", key);
}

void sl__json_path_at(char *out, const char *path, unsigned i)
{
	snprintf(out, SL__JSON_PATH_CAP, "%s[%u]", path, i);
}

int sl__json_object(struct json_object *o, const char *path, const char *const *keys, char *err, size_t errlen)
{
	char p[SL__JSON_PATH_CAP];
	if (!json_object_is_type(o, json_type_object))
		return sl__rerr(err, errlen, "%s: must be an object", *path ? path : "json");
	const char *key = first_unknown(o, keys);
	if (!key)
		return 0;
	sl__json_path(p, path, key);
	return sl__rerr(err, errlen, "%s: unknown field", p);
}

int sl__json_member_at(struct json_object *o, const char *key, const char *path, bool required, struct json_object **v,
                       char *name, char *err, size_t errlen)
{
	sl__json_path(name, path, key);
	if (json_object_object_get_ex(o, key, v) && *v)
		return 0;
	return required ? sl__rerr(err, errlen, "%s: missing", name) : 1;
}

int sl__json_str_at(struct json_object *o, const char *key, const char *path, bool required, char *out, size_t cap,
                    char *err, size_t errlen)
{
	char p[SL__JSON_PATH_CAP];
	struct json_object *v;
	const char *s = NULL;
	size_t n = 0;
	int rc = sl__json_member_at(o, key, path, required, &v, p, err, errlen);
	if (rc)
		return rc > 0 ? 0 : rc;
	if ((rc = sl__json_text(v, p, cap - 1, &s, &n, err, errlen)) == 0)
		memcpy(out, s, n + 1);
	return rc;
}

int sl__json_num_at(struct json_object *o, const char *key, const char *path, double lo, double hi, double *out,
                    char *err, size_t errlen)
{
	char p[SL__JSON_PATH_CAP];
	struct json_object *v;
	double x = 0;
	int rc = sl__json_member_at(o, key, path, false, &v, p, err, errlen);
	if (rc)
		return rc > 0 ? 0 : rc;
	if ((rc = sl__json_number(v, p, &x, err, errlen)))
		return rc;
	if (!(x >= lo))
		return sl__rerr(err, errlen, "%s: must be >= %g", p, lo);
	if (!(x <= hi))
		return sl__rerr(err, errlen, "%s: must be <= %g", p, hi);
	*out = x;
	return 0;
}

int sl__json_bool_at(struct json_object *o, const char *key, const char *path, bool *out, char *err, size_t errlen)
{
	char p[SL__JSON_PATH_CAP];
	struct json_object *v;
	int rc = sl__json_member_at(o, key, path, false, &v, p, err, errlen);
	if (rc)
		return rc > 0 ? 0 : rc;
	return sl__json_bool(v, p, out, err, errlen);
}

int sl__json_enum_at(struct json_object *o, const char *key, const char *path, const char *const *names, int *out,
                     char *err, size_t errlen)
{
	char p[SL__JSON_PATH_CAP], list[256] = "";
	struct json_object *v;
	int rc = sl__json_member_at(o, key, path, false, &v, p, err, errlen);
	if (rc)
		return rc > 0 ? 0 : rc;
	const char *s = json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
	for (int i = 0; s && names[i]; i++)
		if (strcmp(s, names[i]) == 0)
			return *out = i, 0;
	for (int i = 0; names[i]; i++)
		snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s", i ? ", " : "", names[i]);
	return sl__rerr(err, errlen, "%s: must be one of %s", p, list);
}
