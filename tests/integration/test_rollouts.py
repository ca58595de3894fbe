"""Automated canary rollouts end to end: the admin API (start, list, get, actions, refusals,
bearer token), a bad candidate rolled back and a good one promoted on real traffic with the
judge's evidence in the store, approval, pause and resume, restart recovery after kill -9,
webhooks against a local receiver, the shadow stage, and the `sluice rollout` / `sluice status`
command line against a real gateway.

Traffic comes from harness.Traffic (Python threads on keep-alive connections, sticky users,
feedback from the simulator's x-sim-answer header). Intervals are short (300-1000 ms) and the
simulated versions differ by wide margins (+60% latency, 5x bad answers) so that each outcome
is decided with room to spare. The actual split of new requests is checked user by user against
GrowthBook's hash (the gateway's sticky assignment), which makes it exact, not statistical."""
import json
import signal
import sqlite3
import sys
import threading
import time
import unittest

sys.dont_write_bytecode = True
import harness  # noqa: E402
from harness import Admin, HookReceiver, Traffic, get, metric_sum, post, run_cli  # noqa: E402

CHAT = "/v1/chat/completions"
STEPS_3 = [{"percent": 10}, {"percent": 50}, {"percent": 100}]
LIVE = ("pending", "shadow", "canary", "awaiting_approval", "paused")


# ---------------------------------------------------------------------------------------------
# GrowthBook's hash (v2), as the gateway's sticky assignment uses it (src/route/growthbook.c)


def _fnv1a(data, h=0x811C9DC5):
    for b in data:
        h ^= b
        h = (h * 0x01000193) & 0xFFFFFFFF
    return h


def gb_hash(seed, key):
    inner = _fnv1a(key.encode(), _fnv1a(seed.encode()))
    return (_fnv1a(str(inner).encode()) % 10000) / 10000.0


def expected_version(user, share, stable="v1", candidate="v2", seed="chat"):
    """The version a sticky user gets under a rollout override: the candidate's bucket is
    [1 - share, 1). None when the user's hash sits on the boundary (float rounding decides)."""
    x = gb_hash(seed, user)
    if abs(x - (1.0 - share)) < 1e-6:
        return None
    return candidate if x >= 1.0 - share else stable


# ---------------------------------------------------------------------------------------------


class RolloutCase(harness.TestCase):
    """Helpers: two simulated versions behind one model `chat`, the admin API, the store."""

    SIM = {"latency_ms": 20, "latency_sigma": 0.1, "bad_answer_rate": 0.05}

    def chat(self, rollout=None, webhooks=None, stable=None, candidate=None, third=False, env=None, token=None,
             **top):
        s1 = self.sim(name="sim-v1", model_id="m1", seed=11, **dict(self.SIM, **(stable or {})))
        s2 = self.sim(name="sim-v2", model_id="m2", seed=22, **dict(self.SIM, **(candidate or {})))
        versions = [harness.version("v1", s1, 100, upstream_model="m1"),
                    harness.version("v2", s2, 0, upstream_model="m2")]
        if third:
            versions.append(harness.version("v3", s2, 0, upstream_model="m2"))
        model = {"name": "chat"}
        if rollout is not None:
            model["rollout"] = rollout
        if webhooks is not None:
            model["webhooks"] = webhooks
        model["versions"] = versions
        top.setdefault("access_log", "off")
        gw = self.gateway([model], env=env, **top)
        return s1, s2, gw, Admin(gw.admin_port, token)

    def traffic(self, gw, **kw):
        kw.setdefault("rate", 200)
        t = Traffic(gw.port, **kw)
        self.addCleanup(t.stop)
        return t.start()

    def receiver(self):
        r = HookReceiver()
        self.addCleanup(r.close)
        return r

    def weights(self, admin):
        r = admin.get("/api/v1/routes")
        self.assertEqual(r.status, 200, r)
        return {v["name"]: round(v["weight"], 6) for v in r.json()["models"][0]["versions"]}

    def metrics(self, admin):
        r = admin.get("/metrics")
        self.assertEqual(r.status, 200, r)
        return harness.parse_metrics(r.body.decode())

    def store(self, gw, sql, *args):
        con = sqlite3.connect("file:%s?mode=ro" % gw.config["store"], uri=True, timeout=5)
        try:
            return con.execute(sql, args).fetchall()
        finally:
            con.close()

    def started(self, admin, model="chat", candidate="v2", **kw):
        r = admin.start(model, candidate, **kw)
        self.assertEqual(r.status, 201, r)
        return r.json()

    def watch(self, admin, ref, until, timeout=30.0):
        """Polls the rollout every 50 ms until until(doc); returns (doc, the distinct (state, step,
        share) seen in order)."""
        seen = []
        deadline = time.monotonic() + timeout
        while True:
            doc = admin.rollout(ref)
            key = (doc["state"], doc["step"], doc["share"])
            if not seen or seen[-1] != key:
                seen.append(key)
            if until(doc):
                return doc, seen
            if time.monotonic() > deadline:
                self.fail("rollout %s: not done within %.0f s; seen %s; last reason %r" %
                          (ref, timeout, seen, doc.get("reason")))
            time.sleep(0.05)

    def assert_split(self, records, share, since=None, until=None, at_least=50):
        """Every answered request sent in [since, until) went where the sticky hash at this candidate
        share sends its user; returns (v1 count, v2 count)."""
        n = {"v1": 0, "v2": 0}
        wrong = []
        for t, user, version, status, _rid, _bad in records:
            if (since is not None and t < since) or (until is not None and t >= until) or status != 200:
                continue
            want = expected_version(user, share)
            if want is None:
                continue
            n[version] = n.get(version, 0) + 1
            if version != want:
                wrong.append((user, version, want))
        self.assertGreaterEqual(n["v1"] + n["v2"], at_least, "too few requests to judge the split: %s" % n)
        self.assertEqual(wrong[:10], [], "%d of %d requests on the wrong version at share %g" %
                         (len(wrong), sum(n.values()), share))
        return n["v1"], n["v2"]

    def stages(self, doc):
        """[(start, end, share)] of the rollout's canary stages, from its state events, in this
        process's monotonic clock (the gateway records wall-clock seconds)."""
        offset = time.monotonic() - time.time()
        out = []
        for e in doc["events"]:
            d = e["detail"] if isinstance(e.get("detail"), dict) else {}
            if e["kind"] != "state" or "share" not in d:
                continue
            if out and out[-1][2] == d["share"]:
                continue
            if out:
                out[-1][1] = e["ts"] + offset
            out.append([e["ts"] + offset, None, d["share"]])
        return [tuple(x) for x in out]

    def assert_stage_splits(self, records, doc, shares, margin=0.15, at_least=20):
        """The requests sent well inside each stage of share in shares went where the sticky hash
        sends them. A stage's start is recorded after its weights are in force; its end is
        recorded when the next swap is decided, so a request sent up to margin seconds before it
        (a stall of the client or the loop) may already have met the next share."""
        stages = {share: (start, end) for start, end, share in self.stages(doc)}
        for share in shares:
            self.assertIn(share, stages, self.stages(doc))
            start, end = stages[share]
            self.assertIsNotNone(end, share)
            self.assert_split(records, share, since=start, until=end - margin, at_least=at_least)

    def assert_only(self, traffic, version, since, n=100, timeout=10):
        traffic.wait_count(n, timeout=timeout, since=since)
        counts = traffic.counts(since=since)
        self.assertGreaterEqual(sum(counts.values()), n, counts)
        self.assertEqual(set(counts), {version}, counts)

    def assert_sticky(self, records, slack=0.1):
        """No user that reached v2 was served by v1 again (requests sent more than slack s later)."""
        first_v2 = {}
        for t, user, version, status, _rid, _bad in sorted(records):
            if status != 200:
                continue
            if version == "v2":
                first_v2.setdefault(user, t)
            elif version == "v1" and user in first_v2 and t > first_v2[user] + slack:
                self.fail("user %s moved back from v2 to v1 (%.3f s later)" % (user, t - first_v2[user]))
        return len(first_v2)


# ---------------------------------------------------------------------------------------------


