/* json-int.h: strict JSON reading and writing shared by the modules' configuration parsers (the
 * rollout spec, state and judgments; the guard's input, output and agents sections; the
 * experiment spec and event body): members, members named by their path, arrays and tables of
 * scalar fields. Private to libsluice, not part of the public API.
 * Invariants: no allocation except through the sl_buf given; errors are SL_EINVAL (SL_EPARSE for
 * bad JSON) with a message "field: problem" written into err (truncated to errlen, always
 * NUL-terminated); a getter writes *out only on success; a getter by path treats an absent or
 * null optional member as absent (returns 0, *out untouched). */
#ifndef SLUICE_CORE_JSON_INT_H
#define SLUICE_CORE_JSON_INT_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sluice/core.h"

/* Writes the formatted message into err (when err != NULL) and returns SL_EINVAL. */
int sl__rerr(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* JSON input read in place (json_lex.c). A string token: its text and where it ends. */
struct sl__json_str {
	const char *v; /* the text: a slice of the input, or the buffer's bytes when it had escapes */
	size_t n;
	const char *end; /* past the closing quote */
	bool escaped;    /* it had escapes */
};
/* Reads the string whose opening quote is at s (the input ends at e); escapes are decoded into
 * b (reset first, only when there are any). With b NULL the escapes are checked, not decoded,
 * and v, n are the raw text between the quotes. Returns 0, SL_EPARSE with *why ("unterminated
 * string", "control character in a string", "invalid escape in a string") or b's error. */
int sl__json_str_read(const char *s, const char *e, struct sl_buf *b, struct sl__json_str *out, const char **why);
/* The length of the number at s (RFC 8259: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?), or 0
 * when none starts there. */
size_t sl__json_num_len(const char *s, const char *e);

/* JSON output. A number with round-trip precision, or null when not finite. */
int sl__json_num(struct sl_buf *b, double v);
/* A member after the first: `,"key":` and the number, or the string s of at most cap bytes. */
int sl__json_num_field(struct sl_buf *b, const char *key, double v);
int sl__json_str_field(struct sl_buf *b, const char *key, const char *s, size_t cap);
/* The n elements of elems (size bytes each) as a JSON array, each written by put. */
typedef int (*sl__json_put_fn)(const void *elem, struct sl_buf *b);
int sl__json_array(struct sl_buf *b, const void *elems, size_t size, unsigned n, sl__json_put_fn put);

/* Scalar members described by a table, so that one description serves both directions. Keys are
 * the struct members' names. Ranges accepted on input: u64 [0, INT64_MAX], uint [0, UINT_MAX],
 * double [lo, hi], bool true or false. */
enum sl__jtype { SL__J_U64, SL__J_UINT, SL__J_DOUBLE, SL__J_BOOL };
struct sl__jfield {
	const char *key;
	enum sl__jtype type;
	size_t off; /* of the member in its struct */
	double lo, hi;
};
#define SL__JFIELD(T, type, member, lo, hi)                                                                            \
	{                                                                                                              \
#member, type, offsetof(T, member), lo, hi                                                             \
	}
/* Writes `,"key":value` for each of the n fields of the struct at base. */
int sl__json_put_fields(struct sl_buf *b, const struct sl__jfield *f, size_t n, const void *base);
/* Reads v into f's member of the struct at base (written only on success). */
int sl__json_get_field(const struct sl__jfield *f, struct json_object *v, void *base, char *err, size_t errlen);

/* Strict JSON input. Each getter checks the type of o (named `field` in errors) and range. */
int sl__json_bool(struct json_object *o, const char *field, bool *out, char *err, size_t errlen);
int sl__json_u64(struct json_object *o, const char *field, uint64_t max, uint64_t *out, char *err, size_t errlen);
int sl__json_double(struct json_object *o, const char *field, double lo, double hi, double *out, char *err,
                    size_t errlen);
/* Any number (integer or not), without a range. */
int sl__json_number(struct json_object *o, const char *field, double *out, char *err, size_t errlen);
/* A string copied into out[cap] (SL_EINVAL when longer). */
int sl__json_string(struct json_object *o, const char *field, char *out, size_t cap, char *err, size_t errlen);
/* A string of 1..max bytes without NUL, by reference into o (*s, *n). */
int sl__json_text(struct json_object *o, const char *field, size_t max, const char **s, size_t *n, char *err,
                  size_t errlen);
/* The member key of object o, which must be there ("field: missing" otherwise). */
int sl__json_member(struct json_object *o, const char *key, const char *field, struct json_object **v, char *err,
                    size_t errlen);
/* Array o (named field in errors) of min..max elements ("must have min to max entries", or
 * "at most max" when min is 0): sets *n. */
int sl__json_array_check(struct json_object *o, const char *field, unsigned min, unsigned max, unsigned *n, char *err,
                         size_t errlen);
/* Array o (named field in errors) of min..max elements: sets *n, then get(element i, i, elems
 * + i * size) for each, stopping at the first error. */
typedef int (*sl__json_get_fn)(struct json_object *o, unsigned i, void *elem, char *err, size_t errlen);
int sl__json_array_get(struct json_object *o, const char *field, unsigned min, unsigned max, void *elems, size_t size,
                       unsigned *n, sl__json_get_fn get, char *err, size_t errlen);
/* Fails naming the first member of object o not in keys (NULL-terminated). */
int sl__json_known(struct json_object *o, const char *where, const char *const *keys, char *err, size_t errlen);
/* Parses text into an object (strict, UTF-8 validated); SL_EPARSE with err on bad JSON. */
int sl__json_parse(const char *json, struct json_object **out, char *err, size_t errlen);
/* The same for len bytes of json (not necessarily NUL-terminated); trailing and truncated word
 * the errors for bytes after the value and for input ending inside it. */
int sl__json_parse_n(const char *json, size_t len, const char *trailing, const char *truncated,
                     struct json_object **out, char *err, size_t errlen);

/* Members named by their path, such as "experiments[2].metrics[0].kind", built on the stack as a
 * parser descends (SL__JSON_PATH_CAP bytes, truncated beyond). */
#define SL__JSON_PATH_CAP 128
/* path + "." + key (just key when path is empty); path + "[i]". */
void sl__json_path(char *out, const char *path, const char *key);
void sl__json_path_at(char *out, const char *path, unsigned i);
/* o must be an object (named path, or "json" at the top) whose members are all in keys
 * (NULL-terminated); an unknown one is named "path.key". */
int sl__json_object(struct json_object *o, const char *path, const char *const *keys, char *err, size_t errlen);
/* Member key of o with its path in name[SL__JSON_PATH_CAP]: 0 with *v set; absent or null: 1 when
 * optional, "path.key: missing" when required. */
int sl__json_member_at(struct json_object *o, const char *key, const char *path, bool required, struct json_object **v,
                       char *name, char *err, size_t errlen);
/* Getters by path: optional unless required is given. A string of 1..cap-1 bytes without NUL;
 * a number in [lo, hi] ("must be >= lo", "must be <= hi"); a boolean; one of names
 * (NULL-terminated) as its index ("must be one of a, b, c"). */
int sl__json_str_at(struct json_object *o, const char *key, const char *path, bool required, char *out, size_t cap,
                    char *err, size_t errlen);
int sl__json_num_at(struct json_object *o, const char *key, const char *path, double lo, double hi, double *out,
                    char *err, size_t errlen);
int sl__json_bool_at(struct json_object *o, const char *key, const char *path, bool *out, char *err, size_t errlen);
int sl__json_enum_at(struct json_object *o, const char *key, const char *path, const char *const *names, int *out,
                     char *err, size_t errlen);

#endif
