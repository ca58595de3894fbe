"""An uploaded reference for the live drift monitor, end to end: `sluice serve` with small windows
(reference and windows of 100 requests) behind one `sluice sim`, requests sent one by one with
known prompts so the test can compute the prompt features the gateway extracts (prompt_chars,
messages, script and character-class shares) and write references from them.

Checks PUT /api/v1/drift/{model}/{version}/reference (CSV and JSON Lines): a reference unlike the
live traffic makes the next window drift; one built from the same prompts reads ok; malformed
uploads get 400 (413 past the size limit) with a message naming the column, line or limit, and
leave the previous reference in place; the upload is in the store and survives a restart;
DELETE goes back to the live window; the admin token guards the route; and the CLI
`sluice drift reference upload|delete`. Standard library only; run with /usr/bin/python3."""
import json
import os
import random
import sqlite3
import sys
import time
import unittest

sys.dont_write_bytecode = True
import harness  # noqa: E402
from harness import get  # noqa: E402

N = 100  # reference_size and window_size
CHAT = "/v1/chat/completions"
WORDS = ["alpha", "river", "stone", "quick", "brown", "fox", "jumps", "over", "lazy", "dog", "data", "model",
         "drift", "window", "test", "value", "number", "seven", "eleven", "query"]


def prompts(n, seed):
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        words = [rng.choice(WORDS) for _ in range(rng.randint(3, 30))]
        if rng.random() < 0.3:
            words.append(str(rng.randint(0, 99999)))
        out.append(" ".join(words) + rng.choice([".", "?", "!", ""]))
    return out


def features(text):
    """The gateway's prompt features of a one-message chat request of ASCII text."""
    n = len(text)
    letters = sum(c.isascii() and c.isalpha() for c in text)
    digits = sum(c.isdigit() for c in text)
    spaces = sum(c in " \n\t\r" for c in text)
    return {"prompt_chars": n, "messages": 1, "script_latin": 1.0 if letters else None,
            "script_cyrillic": 0.0 if letters else None, "class_letter": letters / n, "class_digit": digits / n,
            "class_space": spaces / n, "class_punct": (n - letters - digits - spaces) / n}


def csv_of(rows):
    cols = list(rows[0])
    lines = [",".join(cols)]
    for r in rows:
        lines.append(",".join("" if r[c] is None else repr(r[c]) for c in cols))
    return "\n".join(lines) + "\n"


def jsonl_of(rows):
    return "".join(json.dumps(r) + "\n" for r in rows)


