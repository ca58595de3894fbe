/* load_opts.c: the command line of `sluice load`: defaults, parsing, the target URL and the
 * loopback rule (never leave the machine unless --allow-remote says so).
 * Invariant: after a successful parse every field is within its documented bounds. */
#include <arpa/inet.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "sim/load.h"

static const char *const endpoint_names[] = {"chat", "completions", "embeddings"};
static const char *const endpoint_paths[] = {"/chat/completions", "/completions", "/embeddings"};

void sl_load_usage(void)
{
	printf("usage: sluice load --target URL [options]\n"
	       "\n"
	       "Drives simulated users against an OpenAI-compatible server or the sluice gateway and\n"
	       "prints latency and the split between model versions (header x-sluice-version).\n"
	       "\n"
	       "  --target URL          base URL, e.g. http://127.0.0.1:8080 (or .../v1)\n"
	       "  --model NAME          model field of every request (default chat)\n"
	       "  --endpoint E          chat, completions or embeddings (default chat)\n"
	       "  --users N             simulated users user-0..user-(N-1) (default 1000)\n"
	       "  --rate R              requests per second, Poisson arrivals (default 50;\n"
	       "                        0 = closed loop, as fast as --concurrency allows)\n"
	       "  --duration SECONDS    how long to send (default 10, max 3600)\n"
	       "  --requests N          stop after N requests (whichever comes first)\n"
	       "  --concurrency N       most requests in flight (default 64, max 4096)\n"
	       "  --stream-share P      share of requests with \"stream\": true (default 0.3;\n"
	       "                        embeddings never stream)\n"
	       "  --max-tokens N        max_tokens of every request (default 32)\n"
	       "  --prompts FILE        JSONL, each line with \"prompt\" (string) or \"messages\" (array)\n"
	       "  --shift-at SECONDS    shift the prompt mix this long into the run (default off; must\n"
	       "                        be < --duration): requests due from then on use the second\n"
	       "                        prompt set, as a drift demo. With --rate > 0 a request's\n"
	       "                        scheduled arrival decides, so the split follows --seed alone\n"
	       "  --shift-prompts FILE  the second set, JSONL like --prompts (default: 32 built-in\n"
	       "                        prompts in Russian, about five times longer than the English)\n"
	       "  --header 'N: v'       extra request header (repeatable)\n"
	       "  --timeout SECONDS     per-request timeout (default 30)\n"
	       "  --feedback P          share of answers the users rate (default 0, off): after a\n"
	       "                        2xx answer (a complete stream), POST /v1/feedback with its\n"
	       "                        x-sluice-request-id: thumbs_down when the answer was bad\n"
	       "                        (x-sim-answer: bad, or without that header its text starts\n"
	       "                        \"Sorry, I am not sure\"), thumbs_up otherwise. Ratings share\n"
	       "                        --concurrency with requests and are not in the latency table;\n"
	       "                        answers without x-sluice-request-id (no gateway) are skipped\n"
	       "  --feedback-noise Q    share of ratings flipped, as real users err (default 0.05)\n"
	       "  --seed N              random seed (default 1; also picks the rated answers)\n"
	       "  --recs                recommendation mode: each request asks model 'recommender'\n"
	       "                        (default of --model here) for a slate for its user, posts it\n"
	       "                        to /v1/recs with the answer's x-sluice-request-id, and the\n"
	       "                        user's impressions, clicks, watches, skips, likes, dislikes\n"
	       "                        and not_interested to /v1/events (404 there: not counted).\n"
	       "                        Users are worked by --concurrency threads (at most 64), one\n"
	       "                        chain of requests at a time each; --rate paces slates\n"
	       "  --catalog N           items the simulated recommender knows (default 1000)\n"
	       "  --slate N             items expected per slate (default 10, at most 64)\n"
	       "  --json                print the summary as one JSON object\n"
	       "  --quiet               no progress line\n"
	       "  --allow-remote        allow a target that is not loopback\n"
	       "\n"
	       "Only loopback targets are allowed without --allow-remote; proxies are never used.\n"
	       "Ctrl-C stops sending and waits for the answers in flight; a second one abandons them.\n"
	       "\n"
	       "exit status: 0 the run completed (HTTP errors are data), 1 no HTTP response at all,\n"
	       "2 bad options or prompts, 130 requests abandoned by a second Ctrl-C\n");
}

