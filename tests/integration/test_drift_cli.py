"""`sluice drift REF CUR`, end to end: generated CSV and JSON Lines files with and without
drift; Evidently's choice of test by type and size; statistics recomputed here in plain Python
(K-S D, chi-squared, Jensen-Shannon, Wasserstein normed) and compared at 1e-9; the --json
shape; the --html page (self-contained, escapes the data); corrections; and bad inputs, which
exit 2 naming FILE:LINE. SciPy agreement of the p-values is the unit tests' job
(tests/unit/drift). Standard library only."""
import bisect
import csv
import json
import math
import os
import random
import subprocess
import sys
import unittest

sys.dont_write_bytecode = True
import harness  # noqa: E402


def run(*args, timeout=60):
    p = subprocess.run([harness.BIN, "drift"] + [str(a) for a in args], capture_output=True, timeout=timeout)
    err = p.stderr.decode("utf-8", "replace")
    if harness.SANITIZER_REPORT.search(err):
        raise AssertionError("sanitizer report:\n" + err)
    return p.returncode, p.stdout.decode("utf-8", "replace"), err


# ---------------------------------------------------------------- reference statistics
def ks_d(x, y):
    xs, ys = sorted(x), sorted(y)
    d = 0.0
    for v in set(xs) | set(ys):
        d = max(d, abs(bisect.bisect_right(xs, v) / len(xs) - bisect.bisect_right(ys, v) / len(ys)))
    return d


def wasserstein_norm(x, y):
    xs, ys = sorted(x), sorted(y)
    allv = sorted(set(xs) | set(ys))
    w = math.fsum(abs(bisect.bisect_right(xs, a) / len(xs) - bisect.bisect_right(ys, a) / len(ys)) * (b - a)
                  for a, b in zip(allv, allv[1:]))
    mean = math.fsum(x) / len(x)
    std = math.sqrt(math.fsum((v - mean) ** 2 for v in x) / len(x))
    return w / max(std, 0.001)


def counts(x, y):
    keys = sorted(set(x) | set(y))
    return [x.count(k) for k in keys], [y.count(k) for k in keys]


def chi2_stat(x, y):
    r, c = counts(x, y)
    k = sum(c) / sum(r)
    return math.fsum((o - e * k) ** 2 / (e * k) for o, e in zip(c, r))


def js_distance(x, y):
    r, c = counts(x, y)
    p = [v / sum(r) for v in r]
    q = [v / sum(c) for v in c]
    m = [(a + b) / 2 for a, b in zip(p, q)]
    kl = math.fsum(a * math.log(a / b) for a, b in zip(p, m) if a > 0) + \
        math.fsum(a * math.log(a / b) for a, b in zip(q, m) if a > 0)
    return math.sqrt(kl / 2)


def close(a, b, tol=1e-9):
    return a == b or abs(a - b) <= tol * max(abs(a), abs(b))


# ---------------------------------------------------------------- data
def dataset(n, seed, shift=0.0):
    rnd = random.Random(seed)
    cities = ["Paris", "Berlin", "Rome, Italy", 'Oslo "north"']
    weights = [4, 3, 2, 1] if shift == 0 else [1, 2, 3, 4]
    rows = []
    for i in range(n):
        rows.append({
            "amount": round(rnd.gauss(100 + 40 * shift, 20), 3),
            "age": rnd.randint(18, 70) + int(10 * shift),
            "city": rnd.choices(cities, weights)[0],
            "premium": rnd.choice(["yes", "no"]) if shift == 0 else rnd.choice(["yes", "no", "no", "no"]),
            "score": "" if i % 7 == 0 else round(rnd.random(), 4),
        })
    return rows


def write_csv(path, rows, names=None):
    names = names or list(rows[0])
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(names)
        for r in rows:
            w.writerow([r.get(k, "") for k in names])


def write_jsonl(path, rows):
    with open(path, "w") as f:
        for r in rows:
            f.write(json.dumps({k: (None if v == "" else v) for k, v in r.items()}) + "\n")


def column(rows, name):
    return [r[name] for r in rows if r[name] != ""]


