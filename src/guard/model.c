/* model.c: the classifier's parameters, its cue lexicon, and scoring.
 * Invariants: scoring reads the model only and keeps its state on the stack (a ring of at most
 * GM_MAX_BLOCKS block sums and the window's running sum, one chunk of work space), so it
 * allocates nothing and is safe from many threads; the score is the sigmoid of the largest
 * window logit; any bytes are accepted.
 * The scorer computes the same features as gm_walk and sums their 8-bit weights as integers,
 * so the order of the sums does not matter (tests/unit/guard/model.c checks it bit for bit
 * against a gm_walk reference, on both paths). Per chunk of up to 256 bytes: the bytes mapped
 * with the word mask and the prefix sums that give each word's hash without a per-byte chain
 * (struct chunk), the character n-grams summed, then the words (hashes from the word mask's
 * edges, a word per step; unigram and bigram weights and cue words, from a direct-mapped
 * table, in one loop without branches). With AVX-512 (F, BW, DQ, VL, VBMI; chosen at run time) the map, the
 * prefix sums and the 4-grams take 64 and 16 bytes at a time. Two models of the same features
 * (the classifier and the document model) can share one walk: the same code, with a second
 * weight table read at each feature (always inlined, so the one-model path is unchanged), in
 * blocks of the smaller stride, each model keeping its own windows (struct windows). */
#include <immintrin.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "guard-int.h"
#include "model-int.h"
#include "sluice/guard.h"

#define M(c) (c)
#define L(c) ((c) + 32)
#define SP   0x20
/* clang-format off */
const unsigned char sl_gm_byte_map[256] = {
	SP, SP, SP, SP, SP, SP, SP, SP, SP, SP, SP, SP, SP, SP, SP, SP,
	SP, SP, SP, SP, SP, SP, SP, SP, SP, SP, SP, SP, SP, SP, SP, SP,
	' ', '!', '"', '#', '$', '%', '&', '\'', '(', ')', '*', '+', ',', '-', '.', '/',
	'0', '0', '0', '0', '0', '0', '0', '0', '0', '0', ':', ';', '<', '=', '>', '?',
	'@', L('A'), L('B'), L('C'), L('D'), L('E'), L('F'), L('G'), L('H'), L('I'), L('J'), L('K'), L('L'), L('M'), L('N'), L('O'),
	L('P'), L('Q'), L('R'), L('S'), L('T'), L('U'), L('V'), L('W'), L('X'), L('Y'), L('Z'), '[', '\\', ']', '^', '_',
	'`', 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l', 'm', 'n', 'o',
	'p', 'q', 'r', 's', 't', 'u', 'v', 'w', 'x', 'y', 'z', '{', '|', '}', '~', SP,
#define R16(b) M(b), M(b + 1), M(b + 2), M(b + 3), M(b + 4), M(b + 5), M(b + 6), M(b + 7), \
	M(b + 8), M(b + 9), M(b + 10), M(b + 11), M(b + 12), M(b + 13), M(b + 14), M(b + 15)
	R16(0x80), R16(0x90), R16(0xa0), R16(0xb0), R16(0xc0), R16(0xd0), R16(0xe0), R16(0xf0),
#undef R16
};
/* clang-format on */

/* What an attack does, as word classes: a cue feature fires for the class, and a cue pair for
 * two classes within GM_CUE_SPAN words ("ignore ... previous ... instructions" and "disregard
 * the earlier directives" share OVERRIDE-PRIOR and PRIOR-INSTR). Each word is in one class. */
static const char *const cue_lexicon[] = {
    /* 1 override */ "ignore ignoring ignored disregard disregarding forget forgetting override overriding bypass "
                     "bypassing circumvent skip neglect abandon discard",
    /* 2 prior */
    "previous previously prior above earlier preceding original initial former foregoing "
    "aforementioned",
    /* 3 instructions */
    "instructions instruction rules rule guidelines guideline directives directive prompt "
    "prompts policies policy programming commands constraints restrictions restriction "
    "guardrails safeguards filters limitations",
    /* 4 addresses the model */ "you your yourself ai assistant chatgpt gpt model llm bot chatbot",
    /* 5 role switch */
    "act pretend roleplay persona character simulate simulating imagine become mode jailbreak "
    "jailbroken dan unfiltered uncensored unrestricted evil developer",
    /* 6 from now on */ "now henceforth onwards forth instead new",
    /* 7 hidden data */ "system hidden secret secrets confidential internal password passwords credentials token",
    /* 8 reveal */ "reveal print show output repeat display leak disclose dump expose tell",
    /* 9 exfiltrate */ "send email post upload transmit url http https link webhook curl visit click",
    /* 10 no limits */
    "no not never without any free anything unethical illegal immoral ethical ethics moral morals "
    "censorship censored openai content harmful",
    /* 11 compliance */ "must always obey comply answer respond stay remember",
};

int sl_gm_cue_probe(const struct gm_cues *c, uint64_t wh)
{
	uint64_t key = wh | 1;
	for (size_t i = (size_t)(key >> 40) & (GM_CUE_SLOTS - 1);; i = (i + 1) & (GM_CUE_SLOTS - 1)) {
		if (c->key[i] == key)
		return c->concept[i];
		if (c->key[i] == 0)
			return 0;
	}
}

static void cue_insert(struct gm_cues *c, uint64_t wh, int concept)
{
	uint64_t key = wh | 1;
	size_t i = (size_t)(key >> 40) & (GM_CUE_SLOTS - 1);
	while (c->key[i] != 0 && c->key[i] != key)
		i = (i + 1) & (GM_CUE_SLOTS - 1);
	c->key[i] = key;
	c->concept[i] = (uint8_t) concept;
}

/* The direct-mapped table of the words of the probing table with multiplier mul; false when
 * two words share a slot. */
