/* offline.c (bench_drift_offline): where `sluice drift REF CUR --json` spends its time, step by
 * step, through the library calls the command makes (include/sluice/drift.h), on one thread:
 *   read     the files opened; the command reads a CSV in pieces (pread into one reused
 *            buffer, sl_drift_table_scan_read), so the copying is part of parse and sort
 *   parse    sl_drift_table_scan of each file and sl_drift_tables_settle: parse both CSVs,
 *            count categories, decide the column types
 *   sort     sl_drift_table_finish of each file: the numeric columns' sorts (and the text
 *            pass, which these files do not need); load = parse + sort, as
 *            sl_drift_tables_load runs them; shown apart so that "tests" can be compared with
 *            SciPy, whose wasserstein_distance sorts its inputs itself
 *   report   sl_drift_report_build: test choice, every column's test, side statistics,
 *            chart bins, dataset verdict
 *   json     sl_drift_report_json
 * Times are the process CPU clock (one thread: = core time) and wall, best of RUNS; bench/drift.sh
 * runs it once per process, since later runs in one process reuse the freed heap and skip the
 * page faults that a one-shot `sluice drift` pays (its sorts take half as long then).
 * Prints one line of key=value pairs (seconds) for bench/drift.sh.
 *
 * Usage: bench_drift_offline REF.csv CUR.csv [--runs N] */
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "sluice/drift.h"

struct clocks {
	double cpu, wall;
};

static struct clocks now(void)
{
	struct timespec c, w;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c);
	clock_gettime(CLOCK_MONOTONIC, &w);
	return (struct clocks){c.tv_sec + c.tv_nsec * 1e-9, w.tv_sec + w.tv_nsec * 1e-9};
}

static void fail(const char *what)
{
	fprintf(stderr, "bench_drift_offline: %s\n", what);
	exit(1);
}

/* sl_drift_reader.read over a file descriptor, as `sluice drift` reads a CSV. */
static int64_t read_piece(void *arg, uint64_t off, char *buf, size_t n)
{
	ssize_t r = pread(*(const int *)arg, buf, n, (off_t)off);
	return r < 0 ? SL_EIO : r;
}

static struct sl_drift_input open_file(const char *path, int *fd)
{
	struct stat st;
	*fd = open(path, O_RDONLY | O_CLOEXEC);
	if (*fd < 0 || fstat(*fd, &st) != 0 || st.st_size == 0)
		fail("cannot read an input");
	return (struct sl_drift_input){path, NULL, (size_t)st.st_size};
}

static void keep_min(struct clocks *best, struct clocks d)
{
	best->cpu = fmin(best->cpu, d.cpu);
	best->wall = fmin(best->wall, d.wall);
}

int main(int argc, char **argv)
{
	int runs = 1;
	if (argc < 3)
		fail("usage: bench_drift_offline REF.csv CUR.csv [--runs N]");
	for (int i = 3; i < argc; i++) {
		uint64_t v;
		if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc && sl_parse_u64(argv[i + 1], 100, &v) == 0 && v > 0)
			runs = (int)v, i++;
		else
			fail("usage: bench_drift_offline REF.csv CUR.csv [--runs N]");
	}
	struct clocks inf = {1e300, 1e300};
	struct clocks b_read = inf, b_load = inf, b_sort = inf, b_parse = inf, b_report = inf, b_json = inf, b_total = inf;
	size_t out_len = 0;
	for (int run = 0; run < runs; run++) {
		int fr, fc;
		struct clocks t0 = now();
		struct sl_drift_input ref = open_file(argv[1], &fr), cur = open_file(argv[2], &fc);
		struct sl_drift_reader rr = {read_piece, &fr}, rc = {read_piece, &fc};
		struct clocks t1 = now();
		struct sl_drift_table tr, tc;
		struct sl_drift_error err;
		struct sl_drift_load_opts lo = {.count_few = true}; /* as sluice drift loads */
		if (sl_drift_table_scan_read(&ref, &rr, &lo, &tr, &err) ||
		    sl_drift_table_scan_read(&cur, &rc, &lo, &tc, &err) ||
		    sl_drift_tables_settle(&ref, &cur, &lo, &tr, &tc, &err))
			fail(err.msg);
		struct clocks ts = now();
		if (sl_drift_table_finish_read(&ref, &rr, &lo, &tr, &err) ||
		    sl_drift_table_finish_read(&cur, &rc, &lo, &tc, &err))
			fail(err.msg);
		struct clocks t2 = now();
		struct sl_drift_config cfg;
		sl_drift_config_init(&cfg);
		struct sl_drift_report rep;
		if (sl_drift_report_build(&rep, &tr, &tc, &cfg))
			fail("sl_drift_report_build failed");
		struct clocks t3 = now();
		struct sl_buf b;
		sl_buf_init(&b, 0);
		if (sl_drift_report_json(&rep, argv[1], argv[2], &b))
			fail("sl_drift_report_json failed");
		struct clocks t4 = now();
		out_len = b.len;
		sl_buf_release(&b);
		sl_drift_report_release(&rep);
		sl_drift_table_release(&tr);
		sl_drift_table_release(&tc);
		close(fr);
		close(fc);
		keep_min(&b_read, (struct clocks){t1.cpu - t0.cpu, t1.wall - t0.wall});
		keep_min(&b_load, (struct clocks){t2.cpu - t1.cpu, t2.wall - t1.wall});
		keep_min(&b_report, (struct clocks){t3.cpu - t2.cpu, t3.wall - t2.wall});
		keep_min(&b_json, (struct clocks){t4.cpu - t3.cpu, t4.wall - t3.wall});
		keep_min(&b_total, (struct clocks){t4.cpu - t0.cpu, t4.wall - t0.wall});
		keep_min(&b_parse, (struct clocks){ts.cpu - t1.cpu, ts.wall - t1.wall});
		keep_min(&b_sort, (struct clocks){t2.cpu - ts.cpu, t2.wall - ts.wall});
	}
	printf("read_cpu=%.4f read_wall=%.4f parse_cpu=%.4f parse_wall=%.4f load_cpu=%.4f load_wall=%.4f "
	       "sort_cpu=%.4f sort_wall=%.4f "
	       "report_cpu=%.4f report_wall=%.4f json_cpu=%.4f json_wall=%.4f total_cpu=%.4f total_wall=%.4f "
	       "json_bytes=%zu\n",
	       b_read.cpu, b_read.wall, b_parse.cpu, b_parse.wall, b_load.cpu, b_load.wall, b_sort.cpu, b_sort.wall, b_report.cpu, b_report.wall,
	       b_json.cpu, b_json.wall, b_total.cpu, b_total.wall, out_len);
	return 0;
}
