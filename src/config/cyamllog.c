/* cyamllog.c: collects libcyaml's error log and explains it as a field path plus a reason in the
 * house style (lower case, the failing thing first). libcyaml's backtrace counts sequence entries
 * from 1 and, for errors about a mapping's keys (unknown, missing, repeated), names a field of
 * that mapping that has nothing to do with the error; both are corrected here. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "cyamllog.h"

static void parse_mark(const char *line, struct sl_cyaml_seg *s)
{
	const char *at = strstr(line, "(line: ");
	if (at)
		sscanf(at, "(line: %d", &s->line);
}

/* One backtrace line: "  in mapping field 'x' (line: L, column: C)", "  in sequence entry 'N' ...",
 * "  in mapping (line: ...)", or the forms without a mark ("in mapping field: x"). */
static void parse_backtrace(struct sl_cyaml_log *log, const char *line)
{
	struct sl_cyaml_seg s = {0};
	unsigned entry = 0;
	if (log->nsegs >= SL_CYAML_MAX_SEGS)
		return;
	if (sscanf(line, " in mapping field '%127[^']'", s.name) == 1 ||
	    sscanf(line, " in mapping field: %127s", s.name) == 1) {
		s.kind = SL_SEG_FIELD;
	} else if (sscanf(line, " in sequence entry '%u'", &entry) == 1 ||
	           sscanf(line, " in sequence entry: %u", &entry) == 1) {
		s.kind = SL_SEG_ENTRY;
		s.entry = entry ? entry - 1 : 0; /* libcyaml counts from 1; 0 means none started yet */
	} else if (strstr(line, "in mapping")) {
		s.kind = SL_SEG_MAPPING;
	} else {
		return;
	}
	parse_mark(line, &s);
	log->segs[log->nsegs++] = s;
}

void sl_cyaml_log_fn(cyaml_log_t level, void *ctx, const char *fmt, va_list args)
{
	struct sl_cyaml_log *log = ctx;
	char line[512];
	if (level < CYAML_LOG_ERROR)
		return;
	vsnprintf(line, sizeof(line), fmt, args);
	line[strcspn(line, "\n")] = '\0';
	const char *text = strncmp(line, "Load: ", 6) == 0 ? line + 6 : line;
	if (strstr(text, "Backtrace:")) {
		log->in_backtrace = true;
	} else if (log->in_backtrace) {
		parse_backtrace(log, text);
	} else if (!log->msg[0]) {
		snprintf(log->msg, sizeof(log->msg), "%s", text);
	}
}

/* Writes the path of segments [from, nsegs), outermost first, and returns the innermost line. */
static int build_path(const struct sl_cyaml_log *log, int from, char *out, size_t cap)
{
	size_t n = 0;
	int line = 0;
	out[0] = '\0';
	for (int i = log->nsegs - 1; i >= from && n < cap; i--) {
		const struct sl_cyaml_seg *s = &log->segs[i];
		if (s->kind == SL_SEG_FIELD)
			n += (size_t)snprintf(out + n, cap - n, "%s%s", n ? "." : "", s->name);
		else if (s->kind == SL_SEG_ENTRY)
			n += (size_t)snprintf(out + n, cap - n, "[%u]", s->entry);
		if (s->line)
			line = s->line;
	}
	return line;
}

/* Where the path starts: past the innermost segment if it is of this kind (stale or beside the point). */
static int skip_inner(const struct sl_cyaml_log *log, int kind)
{
	return log->nsegs > 0 && (int)log->segs[0].kind == kind ? 1 : 0;
}

/* An error about key of the innermost mapping: the path is the mapping's, plus the key. */
static void key_error(const struct sl_cyaml_log *log, const char *key, const char *reason, int nth,
                      struct sl_cyaml_error *e)
{
	char parent[sizeof(e->path)];
	e->line_hint = build_path(log, skip_inner(log, SL_SEG_FIELD), parent, sizeof(parent));
	snprintf(e->path, sizeof(e->path), "%s%s%s", parent, parent[0] && key[0] ? "." : "", key);
	snprintf(e->reason, sizeof(e->reason), "%s", reason);
	e->nth = nth;
}

static const char *type_words(const char *t)
{
	static const char *const names[][2] = {
	    {"MAPPING_START", "a mapping"}, {"SEQUENCE_START", "a sequence"}, {"MAPPING", "a mapping"},
	    {"SEQUENCE", "a sequence"},     {"SCALAR", "a scalar"},           {"ALIAS", "an alias"},
	    {"FLOAT", "a number"},          {"UINT", "a whole number"},       {"INT", "a whole number"},
	    {"BOOL", "true or false"},      {"STRING", "a string"},           {"ENUM", "one of the allowed values"},
	};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(t, names[i][0]) == 0)
			return names[i][1];
	return t;
}

