/* histogram.c: fixed-bucket histograms and their Prometheus lines.
 * Buckets are stored per interval and summed only when rendered, so an observation costs one
 * short scan; bounds are inclusive (v <= le), as Prometheus defines them. NaN is never
 * observed: it would poison _sum forever. */
#include <math.h>

#include "metrics-int.h"

void sl_hist_observe(struct sl_hist *h, const struct sl_hist_spec *spec, double v)
{
	size_t i = 0;
	if (isnan(v))
		return;
	while (i < spec->n && v > spec->le[i])
		i++;
	h->bucket[i]++;
	h->count++;
	h->sum += v;
}

/* name suffix{labels */
static void open_series(struct sl_mw *w, const struct sl_hist_spec *spec, const char *suffix, struct sl_slice labels)
{
	sl_mw_puts(w, spec->name);
	sl_mw_puts(w, suffix);
	sl_mw_put(w, "{", 1);
	sl_mw_put(w, labels.ptr, labels.len);
}

void sl_hist_le_text(const struct sl_hist_spec *spec, struct sl_hist_le *le)
{
	for (size_t i = 0; i < spec->n; i++)
		sl_fmt_double(le->text[i], spec->le[i]);
}

void sl_hist_render(const struct sl_hist *h, const struct sl_hist_spec *spec, const struct sl_hist_le *le,
                    struct sl_slice labels, struct sl_mw *w)
{
	uint64_t cumulative = 0;
	for (size_t i = 0; i <= spec->n; i++) {
		cumulative += h->bucket[i];
		open_series(w, spec, "_bucket", labels);
		sl_mw_puts(w, ",le=\"");
		sl_mw_puts(w, i < spec->n ? le->text[i] : "+Inf");
		sl_mw_puts(w, "\"} ");
		sl_mw_u64(w, cumulative);
		sl_mw_put(w, "\n", 1);
	}
	open_series(w, spec, "_sum", labels);
	sl_mw_puts(w, "} ");
	sl_mw_double(w, h->sum);
	sl_mw_put(w, "\n", 1);
	open_series(w, spec, "_count", labels);
	sl_mw_puts(w, "} ");
	sl_mw_u64(w, h->count);
	sl_mw_put(w, "\n", 1);
}
