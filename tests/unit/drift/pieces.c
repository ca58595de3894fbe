/* pieces.c: a CSV input read in pieces (sl_drift_table_scan_read / finish_read) loads what the
 * whole input loads: the same tables and reports, or the same error message, on random files
 * with quoted fields (commas, line breaks, doubled quotes), LF, CRLF and CR line ends, blank
 * lines, a byte order mark, missing markers, columns that turn text late (a second pass) and
 * random damage (stray quotes, cut records), with small max_line so that records cross the
 * buffer's ends everywhere, and a reader that returns short reads. Also: read errors, an input
 * that ends before its stated size, and JSON Lines refused. */
#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sluice/core.h"
#include "sluice/drift.h"
#include "gen.h"

/* One cell: a number, a missing marker, a word, or a quoted text with separators. */
static void cell(struct sl_buf *b, int kind, size_t row, size_t rows)
{
	static const char *const words[] = {"a", "bb", "gpt-4o", "d d", "caf\xc3\xa9", "x1", "NA", "nan", ""};
	static const char *const quoted[] = {"\"q,1\"", "\"two\nlines\"", "\"say \"\"hi\"\"\"", "\"\"", "\"a\r\nb\""};
	switch (kind) {
	case 0: /* numbers */
		put(b, "%.*f", (int)(rnd() % 4), (double)(int64_t)(rnd() % 20000 - 10000) / 7.0);
		break;
	case 1: /* small counts, text near the end: a second pass in the current file */
		if (row + 2 == rows && rnd() % 2)
			put(b, "late");
		else
			put(b, "%d", (int)(rnd() % 5));
		break;
	case 2: /* words and markers */
		put(b, "%s", words[rnd() % 9]);
		break;
	default: /* mostly plain, sometimes quoted */
		put(b, "%s", rnd() % 3 ? words[rnd() % 4] : quoted[rnd() % 5]);
		break;
	}
}

/* A CSV file of rows records of 4 columns, with the given line end. */
static char *make(size_t rows, const char *nl)
{
	struct sl_buf b;
	sl_buf_init(&b, 0);
	if (rnd() % 4 == 0)
		put(&b, "\xEF\xBB\xBF");
	put(&b, "num,late,word,text%s", nl);
	for (size_t r = 0; r < rows; r++) {
		for (int k = 0; k < 4; k++) {
			if (k)
				put(&b, ",");
			cell(&b, k, r, rows);
		}
		if (rnd() % 29 == 0)
			put(&b, "%s", nl); /* a blank line */
		if (r + 1 < rows || rnd() % 2)
			put(&b, "%s", nl);
	}
	return b.data;
}

/* Random damage: a stray quote, a cut, a doubled separator or a very long cell. */
static void damage(char **s)
{
	size_t n = strlen(*s), at = n ? (size_t)(rnd() % n) : 0;
	switch (rnd() % 4) {
	case 0:
		(*s)[at] = '"';
		break;
	case 1:
		(*s)[at] = '\0';
		break;
	case 2:
		(*s)[at] = ',';
		break;
	default: {
		size_t extra = 50 + (size_t)(rnd() % 400);
		char *t = malloc(n + extra + 1);
		cr_assert(t);
		memcpy(t, *s, at);
		memset(t + at, rnd() % 2 ? 'z' : '"', extra);
		memcpy(t + at + extra, *s + at, n - at + 1);
		free(*s);
		*s = t;
	}
	}
}

/* A reader over memory: short reads of random size; fail_at: offset where it fails (or never);
 * stop_at: offset where it ends early (or never). */
struct mem {
	const char *p;
	size_t n;
	uint64_t fail_at, stop_at, state;
};

static int64_t mem_read(void *arg, uint64_t off, char *buf, size_t n)
{
	struct mem *m = arg;
	cr_assert(off <= m->n && n > 0);
	if (off >= m->fail_at)
		return SL_EIO;
	if (off >= m->stop_at)
		return 0;
	m->state = m->state * 6364136223846793005ULL + 1442695040888963407ULL;
	size_t k = (m->state >> 33) % 3 ? n : 1 + (size_t)((m->state >> 40) % n); /* a third are short */
	uint64_t last = m->stop_at < m->n ? m->stop_at : m->n;
	k = k < last - off ? k : (size_t)(last - off);
	memcpy(buf, m->p + off, k);
	return (int64_t)k;
}

struct result {
	int rc;
	struct sl_drift_error err;
	struct sl_drift_table r, c;
};

static void load_whole(const char *ref, size_t nr, const char *cur, size_t nc, const struct sl_drift_load_opts *o,
                       struct result *out)
{
	struct sl_drift_input a = {"ref.csv", ref, nr}, b = {"cur.csv", cur, nc};
	out->rc = sl_drift_tables_load(&a, &b, o, &out->r, &out->c, &out->err);
}

