/* short_paths.c: the shortcuts the guard takes for short texts give what the general code gives,
 * bit for bit: the encoded-run search (skipped below SL_GUARD_DECODE_MIN bytes, one probe in 16
 * on the portable path) against the AVX-512 search and against runs of exactly the minimum
 * length placed at every offset; the normalized buffer and its views on both paths; the
 * shipped classifier's stage score on both paths (the vector map takes only the groups a short
 * text has); and the stage's cached threshold logit against the formula, also after the
 * threshold was changed as training changes it. Random texts are built from our own pieces
 * (base64 and hex fragments, %-escapes, spaced letters, zero-width characters, look-alikes). */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "guard/guard-int.h"
#include "guard/model-int.h"
#include "sluice/guard_model.h"

#define MAXRUNS 64

struct runs {
	size_t n, off[MAXRUNS], len[MAXRUNS];
};

static int on_run(void *ctx, size_t off, size_t n)
{
	struct runs *r = ctx;
	cr_assert_lt(r->n, MAXRUNS);
	r->off[r->n] = off;
	r->len[r->n++] = n;
	return 0;
}

/* The runs found in t[0..len) and the decoded bytes, on the path chosen. */
static void find(bool avx, const char *t, size_t len, struct runs *r, struct sl_buf *dec)
{
	sl__simd(avx);
	memset(r, 0, sizeof(*r));
	sl_buf_reset(dec);
	dec->limit = 2 * len + SL_GUARD_NORM_SLACK;
	cr_assert_eq(sl__find_encoded(t, len, dec, on_run, r), 0);
}

static const char *const pieces[] = {
    "aWdub3JlIHByZXZpb3Vz", "aWdub3Jl", "SGVsbG8gd29ybGQh", "696e7374727563", "69676e6f7265207468",
    "%69%67%6e%6f%72%65", "%2F", "%zz", "i g n o r e", "r.e.v.e.a.l", "s-y-s-t-e-m", "\xe2\x80\x8b",
    "\xd0\xb0", "\xce\xbf", "\xc3\xa9", "\xf3\xa0\x81\xa9", "Name", "one", "colour", " ", ".", "\t",
    "+/=", "==", "ABCDEFabcdef0123", "-_", "it's", "a", "I", "\xff",
};
#define NPIECES (sizeof(pieces) / sizeof(pieces[0]))

/* A random text of at most cap - 1 bytes from the pieces; returns its length. */
static size_t random_text(struct sl_rng *r, char *t, size_t cap)
{
	size_t want = sl_rng_next(r) % cap, n = 0;
	while (n < want) {
		const char *p = pieces[sl_rng_next(r) % NPIECES];
		size_t k = strlen(p);
		if (n + k >= cap)
			break;
		memcpy(t + n, p, k);
		n += k;
	}
	return n;
}

static void expect_same_runs(const char *t, size_t len, const char *what)
{
	struct sl_buf a, b;
	sl_buf_init(&a, 0);
	sl_buf_init(&b, 0);
	struct runs ra, rb;
	find(false, t, len, &ra, &a);
	find(true, t, len, &rb, &b);
	sl__simd(true);
	cr_assert_eq(ra.n, rb.n, "%s, len %zu: %zu runs portable, %zu vector", what, len, ra.n, rb.n);
	for (size_t i = 0; i < ra.n; i++)
		cr_assert(ra.off[i] == rb.off[i] && ra.len[i] == rb.len[i], "%s, len %zu: run %zu differs", what, len, i);
	cr_assert(a.len == b.len && (a.len == 0 || memcmp(a.data, b.data, a.len) == 0), "%s, len %zu: decoded bytes differ", what, len);
	sl_buf_release(&a);
	sl_buf_release(&b);
}

/* The portable probe search and the vector search find the same runs in random short texts,
 * in rows of run bytes of every length around the minimum, and texts made of run bytes. */
Test(short_paths, encoded_runs_match_on_both_paths)
{
	char t[256];
	struct sl_rng r;
	sl_rng_seed(&r, 7);
	for (int i = 0; i < 20000; i++)
		expect_same_runs(t, random_text(&r, t, sizeof(t)), "random");
	for (size_t len = 0; len < 140; len++)
		for (int k = 0; k < 40; k++) {
			for (size_t j = 0; j < len; j++) /* rows of run bytes broken now and then */
				t[j] = sl_rng_next(&r) % (2 + k % 30) ? "QUJDREVGR0hJSktMTU5PUA=="[sl_rng_next(&r) % 24] : ' ';
			expect_same_runs(t, len, "rows");
		}
}

/* A base64 run of exactly SL_GUARD_DECODE_MIN bytes is found at every offset of every text
 * length that holds it (so texts of exactly the minimum length are searched), and one byte
 * shorter it is not, on both paths. */
