/* table.c: loading a reference and a current file into columns for the drift report.
 * Pass 1 reads each file once: numbers go to per-column arrays while every value of the
 * column parses as one; from its first text value on (from the start for columns declared
 * categorical) a column counts its text instead. Then each column's type is decided over both
 * files (declared, else numeric when every non-missing value of both is a number, as pandas
 * would type the concatenation), and a second pass counts the text of the rows still uncounted
 * (those before a column's first text value, or all of a file whose values were numbers), only
 * in the files and for the columns that need it.
 * With count_few, numeric columns are counted per distinct value while that stays small
 * (table_few.c). The common CSV number is parsed and stored inline (table-int.h, sl__load_cell),
 * and a CSV text cell of a categorical column is counted at the end of the next record, its
 * category slot fetched meanwhile (sl__load_defer; the order of the counts is unchanged; a key
 * already in the table is counted inline, sl__cats_one), unless the reader remembers where
 * that key of at most 24 bytes is counted (sl__known: then at once). A CSV input may come in
 * pieces through a caller's reader (sl_drift_table_scan_read; table_csv.c keeps records
 * contiguous).
 * Invariants: missing values (pandas' NA markers, JSON null or an absent key) are counted, never
 * stored; inf and -inf in a numeric column are counted as non-finite and dropped (Evidently
 * replaces them by NaN and drops them); the current table ends up with the reference's
 * columns in the reference's order (or the order of the column list). */
#include <stdarg.h>
#include <stdio.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "table-int.h"

#define MAX_FILE ((size_t)2 << 30) /* 2 GiB */

int sl__load_fail(struct sl__load *L, int rc, uint64_t line, const char *fmt, ...)
{
	char what[400];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	if (line)
		snprintf(L->err->msg, sizeof L->err->msg, "%s:%llu: %s", L->in->name, (unsigned long long)line, what);
	else
		snprintf(L->err->msg, sizeof L->err->msg, "%s: %s", L->in->name, what);
	return rc;
}

const char *sl__load_show(char *dst, size_t cap, const char *s, size_t n)
{
	size_t m = sl__utf8_cut(s, n, cap > 4 ? cap - 4 : 0), j = 0;
	for (size_t i = 0; i < m; i++)
		dst[j++] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? '?' : s[i];
	if (m < n)
		dst[j++] = '.', dst[j++] = '.', dst[j++] = '.';
	dst[j] = '\0';
	return dst;
}

/* ---- the name index ---- */

static uint32_t *slot_of(struct sl__load *L, const char *p, size_t n)
{
	size_t mask = L->nidx - 1;
	for (size_t s = (size_t)sl_drift_hash(p, n, 0) & mask;; s = (s + 1) & mask) {
		uint32_t *slot = &L->idx[s];
		if (!*slot)
			return slot;
		const char *name = L->t->cols[*slot - 1].name;
		if (strlen(name) == n && memcmp(name, p, n) == 0)
			return slot;
	}
}

static int index_build(struct sl__load *L, size_t want)
{
	size_t n = 64;
	while (n < want * 2)
		n *= 2;
	free(L->idx);
	L->idx = calloc(n, sizeof *L->idx);
	if (!L->idx)
		return SL_ENOMEM;
	L->nidx = n;
	for (size_t i = 0; i < L->t->ncols; i++) {
		const char *name = L->t->cols[i].name;
		*slot_of(L, name, strlen(name)) = (uint32_t)(i + 1);
	}
	return 0;
}

static enum sl_drift_kind declared(const struct sl_drift_load_opts *o, const char *name)
{
	for (size_t i = 0; i < o->ndecl; i++)
		if (strcmp(o->decl[i].name, name) == 0)
			return o->decl[i].kind;
	return SL_DRIFT_KIND_AUTO;
}

static int col_init(struct sl__load *L, struct sl_drift_col *c, const char *p, size_t n)
{
	*c = (struct sl_drift_col){.numeric_ok = true, .text_from = UINT64_MAX};
	c->name = sl__strndup(p, n);
	if (!c->name)
		return SL_ENOMEM;
	c->declared = c->kind = declared(L->o, c->name);
	return sl_drift_cats_init(&c->cats, L->o->max_cats, L->o->max_line, SL_DRIFT_CMS_EPS, SL_DRIFT_CMS_DELTA,
	                          SL_DRIFT_CAT_SEED);
}