const char *sl_load_endpoint_name(enum sl_load_endpoint e)
{
	return endpoint_names[e];
}

static void defaults(struct sl_load_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->users = 1000;
	o->rate = 50;
	o->duration_s = 10;
	o->concurrency = 64;
	o->stream_share = 0.3;
	o->max_tokens = 32;
	o->seed = 1;
	o->timeout_s = 30;
	o->feedback_noise = 0.05;
	o->shift_at_s = -1;
	o->catalog = 1000;
	o->slate = 10;
}

bool sl_load_host_is_loopback(const char *host)
{
	unsigned char a[16];
	if (strcasecmp(host, "localhost") == 0)
		return true;
	if (inet_pton(AF_INET, host, a) == 1)
		return a[0] == 127;
	if (inet_pton(AF_INET6, host, a) == 1)
		return memcmp(a, in6addr_loopback.s6_addr, 16) == 0;
	return false;
}

/* "http://[v6]:port/base": sl_parse_url splits at the first ':', so brackets are ours. */
static int split_target(const char *s, char *host, size_t hostcap, char *rest, size_t restcap)
{
	static const char scheme[] = "http://";
	const char *h = s + sizeof(scheme) - 1;
	const char *close = strchr(h, ']');
	size_t n = close ? (size_t)(close - h - 1) : 0;
	if (n == 0 || n >= hostcap)
		return SL_EINVAL;
	memcpy(host, h + 1, n);
	host[n] = '\0';
	unsigned char a[16];
	if (inet_pton(AF_INET6, host, a) != 1)
		return SL_EINVAL;
	/* Re-parse the rest with a placeholder host so ports and paths follow one set of rules. */
	int w = snprintf(rest, restcap, "http://v6%s", close + 1);
	return w < 0 || (size_t)w >= restcap ? SL_EINVAL : 0;
}

/* http://HOST:PORT/BASE/v1 + path into out. */
static int join_url(char *out, size_t cap, const struct sl_load_opts *o, const struct sl_url *u, bool v6,
                    const char *path)
{
	size_t blen = strlen(u->base);
	bool has_v1 = blen >= 3 && strcmp(u->base + blen - 3, "/v1") == 0;
	int w = snprintf(out, cap, "http://%s%s%s:%u%s%s%s", v6 ? "[" : "", o->host, v6 ? "]" : "", (unsigned)u->port,
	                 u->base, has_v1 ? "" : "/v1", path);
	return w < 0 || (size_t)w >= cap ? SL_EINVAL : 0;
}

static int build_url(struct sl_load_opts *o)
{
	struct sl_url u;
	char tmp[1100];
	const char *s = o->target;
	bool v6 = strncmp(s, "http://[", 8) == 0;
	if (v6 && split_target(s, o->host, sizeof(o->host), tmp, sizeof(tmp)))
		return SL_EINVAL;
	if (sl_parse_url(v6 ? tmp : s, &u))
		return SL_EINVAL;
	if (!v6)
		snprintf(o->host, sizeof(o->host), "%s", u.host);
	if (join_url(o->url, sizeof(o->url), o, &u, v6, endpoint_paths[o->endpoint]) ||
	    join_url(o->recs_url, sizeof(o->recs_url), o, &u, v6, "/recs") ||
	    join_url(o->events_url, sizeof(o->events_url), o, &u, v6, "/events"))
		return SL_EINVAL;
	return join_url(o->feedback_url, sizeof(o->feedback_url), o, &u, v6, "/feedback");
}

static int bad(const char *opt, const char *val, const char *why)
{
	fprintf(stderr, "sluice load: %s '%s': %s\n", opt, val ? val : "", why);
	return SL_EINVAL;
}

static int parse_u64_opt(const char *opt, const char *v, uint64_t lo, uint64_t hi, uint64_t *out)
{
	char why[96];
	if (sl_parse_u64(v, hi, out) == 0 && *out >= lo)
		return 0;
	snprintf(why, sizeof(why), "expected a whole number from %llu to %llu", (unsigned long long)lo,
	         (unsigned long long)hi);
	return bad(opt, v, why);
}

