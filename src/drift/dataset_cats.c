/* dataset_cats.c: bounded category counts: an open-addressing table of at most `cap`
 * categories with exact counts, and past the cap a count-min sketch that takes every value
 * (started from the exact counts, so it has seen everything).
 * Comparing two summaries: exact per category over the union when neither overflowed, else
 * through the first row of the two sketches, i.e. the categories hashed into w bins; hashing
 * only merges categories, which can hide drift but never invents it (the Jensen-Shannon
 * distance of merged bins is at most the true one).
 * Invariants: n <= cap; keys are stored once in pool, cut to max_key bytes on a UTF-8 boundary;
 * total = sum of counts + folded; items' hashes are sl__cat_hash (c->seed) of their keys (the
 * sketch hashes keys itself). */
#include <math.h>

#include "table-int.h" /* sl__cat_hash, shared with the loader */

int sl_drift_cats_init(struct sl_drift_cats *c, size_t cap, size_t max_key, double eps, double delta, uint64_t seed)
{
	if (cap == 0 || cap > (1u << 30) || max_key == 0 || !(eps > 0 && eps < 1) || !(delta > 0 && delta < 1))
		return SL_EINVAL;
	*c = (struct sl_drift_cats){.cap = cap, .max_key = max_key, .cms_eps = eps, .cms_delta = delta, .seed = seed};
	return 0;
}

void sl_drift_cats_release(struct sl_drift_cats *c)
{
	free(c->items);
	free(c->slots);
	free(c->pool);
	if (c->cms)
		sl_cms_release(c->cms);
	free(c->cms);
	c->items = NULL, c->slots = NULL, c->pool = NULL, c->cms = NULL;
	c->n = c->nslots = c->pool_len = c->pool_cap = 0;
}

void sl_drift_cats_reset(struct sl_drift_cats *c)
{
	if (c->slots)
		memset(c->slots, 0, c->nslots * sizeof *c->slots);
	if (c->cms) {
		sl_cms_release(c->cms);
		free(c->cms);
		c->cms = NULL;
	}
	c->n = c->pool_len = 0;
	c->total = c->folded = c->missing = 0;
}

static const char *key_of(const struct sl_drift_cats *c, const struct sl_drift_cat_item *it)
{
	return c->pool + it->off;
}

/* The slot layout and the probe are table-int.h's (sl__cats_find), shared with the loader's
 * inline count of a key already in the table. */
static uint32_t slot_value(const struct sl_drift_cats *c, uint64_t h, size_t i)
{
	return (uint32_t)(h >> 32) << sl__cats_idx_bits(c) | (uint32_t)(i + 1);
}

static size_t slot_item(const struct sl_drift_cats *c, uint32_t v)
{
	return sl__cats_slot_item(c, v);
}

/* Slot holding key, or the empty slot where it would go. */
static uint32_t *find(const struct sl_drift_cats *c, uint64_t h, const char *k, size_t len)
{
	return sl__cats_find(c, h, k, len);
}

/* Doubles the slots (load factor <= 1/2) and the item array with them. */
static int grow(struct sl_drift_cats *c)
{
	size_t nslots = c->nslots ? c->nslots * 2 : 64;
	uint32_t *s = calloc(nslots, sizeof *s);
	struct sl_drift_cat_item *it = s ? realloc(c->items, nslots / 2 * sizeof *it) : NULL;
	if (!it) {
		free(s);
		return SL_ENOMEM;
	}
	free(c->slots);
	c->items = it, c->slots = s, c->nslots = nslots;
	for (size_t i = 0; i < c->n; i++)
		*find(c, it[i].hash, key_of(c, &it[i]), it[i].len) = slot_value(c, it[i].hash, i);
	return 0;
}

static int insert(struct sl_drift_cats *c, uint64_t h, const char *k, size_t len, uint64_t count)
{
	if (c->pool_len + len > UINT32_MAX)
		return SL_ETOOBIG;
	if ((c->n + 1) * 2 > c->nslots && grow(c))
		return SL_ENOMEM;
	if (sl__grow((void **)&c->pool, &c->pool_cap, c->pool_len + len + 1, 1))
		return SL_ENOMEM;
	memcpy(c->pool + c->pool_len, k, len);
	c->items[c->n] = (struct sl_drift_cat_item){h, count, (uint32_t)c->pool_len, (uint32_t)len};
	c->pool_len += len;
	c->n++;
	*find(c, h, k, len) = slot_value(c, h, c->n - 1);
	return 0;
}

/* The first overflow: a sketch seeded with everything counted so far. */
static int start_sketch(struct sl_drift_cats *c)
{
	struct sl_cms *s = malloc(sizeof *s);
	if (!s)
		return SL_ENOMEM;
	int rc = sl_cms_init(s, c->cms_eps, c->cms_delta, c->seed);
	if (rc) {
		free(s);
		return rc;
	}
	for (size_t i = 0; i < c->n; i++)
		sl_cms_add(s, key_of(c, &c->items[i]), c->items[i].len, c->items[i].count);
	c->cms = s;
	return 0;
}

/* A category that does not fit: counted as folded, and from now on by the sketch. */
static int fold(struct sl_drift_cats *c, uint64_t count)
{
	int rc = c->cms ? 0 : start_sketch(c);
	if (rc == 0)
		c->folded += count;
	return rc;
}

int sl_drift_cats_add(struct sl_drift_cats *c, const char *key, size_t len, uint64_t count)
{
	len = sl__utf8_cut(key, len, c->max_key);
	return sl__cats_add_hashed(c, key, len, sl__cat_hash(key, len, c->seed), count);
}

