/* output-int.h: the output checker's state, shared by output.c (window, release, findings),
 * output_scan.c (canaries, secrets, URLs), output_url.c (URL and host parsing) and
 * output_leak.c (system prompt shingles). Not part of the public API.
 *
 * Invariants: win[0..wlen) holds answer bytes from offset `base` on; win[0, head) is released,
 * win[head, wlen) is not; head <= scan; every start position before `scan` has been checked (with GOUT_LOOK bytes after it in
 * view, or at the end of the answer); mask[i] != 0 marks win[i] for redaction (only with the
 * redact action); pending leak findings are committed in the order of their `at`, when the
 * scanner reaches it, so findings come out in an order that does not depend on the splits. */
#ifndef SLUICE_GUARD_OUTPUT_INT_H
#define SLUICE_GUARD_OUTPUT_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sluice/guard_output.h"

#define GOUT_LOOK (SL_GOUT_HOLD - 4) /* bytes in view after a start position before it is checked */
#define GOUT_PIECE 4096              /* input taken per round */
#define GOUT_WIN (GOUT_PIECE + SL_GOUT_HOLD)
#define GOUT_MAX_PENDING 4 /* leak findings waiting for the scanner: at most 2 (one per rule) */

/* Byte classes (bits of sl__gout_class[c]). */
enum {
	GC_ALNUM = 1,  /* [A-Za-z0-9] */
	GC_UPDIG = 2,  /* [A-Z0-9] */
	GC_KEY = 4,    /* [A-Za-z0-9_-] */
	GC_ALDASH = 8, /* [A-Za-z0-9-] */
	GC_ALUS = 16,  /* [A-Za-z0-9_] */
	GC_URLEND = 32, /* ends a URL: white space, controls, ( ) < > " ' ` */
	GC_WORD = 64,  /* word byte for shingles: [A-Za-z0-9] and every byte >= 0x80 */
};
extern const unsigned char sl__gout_class[256];

/* What the scanner is extending past the last checked position: a key's body, a private key block. */
enum gout_cont { GOUT_CONT_NONE, GOUT_CONT_CLASS, GOUT_CONT_KEY };

struct gout_pending {
	uint64_t at; /* commit when the scanner reaches this offset */
	struct sl_gout_finding f;
};

/* Shingles of the system prompt and the answer's word stream (output_leak.c). */
struct gout_leak {
	uint64_t *set;     /* open addressing, 0 = empty; cap is a power of two */
	unsigned char *seen;
	size_t cap, n, nseen;
	uint64_t ring[SL_GOUT_SHINGLE_WORDS], starts[SL_GOUT_SHINGLE_WORDS];
	uint64_t nwords, h, wstart;
	uint64_t roll, pw; /* rolling hash of the last W words; ROLL_P^W */
	bool inword, share_done, run_done;
	unsigned run;
	uint64_t run_start, masked_to;
	/* A copy of the prompt the set was built from (NULL: none kept): a checker reset for an
	 * answer to the same prompt (an application's fixed system prompt) reuses the set. */
	char *prompt;
	size_t plen;
};

struct sl_guard_output {
	const struct sl_guard_output_spec *spec;
	unsigned char trig[256]; /* GT_* bits: which checks may start at this byte */
	size_t wlen, scan, head;
	uint64_t base;
	unsigned char prev; /* the byte before win[0] ('\n' at the start) */
	unsigned char clen[SL_GOUT_MAX_CANARIES]; /* canary lengths */
	bool img_bracket;   /* the last '[' opened an image ("![") */
	bool ref_bracket;   /* the last '[' began a line (reference definitions) */
	enum gout_cont cont;
	unsigned char cont_class; /* GC_* bit of the key body for GOUT_CONT_CLASS */
	bool out_masked;          /* the last byte released was redacted */
	bool tail;                /* an offending URL goes on: mask arriving bytes up to its end */
	bool stopped;
	uint64_t stop_at;
	bool leak_on;
	struct gout_leak leak;
	unsigned npend;
	struct gout_pending pend[GOUT_MAX_PENDING];
	size_t nfind;
	uint64_t total;
	/* From here on nothing is zeroed at creation (a checker is made per request): find[i] is
	 * written before i < nfind, win and mask up to wlen. */
	struct sl_gout_finding find[SL_GOUT_MAX_FINDINGS];
	char win[GOUT_WIN];
	unsigned char mask[GOUT_WIN];
};

enum { GT_CANARY = 1, GT_SECRET = 2, GT_URL = 4 };

/* output.c */
/* Records a finding over win[from, to) found now by the scanner: masks it (redact), stops the
 * stream at it (block). detail is printf-formatted. */
void sl__gout_hit(struct sl_guard_output *g, enum sl_gout_kind kind, size_t from, size_t to, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
/* A finding over answer bytes [off, off + len) to be committed when the scanner reaches `at`. */
void sl__gout_defer(struct sl_guard_output *g, enum sl_gout_kind kind, uint64_t off, uint64_t len, uint64_t at,
                    const char *detail);
/* Marks answer bytes [from, to) (offsets; the part already released is skipped) for redaction. */
void sl__gout_mask_abs(struct sl_guard_output *g, uint64_t from, uint64_t to);
static inline void sl__gout_mask(struct sl_guard_output *g, size_t from, size_t to)
{
	if (g->spec->action == SL_GOUT_REDACT && to > from)
		for (size_t i = from; i < to; i++)
			g->mask[i] = 1;
}

/* output_scan.c: the trigger table, and one round of scanning (final = the answer ended). */
void sl__gout_scan_init(struct sl_guard_output *g);
void sl__gout_scan(struct sl_guard_output *g, bool final);
/* Masks win[from, ...) up to the end of the URL in progress; clears g->tail when it ends. */
void sl__gout_tail(struct sl_guard_output *g, size_t from);

/* output_url.c */
struct gout_url {
	bool network;      /* has a host (scheme://, //, or a special scheme's host) */
	bool valid;        /* the host is a plain host name of at most SL_GOUT_DOMAIN_MAX bytes */
	bool open;         /* the URL runs to the end of what was given */
	size_t host_off, host_len; /* in the given bytes */
	size_t end;        /* first byte after the URL */
};
/* Parses the URL at s[0, n) up to its first GC_URLEND byte (quote = the closing quote of an
 * attribute value, or 0); complete = nothing follows s[n - 1], else a host running to the end
 * is not known whole and counts as invalid. */
void sl__gout_url_parse(const char *s, size_t n, char quote, bool complete, struct gout_url *u);

/* output_leak.c */
/* The set of prompt[0, len) and a fresh answer side; l holds a set or is zeroed. When l's set
 * was built from the same bytes it is kept (only the answer side and `seen` are cleared), which
 * leaves l exactly as a build from scratch would. */
int sl__gout_leak_init(struct gout_leak *l, const char *prompt, size_t len);
void sl__gout_leak_release(struct gout_leak *l);
/* Feeds win[from, to) (just appended) to the word tracker. */
void sl__gout_leak_feed(struct sl_guard_output *g, size_t from, size_t to);
/* The answer ended: closes the last word. */
void sl__gout_leak_finish(struct sl_guard_output *g);

#endif
