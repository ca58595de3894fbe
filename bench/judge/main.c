/* main.c: bench_judge, the canary-judge benchmark. Simulates whole rollouts (steps, interval,
 * min_requests, failure limits, progress deadline: the rollout's spec) on seeded LLM traffic,
 * with several judges driving identical rollouts over the same request streams, and prints
 * Markdown tables: wrong rollbacks of identical versions (A/A), then detection rate and
 * candidate requests until rollback for each known regression.
 *
 * Each judge ("arm") owns a struct sl_rollout and is driven as the gateway drives one
 * (src/proxy/rollouts.c): a 250 ms tick calls sl_rollout_advance with the simulated time and
 * the stage's candidate request count; a decision's reset_window empties the judge's data;
 * when it asks for a judgment the judge runs and its outcome is fed back at once. Requests are
 * assigned by the arm's current share (candidate when the request's uniform draw is below it)
 * and ignored while the rollout is pending, as the gateway ignores them.
 * An arm that neither promoted nor rolled back after --cap-min simulated minutes is "held".
 * Invariants: the traffic of rollout i depends only on (seed, i), never on the scenario or the
 * judges; arms never share state. */
#include <json-c/json.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "judge.h"

#define TICK_MS  250
#define MAX_ARMS 12

enum end { END_PROMOTED, END_JUDGE, END_NO_TRAFFIC, END_HELD };

struct result {
	enum end end;
	uint64_t candidate_requests, ms;
	unsigned judgments;
};

struct arm_tpl {
	char label[64];
	const struct judge_ops *ops;
	struct sl_rollout_spec spec;
	struct flagger_cfg flagger;
	double kayenta_conf, kayenta_tolerance;
	double cpu_s;
	unsigned long check_fails[SL_ROLLOUT_MAX_CHECKS];
};

struct opts {
	unsigned aa, reg;
	uint64_t seed;
	double cap_min;
	const char *scenarios; /* comma-separated ids, or NULL for all */
	const char *base_json;
	struct traffic traffic;
	struct arm_tpl arms[MAX_ARMS];
	unsigned narms;
	bool verbose;
};

static const struct scenario scenarios[] = {
    {"A/A (identical)", 1, 0, 1},     {"latency +10%", 1.1, 0, 1},      {"latency +20%", 1.2, 0, 1},
    {"latency +40%", 1.4, 0, 1},      {"errors +1 point", 1, 0.01, 1},  {"errors +2 points", 1, 0.02, 1},
    {"errors +5 points", 1, 0.05, 1}, {"bad feedback x1.5", 1, 0, 1.5}, {"bad feedback x2", 1, 0, 2},
    {"bad feedback x3", 1, 0, 3},
};
static const char *const scenario_ids[] = {"aa",   "lat10", "lat20", "lat40", "err1",
                                           "err2", "err5",  "fb1.5", "fb2",   "fb3"};
#define NSCENARIOS (sizeof(scenarios) / sizeof(scenarios[0]))

static uint64_t mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

/* ---- driving one arm, as the gateway does ---- */

static void advance(struct arm *a, const struct sl_rollout_input *in, int depth);

static void apply(struct arm *a, const struct sl_rollout_decision *d, uint64_t now, int depth)
{
	if (d->reset_window) {
		a->ops->reset(a);
		a->step_requests = 0;
	}
	if (d->judge && depth < 2) {
		clock_t c0 = clock();
		enum sl_outcome o = a->ops->judge(a, d->judgment_index);
		a->judge_cpu_s += (double)(clock() - c0) / CLOCKS_PER_SEC;
		a->judgments++;
		struct sl_rollout_input in = {.now_ms = now, .step_requests = a->step_requests, .judgment = o};
		advance(a, &in, depth + 1);
	}
}

static void advance(struct arm *a, const struct sl_rollout_input *in, int depth)
{
	struct sl_rollout_decision d;
	if (sl_rollout_advance(&a->r, in, &d) == 0)
		apply(a, &d, in->now_ms, depth);
}

