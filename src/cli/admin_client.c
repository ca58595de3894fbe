/* admin_client.c: the command line, the loopback rule and the HTTP call shared by the CLI
 * commands that talk to the admin API (`sluice rollout ...`, `sluice status`).
 * Invariants: a request goes only to a loopback host unless --allow-remote; proxies from the
 * environment are ignored; the answer is capped at SL_ADMIN_REPLY_MAX bytes; connect and total
 * timeouts always apply; each failure is printed once, here, in the house's message style;
 * text from the server is cleaned of control bytes before it reaches the terminal. */
#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <json-c/json.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/admin_client.h"
#include "cli/table.h"
#include "sim/load.h" /* sl_load_host_is_loopback: one loopback rule for every client */

#define TOKEN_MAX 8192

void sl_admin_err(const struct sl_admin *a, const char *fmt, ...)
{
	char msg[1024], clean[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	sl_cli_clean(clean, sizeof(clean), msg);
	fprintf(stderr, "sluice: %s: %s\n", a->cmd, clean);
}

/* ---- command line ---- */

static const struct sl_cli_opt *find_opt(const struct sl_cli_opt *v, size_t n, const char *name, size_t len)
{
	for (size_t i = 0; v && i < n; i++)
		if (strlen(v[i].name) == len && strncmp(v[i].name, name, len) == 0)
			return &v[i];
	return NULL;
}

/* argv[*i] is an option: finds it among the command's own, then the common ones. */
static int take_opt(struct sl_admin *a, const struct sl_cli_opt *extra, size_t nextra, int argc, char **argv, int *i)
{
	const struct sl_cli_opt common[] = {
	    {"--admin", SL_OPT_VALUE, &a->url}, {"--token-env", SL_OPT_VALUE, &a->token_env},
	    {"--json", SL_OPT_FLAG, &a->json},  {"--allow-remote", SL_OPT_FLAG, &a->allow_remote},
	    {"--help", SL_OPT_FLAG, &a->help},  {"-h", SL_OPT_FLAG, &a->help},
	};
	const char *arg = argv[*i], *eq = strchr(arg, '=');
	size_t len = eq ? (size_t)(eq - arg) : strlen(arg);
	const struct sl_cli_opt *o = find_opt(extra, nextra, arg, len);
	if (!o)
		o = find_opt(common, sizeof(common) / sizeof(common[0]), arg, len);
	if (!o) {
		sl_admin_err(a, "unknown option '%.*s' (see sluice %s --help)", (int)len, arg, a->cmd);
		return -1;
	}
	if (o->type == SL_OPT_FLAG) {
		if (eq) {
			sl_admin_err(a, "%s takes no value", o->name);
			return -1;
		}
		*(bool *)o->dst = true;
		return 0;
	}
	const char *v = eq ? eq + 1 : *i + 1 < argc ? argv[++*i] : NULL;
	if (!v || !*v) {
		sl_admin_err(a, "%s needs a value", o->name);
		return -1;
	}
	*(const char **)o->dst = v;
	a->token_given |= o->dst == (void *)&a->token_env;
	return 0;
}

int sl_admin_parse(struct sl_admin *a, const char *cmd, const struct sl_cli_opt *extra, size_t nextra, int argc,
                   char **argv, char **pos, int maxpos)
{
	int npos = 0;
	bool options = true;
	memset(a, 0, sizeof(*a));
	a->cmd = cmd;
	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i];
		if (options && strcmp(arg, "--") == 0)
			options = false;
		else if (options && arg[0] == '-' && arg[1]) {
			if (take_opt(a, extra, nextra, argc, argv, &i))
				return -1;
		} else if (npos < maxpos)
			pos[npos++] = argv[i];
		else {
			sl_admin_err(a, "unexpected argument '%s' (see sluice %s --help)", arg, cmd);
			return -1;
		}
	}
	return npos;
}

/* ---- URL, loopback rule, token ---- */

/* Splits the URL with the core parser (https is read as http: only the host matters here). */
static int url_host(const char *url, char *host, size_t cap)
{
	char tmp[SL_ADMIN_URL_MAX + 8];
	struct sl_url u;
	bool tls = strncmp(url, "https://", 8) == 0;
	snprintf(tmp, sizeof(tmp), "http://%s", url + (tls ? 8 : 7));
	if ((!tls && strncmp(url, "http://", 7) != 0) || sl_parse_url(tmp, &u) || !u.host[0])
		return SL_EINVAL;
	size_t n = strlen(u.host);
	bool v6 = u.host[0] == '[';
	snprintf(host, cap, "%.*s", (int)(v6 ? n - 2 : n), u.host + v6);
	return 0;
}

