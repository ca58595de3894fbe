/* yamljson.c: turns the YAML node at a path into JSON text, so sections whose schema lives in
 * another module (a model's `rollout:` spec, read by the rollout module's strict JSON parser)
 * need no second schema here. Plain scalars that read as JSON numbers, true/false or null stay
 * bare; everything else becomes a JSON string. Anchors, aliases and tags are refused. */
#include <string.h>
#include <yaml.h>

#include "sluice/core.h"
#include "yamlpath.h"

#define MAX_DEPTH 32

struct conv {
	yaml_parser_t parser;
	struct sl_buf *out;
	int rc;
};

static bool json_number(const char *s, size_t n)
{
	size_t i = 0;
	if (i < n && s[i] == '-')
		i++;
	if (i >= n || s[i] < '0' || s[i] > '9' || (s[i] == '0' && i + 1 < n && s[i + 1] >= '0' && s[i + 1] <= '9'))
		return false;
	while (i < n && s[i] >= '0' && s[i] <= '9')
		i++;
	if (i < n && s[i] == '.') {
		if (++i >= n || s[i] < '0' || s[i] > '9')
			return false;
		while (i < n && s[i] >= '0' && s[i] <= '9')
			i++;
	}
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		if (i < n && (s[i] == '+' || s[i] == '-'))
			i++;
		if (i >= n || s[i] < '0' || s[i] > '9')
			return false;
		while (i < n && s[i] >= '0' && s[i] <= '9')
			i++;
	}
	return i == n;
}

static void scalar(struct conv *c, const yaml_event_t *ev)
{
	const char *s = (const char *)ev->data.scalar.value;
	size_t n = ev->data.scalar.length;
	bool plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
	if (plain && (json_number(s, n) || (n == 4 && !memcmp(s, "true", 4)) || (n == 5 && !memcmp(s, "false", 5)) ||
		      (n == 4 && !memcmp(s, "null", 4))))
		c->rc = sl_buf_append(c->out, s, n);
	else
		c->rc = sl_buf_json_str(c->out, s, n);
}

static void node(struct conv *c, yaml_event_t *ev, int depth);

static void children(struct conv *c, yaml_event_type_t end, bool map, int depth)
{
	for (unsigned i = 0; !c->rc; i++) {
		yaml_event_t ev;
		if (!yaml_parser_parse(&c->parser, &ev)) {
			c->rc = SL_EPARSE;
			return;
		}
		if (ev.type == end) {
			yaml_event_delete(&ev);
			c->rc = sl_buf_append(c->out, map ? "}" : "]", 1);
			return;
		}
		if (i && (c->rc = sl_buf_append(c->out, ",", 1)))
			return yaml_event_delete(&ev);
		if (map) {
			if (ev.type != YAML_SCALAR_EVENT) {
				c->rc = SL_EINVAL;
				return yaml_event_delete(&ev);
			}
			c->rc = sl_buf_json_str(c->out, (const char *)ev.data.scalar.value, ev.data.scalar.length);
			yaml_event_delete(&ev);
			if (c->rc || (c->rc = sl_buf_append(c->out, ":", 1)) || !yaml_parser_parse(&c->parser, &ev)) {
				c->rc = c->rc ? c->rc : SL_EPARSE;
				return;
			}
		}
		node(c, &ev, depth + 1);
	}
}

/* Converts the node that starts with ev (consumed) and everything under it. */
static void node(struct conv *c, yaml_event_t *ev, int depth)
{
	yaml_event_type_t type = ev->type;
	if (depth > MAX_DEPTH || type == YAML_ALIAS_EVENT ||
	    (type == YAML_SCALAR_EVENT && (ev->data.scalar.anchor || ev->data.scalar.tag))) {
		c->rc = SL_EINVAL;
	} else if (type == YAML_SCALAR_EVENT) {
		scalar(c, ev);
	} else if (type == YAML_MAPPING_START_EVENT && !(c->rc = sl_buf_append(c->out, "{", 1))) {
		yaml_event_delete(ev);
		return children(c, YAML_MAPPING_END_EVENT, true, depth);
	} else if (type == YAML_SEQUENCE_START_EVENT && !(c->rc = sl_buf_append(c->out, "[", 1))) {
		yaml_event_delete(ev);
		return children(c, YAML_SEQUENCE_END_EVENT, false, depth);
	}
	yaml_event_delete(ev);
}

