/* crash.c: kill -9 at random moments loses nothing committed and never corrupts.
 * Each round forks a child that writes rollouts, events and judgments as fast as it can, half in
 * groups (one transaction per rollout) and half as single writes, and after every commit reports
 * through a pipe how far that rollout has durably got ("progress"). The parent SIGKILLs it at a
 * random moment, reopens the database (replaying the WAL the dead child left), and checks:
 * integrity_check and foreign_key_check pass; every reported commit is there; at most one
 * commit more than reported is there (the one between COMMIT and the report); no group is half
 * there. Rounds reuse one database, so each also recovers from the previous crash.
 * SLUICE_CRASH_SEED=N repeats a run. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>

#include "store_test.h"

#define ROUNDS       16
#define MAX_DELAY_US 250000
#define GROUP_EVENTS 3
#define SINGLE_STEPS 6 /* create, 3 events, 1 judgment, end */
#define PAD_MAX      16384

struct record {
	int64_t id;
	int32_t progress;
};

static void setup(void)
{
	scratch_make("crash.db");
}

TestSuite(store_crash, .init = setup, .fini = scratch_remove, .timeout = 240);

/* ---- the child -------------------------------------------------------------------------- */

static struct sl_rng crng;
static char detail[PAD_MAX + 64];

static void child_report(int fd, int64_t id, int progress)
{
	struct record r = {id, progress};
	if (write(fd, &r, sizeof(r)) != (ssize_t)sizeof(r))
		_exit(4);
}

/* A JSON detail of random size, up to PAD_MAX, so some commits span many pages and checkpoints
 * happen mid-run. */
static const char *child_detail(int i)
{
	size_t pad = (sl_rng_next(&crng) % 8 == 0) ? sl_rng_next(&crng) % PAD_MAX : sl_rng_next(&crng) % 64;
	int n = snprintf(detail, sizeof(detail), "{\"i\":%d,\"pad\":\"", i);
	memset(detail + n, 'x', pad);
	memcpy(detail + n + pad, "\"}", 3);
	return detail;
}

static void child_check(int rc)
{
	if (rc != 0)
		_exit(3);
}

/* One rollout in one transaction: progress goes 0 -> 1. */
static void child_group(struct sl_store *s, int fd, const char *model)
{
	int64_t id;
	child_check(sl_store_begin(s));
	child_check(sl_store_rollout_create(s, model, "v1", "v2", "{\"g\":1}", "canary", "{}", 1, &id));
	for (int e = 0; e < GROUP_EVENTS; e++)
		child_check(sl_store_event_append(s, id, 2, "step", child_detail(e)));
	child_check(sl_store_judgment_append(s, id, 3, 1, 1, "pass", 0.5, child_detail(9)));
	child_check(sl_store_rollout_update(s, id, "promoted", "{}", 4, 1, 4, true));
	child_check(sl_store_commit(s));
	child_report(fd, id, 1);
}

/* One rollout in SINGLE_STEPS transactions: progress goes 0 -> 1 -> ... -> 6. */
static void child_single(struct sl_store *s, int fd, const char *model)
{
	int64_t id;
	child_check(sl_store_rollout_create(s, model, "v1", "v2", "{\"g\":0}", "canary", "{}", 1, &id));
	child_report(fd, id, 1);
	for (int e = 0; e < GROUP_EVENTS; e++) {
		child_check(sl_store_event_append(s, id, 2, "step", child_detail(e)));
		child_report(fd, id, 2 + e);
	}
	child_check(sl_store_judgment_append(s, id, 3, 1, 1, "pass", NAN, NULL));
	child_report(fd, id, 5);
	child_check(sl_store_rollout_update(s, id, "promoted", "{}", 4, 1, 4, true));
	child_report(fd, id, 6);
}

static void child_main(int fd, int round, uint64_t seed)
{
	char err[512], model[64];
	struct sl_store *s;
	sl_rng_seed(&crng, seed);
	if (sl_store_open(path, &s, err, sizeof(err)) != 0)
		_exit(2);
	for (int i = 0;; i++) {
		snprintf(model, sizeof(model), "%c-%d-%d", i % 2 ? 's' : 'g', round, i);
		if (i % 2)
			child_single(s, fd, model);
		else
			child_group(s, fd, model);
	}
}

/* ---- the parent ------------------------------------------------------------------------- */

/* progress per rollout id, as reported and then as confirmed on disk */
static int32_t *known;
static size_t known_cap;

static void known_raise(int64_t id, int32_t p)
{
	cr_assert_gt(id, 0);
	if ((size_t)id >= known_cap) {
		size_t cap = known_cap ? known_cap : 1024;
		while (cap <= (size_t)id)
			cap *= 2;
		known = realloc(known, cap * sizeof(*known));
		cr_assert_not_null(known);
		memset(known + known_cap, 0, (cap - known_cap) * sizeof(*known));
		known_cap = cap;
	}
	if (p > known[id])
		known[id] = p;
}

static uint64_t now_us(void)
{
	return sl_now_ns() / 1000;
}

/* Reads whole records from fd into known[]; partial records are kept in buf. */
static size_t drain(int fd, char *buf, size_t *have)
{
	size_t got = 0;
	ssize_t n = read(fd, buf + *have, 4096 - *have);
	if (n <= 0)
		return n == 0 || errno != EINTR ? (size_t)-1 : 0;
	*have += (size_t)n;
	size_t i = 0;
	for (; i + sizeof(struct record) <= *have; i += sizeof(struct record), got++) {
		struct record r;
		memcpy(&r, buf + i, sizeof(r));
		known_raise(r.id, r.progress);
	}
	memmove(buf, buf + i, *have - i);
	*have -= i;
	return got;
}

