/* json_util.c: strict JSON reading and writing shared by the modules' JSON (rollout spec, state
 * and judgments; guard configuration sections):
 * members, arrays, and tables of scalar fields. Invariants: a getter writes *out only on
 * success; every error names the field; numbers are written in the shortest form that reads
 * back to the same double; a field table is read and written the same way everywhere. */
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

int sl__json_double(struct json_object *o, const char *field, double lo, double hi, double *out, char *err,
                    size_t errlen)
{
	if (!json_object_is_type(o, json_type_int) && !json_object_is_type(o, json_type_double))
		return sl__rerr(err, errlen, "%s: must be a number", field);
	double v = json_object_get_double(o);
	if (!(v >= lo && v <= hi))
		return sl__rerr(err, errlen, "%s: must be in [%g, %g]", field, lo, hi);
	*out = v;
	return 0;
}

int sl__json_string(struct json_object *o, const char *field, char *out, size_t cap, char *err, size_t errlen)
{
	if (!json_object_is_type(o, json_type_string))
		return sl__rerr(err, errlen, "%s: must be a string", field);
	size_t n = (size_t)json_object_get_string_len(o);
	const char *s = json_object_get_string(o);
	if (n >= cap || memchr(s, '\0', n))
		return sl__rerr(err, errlen, "%s: must be a string of at most %zu bytes without NUL", field, cap - 1);
	memcpy(out, s, n + 1);
	return 0;
}

int sl__json_member(struct json_object *o, const char *key, const char *field, struct json_object **v, char *err,
                    size_t errlen)
{
	return json_object_object_get_ex(o, key, v) ? 0 : sl__rerr(err, errlen, "%s: missing", field);
}

int sl__json_array_get(struct json_object *o, const char *field, unsigned min, unsigned max, void *elems, size_t size,
                       unsigned *n, sl__json_get_fn get, char *err, size_t errlen)
{
	if (!json_object_is_type(o, json_type_array))
		return sl__rerr(err, errlen, "%s: must be an array", field);
	size_t len = json_object_array_length(o);
	if (len < min || len > max)
		return min ? sl__rerr(err, errlen, "%s: must have %u to %u entries", field, min, max)
		           : sl__rerr(err, errlen, "%s: must have at most %u entries", field, max);
	*n = (unsigned)len;
	int rc = 0;
	for (unsigned i = 0; !rc && i < *n; i++)
		rc = get(json_object_array_get_idx(o, i), i, (char *)elems + i * size, err, errlen);
	return rc;
}

int sl__json_known(struct json_object *o, const char *where, const char *const *keys, char *err, size_t errlen)
{
	json_object_object_foreach(o, key, val)
	{
		(void)val;
		size_t i = 0;
		while (keys[i] && strcmp(keys[i], key) != 0)
			i++;
		if (!keys[i])
			return sl__rerr(err, errlen, "%s%s%s: unknown field", where, *where ? "." : "", key);
	}
	return 0;
}

int sl__json_parse(const char *json, struct json_object **out, char *err, size_t errlen)
{
	if (!json) {
		sl__rerr(err, errlen, "json: missing");
		return SL_EPARSE;
	}
	size_t len = strlen(json);
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
	if (jerr == json_tokener_success && strspn(json + end, " \t\r\n") == len - end) {
		*out = o;
		return 0;
	}
	json_object_put(o);
	sl__rerr(err, errlen, "json: %s",
	         jerr == json_tokener_success    ? "trailing characters after the value"
	         : jerr == json_tokener_continue ? "unexpected end of input"
	                                         : json_tokener_error_desc(jerr));
	return SL_EPARSE;
}
