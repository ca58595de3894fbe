/* render.c: the Prometheus text exposition (format 0.0.4) of every family.
 * Each family is written whole (HELP, TYPE, then its samples for every series), so families
 * stay contiguous. Series appear in order of first sight, "_other" last and only once used;
 * histogram children appear once they hold an observation, counters always. */
#include <string.h>

#include "metrics-int.h"

static void family(struct sl_mw *w, const char *name, const char *help, const char *type)
{
	sl_mw_puts(w, "# HELP ");
	sl_mw_puts(w, name);
	sl_mw_put(w, " ", 1);
	sl_mw_puts(w, help);
	sl_mw_puts(w, "\n# TYPE ");
	sl_mw_puts(w, name);
	sl_mw_put(w, " ", 1);
	sl_mw_puts(w, type);
	sl_mw_put(w, "\n", 1);
}

/* The i-th series to render, or NULL past the last. */
static const struct sl_series *nth(const struct sl_metrics *m, size_t i)
{
	if (i < m->nseries)
		return m->series[i];
	if (i == m->nseries && m->other->events > 0)
		return m->other;
	return NULL;
}

static struct sl_slice labels_of(const struct sl_series *s)
{
	return sl_slice_make(s->labels, s->labels_len);
}

static void render_hist(const struct sl_metrics *m, enum sl_mhist k, struct sl_mw *w)
{
	const struct sl_series *s;
	struct sl_hist_le le;
	sl_hist_le_text(&sl_metrics_hists[k], &le);
	family(w, sl_metrics_hists[k].name, sl_metrics_hists[k].help, "histogram");
	for (size_t i = 0; (s = nth(m, i)); i++)
		if (s->hist[k].count)
			sl_hist_render(&s->hist[k], &sl_metrics_hists[k], &le, labels_of(s), w);
}

/* One token histogram child: the series labels plus token_type. */
static void render_token_child(const struct sl_series *s, enum sl_mhist k, const struct sl_hist_le *le, struct sl_mw *w)
{
	char labels[4 * SL_METRICS_LABEL_MAX + 64]; /* escaping at most doubles each value */
	const char *extra = k == SL_H_TOK_IN ? ",token_type=\"input\"" : ",token_type=\"output\"";
	size_t elen = strlen(extra);
	if (!s->hist[k].count || s->labels_len + elen > sizeof(labels))
		return;
	memcpy(labels, s->labels, s->labels_len);
	memcpy(labels + s->labels_len, extra, elen);
	sl_hist_render(&s->hist[k], &sl_metrics_hists[k], le, sl_slice_make(labels, s->labels_len + elen), w);
}

static void render_tokens(const struct sl_metrics *m, struct sl_mw *w)
{
	const struct sl_series *s;
	struct sl_hist_le le;
	sl_hist_le_text(&sl_metrics_hists[SL_H_TOK_IN], &le);
	family(w, sl_metrics_hists[SL_H_TOK_IN].name, sl_metrics_hists[SL_H_TOK_IN].help, "histogram");
	for (size_t i = 0; (s = nth(m, i)); i++) {
		render_token_child(s, SL_H_TOK_IN, &le, w);
		render_token_child(s, SL_H_TOK_OUT, &le, w);
	}
}

/* name{series labels ...: the caller adds its own labels, then "} value". */
static void open_sample(struct sl_mw *w, const char *name, const struct sl_series *s)
{
	sl_mw_puts(w, name);
	sl_mw_put(w, "{", 1);
	sl_mw_put(w, s->labels, s->labels_len);
}

static void close_sample(struct sl_mw *w, uint64_t v)
{
	sl_mw_puts(w, "} ");
	sl_mw_u64(w, v);
	sl_mw_put(w, "\n", 1);
}

static void render_status(const struct sl_series *s, struct sl_mw *w)
{
	static const char name[] = "sluice_requests_total";
	for (size_t j = 0; j < s->nstatuses; j++) {
		open_sample(w, name, s);
		sl_mw_puts(w, ",status=\"");
		sl_mw_i64(w, s->statuses[j].status);
		sl_mw_puts(w, "\",error_class=\"");
		sl_mw_label(w, s->statuses[j].cls);
		sl_mw_put(w, "\"", 1);
		close_sample(w, s->statuses[j].n);
	}
	if (s->status_other) {
		open_sample(w, name, s);
		sl_mw_puts(w, ",status=\"other\",error_class=\"other\"");
		close_sample(w, s->status_other);
	}
}