static int check_url(struct sl_admin *a)
{
	char host[256];
	const char *src = a->url ? "--admin" : "SLUICE_ADMIN";
	if (!a->url)
		a->url =
		    getenv("SLUICE_ADMIN") && *getenv("SLUICE_ADMIN") ? getenv("SLUICE_ADMIN") : SL_ADMIN_DEFAULT_URL;
	size_t n = strlen(a->url);
	while (n > 0 && a->url[n - 1] == '/')
		n--;
	if (n >= sizeof(a->base) || url_host(a->url, host, sizeof(host))) {
		sl_admin_err(a, "%s '%s': expected http://HOST[:PORT][/PATH]", src, a->url);
		return -1;
	}
	memcpy(a->base, a->url, n);
	a->base[n] = '\0';
	if (!a->allow_remote && !sl_load_host_is_loopback(host)) {
		sl_admin_err(a, "%s '%s': not a loopback address; pass --allow-remote to reach another machine", src,
		             a->url);
		return -1;
	}
	return 0;
}

static int add_header(struct sl_admin *a, const char *h)
{
	struct curl_slist *l = curl_slist_append(a->headers, h);
	if (!l) {
		sl_admin_err(a, "%s", sl_strerror(SL_ENOMEM));
		return -1;
	}
	a->headers = l;
	return 0;
}

static int read_token(struct sl_admin *a)
{
	char h[TOKEN_MAX + 32];
	if (!a->token_given)
		a->token_env = getenv(SL_ADMIN_TOKEN_ENV) && *getenv(SL_ADMIN_TOKEN_ENV) ? SL_ADMIN_TOKEN_ENV : NULL;
	if (!a->token_env)
		return 0;
	const char *tok = getenv(a->token_env);
	if (!tok || !*tok) {
		sl_admin_err(a, "--token-env %s: the variable is not set", a->token_env);
		return -1;
	}
	for (const char *p = tok; *p; p++)
		if ((unsigned char)*p < 0x21 || *p == 0x7f) {
			sl_admin_err(a, "the token in %s contains spaces or control characters", a->token_env);
			return -1;
		}
	if (strlen(tok) > TOKEN_MAX) {
		sl_admin_err(a, "the token in %s is longer than %d bytes", a->token_env, TOKEN_MAX);
		return -1;
	}
	snprintf(h, sizeof(h), "Authorization: Bearer %s", tok);
	return add_header(a, h);
}

int sl_admin_open(struct sl_admin *a)
{
	if (check_url(a) || read_token(a) || add_header(a, "Content-Type: application/json") ||
	    add_header(a, "Accept: application/json"))
		return -1;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		sl_admin_err(a, "cannot initialise libcurl");
		return -1;
	}
	a->curl_ready = true;
	return 0;
}

void sl_admin_close(struct sl_admin *a)
{
	curl_slist_free_all(a->headers);
	a->headers = NULL;
	if (a->curl_ready)
		curl_global_cleanup();
	a->curl_ready = false;
}

/* ---- the call ---- */

void sl_admin_reply_init(struct sl_admin_reply *r)
{
	r->status = 0;
	r->doc = NULL;
	sl_buf_init(&r->body, SL_ADMIN_REPLY_MAX);
}

void sl_admin_reply_release(struct sl_admin_reply *r)
{
	json_object_put(r->doc);
	r->doc = NULL;
	sl_buf_release(&r->body);
}

struct sink {
	struct sl_buf *b;
	bool too_big;
};

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
	struct sink *s = arg;
	int rc = sl_buf_append(s->b, p, size * n);
	s->too_big |= rc == SL_ETOOBIG;
	return rc ? 0 : size * n;
}

/* Messages of libc and libcurl in the house style: lower case, no closing period. */
static void house_style(char *s, bool all)
{
	for (char *p = s; *p && (all || p == s); p++)
		*p = (char)tolower((unsigned char)*p);
	size_t n = strlen(s);
	while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '.'))
		s[--n] = '\0';
}

