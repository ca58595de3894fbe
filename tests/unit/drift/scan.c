/* scan.c: the CSV reader's fast paths against a model built with the simple calls, on random
 * files: fields found through 64-byte windows of separator bits (fields longer than a window,
 * with and without a separator in it, quoted fields with commas, line breaks and doubled
 * quotes, CRLF, blank lines, no final line break) and text counted inline (cells that start an
 * NA marker or not, empty cells, a column that turns text after numbers; numbers with NaN
 * markers, empty cells and signed zeros among them). The model counts each
 * text cell with sl_drift_cats_add unless sl_drift_is_missing says it is missing, and parses each
 * number with strtod; the loaded tables must hold the same counts and the same bits. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sluice/core.h"
#include "sluice/drift.h"

static uint64_t rng_state;

static uint64_t rnd(void)
{
	uint64_t x = rng_state;
	x ^= x << 13, x ^= x >> 7, x ^= x << 17;
	return rng_state = x;
}

static void put(struct sl_buf *b, const char *s, size_t n)
{
	cr_assert_eq(sl_buf_append(b, s, n), 0);
}

static void puts_(struct sl_buf *b, const char *s)
{
	put(b, s, strlen(s));
}

/* One column of the model: text counts (or the numbers), and missing cells. */
struct model {
	struct sl_drift_cats cats;
	double *num;
	size_t n_num;
	uint64_t missing;
};

/* The seed of the loader's category tables (table-int.h): pairing two tables needs equal ones. */
#define LOADER_SEED 0x736c7569636564ULL

#define NCOLS 4 /* num, t_first, t_late, t_long */
static const char *const names[NCOLS] = {"num", "t_first", "t_late", "t_long"};

/* A random text cell (unescaped): NA markers, near-markers, empty, short words and long runs
 * with or without commas, quotes and line breaks. */
static size_t text_cell(char *out, bool long_ones)
{
	static const char *const fixed[] = {
	    "NA", "nan",  "",     "null", "N/A",  "#N/A", "Nope",         "n",
	    "-x", "1abc", "#tag", "<x>",  "NaNa", "none", "tenant-00091", "agent/2.6 (sdk-058)"};
	static const char alpha[] = "abcdefghijklmnopqrstuvwxyz ABCXYZ-_/.0123456789";
	size_t k = rnd() % 24;
	if (k < sizeof fixed / sizeof fixed[0] && !long_ones) {
		size_t n = strlen(fixed[k]);
		memcpy(out, fixed[k], n);
		return n;
	}
	size_t n = long_ones ? 40 + rnd() % 160 : 1 + rnd() % 20;
	for (size_t i = 0; i < n; i++) {
		uint64_t r = rnd() % 100;
		out[i] = r == 0 ? ',' : r == 1 ? '"' : r == 2 ? '\n' : alpha[rnd() % (sizeof alpha - 1)];
	}
	if (out[0] >= '0' && out[0] <= '9')
		out[0] = 'z'; /* text, not a number */
	return n;
}

/* A number cell: plain decimals, exponents, digits padded past a 64-byte window, signed zeros,
 * NaN markers and empty cells. */
static size_t num_cell(char *out)
{
	static const char *const odd[] = {"nan", "", "-0", "-0.0", "0", "NaN", "-nan"};
	double x = ((double)(rnd() >> 11) / 9007199254740992.0 - 0.4) * 1000;
	if (rnd() % 11 == 0) {
		const char *o = odd[rnd() % (sizeof odd / sizeof odd[0])];
		memcpy(out, o, strlen(o));
		return strlen(o);
	}
	switch (rnd() % 4) {
	case 0:
		return (size_t)snprintf(out, 64, "%.6g", x);
	case 1:
		return (size_t)snprintf(out, 64, "%.17g", x);
	case 2: { /* 70-120 leading zeros: a field with no separator in its first window */
		size_t z = 70 + rnd() % 50;
		memset(out, '0', z);
		return z + (size_t)snprintf(out + z, 64, "%.3f", fabs(x));
	}
	default:
		return (size_t)snprintf(out, 64, "%.0f", x);
	}
}

/* Appends a cell, quoted when it must be or at random (doubling its quotes). */
static void cell(struct sl_buf *b, const char *s, size_t n)
{
	bool must = memchr(s, ',', n) || memchr(s, '"', n) || memchr(s, '\n', n) || memchr(s, '\r', n);
	if (!must && rnd() % 7) {
		put(b, s, n);
		return;
	}
	puts_(b, "\"");
	for (size_t i = 0; i < n; i++)
		put(b, s[i] == '"' ? "\"\"" : &s[i], 1 + (s[i] == '"'));
	puts_(b, "\"");
}

static void model_text(struct model *m, const char *s, size_t n)
{
	if (sl_drift_is_missing(s, n))
		m->missing++;
	else
		cr_assert_eq(sl_drift_cats_add(&m->cats, s, n, 1), 0);
}

