"""harness.py: shared process management and HTTP helpers for sluice's integration tests.

Every test starts real processes (`sluice sim`, `sluice serve`) on 127.0.0.1 ports picked by
binding port 0, talks HTTP to them with socket timeouts everywhere, and kills them in its
cleanup (and at exit, and through PR_SET_PDEATHSIG when the test runner itself dies).
Each process's stderr goes to a temporary file that is printed when a test fails.

Environment: SLUICE_BIN (the sluice binary), SLUICE_SOURCE (the repository root).
Standard library only; run with Debian's /usr/bin/python3.
"""
import atexit
import ctypes
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.environ.get("SLUICE_SOURCE") or os.path.abspath(os.path.join(HERE, "..", ".."))
BIN = os.environ.get("SLUICE_BIN") or os.path.join(SOURCE, "build", "sluice")

TEST_TIMEOUT_S = 60  # no single test may run longer (SIGALRM)
HTTP_TIMEOUT_S = 10  # default socket timeout of every HTTP call

SANITIZER_REPORT = re.compile(r"ERROR: (AddressSanitizer|LeakSanitizer)|runtime error: |WARNING: ThreadSanitizer")

_live = []  # every Process not yet reaped
_live_lock = threading.Lock()


# ---------------------------------------------------------------------------------------------
# processes


def _die_with_parent():
    """preexec_fn: the child gets SIGKILL when the test process dies (PR_SET_PDEATHSIG)."""
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGKILL, 0, 0, 0)
    except Exception:
        pass


_handed_out = set()


def free_port():
    """A loopback port that was free a moment ago (bound to port 0, then released) and that this
    process has not handed out before: the kernel may offer a port just released again, and a
    gateway given the same port for listen and admin_listen refuses to start."""
    for _ in range(100):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        finally:
            s.close()
        if port not in _handed_out:
            _handed_out.add(port)
            return port
    raise RuntimeError("no loopback port this test has not used yet")


def port_open(port, timeout=0.2):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        return s.connect_ex(("127.0.0.1", port)) == 0
    finally:
        s.close()


class ProcessFailed(AssertionError):
    pass


