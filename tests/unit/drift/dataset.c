/* dataset.c: the dataset level of sluice drift: Evidently's choice of test, multiple-testing
 * adjustments (hand-computed statsmodels values), the share rule, the bounded summaries
 * (count-min sketch error bound, category table cap, reservoir) and the reports built from
 * loaded tables (JSON parses, HTML is self-contained and escapes the data); the string hash
 * equals its first, byte-by-byte form. */
#include <criterion/criterion.h>
#include <json-c/json.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sluice/drift.h"

Test(dataset, default_choice)
{
	/* registry.py _get_default_stattest */
	cr_expect_eq(sl_drift_default_test(SL_DRIFT_NUM, 1000, 6, 0), SL_DRIFT_KS);
	cr_expect_eq(sl_drift_default_test(SL_DRIFT_NUM, 1000, 5, 0), SL_DRIFT_CHISQUARE);
	cr_expect_eq(sl_drift_default_test(SL_DRIFT_NUM, 1000, 2, 0), SL_DRIFT_Z);
	cr_expect_eq(sl_drift_default_test(SL_DRIFT_NUM, 1001, 6, 0), SL_DRIFT_WASSERSTEIN);
	cr_expect_eq(sl_drift_default_test(SL_DRIFT_NUM, 1001, 5, 0), SL_DRIFT_JS);
	cr_expect_eq(sl_drift_default_test(SL_DRIFT_CAT, 10, 3, 0), SL_DRIFT_CHISQUARE);
	cr_expect_eq(sl_drift_default_test(SL_DRIFT_CAT, 10, 2, 0), SL_DRIFT_Z);
	cr_expect_eq(sl_drift_default_test(SL_DRIFT_CAT, 5000, 2, 0), SL_DRIFT_JS);
	cr_expect_eq(sl_drift_default_test(SL_DRIFT_NUM, 5000, 50, 10000), SL_DRIFT_KS, "a larger cutoff");
	/* thresholds and comparisons: K-S drifts at p <= t, chi-squared and z at p < t */
	cr_expect(sl_drift_test_decide(SL_DRIFT_KS, 0.05, 0.05));
	cr_expect(!sl_drift_test_decide(SL_DRIFT_CHISQUARE, 0.05, 0.05));
	cr_expect(sl_drift_test_decide(SL_DRIFT_WASSERSTEIN, 0.1, 0.1));
	cr_expect(!sl_drift_test_decide(SL_DRIFT_JS, NAN, 0.1));
	enum sl_drift_test t;
	cr_expect(sl_drift_test_parse("jensenshannon", &t) == 0 && t == SL_DRIFT_JS);
	cr_expect_eq(sl_drift_test_parse("anderson", &t), SL_EINVAL);
}

Test(dataset, adjust)
{
	double p[] = {0.01, 0.04, 0.03, 0.005, NAN}, a[5];
	cr_assert_eq(sl_drift_adjust(p, 5, SL_DRIFT_CORR_BH, a), 0);
	double bh[] = {0.02, 0.04, 0.04, 0.02};
	for (int i = 0; i < 4; i++)
		cr_expect(fabs(a[i] - bh[i]) < 1e-15, "bh[%d] = %.17g", i, a[i]);
	cr_expect(isnan(a[4]), "NaN is left out");
	cr_assert_eq(sl_drift_adjust(p, 5, SL_DRIFT_CORR_BONFERRONI, a), 0);
	double bon[] = {0.04, 0.16, 0.12, 0.02};
	for (int i = 0; i < 4; i++)
		cr_expect(fabs(a[i] - bon[i]) < 1e-15, "bonferroni[%d] = %.17g", i, a[i]);
	double big[] = {0.5, 0.9};
	cr_assert_eq(sl_drift_adjust(big, 2, SL_DRIFT_CORR_BONFERRONI, a), 0);
	cr_expect(a[0] == 1 && a[1] == 1, "capped at 1");
	double bad[] = {1.5};
	cr_expect_eq(sl_drift_adjust(bad, 1, SL_DRIFT_CORR_BH, a), SL_EINVAL);
}