static void model_num(struct model *m, const char *s, size_t n)
{
	if (sl_drift_is_missing(s, n)) {
		m->missing++;
		return;
	}
	char tmp[256];
	cr_assert(n < sizeof tmp);
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	m->num[m->n_num++] = strtod(tmp, NULL);
}

/* A random file of rows records and its model. */
static char *make(size_t rows, bool crlf, bool last_break, struct model *m)
{
	struct sl_buf b;
	sl_buf_init(&b, 0);
	const char *nl = crlf ? "\r\n" : "\n";
	for (int i = 0; i < NCOLS; i++) {
		m[i] = (struct model){.num = malloc((rows + 1) * sizeof(double))};
		cr_assert(m[i].num);
		cr_assert_eq(sl_drift_cats_init(&m[i].cats, 1u << 20, 1u << 20, SL_DRIFT_CMS_EPS, SL_DRIFT_CMS_DELTA,
		                                LOADER_SEED),
		             0);
		puts_(&b, names[i]);
		puts_(&b, i + 1 < NCOLS ? "," : nl);
	}
	char s[512];
	for (size_t r = 0; r < rows; r++) {
		size_t n = num_cell(s);
		model_num(&m[0], s, n);
		cell(&b, s, n);
		puts_(&b, ",");
		n = text_cell(s, false);
		if (r == 0)
			n = (size_t)snprintf(s, sizeof s, "first");
		model_text(&m[1], s, n);
		cell(&b, s, n);
		puts_(&b, ",");
		/* numbers until a third of the way, then text: the rows before are counted in pass 2 */
		n = r < rows / 3 ? (size_t)snprintf(s, sizeof s, "%d", (int)(rnd() % 50)) : text_cell(s, false);
		model_text(&m[2], s, n);
		cell(&b, s, n);
		puts_(&b, ",");
		n = text_cell(s, true);
		model_text(&m[3], s, n);
		cell(&b, s, n);
		if (r + 1 < rows || last_break)
			puts_(&b, nl);
		if (rnd() % 97 == 0 && r + 1 < rows)
			puts_(&b, nl); /* a blank line, skipped */
	}
	return b.data;
}

static int cmp_key(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y ? 1 : (int)!signbit(x) - (int)!signbit(y);
}

static void same_as_model(const struct sl_drift_table *t, struct model *m)
{
	cr_assert_eq(t->ncols, NCOLS);
	const struct sl_drift_col *c = &t->cols[0];
	cr_assert_eq(c->kind, SL_DRIFT_NUM);
	cr_assert_eq(c->n_num, m[0].n_num);
	cr_expect_eq(c->missing, m[0].missing, "num missing");
	qsort(m[0].num, m[0].n_num, sizeof(double), cmp_key);
	double *v = malloc((c->n_num + 1) * sizeof *v);
	size_t k = 0;
	for (size_t i = 0; i < (c->counts ? c->n_distinct : c->n_num); i++)
		for (uint64_t j = 0; j < (c->counts ? c->counts[i] : 1); j++)
			v[k++] = sl_drift_col_at(c, i);
	cr_assert_eq(k, m[0].n_num);
	cr_expect_eq(memcmp(v, m[0].num, k * sizeof *v), 0, "numbers differ from strtod's");
	free(v);
	for (int i = 1; i < NCOLS; i++) {
		c = &t->cols[i];
		cr_assert_eq(c->kind, SL_DRIFT_CAT, "%s", names[i]);
		cr_expect_eq(c->missing, m[i].missing, "%s missing", names[i]);
		cr_expect_eq(c->cats.total, m[i].cats.total, "%s total", names[i]);
		cr_assert_eq(c->cats.n, m[i].cats.n, "%s categories", names[i]);
		cr_assert_eq(c->cats.seed, m[i].cats.seed);
		struct sl_drift_cat_pair p;
		cr_assert_eq(sl_drift_cats_pair(&m[i].cats, &c->cats, true, &p), 0);
		for (size_t j = 0; j < p.k && getenv("SCAN_DEBUG"); j++)
			if (p.ref[j] != p.cur[j])
				fprintf(stderr, "%s [%.*s] %g %g\n", names[i], (int)p.lens[j], p.names[j], p.ref[j],
				        p.cur[j]);
		cr_assert_eq(p.k, m[i].cats.n);
		for (size_t j = 0; j < p.k; j++)
			cr_expect_eq(p.ref[j], p.cur[j], "%s: a category's count differs", names[i]);
		sl_drift_cat_pair_release(&p);
	}
}

static void release_model(struct model *m)
{
	for (int i = 0; i < NCOLS; i++) {
		sl_drift_cats_release(&m[i].cats);
		free(m[i].num);
	}
}

