/* request.c: libFuzzer target for the request parser and rewriter (untrusted HTTP bodies). */
#include <json-c/json.h>
#include <stddef.h>
#include <stdint.h>

#include "sluice/openai.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct json_tokener *tok;
	struct sl_oai_request r;
	struct sl_buf out;
	char err[256];
	if (!tok)
		tok = json_tokener_new();
	if (sl_oai_request_parse(&r, tok, (const char *)data, size, "user", err, sizeof(err)) != 0)
		return 0;
	sl_buf_init(&out, 1 << 24);
	sl_oai_request_rewrite(&r, "upstream-model", &out);
	sl_buf_release(&out);
	sl_oai_request_release(&r);
	return 0;
}
