#!/usr/bin/python3
"""experiments.py: the NumPy/SciPy side of the experiments benchmark (bench/experiments.sh, issue 6).

Reads what bench_experiments wrote into DIR (the event columns, meta.json, spec.json and
sluice.json), then on one thread:
  aggregate  the same per-unit aggregation as sluice's aggregator, vectorised: one np.bincount
             over (unit, kind) for the event sums, np.bincount over the requests for their
             fields, the pre-period sums for CUPED, then per-variant sufficient statistics with
             np.bincount over the exposed units; quantile values grouped per variant
  analyse    the same statistics as GrowthBook (and sluice's abstats.h): relative lift with
             delta-method variance (CUPED with a pooled theta, ratio, quantile), Welch df and
             scipy.stats.t for p-values and intervals, GrowthBook's sequential (mSPRT) interval
             and p-value, Holm over every comparison, scipy.stats.chisquare for SRM
Both are timed by the process CPU clock (best and median of RUNS), from data already in
memory. Then every figure is compared with sluice's (mean, lift, interval, p, Holm-adjusted p,
SRM p; fixed and sequential): any relative difference above TOL (1e-6) prints DISAGREE and
exits 1. Prints Markdown (tables for docs/BENCHMARKS.md).

Usage: experiments.py DIR [--runs R] [--tol T]
"""
import json
import math
import os
import sys
import time

import numpy as np
from scipy import stats

F8 = np.float64


def load(d):
    def arr(name, dt):
        return np.fromfile(os.path.join(d, name), dtype=dt)

    with open(os.path.join(d, "meta.json")) as f:
        meta = json.load(f)
    with open(os.path.join(d, "spec.json")) as f:
        spec = json.load(f)["experiments"][0]
    with open(os.path.join(d, "sluice.json")) as f:
        sl = json.load(f)
    ev = {"unit": arr("unit.u32", "<u4"), "kind": arr("kind.u8", "u1"), "value": arr("value.f64", "<f8"),
          "in_tok": arr("in_tok.u16", "<u2"), "out_tok": arr("out_tok.u16", "<u2"),
          "error": arr("error.u8", "u1"), "variant": arr("variant.i8", "i1")}
    assert len(ev["unit"]) == meta["events"] and len(ev["in_tok"]) == meta["requests"]
    return meta, spec, sl, ev


# ---- aggregation -------------------------------------------------------------------------------

class Units:
    """Per-unit sums of every source, post-period and pre-period, as sluice keeps them."""

    def __init__(self, meta, ev):
        self.U, self.kinds, npre = meta["units"], meta["kinds"], meta["pre"]
        K = len(self.kinds)
        u, k, v = ev["unit"][npre:], ev["kind"][npre:], ev["value"][npre:]
        self.post = np.bincount(u.astype(np.int64) * K + k, weights=v, minlength=self.U * K).reshape(self.U, K)
        pu, pk = ev["unit"][:npre], ev["kind"][:npre]
        assert not np.any(pk == 0), "pre-period requests are not generated"
        self.pre = np.bincount(pu.astype(np.int64) * K + pk, weights=ev["value"][:npre],
                               minlength=self.U * K).reshape(self.U, K)
        is_req = k == 0
        self.req_unit = u[is_req]
        self.ev, self.u, self.k, self.v = ev, u, k, v
        self.nreq = np.bincount(self.req_unit, minlength=self.U)
        self.fields = {}

    def request_field(self, name):
        if name not in self.fields:
            ev, ru = self.ev, self.req_unit
            i, o = ev["in_tok"].astype(F8), ev["out_tok"].astype(F8)
            w = {"requests": None, "latency": self.post[:, 0], "input_tokens": i, "output_tokens": o,
                 "tokens": i + o, "cost": i * 1e-6 + o * 3e-6, "error": ev["error"].astype(F8)}[name]
            if name == "latency":
                self.fields[name] = w
            else:
                self.fields[name] = np.bincount(ru, weights=w, minlength=self.U).astype(F8)
        return self.fields[name]

    def source(self, src, pre=False):
        what, name = src.split(":", 1)
        if what == "request":
            assert not pre, "no pre-period requests"
            return self.request_field(name)
        return (self.pre if pre else self.post)[:, self.kinds.index(name)]

    def values(self, src):
        """The individual values of an event source (quantile metrics) and their units."""
        k = self.kinds.index(src.split(":", 1)[1])
        m = self.k == k
        return self.v[m], self.u[m]


