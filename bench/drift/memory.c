/* memory.c (bench_drift_memory): bytes per monitored feature and per monitored model version,
 * measured, next to the figures the headers state (include/sluice/detector.h, drift.h,
 * monitor.h). Each structure is created COUNT times (1,000) and measured by the heap's own
 * books (glibc mallinfo2: bytes in use, chunk headers and rounding included, mmapped blocks
 * included), divided by COUNT, plus the struct itself where the caller embeds it. For the
 * monitor also the resident set (/proc/self/statm) before and after creating the 1,000
 * monitors, and again after each has taken a full reference and one window of requests (pages
 * touched). Prints a Markdown table.
 *
 * Usage: bench_drift_memory [--count N] */
#include <malloc.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sluice/detector.h"
#include "sluice/drift.h"
#include "sluice/features.h"
#include "sluice/monitor.h"

static size_t count = 1000;

static double heap_bytes(void)
{
	struct mallinfo2 mi = mallinfo2();
	return (double)mi.uordblks + (double)mi.hblkhd;
}

static double rss_bytes(void)
{
	FILE *f = fopen("/proc/self/statm", "r");
	unsigned long size = 0, res = 0;
	if (f) {
		if (fscanf(f, "%lu %lu", &size, &res) != 2)
			res = 0;
		fclose(f);
	}
	return (double)res * (double)sysconf(_SC_PAGESIZE);
}

static void fail(const char *what)
{
	fprintf(stderr, "bench_drift_memory: %s failed\n", what);
	exit(1);
}

static void row(const char *what, const char *stated, double measured, const char *note)
{
	printf("| %s | %s | %.0f | %s |\n", what, stated, measured, note);
}

static void detectors(void)
{
	static const struct {
		const char *name;
		double stated;
	} det[] = {{"adwin", 3272}, {"page_hinkley", 128}, {"ddm", 104}, {"cusum", 128}};
	struct sl_detector **d = calloc(count, sizeof *d);
	if (!d)
		fail("calloc");
	for (size_t k = 0; k < sizeof det / sizeof det[0]; k++) {
		const struct sl_detector_ops *ops = sl_detector_find(det[k].name);
		double before = heap_bytes();
		for (size_t i = 0; i < count; i++)
			if (sl_detector_new(ops, NULL, &d[i]))
				fail("sl_detector_new");
		double per = (heap_bytes() - before) / (double)count;
		char what[96], stated[64], note[160];
		snprintf(what, sizeof what, "detector `%s` (defaults)", det[k].name);
		snprintf(stated, sizeof stated, "%.0f", det[k].stated);
		snprintf(note, sizeof note, "sl_detector_footprint %zu, malloc_usable_size %zu",
		         sl_detector_footprint(ops, NULL), malloc_usable_size(d[0]));
		row(what, stated, per, note);
		for (size_t i = 0; i < count; i++)
			sl_detector_free(d[i]);
	}
	free(d);
}

static void numeric(size_t cap)
{
	struct sl_drift_nums *s = calloc(count, sizeof *s);
	if (!s)
		fail("calloc");
	double before = heap_bytes();
	for (size_t i = 0; i < count; i++)
		if (sl_drift_nums_init(&s[i], cap, i))
			fail("sl_drift_nums_init");
	double per = (heap_bytes() - before) / (double)count + (double)sizeof *s;
	char what[96], stated[64], note[128];
	snprintf(what, sizeof what, "numeric feature: `sl_drift_nums`, reservoir of %zu", cap);
	snprintf(stated, sizeof stated, "%zu (8 cap)", 8 * cap);
	snprintf(note, sizeof note, "heap per summary + the %zu-byte struct", sizeof *s);
	row(what, stated, per, note);
	for (size_t i = 0; i < count; i++)
		sl_drift_nums_release(&s[i]);
	free(s);
}

/* distinct: categories added to each table (0: none); a table of cap categories */
static void categorical(size_t cap, size_t max_key, size_t distinct, size_t keylen, const char *label)
{
	struct sl_drift_cats *c = calloc(count, sizeof *c);
	if (!c)
		fail("calloc");
	double before = heap_bytes();
	char key[512];
	for (size_t i = 0; i < count; i++) {
		if (sl_drift_cats_init(&c[i], cap, max_key, SL_DRIFT_CMS_EPS, SL_DRIFT_CMS_DELTA, i))
			fail("sl_drift_cats_init");
		for (size_t j = 0; j < distinct; j++) {
			int n = snprintf(key, sizeof key, "category-%0*zu", (int)(keylen > 9 ? keylen - 9 : 1), j);
			if (sl_drift_cats_add(&c[i], key, (size_t)n, 1))
				fail("sl_drift_cats_add");
		}
	}
	double per = (heap_bytes() - before) / (double)count + (double)sizeof *c;
	char what[160], stated[96], note[160];
	snprintf(what, sizeof what, "categorical feature: `sl_drift_cats` cap %zu, key %zu, %s", cap, max_key, label);
	double bound = (double)cap * (24.0 + (double)max_key);
	if (c[0].cms)
		snprintf(stated, sizeof stated, "<= %.0f + sketch %.0f", bound, 4.0 * c[0].cms->w * c[0].cms->d);
	else
		snprintf(stated, sizeof stated, "<= %.0f", bound);
	snprintf(note, sizeof note, "%zu categories in the table%s; heap + the %zu-byte struct", c[0].n,
	         c[0].cms ? ", sketch started" : "", sizeof *c);
	row(what, stated, per, note);
	for (size_t i = 0; i < count; i++)
		sl_drift_cats_release(&c[i]);
	free(c);
}

