/* recs_offline.c: Microsoft Recommenders' beyond-accuracy metrics (python_evaluation.py:
 * catalog_coverage, distributional_coverage, historical_item_novelty, novelty, diversity,
 * user_diversity, user_item_serendipity, user_serendipity, serendipity) over arrays of rows.
 * pandas semantics kept: repeated rows count as often as they appear (a merge multiplies
 * them), co-occurrence similarity exists only for pairs some user has both of (0 otherwise),
 * and means are taken over the users or rows where the metric is defined.
 * Invariants: the index is built once and never changes except the feature table; train rows
 * are collapsed to (user, item, count) sorted both ways; reco rows keep their input position. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sluice/recs.h"

struct ucount { /* one (key, other, count) row of a collapsed table */
	int64_t key, other;
	uint64_t count;
};
struct range {
	int64_t key;
	size_t lo, hi;
	uint64_t total;
};
struct rrow {
	int64_t user, item;
	double rel;
	size_t pos;
};

struct sl_recs_eval {
	size_t n_train, n_reco;
	struct ucount *by_user, *by_item; /* collapsed train, sorted (user, item) and (item, user) */
	struct range *users, *items;      /* train ranges in by_user / by_item */
	size_t n_users, n_items;
	struct rrow *reco; /* sorted (user, item, pos) */
	struct range *reco_users;
	size_t n_reco_users;
	int64_t *feat_items; /* sorted */
	double *feat, *norm;
	size_t n_feat, dim;
};

static int cmp_i64(int64_t a, int64_t b)
{
	return (a > b) - (a < b);
}

static int cmp_ucount(const void *a, const void *b)
{
	const struct ucount *x = a, *y = b;
	int c = cmp_i64(x->key, y->key);
	return c ? c : cmp_i64(x->other, y->other);
}

static int cmp_rrow(const void *a, const void *b)
{
	const struct rrow *x = a, *y = b;
	int c = cmp_i64(x->user, y->user);
	if (!c)
		c = cmp_i64(x->item, y->item);
	return c ? c : (x->pos > y->pos) - (x->pos < y->pos);
}

/* Sorts rows (key, other, 1) and merges equal ones; returns the new length. */
static size_t collapse(struct ucount *t, size_t n)
{
	qsort(t, n, sizeof *t, cmp_ucount);
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		if (k && t[k - 1].key == t[i].key && t[k - 1].other == t[i].other)
			t[k - 1].count += t[i].count;
		else
			t[k++] = t[i];
	}
	return k;
}

/* Ranges of equal keys in a sorted collapsed table; *out sized n (enough). */
static size_t ranges(const struct ucount *t, size_t n, struct range *out)
{
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		if (!k || out[k - 1].key != t[i].key)
			out[k++] = (struct range){t[i].key, i, i, 0};
		out[k - 1].hi = i + 1;
		out[k - 1].total += t[i].count;
	}
	return k;
}

static size_t reco_ranges(const struct rrow *r, size_t n, struct range *out)
{
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		if (!k || out[k - 1].key != r[i].user)
			out[k++] = (struct range){r[i].user, i, i, 0};
		out[k - 1].hi = i + 1;
		out[k - 1].total++;
	}
	return k;
}

static const struct range *find_range(const struct range *r, size_t n, int64_t key)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (r[mid].key < key)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < n && r[lo].key == key ? &r[lo] : NULL;
}

static int index_train(struct sl_recs_eval *e, const struct sl_recs_row *train, size_t n)
{
	e->by_user = malloc(n * sizeof *e->by_user);
	e->by_item = malloc(n * sizeof *e->by_item);
	e->users = malloc(n * sizeof *e->users);
	e->items = malloc(n * sizeof *e->items);
	if (!e->by_user || !e->by_item || !e->users || !e->items)
		return SL_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		e->by_user[i] = (struct ucount){train[i].user, train[i].item, 1};
		e->by_item[i] = (struct ucount){train[i].item, train[i].user, 1};
	}
	size_t nu = collapse(e->by_user, n), ni = collapse(e->by_item, n);
	e->n_users = ranges(e->by_user, nu, e->users);
	e->n_items = ranges(e->by_item, ni, e->items);
	return 0;
}

