/* guard.h: the prompt-injection input pipeline: segments by trust, normalization (NFKC, case
 * folding, invisible characters, homoglyphs, split letters, encoded runs), Vectorscan rules, an
 * optional classifier stage, the decision (risk score, reasons, action), spotlighting of
 * untrusted text, and the JSON form of the `input` part of the guard configuration.
 *
 * Invariants:
 * - pure: no I/O except sl_guard_rules_add_file reading a rules file; no global mutable state;
 *   every int-returning function returns 0 or a negative SL_E* code and fills its outputs only
 *   on success (error text, when asked for, goes into err[errlen], always NUL-terminated).
 * - bounded: any byte string is accepted (invalid UTF-8 becomes U+FFFD); texts longer than
 *   SL_GUARD_MAX_TEXT are refused with SL_ETOOBIG; the normalized buffer never exceeds
 *   4 * len + SL_GUARD_NORM_SLACK bytes (views that do not fit are dropped and counted).
 * - threads: a compiled struct sl_guard_rules is immutable and may be shared by any number of
 *   threads. A struct sl_guard_scratch belongs to one thread at a time (the gateway loop owns
 *   one, the CLI another); it holds the Vectorscan scratch and the normalizer's buffers, so a
 *   scan allocates only while those buffers grow to the largest text seen.
 * - ownership: segment texts are borrowed for the duration of the call; a verdict is a plain
 *   value (no pointers into the input or the scratch). */
#ifndef SLUICE_GUARD_H
#define SLUICE_GUARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sluice/core.h"

#define SL_GUARD_MAX_TEXT ((size_t)16 << 20)    /* largest segment scanned (bytes) */
#define SL_GUARD_NORM_SLACK ((size_t)64 << 10)  /* fixed allowance of the normalized buffer */
#define SL_GUARD_MAX_VIEWS 64                   /* views per normalized buffer, main included */
#define SL_GUARD_DECODE_MIN 16                  /* shortest base64 / hex / %-encoded run decoded */
#define SL_GUARD_DECODE_DEPTH 2                 /* decoded text is decoded again at most once */
#define SL_GUARD_MAX_RULES 4096
#define SL_GUARD_RULE_ID_MAX 48                 /* rule id bytes, NUL included */
#define SL_GUARD_MAX_REASONS 16
#define SL_GUARD_DEFAULT_THRESHOLD 0.5
#define SL_GUARD_PATH_MAX 512
#define SL_GUARD_RULES_FILE "guard/rules.txt"   /* relative to the share directory */
#define SL_GUARD_MODEL_FILE "guard/model.bin"
#define SL_GUARD_INDIRECT_MODEL_FILE "guard/indirect.bin" /* the document model (indirect segments) */

/* ---- segments ---- */

/* Who wrote a piece of the prompt. Trusted text (system and developer messages) is scanned
 * only when asked (scan_trusted); user messages are direct, tool and function results and
 * retrieved documents indirect. */
enum sl_guard_trust { SL_GUARD_TRUSTED, SL_GUARD_DIRECT, SL_GUARD_INDIRECT, SL_GUARD_TRUST_COUNT_ };
const char *sl_guard_trust_name(enum sl_guard_trust t); /* "trusted", "direct", "indirect" */

struct sl_guard_segment {
	enum sl_guard_trust trust;
	const char *text; /* borrowed, any bytes */
	size_t len;
};

/* ---- normalization (normalize.c, decode.c, collapse.c) ---- */

/* Where a stretch of the normalized buffer came from. */
enum sl_guard_view_kind {
	SL_GUARD_VIEW_TEXT,      /* the text itself, normalized */
	SL_GUARD_VIEW_HIDDEN,    /* ASCII hidden in Unicode tag characters (U+E0020..U+E007E) */
	SL_GUARD_VIEW_DECODED,   /* a base64, hex or %-encoded run, decoded and normalized */
	SL_GUARD_VIEW_COLLAPSED, /* the text with letters split by spaces or punctuation joined */
	SL_GUARD_VIEW_COUNT_
};
const char *sl_guard_view_name(enum sl_guard_view_kind v); /* "text", "hidden", "decoded", "collapsed" */
/* The collapsed view holds only the stretches of text around the chains it joins (up to 256
 * bytes either side, cut between tokens), one after another with a '\n' between stretches,
 * and is added only when a chain of at least three word-like tokens collapses
 * (src/guard/collapse.c); a long text with one split word is not scanned twice. */