static int add_column(struct sl__load *L, const char *p, size_t n)
{
	struct sl_drift_table *t = L->t;
	if (t->ncols >= L->o->max_columns)
		return SL_ETOOBIG;
	struct sl_drift_col *cols = realloc(t->cols, (t->ncols + 1) * sizeof *cols);
	uint64_t *stamp = realloc(L->stamp, (t->ncols + 1) * sizeof *stamp);
	if (cols)
		t->cols = cols;
	if (stamp)
		L->stamp = stamp;
	if (!cols || !stamp)
		return SL_ENOMEM;
	L->stamp[t->ncols] = 0;
	L->nstamp = t->ncols + 1;
	if (sl__few_grow(L, t->ncols + 1))
		return SL_ENOMEM;
	int rc = col_init(L, &t->cols[t->ncols], p, n);
	t->ncols++; /* counted even on failure, so that release frees what col_init made */
	if (rc)
		return rc;
	if (t->ncols * 2 > L->nidx)
		return index_build(L, t->ncols);
	*slot_of(L, p, n) = (uint32_t)t->ncols;
	return 0;
}

int sl__load_column(struct sl__load *L, const char *p, size_t n, long *idx)
{
	uint32_t *slot = slot_of(L, p, n);
	*idx = (long)*slot - 1;
	if (*slot || !L->discover || L->pass != 1)
		return 0;
	char show[64];
	if (memchr(p, '\0', n))
		return sl__load_fail(L, SL_EPARSE, L->line, "column name '%s' holds a NUL byte",
		                     sl__load_show(show, sizeof show, p, n));
	int rc = add_column(L, p, n);
	if (rc == SL_ETOOBIG)
		return sl__load_fail(L, rc, L->line, "more than %zu columns (at '%s')", L->o->max_columns,
		                     sl__load_show(show, sizeof show, p, n));
	if (rc)
		return sl__load_fail(L, rc, L->line, "out of memory");
	*idx = (long)L->t->ncols - 1;
	return 0;
}

/* ---- values ---- */

/* CR and LF bytes in p[n), 16 bytes at a time where SSE2 exists (byte counters summed every
 * 255 blocks). */
static uint64_t line_breaks(const char *p, size_t n)
{
	uint64_t k = 0;
	size_t i = 0;
#ifdef __SSE2__
	const __m128i nl = _mm_set1_epi8('\n'), cr = _mm_set1_epi8('\r'), zero = _mm_setzero_si128();
	while (n - i >= 16) {
		__m128i acc = zero;
		for (int b = 0; b < 255 && n - i >= 16; b++, i += 16) {
			__m128i x = _mm_loadu_si128((const __m128i *)(const void *)(p + i));
			acc = _mm_sub_epi8(acc, _mm_or_si128(_mm_cmpeq_epi8(x, nl), _mm_cmpeq_epi8(x, cr)));
		}
		__m128i sum = _mm_sad_epu8(acc, zero);
		k += (uint64_t)_mm_cvtsi128_si64(sum) + (uint64_t)_mm_cvtsi128_si64(_mm_unpackhi_epi64(sum, sum));
	}
#endif
	for (; i < n; i++)
		k += (p[i] == '\n') + (p[i] == '\r');
	return k;
}

/* At most this many records are left from row L->row on: the format's own bound, else one per
 * line break (CR and LF both counted, so CRLF counts twice) plus one for a last line without
 * its break. */
static uint64_t rows_bound(struct sl__load *L)
{
	if (!L->lines)
		L->lines = line_breaks(L->in->data, L->in->len) + 1;
	return L->lines > L->row ? L->lines - L->row : 1;
}

/* A column's first number: its array of codes sized for every row left, at once (no realloc
 * growth, whose copies and fresh pages cost more than the parse); unused tail pages are never
 * touched. Falls back to growing from nothing when the reservation fails. */
void sl__load_reserve(struct sl__load *L, struct sl_drift_col *c, uint64_t extra)
{
	uint64_t n = rows_bound(L) + extra;
	if (n > SIZE_MAX / sizeof *c->num / 2 || !(c->code = sl_huge_alloc((size_t)n * sizeof *c->code)))
		return;
	c->cap_num = (size_t)n;
}

int sl__col_uncode(struct sl_drift_col *c)
{
	size_t cap = c->cap_num ? c->cap_num : 1;
	double *v = sl_huge_alloc(cap * sizeof *v);
	if (!v)
		return SL_ENOMEM;
	for (size_t i = 0; i < c->n_num; i++)
		v[i] = sl__code_value(c->code[i]);
	free(c->code);
	c->code = NULL, c->num = v, c->cap_num = cap;
	return 0;
}

