/* sse_scan.h: a byte-at-a-time scanner over a server-sent-events body, fed in arbitrary
 * pieces, that notices the end marker `data: [DONE]` and error events (`event: error`, or
 * a `data:` line carrying an "error" key) without buffering the body. Pure.
 * Invariant: the state after feeding a body in any split equals the state after feeding it
 * whole; memory use is constant. */
#ifndef SLUICE_SIM_SSE_SCAN_H
#define SLUICE_SIM_SSE_SCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SL_SSE_HEAD 16

struct sl_sse_scan {
	char head[SL_SSE_HEAD]; /* first bytes of the current line */
	size_t linelen;         /* bytes of the current line seen so far */
	uint8_t match;          /* bytes of "\"error\"" matched at the current position */
	bool line_err;          /* the current line contains "error" in quotes */
	bool done;              /* a `data: [DONE]` line was seen */
	bool error;             /* an error event was seen */
};

void sl_sse_scan_init(struct sl_sse_scan *s);
void sl_sse_scan_feed(struct sl_sse_scan *s, const char *p, size_t n);
/* Ends the body: a last line without a line break still counts. */
void sl_sse_scan_finish(struct sl_sse_scan *s);

#endif
