/* buf.c: bounded growable buffers and slices.
 * Invariant: len < cap whenever data != NULL, and data[len] == '\0'; len never exceeds limit. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sluice/core.h"

struct sl_slice sl_slice_cstr(const char *s)
{
	return (struct sl_slice){s, s ? strlen(s) : 0};
}

bool sl_slice_eq(struct sl_slice a, const char *cstr)
{
	size_t n = strlen(cstr);
	return a.len == n && (n == 0 || memcmp(a.ptr, cstr, n) == 0);
}

void sl_buf_init(struct sl_buf *b, size_t limit)
{
	b->data = NULL;
	b->len = b->cap = 0;
	b->limit = limit ? limit : SIZE_MAX - 1;
}

void sl_buf_release(struct sl_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

int sl_buf_reserve(struct sl_buf *b, size_t extra)
{
	if (extra > b->limit - b->len)
		return SL_ETOOBIG;
	size_t need = b->len + extra + 1;
	if (need <= b->cap)
		return 0;
	size_t cap = b->cap ? b->cap : 256;
	while (cap < need)
		cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	char *p = realloc(b->data, cap);
	if (!p)
		return SL_ENOMEM;
	b->data = p;
	b->cap = cap;
	return 0;
}

int sl_buf_append(struct sl_buf *b, const void *p, size_t n)
{
	int rc = sl_buf_reserve(b, n);
	if (rc)
		return rc;
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

int sl_buf_puts(struct sl_buf *b, const char *s)
{
	return sl_buf_append(b, s, strlen(s));
}

int sl_buf_vprintf(struct sl_buf *b, const char *fmt, va_list ap)
{
	va_list ap2;
	va_copy(ap2, ap);
	int n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0)
		return SL_EINVAL;
	int rc = sl_buf_reserve(b, (size_t)n);
	if (rc)
		return rc;
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
	return 0;
}

int sl_buf_printf(struct sl_buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int rc = sl_buf_vprintf(b, fmt, ap);
	va_end(ap);
	return rc;
}

void sl_buf_consume(struct sl_buf *b, size_t n)
{
	if (n >= b->len) {
		sl_buf_reset(b);
		return;
	}
	memmove(b->data, b->data + n, b->len - n);
	b->len -= n;
	b->data[b->len] = '\0';
}
