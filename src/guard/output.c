/* output.c: the output checker's life cycle, its window and what it releases.
 *
 * Each feed takes the input in pieces of at most GOUT_PIECE bytes: a piece is appended to the
 * window, the word tracker (output_leak.c) reads it at once, the scanner (output_scan.c) checks
 * every start position that has GOUT_LOOK bytes in view after it, and everything before the
 * scanner is released, redacted runs replaced by one "[REDACTED]". So at most GOUT_LOOK bytes
 * (plus up to 3 to end on a UTF-8 character boundary) stay behind: SL_GOUT_HOLD. Released bytes
 * stay in the window (before `head`) until the next piece needs the room, so the window slides
 * about once per GOUT_PIECE bytes, not once per delta.
 *
 * Why hand-written scanners and not Vectorscan: the patterns are few and start on rare bytes
 * (a 256-entry trigger table skips everything else, one load and test per byte); redaction needs
 * where a finding starts, which Vectorscan's stream mode gives only with SOM_LEFTMOST (bigger
 * stream state, some patterns refused); a URL's verdict needs its host parsed and compared with
 * the allowlist anyway; and canaries and allow_domains change with the config, which would mean a
 * database compile per load and a stream plus scratch per response. The window also gives a hard
 * bound on what is held back. Throughput is measured in the report (bench note in GUARD-output.md).
 *
 * Invariants: see output-int.h; a stopped checker releases nothing more. */
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "output-int.h"

const char *sl_gout_kind_name(enum sl_gout_kind k)
{
	static const char *const names[] = {"canary", "prompt_leak", "image", "link", "secret"};
	return (unsigned)k < sizeof(names) / sizeof(names[0]) ? names[k] : "unknown";
}

int sl_guard_output_reset(struct sl_guard_output *g, const struct sl_guard_output_spec *spec, const char *system_prompt,
                          size_t len)
{
	if (!g || !spec || (!system_prompt && len))
		return SL_EINVAL;
	/* the leak state is kept: a prompt that comes again reuses its set (output_leak.c) */
	struct gout_leak leak = g->leak;
	memset(g, 0, offsetof(struct sl_guard_output, find)); /* the rest is written before it is read */
	g->leak = leak;
	g->spec = spec;
	g->prev = '\n';
	g->stop_at = UINT64_MAX;
	sl__gout_scan_init(g);
	if (spec->system_prompt_leak && len) {
		int rc = sl__gout_leak_init(&g->leak, system_prompt, len);
		if (rc)
			return rc;
		g->leak_on = g->leak.n > 0;
	}
	return 0;
}

int sl_guard_output_new(const struct sl_guard_output_spec *spec, const char *system_prompt, size_t len,
                        struct sl_guard_output **out)
{
	if (!spec || !out || (!system_prompt && len))
		return SL_EINVAL;
	struct sl_guard_output *g = malloc(sizeof(*g));
	if (!g)
		return SL_ENOMEM;
	memset(&g->leak, 0, sizeof(g->leak)); /* nothing for the reset to release */
	int rc = sl_guard_output_reset(g, spec, system_prompt, len);
	if (rc) {
		free(g);
		return rc;
	}
	*out = g;
	return 0;
}

void sl_guard_output_free(struct sl_guard_output *g)
{
	if (!g)
		return;
	sl__gout_leak_release(&g->leak);
	free(g);
}

static void record(struct sl_guard_output *g, const struct sl_gout_finding *f)
{
	if (g->stopped)
		return;
	g->total++;
	if (g->nfind < SL_GOUT_MAX_FINDINGS)
		g->find[g->nfind++] = *f;
	if (g->spec->action == SL_GOUT_BLOCK) {
		g->stopped = true;
		if (f->offset < g->stop_at)
			g->stop_at = f->offset;
	}
}

static void commit_upto(struct sl_guard_output *g, uint64_t upto);

/* Pending leak findings found earlier in the answer go first, so the order is by position. */
void sl__gout_hit(struct sl_guard_output *g, enum sl_gout_kind kind, size_t from, size_t to, const char *fmt, ...)
{
	commit_upto(g, g->base + from);
	if (g->stopped)
		return;
	struct sl_gout_finding f = {.kind = kind, .offset = g->base + from, .len = to - from};
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(f.detail, sizeof(f.detail), fmt, ap);
	va_end(ap);
	record(g, &f);
	sl__gout_mask(g, from, to);
}

static void commit_first(struct sl_guard_output *g)
{
	record(g, &g->pend[0].f);
	g->npend--;
	memmove(g->pend, g->pend + 1, g->npend * sizeof(g->pend[0]));
}

void sl__gout_defer(struct sl_guard_output *g, enum sl_gout_kind kind, uint64_t off, uint64_t len, uint64_t at,
                    const char *detail)
{
	if (g->npend == GOUT_MAX_PENDING)
		commit_first(g);
	struct gout_pending *p = &g->pend[g->npend++];
	memset(p, 0, sizeof(*p));
	p->at = at;
	p->f.kind = kind;
	p->f.offset = off;
	p->f.len = len;
	snprintf(p->f.detail, sizeof(p->f.detail), "%s", detail);
}

/* Commits the pending findings whose point the scanner has reached (offset `upto`). */
static void commit_upto(struct sl_guard_output *g, uint64_t upto)
{
	while (g->npend && !g->stopped && g->pend[0].at <= upto)
		commit_first(g);
}