static int index_reco(struct sl_recs_eval *e, const struct sl_recs_row *reco, size_t n)
{
	e->reco = malloc((n ? n : 1) * sizeof *e->reco);
	e->reco_users = malloc((n ? n : 1) * sizeof *e->reco_users);
	if (!e->reco || !e->reco_users)
		return SL_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		if (!isfinite(reco[i].relevance))
			return SL_EINVAL;
		e->reco[i] = (struct rrow){reco[i].user, reco[i].item, reco[i].relevance, i};
	}
	qsort(e->reco, n, sizeof *e->reco, cmp_rrow);
	e->n_reco_users = reco_ranges(e->reco, n, e->reco_users);
	return 0;
}

int sl_recs_eval_new(const struct sl_recs_row *train, size_t n_train, const struct sl_recs_row *reco, size_t n_reco,
                     struct sl_recs_eval **out)
{
	if (!out || !train || n_train == 0 || (!reco && n_reco))
		return SL_EINVAL;
	if (n_train > SL_RECS_EVAL_MAX_ROWS || n_reco > SL_RECS_EVAL_MAX_ROWS)
		return SL_ETOOBIG;
	struct sl_recs_eval *e = calloc(1, sizeof *e);
	if (!e)
		return SL_ENOMEM;
	e->n_train = n_train, e->n_reco = n_reco;
	int rc = index_train(e, train, n_train);
	if (!rc)
		rc = index_reco(e, reco, n_reco);
	if (rc) {
		sl_recs_eval_free(e);
		return rc;
	}
	*out = e;
	return 0;
}

void sl_recs_eval_free(struct sl_recs_eval *e)
{
	if (!e)
		return;
	free(e->by_user);
	free(e->by_item);
	free(e->users);
	free(e->items);
	free(e->reco);
	free(e->reco_users);
	free(e->feat_items);
	free(e->feat);
	free(e->norm);
	free(e);
}

struct feat_sort {
	int64_t item;
	size_t row;
};

static int cmp_feat(const void *a, const void *b)
{
	return cmp_i64(((const struct feat_sort *)a)->item, ((const struct feat_sort *)b)->item);
}

/* Copies the rows in item order and their Euclidean norms. */
static int copy_features(struct sl_recs_eval *e, const struct feat_sort *fs, const double *vecs, size_t n, size_t dim)
{
	for (size_t i = 0; i < n; i++) {
		if (i && fs[i].item == fs[i - 1].item)
			return SL_EINVAL;
		double s = 0;
		for (size_t d = 0; d < dim; d++) {
			double v = vecs[fs[i].row * dim + d];
			if (!isfinite(v))
				return SL_EINVAL;
			e->feat[i * dim + d] = v;
			s += v * v;
		}
		e->feat_items[i] = fs[i].item;
		e->norm[i] = sqrt(s);
	}
	return 0;
}

int sl_recs_eval_features(struct sl_recs_eval *e, const int64_t *items, const double *vecs, size_t n, size_t dim)
{
	if (!e || !items || !vecs || n == 0 || dim == 0 || dim > SL_RECS_EVAL_MAX_DIM)
		return SL_EINVAL;
	if (n > SL_RECS_EVAL_MAX_ROWS / dim)
		return SL_ETOOBIG;
	struct feat_sort *fs = malloc(n * sizeof *fs);
	int64_t *fi = malloc(n * sizeof *fi);
	double *f = malloc(n * dim * sizeof *f), *nm = malloc(n * sizeof *nm);
	int rc = fs && fi && f && nm ? 0 : SL_ENOMEM;
	if (!rc) {
		for (size_t i = 0; i < n; i++)
			fs[i] = (struct feat_sort){items[i], i};
		qsort(fs, n, sizeof *fs, cmp_feat);
		struct sl_recs_eval tmp = {.feat_items = fi, .feat = f, .norm = nm};
		rc = copy_features(&tmp, fs, vecs, n, dim);
	}
	free(fs);
	if (rc) {
		free(fi), free(f), free(nm);
		return rc;
	}
	free(e->feat_items), free(e->feat), free(e->norm);
	e->feat_items = fi, e->feat = f, e->norm = nm, e->n_feat = n, e->dim = dim;
	return 0;
}

