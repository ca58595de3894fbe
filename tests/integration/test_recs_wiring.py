"""Recommendation metrics beyond the recommendation monitor, end to end with real processes:
`sluice sim --recs` recommenders behind a gateway and `sluice load --recs` users posting slates
to /v1/recs and interactions to /v1/events.

- The canary judge: a rollout whose checks are recs_repetition (critical) and recs_ctr rolls
  back a candidate that shows users the same slate again and again, with the judge's evidence
  naming recs_repetition.
- The drift monitor: the slate features (recs_diversity, recs_novelty, recs_repetition,
  recs_ctr) are tested like request features and the recs_ctr / recs_negative_rate signals
  are reported.
- Experiments: a slate's repetition and diversity reach them as events of its user, so a ratio
  metric "event:recs_repetition" over "event:recs_repeat_slates" tells the variants apart.
- The retraining trigger: `drift.retrain.when: ["recs_repetition > 0.5"]` posts one
  Kubeflow-shaped create-run call (cooldown) once a recommendation window of the repeating
  version closes (1,000 slates), with the threshold as the reason.

Standard library only; run with Debian's /usr/bin/python3."""
import sys
import threading
import time
import unittest

sys.dont_write_bytecode = True
import harness  # noqa: E402
from harness import Admin, HookReceiver, metric_sum, run_load  # noqa: E402
from test_recs_sim import RecsSim  # noqa: E402

CATALOG = 500


def recs_version(name, sim, weight):
    return harness.version(name, "http://127.0.0.1:%d" % sim.port, weight, upstream_model="recommender")


