/* table_csv.c: RFC 4180 CSV: a header row, then records of as many fields; fields separated by
 * commas, records by LF, CRLF or CR; a field in double quotes may hold commas, line breaks and
 * doubled quotes. Blank lines are skipped (as pandas does); a UTF-8 byte order mark is skipped.
 * Unquoted fields end at the next set bit of a 64-byte window's separator mask (one SIMD scan
 * finds the ends of several fields). An input given by a reader comes in pieces through one
 * reused buffer (a piece is replaced only between records, so a record is contiguous).
 * Invariants: one forward scan; a field is a slice of the input unless it holds doubled quotes
 * (then it is unescaped into L->scratch); line numbers count the line breaks inside quoted
 * fields, and an error names the line where its record starts; a record longer than max_line,
 * a header wider than max_columns, a field count different from the header's, an unterminated
 * quote or text after a closing quote is an error. In pieces, a record starts only before
 * c->safe: before the last line break ahead of any quote (its end is in the buffer), or with at
 * least max_line + 2 bytes after it in the buffer (a longer record is an error, and a quoted
 * field that runs past the buffer is decided by reading on: the same error as from the whole
 * input); pending counts are made before the buffer changes. */
#include <stdio.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "table-int.h"

struct csv {
	struct sl__load *L;
	const char *p, *end, *rec;
	const char *safe;  /* a record starting before it is whole in [rec, end), or an error */
	size_t max_line;   /* L->o->max_line */
	const char *start; /* the input's bytes in memory: from offset off to end */
	char *buf;         /* pieces: the buffer (cap bytes) that start points at, else NULL */
	size_t cap;
	uint64_t off;
	bool eof; /* end is the input's end */
	const char *blk; /* a window of 64 bytes of the input whose separators are in bits */
	uint64_t bits;   /* bit i: blk[i] is a comma or a line break */
	uint64_t line;
	long *map; /* header position -> column, -1 when not kept */
	unsigned char *plan; /* header position -> its column's sl__plan (kept columns) */
	uint32_t *ends;      /* a simple record's field ends (simple_record), width of them */
	size_t width;
};

enum term { T_FIELD, T_RECORD, T_EOF };

/* Each record asks for the file's bytes this far ahead: page-cache pages are 4 KiB, and the
 * hardware prefetcher stops at each page's end (on the development guest, 57 % of the field
 * scanner's time was its first load of the bytes). */
#define PREFETCH_AHEAD 2048

/* Bytes that end an unquoted field. */
static const unsigned char stop[256] = {[','] = 1, ['\n'] = 1, ['\r'] = 1};

/* The first comma or line break in [q, e), or e; 16 bytes at a time where SSE2 exists. */
static const char *scan_unquoted(const char *q, const char *e)
{
#ifdef __SSE2__
	const __m128i comma = _mm_set1_epi8(','), nl = _mm_set1_epi8('\n'), cr = _mm_set1_epi8('\r');
	for (; e - q >= 16; q += 16) {
		__m128i x = _mm_loadu_si128((const __m128i *)(const void *)q);
		__m128i hit =
		    _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, comma), _mm_cmpeq_epi8(x, nl)), _mm_cmpeq_epi8(x, cr));
		int m = _mm_movemask_epi8(hit);
		if (m)
			return q + __builtin_ctz((unsigned)m);
	}
#endif
	while (q < e && !stop[(unsigned char)*q])
		q++;
	return q;
}

/* Bit i set when q[i] (i < 16) is one of the three bytes of stop. */
#ifdef __SSE2__
static inline uint64_t stops16(const char *q)
{
	__m128i x = _mm_loadu_si128((const __m128i *)(const void *)q);
	__m128i hit =
	    _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8(',')), _mm_cmpeq_epi8(x, _mm_set1_epi8('\n'))),
	                 _mm_cmpeq_epi8(x, _mm_set1_epi8('\r')));
	return (uint64_t)(unsigned)_mm_movemask_epi8(hit);
}
#else
static inline uint64_t stops16(const char *q)
{
	uint64_t m = 0;
	for (unsigned i = 0; i < 16; i++)
		m |= (uint64_t)stop[(unsigned char)q[i]] << i;
	return m;
}
#endif

