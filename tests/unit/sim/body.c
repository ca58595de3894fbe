/* body.c: the simulator's response bodies (src/sim/sim_body.c): every body parses as JSON with
 * the OpenAI shape, bad answers start "Sorry, I am not sure", SSE events are single `data:` lines,
 * and base64 embeddings decode to the same float32 values as the float form.
 * sim_body.c is compiled into this test directly: it needs h2o's types, not its library. */
#define H2O_USE_LIBUV 0
#include <criterion/criterion.h>
#include <json-c/json.h>
#include <math.h>
#include <string.h>

#include "sim/sim_body.c"

static struct sl_sim_plan plan(enum sl_sim_kind kind, uint32_t n)
{
	return (struct sl_sim_plan){
	    .kind = kind, .model = h2o_iovec_init(H2O_STRLIT("\"m\\\"x\"")), .n_tokens = n, .prompt_tokens = 3};
}

static json_object *parse(const struct sl_buf *b)
{
	json_object *o = json_tokener_parse(b->data);
	cr_assert_not_null(o, "not JSON: %s", b->data);
	return o;
}

static json_object *get(json_object *o, const char *path)
{
	char key[64];
	while (o && *path) {
		size_t n = strcspn(path, ".");
		memcpy(key, path, n);
		key[n] = '\0';
		if (json_object_is_type(o, json_type_array))
			o = json_object_array_get_idx(o, (size_t)strtoul(key, NULL, 10));
		else if (!json_object_object_get_ex(o, key, &o))
			o = NULL;
		path += n + (path[n] == '.');
	}
	cr_assert_not_null(o, "missing %s", path);
	return o;
}

Test(sim_body, bad_answers_start_with_sorry)
{
	struct sl_slice t = sl_sim_token(42, true, 0); /* the whole phrase, even for max_tokens 1 */
	cr_assert(sl_slice_eq(t, "Sorry, I am not sure"));
	cr_assert(strncmp(sl_sim_token(42, false, 0).ptr, "Sorry", 5) != 0);
}

Test(sim_body, chat_completion_shape)
{
	struct sl_sim_plan p = plan(SL_SIM_CHAT, 5);
	p.length_cut = true;
	struct sl_sim_answer a = {&p, "0123456789abcdef0123456789abcdef", 1700000000, 7, true};
	struct sl_buf b;
	sl_buf_init(&b, 0);
	cr_assert_eq(sl_sim_body_answer(&b, &a), 0);
	json_object *o = parse(&b);
	cr_assert_str_eq(json_object_get_string(get(o, "object")), "chat.completion");
	cr_assert_str_eq(json_object_get_string(get(o, "model")), "m\"x");
	cr_assert_str_eq(json_object_get_string(get(o, "choices.0.finish_reason")), "length");
	cr_assert(strncmp(json_object_get_string(get(o, "choices.0.message.content")), "Sorry, I am not sure", 20) ==
	          0);
	cr_assert_eq(json_object_get_int(get(o, "usage.total_tokens")), 8);
	json_object_put(o);
	sl_buf_release(&b);
}

Test(sim_body, text_completion_shape)
{
	struct sl_sim_plan p = plan(SL_SIM_TEXT, 2);
	struct sl_sim_answer a = {&p, "0123456789abcdef0123456789abcdef", 1, 7, false};
	struct sl_buf b;
	sl_buf_init(&b, 0);
	cr_assert_eq(sl_sim_body_answer(&b, &a), 0);
	json_object *o = parse(&b);
	cr_assert_str_eq(json_object_get_string(get(o, "object")), "text_completion");
	cr_assert_str_eq(json_object_get_string(get(o, "choices.0.text")), "Sure.");
	cr_assert_str_eq(json_object_get_string(get(o, "choices.0.finish_reason")), "stop");
	json_object_put(o);
	sl_buf_release(&b);
}

static json_object *event(struct sl_buf *b)
{
	cr_assert(strncmp(b->data, "data: ", 6) == 0 && b->len > 8 && strcmp(b->data + b->len - 2, "\n\n") == 0);
	cr_assert_null(memchr(b->data, '\n', b->len - 2), "one line per event");
	json_object *o = json_tokener_parse(b->data + 6);
	cr_assert_not_null(o, "not JSON: %s", b->data);
	sl_buf_reset(b);
	return o;
}

