"""POST /v1/feedback on the data plane: a rating (thumbs_up / thumbs_down and/or a numeric score)
for a request the gateway answered, joined to the version that answered it. Checks the answers
(200 with model and version, 404 request_not_found, 409 feedback_exists, 400 for bad bodies),
the counters in /metrics and the rows in the store."""
import http.client
import sqlite3
import sys
import unittest

sys.dont_write_bytecode = True
import harness  # noqa: E402
from harness import chat_body, metric_sum, post  # noqa: E402

CHAT = "/v1/chat/completions"
FEEDBACK = "/v1/feedback"


class Feedback(harness.TestCase):
    def setUp(self):
        super().setUp()
        s1 = self.sim(name="sim-v1", model_id="m1", max_tokens=2)
        s2 = self.sim(name="sim-v2", model_id="m2", max_tokens=2, seed=2)
        self.gw = self.gateway({"chat": [harness.version("v1", s1, 50, upstream_model="m1"),
                                         harness.version("v2", s2, 50, upstream_model="m2")]}, access_log="off")
        self.conn = http.client.HTTPConnection("127.0.0.1", self.gw.port, timeout=10)
        self.addCleanup(self.conn.close)

    def answered(self, n, prefix="u"):
        """n chat requests from different users: [(request id, version)]."""
        out = []
        for i in range(n):
            r = post(None, CHAT, chat_body(user="%s-%d" % (prefix, i)), conn=self.conn)
            self.assertEqual(r.status, 200, r)
            rid = r.headers.get("x-sluice-request-id")
            self.assertRegex(rid or "", r"^[0-9a-f]{32}$")
            out.append((rid, r.headers["x-sluice-version"]))
        return out

    def rate(self, body):
        return harness.call(self.gw.port, "POST", FEEDBACK, body, conn=self.conn)

    def store_rows(self):
        con = sqlite3.connect("file:%s?mode=ro" % self.gw.config["store"], uri=True, timeout=5)
        try:
            return con.execute("SELECT request_id, model, version, label, score, metric FROM feedback "
                               "ORDER BY id").fetchall()
        finally:
            con.close()

    def test_feedback_is_joined_to_the_version_that_answered(self):
        reqs = self.answered(60)
        self.assertEqual({v for _r, v in reqs}, {"v1", "v2"})
        want = {}  # (version, label) -> count
        scores = {}  # version -> [scores]
        expected_rows = []
        for i, (rid, version) in enumerate(reqs):
            if i % 4 == 3:
                continue  # left unrated
            body = {"request_id": rid}
            label = score = metric = None
            if i % 4 in (0, 1):
                label = "thumbs_up" if i % 4 == 0 else "thumbs_down"
                body["label"] = label
                want[(version, label)] = want.get((version, label), 0) + 1
            if i % 4 in (1, 2):
                score = float(i % 5)
                body["score"] = i % 5
                scores.setdefault(version, []).append(score)
            if i % 8 == 2:
                metric = "helpfulness"
                body["metric"] = metric
            r = self.rate(body)
            self.assertEqual(r.status, 200, (body, r))
            self.assertTrue(r.headers.get("content-type", "").startswith("application/json"), r.headers)
            doc = r.json()
            self.assertEqual((doc["request_id"], doc["model"], doc["version"]), (rid, "chat", version))
            self.assertIs(doc.get("recorded"), True)
            expected_rows.append((rid, "chat", version, label, score, metric))

            # a second rating of the same request is refused, whatever it says
            again = self.rate({"request_id": rid, "label": "thumbs_down"})
            harness.assert_openai_error(self, again, 409, "feedback_exists")

        samples = self.gw.metrics()
        for version in ("v1", "v2"):
            for label in ("thumbs_up", "thumbs_down"):
                self.assertEqual(metric_sum(samples, "sluice_feedback_total", model="chat", version=version,
                                            label=label), want.get((version, label), 0), (version, label))
            self.assertEqual(metric_sum(samples, "sluice_feedback_scores_total", model="chat", version=version),
                             len(scores.get(version, [])), version)
            if scores.get(version):
                self.assertAlmostEqual(metric_sum(samples, "sluice_feedback_score_mean", model="chat",
                                                  version=version),
                                       sum(scores[version]) / len(scores[version]), places=9)
        # a rating is not a model request
        self.assertEqual(metric_sum(samples, "sluice_requests_total"), len(reqs))
        self.assertEqual(self.store_rows(), expected_rows)

    def test_unknown_repeated_and_malformed(self):
        (rid, version), = self.answered(1)
        # unknown ids: never issued, not an id at all, the id of a feedback answer, of a request with
        # no version (unknown model)
        fb = self.rate({"request_id": "0123456789abcdef0123456789abcdef", "label": "thumbs_up"})
        harness.assert_openai_error(self, fb, 404, "request_not_found")
        harness.assert_openai_error(self, self.rate({"request_id": "abc", "label": "thumbs_up"}), 404,
                                    "request_not_found")
        own = fb.headers.get("x-sluice-request-id")
        self.assertRegex(own or "", r"^[0-9a-f]{32}$")
        harness.assert_openai_error(self, self.rate({"request_id": own, "label": "thumbs_up"}), 404,
                                    "request_not_found")
        nomodel = post(None, CHAT, chat_body(model="nope"), conn=self.conn)
        self.assertEqual(nomodel.status, 404)
        harness.assert_openai_error(self, self.rate({"request_id": nomodel.headers["x-sluice-request-id"],
                                                     "label": "thumbs_up"}), 404, "request_not_found")

        # malformed bodies: 400, and none of them uses up the request's one rating
        bad = [
            b"",
            b"not json",
            b"[]",
            b'"thumbs_up"',
            b'{"request_id": "%s", "label": "thumbs_up"} trailing' % rid.encode(),
            b'{"request_id": "%s", "label": "thumbs_up"}{}' % rid.encode(),
            {"label": "thumbs_up"},
            {"request_id": 12345, "label": "thumbs_up"},
            {"request_id": None, "label": "thumbs_up"},
            {"request_id": rid},
            {"request_id": rid, "label": "meh"},
            {"request_id": rid, "label": None},
            {"request_id": rid, "label": 1},
            {"request_id": rid, "score": "4"},
            {"request_id": rid, "score": True},
            {"request_id": rid, "label": "thumbs_up", "comment": "great"},
            {"request_id": rid, "score": 1, "metric": ""},
            {"request_id": rid, "score": 1, "metric": "m" * 48},
            {"request_id": rid, "score": 1, "metric": 7},
            b'{"request_id": "%s", "score": 1e400}' % rid.encode(),
            {"request_id": rid, "label": "thumbs_up", "pad": "x" * 70000},
        ]
        for body in bad:
            r = self.rate(body)
            harness.assert_openai_error(self, r, 400)
        r = harness.call(self.gw.port, "GET", FEEDBACK, conn=self.conn)
        harness.assert_openai_error(self, r, 405)

        r = self.rate({"request_id": rid, "label": "thumbs_down", "score": 0.5, "metric": "m" * 47})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["version"], version)
        harness.assert_openai_error(self, self.rate({"request_id": rid, "score": 1}), 409, "feedback_exists")
        samples = self.gw.metrics()
        self.assertEqual(metric_sum(samples, "sluice_feedback_total", label="thumbs_down"), 1)
        self.assertEqual(metric_sum(samples, "sluice_feedback_total", label="thumbs_up"), 0)
        self.assertEqual(self.store_rows(), [(rid, "chat", version, "thumbs_down", 0.5, "m" * 47)])


if __name__ == "__main__":
    unittest.main(verbosity=2)
