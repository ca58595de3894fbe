/* load_report.c: what `sluice load` learns: results grouped by (x-sluice-version, status),
 * the feedback posted after answers (counted in the answer's group, never as a request), the
 * progress line, and the final summary as a table or one JSON object. With --shift-at both
 * say how many requests went out before the prompt mix shifted and after.
 * Invariant: counts are exact; latency samples stop being stored past SL_LOAD_SAMPLE_CAP
 * (counted in samples_dropped), so quantiles then describe the first samples only. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sim/load.h"

#define MAX_GROUPS 256

#define SL_LOAD_ERRCLASS_NAME_(name, str) str,
static const char *const errclass_names[] = {SL_LOAD_ERRCLASSES(SL_LOAD_ERRCLASS_NAME_)};
#undef SL_LOAD_ERRCLASS_NAME_

void sl_load_stats_init(struct sl_load_stats *s)
{
	memset(s, 0, sizeof(*s));
}

void sl_load_stats_release(struct sl_load_stats *s)
{
	for (size_t i = 0; i < s->n; i++) {
		sl_latency_release(&s->g[i].latency);
		sl_latency_release(&s->g[i].ttft);
	}
	free(s->g);
	sl_load_stats_init(s);
}

static bool ok_status(long status)
{
	return status >= 200 && status < 300;
}

bool sl_load_result_failed(const struct sl_load_result *r)
{
	if (r->status == 0 || r->status >= 400 || r->errclass != SL_LOAD_ERR_NONE)
		return true;
	return r->stream && ok_status(r->status) && (!r->stream_done || r->stream_error);
}

bool sl_load_result_answered(const struct sl_load_result *r)
{
	return ok_status(r->status) && !sl_load_result_failed(r);
}

static struct sl_load_group *new_group(struct sl_load_stats *s, const char *version, long status)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 8;
		struct sl_load_group *g = realloc(s->g, cap * sizeof(*g));
		if (!g)
			return NULL;
		s->g = g;
		s->cap = cap;
	}
	struct sl_load_group *g = &s->g[s->n++];
	memset(g, 0, sizeof(*g));
	snprintf(g->version, sizeof(g->version), "%s", version);
	g->status = status;
	sl_latency_init(&g->latency);
	sl_latency_init(&g->ttft);
	return g;
}

static struct sl_load_group *lookup_group(struct sl_load_stats *s, const char *version, long status)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->g[i].status == status && strcmp(s->g[i].version, version) == 0)
			return &s->g[i];
	return NULL;
}

/* Past MAX_GROUPS, new (version, status) pairs share one "(other)" group per status. */
static struct sl_load_group *find_group(struct sl_load_stats *s, const char *version, long status)
{
	struct sl_load_group *g = lookup_group(s, version, status);
	if (g)
		return g;
	if (s->n >= MAX_GROUPS && (g = lookup_group(s, "(other)", status)))
		return g;
	return new_group(s, s->n >= MAX_GROUPS ? "(other)" : version, status);
}

static void add_sample(struct sl_load_stats *s, struct sl_latency *l, uint64_t ns)
{
	if (s->samples < SL_LOAD_SAMPLE_CAP && sl_latency_add(l, ns) == 0)
		s->samples++;
	else
		s->samples_dropped++;
}

int sl_load_stats_record(struct sl_load_stats *s, const struct sl_load_result *r)
{
	struct sl_load_group *g = find_group(s, r->version, r->status);
	if (!g)
		return SL_ENOMEM;
	g->count++;
	s->done++;
	s->errors += sl_load_result_failed(r);
	s->responses += r->status > 0;
	if (r->errclass != SL_LOAD_ERR_NONE)
		s->transport[r->errclass]++;
	add_sample(s, &g->latency, r->latency_ns);
	if (sl_load_result_answered(r)) {
		g->answers++;
		g->bad += r->sim_bad;
	}
	if (!r->stream)
		return 0;
	g->streams++;
	g->incomplete += ok_status(r->status) && !r->stream_done;
	g->stream_errors += r->stream_error;
	if (r->ttft_ns)
		add_sample(s, &g->ttft, r->ttft_ns);
	return 0;
}

