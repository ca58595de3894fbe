/* monitor.c: live drift monitoring of one model version (see monitor.h). The reference fills
 * once; each current window is tested when full and then emptied (tumbling).
 * Invariants: a side's errors <= signalled (error signals counted into the side the next request
 * joins); the report's reason is empty exactly when its state is ok. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sluice/detector.h"
#include "sluice/monitor.h"

const char *const sl_signal_names[SL_SIGNAL_COUNT] = {"error_rate", "negative_feedback_rate", "latency", "recs_ctr",
							 "recs_negative_rate"};

struct side {
	struct sl_drift_nums nums[SL_F_COUNT];
	struct sl_drift_cats finish;
	float topic[SL_MONITOR_TOPIC_SAMPLE][SL_TOPIC_DIMS];
	size_t ntopic, seen_topic, n;
	uint64_t errors, signalled; /* error signals: 1s, all */
};

struct sl_monitor {
	struct sl_monitor_opts o;
	struct side ref, cur;
	struct sl_detector *det[SL_SIGNAL_COUNT];
	uint64_t alarms[SL_SIGNAL_COUNT];
	uint64_t windows;
	struct sl_rng rng;
	bool uploaded; /* the reference came from sl_monitor_reference_set */
};

const char *sl_drift_state_name(enum sl_drift_state s)
{
	return s == SL_DRIFT_DRIFT ? "drift" : s == SL_DRIFT_WARNING ? "warning" : "ok";
}

void sl_monitor_opts_init(struct sl_monitor_opts *o)
{
	*o = (struct sl_monitor_opts){1000, 1000, 0.5, SL_DRIFT_CORR_NONE, 1, 0.5};
}

/* seed varies the reservoirs; cat_seed must be the same for both sides, since category keys are
 * matched by hash between the reference and the window. */
static int side_init(struct side *s, size_t cap, uint64_t seed, uint64_t cat_seed)
{
	for (int i = 0; i < SL_F_COUNT; i++)
		if (sl_drift_nums_init(&s->nums[i], cap, seed + (uint64_t)i))
			return SL_ENOMEM;
	return sl_drift_cats_init(&s->finish, 64, 64, SL_DRIFT_CMS_EPS, SL_DRIFT_CMS_DELTA, cat_seed);
}

static void side_release(struct side *s)
{
	for (int i = 0; i < SL_F_COUNT; i++)
		sl_drift_nums_release(&s->nums[i]);
	sl_drift_cats_release(&s->finish);
}

static void side_reset(struct side *s, uint64_t seed)
{
	for (int i = 0; i < SL_F_COUNT; i++)
		sl_drift_nums_reset(&s->nums[i], seed + (uint64_t)i);
	sl_drift_cats_reset(&s->finish);
	s->ntopic = s->seen_topic = s->n = 0;
	s->errors = s->signalled = 0;
}

int sl_monitor_new(const struct sl_monitor_opts *o, struct sl_monitor **out)
{
	struct sl_monitor *m = calloc(1, sizeof(*m));
	int rc = m ? 0 : SL_ENOMEM;
	if (!rc && (o->reference_size < 50 || o->window_size < 50 || o->reference_size > 1000000 ||
		    o->window_size > 1000000 || !(o->drift_share > 0 && o->drift_share <= 1) ||
		    !(o->error_warning > 0 && o->error_warning <= 1)))
		rc = SL_EINVAL;
	if (!rc) {
		m->o = *o;
		sl_rng_seed(&m->rng, o->seed);
		rc = side_init(&m->ref, o->reference_size, o->seed, o->seed);
		rc = rc ? rc : side_init(&m->cur, o->window_size, o->seed + 1000, o->seed);
	}
	for (int i = 0; !rc && i < SL_SIGNAL_COUNT; i++)
		rc = sl_detector_new(sl_detector_find("adwin"), NULL, &m->det[i]);
	if (rc && m) {
		sl_monitor_free(m);
		m = NULL;
	}
	*out = m;
	return rc;
}

void sl_monitor_free(struct sl_monitor *m)
{
	if (!m)
		return;
	side_release(&m->ref);
	side_release(&m->cur);
	for (int i = 0; i < SL_SIGNAL_COUNT; i++)
		sl_detector_free(m->det[i]);
	free(m);
}

