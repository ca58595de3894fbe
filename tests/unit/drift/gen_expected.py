#!/usr/bin/python3
"""gen_expected.py: writes tests/data/drift/univariate.json, the expected values that
tests/unit/drift/univariate.c compares sluice's drift tests against.

Run with Debian's python3 (python3-numpy, python3-scipy):
    /usr/bin/python3 tests/unit/drift/gen_expected.py
Everything is seeded, so the output is reproducible for a given numpy/SciPy (recorded under
"versions").

Sources of truth: SciPy 1.10 itself (ks_2samp, chisquare, norm, wasserstein_distance,
spatial.distance.jensenshannon) and numpy (histogram_bin_edges "sturges", histogram, std),
called the way Evidently calls them. Evidently and pandas are not installed here, so its
stattests are restated below line for line from its source (github.com/evidentlyai/evidently,
src/evidently/legacy/calculations/stattests/: registry.py _get_default_stattest, utils.py
get_binned_data, ks_stattest.py, chisquare_stattest.py, z_stattest.py, psi.py,
jensenshannon.py, wasserstein_distance_norm.py; data_drift.py get_dataset_drift), with pandas'
nunique/value_counts as numpy's unique. Multiple-testing adjustments restate statsmodels'
multipletests ("bonferroni", "fdr_bh").

Samples are stored once under "samples" and named by index ({"sample": i}). Large ones are
not stored: they are "golden" sequences u_i = fmod((i + offset) * 0.6180339887498949, 1) *
scale (floored if quant) + shift, which the C test rebuilds bit for bit ({"gen": [n, offset,
scale, quant, shift]}); small ones are stored as numbers (repr, so they round-trip exactly).
"""
import json
import math
import os
import warnings

import numpy as np
import scipy
from scipy import stats
from scipy.spatial import distance

warnings.simplefilter("ignore")
HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "..", "data", "drift", "univariate.json")
GOLD = 0.6180339887498949
rng = np.random.default_rng(20240605)


def golden(n, offset=0, scale=1.0, quant=False, shift=0.0):
    i = np.arange(n, dtype=np.float64) + offset
    u = np.fmod(i * GOLD, 1.0) * scale
    if quant:
        u = np.floor(u)
    return u + shift


SAMPLES = []  # stored once under "samples"; cases refer to them as {"sample": index}


def sample(values=None, gen=None):
    """(array, json form): explicit values, or a golden spec [n, offset, scale, quant, shift]."""
    if gen is not None:
        n, off, scale, quant, shift = gen
        v, form = golden(n, off, scale, bool(quant), shift), {"gen": [n, off, scale, 1 if quant else 0, shift]}
    else:
        v = np.asarray(values, dtype=np.float64)
        form = [float(x) for x in v]
    SAMPLES.append(form)
    return v, {"sample": len(SAMPLES) - 1}


def num(x):
    x = float(x)
    if math.isnan(x):
        return None
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return x


# ---------------------------------------------------------------- Evidently, restated
def nunique(*arrays):
    return len(np.unique(np.concatenate(arrays)))


def value_counts(ref, cur):
    keys = np.unique(np.concatenate([ref, cur]))
    r = np.array([np.sum(ref == k) for k in keys], dtype=np.float64)
    c = np.array([np.sum(cur == k) for k in keys], dtype=np.float64)
    return keys, r, c


def binned(ref, cur, numeric, feel_zeroes):
    """utils.py get_binned_data on samples (numeric) or on counts (categorical)."""
    if numeric and len(np.unique(ref)) > 20:
        bins = np.histogram_bin_edges(np.concatenate([ref, cur]), bins="sturges")
        rp = np.histogram(ref, bins)[0] / len(ref)
        cp = np.histogram(cur, bins)[0] / len(cur)
    elif numeric:
        _, r, c = value_counts(ref, cur)
        rp, cp = r / len(ref), c / len(cur)
    else:
        rp, cp = np.asarray(ref) / np.sum(ref), np.asarray(cur) / np.sum(cur)
    rp, cp = rp.astype(np.float64), cp.astype(np.float64)
    if feel_zeroes:
        for p in (rp, cp):
            m = min(p[p != 0])
            np.place(p, p == 0, m / 10**6 if m <= 0.0001 else 0.0001)
    return rp, cp


