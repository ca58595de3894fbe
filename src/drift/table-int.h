/* table-int.h: what the CSV and JSONL readers share with table.c: the state of one pass over
 * one file, and the column store that every cell goes to.
 * Invariants: a pass reads the input once, front to back; pass 1 collects numbers (and the
 * text of columns declared categorical), pass 2 only the text of the columns that turned out
 * categorical; every error is written to L->err as "FILE:LINE: reason" before returning. */
#ifndef SLUICE_DRIFT_TABLE_INT_H
#define SLUICE_DRIFT_TABLE_INT_H

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "univariate-int.h"

#define SL_DRIFT_CAT_SEED 0x736c7569636564ULL /* equal in both tables: hashed bins line up */

/* How a value came: CSV text (number, NA marker or text), or a JSON literal. */
enum sl__vkind { SL__V_TEXT, SL__V_STR, SL__V_NUM, SL__V_BOOL, SL__V_NULL };

/* A text cell whose count waits for the end of the next record (sl__load_cell): its category
 * slot was asked for from memory when the cell was read, and is in cache by then. */
struct sl__pending {
	size_t ci;
	const char *p; /* in the input's bytes in memory, counted before a piece is replaced */
	size_t n;
	uint64_t h, line;
};
#define SL__PENDING 64

/* Where a short key of a categorical column is counted: a key of at most SL__KNOWN_KEY bytes
 * is exactly its length and three words (sl__known_words), so a CSV cell that finds its key
 * here counts it in its item at once, without the hash, the probe or the key's bytes. Counts
 * of keys already in the table commute; only new keys' first counts must keep the input order,
 * and those still wait in pend. Filled by sl__load_settle, direct-mapped (a key may push out
 * another). */
struct sl__known {
	uint64_t w[3];
	uint32_t len1; /* the key's length + 1; 0: empty */
	uint32_t item; /* its index in the column's cats.items */
};
#define SL__KNOWN     1024
#define SL__KNOWN_KEY 24

struct sl__load {
	const struct sl_drift_input *in;
	const struct sl_drift_reader *rd; /* the input in pieces (table_csv.c), or NULL: in->data */
	const char *base, *lim;           /* the input's bytes in memory: all of them, or a piece */
	struct sl_drift_table *t;
	const struct sl_drift_load_opts *o; /* limits filled in */
	struct sl_drift_error *err;
	int pass;
	bool discover;  /* new columns may be added (pass 1 without a column list) */
	uint64_t line;  /* first line of the record being read */
	uint64_t row;   /* data rows so far */
	uint64_t lines; /* a bound on the input's records (the CSV pass sets it from the header's
	                 * width; else line breaks + 1, counted when first needed), 0 until known */
	uint32_t *idx;  /* name hash table over t->cols: index + 1, 0 empty */
	size_t nidx;
	uint64_t *stamp; /* per column: row + 1 of its last value (duplicate JSON keys) */
	size_t nstamp;
	struct sl_buf scratch; /* unescaped strings */
	struct sl__few *few;   /* per column (pass 1 with count_few, else NULL): table_few.c */
	size_t nfew;
	struct sl__pending pend[SL__PENDING]; /* text counts not yet made, in input order */
	size_t first, mark, npend;            /* pend[first..npend) waits; [first..mark): earlier records' */
	struct sl__known *known;              /* SL__KNOWN per column (a CSV pass 1), or NULL */
	size_t nknown;                        /* columns it covers */
};

/* A numeric column counted per distinct value (table_few.c): open addressing over (key, count)
 * pairs, key sl__key_of(value) (0: empty slot); off once the column has too many values to
 * count, or is not numeric. */
struct sl__few {
	uint64_t *slot;
	size_t nslots, n; /* n: distinct values counted, in slot and in dense */
	unsigned shift;   /* log2 nslots */
	bool off;
	uint32_t *dense; /* counts of the integers 0 .. SL__DENSE - 1 (+0.0, never -0.0), or NULL; a
	                  * file under 2 GiB has fewer than 2^32 rows */
};
#define SL__DENSE 4096 /* 16 KiB: the small counts and token numbers of most columns stay in L1 */