static void tick(struct arm *a, uint64_t now)
{
	struct sl_rollout_input in = {.now_ms = now, .step_requests = a->step_requests};
	advance(a, &in, 0);
	a->done = sl_rollout_terminal(a->r.state);
}

static int arm_start(struct arm *a, const struct arm_tpl *t, uint64_t seed)
{
	char err[256];
	memset(a, 0, sizeof(*a));
	a->ops = t->ops;
	a->label = t->label;
	a->seed = seed;
	a->flagger = t->flagger;
	a->kayenta_conf = t->kayenta_conf;
	a->kayenta_tolerance = t->kayenta_tolerance;
	int rc = sl_rollout_init(&a->r, &t->spec, 0, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "bench_judge: %s: %s\n", t->label, err);
		return rc;
	}
	return a->ops->init(a);
}

static struct result arm_result(const struct arm *a, uint64_t now)
{
	struct result r = {END_HELD, a->candidate_requests, now, a->judgments};
	if (a->r.state == SL_ROLLOUT_PROMOTED)
		r.end = END_PROMOTED;
	else if (a->r.state == SL_ROLLOUT_ROLLED_BACK)
		r.end = strstr(a->r.reason, "no traffic") ? END_NO_TRAFFIC : END_JUDGE;
	if (r.end != END_HELD)
		r.ms = a->r.ended_ms;
	return r;
}

/* ---- one rollout: every arm on the same stream ---- */

static void feed(struct arm *arms, unsigned n, const struct opts *o, const struct scenario *sc, const struct draw *d)
{
	struct obs ob[2];
	bool have[2] = {false, false};
	for (unsigned k = 0; k < n; k++) {
		struct arm *a = &arms[k];
		if (a->done || a->r.state == SL_ROLLOUT_PENDING || a->r.state == SL_ROLLOUT_PAUSED)
			continue;
		int side = d->u_split < a->r.share ? SL_CANDIDATE : SL_STABLE;
		if (!have[side]) {
			traffic_observe(&o->traffic, sc, d, side, &ob[side]);
			have[side] = true;
		}
		a->ops->observe(a, side, &ob[side]);
		if (side == SL_CANDIDATE) {
			a->step_requests++;
			a->candidate_requests++;
		}
	}
}

static int run_rollout(struct opts *o, const struct scenario *sc, unsigned i, struct result *out)
{
	struct arm arms[MAX_ARMS];
	struct sl_rng rng;
	struct draw d;
	sl_rng_seed(&rng, mix(o->seed ^ mix(i)));
	for (unsigned k = 0; k < o->narms; k++) {
		if (arm_start(&arms[k], &o->arms[k], mix(o->seed + 7919 * (uint64_t)i + k)) != 0) {
			while (k--)
				arms[k].ops->release(&arms[k]);
			return -1;
		}
	}
	uint64_t cap = (uint64_t)(o->cap_min * 60000), now = 0;
	double next = traffic_next_gap_ms(&o->traffic, &rng);
	unsigned live = o->narms;
	for (unsigned k = 0; k < o->narms; k++)
		tick(&arms[k], 0);
	while (live && now < cap) {
		now += TICK_MS;
		for (; next <= (double)now; next += traffic_next_gap_ms(&o->traffic, &rng)) {
			traffic_draw(&rng, &d);
			feed(arms, o->narms, o, sc, &d);
		}
		live = 0;
		for (unsigned k = 0; k < o->narms; k++) {
			if (arms[k].done)
				continue;
			tick(&arms[k], now);
			live += !arms[k].done;
		}
	}
	for (unsigned k = 0; k < o->narms; k++) {
		out[k] = arm_result(&arms[k], now);
		o->arms[k].cpu_s += arms[k].judge_cpu_s;
		for (unsigned c = 0; c < SL_ROLLOUT_MAX_CHECKS; c++)
			o->arms[k].check_fails[c] += arms[k].check_fails[c];
		arms[k].ops->release(&arms[k]);
	}
	return 0;
}

