/* numcode.c: decimal codes (src/drift/numcode-int.h), the 4-byte numbers of loaded columns.
 * Checks, on seeded random decimals of 1-7 significant digits over the whole exponent range
 * and on numbers that have no code: a code's double is strtod's, bit for bit; codes order as
 * their doubles (-0.0 just below +0.0); the code found from a double is the parser's; and a
 * table keeps codes for a column of short decimals, turns a column to doubles when a longer
 * number comes (early, late, or among counted values), and reads back strtod's sorted values
 * either way. */
#include <criterion/criterion.h>
#include <stdio.h>

#include "drift/table-int.h"

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint64_t next(void)
{
	rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
	return rng;
}

static bool same_bits(double a, double b)
{
	return memcmp(&a, &b, sizeof a) == 0;
}

/* A random decimal of d significant digits (1-7), mant * 10^e, whose code's exponent is in
 * range: spelled with an exponent, or plainly (zeros appended, or a point put in). */
static void random_decimal(char *buf, size_t cap, bool *neg, uint64_t *mant, long *e)
{
	unsigned d = 1 + (unsigned)(next() % 7);
	uint64_t lo = d == 1 ? 0 : sl__ipow10[d - 1];
	*mant = lo + next() % (sl__ipow10[d] - lo);
	*e = -SL__CODE_QMAX + 7 - (long)d + (long)(next() % (2 * SL__CODE_QMAX + 1));
	*neg = next() & 1;
	char digits[24];
	int n = snprintf(digits, sizeof digits, "%llu", (unsigned long long)*mant);
	const char *sign = *neg ? "-" : "";
	if (next() & 1)
		snprintf(buf, cap, "%s%se%ld", sign, digits, *e);
	else if (*e >= 0)
		snprintf(buf, cap, "%s%s%.*s", sign, digits, (int)*e, "0000000000000000000000000000000");
	else if (-*e < n)
		snprintf(buf, cap, "%s%.*s.%s", sign, n + (int)*e, digits, digits + n + *e);
	else
		snprintf(buf, cap, "%s0.%.*s%s", sign, (int)(-*e - n), "0000000000000000000000000000000", digits);
}

Test(numcode, codes_decode_to_strtod)
{
	char buf[96 + 24] = {0}; /* the wide path may read 18 bytes past a cell's start */
	for (int i = 0; i < 200000; i++) {
		bool neg;
		uint64_t mant;
		long e;
		random_decimal(buf, sizeof buf, &neg, &mant, &e);
		uint32_t c = sl__code_of(neg, mant, e);
		double want = strtod(buf, NULL);
		cr_assert_neq(c, 0, "%s has no code", buf);
		cr_assert(same_bits(sl__code_value(c), want), "%s: code gives %.17g", buf, sl__code_value(c));
		cr_assert_eq(sl__code_of_double(want), c, "%s: the code from its double differs", buf);
		/* the general path (the cell ends its buffer), then the eight-byte one (18 bytes readable) */
		size_t n = strlen(buf);
		for (int wide = 0; wide <= 1; wide++) {
			double v;
			uint32_t pc = 0;
			cr_assert_eq(sl__drift_parse_number_in(buf, n, buf + n + (wide ? 20 : 0), &v, &pc), 0);
			cr_assert(same_bits(v, want) && pc == c, "%s (wide %d): the parser's code %u, want %u", buf,
			          wide, pc, c);
		}
	}
}