/* v's slot in a dense count array: v is +0.0 or a positive integer below SL__DENSE. */
static inline bool sl__dense_of(double v, uint32_t *i)
{
	if (!(v >= 0 && v < SL__DENSE) || signbit(v))
		return false;
	*i = (uint32_t)v;
	return (double)*i == v;
}

/* Formats the error as "FILE:LINE: ..." (line 0 leaves the line out); returns rc. */
int sl__load_fail(struct sl__load *L, int rc, uint64_t line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* *idx: the column named (p, n), or -1 when it is not kept; pass 1 with discover adds it.
 * Fails (error written) past max_columns or out of memory. */
int sl__load_column(struct sl__load *L, const char *p, size_t n, long *idx);
/* Stores one value of column c. */
int sl__load_value(struct sl__load *L, size_t c, const char *p, size_t n, enum sl__vkind k);
/* Copies s into dst[cap] for a message: cut, control bytes as '?'. */
const char *sl__load_show(char *dst, size_t cap, const char *s, size_t n);

/* Column c's array of codes made big enough for every record left plus extra values (it must
 * have no array); on failure it still has none. */
void sl__load_reserve(struct sl__load *L, struct sl_drift_col *c, uint64_t extra);
/* Column c's codes turned to doubles (a number without a code came), room kept. */
int sl__col_uncode(struct sl_drift_col *c);
/* Column c without numbers (num, code, counts freed; counts zero); and without anything. */
void sl__col_drop_numbers(struct sl_drift_col *c);
void sl__col_release(struct sl_drift_col *c);

/* Stores a number in column c's array, which has room: its code (never 0 here) while the
 * column keeps codes, else v. */
static inline void sl__col_put(struct sl_drift_col *c, double v, uint32_t code)
{
	if (c->code)
		c->code[c->n_num++] = code;
	else
		c->num[c->n_num++] = v;
}

/* Counting (table_few.c). sl__few_grow: L->few covers ncols columns. sl__few_add: 0 when v was
 * counted, 1 when column ci is not counted (the caller stores v), or SL_ENOMEM. sl__few_drop:
 * the column turned text. sl__few_finish: the end of pass 1, counted columns get num and
 * counts. */
int sl__few_grow(struct sl__load *L, size_t ncols);
int sl__few_add(struct sl__load *L, size_t ci, double v);
void sl__few_drop(struct sl__load *L, size_t ci);
int sl__few_finish(struct sl__load *L);
void sl__few_release(struct sl__load *L);

/* ---- the common numeric cell, inline in the readers' loops ---- */

#define SL__ONES(b) (0x0101010101010101ULL * (b))

static inline uint64_t sl__load8(const char *p)
{
	uint64_t w;
	memcpy(&w, p, sizeof w);
	return w;
}

/* How many of the 8 bytes of w (its low byte first) are ASCII digits before the first that is
 * not. Bytes after that one may carry in the sum; they never matter. */
static inline __attribute__((always_inline)) unsigned sl__lead_digits(uint64_t w)
{
	uint64_t bad =
	    ((w & SL__ONES(0xF0)) ^ SL__ONES(0x30)) | (((w + SL__ONES(0x06)) & SL__ONES(0xF0)) ^ SL__ONES(0x30));
	return bad ? (unsigned)__builtin_ctzll(bad) / 8 : 8;
}

/* The number spelled by the first k (1-8) digit bytes of w: two, four, then eight at a time. */
static inline __attribute__((always_inline)) uint64_t sl__digits8(uint64_t w, unsigned k)
{
	w = (w & SL__ONES(0x0F)) << (8 * (8 - k)); /* the k digits in the high bytes, zeros before them */
	w = (w * 10 + (w >> 8)) & 0x00FF00FF00FF00FFULL;
	w = (w * 100 + (w >> 16)) & 0x0000FFFF0000FFFFULL;
	return (w * 10000 + (w >> 32)) & 0xFFFFFFFFULL;
}

/* A decimal without exponent: (neg ? -1 : 1) * mant / 10^frac, mant <= 2^53, frac <= 22;
 * digits: mant's number of digits when the parser knows it (no leading zero), else 0. */
struct sl__dec {
	uint64_t mant;
	unsigned frac;
	bool neg;
	unsigned digits;
};

/* Its double: one correctly rounded division of exact doubles (strtod's bits). */
static inline double sl__dec_value(const struct sl__dec *d)
{
	double v = d->frac ? (double)d->mant / sl__pow10[d->frac] : (double)d->mant;
	return d->neg ? -v : v;
}

static inline uint32_t sl__dec_code(const struct sl__dec *d)
{
	return d->digits ? sl__code_of_n(d->neg, d->mant, -(long)d->frac, d->digits)
	                 : sl__code_of(d->neg, d->mant, -(long)d->frac);
}

/* sl_drift_parse_number's common cell read eight bytes at a time, for a cell of n >= 1 bytes
 * with at least 18 readable bytes from p (the rest of the file): -?D{1,8}(.D{1,8})?, as a
 * decimal; false for anything else, which the general path then decides. Little-endian only. */
static inline __attribute__((always_inline)) bool sl__plain_dec(const char *p, size_t n, struct sl__dec *out)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	bool neg = p[0] == '-';
	const char *q = p + neg;
	size_t m = n - neg;
	if (m == 0 || m > 17)
		return false;
	uint64_t w = sl__load8(q), mant;
	unsigned k1 = sl__lead_digits(w), k2 = 0;
	k1 = k1 < m ? k1 : (unsigned)m;
	if (k1 == 0 || (k1 < m && (q[k1] != '.' || k1 + 1 == m)))
		return false;
	mant = sl__digits8(w, k1);
	if (k1 < m) {
		uint64_t f = sl__load8(q + k1 + 1);
		k2 = sl__lead_digits(f);
		k2 = k2 < m - k1 - 1 ? k2 : (unsigned)(m - k1 - 1);
		if (k2 == 0 || k1 + 1 + k2 != m)
			return false;
		mant = mant * sl__ipow10[k2] + sl__digits8(f, k2);
	}
	if (mant > (1ULL << 53))
		return false;
	*out = (struct sl__dec){mant, k2, neg, q[0] != '0' ? k1 + k2 : 0};
	return true;
#else
	(void)p, (void)n, (void)out;
	return false;
#endif
}