/* ---- statistics for the tables ---- */

/* Clopper-Pearson 95% interval for k successes out of n. */
static void binom_ci(unsigned k, unsigned n, double *lo, double *hi)
{
	double a = 0, b = 1;
	*lo = 0, *hi = 1;
	if (k > 0) {
		for (int it = 0; it < 60; it++) { /* P(X >= k | p) = 0.025, increasing in p */
			double p = (a + b) / 2;
			if (sl_binom_sf(k - 1, n, p) < 0.025)
				a = p;
			else
				b = p;
		}
		*lo = a;
	}
	if (k < n) {
		a = 0, b = 1;
		for (int it = 0; it < 60; it++) { /* P(X <= k | p) = 0.025, decreasing in p */
			double p = (a + b) / 2;
			if (sl_binom_cdf(k, n, p) > 0.025)
				a = p;
			else
				b = p;
		}
		*hi = b;
	}
}

struct summary {
	unsigned n, count[4];
	double req_med, req_p90, min_med; /* over the rollouts that ended as `focus` */
};

static struct summary summarize(const struct result *r, unsigned n, enum end focus)
{
	struct summary s = {.n = n, .req_med = NAN, .req_p90 = NAN, .min_med = NAN};
	double *req = malloc(n * sizeof(double)), *min = malloc(n * sizeof(double));
	unsigned m = 0;
	for (unsigned i = 0; req && min && i < n; i++) {
		s.count[r[i].end]++;
		if (r[i].end == focus) {
			req[m] = (double)r[i].candidate_requests;
			min[m++] = (double)r[i].ms / 60000.0;
		}
	}
	if (m) {
		qsort(req, m, sizeof(double), cmp_double);
		qsort(min, m, sizeof(double), cmp_double);
		s.req_med = sl_quantile_sorted(req, m, 0.5);
		s.req_p90 = sl_quantile_sorted(req, m, 0.9);
		s.min_med = sl_quantile_sorted(min, m, 0.5);
	}
	free(req);
	free(min);
	return s;
}

static double pct(unsigned k, unsigned n)
{
	return n ? 100.0 * k / n : NAN;
}

static void print_aa(const struct opts *o, struct result *const *res, unsigned n)
{
	printf("\n### A/A: %u rollouts of identical versions\n\n", n);
	printf(
	    "| judge | wrong rollbacks (judge) | rate | 95%% CI | rolled back for no traffic | promoted | held at cap "
	    "| median canary requests to promote | median minutes to promote |\n");
	printf("|---|---:|---:|---|---:|---:|---:|---:|---:|\n");
	for (unsigned k = 0; k < o->narms; k++) {
		struct summary s = summarize(res[k], n, END_PROMOTED);
		double lo, hi;
		binom_ci(s.count[END_JUDGE], n, &lo, &hi);
		printf("| %s | %u | %.1f%% | %.1f%%–%.1f%% | %u | %u | %u | %.0f | %.1f |\n", o->arms[k].label,
		       s.count[END_JUDGE], pct(s.count[END_JUDGE], n), 100 * lo, 100 * hi, s.count[END_NO_TRAFFIC],
		       s.count[END_PROMOTED], s.count[END_HELD], s.req_med, s.min_med);
	}
}

static void print_reg_header(unsigned n)
{
	printf("\n### Known regressions: %u rollouts per scenario\n\n", n);
	printf("| scenario | judge | detected (rolled back by the judge) | 95%% CI | canary requests to rollback: "
	       "median | p90 | median minutes | promoted | held at cap | no traffic |\n");
	printf("|---|---|---:|---|---:|---:|---:|---:|---:|---:|\n");
}

