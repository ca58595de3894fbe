#!/usr/bin/python3
"""gen_expected.py: writes tests/data/stats/expected.json, the expected values that the
stats unit tests (tests/unit/stats/*.c) compare against.

Run with Debian's python3 (python3-numpy, python3-scipy, python3-mpmath):
    /usr/bin/python3 tests/unit/stats/gen_expected.py
Everything is seeded, so the output is reproducible for a given SciPy/mpmath version
(recorded under "versions").

Sources of truth:
- special functions and distributions: mpmath at 40-50 digits (SciPy 1.10's own values
  are off by up to 3e-10 for large shapes, e.g. binom.pmf at n=1e6, hypergeom at 2e6,
  t.ppf at fractional df), each also compared with SciPy here and the largest
  disagreement printed; kstwo and smirnov, which mpmath lacks, come from SciPy;
- tests (Mann-Whitney, Fisher, Welch, KS, chi-squared): SciPy's functions themselves,
  except the Welch interval, whose t quantile is refined with mpmath;
- Hodges-Lehmann: numpy brute force over all pairwise differences;
- sequential (mSPRT): GrowthBook's published test values (shared/oracles, MIT) plus the
  formula evaluated here in mpmath.
Large samples are not stored: they are "golden" sequences u_i = fmod((i + offset) *
0.6180339887498949, 1) * scale (+ optional floor), which the C tests rebuild bit for bit.
"""
import json
import math
import os
import sys
import warnings

import mpmath as mp
import numpy as np
import scipy
from scipy import special, stats

warnings.simplefilter("ignore")
mp.mp.dps = 45
HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "..", "data", "stats", "expected.json")
GOLD = 0.6180339887498949
worst = {}


def note(name, ours, scipy_value):
    """Tracks how far SciPy is from the mpmath reference, for the printed summary."""
    if ours == 0 or not np.isfinite(scipy_value):
        return
    r = abs(scipy_value - ours) / abs(ours)
    worst[name] = max(worst.get(name, 0.0), r)


def golden(n, offset=0, scale=1.0, quant=False, shift=0.0):
    i = np.arange(n, dtype=np.float64) + offset
    u = np.fmod(i * GOLD, 1.0) * scale
    if quant:
        u = np.floor(u)
    return u + shift


def gspec(n, offset=0, scale=1.0, quant=False, shift=0.0):
    return {"gen": [n, offset, scale, 1 if quant else 0, shift]}


def tryf(fn):
    try:
        return fn()
    except Exception:
        return None


# ---------------------------------------------------------------- special functions
def mp_tcdf(t, df):
    t, df = mp.mpf(t), mp.mpf(df)
    if t == 0:
        return mp.mpf(1) / 2
    tail = mp.betainc(df / 2, mp.mpf(1) / 2, 0, df / (df + t * t), regularized=True) / 2
    return tail if t < 0 else 1 - tail


def mp_tsf(t, df):
    return mp_tcdf(-mp.mpf(t), df)


