/* normalize.c: the normalized buffer of a text: NFKC with case folding (utf8proc), default
 * ignorable characters dropped (zero-width, bidi controls, variation selectors), Unicode tag
 * characters read as the ASCII they hide, Latin accents stripped, Cyrillic and Greek look-alikes
 * mapped to Latin, then the extra views (collapsed letters, hidden text, decoded runs).
 * Invariants: output is valid UTF-8 whatever the input (invalid bytes become U+FFFD); the buffer
 * never exceeds 4 * len + SL_GUARD_NORM_SLACK; utf8proc sees at most ISLAND_MAX code points at
 * a time, so its work space stays small; ASCII takes a fast path that never calls utf8proc
 * (64 bytes at a time with AVX-512, chosen at run time, else 8 with 64-bit words; both give the
 * same bytes, tests/unit/guard/normalize.c). This file also holds the guard's CPU switch. */
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "guard-int.h"

#define ISLAND_MAX 256 /* code points per utf8proc round */
#define DECOMP_MAX 32  /* room kept free for one code point's decomposition */
#define NORM_OPTS (UTF8PROC_DECOMPOSE | UTF8PROC_COMPAT | UTF8PROC_CASEFOLD | UTF8PROC_IGNORE)

/* Case-folded Cyrillic and Greek letters that look like Latin ones (sorted by code point). */
static const struct {
	int32_t from;
	char to;
} homoglyphs[] = {
    {0x0131, 'i'}, {0x0237, 'j'}, {0x0251, 'a'}, {0x0261, 'g'}, {0x03b1, 'a'}, {0x03b2, 'b'}, {0x03b3, 'y'},
    {0x03b5, 'e'}, {0x03b6, 'z'}, {0x03b7, 'n'}, {0x03b9, 'i'}, {0x03ba, 'k'}, {0x03bd, 'v'}, {0x03bf, 'o'},
    {0x03c1, 'p'}, {0x03c4, 't'}, {0x03c5, 'u'}, {0x03c7, 'x'}, {0x0430, 'a'}, {0x0432, 'b'}, {0x0435, 'e'},
    {0x043a, 'k'}, {0x043c, 'm'}, {0x043d, 'h'}, {0x043e, 'o'}, {0x0440, 'p'}, {0x0441, 'c'}, {0x0442, 't'},
    {0x0443, 'y'}, {0x0445, 'x'}, {0x0451, 'e'}, {0x0455, 's'}, {0x0456, 'i'}, {0x0457, 'i'}, {0x0458, 'j'},
    {0x04bb, 'h'}, {0x04cf, 'l'}, {0x0501, 'd'}, {0x051b, 'q'}, {0x051d, 'w'},
};

static int32_t homoglyph(int32_t cp)
{
	size_t lo = 0, hi = sizeof(homoglyphs) / sizeof(homoglyphs[0]);
	if (cp < 0x0131 || cp > 0x051d)
		return cp;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (homoglyphs[mid].from == cp)
			return homoglyphs[mid].to;
		if (homoglyphs[mid].from < cp)
			lo = mid + 1;
		else
			hi = mid;
	}
	return cp;
}

