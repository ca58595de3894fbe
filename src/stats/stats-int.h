/* stats-int.h: helpers shared by the stats files, not part of the public API.
 * Invariants: pure functions of their arguments; no allocation. */
#ifndef SLUICE_STATS_INT_H
#define SLUICE_STATS_INT_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>

#include "sluice/stats.h"

#define SL_LN_SQRT_2PI 0.918938533204672741780329736406 /* log(sqrt(2 pi)) */
#define SL_LN_2PI      1.837877066409345483560659472811
#define SL_SQRT1_2     0.707106781186547524400844362105

/* log Gamma(x+1) - ((x+1/2) log x - x + log sqrt(2 pi)), Stirling's error, x > 0. */
double sl__stirlerr(double x);
/* x log(x/np) + np - x without cancellation (Loader's bd0), x >= 0, np > 0. */
double sl__bd0(double x, double np);
/* log of C(n,x) p^x q^(n-x) for real 0 <= x <= n, p + q = 1 (Loader's saddle point). */
double sl__ldbinom_raw(double x, double n, double p, double q);
/* the same for a successes and b failures (real, > 0), keeping b exact when a >> b. */
double sl__ldbinom_ab(double a, double b, double p, double q);
/* I_x(a,b) and its complement with both x and y = 1 - x given exactly by the caller. */
void sl__ibeta(double a, double b, double x, double y, double *ix, double *icx);
/* P(a,x) and Q(a,x) together. */
void sl__igamma(double a, double x, double *p, double *q);

int sl__cmp_double(const void *a, const void *b);
/* Copies v[0..n) into dst and sorts ascending. */
void sl__sorted_copy(double *dst, const double *v, size_t n);

#endif
