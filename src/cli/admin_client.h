/* admin_client.h: what the CLI commands that talk to the admin API share: their command line
 * (--admin, --token-env, --json, --allow-remote, --help, plus a command's own options), the
 * loopback rule of `sluice load`, one bounded HTTP call, and error messages written for people.
 * Invariants: no request leaves the machine without --allow-remote; proxies from the
 * environment are never used; an answer is at most SL_ADMIN_REPLY_MAX bytes; every failure is
 * reported on stderr exactly once, by the function that met it. */
#ifndef SLUICE_CLI_ADMIN_CLIENT_H
#define SLUICE_CLI_ADMIN_CLIENT_H

#include <stdbool.h>
#include <stddef.h>

#include "sluice/core.h"

struct curl_slist;
struct json_object;

#define SL_ADMIN_DEFAULT_URL "http://127.0.0.1:9090"
#define SL_ADMIN_TOKEN_ENV   "SLUICE_ADMIN_TOKEN"
#define SL_ADMIN_REPLY_MAX   (16u << 20)
#define SL_ADMIN_CONNECT_MS  3000L
#define SL_ADMIN_TIMEOUT_MS  30000L
#define SL_ADMIN_URL_MAX     1024

/* A command's option: a flag sets *(bool *)dst, a value option stores its argument in
 * *(const char **)dst (borrowed from argv). */
enum sl_cli_opt_type { SL_OPT_FLAG, SL_OPT_VALUE };
struct sl_cli_opt {
	const char *name; /* "--steps" */
	enum sl_cli_opt_type type;
	void *dst;
};

struct sl_admin {
	const char *cmd;       /* "rollout", "status": names the command in messages */
	const char *url;       /* --admin, else $SLUICE_ADMIN, else the default */
	const char *token_env; /* --token-env, else SLUICE_ADMIN_TOKEN when set, else NULL */
	bool json, allow_remote, help;
	char base[SL_ADMIN_URL_MAX]; /* url without trailing '/' (after sl_admin_open) */
	struct curl_slist *headers;  /* Authorization and Content-Type (after sl_admin_open) */
	bool token_given;            /* --token-env was on the command line */
	bool curl_ready;
};

/* Parses argv[1..argc): the common options, the command's own (extra, may be NULL) anywhere,
 * "--opt value" or "--opt=value", "--" ends options; positionals land in pos[0..maxpos).
 * Returns the number of positionals, or -1 after printing the problem (exit status 2). */
int sl_admin_parse(struct sl_admin *a, const char *cmd, const struct sl_cli_opt *extra, size_t nextra, int argc,
                   char **argv, char **pos, int maxpos);
/* Checks the URL and the loopback rule, reads the token, sets up libcurl. 0, or -1 after
 * printing the problem (a usage error: exit status 2). Pair with sl_admin_close. */
int sl_admin_open(struct sl_admin *a);
void sl_admin_close(struct sl_admin *a);

struct sl_admin_reply {
	long status;             /* HTTP status, 0 when none arrived */
	struct sl_buf body;      /* the answer as received */
	struct json_object *doc; /* body parsed, a JSON object (2xx answers only) */
};
void sl_admin_reply_init(struct sl_admin_reply *r);
void sl_admin_reply_release(struct sl_admin_reply *r);

/* One call: method "GET" or "POST" (body NULL sends "{}"), path starting with "/api/".
 * 0 when the answer is 2xx and a JSON object; otherwise prints why (transport failure, the
 * API's error message, a refused token) and returns a negative SL_E* code (exit status 1). */
int sl_admin_call(struct sl_admin *a, const char *method, const char *path, const char *body, struct sl_admin_reply *r);
/* The same with any method ("PUT", "DELETE", ...) and a body of len bytes (NULL sends "{}"). */
int sl_admin_call_body(struct sl_admin *a, const char *method, const char *path, const char *body, size_t len,
                       struct sl_admin_reply *r);
/* Prints the raw answer (for --json) with a closing newline. */
void sl_admin_print_raw(const struct sl_admin_reply *r);
/* Percent-encodes s as one path segment or query value into dst[cap]; SL_ETOOBIG if it does
 * not fit. */
int sl_admin_escape(const char *s, char *dst, size_t cap);
/* "sluice: CMD: message" on stderr. */
void sl_admin_err(const struct sl_admin *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The whole of s[0..n) as one JSON value (trailing white space allowed), or NULL when it is not
 * JSON. The caller owns the result (json_object_put). */
struct json_object *sl_cli_json_parse(const char *s, size_t n);
/* Reading answers: NULL, NAN or false when the key is absent or of another type. */
struct json_object *sl_cli_jget(struct json_object *o, const char *key);
const char *sl_cli_jstr(struct json_object *o, const char *key);
double sl_cli_jnum(struct json_object *o, const char *key);
bool sl_cli_jbool(struct json_object *o, const char *key);
/* "500ms", "30s", "1.5m", "2h" -> milliseconds (at least 1, at most 2^53); "0" -> 0 when zero_ok. */
int sl_cli_parse_duration(const char *s, bool zero_ok, uint64_t *ms);

#endif
