/* report_html.c: the drift report as one self-contained HTML page, in the spirit of
 * Evidently's data drift report: the dataset verdict, a summary table, and per column its test
 * and a chart of the reference and current distributions (numeric: overlaid histograms on
 * shared bins; categories: side-by-side bars for the most frequent ones).
 * Invariants: inline CSS and inline SVG only; no script, no font, image or style fetched, the
 * only links are fragments within the page; every string that comes from the data or the
 * command line goes through esc() (HTML-escaped, control bytes and invalid UTF-8 as U+FFFD). */
#include <math.h>
#include <stdio.h>

#include "univariate-int.h"

#define W         720.0
#define H         250.0
#define LEFT      52.0
#define RIGHT     12.0
#define TOP       14.0
#define BOT       64.0
#define REF_COLOR "#6e7781"
#define CUR_COLOR "#d1242f"

static void esc_n(struct sl_buf *b, const char *s, size_t n)
{
	for (size_t i = 0; i < n;) {
		unsigned char c = (unsigned char)s[i];
		size_t l = sl_utf8_seq_len((const unsigned char *)s + i, n - i);
		const char *e = c == '&'    ? "&amp;"
		                : c == '<'  ? "&lt;"
		                : c == '>'  ? "&gt;"
		                : c == '"'  ? "&quot;"
		                : c == '\'' ? "&#39;"
		                            : NULL;
		if (e)
			sl_buf_puts(b, e);
		else if (l == 0 || (l == 1 && (c < 0x20 || c == 0x7f)))
			sl_buf_puts(b, "&#xFFFD;");
		else
			sl_buf_append(b, s + i, l);
		i += l ? l : 1;
	}
}

static void esc(struct sl_buf *b, const char *s)
{
	esc_n(b, s, strlen(s));
}

static void gnum(char *dst, size_t cap, double v)
{
	if (isnan(v))
		snprintf(dst, cap, "-");
	else if (isinf(v))
		snprintf(dst, cap, v > 0 ? "inf" : "-inf");
	else
		snprintf(dst, cap, "%.4g", v);
}

static const char style[] =
    "body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;margin:0;background:#f6f8fa;"
    "color:#1f2328}main{max-width:1000px;margin:0 auto;padding:24px}h1{font-size:22px;margin:0 0 4px}"
    ".sub{color:#57606a;margin:0 0 12px}.verdict{padding:12px 16px;border-radius:6px;margin:16px 0;font-weight:600}"
    ".verdict.drift{background:#ffebe9;color:#a40e26;border:1px solid #ffc1ba}"
    ".verdict.ok{background:#dafbe1;color:#116329;border:1px solid #aceebb}"
    "table{border-collapse:collapse;width:100%;background:#fff;border:1px solid #d0d7de}"
    "th,td{padding:6px 10px;border-bottom:1px solid #eaeef2;text-align:left;font-variant-numeric:tabular-nums}"
    "th{background:#f6f8fa}td.name{word-break:break-all}a{color:#0969da;text-decoration:none}"
    ".badge{display:inline-block;padding:1px 8px;border-radius:10px;font-size:12px;font-weight:600;color:#fff}"
    ".badge.drift{background:#cf222e}.badge.ok{background:#1a7f37}.badge.na{background:#8c959f}"
    "section{background:#fff;border:1px solid #d0d7de;border-radius:6px;margin:16px 0;padding:12px 16px}"
    "section h2{font-size:16px;margin:0 0 4px;word-break:break-all}.meta{color:#57606a;font-size:13px;margin:0 0 8px}"
    ".legend{font-size:12px;color:#57606a;margin:4px 0 0}.legend i{display:inline-block;width:10px;height:10px;"
    "margin:0 4px 0 12px;vertical-align:middle}svg{display:block;max-width:100%;height:auto}"
    "svg text{font:11px system-ui,sans-serif;fill:#57606a}footer{color:#8c959f;font-size:12px;margin-top:24px}";

static void badge(struct sl_buf *b, const struct sl_drift_column *c)
{
	if (!c->tested)
		sl_buf_puts(b, "<span class=\"badge na\">not tested</span>");
	else if (c->r.drift)
		sl_buf_puts(b, "<span class=\"badge drift\">drift</span>");
	else
		sl_buf_puts(b, "<span class=\"badge ok\">no drift</span>");
}

