/* table.c: libFuzzer target for the drift loaders (CSV and JSONL files of `sluice drift`) and the
 * report built from them: the input is split in two files at the first 0xFF byte. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "sluice/drift.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *cut = memchr(data, 0xFF, size);
	size_t n1 = cut ? (size_t)(cut - data) : size / 2;
	const char *name = size && (data[0] & 1) ? "x.jsonl" : "x.csv";
	struct sl_drift_input ref = {name, (const char *)data, n1};
	struct sl_drift_input cur = {name, (const char *)data + n1 + (cut ? 1 : 0), size - n1 - (cut ? 1 : 0)};
	struct sl_drift_load_opts o = {.count_few = size && (data[0] & 2)};
	struct sl_drift_table a, b;
	struct sl_drift_error err;
	if (sl_drift_tables_load(&ref, &cur, &o, &a, &b, &err) != 0)
		return 0;
	struct sl_drift_config cfg;
	struct sl_drift_report rep;
	struct sl_buf out;
	sl_drift_config_init(&cfg);
	sl_buf_init(&out, 0);
	if (sl_drift_report_build(&rep, &a, &b, &cfg) == 0) {
		sl_drift_report_json(&rep, "r", "c", &out);
		sl_drift_report_html(&rep, "r", "c", &out);
		sl_drift_report_release(&rep);
	}
	sl_buf_release(&out);
	sl_drift_table_release(&a);
	sl_drift_table_release(&b);
	return 0;
}