static void count_failed(struct sl_load_stats *s, long status)
{
	size_t i = 0;
	while (i < s->nfb_failed && s->fb_failed[i].status != status)
		i++;
	if (i == SL_LOAD_FB_STATUS_MAX) {
		i--; /* full: the last entry counts every status not listed before it */
		s->fb_failed[i].status = -1;
	} else if (i == s->nfb_failed) {
		s->fb_failed[s->nfb_failed++].status = status;
	}
	s->fb_failed[i].count++;
}

static void fb_add(struct sl_load_fb_counts *c, enum sl_load_fb_event ev)
{
	switch (ev) {
	case SL_LOAD_FB_SKIPPED:
		c->skipped++;
		break;
	case SL_LOAD_FB_POSTED:
		c->posted++;
		break;
	case SL_LOAD_FB_UP:
		c->up++;
		break;
	case SL_LOAD_FB_DOWN:
		c->down++;
		break;
	case SL_LOAD_FB_FAILED:
		c->failed++;
		break;
	}
}

int sl_load_stats_feedback(struct sl_load_stats *s, const char *version, long status, enum sl_load_fb_event ev,
                           long fb_status)
{
	struct sl_load_group *g = find_group(s, version, status);
	if (!g)
		return SL_ENOMEM;
	fb_add(&g->fb, ev);
	fb_add(&s->fb, ev);
	if (ev == SL_LOAD_FB_FAILED)
		count_failed(s, fb_status);
	return 0;
}

void sl_load_progress_init(struct sl_load_progress *p, bool quiet, uint64_t now_ns)
{
	memset(p, 0, sizeof(*p));
	p->enabled = !quiet;
	p->tty = isatty(STDERR_FILENO);
	p->every_ns = p->tty ? 1000000000u : 2000000000u;
	p->last_ns = now_ns;
	p->next_ns = now_ns + p->every_ns;
}

void sl_load_progress_tick(struct sl_load_progress *p, const struct sl_load_stats *s, uint64_t inflight,
                           uint64_t now_ns)
{
	if (now_ns < p->next_ns)
		return;
	double dt = (double)(now_ns - p->last_ns) / 1e9;
	double rate = dt > 0 ? (double)(s->done - p->last_done) / dt : 0;
	p->last_ns = now_ns;
	p->last_done = s->done;
	while (p->next_ns <= now_ns)
		p->next_ns += p->every_ns;
	if (!p->enabled)
		return;
	char fb[48] = "";
	if (s->fb.posted || s->fb.skipped)
		snprintf(fb, sizeof(fb), "  feedback %llu", (unsigned long long)s->fb.posted);
	fprintf(stderr, "%ssluice load: %6.1fs  sent %llu  done %llu  in-flight %llu  %.1f req/s  errors %llu%s%s%s",
	        p->tty ? "\r" : "", (double)(now_ns - s->t_start_ns) / 1e9, (unsigned long long)s->sent,
	        (unsigned long long)s->done, (unsigned long long)inflight, rate, (unsigned long long)s->errors, fb,
	        s->shift_after ? "  shifted" : "", p->tty ? "\033[K" : "\n");
	p->dirty = p->tty;
}

void sl_load_progress_end(struct sl_load_progress *p)
{
	if (p->dirty)
		fputc('\n', stderr);
	p->dirty = false;
}

static int cmp_group(const void *a, const void *b)
{
	const struct sl_load_group *x = a, *y = b;
	int c = strcmp(x->version, y->version);
	return c ? c : (x->status > y->status) - (x->status < y->status);
}

static double elapsed_s(const struct sl_load_stats *s)
{
	return s->t_end_ns > s->t_start_ns ? (double)(s->t_end_ns - s->t_start_ns) / 1e9 : 0;
}

static double achieved_rate(const struct sl_load_stats *s)
{
	double t = elapsed_s(s);
	return t > 0 ? (double)s->done / t : 0;
}

static double share(const struct sl_load_stats *s, uint64_t count)
{
	return s->done ? (double)count / (double)s->done : 0;
}