class RecsWiring(harness.TestCase):
    def load(self, gw, *args, timeout=60):
        return run_load(gw.port, "--recs", "--catalog", CATALOG, "--concurrency", 4, "--rate", 0, *args,
                        timeout=timeout)

    def test_judge_rolls_back_a_repeating_candidate(self):
        good = RecsSim(self, "good", False, CATALOG, 10)
        bad = RecsSim(self, "bad", True, CATALOG, 10)
        gw = self.gateway([{"name": "recommender", "versions": [recs_version("v1", good, 100), recs_version("v2", bad, 0)]}],
                          access_log="off")
        admin = Admin(gw.admin_port)
        spec = {"steps": [{"percent": 50}, {"percent": 100}], "interval_ms": 1000, "min_requests": 30,
                "max_failures": 2, "max_consecutive_failures": 2,
                "checks": [{"name": "recs_repetition", "kind": "value", "critical": True},
                           {"name": "recs_ctr", "kind": "rate", "direction": "decrease_bad", "dry_run": True},
                           {"name": "recs_diversity", "kind": "value", "direction": "decrease_bad",
                            "dry_run": True}]}
        r = admin.start("recommender", "v2", spec=spec)
        self.assertEqual(r.status, 201, r)
        ref = r.json()["id"]
        out = {}
        users = threading.Thread(target=lambda: out.update(
            self.load(gw, "--users", 60, "--duration", 25, "--requests", 4000, "--seed", 3)), daemon=True)
        users.start()
        deadline = time.monotonic() + 40
        doc = admin.rollout(ref)
        while doc["state"] not in ("rolled_back", "promoted", "aborted"):
            self.assertLess(time.monotonic(), deadline, "still %s: %s" % (doc["state"], doc.get("reason")))
            time.sleep(0.1)
            doc = admin.rollout(ref)
        users.join(timeout=60)
        self.assertEqual(doc["state"], "rolled_back", doc.get("reason"))
        fails = [j for j in doc["judgments"] if j["outcome"] == "fail"]
        self.assertGreaterEqual(len(fails), 2, [j["outcome"] for j in doc["judgments"]])
        for j in fails:
            self.assertEqual(j["decided_by"], "recs_repetition", j["reason"])
            checks = {c["name"]: c for c in j["checks"]}
            rep = checks["recs_repetition"]
            self.assertEqual(rep["verdict"], "fail", rep)
            self.assertGreater(rep["candidate"], 0.99, rep)  # the median Jaccard of consecutive slates
            self.assertLess(rep["stable"], 0.5, rep)
            # the CTR of a slate is read at the user's next slate: both sides have trials
            ctr = checks["recs_ctr"]
            self.assertGreater(ctr["n"]["candidate"], 0, ctr)
            self.assertGreater(ctr["n"]["stable"], 0, ctr)
            self.assertNotEqual(checks["recs_diversity"]["verdict"], "no_data", checks["recs_diversity"])
        self.assertEqual(out.get("slates_failed"), 0, out)

    def test_experiment_sees_slate_measures_as_events(self):
        good = RecsSim(self, "good", False, CATALOG, 10)
        bad = RecsSim(self, "bad", True, CATALOG, 10)
        exp = {"key": "rank", "model": "recommender", "unit": "user",
               "variants": [{"key": "control", "version": "v1"}, {"key": "treatment", "version": "v2"}],
               "metrics": [{"name": "repetition", "kind": "ratio", "source": "event:recs_repetition",
                            "denominator": "event:recs_repeat_slates", "direction": "decrease_is_good"},
                           {"name": "diversity", "kind": "ratio", "source": "event:recs_diversity",
                            "denominator": "event:recs_slates"}]}
        gw = self.gateway([{"name": "recommender", "versions": [recs_version("v1", good, 50),
                                                                recs_version("v2", bad, 50)]}],
                          access_log="off", experiments=[exp])
        out = self.load(gw, "--users", 100, "--duration", 30, "--requests", 800, "--seed", 9)
        self.assertEqual(out["slates_failed"], 0, out)
        rep = Admin(gw.admin_port).get("/api/v1/experiments/rank").json()
        metrics = {m["name"]: m for m in rep["metrics"]}
        self.assertEqual(set(metrics), {"repetition", "diversity"}, rep)
        arms = {v["variant"]: v for v in metrics["repetition"]["variants"]}
        self.assertGreater(arms["treatment"]["units"], 20, arms)
        self.assertGreater(arms["control"]["units"], 20, arms)
        # per repeat slate: the repeating treatment's users see Jaccard 1 from their second slate on
        # (a user's first slate has no predecessor and sends neither event)
        self.assertAlmostEqual(arms["treatment"]["mean"], 1.0, places=9, msg=arms)
        self.assertLess(arms["control"]["mean"], 0.5, arms)
        # Every repeat slate of the treatment has Jaccard 1, so its per-user ratio has no variance:
        # GrowthBook's engine (and sluice's, which matches it) then gives no verdict; rounding in
        # the per-user sums can leave a tiny variance, and then the verdict is worse.
        self.assertIn(arms["treatment"]["verdict"], ("worse", "no_data"), arms)
        if arms["treatment"]["verdict"] == "worse":
            self.assertGreater(arms["treatment"]["ci"][0], 1, arms)  # relative lift: many times the control's
        div = {v["variant"]: v for v in metrics["diversity"]["variants"]}
        for arm in div.values():  # per slate, in [0, 1] (the sims give every item a category)
            self.assertTrue(0 < arm["mean"] < 1, div)

    def test_drift_features_and_retraining_threshold(self):
        hooks = HookReceiver()
        self.addCleanup(hooks.close)
        bad = RecsSim(self, "bad", True, CATALOG, 10)
        retrain = {"url": hooks.url + "/runs", "pipeline_id": "recs-pipeline", "on": "thresholds",
                   "when": ["recs_repetition > 0.5", "recs_ctr < 0"], "cooldown_s": 3600}
        gw = self.gateway([{"name": "recommender", "versions": [recs_version("v1", bad, 100)]}], access_log="off",
                          drift={"reference_size": 100, "window_size": 100, "retrain": retrain})
        out = self.load(gw, "--users", 80, "--duration", 50, "--requests", 1150, "--seed", 5)
        self.assertEqual(out["slates_failed"], 0, out)
        self.assertGreaterEqual(out["recs"]["posted"], 1100, out)

        runs = hooks.wait_calls("/runs", 1, timeout=10)
        time.sleep(0.3)  # a second call, if any, would be on its way
        runs = hooks.calls_to("/runs")
        self.assertEqual(len(runs), 1, runs)
        params = runs[0][2]["runtime_config"]["parameters"]
        self.assertEqual((params["model"], params["version"]), ("recommender", "v1"), params)
        self.assertRegex(params["reason"], r"^recs_repetition [0-9.e-]+ > 0\.5$")
        self.assertGreater(float(params["reason"].split()[1]), 0.9, params)  # the slates repeat
        self.assertEqual(runs[0][2]["pipeline_version_reference"], {"pipeline_id": "recs-pipeline"})
        gw.wait_stderr(r"drift: recommender/v1: threshold crossed: recs_repetition")

        doc = Admin(gw.admin_port).get("/api/v1/drift").json()
        self.assertIn("recs_repetition", doc["features"])
        v = [x for x in doc["versions"] if (x["model"], x["version"]) == ("recommender", "v1")][0]
        self.assertEqual(v["retrains"], 1, v)
        self.assertGreaterEqual(v["windows"], 5, v)
        tested = {f["name"] for f in v["last"]["features"]}
        for name in ("recs_diversity", "recs_novelty", "recs_repetition", "recs_ctr"):
            self.assertIn(name, tested, v["last"])
        self.assertEqual(set(v["last"]["alarms"]) >= {"recs_ctr", "recs_negative_rate"}, True, v["last"])
        m = gw.metrics()
        self.assertEqual(metric_sum(m, "sluice_retrain_triggers_total", model="recommender", version="v1"), 1)
        self.assertIsNotNone(metric_sum(m, "sluice_drift_alarms_total", model="recommender", version="v1",
                                        signal="recs_negative_rate"))


if __name__ == "__main__":
    unittest.main(verbosity=2)
