/* core: errors, byte buffers, slices, clock, logging, parsing helpers and a seeded RNG.
 * Invariants: every function returns 0 or a negative SL_E* code; buffers never grow past
 * their limit; nothing here allocates behind the caller's back except sl_buf. */
#ifndef SLUICE_CORE_H
#define SLUICE_CORE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* X(name, message): each error gets a negative code in order of appearance. */
#define SL_ERRORS(X)                                                                                                   \
	X(NOMEM, "out of memory")                                                                                      \
	X(INVAL, "invalid argument")                                                                                   \
	X(TOOBIG, "too large")                                                                                         \
	X(IO, "input/output error")                                                                                    \
	X(PARSE, "parse error")                                                                                        \
	X(NOTFOUND, "not found")                                                                                       \
	X(RANGE, "out of range")                                                                                       \
	X(CONFIG, "invalid configuration")                                                                             \
	X(UPSTREAM, "upstream error")                                                                                  \
	X(TIMEOUT, "timed out")                                                                                        \
	X(STATE, "invalid state")

#define SL_ERR_IDX_(name, msg) SL_ERR_IDX_##name,
enum sl_err_idx { SL_ERRORS(SL_ERR_IDX_) SL_ERR_COUNT_ };
#undef SL_ERR_IDX_
/* Codes are negative: SL_E<name> == -1 - index. */
#define SL_OK 0
#define SL_ENOMEM (-1 - SL_ERR_IDX_NOMEM)
#define SL_EINVAL (-1 - SL_ERR_IDX_INVAL)
#define SL_ETOOBIG (-1 - SL_ERR_IDX_TOOBIG)
#define SL_EIO (-1 - SL_ERR_IDX_IO)
#define SL_EPARSE (-1 - SL_ERR_IDX_PARSE)
#define SL_ENOTFOUND (-1 - SL_ERR_IDX_NOTFOUND)
#define SL_ERANGE (-1 - SL_ERR_IDX_RANGE)
#define SL_ECONFIG (-1 - SL_ERR_IDX_CONFIG)
#define SL_EUPSTREAM (-1 - SL_ERR_IDX_UPSTREAM)
#define SL_ETIMEOUT (-1 - SL_ERR_IDX_TIMEOUT)
#define SL_ESTATE (-1 - SL_ERR_IDX_STATE)

const char *sl_strerror(int err);
const char *sl_errname(int err);

/* A borrowed byte range; valid as long as its owner says. */
struct sl_slice {
	const char *ptr;
	size_t len;
};
#define SL_SLICE_LIT(s) ((struct sl_slice){(s), sizeof(s) - 1})
static inline struct sl_slice sl_slice_make(const char *p, size_t n)
{
	return (struct sl_slice){p, n};
}
struct sl_slice sl_slice_cstr(const char *s);
bool sl_slice_eq(struct sl_slice a, const char *cstr);

/* bytes (> 0) of uninitialized memory, 64-byte aligned; from 2 MiB on, rounded up to and aligned on
 * a transparent huge page and advised to use one (for large arrays probed at random). Freed with
 * free(); NULL when out of memory. */
void *sl_huge_alloc(size_t bytes);

/* A growable byte buffer with a hard limit (0 = SIZE_MAX). data is always NUL-terminated. */
struct sl_buf {
	char *data;
	size_t len, cap, limit;
};
void sl_buf_init(struct sl_buf *b, size_t limit);
void sl_buf_release(struct sl_buf *b);
static inline void sl_buf_reset(struct sl_buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}
int sl_buf_reserve(struct sl_buf *b, size_t extra);
int sl_buf_append(struct sl_buf *b, const void *p, size_t n);
int sl_buf_puts(struct sl_buf *b, const char *s);
int sl_buf_printf(struct sl_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int sl_buf_vprintf(struct sl_buf *b, const char *fmt, va_list ap);
/* Appends s as a JSON string literal, quotes included; invalid UTF-8 becomes U+FFFD, so the
 * output is always valid JSON. On failure (SL_ETOOBIG, SL_ENOMEM) b is left as it was. */
int sl_buf_json_str(struct sl_buf *b, const char *s, size_t n);
/* Appends s escaped as a Prometheus label value (\\, \", \n), invalid UTF-8 as U+FFFD. */
int sl_buf_prom_label(struct sl_buf *b, const char *s, size_t n);
/* Length of the well-formed UTF-8 sequence at s[0..n), or 0 when none starts there. */
size_t sl_utf8_seq_len(const unsigned char *s, size_t n);
/* Whether s[0..n) is well-formed UTF-8 (RFC 3629, as above: json-c's validation lets overlong
 * forms such as C0 BC through). */
bool sl_utf8_valid(const char *s, size_t n);
/* Copies src (NULL = "") into dst[cap] as valid UTF-8, cut on a character boundary to at most
 * cap - 1 bytes, NUL-terminated; returns the length written. */
size_t sl_utf8_sanitize(char *dst, size_t cap, const char *src);
void sl_buf_consume(struct sl_buf *b, size_t n);

/* Clock. */
uint64_t sl_now_ns(void);  /* monotonic */
double sl_wall_time(void); /* seconds since the epoch */

/* Logging to stderr: "sluice: level: message". */
enum sl_log_level { SL_LOG_ERROR, SL_LOG_WARN, SL_LOG_INFO, SL_LOG_DEBUG };
extern int sl_log_level;
void sl_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Strict number parsing: whole string, no sign surprises, bounded. */
int sl_parse_u64(const char *s, uint64_t max, uint64_t *out);
int sl_parse_double(const char *s, double *out);
/* "host:port" with a numeric port 1..65535; host is copied into host[hostcap]. */
int sl_parse_hostport(const char *s, char *host, size_t hostcap, uint16_t *port);
/* "http://host[:port][/base]" -> parts; only http is accepted. */
struct sl_url {
	char host[256];
	uint16_t port;
	char base[512]; /* path prefix without trailing '/', may be empty */
};
int sl_parse_url(const char *s, struct sl_url *u);

/* xoshiro256** seeded through splitmix64: fast, reproducible. */
struct sl_rng {
	uint64_t s[4];
};
void sl_rng_seed(struct sl_rng *r, uint64_t seed);
uint64_t sl_rng_next(struct sl_rng *r);
double sl_rng_double(struct sl_rng *r); /* [0, 1) */
double sl_rng_normal(struct sl_rng *r);
/* Lognormal with the given median and sigma of log. */
double sl_rng_lognormal(struct sl_rng *r, double median, double sigma);

/* 128-bit random id as 32 hex chars + NUL. */
void sl_request_id(struct sl_rng *r, char out[33]);

#endif
