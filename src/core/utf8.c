/* utf8.c: UTF-8-safe escaping for JSON strings and Prometheus label values, and the
 * sanitizer that turns untrusted strings into bounded, valid UTF-8 (metrics label keys).
 * Invariant: output is always well-formed UTF-8 (RFC 3629: no overlongs, no surrogates,
 * nothing above U+10FFFF); each byte that does not start a well-formed sequence becomes
 * U+FFFD on its own. */
#include <string.h>

#include "sluice/core.h"

static void rewind_to(struct sl_buf *b, size_t len)
{
	if (b->data) {
		b->len = len;
		b->data[len] = '\0';
	}
}

static const char replacement[] = "\xEF\xBF\xBD"; /* U+FFFD */

size_t sl_utf8_seq_len(const unsigned char *s, size_t n)
{
	unsigned c = s[0], lo = 0x80, hi = 0xBF;
	size_t len;
	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF)
		len = 2;
	else if (c >= 0xE0 && c <= 0xEF)
		len = 3;
	else if (c >= 0xF0 && c <= 0xF4)
		len = 4;
	else
		return 0;
	if (c == 0xE0)
		lo = 0xA0; /* overlong */
	else if (c == 0xED)
		hi = 0x9F; /* surrogates */
	else if (c == 0xF0)
		lo = 0x90; /* overlong */
	else if (c == 0xF4)
		hi = 0x8F; /* above U+10FFFF */
	if (n < len || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if ((s[i] & 0xC0) != 0x80)
			return 0;
	return len;
}

/* ASCII is copied byte by byte without decoding: the common case on the data path. A NUL-terminated
 * string is safe to decode with n = 4: the terminator fails the continuation check first. */
size_t sl_utf8_sanitize(char *dst, size_t cap, const char *src)
{
	const unsigned char *s = (const unsigned char *)(src ? src : "");
	size_t out = 0;
	while (*s && out < cap - 1) {
		if (*s < 0x80) {
			dst[out++] = (char)*s++;
			continue;
		}
		size_t len = sl_utf8_seq_len(s, 4);
		if (out + (len ? len : 3) > cap - 1)
			break;
		memcpy(dst + out, len ? (const void *)s : replacement, len ? len : 3);
		out += len ? len : 3;
		s += len ? len : 1;
	}
	dst[out] = '\0';
	return out;
}

/* Writes the escape for ASCII byte c into esc and returns its length, or 0 if c goes as is. */
typedef size_t (*escape_fn)(unsigned char c, char esc[8]);

static size_t json_escape(unsigned char c, char esc[8])
{
	static const char hex[] = "0123456789abcdef";
	static const char named[] = {
	    ['"'] = '"', ['\\'] = '\\', ['\n'] = 'n', ['\r'] = 'r', ['\t'] = 't', ['\b'] = 'b', ['\f'] = 'f'};
	if (c < sizeof(named) && named[c]) {
		esc[0] = '\\';
		esc[1] = named[c];
		return 2;
	}
	if (c >= 0x20)
		return 0;
	memcpy(esc, "\\u00", 4);
	esc[4] = hex[c >> 4];
	esc[5] = hex[c & 15];
	return 6;
}

static size_t prom_escape(unsigned char c, char esc[8])
{
	if (c != '\\' && c != '"' && c != '\n')
		return 0;
	esc[0] = '\\';
	esc[1] = c == '\n' ? 'n' : (char)c;
	return 2;
}

/* Appends s[0..n) with ASCII bytes escaped by fn and invalid UTF-8 replaced; copies runs of
 * bytes that need no change in one append. */
static int escape_utf8(struct sl_buf *b, const char *str, size_t n, escape_fn fn)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t run = 0, i = 0;
	int rc = sl_buf_reserve(b, n);
	while (rc == 0 && i < n) {
		char esc[8];
		size_t len = sl_utf8_seq_len(s + i, n - i), elen = 0;
		if (len == 1)
			elen = fn(s[i], esc);
		if (len && !elen) {
			i += len;
			continue;
		}
		rc = sl_buf_append(b, s + run, i - run);
		if (rc == 0)
			rc = len ? sl_buf_append(b, esc, elen) : sl_buf_append(b, replacement, 3);
		i++;
		run = i;
	}
	return rc ? rc : sl_buf_append(b, s + run, n - run);
}

int sl_buf_json_str(struct sl_buf *b, const char *s, size_t n)
{
	size_t start = b->len;
	int rc = sl_buf_append(b, "\"", 1);
	if (rc == 0)
		rc = escape_utf8(b, s, n, json_escape);
	if (rc == 0)
		rc = sl_buf_append(b, "\"", 1);
	if (rc)
		rewind_to(b, start);
	return rc;
}

int sl_buf_prom_label(struct sl_buf *b, const char *s, size_t n)
{
	size_t start = b->len;
	int rc = escape_utf8(b, s, n, prom_escape);
	if (rc)
		rewind_to(b, start);
	return rc;
}

bool sl_utf8_valid(const char *s, size_t n)
{
	for (size_t i = 0, k; i < n; i += k)
		if (!(k = sl_utf8_seq_len((const unsigned char *)s + i, n - i)))
			return false;
	return true;
}
