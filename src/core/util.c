/* util.c: clock, logging and strict parsing of numbers, addresses and URLs. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sluice/core.h"

int sl_log_level = SL_LOG_INFO;

uint64_t sl_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

double sl_wall_time(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void sl_log(int level, const char *fmt, ...)
{
	static const char *const names[] = {"error", "warning", "info", "debug"};
	if (level > sl_log_level)
		return;
	char line[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	fprintf(stderr, "sluice: %s: %s\n", names[level], line);
}

int sl_parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	if (!s || *s < '0' || *s > '9')
		return SL_EINVAL;
	errno = 0;
	char *end;
	unsigned long long v = strtoull(s, &end, 10);
	if (*end != '\0')
		return SL_EINVAL;
	if (errno == ERANGE || v > max)
		return SL_ERANGE;
	*out = v;
	return 0;
}

int sl_parse_double(const char *s, double *out)
{
	if (!s || !*s)
		return SL_EINVAL;
	errno = 0;
	char *end;
	double v = strtod(s, &end);
	if (*end != '\0' || !isfinite(v))
		return SL_EINVAL;
	if (errno == ERANGE)
		return SL_ERANGE;
	*out = v;
	return 0;
}

static int copy_host(const char *p, size_t n, char *host, size_t hostcap)
{
	if (n == 0 || n >= hostcap)
		return SL_EINVAL;
	memcpy(host, p, n);
	host[n] = '\0';
	return 0;
}

static int parse_port(const char *p, size_t n, uint16_t *port)
{
	char tmp[8];
	uint64_t v;
	if (n == 0 || n >= sizeof(tmp))
		return SL_EINVAL;
	memcpy(tmp, p, n);
	tmp[n] = '\0';
	if (sl_parse_u64(tmp, 65535, &v) || v == 0)
		return SL_EINVAL;
	*port = (uint16_t)v;
	return 0;
}

int sl_parse_hostport(const char *s, char *host, size_t hostcap, uint16_t *port)
{
	const char *colon = s ? strrchr(s, ':') : NULL;
	if (!colon)
		return SL_EINVAL;
	if (copy_host(s, (size_t)(colon - s), host, hostcap))
		return SL_EINVAL;
	return parse_port(colon + 1, strlen(colon + 1), port);
}

int sl_parse_url(const char *s, struct sl_url *u)
{
	static const char scheme[] = "http://";
	if (!s || strncmp(s, scheme, sizeof(scheme) - 1) != 0)
		return SL_EINVAL;
	const char *h = s + sizeof(scheme) - 1;
	const char *slash = strchr(h, '/');
	size_t authlen = slash ? (size_t)(slash - h) : strlen(h);
	/* an IPv6 literal keeps its brackets in host: "[::1]" */
	const char *close = h[0] == '[' ? memchr(h, ']', authlen) : NULL;
	if (h[0] == '[' && !close)
		return SL_EINVAL;
	const char *after = close ? close + 1 : h;
	const char *colon = memchr(after, ':', authlen - (size_t)(after - h));
	if (close && after < h + authlen && *after != ':')
		return SL_EINVAL;
	u->port = 80;
	if (colon) {
		if (parse_port(colon + 1, authlen - (size_t)(colon + 1 - h), &u->port))
			return SL_EINVAL;
		authlen = (size_t)(colon - h);
	}
	if (copy_host(h, authlen, u->host, sizeof(u->host)))
		return SL_EINVAL;
	const char *path = slash ? slash : "";
	size_t plen = strlen(path);
	while (plen > 0 && path[plen - 1] == '/')
		plen--;
	if (plen >= sizeof(u->base) || memchr(path, '?', plen) || memchr(path, '#', plen))
		return SL_EINVAL;
	memcpy(u->base, path, plen);
	u->base[plen] = '\0';
	return 0;
}
