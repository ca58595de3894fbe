/* rollout_cmd.c: `sluice rollout start|status|pause|resume|approve|promote|rollback|abort` and
 * `sluice status`, clients of the admin API (/api/v1/rollouts, /api/v1/status).
 * Invariants: exit status 0 success, 1 the API refused or could not be reached (its message is
 * printed), 2 usage; `start` sends only the spec fields the user gave (from --spec FILE, then
 * the flags over it) and leaves every default to the gateway, which validates the spec;
 * --json prints the API's answer unchanged. */
#include <ctype.h>
#include <errno.h>
#include <json-c/json.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/admin_client.h"
#include "cli/commands.h"
#include "cli/rollout_view.h"
#include "sluice/rollout.h"

#define SPEC_FILE_MAX (1u << 20)
#define PATH_MAX_     1200
#define ARG_MAX_      512 /* bytes of a MODEL or ID once percent-encoded */

static const char rollout_usage[] =
    "usage: sluice rollout COMMAND [ARGS] [OPTIONS]\n"
    "\n"
    "Canary rollouts through the gateway's admin API.\n"
    "\n"
    "  start MODEL CANDIDATE      start moving MODEL from its stable version to CANDIDATE\n"
    "    --stable VERSION         the stable version (default: the gateway picks the current one)\n"
    "    --steps 1,5,25,50,100    candidate share of each canary step, in percent\n"
    "    --interval 30s           time between judgments (units ms, s, m, h)\n"
    "    --min-requests N         candidate requests in a step before it is judged\n"
    "    --shadow 0.1             mirror this share of requests to the candidate first (0..1 or 10%)\n"
    "    --approve-at 50,100      wait for `sluice rollout approve` before entering these steps\n"
    "    --spec FILE.json         a whole rollout spec (JSON object); the flags above override it\n"
    "  status [MODEL|ID]          without argument: the rollouts, newest first;\n"
    "                             with one: that rollout, its latest evidence and events\n"
    "    --model MODEL            (list) only this model's rollouts\n"
    "    --limit N                (list) at most N rollouts\n"
    "  watch [MODEL|ID]           follow a rollout until it ends (--interval 1s, --timeout 10m);\n"
    "                             exit 0 promoted, 3 rolled back or aborted, 4 timeout\n"
    "  pause MODEL|ID             hold the weights where they are; no judging\n"
    "  resume MODEL|ID            continue a paused rollout\n"
    "  approve MODEL|ID           let a rollout waiting for approval enter its next step\n"
    "  promote MODEL|ID           send all traffic to the candidate now\n"
    "  rollback MODEL|ID          send all traffic back to the stable version now\n"
    "  abort MODEL|ID             stop the rollout and restore the stable version\n"
    "\n"
    "common options:\n"
    "  --admin URL                admin API (default $SLUICE_ADMIN, else " SL_ADMIN_DEFAULT_URL ")\n"
    "  --token-env NAME           environment variable holding the admin bearer token\n"
    "                             (default " SL_ADMIN_TOKEN_ENV " when it is set)\n"
    "  --json                     print the API's JSON answer as it came\n"
    "  --allow-remote             allow an admin URL that is not loopback\n"
    "  --help                     this text\n"
    "\n"
    "exit status: 0 done, 1 the admin API refused or could not be reached, 2 bad usage\n";

static const char status_usage[] =
    "usage: sluice status [OPTIONS]\n"
    "\n"
    "The gateway's models at a glance: versions, traffic weights, the rollout in progress and\n"
    "its latest verdict.\n"
    "\n"
    "  --admin URL                admin API (default $SLUICE_ADMIN, else " SL_ADMIN_DEFAULT_URL ")\n"
    "  --token-env NAME           environment variable holding the admin bearer token\n"
    "                             (default " SL_ADMIN_TOKEN_ENV " when it is set)\n"
    "  --json                     print the API's JSON answer as it came\n"
    "  --allow-remote             allow an admin URL that is not loopback\n"
    "  --help                     this text\n"
    "\n"
    "exit status: 0 done, 1 the admin API refused or could not be reached, 2 bad usage\n";

/* ---- calling and showing ---- */

