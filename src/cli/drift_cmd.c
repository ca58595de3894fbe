/* drift_cmd.c: `sluice drift REF CUR`: compares two datasets (CSV or JSON Lines) column by
 * column with Evidently's default tests and prints the verdicts (text or --json), optionally
 * writing a self-contained HTML report (--html FILE).
 * Invariants: exit status 0 done, 1 an output could not be written (or memory ran out), 2 bad
 * usage or bad input (the message names FILE:LINE), 3 dataset drift with --fail-on-drift;
 * inputs are never modified: a CSV file is read in pieces through one reused buffer (cheaper
 * than a mapping's first touches on a VM guest), JSON Lines are mapped read-only, a pipe is read
 * whole; files over 2 GiB are refused before reading.
 * `sluice drift reference upload MODEL VERSION FILE` / `... delete MODEL VERSION` send a live
 * monitor's reference to the admin API (PUT/DELETE /api/v1/drift/{model}/{version}/reference). */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/admin_client.h"
#include "cli/commands.h"
#include "proxy/drift_live.h"
#include "sluice/drift.h"

#define MAX_INPUT  ((size_t)2 << 30)
#define MAX_LISTED SL_DRIFT_MAX_COLUMNS
#define MAX_THREADS 8

static const char usage[] =
    "usage: sluice drift REFERENCE CURRENT [OPTIONS]\n"
    "\n"
    "Data drift between two datasets, column by column, with Evidently's default tests:\n"
    "reference up to 1000 values: K-S for numbers, chi-squared (z-test for two values) for\n"
    "categories and numbers with at most 5 values; larger: Wasserstein distance over the\n"
    "reference's std for numbers, Jensen-Shannon distance otherwise. Dataset drift when at\n"
    "least half of the columns drift. Files: CSV with a header row, or JSON Lines of flat\n"
    "objects (by extension .csv/.jsonl, else sniffed). See docs/DRIFT.md.\n"
    "\n"
    "  --json                 print one JSON document instead of the table\n"
    "  --html FILE            also write a self-contained HTML report to FILE\n"
    "  --columns a,b          only these columns (default: all of the reference's)\n"
    "  --types a:num,b:cat    declare column types (default: numeric when every value of\n"
    "                         both files is a number, else categorical)\n"
    "  --test NAME            one test for every column: ks, chisquare, z, psi,\n"
    "                         jensenshannon, wasserstein (default: Evidently's choice)\n"
    "  --threshold X          drift threshold for every column (default: the test's, 0.05\n"
    "                         for p-values, 0.1 for distances)\n"
    "  --correction C         none, bonferroni or bh (Benjamini-Hochberg) over the p-value\n"
    "                         tests (default none, as Evidently)\n"
    "  --drift-share X        share of drifted columns that makes dataset drift (default 0.5)\n"
    "  --format F             csv or jsonl for both files (default: by extension, else sniffed)\n"
    "  --fail-on-drift        exit 3 when the dataset drifted\n"
    "  --help                 this text\n"
    "\n"
    "exit status: 0 done, 1 cannot write the output, 2 bad usage or bad input,\n"
    "3 dataset drift (with --fail-on-drift)\n"
    "\n"
    "       sluice drift reference upload MODEL VERSION FILE [--admin URL] [--token-env VAR] [--json]\n"
    "       sluice drift reference delete MODEL VERSION [--admin URL] [--token-env VAR] [--json]\n"
    "\n"
    "The reference of the gateway's live monitor for MODEL/VERSION: upload replaces it with FILE\n"
    "(CSV or JSON Lines of the monitored features, as listed by GET /api/v1/drift, at most 1 MiB);\n"
    "delete goes back to the first requests after it. Exit status: 0 done, 1 refused or\n"
    "unreachable, 2 bad usage.\n";

struct args {
	const char *ref, *cur, *html;
	bool json, fail_on_drift;
	struct sl_drift_config cfg;
	struct sl_drift_load_opts load;
	char *columns_arg, *types_arg;
	const char *columns[MAX_LISTED];
	struct sl_drift_decl decl[MAX_LISTED];
};

