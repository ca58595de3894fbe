/* guard_config.h: the `guard:` section of the configuration, top level and per model. It has
 * three optional parts, each switched on by being present:
 *   input:  prompt-injection scanning of the request (guard.h, sl_guard_input_spec)
 *   output: checks on the answer, streamed or not (guard_output.h, sl_guard_output_spec)
 *   agents: the Rule of Two over tools (agent_policy.h, sl_agent_policy)
 * A model's own `guard:` replaces the top-level parts it names; a part set to `false` there
 * switches that part off for the model. No `guard:` anywhere: nothing is scanned.
 * Pure: no I/O. */
#ifndef SLUICE_GUARD_CONFIG_H
#define SLUICE_GUARD_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "sluice/agent_policy.h"
#include "sluice/guard.h"
#include "sluice/guard_output.h"

struct sl_guard_config {
	bool input_on, output_on, agents_on;
	struct sl_guard_input_spec input;
	struct sl_guard_output_spec output;
	struct sl_agent_policy agents; /* owned; tools only when agents_on */
};

/* Validates one `guard:` section given as JSON (strict: keys input, output, agents; each an
 * object, or false). Errors read "input.threshold: must be a number in [0, 1]". */
int sl_guard_config_check(const char *json, char *err, size_t errlen);
/* The effective guard of a model: top (the top-level section, "{}" when absent) overlaid with
 * model (the model's own, "{}" when absent). On success *out owns memory: release it with
 * sl_guard_config_release. */
int sl_guard_config_resolve(const char *top, const char *model, struct sl_guard_config *out, char *err,
			    size_t errlen);
void sl_guard_config_release(struct sl_guard_config *c);
/* Whether any part is on. */
bool sl_guard_config_any(const struct sl_guard_config *c);

#endif
