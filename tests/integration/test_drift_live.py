"""Live drift monitoring in the gateway, end to end: one `sluice sim` behind model `chat`, a
gateway with small windows (reference 200 requests, then tumbling windows of 200), traffic from
`sluice load`. Checks GET /api/v1/drift, the sluice_drift_* metrics, the drift_reports rows in
the store, the state webhook, the Kubeflow-shaped retraining trigger and its cooldown, the
disabled monitor, configuration errors, and an ADWIN alarm on the error rate.

The prompt mix is either a seeded file of generated English prompts or `sluice load --shift-at
0`, which sends the built-in long Russian prompts from the first request on. The sim answers
after a seeded lognormal delay (20 ms median), so latency features come from the sim rather than
from how busy the machine is. `sluice load` runs a closed loop (--rate 0) with a fixed
--requests count, and the test waits until the monitor has counted exactly that many requests
before the next phase, so windows and phases line up: the 601st request opens window 3.
Standard library only; run with Debian's /usr/bin/python3."""
import json
import os
import random
import sqlite3
import sys
import time
import unittest

sys.dont_write_bytecode = True
import harness  # noqa: E402
from harness import HookReceiver, get, metric_sum  # noqa: E402

REF = 200
WIN = 200
DRIFT = {"reference_size": REF, "window_size": WIN}
# the sim answers after a seeded lognormal delay, streams after a seeded TTFT
SIM = {"latency_ms": 20, "latency_sigma": 0.1, "ttft_ms": 20, "ttft_sigma": 0.1}
# prompt features the built-in Russian set moves with certainty (all-Latin vs all-Cyrillic text,
# about five times longer)
SHIFTED = ("prompt_chars", "script_cyrillic")


# ---------------------------------------------------------------------------------------------
# a seeded mix of varied English prompts


_SUBJECTS = ["the French Revolution", "photosynthesis", "a binary heap", "compound interest", "the Roman Empire",
             "black holes", "TCP congestion control", "sourdough bread", "the stock market", "climate change",
             "quantum computing", "the human heart", "jazz music", "volcanoes", "machine learning",
             "the printing press", "electric cars", "honey bees", "the immune system", "supply and demand",
             "public key cryptography", "the water cycle", "Shakespeare's sonnets", "plate tectonics",
             "the Python GIL", "a hash table", "the Renaissance", "coral reefs", "inflation", "rainbows"]
_AUDIENCES = ["a child", "a new employee", "my grandmother", "a first-year student", "an expert", "a tourist"]
_STYLES = ["in one sentence", "in three bullet points", "in a short paragraph", "as a haiku", "with an example",
           "without jargon", "step by step", "as a dialogue"]
_TEMPLATES = [
    "Explain {s} to {a} {st}.",
    "What is the most surprising fact about {s}?",
    "Write a short poem about {s}.",
    "Summarize the history of {s} {st}.",
    "Give me {n} questions to test my understanding of {s}.",
    "Compare {s} and {s2} {st}.",
    "Why does {s} matter to {a}?",
    "List {n} common misconceptions about {s}.",
    "Draft an email to {a} inviting them to a talk on {s}.",
    "How would you teach {s} to {a} in {n} minutes?",
    "Tell me a joke about {s}.",
    "What are the pros and cons of {s}? Answer {st}.",
]


def english_prompts(n, seed):
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        t = rng.choice(_TEMPLATES)
        s, s2 = rng.sample(_SUBJECTS, 2)
        out.append(t.format(s=s, s2=s2, a=rng.choice(_AUDIENCES), st=rng.choice(_STYLES), n=rng.randint(2, 12)))
    return out


# ---------------------------------------------------------------------------------------------


