"""Byte-exact upstream cases, with a scripted upstream instead of the sim: what the upstream
receives (rewritten model, usage requested for streams, the version's API key, the request id,
base-URL prefixes), SSE split at odd boundaries, and upstreams that stop mid-response."""
import http.client
import json
import random
import sys
import time
import unittest

sys.dont_write_bytecode = True
import harness  # noqa: E402
from harness import chat_body, http_chunk, json_events, post, stream, stream_text

SECRET = "sk-upstream-%016x" % random.Random(99).getrandbits(64)


def chunk_event(obj):
    return ("data: " + json.dumps(obj) + "\n\n").encode()


def content_chunk(i, text, finish=None):
    return {"id": "c", "object": "chat.completion.chunk", "model": "m",
            "choices": [{"index": 0, "delta": {"content": text}, "finish_reason": finish}]}


USAGE_CHUNK = {"id": "c", "object": "chat.completion.chunk", "model": "m", "choices": [],
               "usage": {"prompt_tokens": 7, "completion_tokens": 5, "total_tokens": 12}}

SSE_HEAD = (b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n"
            b"Cache-Control: no-cache\r\n\r\n")


def sse_body(words, usage=True):
    out = b"".join(chunk_event(content_chunk(i, w + " ")) for i, w in enumerate(words[:-1]))
    out += chunk_event(content_chunk(len(words), words[-1], finish="stop"))
    if usage:
        out += chunk_event(USAGE_CHUNK)
    return out + b"data: [DONE]\n\n"


def json_response(obj, status=200):
    body = json.dumps(obj).encode()
    return (b"HTTP/1.1 %d X\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" %
            (status, len(body), body))


CHAT_RESPONSE = {"id": "r", "object": "chat.completion", "model": "m",
                 "choices": [{"index": 0, "message": {"role": "assistant", "content": "hello there"},
                              "finish_reason": "stop"}],
                 "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}}

WORDS = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta"]


class WhatTheUpstreamSees(harness.TestCase):
    def test_request_rewritten_for_the_version(self):
        def handler(sock, req):
            if req.json().get("stream"):
                sock.sendall(SSE_HEAD + http_chunk(sse_body(WORDS)) + b"0\r\n\r\n")
            else:
                sock.sendall(json_response(CHAT_RESPONSE))
            return True

        up = self.scripted(handler)
        gw = self.gateway({"chat": [harness.version("v1", up.url, 1, upstream_model="real-model-7b",
                                                    api_key_env="SLUICE_IT_UP_KEY")]},
                          env={"SLUICE_IT_UP_KEY": SECRET})
        body = chat_body(temperature=0.25, max_tokens=13, user="someone", seed=42)
        r = post(gw.port, "/v1/chat/completions", body,
                 headers={"authorization": "Bearer client-own-key", "x-custom-thing": "kept"})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["choices"][0]["message"]["content"], "hello there")
        req = up.requests[-1]
        self.assertEqual(req.method, "POST")
        self.assertEqual(req.path, "/v1/chat/completions")
        sent = req.json()
        self.assertEqual(sent["model"], "real-model-7b")
        for k in ("messages", "temperature", "max_tokens", "user", "seed"):
            self.assertEqual(sent[k], body[k], k)
        self.assertNotIn("stream_options", sent)
        self.assertEqual(req.header("authorization"), "Bearer " + SECRET, "the version's key replaces the client's")
        self.assertEqual(len([1 for k, _ in req.headers if k == "authorization"]), 1)
        self.assertEqual(req.header("x-custom-thing"), "kept")
        self.assertEqual(req.header("x-sluice-request-id"), r.headers["x-sluice-request-id"])
        self.assertEqual(req.header("host"), "127.0.0.1:%d" % up.port)
        self.assertEqual(int(req.header("content-length")), len(req.body))

        # a stream: usage is asked for upstream, and the client that did not ask does not get it
        s, events = stream(gw.port, "/v1/chat/completions", chat_body(stream=True))
        self.assertEqual(s.status, 200)
        sent = up.requests[-1].json()
        self.assertTrue(sent["stream"])
        self.assertEqual(sent.get("stream_options", {}).get("include_usage"), True)
        self.assertEqual(events[-1], "[DONE]")
        chunks = json_events(events)
        self.assertEqual(stream_text(chunks), " ".join(WORDS))
        self.assertFalse([c for c in chunks if c.get("usage")], chunks)

    def test_body_fidelity(self):
        # only "model" changes: numbers keep their text, strings their characters
        up = self.scripted(lambda sock, req: sock.sendall(json_response(CHAT_RESPONSE)) or True)
        gw = self.gateway({"chat": [harness.version("v1", up.url, 1, upstream_model="org/model-x")]})
        raw = ('{"model":"chat","messages":[{"role":"user","content":"h\\u00e9 \\ud83d\\ude00 \\u2028 a/b '
               '\\"q\\" \\\\ \\u0000 \u00fcml"}],"temperature":0.30000000000000004,'
               '"seed":12345678901234567890,"top_p":1e-7,"n":1.0,"logit_bias":{"50256":-100},"tools":[],'
               '"x":null,"y":{"z":[1,2,{"w":true}]}}')
        r = harness.call(gw.port, "POST", "/v1/chat/completions", raw, {"content-type": "application/json"})
        self.assertEqual(r.status, 200, r)
        sent_text = up.requests[-1].body.decode("utf-8")
        sent, orig = json.loads(sent_text), json.loads(raw)
        self.assertEqual(sent.pop("model"), "org/model-x")
        orig.pop("model")
        self.assertEqual(sent, orig)
        for number in ("0.30000000000000004", "12345678901234567890", "1e-7", "1.0", "-100"):
            self.assertIn(number, sent_text)

    def test_client_key_passes_when_no_version_key(self):
        up = self.scripted(lambda sock, req: sock.sendall(json_response(CHAT_RESPONSE)) or True)
        gw = self.gateway({"chat": [harness.version("v1", up.url, 1)]})
        r = post(gw.port, "/v1/chat/completions", chat_body(), headers={"authorization": "Bearer client-own-key"})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(up.requests[-1].header("authorization"), "Bearer client-own-key")

    def test_base_url_paths(self):
        up = self.scripted(lambda sock, req: sock.sendall(json_response(CHAT_RESPONSE)) or True)
        gw = self.gateway({"a": [harness.version("v1", up.url + "/v1", 1)],
                           "b": [harness.version("v1", up.url + "/openai", 1)]})
        self.assertEqual(post(gw.port, "/v1/chat/completions", chat_body(model="a")).status, 200)
        self.assertEqual(up.requests[-1].path, "/v1/chat/completions", "a /v1 base URL is not doubled")
        self.assertEqual(post(gw.port, "/v1/completions", chat_body(model="b")).status, 200)
        self.assertEqual(up.requests[-1].path, "/openai/v1/completions")