static void print_reg(const struct opts *o, const struct scenario *sc, struct result *const *res, unsigned n)
{
	for (unsigned k = 0; k < o->narms; k++) {
		struct summary s = summarize(res[k], n, END_JUDGE);
		double lo, hi;
		binom_ci(s.count[END_JUDGE], n, &lo, &hi);
		char req[64] = "– | – | –";
		if (!isnan(s.req_med))
			snprintf(req, sizeof(req), "%.0f | %.0f | %.1f", s.req_med, s.req_p90, s.min_med);
		printf("| %s | %s | %.1f%% | %.1f%%–%.1f%% | %s | %.1f%% | %.1f%% | %.1f%% |\n", k ? "" : sc->name,
		       o->arms[k].label, pct(s.count[END_JUDGE], n), 100 * lo, 100 * hi, req,
		       pct(s.count[END_PROMOTED], n), pct(s.count[END_HELD], n), pct(s.count[END_NO_TRAFFIC], n));
	}
}

/* ---- options ---- */

static bool wanted(const struct opts *o, unsigned sc)
{
	if (!o->scenarios)
		return true;
	const char *id = scenario_ids[sc], *p = o->scenarios;
	size_t len = strlen(id);
	while (p && *p) {
		if (strncmp(p, id, len) == 0 && (p[len] == ',' || p[len] == '\0'))
			return true;
		p = strchr(p, ',');
		p = p ? p + 1 : NULL;
	}
	return false;
}

/* The spec from the shared base JSON with the arm's own JSON laid over it (top-level keys). */
static int spec_of(const char *base, const char *over, struct sl_rollout_spec *spec)
{
	char err[256];
	struct json_object *b = json_tokener_parse(base ? base : "{}"), *v = json_tokener_parse(over ? over : "{}");
	int rc =
	    b && v && json_object_is_type(b, json_type_object) && json_object_is_type(v, json_type_object) ? 0 : -1;
	if (!rc) {
		json_object_object_foreach(v, key, val) json_object_object_add(b, key, json_object_get(val));
		rc = sl_rollout_spec_from_json(json_object_to_json_string(b), spec, err, sizeof(err));
		if (rc)
			fprintf(stderr, "bench_judge: spec: %s\n", err);
	} else {
		fprintf(stderr, "bench_judge: a spec is not a JSON object\n");
	}
	json_object_put(b);
	json_object_put(v);
	return rc;
}

static int add_arm(struct opts *o, const char *label, const struct judge_ops *ops, const char *json)
{
	if (o->narms == MAX_ARMS) {
		fprintf(stderr, "bench_judge: at most %d judges\n", MAX_ARMS);
		return -1;
	}
	struct arm_tpl *t = &o->arms[o->narms];
	memset(t, 0, sizeof(*t));
	snprintf(t->label, sizeof(t->label), "%s", label);
	t->ops = ops;
	t->flagger = (struct flagger_cfg){1.5 * traffic_latency_p99(&o->traffic), 0.02, 0.10};
	t->kayenta_conf = 0.98;
	t->kayenta_tolerance = 0.25;
	if (spec_of(o->base_json, json, &t->spec) != 0)
		return -1;
	o->narms++;
	return 0;
}

/* The check tolerances of the recommended spec: latency 5% (was 10%), errors 0 points (was 1). */
static void recommend_checks(struct sl_rollout_spec *spec)
{
	int lat = sl_rollout_spec_find(spec, "latency"), err = sl_rollout_spec_find(spec, "error_rate");
	if (lat >= 0)
		spec->checks[lat].tolerance = 0.05;
	if (err >= 0)
		spec->checks[err].tolerance = 0;
}

