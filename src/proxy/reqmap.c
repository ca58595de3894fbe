/* reqmap.c: the request-id -> version table behind /v1/feedback (see reqmap.h). Version names
 * are interned once (at most 4096 pairs) so an entry is 32 bytes (sluice/idmap.h). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proxy/reqmap.h"
#include "sluice/idmap.h"

#define ENTRIES   (1u << 18)
#define MAX_PAIRS 4096

struct value {
	uint32_t pair;
	uint32_t rated;
};

struct pair {
	char model[129], version[129];
	unsigned long up, down, scores;
	double score_sum;
};

static struct {
	struct sl_idmap ids;
	struct pair *pairs;
	unsigned npairs, last;
} M = {.ids = SL_IDMAP_INIT(ENTRIES, sizeof(struct value))};

int sl_reqmap_init(void)
{
	M.pairs = calloc(MAX_PAIRS, sizeof(*M.pairs));
	return M.pairs ? 0 : SL_ENOMEM;
}

void sl_reqmap_free(void)
{
	sl_idmap_free(&M.ids);
	free(M.pairs);
	M.pairs = NULL;
	M.npairs = M.last = 0;
}

static int intern(const char *model, const char *version)
{
	if (M.last < M.npairs && !strcmp(M.pairs[M.last].model, model) && !strcmp(M.pairs[M.last].version, version))
		return (int)M.last;
	for (unsigned i = 0; i < M.npairs; i++)
		if (!strcmp(M.pairs[i].model, model) && !strcmp(M.pairs[i].version, version))
			return (int)(M.last = i);
	if (M.npairs == MAX_PAIRS || strlen(model) > 128 || strlen(version) > 128)
		return -1;
	snprintf(M.pairs[M.npairs].model, 129, "%s", model);
	snprintf(M.pairs[M.npairs].version, 129, "%s", version);
	return (int)(M.last = M.npairs++);
}

void sl_reqmap_put(const char *id, const char *model, const char *version)
{
	uint64_t hi, lo;
	int p = M.pairs && model && version ? intern(model, version) : -1;
	struct value *v;
	if (p < 0 || !sl_idmap_id(sl_slice_cstr(id), &hi, &lo) || !(v = sl_idmap_put(&M.ids, hi, lo)))
		return;
	*v = (struct value){(uint32_t)p, 0};
}

/* The entry for id and its names, or NULL when unknown or forgotten. */
static struct value *find(struct sl_slice id, const char **model, const char **version)
{
	uint64_t hi, lo;
	struct value *v = sl_idmap_id(id, &hi, &lo) ? sl_idmap_get(&M.ids, hi, lo) : NULL;
	if (v) {
		*model = M.pairs[v->pair].model;
		*version = M.pairs[v->pair].version;
	}
	return v;
}

int sl_reqmap_take(struct sl_slice id, const char **model, const char **version)
{
	const char *m, *ver;
	struct value *v = find(id, &m, &ver);
	if (!v)
		return SL_ENOTFOUND;
	if (v->rated)
		return SL_ESTATE;
	v->rated = 1;
	*model = m;
	*version = ver;
	return 0;
}

int sl_reqmap_peek(struct sl_slice id, const char **model, const char **version)
{
	return find(id, model, version) ? 0 : SL_ENOTFOUND;
}

void sl_reqmap_count(const char *model, const char *version, int label, double score)
{
	int p = M.pairs ? intern(model, version) : -1;
	if (p < 0)
		return;
	struct pair *x = &M.pairs[p];
	if (label == 0)
		x->up++;
	else if (label == 1)
		x->down++;
	if (!isnan(score)) {
		x->scores++;
		x->score_sum += score;
	}
}

static int labels(struct sl_buf *out, const struct pair *x)
{
	int rc = sl_buf_puts(out, "{model=\"");
	rc = rc ? rc : sl_buf_prom_label(out, x->model, strlen(x->model));
	rc = rc ? rc : sl_buf_puts(out, "\",version=\"");
	rc = rc ? rc : sl_buf_prom_label(out, x->version, strlen(x->version));
	return rc ? rc : sl_buf_puts(out, "\"");
}

int sl_reqmap_metrics(struct sl_buf *out)
{
	int rc = sl_buf_puts(out, "# HELP sluice_feedback_total Feedback labels posted to /v1/feedback.\n"
	                          "# TYPE sluice_feedback_total counter\n");
	for (unsigned i = 0; !rc && i < M.npairs; i++)
		for (int l = 0; !rc && l < 2; l++) {
			rc = sl_buf_puts(out, "sluice_feedback_total");
			rc = rc ? rc : labels(out, &M.pairs[i]);
			rc = rc ? rc
			        : sl_buf_printf(out, ",label=\"%s\"} %lu\n", l ? "thumbs_down" : "thumbs_up",
			                        l ? M.pairs[i].down : M.pairs[i].up);
		}
	rc = rc ? rc
	        : sl_buf_puts(out, "# HELP sluice_feedback_scores_total Scores posted to /v1/feedback.\n"
	                           "# TYPE sluice_feedback_scores_total counter\n");
	for (unsigned i = 0; !rc && i < M.npairs; i++) {
		rc = sl_buf_puts(out, "sluice_feedback_scores_total");
		rc = rc ? rc : labels(out, &M.pairs[i]);
		rc = rc ? rc : sl_buf_printf(out, "} %lu\n", M.pairs[i].scores);
	}
	rc = rc ? rc
	        : sl_buf_puts(out, "# HELP sluice_feedback_score_mean Mean of the scores posted to /v1/feedback.\n"
	                           "# TYPE sluice_feedback_score_mean gauge\n");
	for (unsigned i = 0; !rc && i < M.npairs; i++) {
		if (!M.pairs[i].scores)
			continue;
		rc = sl_buf_puts(out, "sluice_feedback_score_mean");
		rc = rc ? rc : labels(out, &M.pairs[i]);
		rc = rc ? rc : sl_buf_printf(out, "} %.17g\n", M.pairs[i].score_sum / (double)M.pairs[i].scores);
	}
	return rc;
}