/* Runs one child, kills it after delay_us, and returns the commits it reported. */
static size_t run_round(int round, uint64_t seed, uint64_t delay_us)
{
	int fds[2];
	cr_assert_eq(pipe(fds), 0);
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		close(fds[0]);
		child_main(fds[1], round, seed);
	}
	close(fds[1]);
	char buf[4096];
	size_t have = 0, reported = 0, got = 0;
	uint64_t deadline = now_us() + delay_us;
	for (uint64_t t; (t = now_us()) < deadline;) {
		struct pollfd p = {fds[0], POLLIN, 0};
		int ms = (int)((deadline - t + 999) / 1000);
		if (poll(&p, 1, ms) > 0 && (got = drain(fds[0], buf, &have)) != (size_t)-1)
			reported += got;
		if (got == (size_t)-1)
			break; /* the child closed the pipe: it died on its own */
	}
	kill(pid, SIGKILL);
	int status = 0;
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	while ((got = drain(fds[0], buf, &have)) != (size_t)-1)
		reported += got;
	close(fds[0]);
	cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
	          "round %d: the child ended on its own (status %d, seed %llu)", round, status,
	          (unsigned long long)seed);
	return reported;
}

struct probe {
	struct sl_store *s;
	int32_t progress;
	bool group_ok;
};

/* Progress of one rollout as it is on disk, from nested reads in one snapshot. */
static int probe_rollout(void *ctx, const struct sl_store_rollout *r)
{
	struct probe *p = ctx;
	size_t ev = 0, ju = 0;
	cr_assert_eq(sl_store_events_list(p->s, r->id, 0, count_events, &ev), 0);
	cr_assert_eq(sl_store_judgments_list(p->s, r->id, 0, count_judgments, &ju), 0);
	if (r->model[0] == 'g') {
		p->group_ok = ev == GROUP_EVENTS && ju == 1 && r->ended && r->step_index == 4;
		p->progress = 1;
	} else {
		p->group_ok = true;
		p->progress = 1 + (int32_t)ev + (int32_t)ju + (r->ended ? 1 : 0);
	}
	return 0;
}

static int newest_id(void *ctx, const struct sl_store_rollout *r)
{
	*(int64_t *)ctx = r->id;
	return 0;
}

/* Checks the database against known[] and confirms what is on disk; returns the commits found
 * beyond those reported. */
static int32_t verify(int round, uint64_t seed)
{
	char err[512] = "";
	struct sl_store *s = store_open_ok(path);
	cr_assert_eq(sl_store_check(s, err, sizeof(err)), 0, "round %d (seed %llu): %s", round,
	             (unsigned long long)seed, err);
	int64_t max = 0;
	cr_assert_eq(sl_store_rollouts_list(s, NULL, 1, newest_id, &max), 0);
	if (max > 0)
		known_raise(max, 0);
	int32_t extra = 0;
	for (int64_t id = 1; (size_t)id < known_cap; id++) {
		struct probe p = {s, 0, true};
		int rc = sl_store_rollout_get(s, id, probe_rollout, &p);
		cr_assert(rc == 0 || rc == SL_ENOTFOUND, "%s", sl_store_errmsg(s));
		cr_assert(p.group_ok, "round %d (seed %llu): group rollout %lld is half there", round,
		          (unsigned long long)seed, (long long)id);
		cr_assert_geq(p.progress, known[id],
		              "round %d (seed %llu): rollout %lld lost commits: %d on disk, %d reported", round,
		              (unsigned long long)seed, (long long)id, p.progress, known[id]);
		extra += p.progress - known[id];
		known[id] = p.progress;
	}
	sl_store_close(s);
	cr_assert_leq(extra, 1, "round %d (seed %llu): %d unreported commits", round, (unsigned long long)seed, extra);
	return extra;
}

static uint64_t pick_seed(void)
{
	const char *env = getenv("SLUICE_CRASH_SEED");
	uint64_t seed;
	if (env && sl_parse_u64(env, UINT64_MAX, &seed) == 0)
		return seed;
	return sl_now_ns() ^ ((uint64_t)getpid() << 32);
}

Test(store_crash, kill9_loses_nothing_committed)
{
	uint64_t seed = pick_seed();
	struct sl_rng rng;
	sl_rng_seed(&rng, seed);
	size_t reported = 0, with_wal = 0;
	int32_t extra = 0;
	uint64_t min_delay = UINT64_MAX, max_delay = 0;
	for (int round = 0; round < ROUNDS; round++) {
		/* round 0 dies while creating the schema or soon after */
		uint64_t delay = round == 0 ? sl_rng_next(&rng) % 3000 : sl_rng_next(&rng) % MAX_DELAY_US;
		min_delay = delay < min_delay ? delay : min_delay;
		max_delay = delay > max_delay ? delay : max_delay;
		reported += run_round(round, sl_rng_next(&rng), delay);
		char wal[300];
		snprintf(wal, sizeof(wal), "%s-wal", path);
		with_wal += access(wal, F_OK) == 0;
		extra += verify(round, seed);
	}
	size_t rollouts = 0;
	for (size_t id = 1; id < known_cap; id++)
		rollouts += known[id] > 0;
	free(known);
	cr_expect_gt(reported, 0, "the children never committed anything");
	fprintf(stderr,
	        "store crash: seed %llu, %d kill -9 rounds (after %.1f..%.1f ms), %zu commits reported, all found; "
	        "%d more committed than reported; %zu rollouts on disk; WAL left by %zu kills; integrity ok\n",
	        (unsigned long long)seed, ROUNDS, min_delay / 1000.0, max_delay / 1000.0, reported, extra, rollouts,
	        with_wal);
}
