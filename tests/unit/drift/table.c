/* table.c: loading CSV and JSONL for sluice drift: RFC 4180 quoting, line breaks and blank
 * lines, missing values, type inference over both files and declared types, column lists and
 * alignment, and every input error with its FILE:LINE; the number parser against strtod, on
 * its own and on cells read in place from a file (its plain-decimal fast paths included). */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sluice/drift.h"

struct pair {
	struct sl_drift_table r, c;
	struct sl_drift_error err;
	int rc;
};

static struct pair load_opts(const char *rname, const char *ref, const char *cname, const char *cur,
                             const struct sl_drift_load_opts *o)
{
	struct pair p;
	struct sl_drift_input a = {rname, ref, strlen(ref)}, b = {cname, cur, strlen(cur)};
	p.rc = sl_drift_tables_load(&a, &b, o, &p.r, &p.c, &p.err);
	return p;
}

static struct pair load(const char *ref, const char *cur)
{
	return load_opts("ref.csv", ref, "cur.csv", cur, NULL);
}

static void release(struct pair *p)
{
	sl_drift_table_release(&p->r);
	sl_drift_table_release(&p->c);
}

static const struct sl_drift_col *col(const struct sl_drift_table *t, const char *name)
{
	for (size_t i = 0; i < t->ncols; i++)
		if (strcmp(t->cols[i].name, name) == 0)
			return &t->cols[i];
	cr_assert_fail("no column '%s'", name);
	return NULL;
}

static uint64_t cat_count(const struct sl_drift_col *c, const char *key)
{
	for (size_t i = 0; i < c->cats.n; i++)
		if (c->cats.items[i].len == strlen(key) &&
		    memcmp(c->cats.pool + c->cats.items[i].off, key, strlen(key)) == 0)
			return c->cats.items[i].count;
	return 0;
}

static void expect_error(const char *ref, const char *cur, const char *want)
{
	struct pair p = load(ref, cur);
	cr_expect_neq(p.rc, 0, "accepted, want error '%s'", want);
	cr_expect(strstr(p.err.msg, want) != NULL, "error '%s', want '%s'", p.err.msg, want);
	cr_expect_eq(p.r.ncols + p.c.ncols, 0, "tables released on failure");
	release(&p);
}

Test(table, csv_basics)
{
	const char *ref = "\xEF\xBB\xBF"
	                  "age,city,note,,score\r\n"
	                  "31,Paris,\"hello, world\",1,0.5\r\n"
	                  "\r\n"
	                  "NA,\"Rome\",\"two\nlines\",2,\n"
	                  "45,\"say \"\"hi\"\"\",x,3,inf\n"
	                  "-2.5e1,Paris,,4,nan";
	const char *cur = "age,city,note,Unnamed: 3,score,extra\n1,Oslo,a,1,2,z\n";
	struct pair p = load(ref, cur);
	cr_assert_eq(p.rc, 0, "%s", p.err.msg);
	cr_expect_eq(p.r.rows, 4);
	cr_expect_eq(p.c.rows, 1);
	cr_expect_eq(p.r.ncols, 5);
	cr_expect_eq(p.c.ignored_cols, 1, "'extra' is only in the current file");
	const struct sl_drift_col *age = col(&p.r, "age"), *city = col(&p.r, "city"), *score = col(&p.r, "score");
	cr_expect_eq(age->kind, SL_DRIFT_NUM);
	cr_expect_eq(age->n_num, 3);
	cr_expect_eq(age->missing, 1);
	cr_expect(sl_drift_col_at(age, 0) == -25 && sl_drift_col_at(age, 1) == 31 && sl_drift_col_at(age, 2) == 45,
	          "sorted numbers");
	cr_expect_eq(city->kind, SL_DRIFT_CAT);
	cr_expect_eq(cat_count(city, "Paris"), 2);
	cr_expect_eq(cat_count(city, "Rome"), 1);
	cr_expect_eq(cat_count(city, "say \"hi\""), 1, "doubled quotes unescaped");
	cr_expect_eq(cat_count(col(&p.r, "note"), "two\nlines"), 1, "a line break inside quotes");
	cr_expect_eq(cat_count(col(&p.r, "note"), "hello, world"), 1);
	cr_expect_eq(col(&p.r, "note")->missing, 1);
	cr_expect_eq(col(&p.r, "Unnamed: 3")->kind, SL_DRIFT_NUM, "an empty header is named as pandas names it");
	cr_expect_eq(score->n_num, 1);
	cr_expect_eq(score->missing, 2, "empty and nan are missing");
	cr_expect_eq(score->nonfinite, 1, "inf is dropped and counted");
	cr_expect_eq(col(&p.c, "city")->cats.total, 1);
	release(&p);
}

