/* rules_file.c: the rules text format, one rule a line:
 *   ID  CATEGORY  WEIGHT  EXPRESSION
 * (blank lines and '#' comments ignored), read from memory or a file.
 * Invariants: a failing call adds nothing (rules added before the bad line are removed again);
 * errors read "NAME:LINE: reason"; files are read whole, at most MAX_FILE bytes. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "guard-int.h"

#define MAX_FILE ((size_t)4 << 20)
#define MAX_LINE 8192

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

/* The next field of line[*i..len): its start and length; *i moves past it and the spaces. */
static struct sl_slice field(const char *line, size_t len, size_t *i)
{
	size_t s = *i;
	while (s < len && is_space(line[s]))
		s++;
	size_t e = s;
	while (e < len && !is_space(line[e]))
		e++;
	*i = e;
	return sl_slice_make(line + s, e - s);
}

static bool valid_id(struct sl_slice id)
{
	if (id.len == 0 || id.len >= SL_GUARD_RULE_ID_MAX)
		return false;
	for (size_t i = 0; i < id.len; i++) {
		char c = id.ptr[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || strchr("._-", c)))
			return false;
	}
	return true;
}

static bool id_taken(const struct sl_guard_rules *r, struct sl_slice id)
{
	for (unsigned i = 0; i < r->n; i++)
		if (sl_slice_eq(id, r->rules[i].id))
			return true;
	return false;
}

static int parse_weight(struct sl_slice f, double *w)
{
	char tmp[32];
	if (f.len == 0 || f.len >= sizeof(tmp))
		return SL_EINVAL;
	memcpy(tmp, f.ptr, f.len);
	tmp[f.len] = '\0';
	if (sl_parse_double(tmp, w) || !(*w > 0 && *w <= 1))
		return SL_EINVAL;
	return 0;
}

static int parse_line(struct sl_guard_rules *r, const char *line, size_t len, unsigned file, unsigned lineno,
                      const char *name, char *err, size_t errlen)
{
	size_t i = 0;
	struct sl_slice id = field(line, len, &i), cat = field(line, len, &i), w = field(line, len, &i);
	struct sl_guard_rule rule = {0};
	char catname[16] = "";
	while (i < len && is_space(line[i]))
		i++;
	while (len > i && is_space(line[len - 1]))
		len--;
	if (!valid_id(id))
		return sl__gerr(SL_EINVAL, err, errlen, "%s:%u: rule id: must be 1 to %d letters, digits, '.', '_' or '-'",
		                name, lineno, SL_GUARD_RULE_ID_MAX - 1);
	memcpy(rule.id, id.ptr, id.len);
	if (id_taken(r, id))
		return sl__gerr(SL_EINVAL, err, errlen, "%s:%u: rule %s: id already used", name, lineno, rule.id);
	if (cat.len < sizeof(catname))
		memcpy(catname, cat.ptr, cat.len);
	if (sl_guard_category_parse(catname, &rule.category))
		return sl__gerr(SL_EINVAL, err, errlen,
		                "%s:%u: rule %s: category must be override, role, secret, template, exfil or address", name,
		                lineno, rule.id);
	if (parse_weight(w, &rule.weight))
		return sl__gerr(SL_EINVAL, err, errlen, "%s:%u: rule %s: weight must be a number in (0, 1]", name, lineno,
		                rule.id);
	if (i >= len)
		return sl__gerr(SL_EINVAL, err, errlen, "%s:%u: rule %s: expression missing", name, lineno, rule.id);
	int rc = sl__rules_push(r, &rule, line + i, len - i, file, lineno);
	return rc ? sl__gerr(rc, err, errlen, "%s:%u: %s", name, lineno, sl_strerror(rc)) : 0;
}

static int parse_lines(struct sl_guard_rules *r, unsigned file, const char *name, const char *text, size_t len,
                       char *err, size_t errlen)
{
	unsigned lineno = 0;
	for (size_t i = 0; i < len;) {
		const char *nl = memchr(text + i, '\n', len - i);
		size_t e = nl ? (size_t)(nl - text) : len, s = i;
		lineno++;
		i = e + 1;
		while (s < e && is_space(text[s]))
			s++;
		if (s == e || text[s] == '#')
			continue;
		if (e - s > MAX_LINE)
			return sl__gerr(SL_ETOOBIG, err, errlen, "%s:%u: line longer than %d bytes", name, lineno, MAX_LINE);
		if (memchr(text + s, '\0', e - s))
			return sl__gerr(SL_EINVAL, err, errlen, "%s:%u: NUL byte in line", name, lineno);
		int rc = parse_line(r, text + s, e - s, file, lineno, name, err, errlen);
		if (rc)
			return rc;
	}
	return 0;
}

static void drop_from(struct sl_guard_rules *r, unsigned n)
{
	while (r->n > n)
		free(r->exprs[--r->n]);
}

int sl_guard_rules_add_text(struct sl_guard_rules *r, const char *name, const char *text, size_t len, char *err,
                            size_t errlen)
{
	unsigned file, before = r->n;
	if (r->db)
		return sl__gerr(SL_ESTATE, err, errlen, "%s: rules already compiled", name);
	int rc = sl__rules_add_file_name(r, name, &file);
	if (rc)
		return sl__gerr(rc, err, errlen, "%s: %s", name, sl_strerror(rc));
	rc = parse_lines(r, file, name, text, len, err, errlen);
	if (rc)
		drop_from(r, before);
	return rc;
}

static int read_file(const char *path, struct sl_buf *b, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return sl__gerr(SL_EIO, err, errlen, "cannot open '%s': %s", path, strerror(errno));
	char chunk[16384];
	size_t n;
	int rc = 0;
	while (!rc && (n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		rc = sl_buf_append(b, chunk, n);
	if (!rc && ferror(f))
		rc = sl__gerr(SL_EIO, err, errlen, "cannot read '%s': %s", path, strerror(errno));
	else if (rc)
		sl__gerr(rc, err, errlen, "cannot read '%s': %s", path,
		         rc == SL_ETOOBIG ? "larger than 4 MiB" : sl_strerror(rc));
	fclose(f);
	return rc;
}

int sl_guard_rules_add_file(struct sl_guard_rules *r, const char *path, char *err, size_t errlen)
{
	struct sl_buf b;
	sl_buf_init(&b, MAX_FILE);
	int rc = read_file(path, &b, err, errlen);
	if (!rc)
		rc = sl_guard_rules_add_text(r, path, b.data ? b.data : "", b.len, err, errlen);
	sl_buf_release(&b);
	return rc;
}
