/* model.c: the classifier's parameters, its cue lexicon, and scoring.
 * Invariants: scoring reads the model only and keeps its state on the stack (a ring of at most
 * GM_MAX_BLOCKS block sums), so it allocates nothing and is safe from many threads; the score
 * is the sigmoid of the largest window logit; any bytes are accepted. */
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
	    .char_min = 3,
	    .char_max = 5,
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
	m->w16 = calloc((size_t)m->mask + 1, sizeof(uint16_t));
	if (!m->w || !m->w16) {
		free(m->w16);
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
	free(m->w16);
	free(m);
}

void sl_gm_seal(struct sl_guard_model *m)
{
	for (size_t i = 0; i <= m->mask; i++) {
		uint32_t u;
		memcpy(&u, &m->w[i], 4);
		u += 0x7fffu + (u >> 16 & 1u); /* finite weights only: no NaN to preserve */
		m->w16[i] = (uint16_t)(u >> 16);
	}
}

/* Scoring state: the open block's sum and count, and a ring of closed blocks. */
struct score_st {
	const struct sl_guard_model *m;
	size_t K, block; /* blocks per window; index of the open block */
	size_t next;     /* first position past the open block */
	float sum;
	uint32_t cnt;
	float rsum[GM_MAX_BLOCKS];
	uint32_t rcnt[GM_MAX_BLOCKS];
	float best;
};

static void window_eval(struct score_st *s, size_t nblocks)
{
	float sum = 0;
	uint32_t cnt = 0;
	for (size_t j = 0; j < nblocks; j++) {
		sum += s->rsum[j];
		cnt += s->rcnt[j];
	}
	float l = gm_window_logit(s->m, sum, cnt);
	if (l > s->best)
		s->best = l;
}

static void block_close(struct score_st *s)
{
	s->rsum[s->block % s->K] = s->sum;
	s->rcnt[s->block % s->K] = s->cnt;
	s->sum = 0;
	s->cnt = 0;
	if (s->block + 1 >= s->K)
		window_eval(s, s->K);
	s->block++;
	s->next += s->m->p.stride;
}

/* The byte's features are summed on their own first, so that bytes do not wait on each other. */
static inline void score_emit(void *st, size_t pos, const struct gm_batch *b)
{
	struct score_st *s = st;
	if (pos >= s->next)
		block_close(s);
	float sum = 0;
	for (unsigned i = 0; i < b->n; i++)
		sum += gm_signed_weight(s->m, b->key[i]);
	s->sum += sum;
	s->cnt += b->n;
}

double sl_guard_model_score(const struct sl_guard_model *m, const char *text, size_t len)
{
	if (!m)
		return 0.0;
	if (!text)
		len = 0;
	struct score_st s = {.m = m, .K = gm_blocks_per_window(m), .next = m->p.stride, .best = -INFINITY};
	gm_walk(m, (const unsigned char *)text, len, score_emit, &s);
	size_t nblocks = len ? (len - 1) / m->p.stride + 1 : 1;
	while (s.block + 1 < nblocks)
		block_close(&s);
	if (nblocks < s.K) { /* one short window: every block is in the ring at index = block */
		s.rsum[s.block] = s.sum;
		s.rcnt[s.block] = s.cnt;
		window_eval(&s, nblocks);
	} else {
		block_close(&s);
	}
	return 1.0 / (1.0 + exp(-(double)s.best));
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
