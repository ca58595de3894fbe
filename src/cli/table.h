/* table.h: aligned text tables and small formatters for the CLI's human output.
 * Invariants: every cell is copied and cleaned on entry (control bytes become '?', so a
 * server's strings cannot move the cursor or recolour the terminal); widths count UTF-8
 * characters, not bytes; colour is emitted only when the caller asks for it. */
#ifndef SLUICE_CLI_TABLE_H
#define SLUICE_CLI_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define SL_TABLE_MAX_COLS 16

enum sl_tcolor { SL_TC_NONE, SL_TC_RED, SL_TC_GREEN, SL_TC_YELLOW, SL_TC_DIM, SL_TC_BOLD };

struct sl_table_cell {
	char *text;
	enum sl_tcolor color;
};

/* Cells are filled row by row, ncols per row. Errors are sticky: adding never needs a check,
 * sl_table_print returns the first one. */
struct sl_table {
	unsigned ncols;
	const char *head[SL_TABLE_MAX_COLS]; /* borrowed, usually literals */
	bool right[SL_TABLE_MAX_COLS];       /* right-aligned (numbers) */
	struct sl_table_cell *cells;
	size_t ncells, cap;
	int err;
};

/* head: ncols column titles (borrowed for the table's life); ncols 1..SL_TABLE_MAX_COLS. */
void sl_table_init(struct sl_table *t, const char *const *head, unsigned ncols);
void sl_table_release(struct sl_table *t);
void sl_table_align_right(struct sl_table *t, unsigned col);
/* Appends one cell to the current row; NULL prints as "-", "" as nothing. */
void sl_table_add(struct sl_table *t, enum sl_tcolor color, const char *text);
void sl_table_addf(struct sl_table *t, enum sl_tcolor color, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
size_t sl_table_rows(const struct sl_table *t);
/* Prints the header and the rows, each line prefixed by indent; pads a short last row.
 * 0, or the first error met while filling (SL_ENOMEM). */
int sl_table_print(struct sl_table *t, FILE *f, const char *indent, bool color);

/* True when f is a terminal that takes colours (not TERM=dumb, NO_COLOR unset). */
bool sl_cli_color(FILE *f);
/* Writes s with colour c when color is true. */
void sl_cli_put(FILE *f, bool color, enum sl_tcolor c, const char *s);
/* Copies s (NULL = "") into dst[cap] as valid UTF-8 cut on a character boundary, with line
 * breaks and tabs as spaces and other control bytes as '?'. */
void sl_cli_clean(char *dst, size_t cap, const char *s);
/* Characters of s as a terminal shows them (UTF-8 continuation bytes do not count). */
size_t sl_cli_width(const char *s);

/* Formatters: each writes into dst[cap] and returns dst. NaN prints "-". */
const char *sl_fmt_num(char *dst, size_t cap, double v);               /* 412, 3.25, 0.00042 */
const char *sl_fmt_pct(char *dst, size_t cap, double fraction);        /* 0.0102 -> "1.02%" */
const char *sl_fmt_signed_pct(char *dst, size_t cap, double fraction); /* "+40.8%", "-inf" */
const char *sl_fmt_points(char *dst, size_t cap, double diff);         /* 0.021 -> "+2.1 pt" */
const char *sl_fmt_ms(char *dst, size_t cap, double ms);               /* 30000 -> "30s" */
/* epoch seconds -> "12s ago", "5m ago", "3h ago", "2d ago"; 0 or NaN -> "-". */
const char *sl_fmt_ago(char *dst, size_t cap, double epoch, double now);
/* epoch seconds -> local "2024-06-01 12:03:04"; 0 or NaN -> "-". */
const char *sl_fmt_time(char *dst, size_t cap, double epoch);

#endif
