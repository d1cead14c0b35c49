"""tests/serve/test_hostile.py - `lmrt serve` under bad and hostile input (raw sockets and
http.client, no client library).

What must hold: malformed JSON, wrong types, missing fields and invalid UTF-8 answer 400; a
10 MB body 413 (with a Content-Length and chunked); unknown routes 404; a wrong method 405; a
prompt over the context 400 naming the limit; every error body is {"error": {"message", "type",
"code"}}. Partial headers held open on many connections (slowloris) do not stop the server
answering others. A client that disconnects mid-stream (or while waiting for a whole answer)
frees its slot: /metrics lmrt_slots_busy is back to 0 within five steps (3 s at least), a step
timed on the stream itself. Garbage on the wire never kills it. Over 1,000 such requests after
a warm-up of 100, RSS (VmRSS of /proc/PID/status) is flat, meaning it grows by less than 2 MiB
(not asserted in a sanitizer build, where ASan's quarantine keeps freed memory and
LeakSanitizer checks the exit instead), and a greedy completion afterwards is the
same as before.
"""

import json
import os
import select
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import (  # noqa: E402
    CTX,
    SANITIZED,
    body_of,
    check,
    check_error,
    host_port,
    model_ids,
    post,
    post_json,
    raw_exchange,
    request,
    rss_kib,
    run_tests,
    status_of,
    wait_metric,
)

CHAT, COMP, EMB = "/v1/chat/completions", "/v1/completions", "/v1/embeddings"
MAX_BODY = 10 * 1024 * 1024


def gen():
    return model_ids()[0]


def emb():
    return model_ids()[1]


def msgs(content):
    return [{"role": "user", "content": content}]


def bad_json_cases():
    """(what, path, raw body bytes) that must answer 400."""
    g = gen().encode()
    deep = b"[" * 100000 + b"]" * 100000
    return [
        ("truncated object", CHAT, b'{"model": "' + g + b'", "messages": ['),
        ("empty body", CHAT, b""),
        ("not JSON", COMP, b"hello there"),
        ("trailing comma", COMP, b'{"model": "' + g + b'", "prompt": "hi",}'),
        ("trailing garbage", COMP, b'{"model": "' + g + b'", "prompt": "hi"} xyz'),
        ("single quotes", EMB, b"{'model': 'x', 'input': 'y'}"),
        ("nested 100000 deep", CHAT, deep),
        ("NaN literal", COMP, b'{"model": "' + g + b'", "prompt": "hi", "temperature": NaN}'),
        ("lone high surrogate", COMP, b'{"model": "' + g + b'", "prompt": "a\\ud800b"}'),
        (
            "lone low surrogate",
            CHAT,
            b'{"model": "' + g + b'", "messages": [{"role": "user", ' b'"content": "\\udc00"}]}',
        ),
        ("bad escape", COMP, b'{"model": "' + g + b'", "prompt": "\\q"}'),
        ("control character in a string", COMP, b'{"model": "' + g + b'", "prompt": "a\x01b"}'),
        ("raw tab in a string", COMP, b'{"model": "' + g + b'", "prompt": "a\tb"}'),
        ("raw NUL in a string", COMP, b'{"model": "' + g + b'", "prompt": "a\x00b"}'),
        ("control character between tokens", COMP, b'{"model": "' + g + b'",\x01"prompt": "a"}'),
        ("NUL after the object", COMP, b'{"model": "' + g + b'", "prompt": "a"}\x00'),
    ]