struct input {
	struct sl_drift_input in;
	void *map;
	size_t maplen;
	char *heap;
	int fd;                    /* open while read in pieces, else -1 */
	struct sl_drift_reader rd; /* rd.read set: in.data is not used */
};

/* Prints "sluice drift: ..." and returns 2 (bad usage or input). */
__attribute__((format(printf, 1, 2))) static int fail(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("sluice drift: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputs("\n", stderr);
	va_end(ap);
	return 2;
}

/* Splits s in place on commas into out[]; empty items are an error. */
static int split(char *s, const char **out, size_t max, size_t *n)
{
	*n = 0;
	for (char *p = s;;) {
		char *c = strchr(p, ',');
		if (c)
			*c = '\0';
		if (*p == '\0' || *n >= max)
			return -1;
		out[(*n)++] = p;
		if (!c)
			return 0;
		p = c + 1;
	}
}

static int parse_types(struct args *a)
{
	const char *items[MAX_LISTED];
	size_t n;
	if (split(a->types_arg, items, MAX_LISTED, &n))
		return fail("--types: expected name:num or name:cat items separated by commas");
	for (size_t i = 0; i < n; i++) {
		char *colon = strrchr(items[i], ':');
		if (!colon || colon == items[i])
			return fail("--types: '%s' is not name:num or name:cat", items[i]);
		*colon = '\0';
		const char *k = colon + 1;
		enum sl_drift_kind kind = strcmp(k, "num") == 0 || strcmp(k, "numeric") == 0       ? SL_DRIFT_NUM
		                          : strcmp(k, "cat") == 0 || strcmp(k, "categorical") == 0 ? SL_DRIFT_CAT
		                                                                                   : SL_DRIFT_KIND_AUTO;
		if (kind == SL_DRIFT_KIND_AUTO)
			return fail("--types: unknown type '%s' for '%s' (num or cat)", k, items[i]);
		a->decl[i] = (struct sl_drift_decl){items[i], kind};
	}
	a->load.decl = a->decl, a->load.ndecl = n;
	return 0;
}

static int parse_number(const char *opt, const char *v, double lo, double hi, double *out)
{
	if (sl_parse_double(v, out) || !(*out >= lo && *out <= hi))
		return fail("%s: '%s' is not a valid number here", opt, v);
	return 0;
}

/* One option with its value. */
static int option(struct args *a, const char *opt, const char *v)
{
	if (!v)
		return fail("%s needs a value", opt);
	if (strcmp(opt, "--html") == 0)
		a->html = v;
	else if (strcmp(opt, "--columns") == 0)
		a->columns_arg = strdup(v);
	else if (strcmp(opt, "--types") == 0)
		a->types_arg = strdup(v);
	else if (strcmp(opt, "--test") == 0) {
		if (sl_drift_test_parse(v, &a->cfg.opts.test))
			return fail("--test: unknown test '%s' (ks, chisquare, z, psi, jensenshannon, wasserstein)", v);
	} else if (strcmp(opt, "--threshold") == 0)
		return parse_number(opt, v, 0, 1e300, &a->cfg.opts.threshold);
	else if (strcmp(opt, "--drift-share") == 0)
		return parse_number(opt, v, 0, 1, &a->cfg.drift_share);
	else if (strcmp(opt, "--correction") == 0) {
		if (sl_drift_correction_parse(v, &a->cfg.correction))
			return fail("--correction: unknown '%s' (none, bonferroni, bh)", v);
	} else if (strcmp(opt, "--format") == 0) {
		a->load.format = strcmp(v, "csv") == 0     ? SL_DRIFT_FMT_CSV
		                 : strcmp(v, "jsonl") == 0 ? SL_DRIFT_FMT_JSONL
		                                           : 0;
		if (!a->load.format)
			return fail("--format: '%s' is not csv or jsonl", v);
	} else
		return fail("unknown option '%s' (see sluice drift --help)", opt);
	return 0;
}

static bool takes_value(const char *opt)
{
	static const char *const with[] = {"--html",      "--columns",     "--types",      "--test",
	                                   "--threshold", "--drift-share", "--correction", "--format"};
	for (size_t i = 0; i < sizeof with / sizeof with[0]; i++)
		if (strcmp(opt, with[i]) == 0)
			return true;
	return false;
}

static int flag(struct args *a, const char *opt)
{
	if (strcmp(opt, "--json") == 0)
		a->json = true;
	else if (strcmp(opt, "--fail-on-drift") == 0)
		a->fail_on_drift = true;
	else
		return fail("unknown option '%s' (see sluice drift --help)", opt);
	return 0;
}

/* "--opt=value" or "--opt value"; *i moves past what was used. */
static int one_arg(struct args *a, int argc, char **argv, int *i)
{
	char *s = argv[*i], name[64];
	char *eq = strchr(s, '=');
	if (eq && (size_t)(eq - s) < sizeof name) {
		memcpy(name, s, (size_t)(eq - s));
		name[eq - s] = '\0';
		return option(a, name, eq + 1);
	}
	if (takes_value(s))
		return option(a, s, ++*i < argc ? argv[*i] : NULL);
	return flag(a, s);
}

static int parse_args(struct args *a, int argc, char **argv)
{
	int pos = 0;
	for (int i = 1; i < argc; i++) {
		int rc = 0;
		if (strncmp(argv[i], "--", 2) == 0 && argv[i][2])
			rc = one_arg(a, argc, argv, &i);
		else if (pos < 2)
			*(pos++ ? &a->cur : &a->ref) = argv[i];
		else
			rc = fail("unexpected argument '%s'", argv[i]);
		if (rc)
			return rc;
	}
	if (pos != 2)
		return fail("expected two files, REFERENCE and CURRENT (see sluice drift --help)");
	size_t n = 0;
	if (a->columns_arg && split(a->columns_arg, a->columns, MAX_LISTED, &n))
		return fail("--columns: expected names separated by commas");
	if (a->columns_arg)
		a->load.columns = a->columns, a->load.ncolumns = n;
	return a->types_arg ? parse_types(a) : 0;
}

/* ---- reading ---- */

static int read_stream(int fd, struct input *f, const char *path)
{
	size_t cap = 1 << 16, len = 0;
	char *buf = malloc(cap);
	for (;;) {
		if (!buf)
			return fail("%s: out of memory", path);
		ssize_t r = read(fd, buf + len, cap - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			free(buf);
			return fail("%s: %s", path, strerror(errno));
		}
		if (r == 0)
			break;
		len += (size_t)r;
		if (len > MAX_INPUT) {
			free(buf);
			return fail("%s: larger than 2 GiB", path);
		}
		if (len == cap) {
			char *nb = realloc(buf, cap *= 2);
			if (!nb)
				free(buf);
			buf = nb;
		}
	}
	f->heap = buf;
	f->in = (struct sl_drift_input){path, buf, len};
	return 0;
}

/* sl_drift_reader.read over the file (pread: the two files' threads share nothing). */
static int64_t read_piece(void *arg, uint64_t off, char *buf, size_t n)
{
	const struct input *f = arg;
	for (;;) {
		ssize_t r = pread(f->fd, buf, n, (off_t)off);
		if (r >= 0 || errno != EINTR)
			return r < 0 ? SL_EIO : r;
	}
}

/* Whether the file at fd is CSV for the loader, from its first bytes (what sl_drift_sniff
 * decides, when these bytes decide it). */
static bool surely_csv(const struct args *a, const char *path, int fd, size_t size)
{
	if (a->load.format)
		return a->load.format == SL_DRIFT_FMT_CSV;
	char head[4096];
	ssize_t n = pread(fd, head, sizeof head, 0);
	if (n < 0)
		return false;
	struct sl_drift_input in = {path, head, (size_t)n};
	if (sl_drift_sniff(&in) != SL_DRIFT_FMT_CSV)
		return false;
	if ((size_t)n == size)
		return true;
	for (ssize_t i = 0; i < n; i++) /* past a byte order mark and spaces, a byte that is not '{' */
		if (!strchr(" \t\r\n", head[i]) && (i >= 3 || !(head[i] & 0x80)))
			return true;
	return false;
}

/* Opens path: in pieces when pieces is set and it is a CSV file, else whole. */
static int open_input(const char *path, const struct args *a, bool pieces, struct input *f)
{
	*f = (struct input){.fd = -1};
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0)
		return fail("cannot open '%s': %s", path, strerror(errno));
	int rc = 0;
	if (fstat(fd, &st) != 0)
		rc = fail("cannot read '%s': %s", path, strerror(errno));
	else if (S_ISDIR(st.st_mode))
		rc = fail("cannot read '%s': %s", path, "is a directory");
	else if (!S_ISREG(st.st_mode))
		rc = read_stream(fd, f, path);
	else if ((size_t)st.st_size > MAX_INPUT)
		rc = fail("%s: larger than 2 GiB", path);
	else if (pieces && surely_csv(a, path, fd, (size_t)st.st_size)) {
		f->fd = fd, fd = -1;
		f->rd = (struct sl_drift_reader){read_piece, f};
		f->in = (struct sl_drift_input){path, NULL, (size_t)st.st_size};
	} else if (st.st_size > 0) {
		f->maplen = (size_t)st.st_size;
		f->map = mmap(NULL, f->maplen, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
		if (f->map == MAP_FAILED)
			f->map = NULL, rc = fail("cannot read '%s': %s", path, strerror(errno));
		else
			madvise(f->map, f->maplen, MADV_SEQUENTIAL);
	}
	if (rc == 0 && !f->heap && !f->rd.read)
		f->in = (struct sl_drift_input){path, f->map ? f->map : "", f->maplen};
	if (fd >= 0)
		close(fd);
	return rc;
}

static void close_input(struct input *f)
{
	if (f->map)
		munmap(f->map, f->maplen);
	if (f->fd >= 0)
		close(f->fd);
	free(f->heap);
}

/* ---- threads: the two files' per-file steps on two, the report's columns on every core ---- */

/* The cores this process may run on (taskset), at most MAX_THREADS: 1 means no thread. */
static int cores(void)
{
	cpu_set_t set;
	int n = sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set) : 1;
	return n < 1 ? 1 : n > MAX_THREADS ? MAX_THREADS : n;
}

