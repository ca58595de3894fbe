#!/usr/bin/python3
"""gen_stratified.py: writes stratified_expected.h, the expected values that
tests/unit/stats/stratified.c compares src/stats/stratified.c against.

Run with Debian's python3 (python3-numpy, python3-scipy):
    /usr/bin/python3 tests/unit/stats/gen_stratified.py
Everything is seeded (the samples are rebuilt bit for bit by the C test from the same
"golden" formula u_i = fmod((i + offset) * 0.6180339887498949, 1) * scale, optionally floored
to make ties), so the output is reproducible for a given SciPy version.

Sources of truth (SciPy 1.10 building blocks, never the code under test):
- van Elteren, one stratum: scipy.stats.mannwhitneyu(y - delta*s, x, use_continuity=False);
  several strata: per-stratum U from mannwhitneyu, tie correction from scipy.stats.tiecorrect,
  combined with weights 1/(N_k+1), p from scipy.stats.norm;
- the common shift and its interval: the step function z(delta) evaluated at every pairwise
  difference (y_j - x_i)/s_k and between them, the exact jump where it crosses the level;
- stratified proportions at margin 0: one stratum's z^2 against chi2_contingency(correction=
  False) x (N-1)/N, several strata the Cochran-Mantel-Haenszel formula; other margins the
  documented restricted-variance formula; intervals by scipy.optimize.brentq on it;
- exact conditional test: one stratum scipy.stats.fisher_exact, several strata the
  convolution (numpy.convolve) of scipy.stats.hypergeom pmfs.
"""
import math
import os

import numpy as np
import scipy
from scipy import optimize, stats

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "stratified_expected.h")
GOLD = 0.6180339887498949


def golden(n, offset, scale, quant, shift):
    i = np.arange(n, dtype=np.float64) + offset
    u = np.fmod(i * GOLD, 1.0) * scale
    if quant:
        u = np.floor(u)
    return np.sort(u + shift)


# ---- van Elteren ----

# strata: (nx, xoff, xscale, ny, yoff, yscale, yshift, quant, s)
VE_CASES = [
    ("one stratum", [(40, 0, 10, 35, 100, 10, 1.5, False, 1.0)]),
    ("one stratum, ties", [(30, 3, 6, 25, 50, 6, 1.0, True, 2.0)]),
    ("three strata", [(12, 0, 5, 15, 7, 5, 0.8, False, 3.0), (200, 11, 20, 20, 300, 20, 2.0, False, 10.0),
                      (60, 500, 8, 90, 900, 8, -0.5, False, 4.0)]),
    ("three strata, ties", [(20, 1, 4, 18, 40, 4, 0.0, True, 1.0), (45, 2, 7, 50, 80, 7, 1.0, True, 2.0),
                            (10, 3, 3, 12, 90, 3, 1.0, True, 1.5)]),
    ("small", [(10, 0, 1, 10, 10, 1, 0.3, False, 0.5)]),
]


def build(strata):
    out = []
    for nx, xo, xs, ny, yo, ys, ysh, q, s in strata:
        out.append((golden(nx, xo, xs, q, 0.0), golden(ny, yo, ys, q, ysh), s))
    return out


def ve_z(strata, d):
    num = var = 0.0
    for x, y, s in strata:
        nx, ny = len(x), len(y)
        n = nx + ny
        yy = y - d * s
        u = stats.mannwhitneyu(yy, x, use_continuity=False, method="asymptotic").statistic
        tc = stats.tiecorrect(stats.rankdata(np.concatenate([x, yy])))
        w = 1.0 / (n + 1)
        num += w * (u - nx * ny / 2.0)
        var += w * w * nx * ny * (n + 1) / 12.0 * tc
    if var > 0:
        return num / math.sqrt(var)
    return math.inf if num > 0 else -math.inf if num < 0 else 0.0


def crossing(strata, level, strict):
    """inf{d: z(d) < level} (strict: z(d) <= level) over the jump points."""
    pts = sorted({(yj - xi) / s for x, y, s in strata for xi in x for yj in y})
    for i, t in enumerate(pts):
        z_at = ve_z(strata, t)
        if (z_at <= level) if strict else (z_at < level):
            return t
        nxt = pts[i + 1] if i + 1 < len(pts) else t + 1.0
        z_mid = ve_z(strata, 0.5 * (t + nxt))
        if (z_mid <= level) if strict else (z_mid < level):
            return t
    return math.inf


