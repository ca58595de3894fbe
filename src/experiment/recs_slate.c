/* recs_slate.c: what a served slate and an interaction do to the live monitor.
 * A slate: validated whole first (nothing is counted on error), then popularity (exact table,
 * count-min past max_items), the version window's exposures, intra-list diversity, repetition
 * against the user's previous slate, and a pending record for its interactions.
 * An interaction: found by request id (or the user's last slate), then counted in the window of
 * the slate's version; a click counts once per shown item for CTR.
 * The _observe forms also say what one call contributed (struct sl_recs_obs), for the canary
 * judge and the drift monitor.
 * Invariants: items of one slate are distinct (by hash); clicked masks have one bit per position
 * (max_slate <= 64). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "recs-int.h"

struct cats {
	uint64_t h[SL_RECS_MAX_CATS];
	size_t n;
};

static bool slate_valid(const struct sl_recs_monitor *m, const struct sl_recs_slate_in *in, uint64_t *hash)
{
	size_t len;
	if (!sl__recs_id_ok(in->version, &len) || !sl__recs_id_ok(in->user, &len) ||
	    !sl__recs_id_ok(in->request_id, &len) || !in->items || in->n == 0 || !isfinite(in->now) || in->now < 0)
		return false;
	if (in->embeddings && (in->dim == 0 || in->dim > SL_RECS_EVAL_MAX_DIM))
		return false;
	for (size_t i = 0; i < in->n; i++) {
		if (!sl__recs_id_ok(in->items[i], &len))
			return false;
		hash[i] = sl__recs_hash(in->items[i], len);
		for (size_t j = 0; j < i; j++)
			if (hash[j] == hash[i])
				return false;
		if (in->categories && in->categories[i] &&
		    strnlen(in->categories[i], SL_RECS_MAX_ID + 1) > SL_RECS_MAX_ID)
			return false;
		for (size_t d = 0; in->embeddings && d < in->dim; d++)
			if (!isfinite(in->embeddings[i * in->dim + d]))
				return false;
	}
	return true;
}

/* Exposure count of an item after this exposure: exact, or the sketch's estimate past the cap. */
static uint64_t popularity_add(struct sl_recs_monitor *m, const char *item, uint64_t h)
{
	uint64_t c = 1;
	m->exposures++;
	int rc = sl__recs_counts_add(&m->pop, h, 1, &c);
	if (rc != SL_ERANGE)
		return c;
	if (!m->cms_on && sl_cms_init(&m->cms, m->o.cms_eps, m->o.cms_delta, 0x9e3779b9ULL) == 0)
		m->cms_on = true;
	if (!m->cms_on)
		return 1;
	sl_cms_add(&m->cms, item, strlen(item), 1);
	sl__recs_hll_add(&m->hll, h);
	return sl_cms_estimate(&m->cms, item, strlen(item));
}

static void parse_cats(const char *s, struct cats *c)
{
	c->n = 0;
	while (s && *s && c->n < SL_RECS_MAX_CATS) {
		size_t k = strcspn(s, "|");
		if (k)
			c->h[c->n++] = sl__recs_hash(s, k);
		s += k + (s[k] == '|');
	}
}

/* Jaccard similarity of two category sets; NaN when one is empty. */
static double cats_sim(const struct cats *a, const struct cats *b)
{
	if (!a->n || !b->n)
		return NAN;
	size_t inter = 0, ua = 0;
	for (size_t i = 0; i < a->n; i++) {
		bool dup = false, hit = false;
		for (size_t j = 0; j < i; j++)
			dup |= a->h[j] == a->h[i];
		for (size_t j = 0; j < b->n; j++)
			hit |= b->h[j] == a->h[i];
		ua += !dup, inter += !dup && hit;
	}
	size_t ub = 0;
	for (size_t i = 0; i < b->n; i++) {
		bool dup = false;
		for (size_t j = 0; j < i; j++)
			dup |= b->h[j] == b->h[i];
		ub += !dup;
	}
	return (double)inter / (double)(ua + ub - inter);
}

