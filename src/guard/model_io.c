/* model_io.c: the classifier's file format (see guard_model.h): serialize, validate, load, save.
 * Invariants: every multi-byte field is little-endian whatever the host; a buffer is accepted
 * only when its length is exactly what its header announces, its checksum matches and every
 * weight is finite, so a loaded model can be scored without further checks. This is the one
 * file of the classifier that touches the file system, and only when asked to load or save. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "model-int.h"
#include "sluice/guard.h"

#define GM_MAGIC   "SLGM"
#define GM_VERSION 1u
#define GM_HEADER  56u
#define GM_TRAILER 8u
enum { GM_F_UNI = 1, GM_F_BI = 2, GM_F_CUES = 4, GM_F_ALL = 7 };

static uint64_t fnv1a(const unsigned char *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 0x100000001b3ULL;
	return h;
}

static void put32(unsigned char *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}
static void put64(unsigned char *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}
static uint32_t get32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint64_t get64(const unsigned char *p)
{
	return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
}
static uint32_t f32_bits(float f)
{
	uint32_t u;
	memcpy(&u, &f, 4);
	return u;
}
static float bits_f32(uint32_t u)
{
	float f;
	memcpy(&f, &u, 4);
	return f;
}

size_t sl_guard_model_file_size(const struct sl_guard_model *m)
{
	return GM_HEADER + ((size_t)m->mask + 1) * 4 + GM_TRAILER;
}

static void write_header(const struct sl_guard_model *m, unsigned char *h)
{
	const struct sl_guard_model_params *p = &m->p;
	uint64_t thr;
	memcpy(&thr, &p->threshold, 8);
	memcpy(h, GM_MAGIC, 4);
	put32(h + 4, GM_VERSION);
	put32(h + 8, GM_HEADER);
	put32(h + 12, p->hash_bits);
	put32(h + 16, p->seed);
	put32(h + 20, p->char_min);
	put32(h + 24, p->char_max);
	put32(h + 28, (p->word_unigrams ? GM_F_UNI : 0) | (p->word_bigrams ? GM_F_BI : 0) | (p->cues ? GM_F_CUES : 0));
	put32(h + 32, p->window);
	put32(h + 36, p->stride);
	put64(h + 40, thr);
	put32(h + 48, f32_bits(m->bias));
	put32(h + 52, 0);
}

int sl_guard_model_serialize(const struct sl_guard_model *m, struct sl_buf *out)
{
	size_t n = sl_guard_model_file_size(m), start = out->len;
	int rc = sl_buf_reserve(out, n);
	if (rc)
		return rc;
	unsigned char *p = (unsigned char *)out->data + start;
	write_header(m, p);
	for (size_t i = 0; i <= m->mask; i++)
		put32(p + GM_HEADER + 4 * i, f32_bits(m->w[i]));
	put64(p + n - GM_TRAILER, fnv1a(p, n - GM_TRAILER));
	out->len = start + n;
	out->data[out->len] = '\0';
	return 0;
}

static int parse_header(const unsigned char *d, size_t len, struct sl_guard_model_params *p, char *err, size_t errlen)
{
	if (len < GM_HEADER + GM_TRAILER || memcmp(d, GM_MAGIC, 4) != 0) {
		sl_gm_err(err, errlen, "%s",
		          len < 4 || memcmp(d, GM_MAGIC, 4) ? "not a sluice guard model (bad magic)"
		                                            : "truncated model header");
		return SL_EPARSE;
	}
	if (get32(d + 4) != GM_VERSION || get32(d + 8) != GM_HEADER) {
		sl_gm_err(err, errlen, "model version %u (header %u bytes): this build reads version %u", get32(d + 4),
		          get32(d + 8), GM_VERSION);
		return SL_EPARSE;
	}
	uint32_t flags = get32(d + 28);
	uint64_t thr = get64(d + 40);
	*p = (struct sl_guard_model_params){.hash_bits = get32(d + 12),
	                                    .seed = get32(d + 16),
	                                    .char_min = get32(d + 20),
	                                    .char_max = get32(d + 24),
	                                    .word_unigrams = flags & GM_F_UNI,
	                                    .word_bigrams = flags & GM_F_BI,
	                                    .cues = flags & GM_F_CUES,
	                                    .window = get32(d + 32),
	                                    .stride = get32(d + 36)};
	memcpy(&p->threshold, &thr, 8);
	if (flags & ~(uint32_t)GM_F_ALL) {
		sl_gm_err(err, errlen, "model flags 0x%x: unknown bits", flags);
		return SL_EPARSE;
	}
	int rc = sl_gm_params_check(p, err, errlen);
	return rc ? SL_EPARSE : 0;
}

static int check_body(const unsigned char *d, size_t len, const struct sl_guard_model_params *p, char *err,
                      size_t errlen)
{
	size_t want = GM_HEADER + ((size_t)4 << p->hash_bits) + GM_TRAILER;
	if (len != want) {
		sl_gm_err(err, errlen, "model is %zu bytes, header announces %zu (%s)", len, want,
		          len < want ? "truncated" : "trailing bytes");
		return SL_EPARSE;
	}
	if (fnv1a(d, len - GM_TRAILER) != get64(d + len - GM_TRAILER)) {
		sl_gm_err(err, errlen, "model checksum mismatch (corrupt file)");
		return SL_EPARSE;
	}
	return 0;
}

int sl_guard_model_load_mem(const void *data, size_t len, struct sl_guard_model **out, char *err, size_t errlen)
{
	const unsigned char *d = data;
	struct sl_guard_model_params p;
	int rc = parse_header(d, len, &p, err, errlen);
	if (rc == 0)
		rc = check_body(d, len, &p, err, errlen);
	if (rc)
		return rc;
	struct sl_guard_model *m = sl_gm_new(&p);
	if (!m) {
		sl_gm_err(err, errlen, "model: out of memory");
		return SL_ENOMEM;
	}
	m->bias = bits_f32(get32(d + 48));
	for (size_t i = 0; i <= m->mask; i++)
		m->w[i] = bits_f32(get32(d + GM_HEADER + 4 * i));
	for (size_t i = 0; i <= m->mask && isfinite(m->bias); i++)
		if (!isfinite(m->w[i])) {
			sl_gm_err(err, errlen, "model weight %zu is not finite", i);
			sl_guard_model_free(m);
			return SL_EPARSE;
		}
	if (!isfinite(m->bias)) {
		sl_gm_err(err, errlen, "model bias is not finite");
		sl_guard_model_free(m);
		return SL_EPARSE;
	}
	sl_gm_seal(m);
	*out = m;
	return 0;
}

static int read_all(const char *path, unsigned char **data, size_t *len, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		sl_gm_err(err, errlen, "cannot open '%s': %s", path, strerror(errno));
		return errno == ENOENT ? SL_ENOTFOUND : SL_EIO;
	}
	struct stat st;
	int rc = 0;
	if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode) || (uint64_t)st.st_size > SL_GUARD_MODEL_MAX_FILE) {
		sl_gm_err(err, errlen, "'%s': not a regular file of at most %zu bytes", path, SL_GUARD_MODEL_MAX_FILE);
		rc = SL_ETOOBIG;
		goto out;
	}
	*len = (size_t)st.st_size;
	*data = malloc(*len ? *len : 1);
	if (!*data) {
		rc = SL_ENOMEM;
		sl_gm_err(err, errlen, "'%s': out of memory", path);
	} else if (fread(*data, 1, *len, f) != *len) {
		rc = SL_EIO;
		sl_gm_err(err, errlen, "cannot read '%s'", path);
		free(*data);
	}
out:
	fclose(f);
	return rc;
}

int sl_guard_model_load(const char *path, struct sl_guard_model **out, char *err, size_t errlen)
{
	unsigned char *data;
	size_t len;
	int rc = read_all(path, &data, &len, err, errlen);
	if (rc)
		return rc;
	char why[256];
	rc = sl_guard_model_load_mem(data, len, out, why, sizeof(why));
	if (rc)
		sl_gm_err(err, errlen, "'%s': %s", path, why);
	free(data);
	return rc;
}

int sl_guard_model_path(const char *file, const char *rel, char *out, size_t cap)
{
	if (!cap)
		return SL_ETOOBIG;
	out[0] = '\0';
	if (file && strcmp(file, "none") == 0)
		return 0;
	if (file && file[0])
		return (size_t)snprintf(out, cap, "%s", file) < cap ? 0 : SL_ETOOBIG;
	int rc = sl_guard_share_path(rel, out, cap);
	if (rc == 0 && access(out, R_OK) != 0)
		out[0] = '\0';
	return rc ? SL_ETOOBIG : 0;
}

int sl_guard_model_load_setting(const char *file, const char *rel, struct sl_guard_model **out, char *err,
                                size_t errlen)
{
	char path[SL_GUARD_PATH_MAX];
	*out = NULL;
	if (sl_guard_model_path(file, rel, path, sizeof(path)) != 0) {
		sl_gm_err(err, errlen, "model path '%s' too long", file && file[0] ? file : rel);
		return SL_ETOOBIG;
	}
	return path[0] ? sl_guard_model_load(path, out, err, errlen) : 0;
}

int sl_guard_model_save(const struct sl_guard_model *m, const char *path, char *err, size_t errlen)
{
	struct sl_buf b;
	char tmp[4096];
	sl_buf_init(&b, 0);
	int rc = sl_guard_model_serialize(m, &b);
	if (rc) {
		sl_gm_err(err, errlen, "model: %s", sl_strerror(rc));
		goto out;
	}
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid()) >= sizeof(tmp)) {
		sl_gm_err(err, errlen, "'%s': path too long", path);
		rc = SL_EINVAL;
		goto out;
	}
	FILE *f = fopen(tmp, "wb");
	if (!f) {
		sl_gm_err(err, errlen, "cannot create '%s': %s", tmp, strerror(errno));
		rc = SL_EIO;
		goto out;
	}
	bool ok = fwrite(b.data, 1, b.len, f) == b.len;
	ok = (fclose(f) == 0) && ok;
	if (!ok || rename(tmp, path) != 0) {
		sl_gm_err(err, errlen, "cannot write '%s': %s", path, strerror(errno));
		unlink(tmp);
		rc = SL_EIO;
	}
out:
	sl_buf_release(&b);
	return rc;
}