struct job {
	const struct sl_drift_input *in;
	const struct sl_drift_reader *rd; /* NULL: in->data */
	const struct sl_drift_load_opts *o;
	struct sl_drift_table *t;
	struct sl_drift_error err;
	bool finish;
	int rc;
};

static void *job_run(void *arg)
{
	struct job *j = arg;
	j->rc = j->finish ? sl_drift_table_finish_read(j->in, j->rd, j->o, j->t, &j->err)
	                  : sl_drift_table_scan_read(j->in, j->rd, j->o, j->t, &j->err);
	return NULL;
}

/* Runs both jobs, the current file's on a second thread when there is a second core and a
 * thread can be started. */
static int both(struct job *r, struct job *c, struct sl_drift_error *err)
{
	pthread_t th;
	bool threaded = cores() > 1 && pthread_create(&th, NULL, job_run, c) == 0;
	job_run(r);
	if (threaded)
		pthread_join(th, NULL);
	else
		job_run(c);
	*err = r->rc ? r->err : c->err;
	return r->rc ? r->rc : c->rc;
}

static int load(const struct args *a, struct input *r, struct input *c, struct sl_drift_table *tr,
                struct sl_drift_table *tc, struct sl_drift_error *err)
{
	struct job jr = {.in = &r->in, .rd = r->rd.read ? &r->rd : NULL, .o = &a->load, .t = tr};
	struct job jc = {.in = &c->in, .rd = c->rd.read ? &c->rd : NULL, .o = &a->load, .t = tc};
	int rc = both(&jr, &jc, err);
	if (rc == 0)
		rc = sl_drift_tables_settle(&r->in, &c->in, &a->load, tr, tc, err);
	if (rc == 0) {
		jr.finish = jc.finish = true;
		rc = both(&jr, &jc, err);
	}
	if (rc) {
		sl_drift_table_release(tr);
		sl_drift_table_release(tc);
	}
	return rc;
}