static void monitors(void)
{
	struct sl_monitor_opts o;
	sl_monitor_opts_init(&o);
	struct sl_monitor **m = calloc(count, sizeof *m);
	if (!m)
		fail("calloc");
	malloc_trim(0);
	double heap0 = heap_bytes(), rss0 = rss_bytes();
	for (size_t i = 0; i < count; i++) {
		o.seed = i + 1;
		if (sl_monitor_new(&o, &m[i]))
			fail("sl_monitor_new");
	}
	double heap1 = heap_bytes(), rss1 = rss_bytes();
	/* a full reference and one window: every reservoir, topic slot and table touched */
	struct sl_features f;
	struct sl_rng g;
	sl_rng_seed(&g, 5);
	static const char *const fr[] = {"stop", "length", "content_filter", "tool_calls"};
	struct sl_monitor_report rep;
	size_t windows = 0;
	for (size_t r = 0; r < o.reference_size + o.window_size; r++) {
		for (int k = 0; k < SL_F_COUNT; k++)
			f.v[k] = sl_rng_lognormal(&g, 100.0 + k, 0.5);
		for (int k = 0; k < SL_TOPIC_DIMS; k++)
			f.topic[k] = (float)sl_rng_normal(&g) * 0.17f;
		f.has_topic = true;
		for (size_t i = 0; i < count; i++) {
			windows += sl_monitor_add(m[i], &f, fr[r & 3], &rep);
			sl_monitor_signal(m[i], SL_SIGNAL_ERROR, (double)(r % 100 == 0));
			sl_monitor_signal(m[i], SL_SIGNAL_LATENCY, f.v[SL_F_LATENCY_MS] / 1000);
		}
	}
	double heap2 = heap_bytes(), rss2 = rss_bytes();
	if (windows != count)
		fail("window count");
	char stated[64] = "about 330,000";
	row("model version: `sl_monitor` (defaults 1000/1000), created", stated, (heap1 - heap0) / (double)count,
	    "heap per monitor (calloc'd, mostly untouched yet)");
	char note[160];
	snprintf(note, sizeof note, "resident set growth per monitor after creating %zu", count);
	row("model version: `sl_monitor`, resident after creation", stated, (rss1 - rss0) / (double)count, note);
	snprintf(note, sizeof note, "heap %.0f; resident set growth per monitor, %zu monitors", (heap2 - heap0) / (double)count,
	         count);
	row("model version: `sl_monitor`, resident after reference + 1 window", stated, (rss2 - rss0) / (double)count, note);
	for (size_t i = 0; i < count; i++)
		sl_monitor_free(m[i]);
	free(m);
}

int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		uint64_t v;
		if (strcmp(argv[i], "--count") == 0 && i + 1 < argc && sl_parse_u64(argv[i + 1], 1000000, &v) == 0 && v > 0)
			count = (size_t)v, i++;
		else {
			fprintf(stderr, "usage: bench_drift_memory [--count N]\n");
			return 2;
		}
	}
	printf("Memory, %zu of each created and measured by glibc's heap counters (mallinfo2) and the resident set; "
	       "bytes per object\n\n",
	       count);
	printf("| what | stated in the header | measured | how / notes |\n|---|---:|---:|---|\n");
	malloc_trim(0);
	monitors(); /* first, while the heap holds no freed pages that would hide its resident growth */
	detectors();
	numeric(1000);
	categorical(64, 64, 4, 8, "4 finish reasons (the monitor's table)");
	categorical(SL_DRIFT_LIVE_CATS, SL_DRIFT_LIVE_KEY, 0, 16, "empty");
	categorical(SL_DRIFT_LIVE_CATS, SL_DRIFT_LIVE_KEY, 20, 16, "20 categories of 16 bytes");
	categorical(SL_DRIFT_LIVE_CATS, SL_DRIFT_LIVE_KEY, 1024, 16, "1,024 categories of 16 bytes (full)");
	categorical(SL_DRIFT_LIVE_CATS, SL_DRIFT_LIVE_KEY, 1100, 16, "1,100 categories (sketch started)");
	return 0;
}