static void render_reasons(const struct sl_series *s, struct sl_mw *w)
{
	static const char name[] = "sluice_finish_reasons_total";
	for (size_t j = 0; j < s->nreasons; j++) {
		open_sample(w, name, s);
		sl_mw_puts(w, ",reason=\"");
		sl_mw_label(w, s->reasons[j].reason);
		sl_mw_put(w, "\"", 1);
		close_sample(w, s->reasons[j].n);
	}
	if (s->reason_other) {
		open_sample(w, name, s);
		sl_mw_puts(w, ",reason=\"other\"");
		close_sample(w, s->reason_other);
	}
}

static void render_labelled(const struct sl_metrics *m, struct sl_mw *w)
{
	const struct sl_series *s;
	family(w, "sluice_requests_total",
	       "Requests by HTTP status sent to the client (0 when none was) and error class.", "counter");
	for (size_t i = 0; (s = nth(m, i)); i++)
		render_status(s, w);
	family(w, "sluice_finish_reasons_total", "Responses by the last finish_reason seen.", "counter");
	for (size_t i = 0; (s = nth(m, i)); i++)
		render_reasons(s, w);
}

static void render_guard(const struct sl_metrics *m, struct sl_mw *w)
{
	static const char name[] = "sluice_guard_actions_total";
	const struct sl_series *s;
	family(w, name, "Guard actions by stage (input: the request, output: the answer) and action.", "counter");
	for (size_t i = 0; (s = nth(m, i)); i++)
		for (int st = 0; st < SL_GUARD_STAGES; st++)
			for (int a = 0; a < SL_GUARD_ACTIONS; a++) {
				if (!s->guard[st][a])
					continue;
				open_sample(w, name, s);
				sl_mw_puts(w, ",stage=\"");
				sl_mw_puts(w, sl_guard_stage_names[st]);
				sl_mw_puts(w, "\",action=\"");
				sl_mw_puts(w, sl_guard_action_names[a]);
				sl_mw_put(w, "\"", 1);
				close_sample(w, s->guard[st][a]);
			}
	static const char seg[] = "sluice_guard_segments_total";
	static const char *const from[2] = {",from=\"scan\"", ",from=\"memo\""};
	family(w, seg, "Input segments the guard checked, by how: scanned, or answered by its memo of segments "
	               "seen before.", "counter");
	for (size_t i = 0; (s = nth(m, i)); i++)
		for (int k = 0; k < 2; k++) {
			if (!s->guard_segments[k])
				continue;
			open_sample(w, seg, s);
			sl_mw_puts(w, from[k]);
			close_sample(w, s->guard_segments[k]);
		}
}

static uint64_t streams_of(const struct sl_series *s)
{
	return s->streams;
}

static uint64_t request_bytes_of(const struct sl_series *s)
{
	return s->request_bytes;
}

static uint64_t response_bytes_of(const struct sl_series *s)
{
	return s->response_bytes;
}

/* A plain counter per series, read by get. */
static void render_counter(const struct sl_metrics *m, const char *name, const char *help,
                           uint64_t (*get)(const struct sl_series *), struct sl_mw *w)
{
	const struct sl_series *s;
	family(w, name, help, "counter");
	for (size_t i = 0; (s = nth(m, i)); i++) {
		open_sample(w, name, s);
		close_sample(w, get(s));
	}
}

static void render_counters(const struct sl_metrics *m, struct sl_mw *w)
{
	render_counter(m, "sluice_streams_total", "Streaming requests.", streams_of, w);
	render_counter(m, "sluice_request_bytes_total", "Request body bytes received from clients.", request_bytes_of,
	               w);
	render_counter(m, "sluice_response_bytes_total", "Response bytes sent to clients.", response_bytes_of, w);
	family(w, "sluice_requests_in_flight", "Requests being served now.", "gauge");
	sl_mw_puts(w, "sluice_requests_in_flight ");
	sl_mw_i64(w, m->inflight);
	sl_mw_put(w, "\n", 1);
}

int sl_metrics_render(const struct sl_metrics *m, struct sl_buf *out)
{
	struct sl_mw w = {out, 0};
	size_t start = out->len;
	render_hist(m, SL_H_REQUEST, &w);
	render_hist(m, SL_H_TTFT, &w);
	render_hist(m, SL_H_TPOT, &w);
	render_hist(m, SL_H_CLIENT, &w);
	render_tokens(m, &w);
	render_labelled(m, &w);
	render_guard(m, &w);
	render_counters(m, &w);
	if (w.rc)
		sl_metrics_rewind(out, start);
	return w.rc;
}
