/* rules.c: the rule set (built, then compiled once into a Vectorscan block-mode database), the
 * per-thread scratch, and one scan of a text: normalize, then match every rule against the
 * normalized buffer. Invariants: after compile the set is never changed, so it can be shared by
 * threads; a scratch is used by one thread at a time; each rule fires at most once per scan
 * (HS_FLAG_SINGLEMATCH) and is reported in the view where it matched first. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "guard-int.h"

#define MAX_FILES 256

struct sl_guard_scratch {
	hs_scratch_t *hs; /* NULL until fitted to a compiled rule set */
	struct sl_guard_norm norm;
};

int sl_guard_rules_new(struct sl_guard_rules **out)
{
	struct sl_guard_rules *r = calloc(1, sizeof(*r));
	if (!r)
		return SL_ENOMEM;
	*out = r;
	return 0;
}

void sl_guard_rules_free(struct sl_guard_rules *r)
{
	if (!r)
		return;
	for (unsigned i = 0; i < r->n; i++)
		free(r->exprs[i]);
	for (unsigned i = 0; i < r->nfiles; i++)
		free(r->files[i]);
	free(r->exprs);
	free(r->rules);
	free(r->src);
	free(r->files);
	hs_free_database(r->db);
	free(r);
}

static int grow(struct sl_guard_rules *r)
{
	unsigned cap = r->cap ? 2 * r->cap : 64;
	void *a = realloc(r->rules, cap * sizeof(*r->rules));
	if (a)
		r->rules = a;
	void *b = a ? realloc(r->exprs, cap * sizeof(*r->exprs)) : NULL;
	if (b)
		r->exprs = b;
	void *c = b ? realloc(r->src, cap * sizeof(*r->src)) : NULL;
	if (!c)
		return SL_ENOMEM;
	r->src = c;
	r->cap = cap;
	return 0;
}

int sl__rules_push(struct sl_guard_rules *r, const struct sl_guard_rule *rule, const char *expr, size_t elen,
                   unsigned file, unsigned line)
{
	if (r->n == SL_GUARD_MAX_RULES)
		return SL_ETOOBIG;
	if (r->n == r->cap && grow(r))
		return SL_ENOMEM;
	char *e = malloc(elen + 1);
	if (!e)
		return SL_ENOMEM;
	memcpy(e, expr, elen);
	e[elen] = '\0';
	r->rules[r->n] = *rule;
	r->exprs[r->n] = e;
	r->src[r->n] = (struct sl__rule_src){file, line};
	r->n++;
	return 0;
}

int sl__rules_add_file_name(struct sl_guard_rules *r, const char *name, unsigned *idx)
{
	if (r->nfiles == MAX_FILES)
		return SL_ETOOBIG;
	char **f = realloc(r->files, (r->nfiles + 1) * sizeof(*f));
	if (!f)
		return SL_ENOMEM;
	r->files = f;
	if (!(f[r->nfiles] = strdup(name)))
		return SL_ENOMEM;
	*idx = r->nfiles++;
	return 0;
}

static int compile_error(const struct sl_guard_rules *r, hs_compile_error_t *ce, char *err, size_t errlen)
{
	int i = ce ? ce->expression : -1;
	const char *msg = ce && ce->message ? ce->message : "compile failed";
	if (i >= 0 && (unsigned)i < r->n)
		sl__gerr(SL_EINVAL, err, errlen, "%s:%u: rule %s: %s", r->files[r->src[i].file], r->src[i].line,
		         r->rules[i].id, msg);
	else
		sl__gerr(SL_EINVAL, err, errlen, "rules: %s", msg);
	hs_free_compile_error(ce);
	return SL_EINVAL;
}

int sl_guard_rules_compile(struct sl_guard_rules *r, char *err, size_t errlen)
{
	if (r->db)
		return sl__gerr(SL_ESTATE, err, errlen, "rules: already compiled");
	if (r->n == 0)
		return sl__gerr(SL_EINVAL, err, errlen, "rules: no rules to compile");
	unsigned *flags = malloc(r->n * sizeof(*flags)), *ids = malloc(r->n * sizeof(*ids));
	int rc = flags && ids ? 0 : SL_ENOMEM;
	for (unsigned i = 0; !rc && i < r->n; i++) {
		flags[i] = HS_FLAG_CASELESS | HS_FLAG_SINGLEMATCH;
		ids[i] = i;
	}
	hs_compile_error_t *ce = NULL;
	if (!rc && hs_compile_multi((const char *const *)r->exprs, flags, ids, r->n, HS_MODE_BLOCK, NULL, &r->db, &ce) !=
	               HS_SUCCESS)
		rc = compile_error(r, ce, err, errlen);
	else if (rc)
		sl__gerr(rc, err, errlen, "rules: %s", sl_strerror(rc));
	free(flags);
	free(ids);
	return rc;
}

