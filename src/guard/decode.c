/* decode.c: base64, hex and %-encoding decoders, and the search for encoded runs of at least
 * SL_GUARD_DECODE_MIN bytes whose decoding is printable text (an image in base64 decodes to
 * binary and is left alone). Invariants: a decoder appends only on success; decoded output is
 * never longer than its input; the search is linear in the text. */
#include <string.h>

#include "guard-int.h"

/* Base64 digit values plus one (0: not a digit), standard and URL-safe alphabets. */
static const unsigned char b64tab[256] = {
    ['A' ... 'Z'] = 1, ['a' ... 'z'] = 27, ['0' ... '9'] = 53, ['+'] = 63, ['-'] = 63, ['/'] = 64, ['_'] = 64,
};
/* Bytes that may appear in a URL run: printable ASCII except quotes and brackets. */
static const bool urltab[256] = {
    ['!'] = true,         ['#' ... '&'] = true, ['*' ... ';'] = true, ['='] = true, ['?' ... 'Z'] = true,
    ['\\'] = true,        ['^' ... '_'] = true, ['a' ... 'z'] = true, ['|'] = true, ['~'] = true,
};

static int b64val(unsigned char c)
{
	unsigned char v = b64tab[c];
	if (v == 0)
		return -1;
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	return v - 1;
}

static int hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

int sl_guard_decode_base64(const char *in, size_t n, struct sl_buf *out)
{
	const unsigned char *s = (const unsigned char *)in;
	while (n > 0 && s[n - 1] == '=' && n % 4 != 1)
		n--;
	if (n % 4 == 1)
		return SL_EPARSE;
	int rc = sl_buf_reserve(out, n / 4 * 3 + 3);
	if (rc)
		return rc;
	unsigned char *d = (unsigned char *)out->data + out->len;
	size_t w = 0;
	uint32_t acc = 0;
	for (size_t i = 0; i < n; i++) {
		int v = b64val(s[i]);
		if (v < 0)
			return SL_EPARSE;
		acc = acc << 6 | (uint32_t)v;
		if (i % 4 == 3) {
			d[w++] = (unsigned char)(acc >> 16);
			d[w++] = (unsigned char)(acc >> 8);
			d[w++] = (unsigned char)acc;
			acc = 0;
		}
	}
	if (n % 4 == 2)
		d[w++] = (unsigned char)(acc >> 4);
	else if (n % 4 == 3) {
		d[w++] = (unsigned char)(acc >> 10);
		d[w++] = (unsigned char)(acc >> 2);
	}
	out->len += w;
	out->data[out->len] = '\0';
	return 0;
}

int sl_guard_decode_hex(const char *in, size_t n, struct sl_buf *out)
{
	const unsigned char *s = (const unsigned char *)in;
	if (n % 2)
		return SL_EPARSE;
	for (size_t i = 0; i < n; i++)
		if (hexval(s[i]) < 0)
			return SL_EPARSE;
	int rc = sl_buf_reserve(out, n / 2);
	if (rc)
		return rc;
	for (size_t i = 0; i < n; i += 2)
		out->data[out->len++] = (char)(hexval(s[i]) << 4 | hexval(s[i + 1]));
	out->data[out->len] = '\0';
	return 0;
}

static bool is_escape(const unsigned char *s, size_t n, size_t i)
{
	return s[i] == '%' && i + 2 < n && hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0;
}

int sl_guard_decode_url(const char *in, size_t n, struct sl_buf *out)
{
	const unsigned char *s = (const unsigned char *)in;
	size_t escapes = 0;
	for (size_t i = 0; i + 2 < n; i++)
		escapes += is_escape(s, n, i);
	if (escapes == 0)
		return SL_EPARSE;
	int rc = sl_buf_reserve(out, n);
	if (rc)
		return rc;
	for (size_t i = 0; i < n; i++) {
		char c = (char)s[i];
		if (is_escape(s, n, i)) {
			c = (char)(hexval(s[i + 1]) << 4 | hexval(s[i + 2]));
			i += 2;
		} else if (c == '+')
			c = ' ';
		out->data[out->len++] = c;
	}
	out->data[out->len] = '\0';
	return 0;
}