def aggregate(meta, spec, ev):
    """Per-variant sufficient statistics of every metric (dicts of length-V arrays)."""
    V = meta["variants"]
    units = Units(meta, ev)
    exposed = units.nreq > 0
    uv = ev["variant"][exposed]
    n = np.bincount(uv, minlength=V).astype(F8)

    def per_variant(x):
        return np.bincount(uv, weights=x, minlength=V)

    out = []
    for m in spec["metrics"]:
        kind, st = m["kind"], {"n": n}
        if kind == "quantile":
            vals, vu = units.values(m["source"])
            vv = ev["variant"][vu]
            st["values"] = [vals[vv == v] for v in range(V)]
            st["n"] = np.array([len(x) for x in st["values"]], dtype=F8)
            out.append(st)
            continue
        y = units.source(m["source"])[exposed]
        if kind == "proportion":
            y = (y > 0).astype(F8)
        st["sum"], st["sum_sq"] = per_variant(y), per_variant(y * y)
        if kind == "ratio":
            d = units.source(m["denominator"])[exposed]
            st["d_sum"], st["d_sum_sq"], st["yd_sum"] = per_variant(d), per_variant(d * d), per_variant(y * d)
        if m.get("cuped"):
            x = units.source(m["source"], pre=True)[exposed]
            if kind == "proportion":
                x = (x > 0).astype(F8)
            st["x_sum"], st["x_sum_sq"], st["yx_sum"] = per_variant(x), per_variant(x * x), per_variant(y * x)
        out.append(st)
    return n, out


# ---- statistics (GrowthBook gbstats, vectorised over the treatments) ------------------------------

def comp_var(n, s, ss, binary):
    if binary:
        p = s / n
        return p * (1 - p)
    return (ss - s * s / n) / (n - 1)


def comp_cov(n, s1, s2, sp, binary):
    if binary:
        return sp / n - s1 * s2 / (n * n)
    return (sp - s1 * s2 / n) / (n - 1)


Z975 = stats.norm.isf(0.025)


def quantile_arm(vals, nu):
    n = len(vals)
    h = Z975 * math.sqrt(nu * (1 - nu) / n)
    q_hat, q_lo, q_hi = np.quantile(vals, [nu, max(0.0, nu - h), min(1.0, nu + h)])
    w = (q_hi - q_lo) / (2 * Z975)
    var = (n - 1) * w * w  # GrowthBook's (n_star / n) (n - 1) w^2 with n_star = n
    return q_hat, (max(var, 1e-5) if n >= 100 else var), n


def arms(m, st):
    """(mean, unadjusted mean, variance, n) of the control (index 0) and of each treatment, as
    arrays over the treatments (the control's repeated: CUPED's theta depends on the pair)."""
    kind, n = m["kind"], st["n"]
    if kind == "quantile":
        q = [quantile_arm(v, m["quantile"]) for v in st["values"]]
        mean, var, nn = (np.array(x, dtype=F8) for x in zip(*q))
        return (np.full(len(q) - 1, mean[0]), mean[1:], np.full(len(q) - 1, mean[0]), mean[1:],
                np.full(len(q) - 1, var[0]), var[1:], np.full(len(q) - 1, nn[0]), nn[1:])
    s, ss = st["sum"], st["sum_sq"]
    binary = kind == "proportion"
    if kind == "ratio":
        ds, dss, yd = st["d_sum"], st["d_sum_sq"], st["yd_sum"]
        mm, md = s / n, ds / n
        vm, vd, c = comp_var(n, s, ss, False), comp_var(n, ds, dss, False), comp_cov(n, s, ds, yd, False)
        mean = s / ds
        var = vm / md ** 2 + vd * mm * mm / md ** 4 - 2 * c * mm / md ** 3
    elif m.get("cuped"):
        return cuped_arms(st, binary)
    else:
        mean = s / n
        var = comp_var(n, s, ss, binary)
    k = len(n) - 1
    return (np.full(k, mean[0]), mean[1:], np.full(k, mean[0]), mean[1:], np.full(k, var[0]), var[1:],
            np.full(k, n[0]), n[1:])


