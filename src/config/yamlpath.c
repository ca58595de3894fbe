/* yamlpath.c: finds the line of a node named by a path like "models[0].versions[1].weight" in
 * YAML text, with libyaml's event parser. libcyaml reports where parsing stopped, not where the
 * offending field is; this lets every config error point at the field itself. It also reads a
 * field's raw scalar text (libcyaml's number and boolean parsing is too lenient to trust alone)
 * and locates syntax errors. Invariants: only the first document is searched; nesting deeper
 * than MAX_DEPTH stops the walk (it recurses once per level). */
#include <stdio.h>
#include <string.h>
#include <yaml.h>

#include "yamlpath.h"

#define MAX_DEPTH 128

struct walker {
	yaml_parser_t parser;
	const char *want;
	int nth, seen;
	char path[512];
	int line;   /* 1-based, 0 until found */
	bool hit;   /* the key or entry just checked is the one wanted: its value is next */
	char *text; /* where the wanted scalar goes, may be NULL */
	size_t cap;
	bool is_scalar;
	int depth;
	int failed;
};

static int next(struct walker *w, yaml_event_t *ev)
{
	if (!yaml_parser_parse(&w->parser, ev)) {
		w->failed = 1;
		return 0;
	}
	return 1;
}

static void walk_node(struct walker *w, yaml_event_t *ev);

static void check(struct walker *w, size_t mark_line)
{
	if (!w->line && strcmp(w->path, w->want) == 0 && ++w->seen == w->nth) {
		w->line = (int)mark_line + 1;
		w->hit = true;
	}
}

/* Called with the value of the wanted node: keeps its text if it is a scalar. */
static void take_value(struct walker *w, const yaml_event_t *ev)
{
	w->hit = false;
	if (ev->type != YAML_SCALAR_EVENT)
		return;
	w->is_scalar = true;
	if (w->text && w->cap) {
		size_t n = ev->data.scalar.length < w->cap - 1 ? ev->data.scalar.length : w->cap - 1;
		memcpy(w->text, ev->data.scalar.value, n);
		w->text[n] = '\0';
	}
}

/* Reads a mapping key into the path (a non-scalar key is walked and named "?"). */
static int read_key(struct walker *w, yaml_event_t *ev, size_t base)
{
	const char *key = ev->type == YAML_SCALAR_EVENT ? (const char *)ev->data.scalar.value : "?";
	snprintf(w->path + base, sizeof(w->path) - base, "%s%s", base ? "." : "", key);
	if (ev->type == YAML_SCALAR_EVENT) {
		check(w, ev->start_mark.line);
		yaml_event_delete(ev);
	} else {
		walk_node(w, ev);
	}
	return next(w, ev);
}

/* Walks the children of a mapping or sequence whose start event was consumed, through its end. */
static void walk_children(struct walker *w, yaml_event_type_t end, int is_map)
{
	size_t base = strlen(w->path);
	for (unsigned idx = 0; !w->failed; idx++) {
		yaml_event_t ev;
		if (!next(w, &ev))
			return;
		if (ev.type == end) {
			yaml_event_delete(&ev);
			break;
		}
		if (is_map) {
			if (!read_key(w, &ev, base))
				return;
		} else {
			snprintf(w->path + base, sizeof(w->path) - base, "[%u]", idx);
			check(w, ev.start_mark.line);
		}
		if (w->hit)
			take_value(w, &ev);
		walk_node(w, &ev);
		w->path[base] = '\0';
	}
}

static void walk_node(struct walker *w, yaml_event_t *ev)
{
	yaml_event_type_t type = ev->type;
	yaml_event_delete(ev);
	if (type != YAML_MAPPING_START_EVENT && type != YAML_SEQUENCE_START_EVENT)
		return;
	if (++w->depth > MAX_DEPTH) {
		w->failed = 1;
		return;
	}
	walk_children(w, type == YAML_MAPPING_START_EVENT ? YAML_MAPPING_END_EVENT : YAML_SEQUENCE_END_EVENT,
	              type == YAML_MAPPING_START_EVENT);
	w->depth--;
}

int sl_yaml_find(const char *data, size_t len, const char *path, int nth, char *text, size_t cap, bool *is_scalar)
{
	struct walker w = {.want = path, .nth = nth, .text = text, .cap = cap};
	yaml_event_t ev;
	yaml_parser_initialize(&w.parser);
	yaml_parser_set_input_string(&w.parser, (const unsigned char *)data, len);
	while (!w.failed && !w.line && next(&w, &ev)) {
		yaml_event_type_t type = ev.type;
		if (!*path && (type == YAML_MAPPING_START_EVENT || type == YAML_SEQUENCE_START_EVENT ||
		               type == YAML_SCALAR_EVENT)) {
			w.line = (int)ev.start_mark.line + 1; /* "" names the document's root node */
			yaml_event_delete(&ev);
			break;
		}
		if (type == YAML_MAPPING_START_EVENT || type == YAML_SEQUENCE_START_EVENT)
			walk_node(&w, &ev);
		else
			yaml_event_delete(&ev);
		if (type == YAML_DOCUMENT_END_EVENT || type == YAML_STREAM_END_EVENT)
			break;
	}
	yaml_parser_delete(&w.parser);
	if (is_scalar)
		*is_scalar = w.line && w.is_scalar;
	return w.line;
}

int sl_yaml_locate(const char *data, size_t len, const char *path)
{
	return sl_yaml_find(data, len, path, 1, NULL, 0, NULL);
}

static int count_lines(const char *data, size_t len)
{
	int n = 0;
	for (size_t i = 0; i < len; i++)
		n += data[i] == '\n';
	return n + (len > 0 && data[len - 1] != '\n');
}

/* The line to report: where libyaml stopped, but a problem found only at the end of the input
 * (an unclosed quote or bracket) belongs where the unfinished construct started. */
static int problem_line(const yaml_parser_t *p, const char *data, size_t len)
{
	int nlines = count_lines(data, len);
	int line = (int)p->problem_mark.line + 1;
	if (p->context && p->problem_mark.index >= len)
		line = (int)p->context_mark.line + 1;
	return line > nlines && nlines > 0 ? nlines : line;
}

static void describe(const yaml_parser_t *p, int line, char *msg, size_t cap)
{
	const char *problem = p->problem ? p->problem : "syntax error";
	int ctx_line = (int)p->context_mark.line + 1;
	if (!p->context)
		snprintf(msg, cap, "%s", problem);
	else if (ctx_line >= line)
		snprintf(msg, cap, "%s (%s)", problem, p->context);
	else
		snprintf(msg, cap, "%s (%s that started on line %d)", problem, p->context, ctx_line);
}

int sl_yaml_syntax_error(const char *data, size_t len, char *msg, size_t cap)
{
	yaml_parser_t p;
	yaml_event_t ev;
	int line = 0;
	yaml_parser_initialize(&p);
	yaml_parser_set_input_string(&p, (const unsigned char *)data, len);
	for (;;) {
		if (!yaml_parser_parse(&p, &ev)) {
			line = problem_line(&p, data, len);
			describe(&p, line, msg, cap);
			break;
		}
		yaml_event_type_t type = ev.type;
		yaml_event_delete(&ev);
		if (type == YAML_STREAM_END_EVENT)
			break;
	}
	yaml_parser_delete(&p);
	return line;
}