/* Rewrites one of libcyaml's value messages; returns false if it is not one it knows. */
static bool known_value_error(const char *m, char *out, size_t cap)
{
	char a[256] = "", b[64] = "";
	unsigned n1 = 0, n2 = 0;
	if (strncmp(m, "Invalid FLOAT value:", 20) == 0) {
		sscanf(m + 20, " %255[^\n]", a);
		snprintf(out, cap, a[0] ? "'%s' is not a number" : "has no value, expected a number", a);
	} else if (sscanf(m, "FLOAT %*[a-z/]: %255[^\n]", a) == 1) {
		snprintf(out, cap, "'%s' is out of range", a);
	} else if (sscanf(m, "Invalid %*s value: '%255[^']'", a) == 1) {
		snprintf(out, cap, "'%s' is not a whole number in range", a);
	} else if (sscanf(m, "Invalid ENUM value: %255[^\n]", a) == 1) {
		snprintf(out, cap, "'%s' is not one of the allowed values", a);
	} else if (sscanf(m, "Expecting %63[A-Z_], got event: %255[A-Z_]", b, a) == 2) {
		snprintf(out, cap, "expected %s, got %s", type_words(b), type_words(a));
	} else if (sscanf(m, "STRING length > %u", &n1) == 1) {
		snprintf(out, cap, "longer than %u characters", n1);
	} else if (sscanf(m, "STRING length < %u", &n1) == 1) {
		snprintf(out, cap, "shorter than %u characters", n1);
	} else if (sscanf(m, "Excessive entries (%u max)", &n1) == 1) {
		snprintf(out, cap, "has more than %u entries", n1);
	} else if (sscanf(m, "Insufficient entries (%u of %u min)", &n1, &n2) == 2) {
		snprintf(out, cap, "needs at least %u entries", n2);
	} else if (sscanf(m, "No anchor found for alias: '%255[^']'", a) == 1) {
		snprintf(out, cap, "alias '*%s' has no anchor", a);
	} else {
		return false;
	}
	return true;
}

/* Anything else: libcyaml's words, first letter lowered, no closing period. */
static void plain(const char *m, char *out, size_t cap)
{
	snprintf(out, cap, "%s", m);
	out[0] = (char)tolower((unsigned char)out[0]);
	size_t n = strlen(out);
	if (n && out[n - 1] == '.')
		out[n - 1] = '\0';
}

static void value_error(const struct sl_cyaml_log *log, struct sl_cyaml_error *e)
{
	const char *m = log->msg;
	int from = 0;
	if (strstr(m, "entries (")) /* about a whole sequence, not the entry libcyaml was at */
		from = skip_inner(log, SL_SEG_ENTRY);
	e->line_hint = build_path(log, from, e->path, sizeof(e->path));
	if (!known_value_error(m, e->reason, sizeof(e->reason)))
		plain(m, e->reason, sizeof(e->reason));
	e->nth = 1;
}

void sl_cyaml_explain(const struct sl_cyaml_log *log, cyaml_err_t err, struct sl_cyaml_error *e)
{
	char key[256];
	const char *m = log->msg;
	memset(e, 0, sizeof(*e));
	e->nth = 1;
	if (!m[0]) {
		e->line_hint = build_path(log, 0, e->path, sizeof(e->path));
		plain(cyaml_strerror(err), e->reason, sizeof(e->reason));
	} else if (strncmp(m, "libyaml: ", 9) == 0) {
		e->syntax = true;
		e->line_hint = build_path(log, 0, e->path, sizeof(e->path));
		snprintf(e->reason, sizeof(e->reason), "%s", m + 9);
	} else if (sscanf(m, "Unexpected key: %255[^\n]", key) == 1) {
		key_error(log, key, "unknown field", 1, e);
	} else if (strncmp(m, "Unexpected key:", 15) == 0) {
		key_error(log, "", "a key with no name is not a known field", 1, e);
	} else if (sscanf(m, "Missing required mapping field: %255[^\n]", key) == 1) {
		key_error(log, key, "is required but missing", 1, e);
	} else if (sscanf(m, "Mapping field already seen: %255[^\n]", key) == 1) {
		key_error(log, key, "appears more than once in one mapping", 2, e);
	} else {
		value_error(log, e);
	}
}