def bad_field_cases():
    """(what, path, object) that must answer 400: wrong types, bad values, missing fields."""
    g, e = gen(), emb()
    m = msgs("hi")
    return [
        ("body is an array", CHAT, [1, 2]),
        ("body is a string", COMP, "prompt"),
        ("body is null", EMB, None),
        ("messages a string", CHAT, {"model": g, "messages": "hi"}),
        ("messages of numbers", CHAT, {"model": g, "messages": [1]}),
        ("messages empty", CHAT, {"model": g, "messages": []}),
        ("content a number", CHAT, {"model": g, "messages": [{"role": "user", "content": 5}]}),
        ("role a number", CHAT, {"model": g, "messages": [{"role": 5, "content": "x"}]}),
        ("unknown role", CHAT, {"model": g, "messages": [{"role": "wizard", "content": "x"}]}),
        ("message without content", CHAT, {"model": g, "messages": [{"role": "user"}]}),
        ("max_tokens a string", CHAT, {"model": g, "messages": m, "max_tokens": "10"}),
        ("max_tokens negative", COMP, {"model": g, "prompt": "hi", "max_tokens": -5}),
        ("max_tokens fractional", COMP, {"model": g, "prompt": "hi", "max_tokens": 1.5}),
        ("max_tokens huge", COMP, {"model": g, "prompt": "hi", "max_tokens": 1e30}),
        ("temperature a string", CHAT, {"model": g, "messages": m, "temperature": "hot"}),
        ("temperature negative", COMP, {"model": g, "prompt": "hi", "temperature": -1}),
        ("top_p a string", COMP, {"model": g, "prompt": "hi", "top_p": "all"}),
        ("stream a string", CHAT, {"model": g, "messages": m, "stream": "yes"}),
        (
            "stream_options a string",
            CHAT,
            {"model": g, "messages": m, "stream": True, "stream_options": "usage"},
        ),
        ("stop a number", COMP, {"model": g, "prompt": "hi", "stop": 5}),
        ("stop of numbers", COMP, {"model": g, "prompt": "hi", "stop": [1, 2]}),
        ("seed a string", COMP, {"model": g, "prompt": "hi", "seed": "x"}),
        ("logit_bias an array", COMP, {"model": g, "prompt": "hi", "logit_bias": [1]}),
        (
            "logit_bias key not a number",
            COMP,
            {"model": g, "prompt": "hi", "logit_bias": {"abc": 1}},
        ),
        (
            "logit_bias id past the vocab",
            COMP,
            {"model": g, "prompt": "hi", "logit_bias": {"999999999": 1}},
        ),
        (
            "logit_bias value a string",
            COMP,
            {"model": g, "prompt": "hi", "logit_bias": {"1": "up"}},
        ),
        ("n = 2", CHAT, {"model": g, "messages": m, "n": 2}),
        ("model a number", CHAT, {"model": 5, "messages": m}),
        ("prompt a number", COMP, {"model": g, "prompt": 5}),
        ("prompt an object", COMP, {"model": g, "prompt": {"a": 1}}),
        ("input a number", EMB, {"model": e, "input": 5}),
        ("input an object", EMB, {"model": e, "input": {"a": 1}}),
        ("input empty", EMB, {"model": e, "input": []}),
        ("input mixed", EMB, {"model": e, "input": [1, "a"]}),
        ("input empty token list", EMB, {"model": e, "input": [[]]}),
        ("input token past the vocab", EMB, {"model": e, "input": [[101, 999999, 102]]}),
        ("input negative token", EMB, {"model": e, "input": [[101, -1, 102]]}),
        ("input fractional token", EMB, {"model": e, "input": [[101, 1.5, 102]]}),
        ("encoding_format hex", EMB, {"model": e, "input": "x", "encoding_format": "hex"}),
        ("no messages", CHAT, {"model": g}),
        ("no prompt", COMP, {"model": g}),
        ("no input", EMB, {"model": e}),
        ("empty string input", EMB, {"model": e, "input": ""}),
    ]


def bad_utf8_cases():
    """(what, path, raw body bytes) with invalid UTF-8 inside JSON strings: 400."""
    g, e = gen().encode(), emb().encode()
    out = []
    for name, bad in [
        ("0xff 0xfe", b"\xff\xfe"),
        ("overlong NUL", b"\xc0\x80"),
        ("overlong slash", b"\xe0\x80\xaf"),
        ("UTF-16 surrogate", b"\xed\xa0\x80"),
        ("truncated sequence", b"ab\xe2\x82"),
        ("lone continuation", b"\x80abc"),
        ("past U+10FFFF", b"\xf4\x90\x80\x80"),
    ]:
        out.append(
            (
                f"{name} in a message",
                CHAT,
                b'{"model": "'
                + g
                + b'", "messages": [{"role": "user", "content": "x'
                + bad
                + b'"}]}',
            )
        )
        out.append(
            (f"{name} in a prompt", COMP, b'{"model": "' + g + b'", "prompt": "' + bad + b'"}')
        )
        out.append(
            (
                f"{name} in an input",
                EMB,
                b'{"model": "' + e + b'", "input": ["ok", "' + bad + b'"]}',
            )
        )
    out.append(
        (
            "invalid UTF-8 in a stop",
            COMP,
            b'{"model": "' + g + b'", "prompt": "hi", "stop": ["\xff"]}',
        )
    )
    out.append(
        ("invalid UTF-8 in a key", COMP, b'{"model": "' + g + b'", "prompt": "hi", "\xff": 1}')
    )
    return out


