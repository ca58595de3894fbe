/* table_jsonl.c: JSON Lines of flat objects: one object per line, each member a column;
 * strings and booleans are text, numbers are numbers, null (or an absent member) is missing.
 * Strict JSON (RFC 8259) within a line: no trailing commas, no comments, no raw control
 * characters in strings; escapes are decoded (\uXXXX as UTF-8, lone surrogates as U+FFFD).
 * Invariants: one forward scan; lines longer than max_line, nested objects or arrays, a
 * member given twice and anything after the object are errors naming the line; blank lines
 * are skipped. */
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

static int hex4(const char *s, const char *e, unsigned *out)
{
	unsigned v = 0;
	if (e - s < 4)
		return -1;
	for (int i = 0; i < 4; i++) {
		char c = s[i];
		unsigned d = c >= '0' && c <= '9'                 ? (unsigned)(c - '0')
		             : (c | 32) >= 'a' && (c | 32) <= 'f' ? (unsigned)((c | 32) - 'a' + 10)
		                                                  : 16;
		if (d == 16)
			return -1;
		v = v * 16 + d;
	}
	*out = v;
	return 0;
}

static int put_utf8(struct sl_buf *b, unsigned cp)
{
	char u[4];
	size_t n;
	if (cp < 0x80)
		u[0] = (char)cp, n = 1;
	else if (cp < 0x800)
		u[0] = (char)(0xC0 | cp >> 6), u[1] = (char)(0x80 | (cp & 0x3F)), n = 2;
	else if (cp < 0x10000)
		u[0] = (char)(0xE0 | cp >> 12), u[1] = (char)(0x80 | ((cp >> 6) & 0x3F)),
		u[2] = (char)(0x80 | (cp & 0x3F)), n = 3;
	else
		u[0] = (char)(0xF0 | cp >> 18), u[1] = (char)(0x80 | ((cp >> 12) & 0x3F)),
		u[2] = (char)(0x80 | ((cp >> 6) & 0x3F)), u[3] = (char)(0x80 | (cp & 0x3F)), n = 4;
	return sl_buf_append(b, u, n);
}

/* \uXXXX at s (after the backslash and 'u'), a surrogate pair joined; *s moves past it. */
static int unicode(const char **s, const char *e, struct sl_buf *b)
{
	unsigned cp, lo;
	if (hex4(*s, e, &cp))
		return -1;
	*s += 4;
	if (cp >= 0xD800 && cp < 0xDC00 && e - *s >= 6 && (*s)[0] == '\\' && (*s)[1] == 'u' &&
	    hex4(*s + 2, e, &lo) == 0 && lo >= 0xDC00 && lo < 0xE000) {
		cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
		*s += 6;
	} else if (cp >= 0xD800 && cp < 0xE000) {
		cp = 0xFFFD;
	}
	return put_utf8(b, cp);
}

static int escape(const char **s, const char *e, struct sl_buf *b)
{
	static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
	if (*s >= e)
		return -1;
	char c = *(*s)++;
	if (c == 'u')
		return unicode(s, e, b);
	const char *k = memchr(from, c, sizeof from - 1);
	return k ? sl_buf_append(b, &to[k - from], 1) : -1;
}

/* A string from its opening quote: a slice of the line, or decoded into b. */
static int string(struct jl *j, struct sl_buf *b, const char **v, size_t *n)
{
	const char *s = ++j->p, *start = s;
	bool esc = false;
	for (; s < j->e && *s != '"'; s++) {
		if ((unsigned char)*s < 0x20)
			return bad(j, "control character in a string");
		if (*s == '\\' && s + 1 < j->e)
			esc = true, s++; /* the escaped character cannot end the string */
	}
	if (s >= j->e)
		return bad(j, "unterminated string");
	j->p = s + 1;
	if (!esc) {
		*v = start, *n = (size_t)(s - start);
		return 0;
	}
	sl_buf_reset(b);
	for (const char *t = start; t < s;) {
		int rc = *t == '\\' ? (t++, escape(&t, s, b)) : sl_buf_append(b, t++, 1);
		if (rc)
			return bad(j, "invalid escape in a string");
	}
	*v = b->data, *n = b->len;
	return 0;
}

static size_t digits(const char *s, const char *e)
{
	size_t n = 0;
	while (s + n < e && s[n] >= '0' && s[n] <= '9')
		n++;
	return n;
}

/* RFC 8259 number: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? */
static int number(struct jl *j, const char **v, size_t *n)
{
	const char *s = j->p, *e = j->e;
	s += s < e && *s == '-';
	size_t d = digits(s, e);
	if (d == 0 || (d > 1 && *s == '0'))
		return bad(j, "invalid number");
	s += d;
	if (s < e && *s == '.') {
		if ((d = digits(++s, e)) == 0)
			return bad(j, "invalid number");
		s += d;
	}
	if (s < e && (*s == 'e' || *s == 'E')) {
		s++;
		s += s < e && (*s == '+' || *s == '-');
		if ((d = digits(s, e)) == 0)
			return bad(j, "invalid number");
		s += d;
	}
	*v = j->p, *n = (size_t)(s - j->p);
	j->p = s;
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
	const char *v;
	size_t n;
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