int sl__cats_add_hashed(struct sl_drift_cats *c, const char *key, size_t len, uint64_t h, uint64_t count)
{
	uint32_t *slot = c->nslots ? find(c, h, key, len) : NULL;
	int rc = 0;
	if (slot && *slot)
		c->items[slot_item(c, *slot)].count += count;
	else if (c->n >= c->cap || (rc = insert(c, h, key, len, count)) == SL_ETOOBIG)
		rc = fold(c, count);
	if (rc)
		return rc;
	if (c->cms)
		sl_cms_add(c->cms, key, len, count);
	c->total += count;
	return 0;
}

void sl_drift_cat_pair_release(struct sl_drift_cat_pair *p)
{
	free(p->ref);
	free(p->cur);
	free(p->names);
	free(p->lens);
	*p = (struct sl_drift_cat_pair){0};
}

struct entry {
	const char *k;
	uint32_t len;
	double r, c;
};

/* Python's str order is code point order, which UTF-8 byte order preserves. */
static int cmp_entry(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;
	int d = memcmp(x->k, y->k, x->len < y->len ? x->len : y->len);
	return d ? d : (x->len > y->len) - (x->len < y->len);
}

static int pair_alloc(struct sl_drift_cat_pair *p, size_t k, bool names)
{
	*p = (struct sl_drift_cat_pair){.k = k};
	p->ref = calloc(k ? k : 1, sizeof *p->ref);
	p->cur = calloc(k ? k : 1, sizeof *p->cur);
	if (names) {
		p->names = calloc(k ? k : 1, sizeof *p->names);
		p->lens = calloc(k ? k : 1, sizeof *p->lens);
	}
	if (!p->ref || !p->cur || (names && (!p->names || !p->lens))) {
		sl_drift_cat_pair_release(p);
		return SL_ENOMEM;
	}
	return 0;
}

/* Union of the exact tables: the reference's categories, then the current-only ones. */
static int pair_exact(const struct sl_drift_cats *ref, const struct sl_drift_cats *cur, bool names,
                      struct sl_drift_cat_pair *out)
{
	struct entry *e = malloc((ref->n + cur->n + 1) * sizeof *e);
	if (!e)
		return SL_ENOMEM;
	size_t k = 0;
	for (size_t i = 0; i < ref->n; i++)
		e[k++] = (struct entry){key_of(ref, &ref->items[i]), ref->items[i].len, (double)ref->items[i].count, 0};
	for (size_t i = 0; i < cur->n; i++) {
		const struct sl_drift_cat_item *it = &cur->items[i];
		uint32_t *slot = ref->nslots ? find(ref, it->hash, key_of(cur, it), it->len) : NULL;
		if (slot && *slot)
			e[slot_item(ref, *slot)].c = (double)it->count;
		else
			e[k++] = (struct entry){key_of(cur, it), it->len, 0, (double)it->count};
	}
	qsort(e, k, sizeof *e, cmp_entry);
	int rc = pair_alloc(out, k, names);
	for (size_t i = 0; i < k && rc == 0; i++) {
		out->ref[i] = e[i].r, out->cur[i] = e[i].c;
		if (names)
			out->names[i] = e[i].k, out->lens[i] = e[i].len;
	}
	free(e);
	return rc;
}

/* The sketch of s, or a temporary one built from its exact counts (*tmp owns it). */
static int sketch_of(const struct sl_drift_cats *s, struct sl_cms *tmp, const struct sl_cms **out)
{
	if (s->cms) {
		*out = s->cms;
		return 0;
	}
	int rc = sl_cms_init(tmp, s->cms_eps, s->cms_delta, s->seed);
	for (size_t i = 0; i < s->n && rc == 0; i++)
		sl_cms_add(tmp, key_of(s, &s->items[i]), s->items[i].len, s->items[i].count);
	*out = tmp;
	return rc;
}

static int pair_hashed(const struct sl_drift_cats *ref, const struct sl_drift_cats *cur, struct sl_drift_cat_pair *out)
{
	if (ref->cms_eps != cur->cms_eps || ref->cms_delta != cur->cms_delta || ref->seed != cur->seed)
		return SL_EINVAL;
	struct sl_cms tr = {0}, tc = {0};
	const struct sl_cms *a = NULL, *b = NULL;
	int rc = sketch_of(ref, &tr, &a);
	if (rc == 0)
		rc = sketch_of(cur, &tc, &b);
	if (rc == 0)
		rc = pair_alloc(out, a->w, false);
	for (size_t i = 0; rc == 0 && i < a->w; i++)
		out->ref[i] = a->c[i], out->cur[i] = b->c[i];
	if (rc == 0)
		out->hashed = true;
	sl_cms_release(&tr);
	sl_cms_release(&tc);
	return rc;
}

int sl_drift_cats_pair(const struct sl_drift_cats *ref, const struct sl_drift_cats *cur, bool names,
                       struct sl_drift_cat_pair *out)
{
	if (!ref || !cur || !out)
		return SL_EINVAL;
	if (ref->cms || cur->cms)
		return pair_hashed(ref, cur, out);
	return pair_exact(ref, cur, names, out);
}

int sl_drift_cats_union(const struct sl_drift_cats *ref, const struct sl_drift_cats *cur, struct sl_drift_cat_pair *out)
{
	if (!ref || !cur || !out)
		return SL_EINVAL;
	return pair_exact(ref, cur, true, out);
}

int sl_drift_compare_cats(const struct sl_drift_cats *ref, const struct sl_drift_cats *cur,
                          const struct sl_drift_opts *o, struct sl_drift_result *out)
{
	struct sl_drift_cat_pair p;
	int rc = sl_drift_cats_pair(ref, cur, false, &p);
	if (rc)
		return rc;
	rc = sl_drift_test_cat(p.ref, p.cur, p.k, o, out);
	sl_drift_cat_pair_release(&p);
	return rc;
}
