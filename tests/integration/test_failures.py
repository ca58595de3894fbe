"""Every failure a client can meet: upstream refused, hanging, dying mid-stream or mid-body; the
client leaving mid-stream; and requests the gateway refuses itself (400, 404, 405, 413)."""
import http.client
import json
import socket
import sys
import time
import unittest

sys.dont_write_bytecode = True
import harness  # noqa: E402
from harness import assert_openai_error, chat_body, completion_body, call, post, get, SSE


class UpstreamFailures(harness.TestCase):
    def test_upstream_refused_is_502(self):
        dead = "http://127.0.0.1:%d" % harness.free_port()  # nothing listens there
        gw = self.gateway({"chat": [harness.version("v1", dead, 1)]}, connect_timeout_ms=2000)
        t0 = time.monotonic()
        r = post(gw.port, "/v1/chat/completions", chat_body())
        err = assert_openai_error(self, r, 502, "upstream_unavailable")
        self.assertLess(time.monotonic() - t0, 2.0, "a refused connection fails at once, not at the timeout")
        self.assertEqual(err["type"], "upstream_error")
        self.assertEqual(r.headers.get("x-sluice-version"), "v1")
        self.assertRegex(r.headers.get("x-sluice-request-id", ""), r"^[0-9a-f]{32}$")
        # streams fail the same way, before any event
        r = post(gw.port, "/v1/chat/completions", chat_body(stream=True))
        assert_openai_error(self, r, 502, "upstream_unavailable")
        self.assertTrue(gw.alive())

    def test_upstream_hang_is_504(self):
        up = self.sim()
        gw = self.gateway({"chat": [harness.version("v1", up, 1)]}, upstream_timeout_ms=400)
        t0 = time.monotonic()
        r = post(gw.port, "/v1/chat/completions", chat_body(), headers={"x-sim-fault": "hang"})
        elapsed = time.monotonic() - t0
        err = assert_openai_error(self, r, 504, "upstream_timeout")
        self.assertEqual(err["type"], "upstream_error")
        self.assertGreaterEqual(elapsed, 0.35, "gave up before upstream_timeout_ms")
        self.assertLess(elapsed, 5.0)
        # the gateway dropped the upstream connection it gave up on
        st = up.wait_stat("client_disconnects", 1, timeout=3)
        self.assertGreaterEqual(st["client_disconnects"], 1, st)
        # the same upstream still serves normal requests afterwards
        r = post(gw.port, "/v1/chat/completions", chat_body())
        self.assertEqual(r.status, 200, r)

    def test_upstream_hang_while_streaming_is_504(self):
        up = self.sim()
        gw = self.gateway({"chat": [harness.version("v1", up, 1)]}, upstream_timeout_ms=400)
        r = post(gw.port, "/v1/chat/completions", chat_body(stream=True), headers={"x-sim-fault": "hang"})
        assert_openai_error(self, r, 504, "upstream_timeout")

    def test_upstream_closes_without_answer_is_502(self):
        up = self.sim()
        gw = self.gateway({"chat": [harness.version("v1", up, 1)]})
        r = post(gw.port, "/v1/chat/completions", chat_body(), headers={"x-sim-fault": "close"})
        err = assert_openai_error(self, r, 502, "upstream_error")
        self.assertEqual(err["type"], "upstream_error")
        r = post(gw.port, "/v1/chat/completions", chat_body())
        self.assertEqual(r.status, 200, r)

    def test_slow_first_byte(self):
        # the sim delays a slow-first-byte reply by ten times its latency: 1 s here
        up = self.sim(latency_ms=100, latency_sigma=0)
        patient = self.gateway({"chat": [harness.version("v1", up, 1)]}, name="patient", upstream_timeout_ms=5000)
        hasty = self.gateway({"chat": [harness.version("v1", up, 1)]}, name="hasty", upstream_timeout_ms=200)
        t0 = time.monotonic()
        r = post(patient.port, "/v1/chat/completions", chat_body(), headers={"x-sim-fault": "slow-first-byte"})
        elapsed = time.monotonic() - t0
        self.assertEqual(r.status, 200, r)
        self.assertTrue(r.json()["choices"][0]["message"]["content"])
        self.assertGreaterEqual(elapsed, 0.95, "the fault did not delay the reply; the test proves nothing")
        t0 = time.monotonic()
        r = post(hasty.port, "/v1/chat/completions", chat_body(), headers={"x-sim-fault": "slow-first-byte"})
        elapsed = time.monotonic() - t0
        assert_openai_error(self, r, 504, "upstream_timeout")
        self.assertLess(elapsed, 0.9, "the 504 came only after the upstream answered")

    # The sim's die-mid-stream closes the connection after a whole HTTP chunk, which h2o 2.2.5's
    # client reports as a normal end of body; the gateway sees that the stream never said
    # [DONE] and ends it with an error event (see test_upstream_protocol.UpstreamStopsMidResponse).
    def test_die_mid_stream_ends_with_error_event(self):
        up = self.sim(max_tokens=50)
        gw = self.gateway({"chat": [harness.version("v1", up, 1)]})
        body = chat_body(stream=True, max_tokens=50)
        t0 = time.monotonic()
        s = SSE(gw.port, "/v1/chat/completions", body, headers={"x-sim-fault": "die-mid-stream"}, timeout=10)
        try:
            self.assertEqual(s.status, 200)
            events = s.events()  # returns at the end of the stream; a hang would hit the socket timeout
        finally:
            s.close()
        self.assertLess(time.monotonic() - t0, 5.0)
        self.assertTrue(events, s.raw)
        self.assertNotEqual(events[-1], "[DONE]", "a stream cut by the upstream must not look complete")
        last = json.loads(events[-1])
        self.assertIn("error", last, events)
        for k in ("message", "type", "code"):
            self.assertIn(k, last["error"], last)
        self.assertTrue(last["error"]["message"])
        # the chunks before the error were relayed as they were
        for e in events[:-1]:
            self.assertNotIn("error", json.loads(e))
        self.assertTrue(gw.alive())
        r = post(gw.port, "/v1/chat/completions", chat_body())
        self.assertEqual(r.status, 200, r)

    def test_die_mid_body_looks_cut_to_the_client(self):
        up = self.sim(max_tokens=50)
        gw = self.gateway({"chat": [harness.version("v1", up, 1)]})
        conn = http.client.HTTPConnection("127.0.0.1", gw.port, timeout=10)
        try:
            conn.request("POST", "/v1/chat/completions", body=json.dumps(chat_body(max_tokens=50)),
                         headers={"content-type": "application/json", "x-sim-fault": "die-mid-stream"})
            resp = conn.getresponse()
            status = resp.status
            try:
                body = resp.read()
            except (http.client.IncompleteRead, ConnectionError):
                body = None
        finally:
            conn.close()
        if status == 200:
            # the headers were already relayed: the body must not pass for a complete response
            self.assertIsNone(body, "a cut upstream body reached the client as complete: %r" % (body,))
        else:
            self.assertGreaterEqual(status, 500)

    def test_client_leaving_mid_stream_cancels_upstream(self):
        # 200 tokens at 20 tokens/s: the upstream stream would last 10 s
        up = self.sim(max_tokens=200, tokens_per_second=20)
        gw = self.gateway({"chat": [harness.version("v1", up, 1)]})
        s = SSE(gw.port, "/v1/chat/completions", chat_body(stream=True, max_tokens=200), timeout=10)
        self.assertEqual(s.status, 200)
        first = s.next_event()
        self.assertIsNotNone(first)
        self.assertEqual(up.stats().get("client_disconnects", 0), 0)
        # leave abruptly
        s.conn.sock.shutdown(socket.SHUT_RDWR)
        s.close()
        t0 = time.monotonic()
        st = up.wait_stat("client_disconnects", 1, timeout=4.0)
        self.assertGreaterEqual(st.get("client_disconnects", 0), 1,
                                "the upstream request was not cancelled after the client left: %r" % st)
        self.assertLess(time.monotonic() - t0, 4.0)
        self.assertEqual(st.get("completed", 0), 0, st)
        self.assertTrue(gw.alive())
        r = post(gw.port, "/v1/chat/completions", chat_body())
        self.assertEqual(r.status, 200, r)