static double emb_sim(const float *a, const float *b, size_t dim)
{
	double dot = 0, na = 0, nb = 0;
	for (size_t d = 0; d < dim; d++)
		dot += (double)a[d] * b[d], na += (double)a[d] * a[d], nb += (double)b[d] * b[d];
	return na > 0 && nb > 0 ? dot / sqrt(na * nb) : NAN;
}

/* 1 - mean pairwise similarity (embeddings if given, else categories); NaN with no pair. */
static double slate_ild(const struct sl_recs_slate_in *in)
{
	struct cats c[SL_RECS_MAX_SLATE];
	if (!in->embeddings && !in->categories)
		return NAN;
	for (size_t i = 0; !in->embeddings && i < in->n; i++)
		parse_cats(in->categories[i], &c[i]);
	double sum = 0;
	size_t pairs = 0;
	for (size_t i = 0; i < in->n; i++)
		for (size_t j = i + 1; j < in->n; j++) {
			double s = in->embeddings
			               ? emb_sim(in->embeddings + i * in->dim, in->embeddings + j * in->dim, in->dim)
			               : cats_sim(&c[i], &c[j]);
			if (!isnan(s))
				sum += s, pairs++;
		}
	return pairs ? 1 - sum / (double)pairs : NAN;
}

/* Jaccard of the user's previous slate and this one, and the re-shown ignored items. */
static void repetition(struct sl_recs_monitor *m, struct recs_win *w, size_t slot, const uint64_t *hash, size_t n,
                       struct sl_recs_obs *obs)
{
	const uint64_t *prev = m->user_items + slot * m->o.max_slate;
	size_t pn = m->user_n[slot], inter = 0, ignored = 0;
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < pn; j++)
			if (prev[j] == hash[i]) {
				inter++;
				ignored += !(m->user_clicked[slot] >> j & 1);
			}
	w->repeat_slates++;
	w->repeat_items += n;
	w->jaccard_sum += (double)inter / (double)(n + pn - inter);
	w->reshown += (double)ignored;
	obs->repetition = (double)inter / (double)(n + pn - inter);
	obs->reshown_ignored = (double)ignored / (double)n;
	obs->prev_version = m->ver[m->user_ver[slot]]->name;
	obs->prev_shown = (unsigned)pn;
	obs->prev_clicked = (unsigned)__builtin_popcountll(m->user_clicked[slot]);
}

static void user_update(struct sl_recs_monitor *m, size_t ver, const char *user, uint64_t req, const uint64_t *hash,
                        size_t n, struct sl_recs_obs *obs)
{
	bool fresh, evicted;
	size_t slot = sl__recs_assoc_claim(&m->users, sl__recs_hash(user, strlen(user)), &fresh, &evicted);
	if (!fresh && m->user_n[slot])
		repetition(m, &m->ver[ver]->cur, slot, hash, n, obs);
	memcpy(m->user_items + slot * m->o.max_slate, hash, n * sizeof *hash);
	m->user_n[slot] = (uint8_t)n;
	m->user_ver[slot] = (uint8_t)ver;
	m->user_clicked[slot] = 0;
	m->user_req[slot] = req;
}

static void pending_add(struct sl_recs_monitor *m, const struct sl_recs_slate_in *in, uint64_t req, size_t ver,
                        const uint64_t *hash, const uint8_t *src)
{
	bool fresh, evicted;
	size_t slot = sl__recs_assoc_claim(&m->slates, req, &fresh, &evicted);
	memcpy(m->slate_items + slot * m->o.max_slate, hash, in->n * sizeof *hash);
	memcpy(m->slate_src + slot * m->o.max_slate, src, in->n);
	m->slate_n[slot] = (uint8_t)in->n;
	m->slate_ver[slot] = (uint8_t)ver;
	m->slate_clicked[slot] = 0;
	m->slate_user[slot] = sl__recs_hash(in->user, strlen(in->user));
}