class Api(RolloutCase):
    def test_start_errors_list_get_and_status(self):
        _s1, _s2, gw, admin = self.chat(rollout={"steps": STEPS_3, "interval_ms": 60000, "min_requests": 20},
                                        third=True)
        # refused starts, each naming what is wrong
        cases = [
            ({"model": "nope", "candidate": "v2"}, 404, "nope"),
            ({"model": "chat", "candidate": "v9"}, 404, "v9"),
            ({"model": "chat", "candidate": "v2", "stable": "v8"}, 404, "v8"),
            ({"model": "chat", "candidate": "v2", "stable": "v2"}, 400, "same version"),
            ({"model": "chat", "candidate": "v2", "spec": {"steps": [{"percent": 50}, {"percent": 10},
                                                                     {"percent": 100}]}}, 400, "steps[1].percent"),
            ({"model": "chat", "candidate": "v2", "spec": {"steps": [10, 50]}}, 400, "steps[1].percent"),
            ({"model": "chat", "candidate": "v2", "spec": {"interval_ms": "fast"}}, 400, "interval_ms"),
            ({"model": "chat", "candidate": "v2", "spec": {"alpha": 0.9}}, 400, "alpha"),
            ({"model": "chat", "candidate": "v2", "spec": {"max_failures": 2, "max_consecutive_failures": 5}}, 400,
             "max_consecutive_failures"),
            ({"model": "chat", "candidate": "v2", "spec": {"bogus": 1}}, 400, "bogus"),
            ({"model": "chat", "candidate": "v2",
              "spec": {"checks": [{"name": "latency", "kind": "value", "tolerance": -1}]}}, 400,
             "checks[0].tolerance"),
            ({"model": "chat", "candidate": "v2", "spec": [1]}, 400, "spec"),
            ({"model": "chat"}, 400, "candidate"),
            ({"model": "chat", "candidate": "v2", "colour": "red"}, 400, "colour"),
        ]
        for body, status, needle in cases:
            r = admin.post("/api/v1/rollouts", body)
            err = harness.assert_openai_error(self, r, status)
            self.assertIn(needle, err["message"], (body, err))
        r = harness.call(gw.admin_port, "POST", "/api/v1/rollouts", b"{not json")
        harness.assert_openai_error(self, r, 400)
        r = harness.call(gw.admin_port, "PUT", "/api/v1/rollouts", {"model": "chat", "candidate": "v2"})
        harness.assert_openai_error(self, r, 405)
        self.assertEqual(admin.get("/api/v1/rollouts").json(), {"rollouts": []})
        self.assertEqual(self.store(gw, "SELECT count(*) FROM rollouts"), [(0,)])

        # a start: 201 with the rollout, the request's spec fields merged over the model's section
        doc = self.started(admin, spec={"min_requests": 25})
        for k, v in {"model": "chat", "stable": "v1", "candidate": "v2", "state": "canary", "step": 0,
                     "steps": 3, "share": 0.1, "shadow_share": 0, "failures": 0, "consecutive_failures": 0,
                     "judgment_count": 0, "ended_at": None, "last_judgment": None}.items():
            self.assertEqual(doc.get(k), v, (k, doc))
        rid = doc["id"]
        self.assertIsInstance(rid, int)
        self.assertAlmostEqual(doc["created_at"], time.time(), delta=30)

        # a second active rollout of the model is refused, and so is any start while it lasts
        r = admin.start("chat", "v3")
        self.assertIn("active rollout", harness.assert_openai_error(self, r, 409)["message"])

        # get by id and by model: the same rollout, with its spec, judgments and events
        by_id, by_model = admin.rollout(rid), admin.rollout("chat")
        self.assertEqual(by_id["id"], rid)
        self.assertEqual(by_model["id"], rid)
        spec = by_id["spec"]
        self.assertEqual([s["percent"] for s in spec["steps"]], [10, 50, 100])
        self.assertEqual(spec["interval_ms"], 60000)  # from the model's rollout section
        self.assertEqual(spec["min_requests"], 25)  # from the request
        self.assertEqual(by_id["judgments"], [])
        kinds = [e["kind"] for e in by_id["events"]]
        self.assertIn("started", kinds)
        for e in by_id["events"]:
            self.assertIsInstance(e["ts"], (int, float))
        for ref in ("999", "nomodel"):
            harness.assert_openai_error(self, admin.get("/api/v1/rollouts/" + ref), 404)
        harness.assert_openai_error(self, admin.post("/api/v1/rollouts/%d/explode" % rid), 404)
        harness.assert_openai_error(self, admin.post("/api/v1/rollouts/nomodel/pause"), 404)

        # list and its filters
        lst = admin.get("/api/v1/rollouts").json()["rollouts"]
        self.assertEqual([x["id"] for x in lst], [rid])
        self.assertEqual(len(admin.get("/api/v1/rollouts?model=chat").json()["rollouts"]), 1)
        self.assertEqual(admin.get("/api/v1/rollouts?model=other").json()["rollouts"], [])
        for bad in ("0", "abc", "1001"):
            harness.assert_openai_error(self, admin.get("/api/v1/rollouts?limit=" + bad), 400)

        # the route table, the status view and the metrics all show the candidate at 10%
        self.assertEqual(self.weights(admin), {"v1": 0.9, "v2": 0.1, "v3": 0})
        st = admin.get("/api/v1/status")
        self.assertEqual(st.status, 200, st)
        m = st.json()["models"][0]
        self.assertEqual(m["name"], "chat")
        self.assertEqual({v["name"]: v["weight"] for v in m["versions"]}, {"v1": 0.9, "v2": 0.1, "v3": 0})
        self.assertEqual(m["rollout"]["id"], rid)
        self.assertEqual(m["rollout"]["state"], "canary")
        samples = self.metrics(admin)
        self.assertEqual(metric_sum(samples, "sluice_route_weight", model="chat", version="v2"), 0.1)
        self.assertEqual(metric_sum(samples, "sluice_rollout_candidate_share", model="chat", candidate="v2",
                                    state="canary"), 0.1)

        # once it ends, a new rollout may start; ids are never reused; the list is newest first
        r = admin.act("chat", "abort")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["state"], "aborted")
        self.assertIsNotNone(r.json()["ended_at"])
        doc2 = self.started(admin, candidate="v3")
        self.assertGreater(doc2["id"], rid)
        self.assertEqual(doc2["stable"], "v1")
        lst = admin.get("/api/v1/rollouts").json()["rollouts"]
        self.assertEqual([(x["id"], x["state"]) for x in lst], [(doc2["id"], "canary"), (rid, "aborted")])
        self.assertEqual([x["id"] for x in admin.get("/api/v1/rollouts?limit=1").json()["rollouts"]], [doc2["id"]])
        self.assertEqual(admin.rollout("chat")["id"], doc2["id"])  # a model names its active rollout
        self.assertEqual(admin.rollout(str(rid))["state"], "aborted")  # an ended one is still readable
        self.assertEqual(self.store(gw, "SELECT id, state FROM rollouts ORDER BY id"),
                         [(rid, "aborted"), (doc2["id"], "canary")])

    def test_action_on_unknown_id_is_404(self):
        _s1, _s2, _gw, admin = self.chat(rollout={"interval_ms": 60000})
        self.started(admin)
        harness.assert_openai_error(self, admin.get("/api/v1/rollouts/999"), 404, "rollout_not_found")
        harness.assert_openai_error(self, admin.post("/api/v1/rollouts/999/pause"), 404, "rollout_not_found")

    def test_actions_and_refusals(self):
        _s1, _s2, gw, admin = self.chat(
            rollout={"steps": [{"percent": 10}, {"percent": 50, "require_approval": True}, {"percent": 100}],
                     "interval_ms": 60000, "min_requests": 20}, third=True)
        rid = self.started(admin)["id"]

        def act(action, status, state=None, needle=None):
            r = admin.act(rid, action)
            if status != 200:
                err = harness.assert_openai_error(self, r, status)
                if needle:
                    self.assertIn(needle, err["message"])
                return None
            self.assertEqual(r.status, 200, (action, r))
            doc = r.json()
            if state:
                self.assertEqual(doc["state"], state, (action, doc))
            return doc

        act("approve", 409, needle="cannot apply 'approve': rollout is canary")
        act("resume", 409, needle="rollout is canary")
        doc = act("pause", 200, "paused")
        self.assertEqual(doc["share"], 0.1)
        act("pause", 409, needle="rollout is paused")
        act("approve", 409)
        self.assertEqual(self.weights(admin)["v2"], 0.1)  # a pause keeps the weights
        doc = act("resume", 200, "canary")
        self.assertEqual((doc["step"], doc["share"]), (0, 0.1))
        self.assertEqual(admin.rollout(rid)["state"], "canary")  # a refusal changed nothing

        # promote by operator: all new traffic on the candidate
        doc = act("promote", 200, "promoted")
        self.assertEqual(doc["share"], 1)
        self.assertIsNotNone(doc["ended_at"])
        self.assertEqual(self.weights(admin), {"v1": 0, "v2": 1, "v3": 0})
        tr = self.traffic(gw, rate=0, threads=2, users=500)
        self.assert_only(tr, "v2", since=None, n=60)
        tr.stop()
        for a in ("pause", "resume", "approve", "promote", "rollback", "abort"):
            act(a, 409, needle="has ended")
        self.assertEqual(admin.rollout(rid)["state"], "promoted")

        # the next rollout moves away from v2, now the stable version; the operator rolls it back
        doc = self.started(admin, candidate="v3")
        self.assertEqual(doc["stable"], "v2")
        self.assertEqual(self.weights(admin), {"v1": 0, "v2": 0.9, "v3": 0.1})
        r = admin.act("chat", "rollback")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["state"], "aborted")  # an operator's rollback is an abort
        self.assertIn("rolled back by operator", r.json()["reason"])
        self.assertEqual(self.weights(admin), {"v1": 0, "v2": 1, "v3": 0})

        # and one more, aborted
        doc = self.started(admin, candidate="v3")
        r = admin.act(doc["id"], "abort")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["state"], "aborted")
        self.assertIn("aborted by operator", r.json()["reason"])
        self.assertEqual(self.weights(admin), {"v1": 0, "v2": 1, "v3": 0})
        tr = self.traffic(gw, rate=0, threads=2, users=500, seed=5)
        self.assert_only(tr, "v2", since=None, n=60)
        tr.stop()

        # every action is in the store's history, refusals are not
        actions = [json.loads(d)["action"] for (d,) in
                   self.store(gw, "SELECT detail_json FROM rollout_events WHERE rollout_id = ? AND kind = 'action' "
                                  "ORDER BY id", rid)]
        self.assertEqual(actions, ["pause", "resume", "promote"])
        self.assertEqual(self.store(gw, "SELECT state FROM rollouts ORDER BY id"),
                         [("promoted",), ("aborted",), ("aborted",)])

    def test_admin_token(self):
        _s1, _s2, gw, admin = self.chat(rollout={"steps": STEPS_3, "interval_ms": 60000},
                                        env={"SLUICE_IT_ADMIN_TOKEN": "tok-3c1e9"},
                                        admin_token_env="SLUICE_IT_ADMIN_TOKEN")
        paths = ["/api/v1/rollouts", "/api/v1/status", "/api/v1/routes", "/metrics", "/api/v1/rollouts/chat"]
        for hdr in (None, {"authorization": "Bearer wrong"}, {"authorization": "Bearer tok-3c1e"},
                    {"authorization": "Bearer tok-3c1e9x"}, {"authorization": "Basic tok-3c1e9"},
                    {"authorization": "tok-3c1e9"}):
            for p in paths:
                r = harness.call(gw.admin_port, "GET", p, headers=hdr)
                harness.assert_openai_error(self, r, 401)
                self.assertEqual(r.headers.get("www-authenticate"), "Bearer", r.headers)
            r = harness.call(gw.admin_port, "POST", "/api/v1/rollouts", {"model": "chat", "candidate": "v2"},
                             headers=hdr)
            harness.assert_openai_error(self, r, 401)
        # /healthz stays open, and the data plane needs no token
        r = get(gw.admin_port, "/healthz")
        self.assertEqual((r.status, r.body), (200, b"ok\n"))
        self.assertEqual(post(gw.port, CHAT, harness.chat_body()).status, 200)
        # nothing was started without the token
        admin = Admin(gw.admin_port, "tok-3c1e9")
        self.assertEqual(admin.get("/api/v1/rollouts").json(), {"rollouts": []})
        # with it, everything answers; the scheme is case-insensitive
        for p in paths[:-1]:
            self.assertEqual(admin.get(p).status, 200, p)
        self.started(admin)
        r = harness.call(gw.admin_port, "GET", "/api/v1/rollouts/chat", headers={"authorization": "bearer tok-3c1e9"})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(admin.act("chat", "pause").status, 200)

    def test_config_refuses_open_admin_without_token(self):
        up = self.sim()
        cases = [
            ({"admin_listen": "0.0.0.0:%d" % harness.free_port()}, "admin_listen"),
            ({"admin_listen": "127.0.0.1:%d" % harness.free_port(), "admin_token_env": "SLUICE_IT_UNSET_VAR"},
             "admin_token_env"),
        ]
        for top, field in cases:
            cfg = dict(top, listen="127.0.0.1:%d" % harness.free_port(), store="off",
                       models=[{"name": "chat", "versions": [harness.version("v1", up, 1)]}])
            path = self.write("bad-%s.yaml" % field, harness.to_yaml(cfg) + "\n")
            p = self.spawn("check-" + field, [harness.BIN, "serve", "-c", path, "--check"])
            self.assertEqual(p.wait(10), 2, p.stderr())
            self.assertIn(field, p.stderr())
        # with a token, a non-loopback admin address is accepted (checked only, never bound)
        cfg = dict(admin_listen="0.0.0.0:%d" % harness.free_port(), admin_token_env="SLUICE_IT_ADMIN_TOKEN",
                   listen="127.0.0.1:%d" % harness.free_port(), store="off",
                   models=[{"name": "chat", "versions": [harness.version("v1", up, 1)]}])
        path = self.write("ok.yaml", harness.to_yaml(cfg) + "\n")
        p = self.spawn("check-ok", [harness.BIN, "serve", "-c", path, "--check"],
                       env={"SLUICE_IT_ADMIN_TOKEN": "t"})
        self.assertEqual(p.wait(10), 0, p.stderr())