enum view { VIEW_LIST, VIEW_DETAIL, VIEW_STARTED, VIEW_ACTED, VIEW_STATUS };

static int show(struct sl_admin *a, struct sl_admin_reply *r, enum view v)
{
	bool color = sl_cli_color(stdout);
	int rc = 0;
	if (a->json) {
		sl_admin_print_raw(r);
		return 0;
	}
	switch (v) {
	case VIEW_LIST:
		rc = sl_view_rollout_list(r->doc, color);
		break;
	case VIEW_DETAIL:
		rc = sl_view_rollout_detail(r->doc, color);
		break;
	case VIEW_STARTED:
		rc = sl_view_rollout_brief(r->doc, "started, now", color);
		break;
	case VIEW_ACTED:
		rc = sl_view_rollout_brief(r->doc, "is now", color);
		break;
	case VIEW_STATUS:
		rc = sl_view_status(r->doc, color);
		break;
	}
	if (rc == SL_EPARSE)
		sl_admin_err(a, "the answer does not have the expected shape (try --json)");
	else if (rc)
		sl_admin_err(a, "%s", sl_strerror(rc));
	return rc ? 1 : 0;
}

/* Opens, calls, shows, closes: the exit status. */
static int call(struct sl_admin *a, const char *method, const char *path, const char *body, enum view v)
{
	struct sl_admin_reply r;
	int status = 1;
	if (sl_admin_open(a)) {
		sl_admin_close(a);
		return 2;
	}
	sl_admin_reply_init(&r);
	if (sl_admin_call(a, method, path, body, &r) == 0)
		status = show(a, &r, v);
	sl_admin_reply_release(&r);
	sl_admin_close(a);
	return status;
}

/* "/api/v1/rollouts/{escaped arg}{suffix}" */
static int rollout_path(struct sl_admin *a, char *dst, size_t cap, const char *arg, const char *suffix)
{
	char esc[ARG_MAX_];
	if (sl_admin_escape(arg, esc, sizeof(esc))) {
		sl_admin_err(a, "'%.40s...': too long for a model name or rollout id", arg);
		return -1;
	}
	snprintf(dst, cap, "/api/v1/rollouts/%s%s", esc, suffix);
	return 0;
}

/* ---- start: the spec from --spec FILE and the flags ---- */

struct start_opts {
	const char *stable, *steps, *interval, *min_requests, *shadow, *approve_at, *spec;
};

