/* report_text.c: the drift report as an aligned text table for a terminal, then the dataset
 * verdict in one sentence.
 * Invariants: every string from the data is cleaned before it is printed (control bytes and
 * invalid UTF-8 become '?', names are cut to 40 characters), so a column name cannot move the
 * cursor or recolour the terminal; widths count characters, not bytes. */
#include <math.h>
#include <stdio.h>

#include "univariate-int.h"

#define NAME_MAX_CHARS 40

/* Cleaned copy of s into dst[cap], at most max characters; returns its width. */
static size_t clean_n(char *dst, size_t cap, const char *s, size_t max)
{
	size_t n = strlen(s), j = 0, w = 0;
	for (size_t i = 0; i < n && w < max && j + 5 < cap;) {
		size_t l = sl_utf8_seq_len((const unsigned char *)s + i, n - i);
		if (l == 0 || (l == 1 && ((unsigned char)s[i] < 0x20 || s[i] == 0x7f))) {
			dst[j++] = '?', i += l ? l : 1;
		} else {
			memcpy(dst + j, s + i, l);
			j += l, i += l;
		}
		w++;
	}
	dst[j] = '\0';
	return w;
}

static size_t clean(char *dst, size_t cap, const char *s)
{
	return clean_n(dst, cap, s, NAME_MAX_CHARS);
}

static void fmt(char *dst, size_t cap, double v)
{
	if (isnan(v))
		snprintf(dst, cap, "-");
	else if (isinf(v))
		snprintf(dst, cap, v > 0 ? "inf" : "-inf");
	else
		snprintf(dst, cap, "%.4g", v);
}

static void pad(struct sl_buf *b, const char *s, size_t width, size_t to)
{
	sl_buf_puts(b, s);
	for (size_t i = width; i < to; i++)
		sl_buf_puts(b, " ");
}

static void row(struct sl_buf *b, const struct sl_drift_column *c, size_t namew, bool adjusted)
{
	char name[NAME_MAX_CHARS * 4 + 8], stat[32], p[32], padj[32], thr[32];
	size_t w = clean(name, sizeof name, c->name);
	pad(b, name, w, namew + 2);
	sl_buf_printf(b, "%-5s", sl_drift_kind_name(c->kind));
	if (!c->tested) {
		sl_buf_printf(b, "%-15s%s\n", "-", c->note ? c->note : "not tested");
		return;
	}
	fmt(stat, sizeof stat, c->r.statistic);
	fmt(p, sizeof p, c->r.pvalue);
	fmt(padj, sizeof padj, sl_drift_test_has_pvalue(c->r.test) ? c->r.score : NAN);
	fmt(thr, sizeof thr, c->r.threshold);
	sl_buf_printf(b, "%-15s%-11s%-11s", sl_drift_test_name(c->r.test), stat, p);
	if (adjusted)
		sl_buf_printf(b, "%-11s", padj);
	sl_buf_printf(b, "%-10s%s", thr, c->r.drift ? "DRIFT" : "no");
	if (c->note)
		sl_buf_printf(b, "  (%s)", c->note);
	sl_buf_puts(b, "\n");
}

int sl_drift_report_text(const struct sl_drift_report *rep, const char *ref_name, const char *cur_name,
                         struct sl_buf *out)
{
	size_t namew = 6;
	char tmp[NAME_MAX_CHARS * 4 + 8], rn[1024], cn[1024];
	bool adjusted = rep->cfg.correction != SL_DRIFT_CORR_NONE;
	for (size_t i = 0; i < rep->ncols; i++) {
		size_t w = clean(tmp, sizeof tmp, rep->cols[i].name);
		namew = w > namew ? w : namew;
	}
	clean_n(rn, sizeof rn, ref_name, 200);
	clean_n(cn, sizeof cn, cur_name, 200);
	sl_buf_printf(out, "reference %s: %llu rows; current %s: %llu rows\n\n", rn, (unsigned long long)rep->ref_rows,
	              cn, (unsigned long long)rep->cur_rows);
	pad(out, "column", 6, namew + 2);
	sl_buf_printf(out, "%-5s%-15s%-11s%-11s", "type", "test", "statistic", "p-value");
	if (adjusted)
		sl_buf_printf(out, "%-11s", "adjusted");
	sl_buf_puts(out, "threshold drift\n");
	for (size_t i = 0; i < rep->ncols; i++)
		row(out, &rep->cols[i], namew, adjusted);
	const struct sl_drift_verdict *v = &rep->verdict;
	sl_buf_printf(out, "\n%zu of %zu columns drifted (share %.2f, dataset drift at %.2f", v->drifted, v->tested,
	              v->share, rep->cfg.drift_share);
	if (adjusted)
		sl_buf_printf(out, ", p-values adjusted by %s", sl_drift_correction_name(rep->cfg.correction));
	return sl_buf_printf(out, "): %s\n", v->drift ? "DATASET DRIFT" : "no dataset drift");
}