/* The report's columns, taken one at a time by whichever worker is free (their costs differ). */
struct pool {
	struct sl_drift_report *rep;
	const struct sl_drift_table *tr, *tc;
	atomic_size_t next;
};

struct worker {
	pthread_t th;
	struct pool *p;
	int rc;
};

static void *work(void *arg)
{
	struct worker *w = arg;
	struct sl_drift_work room = {0}; /* decoded numbers, reused from column to column */
	for (size_t i; w->rc == 0 && (i = atomic_fetch_add(&w->p->next, 1)) < w->p->rep->ncols;)
		w->rc = sl_drift_report_column(w->p->rep, w->p->tr, w->p->tc, i, &room);
	sl_drift_work_release(&room);
	return NULL;
}

/* sl_drift_report_build with its columns spread over the cores. */
static int build(struct sl_drift_report *rep, const struct sl_drift_table *tr, const struct sl_drift_table *tc,
                 const struct sl_drift_config *cfg)
{
	struct pool p = {.rep = rep, .tr = tr, .tc = tc};
	struct worker w[MAX_THREADS];
	int n = cores(), started = 1, rc = sl_drift_report_begin(rep, tr, tc, cfg);
	if (rc)
		return rc;
	atomic_init(&p.next, 0);
	for (int i = 0; i < n; i++)
		w[i] = (struct worker){.p = &p};
	while (started < n && (size_t)started < rep->ncols &&
	       pthread_create(&w[started].th, NULL, work, &w[started]) == 0)
		started++;
	work(&w[0]);
	for (int i = 1; i < started; i++)
		pthread_join(w[i].th, NULL);
	for (int i = 0; i < started && rc == 0; i++)
		rc = w[i].rc;
	return sl_drift_report_end(rep, rc);
}