/* The first comma or line break in [q, c->end), or c->end: found in the bits of the 64-byte
 * window at c->blk while q is inside it, else the window moves to q (one scan finds the ends
 * of the next several fields). The window's bits describe the input, which never changes, so
 * they stay right whatever else moves c->p. */
static inline __attribute__((always_inline)) const char *next_stop(struct csv *c, const char *q)
{
	size_t off = (size_t)(q - c->blk);
	uint64_t m = off < 64 ? c->bits >> off : 0;
	if (m)
		return q + __builtin_ctzll(m);
	if (c->end - q < 64)
		return scan_unquoted(q, c->end);
	c->blk = q;
	c->bits = stops16(q) | stops16(q + 16) << 16 | stops16(q + 32) << 32 | stops16(q + 48) << 48;
	return c->bits ? q + __builtin_ctzll(c->bits) : scan_unquoted(q + 64, c->end);
}

static enum term ending(struct csv *c)
{
	if (c->p >= c->end)
		return T_EOF;
	char ch = *c->p++;
	if (ch == ',')
		return T_FIELD;
	if (ch == '\r' && c->p < c->end && *c->p == '\n')
		c->p++;
	c->line++;
	return T_RECORD;
}

/* ---- the input in pieces ---- */

#define PIECE ((size_t)256 << 10) /* the buffer's first size: the copy stays in L2 */

/* Bytes after a record's start that hold all of it, or show it too long: max_line, and the
 * byte after a line break (a CR's LF). Saturated: a buffer never needs more than the input. */
static size_t reach(const struct csv *c)
{
	return c->max_line < SIZE_MAX / 4 ? c->max_line + 2 : SIZE_MAX / 4;
}

/* Reads on into [end, buf + cap) until the buffer is full or the input ends. */
static int fill(struct csv *c)
{
	const struct sl_drift_reader *rd = c->L->rd;
	uint64_t len = c->L->in->len;
	while (!c->eof && c->end < c->buf + c->cap) {
		uint64_t at = c->off + (uint64_t)(c->end - c->start);
		size_t want = (size_t)(c->buf + c->cap - c->end);
		if (at < len && len - at < want)
			want = (size_t)(len - at);
		int64_t r = at < len ? rd->read(rd->arg, at, c->buf + (c->end - c->start), want) : 0;
		if (r > (int64_t)want) /* a reader that wrote past n: refused, not trusted */
			r = SL_EIO;
		if (r < 0)
			return sl__load_fail(c->L, (int)r, 0, "cannot read: %s", sl_strerror((int)r));
		c->eof = r == 0;
		c->end += r;
	}
	return 0;
}

/* Where records stop starting in the buffer: just past the last line break before the first
 * quote (with its next byte in the buffer: a CR's LF), since every record before it ends there;
 * or reach bytes before the end, if later; the end at the input's end. */
static const char *safe_end(const struct csv *c)
{
	if (c->eof)
		return c->end;
	const char *q = memchr(c->p, '"', (size_t)(c->end - c->p)), *s = q ? q : c->end;
	while (s > c->p && s[-1] != '\n' && (s[-1] != '\r' || s == c->end))
		s--;
	size_t r = reach(c);
	return (size_t)(c->end - c->p) >= r && c->end - r + 1 > s ? c->end - r + 1 : s;
}

/* The buffer twice as large: no record could start in a full one (from cap >= reach one can). */
static int widen(struct csv *c)
{
	size_t used = (size_t)(c->end - c->start), cap = c->cap * 2;
	char *b = realloc(c->buf, cap);
	if (!b)
		return sl__load_fail(c->L, SL_ENOMEM, 0, "out of memory");
	c->buf = b, c->cap = cap;
	c->start = c->p = b, c->end = b + used;
	return 0;
}

/* The next piece: the bytes from c->p moved to the buffer's start, then as many more as fit.
 * Between records only; the pending counts point into the buffer, so they are made first. */
static int refill(struct csv *c)
{
	struct sl__load *L = c->L;
	int rc = sl__load_settle(L, L->npend);
	size_t keep = (size_t)(c->end - c->p);
	c->off += (uint64_t)(c->p - c->start);
	memmove(c->buf, c->p, keep);
	c->start = c->p = c->buf, c->end = c->buf + keep;
	while (rc == 0 && (rc = fill(c)) == 0 && (c->safe = safe_end(c)) == c->p && !c->eof)
		rc = widen(c);
	c->blk = c->p, c->bits = 0; /* the window's bits described the bytes that were here */
	L->base = c->start, L->lim = c->end;
	return rc;
}