struct sl_guard_view {
	enum sl_guard_view_kind kind;
	unsigned depth; /* decoding depth: 0 for the text, 1 or 2 for decoded runs */
	size_t off, len; /* in the normalized buffer */
};

/* The normalized buffer: the normalized text, then each extra view after a '\n' separator.
 * Always valid UTF-8, NUL-terminated, NFKC, case folded, without zero-width characters, bidi
 * controls or tag characters; Cyrillic and Greek look-alikes mapped to Latin letters. */
struct sl_guard_norm {
	struct sl_buf out;
	struct sl_guard_view views[SL_GUARD_MAX_VIEWS];
	unsigned nviews;
	unsigned dropped;     /* views that did not fit in the bound or the table */
	bool truncated;       /* the text view reached the bound and was cut */
	/* Work space, contents unspecified between calls. */
	struct sl_buf hidden; /* tag-character text */
	struct sl_buf dec;    /* decoded runs */
	struct sl_buf tmp;    /* the collapsed view */
	int32_t *u32;         /* utf8proc code points */
	size_t u32cap;
};
void sl_guard_norm_init(struct sl_guard_norm *n);
void sl_guard_norm_release(struct sl_guard_norm *n);
/* Replaces n's contents with the normalized form of text[0..len). SL_ETOOBIG past
 * SL_GUARD_MAX_TEXT, SL_ENOMEM. */
int sl_guard_normalize(struct sl_guard_norm *n, const char *text, size_t len);
/* The view holding buffer offset off (the last one starting at or before it). */
const struct sl_guard_view *sl_guard_norm_view_at(const struct sl_guard_norm *n, size_t off);

/* Decoders, exposed for tests and the fuzzer. Each appends the decoded bytes of in[0..n) to out
 * and returns SL_EPARSE (out unchanged) when in is not entirely of its form. base64 accepts the
 * standard and URL-safe alphabets, with or without padding; hex wants an even number of digits;
 * url decodes %XX (a '%' not followed by two hex digits is kept as is) and '+' as a space. */
int sl_guard_decode_base64(const char *in, size_t n, struct sl_buf *out);
int sl_guard_decode_hex(const char *in, size_t n, struct sl_buf *out);
int sl_guard_decode_url(const char *in, size_t n, struct sl_buf *out);

/* ---- rules (rules.c, rules_file.c) ---- */

/* What an attack does. */
enum sl_guard_category {
	SL_GUARD_CAT_OVERRIDE, /* "override": ignore / disregard previous instructions */
	SL_GUARD_CAT_ROLE,     /* "role": you are now, act as DAN, developer mode, jailbreak */
	SL_GUARD_CAT_SECRET,   /* "secret": reveal the system prompt, a password, an API key */
	SL_GUARD_CAT_TEMPLATE, /* "template": chat-template tokens in untrusted text */
	SL_GUARD_CAT_EXFIL,    /* "exfil": markdown images and links carrying data, "send ... to http" */
	SL_GUARD_CAT_ADDRESS,  /* "address": speaking to the model from inside data */
	SL_GUARD_CAT_COUNT_
};
const char *sl_guard_category_name(enum sl_guard_category c);
int sl_guard_category_parse(const char *s, enum sl_guard_category *out);

struct sl_guard_rule {
	char id[SL_GUARD_RULE_ID_MAX];
	enum sl_guard_category category;
	double weight; /* (0, 1]: the risk this rule alone carries */
};

