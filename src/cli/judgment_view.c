/* judgment_view.c: a judgment's evidence for people: one row per check (sample sizes, medians
 * or rates on both sides, the effect with its interval, the limit, the p-value against its
 * threshold, the verdict and its reason), then the score against the pass and marginal
 * thresholds and the outcome.
 * Invariants: only shows what the judge wrote (field names of sl_judgment_to_json); value
 * checks' effects are relative (shown in %), rate checks' are differences of rates (shown in
 * percentage points); null numbers show as "-". */
#include <json-c/json.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cli/admin_client.h"
#include "cli/rollout_view.h"

static const char *const head[] = {"CHECK", "N STABLE/CAND", "STABLE",  "CANDIDATE", "EFFECT [INTERVAL]",
                                   "LIMIT", "P-VALUE VS α",  "VERDICT", "REASON"};
enum { NCOLS = sizeof(head) / sizeof(head[0]) };

enum sl_tcolor sl_view_verdict_color(const char *w)
{
	if (!w)
		return SL_TC_NONE;
	if (strcmp(w, "pass") == 0)
		return SL_TC_GREEN;
	if (strcmp(w, "fail") == 0)
		return SL_TC_RED;
	return strcmp(w, "no_data") == 0 || strcmp(w, "insufficient_data") == 0 ? SL_TC_DIM : SL_TC_YELLOW;
}

static bool is_rate(struct json_object *c)
{
	const char *k = sl_cli_jstr(c, "kind");
	return k && strcmp(k, "rate") == 0;
}

static void name_cell(struct sl_table *t, struct json_object *c)
{
	const char *name = sl_cli_jstr(c, "name");
	const char *flag = sl_cli_jbool(c, "dry_run") ? " (dry-run)" : sl_cli_jbool(c, "critical") ? " (critical)" : "";
	sl_table_addf(t, SL_TC_NONE, "%s%s", name ? name : "?", flag);
}

static void n_cell(struct sl_table *t, struct json_object *c)
{
	struct json_object *n = sl_cli_jget(c, "n");
	double s = sl_cli_jnum(n, "stable"), k = sl_cli_jnum(n, "candidate");
	if (isnan(s) || isnan(k))
		sl_table_add(t, SL_TC_NONE, NULL);
	else
		sl_table_addf(t, SL_TC_NONE, "%.0f/%.0f", s, k);
}

static const char *level(char *dst, size_t cap, struct json_object *c, const char *key)
{
	double v = sl_cli_jnum(c, key);
	return is_rate(c) ? sl_fmt_pct(dst, cap, v) : sl_fmt_num(dst, cap, v);
}

/* A bound or effect: "+35.1%" (value) or "+0.9" (rate, in points). */
static const char *shift(char *dst, size_t cap, bool rate, double v)
{
	if (!rate || !isfinite(v))
		return rate ? sl_fmt_num(dst, cap, v) : sl_fmt_signed_pct(dst, cap, v);
	snprintf(dst, cap, "%+.2g", v * 100);
	return dst;
}

static void effect_cell(struct sl_table *t, struct json_object *c)
{
	char e[32], lo[32], hi[32];
	bool rate = is_rate(c);
	double effect = sl_cli_jnum(c, "effect");
	if (isnan(effect)) {
		sl_table_add(t, SL_TC_NONE, NULL);
		return;
	}
	shift(e, sizeof(e), rate, effect);
	shift(lo, sizeof(lo), rate, sl_cli_jnum(c, "lo"));
	shift(hi, sizeof(hi), rate, sl_cli_jnum(c, "hi"));
	sl_table_addf(t, SL_TC_NONE, "%s%s [%s, %s]", e, rate ? " pt" : "", lo, hi);
}

static void limit_cell(struct sl_table *t, struct json_object *c)
{
	const char *dir = sl_cli_jstr(c, "direction");
	const char *sign = !dir || strcmp(dir, "increase_bad") == 0 ? "+"
	                   : strcmp(dir, "decrease_bad") == 0       ? "-"
	                                                            : "±";
	double tol = sl_cli_jnum(c, "tolerance");
	if (isnan(tol))
		sl_table_add(t, SL_TC_NONE, NULL);
	else if (is_rate(c))
		sl_table_addf(t, SL_TC_NONE, "%s%.3g pt", sign, fabs(tol) * 100);
	else
		sl_table_addf(t, SL_TC_NONE, "%s%.3g%%", sign, fabs(tol) * 100);
}

static void pvalue_cell(struct sl_table *t, struct json_object *c)
{
	double p = sl_cli_jnum(c, "pvalue"), alpha = sl_cli_jnum(c, "alpha");
	if (isnan(p))
		sl_table_add(t, SL_TC_NONE, NULL);
	else if (isnan(alpha))
		sl_table_addf(t, SL_TC_NONE, "%.2g", p);
	else
		sl_table_addf(t, SL_TC_NONE, "%.2g %s %.2g", p, p < alpha ? "<" : "≥", alpha);
}