/* The code (numcode-int.h) of a cell that sl__plain_dec reads, for the cells whose digits
 * without the point fit in eight bytes and hold at most 7 significant ones (the usual printed
 * float): the digits are gathered in one word, their leading zeros shifted out, and the word
 * converted as the code's 7 digits at once, so no decimal is formed. 0 for any other cell
 * (the caller then takes sl__plain_dec). The same 18 readable bytes; little-endian only. */
/* The shape of a cell of n bytes (16 readable) that sl__plain_code reads: an optional '-', *k1
 * digits, then (when *frac > 0) a point and *frac digits, at most 8 digits in all; false for
 * anything else. sl__cell_shape_words reads eight bytes at a time; sl__cell_shape is it, or
 * with SSE2 one compare of 16 bytes that finds the bytes that are not digits (the same answer:
 * unit_drift_numcode). */
static inline __attribute__((always_inline)) bool sl__cell_shape_words(const char *p, size_t n, bool *neg,
                                                                       unsigned *k1, unsigned *frac)
{
	*neg = p[0] == '-';
	size_t m = n - *neg;
	if (m == 0 || m > 9)
		return false;
	const char *q = p + *neg;
	unsigned a = sl__lead_digits(sl__load8(q));
	if (a >= m) {
		*k1 = (unsigned)m, *frac = 0;
		return true;
	}
	if (a == 0 || q[a] != '.' || a + 1 == m)
		return false;
	*k1 = a, *frac = (unsigned)m - a - 1;
	return sl__lead_digits(sl__load8(q + a + 1)) >= *frac;
}

