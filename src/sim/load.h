/* load.h: private interface of `sluice load`, the load generator of simulated users.
 * load_opts.c parses the command line, load_prompts.c owns the prompts and request bodies
 * (load_prompts_ru.c the built-in second set that --shift-at switches to),
 * load_run.c drives libcurl's multi interface, load_answer.c judges an answer's text the way a
 * user rating it would, load_report.c aggregates results and prints the progress line and the
 * summary; load.c ties them together. load_recs.c and load_recs_user.c are the --recs mode:
 * users who ask a recommender for slates and interact with them (recs_model.h).
 * Invariant: nothing here touches the network except load_run.c. */
#ifndef SLUICE_SIM_LOAD_H
#define SLUICE_SIM_LOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sim/latency.h"
#include "sluice/core.h"

struct json_tokener;

#define SL_LOAD_MAX_HEADERS     64
#define SL_LOAD_VERSION_MAX     64        /* bytes of x-sluice-version kept, NUL included */
#define SL_LOAD_PROMPT_LINE_MAX (1 << 20) /* a --prompts line may not exceed 1 MiB */
#define SL_LOAD_SAMPLE_CAP      10000000u /* latency samples stored, all groups together */

enum sl_load_endpoint { SL_LOAD_CHAT, SL_LOAD_COMPLETIONS, SL_LOAD_EMBEDDINGS };

struct sl_load_opts {
	const char *target;      /* as given */
	char url[1100];          /* the full request URL, endpoint path included */
	char feedback_url[1100]; /* <target>/v1/feedback */
	char host[256];          /* host part of the target, without brackets */
	const char *model;
	const char *prompts_path;       /* NULL: the built-in prompts */
	const char *shift_prompts_path; /* NULL: the built-in second set (load_prompts_ru.c) */
	const char *headers[SL_LOAD_MAX_HEADERS];
	size_t nheaders;
	uint64_t users, requests, concurrency, max_tokens, seed; /* requests 0 = no limit */
	double rate, duration_s, stream_share, timeout_s;        /* rate 0 = closed loop */
	double feedback, feedback_noise; /* share of good answers rated; share of labels flipped */
	double shift_at_s;               /* < 0: no prompt-mix shift; else < duration_s */
	enum sl_load_endpoint endpoint;
	bool json, quiet, allow_remote, help;
	bool recs;                 /* --recs: slates from a recommender, then /v1/recs and /v1/events */
	uint64_t catalog, slate;   /* --catalog, --slate: what the load expects (checked on every slate) */
	char recs_url[1100];       /* <target>/v1/recs */
	char events_url[1100];     /* <target>/v1/events */
};

/* load_opts.c. Returns 0, or SL_EINVAL after printing why to stderr. */
int sl_load_opts_parse(struct sl_load_opts *o, int argc, char **argv);
void sl_load_usage(void);
const char *sl_load_endpoint_name(enum sl_load_endpoint e);
/* True when host is 127.0.0.0/8, ::1 or localhost. */
bool sl_load_host_is_loopback(const char *host);

/* load_prompts.c. A prompt keeps the two JSON fragments a request body needs. */
struct sl_load_prompt {
	char *messages; /* JSON array of chat messages */
	char *text;     /* JSON string literal: the prompt, or the messages' text joined */
	size_t messages_len, text_len;
};

struct sl_load_prompts {
	struct sl_load_prompt *v;
	size_t n, cap;
};

void sl_load_prompts_init(struct sl_load_prompts *ps);
void sl_load_prompts_release(struct sl_load_prompts *ps);
int sl_load_prompts_builtin(struct sl_load_prompts *ps);
/* The built-in second set (load_prompts_ru.c): long prompts in Russian. */
int sl_load_prompts_builtin_shift(struct sl_load_prompts *ps);
/* Appends one prompt per plain text (copied). */
int sl_load_prompts_add_texts(struct sl_load_prompts *ps, const char *const *texts, size_t n);
/* Reads a JSONL file; reports every bad line as "PATH:LINE: why" on stderr.
 * SL_EPARSE when a line was bad or none was usable, SL_EIO when the file cannot be read. */
