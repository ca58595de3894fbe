/* writer.c: the sticky-error appender used to render the exposition and the access log.
 * Once an append fails every later one is skipped; the caller checks w->rc once and rewinds. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics-int.h"

void sl_mw_put(struct sl_mw *w, const char *s, size_t n)
{
	if (w->rc == 0)
		w->rc = sl_buf_append(w->b, s, n);
}

void sl_mw_puts(struct sl_mw *w, const char *s)
{
	sl_mw_put(w, s, strlen(s));
}

void sl_mw_u64(struct sl_mw *w, uint64_t v)
{
	char tmp[24];
	size_t i = sizeof(tmp);
	do {
		tmp[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	sl_mw_put(w, tmp + i, sizeof(tmp) - i);
}

void sl_mw_i64(struct sl_mw *w, int64_t v)
{
	if (v < 0) {
		sl_mw_put(w, "-", 1);
		sl_mw_u64(w, (uint64_t)0 - (uint64_t)v);
		return;
	}
	sl_mw_u64(w, (uint64_t)v);
}

size_t sl_fmt_double(char out[SL_FMT_DOUBLE], double v)
{
	const char *word = isnan(v) ? "NaN" : !isinf(v) ? NULL : v > 0 ? "+Inf" : "-Inf";
	if (word) {
		size_t n = strlen(word);
		memcpy(out, word, n + 1);
		return n;
	}
	int n = snprintf(out, SL_FMT_DOUBLE, "%.15g", v);
	if (strtod(out, NULL) != v)
		n = snprintf(out, SL_FMT_DOUBLE, "%.17g", v);
	return (size_t)n;
}

void sl_mw_double(struct sl_mw *w, double v)
{
	char tmp[SL_FMT_DOUBLE];
	size_t n = sl_fmt_double(tmp, v);
	sl_mw_put(w, tmp, n);
}

void sl_mw_label(struct sl_mw *w, const char *s)
{
	if (w->rc == 0)
		w->rc = sl_buf_prom_label(w->b, s, strlen(s));
}