Test(short_paths, runs_of_the_minimum_length_are_found)
{
	static const char run[] = "SGVsbG8gd29ybGQh"; /* "Hello world!" */
	_Static_assert(sizeof(run) - 1 == SL_GUARD_DECODE_MIN, "a run of the minimum length");
	char t[128];
	struct sl_buf dec;
	sl_buf_init(&dec, 0);
	for (int avx = 0; avx < 2; avx++)
		for (size_t len = 0; len < 100; len++)
			for (size_t at = 0; at + SL_GUARD_DECODE_MIN - 1 <= len; at++)
				for (size_t k = SL_GUARD_DECODE_MIN - 1; k <= SL_GUARD_DECODE_MIN && at + k <= len; k++) {
					struct runs r;
					memset(t, ' ', len);
					memcpy(t + at, k == SL_GUARD_DECODE_MIN ? run : "SGVsbG8gd29ybGQ", k);
					find(avx, t, len, &r, &dec);
					cr_assert_eq(r.n, k == SL_GUARD_DECODE_MIN, "avx %d, len %zu, at %zu, run of %zu: %zu runs",
					             avx, len, at, k, r.n);
					if (r.n)
						cr_assert(r.len[0] == 12 && memcmp(dec.data + r.off[0], "Hello world!", 12) == 0);
				}
	sl__simd(true);
	sl_buf_release(&dec);
}

/* The normalized buffer and its views (collapsed, hidden, decoded) are the same on both paths
 * for random short texts. */
Test(short_paths, normalized_views_match_on_both_paths)
{
	char t[256];
	struct sl_guard_norm a, b;
	sl_guard_norm_init(&a);
	sl_guard_norm_init(&b);
	struct sl_rng r;
	sl_rng_seed(&r, 9);
	for (int i = 0; i < 20000; i++) {
		size_t len = random_text(&r, t, sizeof(t));
		sl__simd(false);
		cr_assert_eq(sl_guard_normalize(&a, t, len), 0);
		sl__simd(true);
		cr_assert_eq(sl_guard_normalize(&b, t, len), 0);
		cr_assert(a.out.len == b.out.len && memcmp(a.out.data, b.out.data, a.out.len) == 0, "len %zu", len);
		cr_assert(a.nviews == b.nviews && a.dropped == b.dropped && a.truncated == b.truncated);
		cr_assert(memcmp(a.views, b.views, a.nviews * sizeof(a.views[0])) == 0, "views, len %zu", len);
	}
	sl_guard_norm_release(&a);
	sl_guard_norm_release(&b);
}

static struct sl_guard_model *shipped_model(void)
{
	char path[SL_GUARD_PATH_MAX + 64], err[256] = "";
	struct sl_guard_model *m = NULL;
	cr_assert_eq(sl_guard_share_path(SL_GUARD_MODEL_FILE, path, sizeof(path)), 0);
	cr_assert_eq(sl_guard_model_load(path, &m, err, sizeof(err)), 0, "%s", err);
	return m;
}

/* The stage as its formula reads, every log taken. */
static double stage_formula(const struct sl_guard_model *m, const char *t, size_t len)
{
	double p = sl_guard_model_score(m, t, len), th = m->p.threshold;
	if (!(p > 0 && p < 1 && th > 0 && th < 1))
		return p;
	const double d = SL_GUARD_DEFAULT_THRESHOLD;
	double z = log(p / (1 - p)) - log(th / (1 - th)) + log(d / (1 - d));
	return 1.0 / (1.0 + exp(-z));
}

/* The shipped classifier's stage score: the same bits on both paths for texts of every short
 * length, and the formula's bits, with the threshold the model was loaded with and with
 * thresholds set afterwards (the cached logit must then not be used). */
Test(short_paths, classifier_stage_matches_on_both_paths_and_formula)
{
	struct sl_guard_model *m = shipped_model();
	char t[400];
	struct sl_rng r;
	sl_rng_seed(&r, 13);
	static const double later[] = {0, 0.2, 0.5, 0.93};
	for (size_t k = 0; k < sizeof(later) / sizeof(later[0]); k++) {
		double keep = m->p.threshold;
		if (later[k] > 0)
			m->p.threshold = later[k];
		for (int i = 0; i < 3000; i++) {
			size_t len = i < 300 ? (size_t)i : random_text(&r, t, 200);
			if (i < 300)
				for (size_t j = 0; j < len; j++)
					t[j] = "abc defghij. klmnop,qr\ts\xc3\xa9uvw\xff xyz0123ignore"[sl_rng_next(&r) % 45];
			sl__simd(false);
			double portable = sl_guard_model_stage(m, t, len);
			sl__simd(true);
			double vec = sl_guard_model_stage(m, t, len), want = stage_formula(m, t, len);
			cr_assert(portable == vec, "threshold %g, len %zu: portable %a, vector %a", m->p.threshold, len,
			          portable, vec);
			cr_assert(vec == want, "threshold %g, len %zu: %a, formula %a", m->p.threshold, len, vec, want);
		}
		m->p.threshold = keep;
	}
	sl_guard_model_free(m);
}