/* Built-in judges by name: sluice (library defaults), recommended (alpha 0.05, one failure
 * rolls back, latency tolerance 5%, errors 0 points: what this benchmark suggested before the
 * judge pooled the stages; today the defaults but for the single failure),
 * recommended90 (the same with marginal_score 90), tolerances (the library defaults with only the
 * recommended tolerances), flagger (thresholds; Flagger's
 * threshold of 2 failed checks), flagger2 (without the thumbs-down bound), kayenta (98%, as shipped; rolled back at 3 failures
 * or 2 in a row, pinned so that a change of sluice's defaults does not change the peer), kayenta1 (the same, rolled back at the first failing interval as
 * Spinnaker's canary stage does), kayenta95 (kayenta at 95%). */
static int add_builtin(struct opts *o, const char *name)
{
	if (strcmp(name, "sluice") == 0)
		return add_arm(o, "sluice", &judge_sluice, NULL);
	if (strcmp(name, "recommended") == 0 || strcmp(name, "recommended90") == 0) {
		bool m90 = name[11] == '9';
		int rc = add_arm(o, m90 ? "sluice, recommended + marginal 90" : "sluice, recommended", &judge_sluice,
		                 m90 ? "{\"alpha\":0.05,\"max_consecutive_failures\":1,\"marginal_score\":90}"
		                     : "{\"alpha\":0.05,\"max_consecutive_failures\":1}");
		if (!rc)
			recommend_checks(&o->arms[o->narms - 1].spec);
		return rc;
	}
	if (strcmp(name, "tolerances") == 0) {
		int rc = add_arm(o, "sluice, tolerances 5%/0", &judge_sluice, NULL);
		if (!rc)
			recommend_checks(&o->arms[o->narms - 1].spec);
		return rc;
	}
	if (strcmp(name, "flagger") == 0)
		return add_arm(o, "flagger", &judge_flagger, "{\"max_failures\":2,\"max_consecutive_failures\":2}");
	if (strcmp(name, "flagger2") == 0) { /* the two checks Flagger ships: latency and errors */
		int rc = add_arm(o, "flagger (no feedback check)", &judge_flagger,
		                 "{\"max_failures\":2,\"max_consecutive_failures\":2}");
		if (!rc)
			o->arms[o->narms - 1].flagger.negative_rate = INFINITY;
		return rc;
	}
	if (strcmp(name, "kayenta") == 0) /* the rollout limits sluice had before: 3 in all or 2 in a row */
		return add_arm(o, "kayenta", &judge_kayenta, "{\"max_failures\":3,\"max_consecutive_failures\":2}");
	if (strcmp(name, "kayenta1") == 0) /* Spinnaker: one interval below marginal ends the canary */
		return add_arm(o, "kayenta (1 failure)", &judge_kayenta,
		               "{\"max_failures\":1,\"max_consecutive_failures\":1}");
	if (strcmp(name, "kayenta95") == 0) {
		int rc = add_arm(o, "kayenta (95%)", &judge_kayenta, NULL);
		if (!rc)
			o->arms[o->narms - 1].kayenta_conf = 0.95;
		return rc;
	}
	if (strcmp(name, "none") == 0)
		return 0;
	fprintf(stderr, "bench_judge: unknown judge '%s' (see --help)\n", name);
	return -1;
}

static int add_builtins(struct opts *o, const char *list)
{
	char buf[256];
	snprintf(buf, sizeof(buf), "%s", list);
	for (char *p = buf, *comma; p; p = comma ? comma + 1 : NULL) {
		comma = strchr(p, ',');
		if (comma)
			*comma = '\0';
		if (*p && add_builtin(o, p) != 0)
			return -1;
	}
	return 0;
}

