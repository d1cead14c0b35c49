"""tests/serve/common.py - what the end-to-end tests of `lmrt serve` share.

tests/cli_serve.sh starts the servers and says where they are in the environment:
  LMRT_SERVE_URL      http://HOST:PORT of the main server (both models, --slots 8, --ctx 512)
  LMRT_SERVE_PID      its process id (RSS is read from /proc/PID/status)
  LMRT_SERVE_CTX      its --ctx
  LMRT_SERVE_SLOTS    its --slots
  LMRT_SERVE_KEY_URL  a second server with --api-key LMRT_SERVE_KEY, --slots 1, --max-queue 1
  LMRT_SERVE_GEN, LMRT_SERVE_EMBED  the model paths both were started with
  LMRT                the lmrt binary (references: `lmrt run`, `lmrt embed`, `lmrt tokenize`)
  LMRT_SERVE_SANITIZED  1 when lmrt is a sanitizer build (shorter generations, no RSS bound)
The tests need nothing but the standard library (test_openai.py also the `openai` client), so
they run in the venv cli_serve.sh makes. Each test module calls run_tests(globals()), which
runs its test_* functions in the order they are written (LMRT_SERVE_TEST=substring picks).
"""

import base64
import http.client
import json
import math
import os
import re
import signal
import socket
import struct
import subprocess
import sys
import time
import traceback
import urllib.parse

URL = os.environ.get("LMRT_SERVE_URL", "http://127.0.0.1:8080")
PID = int(os.environ.get("LMRT_SERVE_PID", "0"))
CTX = int(os.environ.get("LMRT_SERVE_CTX", "512"))
SLOTS = int(os.environ.get("LMRT_SERVE_SLOTS", "8"))
KEY_URL = os.environ.get("LMRT_SERVE_KEY_URL", "")
KEY = os.environ.get("LMRT_SERVE_KEY", "")
GEN = os.environ.get("LMRT_SERVE_GEN", "build/models/smollm2/SmolLM2-135M-Instruct.Q4_1.gguf")
EMBED = os.environ.get("LMRT_SERVE_EMBED", "build/models/minilm")
LMRT = os.environ.get("LMRT", "build/lmrt")
THREADS = os.environ.get("LMRT_SERVE_THREADS", "2")
# lmrt built with -fsanitize=address: about ten times slower, and RSS is not a leak measure
SANITIZED = os.environ.get("LMRT_SERVE_SANITIZED") == "1"


class Failure(Exception):
    pass


def check(cond, msg):
    """A test assertion that -O cannot remove."""
    if not cond:
        raise Failure(msg)


def host_port(url=None):
    u = urllib.parse.urlsplit(url or URL)
    return u.hostname, u.port


# ---- HTTP -----------------------------------------------------------------------------------


def request(method, path, body=None, headers=None, url=None, timeout=60):
    """One request on a fresh connection: (status, {lower-case header: value}, body bytes).
    body may be bytes, str or a JSON-able object (sent as JSON)."""
    host, port = host_port(url)
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    h = {} if headers is None else dict(headers)
    if body is not None and not isinstance(body, (bytes, str)):
        body = json.dumps(body)
        h.setdefault("Content-Type", "application/json")
    if isinstance(body, str):
        body = body.encode()
    try:
        conn.request(method, path, body=body, headers=h)
        r = conn.getresponse()
        data = r.read()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, data
    finally:
        conn.close()


def post(path, obj, **kw):
    status, _, data = request("POST", path, obj, **kw)
    return status, data


def post_json(path, obj, **kw):
    """POST and decode a 200 answer's JSON; anything else fails with the body in the message."""
    status, data = post(path, obj, **kw)
    check(status == 200, f"POST {path}: status {status}, body {data[:300]!r}")
    return json.loads(data)


