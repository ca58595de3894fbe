"""The gateway's life: configuration errors at startup, SIGHUP and admin reloads (good and broken),
and SIGTERM draining in-flight streams."""
import http.client
import json
import re
import signal
import socket
import sys
import threading
import time
import unittest

sys.dont_write_bytecode = True
import harness  # noqa: E402
from harness import chat_body, get, json_events, metric_sum, post, SSE

CHAT = "/v1/chat/completions"


def connect_refused(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(1)
    try:
        return s.connect_ex(("127.0.0.1", port)) != 0
    finally:
        s.close()


class ConfigErrors(harness.TestCase):
    GOOD_HEAD = "listen: 127.0.0.1:%d\nadmin_listen: 127.0.0.1:%d\n"

    # (name, body after the two listen lines, line, field, reason pattern)
    CASES = [
        ("negative_weight",
         "models:\n  - name: chat\n    versions:\n      - name: v1\n        upstreams: [http://127.0.0.1:9]\n"
         "        weight: -5\n", 8, "models[0].versions[0].weight", r"\S"),
        ("unknown_field",
         "models:\n  - name: chat\n    versions:\n      - name: v1\n        upstreams: [http://127.0.0.1:9]\n"
         "        weight: 1\n        colour: red\n", 9, "models[0].versions[0].colour", r"unknown"),
        ("bad_upstream_url",
         "models:\n  - name: chat\n    versions:\n      - name: v1\n        weight: 1\n"
         "        upstreams:\n          - http://127.0.0.1:9\n          - ftp://example\n", 10,
         "models[0].versions[0].upstreams[1]", r"ftp://example"),
        ("duplicate_version",
         "models:\n  - name: chat\n    versions:\n      - name: v1\n        upstreams: [http://127.0.0.1:9]\n"
         "        weight: 1\n      - name: v1\n        upstreams: [http://127.0.0.1:9]\n        weight: 1\n",
         9, "models[0].versions[1].name", r"duplicate"),
        ("second_model_bad_weight",
         "models:\n  - name: a\n    versions:\n      - name: v1\n        upstreams: [http://127.0.0.1:9]\n"
         "        weight: 1\n  - name: b\n    versions:\n      - name: v1\n        upstreams: [http://127.0.0.1:9]\n"
         "        weight: lots\n", 13, "models[1].versions[0].weight", r"\S"),
        ("not_a_number",
         "max_body_bytes: big\nmodels:\n  - name: chat\n    versions:\n      - name: v1\n"
         "        upstreams: [http://127.0.0.1:9]\n", 3, "max_body_bytes", r"\S"),
    ]

    def start_bad(self, name, text):
        path = self.write(name + ".yaml", text)
        p = self.spawn(name, [harness.BIN, "serve", "-c", path])
        rc = p.wait(timeout=5)
        return path, p, rc

    def test_config_errors_exit_2_with_file_line_field(self):
        for name, body, line, field, reason in self.CASES:
            with self.subTest(name):
                port, admin = harness.free_port(), harness.free_port()
                text = self.GOOD_HEAD % (port, admin) + body
                path, p, rc = self.start_bad(name, text)
                err = p.stderr()
                self.assertEqual(rc, 2, err)
                want = "sluice: %s:%d: field '%s': " % (path, line, field)
                self.assertIn(want, err)
                msg = err[err.index(want) + len(want):].splitlines()[0]
                self.assertRegex(msg, reason)
                self.assertTrue(connect_refused(port), "an invalid config must not start listening")

    def test_semantic_errors_name_their_field(self):
        cases = [
            ("all_zero", "models:\n  - name: chat\n    versions:\n      - name: v1\n"
                         "        upstreams: [http://127.0.0.1:9]\n        weight: 0\n", "models[0].versions"),
            ("same_listeners", "admin_listen: 127.0.0.1:%d\nmodels:\n  - name: chat\n    versions:\n"
                               "      - name: v1\n        upstreams: [http://127.0.0.1:9]\n        weight: 1\n",
             "admin_listen"),
            ("no_models", "models: []\n", "models"),
        ]
        for name, body, field in cases:
            with self.subTest(name):
                port = harness.free_port()
                text = "listen: 127.0.0.1:%d\n" % port + (body % port if "%d" in body else body)
                path, p, rc = self.start_bad(name, text)
                err = p.stderr()
                self.assertEqual(rc, 2, err)
                self.assertRegex(err, r"sluice: %s:\d+: field '%s': \S" % (re.escape(path), re.escape(field)))

    def test_missing_required_field_names_it(self):
        # 'weight' is missing from the second version: the error must point at that version (or
        # at its weight), not at a sibling field that is present and fine
        port = harness.free_port()
        text = ("listen: 127.0.0.1:%d\nmodels:\n  - name: chat\n    versions:\n      - name: v1\n"
                "        upstreams: [http://127.0.0.1:9]\n        weight: 1\n      - name: v2\n"
                "        upstreams: [http://127.0.0.1:9]\n" % port)
        path, p, rc = self.start_bad("missing_weight", text)
        err = p.stderr()
        self.assertEqual(rc, 2, err)
        m = re.search(r"sluice: %s:(\d+): field '([^']*)': (.*)" % re.escape(path), err)
        self.assertIsNotNone(m, err)
        self.assertIn(m.group(2), ("models[0].versions[1]", "models[0].versions[1].weight"), err)
        self.assertIn("weight", m.group(2) + " " + m.group(3))
        self.assertIn(int(m.group(1)), (8, 9), err)

    def test_missing_file_exits_2(self):
        p = self.spawn("missing", [harness.BIN, "serve", "-c", self.workdir + "/nope.yaml"])
        self.assertEqual(p.wait(timeout=5), 2)
        self.assertIn("nope.yaml", p.stderr())


class Reload(harness.TestCase):
    def setUp(self):
        super().setUp()
        self.up = self.sim(max_tokens=2)

    def cfg(self, w1, w2, m1="up-a", m2="up-b"):
        return {"models": [{"name": "chat", "versions": [
            harness.version("v1", self.up, w1, upstream_model=m1),
            harness.version("v2", self.up, w2, upstream_model=m2)]}]}

    def weights(self, gw):
        routes = gw.routes()
        m = [m for m in routes["models"] if m["name"] == "chat"][0]
        return {v["name"]: v["weight"] for v in m["versions"]}, routes["generation"]

    def test_sighup_changes_weights_keepalive_survives(self):
        gw = self.gateway(self.cfg(3, 1)["models"])
        w, gen = self.weights(gw)
        self.assertAlmostEqual(w["v1"], 0.75)
        self.assertAlmostEqual(w["v2"], 0.25)
        samples = gw.metrics()
        self.assertAlmostEqual(metric_sum(samples, "sluice_route_weight", model="chat", version="v2"), 0.25)
        self.assertEqual(metric_sum(samples, "sluice_config_generation"), gen)

        conn = http.client.HTTPConnection("127.0.0.1", gw.port, timeout=10)
        try:
            seen = set()
            for _ in range(60):
                r = post(None, CHAT, chat_body(max_tokens=1), conn=conn)
                self.assertEqual(r.status, 200, r)
                seen.add(r.headers["x-sluice-version"])
            self.assertEqual(seen, {"v1", "v2"})  # 60 draws at 75/25: both seen (miss: < 1e-7)
            local = conn.sock.getsockname()

            new_gen = gw.reload(self.cfg(0, 5, m2="up-b2"))
            self.assertEqual(new_gen, gen + 1)
            w, g = self.weights(gw)
            self.assertEqual((w["v1"], w["v2"], g), (0, 1, gen + 1))
            samples = gw.metrics()
            self.assertEqual(metric_sum(samples, "sluice_route_weight", model="chat", version="v1"), 0)
            self.assertEqual(metric_sum(samples, "sluice_route_weight", model="chat", version="v2"), 1)
            self.assertEqual(metric_sum(samples, "sluice_config_generation"), gen + 1)

            for _ in range(30):
                r = post(None, CHAT, chat_body(max_tokens=1), conn=conn)
                self.assertEqual(r.status, 200, r)
                self.assertEqual(r.headers["x-sluice-version"], "v2")
            self.assertEqual(self.up.stats()["last_model"], "up-b2")
            self.assertIsNotNone(conn.sock, "the keep-alive connection was closed by the reload")
            self.assertEqual(conn.sock.getsockname(), local, "the client had to reconnect after the reload")
        finally:
            conn.close()

    def test_admin_reload_endpoint(self):
        gw = self.gateway(self.cfg(1, 0)["models"])
        gen = gw.generation()
        gw.write_config(dict(gw.config, **self.cfg(0, 1)))
        r = post(gw.admin_port, "/api/v1/reload", {})
        self.assertIn(r.status, (200, 202), r)
        self.assertEqual(gw.wait_generation(gen + 1), gen + 1)
        r = post(gw.port, CHAT, chat_body())
        self.assertEqual(r.headers.get("x-sluice-version"), "v2")

    def test_broken_reload_keeps_running_config(self):
        gw = self.gateway(self.cfg(1, 0)["models"])
        w0, gen = self.weights(gw)
        broken = [
            ("syntax", "models: [\n  - name: chat\n"),
            ("weight", harness.to_yaml(dict(gw.config, **self.cfg(-1, 1))) + "\n"),
            ("unknown field", harness.to_yaml(dict(gw.config, **self.cfg(0, 1))) + "\nbogus_field: 1\n"),
            ("empty", ""),
        ]
        for i, (name, text) in enumerate(broken):
            with self.subTest(name):
                gw.write_raw_config(text)
                before = gw.stderr().count(gw.config_path)
                gw.signal(signal.SIGHUP)
                # the failure is reported with the file name (FILE:LINE: ...)
                deadline = time.monotonic() + 5
                while gw.stderr().count(gw.config_path) <= before and time.monotonic() < deadline:
                    time.sleep(0.05)
                self.assertGreater(gw.stderr().count(gw.config_path), before, "reload failure not reported")
                self.assertTrue(gw.alive())
                w, g = self.weights(gw)
                self.assertEqual((w, g), (w0, gen))
                r = post(gw.port, CHAT, chat_body())
                self.assertEqual(r.status, 200, r)
                self.assertEqual(r.headers["x-sluice-version"], "v1")
                self.assertEqual(self.up.stats()["last_model"], "up-a")
        # a fixed file loads again
        self.assertEqual(gw.reload(self.cfg(0, 1)), gen + 1)
        r = post(gw.port, CHAT, chat_body())
        self.assertEqual(r.headers["x-sluice-version"], "v2")

    def test_reload_removes_and_adds_models(self):
        gw = self.gateway(self.cfg(1, 1)["models"])
        new = {"models": [{"name": "chat2", "versions": [harness.version("only", self.up, 1)]}]}
        gw.reload(new)
        r = post(gw.port, CHAT, chat_body())
        harness.assert_openai_error(self, r, 404, "model_not_found")
        r = post(gw.port, CHAT, chat_body(model="chat2"))
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.headers["x-sluice-version"], "only")
        ids = [m["id"] for m in get(gw.port, "/v1/models").json()["data"]]
        self.assertEqual(ids, ["chat2"])

    def test_stream_in_flight_survives_reload(self):
        slow = self.sim(name="slow", max_tokens=30, tokens_per_second=30)  # about 1 s of tokens
        gw = self.gateway({"chat": [harness.version("v1", slow, 1)]})
        s = SSE(gw.port, CHAT, chat_body(stream=True, max_tokens=30), timeout=10)
        try:
            self.assertEqual(s.status, 200)
            self.assertIsNotNone(s.next_event())
            # the version serving the stream disappears from the configuration
            gw.reload({"models": [{"name": "other", "versions": [harness.version("x", self.up, 1)]}]})
            rest = s.events()
        finally:
            s.close()
        self.assertEqual(rest[-1], "[DONE]", rest)
        chunks = json_events(rest)
        self.assertTrue(any(ch.get("finish_reason") for c in chunks for ch in c.get("choices", [])), chunks)
        self.assertEqual(slow.stats()["completed"], 1)


