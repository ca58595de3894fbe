/* recs-int.h: the live recommendation monitor's private state, shared by recs_monitor.c,
 * recs_table.c, recs_metrics.c and recs_json.c (not exported).
 * Invariants: every table is allocated once at sl_recs_monitor_new except the per-version
 * window item counts, which grow up to max_window_items; key 0 marks an empty slot (hashes are
 * forced non-zero); a window's counters only grow until the window closes and is reset. */
#ifndef SLUICE_EXPERIMENT_RECS_INT_H
#define SLUICE_EXPERIMENT_RECS_INT_H

#include <stdint.h>

#include "sluice/drift.h"
#include "sluice/recs.h"

#define RECS_WAYS     4                   /* set associativity of the user and slate tables */
#define RECS_HLL_BITS 12                  /* 4096 registers: about 1.6 % error past the exact table */
#define RECS_OTHER    SL_RECS_MAX_SOURCES /* source index for "other" and unnamed */

uint64_t sl__recs_hash(const char *s, size_t n);

/* A set-associative table of tags: a key lives in one set of RECS_WAYS slots; a new key takes
 * an empty slot or the least recently used one of its set. Payloads live in parallel arrays. */
struct recs_tag {
	uint64_t key, used;
};
struct recs_assoc {
	size_t sets;
	uint64_t clock;
	struct recs_tag *tag; /* sets * RECS_WAYS */
};
int sl__recs_assoc_init(struct recs_assoc *a, size_t cap);
void sl__recs_assoc_release(struct recs_assoc *a);
/* Slot of key, or -1. Touches nothing. */
long sl__recs_assoc_find(const struct recs_assoc *a, uint64_t key);
/* Slot of key, marked used now; when absent, the slot claimed for it (*evicted says whether a
 * live key was pushed out). */
size_t sl__recs_assoc_claim(struct recs_assoc *a, uint64_t key, bool *fresh, bool *evicted);
void sl__recs_assoc_touch(struct recs_assoc *a, size_t slot);

/* Exact counts for at most cap keys (open addressing on 64-bit hashes, load <= 1/2). */
struct recs_counts {
	size_t cap, n, nslots;
	uint64_t *keys, *counts; /* nslots each */
};
int sl__recs_counts_init(struct recs_counts *c, size_t cap, size_t initial);
void sl__recs_counts_release(struct recs_counts *c);
void sl__recs_counts_reset(struct recs_counts *c);
/* Adds to key's count; 0, SL_ERANGE when the table is full and key absent, or SL_ENOMEM. */
int sl__recs_counts_add(struct recs_counts *c, uint64_t key, uint64_t add, uint64_t *now);
uint64_t sl__recs_counts_get(const struct recs_counts *c, uint64_t key);

/* HyperLogLog (Flajolet et al. 2007) with the small-range correction. */
struct recs_hll {
	uint8_t reg[1u << RECS_HLL_BITS];
};
void sl__recs_hll_add(struct recs_hll *h, uint64_t hash);
double sl__recs_hll_estimate(const struct recs_hll *h);

struct recs_cell {
	uint64_t shown, clicked, watches;
	double watch_s;
};

/* One window's accumulators. */
struct recs_win {
	bool started;
	double start, end;
	uint64_t slates, shown, ild_n, repeat_slates, repeat_items, kinds[SL_RECS_KIND_COUNT_], clicked, long_watches,
	    untracked;
	double ild_sum, novelty_sum, jaccard_sum, reshown, watch_s;
	size_t max_pos;        /* positions used: pos[0..max_pos) */
	struct recs_cell *pos; /* max_slate */
	struct recs_cell src[SL_RECS_MAX_SOURCES + 1];
};

struct recs_version {
	char name[SL_RECS_MAX_ID + 1];
	struct recs_win cur, last;
	bool has_last;
	uint64_t closed; /* windows closed */
	struct sl_recs_metrics last_m;
	struct recs_counts items; /* the current window's exposures */
};

struct sl_recs_monitor {
	struct sl_recs_opts o;
	double now;
	/* users: last slate per user */
	struct recs_assoc users;
	uint64_t *user_req, *user_items, *user_clicked; /* per slot; items max_slate per slot */
	uint8_t *user_n, *user_ver; /* slate size and version index per slot */
	/* slates waiting for interactions */
	struct recs_assoc slates;
	uint64_t *slate_items, *slate_clicked, *slate_user;
	uint8_t *slate_n, *slate_src, *slate_ver; /* src max_slate per slot */
	/* popularity over all versions */
	struct recs_counts pop;
	struct sl_cms cms; /* items past max_items */
	bool cms_on;
	struct recs_hll hll; /* distinct items past max_items */
	uint64_t exposures;
	/* names */
	char sources[SL_RECS_MAX_SOURCES][SL_RECS_MAX_ID + 1];
	size_t n_sources;
	struct recs_version *ver[SL_RECS_MAX_VERSIONS];
	size_t n_ver;
};

double sl__recs_catalog(const struct sl_recs_monitor *m);
/* Finds or creates a version (SL_ERANGE past SL_RECS_MAX_VERSIONS); *idx its index. */
int sl__recs_version_get(struct sl_recs_monitor *m, const char *name, size_t *idx);
/* Marks the window of v touched at now, closing it first when its time is up. */
void sl__recs_win_enter(struct sl_recs_monitor *m, struct recs_version *v, double now);
/* Closes v's window when it holds window_slates slates. */
void sl__recs_win_check_count(struct sl_recs_monitor *m, struct recs_version *v);
/* Index of a source name, added when new (RECS_OTHER for NULL, empty or past the table). */
size_t sl__recs_source(struct sl_recs_monitor *m, const char *name);
/* A string argument: non-NULL, 1..SL_RECS_MAX_ID bytes; its length in *len. */
bool sl__recs_id_ok(const char *s, size_t *len);
/* Fills out from a window and its exposure table (SL_ENOMEM only). */
int sl__recs_win_metrics(const struct sl_recs_monitor *m, const struct recs_win *w, const struct recs_counts *items,
                         struct sl_recs_metrics *out);
const struct recs_version *sl__recs_version(const struct sl_recs_monitor *m, const char *name);

#endif
