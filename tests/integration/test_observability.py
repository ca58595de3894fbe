"""What the gateway reports: /metrics values match what the client saw (requests per version,
token usage, streams), the exposition passes `promtool check metrics`, and the access log has
one valid JSON line per request with matching ids and neither prompts nor API keys."""
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
import unittest

sys.dont_write_bytecode = True
import harness  # noqa: E402
from harness import chat_body, completion_body, json_events, metric_sum, post, stream

SECRET = "sk-it-%016x" % random.Random(20240601).getrandbits(64)
PROMPT_MARK = "zebra-quartz-lantern"


class Traffic:
    """Sends a fixed mix of requests and keeps what the client saw."""

    def __init__(self, tc, port):
        self.tc = tc
        self.port = port
        self.by_version = {}
        self.by_class = {}
        self.ids = {}  # request id -> (version or None, status)
        self.input_tokens = self.output_tokens = 0
        self.input_count = self.output_count = 0
        self.streams = 0
        self.routed = 0

    def _record(self, status, headers, usage=None):
        rid = headers.get("x-sluice-request-id")
        self.tc.assertTrue(rid, headers)
        self.tc.assertNotIn(rid, self.ids)
        ver = headers.get("x-sluice-version")
        self.ids[rid] = (ver, status)
        if ver:
            self.by_version[ver] = self.by_version.get(ver, 0) + 1
        if usage:
            if isinstance(usage.get("prompt_tokens"), int):
                self.input_tokens += usage["prompt_tokens"]
                self.input_count += 1
            if isinstance(usage.get("completion_tokens"), int):
                self.output_tokens += usage["completion_tokens"]
                self.output_count += 1

    def plain(self, path, body):
        r = post(self.port, path, body)
        self.tc.assertEqual(r.status, 200, r)
        self._record(r.status, r.headers, r.json().get("usage"))
        self.routed += 1

    def streamed(self, path, body):
        s, events = stream(self.port, path, body)
        self.tc.assertEqual(s.status, 200, s.raw)
        self.tc.assertEqual(events[-1], "[DONE]")
        usage = [c["usage"] for c in json_events(events) if c.get("usage")]
        self.tc.assertEqual(len(usage), 1, events)
        self._record(s.status, s.headers, usage[0])
        self.streams += 1
        self.routed += 1

    def error(self, path, body, status, cls):
        r = harness.call(self.port, "POST", path, body, {"content-type": "application/json"})
        self.tc.assertEqual(r.status, status, r)
        self._record(r.status, r.headers)
        self.by_class[cls] = self.by_class.get(cls, 0) + 1

    def run(self, rng):
        usage = {"include_usage": True}
        for i in range(30):
            content = "%s request %d: %s" % (PROMPT_MARK, i, "word " * rng.randrange(1, 40))
            self.plain("/v1/chat/completions", chat_body(content=content, user="u%d" % rng.randrange(10**6),
                                                         max_tokens=rng.randrange(1, 16)))
        for i in range(16):
            self.streamed("/v1/chat/completions", chat_body(content="%s stream %d" % (PROMPT_MARK, i),
                                                            user="s%d" % i, stream=True, stream_options=usage,
                                                            max_tokens=rng.randrange(2, 16)))
        for i in range(8):
            self.plain("/v1/completions", completion_body(prompt="%s completion %d" % (PROMPT_MARK, i),
                                                          user="c%d" % i))
        for i in range(6):
            self.streamed("/v1/completions", completion_body(prompt="%s cs %d" % (PROMPT_MARK, i), user="cs%d" % i,
                                                             stream=True, stream_options=usage))
        for i in range(8):
            self.plain("/v1/embeddings", {"model": "chat", "input": "%s embed %d" % (PROMPT_MARK, i),
                                          "user": "e%d" % i})
        for i in range(4):
            self.error("/v1/chat/completions", json.dumps(chat_body(model="nope", content=PROMPT_MARK)), 404,
                       "unknown_model")
        for i in range(3):
            self.error("/v1/chat/completions", '{"model": "chat", "messages": "%s' % PROMPT_MARK, 400,
                       "invalid_json")


