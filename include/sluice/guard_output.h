/* guard_output.h: checks on a model's answer as it streams out: canary strings, leaks of the
 * request's system prompt (word 8-gram shingles), markdown/HTML images and links to domains not
 * on an allowlist, and secrets (API keys, private keys). Each finding is flagged, redacted
 * (replaced by "[REDACTED]") or ends the stream, per the spec's action.
 *
 * Use: one sl_guard_output per response. Feed the text deltas in order (split anywhere, even
 * inside a UTF-8 character or a pattern); each feed appends to `out` the text that is now safe to
 * release, holding back at most SL_GOUT_HOLD bytes so that a finding spanning chunks is still
 * caught, and redacted, before anyone sees it. finish() releases the rest. A non-streamed answer
 * is one feed and a finish.
 *
 * Invariants: pure (no I/O, no locks, no globals); memory per response is bounded (a fixed
 * window plus the system prompt's shingle set, at most SL_GOUT_MAX_SHINGLES entries); with no
 * finding, the concatenation of everything released equals the input byte for byte; released
 * pieces end on a UTF-8 character boundary whenever the input is valid UTF-8 (finish releases
 * all); the findings (kind, offset, len, detail, order) do not depend on how the input was split,
 * nor does the text released, except that a prompt-leak run longer than the hold-back may have
 * begun to go out before it was recognised (redact then hides the rest of it). */
#ifndef SLUICE_GUARD_OUTPUT_H
#define SLUICE_GUARD_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sluice/core.h"

struct json_object;

#define SL_GOUT_HOLD 320            /* most bytes ever held back between feeds */
#define SL_GOUT_MAX_CANARIES 32
#define SL_GOUT_CANARY_MIN 6        /* canary bytes, shortest accepted */
#define SL_GOUT_CANARY_MAX 128      /* canary bytes, longest accepted */
#define SL_GOUT_MAX_DOMAINS 128
#define SL_GOUT_DOMAIN_MAX 253      /* host name bytes */
#define SL_GOUT_SHINGLE_WORDS 8     /* words per shingle */
#define SL_GOUT_MAX_SHINGLES 16384  /* system prompt shingles kept (the first ones) */
#define SL_GOUT_MAX_FINDINGS 32     /* findings recorded per response (more are only counted) */
#define SL_GOUT_DETAIL_MAX 96       /* bytes of a finding's detail, NUL included */
#define SL_GOUT_REDACTED "[REDACTED]"

/* sl_guard_output_feed/finish return this (positive) when the stream must end now. */
#define SL_GOUT_STOP 1

enum sl_gout_action { SL_GOUT_FLAG, SL_GOUT_REDACT, SL_GOUT_BLOCK };
const char *sl_gout_action_name(enum sl_gout_action a); /* "flag", "redact", "block" */

/* Which URLs are checked against allow_domains: images and links (default), images only, none. */
enum sl_gout_urls { SL_GOUT_URLS_ALL, SL_GOUT_URLS_IMAGES, SL_GOUT_URLS_OFF };
const char *sl_gout_urls_name(enum sl_gout_urls u); /* "all", "images", "off" */

struct sl_guard_output_spec {
	enum sl_gout_action action; /* "action": flag (default) | redact | block */
	enum sl_gout_urls urls;     /* "urls": all (default) | images | off */
	bool system_prompt_leak;    /* "system_prompt_leak": default true */
	bool secrets;               /* "secrets": default true */
	unsigned leak_min_run;      /* "leak_min_run": shingles in a row that make a leak, 1..64, default 4 */
	double leak_min_share;      /* "leak_min_share": share of the prompt's shingles, (0, 1], default 0.5 */
	unsigned ncanaries;         /* "canaries": exact byte strings, SL_GOUT_CANARY_MIN..MAX bytes */
	char canaries[SL_GOUT_MAX_CANARIES][SL_GOUT_CANARY_MAX + 1];
	unsigned ndomains; /* "allow_domains": host names (lower case, no trailing dot); subdomains pass */
	char allow_domains[SL_GOUT_MAX_DOMAINS][SL_GOUT_DOMAIN_MAX + 1];
};

void sl_guard_output_spec_defaults(struct sl_guard_output_spec *s);
/* Strict: unknown keys, wrong types and bad values are refused with an error naming the field
 * ("allow_domains[2]: must be a host name"); *out is written only on success. */
int sl_guard_output_spec_from_json(const char *json, struct sl_guard_output_spec *out, char *err, size_t errlen);
int sl_guard_output_spec_from_jobj(struct json_object *o, struct sl_guard_output_spec *out, char *err,
                                   size_t errlen);
int sl_guard_output_spec_to_json(const struct sl_guard_output_spec *s, struct sl_buf *b);
/* Whether host (any case, optional trailing dot) is allow_domains entry or a subdomain of one. */
bool sl_guard_output_host_allowed(const struct sl_guard_output_spec *s, const char *host, size_t len);

enum sl_gout_kind { SL_GOUT_CANARY, SL_GOUT_PROMPT_LEAK, SL_GOUT_IMAGE, SL_GOUT_LINK, SL_GOUT_SECRET };
const char *sl_gout_kind_name(enum sl_gout_kind k); /* "canary", "prompt_leak", "image", "link", "secret" */

struct sl_gout_finding {
	enum sl_gout_kind kind;
	uint64_t offset; /* byte offset in the answer where the finding starts */
	uint64_t len;    /* bytes known to belong to it when it was found */
	/* What was found, never the secret itself: "canary #1", "openai api key", "image to host
	 * evil.example", "12 words in a row from the system prompt". */
	char detail[SL_GOUT_DETAIL_MAX];
};

struct sl_guard_output; /* one response's checker; opaque */

/* spec is borrowed and must outlive the checker. system_prompt (may be NULL) is copied into
 * hashes at once: the request's system and developer text, concatenated by the caller. */
int sl_guard_output_new(const struct sl_guard_output_spec *spec, const char *system_prompt, size_t len,
                        struct sl_guard_output **out);
/* Makes g, whatever it checked before, exactly what sl_guard_output_new(spec, system_prompt,
 * len) would make, in the same memory: a gateway reuses one checker (about 12 KB) from answer to
 * answer rather than allocating one per request. On failure (SL_EINVAL, SL_ENOMEM) g is still
 * a checker that may be reset again or freed, but not fed. */
int sl_guard_output_reset(struct sl_guard_output *g, const struct sl_guard_output_spec *spec, const char *system_prompt,
                          size_t len);
void sl_guard_output_free(struct sl_guard_output *g);

/* Appends to out what is safe to release. Returns 0, SL_GOUT_STOP when the action is block and
 * a finding occurred (out then holds the text before the finding; later calls release nothing
 * and return SL_GOUT_STOP again), or a negative SL_E* code (out full: the checker is then
 * stopped too). */
int sl_guard_output_feed(struct sl_guard_output *g, const char *text, size_t len, struct sl_buf *out);
/* The end of the answer: checks and releases the held tail. Same returns as feed. */
int sl_guard_output_finish(struct sl_guard_output *g, struct sl_buf *out);

/* The findings recorded so far (at most SL_GOUT_MAX_FINDINGS, in the order found), and how many
 * there were in all. */
size_t sl_guard_output_findings(const struct sl_guard_output *g, const struct sl_gout_finding **out);
uint64_t sl_guard_output_total(const struct sl_guard_output *g);
bool sl_guard_output_stopped(const struct sl_guard_output *g);
/* Bytes currently held back (<= SL_GOUT_HOLD after every feed). */
size_t sl_guard_output_held(const struct sl_guard_output *g);

#endif
