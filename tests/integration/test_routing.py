"""Traffic split and sticky assignment: a 90/10 split over 10,000 requests within 5 sigma, the
same user always on the same version (body field or x-sluice-user header), and a weight ramp
through SIGHUP that never moves a user from the canary back to the stable version."""
import http.client
import math
import sys
import unittest

sys.dont_write_bytecode = True
import harness  # noqa: E402
from harness import chat_body, metric_sum, post

CHAT = "/v1/chat/completions"


def version_of(conn, user=None, header_user=None, model="chat"):
    body = chat_body(model=model, max_tokens=1)
    if user is not None:
        body["user"] = user
    headers = {"x-sluice-user": header_user} if header_user is not None else None
    r = post(None, CHAT, body, headers=headers, conn=conn)
    if r.status != 200:
        raise AssertionError("request for user %r: %r" % (user or header_user, r))
    return r.headers.get("x-sluice-version")


class Split(harness.TestCase):
    def test_split_90_10_over_10000_requests(self):
        v1 = self.sim(name="sim-v1", model_id="m1", max_tokens=4)
        v2 = self.sim(name="sim-v2", model_id="m2", max_tokens=4)
        gw = self.gateway({"chat": [harness.version("v1", v1, 90, upstream_model="m1"),
                                    harness.version("v2", v2, 10, upstream_model="m2")]},
                          access_log="off")
        n, users, p = 10000, 100000, 0.10
        out = harness.run_load(gw.port, "--model", "chat", "--users", users, "--rate", 0, "--requests", n,
                               "--concurrency", 32, "--stream-share", 0.2, "--max-tokens", 4, "--seed", 7,
                               "--duration", 50, timeout=58)
        self.assertEqual(out["total"], n, out)
        self.assertEqual(out["errors"], 0, out)
        by = out["by_version"]
        self.assertEqual(set(by), {"v1", "v2"}, by)
        self.assertEqual(by["v1"]["count"] + by["v2"]["count"], n)
        for name in ("v1", "v2"):
            self.assertEqual(by[name]["status"], {"200": by[name]["count"]}, by[name])
            self.assertEqual(by[name].get("incomplete_streams", 0), 0, by[name])
        # each request is a user drawn from `users`; each user is on v2 with probability p, so the
        # v2 count has variance n p (1-p) (request draw) plus n^2 p (1-p) / users (user assignment)
        sigma = math.sqrt(n * p * (1 - p) + n * n * p * (1 - p) / users)
        self.assertLess(abs(by["v2"]["count"] - n * p), 5 * sigma,
                        "v2 got %d of %d requests, expected %.0f +- %.0f" % (by["v2"]["count"], n, n * p, 5 * sigma))
        self.assertAlmostEqual(by["v2"]["share"], by["v2"]["count"] / n, places=4)
        # each version's upstream served exactly what the client saw from it
        self.assertEqual(v1.stats()["requests"], by["v1"]["count"])
        self.assertEqual(v2.stats()["requests"], by["v2"]["count"])
        self.assertEqual(v2.stats()["last_model"], "m2")
        # and the gateway's own counters agree
        samples = gw.metrics()
        for name in ("v1", "v2"):
            self.assertEqual(metric_sum(samples, "sluice_requests_total", model="chat", version=name),
                             by[name]["count"], name)
            self.assertEqual(metric_sum(samples, "sluice_streams_total", model="chat", version=name),
                             by[name]["streams"], name)
            self.assertEqual(metric_sum(samples, "gen_ai_server_time_to_first_token_seconds_count", model="chat",
                                        version=name), by[name]["streams"], name)
        # about a fifth of the requests streamed (binomial, 5 sigma)
        streams = by["v1"]["streams"] + by["v2"]["streams"]
        self.assertLess(abs(streams - 0.2 * n), 5 * math.sqrt(n * 0.2 * 0.8), streams)


