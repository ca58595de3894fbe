/* output_spec.c: the output checks' configuration: defaults, strict JSON in and JSON out.
 * Invariants: from_json starts from the defaults, refuses unknown keys, wrong types and bad values
 * with an error naming the field ("allow_domains[2]: must be a host name"), and writes *out only
 * on success; domains are stored in lower case without a trailing dot; to_json writes every key,
 * so from_json(to_json(s)) == s. The strict JSON helpers are core's (src/core/json_util.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/json-int.h"
#include "output-int.h"

const char *sl_gout_action_name(enum sl_gout_action a)
{
	static const char *const names[] = {"flag", "redact", "block"};
	return (unsigned)a < 3 ? names[a] : "unknown";
}

const char *sl_gout_urls_name(enum sl_gout_urls u)
{
	static const char *const names[] = {"all", "images", "off"};
	return (unsigned)u < 3 ? names[u] : "unknown";
}

void sl_guard_output_spec_defaults(struct sl_guard_output_spec *s)
{
	memset(s, 0, sizeof(*s));
	s->action = SL_GOUT_FLAG;
	s->urls = SL_GOUT_URLS_ALL;
	s->system_prompt_leak = true;
	s->secrets = true;
	s->leak_min_run = 4;
	s->leak_min_share = 0.5;
}

/* Index of s among the n names, or -1. */
static int name_index(struct json_object *v, const char *const *names, int n)
{
	if (!json_object_is_type(v, json_type_string))
		return -1;
	for (int i = 0; i < n; i++)
		if (strcmp(json_object_get_string(v), names[i]) == 0)
			return i;
	return -1;
}

static bool label_ok(const char *s, size_t n)
{
	if (n == 0 || n > 63 || s[0] == '-' || s[n - 1] == '-')
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
			return false;
	return true;
}

/* Lower-cases the host name in d (trailing dot dropped) and checks its labels. */
static bool domain_ok(char *d)
{
	size_t n = strlen(d);
	if (n && d[n - 1] == '.')
		d[--n] = '\0';
	for (size_t i = 0; i < n; i++)
		if (d[i] >= 'A' && d[i] <= 'Z')
			d[i] = (char)(d[i] | 0x20);
	for (size_t i = 0, j; i <= n; i = j + 1) {
		const char *dot = memchr(d + i, '.', n - i);
		j = dot ? (size_t)(dot - d) : n;
		if (!label_ok(d + i, j - i))
			return false;
	}
	return n > 0;
}

static int domain_from_json(struct json_object *o, unsigned i, void *elem, char *err, size_t errlen)
{
	char *d = elem;
	if (!json_object_is_type(o, json_type_string) || (size_t)json_object_get_string_len(o) > SL_GOUT_DOMAIN_MAX)
		return sl__rerr(err, errlen, "allow_domains[%u]: must be a host name", i);
	memcpy(d, json_object_get_string(o), (size_t)json_object_get_string_len(o) + 1);
	if (strlen(d) != (size_t)json_object_get_string_len(o) || !domain_ok(d))
		return sl__rerr(err, errlen, "allow_domains[%u]: must be a host name", i);
	return 0;
}

static int canary_from_json(struct json_object *o, unsigned i, void *elem, char *err, size_t errlen)
{
	size_t n = json_object_is_type(o, json_type_string) ? (size_t)json_object_get_string_len(o) : 0;
	const char *s = n ? json_object_get_string(o) : "";
	if (n < SL_GOUT_CANARY_MIN || n > SL_GOUT_CANARY_MAX || memchr(s, '\0', n))
		return sl__rerr(err, errlen, "canaries[%u]: must be a string of %d to %d bytes", i, SL_GOUT_CANARY_MIN,
		                SL_GOUT_CANARY_MAX);
	memcpy(elem, s, n + 1);
	return 0;
}

static int enum_from_json(const char *key, struct json_object *v, const char *const *names, int n, int *out,
                          char *err, size_t errlen)
{
	int i = name_index(v, names, n);
	if (i < 0)
		return sl__rerr(err, errlen, "%s: must be %s, %s or %s", key, names[0], names[1], names[2]);
	*out = i;
	return 0;
}

static int number_from_json(const char *key, struct json_object *v, struct sl_guard_output_spec *s, char *err,
                            size_t errlen)
{
	if (strcmp(key, "leak_min_share") == 0) {
		int rc = sl__json_double(v, key, 0, 1, &s->leak_min_share, err, errlen);
		return rc ? rc : s->leak_min_share > 0 ? 0 : sl__rerr(err, errlen, "%s: must be in (0, 1]", key);
	}
	uint64_t u;
	int rc = sl__json_u64(v, key, 64, &u, err, errlen);
	if (!rc && u == 0)
		rc = sl__rerr(err, errlen, "%s: must be in [1, 64]", key);
	if (!rc)
		s->leak_min_run = (unsigned)u;
	return rc;
}