Test(table, types_over_both_files)
{
	struct pair p = load("a,b\n1,10\n2,20\n", "a,b\n3,x\n4,20\n");
	cr_assert_eq(p.rc, 0, "%s", p.err.msg);
	const struct sl_drift_col *rb = col(&p.r, "b"), *cb = col(&p.c, "b");
	cr_expect_eq(col(&p.r, "a")->kind, SL_DRIFT_NUM);
	cr_expect_eq(rb->kind, SL_DRIFT_CAT, "text in the current file makes both categorical");
	cr_expect_eq(cb->kind, SL_DRIFT_CAT);
	cr_expect_eq(cat_count(rb, "10"), 1);
	cr_expect_eq(cat_count(rb, "20"), 1);
	cr_expect_eq(cat_count(cb, "x"), 1);
	cr_expect_eq(cat_count(cb, "20"), 1);
	cr_expect_null(rb->num);
	cr_expect_null(rb->code);
	release(&p);

	/* text in the middle of a file: the rows before it are counted by the second pass */
	p = load("v\n1\n2\nNA\nx\n1\n\n", "v\n1\n");
	cr_assert_eq(p.rc, 0, "%s", p.err.msg);
	rb = col(&p.r, "v");
	cr_expect(cat_count(rb, "1") == 2 && cat_count(rb, "2") == 1 && cat_count(rb, "x") == 1, "counts");
	cr_expect(rb->cats.total == 4 && rb->missing == 1, "total %llu", (unsigned long long)rb->cats.total);
	cr_expect_eq(cat_count(col(&p.c, "v"), "1"), 1);
	release(&p);

	struct sl_drift_decl decl[] = {{"a", SL_DRIFT_CAT}, {"b", SL_DRIFT_NUM}};
	struct sl_drift_load_opts o = {.decl = decl, .ndecl = 2};
	p = load_opts("ref.csv", "a,b\n1,10\n", "cur.csv", "a,b\n1,20\n", &o);
	cr_assert_eq(p.rc, 0, "%s", p.err.msg);
	cr_expect_eq(col(&p.r, "a")->kind, SL_DRIFT_CAT, "declared categorical");
	cr_expect_eq(cat_count(col(&p.c, "a"), "1"), 1);
	release(&p);

	p = load_opts("ref.csv", "a,b\n1,10\n", "cur.csv", "a,b\n1,20\n2,oops\n", &o);
	cr_expect_eq(p.rc, SL_EPARSE);
	cr_expect_str_eq(p.err.msg, "cur.csv:3: column 'b' is declared numeric but holds 'oops'");
	release(&p);

	struct sl_drift_decl ghost[] = {{"zz", SL_DRIFT_NUM}};
	struct sl_drift_load_opts og = {.decl = ghost, .ndecl = 1};
	p = load_opts("ref.csv", "a\n1\n", "cur.csv", "a\n1\n", &og);
	cr_expect_str_eq(p.err.msg, "ref.csv: no column 'zz' (its type was declared)");
	release(&p);
}