Test(sim_body, stream_events)
{
	struct sl_sim_plan p = plan(SL_SIM_CHAT, 1);
	struct sl_sim_answer a = {&p, "0123456789abcdef0123456789abcdef", 1, 7, false};
	struct sl_buf h, b;
	sl_buf_init(&h, 0);
	sl_buf_init(&b, 0);
	cr_assert_eq(sl_sim_chunk_head(&h, &a), 0);
	h2o_iovec_t head = h2o_iovec_init(h.data, h.len);
	cr_assert_eq(sl_sim_chunk_role(&b, head), 0);
	json_object *o = event(&b);
	cr_assert_str_eq(json_object_get_string(get(o, "choices.0.delta.role")), "assistant");
	cr_assert_str_eq(json_object_get_string(get(o, "object")), "chat.completion.chunk");
	json_object_put(o);
	cr_assert_eq(sl_sim_chunk_token(&b, head, SL_SIM_CHAT, sl_slice_cstr(" hi")), 0);
	o = event(&b);
	cr_assert_str_eq(json_object_get_string(get(o, "choices.0.delta.content")), " hi");
	json_object_put(o);
	cr_assert_eq(sl_sim_chunk_finish(&b, head, SL_SIM_CHAT, true), 0);
	o = event(&b);
	cr_assert_str_eq(json_object_get_string(get(o, "choices.0.finish_reason")), "length");
	json_object_put(o);
	cr_assert_eq(sl_sim_chunk_usage(&b, head, 4, 1), 0);
	o = event(&b);
	cr_assert_eq(json_object_array_length(get(o, "choices")), 0);
	cr_assert_eq(json_object_get_int(get(o, "usage.total_tokens")), 5);
	json_object_put(o);
	sl_buf_release(&h);
	sl_buf_release(&b);
}

static size_t unbase64(const char *s, unsigned char *out)
{
	static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t n = 0;
	uint32_t acc = 0;
	int bits = 0;
	for (; *s && *s != '='; s++) {
		acc = (acc << 6) | (uint32_t)(strchr(tab, *s) - tab);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[n++] = (unsigned char)(acc >> bits);
		}
	}
	return n;
}

static json_object *embedding(uint32_t dims, bool base64)
{
	struct sl_slice in[2] = {SL_SLICE_LIT("hello"), SL_SLICE_LIT("world")};
	struct sl_sim_plan p = plan(SL_SIM_EMBED, 0);
	p.inputs = in;
	p.n_inputs = 2;
	p.dims = dims;
	p.base64 = base64;
	struct sl_buf b;
	sl_buf_init(&b, 0);
	cr_assert_eq(sl_sim_body_embeddings(&b, &p), 0);
	json_object *o = parse(&b);
	sl_buf_release(&b);
	cr_assert_eq(json_object_array_length(get(o, "data")), 2);
	return o;
}

Test(sim_body, embeddings_base64_matches_floats)
{
	for (uint32_t dims = 1; dims <= 9; dims++) {
		json_object *f = embedding(dims, false), *e = embedding(dims, true);
		json_object *vec = get(f, "data.1.embedding");
		unsigned char raw[64];
		cr_assert_eq(unbase64(json_object_get_string(get(e, "data.1.embedding")), raw), 4 * dims);
		double norm = 0;
		for (uint32_t i = 0; i < dims; i++) {
			uint32_t u =
			    raw[4 * i] | raw[4 * i + 1] << 8 | raw[4 * i + 2] << 16 | (uint32_t)raw[4 * i + 3] << 24;
			float x;
			memcpy(&x, &u, 4);
			cr_assert_eq(x, (float)json_object_get_double(json_object_array_get_idx(vec, i)),
			             "dims %u i %u", dims, i);
			norm += (double)x * x;
		}
		cr_assert(fabs(norm - 1) < 1e-5, "unit length");
		json_object_put(f);
		json_object_put(e);
	}
}

Test(sim_body, error_shape)
{
	struct sl_buf b;
	sl_buf_init(&b, 0);
	cr_assert_eq(sl_sim_body_error(&b, "bad \"thing\"", "invalid_request_error", NULL, "invalid_json"), 0);
	json_object *o = parse(&b);
	cr_assert_str_eq(json_object_get_string(get(o, "error.message")), "bad \"thing\"");
	cr_assert(json_object_is_type(get(o, "error"), json_type_object));
	json_object *param = NULL;
	cr_assert(json_object_object_get_ex(get(o, "error"), "param", &param) && param == NULL);
	json_object_put(o);
	sl_buf_release(&b);
}
