/* guard_cmd.c: `sluice guard train` and `sluice guard eval`: the prompt-injection classifier's
 * training on a labelled JSON Lines corpus and its evaluation per source (docs/GUARD.md).
 * Input lines are objects with "text" (string), "label" (0 or 1) and optionally "source" and
 * "family" (strings); other members are ignored.
 * Invariants: exit status 0 done, 1 runtime failure (memory, cannot write the model), 2 bad
 * usage or bad input; errors name FILE:LINE; lines longer than MAX_LINE, files over MAX_FILE
 * and more than MAX_SOURCES sources are refused; texts are normalized by the guard pipeline's
 * normalizer before training and classifier-only evaluation, so the model learns on exactly the
 * text it scores in the gateway; the evaluation threshold is fixed before the data is seen
 * (the model's, chosen on its training data, or --threshold). */
#include <errno.h>
#include <json-c/json.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/commands.h"
#include "cli/table.h"
#include "sluice/guard.h"
#include "sluice/guard_model.h"
#include "sluice/stats.h"

#define MAX_LINE    ((size_t)4 << 20)
#define MAX_FILE    ((size_t)1 << 30)
#define MAX_SOURCES 64
#define MAX_LISTED  32

static const char usage[] = "usage: sluice guard train CORPUS.jsonl [-o FILE] [--exclude-source S]... [OPTIONS]\n"
                            "       sluice guard eval DATA.jsonl [--model FILE] [--threshold X] [--json] [OPTIONS]\n"
                            "\n"
                            "The prompt-injection classifier of the guard (docs/GUARD.md). Input: JSON Lines with\n"
                            "\"text\", \"label\" (1 injection or jailbreak, 0 benign) and optionally \"source\".\n"
                            "\n"
                            "train:\n"
                            "  -o FILE               model to write (default share/guard/model.bin)\n"
                            "  --exclude-source S    leave source S out of training (repeatable)\n"
                            "  --epochs N            passes over the data (default 6)\n"
                            "  --target-fpr X        out-of-fold benign false positive rate the default threshold\n"
                            "                        is chosen for, by cross-validation on the corpus (default 0.01)\n"
                            "  --folds N             cross-validation folds (default 5, 0 = off)\n"
                            "  --cv-by-source        folds hold whole sources (rate on unseen sources; see docs)\n"
                            "  --hash-bits N         2^N hashed weights (10-24, default 18)\n"
                            "  --window N            bytes per scoring window (default 512; the document model 128)\n"
                            "  --stride N            window step, dividing the window (default 128; the document model 64)\n"
                            "eval:\n"
                            "  --model FILE          model (default share/guard/model.bin)\n"
                            "  --threshold X         decision threshold (default: the pipeline's 0.5, at which the\n"
                            "                        calibrated classifier meets the model's threshold fixed at\n"
                            "                        training; with --classifier-only the model's own)\n"
                            "  --source S            evaluate only rows of source S (repeatable)\n"
                            "  --trust T             direct (default: rows are user prompts) or indirect (rows are\n"
                            "                        documents or tool results, scored by the document model too)\n"
                            "  --indirect-model FILE document model (default share/guard/indirect.bin when present;\n"
                            "                        none: without it)\n"
                            "  --no-rules            the pipeline without its rules (normalization + classifier)\n"
                            "  --classifier-only     the classifier alone on normalized text\n"
                            "  --json                one JSON document instead of the table\n"
                            "\n"
                            "exit status: 0 done, 1 runtime failure, 2 bad usage or bad input\n";