static inline __attribute__((always_inline)) bool sl__cell_shape(const char *p, size_t n, bool *neg, unsigned *k1,
                                                                 unsigned *frac)
{
#ifdef __SSE2__
	*neg = p[0] == '-';
	size_t m = n - *neg;
	if (m == 0 || m > 9)
		return false;
	__m128i x = _mm_loadu_si128((const __m128i *)(const void *)p), d = _mm_sub_epi8(x, _mm_set1_epi8('0'));
	unsigned digit = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_min_epu8(d, _mm_set1_epi8(9)), d));
	unsigned other = ((1u << n) - 1) & ~(unsigned)*neg & ~digit; /* the body's bytes that are not digits */
	if (!other) {
		*k1 = (unsigned)m, *frac = 0;
		return m <= 8;
	}
	unsigned at = (unsigned)__builtin_ctz(other);
	if ((other & (other - 1)) || p[at] != '.' || at == (unsigned)*neg || at + 1 == n)
		return false;
	*k1 = at - *neg, *frac = (unsigned)n - at - 1;
	return true;
#else
	return sl__cell_shape_words(p, n, neg, k1, frac);
#endif
}

static inline __attribute__((always_inline)) uint32_t sl__plain_code(const char *p, size_t n)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	bool neg;
	unsigned k1, frac;
	if (!sl__cell_shape(p, n, &neg, &k1, &frac))
		return 0;
	const char *q = p + neg;
	uint64_t w = sl__load8(q);
	unsigned k = k1 + frac;
	if (frac) /* k1 <= 7 */
		w = (w & ((1ULL << 8 * k1) - 1)) | sl__load8(q + k1 + 1) << 8 * k1;
	w &= SL__ONES(0x0F) & (k == 8 ? ~0ULL : (1ULL << 8 * k) - 1); /* digit values, first in the low byte */
	if (w == 0)
		return neg ? SL__CODE_ZERO - 1 : SL__CODE_ZERO;
	unsigned lz = (unsigned)__builtin_ctzll(w) / 8, d = k - lz; /* d significant digits */
	if (d > 7)
		return 0;
	w = w >> 8 * lz << 8; /* a zero, the d digits, zeros: the 7-digit mantissa as 8 digits */
	w = (w * 10 + (w >> 8)) & 0x00FF00FF00FF00FFULL;
	w = (w * 100 + (w >> 16)) & 0x0000FFFF0000FFFFULL;
	uint32_t pos = (uint32_t)((long)d - 7 - (long)frac + SL__CODE_QMAX) << 24 |
	               (uint32_t)((w * 10000 + (w >> 32)) & 0xFFFFFFFFULL);
	return neg ? SL__CODE_ZERO - 1 - pos : SL__CODE_ZERO + pos;
#else
	(void)p, (void)n;
	return 0;
#endif
}

/* One count more for v when column ci's count table (table_few.c) already has it: true, or
 * false (nothing counted). */
bool sl__few_hit_value(struct sl__few *f, double v);

/* The same for the value of d, a small integer written as one counted inline by its digits (no
 * double formed). */
static inline __attribute__((always_inline)) bool sl__few_hit(struct sl__few *f, const struct sl__dec *d)
{
	if (!d->neg && d->frac == 0 && d->mant < SL__DENSE)
		return f->dense && f->dense[d->mant] && ++f->dense[d->mant];
	return sl__few_hit_value(f, sl__dec_value(d));
}

/* The first bytes of pandas' NA markers (table_value.c's list): most text leaves on its first
 * byte. */
static const bool sl__na_first[256] = {['#'] = 1, ['-'] = 1, ['1'] = 1, ['<'] = 1, ['N'] = 1, ['n'] = 1};

/* One count of the text p[n) in column c (L->line names the record when memory runs out). */
static inline int sl__load_text(struct sl__load *L, struct sl_drift_col *c, const char *p, size_t n)
{
	return sl_drift_cats_add(&c->cats, p, n, 1) ? sl__load_fail(L, SL_ENOMEM, L->line, "out of memory") : 0;
}