class StreamFraming(harness.TestCase):
    def split_handler(self, seed, crlf=False, usage=True):
        def handler(sock, req):
            body = sse_body(WORDS, usage=usage)
            if crlf:
                body = body.replace(b"\n", b"\r\n")
            rng = random.Random(seed)
            sock.sendall(SSE_HEAD)
            pos = 0
            while pos < len(body):  # pieces of 1 to 7 bytes, each its own HTTP chunk and TCP write
                n = rng.randrange(1, 8)
                sock.sendall(http_chunk(body[pos:pos + n]))
                pos += n
                if rng.random() < 0.05:
                    time.sleep(0.002)
            sock.sendall(b"0\r\n\r\n")
            return True
        return handler

    def check(self, seed, crlf, include_usage):
        up = self.scripted(self.split_handler(seed, crlf))
        gw = self.gateway({"chat": [harness.version("v1", up.url, 1)]}, name="sluice-%d" % seed)
        body = chat_body(stream=True)
        if include_usage:
            body["stream_options"] = {"include_usage": True}
        s, events = stream(gw.port, "/v1/chat/completions", body)
        self.assertEqual(s.status, 200)
        self.assertEqual(events[-1], "[DONE]", events)
        chunks = json_events(events)  # every event arrives whole: each parses as JSON
        self.assertEqual(stream_text(chunks), " ".join(WORDS))
        usage = [c for c in chunks if c.get("usage")]
        self.assertEqual(usage, [USAGE_CHUNK] if include_usage else [])
        samples = gw.metrics()
        self.assertEqual(harness.metric_sum(samples, "gen_ai_client_token_usage_sum", token_type="output"), 5)
        self.assertEqual(harness.metric_sum(samples, "gen_ai_server_time_to_first_token_seconds_count"), 1)

    def test_events_split_at_odd_boundaries(self):
        for seed in (1, 2):
            for include_usage in (False, True):
                with self.subTest(seed=seed, include_usage=include_usage):
                    self.check(seed * 10 + include_usage, False, include_usage)

    def test_crlf_event_separators(self):
        self.check(7, True, False)


