/* metrics.c: the metric families, and counting one event into its series.
 * Families follow the OpenTelemetry GenAI semantic conventions translated to Prometheus
 * (dots to underscores, unit suffix _seconds); sluice's own counters carry the sluice_ prefix.
 * Observing never allocates past the first sight of a label and never fails. */
#include <stdlib.h>
#include <string.h>

#include "metrics-int.h"

static const double duration_le[] = {0.001, 0.0025, 0.005, 0.01, 0.02,  0.04,  0.08,  0.16, 0.32,
                                     0.64,  1.28,   2.56,  5.12, 10.24, 20.48, 40.96, 81.92};
static const double ttft_le[] = {0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1,
                                 0.25,  0.5,   0.75, 1.0,  2.5,  5.0,  7.5,  10.0};
static const double tpot_le[] = {0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 2.5};
static const double token_le[] = {1,     4,     16,     64,      256,     1024,     4096,
                                  16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864};

#define SPEC(name, help, le)                                                                                           \
	{                                                                                                              \
		name, help, le, sizeof(le) / sizeof((le)[0])                                                           \
	}
#define TOKEN_SPEC                                                                                                     \
	SPEC("gen_ai_client_token_usage",                                                                              \
	     "Number of input and output tokens used per request, from the usage the "                                 \
	     "model server reported.",                                                                                 \
	     token_le)

const struct sl_hist_spec sl_metrics_hists[SL_H_COUNT_] = {
    [SL_H_REQUEST] = SPEC("gen_ai_server_request_duration_seconds",
                          "Time from request arrival to the last byte sent to the client.", duration_le),
    [SL_H_TTFT] = SPEC("gen_ai_server_time_to_first_token_seconds",
                       "Time from request arrival to the first content chunk of a stream.", ttft_le),
    [SL_H_TPOT] = SPEC("gen_ai_server_time_per_output_token_seconds",
                       "Time per output token after the first one, for streams.", tpot_le),
    [SL_H_CLIENT] =
        SPEC("gen_ai_client_operation_duration_seconds",
             "Time from sending the request upstream to the upstream response being complete.", duration_le),
    [SL_H_TOK_IN] = TOKEN_SPEC,
    [SL_H_TOK_OUT] = TOKEN_SPEC,
};

struct sl_metrics *sl_metrics_new(void)
{
	struct sl_metrics *m = calloc(1, sizeof(*m));
	if (!m)
		return NULL;
	m->other = sl_series_new("_other", "_other", sl_series_hash("_other", "_other"));
	if (!m->other) {
		free(m);
		return NULL;
	}
	sl_series_insert(m, m->other, UINT32_MAX);
	return m;
}

void sl_metrics_free(struct sl_metrics *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->nseries; i++)
		sl_series_free(m->series[i]);
	sl_series_free(m->other);
	free(m);
}

void sl_metrics_set_inflight(struct sl_metrics *m, long n)
{
	m->inflight = n;
}

size_t sl_metrics_series_count(const struct sl_metrics *m)
{
	return m->nseries + (m->other->events > 0);
}

/* Comparisons are written so that NaN never passes. */
static void observe_times(struct sl_series *s, const struct sl_event *ev)
{
	if (ev->total_s >= 0)
		sl_hist_observe(&s->hist[SL_H_REQUEST], &sl_metrics_hists[SL_H_REQUEST], ev->total_s);
	if (ev->ttft_s >= 0)
		sl_hist_observe(&s->hist[SL_H_TTFT], &sl_metrics_hists[SL_H_TTFT], ev->ttft_s);
	if (ev->upstream_s >= 0)
		sl_hist_observe(&s->hist[SL_H_CLIENT], &sl_metrics_hists[SL_H_CLIENT], ev->upstream_s);
	if (ev->stream && ev->ttft_s >= 0 && ev->total_s >= ev->ttft_s && ev->completion_tokens > 1) {
		double tpot = (ev->total_s - ev->ttft_s) / (double)(ev->completion_tokens - 1);
		sl_hist_observe(&s->hist[SL_H_TPOT], &sl_metrics_hists[SL_H_TPOT], tpot);
	}
}

static void observe_tokens(struct sl_series *s, const struct sl_event *ev)
{
	if (ev->prompt_tokens >= 0)
		sl_hist_observe(&s->hist[SL_H_TOK_IN], &sl_metrics_hists[SL_H_TOK_IN], (double)ev->prompt_tokens);
	if (ev->completion_tokens >= 0)
		sl_hist_observe(&s->hist[SL_H_TOK_OUT], &sl_metrics_hists[SL_H_TOK_OUT], (double)ev->completion_tokens);
}

/* Sub-labels: sanitized and bounded like series keys; empty ones read "none". */
static void observe_labels(struct sl_series *s, const struct sl_event *ev)
{
	char sub[SL_METRICS_SUBLABEL_MAX + 1];
	sl_utf8_sanitize(sub, sizeof(sub), ev->error_class);
	sl_series_count_status(s, ev->status, sub[0] ? sub : "none");
	if (!ev->finish_reason)
		return;
	sl_utf8_sanitize(sub, sizeof(sub), ev->finish_reason);
	sl_series_count_reason(s, sub[0] ? sub : "none");
}

const char *const sl_guard_stage_names[SL_GUARD_STAGES] = {"input", "output"};
const char *const sl_guard_action_names[SL_GUARD_ACTIONS] = {"flag", "block", "sanitize", "remove", "redact"};

static void observe_guard(struct sl_series *s, int stage, const char *action)
{
	for (size_t i = 0; action && i < SL_GUARD_ACTIONS; i++)
		if (strcmp(action, sl_guard_action_names[i]) == 0)
			s->guard[stage][i]++;
}

void sl_metrics_observe(struct sl_metrics *m, const struct sl_event *ev)
{
	char model[SL_METRICS_LABEL_MAX + 1], version[SL_METRICS_LABEL_MAX + 1];
	if (!m || !ev)
		return;
	sl_utf8_sanitize(model, sizeof(model), ev->model);
	sl_utf8_sanitize(version, sizeof(version), ev->version);
	struct sl_series *s = sl_metrics_series(m, model, version);
	s->events++;
	s->streams += ev->stream;
	s->request_bytes += ev->request_bytes;
	s->response_bytes += ev->response_bytes;
	observe_times(s, ev);
	observe_tokens(s, ev);
	observe_labels(s, ev);
	observe_guard(s, 0, ev->guard_input);
	observe_guard(s, 1, ev->guard_output);
	s->guard_segments[0] += ev->guard_scanned - ev->guard_remembered;
	s->guard_segments[1] += ev->guard_remembered;
}
