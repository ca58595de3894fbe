/* concurrent.c: WAL lets a reader run while a writer commits, and the reader only ever sees whole
 * transactions. A writer thread uses a store opened on the main thread (a store may move between
 * threads); the main thread reads through its own store. Each transaction appends BATCH events
 * and sets the rollout's step_index to the number of transactions so far, so any snapshot must
 * show events == BATCH * step_index. */
#include <pthread.h>
#include <stdatomic.h>

#include "store_test.h"

#define TXNS  400
#define BATCH 10

static void setup(void)
{
	scratch_make("c.db");
}

TestSuite(store_concurrent, .init = setup, .fini = scratch_remove, .timeout = 120);

struct writer {
	struct sl_store *s;
	int64_t id;
	atomic_int done;
	int rc;
};

static int write_batch(struct writer *w, int k)
{
	char d[64];
	int rc = sl_store_begin(w->s);
	for (int j = 0; rc == 0 && j < BATCH; j++) {
		snprintf(d, sizeof(d), "{\"k\":%d,\"j\":%d}", k, j);
		rc = sl_store_event_append(w->s, w->id, k, "step", d);
	}
	if (rc == 0)
		rc = sl_store_rollout_update(w->s, w->id, "canary", "{}", k, 0.5, k, false);
	if (rc == 0)
		return sl_store_commit(w->s);
	sl_store_rollback(w->s);
	return rc;
}

static void *writer_main(void *p)
{
	struct writer *w = p;
	for (int k = 1; k <= TXNS && w->rc == 0; k++)
		w->rc = write_batch(w, k);
	atomic_store(&w->done, 1);
	return NULL;
}

struct snapshot {
	struct sl_store *s;
	size_t events;
	int step;
};

/* Inside the rollout read, the events read shares its snapshot. */
static int read_snapshot(void *ctx, const struct sl_store_rollout *r)
{
	struct snapshot *sn = ctx;
	sn->step = r->step_index;
	sn->events = 0;
	return sl_store_events_list(sn->s, r->id, 0, count_events, &sn->events);
}

Test(store_concurrent, reader_sees_whole_transactions)
{
	struct writer w = {.s = store_open_ok(path)};
	struct sl_store *reader = store_open_ok(path);
	cr_assert_eq(sl_store_rollout_create(w.s, "m", "v1", "v2", "{}", "canary", "{}", 0, &w.id), 0);
	pthread_t t;
	cr_assert_eq(pthread_create(&t, NULL, writer_main, &w), 0);
	size_t reads = 0, distinct = 0, lone_reads = 0;
	int last = -1;
	while (!atomic_load(&w.done)) {
		struct snapshot sn = {reader, 0, 0};
		cr_assert_eq(sl_store_rollout_get(reader, w.id, read_snapshot, &sn), 0, "%s", sl_store_errmsg(reader));
		cr_assert_eq(sn.events, (size_t)BATCH * (size_t)sn.step, "torn snapshot: %zu events at step %d",
		             sn.events, sn.step);
		cr_assert_geq(sn.step, last, "a later read went back in time");
		distinct += sn.step != last;
		last = sn.step;
		reads++;
		size_t alone = 0;
		cr_assert_eq(sl_store_events_list(reader, w.id, 0, count_events, &alone), 0);
		cr_assert_eq(alone % BATCH, 0, "a lone read saw %zu events: half a transaction", alone);
		lone_reads++;
	}
	pthread_join(t, NULL);
	cr_assert_eq(w.rc, 0, "writer: %s", sl_store_errmsg(w.s));
	struct snapshot fin = {reader, 0, 0};
	cr_assert_eq(sl_store_rollout_get(reader, w.id, read_snapshot, &fin), 0);
	cr_expect_eq(fin.step, TXNS);
	cr_expect_eq(fin.events, (size_t)TXNS * BATCH);
	fprintf(stderr,
	        "store concurrent: %zu snapshot reads (%zu distinct states) and %zu lone reads during %d commits\n",
	        reads, distinct, lone_reads, TXNS);
	char err[256];
	cr_expect_eq(sl_store_check(reader, err, sizeof(err)), 0, "%s", err);
	sl_store_close(reader);
	sl_store_close(w.s);
}

/* Deterministic: an open group neither blocks a reader nor shows through to it. */
Test(store_concurrent, open_group_does_not_block_readers)
{
	struct sl_store *wr = store_open_ok(path);
	struct sl_store *rd = store_open_ok(path);
	int64_t id;
	cr_assert_eq(sl_store_rollout_create(wr, "m", "v1", "v2", "{}", "canary", "{}", 0, &id), 0);
	cr_assert_eq(sl_store_begin(wr), 0);
	cr_assert_eq(sl_store_event_append(wr, id, 1, "step", "{}"), 0);
	uint64_t t0 = sl_now_ns();
	size_t n = 0;
	cr_assert_eq(sl_store_events_list(rd, id, 0, count_events, &n), 0);
	cr_expect_eq(n, 0);
	cr_expect_lt(sl_now_ns() - t0, 1000000000ull, "the reader waited for the writer");
	cr_assert_eq(sl_store_commit(wr), 0);
	n = 0;
	cr_assert_eq(sl_store_events_list(rd, id, 0, count_events, &n), 0);
	cr_expect_eq(n, 1);
	sl_store_close(rd);
	sl_store_close(wr);
}

/* A second writer waits for the write lock, then gives up with SL_ETIMEOUT; nothing is lost. */
Test(store_concurrent, second_writer_times_out)
{
	struct sl_store *a = store_open_ok(path);
	struct sl_store *b = store_open_ok(path);
	int64_t id;
	cr_assert_eq(sl_store_rollout_create(a, "m", "v1", "v2", "{}", "canary", "{}", 0, &id), 0);
	cr_assert_eq(sl_store_begin(a), 0);
	uint64_t t0 = sl_now_ns();
	cr_expect_eq(sl_store_event_append(b, id, 1, "step", "{}"), SL_ETIMEOUT);
	cr_expect_geq(sl_now_ns() - t0, 4000000000ull, "gave up before the busy timeout");
	cr_expect(strstr(sl_store_errmsg(b), "locked") != NULL, "%s", sl_store_errmsg(b));
	cr_assert_eq(sl_store_event_append(a, id, 1, "started", "{}"), 0);
	cr_assert_eq(sl_store_commit(a), 0);
	cr_assert_eq(sl_store_event_append(b, id, 2, "step", "{}"), 0);
	size_t n = 0;
	cr_assert_eq(sl_store_events_list(a, id, 0, count_events, &n), 0);
	cr_expect_eq(n, 2);
	sl_store_close(b);
	sl_store_close(a);
}
