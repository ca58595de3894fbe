/* output_scan.c: the pattern checks over the window: canaries (exact bytes), secrets (API key
 * shapes and private key blocks) and images/links whose host is not allowed.
 *
 * A start position p is checked once, with GOUT_LOOK bytes in view after it (or the end of the
 * answer), which is longer than any pattern's deciding part: a canary (128), a key's prefix and
 * body up to its fixed length (at most 46), a private key header (67), a URL's opening and host
 * (about 290). What runs longer is extended as it arrives: a key's body and a private key block
 * up to its END line (the scanner skips them), an offending URL's tail (masked on arrival while
 * the scanner goes on inside it, so a canary in a URL or in a tag's attributes is still found).
 *
 * Rules (see docs/GUARD-output.md): a key matches when its prefix follows a byte that is not
 * [A-Za-z0-9_] and its body has the length and (for some) a digit; a URL is checked when it is a
 * markdown image/link target `](url)`, a reference definition `[id]: url` at the start of a line,
 * or the src/href of an <img>/<a> tag; an <img> tag with no src within view is a finding. */
#include <string.h>
#include <strings.h>

#include "output-int.h"

#define LO (GC_ALNUM | GC_KEY | GC_ALDASH | GC_ALUS | GC_WORD)
#define UP (LO | GC_UPDIG)
const unsigned char sl__gout_class[256] = {
    [0 ... 0x20] = GC_URLEND,
    ['"'] = GC_URLEND,
    ['\''] = GC_URLEND,
    ['('] = GC_URLEND,
    [')'] = GC_URLEND,
    ['<'] = GC_URLEND,
    ['>'] = GC_URLEND,
    ['`'] = GC_URLEND,
    [0x7f] = GC_URLEND,
    ['0' ... '9'] = UP,
    ['A' ... 'Z'] = UP,
    ['a' ... 'z'] = LO,
    ['-'] = GC_KEY | GC_ALDASH,
    ['_'] = GC_KEY | GC_ALUS,
    [0x80 ... 0xff] = GC_WORD,
};

struct secret_rule {
	const char *prefix, *name;
	unsigned char cls;            /* GC_* of the body */
	unsigned short min, max;      /* body length; max 0 = as long as it runs */
	bool digit;                   /* the body must hold a digit */
};

static const struct secret_rule rules[] = {
    {"sk-", "openai api key", GC_KEY, 20, 0, true},
    {"AKIA", "aws access key id", GC_UPDIG, 16, 16, false},
    {"ASIA", "aws temporary access key id", GC_UPDIG, 16, 16, false},
    {"ghp_", "github token", GC_ALNUM, 30, 0, false},
    {"gho_", "github token", GC_ALNUM, 30, 0, false},
    {"ghu_", "github token", GC_ALNUM, 30, 0, false},
    {"ghs_", "github token", GC_ALNUM, 30, 0, false},
    {"ghr_", "github token", GC_ALNUM, 30, 0, false},
    {"github_pat_", "github token", GC_ALUS, 22, 0, false},
    {"xoxb-", "slack token", GC_ALDASH, 10, 0, true},
    {"xoxp-", "slack token", GC_ALDASH, 10, 0, true},
    {"xoxa-", "slack token", GC_ALDASH, 10, 0, true},
    {"xoxr-", "slack token", GC_ALDASH, 10, 0, true},
    {"xoxs-", "slack token", GC_ALDASH, 10, 0, true},
    {"AIza", "google api key", GC_KEY, 35, 35, false},
};
#define NRULES (sizeof(rules) / sizeof(rules[0]))

static const char key_begin[] = "-----BEGIN ", key_tail[] = "PRIVATE KEY-----", key_end[] = "-----END ";
#define KEY_KIND_MAX 40 /* bytes between "-----BEGIN " and "PRIVATE KEY-----" */

