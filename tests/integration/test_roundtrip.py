"""Round trips through the gateway: chat, completions and embeddings, plain and streamed, with
the model rewritten to the version's upstream_model and sluice's headers on every response."""
import base64
import math
import re
import struct
import sys
import unittest

sys.dont_write_bytecode = True
import harness  # noqa: E402
from harness import assert_openai_error, chat_body, completion_body, json_events, post, get, stream, stream_text

REQUEST_ID = re.compile(r"^[0-9a-f]{32}$")


class RoundTrip(harness.TestCase):
    def setUp(self):
        super().setUp()
        self.up = self.sim(model_id="sim-up", max_tokens=12)
        self.gw = self.gateway({
            "chat": [harness.version("v1", self.up, 1, upstream_model="up-chat-v1")],
            "embed": [harness.version("e1", self.up, 1)],  # no upstream_model: the version name
        })

    def assert_sluice_headers(self, headers, version):
        self.assertEqual(headers.get("x-sluice-version"), version, headers)
        self.assertRegex(headers.get("x-sluice-request-id", ""), REQUEST_ID)

    def assert_upstream_saw(self, model, requests):
        st = self.up.stats()
        self.assertEqual(st["last_model"], model, st)
        self.assertEqual(st["requests"], requests, st)

    def assert_usage(self, usage, output=True):
        self.assertIsInstance(usage, dict)
        self.assertIsInstance(usage.get("prompt_tokens"), int, usage)
        self.assertGreater(usage["prompt_tokens"], 0, usage)
        if output:
            self.assertIsInstance(usage.get("completion_tokens"), int, usage)
            self.assertGreater(usage["completion_tokens"], 0, usage)

    # ---- chat

    def test_chat_plain(self):
        r = post(self.gw.port, "/v1/chat/completions", chat_body(content="What is 2+2?"))
        self.assertEqual(r.status, 200, r)
        self.assert_sluice_headers(r.headers, "v1")
        self.assertTrue(r.headers.get("content-type", "").startswith("application/json"), r.headers)
        doc = r.json()
        msg = doc["choices"][0]["message"]
        self.assertEqual(msg["role"], "assistant")
        self.assertIsInstance(msg["content"], str)
        self.assertTrue(msg["content"])
        self.assert_usage(doc["usage"])
        self.assert_upstream_saw("up-chat-v1", 1)
        # a second request gets its own id
        r2 = post(self.gw.port, "/v1/chat/completions", chat_body())
        self.assertEqual(r2.status, 200, r2)
        self.assertNotEqual(r.headers["x-sluice-request-id"], r2.headers["x-sluice-request-id"])
        self.assert_upstream_saw("up-chat-v1", 2)

    def test_chat_stream_without_usage_drops_the_usage_chunk(self):
        s, events = stream(self.gw.port, "/v1/chat/completions", chat_body(stream=True))
        self.assertEqual(s.status, 200, s.raw)
        self.assertTrue(s.headers.get("content-type", "").startswith("text/event-stream"), s.headers)
        self.assert_sluice_headers(s.headers, "v1")
        self.assertEqual(events[-1], "[DONE]", events)
        chunks = json_events(events)
        self.assertGreater(len(chunks), 1)
        self.assertTrue(stream_text(chunks))
        for c in chunks:
            self.assertIsNone(c.get("usage"), "usage chunk reached a client that did not ask for it: %r" % c)
            self.assertTrue(c.get("choices"), "a chunk without choices: %r" % c)
        self.assertTrue(any(ch.get("finish_reason") for c in chunks for ch in c["choices"]), chunks)
        self.assert_upstream_saw("up-chat-v1", 1)
        self.assertEqual(self.up.stats()["streams"], 1)

    def test_chat_stream_with_usage_keeps_the_usage_chunk(self):
        body = chat_body(stream=True, stream_options={"include_usage": True})
        s, events = stream(self.gw.port, "/v1/chat/completions", body)
        self.assertEqual(s.status, 200, s.raw)
        self.assert_sluice_headers(s.headers, "v1")
        self.assertEqual(events[-1], "[DONE]", events)
        chunks = json_events(events)
        with_usage = [c for c in chunks if c.get("usage")]
        self.assertEqual(len(with_usage), 1, chunks)
        self.assertIs(with_usage[0], chunks[-1], "the usage chunk is the last one before [DONE]")
        self.assertEqual(with_usage[0].get("choices"), [])
        self.assert_usage(with_usage[0]["usage"])
        self.assertTrue(stream_text(chunks))
        self.assert_upstream_saw("up-chat-v1", 1)

    # ---- completions

    def test_completions_plain(self):
        r = post(self.gw.port, "/v1/completions", completion_body())
        self.assertEqual(r.status, 200, r)
        self.assert_sluice_headers(r.headers, "v1")
        doc = r.json()
        self.assertIsInstance(doc["choices"][0]["text"], str)
        self.assertTrue(doc["choices"][0]["text"])
        self.assert_usage(doc["usage"])
        self.assert_upstream_saw("up-chat-v1", 1)

    def test_completions_stream(self):
        s, events = stream(self.gw.port, "/v1/completions", completion_body(stream=True))
        self.assertEqual(s.status, 200, s.raw)
        self.assert_sluice_headers(s.headers, "v1")
        self.assertEqual(events[-1], "[DONE]")
        chunks = json_events(events)
        self.assertTrue(stream_text(chunks))
        self.assertFalse([c for c in chunks if c.get("usage")], chunks)

        s, events = stream(self.gw.port, "/v1/completions",
                           completion_body(stream=True, stream_options={"include_usage": True}))
        self.assertEqual(s.status, 200, s.raw)
        chunks = json_events(events)
        with_usage = [c for c in chunks if c.get("usage")]
        self.assertEqual(len(with_usage), 1, chunks)
        self.assert_usage(with_usage[0]["usage"])
        self.assert_upstream_saw("up-chat-v1", 2)

    # ---- embeddings

    def test_embeddings_float(self):
        r = post(self.gw.port, "/v1/embeddings", {"model": "embed", "input": ["alpha", "beta", "gamma"]})
        self.assertEqual(r.status, 200, r)
        self.assert_sluice_headers(r.headers, "e1")
        doc = r.json()
        self.assertEqual(len(doc["data"]), 3, doc)
        self.assertEqual(sorted(d["index"] for d in doc["data"]), [0, 1, 2])
        dims = {len(d["embedding"]) for d in doc["data"]}
        self.assertEqual(len(dims), 1, dims)
        self.assertGreater(dims.pop(), 0)
        for d in doc["data"]:
            for x in d["embedding"]:
                self.assertIsInstance(x, float)
                self.assertTrue(math.isfinite(x))
        self.assert_usage(doc["usage"], output=False)
        self.assert_upstream_saw("e1", 1)

    def test_embeddings_base64(self):
        r = post(self.gw.port, "/v1/embeddings", {"model": "embed", "input": "alpha"})
        self.assertEqual(r.status, 200, r)
        dim = len(r.json()["data"][0]["embedding"])
        r = post(self.gw.port, "/v1/embeddings", {"model": "embed", "input": "alpha", "encoding_format": "base64"})
        self.assertEqual(r.status, 200, r)
        self.assert_sluice_headers(r.headers, "e1")
        emb = r.json()["data"][0]["embedding"]
        self.assertIsInstance(emb, str, "encoding_format base64 must give a base64 string")
        raw = base64.b64decode(emb, validate=True)
        self.assertEqual(len(raw), 4 * dim, "base64 holds little-endian float32s, as many as the float form")
        for (x,) in struct.iter_unpack("<f", raw):
            self.assertTrue(math.isfinite(x))
        self.assert_upstream_saw("e1", 2)

    # ---- models

    def test_models_list(self):
        r = get(self.gw.port, "/v1/models")
        self.assertEqual(r.status, 200, r)
        self.assertTrue(r.headers.get("content-type", "").startswith("application/json"), r.headers)
        doc = r.json()
        self.assertEqual(doc["object"], "list")
        self.assertEqual(sorted(m["id"] for m in doc["data"]), ["chat", "embed"])
        for m in doc["data"]:
            self.assertEqual(m["object"], "model")
        self.assertEqual(self.up.stats()["requests"], 0, "the gateway answers /v1/models itself")

    def test_version_with_two_upstreams_uses_both(self):
        other = self.sim(name="sim-2", model_id="sim-up")
        gw = self.gateway({"chat": [{"name": "v1", "upstreams": [self.up.url, other.url], "weight": 1,
                                     "upstream_model": "pair"}]}, name="sluice-pair")
        for _ in range(20):
            r = post(gw.port, "/v1/chat/completions", chat_body())
            self.assertEqual(r.status, 200, r)
        a, b = self.up.stats(), other.stats()
        self.assertEqual(a["requests"] + b["requests"], 20)
        self.assertGreater(a["requests"], 0)
        self.assertGreater(b["requests"], 0)
        self.assertEqual((a["last_model"], b["last_model"]), ("pair", "pair"))

    def test_upstream_error_status_is_relayed(self):
        r = post(self.gw.port, "/v1/chat/completions", chat_body(), headers={"x-sim-fault": "error-500"})
        self.assertGreaterEqual(r.status, 500, r)
        self.assert_sluice_headers(r.headers, "v1")
        assert_openai_error(self, r, r.status)
        self.assertGreaterEqual(self.up.stats()["errors"], 1)


if __name__ == "__main__":
    unittest.main(verbosity=2)