class ReloadUnderLoad(harness.TestCase):
    def test_reload_storm_during_load(self):
        up = self.sim(latency_ms=2, ttft_ms=2, tokens_per_second=400)
        gw = self.gateway({"chat": [harness.version("v1", up, 5), harness.version("v2", up, 5)]}, access_log="off")
        result = {}

        def load():
            try:
                result["out"] = harness.run_load(gw.port, "--rate", 0, "--duration", 3, "--concurrency", 48,
                                                 "--stream-share", 0.5, "--max-tokens", 24, "--users", 1000,
                                                 "--seed", 3, timeout=30)
            except Exception as e:
                result["error"] = e

        gen0 = gw.generation()
        th = threading.Thread(target=load, daemon=True)
        th.start()
        n = 0
        while th.is_alive() and n < 400:
            w = 1 + n % 9
            gw.write_config(dict(gw.config, models=[{"name": "chat", "versions": [
                harness.version("v1", up, w), harness.version("v2", up, 10 - w)]}]))
            gw.signal(signal.SIGHUP)
            n += 1
            time.sleep(0.01)
        th.join(timeout=40)
        self.assertNotIn("error", result, result.get("error"))
        out = result["out"]
        self.assertGreater(out["total"], 100, out)
        self.assertEqual(out["errors"], 0, out)
        for name, v in out["by_version"].items():
            self.assertEqual(list(v["status"]), ["200"], out)
            self.assertEqual(v["incomplete_streams"], 0, out)
        self.assertTrue(gw.alive(), gw.stderr()[-2000:])
        self.assertGreater(gw.generation(), gen0 + 5, "reloads did not happen")
        self.assertEqual(metric_sum(gw.metrics(), "sluice_requests_in_flight"), 0)


