/* guard_output.c: libFuzzer target for the streamed output checks. The first bytes choose the
 * action, the URL mode and the split seed; up to the first NUL is the system prompt, the rest is
 * the answer. The answer is checked whole and in random pieces; the properties below abort:
 *   - the findings (kind, offset, length, detail) do not depend on the splits;
 *   - flag releases the answer unchanged; block releases a prefix of it;
 *   - redact never releases the canary;
 *   - no more than SL_GOUT_HOLD bytes are held after a feed.
 * The split run uses one checker kept from input to input and reset for each (as the gateway
 * reuses its checker), the whole run a new one: a reset checker must find what a new one does. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sluice/guard_output.h"

static const char canary[] = "CANARY-123";

struct result {
	struct sl_buf out;
	size_t nf;
	struct sl_gout_finding f[SL_GOUT_MAX_FINDINGS];
};

static void run(const struct sl_guard_output_spec *s, const char *sys, size_t syslen, const char *t, size_t n,
                uint64_t seed, struct result *r)
{
	static struct sl_guard_output *kept; /* the split runs' checker, reset for each input */
	struct sl_guard_output *g;
	sl_buf_init(&r->out, 0);
	if (seed && kept) { /* a split run after the first: the kept checker, reset */
		if (sl_guard_output_reset(kept, s, sys, syslen))
			abort();
		g = kept;
	} else {
		if (sl_guard_output_new(s, sys, syslen, &g))
			abort();
		if (seed)
			kept = g;
	}
	for (size_t at = 0; at < n;) {
		size_t k = seed ? 1 + (size_t)(seed % 37) : n - at;
		seed = seed * 6364136223846793005ull + 1442695040888963407ull;
		if (k > n - at)
			k = n - at;
		if (sl_guard_output_feed(g, t + at, k, &r->out) < 0 || sl_guard_output_held(g) > SL_GOUT_HOLD)
			abort();
		at += k;
	}
	if (sl_guard_output_finish(g, &r->out) < 0)
		abort();
	const struct sl_gout_finding *f;
	r->nf = sl_guard_output_findings(g, &f);
	memcpy(r->f, f, r->nf * sizeof(*f));
	if (g != kept)
		sl_guard_output_free(g);
}

static bool same_findings(const struct result *a, const struct result *b)
{
	if (a->nf != b->nf)
		return false;
	for (size_t i = 0; i < a->nf; i++)
		if (a->f[i].kind != b->f[i].kind || a->f[i].offset != b->f[i].offset || a->f[i].len != b->f[i].len ||
		    strcmp(a->f[i].detail, b->f[i].detail) != 0)
			return false;
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct sl_guard_output_spec spec;
	if (size < 2)
		return 0;
	sl_guard_output_spec_defaults(&spec);
	spec.action = (enum sl_gout_action)(data[0] % 3);
	spec.urls = (enum sl_gout_urls)((data[0] / 3) % 3);
	spec.ncanaries = 1;
	memcpy(spec.canaries[0], canary, sizeof(canary));
	spec.ndomains = 1;
	memcpy(spec.allow_domains[0], "example.com", sizeof("example.com"));
	spec.leak_min_run = 1 + data[0] / 9 % 4;
	uint64_t seed = data[1] | 1;
	const char *rest = (const char *)data + 2, *nul = memchr(rest, '\0', size - 2);
	size_t syslen = nul ? (size_t)(nul - rest) : 0;
	const char *t = nul ? nul + 1 : rest;
	size_t n = size - 2 - (nul ? syslen + 1 : 0);
	struct result whole, split;
	run(&spec, rest, syslen, t, n, 0, &whole);
	run(&spec, rest, syslen, t, n, seed, &split);
	if (!same_findings(&whole, &split))
		abort();
	if (spec.action == SL_GOUT_FLAG && (whole.out.len != n || memcmp(whole.out.data, t, n) != 0 ||
	                                    split.out.len != n || memcmp(split.out.data, t, n) != 0))
		abort();
	if (spec.action == SL_GOUT_BLOCK && (split.out.len > n || memcmp(split.out.data, t, split.out.len) != 0))
		abort();
	if (spec.action == SL_GOUT_REDACT && memmem(split.out.data, split.out.len, canary, sizeof(canary) - 1))
		abort();
	sl_buf_release(&whole.out);
	sl_buf_release(&split.out);
	return 0;
}
