/* expo.h: helpers shared by the metrics unit tests: building events, reading samples back out
 * of an exposition, an independent validator for the text format, and promtool. */
#ifndef SLUICE_TEST_EXPO_H
#define SLUICE_TEST_EXPO_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sluice/metrics.h"

static inline struct sl_event ev_make(const char *model, const char *version, int status, double total_s)
{
	struct sl_event ev;
	sl_event_init(&ev);
	ev.model = model;
	ev.version = version;
	ev.status = status;
	ev.total_s = total_s;
	return ev;
}

/* Renders m into a fresh, NUL-terminated string the caller frees. */
static inline char *expo_render(const struct sl_metrics *m)
{
	struct sl_buf b;
	sl_buf_init(&b, 0);
	if (sl_metrics_render(m, &b) || !b.data) {
		sl_buf_release(&b);
		return NULL;
	}
	return b.data;
}

/* Value of the sample whose text before the value is exactly series, or NAN if absent. */
static inline double expo_value(const char *text, const char *series)
{
	size_t n = strlen(series);
	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (strncmp(p, series, n) == 0 && p[n] == ' ')
			return strtod(p + n + 1, NULL);
	return NAN;
}

/* Number of lines that start with prefix. */
static inline int expo_lines(const char *text, const char *prefix)
{
	int count = 0;
	size_t n = strlen(prefix);
	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		count += strncmp(p, prefix, n) == 0;
	return count;
}

/* UTF-8 check written independently of the library: decode, then check the code point. */
static inline int expo_utf8_ok(const unsigned char *s, size_t n)
{
	for (size_t i = 0; i < n;) {
		unsigned c = s[i], need, cp;
		if (c < 0x80) {
			i++;
			continue;
		}
		if ((c & 0xE0) == 0xC0)
			need = 1, cp = c & 0x1F;
		else if ((c & 0xF0) == 0xE0)
			need = 2, cp = c & 0x0F;
		else if ((c & 0xF8) == 0xF0)
			need = 3, cp = c & 0x07;
		else
			return 0;
		if (i + need >= n)
			return 0;
		for (unsigned k = 1; k <= need; k++) {
			if ((s[i + k] & 0xC0) != 0x80)
				return 0;
			cp = cp << 6 | (s[i + k] & 0x3F);
		}
		unsigned min = need == 1 ? 0x80 : need == 2 ? 0x800 : 0x10000;
		if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
			return 0;
		i += need + 1;
	}
	return 1;
}

static inline int expo_name_char(char c, int first)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' ||
	       (!first && c >= '0' && c <= '9');
}

/* Length of a metric or label name at p (0 if none). */
static inline size_t expo_name(const char *p)
{
	size_t n = 0;
	while (expo_name_char(p[n], n == 0))
		n++;
	return n;
}

/* Parses '{name="value",...}' at *pp; returns NULL or an error. */
static inline const char *expo_labels(const char **pp)
{
	const char *p = *pp + 1;
	char seen[16][64];
	int nseen = 0;
	while (*p != '}') {
		size_t n = expo_name(p);
		if (!n || n >= 64 || p[n] != '=' || p[n + 1] != '"')
			return "bad label name";
		for (int i = 0; i < nseen; i++)
			if (strlen(seen[i]) == n && memcmp(seen[i], p, n) == 0)
				return "repeated label";
		if (nseen < 16) {
			memcpy(seen[nseen], p, n);
			seen[nseen++][n] = '\0';
		}
		for (p += n + 2; *p != '"'; p++) {
			if (*p == '\n' || *p == '\0')
				return "unterminated label value";
			if (*p == '\\' && (p[1] == '\\' || p[1] == '"' || p[1] == 'n'))
				p++;
			else if (*p == '\\')
				return "bad escape in label value";
		}
		p++;
		if (*p == ',')
			p++;
		else if (*p != '}')
			return "expected , or }";
	}
	*pp = p + 1;
	return NULL;
}

static inline int expo_value_ok(const char *p, const char *end)
{
	char *e;
	if ((end - p == 4 && (memcmp(p, "+Inf", 4) == 0 || memcmp(p, "-Inf", 4) == 0)) ||
	    (end - p == 3 && memcmp(p, "NaN", 3) == 0))
		return 1;
	strtod(p, &e);
	return e == end && e > p;
}

/* A sample name is its family's name, plus _bucket, _sum or _count for a histogram. */
static inline int expo_suffix_ok(const char *type, const char *suffix, size_t n)
{
	if (strcmp(type, "histogram") != 0)
		return n == 0;
	return (n == 7 && memcmp(suffix, "_bucket", 7) == 0) || (n == 4 && memcmp(suffix, "_sum", 4) == 0) ||
	       (n == 6 && memcmp(suffix, "_count", 6) == 0);
}

static inline int expo_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Checks a text exposition: line syntax, escapes, UTF-8, HELP and TYPE once per family, families
 * contiguous, samples named after their family, no duplicate series. Returns NULL if fine, else a
 * message (static storage). */
