"""Experiments and recommendation monitoring through the running gateway (real processes).

An experiment on model "chat" between two `sluice sim --recs` versions (v2 repeats itself):
2,000 users are routed; each user's variant is sticky and is the one GrowthBook's FNV-1a hash
(version 2, computed here) gives for the seed. Clicks are posted by request id and by unit id,
singly and in batches, with B clicking more: the report shows a positive lift whose interval
excludes 0 and no sample-ratio mismatch. Malformed events and unknown request ids get a clear
4xx and change no count; a batch with one bad event is refused whole. An experiment declared
through the admin API and the stops (API and CLI) survive a restart. Slates posted to /v1/recs
give per-version metrics where the repeating version shows its repetition.
"""
import http.client
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
import unittest

sys.dont_write_bytecode = True
import harness  # noqa: E402
from harness import chat_body, post  # noqa: E402

CHAT = "/v1/chat/completions"
EVENTS = "/v1/events"
RECS = "/v1/recs"
SEED = "rank-seed"
USERS = 2000


def fnv1a32(s):
    h = 0x811C9DC5
    for b in s.encode("utf-8"):
        h = ((h ^ b) * 0x01000193) & 0xFFFFFFFF
    return h


def gb_hash_v2(seed, value):
    """GrowthBook's hash version 2: fnv1a32(str(fnv1a32(seed + value))) % 10000 / 10000."""
    return (fnv1a32(str(fnv1a32(seed + value))) % 10000) / 10000


def gb_variant(seed, user, weights=(0.5, 0.5), coverage=1.0):
    """GrowthBook's getBucketRanges + chooseVariation; None when outside coverage."""
    n, lo = gb_hash_v2(seed, user), 0.0
    for i, w in enumerate(weights):
        hi = lo + coverage * w
        if lo <= n < hi:
            return i
        lo += w
    return None


def rank_experiment():
    return {"key": "rank-v2", "model": "chat", "unit": "user", "seed": SEED,
            "variants": [{"key": "a", "version": "v1"}, {"key": "b", "version": "v2"}],
            "metrics": [{"name": "ctr", "kind": "proportion", "source": "event:click"},
                        {"name": "clicks", "kind": "mean", "source": "event:click"},
                        {"name": "errors", "kind": "proportion", "source": "request:error", "guardrail": True,
                         "direction": "decrease_is_good"}]}


API_EXPERIMENT = {"key": "api-tone", "model": "chat", "unit": "session",
                  "variants": [{"key": "plain"},
                               {"key": "brief", "params": {"temperature": 0.2}, "system_prompt": "Be brief."}],
                  "metrics": [{"name": "views", "kind": "mean", "source": "event:view"}]}