static struct sl_drift_result pres(enum sl_drift_test t, double p)
{
	struct sl_drift_result r = {.test = t, .pvalue = p, .statistic = NAN, .score = p, .threshold = 0.05};
	r.drift = sl_drift_test_decide(t, p, 0.05);
	return r;
}

Test(dataset, verdict)
{
	struct sl_drift_result r[4] = {pres(SL_DRIFT_KS, 0.01), pres(SL_DRIFT_CHISQUARE, 0.04), pres(SL_DRIFT_Z, 0.3),
	                               pres(SL_DRIFT_KS, 0.001)};
	bool skip[4] = {false, false, false, true};
	struct sl_drift_verdict v;
	cr_assert_eq(sl_drift_dataset(r, skip, 4, SL_DRIFT_CORR_NONE, 0.5, &v), 0);
	cr_expect(v.tested == 3 && v.drifted == 2 && v.drift, "2 of 3 tested columns");
	/* BH over the three tested p-values: 0.01 -> 0.03, 0.04 -> 0.06, 0.3 -> 0.3 */
	cr_assert_eq(sl_drift_dataset(r, skip, 4, SL_DRIFT_CORR_BH, 0.5, &v), 0);
	cr_expect(fabs(r[0].score - 0.03) < 1e-15 && fabs(r[1].score - 0.06) < 1e-15, "%g %g", r[0].score, r[1].score);
	cr_expect(r[0].drift && !r[1].drift && v.drifted == 1 && !v.drift, "1 of 3 after correction");
	cr_expect_eq(r[3].score, 0.001, "a skipped column is not adjusted");
	cr_assert_eq(sl_drift_dataset(r, NULL, 0, SL_DRIFT_CORR_NONE, 0.5, &v), 0);
	cr_expect(!v.drift && v.tested == 0, "nothing tested, no drift");
	cr_expect_eq(sl_drift_dataset(r, NULL, 1, SL_DRIFT_CORR_NONE, 1.5, &v), SL_EINVAL);
}

Test(dataset, count_min_sketch)
{
	struct sl_cms s;
	cr_assert_eq(sl_cms_init(&s, 0.01, 0.01, 9), 0);
	cr_expect_eq(s.w, 272, "ceil(e / 0.01)");
	cr_expect_eq(s.d, 5, "ceil(ln 100)");
	/* Zipf-like stream over 5000 keys */
	uint64_t *truth = calloc(5000, sizeof *truth), n = 0;
	struct sl_rng rng;
	sl_rng_seed(&rng, 3);
	char key[32];
	for (int i = 0; i < 200000; i++) {
		int k = (int)(5000 * pow(sl_rng_double(&rng), 3));
		int len = snprintf(key, sizeof key, "user-%d", k);
		sl_cms_add(&s, key, (size_t)len, 1);
		truth[k]++, n++;
	}
	int over = 0;
	for (int k = 0; k < 5000; k++) {
		int len = snprintf(key, sizeof key, "user-%d", k);
		uint64_t e = sl_cms_estimate(&s, key, (size_t)len);
		cr_assert_geq(e, truth[k], "an estimate is never below the truth");
		over += (double)(e - truth[k]) > 0.01 * (double)n;
	}
	cr_expect_leq(over, 5000 * 0.01 * 2, "%d of 5000 estimates past eps N (delta 0.01)", over);
	sl_cms_reset(&s);
	cr_expect_eq(sl_cms_estimate(&s, "user-0", 6), 0);
	sl_cms_release(&s);
	free(truth);
	cr_expect_eq(sl_cms_init(&s, 0, 0.1, 0), SL_EINVAL);
	cr_expect_eq(sl_cms_init(&s, 1e-9, 0.1, 0), SL_ERANGE, "bounded memory");
}