/* The groups g[0..n) of one version, summed. */
struct version_sum {
	uint64_t count, streams, incomplete, stream_errors, answers, bad;
	struct sl_load_fb_counts fb;
};

static void sum_version(const struct sl_load_group *g, size_t n, struct version_sum *v)
{
	memset(v, 0, sizeof(*v));
	for (size_t i = 0; i < n; i++) {
		v->count += g[i].count;
		v->streams += g[i].streams;
		v->incomplete += g[i].incomplete;
		v->stream_errors += g[i].stream_errors;
		v->answers += g[i].answers;
		v->bad += g[i].bad;
		v->fb.posted += g[i].fb.posted;
		v->fb.up += g[i].fb.up;
		v->fb.down += g[i].fb.down;
		v->fb.failed += g[i].fb.failed;
		v->fb.skipped += g[i].fb.skipped;
	}
}

/* The end of the run of groups sharing g[i]'s version (groups are sorted by version). */
static size_t version_end(const struct sl_load_stats *s, size_t i)
{
	size_t j = i + 1;
	while (j < s->n && strcmp(s->g[j].version, s->g[i].version) == 0)
		j++;
	return j;
}

static const char *fb_status_name(long status, char *buf, size_t cap)
{
	if (status == 0)
		return "no response";
	if (status < 0)
		return "other";
	snprintf(buf, cap, "%ld", status);
	return buf;
}

/* ---- the table ---- */

static void print_ms(double v, int width)
{
	if (isnan(v))
		printf("%*s", width, "-");
	else
		printf("%*.3f", width, v);
}

static void print_row(const char *version, const char *status, uint64_t count, double sh, struct sl_latency *lat,
                      struct sl_latency *ttft, uint64_t streams, uint64_t incomplete)
{
	printf("%-16.16s %6s %9llu %6.2f%%", version, status, (unsigned long long)count, sh * 100);
	print_ms(sl_latency_quantile_ms(lat, 0.5), 9);
	print_ms(sl_latency_quantile_ms(lat, 0.9), 9);
	print_ms(sl_latency_quantile_ms(lat, 0.99), 9);
	print_ms(sl_latency_quantile_ms(ttft, 0.5), 10);
	print_ms(sl_latency_quantile_ms(ttft, 0.99), 10);
	printf(" %8llu %10llu\n", (unsigned long long)streams, (unsigned long long)incomplete);
}

static void print_shift(const struct sl_load_stats *s, const struct sl_load_opts *o)
{
	if (o->shift_at_s < 0)
		return;
	printf("\nprompt shift at %g s: %llu requests before, %llu after (second set: %s)\n", o->shift_at_s,
	       (unsigned long long)s->shift_before, (unsigned long long)s->shift_after,
	       o->shift_prompts_path ? o->shift_prompts_path : "built-in, Russian");
}

static void print_notes(const struct sl_load_stats *s, const struct sl_load_opts *o)
{
	bool any = false;
	uint64_t serr = 0;
	for (size_t i = 0; i < s->n; i++)
		serr += s->g[i].stream_errors;
	if (serr)
		printf("\nstreams with an error event: %llu\n", (unsigned long long)serr);
	for (int c = 1; c < SL_LOAD_ERR_COUNT_; c++)
		if (s->transport[c]) {
			printf("%s %s %llu", any ? "," : "\ntransport errors:", errclass_names[c],
			       (unsigned long long)s->transport[c]);
			any = true;
		}
	if (any)
		printf("\nfirst transport error: %s\n", s->first_error);
	if (s->late)
		printf("\nnote: %llu requests started over 10 ms behind schedule (in-flight limit %llu reached, or a "
		       "busy machine)\n",
		       (unsigned long long)s->late, (unsigned long long)o->concurrency);
	if (s->sent > s->done)
		printf("\nnote: %llu requests abandoned in flight by a second interrupt\n",
		       (unsigned long long)(s->sent - s->done));
	if (s->samples_dropped)
		printf("\nnote: latency quantiles cover the first %llu samples; %llu more were not stored\n",
		       (unsigned long long)s->samples, (unsigned long long)s->samples_dropped);
}