static bool ascii_letter(int32_t c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static unsigned char ascii_map(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return (unsigned char)(c + 32);
	if ((c < 0x20 && c != '\n' && c != '\t') || c == 0x7f)
		return ' ';
	return c;
}

bool sl__avx512;

static bool cpu_avx512(void)
{
	__builtin_cpu_init(); /* needed before constructors have run */
	return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
	       __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl") &&
	       __builtin_cpu_supports("avx512vbmi");
}

__attribute__((constructor)) static void detect_cpu(void)
{
	sl__avx512 = cpu_avx512();
}

void sl__simd(bool on)
{
	sl__avx512 = on && cpu_avx512();
}

#define ONES 0x0101010101010101ull
#define HIGH 0x8080808080808080ull

/* Eight ASCII bytes folded at once: 'A'..'Z' get 0x20 added (each byte is below 0x80, so the
 * sums never carry into the next byte). Words holding a control character take ascii_map. */
static uint64_t fold8(uint64_t w)
{
	uint64_t upper = ((w + 0x3f * ONES) ^ (w + 0x25 * ONES)) & HIGH; /* byte >= 'A' xor byte > 'Z' */
	return w | upper >> 2;
}

static bool has_control8(uint64_t w)
{
	uint64_t del = w ^ (0x7f * ONES);
	return (((w - 0x20 * ONES) & ~w) | ((del - ONES) & ~del)) & HIGH;
}

/* Appends the ASCII bytes s[0..n) folded; as many as fit when out's limit is near. */
static int put_ascii(struct sl_buf *out, const unsigned char *s, size_t n)
{
	size_t room = out->limit - out->len, take = n < room ? n : room, i = 0;
	int rc = sl_buf_reserve(out, take);
	if (rc)
		return rc;
	char *d = out->data + out->len;
	for (; i + 8 <= take; i += 8) {
		uint64_t w;
		memcpy(&w, s + i, 8);
		if (has_control8(w)) {
			for (size_t k = i; k < i + 8; k++)
				d[k] = (char)ascii_map(s[k]);
			continue;
		}
		w = fold8(w);
		memcpy(d + i, &w, 8);
	}
	for (; i < take; i++)
		d[i] = (char)ascii_map(s[i]);
	out->len += take;
	out->data[out->len] = '\0';
	return take == n ? 0 : SL_ETOOBIG;
}

/* The length of the ASCII prefix of s[0..len), eight bytes at a time. */
static size_t ascii_prefix(const unsigned char *s, size_t len)
{
	size_t j = 0;
	for (; j + 8 <= len; j += 8) {
		uint64_t w;
		memcpy(&w, s + j, 8);
		if (w & HIGH)
			break;
	}
	while (j < len && s[j] < 0x80)
		j++;
	return j;
}

static int grow_u32(struct sl_guard_norm *n, size_t need)
{
	if (need <= n->u32cap)
		return 0;
	size_t cap = need < 2 * n->u32cap ? 2 * n->u32cap : need;
	int32_t *p = realloc(n->u32, cap * sizeof(*p));
	if (!p)
		return SL_ENOMEM;
	n->u32 = p;
	n->u32cap = cap;
	return 0;
}

/* Decomposes and folds cp onto n->u32[k..); returns the new length or a negative error. */
static ssize_t push_cp(struct sl_guard_norm *n, size_t k, int32_t cp)
{
	int bound = 0;
	for (;;) {
		if (grow_u32(n, k + DECOMP_MAX))
			return SL_ENOMEM;
		utf8proc_ssize_t r = utf8proc_decompose_char(cp, n->u32 + k, (utf8proc_ssize_t)(n->u32cap - k),
		                                             NORM_OPTS, &bound);
		if (r < 0)
			return (ssize_t)k; /* cannot happen for a valid code point: drop it */
		if ((size_t)r <= n->u32cap - k)
			return (ssize_t)(k + (size_t)r);
		if (grow_u32(n, k + (size_t)r))
			return SL_ENOMEM;
	}
}

/* Look-alikes to Latin, then combining marks that follow a Latin letter dropped. */
static size_t fold_latin(int32_t *u, size_t k)
{
	size_t w = 0;
	for (size_t i = 0; i < k; i++) {
		int32_t c = homoglyph(u[i]);
		if (w > 0 && ascii_letter(u[w - 1]) && utf8proc_category(c) == UTF8PROC_CATEGORY_MN)
			continue;
		u[w++] = c;
	}
	return w;
}

static int put_u32(struct sl_buf *out, const int32_t *u, size_t k)
{
	int rc = sl_buf_reserve(out, 4 * k);
	if (rc)
		return rc;
	for (size_t i = 0; i < k; i++)
		out->len += (size_t)utf8proc_encode_char(u[i], (utf8proc_uint8_t *)out->data + out->len);
	out->data[out->len] = '\0';
	return 0;
}

/* The code point at s[0..len) (U+FFFD for an invalid byte); returns the bytes it takes. */
static size_t next_cp(const unsigned char *s, size_t len, int32_t *cp)
{
	size_t k = sl_utf8_seq_len(s, len);
	if (k == 0) {
		*cp = 0xfffd;
		return 1;
	}
	utf8proc_iterate(s, (utf8proc_ssize_t)k, cp);
	return k;
}

static void hide(struct sl_buf *hidden, int32_t cp)
{
	char c = (char)(cp - 0xe0000);
	if (hidden && cp >= 0xe0020 && cp <= 0xe007e)
		(void)sl_buf_append(hidden, &c, 1); /* bounded by its limit; past it the rest is lost */
}

/* Normalizes the non-ASCII stretch starting at s[*pos] (possibly after one held Latin letter)
 * up to the next ASCII byte or ISLAND_MAX code points; advances *pos. */
static int island(struct sl_guard_norm *n, struct sl_buf *out, const unsigned char *s, size_t len, size_t *pos,
                  struct sl_buf *hidden)
{
	size_t i = *pos, k = 0, cps = 0;
	if (s[i] < 0x80) {
		ssize_t r = push_cp(n, k, s[i++]);
		if (r < 0)
			return (int)r;
		k = (size_t)r;
	}
	while (i < len && s[i] >= 0x80 && cps++ < ISLAND_MAX) {
		int32_t cp;
		i += next_cp(s + i, len - i, &cp);
		if (cp >= 0xe0000 && cp <= 0xe007f) {
			hide(hidden, cp);
			continue;
		}
		ssize_t r = push_cp(n, k, cp);
		if (r < 0)
			return (int)r;
		k = (size_t)r;
	}
	*pos = i;
	k = fold_latin(n->u32, k);
	utf8proc_ssize_t m = utf8proc_normalize_utf32(n->u32, (utf8proc_ssize_t)k, UTF8PROC_COMPOSE);
	if (m < 0)
		m = (utf8proc_ssize_t)k;
	return put_u32(out, n->u32, (size_t)m);
}

/* The ASCII prefix of s[0..n) folded as put_ascii folds it, written to d, 64 bytes at a time;
 * returns its length. */
SL__AVX512 static size_t ascii_avx512(const unsigned char *s, size_t n, char *d)
{
	const __m512i a = _mm512_set1_epi8('A'), z25 = _mm512_set1_epi8(25), sp = _mm512_set1_epi8(' ');
	for (size_t i = 0; i < n; i += 64) {
		bool full = n - i >= 64;
		__mmask64 live = full ? ~(__mmask64)0 : ((__mmask64)1 << (n - i)) - 1;
		__m512i x = full ? _mm512_loadu_si512(s + i) : _mm512_maskz_loadu_epi8(live, s + i);
		__mmask64 high = _mm512_movepi8_mask(x) & live;
		__mmask64 upper = _mm512_cmple_epu8_mask(_mm512_sub_epi8(x, a), z25);
		__mmask64 ctrl = (_mm512_cmplt_epu8_mask(x, sp) & ~_mm512_cmpeq_epi8_mask(x, _mm512_set1_epi8('\n')) &
		                  ~_mm512_cmpeq_epi8_mask(x, _mm512_set1_epi8('\t'))) |
		                 _mm512_cmpeq_epi8_mask(x, _mm512_set1_epi8(0x7f));
		__m512i y = _mm512_mask_blend_epi8(ctrl, _mm512_mask_add_epi8(x, upper, x, sp), sp);
		if (full && !high) { /* a masked store is slow: only for the last bytes */
			_mm512_storeu_si512(d + i, y);
			continue;
		}
		_mm512_mask_storeu_epi8(d + i, high ? live & ((high & -high) - 1) : live, y);
		if (high)
			return i + (size_t)__builtin_ctzll(high);
	}
	return n;
}

/* The ASCII run at s[*i..len) appended folded, but for a last letter followed by non-ASCII
 * (the island takes it, for the combining marks after it): put_ascii after ascii_prefix, in
 * one pass with AVX-512 when out has room for the rest of the text. */
static int ascii_run(struct sl_buf *out, const unsigned char *s, size_t len, size_t *i)
{
	size_t rest = len - *i;
	if (sl__simd_avx512() && rest <= out->limit - out->len) {
		int rc = sl_buf_reserve(out, rest);
		if (rc)
			return rc;
		size_t j = ascii_avx512(s + *i, rest, out->data + out->len);
		size_t end = j < rest && j > 0 && ascii_letter(s[*i + j - 1]) ? j - 1 : j;
		out->len += end;
		out->data[out->len] = '\0';
		*i += end;
		return 0;
	}
	size_t j = *i + ascii_prefix(s + *i, rest);
	size_t end = j < len && j > *i && ascii_letter(s[j - 1]) ? j - 1 : j;
	int rc = put_ascii(out, s + *i, end - *i);
	*i = end;
	return rc;
}

int sl__norm_text(struct sl_guard_norm *n, struct sl_buf *out, const char *text, size_t len, struct sl_buf *hidden)
{
	const unsigned char *s = (const unsigned char *)text;
	size_t i = 0;
	int rc = sl_buf_reserve(out, 0);
	while (!rc && i < len) {
		rc = ascii_run(out, s, len, &i);
		if (!rc && i < len)
			rc = island(n, out, s, len, &i, hidden);
	}
	return rc;
}