ROUTES_404 = [
    ("GET", "/"),
    ("GET", "/v1"),
    ("GET", "/v1/nothing"),
    ("POST", "/v1/chat/completion"),
    ("POST", "/v1/chat/completions/extra"),
    ("GET", "/v1/models/../../etc/passwd"),
    ("GET", "/%00"),
    ("POST", "/v2/completions"),
]
ROUTES_405 = [
    ("GET", CHAT),
    ("PUT", COMP),
    ("GET", EMB),
    ("DELETE", "/v1/models"),
    ("POST", "/v1/models"),
    ("POST", "/health"),
    ("POST", "/metrics"),
]


def test_malformed_json():
    for what, path, body in bad_json_cases():
        status, _, data = request("POST", path, body, {"Content-Type": "application/json"})
        check_error(status, data, 400, what)


def test_wrong_types_and_missing_fields():
    for what, path, obj in bad_field_cases():
        status, data = post(path, obj)
        check_error(status, data, 400, what)


def test_invalid_utf8():
    for what, path, body in bad_utf8_cases():
        status, _, data = request("POST", path, body, {"Content-Type": "application/json"})
        check_error(status, data, 400, what)


def test_missing_model_is_the_served_one():
    """Without "model" the server answers with the model it serves for that route (its
    documented choice; OpenAI itself requires the field)."""
    for path, obj, want in [
        (CHAT, {"messages": msgs("hi"), "max_tokens": 2}, gen()),
        (COMP, {"prompt": "hi", "max_tokens": 2}, gen()),
        (EMB, {"input": "hi"}, emb()),
    ]:
        obj = post_json(path, obj)
        check(obj.get("model") == want, f"{path} without model answered for {obj.get('model')!r}")


def test_nul_in_content():
    """An escaped NUL is valid JSON; the server must answer it (200) or refuse it (400)."""
    for path, obj in [
        (COMP, {"model": gen(), "prompt": "a\u0000b", "max_tokens": 2}),
        (CHAT, {"model": gen(), "messages": msgs("a\u0000b"), "max_tokens": 2}),
        (EMB, {"model": emb(), "input": "a\u0000b"}),
    ]:
        status, data = post(path, obj)
        check(status in (200, 400), f"NUL in {path}: status {status}: {data[:200]!r}")
        if status == 400:
            check_error(status, data, 400, f"NUL in {path}")


def test_unknown_routes_404():
    for method, path in ROUTES_404:
        status, _, data = request(method, path, b"{}" if method == "POST" else None)
        check_error(status, data, 404, f"{method} {path}")
    status, _, data = request("GET", "/v1/" + "a" * 10000)
    check(status in (404, 414), f"a 10 KB path: status {status}")
    if status == 404:
        check_error(status, data, 404, "a 10 KB path")


def test_wrong_method_405():
    for method, path in ROUTES_405:
        status, _, data = request(method, path, b"{}" if method in ("POST", "PUT") else None)
        check_error(status, data, 405, f"{method} {path}")


