/* counted.c: the offline fast paths against the simple ones, bit for bit, on random files:
 * numeric columns counted per distinct value while loading (sl_drift_load_opts.count_few)
 * give the same reports (JSON, text and HTML, every test) as the same columns stored and
 * sorted, including a column that gives up counting mid-file, one that turns text, -0.0 and
 * +0.0, NaN markers, empty cells, inf, quoted cells, CRLF and a last line without its break;
 * and CSV cells read by the inline number path load the same tables as the JSON Lines reader,
 * which takes the general path for every value. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sluice/core.h"
#include "sluice/drift.h"
#include "gen.h"

static double unif(void)
{
	return (double)(rnd() >> 11) / 9007199254740992.0;
}

/* A few-valued cell: small integers, signed zeros, short decimals and an exponent form. */
static void few_cell(struct sl_buf *b, int shift)
{
	static const char *const vals[] = {"0",    "1",   "2",    "3",     "4",    "-0",        "0.0",
	                                   "-0.0", "0.5", "1.25", "-2.75", "1e-3", "3.14159e2", "123456789.123456789",
	                                   "7"};
	int k = (int)(rnd() % 15);
	if (shift && k == 2)
		k = 14;
	put(b, "%s", vals[k]);
}

/* A number of many distinct values in varied spellings. */
static void wide_cell(struct sl_buf *b, double scale)
{
	double x = (unif() - 0.3) * scale;
	switch (rnd() % 4) {
	case 0:
		put(b, "%.6g", x);
		break;
	case 1:
		put(b, "%.17g", x);
		break;
	case 2:
		put(b, "%.3f", x);
		break;
	default:
		put(b, "%.0f", x);
		break;
	}
}

enum fmt { CSV, JSONL };

/* rows records of columns: few, few_dec (counted), giveup (few values, then many), wide,
 * late_text (numbers, then one text), cat, and in CSV only inf (few values and +-inf) and
 * quoted (numbers in quotes). Missing: empty cells, "nan" and "NA" in CSV, null in JSON. */
static char *make(size_t rows, int shift, enum fmt f, bool crlf, bool last_break)
{
	struct sl_buf b;
	sl_buf_init(&b, 0);
	const char *nl = crlf ? "\r\n" : "\n";
	if (f == CSV)
		put(&b, "few,few_dec,giveup,wide,late_text,cat,inf,quoted%s", nl);
	for (size_t r = 0; r < rows; r++) {
		bool miss = rnd() % 17 == 0;
		bool nan_marker = rnd() % 2; /* every draw is made in both formats: the same data */
		const char *na = f == JSONL ? "null" : nan_marker ? "nan" : "NA";
		if (f == JSONL)
			put(&b, "{\"few\":");
		if (miss)
			put(&b, "%s", f == JSONL ? "null" : "");
		else
			few_cell(&b, shift);
		put(&b, f == JSONL ? ",\"few_dec\":" : ",");
		if (rnd() % 23 == 0)
			put(&b, "%s", na);
		else
			put(&b, "%s", (const char *[]){"0.25", "0.5", "-0.125", "10.75"}[rnd() % 4]);
		put(&b, f == JSONL ? ",\"giveup\":" : ",");
		if (r < rows / 3)
			put(&b, "%d", (int)(rnd() % 3));
		else
			wide_cell(&b, 1000);
		put(&b, f == JSONL ? ",\"wide\":" : ",");
		wide_cell(&b, shift ? 120 : 100);
		put(&b, f == JSONL ? ",\"late_text\":" : ",");
		if (r == rows - 3)
			put(&b, f == JSONL ? "\"x\"" : "x");
		else
			put(&b, "%d", (int)(rnd() % 4));
		put(&b, f == JSONL ? ",\"cat\":\"%s\"" : ",%s",
		    (const char *[]){"a", "bb", "ccc", "d d"}[rnd() % (shift ? 4 : 3)]);
		const char *inf = (const char *[]){"1", "2", "inf", "-inf", "-Infinity"}[rnd() % 5];
		int quoted = (int)(rnd() % 5);
		if (f == CSV)
			put(&b, ",%s,\"%d.5\"", inf, quoted);
		else
			put(&b, "}");
		if (r + 1 < rows || last_break)
			put(&b, "%s", f == JSONL ? "\n" : nl);
	}
	return b.data; /* the buffer's heap block, NUL-terminated */
}