class Metrics(harness.TestCase):
    def setUp(self):
        super().setUp()
        self.v1 = self.sim(name="sim-v1", max_tokens=16)
        self.v2 = self.sim(name="sim-v2", max_tokens=16, seed=2)
        self.gw = self.gateway({"chat": [harness.version("v1", self.v1, 50, api_key_env="SLUICE_IT_KEY"),
                                         harness.version("v2", self.v2, 50, api_key_env="SLUICE_IT_KEY")]},
                               env={"SLUICE_IT_KEY": SECRET})
        self.traffic = Traffic(self, self.gw.port)
        self.traffic.run(random.Random(5))

    def test_metrics_match_what_the_client_saw(self):
        t = self.traffic
        self.assertEqual(set(t.by_version), {"v1", "v2"}, t.by_version)
        samples = self.gw.metrics()
        for ver, n in t.by_version.items():
            self.assertEqual(metric_sum(samples, "sluice_requests_total", model="chat", version=ver), n, ver)
            self.assertEqual(metric_sum(samples, "sluice_requests_total", model="chat", version=ver, status="200"),
                             n, ver)
        self.assertEqual(metric_sum(samples, "gen_ai_client_token_usage_sum", token_type="input"), t.input_tokens)
        self.assertEqual(metric_sum(samples, "gen_ai_client_token_usage_sum", token_type="output"), t.output_tokens)
        self.assertEqual(metric_sum(samples, "gen_ai_client_token_usage_count", token_type="input"), t.input_count)
        self.assertEqual(metric_sum(samples, "gen_ai_client_token_usage_count", token_type="output"),
                         t.output_count)
        self.assertGreater(t.output_tokens, 0)
        self.assertEqual(metric_sum(samples, "gen_ai_server_time_to_first_token_seconds_count"), t.streams)
        self.assertEqual(metric_sum(samples, "gen_ai_server_request_duration_seconds_count", model="chat"),
                         t.routed)
        self.assertEqual(metric_sum(samples, "gen_ai_client_operation_duration_seconds_count", model="chat"),
                         t.routed)
        for cls, n in t.by_class.items():
            self.assertEqual(metric_sum(samples, "sluice_requests_total", error_class=cls), n, cls)
        # all requests, routed or refused, are counted once
        self.assertEqual(metric_sum(samples, "sluice_requests_total"), len(t.ids))
        # per-version token sums are not mixed up between versions: each is positive
        for ver in t.by_version:
            self.assertGreater(metric_sum(samples, "gen_ai_client_token_usage_sum", version=ver,
                                          token_type="input"), 0, ver)

    def test_histograms_are_consistent(self):
        samples = self.gw.metrics()
        hists = {}
        for name, labels, value in samples:
            for suffix in ("_bucket", "_count", "_sum"):
                if name.endswith(suffix):
                    base = name[:-len(suffix)]
                    key = (base, tuple(sorted((k, v) for k, v in labels.items() if k != "le")))
                    h = hists.setdefault(key, {"buckets": [], "count": None, "sum": None})
                    if suffix == "_bucket":
                        le = labels["le"]
                        h["buckets"].append((float("inf") if le == "+Inf" else float(le), value))
                    else:
                        h[suffix[1:]] = value
        self.assertTrue(any(k[0] == "gen_ai_server_time_to_first_token_seconds" for k in hists))
        for key, h in hists.items():
            with self.subTest(key):
                b = h["buckets"]
                self.assertTrue(b, key)
                self.assertEqual([le for le, _ in b], sorted(le for le, _ in b), "bucket order")
                self.assertEqual(b[-1][0], float("inf"))
                counts = [v for _, v in b]
                self.assertEqual(counts, sorted(counts), "buckets must be cumulative")
                self.assertEqual(b[-1][1], h["count"])
                self.assertGreaterEqual(h["sum"], 0)
                if key[0].endswith("_seconds"):
                    self.assertLess(h["sum"], 60 * h["count"] + 1e-9, "implausible durations")

    def test_promtool_accepts_exposition(self):
        promtool = shutil.which("promtool")
        self.assertIsNotNone(promtool, "promtool (Debian package prometheus) is required")
        text = self.gw.metrics_text()
        for family in ("gen_ai_server_request_duration_seconds", "gen_ai_server_time_to_first_token_seconds",
                       "gen_ai_client_token_usage", "gen_ai_client_operation_duration_seconds",
                       "sluice_requests_total", "sluice_route_weight", "sluice_config_generation"):
            self.assertIn("# TYPE %s " % family, text)
        p = subprocess.run([promtool, "check", "metrics"], input=text.encode(), stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=30)
        self.assertEqual(p.returncode, 0, p.stdout.decode("utf-8", "replace"))
        self.assertEqual(p.stdout.strip(), b"", p.stdout.decode("utf-8", "replace"))

    def test_access_log_one_json_line_per_request(self):
        t = self.traffic
        n = len(t.ids)
        deadline = time.monotonic() + 5  # the log is flushed at least once a second
        lines = self.gw.access_log()
        while len(lines) < n and time.monotonic() < deadline:
            time.sleep(0.1)
            lines = self.gw.access_log()
        self.assertEqual(len(lines), n, "expected one line per request")
        records = []
        for line in lines:
            rec = json.loads(line)
            self.assertIsInstance(rec, dict)
            records.append(rec)
        by_id = {r["request_id"]: r for r in records}
        self.assertEqual(len(by_id), n, "request ids repeat in the access log")
        self.assertEqual(set(by_id), set(t.ids))
        for rid, (ver, status) in t.ids.items():
            self.assertEqual(by_id[rid]["status"], status, by_id[rid])
            if ver:
                self.assertEqual(by_id[rid]["version"], ver, by_id[rid])
        with open(self.gw.access_log_path, "rb") as f:
            raw = f.read()
        self.assertNotIn(PROMPT_MARK.encode(), raw, "prompt text leaked into the access log")
        self.assertNotIn(SECRET.encode(), raw, "API key leaked into the access log")
        self.assertNotIn(SECRET, self.gw.stderr())
        self.assertNotIn(SECRET, self.gw.stdout())
        self.assertNotIn(SECRET, self.gw.metrics_text())
        self.assertNotIn(SECRET, json.dumps(self.gw.routes()))

    def test_access_log_flushed_on_exit(self):
        self.gw.signal(signal.SIGTERM)
        self.assertEqual(self.gw.wait(timeout=10), 0)
        self.assertEqual(len(self.gw.access_log()), len(self.traffic.ids))