/* a * b folded in half: wyhash's mixing step. */
static inline uint64_t sl__mum(uint64_t a, uint64_t b)
{
	__uint128_t m = (__uint128_t)a * b;
	return (uint64_t)m ^ (uint64_t)(m >> 64);
}

/* A key of at most 16 bytes as two words that hold every byte (overlapping loads); with the
 * length they are the key. */
static inline void sl__key_words(const char *p, size_t n, uint64_t *a, uint64_t *b)
{
	if (n >= 8) {
		*a = sl__load8(p), *b = sl__load8(p + n - 8);
	} else if (n >= 4) {
		uint32_t x, y;
		memcpy(&x, p, 4), memcpy(&y, p + n - 4, 4);
		*a = x, *b = y;
	} else {
		*a = n ? (uint64_t)(unsigned char)p[0] | (uint64_t)(unsigned char)p[n / 2] << 8 |
		             (uint64_t)(unsigned char)p[n - 1] << 16
		       : 0;
		*b = 0;
	}
}

/* The category tables' hash (dataset_cats.c: slots, tags and sl_drift_cat_item.hash; the
 * count-min sketch hashes with sl_drift_hash): a key of up to 32 bytes in two or four
 * overlapping loads and two or three multiplications, a longer one by sl_drift_hash. Only
 * tables compare these hashes, and every table takes them from here, so the choice changes
 * speed, never a count. */
static inline uint64_t sl__cat_hash(const char *p, size_t n, uint64_t seed)
{
	uint64_t a, b;
	if (n > 32)
		return sl_drift_hash(p, n, seed);
	if (n > 16) {
		a = sl__mum(sl__load8(p) ^ 0x1d8e4e27c47d124fULL, sl__load8(p + 8) ^ seed);
		b = sl__mum(sl__load8(p + n - 16) ^ 0x2d358dccaa6c78a5ULL,
		            sl__load8(p + n - 8) ^ 0x4b33a62ed433d4a3ULL);
	} else {
		sl__key_words(p, n, &a, &b);
	}
	uint64_t h = sl__mum(a ^ seed ^ 0xa0761d6478bd642fULL, b ^ 0xe7037ed1a0b428dbULL);
	return sl__mum(h ^ n ^ 0x8ebc6af09c88c6e3ULL, 0x589965cc75374cc3ULL);
}

/* a[0..n) == b[0..n), short keys by two overlapping loads per side, never reading outside
 * either key (a memcmp call costs more than the compare). */
static inline bool sl__same_key(const char *a, const char *b, size_t n)
{
	if (n > 16) {
		for (size_t i = 0; i < n - 8; i += 8)
			if (sl__load8(a + i) != sl__load8(b + i))
				return false;
		return sl__load8(a + n - 8) == sl__load8(b + n - 8);
	}
	if (n >= 8)
		return sl__load8(a) == sl__load8(b) && sl__load8(a + n - 8) == sl__load8(b + n - 8);
	if (n >= 4) {
		uint32_t w[4];
		memcpy(&w[0], a, 4), memcpy(&w[1], b, 4), memcpy(&w[2], a + n - 4, 4), memcpy(&w[3], b + n - 4, 4);
		return w[0] == w[1] && w[2] == w[3];
	}
	return n == 0 || (a[0] == b[0] && a[n / 2] == b[n / 2] && a[n - 1] == b[n - 1]);
}

/* A category slot (dataset_cats.c) holds its item's index + 1 in its low sl__cats_idx_bits
 * bits (enough for cap) and the top bits of the item's hash above them: a probe past another
 * key mostly ends on this tag, without loading that key's item. 0 is an empty slot. */
static inline unsigned sl__cats_idx_bits(const struct sl_drift_cats *c)
{
	return 64u - (unsigned)__builtin_clzll((unsigned long long)c->cap | 1); /* cap <= 2^30: <= 31 */
}