__attribute__((format(printf, 1, 2))) static int fail(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("sluice guard: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputs("\n", stderr);
	va_end(ap);
	return 2;
}

/* ---- corpus ---- */

struct row {
	char *raw; /* the text as given */
	size_t rawlen;
	char *norm; /* normalized by the guard's normalizer */
	size_t normlen;
	int label;
	unsigned source;
};

struct corpus {
	struct row *rows;
	size_t n, cap;
	char *sources[MAX_SOURCES];
	unsigned nsources;
};

static void corpus_release(struct corpus *c)
{
	for (size_t i = 0; i < c->n; i++) {
		free(c->rows[i].raw);
		free(c->rows[i].norm);
	}
	free(c->rows);
	for (unsigned i = 0; i < c->nsources; i++)
		free(c->sources[i]);
}

static int source_index(struct corpus *c, const char *s, unsigned *out)
{
	for (unsigned i = 0; i < c->nsources; i++)
		if (strcmp(c->sources[i], s) == 0) {
			*out = i;
			return 0;
		}
	if (c->nsources == MAX_SOURCES)
		return SL_ETOOBIG;
	if (!(c->sources[c->nsources] = strdup(s)))
		return SL_ENOMEM;
	*out = c->nsources++;
	return 0;
}

static bool listed(const char *s, const char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(s, list[i]) == 0)
			return true;
	return false;
}

/* Row filter: keep rows whose source is in `only` (when any) and not in `skip`. */
struct filter {
	const char *only[MAX_LISTED], *skip[MAX_LISTED];
	size_t nonly, nskip;
};

static bool filter_keeps(const struct filter *f, const char *source)
{
	return (f->nonly == 0 || listed(source, f->only, f->nonly)) && !listed(source, f->skip, f->nskip);
}

/* Parses one line into r (raw text copied); "reason" into why on failure. */
static int parse_line(struct json_tokener *tok, const char *line, size_t len, struct corpus *c, struct row *r,
                      const char **source, char *why, size_t whylen)
{
	json_tokener_reset(tok);
	struct json_object *o = json_tokener_parse_ex(tok, line, (int)len), *t, *l, *s;
	int rc = SL_EPARSE;
	if (!o || json_tokener_get_error(tok) != json_tokener_success || json_tokener_get_parse_end(tok) != len)
		snprintf(why, whylen, "not one JSON value: %s",
		         o ? "trailing characters"
		         : json_tokener_get_error(tok) == json_tokener_continue
		             ? "incomplete"
		             : json_tokener_error_desc(json_tokener_get_error(tok)));
	else if (!json_object_is_type(o, json_type_object))
		snprintf(why, whylen, "not a JSON object");
	else if (!json_object_object_get_ex(o, "text", &t) || !json_object_is_type(t, json_type_string))
		snprintf(why, whylen, "\"text\" must be a string");
	else if (!json_object_object_get_ex(o, "label", &l) || !json_object_is_type(l, json_type_int) ||
	         (json_object_get_int64(l) != 0 && json_object_get_int64(l) != 1))
		snprintf(why, whylen, "\"label\" must be 0 or 1");
	else if (json_object_object_get_ex(o, "source", &s) && !json_object_is_type(s, json_type_string))
		snprintf(why, whylen, "\"source\" must be a string");
	else
		rc = 0;
	if (rc == 0) {
		const char *src = json_object_object_get_ex(o, "source", &s) ? json_object_get_string(s) : "unknown";
		r->rawlen = (size_t)json_object_get_string_len(t);
		r->raw = malloc(r->rawlen + 1);
		r->label = (int)json_object_get_int64(l);
		rc = r->raw ? source_index(c, src, &r->source) : SL_ENOMEM;
		if (r->raw)
			memcpy(r->raw, json_object_get_string(t), r->rawlen + 1);
		if (rc == SL_ETOOBIG)
			snprintf(why, whylen, "more than %d sources", MAX_SOURCES);
		*source = rc == 0 ? c->sources[r->source] : NULL;
	}
	json_object_put(o);
	return rc;
}

static int corpus_add(struct corpus *c, struct row *r)
{
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 1024;
		struct row *p = realloc(c->rows, cap * sizeof(*p));
		if (!p)
			return SL_ENOMEM;
		c->rows = p;
		c->cap = cap;
	}
	c->rows[c->n++] = *r;
	return 0;
}