Test(scan, csv_windows_and_inline_text_match_the_model)
{
	for (uint64_t s = 1; s <= 8; s++) {
		rng_state = s * 0x9E3779B97F4A7C15ULL;
		struct model mr[NCOLS], mc[NCOLS];
		char *ref = make(500 + 300 * s, s % 2, s % 3 != 0, mr);
		char *cur = make(700, s % 4 == 1, s % 2 == 0, mc);
		struct sl_drift_input a = {"ref.csv", ref, strlen(ref)}, b = {"cur.csv", cur, strlen(cur)};
		struct sl_drift_load_opts o = {.count_few = s % 2};
		struct sl_drift_table tr, tc;
		struct sl_drift_error err;
		cr_assert_eq(sl_drift_tables_load(&a, &b, &o, &tr, &tc, &err), 0, "seed %llu: %s",
		             (unsigned long long)s, err.msg);
		same_as_model(&tr, mr);
		same_as_model(&tc, mc);
		sl_drift_table_release(&tr);
		sl_drift_table_release(&tc);
		release_model(mr);
		release_model(mc);
		free(ref);
		free(cur);
	}
}

/* A file cut at every length, in a buffer of exactly that many bytes (ASan sees any read past
 * it): a cut just after a record loads, with one value of `a` per record; any other cut loads
 * or is a parse error (a short record, an open quote), never anything else. */
Test(scan, every_prefix_of_a_file)
{
	const char *full =
	    "a,b\n1.5,xx\n\"2\",\"y,y\"\r\nnan,\n-0,NA\n12345678901234567890123456789012345678901234567890"
	    "1234567890123,zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz\n7,Nope";
	size_t n = strlen(full);
	for (size_t len = 4; len <= n; len++) {
		char *ref = malloc(len);
		memcpy(ref, full, len);
		struct sl_drift_input a = {"ref.csv", ref, len}, b = {"cur.csv", full, n};
		struct sl_drift_table tr, tc;
		struct sl_drift_error err;
		struct sl_drift_load_opts o = {.count_few = true};
		int rc = sl_drift_tables_load(&a, &b, &o, &tr, &tc, &err);
		if (len == n || full[len - 1] == '\n') {
			cr_assert_eq(rc, 0, "cut at %zu: %s", len, err.msg);
			size_t records = 0;
			for (size_t i = 4; i < len; i++)
				records += full[i] == '\n';
			records += len == n;
			cr_expect_eq(tr.rows, records, "cut at %zu", len);
			cr_expect_eq(tr.cols[0].n_num + tr.cols[0].missing, records, "cut at %zu", len);
		} else {
			cr_expect(rc == 0 || rc == SL_EPARSE, "cut at %zu: rc %d", len, rc);
		}
		if (rc == 0) {
			sl_drift_table_release(&tr);
			sl_drift_table_release(&tc);
		}
		free(ref);
	}
}

/* Records of 100 text cells: more than the queue of counts waiting for the next record holds
 * (64), so a record's own cells are counted before its end; every count is still right. */
Test(scan, wide_records_of_text)
{
	enum { W = 100, ROWS = 50 };
	struct sl_buf b;
	sl_buf_init(&b, 0);
	char s[64];
	for (int i = 0; i < W; i++) {
		int n = snprintf(s, sizeof s, "%sc%d", i ? "," : "", i);
		put(&b, s, (size_t)n);
	}
	puts_(&b, "\n");
	for (int r = 0; r < ROWS; r++) {
		for (int i = 0; i < W; i++) {
			int n = snprintf(s, sizeof s, "%sv%d", i ? "," : "", (r * 7 + i) % 5);
			put(&b, s, (size_t)n);
		}
		puts_(&b, "\n");
	}
	struct sl_drift_input a = {"ref.csv", b.data, b.len}, c = {"cur.csv", b.data, b.len};
	struct sl_drift_table tr, tc;
	struct sl_drift_error err;
	struct sl_drift_load_opts o = {.count_few = true};
	cr_assert_eq(sl_drift_tables_load(&a, &c, &o, &tr, &tc, &err), 0, "%s", err.msg);
	for (int i = 0; i < W; i++) {
		const struct sl_drift_col *col = &tr.cols[i];
		cr_assert_eq(col->kind, SL_DRIFT_CAT);
		cr_assert_eq(col->cats.total, ROWS);
		uint64_t want[5] = {0};
		for (int r = 0; r < ROWS; r++)
			want[(r * 7 + i) % 5]++;
		for (size_t j = 0; j < col->cats.n; j++) {
			const struct sl_drift_cat_item *it = &col->cats.items[j];
			cr_assert_eq(it->len, 2);
			int v = col->cats.pool[it->off + 1] - '0';
			cr_expect_eq(it->count, want[v], "column %d value v%d", i, v);
		}
	}
	sl_drift_table_release(&tr);
	sl_drift_table_release(&tc);
	sl_buf_release(&b);
}