class UpstreamStopsMidResponse(harness.TestCase):
    def assert_stream_ends_with_error(self, handler):
        up = self.scripted(handler)
        gw = self.gateway({"chat": [harness.version("v1", up.url, 1)]})
        t0 = time.monotonic()
        s, events = stream(gw.port, "/v1/chat/completions", chat_body(stream=True), timeout=10)
        self.assertLess(time.monotonic() - t0, 5)
        self.assertEqual(s.status, 200)
        self.assertTrue(events)
        self.assertNotEqual(events[-1], "[DONE]")
        last = json.loads(events[-1])
        self.assertIn("error", last, "the client cannot tell the stream was cut: %r" % events)
        self.assertTrue(last["error"].get("message"))
        return events

    def test_upstream_dies_inside_an_http_chunk(self):
        def handler(sock, req):
            body = sse_body(WORDS)
            # the chunk announces the whole body, but only 150 bytes of it come
            sock.sendall(SSE_HEAD + b"%x\r\n" % len(body) + body[:150])
            return False
        events = self.assert_stream_ends_with_error(handler)
        self.assertIn("alpha", json.dumps(json.loads(events[0])))

    # h2o 2.2.5's HTTP/1 client reports a chunked body that stops at a chunk boundary (no
    # terminating 0-chunk) as a normal end; the gateway must still see the stream is cut.
    def test_upstream_dies_after_a_complete_event(self):
        # Two whole events, each in its own complete HTTP chunk, then the connection closes:
        # no terminating 0-chunk, no finish_reason, no [DONE].
        def handler(sock, req):
            sock.sendall(SSE_HEAD + http_chunk(chunk_event(content_chunk(0, "alpha "))) +
                         http_chunk(chunk_event(content_chunk(1, "beta "))))
            return False
        self.assert_stream_ends_with_error(handler)

    def test_upstream_dies_with_an_event_half_sent(self):
        def handler(sock, req):
            body = sse_body(WORDS)
            sock.sendall(SSE_HEAD + http_chunk(body[:150]))
            return False
        self.assert_stream_ends_with_error(handler)

    def plain_cut(self, handler):
        up = self.scripted(handler)
        gw = self.gateway({"chat": [harness.version("v1", up.url, 1)]})
        conn = http.client.HTTPConnection("127.0.0.1", gw.port, timeout=10)
        try:
            conn.request("POST", "/v1/chat/completions", body=json.dumps(chat_body()),
                         headers={"content-type": "application/json"})
            resp = conn.getresponse()
            try:
                got = resp.read()
            except (http.client.IncompleteRead, ConnectionError):
                got = None
        finally:
            conn.close()
        self.assertIsNone(got, "a cut upstream body reached the client as a complete response: %r" % (got,))

    def test_plain_body_cut_inside_content_length(self):
        body = json.dumps(CHAT_RESPONSE).encode()
        self.plain_cut(lambda sock, req: sock.sendall(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" %
            (len(body), body[:40])))

    def test_plain_body_cut_inside_a_chunk(self):
        body = json.dumps(CHAT_RESPONSE).encode()
        self.plain_cut(lambda sock, req: sock.sendall(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
            b"%x\r\n%s" % (len(body), body[:40])))

    def test_plain_body_cut_at_a_chunk_boundary_looks_cut(self):
        body = json.dumps(CHAT_RESPONSE).encode()
        self.plain_cut(lambda sock, req: sock.sendall(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n" +
            http_chunk(body[:40])))

    def test_connection_close_delimited_body_is_relayed_whole(self):
        body = json.dumps(CHAT_RESPONSE).encode()

        def handler(sock, req):
            sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n" + body)
            return False

        up = self.scripted(handler)
        gw = self.gateway({"chat": [harness.version("v1", up.url, 1)]})
        r = post(gw.port, "/v1/chat/completions", chat_body())
        self.assertEqual(r.status, 200)
        self.assertEqual(r.json(), CHAT_RESPONSE)


if __name__ == "__main__":
    unittest.main(verbosity=2)