def special_grids():
    s = {}
    s["lgamma"] = [[x, float(mp.loggamma(x))] for x in [1e-300, 1e-8, 0.1, 0.5, 1, 1.5, 2, 3.7, 10, 100.5, 1e5, 1e15]]
    rows = []
    for a in [1e-3, 0.1, 0.5, 1, 2.5, 10, 30, 1e3, 1e5, 1e6]:
        for b in [1e-3, 0.5, 1, 3, 10, 1e3, 1e6]:
            v = float(mp.log(mp.beta(a, b)))
            note("lbeta", v, special.betaln(a, b))
            rows.append([a, b, v])
    s["lbeta"] = rows
    rows = []
    for a in [1e-3, 0.1, 0.5, 1, 2.5, 10, 30, 100, 1e3, 1e4]:
        for fx in [1e-3, 0.1, 0.5, 0.9, 1, 1.1, 2, 5, 20]:
            x = a * fx
            p = tryf(lambda: mp.gammainc(a, 0, x, regularized=True))
            q = tryf(lambda: mp.gammainc(a, x, mp.inf, regularized=True))
            if p is None or q is None or float(p) == 0 or float(q) == 0:
                continue
            note("gammainc", float(p), special.gammainc(a, x))
            note("gammaincc", float(q), special.gammaincc(a, x))
            rows.append([a, x, float(p), float(q)])
    s["gamma_pq"] = rows
    rows = []
    for a in [1e-2, 0.5, 1, 2.5, 10, 100, 1e3, 1e5]:
        for b in [1e-2, 0.5, 1, 3, 10, 1e3]:
            for x in [1e-10, 1e-4, 0.01, 0.3, 0.5, 0.7, 0.99, 1 - 1e-6, 1 - 1e-10]:
                i = tryf(lambda: mp.betainc(a, b, 0, x, regularized=True))
                ic = tryf(lambda: mp.betainc(b, a, 0, 1 - mp.mpf(x), regularized=True))
                if i is None or ic is None or float(i) == 0 or float(ic) == 0:
                    continue
                note("betainc", float(i), special.betainc(a, b, x))
                rows.append([a, b, x, float(i), float(ic)])
    s["beta_inc"] = rows
    xs = [-37.5, -20, -8, -3, -1.5, -1e-5, 0, 0.5, 1, 3, 8, 20, 37.5]
    s["norm"] = [[x, float(mp.ncdf(x)), float(mp.ncdf(-x))] for x in xs]
    for x, c, q in s["norm"]:
        note("norm.cdf", c, stats.norm.cdf(x))
        note("norm.sf", q, stats.norm.sf(x))
    rows = []
    for p in [1e-300, 1e-100, 1e-20, 1e-12, 1e-6, 0.01, 0.3, 0.5, 0.7, 0.99, 1 - 1e-6, 1 - 1e-12]:
        z = mp.findroot(lambda t: mp.ncdf(t) - p, stats.norm.ppf(p)) if p != 0.5 else mp.mpf(0)
        note("norm.ppf", float(z), stats.norm.ppf(p))
        rows.append([p, float(z)])
    s["norm_ppf"] = rows
    rows = []
    for df in [1, 2, 2.5, 5, 30, 1e6]:
        for t in [-1e6, -50, -8, -3, -1, -0.1, 0, 0.1, 1, 3, 8, 50]:
            c, q = mp_tcdf(t, df), mp_tsf(t, df)
            note("t.cdf", float(c), stats.t.cdf(t, df))
            rows.append([t, df, float(c), float(q)])
    s["t"] = rows
    rows = []
    for df in [1, 2, 2.5, 5, 30, 1e6]:
        for p in [1e-12, 1e-6, 0.025, 0.3, 0.7, 0.975, 1 - 1e-6]:
            t0 = stats.t.ppf(p, df)
            lo = p < 0.5
            f = (lambda t: mp.log(mp_tcdf(t, df)) - mp.log(p)) if lo else (lambda t: mp.log(mp_tsf(t, df)) - mp.log(1 - mp.mpf(p)))
            t = mp.findroot(f, t0)
            note("t.ppf", float(t), t0)
            rows.append([p, df, float(t)])
    s["t_ppf"] = rows
    rows = []
    for df in [1, 2, 3, 10, 100, 1000]:
        for x in [1e-5, 0.1, 1, df, 3 * df + 10, 10 * df + 50]:
            p = tryf(lambda: mp.gammainc(mp.mpf(df) / 2, 0, mp.mpf(x) / 2, regularized=True))
            q = tryf(lambda: mp.gammainc(mp.mpf(df) / 2, mp.mpf(x) / 2, mp.inf, regularized=True))
            if p is None or q is None:
                continue
            note("chi2.sf", float(q), stats.chi2.sf(x, df))
            rows.append([x, df, float(p), float(q)])
    s["chi2"] = rows
    rows = []
    for d1 in [1, 3, 10, 100]:
        for d2 in [1, 5, 30, 1e4]:
            for x in [0.01, 0.5, 1, 2, 5, 50]:
                y = mp.mpf(d2) / (d2 + d1 * mp.mpf(x))
                sf = tryf(lambda: mp.betainc(mp.mpf(d2) / 2, mp.mpf(d1) / 2, 0, y, regularized=True))
                if sf is None or float(sf) == 0:
                    continue
                note("f.sf", float(sf), stats.f.sf(x, d1, d2))
                rows.append([x, d1, d2, float(sf)])
    s["f_sf"] = rows
    s["asymptotic"] = asymptotic_checks()
    s["binom"] = binom_grid()
    s["hypergeom"] = hyper_grid()
    rows = []
    for n in [1, 2, 5, 10, 50, 140, 141, 500, 1000, 5000, 20000, 100000]:
        for d in [0.7 / n, 1.5 / n, 0.5 / math.sqrt(n), 0.8 / math.sqrt(n), 1.2 / math.sqrt(n),
                  1.8 / math.sqrt(n), 3 / math.sqrt(n), 5 / math.sqrt(n), 0.5, 0.8, 1 - 1.5 / n]:
            if 0 < d < 1:
                rows.append([d, n, float(stats.kstwo.cdf(d, n)), float(stats.kstwo.sf(d, n))])
    s["kstwo"] = rows
    s["smirnov"] = [[n, d, float(special.smirnov(n, d))] for n in [1, 5, 50, 1000, 10000]
                    for d in [0.01, 0.1, 0.3, 0.6, 0.95]]
    return s