static int transport_err(const struct sl_admin *a, CURL *e, CURLcode rc, const char *errbuf)
{
	char why[CURL_ERROR_SIZE + 64];
	long oserr = 0;
	curl_off_t connected = 0;
	curl_easy_getinfo(e, CURLINFO_OS_ERRNO, &oserr);
	curl_easy_getinfo(e, CURLINFO_CONNECT_TIME_T, &connected);
	if (rc == CURLE_COULDNT_CONNECT && oserr == ECONNREFUSED)
		snprintf(why, sizeof(why), "connection refused (is sluice serve running?)");
	else if ((rc == CURLE_COULDNT_CONNECT || rc == CURLE_RECV_ERROR || rc == CURLE_SEND_ERROR) && oserr)
		snprintf(why, sizeof(why), "%s%s",
		         rc == CURLE_COULDNT_CONNECT ? "" : "the connection broke: ", strerror((int)oserr));
	else if (rc == CURLE_OPERATION_TIMEDOUT && connected == 0)
		snprintf(why, sizeof(why), "no connection within %ld s", SL_ADMIN_CONNECT_MS / 1000);
	else if (rc == CURLE_OPERATION_TIMEDOUT)
		snprintf(why, sizeof(why), "no complete answer within %ld s", SL_ADMIN_TIMEOUT_MS / 1000);
	else if (rc == CURLE_COULDNT_RESOLVE_HOST)
		snprintf(why, sizeof(why), "cannot resolve the host name");
	else if (rc == CURLE_GOT_NOTHING)
		snprintf(why, sizeof(why), "the connection closed without an answer (is this the admin port?)");
	else
		snprintf(why, sizeof(why), "%s", errbuf[0] ? errbuf : curl_easy_strerror(rc));
	house_style(why, oserr != 0);
	fprintf(stderr, "sluice: cannot reach the admin API at %s: %s\n", a->base, why);
	return rc == CURLE_OPERATION_TIMEDOUT ? SL_ETIMEOUT : SL_EIO;
}

static int setup(CURL *e, const struct sl_admin *a, const char *url, struct sink *s, char *errbuf)
{
	return curl_easy_setopt(e, CURLOPT_URL, url) || curl_easy_setopt(e, CURLOPT_PROXY, "") ||
	       curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https") || curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L) ||
	       curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, SL_ADMIN_CONNECT_MS) ||
	       curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, SL_ADMIN_TIMEOUT_MS) ||
	       curl_easy_setopt(e, CURLOPT_HTTPHEADER, a->headers) ||
	       curl_easy_setopt(e, CURLOPT_USERAGENT, "sluice-cli/0.1") ||
	       curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body) || curl_easy_setopt(e, CURLOPT_WRITEDATA, s) ||
	       curl_easy_setopt(e, CURLOPT_ERRORBUFFER, errbuf);
}

static int set_method(CURL *e, const char *method, const char *body, size_t len)
{
	if (strcmp(method, "GET") == 0)
		return curl_easy_setopt(e, CURLOPT_HTTPGET, 1L) != CURLE_OK;
	if (!body)
		body = "{}", len = 2;
	if (len > (size_t)LONG_MAX)
		return 1;
	return curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)len) ||
	       curl_easy_setopt(e, CURLOPT_COPYPOSTFIELDS, body) ||
	       (strcmp(method, "POST") != 0 && curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method));
}

struct json_object *sl_cli_json_parse(const char *s, size_t n)
{
	struct json_tokener *tok = json_tokener_new_ex(64);
	struct json_object *o = NULL;
	if (!tok || !s || n > INT_MAX)
		goto out;
	o = json_tokener_parse_ex(tok, s, (int)n);
	size_t off = tok->char_offset;
	if (o && json_tokener_get_error(tok) == json_tokener_success) {
		while (off < n && isspace((unsigned char)s[off]))
			off++;
		if (off == n)
			goto out;
	}
	json_object_put(o);
	o = NULL;
out:
	json_tokener_free(tok);
	return o;
}

/* The API's error: {"error":{"message":...}}, else the status and the start of the body. */
static int api_err(const struct sl_admin *a, const struct sl_admin_reply *r)
{
	struct json_object *doc = sl_cli_json_parse(r->body.data, r->body.len);
	const char *msg = sl_cli_jstr(sl_cli_jget(doc, "error"), "message");
	if (r->status == 401 && !a->token_env)
		fprintf(stderr, "sluice: the admin API wants a token: set %s or --token-env\n", SL_ADMIN_TOKEN_ENV);
	else if (r->status == 401)
		sl_admin_err(a, "the admin API refused the token in %s%s%s", a->token_env, msg ? ": " : "",
		             msg ? msg : "");
	else if (msg && *msg)
		sl_admin_err(a, "%s", msg);
	else if (r->body.len == 0)
		sl_admin_err(a, "the admin API answered HTTP %ld with an empty body", r->status);
	else
		sl_admin_err(a, "the admin API answered HTTP %ld: %.160s", r->status, r->body.data);
	json_object_put(doc);
	return r->status == 404 ? SL_ENOTFOUND : r->status == 409 ? SL_ESTATE : SL_EUPSTREAM;
}