static bool cues_direct(struct gm_cues *c, uint64_t mul)
{
	unsigned n = 1;
	memset(c->dslot, 0, sizeof(c->dslot));
	for (size_t i = 0; i < GM_CUE_SLOTS; i++) {
		if (!c->key[i])
			continue;
		size_t slot = (size_t)((c->key[i] * mul) >> (64 - 12));
		if (c->dslot[slot] || n == GM_CUE_WORDS)
			return false;
		c->dslot[slot] = (uint8_t)n;
		c->dkey[n] = c->key[i];
		c->dconcept[n++] = c->concept[i];
	}
	c->dkey[0] = 0;
	c->dconcept[0] = 0;
	c->dmul = mul;
	return true;
}

/* Hashes each lexicon word exactly as the walker hashes a word of text, then looks for a
 * multiplier that gives every word its own slot (about one in 14 does for 150 words). */
static void cues_build(struct sl_guard_model *m)
{
	memset(&m->cues, 0, sizeof(m->cues));
	_Static_assert(sizeof(cue_lexicon) / sizeof(cue_lexicon[0]) < GM_CONCEPTS, "concept ids index cue_w8");
	for (size_t k = 0; k < sizeof(cue_lexicon) / sizeof(cue_lexicon[0]); k++) {
		const unsigned char *p = (const unsigned char *)cue_lexicon[k];
		while (*p) {
			uint64_t wh = gm_word_seed(m);
			for (; *p && *p != ' '; p++)
				wh = gm_word_step(wh, sl_gm_byte_map[*p]);
			cue_insert(&m->cues, wh, (int)k + 1);
			while (*p == ' ')
				p++;
		}
	}
	m->cues.direct = false;
	for (uint64_t i = 0; i < 2000 && !m->cues.direct; i++)
		m->cues.direct = cues_direct(&m->cues, (2 * i + 1) * GM_K2);
}

void sl_guard_model_params_default(struct sl_guard_model_params *p)
{
	*p = (struct sl_guard_model_params){
	    .hash_bits = 18,
	    .seed = 0x5eed,
	    .char_min = 4,
	    .char_max = 4,
	    .word_unigrams = true,
	    .word_bigrams = true,
	    .cues = true,
	    .window = 512,
	    .stride = 128,
	    .threshold = 0.5,
	};
}

