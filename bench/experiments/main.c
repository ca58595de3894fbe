/* main.c (bench_experiments): the experiments benchmark's sluice side (issue 6; bench/experiments.sh,
 * docs/BENCHMARKS.md "Experiments"). One experiment, 4 variants, 10 metrics (proportions, means,
 * a ratio, a quantile, two with CUPED), a seeded stream of N events over U units
 * (workload.h), then on one thread:
 *   ingest    every event through sl_experiment_agg_batch, 256 per call (string unit ids,
 *             hashed in the call), and apart one call per event through sl_experiment_agg_request /
 *             sl_experiment_agg_event as the gateway feeds single ones, each on a fresh
 *             aggregator per run, best of RUNS by the thread's CPU clock (both must give the same
 *             report); the assignment (sl_experiment_assign
 *             per request) is timed apart, since the gateway calls it before the aggregator
 *   analysis  sl_experiment_report: Welch with relative lift by the delta method (CUPED,
 *             ratio, quantile), Holm over the 30 comparisons, SRM; fixed-horizon and then
 *             sequential (the same experiment with analysis.sequential flipped between reports:
 *             the aggregator only reads it there), best and median of REPORTS calls; and
 *             sl_experiment_analyze (the report as JSON)
 * It writes the stream's columns, spec.json and sluice.json (timings, counts and both reports
 * with every figure at 17 digits) into DIR for bench/experiments.py to redo with NumPy/SciPy.
 *
 * Usage: bench_experiments --dir DIR [--events N] [--units U] [--seed S] [--runs R] [--reports K]
 *   defaults N 10,000,000, U 1,000,000, S 20250101, R 3, K 200. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sluice/experiment.h"
#include "workload.h"

struct opts {
	const char *dir;
	size_t events;
	uint32_t units;
	uint64_t seed;
	int runs, reports;
};

struct timing {
	double ingest_cpu, ingest_wall, single_cpu, single_wall, assign_cpu;
	double report_best_ms, report_median_ms, seq_best_ms, seq_median_ms, analyze_ms;
};

static const char spec_fmt[] =
    "{\"experiments\": [{\"key\": \"bench\", \"model\": \"chat\", \"unit\": \"user\",\n"
    " \"variants\": [{\"key\": \"control\"}, {\"key\": \"clicky\"}, {\"key\": \"aa\"}, {\"key\": \"buyer\"}],\n"
    " \"start\": \"2025-01-01T00:00:00Z\", \"max_units\": %u,\n"
    " \"metrics\": [\n"
    "  {\"name\": \"ctr\", \"kind\": \"proportion\", \"source\": \"event:click\"},\n"
    "  {\"name\": \"conversion\", \"kind\": \"proportion\", \"source\": \"event:purchase\", \"cuped\": true},\n"
    "  {\"name\": \"revenue\", \"kind\": \"mean\", \"source\": \"event:purchase\"},\n"
    "  {\"name\": \"view_seconds\", \"kind\": \"mean\", \"source\": \"event:view\", \"cuped\": true},\n"
    "  {\"name\": \"clicks_per_request\", \"kind\": \"ratio\", \"source\": \"event:click\","
    " \"denominator\": \"request:requests\"},\n"
    "  {\"name\": \"p90_page_load_ms\", \"kind\": \"quantile\", \"source\": \"event:page_load\", \"quantile\": 0.9,"
    " \"direction\": \"decrease_is_good\"},\n"
    "  {\"name\": \"messages\", \"kind\": \"mean\", \"source\": \"event:message\"},\n"
    "  {\"name\": \"tokens\", \"kind\": \"mean\", \"source\": \"request:tokens\", \"direction\": \"decrease_is_good\"},\n"
    "  {\"name\": \"cost\", \"kind\": \"mean\", \"source\": \"request:cost\", \"direction\": \"decrease_is_good\"},\n"
    "  {\"name\": \"error_rate\", \"kind\": \"proportion\", \"source\": \"request:error\","
    " \"direction\": \"decrease_is_good\"}],\n"
    " \"analysis\": {\"engine\": \"frequentist\", \"sequential\": false, \"tau\": 5000, \"alpha\": 0.05,"
    " \"correction\": \"holm\", \"srm_threshold\": 0.001}}]}\n";

static void fail(const char *what, int rc)
{
	fprintf(stderr, "bench_experiments: %s (%d)\n", what, rc);
	exit(1);
}

static double cpu_now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static double wall_now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static unsigned long long num_arg(const char *s, const char *name)
{
	char *end;
	unsigned long long v = strtoull(s, &end, 10);
	if (!*s || *end || v == 0)
		fail(name, SL_EINVAL);
	return v;
}

static struct opts parse_args(int argc, char **argv)
{
	struct opts o = {NULL, 10000000, 1000000, 20250101, 3, 200};
	for (int i = 1; i + 1 < argc; i += 2) {
		const char *k = argv[i], *v = argv[i + 1];
		if (!strcmp(k, "--dir"))
			o.dir = v;
		else if (!strcmp(k, "--events"))
			o.events = (size_t)num_arg(v, k);
		else if (!strcmp(k, "--units"))
			o.units = (uint32_t)num_arg(v, k);
		else if (!strcmp(k, "--seed"))
			o.seed = num_arg(v, k);
		else if (!strcmp(k, "--runs"))
			o.runs = (int)num_arg(v, k);
		else if (!strcmp(k, "--reports"))
			o.reports = (int)num_arg(v, k);
		else
			fail("usage: bench_experiments --dir DIR [--events N] [--units U] [--seed S] [--runs R] [--reports K]",
			     SL_EINVAL);
	}
	if (!o.dir || argc % 2 == 0 || o.units > SL_EXP_MAX_UNITS_LIMIT)
		fail("usage: bench_experiments --dir DIR [--events N] [--units U] [--seed S] [--runs R] [--reports K]",
		     SL_EINVAL);
	return o;
}

static struct sl_experiment_set *load_spec(const struct opts *o)
{
	char spec[4096], err[256], path[4096];
	struct sl_experiment_set *s = NULL;
	snprintf(spec, sizeof(spec), spec_fmt, o->units);
	int rc = sl_experiments_from_json(spec, &s, err, sizeof(err));
	if (rc)
		fail(err, rc);
	snprintf(path, sizeof(path), "%s/spec.json", o->dir);
	FILE *f = fopen(path, "w");
	if (!f || fputs(spec, f) < 0 || fclose(f) != 0)
		fail("cannot write spec.json", SL_EIO);
	return s;
}

#define CHUNK 256 /* items per sl_experiment_agg_batch call */

