/* table_few.c: with sl_drift_load_opts.count_few, the first pass counts each numeric column per
 * distinct value instead of storing its values, until the column has more than FEW of them
 * (or almost every cell so far brought a new one, EARLY): counts, ratings, flags and token
 * counts never fill an array of doubles (fresh memory costs a page fault and the kernel's
 * zeroing per page) and need no sort. A column that gives up moves what it counted to its array
 * (codes where every counted value has one) and stores its values from then on, as without the
 * option.
 * Small non-negative integers (+0.0 and 1 .. SL__DENSE - 1) are counted in a dense array
 * instead, indexed by value (no probe, and in L1 for the token counts of an LLM log).
 * Invariants: a counted column's num is NULL until the end of the pass; its table holds only
 * finite values' keys (sl__key_of, never 0) other than the dense ones; n counts both; at the
 * end of the pass a column still counted gets num = its distinct values ascending by key (-0.0
 * before +0.0, as the sort orders them) and counts; a column that turns text drops its table. */
#include "table-int.h"

#define FEW 8192 /* distinct values counted before a column goes back to its array (a power of 2) */
/* A column whose first EARLY distinct values came in fewer than 1.05 EARLY cells (prices,
 * latencies, scores: almost every value new) goes back to its array then: counting it to FEW
 * would only cost a larger table and a longer general path. */
#define EARLY 2048

int sl__few_grow(struct sl__load *L, size_t ncols)
{
	if (!L->o->count_few || ncols <= L->nfew)
		return 0;
	struct sl__few *f = realloc(L->few, ncols * sizeof *f);
	if (!f)
		return SL_ENOMEM;
	for (size_t i = L->nfew; i < ncols; i++)
		f[i] = (struct sl__few){0};
	L->few = f, L->nfew = ncols;
	return 0;
}

static size_t slot_of(const struct sl__few *f, uint64_t k)
{
	/* the product's top bits: the low bits of a key are zeros for most short decimals */
	size_t mask = f->nslots - 1, s = (size_t)((k * 0x9E3779B97F4A7C15ULL) >> (64 - f->shift));
	while (f->slot[2 * s] != k && f->slot[2 * s] != 0)
		s = (s + 1) & mask;
	return s;
}

/* Doubles the slots (load factor <= 1/2), from 64. */
static int rehash(struct sl__few *f)
{
	size_t n = f->nslots ? 2 * f->nslots : 64;
	struct sl__few g = {.slot = calloc(2 * n, sizeof *g.slot), .nslots = n, .n = f->n, .dense = f->dense};
	g.shift = (unsigned)__builtin_ctzll(n);
	if (!g.slot)
		return SL_ENOMEM;
	for (size_t s = 0; s < f->nslots; s++)
		if (f->slot[2 * s]) {
			size_t t = slot_of(&g, f->slot[2 * s]);
			g.slot[2 * t] = f->slot[2 * s], g.slot[2 * t + 1] = f->slot[2 * s + 1];
		}
	free(f->slot);
	*f = g;
	return 0;
}

void sl__few_drop(struct sl__load *L, size_t ci)
{
	if (ci < L->nfew) {
		free(L->few[ci].slot);
		free(L->few[ci].dense);
		L->few[ci] = (struct sl__few){.off = true};
	}
}

/* Too many values to count, or too many new ones: what was counted goes to the column's array
 * (in table order; the sort orders it), and the column stores its values from now on. */
static int give_up(struct sl__load *L, size_t ci)
{
	struct sl__few *f = &L->few[ci];
	struct sl_drift_col *c = &L->t->cols[ci];
	uint64_t total = 0;
	for (size_t s = 0; s < f->nslots; s++)
		total += f->slot[2 * s + 1];
	for (size_t i = 0; f->dense && i < SL__DENSE; i++)
		total += f->dense[i];
	sl__load_reserve(L, c, total); /* codes */
	if (c->cap_num < total) {     /* no reservation: doubles, as many as were counted */
		c->num = malloc((size_t)total * sizeof *c->num);
		if (!c->num)
			return SL_ENOMEM;
		c->cap_num = (size_t)total;
	}
	for (size_t s = 0; c->code && s < f->nslots; s++)
		if (f->slot[2 * s] && !sl__code_of_double(sl__val_of(f->slot[2 * s])) && sl__col_uncode(c))
			return SL_ENOMEM;
	for (size_t s = 0; s < f->nslots; s++) {
		if (!f->slot[2 * s])
			continue;
		double v = sl__val_of(f->slot[2 * s]);
		uint32_t k = c->code ? sl__code_of_double(v) : 0;
		for (uint64_t j = 0; j < f->slot[2 * s + 1]; j++)
			sl__col_put(c, v, k);
	}
	for (size_t i = 0; f->dense && i < SL__DENSE; i++) {
		uint32_t k = sl__code_of(false, i, 0);
		for (uint32_t j = 0; j < f->dense[i]; j++)
			sl__col_put(c, (double)i, k);
	}
	sl__few_drop(L, ci);
	return 1;
}