static int finish(const struct sl_admin *a, struct sl_admin_reply *r)
{
	if (r->status < 200 || r->status > 299)
		return api_err(a, r);
	r->doc = sl_cli_json_parse(r->body.data, r->body.len);
	if (r->doc && json_object_is_type(r->doc, json_type_object))
		return 0;
	sl_admin_err(a, "the answer from %s is not a JSON object (is this the admin port?)", a->base);
	return SL_EPARSE;
}

int sl_admin_call(struct sl_admin *a, const char *method, const char *path, const char *body, struct sl_admin_reply *r)
{
	return sl_admin_call_body(a, method, path, body, body ? strlen(body) : 0, r);
}

int sl_admin_call_body(struct sl_admin *a, const char *method, const char *path, const char *body, size_t len,
                       struct sl_admin_reply *r)
{
	char url[SL_ADMIN_URL_MAX * 2], errbuf[CURL_ERROR_SIZE] = "";
	struct sink s = {&r->body, false};
	int rc = SL_ENOMEM;
	CURL *e = curl_easy_init();
	if (snprintf(url, sizeof(url), "%s%s", a->base, path) >= (int)sizeof(url))
		rc = SL_ETOOBIG;
	else if (e && !setup(e, a, url, &s, errbuf) && !set_method(e, method, body, len))
		rc = 0;
	if (rc) {
		sl_admin_err(a, "cannot prepare the request: %s", sl_strerror(rc));
		goto out;
	}
	CURLcode cc = curl_easy_perform(e);
	if (s.too_big) {
		sl_admin_err(a, "the answer from %s is larger than %u MiB", a->base, SL_ADMIN_REPLY_MAX >> 20);
		rc = SL_ETOOBIG;
	} else if (cc != CURLE_OK)
		rc = transport_err(a, e, cc, errbuf);
	else if (curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &r->status) == CURLE_OK)
		rc = finish(a, r);
	else
		rc = SL_EIO;
out:
	curl_easy_cleanup(e);
	return rc;
}

void sl_admin_print_raw(const struct sl_admin_reply *r)
{
	fwrite(r->body.data, 1, r->body.len, stdout);
	if (r->body.len == 0 || r->body.data[r->body.len - 1] != '\n')
		fputc('\n', stdout);
}

int sl_admin_escape(const char *s, char *dst, size_t cap)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		bool plain = isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~';
		if (o + (plain ? 1 : 3) >= cap)
			return SL_ETOOBIG;
		if (plain)
			dst[o++] = (char)c;
		else {
			dst[o++] = '%';
			dst[o++] = hex[c >> 4];
			dst[o++] = hex[c & 15];
		}
	}
	if (o >= cap)
		return SL_ETOOBIG;
	dst[o] = '\0';
	return 0;
}

/* ---- reading answers ---- */

struct json_object *sl_cli_jget(struct json_object *o, const char *key)
{
	struct json_object *v = NULL;
	if (!o || !json_object_is_type(o, json_type_object) || !json_object_object_get_ex(o, key, &v))
		return NULL;
	return json_object_is_type(v, json_type_null) ? NULL : v;
}

const char *sl_cli_jstr(struct json_object *o, const char *key)
{
	struct json_object *v = sl_cli_jget(o, key);
	return v && json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

double sl_cli_jnum(struct json_object *o, const char *key)
{
	struct json_object *v = sl_cli_jget(o, key);
	if (v && (json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double)))
		return json_object_get_double(v);
	return NAN;
}

bool sl_cli_jbool(struct json_object *o, const char *key)
{
	struct json_object *v = sl_cli_jget(o, key);
	return v && json_object_is_type(v, json_type_boolean) && json_object_get_boolean(v);
}

int sl_cli_parse_duration(const char *s, bool zero_ok, uint64_t *ms)
{
	static const struct {
		const char *unit;
		double ms;
	} units[] = {{"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000}};
	char num[32];
	size_t n = strcspn(s, "abcdefghijklmnopqrstuvwxyz");
	double v;
	if (zero_ok && strcmp(s, "0") == 0) {
		*ms = 0;
		return 0;
	}
	if (n == 0 || n >= sizeof(num))
		return SL_EINVAL;
	memcpy(num, s, n);
	num[n] = '\0';
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(s + n, units[i].unit) != 0 || sl_parse_double(num, &v) || !(v > 0))
			continue;
		double r = round(v * units[i].ms);
		if (r < 1 || r > 9007199254740992.0) /* 2^53: exact as a JSON number */
			return SL_EINVAL;
		*ms = (uint64_t)r;
		return 0;
	}
	return SL_EINVAL;
}