static void summary_row(struct sl_buf *b, const struct sl_drift_column *c, size_t i)
{
	char st[32], p[32], t[32];
	gnum(st, sizeof st, c->tested ? c->r.statistic : NAN);
	gnum(p, sizeof p, c->tested ? c->r.pvalue : NAN);
	gnum(t, sizeof t, c->tested ? c->r.threshold : NAN);
	sl_buf_printf(b, "<tr><td class=\"name\"><a href=\"#c%zu\">", i);
	esc(b, c->name);
	sl_buf_printf(b, "</a></td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>",
	              sl_drift_kind_name(c->kind), c->tested ? sl_drift_test_name(c->r.test) : "-", st, p, t);
	badge(b, c);
	sl_buf_puts(b, "</td></tr>\n");
}

static double ymax_of(const struct sl_drift_chart *ch)
{
	double m = 0;
	for (size_t i = 0; i < ch->k; i++)
		m = fmax(m, fmax(ch->ref[i], ch->cur[i]));
	return m > 0 ? m * 1.08 : 1;
}

static void axes(struct sl_buf *b, double ymax)
{
	double pw = W - LEFT - RIGHT, ph = H - TOP - BOT;
	for (int g = 0; g <= 2; g++) {
		double y = TOP + ph - ph * g / 2.0;
		sl_buf_printf(b, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#eaeef2\"/>", LEFT, y,
		              LEFT + pw, y);
		sl_buf_printf(b, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%.1f%%</text>", LEFT - 6, y + 4,
		              ymax * 100 * g / 2.0);
	}
	sl_buf_printf(b, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#8c959f\"/>", LEFT, TOP + ph,
	              LEFT + pw, TOP + ph);
}

static void bar(struct sl_buf *b, double x, double w, double share, double ymax, const char *color, const char *tip,
                const char *label)
{
	double ph = H - TOP - BOT, h = ph * share / ymax;
	sl_buf_printf(b, "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" fill=\"%s\" fill-opacity=\"0.6\">",
	              x, TOP + ph - h, w > 0.5 ? w : 0.5, h, color);
	sl_buf_printf(b, "<title>%s ", tip);
	esc(b, label);
	sl_buf_printf(b, ": %.2f%%</title></rect>", share * 100);
}

static void chart_num(struct sl_buf *b, const struct sl_drift_chart *ch)
{
	double pw = W - LEFT - RIGHT, ymax = ymax_of(ch), bw = pw / (double)ch->k;
	char lo[32], hi[32], label[80];
	axes(b, ymax);
	for (size_t i = 0; i < ch->k; i++) {
		gnum(lo, sizeof lo, ch->edges[i]);
		gnum(hi, sizeof hi, ch->edges[i + 1]);
		snprintf(label, sizeof label, "[%s, %s%s", lo, hi, i + 1 == ch->k ? "]" : ")");
		bar(b, LEFT + bw * (double)i, bw - 1, ch->ref[i], ymax, REF_COLOR, "reference", label);
		bar(b, LEFT + bw * (double)i, bw - 1, ch->cur[i], ymax, CUR_COLOR, "current", label);
	}
	size_t step = ch->k / 4 ? ch->k / 4 : 1;
	for (size_t i = 0; i <= ch->k; i = i < ch->k && i + step > ch->k ? ch->k : i + step) {
		const char *anchor = i == 0 ? "start" : i == ch->k ? "end" : "middle";
		snprintf(lo, sizeof lo, "%.6g", ch->edges[i]);
		sl_buf_printf(b, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\">%s</text>", LEFT + bw * (double)i,
		              H - BOT + 16, anchor, lo);
	}
}

/* A label cut to 14 characters for the axis; the whole one is in the bar's tooltip. */
static void short_label(struct sl_buf *b, const char *s)
{
	size_t n = strlen(s), i = 0, chars = 0;
	while (i < n && chars < 14) {
		size_t l = sl_utf8_seq_len((const unsigned char *)s + i, n - i);
		i += l ? l : 1, chars++;
	}
	esc_n(b, s, i);
	if (i < n)
		sl_buf_puts(b, "&#8230;");
}

static void chart_cat(struct sl_buf *b, const struct sl_drift_chart *ch)
{
	double pw = W - LEFT - RIGHT, ymax = ymax_of(ch), gw = pw / (double)ch->k, bw = gw * 0.4;
	axes(b, ymax);
	for (size_t i = 0; i < ch->k; i++) {
		double x = LEFT + gw * (double)i + gw * 0.1, tx = x + bw, ty = H - BOT + 14;
		bar(b, x, bw, ch->ref[i], ymax, REF_COLOR, "reference", ch->labels[i]);
		bar(b, x + bw, bw, ch->cur[i], ymax, CUR_COLOR, "current", ch->labels[i]);
		sl_buf_printf(b, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\" transform=\"rotate(-35 %.1f %.1f)\">",
		              tx, ty, tx, ty);
		short_label(b, ch->labels[i]);
		sl_buf_puts(b, "</text>");
	}
}

