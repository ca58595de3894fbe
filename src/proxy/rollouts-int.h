/* rollouts-int.h: what rollouts_api.c needs from rollouts.c (private to src/proxy). */
#ifndef SLUICE_ROLLOUTS_INT_H
#define SLUICE_ROLLOUTS_INT_H

#include <stdint.h>

#include "sluice/rollout.h"

/* A rollout as the API shows it, active or from the store. Strings are borrowed. */
struct sl_rt_view {
	int64_t id;
	const char *model, *stable, *candidate;
	const struct sl_rollout *r;
	double created_at, updated_at, ended_at; /* NaN when not set */
	const char *last_judgment;               /* JSON or NULL */
};

int sl_rollouts_render(struct sl_buf *out, const struct sl_rt_view *v);
/* Appends the rollouts (comma separated), newest first. */
int sl_rollouts_each(const char *model, int limit, struct sl_buf *out);
/* Appends one rollout with spec, judgments and events; SL_ENOTFOUND when ref names none. */
int sl_rollouts_detail(const char *ref, struct sl_buf *out);
/* Appends the model's active rollout, or null. */
int sl_rollouts_current(const char *model, struct sl_buf *out);
/* The model's configured rollout section as JSON, or NULL for an unknown model. */
const char *sl_rollouts_model_json(const char *model);
/* Starts a rollout and appends it; SL_ENOTFOUND / SL_ESTATE / SL_EINVAL with err. */
int sl_rollouts_begin(const char *model, const char *stable, const char *candidate, const struct sl_rollout_spec *spec,
		      struct sl_buf *out, char *err, size_t errlen);
/* Applies an operator action and appends the rollout. */
int sl_rollouts_act(const char *ref, enum sl_rollout_action a, struct sl_buf *out, char *err, size_t errlen);

#endif
