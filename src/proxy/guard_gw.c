/* guard_gw.c: the guard runtime of one configuration load, and the inspection of requests.
 * Compiled rule sets and classifier models are shared between models that name the same files
 * (one of each per distinct file). The Vectorscan scratch is one per process (the loop thread),
 * fitted to every rule set built; fitting only grows it, so an older runtime still held by a
 * request keeps working. The segment table and the buffer of the system text are the loop
 * thread's too, reused from request to request. Each model with input checks has its own memo
 * of segments seen before (input.memo_bytes), made and freed with the runtime, so a reload that
 * changes rules or models starts with an empty one.
 *
 * Trust of a message: system and developer are trusted; user is direct; tool and function
 * results, and any message named "document" (how an application marks retrieved content), are
 * indirect. Completions' `prompt` is direct. */
#include <json-c/json.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proxy/guard_gw.h"
#include "sluice/guard_model.h"

#define MAX_SEGMENTS 1024
#define MAX_SHARED 16 /* distinct rules files or model files per configuration */

struct shared_rules {
	char file[SL_GUARD_PATH_MAX];
	struct sl_guard_rules *rules;
};
struct shared_model {
	char file[SL_GUARD_PATH_MAX];
	struct sl_guard_model *model;
};

struct sl_guard_rt {
	struct sl_guard_mrt *models;
	size_t nmodels;
	struct shared_rules rules[MAX_SHARED];
	struct shared_model clf[MAX_SHARED];
	size_t nrules, nclf;
};

static struct sl_guard_scratch *scratch; /* loop thread */

/* ---- building ---- */

static int get_rules(struct sl_guard_rt *rt, const char *file, const struct sl_guard_rules **out, char *err,
		     size_t errlen)
{
	for (size_t i = 0; i < rt->nrules; i++)
		if (strcmp(rt->rules[i].file, file) == 0)
			return *out = rt->rules[i].rules, 0;
	if (rt->nrules == MAX_SHARED)
		return snprintf(err, errlen, "guard: more than %d distinct rules files", MAX_SHARED), SL_ECONFIG;
	struct shared_rules *s = &rt->rules[rt->nrules];
	int rc = sl_guard_rules_load_default(file, &s->rules, err, errlen);
	if (!rc)
		rc = scratch ? sl_guard_scratch_fit(scratch, s->rules) : sl_guard_scratch_new(s->rules, &scratch);
	if (rc) {
		sl_guard_rules_free(s->rules);
		return rc == SL_ENOMEM ? rc : SL_ECONFIG;
	}
	snprintf(s->file, sizeof(s->file), "%s", file);
	rt->nrules++;
	*out = s->rules;
	return 0;
}

/* The model a setting names (sl_guard_model_path), loaded once per distinct file. */
static int get_model(struct sl_guard_rt *rt, const char *setting, const char *rel, struct sl_guard_model **out,
		     char *err, size_t errlen)
{
	char file[SL_GUARD_PATH_MAX];
	*out = NULL;
	if (sl_guard_model_path(setting, rel, file, sizeof(file)) != 0)
		return snprintf(err, errlen, "guard: model path '%s' too long", setting), SL_ECONFIG;
	if (!file[0])
		return 0;
	for (size_t i = 0; i < rt->nclf; i++)
		if (strcmp(rt->clf[i].file, file) == 0)
			return *out = rt->clf[i].model, 0;
	if (rt->nclf == MAX_SHARED)
		return snprintf(err, errlen, "guard: more than %d distinct model files", MAX_SHARED), SL_ECONFIG;
	struct shared_model *s = &rt->clf[rt->nclf];
	int rc = sl_guard_model_load(file, &s->model, err, errlen);
	if (rc)
		return rc == SL_ENOMEM ? rc : SL_ECONFIG;
	snprintf(s->file, sizeof(s->file), "%s", file);
	rt->nclf++;
	*out = s->model;
	return 0;
}