/* A rule set: built by adding rule texts or files, then compiled once into a Vectorscan block
 * database. Rules file format (see share/guard/rules.txt): one rule a line,
 *   ID  CATEGORY  WEIGHT  EXPRESSION
 * separated by spaces or tabs, the expression running to the end of the line; blank lines and
 * lines starting with '#' are ignored. Expressions are Vectorscan (PCRE-like) regular
 * expressions matched caselessly, once per scan, against the normalized buffer. Ids are unique. */
struct sl_guard_rules; /* opaque */
int sl_guard_rules_new(struct sl_guard_rules **out);
/* Parses rules from text (name is used in errors: "NAME:LINE: reason"). Not after compile. */
int sl_guard_rules_add_text(struct sl_guard_rules *r, const char *name, const char *text, size_t len, char *err,
                            size_t errlen);
/* Reads a file (at most 4 MiB) and adds its rules; "cannot open 'PATH': reason" on failure. */
int sl_guard_rules_add_file(struct sl_guard_rules *r, const char *path, char *err, size_t errlen);
/* Compiles the rules added; an expression Vectorscan refuses is reported as "NAME:LINE: rule
 * ID: reason". After this the set is immutable. At least one rule is needed. */
int sl_guard_rules_compile(struct sl_guard_rules *r, char *err, size_t errlen);
void sl_guard_rules_free(struct sl_guard_rules *r);
size_t sl_guard_rules_count(const struct sl_guard_rules *r);
const struct sl_guard_rule *sl_guard_rules_get(const struct sl_guard_rules *r, size_t i);
/* The default rules (share/guard/rules.txt under sl_guard_share_dir()) plus extra_file when
 * not NULL or empty, compiled. */
int sl_guard_rules_load_default(const char *extra_file, struct sl_guard_rules **out, char *err, size_t errlen);
/* The share directory: $SLUICE_SHARE when set and non-empty, else the compile-time
 * SLUICE_SHARE_DIR ("share" when not defined). */
const char *sl_guard_share_dir(void);
/* share_dir/rel into out[cap]; SL_ETOOBIG when it does not fit. */
int sl_guard_share_path(const char *rel, char *out, size_t cap);

/* Per-thread working memory. Made for one rule set; sl_guard_scratch_fit makes it serve
 * another too (after a reload). rules may be NULL (classifier only). */
struct sl_guard_scratch; /* opaque */
int sl_guard_scratch_new(const struct sl_guard_rules *r, struct sl_guard_scratch **out);
int sl_guard_scratch_fit(struct sl_guard_scratch *s, const struct sl_guard_rules *r);
void sl_guard_scratch_free(struct sl_guard_scratch *s);

/* One rule firing. */
struct sl_guard_hit {
	uint32_t rule; /* index in the rule set */
	enum sl_guard_view_kind view;
};
/* Normalizes text into the scratch and runs the rules over it; writes up to cap hits (each rule
 * at most once, in the view where it first matched) and sets *nhits to the number written.
 * The normalized buffer stays readable through sl_guard_scratch_norm until the next call. */
int sl_guard_rules_scan(const struct sl_guard_rules *r, struct sl_guard_scratch *s, const char *text, size_t len,
                        struct sl_guard_hit *hits, size_t cap, size_t *nhits);
const struct sl_guard_norm *sl_guard_scratch_norm(const struct sl_guard_scratch *s);

/* ---- classifier stage (pluggable) ---- */

/* A scorer returns P(injection) in [0, 1] for normalized text (NaN or out of range counts as
 * 0); it must be safe to call from the thread owning the scratch and must not keep text.
 * sl_guard_model_stage (guard_model.h) has this shape with ctx = the model. */
struct sl_guard_scorer_ops {
	const char *name;
	double (*score)(void *ctx, const char *text, size_t len);
};
struct sl_guard_scorer {
	const struct sl_guard_scorer_ops *ops; /* NULL: no classifier */
	void *ctx;
};

/* ---- decision (scan.c) ---- */

enum sl_guard_action { SL_GUARD_ALLOW, SL_GUARD_FLAG, SL_GUARD_BLOCK, SL_GUARD_SANITIZE, SL_GUARD_ACTION_COUNT_ };
const char *sl_guard_action_name(enum sl_guard_action a); /* "allow", "flag", "block", "sanitize" */
int sl_guard_action_parse(const char *s, enum sl_guard_action *out);

