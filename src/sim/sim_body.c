/* sim_body.c: the JSON and SSE bodies of the simulator, written straight into a buffer (no JSON
 * library on the way out, so the hot path stays a handful of memcpy calls).
 * Invariants: answers are a pure function of (seed, bad, index); embeddings of the input text;
 * every function appends to b and returns 0 or SL_ENOMEM, leaving b valid either way. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "sim/sim.h"

#define PUT(b, lit) sl_buf_append((b), (lit), sizeof(lit) - 1)

struct word {
	const char *s;
	size_t n;
};
/* clang-format off */
#define W(s) {(s), sizeof(s) - 1}
/* clang-format on */

/* A bad answer's first token is the whole marker phrase, so even a one-token answer carries it. */
static const struct word good_prefix[] = {W("Sure"),  W("."),  W(" Here"),  W(" is"),
                                          W(" what"), W(" I"), W(" found"), W(":")};
static const struct word bad_prefix[] = {W("Sorry, I am not sure"), W(" about"), W(" that"), W(".")};
static const struct word vocab[64] = {
    W(" the"),     W(" model"),   W(" answer"),  W(" is"),     W(" a"),         W(" simple"),  W(" test"),
    W(" of"),      W(" latency"), W(" and"),     W(" tokens"), W(" that"),      W(" we"),      W(" can"),
    W(" measure"), W(" over"),    W(" time"),    W(" with"),   W(" care"),      W(","),        W("."),
    W(" data"),    W(" shows"),   W(" results"), W(" from"),   W(" each"),      W(" request"), W(" in"),
    W(" this"),    W(" stream"),  W(" server"),  W(" runs"),   W(" fast"),      W(" enough"),  W(" to"),
    W(" serve"),   W(" users"),   W(" who"),     W(" ask"),    W(" questions"), W(" about"),   W(" many"),
    W(" things"),  W(" like"),    W(" weather"), W(" code"),   W(" math"),      W(" history"), W(" or"),
    W(" music"),   W(" so"),      W(" it"),      W(" should"), W(" look"),      W(" real"),    W(" but"),
    W(" never"),   W(" be"),      W(" used"),    W(" as"),     W(" advice"),    W(" here"),    W(" now"),
    W(" again"),
};

static uint64_t mix64(uint64_t z)
{
	z += 0x9e3779b97f4a7c15u;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
	return z ^ (z >> 31);
}

uint64_t sl_sim_hash(uint64_t h, const char *p, size_t n)
{
	if (h == 0)
		h = 0xcbf29ce484222325u;
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)p[i]) * 0x100000001b3u;
	return h;
}

struct sl_slice sl_sim_token(uint64_t seed, bool bad, uint32_t i)
{
	const struct word *pre = bad ? bad_prefix : good_prefix;
	size_t npre = bad ? sizeof(bad_prefix) / sizeof(bad_prefix[0]) : sizeof(good_prefix) / sizeof(good_prefix[0]);
	const struct word *w = i < npre ? &pre[i] : &vocab[mix64(seed + i) & 63];
	return sl_slice_make(w->s, w->n);
}