static int build_model(struct sl_guard_rt *rt, const struct sl_config *cfg, unsigned i, char *err, size_t errlen)
{
	struct sl_guard_mrt *m = &rt->models[i];
	char sub[256];
	m->model = cfg->models[i].name;
	sl_guard_opts_default(&m->opts);
	int rc = sl_guard_config_resolve(cfg->guard_json_ ? cfg->guard_json_ : "{}",
					 cfg->models[i].guard_json_ ? cfg->models[i].guard_json_ : "{}", &m->cfg, sub,
					 sizeof(sub));
	if (rc)
		return snprintf(err, errlen, "guard of model '%s': %s", m->model, sub), rc;
	if (!m->cfg.input_on)
		return 0;
	struct sl_guard_model *clf = NULL, *doc = NULL;
	m->opts.threshold = m->cfg.input.threshold;
	m->opts.action = m->cfg.input.action;
	m->opts.scan_trusted = m->cfg.input.scan_trusted;
	rc = get_rules(rt, m->cfg.input.rules_file, &m->rules, err, errlen);
	if (!rc)
		rc = get_model(rt, m->cfg.input.model_file, SL_GUARD_MODEL_FILE, &clf, err, errlen);
	if (!rc)
		rc = get_model(rt, m->cfg.input.indirect_model_file, SL_GUARD_INDIRECT_MODEL_FILE, &doc, err, errlen);
	if (!rc)
		sl_guard_opts_models(&m->opts, &m->pair, clf, doc);
	if (!rc && m->cfg.input.memo_bytes)
		rc = sl_guard_memo_new(m->cfg.input.memo_bytes, &m->memo);
	return rc;
}

int sl_guard_rt_new(const struct sl_config *cfg, struct sl_guard_rt **out, char *err, size_t errlen)
{
	struct sl_guard_rt *rt = calloc(1, sizeof(*rt));
	*out = NULL;
	if (!rt || !(rt->models = calloc(cfg->models_count, sizeof(*rt->models)))) {
		free(rt);
		return SL_ENOMEM;
	}
	int rc = 0;
	bool any = false;
	for (unsigned i = 0; !rc && i < cfg->models_count; i++, rt->nmodels++) {
		rc = build_model(rt, cfg, i, err, errlen);
		any = any || (!rc && sl_guard_config_any(&rt->models[i].cfg));
	}
	if (rc || !any) {
		sl_guard_rt_free(rt);
		return rc;
	}
	*out = rt;
	return 0;
}

void sl_guard_rt_free(struct sl_guard_rt *rt)
{
	if (!rt)
		return;
	for (size_t i = 0; i < rt->nmodels; i++) {
		sl_guard_config_release(&rt->models[i].cfg);
		sl_guard_memo_free(rt->models[i].memo);
	}
	for (size_t i = 0; i < rt->nrules; i++)
		sl_guard_rules_free(rt->rules[i].rules);
	for (size_t i = 0; i < rt->nclf; i++)
		sl_guard_model_free(rt->clf[i].model);
	free(rt->models);
	free(rt);
}

const struct sl_guard_mrt *sl_guard_rt_find(const struct sl_guard_rt *rt, const char *model)
{
	for (size_t i = 0; rt && i < rt->nmodels; i++)
		if (strcmp(rt->models[i].model, model) == 0)
			return sl_guard_config_any(&rt->models[i].cfg) ? &rt->models[i] : NULL;
	return NULL;
}

/* ---- the request's segments ---- */

struct segs {
	struct sl_guard_segment s[MAX_SEGMENTS];
	struct json_object *where[MAX_SEGMENTS]; /* the string object each came from */
	int msg[MAX_SEGMENTS];                   /* its message index (-1 for a prompt) */
	size_t n;
	bool overflow; /* more text parts than MAX_SEGMENTS: the request cannot be inspected whole */
};