Test(numcode, spellings_and_zeros)
{
	static const char *same[][3] = {{"1099.66", "1.09966e3", "001099.660000"},
	                                {"0.0068386", "6.8386e-3", "68386e-7"},
	                                {"-3", "-3.000", "-0.3e1"}};
	for (size_t i = 0; i < sizeof same / sizeof same[0]; i++) {
		uint32_t c0 = 0;
		for (int j = 0; j < 3; j++) {
			const char *s = same[i][j];
			double v;
			uint32_t c;
			cr_assert_eq(sl__drift_parse_number_in(s, strlen(s), s + strlen(s), &v, &c), 0, "%s", s);
			cr_assert(c && same_bits(sl__code_value(c), v), "%s", s);
			if (j == 0)
				c0 = c;
			cr_expect_eq(c, c0, "%s and %s have different codes", s, same[i][0]);
		}
	}
	cr_expect_eq(sl__code_of(false, 0, 5), SL__CODE_ZERO);
	cr_expect_eq(sl__code_of(true, 0, -3), SL__CODE_ZERO - 1);
	cr_expect(same_bits(sl__code_value(SL__CODE_ZERO - 1), -0.0));
	cr_expect(same_bits(sl__code_value(SL__CODE_ZERO), 0.0));
	cr_expect_eq(sl__code_of_double(-0.0), SL__CODE_ZERO - 1);
}

Test(numcode, no_code_for_long_or_far_numbers)
{
	static const char *none[] = {
	    "12345678", "0.123456789", "1e30", "9999999e23", "1e-29", "3.14159265358979", "123456789012345678901234",
	    "inf",      "-Infinity"};
	for (size_t i = 0; i < sizeof none / sizeof none[0]; i++) {
		double v;
		uint32_t c = 1;
		cr_assert_eq(sl__drift_parse_number_in(none[i], strlen(none[i]), none[i] + strlen(none[i]), &v, &c), 0);
		cr_expect_eq(c, 0, "%s got a code", none[i]);
		cr_expect_eq(sl__code_of_double(v), 0, "%s: a code from its double", none[i]);
	}
	/* trailing zeros are not digits: 7 significant ones and zeros after them still have a code */
	cr_expect_neq(sl__code_of(false, 12345670000ULL, -4), 0);
	cr_expect_eq(sl__code_of(false, 12345678ULL, 0), 0);
	cr_expect_eq(sl__code_of_double(NAN), 0);
	cr_expect_eq(sl__code_of_double(5e-324), 0);
	/* random doubles: a code, when one is found, gives the same bits */
	for (int i = 0; i < 100000; i++) {
		uint64_t b = next();
		double v;
		memcpy(&v, &b, sizeof v);
		uint32_t c = sl__code_of_double(v);
		cr_assert(!c || same_bits(sl__code_value(c), v), "%a", v);
	}
}

/* The loaders' direct path from a cell's digits to its code (sl__plain_code): on random cells
 * of 1-10 digits with a point anywhere, leading and trailing zeros and a sign, it gives a code
 * exactly when the cell has at most 8 digits and at most 7 significant ones, and then the code
 * that the decimal path makes, whose double is strtod's. */
