/* model.c: the classifier's parameters, its cue lexicon, and scoring.
 * Invariants: scoring reads the model only and keeps its state on the stack (a ring of at most
 * GM_MAX_BLOCKS block sums), so it allocates nothing and is safe from many threads; the score
 * is the sigmoid of the largest window logit; any bytes are accepted. The scorer computes the
 * same features as gm_walk (tests/unit/guard/model.c checks it against a gm_walk reference)
 * but sums the 8-bit weights of a chunk in integers in one branch-free loop (the usual n-gram
 * ranges unrolled) and adds the words in a second pass, so that the weight loads overlap
 * instead of waiting on per-byte calls and word-boundary branches. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

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

int sl_gm_cue_lookup(const struct gm_cues *c, uint64_t wh)
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

/* Hashes each lexicon word exactly as the walker hashes a word of text. */
static void cues_build(struct sl_guard_model *m)
{
	memset(&m->cues, 0, sizeof(m->cues));
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

struct sl_guard_model *sl_gm_new(const struct sl_guard_model_params *p)
{
	struct sl_guard_model *m = calloc(1, sizeof(*m));
	if (!m)
		return NULL;
	m->p = *p;
	m->mask = (1u << p->hash_bits) - 1;
	m->shift = 64 - p->hash_bits;
	for (unsigned k = 1; k <= SL_GUARD_MODEL_MAX_NGRAM; k++)
		m->cmask[k] = k == 8 ? ~0ULL : (1ULL << (8 * k)) - 1;
	m->w = calloc((size_t)m->mask + 1, sizeof(float));
	m->w8 = calloc(((size_t)m->mask + 1) * 2, sizeof(int8_t));
	m->scale = 1.0f;
	if (!m->w || !m->w8) {
		free(m->w8);
		free(m->w);
		free(m);
		return NULL;
	}
	cues_build(m);
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
}

/* Scanner state carried from one block to the next. */
struct scan {
	uint64_t reg, cseed;
	uint64_t wh;  /* hash of the word open at the end of the last chunk (gm_word_seed when none) */
	uint32_t inw; /* 1 when a word is open */
	struct gm_words w;
};

/* gm_is_word as a table, so that pass 1 has no branch. */
#define W4(b)  (b), (b), (b), (b)
#define W16(b) W4(b), W4(b), W4(b), W4(b)
static const uint8_t word_byte[256] = {
    W16(0), W16(0), W16(0), 1,      W4(0),  W4(0),  W4(0),  0,      0,     0, /* 0x00-0x3f: '0' */
    W16(0), W16(0), 0,      W16(1), W4(1),  W4(1),  1,      1,      W4(0), 0, /* 0x40-0x7f: a-z */
    W16(1), W16(1), W16(1), W16(1), W16(1), W16(1), W16(1), W16(1),           /* 0x80-0xff */
};
#undef W16
#undef W4

#define SCAN_CHUNK 256 /* bytes per pass 1; bounds the word ends recorded on the stack */

/* The weight of character n-gram x (before hashing), from locals the compiler keeps in
 * registers: x * K1 as in gm_key, whose top hash_bits + 1 bits are the index and the sign bit,
 * which is how w8 is laid out. */
static inline int32_t gram_w8(const int8_t *w8, unsigned shift, uint64_t x)
{
	return w8[(x * GM_K1) >> (shift - 1)];
}

/* Pass 2 for one word whose hash pass 1 built: its features as gm_word_end emits them. */
static inline __attribute__((always_inline)) void word_feats(const struct sl_guard_model *m, uint64_t wh,
                                                             struct gm_words *w, int32_t *sum, uint32_t *cnt)
{
	w->wh = wh;
	struct gm_batch b = {.n = 0};
	gm_word_end(m, w, &b);
	for (unsigned j = 0; j < b.n; j++)
		*sum += gm_w8(m, b.key[j]);
	*cnt += b.n;
}

/* Pass 1 over bytes [a, b) (at most SCAN_CHUNK) of s[0..n): the character n-grams summed in
 * one loop without branches, and the hash of each word that ends (hash[], as gm_walk builds
 * it, one multiply per byte); then pass 2 adds the words. lo..hi: the model's n-gram range as
 * constants (hi <= 7), all present (a >= hi - 1), so the loop over n is unrolled; 0..0 reads
 * the range from the model (any settings, any position). */
static inline __attribute__((always_inline)) void chunk_scan(const struct sl_guard_model *m, const unsigned char *s,
                                                             size_t a, size_t b, size_t n, struct scan *z, int32_t *sum,
                                                             uint32_t *cnt, unsigned lo, unsigned hi)
{
	const unsigned cmin = m->p.char_min, cmax = m->p.char_max, shift = m->shift;
	const int8_t *w8 = m->w8;
	uint64_t reg = z->reg, cs = z->cseed, wh = z->wh, seed = gm_word_seed(m);
	uint32_t inw = z->inw, ne = 0, c_n = 0;
	uint64_t hash[SCAN_CHUNK / 2 + 2];
	int32_t acc = 0;
	for (size_t i = a; i < b; i++) {
		unsigned char c = sl_gm_byte_map[s[i]];
		reg = reg << 8 | c;
		if (hi) {
			for (unsigned k = lo; k <= hi; k++)
				acc += gram_w8(w8, shift, ((reg & ((1ULL << (8 * k)) - 1)) ^ cs) + ((uint64_t)k << 59));
		} else {
			for (unsigned k = cmin; k <= cmax && k <= i + 1; k++, c_n++)
				acc += gram_w8(w8, shift, ((reg & m->cmask[k]) ^ cs) + ((uint64_t)k << 59));
		}
		uint32_t isw = word_byte[c];
		uint64_t in = 0 - (uint64_t)isw, stepped = gm_word_step(wh, c);
		hash[ne] = wh; /* a word that ended before byte i has its features at i */
		ne += inw & !isw;
		wh = (stepped & in) | (seed & ~in);
		inw = isw;
	}
	if (hi)
		c_n = (hi - lo + 1) * (uint32_t)(b - a);
	if (b == n && inw) { /* the text ends inside a word: its features are at the last byte */
		hash[ne++] = wh;
		inw = 0;
	}
	for (uint32_t j = 0; j < ne; j++)
		word_feats(m, hash[j], &z->w, &acc, &c_n);
	z->reg = reg;
	z->wh = wh;
	z->inw = inw;
	*sum += acc;
	*cnt += c_n;
}

/* chunk_scan over [a, b) in chunks, unrolled for the n-gram ranges listed. */
static void chunks(const struct sl_guard_model *m, const unsigned char *s, size_t a, size_t b, size_t n, struct scan *z,
                   int32_t *sum, uint32_t *cnt)
{
	const unsigned lo = m->p.char_min, hi = m->p.char_max;
	for (size_t c; a < b; a = c) {
		c = b - a > SCAN_CHUNK ? a + SCAN_CHUNK : b;
		if (lo == 3 && hi == 5)
			chunk_scan(m, s, a, c, n, z, sum, cnt, 3, 5);
		else if (lo == 4 && hi == 4)
			chunk_scan(m, s, a, c, n, z, sum, cnt, 4, 4);
		else
			chunk_scan(m, s, a, c, n, z, sum, cnt, 0, 0);
	}
}

/* The features ending at bytes [a, b) of s[0..n): their integer weight sum and their number. */
static void block_features(const struct sl_guard_model *m, const unsigned char *s, size_t a, size_t b, size_t n,
                           struct scan *z, int32_t *sum, uint32_t *cnt)
{
	*sum = 0;
	*cnt = 0;
	size_t full = m->p.char_max ? m->p.char_max - 1 : 0; /* from here on every n-gram is present */
	if (a < full) {
		size_t head = b < full ? b : full;
		chunk_scan(m, s, a, head, n, z, sum, cnt, 0, 0);
		a = head;
	}
	chunks(m, s, a, b, n, z, sum, cnt);
}

/* The logit of the window made of blocks [0, nb) of the ring. */
static float window_logit(const struct sl_guard_model *m, const int32_t *sum, const uint32_t *cnt, size_t nb)
{
	int64_t s = 0;
	uint32_t c = 0;
	for (size_t j = 0; j < nb; j++) {
		s += sum[j];
		c += cnt[j];
	}
	return gm_window_logit(m, (float)s * m->scale, c);
}

double sl_guard_model_score(const struct sl_guard_model *m, const char *text, size_t len)
{
	if (!m)
		return 0.0;
	if (!text)
		len = 0;
	const unsigned char *s = (const unsigned char *)text;
	size_t S = m->p.stride, K = gm_blocks_per_window(m), nblocks = len ? (len - 1) / S + 1 : 1;
	struct scan z = {.cseed = ((uint64_t)m->p.seed + 1) * GM_K2, .wh = gm_word_seed(m)};
	int32_t rsum[GM_MAX_BLOCKS];
	uint32_t rcnt[GM_MAX_BLOCKS];
	float best = -INFINITY;
	for (size_t blk = 0; blk < nblocks; blk++) {
		size_t a = blk * S, b = a + S < len ? a + S : len;
		block_features(m, s, a, b, len, &z, &rsum[blk % K], &rcnt[blk % K]);
		if (blk + 1 >= K) {
			float l = window_logit(m, rsum, rcnt, K);
			best = l > best ? l : best;
		}
	}
	if (nblocks < K) /* one short window */
		best = window_logit(m, rsum, rcnt, nblocks);
	return 1.0 / (1.0 + exp(-(double)best));
}

double sl_guard_model_stage(void *ctx, const char *text, size_t len)
{
	const struct sl_guard_model *m = ctx;
	double p = sl_guard_model_score(m, text, len), t = m ? m->p.threshold : 0.5;
	if (!(p > 0 && p < 1 && t > 0 && t < 1))
		return p;
	const double d = SL_GUARD_DEFAULT_THRESHOLD;
	double z = log(p / (1 - p)) - log(t / (1 - t)) + log(d / (1 - d));
	return 1.0 / (1.0 + exp(-z));
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
