#!/usr/bin/python3
"""Reads GET /api/v1/recs (the recommendation monitor) on stdin and prints, per version, the
quality of its slates beyond accuracy; a version whose users see the same items again and again
(repetition above 0.5) is flagged. Used by the demo (scripts/demo.sh, part 5)."""
import json
import sys

FIELDS = [("repetition", "repetition"), ("reshown_ignored", "reshown ignored"), ("satisfaction", "satisfaction"),
          ("ctr", "ctr"), ("watch_per_item", "watch s/item"), ("diversity", "diversity"),
          ("catalog_coverage", "coverage"), ("gini", "gini")]


def fmt(v):
    return "-" if v is None else ("%.3f" % v if abs(v) < 100 else "%.0f" % v)


def main():
    try:
        doc = json.load(sys.stdin)
    except ValueError as e:
        print("recs-summary: not JSON: %s" % e, file=sys.stderr)
        return 1
    rows = []
    for v in doc.get("versions", []):
        m = v.get("window") or v.get("current") or {}
        rows.append((v.get("version", "?"), m))
    if not rows:
        print("   no slates recorded")
        return 0
    print("   %-8s " % "version" + " ".join("%15s" % label for _k, label in FIELDS))
    for name, m in rows:
        print("   %-8s " % name + " ".join("%15s" % fmt(m.get(k)) for k, _label in FIELDS))
    worst = min(rows, key=lambda r: r[1].get("satisfaction") if r[1].get("satisfaction") is not None else 9)
    for name, m in rows:
        rep = m.get("repetition")
        if rep is not None and rep > 0.5:
            print("   !! %s is repetitive: %.0f%% of a user's consecutive slates overlap, %.0f%% of the items "
                  "users ignored were shown again%s" % (name, 100 * rep, 100 * (m.get("reshown_ignored") or 0),
                                                         "; lowest satisfaction" if name == worst[0] else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
