/* monitor_ref.c: an uploaded reference for the live monitor: CSV and JSON Lines are read, an
 * unknown column, a bad value, too many rows and an empty body are refused with a message naming
 * what and where, and a monitor given a reference tests its windows against it (drift when live
 * traffic differs, ok when it matches) until the reference is reset to the live window; a table
 * loaded with count_few makes the same reference as the same table loaded without. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "sluice/monitor.h"

static int parse(const char *text, size_t max_rows, struct sl_drift_table *t, struct sl_drift_error *err)
{
	return sl_monitor_reference_parse(text, strlen(text), max_rows, t, err);
}

Test(monitor_ref, csv_and_jsonl)
{
	struct sl_drift_table t;
	struct sl_drift_error err;
	cr_assert_eq(parse("prompt_chars,latency_ms,finish_reason\n10,200,stop\n12,,length\n", 10, &t, &err), 0,
	             "%s", err.msg);
	cr_expect_eq(t.rows, 2);
	cr_expect_eq(t.ncols, 3);
	cr_expect_eq(t.cols[1].n_num, 1);
	cr_expect_eq(t.cols[1].missing, 1);
	cr_expect_eq(t.cols[2].kind, SL_DRIFT_CAT);
	sl_drift_table_release(&t);
	cr_assert_eq(parse("{\"messages\":2,\"finish_reason\":\"stop\"}\n{\"messages\":3}\n", 10, &t, &err), 0, "%s",
	             err.msg);
	cr_expect_eq(t.rows, 2);
	cr_expect_eq(t.cols[0].n_num, 2);
	sl_drift_table_release(&t);
}

static void refused(const char *text, size_t max_rows, int want, const char *msg)
{
	struct sl_drift_table t = {0};
	struct sl_drift_error err = {{0}};
	int rc = parse(text, max_rows, &t, &err);
	cr_expect_eq(rc, want, "%s: rc %d, want %d (%s)", text, rc, want, err.msg);
	cr_expect(strstr(err.msg, msg) != NULL, "error '%s' lacks '%s'", err.msg, msg);
	cr_expect_eq(t.ncols, 0);
	cr_expect_null(t.cols);
}

Test(monitor_ref, refusals_name_what_and_where)
{
	refused("prompt_chars,colour\n1,red\n", 10, SL_EINVAL, "unknown column 'colour'");
	refused("prompt_chars,latency_ms\n1,2\n3,oops\n", 10, SL_EPARSE,
	        "reference:3: column 'latency_ms' is declared numeric but holds 'oops'");
	refused("{\"latency_ms\":\"12\"}\n", 10, SL_EPARSE, "reference:1: column 'latency_ms'");
	refused("{\"latency_ms\":1}\n{\"latency_ms\":\n", 10, SL_EPARSE, "reference:2:");
	refused("prompt_chars\n1\n2\n3\n", 2, SL_ETOOBIG, "3 rows, at most 2");
	struct sl_drift_table t;
	struct sl_drift_error err;
	cr_expect_neq(parse("", 10, &t, &err), 0); /* the loader's own "empty file" error */
	refused("prompt_chars\n", 10, SL_EINVAL, "no rows");
}

static struct sl_features feats(double chars, double latency)
{
	struct sl_features f = {.has_topic = false};
	for (int i = 0; i < SL_F_COUNT; i++)
		f.v[i] = NAN;
	f.v[SL_F_PROMPT_CHARS] = chars;
	f.v[SL_F_LATENCY_MS] = latency;
	return f;
}

/* Feeds one window of 100 requests around (chars, latency); returns the report. */
static struct sl_monitor_report window(struct sl_monitor *m, double chars, double latency)
{
	struct sl_monitor_report r;
	bool done = false;
	for (int i = 0; i < 100; i++) {
		struct sl_features f = feats(chars + i % 17, latency + (i * 7) % 23);
		done = sl_monitor_add(m, &f, "stop", &r);
	}
	cr_assert(done, "the window did not close");
	return r;
}

