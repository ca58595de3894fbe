/* recs_json.c: the live monitor as JSON through a bounded sl_buf: one object per version with
 * the last closed window and the current one, CTR and watch time by position and by source.
 * Invariants: the output is valid JSON or the call fails (SL_ETOOBIG, SL_ENOMEM) with the
 * buffer cut back to its length at entry; NaN and infinities are written as null. */
#include <math.h>
#include <string.h>

#include "recs-int.h"

static int ch(struct sl_buf *b, char c)
{
	return sl_buf_append(b, &c, 1);
}

static int num(struct sl_buf *b, const char *key, double v)
{
	if (!isfinite(v))
		return sl_buf_printf(b, "\"%s\":null", key);
	return sl_buf_printf(b, "\"%s\":%.6g", key, v);
}

static int cell(struct sl_buf *b, const struct recs_cell *c)
{
	int rc = sl_buf_printf(b, "\"shown\":%llu,\"clicked\":%llu,\"watches\":%llu,", (unsigned long long)c->shown,
	                       (unsigned long long)c->clicked, (unsigned long long)c->watches);
	double n = (double)c->shown;
	rc = rc ? rc : num(b, "ctr", n > 0 ? (double)c->clicked / n : NAN);
	rc = rc ? rc : ch(b, ',');
	rc = rc ? rc : num(b, "watch_s", c->watch_s);
	rc = rc ? rc : ch(b, ',');
	return rc ? rc : num(b, "watch_per_item", n > 0 ? c->watch_s / n : NAN);
}

static int positions(struct sl_buf *b, const struct recs_win *w)
{
	int rc = sl_buf_puts(b, "\"by_position\":[");
	for (size_t i = 0; !rc && i < w->max_pos; i++) {
		rc = sl_buf_printf(b, "%s{\"position\":%zu,", i ? "," : "", i + 1);
		rc = rc ? rc : cell(b, &w->pos[i]);
		rc = rc ? rc : ch(b, '}');
	}
	return rc ? rc : ch(b, ']');
}

static int sources(struct sl_buf *b, const struct sl_recs_monitor *m, const struct recs_win *w)
{
	int rc = sl_buf_puts(b, "\"by_source\":{");
	bool first = true;
	for (size_t i = 0; !rc && i <= RECS_OTHER; i++) {
		if (!w->src[i].shown || (i < RECS_OTHER && i >= m->n_sources))
			continue;
		const char *name = i == RECS_OTHER ? "other" : m->sources[i];
		rc = first ? 0 : ch(b, ',');
		rc = rc ? rc : sl_buf_json_str(b, name, strlen(name));
		rc = rc ? rc : sl_buf_puts(b, ":{");
		rc = rc ? rc : cell(b, &w->src[i]);
		rc = rc ? rc : ch(b, '}');
		first = false;
	}
	return rc ? rc : ch(b, '}');
}

static int kinds(struct sl_buf *b, const struct sl_recs_metrics *r)
{
	int rc = sl_buf_puts(b, "\"interactions\":{");
	for (size_t i = 0; !rc && i < SL_RECS_KIND_COUNT_; i++)
		rc = sl_buf_printf(b, "\"%s\":%llu,", sl_recs_kind_name((enum sl_recs_kind)i),
		                   (unsigned long long)r->kinds[i]);
	return rc ? rc : sl_buf_printf(b, "\"long_watch\":%llu}", (unsigned long long)r->long_watches);
}

