/* bench/guard/main.c: the guard's input pipeline on the labelled injection corpus: the share of
 * each source the rules alone flag (benign sources must stay near 0), MB/s per core of each stage
 * (normalize + decode + collapse, the Vectorscan rules, the classifier, the document model) and of
 * the whole pipeline with and without the classifier, and with both models over the corpus read as
 * indirect content (documents, tool results), p50/p99 latency for a 2 KB prompt (wall clock and CPU time),
 * and, in the same run, a plain PCRE2 JIT loop over the same rule expressions on the raw text
 * with the ratio, plus a check that Vectorscan and PCRE2 agree rule by rule on the normalized
 * buffers (each shifted by 0..127 bytes, since Vectorscan bugs can hang on the match offset).
 * Throughput is CPU time of this thread, the median of ROUNDS passes, so a loaded machine
 * still measures one core. Invariants: reads the corpus and the model only (never writes);
 * exits 0 with a message when the corpus is absent; runs without a model (classifier lines are
 * then skipped); prints numbers, asserts none. SLUICE_GUARD_PORTABLE=1 in the environment
 * measures the portable code instead of the AVX-512 paths (the first line says which ran). */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <json-c/json.h>
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../src/guard/guard-int.h"
#include "sluice/guard.h"
#include "sluice/guard_model.h"

#define MAX_SOURCES 32
#define ROUNDS 5
#define SHIFT_MAX 128

/* CPU time of this thread: "per core" even when the machine is shared. */
static uint64_t cpu_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}
#define LAT_RUNS 20000
#define PROMPT_BYTES 2048

struct doc {
	char *text;
	size_t len;
	int label;
	unsigned source;
};
struct corpus {
	struct doc *docs;
	size_t n, bytes;
	char *sources[MAX_SOURCES];
	unsigned nsources;
};

static unsigned source_id(struct corpus *c, const char *s)
{
	for (unsigned i = 0; i < c->nsources; i++)
		if (strcmp(c->sources[i], s) == 0)
			return i;
	if (c->nsources == MAX_SOURCES)
		return MAX_SOURCES - 1;
	c->sources[c->nsources] = strdup(s);
	return c->nsources++;
}

static int add_line(struct corpus *c, const char *line, size_t *cap)
{
	struct json_object *o = json_tokener_parse(line), *t, *l, *s;
	if (!o || !json_object_object_get_ex(o, "text", &t) || !json_object_object_get_ex(o, "label", &l) ||
	    !json_object_object_get_ex(o, "source", &s)) {
		json_object_put(o);
		return -1;
	}
	if (c->n == *cap) {
		*cap = *cap ? 2 * *cap : 1024;
		c->docs = realloc(c->docs, *cap * sizeof(*c->docs));
		if (!c->docs)
			abort();
	}
	struct doc *d = &c->docs[c->n++];
	d->len = (size_t)json_object_get_string_len(t);
	d->text = malloc(d->len + 1);
	memcpy(d->text, json_object_get_string(t), d->len + 1);
	d->label = json_object_get_int(l);
	d->source = source_id(c, json_object_get_string(s));
	c->bytes += d->len;
	json_object_put(o);
	return 0;
}

static int load_corpus(const char *path, struct corpus *c)
{
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t lcap = 0, cap = 0;
	if (!f)
		return -1;
	while (getline(&line, &lcap, f) > 0)
		if (add_line(c, line, &cap))
			fprintf(stderr, "bench_guard: skipped a bad line\n");
	free(line);
	fclose(f);
	return 0;
}