Test(monitor_ref, windows_are_tested_against_the_upload)
{
	struct sl_monitor_opts o;
	struct sl_monitor *m;
	sl_monitor_opts_init(&o);
	o.reference_size = o.window_size = 100;
	cr_assert_eq(sl_monitor_new(&o, &m), 0);
	char csv[8192];
	size_t n = (size_t)snprintf(csv, sizeof csv, "prompt_chars,latency_ms,finish_reason\n");
	for (int i = 0; i < 100; i++)
		n += (size_t)snprintf(csv + n, sizeof csv - n, "%d,%d,stop\n", 1000 + i % 17, 5000 + (i * 7) % 23);
	struct sl_drift_table t;
	struct sl_drift_error err;
	cr_assert_eq(parse(csv, 1000, &t, &err), 0, "%s", err.msg);
	cr_assert_eq(sl_monitor_reference_set(m, &t), 0);
	sl_drift_table_release(&t);
	cr_expect(sl_monitor_reference_uploaded(m));
	size_t ref, cur;
	sl_monitor_progress(m, &ref, &cur);
	cr_expect_eq(ref, 100);
	cr_expect_eq(cur, 0);

	struct sl_monitor_report r = window(m, 10, 200); /* live traffic unlike the upload */
	cr_expect_eq(r.state, SL_DRIFT_DRIFT);
	cr_expect(r.results[SL_F_PROMPT_CHARS].drift);
	cr_expect(r.results[SL_F_LATENCY_MS].drift);
	cr_expect_eq(r.verdict.tested, 3); /* prompt_chars, latency_ms, finish_reason */
	r = window(m, 1000, 5000); /* like the upload */
	cr_expect_eq(r.state, SL_DRIFT_OK);
	cr_expect_eq(r.verdict.drifted, 0);

	sl_monitor_reference_reset(m);
	cr_expect(!sl_monitor_reference_uploaded(m));
	sl_monitor_progress(m, &ref, &cur);
	cr_expect_eq(ref, 0);
	struct sl_features f = feats(10, 200);
	for (int i = 0; i < 100; i++)
		cr_expect(!sl_monitor_add(m, &f, "stop", &r)); /* the reference fills again */
	sl_monitor_free(m);
}

/* The same CSV loaded with and without count_few (counted columns: distinct values and counts)
 * gives the same reference: the same window results, bit for bit. */
Test(monitor_ref, a_counted_table_makes_the_same_reference)
{
	char csv[16384];
	size_t n = (size_t)snprintf(csv, sizeof csv, "prompt_chars,latency_ms,finish_reason\n");
	for (int i = 0; i < 300; i++)
		n += (size_t)snprintf(csv + n, sizeof csv - n, "%d,%d.5,stop\n", 1000 + i % 17, 5000 + (i * 7) % 23);
	struct sl_drift_input in = {"ref.csv", csv, n};
	struct sl_monitor_report r[2];
	for (int counted = 0; counted <= 1; counted++) {
		struct sl_drift_load_opts lo = {.count_few = counted};
		struct sl_drift_table t, t2;
		struct sl_drift_error err;
		cr_assert_eq(sl_drift_tables_load(&in, &in, &lo, &t, &t2, &err), 0, "%s", err.msg);
		cr_assert_eq(t.cols[0].counts != NULL, counted, "prompt_chars counted: %d", counted);
		struct sl_monitor_opts o;
		struct sl_monitor *m;
		sl_monitor_opts_init(&o);
		o.reference_size = o.window_size = 100;
		cr_assert_eq(sl_monitor_new(&o, &m), 0);
		cr_assert_eq(sl_monitor_reference_set(m, &t), 0);
		r[counted] = window(m, 1003, 5004);
		sl_monitor_free(m);
		sl_drift_table_release(&t);
		sl_drift_table_release(&t2);
	}
	for (int f = 0; f < SL_F_COUNT; f++)
		cr_expect(r[0].tested[f] == r[1].tested[f] &&
		              memcmp(&r[0].results[f].statistic, &r[1].results[f].statistic, sizeof(double)) == 0,
		          "feature %d differs", f);
	cr_expect_eq(r[0].state, r[1].state);
}