Test(table, columns_listed)
{
	const char *cols[] = {"c", "a"};
	struct sl_drift_load_opts o = {.columns = cols, .ncolumns = 2};
	struct pair p = load_opts("ref.csv", "a,b,c\n1,2,3\n", "cur.csv", "c,b,a\n6,5,4\n", &o);
	cr_assert_eq(p.rc, 0, "%s", p.err.msg);
	cr_assert_eq(p.r.ncols, 2);
	cr_expect_str_eq(p.r.cols[0].name, "c");
	cr_expect_str_eq(p.c.cols[1].name, "a");
	cr_expect_eq(sl_drift_col_at(&p.c.cols[1], 0), 4);
	release(&p);

	p = load_opts("ref.csv", "a,b\n1,2\n", "cur.csv", "a,b\n1,2\n", &o);
	cr_expect_str_eq(p.err.msg, "ref.csv:1: no column 'c'");
	release(&p);
	expect_error("a,b\n1,2\n", "a\n1\n", "cur.csv: no column 'b' (the reference has it)");
}

Test(table, csv_errors)
{
	expect_error("", "a\n1\n", "ref.csv: empty file (a header row is required)");
	expect_error("a,b\n1,2\n3\n", "a,b\n1,2\n", "ref.csv:3: 1 fields, the header has 2");
	expect_error("a,b\n\"x\ny\",2\n1,2,3\n", "a,b\n1,2\n", "ref.csv:4: 3 fields, the header has 2");
	expect_error("a,b\n1,\"open\n2,3\n", "a,b\n1,2\n", "ref.csv:2: unterminated quoted field");
	expect_error("a,b\n1,\"x\"y\n", "a,b\n1,2\n", "ref.csv:2: text after a closing quote");
	expect_error("a,a\n1,2\n", "a\n1\n", "ref.csv:1: duplicate column 'a'");
	expect_error("a\n1\n", "a,b\n1,2\n\n\n1,2,3\n", "cur.csv:5: 3 fields, the header has 2");
}

Test(table, limits)
{
	char *wide = malloc(5000);
	size_t n = 0;
	for (int i = 0; i < 1001; i++)
		n += (size_t)snprintf(wide + n, 5000 - n, "%sc%d", i ? "," : "", i);
	snprintf(wide + n, 5000 - n, "\n");
	struct pair p = load(wide, "a\n1\n");
	cr_expect_eq(p.rc, SL_ETOOBIG);
	cr_expect_str_eq(p.err.msg, "ref.csv:1: more than 1000 columns");
	release(&p);
	free(wide);

	struct sl_drift_load_opts o = {.max_line = 16};
	p = load_opts("ref.csv", "a,b\n1,2\n12345678,123456789\n", "cur.csv", "a,b\n1,2\n", &o);
	cr_expect_str_eq(p.err.msg, "ref.csv:3: record longer than 16 bytes");
	release(&p);
	p = load_opts("r.jsonl", "{\"a\":1}\n{\"a\":123456789012345}\n", "c.jsonl", "{\"a\":1}\n", &o);
	cr_expect_str_eq(p.err.msg, "r.jsonl:2: line longer than 16 bytes");
	release(&p);
}

Test(table, jsonl)
{
	const char *ref = "{\"n\": 1, \"s\": \"caf\\u00e9\", \"b\": true}\n"
	                  "\n"
	                  "{\"n\": -2.5e3, \"s\": \"caf\xC3\xA9\", \"b\": false, \"late\": null}\r\n"
	                  "{\"s\": \"\\ud83d\\ude00\", \"n\": null}\n";
	const char *cur = "{\"n\": 3, \"s\": \"x\", \"b\": true, \"late\": 7, \"mix\": 1}\n{\"mix\": \"1\"}";
	struct pair p = load_opts("ref.jsonl", ref, "cur.jsonl", cur, NULL);
	cr_assert_eq(p.rc, 0, "%s", p.err.msg);
	cr_expect_eq(p.r.format, SL_DRIFT_FMT_JSONL);
	cr_expect_eq(p.r.rows, 3);
	const struct sl_drift_col *n = col(&p.r, "n"), *s = col(&p.r, "s"), *b = col(&p.r, "b");
	cr_expect_eq(n->kind, SL_DRIFT_NUM);
	cr_expect_eq(n->n_num, 2);
	cr_expect_eq(n->missing, 1);
	cr_expect_eq(sl_drift_col_at(n, 0), -2500);
	cr_expect_eq(cat_count(s, "caf\xC3\xA9"), 2, "\\u00e9 and the raw UTF-8 are one category");
	cr_expect_eq(cat_count(s, "\xF0\x9F\x98\x80"), 1, "a surrogate pair decodes to one code point");
	cr_expect_eq(b->kind, SL_DRIFT_CAT);
	cr_expect_eq(cat_count(b, "true"), 1);
	cr_expect_eq(b->missing, 1, "an absent member is missing");
	cr_expect_eq(col(&p.r, "late")->missing, 3);
	cr_expect_eq(p.c.ignored_cols, 1, "'mix' is only in the current file");
	release(&p);

	/* format by sniffing when the name says nothing */
	p = load_opts("ref.data", "{\"a\":1}\n", "cur.data", "a\n2\n", NULL);
	cr_assert_eq(p.rc, 0, "%s", p.err.msg);
	cr_expect_eq(p.r.format, SL_DRIFT_FMT_JSONL);
	cr_expect_eq(p.c.format, SL_DRIFT_FMT_CSV);
	release(&p);
}