def asymptotic_checks():
    """Shapes too large for mpmath's series, checked against asymptotic expansions whose
    omitted terms are below 1e-15 relative: P(a,a) = 1/2 + 1/(3 s) - 23/(540 a s), s = sqrt(2 pi a)
    (DLMF 8.12); t_df(t) = Phi(t) - phi(t)(t^3+t)/(4 df) + O(df^-2); I_x(a,a) by its Edgeworth
    expansion (symmetric, so only the kurtosis term -6/(2a+3) enters at O(1/a))."""
    out = {"gamma_p_at_a": [], "t_large_df": [], "beta_sym": []}
    for a in [1e9, 1e12, 1e15]:
        am = mp.mpf(a)
        sq = mp.sqrt(2 * mp.pi * am)
        out["gamma_p_at_a"].append([a, float(mp.mpf(1) / 2 + 1 / (3 * sq) - mp.mpf(23) / (540 * am * sq))])
    for df in [1e15, 1e17, 1e19, 1e21]:
        for t in [-30, -5, -1, 2]:
            tm = mp.mpf(t)
            v = mp.ncdf(tm) - mp.npdf(tm) * (tm ** 3 + tm) / (4 * df)
            out["t_large_df"].append([t, df, float(v)])
    for a in [1e8, 1e9, 1e10]:
        for zz in [-3, 0.5, 2]:
            am = mp.mpf(a)
            x = float(mp.mpf(1) / 2 + zz / mp.sqrt(4 * (2 * am + 1)))
            z = (mp.mpf(x) - mp.mpf(1) / 2) * mp.sqrt(4 * (2 * am + 1))
            k4 = -6 / (2 * am + 3)
            v = mp.ncdf(z) - mp.npdf(z) * k4 / 24 * (z ** 3 - 3 * z)
            out["beta_sym"].append([a, x, float(v)])
    return out


def mp_tail(term0, ratio, j0, step, stop):
    """Sum of a unimodal mass function from j0 outwards (step -1 or +1) until `stop`."""
    s, t, j = term0, term0, j0
    while j != stop:
        t = t * ratio(j, step)
        j += step
        s += t
        if t < s * mp.mpf(10) ** -42:
            break
    return s


