/* sim_req.c: turns an inference request body into a plan: the model to echo, how many tokens to
 * emit, whether to stream, and the prompt's size and hash.
 * Invariants: the body is untrusted; h2o bounds it to 8 MiB, json-c parses it strictly (UTF-8
 * validated, nesting bounded by the tokener's depth) and every field is type-checked before use.
 * Parsing records the request's model in the stats (last_model) as soon as it is read. */
#include <json-c/json.h>
#include <limits.h>
#include <string.h>

#include "sim/sim.h"

static int fail(struct sl_sim_error *err, const char *message, const char *param, const char *code)
{
	*err = (struct sl_sim_error){400, message, param, code};
	return SL_EINVAL;
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static struct json_object *parse_body(struct sl_sim *sim, h2o_iovec_t body)
{
	if (body.len == 0 || body.len > INT_MAX)
		return NULL;
	json_tokener_reset(sim->tok);
	struct json_object *o = json_tokener_parse_ex(sim->tok, body.base, (int)body.len);
	if (!o)
		return NULL;
	size_t end = json_tokener_get_parse_end(sim->tok);
	while (end < body.len && is_space(body.base[end]))
		end++;
	if (end != body.len || !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

/* The member, or NULL when absent or null. */
static struct json_object *member(struct json_object *o, const char *key)
{
	struct json_object *v = NULL;
	if (!json_object_object_get_ex(o, key, &v) || json_object_is_type(v, json_type_null))
		return NULL;
	return v;
}

static void remember_model(struct sl_sim_stats *st, const char *s, size_t n)
{
	memcpy(st->last_model, s, n);
	st->last_model[n] = '\0';
	st->last_model_len = n;
	st->have_last_model = true;
}

static int read_model(struct sl_sim *sim, h2o_req_t *req, struct json_object *doc, struct sl_sim_plan *p,
                      struct sl_sim_error *err)
{
	struct json_object *m = member(doc, "model");
	p->model = sim->model_json;
	if (!m)
		return 0;
	if (!json_object_is_type(m, json_type_string))
		return fail(err, "'model' must be a string", "model", "invalid_type");
	size_t n = (size_t)json_object_get_string_len(m);
	if (n > SL_SIM_MODEL_MAX)
		return fail(err, "'model' is too long", "model", "invalid_value");
	p->model_raw = json_object_get_string(m);
	p->model_raw_len = n;
	remember_model(&sim->stats, p->model_raw, n);
	sl_buf_reset(&sim->scratch);
	if (sl_buf_json_str(&sim->scratch, p->model_raw, n))
		return fail(err, "'model' is too long", "model", "invalid_value");
	p->model = sl_sim_pool_copy(req, &sim->scratch);
	return 0;
}

static void add_text(struct sl_sim_plan *p, uint64_t *chars, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		*chars += ((unsigned char)s[i] & 0xc0) != 0x80; /* code points, not bytes */
	p->text_hash = sl_sim_hash(p->text_hash, s, n);
}

static void add_string(struct sl_sim_plan *p, uint64_t *chars, struct json_object *s)
{
	add_text(p, chars, json_object_get_string(s), (size_t)json_object_get_string_len(s));
}

/* content: a string, or an array of parts whose "text" members count. */
static int add_content(struct sl_sim_plan *p, uint64_t *chars, struct json_object *c, struct sl_sim_error *err)
{
	if (!c)
		return 0;
	if (json_object_is_type(c, json_type_string)) {
		add_string(p, chars, c);
		return 0;
	}
	if (!json_object_is_type(c, json_type_array))
		return fail(err, "'content' must be a string or an array of parts", "messages", "invalid_type");
	for (size_t i = 0, n = json_object_array_length(c); i < n; i++) {
		struct json_object *part = json_object_array_get_idx(c, i);
		struct json_object *t = json_object_is_type(part, json_type_object) ? member(part, "text") : NULL;
		if (t && json_object_is_type(t, json_type_string))
			add_string(p, chars, t);
	}
	return 0;
}

static int read_messages(struct sl_sim_plan *p, struct json_object *doc, uint64_t *chars, struct sl_sim_error *err)
{
	struct json_object *msgs = member(doc, "messages");
	if (!msgs)
		return fail(err, "'messages' is a required property", "messages", "missing_required_parameter");
	if (!json_object_is_type(msgs, json_type_array) || json_object_array_length(msgs) == 0)
		return fail(err, "'messages' must be a non-empty array", "messages", "invalid_type");
	for (size_t i = 0, n = json_object_array_length(msgs); i < n; i++) {
		struct json_object *m = json_object_array_get_idx(msgs, i);
		if (!json_object_is_type(m, json_type_object))
			return fail(err, "each message must be an object", "messages", "invalid_type");
		if (add_content(p, chars, member(m, "content"), err))
			return SL_EINVAL;
	}
	return 0;
}

/* prompt (completions) and input (embeddings): a string or a non-empty array of strings. */
static int read_strings(struct json_object *v, const char *name, size_t max, struct sl_sim_error *err)
{
	if (!v)
		return fail(err, name[0] == 'p' ? "'prompt' is a required property" : "'input' is a required property",
		            name, "missing_required_parameter");
	if (json_object_is_type(v, json_type_string))
		return 0;
	size_t n = json_object_is_type(v, json_type_array) ? json_object_array_length(v) : 0;
	bool ok = n > 0 && n <= max;
	for (size_t i = 0; ok && i < n; i++)
		ok = json_object_is_type(json_object_array_get_idx(v, i), json_type_string);
	return ok ? 0
	          : fail(err, "must be a string or a non-empty array of strings (at most 2048)", name, "invalid_type");
}

static int read_prompt(struct sl_sim_plan *p, struct json_object *doc, uint64_t *chars, struct sl_sim_error *err)
{
	struct json_object *v = member(doc, "prompt");
	if (read_strings(v, "prompt", SIZE_MAX, err))
		return SL_EINVAL;
	if (json_object_is_type(v, json_type_string)) {
		add_string(p, chars, v);
		return 0;
	}
	for (size_t i = 0, n = json_object_array_length(v); i < n; i++)
		add_string(p, chars, json_object_array_get_idx(v, i));
	return 0;
}

static int read_max_tokens(struct sl_sim *sim, struct sl_sim_plan *p, struct json_object *doc, struct sl_sim_error *err)
{
	const char *name = "max_tokens";
	struct json_object *v = member(doc, name);
	if (!v && p->kind == SL_SIM_CHAT)
		v = member(doc, name = "max_completion_tokens");
	p->n_tokens = (uint32_t)sim->cfg.max_tokens;
	if (!v)
		return 0;
	if (!json_object_is_type(v, json_type_int) || json_object_get_int64(v) < 1)
		return fail(err, "must be a positive integer", name, "invalid_value");
	int64_t n = json_object_get_int64(v);
	p->n_tokens = n > SL_SIM_MAX_TOKENS ? SL_SIM_MAX_TOKENS : (uint32_t)n;
	p->length_cut = true; /* the client's limit, not the model, ends the answer */
	return 0;
}

static bool is_true(struct json_object *o, const char *key)
{
	struct json_object *v = o ? member(o, key) : NULL;
	return v && json_object_is_type(v, json_type_boolean) && json_object_get_boolean(v);
}

static int read_generate(struct sl_sim *sim, struct sl_sim_plan *p, struct json_object *doc, struct sl_sim_error *err)
{
	uint64_t chars = 0;
	int rc = p->kind == SL_SIM_CHAT ? read_messages(p, doc, &chars, err) : read_prompt(p, doc, &chars, err);
	if (rc || (rc = read_max_tokens(sim, p, doc, err)))
		return rc;
	struct json_object *so = member(doc, "stream_options");
	p->stream = is_true(doc, "stream");
	p->include_usage = p->stream && so && json_object_is_type(so, json_type_object) && is_true(so, "include_usage");
	p->prompt_tokens = (chars + 3) / 4;
	return 0;
}

static int read_dims(struct sl_sim_plan *p, struct json_object *doc, struct sl_sim_error *err)
{
	struct json_object *d = member(doc, "dimensions");
	struct json_object *f = member(doc, "encoding_format");
	p->dims = 16;
	if (d) {
		if (!json_object_is_type(d, json_type_int) || json_object_get_int64(d) < 1 ||
		    json_object_get_int64(d) > SL_SIM_MAX_DIMS)
			return fail(err, "'dimensions' must be an integer from 1 to 4096", "dimensions",
			            "invalid_value");
		p->dims = (uint32_t)json_object_get_int64(d);
	}
	if (!f)
		return 0;
	const char *s = json_object_is_type(f, json_type_string) ? json_object_get_string(f) : "";
	if (strcmp(s, "base64") != 0 && strcmp(s, "float") != 0)
		return fail(err, "'encoding_format' must be \"float\" or \"base64\"", "encoding_format",
		            "invalid_value");
	p->base64 = s[0] == 'b';
	return 0;
}

static int read_embed(h2o_req_t *req, struct sl_sim_plan *p, struct json_object *doc, struct sl_sim_error *err)
{
	struct json_object *v = member(doc, "input");
	uint64_t chars = 0;
	if (read_strings(v, "input", SL_SIM_MAX_INPUTS, err) || read_dims(p, doc, err))
		return SL_EINVAL;
	bool one = json_object_is_type(v, json_type_string);
	p->n_inputs = one ? 1 : json_object_array_length(v);
	if (p->n_inputs * p->dims > SL_SIM_MAX_FLOATS)
		return fail(err, "too many inputs for this many dimensions", "input", "invalid_value");
	p->inputs = h2o_mem_alloc_pool(&req->pool, sizeof(p->inputs[0]) * p->n_inputs);
	for (size_t i = 0; i < p->n_inputs; i++) {
		struct json_object *s = one ? v : json_object_array_get_idx(v, i);
		p->inputs[i] = sl_slice_make(json_object_get_string(s), (size_t)json_object_get_string_len(s));
		add_text(p, &chars, p->inputs[i].ptr, p->inputs[i].len);
	}
	p->prompt_tokens = (chars + 3) / 4;
	return 0;
}

int sl_sim_plan_parse(struct sl_sim *sim, h2o_req_t *req, enum sl_sim_kind kind, struct sl_sim_plan *plan,
                      struct json_object **doc, struct sl_sim_error *err)
{
	*plan = (struct sl_sim_plan){.kind = kind};
	*doc = parse_body(sim, req->entity);
	if (!*doc)
		return fail(err, "We could not parse the JSON body of your request: expected a JSON object", NULL,
		            "invalid_json");
	int rc = read_model(sim, req, *doc, plan, err);
	if (!rc)
		rc = kind == SL_SIM_EMBED ? read_embed(req, plan, *doc, err) : read_generate(sim, plan, *doc, err);
	if (rc) {
		json_object_put(*doc);
		*doc = NULL;
	}
	return rc;
}