static int open_input(const char *path, FILE **out)
{
	struct stat st;
	if (stat(path, &st) != 0) {
		if (errno == ENOENT)
			return fail("'%s' not found: the injection corpus is not part of the repository (see "
			            "docs/GUARD.md, Training)",
			            path);
		return fail("cannot open '%s': %s", path, strerror(errno));
	}
	if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size > MAX_FILE)
		return fail("'%s': not a regular file of at most %zu bytes", path, MAX_FILE);
	if (!(*out = fopen(path, "r")))
		return fail("cannot open '%s': %s", path, strerror(errno));
	return 0;
}

/* Reads every line; the row's source must pass f. Exit status style return (0, 1, 2). */
static int corpus_load(const char *path, const struct filter *f, struct corpus *c)
{
	FILE *in = NULL;
	int st = open_input(path, &in);
	if (st)
		return st;
	struct json_tokener *tok = json_tokener_new_ex(32);
	char *line = NULL, why[160];
	size_t cap = 0, lineno = 0;
	ssize_t got;
	if (!tok)
		st = 1;
	else
		json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	while (st == 0 && (got = getline(&line, &cap, in)) >= 0) {
		size_t len = (size_t)got;
		lineno++;
		while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			len--;
		if (len == 0)
			continue;
		if (len > MAX_LINE) {
			st = fail("%s:%zu: line longer than %zu bytes", path, lineno, MAX_LINE);
			break;
		}
		struct row r = {0};
		const char *source = NULL;
		int rc = parse_line(tok, line, len, c, &r, &source, why, sizeof(why));
		if (rc == SL_ENOMEM)
			st = 1;
		else if (rc)
			st = fail("%s:%zu: %s", path, lineno, why);
		else if (!filter_keeps(f, source))
			free(r.raw);
		else if (corpus_add(c, &r) != 0) {
			free(r.raw);
			st = 1;
		}
	}
	if (st == 0 && ferror(in))
		st = fail("cannot read '%s': %s", path, strerror(errno));
	if (st == 1)
		fprintf(stderr, "sluice guard: out of memory reading '%s'\n", path);
	free(line);
	if (tok)
		json_tokener_free(tok);
	fclose(in);
	return st;
}

/* Normalizes every row as the pipeline does before its classifier stage. */
static int corpus_normalize(struct corpus *c)
{
	struct sl_guard_norm nm;
	int rc = 0;
	sl_guard_norm_init(&nm);
	for (size_t i = 0; i < c->n && rc == 0; i++) {
		struct row *r = &c->rows[i];
		rc = sl_guard_normalize(&nm, r->raw, r->rawlen);
		if (rc == 0 && !(r->norm = malloc(nm.out.len + 1)))
			rc = SL_ENOMEM;
		if (rc == 0) {
			memcpy(r->norm, nm.out.data, nm.out.len + 1);
			r->normlen = nm.out.len;
		}
	}
	sl_guard_norm_release(&nm);
	if (rc)
		fprintf(stderr, "sluice guard: normalizing: %s\n", sl_strerror(rc));
	return rc ? 1 : 0;
}

/* ---- arguments ---- */

struct args {
	const char *input, *model, *out, *indirect_model;
	struct filter filter;
	enum sl_guard_trust trust;
	bool json, classifier_only, no_rules;
	double threshold; /* NaN: the model's */
	struct sl_guard_train_opts train;
};

static int add_listed(const char **list, size_t *n, const char *v, const char *opt)
{
	if (*n == MAX_LISTED)
		return fail("%s: at most %d times", opt, MAX_LISTED);
	list[(*n)++] = v;
	return 0;
}

static int parse_u(const char *opt, const char *v, uint64_t max, unsigned *out)
{
	uint64_t u;
	if (sl_parse_u64(v, max, &u) != 0)
		return fail("%s: want an integer in 0..%llu", opt, (unsigned long long)max);
	*out = (unsigned)u;
	return 0;
}

