/* load_prompts.c: the prompts of `sluice load` (built in, or read from a JSONL file) and the
 * request bodies made from them. The built-in second set of --shift-at is in load_prompts_ru.c.
 * Invariant: every stored fragment is valid JSON, escaped once at load time, so building a
 * body per request is a handful of appends. A JSONL line never costs more than 1 MiB. */
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/load.h"

static const char *const builtin[] = {
    "What is the capital of France?",
    "Write a haiku about autumn rain.",
    "Explain recursion to a ten-year-old.",
    "Translate 'good morning' into Spanish, German and Japanese.",
    "Summarize the plot of Hamlet in two sentences.",
    "Give me three ideas for a weeknight vegetarian dinner.",
    "What does HTTP status 429 mean?",
    "How do I reverse a linked list in C?",
    "Suggest a name for a grey cat.",
    "Is a tomato a fruit or a vegetable?",
    "Write a SQL query that counts orders per customer.",
    "What are the symptoms of dehydration?",
    "Convert 72 degrees Fahrenheit to Celsius.",
    "Draft a polite email asking for a deadline extension.",
    "List the planets of the solar system in order.",
    "Why is the sky blue?",
    "Explain the difference between TCP and UDP.",
    "Recommend a science fiction novel for a long flight.",
    "What is 17 times 23?",
    "Write a limerick about a programmer and a bug.",
    "How does compound interest work?",
    "Give me a packing list for a weekend of hiking.",
    "What is the time complexity of binary search?",
    "Rewrite this sentence more formally: gonna be late, sorry.",
    "Name five famous paintings and their painters.",
    "How do vaccines train the immune system?",
    "Write a Python function that checks for palindromes.",
    "What should I consider when adopting a dog?",
    "Explain what a p-value is, without formulas.",
    "Plan a three-day trip to Lisbon.",
    "What is the difference between affect and effect?",
    "Describe the water cycle.",
    "Tell me a fun fact about octopuses.",
    "How can I improve my sleep?",
    "Write a short product description for a steel water bottle.",
    "What were the causes of the First World War?",
    "Explain Kubernetes pods in one paragraph.",
    "Give me a regular expression that matches an email address.",
    "Compose a birthday message for a coworker.",
    "What is the meaning of the word 'ephemeral'?",
};

void sl_load_prompts_init(struct sl_load_prompts *ps)
{
	ps->v = NULL;
	ps->n = ps->cap = 0;
}

void sl_load_prompt_release(struct sl_load_prompt *p)
{
	free(p->messages);
	free(p->text);
	memset(p, 0, sizeof(*p));
}

void sl_load_prompts_release(struct sl_load_prompts *ps)
{
	for (size_t i = 0; i < ps->n; i++)
		sl_load_prompt_release(&ps->v[i]);
	free(ps->v);
	sl_load_prompts_init(ps);
}

static int push(struct sl_load_prompts *ps, struct sl_load_prompt *p)
{
	if (ps->n == ps->cap) {
		size_t cap = ps->cap ? ps->cap * 2 : 64;
		struct sl_load_prompt *v = realloc(ps->v, cap * sizeof(*v));
		if (!v)
			return SL_ENOMEM;
		ps->v = v;
		ps->cap = cap;
	}
	ps->v[ps->n++] = *p;
	return 0;
}

/* Moves b's bytes into a malloc'd string the caller owns. */
static char *take(struct sl_buf *b, size_t *len)
{
	char *s = b->data;
	*len = b->len;
	sl_buf_init(b, 0);
	return s;
}

/* Fills p from plain text: text is the literal, messages one user message. */
static int prompt_from_text(struct sl_load_prompt *p, const char *s, size_t n)
{
	struct sl_buf t, m;
	sl_buf_init(&t, 0);
	sl_buf_init(&m, 0);
	int rc = sl_buf_json_str(&t, s, n);
	if (!rc && !(rc = sl_buf_puts(&m, "[{\"role\":\"user\",\"content\":")) &&
	    !(rc = sl_buf_append(&m, t.data, t.len)))
		rc = sl_buf_puts(&m, "}]");
	if (rc) {
		sl_buf_release(&t);
		sl_buf_release(&m);
		return rc;
	}
	p->text = take(&t, &p->text_len);
	p->messages = take(&m, &p->messages_len);
	return 0;
}