/* Exposure, novelty and position/source counts of every item; the slate's mean novelty. */
static double count_items(struct sl_recs_monitor *m, struct recs_version *v, const struct sl_recs_slate_in *in,
                        const uint64_t *hash, const uint8_t *src)
{
	struct recs_win *w = &v->cur;
	uint64_t pop[SL_RECS_MAX_SLATE];
	double novelty = 0;
	for (size_t i = 0; i < in->n; i++)
		pop[i] = popularity_add(m, in->items[i], hash[i]);
	for (size_t i = 0; i < in->n; i++) {
		double x = -log2((double)pop[i] / (double)m->exposures);
		novelty += x;
		w->novelty_sum += x;
		if (sl__recs_counts_add(&v->items, hash[i], 1, NULL))
			w->untracked++;
		w->pos[i].shown++;
		w->src[src[i]].shown++;
	}
	if (in->n > w->max_pos)
		w->max_pos = in->n;
	w->slates++;
	w->shown += in->n;
	return novelty / (double)in->n;
}

/* An observation of version with every measure not applicable (NaN) yet. */
static struct sl_recs_obs obs_of(const char *version)
{
	return (struct sl_recs_obs){.version = version,
	                            .diversity = NAN,
	                            .novelty = NAN,
	                            .repetition = NAN,
	                            .reshown_ignored = NAN,
	                            .watch_s = NAN};
}

int sl_recs_slate_observe(struct sl_recs_monitor *m, const struct sl_recs_slate_in *in, struct sl_recs_obs *obs)
{
	struct sl_recs_obs o;
	uint64_t hash[SL_RECS_MAX_SLATE];
	uint8_t src[SL_RECS_MAX_SLATE];
	if (!m || !in)
		return SL_EINVAL;
	if (in->n > m->o.max_slate)
		return SL_ETOOBIG;
	if (!slate_valid(m, in, hash))
		return SL_EINVAL;
	uint64_t req = sl__recs_hash(in->request_id, strlen(in->request_id));
	if (sl__recs_assoc_find(&m->slates, req) >= 0)
		return SL_ESTATE;
	size_t vi;
	int rc = sl__recs_version_get(m, in->version, &vi);
	if (rc)
		return rc;
	struct recs_version *v = m->ver[vi];
	for (size_t i = 0; i < in->n; i++)
		src[i] = (uint8_t)sl__recs_source(m, in->sources ? in->sources[i] : NULL);
	m->now = in->now > m->now ? in->now : m->now;
	sl__recs_win_enter(m, v, m->now);
	o = obs_of(v->name);
	o.novelty = count_items(m, v, in, hash, src);
	o.diversity = slate_ild(in);
	if (!isnan(o.diversity))
		v->cur.ild_sum += o.diversity, v->cur.ild_n++;
	user_update(m, vi, in->user, req, hash, in->n, &o);
	pending_add(m, in, req, vi, hash, src);
	sl__recs_win_check_count(m, v);
	if (obs)
		*obs = o;
	return 0;
}

int sl_recs_slate_add(struct sl_recs_monitor *m, const struct sl_recs_slate_in *in)
{
	return sl_recs_slate_observe(m, in, NULL);
}

int sl_recs_slate(struct sl_recs_monitor *m, const char *version, const char *user, const char *request_id,
                  const char *const *items, const char *const *sources, const char *const *categories, size_t n,
                  double now)
{
	struct sl_recs_slate_in in = {
	    .version = version,
	    .user = user,
	    .request_id = request_id,
	    .items = items,
	    .sources = sources,
	    .categories = categories,
	    .n = n,
	    .now = now,
	};
	return sl_recs_slate_add(m, &in);
}

/* The pending slate for a request id, or the user's last one. */
static long find_slate(const struct sl_recs_monitor *m, const char *request_id, const char *user)
{
	if (request_id)
		return sl__recs_assoc_find(&m->slates, sl__recs_hash(request_id, strlen(request_id)));
	long u = sl__recs_assoc_find(&m->users, sl__recs_hash(user, strlen(user)));
	return u < 0 ? -1 : sl__recs_assoc_find(&m->slates, m->user_req[u]);
}