Test(numcode, direct_code_of_a_cell)
{
	char buf[64 + 24] = {0}; /* 18 bytes readable past a cell's start */
	for (int i = 0; i < 300000; i++) {
		int nd = 1 + (int)(next() % 10), pt = (int)(next() % (nd + 1)), len = 0, lz = 0;
		if (next() % 3 == 0)
			buf[len++] = '-';
		bool zeros = next() & 1; /* many zeros, to reach leading and trailing ones and 0 itself */
		for (int d = 0; d < nd; d++) {
			if (d == pt && d)
				buf[len++] = '.';
			buf[len++] = (char)('0' + (zeros && next() % 2 ? 0 : next() % 10));
		}
		buf[len] = (char)(next() % 2 ? ',' : '\n');
		const char *dig = buf + (buf[0] == '-');
		for (int j = 0; j < len - (buf[0] == '-') && (dig[j] == '0' || dig[j] == '.'); j++)
			lz += dig[j] == '0';
		int sig = nd - lz;
		bool want_code = nd <= 8 && sig <= 7;
		uint32_t c = sl__plain_code(buf, (size_t)len);
		cr_assert_eq(c != 0, want_code, "'%.*s': code %u", len, buf, c);
		if (!c)
			continue;
		struct sl__dec d;
		cr_assert(sl__plain_dec(buf, (size_t)len, &d), "'%.*s'", len, buf);
		cr_assert_eq(c, sl__dec_code(&d), "'%.*s': %u, the decimal's %u", len, buf, c, sl__dec_code(&d));
		buf[len] = '\0';
		cr_assert(same_bits(sl__code_value(c), strtod(buf, NULL)), "'%s'", buf);
	}
	/* the two ways to read a cell's shape agree, on those cells and on bytes of every kind */
	for (int i = 0; i < 300000; i++) {
		static const char pick[] = "0123456789.-,+e \n9";
		size_t len = next() % 12;
		for (size_t j = 0; j < 24; j++)
			buf[j] = j < len ? pick[next() % (sizeof pick - 1)] : (char)(next() % 256);
		bool n1, n2;
		unsigned a1 = 99, a2 = 99, f1 = 99, f2 = 99;
		bool s1 = sl__cell_shape(buf, len, &n1, &a1, &f1), s2 = sl__cell_shape_words(buf, len, &n2, &a2, &f2);
		cr_assert_eq(s1, s2, "'%.*s'", (int)len, buf);
		cr_assert(!s1 || (n1 == n2 && a1 == a2 && f1 == f2), "'%.*s': %u.%u against %u.%u", (int)len, buf, a1, f1,
		          a2, f2);
	}
	static const char *other[] = {"", "-", ".5", "5.", "1.2.3", "12a", "1e5", "+1", "123456789", "0.000000001"};
	for (size_t i = 0; i < sizeof other / sizeof other[0]; i++) {
		snprintf(buf, sizeof buf, "%s,,,,,,,,,,,,,,,,,,,,", other[i]);
		cr_expect_eq(sl__plain_code(buf, strlen(other[i])), 0, "'%s'", other[i]);
	}
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return (x > y) - (x < y);
}

Test(numcode, codes_order_as_numbers)
{
	enum { N = 20000 };
	static uint32_t c[N], sorted[N], scratch[N];
	char buf[96];
	for (int i = 0; i < N; i++) {
		bool neg;
		uint64_t mant;
		long e;
		do
			random_decimal(buf, sizeof buf, &neg, &mant, &e);
		while (!(c[i] = sl__code_of(neg, mant, e)));
	}
	c[0] = SL__CODE_ZERO, c[1] = SL__CODE_ZERO - 1, c[2] = SL__CODE_ZERO;
	memcpy(sorted, c, sizeof c);
	qsort(sorted, N, sizeof *sorted, cmp_u32);
	uint32_t *got;
	cr_assert_eq(sl__drift_sort_codes(c, N, scratch, &got), 0);
	cr_assert(got == c || got == scratch);
	cr_assert_eq(memcmp(got, sorted, sizeof c), 0, "the radix sort and qsort disagree");
	for (int i = 1; i < N; i++) {
		double a = sl__code_value(got[i - 1]), b = sl__code_value(got[i]);
		cr_assert(got[i - 1] <= got[i], "codes out of order at %d", i);
		cr_assert(a < b || (a == b && (got[i - 1] == got[i] || (signbit(a) && !signbit(b)))),
		          "at %d: %.17g then %.17g", i, a, b);
	}
}

/* ---- in a table ---- */