static int parse_double_opt(const char *opt, const char *v, double lo, double hi, bool lo_open, double *out)
{
	char why[96];
	double d;
	if (sl_parse_double(v, &d) == 0 && d <= hi && (lo_open ? d > lo : d >= lo)) {
		*out = d;
		return 0;
	}
	snprintf(why, sizeof(why), "expected a number %s %.10g and <= %.10g", lo_open ? ">" : ">=", lo, hi);
	return bad(opt, v, why);
}

static int parse_header(struct sl_load_opts *o, const char *v)
{
	const char *colon = strchr(v, ':');
	if (!colon || colon == v || strpbrk(v, "\r\n") || memchr(v, ' ', (size_t)(colon - v)))
		return bad("--header", v, "expected 'Name: value'");
	if (o->nheaders == SL_LOAD_MAX_HEADERS)
		return bad("--header", v, "too many headers (at most 64)");
	o->headers[o->nheaders++] = v;
	return 0;
}

static int parse_endpoint(struct sl_load_opts *o, const char *v)
{
	for (size_t i = 0; i < sizeof(endpoint_names) / sizeof(endpoint_names[0]); i++)
		if (strcmp(v, endpoint_names[i]) == 0) {
			o->endpoint = (enum sl_load_endpoint)i;
			return 0;
		}
	return bad("--endpoint", v, "expected chat, completions or embeddings");
}

/* The options: where each lands in struct sl_load_opts and its bounds. */
enum opt_type { OPT_FLAG, OPT_STR, OPT_U64, OPT_DOUBLE, OPT_HEADER, OPT_ENDPOINT };

struct opt {
	const char *name;
	enum opt_type type;
	size_t off;
	uint64_t ulo, uhi;
	double dlo, dhi;
	bool lo_open; /* doubles: the lower bound is excluded */
};

#define F(field) offsetof(struct sl_load_opts, field)
#define STR(n, f)                                                                                                      \
	{                                                                                                              \
		.name = n, .type = OPT_STR, .off = F(f)                                                                \
	}
#define FLAG(n, f)                                                                                                     \
	{                                                                                                              \
		.name = n, .type = OPT_FLAG, .off = F(f)                                                               \
	}
#define U64(n, f, lo, hi)                                                                                              \
	{                                                                                                              \
		.name = n, .type = OPT_U64, .off = F(f), .ulo = lo, .uhi = hi                                          \
	}
#define DBL(n, f, lo, hi, open)                                                                                        \
	{                                                                                                              \
		.name = n, .type = OPT_DOUBLE, .off = F(f), .dlo = lo, .dhi = hi, .lo_open = open                      \
	}
static const struct opt opts[] = {
    STR("--target", target),
    STR("--model", model),
    STR("--prompts", prompts_path),
    STR("--shift-prompts", shift_prompts_path),
    U64("--users", users, 1, 100000000),
    U64("--requests", requests, 1, 1000000000000ull),
    U64("--concurrency", concurrency, 1, 4096),
    U64("--max-tokens", max_tokens, 1, 1000000),
    U64("--seed", seed, 0, UINT64_MAX),
    U64("--catalog", catalog, 10, 10000000),
    U64("--slate", slate, 1, 64),
    DBL("--rate", rate, 0, 1e6, false),
    DBL("--duration", duration_s, 0, 3600, true),
    DBL("--timeout", timeout_s, 0, 3600, true),
    DBL("--stream-share", stream_share, 0, 1, false),
    DBL("--feedback", feedback, 0, 1, false),
    DBL("--feedback-noise", feedback_noise, 0, 1, false),
    DBL("--shift-at", shift_at_s, 0, 3600, false),
    {.name = "--header", .type = OPT_HEADER},
    {.name = "--endpoint", .type = OPT_ENDPOINT},
    FLAG("--json", json),
    FLAG("--quiet", quiet),
    FLAG("--allow-remote", allow_remote),
    FLAG("--recs", recs),
    FLAG("--help", help),
    FLAG("-h", help),
};
#undef DBL
#undef U64
#undef FLAG
#undef STR
#undef F

