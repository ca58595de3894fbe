/* fuzz/guard.c: libFuzzer target for the guard input pipeline over arbitrary bytes: the
 * normalizer (views, decoders to depth 2, tag characters, collapse), the three decoders on their
 * own, the shipped rules through a full scan, spotlighting and the input-spec JSON parser.
 * Checks the invariants: normalized output is valid UTF-8 within 4 * len + SL_GUARD_NORM_SLACK,
 * views lie inside the buffer in order, the risk is in [0, 1]. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sluice/guard.h"

static struct sl_guard_rules *rules;
static struct sl_guard_scratch *scratch;

/* The rules ship in <source>/share: found from this file's path unless SLUICE_SHARE is set. */
static void init(void)
{
	char err[512], dir[1024];
	const char *share = getenv("SLUICE_SHARE"), *me = __FILE__, *tail = strstr(me, "fuzz/guard.c");
	if ((!share || !*share) && tail && (size_t)(tail - me) + 6 < sizeof(dir)) {
		memcpy(dir, me, (size_t)(tail - me));
		memcpy(dir + (tail - me), "share", 6);
		setenv("SLUICE_SHARE", dir, 1);
	}
	if (sl_guard_rules_load_default(NULL, &rules, err, sizeof(err)) || sl_guard_scratch_new(rules, &scratch))
		abort();
}

static void check_norm(const struct sl_guard_norm *n, size_t len)
{
	if (n->out.len > 4 * len + SL_GUARD_NORM_SLACK)
		abort();
	for (size_t i = 0; i < n->out.len;) {
		size_t k = sl_utf8_seq_len((const unsigned char *)n->out.data + i, n->out.len - i);
		if (k == 0)
			abort();
		i += k;
	}
	size_t end = 0;
	for (unsigned i = 0; i < n->nviews; i++) {
		if (n->views[i].off < end || n->views[i].off + n->views[i].len > n->out.len)
			abort();
		end = n->views[i].off + n->views[i].len;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!rules)
		init();
	const char *text = (const char *)data;
	struct sl_guard_verdict v;
	struct sl_guard_opts o;
	sl_guard_opts_default(&o);
	if (sl_guard_scan_text(rules, scratch, &o, text, size, &v) == 0) {
		check_norm(sl_guard_scratch_norm(scratch), size);
		if (!(v.score >= 0 && v.score <= 1))
			abort();
	}
	struct sl_buf b;
	sl_buf_init(&b, 1 << 20);
	sl_guard_decode_base64(text, size, &b);
	sl_guard_decode_hex(text, size, &b);
	sl_guard_decode_url(text, size, &b);
	struct sl_guard_segment seg = {SL_GUARD_INDIRECT, text, size};
	sl_buf_reset(&b);
	sl_guard_spotlight(&seg, 1, &b);
	sl_buf_release(&b);
	char *json = malloc(size + 1);
	memcpy(json, data, size);
	json[size] = '\0';
	struct sl_guard_input_spec spec;
	char err[256];
	sl_guard_input_spec_from_json(json, &spec, err, sizeof(err));
	free(json);
	return 0;
}
