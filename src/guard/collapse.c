/* collapse.c: the collapsed view: letters an attacker split apart ("i g n o r e", "i.g.n.o.r.e",
 * "ig-no-re") joined back ("ignore"). A chain is a run of tokens (ASCII letters and digits, or
 * any non-ASCII byte) where each next token follows either one punctuation character, or one to
 * three spaces or punctuation characters when both tokens are a single character. A chain
 * collapses when it has at least three tokens averaging at most three bytes, at least three of
 * them word-like (holding a letter or a non-ASCII byte), and, when a space joins two of its
 * tokens, at least four tokens. So "www.example.com", "state-of-the-art", "12-year-old",
 * "2024-01-05" or "it's a" stay as they are. The view holds only the stretches of text around
 * collapsed chains (CONTEXT bytes either side, cut at token boundaries, overlapping stretches
 * merged, stretches separated by '\n'), since rules reach at most a few words past a chain.
 * Invariants: the output is never longer than the input; valid UTF-8 in, valid UTF-8 out (cuts
 * and removed separators are ASCII non-token bytes, and non-ASCII bytes are token bytes); nothing
 * is written unless some chain collapses; linear in the input. */
#include <string.h>

#include "guard-int.h"

#define MAX_GAP 3
#define CONTEXT 256 /* bytes of text kept either side of a collapsed chain */

static const bool toktab[256] = {
    ['0' ... '9'] = true, ['a' ... 'z'] = true, ['A' ... 'Z'] = true, [0x80 ... 0xff] = true,
};
static const bool wordtab[256] = {
    ['a' ... 'z'] = true, ['A' ... 'Z'] = true, [0x80 ... 0xff] = true,
};

/* Class bits for the search of joints: token bytes, punctuation (any other byte but a space,
 * a tab or a newline), spaces and tabs. */
enum { C_TOK = 1, C_PUNCT = 2, C_SPACE = 4 };
static const unsigned char cls[256] = {
    [0 ... 8] = C_PUNCT,      ['\t'] = C_SPACE,       [0x0b ... 0x1f] = C_PUNCT, [' '] = C_SPACE,
    ['!' ... '/'] = C_PUNCT,  ['0' ... '9'] = C_TOK,   [':' ... '@'] = C_PUNCT, ['A' ... 'Z'] = C_TOK,
    ['[' ... '`'] = C_PUNCT,  ['a' ... 'z'] = C_TOK,   ['{' ... '~'] = C_PUNCT, [0x7f] = C_PUNCT,
    [0x80 ... 0xff] = C_TOK,
};

static bool is_tok(unsigned char c)
{
	return toktab[c];
}

bool sl__collapse_lone_filter = true;

/* Whether the joint at bit j (one bit, at most bit 59) of a search block, the first joint of its
 * chain, provably makes a chain of two tokens only, which never collapses (82% of the joints of
 * the corpus: "it's", "e.g", "12:30"): the token after it (starting at the first token bit s
 * above j, at most j + 3) ends at e, the first non-token bit above s (t + s carries through
 * the token), and no joint starts at e (all: the joints of the block). A chain goes on after
 * a token exactly where a joint starts, as chain_end's test and the joint mask agree; the
 * joint bits are exact up to bit 59, so an e above that (or a token running off the block)
 * answers false and the chain is walked. The search then goes on with the block's next joint,
 * which is past e, where the walk of the chain would have restarted it. */
static inline bool lone_joint(uint64_t t, uint64_t all, uint64_t j)
{
	uint64_t after = t & ~((j << 1) - 1);
	uint64_t e = (t + (after & -after)) & ~t;
	return after && e && e <= (uint64_t)1 << 59 && !(all & e);
}

/* The start of the first token at or after i that may begin a chain of two or more tokens,
 * that is the token before the chain's first joint: one punctuation byte between two tokens,
 * or one to three separators (punctuation, spaces, tabs) between two one-byte tokens. Every
 * token skipped would have been a chain of one. Works on blocks of 64 bytes starting at
 * base = p - 2 for the first place p looked at, with T, P and X the masks of token,
 * punctuation and separator bytes: a joint starts at bit k (2 <= k <= 59, so that every bit
 * read is in the block) of T << 1 & (P & T >> 1 | X & ~(T << 2) & (gap of 1, 2 or 3 then a
 * one-byte token)). len when there is none. One body for both paths (always inlined): with
 * avx set, in a function compiled for AVX-512, a block is classified inline, and one at an
 * edge of the text (the first block of every search starts a byte before it) with a masked
 * load rather than the portable byte loop, which made the collapse about 12% faster. */
static inline __attribute__((always_inline)) size_t chain_start_body(const unsigned char *s, size_t len, size_t i,
                                                                     bool avx)
{
	for (size_t p = i + 1; p + 1 < len; p += 58) {
		ptrdiff_t base = (ptrdiff_t)p - 2;
		uint64_t m[SL__NCLASS];
		if (avx && base >= 0 && (size_t)base + 64 <= len)
			sl__classify64_avx512(s + base, cls, 3, m);
		else if (avx)
			sl__classify64_edge_avx512(s, len, base, cls, 3, m);
		else
			sl__classify64(s, len, base, cls, 3, m);
		uint64_t t = m[0], nt = ~t, x = m[1] | m[2];
		uint64_t one = t >> 1 & nt >> 2, two = x >> 1 & t >> 2 & nt >> 3, three = x >> 1 & x >> 2 & t >> 3 & nt >> 4;
		uint64_t all = t << 1 & ((m[1] & t >> 1) | (x & nt << 2 & (one | two | three)));
		size_t kmax = (size_t)((ptrdiff_t)len - 2 - base); /* p + 1 < len */
		uint64_t cand = all & (kmax >= 59 ? ((uint64_t)1 << 60) - 1 : ((uint64_t)2 << kmax) - 1) & ~(uint64_t)3;
		while (cand && sl__collapse_lone_filter && lone_joint(t, all, cand & -cand))
			cand &= cand - 1;
		if (cand) {
			size_t q = (size_t)(base + __builtin_ctzll(cand)) - 1;
			while (q > i && is_tok(s[q - 1]))
				q--;
			return q;
		}
	}
	return len;
}