static const struct opt *find_opt(const char *name, size_t n)
{
	for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++)
		if (strlen(opts[i].name) == n && strncmp(name, opts[i].name, n) == 0)
			return &opts[i];
	return NULL;
}

static int set_value(struct sl_load_opts *o, const struct opt *d, const char *v)
{
	void *field = (char *)o + d->off;
	switch (d->type) {
	case OPT_STR:
		if (!*v)
			return bad(d->name, v, "must not be empty");
		*(const char **)field = v;
		return 0;
	case OPT_U64:
		return parse_u64_opt(d->name, v, d->ulo, d->uhi, field);
	case OPT_DOUBLE:
		return parse_double_opt(d->name, v, d->dlo, d->dhi, d->lo_open, field);
	case OPT_HEADER:
		return parse_header(o, v);
	case OPT_ENDPOINT:
		return parse_endpoint(o, v);
	case OPT_FLAG:
		break;
	}
	return bad(d->name, v, "takes no value");
}

/* One argv entry at *i: "--flag", "--key value" or "--key=value". */
static int parse_one(struct sl_load_opts *o, int argc, char **argv, int *i)
{
	const char *a = argv[*i], *eq = strchr(a, '=');
	if (a[0] != '-')
		return bad("unexpected argument", a, "options start with --");
	const struct opt *d = find_opt(a, eq ? (size_t)(eq - a) : strlen(a));
	if (!d)
		return bad("unknown option", a, "see sluice load --help");
	if (eq)
		return set_value(o, d, eq + 1);
	if (d->type == OPT_FLAG) {
		*(bool *)((char *)o + d->off) = true;
		return 0;
	}
	if (*i + 1 >= argc) {
		fprintf(stderr, "sluice load: %s needs a value\n", a);
		return SL_EINVAL;
	}
	*i += 1;
	return set_value(o, d, argv[*i]);
}

static int check_shift(const struct sl_load_opts *o)
{
	char v[32], why[80];
	if (o->shift_prompts_path && o->shift_at_s < 0) {
		fprintf(stderr, "sluice load: --shift-prompts needs --shift-at SECONDS\n");
		return SL_EINVAL;
	}
	if (o->shift_at_s < 0 || o->shift_at_s < o->duration_s)
		return 0;
	snprintf(v, sizeof(v), "%g", o->shift_at_s);
	snprintf(why, sizeof(why), "must be less than --duration (%g)", o->duration_s);
	return bad("--shift-at", v, why);
}

static int check_target(struct sl_load_opts *o)
{
	if (!o->target) {
		fprintf(stderr, "sluice load: --target URL is required (e.g. http://127.0.0.1:8080)\n");
		return SL_EINVAL;
	}
	if (build_url(o))
		return bad("--target", o->target, "expected http://HOST[:PORT][/PATH]");
	if (!o->allow_remote && !sl_load_host_is_loopback(o->host))
		return bad("--target", o->target, "not a loopback address; pass --allow-remote to send load elsewhere");
	return 0;
}

int sl_load_opts_parse(struct sl_load_opts *o, int argc, char **argv)
{
	defaults(o);
	for (int i = 1; i < argc; i++) {
		int rc = parse_one(o, argc, argv, &i);
		if (rc)
			return rc;
	}
	if (o->help)
		return 0;
	if (!o->model)
		o->model = o->recs ? "recommender" : "chat";
	if (o->recs && (o->endpoint != SL_LOAD_CHAT || o->users > SL_LOAD_RECS_MAX_USERS)) {
		fprintf(stderr, "sluice load: --recs needs --endpoint chat and at most %u --users\n",
		        SL_LOAD_RECS_MAX_USERS);
		return SL_EINVAL;
	}
	if (o->endpoint == SL_LOAD_EMBEDDINGS)
		o->stream_share = 0;
	if (o->endpoint == SL_LOAD_EMBEDDINGS && o->feedback > 0) {
		fprintf(stderr, "sluice load: --feedback: embeddings have no answer to rate; use --endpoint chat or "
		                "completions\n");
		return SL_EINVAL;
	}
	int rc = check_shift(o);
	return rc ? rc : check_target(o);
}