static int parse_frac(const char *opt, const char *v, double *out)
{
	if (sl_parse_double(v, out) != 0 || !(*out > 0.0 && *out < 1.0))
		return fail("%s: want a number in (0, 1)", opt);
	return 0;
}

static int option(struct args *a, const char *opt, const char *v)
{
	if (!v)
		return fail("%s needs a value", opt);
	if (strcmp(opt, "-o") == 0 || strcmp(opt, "--output") == 0)
		a->out = v;
	else if (strcmp(opt, "--model") == 0)
		a->model = v;
	else if (strcmp(opt, "--indirect-model") == 0)
		a->indirect_model = v;
	else if (strcmp(opt, "--trust") == 0) {
		if (strcmp(v, "direct") == 0 || strcmp(v, "indirect") == 0)
			a->trust = v[0] == 'd' ? SL_GUARD_DIRECT : SL_GUARD_INDIRECT;
		else
			return fail("--trust: want direct or indirect");
	}
	else if (strcmp(opt, "--exclude-source") == 0)
		return add_listed(a->filter.skip, &a->filter.nskip, v, opt);
	else if (strcmp(opt, "--source") == 0)
		return add_listed(a->filter.only, &a->filter.nonly, v, opt);
	else if (strcmp(opt, "--epochs") == 0)
		return parse_u(opt, v, 1000, &a->train.epochs);
	else if (strcmp(opt, "--folds") == 0)
		return parse_u(opt, v, 64, &a->train.cv_folds);
	else if (strcmp(opt, "--hash-bits") == 0)
		return parse_u(opt, v, SL_GUARD_MODEL_MAX_BITS, &a->train.params.hash_bits);
	else if (strcmp(opt, "--window") == 0)
		return parse_u(opt, v, 1u << 20, &a->train.params.window);
	else if (strcmp(opt, "--stride") == 0)
		return parse_u(opt, v, 1u << 20, &a->train.params.stride);
	else if (strcmp(opt, "--target-fpr") == 0)
		return parse_frac(opt, v, &a->train.target_fpr);
	else if (strcmp(opt, "--threshold") == 0)
		return parse_frac(opt, v, &a->threshold);
	else
		return fail("unknown option '%s'\n\n%s", opt, usage);
	return 0;
}

static int parse_args(struct args *a, int argc, char **argv)
{
	for (int i = 0; i < argc; i++) {
		const char *s = argv[i];
		int st = 0;
		if (strcmp(s, "--help") == 0 || strcmp(s, "-h") == 0) {
			fputs(usage, stdout);
			return -1;
		} else if (strcmp(s, "--json") == 0)
			a->json = true;
		else if (strcmp(s, "--classifier-only") == 0)
			a->classifier_only = true;
		else if (strcmp(s, "--cv-by-source") == 0)
			a->train.cv_by_group = true;
		else if (strcmp(s, "--no-rules") == 0)
			a->no_rules = true;
		else if (s[0] == '-' && s[1])
			st = option(a, s, i + 1 < argc ? argv[++i] : NULL);
		else if (!a->input)
			a->input = s;
		else
			st = fail("unexpected argument '%s'", s);
		if (st)
			return st;
	}
	return a->input ? 0 : fail("missing the input file\n\n%s", usage);
}

/* ---- train ---- */

