/* scan.c: the decision: each segment normalized and matched on its own, its rule risk combined
 * with the classifier's probability, the riskiest segment deciding the verdict.
 * Invariants: risk = 1 - (1 - r)(1 - p) with r = 1 - prod(1 - w) over the distinct rules that
 * fired (noisy-or) and p the classifier's probability clamped to [0, 1] (NaN counts as 0); both
 * stay in [0, 1]; a verdict fires iff some segment was scanned and its risk reaches the
 * threshold; reasons keep the SL_GUARD_MAX_REASONS strongest, strongest first; a segment the
 * memo answers adds to the verdict exactly what its scan added (the same reasons in the same
 * order, the same categories and risk). */
#include <math.h>
#include <stddef.h>
#include <string.h>

#include "guard-int.h"

#define MAX_HITS 256
#define CLASSIFIER_REASON_MIN 0.1 /* below this the classifier is not named as a reason */

void sl_guard_opts_default(struct sl_guard_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->threshold = SL_GUARD_DEFAULT_THRESHOLD;
	o->action = SL_GUARD_FLAG;
}

/* Keeps the strongest reasons: a new one replaces the weakest kept when the table is full. */
static void add_reason(struct sl_guard_verdict *v, const struct sl_guard_reason *r)
{
	if (v->nreasons < SL_GUARD_MAX_REASONS) {
		v->reasons[v->nreasons++] = *r;
		return;
	}
	v->more_reasons++;
	unsigned weakest = 0;
	for (unsigned i = 1; i < v->nreasons; i++)
		if (v->reasons[i].score < v->reasons[weakest].score)
			weakest = i;
	if (r->score > v->reasons[weakest].score)
		v->reasons[weakest] = *r;
}

static void sort_reasons(struct sl_guard_verdict *v)
{
	for (unsigned i = 1; i < v->nreasons; i++) {
		struct sl_guard_reason r = v->reasons[i];
		unsigned j = i;
		for (; j > 0 && v->reasons[j - 1].score < r.score; j--)
			v->reasons[j] = v->reasons[j - 1];
		v->reasons[j] = r;
	}
}

/* A segment's reasons as the scan adds them, for the memo: at most SL_GUARD_MAX_REASONS (a
 * segment with more is not kept, since the verdict may have dropped some of them). */
struct record {
	struct sl_guard_reason r[SL_GUARD_MAX_REASONS];
	unsigned n;
	bool over;
};

static void note(struct sl_guard_verdict *v, struct record *rec, const struct sl_guard_reason *r)
{
	if (rec && rec->n < SL_GUARD_MAX_REASONS)
		rec->r[rec->n++] = *r;
	else if (rec)
		rec->over = true;
	add_reason(v, r);
}

/* Rule risk of one segment from its hits; records the reasons and categories. Rules of the
 * category "address" (text speaking to the model) count in indirect segments only: from inside a
 * document or a tool result that is the sign of a planted instruction, from a user it is what a
 * user does ("Instructions for the AI:" heads many a benign prompt). */
static double rule_risk(const struct sl_guard_rules *rules, const struct sl_guard_hit *hits, size_t n, unsigned seg,
                        enum sl_guard_trust trust, struct sl_guard_verdict *v, struct record *rec, unsigned *cats)
{
	double keep = 1;
	for (size_t i = 0; i < n; i++) {
		const struct sl_guard_rule *rule = &rules->rules[hits[i].rule];
		if (rule->category == SL_GUARD_CAT_ADDRESS && trust != SL_GUARD_INDIRECT)
			continue;
		struct sl_guard_reason r = {.kind = SL_GUARD_REASON_RULE, .category = rule->category,
		                            .view = hits[i].view, .score = rule->weight, .segment = seg, .trust = trust};
		memcpy(r.rule_id, rule->id, sizeof(r.rule_id));
		keep *= 1 - rule->weight;
		*cats |= 1u << rule->category;
		note(v, rec, &r);
	}
	return sl__clamp01(1 - keep);
}

static double model_prob(const struct sl_guard_opts *o, const struct sl_guard_scratch *s, unsigned seg,
                         enum sl_guard_trust trust, struct sl_guard_verdict *v, struct record *rec)
{
	const struct sl_guard_scorer_ops *ops = o->scorer.ops, *doc = o->indirect.ops, *both = o->both.ops;
	if (trust != SL_GUARD_INDIRECT || !doc || !doc->score)
		doc = NULL;
	if ((!ops || !ops->score) && !doc)
		return -1;
	const struct sl_guard_norm *n = sl_guard_scratch_norm(s);
	double p;
	if (doc && ops && ops->score && both && both->score) /* the two below in one pass */
		p = sl__clamp01(both->score(o->both.ctx, n->out.data, n->out.len));
	else {
		p = ops && ops->score ? sl__clamp01(ops->score(o->scorer.ctx, n->out.data, n->out.len)) : 0;
		if (doc) /* the document model: instructions planted in untrusted content */
			p = fmax(p, sl__clamp01(doc->score(o->indirect.ctx, n->out.data, n->out.len)));
	}
	if (p >= CLASSIFIER_REASON_MIN) {
		struct sl_guard_reason r = {.kind = SL_GUARD_REASON_CLASSIFIER, .score = p, .segment = seg, .trust = trust};
		note(v, rec, &r);
	}
	return p;
}

