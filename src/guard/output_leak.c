/* output_leak.c: leaks of the system prompt, by word 8-gram shingles.
 *
 * Words are runs of [A-Za-z0-9] and bytes >= 0x80 (so any UTF-8 letter), ASCII folded to lower
 * case; everything else (spaces, punctuation, markdown) only separates words. Each run of 8
 * consecutive words is a shingle, hashed to 64 bits (a rolling polynomial over the words' FNV-1a
 * hashes, so one multiply-add per word). The system prompt's shingles (the first
 * SL_GOUT_MAX_SHINGLES) go into a set; the answer's shingles are looked up as its words complete.
 * A leak is either rule, each reported once per answer (later runs are still redacted):
 *   - run: leak_min_run shingles in a row found in the set (default 4, that is 11 words copied
 *     in order);
 *   - share: the distinct shingles found reach leak_min_share of the prompt's (default half),
 *     which catches a prompt copied in pieces and short prompts (a 9-word prompt has 2 shingles).
 * Fewer than 8 words in a row never match, so short overlaps and paraphrases pass; a prompt under
 * 8 words is not checked (use a canary for those). With redact, the words of a run are masked
 * from its first word on (what the window still holds), then each further word of the run.
 * Invariants: the set is sized from the prompt once and never grows; the answer side keeps O(1)
 * state; a hash collision can only make a match, never hide one; a set reused for the same
 * prompt bytes (a checker reset, output.c) is the set a new build would make. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "output-int.h"

#define W SL_GOUT_SHINGLE_WORDS
#define FNV_OFF 0xcbf29ce484222325ull
#define FNV_PRIME 0x100000001b3ull
#define ROLL_P 0x9e3779b97f4a7c15ull

static uint64_t mix(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

/* The shingle of the last W words: their polynomial hash (kept rolling in l->roll), mixed. */
static uint64_t shingle(const struct gout_leak *l)
{
	uint64_t h = mix(l->roll);
	return h ? h : 1;
}

/* ROLL_P^W, to take the oldest word out of the rolling hash. */
static uint64_t roll_pw(void)
{
	uint64_t x = 1;
	for (int i = 0; i < W; i++)
		x *= ROLL_P;
	return x;
}

static unsigned char fold(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c | 0x20) : c;
}

/* Steps the word tokenizer over byte c at offset off; true when a word ended just before it. */
static bool step(struct gout_leak *l, unsigned char c, uint64_t off)
{
	if (sl__gout_class[c] & GC_WORD) {
		if (!l->inword) {
			l->inword = true;
			l->h = FNV_OFF;
			l->wstart = off;
		}
		l->h = (l->h ^ fold(c)) * FNV_PRIME;
		return false;
	}
	if (!l->inword)
		return false;
	l->inword = false;
	uint64_t w = mix(l->h);
	l->roll = l->roll * ROLL_P + w - l->ring[l->nwords % W] * l->pw;
	l->ring[l->nwords % W] = w;
	l->starts[l->nwords % W] = l->wstart;
	l->nwords++;
	return true;
}

static size_t slot(const struct gout_leak *l, uint64_t h)
{
	size_t i = (size_t)h & (l->cap - 1);
	while (l->set[i] && l->set[i] != h)
		i = (i + 1) & (l->cap - 1);
	return i;
}

static size_t count_words(const char *s, size_t n)
{
	size_t w = 0;
	bool in = false;
	for (size_t i = 0; i < n; i++) {
		bool wc = sl__gout_class[(unsigned char)s[i]] & GC_WORD;
		w += wc && !in;
		in = wc;
	}
	return w;
}

static void add_prompt(struct gout_leak *l, const char *s, size_t len)
{
	for (size_t i = 0; i <= len && l->n < SL_GOUT_MAX_SHINGLES; i++) {
		if (!step(l, i < len ? (unsigned char)s[i] : ' ', i) || l->nwords < W)
			continue;
		size_t k = slot(l, shingle(l));
		if (!l->set[k]) {
			l->set[k] = shingle(l);
			l->n++;
		}
	}
}

/* The answer's side made fresh, the prompt's set (set, cap, n, pw) kept: the word stream, the
 * runs and the shingles seen. */