def big_body(chunked, size=MAX_BODY):
    """POST a body of size bytes, stopping when the server answers early; the raw reply."""
    s = socket.create_connection(host_port(), timeout=30)
    try:
        head = f"POST {COMP} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        head += (
            "Transfer-Encoding: chunked\r\n\r\n" if chunked else f"Content-Length: {size}\r\n\r\n"
        )
        s.sendall(head.encode())
        piece = b'{"model": "x", "prompt": "' + b"a" * 65536
        sent, reply = 0, b""
        while sent < size:
            r, _, _ = select.select([s], [], [], 0)
            if r:
                break  # the server answered before the end of the body
            n = min(len(piece), size - sent)
            data = piece[:n]
            try:
                s.sendall(b"%x\r\n%s\r\n" % (n, data) if chunked else data)
            except (BrokenPipeError, ConnectionResetError):
                break
            sent += n
        if chunked and sent >= size:
            try:
                s.sendall(b"0\r\n\r\n")
            except (BrokenPipeError, ConnectionResetError):
                pass
        try:
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                reply += chunk
                head, sep, rest = reply.partition(b"\r\n\r\n")
                n = [ln for ln in head.lower().split(b"\r\n") if ln.startswith(b"content-length:")]
                if sep and n and len(rest) >= int(n[0].split(b":")[1]):
                    break
        except (ConnectionResetError, socket.timeout):
            pass
        return reply
    finally:
        s.close()


def test_body_10mb_413():
    for chunked in (False, True):
        reply = big_body(chunked)
        what = "10 MB chunked body" if chunked else "10 MB body"
        check(reply, f"{what}: the connection was dropped without an answer")
        check_error(status_of(reply), body_of(reply), 413, what)
    check(request("GET", "/health")[0] == 200, "not serving after the 10 MB bodies")


