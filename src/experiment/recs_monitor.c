/* recs_monitor.c: the live recommendation monitor's lifecycle: options, the bounded tables,
 * versions, source names and tumbling windows (by slate count or by time, per version).
 * Invariants: all fixed-size tables are allocated here and nowhere else; a window closes by
 * computing its metrics into last_m, copying its accumulators into last and starting empty;
 * versions are never removed (at most SL_RECS_MAX_VERSIONS). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "recs-int.h"

#define MAX_TABLE (1u << 24)

void sl_recs_opts_init(struct sl_recs_opts *o)
{
	*o = (struct sl_recs_opts){
	    .window_slates = 1000,
	    .max_slate = 32,
	    .max_users = 16384,
	    .max_pending = 16384,
	    .max_items = 100000,
	    .max_window_items = 65536,
	    .long_watch_s = 30,
	    .cms_eps = 1e-4,
	    .cms_delta = 0.01,
	};
}

static bool opts_ok(const struct sl_recs_opts *o)
{
	bool windows = o->window_slates > 0 || o->window_seconds > 0;
	return windows && isfinite(o->window_seconds) && o->window_seconds >= 0 && o->max_slate >= 1 &&
	       o->max_slate <= SL_RECS_MAX_SLATE && o->max_users >= 1 && o->max_users <= MAX_TABLE &&
	       o->max_pending >= 1 && o->max_pending <= MAX_TABLE && o->max_items >= 1 && o->max_items <= MAX_TABLE &&
	       o->max_window_items >= 1 && o->max_window_items <= MAX_TABLE && isfinite(o->long_watch_s) &&
	       o->long_watch_s > 0 && o->cms_eps > 0 && o->cms_eps < 1 && o->cms_delta > 0 && o->cms_delta < 1;
}

static int alloc_tables(struct sl_recs_monitor *m)
{
	size_t ms = m->o.max_slate;
	if (sl__recs_assoc_init(&m->users, m->o.max_users) || sl__recs_assoc_init(&m->slates, m->o.max_pending))
		return SL_ENOMEM;
	size_t nu = m->users.sets * RECS_WAYS, np = m->slates.sets * RECS_WAYS;
	m->user_req = calloc(nu, sizeof *m->user_req);
	m->user_items = calloc(nu * ms, sizeof *m->user_items);
	m->user_clicked = calloc(nu, sizeof *m->user_clicked);
	m->user_n = calloc(nu, 1);
	m->user_ver = calloc(nu, 1);
	m->slate_items = calloc(np * ms, sizeof *m->slate_items);
	m->slate_clicked = calloc(np, sizeof *m->slate_clicked);
	m->slate_user = calloc(np, sizeof *m->slate_user);
	m->slate_n = calloc(np, 1);
	m->slate_src = calloc(np * ms, 1);
	m->slate_ver = calloc(np, 1);
	if (!m->user_req || !m->user_items || !m->user_clicked || !m->user_n || !m->user_ver || !m->slate_items || !m->slate_clicked ||
	    !m->slate_user || !m->slate_n || !m->slate_src || !m->slate_ver)
		return SL_ENOMEM;
	return sl__recs_counts_init(&m->pop, m->o.max_items, 1024);
}

int sl_recs_monitor_new(const struct sl_recs_opts *o, struct sl_recs_monitor **out)
{
	if (!o || !out || !opts_ok(o))
		return SL_EINVAL;
	struct sl_recs_monitor *m = calloc(1, sizeof *m);
	if (!m)
		return SL_ENOMEM;
	m->o = *o;
	int rc = alloc_tables(m);
	if (rc) {
		sl_recs_monitor_free(m);
		return rc;
	}
	*out = m;
	return 0;
}

static void version_free(struct recs_version *v)
{
	if (!v)
		return;
	free(v->cur.pos);
	free(v->last.pos);
	sl__recs_counts_release(&v->items);
	free(v);
}

void sl_recs_monitor_free(struct sl_recs_monitor *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->n_ver; i++)
		version_free(m->ver[i]);
	sl__recs_assoc_release(&m->users);
	sl__recs_assoc_release(&m->slates);
	free(m->user_req), free(m->user_items), free(m->user_clicked), free(m->user_n), free(m->user_ver);
	free(m->slate_items), free(m->slate_clicked), free(m->slate_user), free(m->slate_n);
	free(m->slate_src), free(m->slate_ver);
	sl__recs_counts_release(&m->pop);
	if (m->cms_on)
		sl_cms_release(&m->cms);
	free(m);
}

size_t sl_recs_monitor_memory(const struct sl_recs_monitor *m)
{
	size_t ms = m->o.max_slate, nu = m->users.sets * RECS_WAYS, np = m->slates.sets * RECS_WAYS;
	size_t b =
	    sizeof *m + nu * (sizeof(struct recs_tag) + 8 * ms + 18) + np * (sizeof(struct recs_tag) + 9 * ms + 18);
	b += m->pop.nslots * 16 + (m->cms_on ? (size_t)m->cms.w * m->cms.d * 4 : 0);
	for (size_t i = 0; i < m->n_ver; i++)
		b += sizeof *m->ver[i] + 2 * ms * sizeof(struct recs_cell) + m->ver[i]->items.nslots * 16;
	return b;
}

bool sl__recs_id_ok(const char *s, size_t *len)
{
	if (!s)
		return false;
	*len = strnlen(s, SL_RECS_MAX_ID + 1);
	return *len >= 1 && *len <= SL_RECS_MAX_ID;
}

const struct recs_version *sl__recs_version(const struct sl_recs_monitor *m, const char *name)
{
	for (size_t i = 0; name && i < m->n_ver; i++)
		if (strcmp(m->ver[i]->name, name) == 0)
			return m->ver[i];
	return NULL;
}

static int version_new(struct sl_recs_monitor *m, const char *name, size_t len)
{
	struct recs_version *v = calloc(1, sizeof *v);
	if (!v)
		return SL_ENOMEM;
	memcpy(v->name, name, len);
	v->cur.pos = calloc(m->o.max_slate, sizeof *v->cur.pos);
	v->last.pos = calloc(m->o.max_slate, sizeof *v->last.pos);
	int rc = v->cur.pos && v->last.pos ? sl__recs_counts_init(&v->items, m->o.max_window_items, 64) : SL_ENOMEM;
	if (rc) {
		version_free(v);
		return rc;
	}
	m->ver[m->n_ver++] = v;
	return 0;
}

int sl__recs_version_get(struct sl_recs_monitor *m, const char *name, size_t *idx)
{
	size_t len;
	if (!sl__recs_id_ok(name, &len))
		return SL_EINVAL;
	for (size_t i = 0; i < m->n_ver; i++)
		if (strcmp(m->ver[i]->name, name) == 0) {
			*idx = i;
			return 0;
		}
	if (m->n_ver >= SL_RECS_MAX_VERSIONS)
		return SL_ERANGE;
	int rc = version_new(m, name, len);
	if (rc == 0)
		*idx = m->n_ver - 1;
	return rc;
}

size_t sl__recs_source(struct sl_recs_monitor *m, const char *name)
{
	size_t len;
	if (!name || !*name || !sl__recs_id_ok(name, &len))
		return RECS_OTHER;
	for (size_t i = 0; i < m->n_sources; i++)
		if (strcmp(m->sources[i], name) == 0)
			return i;
	if (m->n_sources >= SL_RECS_MAX_SOURCES)
		return RECS_OTHER;
	memcpy(m->sources[m->n_sources], name, len + 1);
	return m->n_sources++;
}

double sl__recs_catalog(const struct sl_recs_monitor *m)
{
	return (double)m->pop.n + (m->cms_on ? sl__recs_hll_estimate(&m->hll) : 0);
}

static void win_clear(struct recs_win *w, size_t max_slate)
{
	struct recs_cell *pos = w->pos;
	memset(pos, 0, max_slate * sizeof *pos);
	*w = (struct recs_win){.pos = pos};
}

static void win_close(struct sl_recs_monitor *m, struct recs_version *v)
{
	if (sl__recs_win_metrics(m, &v->cur, &v->items, &v->last_m))
		return; /* out of memory for the Gini sort: keep filling this window */
	struct recs_cell *pos = v->last.pos;
	memcpy(pos, v->cur.pos, m->o.max_slate * sizeof *pos);
	v->last = v->cur;
	v->last.pos = pos;
	v->has_last = true;
	v->closed++;
	win_clear(&v->cur, m->o.max_slate);
	sl__recs_counts_reset(&v->items);
}

void sl__recs_win_enter(struct sl_recs_monitor *m, struct recs_version *v, double now)
{
	struct recs_win *w = &v->cur;
	if (w->started && m->o.window_seconds > 0 && now - w->start >= m->o.window_seconds)
		win_close(m, v);
	if (!w->started)
		w->started = true, w->start = now;
	w->end = now;
}

void sl__recs_win_check_count(struct sl_recs_monitor *m, struct recs_version *v)
{
	if (m->o.window_slates && v->cur.slates >= m->o.window_slates)
		win_close(m, v);
}

void sl_recs_tick(struct sl_recs_monitor *m, double now)
{
	if (!m || !isfinite(now))
		return;
	if (now > m->now)
		m->now = now;
	for (size_t i = 0; i < m->n_ver; i++) {
		struct recs_win *w = &m->ver[i]->cur;
		if (w->started && m->o.window_seconds > 0 && m->now - w->start >= m->o.window_seconds)
			win_close(m, m->ver[i]);
	}
}
