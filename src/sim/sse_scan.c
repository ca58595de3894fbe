/* sse_scan.c: the SSE completeness scanner; see sse_scan.h.
 * Lines end at '\n' or '\r' (so "\r\n" yields an empty line, which means nothing here).
 * Only the first SL_SSE_HEAD bytes of a line are kept: enough to classify it. The quoted
 * word "error" is matched by a tiny automaton: after a mismatch the only possible restart
 * is a '"', because the pattern has no other border. */
#include <string.h>

#include "sim/sse_scan.h"

static const char err_word[] = "\"error\"";

void sl_sse_scan_init(struct sl_sse_scan *s)
{
	memset(s, 0, sizeof(*s));
}

static bool head_is(const struct sl_sse_scan *s, const char *lit)
{
	size_t n = strlen(lit);
	return s->linelen == n && memcmp(s->head, lit, n) == 0;
}

static bool head_starts(const struct sl_sse_scan *s, const char *lit)
{
	size_t n = strlen(lit);
	return s->linelen >= n && memcmp(s->head, lit, n) == 0;
}

static void end_line(struct sl_sse_scan *s)
{
	if (head_starts(s, "data:")) {
		if (head_is(s, "data: [DONE]") || head_is(s, "data:[DONE]"))
			s->done = true;
		else if (s->line_err)
			s->error = true;
	} else if (head_is(s, "event: error") || head_is(s, "event:error")) {
		s->error = true;
	}
	s->linelen = 0;
	s->match = 0;
	s->line_err = false;
}

static void step_match(struct sl_sse_scan *s, char c)
{
	if (c == err_word[s->match])
		s->match++;
	else
		s->match = c == '"';
	if (s->match == sizeof(err_word) - 1) {
		s->line_err = true;
		s->match = 0;
	}
}

void sl_sse_scan_feed(struct sl_sse_scan *s, const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char c = p[i];
		if (c == '\n' || c == '\r') {
			end_line(s);
			continue;
		}
		if (s->linelen < SL_SSE_HEAD)
			s->head[s->linelen] = c;
		s->linelen++;
		step_match(s, c);
	}
}

void sl_sse_scan_finish(struct sl_sse_scan *s)
{
	if (s->linelen > 0)
		end_line(s);
}