void sl_gm_err(char *err, size_t errlen, const char *fmt, ...)
{
	if (!err || errlen == 0)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

int sl_gm_params_check(const struct sl_guard_model_params *p, char *err, size_t errlen)
{
	if (p->hash_bits < SL_GUARD_MODEL_MIN_BITS || p->hash_bits > SL_GUARD_MODEL_MAX_BITS)
		sl_gm_err(err, errlen, "hash bits %u: not in %d..%d", p->hash_bits, SL_GUARD_MODEL_MIN_BITS,
		          SL_GUARD_MODEL_MAX_BITS);
	else if (p->char_max > SL_GUARD_MODEL_MAX_NGRAM ||
	         (p->char_max && (p->char_min < 1 || p->char_min > p->char_max)))
		sl_gm_err(err, errlen, "character n-grams %u..%u: want 1 <= min <= max <= %d", p->char_min, p->char_max,
		          SL_GUARD_MODEL_MAX_NGRAM);
	else if (p->stride == 0 || p->window < p->stride || p->window % p->stride ||
	         p->window / p->stride > GM_MAX_BLOCKS || p->window > GM_MAX_WINDOW)
		sl_gm_err(err, errlen, "window %u, stride %u: want a window of 1..%d whole strides, at most %u bytes",
		          p->window, p->stride, GM_MAX_BLOCKS, GM_MAX_WINDOW);
	else if (!(p->threshold > 0.0 && p->threshold < 1.0))
		sl_gm_err(err, errlen, "threshold %g: not in (0, 1)", p->threshold);
	else
		return 0;
	return SL_EINVAL;
}

/* The scorer's tables of powers of K1 (see struct chunk). */
static void powers(struct sl_guard_model *m)
{
	uint64_t inv = GM_K1; /* Newton: each step doubles the correct low bits (3 to start) */
	for (int i = 0; i < 5; i++)
		inv *= 2 - GM_K1 * inv;
	m->kpow[0] = 1;
	m->kinv[0] = 1;
	for (size_t r = 1; r <= GM_CHUNK; r++)
		m->kpow[r] = m->kpow[r - 1] * GM_K1;
	for (size_t r = 1; r < GM_CHUNK; r++)
		m->kinv[r] = m->kinv[r - 1] * inv;
	for (size_t r = 0; r < GM_CHUNK; r++)
		m->skinv[r] = gm_word_seed(m) * m->kinv[r];
}

struct sl_guard_model *sl_gm_new(const struct sl_guard_model_params *p)
{
	struct sl_guard_model *m = calloc(1, sizeof(*m));
	if (!m)
		return NULL;
	m->p = *p;
	m->thr_at = p->threshold;
	m->thr_logit = log(p->threshold / (1 - p->threshold));
	m->mask = (1u << p->hash_bits) - 1;
	m->shift = 64 - p->hash_bits;
	for (unsigned k = 1; k <= SL_GUARD_MODEL_MAX_NGRAM; k++)
		m->cmask[k] = k == 8 ? ~0ULL : (1ULL << (8 * k)) - 1;
	m->w = calloc((size_t)m->mask + 1, sizeof(float));
	m->w8 = calloc(((size_t)m->mask + 1) * 2 + GM_W8_PAD, sizeof(int8_t));
	m->scale = 1.0f;
	if (!m->w || !m->w8) {
		free(m->w8);
		free(m->w);
		free(m);
		return NULL;
	}
	cues_build(m);
	powers(m);
	return m;
}

void sl_guard_model_free(struct sl_guard_model *m)
{
	if (!m)
		return;
	free(m->w);
	free(m->w8);
	free(m);
}

/* 8-bit weights with one scale for the model: max |w| maps to 127, rounded to nearest. With a
 * few hundred features per window the rounding errors average out (a window logit moves by
 * about 0.01); the threshold is chosen with this same scorer. */
void sl_gm_seal(struct sl_guard_model *m)
{
	float mx = 0;
	for (size_t i = 0; i <= m->mask; i++)
		mx = fabsf(m->w[i]) > mx ? fabsf(m->w[i]) : mx;
	m->scale = mx > 0 ? mx / 127.0f : 1.0f;
	for (size_t i = 0; i <= m->mask; i++) {
		long q = lrintf(m->w[i] / m->scale); /* finite weights only (training and load check) */
		q = q > 127 ? 127 : (q < -127 ? -127 : q);
		m->w8[2 * i] = (int8_t)q;
		m->w8[2 * i + 1] = (int8_t)-q;
	}
	for (unsigned a = 0; a < GM_CONCEPTS; a++) {
		m->cue_w8[a] = (int8_t)gm_w8(m, gm_key(m, GM_D_CUE ^ (uint64_t)a));
		for (unsigned b = 0; b < GM_CONCEPTS; b++)
			m->pair_w8[a][b] = (int8_t)gm_w8(m, gm_key(m, GM_D_CUEPAIR ^ ((uint64_t)a << 8 | (uint64_t)b)));
	}
}

/* Scanner state carried from one chunk to the next. */
struct scan {
	uint64_t reg, cseed;
	uint64_t wh;  /* hash of the word open at the end of the last chunk */
	uint32_t inw; /* 1 when a word is open */
	struct gm_words w;
};

/* gm_is_word as a table, so that the byte loop has no branch. */
#define W4(b)  (b), (b), (b), (b)
#define W16(b) W4(b), W4(b), W4(b), W4(b)
static const uint8_t word_byte[256] = {
    W16(0), W16(0), W16(0), 1,      W4(0),  W4(0),  W4(0),  0,      0,     0, /* 0x00-0x3f: '0' */
    W16(0), W16(0), 0,      W16(1), W4(1),  W4(1),  1,      1,      W4(0), 0, /* 0x40-0x7f: a-z */
    W16(1), W16(1), W16(1), W16(1), W16(1), W16(1), W16(1), W16(1),           /* 0x80-0xff */
};
#undef W16
#undef W4

/* One chunk of at most GM_CHUNK bytes, mapped. Word hashes without a chain from byte to byte:
 * the walker's hash of a word c_s..c_e is seed * K^(e-s+1) + sum_j (c_j + 1) K^(e-j+1) (mod
 * 2^64), which with t[r] = sum_{j<r} (c_j + 1) K^-j is K^(e+1) (seed K^-s - t[s] + t[e+1]);
 * so each byte costs one independent multiply and each word two, instead of a multiply on the
 * critical path of every byte. */
struct chunk {
	unsigned char pad[8]; /* c at 8, t at 264: without it the portable scorer ran 6% slower */
	unsigned char c[GM_CHUNK];
	uint64_t t[GM_CHUNK + 1];
	uint64_t wmask[GM_CHUNK / 64]; /* bit r: c[r] is a word byte */
};

/* Maps s[0..len) into k: the byte classes, the prefix sums t and the word mask (one multiply
 * per byte, none of them waiting on another). */
static void chunk_map(const struct sl_guard_model *m, const unsigned char *s, size_t len, struct chunk *k)
{
	uint64_t t = 0;
	k->t[0] = 0;
	for (size_t q = 0; q * 64 < len; q++) {
		uint64_t w = 0;
		size_t end = len - q * 64 < 64 ? len : q * 64 + 64;
		for (size_t r = q * 64; r < end; r++) {
			unsigned char c = sl_gm_byte_map[s[r]];
			k->c[r] = c;
			t += (uint64_t)(c + 1) * m->kinv[r];
			k->t[r + 1] = t;
			w |= (uint64_t)word_byte[c] << (r & 63);
		}
		k->wmask[q] = w;
	}
}

#define GM_CHUNK_WORDS (GM_CHUNK / 2 + 1) /* words whose features can fall in one chunk */

/* The word features of wh[0..n) in one loop without a branch per word, so that the loads of
 * different words overlap: the unigram and bigram weights (w8 at x * K1 >> (shift - 1), as
 * gm_w8 reads a key) added to *acc, the cue words listed (at: which word, con: its concept);
 * returns their number. pk: the hash of the word before wh[0] times K3, as the bigram key takes
 * it. The settings are arguments so that a call with constants compiles to a loop without
 * them (always inlined, as grams is); direct: the cue table is direct-mapped. */
static inline __attribute__((always_inline)) size_t word_loop(const struct sl_guard_model *m, const int8_t *w8b,
                                                              const uint64_t *wh, size_t n, uint64_t pk, bool uni,
                                                              bool bi, bool cues, bool direct, int32_t *acc,
                                                              int32_t *accb, uint8_t *at, uint8_t *con)
{
	const unsigned sh = m->shift - 1;
	const int8_t *w8 = m->w8;
	int32_t a = 0, b = 0;
	size_t nc = 0;
	for (size_t j = 0; j < n; j++) {
		uint64_t h = wh[j];
		if (uni) {
			size_t i = ((GM_D_WORD ^ h) * GM_K1) >> sh;
			a += w8[i];
			if (w8b)
				b += w8b[i];
		}
		if (bi) {
			size_t i = ((GM_D_BIGRAM ^ pk ^ h) * GM_K1) >> sh;
			a += w8[i];
			if (w8b)
				b += w8b[i];
		}
		pk = h * GM_K3;
		int c = !cues ? 0 : direct ? sl_gm_cue_direct(&m->cues, h) : sl_gm_cue_lookup(&m->cues, h);
		at[nc] = (uint8_t)j;
		con[nc] = (uint8_t)c;
		nc += c != 0;
	}
	*acc += a;
	if (w8b)
		*accb += b;
	return nc;
}

/* The features of the words wh[0..n) in order, as gm_word_end emits them: word_loop (unrolled
 * for the shipped settings: every feature on, a direct-mapped cue table), then the cue words
 * added as gm_cue_add adds them, with their weights read by concept (cue_w8, pair_w8). With a
 * second model m2 (the same features, sl_guard_model_pairs), its weights go to *sum2. */
static inline __attribute__((always_inline)) void words_feats(const struct sl_guard_model *m,
                                                              const struct sl_guard_model *m2, const uint64_t *wh,
                                                              size_t n, struct gm_words *w, int32_t *sum,
                                                              int32_t *sum2, uint32_t *cnt)
{
	const struct sl_guard_model_params *p = &m->p;
	const size_t n0 = w->nwords;
	const uint64_t pk = w->prev * GM_K3;
	const int8_t *w8b = m2 ? m2->w8 : NULL;
	int32_t acc = 0, acc2 = 0;
	uint32_t nf = (uint32_t)n * (p->word_unigrams + p->word_bigrams);
	uint8_t at[GM_CHUNK_WORDS], con[GM_CHUNK_WORDS]; /* the cue words: where, which concept */
	size_t nc;
	if (p->word_unigrams && p->word_bigrams && p->cues && m->cues.direct)
		nc = word_loop(m, w8b, wh, n, pk, true, true, true, true, &acc, &acc2, at, con);
	else
		nc = word_loop(m, w8b, wh, n, pk, p->word_unigrams, p->word_bigrams, p->cues, false, &acc, &acc2, at,
		               con);
	if (p->word_bigrams && n && n0 == 0) { /* the text's first word has no bigram */
		size_t i = ((GM_D_BIGRAM ^ pk ^ wh[0]) * GM_K1) >> (m->shift - 1);
		acc -= m->w8[i];
		if (m2)
			acc2 -= m2->w8[i];
		nf--;
	}
	for (size_t k = 0; k < nc; k++) { /* gm_cue_add, with the weights read by concept */
		int c = con[k];
		size_t nw = n0 + at[k] + 1;
		acc += m->cue_w8[c];
		if (m2)
			acc2 += m2->cue_w8[c];
		nf++;
		if (w->c1 && nw - w->c1w <= GM_CUE_SPAN) {
			acc += m->pair_w8[w->c1][c], nf++;
			if (m2)
				acc2 += m2->pair_w8[w->c1][c];
		}
		if (w->c2 && nw - w->c2w <= GM_CUE_SPAN) {
			acc += m->pair_w8[w->c2][c], nf++;
			if (m2)
				acc2 += m2->pair_w8[w->c2][c];
		}
		w->c2 = w->c1;
		w->c2w = w->c1w;
		w->c1 = c;
		w->c1w = nw;
	}
	w->nwords = n0 + n;
	if (n)
		w->prev = wh[n - 1];
	*sum += acc;
	if (m2)
		*sum2 += acc2;
	*cnt += nf;
}

/* The words of a mapped chunk of len bytes, in order: a word ending before byte r has its
 * features at r; one open at the end of the text (last) at its last byte; one open at the
 * end of the chunk otherwise is carried in z. The word starts and ends are the edges of the
 * word mask; in a block of 64 bytes they alternate, so the i-th end closes the i-th start (or,
 * first, the word open from before the block), and one step takes a whole word without a
 * branch on the kind of edge; the hashes are collected, then words_feats adds them. */
static inline __attribute__((always_inline)) void chunk_words(const struct sl_guard_model *m,
                                                              const struct sl_guard_model *m2, const struct chunk *k,
                                                              size_t len, bool last, struct scan *z, int32_t *sum,
                                                              int32_t *sum2, uint32_t *cnt)
{
	uint64_t v = z->wh, prev = z->inw, w = 0, wh[GM_CHUNK_WORDS];
	size_t nw = 0;
	for (size_t q = 0; q * 64 < len; q++) {
		const size_t b = q * 64;
		const uint64_t *t = k->t + b, *kpow = m->kpow + b, *skinv = m->skinv + b;
		w = k->wmask[q];                           /* no bit at len or past it */
		uint64_t in = w << 1 | prev;               /* bit r: byte r - 1 is a word byte */
		uint64_t starts = w & ~in, ends = ~w & in; /* bit r: a word starts, ends before r */
		if (len - b < 64)
			ends &= ((uint64_t)1 << (len - b)) - 1;
		prev = w >> 63;
		if (in & 1 && ends) { /* the word open before the block */
			size_t r = (size_t)__builtin_ctzll(ends);
			ends &= ends - 1;
			wh[nw++] = kpow[r] * (v + t[r]);
		}
		for (; ends; ends &= ends - 1, starts &= starts - 1) {
			size_t rs = (size_t)__builtin_ctzll(starts), re = (size_t)__builtin_ctzll(ends);
			wh[nw++] = kpow[re] * (skinv[rs] - t[rs] + t[re]);
		}
		if (starts) /* the word open at the end of the block */
			v = skinv[__builtin_ctzll(starts)] - t[__builtin_ctzll(starts)];
	}
	z->inw = (uint32_t)(w >> ((len - 1) & 63) & 1);
	z->wh = z->inw ? m->kpow[len] * (v + k->t[len]) : 0;
	if (last && z->inw) {
		wh[nw++] = z->wh;
		z->inw = 0;
	}
	words_feats(m, m2, wh, nw, &z->w, sum, sum2, cnt);
}

/* The weight of character n-gram x (before hashing), from locals the compiler keeps in
 * registers: x * K1 as in gm_key, whose top hash_bits + 1 bits are the index and the sign bit,
 * which is how w8 is laid out. */
static inline int32_t gram_w8(const int8_t *w8, unsigned shift, uint64_t x)
{
	return w8[(x * GM_K1) >> (shift - 1)];
}

/* The character n-grams ending at the mapped bytes c[0..len), the first of them at text
 * position pos: their weight sum, their number added to *cnt. lo..hi: the model's n-gram range
 * as constants (hi <= 7), all present (pos >= hi - 1), so the loop over n is unrolled; 0..0
 * reads the range from the model (any settings, any position). */
static inline __attribute__((always_inline)) int32_t grams(const struct sl_guard_model *m, const int8_t *w8b,
                                                           const unsigned char *c, size_t len, size_t pos,
                                                           struct scan *z, uint32_t *cnt, int32_t *accb, unsigned lo,
                                                           unsigned hi)
{
	const unsigned cmin = m->p.char_min, cmax = m->p.char_max, shift = m->shift;
	const int8_t *w8 = m->w8;
	uint64_t reg = z->reg, cs = z->cseed;
	uint32_t c_n = 0;
	int32_t acc = 0, b = 0;
	for (size_t r = 0; r < len; r++) {
		reg = reg << 8 | c[r];
		if (hi) {
			for (unsigned k = lo; k <= hi; k++) {
				uint64_t x = ((reg & ((1ULL << (8 * k)) - 1)) ^ cs) + ((uint64_t)k << 59);
				acc += gram_w8(w8, shift, x);
				if (w8b)
					b += gram_w8(w8b, shift, x);
			}
		} else {
			for (unsigned k = cmin; k <= cmax && k <= pos + r + 1; k++, c_n++) {
				uint64_t x = ((reg & m->cmask[k]) ^ cs) + ((uint64_t)k << 59);
				acc += gram_w8(w8, shift, x);
				if (w8b)
					b += gram_w8(w8b, shift, x);
			}
		}
	}
	if (hi)
		c_n = (hi - lo + 1) * (uint32_t)len;
	z->reg = reg;
	*cnt += c_n;
	if (w8b)
		*accb += b;
	return acc;
}

/* The n-grams of a chunk at text position pos, unrolled for the ranges listed (m2's weights,
 * when given, to *accb). */
static inline __attribute__((always_inline)) int32_t chunk_grams(const struct sl_guard_model *m,
                                                                 const struct sl_guard_model *m2,
                                                                 const unsigned char *c, size_t len, size_t pos,
                                                                 struct scan *z, uint32_t *cnt, int32_t *accb)
{
	const unsigned lo = m->p.char_min, hi = m->p.char_max;
	const int8_t *w8b = m2 ? m2->w8 : NULL;
	size_t full = hi ? hi - 1 : 0; /* from here on every n-gram is present */
	int32_t acc = 0;
	if (pos < full) {
		size_t head = len < full - pos ? len : full - pos;
		acc += grams(m, w8b, c, head, pos, z, cnt, accb, 0, 0);
		c += head, len -= head, pos += head;
	}
	if (lo == 4 && hi == 4)
		return acc + grams(m, w8b, c, len, pos, z, cnt, accb, 4, 4);
	if (lo == 3 && hi == 5)
		return acc + grams(m, w8b, c, len, pos, z, cnt, accb, 3, 5);
	return acc + grams(m, w8b, c, len, pos, z, cnt, accb, 0, 0);
}

/* ---- AVX-512 (F, BW, DQ, VL, VBMI) versions of chunk_map and of the 4-gram sums, chosen at
 * run time (sl__simd_avx512); they give the same bytes, prefix sums, masks and integer sums as
 * the portable code (tests/unit/guard/model.c compares the two). ---- */

#define AVX512 SL__AVX512

/* Prefix sums of 8 lanes of 64 bits. */
AVX512 static inline __m512i prefix8(__m512i p)
{
	const __m512i z = _mm512_setzero_si512();
	p = _mm512_add_epi64(p, _mm512_alignr_epi64(p, z, 7));
	p = _mm512_add_epi64(p, _mm512_alignr_epi64(p, z, 6));
	return _mm512_add_epi64(p, _mm512_alignr_epi64(p, z, 4));
}

/* chunk_map, 64 bytes at a time: the byte map as a 128-entry table lookup (bytes >= 0x80 map to
 * themselves), the word mask from compares, the prefix sums 8 lanes at a time. */
AVX512 static void chunk_map_avx512(const struct sl_guard_model *m, const unsigned char *s, size_t len, struct chunk *k)
{
	const __m512i t0 = _mm512_loadu_si512(sl_gm_byte_map), t1 = _mm512_loadu_si512(sl_gm_byte_map + 64);
	const __m512i one = _mm512_set1_epi64(1);
	__m512i carry = _mm512_setzero_si512();
	k->t[0] = 0;
	for (size_t q = 0; q * 64 < len; q++) {
		size_t n = len - q * 64 < 64 ? len - q * 64 : 64;
		__mmask64 live = n == 64 ? ~(__mmask64)0 : ((__mmask64)1 << n) - 1;
		__m512i x = n == 64 ? _mm512_loadu_si512(s + q * 64) : _mm512_maskz_loadu_epi8(live, s + q * 64);
		__mmask64 high = _mm512_movepi8_mask(x);
		__m512i c = _mm512_mask_blend_epi8(high, _mm512_permutex2var_epi8(t0, x, t1), x);
		_mm512_storeu_si512(k->c + q * 64, c);
		__mmask64 word =
		    high | _mm512_cmpeq_epi8_mask(c, _mm512_set1_epi8('0')) |
		    _mm512_cmple_epu8_mask(_mm512_sub_epi8(c, _mm512_set1_epi8('a')), _mm512_set1_epi8(25));
		k->wmask[q] = (uint64_t)(word & live);
		for (unsigned g = 0; g < 8; g++) { /* t up to t[q * 64 + n]; t past len is not read */
			if (8 * g >= n) /* only in the last block: a short text maps its own groups, not 8 */
				break;
			size_t r = q * 64 + 8 * g;
			__m128i part = _mm512_extracti32x4_epi32(c, 0); /* bytes 8g.. of c, from the register */
			if (g / 2 == 1)
				part = _mm512_extracti32x4_epi32(c, 1);
			else if (g / 2 == 2)
				part = _mm512_extracti32x4_epi32(c, 2);
			else if (g / 2 == 3)
				part = _mm512_extracti32x4_epi32(c, 3);
			if (g % 2)
				part = _mm_srli_si128(part, 8);
			__m512i v = _mm512_add_epi64(_mm512_cvtepu8_epi64(part), one);
			__m512i p = prefix8(_mm512_mullo_epi64(v, _mm512_loadu_si512(m->kinv + r)));
			_mm512_storeu_si512(k->t + r + 1, _mm512_add_epi64(p, carry));
			carry = _mm512_add_epi64(carry,
			                         _mm512_permutexvar_epi64(_mm512_set1_epi64(7), p)); /* off the chain */
		}
	}
}

/* The 4-grams ending at each byte of the mapped chunk but its first skip bytes (the start of
 * the text; z->reg holds the bytes before), 16 at a time: each gram's 32 bits put together with
 * one two-register byte permute of the block of 64 and the one before, read back exactly as
 * chunk_map_avx512 stored them (a load across two stores still in flight cannot be forwarded
 * and waits for them, which cost about 7% of the classifier); x = (gram ^ cseed) + (4 << 59)
 * has the constant high half xh, so the top half of x * K1 is hi(xl * kl) + lo(xl * kh) +
 * lo(xh * kl) (mod 2^32), whose top hash_bits + 1 bits index w8 as gram_w8 does; the weights
 * are gathered 16 at a time (w8 has GM_W8_PAD bytes after its end, as a gather reads 4). */
AVX512 static inline __attribute__((always_inline)) int32_t grams4_body(const struct sl_guard_model *m,
                                                                        const int8_t *w8b, struct chunk *k,
                                                                        size_t len, size_t skip, struct scan *z,
                                                                        uint32_t *cnt, int32_t *accb)
{
	static const uint8_t perm[64] = {
	    3,  2,  1,  0,  4,  3,  2,  1,  5,  4,  3,  2,  6,  5,  4,  3,  7,  6,  5,  4,  8,  7,
	    6,  5,  9,  8,  7,  6,  10, 9,  8,  7,  11, 10, 9,  8,  12, 11, 10, 9,  13, 12, 11, 10,
	    14, 13, 12, 11, 15, 14, 13, 12, 16, 15, 14, 13, 17, 16, 15, 14, 18, 17, 16, 15,
	};
	const uint64_t cs = z->cseed;
	const uint32_t kl = (uint32_t)GM_K1, kh = (uint32_t)(GM_K1 >> 32);
	const uint32_t xh = (uint32_t)(cs >> 32) + (4u << 27);
	const __m512i idx = _mm512_loadu_si512(perm), vcs = _mm512_set1_epi32((int)(uint32_t)cs);
	const __m512i vkl = _mm512_set1_epi32((int)kl), vkh = _mm512_set1_epi32((int)kh);
	const __m512i va = _mm512_set1_epi32((int)(xh * kl));
	const __m128i sh = _mm_cvtsi32_si128((int)(m->shift - 33));
	__m512i acc = _mm512_setzero_si512(), acc2 = _mm512_setzero_si512();
	/* prev: the block before; for the first, the last three bytes before the chunk at 61..63 */
	__m512i prev = _mm512_set1_epi32((int)__builtin_bswap32((uint32_t)z->reg)), ix4[4];
	for (unsigned g = 0; g < 4; g++) /* grams 16g..16g + 15 of a block: bytes 61 + 16g.. of prev:cur */
		ix4[g] = _mm512_add_epi8(idx, _mm512_set1_epi8((char)(61 + 16 * g)));
	__m512i before = prev;
	for (size_t b = 0; b < len; b += 64) {
		const __m512i cur = _mm512_loadu_si512(k->c + b);
		for (unsigned q = 0; q < 4 && b + 16 * q < len; q++) {
			size_t r = b + 16 * q;
			__m512i g = _mm512_permutex2var_epi8(prev, ix4[q], cur);
			__m512i xl = _mm512_xor_si512(g, vcs);
			__m512i ev = _mm512_srli_epi64(_mm512_mul_epu32(xl, vkl), 32);
			__m512i od = _mm512_mul_epu32(_mm512_srli_epi64(xl, 32), vkl);
			__m512i hi = _mm512_mask_blend_epi32(0xaaaa, ev, od);
			__m512i h = _mm512_add_epi32(_mm512_add_epi32(hi, _mm512_mullo_epi32(xl, vkh)), va);
			__m512i ix = _mm512_srl_epi32(h, sh);
			__mmask16 live = len - r >= 16 ? 0xffff : (__mmask16)((1u << (len - r)) - 1);
			if (r == 0) /* the text's first bytes end no 4-gram */
				live &= (__mmask16)(0xffffu << skip);
			__m512i w = _mm512_i32gather_epi32(ix, m->w8, 1); /* any index is inside w8 and its pad */
			acc = _mm512_mask_add_epi32(acc, live, acc, _mm512_srai_epi32(_mm512_slli_epi32(w, 24), 24));
			if (w8b) {
				__m512i w2 = _mm512_i32gather_epi32(ix, w8b, 1);
				acc2 = _mm512_mask_add_epi32(acc2, live, acc2, _mm512_srai_epi32(_mm512_slli_epi32(w2, 24), 24));
			}
		}
		before = prev;
		prev = cur;
	}
	if (len >= 8) { /* the register as the byte loop leaves it: the last eight bytes, from before:prev */
		static const uint8_t seq[64] = {0, 1, 2, 3, 4, 5, 6, 7};
		size_t at = 64 + (len - 1) % 64 + 1 - 8; /* c[len - 8] in before:prev */
		__m512i ix = _mm512_add_epi8(_mm512_loadu_si512(seq), _mm512_set1_epi8((char)at));
		uint64_t last8 =
		    (uint64_t)_mm_cvtsi128_si64(_mm512_castsi512_si128(_mm512_permutex2var_epi8(before, ix, prev)));
		z->reg = __builtin_bswap64(last8);
	} else {
		for (size_t i = 0; i < len; i++)
			z->reg = z->reg << 8 | k->c[i];
	}
	*cnt += (uint32_t)(len > skip ? len - skip : 0);
	if (w8b)
		*accb += _mm512_reduce_add_epi32(acc2);
	return _mm512_reduce_add_epi32(acc);
}

AVX512 static int32_t grams4_avx512(const struct sl_guard_model *m, struct chunk *k, size_t len, size_t skip,
                                    struct scan *z, uint32_t *cnt)
{
	return grams4_body(m, NULL, k, len, skip, z, cnt, NULL);
}

/* The same with the weights of a second model summed into *accb. */
AVX512 static int32_t grams4_avx512_2(const struct sl_guard_model *m, const int8_t *w8b, struct chunk *k,
                                      size_t len, size_t skip, struct scan *z, uint32_t *cnt, int32_t *accb)
{
	return grams4_body(m, w8b, k, len, skip, z, cnt, accb);
}

/* The features ending at bytes [a, b) of s[0..n): their integer weight sum and their number
 * (and, with a second model m2 of the same features, its weight sum in *sum2). */
static inline __attribute__((always_inline)) void block_feats(const struct sl_guard_model *m,
                                                              const struct sl_guard_model *m2,
                                                              const unsigned char *s, size_t a, size_t b, size_t n,
                                                              struct scan *z, int32_t *sum, int32_t *sum2,
                                                              uint32_t *cnt)
{
	struct chunk k;
	*sum = 0;
	if (m2)
		*sum2 = 0;
	*cnt = 0;
	for (size_t e; a < b; a = e) {
		e = b - a > GM_CHUNK ? a + GM_CHUNK : b;
		if (sl__simd_avx512() && m->p.char_min == 4 && m->p.char_max == 4) {
			chunk_map_avx512(m, s + a, e - a, &k);
			size_t skip = a < 3 ? 3 - a : 0;
			*sum += m2 ? grams4_avx512_2(m, m2->w8, &k, e - a, skip, z, cnt, sum2)
			           : grams4_avx512(m, &k, e - a, skip, z, cnt);
		} else {
			chunk_map(m, s + a, e - a, &k);
			*sum += chunk_grams(m, m2, k.c, e - a, a, z, cnt, sum2);
		}
		chunk_words(m, m2, &k, e - a, e == n, z, sum, sum2, cnt);
	}
}

static void block_features(const struct sl_guard_model *m, const unsigned char *s, size_t a, size_t b, size_t n,
                           struct scan *z, int32_t *sum, uint32_t *cnt)
{
	block_feats(m, NULL, s, a, b, n, z, sum, NULL, cnt);
}

static void block_features2(const struct sl_guard_model *m, const struct sl_guard_model *m2, const unsigned char *s,
                            size_t a, size_t b, size_t n, struct scan *z, int32_t *sum, int32_t *sum2, uint32_t *cnt)
{
	block_feats(m, m2, s, a, b, n, z, sum, sum2, cnt);
}

/* A model's windows over the blocks of one text, block by block: a ring of the last K block
 * sums, the window's running sums (integers: exact) and the best window logit so far. */
struct windows {
	size_t K, blk, ring; /* ring = blk % K */
	int32_t rsum[GM_MAX_BLOCKS];
	uint32_t rcnt[GM_MAX_BLOCKS];
	int64_t wsum;
	uint32_t wcnt;
	float best;
};

static void windows_init(struct windows *w, const struct sl_guard_model *m)
{
	w->K = gm_blocks_per_window(m);
	w->blk = w->ring = 0;
	w->wsum = 0;
	w->wcnt = 0;
	w->best = -INFINITY;
}

/* The next block's sums. */
static void windows_push(struct windows *w, const struct sl_guard_model *m, int32_t sum, uint32_t cnt)
{
	if (w->blk >= w->K) { /* the block leaving the window */
		w->wsum -= w->rsum[w->ring];
		w->wcnt -= w->rcnt[w->ring];
	}
	w->rsum[w->ring] = sum;
	w->rcnt[w->ring] = cnt;
	w->wsum += sum;
	w->wcnt += cnt;
	if (w->blk + 1 >= w->K) {
		float l = gm_window_logit(m, (float)w->wsum * m->scale, w->wcnt);
		w->best = l > w->best ? l : w->best;
	}
	w->blk++;
	w->ring = w->ring + 1 == w->K ? 0 : w->ring + 1;
}

/* The score after the last block: the best window, or the one short window. */
static double windows_score(const struct windows *w, const struct sl_guard_model *m)
{
	float best = w->blk < w->K ? gm_window_logit(m, (float)w->wsum * m->scale, w->wcnt) : w->best;
	return 1.0 / (1.0 + exp(-(double)best));
}

static struct scan scan_start(const struct sl_guard_model *m)
{
	return (struct scan){.cseed = ((uint64_t)m->p.seed + 1) * GM_K2, .wh = gm_word_seed(m)};
}

double sl_guard_model_score(const struct sl_guard_model *m, const char *text, size_t len)
{
	if (!m)
		return 0.0;
	if (!text)
		len = 0;
	const unsigned char *s = (const unsigned char *)text;
	size_t S = m->p.stride, nblocks = len ? (len - 1) / S + 1 : 1;
	struct scan z = scan_start(m);
	struct windows w;
	windows_init(&w, m);
	for (size_t blk = 0; blk < nblocks; blk++) {
		size_t a = blk * S, b = a + S < len ? a + S : len;
		int32_t sum;
		uint32_t cnt;
		block_features(m, s, a, b, len, &z, &sum, &cnt);
		windows_push(&w, m, sum, cnt);
	}
	return windows_score(&w, m);
}

bool sl_guard_model_pairs(const struct sl_guard_model *a, const struct sl_guard_model *b)
{
	const struct sl_guard_model_params *p = &a->p, *q = &b->p;
	uint32_t lo = p->stride < q->stride ? p->stride : q->stride, hi = p->stride ^ q->stride ^ lo;
	return p->hash_bits == q->hash_bits && p->seed == q->seed && p->char_min == q->char_min &&
	       p->char_max == q->char_max && p->word_unigrams == q->word_unigrams &&
	       p->word_bigrams == q->word_bigrams && p->cues == q->cues && a->cues.direct == b->cues.direct &&
	       a->cues.dmul == b->cues.dmul && hi % lo == 0;
}

/* One walk in blocks of the smaller stride G; each model's block of k * G bytes is the sum of k
 * of them (integers: exact), so each model's windows see the sums sl_guard_model_score gives. */
void sl_guard_model_score_pair(const struct sl_guard_model *a, const struct sl_guard_model *b, const char *text,
                               size_t len, double *pa, double *pb)
{
	if (!text)
		len = 0;
	const unsigned char *s = (const unsigned char *)text;
	size_t G = a->p.stride < b->p.stride ? a->p.stride : b->p.stride, n = len ? (len - 1) / G + 1 : 1;
	size_t ka = a->p.stride / G, kb = b->p.stride / G;
	struct scan z = scan_start(a);
	struct windows wa, wb;
	int32_t suma = 0, sumb = 0;
	uint32_t cnta = 0, cntb = 0;
	windows_init(&wa, a);
	windows_init(&wb, b);
	for (size_t g = 0; g < n; g++) {
		size_t lo = g * G, hi = lo + G < len ? lo + G : len;
		int32_t x, y;
		uint32_t c;
		block_features2(a, b, s, lo, hi, len, &z, &x, &y, &c);
		suma += x, cnta += c, sumb += y, cntb += c;
		if ((g + 1) % ka == 0 || g + 1 == n) {
			windows_push(&wa, a, suma, cnta);
			suma = 0, cnta = 0;
		}
		if ((g + 1) % kb == 0 || g + 1 == n) {
			windows_push(&wb, b, sumb, cntb);
			sumb = 0, cntb = 0;
		}
	}
	*pa = windows_score(&wa, a);
	*pb = windows_score(&wb, b);
}

/* p calibrated so that m's threshold maps to the pipeline's default threshold (see
 * sl_guard_model_stage). */
static double calibrated(const struct sl_guard_model *m, double p)
{
	double t = m->p.threshold;
	if (!(p > 0 && p < 1 && t > 0 && t < 1))
		return p;
	const double d = SL_GUARD_DEFAULT_THRESHOLD;
	double lt = t == m->thr_at ? m->thr_logit : log(t / (1 - t));
	double z = log(p / (1 - p)) - lt + log(d / (1 - d));
	return 1.0 / (1.0 + exp(-z));
}

double sl_guard_model_stage(void *ctx, const char *text, size_t len)
{
	const struct sl_guard_model *m = ctx;
	double p = sl_guard_model_score(m, text, len); /* 0 without a model */
	return m ? calibrated(m, p) : p;
}

double sl_guard_model_stage_pair(void *ctx, const char *text, size_t len)
{
	const struct sl_guard_model_pair *q = ctx;
	double pa, pb;
	sl_guard_model_score_pair(q->general, q->document, text, len, &pa, &pb);
	return fmax(sl__clamp01(calibrated(q->general, pa)), sl__clamp01(calibrated(q->document, pb)));
}

void sl_guard_opts_models(struct sl_guard_opts *o, struct sl_guard_model_pair *pair,
                          const struct sl_guard_model *general, const struct sl_guard_model *document)
{
	static const struct sl_guard_scorer_ops one = {"linear", sl_guard_model_stage},
	                                        two = {"linear pair", sl_guard_model_stage_pair};
	o->scorer = general ? (struct sl_guard_scorer){&one, (void *)general} : (struct sl_guard_scorer){0};
	o->indirect = document ? (struct sl_guard_scorer){&one, (void *)document} : (struct sl_guard_scorer){0};
	o->both = (struct sl_guard_scorer){0};
	if (general && document && sl_guard_model_pairs(general, document)) {
		*pair = (struct sl_guard_model_pair){general, document};
		o->both = (struct sl_guard_scorer){&two, pair};
	}
}

const struct sl_guard_model_params *sl_guard_model_params(const struct sl_guard_model *m)
{
	return &m->p;
}

double sl_guard_model_threshold(const struct sl_guard_model *m)
{
	return m->p.threshold;
}

struct sl_guard_model *sl_guard_model_with_threshold(const struct sl_guard_model *m, double threshold)
{
	struct sl_guard_model_params p = m->p;
	p.threshold = threshold;
	if (sl_gm_params_check(&p, NULL, 0) != 0)
		return NULL;
	struct sl_guard_model *c = sl_gm_new(&p);
	if (!c)
		return NULL;
	c->bias = m->bias;
	memcpy(c->w, m->w, ((size_t)m->mask + 1) * sizeof(float));
	sl_gm_seal(c);
	return c;
}