static void count_click(struct sl_recs_monitor *m, struct recs_win *w, size_t slot, size_t pos)
{
	uint64_t bit = 1ULL << pos;
	if (m->slate_clicked[slot] & bit)
		return;
	m->slate_clicked[slot] |= bit;
	w->clicked++;
	w->pos[pos].clicked++;
	w->src[m->slate_src[slot * m->o.max_slate + pos]].clicked++;
	long u = sl__recs_assoc_find(&m->users, m->slate_user[slot]);
	if (u >= 0 && m->user_req[u] == m->slates.tag[slot].key)
		m->user_clicked[u] |= bit;
}

static void count_watch(struct sl_recs_monitor *m, struct recs_win *w, size_t slot, size_t pos, double s)
{
	struct recs_cell *cells[2] = {&w->pos[pos], &w->src[m->slate_src[slot * m->o.max_slate + pos]]};
	for (size_t i = 0; i < 2; i++)
		cells[i]->watches++, cells[i]->watch_s += s;
	w->watch_s += s;
	w->long_watches += s >= m->o.long_watch_s;
}

static bool interaction_valid(const char *request_id, const char *user, const char *item, enum sl_recs_kind kind,
                              double value, double now)
{
	size_t len;
	bool who = request_id ? sl__recs_id_ok(request_id, &len) : sl__recs_id_ok(user, &len);
	bool val = kind != SL_RECS_WATCH || (isfinite(value) && value >= 0 && value <= SL_RECS_MAX_WATCH);
	return who && val && sl__recs_id_ok(item, &len) && (unsigned)kind < SL_RECS_KIND_COUNT_ && isfinite(now) &&
	       now >= 0;
}

/* +1 for a like or a long watch, -1 for a dislike, skip or "not interested", else 0. */
static int sentiment(const struct sl_recs_monitor *m, enum sl_recs_kind kind, double value)
{
	if (kind == SL_RECS_LIKE || (kind == SL_RECS_WATCH && value >= m->o.long_watch_s))
		return 1;
	return kind == SL_RECS_DISLIKE || kind == SL_RECS_SKIP || kind == SL_RECS_NOT_INTERESTED ? -1 : 0;
}

int sl_recs_interaction_observe(struct sl_recs_monitor *m, const char *request_id, const char *user,
                                const char *item, enum sl_recs_kind kind, double value, double now,
                                struct sl_recs_obs *obs)
{
	if (!m || !interaction_valid(request_id, user, item, kind, value, now))
		return SL_EINVAL;
	long slot = find_slate(m, request_id, user);
	if (slot < 0)
		return SL_ENOTFOUND;
	uint64_t h = sl__recs_hash(item, strlen(item));
	const uint64_t *items = m->slate_items + (size_t)slot * m->o.max_slate;
	size_t pos = 0, n = m->slate_n[slot];
	while (pos < n && items[pos] != h)
		pos++;
	if (pos == n)
		return SL_ENOTFOUND;
	struct recs_version *v = m->ver[m->slate_ver[slot]];
	m->now = now > m->now ? now : m->now;
	sl__recs_win_enter(m, v, m->now);
	v->cur.kinds[kind]++;
	if (kind == SL_RECS_CLICK)
		count_click(m, &v->cur, (size_t)slot, pos);
	else if (kind == SL_RECS_WATCH)
		count_watch(m, &v->cur, (size_t)slot, pos, value);
	if (obs) {
		*obs = obs_of(v->name);
		obs->interaction = true;
		obs->kind = kind;
		obs->sentiment = sentiment(m, kind, value);
		obs->watch_s = kind == SL_RECS_WATCH ? value : NAN;
	}
	return 0;
}

int sl_recs_interaction(struct sl_recs_monitor *m, const char *request_id, const char *user, const char *item,
                        enum sl_recs_kind kind, double value, double now)
{
	return sl_recs_interaction_observe(m, request_id, user, item, kind, value, now, NULL);
}