def binom_grid():
    rows = []
    for n in [1, 10, 100, 1000, 10 ** 6]:
        for p in [1e-4, 0.01, 0.3, 0.5, 0.97]:
            mean = n * p
            for k in sorted({0, 1, int(mean), int(mean) + 3, n // 2, n - 1, n}):
                if k < 0 or k > n:
                    continue
                pm = mp.mpf(p)
                pmf = lambda j: mp.binomial(n, j) * pm ** j * (1 - pm) ** (n - j)
                r = lambda j, st: (mp.mpf(n - j) / (j + 1) * pm / (1 - pm)) if st > 0 else (mp.mpf(j) / (n - j + 1) * (1 - pm) / pm)
                if k <= mean:
                    cdf = mp_tail(pmf(k), r, k, -1, 0)
                    sf = 1 - cdf
                else:
                    sf = mp_tail(pmf(k + 1), r, k + 1, +1, n) if k < n else mp.mpf(0)
                    cdf = 1 - sf
                v = [k, n, p, float(pmf(k)), float(cdf), float(sf)]
                note("binom.pmf", v[3], stats.binom.pmf(k, n, p))
                note("binom.cdf", v[4], stats.binom.cdf(k, n, p))
                rows.append(v)
    return rows


def hyper_grid():
    rows = []
    for (tot, good, draws) in [(20, 7, 12), (100, 30, 40), (1000, 10, 500), (100000, 500, 20000),
                               (2000000, 1000000, 1000000), (50, 0, 10), (50, 50, 10)]:
        lo, hi = max(0, draws - (tot - good)), min(good, draws)
        mean = draws * good / tot
        pmf = lambda j: mp.binomial(good, j) * mp.binomial(tot - good, draws - j) / mp.binomial(tot, draws)
        r = lambda j, st: (mp.mpf(good - j) * (draws - j) / ((j + 1) * mp.mpf(tot - good - draws + j + 1))) if st > 0 \
            else (mp.mpf(j) * (tot - good - draws + j) / ((good - j + 1) * mp.mpf(draws - j + 1)))
        for k in sorted({lo, lo + 1, (lo + hi) // 2, int(mean), int(mean) + 5, hi - 1, hi}):
            if k < lo or k > hi:
                continue
            if k <= mean:
                cdf = mp_tail(pmf(k), r, k, -1, lo)
                sf = 1 - cdf
            else:
                sf = mp_tail(pmf(k + 1), r, k + 1, +1, hi) if k < hi else mp.mpf(0)
                cdf = 1 - sf
            pk = pmf(k)
            v = [k, tot, good, draws, float(mp.log(pk)), float(pk), float(cdf), float(sf)]
            note("hypergeom.pmf", v[5], stats.hypergeom.pmf(k, tot, good, draws))
            rows.append(v)
    return rows


# ---------------------------------------------------------------- tests
def data_of(v):
    """Stores a small sample as a list (float repr round-trips through strtod)."""
    return [float(a) for a in v]


def mwu_cases(rng):
    cases = []

    def add(x, y, xs, ys, alts=("two-sided", "less", "greater"), methods=("auto", "asymptotic", "exact")):
        for alt in alts:
            for m in methods:
                r = stats.mannwhitneyu(x, y, alternative=alt, method=m)
                exact = m == "exact" or (m == "auto" and (len(x) <= 8 or len(y) <= 8) and
                                         len(np.unique(np.r_[x, y])) == len(x) + len(y))
                cases.append({"x": xs, "y": ys, "alt": alt, "method": m, "u": float(r.statistic),
                              "p": float(r.pvalue), "exact": exact})
    for (n1, n2, tie) in [(3, 4, False), (5, 8, False), (8, 40, False), (7, 7, True), (12, 15, False),
                          (20, 25, True), (2, 1, False), (1, 30, False), (8, 8, False)]:
        x = np.round(rng.normal(0, 1, n1), 3)
        y = np.round(rng.normal(0.6, 1, n2), 3)
        if tie:
            x, y = np.round(x), np.round(y)
        add(x, y, data_of(x), data_of(y))
    # far tail of the exact distribution
    x = np.round(rng.normal(0, 1, 30), 3)
    y = np.round(rng.normal(3, 1, 35), 3)
    add(x, y, data_of(x), data_of(y), methods=("exact", "asymptotic"))
    x = np.round(rng.normal(0, 1, 6), 3)
    y = np.round(rng.normal(0.4, 1, 700), 3)
    add(x, y, data_of(x), data_of(y), methods=("auto",))
    # large, from golden sequences (without and with ties)
    x, y = golden(5000, 0, 1.0), golden(6000, 7777, 1.0, shift=0.01)
    add(x, y, gspec(5000, 0, 1.0), gspec(6000, 7777, 1.0, shift=0.01), methods=("auto",))
    x, y = golden(3000, 11, 32.0, True), golden(4000, 5000, 32.0, True, 0.0)
    add(x, y, gspec(3000, 11, 32.0, True), gspec(4000, 5000, 32.0, True), methods=("auto",))
    return cases


def hl_cases(rng):
    out = []
    specs = [(1, 1, False, 0.95), (2, 3, False, 0.95), (10, 12, True, 0.9), (40, 35, False, 0.95),
             (150, 170, True, 0.99)]
    for n1, n2, tie, conf in specs:
        x = np.round(rng.normal(0, 1, n1), 3)
        y = np.round(rng.normal(0.3, 1, n2), 3)
        if tie:
            x, y = np.round(x), np.round(y)
        out.append(hl_expect(x, y, data_of(x), data_of(y), conf))
    x, y = golden(2000, 3, 1.0), golden(2500, 999, 1.0, shift=0.05)
    out.append(hl_expect(x, y, gspec(2000, 3, 1.0), gspec(2500, 999, 1.0, shift=0.05), 0.95))
    return out


def hl_expect(x, y, xs, ys, conf):
    d = np.sort((y[None, :] - x[:, None]).ravel())
    n = len(d)
    z = stats.norm.isf((1 - conf) / 2)
    k = max(1, int(math.ceil(n / 2 - 0.5 - z * math.sqrt(n * (len(x) + len(y) + 1) / 12))))
    k = min(k, (n + 1) // 2)
    return {"x": xs, "y": ys, "conf": conf, "estimate": float(np.median(d)), "k": k,
            "lo": float(d[k - 1]), "hi": float(d[n - k])}


def fisher_cases(rng):
    tables = [[[8, 2], [1, 5]], [[1, 9], [11, 3]], [[0, 5], [5, 0]], [[3, 3], [3, 3]], [[100, 2], [3, 90]],
              [[20, 480], [40, 460]], [[5, 1000], [25, 1000]], [[0, 10], [3, 7]], [[12, 5], [29, 2]],
              [[500, 1500], [430, 1570]], [[3, 2000], [18, 1985]], [[0, 0], [4, 5]], [[21, 4], [4, 38]],
              [[1, 0], [0, 1]], [[7, 1993], [31, 1969]]]
    tables += rng.integers(0, 30, (20, 2, 2)).tolist()
    out = []
    for t in tables:
        row = {"t": [t[0][0], t[0][1], t[1][0], t[1][1]]}
        for alt in ("two-sided", "less", "greater"):
            odds, p = stats.fisher_exact(t, alternative=alt)
            row[alt] = float(p)
        row["odds"] = None if np.isnan(odds) else ("inf" if np.isinf(odds) else float(odds))
        out.append(row)
    return out


def prop_cases():
    out = []
    for (x1, n1, x2, n2) in [(48, 1000, 30, 1000), (0, 50, 3, 60), (120, 10000, 150, 10000), (10, 10, 7, 12),
                             (1, 3, 2, 3), (5000, 100000, 5200, 100000)]:
        for conf in (0.95, 0.99):
            p1, p2 = x1 / n1, x2 / n2
            pp = (x1 + x2) / (n1 + n2)
            se = math.sqrt(pp * (1 - pp) * (1 / n1 + 1 / n2))
            z = (p1 - p2) / se
            ci1 = stats.binomtest(x1, n1).proportion_ci(confidence_level=conf, method="wilson")
            ci2 = stats.binomtest(x2, n2).proportion_ci(confidence_level=conf, method="wilson")
            d = p1 - p2
            lo = d - math.sqrt((p1 - ci1.low) ** 2 + (ci2.high - p2) ** 2)
            hi = d + math.sqrt((ci1.high - p1) ** 2 + (p2 - ci2.low) ** 2)
            out.append({"in": [x1, n1, x2, n2], "conf": conf, "z": z,
                        "p": [float(2 * stats.norm.sf(abs(z))), float(stats.norm.cdf(z)), float(stats.norm.sf(z))],
                        "w1": [ci1.low, ci1.high], "w2": [ci2.low, ci2.high], "lo": lo, "hi": hi})
    return out


def mp_tppf_upper(q, df):
    """t with P(T > t) = q, by mpmath, starting from SciPy's value."""
    t0 = stats.t.isf(q, df)
    return float(mp.findroot(lambda t: mp.log(mp_tsf(t, df)) - mp.log(q), t0))


def welch_cases(rng):
    out = []
    for (n1, n2, s2, conf) in [(2, 2, 1, 0.95), (5, 9, 3, 0.9), (30, 40, 0.5, 0.95), (300, 250, 2, 0.99), (4, 900, 1, 0.95)]:
        x = np.round(rng.normal(0, 1, n1), 4)
        y = np.round(rng.normal(0.3, s2, n2), 4)
        case = {"x": data_of(x), "y": data_of(y), "conf": conf}
        for alt in ("two-sided", "less", "greater"):
            r = stats.ttest_ind(x, y, equal_var=False, alternative=alt)
            v1, v2 = x.var(ddof=1) / n1, y.var(ddof=1) / n2
            df = (v1 + v2) ** 2 / (v1 ** 2 / (n1 - 1) + v2 ** 2 / (n2 - 1))
            se, d = math.sqrt(v1 + v2), x.mean() - y.mean()
            if alt == "two-sided":
                h = mp_tppf_upper((1 - conf) / 2, df) * se
                lo, hi = d - h, d + h
            elif alt == "less":
                lo, hi = None, d + mp_tppf_upper(1 - conf, df) * se
            else:
                lo, hi = d - mp_tppf_upper(1 - conf, df) * se, None
            case[alt] = {"t": float(r.statistic), "p": float(r.pvalue), "df": df, "lo": lo, "hi": hi}
        out.append(case)
    return out


def ks_cases(rng):
    out = []

    def add(x, y, xs, ys, methods=("auto", "exact", "asymp"), alts=("two-sided", "less", "greater")):
        for alt in alts:
            for m in methods:
                r = stats.ks_2samp(x, y, alternative=alt, method=m)
                out.append({"x": xs, "y": ys, "alt": alt, "method": m, "d": float(r.statistic), "p": float(r.pvalue)})
    for (n1, n2, tie) in [(5, 5, False), (10, 7, False), (13, 17, True), (40, 60, False), (100, 100, True), (7, 300, False)]:
        x = np.round(rng.normal(0, 1, n1), 3)
        y = np.round(rng.normal(0.3, 1.2, n2), 3)
        if tie:
            x, y = np.round(x * 3), np.round(y * 3)
        add(x, y, data_of(x), data_of(y))
    add(golden(600, 1), golden(900, 4321, 1.0, shift=0.03), gspec(600, 1), gspec(900, 4321, 1.0, shift=0.03))
    add(golden(300, 5, 16.0, True), golden(500, 77, 16.0, True), gspec(300, 5, 16.0, True), gspec(500, 77, 16.0, True))
    add(golden(2000, 9), golden(3000, 17, 1.0, shift=0.01), gspec(2000, 9), gspec(3000, 17, 1.0, shift=0.01),
        methods=("auto",), alts=("two-sided",))
    add(golden(12000, 2), golden(11000, 50000, 1.0, shift=0.004), gspec(12000, 2), gspec(11000, 50000, 1.0, shift=0.004),
        methods=("auto",))
    return out


def chi2_cases():
    cont = []
    for t in [[[10, 20, 30], [15, 25, 10]], [[5, 5], [9, 1]], [[100, 80, 70, 60], [90, 85, 75, 40]],
              [[1, 2, 3, 4, 5], [5, 4, 3, 2, 1]], [[1000, 1200]], [[3, 0], [2, 7]], [[12, 7], [5, 30], [8, 8]]]:
        for corr in (True, False):
            r = stats.chi2_contingency(np.array(t, dtype=float), correction=corr)
            cont.append({"t": t, "correction": corr, "stat": float(r[0]), "df": int(r[2]), "p": float(r[1])})
    gof = []
    for obs, exp, ddof in [([1000, 1200], None, 0), ([16, 18, 16, 14, 12, 12], None, 0),
                           ([16, 18, 16, 14, 12, 12], [16, 16, 16, 16, 16, 8], 0), ([5, 9, 40], [10, 14, 30], 1),
                           ([50210, 49790], [50000, 50000], 0)]:
        r = stats.chisquare(obs, exp, ddof=ddof)
        gof.append({"obs": obs, "exp": exp, "ddof": ddof, "stat": float(r.statistic), "p": float(r.pvalue)})
    return {"contingency": cont, "gof": gof}


def msprt_cases():
    """The normal-mixture formula in mpmath; GrowthBook's published values are in growthbook."""
    out = []
    for est, se, n, nstar, alpha in [(0.29, 0.12478, 6868, 1000, 0.05), (0.0, 0.1, 100, 5000, 0.05),
                                     (1.5, 0.2, 20000, 5000, 0.05), (-0.3, 0.05, 50000, 10000, 0.01)]:
        a = mp.mpf(alpha)
        rho2 = (-2 * mp.log(a) + mp.log(-2 * mp.log(a) + 1)) / nstar
        nr = n * rho2
        st2 = mp.mpf(est) ** 2 * n / mp.mpf(se) ** 2
        lam = mp.exp(rho2 * st2 / (2 * (nr + 1))) / mp.sqrt(nr + 1)
        hw = mp.sqrt(mp.mpf(se) ** 2 * n) * mp.sqrt(2 * (nr + 1) * mp.log(mp.sqrt(nr + 1) / a) / (n * n * rho2))
        out.append({"est": est, "se": se, "n": n, "nstar": nstar, "alpha": alpha, "rho2": float(rho2),
                    "lambda": float(lam), "p": float(min(1, 1 / lam)), "lo": float(est - hw), "hi": float(est + hw)})
    return out


def growthbook_sequential():
    """Absolute and relative two-sided cases from GrowthBook's test suite (MIT), as copied in
    shared/oracles/ab-stats-vectors.json: a, b summary statistics, tau = N*, 5 decimals."""
    path = os.path.join(HERE, "..", "..", "..", "..", "shared", "oracles", "ab-stats-vectors.json")
    fallback = [{"name": "seq_two_sided_tau1000", "type": "mean", "a": [1396.87, 52377.9767, 3000],
                 "b": [2422.7, 134698.29, 3461], "tau": 1000, "alpha": 0.05, "expected": 0.50336,
                 "ci": [-0.55844, 1.56516], "stddev": 0.33341}]
    if not os.path.exists(path):
        return fallback
    d = json.load(open(path))
    out = []
    for e in d["sequential"]:
        kind = e["a"].get("type")
        if kind not in ("mean", "proportion") or e.get("difference") != "relative" or "ci" not in e["expected"]:
            continue
        side = lambda v: [v["sum"], v.get("sum_squares", v["sum"]), v["n"]]
        out.append({"name": e["name"], "source": e["source"], "type": kind, "a": side(e["a"]), "b": side(e["b"]),
                    "tau": e["tau"], "alpha": e["alpha"], "expected": e["expected"]["expected"],
                    "ci": e["expected"]["ci"], "stddev": e["expected"]["stddev"]})
    return out or fallback


def quantile_cases():
    out = []
    for n, off in [(1, 0), (2, 5), (10, 3), (1000, 17), (4096, 1)]:
        v = golden(n, off, 100.0)
        out.append({"x": gspec(n, off, 100.0), "q": [0, 0.01, 0.25, 0.5, 0.9, 0.99, 1],
                    "v": [float(np.quantile(v, q)) for q in [0, 0.01, 0.25, 0.5, 0.9, 0.99, 1]]})
    return out


def main():
    rng = np.random.default_rng(20240517)
    doc = {
        "about": "expected values for tests/unit/stats; generated by tests/unit/stats/gen_expected.py",
        "versions": {"scipy": scipy.__version__, "numpy": np.__version__, "mpmath": mp.__version__},
        "golden": "u_i = fmod((i + offset) * 0.6180339887498949, 1) * scale, floored if quant, plus shift; "
                  "gen = [n, offset, scale, quant, shift]",
        "special": special_grids(),
        "mwu": mwu_cases(rng),
        "hl": hl_cases(rng),
        "fisher": fisher_cases(rng),
        "prop": prop_cases(),
        "welch": welch_cases(rng),
        "ks": ks_cases(rng),
        "chi2": chi2_cases(),
        "msprt": msprt_cases(),
        "growthbook_sequential": growthbook_sequential(),
        "quantile": quantile_cases(),
    }
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    text = json.dumps(doc, separators=(",", ":"), allow_nan=False)
    with open(OUT, "w") as f:
        f.write(text + "\n")
    print(f"wrote {os.path.normpath(OUT)}: {len(text)} bytes")
    for k in sorted(worst):
        print(f"  scipy vs mpmath, largest relative difference: {k:15s} {worst[k]:.1e}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