static void expect_jsonl_error(const char *ref, const char *want)
{
	struct pair p = load_opts("r.jsonl", ref, "c.jsonl", "{\"a\":1}\n", NULL);
	cr_expect_neq(p.rc, 0, "accepted %s", ref);
	cr_expect_str_eq(p.err.msg, want);
	release(&p);
}

Test(table, jsonl_errors)
{
	expect_jsonl_error("{\"a\":1}\n{\"a\":{\"b\":2}}\n", "r.jsonl:2: member 'a': nested values are not supported");
	expect_jsonl_error("{\"a\":[1]}\n", "r.jsonl:1: member 'a': nested values are not supported");
	expect_jsonl_error("{\"a\":1,\"a\":2}\n", "r.jsonl:1: member 'a' given twice");
	expect_jsonl_error("{\"a\":1,}\n", "r.jsonl:1: expected a member name");
	expect_jsonl_error("{\"a\":01}\n", "r.jsonl:1: invalid number");
	expect_jsonl_error("{\"a\":1} x\n", "r.jsonl:1: text after the object");
	expect_jsonl_error("\n\n[1,2]\n", "r.jsonl:3: expected a JSON object");
	expect_jsonl_error("{\"a\":\"x\\q\"}\n", "r.jsonl:1: invalid escape in a string");
	expect_jsonl_error("{\"a\":\"x\ty\"}\n", "r.jsonl:1: control character in a string");
	expect_jsonl_error("{\"a\":\"open}\n", "r.jsonl:1: unterminated string");
	expect_jsonl_error("{\"a\":tru}\n", "r.jsonl:1: invalid value");
	expect_jsonl_error("{\"a\" 1}\n", "r.jsonl:1: expected ':'");
	expect_jsonl_error("{\"a\":1\n", "r.jsonl:1: expected ',' or '}'");
}

Test(table, numbers)
{
	static const char *ok[] = {"0",
	                           "-0",
	                           "+3",
	                           " 42 ",
	                           "1.5",
	                           ".5",
	                           "5.",
	                           "1e3",
	                           "1E-3",
	                           "-2.5e+10",
	                           "123456789012345678901234567890",
	                           "0.000000000000000000000000001234",
	                           "1.7976931348623157e308",
	                           "4.9e-324",
	                           "2.2250738585072011e-308",
	                           "9007199254740993",
	                           "0.1",
	                           "3.141592653589793238462643383279"};
	for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
		double v;
		cr_assert_eq(sl_drift_parse_number(ok[i], strlen(ok[i]), &v), 0, "'%s' refused", ok[i]);
		double want = strtod(ok[i], NULL);
		cr_expect(memcmp(&v, &want, sizeof v) == 0, "'%s': %.17g, strtod %.17g", ok[i], v, want);
	}
	static const char *bad[] = {"", " ", "abc", "1.2.3", "1e", "e5", "--1", "1,5", "0x10", "nan", "1 2", "+", "."};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		double v;
		cr_expect_eq(sl_drift_parse_number(bad[i], strlen(bad[i]), &v), SL_EPARSE, "'%s' accepted", bad[i]);
	}
	double v;
	cr_expect(sl_drift_parse_number("-Infinity", 9, &v) == 0 && v == -INFINITY);
	cr_expect(sl_drift_parse_number("inf", 3, &v) == 0 && v == INFINITY);
	cr_expect(sl_drift_parse_number("1e999", 5, &v) == 0 && v == INFINITY);
	/* random literals, bit for bit against strtod */
	struct sl_rng rng;
	sl_rng_seed(&rng, 42);
	char buf[64];
	for (int i = 0; i < 200000; i++) {
		int len = 0, digits = 1 + (int)(sl_rng_next(&rng) % 24),
		    point = (int)(sl_rng_next(&rng) % (digits + 1));
		if (sl_rng_next(&rng) & 1)
			buf[len++] = '-';
		for (int d = 0; d < digits; d++) {
			if (d == point && d)
				buf[len++] = '.';
			buf[len++] = (char)('0' + sl_rng_next(&rng) % 10);
		}
		if (sl_rng_next(&rng) % 3 == 0)
			len += snprintf(buf + len, sizeof buf - (size_t)len, "e%d", (int)(sl_rng_next(&rng) % 80) - 40);
		buf[len] = '\0';
		cr_assert_eq(sl_drift_parse_number(buf, (size_t)len, &v), 0, "'%s' refused", buf);
		double want = strtod(buf, NULL);
		cr_assert(memcmp(&v, &want, sizeof v) == 0, "'%s': %.17g, strtod %.17g", buf, v, want);
	}
}

