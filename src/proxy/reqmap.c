/* reqmap.c: the request-id -> version table behind /v1/feedback (see reqmap.h). Version names
 * are interned once (at most 4096 pairs) so an entry is 24 bytes. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proxy/reqmap.h"

#define SLOTS (1u << 18)
#define MAX_PAIRS 4096

struct entry {
	uint64_t hi, lo; /* the id's 128 bits; 0/0 = empty */
	uint32_t pair;
	uint32_t rated;
};

struct pair {
	char model[129], version[129];
	unsigned long up, down, scores;
	double score_sum;
};

static struct {
	struct entry *slots;
	struct pair *pairs;
	unsigned npairs, last;
} M;

int sl_reqmap_init(void)
{
	M.slots = calloc(SLOTS, sizeof(*M.slots));
	M.pairs = calloc(MAX_PAIRS, sizeof(*M.pairs));
	return M.slots && M.pairs ? 0 : SL_ENOMEM;
}

void sl_reqmap_free(void)
{
	free(M.slots);
	free(M.pairs);
	memset(&M, 0, sizeof(M));
}

static bool parse_id(const char *p, size_t n, uint64_t *hi, uint64_t *lo)
{
	if (n != 32)
		return false;
	*hi = *lo = 0;
	for (size_t i = 0; i < 32; i++) {
		int c = (unsigned char)p[i], v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
		if (v < 0)
			return false;
		uint64_t *w = i < 16 ? hi : lo;
		*w = (*w << 4) | (uint64_t)v;
	}
	return *hi || *lo;
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

static struct entry *slot_of(uint64_t hi, uint64_t lo)
{
	return &M.slots[(hi ^ (lo * 0x9e3779b97f4a7c15u)) & (SLOTS - 1)];
}

void sl_reqmap_put(const char *id, const char *model, const char *version)
{
	uint64_t hi, lo;
	int p = M.slots && model && version ? intern(model, version) : -1;
	if (p < 0 || !parse_id(id, strlen(id), &hi, &lo))
		return;
	*slot_of(hi, lo) = (struct entry){hi, lo, (uint32_t)p, 0};
}

int sl_reqmap_take(struct sl_slice id, const char **model, const char **version)
{
	uint64_t hi, lo;
	if (!M.slots || !parse_id(id.ptr, id.len, &hi, &lo))
		return SL_ENOTFOUND;
	struct entry *e = slot_of(hi, lo);
	if (e->hi != hi || e->lo != lo)
		return SL_ENOTFOUND;
	if (e->rated)
		return SL_ESTATE;
	e->rated = 1;
	*model = M.pairs[e->pair].model;
	*version = M.pairs[e->pair].version;
	return 0;
}

int sl_reqmap_peek(struct sl_slice id, const char **model, const char **version)
{
	uint64_t hi, lo;
	if (!M.slots || !parse_id(id.ptr, id.len, &hi, &lo))
		return SL_ENOTFOUND;
	const struct entry *e = slot_of(hi, lo);
	if (e->hi != hi || e->lo != lo)
		return SL_ENOTFOUND;
	*model = M.pairs[e->pair].model;
	*version = M.pairs[e->pair].version;
	return 0;
}

bool sl_reqmap_id(struct sl_slice id, uint64_t *hi, uint64_t *lo)
{
	return id.ptr && parse_id(id.ptr, id.len, hi, lo);
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
	rc = rc ? rc : sl_buf_puts(out, "# HELP sluice_feedback_scores_total Scores posted to /v1/feedback.\n"
					"# TYPE sluice_feedback_scores_total counter\n");
	for (unsigned i = 0; !rc && i < M.npairs; i++) {
		rc = sl_buf_puts(out, "sluice_feedback_scores_total");
		rc = rc ? rc : labels(out, &M.pairs[i]);
		rc = rc ? rc : sl_buf_printf(out, "} %lu\n", M.pairs[i].scores);
	}
	rc = rc ? rc : sl_buf_puts(out, "# HELP sluice_feedback_score_mean Mean of the scores posted to /v1/feedback.\n"
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
