"""`sluice sim --recs` (a simulated recommender behind the chat completions API) and
`sluice load --recs` (simulated users of it): slates are valid JSON of the asked size over the
catalog; the --repeat recommender shows a user the same slate every time while the exploring
one does not; the load generator tells the two apart by what its users saw, and counts the 404s
of /v1/recs and /v1/events (no gateway here) as not counted."""
import json
import re
import sys
import unittest

sys.dont_write_bytecode = True
import harness  # noqa: E402
from harness import post, run_load  # noqa: E402

CHAT = "/v1/chat/completions"
CATEGORIES = {"drama", "comedy", "news", "sports", "music", "science", "kids", "cooking"}
SOURCES = {"personal", "popular", "fresh"}


class RecsSim(harness.Process):
    """`sluice sim --recs [--repeat]` on a free port (harness.Sim passes every option a value)."""

    def __init__(self, tc, name, repeat, catalog, slate):
        for attempt in range(3):
            self.port = harness.free_port()
            argv = [harness.BIN, "sim", "--listen", "127.0.0.1:%d" % self.port, "--quiet", "--recs",
                    "--latency-ms", "0", "--catalog", str(catalog), "--slate", str(slate)]
            super().__init__(name, argv + (["--repeat"] if repeat else []), tc.workdir)
            tc.procs.append(self)
            try:
                self.wait_port(self.port)
                return
            except harness.ProcessFailed:
                if attempt == 2 or self.alive():
                    raise


def jaccard(a, b):
    a, b = set(a), set(b)
    return len(a & b) / len(a | b)


class RecsSimTest(harness.TestCase):
    CATALOG = 500

    def slate(self, sim, user, n):
        r = post(sim.port, CHAT, {"model": "recommender", "user": user,
                                  "messages": [{"role": "user", "content": "recommend"}]})
        self.assertEqual(r.status, 200, r)
        body = r.json()
        self.assertEqual(body["object"], "chat.completion")
        items = json.loads(body["choices"][0]["message"]["content"])["items"]
        self.assertEqual(len(items), n)
        ids = [it["id"] for it in items]
        self.assertEqual(len(set(ids)), n, "items repeat within a slate: %r" % ids)
        for it in items:
            self.assertRegex(it["id"], r"^i\d+$")
            self.assertLess(int(it["id"][1:]), self.CATALOG)
            self.assertIn(it["category"], CATEGORIES)
            self.assertIn(it["source"], SOURCES)
            self.assertIsInstance(it["score"], float)
        scores = [it["score"] for it in items]
        self.assertEqual(scores, sorted(scores, reverse=True))
        return ids

    def test_slates_valid_of_asked_size(self):
        for n in (10, 3):
            good = RecsSim(self, "good-%d" % n, False, self.CATALOG, n)
            bad = RecsSim(self, "bad-%d" % n, True, self.CATALOG, n)
            for sim in (good, bad):
                for u in range(3):
                    self.slate(sim, "user-%d" % u, n)

    def test_repeat_repeats_per_user_and_explore_does_not(self):
        good = RecsSim(self, "good", False, self.CATALOG, 10)
        bad = RecsSim(self, "bad", True, self.CATALOG, 10)
        users = ["user-%d" % u for u in range(8)]
        for u in users:
            first = self.slate(bad, u, 10)
            for _ in range(3):
                self.assertEqual(self.slate(bad, u, 10), first, "the --repeat recommender changed %s's slate" % u)
        by_user = {u: self.slate(bad, u, 10) for u in users}
        self.assertGreater(len({tuple(s) for s in by_user.values()}), 1, "every user got the same slate")
        overlaps = []
        for u in users:
            prev = self.slate(good, u, 10)
            for _ in range(3):
                cur = self.slate(good, u, 10)
                overlaps.append(jaccard(prev, cur))
                prev = cur
        self.assertLess(sum(overlaps) / len(overlaps), 0.5, "the exploring recommender repeats: %r" % overlaps)

    def test_other_requests_unchanged(self):
        sim = RecsSim(self, "good", False, self.CATALOG, 10)
        r = post(sim.port, "/v1/recs", {"request_id": "x"})
        self.assertEqual(r.status, 404, r)
        r = post(sim.port, "/v1/completions", {"model": "m", "prompt": "hi", "max_tokens": 2})
        self.assertEqual(r.status, 200, r)
        self.assertIn("text", r.json()["choices"][0])

    def test_load_tells_the_two_apart(self):
        good = RecsSim(self, "good", False, self.CATALOG, 10)
        bad = RecsSim(self, "bad", True, self.CATALOG, 10)
        args = ("--recs", "--users", 20, "--duration", 30, "--requests", 120, "--concurrency", 4, "--rate", 0,
                "--catalog", self.CATALOG)
        runs = {}
        for name, sim in (("good", good), ("bad", bad)):
            out = run_load(sim.port, *args)
            self.assertEqual(out["slates_failed"], 0, out)
            self.assertEqual(out["bad_slates"], 0, out)
            self.assertGreaterEqual(out["slates_answered"], 100, out)
            self.assertEqual(len(out["versions"]), 1, out)
            v = out["versions"][0]
            self.assertEqual(v["version"], "-", "no gateway: no x-sluice-version")
            self.assertEqual(v["slates"], out["slates_answered"])
            self.assertEqual(v["items"], 10 * v["slates"])
            self.assertEqual(out["recs"], {"posted": 0, "not_counted": out["slates_answered"], "failed": 0})
            self.assertEqual(out["events"]["posted"], 0)
            self.assertEqual(out["events"]["failed"], 0)
            self.assertGreaterEqual(out["events"]["not_counted"], v["items"], "one impression per item at least")
            runs[name] = v
        self.assertGreater(runs["bad"]["repetition"], 0.99, runs)
        self.assertLess(runs["good"]["repetition"], 0.3, runs)
        self.assertGreater(runs["bad"]["seen_again"], 0.5, runs)
        self.assertGreater(runs["bad"]["not_interested"], runs["good"]["not_interested"], runs)
        self.assertGreater(runs["good"]["ctr"], runs["bad"]["ctr"], runs)

    def test_bad_options_refused(self):
        for argv in (["sim", "--listen", "127.0.0.1:0", "--repeat"],
                     ["sim", "--listen", "127.0.0.1:0", "--recs", "--slate", "65"],
                     ["load", "--target", "http://127.0.0.1:1", "--recs", "--endpoint", "embeddings"],
                     ["load", "--target", "http://127.0.0.1:1", "--recs", "--slate", "0"]):
            p = harness.subprocess.run([harness.BIN] + argv, stdin=harness.subprocess.DEVNULL,
                                       capture_output=True, timeout=10)
            self.assertEqual(p.returncode, 2, "%r: %r" % (argv, p.stderr))
            self.assertTrue(re.search(rb"sluice (sim|load): ", p.stderr), p.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