bool sl__few_hit_value(struct sl__few *f, double v)
{
	uint32_t i;
	if (sl__dense_of(v, &i))
		return f->dense && f->dense[i] && ++f->dense[i];
	if (!f->slot)
		return false;
	size_t s = slot_of(f, sl__key_of(v));
	return f->slot[2 * s] && ++f->slot[2 * s + 1];
}

/* Whether column ci stops counting before its next distinct value (f->n counted so far). */
static bool enough(const struct sl__load *L, size_t ci, const struct sl__few *f)
{
	return f->n == FEW || (f->n == EARLY && L->t->cols[ci].present * 20 < (uint64_t)EARLY * 21);
}

int sl__few_add(struct sl__load *L, size_t ci, double v)
{
	if (ci >= L->nfew || L->few[ci].off)
		return 1;
	struct sl__few *f = &L->few[ci];
	uint64_t k = sl__key_of(v);
	if (!f->slot && rehash(f))
		return SL_ENOMEM;
	uint32_t i;
	if (sl__dense_of(v, &i)) {
		if (!f->dense && !(f->dense = calloc(SL__DENSE, sizeof *f->dense)))
			return SL_ENOMEM;
		if (f->dense[i] == 0) {
			if (enough(L, ci, f))
				return give_up(L, ci);
			f->n++;
		}
		f->dense[i]++;
		return 0;
	}
	size_t s = slot_of(f, k);
	if (f->slot[2 * s] == 0) {
		if (enough(L, ci, f))
			return give_up(L, ci);
		if (2 * (f->n + 1) > f->nslots) {
			if (rehash(f))
				return SL_ENOMEM;
			s = slot_of(f, k);
		}
		f->slot[2 * s] = k, f->n++;
	}
	f->slot[2 * s + 1]++;
	return 0;
}

/* Column ci's counted values as num (distinct, ascending by key) and counts. */
static int settle_counts(struct sl__load *L, size_t ci)
{
	struct sl__few *f = &L->few[ci];
	struct sl_drift_col *c = &L->t->cols[ci];
	uint64_t *run = malloc((f->n + 1) * 2 * sizeof *run); /* (key, count) pairs */
	size_t m = 0;
	if (!run)
		return SL_ENOMEM;
	for (size_t s = 0; s < f->nslots; s++)
		if (f->slot[2 * s])
			run[2 * m] = f->slot[2 * s], run[2 * m + 1] = f->slot[2 * s + 1], m++;
	for (size_t i = 0; f->dense && i < SL__DENSE; i++)
		if (f->dense[i])
			run[2 * m] = sl__key_of((double)i), run[2 * m + 1] = f->dense[i], m++;
	qsort(run, m, 2 * sizeof *run, sl__cmp_key);
	c->num = malloc((m ? m : 1) * sizeof *c->num);
	c->counts = malloc((m ? m : 1) * sizeof *c->counts);
	if (!c->num || !c->counts) {
		free(run);
		return SL_ENOMEM;
	}
	c->n_num = 0;
	for (size_t i = 0; i < m; i++) {
		c->num[i] = sl__val_of(run[2 * i]);
		c->counts[i] = run[2 * i + 1];
		c->n_num += (size_t)c->counts[i];
	}
	c->n_distinct = c->cap_num = m;
	free(run);
	return 0;
}

int sl__few_finish(struct sl__load *L)
{
	for (size_t i = 0; i < L->nfew && i < L->t->ncols; i++) {
		if (L->few[i].off || !L->few[i].slot)
			continue;
		int rc = settle_counts(L, i);
		sl__few_drop(L, i);
		if (rc)
			return sl__load_fail(L, rc, 0, "out of memory");
	}
	return 0;
}

void sl__few_release(struct sl__load *L)
{
	for (size_t i = 0; i < L->nfew; i++) {
		free(L->few[i].slot);
		free(L->few[i].dense);
	}
	free(L->few);
	L->few = NULL, L->nfew = 0;
}