struct loaded {
	struct sl_drift_table r, c;
};

static void load(const char *ref, const char *cur, enum fmt f, bool count_few, struct loaded *out)
{
	struct sl_drift_input a = {f == CSV ? "ref.csv" : "ref.jsonl", ref, strlen(ref)};
	struct sl_drift_input b = {f == CSV ? "cur.csv" : "cur.jsonl", cur, strlen(cur)};
	struct sl_drift_load_opts o = {.count_few = count_few};
	struct sl_drift_error err;
	int rc = sl_drift_tables_load(&a, &b, &o, &out->r, &out->c, &err);
	cr_assert_eq(rc, 0, "%s", err.msg);
}

static void release(struct loaded *l)
{
	sl_drift_table_release(&l->r);
	sl_drift_table_release(&l->c);
}

/* All three renderings of a report with test t. */
static char *render(const struct loaded *l, enum sl_drift_test t)
{
	struct sl_drift_config cfg;
	struct sl_drift_report rep;
	struct sl_buf b;
	sl_drift_config_init(&cfg);
	cfg.opts.test = t;
	cr_assert_eq(sl_drift_report_build(&rep, &l->r, &l->c, &cfg), 0);
	sl_buf_init(&b, 0);
	cr_assert_eq(sl_drift_report_json(&rep, "ref", "cur", &b), 0);
	cr_assert_eq(sl_drift_report_text(&rep, "ref", "cur", &b), 0);
	cr_assert_eq(sl_drift_report_html(&rep, "ref", "cur", &b), 0);
	sl_drift_report_release(&rep);
	return b.data;
}

static const struct sl_drift_col *col(const struct sl_drift_table *t, const char *name)
{
	for (size_t i = 0; i < t->ncols; i++)
		if (strcmp(t->cols[i].name, name) == 0)
			return &t->cols[i];
	cr_assert_fail("no column %s", name);
	return NULL;
}

/* A column's values one per entry, sorted (a counted column expanded). */
static double *values(const struct sl_drift_col *c)
{
	double *v = malloc((c->n_num ? c->n_num : 1) * sizeof *v);
	cr_assert(v);
	if (!c->counts) {
		for (size_t i = 0; i < c->n_num; i++)
			v[i] = sl_drift_col_at(c, i);
		return v;
	}
	size_t k = 0;
	for (size_t i = 0; i < c->n_distinct; i++)
		for (uint64_t j = 0; j < c->counts[i]; j++)
			v[k++] = c->num[i];
	cr_assert_eq(k, c->n_num);
	return v;
}

/* Two loads of the same data hold the same values, bit for bit, and the same counts. */
static void same_tables(const struct sl_drift_table *a, const struct sl_drift_table *b)
{
	cr_assert_eq(a->ncols, b->ncols);
	cr_assert_eq(a->rows, b->rows);
	for (size_t i = 0; i < a->ncols; i++) {
		const struct sl_drift_col *x = &a->cols[i], *y = col(b, a->cols[i].name);
		cr_expect_eq(x->kind, y->kind, "%s", x->name);
		cr_expect_eq(x->n_num, y->n_num, "%s", x->name);
		cr_expect_eq(x->missing, y->missing, "%s", x->name);
		cr_expect_eq(x->nonfinite, y->nonfinite, "%s", x->name);
		cr_expect_eq(x->cats.total, y->cats.total, "%s", x->name);
		cr_expect_eq(x->cats.n, y->cats.n, "%s", x->name);
		if (x->n_num == y->n_num && x->n_num) {
			double *u = values(x), *v = values(y);
			cr_expect_eq(memcmp(u, v, x->n_num * sizeof *u), 0, "%s: values differ", x->name);
			free(u);
			free(v);
		}
	}
}