static void flagged_by_source(const struct corpus *c, const struct sl_guard_rules *r, struct sl_guard_scratch *s)
{
	size_t n[MAX_SOURCES] = {0}, hit[MAX_SOURCES] = {0}, label[MAX_SOURCES] = {0};
	struct sl_guard_opts o;
	sl_guard_opts_default(&o);
	for (size_t i = 0; i < c->n; i++) {
		struct sl_guard_verdict v;
		if (sl_guard_scan_text(r, s, &o, c->docs[i].text, c->docs[i].len, &v))
			continue;
		n[c->docs[i].source]++;
		hit[c->docs[i].source] += v.fired;
		label[c->docs[i].source] += c->docs[i].label == 1;
	}
	printf("rules alone, threshold %.2f: share flagged per source\n", o.threshold);
	printf("  %-20s %6s %8s %8s\n", "source", "n", "flagged", "share");
	for (unsigned k = 0; k < c->nsources; k++)
		printf("  %-20s %6zu %8zu %7.2f%%  (%s)\n", c->sources[k], n[k], hit[k], n[k] ? 100.0 * hit[k] / n[k] : 0,
		       label[k] ? "injection" : "benign");
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* MB/s of input over the corpus: the median of ROUNDS passes of fn. */
typedef void (*pass_fn)(void *ctx, const struct doc *d);
static double mbs(const struct corpus *c, pass_fn fn, void *ctx)
{
	double rate[ROUNDS];
	for (unsigned k = 0; k < ROUNDS; k++) {
		uint64_t t0 = cpu_ns();
		for (size_t i = 0; i < c->n; i++)
			fn(ctx, &c->docs[i]);
		rate[k] = (double)c->bytes / ((double)(cpu_ns() - t0) / 1e9) / 1e6;
	}
	qsort(rate, ROUNDS, sizeof(rate[0]), cmp_double);
	return rate[ROUNDS / 2];
}

struct pipe {
	const struct sl_guard_rules *r;
	struct sl_guard_scratch *s;
	struct sl_guard_opts o;
	enum sl_guard_trust trust; /* how every prompt is read; direct unless set */
};

static void pass_pipeline(void *ctx, const struct doc *d)
{
	struct pipe *p = ctx;
	struct sl_guard_verdict v;
	struct sl_guard_segment seg = {p->trust, d->text, d->len};
	sl_guard_scan(p->r, p->s, &p->o, &seg, 1, &v);
}

static void pass_normalize(void *ctx, const struct doc *d)
{
	sl_guard_normalize(ctx, d->text, d->len);
}

/* The normalized buffer of every prompt, for the stages that work on it. */
struct normed {
	char **buf;
	size_t *len, bytes;
};

static void normalize_all(const struct corpus *c, struct normed *nb)
{
	struct sl_guard_norm n;
	sl_guard_norm_init(&n);
	nb->buf = calloc(c->n, sizeof(*nb->buf));
	nb->len = calloc(c->n, sizeof(*nb->len));
	nb->bytes = 0;
	for (size_t i = 0; i < c->n; i++) {
		if (sl_guard_normalize(&n, c->docs[i].text, c->docs[i].len) != 0)
			continue;
		nb->buf[i] = malloc(n.out.len + 1);
		memcpy(nb->buf[i], n.out.data, n.out.len + 1);
		nb->len[i] = n.out.len;
		nb->bytes += n.out.len;
	}
	sl_guard_norm_release(&n);
	printf("normalized buffer: %.2fx the input bytes\n", (double)nb->bytes / (double)c->bytes);
}

static void normed_free(const struct corpus *c, struct normed *nb)
{
	for (size_t i = 0; i < c->n; i++)
		free(nb->buf[i]);
	free(nb->buf);
	free(nb->len);
}

static int on_hit(unsigned int id, unsigned long long from, unsigned long long to, unsigned int flags, void *p)
{
	return 0;
}

struct stage {
	const struct corpus *c;
	const struct normed *nb;
	const struct sl_guard_rules *r;
	hs_scratch_t *hs;
	const struct sl_guard_model *m;
};

static void pass_rules(void *ctx, const struct doc *d)
{
	struct stage *st = ctx;
	size_t i = (size_t)(d - st->c->docs);
	hs_scan(st->r->db, st->nb->buf[i] ? st->nb->buf[i] : "", (unsigned)st->nb->len[i], 0, st->hs, on_hit, NULL);
}

static void pass_model(void *ctx, const struct doc *d)
{
	struct stage *st = ctx;
	size_t i = (size_t)(d - st->c->docs);
	(void)sl_guard_model_score(st->m, st->nb->buf[i] ? st->nb->buf[i] : "", st->nb->len[i]);
}


static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static void percentiles(uint64_t *ns, const char *what)
{
	qsort(ns, LAT_RUNS, sizeof(*ns), cmp_u64);
	printf(" %s p50 %.1f us, p99 %.1f us;", what, ns[LAT_RUNS / 2] / 1e3, ns[LAT_RUNS * 99 / 100] / 1e3);
}

/* A 2 KB prompt made of benign corpus texts, then p50 / p99 of scanning it, wall clock and CPU
 * time of this thread (the wall clock includes the time other processes hold the core). */
static void latency(const struct corpus *c, struct pipe *p, const char *label)
{
	char prompt[PROMPT_BYTES];
	size_t len = 0;
	for (size_t i = 0; i < c->n && len < PROMPT_BYTES; i++) {
		if (c->docs[i].label)
			continue;
		size_t take = c->docs[i].len < PROMPT_BYTES - len ? c->docs[i].len : PROMPT_BYTES - len;
		memcpy(prompt + len, c->docs[i].text, take);
		len += take;
	}
	uint64_t *wall = malloc(LAT_RUNS * sizeof(*wall)), *cpu = malloc(LAT_RUNS * sizeof(*cpu));
	for (unsigned k = 0; k < LAT_RUNS; k++) {
		struct sl_guard_verdict v;
		uint64_t t0 = sl_now_ns(), c0 = cpu_ns();
		sl_guard_scan_text(p->r, p->s, &p->o, prompt, len, &v);
		cpu[k] = cpu_ns() - c0;
		wall[k] = sl_now_ns() - t0;
	}
	printf("latency %s, one %zu-byte prompt, %d runs:", label, len, LAT_RUNS);
	percentiles(wall, "wall clock");
	percentiles(cpu, "CPU time");
	printf("\n");
	free(wall);
	free(cpu);
}

/* Every rule expression compiled by PCRE2 (caseless, bytes like Vectorscan, JIT). */
static pcre2_code **pcre2_rules(const struct sl_guard_rules *r, size_t *njit)
{
	size_t n = sl_guard_rules_count(r);
	pcre2_code **re = calloc(n, sizeof(*re));
	*njit = 0;
	for (size_t i = 0; i < n; i++) {
		int e;
		PCRE2_SIZE off;
		re[i] = pcre2_compile((PCRE2_SPTR)r->exprs[i], PCRE2_ZERO_TERMINATED, PCRE2_CASELESS, &e, &off, NULL);
		if (re[i] && pcre2_jit_compile(re[i], PCRE2_JIT_COMPLETE) == 0)
			(*njit)++;
	}
	return re;
}

static void pcre2_rules_free(pcre2_code **re, size_t n)
{
	for (size_t i = 0; i < n; i++)
		pcre2_code_free(re[i]);
	free(re);
}

/* 1 matched, 0 not, -1 an error (match limit): a match with too small an ovector returns 0. */
static int pcre2_hit(pcre2_code *re, const char *s, size_t len, pcre2_match_data *md)
{
	int rc = pcre2_jit_match(re, (PCRE2_SPTR)s, len, 0, 0, md, NULL);
	return rc >= 0 ? 1 : rc == PCRE2_ERROR_NOMATCH ? 0 : -1;
}

/* The peer: the PCRE2 loop over every rule, on the raw text. */
static double pcre2_throughput(const struct corpus *c, const struct sl_guard_rules *r)
{
	size_t n = sl_guard_rules_count(r), ok, hits = 0;
	pcre2_code **re = pcre2_rules(r, &ok);
	pcre2_match_data *md = pcre2_match_data_create(4, NULL);
	uint64_t t0 = cpu_ns();
	for (size_t d = 0; d < c->n; d++)
		for (size_t i = 0; i < n; i++)
			if (re[i])
				hits += pcre2_hit(re[i], c->docs[d].text, c->docs[d].len, md) == 1;
	double sec = (double)(cpu_ns() - t0) / 1e9;
	printf("pcre2: %zu of %zu expressions JIT-compiled, %zu rule matches on the raw text\n", ok, n, hits);
	pcre2_rules_free(re, n);
	pcre2_match_data_free(md);
	return (double)c->bytes / sec / 1e6;
}

static int on_rule(unsigned int id, unsigned long long from, unsigned long long to, unsigned int flags, void *p)
{
	((unsigned char *)p)[id] = 1;
	return 0;
}

/* Vectorscan against PCRE2, rule by rule, on every normalized buffer shifted by i % SHIFT_MAX
 * bytes: prints each rule that disagrees and returns the number of disagreements. */
static size_t agreement(const struct corpus *c, const struct normed *nb, const struct sl_guard_rules *r,
                        hs_scratch_t *hs)
{
	size_t n = sl_guard_rules_count(r), ok, bad = 0, errors = 0;
	pcre2_code **re = pcre2_rules(r, &ok);
	pcre2_match_data *md = pcre2_match_data_create(4, NULL);
	unsigned char *hit = calloc(n, 1);
	size_t *only_hs = calloc(n, sizeof(size_t)), *only_pcre = calloc(n, sizeof(size_t));
	struct sl_buf b;
	sl_buf_init(&b, 0);
	for (size_t d = 0; d < c->n; d++) {
		size_t shift = d % SHIFT_MAX;
		sl_buf_reset(&b);
		for (size_t k = 0; k < shift; k++)
			(void)sl_buf_append(&b, " ", 1);
		(void)sl_buf_append(&b, nb->buf[d] ? nb->buf[d] : "", nb->len[d]);
		memset(hit, 0, n);
		hs_scan(r->db, b.data, (unsigned)b.len, 0, hs, on_rule, hit);
		for (size_t i = 0; i < n; i++) {
			int p = re[i] ? pcre2_hit(re[i], b.data, b.len, md) : -1;
			errors += p < 0;
			only_hs[i] += p == 0 && hit[i];
			only_pcre[i] += p == 1 && !hit[i];
		}
	}
	for (size_t i = 0; i < n; i++) {
		if (only_hs[i] || only_pcre[i])
			printf("  rule %s: %zu prompts only Vectorscan matched, %zu only PCRE2\n",
			       sl_guard_rules_get(r, i)->id, only_hs[i], only_pcre[i]);
		bad += only_hs[i] + only_pcre[i];
	}
	printf("vectorscan vs pcre2, each rule on each normalized prompt (shifted 0..%d bytes): %zu disagreements, "
	       "%zu pcre2 errors\n", SHIFT_MAX - 1, bad, errors);
	sl_buf_release(&b);
	free(hit);
	free(only_hs);
	free(only_pcre);
	pcre2_rules_free(re, n);
	pcre2_match_data_free(md);
	return bad;
}

/* A shipped model (rel under the share directory), or NULL (said why) when there is none. */
static struct sl_guard_model *load_model(const char *rel, const char *what)
{
	char path[SL_GUARD_PATH_MAX + 64], err[512] = "path too long";
	struct sl_guard_model *m = NULL;
	if (sl_guard_share_path(rel, path, sizeof(path)) == 0 && sl_guard_model_load(path, &m, err, sizeof(err)) == 0)
		return m;
	printf("%s: none (%s): its lines skipped\n", what, err);
	return NULL;
}

static void stages(const struct corpus *c, const struct sl_guard_rules *r, const struct sl_guard_model *m,
                   const struct sl_guard_model *doc)
{
	struct normed nb;
	struct sl_guard_norm n;
	struct stage st = {c, &nb, r, NULL, m};
	sl_guard_norm_init(&n);
	normalize_all(c, &nb);
	if (hs_alloc_scratch(r->db, &st.hs) != HS_SUCCESS)
		abort();
	printf("stages, MB/s of input, CPU time of one core, median of %d passes:\n", ROUNDS);
	printf("  normalize + decode + collapse:           %8.1f\n", mbs(c, pass_normalize, &n));
	printf("  rules (Vectorscan, normalized buffer):   %8.1f\n", mbs(c, pass_rules, &st));
	if (m)
		printf("  classifier (model, normalized buffer):   %8.1f\n", mbs(c, pass_model, &st));
	if (doc) {
		st.m = doc;
		printf("  document model (normalized buffer):      %8.1f\n", mbs(c, pass_model, &st));
	}
	agreement(c, &nb, r, st.hs);
	hs_free_scratch(st.hs);
	normed_free(c, &nb);
	sl_guard_norm_release(&n);
}

static void release(struct corpus *c)
{
	for (size_t i = 0; i < c->n; i++)
		free(c->docs[i].text);
	free(c->docs);
	for (unsigned i = 0; i < c->nsources; i++)
		free(c->sources[i]);
}

int main(int argc, char **argv)
{
	const char *path = argc > 1 ? argv[1] : "/work/shared/data/injection/corpus.jsonl";
	struct corpus c = {0};
	struct pipe p = {0};
	struct sl_guard_rules *r;
	char err[512];
	if (load_corpus(path, &c) || c.n == 0) {
		printf("bench_guard: corpus '%s' not found or empty: nothing to measure\n", path);
		return 0;
	}
	if (sl_guard_rules_load_default(argc > 2 ? argv[2] : NULL, &r, err, sizeof(err)) ||
	    sl_guard_scratch_new(r, &p.s)) {
		fprintf(stderr, "bench_guard: %s\n", err);
		return 1;
	}
	struct sl_guard_model *m = load_model(SL_GUARD_MODEL_FILE, "classifier");
	struct sl_guard_model *doc = load_model(SL_GUARD_INDIRECT_MODEL_FILE, "document model");
	if (getenv("SLUICE_GUARD_PORTABLE")) /* measure the code other CPUs run */
		sl__simd(false);
	p.r = r;
	p.trust = SL_GUARD_DIRECT;
	sl_guard_opts_default(&p.o);
	printf("corpus: %zu prompts, %.2f MB, %zu rules; code path: %s\n", c.n, c.bytes / 1e6, sl_guard_rules_count(r),
	       sl__simd_avx512() ? "AVX-512" : "portable");
	flagged_by_source(&c, r, p.s);
	stages(&c, r, m, doc);
	struct sl_guard_model_pair pair;
	double rules_only = mbs(&c, pass_pipeline, &p), with_model = 0;
	if (m) {
		sl_guard_opts_models(&p.o, &pair, m, NULL);
		with_model = mbs(&c, pass_pipeline, &p);
	}
	double as_docs = 0, as_docs_apart = 0;
	if (m && doc) { /* the two models in one walk (when they pair), then each on its own */
		sl_guard_opts_models(&p.o, &pair, m, doc);
		p.trust = SL_GUARD_INDIRECT;
		as_docs = mbs(&c, pass_pipeline, &p);
		p.o.both = (struct sl_guard_scorer){0};
		as_docs_apart = mbs(&c, pass_pipeline, &p);
		sl_guard_opts_models(&p.o, &pair, m, NULL);
		p.trust = SL_GUARD_DIRECT;
	}
	double peer = pcre2_throughput(&c, r);
	printf("sluice pipeline without classifier (normalize + decode + Vectorscan + decision), one core: %.1f MB/s\n",
	       rules_only);
	if (m)
		printf("sluice pipeline with classifier, one core:                                              %.1f MB/s\n",
		       with_model);
	if (m && doc)
		printf("sluice pipeline, prompts read as indirect content (classifier + document model), one core: %.1f MB/s "
		       "(%s; each model walking the text on its own: %.1f MB/s)\n",
		       as_docs, sl_guard_model_pairs(m, doc) ? "one walk for both" : "the models do not pair", as_docs_apart);
	printf("pcre2 JIT, same expressions, raw text only, one core: %.1f MB/s\n", peer);
	printf("ratio sluice (without classifier) / pcre2: %.2fx\n", rules_only / peer);
	sl_guard_opts_models(&p.o, &pair, NULL, NULL);
	latency(&c, &p, "without classifier");
	if (m) {
		sl_guard_opts_models(&p.o, &pair, m, NULL);
		latency(&c, &p, "with classifier");
	}
	sl_guard_model_free(m);
	sl_guard_model_free(doc);
	sl_guard_scratch_free(p.s);
	sl_guard_rules_free(r);
	release(&c);
	return 0;
}