class Process:
    """A child process with stdout and stderr captured to files under workdir."""

    def __init__(self, name, argv, workdir, env=None):
        self.name = name
        self.argv = argv
        self.out_path = os.path.join(workdir, name + ".stdout")
        self.err_path = os.path.join(workdir, name + ".stderr")
        full_env = dict(os.environ)
        full_env.update(env or {})
        self._out = open(self.out_path, "wb")
        self._err = open(self.err_path, "wb")
        self.popen = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=self._out, stderr=self._err,
                                      env=full_env, preexec_fn=_die_with_parent, close_fds=True)
        self.pid = self.popen.pid
        with _live_lock:
            _live.append(self)

    def alive(self):
        return self.popen.poll() is None

    def returncode(self):
        return self.popen.poll()

    def signal(self, sig):
        if self.alive():
            self.popen.send_signal(sig)

    def wait(self, timeout):
        """Exit status, or raises ProcessFailed if still running after timeout seconds."""
        try:
            rc = self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise ProcessFailed("%s (pid %d) still running after %.1f s" % (self.name, self.pid, timeout))
        self._close_files()
        return rc

    def kill(self):
        if self.popen.poll() is None:
            try:
                self.popen.kill()
            except OSError:
                pass
        try:
            self.popen.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
        self._close_files()
        with _live_lock:
            if self in _live:
                _live.remove(self)

    def _close_files(self):
        for f in (self._out, self._err):
            try:
                f.close()
            except OSError:
                pass

    def stderr(self):
        with open(self.err_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def stdout(self):
        with open(self.out_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def wait_port(self, port, timeout=10.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.alive():
                raise ProcessFailed("%s exited with status %s before listening on %d:\n%s" %
                                    (self.name, self.returncode(), port, self.stderr()[-4000:]))
            if port_open(port):
                return
            time.sleep(0.02)
        raise ProcessFailed("%s: nothing listens on 127.0.0.1:%d after %.0f s:\n%s" %
                            (self.name, port, timeout, self.stderr()[-4000:]))

    def wait_stderr(self, pattern, timeout=5.0):
        """Waits until stderr matches the regular expression; returns the match."""
        deadline = time.monotonic() + timeout
        rx = re.compile(pattern)
        while time.monotonic() < deadline:
            m = rx.search(self.stderr())
            if m:
                return m
            time.sleep(0.05)
        raise ProcessFailed("%s: stderr never matched %r:\n%s" % (self.name, pattern, self.stderr()[-4000:]))

    def report(self):
        text = self.stderr()
        if len(text) > 6000:
            text = "...\n" + text[-6000:]
        return "---- %s (pid %d, %s) stderr ----\n%s" % (
            self.name, self.pid, "running" if self.alive() else "exit %s" % self.returncode(), text)


def _kill_all():
    with _live_lock:
        procs = list(_live)
    for p in procs:
        p.kill()


atexit.register(_kill_all)


# ---------------------------------------------------------------------------------------------
# configuration


def _yaml_scalar(v):
    if v is True:
        return "true"
    if v is False:
        return "false"
    if isinstance(v, (int, float)):
        return repr(v)
    return json.dumps(str(v))  # a JSON string is a valid YAML double-quoted scalar


def to_yaml(obj, indent=0):
    """Block-style YAML for dicts, lists and scalars (enough for sluice configs)."""
    pad = " " * indent
    lines = []
    if isinstance(obj, dict):
        for k, v in obj.items():
            if isinstance(v, (dict, list)) and v:
                lines.append("%s%s:" % (pad, k))
                lines.append(to_yaml(v, indent + 2))
            elif isinstance(v, list):
                lines.append("%s%s: []" % (pad, k))
            else:
                lines.append("%s%s: %s" % (pad, k, _yaml_scalar(v)))
    elif isinstance(obj, list):
        for item in obj:
            if isinstance(item, dict) and item:
                sub = to_yaml(item, indent + 2).split("\n")
                lines.append("%s- %s" % (pad, sub[0].lstrip()))
                lines.extend(sub[1:])
            else:
                lines.append("%s- %s" % (pad, _yaml_scalar(item)))
    else:
        lines.append(pad + _yaml_scalar(obj))
    return "\n".join(lines)


def version(name, sim_or_url, weight, upstream_model=None, **extra):
    url = sim_or_url.url if isinstance(sim_or_url, Sim) else sim_or_url
    v = {"name": name, "upstreams": [url], "weight": weight}
    if upstream_model:
        v["upstream_model"] = upstream_model
    v.update(extra)
    return v


# ---------------------------------------------------------------------------------------------
# HTTP


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers  # lower-case name -> value (last one wins)
        self.body = body

    def json(self):
        return json.loads(self.body.decode("utf-8"))

    def __repr__(self):
        return "<%d %r>" % (self.status, self.body[:300])


def _headers_of(resp):
    return {k.lower(): v for k, v in resp.getheaders()}


def call(port, method, path, body=None, headers=None, timeout=HTTP_TIMEOUT_S, conn=None):
    """One request; returns Response. body may be bytes, str or a JSON-able object."""
    own = conn is None
    if own:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    hdrs = dict(headers or {})
    if body is not None and not isinstance(body, (bytes, str)):
        body = json.dumps(body)
        hdrs.setdefault("content-type", "application/json")
    if isinstance(body, str):
        body = body.encode("utf-8")
    try:
        conn.request(method, path, body=body, headers=hdrs)
        r = conn.getresponse()
        data = r.read()
        return Response(r.status, _headers_of(r), data)
    finally:
        if own:
            conn.close()


def post(port, path, obj, headers=None, timeout=HTTP_TIMEOUT_S, conn=None):
    return call(port, "POST", path, obj, headers, timeout, conn)


def get(port, path, timeout=HTTP_TIMEOUT_S, conn=None):
    return call(port, "GET", path, None, None, timeout, conn)


class SSE:
    """A streamed response read event by event."""

    def __init__(self, port, path, body, headers=None, timeout=HTTP_TIMEOUT_S):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        hdrs = {"content-type": "application/json", "accept": "text/event-stream"}
        hdrs.update(headers or {})
        self.conn.request("POST", path, body=json.dumps(body).encode(), headers=hdrs)
        self.resp = self.conn.getresponse()
        self.status = self.resp.status
        self.headers = _headers_of(self.resp)
        self.raw = b""

    def next_event(self):
        """The data of the next event (joined data lines, str), or None at the end of the stream."""
        data = []
        saw_line = False
        while True:
            line = self.resp.readline()
            if not line:
                return "\n".join(data) if saw_line and data else None
            self.raw += line
            line = line.rstrip(b"\r\n")
            if not line:
                if data:
                    return "\n".join(data)
                continue
            saw_line = True
            if line.startswith(b"data:"):
                v = line[5:]
                if v.startswith(b" "):
                    v = v[1:]
                data.append(v.decode("utf-8"))

    def events(self):
        """All remaining events (data strings) until the stream ends."""
        out = []
        while True:
            e = self.next_event()
            if e is None:
                return out
            out.append(e)

    def close(self):
        self.conn.close()


def stream(port, path, body, headers=None, timeout=HTTP_TIMEOUT_S):
    """(SSE object after the whole stream, list of event data strings)."""
    s = SSE(port, path, body, headers, timeout)
    try:
        evs = s.events() if s.status == 200 else []
        if s.status != 200:
            s.raw = s.resp.read()
        return s, evs
    finally:
        s.close()


def json_events(events):
    """Parsed JSON events, without the closing [DONE]."""
    return [json.loads(e) for e in events if e != "[DONE]"]


def stream_text(chunks):
    """The generated text of chat or completion stream chunks."""
    out = []
    for c in chunks:
        for ch in c.get("choices") or []:
            delta = ch.get("delta") or {}
            if delta.get("content"):
                out.append(delta["content"])
            if ch.get("text"):
                out.append(ch["text"])
    return "".join(out)


def assert_openai_error(tc, resp, status, code=None):
    """resp is an OpenAI-shaped error with this status (and code, when given)."""
    tc.assertEqual(resp.status, status, resp)
    tc.assertTrue(resp.headers.get("content-type", "").startswith("application/json"), resp.headers)
    doc = resp.json()
    tc.assertIsInstance(doc, dict)
    err = doc.get("error")
    tc.assertIsInstance(err, dict, doc)
    for k in ("message", "type", "param", "code"):
        tc.assertIn(k, err, doc)
    tc.assertIsInstance(err["message"], str)
    tc.assertTrue(err["message"], doc)
    tc.assertIsInstance(err["type"], str)
    if code is not None:
        tc.assertEqual(err["code"], code, doc)
    return err


# ---------------------------------------------------------------------------------------------
# Prometheus text


_SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)(\s+\S+)?$')
_LABEL = re.compile(r'\s*([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*,?')


def parse_metrics(text):
    """[(name, {label: value}, float)] for every sample line."""
    out = []
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = _SAMPLE.match(line)
        if not m:
            raise AssertionError("not a Prometheus sample line: %r" % line)
        labels = {}
        if m.group(3):
            pos = 0
            s = m.group(3)
            while pos < len(s):
                lm = _LABEL.match(s, pos)
                if not lm:
                    raise AssertionError("bad labels in %r" % line)
                labels[lm.group(1)] = lm.group(2)
                pos = lm.end()
        out.append((m.group(1), labels, float(m.group(4))))
    return out


def metric_sum(samples, name, **match):
    """Sum of the samples of name whose labels include match."""
    total = 0.0
    for n, labels, v in samples:
        if n == name and all(labels.get(k) == str(want) for k, want in match.items()):
            total += v
    return total


# ---------------------------------------------------------------------------------------------
# sim and gateway


class Sim(Process):
    """`sluice sim` on a free port."""

    def __init__(self, workdir, name="sim", model_id="sim-model", seed=1, **opts):
        for attempt in range(3):  # a port picked free can be taken before the sim binds it
            self.port = free_port()
            argv = [BIN, "sim", "--listen", "127.0.0.1:%d" % self.port, "--model-id", model_id, "--seed",
                    str(seed), "--quiet"]
            for k, v in opts.items():  # True: a flag without a value
                argv += ["--" + k.replace("_", "-")] + ([] if v is True else [str(v)])
            super().__init__(name, argv, workdir)
            self.url = "http://127.0.0.1:%d" % self.port
            try:
                self.wait_port(self.port)
                return
            except ProcessFailed:
                exited = not self.alive()
                self.kill()
                if attempt == 2 or not exited:
                    raise

    def stats(self):
        r = get(self.port, "/sim/stats", timeout=5)
        if r.status != 200:
            raise AssertionError("GET /sim/stats: %r" % r)
        return r.json()

    def reset(self):
        r = post(self.port, "/sim/reset", {}, timeout=5)
        if r.status // 100 != 2:
            raise AssertionError("POST /sim/reset: %r" % r)

    def wait_stat(self, key, at_least, timeout=5.0):
        """Polls /sim/stats until stats[key] >= at_least; returns the last stats."""
        deadline = time.monotonic() + timeout
        while True:
            st = self.stats()
            if st.get(key, 0) >= at_least or time.monotonic() > deadline:
                return st
            time.sleep(0.05)


class Gateway(Process):
    """`sluice serve -c CONFIG` on free data and admin ports; config is a dict (see to_yaml)."""

    def __init__(self, workdir, config, name="sluice", env=None):
        self.workdir = workdir
        self.config_path = os.path.join(workdir, name + ".yaml")
        last = None
        for _attempt in range(3):  # a port picked free can be taken before sluice binds it
            self.port = free_port()
            self.admin_port = free_port()
            self.config = dict(config)
            self.config.setdefault("access_log", os.path.join(workdir, name + ".access.log"))
            self.config.setdefault("store", os.path.join(workdir, name + ".db"))
            self.config["listen"] = "127.0.0.1:%d" % self.port
            self.config["admin_listen"] = "127.0.0.1:%d" % self.admin_port
            self.write_config(self.config)
            super().__init__(name, [BIN, "serve", "-c", self.config_path], workdir, env)
            try:
                self.wait_port(self.port)
                self.wait_port(self.admin_port)
                return
            except ProcessFailed as e:
                last = e
                if "cannot listen" not in self.stderr():
                    self.kill()
                    raise
                self.kill()
        raise last

    @property
    def access_log_path(self):
        return self.config["access_log"]

    def write_config(self, config):
        tmp = self.config_path + ".tmp"
        with open(tmp, "w") as f:
            f.write(to_yaml(config) + "\n")
        os.replace(tmp, self.config_path)

    def write_raw_config(self, text):
        tmp = self.config_path + ".tmp"
        with open(tmp, "w") as f:
            f.write(text)
        os.replace(tmp, self.config_path)

    def routes(self):
        r = get(self.admin_port, "/api/v1/routes", timeout=5)
        if r.status != 200:
            raise AssertionError("GET /api/v1/routes: %r" % r)
        return r.json()

    def generation(self):
        return self.routes()["generation"]

    def metrics_text(self):
        r = get(self.admin_port, "/metrics", timeout=5)
        if r.status != 200:
            raise AssertionError("GET /metrics: %r" % r)
        return r.body.decode("utf-8")

    def metrics(self):
        return parse_metrics(self.metrics_text())

    def reload(self, config=None, timeout=5.0):
        """Writes config (if given), sends SIGHUP and waits for the generation to step; returns it."""
        before = self.generation()
        if config is not None:
            self.config = dict(config, listen=self.config["listen"], admin_listen=self.config["admin_listen"],
                               access_log=self.config["access_log"])
            self.write_config(self.config)
        self.signal(signal.SIGHUP)
        return self.wait_generation(before + 1, timeout)

    def wait_generation(self, want, timeout=5.0):
        deadline = time.monotonic() + timeout
        while True:
            g = self.generation()
            if g >= want:
                return g
            if time.monotonic() > deadline:
                raise AssertionError("generation stayed %d, wanted %d:\n%s" % (g, want, self.stderr()[-3000:]))
            time.sleep(0.02)

    def access_log(self):
        """The access log's lines (flushed by the gateway at least once a second)."""
        try:
            with open(self.access_log_path, "rb") as f:
                return f.read().decode("utf-8", "replace").splitlines()
        except FileNotFoundError:
            return []


def run_load(target_port, *args, timeout=60):
    """Runs `sluice load --target ... --json ARGS`; returns the parsed JSON summary."""
    argv = [BIN, "load", "--target", "http://127.0.0.1:%d" % target_port, "--json", "--quiet"] + [str(a) for a in args]
    p = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=timeout, preexec_fn=_die_with_parent)
    if p.returncode != 0:
        raise AssertionError("sluice load exited %d:\n%s" % (p.returncode, p.stderr.decode("utf-8", "replace")))
    try:
        return json.loads(p.stdout.decode("utf-8"))
    except ValueError:
        raise AssertionError("sluice load --json printed no JSON:\n%r\nstderr:\n%s" %
                             (p.stdout[:2000], p.stderr.decode("utf-8", "replace")[-2000:]))


# ---------------------------------------------------------------------------------------------
# a scripted upstream, for byte-exact protocol cases the sim does not cover


class UpstreamRequest:
    def __init__(self, method, path, headers, body):
        self.method = method
        self.path = path
        self.headers = headers  # list of (lower-case name, value)
        self.body = body

    def header(self, name):
        vals = [v for k, v in self.headers if k == name]
        return vals[-1] if vals else None

    def json(self):
        return json.loads(self.body.decode("utf-8"))


def _read_request(sock, buf):
    """(UpstreamRequest, rest of buf) or (None, b"") at EOF."""
    while b"\r\n\r\n" not in buf:
        chunk = sock.recv(65536)
        if not chunk:
            return None, b""
        buf += chunk
    head, buf = buf.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    method, path, _ = lines[0].split(" ", 2)
    headers = []
    for line in lines[1:]:
        k, v = line.split(":", 1)
        headers.append((k.strip().lower(), v.strip()))
    n = int(dict(headers).get("content-length", "0"))
    while len(buf) < n:
        chunk = sock.recv(65536)
        if not chunk:
            return None, b""
        buf += chunk
    return UpstreamRequest(method, path, headers, buf[:n]), buf[n:]


class ScriptedUpstream:
    """An HTTP/1.1 upstream on a free loopback port. handler(sock, request) writes the raw response
    and returns True to keep the connection for another request. Requests are kept in .requests."""

    def __init__(self, handler):
        self.handler = handler
        self.requests = []
        self.errors = []
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(64)
        self.listener.settimeout(0.2)
        self.port = self.listener.getsockname()[1]
        self.url = "http://127.0.0.1:%d" % self.port
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self):
        while not self._stop.is_set():
            try:
                conn, _ = self.listener.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn):
        conn.settimeout(HTTP_TIMEOUT_S)
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        buf = b""
        try:
            while not self._stop.is_set():
                req, buf = _read_request(conn, buf)
                if req is None:
                    return
                self.requests.append(req)
                if not self.handler(conn, req):
                    return
        except Exception as e:  # reported by the test through .errors
            self.errors.append(e)
        finally:
            conn.close()

    def close(self):
        self._stop.set()
        self.listener.close()
        self._thread.join(timeout=2)


