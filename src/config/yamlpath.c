/* yamlpath.c: finds the line of a node named by a path like "models[0].versions[1].weight" in
 * a YAML file, with libyaml's event parser. libcyaml reports where parsing stopped, not where the
 * offending field is; this lets every config error point at the field itself. */
#include <stdio.h>
#include <string.h>
#include <yaml.h>

#include "yamlpath.h"

struct walker {
	yaml_parser_t parser;
	const char *want;
	char path[512];
	int line; /* 1-based, 0 until found */
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
	if (!w->line && strcmp(w->path, w->want) == 0)
		w->line = (int)mark_line + 1;
}

/* Walks the node that starts with ev (already parsed); consumes through its end. */
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
			const char *key = ev.type == YAML_SCALAR_EVENT ? (const char *)ev.data.scalar.value : "?";
			snprintf(w->path + base, sizeof(w->path) - base, "%s%s", base ? "." : "", key);
			check(w, ev.start_mark.line);
			yaml_event_delete(&ev);
			if (!next(w, &ev))
				return;
		} else {
			snprintf(w->path + base, sizeof(w->path) - base, "[%u]", idx);
			check(w, ev.start_mark.line);
		}
		walk_node(w, &ev);
		w->path[base] = '\0';
	}
}

static void walk_node(struct walker *w, yaml_event_t *ev)
{
	yaml_event_type_t type = ev->type;
	yaml_event_delete(ev);
	if (type == YAML_MAPPING_START_EVENT)
		walk_children(w, YAML_MAPPING_END_EVENT, 1);
	else if (type == YAML_SEQUENCE_START_EVENT)
		walk_children(w, YAML_SEQUENCE_END_EVENT, 0);
}

int sl_yaml_locate(const char *file, const char *path)
{
	FILE *f = fopen(file, "rb");
	if (!f)
		return 0;
	struct walker w = {.want = path};
	yaml_parser_initialize(&w.parser);
	yaml_parser_set_input_file(&w.parser, f);
	yaml_event_t ev;
	while (!w.failed && !w.line && next(&w, &ev)) {
		yaml_event_type_t type = ev.type;
		if (type == YAML_MAPPING_START_EVENT || type == YAML_SEQUENCE_START_EVENT)
			walk_node(&w, &ev);
		else
			yaml_event_delete(&ev);
		if (type == YAML_STREAM_END_EVENT)
			break;
	}
	yaml_parser_delete(&w.parser);
	fclose(f);
	return w.line;
}