int sl_load_prompts_add_texts(struct sl_load_prompts *ps, const char *const *texts, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct sl_load_prompt p;
		int rc = prompt_from_text(&p, texts[i], strlen(texts[i]));
		if (!rc && (rc = push(ps, &p)))
			sl_load_prompt_release(&p);
		if (rc)
			return rc;
	}
	return 0;
}

int sl_load_prompts_builtin(struct sl_load_prompts *ps)
{
	return sl_load_prompts_add_texts(ps, builtin, sizeof(builtin) / sizeof(builtin[0]));
}

static int why(char *buf, size_t cap, const char *msg)
{
	snprintf(buf, cap, "%s", msg);
	return SL_EPARSE;
}

static int add_text(struct sl_buf *out, struct json_object *s)
{
	if (!json_object_is_type(s, json_type_string))
		return 0;
	int rc = out->len ? sl_buf_append(out, "\n", 1) : 0;
	return rc ? rc : sl_buf_append(out, json_object_get_string(s), (size_t)json_object_get_string_len(s));
}

/* A content that is an array of parts contributes the "text" of each part. */
static int content_text(struct json_object *c, struct sl_buf *out)
{
	if (!json_object_is_type(c, json_type_array))
		return add_text(out, c);
	size_t n = json_object_array_length(c);
	int rc = 0;
	for (size_t i = 0; i < n && !rc; i++) {
		struct json_object *t;
		if (json_object_object_get_ex(json_object_array_get_idx(c, i), "text", &t))
			rc = add_text(out, t);
	}
	return rc;
}

/* The text of a messages array: every message's content, one per line. */
static int messages_text(struct json_object *arr, struct sl_buf *out)
{
	size_t n = json_object_array_length(arr);
	int rc = 0;
	for (size_t i = 0; i < n && !rc; i++) {
		struct json_object *c;
		if (json_object_object_get_ex(json_object_array_get_idx(arr, i), "content", &c))
			rc = content_text(c, out);
	}
	return rc;
}

static bool messages_valid(struct json_object *arr)
{
	size_t n = json_object_array_length(arr);
	for (size_t i = 0; i < n; i++) {
		struct json_object *role, *m = json_object_array_get_idx(arr, i);
		if (!json_object_is_type(m, json_type_object) || !json_object_object_get_ex(m, "role", &role) ||
		    !json_object_is_type(role, json_type_string))
			return false;
	}
	return n > 0;
}

