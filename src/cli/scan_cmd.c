/* scan_cmd.c: `sluice scan [FILE|-]`: runs the guard's input pipeline (normalization, rules,
 * the classifier when a model is there) over prompts, one a line: plain text, or JSON Lines
 * whose objects carry a string "text" (decided line by line), and prints one verdict each.
 * Invariants: exit status 0 when every line was scanned, 2 for bad usage, an unreadable file,
 * bad rules or a bad model; lines longer than MAX_LINE are reported and skipped, never cut. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "cli/commands.h"
#include "sluice/guard.h"
#include "sluice/guard_model.h"

#define MAX_LINE ((size_t)16 << 20)

static const char usage[] =
    "usage: sluice scan [OPTIONS] [FILE|-]\n"
    "\n"
    "Scans prompts for prompt injection: one prompt a line, plain text or a JSON object with\n"
    "a string field \"text\" (JSON Lines). Reads standard input without FILE or with '-'.\n"
    "Prints one verdict a line: LINE, verdict (allow or flag), risk score, reasons.\n"
    "\n"
    "  --json          one JSON object per prompt (line, score, verdict, reasons, ...)\n"
    "  --threshold X   risk in [0, 1] at which a prompt is flagged (default 0.5)\n"
    "  --rules FILE    extra rules, same format as share/guard/rules.txt\n"
    "  --model FILE    classifier model (default: share/guard/model.bin when present)\n"
    "  --no-model      rules only (no classifier, no document model)\n"
    "  --indirect      each input is untrusted content (a document or tool result), not a user\n"
    "                  prompt: it is scanned as an indirect segment, by the document model too\n"
    "  --indirect-model FILE  document model (default: share/guard/indirect.bin when present)\n"
    "  --help          this text\n"
    "\n"
    "The share directory is $SLUICE_SHARE when set. exit status: 0 done, 2 bad usage or input\n";

struct args {
	const char *file, *rules, *model, *indirect_model;
	bool json, no_model, indirect;
	double threshold;
};

__attribute__((format(printf, 1, 2))) static int fail(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("sluice scan: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputs("\n", stderr);
	va_end(ap);
	return 2;
}

static int parse_args(int argc, char **argv, struct args *a)
{
	*a = (struct args){.threshold = SL_GUARD_DEFAULT_THRESHOLD};
	for (int i = 1; i < argc; i++) {
		const char *s = argv[i];
		bool has_val = i + 1 < argc;
		if (strcmp(s, "--help") == 0 || strcmp(s, "-h") == 0) {
			fputs(usage, stdout);
			return 1;
		} else if (strcmp(s, "--json") == 0)
			a->json = true;
		else if (strcmp(s, "--no-model") == 0)
			a->no_model = true;
		else if (strcmp(s, "--indirect") == 0)
			a->indirect = true;
		else if (strcmp(s, "--indirect-model") == 0 && has_val)
			a->indirect_model = argv[++i];
		else if (strcmp(s, "--threshold") == 0 && has_val) {
			if (sl_parse_double(argv[++i], &a->threshold) || !(a->threshold >= 0 && a->threshold <= 1))
				return fail("--threshold: must be a number in [0, 1]");
		} else if (strcmp(s, "--rules") == 0 && has_val)
			a->rules = argv[++i];
		else if (strcmp(s, "--model") == 0 && has_val)
			a->model = argv[++i];
		else if (s[0] == '-' && s[1] != '\0')
			return fail("%s: unknown option or missing value (see --help)", s);
		else if (a->file)
			return fail("one input file at most (see --help)");
		else
			a->file = s;
	}
	return 0;
}

/* The model a setting names (sl_guard_model_load_setting); *m stays NULL for none. */
static int load_model(const char *setting, const char *rel, struct sl_guard_model **m)
{
	char err[SL_GUARD_PATH_MAX + 256];
	return sl_guard_model_load_setting(setting, rel, m, err, sizeof(err)) ? fail("%s", err) : 0;
}

