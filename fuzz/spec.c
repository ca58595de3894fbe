/* spec.c: libFuzzer target for the rollout spec and state JSON parsers (admin API bodies, store rows). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sluice/rollout.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1), err[256];
	struct sl_rollout_spec spec;
	struct sl_rollout r;
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (sl_rollout_spec_from_json(text, &spec, err, sizeof(err)) == 0 &&
	    sl_rollout_spec_validate(&spec, err, sizeof(err)) != 0)
		abort(); /* what the parser accepts must be valid */
	sl_rollout_from_json(text, &r, err, sizeof(err));
	free(text);
	return 0;
}
