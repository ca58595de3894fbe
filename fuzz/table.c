/* table.c: libFuzzer target for the drift loaders (CSV and JSONL files of `sluice drift`) and the
 * report built from them: the input is split in two files at the first 0xFF byte. A CSV pair is
 * also loaded in pieces (sl_drift_table_scan_read, short reads, a small max_line so records
 * cross the buffer's ends), which must give the whole input's result or error: abort() if not.
 * A CSV pair without quotes and CRs, at the default max_line, is loaded again with CRLF line
 * ends (every record then read field by field, not by the windows' masks): the same again. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sluice/drift.h"

struct mem {
	const char *p;
	size_t n, step; /* reads return at most step bytes */
};

static int64_t mem_read(void *arg, uint64_t off, char *buf, size_t n)
{
	const struct mem *m = arg;
	if (off > m->n)
		abort();
	size_t k = n < m->step ? n : m->step;
	k = k < m->n - off ? k : (size_t)(m->n - off);
	memcpy(buf, m->p + off, k);
	return (int64_t)k;
}

/* Both files in pieces, in the steps `sluice drift` runs. */
static int load_pieces(const struct sl_drift_input *ref, const struct sl_drift_input *cur,
                       const struct sl_drift_load_opts *o, size_t step, struct sl_drift_table *a,
                       struct sl_drift_table *b, struct sl_drift_error *err)
{
	struct mem mr = {ref->data, ref->len, step}, mc = {cur->data, cur->len, step};
	struct sl_drift_input r = {ref->name, NULL, ref->len}, c = {cur->name, NULL, cur->len};
	struct sl_drift_reader rr = {mem_read, &mr}, rc = {mem_read, &mc};
	*a = *b = (struct sl_drift_table){0};
	int e = sl_drift_table_scan_read(&r, &rr, o, a, err);
	if (e == 0)
		e = sl_drift_table_scan_read(&c, &rc, o, b, err);
	if (e == 0)
		e = sl_drift_tables_settle(&r, &c, o, a, b, err);
	if (e == 0)
		e = sl_drift_table_finish_read(&r, &rr, o, a, err);
	if (e == 0)
		e = sl_drift_table_finish_read(&c, &rc, o, b, err);
	return e;
}

static void same_result(int e1, const struct sl_drift_error *x, const struct sl_drift_table *a,
                        int e2, const struct sl_drift_error *y, const struct sl_drift_table *b)
{
	if (e1 != e2 || (e1 && strcmp(x->msg, y->msg) != 0))
		abort();
	if (e1 == 0 && (a->rows != b->rows || a->ncols != b->ncols))
		abort();
	for (size_t i = 0; e1 == 0 && i < a->ncols; i++) {
		const struct sl_drift_col *x = &a->cols[i], *y = &b->cols[i];
		if (x->kind != y->kind || x->n_num != y->n_num || x->cats.total != y->cats.total ||
		    x->missing != y->missing)
			abort();
		size_t n = x->counts ? x->n_distinct : x->n_num; /* the same values, stored either way */
		for (size_t j = 0; x->kind == SL_DRIFT_NUM && j < n; j++) {
			double u = sl_drift_col_at(x, j), v = sl_drift_col_at(y, j);
			if (memcmp(&u, &v, sizeof u) != 0 || (j && sl_drift_col_at(x, j - 1) > u))
				abort();
		}
	}
}

/* p[0..n) with each LF after a CR, in a new buffer (or NULL). */
static char *with_crlf(const char *p, size_t n, size_t *len)
{
	char *q = malloc(2 * n + 1);
	size_t m = 0;
	for (size_t i = 0; q && i < n; i++) {
		if (p[i] == '\n')
			q[m++] = '\r';
		q[m++] = p[i];
	}
	*len = m;
	return q;
}

static void crlf_alike(const struct sl_drift_input *ref, const struct sl_drift_input *cur,
                       const struct sl_drift_load_opts *o, int e, const struct sl_drift_error *err,
                       const struct sl_drift_table *a, const struct sl_drift_table *b)
{
	size_t nr, nc;
	char *r = with_crlf(ref->data, ref->len, &nr), *c = with_crlf(cur->data, cur->len, &nc);
	if (r && c) {
		struct sl_drift_input r2 = {ref->name, r, nr}, c2 = {cur->name, c, nc};
		struct sl_drift_table a2, b2;
		struct sl_drift_error err2;
		int e2 = sl_drift_tables_load(&r2, &c2, o, &a2, &b2, &err2);
		same_result(e, err, a, e2, &err2, &a2);
		same_result(e, err, b, e2, &err2, &b2);
		sl_drift_table_release(&a2);
		sl_drift_table_release(&b2);
	}
	free(r);
	free(c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *cut = memchr(data, 0xFF, size);
	size_t n1 = cut ? (size_t)(cut - data) : size / 2;
	const char *name = size && (data[0] & 1) ? "x.jsonl" : "x.csv";
	struct sl_drift_input ref = {name, (const char *)data, n1};
	struct sl_drift_input cur = {name, (const char *)data + n1 + (cut ? 1 : 0), size - n1 - (cut ? 1 : 0)};
	static const size_t lines[] = {0, 8, 24, 100};
	struct sl_drift_load_opts o = {.count_few = size && (data[0] & 2), .max_line = size ? lines[data[0] >> 6] : 0};
	struct sl_drift_table a, b;
	struct sl_drift_error err;
	int e = sl_drift_tables_load(&ref, &cur, &o, &a, &b, &err);
	if (!(size && (data[0] & 1))) {
		struct sl_drift_table pa, pb;
		struct sl_drift_error perr;
		int pe = load_pieces(&ref, &cur, &o, size ? 1 + data[0] % 13 : 1, &pa, &pb, &perr);
		same_result(e, &err, &a, pe, &perr, &pa);
		same_result(e, &err, &b, pe, &perr, &pb);
		sl_drift_table_release(&pa);
		sl_drift_table_release(&pb);
		if (o.max_line == 0 && !memchr(data, '\r', size) && !memchr(data, '"', size))
			crlf_alike(&ref, &cur, &o, e, &err, &a, &b);
	}
	if (e != 0)
		return 0;
	struct sl_drift_config cfg;
	struct sl_drift_report rep;
	struct sl_buf out;
	sl_drift_config_init(&cfg);
	sl_buf_init(&out, 0);
	if (sl_drift_report_build(&rep, &a, &b, &cfg) == 0) {
		sl_drift_report_json(&rep, "r", "c", &out);
		sl_drift_report_html(&rep, "r", "c", &out);
		sl_drift_report_release(&rep);
	}
	sl_buf_release(&out);
	sl_drift_table_release(&a);
	sl_drift_table_release(&b);
	return 0;
}