static void answer_reset(struct gout_leak *l)
{
	if (l->seen)
		memset(l->seen, 0, l->cap);
	l->nseen = 0;
	l->nwords = l->roll = 0;
	l->inword = l->share_done = l->run_done = false;
	l->run = 0;
	l->run_start = l->masked_to = 0;
	memset(l->ring, 0, sizeof(l->ring));
}

/* Keeps a copy of the prompt the set is built from (when it cannot, the set is just not reused). */
static void keep_prompt(struct gout_leak *l, const char *prompt, size_t len)
{
	l->prompt = malloc(len);
	l->plen = l->prompt ? len : 0;
	if (l->prompt)
		memcpy(l->prompt, prompt, len);
}

int sl__gout_leak_init(struct gout_leak *l, const char *prompt, size_t len)
{
	if (l->prompt && l->plen == len && memcmp(l->prompt, prompt, len) == 0) {
		answer_reset(l);
		return 0;
	}
	sl__gout_leak_release(l);
	memset(l, 0, sizeof(*l));
	size_t words = count_words(prompt, len);
	if (words < W) {
		keep_prompt(l, prompt, len);
		return 0;
	}
	size_t want = words - W + 1 < SL_GOUT_MAX_SHINGLES ? words - W + 1 : SL_GOUT_MAX_SHINGLES;
	l->cap = 16;
	while (l->cap < 2 * want)
		l->cap *= 2;
	l->set = calloc(l->cap, sizeof(*l->set));
	l->seen = calloc(l->cap, 1);
	if (!l->set || !l->seen) {
		sl__gout_leak_release(l);
		return SL_ENOMEM;
	}
	l->pw = roll_pw();
	add_prompt(l, prompt, len);
	answer_reset(l); /* the answer's word stream starts afresh */
	keep_prompt(l, prompt, len);
	return 0;
}

void sl__gout_leak_release(struct gout_leak *l)
{
	free(l->set);
	free(l->seen);
	free(l->prompt);
	l->set = NULL;
	l->seen = NULL;
	l->prompt = NULL;
	l->plen = 0;
}

/* A word ended at offset end: looks its shingle up and applies the two rules. */
static void on_word(struct sl_guard_output *g, uint64_t end)
{
	struct gout_leak *l = &g->leak;
	const struct sl_guard_output_spec *s = g->spec;
	if (l->nwords < W)
		return;
	size_t k = slot(l, shingle(l));
	if (!l->set[k]) {
		l->run = 0;
		return;
	}
	if (l->run++ == 0)
		l->run_start = l->starts[(l->nwords - W) % W];
	if (!l->seen[k]) {
		l->seen[k] = 1;
		l->nseen++;
	}
	char d[SL_GOUT_DETAIL_MAX];
	bool share = !l->share_done && (double)l->nseen >= s->leak_min_share * (double)l->n;
	if (l->run == s->leak_min_run && !l->run_done) {
		l->run_done = true;
		snprintf(d, sizeof(d), "%u words in a row from the system prompt", s->leak_min_run + W - 1);
		sl__gout_defer(g, SL_GOUT_PROMPT_LEAK, l->run_start, end - l->run_start, end, d);
	}
	if (share) {
		l->share_done = true;
		uint64_t from = l->starts[(l->nwords - W) % W];
		snprintf(d, sizeof(d), "%zu of the system prompt's %zu shingles", l->nseen, l->n);
		sl__gout_defer(g, SL_GOUT_PROMPT_LEAK, from, end - from, end, d);
	}
	if (l->run >= s->leak_min_run || l->share_done) {
		uint64_t from = l->run >= s->leak_min_run ? l->run_start : l->starts[(l->nwords - W) % W];
		sl__gout_mask_abs(g, from > l->masked_to ? from : l->masked_to, end);
		l->masked_to = end;
	}
}

void sl__gout_leak_feed(struct sl_guard_output *g, size_t from, size_t to)
{
	for (size_t i = from; i < to; i++) {
		unsigned char c = (unsigned char)g->win[i];
		if (!(sl__gout_class[c] & GC_WORD) && !g->leak.inword)
			continue;
		if (step(&g->leak, c, g->base + i))
			on_word(g, g->base + i);
	}
}

void sl__gout_leak_finish(struct sl_guard_output *g)
{
	uint64_t end = g->base + g->wlen;
	if (step(&g->leak, ' ', end))
		on_word(g, end);
}
