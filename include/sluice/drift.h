/* drift.h: data drift between a reference and a current sample: univariate tests with
 * Evidently's defaults, a dataset verdict with an optional multiple-testing correction,
 * bounded summaries for live windows, CSV/JSONL loading and reports (text, JSON, HTML).
 * Invariants: pure (no I/O, no locks, no global state); every int-returning function returns 0
 * or a negative SL_E* code and fills its outputs only on success; numeric inputs to the tests
 * are finite (missing and non-finite values are the caller's to drop and count, as Evidently
 * drops them); statistics follow SciPy 1.10 and Evidently's stattests (see docs/DRIFT.md). */
#ifndef SLUICE_DRIFT_H
#define SLUICE_DRIFT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sluice/core.h"
#include "sluice/stats.h"

/* ---- tests (univariate.c, univariate_bins.c, univariate_select.c) ---- */

/* AUTO is Evidently's default choice (registry.py _get_default_stattest). */
enum sl_drift_test {
	SL_DRIFT_AUTO,
	SL_DRIFT_KS,          /* two-sample Kolmogorov-Smirnov p-value (numeric) */
	SL_DRIFT_CHISQUARE,   /* chi-squared goodness of fit of current counts to reference shares */
	SL_DRIFT_Z,           /* pooled two-proportion z-test (two categories) */
	SL_DRIFT_PSI,         /* population stability index on Evidently's bins */
	SL_DRIFT_JS,          /* Jensen-Shannon distance on Evidently's bins */
	SL_DRIFT_WASSERSTEIN, /* Wasserstein-1 distance / max(std of reference, 0.001) (numeric) */
	SL_DRIFT_TEST_COUNT_
};
enum sl_drift_kind { SL_DRIFT_KIND_AUTO, SL_DRIFT_NUM, SL_DRIFT_CAT };

const char *sl_drift_test_name(enum sl_drift_test t); /* "ks", "chisquare", "z", "psi", ... */
int sl_drift_test_parse(const char *s, enum sl_drift_test *out);
const char *sl_drift_kind_name(enum sl_drift_kind k);         /* "num", "cat" */
bool sl_drift_test_has_pvalue(enum sl_drift_test t);          /* KS, chi-squared, z: drift when p is small */
double sl_drift_test_default_threshold(enum sl_drift_test t); /* 0.05 for p-values, 0.1 otherwise */
/* Evidently's comparison: KS drifts when p <= t, chi-squared and z when p < t, the distances
 * when d >= t. NaN scores never drift. */
bool sl_drift_test_decide(enum sl_drift_test t, double score, double threshold);

/* Primitives. Sorted inputs are ascending and finite; counts are non-negative and aligned
 * (index i is the same category or bin on both sides). */
int sl_drift_ks(const double *ref, size_t nr, const double *cur, size_t nc, struct sl_ks_result *out);
/* Evidently's chisquare: f_exp = ref * sum(cur)/sum(ref), SciPy chisquare(cur, f_exp).
 * A category absent from the reference gives statistic +inf and p 0 (as SciPy). */
int sl_drift_chisquare(const double *ref, const double *cur, size_t k, struct sl_chi2_result *out);
/* Evidently's z-test: the share of values other than category 0, reference against current;
 * k is 1 or 2. p is 1 when the pooled share is 0 or 1. */
int sl_drift_ztest(const double *ref, const double *cur, size_t k, double *z, double *pvalue);
/* PSI = sum (r_i - c_i) ln(r_i / c_i) over shares, empty bins filled as Evidently does
 * (min nonzero share / 1e6 when that is <= 1e-4, else 1e-4; each side on its own). */
int sl_drift_psi(const double *ref, const double *cur, size_t k, double *out);
/* SciPy's jensenshannon(ref, cur, base): sqrt of the mean of the two Kullback-Leibler
 * divergences to the midpoint; base 0 means natural logarithms (Evidently's default). */