/* 1 when the input goes on at c->p (and a record starting there is in the buffer), 0 at its
 * end, or an error. */
static inline int more(struct csv *c)
{
	if (c->p < c->safe)
		return 1;
	int rc = c->eof ? 0 : refill(c);
	return rc ? rc : c->p < c->end;
}

/* A quoted field from s that runs past the buffer, so past max_line: the error that the whole
 * input gives, decided by reading on (into the buffer: the pass ends here). */
static int past_piece(struct csv *c, const char *s)
{
	struct sl__load *L = c->L;
	uint64_t at = c->off + (uint64_t)(s - c->start), len = 0; /* len: the unescaped bytes */
	bool quote = false, doubled = false;                       /* quote: the last byte was one */
	int next = -1, rc = 0;                                     /* the byte after the closing quote */
	while (next < 0 && rc == 0) {
		c->off = at, c->start = c->end = c->buf;
		if ((rc = fill(c)) != 0 || c->end == c->buf)
			break;
		for (const char *b = c->buf; b < c->end && next < 0; b++)
			if (quote && *b != '"')
				next = (unsigned char)*b;
			else if (quote || *b != '"')
				len++, doubled |= quote, quote = false;
			else
				quote = true;
		at += (uint64_t)(c->end - c->buf);
	}
	if (rc)
		return rc;
	if (next < 0 && !quote)
		return sl__load_fail(L, SL_EPARSE, L->line, "unterminated quoted field");
	if (next >= 0 && next != ',' && next != '\n' && next != '\r')
		return sl__load_fail(L, SL_EPARSE, L->line, "text after a closing quote");
	if (doubled && len > L->scratch.limit)
		return sl__load_fail(L, SL_ETOOBIG, L->line, "field too long");
	return sl__load_fail(L, SL_ETOOBIG, L->line, "record longer than %zu bytes", L->o->max_line);
}

/* ---- fields and records ---- */

/* A quoted field from just after its opening quote: *v, *n point at its unescaped text. */
static int quoted(struct csv *c, const char **v, size_t *n)
{
	const char *s = c->p;
	bool doubled = false;
	for (;;) {
		const char *q = memchr(c->p, '"', (size_t)(c->end - c->p));
		for (const char *t = memchr(c->p, '\n', (size_t)((q ? q : c->end) - c->p)); t;
		     t = memchr(t + 1, '\n', (size_t)((q ? q : c->end) - t - 1)))
			c->line++;
		if (!c->eof && (!q || q + 1 == c->end)) /* the quote, or the byte that tells its kind, is ahead */
			return past_piece(c, s);
		if (!q)
			return sl__load_fail(c->L, SL_EPARSE, c->L->line, "unterminated quoted field");
		c->p = q + 1;
		if (c->p < c->end && *c->p == '"') {
			doubled = true, c->p++;
			continue;
		}
		break;
	}
	*v = s, *n = (size_t)(c->p - 1 - s);
	if (c->p < c->end && *c->p != ',' && *c->p != '\n' && *c->p != '\r')
		return sl__load_fail(c->L, SL_EPARSE, c->L->line, "text after a closing quote");
	if (!doubled)
		return 0;
	struct sl_buf *b = &c->L->scratch;
	sl_buf_reset(b);
	for (size_t i = 0; i < *n; i++)
		if (sl_buf_append(b, &s[i], 1))
			return sl__load_fail(c->L, SL_ETOOBIG, c->L->line, "field too long");
		else if (s[i] == '"')
			i++;
	*v = b->data, *n = b->len;
	return 0;
}

/* The next field: its text, and what ends it (inline: the record loop keeps them in registers). */
static inline __attribute__((always_inline)) int field(struct csv *c, const char **v, size_t *n, enum term *t)
{
	if (c->p < c->end && *c->p == '"') {
		c->p++;
		int rc = quoted(c, v, n);
		if (rc)
			return rc;
	} else {
		const char *s = c->p;
		c->p = next_stop(c, c->p);
		*v = s, *n = (size_t)(c->p - s);
	}
	if (c->p < c->end && *c->p == ',') /* the common ending, without the call */
		c->p++, *t = T_FIELD;
	else
		*t = ending(c);
	if ((size_t)(c->p - c->rec) > c->max_line)
		return sl__load_fail(c->L, SL_ETOOBIG, c->L->line, "record longer than %zu bytes", c->max_line);
	return 0;
}