int sl_load_prompts_read(struct sl_load_prompts *ps, const char *path);
/* Parses one JSONL line (no line break) into p. On SL_EPARSE, why[] says what is wrong. */
int sl_load_prompt_parse(struct sl_load_prompt *p, const char *line, size_t len, char *why, size_t whycap);
void sl_load_prompt_release(struct sl_load_prompt *p);

/* The parts of a request body shared by every request, built once. */
struct sl_load_body_tmpl {
	struct sl_buf head; /* {"model":...,"max_tokens":N, */
	enum sl_load_endpoint endpoint;
};
int sl_load_body_tmpl_init(struct sl_load_body_tmpl *t, const struct sl_load_opts *o);
void sl_load_body_tmpl_release(struct sl_load_body_tmpl *t);
/* Writes the body of one request into b (reset first). */
int sl_load_body(struct sl_buf *b, const struct sl_load_body_tmpl *t, const struct sl_load_prompt *p, uint64_t user,
                 bool stream);

/* load_answer.c: reads an answer body (JSON, or SSE for a stream) as it arrives and keeps
 * the first bytes of the answer's text: choices[0].message.content, .delta.content (deltas
 * joined) or .text. Bodies past SL_LOAD_JUDGE_MAX (a line of it, for streams) are not read. */
#define SL_LOAD_JUDGE_MAX  (64 * 1024)
#define SL_LOAD_BAD_MARKER "Sorry, I am not sure" /* how a bad answer of `sluice sim` starts */

struct sl_load_judge {
	struct sl_buf buf; /* the body so far, or for a stream the current line */
	char text[32];     /* the answer text's first bytes, NUL-terminated */
	size_t text_len;
	bool stream, skip_line, overflow;
};

void sl_load_judge_init(struct sl_load_judge *j);
void sl_load_judge_release(struct sl_load_judge *j);
/* Starts a new body; keeps the buffer's memory. */
void sl_load_judge_reset(struct sl_load_judge *j, bool stream);
void sl_load_judge_feed(struct sl_load_judge *j, struct json_tokener *tok, const char *p, size_t n);
/* Ends the body. True when the answer's text starts with SL_LOAD_BAD_MARKER. */
bool sl_load_judge_bad(struct sl_load_judge *j, struct json_tokener *tok);

/* Transport error classes; a request that failed this way without a status has status 0. */
#define SL_LOAD_ERRCLASSES(X)                                                                                          \
	X(NONE, "none")                                                                                                \
	X(CONNECT, "connect")                                                                                          \
	X(TIMEOUT, "timeout")                                                                                          \
	X(RESOLVE, "resolve")                                                                                          \
	X(EMPTY, "empty_reply")                                                                                        \
	X(RESET, "reset")                                                                                              \
	X(PARTIAL, "partial")                                                                                          \
	X(OTHER, "other")
#define SL_LOAD_ERRCLASS_ENUM_(name, str) SL_LOAD_ERR_##name,
enum sl_load_errclass { SL_LOAD_ERRCLASSES(SL_LOAD_ERRCLASS_ENUM_) SL_LOAD_ERR_COUNT_ };
#undef SL_LOAD_ERRCLASS_ENUM_

/* What one finished request tells; borrowed by the recorder for the duration of a call. */
struct sl_load_result {
	const char *version; /* x-sluice-version, or "-" */
	long status;         /* HTTP status, 0 when none arrived */
	enum sl_load_errclass errclass;
	uint64_t latency_ns;
	uint64_t ttft_ns; /* streams only; 0 when no body byte arrived */
	uint64_t user;    /* the simulated user, for steps after the answer */
	bool stream, stream_done, stream_error;
	bool sim_bad; /* the answer carried x-sim-answer: bad */
};

/* Feedback posted after answers, counted against the answer's (version, status) group. */
struct sl_load_fb_counts {
	uint64_t posted, up, down, failed, skipped; /* up and down: recorded by the server (2xx) */
};

