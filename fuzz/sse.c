/* sse.c: libFuzzer target for the SSE tap (untrusted upstream bytes), fed in uneven pieces;
 * checks that, when nothing is to be dropped, what comes out is exactly what went in. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sluice/openai.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sl_sse_tap t;
	struct sl_buf out;
	if (size < 1)
		return 0;
	bool drop = data[0] & 1;
	size_t step = (data[0] >> 1) + 1;
	data++, size--;
	sl_buf_init(&out, 0);
	if (sl_sse_tap_init(&t, drop, 1 << 16) != 0)
		abort();
	for (size_t i = 0; i < size; i += step) {
		size_t k = size - i < step ? size - i : step;
		if (sl_sse_tap_feed(&t, (const char *)data + i, k, &out, NULL) != 0)
			break;
	}
	sl_sse_tap_finish(&t, &out);
	if (!drop && (out.len != size || memcmp(out.data, data, size) != 0))
		abort(); /* nothing dropped: every byte comes out, in order, whatever the splits */
	sl_sse_tap_release(&t);
	sl_buf_release(&out);
	return 0;
}
