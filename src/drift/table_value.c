/* table_value.c: what a cell of a CSV file means: a number, a missing value, or text.
 * Numbers: optional ASCII spaces around, a sign, digits with an optional fraction and
 * exponent, or inf/infinity in any case; parsed correctly rounded: exactly in double
 * arithmetic when the digits fit 2^53 and the power of ten is at most 22 (Clinger's fast
 * path), otherwise by strtod. Missing: pandas' default na_values, matched exactly.
 * Invariants: never reads past p[n); no allocation unless the literal is longer than 128
 * bytes and misses the fast path. */
#include <ctype.h>
#include <math.h>

#include "table-int.h"

#define pow10_tab sl__pow10

#define NA(s)                                                                                                          \
	{                                                                                                              \
		s, sizeof(s) - 1                                                                                       \
	}
static const struct {
	const char *s;
	size_t n;
} na_values[] = {NA("#N/A"), NA("#N/A N/A"), NA("#NA"),     NA("-1.#IND"), NA("-1.#QNAN"), NA("-NaN"),
                 NA("-nan"), NA("1.#IND"),   NA("1.#QNAN"), NA("<NA>"),    NA("N/A"),      NA("NA"),
                 NA("NULL"), NA("NaN"),      NA("None"),    NA("n/a"),     NA("nan"),      NA("null")};

bool sl_drift_is_missing(const char *p, size_t n)
{
	if (n == 0)
		return true;
	if (!sl__na_first[(unsigned char)p[0]]) /* most text leaves here */
		return false;
	/* every marker but "-nan"/"-NaN"/"-1.#..." and "1.#..." starts with a non-digit: numbers leave early */
	if (n > 8 || (p[0] >= '0' && p[0] <= '9' && (n < 5 || p[1] != '.')) ||
	    (p[0] == '-' && n > 1 && p[1] >= '0' && p[1] <= '9' && (n < 6 || p[2] != '.')))
		return false;
	for (size_t i = 0; i < sizeof na_values / sizeof na_values[0]; i++)
		if (na_values[i].n == n && memcmp(na_values[i].s, p, n) == 0)
			return true;
	return false;
}

static bool word_ci(const char *p, size_t n, const char *w, size_t m)
{
	if (n != m)
		return false;
	for (size_t i = 0; i < n; i++)
		if (tolower((unsigned char)p[i]) != w[i])
			return false;
	return true;
}

/* Syntax check, with the digits gathered for the fast path: value = mant * 10^exp10 unless
 * more than 19 digits were met (lost: a nonzero digit did not fit). */
struct lit {
	uint64_t mant;
	long exp10;
	bool lost, neg;
};

/* Digits from p[i]: up to 19 significant ones go into mant (leading zeros only move the point
 * of a fraction); frac moves the decimal point with each digit taken. */
static size_t digits_run(const char *p, size_t n, size_t i, struct lit *l, int *nd, bool frac)
{
	for (; i < n; i++) {
		unsigned d = (unsigned)(p[i] - '0');
		if (d > 9)
			break;
		if (d == 0 && l->mant == 0) { /* a leading zero: no digit kept */
			l->exp10 -= frac;
		} else if (*nd < 19) {
			l->mant = l->mant * 10 + d, (*nd)++;
			l->exp10 -= frac;
		} else {
			l->lost |= d != 0;
			l->exp10 += !frac;
		}
	}
	return i;
}

static int scan(const char *p, size_t n, struct lit *l)
{
	size_t i = 0;
	int nd = 0;
	*l = (struct lit){0};
	if (p[0] == '+' || p[0] == '-')
		l->neg = p[i++] == '-';
	size_t a = i;
	i = digits_run(p, n, i, l, &nd, false);
	size_t int_digits = i - a, frac_digits = 0;
	if (i < n && p[i] == '.') {
		size_t b = ++i;
		i = digits_run(p, n, i, l, &nd, true);
		frac_digits = i - b;
	}
	if (int_digits + frac_digits == 0)
		return SL_EPARSE;
	if (i < n && (p[i] == 'e' || p[i] == 'E')) {
		i++;
		bool eneg = i < n && p[i] == '-';
		i += i < n && (p[i] == '+' || p[i] == '-');
		if (i >= n || p[i] < '0' || p[i] > '9')
			return SL_EPARSE;
		long e = 0;
		for (; i < n && p[i] >= '0' && p[i] <= '9'; i++)
			e = e < 100000 ? e * 10 + (p[i] - '0') : e;
		l->exp10 += eneg ? -e : e;
	}
	return i == n ? 0 : SL_EPARSE;
}