/* The segment's categories and risk into the verdict (its reasons are in already). */
static void keep_riskiest(struct sl_guard_verdict *v, const struct sl__gseg *g, unsigned idx, enum sl_guard_trust trust)
{
	v->categories |= g->categories;
	if (v->segment < 0 || g->risk > v->score) {
		v->score = g->risk;
		v->rule_score = g->r;
		v->model_score = g->p;
		v->segment = (int)idx;
		v->trust = trust;
	}
}

/* Scans one segment into v; with a memo, keeps what it contributed (hash from sl__memo_get). */
static int scan_segment(const struct sl_guard_rules *rules, struct sl_guard_scratch *s, const struct sl_guard_opts *o,
                        const struct sl_guard_segment *seg, unsigned idx, struct sl_guard_verdict *v,
                        struct sl_guard_memo *memo, uint64_t hash)
{
	struct sl_guard_hit hits[MAX_HITS];
	struct record rec, *rp = memo ? &rec : NULL;
	struct sl__gseg g = {.categories = 0};
	size_t nhits;
	int rc = sl_guard_rules_scan(rules, s, seg->text, seg->len, hits, MAX_HITS, &nhits);
	if (rc)
		return rc;
	if (rp)
		rec.n = 0, rec.over = false;
	g.r = rule_risk(rules, hits, nhits, idx, seg->trust, v, rp, &g.categories);
	g.p = model_prob(o, s, idx, seg->trust, v, rp);
	g.risk = sl__clamp01(1 - (1 - g.r) * (1 - (g.p > 0 ? g.p : 0)));
	keep_riskiest(v, &g, idx, seg->trust);
	if (rp && !rec.over) {
		g.n = rec.n;
		g.reasons = rec.r;
		sl__memo_put(memo, hash, seg, &g);
	}
	return 0;
}

/* What a segment seen before contributed, added to v as its scan added it. */
static void replay(struct sl_guard_verdict *v, const struct sl__gseg *g, unsigned idx, enum sl_guard_trust trust)
{
	for (unsigned k = 0; k < g->n; k++) {
		struct sl_guard_reason r = g->reasons[k];
		r.segment = idx;
		add_reason(v, &r);
	}
	keep_riskiest(v, g, idx, trust);
}

/* The reason table (1.3 KB) is neither zeroed nor copied whole: reasons[i] is written before
 * i < nreasons, and the entries past nreasons are unspecified, so only the header and the
 * reasons kept are written (zeroing and copying the whole table cost about 300 instructions a
 * scan, a third of matching a short prompt's rules). */
static void verdict_init(struct sl_guard_verdict *v)
{
	memset(v, 0, offsetof(struct sl_guard_verdict, reasons));
	v->model_score = -1;
	v->segment = -1;
	v->action = SL_GUARD_ALLOW;
}

static void verdict_copy(struct sl_guard_verdict *out, const struct sl_guard_verdict *v)
{
	memcpy(out, v, offsetof(struct sl_guard_verdict, reasons) + v->nreasons * sizeof(v->reasons[0]));
}

int sl_guard_scan_memo(const struct sl_guard_rules *rules, struct sl_guard_scratch *s, const struct sl_guard_opts *o,
                       struct sl_guard_memo *memo, const struct sl_guard_segment *segs, size_t n,
                       struct sl_guard_verdict *out)
{
	struct sl_guard_verdict v;
	if (!s || !o || (n && !segs) || (memo && sl__memo_bind(memo, rules, o) != 0))
		return SL_EINVAL;
	verdict_init(&v);
	for (size_t i = 0; i < n; i++) {
		if (segs[i].trust == SL_GUARD_TRUSTED && !o->scan_trusted)
			continue;
		const struct sl__gseg *known = NULL;
		uint64_t hash = 0;
		v.scanned++;
		if (memo && (known = sl__memo_get(memo, &segs[i], &hash))) {
			v.remembered++;
			replay(&v, known, (unsigned)i, segs[i].trust);
			continue;
		}
		int rc = scan_segment(rules, s, o, &segs[i], (unsigned)i, &v, memo, hash);
		if (rc)
			return rc;
	}
	sort_reasons(&v);
	v.fired = v.segment >= 0 && v.score >= o->threshold;
	v.action = v.fired ? o->action : SL_GUARD_ALLOW;
	verdict_copy(out, &v);
	return 0;
}

int sl_guard_scan(const struct sl_guard_rules *rules, struct sl_guard_scratch *s, const struct sl_guard_opts *o,
                  const struct sl_guard_segment *segs, size_t n, struct sl_guard_verdict *out)
{
	return sl_guard_scan_memo(rules, s, o, NULL, segs, n, out);
}

int sl_guard_scan_text(const struct sl_guard_rules *rules, struct sl_guard_scratch *s, const struct sl_guard_opts *o,
                       const char *text, size_t len, struct sl_guard_verdict *out)
{
	struct sl_guard_segment seg = {SL_GUARD_DIRECT, text, len};
	return sl_guard_scan(rules, s, o, &seg, 1, out);
}