def ev_psi(ref, cur, numeric):
    rp, cp = binned(ref, cur, numeric, True)
    return float(np.sum((rp - cp) * np.log(rp / cp)))


def ev_js(ref, cur, numeric, base=None):
    rp, cp = binned(ref, cur, numeric, False)
    return float(distance.jensenshannon(rp, cp, base))


def ev_chi(r, c):
    """chisquare_stattest.py on aligned counts."""
    k_norm = np.sum(c) / np.sum(r)
    res = stats.chisquare(c, np.asarray(r) * k_norm)
    return float(res[0]), float(res[1])


def ev_z(r, c):
    """z_stattest.py on aligned counts, index 0 the first sorted key. Returns z, SciPy-accurate
    p (2 sf(|z|), what sluice computes) and Evidently's own 2 (1 - cdf(|z|))."""
    n1, n2 = float(np.sum(r)), float(np.sum(c))
    if len(r) == 1 or (r[0] == n1 and c[0] == n2) or (r[0] == 0 and c[0] == 0):
        return None, 1.0, 1.0
    p1, p2 = (n1 - r[0]) / n1, (n2 - c[0]) / n2
    P = (p1 * n1 + p2 * n2) / (n1 + n2)
    z = (p1 - p2) / np.sqrt(P * (1 - P) * (1.0 / n1 + 1.0 / n2))
    return float(z), float(2 * stats.norm.sf(abs(z))), float(2 * (1 - stats.norm.cdf(abs(z))))


def ev_wasserstein(ref, cur):
    norm = max(np.std(ref), 0.001)
    return float(stats.wasserstein_distance(ref, cur) / norm)


def ev_default(kind, n_ref, n_values):
    """registry.py _get_default_stattest."""
    if n_ref <= 1000:
        if kind == "num" and n_values > 5:
            return "ks"
        return "chisquare" if n_values > 2 else "z"
    if kind == "num" and n_values > 5:
        return "wasserstein"
    return "jensenshannon"


def ev_column(kind, ref, cur):
    """One column as Evidently's ColumnDriftMetric judges it with the default test."""
    if kind == "num":
        n_ref, nv = len(ref), nunique(ref, cur)
    else:
        n_ref, nv = int(np.sum(ref)), int(np.sum((np.asarray(ref) + np.asarray(cur)) > 0))
    test = ev_default(kind, n_ref, nv)
    counts = value_counts(ref, cur)[1:] if kind == "num" else (np.asarray(ref, float), np.asarray(cur, float))
    p, stat = None, None
    if test == "ks":
        res = stats.ks_2samp(ref, cur)
        stat, p = float(res.statistic), float(res.pvalue)
        drift = p <= 0.05
    elif test == "chisquare":
        stat, p = ev_chi(*counts)
        drift = p < 0.05
    elif test == "z":
        stat, p, _ = ev_z(*counts)
        drift = p < 0.05
    elif test == "wasserstein":
        stat = ev_wasserstein(ref, cur)
        drift = stat >= 0.1
    else:
        stat = ev_js(ref, cur, kind == "num")
        drift = stat >= 0.1
    return {"test": test, "stat": num(stat) if stat is not None else None, "p": num(p) if p is not None else None,
            "drift": bool(drift), "n_unique": int(nv)}