static const enum sl_drift_test tests[] = {SL_DRIFT_AUTO, SL_DRIFT_KS, SL_DRIFT_CHISQUARE,  SL_DRIFT_Z,
                                           SL_DRIFT_PSI,  SL_DRIFT_JS, SL_DRIFT_WASSERSTEIN};

/* The counted load gives the plain load's tables and every test's reports, byte for byte; both
 * are released. */
static void same_and_release(struct loaded *plain, struct loaded *counted)
{
	same_tables(&plain->r, &counted->r);
	same_tables(&plain->c, &counted->c);
	for (size_t t = 0; t < sizeof tests / sizeof tests[0]; t++) {
		char *a = render(plain, tests[t]), *b = render(counted, tests[t]);
		cr_expect_str_eq(a, b, "test %s differs", sl_drift_test_name(tests[t]));
		free(a);
		free(b);
	}
	release(plain);
	release(counted);
}

static void reports_equal(size_t rows_ref, size_t rows_cur, uint64_t seed)
{
	rng_state = seed;
	char *ref = make(rows_ref, 0, CSV, seed % 2, true), *cur = make(rows_cur, 1, CSV, false, seed % 3 != 0);
	struct loaded plain, counted;
	load(ref, cur, CSV, false, &plain);
	load(ref, cur, CSV, true, &counted);
	/* the paths under test are taken */
	cr_assert(col(&counted.r, "few")->counts && col(&counted.c, "few_dec")->counts &&
	          col(&counted.r, "inf")->counts);
	cr_assert(!col(&plain.r, "few")->counts);
	if (rows_ref > 3 * 8192 / 2)
		cr_assert(!col(&counted.r, "giveup")->counts, "giveup should have left counting");
	cr_assert_eq(col(&counted.r, "late_text")->kind, SL_DRIFT_CAT);
	same_and_release(&plain, &counted);
	free(ref);
	free(cur);
}

Test(counted, reports_equal_large)
{
	reports_equal(30000, 20000, 0x9E3779B97F4A7C15ULL);
}

Test(counted, reports_equal_small_reference)
{
	/* a reference of at most 1000 rows picks K-S and chi-squared */
	for (uint64_t s = 1; s <= 6; s++)
		reports_equal(200 + 150 * s, 500 + 77 * s, s * 0x2545F4914F6CDD1DULL);
}

/* The CSV reader's inline number path against the JSON Lines reader, which parses every number
 * on the general path: the same tables (values bit for bit), counted or not. */
Test(counted, csv_fast_path_matches_jsonl)
{
	for (uint64_t s = 1; s <= 4; s++) {
		for (int few = 0; few < 2; few++) {
			uint64_t seed = s * 0xD1B54A32D192ED03ULL;
			rng_state = seed;
			char *rc = make(3000 + 500 * s, 0, CSV, s % 2, s % 2);
			char *cc = make(2000, 1, CSV, false, true);
			rng_state = seed;
			char *rj = make(3000 + 500 * s, 0, JSONL, false, s % 2);
			char *cj = make(2000, 1, JSONL, false, true);
			struct loaded a, b;
			/* the JSON Lines files lack inf and quoted: load the common columns only */
			static const char *const common[] = {"few", "few_dec", "giveup", "wide", "late_text", "cat"};
			struct sl_drift_input ir = {"ref.csv", rc, strlen(rc)}, ic = {"cur.csv", cc, strlen(cc)};
			struct sl_drift_input jr = {"ref.jsonl", rj, strlen(rj)}, jc = {"cur.jsonl", cj, strlen(cj)};
			struct sl_drift_load_opts o = {.columns = common, .ncolumns = 6, .count_few = few};
			struct sl_drift_error err;
			cr_assert_eq(sl_drift_tables_load(&ir, &ic, &o, &a.r, &a.c, &err), 0, "%s", err.msg);
			cr_assert_eq(sl_drift_tables_load(&jr, &jc, &o, &b.r, &b.c, &err), 0, "%s", err.msg);
			same_tables(&a.r, &b.r);
			same_tables(&a.c, &b.c);
			char *x = render(&a, SL_DRIFT_AUTO), *y = render(&b, SL_DRIFT_AUTO);
			cr_expect_str_eq(x, y);
			free(x), free(y);
			release(&a), release(&b);
			free(rc), free(cc), free(rj), free(cj);
		}
	}
}

