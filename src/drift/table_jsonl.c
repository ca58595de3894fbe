/* table_jsonl.c: JSON Lines of flat objects: one object per line, each member a column;
 * strings and booleans are text, numbers are numbers, null (or an absent member) is missing.
 * Strict JSON (RFC 8259) within a line: no trailing commas, no comments, no raw control
 * characters in strings; escapes are decoded (\uXXXX as UTF-8, lone surrogates as U+FFFD).
 * Invariants: one forward scan; lines longer than max_line, nested objects or arrays, a
 * member given twice and anything after the object are errors naming the line; blank lines
 * are skipped. */
#include "../core/json-int.h"
#include "table-int.h"

struct jl {
	struct sl__load *L;
	const char *p, *e; /* the current line */
	struct sl_buf key; /* decoded member name, when it has escapes */
	const char *kp;    /* the current member name */
	size_t kn;
};

static int bad(struct jl *j, const char *what)
{
	return sl__load_fail(j->L, SL_EPARSE, j->L->line, "%s", what);
}

static void ws(struct jl *j)
{
	while (j->p < j->e && (*j->p == ' ' || *j->p == '\t' || *j->p == '\r'))
		j->p++;
}

/* A string from its opening quote: a slice of the line, or decoded into b. */
static int string(struct jl *j, struct sl_buf *b, const char **v, size_t *n)
{
	struct sl__json_str t;
	const char *why;
	if (sl__json_str_read(j->p, j->e, b, &t, &why))
		return bad(j, why);
	j->p = t.end;
	*v = t.v, *n = t.n;
	return 0;
}

static int number(struct jl *j, const char **v, size_t *n)
{
	size_t len = sl__json_num_len(j->p, j->e);
	if (len == 0)
		return bad(j, "invalid number");
	*v = j->p, *n = len;
	j->p += len;
	return 0;
}

static int literal(struct jl *j, const char *word, enum sl__vkind k, const char **v, size_t *n, enum sl__vkind *kind)
{
	size_t len = strlen(word);
	if ((size_t)(j->e - j->p) < len || memcmp(j->p, word, len) != 0)
		return bad(j, "invalid value");
	*v = j->p, *n = len, *kind = k;
	j->p += len;
	return 0;
}

static int value(struct jl *j, const char **v, size_t *n, enum sl__vkind *k)
{
	char show[48];
	if (j->p >= j->e)
		return bad(j, "missing value");
	switch (*j->p) {
	case '"':
		*k = SL__V_STR;
		return string(j, &j->L->scratch, v, n);
	case 't':
		return literal(j, "true", SL__V_BOOL, v, n, k);
	case 'f':
		return literal(j, "false", SL__V_BOOL, v, n, k);
	case 'n':
		return literal(j, "null", SL__V_NULL, v, n, k);
	case '{':
	case '[':
		return sl__load_fail(j->L, SL_EPARSE, j->L->line, "member '%s': nested values are not supported",
		                     sl__load_show(show, sizeof show, j->kp, j->kn));
	default:
		*k = SL__V_NUM;
		return number(j, v, n);
	}
}

/* One "key": value member, stored when its column is kept. */
static int member(struct jl *j)
{
	const char *v = NULL; /* set by value() whenever it returns 0 (-O3 cannot tell) */
	size_t n = 0;
	enum sl__vkind k = 0;
	char show[48];
	if (j->p >= j->e || *j->p != '"')
		return bad(j, "expected a member name");
	int rc = string(j, &j->key, &j->kp, &j->kn);
	if (rc)
		return rc;
	ws(j);
	if (j->p >= j->e || *j->p++ != ':')
		return bad(j, "expected ':'");
	ws(j);
	long idx;
	if ((rc = value(j, &v, &n, &k)) || (rc = sl__load_column(j->L, j->kp, j->kn, &idx)) || idx < 0)
		return rc;
	if (j->L->stamp[idx] == j->L->row + 1)
		return sl__load_fail(j->L, SL_EPARSE, j->L->line, "member '%s' given twice",
		                     sl__load_show(show, sizeof show, j->kp, j->kn));
	j->L->stamp[idx] = j->L->row + 1;
	return sl__load_value(j->L, (size_t)idx, v, n, k);
}

static int object(struct jl *j)
{
	ws(j);
	if (j->p >= j->e || *j->p++ != '{')
		return bad(j, "expected a JSON object");
	ws(j);
	bool empty = j->p < j->e && *j->p == '}';
	j->p += empty;
	while (!empty) {
		int rc = member(j);
		if (rc)
			return rc;
		ws(j);
		if (j->p < j->e && *j->p == ',') {
			j->p++, ws(j);
			continue;
		}
		if (j->p >= j->e || *j->p++ != '}')
			return bad(j, "expected ',' or '}'");
		break;
	}
	ws(j);
	if (j->p != j->e)
		return bad(j, "text after the object");
	j->L->row++;
	return 0;
}

static bool blank(const char *p, const char *e)
{
	for (; p < e; p++)
		if (*p != ' ' && *p != '\t' && *p != '\r')
			return false;
	return true;
}

int sl__jsonl_pass(struct sl__load *L)
{
	const char *p = L->in->data, *end = p + L->in->len;
	if (L->in->len >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0)
		p += 3;
	struct jl j = {.L = L};
	sl_buf_init(&j.key, L->o->max_line + 16);
	int rc = 0;
	for (uint64_t line = 1; rc == 0 && p < end; line++) {
		const char *nl = memchr(p, '\n', (size_t)(end - p)), *e = nl ? nl : end;
		L->line = line;
		if ((size_t)(e - p) > L->o->max_line)
			rc = sl__load_fail(L, SL_ETOOBIG, line, "line longer than %zu bytes", L->o->max_line);
		else if (!blank(p, e))
			j.p = p, j.e = e, rc = object(&j);
		p = nl ? nl + 1 : end;
	}
	sl_buf_release(&j.key);
	return rc;
}