static void print_answer_row(const char *version, const struct version_sum *v)
{
	printf("%-16.16s %9llu %8llu %6.2f%% %8llu %8llu %8llu %8llu %8llu\n", version, (unsigned long long)v->answers,
	       (unsigned long long)v->bad, v->answers ? 100.0 * (double)v->bad / (double)v->answers : 0.0,
	       (unsigned long long)v->fb.posted, (unsigned long long)v->fb.up, (unsigned long long)v->fb.down,
	       (unsigned long long)v->fb.failed, (unsigned long long)v->fb.skipped);
}

static void print_feedback_line(const struct sl_load_stats *s)
{
	char num[24];
	printf("feedback: %llu posted, %llu thumbs up and %llu thumbs down recorded, %llu failed",
	       (unsigned long long)s->fb.posted, (unsigned long long)s->fb.up, (unsigned long long)s->fb.down,
	       (unsigned long long)s->fb.failed);
	for (size_t i = 0; i < s->nfb_failed; i++)
		printf("%s%s: %llu", i ? ", " : " (", fb_status_name(s->fb_failed[i].status, num, sizeof(num)),
		       (unsigned long long)s->fb_failed[i].count);
	printf("%s, %llu skipped (no x-sluice-request-id)\n", s->nfb_failed ? ")" : "",
	       (unsigned long long)s->fb.skipped);
}

/* Answers (2xx, streams complete) by version: bad ones and the feedback they got. */
static void print_answers(const struct sl_load_stats *s, const struct sl_load_opts *o)
{
	struct version_sum v, total;
	sum_version(s->g, s->n, &total);
	if (o->feedback <= 0 && total.bad == 0)
		return;
	printf("\n%-16s %9s %8s %7s %8s %8s %8s %8s %8s\n", "version", "answers", "bad", "bad %", "posted", "up",
	       "down", "failed", "skipped");
	for (size_t i = 0, j; i < s->n; i = j) {
		j = version_end(s, i);
		sum_version(&s->g[i], j - i, &v);
		print_answer_row(s->g[i].version, &v);
	}
	print_answer_row("total", &total);
	printf("answers: 2xx, streams complete; bad: marked x-sim-answer: bad; up, down: feedback recorded\n");
	if (o->feedback > 0)
		print_feedback_line(s);
}

static int print_total(struct sl_load_stats *s)
{
	struct sl_latency lat, ttft;
	uint64_t streams = 0, incomplete = 0;
	int rc = 0;
	sl_latency_init(&lat);
	sl_latency_init(&ttft);
	for (size_t i = 0; i < s->n && !rc; i++) {
		streams += s->g[i].streams;
		incomplete += s->g[i].incomplete;
		if (!(rc = sl_latency_merge(&lat, &s->g[i].latency)))
			rc = sl_latency_merge(&ttft, &s->g[i].ttft);
	}
	if (!rc)
		print_row("total", "", s->done, s->done ? 1.0 : 0.0, &lat, &ttft, streams, incomplete);
	sl_latency_release(&lat);
	sl_latency_release(&ttft);
	return rc;
}

int sl_load_print_table(struct sl_load_stats *s, const struct sl_load_opts *o)
{
	char status[16];
	if (s->n)
		qsort(s->g, s->n, sizeof(*s->g), cmp_group);
	printf("target   %s (model %s, %s)\n", o->url, o->model, sl_load_endpoint_name(o->endpoint));
	printf("requests %llu sent, %llu done in %.2f s: %.1f req/s achieved", (unsigned long long)s->sent,
	       (unsigned long long)s->done, elapsed_s(s), achieved_rate(s));
	if (o->rate > 0)
		printf(", %g req/s asked", o->rate);
	printf(", %llu errors\n\n", (unsigned long long)s->errors);
	printf("%-16s %6s %9s %7s %8s %8s %8s %9s %9s %8s %10s\n", "version", "status", "count", "share", "p50 ms",
	       "p90 ms", "p99 ms", "ttft p50", "ttft p99", "streams", "incomplete");
	for (size_t i = 0; i < s->n; i++) {
		struct sl_load_group *g = &s->g[i];
		snprintf(status, sizeof(status), "%ld", g->status);
		print_row(g->version, status, g->count, share(s, g->count), &g->latency, &g->ttft, g->streams,
		          g->incomplete);
	}
	int rc = print_total(s);
	print_shift(s, o);
	print_answers(s, o);
	print_notes(s, o);
	fflush(stdout);
	return rc;
}