class Experiments(harness.TestCase):
    def setUp(self):
        super().setUp()
        self.s1 = self.spawn_sim("sim-v1", "m1", [])
        self.s2 = self.spawn_sim("sim-v2", "m2", ["--repeat"])
        self.models = {"chat": [harness.version("v1", self.s1.url, 50, upstream_model="m1"),
                                harness.version("v2", self.s2.url, 50, upstream_model="m2")]}
        self.gw = self.start_gateway()

    # ---- helpers ----

    def spawn_sim(self, name, model_id, extra):
        port = harness.free_port()
        p = self.spawn(name, [harness.BIN, "sim", "--listen", "127.0.0.1:%d" % port, "--model-id", model_id,
                              "--recs", "--latency-ms", "1", "--latency-sigma", "0", "--quiet"] + extra)
        p.wait_port(port)
        p.url = "http://127.0.0.1:%d" % port
        p.port = port
        return p

    def start_gateway(self, store=None):
        top = {"access_log": "off", "experiments": [rank_experiment()]}
        if store:
            top["store"] = store
        return self.gateway(self.models, **top)

    def admin(self, method, path, body=None):
        return harness.call(self.gw.admin_port, method, path, body)

    def report(self, key="rank-v2"):
        r = self.admin("GET", "/api/v1/experiments/" + key)
        self.assertEqual(r.status, 200, r)
        return r.json()

    def listing(self):
        r = self.admin("GET", "/api/v1/experiments")
        self.assertEqual(r.status, 200, r)
        return {e["key"]: e for e in r.json()["experiments"]}

    def route_users(self, users, headers=None):
        """users -> (request id, version, slate items) of one chat request each, 8 connections."""
        out, lock, errors = {}, threading.Lock(), []

        def work(chunk):
            conn = http.client.HTTPConnection("127.0.0.1", self.gw.port, timeout=10)
            try:
                for u in chunk:
                    r = post(None, CHAT, chat_body(user=u), headers=headers, conn=conn)
                    if r.status != 200:
                        errors.append(r)
                        return
                    content = r.json()["choices"][0]["message"]["content"]
                    with lock:
                        out[u] = (r.headers["x-sluice-request-id"], r.headers["x-sluice-version"],
                                  json.loads(content)["items"])
            finally:
                conn.close()

        threads = [threading.Thread(target=work, args=(users[i::8],)) for i in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(50)
        self.assertEqual(errors, [])
        self.assertEqual(len(out), len(users))
        return out

    def events(self, body):
        return post(self.gw.port, EVENTS, body)

    def counts(self):
        return self.report()["counts"]

    # ---- the test ----

    def test_experiment_end_to_end(self):
        users = ["user-%d" % i for i in range(USERS)]
        routed = self.route_users(users)

        # sticky, and exactly GrowthBook's assignment for the seed
        want = {u: ("v1", "v2")[gb_variant(SEED, u)] for u in users}
        got = {u: routed[u][1] for u in users}
        mismatched = [u for u in users if got[u] != want[u]]
        self.assertEqual(mismatched, [], "assignment differs from GrowthBook for %d users" % len(mismatched))
        again = self.route_users(users[:200])
        self.assertEqual({u: again[u][1] for u in users[:200]}, {u: want[u] for u in users[:200]})

        listed = self.listing()["rank-v2"]
        self.assertEqual(listed["state"], "running")
        self.assertEqual(listed["origin"], "config")
        units = {v["key"]: v["units"] for v in listed["variants"]}
        n_b = sum(1 for u in users if want[u] == "v2")
        self.assertEqual(units, {"a": USERS - n_b, "b": n_b})
        self.assertEqual(listed["srm"]["verdict"], "ok")

        # clicks: B more than A; half by request id (batches), half by unit id (single and batches)
        rng = random.Random(7)
        clickers = [u for u in users if rng.random() < (0.5 if want[u] == "v2" else 0.3)]
        by_rid = [{"request_id": routed[u][0], "event": "click"} for u in clickers[0::2]]
        by_unit = [{"unit_id": u, "event": "click", "value": 1} for u in clickers[1::2]]
        for i in range(0, len(by_rid), 100):
            r = self.events(by_rid[i:i + 100])
            self.assertEqual(r.status, 200, r)
            self.assertEqual(r.json()["recorded"], len(by_rid[i:i + 100]))
        for e in by_unit[:20]:
            r = self.events(e)
            self.assertEqual(r.status, 200, r)
            self.assertEqual(r.json()["recorded"], 1)
        r = self.events(by_unit[20:])
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["recorded"], len(by_unit) - 20)

        rep = self.report()
        self.assertEqual(rep["counts"]["events"], len(clickers))
        self.assertEqual(rep["srm"]["verdict"], "ok")
        ctr = {m["name"]: m for m in rep["metrics"]}["ctr"]
        b = [v for v in ctr["variants"] if v["variant"] == "b"][0]
        self.assertGreater(b["lift"], 0)
        self.assertGreater(b["ci"][0], 0, b)
        self.assertEqual(b["verdict"], "better")

        self.check_bad_events()
        self.check_recs(routed, again, want)
        self.check_metrics()
        self.check_declare_stop_restart()

    def check_bad_events(self):
        before = self.counts()
        rid = None
        bad = [b"not json", b"", b"[]", b'{"event": "click"}',  # no id
               json.dumps({"request_id": "x", "event": "bad name!"}).encode(),
               json.dumps({"unit_id": "u", "event": "click", "value": "3"}).encode(),
               json.dumps({"unit_id": "u", "event": "click", "value": 1e300}).encode(),
               json.dumps({"unit_id": "u", "event": "click", "colour": "red"}).encode(),
               json.dumps({"unit_id": "", "event": "click"}).encode(),
               json.dumps([{"unit_id": "u", "event": "click"}] * 1001).encode()]
        for body in bad:
            r = harness.call(self.gw.port, "POST", EVENTS, body, {"content-type": "application/json"})
            harness.assert_openai_error(self, r, 400)
        r = self.events({"request_id": "0123456789abcdef0123456789abcdef", "event": "click"})
        err = harness.assert_openai_error(self, r, 404, "request_not_found")
        self.assertIn("request id", err["message"])
        r = self.events({"unit_id": "user-1", "experiment": "nope", "event": "click"})
        harness.assert_openai_error(self, r, 404, "experiment_not_found")
        # one bad event refuses the whole batch
        batch = [{"unit_id": "user-%d" % i, "event": "click"} for i in range(10)]
        batch[7] = {"unit_id": "user-7", "event": "click", "value": "many"}
        r = self.events(batch)
        err = harness.assert_openai_error(self, r, 400)
        self.assertIn("events[7].value", err["message"])
        batch[7] = {"request_id": "f" * 32, "event": "click"}
        harness.assert_openai_error(self, self.events(batch), 404, "request_not_found")
        self.assertEqual(self.counts(), before, "refused events changed the counts")
        del rid

    def check_recs(self, routed, again, want):
        # each user's slate(s) from the sims, posted with the request id (version from the gateway)
        for u in list(again)[:150]:
            for rid, _version, items in (routed[u], again[u]):
                r = post(self.gw.port, RECS, {"request_id": rid, "user": u, "items": items})
                self.assertEqual(r.status, 200, r)
                self.assertEqual(r.json()["version"], want[u])
        u = list(again)[0]
        r = post(self.gw.port, RECS, {"request_id": routed[u][0], "user": u, "items": routed[u][2]})
        harness.assert_openai_error(self, r, 409, "slate_exists")
        harness.assert_openai_error(self, post(self.gw.port, RECS, {"request_id": "0" * 31 + "1", "user": "u",
                                                                     "items": ["i1"]}), 404, "request_not_found")
        for body in ({"user": "u", "items": ["i1"], "version": "v1"},
                     {"request_id": "r-x", "user": "u", "items": [], "version": "v1"},
                     {"request_id": "r-x", "user": "u", "items": ["i%d" % i for i in range(65)], "version": "v1"},
                     {"request_id": "r-x", "user": "u", "items": [{"category": "drama"}], "version": "v1"},
                     {"request_id": "r-x", "user": "u", "items": ["i1"], "version": "v1", "extra": 1}):
            harness.assert_openai_error(self, post(self.gw.port, RECS, body), 400, "invalid_slate")
        # an explicit version with the application's own request id
        r = post(self.gw.port, RECS, {"request_id": "app-1", "user": "app-user", "version": "v1",
                                      "items": [{"id": "i1", "category": "drama", "source": "popular", "score": 0.9},
                                                {"id": "i2", "category": "news|music"}]})
        self.assertEqual(r.status, 200, r)
        # an interaction against that slate, joined by its request id
        r = self.events({"request_id": "app-1", "event": "click", "item": "i2"})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["recs"], 1)

        r = self.admin("GET", "/api/v1/recs")
        self.assertEqual(r.status, 200, r)
        doc = r.json()
        versions = {v["version"]: v for v in doc["versions"]}
        self.assertEqual(set(versions), {"v1", "v2"})
        rep = {k: versions[k]["current"]["repetition"] for k in versions}
        self.assertGreater(rep["v2"], 0.9, rep)  # the repeating version shows the same slate again
        self.assertLess(rep["v1"], rep["v2"] - 0.3, rep)

    def check_metrics(self):
        samples = self.gw.metrics()
        self.assertEqual(harness.metric_sum(samples, "sluice_experiment_units", experiment="rank-v2"), USERS)
        self.assertEqual(harness.metric_sum(samples, "sluice_experiment_running", experiment="rank-v2"), 1)
        self.assertGreater(harness.metric_sum(samples, "sluice_recs_repetition", version="v2", window="current"), 0.9)
        promtool = "/usr/bin/promtool"
        if os.path.exists(promtool):
            text = self.gw.metrics_text()
            p = subprocess.run([promtool, "check", "metrics"], input=text.encode(), capture_output=True, timeout=20)
            self.assertNotIn(b"error", p.stdout + p.stderr, p.stdout + p.stderr)

    def cli(self, *args):
        argv = [harness.BIN, "experiment"] + list(args) + ["--admin", "http://127.0.0.1:%d" % self.gw.admin_port]
        return subprocess.run(argv, capture_output=True, timeout=20, text=True)

    def check_declare_stop_restart(self):
        r = self.admin("POST", "/api/v1/experiments", API_EXPERIMENT)
        self.assertEqual(r.status, 201, r)
        harness.assert_openai_error(self, self.admin("POST", "/api/v1/experiments", API_EXPERIMENT), 409,
                                    "experiment_exists")
        bad = dict(API_EXPERIMENT, key="bad-one", model="nope")
        err = harness.assert_openai_error(self, self.admin("POST", "/api/v1/experiments", bad), 400,
                                          "invalid_experiment")
        self.assertIn("model", err["message"])
        bad = dict(API_EXPERIMENT, key="bad-two", variants=[{"key": "only"}])
        harness.assert_openai_error(self, self.admin("POST", "/api/v1/experiments", bad), 400, "invalid_experiment")
        harness.assert_openai_error(self, self.admin("GET", "/api/v1/experiments/none"), 404, "experiment_not_found")

        # sessions of the API experiment; requests of users in rank-v2 go to rank-v2 first (it is listed first)
        r = post(self.gw.port, CHAT, chat_body(), headers={"x-sluice-session": "s-1"})
        self.assertEqual(r.status, 200, r)

        # stop rank-v2 through the API, api-tone through the CLI
        r = self.admin("POST", "/api/v1/experiments/rank-v2/stop")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["state"], "stopped")
        p = self.cli("stop", "api-tone")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("stopped", p.stdout)
        exposed = self.counts()["exposed"]
        self.route_users(["late-%d" % i for i in range(50)])
        self.assertEqual(self.counts()["exposed"], exposed, "a stopped experiment took new units")

        p = self.cli("list")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("rank-v2", p.stdout)
        self.assertIn("api-tone", p.stdout)
        p = self.cli("show", "rank-v2")
        self.assertEqual(p.returncode, 0, p.stderr)
        for word in ("ctr", "better", "sample ratio: ok", "LIFT"):
            self.assertIn(word, p.stdout)
        p = self.cli("show", "nope")
        self.assertEqual(p.returncode, 1)
        p = self.cli("show", "rank-v2", "--json")
        self.assertEqual(json.loads(p.stdout)["experiment"], "rank-v2")

        # restart on the same store: the API experiment and both stops are kept
        store = self.gw.config["store"]
        self.gw.signal(signal.SIGTERM)
        self.assertEqual(self.gw.wait(15), 0, self.gw.stderr())
        self.gw = self.start_gateway(store=store)
        listed = self.listing()
        self.assertEqual(set(listed), {"rank-v2", "api-tone"})
        self.assertEqual(listed["api-tone"]["origin"], "api")
        self.assertEqual(listed["api-tone"]["state"], "stopped")
        self.assertEqual(listed["rank-v2"]["state"], "stopped")