class DriftReference(harness.TestCase):
    def setUp(self):
        super().setUp()
        self.live = prompts(N, seed=11)

    def start(self, env=None, **top):
        s = self.sim(name="sim", model_id="sim-model", seed=5)
        top.setdefault("access_log", "off")
        return self.gateway({"chat": [harness.version("v1", s, 100, upstream_model="sim-model")]}, env=env,
                            drift={"reference_size": N, "window_size": N}, **top)

    def put(self, gw, body, headers=None, method="PUT", path="/api/v1/drift/chat/v1/reference"):
        return harness.call(gw.admin_port, method, path, body, headers=headers, timeout=10)

    def version(self, gw):
        doc = get(gw.admin_port, "/api/v1/drift", timeout=5).json()
        for v in doc["versions"]:
            if (v["model"], v["version"]) == ("chat", "v1"):
                return v
        return None

    def send_window(self, gw):
        """Sends the N live prompts; waits for the window they close; returns its report."""
        before = self.version(gw)
        windows = before["windows"] if before else 0
        for p in self.live:
            r = harness.post(gw.port, CHAT, harness.chat_body(content=p))
            self.assertEqual(r.status, 200, r)
        deadline = time.monotonic() + 10
        while True:
            v = self.version(gw)
            if v and v["windows"] == windows + 1:
                return v["last"]
            if time.monotonic() > deadline:
                self.fail("no window closed after %d requests: %r" % (N, v))
            time.sleep(0.02)

    def stored(self, gw):
        db = sqlite3.connect("file:%s?mode=ro" % gw.config["store"], uri=True, timeout=5)
        try:
            return db.execute("SELECT model, version, rows FROM drift_references").fetchall()
        finally:
            db.close()

    def unlike(self):
        """Long Cyrillic-looking prompts of three messages: most features move."""
        rows = []
        for p in prompts(300, seed=99):
            f = features(p)
            f.update(prompt_chars=f["prompt_chars"] * 5 + 200, messages=3, script_latin=0.0, script_cyrillic=1.0)
            rows.append(f)
        return csv_of(rows)

    def matching(self):
        return jsonl_of([features(p) for p in self.live])

    def assert_refused(self, gw, body, status, fragment):
        r = self.put(gw, body)
        self.assertEqual(r.status, status, r)
        self.assertTrue(r.headers.get("content-type", "").startswith("application/json"), r.headers)
        msg = r.json()["error"]["message"]
        self.assertIn(fragment, msg, msg)

    def test_upload_drift_ok_refusals_restart_delete(self):
        gw = self.start()
        doc = get(gw.admin_port, "/api/v1/drift").json()
        self.assertIn("prompt_chars", doc["features"])
        self.assertIn("finish_reason", doc["features"])

        # 1. a reference unlike live traffic: the first window drifts
        r = self.put(gw, self.unlike(), headers={"content-type": "text/csv"})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json(), {"model": "chat", "version": "v1", "reference_source": "uploaded", "rows": 300,
                                    "stored": True})
        v = self.version(gw)
        self.assertEqual((v["reference_source"], v["reference"], v["current"], v["windows"]), ("uploaded", N, 0, 0))
        self.assertEqual(self.stored(gw), [("chat", "v1", 300)])
        rep = self.send_window(gw)
        self.assertEqual(rep["state"], "drift", rep)
        drifted = {f["name"] for f in rep["features"] if f["drift"]}
        self.assertTrue({"prompt_chars", "messages", "script_latin", "script_cyrillic"} <= drifted, rep)

        # 2. a reference from the very prompts sent (JSON Lines): ok
        r = self.put(gw, self.matching())
        self.assertEqual(r.status, 200, r)
        rep = self.send_window(gw)
        self.assertEqual(rep["state"], "ok", rep)
        self.assertEqual(rep["drifted"], 0, rep)
        self.assertIn("prompt_chars", {f["name"] for f in rep["features"]})

        # 3. malformed uploads: 400/413 with the reason, and the matching reference stays
        self.assert_refused(gw, "prompt_chars,colour\n10,red\n", 400, "unknown column 'colour'")
        self.assert_refused(gw, "prompt_chars,messages\n10,1\n12,oops\n", 400,
                            "reference:3: column 'messages' is declared numeric but holds 'oops'")
        self.assert_refused(gw, '{"prompt_chars": 10}\n{"prompt_chars": "ten"}\n', 400,
                            "reference:2: column 'prompt_chars'")
        self.assert_refused(gw, '{"prompt_chars": 10\n', 400, "reference:1:")
        self.assert_refused(gw, "prompt_chars\n", 400, "no rows")
        self.assert_refused(gw, "", 400, "reference")
        big = "prompt_chars\n" + "12345\n" * 200000  # 1.2 MB: over the admin listener's 1 MiB
        try:  # h2o answers 413 and closes, possibly before it has read what the client sends
            self.assertEqual(self.put(gw, big).status, 413)
        except (BrokenPipeError, ConnectionResetError):
            pass
        r = self.put(gw, self.matching(), method="POST")
        harness.assert_openai_error(self, r, 405)
        r = self.put(gw, self.matching(), path="/api/v1/drift/chat/v1/other")
        harness.assert_openai_error(self, r, 404)
        self.assertEqual(self.version(gw)["reference_source"], "uploaded")
        self.assertEqual(self.stored(gw), [("chat", "v1", N)])
        self.assertEqual(self.send_window(gw)["state"], "ok")  # still the matching reference

        # 4. a restart keeps it: the first N requests are a window, not a new reference
        gw.signal(15)
        gw.wait(10)
        gw2 = harness.respawn_gateway(gw, "sluice-restarted")
        self.procs.append(gw2)
        v = self.version(gw2)
        self.assertEqual((v["reference_source"], v["reference"], v["windows"]), ("uploaded", N, 0), v)
        rep = self.send_window(gw2)
        self.assertEqual(rep["state"], "ok", rep)

        # 5. DELETE: back to the live window (the next N requests form the reference)
        r = self.put(gw2, None, method="DELETE")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["reference_source"], "live")
        self.assertIs(r.json()["removed"], True)
        v = self.version(gw2)
        self.assertEqual((v["reference_source"], v["reference"], v["current"]), ("live", 0, 0), v)
        self.assertEqual(self.stored(gw2), [])

    def test_admin_token_guards_the_upload(self):
        gw = self.start(env={"SLUICE_IT_ADMIN_TOKEN": "tok-d1"}, admin_token_env="SLUICE_IT_ADMIN_TOKEN")
        for hdr in (None, {"authorization": "Bearer wrong"}):
            for method in ("PUT", "DELETE"):
                r = self.put(gw, self.matching(), headers=hdr, method=method)
                harness.assert_openai_error(self, r, 401)
        r = self.put(gw, self.matching(), headers={"authorization": "Bearer tok-d1"})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["rows"], N)

    def test_cli_upload_and_delete(self):
        gw = self.start()
        admin = "http://127.0.0.1:%d" % gw.admin_port
        good = self.write("ref.jsonl", self.matching())
        bad = self.write("bad.csv", "prompt_chars,colour\n1,red\n")
        rc, out, err = harness.run_cli("drift", "reference", "upload", "chat", "v1", good, "--admin", admin)
        self.assertEqual(rc, 0, err)
        self.assertIn("chat/v1: reference uploaded (100 rows)", out)
        self.assertEqual(self.version(gw)["reference_source"], "uploaded")
        rc, out, err = harness.run_cli("drift", "reference", "upload", "chat", "v1", bad, "--admin", admin)
        self.assertEqual(rc, 1, err)
        self.assertIn("unknown column 'colour'", err)
        rc, out, err = harness.run_cli("drift", "reference", "upload", "chat", "v1", "--admin", admin)
        self.assertEqual(rc, 2, err)
        rc, out, err = harness.run_cli("drift", "reference", "upload", "chat", "v1",
                                       os.path.join(self.workdir, "missing.csv"), "--admin", admin)
        self.assertEqual(rc, 2, err)
        self.assertIn("missing.csv", err)
        rc, out, err = harness.run_cli("drift", "reference", "delete", "chat", "v1", "--admin", admin, "--json")
        self.assertEqual(rc, 0, err)
        self.assertEqual(json.loads(out)["reference_source"], "live")
        self.assertEqual(self.version(gw)["reference_source"], "live")


if __name__ == "__main__":
    unittest.main()
