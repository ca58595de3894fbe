#!/usr/bin/python3
"""Prints the admin API's /api/v1/drift answer (read on stdin) for people: one line per model
version with its state, then the features that drifted in its last window. Used by the demo."""
import json
import sys


def main():
    doc = json.load(sys.stdin)
    for v in doc.get("versions", []):
        last = v.get("last") or {}
        print("%s/%s: %s after %d window(s) of %d requests (reference %d)" % (
            v["model"], v["version"], v["state"].upper(), v["windows"], doc["window_size"], v["reference"]))
        moved = [f for f in last.get("features", []) if f.get("drift")]
        for f in moved:
            stat = f.get("pvalue") if f.get("pvalue") is not None else f.get("statistic")
            kind = "p" if f.get("pvalue") is not None else "score"
            print("    %-18s %-12s %s = %.3g (threshold %.3g)" % (f["name"], f["test"], kind, stat, f["threshold"]))
        topic = last.get("topic") or {}
        if topic.get("drift"):
            print("    %-18s %-12s p = %.3g" % ("topic sketch", "permutation", topic["pvalue"]))
        if last:
            print("    %d of %d features drifted (share %.2f)" % (last["drifted"], last["tested"], last["share"]))


if __name__ == "__main__":
    main()
