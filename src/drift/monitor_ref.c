/* monitor_ref.c: reading a reference file uploaded for a live monitor: CSV or JSON Lines whose
 * columns are the monitor's features (sl_feature_names, numeric) and finish_reason (text).
 * Invariants: every column must be one of those (an unknown one is an error naming it); a value
 * that is not a number in a numeric column is an error naming the line and the column; missing
 * values are allowed; at least one row and at most max_rows; on failure t is left empty. */
#include <stdio.h>

#include "sluice/monitor.h"
#include "univariate-int.h"

int sl_monitor_column_index(const char *name)
{
	for (int i = 0; i < SL_F_COUNT; i++)
		if (strcmp(name, sl_feature_names[i]) == 0)
			return i;
	return strcmp(name, "finish_reason") == 0 ? SL_F_COUNT : -1;
}

static int known_columns(const struct sl_drift_table *t, struct sl_drift_error *err)
{
	for (size_t i = 0; i < t->ncols; i++)
		if (sl_monitor_column_index(t->cols[i].name) < 0) {
			char show[80];
			size_t n = sl__utf8_cut(t->cols[i].name, strlen(t->cols[i].name), sizeof show - 1);
			memcpy(show, t->cols[i].name, n);
			show[n] = '\0';
			snprintf(err->msg, sizeof err->msg,
			         "unknown column '%s' (expected the features listed by /api/v1/drift: %s, ..., %s, "
			         "finish_reason)",
			         show, sl_feature_names[0], sl_feature_names[SL_F_COUNT - 1]);
			return SL_EINVAL;
		}
	return 0;
}

static int row_count(const struct sl_drift_table *t, size_t max_rows, struct sl_drift_error *err)
{
	if (t->rows == 0 || t->ncols == 0) {
		snprintf(err->msg, sizeof err->msg, "reference: no rows");
		return SL_EINVAL;
	}
	if (t->rows > max_rows) {
		snprintf(err->msg, sizeof err->msg, "reference: %llu rows, at most %zu allowed",
		         (unsigned long long)t->rows, max_rows);
		return SL_ETOOBIG;
	}
	return 0;
}

int sl_monitor_reference_parse(const char *data, size_t len, size_t max_rows, struct sl_drift_table *t,
                               struct sl_drift_error *err)
{
	struct sl_drift_decl decl[SL_MONITOR_COLUMNS];
	for (int i = 0; i < SL_F_COUNT; i++)
		decl[i] = (struct sl_drift_decl){sl_feature_names[i], SL_DRIFT_NUM};
	decl[SL_F_COUNT] = (struct sl_drift_decl){"finish_reason", SL_DRIFT_CAT};
	struct sl_drift_load_opts o = {.decl = decl, .ndecl = SL_MONITOR_COLUMNS, .max_columns = 64,
	                               .max_cats = 1024};
	struct sl_drift_input in = {"reference", data ? data : "", data ? len : 0};
	int rc = sl_drift_table_scan(&in, &o, t, err);
	if (rc)
		return rc;
	rc = known_columns(t, err);
	rc = rc ? rc : row_count(t, max_rows, err);
	rc = rc ? rc : sl_drift_table_finish(&in, &o, t, err);
	if (rc)
		sl_drift_table_release(t);
	return rc;
}