class DriftCase(harness.TestCase):
    """Helpers: one sim behind `chat`, the drift API, load phases that end on a known count."""

    def setUp(self):
        super().setUp()
        self.seen = 0  # requests the test has sent to chat/v1 (the monitor must count them all)

    def chat_gateway(self, drift=None, **top):
        s = self.sim(name="sim", model_id="sim-model", seed=5, **SIM)
        top.setdefault("access_log", "off")
        gw = self.gateway({"chat": [harness.version("v1", s, 100, upstream_model="sim-model")]},
                          drift=dict(DRIFT, **(drift or {})), **top)
        return s, gw

    def hooks(self):
        h = HookReceiver()
        self.addCleanup(h.close)
        return h

    def prompts_file(self, n=400, seed=7):
        path = os.path.join(self.workdir, "prompts.jsonl")
        with open(path, "w") as f:
            for p in english_prompts(n, seed):
                f.write(json.dumps({"prompt": p}) + "\n")
        return path

    def drift_doc(self, gw):
        r = get(gw.admin_port, "/api/v1/drift", timeout=5)
        self.assertEqual(r.status, 200, r)
        self.assertTrue(r.headers.get("content-type", "").startswith("application/json"), r.headers)
        return r.json()

    def version_doc(self, gw, model="chat", version="v1"):
        doc = self.drift_doc(gw)
        for v in doc["versions"]:
            if v["model"] == model and v["version"] == version:
                return v
        self.fail("%s/%s is not in /api/v1/drift: %r" % (model, version, doc))

    def wait_counted(self, gw, timeout=10.0):
        """Waits until the monitor of chat/v1 has taken every request sent so far (a request is
        counted when the gateway disposes of it, a moment after its last byte); returns its doc."""
        want_windows = max(0, self.seen - REF) // WIN
        want_ref = min(self.seen, REF)
        want_cur = max(0, self.seen - REF) % WIN
        deadline = time.monotonic() + timeout
        while True:
            v = self.version_doc(gw)
            got = (v["reference"], v["windows"], v["current"])
            if got == (want_ref, want_windows, want_cur):
                return v
            if time.monotonic() > deadline:
                self.fail("monitor progress (reference, windows, current) %r, wanted %r after %d requests" %
                          (got, (want_ref, want_windows, want_cur), self.seen))
            time.sleep(0.02)

    def load(self, gw, n, *args, seed=1):
        out = harness.run_load(gw.port, "--model", "chat", "--rate", 0, "--requests", n, "--concurrency", 16,
                               "--seed", seed, *args, timeout=40)
        self.assertEqual(out["total"], n, out)
        self.seen += n
        return out

    def english(self, gw, n, seed=1):
        out = self.load(gw, n, "--prompts", self.english_path, seed=seed)
        self.assertEqual(out["errors"], 0, out)
        return self.wait_counted(gw)

    def russian(self, gw, n, seed=2):
        # --shift-at 0 in a closed loop: every request takes the second (built-in Russian) set
        out = self.load(gw, n, "--prompts", self.english_path, "--shift-at", 0, "--duration", 30, seed=seed)
        self.assertEqual(out["errors"], 0, out)
        return self.wait_counted(gw)

    def features(self, report):
        return {f["name"]: f for f in report["features"]}

    def store_reports(self, gw):
        db = sqlite3.connect("file:%s?mode=ro" % gw.config["store"], uri=True, timeout=5)
        try:
            return db.execute("SELECT model, version, ts, state, detail_json FROM drift_reports ORDER BY id").fetchall()
        finally:
            db.close()