def ve_rows():
    rows = []
    for name, spec in VE_CASES:
        strata = build(spec)
        for d, alt in ((0.0, "two-sided"), (0.2, "greater"), (-0.1, "less")):
            z = ve_z(strata, d)
            p = {"two-sided": min(1.0, 2 * stats.norm.sf(abs(z))), "greater": stats.norm.sf(z),
                 "less": stats.norm.cdf(z)}[alt]
            if len(strata) == 1:  # SciPy's own p-value must agree with the formula
                x, y, s = strata[0]
                ps = stats.mannwhitneyu(y - d * s, x, use_continuity=False, alternative=alt,
                                        method="asymptotic").pvalue
                assert abs(ps - p) <= 1e-12 * max(p, 1e-300), (name, ps, p)
            rows.append((name, spec, d, alt, z, p))
    return rows


def shift_rows():
    rows = []
    for name, spec in VE_CASES:
        strata = build(spec)
        for conf in (0.9, 0.99):
            zc = stats.norm.isf((1 - conf) / 2)
            est = crossing(strata, 0.0, False)
            lo = crossing(strata, zc, False)
            hi = crossing(strata, -zc, True)
            lo_att = ve_z(strata, -1e6) >= zc
            hi_att = ve_z(strata, 1e6) <= -zc
            rows.append((name, spec, conf, est, lo if lo_att else -math.inf, hi if hi_att else math.inf))
    return rows


# ---- stratified proportions ----

PROP_CASES = [
    ("one stratum", [(30, 1000, 12, 1000)]),
    ("one stratum, small", [(3, 150, 1, 1000)]),
    ("four stages", [(1, 100, 99, 9900), (4, 100, 20, 1900), (9, 300, 9, 900), (18, 600, 6, 600)]),
    ("four stages, A/A-like", [(0, 100, 95, 9900), (2, 100, 17, 1900), (3, 300, 10, 900), (7, 600, 5, 600)]),
    ("large", [(2100, 100000, 2000, 100000), (400, 20000, 1200, 60000)]),
]


def restricted_var(x1, n1, x2, n2, m):
    n = n1 + n2
    p2 = (x1 + x2 - n1 * m) / n
    p2 = min(max(p2, max(0.0, -m)), min(1.0, 1.0 - m))
    p1 = p2 + m
    v = p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2
    return v * n / (n - 1)


def prop_z(strata, m):
    num = var = 0.0
    for x1, n1, x2, n2 in strata:
        w = n1 * n2 / (n1 + n2)
        num += w * (x1 / n1 - x2 / n2 - m)
        var += w * w * restricted_var(x1, n1, x2, n2, m)
    return num / math.sqrt(var) if var > 0 else (math.inf if num > 0 else -math.inf if num < 0 else 0.0)


def cmh_z(strata):
    num = var = 0.0
    for x1, n1, x2, n2 in strata:
        n, m1 = n1 + n2, x1 + x2
        num += x1 - n1 * m1 / n
        var += n1 * n2 * m1 * (n - m1) / (n * n * (n - 1))
    return num / math.sqrt(var)


def exact(strata, alt):
    dist, base, obs = np.array([1.0]), 0, 0
    for x1, n1, x2, n2 in strata:
        m1, n = x1 + x2, n1 + n2
        lo, hi = max(0, n1 - (n - m1)), min(n1, m1)
        pmf = stats.hypergeom.pmf(np.arange(lo, hi + 1), n, m1, n1)
        dist = np.convolve(dist, pmf)
        base += lo
        obs += x1
    v = np.arange(len(dist)) + base
    ge, le = min(1.0, dist[v >= obs].sum()), min(1.0, dist[v <= obs].sum())
    if len(strata) == 1:  # Fisher's exact test, one-sided, must agree
        x1, n1, x2, n2 = strata[0]
        t = [[x1, n1 - x1], [x2, n2 - x2]]
        fg = stats.fisher_exact(t, alternative="greater")[1]
        fl = stats.fisher_exact(t, alternative="less")[1]
        assert abs(fg - ge) <= 1e-12 * fg and abs(fl - le) <= 1e-12 * fl, (strata, fg, ge, fl, le)
    return {"greater": ge, "less": le, "two-sided": min(1.0, 2 * min(ge, le))}[alt]