void sl__gout_mask_abs(struct sl_guard_output *g, uint64_t from, uint64_t to)
{
	if (from < g->base + g->head)
		from = g->base + g->head;
	if (to > g->base + g->wlen)
		to = g->base + g->wlen;
	if (to > from)
		sl__gout_mask(g, (size_t)(from - g->base), (size_t)(to - g->base));
}

/* Appends win[head, n) to out, each run of redacted bytes as one marker. Only redact marks
 * bytes (sl__gout_mask), so with another action the bytes go out as they are, in one copy. */
static int emit(struct sl_guard_output *g, size_t n, struct sl_buf *out)
{
	size_t i = g->head;
	int rc = 0;
	if (g->spec->action != SL_GOUT_REDACT)
		return sl_buf_append(out, g->win + i, n - i);
	while (!rc && i < n) {
		size_t j = i;
		bool m = g->mask[i] != 0;
		while (j < n && (g->mask[j] != 0) == m)
			j++;
		if (!m)
			rc = sl_buf_append(out, g->win + i, j - i);
		else if (!g->out_masked)
			rc = sl_buf_puts(out, SL_GOUT_REDACTED);
		g->out_masked = m;
		i = j;
	}
	return rc;
}

/* Releases win[head, n). */
static int release(struct sl_guard_output *g, size_t n, struct sl_buf *out)
{
	if (n <= g->head)
		return 0;
	int rc = emit(g, n, out);
	g->head = n;
	return rc;
}

/* Drops the released bytes from the window when the next piece would not fit (once per
 * GOUT_PIECE bytes or so, not per feed). */
static void compact(struct sl_guard_output *g, size_t want)
{
	if (g->head == 0 || GOUT_WIN - g->wlen >= (want < GOUT_PIECE ? want : GOUT_PIECE))
		return;
	g->prev = (unsigned char)g->win[g->head - 1];
	g->wlen -= g->head;
	memmove(g->win, g->win + g->head, g->wlen);
	memmove(g->mask, g->mask + g->head, g->wlen);
	g->base += g->head;
	g->scan -= g->head;
	g->head = 0;
}

/* Up to where the window may go out now: everything checked, cut back to a character boundary. */
static size_t releasable(const struct sl_guard_output *g, bool final)
{
	size_t n = g->scan < g->wlen ? g->scan : g->wlen;
	if (final)
		return g->wlen;
	for (int k = 0; k < 3 && n > g->head && n < g->wlen && ((unsigned char)g->win[n] & 0xC0) == 0x80; k++)
		n--;
	return n;
}

/* After a stop: what is before the first finding goes out, the rest is dropped. */
static int release_stopped(struct sl_guard_output *g, struct sl_buf *out)
{
	size_t n = 0;
	if (g->stop_at > g->base)
		n = (size_t)(g->stop_at - g->base);
	if (n > g->scan)
		n = g->scan;
	if (n > g->wlen)
		n = g->wlen;
	int rc = release(g, n, out);
	g->base += g->head;
	g->wlen = g->scan = g->head = 0;
	return rc ? rc : SL_GOUT_STOP;
}

static int round_end(struct sl_guard_output *g, bool final, struct sl_buf *out)
{
	sl__gout_scan(g, final);
	commit_upto(g, final ? UINT64_MAX : g->base + g->scan);
	if (g->stopped)
		return release_stopped(g, out);
	int rc = release(g, releasable(g, final), out);
	if (rc)
		g->stopped = true;
	return rc;
}

int sl_guard_output_feed(struct sl_guard_output *g, const char *text, size_t len, struct sl_buf *out)
{
	if (!g || !out || (!text && len))
		return SL_EINVAL;
	while (!g->stopped && len) {
		compact(g, len);
		size_t k = GOUT_WIN - g->wlen;
		if (k == 0) { /* cannot happen: the scanner always frees room; stay safe anyway */
			g->stopped = true;
			return SL_ESTATE;
		}
		if (k > len)
			k = len;
		memcpy(g->win + g->wlen, text, k);
		memset(g->mask + g->wlen, 0, k);
		g->wlen += k;
		if (g->tail)
			sl__gout_tail(g, g->wlen - k);
		if (g->leak_on)
			sl__gout_leak_feed(g, g->wlen - k, g->wlen);
		text += k;
		len -= k;
		int rc = round_end(g, false, out);
		if (rc)
			return rc;
	}
	return g->stopped ? SL_GOUT_STOP : 0;
}

int sl_guard_output_finish(struct sl_guard_output *g, struct sl_buf *out)
{
	if (!g || !out)
		return SL_EINVAL;
	if (g->stopped)
		return SL_GOUT_STOP;
	if (g->leak_on)
		sl__gout_leak_finish(g);
	return round_end(g, true, out);
}

size_t sl_guard_output_findings(const struct sl_guard_output *g, const struct sl_gout_finding **out)
{
	*out = g->find;
	return g->nfind;
}

uint64_t sl_guard_output_total(const struct sl_guard_output *g)
{
	return g->total;
}

bool sl_guard_output_stopped(const struct sl_guard_output *g)
{
	return g->stopped;
}

size_t sl_guard_output_held(const struct sl_guard_output *g)
{
	return g->wlen - g->head;
}