static int cmd_train(struct args *a)
{
	struct corpus c = {0};
	struct sl_guard_example *ex = NULL;
	struct sl_guard_model *m = NULL;
	char err[512];
	int st = corpus_load(a->input, &a->filter, &c);
	if (st == 0)
		st = corpus_normalize(&c);
	if (st == 0 && !(ex = calloc(c.n ? c.n : 1, sizeof(*ex))))
		st = 1;
	for (size_t i = 0; st == 0 && i < c.n; i++)
		ex[i] = (struct sl_guard_example){c.rows[i].norm, c.rows[i].normlen, c.rows[i].label, 1.0,
		                                  c.rows[i].source};
	uint64_t t0 = sl_now_ns();
	if (st == 0 && sl_guard_model_train(ex, c.n, &a->train, &m, err, sizeof(err)) != 0)
		st = fail("%s: %s", a->input, err);
	if (st == 0 && sl_guard_model_save(m, a->out, err, sizeof(err)) != 0) {
		fprintf(stderr, "sluice guard: %s\n", err);
		st = 1;
	}
	if (st == 0) {
		size_t pos = 0;
		for (size_t i = 0; i < c.n; i++)
			pos += c.rows[i].label;
		printf("trained on %zu examples (%zu injections, %zu benign) from %u sources in %.1f s\n", c.n, pos,
		       c.n - pos, c.nsources, (double)(sl_now_ns() - t0) / 1e9);
		if (a->train.cv_folds)
			printf("threshold %.6f (out-of-fold benign false positive rate <= %g)\n",
			       sl_guard_model_threshold(m), a->train.target_fpr);
		else
			printf("threshold %.6f (as given, no cross-validation)\n", sl_guard_model_threshold(m));
		printf("wrote %s (%zu bytes)\n", a->out, sl_guard_model_file_size(m));
	}
	sl_guard_model_free(m);
	free(ex);
	corpus_release(&c);
	return st;
}

/* ---- eval ---- */

/* How texts are scored: the whole pipeline (rules may be NULL), or the classifier alone. */
struct scorer {
	const struct sl_guard_model *m;
	struct sl_guard_model *doc; /* the document model (indirect rows), or NULL */
	enum sl_guard_trust trust;
	struct sl_guard_rules *rules;
	struct sl_guard_scratch *scratch;
	struct sl_guard_opts opts;
	struct sl_guard_model_pair pair; /* opts.both's */
	bool pipeline;
};

static int scorer_init(struct scorer *s, const struct args *a, const struct sl_guard_model *m)
{
	char err[SL_GUARD_PATH_MAX + 256];
	s->m = m;
	s->trust = a->trust;
	s->pipeline = !a->classifier_only;
	if (!s->pipeline)
		return 0;
	if (!a->no_rules && sl_guard_rules_load_default(NULL, &s->rules, err, sizeof(err)) != 0)
		return fail("%s", err);
	if (sl_guard_model_load_setting(a->indirect_model, SL_GUARD_INDIRECT_MODEL_FILE, &s->doc, err, sizeof(err)))
		return fail("%s", err);
	if (sl_guard_scratch_new(s->rules, &s->scratch) != 0) {
		fprintf(stderr, "sluice guard: out of memory\n");
		return 1;
	}
	sl_guard_opts_default(&s->opts);
	sl_guard_opts_models(&s->opts, &s->pair, m, s->doc);
	return 0;
}

static void scorer_release(struct scorer *s)
{
	sl_guard_scratch_free(s->scratch);
	sl_guard_rules_free(s->rules);
	sl_guard_model_free(s->doc);
}

/* Pipeline risk of the raw text, or the classifier's probability on the normalized text. */
static int score_row(struct scorer *s, const struct row *r, double *out)
{
	if (!s->pipeline) {
		*out = sl_guard_model_score(s->m, r->norm, r->normlen);
		return 0;
	}
	struct sl_guard_verdict v;
	struct sl_guard_segment seg = {s->trust, r->raw, r->rawlen};
	int rc = sl_guard_scan(s->rules, s->scratch, &s->opts, &seg, 1, &v);
	*out = v.score;
	return rc;
}

struct tally {
	size_t n, pos, flagged_pos, flagged_neg;
	double auc;
};

static double auc_of(const double *score, const int *label, const unsigned *src, size_t n, int source)
{
	size_t np = 0, nn = 0;
	double *x = malloc((n ? n : 1) * sizeof(*x)), *y = malloc((n ? n : 1) * sizeof(*y)), auc = NAN;
	for (size_t i = 0; x && y && i < n; i++)
		if (source < 0 || src[i] == (unsigned)source) {
			if (label[i])
				x[np++] = score[i];
			else
				y[nn++] = score[i];
		}
	struct sl_mwu_result r;
	if (np && nn && sl_mannwhitneyu(x, np, y, nn, SL_ALT_TWO_SIDED, SL_MWU_ASYMPTOTIC, false, &r) == 0)
		auc = r.u1 / ((double)np * (double)nn);
	free(x);
	free(y);
	return auc;
}