/* The prompt of one line: a JSON object's "text", else the line itself. */
static void prompt_of(const char *line, size_t len, struct json_object **obj, const char **text, size_t *tlen)
{
	size_t i = strspn(line, " \t");
	*obj = NULL;
	*text = line;
	*tlen = len;
	if (i >= len || line[i] != '{')
		return;
	struct json_tokener *tok = json_tokener_new();
	if (!tok)
		return;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	struct json_object *o = json_tokener_parse_ex(tok, line, (int)len);
	struct json_object *t;
	bool ok = json_tokener_get_error(tok) == json_tokener_success && json_object_is_type(o, json_type_object) &&
	          json_object_object_get_ex(o, "text", &t) && json_object_is_type(t, json_type_string);
	json_tokener_free(tok);
	if (!ok) {
		json_object_put(o);
		return;
	}
	*obj = o;
	*text = json_object_get_string(t);
	*tlen = (size_t)json_object_get_string_len(t);
}

static void print_verdict(const struct args *a, size_t lineno, const struct sl_guard_verdict *v, struct sl_buf *b)
{
	sl_buf_reset(b);
	if (a->json) {
		if (sl_guard_verdict_json(v, b) == 0)
			printf("{\"line\":%zu,%s\n", lineno, b->data + 1);
		return;
	}
	sl_buf_printf(b, "%zu\t%s\t%.3f\t", lineno, sl_guard_action_name(v->action), v->score);
	for (unsigned i = 0; i < v->nreasons; i++) {
		if (i)
			sl_buf_puts(b, "; ");
		sl_guard_reason_format(&v->reasons[i], b);
	}
	if (!v->nreasons)
		sl_buf_puts(b, "-");
	printf("%s\n", b->data);
}

static int scan_stream(FILE *in, const struct args *a, const struct sl_guard_rules *rules,
                       struct sl_guard_scratch *s, const struct sl_guard_opts *o)
{
	char *line = NULL;
	size_t cap = 0, lineno = 0;
	ssize_t n;
	struct sl_buf out;
	sl_buf_init(&out, 0);
	while ((n = getline(&line, &cap, in)) >= 0) {
		lineno++;
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = '\0';
		if (n == 0)
			continue;
		if ((size_t)n > MAX_LINE) {
			fprintf(stderr, "sluice scan: line %zu: longer than 16 MiB, skipped\n", lineno);
			continue;
		}
		struct json_object *obj;
		const char *text;
		size_t tlen;
		struct sl_guard_verdict v;
		prompt_of(line, (size_t)n, &obj, &text, &tlen);
		struct sl_guard_segment seg = {a->indirect ? SL_GUARD_INDIRECT : SL_GUARD_DIRECT, text, tlen};
		int rc = sl_guard_scan(rules, s, o, &seg, 1, &v);
		if (rc)
			fprintf(stderr, "sluice scan: line %zu: %s\n", lineno, sl_strerror(rc));
		else
			print_verdict(a, lineno, &v, &out);
		json_object_put(obj);
	}
	free(line);
	sl_buf_release(&out);
	return ferror(in) ? fail("cannot read '%s': %s", a->file ? a->file : "-", strerror(errno)) : 0;
}

int sl_cmd_scan(int argc, char **argv)
{
	struct args a;
	struct sl_guard_rules *rules = NULL;
	struct sl_guard_scratch *s = NULL;
	struct sl_guard_model *m = NULL, *doc = NULL;
	char err[512];
	int rc = parse_args(argc, argv, &a);
	if (rc)
		return rc == 1 ? 0 : rc;
	FILE *in = a.file && strcmp(a.file, "-") != 0 ? fopen(a.file, "r") : stdin;
	if (!in)
		return fail("cannot open '%s': %s", a.file, strerror(errno));
	if (sl_guard_rules_load_default(a.rules, &rules, err, sizeof(err)))
		rc = fail("%s", err);
	if (rc == 0 && !a.no_model)
		rc = load_model(a.model, SL_GUARD_MODEL_FILE, &m);
	if (rc == 0 && !a.no_model)
		rc = load_model(a.indirect_model, SL_GUARD_INDIRECT_MODEL_FILE, &doc);
	if (rc == 0 && sl_guard_scratch_new(rules, &s))
		rc = fail("out of memory");
	if (rc == 0) {
		struct sl_guard_opts o;
		struct sl_guard_model_pair pair;
		sl_guard_opts_default(&o);
		o.threshold = a.threshold;
		sl_guard_opts_models(&o, &pair, m, doc);
		rc = scan_stream(in, &a, rules, s, &o);
	}
	if (in != stdin)
		fclose(in);
	sl_guard_scratch_free(s);
	sl_guard_model_free(m);
	sl_guard_model_free(doc);
	sl_guard_rules_free(rules);
	return rc;
}