void sl__gout_scan_init(struct sl_guard_output *g)
{
	const struct sl_guard_output_spec *s = g->spec;
	for (unsigned i = 0; i < s->ncanaries; i++) {
		g->trig[(unsigned char)s->canaries[i][0]] |= GT_CANARY;
		g->clen[i] = (unsigned char)strnlen(s->canaries[i], SL_GOUT_CANARY_MAX);
	}
	if (s->secrets) {
		for (size_t i = 0; i < NRULES; i++)
			g->trig[(unsigned char)rules[i].prefix[0]] |= GT_SECRET;
		g->trig['-'] |= GT_SECRET;
	}
	if (s->urls != SL_GOUT_URLS_OFF) {
		g->trig['['] |= GT_URL;
		g->trig[']'] |= GT_URL;
		g->trig['<'] |= GT_URL;
	}
}

static unsigned char byte_before(const struct sl_guard_output *g, size_t p)
{
	return p ? (unsigned char)g->win[p - 1] : g->prev;
}

/* Where the view of a start position p ends: GOUT_LOOK bytes on, or the end of what is here.
 * Checks look no further, so that a verdict never depends on how the answer was split. */
static size_t view_end(const struct sl_guard_output *g, size_t p)
{
	return g->wlen - p > GOUT_LOOK ? p + GOUT_LOOK : g->wlen;
}

/* Whether more of the answer follows the view (here or still to come). */
static bool more_after(const struct sl_guard_output *g, size_t vend, bool final)
{
	return vend < g->wlen || !final;
}

static bool starts(const struct sl_guard_output *g, size_t p, const char *lit, size_t n)
{
	return g->wlen - p >= n && memcmp(g->win + p, lit, n) == 0;
}

/* ---- canaries ---- */

static size_t check_canary(struct sl_guard_output *g, size_t p)
{
	const struct sl_guard_output_spec *s = g->spec;
	for (unsigned i = 0; i < s->ncanaries; i++) {
		size_t n = g->clen[i];
		if (n && s->canaries[i][0] == g->win[p] && starts(g, p, s->canaries[i], n)) {
			sl__gout_hit(g, SL_GOUT_CANARY, p, p + n, "canary #%u", i + 1);
			return p + n;
		}
	}
	return p;
}

/* ---- secrets ---- */

/* Continues a key's finding over the following bytes of class cls. */
static void start_cont(struct sl_guard_output *g, unsigned char cls)
{
	g->cont = GOUT_CONT_CLASS;
	g->cont_class = cls;
}

static size_t run_of(const struct sl_guard_output *g, size_t p, size_t end, unsigned char cls, bool neg)
{
	while (p < end && ((sl__gout_class[(unsigned char)g->win[p]] & cls) != 0) != neg)
		p++;
	return p;
}

static bool has_digit(const char *s, size_t n)
{
	if (n > 64)
		n = 64;
	for (size_t i = 0; i < n; i++)
		if (s[i] >= '0' && s[i] <= '9')
			return true;
	return false;
}

static size_t check_rule(struct sl_guard_output *g, size_t p, const struct secret_rule *r, bool final)
{
	size_t plen = strlen(r->prefix);
	if (!starts(g, p, r->prefix, plen))
		return p;
	size_t vend = view_end(g, p), b = p + plen, e = run_of(g, b, vend, r->cls, false), n = e - b;
	if (n < r->min || (r->max && n != r->max) || (r->digit && !has_digit(g->win + b, n)))
		return p;
	sl__gout_hit(g, SL_GOUT_SECRET, p, e, "%s", r->name);
	if (e == vend && more_after(g, vend, final))
		start_cont(g, r->cls);
	return e;
}

/* "-----BEGIN [A-Z0-9 ]{0,40}PRIVATE KEY-----": the whole block is one finding, kept up to its
 * END line (or the end of the answer). */
static size_t check_key(struct sl_guard_output *g, size_t p, bool final)
{
	size_t b = p + sizeof(key_begin) - 1, t = sizeof(key_tail) - 1;
	if (!starts(g, p, key_begin, b - p))
		return p;
	for (size_t q = b; q <= b + KEY_KIND_MAX && q < g->wlen; q++) {
		if (starts(g, q, key_tail, t)) {
			sl__gout_hit(g, SL_GOUT_SECRET, p, q + t, "private key");
			g->cont = GOUT_CONT_KEY;
			return q + t;
		}
		unsigned char c = (unsigned char)g->win[q];
		if (!(c == ' ' || (sl__gout_class[c] & GC_UPDIG)))
			break;
	}
	return p;
}