static void usage(void)
{
	fprintf(stderr, "usage: bench_judge [--aa N] [--reg N] [--seed S] [--cap-min M] [--rps R] [--scenarios ids]\n"
	                "                   [--base JSON] [--judges list] [--sluice LABEL=JSON]... [--verbose]\n"
	                "  --aa N         A/A rollouts (1000)           --reg N   rollouts per regression (150)\n"
	                "  --cap-min M    simulated minutes before a rollout counts as held (30)\n"
	                "  --scenarios    comma list of aa,lat10,lat20,lat40,err1,err2,err5,fb1.5,fb2,fb3 (all)\n"
	                "  --base JSON    rollout spec fields shared by every judge (steps, interval_ms, ...)\n"
	                "  --judges list  built-in judges: sluice,recommended,recommended90,tolerances,\n"
	                "                 flagger,flagger2,kayenta,kayenta1,kayenta95,none\n"
	                "                 (sluice,flagger,flagger2,kayenta,kayenta1)\n"
	                "  --sluice L=J   one more sluice judge labelled L with spec fields J over the base\n");
}

static int parse_u(const char *s, unsigned *out)
{
	uint64_t v;
	int rc = sl_parse_u64(s, 100000000, &v);
	*out = (unsigned)v;
	return rc;
}

static int parse_args(int argc, char **argv, struct opts *o, const char **judges)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		int rc = 0;
		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0)
			return 1;
		if (strcmp(a, "--verbose") == 0) {
			o->verbose = true;
			continue;
		}
		if (!v)
			return -1;
		i++;
		if (strcmp(a, "--aa") == 0)
			rc = parse_u(v, &o->aa);
		else if (strcmp(a, "--reg") == 0)
			rc = parse_u(v, &o->reg);
		else if (strcmp(a, "--seed") == 0)
			rc = sl_parse_u64(v, UINT64_MAX, &o->seed);
		else if (strcmp(a, "--cap-min") == 0)
			rc = sl_parse_double(v, &o->cap_min);
		else if (strcmp(a, "--rps") == 0)
			rc = sl_parse_double(v, &o->traffic.rps);
		else if (strcmp(a, "--scenarios") == 0)
			o->scenarios = v;
		else if (strcmp(a, "--base") == 0)
			o->base_json = v;
		else if (strcmp(a, "--judges") == 0)
			*judges = v;
		else if (strcmp(a, "--sluice") == 0)
			continue; /* second pass: needs the base */
		else
			rc = -1;
		if (rc)
			return -1;
	}
	return 0;
}

static int parse_sluice_arms(int argc, char **argv, struct opts *o)
{
	for (int i = 1; i + 1 < argc; i++) {
		if (strcmp(argv[i], "--sluice") != 0)
			continue;
		char label[64];
		const char *eq = strchr(argv[++i], '=');
		if (!eq || eq == argv[i]) {
			fprintf(stderr, "bench_judge: --sluice wants LABEL=JSON\n");
			return -1;
		}
		snprintf(label, sizeof(label), "%.*s", (int)(eq - argv[i]), argv[i]);
		if (add_arm(o, label, &judge_sluice, eq + 1) != 0)
			return -1;
	}
	return 0;
}

/* ---- main ---- */

static void describe(const struct opts *o)
{
	const struct sl_rollout_spec *s = &o->arms[0].spec;
	printf("## bench_judge: seed %llu, %g requests/s, steps", (unsigned long long)o->seed, o->traffic.rps);
	for (unsigned i = 0; i < s->nsteps; i++)
		printf("%s%g", i ? "," : " ", s->steps[i].percent);
	printf(" %%, interval %llu s, min_requests %llu, progress deadline %llu s, cap %g min\n\n",
	       (unsigned long long)(s->interval_ms / 1000), (unsigned long long)s->min_requests,
	       (unsigned long long)(sl_rollout_spec_deadline_ms(s) / 1000), o->cap_min);
	for (unsigned k = 0; k < o->narms; k++) {
		const struct arm_tpl *t = &o->arms[k];
		printf("- %s: %s judge, failures %u cumulative / %u consecutive", t->label, t->ops->name,
		       t->spec.max_failures, t->spec.max_consecutive_failures);
		if (t->ops == &judge_sluice)
			printf(", alpha %g, marginal score %g", t->spec.alpha, t->spec.marginal_score);
		if (t->ops == &judge_flagger)
			printf(", bounds p99 %.0f ms, errors %.0f%%", t->flagger.p99_ms, 100 * t->flagger.error_rate);
		if (t->ops == &judge_flagger && isfinite(t->flagger.negative_rate))
			printf(", thumbs-down %.0f%%", 100 * t->flagger.negative_rate);
		if (t->ops == &judge_kayenta)
			printf(", %.0f%% Hodges-Lehmann interval, tolerance %g", 100 * t->kayenta_conf,
			       t->kayenta_tolerance);
		printf("\n");
	}
}