def prop_rows():
    rows = []
    for name, strata in PROP_CASES:
        z0 = prop_z(strata, 0.0)
        assert abs(z0 - cmh_z(strata)) <= 1e-12 * abs(z0), (name, z0, cmh_z(strata))
        if len(strata) == 1:
            x1, n1, x2, n2 = strata[0]
            chi2 = stats.chi2_contingency([[x1, n1 - x1], [x2, n2 - x2]], correction=False)[0]
            n = n1 + n2
            assert abs(z0 * z0 - chi2 * (n - 1) / n) <= 1e-12 * chi2, (name, z0 * z0, chi2)
        w = [n1 * n2 / (n1 + n2) for _, n1, _, n2 in strata]
        diff = sum(wi * (x1 / n1 - x2 / n2) for wi, (x1, n1, x2, n2) in zip(w, strata)) / sum(w)
        for margin, alt, conf in ((0.0, "greater", 0.95), (0.01, "greater", 0.99), (-0.005, "less", 0.9),
                                  (0.0, "two-sided", 0.95)):
            z = prop_z(strata, margin)
            p = {"two-sided": min(1.0, 2 * stats.norm.sf(abs(z))), "greater": stats.norm.sf(z),
                 "less": stats.norm.cdf(z)}[alt]
            zc = stats.norm.isf((1 - conf) / 2)
            lo = optimize.brentq(lambda m: prop_z(strata, m) - zc, -0.999, 0.999, xtol=1e-15, rtol=1e-14)
            hi = optimize.brentq(lambda m: prop_z(strata, m) + zc, -0.999, 0.999, xtol=1e-15, rtol=1e-14)
            rows.append((name, strata, margin, alt, conf, diff, z, p, lo, hi, exact(strata, alt)))
    return rows


# ---- output ----

def num(v):
    if math.isinf(v):
        return "INFINITY" if v > 0 else "-INFINITY"
    return repr(float(v))


def alt_c(a):
    return {"two-sided": "SL_ALT_TWO_SIDED", "greater": "SL_ALT_GREATER", "less": "SL_ALT_LESS"}[a]


def ve_spec_c(spec):
    parts = ["{%d, %d, %s, %d, %d, %s, %s, %d, %s}" % (nx, xo, num(xs), ny, yo, num(ys), num(ysh), int(q), num(s))
             for nx, xo, xs, ny, yo, ys, ysh, q, s in spec]
    return "%d, {%s}" % (len(spec), ", ".join(parts))


def main():
    lines = ["/* stratified_expected.h: written by gen_stratified.py (SciPy %s, numpy %s); do not edit. */"
             % (scipy.__version__, np.__version__),
             "#ifndef SLUICE_TEST_STRATIFIED_EXPECTED_H", "#define SLUICE_TEST_STRATIFIED_EXPECTED_H", "",
             "struct gen_stratum { int nx, xoff; double xscale; int ny, yoff; double yscale, yshift; int quant;"
             " double s; };",
             "struct ve_case { const char *name; int k; struct gen_stratum st[3]; double delta; enum sl_alt alt;"
             " double z, p; };",
             "struct shift_case { const char *name; int k; struct gen_stratum st[3]; double conf, est, lo, hi; };",
             "struct prop_case { const char *name; int k; struct sl_prop_stratum st[4]; double margin;"
             " enum sl_alt alt; double conf, diff, z, p, lo, hi, exact; };", ""]
    lines.append("static const struct ve_case ve_cases[] = {")
    for name, spec, d, alt, z, p in ve_rows():
        lines.append('    {"%s", %s, %s, %s, %s, %s},' % (name, ve_spec_c(spec), num(d), alt_c(alt), num(z), num(p)))
    lines.append("};")
    lines.append("static const struct shift_case shift_cases[] = {")
    for name, spec, conf, est, lo, hi in shift_rows():
        lines.append('    {"%s", %s, %s, %s, %s, %s},' % (name, ve_spec_c(spec), num(conf), num(est), num(lo), num(hi)))
    lines.append("};")
    lines.append("static const struct prop_case prop_cases[] = {")
    for name, strata, margin, alt, conf, diff, z, p, lo, hi, ex in prop_rows():
        st = ", ".join("{%d, %d, %d, %d}" % s for s in strata)
        lines.append('    {"%s", %d, {%s}, %s, %s, %s, %s, %s, %s, %s, %s, %s},' % (
            name, len(strata), st, num(margin), alt_c(alt), num(conf), num(diff), num(z), num(p), num(lo), num(hi),
            num(ex)))
    lines.append("};")
    lines += ["", "#endif", ""]
    with open(OUT, "w") as f:
        f.write("\n".join(lines))
    print("wrote", OUT)


if __name__ == "__main__":
    main()
