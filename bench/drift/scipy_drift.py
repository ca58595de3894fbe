#!/usr/bin/python3
"""scipy_drift.py: the SciPy peer of `sluice drift REF CUR --json` for bench/drift.sh: the same
column tests with Evidently's defaults (evidently/calculations/stattests: registry.py
_get_default_stattest, wasserstein_distance_norm.py, jensenshannon.py, utils.py
get_binned_data), written as a careful numpy user would, vectorized on numpy arrays
(pandas, which Evidently itself uses, is not installed here).

  load      np.loadtxt of each CSV into a structured array (one pass, C parser): numeric
            columns float64, the others fixed-width bytes (S32: the benchmark's longest value
            has 20 bytes; a value that fills the width fails the run rather than be cut); a
            column is numeric when its first value parses as a number (the files are clean).
  numeric   NaN/inf dropped (Evidently drops them); each side sorted once; n_unique of the union
            from the two sorted sides; n_unique > 5 and more than 1000 reference rows:
            scipy.stats.wasserstein_distance(ref, cur) / max(np.std(ref), 0.001), drift at
            >= 0.1; at most 5 values: Jensen-Shannon on the per-value counts of the union.
  counts    categorical columns: np.unique(..., return_counts=True) on each side, on a raw
            (void) view of the fixed-width bytes, the fastest of the vectorized ways tried here
            (plain np.unique on S32 and collections.Counter were 1.7x and 1.1x slower); sluice
            counts categories while parsing, so this step is timed on its own.
  tests     Jensen-Shannon: scipy.spatial.distance.jensenshannon on the counts aligned on the
            union of categories (natural log), drift at >= 0.1. At most 1000 reference rows:
            K-S / chi-squared / z as Evidently (not exercised by the benchmark's files).

Prints one JSON document: {"columns": [...], "timings": {seconds of each step}, "cpu": {the
same steps by the process CPU clock}}.
Usage: scipy_drift.py REF CUR
"""
import json
import sys
import time

import numpy as np
from scipy import stats
from scipy.spatial import distance

CUTOFF = 1000
WIDTH = 32


def is_number(s):
    try:
        float(s)
        return True
    except ValueError:
        return s.strip().lower() in ("", "nan", "na", "null", "none", "n/a")


def load(path, names, kinds):
    dt = [(n, "f8" if k == "num" else "S%d" % WIDTH) for n, k in zip(names, kinds)]
    return np.loadtxt(path, delimiter=",", skiprows=1, dtype=dt, comments=None, encoding="bytes",
                      quotechar='"')


def value_counts(col):
    """Distinct values (bytes, sorted) and their counts."""
    v = np.ascontiguousarray(col).view("V%d" % WIDTH)
    keys, counts = np.unique(v, return_counts=True)
    keys = keys.view("S%d" % WIDTH)
    if keys.size and np.char.str_len(keys).max() >= WIDTH:
        raise SystemExit("scipy_drift.py: a category fills S%d; raise WIDTH" % WIDTH)
    return keys, counts


def aligned_counts(ur, cr, uc, cc):
    """Counts of two sides on the union of their (sorted, unique) keys."""
    keys = np.union1d(ur, uc)
    r = np.zeros(keys.size)
    c = np.zeros(keys.size)
    r[np.searchsorted(keys, ur)] = cr
    c[np.searchsorted(keys, uc)] = cc
    return keys, r, c


def js(r, c):
    return float(distance.jensenshannon(r / r.sum(), c / c.sum()))


def distinct_sorted(v):
    if v.size == 0:
        return v
    return v[np.concatenate(([True], v[1:] != v[:-1]))]


def test_num(ref, cur):
    ref = np.sort(ref[np.isfinite(ref)])
    cur = np.sort(cur[np.isfinite(cur)])
    n_unique = int(np.union1d(distinct_sorted(ref), distinct_sorted(cur)).size)
    if ref.size <= CUTOFF:
        raise SystemExit("scipy_drift.py: the benchmark's files have more than 1000 rows")
    if n_unique > 5:
        stat = stats.wasserstein_distance(ref, cur) / max(float(np.std(ref)), 0.001)
        return {"test": "wasserstein", "statistic": stat, "drift": bool(stat >= 0.1), "n_unique": n_unique}
    ur, cr = np.unique(ref, return_counts=True)
    uc, cc = np.unique(cur, return_counts=True)
    _, r, c = aligned_counts(ur, cr, uc, cc)
    stat = js(r, c)
    return {"test": "jensenshannon", "statistic": stat, "drift": bool(stat >= 0.1), "n_unique": n_unique}


def main():
    ref_path, cur_path = sys.argv[1], sys.argv[2]
    t, cpu = {}, {}
    c0 = time.process_time()
    t0 = time.perf_counter()
    with open(ref_path, "rb") as f:
        names = f.readline().decode().rstrip("\r\n").split(",")
        first = f.readline().decode().rstrip("\r\n").split(",")
    kinds = ["num" if is_number(v) else "cat" for v in first]
    tref = load(ref_path, names, kinds)
    tcur = load(cur_path, names, kinds)
    t1, c1 = time.perf_counter(), time.process_time()
    t["load"], cpu["load"] = t1 - t0, c1 - c0

    cols = []
    for n, k in zip(names, kinds):
        if k == "num":
            r = test_num(np.ascontiguousarray(tref[n]), np.ascontiguousarray(tcur[n]))
            cols.append({"name": n, "type": "num", **r})
    t2, c2 = time.perf_counter(), time.process_time()
    t["numeric"], cpu["numeric"] = t2 - t1, c2 - c1

    counts = {}
    for n, k in zip(names, kinds):
        if k == "cat":
            counts[n] = (value_counts(tref[n]), value_counts(tcur[n]))
    t3, c3 = time.perf_counter(), time.process_time()
    t["counts"], cpu["counts"] = t3 - t2, c3 - c2
    for n, k in zip(names, kinds):
        if k == "cat":
            (ur, cr), (uc, cc) = counts[n]
            keys, r, c = aligned_counts(ur, cr, uc, cc)
            if tref.size <= CUTOFF:
                raise SystemExit("scipy_drift.py: the benchmark's files have more than 1000 rows")
            stat = js(r, c)
            cols.append({"name": n, "type": "cat", "test": "jensenshannon", "statistic": stat,
                         "drift": bool(stat >= 0.1), "n_unique": int(keys.size)})
    t4, c4 = time.perf_counter(), time.process_time()
    t["categorical"], cpu["categorical"] = t4 - t3, c4 - c3
    for d, end, start in ((t, t4, t0), (cpu, c4, c0)):
        d["tests"] = d["numeric"] + d["categorical"]
        d["total"] = end - start
    drifted = sum(c["drift"] for c in cols)
    json.dump({"columns": cols, "drifted": drifted, "tested": len(cols),
               "dataset_drift": drifted >= 0.5 * len(cols), "timings": t, "cpu": cpu}, sys.stdout, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