def adjust(p, method):
    """statsmodels.stats.multitest.multipletests, "bonferroni" and "fdr_bh"."""
    p = np.asarray(p, dtype=np.float64)
    m = len(p)
    if method == "none" or m == 0:
        return p
    if method == "bonferroni":
        a = p * float(m)
        a[a > 1] = 1
        return a
    order = np.argsort(p)
    ps = p[order]
    ecdf = np.arange(1, m + 1) / float(m)
    raw = ps / ecdf
    adj = np.minimum.accumulate(raw[::-1])[::-1]
    adj[adj > 1] = 1
    out = np.empty(m)
    out[order] = adj
    return out


# ---------------------------------------------------------------- cases
def pairs():
    """Numeric sample pairs: small with ties, equal sizes, exact and asymptotic KS."""
    out = []
    for nx, ny in [(5, 7), (8, 8), (20, 35), (50, 50), (100, 60), (300, 1000), (997, 1001)]:
        x = rng.normal(0, 1, nx)
        y = rng.normal(0.3, 1.2, ny)
        out.append((sample(x), sample(y)))
        xi = rng.integers(0, 6, nx).astype(float)  # heavy ties
        yi = rng.integers(1, 7, ny).astype(float)
        out.append((sample(xi), sample(yi)))
    out.append((sample([1.5] * 6), sample([1.5] * 4)))
    out.append((sample([0.0, 1.0, 1.0, 2.0]), sample([1.0, 1.0, 1.0])))
    out.append((sample(gen=[4000, 0, 1.0, 0, 0.0]), sample(gen=[5000, 17, 1.0, 0, 0.0])))
    out.append((sample(gen=[12000, 0, 1.0, 0, 0.0]), sample(gen=[11000, 3, 1.1, 0, 0.02])))
    out.append((sample(gen=[512, 0, 50.0, 1, 0.0]), sample(gen=[512, 5, 50.0, 1, 1.0])))
    out.append((sample(gen=[2048, 0, 1e6, 0, -3e5]), sample(gen=[2048, 11, 1e6, 0, -2.5e5])))
    out.append((sample(gen=[30000, 0, 4.0, 1, 0.0]), sample(gen=[20000, 1, 4.0, 1, 0.0])))
    return out


def count_cases():
    out = [
        ([10, 20, 30], [12, 18, 30]),
        ([10, 20, 30], [30, 20, 10]),
        ([5, 0, 7, 9], [4, 3, 8, 8]),  # a category new in the current data
        ([100, 1], [90, 11]),
        ([1, 1], [1, 1]),
        ([1000, 2000, 3000, 10, 1], [1100, 1900, 2950, 0, 40]),
        ([3], [7]),
    ]
    for k in (3, 12, 60):
        r = rng.integers(0, 400, k)
        c = np.maximum(r + rng.integers(-30, 30, k), 0)
        r[0] += 1
        c[0] += 1
        out.append(([int(v) for v in r], [int(v) for v in c]))
    return out