int sl_drift_js(const double *ref, const double *cur, size_t k, double base, double *out);
/* SciPy's wasserstein_distance of two sorted samples. */
int sl_drift_wasserstein(const double *ref, size_t nr, const double *cur, size_t nc, double *out);
/* Evidently's normed variant: wasserstein / max(numpy std of ref, 0.001). */
int sl_drift_wasserstein_norm(const double *ref, size_t nr, const double *cur, size_t nc, double *out);
/* numpy's mean and std (ddof 0) of v, compensated sums. */
void sl_drift_mean_std(const double *v, size_t n, double *mean, double *std);

/* Evidently's bins for PSI and Jensen-Shannon (stattests/utils.py get_binned_data): a
 * numeric column whose reference has more than 20 distinct values gets numpy's Sturges
 * histogram of both samples together (np.histogram_bin_edges(..., "sturges")); otherwise, and
 * for categories, one bin per distinct value of the union. Counts, not shares. */
#define SL_DRIFT_MAX_BINS 4096
struct sl_drift_bins {
	size_t k;
	double *ref, *cur; /* counts, k each */
	double *edges;     /* k + 1 edges for a histogram, NULL for one bin per value */
};
int sl_drift_bins_num(const double *ref, size_t nr, const double *cur, size_t nc, struct sl_drift_bins *out);
void sl_drift_bins_release(struct sl_drift_bins *b);
/* numpy's histogram_bin_edges(v, "sturges") over the union of two sorted samples, and the
 * counts of each (np.histogram semantics: half-open bins, the last one closed). */
int sl_drift_hist_sturges(const double *ref, size_t nr, const double *cur, size_t nc, struct sl_drift_bins *out);
/* Equal-width histogram with nbins bins over [lo, hi] (numpy linspace edges). */
int sl_drift_hist(const double *ref, size_t nr, const double *cur, size_t nc, double lo, double hi, size_t nbins,
                  struct sl_drift_bins *out);
/* Distinct values of the union of two sorted samples, and the counts of each (one bin per
 * value, values ascending): fails with SL_ERANGE past max_k distinct values. */
int sl_drift_value_counts(const double *ref, size_t nr, const double *cur, size_t nc, size_t max_k,
                          struct sl_drift_bins *out);
size_t sl_drift_nunique_sorted(const double *v, size_t n);
size_t sl_drift_nunique_union(const double *a, size_t na, const double *b, size_t nb);

/* One column's test. threshold NaN means the test's default; size_cutoff 0 means 1000. */
struct sl_drift_opts {
	enum sl_drift_test test; /* AUTO: Evidently's choice */
	double threshold;
	double js_base;     /* 0: natural logarithm */
	size_t size_cutoff; /* reference sizes above it get the distance tests */
};
void sl_drift_opts_init(struct sl_drift_opts *o);
struct sl_drift_result {
	enum sl_drift_test test;
	double statistic; /* KS D, chi-squared X^2, z, or the distance */
	double pvalue;    /* NaN for PSI, JS and Wasserstein */
	double score;     /* what the threshold judges: pvalue (adjusted when corrected) or distance */
	double threshold;
	bool drift;
	size_t n_unique; /* distinct values of both samples together */
	size_t bins;     /* bins or categories the test ran on (0 for KS, Wasserstein) */
};
/* Evidently's choice for a numeric column: n_unique <= 5 is counted per value (chi-squared,
 * or z for at most two values, below the cutoff; Jensen-Shannon above), else KS below the
 * cutoff and Wasserstein above. ref and cur sorted. SL_EINVAL when a side is empty or the
 * forced test does not apply. */
int sl_drift_test_num(const double *ref, size_t nr, const double *cur, size_t nc, const struct sl_drift_opts *o,
                      struct sl_drift_result *out);
/* Same for category counts (k aligned categories, category 0 first in sort order, as the
 * z-test's "first key"): chi-squared or z below the cutoff, Jensen-Shannon above. */
int sl_drift_test_cat(const double *ref, const double *cur, size_t k, const struct sl_drift_opts *o,
                      struct sl_drift_result *out);
/* Which test AUTO picks, from the reference size, the union's distinct count and the kind. */
enum sl_drift_test sl_drift_default_test(enum sl_drift_kind kind, size_t n_ref, size_t n_unique, size_t size_cutoff);

