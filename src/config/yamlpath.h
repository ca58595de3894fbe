/* yamlpath.h: line lookup of a dotted/indexed path in YAML text (private to config). Every
 * function takes the same bytes libcyaml loaded, so a file edited meanwhile cannot mislead it. */
#ifndef SLUICE_YAMLPATH_H
#define SLUICE_YAMLPATH_H

#include <stdbool.h>
#include <stddef.h>

/* Returns the 1-based line of the node at path ("a.b[2].c"), or 0 if it is not there. For a
 * mapping field that is the line of its key; for a sequence entry, the line its value starts on;
 * "" names the root node. */
int sl_yaml_locate(const char *data, size_t len, const char *path);

/* Like sl_yaml_locate, but of the nth occurrence (1-based) of path: a key repeated in one mapping
 * occurs more than once. If the value there is a plain or quoted scalar, copies its text into
 * text[cap] (truncated) and sets *is_scalar; text may be NULL. Only the first document counts. */
int sl_yaml_find(const char *data, size_t len, const char *path, int nth, char *text, size_t cap, bool *is_scalar);

/* Parses all of data; on a syntax error writes libyaml's problem (and its context, with the
 * line the context started on) into msg[cap] and returns the 1-based line of the problem.
 * Returns 0 if it parses. */
int sl_yaml_syntax_error(const char *data, size_t len, char *msg, size_t cap);

struct sl_buf;
/* yamljson.c: appends the node at path as JSON text; SL_ENOTFOUND when it is not there,
 * SL_EINVAL for anchors, aliases, tags or non-scalar keys, SL_EPARSE for invalid YAML. */
int sl_yaml_to_json(const char *data, size_t len, const char *path, struct sl_buf *out);

#endif