SL__AVX512 static size_t chain_start_avx512(const unsigned char *s, size_t len, size_t i)
{
	return chain_start_body(s, len, i, true);
}

static size_t next_chain_start(const unsigned char *s, size_t len, size_t i)
{
	return sl__simd_avx512() ? chain_start_avx512(s, len, i) : chain_start_body(s, len, i, false);
}

struct chain {
	size_t ntok, nbytes, nword;
	bool spaced; /* some joint holds a space */
};

/* The end of the token at i; counts it into c. */
static size_t take_tok(const unsigned char *s, size_t len, size_t i, struct chain *c)
{
	bool word = false;
	size_t j = i;
	for (; j < len && is_tok(s[j]); j++)
		word |= wordtab[s[j]];
	c->ntok++;
	c->nbytes += j - i;
	c->nword += word;
	return j;
}

/* The end of the chain whose first token starts at i, its counts in *c. Each byte is looked at
 * once or twice: the token after a joint is only peeked at (is it one byte long?) until it joins. */
static size_t chain_end(const unsigned char *s, size_t len, size_t i, struct chain *c)
{
	*c = (struct chain){0};
	size_t end = take_tok(s, len, i, c), prev = end - i;
	for (;;) {
		size_t g = end;
		bool space = false;
		while (g < len && g - end <= MAX_GAP && !is_tok(s[g]) && s[g] != '\n')
			space |= s[g++] == ' ';
		size_t gap = g - end;
		if (gap == 0 || gap > MAX_GAP || g >= len || !is_tok(s[g]))
			return end;
		bool punct_joint = gap == 1 && s[end] != ' ' && s[end] != '\t';
		bool single_next = g + 1 == len || !is_tok(s[g + 1]);
		if (!punct_joint && !(prev == 1 && single_next))
			return end;
		c->spaced |= space || s[end] == '\t';
		size_t next = take_tok(s, len, g, c);
		prev = next - g;
		end = next;
	}
}

static bool collapses(const struct chain *c)
{
	return c->ntok >= 3 && c->nbytes <= 3 * c->ntok && c->nword >= 3 && (!c->spaced || c->ntok >= 4);
}

/* Appends the tokens of s[from..to), separators left out. */
static int put_tokens(const unsigned char *s, size_t from, size_t to, struct sl_buf *out)
{
	int rc = 0;
	for (size_t i = from; !rc && i < to;) {
		size_t e = i;
		while (e < to && is_tok(s[e]))
			e++;
		rc = sl_buf_append(out, s + i, e - i);
		for (i = e; i < to && !is_tok(s[i]); i++)
			;
	}
	return rc;
}

/* A cut at p does not split a token. */
static bool boundary(const unsigned char *s, size_t len, size_t p)
{
	return p == 0 || p == len || !is_tok(s[p - 1]) || !is_tok(s[p]);
}

/* Where the stretch around a chain starting at cs begins (cs itself is a boundary). */
static size_t stretch_start(const unsigned char *s, size_t len, size_t cs)
{
	size_t p = cs > CONTEXT ? cs - CONTEXT : 0;
	while (p < cs && !boundary(s, len, p))
		p++;
	return p;
}

/* Where the stretch around a chain ending at ce ends (ce itself is a boundary). */
static size_t stretch_end(const unsigned char *s, size_t len, size_t ce)
{
	size_t p = len - ce > CONTEXT ? ce + CONTEXT : len;
	while (p > ce && !boundary(s, len, p))
		p--;
	return p;
}

struct stretch {
	bool open;
	size_t copied, end; /* text copied up to here; the open stretch ends there */
};

/* Adds the collapsed chain s[cs..ce) to the view, in the open stretch or a new one. */
static int add_chain(const unsigned char *s, size_t len, size_t cs, size_t ce, struct stretch *st,
                     struct sl_buf *out)
{
	size_t start = stretch_start(s, len, cs);
	int rc = 0;
	if (!st->open || start > st->end) {
		if (st->open)
			rc = sl_buf_append(out, s + st->copied, st->end - st->copied);
		if (!rc && st->open)
			rc = sl_buf_append(out, "\n", 1);
		st->open = true;
		st->copied = start;
	}
	if (!rc)
		rc = sl_buf_append(out, s + st->copied, cs - st->copied);
	if (!rc)
		rc = put_tokens(s, cs, ce, out);
	st->copied = ce;
	st->end = stretch_end(s, len, ce);
	return rc;
}

int sl__collapse(const char *text, size_t len, struct sl_buf *out)
{
	const unsigned char *s = (const unsigned char *)text;
	struct stretch st = {0};
	int rc = 0;
	sl_buf_reset(out);
	for (size_t i = next_chain_start(s, len, 0); !rc && i < len; i = next_chain_start(s, len, i)) {
		struct chain c;
		size_t end = chain_end(s, len, i, &c);
		if (collapses(&c))
			rc = add_chain(s, len, i, end, &st, out);
		i = end;
	}
	if (rc || !st.open)
		return rc;
	rc = sl_buf_append(out, s + st.copied, st.end - st.copied);
	return rc ? rc : 1;
}