static struct json_object *read_spec_file(struct sl_admin *a, const char *path)
{
	struct sl_buf b;
	char chunk[8192];
	size_t n;
	struct json_object *o = NULL;
	FILE *f = fopen(path, "rb");
	if (!f) {
		char why[128];
		snprintf(why, sizeof(why), "%s", strerror(errno));
		why[0] = (char)tolower((unsigned char)why[0]);
		sl_admin_err(a, "--spec '%s': cannot open: %s", path, why);
		return NULL;
	}
	sl_buf_init(&b, SPEC_FILE_MAX);
	int rc = 0;
	while (!rc && (n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		rc = sl_buf_append(&b, chunk, n);
	if (rc || ferror(f))
		sl_admin_err(a, "--spec '%s': %s", path, rc == SL_ETOOBIG ? "larger than 1 MiB" : "cannot read");
	else if (!(o = sl_cli_json_parse(b.data ? b.data : "", b.len)) || !json_object_is_type(o, json_type_object)) {
		sl_admin_err(a, "--spec '%s': not a JSON object", path);
		json_object_put(o);
		o = NULL;
	}
	sl_buf_release(&b);
	fclose(f);
	return o;
}

/* A JSON number that prints as the user would write it: 0.1, not 0.10000000000000001. */
static struct json_object *jnum(double v)
{
	char text[32];
	snprintf(text, sizeof(text), "%.15g", v);
	return json_object_new_double_s(v, text);
}

/* The next number of a comma-separated list at *s (a trailing '%' allowed); advances *s. */
static int next_percent(const char **s, double *out)
{
	char item[32];
	const char *end = strchr(*s, ',');
	size_t n = end ? (size_t)(end - *s) : strlen(*s);
	if (n == 0 || n >= sizeof(item))
		return SL_EINVAL;
	memcpy(item, *s, n);
	item[n - (item[n - 1] == '%')] = '\0';
	*s += n + (end != NULL);
	return sl_parse_double(item, out) || !isfinite(*out) || *out <= 0 || *out > 100 ? SL_EINVAL : 0;
}

static int parse_percents(struct sl_admin *a, const char *opt, const char *v, struct json_object *arr)
{
	const char *s = v;
	double p;
	while (*s) {
		if (next_percent(&s, &p) || (!*s && s[-1] == ',')) {
			sl_admin_err(a, "%s '%s': expected percentages above 0 and at most 100, separated by commas",
			             opt, v);
			return -1;
		}
		json_object_array_add(arr, jnum(p));
	}
	return 0;
}

static struct json_object *step_object(double percent)
{
	struct json_object *st = json_object_new_object();
	json_object_object_add(st, "percent", jnum(percent));
	json_object_object_add(st, "require_approval", json_object_new_boolean(0));
	return st;
}

static int set_steps(struct sl_admin *a, struct json_object *spec, const char *v)
{
	struct json_object *pcts = json_object_new_array(), *steps = json_object_new_array();
	int rc = parse_percents(a, "--steps", v, pcts);
	for (size_t i = 0; !rc && i < json_object_array_length(pcts); i++)
		json_object_array_add(steps, step_object(json_object_get_double(json_object_array_get_idx(pcts, i))));
	json_object_put(pcts);
	if (rc)
		json_object_put(steps);
	else
		json_object_object_add(spec, "steps", steps);
	return rc;
}

/* The spec's steps as objects (numbers are a shorthand the spec allows); the module's
 * defaults when it has none, so --approve-at alone has steps to mark. */
static struct json_object *steps_of(struct json_object *spec)
{
	struct json_object *steps = sl_cli_jget(spec, "steps");
	if (!steps || !json_object_is_type(steps, json_type_array)) {
		struct sl_rollout_spec d;
		sl_rollout_spec_defaults(&d);
		steps = json_object_new_array();
		for (unsigned i = 0; i < d.nsteps; i++)
			json_object_array_add(steps, step_object(d.steps[i].percent));
		json_object_object_add(spec, "steps", steps);
	}
	for (size_t i = 0; i < json_object_array_length(steps); i++) {
		struct json_object *st = json_object_array_get_idx(steps, i);
		if (!json_object_is_type(st, json_type_object))
			json_object_array_put_idx(steps, i, step_object(json_object_get_double(st)));
	}
	return steps;
}

/* "1, 5, 25, 50, 100" */
static const char *steps_list(char *dst, size_t cap, struct json_object *steps)
{
	size_t len = 0;
	dst[0] = '\0';
	for (size_t i = 0; i < json_object_array_length(steps) && len + 1 < cap; i++) {
		int w = snprintf(dst + len, cap - len, "%s%g", i ? ", " : "",
		                 sl_cli_jnum(json_object_array_get_idx(steps, i), "percent"));
		len += w > 0 ? (size_t)w : 0;
	}
	return dst;
}

static int mark_approvals(struct sl_admin *a, struct json_object *spec, const char *v)
{
	struct json_object *pcts = json_object_new_array(), *steps;
	int rc = parse_percents(a, "--approve-at", v, pcts);
	steps = rc ? NULL : steps_of(spec);
	for (size_t i = 0; !rc && i < json_object_array_length(pcts); i++) {
		double p = json_object_get_double(json_object_array_get_idx(pcts, i));
		size_t k = 0, n = json_object_array_length(steps);
		while (k < n && fabs(sl_cli_jnum(json_object_array_get_idx(steps, k), "percent") - p) > 1e-9)
			k++;
		if (k == n) {
			char list[256];
			sl_admin_err(a, "--approve-at %g: not one of the steps (%s)", p,
			             steps_list(list, sizeof(list), steps));
			rc = -1;
		} else
			json_object_object_add(json_object_array_get_idx(steps, k), "require_approval",
			                       json_object_new_boolean(1));
	}
	json_object_put(pcts);
	return rc;
}

static int set_scalars(struct sl_admin *a, struct json_object *spec, const struct start_opts *o)
{
	uint64_t u;
	double d;
	if (o->interval && sl_cli_parse_duration(o->interval, false, &u)) {
		sl_admin_err(a, "--interval '%s': expected a duration such as 500ms, 30s, 2m or 1h", o->interval);
		return -1;
	}
	if (o->interval)
		json_object_object_add(spec, "interval_ms", json_object_new_int64((int64_t)u));
	if (o->min_requests && sl_parse_u64(o->min_requests, INT64_MAX, &u)) {
		sl_admin_err(a, "--min-requests '%s': expected a whole number", o->min_requests);
		return -1;
	}
	if (o->min_requests)
		json_object_object_add(spec, "min_requests", json_object_new_int64((int64_t)u));
	if (!o->shadow)
		return 0;
	size_t n = strlen(o->shadow);
	char num[32];
	bool pct = n > 0 && o->shadow[n - 1] == '%';
	snprintf(num, sizeof(num), "%.*s", (int)(n - pct), o->shadow);
	if (n >= sizeof(num) || sl_parse_double(num, &d) || !(d >= 0 && d <= (pct ? 100 : 1))) {
		sl_admin_err(a, "--shadow '%s': expected a share from 0 to 1 (or 0%% to 100%%)", o->shadow);
		return -1;
	}
	json_object_object_add(spec, "shadow_share", jnum(pct ? d / 100 : d));
	return 0;
}

/* The spec to send: --spec FILE (or {}), then each flag given. NULL after printing why. */
static struct json_object *build_spec(struct sl_admin *a, const struct start_opts *o)
{
	struct json_object *spec = o->spec ? read_spec_file(a, o->spec) : json_object_new_object();
	if (!spec)
		return NULL;
	if ((o->steps && set_steps(a, spec, o->steps)) || set_scalars(a, spec, o) ||
	    (o->approve_at && mark_approvals(a, spec, o->approve_at))) {
		json_object_put(spec);
		return NULL;
	}
	return spec;
}

/* {"model":M,"candidate":C,"stable":S?,"spec":{...}?} */
static struct json_object *build_start_body(struct sl_admin *a, const struct start_opts *o, char **pos)
{
	struct json_object *spec = build_spec(a, o), *body;
	if (!spec)
		return NULL;
	body = json_object_new_object();
	json_object_object_add(body, "model", json_object_new_string(pos[0]));
	json_object_object_add(body, "candidate", json_object_new_string(pos[1]));
	if (o->stable)
		json_object_object_add(body, "stable", json_object_new_string(o->stable));
	if (json_object_object_length(spec) > 0)
		json_object_object_add(body, "spec", spec);
	else
		json_object_put(spec);
	return body;
}

static int run_start(int argc, char **argv)
{
	struct start_opts o = {0};
	const struct sl_cli_opt opts[] = {
	    {"--stable", SL_OPT_VALUE, &o.stable},     {"--steps", SL_OPT_VALUE, &o.steps},
	    {"--interval", SL_OPT_VALUE, &o.interval}, {"--min-requests", SL_OPT_VALUE, &o.min_requests},
	    {"--shadow", SL_OPT_VALUE, &o.shadow},     {"--approve-at", SL_OPT_VALUE, &o.approve_at},
	    {"--spec", SL_OPT_VALUE, &o.spec},
	};
	struct sl_admin a;
	char *pos[2];
	int npos = sl_admin_parse(&a, "rollout", opts, sizeof(opts) / sizeof(opts[0]), argc, argv, pos, 2);
	if (npos >= 0 && a.help) {
		fputs(rollout_usage, stdout);
		return 0;
	}
	if (npos >= 0 && npos != 2)
		sl_admin_err(&a, "start needs MODEL and CANDIDATE (see sluice rollout --help)");
	if (npos != 2)
		return 2;
	struct json_object *body = build_start_body(&a, &o, pos);
	if (!body)
		return 2;
	int status = call(&a, "POST", "/api/v1/rollouts", json_object_to_json_string_ext(body, JSON_C_TO_STRING_PLAIN),
	                  VIEW_STARTED);
	json_object_put(body);
	return status;
}

/* ---- status, actions ---- */

static int list_path(struct sl_admin *a, char *dst, size_t cap, const char *model, const char *limit)
{
	char esc[ARG_MAX_];
	uint64_t n;
	if (limit && (sl_parse_u64(limit, 100000, &n) || n == 0)) {
		sl_admin_err(a, "--limit '%s': expected a whole number from 1 to 100000", limit);
		return -1;
	}
	if (model && sl_admin_escape(model, esc, sizeof(esc))) {
		sl_admin_err(a, "--model: too long for a model name");
		return -1;
	}
	snprintf(dst, cap, "/api/v1/rollouts%s%s%s%s%s", model || limit ? "?" : "", model ? "model=" : "",
	         model ? esc : "",
	         model && limit ? "&limit="
	         : limit        ? "limit="
	                        : "",
	         limit ? limit : "");
	return 0;
}

static int run_status(int argc, char **argv)
{
	const char *model = NULL, *limit = NULL;
	const struct sl_cli_opt opts[] = {{"--model", SL_OPT_VALUE, &model}, {"--limit", SL_OPT_VALUE, &limit}};
	struct sl_admin a;
	char *pos[1], path[PATH_MAX_];
	int npos = sl_admin_parse(&a, "rollout", opts, 2, argc, argv, pos, 1);
	if (npos >= 0 && a.help) {
		fputs(rollout_usage, stdout);
		return 0;
	}
	if (npos == 1 && (model || limit)) {
		sl_admin_err(&a, "--model and --limit apply to the list, not to one rollout");
		return 2;
	}
	if (npos < 0)
		return 2;
	if (npos == 1)
		return rollout_path(&a, path, sizeof(path), pos[0], "") ? 2 : call(&a, "GET", path, NULL, VIEW_DETAIL);
	return list_path(&a, path, sizeof(path), model, limit) ? 2 : call(&a, "GET", path, NULL, VIEW_LIST);
}

static int run_action(int argc, char **argv)
{
	const char *action = argv[0];
	struct sl_admin a;
	char *pos[1], path[PATH_MAX_], suffix[32];
	int npos = sl_admin_parse(&a, "rollout", NULL, 0, argc, argv, pos, 1);
	if (npos >= 0 && a.help) {
		fputs(rollout_usage, stdout);
		return 0;
	}
	if (npos == 0)
		sl_admin_err(&a, "%s needs MODEL or ID (see sluice rollout --help)", action);
	if (npos != 1)
		return 2;
	snprintf(suffix, sizeof(suffix), "/%s", action);
	if (rollout_path(&a, path, sizeof(path), pos[0], suffix))
		return 2;
	return call(&a, "POST", path, NULL, VIEW_ACTED);
}

int sl_rollout_watch(int argc, char **argv); /* rollout_watch.c */

static const struct {
	const char *name;
	int (*run)(int argc, char **argv);
} subcommands[] = {
    {"start", run_start},    {"status", run_status},  {"pause", run_action},    {"resume", run_action},
    {"approve", run_action}, {"promote", run_action}, {"rollback", run_action}, {"abort", run_action},
    {"watch", sl_rollout_watch},
};

int sl_cmd_rollout(int argc, char **argv)
{
	if (argc < 2) {
		fputs(rollout_usage, stderr);
		return 2;
	}
	const char *sub = argv[1];
	if (strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0 || strcmp(sub, "help") == 0) {
		fputs(rollout_usage, stdout);
		return 0;
	}
	for (size_t i = 0; i < sizeof(subcommands) / sizeof(subcommands[0]); i++)
		if (strcmp(sub, subcommands[i].name) == 0)
			return subcommands[i].run(argc - 1, argv + 1);
	fprintf(stderr, "sluice: rollout: unknown command '%s' (see sluice rollout --help)\n", sub);
	return 2;
}

int sl_cmd_status(int argc, char **argv)
{
	struct sl_admin a;
	char *pos[1];
	int npos = sl_admin_parse(&a, "status", NULL, 0, argc, argv, pos, 0);
	if (npos >= 0 && a.help) {
		fputs(status_usage, stdout);
		return 0;
	}
	return npos < 0 ? 2 : call(&a, "GET", "/api/v1/status", NULL, VIEW_STATUS);
}