/* Inside a private key block: masks up to and including "-----END ...-----". */
static size_t key_step(struct sl_guard_output *g, size_t p, size_t limit, bool final)
{
	size_t from = p;
	while (p < limit) {
		if (g->win[p] == '-' && starts(g, p, key_end, sizeof(key_end) - 1)) {
			const char *s = g->win + p + sizeof(key_end) - 1;
			size_t avail = g->wlen - (p + sizeof(key_end) - 1), cap = avail < 64 ? avail : 64;
			const char *close = memmem(s, cap, "-----", 5);
			if (close) {
				p = (size_t)(close - g->win) + 5;
				g->cont = GOUT_CONT_NONE;
				break;
			}
		}
		p++;
	}
	if (final && g->cont == GOUT_CONT_KEY)
		p = g->wlen;
	sl__gout_mask(g, from, p);
	return p;
}

static size_t check_secret(struct sl_guard_output *g, size_t p, bool final)
{
	unsigned char c = (unsigned char)g->win[p];
	if (c == '-')
		return check_key(g, p, final);
	if (sl__gout_class[byte_before(g, p)] & GC_ALUS)
		return p;
	for (size_t i = 0; i < NRULES; i++) {
		if ((unsigned char)rules[i].prefix[0] != c)
			continue;
		size_t e = check_rule(g, p, &rules[i], final);
		if (e != p)
			return e;
	}
	return p;
}

/* ---- images and links ---- */

/* Checks the URL at win[u, ...) (u <= wlen) for the trigger at p. Scanning goes on inside the
 * URL (canaries and keys there are still found); an offending URL that runs on past the view
 * is masked as its bytes arrive (sl__gout_tail). */
static void check_url(struct sl_guard_output *g, size_t p, size_t u, char quote, enum sl_gout_kind kind, bool final)
{
	struct gout_url url;
	size_t vend = view_end(g, p);
	if (u >= vend)
		return;
	sl__gout_url_parse(g->win + u, vend - u, quote, !more_after(g, vend, final), &url);
	if (!url.network || (url.valid && sl_guard_output_host_allowed(g->spec, g->win + u + url.host_off, url.host_len)))
		return;
	const char *what = kind == SL_GOUT_IMAGE ? "image" : "link";
	if (url.valid)
		sl__gout_hit(g, kind, u, u + url.end, "%s to %.*s", what, (int)(url.host_len > 64 ? 64 : url.host_len),
		             g->win + u + url.host_off);
	else
		sl__gout_hit(g, kind, u, u + url.end, "%s to an invalid host", what);
	if (url.open && more_after(g, vend, final)) {
		g->tail = true;
		sl__gout_tail(g, vend);
	}
}

static size_t skip_blanks(const struct sl_guard_output *g, size_t p, size_t max)
{
	for (size_t k = 0; k < max && p < g->wlen && (g->win[p] == ' ' || g->win[p] == '\t'); k++)
		p++;
	return p;
}

/* "](url" and, after a '[' at the start of a line, "]: url". */
static size_t check_close(struct sl_guard_output *g, size_t p, bool final)
{
	enum sl_gout_kind kind = g->img_bracket ? SL_GOUT_IMAGE : SL_GOUT_LINK;
	if (starts(g, p, "](", 2)) {
		if (kind == SL_GOUT_LINK && g->spec->urls == SL_GOUT_URLS_IMAGES)
			return p + 1;
		size_t u = skip_blanks(g, p + 2, 8);
		if (u < g->wlen && g->win[u] == '<')
			u++;
		check_url(g, p, u, 0, kind, final);
		return u;
	}
	if (g->ref_bracket && starts(g, p, "]:", 2)) {
		size_t u = skip_blanks(g, p + 2, 8);
		check_url(g, p, u, 0, kind, final);
		return u;
	}
	return p + 1;
}