size_t sl_guard_rules_count(const struct sl_guard_rules *r)
{
	return r ? r->n : 0;
}

const struct sl_guard_rule *sl_guard_rules_get(const struct sl_guard_rules *r, size_t i)
{
	return r && i < r->n ? &r->rules[i] : NULL;
}

const char *sl_guard_share_dir(void)
{
	const char *e = getenv("SLUICE_SHARE");
	return e && *e ? e : SLUICE_SHARE_DIR;
}

int sl_guard_share_path(const char *rel, char *out, size_t cap)
{
	int n = snprintf(out, cap, "%s/%s", sl_guard_share_dir(), rel);
	return n < 0 || (size_t)n >= cap ? SL_ETOOBIG : 0;
}

int sl_guard_rules_load_default(const char *extra_file, struct sl_guard_rules **out, char *err, size_t errlen)
{
	char path[SL_GUARD_PATH_MAX + 64];
	struct sl_guard_rules *r = NULL;
	int rc = sl_guard_share_path(SL_GUARD_RULES_FILE, path, sizeof(path));
	if (rc)
		return sl__gerr(rc, err, errlen, "share directory: path too long");
	if ((rc = sl_guard_rules_new(&r)))
		return sl__gerr(rc, err, errlen, "rules: %s", sl_strerror(rc));
	rc = sl_guard_rules_add_file(r, path, err, errlen);
	if (!rc && extra_file && *extra_file)
		rc = sl_guard_rules_add_file(r, extra_file, err, errlen);
	if (!rc)
		rc = sl_guard_rules_compile(r, err, errlen);
	if (rc)
		sl_guard_rules_free(r);
	else
		*out = r;
	return rc;
}

/* ---- scratch and scanning ---- */

int sl_guard_scratch_fit(struct sl_guard_scratch *s, const struct sl_guard_rules *r)
{
	if (!r || !r->db)
		return 0;
	return hs_alloc_scratch(r->db, &s->hs) == HS_SUCCESS ? 0 : SL_ENOMEM;
}

int sl_guard_scratch_new(const struct sl_guard_rules *r, struct sl_guard_scratch **out)
{
	struct sl_guard_scratch *s = calloc(1, sizeof(*s));
	if (!s)
		return SL_ENOMEM;
	sl_guard_norm_init(&s->norm);
	int rc = sl_guard_scratch_fit(s, r);
	if (rc) {
		sl_guard_scratch_free(s);
		return rc;
	}
	*out = s;
	return 0;
}

void sl_guard_scratch_free(struct sl_guard_scratch *s)
{
	if (!s)
		return;
	hs_free_scratch(s->hs);
	sl_guard_norm_release(&s->norm);
	free(s);
}

const struct sl_guard_norm *sl_guard_scratch_norm(const struct sl_guard_scratch *s)
{
	return &s->norm;
}

struct match_ctx {
	const struct sl_guard_norm *norm;
	struct sl_guard_hit *hits;
	size_t cap, n;
};

static int on_match(unsigned int id, unsigned long long from, unsigned long long to, unsigned int flags, void *p)
{
	struct match_ctx *m = p;
	if (m->n < m->cap) {
		const struct sl_guard_view *v = sl_guard_norm_view_at(m->norm, to ? (size_t)to - 1 : 0);
		m->hits[m->n++] = (struct sl_guard_hit){id, v ? v->kind : SL_GUARD_VIEW_TEXT};
	}
	return 0;
}

int sl_guard_rules_scan(const struct sl_guard_rules *r, struct sl_guard_scratch *s, const char *text, size_t len,
                        struct sl_guard_hit *hits, size_t cap, size_t *nhits)
{
	int rc = sl_guard_normalize(&s->norm, text, len);
	*nhits = 0;
	if (rc || !r)
		return rc;
	if (!r->db || !s->hs)
		return SL_ESTATE;
	struct match_ctx m = {&s->norm, hits, cap, 0};
	hs_error_t e = hs_scan(r->db, s->norm.out.data, (unsigned)s->norm.out.len, 0, s->hs, on_match, &m);
	if (e != HS_SUCCESS)
		return e == HS_NOMEM ? SL_ENOMEM : SL_ESTATE;
	*nhits = m.n;
	return 0;
}