enum sl_load_fb_event {
	SL_LOAD_FB_SKIPPED, /* rated, but the answer had no x-sluice-request-id */
	SL_LOAD_FB_POSTED,
	SL_LOAD_FB_UP,
	SL_LOAD_FB_DOWN,
	SL_LOAD_FB_FAILED,
};

#define SL_LOAD_FB_STATUS_MAX 16 /* distinct statuses of failed feedback kept; more land in -1 */

/* load_report.c: results grouped by (version, status). */
struct sl_load_group {
	char version[SL_LOAD_VERSION_MAX];
	long status;
	uint64_t count, streams, incomplete, stream_errors;
	uint64_t answers, bad; /* successful answers; those marked x-sim-answer: bad */
	struct sl_load_fb_counts fb;
	struct sl_latency latency, ttft;
};

struct sl_load_stats {
	struct sl_load_group *g;
	size_t n, cap;
	uint64_t sent, done, errors, responses, late;
	uint64_t transport[SL_LOAD_ERR_COUNT_];
	uint64_t samples, samples_dropped;
	uint64_t t_start_ns, t_end_ns;
	char first_error[256];       /* libcurl's message for the first transport error */
	struct sl_load_fb_counts fb; /* all groups together */
	struct {
		long status; /* 0: no HTTP response; -1: any status past the first SL_LOAD_FB_STATUS_MAX */
		uint64_t count;
	} fb_failed[SL_LOAD_FB_STATUS_MAX];
	size_t nfb_failed;
	uint64_t shift_before, shift_after; /* requests sent with the first prompt set, the second */
};

void sl_load_stats_init(struct sl_load_stats *s);
void sl_load_stats_release(struct sl_load_stats *s);
int sl_load_stats_record(struct sl_load_stats *s, const struct sl_load_result *r);
/* A request that did not succeed: no status, status >= 400, or a stream that failed. */
bool sl_load_result_failed(const struct sl_load_result *r);
/* A 2xx answer, complete and without an error event when streamed: one a user may rate. */
bool sl_load_result_answered(const struct sl_load_result *r);
/* Counts one feedback event of the answer recorded as (version, status); fb_status is the
 * feedback request's own status (0 when none arrived), read for SL_LOAD_FB_FAILED only. */
int sl_load_stats_feedback(struct sl_load_stats *s, const char *version, long status, enum sl_load_fb_event ev,
                           long fb_status);

/* The progress line on stderr: rewritten in place each second on a terminal, a new line
 * every 2 s otherwise. */
struct sl_load_progress {
	bool enabled, tty, dirty;
	uint64_t every_ns, next_ns, last_ns, last_done;
};
void sl_load_progress_init(struct sl_load_progress *p, bool quiet, uint64_t now_ns);
/* Prints a line when one is due; next_ns says when the next one will be. */
void sl_load_progress_tick(struct sl_load_progress *p, const struct sl_load_stats *s, uint64_t inflight,
                           uint64_t now_ns);
/* Ends an in-place line so that what follows starts on a fresh one. */
void sl_load_progress_end(struct sl_load_progress *p);
int sl_load_print_table(struct sl_load_stats *s, const struct sl_load_opts *o);
int sl_load_print_json(struct sl_load_stats *s, const struct sl_load_opts *o);

/* load_run.c: runs the load until --duration, --requests or an interrupt. 0, or a negative
 * SL_E* code when the run could not start. Results land in stats. shifted is the prompt set
 * of requests due from --shift-at on; NULL when o->shift_at_s < 0. */
int sl_load_run(const struct sl_load_opts *o, const struct sl_load_prompts *ps, const struct sl_load_prompts *shifted,
                struct sl_load_stats *stats);

/* load_recs.c: the --recs run; prints its summary and returns the exit status of sl_cmd_load. */
#define SL_LOAD_RECS_MAX_USERS 100000
int sl_load_recs_run(const struct sl_load_opts *o);

#endif