class Drain(harness.TestCase):
    def test_sigterm_drains_in_flight_stream(self):
        slow = self.sim(max_tokens=40, tokens_per_second=25)  # about 1.6 s of tokens
        gw = self.gateway({"chat": [harness.version("v1", slow, 1)]}, drain_timeout_ms=15000)
        s = SSE(gw.port, CHAT, chat_body(stream=True, max_tokens=40), timeout=10)
        try:
            self.assertEqual(s.status, 200)
            first = s.next_event()
            self.assertIsNotNone(first)
            t_sig = time.monotonic()
            gw.signal(signal.SIGTERM)
            # new connections are refused soon after the signal, while the stream goes on
            deadline = time.monotonic() + 2
            while not connect_refused(gw.port) and time.monotonic() < deadline:
                time.sleep(0.02)
            self.assertTrue(connect_refused(gw.port), "still accepting connections after SIGTERM")
            self.assertTrue(gw.alive(), "exited before the in-flight stream finished")
            rest = s.events()
        finally:
            s.close()
        self.assertEqual(rest[-1], "[DONE]", rest)
        chunks = json_events([first] + rest)
        self.assertFalse([c for c in chunks if "error" in c], chunks)
        self.assertTrue(any(ch.get("finish_reason") for c in chunks for ch in c.get("choices", [])))
        rc = gw.wait(timeout=5)
        self.assertEqual(rc, 0, gw.stderr())
        self.assertEqual(slow.stats()["completed"], 1)
        self.assertLess(time.monotonic() - t_sig, 10)

    def test_sigterm_when_idle_exits_0_at_once(self):
        up = self.sim()
        gw = self.gateway({"chat": [harness.version("v1", up, 1)]})
        self.assertEqual(post(gw.port, CHAT, chat_body()).status, 200)
        t0 = time.monotonic()
        gw.signal(signal.SIGTERM)
        self.assertEqual(gw.wait(timeout=5), 0, gw.stderr())
        self.assertLess(time.monotonic() - t0, 2.0)
        self.assertTrue(connect_refused(gw.port))
        self.assertTrue(connect_refused(gw.admin_port))

    def test_drain_timeout_bounds_the_wait(self):
        up = self.sim()
        gw = self.gateway({"chat": [harness.version("v1", up, 1)]}, drain_timeout_ms=700,
                          upstream_timeout_ms=60000)
        conn = http.client.HTTPConnection("127.0.0.1", gw.port, timeout=10)
        try:
            conn.request("POST", CHAT, body=json.dumps(chat_body()),
                         headers={"content-type": "application/json", "x-sim-fault": "hang"})
            up.wait_stat("requests", 1, timeout=3)
            t0 = time.monotonic()
            gw.signal(signal.SIGTERM)
            rc = gw.wait(timeout=8)
            elapsed = time.monotonic() - t0
            self.assertEqual(rc, 0, gw.stderr())
            self.assertGreaterEqual(elapsed, 0.6, "did not wait for the in-flight request")
            self.assertLess(elapsed, 4.0, "waited past drain_timeout_ms")
            # the cut request does not look like a success
            try:
                resp = conn.getresponse()
                status = resp.status
                resp.read()
            except (http.client.HTTPException, ConnectionError, socket.timeout):
                status = None
            self.assertNotEqual(status, 200)
        finally:
            conn.close()


if __name__ == "__main__":
    unittest.main(verbosity=2)
