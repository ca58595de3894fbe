#!/usr/bin/python3
"""compare.py: bench/drift.sh's offline verdict: checks that `sluice drift --json` and
scipy_drift.py agree column by column (test, n_unique, statistic within REL, drift verdict,
dataset verdict), prints every disagreement, then prints the Markdown tables of agreement and
of times (whole runs and tests alone) with the ratios SciPy/sluice.

Usage: compare.py SLUICE.json SCIPY.json OFFLINE.txt TIMES.txt [REF_MB CUR_MB]
  OFFLINE.txt: bench_drift_offline's key=value lines, one per run (in a fresh process each); TIMES.txt: lines "label wall user sys",
  one per whole run (labels sluice, sluice_1core, scipy; the best of each label is used). Exit 1 on any disagreement.
"""
import json
import sys

REL = 1e-9


def rel(a, b):
    if a == b:
        return 0.0
    return abs(a - b) / max(abs(a), abs(b), 1e-300)


def main():
    sl = json.load(open(sys.argv[1]))
    sp = json.load(open(sys.argv[2]))
    off = {}
    for line in open(sys.argv[3]):  # one line per run: the best of each step
        for k, v in (kv.split("=") for kv in line.split()):
            off[k] = min(off.get(k, float("inf")), float(v))
    runs = {}
    for line in open(sys.argv[4]):
        f = line.split()
        if f:
            runs.setdefault(f[0], []).append(tuple(float(x) for x in f[1:4]))
    # best of the runs: the least wall time, and separately the least CPU time (user, sys)
    times = {k: (min(r[0] for r in v), *min((r[1:] for r in v), key=sum)) for k, v in runs.items()}

    bad = []
    spc = {c["name"]: c for c in sp["columns"]}
    rows = []
    worst = 0.0
    for c in sl["columns"]:
        p = spc.pop(c["name"], None)
        if p is None:
            bad.append("%s: only in sluice's report" % c["name"])
            continue
        r = rel(c["statistic"], p["statistic"]) if c["statistic"] is not None else float("inf")
        worst = max(worst, r)
        ok = True
        for what, a, b in (("type", c["type"], p["type"]), ("test", c["test"], p["test"]),
                           ("n_unique", c["n_unique"], p["n_unique"]), ("drift", c["drift"], p["drift"])):
            if a != b:
                bad.append("%s: %s differs: sluice %r, SciPy %r" % (c["name"], what, a, b))
                ok = False
        if r > REL:
            bad.append("%s: statistic differs: sluice %.17g, SciPy %.17g (relative %.2g)" %
                       (c["name"], c["statistic"], p["statistic"], r))
            ok = False
        rows.append("| %s | %s | %s | %.6g | %.6g | %.1e | %s | %s |" % (
            c["name"], c["type"], c["test"], c["statistic"], p["statistic"], r,
            "drift" if c["drift"] else "-", "yes" if ok else "**NO**"))
    for name in spc:
        bad.append("%s: only in SciPy's report" % name)
    if sl["dataset"]["drift"] != sp["dataset_drift"] or sl["dataset"]["drifted"] != sp["drifted"]:
        bad.append("dataset verdict differs: sluice %d drifted (%s), SciPy %d (%s)" % (
            sl["dataset"]["drifted"], sl["dataset"]["drift"], sp["drifted"], sp["dataset_drift"]))

    print("Agreement, column by column (statistic relative difference; drift at >= 0.1 for both tests)\n")
    print("| column | type | test | sluice | SciPy | rel. diff | verdict | agree |")
    print("|---|---|---|---:|---:|---:|---|---|")
    print("\n".join(rows))
    print("\nDataset: sluice %d of %d columns drifted (dataset drift: %s); SciPy %d of %d (%s). "
          "Largest relative difference of a statistic: %.1e.\n" % (
              sl["dataset"]["drifted"], sl["dataset"]["tested"], sl["dataset"]["drift"],
              sp["drifted"], sp["tested"], sp["dataset_drift"], worst))

    cpu = sp["cpu"]
    sc = times["scipy"]
    s2 = times["sluice"]
    s1 = times["sluice_1core"]
    sp_tests = cpu["numeric"] + cpu["categorical"]
    sl_tests = off["sort_cpu"] + off["report_cpu"]
    print("Times on %s + %s rows x %d columns (%s + %s MB of CSV); seconds, best run\n" % (
        format(sl["reference"]["rows"], ","), format(sl["current"]["rows"], ","), len(sl["columns"]),
        sys.argv[5] if len(sys.argv) > 5 else "?", sys.argv[6] if len(sys.argv) > 6 else "?"))
    print("| step | sluice | SciPy | SciPy / sluice |")
    print("|---|---:|---:|---:|")

    def line(name, a, b):
        print("| %s | %.2f | %.2f | **%.1fx** |" % (name, a, b, b / a) if a > 0 else "| %s | %.2f | %.2f | - |" % (name, a, b))

    line("(a) whole run, wall, two cores free (sluice: the two files on two threads, the report's columns on both cores)", s2[0], sc[0])
    line("(a) whole run, CPU seconds (user + sys), one core each", s1[1] + s1[2], sc[1] + sc[2])
    line("(a) whole run, CPU seconds (user + sys), sluice on two threads", s2[1] + s2[2], sc[1] + sc[2])
    line("(a) whole run, wall, one core each (`taskset -c 1`; SciPy runs pinned in every row)", s1[0], sc[0])
    print("| parse both files, CPU (sluice counts categories while parsing) | %.2f | %.2f | %.1fx |" % (
        off["parse_cpu"], cpu["load"], cpu["load"] / off["parse_cpu"]))
    print("| count categories, CPU (SciPy: np.unique per column and side) | (in parse) | %.2f | |" % cpu["counts"])
    line("parse + count categories, CPU", off["parse_cpu"], cpu["load"] + cpu["counts"])
    line("(b) tests alone, CPU: sluice sorts + sl_drift_report_build; SciPy numeric tests (sorting inside) + Jensen-Shannon",
         sl_tests, sp_tests)
    print("| of which sluice's sorts of the numeric columns | %.2f | | |" % off["sort_cpu"])
    whole = (sc[1] + sc[2]) / (s1[1] + s1[2])
    wall = sc[0] / s2[0]

    def verdict(x):
        return "%.1fx (%s)" % (x, "met" if x >= 20 else "not met")

    print("\nAim: 20x SciPy offline. The command as a user waits for it (wall, two cores): %s; "
          "by CPU time, one core each: %s; tests alone: %s." % (verdict(wall), verdict(whole), verdict(sp_tests / sl_tests)))
    print("\nsluice steps, one thread, CPU seconds (bench_drift_offline): parse %.2f, sorts %.2f, "
          "report %.2f, JSON %.4f, total %.2f. SciPy steps, CPU seconds: load %.2f, numeric columns %.2f, "
          "category counts %.2f, Jensen-Shannon on counts %.3f, total %.2f (interpreter start and imports "
          "excluded; they are in the whole-run rows)." % (
              off["parse_cpu"], off["sort_cpu"], off["report_cpu"], off["json_cpu"], off["total_cpu"],
              cpu["load"], cpu["numeric"], cpu["counts"], cpu["categorical"], cpu["total"]))
    if bad:
        print("\nDISAGREEMENTS:")
        for b in bad:
            print("  " + b)
        print()
        sys.exit(1)
    print("\nsluice and SciPy agree on every column.")


if __name__ == "__main__":
    main()