static void side_text(struct sl_buf *b, const char *what, const struct sl_drift_side *s, bool numeric)
{
	char m[32], sd[32];
	sl_buf_printf(b, "%s: %llu values, %llu missing", what, (unsigned long long)s->count,
	              (unsigned long long)s->missing);
	if (numeric) {
		gnum(m, sizeof m, s->mean);
		gnum(sd, sizeof sd, s->std);
		sl_buf_printf(b, ", mean %s, std %s", m, sd);
	} else {
		sl_buf_printf(b, ", %llu categories", (unsigned long long)s->unique);
	}
}

static void section(struct sl_buf *b, const struct sl_drift_column *c, size_t i)
{
	char st[32], p[32], t[32];
	sl_buf_printf(b, "<section id=\"c%zu\"><h2>", i);
	esc(b, c->name);
	sl_buf_printf(b, "</h2><p class=\"meta\">%s", c->kind == SL_DRIFT_NUM ? "numeric" : "categorical");
	if (c->tested) {
		gnum(st, sizeof st, c->r.statistic);
		gnum(p, sizeof p, c->r.pvalue);
		gnum(t, sizeof t, c->r.threshold);
		sl_buf_printf(b, " &middot; test %s &middot; statistic %s &middot; p-value %s &middot; threshold %s ",
		              sl_drift_test_name(c->r.test), st, p, t);
	}
	badge(b, c);
	if (c->note) {
		sl_buf_puts(b, " &middot; ");
		esc(b, c->note);
	}
	sl_buf_puts(b, "<br>");
	side_text(b, "reference", &c->ref, c->kind == SL_DRIFT_NUM);
	sl_buf_puts(b, "; ");
	side_text(b, "current", &c->cur, c->kind == SL_DRIFT_NUM);
	sl_buf_puts(b, "</p>\n");
	if (c->chart.k) {
		sl_buf_printf(b, "<svg viewBox=\"0 0 %.0f %.0f\" width=\"%.0f\" height=\"%.0f\" role=\"img\">", W, H, W,
		              H);
		if (c->chart.edges)
			chart_num(b, &c->chart);
		else
			chart_cat(b, &c->chart);
		sl_buf_puts(b, "</svg><p class=\"legend\"><i style=\"background:" REF_COLOR "\"></i>reference"
		               "<i style=\"background:" CUR_COLOR "\"></i>current (share of each sample)</p>");
	}
	sl_buf_puts(b, "</section>\n");
}

static void head(struct sl_buf *b, const struct sl_drift_report *rep, const char *ref_name, const char *cur_name)
{
	sl_buf_puts(b, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
	               "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>Data drift: ");
	esc(b, ref_name);
	sl_buf_puts(b, " vs ");
	esc(b, cur_name);
	sl_buf_printf(b,
	              "</title><style>%s</style></head><body><main>\n<h1>Data drift report</h1>\n"
	              "<p class=\"sub\">reference <b>",
	              style);
	esc(b, ref_name);
	sl_buf_printf(b, "</b> (%llu rows) &middot; current <b>", (unsigned long long)rep->ref_rows);
	esc(b, cur_name);
	sl_buf_printf(b, "</b> (%llu rows)</p>\n", (unsigned long long)rep->cur_rows);
}

int sl_drift_report_html(const struct sl_drift_report *rep, const char *ref_name, const char *cur_name,
                         struct sl_buf *out)
{
	const struct sl_drift_verdict *v = &rep->verdict;
	head(out, rep, ref_name, cur_name);
	sl_buf_printf(out, "<div class=\"verdict %s\">%s: %zu of %zu columns drifted (%.0f%%; dataset drift at %.0f%%",
	              v->drift ? "drift" : "ok", v->drift ? "Dataset drift detected" : "No dataset drift", v->drifted,
	              v->tested, v->share * 100, rep->cfg.drift_share * 100);
	if (rep->cfg.correction != SL_DRIFT_CORR_NONE)
		sl_buf_printf(out, "; p-values adjusted by %s", sl_drift_correction_name(rep->cfg.correction));
	sl_buf_puts(out, ")</div>\n<table><tr><th>column</th><th>type</th><th>test</th><th>statistic</th>"
	                 "<th>p-value</th><th>threshold</th><th>drift</th></tr>\n");
	for (size_t i = 0; i < rep->ncols; i++)
		summary_row(out, &rep->cols[i], i);
	sl_buf_puts(out, "</table>\n");
	for (size_t i = 0; i < rep->ncols; i++)
		section(out, &rep->cols[i], i);
	return sl_buf_puts(out, "<footer>Generated by sluice drift. Tests, thresholds and the dataset rule follow "
	                        "Evidently's defaults (docs/DRIFT.md).</footer>\n</main></body></html>\n");
}