static int cmp_item(const void *a, const void *b)
{
	return cmp_i64(*(const int64_t *)a, *(const int64_t *)b);
}

/* The recommended items, sorted (runs of one item are its recommendation count). */
static int64_t *reco_items_sorted(const struct sl_recs_eval *e)
{
	int64_t *v = malloc((e->n_reco ? e->n_reco : 1) * sizeof *v);
	if (!v)
		return NULL;
	for (size_t i = 0; i < e->n_reco; i++)
		v[i] = e->reco[i].item;
	qsort(v, e->n_reco, sizeof *v, cmp_item);
	return v;
}

/* Length of the run of equal items starting at v[i]. */
static size_t run(const int64_t *v, size_t n, size_t i)
{
	size_t j = i;
	while (j < n && v[j] == v[i])
		j++;
	return j - i;
}

double sl_recs_catalog_coverage(const struct sl_recs_eval *e)
{
	int64_t *v = reco_items_sorted(e);
	if (!v)
		return NAN;
	size_t distinct = 0;
	for (size_t i = 0; i < e->n_reco; i += run(v, e->n_reco, i))
		distinct++;
	free(v);
	return (double)distinct / (double)e->n_items;
}

double sl_recs_distributional_coverage(const struct sl_recs_eval *e)
{
	int64_t *v = e->n_reco ? reco_items_sorted(e) : NULL;
	if (!v)
		return NAN;
	double h = 0, n = (double)e->n_reco;
	for (size_t i = 0, k; i < e->n_reco; i += k) {
		k = run(v, e->n_reco, i);
		double p = (double)k / n;
		h -= p * log2(p);
	}
	free(v);
	return h;
}

double sl_recs_item_novelty(const struct sl_recs_eval *e, int64_t item)
{
	const struct range *r = find_range(e->items, e->n_items, item);
	return r ? -log2((double)r->total / (double)e->n_train) : NAN;
}

double sl_recs_novelty(const struct sl_recs_eval *e)
{
	double s = 0; /* pandas merges away items absent from training but divides by every row */
	for (size_t i = 0; i < e->n_reco; i++) {
		double v = sl_recs_item_novelty(e, e->reco[i].item);
		if (!isnan(v))
			s += v;
	}
	return e->n_reco ? s / (double)e->n_reco : NAN;
}

/* sum over users having both of count_u(i) * count_u(j), by merging the two posting lists. */
static double cooc(const struct sl_recs_eval *e, const struct range *a, const struct range *b)
{
	double both = 0;
	size_t x = a->lo, y = b->lo;
	while (x < a->hi && y < b->hi) {
		int c = cmp_i64(e->by_item[x].other, e->by_item[y].other);
		if (c == 0)
			both += (double)e->by_item[x].count * (double)e->by_item[y].count;
		x += c <= 0, y += c >= 0;
	}
	return both ? both / sqrt((double)a->total * (double)b->total) : 0;
}

static const double *feature_row(const struct sl_recs_eval *e, int64_t item, double *norm)
{
	size_t lo = 0, hi = e->n_feat;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (e->feat_items[mid] < item)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo >= e->n_feat || e->feat_items[lo] != item)
		return NULL;
	*norm = e->norm[lo];
	return e->feat + lo * e->dim;
}