/* Stops at the first byte that makes the share of bad bytes (i - good) exceed a tenth, since
 * good can then no longer reach nine tenths: most decoded runs that are not text (long words
 * and identifiers read as base64) are told in a few bytes. */
bool sl__printable(const char *p, size_t n)
{
	const unsigned char *s = (const unsigned char *)p;
	size_t good = 0;
	if (n < 8)
		return false;
	for (size_t i = 0; i < n;) {
		size_t k = s[i] < 0x80 ? 1 : sl_utf8_seq_len(s + i, n - i);
		if (k == 0)
			k = 1;
		else if (k > 1 || (s[i] >= 0x20 && s[i] < 0x7f) || s[i] == '\n' || s[i] == '\t' || s[i] == '\r')
			good += k;
		i += k;
		if ((i - good) * 10 > n)
			return false;
	}
	return good * 10 >= n * 9;
}

typedef int (*decoder_fn)(const char *in, size_t n, struct sl_buf *out);

/* Decodes in[0..n) with dec; keeps the result and calls fn only when it is printable. */
static int try_decode(decoder_fn dec, const char *in, size_t n, struct sl_buf *out, sl__decoded_fn fn, void *ctx)
{
	size_t off = out->len;
	int rc = dec(in, n, out);
	if (rc == SL_EPARSE)
		return 0;
	if (rc)
		return rc;
	if (sl__printable(out->data + off, out->len - off))
		return fn(ctx, off, out->len - off);
	out->len = off;
	out->data[off] = '\0';
	return 0;
}

static bool b64body(unsigned char c)
{
	return b64tab[c] != 0;
}

static bool all_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (hexval((unsigned char)s[i]) < 0)
			return false;
	return true;
}

/* Class bit 0: bytes a base64 or hex run may hold (digits of either alphabet, '='). */
static const unsigned char runtab[256] = {
    ['A' ... 'Z'] = 1, ['a' ... 'z'] = 1, ['0' ... '9'] = 1, ['+'] = 1, ['-'] = 1, ['/'] = 1, ['_'] = 1, ['='] = 1,
};

/* The first position at or after i where SL_GUARD_DECODE_MIN bytes in a row could be in a
 * run, or len. Per block of 64 bytes: bit k of m says whether byte k may be in a run; and-ing
 * m with itself shifted by 1, 2, 4 and 8 leaves bit k set when bytes k..k+15 all may, which is
 * known for k <= 48 (the next block starts there). Text holds such rows rarely (long
 * identifiers, paths, encoded data). Compiled for AVX-512: the classification is inlined, the
 * text's last block read with a masked load; the portable path is candidate_probe. */
SL__AVX512 static size_t candidate_avx512(const unsigned char *s, size_t len, size_t i)
{
	_Static_assert(SL_GUARD_DECODE_MIN == 16, "the shifts below find rows of 16");
	while (len - i >= SL_GUARD_DECODE_MIN) {
		size_t n = len - i < 64 ? len - i : 64, valid = n - SL_GUARD_DECODE_MIN + 1;
		uint64_t cls[SL__NCLASS];
		if (n == 64)
			sl__classify64_avx512(s + i, runtab, 1, cls);
		else /* the last block of the text: a masked load */
			sl__classify64_edge_avx512(s, len, (ptrdiff_t)i, runtab, 1, cls);
		uint64_t m = cls[0];
		m &= m >> 1;
		m &= m >> 2;
		m &= m >> 4;
		m &= m >> 8;
		m &= ((uint64_t)1 << valid) - 1;
		if (m)
			return i + (size_t)__builtin_ctzll(m);
		i += valid;
	}
	return len;
}