/* ---- writing ---- */

static int write_file(const char *path, const struct sl_buf *b)
{
	FILE *f = fopen(path, "w");
	if (!f) {
		fprintf(stderr, "sluice drift: cannot write '%s': %s\n", path, strerror(errno));
		return 1;
	}
	size_t w = fwrite(b->data, 1, b->len, f);
	if (fclose(f) != 0 || w != b->len) {
		fprintf(stderr, "sluice drift: cannot write '%s': %s\n", path, strerror(errno));
		return 1;
	}
	return 0;
}

static int render(const struct args *a, const struct sl_drift_report *rep)
{
	struct sl_buf b;
	sl_buf_init(&b, 0);
	int rc =
	    a->json ? sl_drift_report_json(rep, a->ref, a->cur, &b) : sl_drift_report_text(rep, a->ref, a->cur, &b);
	if (rc == 0 && fwrite(b.data, 1, b.len, stdout) != b.len)
		rc = SL_EIO;
	if (rc == 0 && a->html) {
		sl_buf_reset(&b);
		rc = sl_drift_report_html(rep, a->ref, a->cur, &b);
		rc = rc ? rc : write_file(a->html, &b) ? SL_EIO : 0;
		if (rc == 0 && !a->json)
			printf("\nhtml report: %s\n", a->html);
	}
	sl_buf_release(&b);
	if (rc && rc != SL_EIO)
		fprintf(stderr, "sluice drift: %s\n", sl_strerror(rc));
	return rc ? 1 : 0;
}

static int run(struct args *a)
{
	struct input r, c;
	struct sl_drift_table tr, tc;
	struct sl_drift_error err;
	struct sl_drift_report rep;
	int rc = open_input(a->ref, a, true, &r);
	if (rc)
		return rc;
	if ((rc = open_input(a->cur, a, true, &c))) {
		close_input(&r);
		return rc;
	}
	int lrc = load(a, &r, &c, &tr, &tc, &err);
	close_input(&r);
	close_input(&c);
	if (lrc) {
		fprintf(stderr, "sluice drift: %s\n", err.msg[0] ? err.msg : sl_strerror(lrc));
		return lrc == SL_ENOMEM ? 1 : 2;
	}
	if (tc.ignored_cols)
		fprintf(stderr,
		        "sluice drift: note: %llu column(s) of '%s' are not in the reference and were ignored\n",
		        (unsigned long long)tc.ignored_cols, a->cur);
	rc = build(&rep, &tr, &tc, &a->cfg);
	sl_drift_table_release(&tr);
	sl_drift_table_release(&tc);
	if (rc) {
		fprintf(stderr, "sluice drift: %s\n", sl_strerror(rc));
		return 1;
	}
	rc = render(a, &rep);
	if (rc == 0 && a->fail_on_drift && rep.verdict.drift)
		rc = 3;
	sl_drift_report_release(&rep);
	return rc;
}