/* The steps as `sluice drift` runs them, both files read in pieces. */
static void load_pieces(struct mem *mr, struct mem *mc, const struct sl_drift_load_opts *o, struct result *out)
{
	struct sl_drift_input a = {"ref.csv", NULL, mr->n}, b = {"cur.csv", NULL, mc->n};
	struct sl_drift_reader ra = {mem_read, mr}, rb = {mem_read, mc};
	out->r = out->c = (struct sl_drift_table){0};
	out->rc = sl_drift_table_scan_read(&a, &ra, o, &out->r, &out->err);
	if (out->rc == 0)
		out->rc = sl_drift_table_scan_read(&b, &rb, o, &out->c, &out->err);
	if (out->rc == 0)
		out->rc = sl_drift_tables_settle(&a, &b, o, &out->r, &out->c, &out->err);
	if (out->rc == 0)
		out->rc = sl_drift_table_finish_read(&a, &ra, o, &out->r, &out->err);
	if (out->rc == 0)
		out->rc = sl_drift_table_finish_read(&b, &rb, o, &out->c, &out->err);
	if (out->rc) {
		sl_drift_table_release(&out->r);
		sl_drift_table_release(&out->c);
	}
}

static char *render(const struct result *l)
{
	struct sl_drift_config cfg;
	struct sl_drift_report rep;
	struct sl_buf b;
	sl_drift_config_init(&cfg);
	cr_assert_eq(sl_drift_report_build(&rep, &l->r, &l->c, &cfg), 0);
	sl_buf_init(&b, 0);
	cr_assert_eq(sl_drift_report_json(&rep, "ref", "cur", &b), 0);
	cr_assert_eq(sl_drift_report_html(&rep, "ref", "cur", &b), 0);
	sl_drift_report_release(&rep);
	return b.data;
}

static void same_table(const struct sl_drift_table *a, const struct sl_drift_table *b)
{
	cr_assert_eq(a->ncols, b->ncols);
	cr_assert_eq(a->rows, b->rows);
	for (size_t i = 0; i < a->ncols; i++) {
		const struct sl_drift_col *x = &a->cols[i], *y = &b->cols[i];
		cr_assert_str_eq(x->name, y->name);
		cr_expect_eq(x->kind, y->kind, "%s", x->name);
		cr_expect_eq(x->n_num, y->n_num, "%s", x->name);
		cr_expect_eq(x->missing, y->missing, "%s", x->name);
		cr_expect_eq(x->cats.total, y->cats.total, "%s", x->name);
		cr_expect_eq(x->cats.n, y->cats.n, "%s", x->name);
		if (x->n_num == y->n_num && x->n_num && !x->counts && !y->counts) {
			size_t j = 0;
			for (double u, v; j < x->n_num; j++)
				if (u = sl_drift_col_at(x, j), v = sl_drift_col_at(y, j), memcmp(&u, &v, sizeof u) != 0)
					break;
			cr_expect_eq(j, x->n_num, "%s: values differ", x->name);
		}
	}
}

/* Whole and in pieces: the same error, or the same tables and reports. Returns whether it loaded. */
static bool compare(const char *ref, const char *cur, const struct sl_drift_load_opts *o)
{
	struct result w, p;
	struct mem mr = {ref, strlen(ref), UINT64_MAX, UINT64_MAX, rnd()};
	struct mem mc = {cur, strlen(cur), UINT64_MAX, UINT64_MAX, rnd()};
	load_whole(ref, mr.n, cur, mc.n, o, &w);
	load_pieces(&mr, &mc, o, &p);
	cr_assert_eq(w.rc, p.rc, "whole: %s / pieces: %s", w.err.msg, p.err.msg);
	if (w.rc) {
		cr_assert_str_eq(w.err.msg, p.err.msg);
		return false;
	}
	same_table(&w.r, &p.r);
	same_table(&w.c, &p.c);
	char *a = render(&w), *b = render(&p);
	cr_assert_str_eq(a, b);
	free(a);
	free(b);
	for (struct result *x = &w; x; x = x == &w ? &p : NULL) {
		sl_drift_table_release(&x->r);
		sl_drift_table_release(&x->c);
	}
	return true;
}

static const char *const ends[] = {"\n", "\r\n", "\r"};

Test(pieces, random_files_as_whole)
{
	size_t loaded = 0, failed = 0;
	for (uint64_t seed = 1; seed <= 240; seed++) {
		rng_state = seed * 0x9E3779B97F4A7C15ULL;
		const char *nl = ends[seed % 3];
		char *ref = make(40 + (size_t)(rnd() % 400), nl), *cur = make(40 + (size_t)(rnd() % 400), nl);
		static const size_t lines[] = {48, 60, 100, 300, 0};
		struct sl_drift_load_opts o = {.max_line = lines[rnd() % 5], .count_few = rnd() % 2};
		if (seed % 4 == 0)
			damage(rnd() % 2 ? &ref : &cur);
		*(compare(ref, cur, &o) ? &loaded : &failed) += 1;
		free(ref);
		free(cur);
	}
	cr_expect_gt(loaded, 60, "%zu loaded", loaded); /* both outcomes are exercised */
	cr_expect_gt(failed, 30, "%zu failed", failed);
}

