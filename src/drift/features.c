/* features.c: prompt features for drift (see features.h). Scripts are told apart by Unicode
 * block of each letter; character classes by ASCII class or, beyond ASCII, by script; the topic
 * sketch hashes lower-cased words and adjacent word pairs (FNV-1a) into SL_TOPIC_DIMS signed
 * buckets (the hashing trick), so its memory is fixed whatever the vocabulary. */
#include <json-c/json.h>
#include <math.h>
#include <string.h>

#include "sluice/core.h"
#include "sluice/features.h"

const char *const sl_feature_names[SL_F_COUNT] = {
	"prompt_chars",	   "prompt_tokens",  "messages",	"script_latin", "script_cyrillic",
	"script_cjk",	   "script_arabic",  "script_other",	"class_letter", "class_digit",
	"class_space",	   "class_punct",    "response_tokens", "latency_ms",	"ttft_ms",
	"recs_diversity", "recs_novelty", "recs_repetition", "recs_ctr", "recs_watch_s"};

struct counts {
	double chars, letters[5], classes[4];
	uint32_t prev_word, word;
	bool in_word, have_prev;
};

static uint32_t decode(const unsigned char *s, size_t n, size_t *len)
{
	size_t l = sl_utf8_seq_len(s, n);
	*len = l ? l : 1;
	if (l <= 1)
		return l ? s[0] : 0xFFFD;
	uint32_t c = s[0] & (0xFF >> (l + 1));
	for (size_t i = 1; i < l; i++)
		c = (c << 6) | (s[i] & 0x3F);
	return c;
}

static int script_of(uint32_t c)
{
	if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= 0xC0 && c <= 0x24F))
		return 0;
	if (c >= 0x400 && c <= 0x52F)
		return 1;
	if ((c >= 0x3040 && c <= 0x30FF) || (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0xAC00 && c <= 0xD7AF))
		return 2;
	if (c >= 0x600 && c <= 0x6FF)
		return 3;
	return 4;
}

static void topic_add(struct sl_features *f, uint32_t h)
{
	f->topic[h % SL_TOPIC_DIMS] += (h >> 31) ? 1.0f : -1.0f;
}

static void end_word(struct counts *k, struct sl_features *f)
{
	if (!k->in_word)
		return;
	topic_add(f, k->word);
	if (k->have_prev)
		topic_add(f, (k->prev_word ^ (k->word * 0x01000193u)) * 0x9e3779b1u);
	k->prev_word = k->word;
	k->have_prev = true;
	k->in_word = false;
}

static void count_char(struct counts *k, struct sl_features *f, uint32_t c)
{
	k->chars++;
	bool ascii_letter = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
	bool letter = ascii_letter || (c >= 0xC0 && c != 0xD7 && c != 0xF7 && c < 0xFFF0 && !(c >= 0x2000 && c < 0x3040));
	if (letter) {
		k->letters[script_of(c)]++;
		k->classes[0]++;
		uint32_t lc = (c >= 'A' && c <= 'Z') ? c + 32 : c;
		k->word = (k->in_word ? k->word : 0x811c9dc5u) ^ lc;
		k->word *= 0x01000193u;
		k->in_word = true;
		return;
	}
	end_word(k, f);
	if (c >= '0' && c <= '9')
		k->classes[1]++;
	else if (c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == 0x3000)
		k->classes[2]++;
	else
		k->classes[3]++;
}

static void add_text(struct counts *k, struct sl_features *f, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	for (size_t i = 0; i < n;) {
		size_t len;
		uint32_t c = p[i] < 0x80 ? (len = 1, p[i]) : decode(p + i, n - i, &len);
		count_char(k, f, c);
		i += len;
	}
	end_word(k, f);
	k->have_prev = false;
}

static void finish(struct counts *k, struct sl_features *f, double messages)
{
	double letters = k->letters[0] + k->letters[1] + k->letters[2] + k->letters[3] + k->letters[4];
	f->v[SL_F_PROMPT_CHARS] = k->chars;
	f->v[SL_F_PROMPT_TOKENS] = ceil(k->chars / 4.0);
	f->v[SL_F_MESSAGES] = messages;
	for (int i = 0; i < 5; i++)
		f->v[SL_F_SCRIPT_LATIN + i] = letters > 0 ? k->letters[i] / letters : NAN;
	for (int i = 0; i < 4; i++)
		f->v[SL_F_CLASS_LETTER + i] = k->chars > 0 ? k->classes[i] / k->chars : NAN;
	double norm = 0;
	for (int i = 0; i < SL_TOPIC_DIMS; i++)
		norm += (double)f->topic[i] * f->topic[i];
	f->has_topic = norm > 0;
	for (int i = 0; norm > 0 && i < SL_TOPIC_DIMS; i++)
		f->topic[i] = (float)(f->topic[i] / sqrt(norm));
}

static void reset(struct sl_features *f)
{
	for (int i = 0; i < SL_F_COUNT; i++)
		f->v[i] = NAN;
	memset(f->topic, 0, sizeof(f->topic));
	f->has_topic = false;
}

void sl_features_text(const char *s, size_t n, struct sl_features *f)
{
	struct counts k = {0};
	reset(f);
	add_text(&k, f, s, n);
	finish(&k, f, 1);
}

/* A message's content: a string, or an array of parts with "text". */
static void add_content(struct counts *k, struct sl_features *f, struct json_object *content)
{
	if (json_object_is_type(content, json_type_string)) {
		add_text(k, f, json_object_get_string(content), (size_t)json_object_get_string_len(content));
		return;
	}
	if (!json_object_is_type(content, json_type_array))
		return;
	for (size_t i = 0; i < json_object_array_length(content); i++) {
		struct json_object *part = json_object_array_get_idx(content, i), *text;
		if (json_object_is_type(part, json_type_string))
			add_content(k, f, part);
		else if (json_object_object_get_ex(part, "text", &text))
			add_content(k, f, text);
	}
}

void sl_features_from_request(struct json_object *root, struct sl_features *f)
{
	struct counts k = {0};
	struct json_object *v;
	double messages = 1;
	reset(f);
	if (json_object_object_get_ex(root, "messages", &v) && json_object_is_type(v, json_type_array)) {
		messages = (double)json_object_array_length(v);
		for (size_t i = 0; i < json_object_array_length(v); i++) {
			struct json_object *content;
			if (json_object_object_get_ex(json_object_array_get_idx(v, i), "content", &content))
				add_content(&k, f, content);
		}
	} else if (json_object_object_get_ex(root, "prompt", &v) || json_object_object_get_ex(root, "input", &v)) {
		add_content(&k, f, v);
		messages = json_object_is_type(v, json_type_array) ? (double)json_object_array_length(v) : 1;
	}
	finish(&k, f, messages);
}