/* The value of attribute `attr` inside the tag starting at p (before '>'), or SIZE_MAX. */
static size_t attr_value(const struct sl_guard_output *g, size_t p, const char *attr, char *quote, bool *closed)
{
	size_t n = strlen(attr), end = view_end(g, p);
	*closed = false;
	for (size_t q = p + 1; q < end; q++) {
		if (g->win[q] == '>') {
			*closed = true;
			return SIZE_MAX;
		}
		if (!(sl__gout_class[(unsigned char)g->win[q - 1]] & GC_URLEND) || q + n >= end ||
		    strncasecmp(g->win + q, attr, n) != 0)
			continue;
		size_t v = skip_blanks(g, q + n, 8);
		if (v >= end || g->win[v] != '=')
			continue;
		v = skip_blanks(g, v + 1, 8);
		*quote = v < end && (g->win[v] == '"' || g->win[v] == '\'') ? g->win[v] : 0;
		return *quote ? v + 1 : v;
	}
	return SIZE_MAX;
}

/* "<img ... src=url" (an image) and "<a ... href=url" (a link). */
static size_t check_tag(struct sl_guard_output *g, size_t p, bool final)
{
	bool img = g->wlen - p > 4 && strncasecmp(g->win + p + 1, "img", 3) == 0 &&
	           (sl__gout_class[(unsigned char)g->win[p + 4]] & GC_URLEND || g->win[p + 4] == '/');
	bool a = !img && g->spec->urls == SL_GOUT_URLS_ALL && g->wlen - p > 2 && (g->win[p + 1] | 0x20) == 'a' &&
	         sl__gout_class[(unsigned char)g->win[p + 2]] & GC_URLEND;
	if (!img && !a)
		return p + 1;
	char quote = 0;
	bool closed;
	size_t v = attr_value(g, p, img ? "src" : "href", &quote, &closed);
	if (v != SIZE_MAX)
		check_url(g, p, v, quote, img ? SL_GOUT_IMAGE : SL_GOUT_LINK, final);
	else if (img && !closed && more_after(g, view_end(g, p), final))
		sl__gout_hit(g, SL_GOUT_IMAGE, p, p + 4, "image tag too long to check");
	return p + 1; /* the tag's attributes are scanned too */
}

static size_t check_url_trigger(struct sl_guard_output *g, size_t p, bool final)
{
	switch (g->win[p]) {
	case '[': {
		unsigned char b = byte_before(g, p);
		g->img_bracket = b == '!';
		g->ref_bracket = b == '\n';
		return p + 1;
	}
	case ']':
		return check_close(g, p, final);
	default:
		return check_tag(g, p, final);
	}
}

/* ---- the scan ---- */

/* Checks the start position p; returns the next one (> p). */
static size_t check_at(struct sl_guard_output *g, size_t p, bool final)
{
	unsigned t = g->trig[(unsigned char)g->win[p]];
	size_t e = p;
	if (t & GT_CANARY)
		e = check_canary(g, p);
	if (e == p && (t & GT_SECRET))
		e = check_secret(g, p, final);
	if (e == p && (t & GT_URL))
		e = check_url_trigger(g, p, final);
	return e > p ? e : p + 1;
}

void sl__gout_tail(struct sl_guard_output *g, size_t from)
{
	size_t e = run_of(g, from, g->wlen, GC_URLEND, true);
	sl__gout_mask(g, from, e);
	if (e < g->wlen)
		g->tail = false;
}

/* Extends a finding's class run; the continuation ends at the first byte outside it. */
static size_t cont_step(struct sl_guard_output *g, size_t p)
{
	size_t e = run_of(g, p, g->wlen, g->cont_class, false);
	sl__gout_mask(g, p, e);
	if (e < g->wlen)
		g->cont = GOUT_CONT_NONE;
	return e;
}

void sl__gout_scan(struct sl_guard_output *g, bool final)
{
	size_t limit = final ? g->wlen : (g->wlen >= GOUT_LOOK ? g->wlen - GOUT_LOOK + 1 : 0);
	size_t p = g->scan;
	while (!g->stopped) {
		if (g->cont == GOUT_CONT_CLASS) {
			p = cont_step(g, p);
			if (g->cont != GOUT_CONT_NONE)
				break;
		}
		if (p >= limit)
			break;
		if (g->cont == GOUT_CONT_KEY) {
			p = key_step(g, p, limit, final);
			continue;
		}
		while (p < limit && !g->trig[(unsigned char)g->win[p]])
			p++;
		if (p < limit)
			p = check_at(g, p, final);
	}
	if (final && g->cont == GOUT_CONT_CLASS)
		g->cont = GOUT_CONT_NONE;
	if (p > g->scan)
		g->scan = p;
}