Test(dataset, category_summaries)
{
	struct sl_drift_cats a, b;
	cr_assert_eq(sl_drift_cats_init(&a, 3, 8, 0.01, 0.01, 1), 0);
	cr_assert_eq(sl_drift_cats_init(&b, 3, 8, 0.01, 0.01, 1), 0);
	const char *ka[] = {"red", "green", "blue", "red", "red"}, *kb[] = {"blue", "green", "green", "violet"};
	for (int i = 0; i < 5; i++)
		cr_assert_eq(sl_drift_cats_add(&a, ka[i], strlen(ka[i]), 1), 0);
	for (int i = 0; i < 4; i++)
		cr_assert_eq(sl_drift_cats_add(&b, kb[i], strlen(kb[i]), 1), 0);
	struct sl_drift_cat_pair p;
	cr_assert_eq(sl_drift_cats_pair(&a, &b, true, &p), 0);
	cr_assert_eq(p.k, 4);
	cr_expect(!p.hashed);
	const char *order[] = {"blue", "green", "red", "violet"};
	double ra[] = {1, 1, 3, 0}, rb[] = {1, 2, 0, 1};
	for (size_t i = 0; i < 4; i++) {
		cr_expect(p.lens[i] == strlen(order[i]) && memcmp(p.names[i], order[i], p.lens[i]) == 0, "sorted keys");
		cr_expect(p.ref[i] == ra[i] && p.cur[i] == rb[i], "counts of %s", order[i]);
	}
	sl_drift_cat_pair_release(&p);
	/* keys are cut at max_key bytes on a character boundary: 7 ASCII + a 2-byte character */
	cr_assert_eq(sl_drift_cats_add(&a, "abcdefg\xC3\xA9xyz", 12, 1), 0);
	cr_expect_not_null(a.cms, "a fourth category overflows the cap of 3");
	cr_expect_eq(a.folded, 1);
	cr_assert_eq(sl_drift_cats_pair(&a, &b, true, &p), 0);
	cr_expect(p.hashed && p.k == a.cms->w, "hashed comparison through the sketch's first row");
	double sum = 0;
	for (size_t i = 0; i < p.k; i++)
		sum += p.ref[i];
	cr_expect_eq(sum, 6, "every value is in the sketch");
	sl_drift_cat_pair_release(&p);
	sl_drift_cats_reset(&a);
	cr_expect(a.n == 0 && a.total == 0 && !a.cms);
	sl_drift_cats_release(&a);
	sl_drift_cats_release(&b);
}

Test(dataset, numeric_summaries)
{
	struct sl_drift_nums a, b;
	cr_assert_eq(sl_drift_nums_init(&a, 512, 1), 0);
	cr_assert_eq(sl_drift_nums_init(&b, 512, 2), 0);
	struct sl_rng rng;
	sl_rng_seed(&rng, 5);
	for (int i = 0; i < 100000; i++) {
		sl_drift_nums_add(&a, sl_rng_normal(&rng));
		sl_drift_nums_add(&b, sl_rng_normal(&rng) + 1);
	}
	sl_drift_nums_add(&a, NAN);
	sl_drift_nums_add(&a, INFINITY);
	cr_expect_eq(a.missing, 2);
	cr_expect_eq(a.r.len, 512, "memory stays at the reservoir's cap");
	cr_expect_eq(a.w.n, 100000);
	struct sl_drift_opts o;
	struct sl_drift_result r;
	sl_drift_opts_init(&o);
	cr_assert_eq(sl_drift_compare_nums(&a, &b, &o, &r), 0);
	cr_expect_eq(r.test, SL_DRIFT_KS, "512-value samples take K-S");
	cr_expect(r.drift && r.pvalue < 1e-20, "a shift of one sd: p %g", r.pvalue);
	sl_drift_nums_reset(&b, 3);
	for (int i = 0; i < 100000; i++)
		sl_drift_nums_add(&b, sl_rng_normal(&rng));
	cr_assert_eq(sl_drift_compare_nums(&a, &b, &o, &r), 0);
	cr_expect(!r.drift, "same distribution: p %g", r.pvalue);
	sl_drift_nums_release(&a);
	sl_drift_nums_release(&b);
}

