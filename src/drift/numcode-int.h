/* numcode-int.h: decimal codes, how a loaded table stores most numbers in 4 bytes instead of 8.
 * Logs and exports write numbers with few significant digits ("1099.66", "0.0068386", "412"):
 * every number of at most 7 significant digits whose decimal exponent is in range is one
 * 32-bit code, and a column whose numbers all are keeps codes (half the memory, and half the
 * bytes for its sort to move); any other number sends the column back to doubles.
 * A code is m * 10^q with m in [10^6, 10^7) (the 7 digits, zeros appended) and -22 <= q <= 22,
 * as pos = (q + 22) << 24 | m (m < 2^24; pos < 2^30), then SL__CODE_ZERO + pos for a positive
 * number and SL__CODE_ZERO - 1 - pos for a negative one; +0.0 is SL__CODE_ZERO, -0.0 the code
 * just below it.
 * Invariants: codes compare as their numbers do, with -0.0 just below +0.0 (the order of the
 * double sorts' keys), so sorted codes decode to the sorted doubles; 0 is never a code (it
 * means "none"); sl__code_value gives m * 10^q rounded once (m and 10^q are exact doubles), so
 * a code's double is strtod's for any decimal spelling of the same number, which is what the
 * parsers store for it. */
#ifndef SLUICE_DRIFT_NUMCODE_INT_H
#define SLUICE_DRIFT_NUMCODE_INT_H

#include <math.h>
#include <stdbool.h>
#include <stdint.h>

#define SL__CODE_ZERO 0x80000000u /* +0.0 */
#define SL__CODE_QMAX 22

/* Powers of ten: exact doubles up to 10^22 (the table parsers and codes share), integers up to
 * 10^19. */
static const double sl__pow10[SL__CODE_QMAX + 1] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                                    1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                                    1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
static const uint64_t sl__ipow10[20] = {1ULL,
                                        10ULL,
                                        100ULL,
                                        1000ULL,
                                        10000ULL,
                                        100000ULL,
                                        1000000ULL,
                                        10000000ULL,
                                        100000000ULL,
                                        1000000000ULL,
                                        10000000000ULL,
                                        100000000000ULL,
                                        1000000000000ULL,
                                        10000000000000ULL,
                                        100000000000000ULL,
                                        1000000000000000ULL,
                                        10000000000000000ULL,
                                        100000000000000000ULL,
                                        1000000000000000000ULL,
                                        10000000000000000000ULL};

/* The number of decimal digits of x > 0. */
static inline unsigned sl__code_digits(uint64_t x)
{
	unsigned d = (unsigned)((64 - __builtin_clzll(x)) * 1233) >> 12; /* about log10(2^bits) */
	return d + (d < 20 && x >= sl__ipow10[d]);
}

/* sl__code_of for mant > 0 of d digits (the parser may know d without counting). */
static inline uint32_t sl__code_of_n(bool neg, uint64_t mant, long exp10, unsigned d)
{
	while (d > 7) { /* trailing zeros: "1.50000000" */
		if (mant % 10)
			return 0;
		mant /= 10, d--, exp10++;
	}
	long q = exp10 - (long)(7 - d);
	if (q < -SL__CODE_QMAX || q > SL__CODE_QMAX)
		return 0;
	uint32_t pos = (uint32_t)(q + SL__CODE_QMAX) << 24 | (uint32_t)(mant * sl__ipow10[7 - d]);
	return neg ? SL__CODE_ZERO - 1 - pos : SL__CODE_ZERO + pos;
}

/* The code of (neg ? -1 : 1) * mant * 10^exp10, or 0 when the number has more than 7
 * significant digits or its exponent is out of range. */
static inline uint32_t sl__code_of(bool neg, uint64_t mant, long exp10)
{
	if (mant == 0)
		return neg ? SL__CODE_ZERO - 1 : SL__CODE_ZERO;
	return sl__code_of_n(neg, mant, exp10, sl__code_digits(mant));
}

/* What a code's mantissa is multiplied, then divided, by for exponent index q + 22: one of the
 * two is 1 (exact), so the double is rounded once; indexes 45-63 never occur. */
static const double sl__code_mul[64] = {1,    1,    1,    1,    1,    1,    1,    1,    1,    1,    1,    1,    1,
                                        1,    1,    1,    1,    1,    1,    1,    1,    1,    1e0,  1e1,  1e2,  1e3,
                                        1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
                                        1e17, 1e18, 1e19, 1e20, 1e21, 1e22, 1,    1,    1,    1,    1,    1,    1,
                                        1,    1,    1,    1,    1,    1,    1,    1,    1,    1,    1,    1};
static const double sl__code_div[64] = {1e22, 1e21, 1e20, 1e19, 1e18, 1e17, 1e16, 1e15, 1e14, 1e13, 1e12, 1e11, 1e10,
                                        1e9,  1e8,  1e7,  1e6,  1e5,  1e4,  1e3,  1e2,  1e1,  1,    1,    1,    1,
                                        1,    1,    1,    1,    1,    1,    1,    1,    1,    1,    1,    1,    1,
                                        1,    1,    1,    1,    1,    1,    1,    1,    1,    1,    1,    1,    1,
                                        1,    1,    1,    1,    1,    1,    1,    1,    1,    1,    1,    1};

/* The double of a code (never 0), without a branch: +-0.0 come out of m = 0. */
static inline double sl__code_value(uint32_t c)
{
	uint32_t neg = c < SL__CODE_ZERO, pos = neg ? SL__CODE_ZERO - 1 - c : c - SL__CODE_ZERO;
	double v = (double)(pos & 0xFFFFFF) * sl__code_mul[pos >> 24] / sl__code_div[pos >> 24];
	return neg ? -v : v;
}

/* The code whose double is v, bit for bit, or 0 when there is none (v not finite, more than
 * 7 significant digits, out of range). For values that were counted as doubles: the decimal
 * exponent is guessed from the binary one, then moved by one where the guess was off. */
static inline uint32_t sl__code_of_double(double v)
{
	if (!isfinite(v))
		return 0;
	if (v == 0)
		return signbit(v) ? SL__CODE_ZERO - 1 : SL__CODE_ZERO;
	double a = fabs(v);
	int e2;
	frexp(a, &e2);                               /* 2^(e2-1) <= a < 2^e2 */
	long q = (long)((e2 - 1) * 78913 >> 18) - 6; /* floor((e2 - 1) log10 2) - 6: at most one low */
	if (q < -SL__CODE_QMAX)
		q = -SL__CODE_QMAX; /* still not high: m below 10^6 then says there is no code */
	for (int tries = 0; tries < 2; tries++) {
		if (q > SL__CODE_QMAX)
			return 0;
		double m = q >= 0 ? a / sl__pow10[q] : a * sl__pow10[-q];
		if (m >= 1e7 - 0.5) {
			q++;
			continue;
		}
		if (m < 1e6 - 0.5)
			return 0; /* the guess is never high: a is below 10^(q+6), not a 7-digit number */
		uint32_t c = sl__code_of(signbit(v), (uint64_t)(m + 0.5), q);
		double back = c ? sl__code_value(c) : NAN;
		return back == v && signbit(back) == signbit(v) ? c : 0;
	}
	return 0;
}

#endif
