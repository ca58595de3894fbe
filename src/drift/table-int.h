/* table-int.h: what the CSV and JSONL readers share with table.c: the state of one pass over
 * one file, and the column store that every cell goes to.
 * Invariants: a pass reads the input once, front to back; pass 1 collects numbers (and the
 * text of columns declared categorical), pass 2 only the text of the columns that turned out
 * categorical; every error is written to L->err as "FILE:LINE: reason" before returning. */
#ifndef SLUICE_DRIFT_TABLE_INT_H
#define SLUICE_DRIFT_TABLE_INT_H

#include "univariate-int.h"

#define SL_DRIFT_CAT_SEED 0x736c7569636564ULL /* equal in both tables: hashed bins line up */

/* How a value came: CSV text (number, NA marker or text), or a JSON literal. */
enum sl__vkind { SL__V_TEXT, SL__V_STR, SL__V_NUM, SL__V_BOOL, SL__V_NULL };

struct sl__load {
	const struct sl_drift_input *in;
	struct sl_drift_table *t;
	const struct sl_drift_load_opts *o; /* limits filled in */
	struct sl_drift_error *err;
	int pass;
	bool discover; /* new columns may be added (pass 1 without a column list) */
	uint64_t line; /* first line of the record being read */
	uint64_t row;  /* data rows so far */
	uint64_t lines; /* a bound on the input's records (the CSV pass sets it from the header's
	                 * width; else line breaks + 1, counted when first needed), 0 until known */
	uint32_t *idx; /* name hash table over t->cols: index + 1, 0 empty */
	size_t nidx;
	uint64_t *stamp; /* per column: row + 1 of its last value (duplicate JSON keys) */
	size_t nstamp;
	struct sl_buf scratch; /* unescaped strings */
};

/* Formats the error as "FILE:LINE: ..." (line 0 leaves the line out); returns rc. */
int sl__load_fail(struct sl__load *L, int rc, uint64_t line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* *idx: the column named (p, n), or -1 when it is not kept; pass 1 with discover adds it.
 * Fails (error written) past max_columns or out of memory. */
int sl__load_column(struct sl__load *L, const char *p, size_t n, long *idx);
/* Stores one value of column c. */
int sl__load_value(struct sl__load *L, size_t c, const char *p, size_t n, enum sl__vkind k);
/* Copies s into dst[cap] for a message: cut, control bytes as '?'. */
const char *sl__load_show(char *dst, size_t cap, const char *s, size_t n);

/* Pass 1 (every column, or the listed ones), pass 2 (text of want_text columns), cleanup. */
int sl__load_first(struct sl__load *L);
int sl__load_second(struct sl__load *L);
void sl__load_release(struct sl__load *L);

int sl__csv_pass(struct sl__load *L);
int sl__jsonl_pass(struct sl__load *L);

#endif