static double cosine(const struct sl_recs_eval *e, int64_t i, int64_t j)
{
	double ni = 0, nj = 0;
	const double *a = feature_row(e, i, &ni), *b = feature_row(e, j, &nj);
	if (!a || !b || ni == 0 || nj == 0)
		return 0;
	double dot = 0;
	for (size_t d = 0; d < e->dim; d++)
		dot += a[d] * b[d];
	return dot / (ni * nj);
}

double sl_recs_similarity(const struct sl_recs_eval *e, enum sl_recs_sim s, int64_t i, int64_t j)
{
	if (s == SL_RECS_SIM_FEATURES)
		return cosine(e, i, j);
	const struct range *a = find_range(e->items, e->n_items, i), *b = find_range(e->items, e->n_items, j);
	return a && b ? cooc(e, a, b) : 0;
}

static double user_div_range(const struct sl_recs_eval *e, enum sl_recs_sim s, const struct range *u)
{
	double sum = 0;
	size_t pairs = 0;
	for (size_t p = u->lo; p < u->hi; p++)
		for (size_t q = p + 1; q < u->hi; q++)
			if (e->reco[p].item < e->reco[q].item)
				sum += sl_recs_similarity(e, s, e->reco[p].item, e->reco[q].item), pairs++;
	return pairs ? 1 - sum / (double)pairs : NAN;
}

double sl_recs_user_diversity(const struct sl_recs_eval *e, enum sl_recs_sim s, int64_t user)
{
	const struct range *u = find_range(e->reco_users, e->n_reco_users, user);
	return u ? user_div_range(e, s, u) : NAN;
}

double sl_recs_diversity(const struct sl_recs_eval *e, enum sl_recs_sim s)
{
	double sum = 0;
	size_t n = 0;
	for (size_t i = 0; i < e->n_reco_users; i++) {
		double d = user_div_range(e, s, &e->reco_users[i]);
		if (!isnan(d))
			sum += d, n++;
	}
	return n ? sum / (double)n : NAN;
}

/* (1 - mean similarity of r's item to each training row of r's user) * relevance. */
static double row_serendipity(const struct sl_recs_eval *e, enum sl_recs_sim s, const struct rrow *r)
{
	const struct range *u = find_range(e->users, e->n_users, r->user);
	if (!u)
		return NAN;
	double sum = 0;
	for (size_t k = u->lo; k < u->hi; k++)
		sum += (double)e->by_user[k].count * sl_recs_similarity(e, s, r->item, e->by_user[k].other);
	return (1 - sum / (double)u->total) * r->rel;
}

int sl_recs_user_item_serendipity(const struct sl_recs_eval *e, enum sl_recs_sim s, double *out)
{
	if (!e || !out)
		return SL_EINVAL;
	for (size_t i = 0; i < e->n_reco; i++)
		out[e->reco[i].pos] = row_serendipity(e, s, &e->reco[i]);
	return 0;
}

static double user_ser_range(const struct sl_recs_eval *e, enum sl_recs_sim s, const struct range *u)
{
	double sum = 0;
	size_t n = 0;
	for (size_t k = u->lo; k < u->hi; k++) {
		double v = row_serendipity(e, s, &e->reco[k]);
		if (!isnan(v))
			sum += v, n++;
	}
	return n ? sum / (double)n : NAN;
}

double sl_recs_user_serendipity(const struct sl_recs_eval *e, enum sl_recs_sim s, int64_t user)
{
	const struct range *u = find_range(e->reco_users, e->n_reco_users, user);
	return u ? user_ser_range(e, s, u) : NAN;
}

double sl_recs_serendipity(const struct sl_recs_eval *e, enum sl_recs_sim s)
{
	double sum = 0;
	size_t n = 0;
	for (size_t i = 0; i < e->n_reco_users; i++) {
		double v = user_ser_range(e, s, &e->reco_users[i]);
		if (!isnan(v))
			sum += v, n++;
	}
	return n ? sum / (double)n : NAN;
}