static void add_topic(struct sl_monitor *m, struct side *s, const struct sl_features *f)
{
	if (!f->has_topic)
		return;
	size_t slot = s->ntopic < SL_MONITOR_TOPIC_SAMPLE ? s->ntopic++
							  : (size_t)(sl_rng_next(&m->rng) % (s->seen_topic + 1));
	if (slot < SL_MONITOR_TOPIC_SAMPLE)
		memcpy(s->topic[slot], f->topic, sizeof(f->topic));
	s->seen_topic++;
}

static void side_add(struct sl_monitor *m, struct side *s, const struct sl_features *f, const char *finish)
{
	for (int i = 0; i < SL_F_COUNT; i++)
		sl_drift_nums_add(&s->nums[i], f->v[i]);
	if (finish && *finish)
		sl_drift_cats_add(&s->finish, finish, strlen(finish), 1);
	else
		sl_drift_cats_missing(&s->finish);
	add_topic(m, s, f);
	s->n++;
}

/* Distance between the two samples' centroids. idx orders the pooled sample: the first na are
 * side A. */
static double centroid_gap(const float (*pool)[SL_TOPIC_DIMS], const size_t *idx, size_t na, size_t n)
{
	double a[SL_TOPIC_DIMS] = {0}, b[SL_TOPIC_DIMS] = {0}, d = 0;
	for (size_t k = 0; k < n; k++)
		for (int j = 0; j < SL_TOPIC_DIMS; j++)
			(k < na ? a : b)[j] += pool[idx[k]][j];
	for (int j = 0; j < SL_TOPIC_DIMS; j++) {
		double x = a[j] / (double)na - b[j] / (double)(n - na);
		d += x * x;
	}
	return sqrt(d);
}

/* Permutation test of the centroid distance on the bounded samples. */
static void topic_test(struct sl_monitor *m, struct sl_monitor_report *r)
{
	size_t na = m->ref.ntopic, nb = m->cur.ntopic, n = na + nb;
	r->topic_distance = r->topic_pvalue = NAN;
	if (na < 10 || nb < 10)
		return;
	float(*pool)[SL_TOPIC_DIMS] = malloc(n * sizeof(*pool));
	size_t *idx = malloc(n * sizeof(*idx));
	if (pool && idx) {
		memcpy(pool, m->ref.topic, na * sizeof(*pool));
		memcpy(pool + na, m->cur.topic, nb * sizeof(*pool));
		for (size_t k = 0; k < n; k++)
			idx[k] = k;
		double obs = centroid_gap((const float(*)[SL_TOPIC_DIMS])pool, idx, na, n);
		unsigned ge = 0;
		for (unsigned p = 0; p < SL_MONITOR_PERMUTATIONS; p++) {
			for (size_t k = n - 1; k > 0; k--) { /* Fisher-Yates */
				size_t j = (size_t)(sl_rng_next(&m->rng) % (k + 1)), t = idx[k];
				idx[k] = idx[j];
				idx[j] = t;
			}
			ge += centroid_gap((const float(*)[SL_TOPIC_DIMS])pool, idx, na, n) >= obs;
		}
		r->topic_distance = obs;
		r->topic_pvalue = (1.0 + ge) / (1.0 + SL_MONITOR_PERMUTATIONS);
		r->topic_drift = r->topic_pvalue < 0.01;
	}
	free(pool);
	free(idx);
}

static double error_rate(const struct side *s)
{
	return s->signalled ? (double)s->errors / (double)s->signalled : NAN;
}

/* Appends "; " and one part to the reason (cut at its size). */
__attribute__((format(printf, 2, 3))) static void because(struct sl_monitor_report *r, const char *fmt, ...)
{
	size_t n = strlen(r->reason);
	if (n && n + 2 < sizeof(r->reason))
		memcpy(r->reason + n, "; ", 3), n += 2;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->reason + n, sizeof(r->reason) - n, fmt, ap);
	va_end(ap);
}

