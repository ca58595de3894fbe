/* bench/guard/main.c: the guard's input pipeline on the labelled injection corpus: the share of
 * each source the rules alone flag (benign sources must stay near 0), throughput of the whole
 * pipeline (normalize + decode + rules) in MB/s on one core, p50/p99 latency for a 2 KB prompt,
 * and, in the same run, a plain PCRE2 JIT loop over the same rule expressions on the raw text
 * with the ratio. Invariants: reads the corpus only (never writes it); exits 0 with a message
 * when the corpus is absent; prints numbers, asserts none. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <json-c/json.h>
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../src/guard/guard-int.h"
#include "sluice/guard.h"

#define MAX_SOURCES 32

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

static double throughput(const struct corpus *c, const struct sl_guard_rules *r, struct sl_guard_scratch *s,
                         unsigned rounds)
{
	struct sl_guard_opts o;
	sl_guard_opts_default(&o);
	uint64_t t0 = cpu_ns();
	for (unsigned k = 0; k < rounds; k++)
		for (size_t i = 0; i < c->n; i++) {
			struct sl_guard_verdict v;
			sl_guard_scan_text(r, s, &o, c->docs[i].text, c->docs[i].len, &v);
		}
	double sec = (double)(cpu_ns() - t0) / 1e9;
	return (double)c->bytes * rounds / sec / 1e6;
}

static double normalize_only(const struct corpus *c, unsigned rounds)
{
	struct sl_guard_norm n;
	size_t out = 0;
	sl_guard_norm_init(&n);
	uint64_t t0 = cpu_ns();
	for (unsigned k = 0; k < rounds; k++)
		for (size_t i = 0; i < c->n; i++)
			if (sl_guard_normalize(&n, c->docs[i].text, c->docs[i].len) == 0)
				out += n.out.len;
	double sec = (double)(cpu_ns() - t0) / 1e9;
	printf("normalized buffer: %.2fx the input bytes\n", (double)out / ((double)c->bytes * rounds));
	sl_guard_norm_release(&n);
	return (double)c->bytes * rounds / sec / 1e6;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* A 2 KB prompt made of benign corpus texts, then p50 / p99 of scanning it. */
static void latency(const struct corpus *c, const struct sl_guard_rules *r, struct sl_guard_scratch *s)
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
	uint64_t *ns = malloc(LAT_RUNS * sizeof(*ns));
	struct sl_guard_opts o;
	sl_guard_opts_default(&o);
	for (unsigned k = 0; k < LAT_RUNS; k++) {
		struct sl_guard_verdict v;
		uint64_t t0 = sl_now_ns();
		sl_guard_scan_text(r, s, &o, prompt, len, &v);
		ns[k] = sl_now_ns() - t0;
	}
	qsort(ns, LAT_RUNS, sizeof(*ns), cmp_u64);
	printf("latency (wall clock), one %zu-byte prompt, %d runs: p50 %.1f us, p99 %.1f us\n", len, LAT_RUNS,
	       ns[LAT_RUNS / 2] / 1e3, ns[LAT_RUNS * 99 / 100] / 1e3);
	free(ns);
}

/* The peer: every rule expression compiled by PCRE2 (caseless, JIT), matched on the raw text. */
static double pcre2_throughput(const struct corpus *c, const struct sl_guard_rules *r, unsigned rounds)
{
	size_t n = sl_guard_rules_count(r), ok = 0;
	pcre2_code **re = calloc(n, sizeof(*re));
	pcre2_match_data *md = pcre2_match_data_create(4, NULL);
	for (size_t i = 0; i < n; i++) {
		int e;
		PCRE2_SIZE off;
		re[i] = pcre2_compile((PCRE2_SPTR)r->exprs[i], PCRE2_ZERO_TERMINATED, PCRE2_CASELESS, &e, &off, NULL);
		if (re[i] && pcre2_jit_compile(re[i], PCRE2_JIT_COMPLETE) == 0)
			ok++;
	}
	uint64_t t0 = cpu_ns();
	size_t hits = 0;
	for (unsigned k = 0; k < rounds; k++)
		for (size_t d = 0; d < c->n; d++)
			for (size_t i = 0; i < n; i++)
				if (re[i])
					hits += pcre2_jit_match(re[i], (PCRE2_SPTR)c->docs[d].text, c->docs[d].len, 0, 0, md,
					                        NULL) > 0;
	double sec = (double)(cpu_ns() - t0) / 1e9;
	printf("pcre2: %zu of %zu expressions JIT-compiled, %zu matches\n", ok, n, hits);
	for (size_t i = 0; i < n; i++)
		pcre2_code_free(re[i]);
	free(re);
	pcre2_match_data_free(md);
	return (double)c->bytes * rounds / sec / 1e6;
}

int main(int argc, char **argv)
{
	const char *path = argc > 1 ? argv[1] : "/work/shared/data/injection/corpus.jsonl";
	struct corpus c = {0};
	struct sl_guard_rules *r;
	struct sl_guard_scratch *s;
	char err[512];
	if (load_corpus(path, &c) || c.n == 0) {
		printf("bench_guard: corpus '%s' not found or empty: nothing to measure\n", path);
		return 0;
	}
	if (sl_guard_rules_load_default(argc > 2 ? argv[2] : NULL, &r, err, sizeof(err)) ||
	    sl_guard_scratch_new(r, &s)) {
		fprintf(stderr, "bench_guard: %s\n", err);
		return 1;
	}
	printf("corpus: %zu prompts, %.2f MB, %zu rules\n", c.n, c.bytes / 1e6, sl_guard_rules_count(r));
	flagged_by_source(&c, r, s);
	double mbs = throughput(&c, r, s, 5);
	double norm = normalize_only(&c, 5);
	double peer = pcre2_throughput(&c, r, 1);
	printf("normalize + decode only, one core: %.1f MB/s\n", norm);
	printf("sluice pipeline (normalize + decode + Vectorscan), CPU time of one core: %.1f MB/s\n", mbs);
	printf("pcre2 JIT, same expressions, raw text only, CPU time of one core:      %.1f MB/s\n", peer);
	printf("ratio sluice / pcre2: %.2fx\n", mbs / peer);
	latency(&c, r, s);
	sl_guard_scratch_free(s);
	sl_guard_rules_free(r);
	for (size_t i = 0; i < c.n; i++)
		free(c.docs[i].text);
	free(c.docs);
	for (unsigned i = 0; i < c.nsources; i++)
		free(c.sources[i]);
	return 0;
}
