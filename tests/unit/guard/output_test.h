/* output_test.h: helpers for the output-check tests: run a checker over a text cut at given
 * places, and compare two runs (released text and findings). */
#ifndef SLUICE_TEST_GUARD_OUTPUT_H
#define SLUICE_TEST_GUARD_OUTPUT_H

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sluice/guard_output.h"

struct orun {
	struct sl_buf out;
	struct sl_gout_finding f[SL_GOUT_MAX_FINDINGS];
	size_t nf, maxheld;
	uint64_t total;
	int rc;        /* last feed/finish result */
	size_t pieces; /* released pieces that were not empty */
	bool utf8_ok;  /* every released piece was valid UTF-8 on its own */
};

static inline bool utf8_valid(const char *s, size_t n)
{
	for (size_t i = 0; i < n;) {
		size_t k = sl_utf8_seq_len((const unsigned char *)s + i, n - i);
		if (!k)
			return false;
		i += k;
	}
	return true;
}

/* Feeds text[0, n) cut at cuts[0..ncuts) (increasing) to the checker g, then finishes. */
static inline void orun_feed(struct sl_guard_output *g, const char *text, size_t n, const size_t *cuts, size_t ncuts,
                             struct orun *r)
{
	memset(r, 0, sizeof(*r));
	r->utf8_ok = true;
	sl_buf_init(&r->out, 0);
	size_t at = 0;
	for (size_t i = 0; i <= ncuts; i++) {
		size_t end = i < ncuts ? cuts[i] : n, before = r->out.len;
		r->rc = sl_guard_output_feed(g, text + at, end - at, &r->out);
		cr_assert(r->rc >= 0);
		if (sl_guard_output_held(g) > r->maxheld)
			r->maxheld = sl_guard_output_held(g);
		if (r->out.len > before) {
			r->pieces++;
			r->utf8_ok &= utf8_valid(r->out.data + before, r->out.len - before);
		}
		at = end;
	}
	r->rc = sl_guard_output_finish(g, &r->out);
	const struct sl_gout_finding *f;
	r->nf = sl_guard_output_findings(g, &f);
	memcpy(r->f, f, r->nf * sizeof(*f));
	r->total = sl_guard_output_total(g);
}

/* The same with a new checker for spec s and system prompt sys. */
static inline void orun_cuts(const struct sl_guard_output_spec *s, const char *sys, const char *text, size_t n,
                             const size_t *cuts, size_t ncuts, struct orun *r)
{
	struct sl_guard_output *g;
	cr_assert_eq(sl_guard_output_new(s, sys, sys ? strlen(sys) : 0, &g), 0);
	orun_feed(g, text, n, cuts, ncuts, r);
	sl_guard_output_free(g);
}

static inline void orun_one(const struct sl_guard_output_spec *s, const char *sys, const char *text, struct orun *r)
{
	orun_cuts(s, sys, text, strlen(text), NULL, 0, r);
}

/* One byte at a time. */
static inline void orun_bytes(const struct sl_guard_output_spec *s, const char *sys, const char *text,
                              struct orun *r)
{
	size_t n = strlen(text);
	size_t *cuts = malloc((n ? n : 1) * sizeof(*cuts));
	for (size_t i = 0; i < n; i++)
		cuts[i] = i + 1;
	orun_cuts(s, sys, text, n, cuts, n ? n - 1 : 0, r);
	free(cuts);
}

/* Random cuts from seed, pieces of 1..maxpiece bytes. */
static inline void orun_random(const struct sl_guard_output_spec *s, const char *sys, const char *text, size_t n,
                               uint64_t seed, size_t maxpiece, struct orun *r)
{
	struct sl_rng rng;
	sl_rng_seed(&rng, seed);
	size_t *cuts = malloc((n + 1) * sizeof(*cuts)), k = 0;
	for (size_t at = 0;;) {
		at += 1 + (size_t)(sl_rng_next(&rng) % maxpiece);
		if (at >= n)
			break;
		cuts[k++] = at;
	}
	orun_cuts(s, sys, text, n, cuts, k, r);
	free(cuts);
}

static inline void orun_release(struct orun *r)
{
	sl_buf_release(&r->out);
}

static inline void orun_expect_same(const struct orun *a, const struct orun *b, const char *what)
{
	cr_expect_eq(a->out.len, b->out.len, "%s: released %zu vs %zu bytes", what, a->out.len, b->out.len);
	cr_expect(a->out.len == b->out.len && (a->out.len == 0 || memcmp(a->out.data, b->out.data, a->out.len) == 0),
	          "%s: released text differs", what);
	cr_expect_eq(a->nf, b->nf, "%s: %zu vs %zu findings", what, a->nf, b->nf);
	for (size_t i = 0; i < a->nf && i < b->nf; i++) {
		cr_expect_eq(a->f[i].kind, b->f[i].kind, "%s: finding %zu kind", what, i);
		cr_expect_eq(a->f[i].offset, b->f[i].offset, "%s: finding %zu offset", what, i);
		cr_expect_eq(a->f[i].len, b->f[i].len, "%s: finding %zu len", what, i);
		cr_expect_str_eq(a->f[i].detail, b->f[i].detail, "%s: finding %zu detail", what, i);
	}
}

static inline bool contains(const struct orun *r, const char *needle)
{
	return memmem(r->out.data, r->out.len, needle, strlen(needle)) != NULL;
}

#endif