static inline const char *expo_validate(const char *text)
{
	static char err[256];
	char family[256] = "", type[16] = "";
	char **keys = NULL, **seen = NULL;
	size_t nkeys = 0, capkeys = 0, nseen = 0, len = strlen(text);
	const char *msg = NULL;
	int lineno = 0;
	if (!expo_utf8_ok((const unsigned char *)text, len))
		return "invalid UTF-8";
	if (len && text[len - 1] != '\n')
		return "no final newline";
	for (const char *p = text; *p && !msg;) {
		const char *eol = strchr(p, '\n');
		lineno++;
		if (strncmp(p, "# HELP ", 7) == 0 || strncmp(p, "# TYPE ", 7) == 0) {
			size_t n = expo_name(p + 7);
			if (!n || n >= sizeof(family) || p[7 + n] != ' ')
				msg = "bad comment line";
			else if (p[2] == 'H') {
				for (size_t i = 0; i < nseen && !msg; i++)
					if (strlen(seen[i]) == n && memcmp(seen[i], p + 7, n) == 0)
						msg = "family repeated (not contiguous)";
				seen = realloc(seen, (nseen + 1) * sizeof(*seen));
				seen[nseen++] = strndup(p + 7, n);
				memcpy(family, p + 7, n);
				family[n] = '\0';
				type[0] = '\0';
			} else {
				size_t tl = (size_t)(eol - (p + 8 + n));
				if (strlen(family) != n || memcmp(family, p + 7, n) != 0 || type[0])
					msg = "TYPE without its HELP";
				else if (tl >= sizeof(type))
					msg = "bad type";
				else {
					memcpy(type, p + 8 + n, tl);
					type[tl] = '\0';
					if (strcmp(type, "counter") && strcmp(type, "gauge") &&
					    strcmp(type, "histogram"))
						msg = "bad type";
				}
			}
		} else if (*p == '#') {
			msg = "unexpected comment";
		} else {
			size_t n = expo_name(p), fl = strlen(family);
			const char *q = p + n;
			if (!n || !type[0] || n < fl || memcmp(p, family, fl) != 0)
				msg = "sample outside its family";
			else if (!expo_suffix_ok(type, p + fl, n - fl))
				msg = "sample name does not match its family";
			else if (*q == '{')
				msg = expo_labels(&q);
			if (!msg && *q != ' ')
				msg = "expected space before value";
			else if (!msg && !expo_value_ok(q + 1, eol))
				msg = "bad value";
			if (!msg) {
				if (nkeys == capkeys) {
					capkeys = capkeys ? 2 * capkeys : 1024;
					keys = realloc(keys, capkeys * sizeof(*keys));
				}
				keys[nkeys++] = strndup(p, (size_t)(q - p));
			}
		}
		p = eol + 1;
	}
	if (!msg && nkeys) {
		qsort(keys, nkeys, sizeof(*keys), expo_cmp);
		for (size_t i = 1; i < nkeys && !msg; i++)
			if (strcmp(keys[i - 1], keys[i]) == 0)
				msg = "duplicate series";
	}
	for (size_t i = 0; i < nkeys; i++)
		free(keys[i]);
	for (size_t i = 0; i < nseen; i++)
		free(seen[i]);
	free(keys);
	free(seen);
	if (msg)
		snprintf(err, sizeof(err), "line %d: %s", lineno, msg);
	return msg ? err : NULL;
}

/* 1 when promtool is on PATH. */
static inline int promtool_available(void)
{
	return system("command -v promtool >/dev/null 2>&1") == 0;
}

/* Runs `promtool check metrics` on text; returns its exit status and copies its output into
 * report (NUL-terminated). */
static inline int promtool_check(const char *text, char *report, size_t cap)
{
	char path[] = "/tmp/sluice-metrics-XXXXXX", cmd[128];
	int fd = mkstemp(path);
	if (fd < 0)
		return -1;
	size_t len = strlen(text);
	if (write(fd, text, len) != (ssize_t)len) {
		close(fd);
		unlink(path);
		return -1;
	}
	close(fd);
	snprintf(cmd, sizeof(cmd), "promtool check metrics < %s 2>&1", path);
	FILE *p = popen(cmd, "r");
	size_t got = p ? fread(report, 1, cap - 1, p) : 0;
	report[got] = '\0';
	int status = p ? pclose(p) : -1;
	unlink(path);
	return status;
}

/* The fixture of every metrics test file: a fresh registry `m`, and `text` (a rendering the
 * test may fill) freed after each test. */
#define METRICS_FIXTURE(suite)                                                                                        \
	static struct sl_metrics *m;                                                                                   \
	static char *text;                                                                                             \
	static void setup(void)                                                                                        \
	{                                                                                                              \
		m = sl_metrics_new();                                                                                  \
		cr_assert_not_null(m);                                                                                 \
	}                                                                                                              \
	static void teardown(void)                                                                                     \
	{                                                                                                              \
		free(text);                                                                                            \
		sl_metrics_free(m);                                                                                    \
	}                                                                                                              \
	TestSuite(suite, .init = setup, .fini = teardown);

#endif