def raw_exchange(data, timeout=10, read=True):
    """Send bytes on a raw socket and read until the server closes or timeout: the reply bytes."""
    s = socket.create_connection(host_port(), timeout=timeout)
    try:
        s.sendall(data)
        if not read:
            return b""
        out = b""
        while True:
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                break
            if not chunk:
                break
            out += chunk
            # one complete response with a Content-Length is enough
            head, sep, rest = out.partition(b"\r\n\r\n")
            m = re.search(rb"(?im)^content-length:\s*(\d+)", head)
            if sep and m and len(rest) >= int(m.group(1)):
                break
        return out
    finally:
        s.close()


def status_of(reply):
    """The status code of a raw HTTP reply, or None when there is no status line."""
    m = re.match(rb"HTTP/1\.[01] (\d{3}) ", reply)
    return int(m.group(1)) if m else None


def body_of(reply):
    return reply.partition(b"\r\n\r\n")[2]


def check_error(status, data, want_status, what, mention=None):
    """An OpenAI-style error answer: the status, and {"error": {"message", "type", "code"}} with
    a non-empty message and type; mention (if given) must appear in the message."""
    check(
        status == want_status,
        f"{what}: status {status}, want {want_status}; body {data[:300]!r}",
    )
    try:
        obj = json.loads(data)
    except ValueError:
        raise Failure(f"{what}: the error body is not JSON: {data[:300]!r}")
    err = obj.get("error") if isinstance(obj, dict) else None
    check(isinstance(err, dict), f"{what}: no error object in {obj!r}")
    for k in ("message", "type", "code"):
        check(k in err, f"{what}: error lacks '{k}': {obj!r}")
    check(
        isinstance(err["message"], str) and err["message"],
        f"{what}: empty error message: {obj!r}",
    )
    check(isinstance(err["type"], str) and err["type"], f"{what}: empty error type: {obj!r}")
    check(
        err["code"] is None or isinstance(err["code"], (str, int)),
        f"{what}: code is {err['code']!r}",
    )
    if mention is not None:
        check(
            mention in err["message"],
            f"{what}: the message does not name {mention!r}: {err['message']!r}",
        )
    return err


# ---- server-sent events -----------------------------------------------------------------------


def open_stream(path, obj, url=None, timeout=120):
    """Start a streaming POST; returns (connection, response) for read_sse."""
    host, port = host_port(url)
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    conn.request("POST", path, body=json.dumps(obj), headers={"Content-Type": "application/json"})
    return conn, conn.getresponse()


def read_sse(resp, on_event=None):
    """Read server-sent events to the end, strictly as OpenAI sends them: every event one
    'data: ' line and a blank line, JSON objects, then 'data: [DONE]' last. Returns the objects.
    on_event(obj, t) is called as each arrives (t: time.monotonic())."""
    if resp.status != 200:  # not check(): its message would read the body of every stream
        raise Failure(f"stream: status {resp.status}: {resp.read()[:300]!r}")
    ctype = resp.getheader("Content-Type", "")
    check(ctype.startswith("text/event-stream"), f"stream: Content-Type {ctype!r}")
    events, done = [], False
    while True:
        line = resp.readline()
        if not line:
            break
        check(not done, f"stream: {line!r} after data: [DONE]")
        check(line.startswith(b"data: ") and line.endswith(b"\n"), f"stream: bad line {line!r}")
        blank = resp.readline()
        check(blank in (b"\n", b"\r\n"), f"stream: event {line!r} not ended by a blank line")
        payload = line[6:].strip()
        if payload == b"[DONE]":
            done = True
            continue
        obj = json.loads(payload)
        events.append(obj)
        if on_event:
            on_event(obj, time.monotonic())
    check(done, "stream: ended without data: [DONE]")
    return events


def stream_text(path, obj, url=None, on_event=None):
    """Stream a chat or completion request: (concatenated text, finish_reason, events)."""
    conn, resp = open_stream(path, obj, url)
    try:
        events = read_sse(resp, on_event)
    finally:
        conn.close()
    text, finish = [], None
    for ev in events:
        for ch in ev.get("choices", []):
            if "delta" in ch:
                text.append(ch["delta"].get("content") or "")
            else:
                text.append(ch.get("text") or "")
            if ch.get("finish_reason"):
                check(finish is None, f"stream: two finish_reasons in {events!r}")
                finish = ch["finish_reason"]
    return "".join(text), finish, events


