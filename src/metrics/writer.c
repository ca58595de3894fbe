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

void sl_mw_double(struct sl_mw *w, double v)
{
	char tmp[32];
	if (isnan(v)) {
		sl_mw_puts(w, "NaN");
		return;
	}
	if (isinf(v)) {
		sl_mw_puts(w, v > 0 ? "+Inf" : "-Inf");
		return;
	}
	int n = snprintf(tmp, sizeof(tmp), "%.15g", v);
	if (strtod(tmp, NULL) != v)
		n = snprintf(tmp, sizeof(tmp), "%.17g", v);
	sl_mw_put(w, tmp, (size_t)n);
}

void sl_mw_label(struct sl_mw *w, const char *s)
{
	if (w->rc == 0)
		w->rc = sl_prom_label_value(w->b, s, strlen(s));
}
