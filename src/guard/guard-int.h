/* guard-int.h: helpers shared by the guard input-pipeline files, not part of the public API.
 * Invariants: no I/O; every function returns 0 or a negative SL_E* code; err, when given, is
 * always NUL-terminated. */
#ifndef SLUICE_GUARD_INT_H
#define SLUICE_GUARD_INT_H

#include <hs/hs.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "sluice/guard.h"

#ifndef SLUICE_SHARE_DIR
#define SLUICE_SHARE_DIR "share"
#endif

/* Writes the formatted message into err (when err != NULL and errlen > 0); returns rc. */
int sl__gerr(int rc, char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* normalize.c: appends the normalized form of text[0..len) to out (no views); tag characters'
 * ASCII goes to hidden (NULL: dropped). Stops cleanly at out's limit (SL_ETOOBIG). */
int sl__norm_text(struct sl_guard_norm *n, struct sl_buf *out, const char *text, size_t len, struct sl_buf *hidden);
/* collapse.c: the collapsed view of the normalized text s[0..len) into out (the stretches around
 * collapsed chains, '\n' between stretches, never longer than len); returns 1 when a chain was
 * collapsed (the view is worth adding), 0 when not, or a negative error. */
int sl__collapse(const char *s, size_t len, struct sl_buf *out);
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
static inline void sl__classify64(const unsigned char *s, size_t len, ptrdiff_t base, const unsigned char tab[256],
                                  unsigned nclass, uint64_t mask[SL__NCLASS])
{
	unsigned char tmp[64];
	const unsigned char *p = s + base;
	ptrdiff_t lo = base < 0 ? -base : 0, hi = (ptrdiff_t)len - base < 64 ? (ptrdiff_t)len - base : 64;
	if (lo > 0 || hi < 64) {
		memset(tmp, 0, sizeof(tmp));
		if (hi > lo)
			memcpy(tmp + lo, s + base + lo, (size_t)(hi - lo));
		p = tmp;
	}
	for (unsigned b = 0; b < nclass; b++)
		mask[b] = 0;
	for (unsigned j = 0; j < 64; j += 8) {
		uint64_t w = 0;
		for (unsigned k = 0; k < 8; k++)
			w |= (uint64_t)tab[p[j + k]] << (8 * k);
		for (unsigned b = 0; b < nclass; b++)
			mask[b] |= ((((w >> b) & SL__ONES) * 0x0102040810204080ull) >> 56) << j;
	}
	uint64_t valid = hi <= lo ? 0 : (hi - lo == 64 ? ~(uint64_t)0 : (((uint64_t)1 << (hi - lo)) - 1) << lo);
	for (unsigned b = 0; b < nclass; b++)
		mask[b] &= valid;
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