static inline size_t sl__cats_slot_item(const struct sl_drift_cats *c, uint32_t v)
{
	return (v & ((1u << sl__cats_idx_bits(c)) - 1)) - 1;
}

/* The slot holding the key of hash h, or the empty slot where it would go (c->nslots > 0). */
static inline uint32_t *sl__cats_find(const struct sl_drift_cats *c, uint64_t h, const char *k, size_t len)
{
	size_t mask = c->nslots - 1;
	unsigned ib = sl__cats_idx_bits(c);
	uint32_t imask = (1u << ib) - 1, tag = (uint32_t)(h >> 32) << ib;
	for (size_t s = (size_t)h & mask;; s = (s + 1) & mask) {
		uint32_t *slot = &c->slots[s];
		if (!*slot)
			return slot;
		if ((*slot & ~imask) != tag)
			continue;
		const struct sl_drift_cat_item *it = &c->items[(*slot & imask) - 1];
		if (it->hash == h && it->len == len && sl__same_key(c->pool + it->off, k, len))
			return slot;
	}
}

/* sl__cats_add_hashed(c, key, len, h, 1), a key already in the table counted inline; *item:
 * the key's index in c->items, or SIZE_MAX when it was not counted there (the sketch took it). */
static inline int sl__cats_one(struct sl_drift_cats *c, const char *key, size_t len, uint64_t h, size_t *item)
{
	uint32_t *slot = c->nslots && !c->cms ? sl__cats_find(c, h, key, len) : NULL;
	*item = SIZE_MAX;
	if (!slot || !*slot) {
		size_t n = c->n;
		int rc = sl__cats_add_hashed(c, key, len, h, 1);
		if (rc == 0 && c->n > n && !c->cms)
			*item = c->n - 1;
		return rc;
	}
	*item = sl__cats_slot_item(c, *slot);
	c->items[*item].count++;
	c->total++;
	return 0;
}

/* A key of n <= SL__KNOWN_KEY bytes as three words that hold every byte (overlapping loads). */
static inline void sl__known_words(const char *p, size_t n, uint64_t w[3])
{
	if (n > 16)
		w[0] = sl__load8(p), w[1] = sl__load8(p + 8), w[2] = sl__load8(p + n - 8);
	else
		sl__key_words(p, n, &w[0], &w[1]), w[2] = 0;
}

/* Column ci's entry for a short key's words and length. */
static inline struct sl__known *sl__known_at(const struct sl__load *L, size_t ci, const uint64_t w[3], size_t n)
{
	uint64_t x = ((w[0] * 0x9E3779B97F4A7C15ULL ^ w[1]) * 0xD6E8FEB86659FD93ULL ^ w[2] ^ n) * 0x9E3779B97F4A7C15ULL;
	return &L->known[ci * SL__KNOWN + (size_t)(x >> 54)]; /* 2^10 = SL__KNOWN */
}

/* Makes the pending counts pend[first..upto), in order (first <= upto <= npend). */
int sl__load_settle(struct sl__load *L, size_t upto);

/* A pass-1 text cell of column ci counted later (sl__pending), its slot asked for now. */
static inline int sl__load_defer(struct sl__load *L, size_t ci, const char *p, size_t n)
{
	if (L->npend == SL__PENDING) {
		if (L->first == 0) { /* one record fills the queue: count it all now */
			int rc = sl__load_settle(L, L->npend);
			if (rc)
				return rc;
		} else {
			memmove(L->pend, L->pend + L->first, (L->npend - L->first) * sizeof *L->pend);
			L->npend -= L->first, L->mark -= L->first, L->first = 0;
		}
	}
	struct sl_drift_cats *cats = &L->t->cols[ci].cats;
	n = sl__utf8_cut(p, n, cats->max_key);
	uint64_t h = sl__cat_hash(p, n, cats->seed);
	sl__cats_prefetch(cats, h);
	L->pend[L->npend++] = (struct sl__pending){ci, p, n, h, L->line};
	return 0;
}