def http_chunk(data):
    return b"%x\r\n%s\r\n" % (len(data), data)


# ---------------------------------------------------------------------------------------------
# test case base


class _Timeout(Exception):
    pass


def _on_alarm(signum, frame):
    raise _Timeout("test ran longer than %d s" % TEST_TIMEOUT_S)


class TestCase(unittest.TestCase):
    """Gives each test a work directory, a time limit, and processes killed after it; prints
    their stderr when the test fails."""

    maxDiff = 4000

    def setUp(self):
        if not os.access(BIN, os.X_OK):
            self.fail("SLUICE_BIN '%s' is not an executable (build it, or set SLUICE_BIN)" % BIN)
        self.workdir = tempfile.mkdtemp(prefix="sluice-it-")
        self.procs = []
        self.addCleanup(self._cleanup)
        signal.signal(signal.SIGALRM, _on_alarm)
        signal.alarm(TEST_TIMEOUT_S)

    def _failed(self):
        """Whether this test has failed so far (read from the result, since cleanups run in an
        outcome context of their own)."""
        outcome = getattr(self, "_outcome", None)
        if outcome is None:
            return False
        if hasattr(outcome, "errors"):  # Python < 3.11 reports after the cleanups
            return any(err for _, err in outcome.errors)
        result = getattr(outcome, "result", None)
        if result is not None and hasattr(result, "failures"):
            for entries in (result.failures, result.errors):
                if any(getattr(t, "test_case", t) is self for t, _ in entries):
                    return True
        return False

    def _cleanup(self):
        signal.alarm(0)
        failed = self._failed()
        for p in self.procs:
            p.kill()
        # a sanitizer build (ASan/UBSan) reports memory errors on stderr: each one fails the test
        reports = [p for p in self.procs if SANITIZER_REPORT.search(p.stderr())]
        if failed or reports:
            for p in self.procs:
                sys.stderr.write(p.report() + "\n")
        shutil.rmtree(self.workdir, ignore_errors=True)
        if reports:
            raise AssertionError("sanitizer report from %s" % ", ".join(p.name for p in reports))

    def sim(self, name="sim", **opts):
        opts.setdefault("latency_ms", 0)
        opts.setdefault("ttft_ms", 0)
        opts.setdefault("tokens_per_second", 10000)
        s = Sim(self.workdir, name=name, **opts)
        self.procs.append(s)
        return s

    def gateway(self, models, name="sluice", env=None, **top):
        """models: a list of model dicts, or a dict {model name: [version dicts]}."""
        if isinstance(models, dict):
            models = [{"name": k, "versions": v} for k, v in models.items()]
        cfg = dict(top)
        cfg["models"] = models
        g = Gateway(self.workdir, cfg, name=name, env=env)
        self.procs.append(g)
        return g

    def scripted(self, handler):
        u = ScriptedUpstream(handler)
        self.addCleanup(u.close)
        return u

    def spawn(self, name, argv, env=None):
        p = Process(name, argv, self.workdir, env)
        self.procs.append(p)
        return p

    def write(self, name, text):
        path = os.path.join(self.workdir, name)
        with open(path, "w") as f:
            f.write(text)
        return path