static void build(const char *ref, const char *cur, struct sl_drift_report *rep)
{
	struct sl_drift_input a = {"ref.csv", ref, strlen(ref)}, b = {"cur.csv", cur, strlen(cur)};
	struct sl_drift_table ta, tb;
	struct sl_drift_error err;
	struct sl_drift_config cfg;
	cr_assert_eq(sl_drift_tables_load(&a, &b, NULL, &ta, &tb, &err), 0, "%s", err.msg);
	sl_drift_config_init(&cfg);
	cr_assert_eq(sl_drift_report_build(rep, &ta, &tb, &cfg), 0);
	sl_drift_table_release(&ta);
	sl_drift_table_release(&tb);
}

Test(dataset, reports)
{
	const char *name = "<script>alert(1)</script>&\"'";
	char ref[4096], cur[4096];
	size_t nr = (size_t)snprintf(ref, sizeof ref, "x,\"%s\",empty\n", "<script>alert(1)</script>&\"\"'");
	size_t nc = (size_t)snprintf(cur, sizeof cur, "x,\"%s\",empty\n", "<script>alert(1)</script>&\"\"'");
	for (int i = 0; i < 60; i++) {
		nr += (size_t)snprintf(ref + nr, sizeof ref - nr, "%d,%s,\n", i, i % 3 ? "a<b>" : "c");
		nc += (size_t)snprintf(cur + nc, sizeof cur - nc, "%d,%s,\n", i + 40, i % 2 ? "a<b>" : "c");
	}
	struct sl_drift_report rep;
	build(ref, cur, &rep);
	cr_assert_eq(rep.ncols, 3);
	cr_expect_str_eq(rep.cols[1].name, name);
	cr_expect(rep.cols[0].tested && rep.cols[0].r.test == SL_DRIFT_KS && rep.cols[0].r.drift);
	cr_expect(!rep.cols[2].tested && rep.cols[2].note, "an empty column is reported, not tested");
	cr_expect_eq(rep.verdict.tested, 2);

	struct sl_buf b;
	sl_buf_init(&b, 0);
	cr_assert_eq(sl_drift_report_json(&rep, "ref.csv", "cur.csv", &b), 0);
	json_object *doc = json_tokener_parse(b.data);
	cr_assert_not_null(doc, "JSON parses: %s", b.data);
	json_object *cols = NULL, *c1 = NULL, *nm = NULL;
	cr_assert(json_object_object_get_ex(doc, "columns", &cols));
	c1 = json_object_array_get_idx(cols, 1);
	cr_assert(json_object_object_get_ex(c1, "name", &nm));
	cr_expect_str_eq(json_object_get_string(nm), name);
	json_object_put(doc);

	sl_buf_reset(&b);
	cr_assert_eq(sl_drift_report_html(&rep, "ref.csv", "<img src=x>", &b), 0);
	cr_expect_null(strstr(b.data, "<script"), "no script element");
	cr_expect_null(strstr(b.data, "<img"), "a file name is escaped");
	cr_expect_null(strstr(b.data, "http://"));
	cr_expect_null(strstr(b.data, "https://"));
	cr_expect_null(strstr(b.data, "src=\""), "no fetched resource");
	cr_expect_null(strstr(b.data, "url("), "no fetched resource");
	cr_expect_not_null(strstr(b.data, "&lt;script&gt;alert(1)&lt;/script&gt;&amp;&quot;&#39;"));
	cr_expect_not_null(strstr(b.data, "a&lt;b&gt;"), "categories are escaped");
	for (const char *h = strstr(b.data, "href="); h; h = strstr(h + 1, "href="))
		cr_expect_eq(h[6], '#', "links stay inside the page");

	sl_buf_reset(&b);
	cr_assert_eq(sl_drift_report_text(&rep, "ref.csv", "cur\x1b[31m.csv", &b), 0);
	cr_expect_null(strchr(b.data, '\x1b'), "no escape sequences reach the terminal");
	cr_expect_not_null(strstr(b.data, "no values"), "%s", b.data);
	sl_buf_release(&b);
	sl_drift_report_release(&rep);
}

/* sl_drift_hash as first written (bytes assembled one by one): the register loads that replaced
 * it must give the same value for every length and alignment, or hashed bins and stored
 * sketches would move. */
