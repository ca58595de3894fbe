/* table.c: aligned text tables and number, time and percent formatters for the CLI.
 * Invariants: cells are cleaned copies (no control bytes reach the terminal from a server);
 * column widths are measured in UTF-8 characters; the last column is never padded, so no
 * line ends in spaces; escape sequences are written only when the caller passes color. */
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/table.h"
#include "sluice/core.h"

#define CELL_MAX 1024 /* bytes of one cell kept, NUL included */

static const char *const color_on[] = {"", "\033[31m", "\033[32m", "\033[33m", "\033[2m", "\033[1m"};

void sl_table_init(struct sl_table *t, const char *const *head, unsigned ncols)
{
	memset(t, 0, sizeof(*t));
	t->ncols = ncols > SL_TABLE_MAX_COLS ? SL_TABLE_MAX_COLS : ncols;
	for (unsigned i = 0; i < t->ncols; i++)
		t->head[i] = head[i];
}

void sl_table_release(struct sl_table *t)
{
	for (size_t i = 0; i < t->ncells; i++)
		free(t->cells[i].text);
	free(t->cells);
	memset(t, 0, sizeof(*t));
}

void sl_table_align_right(struct sl_table *t, unsigned col)
{
	if (col < t->ncols)
		t->right[col] = true;
}

static int grow(struct sl_table *t)
{
	if (t->ncells < t->cap)
		return 0;
	size_t cap = t->cap ? t->cap * 2 : 64;
	struct sl_table_cell *c = realloc(t->cells, cap * sizeof(*c));
	if (!c)
		return SL_ENOMEM;
	t->cells = c;
	t->cap = cap;
	return 0;
}

void sl_table_add(struct sl_table *t, enum sl_tcolor color, const char *text)
{
	char buf[CELL_MAX];
	if (t->err || (t->err = grow(t)))
		return;
	sl_cli_clean(buf, sizeof(buf), text ? text : "-");
	char *copy = strdup(buf);
	if (!copy) {
		t->err = SL_ENOMEM;
		return;
	}
	t->cells[t->ncells].text = copy;
	t->cells[t->ncells++].color = color;
}