/* ---- dataset verdict (dataset.c) ---- */
enum sl_drift_correction { SL_DRIFT_CORR_NONE, SL_DRIFT_CORR_BONFERRONI, SL_DRIFT_CORR_BH };
const char *sl_drift_correction_name(enum sl_drift_correction c);
int sl_drift_correction_parse(const char *s, enum sl_drift_correction *out);
/* Adjusted p-values (statsmodels multipletests: bonferroni min(1, p m); fdr_bh the step-up
 * min over j >= i of p_(j) m / j, capped at 1). NaN entries are skipped and not counted. */
int sl_drift_adjust(const double *p, size_t n, enum sl_drift_correction c, double *adjusted);
/* Applies c to the p-value results among r[0..n) (score := adjusted p, drift re-decided),
 * then counts: *drifted of *tested results with drift; dataset drift when the share
 * drifted/tested >= drift_share (Evidently's get_dataset_drift). skip[i] true leaves r[i] out. */
struct sl_drift_verdict {
	size_t tested, drifted;
	double share;
	bool drift;
};
int sl_drift_dataset(struct sl_drift_result *r, const bool *skip, size_t n, enum sl_drift_correction c,
                     double drift_share, struct sl_drift_verdict *out);

/* ---- bounded summaries for live windows (dataset_cms.c, dataset_cats.c, dataset_num.c) ---- */

/* Count-min sketch: width w = ceil(e / eps), depth d = ceil(ln(1 / delta)); an estimate is
 * never below the true count and exceeds it by more than eps * N with probability at most
 * delta (N = total added). Memory 4 w d bytes. Rows use h1 + i h2 from one seeded 64-bit hash;
 * two sketches with equal (w, d, seed) put every key in the same buckets. */
struct sl_cms {
	uint32_t w, d;
	uint64_t seed, total;
	uint32_t *c; /* d rows of w counters, saturating */
};
int sl_cms_init(struct sl_cms *s, double eps, double delta, uint64_t seed);
void sl_cms_release(struct sl_cms *s);
void sl_cms_reset(struct sl_cms *s);
void sl_cms_add(struct sl_cms *s, const char *key, size_t len, uint64_t count);
uint64_t sl_cms_estimate(const struct sl_cms *s, const char *key, size_t len);
uint64_t sl_drift_hash(const char *p, size_t n, uint64_t seed);

/* Category counts: exact for the first `cap` distinct categories (keys cut to max_key bytes
 * on a UTF-8 boundary); once a new category finds the table full, a count-min sketch is
 * started from the exact counts and from then on takes every value, and the values of the
 * categories not kept are counted in `folded`. Memory: cap * (24 + max_key) bytes at most for
 * the table, plus the sketch once it exists. */
struct sl_drift_cat_item {
	uint64_t hash, count;
	uint32_t off, len; /* key bytes in pool */
};
struct sl_drift_cats {
	size_t cap, max_key, n;
	struct sl_drift_cat_item *items;
	uint32_t *slots; /* open addressing: index + 1 in the low bits, a hash tag above; 0 empty */
	size_t nslots;
	char *pool;
	size_t pool_len, pool_cap;
	uint64_t total, folded, missing;
	double cms_eps, cms_delta;
	uint64_t seed;
	struct sl_cms *cms; /* NULL until the cap is exceeded */
};
#define SL_DRIFT_LIVE_CATS 1024
#define SL_DRIFT_LIVE_KEY  256
#define SL_DRIFT_CMS_EPS   0.001
#define SL_DRIFT_CMS_DELTA 0.01
int sl_drift_cats_init(struct sl_drift_cats *c, size_t cap, size_t max_key, double eps, double delta, uint64_t seed);
void sl_drift_cats_release(struct sl_drift_cats *c);
void sl_drift_cats_reset(struct sl_drift_cats *c);
/* SL_ENOMEM is the only failure (the value is then not counted). */
int sl_drift_cats_add(struct sl_drift_cats *c, const char *key, size_t len, uint64_t count);
static inline void sl_drift_cats_missing(struct sl_drift_cats *c)
{
	c->missing++;
}
/* Aligned counts of two summaries for the tests. Exact when neither overflowed: one bin per
 * category of the union, sorted by key bytes (Python's order for str), *names filled with
 * borrowed pointers into the summaries' pools when names is not NULL (lengths in *lens).
 * Otherwise hashed: the first row of both sketches (w bins, *hashed true), which needs equal
 * sketch parameters (SL_EINVAL otherwise). Caller frees *ref, *cur, *names, *lens. */
