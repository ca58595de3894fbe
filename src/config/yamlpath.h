/* yamlpath.h: line lookup of a dotted/indexed path in a YAML file (private to config). */
#ifndef SLUICE_YAMLPATH_H
#define SLUICE_YAMLPATH_H

/* Returns the 1-based line of the node at path ("a.b[2].c"), or 0 if it is not there. */
int sl_yaml_locate(const char *file, const char *path);

#endif