/* The plain-decimal fast path (-?D+(.D+)? short enough for exact double arithmetic) and its
 * edges: where it must hand over to the general path (20 digits, 2^53 + 1, 23 fraction digits,
 * an integer that wraps uint64), bit for bit against strtod on the shapes CSV writers print. */
Test(table, plain_decimals_match_strtod)
{
	static const char *edge[] = {"0", "-0", "-0.0", "00012.50", "9007199254740992", "9007199254740993",
	                             "-9007199254740993", "900719925474099.3", "9999999999999999999",
	                             "18446744073709551617", "99999999999999999999", "0.1234567890123456789012",
	                             "0.12345678901234567890123", "1.0000000000000000000001", "123456789.123456789",
	                             "-0.000000000000000000001", "4503599627370497.5", "0.30000000000000004"};
	double v;
	for (size_t i = 0; i < sizeof edge / sizeof edge[0]; i++) {
		cr_assert_eq(sl_drift_parse_number(edge[i], strlen(edge[i]), &v), 0, "'%s' refused", edge[i]);
		double want = strtod(edge[i], NULL);
		cr_expect(memcmp(&v, &want, sizeof v) == 0, "'%s': %.17g, strtod %.17g", edge[i], v, want);
	}
	struct sl_rng rng;
	sl_rng_seed(&rng, 7);
	char buf[80];
	for (int i = 0; i < 300000; i++) {
		double x = (sl_rng_double(&rng) - 0.3) * pow(10, (int)(sl_rng_next(&rng) % 24) - 8);
		int len;
		switch (i % 4) {
		case 0: /* numpy's savetxt and pandas' shortest round trip print up to 17 significant */
			len = snprintf(buf, sizeof buf, "%.*g", 1 + (int)(sl_rng_next(&rng) % 17), x);
			break;
		case 1: /* fixed decimals */
			len = snprintf(buf, sizeof buf, "%.*f", (int)(sl_rng_next(&rng) % 24), x);
			break;
		case 2: /* integers, up to 20 digits */
			len = snprintf(buf, sizeof buf, "%llu",
			               (unsigned long long)(sl_rng_next(&rng) >> (sl_rng_next(&rng) % 64)));
			break;
		default: /* digits and a point anywhere, leading zeros included */
			len = 0;
			int nd = 1 + (int)(sl_rng_next(&rng) % 24), pt = (int)(sl_rng_next(&rng) % nd);
			for (int d = 0; d < nd; d++) {
				if (d == pt && d)
					buf[len++] = '.';
				buf[len++] = (char)('0' + sl_rng_next(&rng) % 10);
			}
			buf[len] = '\0';
		}
		if (len <= 0 || strchr(buf, 'e') || strchr(buf, 'i') || strchr(buf, 'n'))
			continue; /* exponents and inf/nan are the general path's, tested above */
		cr_assert_eq(sl_drift_parse_number(buf, (size_t)len, &v), 0, "'%s' refused", buf);
		double want = strtod(buf, NULL);
		cr_assert(memcmp(&v, &want, sizeof v) == 0, "'%s': %.17g, strtod %.17g", buf, v, want);
	}
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* Cells read in place from a file take the eight-bytes-at-a-time path (the bytes after a cell are
 * readable): a loaded column of random plain decimals, with commas, line breaks and the file's
 * end around them, equals strtod of its cells bit for bit (sorted both, zeros compared by value). */
Test(table, plain_decimals_in_a_file_match_strtod)
{
	enum { ROWS = 60000 };
	size_t cap = (size_t)ROWS * 64 + 16, len = 0;
	char *csv = malloc(cap), cell[48];
	double *want = malloc(ROWS * sizeof *want);
	cr_assert(csv && want);
	struct sl_rng rng;
	sl_rng_seed(&rng, 13);
	len += (size_t)snprintf(csv, cap, "x,y\n");
	for (int i = 0; i < ROWS; i++) {
		int nd = 1 + (int)(sl_rng_next(&rng) % 18), pt = (int)(sl_rng_next(&rng) % (nd + 1)), k = 0;
		if (sl_rng_next(&rng) % 3 == 0)
			cell[k++] = '-';
		for (int d = 0; d < nd; d++) {
			if (d == pt && d)
				cell[k++] = '.';
			cell[k++] = (char)('0' + sl_rng_next(&rng) % 10);
		}
		cell[k] = '\0';
		want[i] = strtod(cell, NULL);
		/* the last row's x ends the file; other rows vary what follows the cell */
		len += (size_t)snprintf(csv + len, cap - len, i % 2 ? "%s,7\n" : "%s,1234567890123\r\n", cell);
	}
	struct pair p = load(csv, "x,y\n1,2\n");
	cr_assert_eq(p.rc, 0, "%s", p.err.msg);
	const struct sl_drift_col *x = col(&p.r, "x");
	cr_assert_eq(x->n_num, ROWS);
	qsort(want, ROWS, sizeof *want, cmp_double);
	for (int i = 0; i < ROWS; i++) {
		double got = sl_drift_col_at(x, (size_t)i);
		cr_assert(got == want[i] && (want[i] == 0 || memcmp(&got, &want[i], sizeof want[i]) == 0),
		          "row %d: %.17g, strtod %.17g", i, got, want[i]);
	}
	release(&p);
	/* a file that ends right after a short cell: the narrow path */
	p = load("x\n5\n12.25", "x\n1");
	cr_assert_eq(p.rc, 0, "%s", p.err.msg);
	cr_expect(sl_drift_col_at(col(&p.r, "x"), 0) == 5 && sl_drift_col_at(col(&p.r, "x"), 1) == 12.25);
	release(&p);
	free(csv);
	free(want);
}

Test(table, missing_markers)
{
	static const char *na[] = {"",     "NA",     "N/A",     "n/a",     "NaN",     "nan",  "-nan",
	                           "-NaN", "null",   "NULL",    "None",    "<NA>",    "#N/A", "#N/A N/A",
	                           "#NA",  "1.#IND", "-1.#IND", "1.#QNAN", "-1.#QNAN"};
	for (size_t i = 0; i < sizeof na / sizeof na[0]; i++)
		cr_expect(sl_drift_is_missing(na[i], strlen(na[i])), "'%s' is missing", na[i]);
	static const char *not_na[] = {"0", "na", "none", "NAN", " NA", "1.5", "-1.25", "Null", "x"};
	for (size_t i = 0; i < sizeof not_na / sizeof not_na[0]; i++)
		cr_expect(!sl_drift_is_missing(not_na[i], strlen(not_na[i])), "'%s' is a value", not_na[i]);
}

Test(table, many_categories)
{
	/* past the cap, categories go to a sketch; the exact table keeps its first ones */
	size_t cap = 64;
	struct sl_drift_load_opts o = {.max_cats = cap};
	char *ref = malloc(20 * 1500 + 16), *cur = malloc(20 * 1500 + 16);
	size_t nr = (size_t)snprintf(ref, 16, "k\n"), nc = (size_t)snprintf(cur, 16, "k\n");
	for (int i = 0; i < 1500; i++) {
		nr += (size_t)snprintf(ref + nr, 20, "id%d\n", i % 500);
		nc += (size_t)snprintf(cur + nc, 20, "id%d\n", i % 10);
	}
	struct pair p = load_opts("ref.csv", ref, "cur.csv", cur, &o);
	cr_assert_eq(p.rc, 0, "%s", p.err.msg);
	const struct sl_drift_col *r = col(&p.r, "k"), *c = col(&p.c, "k");
	cr_expect_eq(r->cats.n, cap);
	cr_expect_not_null(r->cats.cms, "the reference overflowed");
	cr_expect_null(c->cats.cms, "the current data did not");
	cr_expect_eq(r->cats.total, 1500);
	cr_expect_eq(r->cats.folded, 1500 - 3 * cap, "folded %llu", (unsigned long long)r->cats.folded);
	struct sl_drift_opts opts;
	struct sl_drift_result res;
	sl_drift_opts_init(&opts);
	cr_assert_eq(sl_drift_compare_cats(&r->cats, &c->cats, &opts, &res), 0);
	cr_expect_eq(res.test, SL_DRIFT_JS);
	cr_expect(res.drift, "500 ids against 10 is drift, even through hashed bins (js %g)", res.statistic);
	release(&p);
	free(ref);
	free(cur);
}

/* The CSV reader counts a short key it has counted before from its own memory of where that
 * key is (table-int.h, sl__known, keys of up to 24 bytes); the JSON Lines reader never does.
 * The same random keys (0-30 bytes, some repeating often, some once) through both readers, with a cap that the keys pass
 * (the sketch takes over midway) and one they do not: the same items in the same order with
 * the same counts, totals, folded counts and sketch. */
Test(table, csv_known_keys_count_as_jsonl)
{
	enum { ROWS = 20000 };
	static const size_t caps[] = {40, 100000};
	char *csv = malloc(ROWS * 48 + 16), *jsonl = malloc(ROWS * 64 + 16), key[32];
	uint64_t x = 12345;
	for (size_t ci = 0; ci < sizeof caps / sizeof caps[0]; ci++) {
		size_t cc = ROWS * 48 + 16, cj = ROWS * 64 + 16, nc = (size_t)snprintf(csv, cc, "k,v\n"), nj = 0;
		for (int i = 0; i < ROWS; i++) {
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			size_t len = (size_t)(x % 31), pick = (size_t)(x >> 32) % (i < ROWS / 2 ? 30 : 3000);
			for (size_t j = 0; j < len; j++) /* 3 heads of 16 bytes, then tails that tell keys apart */
				key[j] = (char)('a' + (j < 16 ? pick % 3 + j : pick >> (j - 16)) % 26);
			key[len] = '\0';
			if (len == 0 || strchr("#-1<Nn", key[0])) /* missing markers and numbers are other tests' */
				key[0] = 'z';
			nc += (size_t)snprintf(csv + nc, cc - nc, "%s,%d\n", len ? key : "zz", i);
			nj += (size_t)snprintf(jsonl + nj, cj - nj, "{\"k\":\"%s\",\"v\":%d}\n", len ? key : "zz", i);
		}
		struct sl_drift_load_opts o = {.max_cats = caps[ci]};
		struct pair a = load_opts("r.csv", csv, "c.csv", "k,v\nq,1\n", &o);
		struct pair b = load_opts("r.jsonl", jsonl, "c.jsonl", "{\"k\":\"q\",\"v\":1}\n", &o);
		cr_assert_eq(a.rc, 0, "%s", a.err.msg);
		cr_assert_eq(b.rc, 0, "%s", b.err.msg);
		const struct sl_drift_cats *p = &col(&a.r, "k")->cats, *q = &col(&b.r, "k")->cats;
		cr_assert_eq(p->n, q->n);
		cr_expect_eq(p->total, ROWS);
		cr_expect_eq(p->total, q->total);
		cr_expect_eq(p->folded, q->folded);
		cr_expect_eq(p->n == caps[ci], ci == 0, "the first cap is passed, the second not");
		for (size_t i = 0; i < p->n; i++) {
			const struct sl_drift_cat_item *s = &p->items[i], *t = &q->items[i];
			cr_assert(s->len == t->len && memcmp(p->pool + s->off, q->pool + t->off, s->len) == 0 &&
			              s->count == t->count,
			          "item %zu: '%.*s' %llu, JSON Lines '%.*s' %llu", i, (int)s->len, p->pool + s->off,
			          (unsigned long long)s->count, (int)t->len, q->pool + t->off, (unsigned long long)t->count);
		}
		cr_assert_eq(!p->cms, !q->cms);
		if (p->cms)
			cr_expect_eq(memcmp(p->cms->c, q->cms->c, (size_t)p->cms->w * p->cms->d * sizeof *p->cms->c), 0,
			             "the sketches differ");
		release(&a);
		release(&b);
	}
	free(csv);
	free(jsonl);
}

/* Most records are read by the windows' masks (table_csv.c, simple_record), the rest field by
 * field; a CR makes every record take the second way. Random files of numbers, text, empty
 * cells and missing markers, with LF and with CRLF line ends, load to the same tables (numbers
 * bit for bit, categories item by item); a record with a field too many or too few gives the
 * same error either way. */
Test(table, lf_and_crlf_records_load_alike)
{
	enum { ROWS = 3000 };
	size_t cap = ROWS * 96 + 64;
	char *lf = malloc(cap), *crlf = malloc(cap + ROWS + 1);
	uint64_t x = 99;
	for (int round = 0; round < 3; round++) {
		size_t n = (size_t)snprintf(lf, cap, "a,b,c,d\n");
		for (int i = 0; i < ROWS; i++) {
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			int extra = round > 0 && i == ROWS - 7 - round * 900; /* one record with a field too many */
			n += (size_t)snprintf(lf + n, cap - n, "%.*f,w%u,%s,%d%s\n", (int)(x % 7), (double)(x % 100000) / 7,
			                      (unsigned)(x >> 40) % 50, (x >> 20) % 9 ? "txt" : (x >> 24) % 2 ? "" : "NA",
			                      (int)(x >> 33) % 1000 - 500, extra ? ",9" : "");
		}
		size_t m = 0;
		for (size_t i = 0; i < n; i++) {
			if (lf[i] == '\n')
				crlf[m++] = '\r';
			crlf[m++] = lf[i];
		}
		lf[n] = crlf[m] = '\0';
		struct pair a = load(lf, "a,b,c,d\n1,w1,txt,2\n"), b = load(crlf, "a,b,c,d\n1,w1,txt,2\n");
		cr_assert_eq(a.rc, b.rc, "%s / %s", a.err.msg, b.err.msg);
		cr_assert_str_eq(a.err.msg, b.err.msg);
		cr_assert_eq(a.rc != 0, round > 0, "%s", a.err.msg);
		for (size_t j = 0; a.rc == 0 && j < a.r.ncols; j++) {
			const struct sl_drift_col *u = &a.r.cols[j], *v = &b.r.cols[j];
			cr_assert(u->kind == v->kind && u->n_num == v->n_num && u->missing == v->missing &&
			          u->cats.n == v->cats.n && u->cats.total == v->cats.total);
			for (size_t k = 0; k < u->n_num; k++) {
				double p = sl_drift_col_at(u, k), q = sl_drift_col_at(v, k);
				cr_assert(memcmp(&p, &q, sizeof p) == 0, "column %zu, value %zu", j, k);
			}
			for (size_t k = 0; k < u->cats.n; k++)
				cr_assert(u->cats.items[k].count == v->cats.items[k].count &&
				          u->cats.items[k].len == v->cats.items[k].len &&
				          memcmp(u->cats.pool + u->cats.items[k].off, v->cats.pool + v->cats.items[k].off,
				                 u->cats.items[k].len) == 0);
		}
		release(&a);
		release(&b);
	}
	free(lf);
	free(crlf);
}