/* How a CSV reader takes column ci's next cell (sl__load_cell): in pass 1, text of a
 * categorical column is counted; a number goes to the column's codes, its doubles or its count
 * table, whichever it has; anything else, and every cell of pass 2, goes to sl__load_value. A
 * column's state changes only in sl__load_value, so its plan is worked out again after each
 * cell that went there. */
enum sl__plan { SL__P_VALUE, SL__P_TEXT, SL__P_CODE, SL__P_NUM, SL__P_FEW };

static inline unsigned char sl__plan_of(const struct sl__load *L, size_t ci)
{
	const struct sl_drift_col *c = &L->t->cols[ci];
	if (L->pass != 1)
		return SL__P_VALUE;
	if (c->declared == SL_DRIFT_CAT || !c->numeric_ok)
		return SL__P_TEXT;
	if (c->code)
		return SL__P_CODE;
	if (c->num)
		return SL__P_NUM;
	return L->few && !L->few[ci].off && L->few[ci].slot ? SL__P_FEW : SL__P_VALUE;
}

/* sl__load_value(L, ci, p, n, SL__V_TEXT) for a CSV cell, the common cases of its plan inline:
 * text that starts no NA marker (a cell inside the input counted one record later,
 * sl__load_defer), and the common number (sl__plain_code, sl__plain_dec) stored in an array
 * with room or counted in a table that has it. The number paths read 18 bytes from p, so they
 * take only cells in [L->base, end] with that many readable bytes (end: the end of the input's
 * bytes in memory; an unescaped copy lies elsewhere). */
static inline __attribute__((always_inline)) int sl__load_cell(struct sl__load *L, size_t ci, unsigned char *plan,
                                                               const char *p, size_t n, const char *end)
{
	struct sl_drift_col *c = &L->t->cols[ci];
#define WIDE (n > 0 && p >= L->base && p <= end && end - p >= 18)
	struct sl__dec d;
	uint32_t k;
	switch ((enum sl__plan)*plan) {
	case SL__P_TEXT:
		if (n == 0 || sl__na_first[(unsigned char)p[0]])
			break;
		c->present++;
		if (p < L->base || p > end)
			return sl__load_text(L, c, p, n);
		if (n <= SL__KNOWN_KEY && n <= c->cats.max_key && ci < L->nknown && !c->cats.cms) {
			uint64_t w[3];
			sl__known_words(p, n, w);
			const struct sl__known *e = sl__known_at(L, ci, w, n);
			if (e->len1 == n + 1 && e->w[0] == w[0] && e->w[1] == w[1] && e->w[2] == w[2]) {
				c->cats.items[e->item].count++, c->cats.total++;
				return 0;
			}
		}
		return sl__load_defer(L, ci, p, n);
	case SL__P_CODE:
		if (!WIDE || c->n_num == c->cap_num || !(k = sl__plain_code(p, n)))
			break;
		c->code[c->n_num++] = k, c->present++;
		return 0;
	case SL__P_NUM:
		if (!WIDE || c->n_num == c->cap_num || !sl__plain_dec(p, n, &d))
			break;
		c->num[c->n_num++] = sl__dec_value(&d), c->present++;
		return 0;
	case SL__P_FEW:
		if (!WIDE || !sl__plain_dec(p, n, &d) || !sl__few_hit(&L->few[ci], &d))
			break;
		c->present++;
		return 0;
	case SL__P_VALUE:
		break;
	}
#undef WIDE
	int rc = sl__load_value(L, ci, p, n, SL__V_TEXT);
	*plan = sl__plan_of(L, ci);
	return rc;
}

/* Pass 1 (every column, or the listed ones), pass 2 (text of want_text columns), cleanup. */
int sl__load_first(struct sl__load *L);
int sl__load_second(struct sl__load *L);
void sl__load_release(struct sl__load *L);

int sl__csv_pass(struct sl__load *L);
int sl__jsonl_pass(struct sl__load *L);

#endif