static int member_from_json(const char *key, struct json_object *v, struct sl_guard_output_spec *s, char *err,
                            size_t errlen)
{
	static const char *const actions[] = {"flag", "redact", "block"}, *const urls[] = {"all", "images", "off"};
	int e = 0, rc;
	if (strcmp(key, "action") == 0) {
		if (!(rc = enum_from_json(key, v, actions, 3, &e, err, errlen)))
			s->action = (enum sl_gout_action)e;
		return rc;
	}
	if (strcmp(key, "urls") == 0) {
		if (!(rc = enum_from_json(key, v, urls, 3, &e, err, errlen)))
			s->urls = (enum sl_gout_urls)e;
		return rc;
	}
	if (strcmp(key, "system_prompt_leak") == 0)
		return sl__json_bool(v, key, &s->system_prompt_leak, err, errlen);
	if (strcmp(key, "secrets") == 0)
		return sl__json_bool(v, key, &s->secrets, err, errlen);
	if (strcmp(key, "leak_min_run") == 0 || strcmp(key, "leak_min_share") == 0)
		return number_from_json(key, v, s, err, errlen);
	if (strcmp(key, "canaries") == 0)
		return sl__json_array_get(v, key, 0, SL_GOUT_MAX_CANARIES, s->canaries, sizeof(s->canaries[0]),
		                          &s->ncanaries, canary_from_json, err, errlen);
	if (strcmp(key, "allow_domains") == 0)
		return sl__json_array_get(v, key, 0, SL_GOUT_MAX_DOMAINS, s->allow_domains, sizeof(s->allow_domains[0]),
		                          &s->ndomains, domain_from_json, err, errlen);
	return sl__rerr(err, errlen, "%s: unknown field", key);
}

int sl_guard_output_spec_from_jobj(struct json_object *o, struct sl_guard_output_spec *out, char *err, size_t errlen)
{
	if (!json_object_is_type(o, json_type_object))
		return sl__rerr(err, errlen, "output: must be a JSON object");
	struct sl_guard_output_spec *s = malloc(sizeof(*s)); /* 36 KiB: kept off the stack */
	if (!s)
		return SL_ENOMEM;
	sl_guard_output_spec_defaults(s);
	int rc = 0;
	json_object_object_foreach(o, key, v)
	{
		if ((rc = member_from_json(key, v, s, err, errlen)))
			break;
	}
	if (!rc)
		*out = *s;
	free(s);
	return rc;
}

int sl_guard_output_spec_from_json(const char *json, struct sl_guard_output_spec *out, char *err, size_t errlen)
{
	struct json_object *o = NULL;
	int rc = sl__json_parse(json, &o, err, errlen);
	if (rc == 0)
		rc = sl_guard_output_spec_from_jobj(o, out, err, errlen);
	json_object_put(o);
	return rc;
}

static int put_strings(struct sl_buf *b, const char *key, const char *first, size_t stride, unsigned n)
{
	int rc = sl_buf_printf(b, ",\"%s\":[", key);
	for (unsigned i = 0; !rc && i < n; i++) {
		const char *str = first + i * stride;
		rc = i ? sl_buf_puts(b, ",") : 0;
		if (!rc)
			rc = sl_buf_json_str(b, str, strlen(str));
	}
	return rc ? rc : sl_buf_puts(b, "]");
}

int sl_guard_output_spec_to_json(const struct sl_guard_output_spec *s, struct sl_buf *b)
{
	int rc = sl_buf_printf(b, "{\"action\":\"%s\",\"urls\":\"%s\",\"system_prompt_leak\":%s,\"secrets\":%s,"
	                          "\"leak_min_run\":%u,\"leak_min_share\":",
	                       sl_gout_action_name(s->action), sl_gout_urls_name(s->urls),
	                       s->system_prompt_leak ? "true" : "false", s->secrets ? "true" : "false", s->leak_min_run);
	if (!rc)
		rc = sl__json_num(b, s->leak_min_share);
	if (!rc)
		rc = put_strings(b, "canaries", s->canaries[0], sizeof(s->canaries[0]), s->ncanaries);
	if (!rc)
		rc = put_strings(b, "allow_domains", s->allow_domains[0], sizeof(s->allow_domains[0]), s->ndomains);
	return rc ? rc : sl_buf_puts(b, "}");
}
