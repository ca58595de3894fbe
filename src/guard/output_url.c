/* output_url.c: where a URL in an answer points, for the image and link checks, and whether a
 * host is on the allowlist.
 *
 * The host is read the way browsers read it (WHATWG URL), erring towards "not allowed": the
 * special schemes (http, https, ws, wss, ftp, file) take their host after any mix of '/' and '\'
 * ("https:evil.example" and "https:/\evil.example" both go to evil.example); "//host" and "\\host"
 * are protocol-relative; userinfo before '@' is skipped; a host that is not a plain name (IPv6
 * literal, percent-encoded, too long, cut off) is invalid, so never allowed. Schemes without a
 * host (mailto:, data:, javascript:) and relative URLs are not network URLs and are not checked.
 * Invariants: reads only s[0, n); writes *u completely. */
#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include "output-int.h"

static bool is_slash(char c)
{
	return c == '/' || c == '\\';
}

static bool special_scheme(const char *s, size_t n)
{
	static const char *const names[] = {"http", "https", "ws", "wss", "ftp", "file"};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strlen(names[i]) == n && strncasecmp(s, names[i], n) == 0)
			return true;
	return false;
}

/* Length of "scheme" when s starts with "scheme:", else 0. */
static size_t scheme_len(const char *s, size_t n)
{
	if (n == 0 || !((s[0] | 0x20) >= 'a' && (s[0] | 0x20) <= 'z'))
		return 0;
	size_t j = 1;
	while (j < n && j < 32 && (sl__gout_class[(unsigned char)s[j]] & GC_ALNUM || s[j] == '+' || s[j] == '.' ||
	                           s[j] == '-'))
		j++;
	return j < n && s[j] == ':' ? j : 0;
}

/* Where the authority starts in s[0, end), or SIZE_MAX when the URL has no host. */
static size_t authority_start(const char *s, size_t end)
{
	size_t j = scheme_len(s, end);
	if (j && special_scheme(s, j)) {
		j++;
		while (j < end && is_slash(s[j]))
			j++;
		return j;
	}
	if (j)
		return end - j >= 3 && s[j + 1] == '/' && s[j + 2] == '/' ? j + 3 : SIZE_MAX;
	return end >= 2 && is_slash(s[0]) && is_slash(s[1]) ? 2 : SIZE_MAX;
}

static bool host_chars_ok(const char *h, size_t n)
{
	if (n == 0 || n > SL_GOUT_DOMAIN_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)h[i];
		if (!(sl__gout_class[c] & GC_ALNUM) && c != '-' && c != '_' && c != '.')
			return false;
		if (c == '.' && i + 1 < n && h[i + 1] == '.')
			return false;
	}
	return true;
}

void sl__gout_url_parse(const char *s, size_t n, char quote, bool complete, struct gout_url *u)
{
	memset(u, 0, sizeof(*u));
	size_t end = 0;
	while (end < n && !(sl__gout_class[(unsigned char)s[end]] & GC_URLEND) && s[end] != quote)
		end++;
	u->end = end;
	u->open = end == n;
	size_t a = authority_start(s, end);
	if (a == SIZE_MAX)
		return;
	u->network = true;
	size_t ae = a;
	while (ae < end && !is_slash(s[ae]) && s[ae] != '?' && s[ae] != '#')
		ae++;
	if (ae == end && u->open && !complete)
		return; /* the host may go on: not known, so not valid */
	size_t h = a;
	for (size_t i = a; i < ae; i++)
		if (s[i] == '@')
			h = i + 1;
	size_t he = h;
	while (he < ae && s[he] != ':')
		he++;
	while (he > h && s[he - 1] == '.')
		he--;
	u->host_off = h;
	u->host_len = he - h;
	u->valid = host_chars_ok(s + h, he - h);
}

bool sl_guard_output_host_allowed(const struct sl_guard_output_spec *s, const char *host, size_t len)
{
	while (len > 0 && host[len - 1] == '.')
		len--;
	if (!host_chars_ok(host, len))
		return false;
	for (unsigned i = 0; i < s->ndomains; i++) {
		const char *d = s->allow_domains[i];
		size_t dl = strlen(d);
		if (dl > len || strncasecmp(host + len - dl, d, dl) != 0)
			continue;
		if (dl == len || host[len - dl - 1] == '.')
			return true;
	}
	return false;
}
