/* metrics: per-request telemetry events, Prometheus histograms per model and version, and the
 * JSON-lines access log. Pure: no I/O, no locks; the owner (one thread) feeds and renders it.
 * Metric names follow the OpenTelemetry GenAI semantic conventions where one exists.
 *
 * Bounds (every label value comes from untrusted input, so nothing here grows without limit):
 * - at most SL_METRICS_MAX_SERIES (model, version) series; later pairs are counted into the
 *   series model="_other" version="_other";
 * - per series at most SL_METRICS_MAX_STATUS (status, error_class) pairs, then status="other"
 *   error_class="other"; at most SL_METRICS_MAX_REASONS finish reasons, then reason="other";
 * - label values are cut to SL_METRICS_LABEL_MAX (model, version) or SL_METRICS_SUBLABEL_MAX
 *   bytes on a character boundary, and invalid UTF-8 becomes U+FFFD before they are used as
 *   keys, so two inputs that render alike always share one series. */
#ifndef SLUICE_METRICS_H
#define SLUICE_METRICS_H

#include <stdbool.h>
#include <stddef.h>

#include "sluice/core.h"

#define SL_METRICS_MAX_SERIES   4096
#define SL_METRICS_MAX_STATUS   64
#define SL_METRICS_MAX_REASONS  16
#define SL_METRICS_LABEL_MAX    128
#define SL_METRICS_SUBLABEL_MAX 64

/* One finished request as the gateway saw it. Strings are borrowed for the call only. */
struct sl_event {
	double start;              /* wall-clock seconds when the request arrived; 0 = unknown (ts null) */
	char request_id[33];
	const char *endpoint;      /* "chat.completions", "completions", "embeddings", "models", "feedback"... */
	const char *model;         /* public model name; NULL when unknown */
	const char *version;       /* chosen version; NULL when none was chosen */
	const char *upstream;      /* "host:port" it went to; NULL when none */
	int status;                /* HTTP status sent to the client (0 if none was sent) */
	const char *error_class;   /* NULL on success, else one of the classes in docs (e.g. "upstream_timeout") */
	const char *finish_reason; /* last finish_reason seen; NULL if none */
	bool refused;              /* the model refused: a "refusal" in the answer, or finish_reason content_filter */
	bool stream;
	bool sticky;               /* the version was chosen by a sticky key */
	double total_s;            /* arrival to last byte sent; < 0 when not measured */
	double ttft_s;             /* streams: arrival to first content chunk; < 0 when not measured */
	double upstream_s;         /* upstream request sent to upstream response complete; < 0 when none */
	long prompt_tokens;        /* from usage; < 0 when unknown */
	long completion_tokens;    /* from usage; < 0 when unknown */
	size_t request_bytes, response_bytes;
	const char *guard_input;   /* what the guard did to the request: NULL, "flag", "block", "sanitize", "remove" */
	const char *guard_output;  /* ... and to the answer: NULL, "flag", "redact", "block" */
	double guard_score;        /* injection risk of the request in [0, 1]; < 0 when not scanned */
	unsigned guard_scanned;    /* input segments checked (0 when none) ... */
	unsigned guard_remembered; /* ... and of those, answered by the guard's memo (<= guard_scanned) */
	const char *body;          /* request body, only when the config asks to log bodies; any bytes */
	size_t body_len;
};

/* Initialises an event to "nothing measured" values (negative times and tokens, the rest zero
 * or NULL). */
void sl_event_init(struct sl_event *ev);

struct sl_metrics;

/* NULL when out of memory. */
struct sl_metrics *sl_metrics_new(void);
void sl_metrics_free(struct sl_metrics *m);
/* Counts the event into the series for (model, version); NULL model/version count as "".
 * Never fails: when a bound is reached or memory runs out, it counts into an "other" label.
 * Times < 0 (or NaN) and tokens < 0 are not observed. */
void sl_metrics_observe(struct sl_metrics *m, const struct sl_event *ev);
/* Appends the Prometheus text exposition (format 0.0.4) of every metric to out. On error
 * (SL_ETOOBIG past out's limit, SL_ENOMEM) out is left as it was. */
int sl_metrics_render(const struct sl_metrics *m, struct sl_buf *out);
/* Gauges maintained by the owner. */
void sl_metrics_set_inflight(struct sl_metrics *m, long n);
/* Number of (model, version) series created so far, the "_other" series included once used. */
size_t sl_metrics_series_count(const struct sl_metrics *m);

/* Appends one access-log line (JSON object and '\n') for ev. API keys never appear; the body
 * only when ev->body is set. Valid JSON for any bytes. On error out is left as it was. */
int sl_event_to_json(const struct sl_event *ev, struct sl_buf *out);

#endif
