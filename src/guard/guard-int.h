/* guard-int.h: helpers shared by the guard input-pipeline files, not part of the public API.
 * Invariants: no I/O; every function returns 0 or a negative SL_E* code; err, when given, is
 * always NUL-terminated. */
#ifndef SLUICE_GUARD_INT_H
#define SLUICE_GUARD_INT_H

#include <hs/hs.h>
#include <stddef.h>

#include "sluice/guard.h"

#ifndef SLUICE_SHARE_DIR
#define SLUICE_SHARE_DIR "share"
#endif

/* Writes the formatted message into err (when err != NULL and errlen > 0); returns rc. */
int sl__gerr(int rc, char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* normalize.c: appends the normalized form of text[0..len) to out (no views); tag characters'
 * ASCII goes to hidden (NULL: dropped). Stops cleanly at out's limit (SL_ETOOBIG). */
int sl__norm_text(struct sl_guard_norm *n, struct sl_buf *out, const char *text, size_t len, struct sl_buf *hidden);
/* collapse.c: the collapsed view of the normalized text s[0..len) into out; returns 1 when a
 * chain was collapsed (the view is worth adding), 0 when not, or a negative error. */
int sl__collapse(const char *s, size_t len, struct sl_buf *out);
/* decode.c: calls fn for each encoded run of text[0..len) that decodes to printable text,
 * with the decoded bytes appended to dec at [off, off + n). Stops on the first error. */
typedef int (*sl__decoded_fn)(void *ctx, size_t off, size_t n);
int sl__find_encoded(const char *text, size_t len, struct sl_buf *dec, sl__decoded_fn fn, void *ctx);
/* The share of bytes of s[0..n) that are printable text (valid UTF-8, no C0 controls other
 * than whitespace) is at least 0.9 and n >= 8. */
bool sl__printable(const char *s, size_t n);

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