class Sticky(harness.TestCase):
    def setUp(self):
        super().setUp()
        self.up = self.sim(max_tokens=1)

    def test_same_user_same_version_50_times(self):
        gw = self.gateway({"chat": [harness.version("v1", self.up, 50), harness.version("v2", self.up, 50)]})
        conn = http.client.HTTPConnection("127.0.0.1", gw.port, timeout=10)
        try:
            seen = {}
            for i in range(40):
                user = "user-%d" % i
                versions = {version_of(conn, user=user) for _ in range(50)}
                self.assertEqual(len(versions), 1, "user %s moved between %s" % (user, versions))
                seen[user] = versions.pop()
            # at 50/50 forty users land on both versions (all on one: probability 2^-39)
            self.assertEqual(set(seen.values()), {"v1", "v2"}, seen)
            # without a key each request is drawn on its own: 200 draws at 50/50 see both
            anon = {version_of(conn) for _ in range(200)}
            self.assertEqual(anon, {"v1", "v2"})
        finally:
            conn.close()

    def test_sticky_header_when_body_has_no_user(self):
        gw = self.gateway({"chat": [harness.version("v1", self.up, 50), harness.version("v2", self.up, 50)]})
        conn = http.client.HTTPConnection("127.0.0.1", gw.port, timeout=10)
        try:
            by_body = {}
            for i in range(40):
                user = "hdr-user-%d" % i
                by_body[user] = version_of(conn, user=user)
                got = {version_of(conn, header_user=user) for _ in range(10)}
                # the header is the same key as the body field: same hash, same version
                self.assertEqual(got, {by_body[user]}, user)
            self.assertEqual(set(by_body.values()), {"v1", "v2"})
        finally:
            conn.close()

    def test_custom_sticky_field_and_header(self):
        gw = self.gateway({"chat": [harness.version("v1", self.up, 50), harness.version("v2", self.up, 50)]},
                          sticky_field="account", sticky_header="x-account")
        conn = http.client.HTTPConnection("127.0.0.1", gw.port, timeout=10)
        try:
            versions = set()
            for i in range(30):
                body = chat_body(max_tokens=1, account="acct-%d" % i)
                vs = set()
                for _ in range(10):
                    r = post(None, CHAT, body, conn=conn)
                    self.assertEqual(r.status, 200, r)
                    vs.add(r.headers["x-sluice-version"])
                    r = post(None, CHAT, chat_body(max_tokens=1), headers={"x-account": "acct-%d" % i},
                             conn=conn)
                    vs.add(r.headers["x-sluice-version"])
                self.assertEqual(len(vs), 1, vs)
                versions |= vs
            self.assertEqual(versions, {"v1", "v2"})
        finally:
            conn.close()

    def test_weight_ramp_never_moves_a_user_back(self):
        users = ["ramp-user-%d" % i for i in range(600)]
        cfg_versions = lambda w2: [harness.version("v1", self.up, 100 - w2), harness.version("v2", self.up, w2)]
        gw = self.gateway({"chat": cfg_versions(10)})
        conn = http.client.HTTPConnection("127.0.0.1", gw.port, timeout=10)
        try:
            before = {u: version_of(conn, user=u) for u in users}
            on_v2 = {u for u, v in before.items() if v == "v2"}
            n = len(users)
            sigma = math.sqrt(n * 0.1 * 0.9)
            self.assertLess(abs(len(on_v2) - n * 0.1), 5 * sigma, len(on_v2))
            gen = gw.generation()
            for w2 in (20, 30, 40, 50):
                gen_new = gw.reload({"models": [{"name": "chat", "versions": cfg_versions(w2)}]})
                self.assertEqual(gen_new, gen + 1)
                gen = gen_new
                now = {u: version_of(conn, user=u) for u in users}
                moved_back = sorted(u for u in on_v2 if now[u] != "v2")
                self.assertEqual(moved_back, [], "at v2 weight %d these users left v2" % w2)
                on_v2_now = {u for u, v in now.items() if v == "v2"}
                self.assertGreaterEqual(len(on_v2_now), len(on_v2))
                on_v2 = on_v2_now
            p = 0.5
            sigma = math.sqrt(n * p * (1 - p))
            self.assertLess(abs(len(on_v2) - n * p), 5 * sigma, len(on_v2))
        finally:
            conn.close()

    def test_zero_weight_gets_no_traffic(self):
        gw = self.gateway({"chat": [harness.version("v1", self.up, 1), harness.version("v2", self.up, 0)]})
        conn = http.client.HTTPConnection("127.0.0.1", gw.port, timeout=10)
        try:
            got = {version_of(conn, user="u%d" % i) for i in range(300)}
            got |= {version_of(conn) for _ in range(100)}
            self.assertEqual(got, {"v1"})
        finally:
            conn.close()


if __name__ == "__main__":
    unittest.main(verbosity=2)