/* Event i of the stream as a batch item; a request's observation goes to *ob (request q). */
static struct sl_exp_agg_item stream_item(const struct workload *w, size_t i, size_t q, const struct sl_slice *names,
                                          double start, struct sl_exp_request_obs *ob)
{
	uint32_t u = w->unit[i];
	struct sl_exp_agg_item it = {.unit = sl_slice_make(w->ids + (size_t)u * WL_ID_STRIDE, w->id_len),
	                             .now = i < w->npre ? start - 3600 : start + 60};
	if (w->kind[i] == WL_REQUEST) {
		*ob = (struct sl_exp_request_obs){.latency_ms = w->value[i], .ttft_ms = w->value[i] / 4,
		                                  .input_tokens = w->in_tok[q], .output_tokens = w->out_tok[q],
		                                  .cost = wl_cost(w->in_tok[q], w->out_tok[q]), .error = w->error[q]};
		it.request = ob;
		it.variant = w->variant[u];
	} else {
		it.name = names[w->kind[i]];
		it.value = w->value[i];
	}
	return it;
}

/* One pass of the stream through sl_experiment_agg_batch, CHUNK events per call, as a gateway
 * draining its queue would. */
static int ingest_batch(struct sl_exp_agg *agg, const struct workload *w, double start)
{
	struct sl_slice names[WL_KINDS];
	struct sl_exp_agg_item items[CHUNK];
	struct sl_exp_request_obs obs[CHUNK];
	for (int k = 0; k < WL_KINDS; k++)
		names[k] = sl_slice_cstr(wl_kind_names[k]);
	size_t q = 0;
	for (size_t i = 0; i < w->n; i += CHUNK) {
		size_t n = w->n - i < CHUNK ? w->n - i : CHUNK, accepted;
		for (size_t j = 0; j < n; j++) {
			items[j] = stream_item(w, i + j, q, names, start, &obs[j]);
			q += items[j].request != NULL;
		}
		int rc = sl_experiment_agg_batch(agg, 0, items, n, &accepted);
		if (rc || accepted != n)
			return rc ? rc : SL_EINVAL;
	}
	return 0;
}

/* One pass of the stream through the aggregator, one call per event (the gateway's path for a
 * single request or event). */
static int ingest(struct sl_exp_agg *agg, const struct workload *w, double start)
{
	struct sl_slice names[WL_KINDS];
	struct sl_exp_request_obs ob;
	for (int k = 0; k < WL_KINDS; k++)
		names[k] = sl_slice_cstr(wl_kind_names[k]);
	size_t q = 0;
	for (size_t i = 0; i < w->n; i++) {
		struct sl_exp_agg_item it = stream_item(w, i, q, names, start, &ob);
		int rc = it.request ? sl_experiment_agg_request(agg, 0, it.variant, it.unit, &ob, it.now)
		                    : sl_experiment_agg_event(agg, 0, it.unit, it.name, it.value, it.now);
		q += it.request != NULL;
		if (rc)
			return rc;
	}
	return 0;
}

