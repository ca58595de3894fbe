/* fuzz/guard.c: libFuzzer target for the guard input pipeline over arbitrary bytes: the
 * normalizer (views, decoders to depth 2, tag characters, collapse), the three decoders on their
 * own, the shipped rules through a full scan, spotlighting and the input-spec JSON parser.
 * Checks the invariants: normalized output is valid UTF-8 within 4 * len + SL_GUARD_NORM_SLACK,
 * views lie inside the buffer in order, the risk is in [0, 1]; and the memo of segments seen
 * before (the smallest, kept across inputs so it fills, evicts and answers): the input cut into
 * segments of mixed trust gives the same verdict with the memo as without, twice. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sluice/guard.h"

static struct sl_guard_rules *rules;
static struct sl_guard_scratch *scratch;
static struct sl_guard_memo *memo;
static struct sl_guard_opts memo_opts; /* the memo serves one opts, by address */

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
	if (sl_guard_rules_load_default(NULL, &rules, err, sizeof(err)) || sl_guard_scratch_new(rules, &scratch) ||
	    sl_guard_memo_new(SL_GUARD_MEMO_MIN, &memo))
		abort();
	sl_guard_opts_default(&memo_opts);
}

static void same_verdict(const struct sl_guard_verdict *a, const struct sl_guard_verdict *b)
{
	if (a->score != b->score || a->segment != b->segment || a->trust != b->trust || a->fired != b->fired ||
	    a->categories != b->categories || a->nreasons != b->nreasons || a->more_reasons != b->more_reasons)
		abort();
	for (unsigned i = 0; i < a->nreasons; i++)
		if (a->reasons[i].kind != b->reasons[i].kind || a->reasons[i].score != b->reasons[i].score ||
		    a->reasons[i].segment != b->reasons[i].segment)
			abort();
}

/* The input as up to four segments (cut at a third, a half and three quarters), trust from
 * the bytes at the cuts, scanned with and without the memo. */
static void check_memo(const char *text, size_t size)
{
	struct sl_guard_segment segs[4];
	size_t cut[5] = {0, size / 3, size / 2, size * 3 / 4, size};
	for (int i = 0; i < 4; i++)
		segs[i] = (struct sl_guard_segment){(enum sl_guard_trust)((size ? (unsigned char)text[cut[i] % size] : 0) % 3),
		                                    text + cut[i], cut[i + 1] - cut[i]};
	memo_opts.scan_trusted = size % 2;
	for (int round = 0; round < 2; round++) {
		struct sl_guard_verdict plain, kept;
		int a = sl_guard_scan(rules, scratch, &memo_opts, segs, 4, &plain);
		int b = sl_guard_scan_memo(rules, scratch, &memo_opts, memo, segs, 4, &kept);
		if (a != b || kept.remembered > kept.scanned)
			abort();
		if (a == 0)
			same_verdict(&plain, &kept);
	}
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
	check_memo(text, size);
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