/* The state and the reason behind it, from the tests, the alarms and the error rate. */
static void judge(struct sl_monitor *m, struct sl_monitor_report *r)
{
	bool alarmed = false, errors = r->error_rate >= m->o.error_warning;
	if (errors && isfinite(r->ref_error_rate))
		because(r, "error rate %.3g%% in the current window (reference %.3g%%)", r->error_rate * 100,
			r->ref_error_rate * 100);
	else if (errors)
		because(r, "error rate %.3g%% in the current window", r->error_rate * 100);
	if (r->verdict.drifted > 0)
		because(r, "%zu of %zu features drifted", r->verdict.drifted, r->verdict.tested);
	if (r->topic_drift)
		because(r, "topic drifted");
	for (int i = 0; i < SL_SIGNAL_COUNT; i++) {
		r->alarms[i] = m->alarms[i];
		alarmed = alarmed || m->alarms[i];
		if (m->alarms[i])
			because(r, "%s alarm", sl_signal_names[i]);
		m->alarms[i] = 0;
	}
	r->state = (r->verdict.drift || alarmed)				   ? SL_DRIFT_DRIFT
		   : (r->verdict.drifted > 0 || r->topic_drift || errors) ? SL_DRIFT_WARNING
									   : SL_DRIFT_OK;
}

static void evaluate(struct sl_monitor *m, struct sl_monitor_report *r)
{
	struct sl_drift_opts o;
	bool skip[SL_MONITOR_COLUMNS];
	sl_drift_opts_init(&o);
	memset(r, 0, sizeof(*r));
	r->window = ++m->windows;
	for (int i = 0; i < SL_F_COUNT; i++) {
		r->names[i] = sl_feature_names[i];
		r->tested[i] = sl_drift_compare_nums(&m->ref.nums[i], &m->cur.nums[i], &o, &r->results[i]) == 0;
	}
	r->names[SL_F_COUNT] = "finish_reason";
	r->tested[SL_F_COUNT] = sl_drift_compare_cats(&m->ref.finish, &m->cur.finish, &o, &r->results[SL_F_COUNT]) == 0;
	for (int i = 0; i < SL_MONITOR_COLUMNS; i++)
		skip[i] = !r->tested[i];
	sl_drift_dataset(r->results, skip, SL_MONITOR_COLUMNS, m->o.correction, m->o.drift_share, &r->verdict);
	topic_test(m, r);
	r->error_rate = error_rate(&m->cur);
	r->ref_error_rate = error_rate(&m->ref);
	judge(m, r);
}

bool sl_monitor_add(struct sl_monitor *m, const struct sl_features *f, const char *finish_reason,
		    struct sl_monitor_report *out)
{
	if (m->ref.n < m->o.reference_size) {
		side_add(m, &m->ref, f, finish_reason);
		return false;
	}
	side_add(m, &m->cur, f, finish_reason);
	if (m->cur.n < m->o.window_size)
		return false;
	evaluate(m, out);
	side_reset(&m->cur, m->o.seed + 1000 + m->windows);
	return true;
}

int sl_monitor_add_value(struct sl_monitor *m, enum sl_feature f, double x)
{
	if ((unsigned)f >= SL_F_COUNT)
		return SL_EINVAL;
	sl_drift_nums_add(&(m->ref.n < m->o.reference_size ? &m->ref : &m->cur)->nums[f], x);
	return 0;
}

/* Feeds one loaded column to the reference side, a counted one (count_few) each value as many
 * times as it was counted (the same sequence as its sorted array); the caller checked its name. */
static void ref_column(struct sl_monitor *m, const struct sl_drift_col *c)
{
	int f = sl_monitor_column_index(c->name);
	if (f < SL_F_COUNT) {
		size_t n = c->counts ? c->n_distinct : c->n_num;
		for (size_t j = 0; j < n; j++)
			for (uint64_t k = 0, copies = c->counts ? c->counts[j] : 1; k < copies; k++)
				sl_drift_nums_add(&m->ref.nums[f], sl_drift_col_at(c, j));
		m->ref.nums[f].missing += c->missing + c->nonfinite;
		return;
	}
	for (size_t j = 0; j < c->cats.n; j++) {
		const struct sl_drift_cat_item *it = &c->cats.items[j];
		sl_drift_cats_add(&m->ref.finish, c->cats.pool + it->off, it->len, it->count);
	}
	m->ref.finish.missing += c->missing;
}