def cuped_arms(st, binary):
    n, s, ss, x, xx, yx = (st[k] for k in ("n", "sum", "sum_sq", "x_sum", "x_sum_sq", "yx_sum"))
    N, Y, X = n[0] + n[1:], s[0] + s[1:], x[0] + x[1:]
    vy, vx = comp_var(N, Y, ss[0] + ss[1:], binary), comp_var(N, X, xx[0] + xx[1:], binary)
    theta = np.where((vx == 0) | (vy == 0), 0.0, comp_cov(N, Y, X, yx[0] + yx[1:], binary) / vx)

    def arm(i):
        vy_i, vx_i = comp_var(n[i], s[i], ss[i], binary), comp_var(n[i], x[i], xx[i], binary)
        c = comp_cov(n[i], s[i], x[i], yx[i], binary)
        return s[i] / n[i] - theta * x[i] / n[i], s[i] / n[i], vy_i + theta ** 2 * vx_i - 2 * theta * c

    ma, ua, va = arm(0)
    mb, ub, vb = arm(slice(1, None))
    return ma, mb, np.broadcast_to(ua, ma.shape), ub, va, vb, np.broadcast_to(n[0], ma.shape), n[1:]


def analyse(meta, spec, n, sts, sequential):
    an = spec.get("analysis", {})
    alpha, tau = an.get("alpha", 0.05), an.get("tau", 5000)
    cols = [arms(m, st) for m, st in zip(spec["metrics"], sts)]
    ma, mb, ua, ub, va, vb, na, nb = (np.concatenate(x) for x in zip(*cols))
    pe = (mb - ma) / np.abs(ua)
    se = np.sqrt(vb / (ua * ua * nb) + va * ub * ub / (ua ** 4 * na))
    if sequential:
        N = na + nb
        lg = -2 * math.log(alpha)
        rho2 = (lg + math.log(lg + 1)) / tau
        nr = N * rho2
        loglam = rho2 * N * (pe / se) ** 2 / (2 * (1 + nr)) - 0.5 * np.log1p(nr)
        p = np.where(loglam <= 0, 1.0, np.exp(-loglam))
        h = np.sqrt(N * se * se) * np.sqrt(2 * (1 + nr) * (0.5 * np.log1p(nr) - math.log(alpha))) / (N * math.sqrt(rho2))
    else:
        a, b = va / na, vb / nb
        df = (a + b) ** 2 / (b * b / (nb - 1) + a * a / (na - 1))
        p = np.minimum(1.0, 2 * stats.t.sf(np.abs(pe / se), df))
        h = stats.t.isf(alpha / 2, df) * se
    order = np.argsort(p, kind="stable")
    adj = np.empty_like(p)
    adj[order] = np.minimum(1.0, np.maximum.accumulate(p[order] * (len(p) - np.arange(len(p)))))
    w = np.array(meta["weights"], dtype=F8)
    srm = stats.chisquare(n, n.sum() * w / w.sum()).pvalue
    k = meta["variants"] - 1
    shape = (len(spec["metrics"]), k)
    return {"srm_pvalue": srm, "mean_a": ua.reshape(shape)[:, 0], "mean": mb.reshape(shape), "lift": pe.reshape(shape),
            "lo": (pe - h).reshape(shape), "hi": (pe + h).reshape(shape), "p": p.reshape(shape),
            "p_adjusted": adj.reshape(shape)}