class Cardinality(harness.TestCase):
    def test_client_chosen_names_do_not_make_series(self):
        up = self.sim()
        gw = self.gateway({"chat": [harness.version("v1", up, 1)]}, access_log="off")
        before = len(gw.metrics())
        for i in range(60):
            post(gw.port, "/v1/chat/completions", chat_body(model="no-such-model-%d" % i))
            harness.call(gw.port, "GET", "/probe-%d" % i)
            post(gw.port, "/v1/chat/completions", chat_body(user="user-%d" % i), headers={"x-sluice-user": "h%d" % i})
        samples = gw.metrics()
        self.assertEqual(metric_sum(samples, "sluice_requests_total"), 180)
        self.assertEqual(metric_sum(samples, "sluice_requests_total", model="chat", version="v1"), 60)
        text = gw.metrics_text()
        self.assertNotIn("no-such-model-", text)
        self.assertNotIn("probe-", text)
        self.assertNotIn("user-", text)
        # a handful of new series (the model/version, the refused requests), not one per name
        self.assertLess(len(samples) - before, 150, "series grew with client-chosen names")


class AccessLogModes(harness.TestCase):
    def test_log_bodies_puts_prompts_in_but_never_keys(self):
        up = self.sim()
        gw = self.gateway({"chat": [harness.version("v1", up, 1, api_key_env="SLUICE_IT_KEY")]}, log_bodies=True,
                          env={"SLUICE_IT_KEY": SECRET})
        r = post(gw.port, "/v1/chat/completions", chat_body(content=PROMPT_MARK),
                 headers={"authorization": "Bearer " + SECRET + "-client"})
        self.assertEqual(r.status, 200, r)
        deadline = time.monotonic() + 5
        while not gw.access_log() and time.monotonic() < deadline:
            time.sleep(0.1)
        lines = gw.access_log()
        self.assertEqual(len(lines), 1)
        rec = json.loads(lines[0])
        self.assertIn(PROMPT_MARK, json.dumps(rec), "log_bodies: true logs the request body")
        self.assertNotIn(SECRET, lines[0])

    def test_access_log_to_stdout(self):
        up = self.sim()
        gw = self.gateway({"chat": [harness.version("v1", up, 1)]}, access_log="-")
        ids = set()
        for _ in range(3):
            r = post(gw.port, "/v1/chat/completions", chat_body())
            ids.add(r.headers["x-sluice-request-id"])
        deadline = time.monotonic() + 5
        while len(gw.stdout().splitlines()) < 3 and time.monotonic() < deadline:
            time.sleep(0.1)
        got = {json.loads(l)["request_id"] for l in gw.stdout().splitlines()}
        self.assertEqual(got, ids)

    def test_access_log_off(self):
        up = self.sim()
        gw = self.gateway({"chat": [harness.version("v1", up, 1)]}, access_log="off")
        self.assertEqual(post(gw.port, "/v1/chat/completions", chat_body()).status, 200)
        time.sleep(1.3)
        self.assertEqual(gw.stdout(), "")
        self.assertFalse(os.path.exists(os.path.join(self.workdir, "off")))


if __name__ == "__main__":
    unittest.main(verbosity=2)