/* Skips to the node at path by walking events; returns true with *ev holding its first event. */
static bool seek(struct conv *c, const char *path, yaml_event_t *ev);

int sl_yaml_to_json(const char *data, size_t len, const char *path, struct sl_buf *out)
{
	struct conv c = {.out = out};
	yaml_event_t ev;
	if (!sl_yaml_locate(data, len, path))
		return SL_ENOTFOUND;
	yaml_parser_initialize(&c.parser);
	yaml_parser_set_input_string(&c.parser, (const unsigned char *)data, len);
	if (seek(&c, path, &ev))
		node(&c, &ev, 0);
	else
		c.rc = c.rc ? c.rc : SL_ENOTFOUND;
	yaml_parser_delete(&c.parser);
	return c.rc;
}

/* Path segments: "name" or "name[3]" separated by '.'. Walks mappings and sequences, skipping
 * siblings whole. */
static void skip(struct conv *c, yaml_event_t *ev)
{
	int level = (ev->type == YAML_MAPPING_START_EVENT || ev->type == YAML_SEQUENCE_START_EVENT);
	yaml_event_delete(ev);
	while (level > 0 && !c->rc) {
		yaml_event_t e;
		if (!yaml_parser_parse(&c->parser, &e)) {
			c->rc = SL_EPARSE;
			return;
		}
		if (e.type == YAML_MAPPING_START_EVENT || e.type == YAML_SEQUENCE_START_EVENT)
			level++;
		else if (e.type == YAML_MAPPING_END_EVENT || e.type == YAML_SEQUENCE_END_EVENT)
			level--;
		yaml_event_delete(&e);
	}
}

static bool next_event(struct conv *c, yaml_event_t *ev)
{
	if (yaml_parser_parse(&c->parser, ev))
		return true;
	c->rc = SL_EPARSE;
	return false;
}

/* With *ev the start of a mapping, advances to the value of key; false if absent. */
static bool enter_key(struct conv *c, yaml_event_t *ev, const char *key, size_t klen)
{
	if (ev->type != YAML_MAPPING_START_EVENT)
		return false;
	yaml_event_delete(ev);
	for (;;) {
		yaml_event_t k;
		if (!next_event(c, &k))
			return false;
		if (k.type == YAML_MAPPING_END_EVENT) {
			yaml_event_delete(&k);
			return false;
		}
		bool match = k.type == YAML_SCALAR_EVENT && k.data.scalar.length == klen &&
			     memcmp(k.data.scalar.value, key, klen) == 0;
		yaml_event_delete(&k);
		if (!next_event(c, ev))
			return false;
		if (match)
			return true;
		skip(c, ev);
	}
}

/* With *ev the start of a sequence, advances to entry idx; false if absent. */
static bool enter_index(struct conv *c, yaml_event_t *ev, unsigned long idx)
{
	if (ev->type != YAML_SEQUENCE_START_EVENT)
		return false;
	yaml_event_delete(ev);
	for (unsigned long i = 0;; i++) {
		if (!next_event(c, ev))
			return false;
		if (ev->type == YAML_SEQUENCE_END_EVENT)
			return false;
		if (i == idx)
			return true;
		skip(c, ev);
	}
}

static bool seek(struct conv *c, const char *path, yaml_event_t *ev)
{
	do { /* to the root node's first event */
		if (!next_event(c, ev))
			return false;
		if (ev->type == YAML_STREAM_END_EVENT)
			return false;
		if (ev->type == YAML_STREAM_START_EVENT || ev->type == YAML_DOCUMENT_START_EVENT)
			yaml_event_delete(ev);
		else
			break;
	} while (1);
	const char *p = path;
	while (*p) {
		size_t klen = strcspn(p, ".[");
		if (klen && !enter_key(c, ev, p, klen))
			return false;
		p += klen;
		while (*p == '[') {
			char *end;
			unsigned long idx = strtoul(p + 1, &end, 10);
			if (*end != ']' || !enter_index(c, ev, idx))
				return false;
			p = end + 1;
		}
		if (*p == '.')
			p++;
	}
	return true;
}
