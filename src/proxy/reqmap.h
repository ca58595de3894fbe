/* reqmap.h: which model version answered a recent request, so that feedback posted later with
 * the request id can be joined to it. Bounded: 2^18 entries in 8-way sets (8 MiB, sluice/idmap.h);
 * a request is forgotten only when eight later ones land in its set (after about 260,000 requests
 * on average, never after a few hundred). Loop thread only. Also counts the feedback per version for /metrics. */
#ifndef SLUICE_REQMAP_H
#define SLUICE_REQMAP_H

#include "sluice/core.h"

int sl_reqmap_init(void);
void sl_reqmap_free(void);
/* Remembers id (32 hex characters) -> (model, version). */
void sl_reqmap_put(const char *id, const char *model, const char *version);
/* Finds id; SL_ENOTFOUND when unknown or forgotten, SL_ESTATE when feedback was already taken.
 * On success marks it rated and points model/version at names valid for the process's life. */
int sl_reqmap_take(struct sl_slice id, const char **model, const char **version);
/* Finds id like sl_reqmap_take but leaves it untouched (for joins that may come many times:
 * business events, recommendation slates). SL_ENOTFOUND when unknown or forgotten. */
int sl_reqmap_peek(struct sl_slice id, const char **model, const char **version);
/* Counts one feedback for /metrics: label 1 thumbs_down, 0 thumbs_up, -1 none; score NaN if none. */
void sl_reqmap_count(const char *model, const char *version, int label, double score);
int sl_reqmap_metrics(struct sl_buf *out);

#endif