# ---- timing and comparison ---------------------------------------------------------------------

def string_ids(meta, ev):
    """The events' unit ids as sluice receives them ("u%07d", 8 bytes): not timed."""
    per_unit = np.char.add(b"u", np.char.zfill(np.arange(meta["units"]).astype("S7"), 7))
    assert per_unit.dtype.itemsize == 8, "8-byte ids expected"
    return per_unit[ev["unit"]]


def factorize(ids):
    """Unit ids to dense indexes, NumPy's fastest way for fixed 8-byte ids: np.unique over them
    viewed as integers (a best case: variable-length ids would need a slower path)."""
    return np.unique(ids.view("<u8"), return_inverse=True)[1]


def timed(fn, runs):
    out, cpu = None, []
    for _ in range(runs):
        t0 = time.process_time()
        out = fn()
        cpu.append(time.process_time() - t0)
    cpu.sort()
    return out, cpu[0], cpu[len(cpu) // 2]


def rel(a, b):
    return abs(a - b) / max(abs(a), abs(b), 1e-12)


def compare(spec, ours, theirs):
    """Largest relative difference per field, sluice (theirs) against NumPy/SciPy (ours)."""
    worst = {"mean": 0.0, "lift": 0.0, "lo": 0.0, "hi": 0.0, "p": 0.0, "p_adjusted": 0.0,
             "srm_pvalue": rel(ours["srm_pvalue"], theirs["srm_pvalue"])}
    where = {}
    for i, m in enumerate(theirs["metrics"]):
        assert m["name"] == spec["metrics"][i]["name"]
        cells = m["cells"]
        d = rel(ours["mean_a"][i], cells[0]["mean"])
        if d > worst["mean"]:
            worst["mean"], where["mean"] = d, (m["name"], 0)
        for v in range(1, len(cells)):
            for f in ("mean", "lift", "lo", "hi", "p", "p_adjusted"):
                d = rel(float(ours[f][i, v - 1]), cells[v][f])
                if d > worst[f]:
                    worst[f], where[f] = d, (m["name"], v)
    return worst, where


def fmt_p(p):
    return "%.2g" % p if p >= 1e-4 else "%.1e" % p


def main():
    args = sys.argv[1:]
    if not args:
        sys.exit(__doc__)
    d, runs, tol = args[0], 3, 1e-6
    for i in range(1, len(args) - 1, 2):
        if args[i] == "--runs":
            runs = int(args[i + 1])
        elif args[i] == "--tol":
            tol = float(args[i + 1])
    meta, spec, sl, ev = load(d)
    (n, sts), agg_best, agg_med = timed(lambda: aggregate(meta, spec, ev), runs)
    ids = string_ids(meta, ev)
    inv, fac_best, fac_med = timed(lambda: factorize(ids), 1)
    relabel = np.zeros(meta["units"], dtype=np.int64)
    relabel[ev["unit"]] = inv
    assert np.array_equal(relabel[ev["unit"]], inv) and len(np.unique(relabel)) == meta["units"]
    del ids, inv
    reps = max(runs, 20)
    fixed, fix_best, fix_med = timed(lambda: analyse(meta, spec, n, sts, False), reps)
    seq, seq_best, seq_med = timed(lambda: analyse(meta, spec, n, sts, True), reps)

    ev_n = meta["events"]
    print("| step (one thread, CPU time) | sluice | NumPy/SciPy | NumPy/SciPy ÷ sluice |")
    print("|---|---:|---:|---:|")
    print("| ingest %s events (%s units): aggregator (`sl_experiment_agg_batch`, 256 a call) vs bincount | %.2f s, **%.2f M events/s** | %.2f s, %.2f M events/s | %.1f× |"
          % (f"{ev_n:,}", f"{meta['units']:,}", sl["ingest_cpu_s"], ev_n / sl["ingest_cpu_s"] / 1e6, agg_best,
             ev_n / agg_best / 1e6, agg_best / sl["ingest_cpu_s"]))
    if "single_cpu_s" in sl:
        print("| the same, sluice one call per event (`sl_experiment_agg_request` / `_event`) | %.2f s, %.2f M events/s | %.2f s, %.2f M events/s | %.1f× |"
              % (sl["single_cpu_s"], ev_n / sl["single_cpu_s"] / 1e6, agg_best, ev_n / agg_best / 1e6,
                 agg_best / sl["single_cpu_s"]))
    tot = fac_best + agg_best
    print("| the same, NumPy given the string ids: np.unique factorization (%.2f s) + bincount | | %.2f s, %.2f M events/s | %.1f× |"
          % (fac_best, tot, ev_n / tot / 1e6, tot / sl["ingest_cpu_s"]))
    print("| analysis, fixed horizon (Welch, delta method, CUPED, Holm, SRM): best / median | %.3f / %.3f ms | %.3f / %.3f ms | %.1f× |"
          % (sl["report_best_ms"], sl["report_median_ms"], fix_best * 1e3, fix_med * 1e3, fix_best * 1e3 / sl["report_best_ms"]))
    print("| analysis, sequential: best / median | %.3f / %.3f ms | %.3f / %.3f ms | %.1f× |"
          % (sl["sequential_best_ms"], sl["sequential_median_ms"], seq_best * 1e3, seq_med * 1e3,
             seq_best * 1e3 / sl["sequential_best_ms"]))
    print()
    print("sluice only: assignment (`sl_experiment_assign`, GrowthBook hash) of the %s requests %.3f s"
          " (%.1f M/s); the report as JSON (`sl_experiment_analyze`) %.3f ms; ingest wall %.2f s;"
          " NumPy aggregation median %.2f s." % (f"{sl['requests']:,}", sl["assign_cpu_s"],
                                                 sl["requests"] / sl["assign_cpu_s"] / 1e6, sl["analyze_ms"],
                                                 sl["ingest_wall_s"], agg_med))
    print()
    bad = False
    for name, ours, theirs in (("fixed", fixed, sl["fixed"]), ("sequential", seq, sl["sequential"])):
        worst, where = compare(spec, ours, theirs)
        verdict = "DISAGREE" if max(worst.values()) > tol or math.isnan(max(worst.values())) else "agree"
        bad |= verdict == "DISAGREE"
        print("Agreement, %s (max relative difference, sluice vs NumPy/SciPy; tolerance %g): %s: %s" % (
            name, tol, ", ".join("%s %.1e" % (k, v) for k, v in worst.items()), verdict))
        if verdict == "DISAGREE":
            print("  worst cells: %s" % where)
        print()
    print_results(spec, sl)
    if bad:
        print("experiments.py: DISAGREE: sluice and NumPy/SciPy differ beyond %g" % tol, file=sys.stderr)
        sys.exit(1)


def print_results(spec, sl):
    """The fixed-horizon report itself: what the benchmark experiment finds."""
    fx, sq = sl["fixed"], sl["sequential"]
    names = [v["key"] for v in spec["variants"][1:]]
    print("Fixed-horizon report (sluice; SRM p = %s): lift [95%% CI], Holm-adjusted p, verdict;"
          " last column: the sequential verdict." % fmt_p(fx["srm_pvalue"]))
    print()
    print("| metric | control | " + " | ".join(names) + " | sequential |")
    print("|---|---:|" + "---|" * len(names) + "---|")
    for m, ms in zip(fx["metrics"], sq["metrics"]):
        c = m["cells"]
        row = ["%+.2f%% [%+.2f, %+.2f] p=%s %s" % (100 * x["lift"], 100 * x["lo"], 100 * x["hi"],
                                                  fmt_p(x["p_adjusted"]), x["verdict"]) for x in c[1:]]
        print("| %s | %.4g | %s | %s |" % (m["name"], c[0]["mean"], " | ".join(row),
                                           ", ".join(x["verdict"] for x in ms["cells"][1:])))


if __name__ == "__main__":
    main()