class LiveDrift(DriftCase):
    def setUp(self):
        super().setUp()
        self.english_path = self.prompts_file()

    def check_report_shape(self, rep):
        for k in ("window", "state", "drifted", "tested", "share", "topic", "alarms", "features"):
            self.assertIn(k, rep)
        self.assertIn(rep["state"], ("ok", "warning", "drift"))
        self.assertEqual(set(rep["alarms"]), {"error_rate", "negative_feedback_rate", "latency", "recs_ctr",
                                              "recs_negative_rate"})
        self.assertEqual(rep["drifted"], sum(1 for f in rep["features"] if f["drift"]), rep)
        self.assertEqual(rep["tested"], len(rep["features"]), rep)
        for f in rep["features"]:
            for k in ("name", "test", "statistic", "pvalue", "threshold", "drift"):
                self.assertIn(k, f)
            self.assertIsInstance(f["drift"], bool)

    def test_same_english_mix_does_not_drift(self):
        _, gw = self.chat_gateway()
        self.english(gw, 600)
        doc = self.drift_doc(gw)
        self.assertIs(doc["enabled"], True)
        self.assertEqual((doc["reference_size"], doc["window_size"]), (REF, WIN))
        self.assertEqual(len(doc["versions"]), 1, doc)
        v = doc["versions"][0]
        # Without a multiple-testing correction (Evidently's default) each of the ~16 columns is
        # tested at p < 0.05 every window, so some feature of an unchanged mix drifts by chance
        # in a good share of windows: that makes `warning` (any feature, or the topic test at
        # p < 0.01), never `drift`, which needs half the columns. Few distinct prompts make it
        # likelier still: a window of 200 draws from a small discrete set, with many ties.
        self.assertIn(v["state"], ("ok", "warning"), v)
        self.assertGreaterEqual(v["windows"], 2, v)
        self.assertEqual(v["reference"], REF, v)
        self.assertEqual(v["retrains"], 0, v)
        rep = v["last"]
        self.check_report_shape(rep)
        self.assertEqual(rep["window"], v["windows"])
        self.assertLess(rep["share"], 0.5, rep)
        feats = self.features(rep)
        for name in SHIFTED + ("prompt_tokens", "script_latin", "class_letter", "latency_ms"):
            self.assertIn(name, feats, rep)
        # no Cyrillic on either side: cannot drift, whatever the chance
        self.assertFalse(feats["script_cyrillic"]["drift"], feats["script_cyrillic"])
        self.assertEqual(rep["alarms"], {"error_rate": 0, "negative_feedback_rate": 0, "latency": 0, "recs_ctr": 0,
                                         "recs_negative_rate": 0})

        m = gw.metrics()
        state = metric_sum(m, "sluice_drift_state", model="chat", version="v1")
        self.assertIn(state, (0.0, 1.0))
        self.assertEqual(state, {"ok": 0.0, "warning": 1.0}[v["state"]])
        self.assertEqual(metric_sum(m, "sluice_drift_windows_total", model="chat", version="v1"), v["windows"])
        self.assertEqual(metric_sum(m, "sluice_drift_alarms_total", model="chat", version="v1"), 0)
        self.assertEqual(metric_sum(m, "sluice_retrain_triggers_total", model="chat", version="v1"), 0)
        drifted = [(lb["feature"], lb["test"], x) for n, lb, x in m if n == "sluice_drift_feature_drifted"]
        self.assertEqual(sorted((f["name"], f["test"], 1.0 if f["drift"] else 0.0) for f in rep["features"]),
                         sorted(drifted))

        # a reload keeps the monitor and its reference
        gw.reload()
        v2 = self.version_doc(gw)
        self.assertEqual((v2["reference"], v2["windows"], v2["current"]), (REF, v["windows"], 0), v2)

    def test_unchanged_finish_reason_is_not_drift(self):
        # Every answer ends with finish_reason "length" (max_tokens 32, the sim writes more), in
        # the reference and in every window: the chi-squared/z test must not call that drift.
        # Gateway bug: src/drift/monitor.c side_init seeds the reference's category counts with
        # o->seed and the window's with o->seed + 1000; sl_drift_cats_add hashes keys with the
        # summary's own seed, and pair_exact (src/drift/dataset_cats.c) looks the window's keys
        # up in the reference by that hash, so "length" never matches itself: it is counted as
        # a reference-only and a window-only category (200/0 vs 0/200, z = -20, p ~ 5e-89).
        # finish_reason therefore drifts in every window and the state is never `ok`.
        _, gw = self.chat_gateway()
        self.english(gw, 600)
        rep = self.version_doc(gw)["last"]
        fr = self.features(rep).get("finish_reason")
        self.assertIsNotNone(fr, rep)
        self.assertFalse(fr["drift"], fr)
        self.assertGreater(fr["pvalue"], 0.05, fr)

    def test_russian_prompts_drift_alert_store_and_webhook(self):
        hooks = self.hooks()
        _, gw = self.chat_gateway(drift={"webhook": hooks.url + "/drift"})
        self.english(gw, 600)
        before = self.version_doc(gw)
        self.assertIn(before["state"], ("ok", "warning"), before)
        windows0 = before["windows"]

        # within two windows of Russian prompts the state is `drift`
        self.russian(gw, 2 * WIN)
        v = self.version_doc(gw)
        self.assertEqual(v["windows"], windows0 + 2, v)
        self.assertEqual(v["state"], "drift", v)
        rep = v["last"]
        self.check_report_shape(rep)
        self.assertEqual(rep["state"], "drift")
        self.assertGreaterEqual(rep["share"], 0.5, rep)
        feats = self.features(rep)
        for name in SHIFTED:
            self.assertTrue(feats[name]["drift"], feats[name])
            self.assertLess(feats[name]["pvalue"], feats[name]["threshold"], feats[name])
        self.assertTrue(rep["topic"]["drift"], rep["topic"])

        m = gw.metrics()
        self.assertEqual(metric_sum(m, "sluice_drift_state", model="chat", version="v1"), 2)
        self.assertEqual(metric_sum(m, "sluice_drift_windows_total", model="chat", version="v1"), windows0 + 2)
        for name in SHIFTED:
            self.assertEqual(metric_sum(m, "sluice_drift_feature_drifted", model="chat", version="v1", feature=name),
                             1, name)
        self.assertEqual(metric_sum(m, "sluice_drift_feature_drifted", model="chat", version="v1",
                                    feature="prompt_chars", test="ks"), 1)

        # the store: one row per window, valid JSON, in order, the last ones drift
        rows = self.store_reports(gw)
        self.assertEqual(len(rows), windows0 + 2, rows)
        details = []
        for model, ver, ts, state, detail in rows:
            self.assertEqual((model, ver), ("chat", "v1"))
            self.assertGreater(ts, 1.6e9)
            d = json.loads(detail)
            self.assertEqual(d["state"], state)
            details.append(d)
        self.assertEqual([d["window"] for d in details], list(range(1, windows0 + 3)))
        self.assertEqual(details[-1], rep)
        self.assertEqual(rows[-1][3], "drift")
        # the first window of Russian prompts is already drift
        self.assertEqual(rows[windows0][3], "drift", details[windows0])

        # the webhook: a POST on the change to drift, with the report
        deadline = time.monotonic() + 10
        while not [c for c in hooks.calls_to("/drift") if c[2] and c[2].get("state") == "drift"]:
            self.assertLess(time.monotonic(), deadline, hooks.calls_to("/drift"))
            time.sleep(0.02)
        calls = hooks.calls_to("/drift")
        to_drift = [c[2] for c in calls if c[2] and c[2].get("state") == "drift"]
        self.assertEqual(len(to_drift), 1, calls)
        body = to_drift[0]
        self.assertEqual(body["event"], "drift_state")
        self.assertEqual((body["model"], body["version"]), ("chat", "v1"))
        self.assertIn(body["previous"], ("ok", "warning"))
        self.assertEqual(body["report"]["state"], "drift")
        self.assertEqual(body["report"]["window"], windows0 + 1)
        self.assertTrue(self.features(body["report"])["prompt_chars"]["drift"])
        for c in calls:
            self.assertTrue((c[3] or "").startswith("application/json"), c)
            self.assertEqual(c[2]["event"], "drift_state", c)
        # one POST per change of state, not per window: the second drift window sent nothing
        self.assertEqual(len(calls), len({(c[2]["previous"], c[2]["state"], c[2]["report"]["window"])
                                          for c in calls}), calls)
        self.assertNotIn(windows0 + 2, [c[2]["report"]["window"] for c in calls], calls)
        gw.wait_stderr(r"drift: chat/v1 is now drift")

    def test_retraining_request_once_within_cooldown(self):
        hooks = self.hooks()
        retrain = {"url": hooks.url + "/runs", "pipeline_id": "p-123", "cooldown_s": 3600,
                   "parameters": [{"name": "dataset", "value": "s3://x"}]}
        _, gw = self.chat_gateway(drift={"webhook": hooks.url + "/drift", "retrain": retrain})
        self.english(gw, 600)
        self.assertEqual(hooks.calls_to("/runs"), [])
        # drift, back to English (not drift), drift again: each change to drift asks for a run,
        # but the cooldown lets only the first one through
        self.russian(gw, 3 * WIN)
        first = hooks.wait_calls("/runs", 1)
        self.english(gw, 2 * WIN, seed=3)
        mid = self.version_doc(gw)
        self.assertNotEqual(mid["state"], "drift", mid)
        self.russian(gw, 2 * WIN, seed=4)
        v = self.version_doc(gw)
        self.assertEqual(v["state"], "drift", v)
        # two changes to drift, seen by the state webhook
        deadline = time.monotonic() + 10
        while len([c for c in hooks.calls_to("/drift") if c[2]["state"] == "drift"]) < 2:
            self.assertLess(time.monotonic(), deadline, hooks.calls_to("/drift"))
            time.sleep(0.02)
        time.sleep(0.5)  # a second run request, if any, would be on its way by now
        runs = hooks.calls_to("/runs")
        self.assertEqual(len(runs), 1, runs)
        self.assertEqual(first[0][1], "/runs")
        _, path, body, ctype = runs[0]
        self.assertTrue((ctype or "").startswith("application/json"), ctype)
        self.assertIsInstance(body, dict, runs)
        # Kubeflow Pipelines v2beta1 create-run: display_name, pipeline_version_reference,
        # runtime_config.parameters (a map of name to value)
        self.assertIsInstance(body.get("display_name"), str)
        self.assertTrue(body["display_name"])
        self.assertIn("chat/v1", body["display_name"])
        self.assertEqual(body["pipeline_version_reference"], {"pipeline_id": "p-123"})
        self.assertNotIn("experiment_id", body)
        params = body["runtime_config"]["parameters"]
        self.assertEqual(params, {"model": "chat", "version": "v1", "reason": "drift", "dataset": "s3://x"})
        self.assertEqual(v["retrains"], 1, v)
        m = gw.metrics()
        self.assertEqual(metric_sum(m, "sluice_retrain_triggers_total", model="chat", version="v1"), 1)
        gw.wait_stderr(r"drift: chat/v1: retraining requested \(drift\)")

    def test_error_rate_alarm(self):
        # concept drift: the same prompts, but the sim answers 500 to every request of the second
        # phase (x-sim-fault: error-500, passed through by the gateway): ADWIN on the error rate
        # fires within a few dozen failures (River's defaults: delta 0.002, a check every 32
        # updates). Phases: 300 answered (reference, then half of window 1), 100 failed (the rest
        # of window 1), so window 1 is the last one tested and holds the alarm.
        _, gw = self.chat_gateway()
        self.english(gw, 300)
        m = gw.metrics()
        self.assertEqual(metric_sum(m, "sluice_drift_alarms_total", model="chat", version="v1",
                                    signal="error_rate"), 0)
        out = self.load(gw, 100, "--prompts", self.english_path, "--header", "x-sim-fault: error-500", seed=9)
        self.assertEqual(out["errors"], 100, out)
        v = self.wait_counted(gw)
        self.assertEqual(v["windows"], 1, v)
        m = gw.metrics()
        alarms = metric_sum(m, "sluice_drift_alarms_total", model="chat", version="v1", signal="error_rate")
        self.assertGreaterEqual(alarms, 1)
        self.assertEqual(metric_sum(m, "sluice_drift_alarms_total", model="chat", version="v1", signal="latency"), 0)
        # the window that saw the alarm reports it, and an alarm alone makes it drift (the
        # prompts did not change: no prompt feature drifted)
        rep = v["last"]
        self.assertEqual(rep["alarms"]["error_rate"], alarms, rep)
        self.assertEqual(rep["state"], "drift", rep)
        self.assertEqual(v["state"], "drift", v)
        feats = self.features(rep)
        self.assertFalse(feats["script_cyrillic"]["drift"], rep)
        self.assertLess(rep["share"], 0.5, rep)
        self.assertEqual(metric_sum(m, "sluice_drift_state", model="chat", version="v1"), 2)
        rows = self.store_reports(gw)
        self.assertEqual([r[3] for r in rows], ["drift"], rows)
        self.assertEqual(json.loads(rows[0][4]), rep)


