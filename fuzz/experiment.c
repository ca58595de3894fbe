/* experiment.c: libFuzzer target for the experiment parsers (include/sluice/experiment.h): the
 * spec JSON of `experiments:` (sl_experiments_from_json) and the body of POST /v1/events
 * (sl_exp_event_parse), both on every input.
 * Invariants checked (abort() on a violation, so libFuzzer reports it as a crash):
 *   - a refused spec or event returns a negative SL_E* code with a non-empty, terminated err;
 *   - every accepted experiment written back by sl_experiment_spec_json parses again, and the
 *     second writing is byte-identical to the first (the header's "reads back to an equal
 *     experiment");
 *   - an accepted experiment assigns a unit to a variant in range, and a tiny aggregator over it
 *     (one exposure, one event per event source, the report and its JSON) never fails;
 *   - an accepted event has a non-empty name, a finite value, at least one id, and terminated
 *     strings within their caps.
 * The event parser gets an exact-size copy (no NUL), so ASan sees any read past len. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sluice/experiment.h"

static void check_err(int rc, const char *err, size_t cap)
{
	if (rc >= 0 || memchr(err, '\0', cap) == NULL || err[0] == '\0')
		abort();
}

/* {"experiments":[<one experiment's spec JSON>]} */
static int wrap_one(const struct sl_experiment *e, struct sl_buf *one, struct sl_buf *doc)
{
	sl_buf_reset(one);
	sl_buf_reset(doc);
	if (sl_experiment_spec_json(e, one) != 0)
		return -1;
	if (sl_buf_puts(doc, "{\"experiments\":[") || sl_buf_append(doc, one->data, one->len) ||
	    sl_buf_puts(doc, "]}") || sl_buf_append(doc, "", 1))
		return -1;
	return 0;
}

static void round_trip(const struct sl_experiment *e)
{
	struct sl_buf one, doc, again;
	struct sl_experiment_set *s2 = NULL;
	char err[256];
	sl_buf_init(&one, 0);
	sl_buf_init(&doc, 0);
	sl_buf_init(&again, 0);
	if (wrap_one(e, &one, &doc) != 0)
		abort();
	if (sl_experiments_from_json(doc.data, &s2, err, sizeof(err)) != 0 || s2->n != 1)
		abort(); /* what was accepted and written must read back */
	if (sl_experiment_spec_json(&s2->exps[0], &again) != 0)
		abort();
	if (again.len != one.len || memcmp(again.data, one.data, one.len) != 0)
		abort(); /* the written spec is not a fixed point */
	sl_experiment_set_free(s2);
	sl_buf_release(&one);
	sl_buf_release(&doc);
	sl_buf_release(&again);
}

/* One unit through assignment, a request, every event source, the report and its JSON. */
static void exercise(const struct sl_experiment_set *s)
{
	static const struct sl_exp_request_obs obs = {.latency_ms = 120, .ttft_ms = 30, .input_tokens = 10,
	                                              .output_tokens = 5, .cost = 0.001};
	const struct sl_experiment *e = &s->exps[0];
	struct sl_slice unit = SL_SLICE_LIT("fuzz-unit");
	struct sl_exp_agg *agg = sl_experiment_agg_new(s);
	struct sl_exp_report rep;
	struct sl_buf json;
	int v = -1;
	double now = isfinite(e->start) ? e->start + 1 : 1.7e9;
	if (!agg)
		return; /* out of memory is allowed */
	if (sl_experiment_assign(e, unit, now, &v) && (v < 0 || (unsigned)v >= e->nvariants))
		abort();
	if (v >= 0 && sl_experiment_agg_request(agg, 0, v, unit, &obs, now) != 0)
		abort();
	for (unsigned m = 0; m < e->nmetrics; m++)
		if (e->metrics[m].source.is_event)
			sl_experiment_agg_event(agg, 0, unit, sl_slice_cstr(e->metrics[m].source.event), 2, now);
	if (sl_experiment_report(agg, 0, now, &rep) != 0 || rep.nvariants != e->nvariants)
		abort();
	sl_buf_init(&json, 0);
	if (sl_experiment_analyze(agg, 0, now, &json) != 0)
		abort();
	sl_buf_release(&json);
	sl_experiment_agg_free(agg);
}

static void fuzz_spec(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1), err[256];
	struct sl_experiment_set *s = NULL;
	if (!text)
		return;
	memcpy(text, data, size);
	text[size] = '\0';
	int rc = sl_experiments_from_json(text, &s, err, sizeof(err));
	free(text);
	if (rc != 0) {
		check_err(rc, err, sizeof(err));
		return;
	}
	if (!s || s->n > SL_EXP_MAX_EXPERIMENTS)
		abort();
	for (unsigned i = 0; i < s->n; i++)
		round_trip(&s->exps[i]);
	if (s->n)
		exercise(s);
	sl_experiment_set_free(s);
}

static bool terminated(const char *p, size_t cap)
{
	return memchr(p, '\0', cap) != NULL;
}

static void fuzz_event(const uint8_t *data, size_t size)
{
	char *copy = malloc(size ? size : 1), err[256];
	struct sl_exp_event ev;
	if (!copy)
		return;
	memcpy(copy, data, size);
	int rc = sl_exp_event_parse(copy, size, &ev, err, sizeof(err));
	free(copy);
	if (rc != 0) {
		check_err(rc, err, sizeof(err));
		return;
	}
	if (!terminated(ev.name, sizeof(ev.name)) || !ev.name[0] || !isfinite(ev.value) || fabs(ev.value) > 1e15 ||
	    !terminated(ev.request_id, sizeof(ev.request_id)) || !terminated(ev.user, sizeof(ev.user)) ||
	    !terminated(ev.session, sizeof(ev.session)) || !(ev.request_id[0] || ev.user[0] || ev.session[0]) ||
	    (!ev.has_value && ev.value != 1))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_spec(data, size);
	fuzz_event(data, size);
	return 0;
}