static void check_row(struct sl_table *t, struct json_object *c)
{
	char s[32], k[32];
	const char *verdict = sl_cli_jstr(c, "verdict");
	name_cell(t, c);
	n_cell(t, c);
	sl_table_add(t, SL_TC_NONE, level(s, sizeof(s), c, "stable"));
	sl_table_add(t, SL_TC_NONE, level(k, sizeof(k), c, "candidate"));
	effect_cell(t, c);
	limit_cell(t, c);
	pvalue_cell(t, c);
	sl_table_add(t, sl_cli_jbool(c, "dry_run") ? SL_TC_DIM : sl_view_verdict_color(verdict), verdict);
	sl_table_add(t, SL_TC_NONE, sl_cli_jstr(c, "reason"));
}

static void print_head(struct json_object *j, const char *indent)
{
	struct json_object *req = sl_cli_jget(j, "requests");
	double look = sl_cli_jnum(j, "look"), index = sl_cli_jnum(j, "index");
	printf("%sjudgment %.0f: candidate %.0f / stable %.0f requests, alpha %.2g per check\n", indent,
	       !isnan(look) ? look : index + 1, sl_cli_jnum(req, "candidate"), sl_cli_jnum(req, "stable"),
	       sl_cli_jnum(j, "alpha_check"));
}

static void print_score(struct json_object *j, struct json_object *spec, const char *indent, bool color)
{
	char score[32];
	const char *outcome = sl_cli_jstr(j, "outcome"), *by = sl_cli_jstr(j, "decided_by");
	printf("%sscore %s", indent, sl_fmt_num(score, sizeof(score), sl_cli_jnum(j, "score")));
	if (spec)
		printf(" (pass ≥ %g, marginal ≥ %g)", sl_cli_jnum(spec, "pass_score"),
		       sl_cli_jnum(spec, "marginal_score"));
	fputs(" → ", stdout);
	sl_cli_put(stdout, color, sl_view_verdict_color(outcome), outcome ? outcome : "-");
	if (by)
		printf(", decided by %s", by);
	fputs(": ", stdout);
	sl_cli_put(stdout, false, SL_TC_NONE, sl_cli_jstr(j, "reason"));
	fputc('\n', stdout);
}

int sl_view_judgment(struct json_object *j, struct json_object *spec, const char *indent, bool color)
{
	struct sl_table t;
	struct json_object *checks = sl_cli_jget(j, "checks");
	size_t n = checks && json_object_is_type(checks, json_type_array) ? json_object_array_length(checks) : 0;
	print_head(j, indent);
	sl_table_init(&t, head, NCOLS);
	for (unsigned c = 1; c <= 6; c++)
		sl_table_align_right(&t, c);
	for (size_t i = 0; i < n; i++)
		check_row(&t, json_object_array_get_idx(checks, i));
	int rc = n ? sl_table_print(&t, stdout, indent, color) : 0;
	sl_table_release(&t);
	if (rc == 0)
		print_score(j, spec, indent, color);
	return rc;
}

/* The names of the counted checks that failed, comma separated. */
void sl_view_failed_checks(char *dst, size_t cap, struct json_object *j)
{
	struct json_object *checks = sl_cli_jget(j, "checks");
	size_t n = checks && json_object_is_type(checks, json_type_array) ? json_object_array_length(checks) : 0;
	size_t len = 0;
	dst[0] = '\0';
	for (size_t i = 0; i < n && len + 1 < cap; i++) {
		struct json_object *c = json_object_array_get_idx(checks, i);
		const char *v = sl_cli_jstr(c, "verdict"), *name = sl_cli_jstr(c, "name");
		if (!v || strcmp(v, "fail") != 0 || sl_cli_jbool(c, "dry_run") || !name)
			continue;
		int w = snprintf(dst + len, cap - len, "%s%s", len ? ", " : "", name);
		len += w > 0 ? (size_t)w : 0;
	}
	if (len >= cap)
		dst[cap - 1] = '\0';
}

const char *sl_view_verdict_line(char *dst, size_t cap, struct json_object *j)
{
	char failed[256], score[32];
	const char *outcome = sl_cli_jstr(j, "outcome");
	if (!j || !outcome) {
		snprintf(dst, cap, "-");
		return dst;
	}
	sl_view_failed_checks(failed, sizeof(failed), j);
	sl_fmt_num(score, sizeof(score), sl_cli_jnum(j, "score"));
	if (failed[0])
		snprintf(dst, cap, "%s: %s", outcome, failed);
	else if (strcmp(score, "-") != 0)
		snprintf(dst, cap, "%s, score %s", outcome, score);
	else
		snprintf(dst, cap, "%s", outcome);
	return dst;
}