Test(pieces, errors_past_the_buffer)
{
	/* quoted fields that run past max_line + 2 bytes: the error is the whole input's */
	struct sl_drift_load_opts o = {.max_line = 16};
	const char *cases[] = {
	    "a,b\n1,\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n",           /* unterminated */
	    "a,b\n1,\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"y\n",        /* text after the quote */
	    "a,b\n1,\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"\n",         /* too long */
	    "a,b\n1,\"xxxxxxxxxxx\"\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"\n",    /* doubled, too long */
	    "a,b\n1,\"xxxxxxxxxxxxxxx\"\"\"\n2,3\n",                          /* quote at the buffer's end */
	    "a,b\n1,\"xxxxxxxxxxxxxxxx\"",                                    /* closing quote last */
	    "a,b\n1,2\r",                                                     /* CR last */
	    "a,b\n1234567890,12345\r\n1,2\n",                                 /* CRLF at max_line */
	    "a,b\n123456789,123456\r\n1,2\n",                                 /* CRLF one past */
	    /* all doubled */
	    "a,b\n\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\",1\n",
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		rng_state = i + 1;
		compare(cases[i], "a,b\n1,2\n", &o);
		compare("a,b\n1,2\n", cases[i], &o);
	}
	struct sl_drift_load_opts ok = {.max_line = 40};
	cr_assert(compare("a,b\n1,\"x\ny\"\"z\"\r\n2,\"w\"\r3,4\n", "a,b\r\n5,6\r\n", &ok));
	struct sl_drift_load_opts huge = {.max_line = SIZE_MAX - 1}; /* the buffer grows to the input, no further */
	rng_state = 99;
	char *big = make(3000, "\n");
	cr_assert(compare(big, "num,late,word,text\n1,2,3,\"4\"\n", &huge));
	free(big);
}

Test(pieces, read_errors_and_early_end)
{
	struct sl_drift_load_opts o = {.max_line = 64};
	rng_state = 7;
	char *ref = make(300, "\n");
	struct mem m = {ref, strlen(ref), 1000, UINT64_MAX, 1};
	struct mem c = {"a\n1\n", 4, UINT64_MAX, UINT64_MAX, 1};
	struct result p;
	load_pieces(&m, &c, &o, &p);
	cr_expect_eq(p.rc, SL_EIO);
	cr_expect_str_eq(p.err.msg, "ref.csv: cannot read: input/output error", "%s", p.err.msg);

	/* an input that ends early is the bytes it gave */
	struct sl_buf plain;
	sl_buf_init(&plain, 0);
	put(&plain, "a,b\n");
	for (int i = 0; i < 500; i++)
		put(&plain, "%d,x%d\n", i, i % 7);
	char *cut = strdup(plain.data);
	cr_assert(cut);
	size_t at = 2000;
	while (cut[at - 1] != '\n')
		at--;
	cut[at] = '\0';
	struct mem early = {plain.data, plain.len, UINT64_MAX, at, 1}, whole = {cut, at, UINT64_MAX, UINT64_MAX, 1};
	struct result e, w;
	load_pieces(&early, &whole, &o, &e);
	load_pieces(&whole, &early, &o, &w);
	cr_assert_eq(e.rc, 0, "%s", e.err.msg);
	cr_assert_eq(w.rc, 0, "%s", w.err.msg);
	same_table(&e.r, &w.r);
	same_table(&e.c, &w.c);
	for (struct result *x = &e; x; x = x == &e ? &w : NULL) {
		sl_drift_table_release(&x->r);
		sl_drift_table_release(&x->c);
	}
	free(cut);
	free(ref);
	sl_buf_release(&plain);
}

Test(pieces, jsonl_refused)
{
	struct sl_drift_load_opts o = {.format = SL_DRIFT_FMT_JSONL};
	struct mem m = {"{\"a\":1}\n", 8, UINT64_MAX, UINT64_MAX, 1};
	struct sl_drift_input in = {"x.jsonl", NULL, m.n};
	struct sl_drift_reader rd = {mem_read, &m};
	struct sl_drift_table t;
	struct sl_drift_error err;
	cr_expect_eq(sl_drift_table_scan_read(&in, &rd, &o, &t, &err), SL_EINVAL);
	cr_expect_str_eq(err.msg, "x.jsonl: only CSV is read in pieces");
	struct sl_drift_reader none = {NULL, NULL};
	cr_expect_eq(sl_drift_table_scan_read(&in, &none, NULL, &t, &err), SL_EINVAL);
}