static void tally_fill(struct tally *t, const double *score, const int *label, const unsigned *src, size_t n,
                       int source, double thr)
{
	memset(t, 0, sizeof(*t));
	for (size_t i = 0; i < n; i++)
		if (source < 0 || src[i] == (unsigned)source) {
			t->n++;
			t->pos += label[i];
			t->flagged_pos += label[i] && score[i] >= thr;
			t->flagged_neg += !label[i] && score[i] >= thr;
		}
	t->auc = auc_of(score, label, src, n, source);
}

static double rate(size_t k, size_t n)
{
	return n ? (double)k / (double)n : NAN;
}

static void print_row(struct sl_table *tb, const char *name, const struct tally *t)
{
	char b[3][32];
	sl_table_add(tb, SL_TC_NONE, name);
	sl_table_addf(tb, SL_TC_NONE, "%zu", t->n);
	sl_table_addf(tb, SL_TC_NONE, "%zu", t->pos);
	sl_table_add(tb, SL_TC_NONE, sl_fmt_pct(b[0], 32, rate(t->flagged_pos, t->pos)));
	sl_table_add(tb, SL_TC_NONE, sl_fmt_pct(b[1], 32, rate(t->flagged_neg, t->n - t->pos)));
	sl_table_add(tb, SL_TC_NONE, isnan(t->auc) ? "-" : sl_fmt_num(b[2], 32, t->auc));
}

static void json_row(struct sl_buf *b, const char *name, const struct tally *t)
{
	double tpr = rate(t->flagged_pos, t->pos), fpr = rate(t->flagged_neg, t->n - t->pos);
	sl_buf_puts(b, "{\"source\":");
	sl_buf_json_str(b, name, strlen(name));
	sl_buf_printf(b, ",\"n\":%zu,\"positives\":%zu,\"tpr\":", t->n, t->pos);
	sl_buf_printf(b, isnan(tpr) ? "null" : "%.6f", tpr);
	sl_buf_puts(b, ",\"fpr\":");
	sl_buf_printf(b, isnan(fpr) ? "null" : "%.6f", fpr);
	sl_buf_puts(b, ",\"auc\":");
	sl_buf_printf(b, isnan(t->auc) ? "null" : "%.6f", t->auc);
	sl_buf_puts(b, "}");
}

struct results {
	double *score;
	int *label;
	unsigned *src;
	size_t bytes;
	double seconds, threshold;
	const char *mode;
};

static int report(const struct args *a, const struct corpus *c, const struct results *r)
{
	struct tally t;
	struct sl_table tb;
	struct sl_buf b;
	static const char *const head[] = {"source", "n", "positives", "TPR", "FPR", "AUC"};
	double mbs = r->seconds > 0 ? (double)r->bytes / 1e6 / r->seconds : NAN;
	sl_table_init(&tb, head, 6);
	for (unsigned k = 1; k < 6; k++)
		sl_table_align_right(&tb, k);
	sl_buf_init(&b, 0);
	sl_buf_printf(&b, "{\"mode\":\"%s\",\"threshold\":%.6f,\"mb_per_s\":%.3f,\"sources\":[", r->mode, r->threshold,
	              mbs);
	for (unsigned s = 0, shown = 0; s < c->nsources; s++) {
		tally_fill(&t, r->score, r->label, r->src, c->n, (int)s, r->threshold);
		if (t.n == 0) /* a source met only in rows filtered out */
			continue;
		print_row(&tb, c->sources[s], &t);
		sl_buf_puts(&b, shown++ ? "," : "");
		json_row(&b, c->sources[s], &t);
	}
	tally_fill(&t, r->score, r->label, r->src, c->n, -1, r->threshold);
	print_row(&tb, "all", &t);
	sl_buf_puts(&b, "],\"all\":");
	json_row(&b, "all", &t);
	sl_buf_puts(&b, "}\n");
	int st = 0;
	if (a->json)
		fputs(b.data, stdout);
	else {
		printf("%s, threshold %.6f (%s), %zu rows, %.1f MB/s\n", r->mode, r->threshold,
		       !isnan(a->threshold) ? "--threshold" : a->classifier_only ? "the model's" : "the pipeline default", c->n, mbs);
		st = sl_table_print(&tb, stdout, "", false) ? 1 : 0;
	}
	sl_buf_release(&b);
	sl_table_release(&tb);
	return st;
}