enum sl_guard_reason_kind { SL_GUARD_REASON_RULE, SL_GUARD_REASON_CLASSIFIER };
struct sl_guard_reason {
	enum sl_guard_reason_kind kind;
	char rule_id[SL_GUARD_RULE_ID_MAX];     /* rule reasons */
	enum sl_guard_category category;        /* rule reasons */
	enum sl_guard_view_kind view;           /* rule reasons: where it matched */
	double score;                           /* the rule's weight, or the classifier's probability */
	unsigned segment;                       /* index into the segments scanned */
	enum sl_guard_trust trust;              /* that segment's trust */
};

struct sl_guard_opts {
	double threshold;            /* risk at or above which the verdict fires */
	enum sl_guard_action action; /* what a firing verdict asks for */
	bool scan_trusted;           /* scan trusted segments too */
	struct sl_guard_scorer scorer;
	struct sl_guard_scorer indirect; /* the document model: scores indirect segments too, and the
	                                    larger of its and scorer's probabilities counts */
	struct sl_guard_scorer both;     /* optional: scores indirect segments in place of the two
	                                    above, giving what fmax(clamp(scorer), clamp(indirect))
	                                    gives, in one pass (sl_guard_opts_models sets it) */
};
void sl_guard_opts_default(struct sl_guard_opts *o); /* threshold 0.5, flag, no trusted, no scorer */

/* Risk per segment: rule risk r = 1 - prod(1 - w) over the distinct rules that fired, combined
 * with the classifier's p as 1 - (1 - r)(1 - p). The verdict's risk is the largest segment's. */
struct sl_guard_verdict {
	double score;                   /* [0, 1] */
	double rule_score;              /* of the riskiest segment */
	double model_score;             /* of the riskiest segment; -1 without a scorer */
	bool fired;                     /* score >= threshold */
	enum sl_guard_action action;    /* SL_GUARD_ALLOW unless fired, else opts.action */
	int segment;                    /* riskiest segment scanned, -1 when none was */
	enum sl_guard_trust trust;      /* its trust */
	unsigned categories;            /* bit (1u << category) for every category that fired */
	unsigned nreasons;              /* reasons kept (riskiest first), at most SL_GUARD_MAX_REASONS */
	unsigned more_reasons;          /* reasons left out */
	unsigned scanned;               /* segments scanned (trusted ones skipped are not counted) */
	unsigned remembered;            /* of those, how many the memo answered (sl_guard_scan_memo) */
	struct sl_guard_reason reasons[SL_GUARD_MAX_REASONS]; /* past nreasons: unspecified */
};

/* Scans segs[0..n) on their own and decides. rules may be NULL (no rules); s must have been made
 * for (or fitted to) rules. */
int sl_guard_scan(const struct sl_guard_rules *rules, struct sl_guard_scratch *s, const struct sl_guard_opts *o,
                  const struct sl_guard_segment *segs, size_t n, struct sl_guard_verdict *out);

/* ---- memo: segments seen before (memo.c) ---- */

/* What segments scanned before contributed to their verdicts, so that the same bytes with the
 * same trust are not scanned again: a conversation sends its earlier turns again with every
 * request, an agent its tool results at every step. Exact: a segment is recognised by its
 * bytes (hash, then memcmp), and its stored reasons and risk are replayed in the order the scan
 * made them, so a verdict is the same with or without a memo (segments with more than
 * SL_GUARD_MAX_REASONS reasons are not kept). Bounded: one slot per hash value (a newcomer
 * replaces the slot's holder) and one ring of texts and reasons written in turn, the oldest
 * dropped first, together at most max_bytes (allocated once); a segment larger than
 * max_bytes / 8 is never kept. One memo serves one (rules, opts) pair for its life (a
 * rebuilt rule set or model needs a new memo) and belongs to one thread. */