class RequestErrors(harness.TestCase):
    def setUp(self):
        super().setUp()
        self.up = self.sim()
        self.gw = self.gateway({"chat": [harness.version("v1", self.up, 1)]}, max_body_bytes=4096)

    def tearDown(self):
        # none of the refused requests may reach the upstream
        self.assertEqual(self.up.stats()["requests"], 0)

    def test_invalid_json_is_400(self):
        for body in (b"{not json", b"", b'{"model":"chat",', b'{"model":"chat"} trailing', b"\xff\xfe{}"):
            r = call(self.gw.port, "POST", "/v1/chat/completions", body, {"content-type": "application/json"})
            err = assert_openai_error(self, r, 400)
            self.assertEqual(err["type"], "invalid_request_error", body)
            self.assertEqual(err["code"], "invalid_json", body)

    def test_bad_request_shape_is_400(self):
        for body in ([1, 2], {"messages": []}, {"model": 7}, {"model": ""}):
            r = post(self.gw.port, "/v1/chat/completions", body)
            err = assert_openai_error(self, r, 400)
            self.assertEqual(err["type"], "invalid_request_error", body)

    def test_unknown_model_is_404(self):
        for path, body in (("/v1/chat/completions", chat_body(model="no-such-model")),
                           ("/v1/completions", completion_body(model="Chat")),
                           ("/v1/embeddings", {"model": "v1", "input": "x"})):
            r = post(self.gw.port, path, body)
            err = assert_openai_error(self, r, 404, "model_not_found")
            self.assertEqual(err["type"], "invalid_request_error")

    def test_unknown_url_is_404(self):
        for method, path in (("POST", "/v1/chat"), ("GET", "/"), ("POST", "/v2/chat/completions"),
                             ("GET", "/v1/models/extra"), ("POST", "/v1/chat/completions/")):
            r = call(self.gw.port, method, path, chat_body() if method == "POST" else None)
            assert_openai_error(self, r, 404, "unknown_url")

    def test_wrong_method_is_405(self):
        for method, path in (("GET", "/v1/chat/completions"), ("PUT", "/v1/completions"),
                             ("DELETE", "/v1/embeddings"), ("POST", "/v1/models")):
            r = call(self.gw.port, method, path, chat_body() if method in ("PUT", "POST") else None)
            assert_openai_error(self, r, 405)

    def test_body_over_limit_is_413(self):
        big = chat_body(content="x" * 5000)
        r = post(self.gw.port, "/v1/chat/completions", big)
        err = assert_openai_error(self, r, 413, "request_too_large")
        self.assertEqual(err["type"], "invalid_request_error")
        # exactly at the limit is fine
        body = json.dumps(chat_body(content=""))
        body = json.dumps(chat_body(content="y" * (4096 - len(body))))
        self.assertEqual(len(body), 4096)
        self.up.reset()
        r = call(self.gw.port, "POST", "/v1/chat/completions", body, {"content-type": "application/json"})
        self.assertEqual(r.status, 200, r)
        self.up.reset()

    def test_body_far_over_limit_gateway_stays_up(self):
        # 1 MiB against a 4 KiB limit: refused, and the gateway stays up
        big = json.dumps(chat_body(content="x" * (1 << 20)))
        try:
            r = call(self.gw.port, "POST", "/v1/chat/completions", big, {"content-type": "application/json"})
            self.assertEqual(r.status, 413, r)
        except (ConnectionError, BrokenPipeError):
            pass  # the gateway may close the connection while the body is still being sent
        r = get(self.gw.port, "/v1/models")
        self.assertEqual(r.status, 200)

    # Past 2 x max_body_bytes h2o itself refuses the body with a plain-text 413; the gateway's
    # filter on that path gives it the OpenAI shape.
    def test_body_far_over_limit_is_openai_shaped_413(self):
        s = socket.create_connection(("127.0.0.1", self.gw.port), timeout=5)
        try:
            s.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                      b"Content-Length: 1048576\r\n\r\n")
            got = b""
            while b"\r\n\r\n" not in got or len(got.split(b"\r\n\r\n", 1)[1]) < 20:
                chunk = s.recv(65536)
                if not chunk:
                    break
                got += chunk
        finally:
            s.close()
        head, _, body = got.partition(b"\r\n\r\n")
        self.assertTrue(head.startswith(b"HTTP/1.1 413"), got[:200])
        self.assertIn(b"application/json", head.lower(), got[:300])
        self.assertEqual(json.loads(body)["error"]["code"], "request_too_large")

    def test_chunked_request_body(self):
        # a client that streams its request body in chunks is served like any other
        self.up.reset()
        conn = http.client.HTTPConnection("127.0.0.1", self.gw.port, timeout=10)
        try:
            data = json.dumps(chat_body()).encode()
            conn.request("POST", "/v1/chat/completions", body=iter([data[:10], data[10:]]),
                         headers={"content-type": "application/json"}, encode_chunked=True)
            r = conn.getresponse()
            self.assertEqual(r.status, 200, r.read())
            r.read()
        finally:
            conn.close()
        self.assertEqual(self.up.stats()["requests"], 1)
        self.up.reset()


if __name__ == "__main__":
    unittest.main(verbosity=2)
