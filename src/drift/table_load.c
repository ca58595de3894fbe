/* table_load.c: sl_drift_tables_load: both files' first passes, the current table's columns
 * lined up with the reference's, each column's type decided over both files, the text pass
 * where categories are still to be counted, and the numbers sorted for the tests.
 * Invariants: on failure both tables are released and err names the file (and line); the
 * limits not given take the SL_DRIFT_MAX_* defaults. */
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

static void col_release(struct sl_drift_col *c)
{
	free(c->name);
	free(c->num);
	sl_drift_cats_release(&c->cats);
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
			return sl__load_fail(L, SL_ENOTFOUND, 0, "no column '%s' (the reference has it)", ref->cols[i].name);
		}
		cols[i] = cur->cols[j];
		taken[j] = true;
	}
	for (size_t j = 0; j < cur->ncols; j++)
		if (!taken[j])
			col_release(&cur->cols[j]), cur->ignored_cols++;
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
	free(c->num);
	c->num = NULL, c->n_num = c->cap_num = 0;
	c->nonfinite = 0; /* "inf" is a category like any other text */
	c->want_text = c->declared != SL_DRIFT_CAT;
}

static void decide(struct sl_drift_col *a, struct sl_drift_col *b)
{
	enum sl_drift_kind k = a->declared;
	if (k == SL_DRIFT_KIND_AUTO)
		k = a->numeric_ok && b->numeric_ok ? SL_DRIFT_NUM : SL_DRIFT_CAT;
	settle(a, k);
	settle(b, k);
}

/* The text pass where a column still has its categories to count; then the sorts. */
static int finish(struct sl__load *L)
{
	bool text = false;
	for (size_t i = 0; i < L->t->ncols; i++)
		text |= L->t->cols[i].want_text;
	int rc = text ? sl__load_second(L) : 0;
	if (rc)
		return rc;
	for (size_t i = 0; i < L->t->ncols; i++) {
		struct sl_drift_col *c = &L->t->cols[i];
		if (c->kind == SL_DRIFT_NUM && sl_drift_sort(c->num, c->n_num))
			return sl__load_fail(L, SL_ENOMEM, 0, "out of memory");
	}
	return 0;
}

static int check_decls(struct sl__load *L)
{
	for (size_t i = 0; i < L->o->ndecl; i++)
		if (find_col(L->t, L->o->decl[i].name) < 0)
			return sl__load_fail(L, SL_ENOTFOUND, 0, "no column '%s' (its type was declared)", L->o->decl[i].name);
	return 0;
}

static int load_both(struct sl__load *Lr, struct sl__load *Lc)
{
	int rc = sl__load_first(Lr);
	if (rc == 0)
		rc = sl__load_first(Lc);
	if (rc == 0)
		rc = check_decls(Lr);
	if (rc == 0)
		rc = align(Lc, Lr->t, Lc->t);
	if (rc)
		return rc;
	for (size_t i = 0; i < Lr->t->ncols; i++)
		decide(&Lr->t->cols[i], &Lc->t->cols[i]);
	rc = finish(Lr);
	return rc ? rc : finish(Lc);
}

int sl_drift_tables_load(const struct sl_drift_input *ref, const struct sl_drift_input *cur,
                         const struct sl_drift_load_opts *o, struct sl_drift_table *tref, struct sl_drift_table *tcur,
                         struct sl_drift_error *err)
{
	struct sl_drift_load_opts lim;
	limits(&lim, o);
	*tref = (struct sl_drift_table){0};
	*tcur = (struct sl_drift_table){0};
	err->msg[0] = '\0';
	if (!ref || !cur || (!ref->data && ref->len) || (!cur->data && cur->len)) {
		snprintf(err->msg, sizeof err->msg, "no input");
		return SL_EINVAL;
	}
	struct sl__load Lr = {.in = ref, .t = tref, .o = &lim, .err = err};
	struct sl__load Lc = {.in = cur, .t = tcur, .o = &lim, .err = err};
	sl_buf_init(&Lr.scratch, lim.max_line + 16);
	sl_buf_init(&Lc.scratch, lim.max_line + 16);
	int rc = load_both(&Lr, &Lc);
	sl__load_release(&Lr);
	sl__load_release(&Lc);
	if (rc) {
		sl_drift_table_release(tref);
		sl_drift_table_release(tcur);
	}
	return rc;
}