static bool blank_line(struct csv *c)
{
	if (c->p >= c->end || (*c->p != '\n' && *c->p != '\r'))
		return false;
	ending(c);
	return true;
}

/* Maps one header field to its column: "Unnamed: k" when empty, as pandas names it. */
static int header_field(struct csv *c, const char *v, size_t n, size_t k, bool *used)
{
	char unnamed[32], show[64];
	if (n == 0)
		n = (size_t)snprintf(unnamed, sizeof unnamed, "Unnamed: %zu", k), v = unnamed;
	long idx;
	int rc = sl__load_column(c->L, v, n, &idx);
	if (rc)
		return rc;
	if (idx >= 0 && used[idx])
		return sl__load_fail(c->L, SL_EPARSE, c->L->line, "duplicate column '%s'",
		                     sl__load_show(show, sizeof show, v, n));
	if (idx >= 0)
		used[idx] = true;
	bool keep = idx >= 0 && (c->L->pass == 1 || c->L->t->cols[idx].want_text);
	c->map[k] = keep ? idx : -1;
	return 0;
}

static int header(struct csv *c)
{
	size_t maxw = c->L->o->max_columns;
	bool *used = calloc(maxw + 1, sizeof *used);
	c->map = malloc((maxw + 1) * sizeof *c->map);
	c->plan = malloc(maxw + 1);
	c->ends = malloc((maxw + 1) * sizeof *c->ends);
	if (!used || !c->map || !c->plan || !c->ends) {
		free(used);
		return sl__load_fail(c->L, SL_ENOMEM, 0, "out of memory");
	}
	c->L->line = c->line;
	c->rec = c->p;
	enum term t = T_FIELD;
	int rc = 0;
	for (size_t k = 0; t == T_FIELD && rc == 0; k++) {
		const char *v;
		size_t n;
		if (k >= maxw)
			rc = sl__load_fail(c->L, SL_ETOOBIG, c->line, "more than %zu columns", maxw);
		else if ((rc = field(c, &v, &n, &t)) == 0)
			rc = header_field(c, v, n, k, used), c->width = k + 1;
	}
	for (size_t i = 0; rc == 0 && i < c->L->t->ncols; i++)
		if (!used[i])
			rc = sl__load_fail(c->L, SL_ENOTFOUND, c->L->line, "no column '%s'", c->L->t->cols[i].name);
	for (size_t k = 0; rc == 0 && k < c->width; k++)
		c->plan[k] = c->map[k] >= 0 ? sl__plan_of(c->L, (size_t)c->map[k]) : SL__P_VALUE;
	free(used);
	return rc;
}

/* The masks of the 64 bytes at q: bit i of *sep when q[i] is a comma or an LF, of *lf when an
 * LF, of *odd when a quote or a CR. */
#ifdef __SSE2__
static inline void window64(const char *q, uint64_t *sep, uint64_t *lf, uint64_t *odd)
{
	const __m128i comma = _mm_set1_epi8(','), nl = _mm_set1_epi8('\n'), cr = _mm_set1_epi8('\r'),
	              quote = _mm_set1_epi8('"');
	uint64_t c = 0, l = 0, o = 0;
	for (unsigned i = 0; i < 64; i += 16) {
		__m128i x = _mm_loadu_si128((const __m128i *)(const void *)(q + i));
		c |= (uint64_t)(unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(x, comma)) << i;
		l |= (uint64_t)(unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(x, nl)) << i;
		o |= (uint64_t)(unsigned)_mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(x, cr), _mm_cmpeq_epi8(x, quote)))
		     << i;
	}
	*sep = c | l, *lf = l, *odd = o;
}
#endif

/* The common record: no quote and no CR before its LF, exactly width fields, at most max_line
 * bytes with the LF, and 64 bytes readable past each window it starts: c->ends gets each
 * field's end (its comma, the last one's LF) as an offset from c->p, found 64 bytes at a time
 * in the windows' masks, without the per-field scan of field(). False for any other record
 * (nothing read), which field() then takes, errors included. */