static int metrics(struct sl_buf *b, const struct sl_recs_monitor *m, const struct recs_win *w,
                   const struct sl_recs_metrics *r)
{
	int rc = sl_buf_printf(b,
	                       "{\"slates\":%llu,\"items_shown\":%llu,\"repeat_slates\":%llu,\"distinct_items\":%llu,"
	                       "\"untracked_exposures\":%llu,\"clicked\":%llu,",
	                       (unsigned long long)r->slates, (unsigned long long)r->shown,
	                       (unsigned long long)r->repeat_slates, (unsigned long long)r->distinct,
	                       (unsigned long long)r->untracked, (unsigned long long)r->clicked);
	const struct {
		const char *k;
		double v;
	} f[] = {{"start", r->start},
	         {"end", r->end},
	         {"catalog_size", r->catalog},
	         {"diversity", r->diversity},
	         {"novelty", r->novelty},
	         {"catalog_coverage", r->coverage},
	         {"gini", r->gini},
	         {"repetition", r->repetition},
	         {"reshown_ignored", r->reshown_ignored},
	         {"ctr", r->ctr},
	         {"watch_s", r->watch_s},
	         {"watch_per_item", r->watch_per_item},
	         {"satisfaction", r->satisfaction}};
	for (size_t i = 0; !rc && i < sizeof f / sizeof *f; i++) {
		rc = num(b, f[i].k, f[i].v);
		rc = rc ? rc : ch(b, ',');
	}
	rc = rc ? rc : kinds(b, r);
	rc = rc ? rc : ch(b, ',');
	rc = rc ? rc : positions(b, w);
	rc = rc ? rc : ch(b, ',');
	rc = rc ? rc : sources(b, m, w);
	return rc ? rc : ch(b, '}');
}

static int version_json(const struct sl_recs_monitor *m, const struct recs_version *v, struct sl_buf *b)
{
	struct sl_recs_metrics cur;
	int rc = sl_recs_metrics_get(m, v->name, SL_RECS_CURRENT, &cur);
	rc = rc ? rc : sl_buf_puts(b, "{\"version\":");
	rc = rc ? rc : sl_buf_json_str(b, v->name, strlen(v->name));
	rc = rc ? rc : sl_buf_puts(b, ",\"window\":");
	if (!rc)
		rc = v->has_last ? metrics(b, m, &v->last, &v->last_m) : sl_buf_puts(b, "null");
	rc = rc ? rc : sl_buf_puts(b, ",\"current\":");
	rc = rc ? rc : metrics(b, m, &v->cur, &cur);
	return rc ? rc : ch(b, '}');
}

/* Cuts b back to its entry length when the writing failed. */
static int atomic(struct sl_buf *b, size_t len0, int rc)
{
	if (rc && b->data) {
		b->len = len0;
		b->data[len0] = '\0';
	}
	return rc;
}

int sl_recs_json_version(const struct sl_recs_monitor *m, const char *version, struct sl_buf *out)
{
	if (!m || !out)
		return SL_EINVAL;
	const struct recs_version *v = sl__recs_version(m, version);
	if (!v)
		return SL_ENOTFOUND;
	return atomic(out, out->len, version_json(m, v, out));
}

int sl_recs_json(const struct sl_recs_monitor *m, struct sl_buf *out)
{
	if (!m || !out)
		return SL_EINVAL;
	size_t len0 = out->len;
	const struct sl_recs_opts *o = &m->o;
	int rc = sl_buf_printf(out,
	                       "{\"bounds\":{\"window_slates\":%zu,\"window_seconds\":%.6g,\"max_slate\":%zu,"
	                       "\"max_users\":%zu,\"max_pending\":%zu,\"max_items\":%zu,\"max_window_items\":%zu,"
	                       "\"long_watch_s\":%.6g,\"memory_bytes\":%zu},\"versions\":[",
	                       o->window_slates, o->window_seconds, o->max_slate, o->max_users, o->max_pending,
	                       o->max_items, o->max_window_items, o->long_watch_s, sl_recs_monitor_memory(m));
	for (size_t i = 0; !rc && i < m->n_ver; i++) {
		rc = i ? ch(out, ',') : 0;
		rc = rc ? rc : version_json(m, m->ver[i], out);
	}
	rc = rc ? rc : sl_buf_puts(out, "]}");
	return atomic(out, len0, rc);
}
