/* model-int.h: what the classifier files share: the model struct, the feature walker that
 * training uses and that defines the features (the scorer in model.c computes the same ones in
 * its own faster loop; tests/unit/guard/model.c checks the two agree), and the windowing rule.
 * Invariants: the walker reads each byte once, allocates nothing and hands over, once per byte
 * and in order, the features whose last byte it is; a feature is a 32-bit key whose low bits
 * index the weights and whose top bit is the sign of the hashed feature. */
#ifndef SLUICE_GUARD_MODEL_INT_H
#define SLUICE_GUARD_MODEL_INT_H

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "sluice/guard_model.h"

#define GM_CUE_SLOTS  2048       /* open addressing, power of two, ~10x the lexicon: most misses end at once */
#define GM_MAX_WINDOW (1u << 20) /* bytes; keeps a window's feature count well inside 32 bits */
#define GM_MAX_BLOCKS 16         /* window / stride at most this */
#define GM_CUE_SPAN   8          /* two cue words at most this many words apart form a cue pair */
#define GM_CHUNK      256        /* bytes the scorer handles at a time (model.c) */
#define GM_CONCEPTS   16         /* cue concept ids are below this */
#define GM_W8_PAD     4          /* bytes after w8, so that the vector scorer may read 4 bytes at any index */

#define GM_CUE_DIRECT 4096 /* slots of the direct-mapped table: 2^12 */
#define GM_CUE_WORDS  256  /* lexicon words the direct-mapped table holds at most */
struct gm_cues {
	uint64_t key[GM_CUE_SLOTS]; /* word hash | 1, 0 = empty */
	uint8_t concept[GM_CUE_SLOTS];
	/* The same words without collisions, for a lookup without branches: word hash | 1 times
	 * dmul, top 12 bits, is a slot of dslot, which holds an index into dkey / dconcept (0:
	 * none; dkey[0] = 0 matches no hash). direct is false when no multiplier tried gave
	 * distinct slots (then the probing table answers). */
	uint8_t dslot[GM_CUE_DIRECT];
	uint64_t dkey[GM_CUE_WORDS];
	uint8_t dconcept[GM_CUE_WORDS];
	uint64_t dmul;
	bool direct;
};

struct sl_guard_model {
	struct sl_guard_model_params p;
	uint32_t mask;                                /* 2^hash_bits - 1 */
	unsigned shift;                               /* 64 - hash_bits */
	uint64_t cmask[SL_GUARD_MODEL_MAX_NGRAM + 1]; /* cmask[k]: the low k bytes */
	float bias;
	float *w;    /* 2^hash_bits weights: what training updates and the file holds */
	int8_t *w8;  /* the same quantized to 8 bits with both signs, what scoring reads:
	              * w8[2i] * scale ~ w[i] and w8[2i + 1] = -w8[2i], so a key's index and sign
	              * bit read one byte without a branch or sign arithmetic (512 KiB at 2^18);
	              * rebuilt by sl_gm_seal after any change to w */
	float scale; /* max |w| / 127 (1 when every weight is 0) */
	/* w8 of the cue key of concept c and of the cue-pair key of concepts a then b, so that the
	 * scorer reads them without hashing (rebuilt by sl_gm_seal with w8) */
	int8_t cue_w8[GM_CONCEPTS], pair_w8[GM_CONCEPTS][GM_CONCEPTS];
	struct gm_cues cues;
	/* log(thr_at / (1 - thr_at)), the logit of the threshold the model was made with (sl_gm_new),
	 * so that sl_guard_model_stage takes one log less while p.threshold == thr_at (training may
	 * set p.threshold later: then the stage computes the logit itself, to the same bits) */
	double thr_at, thr_logit;
	/* For the scorer's word hashes (model.c): kpow[r] = K1^r, kinv[r] = K1^-r (K1 is odd, so
	 * it has an inverse mod 2^64), skinv[r] = gm_word_seed * K1^-r. */
	uint64_t kpow[GM_CHUNK + 1], kinv[GM_CHUNK], skinv[GM_CHUNK];
};

