#!/bin/sh
# tests/cli_serve.sh - `lmrt serve` end to end (run by tests/run from the repository root).
#
# Makes (or reuses) a venv at build/venv-serve with the real `openai` client pinned from PyPI,
# starts two servers on free loopback ports: A with SmolLM2 and MiniLM (--slots 8 --ctx 512) and
# B with SmolLM2 behind --api-key (--slots 1 --max-queue 1), waits for GET /health 200 (only 503
# before it), runs tests/serve/test_openai.py, test_hostile.py and test_concurrency.py against
# them, checks the per-request log lines, then stops A with SIGTERM while a stream is in flight
# and B with SIGINT: both must exit 0 within 30 s and the streaming client must not hang.
# LMRT_SERVE_SOAK=SECONDS also runs tests/serve/soak.py against A for that long.
# Models: $LMRT_MODELS (default build/models). Exits non-zero, saying why, on any failure.
set -u
unset LMRT_API_KEY # server A must not need a key
lmrt=build/lmrt
models=${LMRT_MODELS:-build/models}
gen=$models/smollm2/SmolLM2-135M-Instruct.Q4_1.gguf
emb=$models/minilm
venv=build/venv-serve
py=$venv/bin/python
openai_pin=3.54.0
tmp=$(mktemp -d)
pid_a='' pid_b='' pid_c=''
cleanup() {
    for p in $pid_a $pid_b $pid_c; do kill -KILL "$p" 2>/dev/null; done
    rm -rf "$tmp"
}
trap cleanup EXIT
fails=0

die() {
    echo "cli_serve: FAIL: $*" >&2
    exit 1
}
fail() {
    echo "cli_serve: FAIL: $*" >&2
    fails=$((fails + 1))
}
show_log() { # the end of a server's log, for a failure
    echo "---- last lines of the $1 server's log ----" >&2
    tail -n 20 "$tmp/$1.log" >&2
}

[ -x $lmrt ] || die "$lmrt not built"
$lmrt serve -h >/dev/null 2>&1 || die "$lmrt has no working 'serve' command (lmrt serve -h failed)"
{ [ -f "$gen" ] && [ -d "$emb" ]; } || die "models missing under $models (tools/fetch_models.sh)"
command -v python3 >/dev/null || die "python3 is needed"

# 1. the venv with the pinned client: reused when it already has it
if ! "$py" -c "import openai, sys; sys.exit(openai.__version__ != '$openai_pin')" 2>/dev/null; then
    echo "cli_serve: making $venv with openai==$openai_pin from PyPI"
    rm -rf "$venv"
    python3 -m venv "$venv" || die "python3 -m venv $venv failed (Debian: apt-get install python3-venv)"
    "$venv/bin/pip" install -q "openai==$openai_pin" >"$tmp/pip.log" 2>&1 ||
        { cat "$tmp/pip.log" >&2; die "pip install openai==$openai_pin failed (is PyPI reachable?)"; }
fi

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# start NAME ARGS...: a server on a free port, its pid in $started, its URL in $url
start() {
    name=$1
    shift
    port=$(free_port)
    : >"$tmp/$name.log"
    $lmrt serve --host 127.0.0.1 --port "$port" "$@" 2>>"$tmp/$name.log" &
    started=$!
    url=http://127.0.0.1:$port
    i=0
    until grep -q "lmrt serve: listening on http://127.0.0.1:$port" "$tmp/$name.log"; do
        kill -0 $started 2>/dev/null || { show_log "$name"; die "server $name exited while starting"; }
        i=$((i + 1))
        [ $i -lt 300 ] || { show_log "$name"; die "server $name printed no 'listening on' line in 30 s"; }
        sleep 0.1
    done
    "$py" tests/serve/common.py wait-ready "$url" 60 $started || { show_log "$name"; die "server $name never became ready"; }
}

key=test-key-$$-$(date +%s)
start A -m "$gen" --embed-model "$emb" --slots 8 --ctx 512 -t 2
pid_a=$started url_a=$url
start B -m "$gen" --api-key "$key" --slots 1 --max-queue 1 --ctx 256 -t 1
pid_b=$started url_b=$url