class Guardrail(harness.TestCase):
    def test_a_regressed_guardrail_stops_the_experiment(self):
        s1 = self.sim(name="sim-ok", model_id="m1", error_rate=0.02, max_tokens=2)
        s2 = self.sim(name="sim-bad", model_id="m2", error_rate=0.4, max_tokens=2, seed=2)
        exp = {"key": "risky", "model": "chat", "unit": "user",
               "variants": [{"key": "a", "version": "v1"}, {"key": "b", "version": "v2"}],
               "metrics": [{"name": "errors", "kind": "proportion", "source": "request:error",
                            "guardrail": True, "direction": "decrease_is_good"}]}
        gw = self.gateway({"chat": [harness.version("v1", s1, 50, upstream_model="m1"),
                                    harness.version("v2", s2, 50, upstream_model="m2")]},
                          access_log="off", experiments=[exp])
        conn = http.client.HTTPConnection("127.0.0.1", gw.port, timeout=10)
        self.addCleanup(conn.close)
        state = "running"
        # the gateway judges guardrails at most once a second: keep users coming until it has
        # (bounded in time and count, not by how fast this machine is)
        deadline = time.monotonic() + 30
        i = 0
        while state != "stopped" and time.monotonic() < deadline and i < 200000:
            r = post(None, CHAT, chat_body(user="g-%d" % i), conn=conn)
            self.assertIn(r.status, (200, 500, 502), r)
            i += 1
            if i % 100 == 0:
                doc = harness.get(gw.admin_port, "/api/v1/experiments").json()
                state = doc["experiments"][0]["state"]
        self.assertEqual(state, "stopped")
        gw.wait_stderr(r"experiment 'risky' stopped: guardrail regressed")
        rep = harness.get(gw.admin_port, "/api/v1/experiments/risky").json()
        self.assertTrue(rep["stop_recommended"], rep)
        self.assertEqual(rep["metrics"][0]["variants"][1]["verdict"], "worse")
        # stopped: new users are not exposed any more
        exposed = rep["counts"]["exposed"]
        for i in range(20):
            post(None, CHAT, chat_body(user="after-%d" % i), conn=conn)
        rep = harness.get(gw.admin_port, "/api/v1/experiments/risky").json()
        self.assertEqual(rep["counts"]["exposed"], exposed)


if __name__ == "__main__":
    unittest.main()