#define SL_GUARD_MEMO_MIN ((size_t)64 << 10)     /* smallest max_bytes */
#define SL_GUARD_MEMO_DEFAULT ((size_t)4 << 20)  /* the gateway's, per model with input checks */
#define SL_GUARD_MEMO_MAX ((size_t)1 << 30)
struct sl_guard_memo; /* opaque */
/* SL_EINVAL when max_bytes < SL_GUARD_MEMO_MIN. */
int sl_guard_memo_new(size_t max_bytes, struct sl_guard_memo **out);
void sl_guard_memo_free(struct sl_guard_memo *m);
struct sl_guard_memo_stats {
	uint64_t hits, misses; /* lookups answered and not */
	size_t entries, bytes; /* segments held; bytes in use, slots included */
};
void sl_guard_memo_stats(const struct sl_guard_memo *m, struct sl_guard_memo_stats *out);
/* sl_guard_scan with a memo (NULL: none). SL_EINVAL when memo was used before with other
 * rules or opts (compared by address). */
int sl_guard_scan_memo(const struct sl_guard_rules *rules, struct sl_guard_scratch *s, const struct sl_guard_opts *o,
                       struct sl_guard_memo *memo, const struct sl_guard_segment *segs, size_t n,
                       struct sl_guard_verdict *out);
/* One direct (user) segment. */
int sl_guard_scan_text(const struct sl_guard_rules *rules, struct sl_guard_scratch *s, const struct sl_guard_opts *o,
                       const char *text, size_t len, struct sl_guard_verdict *out);
/* "rule override.ignore_previous (override, weight 0.9) in decoded text of segment 1 (direct)"
 * or "classifier 0.93 on segment 0 (indirect)", appended to b. */
int sl_guard_reason_format(const struct sl_guard_reason *r, struct sl_buf *b);
/* The verdict as one JSON object: score, verdict ("allow" or the action), fired, rule_score,
 * model_score (null without), segment, trust, categories, reasons[] (objects). */
int sl_guard_verdict_json(const struct sl_guard_verdict *v, struct sl_buf *b);

/* ---- sanitize: spotlighting by datamarking (spotlight.c) ---- */

/* Appends to out:  <<untrusted_document id=N>>\n TEXT \n<</untrusted_document>>  ("untrusted_input"
 * for direct text), where TEXT is seg's text as valid UTF-8 with every run of whitespace
 * replaced by one '^' and every "<<" or ">>" broken by a '^' so the delimiters cannot be forged.
 * SL_ETOOBIG (out unchanged) when out's limit is reached. */
int sl_guard_spotlight(const struct sl_guard_segment *seg, unsigned id, struct sl_buf *out);
/* The sentence to add to the system prompt so the model knows the marking. */
const char *sl_guard_spotlight_notice(void);

/* ---- configuration: the `input` part of the guard config (input_json.c) ---- */

struct sl_guard_input_spec {
	enum sl_guard_action action;    /* default flag */
	double threshold;               /* default SL_GUARD_DEFAULT_THRESHOLD, in [0, 1] */
	char rules_file[SL_GUARD_PATH_MAX]; /* extra rules; "" none */
	char model_file[SL_GUARD_PATH_MAX]; /* classifier model; "" the default when present */
	char indirect_model_file[SL_GUARD_PATH_MAX]; /* document model; "" the default when present */
	bool scan_trusted;              /* default false */
	uint64_t memo_bytes;            /* memo of segments seen before (sl_guard_memo_new); default
	                                   SL_GUARD_MEMO_DEFAULT, 0 none, else in
	                                   [SL_GUARD_MEMO_MIN, SL_GUARD_MEMO_MAX] */
};
void sl_guard_input_spec_defaults(struct sl_guard_input_spec *s);
/* Strict: a JSON object with only the keys above; errors name the key ("threshold: must be a
 * number in [0, 1]"). SL_EPARSE for bad JSON, SL_EINVAL for a bad value. */
int sl_guard_input_spec_from_json(const char *json, struct sl_guard_input_spec *out, char *err, size_t errlen);
int sl_guard_input_spec_to_json(const struct sl_guard_input_spec *s, struct sl_buf *b);

#endif