/* A number of column ci (code: its code, or 0): counted (count_few), or stored in its array. */
static int push_num(struct sl__load *L, size_t ci, struct sl_drift_col *c, double v, uint32_t code)
{
	if (!c->num && !c->code && L->few) {
		int rc = sl__few_add(L, ci, v);
		if (rc <= 0)
			return rc;
	}
	if (!c->num && !c->code)
		sl__load_reserve(L, c, 0);
	if (c->code && !code && sl__col_uncode(c))
		return SL_ENOMEM;
	if (code && !c->num) {
		if (c->n_num == c->cap_num && sl__grow((void **)&c->code, &c->cap_num, c->n_num + 1, sizeof *c->code))
			return SL_ENOMEM;
	} else if (c->n_num == c->cap_num && sl__grow((void **)&c->num, &c->cap_num, c->n_num + 1, sizeof *c->num)) {
		return SL_ENOMEM;
	}
	sl__col_put(c, v, code);
	return 0;
}

static int not_a_number(struct sl__load *L, size_t ci, struct sl_drift_col *c, const char *p, size_t n)
{
	char show[48];
	if (c->declared == SL_DRIFT_NUM)
		return sl__load_fail(L, SL_EPARSE, L->line, "column '%s' is declared numeric but holds '%s'", c->name,
		                     sl__load_show(show, sizeof show, p, n));
	c->numeric_ok = false;
	c->text_from = L->row; /* from here on pass 1 counts the text; pass 2 does the rows before */
	sl__col_drop_numbers(c);
	sl__few_drop(L, ci);
	return 0;
}

/* Where the bytes readable from p end: the end of the input's bytes in memory when the cell
 * lies in them (a CSV field or a JSON number), else the cell's own end (an unescaped copy). */
static const char *inside(const struct sl__load *L, const char *p, size_t n)
{
	return p >= L->base && p <= L->lim && n <= (size_t)(L->lim - p) ? L->lim : p + n;
}

int sl__load_settle(struct sl__load *L, size_t upto)
{
	for (; L->first < upto; L->first++) {
		const struct sl__pending *e = &L->pend[L->first];
		size_t item;
		if (sl__cats_one(&L->t->cols[e->ci].cats, e->p, e->n, e->h, &item))
			return sl__load_fail(L, SL_ENOMEM, e->line, "out of memory");
		if (item != SIZE_MAX && e->n <= SL__KNOWN_KEY && e->ci < L->nknown) { /* this key's next cells */
			uint64_t w[3];
			sl__known_words(e->p, e->n, w);
			*sl__known_at(L, e->ci, w, e->n) = (struct sl__known){{w[0], w[1], w[2]}, (uint32_t)e->n + 1, (uint32_t)item};
		}
	}
	if (L->first == L->npend)
		L->first = L->mark = L->npend = 0;
	return 0;
}

/* Numbers are tried first: no NA marker parses as one, and most cells of most files are. */
int sl__load_value(struct sl__load *L, size_t ci, const char *p, size_t n, enum sl__vkind k)
{
	struct sl_drift_col *c = &L->t->cols[ci];
	double v;
	uint32_t code;
	bool missing;
	if (L->pass == 2) {
		if (!c->want_text || L->row >= c->text_from)
			return 0;
		missing = k == SL__V_NULL || (k == SL__V_TEXT && sl_drift_is_missing(p, n));
		return missing ? 0 : sl__load_text(L, c, p, n);
	}
	c->present++;
	if (c->numeric_ok && c->declared != SL_DRIFT_CAT && (k == SL__V_TEXT || k == SL__V_NUM) &&
	    sl__drift_parse_number_in(p, n, inside(L, p, n), &v, &code) == 0) {
		if (!isfinite(v))
			return c->nonfinite++, 0;
		return push_num(L, ci, c, v, code) ? sl__load_fail(L, SL_ENOMEM, L->line, "out of memory") : 0;
	}
	if (k == SL__V_NULL || (k == SL__V_TEXT && sl_drift_is_missing(p, n))) {
		c->missing++;
		return 0;
	}
	if (c->declared == SL_DRIFT_CAT || !c->numeric_ok)
		return sl__load_text(L, c, p, n);
	int rc = not_a_number(L, ci, c, p, n);
	return rc ? rc : sl__load_text(L, c, p, n);
}

/* ---- columns and tables ---- */

double sl_drift_col_at(const struct sl_drift_col *c, size_t j)
{
	return c->code ? sl__code_value(c->code[j]) : c->num[j];
}

double *sl__values_room(double **buf, size_t *cap, size_t n)
{
	if (*cap < n || !*buf) { /* huge pages: each 4 KiB page would fault on its own */
		free(*buf);
		*cap = n;
		if (!(*buf = sl_huge_alloc(n * sizeof **buf)))
			*cap = 0;
	}
	return *buf;
}

const double *sl_drift_col_values(const struct sl_drift_col *c, double **buf, size_t *cap)
{
	if (!c->code)
		return c->num;
	double *v = sl__values_room(buf, cap, c->n_num ? c->n_num : 1);
	for (size_t i = 0; v && i < c->n_num; i++)
		v[i] = sl__code_value(c->code[i]);
	return v;
}