int sl_sim_put_u64(struct sl_buf *b, uint64_t v)
{
	char tmp[20];
	size_t n = 0;
	do {
		tmp[sizeof(tmp) - 1 - n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	return sl_buf_append(b, tmp + sizeof(tmp) - n, n);
}

static int put_iov(struct sl_buf *b, h2o_iovec_t v)
{
	return sl_buf_append(b, v.base, v.len);
}

static int put_usage(struct sl_buf *b, uint64_t prompt, uint64_t completion)
{
	int rc = PUT(b, "\"usage\":{\"prompt_tokens\":");
	rc |= sl_sim_put_u64(b, prompt);
	rc |= PUT(b, ",\"completion_tokens\":");
	rc |= sl_sim_put_u64(b, completion);
	rc |= PUT(b, ",\"total_tokens\":");
	rc |= sl_sim_put_u64(b, prompt + completion);
	rc |= PUT(b, "}");
	return rc ? SL_ENOMEM : 0;
}

/* `{"id":"chatcmpl-…","object":"…","created":N,"model":"…",` */
static int put_envelope(struct sl_buf *b, const struct sl_sim_answer *a, bool chunk)
{
	bool chat = a->plan->kind == SL_SIM_CHAT;
	int rc = PUT(b, "{\"id\":\"");
	rc |= chat ? PUT(b, "chatcmpl-") : PUT(b, "cmpl-");
	rc |= sl_buf_append(b, a->id, 32);
	rc |= PUT(b, "\",\"object\":\"");
	if (chat)
		rc |= chunk ? PUT(b, "chat.completion.chunk") : PUT(b, "chat.completion");
	else
		rc |= PUT(b, "text_completion");
	rc |= PUT(b, "\",\"created\":");
	rc |= sl_sim_put_u64(b, a->created);
	rc |= PUT(b, ",\"model\":");
	rc |= put_iov(b, a->plan->model);
	rc |= PUT(b, ",");
	return rc ? SL_ENOMEM : 0;
}

static int put_text(struct sl_buf *b, const struct sl_sim_answer *a)
{
	int rc = PUT(b, "\"");
	for (uint32_t i = 0; i < a->plan->n_tokens; i++) {
		struct sl_slice t = sl_sim_token(a->seed, a->bad, i);
		rc |= sl_buf_append(b, t.ptr, t.len);
	}
	rc |= PUT(b, "\"");
	return rc ? SL_ENOMEM : 0;
}

static int put_finish(struct sl_buf *b, bool length_cut)
{
	return length_cut ? PUT(b, "\"finish_reason\":\"length\"") : PUT(b, "\"finish_reason\":\"stop\"");
}

int sl_sim_body_answer(struct sl_buf *b, const struct sl_sim_answer *a)
{
	const struct sl_sim_plan *p = a->plan;
	int rc = put_envelope(b, a, false);
	if (p->kind == SL_SIM_CHAT) {
		rc |= PUT(b, "\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":");
		rc |= put_text(b, a);
		rc |= PUT(b, "},\"logprobs\":null,");
	} else {
		rc |= PUT(b, "\"choices\":[{\"text\":");
		rc |= put_text(b, a);
		rc |= PUT(b, ",\"index\":0,\"logprobs\":null,");
	}
	rc |= put_finish(b, p->length_cut);
	rc |= PUT(b, "}],");
	rc |= put_usage(b, p->prompt_tokens, p->n_tokens);
	rc |= PUT(b, "}");
	return rc ? SL_ENOMEM : 0;
}

int sl_sim_body_content(struct sl_buf *b, const struct sl_sim_answer *a, const char *content, size_t len)
{
	int rc = put_envelope(b, a, false);
	rc |= PUT(b, "\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":");
	rc |= sl_buf_json_str(b, content, len);
	rc |= PUT(b, "},\"logprobs\":null,");
	rc |= put_finish(b, false);
	rc |= PUT(b, "}],");
	rc |= put_usage(b, a->plan->prompt_tokens, len / 4 + 1);
	rc |= PUT(b, "}");
	return rc ? SL_ENOMEM : 0;
}

int sl_sim_chunk_head(struct sl_buf *b, const struct sl_sim_answer *a)
{
	int rc = PUT(b, "data: ");
	rc |= put_envelope(b, a, true);
	return rc ? SL_ENOMEM : 0;
}

int sl_sim_chunk_role(struct sl_buf *b, h2o_iovec_t head)
{
	int rc = put_iov(b, head);
	rc |= PUT(b, "\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},"
	             "\"logprobs\":null,\"finish_reason\":null}]}\n\n");
	return rc ? SL_ENOMEM : 0;
}

int sl_sim_chunk_token(struct sl_buf *b, h2o_iovec_t head, enum sl_sim_kind kind, struct sl_slice tok)
{
	int rc = put_iov(b, head);
	if (kind == SL_SIM_CHAT) {
		rc |= PUT(b, "\"choices\":[{\"index\":0,\"delta\":{\"content\":\"");
		rc |= sl_buf_append(b, tok.ptr, tok.len);
		rc |= PUT(b, "\"},\"logprobs\":null,\"finish_reason\":null}]}\n\n");
	} else {
		rc |= PUT(b, "\"choices\":[{\"text\":\"");
		rc |= sl_buf_append(b, tok.ptr, tok.len);
		rc |= PUT(b, "\",\"index\":0,\"logprobs\":null,\"finish_reason\":null}]}\n\n");
	}
	return rc ? SL_ENOMEM : 0;
}

int sl_sim_chunk_finish(struct sl_buf *b, h2o_iovec_t head, enum sl_sim_kind kind, bool length_cut)
{
	int rc = put_iov(b, head);
	if (kind == SL_SIM_CHAT)
		rc |= PUT(b, "\"choices\":[{\"index\":0,\"delta\":{},\"logprobs\":null,");
	else
		rc |= PUT(b, "\"choices\":[{\"text\":\"\",\"index\":0,\"logprobs\":null,");
	rc |= put_finish(b, length_cut);
	rc |= PUT(b, "}]}\n\n");
	return rc ? SL_ENOMEM : 0;
}

int sl_sim_chunk_usage(struct sl_buf *b, h2o_iovec_t head, uint64_t prompt_tokens, uint64_t completion_tokens)
{
	int rc = put_iov(b, head);
	rc |= PUT(b, "\"choices\":[],");
	rc |= put_usage(b, prompt_tokens, completion_tokens);
	rc |= PUT(b, "}\n\n");
	return rc ? SL_ENOMEM : 0;
}

/* A unit vector drawn from a generator seeded by the text: the same text, the same vector. */
static void embed_vector(struct sl_slice text, float *v, uint32_t dims)
{
	struct sl_rng rng;
	double norm = 0;
	sl_rng_seed(&rng, sl_sim_hash(0, text.ptr, text.len));
	for (uint32_t i = 0; i < dims; i++) {
		double x = sl_rng_normal(&rng);
		v[i] = (float)x;
		norm += x * x;
	}
	norm = norm > 0 ? sqrt(norm) : 1;
	for (uint32_t i = 0; i < dims; i++)
		v[i] = (float)(v[i] / norm);
}

static int put_floats(struct sl_buf *b, const float *v, uint32_t dims)
{
	int rc = PUT(b, "[");
	for (uint32_t i = 0; i < dims; i++) {
		char tmp[32];
		int n = snprintf(tmp, sizeof(tmp), "%s%.9g", i ? "," : "", (double)v[i]);
		rc |= sl_buf_append(b, tmp, (size_t)n);
	}
	rc |= PUT(b, "]");
	return rc ? SL_ENOMEM : 0;
}

/* Base64 of the float32 values, little-endian, as the OpenAI API sends them. */
static int put_base64(struct sl_buf *b, const float *v, uint32_t dims)
{
	static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t nbytes = (size_t)dims * 4, out = 4 * ((nbytes + 2) / 3);
	int rc = sl_buf_reserve(b, out + 2);
	if (rc)
		return rc;
	unsigned char bytes[3];
	char *d = b->data + b->len;
	*d++ = '"';
	for (size_t i = 0; i < nbytes; i += 3) {
		size_t take = nbytes - i < 3 ? nbytes - i : 3;
		for (size_t j = 0; j < 3; j++) {
			uint32_t u = 0;
			if (j < take)
				memcpy(&u, &v[(i + j) / 4], 4);
			bytes[j] = (unsigned char)(u >> (8 * ((i + j) % 4)));
		}
		d[0] = tab[bytes[0] >> 2];
		d[1] = tab[((bytes[0] & 3) << 4) | (bytes[1] >> 4)];
		d[2] = take > 1 ? tab[((bytes[1] & 15) << 2) | (bytes[2] >> 6)] : '=';
		d[3] = take > 2 ? tab[bytes[2] & 63] : '=';
		d += 4;
	}
	*d++ = '"';
	b->len = (size_t)(d - b->data);
	b->data[b->len] = '\0';
	return 0;
}

int sl_sim_body_embeddings(struct sl_buf *b, const struct sl_sim_plan *p)
{
	float v[SL_SIM_MAX_DIMS];
	int rc = PUT(b, "{\"object\":\"list\",\"data\":[");
	for (size_t i = 0; i < p->n_inputs && !rc; i++) {
		embed_vector(p->inputs[i], v, p->dims);
		rc |= i ? PUT(b, ",{\"object\":\"embedding\",\"index\":")
		        : PUT(b, "{\"object\":\"embedding\",\"index\":");
		rc |= sl_sim_put_u64(b, i);
		rc |= PUT(b, ",\"embedding\":");
		rc |= p->base64 ? put_base64(b, v, p->dims) : put_floats(b, v, p->dims);
		rc |= PUT(b, "}");
	}
	rc |= PUT(b, "],\"model\":");
	rc |= put_iov(b, p->model);
	rc |= PUT(b, ",\"usage\":{\"prompt_tokens\":");
	rc |= sl_sim_put_u64(b, p->prompt_tokens);
	rc |= PUT(b, ",\"total_tokens\":");
	rc |= sl_sim_put_u64(b, p->prompt_tokens);
	rc |= PUT(b, "}}");
	return rc ? SL_ENOMEM : 0;
}

int sl_sim_body_error(struct sl_buf *b, const char *message, const char *type, const char *param, const char *code)
{
	int rc = PUT(b, "{\"error\":{\"message\":");
	rc |= sl_buf_json_str(b, message, strlen(message));
	rc |= PUT(b, ",\"type\":");
	rc |= sl_buf_json_str(b, type, strlen(type));
	rc |= PUT(b, ",\"param\":");
	rc |= param ? sl_buf_json_str(b, param, strlen(param)) : PUT(b, "null");
	rc |= PUT(b, ",\"code\":");
	rc |= code ? sl_buf_json_str(b, code, strlen(code)) : PUT(b, "null");
	rc |= PUT(b, "}}");
	return rc ? SL_ENOMEM : 0;
}
