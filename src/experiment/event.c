/* event.c: the body of POST /v1/events, a business event posted by the application
 * ({"event", "value"?, "request_id"?, "user"?, "session"?, "timestamp"?}).
 * Invariants: strict (unknown members, wrong types, non-finite or huge values refused); at
 * most SL_EXP_EVENT_MAX_BYTES of input; at least one id; *ev is written only on success. */
#include <math.h>
#include <string.h>

#include "experiment-int.h"

static int event_fields(struct json_object *o, struct sl_exp_event *ev, char *err, size_t errlen)
{
	static const char *const keys[] = {"event", "value", "request_id", "user", "session", "timestamp", NULL};
	double value = NAN;
	int rc = sl__json_object(o, "", keys, err, errlen);
	if (!rc)
		rc = sl__exp_name_at(o, "event", "", true, ev->name, err, errlen);
	if (!rc)
		rc = sl__json_num_at(o, "value", "", -1e15, 1e15, &value, err, errlen);
	if (!rc)
		rc = sl__json_str_at(o, "request_id", "", false, ev->request_id, sizeof(ev->request_id), err, errlen);
	if (!rc)
		rc = sl__json_str_at(o, "user", "", false, ev->user, sizeof(ev->user), err, errlen);
	if (!rc)
		rc = sl__json_str_at(o, "session", "", false, ev->session, sizeof(ev->session), err, errlen);
	if (!rc)
		rc = sl__json_num_at(o, "timestamp", "", 0, 253402300799.0, &ev->timestamp, err, errlen);
	ev->has_value = !isnan(value);
	ev->value = ev->has_value ? value : 1;
	if (!rc && !ev->request_id[0] && !ev->user[0] && !ev->session[0])
		return sl__rerr(err, errlen, "request_id: one of request_id, user or session is required");
	return rc;
}

int sl_exp_event_parse(const char *json, size_t len, struct sl_exp_event *ev, char *err, size_t errlen)
{
	struct json_object *o = NULL;
	struct sl_exp_event tmp;
	if (err && errlen)
		err[0] = '\0';
	if (len > SL_EXP_EVENT_MAX_BYTES)
		return sl__rerr(err, errlen, "body: longer than %d bytes", SL_EXP_EVENT_MAX_BYTES), SL_ETOOBIG;
	int rc = sl__exp_parse(json, len, &o, err, errlen);
	if (rc)
		return rc;
	memset(&tmp, 0, sizeof(tmp));
	tmp.timestamp = NAN;
	rc = event_fields(o, &tmp, err, errlen);
	json_object_put(o);
	if (!rc)
		*ev = tmp;
	return rc;
}
