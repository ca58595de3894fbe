/* cyamllog.h: turns libcyaml's error log into a field path and a plain reason (private to config).
 * libcyaml logs a message, then a backtrace innermost first, counting sequence entries from 1;
 * for errors about a mapping's keys its innermost field is stale, so the path is rebuilt here. */
#ifndef SLUICE_CYAMLLOG_H
#define SLUICE_CYAMLLOG_H

#include <cyaml/cyaml.h>
#include <stdarg.h>
#include <stdbool.h>

#define SL_CYAML_MAX_SEGS 32

struct sl_cyaml_seg {
	enum { SL_SEG_FIELD, SL_SEG_ENTRY, SL_SEG_MAPPING } kind;
	char name[128]; /* SL_SEG_FIELD */
	unsigned entry; /* SL_SEG_ENTRY, 0-based */
	int line;       /* libcyaml's mark, 0 if none */
};

struct sl_cyaml_log {
	char msg[256];                               /* the first error, without "Load: " */
	struct sl_cyaml_seg segs[SL_CYAML_MAX_SEGS]; /* innermost first */
	int nsegs;
	bool in_backtrace;
};

/* What went wrong and where. */
struct sl_cyaml_error {
	char path[512];   /* "" for the document itself */
	char reason[512]; /* lower case, no period */
	int nth;          /* which occurrence of path is meant (2 for a key given twice) */
	int line_hint;    /* libcyaml's line, for when path cannot be found in the file */
	bool syntax;      /* libyaml could not parse the file: the path means little */
};

/* A cyaml_log_fn_t; ctx is a struct sl_cyaml_log, zeroed before loading. */
void sl_cyaml_log_fn(cyaml_log_t level, void *ctx, const char *fmt, va_list args);
void sl_cyaml_explain(const struct sl_cyaml_log *log, cyaml_err_t err, struct sl_cyaml_error *out);

#endif