def chat_body(model="chat", content="Say hello.", **extra):
    b = {"model": model, "messages": [{"role": "user", "content": content}], "max_tokens": 8}
    b.update(extra)
    return b


def completion_body(model="chat", prompt="Once upon a time", **extra):
    b = {"model": model, "prompt": prompt, "max_tokens": 8}
    b.update(extra)
    return b


# ---------------------------------------------------------------------------------------------
# background traffic with feedback, and the admin API (rollouts)


class Traffic:
    """Chat requests to a gateway from `threads` keep-alive connections until stop(), each as a
    user drawn (seeded) from `users` sticky keys, at most `rate` requests/s in all (0 = as fast as
    it goes). With feedback > 0, that share of the answered requests is rated through
    /v1/feedback: thumbs_down when the simulator marked the answer bad (x-sim-answer: bad), else
    thumbs_up. Every answer is kept in .records as (monotonic time the request was sent, user,
    version, status, request id, bad answer)."""

    def __init__(self, port, model="chat", threads=4, users=1000, rate=200.0, feedback=0.0, seed=1,
                 max_tokens=4, user_prefix="user"):
        self.port = port
        self.model = model
        self.users = users
        self.rate = rate
        self.feedback = feedback
        self.seed = seed
        self.max_tokens = max_tokens
        self.user_prefix = user_prefix
        self.records = []
        self.errors = []
        self.feedback_posted = {}  # (version, label) -> count answered 200
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._run, args=(i, threads), daemon=True)
                         for i in range(threads)]

    def start(self):
        for t in self._threads:
            t.start()
        return self

    def stop(self):
        self._stop.set()
        for t in self._threads:
            t.join(timeout=HTTP_TIMEOUT_S + 2)

    def _run(self, index, nthreads):
        import random
        rng = random.Random(self.seed * 1000003 + index)
        conn = None
        interval = nthreads / self.rate if self.rate else 0.0
        next_at = time.monotonic()
        while not self._stop.is_set():
            if interval:
                now = time.monotonic()
                if now < next_at:
                    self._stop.wait(next_at - now)
                    continue
                next_at = max(next_at + interval, now - 1.0)
            user = "%s-%d" % (self.user_prefix, rng.randrange(self.users))
            try:
                if conn is None:
                    conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=HTTP_TIMEOUT_S)
                body = {"model": self.model, "user": user, "max_tokens": self.max_tokens,
                        "messages": [{"role": "user", "content": "Say hello."}]}
                sent = time.monotonic()
                r = call(self.port, "POST", "/v1/chat/completions", body, conn=conn)
                bad = r.headers.get("x-sim-answer") == "bad"
                rid = r.headers.get("x-sluice-request-id")
                version = r.headers.get("x-sluice-version")
                with self._lock:
                    self.records.append((sent, user, version, r.status, rid, bad))
                if r.status == 200 and self.feedback and rng.random() < self.feedback:
                    label = "thumbs_down" if bad else "thumbs_up"
                    f = call(self.port, "POST", "/v1/feedback", {"request_id": rid, "label": label}, conn=conn)
                    if f.status == 200:
                        with self._lock:
                            self.feedback_posted[(version, label)] = self.feedback_posted.get((version, label), 0) + 1
                    else:
                        self.errors.append("feedback for %s: %r" % (rid, f))
            except (OSError, http.client.HTTPException) as e:
                if self._stop.is_set():
                    break
                self.errors.append("%s: %r" % (user, e))
                if conn is not None:
                    conn.close()
                conn = None
                self._stop.wait(0.05)
        if conn is not None:
            conn.close()

    def snapshot(self):
        with self._lock:
            return list(self.records)

    def counts(self, since=None, until=None):
        """{version: answered requests} over the requests sent in [since, until)."""
        out = {}
        for t, _user, version, _status, _rid, _bad in self.snapshot():
            if (since is None or t >= since) and (until is None or t < until):
                out[version] = out.get(version, 0) + 1
        return out

    def wait_count(self, n, timeout=10.0, since=None):
        """Waits until at least n requests sent after since were answered; returns the count."""
        deadline = time.monotonic() + timeout
        while True:
            got = sum(self.counts(since=since).values())
            if got >= n or time.monotonic() > deadline:
                return got
            time.sleep(0.02)