void sl_table_addf(struct sl_table *t, enum sl_tcolor color, const char *fmt, ...)
{
	char buf[CELL_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	sl_table_add(t, color, buf);
}

size_t sl_table_rows(const struct sl_table *t)
{
	return t->ncols ? (t->ncells + t->ncols - 1) / t->ncols : 0;
}

static void put_cell(FILE *f, const char *s, size_t width, bool right, bool last, const char *on)
{
	size_t w = sl_cli_width(s), pad = width > w ? width - w : 0;
	if (right)
		fprintf(f, "%*s", (int)pad, "");
	fprintf(f, "%s%s%s", on, s, *on ? "\033[0m" : "");
	if (!right && !last)
		fprintf(f, "%*s", (int)pad, "");
	if (!last)
		fputs("  ", f);
}

static void widths(const struct sl_table *t, size_t *w)
{
	for (unsigned c = 0; c < t->ncols; c++)
		w[c] = sl_cli_width(t->head[c]);
	for (size_t i = 0; i < t->ncells; i++) {
		size_t cw = sl_cli_width(t->cells[i].text);
		if (cw > w[i % t->ncols])
			w[i % t->ncols] = cw;
	}
}

/* One row; empty cells at its end are left out, so no line ends in spaces. */
static void print_row(const struct sl_table *t, const struct sl_table_cell *row, const size_t *w, FILE *f,
                      const char *indent, bool color)
{
	unsigned last = t->ncols - 1;
	while (last > 0 && !row[last].text[0])
		last--;
	fputs(indent, f);
	for (unsigned c = 0; c <= last; c++)
		put_cell(f, row[c].text, w[c], t->right[c], c == last, color ? color_on[row[c].color] : "");
	fputc('\n', f);
}

int sl_table_print(struct sl_table *t, FILE *f, const char *indent, bool color)
{
	size_t w[SL_TABLE_MAX_COLS];
	if (t->err)
		return t->err;
	while (t->ncells % t->ncols)
		sl_table_add(t, SL_TC_NONE, "");
	if (t->err)
		return t->err;
	widths(t, w);
	fputs(indent, f);
	for (unsigned c = 0; c < t->ncols; c++)
		put_cell(f, t->head[c], w[c], t->right[c], c + 1 == t->ncols, color ? color_on[SL_TC_BOLD] : "");
	fputc('\n', f);
	for (size_t i = 0; i < t->ncells; i += t->ncols)
		print_row(t, &t->cells[i], w, f, indent, color);
	return 0;
}

bool sl_cli_color(FILE *f)
{
	const char *term = getenv("TERM");
	if (getenv("NO_COLOR") && *getenv("NO_COLOR"))
		return false;
	return isatty(fileno(f)) && !(term && strcmp(term, "dumb") == 0);
}

void sl_cli_put(FILE *f, bool color, enum sl_tcolor c, const char *s)
{
	char buf[CELL_MAX];
	sl_cli_clean(buf, sizeof(buf), s);
	if (color && c != SL_TC_NONE)
		fprintf(f, "%s%s\033[0m", color_on[c], buf);
	else
		fputs(buf, f);
}

void sl_cli_clean(char *dst, size_t cap, const char *s)
{
	size_t n = sl_utf8_sanitize(dst, cap, s);
	for (size_t i = 0; i < n; i++)
		if (dst[i] == '\n' || dst[i] == '\r' || dst[i] == '\t')
			dst[i] = ' ';
		else if ((unsigned char)dst[i] < 0x20 || dst[i] == 0x7f)
			dst[i] = '?';
}

size_t sl_cli_width(const char *s)
{
	size_t n = 0;
	for (; *s; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

/* ---- formatters ---- */

const char *sl_fmt_num(char *dst, size_t cap, double v)
{
	if (isnan(v))
		snprintf(dst, cap, "-");
	else if (isinf(v))
		snprintf(dst, cap, "%sinf", v < 0 ? "-" : "");
	else if (fabs(v) >= 1000 && fabs(v) < 1e9)
		snprintf(dst, cap, "%.0f", v);
	else
		snprintf(dst, cap, "%.3g", v);
	return dst;
}

const char *sl_fmt_pct(char *dst, size_t cap, double fraction)
{
	if (!isfinite(fraction))
		return sl_fmt_num(dst, cap, fraction);
	snprintf(dst, cap, "%.3g%%", fraction * 100);
	return dst;
}

const char *sl_fmt_signed_pct(char *dst, size_t cap, double fraction)
{
	if (!isfinite(fraction))
		return sl_fmt_num(dst, cap, fraction);
	snprintf(dst, cap, "%+.1f%%", fraction * 100);
	return dst;
}

const char *sl_fmt_points(char *dst, size_t cap, double diff)
{
	if (!isfinite(diff))
		return sl_fmt_num(dst, cap, diff);
	snprintf(dst, cap, "%+.2g pt", diff * 100);
	return dst;
}

const char *sl_fmt_ms(char *dst, size_t cap, double ms)
{
	static const struct {
		double ms;
		const char *unit;
	} units[] = {{3600000, "h"}, {60000, "m"}, {1000, "s"}};
	if (!isfinite(ms) || ms < 0)
		return sl_fmt_num(dst, cap, ms);
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (ms >= units[i].ms && fmod(ms, units[i].ms / 10) == 0) {
			snprintf(dst, cap, "%g%s", ms / units[i].ms, units[i].unit);
			return dst;
		}
	snprintf(dst, cap, "%gms", ms);
	return dst;
}

const char *sl_fmt_ago(char *dst, size_t cap, double epoch, double now)
{
	double d = now - epoch;
	if (!isfinite(epoch) || epoch <= 0)
		snprintf(dst, cap, "-");
	else if (d < 1)
		snprintf(dst, cap, "just now");
	else if (d < 120)
		snprintf(dst, cap, "%.0fs ago", floor(d));
	else if (d < 7200)
		snprintf(dst, cap, "%.0fm ago", floor(d / 60));
	else if (d < 172800)
		snprintf(dst, cap, "%.0fh ago", floor(d / 3600));
	else
		snprintf(dst, cap, "%.0fd ago", floor(d / 86400));
	return dst;
}

const char *sl_fmt_time(char *dst, size_t cap, double epoch)
{
	struct tm tm;
	time_t t = (time_t)epoch;
	if (!isfinite(epoch) || epoch <= 0 || !localtime_r(&t, &tm) || !strftime(dst, cap, "%Y-%m-%d %H:%M:%S", &tm))
		snprintf(dst, cap, "-");
	return dst;
}