void sl__col_drop_numbers(struct sl_drift_col *c)
{
	free(c->num);
	free(c->code);
	free(c->counts);
	c->num = NULL, c->code = NULL, c->counts = NULL, c->n_num = c->cap_num = c->n_distinct = 0;
}

void sl__col_release(struct sl_drift_col *c)
{
	free(c->name);
	sl__col_drop_numbers(c);
	sl_drift_cats_release(&c->cats);
}

void sl_drift_table_release(struct sl_drift_table *t)
{
	for (size_t i = 0; i < t->ncols; i++)
		sl__col_release(&t->cols[i]);
	free(t->cols);
	*t = (struct sl_drift_table){0};
}

static bool has_ext(const char *name, const char *ext)
{
	size_t n = strlen(name), e = strlen(ext);
	return n > e && strcasecmp(name + n - e, ext) == 0;
}

enum sl_drift_format sl_drift_sniff(const struct sl_drift_input *in)
{
	if (has_ext(in->name, ".csv"))
		return SL_DRIFT_FMT_CSV;
	if (has_ext(in->name, ".jsonl") || has_ext(in->name, ".ndjson") || has_ext(in->name, ".json"))
		return SL_DRIFT_FMT_JSONL;
	size_t i = in->len >= 3 && memcmp(in->data, "\xEF\xBB\xBF", 3) == 0 ? 3 : 0;
	while (i < in->len && (in->data[i] == ' ' || in->data[i] == '\t' || in->data[i] == '\r' || in->data[i] == '\n'))
		i++;
	return i < in->len && in->data[i] == '{' ? SL_DRIFT_FMT_JSONL : SL_DRIFT_FMT_CSV;
}

static int run_pass(struct sl__load *L, int pass)
{
	L->pass = pass;
	L->base = L->rd ? NULL : L->in->data; /* a pass in pieces moves them */
	L->lim = L->rd ? NULL : L->in->data + L->in->len;
	L->row = 0;
	L->line = 0;
	if (L->nstamp < L->t->ncols) {
		free(L->stamp);
		L->stamp = malloc(L->t->ncols * sizeof *L->stamp);
		L->nstamp = L->stamp ? L->t->ncols : 0;
	}
	for (size_t i = 0; i < L->nstamp; i++)
		L->stamp[i] = 0;
	int rc = L->nstamp < L->t->ncols ? SL_ENOMEM : index_build(L, L->t->ncols);
	if (rc)
		return sl__load_fail(L, rc, 0, "out of memory");
	rc = L->t->format == SL_DRIFT_FMT_JSONL ? sl__jsonl_pass(L) : sl__csv_pass(L);
	if (rc == 0 && pass == 1)
		L->t->rows = L->row;
	return rc;
}

int sl__load_second(struct sl__load *L)
{
	L->discover = false;
	return run_pass(L, 2);
}

void sl__load_release(struct sl__load *L)
{
	free(L->idx);
	free(L->stamp);
	free(L->known);
	L->known = NULL, L->nknown = 0;
	sl__few_release(L);
	sl_buf_release(&L->scratch);
	L->idx = NULL, L->stamp = NULL;
}

/* Pass 1 over one file: the column list (if any) is created up front and closed. */
int sl__load_first(struct sl__load *L)
{
	const struct sl_drift_load_opts *o = L->o;
	L->t->format = o->format ? o->format : L->rd ? SL_DRIFT_FMT_CSV : sl_drift_sniff(L->in);
	if (L->in->len > MAX_FILE)
		return sl__load_fail(L, SL_ETOOBIG, 0, "larger than 2 GiB");
	if (L->rd && L->t->format != SL_DRIFT_FMT_CSV)
		return sl__load_fail(L, SL_EINVAL, 0, "only CSV is read in pieces");
	L->discover = o->columns == NULL;
	L->nidx = 0;
	if (index_build(L, o->ncolumns))
		return sl__load_fail(L, SL_ENOMEM, 0, "out of memory");
	for (size_t i = 0; i < o->ncolumns; i++) {
		if (*slot_of(L, o->columns[i], strlen(o->columns[i])))
			return sl__load_fail(L, SL_EINVAL, 0, "column '%s' listed twice", o->columns[i]);
		int rc = add_column(L, o->columns[i], strlen(o->columns[i]));
		if (rc)
			return sl__load_fail(L, rc, 0, rc == SL_ETOOBIG ? "too many columns" : "out of memory");
	}
	L->nstamp = L->t->ncols;
	int rc = run_pass(L, 1);
	if (rc)
		return rc;
	for (size_t i = 0; i < L->t->ncols; i++) /* JSONL: rows without the key */
		L->t->cols[i].missing += L->t->rows - L->t->cols[i].present;
	return sl__few_finish(L);
}