/* Edge cells: a file of only signed zeros, a column whose every value is missing on one side,
 * a single row, cells at the very end of the input (fewer than 18 bytes left). */
Test(counted, edges)
{
	static const char *const files[][2] = {
	    {"x,y\n-0,1\n0,2\n-0.0,3\n0.0,4\n", "x,y\n0,1\n-0,1\n0,1"},
	    {"x,y\n,1\nnan,2\n", "x,y\n1,1\n2,2\n"},
	    {"x\n5", "x\n-5"},
	    {"x,y\r\n1.5,2\r\n\"2.5\",3\r\n", "x,y\r\n1.5,2\r\n1e300,-1e-300\r\n"},
	};
	for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
		struct loaded a, b;
		load(files[i][0], files[i][1], CSV, false, &a);
		load(files[i][0], files[i][1], CSV, true, &b);
		same_tables(&a.r, &b.r);
		same_tables(&a.c, &b.c);
		for (size_t t = 0; t < sizeof tests / sizeof tests[0]; t++) {
			char *x = render(&a, tests[t]), *y = render(&b, tests[t]);
			cr_expect_str_eq(x, y, "file %zu test %s", i, sl_drift_test_name(tests[t]));
			free(x), free(y);
		}
		release(&a), release(&b);
	}
	/* -0.0 and +0.0 are counted apart, -0.0 first, and compare equal */
	struct loaded z;
	load(files[0][0], files[0][1], CSV, true, &z);
	const struct sl_drift_col *x = col(&z.r, "x");
	cr_assert(x->counts);
	cr_assert_eq(x->n_distinct, 2);
	cr_expect(signbit(x->num[0]) && !signbit(x->num[1]));
	cr_expect_eq(x->counts[0], 2);
	cr_expect_eq(x->counts[1], 2);
	release(&z);
}

/* Small non-negative integers are counted in a dense array, the rest in the hash table: values
 * on both sides of its end (4095, 4096), +0.0 and -0.0 spelled several ways, non-integers and
 * exponent forms among them; one column stays counted, one passes 8,192 distinct values with
 * both parts full and moves to its array. Same tables and reports as without counting. */
Test(counted, dense_and_hashed_counts)
{
	static const char *const edge[] = {"0",   "-0",      "0.0", "-0.0",  "4095", "4096", "4095.5",
	                                   "1e3", "4.095e3", "1",   "00012", "-1",   "2.0"};
	for (int big = 0; big < 2; big++) {
		struct sl_buf f[2];
		rng_state = 0xA0761D6478BD642FULL + (uint64_t)big;
		for (int side = 0; side < 2; side++) {
			sl_buf_init(&f[side], 0);
			put(&f[side], "x,y\n");
			for (int r = 0; r < 30000; r++) {
				uint64_t k = rnd();
				if (k % 3 == 0)
					put(&f[side], "%s,", edge[(k >> 8) % (sizeof edge / sizeof edge[0])]);
				else
					put(&f[side], "%d,", (int)((k >> 16) % (big ? 12000 : 5000)));
				put(&f[side], "%d\n", (int)((k >> 40) % 300));
			}
		}
		struct loaded plain, counted;
		load(f[0].data, f[1].data, CSV, false, &plain);
		load(f[0].data, f[1].data, CSV, true, &counted);
		cr_assert(col(&counted.r, "y")->counts, "y is counted");
		cr_assert(big ? !col(&counted.r, "x")->counts : col(&counted.r, "x")->counts != NULL);
		same_and_release(&plain, &counted);
		sl_buf_release(&f[0]);
		sl_buf_release(&f[1]);
	}
}