/* The gateway's assignment of every request (not in the ingest time). */
static double time_assign(const struct sl_experiment *e, const struct workload *w)
{
	int v, bad = 0;
	double t0 = cpu_now();
	for (size_t i = 0; i < w->n; i++)
		if (w->kind[i] == WL_REQUEST) {
			const char *id = w->ids + (size_t)w->unit[i] * WL_ID_STRIDE;
			bad |= !sl_experiment_assign(e, sl_slice_make(id, w->id_len), e->start + 60, &v) ||
			       v != w->variant[w->unit[i]];
		}
	double t = cpu_now() - t0;
	if (bad)
		fail("the assignment changed between generation and timing", SL_ESTATE);
	return t;
}

typedef int (*ingest_fn)(struct sl_exp_agg *, const struct workload *, double);

/* Best of runs of one way in; returns the last run's aggregator (the others are freed). */
static struct sl_exp_agg *time_ingest(const struct sl_experiment_set *s, const struct workload *w, int runs,
                                      ingest_fn fn, double *cpu, double *wall)
{
	struct sl_exp_agg *agg = NULL;
	*cpu = *wall = INFINITY;
	for (int r = 0; r < runs; r++) {
		sl_experiment_agg_free(agg);
		if (!(agg = sl_experiment_agg_new(s)))
			fail("out of memory", SL_ENOMEM);
		double c0 = cpu_now(), w0 = wall_now();
		int rc = fn(agg, w, s->exps[0].start);
		double c = cpu_now() - c0, wl = wall_now() - w0;
		if (rc)
			fail("ingestion failed", rc);
		*cpu = fmin(*cpu, c);
		*wall = fmin(*wall, wl);
	}
	return agg;
}

/* Both ways in must leave the same counts and report: the batch only reorders memory traffic. */
static void check_same(const struct sl_exp_agg *a, const struct sl_exp_agg *b)
{
	static struct sl_exp_report ra, rb;
	if (sl_experiment_report(a, 0, 0, &ra) || sl_experiment_report(b, 0, 0, &rb) ||
	    memcmp(&ra.counts, &rb.counts, sizeof(ra.counts)) != 0 || memcmp(ra.cells, rb.cells, sizeof(ra.cells)) != 0)
		fail("the batched and the single-call ingestion differ", SL_ESTATE);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* k reports of the aggregator; best and median ms; *out is the last one. */
static void time_reports(const struct sl_exp_agg *agg, int k, struct sl_exp_report *out, double *best,
                         double *median)
{
	double *ms = malloc((size_t)k * sizeof(double));
	if (!ms)
		fail("out of memory", SL_ENOMEM);
	for (int i = 0; i < k; i++) {
		double c0 = cpu_now();
		int rc = sl_experiment_report(agg, 0, 0, out);
		ms[i] = (cpu_now() - c0) * 1e3;
		if (rc)
			fail("sl_experiment_report failed", rc);
	}
	qsort(ms, (size_t)k, sizeof(double), cmp_double);
	*best = ms[0];
	*median = ms[k / 2];
	free(ms);
}

static double time_analyze(const struct sl_exp_agg *agg)
{
	struct sl_buf b;
	sl_buf_init(&b, 0);
	double c0 = cpu_now();
	int rc = sl_experiment_analyze(agg, 0, 0, &b);
	double ms = (cpu_now() - c0) * 1e3;
	sl_buf_release(&b);
	if (rc)
		fail("sl_experiment_analyze failed", rc);
	return ms;
}

static void put_num(FILE *f, double v)
{
	if (isfinite(v))
		fprintf(f, "%.17g", v);
	else
		fputs("null", f);
}

static void put_report(FILE *f, const char *name, const struct sl_experiment *e, const struct sl_exp_report *r)
{
	fprintf(f, ",\n \"%s\": {\"srm_pvalue\": ", name);
	put_num(f, r->srm_pvalue);
	fprintf(f, ", \"srm\": %s, \"metrics\": [", r->srm ? "true" : "false");
	for (unsigned m = 0; m < r->nmetrics; m++) {
		fprintf(f, "%s\n  {\"name\": \"%s\", \"cells\": [", m ? "," : "", e->metrics[m].name);
		for (unsigned v = 0; v < r->nvariants; v++) {
			const struct sl_exp_cell *c = &r->cells[m][v];
			const double x[] = {c->mean, c->lift, c->lo, c->hi, c->pvalue, c->p_adjusted};
			static const char *const keys[] = {"mean", "lift", "lo", "hi", "p", "p_adjusted"};
			fprintf(f, "%s{\"units\": %llu, \"verdict\": \"%s\"", v ? ", " : "", (unsigned long long)c->units,
			        sl_exp_verdict_name(c->verdict));
			for (size_t i = 0; i < sizeof(x) / sizeof(x[0]); i++) {
				fprintf(f, ", \"%s\": ", keys[i]);
				put_num(f, x[i]);
			}
			fputs("}", f);
		}
		fputs("]}", f);
	}
	fputs("]}", f);
}

static void put_counts(FILE *f, const struct sl_exp_agg_counts *c)
{
	fprintf(f,
	        ",\n \"counts\": {\"units\": %llu, \"exposed\": %llu, \"dropped\": %llu, \"requests\": %llu, "
	        "\"events\": %llu, \"ignored\": %llu, \"conflicts\": %llu}",
	        (unsigned long long)c->units, (unsigned long long)c->exposed, (unsigned long long)c->dropped,
	        (unsigned long long)c->requests, (unsigned long long)c->events, (unsigned long long)c->ignored,
	        (unsigned long long)c->conflicts);
}

static void write_results(const struct opts *o, const struct workload *w, const struct sl_experiment *e,
                          const struct timing *t, const struct sl_exp_report *fixed, const struct sl_exp_report *seq)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/sluice.json", o->dir);
	FILE *f = fopen(path, "w");
	if (!f)
		fail("cannot write sluice.json", SL_EIO);
	fprintf(f,
	        "{\"events\": %zu, \"units\": %u, \"requests\": %zu, \"runs\": %d, \"reports\": %d,\n"
	        " \"ingest_cpu_s\": %.6f, \"ingest_wall_s\": %.6f, \"single_cpu_s\": %.6f, \"single_wall_s\": %.6f,"
	        " \"assign_cpu_s\": %.6f,\n"
	        " \"report_best_ms\": %.4f, \"report_median_ms\": %.4f, \"sequential_best_ms\": %.4f,"
	        " \"sequential_median_ms\": %.4f, \"analyze_ms\": %.4f",
	        w->n, w->nunits, w->nreq, o->runs, o->reports, t->ingest_cpu, t->ingest_wall, t->single_cpu, t->single_wall,
	        t->assign_cpu,
	        t->report_best_ms, t->report_median_ms, t->seq_best_ms, t->seq_median_ms, t->analyze_ms);
	put_counts(f, &fixed->counts);
	put_report(f, "fixed", e, fixed);
	put_report(f, "sequential", e, seq);
	fputs("}\n", f);
	if (fclose(f) != 0)
		fail("cannot write sluice.json", SL_EIO);
}