/* candidate_avx512 without vectors, for the portable path: the same answer from one byte in 16.
 * Every row of SL_GUARD_DECODE_MIN bytes holds the probe p or a byte before it that was ruled
 * out, so while no row was found, none starts at or before p - MIN (the invariant): a probe
 * byte that may not be in a run rules out the rows through it (next probe MIN on); one that may
 * is measured, back to r (not before i: the run before r ended there) and on to e; a run of at
 * least MIN bytes starts the first row, at r (a row starting before r holds r - 1, or starts
 * before i); a shorter one rules out every row through e. Prose costs a probe and a short
 * word per 16 bytes, about a third of classifying every byte; each byte is read at most twice
 * (measuring goes back no further than the last run's end). */
static size_t candidate_probe(const unsigned char *s, size_t len, size_t i)
{
	for (size_t p = i + SL_GUARD_DECODE_MIN - 1; p < len;) {
		if (!runtab[s[p]]) {
			p += SL_GUARD_DECODE_MIN;
			continue;
		}
		size_t r = p, e = p + 1;
		while (r > i && runtab[s[r - 1]])
			r--;
		while (e < len && runtab[s[e]])
			e++;
		if (e - r >= SL_GUARD_DECODE_MIN)
			return r;
		p = e + SL_GUARD_DECODE_MIN;
	}
	return len;
}

static size_t next_candidate(const unsigned char *s, size_t len, size_t i)
{
	return sl__simd_avx512() ? candidate_avx512(s, len, i) : candidate_probe(s, len, i);
}

/* Runs of the base64 alphabet (at most two '=' closing them): hex when all hex digits. */
static int b64_runs(const char *text, size_t len, struct sl_buf *dec, sl__decoded_fn fn, void *ctx)
{
	const unsigned char *s = (const unsigned char *)text;
	int rc = 0;
	for (size_t i = next_candidate(s, len, 0); !rc && i < len; i = next_candidate(s, len, i)) {
		if (!b64body(s[i])) {
			i++;
			continue;
		}
		size_t j = i;
		while (j < len && b64body(s[j]))
			j++;
		for (int pad = 0; pad < 2 && j < len && s[j] == '='; pad++)
			j++;
		if (j - i >= SL_GUARD_DECODE_MIN) {
			bool hex = all_hex(text + i, j - i) && (j - i) % 2 == 0;
			rc = try_decode(hex ? sl_guard_decode_hex : sl_guard_decode_base64, text + i, j - i, dec, fn, ctx);
		}
		i = j;
	}
	return rc;
}

static bool url_char(unsigned char c)
{
	return urltab[c];
}

/* Runs of URL characters holding a %XX escape, each decoded whole once: found from their
 * escapes (memchr for '%'), so text without escapes costs one memchr. */
static int url_runs(const char *text, size_t len, struct sl_buf *dec, sl__decoded_fn fn, void *ctx)
{
	const unsigned char *s = (const unsigned char *)text;
	size_t pos = 0, from = 0; /* next '%' looked for from pos; runs taken start at from or later */
	int rc = 0;
	while (!rc && pos < len) {
		const unsigned char *pct = memchr(s + pos, '%', len - pos);
		if (!pct)
			break;
		size_t q = (size_t)(pct - s), start = q, end = q + 1;
		if (!is_escape(s, len, q)) {
			pos = q + 1;
			continue;
		}
		while (start > from && url_char(s[start - 1]))
			start--;
		while (end < len && url_char(s[end]))
			end++;
		if (end - start >= SL_GUARD_DECODE_MIN)
			rc = try_decode(sl_guard_decode_url, text + start, end - start, dec, fn, ctx);
		pos = from = end + 1;
	}
	return rc;
}

/* A text shorter than SL_GUARD_DECODE_MIN holds no run: b64_runs decodes only j - i >= MIN and
 * url_runs only end - start >= MIN, with 0 <= i < j <= len and 0 <= start < end <= len; so the
 * searches (and their set-up) are skipped, which is most of the cost of a short prompt's. */
int sl__find_encoded(const char *text, size_t len, struct sl_buf *dec, sl__decoded_fn fn, void *ctx)
{
	if (len < SL_GUARD_DECODE_MIN)
		return 0;
	int rc = b64_runs(text, len, dec, fn, ctx);
	return rc ? rc : url_runs(text, len, dec, fn, ctx);
}