static uint64_t hash_bytewise(const char *p, size_t n, uint64_t seed)
{
	const uint64_t m = 0xc6a4a7935bd1e995ULL;
	const unsigned char *s = (const unsigned char *)p;
	uint64_t h = seed ^ (n * m);
	for (; n >= 8; n -= 8, s += 8) {
		uint64_t k = 0;
		for (int i = 7; i >= 0; i--)
			k = (k << 8) | s[i];
		k *= m;
		k ^= k >> 47;
		h = (h ^ (k * m)) * m;
	}
	uint64_t tail = 0;
	for (size_t i = n; i-- > 0;)
		tail = (tail << 8) | s[i];
	if (n)
		h = (h ^ tail) * m;
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return h;
}

Test(dataset, hash_is_the_bytewise_one)
{
	struct sl_rng rng;
	sl_rng_seed(&rng, 11);
	char buf[64];
	for (int r = 0; r < 20000; r++) {
		size_t off = (size_t)(sl_rng_next(&rng) % 8), n = (size_t)(sl_rng_next(&rng) % 41);
		for (size_t i = 0; i < off + n; i++)
			buf[i] = (char)sl_rng_next(&rng);
		uint64_t seed = sl_rng_next(&rng);
		cr_assert_eq(sl_drift_hash(buf + off, n, seed), hash_bytewise(buf + off, n, seed), "length %zu", n);
	}
}

/* The table's slots carry a tag of each key's hash beside its index (as many tag bits as the
 * cap leaves: 21 at 1,024, 15 at 65,536, one at 2^30): every count is still exact, checked
 * against plain counting, with keys added in random order and repeated, through the union. */
Test(dataset, category_counts_with_hash_tags)
{
	static const size_t caps[] = {1024, 65536, (size_t)1 << 30};
	enum { KEYS = 1000, ADDS = 20000 };
	for (size_t ci = 0; ci < sizeof caps / sizeof caps[0]; ci++) {
		struct sl_drift_cats a, b;
		cr_assert_eq(sl_drift_cats_init(&a, caps[ci], 64, 0.01, 0.01, 7), 0);
		cr_assert_eq(sl_drift_cats_init(&b, caps[ci], 64, 0.01, 0.01, 7), 0);
		static uint64_t want_a[KEYS], want_b[KEYS];
		memset(want_a, 0, sizeof want_a);
		memset(want_b, 0, sizeof want_b);
		uint64_t x = 88172645463325252ULL + ci;
		for (int i = 0; i < ADDS; i++) {
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			unsigned k = (unsigned)(x % KEYS) * (unsigned)(x % 3 ? 1 : 0); /* key 0 a third of the time */
			char key[32];
			int n = snprintf(key, sizeof key, "key-%u", k);
			bool to_b = (x >> 40) % 2;
			cr_assert_eq(sl_drift_cats_add(to_b ? &b : &a, key, (size_t)n, 1 + k % 3), 0);
			(to_b ? want_b : want_a)[k] += 1 + k % 3;
		}
		struct sl_drift_cat_pair p;
		cr_assert_eq(sl_drift_cats_pair(&a, &b, true, &p), 0);
		cr_assert(!p.hashed);
		size_t seen = 0;
		for (size_t i = 0; i < p.k; i++) {
			unsigned k;
			char name[32];
			cr_assert(p.lens[i] < sizeof name);
			memcpy(name, p.names[i], p.lens[i]);
			name[p.lens[i]] = '\0'; /* names point into the pool, unterminated */
			cr_assert_eq(sscanf(name, "key-%u", &k), 1);
			cr_assert(k < KEYS);
			cr_expect(p.ref[i] == (double)want_a[k] && p.cur[i] == (double)want_b[k], "cap %zu key %u",
			          caps[ci], k);
			seen++;
		}
		size_t distinct = 0;
		for (size_t k = 0; k < KEYS; k++)
			distinct += want_a[k] || want_b[k];
		cr_expect_eq(seen, distinct, "cap %zu: every key once in the union", caps[ci]);
		sl_drift_cat_pair_release(&p);
		sl_drift_cats_release(&a);
		sl_drift_cats_release(&b);
	}
}