static bool simple_record(struct csv *c)
{
#ifdef __SSE2__
	size_t avail = (size_t)(c->end - c->p), k = 0;
	for (size_t off = 0; off + 64 <= avail && off <= c->max_line; off += 64) {
		uint64_t sep, lf, odd;
		window64(c->p + off, &sep, &lf, &odd);
		uint64_t upto = lf ? (lf ^ (lf - 1)) : ~0ULL; /* the bits up to the first LF */
		if (odd & upto)
			return false;
		for (sep &= upto; sep; sep &= sep - 1) {
			if (k == c->width)
				return false;
			c->ends[k++] = (uint32_t)(off + (size_t)__builtin_ctzll(sep));
		}
		if (lf)
			return k == c->width && c->ends[k - 1] < c->max_line;
	}
#else
	(void)c;
#endif
	return false;
}

static int record(struct csv *c)
{
	struct sl__load *L = c->L;
	L->line = c->line;
	c->rec = c->p;
	__builtin_prefetch(c->p + PREFETCH_AHEAD);
	if (simple_record(c)) {
		const char *r = c->p;
		for (size_t k = 0, start = 0; k < c->width; start = c->ends[k++] + 1) {
			int rc = c->map[k] < 0 ? 0
			                       : sl__load_cell(L, (size_t)c->map[k], &c->plan[k], r + start,
			                                       c->ends[k] - start, c->end);
			if (rc)
				return rc;
		}
		c->p = r + c->ends[c->width - 1] + 1, c->line++;
	} else {
		enum term t = T_FIELD;
		size_t k = 0;
		for (; t == T_FIELD; k++) {
			const char *v;
			size_t n;
			int rc = field(c, &v, &n, &t);
			if (rc == 0 && k < c->width && c->map[k] >= 0)
				rc = sl__load_cell(L, (size_t)c->map[k], &c->plan[k], v, n, c->end);
			if (rc)
				return rc;
		}
		if (k != c->width)
			return sl__load_fail(L, SL_EPARSE, L->line, "%zu fields, the header has %zu", k, c->width);
	}
	L->row++;
	int rc = sl__load_settle(L, L->mark); /* the previous record's text, its slots in cache now */
	L->mark = L->npend;
	return rc;
}

/* The input's bytes in memory: all of them, or the first piece. */
static int csv_open(struct csv *c, struct sl__load *L)
{
	*c = (struct csv){.L = L, .line = 1, .eof = !L->rd, .max_line = L->o->max_line};
	if (!L->rd) {
		c->start = c->p = L->in->data, c->end = c->safe = L->in->data + L->in->len;
	} else {
		c->cap = reach(c) < PIECE ? reach(c) : PIECE;
		c->start = c->p = c->end = c->buf = malloc(c->cap);
		if (!c->buf)
			return sl__load_fail(L, SL_ENOMEM, 0, "out of memory");
		int rc = refill(c);
		if (rc)
			return rc;
	}
	c->blk = c->p; /* bits 0: the first field fills the window */
	return 0;
}

int sl__csv_pass(struct sl__load *L)
{
	struct csv c;
	int rc = csv_open(&c, L), left = 0;
	if (rc == 0 && c.end - c.p >= 3 && memcmp(c.p, "\xEF\xBB\xBF", 3) == 0)
		c.p += 3;
	while (rc == 0 && (left = more(&c)) > 0 && blank_line(&c))
		;
	if (rc == 0 && left <= 0)
		rc = left ? left : sl__load_fail(L, SL_EPARSE, 0, "empty file (a header row is required)");
	if (rc == 0)
		rc = header(&c);
	if (rc == 0 && L->pass == 1 && !L->known) /* without it (no memory), cells take the hash path */
		L->nknown = (L->known = calloc(L->t->ncols, SL__KNOWN * sizeof *L->known)) ? L->t->ncols : 0;
	/* a record holds width - 1 commas and a line break (or ends the file) */
	if (rc == 0)
		L->lines = (L->in->len - (c.off + (uint64_t)(c.p - c.start))) / (c.width ? c.width : 1) + 1;
	while (rc == 0 && (left = more(&c)) > 0)
		if (!blank_line(&c))
			rc = record(&c);
	if (rc == 0)
		rc = left < 0 ? left : sl__load_settle(L, L->npend);
	L->first = L->mark = L->npend = 0;
	free(c.map);
	free(c.plan);
	free(c.ends);
	free(c.buf);
	return rc;
}
