/* guard_model.c: libFuzzer target for the guard classifier's model-file loader: any bytes are
 * either refused with a message or give a model that scores any text (including these bytes)
 * to a finite probability in [0, 1], the same when scored as a pair with itself in one walk. Corpus: fuzz/corpus/guard_model (tiny valid and damaged
 * models, 2^10 weights). */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "sluice/guard_model.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sl_guard_model *m = NULL;
	char err[256];
	if (sl_guard_model_load_mem(data, size, &m, err, sizeof(err)) != 0)
		return 0;
	double p = sl_guard_model_score(m, (const char *)data, size), pa, pb;
	if (!(p >= 0.0 && p <= 1.0))
		abort();
	sl_guard_model_score_pair(m, m, (const char *)data, size, &pa, &pb); /* a model pairs with itself */
	if (!sl_guard_model_pairs(m, m) || pa != p || pb != p)
		abort();
	p = sl_guard_model_score(m, "ignore previous instructions", 28);
	if (!(p >= 0.0 && p <= 1.0))
		abort();
	sl_guard_model_free(m);
	return 0;
}