static int prompt_from_messages(struct sl_load_prompt *p, struct json_object *arr, char *whybuf, size_t whycap)
{
	struct sl_buf text, lit;
	if (!messages_valid(arr))
		return why(whybuf, whycap, "\"messages\" must be a non-empty array of objects with a string \"role\"");
	const char *js = json_object_to_json_string_ext(arr, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	sl_buf_init(&text, 0);
	sl_buf_init(&lit, 0);
	int rc = messages_text(arr, &text);
	if (!rc)
		rc = sl_buf_json_str(&lit, text.data ? text.data : "", text.len);
	sl_buf_release(&text);
	p->messages = rc ? NULL : strdup(js);
	if (rc || !p->messages) {
		sl_buf_release(&lit);
		return rc ? rc : SL_ENOMEM;
	}
	p->messages_len = strlen(p->messages);
	p->text = take(&lit, &p->text_len);
	return 0;
}

static int prompt_from_object(struct sl_load_prompt *p, struct json_object *obj, char *whybuf, size_t whycap)
{
	struct json_object *v;
	if (!json_object_is_type(obj, json_type_object))
		return why(whybuf, whycap, "not a JSON object");
	if (json_object_object_get_ex(obj, "messages", &v) && json_object_is_type(v, json_type_array))
		return prompt_from_messages(p, v, whybuf, whycap);
	if (json_object_object_get_ex(obj, "prompt", &v) && json_object_is_type(v, json_type_string))
		return prompt_from_text(p, json_object_get_string(v), (size_t)json_object_get_string_len(v));
	return why(whybuf, whycap, "needs \"prompt\" (a string) or \"messages\" (an array)");
}

int sl_load_prompt_parse(struct sl_load_prompt *p, const char *line, size_t len, char *whybuf, size_t whycap)
{
	memset(p, 0, sizeof(*p));
	if (len > SL_LOAD_PROMPT_LINE_MAX)
		return why(whybuf, whycap, "line longer than 1 MiB");
	struct json_tokener *tok = json_tokener_new();
	if (!tok)
		return SL_ENOMEM;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	struct json_object *obj = json_tokener_parse_ex(tok, line, (int)len);
	enum json_tokener_error jerr = json_tokener_get_error(tok);
	size_t end = json_tokener_get_parse_end(tok);
	int rc;
	if (jerr != json_tokener_success)
		rc = jerr == json_tokener_continue
		         ? why(whybuf, whycap, "incomplete JSON")
		         : (snprintf(whybuf, whycap, "invalid JSON (%s)", json_tokener_error_desc(jerr)), SL_EPARSE);
	else if (end != len && strspn(line + end, " \t\r") != len - end)
		rc = why(whybuf, whycap, "trailing characters after the JSON value");
	else
		rc = prompt_from_object(p, obj, whybuf, whycap);
	if (rc)
		sl_load_prompt_release(p);
	json_object_put(obj);
	json_tokener_free(tok);
	return rc;
}

/* Reading a file line by line with a bounded line buffer. */
struct line_reader {
	FILE *f;
	const char *path;
	struct sl_buf line;
	uint64_t lineno, bad;
	bool too_long;
};

static void report(struct line_reader *lr, const char *msg)
{
	lr->bad++;
	if (lr->bad <= 20)
		fprintf(stderr, "sluice load: %s:%llu: %s\n", lr->path, (unsigned long long)lr->lineno, msg);
	else if (lr->bad == 21)
		fprintf(stderr, "sluice load: %s: more bad lines not shown\n", lr->path);
}

static bool blank(const char *s, size_t n)
{
	return strspn(s, " \t\r") == n;
}

static int finish_line(struct line_reader *lr, struct sl_load_prompts *ps)
{
	char whybuf[160];
	struct sl_load_prompt p;
	const char *s = lr->line.data ? lr->line.data : "";
	size_t n = lr->line.len;
	int rc = 0;
	lr->lineno++;
	if (lr->lineno == 1 && n >= 3 && memcmp(s, "\xef\xbb\xbf", 3) == 0) {
		s += 3;
		n -= 3;
	}
	if (lr->too_long) {
		report(lr, "line longer than 1 MiB");
	} else if (!blank(s, n)) {
		rc = sl_load_prompt_parse(&p, s, n, whybuf, sizeof(whybuf));
		if (rc == SL_EPARSE)
			report(lr, whybuf);
		else if (!rc)
			rc = push(ps, &p);
		if (rc)
			sl_load_prompt_release(&p);
	}
	lr->too_long = false;
	sl_buf_reset(&lr->line);
	return rc == SL_EPARSE ? 0 : rc;
}

/* Appends piece to the current line, or marks the line too long and drops it. */
static int add_piece(struct line_reader *lr, const char *p, size_t n)
{
	if (lr->too_long)
		return 0;
	int rc = sl_buf_append(&lr->line, p, n);
	if (rc == SL_ETOOBIG) {
		lr->too_long = true;
		sl_buf_reset(&lr->line);
		return 0;
	}
	return rc;
}

static int feed_block(struct line_reader *lr, struct sl_load_prompts *ps, const char *p, size_t n)
{
	while (n > 0) {
		const char *nl = memchr(p, '\n', n);
		size_t k = nl ? (size_t)(nl - p) : n;
		int rc = add_piece(lr, p, k);
		if (!rc && nl)
			rc = finish_line(lr, ps);
		if (rc)
			return rc;
		k += nl ? 1 : 0;
		p += k;
		n -= k;
	}
	return 0;
}

static int read_lines(struct line_reader *lr, struct sl_load_prompts *ps)
{
	static char block[65536];
	size_t got;
	int rc = 0;
	while (!rc && (got = fread(block, 1, sizeof(block), lr->f)) > 0)
		rc = feed_block(lr, ps, block, got);
	if (!rc && ferror(lr->f))
		rc = SL_EIO;
	if (!rc && (lr->line.len > 0 || lr->too_long))
		rc = finish_line(lr, ps);
	return rc;
}

/* strerror in the house style: lower case first letter. */
static const char *os_error(int e, char *buf, size_t cap)
{
	snprintf(buf, cap, "%s", strerror(e));
	if (buf[0] >= 'A' && buf[0] <= 'Z')
		buf[0] = (char)(buf[0] - 'A' + 'a');
	return buf;
}

int sl_load_prompts_read(struct sl_load_prompts *ps, const char *path)
{
	char ebuf[128];
	struct line_reader lr = {.path = path};
	lr.f = fopen(path, "rb");
	if (!lr.f) {
		fprintf(stderr, "sluice load: cannot open '%s': %s\n", path, os_error(errno, ebuf, sizeof(ebuf)));
		return SL_EIO;
	}
	sl_buf_init(&lr.line, SL_LOAD_PROMPT_LINE_MAX);
	int rc = read_lines(&lr, ps);
	if (rc == SL_EIO)
		fprintf(stderr, "sluice load: cannot read '%s': %s\n", path, os_error(errno, ebuf, sizeof(ebuf)));
	else if (rc)
		fprintf(stderr, "sluice load: '%s': %s\n", path, sl_strerror(rc));
	else if (lr.bad)
		rc = SL_EPARSE;
	else if (ps->n == 0 && (rc = SL_EPARSE))
		fprintf(stderr, "sluice load: '%s': no prompts in the file\n", path);
	sl_buf_release(&lr.line);
	fclose(lr.f);
	return rc;
}

int sl_load_body_tmpl_init(struct sl_load_body_tmpl *t, const struct sl_load_opts *o)
{
	struct sl_buf *h = &t->head;
	t->endpoint = o->endpoint;
	sl_buf_init(h, 0);
	int rc = sl_buf_puts(h, "{\"model\":");
	if (!rc)
		rc = sl_buf_json_str(h, o->model, strlen(o->model));
	if (!rc && o->endpoint != SL_LOAD_EMBEDDINGS)
		rc = sl_buf_printf(h, ",\"max_tokens\":%llu", (unsigned long long)o->max_tokens);
	if (!rc)
		rc = sl_buf_puts(h, ",\"user\":\"user-");
	if (rc)
		sl_buf_release(h);
	return rc;
}

void sl_load_body_tmpl_release(struct sl_load_body_tmpl *t)
{
	sl_buf_release(&t->head);
}

static int append_u64(struct sl_buf *b, uint64_t v)
{
	char tmp[24];
	size_t i = sizeof(tmp);
	do {
		tmp[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	return sl_buf_append(b, tmp + i, sizeof(tmp) - i);
}

int sl_load_body(struct sl_buf *b, const struct sl_load_body_tmpl *t, const struct sl_load_prompt *p, uint64_t user,
                 bool stream)
{
	static const char *const key[] = {"\",\"messages\":", "\",\"prompt\":", "\",\"input\":"};
	bool chat = t->endpoint == SL_LOAD_CHAT;
	sl_buf_reset(b);
	int rc = sl_buf_append(b, t->head.data, t->head.len);
	if (!rc)
		rc = append_u64(b, user);
	if (!rc)
		rc = sl_buf_puts(b, key[t->endpoint]);
	if (!rc)
		rc = chat ? sl_buf_append(b, p->messages, p->messages_len) : sl_buf_append(b, p->text, p->text_len);
	if (!rc && stream)
		rc = sl_buf_puts(b, ",\"stream\":true");
	if (!rc)
		rc = sl_buf_append(b, "}", 1);
	return rc;
}