static void print_diagnostics(const struct opts *o)
{
	for (unsigned k = 0; k < o->narms; k++) {
		const struct arm_tpl *t = &o->arms[k];
		fprintf(stderr, "%s: %.1f CPU s in judgments", t->label, t->cpu_s);
		static const char *const flagger_names[] = {"p99 latency", "error rate", "thumbs-down rate"};
		static const char *const kayenta_names[] = {"latency", "ttft", "cost", "error rate",
		                                            "thumbs-down rate"};
		for (unsigned c = 0; c < SL_ROLLOUT_MAX_CHECKS; c++) {
			const char *name = t->ops == &judge_sluice
			                       ? (c < t->spec.nchecks ? t->spec.checks[c].name : NULL)
			                   : t->ops == &judge_flagger ? (c < 3 ? flagger_names[c] : NULL)
			                                              : (c < 5 ? kayenta_names[c] : NULL);
			if (name && t->check_fails[c])
				fprintf(stderr, "; %s failed %lu", name, t->check_fails[c]);
		}
		fprintf(stderr, "\n");
	}
}

static int run_scenario(struct opts *o, unsigned sc, unsigned n)
{
	struct result *res[MAX_ARMS];
	int rc = 0;
	for (unsigned k = 0; k < o->narms; k++)
		res[k] = calloc(n, sizeof(struct result));
	struct result row[MAX_ARMS];
	for (unsigned i = 0; i < n && !rc; i++) {
		rc = run_rollout(o, &scenarios[sc], i, row);
		for (unsigned k = 0; k < o->narms; k++)
			res[k][i] = row[k];
	}
	if (!rc && sc == 0)
		print_aa(o, res, n);
	else if (!rc)
		print_reg(o, &scenarios[sc], res, n);
	fflush(stdout);
	for (unsigned k = 0; k < o->narms; k++)
		free(res[k]);
	return rc;
}

int main(int argc, char **argv)
{
	struct opts o = {.aa = 1000, .reg = 150, .seed = 20261201, .cap_min = 30};
	const char *judges = "sluice,flagger,flagger2,kayenta,kayenta1";
	traffic_defaults(&o.traffic);
	int rc = parse_args(argc, argv, &o, &judges);
	if (rc == 1) {
		usage();
		return 0;
	}
	if (rc != 0 || add_builtins(&o, judges) != 0 || parse_sluice_arms(argc, argv, &o) != 0 || o.narms == 0) {
		usage();
		return 2;
	}
	describe(&o);
	clock_t c0 = clock();
	bool header = false;
	for (unsigned sc = 0; sc < NSCENARIOS; sc++) {
		if (!wanted(&o, sc) || (sc == 0 ? o.aa : o.reg) == 0)
			continue;
		if (sc > 0 && !header) {
			print_reg_header(o.reg);
			header = true;
		}
		if (run_scenario(&o, sc, sc == 0 ? o.aa : o.reg) != 0)
			return 1;
		fprintf(stderr, "bench_judge: %s done (%.0f CPU s so far)\n", scenario_ids[sc],
		        (double)(clock() - c0) / CLOCKS_PER_SEC);
	}
	if (o.verbose)
		print_diagnostics(&o);
	printf("\n(%.0f CPU seconds)\n", (double)(clock() - c0) / CLOCKS_PER_SEC);
	return 0;
}
