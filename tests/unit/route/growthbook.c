/* growthbook.c: sluice's GrowthBook hashing and bucketing against GrowthBook's shared SDK cases
 * (tests/data/growthbook-sdk-cases.json, see tests/data/README.md). Every case of each section
 * is checked; a failure names the section, the case index and its name. */
#include <criterion/criterion.h>
#include <json-c/json.h>
#include <math.h>
#include <string.h>

#include "sluice/route.h"

#define CASES SLUICE_TEST_DATA "/growthbook-sdk-cases.json"
#define MAXV  16

static json_object *root;

static void load_cases(void)
{
	root = json_object_from_file(CASES);
	cr_assert_not_null(root, "cannot read %s: %s", CASES, json_util_get_last_err());
}

static void free_cases(void)
{
	json_object_put(root);
	root = NULL;
}

static json_object *section(const char *name)
{
	json_object *s = NULL;
	cr_assert(json_object_object_get_ex(root, name, &s), "section '%s' missing", name);
	cr_assert(json_object_is_type(s, json_type_array));
	cr_assert_gt(json_object_array_length(s), 0, "section '%s' is empty", name);
	return s;
}

static json_object *at(json_object *a, size_t i)
{
	return json_object_array_get_idx(a, i);
}

static struct sl_slice str_at(json_object *a, size_t i)
{
	json_object *o = at(a, i);
	return sl_slice_make(json_object_get_string(o), (size_t)json_object_get_string_len(o));
}

/* GrowthBook's values are decimal numbers with at most 4 places: compare them there. */
static bool same4(double a, double b)
{
	return llround(a * 1e4) == llround(b * 1e4);
}

/* Reads a JSON array of [lo, hi] pairs. */
static int read_ranges(json_object *a, double (*r)[2])
{
	int n = (int)json_object_array_length(a);
	cr_assert_leq(n, MAXV);
	for (int i = 0; i < n; i++) {
		r[i][0] = json_object_get_double(at(at(a, i), 0));
		r[i][1] = json_object_get_double(at(at(a, i), 1));
	}
	return n;
}

TestSuite(growthbook, .init = load_cases, .fini = free_cases);

Test(growthbook, hash_cases)
{
	json_object *cases = section("hash");
	for (size_t i = 0; i < json_object_array_length(cases); i++) {
		json_object *c = at(cases, i);
		struct sl_slice seed = str_at(c, 0), value = str_at(c, 1);
		int version = json_object_get_int(at(c, 2));
		json_object *want = at(c, 3);
		double got = sl_gb_hash(seed, value, version);
		if (!want) {
			cr_expect_eq(got, -1, "hash[%zu] (%s, %s, v%d): want null (-1), got %f", i, seed.ptr, value.ptr,
			             version, got);
			continue;
		}
		double w = json_object_get_double(want);
		cr_expect(same4(got, w), "hash[%zu] (%s, %s, v%d): want %.4f, got %.6f", i, seed.ptr, value.ptr,
		          version, w, got);
		cr_expect(got >= 0 && got < 1, "hash[%zu] out of [0, 1): %f", i, got);
	}
}

Test(growthbook, bucket_range_cases)
{
	json_object *cases = section("getBucketRange");
	for (size_t i = 0; i < json_object_array_length(cases); i++) {
		json_object *c = at(cases, i), *args = at(c, 1), *jw = at(args, 2);
		const char *name = json_object_get_string(at(c, 0));
		double weights[MAXV], want[MAXV][2], got[MAXV][2];
		int n = json_object_get_int(at(args, 0)), nw = 0;
		double coverage = json_object_get_double(at(args, 1));
		cr_assert_leq(n, MAXV);
		for (; jw && nw < (int)json_object_array_length(jw) && nw < MAXV; nw++)
			weights[nw] = json_object_get_double(at(jw, nw));
		int nwant = read_ranges(at(c, 2), want);
		cr_expect_eq(nwant, n, "getBucketRange[%zu] %s: case has %d ranges for %d variations", i, name, nwant,
		             n);
		sl_gb_bucket_ranges(n, coverage, jw ? weights : NULL, nw, got);
		for (int k = 0; k < n && k < nwant; k++)
			cr_expect(fabs(got[k][0] - want[k][0]) < 1e-6 && fabs(got[k][1] - want[k][1]) < 1e-6,
			          "getBucketRange[%zu] %s: range %d want [%g, %g), got [%.9g, %.9g)", i, name, k,
			          want[k][0], want[k][1], got[k][0], got[k][1]);
	}
}