class Admin:
    """The gateway's admin JSON API, with an optional bearer token."""

    def __init__(self, port, token=None):
        self.port = port
        self.token = token

    def _headers(self):
        return {"authorization": "Bearer " + self.token} if self.token else None

    def get(self, path):
        return call(self.port, "GET", path, None, self._headers())

    def post(self, path, obj=None):
        return call(self.port, "POST", path, {} if obj is None else obj, self._headers())

    def start(self, model, candidate, stable=None, spec=None):
        body = {"model": model, "candidate": candidate}
        if stable is not None:
            body["stable"] = stable
        if spec is not None:
            body["spec"] = spec
        return self.post("/api/v1/rollouts", body)

    def rollout(self, ref):
        r = self.get("/api/v1/rollouts/%s" % ref)
        if r.status != 200:
            raise AssertionError("GET /api/v1/rollouts/%s: %r" % (ref, r))
        return r.json()

    def act(self, ref, action):
        return self.post("/api/v1/rollouts/%s/%s" % (ref, action))


class HookReceiver:
    """A webhook receiver (http.server in a thread) on a free loopback port. Every POST is kept in
    .calls as (monotonic time, path, parsed JSON body or None); the answer's status is
    status_for(path) (set with .status[path] or .default_status; all 204 at first)."""

    def __init__(self):
        import http.server
        receiver = self
        self.calls = []
        self.status = {}
        self.default_status = 204
        self._lock = threading.Lock()

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):  # noqa: N802 (http.server's naming)
                n = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(n) if n else b""
                try:
                    doc = json.loads(raw.decode("utf-8"))
                except ValueError:
                    doc = None
                with receiver._lock:
                    receiver.calls.append((time.monotonic(), self.path, doc, self.headers.get("content-type")))
                    code = receiver.status.get(self.path, receiver.default_status)
                self.send_response(code)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.url = "http://127.0.0.1:%d" % self.port
        self._thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)
        self._thread.start()

    def set_status(self, path, code):
        with self._lock:
            self.status[path] = code

    def calls_to(self, path):
        with self._lock:
            return [c for c in self.calls if c[1] == path]

    def wait_calls(self, path, n, timeout=10.0):
        deadline = time.monotonic() + timeout
        while True:
            got = self.calls_to(path)
            if len(got) >= n:
                return got
            if time.monotonic() > deadline:
                raise AssertionError("webhook %s: %d calls within %.0f s, wanted %d" % (path, len(got), timeout, n))
            time.sleep(0.02)

    def close(self):
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(timeout=2)


def respawn_gateway(gw, name):
    """A new `sluice serve` on gw's configuration file (same ports, same store) after gw died;
    returns a Gateway object for it."""
    g = Gateway.__new__(Gateway)
    g.workdir = gw.workdir
    g.config_path = gw.config_path
    g.config = dict(gw.config)
    g.port = gw.port
    g.admin_port = gw.admin_port
    Process.__init__(g, name, [BIN, "serve", "-c", gw.config_path], gw.workdir, None)
    g.wait_port(g.port)
    g.wait_port(g.admin_port)
    return g


def run_cli(*args, env=None, timeout=30):
    """Runs `sluice ARGS` (a client command); returns (exit status, stdout, stderr) as text.
    The environment is the test's without SLUICE_ADMIN / SLUICE_ADMIN_TOKEN, plus env."""
    full = {k: v for k, v in os.environ.items() if k not in ("SLUICE_ADMIN", "SLUICE_ADMIN_TOKEN")}
    full.update(env or {})
    p = subprocess.run([BIN] + [str(a) for a in args], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=timeout, env=full, preexec_fn=_die_with_parent)
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")