export LMRT_SERVE_URL="$url_a" LMRT_SERVE_PID="$pid_a" LMRT_SERVE_CTX=512 LMRT_SERVE_SLOTS=8
export LMRT_SERVE_KEY_URL="$url_b" LMRT_SERVE_KEY="$key"
export LMRT_SERVE_GEN="$gen" LMRT_SERVE_EMBED="$emb" LMRT="$lmrt" LMRT_SERVE_THREADS=2

# 2. the Python suites, each bounded in time (a sanitizer build runs about ten times slower)
limit=300
if grep -q '^cflags = .*-fsanitize=[a-z,]*address' build/config.ninja 2>/dev/null; then
    export LMRT_SERVE_SANITIZED=1
    limit=900
fi
for t in test_openai test_hostile test_concurrency; do
    t0=$(date +%s)
    timeout $limit "$py" tests/serve/$t.py
    rc=$?
    [ $rc -eq 0 ] || fail "tests/serve/$t.py: status $rc"
    echo "cli_serve: $t took $(($(date +%s) - t0)) s"
    kill -0 $pid_a 2>/dev/null || { show_log A; die "server A died during $t"; }
done
if [ -n "${LMRT_SERVE_SOAK:-}" ]; then
    "$py" tests/serve/soak.py --url "$url_a" --pid $pid_a --duration "$LMRT_SERVE_SOAK" ||
        fail "tests/serve/soak.py: status $?"
fi

# 3. one log line per request: route and status at least, for a success and a failure
grep -q "/v1/chat/completions.* 200" "$tmp/A.log" || fail "no log line for a 200 chat request"
grep -q "/v1/embeddings.* 200" "$tmp/A.log" || fail "no log line for a 200 embeddings request"
grep -q " 404" "$tmp/A.log" || fail "no log line for a 404"
grep -q " 401" "$tmp/B.log" || fail "no log line for a 401 on the key server"

# 4. SIGTERM with a stream in flight: the client ends, the server exits 0
"$py" - "$url_a" >"$tmp/client.out" 2>&1 <<'PY' &
import sys, os
sys.path.insert(0, "tests/serve")
import common
common.URL = sys.argv[1]
conn, resp = common.open_stream("/v1/chat/completions", {
    "model": common.model_ids()[0], "max_tokens": 400, "temperature": 0, "stream": True,
    "messages": [{"role": "user", "content": "Tell me a very long story."}]})
events, last = 0, b""
try:
    for line in resp:  # a cut stream is allowed; hanging is not
        if line.startswith(b"data: "):
            events, last = events + 1, line.strip()
except Exception as e:
    last += b" then " + repr(e).encode()
print(f"status {resp.status}, {events} events, the last {last[-160:].decode()}")
PY
pid_c=$!
"$py" -c "
import sys; sys.path.insert(0, 'tests/serve'); import common
common.URL = '$url_a'
ok, v, dt = common.wait_metric('lmrt_slots_busy', lambda v: v >= 1, timeout=30)
sys.exit(0 if ok else 1)" || fail "the streaming client never got a slot before SIGTERM"
stop() { # name pid signal
    kill -"$3" "$2"
    i=0
    while kill -0 "$2" 2>/dev/null && [ $i -lt 300 ]; do
        sleep 0.1
        i=$((i + 1))
    done
    if kill -0 "$2" 2>/dev/null; then
        fail "server $1 still running 30 s after SIG$3"
        show_log "$1"
        kill -KILL "$2"
    fi
    wait "$2"
    rc=$?
    [ $rc -eq 0 ] || { fail "server $1 exited with status $rc after SIG$3"; show_log "$1"; }
    echo "cli_serve: server $1 exited $rc $((i / 10)).$((i % 10)) s after SIG$3"
}
stop A $pid_a TERM
pid_a=''
i=0
while kill -0 $pid_c 2>/dev/null && [ $i -lt 100 ]; do
    sleep 0.1
    i=$((i + 1))
done
kill -0 $pid_c 2>/dev/null && fail "the streaming client still hangs 10 s after the server exited"
wait $pid_c
echo "cli_serve: in-flight client: $(cat "$tmp/client.out")"
pid_c=''
stop B $pid_b INT
pid_b=''

if [ $fails -ne 0 ]; then
    echo "cli_serve: $fails failure(s)" >&2
    exit 1
fi
echo "cli_serve: all passed"