/* Multipliers: odd 64-bit constants (splitmix64 / murmur3). */
#define GM_K1 0x9e3779b97f4a7c15ULL
#define GM_K2 0xbf58476d1ce4e5b9ULL
#define GM_K3 0x94d049bb133111ebULL
/* Feature domains, so a word never shares a key with a character n-gram by construction. */
#define GM_D_WORD    0x2000000000000000ULL
#define GM_D_BIGRAM  0x3000000000000000ULL
#define GM_D_CUE     0x4000000000000000ULL
#define GM_D_CUEPAIR 0x5000000000000000ULL

/* Byte classes: ASCII letters folded to lower case, digits to '0', all ASCII whitespace and
 * control bytes to ' '; bytes >= 0x80 (UTF-8) kept. Word bytes are letters, '0' and >= 0x80. */
extern const unsigned char sl_gm_byte_map[256];
static inline int gm_is_word(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || c == '0' || c >= 0x80;
}

/* Multiplicative hashing: the top hash_bits bits of x * K1 index the weights, the bit below
 * them is the sign. One multiply per feature (the scorer's budget is a few ns per byte). */
static inline uint32_t gm_key(const struct sl_guard_model *m, uint64_t x)
{
	uint64_t h = x * GM_K1;
	return (uint32_t)(h >> m->shift) | ((uint32_t)(h >> (m->shift - 1)) << 31);
}

static inline uint64_t gm_word_step(uint64_t wh, unsigned char c)
{
	return (wh + c + 1) * GM_K1;
}
static inline uint64_t gm_word_seed(const struct sl_guard_model *m)
{
	return ((uint64_t)m->p.seed << 1 | 1) * GM_K3;
}
int sl_gm_cue_probe(const struct gm_cues *c, uint64_t wh); /* the probing table's answer */
/* sl_gm_cue_lookup when c->direct: the direct-mapped table's answer. */
static inline int sl_gm_cue_direct(const struct gm_cues *c, uint64_t wh)
{
	uint64_t key = wh | 1;
	unsigned i = c->dslot[(key * c->dmul) >> (64 - 12)];
	return c->dconcept[i] & -(int)(c->dkey[i] == key); /* a mask, not a branch: most words are no cue */
}
/* The concept id of the word whose hash is wh, 0 when it is not a cue word. */
static inline int sl_gm_cue_lookup(const struct gm_cues *c, uint64_t wh)
{
	return c->direct ? sl_gm_cue_direct(c, wh) : sl_gm_cue_probe(c, wh);
}

/* Walker state across words. */
struct gm_words {
	uint64_t wh, prev;
	size_t wlen, nwords;
	int c1, c2;      /* last two cue concepts */
	size_t c1w, c2w; /* word index where each was seen */
};

/* Features ending at one byte: at most SL_GUARD_MODEL_MAX_NGRAM character n-grams, a word,
 * a bigram, a cue and two cue pairs. */
#define GM_MAX_PER_BYTE (SL_GUARD_MODEL_MAX_NGRAM + 5)
struct gm_batch {
	uint32_t key[GM_MAX_PER_BYTE];
	unsigned n;
};
/* Receives the features ending at byte pos, once per byte, pos increasing. */
typedef void (*gm_emit_fn)(void *st, size_t pos, const struct gm_batch *b);

static inline void gm_cue_add(const struct sl_guard_model *m, struct gm_words *w, int c, struct gm_batch *b)
{
	b->key[b->n++] = gm_key(m, GM_D_CUE ^ (uint64_t)c);
	if (w->c1 && w->nwords - w->c1w <= GM_CUE_SPAN)
		b->key[b->n++] = gm_key(m, GM_D_CUEPAIR ^ ((uint64_t)w->c1 << 8 | (uint64_t)c));
	if (w->c2 && w->nwords - w->c2w <= GM_CUE_SPAN)
		b->key[b->n++] = gm_key(m, GM_D_CUEPAIR ^ ((uint64_t)w->c2 << 8 | (uint64_t)c));
	w->c2 = w->c1;
	w->c2w = w->c1w;
	w->c1 = c;
	w->c1w = w->nwords;
}