struct sl_drift_cat_pair {
	size_t k;
	double *ref, *cur;
	const char **names;
	uint32_t *lens;
	bool hashed;
};
int sl_drift_cats_pair(const struct sl_drift_cats *ref, const struct sl_drift_cats *cur, bool names,
                       struct sl_drift_cat_pair *out);
void sl_drift_cat_pair_release(struct sl_drift_cat_pair *p);
/* The exact tables' union only (sketches ignored), with names: what a chart shows. */
int sl_drift_cats_union(const struct sl_drift_cats *ref, const struct sl_drift_cats *cur,
                        struct sl_drift_cat_pair *out);
int sl_drift_compare_cats(const struct sl_drift_cats *ref, const struct sl_drift_cats *cur,
                          const struct sl_drift_opts *o, struct sl_drift_result *out);

/* Numbers: a uniform reservoir of `cap` values (sl_reservoir) plus exact count, missing count
 * and running mean/variance. Memory 8 cap bytes. The tests run on the reservoir samples (their
 * sizes, not the counts seen, pick the test). */
struct sl_drift_nums {
	struct sl_reservoir r;
	struct sl_welford w;
	uint64_t missing;
};
int sl_drift_nums_init(struct sl_drift_nums *s, size_t cap, uint64_t seed);
void sl_drift_nums_release(struct sl_drift_nums *s);
void sl_drift_nums_reset(struct sl_drift_nums *s, uint64_t seed);
void sl_drift_nums_add(struct sl_drift_nums *s, double x); /* NaN and +-inf count as missing */
int sl_drift_compare_nums(const struct sl_drift_nums *ref, const struct sl_drift_nums *cur,
                          const struct sl_drift_opts *o, struct sl_drift_result *out);

/* Sorts v ascending (LSD radix sort on the IEEE bit patterns; v must hold no NaN). */
int sl_drift_sort(double *v, size_t n);

/* ---- tables: CSV and JSONL files in memory (table*.c) ---- */

enum sl_drift_format { SL_DRIFT_FMT_AUTO, SL_DRIFT_FMT_CSV, SL_DRIFT_FMT_JSONL };
#define SL_DRIFT_MAX_LINE    (1u << 20) /* bytes in one record */
#define SL_DRIFT_MAX_COLUMNS 1000
#define SL_DRIFT_MAX_CATS    65536 /* distinct categories kept exactly per column, offline */

/* One column of a loaded file. Numeric columns keep their finite values (sorted once the
 * load completes), in 4 bytes each (code) while every value has at most 7 significant digits
 * and a decimal exponent within +-22 once its 7 digits are written out, else in num; read them
 * with sl_drift_col_at or sl_drift_col_values. Categorical columns keep their counts. With
 * sl_drift_load_opts.count_few, a numeric column of few distinct values may come counted
 * instead: counts non-NULL, num[0..n_distinct) its distinct values (by bit pattern, ascending:
 * -0.0 and +0.0 apart) and counts[i] the copies of num[i]; n_num is still the number of values.
 * counts is NULL otherwise. */
