/* error.c: names and messages for SL_E* codes, generated from the SL_ERRORS table. */
#include "sluice/core.h"

#define SL_ERR_MSG_(name, msg) msg,
#define SL_ERR_NAME_(name, msg) "SL_E" #name,
static const char *const messages[] = {SL_ERRORS(SL_ERR_MSG_)};
static const char *const names[] = {SL_ERRORS(SL_ERR_NAME_)};

static int index_of(int err)
{
	int i = -1 - err;
	return (err < 0 && i < SL_ERR_COUNT_) ? i : -1;
}

const char *sl_strerror(int err)
{
	if (err == 0)
		return "success";
	int i = index_of(err);
	return i < 0 ? "unknown error" : messages[i];
}

const char *sl_errname(int err)
{
	if (err == 0)
		return "SL_OK";
	int i = index_of(err);
	return i < 0 ? "SL_EUNKNOWN" : names[i];
}
