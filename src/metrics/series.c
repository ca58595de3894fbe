/* series.c: the bounded table of (model, version) series, its hash index, and the bounded
 * sub-label counters inside a series.
 * Invariants: at most SL_METRICS_MAX_SERIES series plus "_other"; the open-addressing index has
 * twice as many slots as entries can ever exist, so a probe always ends on an empty slot;
 * entries are never removed. Keys are sanitized strings, compared exactly. */
#include <stdlib.h>
#include <string.h>

#include "metrics-int.h"

uint64_t sl_series_hash(const char *model, const char *version)
{
	uint64_t h = 0xcbf29ce484222325u; /* FNV-1a 64 */
	for (const unsigned char *p = (const unsigned char *)model; *p; p++)
		h = (h ^ *p) * 0x100000001b3u;
	h = (h ^ 0xff) * 0x100000001b3u; /* 0xff never occurs in UTF-8: separates the two keys */
	for (const unsigned char *p = (const unsigned char *)version; *p; p++)
		h = (h ^ *p) * 0x100000001b3u;
	return h ^ (h >> 29);
}

static int render_labels(struct sl_series *s)
{
	struct sl_buf b;
	sl_buf_init(&b, 0);
	struct sl_mw w = {&b, 0};
	sl_mw_puts(&w, "model=\"");
	sl_mw_label(&w, s->model);
	sl_mw_puts(&w, "\",version=\"");
	sl_mw_label(&w, s->version);
	sl_mw_puts(&w, "\"");
	if (w.rc) {
		sl_buf_release(&b);
		return w.rc;
	}
	s->labels = b.data;
	s->labels_len = b.len;
	return 0;
}

struct sl_series *sl_series_new(const char *model, const char *version, uint64_t hash)
{
	struct sl_series *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	sl_utf8_sanitize(s->model, sizeof(s->model), model);
	sl_utf8_sanitize(s->version, sizeof(s->version), version);
	s->hash = hash;
	if (render_labels(s)) {
		free(s);
		return NULL;
	}
	return s;
}

void sl_series_free(struct sl_series *s)
{
	if (!s)
		return;
	free(s->labels);
	free(s->statuses);
	free(s->reasons);
	free(s);
}

int sl_series_insert(struct sl_metrics *m, struct sl_series *s, uint32_t value)
{
	size_t mask = SL_METRICS_SLOTS - 1;
	for (size_t i = s->hash & mask;; i = (i + 1) & mask)
		if (m->slot[i] == 0) {
			m->slot[i] = value;
			return 0;
		}
}

static struct sl_series *slot_series(const struct sl_metrics *m, uint32_t v)
{
	return v == UINT32_MAX ? m->other : m->series[v - 1];
}

static struct sl_series *find(const struct sl_metrics *m, const char *model, const char *version, uint64_t h)
{
	size_t mask = SL_METRICS_SLOTS - 1;
	for (size_t i = h & mask; m->slot[i]; i = (i + 1) & mask) {
		struct sl_series *s = slot_series(m, m->slot[i]);
		if (s->hash == h && strcmp(s->model, model) == 0 && strcmp(s->version, version) == 0)
			return s;
	}
	return NULL;
}

struct sl_series *sl_metrics_series(struct sl_metrics *m, const char *model, const char *version)
{
	uint64_t h = sl_series_hash(model, version);
	struct sl_series *s = find(m, model, version, h);
	if (s)
		return s;
	if (m->nseries == SL_METRICS_MAX_SERIES)
		return m->other;
	s = sl_series_new(model, version, h);
	if (!s)
		return m->other;
	m->series[m->nseries++] = s;
	sl_series_insert(m, s, (uint32_t)m->nseries);
	return s;
}

/* arr with room for element n (reallocated if needed), or NULL when full or out of memory;
 * the caller keeps the old array on NULL. */
static void *grow(void *arr, size_t *cap, size_t n, size_t elem, size_t bound)
{
	if (n < *cap)
		return arr;
	if (n >= bound)
		return NULL;
	size_t ncap = *cap ? *cap * 2 : 4;
	if (ncap > bound)
		ncap = bound;
	void *p = realloc(arr, ncap * elem);
	if (p)
		*cap = ncap;
	return p;
}

void sl_series_count_status(struct sl_series *s, int status, const char *cls)
{
	for (size_t i = 0; i < s->nstatuses; i++)
		if (s->statuses[i].status == status && strcmp(s->statuses[i].cls, cls) == 0) {
			s->statuses[i].n++;
			return;
		}
	struct sl_mstatus *arr = grow(s->statuses, &s->capstatuses, s->nstatuses, sizeof(*arr), SL_METRICS_MAX_STATUS);
	if (!arr) {
		s->status_other++;
		return;
	}
	s->statuses = arr;
	struct sl_mstatus *e = &arr[s->nstatuses++];
	e->status = status;
	e->n = 1;
	memcpy(e->cls, cls, strlen(cls) + 1);
}

void sl_series_count_reason(struct sl_series *s, const char *reason)
{
	for (size_t i = 0; i < s->nreasons; i++)
		if (strcmp(s->reasons[i].reason, reason) == 0) {
			s->reasons[i].n++;
			return;
		}
	struct sl_mreason *arr = NULL;
	if (strcmp(reason, "other") != 0) /* "other" is the overflow's own label */
		arr = grow(s->reasons, &s->capreasons, s->nreasons, sizeof(*arr), SL_METRICS_MAX_REASONS);
	if (!arr) {
		s->reason_other++;
		return;
	}
	s->reasons = arr;
	struct sl_mreason *e = &arr[s->nreasons++];
	e->n = 1;
	memcpy(e->reason, reason, strlen(reason) + 1);
}