struct sl_drift_col {
	char *name;
	enum sl_drift_kind kind;     /* declared, or decided after both files are read */
	enum sl_drift_kind declared; /* KIND_AUTO when inferred */
	double *num;                 /* the values as doubles, or NULL when code holds them */
	uint32_t *code;              /* the values as decimal codes, or NULL */
	size_t n_num, cap_num;
	struct sl_drift_cats cats;
	uint64_t missing;   /* empty, NA-like, null or absent */
	uint64_t nonfinite; /* inf, -inf in a numeric column: dropped, as Evidently does */
	uint64_t present;   /* values seen (JSONL: rows holding the key) */
	bool numeric_ok;    /* every non-missing value so far parsed as a number */
	bool want_text;     /* the text pass must count this column's categories of rows < text_from */
	uint64_t text_from; /* first row whose text was counted in pass 1 (UINT64_MAX: none) */
	uint64_t *counts;   /* counted column (count_few): copies of each num[i]; else NULL */
	size_t n_distinct;  /* counted column: entries of num and counts */
};
struct sl_drift_table {
	enum sl_drift_format format;
	size_t ncols;
	struct sl_drift_col *cols;
	uint64_t rows;
	uint64_t ignored_cols; /* current-file columns that the reference lacks */
};
struct sl_drift_input {
	const char *name; /* for messages, and its extension picks the format */
	const char *data;
	size_t len;
};
struct sl_drift_decl {
	const char *name;
	enum sl_drift_kind kind;
};
struct sl_drift_load_opts {
	enum sl_drift_format format;
	const char *const *columns; /* only these, in this order (NULL: all of the reference's) */
	size_t ncolumns;
	const struct sl_drift_decl *decl;
	size_t ndecl;
	size_t max_line, max_columns, max_cats; /* 0: the defaults above */
	bool count_few; /* numeric columns of few distinct values may be counted (sl_drift_col.counts):
	                 * less memory and no sort; every sl_drift_report_* result is the same */
};
/* Entry j of a numeric column: its j-th value (counted: its j-th distinct value), as a double. */
double sl_drift_col_at(const struct sl_drift_col *c, size_t j);
/* A numeric column's entries (n_distinct when counted, else n_num) as doubles: num itself, or
 * the codes decoded into *buf (grown as needed, reused by the caller from column to column,
 * freed by it). NULL when out of memory. */
const double *sl_drift_col_values(const struct sl_drift_col *c, double **buf, size_t *cap);
/* "FILE:LINE: reason" (or "FILE: reason"), always NUL-terminated. */
struct sl_drift_error {
	char msg[512];
};
/* Parses both files, decides each column's type (declared, else numeric when every value of
 * both files is a number), counts categories, drops current-only columns and orders the
 * current table's columns as the reference's. The inputs are only read during the call. On
 * failure both tables are left empty and err says what and where. */
int sl_drift_tables_load(const struct sl_drift_input *ref, const struct sl_drift_input *cur,
                         const struct sl_drift_load_opts *o, struct sl_drift_table *tref, struct sl_drift_table *tcur,
                         struct sl_drift_error *err);
void sl_drift_table_release(struct sl_drift_table *t);
/* The same in steps, for callers that read the two files on two threads (each per-file step
 * touches only its own table; the inputs must stay valid until finish returns):
 * scan (first pass of one file; releases t on failure), settle (align and decide types, both
 * tables), finish (text pass and sorts of one file). The caller releases the tables on any
 * failure after scan. */
int sl_drift_table_scan(const struct sl_drift_input *in, const struct sl_drift_load_opts *o, struct sl_drift_table *t,
                        struct sl_drift_error *err);
/* scan and finish for a CSV input read in pieces instead of held whole (in->data is not used,
 * in->len is the input's size, at most 2 GiB): rd->read(arg, off, buf, n) copies up to n
 * bytes of the input from offset off into buf and returns how many (0: it ended early) or a
 * negative SL_E* code; each pass reads from the start, on the thread that runs the step. The
 * result is the same as from the whole input. One reused buffer of 256 KiB (larger while
 * quoted fields need it, at most 2 max_line + 4): on guests where a mapped page's first
 * touch is slow, copying the input costs less than mapping it. o->format JSONL is refused. */
struct sl_drift_reader {
	int64_t (*read)(void *arg, uint64_t off, char *buf, size_t n);
	void *arg;
};
int sl_drift_table_scan_read(const struct sl_drift_input *in, const struct sl_drift_reader *rd,
                             const struct sl_drift_load_opts *o, struct sl_drift_table *t, struct sl_drift_error *err);
int sl_drift_table_finish_read(const struct sl_drift_input *in, const struct sl_drift_reader *rd,
                               const struct sl_drift_load_opts *o, struct sl_drift_table *t,
                               struct sl_drift_error *err);
int sl_drift_tables_settle(const struct sl_drift_input *ref, const struct sl_drift_input *cur,
                           const struct sl_drift_load_opts *o, struct sl_drift_table *tref, struct sl_drift_table *tcur,
                           struct sl_drift_error *err);
