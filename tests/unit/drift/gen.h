/* gen.h: what the drift tests that generate input files share: a seeded xorshift generator
 * (set rng_state, non-zero, before use) and printf into a buffer that must not fail. */
#ifndef SLUICE_TESTS_DRIFT_GEN_H
#define SLUICE_TESTS_DRIFT_GEN_H

#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdint.h>

#include "sluice/core.h"

static uint64_t rng_state;

static inline uint64_t rnd(void)
{
	uint64_t x = rng_state;
	x ^= x << 13, x ^= x >> 7, x ^= x << 17;
	return rng_state = x;
}

static inline __attribute__((format(printf, 2, 3))) void put(struct sl_buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int rc = sl_buf_vprintf(b, fmt, ap);
	va_end(ap);
	cr_assert_eq(rc, 0);
}

#endif
