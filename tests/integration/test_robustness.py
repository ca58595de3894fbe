"""Garbage over raw sockets must not bring the gateway down: random bytes, invalid HTTP, huge
headers, slowloris-style partial requests and abrupt resets, on the data and admin ports.
After each round the gateway still answers a normal request."""
import random
import socket
import struct
import sys
import time
import unittest

sys.dont_write_bytecode = True
import harness  # noqa: E402
from harness import chat_body, get, post


def raw_exchange(port, payload, read_timeout=2.0, shutdown=True):
    """Sends payload, half-closes, returns whatever comes back within read_timeout."""
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    got = b""
    try:
        s.settimeout(read_timeout)
        try:
            s.sendall(payload)
            if shutdown:
                s.shutdown(socket.SHUT_WR)
        except OSError:  # the gateway may hang up before it has read everything
            pass
        deadline = time.monotonic() + read_timeout
        while time.monotonic() < deadline:
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                break
            except OSError:
                break
            if not chunk:
                break
            got += chunk
    finally:
        s.close()
    return got


def reset_close(sock):
    """Closes with RST instead of FIN."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


class Garbage(harness.TestCase):
    def setUp(self):
        super().setUp()
        self.up = self.sim()
        self.gw = self.gateway({"chat": [harness.version("v1", self.up, 1)]}, max_body_bytes=65536)

    def assert_still_serving(self):
        self.assertTrue(self.gw.alive(), "the gateway died:\n" + self.gw.stderr()[-3000:])
        r = post(self.gw.port, "/v1/chat/completions", chat_body())
        self.assertEqual(r.status, 200, r)
        self.assertEqual(get(self.gw.admin_port, "/healthz").status, 200)

    def assert_refused_cleanly(self, got, what):
        """Nothing, or an HTTP 4xx status line: never a success, never a 5xx."""
        if got:
            self.assertTrue(got.startswith(b"HTTP/1."), "%s: %r" % (what, got[:200]))
            status = int(got.split(b" ", 2)[1])
            self.assertTrue(400 <= status < 500, "%s: %r" % (what, got[:200]))

    def test_random_bytes(self):
        rng = random.Random(1234)
        for port in (self.gw.port, self.gw.admin_port):
            for i in range(40):
                payload = bytes(rng.getrandbits(8) for _ in range(rng.randrange(1, 3000)))
                raw_exchange(port, payload, read_timeout=0.5)
        self.assert_still_serving()

    def test_invalid_http(self):
        cases = [
            b"HELLO WORLD\r\n\r\n",
            b"GET\r\n\r\n",
            b"GET / HTTP/9.9\r\n\r\n",
            b"\x00\x01\x02\x03 / HTTP/1.1\r\n\r\n",
            b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nNoColonHeader\r\n\r\n",
            b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n",
            b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999999\r\n\r\n",
            b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n",
            b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nxx\r\n0\r\n\r\n",
            b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
            b"Content-Length: 3\r\n\r\nfff\r\n",
            b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
            b"ffffffffffffffffffff\r\n",
            b"GET /v1/models HTTP/1.1\r\nHost: x\r\n" + b"X: \xff\xfe\r\n" * 3 + b"\r\n",
            b"\r\n\r\n\r\n\r\n",
            b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + b"\x00" * 64,
            b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\x00" * 200,  # a TLS ClientHello
        ]
        for i, payload in enumerate(cases):
            got = raw_exchange(self.gw.port, payload, read_timeout=1.0)
            if payload.startswith((b"HELLO", b"GET\r", b"\x00", b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nNo")):
                self.assert_refused_cleanly(got, "case %d" % i)
            self.assertTrue(self.gw.alive(), "case %d killed the gateway: %r" % (i, payload[:80]))
        self.assert_still_serving()

    def test_pipelined_valid_then_garbage(self):
        body = b'{"model":"chat","messages":[{"role":"user","content":"hi"}],"max_tokens":2}'
        req = (b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
               b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
        got = raw_exchange(self.gw.port, req + req + b"GARBAGE GARBAGE\r\n\r\n", read_timeout=3.0)
        self.assertTrue(got.startswith(b"HTTP/1.1 200"), got[:300])
        self.assertGreaterEqual(got.count(b"HTTP/1.1 200"), 2, got[:600])
        self.assert_still_serving()

    def test_huge_headers(self):
        cases = [
            b"GET /v1/models HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * (1 << 20) + b"\r\n\r\n",
            b"GET /v1/models HTTP/1.1\r\nHost: x\r\n" + b"".join(b"X-H%d: v\r\n" % i for i in range(20000)) + b"\r\n",
            b"GET /" + b"p" * (256 * 1024) + b" HTTP/1.1\r\nHost: x\r\n\r\n",
            b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nx-sluice-user: " + b"u" * (200 * 1024) + b"\r\n"
            b"Content-Length: 2\r\n\r\n{}",
        ]
        for i, payload in enumerate(cases):
            got = raw_exchange(self.gw.port, payload, read_timeout=2.0)
            if got:
                self.assertTrue(got.startswith(b"HTTP/1."), got[:200])
                status = int(got.split(b" ", 2)[1])
                self.assertNotEqual(status // 100, 5, "case %d: %r" % (i, got[:200]))
                self.assertNotEqual(status, 200, "case %d: %r" % (i, got[:200]))
            self.assertTrue(self.gw.alive(), "case %d killed the gateway" % i)
        self.assert_still_serving()

    def test_slowloris_partial_requests(self):
        partials = [
            b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n",
            b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n{\"model\":",
            b"GE",
            b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n10\r\n{\"mo",
        ]
        socks = []
        try:
            for i in range(60):
                s = socket.create_connection(("127.0.0.1", self.gw.port), timeout=5)
                s.sendall(partials[i % len(partials)])
                socks.append(s)
            # a trickle of header bytes on a few of them
            for _ in range(3):
                for s in socks[:8]:
                    try:
                        s.sendall(b"X")
                    except OSError:
                        pass
                time.sleep(0.05)
            # the gateway serves others while those hang
            t0 = time.monotonic()
            self.assert_still_serving()
            self.assertLess(time.monotonic() - t0, 2.0)
        finally:
            for i, s in enumerate(socks):
                if i % 2:
                    reset_close(s)
                else:
                    s.close()
        time.sleep(0.2)
        self.assert_still_serving()

    def test_client_resets_mid_request_and_mid_response(self):
        slow = self.sim(name="slow", max_tokens=100, tokens_per_second=50)
        gw = self.gateway({"chat": [harness.version("v1", slow, 1)]}, name="gw2")
        body = (b'{"model":"chat","stream":true,"max_tokens":100,'
                b'"messages":[{"role":"user","content":"hi"}]}')
        req = (b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
               b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
        for i in range(20):
            s = socket.create_connection(("127.0.0.1", gw.port), timeout=5)
            if i % 3 == 0:
                s.sendall(req[: len(req) // 2])  # half a request
            elif i % 3 == 1:
                s.sendall(req)  # a whole request, gone before the answer
            else:
                s.sendall(req)
                s.recv(100)  # gone mid-stream
            reset_close(s)
        time.sleep(0.3)
        self.assertTrue(gw.alive(), gw.stderr()[-3000:])
        r = post(gw.port, "/v1/chat/completions", chat_body(max_tokens=2))
        self.assertEqual(r.status, 200, r)
        self.assert_still_serving()

    def test_many_concurrent_streams(self):
        out = harness.run_load(self.gw.port, "--rate", 0, "--requests", 3000, "--concurrency", 600,
                               "--stream-share", 0.5, "--max-tokens", 16, "--users", 1000, "--seed", 11,
                               "--duration", 40, timeout=45)
        self.assertEqual(out["total"], 3000, out)
        self.assertEqual(out["errors"], 0, out)
        self.assertEqual(out["by_version"]["v1"]["status"], {"200": 3000})
        self.assertEqual(out["by_version"]["v1"]["incomplete_streams"], 0)
        self.assertEqual(self.up.stats()["completed"], 3000)
        self.assertEqual(harness.metric_sum(self.gw.metrics(), "sluice_requests_in_flight"), 0)
        self.assert_still_serving()

    def test_admin_garbage(self):
        for payload in (b"POST /api/v1/reload HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\n",
                        b"GET /metrics HTTP/1.1\r\nHost: x\r\n" + b"Y: " + b"z" * 300000 + b"\r\n\r\n",
                        b"DELETE /api/v1/routes HTTP/1.1\r\nHost: x\r\n\r\n", b"\xff" * 5000):
            raw_exchange(self.gw.admin_port, payload, read_timeout=1.0)
        r = get(self.gw.admin_port, "/nope")
        self.assertEqual(r.status, 404)
        self.assert_still_serving()


if __name__ == "__main__":
    unittest.main(verbosity=2)