class DriftDisabled(DriftCase):
    def test_disabled_monitors_nothing(self):
        self.english_path = self.prompts_file(n=50)
        _, gw = self.chat_gateway(drift={"enabled": False})
        out = self.load(gw, 300, "--prompts", self.english_path)
        self.assertEqual(out["errors"], 0, out)
        doc = self.drift_doc(gw)
        self.assertIs(doc["enabled"], False, doc)
        self.assertEqual(doc["versions"], [], doc)
        m = gw.metrics()
        for name in ("sluice_drift_state", "sluice_drift_windows_total", "sluice_drift_feature_drifted",
                     "sluice_drift_alarms_total", "sluice_retrain_triggers_total"):
            self.assertEqual([s for s in m if s[0] == name], [], name)
        self.assertEqual(self.store_reports(gw), [])


class DriftConfigErrors(harness.TestCase):
    HEAD = ("listen: 127.0.0.1:%d\nadmin_listen: 127.0.0.1:%d\n"
            "models:\n  - name: chat\n    versions:\n      - name: v1\n"
            "        upstreams: [http://127.0.0.1:9]\n        weight: 1\n")

    # (name, drift section, line of the field, field, reason pattern)
    CASES = [
        ("small_window", "drift:\n  reference_size: 200\n  window_size: 10\n", 11, "drift.window_size",
         r"50"),
        ("small_reference", "drift:\n  reference_size: 49\n", 10, "drift.reference_size", r"50"),
        ("bad_share", "drift:\n  drift_share: 1.5\n", 10, "drift.drift_share", r"share"),
        ("bad_webhook", "drift:\n  webhook: ftp://127.0.0.1/drift\n", 10, "drift.webhook", r"ftp://"),
        ("bad_retrain_url", "drift:\n  retrain:\n    url: ftp://127.0.0.1:8888/runs\n    pipeline_id: p-1\n", 11,
         "drift.retrain.url", r"ftp://127\.0\.0\.1:8888/runs"),
        ("bad_retrain_on", "drift:\n  retrain:\n    url: http://127.0.0.1:8888/runs\n    pipeline_id: p-1\n"
         "    on: always\n", 13, "drift.retrain.on", r"drift"),
        ("bad_threshold_metric", "drift:\n  retrain:\n    url: http://127.0.0.1:8888/runs\n    pipeline_id: p-1\n"
         "    when: [\"recs_ctr < 0.02\", \"recs_happiness < 1\"]\n", 13, "drift.retrain.when[1]",
         r"unknown metric 'recs_happiness'"),
        ("bad_threshold_shape", "drift:\n  retrain:\n    url: http://127.0.0.1:8888/runs\n    pipeline_id: p-1\n"
         "    when: [\"error_rate = 0.1\"]\n", 13, "drift.retrain.when[0]", r"METRIC < NUMBER"),
        ("thresholds_without_when", "drift:\n  retrain:\n    url: http://127.0.0.1:8888/runs\n"
         "    pipeline_id: p-1\n    on: thresholds\n", 10, "drift.retrain.when", r"at least one"),
    ]

    def test_config_errors_exit_2_with_file_line_field(self):
        for name, section, line, field, reason in self.CASES:
            with self.subTest(name):
                port, admin = harness.free_port(), harness.free_port()
                path = self.write(name + ".yaml", self.HEAD % (port, admin) + section)
                p = self.spawn(name, [harness.BIN, "serve", "-c", path])
                rc = p.wait(timeout=5)
                err = p.stderr()
                self.assertEqual(rc, 2, err)
                want = "sluice: %s:%d: field '%s': " % (path, line, field)
                self.assertIn(want, err)
                msg = err[err.index(want) + len(want):].splitlines()[0]
                self.assertRegex(msg, reason)
                self.assertFalse(harness.port_open(port), "an invalid config must not start listening")


if __name__ == "__main__":
    unittest.main(verbosity=2)