class DriftCLI(harness.TestCase):
    def path(self, name):
        return os.path.join(self.workdir, name)

    def pair(self, n_ref, n_cur, shift, fmt="csv", seed=1):
        ref, cur = dataset(n_ref, seed), dataset(n_cur, seed + 100, shift)
        rp, cp = self.path("ref." + fmt), self.path("cur." + fmt)
        (write_csv if fmt == "csv" else write_jsonl)(rp, ref)
        (write_csv if fmt == "csv" else write_jsonl)(cp, cur)
        return rp, cp, ref, cur

    def report(self, *args):
        rc, out, err = run(*args, "--json")
        self.assertEqual(rc, 0, err)
        doc = json.loads(out)
        return doc, {c["name"]: c for c in doc["columns"]}

    def test_no_drift_small(self):
        rp, cp, ref, cur = self.pair(600, 500, 0.0)
        rc, out, err = run(rp, cp)
        self.assertEqual(rc, 0, err)
        self.assertIn("no dataset drift", out)
        doc, cols = self.report(rp, cp)
        self.assertFalse(doc["dataset"]["drift"])
        want = {"amount": ("num", "ks"), "age": ("num", "ks"), "city": ("cat", "chisquare"),
                "premium": ("cat", "z"), "score": ("num", "ks")}
        for name, (kind, test) in want.items():
            self.assertEqual((cols[name]["type"], cols[name]["test"]), (kind, test), name)
            self.assertEqual(cols[name]["threshold"], 0.05)
        self.assertEqual(cols["score"]["reference"]["missing"], 600 // 7 + 1)
        self.assertTrue(close(cols["amount"]["statistic"], ks_d(column(ref, "amount"), column(cur, "amount"))))
        self.assertTrue(close(cols["city"]["statistic"], chi2_stat(column(ref, "city"), column(cur, "city"))))

    def test_drift_small(self):
        rp, cp, ref, cur = self.pair(600, 500, 1.0)
        doc, cols = self.report(rp, cp)
        self.assertTrue(doc["dataset"]["drift"], doc["dataset"])
        for name in ("amount", "age", "city", "premium"):
            self.assertTrue(cols[name]["drift"], cols[name])
            self.assertLess(cols[name]["p_value"], 1e-6, name)
        self.assertFalse(cols["score"]["drift"], "score did not move")
        self.assertEqual(doc["dataset"]["drifted"], 4)
        self.assertEqual(doc["dataset"]["share"], 0.8)
        rc, out, err = run(rp, cp, "--fail-on-drift")
        self.assertEqual(rc, 3, err)
        self.assertIn("DATASET DRIFT", out)

    def test_large_uses_distances(self):
        rp, cp, ref, cur = self.pair(3000, 2500, 0.5)
        doc, cols = self.report(rp, cp)
        self.assertEqual(cols["amount"]["test"], "wasserstein")
        self.assertEqual(cols["city"]["test"], "jensenshannon")
        self.assertEqual(cols["premium"]["test"], "jensenshannon")
        self.assertIsNone(cols["amount"]["p_value"])
        self.assertEqual(cols["amount"]["threshold"], 0.1)
        self.assertTrue(close(cols["amount"]["statistic"],
                              wasserstein_norm(column(ref, "amount"), column(cur, "amount"))))
        self.assertTrue(close(cols["city"]["statistic"], js_distance(column(ref, "city"), column(cur, "city"))))
        self.assertTrue(cols["amount"]["drift"], "a shift of one standard deviation")

    def test_jsonl_matches_csv(self):
        a = self.report(*self.pair(800, 700, 0.3, "csv")[:2])[1]
        b = self.report(*self.pair(800, 700, 0.3, "jsonl")[:2])[1]
        for name in a:
            self.assertEqual(a[name]["test"], b[name]["test"], name)
            self.assertEqual(a[name]["statistic"], b[name]["statistic"], name)
            self.assertEqual(a[name]["reference"]["missing"], b[name]["reference"]["missing"], name)

    def test_types_and_columns(self):
        rp, cp, ref, cur = self.pair(300, 300, 0.0)
        doc, cols = self.report(rp, cp, "--types", "age:cat", "--columns", "age,city")
        self.assertEqual([c["name"] for c in doc["columns"]], ["age", "city"])
        self.assertEqual(cols["age"]["type"], "cat")
        self.assertEqual(cols["age"]["test"], "chisquare")
        # a column with text in one file only is categorical in both
        write_csv(self.path("m1.csv"), [{"v": i % 4} for i in range(100)])
        write_csv(self.path("m2.csv"), [{"v": "x" if i == 5 else i % 4} for i in range(100)])
        doc, cols = self.report(self.path("m1.csv"), self.path("m2.csv"))
        self.assertEqual(cols["v"]["type"], "cat")
        # forcing a test for every column
        doc, cols = self.report(rp, cp, "--test", "psi", "--threshold", "0.2")
        self.assertTrue(all(c["test"] == "psi" and c["threshold"] == 0.2 for c in cols.values()))

    def test_json_shape(self):
        rp, cp, _, _ = self.pair(200, 200, 0.0)
        doc, cols = self.report(rp, cp, "--correction", "bh")
        self.assertEqual(set(doc), {"reference", "current", "options", "columns", "dataset"})
        self.assertEqual(doc["reference"], {"file": rp, "rows": 200})
        self.assertEqual(doc["options"]["correction"], "bh")
        self.assertEqual(set(doc["dataset"]), {"columns", "tested", "drifted", "share", "drift_share", "drift"})
        c = cols["amount"]
        for key in ("name", "type", "tested", "test", "statistic", "p_value", "p_value_adjusted", "threshold",
                    "drift", "hashed", "n_unique", "bins", "note", "reference", "current"):
            self.assertIn(key, c)
        self.assertEqual(set(c["reference"]), {"count", "missing", "unique", "mean", "std", "min", "max"})
        self.assertEqual(set(cols["city"]["reference"]), {"count", "missing", "unique"})
        self.assertGreaterEqual(c["p_value_adjusted"], c["p_value"])

    def test_correction(self):
        # 10 columns, each moved a little: raw p-values near 0.01-0.05; BH and Bonferroni flag fewer
        rnd = random.Random(5)
        names = ["c%d" % i for i in range(10)]
        ref = [{k: round(rnd.gauss(0, 1), 4) for k in names} for _ in range(400)]
        cur = [{k: round(rnd.gauss(0.17, 1), 4) for k in names} for _ in range(400)]
        write_csv(self.path("r.csv"), ref)
        write_csv(self.path("c.csv"), cur)
        none = self.report(self.path("r.csv"), self.path("c.csv"))[0]["dataset"]["drifted"]
        bh = self.report(self.path("r.csv"), self.path("c.csv"), "--correction", "bh")[0]["dataset"]["drifted"]
        bon = self.report(self.path("r.csv"), self.path("c.csv"), "--correction", "bonferroni")[0]["dataset"]
        self.assertGreaterEqual(none, bh)
        self.assertGreaterEqual(bh, bon["drifted"])
        self.assertGreater(none, bon["drifted"], "Bonferroni is stricter than no correction here")

    def test_html(self):
        evil = '<script>alert("x")</script>'
        rows_r = [{evil: i % 5, "city": "<img src=x onerror=alert(1)>" if i % 3 else "ok"} for i in range(200)]
        rows_c = [{evil: i % 4, "city": "ok"} for i in range(200)]
        write_csv(self.path("r.csv"), rows_r)
        write_csv(self.path("c.csv"), rows_c)
        out = self.path("report.html")
        rc, stdout, err = run(self.path("r.csv"), self.path("c.csv"), "--html", out)
        self.assertEqual(rc, 0, err)
        with open(out, encoding="utf-8") as f:
            page = f.read()
        self.assertTrue(page.startswith("<!DOCTYPE html>"))
        self.assertTrue(page.rstrip().endswith("</html>"))
        for needle in ("http://", "https://", "<script", "<img", 'src="', "url(", "@import"):
            self.assertNotIn(needle, page)
        self.assertIn("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;", page)
        self.assertIn("&lt;img src=x onerror=alert(1)&gt;", page)
        self.assertEqual(page.count("<svg"), 2, "one chart per column")
        self.assertIn("html report:", stdout)

    def test_bad_inputs(self):
        def bad(ref_text, cur_text, want, *args, ext=".csv"):
            rp, cp = self.path("bad_ref" + ext), self.path("bad_cur" + ext)
            with open(rp, "w") as f:
                f.write(ref_text)
            with open(cp, "w") as f:
                f.write(cur_text)
            rc, out, err = run(rp, cp, *args)
            self.assertEqual(rc, 2, "want exit 2 for %r, got %d: %s" % (want, rc, err))
            self.assertIn(want.replace("REF", rp).replace("CUR", cp), err)
            self.assertNotIn("Traceback", err)

        good = "a,b\n1,2\n"
        bad("a,b\n1,2\n3,4,5\n", good, "REF:3: 3 fields, the header has 2")
        bad('a,b\n1,"x\ny\n', good, "REF:2: unterminated quoted field")
        bad(good, "a,b\n1,x\n", "CUR:2: column 'b' is declared numeric but holds 'x'", "--types", "b:num")
        bad('{"a": 1}\n{"a": {"n": 2}}\n', '{"a": 1}\n', "REF:2: member 'a': nested values are not supported",
            ext=".jsonl")
        bad('{"a": 1}\n{"a": 1,,}\n', '{"a": 1}\n', "REF:2: expected a member name", ext=".jsonl")
        bad(good, "a\n1\n", "CUR: no column 'b' (the reference has it)")
        bad("", good, "REF: empty file")
        bad(",".join("c%d" % i for i in range(1001)) + "\n", good, "REF:1: more than 1000 columns")
        bad(good, good, "unknown option '--bogus'", "--bogus")
        bad(good, good, "--threshold: 'abc' is not a valid number", "--threshold", "abc")
        bad(good, good, "--test: unknown test 'anova'", "--test", "anova")
        bad(good, good, "--types: unknown type 'int' for 'a'", "--types", "a:int")
        rc, _, err = run(self.path("nope.csv"), self.path("nope2.csv"))
        self.assertEqual(rc, 2)
        self.assertIn("cannot open", err)
        # a file past 2 GiB is refused before it is read (sparse, so it costs no disk)
        huge = self.path("huge.csv")
        with open(huge, "wb") as f:
            f.truncate((2 << 30) + 1)
        rc, _, err = run(huge, self.path("bad_cur.csv"))
        self.assertEqual(rc, 2, err)
        self.assertIn("larger than 2 GiB", err)
        rc, _, err = run("only-one.csv")
        self.assertEqual(rc, 2)


if __name__ == "__main__":
    unittest.main(verbosity=2)