/* ---- JSON ---- */

static int json_ms(struct sl_buf *b, const char *key, double v)
{
	return isnan(v) ? sl_buf_printf(b, "\"%s\":null", key) : sl_buf_printf(b, "\"%s\":%.3f", key, v);
}

static int json_quantiles(struct sl_buf *b, struct sl_latency *lat, struct sl_latency *ttft)
{
	int rc = sl_buf_puts(b, ",\"latency_ms\":{");
	if (!rc)
		rc = json_ms(b, "p50", sl_latency_quantile_ms(lat, 0.5));
	if (!rc && !(rc = sl_buf_puts(b, ",")))
		rc = json_ms(b, "p90", sl_latency_quantile_ms(lat, 0.9));
	if (!rc && !(rc = sl_buf_puts(b, ",")))
		rc = json_ms(b, "p99", sl_latency_quantile_ms(lat, 0.99));
	if (!rc && !(rc = sl_buf_puts(b, "},\"ttft_ms\":{")))
		rc = json_ms(b, "p50", sl_latency_quantile_ms(ttft, 0.5));
	if (!rc && !(rc = sl_buf_puts(b, ",")))
		rc = json_ms(b, "p99", sl_latency_quantile_ms(ttft, 0.99));
	return rc ? rc : sl_buf_puts(b, "}");
}

static int json_fb_counts(struct sl_buf *b, const struct sl_load_fb_counts *c)
{
	return sl_buf_printf(b,
	                     "\"feedback\":{\"posted\":%llu,\"thumbs_up\":%llu,\"thumbs_down\":%llu,\"failed\":%llu,"
	                     "\"skipped\":%llu",
	                     (unsigned long long)c->posted, (unsigned long long)c->up, (unsigned long long)c->down,
	                     (unsigned long long)c->failed, (unsigned long long)c->skipped);
}

/* One version: the groups g[0..n) share it. */
static int json_version(struct sl_buf *b, struct sl_load_stats *s, struct sl_load_group *g, size_t n)
{
	struct sl_latency lat, ttft;
	struct version_sum v;
	int rc = sl_buf_json_str(b, g->version, strlen(g->version));
	if (!rc)
		rc = sl_buf_puts(b, ":{\"status\":{");
	sum_version(g, n, &v);
	sl_latency_init(&lat);
	sl_latency_init(&ttft);
	for (size_t i = 0; i < n && !rc; i++) {
		rc = sl_buf_printf(b, "%s\"%ld\":%llu", i ? "," : "", g[i].status, (unsigned long long)g[i].count);
		if (!rc && !(rc = sl_latency_merge(&lat, &g[i].latency)))
			rc = sl_latency_merge(&ttft, &g[i].ttft);
	}
	if (!rc)
		rc =
		    sl_buf_printf(b, "},\"count\":%llu,\"share\":%.6f", (unsigned long long)v.count, share(s, v.count));
	if (!rc)
		rc = json_quantiles(b, &lat, &ttft);
	if (!rc)
		rc = sl_buf_printf(
		    b,
		    ",\"streams\":%llu,\"incomplete_streams\":%llu,\"stream_errors\":%llu,\"answers\":%llu,"
		    "\"bad_answers\":%llu,",
		    (unsigned long long)v.streams, (unsigned long long)v.incomplete,
		    (unsigned long long)v.stream_errors, (unsigned long long)v.answers, (unsigned long long)v.bad);
	if (!rc && !(rc = json_fb_counts(b, &v.fb)))
		rc = sl_buf_puts(b, "}}");
	sl_latency_release(&lat);
	sl_latency_release(&ttft);
	return rc;
}