/* Every event counted, none dropped or ignored: else the NumPy side would compute something else. */
static void check_counts(const struct workload *w, const struct sl_exp_report *r)
{
	const struct sl_exp_agg_counts *c = &r->counts;
	if (c->dropped || c->ignored || c->conflicts || c->exposed != w->nunits || c->requests + c->events != w->n)
		fail("the aggregator did not count every event", SL_ESTATE);
}

int main(int argc, char **argv)
{
	struct opts o = parse_args(argc, argv);
	struct sl_experiment_set *s = load_spec(&o);
	struct sl_experiment *e = &s->exps[0];
	struct workload w;
	struct timing t = {0};
	static struct sl_exp_report fixed, seq;
	int rc = wl_generate(&w, e, o.events, o.units, o.seed);
	if (rc)
		fail("cannot generate the workload", rc);
	if ((rc = wl_write(&w, e, o.dir)))
		fail("cannot write the workload", rc);
	t.assign_cpu = time_assign(e, &w);
	struct sl_exp_agg *single = time_ingest(s, &w, o.runs, ingest, &t.single_cpu, &t.single_wall);
	struct sl_exp_agg *agg = time_ingest(s, &w, o.runs, ingest_batch, &t.ingest_cpu, &t.ingest_wall);
	check_same(single, agg);
	sl_experiment_agg_free(single);
	time_reports(agg, o.reports, &fixed, &t.report_best_ms, &t.report_median_ms);
	t.analyze_ms = time_analyze(agg);
	check_counts(&w, &fixed);
	e->analysis.sequential = true;
	time_reports(agg, o.reports, &seq, &t.seq_best_ms, &t.seq_median_ms);
	write_results(&o, &w, e, &t, &fixed, &seq);
	fprintf(stderr,
	        "bench_experiments: %zu events (%zu pre-period, %zu requests), %u units: %.2f M events/s batched,"
	        " %.2f M events/s one call each\n",
	        w.n, w.npre, w.nreq, w.nunits, (double)w.n / t.ingest_cpu / 1e6, (double)w.n / t.single_cpu / 1e6);
	sl_experiment_agg_free(agg);
	wl_release(&w);
	sl_experiment_set_free(s);
	return 0;
}
