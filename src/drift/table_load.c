/* table_load.c: loading in steps: each file's first pass (scan), the current table's columns
 * lined up with the reference's and each column's type decided over both files (settle),
 * then per file the text pass where categories are still to be counted and the sorts
 * (finish). sl_drift_tables_load runs them in order; a caller may run the per-file steps of
 * the two files on two threads, since each touches only its own table.
 * Invariants: err names the file (and line) of a failure; the limits not given take the
 * SL_DRIFT_MAX_* defaults; the same options must be passed to every step. */
#include <stdio.h>

#include "table-int.h"

static void limits(struct sl_drift_load_opts *o, const struct sl_drift_load_opts *in)
{
	*o = in ? *in : (struct sl_drift_load_opts){0};
	if (!o->max_line)
		o->max_line = SL_DRIFT_MAX_LINE;
	if (!o->max_columns)
		o->max_columns = SL_DRIFT_MAX_COLUMNS;
	if (!o->max_cats)
		o->max_cats = SL_DRIFT_MAX_CATS;
}

static long find_col(const struct sl_drift_table *t, const char *name)
{
	for (size_t i = 0; i < t->ncols; i++)
		if (strcmp(t->cols[i].name, name) == 0)
			return (long)i;
	return -1;
}

/* Moves the current table's columns into the reference's order; drops the others. */
static int align(struct sl__load *L, const struct sl_drift_table *ref, struct sl_drift_table *cur)
{
	struct sl_drift_col *cols = calloc(ref->ncols ? ref->ncols : 1, sizeof *cols);
	bool *taken = calloc(cur->ncols ? cur->ncols : 1, sizeof *taken);
	if (!cols || !taken) {
		free(cols), free(taken);
		return sl__load_fail(L, SL_ENOMEM, 0, "out of memory");
	}
	for (size_t i = 0; i < ref->ncols; i++) {
		long j = find_col(cur, ref->cols[i].name);
		if (j < 0) {
			free(cols), free(taken);
			return sl__load_fail(L, SL_ENOTFOUND, 0, "no column '%s' (the reference has it)",
			                     ref->cols[i].name);
		}
		cols[i] = cur->cols[j];
		taken[j] = true;
	}
	for (size_t j = 0; j < cur->ncols; j++)
		if (!taken[j])
			sl__col_release(&cur->cols[j]), cur->ignored_cols++;
	free(cur->cols);
	free(taken);
	cur->cols = cols;
	cur->ncols = ref->ncols;
	return 0;
}

static void settle(struct sl_drift_col *c, enum sl_drift_kind kind)
{
	c->kind = kind;
	if (kind == SL_DRIFT_NUM)
		return;
	sl__col_drop_numbers(c);
	c->nonfinite = 0; /* "inf" is a category like any other text */
	c->want_text = c->declared != SL_DRIFT_CAT && c->text_from > 0;
}

static void decide(struct sl_drift_col *a, struct sl_drift_col *b)
{
	enum sl_drift_kind k = a->declared;
	if (k == SL_DRIFT_KIND_AUTO)
		k = a->numeric_ok && b->numeric_ok ? SL_DRIFT_NUM : SL_DRIFT_CAT;
	settle(a, k);
	settle(b, k);
}

static int sort_columns(struct sl__load *L);

/* The text pass where a column still has its categories to count; then the sorts. */
static int finish(struct sl__load *L)
{
	bool text = false;
	for (size_t i = 0; i < L->t->ncols; i++)
		text |= L->t->cols[i].want_text;
	int rc = text ? sl__load_second(L) : 0;
	return rc ? rc : sort_columns(L);
}

/* Sorts the numeric columns with one scratch buffer for all (counted ones are in order): a
 * key per value of the longest array of doubles, half that for codes. Codes sorted into the
 * scratch trade places with their column's array when that array can serve as the scratch
 * from then on (no copy back). */
static int sort_columns(struct sl__load *L)
{
	int rc = 0;
	size_t most = 0;
	for (size_t i = 0; i < L->t->ncols; i++) {
		const struct sl_drift_col *c = &L->t->cols[i];
		size_t need = c->code ? (c->n_num + 1) / 2 : c->n_num;
		if (c->kind == SL_DRIFT_NUM && !c->counts && need > most)
			most = need;
	}
	uint64_t *scratch = sl_huge_alloc(most * sizeof *scratch); /* one for every column */
	if (!scratch)
		scratch = malloc((most ? most : 1) * sizeof *scratch);
	if (!scratch)
		rc = sl__load_fail(L, SL_ENOMEM, 0, "out of memory");
	for (size_t i = 0; rc == 0 && i < L->t->ncols; i++) {
		struct sl_drift_col *c = &L->t->cols[i];
		uint32_t *sorted;
		if (c->kind != SL_DRIFT_NUM || c->counts)
			continue;
		if (c->code ? sl__drift_sort_codes(c->code, c->n_num, (uint32_t *)scratch, &sorted)
		            : sl__drift_sort_with(c->num, c->n_num, scratch))
			rc = sl__load_fail(L, SL_ENOMEM, 0, "out of memory");
		else if (c->code && sorted != c->code && c->cap_num / 2 >= most) { /* trade places */
			scratch = (uint64_t *)(void *)c->code; /* still at least most keys */
			c->code = sorted, c->cap_num = 2 * most;
		} else if (c->code && sorted != c->code) {
			memcpy(c->code, sorted, c->n_num * sizeof *c->code);
		}
	}
	free(scratch);
	return rc;
}