static int json_by_version(struct sl_buf *b, struct sl_load_stats *s)
{
	int rc = sl_buf_puts(b, ",\"by_version\":{");
	for (size_t i = 0, j; i < s->n && !rc; i = j) {
		j = version_end(s, i);
		if (i && (rc = sl_buf_puts(b, ",")))
			break;
		rc = json_version(b, s, &s->g[i], j - i);
	}
	return rc ? rc : sl_buf_puts(b, "}");
}

/* "feedback":{...,"failed_by_status":{"404":n,"0":n}}: status 0 is no response at all. */
static int json_feedback(struct sl_buf *b, const struct sl_load_stats *s)
{
	char num[24];
	int rc = sl_buf_puts(b, ",");
	rc = rc ? rc : json_fb_counts(b, &s->fb);
	rc = rc ? rc : sl_buf_puts(b, ",\"failed_by_status\":{");
	for (size_t i = 0; i < s->nfb_failed && !rc; i++) {
		long st = s->fb_failed[i].status;
		if (st >= 0)
			snprintf(num, sizeof(num), "%ld", st);
		rc = sl_buf_printf(b, "%s\"%s\":%llu", i ? "," : "", st >= 0 ? num : "other",
		                   (unsigned long long)s->fb_failed[i].count);
	}
	return rc ? rc : sl_buf_puts(b, "}}");
}

/* "shift":{"at_s":..,"requests_before":n,"requests_after":n}, or null without --shift-at. */
static int json_shift(struct sl_buf *b, const struct sl_load_stats *s, const struct sl_load_opts *o)
{
	if (o->shift_at_s < 0)
		return sl_buf_puts(b, ",\"shift\":null");
	return sl_buf_printf(b, ",\"shift\":{\"at_s\":%g,\"requests_before\":%llu,\"requests_after\":%llu}",
	                     o->shift_at_s, (unsigned long long)s->shift_before, (unsigned long long)s->shift_after);
}

static int json_transport(struct sl_buf *b, const struct sl_load_stats *s)
{
	int rc = sl_buf_puts(b, ",\"transport_errors\":{");
	for (int c = 1, first = 1; c < SL_LOAD_ERR_COUNT_ && !rc; c++) {
		if (!s->transport[c])
			continue;
		rc = sl_buf_printf(b, "%s\"%s\":%llu", first ? "" : ",", errclass_names[c],
		                   (unsigned long long)s->transport[c]);
		first = 0;
	}
	return rc ? rc : sl_buf_puts(b, "}");
}

static int json_head(struct sl_buf *b, const struct sl_load_stats *s, const struct sl_load_opts *o)
{
	int rc = sl_buf_printf(b,
	                       "{\"total\":%llu,\"sent\":%llu,\"duration_s\":%.3f,\"rate\":%.3f,\"target_rate\":%g,"
	                       "\"errors\":%llu,\"late_starts\":%llu,\"samples_dropped\":%llu,\"seed\":%llu,"
	                       "\"endpoint\":\"%s\",\"url\":",
	                       (unsigned long long)s->done, (unsigned long long)s->sent, elapsed_s(s), achieved_rate(s),
	                       o->rate, (unsigned long long)s->errors, (unsigned long long)s->late,
	                       (unsigned long long)s->samples_dropped, (unsigned long long)o->seed,
	                       sl_load_endpoint_name(o->endpoint));
	return rc ? rc : sl_buf_json_str(b, o->url, strlen(o->url));
}

int sl_load_print_json(struct sl_load_stats *s, const struct sl_load_opts *o)
{
	struct sl_buf b;
	sl_buf_init(&b, 0);
	if (s->n)
		qsort(s->g, s->n, sizeof(*s->g), cmp_group);
	int rc = json_head(&b, s, o);
	if (!rc)
		rc = json_shift(&b, s, o);
	if (!rc)
		rc = json_transport(&b, s);
	if (!rc)
		rc = json_feedback(&b, s);
	if (!rc)
		rc = json_by_version(&b, s);
	if (!rc && !(rc = sl_buf_puts(&b, "}\n")))
		fwrite(b.data, 1, b.len, stdout);
	fflush(stdout);
	sl_buf_release(&b);
	return rc;
}