static struct sl_drift_table load_one(const char *csv, bool count_few)
{
	struct sl_drift_input in = {"x.csv", csv, strlen(csv)};
	struct sl_drift_load_opts o = {.count_few = count_few};
	struct sl_drift_table r, c;
	struct sl_drift_error err;
	cr_assert_eq(sl_drift_tables_load(&in, &in, &o, &r, &c, &err), 0, "%s", err.msg);
	sl_drift_table_release(&c);
	return r;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* Column 0 of a CSV whose rows are cells[i]: codes or not as expected, strtod's values sorted. */
static void check_column(char **cells, size_t n, bool count_few, bool want_codes)
{
	size_t cap = 16 + n * 100, len;
	char *csv = malloc(cap);
	double *want = malloc(n * sizeof *want);
	cr_assert(csv && want);
	len = (size_t)snprintf(csv, cap, "x\n");
	for (size_t i = 0; i < n; i++) {
		len += (size_t)snprintf(csv + len, cap - len, "%s\n", cells[i]);
		want[i] = strtod(cells[i], NULL);
	}
	qsort(want, n, sizeof *want, cmp_double);
	struct sl_drift_table t = load_one(csv, count_few);
	const struct sl_drift_col *c = &t.cols[0];
	cr_assert_eq(c->n_num, n);
	cr_assert_null(c->counts, "the column is counted: not what this test covers");
	cr_expect_eq(c->code != NULL, want_codes, "codes: %d, want %d", c->code != NULL, want_codes);
	double *buf = NULL;
	size_t bcap = 0;
	const double *v = sl_drift_col_values(c, &buf, &bcap);
	cr_assert(v);
	for (size_t i = 0; i < n; i++) {
		cr_assert(v[i] == want[i], "value %zu: %.17g, strtod %.17g", i, v[i], want[i]);
		cr_assert(v[i] == sl_drift_col_at(c, i));
	}
	free(buf);
	sl_drift_table_release(&t);
	free(csv);
	free(want);
}

Test(numcode, table_keeps_codes_until_a_long_number)
{
	enum { N = 30000 }; /* more distinct values than count_few counts */
	static char store[N][96];
	static char *cells[N];
	for (size_t i = 0; i < N; i++) {
		bool neg;
		uint64_t mant;
		long e;
		random_decimal(store[i], sizeof store[i], &neg, &mant, &e);
		cells[i] = store[i];
	}
	for (int few = 0; few <= 1; few++) {
		check_column(cells, N, few, true);
		char *keep0 = cells[0], *keepn = cells[N - 1], *keepm = cells[100];
		cells[N - 1] = "3.14159265358979"; /* late: after the array holds codes */
		check_column(cells, N, few, false);
		cells[N - 1] = keepn, cells[100] = "0.000123456789"; /* early: while still counted */
		check_column(cells, N, few, false);
		cells[100] = keepm, cells[0] = "1e300"; /* first */
		check_column(cells, N, few, false);
		cells[0] = keep0;
	}
}

/* The report's summary of a coded column (decode and first pass in one loop) is the summary of
 * the decoded values, bit for bit: sorted random codes with repeats and both zeros. */
Test(numcode, codes_summary_is_the_values_summary)
{
	enum { N = 5000 };
	static uint32_t c[N], scratch[N];
	static double v[N], want[N];
	char buf[96];
	for (int round = 0; round < 20; round++) {
		size_t n = 1 + next() % N;
		for (size_t i = 0; i < n; i++) {
			bool neg;
			uint64_t mant;
			long e;
			do
				random_decimal(buf, sizeof buf, &neg, &mant, &e);
			while (!(c[i] = sl__code_of(neg, mant % 1000, e % 4))); /* few distinct: repeats */
			if (next() % 50 == 0)
				c[i] = SL__CODE_ZERO - (uint32_t)(next() & 1);
		}
		uint32_t *sorted;
		cr_assert_eq(sl__drift_sort_codes(c, n, scratch, &sorted), 0);
		for (size_t i = 0; i < n; i++)
			want[i] = sl__code_value(sorted[i]);
		size_t u1, u2;
		double m1, m2, s1, s2;
		struct sl__sample a = sl__sample_of(want, n);
		sl__sample_summary(&a, &u1, &m1, &s1);
		sl__codes_summary(sorted, n, v, &u2, &m2, &s2);
		cr_assert_eq(memcmp(v, want, n * sizeof *v), 0, "the decoded values differ");
		cr_assert(u1 == u2 && same_bits(m1, m2) && same_bits(s1, s2), "round %d: %zu %a %a against %zu %a %a",
		          round, u2, m2, s2, u1, m1, s1);
	}
}
