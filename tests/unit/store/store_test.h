/* store_test.h: helpers shared by the store unit tests: a scratch directory under /tmp removed
 * afterwards (with a store opened in it, for most files), and callbacks that copy borrowed rows
 * into owned ones. */
#ifndef SLUICE_TEST_STORE_H
#define SLUICE_TEST_STORE_H

#include <criterion/criterion.h>
#include <ftw.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sluice/store.h"

static inline int rm_entry(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(p);
}

/* Every test runs in a scratch directory of its own, dir (/tmp/sluice-store-XXXXXX), with
 * path = dir/<file>; scratch_remove, its .fini, removes the directory. */
static char dir[64], path[256];

static inline void scratch_make(const char *file)
{
	snprintf(dir, sizeof(dir), "/tmp/sluice-store-XXXXXX");
	cr_assert_not_null(mkdtemp(dir), "mkdtemp failed");
	snprintf(path, sizeof(path), "%s/%s", dir, file);
}

static inline void scratch_remove(void)
{
	if (dir[0])
		nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static inline struct sl_store *store_open_ok(const char *file)
{
	char err[512] = "";
	struct sl_store *s = NULL;
	int rc = sl_store_open(file, &s, err, sizeof(err));
	cr_assert_eq(rc, 0, "open %s: %s (%s)", file, err, sl_errname(rc));
	cr_assert_not_null(s);
	return s;
}

static inline char *dup_n(const char *p, size_t n)
{
	if (!p)
		return NULL;
	char *d = malloc(n + 1);
	cr_assert_not_null(d);
	memcpy(d, p, n);
	d[n] = '\0';
	return d;
}

static inline char *dup_s(const char *p)
{
	return p ? dup_n(p, strlen(p)) : NULL;
}

/* Owned copies of rows, up to 64 of each kind. */
#define ROWS_MAX 64
struct rows {
	size_t n;
	struct sl_store_rollout ro[ROWS_MAX];
	struct sl_store_event ev[ROWS_MAX];
	struct sl_store_judgment ju[ROWS_MAX];
	struct sl_store_override ov[ROWS_MAX];
	struct sl_store_feedback fb[ROWS_MAX];
};

static inline int collect_rollout(void *ctx, const struct sl_store_rollout *row)
{
	struct rows *w = ctx;
	cr_assert_lt(w->n, ROWS_MAX);
	struct sl_store_rollout *r = &w->ro[w->n++];
	*r = *row;
	r->model = dup_s(row->model);
	r->stable = dup_s(row->stable);
	r->candidate = dup_s(row->candidate);
	r->spec_json = dup_n(row->spec_json, row->spec_json_len);
	r->state = dup_s(row->state);
	r->state_json = dup_n(row->state_json, row->state_json_len);
	return 0;
}

static inline int collect_event(void *ctx, const struct sl_store_event *row)
{
	struct rows *w = ctx;
	cr_assert_lt(w->n, ROWS_MAX);
	struct sl_store_event *e = &w->ev[w->n++];
	*e = *row;
	e->kind = dup_s(row->kind);
	e->detail_json = dup_n(row->detail_json, row->detail_json_len);
	return 0;
}

static inline int collect_judgment(void *ctx, const struct sl_store_judgment *row)
{
	struct rows *w = ctx;
	cr_assert_lt(w->n, ROWS_MAX);
	struct sl_store_judgment *j = &w->ju[w->n++];
	*j = *row;
	j->outcome = dup_s(row->outcome);
	j->detail_json = dup_n(row->detail_json, row->detail_json_len);
	return 0;
}

static inline int collect_override(void *ctx, const struct sl_store_override *row)
{
	struct rows *w = ctx;
	cr_assert_lt(w->n, ROWS_MAX);
	struct sl_store_override *o = &w->ov[w->n++];
	*o = *row;
	o->model = dup_s(row->model);
	o->stable = dup_s(row->stable);
	o->candidate = dup_s(row->candidate);
	return 0;
}

static inline int collect_feedback(void *ctx, const struct sl_store_feedback *row)
{
	struct rows *w = ctx;
	cr_assert_lt(w->n, ROWS_MAX);
	struct sl_store_feedback *f = &w->fb[w->n++];
	*f = *row;
	f->request_id = dup_s(row->request_id);
	f->model = dup_s(row->model);
	f->version = dup_s(row->version);
	f->label = dup_s(row->label);
	f->metric = dup_s(row->metric);
	return 0;
}

/* Frees every copied string and empties w. */
static inline void rows_reset(struct rows *w)
{
	for (size_t i = 0; i < ROWS_MAX; i++) {
		free((char *)w->ro[i].model), free((char *)w->ro[i].stable), free((char *)w->ro[i].candidate);
		free((char *)w->ro[i].spec_json), free((char *)w->ro[i].state), free((char *)w->ro[i].state_json);
		free((char *)w->ev[i].kind), free((char *)w->ev[i].detail_json);
		free((char *)w->ju[i].outcome), free((char *)w->ju[i].detail_json);
		free((char *)w->ov[i].model), free((char *)w->ov[i].stable), free((char *)w->ov[i].candidate);
		free((char *)w->fb[i].request_id), free((char *)w->fb[i].model), free((char *)w->fb[i].version);
		free((char *)w->fb[i].label), free((char *)w->fb[i].metric);
	}
	memset(w, 0, sizeof(*w));
}

/* For tests on one open store: the scratch directory and a store opened on path in it. */
static inline struct sl_store *scratch_store(const char *file)
{
	scratch_make(file);
	return store_open_ok(path);
}

/* Undoes scratch_store after a test: frees w's rows, closes s, removes the directory. */
static inline void scratch_store_close(struct sl_store *s, struct rows *w)
{
	rows_reset(w);
	sl_store_close(s);
	scratch_remove();
}

/* Callbacks that count rows into a size_t. */
static inline int count_rollouts(void *ctx, const struct sl_store_rollout *row)
{
	(void)row;
	++*(size_t *)ctx;
	return 0;
}

static inline int count_events(void *ctx, const struct sl_store_event *row)
{
	(void)row;
	++*(size_t *)ctx;
	return 0;
}

static inline int count_judgments(void *ctx, const struct sl_store_judgment *row)
{
	(void)row;
	++*(size_t *)ctx;
	return 0;
}

#endif
