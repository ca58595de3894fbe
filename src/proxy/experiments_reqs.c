/* experiments_reqs.c: what must outlive the experiments themselves: experiment and variant
 * keys interned for the process's life (so a request's pick stays valid whatever a reload or an
 * API call frees), and the bounded map from a recent request id to the experiment, variant and
 * unit it counted for, which joins business events posted later with only the request id.
 * Invariants: at most SL_EXPGW_MAX_NAMES names (65 bytes each); the map (sluice/idmap.h) is
 * allocated on first use, 2^15 entries of about 290 bytes (9 MiB) in 8-way sets: a request is
 * forgotten only when eight newer ones land in its set (4-way sets lost an id after a few thousand
 * requests now and then). */
#include <stdlib.h>
#include <string.h>

#include "proxy/experiments-int.h"
#include "sluice/idmap.h"

struct entry {
	int16_t tag;
	int16_t variant;
	int16_t version; /* interned name of the version that answered, or -1 */
	uint16_t ulen;
	char unit[SL_EXP_UNIT_ID_MAX];
};

static struct {
	char (*names)[SL_EXP_NAME_CAP];
	int nnames;
	struct sl_idmap ids;
} R = {.ids = SL_IDMAP_INIT(1u << 15, sizeof(struct entry))};

int sl_xgw_intern(const char *name)
{
	size_t len = strlen(name);
	if (len == 0 || len >= SL_EXP_NAME_CAP)
		return -1;
	for (int i = 0; i < R.nnames; i++)
		if (strcmp(R.names[i], name) == 0)
			return i;
	if (!R.names && !(R.names = calloc(SL_EXPGW_MAX_NAMES, sizeof(*R.names))))
		return -1;
	if (R.nnames == SL_EXPGW_MAX_NAMES)
		return -1;
	memcpy(R.names[R.nnames], name, len + 1);
	return R.nnames++;
}

const char *sl_xgw_name(int tag)
{
	return tag >= 0 && tag < R.nnames ? R.names[tag] : NULL;
}

void sl_xgw_reqs_put(struct sl_slice id, int tag, int variant, const char *version, struct sl_slice unit)
{
	uint64_t hi, lo;
	struct entry *e;
	if (!sl_idmap_id(id, &hi, &lo) || unit.len > SL_EXP_UNIT_ID_MAX || !(e = sl_idmap_put(&R.ids, hi, lo)))
		return;
	e->tag = (int16_t)tag;
	e->variant = (int16_t)variant;
	e->version = (int16_t)(version ? sl_xgw_intern(version) : -1);
	e->ulen = (uint16_t)unit.len;
	if (unit.len)
		memcpy(e->unit, unit.ptr, unit.len);
}

int sl_xgw_reqs_get(struct sl_slice id, int *tag, int *variant, const char **version, char unit[SL_EXP_UNIT_ID_MAX + 1])
{
	uint64_t hi, lo;
	const struct entry *e = sl_idmap_id(id, &hi, &lo) ? sl_idmap_get(&R.ids, hi, lo) : NULL;
	if (!e)
		return SL_ENOTFOUND;
	*tag = e->tag;
	*variant = e->variant;
	*version = sl_xgw_name(e->version);
	memcpy(unit, e->unit, e->ulen);
	unit[e->ulen] = '\0';
	return 0;
}

void sl_xgw_reqs_free(void)
{
	sl_idmap_free(&R.ids); /* names stay: picks of requests still in flight point at them */
}
