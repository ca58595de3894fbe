/* metrics-int.h: structures shared by the files of the metrics module (not exported).
 * A series holds every metric of one (model, version) pair; label strings in it are valid
 * UTF-8, already cut to their bound, so equal keys always render equally. */
#ifndef SLUICE_METRICS_INT_H
#define SLUICE_METRICS_INT_H

#include <stdint.h>

#include "sluice/metrics.h"

/* Cuts b back to len bytes: how a failed append leaves its output as it was. */
static inline void sl_metrics_rewind(struct sl_buf *b, size_t len)
{
	if (b->data && len <= b->len) {
		b->len = len;
		b->data[len] = '\0';
	}
}


/* histogram.c */
#define SL_HIST_MAX_BOUNDS 17

/* A histogram family: name, help and the upper bounds (inclusive, increasing; +Inf implied). */
struct sl_hist_spec {
	const char *name;
	const char *help;
	const double *le;
	size_t n;
};

/* Per-bucket counts, not cumulative; bucket[spec->n] is the +Inf bucket. */
struct sl_hist {
	uint64_t bucket[SL_HIST_MAX_BOUNDS + 1];
	uint64_t count;
	double sum;
};

void sl_hist_observe(struct sl_hist *h, const struct sl_hist_spec *spec, double v);

/* writer.c: an appender that keeps its first error, so rendering code reads straight through
 * and checks once at the end. */
struct sl_mw {
	struct sl_buf *b;
	int rc;
};
void sl_mw_put(struct sl_mw *w, const char *s, size_t n);
void sl_mw_puts(struct sl_mw *w, const char *s);
void sl_mw_u64(struct sl_mw *w, uint64_t v);
void sl_mw_i64(struct sl_mw *w, int64_t v);
/* v as the shorter of %.15g and %.17g that reads back exactly; NaN, +Inf, -Inf as Prometheus
 * spells them. Returns the length written (NUL-terminated). */
#define SL_FMT_DOUBLE 32
size_t sl_fmt_double(char out[SL_FMT_DOUBLE], double v);
void sl_mw_double(struct sl_mw *w, double v);
/* A Prometheus label value (escaped, no quotes). */
void sl_mw_label(struct sl_mw *w, const char *s);

/* The bounds of one family as text, formatted once for every child rendered after. */
struct sl_hist_le {
	char text[SL_HIST_MAX_BOUNDS][SL_FMT_DOUBLE];
};
void sl_hist_le_text(const struct sl_hist_spec *spec, struct sl_hist_le *le);
/* Appends the _bucket, _sum and _count lines; labels is the rendered label set without le,
 * never empty. */
void sl_hist_render(const struct sl_hist *h, const struct sl_hist_spec *spec, const struct sl_hist_le *le,
                    struct sl_slice labels, struct sl_mw *w);

/* The histograms each series carries, in rendering order. */
enum sl_mhist { SL_H_REQUEST, SL_H_TTFT, SL_H_TPOT, SL_H_CLIENT, SL_H_TOK_IN, SL_H_TOK_OUT, SL_H_COUNT_ };

struct sl_mstatus {
	int status;
	uint64_t n;
	char cls[SL_METRICS_SUBLABEL_MAX + 1];
};

struct sl_mreason {
	uint64_t n;
	char reason[SL_METRICS_SUBLABEL_MAX + 1];
};

/* Guard actions counted per series: stage 0 input, 1 output. */
#define SL_GUARD_STAGES 2
#define SL_GUARD_ACTIONS 5
extern const char *const sl_guard_stage_names[SL_GUARD_STAGES];
extern const char *const sl_guard_action_names[SL_GUARD_ACTIONS];

struct sl_series {
	uint64_t hash;
	char model[SL_METRICS_LABEL_MAX + 1];
	char version[SL_METRICS_LABEL_MAX + 1];
	char *labels; /* 'model="...",version="..."', escaped */
	size_t labels_len;
	uint64_t events, streams, request_bytes, response_bytes;
	struct sl_hist hist[SL_H_COUNT_];
	struct sl_mstatus *statuses;
	size_t nstatuses, capstatuses;
	uint64_t status_other;
	struct sl_mreason *reasons;
	size_t nreasons, capreasons;
	uint64_t reason_other;
	uint64_t guard[SL_GUARD_STAGES][SL_GUARD_ACTIONS]; /* by stage and action, see sl_guard_action_names */
	uint64_t guard_segments[2]; /* input segments checked: [0] scanned, [1] answered by the memo */
};

/* series.c: the bounded table of series and its hash index. */
#define SL_METRICS_SLOTS 8192 /* power of two, twice the series bound */

struct sl_metrics {
	struct sl_series *series[SL_METRICS_MAX_SERIES];
	size_t nseries;
	struct sl_series *other;         /* model="_other" version="_other"; also reachable by its name */
	uint32_t slot[SL_METRICS_SLOTS]; /* 0 = empty, else 1 + index in series[], or UINT32_MAX for other */
	long inflight;
};

struct sl_series *sl_series_new(const char *model, const char *version, uint64_t hash);
void sl_series_free(struct sl_series *s);
/* The series for a sanitized pair (see sl_utf8_sanitize); creates it, or falls back to
 * m->other past the bound or out of memory. Never NULL. */
struct sl_series *sl_metrics_series(struct sl_metrics *m, const char *model, const char *version);
uint64_t sl_series_hash(const char *model, const char *version);
int sl_series_insert(struct sl_metrics *m, struct sl_series *s, uint32_t value);
/* Count one event under a sanitized sub-label (cls: "none" on success); past the bound, or out
 * of memory, into the series' "other" counter. */
void sl_series_count_status(struct sl_series *s, int status, const char *cls);
void sl_series_count_reason(struct sl_series *s, const char *reason);

/* Hist specs, in enum sl_mhist order (the two token histograms share one family). */
extern const struct sl_hist_spec sl_metrics_hists[SL_H_COUNT_];

#endif
