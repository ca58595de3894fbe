/* expect.h: helpers shared by the stats unit tests: loading tests/data/stats/expected.json
 * (written by gen_expected.py) and walking its sections row by row, rebuilding the "golden"
 * samples bit for bit, and relative comparisons that name the failing case. */
#ifndef SLUICE_TEST_STATS_EXPECT_H
#define SLUICE_TEST_STATS_EXPECT_H

#include <criterion/criterion.h>
#include <json-c/json.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sluice/stats.h"

#define EXPECTED SLUICE_TEST_DATA "/stats/expected.json"

static json_object *ex_root;

static inline void ex_load(void)
{
	ex_root = json_object_from_file(EXPECTED);
	cr_assert_not_null(ex_root, "cannot read %s: %s", EXPECTED, json_util_get_last_err());
}

static inline void ex_free(void)
{
	json_object_put(ex_root);
	ex_root = NULL;
}

/* Member by a dotted path ("special.t"), which must exist. */
static inline json_object *ex_get(json_object *o, const char *path)
{
	char key[64];
	while (*path) {
		size_t n = strcspn(path, ".");
		cr_assert_lt(n, sizeof key);
		memcpy(key, path, n);
		key[n] = '\0';
		json_object *next = NULL;
		cr_assert(json_object_object_get_ex(o, key, &next), "expected.json: '%s' missing", key);
		o = next;
		path += n + (path[n] == '.');
	}
	return o;
}

static inline json_object *ex_section(const char *path)
{
	json_object *a = ex_get(ex_root, path);
	cr_assert(json_object_is_type(a, json_type_array), "'%s' is not an array", path);
	cr_assert_gt(json_object_array_length(a), 0, "'%s' is empty", path);
	return a;
}

static inline json_object *ex_at(json_object *a, size_t i)
{
	return json_object_array_get_idx(a, i);
}

/* Runs the statement that follows once for each row c of the section at path, i counting the
 * rows from 0. */
#define ex_rows(i, c, path)                                                                                            \
	for (json_object *ex_rows_ = ex_section(path), *c = NULL; ex_rows_; ex_rows_ = NULL)                           \
		for (size_t i = 0; i < json_object_array_length(ex_rows_) && ((c = ex_at(ex_rows_, i)), true); i++)

static inline double ex_num(json_object *a, size_t i)
{
	return json_object_get_double(ex_at(a, i));
}

static inline double ex_field(json_object *o, const char *key)
{
	json_object *v = ex_get(o, key);
	if (json_object_is_type(v, json_type_null))
		return NAN;
	if (json_object_is_type(v, json_type_string))
		return strcmp(json_object_get_string(v), "inf") == 0 ? INFINITY : NAN;
	return json_object_get_double(v);
}

static inline const char *ex_str(json_object *o, const char *key)
{
	return json_object_get_string(ex_get(o, key));
}

static inline enum sl_alt ex_alt(const char *s)
{
	return strcmp(s, "less") == 0 ? SL_ALT_LESS : strcmp(s, "greater") == 0 ? SL_ALT_GREATER : SL_ALT_TWO_SIDED;
}

/* A sample: a JSON array of numbers, or {"gen": [n, offset, scale, quant, shift]}, the golden
 * sequence u_i = fmod((i + offset) * 0.6180339887498949, 1) * scale, floored if quant, + shift.
 * Each step is one correctly rounded operation, as in numpy. The caller frees *v. */
static inline size_t ex_sample(json_object *o, double **v)
{
	json_object *g = NULL;
	if (json_object_is_type(o, json_type_object) && json_object_object_get_ex(o, "gen", &g)) {
		size_t n = (size_t)json_object_get_int64(ex_at(g, 0));
		double off = ex_num(g, 1), scale = ex_num(g, 2), shift = ex_num(g, 4);
		int quant = json_object_get_int(ex_at(g, 3));
		*v = malloc(n * sizeof **v);
		cr_assert_not_null(*v);
		for (size_t i = 0; i < n; i++) {
			volatile double u = fmod(((double)i + off) * 0.6180339887498949, 1.0);
			volatile double s = u * scale;
			double w = quant ? floor(s) : s;
			(*v)[i] = w + shift;
		}
		return n;
	}
	size_t n = json_object_array_length(o);
	*v = malloc((n ? n : 1) * sizeof **v);
	cr_assert_not_null(*v);
	for (size_t i = 0; i < n; i++)
		(*v)[i] = ex_num(o, i);
	return n;
}

/* The two samples "x" and "y" of a case, owned until ex_pair_free. */
struct ex_pair {
	double *x, *y;
	size_t nx, ny;
};

static inline struct ex_pair ex_pair_of(json_object *c)
{
	struct ex_pair p;
	p.nx = ex_sample(ex_get(c, "x"), &p.x);
	p.ny = ex_sample(ex_get(c, "y"), &p.y);
	return p;
}

static inline void ex_pair_free(struct ex_pair *p)
{
	free(p->x);
	free(p->y);
}

static inline int ex_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* |got - want| <= tol |want|; equal values (infinities included) and two NaNs pass. */
static inline bool ex_close(double got, double want, double tol)
{
	if (isnan(want))
		return isnan(got);
	if (got == want)
		return true;
	return fabs(got - want) <= tol * fabs(want);
}

static inline double ex_relerr(double got, double want)
{
	if (got == want || (isnan(got) && isnan(want)))
		return 0;
	return want == 0 ? INFINITY : fabs(got - want) / fabs(want);
}

/* Records the worst relative error of a family of checks, printed at the end of a test. */
struct ex_worst {
	const char *name;
	double err, tol;
	size_t n;
};

static inline void ex_track(struct ex_worst *w, double got, double want)
{
	double e = ex_relerr(got, want);
	w->n++;
	if (e > w->err)
		w->err = e;
}

static inline void ex_report(const struct ex_worst *w)
{
	cr_log_info("%-24s %5zu checks, worst relative error %.2e (tolerance %.0e)", w->name, w->n, w->err, w->tol);
}

/* Checks got against want within w->tol; fmt... names the case in the failure message. */
__attribute__((format(printf, 4, 5))) static inline void ex_check(struct ex_worst *w, double got, double want,
                                                                  const char *fmt, ...)
{
	ex_track(w, got, want);
	if (ex_close(got, want, w->tol))
		return;
	char ctx[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(ctx, sizeof ctx, fmt, ap);
	va_end(ap);
	cr_expect(false, "%s %s: got %.17g want %.17g (rel %.2e > tol %.0e)", w->name, ctx, got, want,
	          ex_relerr(got, want), w->tol);
}

#endif
