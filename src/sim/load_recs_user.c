/* load_recs_user.c: a simulated user of `sluice load --recs`: reads a slate out of a chat
 * answer and reacts to it the way the demo needs: clicks mostly on its favourite categories
 * and on the first positions, watches long what it likes, ignores items it has seen before and
 * says not_interested to half of them; likes, skips and dislikes follow the watch.
 * Invariants: a slate's items are distinct, non-empty strings of at most LOAD_RECS_ID_MAX bytes;
 * the user's memory is bounded (load_recs.h). */
#include <json-c/json.h>
#include <math.h>
#include <string.h>

#include "sim/load_recs.h"

const char *const sl_load_event_names[EV_COUNT_] = {"impression", "click",   "watch",         "skip",
                                                    "like",       "dislike", "not_interested"};

static json_object *member(json_object *o, const char *key, enum json_type t)
{
	json_object *v = NULL;
	return json_object_object_get_ex(o, key, &v) && json_object_is_type(v, t) ? v : NULL;
}

static bool copy_str(json_object *o, const char *key, char *dst, bool required)
{
	json_object *v = member(o, key, json_type_string);
	size_t n = v ? (size_t)json_object_get_string_len(v) : 0;
	if (n > LOAD_RECS_ID_MAX || (required && n == 0) || (v && memchr(json_object_get_string(v), '\0', n)))
		return false;
	memcpy(dst, v ? json_object_get_string(v) : "", n);
	dst[n] = '\0';
	return true;
}

static int read_items(json_object *items, struct load_slate *out)
{
	size_t n = items ? json_object_array_length(items) : 0;
	if (n == 0 || n > SL_SIM_RECS_MAX_SLATE)
		return SL_EPARSE;
	for (size_t i = 0; i < n; i++) {
		json_object *it = json_object_array_get_idx(items, i), *sc;
		struct load_slate_item *d = &out->items[i];
		if (!json_object_is_type(it, json_type_object) || !copy_str(it, "id", d->id, true) ||
		    !copy_str(it, "category", d->category, false) || !copy_str(it, "source", d->source, false))
			return SL_EPARSE;
		sc = member(it, "score", json_type_double);
		d->score = sc ? json_object_get_double(sc) : 0;
		for (size_t j = 0; j < i; j++)
			if (strcmp(out->items[j].id, d->id) == 0)
				return SL_EPARSE;
	}
	out->n = n;
	return (int)n;
}

static json_object *content_of(json_object *doc)
{
	json_object *choices = member(doc, "choices", json_type_array);
	json_object *c0 = choices && json_object_array_length(choices) ? json_object_array_get_idx(choices, 0) : NULL;
	json_object *msg = c0 ? member(c0, "message", json_type_object) : NULL;
	return msg ? member(msg, "content", json_type_string) : NULL;
}

int sl_load_slate_parse(const char *body, size_t len, struct load_slate *out)
{
	json_tokener *tok = json_tokener_new();
	if (!tok)
		return SL_ENOMEM;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	json_object *doc = json_tokener_parse_ex(tok, body, (int)len), *content = doc ? content_of(doc) : NULL,
	            *slate = NULL;
	int rc = SL_EPARSE;
	if (content) {
		json_tokener_reset(tok);
		slate =
		    json_tokener_parse_ex(tok, json_object_get_string(content), json_object_get_string_len(content));
	}
	if (slate && json_object_is_type(slate, json_type_object))
		rc = read_items(member(slate, "items", json_type_array), out);
	json_object_put(slate);
	json_object_put(doc);
	json_tokener_free(tok);
	return rc;
}

static uint64_t item_hash(const char *id)
{
	uint64_t h = 0xcbf29ce484222325u;
	for (; *id; id++)
		h = (h ^ (unsigned char)*id) * 0x100000001b3u;
	return h;
}

static bool seen_before(const struct load_recs_user *u, uint64_t h)
{
	for (size_t i = 0; i < u->nseen; i++)
		if (u->seen[i] == h)
			return true;
	return false;
}

static void remember(struct load_recs_user *u, uint64_t h)
{
	u->seen[u->next] = h;
	u->next = (u->next + 1) % LOAD_RECS_SEEN;
	if (u->nseen < LOAD_RECS_SEEN)
		u->nseen++;
}

/* Jaccard overlap with the user's previous slate, then the slate becomes the previous one. */
static void repetition(struct load_recs_user *u, const uint64_t *h, size_t n, struct load_recs_version *v)
{
	size_t inter = 0;
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < u->nlast; j++)
			inter += h[i] == u->last[j];
	if (u->nlast) {
		v->repeat_slates++;
		v->jaccard_sum += (double)inter / (double)(n + u->nlast - inter);
	}
	memcpy(u->last, h, n * sizeof *h);
	u->nlast = n;
}

/* A new item: click by taste and position, then watch, like, skip or dislike. */
static size_t react_new(bool fav, size_t pos, struct sl_rng *r, size_t i, struct load_recs_version *v,
                        struct load_event_out *ev)
{
	size_t k = 0;
	if (sl_rng_double(r) >= (fav ? 0.35 : 0.06) / (1 + 0.15 * (double)pos))
		return 0;
	double watch = sl_rng_lognormal(r, fav ? 60 : 12, 0.6);
	watch = watch > 3600 ? 3600 : watch;
	ev[k++] = (struct load_event_out){EV_CLICK, i, 0};
	ev[k++] = (struct load_event_out){EV_WATCH, i, watch};
	v->clicks++, v->watches++, v->watch_s += watch;
	if (watch >= 30 && sl_rng_double(r) < 0.4)
		ev[k++] = (struct load_event_out){EV_LIKE, i, 0};
	if (watch < 10 && sl_rng_double(r) < 0.5)
		ev[k++] = (struct load_event_out){EV_SKIP, i, 0};
	if (!fav && sl_rng_double(r) < 0.1)
		ev[k++] = (struct load_event_out){EV_DISLIKE, i, 0};
	return k;
}

size_t sl_load_recs_react(const char *user, size_t ulen, struct load_recs_user *u, const struct load_slate *s,
                          struct sl_rng *rng, struct load_recs_version *v, struct load_event_out *ev)
{
	const char *fav[2];
	uint64_t h[SL_SIM_RECS_MAX_SLATE];
	size_t k = 0;
	sl_sim_recs_taste(user, ulen, fav);
	for (size_t i = 0; i < s->n; i++) {
		h[i] = item_hash(s->items[i].id);
		ev[k++] = (struct load_event_out){EV_IMPRESSION, i, 0};
		if (seen_before(u, h[i])) {
			v->seen_again++;
			if (sl_rng_double(rng) < 0.5)
				ev[k++] = (struct load_event_out){EV_NOT_INTERESTED, i, 0};
			continue;
		}
		k += react_new(sl_sim_recs_likes(fav, s->items[i].category), i, rng, i, v, ev + k);
		remember(u, h[i]);
	}
	repetition(u, h, s->n, v);
	v->slates++;
	v->shown += s->n;
	for (size_t i = 0; i < k; i++)
		v->kinds[ev[i].kind]++;
	return k;
}
