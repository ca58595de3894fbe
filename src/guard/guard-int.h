/* guard-int.h: helpers shared by the guard input-pipeline files, not part of the public API.
 * Invariants: no I/O; every function returns 0 or a negative SL_E* code; err, when given, is
 * always NUL-terminated. */
#ifndef SLUICE_GUARD_INT_H
#define SLUICE_GUARD_INT_H

#include <hs/hs.h>
#include <immintrin.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "sluice/guard.h"

#ifndef SLUICE_SHARE_DIR
#define SLUICE_SHARE_DIR "share"
#endif

/* p clamped to [0, 1]; NaN counts as 0 (it compares false). */
static inline double sl__clamp01(double p)
{
	return p > 0 ? (p < 1 ? p : 1) : 0;
}

/* What one segment contributed to a verdict (scan.c): its risk, rule risk, classifier
 * probability (-1 without a scorer), the categories its rules fired, and its reasons in the
 * order the scan added them (segment fields are rewritten on replay). The memo keeps these. */
struct sl__gseg {
	double risk, r, p;
	unsigned categories, n;
	const struct sl_guard_reason *reasons;
};
/* memo.c, for scan.c. bind: 0 when the memo serves (rules, o), binding a fresh one, else
 * SL_EINVAL. get: the entry of seg, or NULL (then *hash is what put takes). put: keeps g for seg
 * when it fits (silently not when memory is short). */
int sl__memo_bind(struct sl_guard_memo *m, const void *rules, const void *o);
const struct sl__gseg *sl__memo_get(struct sl_guard_memo *m, const struct sl_guard_segment *seg, uint64_t *hash);
void sl__memo_put(struct sl_guard_memo *m, uint64_t hash, const struct sl_guard_segment *seg, const struct sl__gseg *g);