/* a == b, inlined: the keys and roles compared are a few bytes long, shorter than a call to
 * strcmp. */
static bool same_key(const char *a, const char *b)
{
	while (*a && *a == *b)
		a++, b++;
	return *a == *b;
}

unsigned sl_guard_members(struct json_object *obj, const char *const *keys, unsigned n, struct json_object **vals)
{
	unsigned has = 0, all = (unsigned)(((uint64_t)1 << n) - 1);
	for (unsigned i = 0; i < n; i++)
		vals[i] = NULL;
	struct lh_table *t = json_object_get_object(obj); /* NULL unless obj is an object */
	for (struct lh_entry *e = t ? lh_table_head(t) : NULL; e && has != all; e = lh_entry_next(e)) {
		const char *key = lh_entry_k(e);
		for (unsigned i = 0; i < n; i++)
			if (key[0] == keys[i][0] && same_key(key, keys[i])) {
				vals[i] = (struct json_object *)lh_entry_v(e);
				has |= 1u << i;
				break;
			}
	} /* has == all: the rest need not be read, keys are unique in an object */
	return has;
}

static const char *str_or_null(struct json_object *v)
{
	return json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

/* A message's trust, from its role (non-NULL) and name (or NULL). */
static enum sl_guard_trust trust_of(const char *role, const char *name)
{
	if (name && same_key(name, "document"))
		return SL_GUARD_INDIRECT;
	if (same_key(role, "tool") || same_key(role, "function"))
		return SL_GUARD_INDIRECT;
	if (same_key(role, "system") || same_key(role, "developer"))
		return SL_GUARD_TRUSTED;
	return SL_GUARD_DIRECT; /* user; assistant turns are skipped by the caller */
}

static void add_seg(struct segs *sg, enum sl_guard_trust trust, struct json_object *str, int msg)
{
	if (!json_object_is_type(str, json_type_string))
		return;
	if (sg->n == MAX_SEGMENTS) {
		sg->overflow = true;
		return;
	}
	sg->s[sg->n] = (struct sl_guard_segment){trust, json_object_get_string(str),
						  (size_t)json_object_get_string_len(str)};
	sg->where[sg->n] = str;
	sg->msg[sg->n++] = msg;
}

/* A content: a string, or an array of parts whose "text" strings are the text. */
static void add_content(struct segs *sg, enum sl_guard_trust trust, struct json_object *content, int msg)
{
	if (json_object_is_type(content, json_type_string))
		return add_seg(sg, trust, content, msg);
	if (!json_object_is_type(content, json_type_array))
		return;
	for (size_t i = 0; i < json_object_array_length(content); i++) {
		struct json_object *part = json_object_array_get_idx(content, i), *text;
		if (json_object_is_type(part, json_type_string))
			add_seg(sg, trust, part, msg);
		else if (json_object_is_type(part, json_type_object) && json_object_object_get_ex(part, "text", &text))
			add_seg(sg, trust, text, msg);
	}
}

/* One message: its content's text parts, with the trust of its role and name; assistant turns
 * and messages without a string role or a content are skipped. */
static void add_message(struct segs *sg, struct json_object *m, int idx)
{
	static const char *const keys[] = {"role", "content", "name"};
	struct json_object *v[3];
	unsigned has = sl_guard_members(m, keys, 3, v);
	const char *role = str_or_null(v[0]);
	if (!role || same_key(role, "assistant") || !(has & 2))
		return;
	add_content(sg, trust_of(role, str_or_null(v[2])), v[1], idx);
}

/* The text parts of the request's "prompt" (completions) and "messages" (chat). */
static void collect(struct json_object *prompt, struct json_object *msgs, struct segs *sg)
{
	sg->n = 0;
	sg->overflow = false;
	add_content(sg, SL_GUARD_DIRECT, prompt, -1); /* nothing when there is none */
	if (!json_object_is_type(msgs, json_type_array))
		return;
	for (size_t i = 0; i < json_object_array_length(msgs); i++)
		add_message(sg, json_object_array_get_idx(msgs, i), (int)i);
}

/* System and developer text, for the answer's leak check, in a buffer of the loop thread kept
 * from request to request (at most 1 MiB; res borrows it until the next request). */
static void system_text(const struct segs *sg, struct sl_guard_req *res)
{
	static struct sl_buf buf = {.limit = 1 << 20};
	struct sl_buf *b = &buf;
	sl_buf_reset(b);
	for (size_t i = 0; i < sg->n; i++)
		if (sg->s[i].trust == SL_GUARD_TRUSTED &&
		    (sl_buf_append(b, sg->s[i].text, sg->s[i].len) != 0 || sl_buf_puts(b, "\n") != 0))
			break;
	res->system_prompt = b->data;
	res->system_len = b->len;
}

/* ---- decisions ---- */

/* Spotlights every indirect segment and tells the model how in a system message. */
static int sanitize(struct json_object *root, const struct segs *sg)
{
	struct sl_buf b;
	unsigned id = 0;
	sl_buf_init(&b, 0);
	for (size_t i = 0; i < sg->n; i++) {
		if (sg->s[i].trust != SL_GUARD_INDIRECT)
			continue;
		sl_buf_reset(&b);
		if (sl_guard_spotlight(&sg->s[i], ++id, &b) != 0 || json_object_set_string_len(sg->where[i], b.data, (int)b.len) == 0) {
			sl_buf_release(&b);
			return SL_ENOMEM;
		}
	}
	sl_buf_release(&b);
	struct json_object *msgs, *note, *fresh;
	if (!json_object_object_get_ex(root, "messages", &msgs) || !json_object_is_type(msgs, json_type_array))
		return 0;
	/* json-c 0.16 has no array insert: a new array with the notice first */
	if (!(fresh = json_object_new_array()) || !(note = json_object_new_object()))
		return json_object_put(fresh), SL_ENOMEM;
	json_object_object_add(note, "role", json_object_new_string("system"));
	json_object_object_add(note, "content", json_object_new_string(sl_guard_spotlight_notice()));
	json_object_array_add(fresh, note);
	for (size_t i = 0; i < json_object_array_length(msgs); i++)
		json_object_array_add(fresh, json_object_get(json_object_array_get_idx(msgs, i)));
	return json_object_object_add(root, "messages", fresh) == 0 ? 0 : SL_ENOMEM;
}

static void describe(const struct sl_guard_verdict *v, const struct segs *sg, struct sl_guard_req *res)
{
	struct sl_buf why;
	sl_buf_init(&why, sizeof(res->message) - 1);
	if (v->nreasons > 0 && sl_guard_reason_format(&v->reasons[0], &why) == 0)
		snprintf(res->message, sizeof(res->message), "prompt injection detected (risk %.2f): %.*s", v->score,
			 (int)why.len, why.data);
	else
		snprintf(res->message, sizeof(res->message), "prompt injection detected (risk %.2f)", v->score);
	sl_buf_release(&why);
	int msg = v->segment >= 0 && (size_t)v->segment < sg->n ? sg->msg[v->segment] : -1;
	snprintf(res->header, sizeof(res->header), "%s; risk=%.2f; message=%d; trust=%s",
		 sl_guard_action_name(v->action), v->score, msg, sl_guard_trust_name(v->trust));
}

static int input_scan(const struct sl_guard_mrt *g, struct json_object *root, const struct segs *sg,
		      struct sl_guard_req *res)
{
	struct sl_guard_verdict v;
	int rc = sl_guard_scan_memo(g->rules, scratch, &g->opts, g->memo, sg->s, sg->n, &v);
	if (rc)
		return rc;
	res->score = v.score;
	res->scanned = v.scanned;
	res->remembered = v.remembered;
	if (!v.fired || v.action == SL_GUARD_ALLOW)
		return 0;
	describe(&v, sg, res);
	if (v.action == SL_GUARD_BLOCK) {
		res->status = 400;
		res->code = "prompt_injection_detected";
		res->outcome = "block";
		return 0;
	}
	/* spotlighting marks documents and tool results; a user message that fires is flagged */
	if (v.action == SL_GUARD_SANITIZE && v.trust == SL_GUARD_INDIRECT) {
		res->outcome = "sanitize";
		return sanitize(root, sg);
	}
	res->outcome = "flag";
	return 0;
}

static int agents(const struct sl_guard_mrt *g, struct json_object *root, struct sl_guard_req *res)
{
	struct sl_agent_result ar;
	char err[256];
	int rc = sl_agent_policy_check_request(&g->cfg.agents, root, &ar, err, sizeof(err));
	if (rc == SL_EINVAL) {
		res->status = 400;
		res->code = "invalid_request";
		snprintf(res->message, sizeof(res->message), "%s", err);
		return 0;
	}
	if (rc)
		return rc;
	res->session = ar.session;
	if (ar.verdict == SL_AGENT_ALLOW)
		return 0;
	size_t used = strlen(res->header);
	snprintf(res->header + used, sizeof(res->header) - used, "%srule_of_two=%s", used ? "; " : "",
		 sl_agent_verdict_name(ar.verdict));
	if (ar.verdict == SL_AGENT_BLOCKED) {
		res->status = 400;
		res->code = "rule_of_two_violation";
		res->outcome = "block";
		snprintf(res->message, sizeof(res->message), "%s", ar.message);
	} else if (!res->outcome || strcmp(res->outcome, "flag") == 0) {
		res->outcome = ar.verdict == SL_AGENT_REMOVED ? "remove" : "flag";
	}
	return 0;
}

/* Output checks follow choice 0 only, so a request asking for several ("n", or NULL) is refused. */
static bool several_choices(struct json_object *n)
{
	return json_object_get_int64(n) > 1;
}

/* A blank result: all zero but the score, message and header only emptied (they are 832 bytes
 * and most requests write neither). */
static void req_init(struct sl_guard_req *res)
{
	memset(res, 0, offsetof(struct sl_guard_req, message));
	res->message[0] = res->header[0] = '\0';
	memset(&res->session, 0, sizeof(*res) - offsetof(struct sl_guard_req, session));
	res->score = -1;
}

int sl_guard_gw_request(const struct sl_guard_mrt *g, struct json_object *root, struct sl_guard_req *res)
{
	static struct segs sg; /* loop thread; large */
	static const char *const keys[] = {"prompt", "messages", "n"};
	struct json_object *v[3];
	req_init(res);
	sl_guard_members(root, keys, 3, v);
	collect(v[0], v[1], &sg);
	if (g->cfg.output_on && several_choices(v[2])) {
		res->status = 400;
		res->code = "invalid_request";
		snprintf(res->message, sizeof(res->message), "'n' above 1 is not supported when answers are checked");
		return 0;
	}
	if (g->cfg.input_on && sg.overflow) { /* never scan part of a request and call it clean */
		res->status = 400;
		res->code = "invalid_request";
		snprintf(res->message, sizeof(res->message),
			 "the request has more than %d text parts; the guard inspects at most that many", MAX_SEGMENTS);
		return 0;
	}
	int rc = g->cfg.input_on ? input_scan(g, root, &sg, res) : 0;
	if (!rc && !res->status && g->cfg.agents_on)
		rc = agents(g, root, res);
	if (!rc && !res->status && g->cfg.output_on && g->cfg.output.system_prompt_leak)
		system_text(&sg, res);
	return rc;
}

void sl_guard_req_release(struct sl_guard_req *res)
{
	res->system_prompt = NULL; /* borrowed (system_text) */
	res->system_len = 0;
}