static int slow(const char *p, size_t n, double *out)
{
	char small[128], *s = n < sizeof small ? small : malloc(n + 1);
	if (!s)
		return SL_ENOMEM;
	memcpy(s, p, n);
	s[n] = '\0';
	*out = strtod(s, NULL);
	if (s != small)
		free(s);
	return 0;
}

/* The common cell, -?D+(.D+)? with at most 19 digits, whose digits fit 2^53 and whose fraction
 * has at most 22 of them, as a decimal: its value is mant / 10^frac, one correctly rounded
 * operation on two exact doubles (the same arithmetic as the general path below, so the same
 * bits). False, with nothing written, for anything else: the general path decides. */
static bool plain(const char *p, size_t n, struct sl__dec *out)
{
	size_t i = p[0] == '-', dot = 0;
	uint64_t mant = 0;
	if (n - i > 20 || i >= n || (unsigned)(p[i] - '0') > 9 || (unsigned)(p[n - 1] - '0') > 9)
		return false; /* too long for 19 digits and a point, or not starting and ending with a digit */
	for (; i < n; i++) {
		unsigned d = (unsigned)(p[i] - '0');
		if (d <= 9)
			mant = mant * 10 + d;
		else if (p[i] == '.' && !dot)
			dot = i;
		else
			return false;
	}
	size_t frac = dot ? n - 1 - dot : 0;
	if ((!dot && n - (p[0] == '-') > 19) || mant > (1ULL << 53) || frac > 22)
		return false;
	*out = (struct sl__dec){mant, (unsigned)frac, p[0] == '-', 0};
	return true;
}

/* sl_drift_parse_number with the decimal code (0: none) when code is not NULL. */
static int parse(const char *p, size_t n, double *out, uint32_t *code)
{
	struct sl__dec d;
	uint32_t none;
	code = code ? code : &none;
	*code = 0;
	if (n && plain(p, n, &d)) {
		*out = sl__dec_value(&d), *code = sl__dec_code(&d);
		return 0;
	}
	while (n && p[0] == ' ')
		p++, n--;
	while (n && p[n - 1] == ' ')
		n--;
	if (n == 0)
		return SL_EPARSE;
	size_t s = p[0] == '+' || p[0] == '-';
	if (s < n && (unsigned)(p[s] - '0') > 9 && p[s] != '.' && (p[s] | 32) != 'i')
		return SL_EPARSE; /* text: leave before the scan */
	if (s < n && (p[s] | 32) == 'i' && (word_ci(p + s, n - s, "inf", 3) || word_ci(p + s, n - s, "infinity", 8))) {
		*out = p[0] == '-' ? -INFINITY : INFINITY;
		return 0;
	}
	struct lit l;
	if (scan(p, n, &l))
		return SL_EPARSE;
	if (!l.lost)
		*code = sl__code_of(l.neg, l.mant, l.exp10);
	if (!l.lost && l.mant <= (1ULL << 53) && l.exp10 >= -22 && l.exp10 <= 22) {
		double m = (double)l.mant;
		double v = l.exp10 < 0 ? m / pow10_tab[-l.exp10] : m * pow10_tab[l.exp10];
		*out = l.neg ? -v : v;
		return 0;
	}
	if (l.mant == 0 && !l.lost) {
		*out = l.neg ? -0.0 : 0.0;
		return 0;
	}
	return slow(p, n, out);
}

int sl__drift_parse_number_in(const char *p, size_t n, const char *end, double *out, uint32_t *code)
{
	struct sl__dec d;
	if (n && end - p >= 18 && sl__plain_dec(p, n, &d)) {
		*out = sl__dec_value(&d);
		if (code)
			*code = sl__dec_code(&d);
		return 0;
	}
	return parse(p, n, out, code);
}

int sl_drift_parse_number(const char *p, size_t n, double *out)
{
	return parse(p, n, out, NULL);
}