static inline void gm_word_end(const struct sl_guard_model *m, struct gm_words *w, struct gm_batch *b)
{
	uint64_t wh = w->wh;
	w->nwords++;
	if (m->p.word_unigrams)
		b->key[b->n++] = gm_key(m, GM_D_WORD ^ wh);
	if (m->p.word_bigrams && w->nwords > 1)
		b->key[b->n++] = gm_key(m, GM_D_BIGRAM ^ (w->prev * GM_K3) ^ wh);
	if (m->p.cues) {
		int c = sl_gm_cue_lookup(&m->cues, wh);
		if (c)
			gm_cue_add(m, w, c, b);
	}
	w->prev = wh;
	w->wlen = 0;
	w->wh = gm_word_seed(m);
}

/* Calls emit once for each byte of s[0..n) with the features ending there. */
static inline __attribute__((always_inline)) void gm_walk(const struct sl_guard_model *m, const unsigned char *s,
                                                          size_t n, gm_emit_fn emit, void *st)
{
	const unsigned cmin = m->p.char_min, cmax = m->p.char_max;
	const uint64_t cseed = ((uint64_t)m->p.seed + 1) * GM_K2;
	uint64_t reg = 0;
	struct gm_words w = {.wh = gm_word_seed(m)};
	struct gm_batch b;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = sl_gm_byte_map[s[i]];
		reg = reg << 8 | c;
		b.n = 0;
		if (cmin == 3 && cmax == 5 && i >= 4) { /* 3..5 (models before 4..4), unrolled */
			b.key[0] = gm_key(m, ((reg & 0xffffffULL) ^ cseed) + (3ULL << 59));
			b.key[1] = gm_key(m, ((reg & 0xffffffffULL) ^ cseed) + (4ULL << 59));
			b.key[2] = gm_key(m, ((reg & 0xffffffffffULL) ^ cseed) + (5ULL << 59));
			b.n = 3;
		} else {
			for (unsigned k = cmin; k <= cmax && k <= i + 1; k++)
				b.key[b.n++] = gm_key(m, ((reg & m->cmask[k]) ^ cseed) + ((uint64_t)k << 59));
		}
		if (gm_is_word(c)) {
			w.wh = gm_word_step(w.wh, c);
			w.wlen++;
			if (i + 1 == n)
				gm_word_end(m, &w, &b);
		} else if (w.wlen) {
			gm_word_end(m, &w, &b);
		}
		emit(st, i, &b);
	}
}

/* Windows are runs of K = window / stride consecutive blocks of stride bytes; a text of at most
 * K blocks is one window; longer ones have one window ending at each block from K - 1 on. */
static inline size_t gm_blocks_per_window(const struct sl_guard_model *m)
{
	return m->p.window / m->p.stride;
}

/* The scorer's integer weight for key: w8 at the key's index and sign bit. */
static inline int32_t gm_w8(const struct sl_guard_model *m, uint32_t key)
{
	return m->w8[(key & m->mask) << 1 | key >> 31];
}

/* The scorer's weight for key as a float. */
static inline float gm_signed_weight(const struct sl_guard_model *m, uint32_t key)
{
	return (float)gm_w8(m, key) * m->scale;
}

/* The training weight for key, in full precision, with its sign. */
static inline float gm_signed_weight_f32(const struct sl_guard_model *m, uint32_t key)
{
	uint32_t u;
	memcpy(&u, &m->w[key & m->mask], 4);
	u ^= key & 0x80000000u;
	float w;
	memcpy(&w, &u, 4);
	return w;
}

static inline float gm_window_logit(const struct sl_guard_model *m, float sum, uint32_t count)
{
	return count ? m->bias + sum / sqrtf((float)count) : m->bias;
}

/* Model lifecycle shared by io and training. */
int sl_gm_params_check(const struct sl_guard_model_params *p, char *err, size_t errlen);
struct sl_guard_model *sl_gm_new(const struct sl_guard_model_params *p); /* zero weights */
void sl_gm_seal(struct sl_guard_model *m);                               /* w8 and scale from w */
void sl_gm_err(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