Test(growthbook, choose_variation_cases)
{
	json_object *cases = section("chooseVariation");
	for (size_t i = 0; i < json_object_array_length(cases); i++) {
		json_object *c = at(cases, i);
		const char *name = json_object_get_string(at(c, 0));
		double x = json_object_get_double(at(c, 1)), ranges[MAXV][2];
		int n = read_ranges(at(c, 2), ranges);
		int want = json_object_get_int(at(c, 3));
		int got = sl_gb_choose(x, (const double(*)[2])ranges, n);
		cr_expect_eq(got, want, "chooseVariation[%zu] %s: want %d, got %d", i, name, want, got);
	}
}

Test(growthbook, in_namespace_cases)
{
	json_object *cases = section("inNamespace");
	for (size_t i = 0; i < json_object_array_length(cases); i++) {
		json_object *c = at(cases, i), *ns = at(c, 2);
		const char *name = json_object_get_string(at(c, 0));
		double lo = json_object_get_double(at(ns, 1)), hi = json_object_get_double(at(ns, 2));
		bool want = json_object_get_boolean(at(c, 3));
		bool got = sl_gb_in_namespace(str_at(c, 1), str_at(ns, 0), lo, hi);
		cr_expect_eq(got, want, "inNamespace[%zu] %s: want %d, got %d", i, name, want, got);
	}
}

Test(growthbook, equal_weights_cases)
{
	json_object *cases = section("getEqualWeights");
	for (size_t i = 0; i < json_object_array_length(cases); i++) {
		json_object *c = at(cases, i), *want = at(c, 1);
		int n = json_object_get_int(at(c, 0));
		double got[MAXV + 1];
		got[0] = -42; /* sentinel: nothing may be written when n <= 0 */
		cr_assert_leq(n, MAXV);
		sl_gb_equal_weights(n, got);
		int nwant = (int)json_object_array_length(want);
		if (n <= 0) {
			cr_expect_eq(nwant, 0);
			cr_expect_eq(got[0], -42, "getEqualWeights[%zu] n=%d wrote a weight", i, n);
			continue;
		}
		cr_expect_eq(nwant, n, "getEqualWeights[%zu]: case has %d weights for n=%d", i, nwant, n);
		for (int k = 0; k < n && k < nwant; k++) {
			double w = json_object_get_double(at(want, k));
			cr_expect(fabs(got[k] - w) < 1e-8, "getEqualWeights[%zu] n=%d weight %d: want %.8f, got %.10f",
			          i, n, k, w, got[k]);
		}
	}
}

/* Beyond the shared cases: slices need not be NUL-terminated, and bad input is refused. */

Test(growthbook_extra, hash_reads_only_the_slice)
{
	const char buf[] = "seedXXX";
	double whole = sl_gb_hash(SL_SLICE_LIT("seed"), SL_SLICE_LIT("a"), 2);
	double part = sl_gb_hash(sl_slice_make(buf, 4), SL_SLICE_LIT("a"), 2);
	cr_expect_eq(whole, part);
	cr_expect(same4(part, 0.0505));
}

Test(growthbook_extra, unknown_versions)
{
	cr_expect_eq(sl_gb_hash(SL_SLICE_LIT("a"), SL_SLICE_LIT("b"), 0), -1);
	cr_expect_eq(sl_gb_hash(SL_SLICE_LIT("a"), SL_SLICE_LIT("b"), 3), -1);
	cr_expect_eq(sl_gb_hash(SL_SLICE_LIT("a"), SL_SLICE_LIT("b"), -1), -1);
}

Test(growthbook_extra, namespace_id_too_long_is_outside)
{
	char id[400];
	memset(id, 'n', sizeof(id));
	cr_expect_not(sl_gb_in_namespace(SL_SLICE_LIT("1"), sl_slice_make(id, sizeof(id)), 0, 1));
}

Test(growthbook_extra, ranges_of_nothing)
{
	double r[1][2] = {{-7, -7}};
	sl_gb_bucket_ranges(0, 1, NULL, 0, r);
	cr_expect_eq(r[0][0], -7);
	cr_expect_eq(sl_gb_choose(0.5, (const double(*)[2])r, 0), -1);
}
