/* views.c: sl_guard_normalize: the normalized text, then its extra views (collapsed letters,
 * hidden tag text, decoded runs to depth SL_GUARD_DECODE_DEPTH), each after a '\n'.
 * Invariants: views are in increasing offset order and never overlap; a view that does not fit
 * in the bound or the table is dropped whole and counted; the decoded work space is bounded by
 * 2 * len + SL_GUARD_NORM_SLACK (decoding shrinks its input). */
#include <stdlib.h>
#include <string.h>

#include "guard-int.h"

struct pending {
	size_t off, len; /* in n->dec */
	unsigned depth;
};
struct decode_ctx {
	struct pending items[SL_GUARD_MAX_VIEWS];
	unsigned n, depth;
	unsigned *dropped;
};

void sl_guard_norm_init(struct sl_guard_norm *n)
{
	memset(n, 0, sizeof(*n));
	sl_buf_init(&n->out, 0);
	sl_buf_init(&n->hidden, 0);
	sl_buf_init(&n->dec, 0);
	sl_buf_init(&n->tmp, 0);
}

void sl_guard_norm_release(struct sl_guard_norm *n)
{
	sl_buf_release(&n->out);
	sl_buf_release(&n->hidden);
	sl_buf_release(&n->dec);
	sl_buf_release(&n->tmp);
	free(n->u32);
	n->u32 = NULL;
	n->u32cap = 0;
}

static void reset(struct sl_buf *b, size_t limit)
{
	sl_buf_reset(b);
	b->limit = limit;
}

/* Opens a view: the separator, then a table entry. SL_ETOOBIG when either is full. */
static int open_view(struct sl_guard_norm *n, enum sl_guard_view_kind kind, unsigned depth)
{
	if (n->nviews == SL_GUARD_MAX_VIEWS)
		return SL_ETOOBIG;
	int rc = n->nviews ? sl_buf_append(&n->out, "\n", 1) : sl_buf_reserve(&n->out, 0);
	if (rc)
		return rc;
	n->views[n->nviews] = (struct sl_guard_view){kind, depth, n->out.len, 0};
	return 0;
}

/* Closes the open view; on failure removes it (separator included) and counts it dropped. */
static int close_view(struct sl_guard_norm *n, int rc)
{
	struct sl_guard_view *v = &n->views[n->nviews];
	if (rc == SL_ETOOBIG || (rc == 0 && n->out.len == v->off && n->nviews)) {
		n->out.len = v->off - (n->nviews ? 1 : 0);
		n->out.data[n->out.len] = '\0';
		n->dropped += rc != 0;
		return 0;
	}
	if (rc)
		return rc;
	v->len = n->out.len - v->off;
	n->nviews++;
	return 0;
}

/* Adds src (not inside n->out) as a view: normalized, or copied when raw. */
static int add_view(struct sl_guard_norm *n, enum sl_guard_view_kind kind, unsigned depth, const char *src,
                    size_t len, bool raw)
{
	int rc = open_view(n, kind, depth);
	if (rc == SL_ETOOBIG) {
		n->dropped++;
		return 0;
	}
	if (rc == 0)
		rc = raw ? sl_buf_append(&n->out, src, len) : sl__norm_text(n, &n->out, src, len, NULL);
	return close_view(n, rc);
}

static int on_decoded(void *ctx, size_t off, size_t len)
{
	struct decode_ctx *d = ctx;
	if (d->n == SL_GUARD_MAX_VIEWS) {
		(*d->dropped)++;
		return 0;
	}
	d->items[d->n++] = (struct pending){off, len, d->depth};
	return 0;
}

static int find_runs(struct sl_guard_norm *n, struct decode_ctx *d, const char *text, size_t len, unsigned depth)
{
	d->depth = depth;
	int rc = sl__find_encoded(text, len, &n->dec, on_decoded, d);
	if (rc == SL_ETOOBIG) {
		n->dropped++;
		return 0;
	}
	return rc;
}

/* Each decoded run becomes a view; runs found inside one (copied to tmp first, since dec grows)
 * are queued one level deeper. */
static int decoded_views(struct sl_guard_norm *n, const char *text, size_t len)
{
	struct decode_ctx d; /* items[i] is written before i < d.n: the 1.5 KB table is not zeroed */
	d.n = 0;
	d.dropped = &n->dropped;
	int rc = find_runs(n, &d, text, len, 1);
	if (!rc && n->hidden.len)
		rc = find_runs(n, &d, n->hidden.data, n->hidden.len, 1);
	for (unsigned i = 0; !rc && i < d.n; i++) {
		struct pending p = d.items[i];
		rc = add_view(n, SL_GUARD_VIEW_DECODED, p.depth, n->dec.data + p.off, p.len, false);
		if (rc || p.depth >= SL_GUARD_DECODE_DEPTH)
			continue;
		sl_buf_reset(&n->tmp);
		rc = sl_buf_append(&n->tmp, n->dec.data + p.off, p.len);
		if (!rc)
			rc = find_runs(n, &d, n->tmp.data, n->tmp.len, p.depth + 1);
	}
	return rc == SL_ETOOBIG ? 0 : rc;
}

int sl_guard_normalize(struct sl_guard_norm *n, const char *text, size_t len)
{
	if (len > SL_GUARD_MAX_TEXT)
		return SL_ETOOBIG;
	if (!text && len)
		return SL_EINVAL;
	size_t bound = 4 * len + SL_GUARD_NORM_SLACK;
	reset(&n->out, bound);
	reset(&n->hidden, len / 4 + 16);
	reset(&n->dec, 2 * len + SL_GUARD_NORM_SLACK);
	reset(&n->tmp, bound);
	n->nviews = n->dropped = 0;
	n->truncated = false;
	int rc = open_view(n, SL_GUARD_VIEW_TEXT, 0);
	if (!rc) {
		rc = sl__norm_text(n, &n->out, text, len, &n->hidden);
		n->truncated = rc == SL_ETOOBIG;
		rc = close_view(n, rc == SL_ETOOBIG ? 0 : rc);
	}
	if (!rc && (rc = sl__collapse(n->out.data, n->views[0].len, &n->tmp)) > 0)
		rc = add_view(n, SL_GUARD_VIEW_COLLAPSED, 0, n->tmp.data, n->tmp.len, true);
	if (rc == SL_ETOOBIG)
		rc = 0, n->dropped++;
	if (!rc && n->hidden.len)
		rc = add_view(n, SL_GUARD_VIEW_HIDDEN, 0, n->hidden.data, n->hidden.len, false);
	if (!rc)
		rc = decoded_views(n, text, len);
	return rc;
}

const struct sl_guard_view *sl_guard_norm_view_at(const struct sl_guard_norm *n, size_t off)
{
	size_t lo = 0, hi = n->nviews;
	if (!n->nviews)
		return NULL;
	while (hi - lo > 1) {
		size_t mid = (lo + hi) / 2;
		if (n->views[mid].off <= off)
			lo = mid;
		else
			hi = mid;
	}
	return &n->views[lo];
}