def main():
    doc = {"versions": {"numpy": np.__version__, "scipy": scipy.__version__}}
    ks, wass, psi_num, js_num, bins = [], [], [], [], []
    for (x, xs), (y, ys) in pairs():
        res = stats.ks_2samp(x, y)
        ks.append({"x": xs, "y": ys, "d": float(res.statistic), "p": float(res.pvalue)})
        w = stats.wasserstein_distance(x, y)
        wass.append({"x": xs, "y": ys, "w": float(w), "std": float(np.std(x)), "norm": ev_wasserstein(x, y)})
        psi_num.append({"x": xs, "y": ys, "psi": ev_psi(x, y, True)})
        js_num.append({"x": xs, "y": ys, "js": ev_js(x, y, True), "js2": ev_js(x, y, True, 2)})
        b = {"x": xs, "y": ys, "edges": None}
        if len(np.unique(x)) > 20:
            e = np.histogram_bin_edges(np.concatenate([x, y]), bins="sturges")
            b["edges"] = [float(v) for v in e]
            b["ref"] = [int(v) for v in np.histogram(x, e)[0]]
            b["cur"] = [int(v) for v in np.histogram(y, e)[0]]
        else:
            _, r, c = value_counts(x, y)
            b["ref"], b["cur"] = [int(v) for v in r], [int(v) for v in c]
        bins.append(b)
    doc.update(ks=ks, wasserstein=wass, psi_num=psi_num, js_num=js_num, bins=bins)

    chi, zt, psi_c, js_c = [], [], [], []
    for r, c in count_cases():
        if len(r) > 1:
            s, p = ev_chi(r, c)
            chi.append({"ref": r, "cur": c, "stat": num(s), "p": num(p)})
        if len(r) <= 2:
            z, p, pe = ev_z(np.asarray(r, float), np.asarray(c, float))
            zt.append({"ref": r, "cur": c, "z": num(z) if z is not None else None, "p": p, "p_evidently": pe})
        psi_c.append({"ref": r, "cur": c, "psi": ev_psi(r, c, False)})
        js_c.append({"ref": r, "cur": c, "js": ev_js(r, c, False), "js2": ev_js(r, c, False, 2)})
    doc.update(chisquare=chi, z=zt, psi_counts=psi_c, js_counts=js_c)

    cols = []
    for (x, xs), (y, ys) in pairs():
        cols.append(dict(kind="num", x=xs, y=ys, **ev_column("num", x, y)))
    few = [
        (sample(rng.integers(0, 4, 400).astype(float)), sample(rng.integers(0, 4, 300).astype(float))),
        (sample(rng.integers(0, 4, 400).astype(float)), sample(rng.integers(1, 5, 300).astype(float))),
        (sample(rng.integers(0, 2, 500).astype(float)), sample((rng.random(450) < 0.6).astype(float))),
        (sample([7.0] * 30), sample([7.0] * 20)),
        (sample(gen=[3000, 0, 3.0, 1, 0.0]), sample(gen=[2500, 9, 3.0, 1, 0.0])),
        (sample(gen=[3000, 0, 3.0, 1, 0.0]), sample(gen=[2500, 9, 3.6, 1, 0.0])),
    ]
    for (x, xs), (y, ys) in few:
        cols.append(dict(kind="num", x=xs, y=ys, **ev_column("num", x, y)))
    for r, c in count_cases() + [([700, 800, 900], [650, 820, 950]), ([700, 800, 90], [350, 820, 950])]:
        cols.append(dict(kind="cat", ref=r, cur=c, **ev_column("cat", r, c)))
    doc["columns"] = cols

    datasets = []
    for m in (3, 8, 20):
        tests = ["ks", "chisquare", "z", "wasserstein", "jensenshannon", "psi"]
        rows = []
        for i in range(m):
            t = tests[int(rng.integers(0, len(tests)))]
            if t in ("ks", "chisquare", "z"):
                rows.append({"test": t, "p": float(rng.choice([rng.random() * 0.06, rng.random()]))})
            else:
                rows.append({"test": t, "stat": float(rng.random() * 0.2)})
        for corr in ("none", "bonferroni", "bh"):
            pv = [r["p"] for r in rows if "p" in r]
            adj = list(adjust(pv, corr))
            drifted, out = 0, []
            for r in rows:
                if "p" in r:
                    a = adj.pop(0)
                    d = a <= 0.05 if r["test"] == "ks" else a < 0.05
                    out.append(float(a))
                else:
                    d = r["stat"] >= 0.1
                    out.append(None)
                drifted += d
            share = drifted / m  # data_drift.py get_dataset_drift
            datasets.append({"rows": rows, "correction": corr, "adjusted": out, "drifted": int(drifted),
                             "share": share, "drift": bool(share >= 0.5)})
    doc["datasets"] = datasets
    doc["samples"] = SAMPLES

    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as f:
        json.dump(doc, f, indent=None, separators=(",", ":"))
        f.write("\n")
    print("wrote %s (%d bytes)" % (os.path.relpath(OUT), os.path.getsize(OUT)))


if __name__ == "__main__":
    main()
