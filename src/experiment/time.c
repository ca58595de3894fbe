/* time.c: strict RFC 3339 timestamps for experiment start and stop.
 * Invariants: only "YYYY-MM-DDTHH:MM:SS[.frac](Z|+hh:mm|-hh:mm)" is accepted ('t' and 'z' too,
 * as RFC 3339 allows), years 1970..9999 both as written and in UTC (times are written back in
 * UTC), every field range-checked (leap second 60 refused); the result is seconds since the
 * epoch, fraction included. */
#include <ctype.h>
#include <string.h>
#include <time.h>

#include "sluice/experiment.h"

/* n decimal digits at s into *out, or -1. */
static int digits(const char *s, int n, int *out)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

static bool leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int date_ok(int y, int mo, int d)
{
	static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	if (y < 1970 || mo < 1 || mo > 12 || d < 1)
		return -1;
	return d <= mdays[mo - 1] + (mo == 2 && leap(y)) ? 0 : -1;
}

/* The zone at s: Z or +hh:mm / -hh:mm, the whole rest of the string. */
static int zone(const char *s, int *offset)
{
	int hh, mm;
	if ((s[0] == 'Z' || s[0] == 'z') && s[1] == '\0')
		return *offset = 0, 0;
	if ((s[0] != '+' && s[0] != '-') || digits(s + 1, 2, &hh) || s[3] != ':' || digits(s + 4, 2, &mm) ||
	    s[6] != '\0' || hh > 23 || mm > 59)
		return -1;
	*offset = (s[0] == '-' ? -1 : 1) * (hh * 3600 + mm * 60);
	return 0;
}

int sl_exp_parse_time(const char *s, double *out)
{
	int y, mo, d, h, mi, se, off;
	double frac = 0, scale = 0.1;
	if (!s || strlen(s) < 20 || digits(s, 4, &y) || s[4] != '-' || digits(s + 5, 2, &mo) || s[7] != '-' ||
	    digits(s + 8, 2, &d) || (s[10] != 'T' && s[10] != 't') || digits(s + 11, 2, &h) || s[13] != ':' ||
	    digits(s + 14, 2, &mi) || s[16] != ':' || digits(s + 17, 2, &se))
		return SL_EINVAL;
	if (date_ok(y, mo, d) || h > 23 || mi > 59 || se > 59)
		return SL_EINVAL;
	const char *p = s + 19;
	if (*p == '.') {
		if (!isdigit((unsigned char)p[1]))
			return SL_EINVAL;
		for (p++; isdigit((unsigned char)*p) && scale > 1e-10; p++, scale /= 10)
			frac += (*p - '0') * scale;
		if (isdigit((unsigned char)*p))
			return SL_EINVAL;
	}
	if (zone(p, &off))
		return SL_EINVAL;
	struct tm tm = {.tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d, .tm_hour = h, .tm_min = mi, .tm_sec = se};
	double t = (double)timegm(&tm) - off + frac;
	if (t < 0 || t >= 253402300800.0) /* 10000-01-01T00:00:00Z: written back in UTC, it must stay in range */
		return SL_EINVAL;
	*out = t;
	return 0;
}