static int check_decls(struct sl__load *L)
{
	for (size_t i = 0; i < L->o->ndecl; i++)
		if (find_col(L->t, L->o->decl[i].name) < 0)
			return sl__load_fail(L, SL_ENOTFOUND, 0, "no column '%s' (its type was declared)",
			                     L->o->decl[i].name);
	return 0;
}

static void load_init(struct sl__load *L, const struct sl_drift_input *in, const struct sl_drift_reader *rd,
                      struct sl_drift_table *t, const struct sl_drift_load_opts *lim, struct sl_drift_error *err)
{
	*L = (struct sl__load){.in = in, .rd = rd, .t = t, .o = lim, .err = err};
	sl_buf_init(&L->scratch, lim->max_line + 16);
	err->msg[0] = '\0';
}

static int bad_input(const struct sl_drift_input *in, const struct sl_drift_reader *rd, struct sl_drift_error *err)
{
	if (in && in->name && (rd ? rd->read != NULL : in->data || !in->len))
		return 0;
	snprintf(err->msg, sizeof err->msg, "no input");
	return SL_EINVAL;
}

int sl_drift_table_scan_read(const struct sl_drift_input *in, const struct sl_drift_reader *rd,
                             const struct sl_drift_load_opts *o, struct sl_drift_table *t, struct sl_drift_error *err)
{
	struct sl_drift_load_opts lim;
	struct sl__load L;
	*t = (struct sl_drift_table){0};
	if (bad_input(in, rd, err))
		return SL_EINVAL;
	limits(&lim, o);
	load_init(&L, in, rd, t, &lim, err);
	int rc = sl__load_first(&L);
	sl__load_release(&L);
	if (rc)
		sl_drift_table_release(t);
	return rc;
}

int sl_drift_tables_settle(const struct sl_drift_input *ref, const struct sl_drift_input *cur,
                           const struct sl_drift_load_opts *o, struct sl_drift_table *tref, struct sl_drift_table *tcur,
                           struct sl_drift_error *err)
{
	struct sl_drift_load_opts lim;
	struct sl__load Lr, Lc;
	limits(&lim, o);
	load_init(&Lr, ref, NULL, tref, &lim, err);
	load_init(&Lc, cur, NULL, tcur, &lim, err);
	int rc = check_decls(&Lr);
	if (rc == 0)
		rc = align(&Lc, tref, tcur);
	for (size_t i = 0; rc == 0 && i < tref->ncols; i++)
		decide(&tref->cols[i], &tcur->cols[i]);
	sl__load_release(&Lr);
	sl__load_release(&Lc);
	return rc;
}

int sl_drift_table_finish_read(const struct sl_drift_input *in, const struct sl_drift_reader *rd,
                               const struct sl_drift_load_opts *o, struct sl_drift_table *t,
                               struct sl_drift_error *err)
{
	struct sl_drift_load_opts lim;
	struct sl__load L;
	if (bad_input(in, rd, err))
		return SL_EINVAL;
	limits(&lim, o);
	load_init(&L, in, rd, t, &lim, err);
	int rc = finish(&L);
	sl__load_release(&L);
	return rc;
}

int sl_drift_table_scan(const struct sl_drift_input *in, const struct sl_drift_load_opts *o, struct sl_drift_table *t,
                        struct sl_drift_error *err)
{
	return sl_drift_table_scan_read(in, NULL, o, t, err);
}

int sl_drift_table_finish(const struct sl_drift_input *in, const struct sl_drift_load_opts *o, struct sl_drift_table *t,
                          struct sl_drift_error *err)
{
	return sl_drift_table_finish_read(in, NULL, o, t, err);
}

int sl_drift_tables_load(const struct sl_drift_input *ref, const struct sl_drift_input *cur,
                         const struct sl_drift_load_opts *o, struct sl_drift_table *tref, struct sl_drift_table *tcur,
                         struct sl_drift_error *err)
{
	*tcur = (struct sl_drift_table){0};
	int rc = sl_drift_table_scan(ref, o, tref, err);
	if (rc == 0)
		rc = sl_drift_table_scan(cur, o, tcur, err);
	if (rc == 0)
		rc = sl_drift_tables_settle(ref, cur, o, tref, tcur, err);
	if (rc == 0)
		rc = sl_drift_table_finish(ref, o, tref, err);
	if (rc == 0)
		rc = sl_drift_table_finish(cur, o, tcur, err);
	if (rc) {
		sl_drift_table_release(tref);
		sl_drift_table_release(tcur);
	}
	return rc;
}