/* ---- sluice drift reference upload|delete ---- */

/* Reads FILE whole (at most the upload limit) into *buf. */
static int read_upload(struct sl_admin *a, const char *path, char **buf, size_t *len)
{
	struct input f;
	if (open_input(path, NULL, false, &f))
		return -1;
	if (f.in.len > SL_DRIFT_LIVE_REF_MAX) {
		sl_admin_err(a, "%s: larger than the upload limit (%u MiB)", path, SL_DRIFT_LIVE_REF_MAX >> 20);
		close_input(&f);
		return -1;
	}
	*buf = malloc(f.in.len + 1);
	if (*buf)
		memcpy(*buf, f.in.data, f.in.len), (*buf)[f.in.len] = '\0';
	*len = f.in.len;
	close_input(&f);
	return *buf ? 0 : -1;
}

static int reference_call(struct sl_admin *a, const char *method, char **pos, const char *body, size_t len)
{
	char m[3 * 160], v[3 * 160], path[2 * sizeof m + 64];
	struct sl_admin_reply r;
	int status = 1;
	if (sl_admin_escape(pos[0], m, sizeof m) || sl_admin_escape(pos[1], v, sizeof v)) {
		sl_admin_err(a, "model or version name too long");
		return 2;
	}
	snprintf(path, sizeof path, "/api/v1/drift/%s/%s/reference", m, v);
	if (sl_admin_open(a)) {
		sl_admin_close(a);
		return 2;
	}
	sl_admin_reply_init(&r);
	if (sl_admin_call_body(a, method, path, body, len, &r) == 0) {
		status = 0;
		if (a->json)
			sl_admin_print_raw(&r);
		else if (body)
			printf("%s/%s: reference uploaded (%.0f rows)\n", pos[0], pos[1], sl_cli_jnum(r.doc, "rows"));
		else
			printf("%s/%s: reference is the live window again\n", pos[0], pos[1]);
	}
	sl_admin_reply_release(&r);
	sl_admin_close(a);
	return status;
}

static int cmd_reference(int argc, char **argv)
{
	struct sl_admin a;
	char *pos[4];
	bool upload = argc > 1 && strcmp(argv[1], "upload") == 0, del = argc > 1 && strcmp(argv[1], "delete") == 0;
	if (!upload && !del) {
		fputs("sluice drift: reference wants 'upload MODEL VERSION FILE' or 'delete MODEL VERSION'\n", stderr);
		return 2;
	}
	int npos = sl_admin_parse(&a, "drift", NULL, 0, argc - 1, argv + 1, pos, 4);
	if (npos >= 0 && a.help) {
		fputs(usage, stdout);
		return 0;
	}
	if (npos >= 0 && npos != (upload ? 3 : 2))
		sl_admin_err(&a, upload ? "reference upload needs MODEL VERSION FILE" : "reference delete needs MODEL VERSION");
	if (npos != (upload ? 3 : 2))
		return 2;
	char *body = NULL;
	size_t len = 0;
	if (upload && read_upload(&a, pos[2], &body, &len))
		return 2;
	int rc = reference_call(&a, upload ? "PUT" : "DELETE", pos, body, len);
	free(body);
	return rc;
}

int sl_cmd_drift(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "reference") == 0)
		return cmd_reference(argc - 1, argv + 1);
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			fputs(usage, stdout);
			return 0;
		}
	struct args *a = calloc(1, sizeof *a);
	if (!a)
		return 1;
	sl_drift_config_init(&a->cfg);
	a->load.count_few = true; /* the report reads the tables only: counted columns are fine */
	int rc = parse_args(a, argc, argv);
	if (rc == 0)
		rc = run(a);
	free(a->columns_arg);
	free(a->types_arg);
	free(a);
	return rc;
}