# ---------------------------------------------------------------------------------------------


class Canary(RolloutCase):
    def test_bad_candidate_is_rolled_back_with_evidence(self):
        hooks = self.receiver()
        _s1, s2, gw, admin = self.chat(
            rollout={"steps": STEPS_3, "interval_ms": 500, "min_requests": 30, "progress_deadline_ms": 20000},
            webhooks={"on_rollback": hooks.url + "/rollback", "on_promote": hooks.url + "/promote",
                      "timeout_ms": 2000, "retries": 1},
            candidate={"latency_ms": 32, "bad_answer_rate": 0.25})  # +60% latency, 5x bad answers
        tr = self.traffic(gw, users=2000, feedback=1.0, seed=3)
        tr.wait_count(50)
        rid = self.started(admin)["id"]
        doc, seen = self.watch(admin, rid, lambda d: d["state"] not in LIVE, timeout=30)
        self.assertEqual(doc["state"], "rolled_back", (doc["reason"], seen))
        self.assertEqual(max(s[2] for s in seen), 0.1, seen)  # never beyond the first step
        self.assertEqual((doc["share"], doc["step"]), (0, 0))
        self.assertIsNotNone(doc["ended_at"])
        self.assertGreaterEqual(doc["failures"], 2, doc)
        self.assertIn("rolled back", doc["reason"])

        # the weights go back: route table, metrics, and every new request
        self.assertEqual(self.weights(admin), {"v1": 1, "v2": 0})
        samples = self.metrics(admin)
        self.assertEqual(metric_sum(samples, "sluice_route_weight", model="chat", version="v1"), 1)
        self.assertEqual(metric_sum(samples, "sluice_route_weight", model="chat", version="v2"), 0)
        mark = time.monotonic() + 0.05
        self.assert_only(tr, "v1", since=mark, n=150)
        before = s2.stats()["requests"]
        time.sleep(0.3)
        self.assertEqual(s2.stats()["requests"], before)
        tr.stop()

        # the evidence, from the API and straight from the store
        judgments = doc["judgments"]
        fails = [j for j in judgments if j["outcome"] == "fail"]
        self.assertGreaterEqual(len(fails), 2, [j["outcome"] for j in judgments])
        for j in fails:
            self.assertEqual(j["decided_by"], "latency", j["reason"])
            self.assertGreaterEqual(j["requests"]["candidate"], 30)
            lat = {c["name"]: c for c in j["checks"]}["latency"]
            self.assertEqual(lat["verdict"], "fail", lat)
            self.assertTrue(lat["critical"])
            self.assertGreaterEqual(lat["n"]["candidate"], 30)
            self.assertGreater(lat["n"]["stable"], lat["n"]["candidate"])
            self.assertGreater(lat["candidate"], 1.3 * lat["stable"], lat)  # medians
            self.assertGreater(lat["lo"], lat["tolerance"])
            self.assertGreater(lat["hi"], lat["lo"])
            self.assertLessEqual(lat["pvalue"], lat["alpha"])
            self.assertIn("beyond the +5% tolerance", lat["reason"])  # the default latency tolerance
            self.assertEqual(lat["test"], "van_elteren")
            self.assertGreaterEqual(lat["strata"], 1)
        # the feedback reached the judge: the candidate's thumbs-down rate is the higher one
        last = {c["name"]: c for c in judgments[0]["checks"]}["negative_feedback_rate"]
        self.assertGreater(last["n"]["candidate"], 0, last)
        self.assertGreater(last["candidate"], last["stable"], last)
        rows = self.store(gw, "SELECT look, outcome, detail_json FROM judgments WHERE rollout_id = ? ORDER BY id",
                          rid)
        self.assertEqual(len(rows), len(judgments))
        self.assertEqual(sorted(r[0] for r in rows if r[1] == "fail"), sorted(j["look"] for j in fails))
        for look, outcome, detail in rows:
            d = json.loads(detail)
            self.assertEqual((d["look"], d["outcome"]), (look, outcome))
        self.assertEqual(self.store(gw, "SELECT state, candidate_share, ended_at IS NOT NULL FROM rollouts "
                                        "WHERE id = ?", rid), [("rolled_back", 0, 1)])
        self.assertEqual(self.store(gw, "SELECT stable, candidate, candidate_share FROM route_overrides "
                                        "WHERE model = 'chat'"), [("v1", None, 0)])
        states = [json.loads(d)["state"] for (d,) in
                  self.store(gw, "SELECT detail_json FROM rollout_events WHERE rollout_id = ? AND kind = 'state' "
                                 "ORDER BY id", rid)]
        self.assertEqual(states[-1], "rolled_back")
        self.assertNotIn("promoted", states)

        # the rollback notification
        calls = hooks.wait_calls("/rollback", 1)
        _t, _p, body, ctype = calls[0]
        self.assertEqual(ctype, "application/json")
        self.assertEqual((body["event"], body["model"], body["rollout_id"], body["stable"], body["candidate"]),
                         ("rolled_back", "chat", rid, "v1", "v2"))
        self.assertIn("rolled back", body["reason"])
        time.sleep(0.2)
        self.assertEqual(len(hooks.calls_to("/rollback")), 1)
        self.assertEqual(hooks.calls_to("/promote"), [])

        # sluice_feedback_total counts exactly what was posted
        samples = self.metrics(admin)
        for (version, label), n in tr.feedback_posted.items():
            self.assertEqual(metric_sum(samples, "sluice_feedback_total", model="chat", version=version,
                                        label=label), n, (version, label))
        self.assertGreater(tr.feedback_posted.get(("v2", "thumbs_down"), 0), 0)
        self.assertEqual(tr.errors, [])

    def test_refusals_and_safety_flags_reach_the_judge(self):
        """The candidate refuses every second answer (the structured "refusal" field) and leaks the
        guard's canary in one answer of four: refusal_rate (critical) rolls it back, and
        safety_flag_rate (dry run) shows the guard's output flags per version."""
        canary = "CANARY-7f3a9c2e"
        count = iter(range(10 ** 9))

        def candidate(sock, req):
            i = next(count)
            msg = ({"role": "assistant", "content": None, "refusal": "I can't help with that."} if i % 2 == 0 else
                   {"role": "assistant", "content": "the code is " + canary} if i % 4 == 1 else
                   {"role": "assistant", "content": "Blue."})
            body = json.dumps({"id": "c%d" % i, "object": "chat.completion", "created": 1, "model": "m2",
                               "choices": [{"index": 0, "message": msg, "finish_reason": "stop"}],
                               "usage": {"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7}}).encode()
            sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s"
                         % (len(body), body))
            return True

        up = self.scripted(candidate)
        s1 = self.sim(name="sim-v1", model_id="m1", seed=11, **self.SIM)
        checks = [{"name": "refusal_rate", "kind": "rate", "critical": True},
                  {"name": "safety_flag_rate", "kind": "rate", "dry_run": True}]
        model = {"name": "chat",
                 "rollout": {"steps": [{"percent": 50}, {"percent": 100}], "interval_ms": 500, "min_requests": 30,
                             "progress_deadline_ms": 20000, "checks": checks},
                 "versions": [harness.version("v1", s1, 100, upstream_model="m1"),
                              harness.version("v2", up.url, 0, upstream_model="m2")]}
        gw = self.gateway([model], access_log="off", guard={"output": {"action": "flag", "canaries": [canary]}})
        admin = Admin(gw.admin_port)
        tr = self.traffic(gw, users=2000, seed=5)
        tr.wait_count(20)
        rid = self.started(admin)["id"]
        doc, seen = self.watch(admin, rid, lambda d: d["state"] not in LIVE, timeout=30)
        tr.stop()
        self.assertEqual(doc["state"], "rolled_back", (doc["reason"], seen))
        fails = [j for j in doc["judgments"] if j["outcome"] == "fail"]
        self.assertTrue(fails, [j["outcome"] for j in doc["judgments"]])
        j = fails[0]
        self.assertEqual(j["decided_by"], "refusal_rate", j["reason"])
        c = {x["name"]: x for x in j["checks"]}
        self.assertEqual(c["refusal_rate"]["stable"], 0, c["refusal_rate"])
        self.assertGreater(c["refusal_rate"]["candidate"], 0.3, c["refusal_rate"])
        self.assertLess(c["refusal_rate"]["candidate"], 0.7, c["refusal_rate"])
        flags = c["safety_flag_rate"]
        self.assertTrue(flags["dry_run"], flags)
        self.assertEqual(flags["stable"], 0, flags)
        self.assertGreater(flags["candidate"], 0.1, flags)
        self.assertLess(flags["candidate"], 0.4, flags)
        self.assertEqual(tr.errors, [])
        self.assertEqual(up.errors, [])

    def test_good_candidate_is_promoted_through_every_step(self):
        hooks = self.receiver()
        s1, _s2, gw, admin = self.chat(
            rollout={"steps": STEPS_3, "interval_ms": 500, "min_requests": 30, "progress_deadline_ms": 20000},
            webhooks={"on_promote": hooks.url + "/promote", "on_rollback": hooks.url + "/rollback"})
        tr = self.traffic(gw, users=150, feedback=0.5, seed=4)
        tr.wait_count(50)
        rid = self.started(admin)["id"]
        doc, seen = self.watch(admin, rid, lambda d: d["state"] not in LIVE, timeout=40)
        self.assertEqual(doc["state"], "promoted", (doc["reason"], seen))
        self.assertEqual([s[2] for s in seen], [0.1, 0.5, 1], seen)
        self.assertEqual((doc["failures"], doc["share"]), (0, 1))

        # the judgments: a pass closes each step, over the traffic split of that step
        rows = self.store(gw, "SELECT step_index, outcome, detail_json FROM judgments WHERE rollout_id = ? "
                              "ORDER BY id", rid)
        self.assertNotIn("fail", [r[1] for r in rows])
        passes = [(step, json.loads(d)) for step, outcome, d in rows if outcome == "pass"]
        self.assertEqual([p[0] for p in passes], [0, 1], rows)
        for step, j in passes:
            self.assertGreaterEqual(j["requests"]["candidate"], 30)
            lat = {c["name"]: c for c in j["checks"]}["latency"]
            self.assertIn(lat["verdict"], ("pass", "inconclusive"), lat)
        self.assertGreater(passes[0][1]["requests"]["stable"], passes[0][1]["requests"]["candidate"])
        # each step's traffic followed its share, user by user
        self.assert_stage_splits(tr.snapshot(), doc, [0.1, 0.5])

        # everything new goes to the candidate; the old version gets nothing more
        self.assertEqual(self.weights(admin), {"v1": 0, "v2": 1})
        mark = time.monotonic() + 0.05
        self.assert_only(tr, "v2", since=mark, n=150)
        before = s1.stats()["requests"]
        time.sleep(0.3)
        self.assertEqual(s1.stats()["requests"], before)
        tr.stop()
        # users only ever moved to the candidate
        moved = self.assert_sticky(tr.snapshot())
        self.assertGreater(moved, 50)
        body = hooks.wait_calls("/promote", 1)[0][2]
        self.assertEqual((body["event"], body["model"], body["rollout_id"]), ("promoted", "chat", rid))
        self.assertEqual(hooks.calls_to("/rollback"), [])
        self.assertEqual(tr.errors, [])

    def test_require_approval_holds_until_approved(self):
        _s1, _s2, gw, admin = self.chat(
            rollout={"steps": [{"percent": 10}, {"percent": 50, "require_approval": True}, {"percent": 100}],
                     "interval_ms": 400, "min_requests": 20, "progress_deadline_ms": 20000})
        tr = self.traffic(gw, users=3000, seed=6)
        rid = self.started(admin)["id"]
        doc, _ = self.watch(admin, rid, lambda d: d["state"] not in ("canary",), timeout=20)
        self.assertEqual(doc["state"], "awaiting_approval", doc["reason"])
        self.assertEqual((doc["step"], doc["share"]), (1, 0.1))  # waits to enter step 2 at step 1's share
        self.assertIn("approval", doc["reason"])
        njudged = doc["judgments"]
        nrows = self.store(gw, "SELECT count(*) FROM judgments")[0][0]
        t0 = time.monotonic()
        time.sleep(1.6)  # four intervals, with traffic
        t1 = time.monotonic()
        doc = admin.rollout(rid)
        self.assertEqual((doc["state"], doc["step"], doc["share"]), ("awaiting_approval", 1, 0.1))
        self.assertEqual(doc["judgments"], njudged)  # nothing is judged while waiting
        self.assertEqual(self.store(gw, "SELECT count(*) FROM judgments")[0][0], nrows)
        self.assertEqual(self.weights(admin)["v2"], 0.1)
        self.assert_split(tr.snapshot(), 0.1, since=t0, until=t1, at_least=100)
        samples = self.metrics(admin)
        self.assertEqual(metric_sum(samples, "sluice_rollout_candidate_share", model="chat", candidate="v2",
                                    state="awaiting_approval"), 0.1)
        self.assertGreaterEqual(metric_sum(samples, "sluice_rollout_judgments_total", model="chat",
                                           rollout=str(rid), outcome="pass"), 1)

        t_approve = time.monotonic()
        r = admin.act(rid, "approve")
        self.assertEqual(r.status, 200, r)
        self.assertEqual((r.json()["state"], r.json()["step"], r.json()["share"]), ("canary", 1, 0.5))
        self.assertEqual(self.weights(admin)["v2"], 0.5)
        t2 = time.monotonic()
        harness.assert_openai_error(self, admin.act(rid, "approve"), 409)
        doc, seen = self.watch(admin, rid, lambda d: d["state"] not in LIVE, timeout=20)
        self.assertEqual(doc["state"], "promoted", (doc["reason"], seen))
        # each step's traffic followed its share until the promotion
        tr.stop()
        self.assert_stage_splits(tr.snapshot(), doc, [0.1, 0.5])
        began = self.stages(doc)[-2][0]  # step 2 began with the approval
        self.assertGreater(began, t_approve - 0.05)
        self.assertLess(began, t2 + 0.05)

    def test_pause_freezes_and_resume_continues(self):
        _s1, _s2, gw, admin = self.chat(
            rollout={"steps": STEPS_3, "interval_ms": 400, "min_requests": 20, "progress_deadline_ms": 2500})
        tr = self.traffic(gw, users=3000, seed=7)
        tr.wait_count(20)
        rid = self.started(admin)["id"]
        r = admin.act(rid, "pause")
        self.assertEqual(r.status, 200, r)
        self.assertEqual((r.json()["state"], r.json()["share"]), ("paused", 0.1))
        t0 = time.monotonic()
        time.sleep(3.0)  # past the progress deadline and many intervals, with traffic
        t1 = time.monotonic()
        doc = admin.rollout(rid)
        self.assertEqual((doc["state"], doc["step"], doc["share"], doc["judgments"]), ("paused", 0, 0.1, []))
        self.assertEqual(self.store(gw, "SELECT count(*) FROM judgments WHERE rollout_id = ?", rid), [(0,)])
        self.assertEqual(self.weights(admin)["v2"], 0.1)  # paused at its share
        self.assert_split(tr.snapshot(), 0.1, since=t0, until=t1, at_least=200)
        samples = self.metrics(admin)
        self.assertEqual(metric_sum(samples, "sluice_rollout_candidate_share", model="chat", candidate="v2",
                                    state="paused"), 0.1)
        self.assertEqual(metric_sum(samples, "sluice_rollout_judgments_total", rollout=str(rid)), 0)

        r = admin.act(rid, "resume")
        self.assertEqual(r.status, 200, r)
        self.assertEqual((r.json()["state"], r.json()["step"]), ("canary", 0))
        # the pause did not count against the progress deadline: no "no traffic" rollback
        doc, seen = self.watch(admin, rid, lambda d: d["state"] not in LIVE, timeout=30)
        self.assertEqual(doc["state"], "promoted", (doc["reason"], seen))
        self.assertEqual([s[2] for s in seen if s[0] != "paused"], [0.1, 0.5, 1], seen)
        tr.stop()
        self.assertEqual(tr.errors, [])

    def test_no_traffic_rolls_back_at_the_progress_deadline(self):
        _s1, _s2, gw, admin = self.chat(
            rollout={"steps": STEPS_3, "interval_ms": 300, "min_requests": 20, "progress_deadline_ms": 1000})
        rid = self.started(admin)["id"]
        t0 = time.monotonic()
        doc, _ = self.watch(admin, rid, lambda d: d["state"] not in LIVE, timeout=10)
        self.assertGreater(time.monotonic() - t0, 0.7)
        self.assertEqual(doc["state"], "rolled_back")
        self.assertIn("no traffic", doc["reason"])
        self.assertEqual(doc["judgments"], [])
        self.assertEqual(self.weights(admin), {"v1": 1, "v2": 0})


class Detail(RolloutCase):
    """The detailed rollout document (GET /api/v1/rollouts/{id}) after a few judgments."""

    def ramp(self):
        """A rollout whose only check is dry-run (a timed ramp: each judgment passes once
        min_requests candidate requests are in), run to its promotion; returns (gw, admin, id)."""
        _s1, _s2, gw, admin = self.chat(rollout={
            "steps": [{"percent": 20}, {"percent": 40}, {"percent": 60}, {"percent": 100}], "interval_ms": 300,
            "min_requests": 10, "checks": [{"name": "latency", "kind": "value", "dry_run": True}]})
        tr = self.traffic(gw, users=3000, seed=13)
        rid = self.started(admin)["id"]
        doc, seen = self.watch(admin, rid, lambda d: d["state"] not in LIVE, timeout=20)
        tr.stop()
        self.assertEqual(doc["state"], "promoted", (doc["reason"], seen))
        self.assertEqual([j["outcome"] for j in doc["judgments"]], ["pass"] * 3)
        return gw, admin, rid

    def test_judgments_come_latest_first(self):
        """The API lists judgments newest first (docs/CLI.md) and the CLI shows judgments[0] as the latest."""
        gw, admin, rid = self.ramp()
        looks = [j["look"] for j in admin.rollout(rid)["judgments"]]
        self.assertEqual(looks, [3, 2, 1])
        # the CLI shows judgments[0] as the latest judgment
        rc, out, err = run_cli("rollout", "status", str(rid), "--admin", "http://127.0.0.1:%d" % gw.admin_port)
        self.assertEqual(rc, 0, err)
        self.assertIn("latest judgment 3:", out)

    def test_detail_has_each_key_once(self):
        _gw, admin, rid = self.ramp()

        def unique(pairs):
            keys = [k for k, _v in pairs]
            dup = sorted({k for k in keys if keys.count(k) > 1})
            if dup:
                raise AssertionError("duplicate keys %s in one JSON object" % dup)
            return dict(pairs)

        r = admin.get("/api/v1/rollouts/%d" % rid)
        self.assertEqual(r.status, 200, r)
        json.loads(r.body.decode(), object_pairs_hook=unique)


# ---------------------------------------------------------------------------------------------


class Restart(RolloutCase):
    SIM = {"latency_ms": 5, "latency_sigma": 0.1, "bad_answer_rate": 0.05}

    def probe(self, port, users, threads=8):
        """One request per user, in parallel; returns records like Traffic's."""
        out, lock = [], threading.Lock()

        def run(chunk):
            import http.client
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            try:
                for u in chunk:
                    t = time.monotonic()
                    r = harness.post(None, CHAT, harness.chat_body(user=u, max_tokens=2), conn=conn)
                    with lock:
                        out.append((t, u, r.headers.get("x-sluice-version"), r.status, None, False))
            finally:
                conn.close()

        ts = [threading.Thread(target=run, args=(users[i::threads],)) for i in range(threads)]
        for t in ts:
            t.start()
        for t in ts:
            t.join(15)
        return out

    def test_kill9_and_restart_resumes_at_the_recorded_step(self):
        spec = {"steps": [{"percent": 10}, {"percent": 25}, {"percent": 40}, {"percent": 70}, {"percent": 100}],
                "interval_ms": 1000, "min_requests": 30, "progress_deadline_ms": 30000}
        _s1, _s2, gw, admin = self.chat(rollout=spec)
        tr = self.traffic(gw, users=5000, rate=250, seed=8)
        rid = self.started(admin)["id"]
        self.watch(admin, rid, lambda d: d["step"] >= 2 or d["state"] not in LIVE, timeout=30)
        tr.stop()  # the step cannot advance without min_requests new candidate requests
        before = admin.rollout(rid)
        self.assertEqual(before["state"], "canary", before["reason"])
        self.assertGreaterEqual(before["step"], 2)
        self.assertLess(before["step"], 4)
        share = before["share"]
        self.assertEqual(share, spec["steps"][before["step"]]["percent"] / 100)
        self.assertGreaterEqual(len(before["judgments"]), 2)
        rows_before = self.store(gw, "SELECT id, look, outcome, detail_json FROM judgments WHERE rollout_id = ? "
                                     "ORDER BY id", rid)
        self.assertEqual(len(rows_before), len(before["judgments"]))

        gw.signal(signal.SIGKILL)
        self.assertEqual(gw.wait(5), -signal.SIGKILL)
        gw2 = harness.respawn_gateway(gw, "sluice-restarted")
        self.procs.append(gw2)
        after = admin.rollout(rid)
        for k in ("id", "model", "stable", "candidate", "state", "step", "share", "failures", "judgments"):
            self.assertEqual(after[k], before[k], k)
        self.assertAlmostEqual(after["created_at"], before["created_at"], delta=0.01)
        self.assertEqual(admin.rollout("chat")["id"], rid)
        self.assertEqual([j["look"] for j in after["judgments"]], [j["look"] for j in before["judgments"]])
        self.assertEqual(self.store(gw2, "SELECT id, look, outcome, detail_json FROM judgments WHERE rollout_id = ? "
                                         "ORDER BY id", rid), rows_before)
        events_before = [(e["ts"], e["kind"]) for e in before["events"]]
        self.assertEqual([(e["ts"], e["kind"]) for e in after["events"]][:len(events_before)], events_before)
        self.assertEqual(self.weights(admin)["v2"], share)
        self.assertEqual(metric_sum(self.metrics(admin), "sluice_route_weight", model="chat", version="v2"), share)

        # new requests split exactly at that share, user by user
        probe = self.probe(gw2.port, ["probe-%d" % i for i in range(240)])
        self.assertEqual(admin.rollout(rid)["step"], before["step"], "the step moved during the probe")
        v1, v2 = self.assert_split(probe, share, at_least=200)
        self.assertLess(abs(v2 / (v1 + v2) - share), 0.15, (v1, v2))

        # and the rollout carries on to the end, its look count continuing
        tr2 = self.traffic(gw2, users=5000, rate=250, seed=9)
        doc, seen = self.watch(admin, rid, lambda d: d["state"] not in LIVE, timeout=30)
        tr2.stop()
        self.assertEqual(doc["state"], "promoted", (doc["reason"], seen))
        self.assertEqual(seen[0][1], before["step"], seen)
        rows = self.store(gw2, "SELECT look, outcome FROM judgments WHERE rollout_id = ? ORDER BY id", rid)
        self.assertEqual(rows[:len(rows_before)], [(r[1], r[2]) for r in rows_before])
        new_looks = [look for look, outcome in rows[len(rows_before):] if outcome != "insufficient_data"]
        self.assertTrue(new_looks, rows)
        old_looks = [r[1] for r in rows_before if r[2] != "insufficient_data"]
        self.assertGreater(min(new_looks), max(old_looks), rows)
        self.assertIn("resumed", gw2.stderr())


# ---------------------------------------------------------------------------------------------


class Webhooks(RolloutCase):
    def test_pre_start_refusal_aborts_and_consent_starts(self):
        hooks = self.receiver()
        hooks.set_status("/pre", 500)
        _s1, _s2, gw, admin = self.chat(
            rollout={"steps": STEPS_3, "interval_ms": 60000},
            webhooks={"pre_start": hooks.url + "/pre", "timeout_ms": 2000, "retries": 2})
        # a failing receiver is asked again (retries: 2), then its silence is a refusal
        doc = self.started(admin)
        self.assertEqual(doc["state"], "pending")
        self.assertEqual(doc["share"], 0)
        rid = doc["id"]
        doc, _ = self.watch(admin, rid, lambda d: d["state"] != "pending", timeout=10)
        self.assertEqual(doc["state"], "aborted")
        self.assertIn("pre-start webhook refused", doc["reason"])
        self.assertEqual(len(hooks.calls_to("/pre")), 3)
        _t, _p, body, ctype = hooks.calls_to("/pre")[0]
        self.assertEqual(ctype, "application/json")
        self.assertEqual((body["event"], body["model"], body["rollout_id"], body["stable"], body["candidate"]),
                         ("confirm_start", "chat", rid, "v1", "v2"))
        self.assertEqual(self.weights(admin), {"v1": 1, "v2": 0})

        # a 4xx is a clear no: asked once
        hooks.set_status("/pre", 403)
        rid2 = self.started(admin)["id"]
        doc, _ = self.watch(admin, rid2, lambda d: d["state"] != "pending", timeout=10)
        self.assertEqual(doc["state"], "aborted")
        time.sleep(0.5)
        self.assertEqual(len(hooks.calls_to("/pre")), 4)
        self.assertEqual(self.weights(admin), {"v1": 1, "v2": 0})

        # a 2xx starts the rollout
        hooks.set_status("/pre", 200)
        rid3 = self.started(admin)["id"]
        doc, _ = self.watch(admin, rid3, lambda d: d["state"] != "pending", timeout=10)
        self.assertEqual((doc["state"], doc["step"], doc["share"]), ("canary", 0, 0.1))
        self.assertEqual(self.weights(admin)["v2"], 0.1)
        self.assertEqual(hooks.calls_to("/pre")[-1][2]["rollout_id"], rid3)
        results = [json.loads(d)["result"] for (d,) in self.store(
            gw, "SELECT detail_json FROM rollout_events WHERE kind = 'webhook' ORDER BY id")]
        self.assertEqual(results, ["start_refused", "start_refused", "start_confirmed"])

    def test_retries_zero_means_a_single_attempt(self):
        hooks = self.receiver()
        hooks.set_status("/pre", 500)
        _s1, _s2, _gw, admin = self.chat(rollout={"interval_ms": 60000},
                                         webhooks={"pre_start": hooks.url + "/pre", "retries": 0})
        rid = self.started(admin)["id"]
        doc, _ = self.watch(admin, rid, lambda d: d["state"] != "pending", timeout=10)
        self.assertEqual(doc["state"], "aborted")
        time.sleep(0.8)  # a retry would come 200 ms after the first attempt
        self.assertEqual(len(hooks.calls_to("/pre")), 1)

    def webhook_results(self, gw, rid):
        return [json.loads(d)["result"] for (d,) in self.store(
            gw, "SELECT detail_json FROM rollout_events WHERE rollout_id = ? AND kind = 'webhook' ORDER BY id", rid)]

    def test_failing_step_confirmation_holds_the_step(self):
        hooks = self.receiver()
        hooks.set_status("/confirm", 503)
        _s1, _s2, gw, admin = self.chat(
            rollout={"steps": STEPS_3, "interval_ms": 400, "min_requests": 20, "progress_deadline_ms": 20000},
            webhooks={"confirm_step": hooks.url + "/confirm", "on_promote": hooks.url + "/promote",
                      "timeout_ms": 1000, "retries": 1})
        tr = self.traffic(gw, users=3000, seed=10)
        rid = self.started(admin)["id"]
        t0 = time.monotonic()
        deadline = t0 + 20
        while self.webhook_results(gw, rid).count("step_failed") < 3:  # three confirmations refused
            self.assertLess(time.monotonic(), deadline, self.webhook_results(gw, rid))
            time.sleep(0.05)
        t1 = time.monotonic()
        doc = admin.rollout(rid)
        self.assertEqual((doc["state"], doc["step"], doc["share"]), ("canary", 0, 0.1), doc["reason"])
        self.assertEqual((doc["failures"], doc["consecutive_failures"]), (0, 0))  # a refusal is no failure
        outcomes = [j["outcome"] for j in doc["judgments"]]
        self.assertGreaterEqual(outcomes.count("pass"), 3, outcomes)  # judged again after each refusal
        self.assertNotIn("fail", outcomes)
        calls = hooks.calls_to("/confirm")
        self.assertGreaterEqual(len(calls), 3)
        for _t, _p, body, ctype in calls:
            self.assertEqual(ctype, "application/json")
            self.assertEqual((body["event"], body["model"], body["rollout_id"], body["step"]),
                             ("confirm_step", "chat", rid, 1))
        self.assertEqual(self.weights(admin)["v2"], 0.1)
        self.assert_split(tr.snapshot(), 0.1, since=t0, until=t1, at_least=100)

        # once the receiver agrees, the rollout moves on, confirming each step, to the promotion
        hooks.set_status("/confirm", 200)
        doc, seen = self.watch(admin, rid, lambda d: d["state"] not in LIVE, timeout=30)
        tr.stop()
        self.assertEqual(doc["state"], "promoted", (doc["reason"], seen))
        self.assertEqual([s[2] for s in seen], [0.1, 0.5, 1], seen)
        self.assertEqual(doc["failures"], 0)
        steps = [c[2]["step"] for c in hooks.calls_to("/confirm")]
        self.assertEqual(steps[-1], 2, steps)  # the promotion itself was confirmed
        self.assertIn(1, steps)
        body = hooks.wait_calls("/promote", 1)[0][2]
        self.assertEqual((body["event"], body["rollout_id"]), ("promoted", rid))
        results = self.webhook_results(gw, rid)
        self.assertEqual(results[-2:], ["step_ok", "step_ok"], results)

    def test_notifications_on_operator_promote_and_rollback(self):
        hooks = self.receiver()
        _s1, _s2, gw, admin = self.chat(
            rollout={"steps": STEPS_3, "interval_ms": 60000}, third=True,
            webhooks={"on_promote": hooks.url + "/promote", "on_rollback": hooks.url + "/rollback"})
        rid = self.started(admin)["id"]
        self.assertEqual(admin.act(rid, "promote").status, 200)
        body = hooks.wait_calls("/promote", 1)[0][2]
        self.assertEqual((body["event"], body["model"], body["rollout_id"], body["stable"], body["candidate"]),
                         ("promoted", "chat", rid, "v1", "v2"))
        self.assertIn("operator", body["reason"])
        rid2 = self.started(admin, candidate="v3")["id"]
        self.assertEqual(admin.act(rid2, "rollback").status, 200)
        body = hooks.wait_calls("/rollback", 1)[0][2]
        self.assertEqual((body["event"], body["model"], body["rollout_id"], body["stable"], body["candidate"]),
                         ("rolled_back", "chat", rid2, "v2", "v3"))
        # an abort goes to on_rollback too, its event saying which
        rid3 = self.started(admin, candidate="v3")["id"]
        self.assertEqual(admin.act(rid3, "abort").status, 200)
        body = hooks.wait_calls("/rollback", 2)[1][2]
        self.assertEqual((body["event"], body["rollout_id"]), ("aborted", rid3))
        time.sleep(0.3)
        self.assertEqual(len(hooks.calls_to("/promote")), 1)
        self.assertEqual(len(hooks.calls_to("/rollback")), 2)


# ---------------------------------------------------------------------------------------------


class Shadow(RolloutCase):
    def test_shadow_stage_mirrors_and_is_judged(self):
        _s1, s2, gw, admin = self.chat(
            rollout={"shadow_share": 0.5, "steps": [{"percent": 50, "require_approval": True}, {"percent": 100}],
                     "interval_ms": 1000, "min_requests": 20, "progress_deadline_ms": 20000})
        doc = self.started(admin)
        rid = doc["id"]
        self.assertEqual((doc["state"], doc["share"], doc["shadow_share"]), ("shadow", 0, 0.5))
        self.assertEqual(self.weights(admin), {"v1": 1, "v2": 0})  # users see only stable
        tr = self.traffic(gw, users=3000, seed=12)
        doc, _ = self.watch(admin, rid, lambda d: d["state"] != "shadow", timeout=15)
        tr.stop()
        self.assertEqual(doc["state"], "awaiting_approval", doc["reason"])
        self.assertEqual(doc["share"], 0)
        j = doc["judgments"][0]
        self.assertEqual(j["outcome"], "pass", j["reason"])
        self.assertGreaterEqual(j["requests"]["candidate"], 20)
        # the mirrors reached the candidate, about half of stable's requests; clients only saw v1
        answered = tr.counts()
        self.assertEqual(set(answered), {"v1"}, answered)
        total = sum(answered.values())
        mirrored = s2.stats()["requests"]
        self.assertGreater(mirrored, 0.3 * total, (mirrored, total))
        self.assertLess(mirrored, 0.7 * total + 20, (mirrored, total))
        r = admin.act(rid, "approve")
        self.assertEqual(r.status, 200, r)
        self.assertEqual((r.json()["state"], r.json()["share"], r.json()["shadow_share"]), ("canary", 0.5, 0))


# ---------------------------------------------------------------------------------------------


class Cli(RolloutCase):
    def cli(self, admin_port, *args, env=None):
        return run_cli(*(list(args) + ["--admin", "http://127.0.0.1:%d" % admin_port]), env=env)

    def test_rollout_commands_and_status(self):
        _s1, _s2, gw, admin = self.chat(rollout={"interval_ms": 60000}, third=True)
        ap = gw.admin_port

        rc, out, err = self.cli(ap, "status")
        self.assertEqual(rc, 0, err)
        self.assertRegex(out, r"(?m)^MODEL\s+VERSION\s+ROLE\s+WEIGHT\s+ROLLOUT\s+LATEST VERDICT")
        self.assertRegex(out, r"(?m)^chat\s+v1\s+100\.0%\s+-\s+-")

        # start, with the spec from flags; a refused spec names its field
        rc, out, err = self.cli(ap, "rollout", "start", "chat", "v2", "--steps", "10,50,100", "--interval", "60s",
                                "--min-requests", "20", "--approve-at", "50")
        self.assertEqual(rc, 0, err)
        self.assertRegex(out, r"^rollout \d+ \(chat: v1 → v2\) started, now canary, step 1, candidate 10%")
        rid = admin.rollout("chat")["id"]
        spec = admin.rollout(rid)["spec"]
        self.assertEqual([(s["percent"], s["require_approval"]) for s in spec["steps"]],
                         [(10, False), (50, True), (100, False)])
        self.assertEqual((spec["interval_ms"], spec["min_requests"]), (60000, 20))
        rc, out, err = self.cli(ap, "rollout", "start", "chat", "v3")
        self.assertEqual(rc, 1)
        self.assertIn("active rollout", err)
        rc, out, err = self.cli(ap, "rollout", "start", "chat", "v9")
        self.assertEqual(rc, 1)
        self.assertIn("v9", err)

        # status: the list, one rollout, and JSON
        rc, out, err = self.cli(ap, "rollout", "status")
        self.assertEqual(rc, 0, err)
        self.assertRegex(out, r"(?m)^\s*%d\s+chat\s+v1 → v2\s+canary\s+1\s+10%%" % rid)
        rc, out, err = self.cli(ap, "rollout", "status", "chat")
        self.assertEqual(rc, 0, err)
        self.assertIn("rollout %d: chat v1 → v2" % rid, out)
        self.assertRegex(out, r"(?m)^  state\s+canary, step 1/3, candidate 10%")
        self.assertRegex(out, r"(?m)^  plan\s+\[10%\] → 50% \(approval\) → 100%")
        self.assertIn("no judgment yet", out)
        rc, out, err = self.cli(ap, "rollout", "status", str(rid), "--json")
        self.assertEqual(rc, 0, err)
        doc = json.loads(out)
        self.assertEqual((doc["id"], doc["state"], doc["share"]), (rid, "canary", 0.1))
        self.assertIn("spec", doc)
        rc, out, err = self.cli(ap, "rollout", "status", "--json")
        self.assertEqual(rc, 0, err)
        self.assertEqual([r["id"] for r in json.loads(out)["rollouts"]], [rid])
        rc, out, err = self.cli(ap, "rollout", "status", "404404")
        self.assertEqual(rc, 1)
        rc, out, err = self.cli(ap, "status")
        self.assertEqual(rc, 0, err)
        self.assertRegex(out, r"(?m)^chat\s+v1\s+stable\s+90\.0%%\s+#%d canary, step 1, candidate 10%%" % rid)
        self.assertRegex(out, r"(?m)^\s+v2\s+candidate\s+10\.0%")

        # actions, and refused ones (exit 1 with the gateway's reason)
        rc, out, err = self.cli(ap, "rollout", "pause", "chat")
        self.assertEqual(rc, 0, err)
        self.assertRegex(out, r"^rollout %d \(chat: v1 → v2\) is now paused" % rid)
        rc, out, err = self.cli(ap, "rollout", "pause", "chat")
        self.assertEqual(rc, 1)
        self.assertIn("paused", err)
        rc, out, err = self.cli(ap, "rollout", "approve", str(rid))
        self.assertEqual(rc, 1)
        rc, out, err = self.cli(ap, "rollout", "resume", str(rid))
        self.assertEqual(rc, 0, err)
        self.assertIn("is now canary", out)
        rc, out, err = self.cli(ap, "rollout", "resume", "chat", "--json")
        self.assertEqual(rc, 1)
        rc, out, err = self.cli(ap, "rollout", "promote", "chat", "--json")
        self.assertEqual(rc, 0, err)
        self.assertEqual(json.loads(out)["state"], "promoted")
        rc, out, err = self.cli(ap, "status", "--json")
        self.assertEqual(rc, 0, err)
        m = json.loads(out)["models"][0]
        self.assertEqual({v["name"]: v["weight"] for v in m["versions"]}, {"v1": 0, "v2": 1, "v3": 0})
        self.assertIsNone(m["rollout"])
        rc, out, err = self.cli(ap, "status")
        self.assertRegex(out, r"(?m)^\s+v2\s+100\.0%")

        rc, out, err = self.cli(ap, "rollout", "start", "chat", "v3", "--steps", "20,100")
        self.assertEqual(rc, 0, err)
        self.assertIn("(chat: v2 → v3) started, now canary, step 1, candidate 20%", out)
        rc, out, err = self.cli(ap, "rollout", "rollback", "chat")
        self.assertEqual(rc, 0, err)
        self.assertIn("is now aborted", out)
        self.assertIn("rolled back by operator", out)
        rc, out, err = self.cli(ap, "rollout", "start", "chat", "v3")
        self.assertEqual(rc, 0, err)
        rc, out, err = self.cli(ap, "rollout", "abort", "chat")
        self.assertEqual(rc, 0, err)
        self.assertIn("is now aborted", out)
        rc, out, err = self.cli(ap, "rollout", "abort", "chat")
        self.assertEqual(rc, 1)
        self.assertIn("ended", err)
        rc, out, err = self.cli(ap, "rollout", "status", "--model", "chat", "--limit", "2", "--json")
        self.assertEqual(rc, 0, err)
        self.assertEqual([r["state"] for r in json.loads(out)["rollouts"]], ["aborted", "aborted"])
        self.assertEqual(self.weights(admin), {"v1": 0, "v2": 1, "v3": 0})

        # a refused spec, bad usage, and no gateway
        rc, out, err = self.cli(ap, "rollout", "start", "chat", "v3", "--steps", "50,10,100")
        self.assertIn(rc, (1, 2))
        self.assertIn("steps", err)
        rc, out, err = self.cli(ap, "rollout", "start", "chat")
        self.assertEqual(rc, 2, err)
        rc, out, err = self.cli(ap, "rollout", "status", "--colour")
        self.assertEqual(rc, 2, err)
        rc, out, err = run_cli("status", "--admin", "http://10.0.0.5:9090")
        self.assertEqual(rc, 2, err)
        self.assertIn("--allow-remote", err)
        rc, out, err = run_cli("status", "--admin", "http://127.0.0.1:%d" % harness.free_port())
        self.assertEqual(rc, 1, err)
        self.assertIn("cannot reach", err)
        self.assertEqual(len(admin.get("/api/v1/rollouts").json()["rollouts"]), 3)

    def test_cli_with_admin_token(self):
        _s1, _s2, gw, admin = self.chat(rollout={"interval_ms": 60000}, env={"SLUICE_IT_ADMIN_TOKEN": "tok-77"},
                                        admin_token_env="SLUICE_IT_ADMIN_TOKEN", token="tok-77")
        ap = gw.admin_port
        rc, out, err = self.cli(ap, "status")
        self.assertEqual(rc, 1)
        self.assertIn("token", err)
        rc, out, err = self.cli(ap, "status", env={"SLUICE_ADMIN_TOKEN": "nope"})
        self.assertEqual(rc, 1)
        self.assertIn("refused the token", err)
        rc, out, err = self.cli(ap, "status", "--token-env", "MY_TOKEN")
        self.assertEqual(rc, 2, err)  # the variable is not set
        rc, out, err = self.cli(ap, "rollout", "start", "chat", "v2", "--token-env", "MY_TOKEN",
                                env={"MY_TOKEN": "tok-77"})
        self.assertEqual(rc, 0, err)
        self.assertIn("started", out)
        rc, out, err = self.cli(ap, "status", env={"SLUICE_ADMIN_TOKEN": "tok-77"})
        self.assertEqual(rc, 0, err)
        self.assertIn("canary", out)
        self.assertNotIn("tok-77", out + err)


if __name__ == "__main__":
    unittest.main(verbosity=2)