static int eval_rows(struct scorer *s, const struct corpus *c, struct results *r)
{
	uint64_t t0 = sl_now_ns();
	for (size_t i = 0; i < c->n; i++) {
		int rc = score_row(s, &c->rows[i], &r->score[i]);
		if (rc) {
			fprintf(stderr, "sluice guard: row %zu: %s\n", i + 1, sl_strerror(rc));
			return 1;
		}
		r->label[i] = c->rows[i].label;
		r->src[i] = c->rows[i].source;
		r->bytes += s->pipeline ? c->rows[i].rawlen : c->rows[i].normlen;
	}
	r->seconds = (double)(sl_now_ns() - t0) / 1e9;
	return 0;
}

static int cmd_eval(struct args *a)
{
	struct corpus c = {0};
	struct sl_guard_model *m = NULL;
	struct scorer s = {0};
	struct results r = {0};
	char err[512], mode[64];
	int st = 0;
	if (sl_guard_model_load(a->model, &m, err, sizeof(err)) != 0)
		return fail("%s", err);
	st = corpus_load(a->input, &a->filter, &c);
	if (st == 0 && a->classifier_only)
		st = corpus_normalize(&c);
	if (st == 0)
		st = scorer_init(&s, a, m);
	r.score = calloc(c.n + 1, sizeof(*r.score));
	r.label = calloc(c.n + 1, sizeof(*r.label));
	r.src = calloc(c.n + 1, sizeof(*r.src));
	if (st == 0 && (!r.score || !r.label || !r.src))
		st = 1;
	/* the pipeline's classifier stage is calibrated so that the model's threshold maps to 0.5 */
	r.threshold = !isnan(a->threshold)  ? a->threshold
		      : a->classifier_only ? sl_guard_model_threshold(m)
					   : SL_GUARD_DEFAULT_THRESHOLD;
	snprintf(mode, sizeof(mode), "%s%s",
	         a->classifier_only ? "classifier" : a->no_rules ? "pipeline without rules" : "pipeline",
	         !a->classifier_only && a->trust == SL_GUARD_INDIRECT ? ", rows as indirect content" : "");
	r.mode = mode;
	if (st == 0)
		st = eval_rows(&s, &c, &r);
	if (st == 0)
		st = report(a, &c, &r);
	free(r.score);
	free(r.label);
	free(r.src);
	scorer_release(&s);
	corpus_release(&c);
	sl_guard_model_free(m);
	return st;
}

int sl_cmd_guard(int argc, char **argv)
{
	static char model_path[SL_GUARD_PATH_MAX];
	struct args a = {.threshold = NAN, .trust = SL_GUARD_DIRECT};
	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		fputs(usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	if (sl_guard_share_path(SL_GUARD_MODEL_FILE, model_path, sizeof(model_path)) != 0)
		return fail("share directory path too long");
	a.model = a.out = model_path;
	sl_guard_train_opts_default(&a.train);
	bool train = strcmp(argv[1], "train") == 0;
	if (!train && strcmp(argv[1], "eval") != 0)
		return fail("unknown subcommand '%s'\n\n%s", argv[1], usage);
	int st = parse_args(&a, argc - 2, argv + 2);
	if (st)
		return st < 0 ? 0 : st;
	return train ? cmd_train(&a) : cmd_eval(&a);
}