# ---- /metrics, RSS, models ---------------------------------------------------------------------


def metrics(url=None):
    """GET /metrics as {series: value}, series being 'name' or 'name{labels}' as written."""
    status, _, data = request("GET", "/metrics", url=url, timeout=10)
    check(status == 200, f"/metrics: status {status}")
    out = {}
    for line in data.decode().splitlines():
        if not line or line.startswith("#"):
            continue
        series, _, value = line.rpartition(" ")
        out[series] = float(value)
    return out


def metric(m, name):
    """The sum of every series of one metric name (labels ignored)."""
    return sum(v for k, v in m.items() if k == name or k.startswith(name + "{"))


def wait_metric(name, pred, timeout=5.0, url=None):
    """Poll /metrics until pred(value of name) holds; returns (held, last value, seconds)."""
    t0 = time.monotonic()
    while True:
        v = metric(metrics(url), name)
        dt = time.monotonic() - t0
        if pred(v):
            return True, v, dt
        if dt > timeout:
            return False, v, dt
        time.sleep(0.02)


def rss_kib(pid=None):
    with open(f"/proc/{pid or PID}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise Failure("no VmRSS in /proc/PID/status")


_ids = None


def model_ids():
    """(text model id, embedding model id) as GET /v1/models names them: the embedding model
    is the one whose id names MiniLM, the text model the other."""
    global _ids
    if _ids is None:
        status, _, data = request("GET", "/v1/models")
        check(status == 200, f"/v1/models: status {status}")
        ids = [m["id"] for m in json.loads(data)["data"]]
        check(len(ids) == 2, f"/v1/models: {ids}, want two models")
        emb = [i for i in ids if "minilm" in i.lower()]
        check(len(emb) == 1, f"/v1/models: no single MiniLM id among {ids}")
        _ids = ([i for i in ids if i != emb[0]][0], emb[0])
    return _ids


# ---- references from the CLI ------------------------------------------------------------------


def lmrt_embed(texts):
    """`lmrt embed` over texts (one per line, none may hold a newline): a list of vectors."""
    for t in texts:
        check("\n" not in t, "lmrt_embed: a text holds a newline")
    out = subprocess.run(
        [LMRT, "embed", "-m", EMBED, "-t", THREADS],
        input=("\n".join(texts) + "\n").encode(),
        capture_output=True,
        check=True,
    ).stdout
    return [json.loads(line) for line in out.decode().splitlines()]


def lmrt_run(prompt, n, chat=False):
    """`lmrt run --temp 0`: the greedy continuation (or chat answer) as the CLI prints it."""
    args = [LMRT, "run", "-m", GEN, "-t", THREADS, "--temp", "0", "-n", str(n), "-p", prompt]
    if chat:
        args.append("--chat")
    return subprocess.run(args, capture_output=True, check=True).stdout.decode()


def lmrt_tokenize(model, text, special=True):
    args = [LMRT, "tokenize", "-m", model] + ([] if special else ["--no-special"])
    out = subprocess.run(args, input=text.encode(), capture_output=True, check=True).stdout
    return json.loads(out)


def b64_floats(s):
    raw = base64.b64decode(s)
    check(len(raw) % 4 == 0, f"base64 embedding of {len(raw)} bytes")
    return list(struct.unpack(f"<{len(raw) // 4}f", raw))


def vec_close(a, b):
    """Embeddings agree: cosine > 0.99999 or max abs diff < 1e-5. Returns (ok, cos, maxdiff)."""
    if len(a) != len(b) or not a:
        return False, 0.0, math.inf
    dot = sum(x * y for x, y in zip(a, b))
    na = math.sqrt(sum(x * x for x in a))
    nb = math.sqrt(sum(y * y for y in b))
    cos = dot / (na * nb) if na and nb else 0.0
    diff = max(abs(x - y) for x, y in zip(a, b))
    return cos > 0.99999 or diff < 1e-5, cos, diff


# ---- runner -------------------------------------------------------------------------------------


def run_tests(namespace):
    """Run the test_* functions of a module in the order written; exit 1 if any failed."""
    name = os.path.basename(namespace.get("__file__", "tests"))
    pick = os.environ.get("LMRT_SERVE_TEST", "")
    tests = [(n, f) for n, f in namespace.items() if n.startswith("test_") and callable(f)]
    failed = []
    for n, f in tests:
        if pick and pick not in n:
            continue
        t0 = time.monotonic()
        try:
            f()
            print(f"  ok    {name}: {n} ({time.monotonic() - t0:.1f} s)", flush=True)
        except Exception as e:
            failed.append(n)
            print(f"  FAIL  {name}: {n}: {e}", flush=True)
            if not isinstance(e, Failure):
                traceback.print_exc()
    ran = sum(1 for n, _ in tests if not pick or pick in n)
    print(f"{name}: {ran - len(failed)} of {ran} passed", flush=True)
    sys.exit(1 if failed else 0)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def start_server(args, log_path, lmrt=None, ready_s=60):
    """Start `lmrt serve --host 127.0.0.1 --port FREE ARGS` with stderr to log_path and wait
    until /health is 200: (Popen, url). Raises Failure when it exits or is not ready in time."""
    port = free_port()
    log = open(log_path, "wb")
    cmd = [lmrt or LMRT, "serve", "--host", "127.0.0.1", "--port", str(port)] + list(args)
    proc = subprocess.Popen(cmd, stderr=log, stdout=subprocess.DEVNULL)
    log.close()
    url = f"http://127.0.0.1:{port}"
    if wait_ready(url, ready_s, proc.pid) != 0:
        proc.kill()
        proc.wait()
        raise Failure(f"{' '.join(cmd)} did not become ready (log: {log_path})")
    return proc, url


def stop_server(proc, sig=signal.SIGTERM, wait_s=30):
    """Signal the server and wait for it: its exit status (None if it had to be killed)."""
    proc.send_signal(sig)
    try:
        return proc.wait(wait_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        return None


def wait_ready(url, seconds, pid):
    """GET /health until 200: only 503 (loading, a JSON body) may come before it, and the
    process must stay alive. Prints what it saw; exit status 0 when ready."""
    t0, seen = time.monotonic(), []
    while time.monotonic() - t0 < seconds:
        if not os.path.exists(f"/proc/{pid}"):
            print(f"wait_ready: the server (pid {pid}) exited; /health gave {seen}")
            return 1
        try:
            status, _, data = request("GET", "/health", url=url, timeout=5)
        except OSError:
            time.sleep(0.05)
            continue
        if not seen or seen[-1] != status:
            seen.append(status)
        if status == 200:
            print(
                f"wait_ready: /health {' then '.join(map(str, seen))} "
                f"after {time.monotonic() - t0:.2f} s"
            )
            return 0
        if status != 503:
            print(f"wait_ready: /health answered {status} {data[:200]!r}")
            return 1
        json.loads(data)  # a status body such as {"status": "loading"}, not an API error
        time.sleep(0.05)
    print(f"wait_ready: not ready after {seconds} s; /health gave {seen}")
    return 1


if __name__ == "__main__":
    # python3 common.py wait-ready URL SECONDS PID   (used by tests/cli_serve.sh)
    if len(sys.argv) == 5 and sys.argv[1] == "wait-ready":
        sys.exit(wait_ready(sys.argv[2], float(sys.argv[3]), int(sys.argv[4])))
    print("usage: common.py wait-ready URL SECONDS PID", file=sys.stderr)
    sys.exit(2)
