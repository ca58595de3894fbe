/* json_lex.c: the lexical pieces of strict JSON (RFC 8259) read in place, without building a
 * tree: strings (escapes decoded, \uXXXX as UTF-8, a surrogate pair joined, a lone surrogate as
 * U+FFFD) and numbers. Shared by the JSON Lines table reader (src/drift/table_jsonl.c) and the
 * streamed-chunk scanner (src/openai/chunk.c).
 * Invariants: never reads at or past e; a string without escapes is returned as a slice of the
 * input (nothing copied), one with escapes decoded into the caller's buffer. */
#include <string.h>

#include "json-int.h"

static int hex4(const char *s, const char *e, unsigned *out)
{
	unsigned v = 0;
	if (e - s < 4)
		return -1;
	for (int i = 0; i < 4; i++) {
		char c = s[i];
		unsigned d = c >= '0' && c <= '9'                 ? (unsigned)(c - '0')
		             : (c | 32) >= 'a' && (c | 32) <= 'f' ? (unsigned)((c | 32) - 'a' + 10)
		                                                  : 16;
		if (d == 16)
			return -1;
		v = v * 16 + d;
	}
	*out = v;
	return 0;
}

static int put_utf8(struct sl_buf *b, unsigned cp)
{
	char u[4];
	size_t n;
	if (!b)
		return 0;
	if (cp < 0x80)
		u[0] = (char)cp, n = 1;
	else if (cp < 0x800)
		u[0] = (char)(0xC0 | cp >> 6), u[1] = (char)(0x80 | (cp & 0x3F)), n = 2;
	else if (cp < 0x10000)
		u[0] = (char)(0xE0 | cp >> 12), u[1] = (char)(0x80 | ((cp >> 6) & 0x3F)),
		u[2] = (char)(0x80 | (cp & 0x3F)), n = 3;
	else
		u[0] = (char)(0xF0 | cp >> 18), u[1] = (char)(0x80 | ((cp >> 12) & 0x3F)),
		u[2] = (char)(0x80 | ((cp >> 6) & 0x3F)), u[3] = (char)(0x80 | (cp & 0x3F)), n = 4;
	return sl_buf_append(b, u, n);
}

/* \uXXXX at s (after the backslash and 'u'), a surrogate pair joined; *s moves past it. */
static int unicode(const char **s, const char *e, struct sl_buf *b)
{
	unsigned cp, lo;
	if (hex4(*s, e, &cp))
		return SL_EPARSE;
	*s += 4;
	if (cp >= 0xD800 && cp < 0xDC00 && e - *s >= 6 && (*s)[0] == '\\' && (*s)[1] == 'u' &&
	    hex4(*s + 2, e, &lo) == 0 && lo >= 0xDC00 && lo < 0xE000) {
		cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
		*s += 6;
	} else if (cp >= 0xD800 && cp < 0xE000) {
		cp = 0xFFFD;
	}
	return put_utf8(b, cp);
}

static int escape(const char **s, const char *e, struct sl_buf *b)
{
	static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
	if (*s >= e)
		return SL_EPARSE;
	char c = *(*s)++;
	if (c == 'u')
		return unicode(s, e, b);
	const char *k = memchr(from, c, sizeof from - 1);
	return !k ? SL_EPARSE : b ? sl_buf_append(b, &to[k - from], 1) : 0;
}

int sl__json_str_read(const char *s, const char *e, struct sl_buf *b, struct sl__json_str *out, const char **why)
{
	const char *start = ++s;
	bool esc = false;
	for (; s < e && *s != '"'; s++) {
		if ((unsigned char)*s < 0x20)
			return *why = "control character in a string", SL_EPARSE;
		if (*s == '\\' && s + 1 < e)
			esc = true, s++; /* the escaped character cannot end the string */
	}
	if (s >= e)
		return *why = "unterminated string", SL_EPARSE;
	out->end = s + 1;
	out->escaped = esc;
	out->v = start, out->n = (size_t)(s - start);
	if (!esc)
		return 0;
	if (b)
		sl_buf_reset(b);
	for (const char *t = start; t < s;) {
		int rc = *t == '\\' ? (t++, escape(&t, s, b)) : b ? sl_buf_append(b, t++, 1) : (t++, 0);
		if (rc)
			return *why = "invalid escape in a string", rc;
	}
	if (b)
		out->v = b->data, out->n = b->len;
	return 0;
}

static size_t digits(const char *s, const char *e)
{
	size_t n = 0;
	while (s + n < e && s[n] >= '0' && s[n] <= '9')
		n++;
	return n;
}

size_t sl__json_num_len(const char *s, const char *e)
{
	const char *p = s;
	p += p < e && *p == '-';
	size_t d = digits(p, e);
	if (d == 0 || (d > 1 && *p == '0'))
		return 0;
	p += d;
	if (p < e && *p == '.') {
		if ((d = digits(++p, e)) == 0)
			return 0;
		p += d;
	}
	if (p < e && (*p == 'e' || *p == 'E')) {
		p++;
		p += p < e && (*p == '+' || *p == '-');
		if ((d = digits(p, e)) == 0)
			return 0;
		p += d;
	}
	return (size_t)(p - s);
}