int sl_drift_table_finish(const struct sl_drift_input *in, const struct sl_drift_load_opts *o, struct sl_drift_table *t,
                          struct sl_drift_error *err);
enum sl_drift_format sl_drift_sniff(const struct sl_drift_input *in);
/* Number syntax of the loaders: optional spaces, sign, digits with an optional fraction and
 * exponent, or inf/infinity; 0 and *out on success, SL_EPARSE otherwise. Correctly rounded. */
int sl_drift_parse_number(const char *p, size_t n, double *out);
/* pandas' default missing markers ("", "NA", "NaN", "null", "None", "N/A", ...). */
bool sl_drift_is_missing(const char *p, size_t n);

/* ---- report (report*.c) ---- */

struct sl_drift_config {
	struct sl_drift_opts opts;
	enum sl_drift_correction correction;
	double drift_share; /* 0.5 */
	size_t chart_bins;  /* numeric chart bars (default 20) */
	size_t chart_cats;  /* categorical chart bars before "(other)" (default 20) */
};
void sl_drift_config_init(struct sl_drift_config *c);

struct sl_drift_side {
	uint64_t count, missing, unique;
	double mean, std, min, max; /* numeric only, NaN otherwise */
};
struct sl_drift_chart {
	size_t k;
	double *edges;     /* numeric: k + 1 edges; NULL for categories */
	char **labels;     /* categories: k labels (the last may be "(other)") */
	double *ref, *cur; /* shares of each side */
};
struct sl_drift_column {
	char *name;
	enum sl_drift_kind kind;
	struct sl_drift_result r;
	bool tested; /* false: no test (note says why) */
	bool hashed; /* categories compared through sketch buckets */
	const char *note;
	struct sl_drift_side ref, cur;
	struct sl_drift_chart chart;
};
struct sl_drift_report {
	struct sl_drift_config cfg;
	size_t ncols;
	struct sl_drift_column *cols;
	struct sl_drift_verdict verdict;
	uint64_t ref_rows, cur_rows;
};
/* Runs every column's test and the dataset verdict. tref and tcur come from
 * sl_drift_tables_load (aligned columns, sorted numbers). */
int sl_drift_report_build(struct sl_drift_report *rep, const struct sl_drift_table *tref,
                          const struct sl_drift_table *tcur, const struct sl_drift_config *cfg);
/* Room that one thread building columns reuses from column to column (numbers decoded from
 * their codes): zeroed before its first use, released with sl_drift_work_release. */
struct sl_drift_work {
	double *v[2];
	size_t cap[2];
};
void sl_drift_work_release(struct sl_drift_work *w);
/* The same in steps, for a caller that spreads the columns over threads: begin allocates the
 * columns (rep->ncols = tref->ncols); sl_drift_report_column builds column i, touching only
 * rep->cols[i] and w (NULL: room for this call only), so distinct columns may be built at once
 * with a work each; end takes the worst code of the column calls (0 when all succeeded), gives
 * the dataset verdict, and releases rep on failure. */
int sl_drift_report_begin(struct sl_drift_report *rep, const struct sl_drift_table *tref,
                          const struct sl_drift_table *tcur, const struct sl_drift_config *cfg);
int sl_drift_report_column(struct sl_drift_report *rep, const struct sl_drift_table *tref,
                           const struct sl_drift_table *tcur, size_t i, struct sl_drift_work *w);
int sl_drift_report_end(struct sl_drift_report *rep, int rc);
void sl_drift_report_release(struct sl_drift_report *rep);
/* Renderers append to out (file names shown as given, cleaned or escaped like the data);
 * 0, or SL_ENOMEM with out holding a partial document. */
int sl_drift_report_text(const struct sl_drift_report *rep, const char *ref_name, const char *cur_name,
                         struct sl_buf *out);
int sl_drift_report_json(const struct sl_drift_report *rep, const char *ref_name, const char *cur_name,
                         struct sl_buf *out);
/* One self-contained page: inline CSS and SVG, no script, no external reference; every
 * string from the data is escaped. */
int sl_drift_report_html(const struct sl_drift_report *rep, const char *ref_name, const char *cur_name,
                         struct sl_buf *out);

#endif