int sl_monitor_reference_set(struct sl_monitor *m, const struct sl_drift_table *t)
{
	for (size_t i = 0; i < t->ncols; i++)
		if (sl_monitor_column_index(t->cols[i].name) < 0 ||
		    t->cols[i].kind != (sl_monitor_column_index(t->cols[i].name) < SL_F_COUNT ? SL_DRIFT_NUM : SL_DRIFT_CAT))
			return SL_EINVAL;
	side_reset(&m->ref, m->o.seed);
	for (size_t i = 0; i < t->ncols; i++)
		ref_column(m, &t->cols[i]);
	m->ref.n = m->o.reference_size; /* full: no live request joins it */
	side_reset(&m->cur, m->o.seed + 1000 + m->windows);
	m->uploaded = true;
	return 0;
}

void sl_monitor_reference_reset(struct sl_monitor *m)
{
	side_reset(&m->ref, m->o.seed);
	side_reset(&m->cur, m->o.seed + 1000 + m->windows);
	m->uploaded = false;
}

bool sl_monitor_reference_uploaded(const struct sl_monitor *m)
{
	return m->uploaded;
}

bool sl_monitor_signal(struct sl_monitor *m, enum sl_signal s, double x)
{
	struct sl_detector_state st;
	if (s == SL_SIGNAL_ERROR && isfinite(x)) {
		struct side *side = m->ref.n < m->o.reference_size ? &m->ref : &m->cur;
		side->errors += x != 0, side->signalled++;
	}
	if ((unsigned)s >= SL_SIGNAL_COUNT || sl_detector_update(m->det[s], x, &st) != 0 || !st.drift)
		return false;
	m->alarms[s]++;
	return true;
}

void sl_monitor_progress(const struct sl_monitor *m, size_t *reference, size_t *current)
{
	*reference = m->ref.n;
	*current = m->cur.n;
}

static int num(struct sl_buf *out, double v)
{
	return isfinite(v) ? sl_buf_printf(out, "%.6g", v) : sl_buf_puts(out, "null");
}

int sl_monitor_report_to_json(const struct sl_monitor_report *r, struct sl_buf *out)
{
	int rc = sl_buf_printf(out, "{\"window\":%llu,\"state\":\"%s\",\"drifted\":%zu,\"tested\":%zu,\"share\":",
			       (unsigned long long)r->window, sl_drift_state_name(r->state), r->verdict.drifted,
			       r->verdict.tested);
	rc = rc ? rc : num(out, r->verdict.share);
	rc = rc ? rc : sl_buf_puts(out, ",\"topic\":{\"distance\":");
	rc = rc ? rc : num(out, r->topic_distance);
	rc = rc ? rc : sl_buf_puts(out, ",\"pvalue\":");
	rc = rc ? rc : num(out, r->topic_pvalue);
	rc = rc ? rc : sl_buf_printf(out, ",\"drift\":%s},\"error_rate\":", r->topic_drift ? "true" : "false");
	rc = rc ? rc : num(out, r->error_rate);
	rc = rc ? rc : sl_buf_puts(out, ",\"reference_error_rate\":");
	rc = rc ? rc : num(out, r->ref_error_rate);
	rc = rc ? rc : sl_buf_puts(out, ",\"reason\":");
	rc = rc ? rc : sl_buf_json_str(out, r->reason, strlen(r->reason));
	rc = rc ? rc : sl_buf_puts(out, ",\"alarms\":{");
	for (int i = 0; !rc && i < SL_SIGNAL_COUNT; i++)
		rc = sl_buf_printf(out, "%s\"%s\":%llu", i ? "," : "", sl_signal_names[i],
				   (unsigned long long)r->alarms[i]);
	rc = rc ? rc : sl_buf_puts(out, "},\"features\":[");
	for (int i = 0, n = 0; !rc && i < SL_MONITOR_COLUMNS; i++) {
		const struct sl_drift_result *x = &r->results[i];
		if (!r->tested[i])
			continue;
		rc = sl_buf_printf(out, "%s{\"name\":\"%s\",\"test\":\"%s\",\"statistic\":", n++ ? "," : "", r->names[i],
				   sl_drift_test_name(x->test));
		rc = rc ? rc : num(out, x->statistic);
		rc = rc ? rc : sl_buf_puts(out, ",\"pvalue\":");
		rc = rc ? rc : num(out, x->pvalue);
		rc = rc ? rc : sl_buf_puts(out, ",\"threshold\":");
		rc = rc ? rc : num(out, x->threshold);
		rc = rc ? rc : sl_buf_printf(out, ",\"drift\":%s}", x->drift ? "true" : "false");
	}
	return rc ? rc : sl_buf_puts(out, "]}");
}