def test_slowloris():
    """32 connections trickle header bytes; meanwhile other clients are answered in time."""
    socks, stop = [], threading.Event()
    for i in range(32):
        s = socket.create_connection(host_port(), timeout=10)
        s.sendall(b"POST /v1/completions HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        socks.append(s)

    def trickle():
        while not stop.wait(0.5):
            for s in socks:
                try:
                    s.sendall(b"a")
                except OSError:
                    pass

    t = threading.Thread(target=trickle)
    t.start()
    try:
        for i in range(5):
            t0 = time.monotonic()
            status, _, _ = request("GET", "/health", timeout=10)
            obj = post_json(COMP, {"model": gen(), "prompt": "Hi", "max_tokens": 2})
            dt = time.monotonic() - t0
            check(status == 200 and obj["choices"], f"under slowloris: {status} {obj!r}")
            check(dt < 10, f"under slowloris a request took {dt:.1f} s")
            time.sleep(0.3)
    finally:
        stop.set()
        t.join()
        for s in socks:
            s.close()
    # a connection that sends nothing is closed by the server's idle timeout (informative)
    s = socket.create_connection(host_port(), timeout=3)
    t0 = time.monotonic()
    try:
        closed = s.recv(1) == b""
    except (socket.timeout, ConnectionResetError):
        closed = False
    s.close()
    print(
        f"        idle connection: {'closed after %.1f s' % (time.monotonic() - t0) if closed else 'open after 3 s'}"
    )


def garbage_survived(what, data, allowed=(400, 404, 405, 411, 413, 414, 431, 501, 505, None)):
    try:
        reply = raw_exchange(data, timeout=5)
        st = status_of(reply)
    except (ConnectionResetError, BrokenPipeError):
        st = None
    check(st in allowed, f"{what}: status {st}")
    check(request("GET", "/health")[0] == 200, f"not serving after {what}")


def test_wire_garbage():
    garbage_survived("binary noise", bytes(range(256)) * 8 + b"\r\n\r\n")
    garbage_survived(
        "64 KB header", b"GET /health HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 65536 + b"\r\n\r\n"
    )
    garbage_survived(
        "10,000 headers", b"GET /health HTTP/1.1\r\nHost: x\r\n" + b"X-A: b\r\n" * 10000 + b"\r\n"
    )
    garbage_survived(
        "bad Content-Length",
        b"POST /v1/completions HTTP/1.1\r\nHost: x\r\n" b"Content-Length: abc\r\n\r\n{}",
    )
    garbage_survived(
        "negative Content-Length",
        b"POST /v1/completions HTTP/1.1\r\nHost: x\r\n" b"Content-Length: -5\r\n\r\n{}",
    )
    garbage_survived(
        "huge Content-Length",
        b"POST /v1/completions HTTP/1.1\r\nHost: x\r\n"
        b"Content-Length: 99999999999999999999999\r\n\r\n{}",
    )
    garbage_survived(
        "bad chunk size",
        b"POST /v1/completions HTTP/1.1\r\nHost: x\r\n"
        b"Transfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n",
    )
    garbage_survived("HTTP/9.9", b"GET /health HTTP/9.9\r\nHost: x\r\n\r\n")
    # a short body then a hang-up
    raw_exchange(
        b'POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{"a', read=False
    )
    check(request("GET", "/health")[0] == 200, "not serving after a cut-off body")


def start_stream(obj, path=CHAT):
    """Send a streaming request on a raw socket and read up to the first event; the socket."""
    s = socket.create_connection(host_port(), timeout=30)
    body = json.dumps(obj).encode()
    s.sendall(
        b"POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Content-Length: %d\r\n\r\n%s" % (path.encode(), len(body), body)
    )
    got = b""
    while b"data: " not in got:
        chunk = s.recv(4096)
        check(chunk, f"stream closed before its first event: {got[:300]!r}")
        got += chunk
    check(status_of(got) == 200, f"stream: {got[:300]!r}")
    return s


def step_seconds(s, events=3):
    """Read a stream until `events` more events came: the longest gap between two of them, an
    estimate of one scheduler step as this machine runs it now."""
    seen, times, got = 0, [], b""
    while len(times) < events:
        chunk = s.recv(65536)
        check(chunk, "stream closed while timing a step")
        got += chunk
        n = got.count(b"data: ")
        times += [time.monotonic()] * (n - seen)
        seen = n
    return max(b - a for a, b in zip(times, times[1:]))


def long_stream_request(i=0):
    return {
        "model": gen(),
        "messages": msgs(f"Tell me a very long story about dragon number {i}."),
        "max_tokens": 300,
        "temperature": 0,
        "stream": True,
    }


def test_disconnect_mid_stream():
    ok, v, _ = wait_metric("lmrt_slots_busy", lambda v: v == 0)
    check(ok, f"lmrt_slots_busy is {v} before the test")
    for n in (1, 4):
        socks = [start_stream(long_stream_request(i)) for i in range(n)]
        # the role chunk comes before the job has a slot: wait until all n hold one
        ok, busy, _ = wait_metric("lmrt_slots_busy", lambda v: v == n, timeout=10.0)
        check(ok, f"{n} streams running, lmrt_slots_busy {busy}")
        # "within one step": allow a few, and 3 s at least (a sanitizer build or a busy machine
        # makes steps slow); the 300 tokens left would take hundreds of steps
        step = step_seconds(socks[0])
        limit = max(3.0, 5 * step)
        for s in socks:
            s.close()
        ok, v, dt = wait_metric("lmrt_slots_busy", lambda v: v == 0, timeout=limit)
        check(ok, f"{n} clients gone, lmrt_slots_busy still {v} after {dt:.1f} s")
        print(
            f"        {n} disconnect(s): slots free after {dt * 1000:.0f} ms (a step: "
            f"{step * 1000:.0f} ms)"
        )
    # completions too, and a reset instead of a close
    s = start_stream(
        {"model": gen(), "prompt": "Once upon a time", "max_tokens": 300, "stream": True}, COMP
    )
    limit = max(3.0, 5 * step_seconds(s))
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    s.close()
    ok, v, dt = wait_metric("lmrt_slots_busy", lambda v: v == 0, timeout=limit)
    check(ok, f"reset completion stream: lmrt_slots_busy {v} after {dt:.1f} s")
    # a client waiting for a whole (not streamed) answer that goes away frees its slot too
    body = json.dumps({"model": gen(), "prompt": "Once upon a time", "max_tokens": 300})
    s = socket.create_connection(host_port(), timeout=30)
    s.sendall(
        b"POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Content-Length: %d\r\n\r\n%s" % (COMP.encode(), len(body), body.encode())
    )
    ok, busy, _ = wait_metric("lmrt_slots_busy", lambda v: v == 1, timeout=10.0)
    check(ok, f"non-streamed request running, lmrt_slots_busy {busy}")
    s.close()
    ok, v, dt = wait_metric("lmrt_slots_busy", lambda v: v == 0, timeout=limit)
    check(ok, f"non-streamed client gone: lmrt_slots_busy {v} after {dt:.1f} s")


def test_prompt_over_context():
    long = "hello " * (CTX + 100)
    status, data = post(COMP, {"model": gen(), "prompt": long, "max_tokens": 4})
    check_error(status, data, 400, "completion over the context", str(CTX))
    status, data = post(CHAT, {"model": gen(), "messages": msgs(long), "max_tokens": 4})
    check_error(status, data, 400, "chat over the context", str(CTX))
    status, data = post(CHAT, {"model": gen(), "messages": msgs(long), "stream": True})
    check_error(status, data, 400, "streamed chat over the context", str(CTX))
    status, data = post(EMB, {"model": emb(), "input": [[101] + [7592] * 600 + [102]]})
    check_error(status, data, 400, "embedding token list over 512 positions", "512")


def hostile_mix():
    """The cheap hostile requests, each a function that makes one and checks its answer."""
    out = []
    for what, path, body in bad_json_cases() + bad_utf8_cases():
        out.append(
            lambda p=path, b=body, w=what: check_error(
                *request("POST", p, b, {"Content-Type": "application/json"})[::2], 400, w
            )
        )
    for what, path, obj in bad_field_cases():
        out.append(lambda p=path, o=obj, w=what: check_error(*post(p, o), 400, w))
    for method, path in ROUTES_404:
        out.append(
            lambda m=method, p=path: check_error(
                *request(m, p, b"{}" if m == "POST" else None)[::2], 404, p
            )
        )
    for method, path in ROUTES_405:
        out.append(
            lambda m=method, p=path: check_error(
                *request(m, p, b"{}" if m in ("POST", "PUT") else None)[::2], 405, p
            )
        )
    long = "hello " * (CTX + 100)
    out.append(lambda: check_error(*post(COMP, {"model": gen(), "prompt": long}), 400, "ctx"))
    return out


def body_413():
    reply = big_body(False)
    check_error(status_of(reply), body_of(reply), 413, "10 MB body")


def test_rss_flat_over_1000():
    check(request("GET", "/health")[0] == 200, "not serving")
    before = post_json(
        COMP,
        {"model": gen(), "prompt": "The capital of France is", "max_tokens": 8, "temperature": 0},
    )["choices"][0]["text"]
    mix = hostile_mix()
    specials = {  # every so often, the expensive ones
        97: body_413,
        41: lambda: start_stream(long_stream_request()).close(),
        29: lambda: post_json(EMB, {"model": emb(), "input": ["warm", "up"]}),
        23: lambda: post_json(COMP, {"model": gen(), "prompt": "Hi", "max_tokens": 2}),
    }
    rss = []

    def make(i):
        for every, fn in specials.items():
            if i % every == every - 1:
                return fn()
        return mix[i % len(mix)]()

    for i in range(100):
        make(i)
    ok, v, _ = wait_metric("lmrt_slots_busy", lambda v: v == 0)
    rss0 = rss_kib()
    t0 = time.monotonic()
    for i in range(100, 1100):
        make(i)
        if i % 100 == 99:
            rss.append(rss_kib())
    dt = time.monotonic() - t0
    ok, v, _ = wait_metric("lmrt_slots_busy", lambda v: v == 0)
    check(ok, f"lmrt_slots_busy {v} after the 1,000 requests")
    rss1 = rss_kib()
    print(
        f"        1,000 requests in {dt:.1f} s; VmRSS after warm-up {rss0} KiB, then every 100: "
        f"{' '.join(str(r - rss0) for r in rss)} KiB of growth; at the end {rss1 - rss0:+d} KiB"
    )
    if SANITIZED:  # ASan holds freed memory in quarantine: its leak check at exit stands in
        print("        (sanitizer build: RSS not bounded; LeakSanitizer checks the exit)")
    else:
        check(rss1 - rss0 < 2048, f"RSS grew by {rss1 - rss0} KiB (>= 2 MiB) over 1,000 requests")
    after = post_json(
        COMP,
        {"model": gen(), "prompt": "The capital of France is", "max_tokens": 8, "temperature": 0},
    )["choices"][0]["text"]
    check(after == before, f"greedy completion changed: {before!r} then {after!r}")


if __name__ == "__main__":
    run_tests(globals())