/* Writes the formatted message into err (when err != NULL and errlen > 0); returns rc. */
int sl__gerr(int rc, char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* normalize.c: appends the normalized form of text[0..len) to out (no views); tag characters'
 * ASCII goes to hidden (NULL: dropped). Stops cleanly at out's limit (SL_ETOOBIG). */
int sl__norm_text(struct sl_guard_norm *n, struct sl_buf *out, const char *text, size_t len, struct sl_buf *hidden);
/* collapse.c: the collapsed view of the normalized text s[0..len) into out (the stretches around
 * collapsed chains, '\n' between stretches, never longer than len); returns 1 when a chain was
 * collapsed (the view is worth adding), 0 when not, or a negative error. */
int sl__collapse(const char *s, size_t len, struct sl_buf *out);
/* Whether the chain search skips, from its masks alone, the joints that begin chains of two
 * tokens (which never collapse) rather than walking them; the output is the same either way
 * (tests compare the two). For tests and benchmarks: not to be flipped while other threads scan. */
extern bool sl__collapse_lone_filter;
/* decode.c: calls fn for each encoded run of text[0..len) that decodes to printable text,
 * with the decoded bytes appended to dec at [off, off + n). Stops on the first error. */
typedef int (*sl__decoded_fn)(void *ctx, size_t off, size_t n);
int sl__find_encoded(const char *text, size_t len, struct sl_buf *dec, sl__decoded_fn fn, void *ctx);
/* The share of bytes of s[0..n) that are printable text (valid UTF-8, no C0 controls other
 * than whitespace) is at least 0.9 and n >= 8. */
bool sl__printable(const char *s, size_t n);

/* Byte classes of 64 bytes at a time, without a branch per byte, used to skip the stretches of
 * text where no encoded run or split word can be: tab[c] holds up to SL__NCLASS class bits of
 * byte c; mask[b] (b < nclass <= SL__NCLASS) gets bit k set when byte base + k has class bit
 * b. The class bytes of eight bytes are gathered into one word, then each bit plane is packed
 * into 8 bits with one multiply. base may be negative; bytes outside [0, len) are in no class. */
#define SL__NCLASS 3
#define SL__ONES 0x0101010101010101ull

/* Vector paths: AVX-512 with VBMI (byte permutes), chosen at run time when the CPU has it (set
 * once at load time, normalize.c); the portable code gives the same results (tests compare the
 * two with sl__simd(false)). The switch is for tests and benchmarks: not to be flipped while
 * other threads scan. */
extern bool sl__avx512;
void sl__simd(bool on);
static inline bool sl__simd_avx512(void)
{
	return sl__avx512;
}

#define SL__AVX512 __attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,avx512vbmi")))

/* The class masks of the 64 bytes in x: tab looked up 128 entries at a time. */
SL__AVX512 static inline void sl__classify_vec_avx512(__m512i x, const unsigned char tab[256], unsigned nclass,
                                                      uint64_t mask[SL__NCLASS])
{
	__m512i lo = _mm512_permutex2var_epi8(_mm512_loadu_si512(tab), x, _mm512_loadu_si512(tab + 64));
	__m512i hi = _mm512_permutex2var_epi8(_mm512_loadu_si512(tab + 128), x, _mm512_loadu_si512(tab + 192));
	__m512i v = _mm512_mask_blend_epi8(_mm512_movepi8_mask(x), lo, hi);
	for (unsigned b = 0; b < nclass; b++)
		mask[b] = _mm512_test_epi8_mask(v, _mm512_set1_epi8((char)(1 << b)));
}

/* sl__classify64 for 64 bytes all inside the text. */
SL__AVX512 static inline void sl__classify64_avx512(const unsigned char *p, const unsigned char tab[256],
                                                    unsigned nclass, uint64_t mask[SL__NCLASS])
{
	sl__classify_vec_avx512(_mm512_loadu_si512(p), tab, nclass, mask);
}

/* sl__classify64 for a block at base >= -63 that holds at least one byte of the text, at an
 * edge of the text or not: the bytes inside read with a masked load (no byte outside the text
 * is touched), those outside given no class, as the portable code does. */
SL__AVX512 static inline void sl__classify64_edge_avx512(const unsigned char *s, size_t len, ptrdiff_t base,
                                                         const unsigned char tab[256], unsigned nclass,
                                                         uint64_t mask[SL__NCLASS])
{
	unsigned lo = base < 0 ? (unsigned)-base : 0;
	size_t start = base < 0 ? 0 : (size_t)base, n = len - start < 64 - lo ? len - start : 64 - lo;
	__mmask64 live = n == 64 ? ~(__mmask64)0 : ((__mmask64)1 << n) - 1;
	sl__classify_vec_avx512(_mm512_maskz_loadu_epi8(live, s + start), tab, nclass, mask);
	for (unsigned b = 0; b < nclass; b++)
		mask[b] = (mask[b] & live) << lo;
}

/* The class bytes of a group of eight, tab[p[k - from]] at byte k for k in [from, to) and 0 for
 * the others, gathered into one word; each bit plane packed into 8 bits and or-ed into mask[b]
 * at bit j. */
static inline void sl__classify8(const unsigned char *p, unsigned from, unsigned to, const unsigned char tab[256],
                                 unsigned nclass, unsigned j, uint64_t mask[SL__NCLASS])
{
	uint64_t w = 0;
	if (from == 0 && to == 8)
		for (unsigned k = 0; k < 8; k++)
			w |= (uint64_t)tab[p[k]] << (8 * k);
	else
		for (unsigned k = from; k < to; k++)
			w |= (uint64_t)tab[p[k - from]] << (8 * k);
	for (unsigned b = 0; b < nclass; b++)
		mask[b] |= ((((w >> b) & SL__ONES) * 0x0102040810204080ull) >> 56) << j;
}

/* Only the groups of eight bytes that hold bytes of the text are looked up (a short text, or a
 * block at an edge of it, costs its own bytes, not 64 lookups and a copy), and no byte outside
 * [0, len) is read. */
static inline void sl__classify64(const unsigned char *s, size_t len, ptrdiff_t base, const unsigned char tab[256],
                                  unsigned nclass, uint64_t mask[SL__NCLASS])
{
	if (base >= 0 && (size_t)base + 64 <= len && sl__simd_avx512()) {
		sl__classify64_avx512(s + base, tab, nclass, mask);
		return;
	}
	ptrdiff_t lo = base < 0 ? -base : 0, hi = (ptrdiff_t)len - base < 64 ? (ptrdiff_t)len - base : 64;
	for (unsigned b = 0; b < nclass; b++)
		mask[b] = 0;
	for (ptrdiff_t j = lo & ~(ptrdiff_t)7; j < hi; j += 8) {
		unsigned from = j < lo ? (unsigned)(lo - j) : 0, to = hi - j < 8 ? (unsigned)(hi - j) : 8;
		sl__classify8(s + (base + j + (ptrdiff_t)from), from, to, tab, nclass, (unsigned)j, mask);
	}
}

/* rules.c */
struct sl__rule_src {
	unsigned file; /* index into the rules' file names */
	unsigned line;
};
struct sl_guard_rules {
	struct sl_guard_rule *rules;
	char **exprs;
	struct sl__rule_src *src;
	unsigned n, cap;
	char **files;
	unsigned nfiles;
	hs_database_t *db; /* NULL until compiled */
};
/* Adds one rule; takes a copy of expr. */
int sl__rules_push(struct sl_guard_rules *r, const struct sl_guard_rule *rule, const char *expr, size_t elen,
                   unsigned file, unsigned line);
int sl__rules_add_file_name(struct sl_guard_rules *r, const char *name, unsigned *idx);

#endif
