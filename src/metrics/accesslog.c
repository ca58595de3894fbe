/* accesslog.c: events as JSON-lines access-log records, and event initialisation.
 * One record is one line: a JSON object and '\n'. Strings are escaped byte-safely (invalid
 * UTF-8 becomes U+FFFD), so any input yields valid JSON. Missing values are null: absent
 * strings, times < 0 and tokens < 0. API keys are not part of an event and never appear. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "metrics-int.h"

void sl_event_init(struct sl_event *ev)
{
	memset(ev, 0, sizeof(*ev));
	ev->total_s = ev->ttft_s = ev->upstream_s = -1;
	ev->prompt_tokens = ev->completion_tokens = -1;
	ev->guard_score = -1;
}

/* ,"key": as one literal of known length, appended once (a record has about twenty keys, and
 * an append costs about as much as a short value: bench/guard_gateway.sh counted the guard's
 * three fields at 1,400 instructions a request when each key took three appends). */
struct key {
	const char *s;
	size_t n;
};
#define K(name) ((struct key){",\"" name "\":", sizeof(",\"" name "\":") - 1})

static void key(struct sl_mw *w, struct key k)
{
	sl_mw_put(w, k.s, k.n);
}

static void str_n(struct sl_mw *w, struct key k, const char *s, size_t n)
{
	key(w, k);
	if (!s)
		sl_mw_puts(w, "null");
	else if (w->rc == 0)
		w->rc = sl_buf_json_str(w->b, s, n);
}

static void str(struct sl_mw *w, struct key k, const char *s)
{
	str_n(w, k, s, s ? strlen(s) : 0);
}

/* v (finite, >= 0) with d (1-6) decimals, rounded; integer arithmetic, as every request writes
 * a few of these (printf's "%.*f" only past 2^63 units). */
static void fixed(struct sl_mw *w, double v, unsigned d)
{
	static const uint64_t p10[] = {1, 10, 100, 1000, 10000, 100000, 1000000};
	double x = round(v * (double)p10[d]);
	if (!(x < 0x1p63)) {
		char tmp[400];
		int n = snprintf(tmp, sizeof(tmp), "%.*f", (int)d, v);
		sl_mw_put(w, tmp, n > 0 && (size_t)n < sizeof(tmp) ? (size_t)n : 0);
		return;
	}
	uint64_t u = (uint64_t)x;
	char tmp[32]; /* written backwards: d decimals, '.', then the integer part */
	size_t i = sizeof(tmp);
	for (unsigned k = 0; k < d; k++, u /= 10)
		tmp[--i] = (char)('0' + u % 10);
	tmp[--i] = '.';
	do {
		tmp[--i] = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	sl_mw_put(w, tmp + i, sizeof(tmp) - i);
}

/* Seconds as milliseconds with microsecond precision; null when not measured. */
static void millis(struct sl_mw *w, struct key k, double s)
{
	key(w, k);
	if (!(s >= 0) || !isfinite(s))
		sl_mw_puts(w, "null");
	else
		fixed(w, s * 1000, 3);
}

static void count(struct sl_mw *w, struct key k, long v)
{
	key(w, k);
	if (v < 0)
		sl_mw_puts(w, "null");
	else
		sl_mw_u64(w, (uint64_t)v);
}

/* RFC 3339 UTC, rounded to the millisecond; null when unset (0) or outside years 1970..9999. */
static void timestamp(struct sl_mw *w, double start)
{
	char tmp[40];
	struct tm tm;
	sl_mw_puts(w, "{\"ts\":");
	if (!(start > 0 && start < 253402300799.0)) {
		sl_mw_puts(w, "null");
		return;
	}
	long long ms = llround(start * 1000);
	time_t sec = (time_t)(ms / 1000);
	if (!gmtime_r(&sec, &tm)) {
		sl_mw_puts(w, "null");
		return;
	}
	size_t n = strftime(tmp, sizeof(tmp), "\"%Y-%m-%dT%H:%M:%S", &tm);
	int m = snprintf(tmp + n, sizeof(tmp) - n, ".%03dZ\"", (int)(ms % 1000));
	sl_mw_put(w, tmp, n + (size_t)m);
}

static void request_id(struct sl_mw *w, const struct sl_event *ev)
{
	size_t n = strnlen(ev->request_id, sizeof(ev->request_id));
	str_n(w, K("request_id"), n ? ev->request_id : NULL, n);
}

static void flag(struct sl_mw *w, struct key k, bool v)
{
	key(w, k);
	sl_mw_puts(w, v ? "true" : "false");
}

int sl_event_to_json(const struct sl_event *ev, struct sl_buf *out)
{
	struct sl_mw w = {out, 0};
	size_t start = out->len;
	timestamp(&w, ev->start);
	request_id(&w, ev);
	str(&w, K("endpoint"), ev->endpoint);
	str(&w, K("model"), ev->model);
	str(&w, K("version"), ev->version);
	str(&w, K("upstream"), ev->upstream);
	key(&w, K("status"));
	sl_mw_i64(&w, ev->status);
	str(&w, K("error_class"), ev->error_class);
	str(&w, K("finish_reason"), ev->finish_reason);
	flag(&w, K("stream"), ev->stream);
	flag(&w, K("sticky"), ev->sticky);
	millis(&w, K("total_ms"), ev->total_s);
	millis(&w, K("ttft_ms"), ev->ttft_s);
	millis(&w, K("upstream_ms"), ev->upstream_s);
	count(&w, K("prompt_tokens"), ev->prompt_tokens);
	count(&w, K("completion_tokens"), ev->completion_tokens);
	key(&w, K("request_bytes"));
	sl_mw_u64(&w, ev->request_bytes);
	key(&w, K("response_bytes"));
	sl_mw_u64(&w, ev->response_bytes);
	if (ev->guard_input || ev->guard_output || ev->guard_score >= 0) {
		str(&w, K("guard_input"), ev->guard_input);
		str(&w, K("guard_output"), ev->guard_output);
		key(&w, K("guard_score"));
		if (ev->guard_score >= 0 && isfinite(ev->guard_score))
			fixed(&w, ev->guard_score, 4);
		else
			sl_mw_puts(&w, "null");
	}
	if (ev->body)
		str_n(&w, K("body"), ev->body, ev->body_len);
	sl_mw_puts(&w, "}\n");
	if (w.rc)
		sl_metrics_rewind(out, start);
	return w.rc;
}
